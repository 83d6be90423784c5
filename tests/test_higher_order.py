"""Gradients of gradients against PyTorch float64: every declared elementwise op (on Values and
on Tensors, with broadcasting and reused nodes), the structural tensor ops, a small MLP's
Hessian, and the semantics of `grad`, `jacobian`, `hessian`, `hvp` and `gradgradcheck`.

Expected numbers come only from torch (``torch.autograd.grad(..., create_graph=True)`` and
``torch.autograd.functional``) or from derivatives worked out by hand in a comment.
Inputs are sampled away from the points where a derivative is undefined or where PyTorch picks
a value by convention (relu/abs/leaky_relu/elu at 0, ties of max, log of non-positive numbers,
negative bases of non-integer powers); the kinks' two sides are tested separately.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograd_core import (GradcheckError, Tensor, Value, absolute, concatenate,
                           define_op, elu, exp, gradcheck, gradgradcheck, grad, hessian, hvp,
                           jacobian, leaky_relu, log, maximum, ops, relu, sigmoid, stack, tanh,
                           where)

TOL = 1e-9


def assert_close(ours: Any, expected: Any, tol: float = TOL) -> None:
    """|ours - expected| <= tol * (1 + |expected|), elementwise (relative and absolute)."""
    if isinstance(expected, torch.Tensor):
        expected = expected.detach().numpy(force=True)  # force: torch's efficient zero tensors
    ours = np.asarray(ours.data if isinstance(ours, (Value, Tensor)) else ours, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert ours.shape == expected.shape, (ours.shape, expected.shape)
    np.testing.assert_allclose(ours, expected, rtol=tol, atol=tol)


def finite(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def away_from_zero(lo: float = 1e-3, hi: float = 5.0) -> st.SearchStrategy[float]:
    """Numbers with lo <= |x| <= hi, of either sign (both sides of a kink at 0)."""
    return st.tuples(st.booleans(), finite(lo, hi)).map(lambda t: t[1] if t[0] else -t[1])


ANY = finite(-5.0, 5.0)
WIDE = finite(-15.0, 15.0)
POSITIVE = finite(0.05, 5.0)
NONZERO = away_from_zero()
# Two grids that never meet: values of the first are k/1000 + 1/2000, of the second m/1000, so
# max(a, b) never sees a tie.
OFF_GRID = finite(-5.0, 5.0).map(lambda v: round(v, 3) + 0.0005)
ON_GRID = finite(-5.0, 5.0).map(lambda v: round(v, 3))
WEIGHT = finite(-2.0, 2.0)


def t64(x: Any, requires_grad: bool = True) -> torch.Tensor:
    return torch.tensor(np.asarray(x, dtype=np.float64), dtype=torch.float64,
                        requires_grad=requires_grad)


def torch_grad(outputs: list, inputs: list, grad_outputs: list | None = None,
               create_graph: bool = False) -> list:
    """torch.autograd.grad that treats outputs without a graph as zero and unused inputs as
    zeros (what a gradient that does not depend on an input is)."""
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o.requires_grad]
    if not pairs:
        return [torch.zeros_like(x) for x in inputs]
    found = torch.autograd.grad([o for o, _ in pairs], inputs, [g for _, g in pairs],
                                create_graph=create_graph, allow_unused=True)
    # torch may answer with an "efficient zero tensor"; a plain copy reads like any other.
    return [torch.zeros_like(x) if g is None else g if create_graph else g.detach().clone()
            for x, g in zip(inputs, found)]


def zeros_for_none(gradients: Any, like: list) -> list:
    return [np.zeros(np.shape(x.data)) if g is None else g for g, x in zip(gradients, like)]


# -- the elementwise ops ------------------------------------------------------------------------

# The ops `autograd_core.ops` declares itself (others' tests may define more with define_op).
BUILTIN_OPS = {value.name for value in vars(ops).values() if isinstance(value, ops.Op)}


@dataclass(frozen=True)
class Unary:
    op: str  # the name in ops.OPS
    id: str
    ours: Callable[[Any], Any]  # on a Value or a Tensor
    theirs: Callable[[torch.Tensor], torch.Tensor]
    elements: st.SearchStrategy[float]


UNARY = [
    Unary("neg", "neg", lambda x: -x, torch.neg, ANY),
    Unary("exp", "exp", lambda x: x.exp(), torch.exp, finite(-15.0, 15.0)),
    Unary("exp", "exp-generic", exp, torch.exp, ANY),
    Unary("log", "log", lambda x: x.log(), torch.log, POSITIVE),
    Unary("log", "log-generic", log, torch.log, finite(0.05, 50.0)),
    Unary("abs", "abs", abs, torch.abs, NONZERO),
    Unary("abs", "absolute-generic", absolute, torch.abs, NONZERO),
    Unary("tanh", "tanh", lambda x: x.tanh(), torch.tanh, WIDE),
    Unary("tanh", "tanh-generic", tanh, torch.tanh, ANY),
    Unary("sigmoid", "sigmoid", lambda x: x.sigmoid(), torch.sigmoid, WIDE),
    Unary("sigmoid", "sigmoid-generic", sigmoid, torch.sigmoid, ANY),
    Unary("relu", "relu", lambda x: x.relu(), torch.relu, NONZERO),
    Unary("relu", "relu-generic", relu, torch.relu, NONZERO),
    Unary("leaky_relu", "leaky_relu-default", lambda x: x.leaky_relu(), F.leaky_relu, NONZERO),
    Unary("leaky_relu", "leaky_relu-0.2", lambda x: x.leaky_relu(0.2),
          lambda t: F.leaky_relu(t, 0.2), NONZERO),
    Unary("leaky_relu", "leaky_relu-bind-0.2", lambda x: ops.LEAKY_RELU.bind(negative_slope=0.2)(x),
          lambda t: F.leaky_relu(t, 0.2), NONZERO),
    Unary("leaky_relu", "leaky_relu-generic-1.5", lambda x: leaky_relu(x, 1.5),
          lambda t: F.leaky_relu(t, 1.5), NONZERO),
    Unary("elu", "elu-default", lambda x: x.elu(), F.elu, NONZERO),
    Unary("elu", "elu-0.5", lambda x: x.elu(0.5), lambda t: F.elu(t, 0.5), NONZERO),
    Unary("elu", "elu-generic-2", lambda x: elu(x, alpha=2.0), lambda t: F.elu(t, 2.0), NONZERO),
    Unary("elu", "elu-bind-0.5", lambda x: ops.ELU.bind(alpha=0.5)(x), lambda t: F.elu(t, 0.5),
          NONZERO),
]

# x ** n for a number n: integer n on either sign (away from 0), non-integer n on positive bases.
POWERS = [0.0, 1.0, 2.0, 3.0, 4.0, -1.0, -2.0, 0.5, 1.5, 2.5, -0.5, -1.5]


def power_base(n: float) -> st.SearchStrategy[float]:
    return away_from_zero(0.1, 3.0) if float(n).is_integer() else finite(0.1, 3.0)


@dataclass(frozen=True)
class Binary:
    op: str
    id: str
    ours: Callable[[Any, Any], Any]
    theirs: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    a: st.SearchStrategy[float]
    b: st.SearchStrategy[float]


BINARY = [
    Binary("+", "add", lambda a, b: a + b, torch.add, ANY, ANY),
    Binary("-", "sub", lambda a, b: a - b, torch.sub, ANY, ANY),
    Binary("*", "mul", lambda a, b: a * b, torch.mul, ANY, ANY),
    Binary("/", "div", lambda a, b: a / b, torch.div, ANY, away_from_zero(0.2, 5.0)),
    Binary("**", "pow", lambda a, b: a ** b, torch.pow, finite(0.1, 3.0), finite(-2.0, 2.0)),
    Binary("max", "maximum", maximum, torch.maximum, OFF_GRID, ON_GRID),
]


def test_every_builtin_op_is_covered_here():
    covered = {case.op for case in UNARY} | {case.op for case in BINARY} | {"**n"}
    assert covered == BUILTIN_OPS
    for name in BUILTIN_OPS:
        assert ops.OPS[name].name.startswith(name) or name == "**n"


def test_the_cases_build_nodes_of_their_op():
    x, y = Value(0.7), Value(1.3)
    for case in UNARY:
        assert case.ours(x).op == case.op, case.id
    for case in BINARY:
        assert case.ours(x, y).op == case.op, case.id
    assert (x ** 3).op == "**3" and (x ** 3).rule.name == "**3"


# Values: first and second derivatives, plain, with the node reused, and through backward().

def value_first_and_second(f: Callable[[Value], Value], x0: float) -> tuple[float, float, float]:
    """f(x0), f'(x0) and f''(x0) by `grad` with create_graph, then `grad` again."""
    x = Value(x0, "x")
    y = f(x)
    d1 = grad(y, x, create_graph=True)
    assert isinstance(d1, Value)
    d2 = grad(d1, x, allow_unused=True)
    assert d2 is None or isinstance(d2, float)
    return y.data, d1.data, 0.0 if d2 is None else d2


