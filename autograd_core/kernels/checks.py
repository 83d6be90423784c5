"""Input validation shared by every public kernel function.

Each check raises a TypeError or ValueError that names the operation and the offending
argument, so a bad call fails loudly at the boundary instead of producing wrong numbers
deep inside a compiled loop.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from autograd_core import ops
from autograd_core.kernels.reference import ACTIVATIONS

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))

# How far a row of probability targets may stray from summing to 1 (rounding of float32 data).
TARGET_SUM_TOLERANCE = {np.dtype(np.float32): 1e-4, np.dtype(np.float64): 1e-8}


def check_float_array(op: str, arg: str, array: object) -> np.ndarray:
    """Return `array` if it is a float32/float64 numpy array, else raise TypeError."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"{op}: {arg} must be a numpy.ndarray, got {type(array).__name__}")
    if array.dtype not in FLOAT_DTYPES:
        raise TypeError(f"{op}: {arg} must have dtype float32 or float64, got {array.dtype}")
    return array


def check_same_layout(op: str, reference_arg: str, reference: np.ndarray,
                      **others: np.ndarray) -> None:
    """Raise unless every array in `others` has the shape and dtype of `reference`."""
    for arg, array in others.items():
        if type(array) is np.ndarray and array.shape == reference.shape \
                and array.dtype == reference.dtype:
            continue  # the usual case, checked without the calls below
        check_float_array(op, arg, array)
        if array.shape != reference.shape:
            raise ValueError(f"{op}: {arg} has shape {array.shape} but {reference_arg} has "
                             f"shape {reference.shape}; they must match")
        if array.dtype != reference.dtype:
            raise TypeError(f"{op}: {arg} has dtype {array.dtype} but {reference_arg} has "
                            f"dtype {reference.dtype}; they must match")


def check_activation(op: str, name: object, param: object) -> float:
    """Validate an activation name and its parameter; return the parameter as a float."""
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise ValueError(f"{op}: unknown activation {name!r}; expected one of {ACTIVATIONS}")
    value = check_real_number(op, "param", param)
    if not ops.ACTIVATIONS[name].parameters and value != 0.0:
        # A nonzero param on relu/tanh/sigmoid is almost surely a mix-up with leaky_relu/elu.
        raise ValueError(f"{op}: activation {name!r} takes no parameter, got param={param!r}")
    return value


def check_real_number(op: str, arg: str, value: object) -> float:
    """Return `value` as a float if it is a finite real number (or 0-d real array)."""
    if type(value) is float:  # the common case, without the slower abstract-class test below
        if not math.isfinite(value):
            raise ValueError(f"{op}: {arg} must be finite, got {value}")
        return value
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{op}: {arg} must be a real number, got {type(value).__name__}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{op}: {arg} must be finite, got {number}")
    return number


def check_axis(op: str, axis: object, ndim: int) -> int:
    """Return `axis` normalised to 0..ndim-1, raising for non-integers and out-of-range axes."""
    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"{op}: axis must be an int, got {type(axis).__name__}")
    if ndim == 0:
        raise ValueError(f"{op}: needs an array with at least one dimension, got a 0-d array")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{op}: axis {axis} is out of range for an array with {ndim} dimensions")
    return int(axis) % ndim


def check_reduction_length(op: str, array: np.ndarray, axis: int) -> None:
    """A softmax over an empty axis has no value; refuse it rather than return garbage."""
    if array.shape[axis] == 0:
        raise ValueError(f"{op}: axis {axis} has length 0 in shape {array.shape}; "
                         "softmax needs at least one entry")


def check_logits(op: str, arg: str, logits: object) -> np.ndarray:
    """Logits/probabilities for cross-entropy: a float array of shape (n, C), n >= 1, C >= 1."""
    check_float_array(op, arg, logits)
    if logits.ndim != 2 or logits.shape[0] == 0 or logits.shape[1] == 0:
        raise ValueError(f"{op}: {arg} must have shape (n, C) with n, C >= 1, got {logits.shape}")
    return logits


