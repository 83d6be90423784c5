"""Tensor exp, log, abs, clip, where, activations, softmax and log_softmax against PyTorch
float64 (values and gradients), kinks and the lecture's softmax numbers included."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograd_core import Tensor, where
from test_tensor_oracle import arrays, assert_close, assert_matches_torch, floats, shapes

# Kink points (0) appear often, so the conventions at kinks are compared with PyTorch too.
WITH_KINKS = st.one_of(floats(-4.0, 4.0), st.just(0.0))

ELEMENTWISE = {
    "exp": (lambda t: t.exp(), torch.exp),
    "tanh": (lambda t: t.tanh(), torch.tanh),
    "sigmoid": (lambda t: t.sigmoid(), torch.sigmoid),
    "relu": (lambda t: t.relu(), torch.relu),
    "abs": (lambda t: abs(t), torch.abs),
    "leaky_relu": (lambda t: t.leaky_relu(), TF.leaky_relu),
    "leaky_relu 0.1": (lambda t: t.leaky_relu(0.1), lambda t: TF.leaky_relu(t, 0.1)),
    "elu": (lambda t: t.elu(), TF.elu),
    "elu 0.5": (lambda t: t.elu(alpha=0.5), lambda t: TF.elu(t, alpha=0.5)),
}


@pytest.mark.parametrize("name", ELEMENTWISE)
@given(x=hnp.arrays(np.float64, shapes(), elements=WITH_KINKS))
def test_elementwise_functions_match_torch(name, x):
    ours, theirs = ELEMENTWISE[name]
    assert_matches_torch(ours, theirs, x)


@given(x=arrays(shapes(), 0.01, 5.0))
def test_log_matches_torch(x):
    assert_matches_torch(lambda t: t.log(), torch.log, x)


def test_log_at_zero_and_below_follows_torch():
    """log(0) = -inf and log(-1) = nan as in PyTorch (numpy warns); d/dx log x = 1/x = inf at 0."""
    with pytest.warns(RuntimeWarning):
        assert_matches_torch(lambda t: t.log(), torch.log, np.array([0.0, -1.0, 2.0]))


def test_sigmoid_and_elu_do_not_overflow_for_large_inputs():
    x = np.array([-800.0, -50.0, 0.0, 50.0, 800.0])
    assert_matches_torch(lambda t: t.sigmoid(), torch.sigmoid, x)
    assert_matches_torch(lambda t: t.elu(), TF.elu, x)


@given(x=arrays(shapes(), -4.0, 4.0), bounds=st.tuples(floats(-3.0, 0.0), floats(0.0, 3.0)),
       sides=st.sampled_from(["both", "min", "max"]))
def test_clip_matches_torch_clamp(x, bounds, sides):
    lo = bounds[0] if sides != "max" else None
    hi = bounds[1] if sides != "min" else None
    assert_matches_torch(lambda t: t.clip(lo, hi), lambda t: torch.clamp(t, lo, hi), x)


def test_clip_passes_the_gradient_at_the_bounds_themselves_like_torch():
    x = np.array([-1.0, -0.5, 0.0, 0.5, 1.0])
    assert_matches_torch(lambda t: t.clip(-0.5, 0.5), lambda t: torch.clamp(t, -0.5, 0.5), x)
    ours = Tensor(x, requires_grad=True)
    ours.clip(-0.5, 0.5).sum().backward()
    assert_close(ours.grad, [0.0, 1.0, 1.0, 1.0, 0.0], "hand-derived [lo <= x <= hi]")


@given(data=st.data())
def test_where_with_broadcasting_matches_torch(data):
    cond_shape, shape_a, shape_b = data.draw(hnp.mutually_broadcastable_shapes(
        num_shapes=3, max_dims=3, max_side=3), label="shapes").input_shapes
    condition = data.draw(hnp.arrays(np.bool_, cond_shape), label="condition")
    a = data.draw(arrays(shape_a), label="a")
    b = data.draw(arrays(shape_b), label="b")
    flags = data.draw(st.sampled_from([(True, True), (True, False), (False, True)]), label="flags")
    assert_matches_torch(lambda x, y: where(condition, x, y),
                         lambda x, y: torch.where(torch.tensor(condition), x, y),
                         a, b, requires_grad=flags)


def test_where_with_a_number_and_a_comparison_mask():
    x = Tensor([-2.0, 3.0], requires_grad=True)
    out = where(x > 0, x, 0.0)
    assert_close(out.data, [0.0, 3.0], "value")
    out.backward(np.array([5.0, 7.0]))
    assert_close(x.grad, [0.0, 7.0], "grad")


@st.composite
def array_and_softmax_axis(draw):
    x = draw(arrays(shapes(min_dims=1), -10.0, 10.0))
    return x, draw(st.integers(-x.ndim, x.ndim - 1))


@given(case=array_and_softmax_axis())
def test_softmax_matches_torch(case):
    x, axis = case
    assert_matches_torch(lambda t: t.softmax(axis), lambda t: torch.softmax(t, dim=axis), x)


@given(case=array_and_softmax_axis())
def test_log_softmax_matches_torch(case):
    x, axis = case
    assert_matches_torch(lambda t: t.log_softmax(axis), lambda t: torch.log_softmax(t, dim=axis), x)


def test_softmax_default_axis_is_the_last_and_large_logits_are_stable():
    x = np.array([[1.0, 2.0, 0.0], [-1.0, 0.0, 1.0], [-10.0, 0.0, 10.0], [1000.0, 0.0, -1000.0]])
    assert_matches_torch(lambda t: t.softmax(), lambda t: torch.softmax(t, dim=-1), x)
    assert_matches_torch(lambda t: t.log_softmax(), lambda t: torch.log_softmax(t, dim=-1), x)


def test_softmax_of_the_lecture_example():
    """softmax([1, 2, 1.5, 0.6]): e^x / sum e^x with sum = 16.41, i.e. [0.166, 0.450, 0.273, 0.111]."""
    x = [1.0, 2.0, 1.5, 0.6]
    denominator = sum(np.exp(v) for v in x)
    assert abs(denominator - 16.41) < 0.01
    out = Tensor(x).softmax()
    assert_close(out.data, [np.exp(v) / denominator for v in x], "value")
    assert_close(np.round(out.data, 3), [0.166, 0.450, 0.273, 0.111], "rounded", tol=1e-12)


@pytest.mark.parametrize("name", ["relu", "tanh", "sigmoid", "leaky_relu", "elu"])
def test_activations_use_the_kernels_module(name, monkeypatch):
    """Forward and backward go through autograd_core.kernels, so the Numba kernels are used."""
    from autograd_core import kernels
    calls = []
    for function in ("activation_forward", "activation_backward"):
        original = getattr(kernels, function)
        monkeypatch.setattr(kernels, function,
                            lambda *args, _f=original, _n=function, **kw: calls.append(_n) or _f(*args, **kw))
    x = Tensor([-1.0, 2.0], requires_grad=True)
    getattr(x, name)().sum().backward()
    assert calls == ["activation_forward", "activation_backward"]
