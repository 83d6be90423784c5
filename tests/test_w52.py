"""The w52 network of seed-examples.md section 1, built from Values, against a hand computation
with plain floats from the seed's formulas and against PyTorch; and its backward trace in the
slide's order."""

from __future__ import annotations

import math

import pytest
import torch

from autograd_core import Value, trace_backward

X1, X2 = 1.7, 3.5
TARGET = 2.0
# The slide's table: WEIGHTS[j] = (w_1j, w_2j); first index = input, second = hidden unit.
WEIGHTS = {1: (0.1, 1.1), 2: (0.5, 0.0), 3: (0.3, 0.4), 4: (2.1, -0.1), 5: (-0.2, 1.3)}
WEIGHT_NAMES = [f"w{i}{j}" for j in WEIGHTS for i in (1, 2)]


# -- the hand computation: plain floats, the seed's formulas ----------------------------------------


def hand_forward() -> dict[str, float]:
    """u_j = w1j x1 + w2j x2, v_j = 1/u_j, F = v1 v2 + v3/v4 - v5, y = sigmoid(F), L = (y - 2)^2."""
    out = {"x1": X1, "x2": X2}
    for j, (w1j, w2j) in WEIGHTS.items():
        out[f"w1{j}"], out[f"w2{j}"] = w1j, w2j
        out[f"u{j}"] = w1j * X1 + w2j * X2
        out[f"v{j}"] = 1.0 / out[f"u{j}"]
    out["F"] = out["v1"] * out["v2"] + out["v3"] / out["v4"] - out["v5"]
    out["y"] = 1.0 / (1.0 + math.exp(-out["F"]))
    out["L"] = (out["y"] - TARGET) ** 2
    return out


def hand_gradients(f: dict[str, float]) -> dict[str, float]:
    """dL/d(every named node), each partial derivative written out."""
    g = {"L": 1.0}
    g["y"] = 2.0 * (f["y"] - TARGET)                       # dL/dy = 2 (y - 2)
    g["F"] = g["y"] * f["y"] * (1.0 - f["y"])              # dy/dF = y (1 - y)
    g["v1"] = g["F"] * f["v2"]                             # dF/dv1 = v2
    g["v2"] = g["F"] * f["v1"]                             # dF/dv2 = v1
    g["v3"] = g["F"] / f["v4"]                             # dF/dv3 = 1 / v4
    g["v4"] = g["F"] * (-f["v3"] / f["v4"] ** 2)           # dF/dv4 = -v3 / v4^2
    g["v5"] = g["F"] * -1.0                                # dF/dv5 = -1
    g["x1"] = g["x2"] = 0.0
    for j, (w1j, w2j) in WEIGHTS.items():
        g[f"u{j}"] = g[f"v{j}"] * (-1.0 / f[f"u{j}"] ** 2)  # dv/du = -1 / u^2
        g[f"w1{j}"] = g[f"u{j}"] * X1                       # du_j/dw1j = x1
        g[f"w2{j}"] = g[f"u{j}"] * X2                       # du_j/dw2j = x2
        g["x1"] += g[f"u{j}"] * w1j
        g["x2"] += g[f"u{j}"] * w2j
    return g


def slide_chain_for_w52(f: dict[str, float]) -> dict[int, float]:
    """The slide's five steps for dL/dw52 (the table's w25), computed from step 5 down to step 1."""
    step = {5: 2.0 * (f["y"] - TARGET)}                   # dL/dphi2(F) = 2 (phi2(F) - 2)
    step[4] = step[5] * (1.0 - f["y"]) * f["y"]           # dL/dF = dL/dphi2 * (1 - phi2) * phi2
    step[3] = step[4] * (-1.0)                            # dL/dphi(u) = dL/dF * (-1)
    step[2] = step[3] * (-1.0 / f["u5"] ** 2)             # dL/du = dL/dphi(u) * (-1/u^2)
    step[1] = step[2] * X2                                # dL/dw52 = dL/du * x2
    return step


# -- the network, built with our engine -----------------------------------------------------------------


def build_network() -> dict[str, Value]:
    nodes = {"x1": Value(X1, "x1"), "x2": Value(X2, "x2")}
    for j, (w1j, w2j) in WEIGHTS.items():
        w1, w2 = Value(w1j, f"w1{j}"), Value(w2j, f"w2{j}")
        u = w1 * nodes["x1"] + w2 * nodes["x2"]
        u.label = f"u{j}"
        v = 1 / u
        v.label = f"v{j}"
        nodes.update({w1.label: w1, w2.label: w2, u.label: u, v.label: v})
    F = nodes["v1"] * nodes["v2"] + nodes["v3"] / nodes["v4"] - nodes["v5"]
    F.label = "F"
    y = F.sigmoid()
    y.label = "y"
    L = (y - TARGET) ** 2
    L.label = "L"
    nodes.update(F=F, y=y, L=L)
    return nodes


