"""`nn.functional` against `torch.nn.functional`: values and gradients (input and target), in
float64 and float32, for every reduction, on Tensors and on the scalar side (Values and lists of
Values), at the edges (BCE at probabilities exactly 0 and 1, logits of large magnitude); and one
validation of the targets per cross-entropy training step.

Every expected number comes from PyTorch or from a hand derivation written in the test.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import autograd_core.kernels as kernels
from autograd_core import Tensor, Value, sum_values
from autograd_core.kernels import checks as kernel_checks
from nn import SGD, TensorMLP, losses
from nn import functional as F
from nn.layers import linear as layers_linear

DTYPES = [np.float64, np.float32]
TORCH_DTYPE = {np.float64: torch.float64, np.float32: torch.float32}
# Values: the same formula in the same dtype, up to the order of a sum. Gradients: one or two
# more roundings (a division by n, a product with the upstream gradient).
VALUE_TOL = {np.float64: dict(rtol=1e-12, atol=1e-14), np.float32: dict(rtol=2e-6, atol=1e-6)}
GRAD_TOL = {np.float64: dict(rtol=1e-10, atol=1e-14), np.float32: dict(rtol=1e-5, atol=1e-5)}
REDUCTIONS = ["mean", "sum", "none"]
UPSTREAM = 0.75  # dL/d(loss) for "mean" and "sum"; "none" gets a different number per element

shapes = st.sampled_from([(1,), (5,), (3, 4), (2, 3, 2)])
moderate = st.floats(-5.0, 5.0, allow_nan=False, allow_infinity=False)
unit = st.floats(0.0, 1.0)
# Probabilities with the edges 0 and 1 (torch clamps each log at -100) and their neighbours.
probability = st.one_of(st.sampled_from([0.0, 1.0, 1e-300, 1e-8, 0.5, 1 - 1e-8]), unit)
# Logits of every magnitude: e^z overflows from 710, sigmoid saturates from ~37 (float64).
logit = st.one_of(st.floats(-60.0, 60.0), st.sampled_from([0.0, 745.0, -745.0, 1e3, -1e3, 1e4, -1e4]))
ties = st.one_of(moderate, st.sampled_from([0.0, 1.0]))  # l1's sign is 0 where input == target
sign = st.sampled_from([-1.0, 1.0])


def pairs(x_elements, t_elements):
    """(input, target) float64 arrays of one drawn shape."""
    return shapes.flatmap(lambda shape: st.tuples(arrays(np.float64, shape, elements=x_elements),
                                                  arrays(np.float64, shape, elements=t_elements)))


def upstream_for(shape, reduction, dtype):
    """dL/d(out): UPSTREAM for a reduced loss, else 0.5, 1.0, 1.5, ... over the elements."""
    if reduction != "none":
        return np.asarray(UPSTREAM, dtype)
    return (0.5 * np.arange(1, int(np.prod(shape)) + 1)).reshape(shape).astype(dtype)


def torch_loss(name):
    """torch's function for our loss `name`, taking the reduction as a keyword."""
    if name == "hinge":  # the lecture's hinge: relu(1 - y s), reduced like the others
        def hinge(s, y, reduction):
            terms = torch.relu(1.0 - y * s)
            return terms.mean() if reduction == "mean" else terms.sum() if reduction == "sum" else terms
        return hinge
    return getattr(TF, name)


# name, input elements, target elements, whether the target is differentiated
POINTWISE = [
    ("mse_loss", moderate, moderate, True),
    ("l1_loss", ties, ties, True),
    ("binary_cross_entropy", probability, unit, True),
    ("binary_cross_entropy_with_logits", logit, unit, True),
    ("hinge", moderate, sign, False),
]


def run_ours_on_tensors(name, x, t, dtype, reduction, target_grad):
    X = Tensor(x, requires_grad=True, dtype=dtype)
    T = Tensor(t, requires_grad=target_grad, dtype=dtype)
    out = getattr(F, name)(X, T, reduction=reduction)
    out.backward(upstream_for(out.shape, reduction, dtype))
    assert out.dtype == dtype and X.grad.dtype == dtype
    return out.data, X.grad, T.grad


