"""What `fit` and `fit_scalar` share: which metrics a loss calls for, the progress bar, the
per-epoch lines, and the watchers (live plot, recorder) that follow a training run.

A *watcher* is any object with ``begin(run)``, ``iteration(run)``, ``epoch(run)`` and
``end(run)`` methods; the loops call them with a `TrainingRun` that describes the run so far.
"""

from __future__ import annotations

import functools
import numbers
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, TextIO

import numpy as np

# Losses whose targets are classes: for them `fit` and `fit_scalar` report accuracy by default,
# with the threshold that suits their outputs (probabilities: 0.5; logits and hinge scores: 0).
CLASSIFICATION_LOSSES: dict[str, float] = {
    "cross_entropy": 0.5,
    "binary_cross_entropy": 0.5,
    "binary_cross_entropy_with_logits": 0.0,
    "hinge": 0.0,
}


def loss_name(loss_fn: Any) -> str:
    """The name a loss function goes by (through `functools.partial`), "" if it has none.

    >>> from nn import functional as F
    >>> loss_name(F.cross_entropy), loss_name(functools.partial(F.hinge, reduction="sum"))
    ('cross_entropy', 'hinge')
    """
    while isinstance(loss_fn, functools.partial):
        loss_fn = loss_fn.func
    name = getattr(loss_fn, "__name__", "")
    return name if isinstance(name, str) else ""


def is_classification_loss(loss_fn: Any) -> bool:
    """True for cross_entropy, binary_cross_entropy(_with_logits) and hinge, whichever module
    they come from (`nn.functional`, `nn.losses`, `nn.tensor_losses`, `nn.scalar.losses`).

    >>> from nn import functional as F
    >>> is_classification_loss(F.binary_cross_entropy_with_logits), is_classification_loss(F.mse_loss)
    (True, False)
    """
    return loss_name(loss_fn) in CLASSIFICATION_LOSSES


def default_threshold(loss_fn: Any) -> float:
    """Accuracy's cut for one-score outputs under `loss_fn`: 0 for logits and hinge scores,
    0.5 otherwise (probabilities).

    >>> from nn import functional as F
    >>> default_threshold(F.hinge), default_threshold(F.binary_cross_entropy)
    (0.0, 0.5)
    """
    return CLASSIFICATION_LOSSES.get(loss_name(loss_fn), 0.5)


def positive_int_or_none(value: Any, name: str, where: str) -> Optional[int]:
    """`value` as an int >= 1, or None; a ValueError naming `where` otherwise."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{where}: {name} must be a positive int or None, got {value!r}")
    return int(value)


# -- progress bar and epoch lines ---------------------------------------------------------------

def progress_bar(progress: Optional[bool], total: int, where: str, unit: str = "epoch") -> Any:
    """A tqdm bar (`tqdm.auto`: a widget in Jupyter, text in a terminal) over `total` steps, or
    None: on when `progress` is True, or (None) when stdout is a terminal. Its default format
    shows the time elapsed and the time left."""
    if progress is None:
        isatty = getattr(sys.stdout, "isatty", None)
        if not (isatty and isatty()):
            return None
        try:
            from tqdm.auto import tqdm
        except ImportError:  # tqdm is optional; without it the default is simply no bar
            return None
    elif not isinstance(progress, bool):
        raise TypeError(f"{where}: progress must be True, False or None, got {type(progress).__name__}")
    elif not progress:
        return None
    else:
        try:
            from tqdm.auto import tqdm
        except ImportError:
            raise ImportError(f"{where}(progress=True) needs tqdm: pip install tqdm") from None
    return tqdm(total=total, desc=where, unit=unit, file=sys.stdout, leave=False)


def latest_values(history: Any) -> dict[str, float]:
    """The last value of every curve in a history: loss, each metric, val_loss, val metrics."""
    values: dict[str, float] = {}
    if history.loss:
        values["loss"] = history.loss[-1]
    for name, curve in getattr(history, "metrics", {}).items():
        if curve:
            values[name] = curve[-1]
    if getattr(history, "val_loss", None):
        values["val_loss"] = history.val_loss[-1]
    for name, curve in getattr(history, "val_metrics", {}).items():
        if curve:
            values[f"val_{name}"] = curve[-1]
    return values


def _format(name: str, value: float) -> str:
    return f"{value:.6f}" if name.endswith("loss") else f"{value:.3f}"


def epoch_line(epoch: int, values: dict[str, float]) -> str:
    """``epoch   12  loss 0.123456  accuracy 0.950  val_loss ...``: losses to 6 decimals,
    metrics to 3 (the format of ``chainrule train xor``).

    >>> epoch_line(3, {"loss": 0.5, "accuracy": 0.75})
    'epoch    3  loss 0.500000  accuracy 0.750'
    """
    return f"epoch {epoch:4d}  " + "  ".join(f"{name} {_format(name, v)}" for name, v in values.items())


def bar_postfix(values: dict[str, float]) -> dict[str, str]:
    """The bar's postfix: each latest value to 4 significant digits."""
    return {name: f"{value:.4g}" for name, value in values.items()}


