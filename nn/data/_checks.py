"""Argument checks shared by the data utilities: each raises an error naming the op and the problem."""

from __future__ import annotations

import math
import numbers

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def check_int(value: object, name: str, op: str, minimum: int) -> int:
    """`value` as an int >= `minimum`."""
    # bool is an int subclass, but `batch_size=True` is always a mistake.
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{op}: {name} must be an int, got {type(value).__name__}: {value!r}")
    if value < minimum:
        raise ValueError(f"{op}: {name} must be >= {minimum}, got {value}")
    return int(value)


def check_real(value: object, name: str, op: str) -> float:
    """`value` as a finite float."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{op}: {name} must be a real number, got {type(value).__name__}: {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{op}: {name} must be finite, got {value!r}")
    return float(value)


def check_noise(noise: object, op: str) -> float:
    """`noise`, a standard deviation, as a float >= 0."""
    noise = check_real(noise, "noise", op)
    if noise < 0:
        raise ValueError(f"{op}: noise is a standard deviation and must be >= 0, got {noise}")
    return noise


def check_bool(value: object, name: str, op: str) -> bool:
    """`value` as a bool; 0/1 and other truthy values are refused as likely mistakes."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{op}: {name} must be True or False, got {type(value).__name__}: {value!r}")
    return bool(value)


def seeded_rng(seed: object, op: str) -> np.random.Generator:
    """A numpy Generator seeded with `seed`, an int >= 0."""
    return np.random.default_rng(check_int(seed, "seed", op, 0))


def as_samples(values: ArrayLike, name: str, op: str) -> np.ndarray:
    """`values` as an array with one sample per row (axis 0), at least one sample."""
    array = np.asarray(values)
    if array.ndim == 0:
        raise ValueError(f"{op}: {name} must have one sample per row, got a scalar {array!r}")
    if len(array) == 0:
        raise ValueError(f"{op}: {name} has no samples")
    return array


def as_float_matrix(X: ArrayLike, op: str) -> FloatArray:
    """`X` as a finite float64 (n_samples, n_features) array, or a clear error."""
    array = np.asarray(X)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{op}: X must hold real numbers, got dtype {array.dtype}")
    if array.ndim != 2:
        raise ValueError(f"{op}: X must be 2-D (n_samples, n_features), got shape {array.shape}; "
                         "reshape a single feature with X.reshape(-1, 1)")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"{op}: X must have at least one sample and one feature, got shape {array.shape}")
    array = array.astype(np.float64)
    bad = np.argwhere(~np.isfinite(array))
    if len(bad):
        row, col = bad[0]
        raise ValueError(f"{op}: X contains {array[row, col]} at row {row}, column {col}; "
                         "values must be finite")
    return array


def check_same_length(X: np.ndarray, y: np.ndarray, op: str) -> None:
    """Raise unless X and y hold the same number of samples (rows)."""
    if len(X) != len(y):
        raise ValueError(f"{op}: X has {len(X)} samples but y has {len(y)}")
