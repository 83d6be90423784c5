"""The scalar side under one roof (`nn.scalar`): `fit_scalar` against a PyTorch twin trained in
lockstep, its errors, and the import paths that other code uses."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import nn
from nn import MLP, SGD, fit_scalar, losses
from nn import functional as F

XOR_INPUTS = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
XOR_LABELS = [0, 1, 1, 0]


def torch_twin(model: MLP) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(weight (out, in), bias) leaves of every layer, copied from the scalar MLP."""
    return [(torch.tensor([[w.data for w in neuron.w] for neuron in layer.neurons], dtype=torch.float64,
                          requires_grad=True),
             torch.tensor([neuron.b.data for neuron in layer.neurons], dtype=torch.float64,
                          requires_grad=True))
            for layer in model.layers]


def test_fit_scalar_trains_like_a_torch_twin_full_batch():
    model = MLP(2, [4, 1], activation="tanh", output_activation="sigmoid", seed=0)
    layers = torch_twin(model)
    twin_optimizer = torch.optim.SGD([p for layer in layers for p in layer], lr=0.5)
    inputs = torch.tensor(XOR_INPUTS, dtype=torch.float64)
    targets = torch.tensor(XOR_LABELS, dtype=torch.float64)
    expected_losses = []
    for _ in range(5):
        hidden = torch.tanh(inputs @ layers[0][0].T + layers[0][1])
        output = torch.sigmoid(hidden @ layers[1][0].T + layers[1][1]).reshape(-1)
        loss = torch.nn.functional.binary_cross_entropy(output, targets)
        twin_optimizer.zero_grad()
        loss.backward()
        twin_optimizer.step()
        expected_losses.append(loss.item())
    epochs_seen = []
    history = fit_scalar(model, XOR_INPUTS, XOR_LABELS, F.binary_cross_entropy,
                         SGD(model.parameters(), lr=0.5), epochs=5,
                         on_epoch=lambda epoch, loss, accuracy: epochs_seen.append(epoch))
    # Each epoch's loss is the mean of the per-sample losses before that epoch's update.
    np.testing.assert_allclose(history.loss, expected_losses, rtol=1e-12)
    assert epochs_seen == [1, 2, 3, 4, 5] and len(history.accuracy) == 5
    for layer, (weight, bias) in zip(model.layers, layers):
        np.testing.assert_allclose([[w.data for w in n.w] for n in layer.neurons], weight.detach().numpy(),
                                   rtol=1e-12)
        np.testing.assert_allclose([n.b.data for n in layer.neurons], bias.detach().numpy(), rtol=1e-12,
                                   atol=1e-15)


def test_fit_scalar_accuracy_uses_the_threshold_and_the_labels():
    model = MLP(2, [1], seed=0)  # linear output: a score, thresholded at 0 against +-1 labels
    signs = [-1.0, 1.0, 1.0, -1.0]
    history = fit_scalar(model, XOR_INPUTS, signs, losses.hinge, SGD(model.parameters(), lr=0.1), epochs=2,
                         labels=XOR_LABELS, threshold=0.0)
    scores = [model(x).data for x in XOR_INPUTS]
    # The last accuracy is measured after the last update: recompute it by hand.
    assert history.accuracy[-1] == sum(int(s > 0.0) == label for s, label in zip(scores, XOR_LABELS)) / 4


@pytest.mark.parametrize("call, message", [
    (lambda m, o: fit_scalar(m, XOR_INPUTS, XOR_LABELS[:3], losses.mse, o, 1), "4 inputs but 3 targets"),
    (lambda m, o: fit_scalar(m, [], [], losses.mse, o, 1), "no training samples"),
    (lambda m, o: fit_scalar(m, XOR_INPUTS, XOR_LABELS, losses.mse, o, 0), "epochs must be >= 1, got 0"),
    (lambda m, o: fit_scalar(m, XOR_INPUTS, XOR_LABELS, losses.mse, o, 1, labels=[0, 1]), "4 inputs but 2 labels"),
    (lambda m, o: fit_scalar(m, XOR_INPUTS, XOR_LABELS, losses.mse, o, 1, print_every=-1),
     "print_every must be a positive int"),
])
def test_fit_scalar_errors(call, message):
    model = MLP(2, [1], seed=0)
    with pytest.raises(ValueError, match=message):
        call(model, SGD(model.parameters(), lr=0.1))


