"""`trace_backward`: the steps of backward(), in its order, with slide-style text; no side effects."""

from __future__ import annotations

import gc
import math
import weakref

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd_core import Value, backpropagate, maximum, softmax, topological_order, trace_backward
from autograd_core.trace import format_number, local_derivative_formulas, node_names

UNARY = {"tanh": lambda a: a.tanh(), "sigmoid": lambda a: a.sigmoid(), "neg": lambda a: -a,
         "relu": lambda a: a.relu(), "square": lambda a: a ** 2}
BINARY = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b, "max": maximum}


@st.composite
def random_graphs(draw) -> Value:
    """A random expression over 1-4 labelled leaves in which later nodes reuse earlier ones."""
    nodes = [Value(draw(st.floats(-2, 2, allow_nan=False)), label=f"x{i}")
             for i in range(draw(st.integers(1, 4)))]
    for _ in range(draw(st.integers(1, 12))):
        if draw(st.booleans()):
            op = UNARY[draw(st.sampled_from(sorted(UNARY)))]
            nodes.append(op(draw(st.sampled_from(nodes))))
        else:
            op = BINARY[draw(st.sampled_from(sorted(BINARY)))]
            nodes.append(op(draw(st.sampled_from(nodes)), draw(st.sampled_from(nodes))))
    return nodes[-1]


def record_real_backward(root: Value) -> list[tuple[Value, float, list[float]]]:
    """The steps a real, accumulating backward pass applies, recorded by the driver's callback."""
    recorded = []
    backpropagate(root, 1.0,
                  on_step=lambda node, up, contributions: recorded.append((node, up, [c for _, c in contributions])))
    return recorded


@given(random_graphs())
def test_steps_are_exactly_those_backward_applies(root):
    steps = trace_backward(root)
    assert all(node.grad == 0.0 for node in topological_order(root)), "tracing changed a .grad"
    real = record_real_backward(root)
    assert [step.node for step in steps] == [node for node, _, _ in real]
    assert [step.index for step in steps] == list(range(1, len(steps) + 1))
    for step, (node, upstream, contributions) in zip(steps, real):
        assert step.upstream == upstream
        assert [p.contribution for p in step.parents] == contributions
        assert [p.parent for p in step.parents] == list(node.parents)


@given(random_graphs())
def test_contributions_sum_to_the_gradients_backward_produces(root):
    steps = trace_backward(root)
    received = {id(root): 1.0}  # the seed
    for step in steps:
        assert step.upstream == received[id(step.node)], "a step ran before all its contributions arrived"
        for p in step.parents:
            received[id(p.parent)] = received.get(id(p.parent), 0.0) + p.contribution
    root.backward()
    for node in topological_order(root):
        assert math.isclose(node.grad, received.get(id(node), 0.0), rel_tol=1e-12, abs_tol=1e-300)


@given(random_graphs())
def test_each_parent_step_is_upstream_times_local(root):
    for step in trace_backward(root):
        for p, local in zip(step.parents, step.node.local_grads):
            assert p.local == local
            assert p.contribution == step.upstream * local


def test_tracing_leaves_existing_gradients_unchanged():
    a = Value(1.5, "a")
    out = (a * a).tanh() + a
    out.backward()
    before = [node.grad for node in topological_order(out)]
    trace_backward(out)
    assert [node.grad for node in topological_order(out)] == before


def test_a_step_prints_like_the_slide():
    u = Value(2.0, "u")
    v = 1 / u
    v.label = "v"
    loss = v * Value(3.0, "c")
    loss.label = "L"
    first, second = trace_backward(loss)
    # hand: dL/dv = c = 3, dL/dc = v = 1/2; d(1/u)/du = -1/u^2 = -0.25, so dL/du = 3 * -0.25 = -0.75
    assert first.lines() == ["dL/dv = dL/dL * (c) = 1 * 3 = 3",
                             "dL/dc = dL/dL * (v) = 1 * 0.5 = 0.5"]
    assert second.lines()[-1] == "dL/du = dL/dv * (-1/u^2) = 3 * -0.25 = -0.75"
    assert str(second).splitlines()[0] == "step 2: v [/]"
    assert str(second).splitlines()[-1] == "  dL/du = dL/dv * (-1/u^2) = 3 * -0.25 = -0.75"


def test_seed_sets_the_first_upstream():
    a = Value(3.0, "a")
    out = a * a
    out.label = "y"
    (step,) = trace_backward(out, seed=0.5)
    assert step.upstream == 0.5
    assert [p.contribution for p in step.parents] == [1.5, 1.5]  # hand: 0.5 * a for each factor
    # a reaches y along two paths (both factors): each line adds one, the last gives the total
    # hand: dy/da = 0.5 * 2a = 3
    assert step.lines() == ["dy/da += dy/dy * (a) = 0.5 * 3 = 1.5   (path 1 of 2; dy/da = 1.5 so far)",
                            "dy/da += dy/dy * (a) = 0.5 * 3 = 1.5   (path 2 of 2; dy/da = 3 in all)"]


def test_a_leaf_has_no_steps():
    assert trace_backward(Value(1.0, "a")) == []


