"""The teaching notebooks: each runs top to bottom in a fresh kernel, and the committed copies
carry their outputs (so the graphs and plots show on a code host) without machine-specific paths.

Every notebook asserts its key numbers against an independent computation in its own cells,
so executing it is the test: a wrong number raises in the kernel and fails here.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = REPO_ROOT / "notebooks"
sys.path.insert(0, str(NOTEBOOK_DIR))
from run_notebooks import execute, python3_kernel_manager  # noqa: E402  (the same runner as `make notebooks`)

NOTEBOOKS = [
    "01_chain_rule_warmups.ipynb",
    "02_w52.ipynb",
    "03_moons_scalar_mlp.ipynb",
    "04_iris_4443.ipynb",
    "05_regression_to_xor.ipynb",
    "06_tensor_path.ipynb",
    "07_second_derivatives.ipynb",
]
NOTEBOOK_BUDGET_S = 60  # each notebook runs top to bottom in under a minute (the budget)
MAX_NOTEBOOK_BYTES = 2 * 1024 * 1024
# Text that would only appear in an output produced on one particular machine.
MACHINE_SPECIFIC = (str(REPO_ROOT), "/home/", "/Users/", "/tmp/", "/work/", "site-packages", "C:\\")


def _read(name: str) -> nbformat.NotebookNode:
    path = NOTEBOOK_DIR / name
    assert path.is_file(), f"notebook {name} is missing from {NOTEBOOK_DIR.name}/"
    return nbformat.read(path, as_version=4)


def _code_cells(notebook: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def test_the_kernel_is_this_interpreters_ipykernel() -> None:
    argv = python3_kernel_manager().kernel_spec.argv
    assert argv[0] == sys.executable and argv[1:3] == ["-m", "ipykernel_launcher"], argv


def test_every_notebook_in_the_folder_is_tested() -> None:
    assert sorted(path.name for path in NOTEBOOK_DIR.glob("*.ipynb")) == sorted(NOTEBOOKS)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_top_to_bottom_in_a_fresh_kernel(name: str) -> None:
    notebook = _read(name)
    started = time.monotonic()
    execute(notebook)  # raises CellExecutionError, with the cell and its traceback, on any error
    elapsed = time.monotonic() - started
    assert elapsed < NOTEBOOK_BUDGET_S, f"{name} took {elapsed:.0f} s, over its {NOTEBOOK_BUDGET_S} s budget"
    errors = [output for cell in _code_cells(notebook) for output in cell.outputs
              if output.output_type == "error"]
    assert not errors, f"{name}: {errors}"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_committed_notebook_was_executed_top_to_bottom(name: str) -> None:
    cells = _code_cells(_read(name))
    assert cells, f"{name} has no code cells"
    counts = [cell.execution_count for cell in cells]
    # One uninterrupted run in a fresh kernel numbers the code cells 1, 2, 3, ...
    assert counts == list(range(1, len(cells) + 1)), f"{name}: execution counts {counts}"
    assert any(cell.outputs for cell in cells), f"{name} has no outputs"
    errors = [output.get("ename") for cell in cells for output in cell.outputs if output.output_type == "error"]
    assert not errors, f"{name} was committed with errors: {errors}"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_committed_pictures_are_pictures(name: str) -> None:
    # A figure or graph that Jupyter could not render shows only its repr, e.g. "<Figure size
    # 640x480 with 1 Axes>", and a code host would show no picture.
    bare_reprs = [output.data["text/plain"] for cell in _code_cells(_read(name)) for output in cell.outputs
                  if output.output_type in ("execute_result", "display_data")
                  and set(output.data) == {"text/plain"}
                  and output.data["text/plain"].startswith("<") and output.data["text/plain"].endswith(">")]
    assert not bare_reprs, f"{name} shows objects without a picture: {bare_reprs}"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_committed_notebook_is_small_and_machine_independent(name: str) -> None:
    text = (NOTEBOOK_DIR / name).read_text(encoding="utf-8")
    size = len(text.encode("utf-8"))
    assert size < MAX_NOTEBOOK_BYTES, f"{name} is {size / 2**20:.2f} MiB (limit 2 MiB)"
    found = [marker for marker in MACHINE_SPECIFIC if marker in text]
    assert not found, f"{name} contains machine-specific text {found}"
