"""Drawings never hang: the two graphs that used to (a 19,700-node MLP loss graph, 65-77 s, and a
2,000-node graph where one leaf feeds 1,000 nodes, past 400 s) come back, drawn or refused, well
within 30 s with both renderers; a refusal takes under a second and says what to do."""

from __future__ import annotations

import time

import pytest

from autograd_core import Value, sum_values, topological_order
from conftest import missing_system_tool
from viz import GraphTooLargeError, draw_graph
from viz.render import executable_available, render_jobs

LIMIT_S = 30.0


def mlp_loss_graph() -> Value:
    """Squared error of a 2-16-16-1 tanh MLP over 30 points, built from Values as nn.MLP builds
    it (b + w_0 x_0 + w_1 x_1 + ..., parameters labelled layers.0.neurons.1.w.2): 19,716 nodes.
    Built here rather than with nn, so that this test depends on the drawing only."""
    sizes = [2, 16, 16, 1]
    params = [[(Value(0.0, f"layers.{i}.neurons.{j}.b"),
                [Value(0.1 * ((i + j + k) % 7) - 0.3, f"layers.{i}.neurons.{j}.w.{k}") for k in range(n_in)])
               for j in range(n_out)] for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:]))]
    terms = []
    for point in range(30):
        h = [Value(0.01 * point, "x[0]"), Value(-0.02 * point, "x[1]")]
        for i, layer in enumerate(params):
            outputs = []
            for b, ws in layer:
                total = b
                for w, x in zip(ws, h):
                    total = total + w * x
                outputs.append(total.tanh() if i < len(params) - 1 else total)
            h = outputs
        terms.append((h[0] - 1.0) ** 2)
    loss = sum_values(terms)
    loss.backward()
    return loss


def fan_out_graph() -> Value:
    """One leaf feeding 1,000 nodes (x, x^2, ..., x^1000) summed in a chain: 2,000 nodes."""
    x = Value(1.0, "x")
    total = sum_values(x ** (i + 1) for i in range(1000))
    total.backward()
    return total


@pytest.fixture(scope="module")
def graphs() -> dict[str, Value]:
    return {"mlp": mlp_loss_graph(), "fan-out": fan_out_graph()}


def test_the_graphs_are_the_sizes_the_issue_measured(graphs):
    assert len(topological_order(graphs["mlp"])) == 19_716  # nn.MLP(2, [16, 16, 1]) over 30 points: the same
    assert len(topological_order(graphs["fan-out"])) == 2000


@pytest.mark.parametrize("renderer", ["dot", "pygraphviz"])
@pytest.mark.parametrize("name", ["mlp", "fan-out"])
def test_large_graphs_come_back_within_30_s(graphs, name, renderer):
    if renderer == "dot" and not executable_available():
        missing_system_tool("Graphviz's dot executable is absent on this machine")
    start = time.perf_counter()
    try:
        graph = draw_graph(graphs[name])
    except GraphTooLargeError as refused:
        assert time.perf_counter() - start < 1.5  # refused quickly (generous for a loaded CI machine)
        assert "focus=node" in str(refused) and "max_nodes=" in str(refused)
        return
    results, used = render_jobs(graph.source, [("svg", None)], prefer=renderer)  # type: ignore[arg-type]
    assert used == renderer
    assert time.perf_counter() - start < LIMIT_S
    assert results[("svg", None)].lstrip().startswith((b"<?xml", b"<svg"))


def test_what_each_large_graph_gets(graphs):
    # The network has module labels, so it is collapsed by module; the fan-out has none,
    # and its layout (half a million edge bends) is refused, in well under a second.
    collapsed = draw_graph(graphs["mlp"])
    assert collapsed.notes == ["collapsed by module: layers.0, layers.1, layers.2"]
    assert collapsed.drawn_nodes < 1000
    start = time.perf_counter()
    with pytest.raises(GraphTooLargeError, match=r"2,000 nodes.*498,501 edge bends"):
        draw_graph(graphs["fan-out"])
    assert time.perf_counter() - start < 1.0


def test_focus_on_a_large_graph_keeps_only_the_chain(graphs):
    # The last power, x^1000, is on one chain only: root <- sums <- x^1000 <- x.
    last = graphs["fan-out"].parents[1]
    start = time.perf_counter()
    graph = draw_graph(graphs["fan-out"], focus=last)
    assert graph.notes == ["only the chains to the focus are drawn"]
    svg, _ = render_jobs(graph.source, [("svg", None)])
    assert time.perf_counter() - start < LIMIT_S