class EpochPrinter:
    """Prints `epoch_line` for epoch 1, every `every`-th epoch and the last one, to `out`
    (stdout by default). With a progress bar on stdout, lines for stdout go through
    ``bar.write``, so they scroll above the bar instead of tearing it."""

    def __init__(self, every: int, epochs: int, out: Optional[TextIO], bar: Any = None) -> None:
        self.every, self.epochs, self.out, self.bar = every, epochs, out, bar

    def __call__(self, epoch: int, history: Any) -> None:
        if epoch == 1 or epoch % self.every == 0 or epoch == self.epochs:
            line = epoch_line(epoch, latest_values(history))
            if self.bar is not None and (self.out is None or self.out is sys.stdout):
                self.bar.write(line, file=sys.stdout)
            else:
                print(line, file=self.out or sys.stdout, flush=True)


# -- watchers --------------------------------------------------------------------------------------

@dataclass
class TrainingRun:
    """A training run as the watchers see it (updated by the loop as it goes).

    ``predict(X)`` gives the model's raw outputs for an (m, features) array, without building
    a graph; ``classes(outputs)`` turns outputs into class labels (None for a regression).
    ``X``/``labels`` are the training inputs and their class labels (for decision boundaries).
    ``iteration`` counts mini-batches from 1 across epochs (for `fit_scalar`, one per epoch);
    ``batch_losses`` holds every iteration's loss.
    """

    model: Any
    loss_fn: Any
    history: Any
    epochs: int
    iterations_per_epoch: int
    predict: Callable[[np.ndarray], np.ndarray]
    classes: Optional[Callable[[np.ndarray], np.ndarray]]
    X: np.ndarray
    labels: Optional[np.ndarray]
    targets: Any = None
    epoch: int = 0
    iteration: int = 0
    batch_losses: list[float] = field(default_factory=list)
    done: bool = False
    kind: str = "tensor"  # or "scalar"


def resolve_live(live: Any, where: str) -> Any:
    """A `viz.live.LivePlot` for ``live=True`` (every epoch), ``live=k`` (every k iterations) or
    a LivePlot given as is; None for False/None. Imports matplotlib's side only when asked."""
    if live is None or live is False:
        return None
    from viz.live import LivePlot

    if isinstance(live, LivePlot):
        return live
    if live is True:
        return LivePlot()
    if isinstance(live, numbers.Integral) and not isinstance(live, bool) and live >= 1:
        return LivePlot(every=int(live))
    raise TypeError(f"{where}: live must be True (redraw every epoch), a positive int k (every k "
                    f"iterations) or a viz.live.LivePlot, got {live!r}")


__all__ = ["CLASSIFICATION_LOSSES", "loss_name", "is_classification_loss", "default_threshold",
           "progress_bar", "epoch_line", "bar_postfix", "latest_values", "EpochPrinter",
           "TrainingRun", "resolve_live", "positive_int_or_none"]
