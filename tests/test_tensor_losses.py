"""The lecture's loss names on Tensors (`nn.tensor_losses`, and `nn.losses` given Tensors) against
PyTorch float64 (values and gradients), hand numbers, and their errors. The torch-named
functions, every reduction and both dtypes are in tests/test_functional.py."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from autograd_core import Tensor
from nn import losses
from nn import tensor_losses as L

finite = st.floats(-5.0, 5.0, allow_nan=False, allow_infinity=False)
shapes = st.sampled_from([(1,), (4,), (3, 2), (5, 1), (2, 3, 2)])


def pair_of_arrays(elements=finite, targets=finite):
    return shapes.flatmap(lambda shape: st.tuples(arrays(np.float64, shape, elements=elements),
                                                  arrays(np.float64, shape, elements=targets)))


def run_ours(loss, prediction, target, target_grad=True):
    p = Tensor(prediction, requires_grad=True)
    t = Tensor(target, requires_grad=target_grad)
    out = loss(p, t)
    out.backward()
    return out, p.grad, t.grad


def run_torch(loss, prediction, target, target_grad=True):
    p = torch.tensor(prediction, dtype=torch.float64, requires_grad=True)
    t = torch.tensor(target, dtype=torch.float64, requires_grad=target_grad)
    out = loss(p, t)
    out.backward()
    return out.item(), p.grad.numpy(), None if t.grad is None else t.grad.numpy()


def assert_matches(ours, theirs):
    out, grad_p, grad_t = ours
    expected, expected_p, expected_t = theirs
    assert out.shape == () and out.dtype == np.float64
    np.testing.assert_allclose(out.item(), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(grad_p, expected_p, rtol=1e-10, atol=1e-12)
    if expected_t is not None:
        np.testing.assert_allclose(grad_t, expected_t, rtol=1e-10, atol=1e-12)


# -- regression losses ---------------------------------------------------------------------------------

@given(pair_of_arrays())
def test_mse_matches_torch_mean_squared_error(pair):
    prediction, target = pair
    assert_matches(run_ours(L.mse, prediction, target),
                   run_torch(lambda p, t: F.mse_loss(p, t), prediction, target))


@given(pair_of_arrays())
def test_sse_matches_torch_summed_squared_error(pair):
    prediction, target = pair
    assert_matches(run_ours(L.sse, prediction, target),
                   run_torch(lambda p, t: F.mse_loss(p, t, reduction="sum"), prediction, target))


@given(pair_of_arrays())
def test_l1_is_the_sum_of_absolute_residuals_like_torch(pair):
    prediction, target = pair
    assert_matches(run_ours(L.l1, prediction, target),
                   run_torch(lambda p, t: F.l1_loss(p, t, reduction="sum"), prediction, target))


def test_l1_gradient_is_zero_where_the_residual_is_zero():
    out, grad_p, grad_t = run_ours(L.l1, np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 5.0]))
    assert out.item() == 4.0  # |0| + |2| + |-2|
    np.testing.assert_array_equal(grad_p, [0.0, 1.0, -1.0])
    np.testing.assert_array_equal(grad_t, [0.0, -1.0, 1.0])


def test_the_lectures_sse_and_mse_numbers():
    # Hand: residuals 0.1, -0.3, 0.2, so SSE = 0.01 + 0.09 + 0.04 = 0.14 and MSE = SSE / 3.
    # (The seed's 0.54 = 0.1^2 + 0.7^2 + 0.2^2 squares 0.7 instead of the residual 0.3,
    # i.e. it is the SSE against [0, 0, 0].)
    prediction, target = np.array([0.1, 0.7, 0.2]), np.array([0.0, 1.0, 0.0])
    assert L.sse(Tensor(prediction), Tensor(target)).item() == pytest.approx(0.14)
    assert L.mse(Tensor(prediction), Tensor(target)).item() == pytest.approx(0.14 / 3)
    assert L.sse(Tensor(prediction), Tensor(np.zeros(3))).item() == pytest.approx(0.54)


# -- binary classification ----------------------------------------------------------------------------

probabilities = st.floats(0.01, 0.99)
unit = st.floats(0.0, 1.0)


@given(pair_of_arrays(probabilities, unit))
def test_binary_cross_entropy_matches_torch_including_the_target_gradient(pair):
    probability, target = pair
    assert_matches(run_ours(L.binary_cross_entropy, probability, target),
                   run_torch(F.binary_cross_entropy, probability, target))


def run_in_dtype(loss_ours, loss_torch, prediction, target, dtype):
    """(ours, torch's) (loss, dL/dprediction, dL/dtarget), both computed in `dtype`."""
    p, t = Tensor(prediction, True, dtype), Tensor(target, True, dtype)
    out = loss_ours(p, t)
    out.backward()
    tp, tt = (torch.tensor(np.asarray(a, dtype), requires_grad=True) for a in (prediction, target))
    expected = loss_torch(tp, tt)
    expected.backward()
    assert out.dtype == dtype and p.grad.dtype == dtype and t.grad.dtype == dtype
    return ((out.item(), p.grad, t.grad),
            (expected.item(), tp.grad.numpy(), tt.grad.numpy()))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_binary_cross_entropy_at_saturated_probabilities_matches_torch(dtype):
    # 0 and 1 against every target kind, a probability that rounds to 1, a subnormal one.
    tiny = np.finfo(dtype).smallest_subnormal
    probability = np.array([0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1 - np.finfo(dtype).epsneg, tiny, 0.3])
    target = np.array([0.0, 1.0, 0.0, 1.0, 0.25, 0.75, 0.5, 0.5, 0.7])
    (loss, grad_h, grad_t), (expected, expected_h, expected_t) = run_in_dtype(
        L.binary_cross_entropy, F.binary_cross_entropy, probability, target, dtype)
    rtol = 1e-6 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(loss, expected, rtol=rtol)
    np.testing.assert_allclose(grad_h, expected_h, rtol=rtol)
    np.testing.assert_allclose(grad_t, expected_t, rtol=rtol)  # +-inf at 0 and 1, as torch
    # By hand, n = 9: the gradient divides by max(h (1 - h), eps), eps = 1e-12 rounded to
    # float32 = 9.999999960041972e-13 (PyTorch's C++ float constant): (0 - 1) / eps / 9 at
    # h = 0, t = 1, and 0 where h = t exactly.
    eps = 9.999999960041972e-13
    np.testing.assert_allclose(grad_h[[0, 1, 2, 3]], [0.0, -1 / eps / 9, 1 / eps / 9, 0.0],
                               rtol=rtol)
    assert np.isinf(grad_t[:4]).all() and np.all(np.isfinite(grad_h))


def test_binary_cross_entropy_of_a_saturated_sigmoid_is_finite_like_torch():
    # sigmoid(40) rounds to exactly 1.0 in float64. Against t = 0 the loss is the clamped
    # 100 (not an error, not inf) and against t = 1 it is 0; the other samples of the batch
    # keep their gradients (the saturated logit's is sigmoid's own 0 slope, as in torch).
    logit = Tensor([40.0, 40.0, 0.5], requires_grad=True)
    target = np.array([0.0, 1.0, 1.0])
    loss = L.binary_cross_entropy(logit.sigmoid(), Tensor(target))
    loss.backward()
    assert logit.sigmoid().data[0] == 1.0
    # Hand: (100 + 0 - log sigmoid(0.5)) / 3, and dL/dz = (sigmoid(0.5) - 1) / 3 for the last.
    sigmoid_half = 1 / (1 + np.exp(-0.5))
    assert loss.item() == pytest.approx((100.0 - np.log(sigmoid_half)) / 3, rel=1e-14)
    assert logit.grad[2] == pytest.approx((sigmoid_half - 1) / 3, rel=1e-12)
    torch_logit = torch.tensor([40.0, 40.0, 0.5], dtype=torch.float64, requires_grad=True)
    expected = F.binary_cross_entropy(torch.sigmoid(torch_logit), torch.tensor(target))
    expected.backward()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-14)
    np.testing.assert_allclose(logit.grad, torch_logit.grad.numpy(), rtol=1e-12)


