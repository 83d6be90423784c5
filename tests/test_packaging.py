"""The built wheel: it must hold every module of the four packages and the shipped data, and
work on its own. The test environment is an editable install, which serves files straight from
the checkout, so only building and importing the real wheel shows what a `pip install` gets."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("autograd_core", "nn", "viz", "chainrule")

# Left out of the copy the wheel is built from: a stale build/lib in the checkout would otherwise
# put modules into the wheel that the sources no longer have (setuptools reuses build/).
BUILD_LEFTOVERS = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__",
                                         ".hypothesis", ".pytest_cache", ".ipynb_checkpoints")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    source = tmp_path_factory.mktemp("source") / "chainrule"
    shutil.copytree(REPO, source, ignore=BUILD_LEFTOVERS)
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "--quiet", "--wheel-dir", str(out), str(source)], check=True, capture_output=True)
    (built,) = out.glob("chainrule-*.whl")
    return built


def test_the_wheel_holds_every_module_and_the_iris_data(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {str(path.relative_to(REPO)) for package in PACKAGES
                for path in (REPO / package).rglob("*.py") if "__pycache__" not in path.parts}
    assert expected, "no package modules found"
    assert sorted(expected - names) == []
    shipped = {name for name in names if name.endswith(".py") and name.split("/")[0] in PACKAGES}
    assert sorted(shipped - expected) == [], "the wheel ships modules the checkout does not have"
    assert "nn/datasets/iris.csv" in names
    assert not any(name.startswith(("tests/", "notebooks/", "benchmarks/")) for name in names)


def test_the_unpacked_wheel_runs_without_the_checkout(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    script = ("import autograd_core, nn, viz, chainrule\n"
              "from autograd_core import Tensor\n"
              "from nn.data import load_iris\n"
              "from chainrule.cli import main\n"
              "print(autograd_core.__file__)\n"
              "print(chainrule.__file__)\n"
              "print('version', chainrule.__version__)\n"
              "main(['train', 'iris', '--epochs', '3'])\n")
    # The wheel's copy comes first on the path, ahead of the editable install's finder.
    env = dict(os.environ, PYTHONPATH=str(site), CHAINRULE_NUMBA="0")
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    core_file, chainrule_file, version_line, *rest = result.stdout.splitlines()
    assert Path(core_file).is_relative_to(site) and Path(chainrule_file).is_relative_to(site)
    assert version_line == f"version {wheel.name.split('-')[1]}"  # the version the wheel was built with
    assert any(line.startswith("iris: test accuracy") for line in rest)
