"""Training plots: loss/accuracy curves, a 2-D classifier's decision boundary, gradient flow
per layer, a gradient check made visible, and the live training picture of ``fit(live=True)``.

matplotlib is an optional extra (``pip install "chainrule[notebooks]"``), imported only when
a plot is made. Each function returns a `matplotlib.figure.Figure` built without pyplot, so
no global figure state is touched: display it in Jupyter or ``fig.savefig("plot.png")``.
"""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING, Any, Callable, Mapping, Optional, Sequence

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
    figure = Figure(figsize=(5.5, 4.5), layout="constrained")
    ax = figure.subplots()
    draw_decision_boundary(ax, predict_fn, X, y, resolution=resolution, margin=margin)
    ax.set_title(title)
    return figure


PALETTE = ["#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3",
           "#8c8c8c", "#ccb974", "#64b5cd"]


def draw_decision_boundary(ax: Any, predict_fn: Callable[[np.ndarray], Any], X: np.ndarray, y: np.ndarray,
                           *, resolution: int = 150, margin: float = 0.5, legend: bool = True) -> None:
    """Draw the class regions of `predict_fn` over X (plus `margin`) and the samples into `ax`
    (the picture of `plot_decision_boundary`, for composing figures)."""
    from matplotlib.colors import BoundaryNorm, ListedColormap

    (x0, y0), (x1, y1) = X.min(axis=0) - margin, X.max(axis=0) + margin
    xs, ys = np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution)
    gx, gy = np.meshgrid(xs, ys)
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    regions = _predicted_classes(predict_fn, grid).reshape(gx.shape)

    classes = np.unique(np.concatenate([np.unique(y), np.unique(regions)]))
    colours = [PALETTE[i % len(PALETTE)] for i in range(len(classes))]
    index_of = {c: i for i, c in enumerate(classes)}
    region_index = np.vectorize(index_of.__getitem__)(regions)
    cmap = ListedColormap(colours)
    norm = BoundaryNorm(np.arange(len(classes) + 1) - 0.5, cmap.N)
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
    if legend:
        ax.legend(loc="best")


# -- gradient flow ------------------------------------------------------------------------------

def _report_rows(report: Any) -> tuple[list[str], list[float]]:
    return [layer.name for layer in report.layers], [layer.grad_norm for layer in report.layers]


def plot_gradient_flow(source: Any, *, title: str = "gradient flow") -> "Figure":
    """‖dL/dW‖ per layer, on a log axis, from the input side to the output side.

    `source` is one of:

    - an `nn.diagnose.DiagnosisReport`: one bar per layer, with the vanishing and exploding
      thresholds drawn as dashed lines and flagged layers in red;
    - a training history with ``grad_norms`` (``fit(..., live=True / record=... /
      diagnostics=True)``) or ``diagnostics``: one line per layer over the epochs;
    - a model (an nn `Module`) right after ``loss.backward()``: one bar per layer from the
      gradients its parameters hold.

    >>> import numpy as np
    >>> from nn import Linear, ReLU, Sequential, diagnose, functional as F
    >>> model = Sequential(Linear(2, 3, seed=0), ReLU(), Linear(3, 1, seed=1))
    >>> report = diagnose(model, np.ones((4, 2)), np.zeros((4, 1)), F.mse_loss, lr=0.1)
    >>> [bool(bar.get_height() > 0) for bar in plot_gradient_flow(report).axes[0].patches]
    [True, True]
    """
    Figure = _figure_class()
    from nn.diagnose import DiagnosisReport, layer_gradient_norms
    from nn.module import Module

    figure = Figure(figsize=(6.5, 4), layout="constrained")
    ax = figure.subplots()
    if isinstance(source, DiagnosisReport) or isinstance(source, Module):
        if isinstance(source, DiagnosisReport):
            names, norms = _report_rows(source)
            flagged = [bool({"vanishing", "exploding"} & set(layer.flags)) for layer in source.layers]
            thresholds = source.thresholds
        else:
            table = layer_gradient_norms(source)
            names, norms, flagged, thresholds = list(table), list(table.values()), [False] * len(table), None
        heights = [n if np.isfinite(n) and n > 0 else np.nan for n in norms]
        ax.bar(range(len(names)), [h if np.isfinite(h) else 0.0 for h in heights],
               color=["#c44e52" if f else "#4c72b0" for f in flagged])
        for i, n in enumerate(norms):
            if not (np.isfinite(n) and n > 0):
                ax.annotate("0" if n == 0 else str(n), (i, 0), ha="center", va="bottom", color="#c44e52")
        ax.set_xticks(range(len(names)), names, rotation=30 if len(names) > 4 else 0)
        ax.set_xlabel("layer (input side to output side)")
        positive = [n for n in norms if np.isfinite(n) and n > 0]
        if positive:
            ax.set_yscale("log")
        if thresholds is not None and positive:
            ax.axhline(thresholds["vanishing"], color="#8c8c8c", linestyle="--", linewidth=1,
                       label=f"vanishing below {thresholds['vanishing']:g}")
            if max(positive) > thresholds["exploding"] / 100:
                ax.axhline(thresholds["exploding"], color="#c44e52", linestyle="--", linewidth=1,
                           label=f"exploding above {thresholds['exploding']:g}")
            ax.legend(loc="best", fontsize="small")
    else:
        curves = dict(getattr(source, "grad_norms", None) or {})
        if not curves and getattr(source, "diagnostics", None):
            for report in source.diagnostics:
                for layer in report.layers:
                    curves.setdefault(layer.name, []).append(layer.grad_norm)
        if not curves:
            raise ValueError("plot_gradient_flow needs a DiagnosisReport, a model after backward(), or a "
                             "history with gradient norms: train with fit(..., diagnostics=True) or "
                             "live=True / record=... to record them")
        for name, values in curves.items():
            epochs = np.arange(1, len(values) + 1)
            ax.plot(epochs, [v if v > 0 else np.nan for v in values], label=name)
        ax.set_xlabel("epoch")
        ax.set_yscale("log")
        ax.legend(loc="best", fontsize="small")
    ax.set_ylabel("‖dL/dW‖")
    ax.grid(True, alpha=0.3)
    ax.set_title(title)
    return figure


