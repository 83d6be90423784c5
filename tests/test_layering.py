"""The packages' layering: `autograd_core` is the engine and knows nothing above it.

    chainrule  (the face: re-exports, the command, the lecture's w52 network)
      nn, viz  (networks and pictures, built on the engine)
        autograd_core  (the engine: imports none of the packages above)

Three checks: the engine's sources name no upper package (static, with the file and line), importing
every engine module loads no upper package (at run time, in a fresh interpreter), and the face
works: `import chainrule` gives the installed version and `chainrule --version` prints it.
"""

from __future__ import annotations

import ast
import importlib.metadata
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CORE = REPO / "autograd_core"
UPPER = ("nn", "viz", "chainrule")  # the packages the engine must not import


def upper_imports(source: str, filename: str) -> list[str]:
    """Every absolute import of an upper package in `source`, as 'file:line: statement'."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue  # relative imports stay inside autograd_core
        for name in names:
            if name.split(".")[0] in UPPER:
                found.append(f"{filename}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_upper_imports_finds_every_spelling():
    source = ("import nn\nimport os, viz.graph\nfrom nn.layers import Linear\nfrom viz import save_svg\n"
              "import chainrule.w52 as w\nfrom chainrule import cli\n"
              "import numpy, nnx, vizier\nfrom . import nn\nfrom .viz import x\nfrom autograd_core import nn\n")
    assert [hit.split(":")[1] for hit in upper_imports(source, "f.py")] == ["1", "2", "3", "4", "5", "6"]


def test_the_engine_sources_import_no_upper_package():
    modules = sorted(CORE.rglob("*.py"))
    assert CORE / "__init__.py" in modules and CORE / "kernels" / "__init__.py" in modules
    offenders = [hit for path in modules if "__pycache__" not in path.parts
                 for hit in upper_imports(path.read_text(encoding="utf-8"), str(path.relative_to(REPO)))]
    assert offenders == [], "autograd_core must not import nn, viz or chainrule:\n" + "\n".join(offenders)


# Run in a fresh interpreter: this test process has long since imported nn and viz.
IMPORT_EVERY_ENGINE_MODULE = """
import importlib, json, pkgutil, sys
import autograd_core, autograd_core.kernels
imported = ["autograd_core", "autograd_core.kernels"]
for info in pkgutil.walk_packages(autograd_core.__path__, "autograd_core."):
    importlib.import_module(info.name)
    imported.append(info.name)
upper = sorted(name for name in sys.modules if name.split(".")[0] in ("nn", "viz", "chainrule"))
print(json.dumps({"imported": imported, "upper": upper}))
"""


def test_importing_every_engine_module_loads_no_upper_package():
    result = subprocess.run([sys.executable, "-c", IMPORT_EVERY_ENGINE_MODULE], capture_output=True,
                            text=True, cwd=REPO)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    assert {"autograd_core.value", "autograd_core.tensor", "autograd_core.kernels.dispatch"} <= set(
        report["imported"]), report["imported"]
    assert report["upper"] == [], f"importing autograd_core loaded {report['upper']}"


def test_import_chainrule_gives_the_installed_version_and_stays_light():
    script = ("import sys, chainrule as cr\n"
              "print(cr.__version__)\n"
              "print('numba' in sys.modules, 'nn' in sys.modules, 'viz' in sys.modules)\n"
              "print(cr.Value(2.0).data, cr.nn.MLP.__name__, cr.viz.draw_graph.__name__)\n"
              "print(all(callable(f) for f in (cr.Tensor, cr.no_grad, cr.trace_backward, cr.gradcheck)))\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stderr
    version, heavy, used, callables = result.stdout.splitlines()
    assert version == importlib.metadata.version("chainrule")
    assert heavy == "False False False", "import chainrule must not import numba, nn or viz up front"
    assert used == "2.0 MLP draw_graph" and callables == "True"


def test_unknown_names_are_refused_clearly():
    import chainrule

    with pytest.raises(AttributeError, match="module 'chainrule' has no attribute 'Valu'"):
        chainrule.Valu  # noqa: B018
    assert {"nn", "viz", "Value", "Tensor", "__version__"} <= set(dir(chainrule))


@pytest.mark.parametrize("command", [["-m", "chainrule"], ["-m", "chainrule.cli"]])
def test_chainrule_version_prints_the_installed_version(command):
    result = subprocess.run([sys.executable, *command, "--version"], capture_output=True, text=True,
                            cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"chainrule {importlib.metadata.version('chainrule')}"


def test_the_console_script_prints_the_version_and_describes_every_subcommand():
    script = Path(sys.executable).parent / "chainrule"
    if not script.exists():
        pytest.skip(f"no console script beside {sys.executable} (not an installed environment)")
    version = subprocess.run([str(script), "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.strip() == f"chainrule {importlib.metadata.version('chainrule')}"
    text = subprocess.run([str(script), "--help"], capture_output=True, text=True, check=True).stdout
    described = {line.split()[0] for line in text.splitlines() if line.startswith("    ") and len(line.split()) > 1}
    assert {"w52", "train"} <= described, text
