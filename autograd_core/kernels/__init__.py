"""Numerical kernels for the Tensor engine: activations, softmax, cross-entropy, unbroadcast,
the bias of a linear layer.

All functions take and return numpy arrays (never Tensors), accept float32 and float64, keep
the input dtype, and never modify their inputs. Each one validates its arguments, then runs
either the pure numpy reference (`reference.py`) or a Numba kernel (`compiled.py`), chosen
per call from the array size and the kernel mode (see `dispatch.THRESHOLDS`, `switch`).
Importing this package does not import Numba; the first kernel call does.
"""

from __future__ import annotations

import numpy as np

from autograd_core import ops
from autograd_core.kernels import checks, reference
from autograd_core.kernels.dispatch import (THRESHOLDS, TIMED_AT_FIRST_USE, compiled_kernels, route,
                                            settle_by_timing, thread_count)
from autograd_core.kernels.reference import ACTIVATIONS
from autograd_core.kernels.switch import MODES, get_kernel_mode, kernel_mode, set_kernel_mode

__all__ = [
    "ACTIVATIONS",
    "activation_forward", "activation_backward",
    "softmax", "softmax_backward", "log_softmax", "log_softmax_backward",
    "softmax_cross_entropy", "softmax_cross_entropy_backward",
    "unbroadcast", "affine",
    "MODES", "get_kernel_mode", "set_kernel_mode", "kernel_mode", "THRESHOLDS",
]


def _contiguous(array: np.ndarray) -> np.ndarray:
    """`array` itself if C-contiguous, else a C-contiguous copy (kernels index flat memory)."""
    return array if array.flags.c_contiguous else np.ascontiguousarray(array)


def _threads(path: str) -> tuple[int, ...]:
    """Extra argument of the chunked parallel drivers: how many chunks (= threads) to use."""
    return (thread_count(),) if path == "parallel" else ()


def _product(sizes: tuple[int, ...]) -> int:
    """The number of elements of an array with these axis sizes (1 for no axes)."""
    return int(np.prod(sizes, dtype=np.int64))


def _axis_view_shape(shape: tuple[int, ...], axis: int) -> tuple[int, int, int]:
    """(outer, length, inner) such that reshaping to it puts `axis` in the middle."""
    return _product(shape[:axis]), shape[axis], _product(shape[axis + 1:])


def activation_forward(name: str, x: np.ndarray, param: float = 0.0) -> np.ndarray:
    """Apply activation `name` ("relu", "tanh", "sigmoid", "leaky_relu", "elu") to `x`.

    `param` is leaky_relu's negative slope or elu's alpha (must stay 0 for the others).
    """
    op = f"activation_forward({name!r})"
    checks.check_float_array(op, "x", x)
    param = checks.check_activation(op, name, param)
    return run_activation_forward(reference._activation(name, param), x)


def activation_backward(name: str, x: np.ndarray, out: np.ndarray, grad: np.ndarray,
                        param: float = 0.0) -> np.ndarray:
    """dL/dx from the input `x`, the forward output `out` and the upstream `grad` = dL/dout.

    Chain rule dL/dx = dL/dout * dout/dx with dout/dx: relu 0 if x<=0 else 1; tanh 1-out^2;
    sigmoid out*(1-out); leaky_relu 1 if x>0 else slope; elu alpha*exp(x) if x<=0 else 1.
    The comparisons are PyTorch's: a NaN x gets slope 1 (relu, elu) or `slope` (leaky_relu).
    relu's 0 selects (PyTorch's where(x <= 0, 0, grad)): 0 even where grad is inf or NaN.
    """
    op = f"activation_backward({name!r})"
    checks.check_float_array(op, "x", x)
    checks.check_same_layout(op, "x", x, out=out, grad=grad)
    param = checks.check_activation(op, name, param)
    return run_activation_backward(reference._activation(name, param), x, out, grad)


def _kernel_parameter(op: "ops.Op", dtype: np.dtype) -> np.floating:
    """The op's one numeric parameter (leaky_relu's slope, elu's alpha) in `dtype`, or 0."""
    parameters = op.parameters
    return dtype.type(next(iter(parameters.values())) if parameters else 0.0)


# The dispatch families of each activation kernel, named once rather than on every call.
_FORWARD_FAMILY = {name: f"{name}_forward" for name in ops.ACTIVATION_KERNELS}
_BACKWARD_FAMILY = {name: f"{name}_backward" for name in ops.ACTIVATION_KERNELS}


