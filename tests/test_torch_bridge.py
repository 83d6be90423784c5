"""to_torch / from_torch: the same function with the same weights; outputs and gradients agree
with PyTorch's within 1e-12 in float64 (the references are PyTorch's own forward and backward)."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

from autograd_core import Tensor, sum_values
from nn import (ELU, MLP, Identity, LeakyReLU, Linear, ReLU, Sequential, Sigmoid, Softmax, Tanh, TensorMLP,
                from_torch, functional as F, to_torch)
from nn.layers import Activation

RNG = np.random.default_rng(7)
X = RNG.normal(size=(6, 3))
LABELS = np.array([0, 2, 1, 1, 0, 2])


def check_same(model, twin, X=X, labels=LABELS):
    """Forward and backward (cross-entropy on the outputs) in both; compare everything."""
    out = model(Tensor(X))
    twin_out = twin(torch.from_numpy(X))
    np.testing.assert_allclose(out.data, twin_out.detach().numpy(), rtol=1e-12, atol=1e-14)
    F.cross_entropy(out, labels).backward()
    torch.nn.functional.cross_entropy(twin_out, torch.from_numpy(labels)).backward()
    ours = [p.grad for p in model.parameters()]
    theirs = [p.grad.numpy() for p in twin.parameters()]
    assert len(ours) == len(theirs) > 0
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "leaky_relu(0.1)", "elu(0.5)"])
def test_a_tensor_mlp_and_its_twin_agree(activation):
    model = TensorMLP([3, 5, 4, 3], activation=activation, seed=1)
    twin = to_torch(model)
    assert isinstance(twin, torch.nn.Sequential) and len(twin) == len(model)
    assert all(p.dtype == torch.float64 for p in twin.parameters())
    check_same(model, twin)


def test_every_activation_module_and_a_nested_sequential():
    model = Sequential(Linear(3, 4, seed=0), LeakyReLU(0.2), Sequential(Linear(4, 4, seed=1), ELU(0.7)),
                       Identity(), Linear(4, 3, seed=2), Tanh(), Linear(3, 3, seed=3), Sigmoid(),
                       Linear(3, 3, seed=4), ReLU(), Linear(3, 3, bias=False, seed=5), Softmax(axis=1))
    twin = to_torch(model)
    assert isinstance(twin[2], torch.nn.Sequential) and isinstance(twin[2][1], torch.nn.ELU)
    assert twin[1].negative_slope == 0.2 and twin[2][1].alpha == 0.7 and twin[11].dim == 1
    check_same(model, twin)
    back = from_torch(twin)
    check_same(back, to_torch(back))
    for ours, theirs in zip(back.parameters(), model.parameters()):
        np.testing.assert_array_equal(ours.data, theirs.data)


def test_a_scalar_mlp_and_its_twin_agree_on_outputs_and_parameter_gradients():
    model = MLP(3, [4, 4, 1], activation="tanh", output_activation="sigmoid", seed=3)
    twin = to_torch(model)
    targets = np.array([1.0, 0.0, 1.0, 1.0, 0.0, 0.0])
    loss = sum_values(F.binary_cross_entropy(model(list(x)), t) for x, t in zip(X, targets)) / len(X)
    loss.backward()
    out = twin(torch.from_numpy(X)).reshape(-1)
    np.testing.assert_allclose([model(list(x)).data for x in X], out.detach().numpy(), rtol=1e-12)
    torch.nn.functional.binary_cross_entropy(out, torch.from_numpy(targets)).backward()
    for layer, (weight, bias) in zip(model.layers, zip(list(twin.parameters())[::2], list(twin.parameters())[1::2])):
        np.testing.assert_allclose([[w.grad for w in n.w] for n in layer.neurons], weight.grad.numpy(),
                                   rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose([n.b.grad for n in layer.neurons], bias.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_from_torch_rebuilds_the_model_with_torch_s_weights():
    torch.manual_seed(0)
    twin = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.ReLU(), torch.nn.Linear(5, 3)).double()
    model = from_torch(twin)
    assert isinstance(model, Sequential) and isinstance(model[1], ReLU)
    check_same(model, twin)


def test_from_torch_scalar_builds_an_mlp_that_computes_the_same():
    torch.manual_seed(1)
    twin = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.LeakyReLU(0.1), torch.nn.Linear(4, 2)).double()
    model = from_torch(twin, scalar=True)
    assert isinstance(model, MLP) and model.nouts == [4, 2] and model.activation == "leaky_relu(0.1)"
    expected = twin(torch.from_numpy(X)).detach().numpy()
    np.testing.assert_allclose([[v.data for v in model(list(x))] for x in X], expected, rtol=1e-12)
    round_trip = to_torch(model)
    np.testing.assert_allclose(round_trip(torch.from_numpy(X)).detach().numpy(), expected, rtol=1e-12)


def test_float32_models_stay_float32_both_ways():
    model = TensorMLP([3, 4, 2], dtype=np.float32, seed=0)
    twin = to_torch(model)
    assert all(p.dtype == torch.float32 for p in twin.parameters())
    assert all(p.data.dtype == np.float32 for p in from_torch(twin).parameters())


def test_converting_does_not_touch_torch_s_random_state():
    state = torch.random.get_rng_state()
    to_torch(TensorMLP([3, 8, 2], seed=0))
    assert torch.equal(state, torch.random.get_rng_state())


def test_what_cannot_be_converted_is_named():
    twin = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.GELU(), torch.nn.Sequential(torch.nn.Conv1d(1, 1, 2)))
    with pytest.raises(TypeError, match=r"cannot convert module 1 \(GELU\); 2\.0 \(Conv1d\)\. It converts Linear"):
        from_torch(twin)
    with pytest.raises(TypeError, match=r"Softmax without dim"):
        from_torch(torch.nn.Softmax())
    with pytest.raises(TypeError, match=r"scalar=True\): cannot convert module 1 \(GELU\)"):
        from_torch(twin, scalar=True)
    from autograd_core import define_op, exp, log, sigmoid

    define_op("softplus_bridge", forward=lambda x: log(1 + exp(x)), derivative=lambda x, out: sigmoid(x),
              formula="sigmoid({x})")
    with pytest.raises(TypeError, match=r"to_torch: cannot convert 1 \(Activation\('softplus_bridge'\)"):
        to_torch(Sequential(Linear(2, 2), Activation("softplus_bridge")))
    with pytest.raises(TypeError, match="model must be an nn Module"):
        to_torch(lambda x: x)
    with pytest.raises(TypeError, match="must be a torch.nn.Module"):
        from_torch(TensorMLP([2, 1]))


def test_a_missing_torch_is_a_clear_import_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ImportError, match="need PyTorch, which chainrule itself does not need: pip install torch"):
        to_torch(TensorMLP([2, 1]))
    with pytest.raises(ImportError, match="pip install torch"):
        from_torch(object())


def test_importing_nn_does_not_import_torch():
    import subprocess

    code = "import sys, nn; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