@given(pair_of_arrays(st.sampled_from([0.0, 1e-300, 1e-8, 0.5, 1 - 1e-8, 1.0]), unit))
def test_binary_cross_entropy_matches_torch_near_and_at_the_edges(pair):
    probability, target = pair
    (loss, grad_h, _), (expected, expected_h, _) = run_in_dtype(
        L.binary_cross_entropy, F.binary_cross_entropy, probability, target, np.float64)
    np.testing.assert_allclose(loss, expected, rtol=1e-12)
    np.testing.assert_allclose(grad_h, expected_h, rtol=1e-10)


@given(pair_of_arrays(st.floats(-30.0, 30.0), unit))
def test_binary_cross_entropy_with_logits_matches_torch(pair):
    logit, target = pair
    assert_matches(run_ours(L.binary_cross_entropy_with_logits, logit, target),
                   run_torch(F.binary_cross_entropy_with_logits, logit, target))


def test_binary_cross_entropy_with_logits_is_stable_for_huge_logits():
    logit, target = np.array([1000.0, -1000.0, 800.0, 0.0]), np.array([0.0, 1.0, 1.0, 0.5])
    ours = run_ours(L.binary_cross_entropy_with_logits, logit, target)
    assert np.isfinite(ours[0].item()) and np.all(np.isfinite(ours[1]))
    assert_matches(ours, run_torch(F.binary_cross_entropy_with_logits, logit, target))
    # Hand: per element max(z, 0) - t z + log(1 + e^-|z|): 1000, 1000, 0, log 2.
    assert ours[0].item() == pytest.approx((1000.0 + 1000.0 + 0.0 + np.log(2.0)) / 4)
    # Hand: dL/dz at z = 0 is (sigmoid(0) - t) / n = (0.5 - 0.5) / 4 = 0.
    assert ours[1][3] == 0.0


