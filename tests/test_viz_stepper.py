"""The backward stepper: draw_step's highlighting and grads-so-far (hand-derived and PyTorch),
Stepper's sequence interface, stable frames, and the player's HTML."""

from __future__ import annotations

import json
import re
import struct
import xml.etree.ElementTree as ET

import numpy as np
import pygraphviz
import pytest
import torch

from autograd_core import Tensor, Value, softmax, topological_order, trace_backward
from oracles import build_w52_nodes, torch_w52
from viz import Stepper, backprop_player, draw_step
from viz.render import render_source

SVG = "{http://www.w3.org/2000/svg}"


# The classes the stepper sets; the drawing's own (a leaf's role: input, parameter) are
# viz.graph's business, tested in test_viz_graph.py.
STEP_CLASSES = {"active", "root", "result"}

def position(order: list, node: object) -> int:
    """The index of `node` in `order` by identity (Tensors compare elementwise with ==)."""
    return next(i for i, candidate in enumerate(order) if candidate is node)



def records(source: str) -> dict[str, tuple[set[str], list[str]]]:
    """node id -> (its classes among STEP_CLASSES, its record lines with padding and escapes
    removed)."""
    out = {}
    graph = pygraphviz.AGraph(string=source)  # kept alive: its nodes read attributes through it
    for node in graph.nodes():
        if node.attr["shape"] in ("record", "Mrecord"):
            label = node.attr["label"].replace("\u00a0", " ")
            lines = [re.sub(r"\\(.)", r"\1", f).strip() for f in re.split(r"(?<!\\)\|", label)]
            out[str(node)] = (set(node.attr["class"].split()) & STEP_CLASSES, lines)
    return out


def active_edges(source: str) -> set[tuple[str, str]]:
    graph = pygraphviz.AGraph(string=source)
    return {(str(a), str(b)) for a, b in graph.edges() if "active" in (graph.get_edge(a, b).attr["class"] or "")}


# -- a hand-derived example: L = x*y + x, x = 2, y = 3 --------------------------------------------
#
# topological order: x (n0), y (n1), x*y (n2), L (n3). backward applies
#   step 1 at L (+):   dL/d(x*y) += 1,          dL/dx += 1
#   step 2 at x*y (*): dL/dx += 1 * y = 3,      dL/dy += 1 * x = 2
# so x has received 1 (more to come) after step 1 and 1 + 3 = 4 after step 2.


def hand_graph() -> Value:
    x, y = Value(2.0, "x"), Value(3.0, "y")
    L = x * y + x
    L.label = "L"
    return L


def test_step_zero_is_the_forward_pass_with_no_grad_known():
    drawn = records(draw_step(hand_graph(), 0).source)
    assert drawn == {
        "n0": (set(), ["x", "data 2", "grad ?"]),
        "n1": (set(), ["y", "data 3", "grad ?"]),
        "n2": ({"result"}, ["(x*y)", "data 6", "grad ?"]),
        "n3": ({"root"}, ["L", "data 8", "grad ?"]),
    }
    assert not active_edges(draw_step(hand_graph(), 0).source)


def test_step_one_highlights_the_root_and_its_parent_edges():
    source = draw_step(hand_graph(), 1).source
    drawn = records(source)
    assert drawn["n3"] == ({"root", "active"}, ["L", "data 8", "grad 1"])
    assert drawn["n2"] == ({"result"}, ["(x*y)", "data 6", "grad 1"])
    assert drawn["n0"] == (set(), ["x", "data 2", "grad 1 (so far)"])
    assert drawn["n1"] == (set(), ["y", "data 3", "grad ?"])
    assert active_edges(source) == {("n3_op", "n3"), ("n2", "n3_op"), ("n0", "n3_op")}
    graph = pygraphviz.AGraph(string=source)
    op_classes = graph.get_node("n3_op").attr["class"].split()
    assert "active" in op_classes


def test_step_two_completes_every_gradient():
    source = draw_step(hand_graph(), 2).source
    drawn = records(source)
    assert drawn["n2"] == ({"result", "active"}, ["(x*y)", "data 6", "grad 1"])
    assert drawn["n0"] == (set(), ["x", "data 2", "grad 4"])
    assert drawn["n1"] == (set(), ["y", "data 3", "grad 2"])
    assert active_edges(source) == {("n2_op", "n2"), ("n0", "n2_op"), ("n1", "n2_op")}


