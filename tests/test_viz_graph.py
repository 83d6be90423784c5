"""draw_graph: every node's label, data and grad in the DOT source and the SVG (checked against
PyTorch float64), node kinds and roles, folded constants, determinism, clusters, hidden units,
collapsing, focus, edge labels, themes and width, Tensor nodes and bad input."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pygraphviz
import pytest
import torch
from hypothesis import given, strategies as st

from autograd_core import Tensor, Value, sum_values, topological_order
from oracles import build_w52_nodes, hand_forward, hand_gradients, slide_chain_for_w52, torch_w52
from viz import GradientGraph, draw_graph, save_svg
from viz.graph import (LARGE_GRAPH_NODES, THEMES, assign_modules, hidden_units, layout_size, leaf_role,
                       module_of_parameter, parse_width)
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


def index_of(order: list, node) -> int:
    """The position of `node` in `order` by identity (a Tensor's == compares elementwise)."""
    return next(i for i, candidate in enumerate(order) if candidate is node)


# -- the w52 graph -----------------------------------------------------------------------------


def test_w52_dot_shows_every_named_node_with_torch_values_and_grads():
    nodes = build_w52_nodes()
    nodes["L"].backward()
    expected = torch_w52()
    order = topological_order(nodes["L"])
    fields = dot_fields(draw_graph(nodes["L"]).source)
    for name, node in nodes.items():
        value, grad = expected[name]
        assert fields[f"n{index_of(order, node)}"] == [name, f"data {fmt(value)}", f"grad {fmt(grad)}"]
    # Every node of the graph is drawn but the six constants (the 1 of each 1/u_j and the 2 of
    # y - 2), which are folded into their ops; nothing else is a record.
    constants = [f"n{i}" for i, node in enumerate(order) if node.is_constant]
    assert len(constants) == 6
    assert set(fields) == {f"n{i}" for i in range(len(order))} - set(constants)


def test_w52_renders_to_svg_with_kinds_told_apart(tmp_path):
    nodes = build_w52_nodes()
    nodes["L"].backward()
    expected = torch_w52()
    order = topological_order(nodes["L"])
    path = save_svg(nodes["L"], tmp_path / "w52.svg")
    drawn = svg_nodes(path.read_bytes())
    for name, node in nodes.items():
        kind, texts = drawn[f"n{index_of(order, node)}"]
        value, grad = expected[name]
        assert texts == [name, f"data {fmt(value)}", f"grad {fmt(grad)}"]
        want = ("root" if name == "L" else "input" if name in ("x1", "x2")
                else "parameter" if not node.parents else "result")
        assert want in kind.split()
    assert not [title for title, (kind, _) in drawn.items() if "constant" in kind.split()]
    # One op node per computed node (27 of them, counted by hand: 5 x (2 * and 1 +),
    # 5 1/u, F's *, /, + and -, sigmoid, y - 2 and **2), the constants written into theirs.
    ops = [title for title, (kind, _) in drawn.items() if "op" in kind.split()]
    assert len(ops) == 27
    labels = [drawn[o][1][0] for o in ops]
    assert sorted(set(labels)) == sorted({"*", "+", "1/·", "/", "-", "sigmoid", "· - 2", "**2"})
    assert labels.count("1/·") == 5 and labels.count("· - 2") == 1


def test_show_constants_draws_them_as_dashed_constant_leaves(tmp_path):
    nodes = build_w52_nodes()
    nodes["L"].backward()
    drawn = svg_nodes(draw_graph(nodes["L"], show_constants=True).pipe(format="svg"))
    constants = [texts for kind, texts in drawn.values() if "constant" in kind.split()]
    # By hand: v = 1/u = a/u with a = 1 gives dL/da = dL/dv * 1/u for each of the five 1s;
    # the 2 of y - 2 gets dL/d2 = dL/d(y-2) * (-1) = -2 (y - 2).
    f, g = hand_forward(), hand_gradients(hand_forward())
    want = [["data 1", f"grad {fmt(g[f'v{j}'] / f[f'u{j}'])}"] for j in range(1, 6)]
    want.append(["data 2", f"grad {fmt(-2 * (f['y'] - 2))}"])
    assert sorted(constants) == sorted(want)
    ops = [texts[0] for kind, texts in drawn.values() if "op" in kind.split()]
    assert "1/·" not in ops and ops.count("/") == 6


def test_kinds_have_distinct_fill_colours_and_the_legend_names_them():
    nodes = build_w52_nodes()
    source = draw_graph(nodes["L"], show_constants=True).source
    graph = pygraphviz.AGraph(string=source)
    order = topological_order(nodes["L"])
    kinds = [("root", nodes["L"]), ("parameter", nodes["w25"]), ("input", nodes["x1"]),
             ("result", nodes["u5"]), ("constant", nodes["v5"].parents[0])]
    colours = {kind: graph.get_node(f"n{index_of(order, node)}").attr["fillcolor"] for kind, node in kinds}
    shapes = {kind: (graph.get_node(f"n{index_of(order, node)}").attr["shape"],
                     graph.get_node(f"n{index_of(order, node)}").attr["style"]) for kind, node in kinds}
    assert len(set(colours.values())) == 5
    # Shape tells parameters (rounded) and constants (dashed) apart without colour.
    assert shapes["parameter"][0] == "Mrecord" and "dashed" in shapes["constant"][1]
    for words in ("input", "parameter (weight, bias)", "constant", "computed value", "root (output)"):
        assert f">{words}<" in source
    folded = draw_graph(nodes["L"]).source
    assert ">constant<" not in folded and "a constant folded in" in folded  # none drawn: no key
    assert "computed value" not in draw_graph(nodes["L"], legend=False).source


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
    assert fields[f"n{index_of(order, x)}"] == [
        "x", "shape (2, 2) float64", "data [[1, 2], [3, -4]]",
        f"grad [[{fmt(gx[0, 0])}, {fmt(gx[0, 1])}], [{fmt(gx[1, 0])}, {fmt(gx[1, 1])}]]"]
    assert fields[f"n{index_of(order, w)}"] == [
        "W", "shape (2, 4) float64", f"data {summary(tw.detach())}", f"grad {summary(tw.grad)}"]
    assert fields[f"n{index_of(order, h)}"] == [
        "h", "shape (2, 4) float64", f"data {summary(th.detach())}", f"grad {summary(th.grad)}"]
    assert fields[f"n{index_of(order, loss)}"][:2] == ["loss", "shape () float64"]
    ops = pygraphviz.AGraph(string=draw_graph(loss).source)
    assert ops.get_node(f"n{index_of(order, h)}_op").attr["label"] == h.op


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
        i = index_of(order, node)
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
    assert outside == {f"n{index_of(order, n)}" for n in
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
        assert f"n{index_of(order, parameter)}" in found[neuron_cluster][0]


def test_collapse_draws_a_cluster_as_one_box_beside_its_outputs():
    loss, named = small_mlp()
    order = topological_order(loss)
    source = draw_graph(loss, collapse=("layers.0",)).source
    graph = pygraphviz.AGraph(string=source)
    h0, h1 = (f"n{index_of(order, named[k])}" for k in ("h0", "h1"))
    inside = (ids_of_neuron(order, named["h0"]) | ids_of_neuron(order, named["h1"])) \
        - {h0, f"{h0}_op", h1, f"{h1}_op"}
    drawn = {str(n) for n in graph.nodes()}
    assert not inside & drawn
    # The layer's outputs, the two tanh nodes used by the next layer, stay drawn.
    assert {h0, f"{h0}_op", h1, f"{h1}_op", "c0"} <= drawn
    # Each hidden neuron: b, 2 w, 2 *, 2 + inside the box (and its tanh outside): 7 nodes, 3 parameters.
    assert graph.get_node("c0").attr["label"] == "layers.0\\n14 nodes inside, 6 parameters"
    edges = {(str(a), str(b)) for a, b in graph.edges()}
    x0, x1 = (f"n{index_of(order, named[k])}" for k in ("x0", "x1"))
    assert {(x0, "c0"), (x1, "c0")} <= edges
    assert {e for e in edges if e[0] == "c0"} == {("c0", f"{h0}_op"), ("c0", f"{h1}_op")}
    products = [n for n in order if n.op == "*" and n.parents[1] in (named["h0"], named["h1"])]
    assert {(f"n{index_of(order, p.parents[1])}", f"n{index_of(order, p)}_op") for p in products} <= edges


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
    assert fields[f"n{index_of(order, nodes['y'])}"][0] == "[sigmoid] y"
    assert fields[f"n{index_of(order, nodes['w25'])}"][0] == "w25"  # a leaf has no op


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
    ({"group_units": "auto"}, TypeError, "group_units must be True, False or None"),
    ({"edge_labels": 1}, TypeError, "edge_labels must be True or False"),
    ({"show_constants": None}, TypeError, "show_constants must be True or False"),
    ({"max_nodes": 0}, ValueError, "max_nodes must be a positive int or None"),
    ({"timeout": -1}, ValueError, "timeout must be a positive number"),
    ({"labels": ["a"]}, TypeError, "labels must be a mapping"),
])
def test_bad_options_are_refused(kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        draw_graph(Value(1.0), **kwargs)


def test_draw_graph_returns_a_gradient_graph_that_displays_in_jupyter():
    graph = draw_graph(build_w52_nodes()["L"])
    assert isinstance(graph, GradientGraph)
    bundle = graph._repr_mimebundle_()
    assert ET.fromstring(bundle["image/svg+xml"].encode()).tag == f"{SVG}svg"
    # The PNG beside it is what an untrusted notebook and a code host show.
    assert bundle["image/png"].startswith(b"\x89PNG\r\n\x1a\n")
    assert ET.fromstring(graph._repr_svg_().encode()).tag == f"{SVG}svg"


# -- roles -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("label, role", [
    ("w25", "parameter"), ("w", "parameter"), ("W1", "parameter"), ("b", "parameter"), ("b_2", "parameter"),
    ("layers.0.neurons.1.w.2", "parameter"), ("layers.0.neurons.1.b", "parameter"),
    ("fc.weight", "parameter"), ("layers.2.bias", "parameter"),
    ("x1", "input"), ("x", "input"), ("x[0]", "input"), ("X_train", "input"), ("inputs", "input"),
    ("features", "input"),
    # A module path is a parameter of an nn Module; any other label is a number you gave
    # (these were parameters before issue 9's follow-up: y, z, a, v1 drawn as weights).
    ("layers.1.alpha", "parameter"), ("0.scale", "parameter"),
    ("a", "input"), ("gain", "input"), ("y", "input"), ("z", "input"), ("v1", "input"),
])
def test_leaf_roles_follow_the_documented_rule(label, role):
    assert leaf_role(Value(1.0, label)) == role