# -- a gradient check made visible ---------------------------------------------------------------------

def _fresh(x: Any, requires_grad: bool = True) -> Any:
    from autograd_core import Tensor, Value

    if isinstance(x, Tensor):
        return Tensor(x.data.copy(), requires_grad=requires_grad, label=x.label)
    if isinstance(x, np.ndarray):
        return Tensor(np.array(x, dtype=np.float64), requires_grad=requires_grad)
    if isinstance(x, Value):
        return Value(x.data, x.label)
    if isinstance(x, numbers.Real) and not isinstance(x, bool):
        return Value(float(x))
    raise TypeError(f"plot_gradcheck: inputs must be numbers, Values, Tensors or numpy arrays, got "
                    f"{type(x).__name__}")


def _output_number(out: Any) -> float:
    from autograd_core.gradcheck import _number

    return _number(out, "plot_gradcheck")


def gradcheck_numbers(f: Callable[..., Any], inputs: Sequence[Any], wrt: int, eps: float
                      ) -> tuple[Any, np.ndarray, np.ndarray]:
    """(the input checked, backward's gradient, the central differences) for input `wrt`,
    elementwise for a Tensor; the plot's numbers, as `autograd_core.gradcheck` computes them."""
    from autograd_core import Tensor, Value

    points = [_fresh(x) for x in inputs]
    out = f(*points)
    _output_number(out)
    if not isinstance(out, Tensor) or out.requires_grad:
        out.backward()
    point = points[wrt]

    def at(element: Any, shift: float) -> float:
        shifted = []
        for j, p in enumerate(points):
            if isinstance(p, Value):
                shifted.append(Value(p.data + (shift if j == wrt else 0.0)))
            else:
                data = p.data.copy()
                if j == wrt:
                    data[element] += shift
                shifted.append(Tensor(data))
        return _output_number(f(*shifted))

    if isinstance(point, Value):
        return point, np.array(point.grad, dtype=np.float64), np.array((at(0, eps) - at(0, -eps)) / (2 * eps))
    analytic = np.zeros(point.shape) if point.grad is None else np.asarray(point.grad, dtype=np.float64)
    numeric = np.zeros(point.shape)
    for element in np.ndindex(point.shape):
        numeric[element] = (at(element, eps) - at(element, -eps)) / (2 * eps)
    return point, analytic, numeric


def relative_error(analytic: np.ndarray, numeric: np.ndarray) -> np.ndarray:
    """|a - n| / max(|a|, |n|), 0 where both are 0.

    >>> relative_error(np.array([0.0, 1.0, 0.0]), np.array([0.0, 1.5, 0.5])).tolist()
    [0.0, 0.3333333333333333, 1.0]
    """
    scale = np.maximum(np.abs(analytic), np.abs(numeric))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(scale > 0, np.abs(analytic - numeric) / np.where(scale > 0, scale, 1.0), 0.0)


