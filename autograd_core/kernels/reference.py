"""Pure numpy reference implementations of every kernel.

These are the ground truth the Numba kernels are tested against, and the path used for
small arrays (where a Numba call's fixed overhead costs more than the loop saves) and when
`CHAINRULE_NUMBA=0`. Inputs are assumed already validated by `autograd_core.kernels`;
outputs keep the input dtype and inputs are never modified.
"""

from __future__ import annotations

import numpy as np

ACTIVATIONS = ("relu", "tanh", "sigmoid", "leaky_relu", "elu")


def activation_forward(name: str, x: np.ndarray, param: float = 0.0) -> np.ndarray:
    """Apply the activation `name` elementwise; `param` is leaky_relu's slope or elu's alpha."""
    # numpy turns 0-d results into scalars; the contract is arrays in, arrays out.
    return np.asarray(_activation_forward(name, x, param))


def _activation_forward(name: str, x: np.ndarray, param: float) -> np.ndarray:
    zero = x.dtype.type(0)
    if name == "relu":
        return np.maximum(x, zero)
    if name == "tanh":
        return np.tanh(x)
    if name == "sigmoid":
        return _sigmoid(x)
    if name == "leaky_relu":
        return x * _leaky_relu_slope(x, param)
    if name == "elu":
        # expm1 only of the non-positive part: exp of a large positive x would overflow.
        # Each branch adds an exact 0 to the other, so this equals the piecewise formula.
        return np.maximum(x, zero) + x.dtype.type(param) * np.expm1(np.minimum(x, zero))
    raise ValueError(f"unknown activation {name!r}; expected one of {ACTIVATIONS}")


# Why no np.where below: with a random-sign mask numpy's where mispredicts every other
# branch and costs ~10x a multiply; masks used arithmetically stay exact and vectorized.

def _sigmoid(x: np.ndarray) -> np.ndarray:
    """Stable logistic 1/(1+exp(-x)): only exp(-|x|) <= 1 is computed, so nothing overflows.

    The numerator is 1 for x >= 0 and e = exp(-|x|) for x < 0; fmax(e, [x>=0]) picks it."""
    e = np.exp(-np.abs(x))
    return np.fmax(e, x >= 0) / (1 + e)


def _leaky_relu_slope(x: np.ndarray, slope: float) -> np.ndarray:
    """d leaky_relu/dx: 1 where x > 0 else `slope` (each mask term adds an exact 0).

    "Else" includes NaN, as in PyTorch: the masks are x > 0 and its negation, not x <= 0."""
    positive = x > 0
    return positive + x.dtype.type(slope) * ~positive


def activation_backward(name: str, x: np.ndarray, out: np.ndarray, grad: np.ndarray,
                        param: float = 0.0) -> np.ndarray:
    """dL/dx = dL/dout * d out/dx for the activation `name`.

    relu: grad*(0 if x<=0 else 1); tanh: grad*(1-out^2); sigmoid: grad*out*(1-out);
    leaky_relu: grad*(1 if x>0 else slope); elu: grad*(alpha*exp(x) if x<=0 else 1).
    The comparisons are PyTorch's, which decides where a NaN input goes: relu and elu pass
    the upstream gradient through a NaN, leaky_relu scales it by the slope.
    """
    return np.asarray(_activation_backward(name, x, out, grad, param))


def _activation_backward(name: str, x: np.ndarray, out: np.ndarray, grad: np.ndarray,
                         param: float) -> np.ndarray:
    one = x.dtype.type(1)
    if name == "relu":
        return grad * ~(x <= 0)
    if name == "tanh":
        return grad * (one - out * out)
    if name == "sigmoid":
        return grad * out * (one - out)
    if name == "leaky_relu":
        return grad * _leaky_relu_slope(x, param)
    if name == "elu":
        # exp only of the non-positive part, so that a large positive x cannot overflow;
        # fmin, not minimum, so that a NaN gives exp(0) and not a NaN that the mask would
        # multiply by 0 (a NaN takes the identity branch, slope 1).
        negative = x <= 0
        negative_slope = x.dtype.type(param) * np.exp(np.fmin(x, x.dtype.type(0)))
        return grad * (~negative + negative_slope * negative)
    raise ValueError(f"unknown activation {name!r}; expected one of {ACTIVATIONS}")


# Rows this short (the logits of a classifier) are reduced on a column-major copy.
SHORT_ROW = 16


def _reduce(ufunc: np.ufunc, x: np.ndarray, axis: int) -> np.ndarray:
    """`ufunc` (np.add, np.maximum) reduced over `axis`, which is kept with length 1.

    numpy reduces a short last axis one row at a time, about 30 ns a row: 5 us for the
    max of a (150, 3) matrix. On a column-major copy of the same numbers it makes one
    vectorised pass per column instead, 2-4x faster for rows of up to SHORT_ROW (and
    slower beyond: measured on (150, C) and (4096, C) matrices, C = 2 .. 256)."""
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