def check_targets(op: str, targets: object, n: int, classes: int,
                  dtype: np.dtype) -> np.ndarray:
    """Validate cross-entropy targets: int labels (n,) in [0, C) or probabilities (n, C).

    Probability targets are returned converted to `dtype`; their rows must be non-negative
    and sum to 1, because the gradient probs - t is only the true gradient when sum(t) == 1.
    """
    if not isinstance(targets, np.ndarray):
        raise TypeError(f"{op}: targets must be a numpy.ndarray, got {type(targets).__name__}")
    if targets.ndim == 1:
        if targets.dtype.kind not in "iu":  # signed or unsigned integers
            raise TypeError(f"{op}: 1-d targets are class labels and must have an integer "
                            f"dtype, got {targets.dtype}")
        if targets.shape[0] != n:
            raise ValueError(f"{op}: targets has {targets.shape[0]} labels for {n} rows")
        # One pass instead of min() and max(): seen as unsigned, a negative label is larger
        # than any class index.
        unsigned = targets.view(targets.dtype.str.replace("i", "u")) if targets.dtype.kind == "i" else targets
        if targets.size and unsigned.max() >= classes:
            raise ValueError(f"{op}: labels must lie in [0, {classes}), got values from "
                             f"{targets.min()} to {targets.max()}")
        return targets.astype(np.int64, copy=False)
    if targets.ndim != 2:
        raise ValueError(f"{op}: targets must be labels of shape ({n},) or probabilities of "
                         f"shape ({n}, {classes}), got shape {targets.shape}")
    if targets.shape != (n, classes):
        raise ValueError(f"{op}: probability targets have shape {targets.shape}, expected "
                         f"({n}, {classes})")
    if not (np.issubdtype(targets.dtype, np.number) or targets.dtype == np.bool_) \
            or np.issubdtype(targets.dtype, np.complexfloating):
        raise TypeError(f"{op}: probability targets must be real numbers, got {targets.dtype}")
    probabilities = targets.astype(dtype, copy=False)
    if not np.all(np.isfinite(probabilities)) or np.any(probabilities < 0):
        raise ValueError(f"{op}: probability targets must be finite and non-negative")
    row_sums = probabilities.sum(axis=1, dtype=np.float64)
    errors = np.abs(row_sums - 1.0)
    worst = int(np.argmax(errors))
    tolerance = TARGET_SUM_TOLERANCE[np.dtype(dtype)] * classes
    if errors[worst] > tolerance:
        digits = np.finfo(dtype).precision + 1  # the sum to the targets' own precision
        raise ValueError(f"{op}: probability targets must sum to 1 in every row, but row "
                         f"{worst} sums to {row_sums[worst]:.{digits}g} (allowed: 1 +- "
                         f"{tolerance:.3g})")
    return probabilities


def check_target_shape(op: str, grad: np.ndarray, shape: object) -> tuple[int, ...]:
    """Validate that `grad` can be summed down to `shape` under numpy broadcasting rules."""
    if not isinstance(shape, (tuple, list)) or not all(
            isinstance(size, numbers.Integral) and not isinstance(size, (bool, np.bool_))
            for size in shape):
        raise TypeError(f"{op}: shape must be a tuple of ints, got {shape!r}")
    shape = tuple(int(size) for size in shape)
    if any(size < 0 for size in shape):
        raise ValueError(f"{op}: shape {shape} has a negative size")
    if len(shape) > grad.ndim:
        raise ValueError(f"{op}: cannot sum a gradient of shape {grad.shape} down to the "
                         f"larger-rank shape {shape}")
    trailing = grad.shape[grad.ndim - len(shape):]
    for size, grad_size in zip(shape, trailing):
        if size != grad_size and size != 1:
            raise ValueError(f"{op}: shape {shape} does not broadcast to the gradient's "
                             f"shape {grad.shape}")
    return shape
