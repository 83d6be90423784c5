"""How traces name nodes and show themselves: `labels=` (the w52 notebook's w52, which the
table calls w25), readable names for unlabelled sums and products (no more ``node155``), and
the plain-text repr Jupyter saves (the slide text, not a list of objects)."""

from __future__ import annotations

import pytest

from autograd_core import Value, softmax, sum_values, trace_backward
from autograd_core.mathtext import to_latex, to_mathml
from autograd_core.trace import REPR_STEPS, node_math_names, node_names
from oracles import X2, build_w52_nodes, hand_forward, slide_chain_for_w52


def fmt(x: float) -> str:
    return f"{x:.4g}"


# -- labels ------------------------------------------------------------------------------------------


def test_labels_name_w52_as_the_question_does():
    nodes = build_w52_nodes()
    step = slide_chain_for_w52(hand_forward())
    steps = trace_backward(nodes["L"], focus=nodes["w25"], labels={nodes["w25"]: "w52"})
    # The slide's last step, by hand: dL/dw52 = dL/du5 * x2.
    assert steps[-1].lines() == [
        f"dL/dw52 = dL/d(w52*x2) * (x2) = {fmt(step[2])} * {fmt(X2)} = {fmt(step[1])}"]
    assert steps[-1].name == "(w52*x2)" and steps[-1].parents[0].name == "w52"
    text = "\n".join(str(s) for s in steps)
    assert "w25" not in text and "w52" in text
    assert "w_{52}" in steps.latex() and "w_{25}" not in steps.latex()
    assert "<mn>52</mn>" in steps._repr_html_() and "<mn>25</mn>" not in steps._repr_html_()
    # A label may name the node it renames; a list of pairs works for unhashable nodes.
    assert [str(s) for s in trace_backward(nodes["L"], focus="w25", labels={"w25": "w52"})] == \
        [str(s) for s in steps]
    assert [str(s) for s in trace_backward(nodes["L"], focus="w52", labels=[(nodes["w25"], "w52")])] == \
        [str(s) for s in steps]


def test_bad_labels_are_refused():
    nodes = build_w52_nodes()
    with pytest.raises(ValueError, match="not a node of this graph"):
        trace_backward(nodes["L"], labels={Value(1.0, "w25"): "w52"})
    with pytest.raises(ValueError, match="no nodes of this graph are labelled so"):
        trace_backward(nodes["L"], labels={"w99": "w52"})
    with pytest.raises(TypeError, match="non-empty str"):
        trace_backward(nodes["L"], labels={nodes["w25"]: ""})
    with pytest.raises(TypeError, match="mapping"):
        trace_backward(nodes["L"], labels="w52")


# -- names of unlabelled sums and products ----------------------------------------------------------------


def neuron(n_inputs: int) -> tuple[Value, list[Value]]:
    """w1*x1 + ... + wn*xn, as sum_values builds it (a chain of + nodes), unlabelled."""
    terms = [Value(0.5, f"w{i}") * Value(1.0, f"x{i}") for i in range(1, n_inputs + 1)]
    return sum_values(terms), terms


def test_sums_are_named_by_their_terms():
    total, _ = neuron(4)
    names = node_names(total)
    first, second = total.parents[0], total.parents[0].parents[0]
    # By hand: the partial sums of sum_values, each written out while it fits in 24 characters,
    # products inside a sum without their own parentheses, the longest by first and last term.
    assert names[id(second)] == "(w1*x1+w2*x2)"
    assert names[id(first)] == "(w1*x1+w2*x2+w3*x3)"
    assert names[id(total)] == "(w1*x1+…+w4*x4)"
    assert names[id(total.parents[1])] == "(w4*x4)"  # a product alone keeps its parentheses
    assert to_latex(node_math_names(total)[id(total)]) == r"(w_{1}\cdot x_{1}+\ldots +w_{4}\cdot x_{4})"
    product = Value(2.0, "a") * Value(3.0, "b") * Value(4.0, "c")
    assert node_names(product)[id(product)] == "(a*b*c)"


def test_long_sums_are_named_by_op_and_position():
    # The iris network's softmax denominator: e^(z1-m) + e^(z2-m) + e^(z3-m) is too long.
    z = [Value(v, f"z{i}") for i, v in enumerate((0.5, -0.25, 0.125), start=1)]
    y = softmax(z)
    names = node_names(y[0])
    denominator = y[0].parents[1]
    assert names[id(denominator.parents[0])] == "sum#1"  # e1 + e2
    assert names[id(denominator)] == "sum#2"  # (e1 + e2) + e3
    assert names[id(y[0].parents[0])] == "exp(z1-0.5)"  # a function's parentheses suffice
    assert not any(name.startswith("node") for name in names.values())
    y[0].label = "y"
    step = trace_backward(y[0])[0]
    # a call and an op-and-position name each read as one unit: no parentheses around them
    assert step.lines()[1].startswith("dy/dsum#2 = dy/dy * (-exp(z1-0.5)/sum#2^2) = ")
    assert "sum" in to_mathml(node_math_names(y[0])[id(denominator)])
    # Two different long sums never share an abbreviated name.
    a, b = neuron(5)[0], neuron(5)[0]
    both = a + b
    named = node_names(both)
    assert named[id(a)] != named[id(b)]


# -- repr ----------------------------------------------------------------------------------------------


def test_a_trace_repr_is_the_slide_text():
    nodes = build_w52_nodes()
    steps = trace_backward(nodes["L"], focus=nodes["w25"])
    text = repr(steps)
    assert text.splitlines()[0] == "Trace: 7 steps of the backward pass of L, on the chains to w25"
    assert text.splitlines()[1:] == str(steps).splitlines()
    assert "BackwardStep(" not in text and "Value(" not in text
    assert repr(steps[0]) == str(steps[0])
    whole = trace_backward(nodes["L"])
    assert repr(whole).startswith("Trace: 27 steps of the backward pass of L\nstep 1: L [**2]")
    assert len(repr(whole)) < 4000  # the 19 KB of objects the notebook saved, now ~3.6 KB
    # The rich displays stay.
    assert steps._repr_latex_().startswith("$$") and "<table" in steps._repr_html_()
    assert repr(trace_backward(Value(1.0, "a"))).startswith("Trace: no steps")


def test_a_long_trace_repr_is_compact():
    y = Value(0.5, "x")
    for _ in range(1000):
        y = y * 1.001 + 0.001
    y.label = "y"
    steps = trace_backward(y)
    lines = repr(steps).splitlines()
    assert lines[0] == "Trace: 2,000 steps of the backward pass of y"
    shown = [line for line in lines if line.startswith("step ")]
    assert len(shown) == REPR_STEPS
    assert f"... {2000 - REPR_STEPS:,} more steps (print(trace) prints them all) ..." in lines
    assert shown[-1].startswith("step 2000: ")
    assert len(str(steps).splitlines()) == 4000  # print still prints every step (2 lines each)
