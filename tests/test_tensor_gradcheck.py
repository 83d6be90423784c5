"""`gradcheck` with Tensor and numpy inputs: composite Tensor functions pass against central
finite differences, and a wrong backward is reported element by element."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd_core import GradcheckError, Tensor, concatenate, gradcheck, stack, where
from test_tensor_oracle import arrays

COMPOSITES = [
    ("layer", lambda x, w, b: (x @ w + b).tanh().sum(), [(4, 3), (3, 2), (2,)]),
    ("softmax cross-entropy", lambda z, t: -(z.log_softmax(axis=1) * t).sum() / 4.0, [(4, 3), (4, 3)]),
    ("mlp", lambda x, w1, w2: ((x @ w1).sigmoid() @ w2).elu().mean(), [(5, 3), (3, 4), (4, 2)]),
    ("broadcast algebra", lambda a, b: ((a * b - b / (a * a + 1.0)) ** 2).sum(), [(3, 1), (1, 4)]),
    ("shapes", lambda a, b: ((concatenate([a, b.T], axis=0)[[0, 2, 2]] * stack([a[0], b[:, 1]])[1])
     .reshape(-1) ** 2).sum(), [(2, 3), (3, 2)]),
    ("max", lambda a: (a.max(axis=1) * a.max(axis=0, keepdims=True).T).sum(), [(3, 3)]),
    ("softmax and clip", lambda a: (a.softmax(axis=0) * a.clip(-0.7, 0.9)).sum(), [(3, 2)]),
    ("where and abs", lambda a, b: where(np.array([True, False, True]), a.abs(), b * 3.0).sum(),
     [(3,), (3,)]),
    ("vector dot and power", lambda a, b: (a @ b) ** 3 + (a.exp() @ b.leaky_relu(0.2)), [(4,), (4,)]),
]


@pytest.mark.parametrize("name, f, input_shapes", COMPOSITES, ids=[case[0] for case in COMPOSITES])
@given(data=st.data())
def test_composite_tensor_functions_pass_gradcheck(name, f, input_shapes, data):
    inputs = [data.draw(arrays(shape, -1.5, 1.5), label=f"input {i}") for i, shape in enumerate(input_shapes)]
    # Keep away from the kinks (|x| = 0 for abs, 0.1 apart from the clip bounds, ties of max).
    inputs = [np.where(np.abs(x) < 0.05, 0.3, x) for x in inputs]
    if name == "softmax and clip":
        inputs = [np.where(np.abs(np.abs(x) - 0.8) < 0.12, 0.3, x) for x in inputs]
    if name == "max":  # distinct entries: no ties, so max is differentiable at the point
        inputs = [np.argsort(x, axis=None).reshape(x.shape) * 0.3 - 1.0 for x in inputs]
    assert gradcheck(f, inputs, atol=1e-5) is True


def test_tensor_inputs_are_copied_and_left_alone():
    x = Tensor([[0.5, -1.0]], requires_grad=True, label="x")
    assert gradcheck(lambda t: (t * t).sum(), [x]) is True
    assert x.grad is None
    assert x.data.tolist() == [[0.5, -1.0]]


def test_values_and_tensors_can_be_mixed_and_unused_inputs_pass():
    assert gradcheck(lambda t, unused: (t ** 2).sum(), [np.array([1.0, 2.0]), np.array([3.0])])
    assert gradcheck(lambda t: Tensor(1.0) * 2.0 + 0.0 * 1.0, [np.array([1.0])])  # no graph at all


def test_a_wrong_backward_is_reported_per_element():
    def wrong_cube(x: Tensor) -> Tensor:
        data = x.data
        # d(x^3)/dx is 3x^2; this claims 3x^2 only for the first element and 0 elsewhere.
        return Tensor.from_op((data ** 3).sum(), (x,), "wrong_cube",
                              lambda g: (np.where(np.arange(data.size).reshape(data.shape) == 0,
                                                  3 * data ** 2, 0.0) * g,))
    with pytest.raises(GradcheckError) as error:
        gradcheck(wrong_cube, [np.array([[1.0, 2.0], [3.0, 4.0]])])
    message = str(error.value)
    assert "3 input(s)" in message and "element (0, 1)" in message and "element (0, 0)" not in message


def test_output_must_be_one_element():
    with pytest.raises(TypeError, match=r"one-element Tensor, got Tensor of shape \(2,\)"):
        gradcheck(lambda t: t * 2.0, [np.array([1.0, 2.0])])
