"""A full-batch training loop for scalar (`Value`) models: the micrograd way, one graph per epoch."""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence, TextIO

import numpy as np

from autograd_core import Value, no_grad, sum_values
from nn.optim import Optimizer

Model = Callable[[list[float]], Value]
LossFn = Callable[[Value, float], Value]


@dataclass(repr=False)
class ScalarHistory:
    """Loss and accuracy after every epoch.

    ``loss[e]`` is the mean loss over the samples before epoch e's update; ``accuracy[e]`` is
    measured after it (empty for a regression loss without `labels`). When asked for
    (``live``, ``record``, ``diagnostics``): ``grad_norms[layer][e]``, each layer's ‖dL/dW‖ at
    epoch e; ``diagnostics[e]``, the `nn.diagnose` report after epoch e; ``recording``, what
    `viz.training_player` replays.

    >>> ScalarHistory(loss=[0.7, 0.4], accuracy=[0.5, 1.0])
    ScalarHistory(epochs=2, loss=0.4, accuracy=1)
    """

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    grad_norms: dict[str, list[float]] = field(default_factory=dict)
    diagnostics: list[Any] = field(default_factory=list)
    recording: Any = None

    @property
    def epochs(self) -> int:
        """How many epochs were recorded."""
        return len(self.loss)

    @property
    def metrics(self) -> dict[str, list[float]]:
        """``{"accuracy": accuracy}`` when accuracy was measured, else {} (as `History.metrics`)."""
        return {"accuracy": self.accuracy} if self.accuracy else {}

    @property
    def batch_loss(self) -> list[float]:
        """One full batch per epoch: the epoch losses."""
        return self.loss

    def __repr__(self) -> str:
        """The number of epochs and the last loss and accuracy."""
        from nn.training_tools import latest_values

        last = "".join(f", {name}={value:.4g}" for name, value in latest_values(self).items())
        extras = "".join([f", diagnostics={len(self.diagnostics)}" if self.diagnostics else "",
                          ", recording" if self.recording is not None else ""])
        return f"ScalarHistory(epochs={self.epochs}{last}{extras})"

    def plot(self, *, title: str = "training history") -> Any:
        """Loss and accuracy curves as a matplotlib Figure (`viz.plot_history`)."""
        from viz.plots import plot_history

        return plot_history(self, title=title)


# -- evaluating a scalar MLP on arrays -----------------------------------------------------------

def mlp_outputs(model: Any, X: Any, *, exact: bool = True) -> np.ndarray:
    """The outputs (n, outputs) of a scalar `MLP` for the rows of X, computed on numpy arrays
    without building a graph.

    With ``exact=True`` every number equals the one ``model(x).data`` gives: each neuron sums
    ``b + w0 x0 + w1 x1 + ...`` in the same order, and the activation's declared float forward
    runs on each element. ``exact=False`` runs the activation's numpy forward instead (a last
    bit may differ), for drawing decision boundaries on large grids.

    >>> from nn import MLP
    >>> model = MLP(2, [3, 1], seed=0)
    >>> float(mlp_outputs(model, [[0.5, -1.0]])[0, 0]) == model([0.5, -1.0]).data
    True
    """
    from nn.activations import bound_activation
    from nn.scalar.modules import MLP

    if not isinstance(model, MLP):
        raise TypeError(f"mlp_outputs needs a scalar MLP, got {type(model).__name__}")
    values = np.asarray(X, dtype=np.float64)
    if values.ndim != 2 or values.shape[1] != model.nin:
        raise ValueError(f"mlp_outputs: X must have shape (n, {model.nin}), got {values.shape}")
    columns = list(values.T)
    for layer in model.layers:
        activation = bound_activation(layer.activation)  # the declared op, or None
        outputs = []
        for neuron in layer.neurons:
            total = np.full(len(values), neuron.b.data)
            for weight, column in zip(neuron.w, columns):
                total = total + weight.data * column
            if activation is not None:
                total = (np.array([activation.scalar(v) for v in total.tolist()]) if exact
                         else np.asarray(activation.on_arrays(total), dtype=np.float64))
            outputs.append(total)
        columns = outputs
    return np.column_stack(columns)