def test_unlabelled_leaves_constants_and_tensors():
    x = Value(2.0)
    assert leaf_role(x) == "input"  # a user's unlabelled leaf is data
    assert leaf_role((x * 3).parents[1]) == "constant"  # the 3 an expression wraps
    assert leaf_role(Tensor([1.0, 2.0], requires_grad=True)) == "parameter"
    assert leaf_role(Tensor([1.0, 2.0], requires_grad=True, label="x")) == "input"
    assert leaf_role(Tensor([1.0, 2.0])) == "input"
    assert leaf_role(Tensor(2.0)) == "constant"


def test_roles_override_and_are_checked():
    from nn import MLP

    model = MLP(2, [2, 1], seed=0)
    loss = (model([0.5, -1.0]) - 1.0) ** 2
    order = topological_order(loss)
    kinds = {n: v[0] for n, v in svg_nodes(draw_graph(loss).pipe(format="svg")).items()}
    for parameter in model.parameters():  # nn labels its parameters ...w.0, ...b: parameters
        assert "parameter" in kinds[f"n{index_of(order, parameter)}"].split()
    x0 = next(n for n in order if n.label == "x[0]")
    assert "input" in kinds[f"n{index_of(order, x0)}"].split()
    roles = {x0: "parameter", "x[1]": "constant"}
    overridden = svg_nodes(draw_graph(loss, roles=roles, show_constants=True).pipe(format="svg"))
    assert "parameter" in overridden[f"n{index_of(order, x0)}"][0].split()
    x1 = next(n for n in order if n.label == "x[1]")
    assert "constant" in overridden[f"n{index_of(order, x1)}"][0].split()
    # A constant is folded into its op by default: w * x[1] with x[1] = -1 draws as "·*-1".
    folded = svg_nodes(draw_graph(loss, roles=roles).pipe(format="svg"))
    assert f"n{index_of(order, x1)}" not in folded
    assert ["·*-1"] in [texts for kind, texts in folded.values() if "op" in kind.split()]
    with pytest.raises(ValueError, match="roles apply to leaves"):
        draw_graph(loss, roles={loss: "input"})
    with pytest.raises(ValueError, match="must be one of input, parameter, constant"):
        draw_graph(loss, roles={x0: "weight"})
    with pytest.raises(ValueError, match="not part of the graph"):
        draw_graph(loss, roles={Value(1.0, "elsewhere"): "input"})
    with pytest.raises(TypeError, match="roles must be a mapping"):
        draw_graph(loss, roles=[x0])
    # Pairs do for nodes that cannot be dict keys (Tensors compare elementwise).
    w = Tensor([[1.0], [2.0]], requires_grad=True, label="data_in")
    y = (Tensor([[1.0, 2.0]], label="x") @ w).sum()
    pairs = svg_nodes(draw_graph(y, roles=[(w, "input")]).pipe(format="svg"))
    assert "input" in pairs[f"n{index_of(topological_order(y), w)}"][0].split()


