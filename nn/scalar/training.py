"""A full-batch training loop for scalar (`Value`) models: the micrograd way, one graph per epoch."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

from autograd_core import Value, sum_values
from nn.optim import Optimizer

Model = Callable[[list[float]], Value]
LossFn = Callable[[Value, float], Value]


@dataclass
class ScalarHistory:
    """Loss and accuracy after every epoch."""

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)


def predict_labels(model: Model, inputs: Sequence[Sequence[float]], threshold: float) -> list[int]:
    """Class 1 where the model's output exceeds `threshold`, else class 0."""
    return [int(model(list(map(float, x))).data > threshold) for x in inputs]


def accuracy(model: Model, inputs: Sequence[Sequence[float]], labels: Sequence[int], threshold: float) -> float:
    """Fraction of samples whose thresholded output equals the 0/1 label."""
    predicted = predict_labels(model, inputs, threshold)
    return sum(int(p == int(t)) for p, t in zip(predicted, labels)) / len(labels)


def fit_scalar(
    model: Model,
    inputs: Sequence[Sequence[float]],
    targets: Sequence[float],
    loss_fn: LossFn,
    optimizer: Optimizer,
    epochs: int,
    labels: Sequence[int] | None = None,
    threshold: float = 0.5,
    on_epoch: Callable[[int, float, float], None] | None = None,
) -> ScalarHistory:
    """Train `model` for `epochs` full-batch steps of gradient descent.

    Each epoch: loss = mean over samples of ``loss_fn(model(x), target)``, zero the grads,
    backward, ``optimizer.step()``. Accuracy compares ``output > threshold`` with `labels`
    (0/1, default: `targets`). ``on_epoch(epoch, loss, accuracy)`` is called after each epoch.
    """
    if len(inputs) != len(targets):
        raise ValueError(f"fit_scalar: {len(inputs)} inputs but {len(targets)} targets")
    if not inputs:
        raise ValueError("fit_scalar: no training samples")
    if epochs < 1:
        raise ValueError(f"fit_scalar: epochs must be >= 1, got {epochs}")
    labels = list(targets) if labels is None else list(labels)
    history = ScalarHistory()
    rows = [list(map(float, x)) for x in inputs]
    for epoch in range(1, epochs + 1):
        loss = sum_values(loss_fn(model(x), float(t)) for x, t in zip(rows, targets)) / len(rows)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        history.loss.append(loss.data)
        history.accuracy.append(accuracy(model, rows, labels, threshold))
        if on_epoch is not None:
            on_epoch(epoch, history.loss[-1], history.accuracy[-1])
    return history
