"""The README as a newcomer reads it: every Python snippet runs as written and prints what the
README says it prints; its commands exist; the classes' help() examples run.

Each snippet runs in a fresh interpreter in an empty temporary folder (so files it writes,
such as neuron.svg, land there), with a time limit. A ```python block followed by a ```text
block (with at most the word "prints" between them) must print exactly that text.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
SNIPPET_TIMEOUT_S = 180

FENCE = re.compile(r"^```(\w*)\n(.*?)^```\n", re.MULTILINE | re.DOTALL)


def fenced_blocks(text: str) -> list[tuple[str, str, int, int]]:
    """(language, body, start, end) of every fenced block of `text`, in order."""
    return [(m.group(1), m.group(2), m.start(), m.end()) for m in FENCE.finditer(text)]


def python_snippets(text: str) -> list[tuple[int, str, str | None]]:
    """(line number, code, expected output or None) of every ```python block."""
    blocks = fenced_blocks(text)
    snippets = []
    for index, (language, body, start, end) in enumerate(blocks):
        if language != "python":
            continue
        expected = None
        if index + 1 < len(blocks):
            next_language, next_body, next_start, _ = blocks[index + 1]
            between = text[end:next_start].strip()
            if next_language == "text" and between in ("", "prints"):
                expected = next_body
        snippets.append((text.count("\n", 0, start) + 1, body, expected))
    return snippets


def run_python(code: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=SNIPPET_TIMEOUT_S)


def normalized(output: str) -> list[str]:
    """Lines without trailing blanks, and no trailing empty lines."""
    return [line.rstrip() for line in output.rstrip().splitlines()]


SNIPPETS = python_snippets(README.read_text())


def test_the_readme_has_the_snippets_this_file_expects():
    assert len(SNIPPETS) >= 4
    assert sum(expected is not None for _, _, expected in SNIPPETS) >= 4
    assert any("import chainrule as cr" in code for _, code, _ in SNIPPETS)


@pytest.mark.parametrize("line, code, expected", SNIPPETS, ids=[f"line {line}" for line, _, _ in SNIPPETS])
def test_every_python_snippet_runs_as_written_and_prints_what_the_readme_says(tmp_path, line, code, expected):
    result = run_python(code, tmp_path)
    assert result.returncode == 0, f"README.md line {line}:\n{result.stderr}"
    if expected is not None:
        assert normalized(result.stdout) == normalized(expected), f"README.md line {line}"
    for name in re.findall(r'(?:save_svg\(\w+, |\.save\()"([^"]+)"', code):
        written = tmp_path / (name if Path(name).suffix else name + ".npz")
        assert written.stat().st_size > 0, f"README.md line {line}: {written.name} was not written"


def test_the_readme_starts_with_the_two_commands_and_make_knows_them():
    text = README.read_text()
    language, body, _, _ = fenced_blocks(text)[0]
    assert language == "bash"
    commands = [line.split("#")[0].strip() for line in body.splitlines()]
    assert commands == ["make demo", "make test"]
    assert text.index("```bash") < text.index("\n## ")  # the very first thing after the title
    for target in ("demo", "test"):
        dry_run = subprocess.run(["make", "-n", target], cwd=REPO, capture_output=True, text=True)
        assert dry_run.returncode == 0, dry_run.stderr
    listing = subprocess.run(["make"], cwd=REPO, capture_output=True, text=True)
    assert listing.returncode == 0 and "make demo" in listing.stdout and "make test" in listing.stdout


def test_the_cpu_wheel_is_advice_for_elsewhere_not_an_install_step():
    text = README.read_text()
    assert "pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu" in text
    assert "torch==2.13.0" in (REPO / "pyproject.toml").read_text()
    for path in ("Makefile", "pyproject.toml", ".ci/run"):
        assert "download.pytorch.org" not in (REPO / path).read_text(), path


def test_the_readme_names_what_a_newcomer_needs():
    text = " ".join(README.read_text().split())
    for needed in ("import chainrule as cr", "autograd_core", "`nn`", "`viz`", "define_op",
                   "create_graph=True", "jupyter trust", "Trust Notebook"):
        assert needed in text, needed
    # what the two commands cost here: the environment's size and the time they take
    assert re.search(r"\d+ MB `\.venv`", text) and re.search(r"\d(\.\d)? GB", text)
    assert re.search(r"`make test` .* about \d+ minutes", text)
    for path in ("chainrule/", "nn/scalar/", "nn/functional.py", "autograd_core/ops.py",
                 "autograd_core/derivatives.py", "mathtext.py", "notebooks/"):
        assert f"`{path}" in text, path
    assert (REPO / "notebooks" / "07_second_derivatives.ipynb").exists()
    assert ".venv/bin/jupyter trust notebooks/02_w52.ipynb" in text
    assert (REPO / "notebooks" / "02_w52.ipynb").exists()
    extras = re.findall(r'pip install -e "\.\[(\w+)\]"', text)
    assert extras and all(f"\n{extra} = [" in (REPO / "pyproject.toml").read_text() for extra in extras)


# The classes whose help() a newcomer opens first: each docstring's examples must run.
HELP_EXAMPLES = {
    "autograd_core.value": ["Value"], "autograd_core.tensor": ["Tensor"], "autograd_core.ops": ["Op"],
    "nn.module": ["Module"], "nn.scalar.modules": ["Neuron", "Layer", "MLP"],
    "nn.layers": ["TensorModule", "Linear", "Identity", "Activation", "ReLU", "Tanh", "Sigmoid",
                  "LeakyReLU", "ELU", "Softmax", "Sequential", "TensorMLP"],
    "nn.optim": ["Optimizer", "SGD", "Adam"], "viz.render": ["GradientGraph"], "viz.stepper": ["Stepper"],
}

DOCTEST_RUNNER = textwrap.dedent("""
    import doctest, importlib, json, sys
    targets = json.loads(sys.argv[1])
    finder = doctest.DocTestFinder(recurse=False)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    for module_name, classes in targets.items():
        module = importlib.import_module(module_name)
        for name in classes:
            cls = getattr(module, name)
            first_line = (cls.__doc__ or "").strip().splitlines()[0]
            if len(first_line) < 20:
                sys.exit(f"{module_name}.{name}: the docstring does not open with what it is for")
            tests = finder.find(cls, name, module=module, globs=dict(vars(module)))
            if not tests or not tests[0].examples:
                sys.exit(f"{module_name}.{name}: the docstring has no example")
            for test in tests:
                runner.run(test)
    failed, attempted = runner.summarize(verbose=False)
    sys.exit(1 if failed else 0)
""")


def test_every_public_class_opens_its_help_with_a_working_example(tmp_path):
    import json

    result = subprocess.run([sys.executable, "-c", DOCTEST_RUNNER, json.dumps(HELP_EXAMPLES)],
                            cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO)},
                            capture_output=True, text=True, timeout=SNIPPET_TIMEOUT_S)
    assert result.returncode == 0, result.stdout + result.stderr