def run_activation_forward(op: "ops.Op", x: np.ndarray) -> np.ndarray:
    """The declared activation `op` on a float array `x` (not checked again): its numpy
    forward, or its Numba kernel (``op.kernel``) where the size says that pays off.

    Written for the small arrays of small networks, where this wrapper's own Python costs as
    much as the kernel: the kernels read flat arrays, and ``ravel()`` gives a view of a
    C-contiguous array and a C-ordered copy of any other."""
    family = _FORWARD_FAMILY[op.kernel]
    path = route(family, x.size)
    if path == "numpy":
        return np.asarray(op.array(x))

    def with_kernel() -> np.ndarray:
        compiled = compiled_kernels()
        out = np.empty(x.shape, x.dtype)
        code, param = compiled.ACTIVATION_CODES[op.kernel], _kernel_parameter(op, x.dtype)
        if path == "serial":
            compiled.activation_forward_serial(code, x.ravel(), out.ravel(), param)
        else:
            compiled.activation_forward_parallel(code, x.ravel(), out.ravel(), param,
                                                 thread_count())
        return out

    if path == "serial" and TIMED_AT_FIRST_USE.get(family, "") is None and get_kernel_mode() == "auto":
        if settle_by_timing(family, lambda: op.array(x), with_kernel) == "numpy":
            return np.asarray(op.array(x))
    return with_kernel()


def run_activation_backward(op: "ops.Op", x: np.ndarray, out: np.ndarray,
                            grad: np.ndarray) -> np.ndarray:
    """dL/dx = grad * the declared derivative of `op` (arrays of one shape and dtype, not
    checked again), in one Numba pass where the size says that pays off (the flat views as
    in `run_activation_forward`)."""
    path = route(_BACKWARD_FAMILY[op.kernel], x.size)
    if path == "numpy":  # times: a mask (relu's) selects rather than multiplies
        return np.asarray(ops.times(grad, op.derivative(x, out)))
    compiled = compiled_kernels()
    grad_x = np.empty(x.shape, x.dtype)
    code, param = compiled.ACTIVATION_CODES[op.kernel], _kernel_parameter(op, x.dtype)
    if path == "serial":
        compiled.activation_backward_serial(code, x.ravel(), out.ravel(), grad.ravel(),
                                            grad_x.ravel(), param)
    else:
        compiled.activation_backward_parallel(code, x.ravel(), out.ravel(),
                                              grad.ravel(), grad_x.ravel(), param,
                                              thread_count())
    return grad_x


def _softmax_forward(x: np.ndarray, axis: int, log: bool) -> np.ndarray:
    """Run softmax or log-softmax, numpy or Numba; arguments already validated."""
    path = route("softmax", x.size)
    if path == "numpy":
        return reference.log_softmax(x, axis) if log else reference.softmax(x, axis)
    view = _axis_view_shape(x.shape, axis)
    out = np.empty(x.shape, x.dtype)
    driver = getattr(compiled_kernels(), f"softmax_{path}")
    driver(_contiguous(x).reshape(view), out.reshape(view), log)
    return out


def _softmax_backward(out: np.ndarray, grad: np.ndarray, axis: int, log: bool) -> np.ndarray:
    """Run the softmax or log-softmax backward rule, numpy or Numba; arguments validated."""
    path = route("softmax_backward", out.size)
    if path == "numpy":
        if log:
            return reference.log_softmax_backward(out, grad, axis)
        return reference.softmax_backward(out, grad, axis)
    view = _axis_view_shape(out.shape, axis)
    grad_x = np.empty(out.shape, out.dtype)
    driver = getattr(compiled_kernels(), f"softmax_backward_{path}")
    driver(_contiguous(out).reshape(view), _contiguous(grad).reshape(view),
           grad_x.reshape(view), log)
    return grad_x


def softmax(x: np.ndarray, axis: int) -> np.ndarray:
    """Softmax of `x` along `axis`, computed stably (shifted by the maximum)."""
    checks.check_float_array("softmax", "x", x)
    axis = checks.check_axis("softmax", axis, x.ndim)
    checks.check_reduction_length("softmax", x, axis)
    return _softmax_forward(x, axis, log=False)


def softmax_backward(out: np.ndarray, grad: np.ndarray, axis: int) -> np.ndarray:
    """dL/dx = s * (g - sum(g * s, axis)) from the softmax output s = `out` and g = dL/ds."""
    checks.check_float_array("softmax_backward", "out", out)
    checks.check_same_layout("softmax_backward", "out", out, grad=grad)
    axis = checks.check_axis("softmax_backward", axis, out.ndim)
    checks.check_reduction_length("softmax_backward", out, axis)
    return _softmax_backward(out, grad, axis, log=False)


def log_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    """Log-softmax of `x` along `axis`: x - logsumexp(x), computed stably."""
    checks.check_float_array("log_softmax", "x", x)
    axis = checks.check_axis("log_softmax", axis, x.ndim)
    checks.check_reduction_length("log_softmax", x, axis)
    return _softmax_forward(x, axis, log=True)