def plot_gradcheck(f: Callable[..., Any], x: Any, *, wrt: int = 0, eps: float = 1e-6, span: float = 1.0,
                   points: int = 201, title: Optional[str] = None) -> "Figure":
    """See a gradient check: backward's slope against the central-difference slope.

    `x` is one input (a number, `Value`, `Tensor` or numpy array) or a list of them, as
    `autograd_core.gradcheck` takes them; `f` receives fresh Values/Tensors and returns a
    Value or a one-element Tensor; `wrt` picks the input to look at.

    - a number or Value: f along that input over ``x ± span``, the tangent at x whose slope
      ``backward()`` gives, and the central-difference secant through x ± eps with slope
      (f(x+eps) - f(x-eps)) / 2eps (its two points marked); the title gives both slopes and
      their relative error. At ReLU's kink, x = 0, backward says 0 (PyTorch's convention)
      and the secant 0.5.
    - a Tensor or array: a heat map of the relative error |a - n| / max(|a|, |n|) per element,
      with the worst element marked and both of its numbers in the title.

    >>> fig = plot_gradcheck(lambda v: v.relu(), 0.0)
    >>> fig.axes[0].get_title()
    "f'(0) = 0 by backward, 0.5 by central differences (eps 1e-06): relative error 1"
    """
    if not callable(f):
        raise TypeError(f"plot_gradcheck: f must be callable, got {type(f).__name__}")
    if not (isinstance(eps, numbers.Real) and eps > 0):
        raise ValueError(f"plot_gradcheck: eps must be a positive number, got {eps!r}")
    if not (isinstance(span, numbers.Real) and span > 0):
        raise ValueError(f"plot_gradcheck: span must be a positive number, got {span!r}")
    inputs = list(x) if isinstance(x, (list, tuple)) else [x]
    if isinstance(wrt, bool) or not isinstance(wrt, int) or not 0 <= wrt < len(inputs):
        raise ValueError(f"plot_gradcheck: wrt must index one of the {len(inputs)} input(s), got {wrt!r}")
    Figure = _figure_class()
    from autograd_core import Value

    point, analytic, numeric = gradcheck_numbers(f, inputs, wrt, float(eps))
    error = relative_error(analytic, numeric)
    if isinstance(point, Value):
        x0 = point.data
        base = [_fresh(v) for v in inputs]

        def along(value: float) -> float:
            args = [Value(value) if j == wrt else _fresh(v) for j, v in enumerate(inputs)]
            return _output_number(f(*args))

        ts = np.linspace(x0 - span, x0 + span, points)
        ys = np.array([along(float(t)) for t in ts])
        y0 = _output_number(f(*base))
        slope_a, slope_n = float(analytic), float(numeric)
        figure = Figure(figsize=(6, 4.2), layout="constrained")
        ax = figure.subplots()
        ax.plot(ts, ys, color="#222222", linewidth=2, label="f")
        ax.plot(ts, y0 + slope_a * (ts - x0), color="#4c72b0", linestyle="-",
                label=f"tangent from backward, slope {slope_a:.6g}")
        ax.plot(ts, y0 + slope_n * (ts - x0), color="#dd8452", linestyle="--",
                label=f"central-difference secant, slope {slope_n:.6g}")
        ax.scatter([x0 - eps, x0 + eps], [along(x0 - eps), along(x0 + eps)], color="#dd8452", zorder=3, s=18)
        ax.scatter([x0], [y0], color="#222222", zorder=3, s=24)
        low, high = ys.min(), ys.max()
        pad = 0.15 * (high - low if high > low else 1.0)
        ax.set_ylim(low - pad, high + pad)
        name = getattr(inputs[wrt], "label", "") or "x"
        ax.set_xlabel(name)
        ax.set_ylabel("f")
        ax.grid(True, alpha=0.3)
        ax.legend(loc="best", fontsize="small")
        ax.set_title(title or (f"f'({x0:g}) = {slope_a:.6g} by backward, {slope_n:.6g} by central "
                               f"differences (eps {eps:g}): relative error {float(error):.3g}"),
                     fontsize="medium")
        return figure
    shape = analytic.shape
    grid = error.reshape(1, -1) if error.ndim <= 1 else error.reshape(shape[0], -1)
    figure = Figure(figsize=(max(4.5, min(10, 0.5 * grid.shape[1] + 2.5)), max(2.5, min(8, 0.5 * grid.shape[0] + 1.8))),
                    layout="constrained")
    ax = figure.subplots()
    from matplotlib.colors import LogNorm

    floor = 1e-16
    image = ax.imshow(np.maximum(grid, floor), cmap="viridis",
                      norm=LogNorm(vmin=floor, vmax=max(1.0, float(grid.max()))), aspect="auto")
    figure.colorbar(image, ax=ax, label="relative error |a - n| / max(|a|, |n|)")
    worst = np.unravel_index(int(np.argmax(error)), shape) if error.size else ()
    flat_worst = np.unravel_index(int(np.argmax(grid)), grid.shape) if grid.size else (0, 0)
    ax.scatter([flat_worst[1]], [flat_worst[0]], marker="s", s=120, facecolors="none", edgecolors="#c44e52")
    ax.set_xlabel("element" if error.ndim <= 1 else "column (trailing axes flattened)")
    ax.set_ylabel("" if error.ndim <= 1 else "row")
    if error.ndim <= 1:
        ax.set_yticks([])
    ax.set_title(title or (f"worst element {tuple(int(i) for i in worst)}: backward {analytic[worst]:.6g}, "
                           f"central differences {numeric[worst]:.6g} (eps {eps:g})"), fontsize="medium")
    return figure


