"""Training tensor models: `fit`, `evaluate`, `History`, and the iris recipe `train_iris`.

One *iteration* is one mini-batch: forward, loss (the mean of the per-sample losses for a
mean-reduced loss), zero the grads, backward, ``optimizer.step()``. One *epoch* is one pass
over the training data in shuffled mini-batches from `nn.data.DataLoader`.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Optional, Sequence, TextIO, Union

import numpy as np

from autograd_core.grad_mode import no_grad
from autograd_core.tensor import Tensor
from nn.data import DataLoader, StandardScaler, load_iris, train_test_split
from nn.diagnose import diagnose, gradient_norm, model_layers
from nn.module import Module
from nn.recording import resolve_recorder
from nn.training_tools import (EpochPrinter, TrainingRun, bar_postfix, default_threshold,
                               is_classification_loss, latest_values, positive_int_or_none,
                               progress_bar, resolve_live)

Metric = Callable[[np.ndarray, np.ndarray], float]
LossFn = Callable[[Tensor, Any], Tensor]
Data = Union[tuple[Any, Any], DataLoader]


# -- metrics ---------------------------------------------------------------------------------------

def predicted_classes(outputs: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """Class per row: argmax of (n, C) scores for C >= 2; for one score per sample (shape (n,)
    or (n, 1)), 1 where it exceeds `threshold`, else 0."""
    outputs = np.asarray(outputs)
    if outputs.ndim == 2 and outputs.shape[1] >= 2:
        return outputs.argmax(axis=1)
    return (outputs.reshape(len(outputs)) > threshold).astype(np.int64)


def accuracy(outputs: np.ndarray, targets: np.ndarray, threshold: float = 0.5) -> float:
    """Fraction of samples whose predicted class equals the target class.

    Multi-class outputs (n, C): argmax against integer labels (n,) or against the argmax of
    one-hot/probability rows (n, C). One score per sample: ``output > threshold`` against
    ``target > threshold``; 0.5 suits probabilities with 0/1 targets, 0 suits logits
    (with 0/1 targets) and hinge scores (with -1/+1 targets).
    """
    outputs, targets = np.asarray(outputs), np.asarray(targets)
    if len(outputs) != len(targets) or len(outputs) == 0:
        raise ValueError(f"accuracy: {len(outputs)} outputs for {len(targets)} targets "
                         "(need the same, non-zero number)")
    if outputs.ndim == 2 and outputs.shape[1] >= 2:
        predicted = outputs.argmax(axis=1)
        if targets.ndim == 2:
            truth = targets.argmax(axis=1)
        elif targets.ndim == 1 and (targets.dtype.kind in "iu" or np.all(targets == np.round(targets))):
            truth = targets
        else:
            raise ValueError(f"accuracy: for {outputs.shape[1]}-class outputs the targets must be "
                             f"integer labels (n,) or rows (n, C), got shape {targets.shape}")
    else:
        predicted = predicted_classes(outputs, threshold)
        truth = (targets.reshape(len(targets), -1)[:, 0] > threshold).astype(np.int64)
        if targets.size != len(targets):
            raise ValueError(f"accuracy: one output per sample needs one target per sample, got "
                             f"targets of shape {targets.shape}")
    return float(np.mean(predicted == truth))


METRICS: dict[str, Callable[..., float]] = {"accuracy": accuracy}


def _resolve_metrics(metrics: Iterable[Union[str, Metric]]) -> dict[str, Callable[..., float]]:
    if isinstance(metrics, (str, bytes)):
        raise TypeError(f"metrics must be a sequence such as ('accuracy',), got the string {metrics!r}")
    resolved: dict[str, Callable[..., float]] = {}
    for metric in metrics:
        if isinstance(metric, str):
            if metric not in METRICS:
                raise ValueError(f"unknown metric {metric!r}; known metrics: {', '.join(METRICS)} "
                                 "(or pass a function (outputs, targets) -> float)")
            resolved[metric] = METRICS[metric]
        elif callable(metric):
            resolved[getattr(metric, "__name__", repr(metric))] = metric
        else:
            raise TypeError(f"a metric must be a name or a function, got {type(metric).__name__}")
    return resolved


def _metric_value(function: Callable[..., float], outputs: np.ndarray, targets: np.ndarray,
                  threshold: float) -> float:
    """A metric's value; the built-in accuracy also receives fit's `threshold`."""
    return function(outputs, targets, threshold) if function is accuracy else float(function(outputs, targets))


# -- history -------------------------------------------------------------------------------------------

@dataclass(repr=False)
class History:
    """What `fit` recorded after every epoch.

    ``loss[e]`` is epoch e's training loss: the batch losses averaged with their batch sizes
    as weights, each measured on the batch before that batch's update (as Keras reports it).
    ``metrics[name][e]`` is measured the same way, from the batches' outputs. ``val_loss``
    and ``val_metrics`` are measured on `validation_data` after the epoch, in eval mode.
    ``batch_loss`` holds every mini-batch's loss. When asked for (``live``, ``record``,
    ``diagnostics``), ``grad_norms[layer][e]`` is the mean over epoch e's batches of the layer's
    ‖dL/dW‖, ``diagnostics[e]`` the `nn.diagnose` report after epoch e, and ``recording`` what
    ``fit(record=...)`` kept for `viz.training_player`.

    >>> History(loss=[0.9, 0.5], metrics={"accuracy": [0.5, 0.75]})
    History(epochs=2, loss=0.5, accuracy=0.75)
    """

    loss: list[float] = field(default_factory=list)
    metrics: dict[str, list[float]] = field(default_factory=dict)
    val_loss: list[float] = field(default_factory=list)
    val_metrics: dict[str, list[float]] = field(default_factory=dict)
    batch_loss: list[float] = field(default_factory=list)
    grad_norms: dict[str, list[float]] = field(default_factory=dict)
    diagnostics: list[Any] = field(default_factory=list)
    recording: Any = None

    @property
    def epochs(self) -> int:
        """How many epochs were recorded."""
        return len(self.loss)

    @property
    def accuracy(self) -> list[float]:
        """Training accuracy per epoch (KeyError if "accuracy" was not among the metrics)."""
        return self._tracked(self.metrics, "accuracy", "metrics")

    @property
    def val_accuracy(self) -> list[float]:
        """Validation accuracy per epoch (KeyError without validation data or the metric)."""
        return self._tracked(self.val_metrics, "accuracy", "val_metrics")

    @staticmethod
    def _tracked(table: dict[str, list[float]], name: str, where: str) -> list[float]:
        if name not in table:
            raise KeyError(f"History.{where} has no {name!r}; recorded: {sorted(table) or 'nothing'}")
        return table[name]

    def __repr__(self) -> str:
        """The number of epochs and the last value of every curve (not every number)."""
        last = "".join(f", {name}={value:.4g}" for name, value in latest_values(self).items())
        extras = "".join([f", diagnostics={len(self.diagnostics)}" if self.diagnostics else "",
                          ", recording" if self.recording is not None else ""])
        return f"{type(self).__name__}(epochs={self.epochs}{last}{extras})"

    def plot(self, *, title: str = "training history") -> "Any":
        """Loss and metric curves (train and validation) as a matplotlib Figure
        (`viz.plot_history`; needs matplotlib)."""
        from viz.plots import plot_history

        return plot_history(self, title=title)


# -- fit and evaluate ------------------------------------------------------------------------------------

def _model_dtype(model: Module) -> np.dtype:
    parameters = model.parameters()
    return parameters[0].data.dtype if parameters and isinstance(parameters[0], Tensor) else np.dtype(np.float64)


def _checked_loss(loss: Any, where: str) -> float:
    if not isinstance(loss, Tensor) or loss.size != 1:
        shape = f" of shape {loss.shape}" if isinstance(loss, Tensor) else ""
        raise TypeError(f"{where}: loss_fn must return a one-element Tensor, got "
                        f"{type(loss).__name__}{shape}")
    value = loss.item()
    if not math.isfinite(value):
        raise FloatingPointError(f"{where}: the loss is {value}; training diverged (try a smaller "
                                 "learning rate, or a stable loss such as cross_entropy on logits; "
                                 "`with autograd_core.detect_anomaly():` names the op that made it)")
    return value


def _progress_bar(progress: Optional[bool], epochs: int) -> Any:
    """A tqdm bar over the epochs, or None (see `nn.training_tools.progress_bar`)."""
    return progress_bar(progress, epochs, "fit")


def _check_pair(X: Any, y: Any, where: str) -> tuple[np.ndarray, np.ndarray]:
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim == 0 or y.ndim == 0 or len(X) != len(y):
        raise ValueError(f"{where}: X of shape {X.shape} and y of shape {y.shape} must hold the same "
                         "number (>= 1) of samples along axis 0")
    if len(X) == 0:
        raise ValueError(f"{where}: no samples")
    return X, y


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"fit: {name} must be a positive int, got {value!r}")
    return int(value)


def class_labels(y: Any, threshold: float) -> Optional[np.ndarray]:
    """Integer class labels from targets: integer labels as they are, one-hot/probability rows
    by argmax, one target per sample by ``target > threshold``; None if y holds none of these.

    >>> class_labels(np.array([[0.0], [1.0]]), 0.5).tolist(), class_labels(np.eye(3)[[2, 0]], 0.5).tolist()
    ([0, 1], [2, 0])
    """
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] >= 2:
        return y.argmax(axis=1)
    flat = y.reshape(len(y), -1)[:, 0] if y.ndim >= 1 and y.size == len(y) else None
    if flat is None or flat.dtype.kind not in "biuf":
        return None
    if flat.dtype.kind in "iu" and flat.min(initial=0) >= 0 and len(np.unique(flat)) > 2:
        return flat.astype(np.int64)
    return (flat > threshold).astype(np.int64)


def _tensor_predictor(model: Module, dtype: np.dtype) -> Callable[[np.ndarray], np.ndarray]:
    """``predict(X)``: the model's outputs on X in eval mode, without a graph (mode restored)."""
    def predict(X: np.ndarray) -> np.ndarray:
        was_training = model.training
        model.eval()
        try:
            with no_grad():
                return np.asarray(model(Tensor(X, dtype=dtype)).data)
        finally:
            model.train(was_training)
    return predict


