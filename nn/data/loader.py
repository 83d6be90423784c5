"""`DataLoader`: shuffled mini-batches, one epoch per loop."""

from __future__ import annotations

from typing import Iterator

import numpy as np
from numpy.typing import ArrayLike

from nn.data._checks import IntArray, as_samples, check_bool, check_int, check_same_length, seeded_rng


class DataLoader:
    """Mini-batches of (X, y), one epoch per ``for`` loop.

    Vocabulary: the data set has D samples. A *batch* is the group of samples used for one
    parameter update; the *batch size* M is how many samples it holds. One *iteration* is
    one batch: forward, loss (the mean of the per-sample losses), backward, update. One
    *epoch* is one pass over all D samples, i.e. D / M iterations (``len(loader)``:
    ceil(D / M), or floor(D / M) with ``drop_last=True``, which drops the short final batch).

    Iterating the loader yields one epoch of ``(X_batch, y_batch)`` numpy arrays (copies)
    that together hold every sample exactly once (less the dropped remainder). With
    ``shuffle=True`` every epoch draws a fresh order; the sequence of orders is reproducible
    from ``seed``.
    """

    def __init__(self, X: ArrayLike, y: ArrayLike, batch_size: int, shuffle: bool = True,
                 seed: int = 0, drop_last: bool = False) -> None:
        op = "DataLoader"
        self.X, self.y = as_samples(X, "X", op), as_samples(y, "y", op)
        check_same_length(self.X, self.y, op)
        self.batch_size = check_int(batch_size, "batch_size", op, 1)
        self.shuffle = check_bool(shuffle, "shuffle", op)
        self.drop_last = check_bool(drop_last, "drop_last", op)
        if self.drop_last and self.batch_size > len(self.X):
            raise ValueError(f"{op}: drop_last=True with batch_size {self.batch_size} > "
                             f"{len(self.X)} samples would yield no batches")
        self._rng = seeded_rng(seed, op)

    @property
    def num_samples(self) -> int:
        """D, the number of samples."""
        return len(self.X)

    def __len__(self) -> int:
        """Iterations per epoch: ceil(D / M), or floor(D / M) with drop_last."""
        full, remainder = divmod(self.num_samples, self.batch_size)
        return full + (remainder > 0 and not self.drop_last)

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """One epoch of ``(X_batch, y_batch)`` pairs."""
        # Draw the order now, not lazily, so each iter() call is one epoch of the seeded stream.
        order = self._rng.permutation(self.num_samples) if self.shuffle else np.arange(self.num_samples)
        return self._batches(order)

    def _batches(self, order: IntArray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for i in range(len(self)):
            chosen = order[i * self.batch_size:(i + 1) * self.batch_size]
            yield self.X[chosen], self.y[chosen]
