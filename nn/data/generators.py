"""Seeded toy classification data: XOR, two moons, concentric circles, spirals."""

from __future__ import annotations

import numpy as np

from nn.data._checks import FloatArray, IntArray, check_int, check_noise, check_real, seeded_rng


def _shuffled_with_noise(X: FloatArray, y: IntArray, noise: float,
                         rng: np.random.Generator) -> tuple[FloatArray, IntArray]:
    """Rows of (X, y) in a random order, then X plus Gaussian noise (sd `noise`)."""
    # Shuffle before drawing the noise, so the order depends on the seed alone.
    order = rng.permutation(len(X))
    X, y = X[order], y[order]
    return (X + rng.normal(0.0, noise, X.shape) if noise > 0 else X), y


def make_xor(n: int | None = None, noise: float = 0.0, seed: int = 0) -> tuple[FloatArray, IntArray]:
    """The XOR points (0,0)->0, (0,1)->1, (1,0)->1, (1,1)->0: ``(X, y)``.

    ``n=None`` gives the 4 points once; an int n repeats them n times (in that order), so
    X is float64 (4n, 2) and y int64 (4n,). ``noise`` is the standard deviation of Gaussian
    noise added to every coordinate (labels stay those of the clean point).
    """
    op = "make_xor"
    repeats = 1 if n is None else check_int(n, "n (number of repeats)", op, 1)
    noise, rng = check_noise(noise, op), seeded_rng(seed, op)
    X = np.tile(np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]), (repeats, 1))
    y = np.tile(np.array([0, 1, 1, 0], dtype=np.int64), repeats)
    return (X + rng.normal(0.0, noise, X.shape) if noise > 0 else X), y


def make_moons(n_samples: int = 100, noise: float = 0.0, seed: int = 0) -> tuple[FloatArray, IntArray]:
    """Two interleaving half circles: ``(X, y)`` with X float64 (n_samples, 2), y int64 (n_samples,).

    Class 0 (n_samples // 2 points): the upper unit half circle (cos t, sin t), t in [0, pi].
    Class 1 (the rest): (1 - cos t, 0.5 - sin t), the lower half circle shifted right and up.
    Points are evenly spaced in t, shuffled, then Gaussian noise with standard deviation
    ``noise`` is added to every coordinate. The order depends on the seed alone, so the
    same seed with ``noise=0`` gives the clean points in the same order.
    """
    op = "make_moons"
    n_samples = check_int(n_samples, "n_samples", op, 2)
    noise, rng = check_noise(noise, op), seeded_rng(seed, op)
    n_upper = n_samples // 2
    t_upper = np.linspace(0.0, np.pi, n_upper)
    t_lower = np.linspace(0.0, np.pi, n_samples - n_upper)
    X = np.concatenate([np.column_stack([np.cos(t_upper), np.sin(t_upper)]),
                        np.column_stack([1.0 - np.cos(t_lower), 0.5 - np.sin(t_lower)])])
    y = np.repeat(np.array([0, 1], dtype=np.int64), [n_upper, n_samples - n_upper])
    return _shuffled_with_noise(X, y, noise, rng)


def make_circles(n_samples: int = 100, noise: float = 0.0, factor: float = 0.8,
                 seed: int = 0) -> tuple[FloatArray, IntArray]:
    """Two concentric circles: ``(X, y)`` with X float64 (n_samples, 2), y int64 (n_samples,).

    Class 0 (n_samples // 2 points): the unit circle. Class 1 (the rest): the circle of
    radius ``factor``, 0 < factor < 1. Points are evenly spaced in angle, shuffled, then
    Gaussian noise with standard deviation ``noise`` is added to every coordinate (the
    order depends on the seed alone, as in `make_moons`).
    """
    op = "make_circles"
    n_samples = check_int(n_samples, "n_samples", op, 2)
    noise, rng = check_noise(noise, op), seeded_rng(seed, op)
    factor = check_real(factor, "factor", op)
    if not 0.0 < factor < 1.0:
        raise ValueError(f"{op}: factor (inner radius / outer radius) must be in (0, 1), got {factor}")
    n_outer = n_samples // 2

    def circle(count: int, radius: float) -> FloatArray:
        angle = np.linspace(0.0, 2.0 * np.pi, count, endpoint=False)
        return radius * np.column_stack([np.cos(angle), np.sin(angle)])

    X = np.concatenate([circle(n_outer, 1.0), circle(n_samples - n_outer, factor)])
    y = np.repeat(np.array([0, 1], dtype=np.int64), [n_outer, n_samples - n_outer])
    return _shuffled_with_noise(X, y, noise, rng)


def make_spirals(n_samples: int = 300, n_classes: int = 3, noise: float = 0.0, seed: int = 0,
                 turns: float = 1.0) -> tuple[FloatArray, IntArray]:
    """``n_classes`` interleaved spiral arms: ``(X, y)``, X float64 (n_samples, 2), y int64 (n_samples,).

    Arm k holds n_samples // n_classes points (the first n_samples % n_classes arms one
    more) at radii r evenly spaced in (0, 1] and angles 2 pi k / n_classes + 2 pi turns r:
    x = r (cos angle, sin angle). Points are shuffled, then Gaussian noise with standard
    deviation ``noise`` is added to every coordinate (the order depends on the seed alone,
    as in `make_moons`).
    """
    op = "make_spirals"
    n_classes = check_int(n_classes, "n_classes", op, 2)
    n_samples = check_int(n_samples, "n_samples", op, n_classes)
    noise, rng = check_noise(noise, op), seeded_rng(seed, op)
    turns = check_real(turns, "turns", op)
    counts = [n_samples // n_classes + (k < n_samples % n_classes) for k in range(n_classes)]
    arms = []
    for k, count in enumerate(counts):
        # Start at r > 0: at r = 0 every arm meets, and the same point would carry every label.
        radius = np.linspace(0.0, 1.0, count + 1)[1:]
        angle = 2.0 * np.pi * (k / n_classes + turns * radius)
        arms.append(radius[:, None] * np.column_stack([np.cos(angle), np.sin(angle)]))
    y = np.repeat(np.arange(n_classes, dtype=np.int64), counts)
    return _shuffled_with_noise(np.concatenate(arms), y, noise, rng)