def run_torch(name, x, t, dtype, reduction, target_grad):
    X = torch.tensor(np.asarray(x, dtype), requires_grad=True)
    T = torch.tensor(np.asarray(t, dtype), requires_grad=target_grad)
    out = torch_loss(name)(X, T, reduction=reduction)
    out.backward(torch.tensor(upstream_for(tuple(out.shape), reduction, dtype)))
    return out.detach().numpy(), X.grad.numpy(), None if T.grad is None else T.grad.numpy()


def assert_matches(ours, theirs, dtype):
    (out, grad_x, grad_t), (expected, expected_x, expected_t) = ours, theirs
    np.testing.assert_allclose(out, expected, **VALUE_TOL[dtype])
    np.testing.assert_allclose(grad_x, expected_x, **GRAD_TOL[dtype])
    if expected_t is None:
        assert grad_t is None
    else:
        np.testing.assert_allclose(grad_t, expected_t, **GRAD_TOL[dtype])


# -- pointwise losses on Tensors --------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name, x_elements, t_elements, target_grad", POINTWISE,
                         ids=[case[0] for case in POINTWISE])
@given(data=st.data())
def test_pointwise_losses_on_tensors_match_torch(name, x_elements, t_elements, target_grad,
                                                 reduction, dtype, data):
    x, t = data.draw(pairs(x_elements, t_elements))
    with np.errstate(over="ignore", under="ignore"):  # 1e-300 in float32 is 0, as in torch
        x, t = x.astype(dtype), t.astype(dtype)
    assert_matches(run_ours_on_tensors(name, x, t, dtype, reduction, target_grad),
                   run_torch(name, x, t, dtype, reduction, target_grad), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@given(pair=pairs(moderate, moderate))
def test_sse_is_torchs_summed_squared_error(dtype, pair):
    x, t = (a.astype(dtype) for a in pair)
    X, T = Tensor(x, True, dtype), Tensor(t, True, dtype)
    out = F.sse(X, T)
    out.backward()
    tx, tt = torch.tensor(x, requires_grad=True), torch.tensor(t, requires_grad=True)
    expected = TF.mse_loss(tx, tt, reduction="sum")
    expected.backward()
    np.testing.assert_allclose(out.item(), expected.item(), **VALUE_TOL[dtype])
    np.testing.assert_allclose(X.grad, tx.grad.numpy(), **GRAD_TOL[dtype])
    np.testing.assert_allclose(T.grad, tt.grad.numpy(), **GRAD_TOL[dtype])


def test_l1_loss_is_torchs_mean_while_the_lectures_l1_is_the_sum():
    x, t = [0.1, 0.7, 0.2], [0.0, 1.0, 0.0]
    # Hand: |0.1| + |-0.3| + |0.2| = 0.6; torch's l1_loss is its mean 0.2.
    assert F.l1_loss(Tensor(x), Tensor(t)).item() == pytest.approx(0.2, rel=1e-15)
    assert losses.l1(Tensor(x), Tensor(t)).item() == pytest.approx(0.6, rel=1e-15)
    assert F.l1_loss([Value(v) for v in x], t).data == pytest.approx(0.2, rel=1e-15)
    assert F.l1_loss(Tensor(x), Tensor(t), reduction="sum").item() == pytest.approx(0.6, rel=1e-15)


def test_a_tensor_loss_is_one_elementwise_node_and_its_reduction():
    x = Tensor([0.5, 1.0], requires_grad=True)
    out = F.mse_loss(x, Tensor([0.0, 0.0]))
    assert out.op == "mean" and out.parents[0].op == "squared_error"
    assert F.mse_loss(x, [0.0, 0.0], reduction="none").op == "squared_error"
    z = Tensor(np.zeros((2, 3)), requires_grad=True)
    ce = F.cross_entropy(z, np.array([0, 2]))
    assert ce.op == "cross_entropy" and ce.parents == (z,)  # the fused kernel: one node


# -- pointwise losses on Values --------------------------------------------------------------------------

def run_ours_on_values(name, x, t, reduction, target_grad):
    X = [Value(float(v)) for v in x]
    T = [Value(float(v)) for v in t]
    out = getattr(F, name)(X, T, reduction=reduction)
    g = upstream_for(x.shape, reduction, np.float64)
    if reduction == "none":
        assert isinstance(out, list) and len(out) == len(X)
        sum_values(o * float(gi) for o, gi in zip(out, g)).backward()
        value = np.array([o.data for o in out])
    else:
        assert isinstance(out, Value)
        out.backward(float(g))
        value = out.data
    grad_t = np.array([v.grad for v in T]) if target_grad else None
    return value, np.array([v.grad for v in X]), grad_t


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name, x_elements, t_elements, target_grad", POINTWISE,
                         ids=[case[0] for case in POINTWISE])
