"""Choosing numpy, the serial Numba kernel or the parallel one, and loading Numba lazily.

THRESHOLDS[family] = (serial_from, parallel_from), in elements; None means never. They come
from `python benchmarks/bench_kernels.py --thresholds [--serial-only] [--dtype float32]`; the
measurements behind each number are in benchmarks/RESULTS.md ("Kernel dispatch thresholds").
Why the numbers are what they are:

- Serial kernels vs numpy: the references make several passes and allocate temporaries, so a
  fused kernel wins from a few hundred to a few thousand elements. Until Numba is loaded we
  never go below 4096: under that a call gains a few microseconds, which does not repay
  importing Numba and loading the cached kernels (let alone compiling them on a machine
  without a cache) in the small examples this library is mostly used for. Once something has
  loaded them (a large array, `warmup.warm_up`, `make demo`), that cost is paid, and a family
  whose kernel wins below 4096 runs it from its measured crossover (`SERIAL_FROM_ONCE_LOADED`).
- tanh forward: depends on the processor, so it is timed at first use (`settle_by_timing`).
  numpy's tanh is a vectorized routine where the processor has AVX-512, as fast as our kernel
  or faster; elsewhere (AVX2) it is a scalar loop that the kernel beats several times over.
- Parallel: never by default. Waking a sleeping worker thread, or waiting for a scheduler
  tick while another process runs, costs more than the parallel loop saves on shared 2-core
  machines. The parallel drivers stay available through kernel_mode("parallel"); on a
  machine with idle cores, opt in per family, e.g. THRESHOLDS["cross_entropy"] = (4096, 1 << 20).
"""

from __future__ import annotations

import os
import time
import warnings
from types import ModuleType
from typing import Any, Callable

from autograd_core.kernels.switch import THREAD_KERNEL_MODE

THRESHOLDS: dict[str, tuple[int | None, int | None]] = {
    "relu_forward": (4096, None),
    "relu_backward": (8192, None),
    "tanh_forward": (4096, None),  # then timed at first use: see TIMED_AT_FIRST_USE
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
    "add_bias": (4096, None),  # affine: a linear layer's bias added into its product
}

# Families whose numpy side is fast on some processors and slow on others. The first call that
# the thresholds send to a kernel times numpy against it on that call's own array and keeps the
# faster for the rest of the process: family -> "numpy" or "kernel", None until then.
TIMED_AT_FIRST_USE: dict[str, str | None] = {"tanh_forward": None}

# Where the serial kernel beats numpy once Numba is loaded, for the families whose crossover
# is below their threshold above (python benchmarks/bench_kernels.py --thresholds --serial-only;
# benchmarks/RESULTS.md). A family set to never (None) above stays never.
SERIAL_FROM_ONCE_LOADED: dict[str, int] = {
    "relu_backward": 64,
    "tanh_backward": 64,
    "sigmoid_forward": 64,
    "sigmoid_backward": 64,
    "leaky_relu_forward": 64,
    "leaky_relu_backward": 64,
    "elu_forward": 64,
    "elu_backward": 64,
    "cross_entropy": 64,
    "cross_entropy_backward": 64,
    "add_bias": 64,
}

# A kernel family not listed above (a new activation's kernel) starts at the floor every
# measured family shares: serial from 4096 elements, never parallel.
DEFAULT_THRESHOLDS: tuple[int | None, int | None] = (4096, None)

_compiled: ModuleType | None = None
# Set (to the reason) when the kernels cannot be loaded on this machine: every route is numpy.
_unavailable: str | None = None


def compiled_kernels() -> ModuleType:
    """The `compiled` module, imported (and Numba with it) on first call only.

    Importing it compiles nothing: each kernel compiles, or loads from the disk cache, the
    first time it is called with a given dtype; the first compile in a process prints one
    line to stderr (`warmup.announce_first_compile`). The cache location is settled first,
    because Numba refuses to even decorate a cached function it has nowhere to store.
    Raises `numba_cache.NoCacheDirectory` where there is no writable directory for it
    (`route` checks `kernels_available` first, so the kernel functions never see that)."""
    global _compiled
    if _compiled is None:
        from autograd_core.kernels import numba_cache
        numba_cache.ensure_numba_cache_dir(os.path.join(os.path.dirname(__file__), "compiled.py"))
        from autograd_core.kernels import compiled, warmup
        # A kernel with no cached copy compiles for seconds on its first call: say so, once.
        warmup.announce_first_compile(compiled)
        _compiled = compiled
    return _compiled


def kernels_available() -> bool:
    """Whether the Numba kernels can run here (loading them on first call). Where no
    directory is writable for Numba's cache, warns once, saying how to enable them, and
    returns False from then on: the numpy references compute the same results."""
    global _unavailable
    if _compiled is not None:
        return True
    if _unavailable is not None:
        return False
    from autograd_core.kernels import numba_cache
    try:
        compiled_kernels()
    except numba_cache.NoCacheDirectory as error:
        _unavailable = str(error)
        warnings.warn(f"chainrule runs its numpy references instead of the Numba kernels: "
                      f"{error}", RuntimeWarning, stacklevel=4)
        return False
    return True


def thread_count() -> int:
    """Numba's current thread count (respects NUMBA_NUM_THREADS and numba.set_num_threads)."""
    import numba
    return numba.get_num_threads()


def settle_by_timing(family: str, with_numpy: Callable[[], Any], with_kernel: Callable[[], Any],
                     repeats: int = 3) -> str:
    """Time `with_numpy` against `with_kernel` (one warm-up call each, then the best of
    `repeats` alternating calls), record the faster as the verdict for `family` in
    `TIMED_AT_FIRST_USE`, and return it ("numpy" or "kernel")."""
    with_kernel()  # the first call loads the kernel from Numba's cache (or compiles it)
    with_numpy()
    best = {"numpy": float("inf"), "kernel": float("inf")}
    for _ in range(repeats):
        for name, call in (("numpy", with_numpy), ("kernel", with_kernel)):
            start = time.perf_counter()
            call()
            best[name] = min(best[name], time.perf_counter() - start)
    verdict = "kernel" if best["kernel"] < best["numpy"] else "numpy"
    TIMED_AT_FIRST_USE[family] = verdict
    return verdict


def route(family: str, size: int) -> str:
    """Which implementation handles `size` elements of kernel `family`: "numpy", "serial" or
    "parallel", from this thread's mode and the family's measured thresholds; "numpy" in
    every mode where the kernels cannot be loaded (see `kernels_available`)."""
    mode = THREAD_KERNEL_MODE.mode  # get_kernel_mode(), inlined: this runs for every kernel-backed op
    if mode == "auto":
        serial_from, parallel_from = THRESHOLDS.get(family, DEFAULT_THRESHOLDS)
        if _compiled is not None and serial_from is not None:  # loading is paid for: see the notes
            once_loaded = SERIAL_FROM_ONCE_LOADED.get(family)
            if once_loaded is not None and once_loaded < serial_from:
                serial_from = once_loaded
        if serial_from is None or size < serial_from:
            if parallel_from is None or size < parallel_from:
                return "numpy"  # small arrays never load Numba
        if not (_compiled is not None or kernels_available()):
            return "numpy"
        if parallel_from is not None and size >= parallel_from and thread_count() > 1:
            return "parallel"
        if serial_from is not None and size >= serial_from:
            return "numpy" if TIMED_AT_FIRST_USE.get(family) == "numpy" else "serial"
        return "numpy"
    if mode != "numpy" and _compiled is None and not kernels_available():
        return "numpy"
    return mode
