"""Bad inputs to the scalar engine raise a clear error that names the problem."""

from __future__ import annotations

import math

import pytest

from autograd_core import Value, maximum, softmax, sum_values

BAD_DATA = [
    ("a string", "1.0", "str"),
    ("None", None, "NoneType"),
    ("a list", [1.0], "list"),
    ("a complex number", 1 + 2j, "complex"),
    ("True", True, "bool"),
    ("False", False, "bool"),
    ("a Value", Value(1.0), "Value"),
]


@pytest.mark.parametrize("what, data, type_name", BAD_DATA, ids=[case[0] for case in BAD_DATA])
def test_value_rejects_non_numbers(what, data, type_name):
    with pytest.raises(TypeError, match=rf"\b{type_name}\b"):
        Value(data)


def test_label_must_be_a_string():
    with pytest.raises(TypeError, match=r"label.*int"):
        Value(1.0, label=3)


@pytest.mark.parametrize("what, bad, type_name", BAD_DATA[:-1], ids=[case[0] for case in BAD_DATA[:-1]])
@pytest.mark.parametrize("op", [
    lambda v, x: v + x, lambda v, x: x + v, lambda v, x: v - x, lambda v, x: x - v,
    lambda v, x: v * x, lambda v, x: x * v, lambda v, x: v / x, lambda v, x: x / v,
    lambda v, x: v ** x, lambda v, x: maximum(v, x), lambda v, x: maximum(x, v),
], ids=["v+x", "x+v", "v-x", "x-v", "v*x", "x*v", "v/x", "x/v", "v**x", "max(v,x)", "max(x,v)"])
def test_operators_reject_non_numbers(op, what, bad, type_name):
    with pytest.raises(TypeError, match=rf"\b{type_name}\b"):
        op(Value(2.0), bad)


@pytest.mark.parametrize("call, type_name", [
    (lambda v: v.leaky_relu(negative_slope="0.1"), "str"),
    (lambda v: v.leaky_relu(negative_slope=None), "NoneType"),
    (lambda v: v.elu(alpha=[1.0]), "list"),
    (lambda v: v.elu(alpha=True), "bool"),
    (lambda v: v.backward("1"), "str"),
    (lambda v: v.backward(None), "NoneType"),
], ids=["leaky_relu slope str", "leaky_relu slope None", "elu alpha list", "elu alpha bool",
        "backward seed str", "backward seed None"])
def test_parameters_reject_non_numbers(call, type_name):
    with pytest.raises(TypeError, match=rf"\b{type_name}\b"):
        call(Value(-1.0))


def test_softmax_and_sum_reject_empty_and_non_numbers():
    with pytest.raises(ValueError, match="empty"):
        softmax([])
    with pytest.raises(ValueError, match="empty"):
        sum_values([])
    with pytest.raises(TypeError, match=r"\bstr\b"):
        softmax([Value(1.0), "2"])
    with pytest.raises(TypeError, match=r"\bNoneType\b"):
        sum_values([Value(1.0), None])


# -- domain errors: the message names the offending node's label ----------------------------------

DOMAIN_ERRORS = [
    # (name, error, build with a labelled node, pattern in the message)
    ("log of 0", ValueError, lambda: Value(0.0, "x").log(), r"log.*non-positive.*'x'"),
    ("log of a negative", ValueError, lambda: Value(-2.0, "x").log(), r"log.*-2.*'x'"),
    ("Value / Value(0)", ZeroDivisionError, lambda: Value(1.0) / Value(0.0, "d"), r"division by zero.*'d'"),
    ("number / Value(0)", ZeroDivisionError, lambda: 3 / Value(0.0, "d"), r"division by zero.*'d'"),
    ("Value / -0.0", ZeroDivisionError, lambda: Value(1.0) / Value(-0.0, "d"), r"division by zero.*'d'"),
    ("negative base ** Value", ValueError, lambda: Value(-2.0, "base") ** Value(2.0),
     r"negative base.*'base'"),
    ("number negative base ** Value", ValueError, lambda: (-2) ** Value(2.0, "e"), r"negative base"),
    ("negative ** fraction", ValueError, lambda: Value(-8.0, "base") ** 0.5, r"negative base.*'base'"),
    ("0 ** negative number", ZeroDivisionError, lambda: Value(0.0, "z") ** -1, r"0.*negative.*'z'"),
    ("0 ** negative Value", ZeroDivisionError, lambda: Value(0.0, "z") ** Value(-0.5), r"0.*negative.*'z'"),
    ("0 ** negative via rpow", ZeroDivisionError, lambda: 0 ** Value(-2.0), r"0.*negative"),
    ("exp overflow", OverflowError, lambda: Value(1000.0, "big").exp(), r"exp.*1000.*'big'"),
    ("pow overflow", OverflowError, lambda: Value(10.0, "big") ** 400, r"10 \*\* 400.*'big'.*overflows"),
    ("Value pow overflow", OverflowError, lambda: Value(10.0, "big") ** Value(400.0),
     r"10 \*\* 400.*'big'.*overflows"),
    # the value 1e300 fits, the slope -1 * (1e-300) ** -2 does not (was a bare OverflowError)
    ("Value pow derivative overflow", OverflowError, lambda: Value(1e-300, "tiny") ** Value(-1.0),
     r"the derivative of 1e-300 \*\* -1 needs 1e-300 \*\* -2.*'tiny'.*overflows"),
]


@pytest.mark.parametrize("name, error, build, pattern", DOMAIN_ERRORS,
                         ids=[case[0] for case in DOMAIN_ERRORS])
def test_domain_errors_name_the_node(name, error, build, pattern):
    with pytest.raises(error, match=pattern):
        build()


@pytest.mark.parametrize("build, error", [
    (lambda: Value(0.0).log(), ValueError),
    (lambda: Value(1.0) / 0, ZeroDivisionError),
    (lambda: Value(0.0) ** -2.0, ZeroDivisionError),
])
def test_domain_errors_without_a_label(build, error):
    with pytest.raises(error) as info:
        build()
    assert "node" not in str(info.value)  # nothing to name, and no empty '' placeholder


def test_large_but_finite_results_are_not_errors():
    assert math.isfinite(Value(709.0).exp().data)
    assert Value(1e-300).log().data == pytest.approx(-300 * math.log(10))
    assert (Value(10.0) ** 300).data == pytest.approx(1e300, rel=1e-14)


def test_a_value_and_a_tensor_do_not_mix_and_the_message_says_what_to_do():
    from autograd_core import Tensor
    with pytest.raises(TypeError, match=r"got Tensor.*a Value combines only with Values and Python numbers"):
        Value(2.0) + Tensor([1.0])
    with pytest.raises(TypeError, match=r"got Tensor"):
        Value(2.0) * Tensor([1.0])