@given(data=st.data())
def test_pointwise_losses_on_values_match_torch(name, x_elements, t_elements, target_grad,
                                                reduction, data):
    x, t = data.draw(shapes.flatmap(lambda shape: st.tuples(
        arrays(np.float64, shape[-1:], elements=x_elements),
        arrays(np.float64, shape[-1:], elements=t_elements))))
    ours = run_ours_on_values(name, x, t, reduction, target_grad)
    theirs = run_torch(name, x, t, np.float64, reduction, target_grad)
    assert_matches(ours, theirs[:2] + ((theirs[2] if target_grad else None),), np.float64)


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "binary_cross_entropy",
                                  "binary_cross_entropy_with_logits", "hinge"])
def test_a_single_value_is_a_one_element_loss(name):
    x, t = (0.25, 1.0)
    X = Value(x)
    out = getattr(F, name)(X, t)
    out.backward()
    tx = torch.tensor([x], dtype=torch.float64, requires_grad=True)
    expected = torch_loss(name)(tx, torch.tensor([t], dtype=torch.float64), reduction="mean")
    expected.backward()
    assert out.data == pytest.approx(expected.item(), rel=1e-14)
    assert X.grad == pytest.approx(tx.grad.item(), rel=1e-14)
    assert isinstance(getattr(F, name)(X, t, reduction="none"), Value)


def test_the_hinge_labels_get_no_gradient_on_either_side():
    s, y = Tensor([0.5, -0.2], requires_grad=True), Tensor([1.0, -1.0], requires_grad=True)
    F.hinge(s, y).backward()
    assert y.grad is None
    # Hand: margins 1 - 0.5 = 0.5 and 1 - 0.2 = 0.8, both active: dL/ds = -y / 2.
    np.testing.assert_allclose(s.grad, [-0.5, 0.5], rtol=1e-15)
    label = Value(-1.0)
    score = Value(0.5)
    F.hinge(score, label).backward()
    assert label.grad == 0.0 and score.grad == 1.0  # margin 1.5 > 0: dL/ds = -y = 1


# -- the edges ------------------------------------------------------------------------------------------

EDGE_H = [0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.5]
EDGE_T = [0.0, 1.0, 0.0, 1.0, 0.25, 0.75, 0.5]