def test_drawing_steps_never_changes_any_grad():
    L = hand_graph()
    for k in range(3):
        draw_step(L, k)
    assert all(node.grad == 0.0 for node in topological_order(L))


def test_frames_keep_every_node_in_place():
    """Grad texts are padded and the font is fixed-width, so the layout never moves."""
    stepper = Stepper(hand_graph())

    def shapes(k: int) -> dict[str, str]:
        svg, _ = render_source(stepper.draw(k).source, "svg")
        out = {}
        for g in ET.fromstring(svg).iter(f"{SVG}g"):
            if "node" in g.get("class", "").split():
                shape = next(el for el in g if el.tag in (f"{SVG}polygon", f"{SVG}path", f"{SVG}ellipse"))
                out[g.find(f"{SVG}title").text] = ET.tostring(shape).decode().split(" fill=")[0] \
                    + str(shape.get("points") or shape.get("d") or (shape.get("cx"), shape.get("cy")))
        return out

    first = shapes(0)
    assert len(first) == 6
    assert all(shapes(k) == first for k in (1, 2))


# -- the w52 graph against PyTorch -----------------------------------------------------------------

def torch_w52_grads() -> dict[str, float]:
    """dL/d(every named w52 node) from PyTorch float64."""
    return {name: grad for name, (_, grad) in torch_w52().items()}


@pytest.fixture(scope="module")
def w52_stepper() -> tuple[Stepper, dict[str, Value]]:
    nodes = build_w52_nodes()
    return Stepper(nodes["L"]), nodes


def test_w52_has_one_step_per_computed_node(w52_stepper):
    stepper, nodes = w52_stepper
    # By hand: 5 x (two *, one +), five 1/u, F's *, / , + and -, sigmoid, (y - 2) and **2.
    assert len(stepper) == 27
    assert stepper[1].node is nodes["L"] and stepper[1].index == 1
    assert stepper[-1] is stepper[27]
    assert [s.index for s in stepper] == list(range(1, 28))


def test_w52_every_step_highlights_its_own_node(w52_stepper):
    stepper, nodes = w52_stepper
    order = topological_order(nodes["L"])
    for k in range(1, len(stepper) + 1):
        drawn = records(stepper.draw(k).source)
        active = [node_id for node_id, (classes, _) in drawn.items() if "active" in classes]
        assert active == [f"n{position(order, stepper[k].node)}"]


def test_w52_last_frame_shows_the_torch_gradients(w52_stepper):
    stepper, nodes = w52_stepper
    order = topological_order(nodes["L"])
    grads = torch_w52_grads()
    drawn = records(stepper.draw(len(stepper)).source)
    for name, node in nodes.items():
        assert drawn[f"n{position(order, node)}"][1][-1] == f"grad {grads[name]:.4g}"
    assert not any("?" in lines[-1] or "so far" in lines[-1] for _, lines in drawn.values())


def test_w52_slide_order_w52_is_complete_when_u5_has_passed_it_on(w52_stepper):
    """The slide's chain: dL/dw52 = dL/du5 * x2 arrives in the step at u5's + ... * node."""
    stepper, nodes = w52_stepper
    order = topological_order(nodes["L"])
    w = f"n{position(order, nodes['w25'])}"
    k = next(s.index for s in stepper if any(p.parent is nodes["w25"] for p in s.parents))
    assert records(stepper.draw(k - 1).source)[w][1][-1] == "grad ?"
    assert records(stepper.draw(k).source)[w][1][-1] == f"grad {torch_w52_grads()['w25']:.4g}"


def test_step_texts_are_the_trace_lines(w52_stepper):
    stepper, nodes = w52_stepper
    steps = trace_backward(nodes["L"])
    assert stepper.text(0).startswith("step 0: forward pass")
    for k in (1, 5, 27):
        assert stepper.text(k) == str(steps[k - 1])


# -- Tensor graphs ---------------------------------------------------------------------------------