def fit(model: Module, loss_fn: LossFn, optimizer: Any, data: Data, epochs: int,
        batch_size: Optional[int] = None, validation_data: Optional[tuple[Any, Any]] = None,
        progress: Optional[bool] = None, seed: int = 0,
        metrics: Optional[Sequence[Union[str, Metric]]] = None, threshold: Optional[float] = None,
        on_epoch: Optional[Callable[[int, History], None]] = None, *,
        live: Any = False, record: Any = None, diagnostics: bool = False,
        print_every: Optional[int] = None, out: Optional[TextIO] = None) -> History:
    """Train `model` for `epochs` epochs of mini-batch gradient descent; returns a `History`.

    data: ``(X, y)`` arrays (batched by a `DataLoader` reshuffled every epoch from `seed`;
    ``batch_size=None`` means one full batch per epoch), or a ready `DataLoader` (then leave
    `batch_size` out). ``loss_fn(model(X_batch), y_batch)`` must return a one-element Tensor;
    y batches are passed as numpy arrays.

    metrics: names from `METRICS` or functions ``(outputs, targets) -> float``; by default
    ("accuracy",) for a classification loss (cross_entropy, binary_cross_entropy(_with_logits),
    hinge, from any of nn's loss modules) and none for the others (a regression).
    `threshold` is accuracy's cut for one-score outputs: by default 0 for logits
    (binary_cross_entropy_with_logits) and hinge scores, 0.5 for probabilities.
    validation_data: ``(X, y)`` evaluated after every epoch.

    Watching the run:

    - progress: a tqdm bar over the epochs (time left, and the latest loss and metrics in its
      postfix) when True; None (the default) shows it only when stdout is a terminal.
    - ``print_every=k``: a line per k epochs (and the first and last) to `out` (stdout),
      ``epoch   10  loss 0.123456  accuracy 0.950  val_loss ...``; with a progress bar the
      lines scroll above it.
    - ``live=True`` (Jupyter): one picture redrawn in place after every epoch, ``live=k`` after
      every k iterations: loss and metric curves (train and validation), the decision
      boundary when the inputs are 2-D and the loss classifies, and per-layer gradient norms;
      the last picture stays in the notebook as a PNG. Needs matplotlib (imported only then).
      ``live=viz.live.LivePlot(...)`` chooses the details.
    - ``record=...`` keeps what `viz.training_player` replays: True (everything that applies),
      names from ("boundary", "weights", "grads") or an `nn.recording.Recorder` (every k
      epochs, a byte budget). Stored in ``history.recording``.
    - ``diagnostics=True`` stores `nn.diagnose` of the model on the training data (at most
      the first 1,024 samples) after every epoch in ``history.diagnostics``, with the
      optimizer's lr.
    - ``on_epoch(epoch, history)`` is called after each epoch (epochs count from 1).

    A non-finite loss stops training with FloatingPointError.

    >>> import numpy as np
    >>> from nn import TensorMLP, SGD, functional as F
    >>> X = np.array([[0., 0.], [0., 1.], [1., 0.], [1., 1.]]); y = np.array([0, 1, 1, 0])
    >>> model = TensorMLP([2, 8, 2], activation="tanh", seed=0)
    >>> history = fit(model, F.cross_entropy, SGD(model.parameters(), lr=0.5), (X, y), epochs=3,
    ...               progress=False)
    >>> history.epochs, sorted(history.metrics)
    (3, ['accuracy'])
    """
    if not isinstance(model, Module) or not callable(model):
        raise TypeError(f"fit: model must be a callable Module, got {type(model).__name__}")
    epochs = _positive_int(epochs, "epochs")
    if isinstance(data, DataLoader):
        if batch_size is not None:
            raise ValueError("fit: pass batch_size to the DataLoader, not to fit, when data is a DataLoader")
        loader = data
    elif isinstance(data, (tuple, list)) and len(data) == 2:
        X, y = _check_pair(*data, "fit data")
        size = len(X) if batch_size is None else _positive_int(batch_size, "batch_size")
        loader = DataLoader(X, y, size, shuffle=True, seed=seed)
    else:
        raise TypeError(f"fit: data must be (X, y) or a DataLoader, got {type(data).__name__}")
    if validation_data is not None:
        if not (isinstance(validation_data, (tuple, list)) and len(validation_data) == 2):
            raise TypeError("fit: validation_data must be a pair (X, y)")
        validation_data = _check_pair(*validation_data, "fit validation_data")
    classification = is_classification_loss(loss_fn)
    if metrics is None:
        metrics = ("accuracy",) if classification else ()
    if threshold is None:
        threshold = default_threshold(loss_fn)
    tracked = _resolve_metrics(metrics)
    if not isinstance(diagnostics, bool):
        raise TypeError(f"fit: diagnostics must be True or False, got {diagnostics!r}")
    every = positive_int_or_none(print_every, "print_every", "fit")
    dtype = _model_dtype(model)
    history = History(metrics={name: [] for name in tracked},
                      val_metrics={name: [] for name in tracked} if validation_data is not None else {})
    watchers = [w for w in (resolve_live(live, "fit"), resolve_recorder(record, "fit")) if w is not None]
    train_X, train_y = np.asarray(loader.X), np.asarray(loader.y)
    labels = class_labels(train_y, threshold) if classification or "accuracy" in tracked else None
    run = TrainingRun(model=model, loss_fn=loss_fn, history=history, epochs=epochs,
                      iterations_per_epoch=len(loader), predict=_tensor_predictor(model, dtype),
                      classes=(lambda outputs: predicted_classes(outputs, threshold)) if labels is not None else None,
                      X=train_X, labels=labels, targets=train_y, kind="tensor")
    layers = model_layers(model) if (watchers or diagnostics) else []
    if progress is None and any(getattr(w, "wants_bar", False) for w in watchers):
        progress = True  # a live plot in Jupyter: the bar adds the time left
    bar = _progress_bar(progress, epochs)
    printer = EpochPrinter(every, epochs, out, bar) if every is not None else None
    try:
        for watcher in watchers:
            watcher.begin(run)
        for epoch in range(1, epochs + 1):
            run.epoch = epoch
            model.train()
            total_loss, seen = 0.0, 0
            totals = dict.fromkeys(tracked, 0.0)
            norm_sums = dict.fromkeys((layer.name for layer in layers), 0.0)
            for step, (X_batch, y_batch) in enumerate(loader, start=1):
                outputs = model(Tensor(X_batch, dtype=dtype))
                loss = loss_fn(outputs, y_batch)
                value = _checked_loss(loss, f"fit: epoch {epoch}, batch {step}")
                optimizer.zero_grad()
                loss.backward()
                for layer in layers:
                    norm_sums[layer.name] += gradient_norm(layer.weights)
                optimizer.step()
                count = len(X_batch)
                total_loss += value * count
                seen += count
                history.batch_loss.append(value)
                for name, function in tracked.items():
                    totals[name] += _metric_value(function, outputs.data, y_batch, threshold) * count
                run.iteration += 1
                for watcher in watchers:
                    watcher.iteration(run)
            history.loss.append(total_loss / seen)
            for name in tracked:
                history.metrics[name].append(totals[name] / seen)
            for name, norm_sum in norm_sums.items():
                history.grad_norms.setdefault(name, []).append(norm_sum / step)
            if validation_data is not None:
                scores = evaluate(model, loss_fn, *validation_data, metrics=list(tracked.values()),
                                  threshold=threshold)
                history.val_loss.append(scores["loss"])
                for name in tracked:
                    history.val_metrics[name].append(scores[name])
            if diagnostics:
                history.diagnostics.append(diagnose(model, train_X[:DIAGNOSIS_SAMPLES],
                                                    train_y[:DIAGNOSIS_SAMPLES], loss_fn, optimizer=optimizer))
            if bar is not None:
                bar.update(1)
                bar.set_postfix(bar_postfix(latest_values(history)))
            if printer is not None:
                printer(epoch, history)
            for watcher in watchers:
                watcher.epoch(run)
            if on_epoch is not None:
                on_epoch(epoch, history)
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