@pytest.mark.parametrize("dtype", DTYPES)
def test_binary_cross_entropy_at_probabilities_0_and_1_matches_torch_on_both_sides(dtype):
    h, t = np.array(EDGE_H, dtype), np.array(EDGE_T, dtype)
    for reduction in REDUCTIONS:
        expected = run_torch("binary_cross_entropy", h, t, dtype, reduction, True)
        assert_matches(run_ours_on_tensors("binary_cross_entropy", h, t, dtype, reduction, True),
                       expected, dtype)
        if dtype == np.float64:
            assert_matches(run_ours_on_values("binary_cross_entropy", h, t, reduction, True),
                           expected, dtype)
    # By hand (n = 7): each log clamped at -100, so the loss is (100 + 100 + 100 * 0.25 ...)/7;
    # dL/dh divides by max(h (1 - h), eps), eps = float32(1e-12) = 9.999999960041972e-13.
    out, grad_h, grad_t = run_ours_on_tensors("binary_cross_entropy", h, t, dtype, "none", True)
    assert out.tolist()[:4] == [0.0, 100.0, 100.0, 0.0]
    eps = 9.999999960041972e-13
    g = upstream_for((7,), "none", dtype)
    np.testing.assert_allclose(grad_h[:4], [0.0, -g[1] / eps, g[2] / eps, 0.0], rtol=1e-6)
    assert np.isposinf(grad_t[[0, 1, 4]]).all() and np.isneginf(grad_t[[2, 3, 5]]).all()


def test_scalar_and_tensor_binary_cross_entropy_agree_at_the_edges():
    h, t = EDGE_H, EDGE_T
    values = [Value(v) for v in h]
    scalar = F.binary_cross_entropy(values, t)
    scalar.backward()
    tensor_h = Tensor(h, requires_grad=True)
    tensor = F.binary_cross_entropy(tensor_h, Tensor(t))
    tensor.backward()
    assert scalar.data == pytest.approx(tensor.item(), rel=1e-15)
    np.testing.assert_allclose([v.grad for v in values], tensor_h.grad, rtol=1e-15)


def test_a_saturated_sigmoid_gives_a_finite_binary_cross_entropy_on_values_like_torch():
    # sigmoid(40) rounds to 1.0 in float64: against t = 0 the loss is the clamped 100.
    z = Value(40.0)
    loss = F.binary_cross_entropy(z.sigmoid(), 0.0)
    loss.backward()
    tz = torch.tensor(40.0, dtype=torch.float64, requires_grad=True)
    expected = TF.binary_cross_entropy(torch.sigmoid(tz), torch.tensor(0.0, dtype=torch.float64))
    expected.backward()
    assert loss.data == expected.item() == 100.0
    assert z.grad == pytest.approx(tz.grad.item(), rel=1e-12, abs=1e-300)


@pytest.mark.parametrize("dtype", DTYPES)
def test_binary_cross_entropy_with_logits_of_large_magnitude_matches_torch(dtype):
    z = np.array([1e4, -1e4, 1e3, -1e3, 800.0, -800.0, 40.0, -40.0, 0.0], dtype)
    t = np.array([0.0, 1.0, 1.0, 0.0, 0.5, 0.5, 1.0, 0.0, 0.25], dtype)
    for reduction in REDUCTIONS:
        expected = run_torch("binary_cross_entropy_with_logits", z, t, dtype, reduction, True)
        ours = run_ours_on_tensors("binary_cross_entropy_with_logits", z, t, dtype, reduction, True)
        assert np.all(np.isfinite(ours[0])) and np.all(np.isfinite(ours[1]))
        assert_matches(ours, expected, dtype)
        if dtype == np.float64:
            assert_matches(run_ours_on_values("binary_cross_entropy_with_logits", z, t, reduction, True),
                           expected, dtype)
    # By hand, per element max(z, 0) - t z + log(1 + e^-|z|): z = 1e4, t = 0 gives 1e4;
    # z = -1e4, t = 1 gives 1e4; z = 0, t = 0.25 gives log 2; dL/dz at 0 is sigmoid(0) - t.
    out, grad_z, _ = run_ours_on_tensors("binary_cross_entropy_with_logits", z, t, dtype, "none", True)
    assert out[0] == out[1] == 1e4 and out[8] == pytest.approx(math.log(2), rel=1e-6)
    assert grad_z[8] == pytest.approx((0.5 - 0.25) * 4.5, rel=1e-6)  # upstream 4.5 for element 9


# -- cross-entropy ----------------------------------------------------------------------------------------