def torch_first_and_second(f: Callable, x0: float) -> tuple[float, float, float]:
    x = t64(x0)
    y = f(x)
    (d1,) = torch.autograd.grad(y, x, create_graph=True)
    (d2,) = torch_grad([d1], [x])
    return y.item(), d1.item(), d2.item()


def assert_value_matches_torch(ours: Callable, theirs: Callable, x0: float) -> None:
    assert_close(value_first_and_second(ours, x0), torch_first_and_second(theirs, x0))


@pytest.mark.parametrize("case", UNARY, ids=[c.id for c in UNARY])
@given(data=st.data())
def test_unary_value_first_and_second_derivatives(case, data):
    x0 = data.draw(case.elements, label="x")
    assert_value_matches_torch(case.ours, case.theirs, x0)
    # x used twice: d/dx [x f(x)] = f + x f',  d2 = 2 f' + x f''.
    assert_value_matches_torch(lambda x: x * case.ours(x), lambda x: x * case.theirs(x), x0)
    # inside a composition, so the upstream gradient is not 1: f(u) tanh(x) with
    # u = x + 0.1 x tanh(x), which has the sign of x (no kink or domain edge is crossed).
    assert_value_matches_torch(lambda x: case.ours(x + 0.1 * x * x.tanh()) * x.tanh(),
                               lambda x: case.theirs(x + 0.1 * x * x.tanh()) * x.tanh(), x0)


@given(n=st.sampled_from(POWERS), data=st.data())
def test_power_of_number_value_first_and_second_derivatives(n, data):
    x0 = data.draw(power_base(n), label="x")
    assert_value_matches_torch(lambda x: x ** n, lambda x: torch.pow(x, n), x0)
    assert_value_matches_torch(lambda x: x.tanh() * x ** n, lambda x: x.tanh() * torch.pow(x, n), x0)


@pytest.mark.parametrize("case", BINARY, ids=[c.id for c in BINARY])
@given(data=st.data())
def test_binary_value_first_and_second_derivatives(case, data):
    a0, b0 = data.draw(case.a, label="a"), data.draw(case.b, label="b")
    va, vb = data.draw(WEIGHT, label="va"), data.draw(WEIGHT, label="vb")
    for ours, theirs in [(case.ours, case.theirs),
                         # a used twice: f(a, b) * a
                         (lambda a, b: case.ours(a, b) * a, lambda a, b: case.theirs(a, b) * a),
                         (lambda a, b: case.ours(a, b).tanh() * b,
                          lambda a, b: case.theirs(a, b).tanh() * b)]:
        a, b = Value(a0, "a"), Value(b0, "b")
        y = ours(a, b)
        ga, gb = grad(y, [a, b], create_graph=True)
        assert isinstance(ga, Value) and isinstance(gb, Value)
        # The Hessian-vector product: d/d(a, b) of va * dy/da + vb * dy/db.
        ha, hb = grad([ga, gb], [a, b], grad_outputs=[va, vb], allow_unused=True)
        ta, tb = t64(a0), t64(b0)
        ty = theirs(ta, tb)
        tga, tgb = torch.autograd.grad(ty, [ta, tb], create_graph=True)
        tha, thb = torch_grad([tga, tgb], [ta, tb], [t64(va, False), t64(vb, False)])
        assert_close([y.data, ga.data, gb.data], [ty.item(), tga.item(), tgb.item()])
        assert_close([0.0 if ha is None else ha, 0.0 if hb is None else hb], [tha.item(), thb.item()])


@pytest.mark.parametrize("case", [c for c in BINARY if c.op != "max"],
                         ids=[c.id for c in BINARY if c.op != "max"])
@given(data=st.data())
def test_binary_value_with_the_same_node_twice(case, data):
    # f(x, x): both of the node's parents are x (x ** x needs x > 0, x / x needs x != 0).
    x0 = data.draw(finite(0.1, 3.0), label="x")
    assert_value_matches_torch(lambda x: case.ours(x, x), lambda x: case.theirs(x, x), x0)


NUMBER_OPERANDS = [
    ("x + 2", lambda x: x + 2, lambda x: x + 2),
    ("2 + x", lambda x: 2 + x, lambda x: 2 + x),
    ("3 - x", lambda x: 3 - x, lambda x: 3 - x),
    ("x * 2.5", lambda x: x * 2.5, lambda x: x * 2.5),
    ("2 / x", lambda x: 2 / x, lambda x: 2 / x),
    ("x / 4", lambda x: x / 4, lambda x: x / 4),
    ("2 ** x", lambda x: 2 ** x, lambda x: torch.pow(2.0, x)),
    ("maximum(x, 0.25)", lambda x: maximum(x, 0.25), lambda x: torch.maximum(x, t64(0.25, False))),
]


@pytest.mark.parametrize("name, ours, theirs", NUMBER_OPERANDS, ids=[c[0] for c in NUMBER_OPERANDS])
@given(x0=finite(0.3, 3.0).filter(lambda v: v != 0.25))
def test_value_ops_with_a_number_operand(name, ours, theirs, x0):
    # x * x * f(x) makes the second derivative of each form nonzero.
    assert_value_matches_torch(lambda x: x * x * ours(x), lambda x: x * x * theirs(x), x0)


@pytest.mark.parametrize("case", UNARY + [Unary("**n", "pow3", lambda x: x ** 3,
                                                lambda t: t ** 3, NONZERO)],
                         ids=[c.id for c in UNARY] + ["pow3"])
@given(data=st.data())
def test_value_backward_with_create_graph(case, data):
    """backward(create_graph=True) makes x.grad a Value; its own backward gives f''."""
    x0 = data.draw(case.elements, label="x")
    x = Value(x0, "x")
    y = x * case.ours(x)
    y.backward(create_graph=True)
    first = x.grad
    assert isinstance(first, Value)
    x.grad = 0.0  # as torch users set x.grad = None before the second pass
    first.backward()
    _, d1, d2 = torch_first_and_second(lambda t: t * case.theirs(t), x0)
    assert_close([first.data, x.grad], [d1, d2])


def test_value_kinks_second_derivatives_on_each_side():
    # By hand: relu, leaky_relu and abs are piecewise linear, so f'' = 0 on both sides;
    # elu'' = alpha e^x on the left and 0 on the right.
    for x0 in (-0.5, -1e-6, 1e-6, 0.5):
        for case in UNARY:
            if case.op in ("relu", "leaky_relu", "abs", "elu"):
                assert_value_matches_torch(case.ours, case.theirs, x0)
        _, _, d2 = value_first_and_second(lambda x: x.elu(0.5), x0)
        assert d2 == pytest.approx(0.5 * math.exp(x0) if x0 < 0 else 0.0, rel=1e-12, abs=0.0)
        for f in (lambda x: x.relu(), lambda x: x.leaky_relu(0.2), lambda x: abs(x)):
            assert value_first_and_second(f, x0)[2] == 0.0


