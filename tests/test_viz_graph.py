"""draw_graph: every node's label, data and grad in the DOT source and the SVG (checked against
PyTorch float64), node kinds, determinism, clusters, collapsing, Tensor nodes and bad input."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pygraphviz
import pytest
import torch
from hypothesis import given, strategies as st

from autograd_core import Tensor, Value, sum_values, topological_order
from oracles import build_w52_nodes, torch_w52
from viz import GradientGraph, draw_graph, save_svg
from viz.graph import LARGE_GRAPH_NODES, assign_modules, module_of_parameter
from viz.render import render_source

SVG = "{http://www.w3.org/2000/svg}"

# -- reading drawings back -------------------------------------------------------------------


def unescape(field: str) -> str:
    return re.sub(r"\\(.)", r"\1", field.strip()).replace("\u00a0", " ").replace("&amp;", "&")


def dot_fields(source: str) -> dict[str, list[str]]:
    """node id -> the lines of its record label, read back by pygraphviz's DOT parser."""
    graph = pygraphviz.AGraph(string=source)
    fields = {}
    for node in graph.nodes():
        label = node.attr["label"]
        if node.attr["shape"] in ("record", "Mrecord"):
            label = label.strip()
            if label.startswith("{") and label.endswith("}"):
                label = label[1:-1]
            fields[str(node)] = [unescape(f) for f in re.split(r"(?<!\\)\|", label)]
    return fields


def svg_nodes(svg: bytes) -> dict[str, tuple[str, list[str]]]:
    """node id (the SVG title) -> (its class attribute, its lines of text)."""
    out = {}
    for group in ET.fromstring(svg).iter(f"{SVG}g"):
        if "node" in group.get("class", "").split():
            title = group.find(f"{SVG}title").text
            texts = [(t.text or "").replace("\u00a0", " ") for t in group.iter(f"{SVG}text")]
            out[title] = (group.get("class"), texts)
    return out


def fmt(x: float) -> str:
    return f"{x:.4g}"


# -- the w52 graph -----------------------------------------------------------------------------


def test_w52_dot_shows_every_named_node_with_torch_values_and_grads():
    nodes = build_w52_nodes()
    nodes["L"].backward()
    expected = torch_w52()
    order = topological_order(nodes["L"])
    fields = dot_fields(draw_graph(nodes["L"]).source)
    for name, node in nodes.items():
        value, grad = expected[name]
        assert fields[f"n{order.index(node)}"] == [name, f"data {fmt(value)}", f"grad {fmt(grad)}"]
    # Every node of the graph is drawn, and nothing else is a record.
    assert len(fields) == len(order)


def test_w52_renders_to_svg_with_kinds_told_apart(tmp_path):
    nodes = build_w52_nodes()
    nodes["L"].backward()
    expected = torch_w52()
    order = topological_order(nodes["L"])
    path = save_svg(nodes["L"], tmp_path / "w52.svg")
    drawn = svg_nodes(path.read_bytes())
    for name, node in nodes.items():
        kind, texts = drawn[f"n{order.index(node)}"]
        value, grad = expected[name]
        assert texts == [name, f"data {fmt(value)}", f"grad {fmt(grad)}"]
        want = "root" if name == "L" else "parameter" if not node.parents else "result"
        assert want in kind.split()
    # The 1 of each 1/u_j and the 2 of (y - 2) are unlabelled constant leaves: 6 of them.
    leaves = [title for title, (kind, _) in drawn.items() if "leaf" in kind.split()]
    assert len(leaves) == 6
    # One op node per computed node (27 of them, counted by hand: 5 x (2 * and 1 +),
    # 5 /, F's *, /, + and -, sigmoid, - and **2).
    ops = [title for title, (kind, _) in drawn.items() if "op" in kind.split()]
    assert len(ops) == 27
    assert {drawn[o][1][0] for o in ops} == {"*", "+", "/", "-", "sigmoid", "**2"}