@st.composite
def logits_and_targets(draw, probabilities):
    n, classes = draw(st.integers(1, 6)), draw(st.integers(1, 5))
    logits = draw(arrays(np.float64, (n, classes), elements=st.floats(-30.0, 30.0)))
    if probabilities:
        raw = draw(arrays(np.float64, (n, classes), elements=st.floats(0.01, 1.0)))
        return logits, raw / raw.sum(axis=1, keepdims=True)
    return logits, np.array(draw(st.lists(st.integers(0, classes - 1), min_size=n, max_size=n)), np.int64)


def run_cross_entropy(z, target, dtype, reduction, ours):
    """(loss, dL/dz, dL/dtarget or None) from ours or torch, upstream as for the other losses."""
    probabilities = target.dtype.kind == "f"
    if ours:
        Z = Tensor(z, requires_grad=True, dtype=dtype)
        T = Tensor(target, requires_grad=True, dtype=dtype) if probabilities else target
        out = F.cross_entropy(Z, T, reduction=reduction)
        out.backward(upstream_for(out.shape, reduction, dtype))
        assert out.dtype == dtype and Z.grad.dtype == dtype
        return out.data, Z.grad, T.grad if probabilities else None
    Z = torch.tensor(np.asarray(z, dtype), requires_grad=True)
    T = torch.tensor(np.asarray(target, dtype), requires_grad=True) if probabilities else torch.tensor(target)
    out = TF.cross_entropy(Z, T, reduction=reduction)
    out.backward(torch.tensor(upstream_for(tuple(out.shape), reduction, dtype)))
    return out.detach().numpy(), Z.grad.numpy(), T.grad.numpy() if probabilities else None


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("probabilities", [False, True], ids=["labels", "probabilities"])
@given(data=st.data())
def test_cross_entropy_on_tensors_matches_torch(probabilities, reduction, dtype, data):
    z, target = data.draw(logits_and_targets(probabilities))
    z = z.astype(dtype)
    target = target.astype(dtype) if probabilities else target
    assert_matches(run_cross_entropy(z, target, dtype, reduction, ours=True),
                   run_cross_entropy(z, target, dtype, reduction, ours=False), dtype)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_of_one_sample_matches_torch(reduction):
    logits = np.array([0.2, -1.0, 2.5])
    tz = torch.tensor(logits, requires_grad=True)
    expected = TF.cross_entropy(tz, torch.tensor(2), reduction=reduction)
    expected.backward()
    for target in (2, [0.0, 0.0, 1.0]):
        z = Tensor(logits, requires_grad=True)
        out = F.cross_entropy(z, target, reduction=reduction)
        out.backward()
        assert out.shape == () and out.item() == pytest.approx(expected.item(), rel=1e-14)
        np.testing.assert_allclose(z.grad, tz.grad.numpy(), rtol=1e-12)
        values = [Value(v) for v in logits]
        scalar = F.cross_entropy(values, target, reduction=reduction)
        scalar.backward()
        assert scalar.data == pytest.approx(expected.item(), rel=1e-14)
        np.testing.assert_allclose([v.grad for v in values], tz.grad.numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("probabilities", [False, True], ids=["labels", "probabilities"])
@given(data=st.data())
def test_cross_entropy_on_values_matches_torch(probabilities, reduction, data):
    z, target = data.draw(logits_and_targets(probabilities))
    rows = [[Value(float(v)) for v in row] for row in z]
    scalar_targets = target.tolist()
    out = F.cross_entropy(rows, scalar_targets, reduction=reduction)
    g = upstream_for((len(z),), reduction, np.float64)
    if reduction == "none":
        sum_values(o * float(gi) for o, gi in zip(out, g)).backward()
        value = np.array([o.data for o in out])
    else:
        out.backward(float(g))
        value = out.data
    expected, expected_z, _ = run_cross_entropy(z, target, np.float64, reduction, ours=False)
    np.testing.assert_allclose(value, expected, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose([[v.grad for v in row] for row in rows], expected_z, rtol=1e-10, atol=1e-14)


def test_cross_entropy_on_values_and_on_tensors_agree_for_a_mixed_batch():
    logits = [[1.0, 2.0, 0.5], [-1.0, 0.0, 3.0], [0.2, 0.2, 0.2]]
    rows = [[Value(v) for v in row] for row in logits]
    scalar = F.cross_entropy(rows, [2, [0.0, 1.0, 0.0], [0.5, 0.25, 0.25]])
    scalar.backward()
    z = Tensor(logits, requires_grad=True)
    tensor = F.cross_entropy(z, np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [0.5, 0.25, 0.25]]))
    tensor.backward()
    assert scalar.data == pytest.approx(tensor.item(), rel=1e-14)
    np.testing.assert_allclose([[v.grad for v in row] for row in rows], z.grad, rtol=1e-12, atol=1e-16)


