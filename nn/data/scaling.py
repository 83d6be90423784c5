"""Feature scaling fitted on training data: min-max and z-score (standardization)."""

from __future__ import annotations

from typing import TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from nn.data._checks import FloatArray, as_float_matrix

ScalerT = TypeVar("ScalerT", bound="_ColumnScaler")


class NotFittedError(RuntimeError):
    """A scaler was used (transform / inverse_transform) before ``fit``."""


class _ColumnScaler:
    """x' = (x - offset) / scale per column; subclasses choose offset and scale in ``_fit_columns``."""

    def __init__(self) -> None:
        self._offset: FloatArray | None = None
        self._scale: FloatArray | None = None

    def _fit_columns(self, X: FloatArray,
                     constant: NDArray[np.bool_]) -> tuple[FloatArray, FloatArray, dict[str, FloatArray]]:
        """Per-column offset, scale, and the public statistics to set as attributes."""
        raise NotImplementedError

    @property
    def n_features(self) -> int:
        """Number of columns seen by ``fit``."""
        return len(self._fitted("n_features")[0])

    def _fitted(self, method: str) -> tuple[FloatArray, FloatArray]:
        if self._offset is None or self._scale is None:
            raise NotFittedError(f"{type(self).__name__}.{method}: call fit(X) first")
        return self._offset, self._scale

    def _checked(self, X: ArrayLike, method: str) -> tuple[FloatArray, FloatArray, FloatArray]:
        offset, scale = self._fitted(method)
        X = as_float_matrix(X, f"{type(self).__name__}.{method}")
        if X.shape[1] != len(offset):
            raise ValueError(f"{type(self).__name__}.{method}: X has {X.shape[1]} features "
                             f"but the scaler was fitted on {len(offset)}")
        return X, offset, scale

    def fit(self: ScalerT, X: ArrayLike) -> ScalerT:
        """Learn the per-column statistics of X (n_samples, n_features); returns self."""
        X = as_float_matrix(X, f"{type(self).__name__}.fit")
        # A column is constant exactly when max == min; its computed spread may be a
        # rounding-error crumb, so decide from the data, not from the spread.
        constant = X.max(axis=0) == X.min(axis=0)
        # Overflow is reported below as an error naming the column, not as a warning.
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):
            offset, scale, statistics = self._fit_columns(X, constant)
        unusable = np.flatnonzero(~(np.isfinite(offset) & np.isfinite(scale) & (scale > 0)))
        if len(unusable):
            column = unusable[0]
            raise ValueError(f"{type(self).__name__}.fit: column {column} cannot be scaled in float64, its "
                             f"statistics overflow (min {X[:, column].min()}, max {X[:, column].max()})")
        # Set only after the checks, so a failed fit leaves an earlier fit intact.
        self._offset, self._scale = offset, scale
        vars(self).update(statistics)
        return self

    def transform(self, X: ArrayLike) -> FloatArray:
        """Scale X with the fitted statistics: (x - offset) / scale per column."""
        X, offset, scale = self._checked(X, "transform")
        return (X - offset) / scale

    def fit_transform(self, X: ArrayLike) -> FloatArray:
        """``fit(X)`` then ``transform(X)``."""
        return self.fit(X).transform(X)

    def inverse_transform(self, X: ArrayLike) -> FloatArray:
        """Undo ``transform``: x = x' * scale + offset per column."""
        X, offset, scale = self._checked(X, "inverse_transform")
        return X * scale + offset


class MinMaxScaler(_ColumnScaler):
    """Min-max scaling per column: x' = (x - min) / (max - min), so the fitted data spans [0, 1].

    A constant column (max == min) is only shifted: its range is taken as 1, so it maps to 0
    and ``inverse_transform`` restores it. ``data_min`` / ``data_max`` hold the fitted values.
    """

    def __init__(self) -> None:
        super().__init__()
        self.data_min: FloatArray | None = None
        self.data_max: FloatArray | None = None

    def _fit_columns(self, X: FloatArray,
                     constant: NDArray[np.bool_]) -> tuple[FloatArray, FloatArray, dict[str, FloatArray]]:
        data_min, data_max = X.min(axis=0), X.max(axis=0)
        scale = np.where(constant, 1.0, data_max - data_min)
        return data_min, scale, {"data_min": data_min, "data_max": data_max}


class StandardScaler(_ColumnScaler):
    """z-score per column: z = (x - mu) / sigma, with the population sigma = sqrt(mean((x - mu)^2)).

    Population (divide by n, not n - 1) so the fitted data has exactly mean 0 and standard
    deviation 1. A constant column (sigma = 0) is only shifted: sigma is taken as 1, so it
    maps to 0 and ``inverse_transform`` restores it. ``mean`` / ``std`` hold the fitted values
    (``std`` is 0 for a constant column).
    """

    def __init__(self) -> None:
        super().__init__()
        self.mean: FloatArray | None = None
        self.std: FloatArray | None = None

    def _fit_columns(self, X: FloatArray,
                     constant: NDArray[np.bool_]) -> tuple[FloatArray, FloatArray, dict[str, FloatArray]]:
        # For a constant column the exact mean is its value; np.mean could be an ulp off.
        mean = np.where(constant, X[0], X.mean(axis=0))
        deviation = X - mean
        # Divide the deviations by the largest before squaring: for spreads below ~1e-154 the
        # squares underflow to 0 (sigma 0 for data that is not constant), above ~1e154 they overflow.
        largest = np.where(constant, 1.0, np.abs(deviation).max(axis=0))
        std = np.where(constant, 0.0, largest * np.sqrt(((deviation / largest) ** 2).mean(axis=0)))
        return mean, np.where(constant, 1.0, std), {"mean": mean, "std": std}