@given(pair_of_arrays(finite, st.sampled_from([-1.0, 1.0])))
def test_hinge_matches_torch_relu_of_the_margin(pair):
    score, label = pair
    ours = run_ours(L.hinge, score, label, target_grad=False)
    theirs = run_torch(lambda s, y: torch.relu(1.0 - y * s).mean(), score, label, target_grad=False)
    assert_matches(ours, theirs)


def test_hinge_by_hand():
    # margins 1 - y s: 1 - 2 = -1 (inactive), 1 - (-1)(0.5) = 1.5, 1 - 0.25 = 0.75 -> mean 2.25 / 3.
    out, grad_s, grad_y = run_ours(L.hinge, np.array([2.0, 0.5, 0.25]), np.array([1.0, -1.0, 1.0]))
    assert out.item() == pytest.approx(0.75)
    np.testing.assert_allclose(grad_s, [0.0, 1.0 / 3, -1.0 / 3])
    assert grad_y is None  # labels are not differentiated


# -- cross-entropy ------------------------------------------------------------------------------------

@st.composite
def logits_and_labels(draw):
    n, classes = draw(st.integers(1, 6)), draw(st.integers(1, 5))
    logits = draw(arrays(np.float64, (n, classes), elements=st.floats(-20.0, 20.0)))
    labels = np.array(draw(st.lists(st.integers(0, classes - 1), min_size=n, max_size=n)), dtype=np.int64)
    return logits, labels


