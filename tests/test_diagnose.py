"""nn.diagnose: every number worked out by hand on tiny networks (tensor and scalar), the flags and
their thresholds, fit(diagnostics=True), and viz.plot_gradient_flow."""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import pytest

from nn import (MLP, SGD, DiagnosisReport, Linear, ReLU, Sequential, Sigmoid, Tanh, diagnose, fit,
                functional as F)
from nn.diagnose import THRESHOLDS, layer_gradient_norms, model_layers, parameter_values

matplotlib.use("Agg")

X = np.array([[1.0, 2.0], [3.0, 1.0]])
Y = np.array([[1.0], [0.0]])


def half_dead_network() -> Sequential:
    """h = relu(x W1^T), W1 = [[1, 0], [-1, -1]]: unit 1 gets -x0 - x1 < 0 on both samples (dead);
    out = h W2^T, W2 = [[2, 5]]; biases 0."""
    model = Sequential(Linear(2, 2), ReLU(), Linear(2, 1))
    model[0].weight.data[:] = [[1.0, 0.0], [-1.0, -1.0]]
    model[0].bias.data[:] = 0.0
    model[2].weight.data[:] = [[2.0, 5.0]]
    model[2].bias.data[:] = 0.0
    return model


# By hand: h = [[1, 0], [3, 0]], out = [2, 6], mse = ((2-1)^2 + (6-0)^2) / 2 = 18.5.
# dL/dout = 2 (out - y) / 2 = [1, 6];  dL/dW2 = [1*1 + 6*3, 0] = [19, 0]          -> norm 19
# dL/dh = dL/dout W2 = [[2, 5], [12, 30]]; unit 1 dead -> dL/dz = [[2, 0], [12, 0]]
# dL/dW1 = dz^T X = [[2*1 + 12*3, 2*2 + 12*1], [0, 0]] = [[38, 16], [0, 0]]      -> norm sqrt(1700)
# |W1| = sqrt(3), |W2| = sqrt(29); lr 0.01: ratios 0.01 sqrt(1700)/sqrt(3) = 0.238, 0.19/sqrt(29) = 0.0353
EXPECTED = {"loss": 18.5, "norm0": math.sqrt(1700), "norm1": 19.0,
            "ratio0": 0.01 * math.sqrt(1700) / math.sqrt(3), "ratio1": 0.01 * 19 / math.sqrt(29)}


def test_a_half_dead_relu_layer_by_hand():
    report = diagnose(half_dead_network(), X, Y, F.mse_loss, lr=0.01)
    assert isinstance(report, DiagnosisReport) and report.samples == 2 and report.lr == 0.01
    assert report.loss == pytest.approx(EXPECTED["loss"], rel=1e-15)
    first, last = report.layers
    assert (first.name, first.shape, first.activation) == ("layers.0", (2, 2), "relu")
    assert (last.name, last.shape, last.activation) == ("layers.2", (1, 2), "")
    assert first.grad_norm == pytest.approx(EXPECTED["norm0"], rel=1e-15)
    assert last.grad_norm == pytest.approx(EXPECTED["norm1"], rel=1e-15)
    assert first.weight_norm == pytest.approx(math.sqrt(3)) and last.weight_norm == pytest.approx(math.sqrt(29))
    assert first.update_ratio == pytest.approx(EXPECTED["ratio0"], rel=1e-14)
    assert last.update_ratio == pytest.approx(EXPECTED["ratio1"], rel=1e-14)
    assert first.dead == 0.5 and first.saturated is None and last.dead is None
    assert first.flags == ["large update", "dead ReLUs"] and last.flags == []
    assert report.flags == {"layers.0": ["large update", "dead ReLUs"]} and not report.healthy
    assert report["layers.2"] is last
    with pytest.raises(KeyError, match="no layer 'layers.1'; layers: layers.0, layers.2"):
        report["layers.1"]


def test_the_scalar_mlp_gives_the_same_numbers():
    model = MLP(2, [2, 1], activation="relu", seed=0)
    for neuron, weights in zip(model.layers[0].neurons, ([1.0, 0.0], [-1.0, -1.0])):
        for w, value in zip(neuron.w, weights):
            w.data = value
    for w, value in zip(model.layers[1].neurons[0].w, (2.0, 5.0)):
        w.data = value
    report = diagnose(model, X, Y[:, 0], F.mse_loss, lr=0.01)
    first, last = report.layers
    assert (first.name, first.shape, last.name, last.shape) == ("layers.0", (2, 2), "layers.1", (1, 2))
    assert report.loss == pytest.approx(18.5, rel=1e-15)
    assert first.grad_norm == pytest.approx(EXPECTED["norm0"], rel=1e-15)
    assert last.grad_norm == pytest.approx(EXPECTED["norm1"], rel=1e-15)
    assert first.dead == 0.5 and first.flags == ["large update", "dead ReLUs"]