# -- folded constants --------------------------------------------------------------------------------


def op_labels(source: str) -> dict[str, str]:
    graph = pygraphviz.AGraph(string=source)
    return {str(n): unescape(n.attr["label"]) for n in graph.nodes() if str(n).endswith("_op")}


def test_constants_are_written_into_their_op():
    u = Value(4.0, "u")
    cases = [(1 / u, "1/·"), (u - 2, "· - 2"), (2 + u, "2 + ·"), (u * 3, "·*3"), (u / 8, "·/8"),
             (u ** Value(2.0).data, "**2")]
    for node, label in cases:
        source = draw_graph(node).source
        assert list(op_labels(source).values()) == [label]
        graph = pygraphviz.AGraph(string=source)
        order = topological_order(node)
        # u is the op's only input; the constant is no node of its own.
        n_u, n_out = f"n{index_of(order, u)}", f"n{index_of(order, node)}"
        assert sorted(str(n) for n in graph.nodes()) == sorted([n_u, n_out, f"{n_out}_op"])
        assert sorted((str(a), str(b)) for a, b in graph.edges()) == [(n_u, f"{n_out}_op"),
                                                                     (f"{n_out}_op", n_out)]
    relu_like = draw_graph(autograd_maximum(u, 0.0)).source
    assert list(op_labels(relu_like).values()) == ["max(·,0)"]


