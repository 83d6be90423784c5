"""Neuron, Layer, MLP and the scalar activations, against hand computations, numpy's
generator and PyTorch float64."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from autograd_core import Value, maximum, topological_order
from nn import MLP, Layer, Neuron
from nn.activations import SCALAR_ACTIVATIONS, scalar_activation

TORCH_ACTIVATIONS = {
    "identity": lambda x: x,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "leaky_relu": lambda x: torch.nn.functional.leaky_relu(x, 0.01),
    "elu": lambda x: torch.nn.functional.elu(x, 1.0),
}

finite = st.floats(-3.0, 3.0, allow_nan=False, allow_infinity=False)


# -- activations --------------------------------------------------------------------------

def test_activation_names_are_the_lectures_six():
    assert sorted(SCALAR_ACTIVATIONS) == sorted(TORCH_ACTIVATIONS)


@given(name=st.sampled_from(sorted(TORCH_ACTIVATIONS)), x=finite.filter(lambda v: v != 0.0))
def test_each_activation_and_its_derivative_match_torch(name, x):
    node = Value(x)
    out = scalar_activation(name)(node)
    out.backward()
    reference = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    expected = TORCH_ACTIVATIONS[name](reference)
    expected.backward()
    assert out.data == pytest.approx(expected.item(), rel=1e-14, abs=1e-15)
    assert node.grad == pytest.approx(reference.grad.item(), rel=1e-14, abs=1e-15)


def test_unknown_activation_lists_the_valid_names():
    with pytest.raises(ValueError, match="unknown activation 'swish'") as info:
        scalar_activation("swish")
    for name in ("identity", "sigmoid", "tanh", "relu", "leaky_relu", "elu"):
        assert name in str(info.value)
    with pytest.raises(ValueError, match="unknown activation 'mish_not_declared'"):
        Neuron(2, activation="mish_not_declared")


def test_an_op_declared_with_define_op_is_an_activation_by_name_at_once():
    """Adding an activation is its declaration: nn reads activations from the op table."""
    from autograd_core import Tensor, define_op, exp, log, sigmoid
    from nn import TensorMLP
    from nn.layers import Activation
    define_op("softplus_nn_test", forward=lambda x: log(1 + exp(x)),
              derivative=lambda x, out: sigmoid(x), formula="sigmoid({x})", replace_existing=True)
    neuron = Neuron(2, activation="softplus_nn_test", seed=0)
    out = neuron([Value(0.5), Value(-1.0)])
    assert out.op == "softplus_nn_test"
    # hand: softplus(z) = ln(1 + e^z) for the neuron's pre-activation z = w.x + b
    z = sum(w.data * x for w, x in zip(neuron.w, (0.5, -1.0))) + neuron.b.data
    assert out.data == pytest.approx(math.log1p(math.exp(z)), rel=1e-14)
    model = TensorMLP([2, 3, 1], activation="softplus_nn_test", seed=0)
    assert isinstance(model[1], Activation) and model(Tensor([[0.5, -1.0]])).shape == (1, 1)
    with pytest.raises(TypeError, match="activation must be a name"):
        scalar_activation(math.tanh)


@given(x=finite.filter(lambda v: v != 0.0),
       spec=st.sampled_from([("leaky_relu(0.1)", lambda t: torch.nn.functional.leaky_relu(t, 0.1)),
                             ("leaky_relu(0.2)", lambda t: torch.nn.functional.leaky_relu(t, 0.2)),
                             ("elu(0.5)", lambda t: torch.nn.functional.elu(t, 0.5))]))
def test_activations_with_a_parameter_match_torch(x, spec):
    name, torch_fn = spec
    node = Value(x)
    out = scalar_activation(name)(node)
    out.backward()
    reference = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    expected = torch_fn(reference)
    expected.backward()
    assert out.data == pytest.approx(expected.item(), rel=1e-14, abs=1e-15)
    assert node.grad == pytest.approx(reference.grad.item(), rel=1e-14, abs=1e-15)


def test_the_lectures_leaky_relu_is_max_of_a_tenth_x_and_x():
    # seed-examples.md section 4: leaky ReLU max(0.1x, x), so slope 0.1 below 0 and 1 above
    for x in (-3.0, -0.5, 0.25, 2.0):
        node = Value(x)
        out = scalar_activation("leaky_relu(0.1)")(node)
        out.backward()
        assert out.data == max(0.1 * x, x) and node.grad == (1.0 if x > 0 else 0.1)
    model = MLP(2, [3, 1], activation="leaky_relu(0.1)", seed=0)
    assert model.config()["activation"] == "leaky_relu(0.1)"
    assert MLP(**model.config())([1.0, -2.0]).data == model([1.0, -2.0]).data


@pytest.mark.parametrize("name, message", [
    ("tanh(2)", "activation 'tanh' takes no parameter"),
    ("leaky_relu(x)", "the parameter must be a number, got 'x'"),
    ("elu(inf)", "the parameter must be finite"),
    ("leaky_relu()", "the parameter must be a number"),
])
def test_bad_activation_parameters_are_refused(name, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        scalar_activation(name)


def test_maxout_is_the_max_of_two_affine_maps():
    # seed-examples.md section 4: maxout(x) = max(w1.x + b1, w2.x + b2); the gradient flows
    # only through the larger map. Hand: z1 = 0.5*1 - 1*2 + 0.1 = -1.4, z2 = 0.3*1 + 0.2*2 = 0.7
    x = [Value(1.0, "x1"), Value(2.0, "x2")]
    w1, b1 = [Value(0.5), Value(-1.0)], Value(0.1)
    w2, b2 = [Value(0.3), Value(0.2)], Value(0.0)
    z1 = sum((w * xi for w, xi in zip(w1, x)), b1)
    z2 = sum((w * xi for w, xi in zip(w2, x)), b2)
    out = maximum(z1, z2)
    out.backward()
    assert out.data == pytest.approx(0.7, abs=1e-15)
    assert [w.grad for w in w2] == [1.0, 2.0] and b2.grad == 1.0  # d z2/d w2 = x
    assert [w.grad for w in w1] == [0.0, 0.0] and b1.grad == 0.0
    assert [xi.grad for xi in x] == [0.3, 0.2]  # = w2


def test_mlp_checks_the_hidden_activation_even_without_a_hidden_layer():
    with pytest.raises(ValueError, match="unknown activation 'bogus'"):
        MLP(2, [1], activation="bogus")


# -- construction and weights --------------------------------------------------------------

def test_weights_are_numpys_uniform_draws_in_order_and_biases_start_at_zero():
    model = MLP(3, [4, 2], seed=7)
    # The oracle: the same generator drawing nin weights per neuron, layer by layer.
    rng = np.random.default_rng(7)
    expected = [rng.uniform(-1.0, 1.0, nin).tolist() for nin, nout in ((3, 4), (4, 2)) for _ in range(nout)]
    neurons = [neuron for layer in model.layers for neuron in layer.neurons]
    assert [[w.data for w in neuron.w] for neuron in neurons] == expected
    assert all(neuron.b.data == 0.0 for neuron in neurons)
    assert all(-1.0 <= w.data < 1.0 for neuron in neurons for w in neuron.w)


def test_same_seed_same_weights_and_another_seed_other_weights():
    def weights(model):
        return [p.data for p in model.parameters()]

    assert weights(MLP(2, [5, 3, 1], seed=3)) == weights(MLP(2, [5, 3, 1], seed=3))
    assert weights(MLP(2, [5, 3, 1], seed=3)) != weights(MLP(2, [5, 3, 1], seed=4))
    assert weights(Layer(2, 3, seed=11)) == weights(Layer(2, 3, seed=np.random.default_rng(11)))
    assert [w.data for w in Neuron(4, seed=5).w] == np.random.default_rng(5).uniform(-1, 1, 4).tolist()


def test_parameter_count_and_architecture():
    model = MLP(2, [16, 16, 1], activation="relu")
    assert len(model.parameters()) == (2 + 1) * 16 + (16 + 1) * 16 + (16 + 1) * 1
    assert [len(layer.neurons) for layer in model.layers] == [16, 16, 1]
    assert [layer.activation for layer in model.layers] == ["relu", "relu", "identity"]
    assert MLP(2, [3, 1], output_activation="sigmoid").layers[-1].activation == "sigmoid"
    assert repr(model) == "MLP(2, [16, 16, 1], activation='relu', output_activation=None)"


@pytest.mark.parametrize("build, message", [
    (lambda: Neuron(0), "Neuron nin must be a positive int, got 0"),
    (lambda: Neuron(2.0), "Neuron nin must be a positive int"),
    (lambda: Layer(2, True), "Layer nout must be a positive int, got True"),
    (lambda: MLP(2, []), "MLP nouts must be a non-empty list"),
    (lambda: MLP(2, "16"), "MLP nouts must be a non-empty list"),
    (lambda: MLP(2, [4, -1]), r"MLP layer size nouts\[1\] must be a positive int, got -1"),
])
def test_bad_sizes_are_rejected(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_a_bad_seed_is_rejected():
    with pytest.raises(TypeError, match="seed must be None, an int or a numpy Generator, got str"):
        MLP(2, [1], seed="zero")


# -- forward --------------------------------------------------------------------------------

def test_neuron_forward_equals_the_hand_computation():
    neuron = Neuron(3, activation="tanh")
    for weight, value in zip(neuron.w, [0.5, -1.0, 2.0]):
        weight.data = value
    neuron.b.data = 0.25
    out = neuron([1.0, 2.0, -0.5])
    # b + w.x = 0.25 + 0.5*1 + (-1)*2 + 2*(-0.5) = -2.25
    assert out.data == math.tanh(-2.25)
    out.backward()
    # dout/dw_i = (1 - tanh^2) x_i, dout/db = 1 - tanh^2
    slope = 1.0 - math.tanh(-2.25) ** 2
    assert [w.grad for w in neuron.w] == pytest.approx([slope * 1.0, slope * 2.0, slope * -0.5], rel=1e-15)
    assert neuron.b.grad == pytest.approx(slope, rel=1e-15)


def test_neuron_graph_is_bias_plus_products_with_no_zero_leaf():
    neuron = Neuron(3, activation="relu", seed=0)
    out = neuron([1.0, 2.0, 3.0])
    nodes = topological_order(out)
    assert sorted(node.op for node in nodes if node.parents) == ["*", "*", "*", "+", "+", "+", "relu"]
    leaves = [node for node in nodes if not node.parents]
    assert {id(leaf) for leaf in leaves} == {id(p) for p in neuron.parameters()} | {
        id(node.parents[1]) for node in nodes if node.op == "*"}
    assert len(leaves) == 3 + 1 + 3  # weights, bias, inputs: no constant 0 to start the sum
    first_sum = next(node for node in nodes if node.op == "+")
    assert first_sum.parents[0] is neuron.b


def test_input_leaves_are_labelled_and_values_are_used_as_they_are():
    x = Value(0.3, "given")
    out = Neuron(2, seed=0)([x, 1.5])
    labels = {node.label for node in topological_order(out) if not node.parents}
    assert "given" in labels and "x[1]" in labels
    out.backward()
    assert x.grad != 0.0


def test_outputs_are_a_value_for_one_unit_and_a_list_otherwise():
    assert isinstance(MLP(2, [3, 1])([1.0, 2.0]), Value)
    outputs = MLP(2, [3, 2])([1.0, 2.0])
    assert isinstance(outputs, list) and len(outputs) == 2
    assert isinstance(Layer(2, 1)([1.0, 2.0]), Value)
    assert len(Layer(2, 4)(np.array([1.0, 2.0]))) == 4


@pytest.mark.parametrize("module, name", [(Neuron(3), "Neuron"), (Layer(3, 2), "Layer"), (MLP(3, [2]), "MLP")])
def test_wrong_number_of_inputs_names_both_lengths(module, name):
    with pytest.raises(ValueError, match=f"{name} expects 3 inputs, got 2"):
        module([1.0, 2.0])


def test_bad_inputs_are_rejected_with_the_position():
    model = MLP(2, [1])
    with pytest.raises(TypeError, match="MLP expects a list of 2 inputs .*got a single float"):
        model(1.0)
    with pytest.raises(TypeError, match="MLP input 1 must be a float or a Value, got str"):
        model([1.0, "2"])
    with pytest.raises(TypeError, match="MLP input 0 must be a float or a Value, got bool"):
        model([True, 2.0])
    with pytest.raises(ValueError, match="MLP input 1 is nan; inputs must be finite"):
        model([1.0, float("nan")])
    with pytest.raises(TypeError, match="MLP expects a list of 2 inputs"):
        model(None)


# -- gradients against PyTorch --------------------------------------------------------------

def _torch_forward(model: MLP, x: torch.Tensor) -> tuple[torch.Tensor, list[tuple[torch.Tensor, torch.Tensor]]]:
    """The same network in torch float64, with weight matrices copied from `model`."""
    tensors = []
    for layer in model.layers:
        weight = torch.tensor([[w.data for w in n.w] for n in layer.neurons], dtype=torch.float64,
                              requires_grad=True)
        bias = torch.tensor([n.b.data for n in layer.neurons], dtype=torch.float64, requires_grad=True)
        tensors.append((weight, bias))
        x = TORCH_ACTIVATIONS[layer.activation](weight @ x + bias)
    return x, tensors


@given(
    data=st.data(),
    sizes=st.lists(st.integers(1, 4), min_size=1, max_size=3),
    nin=st.integers(1, 4),
    activation=st.sampled_from(sorted(TORCH_ACTIVATIONS)),
    output_activation=st.sampled_from([None, "sigmoid", "tanh"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_mlp_gradients_match_torch_float64(data, sizes, nin, activation, output_activation, seed):
    model = MLP(nin, sizes, activation=activation, output_activation=output_activation, seed=seed)
    rng = np.random.default_rng(seed)
    for neuron in (n for layer in model.layers for n in layer.neurons):
        neuron.b.data = float(rng.uniform(-1.0, 1.0))  # nonzero biases exercise dL/db too
    inputs = data.draw(st.lists(finite, min_size=nin, max_size=nin))
    weights = data.draw(st.lists(finite, min_size=sizes[-1], max_size=sizes[-1]))
    x = [Value(v) for v in inputs]
    outputs = model(x)
    outputs = [outputs] if isinstance(outputs, Value) else outputs
    loss = sum((c * out for c, out in zip(weights, outputs)), Value(0.0))
    loss.backward()

    torch_x = torch.tensor(inputs, dtype=torch.float64, requires_grad=True)
    torch_out, tensors = _torch_forward(model, torch_x)
    torch_loss = (torch.tensor(weights, dtype=torch.float64) * torch_out).sum()
    torch_loss.backward()

    assert [o.data for o in outputs] == pytest.approx(torch_out.tolist(), rel=1e-12, abs=1e-12)
    assert [v.grad for v in x] == pytest.approx(torch_x.grad.tolist(), rel=1e-10, abs=1e-12)
    for layer, (weight, bias) in zip(model.layers, tensors):
        assert [[w.grad for w in n.w] for n in layer.neurons] == [
            pytest.approx(row, rel=1e-10, abs=1e-12) for row in weight.grad.tolist()]
        assert [n.b.grad for n in layer.neurons] == pytest.approx(bias.grad.tolist(), rel=1e-10, abs=1e-12)


def test_config_rebuilds_the_architecture():
    model = MLP(3, [4, 2], activation="elu", output_activation="sigmoid", seed=1)
    rebuilt = MLP(**model.config())
    assert repr(rebuilt) == repr(model)
    assert Layer(**Layer(2, 3, "relu").config()).config() == {"nin": 2, "nout": 3, "activation": "relu"}
    assert Neuron(**Neuron(5, "sigmoid").config()).config() == {"nin": 5, "activation": "sigmoid"}


def test_relu_mlp_matches_micrograd_with_the_same_weights():
    from micrograd.engine import Value as MicrogradValue
    from micrograd.nn import MLP as MicrogradMLP

    model = MLP(3, [4, 4, 1], activation="relu", seed=2)
    twin = MicrogradMLP(3, [4, 4, 1])  # ReLU hidden layers and a linear output, like ours
    pairs = []
    for layer, twin_layer in zip(model.layers, twin.layers):
        for neuron, twin_neuron in zip(layer.neurons, twin_layer.neurons):
            neuron.b.data = 0.1
            for ours, theirs in zip(neuron.w + [neuron.b], twin_neuron.parameters()):
                theirs.data = ours.data
                pairs.append((ours, theirs))
    x = [0.3, -1.2, 0.8]
    out, twin_out = model(x), twin([MicrogradValue(v) for v in x])
    out.backward()
    twin_out.backward()
    # Same summation order (bias first, then w_i x_i left to right): the same floats.
    assert out.data == twin_out.data
    assert sum(ours.grad != 0.0 for ours, _ in pairs) >= 10  # gradients reach many parameters
    assert [ours.grad for ours, _ in pairs] == pytest.approx([theirs.grad for _, theirs in pairs], rel=1e-15)
