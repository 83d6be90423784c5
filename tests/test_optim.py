"""SGD and Adam against torch.optim (float64) on Value and array parameters, hand derivations,
and their argument checks."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from autograd_core import Tensor, Value
from nn import MLP, SGD, Adam, losses

STEPS = 10
CONFIGS = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.5, "weight_decay": 0.01}),
    ("Adam", {"lr": 0.01}),
    ("Adam", {"lr": 0.05, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.1}),
]
OURS = {"SGD": SGD, "Adam": Adam}
THEIRS = {"SGD": torch.optim.SGD, "Adam": torch.optim.Adam}

INPUTS = [[0.5, -1.0], [1.5, 0.3], [-0.7, 0.8], [0.1, 0.1]]
TARGETS = [1.0, -0.5, 0.25, 0.0]


def scalar_model() -> MLP:
    model = MLP(2, [3, 1], activation="tanh", seed=0)
    for i, neuron in enumerate(n for layer in model.layers for n in layer.neurons):
        neuron.b.data = 0.1 * (i + 1)
    return model


def torch_twin(model: MLP) -> list[torch.Tensor]:
    """Weight matrices and bias vectors holding `model`'s values, as float64 leaves."""
    tensors = []
    for layer in model.layers:
        tensors.append(torch.tensor([[w.data for w in n.w] for n in layer.neurons], dtype=torch.float64,
                                    requires_grad=True))
        tensors.append(torch.tensor([n.b.data for n in layer.neurons], dtype=torch.float64, requires_grad=True))
    return tensors


def torch_loss(tensors: list[torch.Tensor]) -> torch.Tensor:
    w1, b1, w2, b2 = tensors
    x = torch.tensor(INPUTS, dtype=torch.float64)
    out = (torch.tanh(x @ w1.T + b1) @ w2.T + b2)[:, 0]
    return ((out - torch.tensor(TARGETS, dtype=torch.float64)) ** 2).mean()


def flatten(model: MLP) -> list[float]:
    """The model's values in the twin's order: per layer its weight matrix rows, then biases."""
    values = []
    for layer in model.layers:
        values += [w.data for n in layer.neurons for w in n.w] + [n.b.data for n in layer.neurons]
    return values


@pytest.mark.parametrize("name, options", CONFIGS)
def test_ten_steps_on_value_parameters_match_torch_optim(name, options):
    model = scalar_model()
    twin = torch_twin(model)
    ours, theirs = OURS[name](model.parameters(), **options), THEIRS[name](twin, **options)
    for _ in range(STEPS):
        loss = losses.mse([model(x) for x in INPUTS], TARGETS)
        ours.zero_grad()
        loss.backward()
        ours.step()
        theirs.zero_grad()
        reference = torch_loss(twin)
        reference.backward()
        theirs.step()
        assert loss.data == pytest.approx(reference.item(), rel=1e-10, abs=1e-12)
        expected = torch.cat([t.detach().flatten() for t in twin]).tolist()
        assert flatten(model) == pytest.approx(expected, rel=0, abs=1e-10)
        assert all(type(p.data) is float for p in model.parameters())


class ArrayParameter:
    """A duck-typed tensor parameter: ndarray ``data`` and ``grad``."""

    def __init__(self, data):
        self.data = np.array(data, dtype=np.float64)
        self.grad = None


def torch_gradients(arrays: list[np.ndarray]) -> list[np.ndarray]:
    """The gradient of sum(sin(a) * a) + sum(b^3) / 3, from torch, at the given arrays."""
    a, b = (torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in arrays)
    ((torch.sin(a) * a).sum() + (b ** 3).sum() / 3).backward()
    return [a.grad.numpy().copy(), b.grad.numpy().copy()]


@pytest.mark.parametrize("parameter_type", [ArrayParameter, lambda data: Tensor(data, requires_grad=True)])
@pytest.mark.parametrize("name, options", CONFIGS)
def test_ten_steps_on_array_parameters_match_torch_optim(name, options, parameter_type):
    start = [np.array([0.5, -1.2, 2.0]), np.array([[0.3, -0.4], [1.1, 0.9]])]
    params = [parameter_type(x) for x in start]
    twin = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in start]
    ours, theirs = OURS[name](params, **options), THEIRS[name](twin, **options)
    for _ in range(STEPS):
        for parameter, gradient in zip(params, torch_gradients([p.data for p in params])):
            parameter.grad = gradient
        ours.step()
        theirs.zero_grad()
        ((torch.sin(twin[0]) * twin[0]).sum() + (twin[1] ** 3).sum() / 3).backward()
        theirs.step()
        for parameter, reference in zip(params, twin):
            assert isinstance(parameter.data, np.ndarray) and parameter.data.shape == reference.shape
            np.testing.assert_allclose(parameter.data, reference.detach().numpy(), rtol=0, atol=1e-10)
    ours.zero_grad()
    assert all(p.grad is None for p in params)


@pytest.mark.parametrize("name, options", CONFIGS)
def test_parameters_without_a_gradient_are_skipped_like_torch(name, options):
    params = [ArrayParameter([1.0, -2.0]), ArrayParameter([0.5])]
    twin = [torch.tensor(p.data, requires_grad=True) for p in params]
    ours, theirs = OURS[name](params, **options), THEIRS[name](twin, **options)
    for step in range(6):
        # The second parameter only gets gradients from step 3 on (its Adam step count starts then).
        with_gradient = [True, step >= 3]
        for parameter, reference, has_gradient in zip(params, twin, with_gradient):
            gradient = np.cos(parameter.data) + step if has_gradient else None
            parameter.grad = gradient
            reference.grad = None if gradient is None else torch.tensor(gradient)
        ours.step()
        theirs.step()
        for parameter, reference in zip(params, twin):
            np.testing.assert_allclose(parameter.data, reference.detach().numpy(), rtol=0, atol=1e-12)
    assert params[1].data[0] != 0.5