def _outputs(model: Any, rows: Sequence[Sequence[float]]) -> np.ndarray:
    """(n, outputs) of any scalar model: the array path for an MLP, else one call per row."""
    from nn.scalar.modules import MLP

    if isinstance(model, MLP):
        return mlp_outputs(model, rows)
    out = []
    with no_grad():  # evaluation: the Values it makes are leaves, freed at once, with no graph
        for x in rows:
            result = model(list(map(float, x)))
            out.append([v.data for v in result] if isinstance(result, (list, tuple)) else [result.data])
    return np.asarray(out, dtype=np.float64)


def _predictor(model: Any) -> Callable[[np.ndarray], np.ndarray]:
    from nn.scalar.modules import MLP

    if isinstance(model, MLP):
        return lambda X: mlp_outputs(model, X, exact=False)
    return lambda X: _outputs(model, np.asarray(X).tolist())


def predict_labels(model: Model, inputs: Sequence[Sequence[float]], threshold: float) -> list[int]:
    """Class per sample: 1 where the model's one output exceeds `threshold`, else 0; the
    argmax for a model with several outputs."""
    from nn.training import predicted_classes

    return predicted_classes(_outputs(model, inputs), threshold).tolist()


def accuracy(model: Model, inputs: Sequence[Sequence[float]], labels: Sequence[int], threshold: float) -> float:
    """Fraction of samples whose predicted class (`predict_labels`) equals the label."""
    predicted = predict_labels(model, inputs, threshold)
    return sum(int(p == int(t)) for p, t in zip(predicted, labels)) / len(labels)


# -- the loop ----------------------------------------------------------------------------------------