def test_a_layer_whose_relus_are_all_dead_stops_every_gradient():
    model = half_dead_network()
    model[0].weight.data[:] = [[-1.0, 0.0], [-1.0, -1.0]]  # both units negative on positive inputs
    report = diagnose(model, X, Y, F.mse_loss, lr=0.1)
    first, last = report.layers
    # h = 0 everywhere: dL/dW2 = dL/dout^T h = 0, and no gradient passes the dead units to W1.
    assert first.dead == 1.0 and first.grad_norm == 0.0 and last.grad_norm == 0.0
    assert first.update_ratio == 0.0
    assert first.flags == ["vanishing", "small update", "dead ReLUs"]
    assert last.flags == ["vanishing", "small update"]


def test_saturated_tanh_and_sigmoid_units():
    # tanh(10 x) at x = 1, 2 is above 0.99 on both samples; tanh(0.1 x) is not: 1 of 2 units.
    model = Sequential(Linear(1, 2), Tanh(), Linear(2, 1))
    model[0].weight.data[:] = [[10.0], [0.1]]
    model[0].bias.data[:] = 0.0
    X1, Y1 = np.array([[1.0], [2.0]]), np.array([[0.5], [0.5]])
    layer = diagnose(model, X1, Y1, F.mse_loss).layers[0]
    assert (layer.saturated, layer.saturated_activations, layer.flags) == (0.5, 0.5, ["saturated"])
    assert layer.update_ratio is None  # no lr given
    # sigmoid(10 x) > 0.99 and sigmoid(-10 x) < 0.01 for x = 1, 2: both saturated.
    model = Sequential(Linear(1, 2), Sigmoid(), Linear(2, 1))
    model[0].weight.data[:] = [[10.0], [-10.0]]
    model[0].bias.data[:] = 0.0
    layer = diagnose(model, X1, Y1, F.mse_loss).layers[0]
    assert (layer.saturated, layer.saturated_activations) == (1.0, 1.0)
    # one sample out of two saturated: the pair share is 1/2, no unit counts as saturated
    model[0].weight.data[:] = [[3.0], [-3.0]]  # sigmoid(3) = 0.953, sigmoid(6) = 0.9975
    layer = diagnose(model, X1, Y1, F.mse_loss).layers[0]
    assert (layer.saturated, layer.saturated_activations, layer.flags) == (0.0, 0.5, [])


def test_exploding_gradients_are_flagged():
    model = half_dead_network()
    model[2].weight.data[:] = [[2000.0, 5.0]]
    report = diagnose(model, X, Y, F.mse_loss, lr=0.01)
    assert "exploding" in report.layers[0].flags and "exploding" in report.layers[1].flags


def test_grads_are_left_as_they_were_and_lr_comes_from_an_optimizer():
    model = half_dead_network()
    sentinel = [np.full(p.shape, 7.0) for p in model.parameters()]
    for p, s in zip(model.parameters(), sentinel):
        p.grad = s
    report = diagnose(model, X, Y, F.mse_loss, optimizer=SGD(model.parameters(), lr=0.01))
    assert all(p.grad is s for p, s in zip(model.parameters(), sentinel))
    assert report.lr == 0.01 and report.layers[0].update_ratio == pytest.approx(EXPECTED["ratio0"])


def test_thresholds_can_be_changed_and_are_stated():
    report = diagnose(half_dead_network(), X, Y, F.mse_loss, lr=0.01, thresholds={"dead": 0.6})
    assert report.layers[0].flags == ["large update"] and report.thresholds["dead"] == 0.6
    text = str(report)
    assert text.splitlines()[0] == "diagnose: loss 18.5 on 2 samples, lr 0.01"
    assert "layers.0  2x2    relu        41.2" in text and "dead ReLUs: >= 60% of the layer's ReLU units" in text
    assert f"vanishing: ‖dL/dW‖ < {THRESHOLDS['vanishing']:g}" in text
    page = report._repr_html_()
    assert page.count("<tr") == 3 and 'style="background:#fdecea"' in page and "thresholds:" in page
    with pytest.raises(ValueError, match="unknown threshold 'deadly'"):
        diagnose(half_dead_network(), X, Y, F.mse_loss, thresholds={"deadly": 0.5})
    with pytest.raises(ValueError, match="lr must be a positive number"):
        diagnose(half_dead_network(), X, Y, F.mse_loss, lr=0)
    with pytest.raises(ValueError, match="the same number"):
        diagnose(half_dead_network(), X, Y[:1], F.mse_loss)
    with pytest.raises(TypeError, match="model must be an nn Module"):
        diagnose(lambda x: x, X, Y, F.mse_loss)


