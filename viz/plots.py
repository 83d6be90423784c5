"""Training plots: loss/accuracy curves and a 2-D classifier's decision boundary.

matplotlib is an optional extra (``pip install "chainrule[notebooks]"``), imported only when
a plot is made. Each function returns a `matplotlib.figure.Figure` built without pyplot, so
no global figure state is touched: display it in Jupyter or ``fig.savefig("plot.png")``.
"""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure

HISTORY_KEYS = ("loss", "accuracy")


def _figure_class() -> type:
    """`matplotlib.figure.Figure`, or an ImportError saying how to install matplotlib."""
    try:
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError(
            "viz.plots needs matplotlib, which is part of chainrule's optional `notebooks` "
            'extra: pip install "chainrule[notebooks]" (or pip install matplotlib)') from error
    return Figure


_HISTORY_ATTRIBUTES = ("loss", "accuracy", "val_loss", "val_accuracy", "metrics", "val_metrics")


def _checked_curve(key: str, values: Any) -> list[float]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise TypeError(f"history[{key!r}] must be a list of per-epoch numbers, got "
                        f"{type(values).__name__}")
    for epoch, v in enumerate(values, start=1):
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise TypeError(f"history[{key!r}] must hold numbers; epoch {epoch} is "
                            f"{type(v).__name__}: {v!r}")
    return [float(v) for v in values]


def _series(history: Any) -> dict[str, list[float]]:
    """The loss and accuracy curves in `history`, by name.

    `history` is a mapping or an object with attributes; a curve is any entry whose name
    ends in ``loss`` or ``accuracy`` (``val_loss`` too), and the entries of ``metrics`` /
    ``val_metrics`` mappings count as well (``val_`` prefixed), as `nn.training.History`
    stores them.
    """
    if isinstance(history, Mapping):
        source = dict(history)
    else:
        source = {}
        for name in _HISTORY_ATTRIBUTES:
            try:
                source[name] = getattr(history, name)
            except (AttributeError, KeyError):  # e.g. History.accuracy when it was not tracked
                continue
        if not source:
            raise TypeError(f"history must be a dict of per-epoch lists or an object with loss/"
                            f"accuracy attributes, got {type(history).__name__}")
    entries: list[tuple[str, Any]] = []
    for key, values in source.items():
        if key in ("metrics", "val_metrics") and isinstance(values, Mapping):
            prefix = "val_" if key == "val_metrics" else ""
            entries += [(f"{prefix}{name}", v) for name, v in values.items()]
        else:
            entries.append((key, values))
    curves = {}
    for key, values in entries:
        if isinstance(key, str) and key.endswith(HISTORY_KEYS):
            curve = _checked_curve(key, values)
            if curve:
                curves[key] = curve
    if not curves:
        raise ValueError("history has no per-epoch curves: give a dict or an object with "
                         "non-empty 'loss' and/or 'accuracy' lists (e.g. a training history)")
    return curves


def plot_history(history: Any, *, title: str = "training history") -> "Figure":
    """Loss and accuracy per epoch, side by side (one panel if only one is present).

    `history` is a dict of lists (``{"loss": [...], "accuracy": [...]}``) or an object with
    those attributes, such as the history a training loop returns; extra curves whose names
    end in ``loss``/``accuracy`` (``val_loss``) are drawn in the matching panel.
    """
    curves = _series(history)
    Figure = _figure_class()
    from matplotlib.ticker import MaxNLocator

    panels = [kind for kind in HISTORY_KEYS if any(k.endswith(kind) for k in curves)]
    figure = Figure(figsize=(5.5 * len(panels), 4), layout="constrained")
    axes = figure.subplots(1, len(panels), squeeze=False)[0]
    for ax, kind in zip(axes, panels):
        for key, values in curves.items():
            if key.endswith(kind):
                epochs = np.arange(1, len(values) + 1)
                ax.plot(epochs, values, marker="o" if len(values) <= 30 else None,
                        markersize=3, label=key)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(kind)
        ax.grid(True, alpha=0.3)
        if kind == "loss" and all(v > 0 for k, vs in curves.items() if k.endswith("loss") for v in vs):
            # Losses often fall over orders of magnitude; a log axis keeps late epochs visible.
            ax.set_yscale("log")
        if kind == "accuracy":
            ax.set_ylim(-0.02, 1.02)
        ax.legend()
    figure.suptitle(title)
    return figure


