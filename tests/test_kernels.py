"""Tests for autograd_core.kernels.

Oracles: the numpy references are checked against PyTorch float64 (torch.nn.functional and
torch.autograd) and a few hand derivations; every Numba kernel, serial and parallel, is then
checked against its reference for float32 and float64 on random shapes, values and axes.
Dispatch, the CHAINRULE_NUMBA switch, lazy importing, the on-disk cache and the read-only
fallback are checked in subprocesses where process state matters.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

import autograd_core.kernels as K
from autograd_core import Tensor
from autograd_core.kernels import dispatch, numba_cache, reference, switch

REPO = Path(__file__).resolve().parents[1]
DTYPES = (np.float32, np.float64)
KERNEL_MODES = ("serial", "parallel")
# Kernel vs reference: both round differently (polynomial exp, summation order), a few ulp.
RTOL = {np.float32: 2e-5, np.float64: 1e-12}
PARAMETRIZED = {"leaky_relu", "elu"}


# ------------------------------------------------------------------------------ helpers

def assert_close(actual: np.ndarray, expected: np.ndarray, dtype: type, scale: float = 1.0,
                 rtol: float | None = None) -> None:
    """Same shape and dtype, and equal to a relative tolerance plus an absolute one scaled
    by the size of the operands (cancellation and subnormals are absolute errors)."""
    assert isinstance(actual, np.ndarray), type(actual)
    assert actual.dtype == np.dtype(dtype), (actual.dtype, dtype)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    tolerance = RTOL[dtype] if rtol is None else rtol
    np.testing.assert_allclose(actual, expected, rtol=tolerance, atol=tolerance * scale)


def magnitude(*arrays: np.ndarray) -> float:
    """max(1, largest |entry|) over the arrays, as float64."""
    return max([1.0] + [float(np.max(np.abs(a.astype(np.float64)))) for a in arrays if a.size])


def values(dtype: type, bound: float = 30.0) -> st.SearchStrategy[float]:
    """Finite floats of `dtype`: mostly moderate, sometimes huge, often exactly 0 or -0."""
    width = 32 if dtype == np.float32 else 64
    huge = float(np.float32(1e30)) if dtype == np.float32 else 1e300
    return st.one_of(
        st.floats(-bound, bound, width=width),
        st.floats(-huge, huge, width=width),
        st.sampled_from([0.0, -0.0, 1.0, -1.0]))


def arrays(dtype: type, shape: tuple[int, ...], bound: float = 30.0) -> st.SearchStrategy:
    return hnp.arrays(dtype, shape, elements=values(dtype, bound))


def upstream_arrays(dtype: type, shape: tuple[int, ...]) -> st.SearchStrategy:
    """Upstream gradients: moderate finite values (their size only scales the result)."""
    return hnp.arrays(dtype, shape, elements=st.floats(
        -5, 5, width=32 if dtype == np.float32 else 64))


def activation_param(name: str) -> st.SearchStrategy[float]:
    """leaky_relu's slope (any sign, any size) or elu's alpha; 0 for the others."""
    if name == "leaky_relu":
        return st.floats(-2.0, 2.0)
    if name == "elu":
        return st.floats(0.01, 3.0)
    return st.just(0.0)


def torch_activation(name: str, x: torch.Tensor, param: float) -> torch.Tensor:
    return {"relu": F.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid,
            "leaky_relu": lambda t: F.leaky_relu(t, negative_slope=param),
            "elu": lambda t: F.elu(t, alpha=param)}[name](x)


def torch_vjp(function, inputs: list[np.ndarray], upstream: np.ndarray) -> tuple:
    """(output, gradients of sum(output * upstream) w.r.t. inputs), all in float64 torch."""
    leaves = [torch.tensor(a.astype(np.float64), requires_grad=True) for a in inputs]
    out = function(*leaves)
    grads = torch.autograd.grad(out, leaves, torch.tensor(upstream.astype(np.float64)))
    return out.detach().numpy(), [g.numpy() for g in grads]


def unchanged(*arrays: np.ndarray):
    """Snapshot arrays; calling the result asserts none of them was modified."""
    copies = [a.copy() for a in arrays]

    def check() -> None:
        for before, after in zip(copies, arrays):
            np.testing.assert_array_equal(before, after)
    return check


@st.composite
def shape_and_axis(draw, max_dims: int = 4, max_side: int = 7):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=max_dims, min_side=1, max_side=max_side))
    return shape, draw(st.integers(-len(shape), len(shape) - 1))


@st.composite
def broadcast_pair(draw):
    """(gradient shape, shape it was broadcast from): leading axes dropped, some set to 1."""
    grad_shape = draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=6))
    dropped = draw(st.integers(0, len(grad_shape)))
    kept = grad_shape[dropped:]
    ones = draw(st.lists(st.booleans(), min_size=len(kept), max_size=len(kept)))
    return grad_shape, tuple(1 if one else size for size, one in zip(kept, ones))


@st.composite
def cross_entropy_case(draw, dtype: type):
    """(logits, targets) with integer labels or probability rows that sum to 1."""
    n, classes = draw(st.integers(1, 8)), draw(st.integers(1, 9))
    logits = draw(hnp.arrays(dtype, (n, classes), elements=st.floats(
        -50, 50, width=32 if dtype == np.float32 else 64)))
    if draw(st.booleans()):
        targets = np.array(draw(st.lists(st.integers(0, classes - 1), min_size=n, max_size=n)))
    else:
        weights = draw(hnp.arrays(np.float64, (n, classes), elements=st.floats(0, 1)))
        weights[:, 0] += 1e-3  # no all-zero row
        targets = (weights / weights.sum(axis=1, keepdims=True)).astype(dtype)
    return logits, targets


def run_python(code: str, env: dict[str, str] | None = None, cwd: str | Path = REPO) \
        -> subprocess.CompletedProcess:
    """Run `code` in a fresh interpreter (the repository on sys.path unless env says else)."""
    full_env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    full_env = {key: value for key, value in full_env.items() if value is not None}
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=full_env,
                            cwd=cwd, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result


# ------------------------------------------------------------ references vs PyTorch float64

@pytest.mark.parametrize("name", reference.ACTIVATIONS)
@given(data=st.data())
def test_reference_activations_match_torch(name, data):
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=3, max_side=6))
    x = data.draw(arrays(np.float64, shape, bound=40))
    upstream = data.draw(upstream_arrays(np.float64, shape))
    param = data.draw(activation_param(name))
    expected_out, (expected_grad,) = torch_vjp(
        lambda t: torch_activation(name, t, param), [x], upstream)
    out = reference.activation_forward(name, x, param)
    assert_close(out, expected_out, np.float64, rtol=1e-14)
    grad = reference.activation_backward(name, x, out, upstream, param)
    assert_close(grad, expected_grad, np.float64, rtol=1e-13)
    # The float32 reference against the float64 oracle, to float32 precision. A float32
    # computation works with the parameter rounded to float32 (a slope of 1e-61 is 0 there),
    # so the oracle gets that same rounded parameter.
    x32 = data.draw(arrays(np.float32, shape, bound=40))
    upstream32 = data.draw(upstream_arrays(np.float32, shape))
    out32 = reference.activation_forward(name, x32, param)
    param32 = float(np.float32(param))
    expected32, (expected_grad32,) = torch_vjp(
        lambda t: torch_activation(name, t, param32), [x32], upstream32)
    assert_close(out32, expected32, np.float32, scale=1e-30)
    assert_close(reference.activation_backward(name, x32, out32, upstream32, param),
                 expected_grad32, np.float32, scale=magnitude(upstream32) * 1e-2)


@pytest.mark.parametrize("log", [False, True])
@given(data=st.data())
def test_reference_softmax_matches_torch(log, data):
    shape, axis = data.draw(shape_and_axis())
    x = data.draw(hnp.arrays(np.float64, shape, elements=st.floats(-1e4, 1e4)))
    upstream = data.draw(upstream_arrays(np.float64, shape))
    torch_op = F.log_softmax if log else F.softmax
    expected_out, (expected_grad,) = torch_vjp(lambda t: torch_op(t, dim=axis), [x], upstream)
    forward = reference.log_softmax if log else reference.softmax
    backward = reference.log_softmax_backward if log else reference.softmax_backward
    out = forward(x, axis)
    # log-softmax values are as large as the logits: tolerance relative to them.
    assert_close(out, expected_out, np.float64, scale=magnitude(x) if log else 1.0)
    assert_close(backward(out, upstream, axis), expected_grad, np.float64,
                 scale=magnitude(upstream) * shape[axis])


@given(data=st.data())
def test_reference_cross_entropy_matches_torch(data):
    logits, targets = data.draw(cross_entropy_case(np.float64))
    grad_scale = data.draw(st.floats(-3, 3))
    loss, probs = reference.softmax_cross_entropy(logits, targets)
    torch_logits = torch.tensor(logits, requires_grad=True)
    torch_targets = torch.tensor(targets)
    torch_loss = F.cross_entropy(torch_logits, torch_targets)
    (torch_grad,) = torch.autograd.grad(torch_loss * grad_scale, torch_logits)
    assert math.isclose(loss, torch_loss.item(), rel_tol=1e-12, abs_tol=1e-12)
    assert_close(probs, F.softmax(torch_logits, dim=1).detach().numpy(), np.float64)
    assert_close(reference.softmax_cross_entropy_backward(probs, targets, grad_scale),
                 torch_grad.numpy(), np.float64)


@given(pair=broadcast_pair(), data=st.data())
def test_reference_unbroadcast_matches_torch_expand_gradient(pair, data):
    grad_shape, shape = pair
    grad = data.draw(arrays(np.float64, grad_shape, bound=10))
    leaf = torch.zeros(shape, dtype=torch.float64, requires_grad=True)
    (expected,) = torch.autograd.grad(leaf.expand(grad_shape), leaf, torch.tensor(grad))
    assert_close(reference.unbroadcast(grad, shape), expected.numpy(), np.float64,
                 scale=magnitude(grad) * grad.size)


def test_references_are_stable_at_extreme_values():
    x = np.array([-1e300, -1e4, -745.5, -40.0, 0.0, 40.0, 745.5, 1e4, 1e300])
    # Any overflow or invalid operation inside the references fails (underflow to 0 is fine).
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        sigmoid = reference.activation_forward("sigmoid", x)
        elu = reference.activation_forward("elu", x, 1.0)
        rows = np.array([[1e300, -1e300, 0.0], [-1e300, -1e300, -1e300 + 1e290]])
        softmax, log_softmax = reference.softmax(rows, 1), reference.log_softmax(rows, 1)
    assert_close(sigmoid, torch.sigmoid(torch.tensor(x)).numpy(), np.float64, scale=1e-300)
    assert_close(elu, F.elu(torch.tensor(x)).numpy(), np.float64)
    assert_close(softmax, F.softmax(torch.tensor(rows), dim=1).numpy(), np.float64)
    assert_close(log_softmax, F.log_softmax(torch.tensor(rows), dim=1).numpy(), np.float64)


def test_references_match_hand_derivations():
    # Lecture example: softmax([1, 2, 1.5, 0.6]) has denominator e + e^2 + e^1.5 + e^0.6.
    denominator = math.e + math.e ** 2 + math.e ** 1.5 + math.e ** 0.6
    assert round(denominator, 2) == 16.41
    expected = np.array([math.e, math.e ** 2, math.e ** 1.5, math.e ** 0.6]) / denominator
    assert_close(reference.softmax(np.array([1.0, 2.0, 1.5, 0.6]), 0), expected, np.float64)
    # Cross-entropy of logits [1, 2, 0] with label 1 is log(e + e^2 + 1) - 2, and its
    # gradient is softmax minus the one-hot vector.
    loss, probs = reference.softmax_cross_entropy(np.array([[1.0, 2.0, 0.0]]), np.array([1]))
    assert math.isclose(loss, math.log(math.e + math.e ** 2 + 1) - 2, rel_tol=1e-15)
    z = math.e + math.e ** 2 + 1
    assert_close(reference.softmax_cross_entropy_backward(probs, np.array([1]), 1.0),
                 np.array([[math.e / z, math.e ** 2 / z - 1, 1 / z]]), np.float64)
    # sigma'(x) = sigma(x) (1 - sigma(x)); at x = 0 that is 1/4.
    s = reference.activation_forward("sigmoid", np.array([0.0]))
    assert_close(reference.activation_backward("sigmoid", np.array([0.0]), s, np.array([1.0])),
                 np.array([0.25]), np.float64)


# ------------------------------------------------------------- kernels vs the references

def test_every_declared_kernel_name_has_its_own_code():
    """The compiled loops branch on a code per activation; every name an op may declare has
    one, and no two share one (a shared code would compute the other activation)."""
    from autograd_core import ops
    from autograd_core.kernels import compiled
    assert set(compiled.ACTIVATION_CODES) == set(ops.ACTIVATION_KERNELS)
    assert len(set(compiled.ACTIVATION_CODES.values())) == len(compiled.ACTIVATION_CODES)
    assert set(reference.ACTIVATIONS) <= set(ops.ACTIVATION_KERNELS)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", reference.ACTIVATIONS)
@given(data=st.data())
def test_activation_kernels_match_reference(name, dtype, data):
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=3, max_side=9))
    x = data.draw(arrays(dtype, shape))
    upstream = data.draw(upstream_arrays(dtype, shape))
    param = data.draw(activation_param(name))
    expected = reference.activation_forward(name, x, param)
    expected_grad = reference.activation_backward(name, x, expected, upstream, param)
    check_inputs = unchanged(x, upstream, expected)
    for mode in KERNEL_MODES:
        with K.kernel_mode(mode):
            out = K.activation_forward(name, x, param)
            grad = K.activation_backward(name, x, expected, upstream, param)
        assert_close(out, expected, dtype, scale=1e-30)
        # The gradient's absolute error scales with the upstream values it multiplies
        # (1 - out^2 near |out| = 1 cancels, and FMA rounds it differently from numpy).
        assert_close(grad, expected_grad, dtype, scale=magnitude(upstream))
    check_inputs()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("log", [False, True])
@given(data=st.data())
def test_softmax_kernels_match_reference_on_every_axis(log, dtype, data):
    shape, axis = data.draw(shape_and_axis())
    x = data.draw(hnp.arrays(dtype, shape, elements=st.floats(
        -1e4, 1e4, width=32 if dtype == np.float32 else 64)))
    upstream = data.draw(upstream_arrays(dtype, shape))
    forward = K.log_softmax if log else K.softmax
    backward = K.log_softmax_backward if log else K.softmax_backward
    with K.kernel_mode("numpy"):
        expected = forward(x, axis)
        expected_grad = backward(expected, upstream, axis)
    check_inputs = unchanged(x, upstream, expected)
    for mode in KERNEL_MODES:
        with K.kernel_mode(mode):
            out = forward(x, axis)
            grad = backward(expected, upstream, axis)
        assert_close(out, expected, dtype, scale=magnitude(x) if log else 1.0)
        assert_close(grad, expected_grad, dtype, scale=magnitude(upstream) * shape[axis])
    check_inputs()


@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_cross_entropy_kernels_match_reference(dtype, data):
    logits, targets = data.draw(cross_entropy_case(dtype))
    grad_scale = data.draw(st.floats(-3, 3))
    expected_loss, expected_probs = reference.softmax_cross_entropy(logits, targets)
    expected_grad = reference.softmax_cross_entropy_backward(expected_probs, targets, grad_scale)
    check_inputs = unchanged(logits, targets, expected_probs)
    for mode in KERNEL_MODES:
        with K.kernel_mode(mode):
            loss, probs = K.softmax_cross_entropy(logits, targets)
            grad = K.softmax_cross_entropy_backward(expected_probs, targets, grad_scale)
        assert isinstance(loss, float)
        assert math.isclose(loss, expected_loss, rel_tol=RTOL[dtype], abs_tol=RTOL[dtype] * 50)
        assert_close(probs, expected_probs, dtype)
        assert_close(grad, expected_grad, dtype)
    check_inputs()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("classes", [1, 3, 11, 12, 127, 128, 129, 300])
def test_row_kernels_on_short_and_long_rows(dtype, classes):
    """The kernels' row maximum takes one path below `SHORT_ROW` classes and another from
    it (four running maxima, then a remainder), and cross-entropy has a loop of its own below
    `FEW_CLASSES`: every position of the maximum must give PyTorch's softmax and
    cross-entropy on both sides of those lengths."""
    from autograd_core.kernels.compiled import FEW_CLASSES, SHORT_ROW
    assert SHORT_ROW == 128 and FEW_CLASSES == 12  # the lengths above straddle both
    rows = np.random.default_rng(classes).normal(size=(classes, classes)).astype(dtype)
    # Row r has its maximum at column r, so large that exp overflows unless shifted by it.
    rows[np.arange(classes), np.arange(classes)] = 800.0
    labels = (np.arange(classes) * 7) % classes
    torch_rows = torch.tensor(rows.astype(np.float64))
    expected_softmax = F.softmax(torch_rows, dim=1).numpy().astype(dtype)
    expected_loss = F.cross_entropy(torch_rows, torch.tensor(labels)).item()
    for mode in KERNEL_MODES:
        with K.kernel_mode(mode):
            softmax = K.softmax(rows, 1)
            loss, probs = K.softmax_cross_entropy(rows, labels)
        assert_close(softmax, expected_softmax, dtype)
        assert_close(probs, expected_softmax, dtype)
        assert math.isclose(loss, expected_loss, rel_tol=RTOL[dtype] * 10, abs_tol=RTOL[dtype] * 50)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("rows", [1, 255, 256, 257, 700])
def test_cross_entropy_on_many_short_rows_in_blocks(dtype, rows):
    """The parallel driver hands out short rows in blocks of `ROW_BLOCK`: every row counts
    once, with labels and with probability targets, at and around the block size."""
    from autograd_core.kernels.compiled import ROW_BLOCK
    assert ROW_BLOCK == 256
    rng = np.random.default_rng(rows)
    logits = (rng.standard_normal((rows, 3)) * 4).astype(dtype)
    labels = rng.integers(0, 3, rows)
    probabilities = rng.dirichlet(np.ones(3), rows)
    z = torch.tensor(logits.astype(np.float64))
    for target, torch_target in ((labels, torch.tensor(labels)),
                                 (probabilities.astype(dtype), torch.tensor(probabilities))):
        expected = F.cross_entropy(z, torch_target).item()
        for mode in KERNEL_MODES:
            with K.kernel_mode(mode):
                loss, probs = K.softmax_cross_entropy(logits, target)
            assert math.isclose(loss, expected, rel_tol=RTOL[dtype] * 10, abs_tol=RTOL[dtype] * 10)
            assert_close(probs, F.softmax(z, dim=1).numpy().astype(dtype), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@given(pair=broadcast_pair(), data=st.data())
def test_unbroadcast_kernels_match_reference(dtype, pair, data):
    grad_shape, shape = pair
    grad = data.draw(arrays(dtype, grad_shape, bound=10))
    expected = reference.unbroadcast(grad, shape)
    check_inputs = unchanged(grad)
    for mode in KERNEL_MODES:
        with K.kernel_mode(mode):
            assert_close(K.unbroadcast(grad, shape), np.asarray(expected), dtype,
                         scale=magnitude(grad) * grad.size)
    check_inputs()


@pytest.mark.parametrize("mode", KERNEL_MODES)
@pytest.mark.parametrize("grad_shape, shape, family", [
    ((5, 3), (3,), "column_sums"), ((5, 3), (1, 3), "column_sums"),
    ((2, 4, 3), (3,), "column_sums"), ((2, 4, 3), (4, 3), "column_sums"),
    ((2, 1, 3), (1, 3), "column_sums"), ((5, 3), (5, 1), "row_sums"),
    ((2, 4, 3), (2, 1, 1), "row_sums"), ((2, 4, 3), (2, 4, 1), "row_sums"),
])
def test_bias_and_row_gradients_use_the_sum_kernels(mode, grad_shape, shape, family, monkeypatch):
    grad = np.arange(np.prod(grad_shape), dtype=np.float64).reshape(grad_shape)
    leaf = torch.zeros(shape, dtype=torch.float64, requires_grad=True)
    (expected,) = torch.autograd.grad(leaf.expand(grad_shape), leaf, torch.tensor(grad))
    used = []
    kernels = dispatch.compiled_kernels()
    driver = getattr(kernels, f"{family}_{mode}")
    monkeypatch.setattr(kernels, f"{family}_{mode}", lambda *a: used.append(1) or driver(*a))
    with K.kernel_mode(mode):
        assert_close(K.unbroadcast(grad, shape), expected.numpy(), np.float64)
    assert used == [1]


@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_affine_kernels_match_reference_and_torch(dtype, data):
    lead = data.draw(st.lists(st.integers(0, 5), max_size=2), label="leading axes")
    in_features, out_features = data.draw(st.integers(1, 6)), data.draw(st.integers(1, 7))
    x = data.draw(upstream_arrays(dtype, (*lead, in_features)))  # moderate: no product overflows
    weight = data.draw(upstream_arrays(dtype, (out_features, in_features)))
    bias = data.draw(st.none() | upstream_arrays(dtype, (out_features,)))
    expected = reference.affine(x, weight, bias)
    as_torch = [None if a is None else torch.from_numpy(a.copy()) for a in (x, weight, bias)]
    assert_close(expected, F.linear(*as_torch).numpy(), dtype, scale=25.0 * in_features + 5.0)
    check_inputs = unchanged(*[a for a in (x, weight, bias) if a is not None])
    for mode in KERNEL_MODES:
        with K.kernel_mode(mode):
            out = K.affine(x, weight, bias)
        # The kernel makes numpy's one addition per element: the same numbers to the last bit.
        assert out.dtype == dtype and out.shape == expected.shape
        np.testing.assert_array_equal(out, expected)
    check_inputs()


@pytest.mark.parametrize("mode", KERNEL_MODES)
def test_a_linear_layer_adds_its_bias_with_the_kernel(mode, monkeypatch):
    from nn.layers import Linear
    layer = Linear(3, 4, seed=0)
    x = np.arange(15.0).reshape(5, 3)
    used = []
    kernels = dispatch.compiled_kernels()
    driver = getattr(kernels, f"add_bias_{mode}")
    monkeypatch.setattr(kernels, f"add_bias_{mode}", lambda *a: used.append(1) or driver(*a))
    with K.kernel_mode(mode):
        out = layer(x)
    # x W^T + b, summed by hand from the layer's own numbers
    expected = [[sum(x[r, k] * layer.weight.data[c, k] for k in range(3)) + layer.bias.data[c]
                 for c in range(4)] for r in range(5)]
    np.testing.assert_allclose(out.data, expected, rtol=1e-12)
    assert used == [1]


@pytest.mark.parametrize("mode", KERNEL_MODES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_kernels_at_extreme_values(mode, dtype):
    big = np.finfo(dtype).max / 4
    x = np.array([-big, -1e4, -745.5, -100.0, -88.0, -1e-30, -0.0, 0.0, 1e-30, 88.0, 100.0,
                  745.5, 1e4, big], dtype=dtype)
    rows = np.array([[big, -big, 0.0], [-big, -big, -big], [big, big, big], [0, 0, 0]], dtype)
    upstream = np.linspace(-2, 2, x.size).astype(dtype)
    params = {name: 0.3 if name in PARAMETRIZED else 0.0 for name in reference.ACTIVATIONS}
    with np.errstate(all="ignore"):
        references = {name: reference.activation_forward(name, x, params[name])
                      for name in reference.ACTIVATIONS}
        expected_grads = {name: reference.activation_backward(
            name, x, references[name], upstream, params[name]) for name in reference.ACTIVATIONS}
    with K.kernel_mode(mode):
        outputs = {name: K.activation_forward(name, x, params[name])
                   for name in reference.ACTIVATIONS}
        grads = {name: K.activation_backward(name, x, references[name], upstream, params[name])
                 for name in reference.ACTIVATIONS}
        softmax, log_softmax = K.softmax(rows, 1), K.log_softmax(rows, 1)
        loss, probs = K.softmax_cross_entropy(rows, np.array([0, 1, 2, 0]))
    for name in reference.ACTIVATIONS:
        torch_out = torch_activation(name, torch.tensor(x.astype(np.float64)), params[name])
        assert_close(outputs[name], torch_out.numpy().astype(dtype), dtype, scale=1e-30)
        assert_close(grads[name], expected_grads[name], dtype, scale=2.0)
    # x == 0 takes the x <= 0 branch of every piecewise derivative (as PyTorch does).
    zero = np.zeros(1, dtype)
    with K.kernel_mode(mode):
        assert K.activation_backward("relu", zero, zero, zero + 1)[0] == 0
        assert K.activation_backward("leaky_relu", zero, zero, zero + 1, 0.3)[0] == dtype(0.3)
        assert K.activation_backward("elu", zero, zero, zero + 1, 0.3)[0] == dtype(0.3)
    expected_rows = F.softmax(torch.tensor(rows.astype(np.float64)), dim=1).numpy()
    assert_close(softmax, expected_rows.astype(dtype), dtype)
    assert np.all(np.isfinite(log_softmax)) and np.all(np.isfinite(probs)) and np.isfinite(loss)
    assert_close(probs, expected_rows.astype(dtype), dtype)


@pytest.mark.parametrize("mode", ["numpy", *KERNEL_MODES])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", reference.ACTIVATIONS)
def test_activation_backward_under_infinite_and_nan_upstream_follows_torch(name, dtype, mode):
    # relu selects (torch: where(x <= 0, 0, grad)), so an inf or NaN gradient at x <= 0 gives 0;
    # the others multiply, as torch does (leaky_relu's slope, elu's alpha e^x: inf * 0 = NaN
    # where e^x underflows). 70 elements, so the vectorized loop bodies see them too.
    param = 0.3 if name in PARAMETRIZED else 0.0
    base = np.array([-2.0, 0.0, 3.0, -900.0, np.nan, -1.0, 1.0], dtype)
    grads = np.array([np.inf, -np.inf, np.inf, np.inf, 1.0, np.nan, np.nan], dtype)
    x, upstream = np.tile(base, 10), np.tile(grads, 10)
    leaf = torch.tensor(x[:7], requires_grad=True)
    expected = torch_activation(name, leaf, param)
    (expected_grad,) = torch.autograd.grad(expected, leaf, torch.tensor(upstream[:7]))
    with K.kernel_mode(mode), np.errstate(all="ignore"):
        out = K.activation_forward(name, x, param)
        grad = K.activation_backward(name, x, out, upstream, param)
    np.testing.assert_allclose(grad, np.tile(expected_grad.numpy(), 10), rtol=RTOL[dtype],
                               equal_nan=True)


@pytest.mark.parametrize("mode", ["numpy", *KERNEL_MODES])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", reference.ACTIVATIONS)
def test_activations_at_nan_follow_torch_in_every_mode(name, dtype, mode):
    # PyTorch's comparisons (relu: x <= 0, leaky_relu: x > 0, elu: x <= 0) decide where a
    # NaN goes: relu and elu pass the upstream gradient through it, leaky_relu scales it by
    # the slope; tanh and sigmoid, computed from out = NaN, give NaN. Oracle 1: PyTorch on 7
    # values (its scalar loop: torch 2.13's vectorized elu backward, used from 64 elements,
    # returns NaN at a NaN, against its own scalar rule). Oracle 2: that rule by hand on 70
    # NaNs, enough for our vectorized loop bodies to see some.
    param = 0.3 if name in PARAMETRIZED else 0.0
    x = np.array([np.nan, -np.nan, 2.0, -2.0, 0.0, np.inf, -np.inf], dtype)
    upstream = np.linspace(0.5, 3.0, x.size).astype(dtype)
    leaf = torch.tensor(x, requires_grad=True)  # in x's own dtype, as our kernels compute
    expected = torch_activation(name, leaf, param)
    (expected_grad,) = torch.autograd.grad(expected, leaf, torch.tensor(upstream))
    expected = expected.detach().numpy()
    many_nans = np.full(70, np.nan, dtype)
    with K.kernel_mode(mode), np.errstate(all="ignore"):
        out = K.activation_forward(name, x, param)
        grad = K.activation_backward(name, x, expected, upstream, param)
        nan_out = K.activation_forward(name, many_nans, param)
        nan_grad = K.activation_backward(name, many_nans, nan_out, np.full(70, 2, dtype), param)
    np.testing.assert_allclose(out, expected, rtol=RTOL[dtype], equal_nan=True)
    np.testing.assert_allclose(grad, expected_grad.numpy(), rtol=RTOL[dtype], equal_nan=True)
    by_hand = {"relu": 2.0, "elu": 2.0, "leaky_relu": 2 * dtype(param)}.get(name, np.nan)
    np.testing.assert_array_equal(nan_grad, np.full(70, by_hand, dtype))
    assert np.all(np.isnan(nan_out))


@pytest.mark.parametrize("mode", KERNEL_MODES)
def test_kernels_accept_non_contiguous_inputs(mode):
    rng = np.random.default_rng(7)
    base = rng.standard_normal((6, 10))
    views = [base.T, base[:, ::3], base[::2]]
    with K.kernel_mode("numpy"):
        expected = [(K.activation_forward("elu", v, 1.0), K.softmax(v, 0), K.log_softmax(v, 1),
                     K.unbroadcast(v, (v.shape[1],))) for v in views]
    with K.kernel_mode(mode):
        for view, (elu, softmax, log_softmax, bias) in zip(views, expected):
            assert_close(K.activation_forward("elu", view, 1.0), elu, np.float64)
            assert_close(K.softmax(view, 0), softmax, np.float64)
            assert_close(K.log_softmax(view, 1), log_softmax, np.float64, scale=5)
            assert_close(K.unbroadcast(view, (view.shape[1],)), bias, np.float64, scale=20)


EMPTY_SHAPES = [(0,), (0, 3), (3, 0), (2, 0, 3), (0, 1), (1, 0), (4, 1, 0)]


def reachable_shapes(grad_shape: tuple[int, ...]) -> list[tuple[int, ...]]:
    """Every shape that broadcasts to `grad_shape`: leading axes dropped, any set to 1."""
    shapes = []
    for dropped in range(len(grad_shape) + 1):
        kept = grad_shape[dropped:]
        for ones in itertools.product((False, True), repeat=len(kept)):
            shapes.append(tuple(1 if one else size for size, one in zip(kept, ones)))
    return shapes


@pytest.mark.parametrize("mode", ["numpy", "auto", *KERNEL_MODES])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("grad_shape", EMPTY_SHAPES)
def test_unbroadcast_of_an_empty_gradient_is_zeros_in_every_mode(mode, dtype, grad_shape):
    # Oracle: PyTorch's gradient of expand (a sum over no elements is 0).
    for shape in reachable_shapes(grad_shape):
        leaf = torch.zeros(shape, dtype=torch.float64, requires_grad=True)
        (expected,) = torch.autograd.grad(leaf.expand(grad_shape), leaf,
                                          torch.zeros(grad_shape, dtype=torch.float64))
        with K.kernel_mode(mode):
            result = K.unbroadcast(np.ones(grad_shape, dtype), shape)
        assert_close(result, expected.numpy().astype(dtype), dtype)


@pytest.mark.parametrize("mode", ["numpy", "auto", *KERNEL_MODES])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", EMPTY_SHAPES)
def test_every_kernel_accepts_zero_size_arrays_in_every_mode(mode, dtype, shape):
    x = np.ones(shape, dtype)

    def assert_empty_like_x(result: np.ndarray) -> None:
        assert isinstance(result, np.ndarray)
        assert result.shape == shape and result.dtype == np.dtype(dtype)

    with K.kernel_mode(mode):
        for name in reference.ACTIVATIONS:
            param = 0.3 if name in PARAMETRIZED else 0.0
            assert_empty_like_x(K.activation_forward(name, x, param))
            assert_empty_like_x(K.activation_backward(name, x, x, x, param))
        for axis in (a for a, size in enumerate(shape) if size > 0):
            assert_empty_like_x(K.softmax(x, axis))
            assert_empty_like_x(K.log_softmax(x, axis))
            assert_empty_like_x(K.softmax_backward(x, x, axis))
            assert_empty_like_x(K.log_softmax_backward(x, x, axis))
        if shape[-1] > 0:  # a linear layer from shape[-1] features to as many, bias 1
            features = shape[-1]
            assert_empty_like_x(K.affine(x, np.eye(features, dtype=dtype), np.ones(features, dtype)))
        # A mean over no rows has no value: refused the same way in every mode.
        with pytest.raises(ValueError, match="n, C >= 1"):
            K.softmax_cross_entropy(np.ones((0, 3), dtype), np.zeros(0, np.int64))


@pytest.mark.parametrize("mode", ["numpy", "auto", *KERNEL_MODES])
def test_tensor_backward_through_an_empty_batch_in_every_mode(mode):
    # d sum(a + b)/db = number of rows of a broadcast against b's one row: 0 for 0 rows.
    bias = Tensor(np.ones((1, 3)), requires_grad=True)
    with K.kernel_mode(mode):
        (Tensor(np.ones((0, 3))) + bias).sum().backward()
    np.testing.assert_array_equal(bias.grad, np.zeros((1, 3)))


def test_parallel_kernels_split_large_arrays_correctly():
    # Sizes that do not divide into the chunks evenly, and more rows than threads.
    rng = np.random.default_rng(3)
    for size in (1, 63, 65, 1000, 4097):
        x = rng.standard_normal(size)
        with K.kernel_mode("parallel"):
            out = K.activation_forward("sigmoid", x)
        assert_close(out, reference.activation_forward("sigmoid", x), np.float64)
    grad = rng.standard_normal((1001, 7))
    with K.kernel_mode("parallel"):
        assert_close(K.unbroadcast(grad, (7,)), grad.sum(axis=0), np.float64, scale=100)
        assert_close(K.unbroadcast(grad, (1001, 1)), grad.sum(axis=1, keepdims=True),
                     np.float64, scale=100)


# ---------------------------------------------------------------------------- dispatch

def test_route_follows_mode_and_thresholds(monkeypatch):
    monkeypatch.setitem(dispatch.THRESHOLDS, "relu_forward", (100, 1000))
    monkeypatch.setitem(dispatch.THRESHOLDS, "tanh_forward", (None, None))
    monkeypatch.setattr(dispatch, "thread_count", lambda: 2)
    with K.kernel_mode("auto"):
        assert [dispatch.route("relu_forward", n) for n in (0, 99, 100, 999, 1000)] == \
            ["numpy", "numpy", "serial", "serial", "parallel"]
        assert dispatch.route("tanh_forward", 10**9) == "numpy"
        monkeypatch.setattr(dispatch, "thread_count", lambda: 1)
        assert dispatch.route("relu_forward", 10**6) == "serial"
    for mode in ("numpy", "serial", "parallel"):
        with K.kernel_mode(mode):
            assert dispatch.route("relu_forward", 5) == mode
            assert dispatch.route("tanh_forward", 10**9) == mode


def test_a_family_timed_at_first_use_keeps_its_verdict(monkeypatch):
    monkeypatch.setitem(dispatch.THRESHOLDS, "tanh_forward", (100, None))
    monkeypatch.setitem(dispatch.TIMED_AT_FIRST_USE, "tanh_forward", "numpy")
    with K.kernel_mode("auto"):
        assert dispatch.route("tanh_forward", 10**6) == "numpy"  # numpy won on this processor
        monkeypatch.setitem(dispatch.TIMED_AT_FIRST_USE, "tanh_forward", "kernel")
        assert dispatch.route("tanh_forward", 10**6) == "serial"
        assert dispatch.route("tanh_forward", 99) == "numpy"  # below the threshold: not asked
    monkeypatch.setitem(dispatch.TIMED_AT_FIRST_USE, "tanh_forward", "numpy")
    with K.kernel_mode("serial"):  # a forced mode is obeyed whatever the timing said
        assert dispatch.route("tanh_forward", 10**6) == "serial"


def test_once_numba_is_loaded_small_arrays_use_the_kernels_that_win_there(monkeypatch):
    monkeypatch.setattr(dispatch, "kernels_available", lambda: False)
    monkeypatch.setattr(dispatch, "_compiled", None)
    with K.kernel_mode("auto"):
        # Not loaded: below 4096 elements nothing loads Numba.
        assert dispatch.route("cross_entropy", 450) == "numpy"
        monkeypatch.setattr(dispatch, "_compiled", object())  # loaded (by anything)
        assert dispatch.route("cross_entropy", 450) == "serial"
        assert dispatch.route("cross_entropy", 63) == "numpy"  # below the measured crossover
        crossover = dispatch.SERIAL_FROM_ONCE_LOADED["leaky_relu_backward"]
        assert dispatch.route("leaky_relu_backward", crossover - 1) == "numpy"
        assert dispatch.route("leaky_relu_backward", crossover) == "serial"
        assert dispatch.route("relu_forward", 450) == "numpy"  # numpy wins there: not listed
        monkeypatch.setitem(dispatch.THRESHOLDS, "cross_entropy", (None, None))
        assert dispatch.route("cross_entropy", 10**6) == "numpy"  # a family turned off stays off


def test_settle_by_timing_keeps_the_faster_call(monkeypatch):
    monkeypatch.setitem(dispatch.TIMED_AT_FIRST_USE, "tanh_forward", None)
    calls = {"numpy": 0, "kernel": 0}

    def slow() -> None:
        calls["numpy"] += 1
        time.sleep(0.005)

    def fast() -> None:
        calls["kernel"] += 1
    assert dispatch.settle_by_timing("tanh_forward", slow, fast) == "kernel"
    assert dispatch.TIMED_AT_FIRST_USE["tanh_forward"] == "kernel"
    assert calls == {"numpy": 4, "kernel": 4}  # one warm-up call each, then three timed
    assert dispatch.settle_by_timing("tanh_forward", fast, slow) == "numpy"


def test_tanh_forward_times_itself_once_and_gives_numpys_numbers(monkeypatch):
    monkeypatch.setitem(dispatch.TIMED_AT_FIRST_USE, "tanh_forward", None)
    x = np.random.default_rng(3).standard_normal(20_000)
    with K.kernel_mode("auto"):
        first = K.activation_forward("tanh", x)
        verdict = dispatch.TIMED_AT_FIRST_USE["tanh_forward"]
        assert verdict in ("numpy", "kernel")
        second = K.activation_forward("tanh", x)
        assert dispatch.TIMED_AT_FIRST_USE["tanh_forward"] == verdict  # not timed again
    assert_close(first, np.tanh(x), np.float64)
    assert_close(second, np.tanh(x), np.float64)


def _public_calls(size: int) -> dict[str, callable]:
    """family -> a public call whose dispatch size is `size` (or just above it)."""
    rows = max(1, size // 4)
    x = np.linspace(-3, 3, size)
    matrix = np.linspace(-3, 3, rows * 4).reshape(rows, 4)
    labels = np.arange(rows) % 4
    calls = {}
    for name in reference.ACTIVATIONS:
        param = 0.1 if name in PARAMETRIZED else 0.0
        calls[f"{name}_forward"] = lambda n=name, p=param: K.activation_forward(n, x, p)
        calls[f"{name}_backward"] = lambda n=name, p=param: K.activation_backward(n, x, x, x, p)
    calls["softmax"] = lambda: K.log_softmax(matrix, 1)
    calls["softmax_backward"] = lambda: K.softmax_backward(matrix, matrix, 0)
    calls["cross_entropy"] = lambda: K.softmax_cross_entropy(matrix, labels)
    calls["cross_entropy_backward"] = lambda: K.softmax_cross_entropy_backward(
        np.full(matrix.shape, 0.25), labels, 1.0)
    calls["column_sums"] = lambda: K.unbroadcast(matrix, (1, 4))
    calls["row_sums"] = lambda: K.unbroadcast(matrix, (rows, 1))
    calls["add_bias"] = lambda: K.affine(matrix, np.eye(4), np.ones(4))
    return calls


@pytest.mark.parametrize("mode", ["auto", "numpy"])
def test_public_functions_dispatch_by_size(mode, monkeypatch):
    decisions = []

    def recording_route(family, size):
        decisions.append((family, size, dispatch.route(family, size)))
        return decisions[-1][2]
    monkeypatch.setattr(K, "route", recording_route)
    monkeypatch.setattr(dispatch, "thread_count", lambda: 2)
    for family, (serial_from, parallel_from) in dispatch.THRESHOLDS.items():
        sizes = [8, serial_from, parallel_from]
        for size in [s for s in sizes if s is not None]:
            decisions.clear()
            with K.kernel_mode(mode):
                _public_calls(size)[family]()
            [(seen_family, seen_size, path)] = decisions
            assert seen_family == family and seen_size >= size
            if mode == "numpy" or size == 8:
                assert path == "numpy", (family, size)
            else:
                assert path == ("parallel" if size == parallel_from else "serial"), (family, size)


def test_numpy_mode_never_touches_numba(monkeypatch):
    def forbidden():
        raise AssertionError("the numpy mode loaded the compiled kernels")
    monkeypatch.setattr(K, "compiled_kernels", forbidden)
    with K.kernel_mode("numpy"):
        for call in _public_calls(10**5).values():
            call()


@pytest.mark.parametrize("setting, mode, numba_used", [("0", "numpy", False), ("", "auto", True),
                                                       ("parallel", "parallel", True)])
def test_environment_switch_both_ways(setting, mode, numba_used):
    result = run_python("""
        import sys
        import numpy as np
        import autograd_core.kernels as K
        x = np.linspace(-1, 1, 10**6)
        K.activation_forward("relu", x)
        K.softmax(x.reshape(1000, 1000), 1)
        print(K.get_kernel_mode(), "numba" in sys.modules)
    """, env={"CHAINRULE_NUMBA": setting})
    assert result.stdout.split() == [mode, str(numba_used)]


def test_environment_switch_values():
    for raw, mode in [("", "auto"), ("1", "auto"), ("auto", "auto"), (" 0 ", "numpy"),
                      ("serial", "serial"), ("PARALLEL", "parallel")]:
        assert switch.mode_from_environment({"CHAINRULE_NUMBA": raw}) == mode
    assert switch.mode_from_environment({}) == "auto"
    with pytest.raises(ValueError, match="CHAINRULE_NUMBA='yes'"):
        switch.mode_from_environment({"CHAINRULE_NUMBA": "yes"})


def test_kernel_mode_context_manager_restores_the_previous_mode():
    before = K.get_kernel_mode()
    with pytest.raises(RuntimeError):
        with K.kernel_mode("numpy"):
            assert K.get_kernel_mode() == "numpy"
            raise RuntimeError
    assert K.get_kernel_mode() == before
    with pytest.raises(ValueError, match="unknown kernel mode 'fast'"):
        K.set_kernel_mode("fast")
    assert K.get_kernel_mode() == before


def test_kernel_mode_is_per_thread():
    # Two threads with overlapping blocks: A enters serial, B enters numpy, A leaves, B leaves.
    # With one process-wide mode, B restored the "serial" it had seen and A saw "numpy".
    import threading
    before = K.get_kernel_mode()
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, list[str]] = {"a": [], "b": []}

    def thread_a() -> None:
        with K.kernel_mode("serial"):
            a_in.set()
            b_in.wait(10)
            seen["a"].append(K.get_kernel_mode())
        seen["a"].append(K.get_kernel_mode())
        a_out.set()

    def thread_b() -> None:
        a_in.wait(10)
        with K.kernel_mode("numpy"):
            b_in.set()
            a_out.wait(10)
            seen["b"].append(K.get_kernel_mode())
        seen["b"].append(K.get_kernel_mode())

    threads = [threading.Thread(target=thread_a), threading.Thread(target=thread_b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    start = switch.mode_from_environment()  # a new thread starts from CHAINRULE_NUMBA's mode
    assert seen == {"a": ["serial", start], "b": ["numpy", start]}
    assert K.get_kernel_mode() == before


# ------------------------------------------------------------------ import and disk cache

def test_importing_compiles_nothing_and_does_not_import_numba():
    result = run_python("""
        import sys, time
        start = time.perf_counter()
        import autograd_core.kernels
        import autograd_core
        print("numba" in sys.modules, "autograd_core.kernels.compiled" in sys.modules)
    """)
    assert result.stdout.split() == ["False", "False"]


def test_second_process_loads_kernels_from_the_disk_cache(tmp_path):
    code = """
        import json
        import numpy as np
        import autograd_core.kernels as K
        from autograd_core.kernels import dispatch
        with K.kernel_mode("serial"):
            K.activation_forward("sigmoid", np.linspace(-5, 5, 11))
        kernels = dispatch.compiled_kernels()
        stats = kernels.activation_forward_serial.stats
        print(json.dumps([sum(stats.cache_hits.values()), sum(stats.cache_misses.values())]))
    """
    env = {"NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    first_hits, first_misses = json.loads(run_python(code, env).stdout)
    second_hits, second_misses = json.loads(run_python(code, env).stdout)
    assert (first_hits, first_misses) == (0, 1)
    assert (second_hits, second_misses) == (1, 0)
    assert list((tmp_path / "cache").rglob("*.nbi"))


DROP_ROOT_FILE_PRIVILEGES = """
    import ctypes, os, platform
    if os.geteuid() == 0:
        # Root ignores permission bits through CAP_DAC_OVERRIDE (and DAC_READ_SEARCH,
        # FOWNER); drop them so that a read-only directory is read-only for us too.
        class Header(ctypes.Structure):
            _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]
        class Data(ctypes.Structure):
            _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                        ("inheritable", ctypes.c_uint32)]
        capget, capset = {"x86_64": (125, 126), "aarch64": (90, 91)}[platform.machine()]
        libc = ctypes.CDLL(None, use_errno=True)
        header, data = Header(0x20080522, 0), (Data * 2)()
        assert libc.syscall(capget, ctypes.byref(header), data) == 0, ctypes.get_errno()
        for word in data:
            word.effective &= ~0b1110
            word.permitted &= ~0b1110
        assert libc.syscall(capset, ctypes.byref(header), data) == 0, ctypes.get_errno()