def test_layers_of_the_model_kinds():
    assert [(l.name, l.activation) for l in model_layers(Linear(2, 3))] == [("linear", "")]
    nested = Sequential(Linear(2, 3), Sequential(Tanh(), Linear(3, 1)))
    assert [(l.name, l.activation) for l in model_layers(nested)] == [("layers.0", "tanh"), ("layers.1.layers.1", "")]
    scalar = model_layers(MLP(2, [3, 1], activation="leaky_relu(0.1)", output_activation="sigmoid"))
    assert [(l.name, l.activation, len(l.weights), len(l.biases)) for l in scalar] == [
        ("layers.0", "leaky_relu", 6, 3), ("layers.1", "sigmoid", 3, 1)]
    model = half_dead_network()
    F.mse_loss(model(X), Y).backward()
    assert layer_gradient_norms(model) == pytest.approx({"layers.0": EXPECTED["norm0"], "layers.2": 19.0})


def test_fit_records_a_report_after_every_epoch():
    model = half_dead_network()
    history = fit(model, F.mse_loss, SGD(model.parameters(), lr=0.001), (X, Y), epochs=3, progress=False,
                  diagnostics=True)
    assert len(history.diagnostics) == 3 and all(r.lr == 0.001 for r in history.diagnostics)
    # Full batch: the report after epoch e sees the weights that epoch e + 1 starts from.
    for e in range(2):
        assert history.diagnostics[e].loss == pytest.approx(history.loss[e + 1], rel=1e-12)
    assert list(history.grad_norms) == ["layers.0", "layers.2"]
    assert history.grad_norms["layers.2"][0] == pytest.approx(19.0)  # epoch 1's gradient is the hand one
    assert "diagnostics=3" in repr(history)


def test_plot_gradient_flow_from_a_report_a_history_and_a_model():
    from viz.plots import plot_gradient_flow

    report = diagnose(half_dead_network(), X, Y, F.mse_loss, lr=0.01)
    ax = plot_gradient_flow(report).axes[0]
    assert [bar.get_height() for bar in ax.patches] == pytest.approx([EXPECTED["norm0"], 19.0])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["layers.0", "layers.2"]
    model = half_dead_network()
    history = fit(model, F.mse_loss, SGD(model.parameters(), lr=0.001), (X, Y), epochs=2, progress=False,
                  diagnostics=True)
    lines = plot_gradient_flow(history).axes[0].get_lines()
    assert [line.get_label() for line in lines] == ["layers.0", "layers.2"] and len(lines[0].get_xdata()) == 2
    model = half_dead_network()
    F.mse_loss(model(X), Y).backward()
    assert [b.get_height() for b in plot_gradient_flow(model).axes[0].patches] == pytest.approx(
        [EXPECTED["norm0"], 19.0])
    from nn.training import History

    with pytest.raises(ValueError, match="diagnostics=True"):
        plot_gradient_flow(History(loss=[1.0]))


def test_parameter_values_skips_missing_gradients_and_unwraps_graph_gradients():
    """What the norms and the recorder read: each parameter's data or gradient as numbers. A
    gradient not computed yet (None) is left out; one that backward(create_graph=True) made a
    node gives its data: for y = w^2, dy/dw = 2w = 6 at w = 3 (a Value) and [2, 4] at w = [1, 2]."""
    from autograd_core import Tensor, Value
    w = Value(3.0)
    (w * w).backward(create_graph=True)
    t = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (t * t).sum().backward(create_graph=True)
    unused = Tensor(np.zeros(2), requires_grad=True)
    assert isinstance(w.grad, Value) and isinstance(t.grad, Tensor)
    values = list(parameter_values([w, unused, t], "grad"))
    assert values[0] == 6.0
    np.testing.assert_array_equal(values[1], [2.0, 4.0])
    assert len(values) == 2
    data = list(parameter_values([w, t], "data"))
    assert data[0] == 3.0 and data[1] is t.data
