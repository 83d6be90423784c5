"""The first use of a kernel says when it must compile, and `kernels.warmup` compiles them all.

Each process here gets its own empty NUMBA_CACHE_DIR, so "no cache yet" is real.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from autograd_core.kernels import warmup

REPO = Path(__file__).resolve().parents[1]

# Every kernel family, at sizes where "auto" mode runs the Numba kernels.
EVERY_KERNEL = """
    import numpy as np
    from autograd_core import Tensor
    from nn import functional as F
    x = Tensor(np.linspace(-3.0, 3.0, 20_000).reshape(200, 100), requires_grad=True)
    b = Tensor(np.zeros(100), requires_grad=True)
    for activation in ("tanh", "sigmoid", "relu", "leaky_relu", "elu"):
        getattr(x, activation)().sum().backward()
    F.cross_entropy(x + b, np.arange(200) % 100).backward()
    x.softmax(axis=1).log().sum().backward()
"""


def run(code: str, cache: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "NUMBA_CACHE_DIR": str(cache)}
    env.pop("CHAINRULE_NUMBA", None)
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, cwd=REPO,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result


def test_a_process_that_compiles_says_so_once_and_a_warm_cache_says_nothing(tmp_path):
    cache = tmp_path / "cache"
    first_use = """
        import numpy as np
        from autograd_core import Tensor
        x = Tensor(np.ones(10_000), requires_grad=True)
        x.tanh().sum().backward()   # compiles the activation kernel
        x.softmax(axis=0).sum().backward()   # and the softmax ones: still one line
    """
    cold = run(first_use, cache)
    lines = cold.stderr.splitlines()
    assert len(lines) == 1, cold.stderr
    assert lines[0].startswith("chainrule: compiling a Numba kernel for this machine")
    assert "1-4 s per kernel" in lines[0] and "python -m autograd_core.kernels.warmup" in lines[0]
    assert run(first_use, cache).stderr == ""  # the same work again loads from the cache

    warm = subprocess.run([sys.executable, "-m", "autograd_core.kernels.warmup", "--dtype", "float64"],
                          env={**os.environ, "PYTHONPATH": str(REPO), "NUMBA_CACHE_DIR": str(cache)},
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert warm.returncode == 0 and warm.stderr == "", warm.stderr
    assert warm.stdout.splitlines()[-1].startswith("Numba kernels ready (float64) in ")
    assert run(EVERY_KERNEL, cache).stderr == ""  # after the warm-up nothing compiles


def test_the_notice_is_printed_once_per_process():
    stream = io.StringIO()
    before = warmup._announced
    warmup._announced = False
    try:
        warmup._notify("activation_forward_serial", stream)
        warmup._notify("softmax_serial", stream)
    finally:
        warmup._announced = before
    assert stream.getvalue().count("\n") == 1 and "activation_forward_serial" in stream.getvalue()


def test_warm_up_calls_every_serial_driver():
    from autograd_core.kernels import compiled_kernels, kernel_mode

    called = set()
    kernels = compiled_kernels()
    drivers = {name for name in vars(kernels) if name.endswith("_serial")}
    for _, call in warmup._calls("float64"):
        real = {name: getattr(kernels, name) for name in drivers}
        try:
            for name in drivers:
                setattr(kernels, name, (lambda name: lambda *args: called.add(name) or 0.0)(name))
            with kernel_mode("serial"):
                try:
                    call()
                except Exception:  # the stand-ins return nothing; only the route matters here
                    pass
        finally:
            for name, function in real.items():
                setattr(kernels, name, function)
    assert called == drivers