def test_value_maximum_tie_follows_torch():
    # torch.maximum splits the gradient of a tie 1/2 - 1/2.
    a, b = Value(1.5), Value(1.5)
    y = maximum(a, b) * a
    ga, gb = grad(y, [a, b], create_graph=True)
    ta, tb = t64(1.5), t64(1.5)
    tga, tgb = torch.autograd.grad(torch.maximum(ta, tb) * ta, [ta, tb], create_graph=True)
    assert_close([ga.data, gb.data], [tga.item(), tgb.item()])
    x = Value(0.75)
    assert_value_matches_torch(lambda v: maximum(v, v) * v, lambda t: torch.maximum(t, t) * t, 0.75)
    assert grad(maximum(x, x), x) == 1.0


# Tensors: broadcasting, reused nodes, Hessian-vector products.

SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)
EXPLICIT_PAIRS = [((3, 1), (4,)), ((), (2, 3)), ((2, 3), ()), ((2, 1, 3), (4, 1)), ((1,), (2, 2))]
SHAPE_PAIRS = st.one_of(
    st.sampled_from(EXPLICIT_PAIRS),
    hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3)
    .map(lambda s: s.input_shapes))


def draw_array(data: st.DataObject, shape: tuple, elements: st.SearchStrategy[float],
               label: str) -> np.ndarray:
    return data.draw(hnp.arrays(np.float64, shape, elements=elements), label=label)


@pytest.mark.parametrize("case", UNARY, ids=[c.id for c in UNARY])
@given(shape=SHAPES, data=st.data())
def test_unary_tensor_first_and_second_derivatives(case, shape, data):
    x0 = draw_array(data, shape, case.elements, "x")
    w = draw_array(data, shape, WEIGHT, "w")
    v = draw_array(data, shape, WEIGHT, "v")
    for ours, theirs in [(case.ours, case.theirs),
                         (lambda x: x * case.ours(x), lambda x: x * case.theirs(x))]:  # x reused
        x = Tensor(x0, requires_grad=True)
        loss = (ours(x) * w).sum()
        g = grad(loss, x, create_graph=True)
        assert isinstance(g, Tensor) and g.shape == shape
        hv = grad(g, x, grad_outputs=v, allow_unused=True)
        tx = t64(x0)
        tloss = (theirs(tx) * t64(w, False)).sum()
        (tg,) = torch.autograd.grad(tloss, tx, create_graph=True)
        (thv,) = torch_grad([tg], [tx], [t64(v, False)])
        assert_close(loss, tloss)
        assert_close(g, tg)
        assert_close(np.zeros(shape) if hv is None else hv, thv)


@given(n=st.sampled_from(POWERS), shape=SHAPES, data=st.data())
def test_power_of_number_tensor_first_and_second_derivatives(n, shape, data):
    x0 = draw_array(data, shape, power_base(n), "x")
    v = draw_array(data, shape, WEIGHT, "v")
    x = Tensor(x0, requires_grad=True)
    g = grad((x.tanh() * x ** n).sum(), x, create_graph=True)
    hv = grad(g, x, grad_outputs=v)
    tx = t64(x0)
    (tg,) = torch.autograd.grad((tx.tanh() * tx ** n).sum(), tx, create_graph=True)
    (thv,) = torch.autograd.grad(tg, tx, t64(v, False))
    assert_close(g, tg)
    assert_close(hv, thv)


def binary_tensor_check(ours: Callable, theirs: Callable, a0: np.ndarray, b0: np.ndarray,
                        data: st.DataObject) -> None:
    """loss = sum(w * f(a, b)): first gradients and the full Hessian-vector product in (a, b)."""
    out_shape = np.broadcast_shapes(a0.shape, b0.shape)
    w = draw_array(data, out_shape, WEIGHT, "w")
    va, vb = draw_array(data, a0.shape, WEIGHT, "va"), draw_array(data, b0.shape, WEIGHT, "vb")
    a, b = Tensor(a0, requires_grad=True), Tensor(b0, requires_grad=True)
    out = ours(a, b)
    ga, gb = grad((out * w).sum(), [a, b], create_graph=True)
    assert isinstance(ga, Tensor) and ga.shape == a0.shape and gb.shape == b0.shape
    second = grad([ga, gb], [a, b], grad_outputs=[va, vb], allow_unused=True)
    ta, tb = t64(a0), t64(b0)
    tout = theirs(ta, tb)
    tga, tgb = torch.autograd.grad((tout * t64(w, False)).sum(), [ta, tb], create_graph=True)
    tha, thb = torch_grad([tga, tgb], [ta, tb], [t64(va, False), t64(vb, False)])
    assert_close(out, tout)
    assert_close(ga, tga)
    assert_close(gb, tgb)
    ha, hb = zeros_for_none(second, [a, b])
    assert_close(ha, tha)
    assert_close(hb, thb)


@pytest.mark.parametrize("case", BINARY, ids=[c.id for c in BINARY])
@given(shapes=SHAPE_PAIRS, data=st.data())
def test_binary_tensor_first_and_second_derivatives_with_broadcasting(case, shapes, data):
    a0 = draw_array(data, shapes[0], case.a, "a")
    b0 = draw_array(data, shapes[1], case.b, "b")
    binary_tensor_check(case.ours, case.theirs, a0, b0, data)
    # a reused: f(a, b) * tanh(a)
    binary_tensor_check(lambda a, b: case.ours(a, b) * a.tanh(),
                        lambda a, b: case.theirs(a, b) * a.tanh(), a0, b0, data)


@pytest.mark.parametrize("case", [c for c in BINARY if c.op != "max"],
                         ids=[c.id for c in BINARY if c.op != "max"])
@given(shape=SHAPES, data=st.data())
def test_binary_tensor_with_the_same_node_twice(case, shape, data):
    x0 = draw_array(data, shape, finite(0.1, 3.0), "x")
    v = draw_array(data, shape, WEIGHT, "v")
    x = Tensor(x0, requires_grad=True)
    g = grad((case.ours(x, x) * x).sum(), x, create_graph=True)
    hv = grad(g, x, grad_outputs=v)
    tx = t64(x0)
    (tg,) = torch.autograd.grad((case.theirs(tx, tx) * tx).sum(), tx, create_graph=True)
    (thv,) = torch.autograd.grad(tg, tx, t64(v, False))
    assert_close(g, tg)
    assert_close(hv, thv)


@pytest.mark.parametrize("case", UNARY[:4] + BINARY[:3], ids=lambda c: c.id)
@given(data=st.data())
def test_tensor_backward_with_create_graph(case, data):
    """backward(create_graph=True) makes x.grad a Tensor of the graph; d/dx sum(v * x.grad) = H v."""
    shape = (2, 3)
    x0 = draw_array(data, shape, case.elements if isinstance(case, Unary) else case.a, "x")
    v = draw_array(data, shape, WEIGHT, "v")
    x = Tensor(x0, requires_grad=True)
    f = case.ours if isinstance(case, Unary) else (lambda t: case.ours(t, t.tanh()))
    tf = case.theirs if isinstance(case, Unary) else (lambda t: case.theirs(t, t.tanh()))
    (f(x) * x).sum().backward(create_graph=True)
    first = x.grad
    assert isinstance(first, Tensor) and first.requires_grad
    x.grad = None
    (first * v).sum().backward()
    tx = t64(x0)
    (tg,) = torch.autograd.grad((tf(tx) * tx).sum(), tx, create_graph=True)
    (thv,) = torch.autograd.grad(tg, tx, t64(v, False))
    assert_close(first, tg)
    assert_close(x.grad, thv)


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True:UserWarning")
def test_tensor_second_backward_accumulates_into_a_graph_grad():
    # Regression: Tensor.accumulate_grad once called .astype on a Tensor .grad (AttributeError).
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x ** 3).sum().backward(create_graph=True)  # x.grad = 3 x^2 = [3, 12], a Tensor
    x.grad.sum().backward()                       # adds d/dx sum(3 x^2) = 6 x = [6, 12]
    tx = t64([1.0, 2.0])
    (tx ** 3).sum().backward(create_graph=True)
    tx.grad.sum().backward()                      # torch: [9, 24]
    assert_close(x.grad, tx.grad)


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True:UserWarning")
def test_value_second_backward_accumulates_into_a_graph_grad():
    x = Value(2.0)
    (x ** 3).backward(create_graph=True)  # 3 x^2 = 12
    x.grad.backward()                     # + 6 x = 12
    tx = t64(2.0)
    (tx ** 3).backward(create_graph=True)
    tx.grad.backward()
    assert_close(x.grad, tx.grad)