@given(logits_and_labels())
def test_cross_entropy_with_labels_matches_torch(case):
    logits, labels = case
    z = Tensor(logits, requires_grad=True)
    out = L.cross_entropy(z, labels)
    out.backward()
    tz = torch.tensor(logits, requires_grad=True)
    expected = F.cross_entropy(tz, torch.tensor(labels))
    expected.backward()
    assert out.shape == ()
    np.testing.assert_allclose(out.item(), expected.item(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(z.grad, tz.grad.numpy(), rtol=1e-10, atol=1e-14)


@given(logits_and_labels(), st.data())
def test_cross_entropy_with_probabilities_matches_torch_for_both_operands(case, data):
    logits, _ = case
    raw = data.draw(arrays(np.float64, logits.shape, elements=st.floats(0.01, 1.0)))
    probabilities = raw / raw.sum(axis=1, keepdims=True)
    assert_matches(run_ours(L.cross_entropy, logits, probabilities),
                   run_torch(F.cross_entropy, logits, probabilities))


def test_cross_entropy_one_hot_rows_equal_integer_labels():
    logits = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]])
    labels = np.array([1, 2])
    by_label = L.cross_entropy(Tensor(logits), labels).item()
    by_rows = L.cross_entropy(Tensor(logits), np.eye(3)[labels]).item()
    # Hand: -mean(log softmax(z)[label]) with a log-sum-exp per row.
    hand = -np.mean([2.0 - np.log(np.exp(1.0) + np.exp(2.0) + np.exp(0.5)),
                     3.0 - np.log(np.exp(0.0) + np.exp(-1.0) + np.exp(3.0))])
    assert by_label == pytest.approx(hand, rel=1e-14)
    assert by_rows == pytest.approx(hand, rel=1e-14)


def test_cross_entropy_is_stable_for_huge_logits():
    logits = np.array([[1000.0, 0.0, -1000.0], [-1000.0, 1000.0, 999.0]])
    labels = np.array([2, 2])
    z = Tensor(logits, requires_grad=True)
    out = L.cross_entropy(z, labels)
    out.backward()
    tz = torch.tensor(logits, requires_grad=True)
    expected = F.cross_entropy(tz, torch.tensor(labels))
    expected.backward()
    assert np.isfinite(out.item()) and out.item() == pytest.approx(expected.item(), rel=1e-12)
    np.testing.assert_allclose(z.grad, tz.grad.numpy(), atol=1e-15)


def test_cross_entropy_of_one_sample_takes_an_int_label_or_a_row():
    logits = np.array([0.2, -1.0, 2.5])
    tz = torch.tensor(logits, requires_grad=True)
    expected = F.cross_entropy(tz, torch.tensor(2))
    expected.backward()
    z = Tensor(logits, requires_grad=True)
    out = L.cross_entropy(z, 2)
    out.backward()
    assert out.shape == () and out.item() == pytest.approx(expected.item(), rel=1e-14)
    np.testing.assert_allclose(z.grad, tz.grad.numpy(), rtol=1e-12)
    assert L.cross_entropy(Tensor(logits), [0.0, 0.0, 1.0]).item() == pytest.approx(expected.item(), rel=1e-14)


def test_cross_entropy_is_one_graph_node_over_the_logits():
    z = Tensor(np.zeros((2, 3)), requires_grad=True)
    out = L.cross_entropy(z, np.array([0, 1]))
    assert out.op == "cross_entropy" and out.parents == (z,)


def test_losses_keep_float32():
    logits = Tensor(np.array([[1.0, 2.0], [0.5, -0.5]], dtype=np.float32), requires_grad=True, dtype=np.float32)
    out = L.cross_entropy(logits, np.array([1, 0]))
    out.backward()
    assert out.dtype == np.float32 and logits.grad.dtype == np.float32
    expected = F.cross_entropy(torch.tensor(logits.data, dtype=torch.float64), torch.tensor([1, 0])).item()
    assert out.item() == pytest.approx(expected, rel=1e-6)
    prediction = Tensor([0.5, 1.5], dtype=np.float32)
    assert L.mse(prediction, np.array([0.0, 1.0])).dtype == np.float32