def autograd_maximum(a, b):
    from autograd_core import maximum

    return maximum(a, b)


def test_folded_op_shows_inside_records_too():
    u = Value(4.0, "u")
    v = 1 / u
    v.label = "v"
    fields = dot_fields(draw_graph(v, op_nodes=False).source)
    assert fields["n2"][0] == "[1/·] v"


# -- labels and focus ----------------------------------------------------------------------------------


def test_labels_rename_a_node_everywhere():
    nodes = build_w52_nodes()
    nodes["L"].backward()
    order = topological_order(nodes["L"])
    fields = dot_fields(draw_graph(nodes["L"], labels={nodes["w25"]: "w52"}).source)
    assert fields[f"n{index_of(order, nodes['w25'])}"][0] == "w52"
    product = nodes["u5"].parents[1]  # w25 * x2, unlabelled: named by its expression
    assert fields[f"n{index_of(order, product)}"][0] == "(w52*x2)"
    with pytest.raises(TypeError, match="must be a non-empty str"):
        draw_graph(nodes["L"], labels={nodes["w25"]: ""})


W52_CHAIN = ["w25", "(w25*x2)", "u5", "v5", "F", "y", "(y-2)", "L"]  # the slide's chain, by hand


def test_focus_dims_everything_off_the_chain_to_w52():
    nodes = build_w52_nodes()
    nodes["L"].backward()
    drawn = svg_nodes(draw_graph(nodes["L"], focus=nodes["w25"]).pipe(format="svg"))
    records = {title: (kind.split(), texts) for title, (kind, texts) in drawn.items()
               if "op" not in kind.split()}
    clear = sorted(texts[0] for kinds, texts in records.values() if "dimmed" not in kinds)
    assert clear == sorted(W52_CHAIN)
    assert all("chain" in kinds for kinds, texts in records.values() if texts[0] in W52_CHAIN)
    focused = [texts[0] for kinds, texts in records.values() if "focus" in kinds]
    assert focused == ["w25"]
    # Op nodes: the seven ops on the chain (*, +, 1/·, -, sigmoid, · - 2, **2) stay clear.
    clear_ops = sorted(texts[0] for title, (kind, texts) in drawn.items()
                       if "op" in kind.split() and "dimmed" not in kind.split())
    assert clear_ops == sorted(["*", "+", "1/·", "-", "sigmoid", "· - 2", "**2"])


def test_focus_edges_and_by_label():
    nodes = build_w52_nodes()
    order = topological_order(nodes["L"])
    source = draw_graph(nodes["L"], focus="w25").source
    graph = pygraphviz.AGraph(string=source)
    clear = {(str(a), str(b)) for a, b in graph.edges() if "dimmed" not in (graph.get_edge(a, b).attr["class"] or "")}
    ids = {name: f"n{index_of(order, nodes[name])}" for name in ("w25", "u5", "v5", "F", "y", "L")}
    product = f"n{index_of(order, nodes['u5'].parents[1])}"
    assert (ids["w25"], f"{product}_op") in clear and (product, f"{ids['u5']}_op") in clear
    x2 = f"n{index_of(order, nodes['x2'])}"
    assert (x2, f"{product}_op") not in clear  # x2 feeds the chain but is not on it
    assert len(clear) == 14  # 7 op -> node edges and 7 node -> op edges along the chain
    assert "dimmed: off the chains from L to w25" in source
    with pytest.raises(ValueError, match="no node of this graph is labelled so.*w25"):
        draw_graph(nodes["L"], focus="w52")
    with pytest.raises(ValueError, match="not part of the graph"):
        draw_graph(nodes["L"], focus=Value(1.3, "w25"))


# -- edge labels -----------------------------------------------------------------------------------


def edge_labels(source: str) -> dict[tuple[str, str], str]:
    graph = pygraphviz.AGraph(string=source)
    return {(str(a), str(b)): unescape((graph.get_edge(a, b).attr["label"] or "").replace("\\n", "\n"))
            for a, b in graph.edges()}