def test_tensor_kinks_second_derivatives_on_each_side():
    # One tensor with elements on both sides of each kink (hand: relu'' = leaky'' = abs'' = 0,
    # elu'' = alpha e^x left of 0).
    x0 = np.array([-2.0, -0.5, -1e-7, 1e-7, 0.5, 2.0])
    v = np.array([1.0, -2.0, 0.5, 3.0, -1.5, 0.25])
    for case in UNARY:
        if case.op not in ("relu", "leaky_relu", "abs", "elu"):
            continue
        x = Tensor(x0, requires_grad=True)
        g = grad(case.ours(x).sum(), x, create_graph=True)
        hv = grad(g, x, grad_outputs=v, allow_unused=True)
        tx = t64(x0)
        (tg,) = torch.autograd.grad(case.theirs(tx).sum(), tx, create_graph=True)
        (thv,) = torch_grad([tg], [tx], [t64(v, False)])
        assert_close(g, tg)
        assert_close(np.zeros(6) if hv is None else hv, thv)
    x = Tensor(x0, requires_grad=True)
    hv = grad(grad(x.elu(0.5).sum(), x, create_graph=True), x, grad_outputs=v)
    assert_close(hv, np.where(x0 < 0, 0.5 * np.exp(x0), 0.0) * v)


def test_tensor_maximum_with_a_0d_first_operand_and_a_number():
    b0 = np.array([[0.1, 0.5, 0.9], [-1.0, 0.2, 0.45]])
    for a_in, ta_in in [(Tensor(0.3, requires_grad=True), t64(0.3)), (0.3, t64(0.3, False))]:
        b = Tensor(b0, requires_grad=True)
        (maximum(a_in, b) * b).sum().backward()
        tb = t64(b0)
        (torch.maximum(ta_in, tb) * tb).sum().backward()
        assert_close(b.grad, tb.grad)


# Regressions: in an ordinary backward, `upstream * local` of two 0-d arrays is a numpy scalar
# (np.float64), not an ndarray; ops.select once treated it as a Python float, so where's and
# clip's backward returned a float and sum_to failed on it.
def test_where_backward_of_0d_tensors():
    x = Tensor(2.0, requires_grad=True)
    (where(np.array(True), x, 0.0) * x).backward()
    tx = t64(2.0)
    (torch.where(torch.tensor(True), tx, 0.0) * tx).backward()
    assert_close(x.grad, tx.grad)  # 2x = 4


def test_clip_backward_of_0d_tensors():
    x = Tensor(0.5, requires_grad=True)
    (x.clip(0.0, 1.0) * x).backward()
    tx = t64(0.5)
    (torch.clamp(tx, 0.0, 1.0) * tx).backward()
    assert_close(x.grad, tx.grad)  # 2x = 1


def test_elu_second_derivative_of_a_0d_tensor():
    x = Tensor(-1.0, requires_grad=True)
    g = grad(x.elu(0.5), x, create_graph=True)
    tx = t64(-1.0)
    (tg,) = torch.autograd.grad(F.elu(tx, 0.5), tx, create_graph=True)
    assert_close(grad(g, x), torch.autograd.grad(tg, tx)[0])  # 0.5 e^-1


def test_reduction_max_followed_by_a_0d_op_gives_array_gradients():
    # Regression: reduce_max's backward tested `type(g) is np.ndarray`, so the numpy-scalar
    # gradient of a 0-d op after it took the graph branch: x.grad became a Tensor, and an op
    # before the max (log_softmax) failed on it.
    x = Tensor([1.0, 3.0, 2.0], requires_grad=True)
    (x.max() * x.sum()).backward()
    tx = t64([1.0, 3.0, 2.0])
    (tx.amax() * tx.sum()).backward()
    assert type(x.grad) is np.ndarray
    assert_close(x.grad, tx.grad)  # [3, 9, 3]
    y = Tensor([1.0, 3.0, 2.0], requires_grad=True)
    (y.log_softmax().max() * 2.0).backward()
    ty = t64([1.0, 3.0, 2.0])
    (ty.log_softmax(-1).amax() * 2.0).backward()
    assert_close(y.grad, ty.grad)


def test_tensor_maximum_0d_second_operand_and_ties_follow_torch():
    a0 = np.array([[0.1, 0.5, 0.9], [-1.0, 0.3, 0.45]])  # 0.3 ties with b
    a, b = Tensor(a0, requires_grad=True), Tensor(0.3, requires_grad=True)
    ga, gb = grad((maximum(a, b) * a).sum(), [a, b], create_graph=True)
    ta, tb = t64(a0), t64(0.3)
    tga, tgb = torch.autograd.grad((torch.maximum(ta, tb) * ta).sum(), [ta, tb], create_graph=True)
    assert_close(ga, tga)
    assert_close(gb, tgb)
    v = np.arange(6.0).reshape(2, 3)
    assert_close(grad(ga, a, grad_outputs=v), torch.autograd.grad(tga, ta, t64(v, False))[0])


# -- structural tensor ops: full Hessians ---------------------------------------------------------

def _c(shape: tuple, seed: int) -> np.ndarray:
    """A fixed constant array (the same for both engines)."""
    return np.random.default_rng(seed).uniform(-1.5, 1.5, shape)


C34, C3, C22, C32, C4, C6 = _c((3, 4), 1), _c((3,), 2), _c((2, 2), 3), _c((3, 2), 4), _c((4,), 5), _c((6,), 6)
MASK34 = np.array([[True, False, True, True], [False, False, True, False], [True, True, False, True]])
INDEX = np.array([0, 2, 2, 5, 0, 7])  # repeats
ROWS, COLS = np.array([0, 0, 2, 1]), np.array([1, 1, 3, 0])  # (0, 1) twice


def _t(array: np.ndarray) -> torch.Tensor:
    return torch.tensor(array, dtype=torch.float64)


def _tmask(mask: np.ndarray) -> torch.Tensor:
    return torch.tensor(mask)


@dataclass(frozen=True)
class Structural:
    id: str
    n: int  # parameters: f takes a vector of n
    ours: Callable[[Tensor], Tensor]
    theirs: Callable[[torch.Tensor], torch.Tensor]


