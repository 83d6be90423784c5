"""SGD and Adam on Tensor parameters: 10 steps must match torch.optim on the same model within 1e-10."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from autograd_core import Tensor
from nn import functional as F
from nn.layers import TensorMLP
from nn.optim import SGD, Adam
from oracles import torch_twin

STEPS = 10


def batches():
    """10 different mini-batches (features and labels) drawn once from a fixed seed."""
    rng = np.random.default_rng(42)
    return [(rng.normal(size=(12, 4)), rng.integers(0, 3, size=12)) for _ in range(STEPS)]


@pytest.mark.parametrize("ours, theirs", [
    (lambda p: SGD(p, lr=0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
    (lambda p: SGD(p, lr=0.05, momentum=0.9), lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9)),
    (lambda p: SGD(p, lr=0.05, momentum=0.8, weight_decay=0.01),
     lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.8, weight_decay=0.01)),
    (lambda p: Adam(p, lr=0.01), lambda p: torch.optim.Adam(p, lr=0.01)),
    (lambda p: Adam(p, lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05),
     lambda p: torch.optim.Adam(p, lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05)),
], ids=["sgd", "sgd-momentum", "sgd-momentum-decay", "adam", "adam-decay"])
def test_ten_steps_match_torch_optim(ours, theirs):
    model = TensorMLP([4, 8, 8, 3], seed=0)
    twin = torch_twin(model)
    optimizer, reference = ours(model.parameters()), theirs(twin.parameters())
    for features, labels in batches():
        optimizer.zero_grad()
        loss = F.cross_entropy(model(Tensor(features)), labels)
        loss.backward()
        optimizer.step()
        reference.zero_grad()
        expected = torch.nn.functional.cross_entropy(twin(torch.from_numpy(features)), torch.from_numpy(labels))
        expected.backward()
        reference.step()
        assert loss.item() == pytest.approx(expected.item(), rel=1e-10)
    for (name, parameter), twin_parameter in zip(model.named_parameters(), twin.parameters()):
        np.testing.assert_allclose(parameter.data, twin_parameter.detach().numpy(), rtol=0, atol=1e-10,
                                   err_msg=name)
        assert parameter.data.dtype == np.float64 and parameter.requires_grad


def test_a_parameter_without_gradient_is_left_alone_like_torch():
    model = TensorMLP([2, 3, 1], seed=0)
    frozen = model[2].bias
    before = frozen.data.copy()
    optimizer = Adam(model.parameters(), lr=0.1)
    for _ in range(3):
        optimizer.zero_grad()
        model(np.ones((2, 2))).sum().backward()
        frozen.grad = None  # as if it were frozen for these steps
        optimizer.step()
    np.testing.assert_array_equal(frozen.data, before)
    # When it does get a gradient, its Adam state starts at step 1: |first update| = lr (hand:
    # m / sqrt(v) = g / |g| after bias correction when eps is negligible).
    optimizer.zero_grad()
    model(np.ones((2, 2))).sum().backward()
    optimizer.step()
    np.testing.assert_allclose(np.abs(frozen.data - before), 0.1, rtol=1e-6)