def test_tensor_steps_show_the_torch_gradients():
    a_data, b_data = [[1.0, -2.0], [0.5, 3.0]], [0.25, -1.0]
    a = Tensor(a_data, requires_grad=True, label="A")
    b = Tensor(b_data, requires_grad=True, label="b")
    loss = (a * b).sum()
    loss.label = "loss"
    ta = torch.tensor(a_data, dtype=torch.float64, requires_grad=True)
    tb = torch.tensor(b_data, dtype=torch.float64, requires_grad=True)
    (ta * tb).sum().backward()
    stepper = Stepper(loss)
    order = topological_order(loss)
    last = records(stepper.draw(len(stepper)).source)

    def shown(t: torch.Tensor) -> str:
        return np.array2string(t.numpy(), separator=", ", formatter={"all": lambda v: f"{v:.4g}"}) \
            .replace("\n", "")

    assert last[f"n{position(order, a)}"][1][-1] == re.sub(r"\s+", " ", f"grad {shown(ta.grad)}")
    assert last[f"n{position(order, b)}"][1][-1] == f"grad {shown(tb.grad)}"
    assert records(stepper.draw(0).source)[f"n{position(order, a)}"][1][-1] == "grad ?"
    assert a.grad is None  # tracing did not run backward


# -- Stepper's interface and bad input -------------------------------------------------------------


def test_indexing_follows_step_numbers_and_refuses_the_rest():
    stepper = Stepper(hand_graph())
    assert len(stepper) == 2
    with pytest.raises(IndexError, match="step 0 is the forward pass"):
        stepper[0]
    with pytest.raises(IndexError, match="steps 1 to 2"):
        stepper[3]
    with pytest.raises(TypeError, match="must be an int"):
        stepper["1"]
    with pytest.raises(IndexError, match="steps 0 .the forward pass. to 2"):
        stepper.draw(3)
    with pytest.raises(IndexError, match="steps 0"):
        stepper.draw(-1)
    with pytest.raises(TypeError, match="step index must be an int"):
        stepper.draw(True)
    with pytest.raises(TypeError, match="step index must be an int"):
        draw_step(hand_graph(), 1.0)
    assert records(stepper.draw(np.int64(2)).source) == records(draw_step(hand_graph(), 2).source)


def test_bad_roots_and_options_are_refused(tmp_path):
    with pytest.raises(TypeError, match="root must be a Value or Tensor"):
        Stepper(2.0)
    with pytest.raises(ValueError, match="rankdir must be one of"):
        Stepper(hand_graph(), rankdir="sideways")
    with pytest.raises(ValueError, match="must end in .html"):
        backprop_player(hand_graph(), tmp_path / "player.svg")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        backprop_player(hand_graph(), tmp_path / "nowhere" / "player.html")


def test_a_leaf_root_has_only_the_forward_frame():
    stepper = Stepper(Value(1.0, "a"))
    assert len(stepper) == 0
    assert records(stepper.draw(0).source)["n0"][1] == ["a", "data 1", "grad ?"]


# -- the player's HTML -----------------------------------------------------------------------------
#
# The player is ONE drawing plus the per-step state as data (replacing one drawing per step, which
# made the w52 player 1.9 MB and refused passes over 120 steps). These tests read the data the
# way its script applies it; test_viz_player_browser.py runs the script in Chromium.

KB, MB = 1000, 1000 ** 2


def player_parts(page: str) -> tuple[dict, str]:
    """(the player's step data, its SVG) from a page or fragment."""
    payload = re.search(r'<script type="application/json" class="cr-data">(.*?)</script>', page, re.S)
    svg = re.search(r"<svg.*?</svg>", page, re.S)
    assert payload and svg
    return json.loads(payload.group(1).replace("<\\/", "</")), svg.group(0)


def grads_after(data: dict, k: int) -> dict[int, str]:
    """Each node's grad line after step k, applying the changes of steps 1..k in order."""
    state: dict[int, str] = {}
    for step in data["steps"][1:k + 1]:
        state.update({node: text for node, text in step[3]})
    return state