STRUCTURAL = [
    Structural("matmul 2-D, both operands", 12,
               lambda p: (p[:6].reshape(2, 3) @ p[6:].reshape(3, 2)).tanh().sum(),
               lambda p: (p[:6].reshape(2, 3) @ p[6:].reshape(3, 2)).tanh().sum()),
    Structural("matmul x @ x.T", 6,
               lambda p: ((p.reshape(2, 3) @ p.reshape(2, 3).T).tanh() * C22).sum(),
               lambda p: ((p.reshape(2, 3) @ p.reshape(2, 3).T).tanh() * _t(C22)).sum()),
    Structural("matmul 1-D @ 2-D", 9,
               lambda p: (p[:3] @ p[3:].reshape(3, 2)).tanh().sum(),
               lambda p: (p[:3] @ p[3:].reshape(3, 2)).tanh().sum()),
    Structural("matmul 2-D @ 1-D", 9,
               lambda p: ((p[3:].reshape(2, 3) @ p[:3]) ** 3).sum(),
               lambda p: ((p[3:].reshape(2, 3) @ p[:3]) ** 3).sum()),
    Structural("matmul 1-D @ 1-D", 6,
               lambda p: (p[:3] @ p[3:]).tanh() + (p[:3] @ p[:3]) ** 2,
               lambda p: (p[:3] @ p[3:]).tanh() + (p[:3] @ p[:3]) ** 2),
    Structural("matmul batched 3-D @ 2-D", 12,
               lambda p: (p[:8].reshape(2, 2, 2) @ p[8:].reshape(2, 2)).tanh().sum(),
               lambda p: (p[:8].reshape(2, 2, 2) @ p[8:].reshape(2, 2)).tanh().sum()),
    Structural("matmul batched with broadcast batch", 12,
               lambda p: ((p[:8].reshape(2, 1, 2, 2) @ p[8:].reshape(1, 2, 2)).tanh() * C22).sum(),
               lambda p: ((p[:8].reshape(2, 1, 2, 2) @ p[8:].reshape(1, 2, 2)).tanh() * _t(C22)).sum()),
    Structural("matmul batched @ 1-D and 1-D @ batched", 10,
               lambda p: (p[:8].reshape(2, 2, 2) @ p[8:]).tanh().sum() + ((p[8:] @ p[:8].reshape(2, 2, 2)) ** 2).sum(),
               lambda p: (p[:8].reshape(2, 2, 2) @ p[8:]).tanh().sum() + ((p[8:] @ p[:8].reshape(2, 2, 2)) ** 2).sum()),
    Structural("sum axis keepdims", 12,
               lambda p: (p.reshape(3, 4).sum(axis=0, keepdims=True) ** 2 * p.reshape(3, 4)).sum()
               + (p.reshape(2, 3, 2).sum(axis=(0, 2)) ** 3).sum() + p.sum() ** 2,
               lambda p: (p.reshape(3, 4).sum(dim=0, keepdim=True) ** 2 * p.reshape(3, 4)).sum()
               + (p.reshape(2, 3, 2).sum(dim=(0, 2)) ** 3).sum() + p.sum() ** 2),
    Structural("mean axis keepdims", 12,
               lambda p: (p.reshape(3, 4).mean(axis=1) ** 3).sum() + p.mean() ** 2
               + (p.reshape(3, 4).mean(axis=-1, keepdims=True) * p.reshape(3, 4).tanh()).sum(),
               lambda p: (p.reshape(3, 4).mean(dim=1) ** 3).sum() + p.mean() ** 2
               + (p.reshape(3, 4).mean(dim=-1, keepdim=True) * p.reshape(3, 4).tanh()).sum()),
    Structural("max axis keepdims", 12,
               lambda p: (p.reshape(3, 4).max(axis=1) ** 3).sum() + p.max() ** 2
               + (p.reshape(3, 4).max(axis=0, keepdims=True) * p.reshape(3, 4)).sum()
               + (p.reshape(2, 3, 2).max(axis=(0, 2)).tanh()).sum(),
               lambda p: (p.reshape(3, 4).amax(dim=1) ** 3).sum() + p.amax() ** 2
               + (p.reshape(3, 4).amax(dim=0, keepdim=True) * p.reshape(3, 4)).sum()
               + (p.reshape(2, 3, 2).amax(dim=(0, 2)).tanh()).sum()),
    Structural("reshape and transpose", 12,
               lambda p: (p.reshape(2, 3, 2).transpose(2, 0, 1).reshape(4, 3) @ C32).tanh().sum()
               + (p.reshape(3, 4).T * C4.reshape(4, 1) * p.reshape(3, 4).T).sum()
               + ((p.reshape(3, 2, 2).transpose((1, 0, 2)) ** 3) * p.reshape(2, 3, 2)).sum(),
               lambda p: (p.reshape(2, 3, 2).permute(2, 0, 1).reshape(4, 3) @ _t(C32)).tanh().sum()
               + (p.reshape(3, 4).T * _t(C4).reshape(4, 1) * p.reshape(3, 4).T).sum()
               + ((p.reshape(3, 2, 2).permute(1, 0, 2) ** 3) * p.reshape(2, 3, 2)).sum()),
    Structural("getitem basic", 12,
               lambda p: (p.reshape(3, 4)[1:, ::2] ** 3).sum() + (p.reshape(3, 4)[0] * p.reshape(3, 4)[2]).sum()
               + p.reshape(3, 4)[-1, -1] ** 2 + (p.reshape(3, 4)[None, :, 1] * p[:3]).tanh().sum()
               + (p.reshape(2, 3, 2)[..., 0] ** 2).sum(),
               lambda p: (p.reshape(3, 4)[1:, ::2] ** 3).sum() + (p.reshape(3, 4)[0] * p.reshape(3, 4)[2]).sum()
               + p.reshape(3, 4)[-1, -1] ** 2 + (p.reshape(3, 4)[None, :, 1] * p[:3]).tanh().sum()
               + (p.reshape(2, 3, 2)[..., 0] ** 2).sum()),
    Structural("getitem integer arrays with repeats", 12,
               lambda p: (p[INDEX] ** 3 * C6).sum() + (p.reshape(3, 4)[ROWS, COLS] ** 2 * p[:4]).sum()
               + (p[[1, 1, 3]].tanh()).sum(),
               lambda p: (p[_t(INDEX).long()] ** 3 * _t(C6)).sum()
               + (p.reshape(3, 4)[_t(ROWS).long(), _t(COLS).long()] ** 2 * p[:4]).sum()
               + (p[[1, 1, 3]].tanh()).sum()),
    Structural("getitem boolean", 12,
               lambda p: (p.reshape(3, 4)[MASK34] ** 3).sum() + (p[p.data > 0].tanh() * 2).sum()
               + (p.reshape(3, 4)[:, MASK34[0]] ** 2).sum(),
               lambda p: (p.reshape(3, 4)[_tmask(MASK34)] ** 3).sum() + (p[p.detach() > 0].tanh() * 2).sum()
               + (p.reshape(3, 4)[:, _tmask(MASK34[0])] ** 2).sum()),
    Structural("concatenate", 12,
               lambda p: (concatenate([p[:3].tanh(), p[3:6] * p[:3], p[6:]], axis=0) ** 3).sum()
               + (concatenate([p[:6].reshape(2, 3), p[6:].reshape(2, 3).tanh()], axis=1) @ C6).sum() ** 2,
               lambda p: (torch.cat([p[:3].tanh(), p[3:6] * p[:3], p[6:]], dim=0) ** 3).sum()
               + (torch.cat([p[:6].reshape(2, 3), p[6:].reshape(2, 3).tanh()], dim=1) @ _t(C6)).sum() ** 2),
    Structural("stack", 12,
               lambda p: (stack([p[:4], p[4:8] * p[:4], p[8:].tanh()], axis=1) @ C3).tanh().sum()
               + (stack([p[:2] * p[2:4], p[10:]], axis=0) ** 2).sum(),
               lambda p: (torch.stack([p[:4], p[4:8] * p[:4], p[8:].tanh()], dim=1) @ _t(C3)).tanh().sum()
               + (torch.stack([p[:2] * p[2:4], p[10:]], dim=0) ** 2).sum()),
    Structural("softmax", 12,
               lambda p: (p.reshape(3, 4).softmax(axis=1) * C34).sum() + (p.reshape(3, 4).softmax(axis=0) ** 2).sum()
               + (p.reshape(2, 3, 2).softmax(1) * p.reshape(2, 3, 2)).sum(),
               lambda p: (p.reshape(3, 4).softmax(dim=1) * _t(C34)).sum() + (p.reshape(3, 4).softmax(dim=0) ** 2).sum()
               + (p.reshape(2, 3, 2).softmax(1) * p.reshape(2, 3, 2)).sum()),
    Structural("log_softmax", 12,
               lambda p: (p.reshape(3, 4).log_softmax(axis=0) * C34).sum() + (p.reshape(3, 4).log_softmax() ** 2).sum()
               + p.log_softmax()[3],
               lambda p: (p.reshape(3, 4).log_softmax(dim=0) * _t(C34)).sum()
               + (p.reshape(3, 4).log_softmax(dim=-1) ** 2).sum() + p.log_softmax(dim=-1)[3]),
    # x (2, 3) clipped into [lo (3,), hi (2, 1)]; every element of p differs, so no x equals a bound.
    Structural("clip with Tensor bounds", 11,
               lambda p: (p[:6].reshape(2, 3).clip(p[6:9], p[9:11].reshape(2, 1) + 1.0005) ** 2
                          * p[:6].reshape(2, 3)).sum()
               + (p[:6].clip(min=p[6:7]) ** 3).sum() + (p[:6].clip(max=p[9:10]).tanh() * p[:6]).sum()
               + (p[:6].clip(-0.5, 0.5) ** 2).sum(),
               lambda p: (torch.clamp(p[:6].reshape(2, 3), p[6:9], p[9:11].reshape(2, 1) + 1.0005) ** 2
                          * p[:6].reshape(2, 3)).sum()
               + (torch.clamp(p[:6], min=p[6:7]) ** 3).sum()
               + (torch.clamp(p[:6], max=p[9:10]).tanh() * p[:6]).sum()
               + (torch.clamp(p[:6], -0.5, 0.5) ** 2).sum()),
    Structural("where", 12,
               lambda p: (where(MASK34, p.reshape(3, 4) ** 2, p[8:].tanh()) * p.reshape(3, 4)).sum()
               + (where(p[:4].data > 0, p[:4] ** 3, 2.0)).sum() + (where(MASK34[1], 0.5, p[4:8]) ** 2).sum(),
               lambda p: (torch.where(_tmask(MASK34), p.reshape(3, 4) ** 2, p[8:].tanh()) * p.reshape(3, 4)).sum()
               + (torch.where(p[:4].detach() > 0, p[:4] ** 3, _t(np.array(2.0)))).sum()
               + (torch.where(_tmask(MASK34[1]), _t(np.array(0.5)), p[4:8]) ** 2).sum()),
]


