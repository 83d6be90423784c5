"""Class labels as one-hot rows."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from nn.data._checks import FloatArray, check_int


def one_hot(labels: ArrayLike, num_classes: int | None = None) -> FloatArray:
    """One-hot rows: float64 (n, num_classes) with a 1 at column ``labels[i]`` of row i.

    labels: 1-D integers (integral floats accepted) in {0, ..., num_classes - 1}.
    ``num_classes=None`` means max(labels) + 1.
    """
    op = "one_hot"
    array = np.asarray(labels)
    if array.ndim != 1:
        raise ValueError(f"{op}: labels must be 1-D, got shape {array.shape}")
    if array.dtype.kind == "f":
        if not np.isfinite(array).all():
            raise ValueError(f"{op}: labels must be integers, got {array[~np.isfinite(array)][0]}")
        fractional = array[array != np.round(array)]
        if len(fractional):
            raise ValueError(f"{op}: labels must be integers, got {fractional[0]}")
    elif array.dtype.kind not in "biu":
        raise TypeError(f"{op}: labels must be integers, got dtype {array.dtype}")
    array = array.astype(np.int64)
    if len(array) and array.min() < 0:
        raise ValueError(f"{op}: labels must be >= 0, got label {array.min()}")
    if num_classes is None:
        if not len(array):
            raise ValueError(f"{op}: cannot infer num_classes from no labels; pass num_classes")
        num_classes = int(array.max()) + 1
    num_classes = check_int(num_classes, "num_classes", op, 1)
    if len(array) and array.max() >= num_classes:
        raise ValueError(f"{op}: label {array.max()} is out of range for num_classes={num_classes} "
                         f"(labels must be < {num_classes})")
    encoded = np.zeros((len(array), num_classes))
    encoded[np.arange(len(array)), array] = 1.0
    return encoded
