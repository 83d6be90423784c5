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


# Few distinct values, so that ties (x == bound, min == max) and min > max come up often.
GRID = st.sampled_from([-1.0, -0.5, 0.0, 0.5, 1.0])


@given(data=st.data(), sides=st.sampled_from(["both", "min", "max"]),
       kinds=st.tuples(*[st.sampled_from(["tensor", "constant tensor", "array", "number"])] * 2))
def test_clip_with_broadcast_tensor_and_array_bounds_matches_torch_clamp(data, sides, kinds):
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=3))
    x_shape, lo_shape, hi_shape = shapes.input_shapes
    x = data.draw(hnp.arrays(np.float64, x_shape, elements=GRID))
    bounds = []  # (ours, torch's, torch leaf or None) per bound
    for shape, kind, used in ((lo_shape, kinds[0], sides != "max"),
                              (hi_shape, kinds[1], sides != "min")):
        if not used:
            bounds.append((None, None, None))
            continue
        if kind == "number":
            value = data.draw(GRID)
            bounds.append((value, torch.tensor(value, dtype=torch.float64), None))
            continue
        value = data.draw(hnp.arrays(np.float64, shape, elements=GRID))
        leaf = torch.tensor(value, requires_grad=kind == "tensor")
        ours = value if kind == "array" else Tensor(value, requires_grad=kind == "tensor")
        bounds.append((ours, leaf, leaf if kind == "tensor" else None))
    (lo, torch_lo, lo_leaf), (hi, torch_hi, hi_leaf) = bounds
    ours_x, torch_x = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out = ours_x.clip(lo, hi)
    # torch.clamp broadcasts x forward but its backward fails ("output with shape [] doesn't
    # match the broadcast shape [1]", torch 2.13) unless x already has the result's shape:
    # expanding x first is the same function, and expand's backward sums like ours.
    result_shape = np.broadcast_shapes(x.shape, *(b.shape for b in (torch_lo, torch_hi)
                                                  if b is not None))
    expected = torch.clamp(torch_x.expand(result_shape), torch_lo, torch_hi)
    assert_close(out.data, expected.detach().numpy(), "value")
    upstream = np.random.default_rng(0).standard_normal(expected.shape)
    out.backward(upstream)
    expected.backward(torch.tensor(upstream))
    assert_close(ours_x.grad, torch_x.grad.numpy(), "gradient of x")
    for ours_bound, leaf in ((lo, lo_leaf), (hi, hi_leaf)):
        if leaf is not None:
            assert_close(ours_bound.grad, leaf.grad.numpy(), "gradient of a bound")
        elif isinstance(ours_bound, Tensor):
            assert ours_bound.grad is None


def test_clip_gradient_rule_by_hand_including_min_above_max():
    # x, min, max, and who gets the upstream gradient 1 (torch.clamp's rule, by hand):
    # min <= x <= max -> x; x < min < max -> min; x > max or max < min -> max; else nobody.
    x = Tensor([-2.0, 0.0, 1.0, 2.0, 1.5, 0.0, 3.0], requires_grad=True)
    lo = Tensor([0.0, 0.0, 1.0, 3.0, 2.0, 1.0, 0.0], requires_grad=True)
    hi = Tensor([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 2.0], requires_grad=True)
    out = x.clip(lo, hi)
    assert_close(out.data, [0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 2.0], "hand-derived clamp")
    out.sum().backward()
    assert_close(x.grad, [0, 1, 1, 0, 0, 0, 0], "hand-derived dL/dx")
    assert_close(lo.grad, [1, 0, 0, 0, 0, 0, 0], "hand-derived dL/dmin")
    assert_close(hi.grad, [0, 0, 0, 1, 1, 0, 1], "hand-derived dL/dmax")


def test_clip_bounds_sum_their_gradient_back_to_their_shape_and_keep_x_dtype():
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    lo = Tensor([[1.0], [4.0]], requires_grad=True)  # per row
    out = x.clip(lo, np.array([2.0, 10.0, 10.0]))  # per column, an array: a constant
    # x = [[0 1 2] [3 4 5]]: below min at (0,0) and (1,0); above max (2) at (1,0) only,
    # and min > max there (4 > 2), so (1,0) goes to max, which is a constant.
    assert_close(out.data, [[1, 1, 2], [2, 4, 5]], "hand-derived clamp")
    out.sum().backward()
    assert lo.grad.shape == (2, 1) and x.grad.shape == (2, 3)
    assert_close(lo.grad, [[1.0], [0.0]], "hand-derived dL/dmin")
    assert_close(x.grad, [[0, 1, 1], [0, 1, 1]], "hand-derived dL/dx")
    # Numbers and arrays never change x's dtype (like a Python number in PyTorch).
    x32 = Tensor(np.zeros(2), dtype=np.float32)
    assert x32.clip(np.zeros(2), 1.0).dtype == np.float32 and x32.clip(max=0.5).dtype == np.float32