def test_edge_labels_carry_the_slides_five_steps():
    nodes = build_w52_nodes()
    nodes["L"].backward()
    f = hand_forward()
    g = hand_gradients(f)
    step = slide_chain_for_w52(f)
    order = topological_order(nodes["L"])
    pos = {name: index_of(order, node) for name, node in nodes.items()}
    product = index_of(order, nodes["u5"].parents[1])
    minus2 = index_of(order, nodes["L"].parents[0])
    labels = edge_labels(draw_graph(nodes["L"], edge_labels=True).source)
    # Step 1: dL/dw52 = dL/du5 * x2 (the edge w25 -> the product's op carries it).
    assert labels[(f"n{pos['w25']}", f"n{product}_op")] == (
        f"∂(w25*x2)/∂w25 = x2 = {fmt(f['x2'])}\n{fmt(g['u5'])} × {fmt(f['x2'])} = {fmt(step[1])}")
    # Step 2: dL/du5 = dL/dv5 * (-1/u5^2).
    assert labels[(f"n{pos['u5']}", f"n{pos['v5']}_op")] == (
        f"∂v5/∂u5 = -1/u5^2 = {fmt(-1 / f['u5'] ** 2)}\n"
        f"{fmt(g['v5'])} × {fmt(-1 / f['u5'] ** 2)} = {fmt(step[2])}")
    # Step 3: dL/dv5 = dL/dF * (-1); step 4: dL/dF = dL/dy * y (1 - y).
    assert labels[(f"n{pos['v5']}", f"n{pos['F']}_op")] == f"∂F/∂v5 = -1\n{fmt(g['F'])} × -1 = {fmt(step[3])}"
    assert labels[(f"n{pos['F']}", f"n{pos['y']}_op")] == (
        f"∂y/∂F = y*(1-y) = {fmt(f['y'] * (1 - f['y']))}\n"
        f"{fmt(g['y'])} × {fmt(f['y'] * (1 - f['y']))} = {fmt(step[4])}")
    # Step 5, dL/dy = 2 (y - 2), runs over two edges: (y-2) -> **2, then y -> y - 2.
    assert labels[(f"n{minus2}", f"n{pos['L']}_op")] == (
        f"∂L/∂(y-2) = 2*(y-2) = {fmt(2 * (f['y'] - 2))}\n1 × {fmt(2 * (f['y'] - 2))} = {fmt(step[5])}")
    assert labels[(f"n{pos['y']}", f"n{minus2}_op")] == f"∂(y-2)/∂y = 1\n{fmt(step[5])} × 1 = {fmt(step[5])}"
    # Every node -> op edge is labelled; op -> node edges are not.
    for (tail, head), text in labels.items():
        assert bool(text) == head.endswith("_op"), (tail, head)


def test_edge_labels_on_tensor_ops_use_matrix_calculus():
    x = Tensor([[1.0, 2.0]], label="x")
    w = Tensor([[0.5], [-1.0]], requires_grad=True, label="W")
    loss = (x @ w).sum()
    loss.label = "loss"
    labels = edge_labels(draw_graph(loss, edge_labels=True).source)
    order = topological_order(loss)
    text = labels[(f"n{index_of(order, w)}", f"n{index_of(order, loss.parents[0])}_op")]
    assert "∂" in text and "<array" not in text
    # dloss/dW = x^T * 1 = [[1], [2]]
    assert "dloss/dW += [[1], [2]]" in text


# -- hidden units ------------------------------------------------------------------------------------


def test_w52_hidden_units_keep_each_units_nodes_together():
    nodes = build_w52_nodes()
    order = topological_order(nodes["L"])
    contents = sorted(sorted(ids) for ids, _ in clusters_by_index(draw_graph(nodes["L"]).source))
    want = []
    for j in range(1, 6):
        # By hand: unit j is v_j, u_j, the products w1j*x1 and w2j*x2 and the two weights,
        # with the op nodes of the four computed ones; x1 and x2 are shared, so outside.
        u = nodes[f"u{j}"]
        members = {nodes[f"v{j}"], u, *u.parents, nodes[f"w1{j}"], nodes[f"w2{j}"]}
        want.append(sorted({f"n{index_of(order, n)}" for n in members}
                           | {f"n{index_of(order, n)}_op" for n in members if n.parents}))
    assert contents == sorted(want)
    assert clusters_by_index(draw_graph(nodes["L"], group_units=False).source) == []


def clusters_by_index(source: str) -> list[tuple[set[str], str]]:
    """(node ids, label) of every top-level cluster."""
    graph = pygraphviz.AGraph(string=source)
    return [({str(n) for n in sub.nodes()}, sub.graph_attr["label"]) for sub in graph.subgraphs()]


def test_hidden_units_need_two_units():
    x, w = Value(1.0, "x"), Value(2.0, "w")
    h = (w * x).tanh()
    h.label = "h"
    out = h * 3
    order = topological_order(out)
    assert hidden_units(order, {id(n) for n in order}, out) == {}


# -- layout size and the budget -------------------------------------------------------------------------


def test_layout_size_counts_bends_by_hand():
    # x -> p1, p2, p3; s1 = p1 + p2; s2 = s1 + p3. Early ranks: x 0, p 1, s1 2, s2 3: the edge
    # p3 -> s2 spans 2 ranks (1 bend); late ranks move p3 to 2 and the bend to x -> p3: 1 bend.
    edges = [("x", "p1"), ("x", "p2"), ("x", "p3"), ("p1", "s1"), ("p2", "s1"), ("s1", "s2"), ("p3", "s2")]
    assert layout_size(["x", "p1", "p2", "p3", "s1", "s2"], edges) == (6, 1)
    # Labelled edges: each label takes a rank of its own, doubling the spans: 2 * 1 + 7.
    assert layout_size(["x", "p1", "p2", "p3", "s1", "s2"], edges, labelled_edges=True) == (6, 9)
    # A chain a -> b -> c -> d with a -> d: 2 bends, whichever ranking.
    assert layout_size(list("abcd"), [("a", "b"), ("b", "c"), ("c", "d"), ("a", "d")]) == (4, 2)


