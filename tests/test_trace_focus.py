"""`trace_backward(root, focus=node)`: only the steps on the chain(s) from the root to one node,
checked against the slide's five-step chain for dL/dw52 and the hand computation; the focused
Stepper and player; the errors for a node that is not in the graph."""

from __future__ import annotations

import json
import math
import re

import pygraphviz
import pytest

from autograd_core import Value, topological_order, trace_backward
from autograd_core.trace import Trace, chain_nodes
from chainrule.focus import resolve_w52_node, run_w52_focus
from chainrule.w52 import build_w52, w52_chain
from oracles import build_w52_nodes, hand_forward, hand_gradients, slide_chain_for_w52
from viz import Stepper, backprop_player
from viz import stepper as stepper_module


@pytest.fixture()
def w52():
    return build_w52_nodes()


def test_the_w52_chain_is_the_slides_steps(w52):
    steps = trace_backward(w52["L"], focus=w52["w25"])
    assert isinstance(steps, Trace)
    # L = (y-2)^2 -> (y-2) -> y -> F -> v5 -> u5 -> (w25*x2) -> w25: the slide's y, F, v5, u5 and
    # w52 arrive in the steps at (y-2), y, F, v5 and (w25*x2) (u5 = w15*x1 + w25*x2 passes
    # dL/du5 on unchanged to its w25*x2 term).
    assert [s.name for s in steps] == ["L", "(y-2)", "y", "F", "v5", "u5", "(w25*x2)"]
    assert [s.index for s in steps] == list(range(1, 8))
    full = trace_backward(w52["L"])
    assert [s.pass_index for s in steps] == [full.index(next(f for f in full if f.node is s.node)) + 1
                                             for s in steps]
    # Each focused step keeps only the parent on the chain.
    received = [(p.name, p.contribution) for s in steps for p in s.parents]
    assert [name for name, _ in received] == ["(y-2)", "y", "F", "v5", "u5", "(w25*x2)", "w25"]
    slide = slide_chain_for_w52(hand_forward())  # the slide's steps 5 (dL/dy) down to 1 (dL/dw52)
    by_name = dict(received)
    for name, slide_step in (("y", 5), ("F", 4), ("v5", 3), ("u5", 2), ("w25", 1)):
        assert math.isclose(by_name[name], slide[slide_step], rel_tol=1e-12), name


def test_the_focused_lines_are_the_slides_formulas(w52):
    steps = trace_backward(w52["L"], focus=w52["w25"])
    lines = [line for s in steps for line in s.lines()]
    assert len(lines) == 7
    assert lines[2].startswith("dL/dF = dL/dy * (y*(1-y)) = ")      # the slide's dy/dF = (1 - y) y
    assert lines[3].startswith("dL/dv5 = dL/dF * (-1) = ")          # dF/dv5 = -1
    assert lines[4].startswith("dL/du5 = dL/dv5 * (-1/u5^2) = ")    # dv/du = -1/u^2
    assert lines[6].startswith("dL/dw25 = dL/d(w25*x2) * (x2) = ")  # du5/dw52 = x2
    # Backward happens to reach unit 5 first, so here both numberings agree ...
    assert [s.pass_index for s in steps] == list(range(1, 8))
    assert str(steps[-1]).splitlines()[0] == "step 7: (w25*x2) [*]"
    # ... while unit 1 comes later, and its steps say where they are in the whole pass.
    last = trace_backward(w52["L"], focus=w52["w11"])[-1]
    # L, (y-2), y, F, (v1*v2)+(v3/v4), (v1*v2), v1, u1, (w11*x1): nine steps by hand
    assert last.pass_index > last.index == 9
    assert str(last).splitlines()[0] == f"step 9: (w11*x1) [*] (step {last.pass_index} of the whole pass)"


def test_library_w52_focus_matches_w52_chain():
    """chainrule.w52's own builder: the focused trace ends in the numbers of its w52_chain rows."""
    graph = build_w52()
    steps = trace_backward(graph.L, focus=graph.w52)
    graph.L.backward()
    rows = {formula.split(" = ")[0]: product for _, formula, _, _, product in w52_chain(graph)}
    produced = {f"dL/d{p.name}": p.contribution for s in steps for p in s.parents}
    produced["dL/dw52"] = produced.pop(f"dL/d{graph.w52.label}")
    for gradient in ("dL/dy", "dL/dF", "dL/dv5", "dL/du5", "dL/dw52"):
        assert math.isclose(produced[gradient], rows[gradient], rel_tol=1e-12), gradient


def test_focus_on_an_input_follows_every_path(w52):
    """x1 feeds all five hidden units: five chains, and dL/dx1 arrives in five parts."""
    steps = trace_backward(w52["L"], focus=w52["x1"])
    parts = [p for s in steps for p in s.parents if p.parent is w52["x1"]]
    assert len(parts) == 5 and [p.path for p in parts] == [1, 2, 3, 4, 5]
    assert math.isclose(parts[-1].total, hand_gradients(hand_forward())["x1"], rel_tol=1e-12)
    assert all(p.paths == 5 for p in parts)
    # The steps of all five units are kept, the weights' own products (w1j*x1) included.
    assert {s.name for s in steps} >= {f"u{j}" for j in range(1, 6)} | {f"v{j}" for j in range(1, 6)}