def test_kinds_have_distinct_fill_colours_and_the_legend_names_them():
    nodes = build_w52_nodes()
    source = draw_graph(nodes["L"]).source
    graph = pygraphviz.AGraph(string=source)
    order = topological_order(nodes["L"])
    colours = {kind: graph.get_node(f"n{order.index(node)}").attr["fillcolor"]
               for kind, node in [("root", nodes["L"]), ("parameter", nodes["w25"]),
                                  ("result", nodes["u5"]), ("leaf", nodes["v5"].parents[0])]}
    assert len(set(colours.values())) == 4
    for words in ("constant / input leaf", "labelled leaf (parameter)", "computed value", "root (output)"):
        assert words in source
    assert "constant / input leaf" not in draw_graph(nodes["L"], legend=False).source


def test_drawing_is_deterministic_and_independent_of_memory_addresses():
    first = build_w52_nodes()
    first["L"].backward()
    keep_alive = [build_w52_nodes() for _ in range(3)]  # other graphs at other addresses
    second = build_w52_nodes()
    second["L"].backward()
    assert draw_graph(first["L"]).source == draw_graph(second["L"]).source
    assert draw_graph(first["L"]).source == draw_graph(first["L"]).source
    assert str(id(first["L"])) not in draw_graph(first["L"]).source
    assert keep_alive


# -- random graphs -------------------------------------------------------------------------------

OPS = ["+", "-", "*", "tanh", "sigmoid", "relu", "sq"]


@st.composite
def expressions(draw):
    """A random graph over 1-4 labelled leaves, reusing earlier nodes (shared subexpressions)."""
    nodes = [Value(draw(st.floats(-2, 2)), f"a{i}") for i in range(draw(st.integers(1, 4)))]
    for _ in range(draw(st.integers(1, 12))):
        op = draw(st.sampled_from(OPS))
        a, b = draw(st.sampled_from(nodes)), draw(st.sampled_from(nodes))
        nodes.append({"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b,
                      "tanh": a.tanh, "sigmoid": a.sigmoid, "relu": a.relu,
                      "sq": lambda: a ** 2}[op]())
    return nodes[-1]


@given(expressions(), st.sampled_from(["LR", "TB", "RL", "BT"]))
def test_every_node_is_drawn_once_with_its_own_data_and_grad(root, rankdir):
    root.backward()
    order = topological_order(root)
    graph = draw_graph(root, rankdir=rankdir)
    fields = dot_fields(graph.source)
    assert set(fields) == {f"n{i}" for i in range(len(order))}
    for i, node in enumerate(order):
        lines = fields[f"n{i}"]
        assert lines[-2:] == [f"data {fmt(node.data)}", f"grad {fmt(node.grad)}"]
        if node.label:
            assert lines[0] == node.label
    parsed = pygraphviz.AGraph(string=graph.source)
    computed = [n for n in order if n.parents]
    assert len(parsed.nodes()) == len(order) + len(computed)  # one op node per computed node
    assert len(parsed.edges()) == len(computed) + sum(len(n.parents) for n in computed)
    assert f"rankdir={rankdir}" in graph.source


@given(st.text(st.characters(blacklist_categories=("Cs", "Cc", "Cf", "Co", "Cn", "Zl", "Zp")),
               min_size=1, max_size=20)
       .filter(lambda s: s.strip()))
def test_any_label_text_renders_literally(label):
    svg, _ = render_source(draw_graph(Value(1.5, label), legend=False).source, "svg")
    (_, texts), = svg_nodes(svg).values()
    assert texts == [label.replace("\u00a0", " "), "data 1.5", "grad 0"]


# -- Tensor graphs -------------------------------------------------------------------------------


