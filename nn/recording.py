"""What ``fit(..., record=...)`` and ``fit_scalar(..., record=...)`` keep for `viz.training_player`.

A `Recorder` takes a *frame* before training (epoch 0) and after every `every`-th epoch (and
after the last): only the items asked for, so that a long run stays small.

- ``"boundary"``: the class the model assigns to each cell of a `resolution` x `resolution`
  grid over the 2-D training inputs (one character per cell);
- ``"weights"`` and ``"grads"``: per layer, a histogram (`bins` bins between the layer's
  smallest and largest value) of its weights, and of the gradient of its weights from the
  epoch's last mini-batch (none at epoch 0);
- ``"graph"`` (scalar MLPs): the graph of one training sample's loss,
  ``loss_fn(model(X[point]), y[point])``, with every node's data and gradient (dL_i/dnode of
  that sample's loss alone) as the drawings write them.

The loss and metric curves come from the history itself. Before the first epoch the recorder
estimates the bytes its frames will take; above `budget` it refuses with advice (record every
k epochs, fewer items, a coarser grid, or a larger budget).

>>> from nn.recording import Recorder
>>> Recorder(what=("boundary", "weights"), every=5)
Recorder(what=('boundary', 'weights'), every=5, frames=0)
"""

from __future__ import annotations

import json
import math
import numbers
from typing import Any, Optional, Sequence

import numpy as np

from nn.diagnose import parameter_values

RECORDABLE = ("boundary", "weights", "grads", "graph")
DEFAULT_BUDGET = 8_000_000  # bytes of frame data; a player page of about that size opens quickly
# The training points shown under the decision boundary (an even subsample of larger sets).
MAX_POINTS = 500
_CLASS_CHARS = "0123456789abcdefghijklmnopqrstuvwxyz"


def _rounded(x: float) -> float:
    """`x` to 4 significant digits (JSON text stays short; the pictures cannot show more)."""
    return float(f"{x:.4g}") if math.isfinite(x) else 0.0