# -- the live training picture -----------------------------------------------------------------------

def plot_training(history: Any, *, predict: Optional[Callable[[np.ndarray], Any]] = None,
                  X: Any = None, labels: Any = None, iterations_per_epoch: int = 1,
                  resolution: int = 60, title: str = "training") -> "Figure":
    """The picture ``fit(live=True)`` redraws: loss (train, validation, and every mini-batch
    faintly), metrics (train and validation), the decision boundary when `predict` (returning
    class labels) and 2-D inputs `X` with their `labels` are given, and each layer's
    gradient norm ‖dL/dW‖ when the history has ``grad_norms``.

    >>> from nn.training import History
    >>> fig = plot_training(History(loss=[1.0, 0.5], metrics={"accuracy": [0.5, 1.0]}))
    >>> [ax.get_title() for ax in fig.axes]
    ['loss', 'metrics']
    """
    Figure = _figure_class()
    from matplotlib.ticker import MaxNLocator

    metrics = {k: v for k, v in (getattr(history, "metrics", None) or {}).items() if v}
    val_metrics = {k: v for k, v in (getattr(history, "val_metrics", None) or {}).items() if v}
    norms = {k: v for k, v in (getattr(history, "grad_norms", None) or {}).items() if v}
    boundary = predict is not None and X is not None and labels is not None and np.ndim(X) == 2 \
        and np.shape(X)[1] == 2
    panels = ["loss"] + (["metrics"] if metrics else []) + (["boundary"] if boundary else []) \
        + (["gradient norms"] if norms else [])
    rows, cols = (2, 2) if len(panels) == 4 else (1, len(panels))
    figure = Figure(figsize=(4.2 * cols, 3.3 * rows), layout="constrained")
    axes = figure.subplots(rows, cols, squeeze=False).ravel()
    epochs = len(history.loss)
    for ax, panel in zip(axes, panels):
        ax.set_title(panel)
        if panel == "loss":
            batches = list(getattr(history, "batch_loss", []) or [])
            if iterations_per_epoch > 1 and batches:
                steps = np.arange(1, len(batches) + 1) / iterations_per_epoch
                ax.plot(steps, batches, color="#4c72b0", alpha=0.25, linewidth=0.8, label="batch loss")
            if history.loss:
                ax.plot(np.arange(1, epochs + 1), history.loss, color="#4c72b0", label="loss",
                        marker="o" if epochs <= 30 else None, markersize=3)
            val = getattr(history, "val_loss", None) or []
            if val:
                ax.plot(np.arange(1, len(val) + 1), val, color="#dd8452", label="val_loss",
                        marker="o" if len(val) <= 30 else None, markersize=3)
            values = [v for v in list(history.loss) + list(val) + batches if v > 0]
            if values and all(v > 0 for v in list(history.loss) + list(val)):
                ax.set_yscale("log")
        elif panel == "metrics":
            for i, (name, curve) in enumerate(metrics.items()):
                colour = PALETTE[i % len(PALETTE)]
                ax.plot(np.arange(1, len(curve) + 1), curve, color=colour, label=name)
                if name in val_metrics:
                    ax.plot(np.arange(1, len(val_metrics[name]) + 1), val_metrics[name], color=colour,
                            linestyle="--", label=f"val_{name}")
            if all(0 <= v <= 1 for curve in metrics.values() for v in curve):
                ax.set_ylim(-0.02, 1.02)
        elif panel == "boundary":
            draw_decision_boundary(ax, predict, np.asarray(X, dtype=float), np.asarray(labels).astype(int),
                                   resolution=resolution, legend=False)
            ax.set_title(f"decision boundary, epoch {epochs}")
            continue
        else:
            for name, curve in norms.items():
                ax.plot(np.arange(1, len(curve) + 1), [v if v > 0 else np.nan for v in curve], label=name)
            if any(v > 0 for curve in norms.values() for v in curve):
                ax.set_yscale("log")
            ax.set_ylabel("‖dL/dW‖")
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(True, alpha=0.3)
        if ax.get_lines():
            ax.legend(loc="best", fontsize="small")
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    figure.suptitle(f"{title}: epoch {epochs}" + (f", loss {history.loss[-1]:.4g}" if epochs else ""))
    return figure