def test_focus_on_several_nodes_and_on_the_root(w52):
    both = trace_backward(w52["L"], focus=[w52["w25"], w52["w11"]])
    names = [s.name for s in both]
    assert "u5" in names and "u1" in names and "(w11*x1)" in names
    assert trace_backward(w52["L"], focus=w52["L"]) == []  # dL/dL = 1 needs no chain rule
    # The chain to w25: w25, w25*x2, u5, v5, F, y, y-2 and L; nothing else.
    on = chain_nodes(w52["L"], w52["w25"])
    expected = [w52[name] for name in ("w25", "u5", "v5", "F", "y", "L")]
    expected += [w52["u5"].parents[1], w52["L"].parents[0]]  # (w25*x2) and (y-2)
    assert on == {id(node) for node in expected}


def test_focus_errors_name_the_node(w52):
    stranger = Value(1.0, "q")
    with pytest.raises(ValueError, match=r"focus: 'q' is not a node of the graph of 'L'"):
        trace_backward(w52["L"], focus=stranger)
    with pytest.raises(ValueError, match=r"'q' is not a node"):
        trace_backward(w52["L"], focus=[w52["w25"], stranger])
    with pytest.raises(TypeError, match="focus must be a node of the graph.*got float: 2.0"):
        trace_backward(w52["L"], focus=2.0)
    with pytest.raises(ValueError, match="focus is empty"):
        trace_backward(w52["L"], focus=[])
    with pytest.raises(ValueError, match="'q' is not a node"):
        Stepper(w52["L"], focus=stranger)


@pytest.fixture(params=["drawing option", "stepper fallback"])
def drawing_options(request, monkeypatch):
    """Run with the options viz.graph.build_digraph has (focus=, font=), and as if it had
    none: the stepper then dims and lays out the drawing itself."""
    if request.param == "stepper fallback":
        monkeypatch.setattr(stepper_module, "_DRAWING_OPTIONS", frozenset())
    return request.param


def test_focused_stepper_and_player(tmp_path, w52, drawing_options):
    stepper = Stepper(w52["L"], focus=w52["w25"])
    assert len(stepper) == 7
    assert repr(stepper) == "<Stepper: backward pass of 'L' focused on 'w25', 7 steps>"
    path = backprop_player(w52["L"], tmp_path / "w52.html", focus=w52["w25"])
    page = path.read_text(encoding="utf-8")
    data = json.loads(re.search(r'<script type="application/json" class="cr-data">(.*?)</script>',
                                page, re.S).group(1).replace("<\\/", "</"))
    assert len(data["steps"]) == 8 and data["focus"] is True
    # Nodes off the chain are dimmed in the drawing, the chain's are not.
    classes = {node_id: cls.split()
               for cls, node_id in re.findall(r'<g class="node ([^"]*)" data-n="(n\d+)"', page)}
    order = topological_order(w52["L"])
    # (dimmed: by the drawing's own focus option; dim: by the player's CSS where it has none)
    for name in ("w25", "u5", "v5", "F", "y", "L"):
        assert not {"dim", "dimmed"} & set(classes[f"n{order.index(w52[name])}"]), name
    for name in ("w15", "x1", "x2", "u4", "v1"):
        assert {"dim", "dimmed"} & set(classes[f"n{order.index(w52[name])}"]), name
    # The last state shows dL/dw25 by hand, and off-chain nodes never get a grad.
    final = {}
    for step in data["steps"]:
        final.update(dict(step[3]))
    expected = hand_gradients(hand_forward())["w25"]
    assert final[order.index(w52["w25"])] == f"grad {expected:.4g}"
    assert order.index(w52["w15"]) not in final
    # A drawn step greys the nodes off the chain: their text is another colour than the chain's.
    drawing = pygraphviz.AGraph(string=stepper.draw(3).source)

    def text_colour(name: str) -> str:
        return drawing.get_node(f"n{order.index(w52[name])}").attr["fontcolor"] or "black"

    assert text_colour("w15") != text_colour("u5") and text_colour("x1") != text_colour("w25")


def test_the_cli_function_prints_the_chain_and_writes_the_player(tmp_path):
    import io

    out = io.StringIO()
    assert run_w52_focus("w52", player_path=str(tmp_path / "focus.html"), out=out) == 0
    text = out.getvalue()
    assert "dL/dw25 = dL/d(w25*x2) * (x2)" in text or "dL/dw52 = dL/d(w52*x2) * (x2)" in text
    hand = slide_chain_for_w52(hand_forward())[1]
    assert f"{hand:.4g}" in text
    assert (tmp_path / "focus.html").stat().st_size > 0
    graph = build_w52()
    assert resolve_w52_node(graph, "w52") is graph.w52
    assert resolve_w52_node(graph, "u5") is graph.u[4]
    with pytest.raises(ValueError, match="no node 'w99' in the w52 network; its nodes are: x1, x2, "):
        resolve_w52_node(graph, "w99")
    err = io.StringIO()
    assert run_w52_focus("w99", player_path=None, out=io.StringIO(), err=err) == 2
    assert err.getvalue().startswith("chainrule w52: error: --focus: no node 'w99'")
