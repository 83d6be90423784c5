"""Tensor arithmetic (+ - * / ** neg @) against PyTorch float64: values and gradients, on
hypothesis-generated shapes and values, broadcasting and Python/numpy operands included."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograd_core import Tensor
from test_tensor_oracle import arrays, assert_close, assert_matches_torch, floats, shapes

BINARY = {
    "+": (lambda a, b: a + b),
    "-": (lambda a, b: a - b),
    "*": (lambda a, b: a * b),
    "/": (lambda a, b: a / b),
}


def nonzero_arrays(shape):
    """Entries with |x| in [0.5, 3], so a division never comes near a pole."""
    magnitude = arrays(shape, 0.5, 3.0)
    signs = hnp.arrays(np.float64, shape, elements=st.sampled_from([-1.0, 1.0]))
    return st.tuples(magnitude, signs).map(lambda pair: pair[0] * pair[1])


@pytest.mark.parametrize("symbol", BINARY)
@given(data=st.data())
def test_binary_ops_with_broadcasting_match_torch(symbol, data):
    shape_a, shape_b = data.draw(hnp.mutually_broadcastable_shapes(
        num_shapes=2, min_dims=0, max_dims=3, max_side=4), label="shapes").input_shapes
    a = data.draw(arrays(shape_a), label="a")
    b = data.draw(nonzero_arrays(shape_b) if symbol == "/" else arrays(shape_b), label="b")
    flags = data.draw(st.sampled_from([(True, True), (True, False), (False, True)]), label="flags")
    op = BINARY[symbol]
    assert_matches_torch(op, op, a, b, requires_grad=flags)


@pytest.mark.parametrize("shape_a, shape_b", [((3, 1), (1, 4)), ((2, 3, 4), (4,)), ((), (2, 3)),
                                               ((5, 1, 3), (4, 1)), ((2, 3), (2, 3))])
@pytest.mark.parametrize("symbol", BINARY)
def test_named_broadcasting_cases_match_torch(symbol, shape_a, shape_b):
    rng = np.random.default_rng(1)
    a = rng.uniform(0.5, 2.0, shape_a)
    b = rng.uniform(0.5, 2.0, shape_b)
    op = BINARY[symbol]
    assert_matches_torch(op, op, a, b)
    assert_matches_torch(op, op, b, a)


@pytest.mark.parametrize("symbol", BINARY)
@given(x=arrays(shapes()), number=floats(0.5, 3.0))
def test_python_numbers_on_either_side(symbol, x, number):
    op = BINARY[symbol]
    assert_matches_torch(lambda t: op(t, number), lambda t: op(t, number), x)
    if symbol != "/":
        assert_matches_torch(lambda t: op(number, t), lambda t: op(number, t), x)


@given(x=nonzero_arrays((2, 3)), constant=arrays((3,)))
def test_numpy_arrays_on_either_side_stay_in_the_graph(x, constant):
    for op in BINARY.values():
        out = op(constant, Tensor(x, requires_grad=True))
        assert isinstance(out, Tensor) and out.requires_grad
        assert_close(out.data, op(constant, x), "value")
    assert_matches_torch(lambda t: constant * t - constant / t, lambda t: torch.tensor(constant) * t
                         - torch.tensor(constant) / t, x)


@given(x=arrays(shapes()))
def test_negation_matches_torch(x):
    assert_matches_torch(lambda t: -t, lambda t: -t, x)


@given(x=arrays(shapes(), 0.2, 3.0), n=floats(-3.0, 3.0))
def test_power_of_a_number_matches_torch(x, n):
    assert_matches_torch(lambda t: t ** n, lambda t: t ** n, x)


@given(x=arrays(shapes()), n=st.sampled_from([0, 1, 2, 3, -1, -2]))
def test_integer_powers_of_any_sign_match_torch(x, n):
    x = np.where(np.abs(x) < 0.2, 0.7, x) if n < 0 else x
    assert_matches_torch(lambda t: t ** n, lambda t: t ** n, x)


def test_power_zero_has_zero_gradient_even_at_zero():
    """d(x^0)/dx = 0 everywhere, also at x = 0 where n * x^(n-1) would read 0 * inf."""
    x = Tensor([0.0, 2.0], requires_grad=True)
    (x ** 0).sum().backward()
    assert_close(x.grad, [0.0, 0.0], "grad")


@given(data=st.data())
def test_tensor_power_with_broadcasting_matches_torch(data):
    shape_a, shape_b = data.draw(hnp.mutually_broadcastable_shapes(
        num_shapes=2, max_dims=3, max_side=3), label="shapes").input_shapes
    base = data.draw(arrays(shape_a, 0.3, 3.0), label="base")
    exponent = data.draw(arrays(shape_b, -2.0, 2.0), label="exponent")
    assert_matches_torch(lambda a, b: a ** b, lambda a, b: a ** b, base, exponent)


def test_tensor_power_at_the_edges_matches_torch():
    """Base 0 (exponent grad 0 where b >= 0) and exponent 0 (base grad 0), like PyTorch."""
    base = np.array([0.0, 0.0, 2.0, 3.0])
    exponent = np.array([2.0, 0.0, 0.0, 1.5])
    assert_matches_torch(lambda a, b: a ** b, lambda a, b: a ** b, base, exponent)


@given(exponent=arrays((3,), -2.0, 2.0), number=floats(0.5, 3.0))
def test_number_to_a_tensor_power_matches_torch(exponent, number):
    assert_matches_torch(lambda t: number ** t, lambda t: number ** t, exponent)


MATMUL_SHAPES = st.sampled_from([
    ("n,k", "k,m"), ("k", "k,m"), ("n,k", "k"), ("k", "k"), ("b,n,k", "k,m"), ("n,k", "b,k,m"),
    ("b,n,k", "b,k,m"), ("1,n,k", "b,k,m"), ("b,1,n,k", "c,k,m"), ("k", "b,k,m"), ("b,n,k", "k"),
])


@given(pattern=MATMUL_SHAPES, sizes=st.fixed_dictionaries(
    {name: st.integers(1, 4) for name in "nkmbc"}), data=st.data())
def test_matmul_matches_torch_for_vectors_matrices_and_batches(pattern, sizes, data):
    sizes["1"] = 1
    shape_a, shape_b = (tuple(sizes[d] for d in spec.split(",")) for spec in pattern)
    a = data.draw(arrays(shape_a), label="a")
    b = data.draw(arrays(shape_b), label="b")
    flags = data.draw(st.sampled_from([(True, True), (True, False), (False, True)]), label="flags")
    assert_matches_torch(lambda x, y: x @ y, lambda x, y: x @ y, a, b, requires_grad=flags)


def test_matmul_quiz_from_the_lecture():
    """[[2,3,1],[-1,2,3]] @ [5,-2,3] = [7, 0]; d(sum)/dA rows are the vector, d/dv = column sums."""
    a = Tensor([[2.0, 3.0, 1.0], [-1.0, 2.0, 3.0]], requires_grad=True)
    v = Tensor([5.0, -2.0, 3.0], requires_grad=True)
    out = a @ v
    assert_close(out.data, [7.0, 0.0], "value")
    out.sum().backward()
    assert_close(a.grad, [[5.0, -2.0, 3.0], [5.0, -2.0, 3.0]], "dA")
    assert_close(v.grad, [1.0, 5.0, 4.0], "dv")


def test_numpy_array_on_the_left_of_matmul():
    w = Tensor(np.eye(2) * 3.0, requires_grad=True)
    out = np.array([[1.0, 2.0]]) @ w
    assert isinstance(out, Tensor) and out.op == "@"
    out.sum().backward()
    assert_close(w.grad, [[1.0, 1.0], [2.0, 2.0]], "dW")
