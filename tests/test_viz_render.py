"""Rendering through both renderers: Graphviz's `dot` executable when it is on PATH, pygraphviz
otherwise, and one clear error when neither can run (`graphviz.ExecutableNotFound` must never
reach a user); the time limit; the Jupyter bundle's PNG; `save` by suffix; fontconfig's silence."""

from __future__ import annotations

import shutil
import sys
import xml.etree.ElementTree as ET

import graphviz
import pytest

from autograd_core import Value
from conftest import missing_system_tool
import viz.render
from viz import GradientGraph, RenderTimeoutError, RendererUnavailableError, draw_graph, save, save_svg
from viz.render import choose_renderer, render_images, render_jobs, render_source

SVG = "{http://www.w3.org/2000/svg}"
DOT_ON_PATH = shutil.which("dot") is not None


def small_graph() -> Value:
    a, b = Value(2.0, "a"), Value(-3.0, "b")
    out = (a * b + a).tanh()
    out.label = "out"
    out.backward()
    return out


def svg_titles(svg: bytes) -> set[str]:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return {g.find(f"{SVG}title").text for g in root.iter(f"{SVG}g")
            if "node" in g.get("class", "").split()}


EXPECTED_TITLES = {"n0", "n1", "n2", "n2_op", "n3", "n3_op", "n4", "n4_op"}


@pytest.fixture
def no_dot(monkeypatch, tmp_path):
    """A PATH without Graphviz's executables, and a tripwire should anything still call one."""
    monkeypatch.setenv("PATH", str(tmp_path))
    assert shutil.which("dot") is None

    def must_not_run(*args, **kwargs):
        raise AssertionError("the dot executable was called although it is not on PATH")

    monkeypatch.setattr(viz.render, "_run_executable", must_not_run)


@pytest.fixture
def no_pygraphviz(monkeypatch):
    """pygraphviz as if it were not installed: importing it raises ImportError."""
    monkeypatch.setitem(sys.modules, "pygraphviz", None)
    with pytest.raises(ImportError):
        import pygraphviz  # noqa: F401


# -- pygraphviz, in-process: tested on every machine ------------------------------------------


def test_without_dot_everything_renders_through_pygraphviz(no_dot, tmp_path):
    root = small_graph()
    assert choose_renderer() == "pygraphviz"
    graph = draw_graph(root)

    assert svg_titles(graph.pipe(format="svg")) == EXPECTED_TITLES
    assert graph.last_renderer == "pygraphviz"
    assert svg_titles(graph.pipe(format="svg", encoding="utf-8").encode()) == EXPECTED_TITLES
    assert svg_titles(graph._repr_svg_().encode()) == EXPECTED_TITLES
    assert svg_titles(graph._repr_mimebundle_()["image/svg+xml"].encode()) == EXPECTED_TITLES
    assert graph._repr_mimebundle_(include=["image/png"])["image/png"].startswith(b"\x89PNG")

    path = save_svg(root, tmp_path / "graph.svg")
    assert svg_titles(path.read_bytes()) == EXPECTED_TITLES

    rendered = graph.render(outfile=tmp_path / "out.svg")
    assert rendered == str(tmp_path / "out.svg")
    assert svg_titles((tmp_path / "out.svg").read_bytes()) == EXPECTED_TITLES
    assert (tmp_path / "out.gv").read_text() == graph.source

    png = graph.render("g", directory=tmp_path, format="png", cleanup=True)
    assert png == str(tmp_path / "g.png")
    assert (tmp_path / "g.png").read_bytes().startswith(b"\x89PNG")
    assert not (tmp_path / "g").exists()  # cleanup removed the DOT source


def test_save_svg_accepts_a_drawn_graph_or_any_graphviz_graph(no_dot, tmp_path):
    graph = draw_graph(small_graph())
    assert svg_titles(save_svg(graph, tmp_path / "a.svg").read_bytes()) == EXPECTED_TITLES
    plain = graphviz.Digraph()
    plain.edge("x", "y")
    assert svg_titles(save_svg(plain, tmp_path / "b.svg").read_bytes()) == {"x", "y"}