def test_unlabelled_nodes_are_named_by_expression_or_value():
    y = Value(0.25, "y")
    loss = (y - 2) ** 2
    names = node_names(loss)
    assert names[id(y)] == "y"
    assert names[id(loss.parents[0])] == "(y-2)"
    assert names[id(loss)] == "(y-2)^2"
    assert names[id(loss.parents[0].parents[1])] == "2"  # a constant is named by its value
    long = y
    for _ in range(10):
        long = long.tanh()
    long_names = node_names(long).values()
    assert all(len(name) <= 24 for name in long_names)  # too long to spell out ...
    # ... then by op and position among the nodes so named (was node4, node8: issue 9's follow-up)
    assert "tanh(tanh(tanh(y)))" in long_names and "tanh#1" in long_names
    assert "tanh(tanh#1)" in long_names and "tanh#2" in long_names
    assert not any(n.startswith("node") for n in long_names)


def test_power_step_text():
    y = Value(0.25, "y")
    loss = (y - 2) ** 2
    loss.label = "L"
    first = trace_backward(loss)[0]
    # hand: d(w^2)/dw = 2w = 2 * (0.25 - 2) = -3.5
    assert first.lines() == ["dL/d(y-2) = dL/dL * (2*(y-2)) = 1 * -3.5 = -3.5"]  # d(u^2)/du = 2u


# Every op a Value can produce has a readable local-derivative formula (no generic fallback).
VALUE_OPS = [
    lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b, lambda a, b: a / b, lambda a, b: -a,
    lambda a, b: a ** b, lambda a, b: a ** 3, lambda a, b: a.exp(), lambda a, b: a.log(),
    lambda a, b: a.tanh(), lambda a, b: a.sigmoid(), lambda a, b: a.relu(), lambda a, b: a.leaky_relu(),
    lambda a, b: a.elu(), lambda a, b: a.abs(), lambda a, b: maximum(a, b),
]


@pytest.mark.parametrize("build", VALUE_OPS)
def test_every_value_op_has_a_formula(build):
    out = build(Value(1.5, "a"), Value(2.0, "b"))
    names = [{"a": "a", "b": "b"}.get(p.label, "?") for p in out.parents]
    formulas = local_derivative_formulas(out.op, names)
    assert len(formulas) == len(out.parents)
    assert not any(text.startswith("d(") for text in formulas), formulas


def test_unknown_ops_fall_back_to_a_generic_formula():
    assert local_derivative_formulas("conv", ["x", "k"]) == ("d(conv)/dx", "d(conv)/dk")


@pytest.mark.parametrize("x, text", [
    (3.0, "3"), (-0.25, "-0.25"), (1 / 3, "0.3333"), (123456.0, "1.235e+05")])
def test_format_number(x, text):
    assert format_number(x) == text


def test_steps_hold_no_reference_cycles():
    gc.disable()
    try:
        a = Value(0.5, "a")
        hidden = softmax([a, a * 2])[0]
        steps = trace_backward(hidden.log())
        ref = weakref.ref(hidden)
        del hidden
        assert ref() is not None  # the steps still hold the graph
        del steps
        assert ref() is None
    finally:
        gc.enable()


@given(random_graphs())
def test_paths_and_running_totals_end_at_the_gradient(root):
    steps = trace_backward(root)
    root.backward()
    seen: dict[int, list] = {}
    for step in steps:
        for p in step.parents:
            seen.setdefault(id(p.parent), []).append(p)
    for parent_steps in seen.values():
        paths = len(parent_steps)
        assert [p.path for p in parent_steps] == list(range(1, paths + 1))
        assert all(p.paths == paths for p in parent_steps)
        running = 0.0
        for p in parent_steps:
            running += p.contribution
            assert p.total == running
        # After its last path, the total is the node's whole gradient, as backward() left it.
        assert parent_steps[-1].total == parent_steps[-1].parent.grad


def test_a_node_reached_along_two_paths_reads_plus_equals_with_its_total():
    x, y, z = Value(2.0, "x"), Value(-2.0, "y"), Value(4.0, "z")
    f = x * y + y * z
    f.label = "f"
    lines = [line for step in trace_backward(f) for line in step.lines()]
    # hand: df/dy = x + z = 6, first from the y*z path (z = 4), then from x*y (x = 2)
    assert "df/dy += df/d(y*z) * (z) = 1 * 4 = 4   (path 1 of 2; df/dy = 4 so far)" in lines
    assert "df/dy += df/d(x*y) * (x) = 1 * 2 = 2   (path 2 of 2; df/dy = 6 in all)" in lines
    assert "df/dx = df/d(x*y) * (y) = 1 * -2 = -2" in lines


def test_constants_of_an_expression_get_no_line_but_unlabelled_leaves_do():
    y = Value(0.25, "y")
    loss = (y - 2) ** 2 * 3
    loss.label = "L"
    lines = [line for step in trace_backward(loss) for line in step.lines()]
    assert not any(line.startswith(("dL/d2 ", "dL/d3 ")) for line in lines), lines
    assert any(line.startswith("dL/dy = ") for line in lines)
    # The constants still receive their contribution in the data (the graph shows their grad).
    steps = trace_backward(loss)
    assert any(p.parent.is_constant for s in steps for p in s.parents)
    # A leaf the user made is never hidden, labelled or not: hand, d(a*b)/da = b = 4
    a = Value(3.0)
    (step,) = trace_backward(a * Value(4.0))
    assert len(step.lines()) == 2 and step.lines()[0].endswith("= 1 * 4 = 4")
