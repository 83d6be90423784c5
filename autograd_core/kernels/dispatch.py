"""Choosing numpy, the serial Numba kernel or the parallel one, and loading Numba lazily.

THRESHOLDS[family] = (serial_from, parallel_from), in elements; None means never. Measured
with `python benchmarks/bench_kernels.py --thresholds [--serial-only] [--dtype float32]` on
the 2-core development VM (medians; row-wise kernels on (n/100, 100) matrices); float32
crossovers were the same or lower. Why the numbers are what they are:

- Serial kernels vs numpy: the references make several passes and allocate temporaries, so
  a fused kernel wins from a few hundred elements (sigmoid, leaky_relu, elu, cross-entropy
  from 64) to ~2-16k (relu, tanh/sigmoid backward, softmax backward, bias sums, where numpy
  is one or two cheap passes already). We still never go below 4096: under that a call
  gains < ~5 us, which does not repay importing Numba (~0.35 s) and loading the cached
  kernels (~50 ms), let alone compiling them on a machine without a cache (2-5 s each), in
  the small examples this library is mostly used for.
- tanh forward: never. numpy's tanh is an AVX-512 routine; ours needs exp, an expm1
  polynomial and a division and stays at 0.9-1.05x numpy at every size.
- Parallel: never, on this machine. At 1e6 elements, called back to back, the parallel
  kernels run 1.0-2.8x faster than the serial ones; called 2 ms after the previous call
  (the worker thread has gone to sleep, as between kernel calls in training) 0.5-1.8x;
  and whenever another process is running, each fork-join waits for a scheduler tick,
  ~8 ms, 10-50x the serial kernel (this VM is shared, so that is common). The parallel
  drivers stay available through kernel_mode("parallel"); on a machine with idle cores,
  opt in per family, e.g. THRESHOLDS["cross_entropy"] = (4096, 1 << 20).
"""

from __future__ import annotations

import os
from types import ModuleType

from autograd_core.kernels.switch import get_kernel_mode

THRESHOLDS: dict[str, tuple[int | None, int | None]] = {
    "relu_forward": (4096, None),
    "relu_backward": (8192, None),
    "tanh_forward": (None, None),
    "tanh_backward": (4096, None),
    "sigmoid_forward": (4096, None),
    "sigmoid_backward": (4096, None),
    "leaky_relu_forward": (4096, None),
    "leaky_relu_backward": (4096, None),
    "elu_forward": (4096, None),
    "elu_backward": (4096, None),
    "softmax": (4096, None),  # softmax and log-softmax, any axis
    "softmax_backward": (16384, None),
    "cross_entropy": (4096, None),
    "cross_entropy_backward": (4096, None),
    "column_sums": (8192, None),  # unbroadcast (n, m) -> (m,) or (1, m): bias gradients
    "row_sums": (4096, None),  # unbroadcast (n, m) -> (n, 1)
}

# A kernel family not listed above (a new activation's kernel) starts at the floor every
# measured family shares: serial from 4096 elements, never parallel.
DEFAULT_THRESHOLDS: tuple[int | None, int | None] = (4096, None)

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
    serial_from, parallel_from = THRESHOLDS.get(family, DEFAULT_THRESHOLDS)
    if parallel_from is not None and size >= parallel_from and thread_count() > 1:
        return "parallel"
    if serial_from is not None and size >= serial_from:
        return "serial"
    return "numpy"
