"""Every scalar `Value` operation against two independent oracles: PyTorch float64 and central
finite differences. Kink conventions (relu, leaky_relu, elu, abs, maximum at a tie, powers at
0) are checked against PyTorch and against the derivative written out by hand."""

from __future__ import annotations

import math
from typing import Callable

import pytest
import torch
import torch.nn.functional as TF
from hypothesis import assume, example, given
from hypothesis import strategies as st

from autograd_core import Value, as_value, maximum, softmax, sum_values

TORCH_TOL = 1e-10


def finite(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def close(actual: float, expected: float, tol: float = TORCH_TOL) -> bool:
    """Equal within `tol`, relative or absolute (infinities must match exactly)."""
    return math.isclose(actual, expected, rel_tol=tol, abs_tol=tol)


def torch_value_and_grads(fn: Callable[..., torch.Tensor], *xs: float) -> tuple[float, list[float]]:
    """fn(*xs) and d fn / d x_i, computed by PyTorch in float64."""
    leaves = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    out = fn(*leaves)
    out.backward()
    return out.item(), [0.0 if t.grad is None else t.grad.item() for t in leaves]


def our_value_and_grads(fn: Callable[..., Value], *xs: float) -> tuple[float, list[float]]:
    """fn(*xs) and d fn / d x_i, computed by our engine."""
    leaves = [Value(x) for x in xs]
    out = fn(*leaves)
    out.backward()
    return out.data, [leaf.grad for leaf in leaves]


def central_differences(fn: Callable[..., Value], xs: list[float], h: float = 1e-6) -> list[float]:
    """(f(x + h e_i) - f(x - h e_i)) / 2h for every input, evaluating f on forward values only."""
    grads = []
    for i in range(len(xs)):
        up = [Value(x + (h if j == i else 0.0)) for j, x in enumerate(xs)]
        down = [Value(x - (h if j == i else 0.0)) for j, x in enumerate(xs)]
        grads.append((fn(*up).data - fn(*down).data) / (2 * h))
    return grads


def assert_matches_torch(ours: Callable[..., Value], theirs: Callable[..., torch.Tensor], *xs: float) -> None:
    value, grads = our_value_and_grads(ours, *xs)
    t_value, t_grads = torch_value_and_grads(theirs, *xs)
    assert close(value, t_value), f"value at {xs}: ours {value!r}, torch {t_value!r}"
    for i, (g, tg) in enumerate(zip(grads, t_grads)):
        assert close(g, tg), f"d/dx{i} at {xs}: ours {g!r}, torch {tg!r}"


def assert_matches_finite_differences(fn: Callable[..., Value], *xs: float) -> None:
    _, grads = our_value_and_grads(fn, *xs)
    numeric = central_differences(fn, list(xs))
    for i, (g, n) in enumerate(zip(grads, numeric)):
        # Central differences are accurate to about h^2 * f''' plus rounding of f / h.
        assert math.isclose(g, n, rel_tol=1e-5, abs_tol=1e-5), f"d/dx{i} at {xs}: ours {g!r}, fd {n!r}"


# -- unary operations ---------------------------------------------------------------------
# (name, ours, torch, domain for the torch comparison, domain for finite differences).
# Finite differences straddling a kink or near a pole measure nothing useful, so their domain
# keeps a distance from those points; the torch domain includes them.

AWAY_FROM_ZERO = finite(-10, 10).filter(lambda x: abs(x) >= 1e-3)

UNARY_OPS = [
    ("neg", lambda a: -a, lambda t: -t, finite(-50, 50), finite(-50, 50)),
    ("exp", lambda a: a.exp(), torch.exp, finite(-30, 30), finite(-20, 20)),
    ("log", lambda a: a.log(), torch.log, finite(1e-3, 1e3), finite(0.1, 100)),
    ("tanh", lambda a: a.tanh(), torch.tanh, finite(-25, 25), finite(-20, 20)),
    ("sigmoid", lambda a: a.sigmoid(), torch.sigmoid, finite(-1000, 1000), finite(-40, 40)),
    ("relu", lambda a: a.relu(), torch.relu, finite(-10, 10), AWAY_FROM_ZERO),
    ("leaky_relu", lambda a: a.leaky_relu(), lambda t: TF.leaky_relu(t, 0.01),
     finite(-10, 10), AWAY_FROM_ZERO),
    ("leaky_relu_0.1", lambda a: a.leaky_relu(negative_slope=0.1),
     lambda t: TF.leaky_relu(t, 0.1), finite(-10, 10), AWAY_FROM_ZERO),
    ("elu", lambda a: a.elu(), TF.elu, finite(-20, 20), AWAY_FROM_ZERO),
    ("elu_alpha_0.5", lambda a: a.elu(alpha=0.5), lambda t: TF.elu(t, alpha=0.5),
     finite(-20, 20), AWAY_FROM_ZERO),
    ("abs", lambda a: a.abs(), torch.abs, finite(-10, 10), AWAY_FROM_ZERO),
    ("builtin_abs", lambda a: abs(a), torch.abs, finite(-10, 10), AWAY_FROM_ZERO),
    ("pow_int", lambda a: a ** 3, lambda t: t ** 3, finite(-10, 10), finite(-10, 10)),
    ("pow_neg_int", lambda a: a ** -2, lambda t: t ** -2, finite(0.1, 10), finite(0.1, 10)),
    ("pow_fraction", lambda a: a ** 2.5, lambda t: t ** 2.5, finite(0.0, 10), finite(1e-3, 10)),
    ("pow_zero", lambda a: a ** 0, lambda t: t ** 0, finite(-10, 10), finite(-10, 10)),
    ("sqrt", lambda a: a ** 0.5, torch.sqrt, finite(0.0, 100), finite(0.01, 100)),
]


@pytest.mark.parametrize("name, ours, theirs, torch_domain, fd_domain", UNARY_OPS,
                         ids=[op[0] for op in UNARY_OPS])
@given(data=st.data())
def test_unary_op_matches_torch_and_finite_differences(name, ours, theirs, torch_domain, fd_domain, data):
    assert_matches_torch(ours, theirs, data.draw(torch_domain, label="x for torch"))
    assert_matches_finite_differences(ours, data.draw(fd_domain, label="x for finite differences"))


# -- a Value with a Python number on either side ---------------------------------------------

NUMBER_OPS = [
    ("value+number", lambda a, c: a + c),
    ("number+value", lambda a, c: c + a),
    ("value-number", lambda a, c: a - c),
    ("number-value", lambda a, c: c - a),
    ("value*number", lambda a, c: a * c),
    ("number*value", lambda a, c: c * a),
    ("value/number", lambda a, c: a / c),
    ("number/value", lambda a, c: c / a),
    ("value**number", lambda a, c: a ** c),
    ("number**value", lambda a, c: c ** a),
]


@pytest.mark.parametrize("name, op", NUMBER_OPS, ids=[op[0] for op in NUMBER_OPS])
@given(x=finite(0.1, 5), c=finite(0.1, 5), as_int=st.booleans())
def test_operator_with_python_number(name, op, x, c, as_int):
    number = max(1, round(c)) if as_int else c  # ints and floats are both accepted
    assert_matches_torch(lambda a: op(a, number), lambda t: op(t, number), x)
    assert_matches_finite_differences(lambda a: op(a, number), x)


def test_number_operands_become_constant_leaves():
    a = Value(3.0)
    out = 2 * a + 1
    out.backward()
    constants = [p for p in out.parents if p is not a and not p.parents]
    assert [c.data for c in constants] == [1.0]
    assert a.grad == 2.0  # hand: d(2a + 1)/da = 2


# -- binary operations between Values ---------------------------------------------------------

BINARY_OPS = [
    # (name, ours, torch, domain of a, domain of b, keep (a, b) for finite differences)
    ("add", lambda a, b: a + b, lambda a, b: a + b, finite(-50, 50), finite(-50, 50), None),
    ("sub", lambda a, b: a - b, lambda a, b: a - b, finite(-50, 50), finite(-50, 50), None),
    ("mul", lambda a, b: a * b, lambda a, b: a * b, finite(-50, 50), finite(-50, 50), None),
    ("div", lambda a, b: a / b, lambda a, b: a / b, finite(-50, 50), finite(0.1, 50), None),
    ("div_negative", lambda a, b: a / b, lambda a, b: a / b, finite(-50, 50), finite(-50, -0.1), None),
    ("pow_value", lambda a, b: a ** b, lambda a, b: a ** b, finite(0.05, 5), finite(-3, 3),
     lambda a, b: a >= 0.1),
    ("maximum", maximum, torch.maximum, finite(-10, 10), finite(-10, 10),
     lambda a, b: abs(a - b) > 1e-3),  # the tie is a kink
]


@pytest.mark.parametrize("name, ours, theirs, left, right, fd_ok", BINARY_OPS,
                         ids=[op[0] for op in BINARY_OPS])
@given(data=st.data())
def test_binary_op_matches_torch_and_finite_differences(name, ours, theirs, left, right, fd_ok, data):
    a, b = data.draw(left, label="a"), data.draw(right, label="b")
    assert_matches_torch(ours, theirs, a, b)
    if fd_ok is not None:
        a, b = data.draw(st.tuples(left, right).filter(lambda ab: fd_ok(*ab)), label="(a, b) for fd")
    assert_matches_finite_differences(ours, a, b)


@given(a=finite(-10, 10), b=finite(-10, 10))
def test_maximum_hand_rule(a, b):
    """d max(a, b)/da = 1 if a > b, 0 if a < b, 1/2 at a tie (torch.maximum's rule)."""
    out = maximum(Value(a), Value(b))
    assert out.data == max(a, b)
    expected = (1.0, 0.0) if a > b else (0.0, 1.0) if b > a else (0.5, 0.5)
    out.backward()
    assert (out.parents[0].grad, out.parents[1].grad) == expected


@pytest.mark.parametrize("x", [-3.0, 0.0, 2.5])
def test_maximum_tie_splits_gradient_like_torch(x):
    assert_matches_torch(maximum, torch.maximum, x, x)
    a = Value(x)
    maximum(a, x).backward()  # a number on the other side is a constant
    assert a.grad == 0.5


def test_maximum_accepts_numbers_on_either_side():
    a = Value(2.0)
    out = maximum(5, a) + maximum(a, 1.0)
    out.backward()
    assert out.data == 7.0  # hand: max(5, 2) + max(2, 1) = 5 + 2
    assert a.grad == 1.0  # hand: 0 from the first, 1 from the second


# -- kinks and limits, stated by hand and checked against torch ----------------------------------

KINK_CASES = [
    # (name, ours, torch, x, hand value, hand derivative)
    ("relu at 0", lambda a: a.relu(), torch.relu, 0.0, 0.0, 0.0),
    ("leaky_relu at 0", lambda a: a.leaky_relu(), lambda t: TF.leaky_relu(t, 0.01), 0.0, 0.0, 0.01),
    ("leaky_relu 0.2 at 0", lambda a: a.leaky_relu(0.2), lambda t: TF.leaky_relu(t, 0.2), 0.0, 0.0, 0.2),
    ("elu at 0", lambda a: a.elu(), TF.elu, 0.0, 0.0, 1.0),
    ("elu 0.3 at 0", lambda a: a.elu(0.3), lambda t: TF.elu(t, 0.3), 0.0, 0.0, 0.3),
    ("abs at 0", lambda a: a.abs(), torch.abs, 0.0, 0.0, 0.0),
    ("abs at -0.0", lambda a: a.abs(), torch.abs, -0.0, 0.0, 0.0),
    ("sigmoid at 1000", lambda a: a.sigmoid(), torch.sigmoid, 1000.0, 1.0, 0.0),
    ("sigmoid at -1000", lambda a: a.sigmoid(), torch.sigmoid, -1000.0, 0.0, 0.0),
    ("tanh at 400", lambda a: a.tanh(), torch.tanh, 400.0, 1.0, 0.0),
    ("0 ** 2", lambda a: a ** 2, lambda t: t ** 2, 0.0, 0.0, 0.0),
    ("0 ** 1", lambda a: a ** 1, lambda t: t ** 1, 0.0, 0.0, 1.0),
    ("0 ** 0", lambda a: a ** 0, lambda t: t ** 0, 0.0, 1.0, 0.0),
    ("0 ** 0.5 (slope of a root at 0)", lambda a: a ** 0.5, lambda t: t ** 0.5, 0.0, 0.0, math.inf),
    ("(-2) ** 3", lambda a: a ** 3, lambda t: t ** 3, -2.0, -8.0, 12.0),
    ("(-2) ** -1", lambda a: a ** -1, lambda t: t ** -1, -2.0, -0.5, -0.25),
]


@pytest.mark.parametrize("name, ours, theirs, x, value, derivative", KINK_CASES,
                         ids=[case[0] for case in KINK_CASES])
def test_kink_conventions(name, ours, theirs, x, value, derivative):
    our_value, (our_grad,) = our_value_and_grads(ours, x)
    assert our_value == value and our_grad == derivative
    assert_matches_torch(ours, theirs, x)


NAN_CASES = [
    # (name, ours, torch): PyTorch's comparisons decide which branch a NaN takes.
    ("relu", lambda a: a.relu(), torch.relu),  # nan <= 0 is false: out nan, slope 1
    ("leaky_relu", lambda a: a.leaky_relu(0.2), lambda t: TF.leaky_relu(t, 0.2)),  # slope 0.2
    ("elu", lambda a: a.elu(0.3), lambda t: TF.elu(t, 0.3)),  # nan <= 0 is false: slope 1
    ("abs", lambda a: a.abs(), torch.abs),  # sign(nan) taken as 0
    ("builtin abs", abs, torch.abs),
]


@pytest.mark.parametrize("name, ours, theirs", NAN_CASES, ids=[case[0] for case in NAN_CASES])
def test_piecewise_ops_at_nan_follow_torch(name, ours, theirs):
    value, (grad,) = our_value_and_grads(ours, math.nan)
    t_value, (t_grad,) = torch_value_and_grads(theirs, math.nan)
    assert math.isnan(value) and math.isnan(t_value)
    assert grad == t_grad, f"{name} slope at nan: ours {grad!r}, torch {t_grad!r}"
    # The slopes written out by hand, so that a change in PyTorch would show up here too.
    assert grad == {"relu": 1.0, "leaky_relu": 0.2, "elu": 1.0}.get(name, 0.0)


@pytest.mark.parametrize("base, exponent, value, d_base, d_exponent", [
    (0.0, 2.0, 0.0, 0.0, 0.0),        # b a^(b-1) = 0; a^b ln a -> 0 as a -> 0+
    (0.0, 1.0, 0.0, 1.0, 0.0),
    (0.0, 0.0, 1.0, 0.0, 0.0),        # PyTorch's 0 ** 0 = 1 with zero gradients
    (0.0, 0.5, 0.0, math.inf, 0.0),   # the slope of sqrt at 0
    (2.0, 3.0, 8.0, 12.0, 8.0 * math.log(2.0)),
])
def test_power_with_value_exponent_at_edges(base, exponent, value, d_base, d_exponent):
    out, grads = our_value_and_grads(lambda a, b: a ** b, base, exponent)
    assert out == value
    assert close(grads[0], d_base) and close(grads[1], d_exponent)
    assert_matches_torch(lambda a, b: a ** b, lambda a, b: a ** b, base, exponent)


def test_sigmoid_is_stable_for_large_inputs():
    for x in (-1000.0, -745.5, 745.5, 1000.0, -1e308, 1e308):
        out = Value(x).sigmoid()
        assert 0.0 <= out.data <= 1.0 and math.isfinite(out.local_grads[0])
    # hand: sigmoid(-30) = e^-30 / (1 + e^-30); sigmoid(30) = 1 / (1 + e^-30)
    assert close(Value(-30.0).sigmoid().data, math.exp(-30) / (1 + math.exp(-30)), 1e-14)
    assert close(Value(30.0).sigmoid().data, 1 / (1 + math.exp(-30)), 1e-14)


# -- softmax -------------------------------------------------------------------------------------


@given(xs=st.lists(finite(-50, 50), min_size=1, max_size=6), data=st.data())
def test_softmax_matches_torch(xs, data):
    weights = data.draw(st.lists(finite(-3, 3), min_size=len(xs), max_size=len(xs)), label="weights")

    def ours(*values: Value) -> Value:
        return sum_values(w * s for w, s in zip(weights, softmax(values)))

    def theirs(*values: torch.Tensor) -> torch.Tensor:
        probabilities = torch.softmax(torch.stack(values), dim=0)
        return (torch.tensor(weights, dtype=torch.float64) * probabilities).sum()

    probabilities = softmax([Value(x) for x in xs])
    assert isinstance(probabilities, list) and len(probabilities) == len(xs)
    expected = torch.softmax(torch.tensor(xs, dtype=torch.float64), dim=0).tolist()
    assert all(close(p.data, e) for p, e in zip(probabilities, expected))
    assert close(sum(p.data for p in probabilities), 1.0, 1e-12)
    assert_matches_torch(ours, theirs, *xs)
    assert_matches_finite_differences(ours, *[x / 10 for x in xs])


def test_softmax_is_stable_for_large_inputs():
    p = softmax([1000, 1001])
    e = math.e  # hand: softmax([0, 1]) = [1, e] / (1 + e)
    assert close(p[0].data, 1 / (1 + e), 1e-14) and close(p[1].data, e / (1 + e), 1e-14)
    assert_matches_torch(lambda a, b: softmax([a, b])[1] * 3.0 + softmax([a, b])[0],
                         lambda a, b: torch.softmax(torch.stack([a, b]), 0) @ torch.tensor([1.0, 3.0],
                                                                                        dtype=torch.float64),
                         1000.0, 1001.0)


def test_softmax_accepts_numbers_and_seed_example():
    # seed section 4: softmax([1, 2, 1.5, 0.6]) = [0.166, 0.450, 0.273, 0.111], denominator 16.41
    xs = [1, 2, 1.5, 0.6]
    denominator = sum(math.exp(x) for x in xs)
    assert abs(denominator - 16.41) < 0.01
    p = [v.data for v in softmax(xs)]
    assert [round(q, 3) for q in p] == [0.166, 0.450, 0.273, 0.111]
    assert all(close(q, math.exp(x) / denominator, 1e-14) for q, x in zip(p, xs))


def test_softmax_of_one_value_has_zero_gradient():
    a = Value(4.0)
    (p,) = softmax([a])
    p.backward()
    assert p.data == 1.0 and a.grad == 0.0  # hand: e^a / e^a = 1 does not depend on a


# -- nodes used more than once get the sum of both paths ----------------------------------------------

REUSE_CASES = [
    ("a*a", lambda a, b: a * a, lambda a, b: a * a),
    ("a+a", lambda a, b: a + a, lambda a, b: a + a),
    ("a-a", lambda a, b: a - a, lambda a, b: a - a),
    ("a/a", lambda a, b: a / a, lambda a, b: a / a),
    ("a**a", lambda a, b: a ** a, lambda a, b: a ** a),
    ("maximum(a,a)", lambda a, b: maximum(a, a), lambda a, b: torch.maximum(a, a)),
    ("two branches", lambda a, b: (a * b).tanh() + a.exp() / b,
     lambda a, b: torch.tanh(a * b) + torch.exp(a) / b),
    ("shared intermediate", lambda a, b: (lambda c: c * c + c.sigmoid() * a)(a * b + 1),
     lambda a, b: (lambda c: c * c + torch.sigmoid(c) * a)(a * b + 1)),
]


@pytest.mark.parametrize("name, ours, theirs", REUSE_CASES, ids=[case[0] for case in REUSE_CASES])
@given(a=finite(0.2, 3), b=finite(0.2, 3))
def test_reused_nodes_sum_both_paths(name, ours, theirs, a, b):
    assert_matches_torch(ours, theirs, a, b)
    assert_matches_finite_differences(ours, a, b)


def test_reuse_by_hand():
    a = Value(3.0)
    (a * a).backward()
    assert a.grad == 6.0  # hand: d(a^2)/da = 2a
    a = Value(3.0)
    (a + a).backward()
    assert a.grad == 2.0
    a = Value(3.0)
    (a - a).backward()
    assert a.grad == 0.0


# -- composite expressions -------------------------------------------------------------------------


@given(w1=finite(-3, 3), x1=finite(-3, 3), w2=finite(-3, 3), x2=finite(-3, 3), b=finite(-3, 3))
def test_neuron_matches_torch(w1, x1, w2, x2, b):
    def neuron(w1, x1, w2, x2, b):
        return (w1 * x1 + w2 * x2 + b).tanh()

    assert_matches_torch(neuron, lambda *t: torch.tanh(t[0] * t[1] + t[2] * t[3] + t[4]), w1, x1, w2, x2, b)
    assert_matches_finite_differences(neuron, w1, x1, w2, x2, b)


def test_neuron_by_hand():
    # o = tanh(n), n = w1 x1 + w2 x2 + b; do/dw1 = (1 - o^2) x1 and so on.
    w1, x1, w2, x2, b = Value(-3.0), Value(2.0), Value(1.0), Value(0.0), Value(6.8813735870195432)
    o = (w1 * x1 + w2 * x2 + b).tanh()
    o.backward()
    n = -3.0 * 2.0 + 0.0 + 6.8813735870195432
    t = math.tanh(n)
    assert close(o.data, t, 1e-14)
    assert close(w1.grad, (1 - t * t) * 2.0, 1e-14) and close(x1.grad, (1 - t * t) * -3.0, 1e-14)
    assert w2.grad == 0.0 and close(x2.grad, (1 - t * t) * 1.0, 1e-14) and close(b.grad, 1 - t * t, 1e-14)


@given(logits=st.lists(finite(-20, 20), min_size=2, max_size=5), data=st.data())
def test_softmax_cross_entropy_matches_torch(logits, data):
    target = data.draw(st.integers(0, len(logits) - 1), label="target")

    def loss(*z: Value) -> Value:
        return -softmax(z)[target].log()

    def torch_loss(*z: torch.Tensor) -> torch.Tensor:
        return TF.cross_entropy(torch.stack(z)[None], torch.tensor([target]))

    probabilities = torch.softmax(torch.tensor(logits, dtype=torch.float64), 0)
    assume(probabilities[target] > 1e-200)  # our log(softmax) has no log-sum-exp shortcut
    assert_matches_torch(loss, torch_loss, *logits)
    assert_matches_finite_differences(loss, *[z / 4 for z in logits])


@given(x=st.floats(-1e-8, 0.0, allow_nan=False))
def test_elu_keeps_every_digit_of_tiny_negative_inputs(x):
    # elu(x) = alpha * (e^x - 1) ~ x near 0: computed as e^x - 1 it would round to 0.
    assert_matches_torch(lambda a: a.elu(), TF.elu, x)
    assert_matches_torch(lambda a: a.elu().abs() ** 1.5, lambda t: TF.elu(t).abs() ** 1.5, x)
    assert math.isclose(Value(x).elu().data, math.expm1(x), rel_tol=1e-15, abs_tol=0.0)


@given(a=finite(0.5, 2), b=finite(-2, 2), c=finite(-2, 2))
@example(a=1.0, b=0.0, c=-2.923336375129693e-17)  # once failed: elu(c) rounded to 0
def test_long_mixed_expression_matches_torch(a, b, c):
    def ours(a, b, c):
        d = (a * b + c).sigmoid() * (a ** 2 - b / a).tanh()
        e = maximum(d, c.relu()) + (b.leaky_relu(0.1) - c.elu()).abs() ** 1.5
        return (e + a.log() * (-b)).exp() / (1 + a ** c)

    def theirs(a, b, c):
        d = torch.sigmoid(a * b + c) * torch.tanh(a ** 2 - b / a)
        e = torch.maximum(d, torch.relu(c)) + torch.abs(TF.leaky_relu(b, 0.1) - TF.elu(c)) ** 1.5
        return torch.exp(e + torch.log(a) * (-b)) / (1 + a ** c)

    assert_matches_torch(ours, theirs, a, b, c)


# -- construction and helpers -----------------------------------------------------------------------


@given(x=st.one_of(st.integers(-10 ** 6, 10 ** 6), finite(-1e300, 1e300)))
def test_value_stores_ints_and_floats_as_float(x):
    v = Value(x, label="x")
    assert isinstance(v.data, float) and v.data == float(x)
    assert v.grad == 0.0 and v.label == "x" and v.parents == () and v.op == ""


def test_as_value_wraps_numbers_and_passes_values_through():
    v = Value(1.5)
    assert as_value(v) is v
    w = as_value(2)
    assert isinstance(w, Value) and w.data == 2.0 and not w.parents


@given(xs=st.lists(finite(-100, 100), min_size=1, max_size=8))
def test_sum_values_matches_torch(xs):
    assert_matches_torch(lambda *v: sum_values(v), lambda *t: torch.stack(t).sum(), *xs)
    leaves = [Value(x) for x in xs]
    total = sum_values(leaves)
    assert sum(1 for node in _walk(total) if not node.parents) == len(xs)  # no extra constant-zero leaf


def _walk(root: Value):
    seen, stack = set(), [root]
    while stack:
        node = stack.pop()
        if id(node) not in seen:
            seen.add(id(node))
            yield node
            stack.extend(node.parents)


def test_backward_with_a_custom_seed():
    a = Value(2.0)
    out = a * a * a
    out.backward(0.5)
    assert out.grad == 0.5 and a.grad == 0.5 * 3 * 4.0  # hand: seed * 3a^2


def test_numbers_in_expressions_become_constant_leaves():
    y = Value(1.5, "y")
    out = 2 * y - 3
    constants = [node for node in _walk(out) if node.is_constant]
    assert sorted(node.data for node in constants) == [2.0, 3.0]
    assert all(isinstance(node, Value) and not node.parents and not node.label for node in constants)
    assert not y.is_constant and not out.is_constant and not as_value(y).is_constant
    out.backward()
    assert y.grad == 2.0  # hand: d(2y - 3)/dy = 2


# -- at the edges: masks that select, NaN, tiny divisors (issue 11), each case vs PyTorch --------

INF, NAN = math.inf, math.nan

# (name, ours, torch's, inputs, upstream dL/dout). What torch does, and so what we do:
# relu, maximum, clip, where and x ** 0 *select* (where(mask, grad, 0)): a blocked gradient is 0
# even when it is inf or NaN; abs (grad * sgn x), leaky_relu and elu *multiply*: 0 * inf = NaN.
EDGE_CASES = [
    ("relu ** 0.5 below 0", lambda x: x.relu() ** 0.5, lambda x: x.relu() ** 0.5, [-2.0], 1.0),
    ("relu at 0, inf upstream", lambda x: x.relu(), torch.relu, [0.0], INF),
    ("relu below 0, nan upstream", lambda x: x.relu(), torch.relu, [-1.5], NAN),
    ("relu at nan", lambda x: x.relu(), torch.relu, [NAN], 1.0),
    ("maximum(nan, 1)", maximum, torch.maximum, [NAN, 1.0], 1.0),
    ("maximum(1, nan)", maximum, torch.maximum, [1.0, NAN], 1.0),
    ("maximum(nan, nan)", maximum, torch.maximum, [NAN, NAN], 1.0),
    ("maximum(1, 2), inf upstream", maximum, torch.maximum, [1.0, 2.0], INF),
    ("maximum(2, 1), nan upstream", maximum, torch.maximum, [2.0, 1.0], NAN),
    ("maximum tie, inf upstream", maximum, torch.maximum, [1.0, 1.0], INF),
    ("abs at nan", lambda x: x.abs(), torch.abs, [NAN], 1.0),
    ("abs at 0, inf upstream", lambda x: x.abs(), torch.abs, [0.0], INF),
    ("leaky_relu below 0, inf upstream", lambda x: x.leaky_relu(0.1),
     lambda x: TF.leaky_relu(x, 0.1), [-2.0], INF),
    ("elu far below 0, inf upstream", lambda x: x.elu(), TF.elu, [-800.0], INF),
    ("x ** 0, inf upstream", lambda x: x ** 0, lambda x: x ** 0, [2.0], INF),
    ("a ** b at b = 0, inf upstream", lambda a, b: a ** b, lambda a, b: a ** b, [2.0, 0.0], INF),
    ("1e-170 / 1e-170", lambda a, b: a / b, lambda a, b: a / b, [1e-170, 1e-170], 1.0),
    ("0 / 1e-200", lambda a, b: a / b, lambda a, b: a / b, [0.0, 1e-200], 1.0),
    # torch turns number / tensor into number * reciprocal(b), whose rule -number/b^2 underflows
    # to -inf here; its tensor / tensor rule, which ours follows for both forms, gives -1e170.
    ("1e-170 / x at 1e-170", lambda b: 1e-170 / b,
     lambda b: torch.tensor(1e-170, dtype=torch.float64) / b, [1e-170], 1.0),
    ("1e-300 / 1e-160", lambda a, b: a / b, lambda a, b: a / b, [1e-300, 1e-160], 1.0),
    # subnormal divisors: torch divides the upstream gradient (grad / b, grad / x for log),
    # where a product with 1/b (inf) would give inf
    ("x log x at 1e-310", lambda x: x * x.log(), lambda x: x * x.log(), [1e-310], 1.0),
    ("x ** 0.5 at -0.0", lambda x: x ** 0.5, lambda x: x ** 0.5, [-0.0], 1.0),  # rsqrt(-0) = -inf
    ("x ** y at -0.0 and 0.5", lambda a, b: a ** b, lambda a, b: a ** b, [-0.0, 0.5], 1.0),  # pow
    ("a / subnormal b, small upstream", lambda a, b: a / b, lambda a, b: a / b, [1.0, 1e-310], 1e-20),
]


def same_number(actual: float, expected: float) -> bool:
    """Equal, NaN where the other is NaN (the sign of a zero is not compared)."""
    if math.isnan(expected):
        return math.isnan(actual)
    return actual == expected or math.isclose(actual, expected, rel_tol=1e-14)


def test_log_of_relu_below_zero_is_refused_by_design():
    # log(0) raises for a Value (a domain error names the node); the Tensor version is -inf with
    # gradient 0, as torch (tests/test_tensor_functions.py).
    with pytest.raises(ValueError, match="log of a non-positive number 0"):
        Value(-2.0).relu().log()


@pytest.mark.parametrize("name, ours, theirs, inputs, upstream", EDGE_CASES,
                         ids=[case[0] for case in EDGE_CASES])
def test_value_edge_cases_follow_torch(name, ours, theirs, inputs, upstream):
    leaves = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in inputs]
    expected = theirs(*leaves)
    expected.backward(torch.tensor(upstream, dtype=torch.float64))
    values = [Value(x) for x in inputs]
    out = ours(*values)
    out.backward(upstream)
    assert same_number(out.data, expected.item()), (out.data, expected.item())
    for ours_grad, leaf in zip((v.grad for v in values), leaves):
        assert same_number(ours_grad, leaf.grad.item()), (name, ours_grad, leaf.grad.item())


def test_elu_second_derivative_at_zero_is_torchs():
    # elu's slope is alpha e^x for x <= 0, so at 0 it is alpha; PyTorch's double backward masks
    # with x < 0, so the second derivative at 0 is 0 (the right-hand one), for Value and Tensor
    from autograd_core import Tensor, grad
    for x0 in (0.0, -0.5, 0.5):
        tx = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
        (tg,) = torch.autograd.grad(TF.elu(tx, 0.7), tx, create_graph=True)
        (th,) = torch.autograd.grad(tg, tx)
        x = Value(x0)
        g = grad(x.elu(0.7), x, create_graph=True)
        h = grad(g, x, allow_unused=True) if isinstance(g, Value) else None
        assert close(g.data if isinstance(g, Value) else g, tg.item())
        assert close(0.0 if h is None else h, th.item()), (x0, h, th.item())
        t = Tensor([x0], requires_grad=True)
        tg_ours = grad(t.elu(0.7).sum(), t, create_graph=True)
        th_ours = grad(tg_ours.sum(), t, allow_unused=True)
        assert close(float(0.0 if th_ours is None else th_ours[0]), th.item()), (x0, th_ours)