def test_clip_with_nan_follows_torch():
    x, lo, hi = (np.array(v) for v in ([np.nan, 1.0, 1.0], [0.0, np.nan, 0.0], [2.0, 2.0, np.nan]))
    assert_matches_torch(lambda *t: t[0].clip(t[1], t[2]), torch.clamp, x, lo, hi)


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


def test_equality_is_an_elementwise_mask_like_torch():
    # PyTorch's idiom where(t == 0, a, b): with identity ==, it silently returned all of b.
    t = Tensor([0.0, 2.0, 0.0, float("nan")], requires_grad=True)
    a, b = Tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True), Tensor([9.0, 9.0, 9.0, 9.0])
    np.testing.assert_array_equal(t == 0, [True, False, True, False])
    np.testing.assert_array_equal(t != 0, [False, True, False, True])  # nan != 0, as torch
    np.testing.assert_array_equal(t == Tensor([0.0, 2.0, 1.0, float("nan")]),
                                  [True, True, False, False])  # nan == nan is False, as torch
    np.testing.assert_array_equal(t != t, (torch.tensor(t.data) != torch.tensor(t.data)).numpy())
    out = where(t == 0, a, b)
    assert_close(out.data, [1.0, 9.0, 3.0, 9.0], "value")
    out.backward(np.array([5.0, 6.0, 7.0, 8.0]))
    assert_close(a.grad, [5.0, 0.0, 7.0, 0.0], "grad")
    assert type(t == 0) is np.ndarray and (t == 0).dtype == np.bool_


def test_equal_tensors_stay_distinct_keys_hashed_by_identity():
    # The graph's tables key nodes by identity: equal data must not merge two Tensors, and a
    # dict or set finds a node by its identity before it would call its (elementwise) ==.
    assert Tensor.__hash__ is object.__hash__
    x, y = Tensor([1.0, 2.0], requires_grad=True), Tensor([1.0, 2.0], requires_grad=True)
    table = {x: "x", y: "y"}
    assert table[x] == "x" and table[y] == "y" and len({x, y}) == 2 and x in {x}
    (x * y + x).sum().backward()
    assert_close(x.grad, [2.0, 3.0], "grad")  # d(xy + x)/dx = y + 1
    assert_close(y.grad, [1.0, 2.0], "grad")


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
    for function in ("run_activation_forward", "run_activation_backward"):
        original = getattr(kernels, function)
        monkeypatch.setattr(kernels, function,
                            lambda *args, _f=original, _n=function, **kw: calls.append(_n) or _f(*args, **kw))
    x = Tensor([-1.0, 2.0], requires_grad=True)
    getattr(x, name)().sum().backward()
    assert calls == ["run_activation_forward", "run_activation_backward"]


# -- at the edges: masks that select, NaN, tiny divisors (issue 11), each case vs PyTorch --------

INF, NAN = float("inf"), float("nan")


def _maximum(a, b):
    from autograd_core import maximum
    return maximum(a, b)


