"""Every bad input to a Tensor raises a clear error naming the problem: the type, both
shapes and the op, or the offending value. Never a bare numpy traceback."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from autograd_core import Tensor, Value, concatenate, stack, where


@pytest.mark.parametrize("data, type_name", [
    ("abc", "str"), (None, "NoneType"), (b"01", "bytes"), ([1.0, "a"], "list"),
    (np.array([1, None], dtype=object), "ndarray"), (1 + 2j, "complex"),
    (np.array([1j, 2.0]), "complex128"), ({"a": 1}, "dict"),
])
def test_non_numeric_data_is_a_type_error_naming_the_type(data, type_name):
    with pytest.raises(TypeError, match=type_name):
        Tensor(data)


def test_a_list_of_tensors_points_to_stack():
    """numpy could read their data, but the result would be silently cut out of the graph."""
    with pytest.raises(TypeError, match="stack"):
        Tensor([Tensor([1.0]), Tensor([2.0])])
    with pytest.raises(TypeError, match="stack"):
        Tensor([[1.0], [Tensor(2.0)]])


@pytest.mark.parametrize("data", [[10**400], 10**400, [[1.0, -(10**400)]]],
                         ids=["list", "int", "nested negative"])
def test_an_int_too_large_for_a_float_says_so(data):
    # numpy keeps such an int as an object, which used to read "got list of dtype object"
    with pytest.raises(OverflowError, match=r"Tensor data: the int -?1000\S* \(401 digits\) is too "
                                            "large for a float"):
        Tensor(data)


def test_ints_beyond_int64_but_within_float_range_are_read_as_floats():
    # numpy keeps 2**70 as an object too; torch.tensor([2**70], dtype=torch.float64) reads it
    for dtype in (np.float64, np.float32):
        t = Tensor([[1, 2**70]], dtype=dtype)
        expected = torch.tensor([[1, 2**70]], dtype=torch.float64).numpy().astype(dtype)
        assert t.dtype == dtype and np.array_equal(t.data, expected)
    assert Tensor(2**70).item() == float(2**70)


def test_value_of_an_int_too_large_for_a_float_says_so():
    with pytest.raises(OverflowError, match="Value data: the int 1000.* is too large for a float"):
        Value(10**400)


def test_ragged_lists_are_rejected():
    with pytest.raises(ValueError, match="rectangular"):
        Tensor([[1.0, 2.0], [3.0]])


@pytest.mark.parametrize("dtype", [np.int64, np.float16, "complex128", "bogus"])
def test_only_float64_and_float32_dtypes(dtype):
    with pytest.raises(TypeError, match="float64 or float32"):
        Tensor([1.0], dtype=dtype)


@pytest.mark.parametrize("make, start", [
    (lambda: Tensor([1.0]) + Value(2.0), "add operand must be real numbers, got a scalar Value"),
    (lambda: Tensor([1.0]) * Value(2.0), "mul operand must be real numbers, got a scalar Value"),
    (lambda: Tensor(np.ones((2, 2))) @ Value(2.0), "matmul operand .*got a scalar Value"),
    (lambda: where(np.array([True]), Value(1.0), Tensor([0.0])), "where operand .*scalar Value"),
    (lambda: Tensor([Value(1.0), 2.0]), "Tensor data must be real numbers, got a list holding a "
                                        "scalar Value"),
])
def test_mixing_a_scalar_value_with_a_tensor_says_so(make, start):
    with pytest.raises(TypeError, match=start) as error:
        make()
    message = str(error.value)
    assert "a Value (the scalar engine) cannot be mixed with a Tensor" in message
    assert "Use a float instead (value.data" in message and "Value's own ops" in message
    assert "stack or concatenate" not in message


def test_constructor_argument_types():
    with pytest.raises(TypeError, match="requires_grad must be a bool"):
        Tensor([1.0], requires_grad="yes")
    with pytest.raises(TypeError, match="label must be a str"):
        Tensor([1.0], label=3)


def test_matmul_shape_mismatch_names_both_shapes():
    a, b = Tensor(np.ones((3, 4))), Tensor(np.ones((5, 2)))
    with pytest.raises(ValueError, match=r"^matmul: \(3, 4\) @ \(5, 2\)") as error:
        a @ b
    assert "batch" not in str(error.value)
    with pytest.raises(ValueError, match=r"matmul: \(2, 3, 4\) @ \(3, 4, 5\)"):
        Tensor(np.ones((2, 3, 4))) @ Tensor(np.ones((3, 4, 5)))
    with pytest.raises(ValueError, match=r"matmul: \(\) @ \(3,\).*use \*"):
        Tensor(2.0) @ Tensor(np.ones(3))


@pytest.mark.parametrize("shape_a, shape_b, message", [
    ((3, 4), (5, 2), "inner dimensions differ: the left operand's last dimension is 4 but "
                     "the right operand's second-to-last dimension is 5$"),
    ((2, 3, 4), (3, 4, 5), r"^matmul: \(2, 3, 4\) @ \(3, 4, 5\): batch dimensions \(2,\) and "
                           r"\(3,\) do not broadcast"),
    ((5, 2, 3, 4), (3, 1, 4, 5), r": batch dimensions \(5, 2\) and \(3, 1\) do not broadcast"),
    ((3, 4), (5,), "the right operand's only dimension is 5$"),
    ((2, 3, 4), (3, 5, 6), r"inner dimensions differ: .* 4 .* 5; and batch dimensions \(2,\) "
                           r"and \(3,\) do not broadcast"),
])
def test_matmul_mismatch_says_which_check_failed(shape_a, shape_b, message):
    # The shapes that fail are those numpy and torch refuse too.
    with pytest.raises(RuntimeError):
        torch.ones(shape_a) @ torch.ones(shape_b)
    with pytest.raises(ValueError, match=message) as error:
        Tensor(np.ones(shape_a)) @ Tensor(np.ones(shape_b))
    text = str(error.value)
    assert ("inner" in text) == (shape_a[-1] != (shape_b[-2] if len(shape_b) > 1 else shape_b[0]))


@pytest.mark.parametrize("op, name, symbol", [
    (lambda a, b: a + b, "add", "+"), (lambda a, b: a - b, "sub", "-"),
    (lambda a, b: a * b, "mul", "*"), (lambda a, b: a / b, "div", "/"),
    (lambda a, b: a ** b, "pow", "**"),
])
def test_broadcast_mismatch_names_the_op_and_both_shapes(op, name, symbol):
    message = re.escape(f"{name}: shapes (2, 3) {symbol} (4,) do not broadcast")
    with pytest.raises(ValueError, match=message):
        op(Tensor(np.ones((2, 3))), Tensor(np.ones(4)))


@pytest.mark.parametrize("operand", ["a", None, [1, "x"], 1j])
def test_bad_operands_name_the_op(operand):
    with pytest.raises(TypeError, match="mul"):
        Tensor([1.0]) * operand


def test_backward_errors():
    x = Tensor(np.ones((3, 4)), requires_grad=True)
    y = x * 2.0
    with pytest.raises(ValueError, match=r"shape \(3, 4\)"):
        y.backward()
    with pytest.raises(ValueError, match=r"grad has shape \(4, 3\) but the tensor has shape \(3, 4\)"):
        y.backward(np.ones((4, 3)))
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor([1.0]).backward()
    with pytest.raises(TypeError, match="backward grad must be real numbers"):
        y.backward("ones")
    assert x.grad is None  # nothing ran


def test_reduction_axis_errors():
    x = Tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match="sum: axis 2 is out of range"):
        x.sum(axis=2)
    with pytest.raises(ValueError, match="mean: axis .* names the same axis twice"):
        x.mean(axis=(0, -2))
    with pytest.raises(TypeError, match="max: axis must be an int"):
        x.max(axis=1.5)
    with pytest.raises(ValueError, match=r"axis=\(\) is ambiguous"):
        x.sum(axis=())
    with pytest.raises(TypeError, match="keepdims must be a bool"):
        x.sum(keepdims="no")
    with pytest.raises(ValueError, match=r"max: cannot take the max over an empty axis of shape \(0, 3\)"):
        Tensor(np.ones((0, 3))).max(axis=0)


def test_shape_op_errors():
    x = Tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"reshape: cannot reshape \(2, 3\) \(6 elements\) into \(4,\)"):
        x.reshape(4)
    with pytest.raises(TypeError, match="reshape: the shape must be ints"):
        x.reshape(2.0, 3)
    with pytest.raises(ValueError, match=r"transpose: axes \(0, 0\) are not a permutation"):
        x.transpose(0, 0)
    with pytest.raises(IndexError, match=r"getitem: .* shape \(2, 3\)"):
        x[5]
    with pytest.raises(IndexError, match=r"getitem"):
        x[np.array([True, False, True])]
    with pytest.raises(TypeError, match="not a Tensor"):
        x[Tensor([0.0])]


def test_concatenate_and_stack_errors():
    a, b = Tensor(np.ones((2, 3))), Tensor(np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"concatenate: shapes \[\(2, 3\), \(2, 4\)\] must agree"):
        concatenate([a, b], axis=0)
    with pytest.raises(ValueError, match=r"stack: every tensor must have the same shape"):
        stack([a, b])
    with pytest.raises(ValueError, match="at least one tensor"):
        concatenate([])
    with pytest.raises(TypeError, match="list or tuple of Tensors"):
        stack(a)
    with pytest.raises(ValueError, match="axis 3 is out of range"):
        concatenate([a, a], axis=3)
    with pytest.raises(ValueError, match="0-d tensors"):
        concatenate([Tensor(1.0), Tensor(2.0)])


def test_function_errors():
    x = Tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"softmax: axis 2 is out of range for a tensor of shape \(2, 3\)"):
        x.softmax(axis=2)
    with pytest.raises(ValueError, match="log_softmax: needs a tensor with at least one dimension"):
        Tensor(1.0).log_softmax()
    with pytest.raises(ValueError, match="clip: give at least one of min and max"):
        x.clip()
    with pytest.raises(TypeError, match="clip: min must be a real number, a numpy array, a Tensor"):
        x.clip("0")
    with pytest.raises(TypeError, match="clip: max must hold real numbers, got an array of dtype <U1"):
        x.clip(None, np.array(["a"]))
    with pytest.raises(ValueError, match="clip: min is nan"):
        x.clip(float("nan"))
    with pytest.raises(ValueError, match=r"clip: shapes x \(2, 3\), min \(2,\), max \(\) do not "
                                         "broadcast together"):
        x.clip(Tensor([0.0, 1.0]), 2.0)
    with pytest.raises(TypeError, match="where: condition must be a boolean array, got dtype float64"):
        where(np.ones(3), x, 0.0)
    with pytest.raises(TypeError, match="not a Tensor"):
        where(x, x, 0.0)
    with pytest.raises(ValueError, match=r"where: shapes condition \(4,\)"):
        where(np.ones(4, bool), x, 0.0)
    with pytest.raises(TypeError, match="leaky_relu: negative_slope must be a real number"):
        x.leaky_relu("0.1")
    with pytest.raises(TypeError, match="elu: alpha must be a real number"):
        x.elu(None)


def test_from_op_errors():
    x = Tensor(np.ones((2, 2)), requires_grad=True)
    with pytest.raises(TypeError, match="every parent must be a Tensor"):
        Tensor.from_op(x.data, (x.data,), "bad", lambda g: (g,))
    with pytest.raises(TypeError, match="backward must be callable"):
        Tensor.from_op(x.data, (x,), "bad", 3)
    with pytest.raises(TypeError, match="give exactly one of backward and vjp"):
        Tensor.from_op(x.data, (x,), "bad", None)
    with pytest.raises(TypeError, match="give exactly one of backward and vjp"):
        Tensor.from_op(x.data, (x,), "bad", lambda g: (g,), vjp=lambda g, i, o, n: (g,))
    wrong_count = Tensor.from_op(x.data.sum(), (x,), "two_grads", lambda g: (g, g))
    with pytest.raises(ValueError, match="two_grads: backward must return a tuple of 1 gradient"):
        wrong_count.backward()
    wrong_shape = Tensor.from_op(x.data.sum(), (x,), "flat", lambda g: (np.ones(4),))
    with pytest.raises(ValueError, match=r"flat: backward returned a gradient of shape \(4,\) for "
                                         r"parent 0 of shape \(2, 2\)"):
        wrong_shape.backward()


@pytest.mark.parametrize("gradients", [(), (np.ones(2), np.ones(2))])
def test_an_unchecked_backward_with_the_wrong_count_is_still_an_error(gradients):
    """check_gradients=False skips the shape check, but a gradient is never silently dropped
    nor one invented: the driver's node protocol checks the count (one per parent)."""
    x = Tensor(np.ones(2), requires_grad=True)
    out = Tensor.from_op(x.data.sum(), (x,), "unchecked", lambda g: gradients, check_gradients=False)
    with pytest.raises(ValueError, match=rf"unchecked: its backward function returned "
                                         rf"{len(gradients)} gradient\(s\) for 1 parent\(s\)"):
        out.backward()
    assert x.grad is None


def test_numpy_functions_refuse_tensors_instead_of_leaving_the_graph():
    with pytest.raises(TypeError):
        np.exp(Tensor([1.0], requires_grad=True))


def test_conversions_of_many_elements_are_refused():
    x = Tensor([1.0, 2.0])
    with pytest.raises(ValueError, match=r"item: .* shape \(2,\)"):
        x.item()
    with pytest.raises(ValueError, match="ambiguous"):
        bool(x)
    with pytest.raises(TypeError, match="0-d"):
        len(Tensor(1.0))


def test_from_op_without_gradient_checks_passes_the_backward_through():
    x = Tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
    calls = []

    def backward(g):
        calls.append(g)
        return (g * 2.0,)
    out = Tensor.from_op(x.data * 2.0, (x,), "double", backward, check_gradients=False)
    assert out._vjp.backward is backward  # no checking wrapper around the trusted rule
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 2.0, 2.0])  # hand: d(sum 2x)/dx = 2
    assert len(calls) == 1
    # The checks that do not cost a backward pass still run.
    with pytest.raises(TypeError, match="every parent must be a Tensor"):
        Tensor.from_op(x.data, (x.data,), "bad", backward, check_gradients=False)