def histogram(values: np.ndarray, bins: int) -> list[Any]:
    """``[low, high, [count per bin]]`` of `values` over [min, max] (finite values only).

    >>> histogram(np.array([0.0, 0.5, 1.0, 1.0]), 2)
    [0.0, 1.0, [1, 3]]
    """
    values = np.asarray(values, dtype=np.float64).ravel()
    values = values[np.isfinite(values)]
    if values.size == 0:
        return [0.0, 0.0, [0] * bins]
    low, high = float(values.min()), float(values.max())
    if high == low:
        counts = [0] * bins
        counts[bins // 2] = int(values.size)
        return [_rounded(low), _rounded(high), counts]
    counts, _ = np.histogram(values, bins=bins, range=(low, high))
    return [_rounded(low), _rounded(high), counts.astype(int).tolist()]


def _layer_arrays(parameters: Sequence[Any], attribute: str) -> Optional[np.ndarray]:
    parts = [np.ravel(np.asarray(value, dtype=np.float64))
             for value in parameter_values(parameters, attribute)]
    return np.concatenate(parts) if parts else None


class Recorder:
    """Keeps frames of a training run for `viz.training_player` (see the module notes).

    what: names from `RECORDABLE`, or None for every item that applies to the model and data.
    every: a frame after every k-th epoch (epoch 0 and the last epoch always have one).
    point: the training sample whose graph "graph" records. resolution: grid cells per side
    of "boundary". bins: histogram bins. budget: the most bytes of frame data allowed.

    >>> Recorder(what="graph").what
    ('graph',)
    """

    def __init__(self, what: Any = None, *, every: int = 1, point: int = 0, resolution: int = 40,
                 bins: int = 24, budget: int = DEFAULT_BUDGET) -> None:
        if isinstance(what, str):
            what = (what,)
        if what is not None:
            what = tuple(what)
            unknown = [item for item in what if item not in RECORDABLE]
            if unknown or not what:
                raise ValueError(f"record: unknown item(s) {unknown or what!r}; choose from "
                                 f"{', '.join(RECORDABLE)} (or record=True for all that apply)")
        self.what: Optional[tuple[str, ...]] = what
        for name, value, low in (("every", every, 1), ("resolution", resolution, 2), ("bins", bins, 1),
                                 ("budget", budget, 1), ("point", point, 0)):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
                raise ValueError(f"Recorder: {name} must be an int >= {low}, got {value!r}")
        self.every, self.point, self.resolution, self.bins, self.budget = (
            int(every), int(point), int(resolution), int(bins), int(budget))
        self.frames: list[dict[str, Any]] = []
        self.bytes = 0
        self.layers: list[str] = []
        self.grid: Optional[dict[str, Any]] = None
        self.points: Optional[list[list[float]]] = None
        self.point_labels: Optional[list[int]] = None
        self.graph_root: Any = None
        self.kind = ""
        self._run: Any = None
        self._layers: list[Any] = []
        self._grid_points: Optional[np.ndarray] = None

    def __repr__(self) -> str:
        return f"Recorder(what={self.what!r}, every={self.every}, frames={len(self.frames)})"

    # -- the watcher protocol ------------------------------------------------------------------

    def begin(self, run: Any) -> None:
        """Choose the items, check the budget against an estimate, take the epoch-0 frame."""
        from nn.diagnose import model_layers

        self._run, self.kind = run, run.kind
        self._layers = model_layers(run.model)
        self.layers = [layer.name for layer in self._layers]
        two_d = run.X.ndim == 2 and run.X.shape[1] == 2 and run.classes is not None
        scalar_graph = run.kind == "scalar"
        applies = {"boundary": two_d, "weights": bool(self._layers), "grads": bool(self._layers),
                   "graph": scalar_graph}
        if self.what is None:
            self.what = tuple(item for item in RECORDABLE if applies[item])
        for item in self.what:
            if not applies[item]:
                raise ValueError(_why_not(item, run))
        if "boundary" in self.what:
            self._set_grid(run)
        if "graph" in self.what and not 0 <= self.point < len(run.X):
            raise ValueError(f"record: point {self.point} is not a training sample (there are {len(run.X)})")
        self._capture(run, epoch=0)
        self._check_budget(run)

    def iteration(self, run: Any) -> None:
        """Nothing: frames are taken per epoch."""

    def epoch(self, run: Any) -> None:
        """A frame after every `every`-th epoch and after the last."""
        if run.epoch % self.every == 0 or run.epoch == run.epochs:
            self._capture(run, run.epoch)

    def end(self, run: Any) -> None:
        """Nothing to close (a run stopped by an error keeps the frames it took)."""
        self._run = None

    # -- frames ------------------------------------------------------------------------------

    def _set_grid(self, run: Any, margin: float = 0.5) -> None:
        X = np.asarray(run.X, dtype=np.float64)
        (x0, y0), (x1, y1) = X.min(axis=0) - margin, X.max(axis=0) + margin
        n = self.resolution
        xs, ys = np.linspace(x0, x1, n), np.linspace(y0, y1, n)
        gx, gy = np.meshgrid(xs, ys)
        self._grid_points = np.column_stack([gx.ravel(), gy.ravel()])
        self.grid = {"x0": float(x0), "x1": float(x1), "y0": float(y0), "y1": float(y1), "n": n}
        keep = np.linspace(0, len(X) - 1, min(len(X), MAX_POINTS)).round().astype(int)
        self.points = [[_rounded(a), _rounded(b)] for a, b in X[keep]]
        self.point_labels = [int(c) for c in np.asarray(run.labels)[keep]]

    def _capture(self, run: Any, epoch: int) -> None:
        frame: dict[str, Any] = {"epoch": epoch}
        assert self.what is not None
        if "boundary" in self.what:
            classes = np.asarray(run.classes(run.predict(self._grid_points))).astype(int).ravel()
            if classes.size and (classes.min() < 0 or classes.max() >= len(_CLASS_CHARS)):
                raise ValueError(f"record='boundary' draws at most {len(_CLASS_CHARS)} classes")
            frame["boundary"] = "".join(_CLASS_CHARS[c] for c in classes)
        if "weights" in self.what:
            frame["weights"] = [histogram(_layer_arrays(layer.weights, "data"), self.bins)
                                for layer in self._layers]
        if "grads" in self.what:
            grads = [_layer_arrays(layer.weights, "grad") for layer in self._layers]
            frame["grads"] = (None if epoch == 0 or all(g is None for g in grads) else
                              [histogram(g if g is not None else np.zeros(0), self.bins) for g in grads])
        if "graph" in self.what:
            frame["graph"] = self._graph_frame(run)
        self.bytes += len(json.dumps(frame, separators=(",", ":")))
        self.frames.append(frame)

    def _graph_frame(self, run: Any) -> list[list[str]]:
        """[data texts, grad texts] of every node of sample `point`'s loss graph, in
        topological order (the drawing's node ids nK)."""
        from autograd_core.graph import backpropagate, topological_order
        from viz.graph import format_quantity

        x = [float(v) for v in np.ravel(run.X[self.point])]
        target = run.targets[self.point]
        target = float(target) if np.ndim(target) == 0 else np.asarray(target).tolist()
        root = run.loss_fn(run.model(x), target)
        root.label = root.label or f"L[{self.point}]"
        order = topological_order(root)
        grads = backpropagate(root, 1.0, accumulate=False, capture=order)
        if self.graph_root is not None and len(topological_order(self.graph_root)) != len(order):
            raise RuntimeError("record='graph': the sample's graph changed shape between epochs")
        self.graph_root = root
        return [[format_quantity(node.data) for node in order],
                [format_quantity(grads.get(node, 0.0)) for node in order]]

    def _check_budget(self, run: Any) -> None:
        frames = 1 + run.epochs // self.every + (run.epochs % self.every != 0)
        first = self.frames[0]
        per_frame = len(json.dumps(first, separators=(",", ":")))
        if "grads" in (self.what or ()) and self._layers:
            per_frame += len(json.dumps(first.get("weights") or [histogram(np.zeros(1), self.bins)]
                                        * len(self._layers)))
        estimate = frames * per_frame
        if estimate > self.budget:
            every = math.ceil(self.every * estimate / self.budget)
            sizes = ", ".join(f"{key} about {len(json.dumps(value, separators=(',', ':'))):,} bytes"
                              for key, value in first.items() if key != "epoch")
            raise ValueError(
                f"record: {frames} frames of about {per_frame:,} bytes ({sizes}) would take about "
                f"{estimate:,} bytes, over the budget of {self.budget:,}. Record every {every} epochs "
                f"(Recorder(every={every})), fewer items (Recorder(what=(...)), e.g. without 'graph'), "
                f"a coarser boundary (resolution=20), or raise the budget (budget={estimate + estimate // 10:,})")

    # -- output ---------------------------------------------------------------------------------

    def to_data(self) -> dict[str, Any]:
        """Everything the player needs except the curves and the drawing, JSON-ready."""
        return {"what": list(self.what or ()), "every": self.every, "layers": self.layers,
                "grid": self.grid, "points": self.points, "labels": self.point_labels,
                "point": self.point if "graph" in (self.what or ()) else None, "frames": self.frames,
                "kind": self.kind}


def _why_not(item: str, run: Any) -> str:
    if item == "boundary":
        shape = tuple(np.shape(run.X))
        if run.classes is None:
            return ("record='boundary' needs a classification loss (cross_entropy, binary_cross_entropy"
                    "(_with_logits), hinge) or the accuracy metric: a regression has no classes to draw")
        return f"record='boundary' needs 2-D inputs, shape (n, 2); the training inputs have shape {shape}"
    if item == "graph":
        return ("record='graph' draws the graph of one sample through a scalar (Value) model trained "
                "with fit_scalar; a tensor model's graph has one node per operation on whole batches "
                "(draw it with viz.draw_graph(loss) instead)")
    return f"record={item!r} needs a model with parameters"


def resolve_recorder(record: Any, where: str) -> Optional[Recorder]:
    """A `Recorder` for ``record=True`` (every item that applies), a name or names, or one given
    as is; None for None/False."""
    if record is None or record is False:
        return None
    if isinstance(record, Recorder):
        return record
    if record is True:
        return Recorder()
    if isinstance(record, str) or (isinstance(record, (tuple, list)) and all(isinstance(r, str) for r in record)):
        return Recorder(what=record)
    raise TypeError(f"{where}: record must be True, item names such as ('boundary', 'weights') or an "
                    f"nn.recording.Recorder, got {record!r}")


__all__ = ["Recorder", "RECORDABLE", "DEFAULT_BUDGET", "histogram", "resolve_recorder"]
