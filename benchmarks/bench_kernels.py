"""Benchmark every Numba kernel against its numpy reference, and measure dispatch thresholds.

    python benchmarks/bench_kernels.py                 # 1e6 float64 elements per kernel
    python benchmarks/bench_kernels.py --thresholds    # sweep sizes 2^6..2^20, print crossovers

Every case goes through the public `autograd_core.kernels` functions (so argument checks are
included, as a user would see them) with the kernel mode forced to "numpy", "serial" or
"parallel". Times are medians of repeated samples after a warm-up call (which also compiles);
one sample runs the call enough times to last >= ~2 ms, so tiny sizes are not timer noise.
`benchmark_rows()` returns the table as dictionaries for reuse by bigger benchmark scripts.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from autograd_core import kernels  # noqa: E402

PATHS = ("numpy", "serial", "parallel")
Case = Callable[[], object]


def _matrix(size: int, columns: int) -> tuple[int, int]:
    """A (rows, columns) shape with about `size` elements and at most `columns` columns."""
    columns = max(1, min(columns, size))
    return max(1, size // columns), columns


def make_cases(size: int, dtype: type = np.float64, columns: int = 1000,
               seed: int = 0) -> dict[str, tuple[tuple[int, ...], Case]]:
    """family -> (shape, zero-argument call) for every kernel family, about `size` elements.

    Row-wise kernels (softmax, cross-entropy, sums, the bias) use a (size/columns, columns) matrix.
    """
    rng = np.random.default_rng(seed)
    flat = (rng.standard_normal(size) * 3).astype(dtype)
    upstream = rng.standard_normal(size).astype(dtype)
    shape = _matrix(size, columns)
    logits = (rng.standard_normal(shape) * 3).astype(dtype)
    grad = rng.standard_normal(shape).astype(dtype)
    labels = rng.integers(0, shape[1], shape[0])
    probs = kernels.reference.softmax(logits, axis=1)
    cases: dict[str, tuple[tuple[int, ...], Case]] = {}
    for name in kernels.ACTIVATIONS:
        param = {"leaky_relu": 0.01, "elu": 1.0}.get(name, 0.0)
        out = kernels.reference.activation_forward(name, flat, param)
        cases[f"{name}_forward"] = (
            flat.shape, lambda name=name, param=param: kernels.activation_forward(name, flat, param))
        cases[f"{name}_backward"] = (
            flat.shape, lambda name=name, param=param, out=out:
            kernels.activation_backward(name, flat, out, upstream, param))
    cases["softmax"] = (shape, lambda: kernels.softmax(logits, axis=1))
    cases["log_softmax"] = (shape, lambda: kernels.log_softmax(logits, axis=1))
    cases["softmax_axis0"] = (shape, lambda: kernels.softmax(logits, axis=0))
    cases["softmax_backward"] = (shape, lambda: kernels.softmax_backward(probs, grad, axis=1))
    cases["log_softmax_backward"] = (
        shape, lambda: kernels.log_softmax_backward(np.log(probs), grad, axis=1))
    cases["cross_entropy"] = (shape, lambda: kernels.softmax_cross_entropy(logits, labels))
    cases["cross_entropy_backward"] = (
        shape, lambda: kernels.softmax_cross_entropy_backward(probs, labels, 1.0))
    cases["column_sums"] = (shape, lambda: kernels.unbroadcast(grad, (shape[1],)))
    cases["row_sums"] = (shape, lambda: kernels.unbroadcast(grad, (shape[0], 1)))
    # A linear layer with one input feature: the product is a small part of the call, the
    # bias added into its (rows, columns) output the rest (the same product on both paths).
    column = rng.standard_normal((shape[0], 1)).astype(dtype)
    weight, bias = rng.standard_normal((shape[1], 1)).astype(dtype), grad[0].copy()
    cases["add_bias"] = (shape, lambda: kernels.affine(column, weight, bias))
    return cases


# Which dispatch family (THRESHOLDS key) each benchmark case exercises.
FAMILY_OF_CASE = {"log_softmax": "softmax", "softmax_axis0": "softmax",
                  "log_softmax_backward": "softmax_backward"}


def median_seconds(call: Case, samples: int = 15, min_sample_seconds: float = 0.002,
                   idle_before: float = 0.0) -> float:
    """Median time of one `call`, after a warm-up call (which also compiles).

    With `idle_before` > 0 every sample is one call made that many seconds after the
    previous one, as in a training step where other work runs between kernel calls."""
    call()
    if idle_before > 0:
        times = []
        for _ in range(samples):
            time.sleep(idle_before)
            start = time.perf_counter()
            call()
            times.append(time.perf_counter() - start)
        return statistics.median(times)
    start = time.perf_counter()
    call()
    once = max(time.perf_counter() - start, 1e-7)
    loops = max(1, int(min_sample_seconds / once))
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        for _ in range(loops):
            call()
        times.append((time.perf_counter() - start) / loops)
    return statistics.median(times)


def time_paths(call: Case, samples: int = 15, idle_before: float = 0.0,
               paths: tuple[str, ...] = PATHS) -> dict[str, float]:
    """Median seconds of `call` under each kernel mode in `paths`."""
    timings = {}
    for path in paths:
        with kernels.kernel_mode(path):
            timings[path] = median_seconds(call, samples, idle_before=idle_before)
    return timings


def benchmark_rows(size: int = 10**6, dtype: type = np.float64,
                   samples: int = 15) -> list[dict[str, object]]:
    """One row per kernel: medians (ms) of numpy / serial / parallel and reference/kernel ratios.

    `parallel_idle_ms` is the parallel kernel called 2 ms after the previous call: the
    worker thread has gone to sleep by then and must be woken, which is what dispatch sees."""
    rows = []
    for name, (shape, call) in make_cases(size, dtype).items():
        timings = time_paths(call, samples)
        with kernels.kernel_mode("parallel"):
            parallel_idle = median_seconds(call, samples, idle_before=0.002)
        best = min(timings["serial"], timings["parallel"])
        rows.append({
            "kernel": name, "shape": shape, "dtype": np.dtype(dtype).name,
            "numpy_ms": timings["numpy"] * 1e3, "serial_ms": timings["serial"] * 1e3,
            "parallel_ms": timings["parallel"] * 1e3, "parallel_idle_ms": parallel_idle * 1e3,
            "ratio_serial": timings["numpy"] / timings["serial"],
            "ratio_parallel": timings["numpy"] / timings["parallel"],
            "ratio_best": timings["numpy"] / best,
        })
    return rows


def threshold_sweep(exponents: range = range(6, 21), dtype: type = np.float64,
                    columns: int = 100, samples: int = 9, paths: tuple[str, ...] = PATHS) \
        -> dict[str, list[tuple[int, dict]]]:
    """family -> [(size, {path: seconds})] over sizes 2**exponents."""
    sweep: dict[str, list[tuple[int, dict]]] = {}
    for exponent in exponents:
        size = 2 ** exponent
        for name, (_, call) in make_cases(size, dtype, columns).items():
            if name in FAMILY_OF_CASE:
                continue
            sweep.setdefault(name, []).append((size, time_paths(call, samples, paths=paths)))
    return sweep


def crossover(points: list[tuple[int, dict]], faster: str, slower: Callable[[dict], float]) \
        -> int | None:
    """Smallest size from which `faster` beats `slower` at that size and every larger one."""
    answer = None
    for size, timings in reversed(points):
        if timings[faster] < slower(timings):
            answer = size
        else:
            break
    return answer


def suggested_thresholds(sweep: dict[str, list[tuple[int, dict]]]) \
        -> dict[str, tuple[int | None, int | None]]:
    """(serial_from, parallel_from) per family, read off a threshold sweep."""
    result = {}
    for family, points in sweep.items():
        serial_from = crossover(points, "serial", lambda t: t["numpy"])
        parallel_from = None
        if "parallel" in points[0][1]:
            parallel_from = crossover(points, "parallel", lambda t: min(t["numpy"], t["serial"]))
        result[family] = (serial_from, parallel_from)
    return result


def format_rows(rows: list[dict[str, object]]) -> str:
    """The benchmark table as aligned text."""
    lines = [f"{'kernel':24s} {'shape':>12s} {'numpy ms':>9s} {'serial ms':>9s} "
             f"{'par. ms':>9s} {'par.idle':>9s} {'np/serial':>9s} {'np/par.':>9s}"]
    for row in rows:
        lines.append(f"{row['kernel']:24s} {str(row['shape']):>12s} {row['numpy_ms']:9.3f} "
                     f"{row['serial_ms']:9.3f} {row['parallel_ms']:9.3f} "
                     f"{row['parallel_idle_ms']:9.3f} "
                     f"{row['ratio_serial']:9.2f} {row['ratio_parallel']:9.2f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Command line: the 1e6-element table, or the threshold sweep with --thresholds."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--thresholds", action="store_true", help="sweep sizes 2^6..2^20")
    parser.add_argument("--size", type=int, default=10**6)
    parser.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    parser.add_argument("--samples", type=int, default=15)
    parser.add_argument("--serial-only", action="store_true",
                        help="sweep numpy against the serial kernels only")
    args = parser.parse_args(argv)
    dtype = np.dtype(args.dtype).type
    import numba
    print(f"numba {numba.__version__}, numpy {np.__version__}, "
          f"{numba.get_num_threads()} threads ({numba.config.THREADING_LAYER} layer requested)")
    if args.thresholds:
        paths = ("numpy", "serial") if args.serial_only else PATHS
        sweep = threshold_sweep(dtype=dtype, samples=args.samples, paths=paths)
        for family, points in sweep.items():
            print(family)
            for size, timings in points:
                print(f"  {size:8d}  " + "  ".join(
                    f"{path} {seconds * 1e6:9.1f} us" for path, seconds in timings.items()))
        print("suggested (serial_from, parallel_from):")
        for family, pair in suggested_thresholds(sweep).items():
            print(f"  {family!r}: {pair},")
    else:
        print(format_rows(benchmark_rows(args.size, dtype, args.samples)))


if __name__ == "__main__":
    main()