"""


def _make_read_only(path: Path) -> None:
    for item in [path, *path.rglob("*")]:
        item.chmod(0o555 if item.is_dir() else 0o444)


def _make_writable(path: Path) -> None:
    for item in [path, *path.rglob("*")]:
        item.chmod(stat.S_IRWXU | (item.stat().st_mode & 0o777))


def test_read_only_package_and_home_fall_back_to_a_temporary_cache(tmp_path):
    # A package of its own holding only the kernels, so nothing else can write or import.
    site = tmp_path / "site"
    package = site / "autograd_core"
    shutil.copytree(REPO / "autograd_core" / "kernels", package / "kernels",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (package / "__init__.py").write_text('"""Stand-in parent package."""\n')
    home, scratch = tmp_path / "home", tmp_path / "scratch"
    home.mkdir()
    scratch.mkdir()
    _make_read_only(site)
    _make_read_only(home)
    try:
        result = run_python(textwrap.dedent(DROP_ROOT_FILE_PRIVILEGES) + textwrap.dedent("""
            import json, os
            import numpy as np
            from autograd_core.kernels import dispatch, numba_cache
            import autograd_core.kernels as K
            source = os.path.join(os.path.dirname(K.__file__), "compiled.py")
            for directory in (os.path.dirname(source), os.path.expanduser("~")):
                try:  # the condition under test must really hold
                    open(os.path.join(directory, "probe"), "w").close()
                    raise SystemExit(f"{directory} is writable")
                except PermissionError:
                    pass
            could_cache = numba_cache.numba_can_cache(source)
            with K.kernel_mode("serial"):
                out = K.activation_forward("relu", np.array([-1.0, 2.0]))
            print(json.dumps({"could_cache": could_cache, "out": out.tolist(),
                              "cache_dir": os.environ.get("NUMBA_CACHE_DIR"),
                              "kernels_file": K.__file__}))
        """), env={"PYTHONPATH": str(site), "HOME": str(home), "TMPDIR": str(scratch),
                  "NUMBA_CACHE_DIR": None, "XDG_CACHE_HOME": None,
                  "NUMBA_CACHE_LOCATOR_CLASSES": None, "CHAINRULE_NUMBA": None},
            cwd=tmp_path)
    finally:
        _make_writable(site)
        _make_writable(home)
    report = json.loads(result.stdout)
    assert report["kernels_file"].startswith(str(site))
    assert report["could_cache"] is False
    assert report["out"] == [0.0, 2.0]
    assert report["cache_dir"].startswith(str(scratch))
    assert list(Path(report["cache_dir"]).rglob("*.nbi"))


def test_no_writable_directory_at_all_falls_back_to_numpy_with_one_warning(tmp_path):
    # The package, HOME and TMPDIR read-only. The system's own temp dirs (/tmp) cannot be made
    # read-only from a test, so tempfile's candidate list is cut down to TMPDIR and the
    # (read-only) working directory: then tempfile finds "No usable temporary directory",
    # which used to escape from the first Numba-sized op as FileNotFoundError.
    site = tmp_path / "site"
    package = site / "autograd_core"
    shutil.copytree(REPO / "autograd_core", package,
                    ignore=shutil.ignore_patterns("__pycache__"))
    home, scratch = tmp_path / "home", tmp_path / "scratch"
    home.mkdir()
    scratch.mkdir()
    for directory in (site, home, scratch):
        _make_read_only(directory)
    try:
        result = run_python(textwrap.dedent(DROP_ROOT_FILE_PRIVILEGES) + textwrap.dedent("""
            import json, os, tempfile, warnings
            tempfile.tempdir = None
            tempfile._candidate_tempdir_list = lambda: [os.environ["TMPDIR"], os.getcwd()]
            try:
                tempfile.gettempdir()
                raise SystemExit("a temporary directory is usable")
            except FileNotFoundError:
                pass
            import numpy as np
            import autograd_core.kernels as K
            from autograd_core import Tensor
            x = np.linspace(-1.0, 1.0, 10_000)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                with K.kernel_mode("serial"):
                    relu = K.activation_forward("relu", x)
                    soft = K.softmax(x.reshape(100, 100), 1)
                t = Tensor(x, requires_grad=True)
                t.sigmoid().sum().backward()  # auto mode: Numba-sized
            print(json.dumps({
                "relu_ok": bool(np.array_equal(relu, np.maximum(x, 0))),
                "soft_ok": bool(np.allclose(soft.sum(axis=1), 1.0)),
                "grad_ok": bool(np.allclose(t.grad, 1 / (1 + np.exp(-x)) * (1 - 1 / (1 + np.exp(-x))))),
                "warnings": [str(w.message) for w in caught],
                "kernels_file": K.__file__}))
        """), env={"PYTHONPATH": str(site), "HOME": str(home), "TMPDIR": str(scratch),
                  "NUMBA_CACHE_DIR": None, "XDG_CACHE_HOME": None,
                  "NUMBA_CACHE_LOCATOR_CLASSES": None, "CHAINRULE_NUMBA": None},
            cwd=home)
    finally:
        for directory in (site, home, scratch):
            _make_writable(directory)
    report = json.loads(result.stdout)
    assert report["kernels_file"].startswith(str(site))
    assert report["relu_ok"] and report["soft_ok"] and report["grad_ok"]
    assert len(report["warnings"]) == 1, report["warnings"]
    assert "NUMBA_CACHE_DIR" in report["warnings"][0]
    assert "numpy" in report["warnings"][0]


def test_cache_dir_left_alone_when_numba_can_cache_or_the_user_chose(monkeypatch, tmp_path):
    source = str(REPO / "autograd_core" / "kernels" / "compiled.py")
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    assert numba_cache.ensure_numba_cache_dir(source) is None
    monkeypatch.delenv("NUMBA_CACHE_DIR")
    monkeypatch.setattr(numba_cache, "numba_can_cache", lambda path: True)
    assert numba_cache.ensure_numba_cache_dir(source) is None
    assert "NUMBA_CACHE_DIR" not in os.environ


def test_private_temp_cache_dir_refuses_a_directory_others_can_write(monkeypatch, tmp_path):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    uid = os.getuid()
    shared = tmp_path / f"chainrule-numba-cache-{uid}"
    assert numba_cache.private_temp_cache_dir() == str(shared)
    assert stat.S_IMODE(shared.stat().st_mode) == 0o700
    shared.chmod(0o777)
    fresh = numba_cache.private_temp_cache_dir()
    assert fresh != str(shared) and Path(fresh).is_dir()


# ---------------------------------------------------------------------- input checking

X = np.zeros((2, 3))
LABELS = np.array([0, 2])


@pytest.mark.parametrize("call, error, message", [
    (lambda: K.activation_forward("relu", [1.0, 2.0]), TypeError, "x must be a numpy.ndarray"),
    (lambda: K.activation_forward("relu", np.arange(3)), TypeError, "float32 or float64"),
    (lambda: K.activation_forward("swish", X), ValueError, "unknown activation 'swish'"),
    (lambda: K.activation_forward("relu", X, 0.1), ValueError, "takes no parameter"),
    (lambda: K.activation_forward("elu", X, float("nan")), ValueError, "param must be finite"),
    (lambda: K.activation_forward("elu", X, "1"), TypeError, "param must be a real number"),
    (lambda: K.activation_backward("tanh", X, X, np.zeros(3)), ValueError, "grad has shape"),
    (lambda: K.activation_backward("tanh", X, X.astype(np.float32), X), TypeError,
     "out has dtype float32"),
    (lambda: K.softmax(X, 2), ValueError, "axis 2 is out of range"),
    (lambda: K.softmax(X, 1.0), TypeError, "axis must be an int"),
    (lambda: K.softmax(X, True), TypeError, "axis must be an int"),
    (lambda: K.softmax(np.array(1.0), 0), ValueError, "0-d array"),
    (lambda: K.log_softmax(np.zeros((2, 0)), 1), ValueError, "has length 0"),
    (lambda: K.softmax_backward(X, X.T, 0), ValueError, "grad has shape"),
    (lambda: K.log_softmax_backward(X, X, -3), ValueError, "out of range"),
    (lambda: K.softmax_cross_entropy(np.zeros(3), LABELS), ValueError, r"shape \(n, C\)"),
    (lambda: K.softmax_cross_entropy(X, np.array([0, 3])), ValueError, r"lie in \[0, 3\)"),
    (lambda: K.softmax_cross_entropy(X, np.array([0, -1])), ValueError, "lie in"),
    (lambda: K.softmax_cross_entropy(X, np.array([0.0, 1.0])), TypeError, "integer dtype"),
    (lambda: K.softmax_cross_entropy(X, np.array([0, 1, 2])), ValueError, "3 labels for 2 rows"),
    (lambda: K.softmax_cross_entropy(X, [0, 1]), TypeError, "targets must be a numpy"),
    (lambda: K.softmax_cross_entropy(X, np.full((2, 3), 0.5)), ValueError,
     r"probability targets must sum to 1 in every row, but row 0 sums to 1.5 \(allowed: 1 \+- "),
    (lambda: K.softmax_cross_entropy(X.astype(np.float32),
                                     np.array([[0.2, 0.8, 0.0], [0.1, 0.0, 0.0]], np.float32)),
     ValueError, "but row 1 sums to 0.1 "),
    (lambda: K.softmax_cross_entropy(X, np.array([[1.5, -0.5, 0], [1, 0, 0]])), ValueError,
     "non-negative"),
    (lambda: K.softmax_cross_entropy(X, np.ones((2, 2))), ValueError, r"expected \(2, 3\)"),
    (lambda: K.softmax_cross_entropy_backward(X, LABELS, float("inf")), ValueError,
     "grad must be finite"),
    (lambda: K.softmax_cross_entropy_backward(X, LABELS, np.ones(2)), TypeError,
     "grad must be a real number"),
    (lambda: K.unbroadcast(X, (4,)), ValueError, "does not broadcast"),
    (lambda: K.unbroadcast(X, (1, 2, 3)), ValueError, "larger-rank"),
    (lambda: K.unbroadcast(X, (2, -3)), ValueError, "negative size"),
    (lambda: K.unbroadcast(X, "23"), TypeError, "tuple of ints"),
    (lambda: K.unbroadcast(np.zeros(3, np.int64), (1,)), TypeError, "float32 or float64"),
    (lambda: K.affine(X, np.ones(3)), ValueError, r"weight must have shape \(out_features, in_features\), got \(3,\)"),
    (lambda: K.affine(X, np.ones((4, 2))), ValueError,
     r"x of shape \(2, 3\) does not fit weight of shape \(4, 2\): its last dimension must be in_features = 2"),
    (lambda: K.affine(X, np.ones((4, 3), np.float32)), TypeError, "x has dtype float64 but weight has dtype float32"),
    (lambda: K.affine(X, np.ones((4, 3)), np.ones(3)), ValueError, r"bias has shape \(3,\), expected \(4,\)"),
    (lambda: K.affine(X, np.ones((4, 3)), np.ones(4, np.float32)), TypeError, "bias has dtype float32"),
    (lambda: K.affine(X, np.ones((4, 3)), [1.0, 2.0, 3.0, 4.0]), TypeError, "bias must be a numpy.ndarray"),
    (lambda: K.affine(np.ones((2, 3), np.int64), np.ones((4, 3))), TypeError, "x must have dtype float32 or float64"),
])
def test_bad_inputs_raise_clear_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("mode", ["numpy", *KERNEL_MODES])
def test_contract_details(mode):
    x32 = np.linspace(-2, 2, 6, dtype=np.float32).reshape(2, 3)
    with K.kernel_mode(mode):
        assert K.unbroadcast(x32, (2, 3)) is x32  # the gradient itself when shapes match
        assert K.activation_forward("tanh", x32).dtype == np.float32
        loss, probs = K.softmax_cross_entropy(x32, np.array([0, 2], dtype=np.uint8))
        assert isinstance(loss, float) and probs.dtype == np.float32
        scalar = K.activation_forward("sigmoid", np.array(0.0))
        assert isinstance(scalar, np.ndarray) and scalar.shape == () and scalar == 0.5
        empty = K.activation_forward("relu", np.zeros((0, 3)))
        assert empty.shape == (0, 3)