def test_the_budget_refuses_or_reduces_with_advice():
    from viz import GraphTooLargeError

    x = Value(1.0, "x")
    powers = sum_values(x ** (i + 1) for i in range(60))
    # 60 powers of x summed in a chain: x feeds 60 nodes whose sums lie up to 59 ranks apart,
    # so the layout needs well over a thousand bends for 180 nodes.
    with pytest.raises(GraphTooLargeError, match=r"over max_nodes=500.*focus=node.*collapse=.*max_nodes=\.\.\."):
        draw_graph(powers, max_nodes=500)
    assert draw_graph(powers, max_nodes=None).drawn_nodes > 0
    # With focus, only the chains to the focused node (and its ops' inputs) are drawn.
    last = powers.parents[1]  # x ** 60
    reduced = draw_graph(powers, focus=last, max_nodes=500)
    assert reduced.notes == ["only the chains to the focus are drawn"]
    records = dot_fields(reduced.source)
    assert {r[0] for r in records.values() if r[0].startswith("x")} >= {"x", "x^60"}
    assert len(records) < 10


def test_a_network_over_budget_is_collapsed_by_module():
    from nn import MLP

    model = MLP(2, [4, 4, 1], seed=0)
    loss = sum_values((model([0.1 * i, -0.2 * i]) - 1.0) ** 2 for i in range(4))
    graph = draw_graph(loss, max_nodes=300)
    assert graph.notes == ["collapsed by module: layers.0, layers.1, layers.2"]
    parsed = pygraphviz.AGraph(string=graph.source)
    boxes = sorted(n.attr["label"].split("\\n")[0] for n in parsed.nodes() if str(n).startswith("c"))
    assert boxes == ["layers.0", "layers.1", "layers.2"]
    # Boxes feed boxes directly: a layer's outputs used only by the next layer stay inside.
    edges = {(str(a), str(b)) for a, b in parsed.edges()}
    assert ("c0", "c1") in edges and ("c1", "c2") in edges


# -- themes and size -------------------------------------------------------------------------------


def test_themes_change_colours_only():
    nodes = build_w52_nodes()
    light = draw_graph(nodes["L"]).source
    dark = draw_graph(nodes["L"], theme="dark").source
    assert "bgcolor=\"#1e1e1e\"" in dark and THEMES["dark"].fills["parameter"] in dark
    assert dot_fields(light) == dot_fields(dark)
    printed = draw_graph(nodes["L"], theme="print", show_constants=True, focus="w25").source
    for colour in set(re.findall(r"#[0-9a-fA-F]{6}", printed)):
        r, g, b = (colour[1:3], colour[3:5], colour[5:7])
        assert r == g == b, f"print theme uses a hue: {colour}"
    with pytest.raises(ValueError, match="theme must be one of light, dark, print"):
        draw_graph(nodes["L"], theme="sepia")


def svg_width_points(svg: bytes) -> float:
    return float(re.search(rb'<svg width="([\d.]+)pt"', svg).group(1))


@pytest.mark.parametrize("width, points", [("16cm", 16 / 2.54 * 72), ("6in", 432.0), ("450pt", 450.0),
                                           ("800px", 600.0), (5, 360.0)])
def test_width_scales_the_drawing_to_exactly_that_width(width, points):
    nodes = build_w52_nodes()
    svg = draw_graph(nodes["L"], width=width).pipe(format="svg")
    assert abs(svg_width_points(svg) - points) <= 1.5
    # A small drawing is scaled up as well as down.
    small = draw_graph(Value(1.0, "a"), width=width, legend=False).pipe(format="svg")
    assert abs(svg_width_points(small) - points) <= 1.5


def test_size_and_width_errors():
    assert parse_width("16cm") == pytest.approx(16 / 2.54)
    for bad in ("16", "wide", "-3cm", "0cm"):
        with pytest.raises(ValueError, match="width must be"):
            draw_graph(Value(1.0), width=bad)
    with pytest.raises(ValueError, match="not both"):
        draw_graph(Value(1.0), width="16cm", size="7,5")
    with pytest.raises(ValueError, match="size must be Graphviz's size attribute"):
        draw_graph(Value(1.0), size="big")
    assert 'size="7.5,10"' in draw_graph(Value(1.0), size="7.5,10").source


# -- chain-only drawings, where labels go, the direction and the key (issue 9's follow-up) -----------


