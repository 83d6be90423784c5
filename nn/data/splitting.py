"""Shuffled (optionally stratified) train/test splits."""

from __future__ import annotations

import math
import numbers

import numpy as np
from numpy.typing import ArrayLike

from nn.data._checks import IntArray, as_samples, check_bool, check_real, check_same_length, seeded_rng


def _test_count(test_size: object, n_samples: int, op: str) -> int:
    if isinstance(test_size, numbers.Integral) and not isinstance(test_size, bool):
        count = int(test_size)
    else:
        fraction = check_real(test_size, "test_size", op)
        if not 0.0 < fraction < 1.0:
            raise ValueError(f"{op}: a fractional test_size must be in (0, 1), got {fraction}")
        # Round first: 0.07 * 100 is 7.000000000000001 in floating point, not 7.
        count = math.ceil(round(fraction * n_samples, 9))
    if not 1 <= count <= n_samples - 1:
        raise ValueError(f"{op}: test_size={test_size!r} gives {count} test samples out of "
                         f"{n_samples}; both the train and the test set need at least one")
    return count


def _stratified_test_indices(y: np.ndarray, n_test: int, rng: np.random.Generator) -> IntArray:
    """n_test indices whose class proportions match y's as closely as whole counts allow."""
    classes, class_of = np.unique(y, return_inverse=True)
    sizes = np.bincount(class_of, minlength=len(classes))
    quota = n_test * sizes / len(y)
    counts = np.floor(quota).astype(np.int64)
    # Largest remainder: the leftover test slots go to the classes whose quota lost most.
    leftover = n_test - counts.sum()
    counts[np.argsort(-(quota - counts), kind="stable")[:leftover]] += 1
    picked = [rng.permutation(np.flatnonzero(class_of == c))[:counts[c]] for c in range(len(classes))]
    return rng.permutation(np.concatenate(picked))


def train_test_split(X: ArrayLike, y: ArrayLike, test_size: float | int = 0.2, seed: int = 0,
                     stratify: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle the samples and split them: ``(X_train, X_test, y_train, y_test)``.

    test_size: a fraction in (0, 1) (the test set gets ceil(fraction * n) samples) or a
    count. ``stratify=True`` treats y as class labels and keeps each class's share in the
    test set as close to its share in y as whole counts allow. Rows are along axis 0 of X
    and y; both parts come out in shuffled order.
    """
    op = "train_test_split"
    X, y = as_samples(X, "X", op), as_samples(y, "y", op)
    check_same_length(X, y, op)
    n_test = _test_count(test_size, len(X), op)
    rng = seeded_rng(seed, op)
    if check_bool(stratify, "stratify", op):
        if y.ndim != 1:
            raise ValueError(f"{op}: stratify=True needs 1-D class labels y, got shape {y.shape}")
        test = _stratified_test_indices(y, n_test, rng)
        is_test = np.zeros(len(y), dtype=bool)
        is_test[test] = True
        train = rng.permutation(np.flatnonzero(~is_test))
    else:
        order = rng.permutation(len(X))
        test, train = order[:n_test], order[n_test:]
    return X[train], X[test], y[train], y[test]
