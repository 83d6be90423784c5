"""fit / evaluate / History / train_iris: the loop against a torch loop, the recipes, the progress bar, errors."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch

from nn import functional as F
from nn.data import DataLoader, make_xor
from nn.layers import TensorMLP
from nn.optim import SGD, Adam
from nn.training import History, accuracy, evaluate, fit, train_iris
from oracles import torch_twin


def blobs(n: int = 30, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, size=n)
    return rng.normal(size=(n, 2)) + 2.0 * np.eye(3)[labels][:, :2], labels


# -- accuracy ----------------------------------------------------------------------------------------

def test_accuracy_by_hand():
    scores = np.array([[0.1, 0.9, 0.0], [2.0, 1.0, 0.0], [0.0, 0.0, 5.0], [1.0, 3.0, 2.0]])
    # argmax rows: 1, 0, 2, 1
    assert accuracy(scores, np.array([1, 0, 2, 2])) == 0.75
    assert accuracy(scores, np.eye(3)[[1, 0, 0, 1]]) == 0.75
    assert accuracy(np.array([[0.7], [0.2], [0.6]]), np.array([[1.0], [0.0], [0.0]])) == pytest.approx(2 / 3)
    assert accuracy(np.array([0.3, -0.1]), np.array([1.0, -1.0]), threshold=0.0) == 1.0
    with pytest.raises(ValueError, match="3 outputs for 2 targets"):
        accuracy(np.zeros((3, 2)), np.zeros(2, dtype=int))


# -- fit against a torch loop -------------------------------------------------------------------------

def test_fit_with_mini_batches_equals_a_torch_loop_over_the_same_batches():
    X, y = blobs()
    model = TensorMLP([2, 6, 3], activation="tanh", seed=0)
    twin = torch_twin(model)
    reference = torch.optim.SGD(twin.parameters(), lr=0.1, momentum=0.9)
    expected_losses = []
    loader = DataLoader(X, y, 8, seed=3)  # the same seed yields the same shuffled batches
    for _ in range(4):
        total = 0.0
        for X_batch, y_batch in loader:
            reference.zero_grad()
            loss = torch.nn.functional.cross_entropy(twin(torch.from_numpy(X_batch)), torch.from_numpy(y_batch))
            loss.backward()
            reference.step()
            total += loss.item() * len(X_batch)
        expected_losses.append(total / len(X))
    history = fit(model, F.cross_entropy, SGD(model.parameters(), lr=0.1, momentum=0.9),
                  DataLoader(X, y, 8, seed=3), epochs=4, progress=False)
    np.testing.assert_allclose(history.loss, expected_losses, rtol=1e-12)
    for parameter, twin_parameter in zip(model.parameters(), twin.parameters()):
        np.testing.assert_allclose(parameter.data, twin_parameter.detach().numpy(), atol=1e-12)


def test_full_batch_fit_records_the_loss_before_each_update():
    X, y = blobs()
    model = TensorMLP([2, 4, 3], seed=1)
    twin = torch_twin(model)
    twin[1] = torch.nn.ReLU()
    history = fit(model, F.cross_entropy, SGD(model.parameters(), lr=0.5), (X, y), epochs=3,
                  progress=False)
    reference = torch.optim.SGD(twin.parameters(), lr=0.5)
    for epoch in range(3):
        outputs = twin(torch.from_numpy(X))
        loss = torch.nn.functional.cross_entropy(outputs, torch.from_numpy(y))
        assert history.loss[epoch] == pytest.approx(loss.item(), rel=1e-12)
        # Hand: accuracy = share of rows whose argmax is the label.
        expected_accuracy = float(np.mean(outputs.detach().numpy().argmax(axis=1) == y))
        assert history.accuracy[epoch] == expected_accuracy
        reference.zero_grad()
        loss.backward()
        reference.step()
    assert history.epochs == 3 and history.val_loss == [] and history.val_metrics == {}


def test_validation_history_and_custom_metrics():
    X, y = blobs(40)
    model = TensorMLP([2, 8, 3], seed=0)

    def error_rate(outputs, targets):
        return 1.0 - float(np.mean(outputs.argmax(axis=1) == targets))

    seen = []
    history = fit(model, F.cross_entropy, Adam(model.parameters(), lr=0.05), (X[:30], y[:30]),
                  epochs=5, batch_size=10, validation_data=(X[30:], y[30:]), progress=False,
                  metrics=("accuracy", error_rate), on_epoch=lambda epoch, h: seen.append((epoch, h.epochs)))
    assert seen == [(epoch, epoch) for epoch in range(1, 6)]
    assert len(history.val_loss) == len(history.val_accuracy) == len(history.metrics["error_rate"]) == 5
    final = evaluate(model, F.cross_entropy, X[30:], y[30:], metrics=("accuracy", error_rate))
    assert history.val_loss[-1] == final["loss"] and history.val_accuracy[-1] == final["accuracy"]
    assert final["error_rate"] == pytest.approx(1.0 - final["accuracy"])
    with pytest.raises(KeyError, match="History.metrics has no 'accuracy'"):
        History().accuracy


def test_evaluate_builds_no_graph_and_restores_the_mode():
    X, y = blobs()
    model = TensorMLP([2, 4, 3], seed=0)
    twin = torch_twin(model)
    twin[1] = torch.nn.ReLU()
    scores = evaluate(model, F.cross_entropy, X, y)
    expected = torch.nn.functional.cross_entropy(twin(torch.from_numpy(X)), torch.from_numpy(y)).item()
    assert scores["loss"] == pytest.approx(expected, rel=1e-13)
    assert all(parameter.grad is None for parameter in model.parameters())
    assert model.training
    model.eval()
    evaluate(model, F.cross_entropy, X, y)
    assert not model.training


# -- the recipes ---------------------------------------------------------------------------------------

def test_xor_trains_to_full_accuracy():
    X, y = make_xor()
    targets = y.reshape(-1, 1).astype(np.float64)
    model = TensorMLP([2, 8, 1], activation="tanh", seed=0)
    history = fit(model, F.binary_cross_entropy_with_logits, Adam(model.parameters(), lr=0.05),
                  (X, targets), epochs=200, progress=False, threshold=0.0)
    scores = evaluate(model, F.binary_cross_entropy_with_logits, X, targets, threshold=0.0)
    assert scores["accuracy"] == 1.0
    assert history.loss[-1] < history.loss[0] / 10


def test_train_iris_reaches_93_percent_on_the_held_out_split():
    model, history, test_accuracy = train_iris(seed=0, progress=False)
    assert test_accuracy >= 0.93
    assert history.val_accuracy[-1] == test_accuracy
    assert history.epochs == 100 and history.loss[-1] < history.loss[0]
    assert [p.shape for p in model.parameters()] == [(16, 4), (16,), (16, 16), (16,), (3, 16), (3,)]


def test_chainrule_train_iris_prints_the_test_accuracy():
    from chainrule.cli import run_train

    out = io.StringIO()
    assert run_train("iris", 5, out) == 0
    lines = out.getvalue().splitlines()
    assert lines[-1].startswith("iris: test accuracy ")
    assert [line.split()[:2] for line in lines[:-1]] == [["epoch", str(n)] for n in range(1, 6)]


# -- the progress bar -------------------------------------------------------------------------------------

def test_progress_bar_is_off_when_stdout_is_not_a_terminal_and_on_when_asked(capsys):
    X, y = blobs(10)
    model = TensorMLP([2, 3, 3], seed=0)
    optimizer = SGD(model.parameters(), lr=0.1)
    fit(model, F.cross_entropy, optimizer, (X, y), epochs=2)  # pytest's stdout is no terminal
    fit(model, F.cross_entropy, optimizer, (X, y), epochs=2, progress=False)
    assert capsys.readouterr().out == ""
    fit(model, F.cross_entropy, optimizer, (X, y), epochs=2, progress=True)
    assert "fit" in capsys.readouterr().out


# -- errors ------------------------------------------------------------------------------------------------

def test_fit_errors():
    X, y = blobs(10)
    model = TensorMLP([2, 3, 3], seed=0)
    optimizer = SGD(model.parameters(), lr=0.1)
    loss = F.cross_entropy
    with pytest.raises(ValueError, match="epochs must be a positive int, got 0"):
        fit(model, loss, optimizer, (X, y), epochs=0)
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        fit(model, loss, optimizer, (X, y), epochs=1, batch_size=0)
    with pytest.raises(ValueError, match="pass batch_size to the DataLoader"):
        fit(model, loss, optimizer, DataLoader(X, y, 2), epochs=1, batch_size=2)
    with pytest.raises(TypeError, match="data must be \\(X, y\\) or a DataLoader"):
        fit(model, loss, optimizer, X, epochs=1)
    with pytest.raises(ValueError, match=r"X of shape \(10, 2\) and y of shape \(9,\)"):
        fit(model, loss, optimizer, (X, y[:9]), epochs=1)
    with pytest.raises(ValueError, match="unknown metric 'precision'"):
        fit(model, loss, optimizer, (X, y), epochs=1, metrics=("precision",))
    with pytest.raises(TypeError, match="metrics must be a sequence"):
        fit(model, loss, optimizer, (X, y), epochs=1, metrics="accuracy")
    with pytest.raises(TypeError, match="loss_fn must return a one-element Tensor, got Tensor of shape \\(10, 3\\)"):
        fit(model, lambda outputs, targets: outputs, optimizer, (X, y), epochs=1)
    with pytest.raises(TypeError, match="model must be a callable Module"):
        fit(lambda x: x, loss, optimizer, (X, y), epochs=1)


def test_a_diverging_loss_stops_training_with_a_clear_error():
    X = np.array([[1.0], [2.0], [3.0]])
    targets = np.array([[2.0], [4.0], [6.0]])
    model = TensorMLP([1, 1], seed=0)
    with pytest.raises(FloatingPointError, match="epoch .*, batch 1: the loss is (inf|nan); training diverged"):
        with np.errstate(over="ignore", invalid="ignore"):
            fit(model, F.mse_loss, SGD(model.parameters(), lr=10.0), (X, targets), epochs=500,
                progress=False, metrics=())


# -- metrics that follow the loss, History's face, the CLI options (issue 10) ---------------------------------

def test_default_metrics_follow_the_loss():
    X, y = blobs(12)
    model = TensorMLP([2, 3, 3], seed=0)
    history = fit(model, F.cross_entropy, SGD(model.parameters(), lr=0.1), (X, y), epochs=1, progress=False)
    assert list(history.metrics) == ["accuracy"]
    # A regression (fitting a sine) reports no accuracy.
    xs = np.linspace(-2, 2, 20).reshape(-1, 1)
    model = TensorMLP([1, 8, 1], activation="tanh", seed=0)
    history = fit(model, F.mse_loss, Adam(model.parameters(), lr=0.05), (xs, np.sin(xs)), epochs=3,
                  progress=False, validation_data=(xs, np.sin(xs)))
    assert history.metrics == {} and history.val_metrics == {} and len(history.val_loss) == 3
    assert set(evaluate(model, F.mse_loss, xs, np.sin(xs))) == {"loss"}
    with pytest.raises(KeyError, match="History.metrics has no 'accuracy'; recorded: nothing"):
        history.accuracy


@pytest.mark.parametrize("loss, targets, threshold", [
    (F.binary_cross_entropy_with_logits, np.array([[0.0], [1.0], [1.0], [0.0]]), 0.0),
    (F.hinge, np.array([[-1.0], [1.0], [1.0], [-1.0]]), 0.0),
])
def test_logit_and_hinge_losses_cut_accuracy_at_zero(loss, targets, threshold):
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    model = TensorMLP([2, 1], seed=0)
    model[0].weight.data[:] = [[1.0, 1.0]]
    model[0].bias.data[:] = -0.5  # scores -0.5, 0.5, 0.5, 1.5: classes 0 1 1 1 at the cut 0
    scores = evaluate(model, loss, X, targets)
    assert scores["accuracy"] == 0.75  # by hand: the last sample is wrong
    history = fit(model, loss, SGD(model.parameters(), lr=0.0), (X, targets), epochs=1, progress=False)
    assert history.accuracy == [0.75]


def test_history_repr_is_short_and_plot_draws_it():
    history = History(loss=[0.9, 0.51234], metrics={"accuracy": [0.5, 0.75]}, val_loss=[1.0, 0.6],
                      val_metrics={"accuracy": [0.25, 0.5]}, batch_loss=[1.0] * 40)
    assert repr(history) == "History(epochs=2, loss=0.5123, accuracy=0.75, val_loss=0.6, val_accuracy=0.5)"
    assert repr(History()) == "History(epochs=0)"
    figure = history.plot()
    assert [ax.get_ylabel() for ax in figure.axes] == ["loss", "accuracy"]


def test_print_every_writes_epoch_lines_like_train_xor():
    X, y = blobs(12)
    model = TensorMLP([2, 3, 3], seed=0)
    out = io.StringIO()
    history = fit(model, F.cross_entropy, SGD(model.parameters(), lr=0.1), (X, y), epochs=5,
                  validation_data=(X, y), print_every=2, out=out)
    lines = out.getvalue().splitlines()
    assert [line.split()[1] for line in lines] == ["1", "2", "4", "5"]
    assert lines[-1] == (f"epoch    5  loss {history.loss[-1]:.6f}  accuracy {history.accuracy[-1]:.3f}  "
                         f"val_loss {history.val_loss[-1]:.6f}  val_accuracy {history.val_accuracy[-1]:.3f}")
    with pytest.raises(ValueError, match="print_every must be a positive int or None"):
        fit(model, F.cross_entropy, SGD(model.parameters(), lr=0.1), (X, y), epochs=1, print_every=0)


def test_train_iris_prints_per_epoch_lines():
    out = io.StringIO()
    _, history, _ = train_iris(epochs=3, print_every=1, out=out, progress=False)
    assert len(out.getvalue().splitlines()) == 3 and "val_accuracy" in out.getvalue()


def test_the_progress_bar_shows_the_latest_loss_and_metric(capsys):
    X, y = blobs(10)
    model = TensorMLP([2, 3, 3], seed=0)
    fit(model, F.cross_entropy, SGD(model.parameters(), lr=0.1), (X, y), epochs=2, progress=True)
    text = capsys.readouterr().out
    assert "loss=" in text and "accuracy=" in text and "<" in text  # elapsed<remaining


def test_batch_losses_are_kept():
    X, y = blobs(12)
    model = TensorMLP([2, 3, 3], seed=0)
    history = fit(model, F.cross_entropy, SGD(model.parameters(), lr=0.1), (X, y), epochs=2, batch_size=5,
                  progress=False)
    assert len(history.batch_loss) == 6  # 3 batches (5, 5, 2) per epoch
    assert history.loss[0] == pytest.approx(np.dot(history.batch_loss[:3], [5, 5, 2]) / 12)