def iris_network(seed: int = 3) -> tuple[dict[str, Value], list[Value]]:
    """The 4-4-4-3 network of notebooks/04_iris_4443.ipynb on its first flower: weights w1..w44,
    h1..h4 = tanh(first layer), h5..h8 = tanh(second), z1..z3, y = softmax(z); y1 is the root.
    157 nodes, 19 of them constants (the flower's four numbers, each used four times, and the
    softmax's max, used three times), folded into their ops: 138 drawn nodes."""
    from autograd_core import softmax

    rng = np.random.default_rng(seed)
    weights = [Value(float(v), f"w{n}") for n, v in enumerate(rng.normal(0.0, 0.5, 44), start=1)]
    x = (5.1, 3.5, 1.4, 0.2)
    nodes: dict[str, Value] = {}
    for j in range(1, 5):
        nodes[f"h{j}"] = sum_values(weights[4 * (j - 1) + i] * x[i] for i in range(4)).tanh()
    for j in range(1, 5):
        nodes[f"h{4 + j}"] = sum_values(weights[16 + 4 * (j - 1) + i] * nodes[f"h{i + 1}"]
                                        for i in range(4)).tanh()
    for c in range(1, 4):
        nodes[f"z{c}"] = sum_values(weights[32 + 4 * (c - 1) + i] * nodes[f"h{5 + i}"] for i in range(4))
    for c, p in enumerate(softmax([nodes["z1"], nodes["z2"], nodes["z3"]]), start=1):
        nodes[f"y{c}"] = p
    for name, node in nodes.items():
        node.label = name
    nodes["y1"].backward()
    return nodes, weights


def record_names(source: str) -> list[str]:
    return sorted(fields[0] for fields in dot_fields(source).values())


def test_iris_chain_to_one_weight_draws_only_the_chain_and_its_ops_inputs():
    nodes, weights = iris_network()
    order = topological_order(nodes["y1"])
    assert len(order) == 157 and sum(1 for n in order if n.is_constant) == 19
    w17 = weights[16]
    graph = draw_graph(nodes["y1"], focus=w17)  # 138 drawn nodes > 60: chain only, by default
    assert graph.notes == ["only the chains to the focus are drawn"]
    records = dot_fields(graph.source)
    # By hand: on the chains from y1 to w17 are w17, its product, the three partial sums into
    # h5, h5; per output c the product w*h5, its three partial sums (the last is z_c), z_c - m
    # and its exp; the two sums of the softmax's denominator and y1: 6 + 3 * 6 + 2 + 1 = 27.
    # The inputs of their ops off the chains: h1 and the three other products into h5, and per
    # output c its weight of h5 and its three other products: 4 + 3 * 4 = 16.
    assert len(records) == 27 + 16
    assert graph.drawn_nodes == 43 + 26  # and an op node for each of the 26 computed on the chain
    names = {fields[0] for fields in records.values()}
    assert {"w17", "(w17*h1)", "h5", "z1", "z2", "z3", "sum#1", "sum#2", "y1", "h1", "w33"} <= names
    assert not {"w1", "h2", "x", "h6"} & names  # drawn nowhere, as nothing of the first layer
    stubs = {item for item, fields in records.items() if len(fields) == 2}
    assert stubs == set(graph.stub_items) and len(stubs) == 16
    assert records[f"n{index_of(order, nodes['h1'])}"] == ["h1", f"data {fmt(nodes['h1'].data)}"]
    # 14 boxes from w17 to y1 run top to bottom, within a notebook's width.
    assert graph.direction == "TB"
    svg = graph.pipe(format="svg")
    assert svg_width_points(svg) < 1000  # the dimmed whole graph was 2,100 pt wide
    # 157 nodes - 43 drawn - 19 constants folded = 95 left out.
    assert "grey: other inputs of the chains' ops; 95 nodes off the chains from y1 to w17 not drawn" \
        in graph.source


def test_chain_only_is_a_choice_and_dim_the_other():
    nodes, weights = iris_network()
    whole = draw_graph(nodes["y1"], focus=weights[16], focus_mode="dim")
    assert whole.notes == [] and len(dot_fields(whole.source)) == 138 and whole.direction == "LR"
    w52 = build_w52_nodes()
    dimmed = draw_graph(w52["L"], focus=w52["w25"])  # 45 nodes, 39 drawn: whole, dimmed
    assert dimmed.notes == [] and len(dot_fields(dimmed.source)) == 39
    chain = draw_graph(w52["L"], focus=w52["w25"], chain_only=True)
    # By hand: the slide's chain of 8 and the inputs of its ops, x2, (w15*x1) and v1*v2 + v3/v4
    # (the 1 of 1/u5 and the 2 of y - 2 are folded into their ops).
    assert record_names(chain.source) == sorted(W52_CHAIN + ["x2", "(w15*x1)", "(v1*v2+v3/v4)"])
    assert draw_graph(w52["L"], focus=w52["w25"], focus_mode="chain").source == chain.source
    assert chain.direction == "LR"  # 8 boxes: short enough to run left to right
    with pytest.raises(ValueError, match="focus_mode must be one of"):
        draw_graph(w52["L"], focus=w52["w25"], focus_mode="only")
    with pytest.raises(ValueError, match="disagree"):
        draw_graph(w52["L"], focus=w52["w25"], chain_only=True, focus_mode="dim")


