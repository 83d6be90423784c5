"""Scalar losses (the lecture's names, `nn.losses` and `nn.scalar.losses`) against hand
derivations and torch.nn.functional (float64), values and gradients; and the dispatch of
`nn.losses` on the operands' type."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from autograd_core import Tensor, Value
from nn import losses, tensor_losses
from nn.scalar import losses as scalar_losses

moderate = st.floats(-5.0, 5.0, allow_nan=False, allow_infinity=False)
probability = st.floats(0.01, 0.99)
unit = st.floats(0.0, 1.0)


def as_values(numbers):
    return [Value(x) for x in numbers]


def torch_leaf(numbers):
    return torch.tensor(numbers, dtype=torch.float64, requires_grad=True)


def assert_close(ours, expected, rel=1e-12, abs_=1e-12):
    assert ours == pytest.approx(expected, rel=rel, abs=abs_)


# -- hand derivations (seed-examples.md section 4) -------------------------------------------

def test_sse_of_the_lectures_example_is_0_14():
    # (0.1 - 0)^2 + (0.7 - 1)^2 + (0.2 - 0)^2 = 0.01 + 0.09 + 0.04 = 0.14.
    # The seed notes print 0.54, which is 0.1^2 + 0.7^2 + 0.2^2: the squares of the
    # predictions, not of the residuals. The residual formula gives 0.14.
    prediction = as_values([0.1, 0.7, 0.2])
    loss = losses.sse(prediction, [0.0, 1.0, 0.0])
    assert loss.data == pytest.approx(0.14, rel=1e-14)
    loss.backward()
    # dSSE/dp_i = 2 (p_i - t_i) = (0.2, -0.6, 0.4)
    assert [p.grad for p in prediction] == pytest.approx([0.2, -0.6, 0.4], rel=1e-14)


def test_mse_is_sse_over_n_by_hand():
    prediction = as_values([0.1, 0.7, 0.2])
    loss = losses.mse(prediction, [0, 1, 0])
    assert loss.data == pytest.approx(0.14 / 3, rel=1e-14)
    loss.backward()
    assert [p.grad for p in prediction] == pytest.approx([0.2 / 3, -0.6 / 3, 0.4 / 3], rel=1e-14)


def test_l1_is_the_sum_of_absolute_residuals_by_hand():
    prediction = as_values([0.1, 0.7, 0.2])
    loss = losses.l1(prediction, [0.0, 1.0, 0.0])
    assert loss.data == pytest.approx(0.1 + 0.3 + 0.2, rel=1e-14)
    loss.backward()
    assert [p.grad for p in prediction] == [1.0, -1.0, 1.0]


def test_single_numbers_and_values_work_as_one_element():
    assert losses.mse(Value(3.0), 1.0).data == 4.0
    assert losses.sse(3, 1).data == 4.0
    assert losses.hinge(Value(0.25), -1).data == 1.25
    h = Value(0.8)
    loss = losses.binary_cross_entropy(h, 1.0)
    assert loss.data == pytest.approx(-math.log(0.8), rel=1e-15)
    loss.backward()
    assert h.grad == pytest.approx(-1.0 / 0.8, rel=1e-15)  # d(-log h)/dh = -1/h


def test_binary_cross_entropy_with_logits_is_stable_far_from_zero():
    # For z = 800: log(1 + e^800) - 0 * 800 = 800 + log(1 + e^-800) = 800 (to double precision).
    z = Value(800.0)
    loss = losses.binary_cross_entropy_with_logits(z, 0.0)
    assert loss.data == 800.0
    loss.backward()
    assert z.grad == 1.0  # sigmoid(800) - 0
    z = Value(-800.0)
    loss = losses.binary_cross_entropy_with_logits(z, 1.0)
    assert loss.data == 800.0
    loss.backward()
    assert z.grad == -1.0  # sigmoid(-800) - 1
    z = Value(0.0)
    losses.binary_cross_entropy_with_logits(z, 1.0).backward()
    assert z.grad == -0.5  # sigmoid(0) - 1: the kink-free formula is right at 0 too


def test_cross_entropy_by_hand():
    # softmax([1, 2, 0]) with target class 1: L = -log(e^2 / (e^1 + e^2 + e^0)).
    logits = as_values([1.0, 2.0, 0.0])
    loss = losses.cross_entropy(logits, 1)
    total = math.e + math.e ** 2 + 1.0
    assert loss.data == pytest.approx(-math.log(math.e ** 2 / total), rel=1e-14)
    loss.backward()
    # dL/dz_k = softmax_k - [k == 1]
    expected = [math.e / total, math.e ** 2 / total - 1.0, 1.0 / total]
    assert [z.grad for z in logits] == pytest.approx(expected, rel=1e-13)


# -- against torch.nn.functional ----------------------------------------------------------------

def pairs_of(elements, min_size=1, max_size=6):
    return st.integers(min_size, max_size).flatmap(
        lambda n: st.tuples(st.lists(elements[0], min_size=n, max_size=n),
                            st.lists(elements[1], min_size=n, max_size=n)))


@pytest.mark.parametrize("name, reference", [
    ("mse", lambda p, t: F.mse_loss(p, t)),
    ("sse", lambda p, t: F.mse_loss(p, t, reduction="sum")),
    ("l1", lambda p, t: F.l1_loss(p, t, reduction="sum")),
])
@given(data=pairs_of((moderate, moderate)))
def test_regression_losses_match_torch(name, reference, data):
    predictions, targets = data
    ours_p, ours_t = as_values(predictions), as_values(targets)
    loss = getattr(losses, name)(ours_p, ours_t)
    loss.backward()
    torch_p, torch_t = torch_leaf(predictions), torch_leaf(targets)
    expected = reference(torch_p, torch_t)
    expected.backward()
    assert_close(loss.data, expected.item())
    assert_close([p.grad for p in ours_p], torch_p.grad.tolist())
    assert_close([t.grad for t in ours_t], torch_t.grad.tolist())


@given(data=pairs_of((probability, unit)))
def test_binary_cross_entropy_matches_torch(data):
    probabilities, targets = data
    ours = as_values(probabilities)
    loss = losses.binary_cross_entropy(ours, targets)
    loss.backward()
    reference = torch_leaf(probabilities)
    expected = F.binary_cross_entropy(reference, torch.tensor(targets, dtype=torch.float64))
    expected.backward()
    assert_close(loss.data, expected.item())
    assert_close([p.grad for p in ours], reference.grad.tolist(), rel=1e-10)


@given(data=pairs_of((st.floats(-60.0, 60.0), unit)))
def test_binary_cross_entropy_with_logits_matches_torch(data):
    logits, targets = data
    ours = as_values(logits)
    loss = losses.binary_cross_entropy_with_logits(ours, targets)
    loss.backward()
    reference = torch_leaf(logits)
    expected = F.binary_cross_entropy_with_logits(reference, torch.tensor(targets, dtype=torch.float64))
    expected.backward()
    assert_close(loss.data, expected.item(), rel=1e-12, abs_=1e-14)
    assert_close([z.grad for z in ours], reference.grad.tolist(), rel=1e-12, abs_=1e-15)


@given(data=st.integers(1, 6).flatmap(lambda n: st.tuples(
    st.lists(st.floats(-30.0, 30.0), min_size=n, max_size=n), st.integers(0, n - 1))))
def test_cross_entropy_with_a_class_index_matches_torch(data):
    logits, target = data
    ours = as_values(logits)
    loss = losses.cross_entropy(ours, target)
    loss.backward()
    reference = torch_leaf([logits])
    expected = F.cross_entropy(reference, torch.tensor([target]))
    expected.backward()
    assert_close(loss.data, expected.item(), abs_=1e-13)
    assert_close([z.grad for z in ours], reference.grad[0].tolist())


@given(data=st.integers(1, 5).flatmap(lambda n: st.tuples(
    st.lists(moderate, min_size=n, max_size=n), st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n))))
def test_cross_entropy_with_probabilities_matches_torch(data):
    logits, weights = data
    total = math.fsum(weights)
    probabilities = [w / total for w in weights] if total > 0 else [1.0 / len(weights)] * len(weights)
    ours = as_values(logits)
    loss = losses.cross_entropy(ours, probabilities)
    loss.backward()
    reference = torch_leaf([logits])
    expected = F.cross_entropy(reference, torch.tensor([probabilities], dtype=torch.float64))
    expected.backward()
    assert_close(loss.data, expected.item())
    assert_close([z.grad for z in ours], reference.grad[0].tolist())


def test_cross_entropy_of_a_batch_is_the_mean_over_samples_like_torch():
    logits = [[1.0, 2.0, 0.5], [-1.0, 0.0, 3.0], [0.2, 0.2, 0.2]]
    targets = [2, [0.0, 1.0, 0.0], 0]
    ours = [as_values(row) for row in logits]
    loss = losses.cross_entropy(ours, targets)
    loss.backward()
    reference = torch_leaf(logits)
    one_hot = torch.tensor([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]], dtype=torch.float64)
    expected = F.cross_entropy(reference, one_hot)
    expected.backward()
    assert_close(loss.data, expected.item())
    assert_close([[z.grad for z in row] for row in ours][1], reference.grad[1].tolist())


@given(data=pairs_of((moderate, st.sampled_from([-1.0, 1.0]))))
def test_hinge_matches_torch(data):
    scores, labels = data
    ours = as_values(scores)
    loss = losses.hinge(ours, labels)
    loss.backward()
    reference = torch_leaf(scores)
    expected = torch.relu(1.0 - torch.tensor(labels, dtype=torch.float64) * reference).mean()
    expected.backward()
    assert_close(loss.data, expected.item())
    assert_close([s.grad for s in ours], reference.grad.tolist())


# -- errors ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("call, error, message", [
    (lambda: losses.mse([1.0, 2.0], [1.0]), ValueError, "mse: input has 2 elements but target has 1"),
    (lambda: losses.sse([1.0], 1.0), ValueError, "sse: input is a list but target is a single value"),
    (lambda: losses.l1([], []), ValueError, "l1: input and target are empty"),
    (lambda: losses.mse(["a"], [1.0]), TypeError, r"mse: input\[0\] must be a float or a Value, got str"),
    (lambda: losses.mse([1.0], [True]), TypeError, r"mse: target\[0\] must be a float or a Value, got bool"),
    (lambda: losses.mse([float("nan")], [1.0]), ValueError, r"mse: input\[0\] is nan"),
    (lambda: losses.binary_cross_entropy([0.5, 1.5], [1, 1]), ValueError,
     r"binary_cross_entropy: input must hold probabilities in \[0, 1\], but element 1 is 1.5; "
     "pass logits to binary_cross_entropy_with_logits"),
    (lambda: losses.binary_cross_entropy(-0.25, 0), ValueError, "probabilities in .*, but element 0 is -0.25"),
    (lambda: losses.binary_cross_entropy([0.5], [2.0]), ValueError,
     r"binary_cross_entropy: target must lie in \[0, 1\], but element 0 is 2.0"),
    (lambda: losses.binary_cross_entropy_with_logits([0.5], [-1]), ValueError, r"element 0 is -1.0"),
    (lambda: losses.hinge([0.5, 0.1], [1, 0]), ValueError,
     r"hinge: target must hold labels -1 or \+1, but element 1 is 0.0 \(for 0/1 labels pass 2 \* y - 1\)"),
    (lambda: losses.cross_entropy([1.0, 2.0], 2), ValueError, "class index 2 is outside 0..1"),
    (lambda: losses.cross_entropy([1.0, 2.0], True), TypeError, "must be a class index"),
    (lambda: losses.cross_entropy([1.0, 2.0], [1.0]), ValueError, "has 1 probabilities for 2 logits"),
    (lambda: losses.cross_entropy([1.0, 2.0], [0.5, 0.6]), ValueError, "probabilities sum to 1.1"),
    (lambda: losses.cross_entropy([1.0, 2.0], [-0.5, 1.5]), ValueError, r"target\[0\] is -0.5, not a probability"),
    (lambda: losses.cross_entropy([], 0), ValueError, "the input must be a non-empty list of logits"),
    (lambda: losses.cross_entropy([[1.0, 2.0], [0.0, 1.0]], [0]), ValueError,
     "a batch of 2 logit lists needs 2 targets, got 1"),
    (lambda: losses.cross_entropy([[1.0, 2.0], [0.0]], [0, 0]), ValueError,
     "sample 1 has 1 logits but sample 0 has 2"),
])
def test_bad_inputs_raise_errors_naming_the_loss_and_the_problem(call, error, message):
    with pytest.raises(error, match=message):
        call()


# -- dispatch -------------------------------------------------------------------------------------

LOSS_NAMES = ["mse", "sse", "l1", "binary_cross_entropy", "binary_cross_entropy_with_logits",
              "cross_entropy", "hinge"]
SCALAR_CASES = {
    "cross_entropy": ([[0.3, -1.2, 2.0], [0.1, 0.2, 0.3]], [2, [0.5, 0.25, 0.25]]),
    "hinge": ([0.3, -0.6], [1.0, -1.0]),
}


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_public_losses_are_the_scalar_ones_for_values(name):
    assert callable(getattr(losses, name)) and callable(getattr(scalar_losses, name))
    prediction, target = SCALAR_CASES.get(name, ([0.3, 0.6], [0.0, 1.0]))
    as_nodes = [as_values(row) for row in prediction] if name == "cross_entropy" else as_values(prediction)
    ours = getattr(losses, name)(as_nodes, target)
    assert isinstance(ours, Value)
    assert ours.data == getattr(scalar_losses, name)(as_nodes, target).data


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_tensor_inputs_give_the_tensor_losses(name):
    prediction, target = SCALAR_CASES.get(name, ([0.3, 0.6], [0.0, 1.0]))
    if name == "cross_entropy":
        prediction, target = np.array(prediction), np.array([[0.0, 0.0, 1.0], [0.5, 0.25, 0.25]])
    ours = getattr(losses, name)(Tensor(prediction), target)
    assert isinstance(ours, Tensor) and ours.shape == ()
    assert ours.item() == getattr(tensor_losses, name)(Tensor(prediction), target).item()
    # The scalar side gives the same number for the same operands (to rounding).
    as_nodes = ([as_values(row) for row in prediction] if name == "cross_entropy"
                else as_values(prediction))
    scalar_target = [2, [0.5, 0.25, 0.25]] if name == "cross_entropy" else target
    assert getattr(losses, name)(as_nodes, scalar_target).data == pytest.approx(ours.item(), rel=1e-14)


def test_scalar_losses_never_build_tensors():
    with pytest.raises(TypeError, match="mse: input must be a float or a Value, got Tensor"):
        scalar_losses.mse(Tensor([1.0]), 1.0)


def test_numpy_arrays_work_like_lists():
    scores = as_values([0.5, -2.0, 0.1])
    labels = np.array([1.0, -1.0, -1.0])
    # mean of max(0, 1 - y s): (0.5 + 0 + 1.1) / 3
    assert losses.hinge(scores, labels).data == pytest.approx(1.6 / 3, rel=1e-15)
    assert losses.sse(np.array([0.1, 0.7, 0.2]), [0, 1, 0]).data == pytest.approx(0.14, rel=1e-14)
    # two samples, classes 2 and 0, of equal logits: each loss is log 3
    assert losses.cross_entropy(np.zeros((2, 3)), np.array([2, 0])).data == pytest.approx(math.log(3), rel=1e-15)
    with pytest.raises(TypeError, match=r"mse: input\[0\] must be a float or a Value, got ndarray"):
        losses.mse(np.zeros((2, 2)), np.zeros((2, 2)))