# How many training samples fit(diagnostics=True) diagnoses after each epoch (the first ones).
DIAGNOSIS_SAMPLES = 1024


def evaluate(model: Module, loss_fn: LossFn, X: Any, y: Any,
             metrics: Optional[Sequence[Union[str, Metric]]] = None,
             threshold: Optional[float] = None) -> dict[str, float]:
    """``{"loss": ..., <metric>: ...}`` of `model` on all of (X, y) at once, in eval mode and
    without building a graph (the model's train/eval mode is restored afterwards).

    `metrics` and `threshold` default as in `fit`: accuracy for a classification loss, with
    the threshold that suits its outputs.

    >>> import numpy as np
    >>> from nn import Linear, functional as F
    >>> layer = Linear(1, 1, seed=0); layer.weight.data[:] = 2.0; layer.bias.data[:] = 0.0
    >>> evaluate(layer, F.mse_loss, np.array([[1.0], [2.0]]), np.array([[2.0], [3.0]]))
    {'loss': 0.5}
    """
    if not isinstance(model, Module) or not callable(model):
        raise TypeError(f"evaluate: model must be a callable Module, got {type(model).__name__}")
    X, y = _check_pair(X, y, "evaluate")
    if metrics is None:
        metrics = ("accuracy",) if is_classification_loss(loss_fn) else ()
    if threshold is None:
        threshold = default_threshold(loss_fn)
    tracked = _resolve_metrics(metrics)
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            outputs = model(Tensor(X, dtype=_model_dtype(model)))
            scores = {"loss": _checked_loss(loss_fn(outputs, y), "evaluate")}
    finally:
        model.train(was_training)
    for name, function in tracked.items():
        scores[name] = _metric_value(function, outputs.data, y, threshold)
    return scores