def test_tensor_nodes_show_shape_dtype_and_small_values_or_summaries():
    x_data = [[1.0, 2.0], [3.0, -4.0]]
    w_data = np.array([[0.5, -0.25, 1.0, 0.75], [-1.0, 0.25, 1.5, -0.5]])
    x = Tensor(x_data, requires_grad=True, label="x")
    w = Tensor(w_data, requires_grad=True, label="W")
    h = x @ w
    h.label = "h"
    loss = h.tanh().sum()
    loss.label = "loss"
    loss.backward()

    tx = torch.tensor(x_data, dtype=torch.float64, requires_grad=True)
    tw = torch.tensor(w_data, dtype=torch.float64, requires_grad=True)
    th = tx @ tw
    th.retain_grad()
    torch.tanh(th).sum().backward()

    def summary(t: torch.Tensor) -> str:
        return f"min {fmt(t.min().item())} mean {fmt(t.mean().item())} max {fmt(t.max().item())}"

    order = topological_order(loss)
    fields = dot_fields(draw_graph(loss).source)
    gx = tx.grad.numpy()
    assert fields[f"n{order.index(x)}"] == [
        "x", "shape (2, 2) float64", "data [[1, 2], [3, -4]]",
        f"grad [[{fmt(gx[0, 0])}, {fmt(gx[0, 1])}], [{fmt(gx[1, 0])}, {fmt(gx[1, 1])}]]"]
    assert fields[f"n{order.index(w)}"] == [
        "W", "shape (2, 4) float64", f"data {summary(tw.detach())}", f"grad {summary(tw.grad)}"]
    assert fields[f"n{order.index(h)}"] == [
        "h", "shape (2, 4) float64", f"data {summary(th.detach())}", f"grad {summary(th.grad)}"]
    assert fields[f"n{order.index(loss)}"][:2] == ["loss", "shape () float64"]
    ops = pygraphviz.AGraph(string=draw_graph(loss).source)
    assert ops.get_node(f"n{order.index(h)}_op").attr["label"] == h.op


def test_tensor_without_gradient_and_float32():
    a = Tensor([1.0, 2.0, 3.0], dtype=np.float32, label="a")
    fields = dot_fields(draw_graph(a).source)
    assert fields["n0"] == ["a", "shape (3,) float32", "data [1, 2, 3]", "grad none"]


# -- clusters ------------------------------------------------------------------------------------


def neuron(inputs: list[Value], layer: int, j: int) -> Value:
    """tanh(b + w0 x0 + w1 x1 + ...), its parameters labelled as nn.MLP labels them."""
    out = Value(0.1 * (j + 1), f"layers.{layer}.neurons.{j}.b")
    for k, x in enumerate(inputs):
        out = out + Value(0.5 - 0.3 * k + 0.2 * j, f"layers.{layer}.neurons.{j}.w.{k}") * x
    return out.tanh()


def small_mlp() -> tuple[Value, dict[str, Value]]:
    """2 inputs -> 2 tanh neurons -> 1 tanh neuron -> squared error against 1."""
    x = [Value(0.5), Value(-1.5)]
    hidden = [neuron(x, 0, 0), neuron(x, 0, 1)]
    out = neuron(hidden, 1, 0)
    loss = (out - 1.0) ** 2
    return loss, {"x0": x[0], "x1": x[1], "h0": hidden[0], "h1": hidden[1], "out": out}


def clusters_of(source: str) -> dict[str, tuple[set[str], list[str]]]:
    """cluster label -> (ids of the nodes inside it, labels of the clusters directly inside it)."""
    found = {}

    def walk(graph):
        for sub in graph.subgraphs():
            found[sub.graph_attr["label"]] = (
                {str(n) for n in sub.nodes()}, [s.graph_attr["label"] for s in sub.subgraphs()])
            walk(sub)

    walk(pygraphviz.AGraph(string=source))
    return found


def ids_of_neuron(order: list[Value], output: Value) -> set[str]:
    """By hand: a neuron is its tanh, the + chain under it, each w*x product, its parameters,
    with the op node of each computed one; its inputs are not part of it."""
    members, stack = set(), [output]
    while stack:
        node = stack.pop()
        i = order.index(node)
        members.add(f"n{i}")
        if node.parents:
            members.add(f"n{i}_op")
        if node.op in ("tanh", "+"):
            stack.extend(node.parents)
        elif node.op == "*":
            stack.append(node.parents[0])  # the weight; parents[1] is the input
    return members


