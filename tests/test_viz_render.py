"""Rendering through both renderers: Graphviz's `dot` executable when it is on PATH, pygraphviz
in-process otherwise, and one clear error when neither can run. `graphviz.ExecutableNotFound`
must never reach a user."""

from __future__ import annotations

import shutil
import sys
import xml.etree.ElementTree as ET

import graphviz
import pytest

from autograd_core import Value
from conftest import missing_system_tool
from viz import GradientGraph, RendererUnavailableError, draw_graph, save_svg
from viz.render import choose_renderer, render_source

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

    monkeypatch.setattr(graphviz, "pipe", must_not_run)


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


def test_the_executable_vanishing_after_the_path_check_falls_back(monkeypatch):
    monkeypatch.setattr("viz.render.executable_available", lambda engine="dot": True)

    def vanished(*args, **kwargs):
        raise graphviz.ExecutableNotFound(["dot"])

    monkeypatch.setattr(graphviz, "pipe", vanished)
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
