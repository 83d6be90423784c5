"""The lecture's worked w52 network, built from `Value`s as a computation graph (seed-examples.md section 1).

It lives outside `autograd_core`: the engine does not know about the lecture's examples.
"""

from __future__ import annotations

from dataclasses import dataclass

from autograd_core.value import Value

# The slide's weight table: W52_WEIGHTS[j - 1] = (w_1j, w_2j), first index = input, second = hidden unit.
W52_WEIGHTS: tuple[tuple[float, float], ...] = ((0.1, 1.1), (0.5, 0.0), (0.3, 0.4), (2.1, -0.1), (-0.2, 1.3))
W52_INPUTS: tuple[float, float] = (1.7, 3.5)
W52_TARGET: float = 2.0


@dataclass(frozen=True)
class W52Graph:
    """The nodes of the w52 network, by the slide's names.

    ``weights["w25"]`` is the weight from x2 into hidden unit 5: the slide asks for it as
    dL/dw52 (it writes w_{5_2} in the question and w_{2_5} in the table).
    """

    x1: Value
    x2: Value
    weights: dict[str, Value]
    u: tuple[Value, ...]  # u_j = w_1j * x1 + w_2j * x2
    v: tuple[Value, ...]  # v_j = phi(u_j) = 1 / u_j
    F: Value  # F = v1 * v2 + v3 / v4 - v5
    y: Value  # y = phi2(F) = sigmoid(F)
    L: Value  # L = (y - target)^2
    target: float = W52_TARGET

    @property
    def w52(self) -> Value:
        """The weight the slide differentiates: from x2 into hidden unit 5 (the table's w25)."""
        return self.weights["w25"]

    def nodes(self) -> list[Value]:
        """Every named node, inputs and weights first, the loss last."""
        return [self.x1, self.x2, *self.weights.values(), *self.u, *self.v, self.F, self.y, self.L]


def build_w52(
    inputs: tuple[float, float] = W52_INPUTS,
    weights: tuple[tuple[float, float], ...] = W52_WEIGHTS,
    target: float = W52_TARGET,
) -> W52Graph:
    """Build the w52 network of seed 001 (forward pass only; call ``graph.L.backward()`` next)."""
    if len(inputs) != 2:
        raise ValueError(f"build_w52 takes 2 inputs (x1, x2), got {len(inputs)}")
    x1, x2 = Value(inputs[0], "x1"), Value(inputs[1], "x2")
    named: dict[str, Value] = {}
    u, v = [], []
    for j, pair in enumerate(weights, start=1):
        if len(pair) != 2:
            raise ValueError(f"hidden unit {j} needs 2 weights (w_1{j}, w_2{j}), got {len(pair)}")
        w1, w2 = Value(pair[0], f"w1{j}"), Value(pair[1], f"w2{j}")
        named[w1.label], named[w2.label] = w1, w2
        u_j = w1 * x1 + w2 * x2
        u_j.label = f"u{j}"
        v_j = 1 / u_j
        v_j.label = f"v{j}"
        u.append(u_j)
        v.append(v_j)
    if len(v) != 5:
        raise ValueError(f"the w52 network has 5 hidden units, got {len(v)} weight pairs")
    F = v[0] * v[1] + v[2] / v[3] - v[4]
    F.label = "F"
    y = F.sigmoid()
    y.label = "y"
    L = (y - target) ** 2
    L.label = "L"
    # Order the weights as the table reads: w11, w21, w12, w22, ...
    ordered = {name: named[name] for j in range(1, 6) for name in (f"w1{j}", f"w2{j}")}
    return W52Graph(x1, x2, ordered, tuple(u), tuple(v), F, y, L, float(target))


def w52_chain(graph: W52Graph) -> list[tuple[str, str, float, float, float]]:
    """The slide's five-step chain for dL/dw52, after ``graph.L.backward()``.

    Returns rows (step, formula, upstream, local, product) for steps 1 to 5 in the slide's
    order; each product is the gradient the engine stored, and upstream * local reproduces it.
    """
    u5, v5, y = graph.u[4], graph.v[4], graph.y
    return [
        ("1", "dL/dw52 = dL/du5 * x2", u5.grad, graph.x2.data, graph.w52.grad),
        ("2", "dL/du5 = dL/dv5 * (-1/u5^2)", v5.grad, -1.0 / u5.data ** 2, u5.grad),
        ("3", "dL/dv5 = dL/dF * (-1)", graph.F.grad, -1.0, v5.grad),
        ("4", "dL/dF = dL/dy * (1 - y) * y", y.grad, (1.0 - y.data) * y.data, graph.F.grad),
        ("5", f"dL/dy = 2 * (y - {graph.target:g})", graph.L.grad, 2.0 * (y.data - graph.target), y.grad),
    ]