def distinct_parameters(n: int) -> st.SearchStrategy[np.ndarray]:
    """n distinct numbers in [-2, 2] on the grid (k + 0.3)/1000: at least 1e-3 apart, none 0
    or +-0.5 (clip's number bounds), so no max has a tie and no clip or where sits at a kink
    (clip's shifted bound hi + 1.0005 is off the grid as well)."""
    return st.lists(st.integers(-2000, 1999), min_size=n, max_size=n, unique=True).map(
        lambda ks: (np.array(ks, dtype=np.float64) + 0.3) / 1000.0)


@pytest.mark.parametrize("case", STRUCTURAL, ids=[c.id for c in STRUCTURAL])
@settings(max_examples=20)  # each example builds two full Hessians
@given(data=st.data())
def test_structural_ops_hessian_and_hvp(case, data):
    p = data.draw(distinct_parameters(case.n), label="p")
    v = data.draw(hnp.arrays(np.float64, case.n, elements=WEIGHT), label="v")
    tp = _t(p)
    expected = torch.autograd.functional.hessian(case.theirs, tp)
    assert_close(hessian(case.ours, p), expected)
    value, product = hvp(case.ours, p, v)
    tvalue, tproduct = torch.autograd.functional.hvp(case.theirs, tp, _t(v))
    assert_close(value, tvalue)
    assert_close(product, tproduct)
    # grad twice, by hand
    x = Tensor(p, requires_grad=True)
    g = grad(case.ours(x), x, create_graph=True)
    assert_close(grad(g, x, grad_outputs=v), tproduct)


# -- a small MLP's Hessian ---------------------------------------------------------------------------

MLP_X = np.array([[0.5, -1.2], [1.5, 0.3], [-0.7, 0.8], [0.1, -0.4], [2.0, 1.1]])
MLP_T = np.array([[0.3], [-0.5], [1.0], [0.2], [-1.2]])


def mlp_loss(p: Any, lib: str) -> Any:
    """A 2-3-1 tanh network's mse on MLP_X, MLP_T; p = [W1 (3, 2), b1 (3), W2 (1, 3), b2 (1)]."""
    x, t = (MLP_X, MLP_T) if lib == "ours" else (_t(MLP_X), _t(MLP_T))
    w1, b1, w2, b2 = p[:6].reshape(3, 2), p[6:9], p[9:12].reshape(1, 3), p[12:13]
    y = (x @ w1.T + b1).tanh() @ w2.T + b2
    return ((y - t) ** 2).mean()


@settings(max_examples=10)
@given(p=hnp.arrays(np.float64, 13, elements=finite(-1.5, 1.5)))
def test_mlp_loss_hessian_matches_torch(p):
    expected = torch.autograd.functional.hessian(lambda q: mlp_loss(q, "torch"), _t(p))
    ours = hessian(lambda q: mlp_loss(q, "ours"), p)
    assert ours.shape == (13, 13)
    assert_close(ours, expected)
    assert_close(ours, ours.T, tol=1e-12)


def scalar_network(w1: Any, w2: Any, b: Any, v: Any, c: Any) -> Any:
    """One tanh neuron and a linear output on the point (0.8, -1.3), squared error to 0.4."""
    h = (w1 * 0.8 + w2 * -1.3 + b).tanh()
    return (v * h + c - 0.4) ** 2 + (w1 * w2).sigmoid()


@given(params=st.lists(finite(-1.5, 1.5), min_size=5, max_size=5))
def test_value_network_hessian_matches_torch(params):
    ours = hessian(scalar_network, params)
    assert isinstance(ours, list) and len(ours) == 5 and all(len(row) == 5 for row in ours)
    assert all(isinstance(entry, float) for row in ours for entry in row)
    expected = torch.autograd.functional.hessian(scalar_network, tuple(_t(np.array(q)) for q in params))
    assert_close(ours, [[entry.item() for entry in row] for row in expected])
    assert_close(ours, np.transpose(ours), tol=1e-12)
    # hvp on the list of Values
    v = [0.5, -1.0, 2.0, 0.25, -0.75]
    value, product = hvp(scalar_network, params, v)
    tvalue, tproduct = torch.autograd.functional.hvp(
        scalar_network, tuple(_t(np.array(q)) for q in params), tuple(_t(np.array(q)) for q in v))
    assert_close(value, tvalue)
    assert_close(product, [t.item() for t in tproduct])


# -- grad semantics ----------------------------------------------------------------------------------

def test_grad_several_outputs_with_grad_outputs_tensors():
    a0, b0 = np.array([[0.5, -1.0, 2.0], [0.3, 0.7, -0.2]]), np.array([1.5, -0.5, 0.25])
    v1 = np.array([[1.0, 2.0, -1.0], [0.5, -0.5, 3.0]])
    a, b = Tensor(a0, requires_grad=True), Tensor(b0, requires_grad=True)
    y1, y2 = (a * b).tanh(), (a.sum(axis=0) * b.exp()).sum()
    ga, gb = grad([y1, y2], [a, b], grad_outputs=[v1, None])
    assert type(ga) is np.ndarray and type(gb) is np.ndarray
    ta, tb = t64(a0), t64(b0)
    ty1, ty2 = (ta * tb).tanh(), (ta.sum(dim=0) * tb.exp()).sum()
    tga, tgb = torch.autograd.grad([ty1, ty2], [ta, tb], grad_outputs=[t64(v1, False), None])
    assert_close(ga, tga)
    assert_close(gb, tgb)
    # as Tensors, with create_graph; the grad_outputs may be a Tensor
    cga, cgb = grad([y1, y2], [a, b], grad_outputs=[Tensor(v1), None], create_graph=True)
    assert isinstance(cga, Tensor) and cga.requires_grad and cgb.requires_grad
    assert_close(cga, tga)
    assert a.grad is None and b.grad is None and y1.grad is None