def _check_points(X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X, dtype=float)
    y = np.asarray(y)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary needs 2-D inputs X of shape (n, 2), got shape {X.shape}")
    if len(X) == 0:
        raise ValueError("plot_decision_boundary needs at least one sample")
    if y.shape != (len(X),):
        raise ValueError(f"y must hold one label per sample, shape ({len(X)},); got shape {y.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError("X contains NaN or infinite values")
    if y.dtype == bool:
        y = y.astype(int)
    if not np.issubdtype(y.dtype, np.number) or not np.all(y == np.round(y)):
        raise ValueError(f"y must hold integer class labels, got values such as {y.flat[0]!r}")
    return X, y.astype(int)


def _predicted_classes(predict_fn: Callable[[np.ndarray], Any], grid: np.ndarray) -> np.ndarray:
    """`predict_fn` on the grid points, as one integer class per point."""
    out = np.asarray(predict_fn(grid))
    if out.ndim == 2 and out.shape[0] == len(grid) and out.shape[1] > 1:
        return out.argmax(axis=1)  # class scores: the predicted class is the best score
    out = out.reshape(-1) if out.ndim == 2 and out.shape[1] == 1 else out
    if out.shape != (len(grid),):
        raise ValueError(f"predict_fn must return one class per point, shape ({len(grid)},), or "
                         f"class scores of shape ({len(grid)}, n_classes); got shape {out.shape}")
    if out.dtype == bool:
        return out.astype(int)
    if not np.issubdtype(out.dtype, np.number) or not np.all(np.isfinite(out)) \
            or not np.all(out == np.round(out)):
        raise ValueError("predict_fn must return class labels (integers), e.g. (score > 0.5); "
                         f"got non-integer values such as {out.flat[0]!r}")
    return out.astype(int)


def plot_decision_boundary(
    predict_fn: Callable[[np.ndarray], Any],
    X: Any,
    y: Any,
    *,
    resolution: int = 150,
    margin: float = 0.5,
    title: str = "decision boundary",
) -> "Figure":
    """The regions a 2-D classifier assigns to each class, with the samples on top.

    `predict_fn` is called once with an (m, 2) array of grid points and returns either m
    class labels (ints or bools) or an (m, n_classes) array of scores (argmax is taken).
    `X` is (n, 2), `y` its n labels; the grid covers X plus `margin` on every side at
    `resolution` points per axis.
    """
    if not callable(predict_fn):
        raise TypeError(f"predict_fn must be callable, got {type(predict_fn).__name__}")
    if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 2:
        raise ValueError(f"resolution must be an int >= 2, got {resolution!r}")
    if isinstance(margin, bool) or not isinstance(margin, numbers.Real) or margin < 0:
        raise ValueError(f"margin must be a number >= 0, got {margin!r}")
    X, y = _check_points(X, y)
    Figure = _figure_class()
    from matplotlib.colors import BoundaryNorm, ListedColormap

    (x0, y0), (x1, y1) = X.min(axis=0) - margin, X.max(axis=0) + margin
    xs, ys = np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution)
    gx, gy = np.meshgrid(xs, ys)
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    regions = _predicted_classes(predict_fn, grid).reshape(gx.shape)

    classes = np.unique(np.concatenate([np.unique(y), np.unique(regions)]))
    palette = ["#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3",
               "#8c8c8c", "#ccb974", "#64b5cd"]
    colours = [palette[i % len(palette)] for i in range(len(classes))]
    index_of = {c: i for i, c in enumerate(classes)}
    region_index = np.vectorize(index_of.__getitem__)(regions)
    cmap = ListedColormap(colours)
    norm = BoundaryNorm(np.arange(len(classes) + 1) - 0.5, cmap.N)

    figure = Figure(figsize=(5.5, 4.5), layout="constrained")
    ax = figure.subplots()
    ax.contourf(gx, gy, region_index, levels=np.arange(len(classes) + 1) - 0.5, cmap=cmap,
                norm=norm, alpha=0.3)
    for c in np.unique(y):
        mask = y == c
        ax.scatter(X[mask, 0], X[mask, 1], color=colours[index_of[c]], edgecolors="black",
                   linewidths=0.6, s=30, label=f"class {c}")
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.legend(loc="best")
    ax.set_title(title)
    return figure
