"""Compile (or load) every Numba kernel once, and say so when a process must compile.

``python -m autograd_core.kernels.warmup`` calls each serial kernel once on a tiny array, in
float64 and float32, so that Numba compiles it and stores it in its disk cache: afterwards
the first large tensor operation of a new process loads its kernel from the cache instead of
compiling it. `make demo` runs it once after installing.

A process that finds no cached kernel and has to compile one prints one line to stderr
(`announce_first_compile`), so a first tensor operation that pauses for seconds says why.

This module imports neither Numba nor the kernels when it is imported.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any, Callable, Sequence, TextIO

# What a compile costs, measured on a 2-core x86_64 VM (benchmarks/RESULTS.md): one kernel
# 1-4 s, all serial kernels in float64 and float32 (this module's main) about 20 s.
COMPILE_NOTICE = ("chainrule: compiling a Numba kernel for this machine ({kernel}): no cached copy "
                  "yet, so this first use takes a few seconds (1-4 s per kernel, once); later runs load "
                  "it from the cache. `python -m autograd_core.kernels.warmup` compiles them all now "
                  "(about 20 s).")

_announced = False
_listener: Any = None


def _notify(kernel: str, stream: TextIO | None = None) -> None:
    """Print the compile notice once per process."""
    global _announced
    if _announced:
        return
    _announced = True
    stream = sys.stderr if stream is None else stream
    print(COMPILE_NOTICE.format(kernel=kernel), file=stream, flush=True)


def announce_first_compile(compiled: Any) -> None:
    """Print one line to stderr when a kernel of the module `compiled` is about to compile
    (rather than load from Numba's disk cache), the first time in this process only.

    Listens to Numba's "numba:compile" event, which Numba sends only when it compiles: a
    kernel loaded from the cache sends none. Safe to call more than once; does nothing where
    this Numba has no event API."""
    global _listener
    if _listener is not None:
        return
    try:
        from numba.core import event
    except ImportError:  # a Numba without the event API: no notice, nothing else changes
        return
    module_name = compiled.__name__

    class FirstCompileNotice(event.Listener):
        """Announces the first compile of one of the kernels."""

        def on_start(self, started: Any) -> None:
            data = started.data if isinstance(started.data, dict) else {}
            function = getattr(data.get("dispatcher"), "py_func", None)
            if getattr(function, "__module__", None) == module_name:
                _notify(function.__name__)

        def on_end(self, ended: Any) -> None:
            pass

    _listener = FirstCompileNotice()
    event.register("numba:compile", _listener)


def _calls(dtype: Any) -> list[tuple[str, Callable[[], Any]]]:
    """(name, call) for every serial kernel, on tiny arrays of `dtype`, through the public
    kernel functions, so that each compiles for the argument types real calls use."""
    import numpy as np

    from autograd_core import kernels as K
    from autograd_core import ops

    x = np.linspace(-2.0, 2.0, 12, dtype=dtype).reshape(3, 4)
    grad = np.ones_like(x)
    labels = np.array([0, 3, 1], dtype=np.int64)
    targets = np.full((3, 4), 0.25, dtype=dtype)
    calls: list[tuple[str, Callable[[], Any]]] = []
    for name, op in ops.ACTIVATIONS.items():
        if getattr(op, "kernel", None):
            calls.append((f"{name} forward", lambda op=op: K.run_activation_forward(op, x)))
            calls.append((f"{name} backward", lambda op=op: K.run_activation_backward(
                op, x, K.run_activation_forward(op, x), grad)))
    for axis in (1, 0):
        calls.append((f"softmax, axis {axis}", lambda axis=axis: K.softmax(x, axis)))
        calls.append((f"log_softmax, axis {axis}", lambda axis=axis: K.log_softmax(x, axis)))
        calls.append((f"softmax backward, axis {axis}",
                      lambda axis=axis: K.softmax_backward(K.softmax(x, axis), grad, axis)))
        calls.append((f"log_softmax backward, axis {axis}",
                      lambda axis=axis: K.log_softmax_backward(K.log_softmax(x, axis), grad, axis)))
    for kind, target in (("labels", labels), ("probabilities", targets)):
        calls.append((f"cross-entropy with {kind}",
                      lambda target=target: K.softmax_cross_entropy(x, target)))
        calls.append((f"cross-entropy backward with {kind}",
                      lambda target=target: K.softmax_cross_entropy_backward(
                          K.softmax_cross_entropy(x, target)[1], target, 1.0)))
    calls.append(("column sums (bias gradients)", lambda: K.unbroadcast(x, (4,))))
    calls.append(("row sums", lambda: K.unbroadcast(x, (3, 1))))
    calls.append(("affine (a linear layer's bias)", lambda: K.affine(x, x, x[:, 0].copy())))
    return calls


def warm_up(dtypes: Sequence[str] = ("float64", "float32"), out: TextIO | None = None) -> float:
    """Call every serial kernel once per dtype in serial mode, so that each is compiled and
    cached (or, where the cache is warm, loaded); returns the seconds it took. Where the
    kernels cannot run here (no writable cache directory) says so and returns at once."""
    from autograd_core.kernels import dispatch, kernel_mode

    start = time.perf_counter()
    if not dispatch.kernels_available():
        if out is not None:
            print("the Numba kernels cannot run here; nothing to warm up", file=out)
        return 0.0
    with kernel_mode("serial"):
        for dtype in dtypes:
            for name, call in _calls(dtype):
                began = time.perf_counter()
                call()
                if out is not None:
                    print(f"  {dtype:<8} {name:<38} {time.perf_counter() - began:6.2f} s", file=out)
    return time.perf_counter() - start


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m autograd_core.kernels.warmup [--dtype float64] [--verbose]``."""
    parser = argparse.ArgumentParser(
        prog="python -m autograd_core.kernels.warmup",
        description="Compile every Numba kernel of chainrule once (a few seconds each, about 20 s "
                    "in all on a 2-core machine), so later processes load them from the disk cache.")
    parser.add_argument("--dtype", action="append", choices=["float64", "float32"],
                        help="only this dtype (repeatable; default both)")
    parser.add_argument("--verbose", action="store_true", help="print each kernel call and its time")
    args = parser.parse_args(argv)
    dtypes = args.dtype or ["float64", "float32"]
    # This command says what it does itself. (Run as `python -m`, this file is `__main__`; the
    # dispatcher's listener belongs to the module under its own name.)
    from autograd_core.kernels import warmup as imported
    imported._announced = True
    print(f"compiling (or loading from the cache) chainrule's Numba kernels for {', '.join(dtypes)}: "
          "about 20 s the first time, under a second once cached", flush=True)
    seconds = warm_up(dtypes, out=sys.stdout if args.verbose else None)
    print(f"Numba kernels ready ({', '.join(dtypes)}) in {seconds:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
