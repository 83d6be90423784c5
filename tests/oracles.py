"""Independent references shared by the tests: the w52 network of seed-examples.md section 1
computed by hand (plain floats, the seed's formulas) and by PyTorch float64, built with our
engine from the seed (not through the library's own builder), and torch twins of tensor
models with exactly the same weights."""

from __future__ import annotations

import math

import torch

from autograd_core import Value

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


FORWARD_NAMES = ["x1", "x2", *WEIGHT_NAMES, *[f"u{j}" for j in WEIGHTS], *[f"v{j}" for j in WEIGHTS],
                 "F", "y", "L"]


# -- the w52 network, built with our engine from the seed ---------------------------------------------


def build_w52_nodes() -> dict[str, Value]:
    """Every named node of the w52 network, labelled with its name (forward pass only)."""
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


def torch_w52() -> dict[str, tuple[float, float]]:
    """(value, dL/dvalue) of every named w52 node, from PyTorch float64 autograd."""
    t = {"x1": torch.tensor(X1, dtype=torch.float64, requires_grad=True),
         "x2": torch.tensor(X2, dtype=torch.float64, requires_grad=True)}
    for j, (a, b) in WEIGHTS.items():
        t[f"w1{j}"] = torch.tensor(a, dtype=torch.float64, requires_grad=True)
        t[f"w2{j}"] = torch.tensor(b, dtype=torch.float64, requires_grad=True)
        t[f"u{j}"] = t[f"w1{j}"] * t["x1"] + t[f"w2{j}"] * t["x2"]
        t[f"v{j}"] = 1 / t[f"u{j}"]
    t["F"] = t["v1"] * t["v2"] + t["v3"] / t["v4"] - t["v5"]
    t["y"] = torch.sigmoid(t["F"])
    t["L"] = (t["y"] - TARGET) ** 2
    for v in t.values():
        if not v.is_leaf:
            v.retain_grad()
    t["L"].backward()
    return {k: (v.item(), v.grad.item()) for k, v in t.items()}


# -- torch twins of tensor models ----------------------------------------------------------------------


def torch_linear(layer) -> torch.nn.Linear:
    """A torch.nn.Linear holding exactly the weights of our `Linear` layer, in float64."""
    twin = torch.nn.Linear(layer.in_features, layer.out_features, bias=layer.bias is not None,
                           dtype=torch.float64)
    with torch.no_grad():
        twin.weight.copy_(torch.from_numpy(layer.weight.data))
        if layer.bias is not None:
            twin.bias.copy_(torch.from_numpy(layer.bias.data))
    return twin


def torch_twin(model) -> torch.nn.Sequential:
    """torch.nn.Sequential with the same modules as our Sequential and exactly the same weights."""
    from nn.layers import ELU, Identity, LeakyReLU, Linear, ReLU, Sigmoid, Softmax, Tanh

    modules = []
    for layer in model:
        if isinstance(layer, Linear):
            modules.append(torch_linear(layer))
        elif isinstance(layer, LeakyReLU):
            modules.append(torch.nn.LeakyReLU(layer.negative_slope))
        elif isinstance(layer, ELU):
            modules.append(torch.nn.ELU(layer.alpha))
        elif isinstance(layer, Softmax):
            modules.append(torch.nn.Softmax(dim=layer.axis))
        else:
            modules.append({ReLU: torch.nn.ReLU, Tanh: torch.nn.Tanh, Sigmoid: torch.nn.Sigmoid,
                            Identity: torch.nn.Identity}[type(layer)]())
    return torch.nn.Sequential(*modules)
