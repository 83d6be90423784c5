"""Training tensor models: `fit`, `evaluate`, `History`, and the iris recipe `train_iris`.

One *iteration* is one mini-batch: forward, loss (the mean of the per-sample losses for a
mean-reduced loss), zero the grads, backward, ``optimizer.step()``. One *epoch* is one pass
over the training data in shuffled mini-batches from `nn.data.DataLoader`.
"""

from __future__ import annotations

import math
import numbers
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Optional, Sequence, Union

import numpy as np

from autograd_core.grad_mode import no_grad
from autograd_core.tensor import Tensor
from nn.data import DataLoader, StandardScaler, load_iris, train_test_split
from nn.module import Module

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

@dataclass
class History:
    """What `fit` recorded after every epoch.

    ``loss[e]`` is epoch e's training loss: the batch losses averaged with their batch sizes
    as weights, each measured on the batch before that batch's update (as Keras reports it).
    ``metrics[name][e]`` is measured the same way, from the batches' outputs. ``val_loss``
    and ``val_metrics`` are measured on `validation_data` after the epoch, in eval mode.
    """

    loss: list[float] = field(default_factory=list)
    metrics: dict[str, list[float]] = field(default_factory=dict)
    val_loss: list[float] = field(default_factory=list)
    val_metrics: dict[str, list[float]] = field(default_factory=dict)

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
                                 "learning rate, or a stable loss such as cross_entropy on logits)")
    return value


def _progress_bar(progress: Optional[bool], epochs: int) -> Any:
    """A tqdm bar over the epochs, or None: on when asked, or (progress=None) when stdout is a terminal."""
    if progress is None:
        isatty = getattr(sys.stdout, "isatty", None)
        progress = bool(isatty and isatty())
        if not progress:
            return None
        try:
            from tqdm.auto import tqdm
        except ImportError:  # tqdm is optional; without it the default is simply no bar
            return None
    elif not isinstance(progress, bool):
        raise TypeError(f"fit: progress must be True, False or None, got {type(progress).__name__}")
    elif not progress:
        return None
    else:
        try:
            from tqdm.auto import tqdm
        except ImportError:
            raise ImportError("fit(progress=True) needs tqdm: pip install tqdm") from None
    return tqdm(total=epochs, desc="fit", unit="epoch", file=sys.stdout, leave=False)


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


def fit(model: Module, loss_fn: LossFn, optimizer: Any, data: Data, epochs: int,
        batch_size: Optional[int] = None, validation_data: Optional[tuple[Any, Any]] = None,
        progress: Optional[bool] = None, seed: int = 0,
        metrics: Sequence[Union[str, Metric]] = ("accuracy",), threshold: float = 0.5,
        on_epoch: Optional[Callable[[int, History], None]] = None) -> History:
    """Train `model` for `epochs` epochs of mini-batch gradient descent; returns a `History`.

    data: ``(X, y)`` arrays (batched by a `DataLoader` reshuffled every epoch from `seed`;
    ``batch_size=None`` means one full batch per epoch), or a ready `DataLoader` (then leave
    `batch_size` out). ``loss_fn(model(X_batch), y_batch)`` must return a one-element Tensor;
    y batches are passed as numpy arrays. `metrics`: names from `METRICS` or functions
    ``(outputs, targets) -> float``; `threshold` is accuracy's cut for one-score outputs.
    validation_data: ``(X, y)`` evaluated after every epoch. progress: a tqdm bar over the
    epochs when True; None (the default) shows it only when stdout is a terminal.
    ``on_epoch(epoch, history)`` is called after each epoch (epochs count from 1).
    A non-finite loss stops training with FloatingPointError.
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
    tracked = _resolve_metrics(metrics)
    dtype = _model_dtype(model)
    history = History(metrics={name: [] for name in tracked},
                      val_metrics={name: [] for name in tracked} if validation_data is not None else {})
    bar = _progress_bar(progress, epochs)
    try:
        for epoch in range(1, epochs + 1):
            model.train()
            total_loss, seen = 0.0, 0
            totals = dict.fromkeys(tracked, 0.0)
            for step, (X_batch, y_batch) in enumerate(loader, start=1):
                outputs = model(Tensor(X_batch, dtype=dtype))
                loss = loss_fn(outputs, y_batch)
                value = _checked_loss(loss, f"fit: epoch {epoch}, batch {step}")
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                count = len(X_batch)
                total_loss += value * count
                seen += count
                for name, function in tracked.items():
                    totals[name] += _metric_value(function, outputs.data, y_batch, threshold) * count
            history.loss.append(total_loss / seen)
            for name in tracked:
                history.metrics[name].append(totals[name] / seen)
            if validation_data is not None:
                scores = evaluate(model, loss_fn, *validation_data, metrics=list(tracked.values()),
                                  threshold=threshold)
                history.val_loss.append(scores["loss"])
                for name in tracked:
                    history.val_metrics[name].append(scores[name])
            if bar is not None:
                bar.update(1)
                bar.set_postfix({"loss": f"{history.loss[-1]:.4f}",
                                 **({"val_loss": f"{history.val_loss[-1]:.4f}"} if history.val_loss else {})})
            if on_epoch is not None:
                on_epoch(epoch, history)
    finally:
        if bar is not None:
            bar.close()
    return history


def evaluate(model: Module, loss_fn: LossFn, X: Any, y: Any,
             metrics: Sequence[Union[str, Metric]] = ("accuracy",), threshold: float = 0.5) -> dict[str, float]:
    """``{"loss": ..., <metric>: ...}`` of `model` on all of (X, y) at once, in eval mode and
    without building a graph (the model's train/eval mode is restored afterwards)."""
    if not isinstance(model, Module) or not callable(model):
        raise TypeError(f"evaluate: model must be a callable Module, got {type(model).__name__}")
    X, y = _check_pair(X, y, "evaluate")
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
               batch_size: int = 16, test_size: float = 0.3, progress: Optional[bool] = None
               ) -> tuple[Module, History, float]:
    """Train a tensor MLP on Fisher's iris; returns ``(model, history, test_accuracy)``.

    Recipe: a stratified split holding out `test_size` of the 150 samples (seeded), features
    standardized with statistics of the training part only, ``TensorMLP([4, *hidden, 3])``
    with ReLU, cross-entropy on the logits, Adam(lr), shuffled mini-batches. The held-out
    part is the validation data in the history, and is never trained on.
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
                  batch_size=batch_size, validation_data=(X_test, y_test), progress=progress, seed=seed)
    test_accuracy = evaluate(model, cross_entropy, X_test, y_test)["accuracy"]
    return model, history, test_accuracy


__all__ = ["History", "fit", "evaluate", "accuracy", "predicted_classes", "METRICS", "train_iris"]
