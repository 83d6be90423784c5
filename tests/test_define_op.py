"""`define_op`: a new elementwise op declared in one call works on floats, arrays, Values and
Tensors, is differentiable twice, shows its formula in traces, and is checked when declared.

Expected numbers come from torch float64 (``torch.nn.functional.softplus``, a*a + b*b) or by
hand (ln 2 = softplus(0)).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograd_core import (Tensor, Value, define_op, exp, grad, hessian, log, ops, sigmoid,
                           trace_backward)

TOL = 1e-9

# The example of the docs. Op names are global: this module's are its own.
SOFTPLUS = define_op("softplus_test_define_op", forward=lambda x: log(1 + exp(x)),
                     derivative=lambda x, out: sigmoid(x), formula="sigmoid({x})")
HYPOT2 = define_op("hypot2_test_define_op", forward=lambda a, b: a * a + b * b,
                   derivative=lambda a, b, out: (2 * a, 2 * b), formula=("2*{a}", "2*{b}"))
# With a parameter: softplus(beta x) / beta, torch's softplus with beta.
SOFTPLUS_BETA = define_op("softplus_beta_test_define_op",
                          forward=lambda x, beta: log(1 + exp(beta * x)) / beta,
                          derivative=lambda x, out, beta: sigmoid(beta * x),
                          formula="sigmoid({beta}*{x})", parameters={"beta": 1.0})


def finite(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def assert_close(ours, expected, tol: float = TOL) -> None:
    if isinstance(expected, torch.Tensor):
        expected = expected.detach().numpy(force=True)
    ours = ours.data if isinstance(ours, (Value, Tensor)) else ours
    ours, expected = np.asarray(ours, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    assert ours.shape == expected.shape, (ours.shape, expected.shape)
    np.testing.assert_allclose(ours, expected, rtol=tol, atol=tol)


def t64(x, requires_grad: bool = True) -> torch.Tensor:
    return torch.tensor(np.asarray(x, dtype=np.float64), dtype=torch.float64,
                        requires_grad=requires_grad)


# -- one declaration, four kinds of argument ------------------------------------------------------

def test_softplus_on_a_float():
    out = SOFTPLUS(0.0)
    assert type(out) is float
    assert out == pytest.approx(math.log(2.0), rel=1e-15)  # by hand: ln(1 + e^0)
    for x in (-3.0, 0.5, 7.0):
        assert_close(SOFTPLUS(x), F.softplus(t64(x, False)))
    assert type(SOFTPLUS(2)) is float  # an int is a number too


def test_softplus_on_arrays_keeps_the_float_dtype():
    x64 = np.array([[-2.0, 0.0], [0.5, 3.0]])
    out = SOFTPLUS(x64)
    assert type(out) is np.ndarray and out.dtype == np.float64 and out.shape == (2, 2)
    assert_close(out, F.softplus(t64(x64, False)))
    x32 = x64.astype(np.float32)
    out32 = SOFTPLUS(x32)
    assert out32.dtype == np.float32
    np.testing.assert_allclose(out32, F.softplus(torch.tensor(x32)).numpy(), rtol=1e-6)
    assert SOFTPLUS(np.array([1, 2])).dtype == np.float64  # integers become float64


def test_softplus_on_a_value_and_a_tensor():
    x = Value(0.5, "x")
    y = SOFTPLUS(x)
    assert isinstance(y, Value) and y.op == "softplus_test_define_op" and y.parents == (x,)
    assert y.rule is SOFTPLUS
    y.backward()
    assert_close([y.data, x.grad], [F.softplus(t64(0.5, False)).item(), torch.sigmoid(t64(0.5, False)).item()])
    t = Tensor([[0.5, -1.0, 2.0]], requires_grad=True)
    out = SOFTPLUS(t)
    assert isinstance(out, Tensor) and out.op == "softplus_test_define_op" and out.rule is SOFTPLUS
    out.sum().backward()
    tt = t64([[0.5, -1.0, 2.0]])
    F.softplus(tt).sum().backward()
    assert_close(out, F.softplus(tt))
    assert_close(t.grad, tt.grad)
    t32 = Tensor([0.5, -1.0], requires_grad=True, dtype=np.float32)
    out32 = SOFTPLUS(t32)
    assert out32.dtype == np.float32
    out32.sum().backward()
    assert t32.grad.dtype == np.float32


@given(x0=finite(-15.0, 15.0))
def test_softplus_first_and_second_derivatives_of_a_value_match_torch(x0):
    x = Value(x0)
    y = SOFTPLUS(x) * x  # x used twice
    d1 = grad(y, x, create_graph=True)
    assert isinstance(d1, Value)
    d2 = grad(d1, x)
    tx = t64(x0)
    ty = F.softplus(tx) * tx
    (t1,) = torch.autograd.grad(ty, tx, create_graph=True)
    (t2,) = torch.autograd.grad(t1, tx)
    assert_close([y.data, d1.data, d2], [ty.item(), t1.item(), t2.item()])
    assert_close(hessian(lambda v: SOFTPLUS(v), x0), torch.autograd.functional.hessian(F.softplus, t64(x0, False)))
    # backward(create_graph=True) then backward of the gradient
    x = Value(x0)
    SOFTPLUS(x).backward(create_graph=True)
    first = x.grad
    x.grad = 0.0
    first.backward()
    (s1,) = torch.autograd.grad(F.softplus(tx), tx, create_graph=True)
    assert_close([first.data, x.grad], [s1.item(), torch.autograd.grad(s1, tx)[0].item()])


@given(x0=hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=2, max_side=4),
                     elements=finite(-15.0, 15.0)),
       data=st.data())
def test_softplus_first_and_second_derivatives_of_a_tensor_match_torch(x0, data):
    v = data.draw(hnp.arrays(np.float64, x0.shape, elements=finite(-2.0, 2.0)), label="v")
    x = Tensor(x0, requires_grad=True)
    g = grad((SOFTPLUS(x) * x.tanh()).sum(), x, create_graph=True)
    assert isinstance(g, Tensor) and g.requires_grad
    hv = grad(g, x, grad_outputs=v)
    tx = t64(x0)
    (tg,) = torch.autograd.grad((F.softplus(tx) * tx.tanh()).sum(), tx, create_graph=True)
    (thv,) = torch.autograd.grad(tg, tx, t64(v, False))
    assert_close(g, tg)
    assert_close(hv, thv)


@given(x0=finite(-7.0, 7.0), beta=st.sampled_from([0.5, 1.0, 2.0]))
def test_a_parameter_binds_like_torchs_beta(x0, beta):
    bound = SOFTPLUS_BETA.bind(beta=beta)
    assert bound.parameters == {"beta": beta}
    assert SOFTPLUS_BETA.bind(beta=beta) is bound  # cached
    for op in (bound, lambda v: SOFTPLUS_BETA(v, beta=beta)):
        x = Value(x0)
        d1 = grad(op(x), x, create_graph=True)
        d2 = grad(d1, x)
        tx = t64(x0)
        ty = F.softplus(tx, beta=beta)
        (t1,) = torch.autograd.grad(ty, tx, create_graph=True)
        (t2,) = torch.autograd.grad(t1, tx)
        assert_close([op(x0), d1.data, d2], [ty.item(), t1.item(), t2.item()])
    assert bound.formulas(["u"]) == (f"sigmoid({beta:g}*u)",)


def test_a_parameter_has_its_default_and_unknown_ones_are_refused():
    assert_close(SOFTPLUS_BETA(0.3), F.softplus(t64(0.3, False)))
    with pytest.raises(TypeError, match="unknown parameter"):
        SOFTPLUS_BETA(0.3, gamma=2.0)


# -- the formula in traces --------------------------------------------------------------------------

def test_formula_is_filled_with_the_inputs_names():
    assert SOFTPLUS.formulas(["u"]) == ("sigmoid(u)",)
    assert SOFTPLUS.formulas(["a+b"]) == ("sigmoid((a+b))",)
    assert HYPOT2.formulas(["p", "q"]) == ("2*p", "2*q")


def test_trace_backward_shows_the_declared_formula_for_a_value():
    x = Value(0.5, "x")
    y = SOFTPLUS(x) * 2
    lines = [line for step in trace_backward(y) for line in step.lines()]
    softplus_lines = [line for line in lines if "/dx =" in line]  # the softplus node's step
    assert len(softplus_lines) == 1
    line = softplus_lines[0]
    assert "sigmoid(x)" in line, line
    # its numbers: upstream 2 times sigmoid(0.5)
    assert f"{2 * torch.sigmoid(t64(0.5, False)).item():.4g}" in line


def test_trace_backward_shows_the_declared_formula_for_a_tensor():
    t = Tensor([0.5, -1.0], requires_grad=True, label="t")
    steps = trace_backward((SOFTPLUS(t) * 2).sum())
    step = next(s for s in steps if s.node.op == "softplus_test_define_op")
    (line,) = step.lines()
    assert "sigmoid(t)" in line, line


def test_trace_backward_shows_a_binary_ops_formulas():
    a, b = Value(1.0, "a"), Value(2.0, "b")
    (step,) = trace_backward(HYPOT2(a, b))
    da, db = step.lines()
    assert "(2*a)" in da and da.endswith("= 2")
    assert "(2*b)" in db and db.endswith("= 4")


# -- a binary op with broadcasting --------------------------------------------------------------

@pytest.mark.parametrize("shape_a, shape_b", [((3, 1), (4,)), ((), (2, 3)), ((2, 3), ()), ((2, 1, 3), (4, 1))])
@given(data=st.data())
def test_binary_define_op_broadcasts_on_tensors(shape_a, shape_b, data):
    a0 = data.draw(hnp.arrays(np.float64, shape_a, elements=finite(-3.0, 3.0)), label="a")
    b0 = data.draw(hnp.arrays(np.float64, shape_b, elements=finite(-3.0, 3.0)), label="b")
    out_shape = np.broadcast_shapes(shape_a, shape_b)
    w = data.draw(hnp.arrays(np.float64, out_shape, elements=finite(-2.0, 2.0)), label="w")
    va = data.draw(hnp.arrays(np.float64, shape_a, elements=finite(-2.0, 2.0)), label="va")
    vb = data.draw(hnp.arrays(np.float64, shape_b, elements=finite(-2.0, 2.0)), label="vb")
    a, b = Tensor(a0, requires_grad=True), Tensor(b0, requires_grad=True)
    out = HYPOT2(a, b)
    assert out.shape == out_shape
    # tanh(a) makes the second derivative mix a and b
    ga, gb = grad((out * w * a.tanh()).sum(), [a, b], create_graph=True)
    assert ga.shape == shape_a and gb.shape == shape_b
    ha, hb = grad([ga, gb], [a, b], grad_outputs=[va, vb])
    ta, tb = t64(a0), t64(b0)
    tout = ta * ta + tb * tb
    tga, tgb = torch.autograd.grad((tout * t64(w, False) * ta.tanh()).sum(), [ta, tb], create_graph=True)
    tha, thb = torch.autograd.grad([tga, tgb], [ta, tb], [t64(va, False), t64(vb, False)])
    assert_close(out, tout)
    for ours, theirs in ((ga, tga), (gb, tgb), (ha, tha), (hb, thb)):
        assert_close(ours, theirs)


def test_binary_define_op_on_floats_arrays_and_values():
    assert HYPOT2(3.0, 4.0) == 25.0
    np.testing.assert_array_equal(HYPOT2(np.array([1.0, 2.0]), np.array([[3.0], [0.0]])),
                                  [[10.0, 13.0], [1.0, 4.0]])
    a, b = Value(1.5), Value(-0.5)
    # by hand: p^3 + p q^2 has the Hessian [[6p, 2q], [2q, 2p]]
    assert_close(hessian(lambda p, q: HYPOT2(p, q) * p, [1.5, -0.5]),
                 [[6 * 1.5, 2 * -0.5], [2 * -0.5, 2 * 1.5]])
    y = HYPOT2(a, b)
    y.backward()
    assert (a.grad, b.grad) == (3.0, -1.0)
    # a number operand becomes a constant
    assert HYPOT2(a, 2.0).data == 1.5 ** 2 + 4.0


# -- constant derivatives ---------------------------------------------------------------------------

def test_a_derivative_given_as_numbers():
    shift = define_op("shift_then_negate_test_define_op", forward=lambda a, b: b - a,
                      derivative=(-1.0, 1.0), formula=("-1", "1"))
    a, b = Value(2.0), Value(5.0)
    y = shift(a, b) * a  # (b - a) a: d/da = b - 2a, d/db = a; Hessian [[-2, 1], [1, 0]]
    ga, gb = grad(y, [a, b], create_graph=True)
    assert (ga.data, gb.data) == (1.0, 2.0)
    assert hessian(lambda p, q: shift(p, q) * p, [2.0, 5.0]) == [[-2.0, 1.0], [1.0, 0.0]]
    t = Tensor([1.0, 2.0], requires_grad=True)
    np.testing.assert_array_equal(grad(shift(t, 3.0).sum(), t), [-1.0, -1.0])


# -- errors when declaring and calling ------------------------------------------------------------

def test_a_duplicate_name_is_refused_with_the_name():
    with pytest.raises(ValueError, match="'softplus_test_define_op'"):
        define_op("softplus_test_define_op", forward=lambda x: x, derivative=lambda x, out: 1.0,
                  formula="1")
    with pytest.raises(ValueError, match="'tanh'"):
        define_op("tanh", forward=lambda x: x, derivative=lambda x, out: 1.0, formula="1")
    assert ops.OPS["softplus_test_define_op"] is SOFTPLUS and ops.OPS["tanh"] is ops.TANH


def test_replace_existing_redefines_an_op():
    first = define_op("replaced_test_define_op", forward=lambda x: 2 * x, derivative=2.0, formula="2")
    second = define_op("replaced_test_define_op", forward=lambda x: 3 * x, derivative=3.0,
                       formula="3", replace_existing=True)
    assert ops.OPS["replaced_test_define_op"] is second and second is not first
    assert second(2.0) == 6.0 and first(2.0) == 4.0


@pytest.mark.parametrize("forward, derivative, formula", [
    (lambda x: x, lambda x: 1.0, "1"),                               # no out
    (lambda x: x, lambda x, out, extra: 1.0, "1"),                   # one too many
    (lambda a, b: a * b, lambda a, out: (1.0, 1.0), ("1", "1")),    # binary, too few
    (lambda a, b: a * b, lambda a, b, c, out: (1.0, 1.0), ("1", "1")),
], ids=["unary-1", "unary-3", "binary-2", "binary-4"])
def test_a_derivative_of_the_wrong_arity_is_a_type_error(forward, derivative, formula):
    with pytest.raises(TypeError, match="derivative must take"):
        define_op("wrong_arity_test_define_op", forward=forward, derivative=derivative,
                  formula=formula)
    assert "wrong_arity_test_define_op" not in ops.OPS


def test_other_declaration_errors():
    with pytest.raises(TypeError, match="formula"):
        define_op("two_formulas_test_define_op", forward=lambda x: x,
                  derivative=lambda x, out: 1.0, formula=("1", "2"))
    with pytest.raises(TypeError, match="constant derivative"):
        define_op("two_constants_test_define_op", forward=lambda x: x, derivative=(1.0, 2.0),
                  formula="1")
    with pytest.raises(TypeError, match="callable"):
        define_op("not_callable_test_define_op", forward=3.0, derivative=lambda x, out: 1.0,
                  formula="1")
    with pytest.raises(TypeError, match="non-empty str"):
        define_op("", forward=lambda x: x, derivative=lambda x, out: 1.0, formula="1")
    with pytest.raises(ValueError, match=r"no Numba kernel named 'softplus'; the kernels are "
                       r"\('relu', 'tanh', 'sigmoid', 'leaky_relu', 'elu'\)"):
        define_op("unknown_kernel_test_define_op", forward=lambda x: x,
                  derivative=lambda x, out: 1.0, formula="1", kernel="softplus")
    assert "unknown_kernel_test_define_op" not in ops.OPS
    with pytest.raises(TypeError, match="takes 1 argument"):
        SOFTPLUS(1.0, 2.0)
    with pytest.raises(TypeError, match="expected a float"):
        SOFTPLUS("1.0")


# -- Tensor.from_op cannot be differentiated twice --------------------------------------------------

def square_from_op(x: Tensor) -> Tensor:
    data = x.data
    return Tensor.from_op(data ** 2, (x,), "square_from_op", lambda g: (2.0 * data * g,))


def test_from_op_refuses_create_graph_and_says_so():
    x = Tensor([1.0, -2.0], requires_grad=True)
    square_from_op(x).sum().backward()  # an ordinary backward works
    np.testing.assert_array_equal(x.grad, [2.0, -4.0])
    with pytest.raises(RuntimeError, match=r"square_from_op.*from_op.*create_graph=True"):
        grad(square_from_op(x).sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match="cannot be differentiated twice"):
        (square_from_op(x) * 3.0).sum().backward(create_graph=True)
    with pytest.raises(RuntimeError, match="define_op"):
        hessian(lambda t: square_from_op(t).sum(), np.array([1.0, 2.0]))
    # the same op declared with define_op can
    square = define_op("square_test_define_op", forward=lambda x: x * x,
                       derivative=lambda x, out: 2.0 * x, formula="2*{x}")
    np.testing.assert_array_equal(hessian(lambda t: square(t).sum(), np.array([1.0, 2.0])),
                                  [[2.0, 0.0], [0.0, 2.0]])


NUMBERS = st.one_of(finite(-1e6, 1e6), st.sampled_from([0.0, -0.0, 1.0, -1.0, 1e-300, 1e300]),
                    st.integers(-1000, 1000))


@given(NUMBERS, NUMBERS)
def test_value_add_and_mul_store_what_their_declarations_compute(a, b):
    """Value's + and * build their nodes inline (a hot path): what they store must be the
    declared forward and derivative of ops.ADD and ops.MUL, for a Value or a number operand."""
    for op, combine in ((ops.ADD, lambda x, y: x + y), (ops.MUL, lambda x, y: x * y)):
        expected_out = op.scalar(float(a), float(b))
        expected_locals = op.constant_derivative or op.derivative(float(a), float(b), expected_out)
        for right in (Value(b), b):
            out = combine(Value(a), right)
            assert out.rule is op and out.op == op.name
            assert out.data == expected_out or (math.isnan(out.data) and math.isnan(expected_out))
            assert out.local_grads == tuple(expected_locals)
            assert [p.data for p in out.parents] == [float(a), float(b)]
            assert out.parents[1].is_constant == (not isinstance(right, Value))
