"""Numerical kernels for the Tensor engine: activations, softmax, cross-entropy, unbroadcast.

All functions take and return numpy arrays (never Tensors), accept float32 and float64, keep
the input dtype, and never modify their inputs. (This first version dispatches to the pure
numpy references; the Numba kernels come next.)
"""

from __future__ import annotations

import numpy as np

from autograd_core.kernels import checks, reference
from autograd_core.kernels.reference import ACTIVATIONS
from autograd_core.kernels.switch import get_kernel_mode, kernel_mode, set_kernel_mode

__all__ = [
    "ACTIVATIONS",
    "activation_forward", "activation_backward",
    "softmax", "softmax_backward", "log_softmax", "log_softmax_backward",
    "softmax_cross_entropy", "softmax_cross_entropy_backward",
    "unbroadcast",
    "get_kernel_mode", "set_kernel_mode", "kernel_mode",
]


def activation_forward(name: str, x: np.ndarray, param: float = 0.0) -> np.ndarray:
    """Apply activation `name` ("relu", "tanh", "sigmoid", "leaky_relu", "elu") to `x`.

    `param` is leaky_relu's negative slope or elu's alpha (must stay 0 for the others).
    """
    op = f"activation_forward({name!r})"
    checks.check_float_array(op, "x", x)
    param = checks.check_activation(op, name, param)
    return reference.activation_forward(name, x, param)


def activation_backward(name: str, x: np.ndarray, out: np.ndarray, grad: np.ndarray,
                        param: float = 0.0) -> np.ndarray:
    """dL/dx from the input `x`, the forward output `out` and the upstream `grad` = dL/dout.

    Chain rule dL/dx = dL/dout * dout/dx with dout/dx: relu [x>0]; tanh 1-out^2;
    sigmoid out*(1-out); leaky_relu 1 if x>0 else slope; elu 1 if x>0 else alpha*exp(x).
    """
    op = f"activation_backward({name!r})"
    checks.check_float_array(op, "x", x)
    checks.check_same_layout(op, "x", x, out=out, grad=grad)
    param = checks.check_activation(op, name, param)
    return reference.activation_backward(name, x, out, grad, param)


def softmax(x: np.ndarray, axis: int) -> np.ndarray:
    """Softmax of `x` along `axis`, computed stably (shifted by the maximum)."""
    checks.check_float_array("softmax", "x", x)
    axis = checks.check_axis("softmax", axis, x.ndim)
    checks.check_reduction_length("softmax", x, axis)
    return reference.softmax(x, axis)


def softmax_backward(out: np.ndarray, grad: np.ndarray, axis: int) -> np.ndarray:
    """dL/dx = s * (g - sum(g * s, axis)) from the softmax output s = `out` and g = dL/ds."""
    checks.check_float_array("softmax_backward", "out", out)
    checks.check_same_layout("softmax_backward", "out", out, grad=grad)
    axis = checks.check_axis("softmax_backward", axis, out.ndim)
    checks.check_reduction_length("softmax_backward", out, axis)
    return reference.softmax_backward(out, grad, axis)


def log_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    """Log-softmax of `x` along `axis`: x - logsumexp(x), computed stably."""
    checks.check_float_array("log_softmax", "x", x)
    axis = checks.check_axis("log_softmax", axis, x.ndim)
    checks.check_reduction_length("log_softmax", x, axis)
    return reference.log_softmax(x, axis)


def log_softmax_backward(out: np.ndarray, grad: np.ndarray, axis: int) -> np.ndarray:
    """dL/dx = g - exp(y) * sum(g, axis) from the log-softmax output y = `out` and g = dL/dy."""
    checks.check_float_array("log_softmax_backward", "out", out)
    checks.check_same_layout("log_softmax_backward", "out", out, grad=grad)
    axis = checks.check_axis("log_softmax_backward", axis, out.ndim)
    checks.check_reduction_length("log_softmax_backward", out, axis)
    return reference.log_softmax_backward(out, grad, axis)


def softmax_cross_entropy(logits: np.ndarray, targets: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of softmax(logits) against `targets`; returns (loss, probs).

    logits: (n, C). targets: int labels (n,) in [0, C), or probabilities / one-hot (n, C)
    whose rows sum to 1. loss = mean over rows of -sum_c t_c * log_softmax(logits)_c.
    """
    op = "softmax_cross_entropy"
    checks.check_logits(op, "logits", logits)
    targets = checks.check_targets(op, targets, *logits.shape, logits.dtype)
    return reference.softmax_cross_entropy(logits, targets)


def softmax_cross_entropy_backward(probs: np.ndarray, targets: np.ndarray,
                                   grad: float) -> np.ndarray:
    """dL/dlogits = grad * (probs - onehot(targets)) / n, where grad = dL/dloss.

    Holds because d(-sum_c t_c log p_c)/dz_k = p_k * sum_c t_c - t_k = p_k - t_k when sum t = 1.
    """
    op = "softmax_cross_entropy_backward"
    checks.check_logits(op, "probs", probs)
    targets = checks.check_targets(op, targets, *probs.shape, probs.dtype)
    grad = checks.check_real_number(op, "grad", grad)
    return reference.softmax_cross_entropy_backward(probs, targets, grad)


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum `grad` down to `shape` (the inverse of numpy broadcasting in the backward pass).

    For y = broadcast(x): dL/dx = sum of dL/dy over every axis the broadcast added or
    stretched from 1. Returns `grad` itself when it already has `shape`.
    """
    checks.check_float_array("unbroadcast", "grad", grad)
    shape = checks.check_target_shape("unbroadcast", grad, shape)
    return reference.unbroadcast(grad, shape)
