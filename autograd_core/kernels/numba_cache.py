"""Make sure Numba's on-disk cache has somewhere writable to go, before anything compiles.

With `cache=True` Numba stores compiled kernels next to the source (`__pycache__`) or, failing
that, in the user-wide cache directory under HOME. When neither is writable (a read-only
site-packages and a read-only or missing HOME, as in some containers) decorating a function
raises "cannot cache function ...: no locator available". We detect that case up front and
point `NUMBA_CACHE_DIR` at a private directory under the system temp dir. A user's own
`NUMBA_CACHE_DIR` (or custom locator list) always wins: we only act when neither is set.

When not even a temp dir is writable, `NoCacheDirectory` says so and how to fix it; the
dispatcher then runs the numpy references instead of the kernels (with one warning).
"""

from __future__ import annotations

import os
import stat
import sys
import tempfile

CACHE_DIR_VARIABLE = "NUMBA_CACHE_DIR"
LOCATOR_VARIABLE = "NUMBA_CACHE_LOCATOR_CLASSES"


def _probe() -> None:
    """Stand-in function handed to Numba's locators (they read only its code object)."""


def numba_can_cache(source_file: str) -> bool:
    """True when one of Numba's default cache locators accepts `source_file`.

    Uses Numba's own locator classes, so "writable" means exactly what Numba will check;
    if that private API moves, falls back to testing the two directories it documents.
    """
    try:
        from numba.core.caching import _CacheImpl
        locators = list(_CacheImpl._locator_classes)
    except (ImportError, AttributeError):
        return _writable(os.path.join(os.path.dirname(source_file), "__pycache__")) or \
            _writable(os.path.join(os.path.expanduser("~"), ".cache", "numba"))
    return any(locator.from_function(_probe, source_file) is not None for locator in locators)


def _writable(directory: str) -> bool:
    """Can we create `directory` (if needed) and a file inside it?"""
    try:
        os.makedirs(directory, exist_ok=True)
        tempfile.TemporaryFile(dir=directory).close()
    except OSError:
        return False
    return True


class NoCacheDirectory(OSError):
    """No directory where Numba could keep its compiled kernels: the package's, HOME's and
    every temp dir are read-only (or missing)."""


HOW_TO_ENABLE = ("to use the Numba kernels, point the environment variable NUMBA_CACHE_DIR "
                 "at a writable directory before the first tensor operation")


def private_temp_cache_dir() -> str:
    """A per-user cache directory in the temp dir, reused across processes.

    Numba's cache files are pickles, so a directory that another user could have planted
    must never be trusted: we only reuse one we own that nobody else can write to, and
    otherwise make a fresh one with mkdtemp."""
    uid = os.getuid() if hasattr(os, "getuid") else 0
    shared = os.path.join(tempfile.gettempdir(), f"chainrule-numba-cache-{uid}")
    try:
        os.makedirs(shared, mode=0o700, exist_ok=True)
        info = os.lstat(shared)
        owned = stat.S_ISDIR(info.st_mode) and (not hasattr(os, "getuid") or info.st_uid == uid)
        if owned and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH) and _writable(shared):
            return shared
    except OSError:
        pass
    return tempfile.mkdtemp(prefix="chainrule-numba-cache-")


def ensure_numba_cache_dir(source_file: str) -> str | None:
    """Redirect Numba's cache to a temp dir if it could not cache `source_file` otherwise.

    Must run before the kernels module is imported (decorating raises, not compiling).
    Returns the directory chosen, or None when nothing had to change; raises
    `NoCacheDirectory` when there is no writable directory at all.
    """
    if os.environ.get(CACHE_DIR_VARIABLE) or os.environ.get(LOCATOR_VARIABLE):
        return None
    if numba_can_cache(source_file):
        return None
    try:
        directory = private_temp_cache_dir()
    except OSError as error:  # gettempdir's FileNotFoundError, mkdtemp's PermissionError
        raise NoCacheDirectory(f"Numba cannot cache the kernels of {source_file}: neither its "
                               f"folder, nor HOME, nor a temporary directory is writable "
                               f"({error}); {HOW_TO_ENABLE}") from None
    os.environ[CACHE_DIR_VARIABLE] = directory
    # numba.core.config read the environment when numba was imported (numba_can_cache did
    # that); set the live value too, since the locators consult config.CACHE_DIR.
    config = sys.modules.get("numba.core.config")
    if config is not None:
        config.CACHE_DIR = directory
    return directory