def log_softmax_backward(out: np.ndarray, grad: np.ndarray, axis: int) -> np.ndarray:
    """dL/dx = g - exp(y) * sum(g, axis) from the log-softmax output y = `out` and g = dL/dy."""
    checks.check_float_array("log_softmax_backward", "out", out)
    checks.check_same_layout("log_softmax_backward", "out", out, grad=grad)
    axis = checks.check_axis("log_softmax_backward", axis, out.ndim)
    checks.check_reduction_length("log_softmax_backward", out, axis)
    return _softmax_backward(out, grad, axis, log=True)


def softmax_cross_entropy(logits: np.ndarray, targets: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of softmax(logits) against `targets`; returns (loss, probs).

    logits: (n, C). targets: int labels (n,) in [0, C), or probabilities / one-hot (n, C)
    whose rows sum to 1. loss = mean over rows of -sum_c t_c * log_softmax(logits)_c.
    """
    op = "softmax_cross_entropy"
    checks.check_logits(op, "logits", logits)
    targets = checks.check_targets(op, targets, *logits.shape, logits.dtype)
    return softmax_cross_entropy_unchecked(logits, targets)


# The unused kind of target for the cross-entropy kernels, made once (the kernels never
# write into their targets).
_NO_LABELS = np.empty(0, np.int64)
_NO_PROBABILITIES = {np.dtype(np.float32): np.empty((0, 0), np.float32),
                     np.dtype(np.float64): np.empty((0, 0), np.float64)}


def _label_and_probability_targets(targets: np.ndarray,
                                   dtype: np.dtype) -> tuple[np.ndarray, np.ndarray, bool]:
    """(labels, probabilities, use_labels) for the cross-entropy kernels, which take both
    kinds so that one compiled function serves both; the unused one is an empty array."""
    if targets.ndim == 1:
        return _contiguous(targets), _NO_PROBABILITIES[dtype], True
    return _NO_LABELS, _contiguous(targets), False


def softmax_cross_entropy_backward(probs: np.ndarray, targets: np.ndarray,
                                   grad: float) -> np.ndarray:
    """dL/dlogits = grad * (probs - onehot(targets)) / n, where grad = dL/dloss.

    Holds because d(-sum_c t_c log p_c)/dz_k = p_k * sum_c t_c - t_k = p_k - t_k when sum t = 1.
    """
    op = "softmax_cross_entropy_backward"
    checks.check_logits(op, "probs", probs)
    targets = checks.check_targets(op, targets, *probs.shape, probs.dtype)
    grad = checks.check_real_number(op, "grad", grad)
    return softmax_cross_entropy_backward_unchecked(probs, targets, grad)


# -- the same two, unchecked: for a caller that validated its arguments once, at its own entry
# (nn.functional.cross_entropy calls checks.check_logits/check_targets itself, then these in
# its forward and backward pass, so one training step validates the targets once, not thrice).

def softmax_cross_entropy_unchecked(logits: np.ndarray,
                                    targets: np.ndarray) -> tuple[float, np.ndarray]:
    """`softmax_cross_entropy` without its checks: routes and runs, nothing else.

    The caller guarantees what the checked function verifies: `logits` a float32/float64
    array of shape (n, C) with n, C >= 1, and `targets` as `checks.check_targets` returns
    them (int64 labels (n,) in [0, C), or probabilities (n, C) in the logits' dtype whose
    rows sum to 1). Anything else gives wrong numbers or a crash inside a compiled loop.
    """
    path = route("cross_entropy", logits.size)
    if path == "numpy":
        return reference.softmax_cross_entropy(logits, targets)
    probs = np.empty(logits.shape, logits.dtype)
    compiled = compiled_kernels()
    driver = compiled.cross_entropy_serial if path == "serial" else compiled.cross_entropy_parallel
    loss = driver(_contiguous(logits), *_label_and_probability_targets(targets, logits.dtype),
                  probs)
    return float(loss), probs


def softmax_cross_entropy_backward_unchecked(probs: np.ndarray, targets: np.ndarray,
                                             grad: float) -> np.ndarray:
    """`softmax_cross_entropy_backward` without its checks: grad * (probs - t) / n.

    The caller guarantees what the checked function verifies: `probs` the (n, C) array that
    `softmax_cross_entropy[_unchecked]` returned, `targets` as `checks.check_targets`
    returns them for that shape and dtype, and `grad` a finite Python float.
    """
    path = route("cross_entropy_backward", probs.size)
    if path == "numpy":
        return reference.softmax_cross_entropy_backward(probs, targets, grad)
    grad_logits = np.empty(probs.shape, probs.dtype)
    compiled = compiled_kernels()
    arguments = (_contiguous(probs), *_label_and_probability_targets(targets, probs.dtype),
                 probs.dtype.type(grad / probs.shape[0]), grad_logits)
    if path == "serial":
        compiled.cross_entropy_backward_serial(*arguments)
    else:
        compiled.cross_entropy_backward_parallel(*arguments, thread_count())
    return grad_logits


def affine(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
    """x @ weight.T + bias: a linear layer's output, for x of shape (..., in), weight (out, in)
    and bias (out,) or None, all of one float dtype.

    The product is numpy's (BLAS); the bias is then added into the product's own fresh
    array, by a Numba kernel where that pays off. Each element gets the one addition numpy's
    ``+ bias`` makes, so the result is the same to the last bit.
    """
    op = "affine"
    checks.check_float_array(op, "x", x)
    checks.check_float_array(op, "weight", weight)
    if weight.ndim != 2:
        raise ValueError(f"{op}: weight must have shape (out_features, in_features), "
                         f"got {weight.shape}")
    if x.ndim == 0 or x.shape[-1] != weight.shape[1]:
        raise ValueError(f"{op}: x of shape {x.shape} does not fit weight of shape {weight.shape}: "
                         f"its last dimension must be in_features = {weight.shape[1]}")
    if x.dtype != weight.dtype:
        raise TypeError(f"{op}: x has dtype {x.dtype} but weight has dtype {weight.dtype}; "
                        "they must match")
    if bias is not None:
        checks.check_float_array(op, "bias", bias)
        if bias.shape != (weight.shape[0],):
            raise ValueError(f"{op}: bias has shape {bias.shape}, expected ({weight.shape[0]},) "
                             f"for weight of shape {weight.shape}")
        if bias.dtype != weight.dtype:
            raise TypeError(f"{op}: bias has dtype {bias.dtype} but weight has dtype "
                            f"{weight.dtype}; they must match")
    return affine_unchecked(x, weight, bias)


def affine_unchecked(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    """`affine` without its checks (the caller made them: every layer of a network runs this)."""
    out = x @ weight.T
    if bias is None:
        return out
    path = route("add_bias", out.size)
    if path == "numpy" or not out.flags.c_contiguous:  # (matmul's fresh arrays always are)
        out += bias
        return out
    rows = out.reshape(-1, bias.shape[0])  # a view: the kernel adds into `out` itself
    if path == "serial":
        compiled_kernels().add_bias_serial(rows, bias)
    else:
        compiled_kernels().add_bias_parallel(rows, bias, thread_count())
    return out


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum `grad` down to `shape` (the inverse of numpy broadcasting in the backward pass).

    For y = broadcast(x): dL/dx = sum of dL/dy over every axis the broadcast added or
    stretched from 1. Returns `grad` itself when it already has `shape`.
    """
    checks.check_float_array("unbroadcast", "grad", grad)
    shape = checks.check_target_shape("unbroadcast", grad, shape)
    if grad.shape == shape:
        return grad
    split = _summed_prefix_or_suffix(grad.shape, shape)
    if split is None:
        return reference.unbroadcast(grad, shape)
    family, split_axis = split
    path = route(family, grad.size)
    if path == "numpy":
        return reference.unbroadcast(grad, shape)
    # Both sides of the matrix come from the shape, never from a division by the other
    # side: either may be 0 (an empty batch), and then the kernels return zeros or nothing.
    matrix = _contiguous(grad).reshape(_product(grad.shape[:split_axis]),
                                       _product(grad.shape[split_axis:]))
    total = np.empty(matrix.shape[1] if family == "column_sums" else matrix.shape[0],
                     grad.dtype)
    driver = getattr(compiled_kernels(), f"{family}_{path}")
    if family == "column_sums":
        driver(matrix, total, *_threads(path))
    else:
        driver(matrix, total)
    return total.reshape(shape)


def _summed_prefix_or_suffix(grad_shape: tuple[int, ...],
                             shape: tuple[int, ...]) -> tuple[str, int] | None:
    """Recognise the unbroadcasts that are one 2-D reduction of a reshaped gradient.

    If every summed axis comes before every kept axis (a bias gradient: (n, m) -> (m,) or
    (1, m)) it is ("column_sums", split); if every summed axis comes after every kept axis
    ((n, m) -> (n, 1)) it is ("row_sums", split), where the gradient viewed as a matrix of
    shape (prod(grad_shape[:split]), prod(grad_shape[split:])) is summed over its columns
    or rows. Axes of length 1 in the gradient are neutral. Anything else (or a sum of
    everything) returns None: numpy handles it.
    """
    aligned = (1,) * (len(grad_shape) - len(shape)) + shape
    summed = [axis for axis, size in enumerate(aligned) if size == 1 and grad_shape[axis] != 1]
    kept = [axis for axis, size in enumerate(aligned) if size != 1 and grad_shape[axis] != 1]
    if not summed or not kept:
        return None
    if max(summed) < min(kept):
        return "column_sums", max(summed) + 1
    if min(summed) > max(kept):
        return "row_sums", min(summed)
    return None
