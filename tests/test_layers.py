"""Tensor layers against torch.nn (same weights), their init, errors, and Module features on them."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from autograd_core import Tensor, no_grad
from nn import functional as F
from nn.layers import (ELU, Identity, LeakyReLU, Linear, ReLU, Sequential, Sigmoid, Softmax, Tanh,
                       TensorMLP, linear)
from nn.module import ModelFileError, Module
from oracles import torch_linear, torch_twin


# -- Linear -----------------------------------------------------------------------------------------

def test_linear_init_is_torchs_uniform_bound_and_stores_weight_out_by_in():
    layer = Linear(784, 256, seed=0)
    bound = 1.0 / np.sqrt(784)  # hand: kaiming_uniform(a=sqrt(5)) gives gain*sqrt(3/fan_in) = 1/sqrt(fan_in)
    reference = torch.nn.Linear(784, 256)
    assert layer.weight.shape == tuple(reference.weight.shape) == (256, 784)
    assert layer.bias.shape == tuple(reference.bias.shape) == (256,)
    for ours, theirs in [(layer.weight.data, reference.weight.detach().numpy()),
                         (layer.bias.data, reference.bias.detach().numpy())]:
        # torch draws in float32, from the bound rounded to float32 (0.035714287 > 1/28).
        assert np.abs(ours).max() <= bound and np.abs(theirs).max() <= np.float32(bound)
        # A uniform(-b, b) sample of this size reaches within 2% of b on both sides.
        assert ours.max() > 0.98 * bound and ours.min() < -0.98 * bound
    # Hand: the variance of uniform(-b, b) is b^2 / 3.
    assert layer.weight.data.var() == pytest.approx(bound ** 2 / 3, rel=0.02)
    assert layer.weight.requires_grad and layer.bias.requires_grad and layer.weight.dtype == np.float64


def test_linear_seed_reproduces_and_a_shared_generator_differs_per_layer():
    a, b = Linear(3, 2, seed=7), Linear(3, 2, seed=7)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    np.testing.assert_array_equal(a.bias.data, b.bias.data)
    assert not np.array_equal(a.weight.data, Linear(3, 2, seed=8).weight.data)
    rng = np.random.default_rng(7)
    first, second = Linear(3, 2, seed=rng), Linear(3, 2, seed=rng)
    np.testing.assert_array_equal(first.weight.data, a.weight.data)
    assert not np.array_equal(first.weight.data, second.weight.data)


@given(st.integers(1, 5), st.integers(1, 4), st.integers(1, 4), st.booleans(), st.data())
def test_linear_forward_and_backward_match_torch(batch, in_features, out_features, bias, data):
    layer = Linear(in_features, out_features, bias=bias, seed=data.draw(st.integers(0, 2 ** 32 - 1)))
    inputs = data.draw(arrays(np.float64, (batch, in_features), elements=st.floats(-3.0, 3.0)))
    upstream = data.draw(arrays(np.float64, (batch, out_features), elements=st.floats(-3.0, 3.0)))
    x = Tensor(inputs, requires_grad=True)
    y = layer(x)
    y.backward(upstream)
    twin = torch_linear(layer)
    tx = torch.tensor(inputs, requires_grad=True)
    ty = twin(tx)
    ty.backward(torch.from_numpy(upstream))
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(layer.weight.grad, twin.weight.grad.numpy(), rtol=1e-13, atol=1e-13)
    if bias:
        np.testing.assert_allclose(layer.bias.grad, twin.bias.grad.numpy(), rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("shape", [(3,), (2, 4, 3)])
def test_linear_takes_one_sample_or_extra_batch_dimensions_like_torch(shape):
    layer = Linear(3, 2, seed=1)
    inputs = np.random.default_rng(0).normal(size=shape)
    x = Tensor(inputs, requires_grad=True)
    y = layer(x)
    y.backward(np.ones(y.shape))
    twin, tx = torch_linear(layer), torch.tensor(inputs, requires_grad=True)
    ty = twin(tx)
    ty.sum().backward()
    assert y.shape == tuple(ty.shape)
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-13)
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-13)
    np.testing.assert_allclose(layer.weight.grad, twin.weight.grad.numpy(), rtol=1e-13)
    np.testing.assert_allclose(layer.bias.grad, twin.bias.grad.numpy(), rtol=1e-13)


def test_linear_is_one_node_and_skips_the_gradient_of_a_constant_input():
    layer = Linear(2, 2, seed=0)
    x = Tensor([[1.0, 2.0]])
    y = layer(x)
    assert y.op == "linear" and y.parents == (x, layer.weight, layer.bias)
    y.sum().backward()
    assert x.grad is None
    # Hand: y = x W^T + b, so dsum(y)/dW_ij = x_j and dsum(y)/db_i = 1.
    np.testing.assert_array_equal(layer.weight.grad, [[1.0, 2.0], [1.0, 2.0]])
    np.testing.assert_array_equal(layer.bias.grad, [1.0, 1.0])


def test_linear_accepts_arrays_and_lists():
    layer = Linear(2, 1, seed=0)
    expected = np.array([[1.0, -2.0]]) @ layer.weight.data.T + layer.bias.data
    np.testing.assert_allclose(layer([[1.0, -2.0]]).data, expected)
    np.testing.assert_allclose(layer(np.array([[1.0, -2.0]])).data, expected)


def test_linear_errors_name_the_shapes_and_types():
    layer = Linear(4, 3, seed=0)
    with pytest.raises(ValueError, match=r"Linear\(in_features=4, out_features=3.*input of shape \(150, 5\) "
                                         r"does not fit the weight of shape \(3, 4\)"):
        layer(Tensor(np.zeros((150, 5))))
    with pytest.raises(ValueError, match=r"input of shape \(\)"):
        layer(Tensor(1.0))
    with pytest.raises(TypeError, match="input has dtype float32 but weight has dtype float64; convert the input"):
        layer(Tensor(np.zeros((1, 4)), dtype=np.float32))
    with pytest.raises(TypeError, match="the input must be a Tensor or an array of numbers"):
        layer("four numbers")
    with pytest.raises(ValueError, match="in_features must be a positive int, got 0"):
        Linear(0, 3)
    with pytest.raises(ValueError, match="out_features must be a positive int, got 2.5"):
        Linear(3, 2.5)
    with pytest.raises(TypeError, match="seed must be None, an int or a numpy Generator"):
        Linear(3, 2, seed="zero")
    with pytest.raises(TypeError, match="bias must be True or False"):
        Linear(3, 2, bias=1)
    with pytest.raises(TypeError, match="dtype must be float64 or float32"):
        Linear(3, 2, dtype=np.int32)
    with pytest.raises(ValueError, match=r"linear: bias has shape \(2,\), expected \(3,\)"):
        linear(Tensor(np.zeros((1, 4))), layer.weight, Tensor(np.zeros(2)))


def test_linear_float32():
    layer = Linear(3, 2, seed=0, dtype=np.float32)
    y = layer(np.ones((2, 3), dtype=np.float32))
    y.sum().backward()
    assert y.dtype == layer.weight.grad.dtype == layer.bias.grad.dtype == np.float32


def test_the_graph_is_freed_without_the_cycle_collector():
    model = TensorMLP([3, 4, 2], seed=0)
    gc.disable()
    try:
        loss = F.cross_entropy(model(np.ones((2, 3))), np.array([0, 1]))
        loss.backward()
        output = weakref.ref(loss)
        del loss
        assert output() is None  # no reference cycle keeps the graph alive
    finally:
        gc.enable()


# -- activation modules ---------------------------------------------------------------------------

@pytest.mark.parametrize("ours, theirs", [
    (ReLU(), torch.nn.ReLU()), (Tanh(), torch.nn.Tanh()), (Sigmoid(), torch.nn.Sigmoid()),
    (LeakyReLU(), torch.nn.LeakyReLU()), (LeakyReLU(0.1), torch.nn.LeakyReLU(0.1)),
    (ELU(), torch.nn.ELU()), (ELU(0.5), torch.nn.ELU(0.5)), (Identity(), torch.nn.Identity()),
    (Softmax(), torch.nn.Softmax(dim=-1)), (Softmax(0), torch.nn.Softmax(dim=0)),
])
@given(inputs=arrays(np.float64, (3, 4), elements=st.floats(-6.0, 6.0)),
       upstream=arrays(np.float64, (3, 4), elements=st.floats(-2.0, 2.0)))
def test_activation_modules_match_torch(ours, theirs, inputs, upstream):
    x = Tensor(inputs, requires_grad=True)
    y = ours(x)
    y.backward(upstream)
    tx = torch.tensor(inputs, requires_grad=True)
    ty = theirs(tx)
    ty.backward(torch.from_numpy(upstream))
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_activation_modules_have_no_parameters_and_check_their_arguments():
    assert ReLU().parameters() == [] and Softmax().parameters() == []
    with pytest.raises(TypeError, match="LeakyReLU negative_slope must be a real number"):
        LeakyReLU("0.1")
    with pytest.raises(ValueError, match="ELU alpha must be finite"):
        ELU(float("nan"))
    with pytest.raises(TypeError, match="Softmax axis must be an int"):
        Softmax(1.0)
    with pytest.raises(ValueError, match="softmax: axis 2 is out of range"):
        Softmax(2)(Tensor(np.zeros((2, 2))))


# -- Sequential and the MLP builder -------------------------------------------------------------------

def test_sequential_is_indexable_sized_and_iterable():
    first, act, last = Linear(2, 3, seed=0), Tanh(), Linear(3, 1, seed=1)
    model = Sequential(first, act, last)
    assert len(model) == 3 and list(model) == [first, act, last]
    assert model[0] is first and model[-1] is last
    tail = model[1:]
    assert isinstance(tail, Sequential) and list(tail) == [act, last]
    assert [name for name, _ in model.named_parameters()] == [
        "layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias"]
    assert first.weight.label == "layers.0.weight"
    x = np.array([[0.5, -1.0]])
    np.testing.assert_allclose(model(x).data, last(act(first(x))).data)
    with pytest.raises(IndexError, match="Sequential index 3 out of range for 3 modules"):
        model[3]
    with pytest.raises(TypeError, match="indices must be ints or slices"):
        model["0"]


def test_sequential_refuses_what_is_not_a_module():
    with pytest.raises(TypeError, match=r"Sequential\(\*modules\), not Sequential\(\[...\]\)"):
        Sequential([ReLU()])
    with pytest.raises(TypeError, match="argument 1 must be a callable Module, got ufunc"):
        Sequential(ReLU(), np.tanh)


def test_tensor_mlp_builds_linear_layers_with_activations_between():
    model = TensorMLP([4, 16, 16, 3], activation="tanh", output_activation="softmax", seed=0)
    assert isinstance(model, TensorMLP) and isinstance(model, Module)
    kinds = [type(layer) for layer in model]
    assert kinds == [Linear, Tanh, Linear, Tanh, Linear, Softmax]
    assert [(m.in_features, m.out_features) for m in model if isinstance(m, Linear)] == [(4, 16), (16, 16), (16, 3)]
    assert len(model.parameters()) == 6
    assert model.config() == {"sizes": [4, 16, 16, 3], "activation": "tanh", "output_activation": "softmax",
                              "dtype": "float64"}
    same = TensorMLP([4, 16, 16, 3], activation="tanh", output_activation="softmax", seed=0)
    for (_, a), (_, b) in zip(model.named_parameters(), same.named_parameters()):
        np.testing.assert_array_equal(a.data, b.data)
    assert [type(layer) for layer in TensorMLP([2, 1])] == [Linear]


def test_tensor_mlp_matches_torch_forward_and_backward():
    model = TensorMLP([4, 16, 16, 3], activation="elu", seed=3)
    twin = torch_twin(model)
    inputs = np.random.default_rng(1).normal(size=(10, 4))
    labels = np.array([0, 1, 2, 1, 0, 2, 2, 1, 0, 0])
    loss = F.cross_entropy(model(inputs), labels)
    loss.backward()
    expected = torch.nn.functional.cross_entropy(twin(torch.from_numpy(inputs)), torch.from_numpy(labels))
    expected.backward()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-13)
    for (name, ours), theirs in zip(model.named_parameters(), twin.parameters()):
        np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-11, atol=1e-14, err_msg=name)


def test_tensor_mlp_errors():
    with pytest.raises(ValueError, match="at least the input and output sizes"):
        TensorMLP([4])
    with pytest.raises(ValueError, match=r"sizes\[1\] must be a positive int, got 0"):
        TensorMLP([4, 0, 3])
    with pytest.raises(ValueError, match="unknown activation 'swish'; valid activations: identity, relu"):
        TensorMLP([4, 3], activation="swish")
    with pytest.raises(ValueError, match="unknown activation 'soft'"):
        TensorMLP([4, 3], output_activation="soft")


# -- Module features on tensor models -------------------------------------------------------------------

def test_zero_grad_train_eval_and_parameters():
    model = TensorMLP([3, 5, 2], seed=0)
    model(np.ones((4, 3))).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    model.eval()
    assert not model.training and not any(m.training for _, m in model.named_modules())
    model.train()
    assert all(m.training for _, m in model.named_modules())
    assert len(model.parameters()) == len({id(p) for p in model.parameters()}) == 4


def test_state_dict_is_a_copy_and_load_state_dict_restores():
    model = TensorMLP([3, 5, 2], seed=0)
    state = model.state_dict()
    assert list(state) == ["layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias"]
    state["layers.0.weight"][:] = 0.0
    assert not np.all(model[0].weight.data == 0.0)
    other = TensorMLP([3, 5, 2], seed=1)
    other.load_state_dict(model.state_dict())
    x = np.random.default_rng(0).normal(size=(4, 3))
    np.testing.assert_array_equal(other(x).data, model(x).data)


def test_save_load_round_trip_is_bit_for_bit(tmp_path):
    model = TensorMLP([4, 8, 3], activation="leaky_relu", seed=0)
    with no_grad():
        model[0].weight.data[0, 0] = np.nextafter(1.0, 2.0)  # a value text formats would round
    path = tmp_path / "model.npz"
    model.save(path)
    rebuilt = TensorMLP.load(path)
    assert isinstance(rebuilt, TensorMLP) and rebuilt.config() == model.config()
    into = TensorMLP([4, 8, 3], activation="leaky_relu", seed=5).load(path)
    for loaded in (rebuilt, into):
        for (name, a), (other_name, b) in zip(model.named_parameters(), loaded.named_parameters()):
            assert name == other_name and a.data.dtype == b.data.dtype
            assert a.data.tobytes() == b.data.tobytes()
            assert b.requires_grad


def test_load_refuses_truncated_and_foreign_files(tmp_path):
    model = TensorMLP([4, 8, 3], seed=0)
    path = tmp_path / "model.npz"
    model.save(path)
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ModelFileError, match="truncated or corrupted"):
        model.load(truncated)
    text = tmp_path / "notes.txt"
    text.write_text("not a model")
    with pytest.raises(ModelFileError, match="not a .npz model file"):
        model.load(text)
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, kernel=np.zeros((3, 3)))
    with pytest.raises(ModelFileError, match=r"missing keys: \['layers.0.weight'.*unexpected keys: \['kernel'\]"):
        model.load(foreign)
    with pytest.raises(ModelFileError, match="does not record which model it holds"):
        TensorMLP.load(foreign)


def test_load_refuses_missing_unexpected_and_misshapen_parameters(tmp_path):
    model = TensorMLP([4, 8, 3], seed=0)
    state = model.state_dict()
    missing = dict(state)
    del missing["layers.2.bias"]
    with pytest.raises(ValueError, match=r"missing keys: \['layers.2.bias'\]"):
        model.load_state_dict(missing)
    with pytest.raises(ValueError, match=r"unexpected keys: \['layers.9.weight'\]"):
        model.load_state_dict({**state, "layers.9.weight": np.zeros(2)})
    wider = TensorMLP([4, 9, 3], seed=0)
    path = tmp_path / "wider.npz"
    wider.save(path)
    before = model[0].weight.data.copy()
    with pytest.raises(ModelFileError, match=r"shape mismatch for layers.0.weight: the model has shape \(8, 4\), "
                                             r"the state has shape \(9, 4\)"):
        model.load(path)
    np.testing.assert_array_equal(model[0].weight.data, before)  # nothing changed
    with pytest.raises(ModelFileError, match="holds a TensorMLP, not a Linear"):
        Linear.load(path)
    assert isinstance(Sequential.load(path), TensorMLP)  # a TensorMLP is a Sequential


def test_tensor_mlp_takes_activations_with_a_parameter():
    model = TensorMLP([2, 4, 1], activation="leaky_relu(0.1)", seed=3)
    assert [type(m).__name__ for m in model] == ["Linear", "LeakyReLU", "Linear"]
    assert model[1].negative_slope == 0.1
    x = np.array([[1.0, -2.0], [-3.0, 0.5]])
    expected = torch_twin(model)(torch.tensor(x)).detach().numpy()  # torch.nn.LeakyReLU(0.1)
    np.testing.assert_allclose(model(Tensor(x)).data, expected, rtol=1e-14)
    assert type(TensorMLP([2, 1], output_activation="elu(0.5)")[-1]).__name__ == "ELU"
    with pytest.raises(ValueError, match="activation 'relu' takes no parameter"):
        TensorMLP([2, 1], activation="relu(2)")


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "elu(0.5)"])
def test_hessian_of_an_nn_model_loss_equals_torch(activation):
    """Gradients of gradients through nn's own layers and loss: the Hessian of a TensorMLP's
    cross-entropy with respect to its first layer's weights equals torch's."""
    from autograd_core import hessian
    model = TensorMLP([3, 4, 3], activation=activation, seed=1)
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(5, 3)), np.array([0, 2, 1, 1, 0])
    w0 = model[0].weight.data.copy()

    def ours(w: Tensor) -> Tensor:
        hidden = F.linear(Tensor(X), w, model[0].bias.detach())
        return F.cross_entropy(model[2](model[1](hidden)), y)

    torch_activation = {"tanh": torch.tanh, "sigmoid": torch.sigmoid,
                        "elu(0.5)": lambda h: torch.nn.functional.elu(h, 0.5)}[activation]

    def theirs(w: torch.Tensor) -> torch.Tensor:
        hidden = torch.tensor(X) @ w.T + torch.tensor(model[0].bias.data)
        logits = torch_activation(hidden) @ torch.tensor(model[2].weight.data).T \
            + torch.tensor(model[2].bias.data)
        return torch.nn.functional.cross_entropy(logits, torch.tensor(y))

    expected = torch.autograd.functional.hessian(theirs, torch.tensor(w0)).numpy()
    np.testing.assert_allclose(hessian(ours, w0), expected, rtol=1e-9, atol=1e-12)


def test_an_empty_sequential_returns_its_input_as_a_tensor():
    out = Sequential()(np.array([[1.0, 2.0]]))
    assert isinstance(out, Tensor) and out.data.tolist() == [[1.0, 2.0]]
    x = Tensor([3.0], requires_grad=True)
    assert Sequential()(x) is x  # torch.nn.Sequential() returns its input itself


def test_a_file_whose_config_disagrees_with_its_arrays_is_refused_before_allocating(tmp_path):
    """A TensorMLP (or Sequential) file whose config says sizes=[10**7, 10**7] is refused by
    comparing the shapes the config implies with the stored arrays, not by running out of memory."""
    import json
    for model in (TensorMLP([2, 3, 1], seed=0), Sequential(Linear(2, 3, seed=0), ReLU())):
        path = model.save(tmp_path / "m")
        stored = dict(np.load(path, allow_pickle=False))
        record = json.loads(str(stored["__chainrule_module__"]))
        if "sizes" in record["config"]:
            record["config"]["sizes"] = [10**7, 10**7]
        else:
            record["config"]["layers"][0]["config"]["in_features"] = 10**7
        stored["__chainrule_module__"] = np.array(json.dumps(record))
        np.savez(tmp_path / "forged.npz", **stored)
        with pytest.raises(ModelFileError, match=r"does not match its stored arrays.*10000000"):
            Module.load(tmp_path / "forged.npz")