def test_player_is_one_drawing_and_the_steps_as_data(tmp_path, w52_stepper):
    stepper, nodes = w52_stepper
    path = backprop_player(nodes["L"], tmp_path / "w52.html")
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("<svg") == 1
    data, svg = player_parts(page)
    order = topological_order(nodes["L"])
    assert len(data["steps"]) == 28 and data["initial"] == "grad ?"
    assert data["steps"][0][:2] == [-1, stepper.text(0)]
    for k in range(1, 28):
        active, header, formulas, _, receivers = data["steps"][k]
        assert active == position(order, stepper[k].node)
        assert receivers == sorted({position(order, p.parent) for p in stepper[k].parents})
        assert header == stepper[k].header()
        assert formulas == stepper[k].mathml() and formulas.count("<math") == len(stepper[k].lines())
    # After the last step every named node shows the gradient PyTorch computes.
    last = grads_after(data, 27)
    for name, grad in torch_w52_grads().items():
        assert last[position(order, nodes[name])] == f"grad {grad:.4g}", name
    # x2 feeds five units: "(so far)" until its fifth contribution.
    x2 = [text for step in data["steps"] for node, text in step[3] if node == position(order, nodes["x2"])]
    assert len(x2) == 5 and all(t.endswith("(so far)") for t in x2[:4]) and "so far" not in x2[4]
    # Every drawn node and edge can be found by the script; no Graphviz id is left to clash.
    # (The numbers an expression wraps, the 1 of 1/u, may be folded into their op's node.)
    drawn = set(re.findall(r'<g class="node[^"]*" data-n="(\w+)"', svg))
    assert {f"n{i}" for i, node in enumerate(order) if not node.is_constant} <= drawn
    computed = sum(1 for node in order if node.parents)
    assert len(re.findall(r'<g class="edge[^"]*" data-t="\w+" data-h="\w+"', svg)) > computed
    assert " id=" not in svg
    # Offline by construction: a policy forbidding any fetch, and nothing that would fetch.
    assert "default-src 'none'" in page
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", page)
    assert not re.search(r"@import|url\(\s*['\"]?https?:", page)
    for control in ("first", "prev", "play", "next", "last"):
        assert f'data-action="{control}"' in page
    # The controls are the script's to add (no dead buttons where no script runs); the
    # slider's end is the data's last step (test_viz_player_browser.py checks it in Chromium).
    assert 'type="range"' in page and 'data-steps="27"' in page and 'class="cr-list"' in page
    assert page.count("<button") == 6 and page.index("<button") > page.index("<script>")


def test_player_uses_the_drawings_font_family_and_a_fixed_text_area(tmp_path, w52_stepper):
    from viz.graph import SANS_FONT

    stepper, _ = w52_stepper
    page = stepper.player_html()
    assert "Courier" not in page and "monospace" not in page
    family = SANS_FONT.replace(",", ", ")
    assert f".chainrule-player {{ font-family: {family};" in page
    assert f".cr-graph text {{ font-family: {family};" in page
    assert re.search(r"\.cr-step \{ height: [\d.]+em; overflow: auto;", page)


def test_player_without_scripts_shows_the_finished_pass(w52_stepper):
    """What a page with scripts blocked shows: the drawing after the last step, and a note."""
    stepper, nodes = w52_stepper
    _, svg = player_parts(stepper.player_html())
    order = topological_order(nodes["L"])
    group = re.search(rf'data-n="n{position(order, nodes["w25"])}">(.*?)</g>', svg, re.S).group(1)
    grad_line = re.findall(r"<text[^>]*>([^<]*)</text>", group)[-1]
    assert grad_line == f"grad {torch_w52_grads()['w25']:.4g}"
    assert "needs JavaScript" in stepper.player_html()