def fit_scalar(
    model: Model,
    inputs: Sequence[Sequence[float]],
    targets: Sequence[float],
    loss_fn: LossFn,
    optimizer: Optimizer,
    epochs: int,
    labels: Sequence[int] | None = None,
    threshold: float | None = None,
    on_epoch: Callable[[int, float, float], None] | None = None,
    *,
    progress: Optional[bool] = False,
    print_every: Optional[int] = None,
    out: Optional[TextIO] = None,
    live: Any = False,
    record: Any = None,
    diagnostics: bool = False,
) -> ScalarHistory:
    """Train `model` for `epochs` full-batch steps of gradient descent.

    Each epoch: loss = mean over samples of ``loss_fn(model(x), target)``, zero the grads,
    backward, ``optimizer.step()``. Accuracy (measured after the step) compares the predicted
    class with `labels`; it is measured for a classification loss (cross_entropy,
    binary_cross_entropy(_with_logits), hinge) or when `labels` are given, and left empty for
    a regression. Labels default to the targets' classes (``target > threshold``, so hinge's
    -1/+1 targets work as they are). `threshold` defaults to 0 for logits and hinge scores and
    0.5 for probabilities. ``on_epoch(epoch, loss, accuracy)`` is called after each epoch
    (accuracy NaN when not measured).

    Watching the run (as `nn.training.fit`): ``progress=True`` (or None: when stdout is a
    terminal) shows a tqdm bar with the time left and the latest loss and accuracy;
    ``print_every=k`` prints a line every k epochs (and the first and last) to `out`, above
    the bar if there is one;
    ``live=True`` redraws one picture in Jupyter after every epoch (``live=k``: every k
    epochs): loss, accuracy, the decision boundary for 2-D inputs, per-layer gradient norms;
    ``record=...`` keeps frames for `viz.training_player` (for an MLP, also the graph of one
    chosen sample: ``record=Recorder(point=3)``); ``diagnostics=True`` stores `nn.diagnose`
    after every epoch.

    >>> from nn import MLP, SGD, functional as F
    >>> model = MLP(2, [4, 1], seed=0)
    >>> history = fit_scalar(model, [[0., 0.], [1., 1.]], [-1.0, 1.0], F.hinge,
    ...                      SGD(model.parameters(), lr=0.1), epochs=3)
    >>> history
    ScalarHistory(epochs=3, loss=0.1484, accuracy=1)
    """
    from nn.diagnose import diagnose, gradient_norm, model_layers
    from nn.recording import resolve_recorder
    from nn.training import class_labels
    from nn.training_tools import (EpochPrinter, TrainingRun, bar_postfix, default_threshold,
                                   is_classification_loss, latest_values, positive_int_or_none,
                                   progress_bar, resolve_live)

    if len(inputs) != len(targets):
        raise ValueError(f"fit_scalar: {len(inputs)} inputs but {len(targets)} targets")
    if not inputs:
        raise ValueError("fit_scalar: no training samples")
    if isinstance(epochs, bool) or not isinstance(epochs, numbers.Integral) or epochs < 1:
        raise ValueError(f"fit_scalar: epochs must be >= 1, got {epochs}")
    if not isinstance(diagnostics, bool):
        raise TypeError(f"fit_scalar: diagnostics must be True or False, got {diagnostics!r}")
    if threshold is None:
        threshold = default_threshold(loss_fn)
    rows = [list(map(float, x)) for x in inputs]
    target_array = np.asarray(targets)
    measured = labels is not None or is_classification_loss(loss_fn)
    if labels is not None:
        label_array: Optional[np.ndarray] = np.asarray(labels).astype(np.int64)
        if len(label_array) != len(rows):
            raise ValueError(f"fit_scalar: {len(rows)} inputs but {len(label_array)} labels")
    else:
        label_array = class_labels(target_array, threshold) if measured else None
    if measured and label_array is None:
        raise ValueError("fit_scalar: cannot read class labels from the targets; pass labels=")
    every = positive_int_or_none(print_every, "print_every", "fit_scalar")
    history = ScalarHistory()
    watchers = [w for w in (resolve_live(live, "fit_scalar"), resolve_recorder(record, "fit_scalar"))
                if w is not None]
    layers = model_layers(model) if (watchers or diagnostics) and hasattr(model, "parameters") else []
    X = np.asarray(rows)

    def classes(outputs: np.ndarray) -> np.ndarray:
        from nn.training import predicted_classes

        return predicted_classes(outputs, threshold)

    run = TrainingRun(model=model, loss_fn=loss_fn, history=history, epochs=int(epochs),
                      iterations_per_epoch=1, predict=_predictor(model),
                      classes=classes if label_array is not None else None, X=X, labels=label_array,
                      targets=target_array, kind="scalar")
    if progress is None and any(getattr(w, "wants_bar", False) for w in watchers):
        progress = True
    bar = progress_bar(progress, int(epochs), "fit_scalar")
    printer = EpochPrinter(every, int(epochs), out, bar) if every is not None else None
    try:
        for watcher in watchers:
            watcher.begin(run)
        for epoch in range(1, int(epochs) + 1):
            run.epoch = epoch
            loss = sum_values(loss_fn(model(x), float(t)) for x, t in zip(rows, targets)) / len(rows)
            optimizer.zero_grad()
            loss.backward()
            for layer in layers:
                history.grad_norms.setdefault(layer.name, []).append(gradient_norm(layer.weights))
            optimizer.step()
            history.loss.append(loss.data)
            score = float("nan")
            if label_array is not None:
                predicted = classes(_outputs(model, rows))
                score = float(np.mean(predicted == label_array))
                history.accuracy.append(score)
            if diagnostics:
                history.diagnostics.append(diagnose(model, X, target_array, loss_fn, optimizer=optimizer))
            run.iteration = epoch
            if bar is not None:
                bar.update(1)
                bar.set_postfix(bar_postfix(latest_values(history)))
            if printer is not None:
                printer(epoch, history)
            for watcher in watchers:
                watcher.iteration(run)
                watcher.epoch(run)
            if on_epoch is not None:
                on_epoch(epoch, history.loss[-1], score)
        run.done = True
    finally:
        if bar is not None:
            bar.close()
        for watcher in watchers:
            watcher.end(run)
    for watcher in watchers:
        if hasattr(watcher, "frames"):
            history.recording = watcher
    return history