def test_upstream_gradient_scales_every_loss_gradient():
    for loss, target in [(L.mse, [1.0, 0.0]), (L.binary_cross_entropy_with_logits, [1.0, 0.0]),
                         (L.hinge, [1.0, -1.0]), (L.cross_entropy, None)]:
        data = np.array([[0.3, -0.2]]) if target is None else np.array([0.3, -0.2])
        labels = np.array([1]) if target is None else np.array(target)
        once, twice = Tensor(data, requires_grad=True), Tensor(data, requires_grad=True)
        loss(once, labels).backward()
        (loss(twice, labels) * 3.0).backward()
        np.testing.assert_allclose(twice.grad, 3.0 * once.grad, rtol=1e-14)


def test_public_losses_dispatch_tensors_here():
    prediction, target = Tensor([0.1, 0.7, 0.2]), Tensor([0.0, 1.0, 0.0])
    for name in L.__all__:
        assert hasattr(losses, name)
    out = losses.mse(prediction, target)
    assert isinstance(out, Tensor) and out.item() == pytest.approx(0.14 / 3)
    assert isinstance(losses.cross_entropy(Tensor([[1.0, 2.0]]), np.array([0])), Tensor)


def test_array_targets_and_array_predictions_are_accepted():
    assert L.mse(Tensor([1.0, 2.0]), [1.0, 4.0]).item() == pytest.approx(2.0)
    assert L.sse(np.array([1.0, 2.0]), Tensor([1.0, 4.0])).item() == pytest.approx(4.0)


# -- errors ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("loss", [L.mse, L.sse, L.l1, L.binary_cross_entropy_with_logits, L.hinge])
def test_shape_mismatch_names_both_shapes(loss):
    with pytest.raises(ValueError, match=r"\(4, 1\).*\(4,\)"):
        loss(Tensor(np.full((4, 1), 0.5)), Tensor(np.ones(4)))


def test_non_finite_and_empty_inputs_are_refused():
    with pytest.raises(ValueError, match="mse: input contains nan"):
        L.mse(Tensor([np.nan, 1.0]), Tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="sse: target contains nan or inf"):
        L.sse(Tensor([0.0, 1.0]), Tensor([np.inf, 1.0]))
    with pytest.raises(ValueError, match="l1: input and target are empty"):
        L.l1(Tensor(np.zeros(0)), Tensor(np.zeros(0)))
    with pytest.raises(ValueError, match="cross_entropy: input contains nan"):
        L.cross_entropy(Tensor([[np.nan, 1.0]]), np.array([0]))


def test_dtype_mismatch_and_non_numbers_are_refused():
    with pytest.raises(TypeError, match="mse: input has dtype float64 but target has dtype float32"):
        L.mse(Tensor([1.0]), Tensor([1.0], dtype=np.float32))
    with pytest.raises(TypeError, match="mse: target must be a Tensor or an array of numbers"):
        L.mse(Tensor([1.0]), "one")


def test_binary_cross_entropy_domain_errors():
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\], but element 1 is 1.5.*with_logits"):
        L.binary_cross_entropy(Tensor([0.5, 1.5]), Tensor([1.0, 1.0]))
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\], but element \(1, 0\) is -0.25"):
        L.binary_cross_entropy(Tensor([[0.5], [-0.25]]), Tensor([[1.0], [1.0]]))
    with pytest.raises(ValueError, match=r"binary_cross_entropy: target must lie in \[0, 1\], but element 1 is 2.0"):
        L.binary_cross_entropy(Tensor([0.5, 0.5]), Tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"binary_cross_entropy_with_logits: target must lie in \[0, 1\]"):
        L.binary_cross_entropy_with_logits(Tensor([0.5]), Tensor([-1.0]))


def test_hinge_refuses_zero_one_labels():
    with pytest.raises(ValueError, match=r"hinge: target must hold labels -1 or \+1, but element 0 is 0.0 .*2 \* y - 1"):
        L.hinge(Tensor([0.5, 0.5]), Tensor([0.0, 1.0]))