def test_adams_first_step_by_hand():
    # m1 = (1 - b1) g, v1 = (1 - b2) g^2; bias correction divides them by (1 - b1), (1 - b2):
    # p1 = p0 - lr * g / (|g| + eps).
    p = Value(1.0)
    p.grad = -0.5
    Adam([p], lr=0.1).step()
    assert p.data == pytest.approx(1.0 - 0.1 * -0.5 / (0.5 + 1e-8), rel=1e-15)


def test_sgd_momentum_by_hand():
    # buf1 = g, p1 = p0 - lr g;  buf2 = m g + g, p2 = p1 - lr (1 + m) g.
    p = Value(2.0)
    optimizer = SGD([p], lr=0.1, momentum=0.9)
    for _ in range(2):
        p.grad = 4.0
        optimizer.step()
    assert p.data == pytest.approx(2.0 - 0.1 * 4.0 - 0.1 * 1.9 * 4.0, rel=1e-15)


def test_zero_grad_resets_value_gradients_to_zero():
    p = Value(1.0)
    p.grad = 3.0
    SGD([p], lr=0.1).zero_grad()
    assert p.grad == 0.0


@pytest.mark.parametrize("build, error, message", [
    (lambda p: SGD([], lr=0.1), ValueError, "SGD got an empty parameter list"),
    (lambda p: Adam(iter([])), ValueError, "Adam got an empty parameter list"),
    (lambda p: SGD(MLP(1, [1]), lr=0.1), TypeError, r"SGD expects the parameters, e.g. SGD\(model.parameters\(\)"),
    (lambda p: SGD(p[0], lr=0.1), TypeError, "SGD expects an iterable of parameters, got Value"),
    (lambda p: SGD([p[0], 1.0], lr=0.1), TypeError, r"SGD: parameter 1 \(float\) has no .data and .grad"),
    (lambda p: Adam([p[0], p[1], p[0]]), ValueError, "Adam: parameter 2 appears more than once"),
    (lambda p: SGD(p, lr=-0.1), ValueError, r"SGD: lr must be in \[0, inf\), got -0.1"),
    (lambda p: SGD(p, lr=math.nan), ValueError, "SGD: lr must be in"),
    (lambda p: SGD(p, lr="0.1"), TypeError, "SGD: lr must be a number, got str"),
    (lambda p: SGD(p, lr=0.1, momentum=1.0), ValueError, r"SGD: momentum must be in \[0, 1\), got 1.0"),
    (lambda p: SGD(p, lr=0.1, momentum=-0.5), ValueError, "SGD: momentum must be in"),
    (lambda p: SGD(p, lr=0.1, weight_decay=-1), ValueError, "SGD: weight_decay must be in"),
    (lambda p: Adam(p, lr=-1.0), ValueError, "Adam: lr must be in"),
    (lambda p: Adam(p, betas=(1.0, 0.999)), ValueError, r"Adam: betas\[0\] must be in \[0, 1\), got 1.0"),
    (lambda p: Adam(p, betas=(0.9, -0.1)), ValueError, r"Adam: betas\[1\] must be in"),
    (lambda p: Adam(p, betas=0.9), TypeError, r"Adam: betas must be a pair \(beta1, beta2\)"),
    (lambda p: Adam(p, eps=0.0), ValueError, r"Adam: eps must be in \(0, inf\), got 0.0"),
    (lambda p: Adam(p, weight_decay=-0.1), ValueError, "Adam: weight_decay must be in"),
])
def test_bad_arguments_raise_clear_errors(build, error, message):
    with pytest.raises(error, match=message):
        build([Value(1.0), Value(2.0)])


# -- a wrong .grad is refused, naming the parameter (issue 11) ----------------------------------

@pytest.mark.parametrize("optimizer_class", [SGD, Adam])
def test_a_grad_of_another_shape_is_refused_not_broadcast_into_the_parameter(optimizer_class):
    import numpy as np
    from autograd_core import Tensor
    weight = Tensor(np.ones((2, 3)), requires_grad=True, label="w")
    weight.grad = np.ones((5, 2, 3))  # would turn the (2, 3) parameter into (5, 2, 3)
    with pytest.raises(ValueError, match=r"'w'.*shape \(5, 2, 3\).*parameter's shape \(2, 3\)"):
        optimizer_class([weight], lr=0.1).step()
    assert weight.data.shape == (2, 3)


def test_an_array_grad_on_a_value_and_a_string_grad_are_refused():
    import numpy as np
    from autograd_core import Tensor
    bias = Value(1.0, "b")
    bias.grad = np.ones(3)
    with pytest.raises(TypeError, match=r"'b'.*is a number, but its .grad is a ndarray"):
        SGD([bias], lr=0.1).step()
    assert bias.data == 1.0
    weight = Tensor([1.0, 2.0], requires_grad=True, label="w")
    weight.grad = "abc"
    with pytest.raises(TypeError, match=r"'w'.*\.grad of type str"):
        Adam([weight], lr=0.1).step()


def test_a_non_leaf_tensor_is_not_a_parameter():
    from autograd_core import Tensor
    leaf = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"computed by an operation \(\*\), not a leaf"):
        SGD([leaf * 2.0], lr=0.1)
