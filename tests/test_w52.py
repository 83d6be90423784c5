"""The w52 network of seed-examples.md section 1, built from Values, against a hand computation
with plain floats from the seed's formulas and against PyTorch; and its backward trace in the
slide's order."""

from __future__ import annotations

import math

import pytest

from autograd_core import Value, trace_backward
from oracles import (FORWARD_NAMES, WEIGHT_NAMES, WEIGHTS, build_w52_nodes, hand_forward, hand_gradients,
                     slide_chain_for_w52, torch_w52)


@pytest.fixture
def network() -> dict[str, Value]:
    nodes = build_w52_nodes()
    nodes["L"].backward()
    return nodes


def test_forward_values_match_the_hand_computation_and_torch(network):
    hand = hand_forward()
    theirs = torch_w52()
    for name in FORWARD_NAMES:
        assert math.isclose(network[name].data, hand[name], rel_tol=1e-13, abs_tol=1e-15), name
        assert math.isclose(network[name].data, theirs[name][0], rel_tol=1e-10, abs_tol=1e-10), name


def test_forward_values_by_the_slide_numbers(network):
    # hand, from the table: u5 = -0.2 * 1.7 + 1.3 * 3.5 = 4.21, u2 = 0.5 * 1.7 = 0.85, u4 = 3.57 - 0.35
    assert network["u5"].data == pytest.approx(4.21, rel=1e-14)
    assert network["u2"].data == pytest.approx(0.85, rel=1e-14)
    assert network["u4"].data == pytest.approx(3.22, rel=1e-14)
    assert 0.0 < network["y"].data < 1.0 and network["L"].data > 1.0  # y is far below the target 2


@pytest.mark.parametrize("name", WEIGHT_NAMES + ["x1", "x2"])
def test_gradients_match_the_hand_computation_and_torch(network, name):
    hand = hand_gradients(hand_forward())
    theirs = torch_w52()
    assert math.isclose(network[name].grad, hand[name], rel_tol=1e-12, abs_tol=1e-15)
    assert math.isclose(network[name].grad, theirs[name][1], rel_tol=1e-10, abs_tol=1e-10)


def test_intermediate_gradients_match_the_hand_computation_and_torch(network):
    hand, theirs = hand_gradients(hand_forward()), torch_w52()
    for name in ["L", "y", "F", *[f"v{j}" for j in WEIGHTS], *[f"u{j}" for j in WEIGHTS]]:
        assert math.isclose(network[name].grad, hand[name], rel_tol=1e-12, abs_tol=1e-15), name
        assert math.isclose(network[name].grad, theirs[name][1], rel_tol=1e-10, abs_tol=1e-12), name


def test_the_slides_five_step_chain_for_w52(network):
    step = slide_chain_for_w52(hand_forward())
    assert math.isclose(network["y"].grad, step[5], rel_tol=1e-13)
    assert math.isclose(network["F"].grad, step[4], rel_tol=1e-13)
    assert math.isclose(network["v5"].grad, step[3], rel_tol=1e-13)
    assert math.isclose(network["u5"].grad, step[2], rel_tol=1e-13)
    assert math.isclose(network["w25"].grad, step[1], rel_tol=1e-13)
    # the chain and the full hand derivation agree on the answer
    assert math.isclose(step[1], hand_gradients(hand_forward())["w25"], rel_tol=1e-13)


def find_step(steps, name):
    matches = [step for step in steps if step.name == name]
    assert len(matches) == 1, f"expected one step for {name!r}, got {[s.name for s in steps]}"
    return matches[0]


def test_trace_walks_the_slides_chain_in_order():
    nodes = build_w52_nodes()
    steps = trace_backward(nodes["L"])
    # slide step 5 (the L / (y-2) step), then 4 (y), 3 (F), 2 (v5), 1 (u5 and its w25*x2 product)
    chain = [find_step(steps, name) for name in ["L", "(y-2)", "y", "F", "v5", "u5", "(w25*x2)"]]
    indices = [step.index for step in chain]
    assert indices == sorted(indices) and len(set(indices)) == len(indices), indices
    assert all(node.grad == 0.0 for node in nodes.values())  # tracing is side-effect free


def test_trace_lines_read_like_the_slide():
    nodes = build_w52_nodes()
    steps = trace_backward(nodes["L"])
    f = hand_forward()
    step = slide_chain_for_w52(f)

    def line(step_name, parent_name):
        matching = [text for text in find_step(steps, step_name).lines()
                    if text.startswith(f"dL/d{parent_name} =")]
        assert len(matching) == 1, (step_name, parent_name, find_step(steps, step_name).lines())
        return matching[0]

    def n(x: float) -> str:
        return f"{x:.4g}"  # the stepper shows 4 significant digits

    assert line("(y-2)", "y") == f"dL/dy = dL/d(y-2) * (1) = {n(step[5])} * 1 = {n(step[5])}"
    assert line("y", "F") == (f"dL/dF = dL/dy * (y*(1-y)) = {n(step[5])} * "
                              f"{n(f['y'] * (1 - f['y']))} = {n(step[4])}")
    assert line("F", "v5") == f"dL/dv5 = dL/dF * (-1) = {n(step[4])} * -1 = {n(step[3])}"
    assert line("v5", "u5") == (f"dL/du5 = dL/dv5 * (-1/u5^2) = {n(step[3])} * "
                                f"{n(-1 / f['u5'] ** 2)} = {n(step[2])}")
    assert line("(w25*x2)", "w25") == f"dL/dw25 = dL/d(w25*x2) * (x2) = {n(step[2])} * 3.5 = {n(step[1])}"
