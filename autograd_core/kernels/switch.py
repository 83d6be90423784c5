"""Which implementation the kernel functions use: Numba, numpy, or a size-based choice.

Modes:
- "auto"     : per kernel family, numpy below a measured size, then the serial Numba kernel,
               then the parallel one (thresholds in `autograd_core.kernels.THRESHOLDS`);
- "serial"   : always the serial Numba kernel, whatever the size;
- "parallel" : always the parallel Numba kernel, whatever the size;
- "numpy"    : always the pure numpy reference.
"serial" and "parallel" exist so that tests can run every compiled kernel on small inputs.

The starting mode comes from the environment variable `CHAINRULE_NUMBA`, read once at import:
unset, "1" or "auto" -> "auto"; "0" -> "numpy"; "serial" or "parallel" -> that mode.

The mode is per thread, like grad mode (and PyTorch's): `set_kernel_mode` and `kernel_mode`
change the calling thread's mode only, and every thread starts from the environment's mode, so
overlapping ``with kernel_mode(...)`` blocks in two threads cannot leave each other's mode
behind.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator

MODES = ("auto", "serial", "parallel", "numpy")
ENV_VARIABLE = "CHAINRULE_NUMBA"
_ENV_TO_MODE = {"": "auto", "1": "auto", "auto": "auto", "0": "numpy",
                "serial": "serial", "parallel": "parallel"}


def mode_from_environment(environ: dict[str, str] | os._Environ = os.environ) -> str:
    """Translate the `CHAINRULE_NUMBA` setting into a mode, rejecting unknown values."""
    raw = environ.get(ENV_VARIABLE, "")
    try:
        return _ENV_TO_MODE[raw.strip().lower()]
    except KeyError:
        raise ValueError(f"{ENV_VARIABLE}={raw!r} is not understood; use 0 (numpy only), "
                         "1 or auto (Numba above a size threshold), serial or parallel "
                         "(always that Numba kernel)") from None


class _KernelMode(threading.local):
    """Per-thread mode; the class attribute is every new thread's starting value."""

    mode = mode_from_environment()


THREAD_KERNEL_MODE = _KernelMode()  # `.mode` is this thread's mode (dispatch.route reads it directly)


def get_kernel_mode() -> str:
    """The mode the kernel functions use right now in this thread: "auto", "serial",
    "parallel" or "numpy"."""
    return THREAD_KERNEL_MODE.mode


def set_kernel_mode(mode: str) -> str:
    """Switch this thread's kernel functions to `mode` (one of MODES); return the previous
    mode. Other threads keep theirs."""
    if mode not in MODES:
        raise ValueError(f"unknown kernel mode {mode!r}; expected one of {MODES}")
    previous, THREAD_KERNEL_MODE.mode = THREAD_KERNEL_MODE.mode, mode
    return previous


@contextlib.contextmanager
def kernel_mode(mode: str) -> Iterator[None]:
    """Use `mode` inside the `with` block (in this thread) and restore the previous mode
    afterwards."""
    previous = set_kernel_mode(mode)
    try:
        yield
    finally:
        set_kernel_mode(previous)