# -- validation: once per step, at the public entry ---------------------------------------------------------

def count_calls(monkeypatch, module, name):
    """The argument tuples of every later call of ``module.name``."""
    calls = []
    original = getattr(module, name)

    def counting(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)
    monkeypatch.setattr(module, name, counting)
    return calls


def test_a_cross_entropy_training_step_validates_its_targets_once(monkeypatch):
    rng = np.random.default_rng(0)
    X, y = Tensor(rng.normal(size=(150, 4))), rng.integers(0, 3, 150)
    model = TensorMLP([4, 16, 16, 3], seed=0)
    optimizer = SGD(model.parameters(), lr=0.01)
    targets = count_calls(monkeypatch, kernel_checks, "check_targets")
    logits_checked = count_calls(monkeypatch, kernel_checks, "check_logits")
    routed = count_calls(monkeypatch, kernels, "route")
    for step in range(1, 4):
        loss = F.cross_entropy(model(X), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        assert len(targets) == step  # once per step: at the loss's entry, not in the kernels
    assert all(call[0] == "cross_entropy" for call in targets)  # named after the public function
    # The kernels themselves re-check nothing, and each is dispatched once per pass.
    assert logits_checked == []
    assert [call[0] for call in routed if "cross_entropy" in call[0]] == \
        ["cross_entropy", "cross_entropy_backward"] * 3


def test_the_unchecked_kernels_compute_what_the_checked_ones_do():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(7, 4))
    for targets in (rng.integers(0, 4, 7), rng.dirichlet(np.ones(4), 7)):
        checked = kernel_checks.check_targets("test", targets, 7, 4, logits.dtype)
        loss, probs = kernels.softmax_cross_entropy(logits, targets)
        unchecked_loss, unchecked_probs = kernels.softmax_cross_entropy_unchecked(logits, checked)
        assert unchecked_loss == loss
        np.testing.assert_array_equal(unchecked_probs, probs)
        np.testing.assert_array_equal(
            kernels.softmax_cross_entropy_backward_unchecked(probs, checked, 0.5),
            kernels.softmax_cross_entropy_backward(probs, targets, 0.5))


# -- elementwise functions, softmax, linear ----------------------------------------------------------

ACTIVATIONS = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@given(x=shapes.flatmap(lambda shape: arrays(np.float64, shape, elements=st.one_of(
    st.floats(-40.0, 40.0), st.just(0.0)))))