# (name, ours, torch's, inputs, upstream). relu, maximum, clip, where and x ** 0 *select*
# (torch: where(mask, grad, 0)), so a blocked inf or NaN gradient gives 0; abs, leaky_relu and
# elu *multiply* (0 * inf = NaN), as torch. Each input is a vector, so the kernels see them.
TENSOR_EDGE_CASES = [
    ("relu ** 0.5 below 0", lambda x: x.relu() ** 0.5, lambda x: x.relu() ** 0.5,
     [[-2.0, 0.0, 4.0]], [1.0, 1.0, 1.0]),
    ("log relu below 0", lambda x: x.relu().log(), lambda x: x.relu().log(),
     [[-2.0, 0.0, 4.0]], [1.0, 1.0, 1.0]),
    ("relu, inf and nan upstream", lambda x: x.relu(), torch.relu,
     [[-1.0, 0.0, 2.0, NAN, -3.0]], [INF, -INF, INF, 1.0, NAN]),
    ("leaky_relu, inf upstream", lambda x: x.leaky_relu(0.1), lambda x: TF.leaky_relu(x, 0.1),
     [[-1.0, 0.0, 2.0, NAN]], [INF, INF, INF, 1.0]),
    ("elu, inf upstream", lambda x: x.elu(), TF.elu,
     [[-800.0, -1.0, 0.0, 2.0, NAN]], [INF, INF, INF, INF, 1.0]),
    ("abs at nan and 0", lambda x: x.abs(), torch.abs,
     [[NAN, 0.0, -2.0, NAN, 0.0]], [1.0, 1.0, INF, INF, INF]),
    ("maximum at nan", _maximum, torch.maximum,
     [[NAN, 1.0, NAN, 3.0], [1.0, NAN, NAN, 3.0]], [1.0, 1.0, 1.0, 1.0]),
    ("maximum, inf upstream", _maximum, torch.maximum,
     [[1.0, 2.0, 1.0], [2.0, 1.0, 1.0]], [INF, NAN, INF]),
    ("clip, inf upstream", lambda x, lo, hi: x.clip(lo, hi), torch.clamp,
     [[-2.0, 0.5, 3.0, NAN], [0.0, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0]], [INF, INF, NAN, INF]),
    ("where, inf upstream", lambda a, b: where(np.array([True, False, True]), a, b),
     lambda a, b: torch.where(torch.tensor([True, False, True]), a, b),
     [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], [INF, NAN, -INF]),
    ("x ** 0, inf upstream", lambda x: x ** 0, lambda x: x ** 0, [[2.0, 0.0]], [INF, NAN]),
    ("a ** b at b = 0", lambda a, b: a ** b, lambda a, b: a ** b,
     [[2.0, 0.0, 3.0], [0.0, 0.0, 2.0]], [INF, INF, 1.0]),
    ("tiny divisors", lambda a, b: a / b, lambda a, b: a / b,
     [[1e-170, 0.0, 1e-300, 1.0, 1.0], [1e-170, 1e-200, 1e-160, 1e-300, 1e-310]],
     [1.0, 1.0, 1.0, 1.0, 1e-20]),
    ("x log x at subnormal x", lambda x: x * x.log(), lambda x: x * x.log(),
     [[1e-310, 2.0]], [1.0, 1.0]),
    # torch computes x ** -0.5 as rsqrt: NaN at -inf and -inf at -0.0 (C's pow: 0 and +inf);
    # x ** 0.5's slope 0.5 x ** -0.5 the same way
    ("x ** -0.5 and ** 0.5 at -inf and -0", lambda x: x ** -0.5 + x ** 0.5,
     lambda x: x ** -0.5 + x ** 0.5, [[-INF, -0.0, 4.0]], [1.0, 1.0, 1.0]),
]


@pytest.mark.parametrize("name, ours, theirs, inputs, upstream", TENSOR_EDGE_CASES,
                         ids=[case[0] for case in TENSOR_EDGE_CASES])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("mode", ["numpy", "serial", "parallel"])
def test_tensor_edge_cases_follow_torch_in_every_kernel_mode(name, ours, theirs, inputs, upstream,
                                                             dtype, mode):
    from autograd_core.kernels import kernel_mode
    torch_dtype = torch.float64 if dtype == np.float64 else torch.float32
    leaves = [torch.tensor(x, dtype=torch_dtype, requires_grad=True) for x in inputs]
    expected = theirs(*leaves)
    expected.backward(torch.tensor(upstream, dtype=torch_dtype))
    tensors = [Tensor(x, requires_grad=True, dtype=dtype) for x in inputs]
    with kernel_mode(mode), np.errstate(all="ignore"):
        out = ours(*tensors)
        out.backward(np.array(upstream))
    tol = 1e-14 if dtype == np.float64 else 1e-6
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=tol, err_msg="value")
    assert out.dtype == dtype
    for i, (tensor, leaf) in enumerate(zip(tensors, leaves)):
        np.testing.assert_allclose(tensor.grad, leaf.grad.numpy(), rtol=tol, err_msg=f"grad {i}")
        assert tensor.grad.dtype == dtype


def test_tensor_keeps_a_float_arrays_dtype_like_torch_tensor():
    """torch.tensor(array) keeps a float32/float64 array's dtype; Python numbers and integer
    arrays become float64 here (torch's default float type is float32, ours float64)."""
    for dtype in (np.float32, np.float64):
        array = np.arange(6, dtype=dtype).reshape(2, 3)
        assert Tensor(array).dtype == torch.tensor(array).numpy().dtype == dtype
        assert Tensor(Tensor(array)).dtype == dtype
        assert Tensor(dtype(1.5)).dtype == dtype
    assert Tensor([1.0, 2.0]).dtype == Tensor(np.arange(3)).dtype == np.float64
    assert Tensor(np.arange(3, dtype=np.float16)).dtype == np.float64  # not a Tensor dtype: float64
    assert Tensor(np.ones(2, np.float32), dtype=np.float64).dtype == np.float64  # dtype= wins
    x = Tensor(np.ones((2, 2), np.float32), requires_grad=True)
    (x * x).sum().backward()
    assert x.grad.dtype == np.float32