def test_grad_several_outputs_with_grad_outputs_values():
    a, b = Value(0.6, "a"), Value(-1.1, "b")
    y1, y2 = (a * b).tanh(), a.exp() / (b * b + 1)
    ga, gb = grad([y1, y2], [a, b], grad_outputs=[2.0, -0.5])
    assert isinstance(ga, float) and isinstance(gb, float)
    ta, tb = t64(0.6), t64(-1.1)
    ty1, ty2 = (ta * tb).tanh(), ta.exp() / (tb * tb + 1)
    tga, tgb = torch.autograd.grad([ty1, ty2], [ta, tb], grad_outputs=[t64(2.0, False), t64(-0.5, False)],
                                   retain_graph=True)
    assert_close([ga, gb], [tga.item(), tgb.item()])
    # grad_outputs that are Values become part of the graph with create_graph
    s = Value(2.0, "s")
    ga2, gb2 = grad([y1, y2], [a, b], grad_outputs=[s, -0.5], create_graph=True)
    assert isinstance(ga2, Value) and isinstance(gb2, Value)
    assert_close([ga2.data, gb2.data], [tga.item(), tgb.item()])
    # d(ga2)/ds = d y1/da
    assert_close(grad(ga2, s), torch.autograd.grad(ty1, ta)[0].item())


def test_grad_returns_a_tuple_for_a_list_and_the_gradient_for_one_input():
    x = Value(1.5)
    assert isinstance(grad(x * x, [x]), tuple) and grad(x * x, [x]) == (3.0,)
    assert grad(x * x, x) == 3.0
    t = Tensor([1.0, 2.0], requires_grad=True)
    assert isinstance(grad((t * t).sum(), (t,)), tuple)
    np.testing.assert_array_equal(grad((t * t).sum(), t), [2.0, 4.0])


def test_grad_unused_input_error_names_it_with_its_label():
    x, z = Value(1.0, "x"), Value(2.0, "zed")
    with pytest.raises(RuntimeError, match=r"input 1 \('zed'\)"):
        grad(x * 3, [x, z])
    assert grad(x * 3, [x, z], allow_unused=True) == (3.0, None)
    a, b = Tensor([1.0, 2.0], requires_grad=True, label="alpha"), Tensor([3.0], requires_grad=True, label="beta")
    with pytest.raises(RuntimeError, match=r"input 1 \('beta'\)"):
        grad((a * a).sum(), [a, b])
    with pytest.raises(RuntimeError, match=r"input 0 \('alpha'\)"):
        grad((b * b).sum(), [a, b])
    ga, gb = grad((a * a).sum(), [a, b], allow_unused=True)
    assert gb is None
    np.testing.assert_array_equal(ga, [2.0, 4.0])
    # torch agrees: None for the unused input
    ta, tb = t64([1.0, 2.0]), t64([3.0])
    assert torch.autograd.grad((ta * ta).sum(), [ta, tb], allow_unused=True)[1] is None
    with pytest.raises(RuntimeError):
        torch.autograd.grad((ta * ta).sum(), [ta, tb])
    unlabelled = Value(5.0)
    with pytest.raises(RuntimeError, match=r"input 1 is not used"):
        grad(x * 2, [x, unlabelled])


def test_grad_leaves_every_grad_untouched():
    x, w = Value(0.5, "x"), Value(-2.0, "w")
    h = (x * w).tanh()
    y = h * h + x
    grad(y, [x, w])
    grad(y, [x, w], create_graph=True)
    assert x.grad == 0.0 and w.grad == 0.0 and h.grad == 0.0 and y.grad == 0.0
    t = Tensor([[1.0, 2.0]], requires_grad=True)
    m = Tensor([[0.5], [-1.0]], requires_grad=True)
    out = (t @ m).tanh().sum()
    grad(out, [t, m])
    grad(out, [t, m], create_graph=True)
    assert t.grad is None and m.grad is None and out.grad is None
    # gradients that were there stay exactly as they were
    out.backward()
    before = t.grad.copy()
    grad(out, t)
    np.testing.assert_array_equal(t.grad, before)


def test_grad_kinds_with_and_without_create_graph():
    x = Value(0.3)
    assert isinstance(grad(x.sigmoid(), x), float)
    g = grad(x.sigmoid(), x, create_graph=True)
    assert isinstance(g, Value)
    t = Tensor([0.3, -0.2], requires_grad=True)
    plain = grad(t.sigmoid().sum(), t)
    assert type(plain) is np.ndarray and plain.dtype == np.float64
    node = grad(t.sigmoid().sum(), t, create_graph=True)
    assert isinstance(node, Tensor) and node.requires_grad
    t32 = Tensor([0.3, -0.2], requires_grad=True, dtype=np.float32)
    assert grad(t32.sigmoid().sum(), t32).dtype == np.float32
    # a gradient that does not depend on the input (linear function) does not require grad
    lin = grad((t * 3.0).sum(), t, create_graph=True)
    assert isinstance(lin, Tensor) and not lin.requires_grad
    np.testing.assert_array_equal(lin.data, [3.0, 3.0])


def test_grad_of_a_grad_of_a_grad_third_derivative():
    # d^3/dx^3 of x^2 tanh(x), against torch.
    x = Value(0.7)
    y = x * x * x.tanh()
    d1 = grad(y, x, create_graph=True)
    d2 = grad(d1, x, create_graph=True)
    d3 = grad(d2, x)
    tx = t64(0.7)
    ty = tx * tx * tx.tanh()
    (t1,) = torch.autograd.grad(ty, tx, create_graph=True)
    (t2,) = torch.autograd.grad(t1, tx, create_graph=True)
    (t3,) = torch.autograd.grad(t2, tx)
    assert_close([d1.data, d2.data, d3], [t1.item(), t2.item(), t3.item()])
    t = Tensor([0.7, -0.4], requires_grad=True)
    g1 = grad((t.sigmoid() * t.exp()).sum(), t, create_graph=True)
    g2 = grad(g1.sum(), t, create_graph=True)
    g3 = grad(g2.sum(), t)
    tt = t64([0.7, -0.4])
    (s1,) = torch.autograd.grad((tt.sigmoid() * tt.exp()).sum(), tt, create_graph=True)
    (s2,) = torch.autograd.grad(s1.sum(), tt, create_graph=True)
    (s3,) = torch.autograd.grad(s2.sum(), tt)
    assert_close(g3, s3)


def test_grad_rejects_bad_grad_outputs():
    t = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match="grad_outputs"):
        grad(t * 2, t)
    with pytest.raises(ValueError, match="shape"):
        grad(t * 2, t, grad_outputs=np.ones(3))
    with pytest.raises(ValueError, match="2 grad_outputs for 1 outputs"):
        grad([t * 2], t, grad_outputs=[np.ones(2), np.ones(2)])


# -- jacobian, hessian, hvp against torch.autograd.functional ---------------------------------------

@given(x0=hnp.arrays(np.float64, (2, 3), elements=finite(-2.0, 2.0)))
def test_jacobian_of_tensor_functions(x0):
    m = _c((3, 4), 7)
    ours = jacobian(lambda x: (x @ m).tanh() * x.sum(axis=1, keepdims=True), x0)
    theirs = torch.autograd.functional.jacobian(
        lambda x: (x @ _t(m)).tanh() * x.sum(dim=1, keepdim=True), _t(x0))
    assert ours.shape == (2, 4, 2, 3)
    assert_close(ours, theirs)
    # a Tensor argument gives the same; a 0-d result gives x.shape
    assert_close(jacobian(lambda x: (x @ m).tanh() * x.sum(axis=1, keepdims=True), Tensor(x0)), theirs)
    scalar = jacobian(lambda x: (x ** 2).sum(), x0)
    assert scalar.shape == (2, 3)
    assert_close(scalar, 2 * x0)