def torch_network() -> tuple[dict[str, float], dict[str, float]]:
    """Forward values of every named node and dL/d(leaf), from PyTorch float64."""
    leaf = {name: torch.tensor(value, dtype=torch.float64, requires_grad=True)
            for name, value in [("x1", X1), ("x2", X2)]
            + [(f"w{i}{j}", WEIGHTS[j][i - 1]) for j in WEIGHTS for i in (1, 2)]}
    nodes = dict(leaf)
    for j in WEIGHTS:
        nodes[f"u{j}"] = leaf[f"w1{j}"] * leaf["x1"] + leaf[f"w2{j}"] * leaf["x2"]
        nodes[f"v{j}"] = 1 / nodes[f"u{j}"]
    nodes["F"] = nodes["v1"] * nodes["v2"] + nodes["v3"] / nodes["v4"] - nodes["v5"]
    nodes["y"] = torch.sigmoid(nodes["F"])
    nodes["L"] = (nodes["y"] - TARGET) ** 2
    nodes["L"].backward()
    return ({name: t.item() for name, t in nodes.items()},
            {name: t.grad.item() for name, t in leaf.items()})


@pytest.fixture
def network() -> dict[str, Value]:
    nodes = build_network()
    nodes["L"].backward()
    return nodes


FORWARD_NAMES = ["x1", "x2", *WEIGHT_NAMES, *[f"u{j}" for j in WEIGHTS], *[f"v{j}" for j in WEIGHTS],
                 "F", "y", "L"]


def test_forward_values_match_the_hand_computation_and_torch(network):
    hand = hand_forward()
    theirs, _ = torch_network()
    for name in FORWARD_NAMES:
        assert math.isclose(network[name].data, hand[name], rel_tol=1e-13, abs_tol=1e-15), name
        assert math.isclose(network[name].data, theirs[name], rel_tol=1e-10, abs_tol=1e-10), name


def test_forward_values_by_the_slide_numbers(network):
    # hand, from the table: u5 = -0.2 * 1.7 + 1.3 * 3.5 = 4.21, u2 = 0.5 * 1.7 = 0.85, u4 = 3.57 - 0.35
    assert network["u5"].data == pytest.approx(4.21, rel=1e-14)
    assert network["u2"].data == pytest.approx(0.85, rel=1e-14)
    assert network["u4"].data == pytest.approx(3.22, rel=1e-14)
    assert 0.0 < network["y"].data < 1.0 and network["L"].data > 1.0  # y is far below the target 2


@pytest.mark.parametrize("name", WEIGHT_NAMES + ["x1", "x2"])
def test_gradients_match_the_hand_computation_and_torch(network, name):
    hand = hand_gradients(hand_forward())
    _, theirs = torch_network()
    assert math.isclose(network[name].grad, hand[name], rel_tol=1e-12, abs_tol=1e-15)
    assert math.isclose(network[name].grad, theirs[name], rel_tol=1e-10, abs_tol=1e-10)


def test_intermediate_gradients_match_the_hand_computation(network):
    hand = hand_gradients(hand_forward())
    for name in ["L", "y", "F", *[f"v{j}" for j in WEIGHTS], *[f"u{j}" for j in WEIGHTS]]:
        assert math.isclose(network[name].grad, hand[name], rel_tol=1e-12, abs_tol=1e-15), name


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
    nodes = build_network()
    steps = trace_backward(nodes["L"])
    # slide step 5 (the L / (y-2) step), then 4 (y), 3 (F), 2 (v5), 1 (u5 and its w25*x2 product)
    chain = [find_step(steps, name) for name in ["L", "(y-2)", "y", "F", "v5", "u5", "(w25*x2)"]]
    indices = [step.index for step in chain]
    assert indices == sorted(indices) and len(set(indices)) == len(indices), indices
    assert all(node.grad == 0.0 for node in nodes.values())  # tracing is side-effect free


def test_trace_lines_read_like_the_slide():
    nodes = build_network()
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
    assert line("y", "F") == (f"dL/dF = dL/dy * (sigmoid(F)*(1-sigmoid(F))) = {n(step[5])} * "
                              f"{n(f['y'] * (1 - f['y']))} = {n(step[4])}")
    assert line("F", "v5") == f"dL/dv5 = dL/dF * (-1) = {n(step[4])} * -1 = {n(step[3])}"
    assert line("v5", "u5") == (f"dL/du5 = dL/dv5 * (-1/u5^2) = {n(step[3])} * "
                                f"{n(-1 / f['u5'] ** 2)} = {n(step[2])}")
    assert line("(w25*x2)", "w25") == f"dL/dw25 = dL/d(w25*x2) * (x2) = {n(step[2])} * 3.5 = {n(step[1])}"