def test_activations_on_tensors_match_torch(name, dtype, x):
    x = x.astype(dtype)
    X = Tensor(x, requires_grad=True, dtype=dtype)
    out = getattr(F, name)(X)
    g = upstream_for(x.shape, "none", dtype)
    out.backward(g)
    tx = torch.tensor(x, requires_grad=True)
    expected = ACTIVATIONS[name](tx)
    expected.backward(torch.tensor(g))
    np.testing.assert_allclose(out.data, expected.detach().numpy(), **VALUE_TOL[dtype])
    np.testing.assert_allclose(X.grad, tx.grad.numpy(), **GRAD_TOL[dtype])


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@given(x=st.lists(st.one_of(st.floats(-40.0, 40.0), st.just(0.0)), min_size=1, max_size=5))
def test_activations_on_values_and_lists_match_torch(name, x):
    values = [Value(v) for v in x]
    outs = getattr(F, name)(values)
    sum_values(outs).backward()
    tx = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    expected = ACTIVATIONS[name](tx)
    expected.sum().backward()
    np.testing.assert_allclose([o.data for o in outs], expected.detach().numpy(), rtol=1e-14, atol=1e-16)
    np.testing.assert_allclose([v.grad for v in values], tx.grad.numpy(), rtol=1e-14, atol=1e-16)
    single = Value(x[0])
    assert getattr(F, name)(single).data == outs[0].data


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@given(data=st.data())
def test_softmax_and_log_softmax_on_tensors_match_torch_along_any_dim(name, dtype, data):
    shape = data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple))
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = data.draw(arrays(np.float64, shape, elements=st.floats(-30.0, 30.0))).astype(dtype)
    X = Tensor(x, requires_grad=True, dtype=dtype)
    out = getattr(F, name)(X, dim)
    g = upstream_for(x.shape, "none", dtype)
    g /= g.max()  # log_softmax's g - e^y sum(g) cancels: keep float32's rounding of it small
    out.backward(g)
    tx = torch.tensor(x, requires_grad=True)
    expected = getattr(TF, name)(tx, dim=dim)
    expected.backward(torch.tensor(g))
    np.testing.assert_allclose(out.data, expected.detach().numpy(), **VALUE_TOL[dtype])
    np.testing.assert_allclose(X.grad, tx.grad.numpy(), **GRAD_TOL[dtype])


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_softmax_without_dim_picks_torchs_implicit_dim_and_warns(name, ndim):
    shape = {1: (24,), 2: (4, 6), 3: (2, 3, 4)}[ndim]
    x = np.arange(24, dtype=np.float64).reshape(shape) / 7
    with pytest.warns(UserWarning, match="Implicit dimension choice"):
        ours = getattr(F, name)(Tensor(x))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = getattr(TF, name)(torch.tensor(x))
    np.testing.assert_allclose(ours.data, expected.numpy(), rtol=1e-14)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@given(x=st.lists(st.floats(-30.0, 30.0), min_size=1, max_size=5))
