"""Execute the teaching notebooks top to bottom in a fresh kernel of this interpreter.

    .venv/bin/python notebooks/run_notebooks.py [NAME.ipynb ...]    re-run and save in place

With no names, every notebook in this folder. tests/test_notebooks.py runs them the same way
(without saving), so a notebook that passes there looks here as it will in CI.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient

NOTEBOOK_DIR = Path(__file__).resolve().parent
REPO_ROOT = NOTEBOOK_DIR.parent
CELL_TIMEOUT_S = 120


def python3_kernel_manager() -> KernelManager:
    """A manager for the "python3" kernel of *this* interpreter's ipykernel.

    With no kernel directories, jupyter_client falls back to ipykernel's built-in spec, whose
    command is ``sys.executable``; a "python3" spec installed elsewhere on the machine (another
    Python, another environment) therefore cannot be picked up instead.
    """
    return KernelManager(kernel_name="python3", kernel_spec_manager=KernelSpecManager(kernel_dirs=[]))


def execute(notebook: nbformat.NotebookNode) -> None:
    """Run every cell of `notebook` in place, from the notebooks folder, with this checkout on
    the kernel's path (so it imports chainrule from here even when it is not pip-installed).
    Raises nbclient's CellExecutionError, naming the cell, on the first error."""
    inherited = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), inherited]))
    try:
        NotebookClient(notebook, km=python3_kernel_manager(), timeout=CELL_TIMEOUT_S, allow_errors=False,
                       record_timing=False, resources={"metadata": {"path": str(NOTEBOOK_DIR)}}).execute()
    finally:
        if inherited is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = inherited


def main(names: list[str]) -> int:
    paths = [NOTEBOOK_DIR / name for name in names] or sorted(NOTEBOOK_DIR.glob("*.ipynb"))
    for path in paths:
        notebook = nbformat.read(path, as_version=4)
        execute(notebook)
        nbformat.write(notebook, path)
        print(f"executed and saved {path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