def test_the_executable_vanishing_after_the_path_check_falls_back(monkeypatch, tmp_path):
    # PATH names an executable that cannot be started (gone, or a broken install).
    monkeypatch.setattr("viz.render.executable_available", lambda engine="dot": True)
    monkeypatch.setattr("viz.render.shutil.which", lambda name: str(tmp_path / "missing" / name))
    svg, used = render_source(draw_graph(small_graph()).source, "svg")
    assert used == "pygraphviz"
    assert svg_titles(svg) == EXPECTED_TITLES


# -- the dot executable --------------------------------------------------------------------------


def test_the_default_renderer_is_dot_exactly_when_it_is_on_path():
    graph = draw_graph(small_graph())
    assert svg_titles(graph.pipe(format="svg")) == EXPECTED_TITLES
    # Explicit both ways: where dot is absent the fallback must have been used.
    assert graph.last_renderer == ("dot" if DOT_ON_PATH else "pygraphviz")


def test_dot_renders_without_pygraphviz(no_pygraphviz, tmp_path):
    if not DOT_ON_PATH:
        missing_system_tool("Graphviz's dot executable is absent on this machine (apt-get install "
                            "graphviz; the pygraphviz renderer is tested unconditionally above)")
    root = small_graph()
    assert choose_renderer() == "dot"
    graph = draw_graph(root)
    assert svg_titles(graph.pipe(format="svg")) == EXPECTED_TITLES
    assert graph.last_renderer == "dot"
    assert svg_titles(save_svg(root, tmp_path / "graph.svg").read_bytes()) == EXPECTED_TITLES
    assert svg_titles(graph._repr_svg_().encode()) == EXPECTED_TITLES


# -- neither -------------------------------------------------------------------------------------


def test_without_either_renderer_one_clear_error_names_both_fixes(no_dot, no_pygraphviz, tmp_path):
    graph = draw_graph(small_graph())
    calls = [
        lambda: save_svg(graph, tmp_path / "graph.svg"),
        lambda: graph.pipe(format="svg"),
        lambda: graph._repr_mimebundle_(),
        lambda: graph.render(outfile=tmp_path / "out.svg"),
    ]
    for call in calls:
        with pytest.raises(RendererUnavailableError) as caught:
            call()
        message = str(caught.value)
        assert "`dot` executable is not on PATH" in message
        assert "graphviz.org" in message and 'pip install "pygraphviz>=2.0"' in message
        assert not isinstance(caught.value, graphviz.ExecutableNotFound)
    assert not (tmp_path / "graph.svg").exists()