def test_softmax_and_log_softmax_of_a_list_of_values_match_torch(name, x):
    values = [Value(v) for v in x]
    outs = getattr(F, name)(values, dim=0)
    weights = [0.5 * (i + 1) for i in range(len(x))]
    sum_values(o * w for o, w in zip(outs, weights)).backward()
    tx = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    expected = getattr(TF, name)(tx, dim=0)
    (expected * torch.tensor(weights, dtype=torch.float64)).sum().backward()
    np.testing.assert_allclose([o.data for o in outs], expected.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose([v.grad for v in values], tx.grad.numpy(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_torch(dtype, bias):
    rng = np.random.default_rng(2)
    x, w, b = rng.normal(size=(5, 3)), rng.normal(size=(4, 3)), rng.normal(size=4)
    X, W = Tensor(x, True, dtype), Tensor(w, True, dtype)
    B = Tensor(b, True, dtype) if bias else None
    out = F.linear(X, W, B)
    g = upstream_for((5, 4), "none", dtype)
    out.backward(g)
    tx, tw = (torch.tensor(a.astype(dtype), requires_grad=True) for a in (x, w))
    tb = torch.tensor(b.astype(dtype), requires_grad=True) if bias else None
    expected = TF.linear(tx, tw, tb)
    expected.backward(torch.tensor(g))
    np.testing.assert_allclose(out.data, expected.detach().numpy(), **VALUE_TOL[dtype])
    for ours, theirs in [(X, tx), (W, tw)] + ([(B, tb)] if bias else []):
        np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), **GRAD_TOL[dtype])
    assert F.linear is layers_linear


# -- errors ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("call, error, message", [
    (lambda: F.mse_loss(Tensor([1.0]), Tensor([1.0]), reduction="avg"), ValueError,
     "mse_loss: reduction must be 'mean', 'sum' or 'none', got 'avg'"),
    (lambda: F.cross_entropy([1.0, 2.0], 0, reduction=None), ValueError, "cross_entropy: reduction must be"),
    (lambda: F.mse_loss(Tensor([1.0]), Tensor([1.0]), "sum"), TypeError, "positional"),
    (lambda: F.l1_loss(Tensor(np.ones((4, 1))), Tensor(np.ones(4))), ValueError,
     r"l1_loss: input has shape \(4, 1\) but target has shape \(4,\)"),
    (lambda: F.binary_cross_entropy([Value(1.5)], [1.0]), ValueError,
     r"binary_cross_entropy: input must hold probabilities in \[0, 1\], but element 0 is 1.5"),
    (lambda: F.hinge(Tensor([0.5]), Tensor([0.0])), ValueError, "hinge: target must hold labels -1 or \\+1"),
    (lambda: F.cross_entropy(Tensor(np.zeros((2, 3))), np.array([0, 3])), ValueError,
     r"cross_entropy: labels must lie in \[0, 3\), got values from 0 to 3"),
    (lambda: F.relu("x"), TypeError, "relu: input must be a Tensor, a Value or a list of Values, got str"),
    (lambda: F.tanh([Value(1.0), "a"]), TypeError, r"tanh: input\[1\] must be a Value or a number, got str"),
    (lambda: F.softmax([Value(1.0)], dim=1), ValueError, "softmax: a list of Values has one dimension"),
    (lambda: F.log_softmax(Tensor(np.zeros((2, 2))), dim=2), ValueError, "axis 2"),
])
def test_bad_inputs_raise_errors_naming_the_function_and_the_problem(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "binary_cross_entropy",
                                  "binary_cross_entropy_with_logits", "hinge", "cross_entropy"])
def test_every_loss_differentiates_twice_like_torch(name):
    """The Hessian of each loss (mean reduction) w.r.t. its input equals torch's, in float64."""
    from autograd_core import hessian
    rng = np.random.default_rng(3)
    if name == "cross_entropy":
        x0, target = rng.normal(size=(4, 3)), np.array([0, 2, 1, 1])
        torch_target = torch.tensor(target)
    elif name == "binary_cross_entropy":
        x0, target = rng.uniform(0.1, 0.9, size=5), rng.uniform(0.0, 1.0, size=5)
        torch_target = torch.tensor(target)
    elif name == "binary_cross_entropy_with_logits":
        x0, target = rng.normal(size=5), rng.uniform(0.0, 1.0, size=5)
        torch_target = torch.tensor(target)
    elif name == "hinge":
        x0, target = rng.normal(size=5), np.array([1.0, -1.0, 1.0, 1.0, -1.0])
        torch_target = None
    else:
        x0, target = rng.normal(size=5), rng.normal(size=5)
        torch_target = torch.tensor(target)
    ours = hessian(lambda x: getattr(F, name)(x, target), x0)
    if name == "hinge":  # mean of max(0, 1 - y s): piecewise linear, so its Hessian is 0
        theirs = torch.autograd.functional.hessian(
            lambda s: torch.clamp(1 - torch.tensor(target) * s, min=0).mean(), torch.tensor(x0))
    else:
        theirs = torch.autograd.functional.hessian(
            lambda x: getattr(torch.nn.functional, name)(x, torch_target), torch.tensor(x0))
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-9, atol=1e-12)


def test_gradients_of_gradients_flow_through_the_generic_loss_derivatives():
    # Hand: L = (x - t)^2 / 1, so dL/dx = 2 (x - t) and d2L/dx2 = 2.
    x = Value(0.75)
    F.mse_loss(x, 0.25).backward(create_graph=True)
    first = x.grad
    assert first.data == pytest.approx(1.0, rel=1e-15)
    x.grad = 0.0
    first.backward()
    assert x.grad == pytest.approx(2.0, rel=1e-15)