# -- the iris recipe -------------------------------------------------------------------------------------

def train_iris(seed: int = 0, epochs: int = 100, hidden: Sequence[int] = (16, 16), lr: float = 0.01,
               batch_size: int = 16, test_size: float = 0.3, progress: Optional[bool] = None,
               print_every: Optional[int] = None, out: Optional[TextIO] = None, **fit_options: Any
               ) -> tuple[Module, History, float]:
    """Train a tensor MLP on Fisher's iris; returns ``(model, history, test_accuracy)``.

    Recipe: a stratified split holding out `test_size` of the 150 samples (seeded), features
    standardized with statistics of the training part only, ``TensorMLP([4, *hidden, 3])``
    with ReLU, cross-entropy on the logits, Adam(lr), shuffled mini-batches. The held-out
    part is the validation data in the history, and is never trained on. `print_every`,
    `out` and `fit_options` (``live``, ``record``, ``diagnostics``) are passed to `fit`.

    >>> model, history, test_accuracy = train_iris(epochs=2, progress=False)
    >>> history.epochs, sorted(history.metrics), sorted(history.val_metrics)
    (2, ['accuracy'], ['accuracy'])
    """
    # Imported here so that nn.training does not import the loss and optimizer modules at load.
    from nn.functional import cross_entropy
    from nn.layers import TensorMLP
    from nn.optim import Adam

    X, y, _ = load_iris()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=test_size, seed=seed, stratify=True)
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    model = TensorMLP([X.shape[1], *hidden, 3], activation="relu", seed=seed)
    optimizer = Adam(model.parameters(), lr=lr)
    history = fit(model, cross_entropy, optimizer, (X_train, y_train), epochs,
                  batch_size=batch_size, validation_data=(X_test, y_test), progress=progress, seed=seed,
                  print_every=print_every, out=out, **fit_options)
    test_accuracy = evaluate(model, cross_entropy, X_test, y_test)["accuracy"]
    return model, history, test_accuracy


__all__ = ["History", "fit", "evaluate", "accuracy", "predicted_classes", "METRICS", "train_iris",
           "class_labels", "DIAGNOSIS_SAMPLES"]