def test_iris_chain_with_edge_labels_is_drawn_and_labels_only_the_chain():
    nodes, weights = iris_network()
    order = topological_order(nodes["y1"])
    graph = draw_graph(nodes["y1"], focus=weights[16], edge_labels=True)  # was refused
    labels = {edge: text for edge, text in edge_labels(graph.source).items() if text}
    # By hand: one labelled edge into each of the 26 computed nodes on the chain, and a second
    # into y1 and the two sums of the denominator, whose inputs are both on the chain.
    assert len(labels) == 26 + 3
    w17 = weights[16]
    product = next(n for n in order if n.parents and n.parents[0] is w17)
    text = labels[(f"n{index_of(order, w17)}", f"n{index_of(order, product)}_op")]
    h1 = nodes["h1"].data
    assert text.splitlines()[0] == f"∂(w17*h1)/∂w17 = h1 = {fmt(h1)}"
    assert text.splitlines()[1].endswith(f"= {fmt(w17.grad)}")


def test_with_a_focus_only_the_chains_edges_carry_labels():
    nodes = build_w52_nodes()
    nodes["L"].backward()
    source = draw_graph(nodes["L"], focus=nodes["w25"], edge_labels=True).source
    labelled = {edge for edge, text in edge_labels(source).items() if text}
    order = topological_order(nodes["L"])
    pos = {name: index_of(order, node) for name, node in nodes.items()}
    product, minus2 = index_of(order, nodes["u5"].parents[1]), index_of(order, nodes["L"].parents[0])
    # The slide's seven edges, from w52 (the table's w25) up to L; none of the 40 others.
    assert labelled == {(f"n{pos['w25']}", f"n{product}_op"), (f"n{product}", f"n{pos['u5']}_op"),
                        (f"n{pos['u5']}", f"n{pos['v5']}_op"), (f"n{pos['v5']}", f"n{pos['F']}_op"),
                        (f"n{pos['F']}", f"n{pos['y']}_op"), (f"n{pos['y']}", f"n{minus2}_op"),
                        (f"n{minus2}", f"n{pos['L']}_op")}


def test_a_long_labelled_drawing_runs_top_to_bottom_unless_told():
    nodes = build_w52_nodes()
    nodes["L"].backward()
    labelled = draw_graph(nodes["L"], labels={nodes["w25"]: "w52"}, focus=nodes["w25"], edge_labels=True)
    # 10 boxes from w11 to L: labels would widen each rank left to right (2,207 pt; 3,438 px
    # as the notebook first drew it); top to bottom they sit beside their edges.
    assert labelled.direction == "TB" and 'rankdir=TB' in labelled.source
    assert svg_width_points(labelled.pipe(format="svg")) < 1200
    assert draw_graph(nodes["L"]).direction == "LR"  # no labels: the README's picture, as before
    told = draw_graph(nodes["L"], "LR", focus=nodes["w25"], edge_labels=True)
    assert told.direction == "LR" and 'rankdir=LR' in told.source
    small = (Value(2.0, "a") * Value(3.0, "b")).tanh()
    assert draw_graph(small, edge_labels=True).direction == "LR"


def test_the_key_names_the_constants_that_are_folded():
    nodes = build_w52_nodes()
    assert ">operation (1/·, · - 2: a constant folded in)<" in draw_graph(nodes["L"]).source
    iris, weights = iris_network()
    shift = max(iris[f"z{c}"].data for c in (1, 2, 3))  # the softmax's max, subtracted
    assert f">operation (· - {shift:.4g}: a constant folded in)<" in \
        draw_graph(iris["y1"], focus=weights[16]).source
    plain = draw_graph(Value(2.0, "a") * Value(3.0, "b")).source
    assert ">operation<" in plain and "folded" not in plain
    assert ">operation (1/·, · - 2: a constant folded in)<" not in \
        draw_graph(nodes["L"], show_constants=True).source
    # A wide key wraps into rows of about 90 characters: it never sets the drawing's width.
    key = re.search(r"label=<(.*)>", draw_graph(iris["y1"], focus=weights[16]).source, re.S).group(1)
    assert key.count("<table") >= 3


def test_leaves_named_like_numbers_you_gave_are_inputs():
    a, b, y = Value(2.0, "a"), Value(3.0, "b"), Value(0.5, "y")
    out = (a * y + b).tanh()
    kinds = svg_nodes(draw_graph(out).pipe(format="svg"))
    order = topological_order(out)
    assert "input" in kinds[f"n{index_of(order, a)}"][0].split()
    assert "input" in kinds[f"n{index_of(order, y)}"][0].split()
    assert "parameter" in kinds[f"n{index_of(order, b)}"][0].split()  # b: a bias
