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
    if name == "relu":
        return np.maximum(x, 0).astype(x.dtype, copy=False)
    if name == "tanh":
        return np.tanh(x)
    if name == "sigmoid":
        return _sigmoid(x)
    if name == "leaky_relu":
        return np.where(x > 0, x, x * x.dtype.type(param))
    if name == "elu":
        # expm1 only on the clipped negative part: exp of a large positive x would overflow.
        negative_part = x.dtype.type(param) * np.expm1(np.minimum(x, 0))
        return np.where(x > 0, x, negative_part)
    raise ValueError(f"unknown activation {name!r}; expected one of {ACTIVATIONS}")


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """Numerically stable logistic: only ever exponentiates -|x|, so nothing overflows."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


def activation_backward(name: str, x: np.ndarray, out: np.ndarray, grad: np.ndarray,
                        param: float = 0.0) -> np.ndarray:
    """dL/dx = dL/dout * d out/dx for the activation `name`.

    relu: grad*[x>0]; tanh: grad*(1-out^2); sigmoid: grad*out*(1-out);
    leaky_relu: grad*(1 if x>0 else slope); elu: grad*(1 if x>0 else alpha*exp(x)).
    """
    one = x.dtype.type(1)
    if name == "relu":
        return grad * (x > 0)
    if name == "tanh":
        return grad * (one - out * out)
    if name == "sigmoid":
        return grad * out * (one - out)
    if name == "leaky_relu":
        return grad * np.where(x > 0, one, x.dtype.type(param))
    if name == "elu":
        # alpha*exp(x) == out + alpha for x <= 0, avoiding a second exp; x > 0 gives slope 1.
        return grad * np.where(x > 0, one, out + x.dtype.type(param))
    raise ValueError(f"unknown activation {name!r}; expected one of {ACTIVATIONS}")


def softmax(x: np.ndarray, axis: int) -> np.ndarray:
    """exp(x - max) / sum(exp(x - max)) along `axis`; shifting by the max keeps exp <= 1."""
    shifted = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return shifted / np.sum(shifted, axis=axis, keepdims=True)


def softmax_backward(out: np.ndarray, grad: np.ndarray, axis: int) -> np.ndarray:
    """dL/dx_i = s_i * (g_i - sum_j g_j s_j), with s = softmax(x) = `out` and g = dL/ds."""
    return out * (grad - np.sum(grad * out, axis=axis, keepdims=True))


def log_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    """x - max - log(sum(exp(x - max))) along `axis` (stable log-sum-exp)."""
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def log_softmax_backward(out: np.ndarray, grad: np.ndarray, axis: int) -> np.ndarray:
    """dL/dx_i = g_i - exp(y_i) * sum_j g_j, with y = log_softmax(x) = `out` and g = dL/dy."""
    return grad - np.exp(out) * np.sum(grad, axis=axis, keepdims=True)


def softmax_cross_entropy(logits: np.ndarray, targets: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean over rows of -sum_c t_c log softmax(logits)_c; returns (loss, probs).

    `targets` is either integer labels of shape (n,) or class probabilities of shape (n, C).
    """
    log_probs = log_softmax(logits, axis=1)
    n = logits.shape[0]
    if targets.ndim == 1:
        picked = log_probs[np.arange(n), targets]
        loss = -np.sum(picked, dtype=np.float64) / n
    else:
        loss = -np.sum(targets * log_probs, dtype=np.float64) / n
    return float(loss), np.exp(log_probs)


def softmax_cross_entropy_backward(probs: np.ndarray, targets: np.ndarray,
                                   grad: float) -> np.ndarray:
    """dL/dlogits = grad * (probs - t) / n, with t the one-hot (or probability) targets."""
    n = probs.shape[0]
    scale = probs.dtype.type(grad / n)
    if targets.ndim == 1:
        shifted = probs.copy()
        shifted[np.arange(n), targets] -= 1
        return shifted * scale
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
    return summed.reshape(shape)