def test_jacobian_of_a_function_independent_of_some_outputs_is_zero_there():
    x0 = np.array([0.5, -1.0])
    ours = jacobian(lambda x: concatenate([x * 2.0, Tensor([1.0, 2.0])]), x0)
    theirs = torch.autograd.functional.jacobian(lambda x: torch.cat([x * 2.0, _t(np.array([1.0, 2.0]))]), _t(x0))
    assert_close(ours, theirs)


def test_jacobian_hessian_hvp_of_values():
    f = lambda x: x.tanh() * x.exp()  # noqa: E731
    tx = _t(np.array(0.4))
    j = jacobian(f, 0.4)
    assert isinstance(j, float)
    assert_close(j, torch.autograd.functional.jacobian(f, tx))
    assert_close(jacobian(f, Value(0.4)), torch.autograd.functional.jacobian(f, tx))
    h = hessian(f, 0.4)
    assert isinstance(h, float)
    assert_close(h, torch.autograd.functional.hessian(f, tx))
    value, product = hvp(f, 0.4, 1.5)
    tvalue, tproduct = torch.autograd.functional.hvp(f, tx, _t(np.array(1.5)))
    assert_close([value, product], [tvalue.item(), tproduct.item()])
    # a list of outputs from one Value
    many = jacobian(lambda x: [x * x, x.sigmoid()], 0.4)
    tmany = torch.autograd.functional.jacobian(lambda x: (x * x, x.sigmoid()), tx)
    assert_close(many, [t.item() for t in tmany])


def test_jacobian_and_hessian_of_a_list_of_values():
    def f(a, b, c):
        return [a * b.exp(), (a + c).tanh() * b, c * c]
    ins = [0.3, -0.8, 1.2]
    tins = tuple(_t(np.array(q)) for q in ins)
    ours = jacobian(f, ins)
    theirs = torch.autograd.functional.jacobian(lambda a, b, c: tuple(f(a, b, c)), tins)
    assert len(ours) == 3 and all(len(row) == 3 for row in ours)
    assert_close(ours, [[entry.item() for entry in row] for row in theirs])
    # a single output: one row
    g = lambda a, b, c: a * b * c + (a * b).tanh()  # noqa: E731
    row = jacobian(g, ins)
    assert_close(row, [t.item() for t in torch.autograd.functional.jacobian(g, tins)])
    h = hessian(g, ins)
    assert_close(h, [[e.item() for e in r] for r in torch.autograd.functional.hessian(g, tins)])
    # an input the function ignores: a zero row and column, as torch
    h2 = hessian(lambda a, b, c: a * a * b, ins)
    th2 = torch.autograd.functional.hessian(lambda a, b, c: a * a * b, tins)
    assert_close(h2, [[e.item() for e in r] for r in th2])


def test_hessian_and_hvp_of_tensors_with_linear_and_constant_parts():
    x0 = np.array([[0.5, -1.0], [2.0, 0.25]])
    v = np.array([[1.0, 2.0], [-1.0, 0.5]])
    for f, tf in [(lambda x: (x * 3.0).sum(), lambda x: (x * 3.0).sum()),  # Hessian 0
                  (lambda x: (x ** 3).sum() + x[0, 1] * x[1, 0], lambda x: (x ** 3).sum() + x[0, 1] * x[1, 0])]:
        h = hessian(f, x0)
        assert h.shape == (2, 2, 2, 2)
        assert_close(h, torch.autograd.functional.hessian(tf, _t(x0)))
        value, product = hvp(f, x0, v)
        tvalue, tproduct = torch.autograd.functional.hvp(tf, _t(x0), _t(v))
        assert_close(value, tvalue)
        assert_close(product, tproduct)
        assert_close(hvp(f, Tensor(x0), v)[1], tproduct)


# -- gradgradcheck ---------------------------------------------------------------------------------

@given(inputs=st.lists(finite(0.2, 1.5), min_size=2, max_size=2))
@settings(max_examples=20)
def test_gradgradcheck_passes_on_correct_value_functions(inputs):
    a, b = inputs
    assume(abs(a * a - b) > 1e-2 and abs(a - b) > 1e-2)  # no tie of max, no kink of leaky_relu
    assert gradgradcheck(lambda a, b: (a * b).tanh() + a.exp() / b + (a ** b) * b.sigmoid(), inputs)
    assert gradgradcheck(lambda a, b: maximum(a * a, b).elu(0.5) + (a - b).leaky_relu(0.2) * a, inputs)


def test_gradgradcheck_passes_on_correct_tensor_functions():
    x0 = np.array([[0.5, -1.0, 0.3], [1.2, 0.25, -0.6]])
    w0 = np.array([0.7, -0.2, 1.1])
    assert gradgradcheck(lambda x, w: ((x @ w).tanh() ** 2).sum() + (x * w).softmax(1)[0, 1], [x0, w0])
    assert gradgradcheck(lambda x: (x.log_softmax(0).max(axis=0) ** 2).sum() * x.sigmoid().mean(), [x0])
    assert gradgradcheck(lambda x: (x.clip(-0.45, 0.4) * x.elu()).sum() + (x.abs() ** 1.5).mean(), [x0])


# A square whose local derivative is right as a number (2x) but is built from the input's
# *data*, so on nodes it is a constant: the second derivative comes out 0 instead of 2.
FLAT_SQUARE = define_op("square_flat_derivative_test_higher_order", forward=lambda x: x * x,
                        derivative=lambda x, out: 2.0 * ops.data_of(x), formula="2*{x}")


def test_gradgradcheck_fails_on_a_wrong_second_derivative_of_a_value():
    f = lambda a: FLAT_SQUARE(a) * a  # noqa: E731   (a^3: f' = 3a^2 right, f'' = 6a; wrong: 4a)
    assert gradcheck(f, [0.7]) is True  # the first derivative is right
    assert_close(value_first_and_second(f, 0.7)[1], 3 * 0.7 ** 2)
    assert value_first_and_second(f, 0.7)[2] == pytest.approx(4 * 0.7)  # 2*2a, not 6a
    with pytest.raises(GradcheckError):
        gradgradcheck(f, [0.7])
    with pytest.raises(GradcheckError):
        gradgradcheck(lambda a: FLAT_SQUARE(a), [0.7])


def test_gradgradcheck_fails_on_a_wrong_second_derivative_of_a_tensor():
    x0 = np.array([0.5, -1.0, 1.5])
    f = lambda x: (FLAT_SQUARE(x) * x.tanh()).sum()  # noqa: E731
    assert gradcheck(f, [x0]) is True
    with pytest.raises(GradcheckError):
        gradgradcheck(f, [x0])
    # the same function with the true square passes
    assert gradgradcheck(lambda x: (x * x * x.tanh()).sum(), [x0])


def test_gradgradcheck_fails_on_a_derivative_right_in_value_but_wrong_as_a_graph():
    # On nodes the derivative adds (out - out.data): the value is 2x, as it should be, but the
    # graph of the derivative is 2x + out, whose own derivative is 2 + 2x instead of 2.
    def derivative(x, out):
        if isinstance(x, (float, np.ndarray)):
            return 2.0 * x
        return 2.0 * x + (out - ops.data_of(out))
    op = define_op("square_graph_wrong_test_higher_order", forward=lambda x: x * x,
                   derivative=derivative, formula="2*{x}")
    f = lambda a: op(a) * a.exp()  # noqa: E731
    assert gradcheck(f, [0.4]) is True
    right = value_first_and_second(lambda a: a * a * a.exp(), 0.4)
    planted = value_first_and_second(f, 0.4)
    assert_close(planted[:2], right[:2])        # the first derivative, as a node, is right
    assert abs(planted[2] - right[2]) > 0.1     # its derivative is not
    with pytest.raises(GradcheckError):
        gradgradcheck(f, [0.4])
    g = lambda x: (op(x) * x.exp()).sum()  # noqa: E731
    assert gradcheck(g, [np.array([0.4, -0.3])]) is True
    with pytest.raises(GradcheckError):
        gradgradcheck(g, [np.array([0.4, -0.3])])