def test_clusters_group_each_neuron_inside_its_layer():
    loss, named = small_mlp()
    order = topological_order(loss)
    found = clusters_of(draw_graph(loss, cluster=True).source)
    assert set(found) == {"layers.0", "layers.0.neurons.0", "layers.0.neurons.1",
                          "layers.1", "layers.1.neurons.0"}
    assert sorted(found["layers.0"][1]) == ["layers.0.neurons.0", "layers.0.neurons.1"]
    assert found["layers.1"][1] == ["layers.1.neurons.0"]
    for cluster, output in [("layers.0.neurons.0", named["h0"]), ("layers.0.neurons.1", named["h1"]),
                            ("layers.1.neurons.0", named["out"])]:
        assert found[cluster][0] == ids_of_neuron(order, output)
    clustered = set().union(*(nodes for nodes, _ in found.values()))
    # The inputs, the loss's (out - 1) and its square and the constant 1 stay outside.
    outside = {f"n{i}" for i, node in enumerate(order)} - clustered
    assert outside == {f"n{order.index(n)}" for n in
                       [named["x0"], named["x1"], loss, loss.parents[0], loss.parents[0].parents[1]]}


def test_module_of_parameter_labels():
    assert module_of_parameter("layers.0.neurons.1.w.2") == "layers.0.neurons.1"
    assert module_of_parameter("layers.0.neurons.1.b") == "layers.0.neurons.1"
    assert module_of_parameter("layers.2.weight") == "layers.2"
    assert module_of_parameter("w25") is None
    assert module_of_parameter("x[0]") is None


def test_clusters_of_an_nn_mlp():
    from nn import MLP

    model = MLP(3, [4, 4, 1], seed=0)
    loss = (model([0.5, -1.0, 2.0]) - 1.0) ** 2
    found = clusters_of(draw_graph(loss, cluster=True).source)
    expected = {f"layers.{i}" for i in range(3)} | {f"layers.{i}.neurons.{j}" for i, n in
                                                      enumerate([4, 4, 1]) for j in range(n)}
    assert set(found) == expected
    # Every parameter sits in its neuron's cluster.
    order = topological_order(loss)
    for parameter in model.parameters():
        neuron_cluster = parameter.label.rsplit(".w.", 1)[0].removesuffix(".b")
        assert f"n{order.index(parameter)}" in found[neuron_cluster][0]


def test_collapse_draws_a_cluster_as_one_box_beside_its_outputs():
    loss, named = small_mlp()
    order = topological_order(loss)
    source = draw_graph(loss, collapse=("layers.0",)).source
    graph = pygraphviz.AGraph(string=source)
    h0, h1 = (f"n{order.index(named[k])}" for k in ("h0", "h1"))
    inside = (ids_of_neuron(order, named["h0"]) | ids_of_neuron(order, named["h1"])) \
        - {h0, f"{h0}_op", h1, f"{h1}_op"}
    drawn = {str(n) for n in graph.nodes()}
    assert not inside & drawn
    # The layer's outputs, the two tanh nodes used by the next layer, stay drawn.
    assert {h0, f"{h0}_op", h1, f"{h1}_op", "c0"} <= drawn
    # Each hidden neuron: b, 2 w, 2 *, 2 + inside the box (and its tanh outside): 7 nodes, 3 parameters.
    assert graph.get_node("c0").attr["label"] == "layers.0\\n14 nodes inside, 6 parameters"
    edges = {(str(a), str(b)) for a, b in graph.edges()}
    x0, x1 = (f"n{order.index(named[k])}" for k in ("x0", "x1"))
    assert {(x0, "c0"), (x1, "c0")} <= edges
    assert {e for e in edges if e[0] == "c0"} == {("c0", f"{h0}_op"), ("c0", f"{h1}_op")}
    products = [n for n in order if n.op == "*" and n.parents[1] in (named["h0"], named["h1"])]
    assert {(f"n{order.index(p.parents[1])}", f"n{order.index(p)}_op") for p in products} <= edges


