"""Pure numpy reference implementations of every kernel.

These are the ground truth the Numba kernels are tested against, and the path used for
small arrays (where a Numba call's fixed overhead costs more than the loop saves) and when
`CHAINRULE_NUMBA=0`. Inputs are assumed already validated by `autograd_core.kernels`;
outputs keep the input dtype and inputs are never modified.
"""

from __future__ import annotations

import numpy as np

from autograd_core import ops

# Every op whose declaration names a Numba activation kernel; the declaration's array forward
# and derivative are that kernel's numpy reference.
ACTIVATIONS = tuple(name for name, op in ops.ACTIVATIONS.items() if op.kernel)


def _activation(name: str, param: float) -> "ops.Op":
    """The declared op `name`, with its parameter (if it takes one) set to `param`."""
    try:
        op = ops.ACTIVATIONS[name]
    except KeyError:
        raise ValueError(f"unknown activation {name!r}; expected one of {ACTIVATIONS}") from None
    return op.bind(**{key: param for key in op.parameters}) if op.parameters else op


def activation_forward(name: str, x: np.ndarray, param: float = 0.0) -> np.ndarray:
    """Apply the activation `name` elementwise: its declared numpy forward (`param` is
    leaky_relu's slope or elu's alpha)."""
    # numpy turns 0-d results into scalars; the contract is arrays in, arrays out.
    return np.asarray(_activation(name, param).array(x))


def activation_backward(name: str, x: np.ndarray, out: np.ndarray, grad: np.ndarray,
                        param: float = 0.0) -> np.ndarray:
    """dL/dx = dL/dout * d out/dx, with the declared derivative of the activation `name`.

    relu: (0 if x<=0 else grad); tanh: grad*(1-out^2); sigmoid: grad*out*(1-out);
    leaky_relu: grad*(1 if x>0 else slope); elu: grad*(alpha*exp(x) if x<=0 else 1).
    """
    # times: relu's derivative is a mask, which selects (0 where x <= 0 even for an inf grad)
    return np.asarray(ops.times(grad, _activation(name, param).derivative(x, out)))


# Rows this short (the logits of a classifier) are reduced on a column-major copy.
SHORT_ROW = 16


def _reduce(ufunc: np.ufunc, x: np.ndarray, axis: int) -> np.ndarray:
    """`ufunc` (np.add, np.maximum) reduced over `axis`, which is kept with length 1.

    numpy reduces a short last axis one row at a time, at a fixed cost per row; on a
    column-major copy of the same numbers it makes one vectorised pass per column instead,
    which is faster for rows of up to SHORT_ROW and slower beyond (measured in
    benchmarks/RESULTS.md, "Measurements moved out of code comments")."""
    if axis == x.ndim - 1 and x.ndim >= 2 and x.shape[-1] <= SHORT_ROW:
        columns = np.asfortranarray(x.reshape(-1, x.shape[-1]))
        return ufunc.reduce(columns, axis=1).reshape(x.shape[:-1] + (1,))
    return ufunc.reduce(x, axis=axis, keepdims=True)


def softmax(x: np.ndarray, axis: int) -> np.ndarray:
    """exp(x - max) / sum(exp(x - max)) along `axis`; shifting by the max keeps exp <= 1."""
    shifted = np.exp(x - _reduce(np.maximum, x, axis))
    return shifted / _reduce(np.add, shifted, axis)


def softmax_backward(out: np.ndarray, grad: np.ndarray, axis: int) -> np.ndarray:
    """dL/dx_i = s_i * (g_i - sum_j g_j s_j), with s = softmax(x) = `out` and g = dL/ds."""
    return out * (grad - _reduce(np.add, grad * out, axis))


def log_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    """x - max - log(sum(exp(x - max))) along `axis` (stable log-sum-exp)."""
    shifted = x - _reduce(np.maximum, x, axis)
    return shifted - np.log(_reduce(np.add, np.exp(shifted), axis))


def log_softmax_backward(out: np.ndarray, grad: np.ndarray, axis: int) -> np.ndarray:
    """dL/dx_i = g_i - exp(y_i) * sum_j g_j, with y = log_softmax(x) = `out` and g = dL/dy."""
    return grad - np.exp(out) * _reduce(np.add, grad, axis)


def softmax_cross_entropy(logits: np.ndarray, targets: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean over rows of -sum_c t_c log softmax(logits)_c; returns (loss, probs).

    `targets` is either integer labels of shape (n,) or class probabilities of shape (n, C).
    """
    log_probs = log_softmax(logits, axis=1)
    n = logits.shape[0]
    if targets.ndim == 1:
        picked = log_probs[np.arange(n), targets]
        loss = -picked.sum(dtype=np.float64) / n
    else:
        loss = -(targets * log_probs).sum(dtype=np.float64) / n
    return float(loss), np.exp(log_probs)


def softmax_cross_entropy_backward(probs: np.ndarray, targets: np.ndarray,
                                   grad: float) -> np.ndarray:
    """dL/dlogits = grad * (probs - t) / n, with t the one-hot (or probability) targets."""
    n = probs.shape[0]
    scale = probs.dtype.type(grad / n)
    if targets.ndim == 1:
        grad_logits = probs * scale
        grad_logits[np.arange(n), targets] -= scale
        return grad_logits
    return (probs - targets.astype(probs.dtype, copy=False)) * scale


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum `grad` down to `shape`, undoing numpy broadcasting: the gradient of a broadcast
    input is the sum of the upstream gradient over every axis the broadcast stretched."""
    shape = tuple(shape)
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    summed = grad.sum(axis=tuple(range(extra))) if extra else grad
    stretched = tuple(axis for axis, size in enumerate(shape)
                      if size == 1 and summed.shape[axis] != 1)
    if stretched:
        summed = summed.sum(axis=stretched, keepdims=True)
    # A full reduction gives a numpy scalar; asarray keeps the arrays-only contract.
    return np.asarray(summed).reshape(shape)


def affine(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    """x @ weight.T + bias (a linear layer's output), for x (..., in), weight (out, in) and
    bias (out,) or None."""
    out = x @ weight.T
    if bias is not None:
        out += bias  # `out` is the product's fresh array
    return out