def test_player_sizes_grow_with_graph_plus_steps(tmp_path, w52_stepper):
    """Budgets of issue 9: w52 at most 300 KB; MLP(2,[8,8,1]) on one sample at most 1.5 MB; a
    2,000-step chain at most 6 MB (with one drawing per step they were 1.9 MB, 95 MB, and refused)."""
    from nn import MLP

    stepper, nodes = w52_stepper
    w52 = backprop_player(nodes["L"], tmp_path / "w52.html").stat().st_size
    assert w52 <= 300 * KB, w52

    model = MLP(2, [8, 8, 1], seed=0)
    loss = (model([Value(0.5, "x1"), Value(-1.0, "x2")]) - 1.0) ** 2
    mlp = Stepper(loss)
    # by hand: 2*8 + 8*8 + 8*1 = 88 weights, each a * and a +, 16 tanh, then (out - 1) and ^2
    assert len(mlp) == 88 * 2 + 16 + 2 == 194
    mlp_size = mlp.save(tmp_path / "mlp.html").stat().st_size
    assert mlp_size <= 1.5 * MB, mlp_size

    root = long_chain()
    chain = Stepper(root)
    assert len(chain) == 2000  # no cap on the number of steps
    chain_size = chain.save(tmp_path / "chain.html").stat().st_size
    assert chain_size <= 6 * MB, chain_size


def long_chain(links: int = 1000) -> Value:
    """y = x; y = y * 1.001 + 0.001, 1,000 times: 2,000 steps (a * and a + per link)."""
    y = Value(0.5, "x")
    for _ in range(links):
        y = y * 1.001 + 0.001
    y.label = "y"
    return y


def test_jupyter_display_is_a_fragment_with_its_own_id():
    stepper = Stepper(hand_graph())
    first, second = stepper._repr_html_(), stepper._repr_html_()
    assert "<html" not in first and first.count("<svg") == 1
    ids = [re.search(r'class="chainrule-player" id="([^"]+)"', h).group(1) for h in (first, second)]
    assert ids[0] != ids[1]
    assert first.count("<script>") == 1 and 'class="cr-data"' in first


def test_player_data_escapes_script_ends():
    """A label that looks like the end of a script cannot end the data early."""
    x = Value(2.0, "</script><b>x")
    y = x * x
    y.label = "y"
    page = Stepper(y).player_html(standalone=False)
    data, _ = player_parts(page)
    assert data["steps"][1][1] == "step 1: y [*]"
    assert page.count("</script>") == 2  # the data's and the code's, nothing else


def test_reprs_name_the_graph_without_an_address():
    a = Value(0.5, "a")
    out = a.tanh()
    out.label = "out"
    assert repr(Stepper(out)) == "<Stepper: backward pass of 'out', 1 step>"
    assert " at 0x" not in repr(draw_step(out, 1)) and repr(draw_step(out, 1)).startswith("<GradientGraph: ")


def test_names_are_the_same_in_trace_drawing_and_player():
    from viz import Stepper
    from viz.graph import drawing_names

    z = [Value(v, f"z{i}") for i, v in enumerate((0.5, -0.25, 0.125), start=1)]
    y = softmax(z)[0]
    y.label = "y"
    order = topological_order(y)
    drawn = drawing_names(y, order, {})
    traced = {step.name for step in trace_backward(y)}
    assert {"sum#1", "sum#2"} <= traced and traced <= set(drawn.values())
    assert "sum#2" in Stepper(y).player_html()



# -- labels, chain-only players and the picture for untrusted notebooks (issue 9's follow-up) ------


def test_labels_name_w52_in_the_steps_the_table_and_the_drawing():
    nodes = build_w52_nodes()
    stepper = Stepper(nodes["L"], focus=nodes["w25"], labels={nodes["w25"]: "w52"})
    assert repr(stepper) == "<Stepper: backward pass of 'L' focused on 'w52', 7 steps>"
    assert stepper[7].header() == "step 7: (w52*x2) [*]"
    assert stepper.table()[-1].lines()[0].startswith("dL/dw52 = dL/d(w52*x2) * (x2) = ")
    data, svg = player_parts(stepper.player_html())
    assert all("w25" not in step[1] and "<mn>25</mn>" not in step[2] for step in data["steps"])
    order = topological_order(nodes["L"])
    group = re.search(rf'data-n="n{position(order, nodes["w25"])}">(.*?)</g>', svg, re.S).group(1)
    assert re.findall(r"<text[^>]*>([^<]*)</text>", group)[0] == "w52"
    assert records(draw_step(nodes["L"], 7, focus=nodes["w25"], labels={nodes["w25"]: "w52"}).source)[
        f"n{position(order, nodes['w25'])}"][1][0] == "w52"