def test_the_scalar_side_is_one_subpackage_with_the_old_import_paths_kept():
    from nn.scalar import Layer, Neuron, ScalarHistory
    from nn.scalar import losses as scalar_losses
    from nn.scalar.modules import MLP as ModulesMLP
    from nn.scalar.training import fit_scalar as training_fit_scalar
    from nn.scalar_training import fit_scalar as old_fit_scalar

    assert nn.MLP is nn.scalar.MLP is ModulesMLP
    assert nn.Layer is Layer and nn.Neuron is Neuron and nn.ScalarHistory is ScalarHistory
    assert nn.fit_scalar is training_fit_scalar is old_fit_scalar
    assert scalar_losses.hinge([0.5], [1.0]).data == 0.5  # max(0, 1 - 0.5)
    assert not hasattr(nn, "tensor_mlp") and not hasattr(nn.layers, "tensor_mlp")


# -- issue 10: metrics that follow the loss, the array path, watching the run ---------------------------------

def test_a_regression_records_no_accuracy_and_hinge_targets_are_their_own_labels():
    model = MLP(2, [3, 1], seed=0)
    history = fit_scalar(model, XOR_INPUTS, [0.5, -0.25, 1.0, 0.0], losses.mse, SGD(model.parameters(), lr=0.1), 2)
    assert history.accuracy == [] and history.metrics == {} and len(history.loss) == 2
    assert repr(history) == f"ScalarHistory(epochs=2, loss={history.loss[-1]:.4g})"
    signs = [-1.0, 1.0, 1.0, -1.0]
    model = MLP(2, [1], seed=0)
    with_labels = fit_scalar(model, XOR_INPUTS, signs, losses.hinge, SGD(model.parameters(), lr=0.0), 1,
                             labels=XOR_LABELS, threshold=0.0)
    without = fit_scalar(model, XOR_INPUTS, signs, losses.hinge, SGD(model.parameters(), lr=0.0), 1)
    assert with_labels.accuracy == without.accuracy  # -1/+1 read as classes 0/1, cut at 0 for hinge


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", "leaky_relu(0.1)", "elu(0.5)"])
def test_the_array_path_gives_exactly_the_values_of_the_graph(activation):
    from nn.scalar.training import mlp_outputs

    model = MLP(3, [5, 4, 2], activation=activation, output_activation="tanh", seed=4)
    X = np.random.default_rng(0).normal(size=(7, 3))
    expected = [[v.data for v in model(list(x))] for x in X]
    assert mlp_outputs(model, X).tolist() == expected  # bit for bit
    np.testing.assert_allclose(mlp_outputs(model, X, exact=False), expected, rtol=1e-14)
    with pytest.raises(ValueError, match=r"X must have shape \(n, 3\)"):
        mlp_outputs(model, X[:, :2])


def test_print_every_and_the_progress_bar(capsys):
    import io

    model = MLP(2, [4, 1], activation="tanh", output_activation="sigmoid", seed=0)
    out = io.StringIO()
    history = fit_scalar(model, XOR_INPUTS, XOR_LABELS, F.binary_cross_entropy, SGD(model.parameters(), lr=0.5),
                         epochs=4, print_every=3, out=out)
    assert out.getvalue().splitlines() == [
        f"epoch {e:4d}  loss {history.loss[e - 1]:.6f}  accuracy {history.accuracy[e - 1]:.3f}" for e in (1, 3, 4)]
    fit_scalar(model, XOR_INPUTS, XOR_LABELS, F.binary_cross_entropy, SGD(model.parameters(), lr=0.5),
               epochs=2, progress=True)
    text = capsys.readouterr().out
    assert "fit_scalar" in text and "loss=" in text and "accuracy=" in text


def test_fit_scalar_diagnostics_and_gradient_norms():
    model = MLP(2, [3, 1], activation="relu", seed=0)
    history = fit_scalar(model, XOR_INPUTS, [-1.0, 1.0, 1.0, -1.0], F.hinge, SGD(model.parameters(), lr=0.1),
                         epochs=2, diagnostics=True)
    assert len(history.diagnostics) == 2 and list(history.grad_norms) == ["layers.0", "layers.1"]
    # Full batch: the report after epoch 1 measures the loss that epoch 2 starts from.
    assert history.diagnostics[0].loss == pytest.approx(history.loss[1], rel=1e-12)


def test_epoch_lines_scroll_above_the_progress_bar(capsys):
    model = MLP(2, [4, 1], activation="tanh", output_activation="sigmoid", seed=0)
    history = fit_scalar(model, XOR_INPUTS, XOR_LABELS, F.binary_cross_entropy, SGD(model.parameters(), lr=0.5),
                         epochs=3, progress=True, print_every=1)
    lines = capsys.readouterr().out.splitlines()
    for epoch in (1, 2, 3):
        expected = f"epoch {epoch:4d}  loss {history.loss[epoch - 1]:.6f}  accuracy {history.accuracy[epoch - 1]:.3f}"
        assert any(line.endswith(expected) or line == expected for line in lines)