# -- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs, pattern", [
    ({"format": "svgg"}, "unknown Graphviz output format 'svgg'"),
    ({"engine": "dott"}, "unknown Graphviz layout engine 'dott'"),
    ({"format": "svg", "formatter": "cairo"}, "formatter 'cairo' needs a renderer"),
])
def test_bad_render_options_are_refused(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        render_source("digraph { a -> b }", **kwargs)


def test_bad_dot_source_is_reported_by_the_fallback(no_dot):
    with pytest.raises(ValueError, match="pygraphviz could not parse the DOT source"):
        render_source("digraph { a -> }")
    with pytest.raises(TypeError, match="DOT source must be a str"):
        render_source(b"digraph {}")


def test_save_svg_refuses_bad_paths(tmp_path):
    root = small_graph()
    with pytest.raises(ValueError, match=r"must end in \.svg.*graph\.png"):
        save_svg(root, tmp_path / "graph.png")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        save_svg(root, tmp_path / "missing" / "graph.svg")
    with pytest.raises(TypeError, match="path must be a str or a path"):
        save_svg(root, 42)


def test_neato_no_op_is_refused_clearly():
    with pytest.raises(ValueError, match="neato_no_op is not supported"):
        draw_graph(small_graph()).pipe(format="svg", neato_no_op=2)


def test_a_copied_graph_keeps_the_fallback(no_dot):
    copy = draw_graph(small_graph()).copy()
    assert isinstance(copy, GradientGraph)
    assert svg_titles(copy.pipe(format="svg")) == EXPECTED_TITLES


# -- the Jupyter bundle, save, dpi -----------------------------------------------------------------


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(PNG_SIGNATURE)
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


@pytest.mark.parametrize("dot_present", [True, False])
def test_the_display_bundle_carries_a_png_beside_the_svg(dot_present, monkeypatch, tmp_path):
    if not dot_present:
        monkeypatch.setenv("PATH", str(tmp_path))
    graph = draw_graph(small_graph())
    bundle = graph._repr_mimebundle_()
    assert set(bundle) == {"image/svg+xml", "image/png"}
    assert svg_titles(bundle["image/svg+xml"].encode()) == EXPECTED_TITLES
    assert png_size(bundle["image/png"])[0] > 100
    assert graph.last_renderer == "pygraphviz"  # in-process Graphviz, whether or not dot exists
    assert set(graph._repr_mimebundle_(include=["image/png"])) == {"image/png"}
    assert set(graph._repr_mimebundle_(exclude=["image/png"])) == {"image/svg+xml"}
    assert graph._repr_mimebundle_(include=[]) == {}


def test_a_huge_drawing_gets_a_png_of_bounded_size(monkeypatch):
    monkeypatch.setattr(viz.render, "MAX_BUNDLE_PNG_SIDE", 300)
    graph = draw_graph(small_graph())
    bundle = graph._repr_mimebundle_()
    width, height = png_size(bundle["image/png"])
    assert max(width, height) <= 301
    full = render_images(graph.source, ("svg", "png"), max_png_side=None)
    assert max(png_size(full["png"])) > 301


def test_save_writes_by_suffix(tmp_path):
    root = small_graph()
    assert svg_titles(save(root, tmp_path / "g.svg").read_bytes()) == EXPECTED_TITLES
    assert (tmp_path / "g.pdf") == save(root, tmp_path / "g.pdf")
    assert (tmp_path / "g.pdf").read_bytes().startswith(b"%PDF")
    at_96 = png_size(save(root, tmp_path / "a.png").read_bytes())
    at_192 = png_size(save(root, tmp_path / "b.png", dpi=192).read_bytes())
    assert abs(at_192[0] - 2 * at_96[0]) <= 2 and abs(at_192[1] - 2 * at_96[1]) <= 2
    # Drawing options pass through to draw_graph; a drawn graph is saved as it is.
    themed = save(root, tmp_path / "dark.svg", theme="dark", legend=False).read_text()
    assert "#1e1e1e" in themed
    assert svg_titles(save(draw_graph(root), tmp_path / "drawn.svg").read_bytes()) == EXPECTED_TITLES


def test_save_refuses_bad_requests(tmp_path):
    root = small_graph()
    with pytest.raises(ValueError, match=r"\.svg, \.png or \.pdf.*graph\.jpg"):
        save(root, tmp_path / "graph.jpg")
    with pytest.raises(ValueError, match="dpi applies to a .png"):
        save(root, tmp_path / "graph.svg", dpi=300)
    with pytest.raises(ValueError, match="dpi must be between"):
        save(root, tmp_path / "graph.png", dpi=0)
    with pytest.raises(TypeError, match="drawing options .theme. apply to a root"):
        save(draw_graph(root), tmp_path / "graph.svg", theme="dark")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        save(root, tmp_path / "missing" / "graph.png")


# -- the time limit --------------------------------------------------------------------------------


def slow_source() -> str:
    """DOT that takes dot several seconds: 3,000 nodes fed by one node from ranks 1..1000 apart."""
    lines = ["digraph { x;"]
    for i in range(1000):
        lines.append(f"x -> p{i}; p{i} -> s{i};" + (f" s{i - 1} -> s{i};" if i else ""))
    return "\n".join(lines) + "}"


@pytest.mark.parametrize("prefer", ["pygraphviz", "dot"])
def test_a_render_stops_at_its_time_limit_and_says_so(prefer):
    import multiprocessing
    import time

    if prefer == "dot" and not DOT_ON_PATH:
        missing_system_tool("Graphviz's dot executable is absent on this machine")
    start = time.perf_counter()
    with pytest.raises(RenderTimeoutError, match=r"stopped after the time limit of 0\.5 s.*collapse.*focus.*timeout="):
        render_source(slow_source(), "svg", timeout=0.5, prefer=prefer)
    assert time.perf_counter() - start < 5
    assert multiprocessing.active_children() == []  # the stopped worker is gone


def test_the_spawned_worker_renders_and_stops_too(monkeypatch):
    # The worker off Linux is a fresh interpreter; exercise it here as well.
    import time

    monkeypatch.setattr(viz.render, "WORKER_START", "spawn")
    svg, used = render_source(draw_graph(small_graph()).source, "svg", prefer="pygraphviz")
    assert used == "pygraphviz" and svg_titles(svg) == EXPECTED_TITLES
    with pytest.raises(ValueError, match="pygraphviz could not parse the DOT source"):
        render_source("digraph { a -> }", prefer="pygraphviz")
    start = time.perf_counter()
    with pytest.raises(RenderTimeoutError):
        render_source(slow_source(), "svg", timeout=0.5, prefer="pygraphviz")
    assert time.perf_counter() - start < 5


def test_graph_timeout_is_used_by_pipe_and_overridable():
    graph = draw_graph(small_graph(), timeout=7)
    assert graph.timeout == 7.0
    assert svg_titles(graph.pipe(format="svg", timeout=None)) == EXPECTED_TITLES
    with pytest.raises(ValueError, match="timeout must be a positive number"):
        render_jobs("digraph {a}", [("svg", None)], timeout=0)


# -- fontconfig ------------------------------------------------------------------------------------


def test_no_fontconfig_warning_reaches_stderr(tmp_path):
    # In a fresh interpreter, as a user's first drawing: every pygraphviz path, PNG included.
    code = (
        "from autograd_core import Value\n"
        "from viz import draw_graph, save\n"
        "import os\n"
        "x = Value(2.0, 'x'); y = (x * 3).tanh(); y.label = 'y'; y.backward()\n"
        "g = draw_graph(y)\n"
        "bundle = g._repr_mimebundle_()\n"
        f"save(y, {str(tmp_path / 'y.png')!r}); save(y, {str(tmp_path / 'y.pdf')!r})\n"
        "print(len(bundle['image/png']) > 0, 'FONTCONFIG_FILE' in os.environ)\n"
    )
    import os
    import subprocess

    env = {k: v for k, v in os.environ.items() if not k.startswith("FONTCONFIG")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          cwd=str(REPO), timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "False"]  # the parent's environment is untouched
    assert "Fontconfig" not in done.stderr and done.stderr.strip() == ""


def test_the_fontconfig_file_is_minimal_and_valid():
    import xml.etree.ElementTree as ElementTree

    text = viz.render.fontconfig_text()
    root = ElementTree.fromstring(text.split("\n", 2)[2])  # after the XML and DOCTYPE lines
    assert root.tag == "fontconfig"
    assert {child.tag for child in root} == {"dir", "cachedir", "alias"}  # no reset-dirs
    if sys.platform.startswith("linux"):
        path = viz.render.fontconfig_file()
        assert path is not None and open(path).read() == text


REPO = __import__("pathlib").Path(__file__).resolve().parents[1]