def iris_first_flower_dy1_dw(n: int, eps: float = 1e-6) -> float:
    """dy1/dw_n of `test_viz_graph.iris_network` (the same weights: seed 3) by central
    differences, in plain numpy (no graph)."""
    rng = np.random.default_rng(3)
    w = rng.normal(0.0, 0.5, 44)
    x = np.array([5.1, 3.5, 1.4, 0.2])

    def y1(w: np.ndarray) -> float:
        h = np.tanh(w[:16].reshape(4, 4) @ x)
        h = np.tanh(w[16:32].reshape(4, 4) @ h)
        z = w[32:].reshape(3, 4) @ h
        e = np.exp(z - z.max())
        return float(e[0] / e.sum())

    up, down = w.copy(), w.copy()
    up[n - 1] += eps
    down[n - 1] -= eps
    return (y1(up) - y1(down)) / (2 * eps)


def test_a_large_graphs_player_draws_only_the_chain():
    from test_viz_graph import iris_network

    nodes, weights = iris_network()
    stepper = Stepper(nodes["y1"], focus=weights[16])  # 138 drawn nodes: the chain only
    assert len(stepper) == 26
    data, svg = player_parts(stepper.player_html())
    order = topological_order(nodes["y1"])
    drawn = set(re.findall(r'<g class="node[^"]*" data-n="(n\d+)"', svg))
    assert len(drawn) == 27 + 16  # the chain's records and the inputs of their ops (see test_viz_graph)
    assert f"n{position(order, weights[0])}" not in drawn  # w1: off every chain, not drawn
    # An input of a chain's op keeps its data line: the script never writes a grad into it.
    h1 = f"n{position(order, nodes['h1'])}"
    group = re.search(rf'data-n="{h1}">(.*?)</g>', svg, re.S).group(1)
    assert re.findall(r"<text[^>]*>([^<]*)</text>", group) == ["h1", f"data {nodes['h1'].data:.4g}"]
    assert all(node != position(order, nodes["h1"]) for step in data["steps"] for node, _ in step[3])
    # After the last step w17 shows dy1/dw17, checked against central differences in numpy.
    final = grads_after(data, 26)
    assert final[position(order, weights[16])] == f"grad {iris_first_flower_dy1_dw(17):.4g}"
    whole = Stepper(nodes["y1"], focus=weights[16], focus_mode="dim")
    assert len(set(re.findall(r'data-n="(n\d+)"', player_parts(whole.player_html())[1]))) == 138


def test_the_jupyter_bundle_carries_a_picture_for_untrusted_notebooks():
    import base64

    nodes = build_w52_nodes()
    stepper = Stepper(nodes["L"], focus=nodes["w25"], labels={nodes["w25"]: "w52"})
    bundle = stepper._repr_mimebundle_()
    assert set(bundle) == {"text/html", "image/png", "text/plain"}
    png = bundle["image/png"]
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", png[16:24])
    assert 600 < width <= 2400 and 300 < height <= 2400, (width, height)  # 72 dpi, bounded
    assert len(png) < 250_000
    page = bundle["text/html"]
    # The same picture, in the HTML in place of the player where no script runs (a sanitizer
    # that drops scripts drops inline SVG too), and a one-line note saying how to play it.
    assert f'src="data:image/png;base64,{base64.b64encode(png).decode()}"' in page
    assert "cr-pictured" in page and "trust the notebook" in page
    assert "<button" not in page.split("<script>")[0]  # no dead buttons without a script
    assert bundle["text/plain"].startswith("<Stepper: backward pass of 'L' focused on 'w52', 7 steps>\n")
    assert "Trust Notebook" in bundle["text/plain"]
    # The note is in the picture too (drawn above the key), and so are the finished grads.
    graph, _ = stepper._player_drawing({id(n): "grad ?" for n in topological_order(nodes["L"])},
                                       caption="a caption")
    assert ">a caption<" in graph.source
    assert set(Stepper(hand_graph())._repr_mimebundle_(include=["image/png"])) == {"image/png"}
    assert "image/png" not in Stepper(hand_graph())._repr_mimebundle_(exclude=["image/png"])
    # The standalone player carries no picture (a file opened in a browser runs its script).
    assert "data:image/png" not in stepper.player_html()