def test_collapse_inside_a_drawn_cluster_and_unknown_names():
    loss, _ = small_mlp()
    found = clusters_of(draw_graph(loss, cluster=True, collapse=("layers.0.neurons.1",)).source)
    assert "c0" in found["layers.0"][0] and "layers.0.neurons.1" not in found
    with pytest.raises(ValueError, match=r"unknown cluster.*layers\.7.*layers\.0"):
        draw_graph(loss, collapse=("layers.7",))
    with pytest.raises(ValueError, match="no parameter label has a module path"):
        draw_graph(build_w52_nodes()["L"], collapse=("layers.0",))


def test_assign_modules_ignores_nodes_that_mix_modules_or_constants():
    loss, named = small_mlp()
    modules = assign_modules(topological_order(loss))
    assert modules[id(named["h0"])] == "layers.0.neurons.0"
    assert id(loss) not in modules and id(named["x0"]) not in modules


# -- op nodes and large graphs -------------------------------------------------------------------


def test_op_nodes_can_be_folded_into_the_records():
    nodes = build_w52_nodes()
    order = topological_order(nodes["L"])
    fields = dot_fields(draw_graph(nodes["L"], op_nodes=False).source)
    assert "_op" not in draw_graph(nodes["L"], op_nodes=False).source
    assert fields[f"n{order.index(nodes['y'])}"][0] == "[sigmoid] y"
    assert fields[f"n{order.index(nodes['w25'])}"][0] == "w25"  # a leaf has no op


def test_large_graphs_fold_op_nodes_unless_asked():
    total = sum_values(Value(float(i)) for i in range(LARGE_GRAPH_NODES // 2 + 2))
    assert len(topological_order(total)) > LARGE_GRAPH_NODES
    assert "_op" not in draw_graph(total).source
    assert "_op" in draw_graph(total, op_nodes=True).source
    small = sum_values(Value(float(i)) for i in range(5))
    assert "_op" in draw_graph(small).source


# -- bad input -----------------------------------------------------------------------------------


class NotANode:
    parents = ()
    op = ""
    label = ""


@pytest.mark.parametrize("root, pattern", [
    (3.0, r"root must be a Value or Tensor.*float without \.parents"),
    (None, r"root must be a Value or Tensor.*NoneType"),
    (NotANode(), r"NotANode without \.data, \.grad"),
])
def test_wrong_root_types_are_refused(root, pattern):
    with pytest.raises(TypeError, match=pattern):
        draw_graph(root)
    with pytest.raises(TypeError, match=pattern):
        save_svg(root, "graph.svg")


def test_a_bad_node_inside_the_graph_is_named():
    bad = Tensor(1.0)
    bad.parents = (Tensor(2.0), NotANode())
    with pytest.raises(TypeError, match=r"node 1 of the graph must be a Value or Tensor"):
        draw_graph(bad)


@pytest.mark.parametrize("kwargs, error, pattern", [
    ({"rankdir": "lr"}, ValueError, "rankdir must be one of LR, RL, TB, BT.*'lr'"),
    ({"rankdir": 3}, ValueError, "rankdir must be one of"),
    ({"cluster": "yes"}, TypeError, "cluster must be True or False"),
    ({"legend": None}, TypeError, "legend must be True or False"),
    ({"collapse": "layers.0"}, TypeError, r"collapse must be a sequence of cluster names"),
    ({"collapse": [0]}, TypeError, r"collapse must be a sequence of cluster names"),
    ({"op_nodes": 1}, TypeError, "op_nodes must be True, False or None"),
])
def test_bad_options_are_refused(kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        draw_graph(Value(1.0), **kwargs)


def test_draw_graph_returns_a_gradient_graph_that_displays_in_jupyter():
    graph = draw_graph(build_w52_nodes()["L"])
    assert isinstance(graph, GradientGraph)
    bundle = graph._repr_mimebundle_()
    assert ET.fromstring(bundle["image/svg+xml"].encode()).tag == f"{SVG}svg"
    assert ET.fromstring(graph._repr_svg_().encode()).tag == f"{SVG}svg"
