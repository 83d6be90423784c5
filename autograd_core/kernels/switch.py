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
"""

from __future__ import annotations

import contextlib
import os
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


_mode = mode_from_environment()


def get_kernel_mode() -> str:
    """The mode the kernel functions use right now: "auto", "serial", "parallel" or "numpy"."""
    return _mode


def set_kernel_mode(mode: str) -> str:
    """Switch every kernel function to `mode` (one of MODES); return the previous mode."""
    global _mode
    if mode not in MODES:
        raise ValueError(f"unknown kernel mode {mode!r}; expected one of {MODES}")
    previous, _mode = _mode, mode
    return previous


@contextlib.contextmanager
def kernel_mode(mode: str) -> Iterator[None]:
    """Use `mode` inside the `with` block and restore the previous mode afterwards."""
    previous = set_kernel_mode(mode)
    try:
        yield
    finally:
        set_kernel_mode(previous)
