"""`gradcheck`: passes correct gradients, and reports every input whose gradient is wrong."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd_core import GradcheckError, Value, gradcheck, maximum, softmax, sum_values


def finite(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


CORRECT_FUNCTIONS = [
    ("neuron", lambda w1, x1, w2, x2, b: (w1 * x1 + w2 * x2 + b).tanh(), 5),
    ("rational", lambda a, b: (a * a + 1) / (b * b + 1) - a / 3, 2),
    ("exp-log", lambda a, b: (a.exp() + b.exp()).log(), 2),
    ("sigmoid product", lambda a, b, c: a.sigmoid() * b.sigmoid() * c, 3),
    ("power", lambda a, b: (a * a + 0.5) ** b, 2),
    ("softmax", lambda a, b, c: softmax([a, b, c])[1] * 2 + softmax([a, b, c])[2], 3),
    ("sum", lambda *xs: sum_values(x * x for x in xs), 4),
]


@pytest.mark.parametrize("name, f, arity", CORRECT_FUNCTIONS, ids=[case[0] for case in CORRECT_FUNCTIONS])
@given(data=st.data())
def test_correct_functions_pass(name, f, arity, data):
    inputs = data.draw(st.lists(finite(-2, 2), min_size=arity, max_size=arity), label="inputs")
    assert gradcheck(f, inputs) is True


def test_accepts_values_and_numbers_and_leaves_callers_values_alone():
    a = Value(0.7, "a")
    assert gradcheck(lambda x, y: x * y.exp(), [a, 2]) is True
    assert a.grad == 0.0  # f ran on fresh copies


def test_an_unused_input_has_zero_gradient_and_passes():
    assert gradcheck(lambda x, y: x * 3, [1.0, 5.0]) is True


def lying_exp(x: Value) -> Value:
    """e^x whose stored local derivative claims 0 (the truth is e^x)."""
    out = x.exp()
    out.local_grads = (0.0,)
    return out


def lying_tanh(x: Value) -> Value:
    """tanh x whose stored local derivative claims 2 (the truth is 1 - tanh^2 x)."""
    out = x.tanh()
    out.local_grads = (2.0,)
    return out


def partly_wrong(x: Value, y: Value, z: Value) -> Value:
    """Gradients: x wrong (0 instead of e^x), y right (2y), z wrong (2 instead of sech^2 z)."""
    return lying_exp(x) + y * y + lying_tanh(z)


def test_wrong_gradients_raise_and_list_each_mismatching_input():
    x, y, z = 0.3, -1.1, 0.8
    with pytest.raises(GradcheckError) as info:
        gradcheck(partly_wrong, [Value(x, "x"), y, Value(z, "z")])
    message = str(info.value)
    assert "2 input(s)" in message
    assert re.search(r"input 0 'x'.*backward gives 0\b", message)
    assert re.search(r"input 2 'z'.*backward gives 2\b", message)
    assert "input 1" not in message
    # the finite-difference numbers are the true derivatives (hand: e^x and 1 - tanh^2 z)
    numbers = {int(i): float(v) for i, v in re.findall(r"input (\d).*finite differences give (\S+)", message)}
    assert math.isclose(numbers[0], math.exp(x), rel_tol=1e-6)
    assert math.isclose(numbers[2], 1 - math.tanh(z) ** 2, rel_tol=1e-6)


def test_gradcheck_error_is_an_assertion_error():
    assert issubclass(GradcheckError, AssertionError)
    with pytest.raises(AssertionError):
        gradcheck(lying_exp, [1.0])


def test_tolerances_decide_a_small_error():
    def slightly_wrong_square(x: Value) -> Value:
        out = x * x
        out.local_grads = (x.data * 1.001, x.data)  # total 2.001 x instead of 2x
        return out

    assert gradcheck(slightly_wrong_square, [1.0], atol=0.0, rtol=1e-2) is True
    assert gradcheck(slightly_wrong_square, [1.0], atol=1e-2, rtol=0.0) is True
    with pytest.raises(GradcheckError, match="input 0"):
        gradcheck(slightly_wrong_square, [1.0], atol=0.0, rtol=1e-4)


def test_a_kink_is_seen_by_finite_differences():
    # relu at 0: backward says 0, the central difference (h - 0) / 2h says 1/2
    with pytest.raises(GradcheckError, match="input 0"):
        gradcheck(lambda x: x.relu(), [0.0])
    # maximum at a tie: backward says 1/2 each, as the central difference does
    assert gradcheck(maximum, [1.0, 1.0]) is True


@pytest.mark.parametrize("eps", [0.0, -1e-6])
def test_eps_must_be_positive(eps):
    with pytest.raises(ValueError, match="eps"):
        gradcheck(lambda x: x * x, [1.0], eps=eps)


def test_f_must_return_a_value():
    with pytest.raises(TypeError, match="float"):
        gradcheck(lambda x: x.data * 2, [1.0])


def test_inputs_must_be_numbers_or_values():
    with pytest.raises(TypeError, match="str"):
        gradcheck(lambda x: x * 2, ["1.0"])
