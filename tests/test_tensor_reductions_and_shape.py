"""Tensor sum/mean/max, reshape, transpose, indexing, concatenate and stack against PyTorch
float64 (values and gradients), with hypothesis-generated shapes, axes and indices."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograd_core import Tensor, concatenate, stack
from test_tensor_oracle import arrays, assert_close, assert_matches_torch, shapes


@st.composite
def array_and_axis(draw, lo=-3.0, hi=3.0, elements=None):
    """An array of 1-3 dims and an axis argument: None, an int (maybe negative) or a tuple."""
    x = draw(arrays(shapes(min_dims=1), lo, hi) if elements is None
             else hnp.arrays(np.float64, shapes(min_dims=1), elements=elements))
    axes = draw(st.lists(st.integers(0, x.ndim - 1), min_size=1, max_size=x.ndim, unique=True))
    negative = draw(st.booleans())
    axes = [a - x.ndim if negative else a for a in axes]
    axis = draw(st.sampled_from([None, axes[0], tuple(axes)]))
    return x, axis


@given(case=array_and_axis(), keepdims=st.booleans())
def test_sum_matches_torch(case, keepdims):
    x, axis = case
    dims = tuple(range(x.ndim)) if axis is None else axis
    assert_matches_torch(lambda t: t.sum(axis=axis, keepdims=keepdims),
                         lambda t: t.sum(dim=dims, keepdim=keepdims), x)


def test_reducing_a_zero_dimensional_tensor_keeps_it():
    for reduce in (lambda t: t.sum(), lambda t: t.mean(), lambda t: t.max()):
        x = Tensor(2.5, requires_grad=True)
        out = reduce(x)
        assert out.shape == () and out.item() == 2.5
        out.backward()
        assert_close(x.grad, 1.0, "grad")


@given(case=array_and_axis(), keepdims=st.booleans())
def test_mean_matches_torch(case, keepdims):
    x, axis = case
    dims = tuple(range(x.ndim)) if axis is None else axis
    assert_matches_torch(lambda t: t.mean(axis=axis, keepdims=keepdims),
                         lambda t: t.mean(dim=dims, keepdim=keepdims), x)


@given(case=array_and_axis(elements=st.sampled_from([-1.0, 0.0, 1.0, 2.0])), keepdims=st.booleans())
def test_max_with_frequent_ties_splits_the_gradient_like_torch_amax(case, keepdims):
    x, axis = case
    dims = tuple(range(x.ndim)) if axis is None else axis
    assert_matches_torch(lambda t: t.max(axis=axis, keepdims=keepdims),
                         lambda t: torch.amax(t, dim=dims, keepdim=keepdims), x)


def test_max_tie_by_hand():
    """max([1, 3, 3]) = 3: the two tied entries get half of the upstream gradient each."""
    x = Tensor([1.0, 3.0, 3.0], requires_grad=True)
    x.max().backward(np.array(4.0))
    assert_close(x.grad, [0.0, 2.0, 2.0], "grad")


@given(x=arrays(shapes(min_dims=1)), data=st.data())
def test_reshape_matches_torch(x, data):
    target = data.draw(st.sampled_from([(x.size,), (1, x.size), (x.size, 1), (-1,), x.shape[::-1]]))
    assert_matches_torch(lambda t: t.reshape(target) * 2.0, lambda t: t.reshape(target) * 2.0, x)
    assert Tensor(x).reshape(*target).shape == np.empty(x.shape).reshape(target).shape


@given(x=arrays(shapes(min_dims=1)), data=st.data())
def test_transpose_matches_torch(x, data):
    axes = tuple(data.draw(st.permutations(range(x.ndim))))
    assert_matches_torch(lambda t: t.transpose(*axes) * np.arange(1.0, x.size + 1).reshape(
        np.empty(x.shape).transpose(axes).shape), lambda t: t.permute(*axes) * torch.arange(
        1.0, x.size + 1, dtype=torch.float64).reshape(np.empty(x.shape).transpose(axes).shape), x)
    assert_matches_torch(lambda t: t.T, lambda t: t.permute(*range(x.ndim - 1, -1, -1)), x)
    assert_matches_torch(lambda t: t.transpose(), lambda t: t.permute(*range(x.ndim - 1, -1, -1)), x)


@given(x=arrays((5, 4)), data=st.data())
def test_integer_array_indexing_with_repeats_accumulates_like_torch(x, data):
    rows = data.draw(st.lists(st.integers(-5, 4), min_size=1, max_size=8), label="rows")
    cols = data.draw(st.lists(st.integers(0, 3), min_size=len(rows), max_size=len(rows)), label="cols")
    assert_matches_torch(lambda t: t[np.array(rows)], lambda t: t[torch.tensor(rows)], x)
    assert_matches_torch(lambda t: t[rows, cols], lambda t: t[torch.tensor(rows), torch.tensor(cols)], x)
    assert_matches_torch(lambda t: t[1:, np.array(cols)], lambda t: t[1:, torch.tensor(cols)], x)


def test_repeated_index_by_hand():
    """x[[0, 0, 2]] picks x0 twice: its gradient is the sum of both upstream entries."""
    x = Tensor([10.0, 20.0, 30.0], requires_grad=True)
    x[[0, 0, 2]].backward(np.array([1.0, 2.0, 5.0]))
    assert_close(x.grad, [3.0, 0.0, 5.0], "grad")


@given(x=arrays((4, 3)), mask=hnp.arrays(np.bool_, (4, 3)), row_mask=hnp.arrays(np.bool_, (4,)))
def test_boolean_indexing_matches_torch(x, mask, row_mask):
    assert_matches_torch(lambda t: t[mask], lambda t: t[torch.tensor(mask)], x)
    assert_matches_torch(lambda t: t[row_mask], lambda t: t[torch.tensor(row_mask)], x)


BASIC_INDICES = [(1,), (slice(None), 2), (slice(1, None, 2),), (Ellipsis, 0), (None, slice(0, 2)),
                 (-1, slice(None, None, 3)), (slice(2, 3), slice(1, 3))]


@pytest.mark.parametrize("index", BASIC_INDICES, ids=repr)
def test_basic_indexing_matches_torch(index):
    x = np.random.default_rng(2).normal(size=(4, 5))
    assert_matches_torch(lambda t: t[index], lambda t: t[index], x)


def test_negative_step_slice_by_hand():
    """PyTorch has no negative steps; numpy's x[::-1] reverses, so its gradient is the
    upstream gradient reversed."""
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[::-1].backward(np.array([1.0, 2.0, 3.0]))
    assert_close(x.grad, [3.0, 2.0, 1.0], "grad")


def test_editing_the_index_array_after_forward_does_not_change_backward():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    index = np.array([0, 1])
    out = x[index]
    index[:] = 2
    out.sum().backward()
    assert_close(x.grad, [1.0, 1.0, 0.0], "grad")


@given(data=st.data(), count=st.integers(1, 4), ndim=st.integers(1, 3))
def test_concatenate_matches_torch(data, count, ndim):
    axis = data.draw(st.integers(-ndim, ndim - 1), label="axis")
    base = list(data.draw(shapes(min_dims=ndim, max_dims=ndim), label="shape"))
    parts = []
    for _ in range(count):
        base[axis] = data.draw(st.integers(1, 3))
        parts.append(data.draw(arrays(tuple(base))))
    flags = data.draw(st.lists(st.booleans(), min_size=count, max_size=count).filter(any))
    assert_matches_torch(lambda *ts: concatenate(list(ts), axis=axis),
                         lambda *ts: torch.cat(ts, dim=axis), *parts, requires_grad=flags)


@given(data=st.data(), count=st.integers(1, 4), shape=shapes(max_dims=2))
def test_stack_matches_torch(data, count, shape):
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)), label="axis")
    parts = [data.draw(arrays(shape)) for _ in range(count)]
    flags = data.draw(st.lists(st.booleans(), min_size=count, max_size=count).filter(any))
    assert_matches_torch(lambda *ts: stack(ts, axis=axis), lambda *ts: torch.stack(ts, dim=axis),
                         *parts, requires_grad=flags)


def test_iterating_a_tensor_gives_differentiable_rows():
    x = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    rows = list(x)
    assert len(rows) == len(x) == 2
    (rows[0] * rows[1]).sum().backward()
    assert_close(x.grad, [[3.0, 4.0], [1.0, 2.0]], "grad")