@pytest.mark.parametrize("labels, error, message", [
    (np.array([0, 3]), ValueError, r"cross_entropy: .*labels must lie in \[0, 3\), got values from 0 to 3"),
    (np.array([-1, 0]), ValueError, r"labels must lie in \[0, 3\)"),
    (np.array([0.0, 1.0]), TypeError, "class labels must be integers, got dtype float64"),
    (np.array([True, False]), TypeError, "class labels must be integers, got dtype bool"),
    (np.array([0, 1, 2]), ValueError, "3 labels for 2 rows of logits"),
    (np.full((2, 2), 0.5), ValueError, r"target of shape \(2, 2\) fits neither labels \(2,\) nor "
                                       r"probabilities \(2, 3\)"),
    (np.full((2, 3), 0.5), ValueError, "cross_entropy: .*sum to 1 in every row, but row 0 sums to 1.5"),
    (np.array([[0.2, 0.8, 0.0], [0.5, 0.5, 0.3]]), ValueError, "row 1 sums to 1.3 "),
    (np.array([[1.5, -0.5, 0.0], [0.0, 0.0, 1.0]]), ValueError, "cross_entropy: .*non-negative"),
    (Tensor([0.0, 1.0]), TypeError, "a Tensor holds floats"),
    ("labels", TypeError, "target must be class labels or probabilities"),
])
def test_cross_entropy_target_errors(labels, error, message):
    with pytest.raises(error, match=message):
        L.cross_entropy(Tensor(np.zeros((2, 3))), labels)


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint64,
                                   np.dtype(">i4")])
def test_cross_entropy_label_range_in_every_integer_dtype(dtype):
    """Labels are range-checked in one pass over their unsigned view, where a negative label
    is larger than any class: every width and byte order must still give the message."""
    logits = Tensor(np.zeros((3, 3)), requires_grad=True)
    L.cross_entropy(logits, np.array([0, 2, 1]).astype(dtype)).backward()  # in range: accepted
    np.testing.assert_allclose(logits.grad, (np.full((3, 3), 1 / 3) - np.eye(3)[[0, 2, 1]]) / 3)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\), got values from 0 to 3"):
        L.cross_entropy(logits, np.array([0, 3, 1]).astype(dtype))
    if np.dtype(dtype).kind == "i":
        with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\), got values from -1 to 2"):
            L.cross_entropy(logits, np.array([-1, 2, 0]).astype(dtype))
        lowest = np.iinfo(dtype).min
        with pytest.raises(ValueError, match=rf"got values from {lowest} to 1"):
            L.cross_entropy(logits, np.array([lowest, 1, 0]).astype(dtype))


def test_cross_entropy_logit_shape_errors():
    with pytest.raises(ValueError, match=r"input must have shape \(n, C\).*got \(2, 3, 1\)"):
        L.cross_entropy(Tensor(np.zeros((2, 3, 1))), np.array([0, 1]))
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\)"):
        L.cross_entropy(Tensor(np.zeros(3)), 3)


def test_cross_entropy_gives_no_gradient_to_constant_logits():
    # Only the probability targets require grad: the logits must stay without a gradient.
    logits = Tensor(np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]]))
    target = Tensor(np.array([[0.2, 0.5, 0.3], [1.0, 0.0, 0.0]]), requires_grad=True)
    L.cross_entropy(logits, target).backward()
    assert logits.grad is None
    z = torch.tensor(logits.data)
    t = torch.tensor(target.data, requires_grad=True)
    torch.nn.functional.cross_entropy(z, t).backward()
    np.testing.assert_allclose(target.grad, t.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_linear_gives_no_gradient_to_a_constant_input_or_frozen_weight():
    from nn.layers import linear
    x = Tensor(np.ones((4, 3)))
    weight = Tensor(np.full((2, 3), 0.5))  # frozen
    bias = Tensor(np.zeros(2), requires_grad=True)
    linear(x, weight, bias).sum().backward()
    assert x.grad is None and weight.grad is None
    np.testing.assert_array_equal(bias.grad, [4.0, 4.0])  # d(sum over 4 rows)/db = 4
