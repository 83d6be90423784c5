"""Live training pictures in Jupyter: ``fit(..., live=True)`` and ``fit_scalar(..., live=True)``.

A `LivePlot` shows one picture (`viz.plots.plot_training`: loss and metric curves, the
decision boundary for 2-D inputs, per-layer gradient norms) and redraws it *in place* as
training goes, through IPython's ``display(..., display_id=True)`` and the handle's
``update``: no server and no widget, so it works in Jupyter, JupyterLab, VS Code and in an
executed notebook, which keeps the last picture as a PNG.

Redraws are spaced by at least `min_interval` seconds, and by three times the time the last
drawing took (a drawing takes about 0.1-0.4 s), so drawing never takes more than about a
third of the run; the last epoch is always drawn. Outside Jupyter there is nothing to draw in: the loop's
progress bar shows the loss and metrics instead (and a warning says so once).

>>> frames = []
>>> class Handle:
...     def update(self, picture): frames.append(picture)
>>> def show(picture, display_id=True):
...     frames.append(picture); return Handle()
>>> live = LivePlot(display=show, min_interval=0)
>>> live.active
True
"""

from __future__ import annotations

import io
import time
import warnings
from typing import Any, Callable, Optional

import numpy as np

Display = Callable[..., Any]


class PNG:
    """A PNG picture that Jupyter displays (``_repr_png_``); ``data`` holds its bytes."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def _repr_png_(self) -> bytes:
        return self.data

    def __repr__(self) -> str:
        return f"<PNG: {len(self.data):,} bytes>"


def in_notebook() -> bool:
    """True inside a Jupyter kernel (IPython with a kernel), False in a terminal or a script."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")


def figure_png(figure: Any, dpi: int = 80) -> bytes:
    """The matplotlib figure as PNG bytes (no pyplot involved)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


class LivePlot:
    """The live picture of a training run (a watcher of `fit` and `fit_scalar`).

    every: None redraws after every epoch; an int k after every k iterations (mini-batches;
    for `fit_scalar`, epochs). min_interval: the fewest seconds between two redraws.
    display: ``display(picture, display_id=True) -> handle`` with ``handle.update(picture)``
    (IPython's by default; tests pass a fake). boundary, grad_norms: draw those panels when
    they apply. resolution: grid points per side of the decision boundary. dpi: of the PNG.

    >>> from nn import TensorMLP, SGD, fit, functional as F       # doctest: +SKIP
    >>> history = fit(model, F.cross_entropy, SGD(model.parameters(), lr=0.1), (X, y), epochs=50,  # doctest: +SKIP
    ...               live=LivePlot(every=10, min_interval=1.0))  # every 10 mini-batches, >= 1 s apart
    """

    def __init__(self, every: Optional[int] = None, *, min_interval: float = 0.5,
                 display: Optional[Display] = None, boundary: bool = True, grad_norms: bool = True,
                 resolution: int = 60, dpi: int = 80, title: str = "training") -> None:
        if every is not None and (isinstance(every, bool) or not isinstance(every, int) or every < 1):
            raise ValueError(f"LivePlot: every must be None (each epoch) or a positive int, got {every!r}")
        if not isinstance(min_interval, (int, float)) or min_interval < 0:
            raise ValueError(f"LivePlot: min_interval must be a number of seconds >= 0, got {min_interval!r}")
        if display is not None and not callable(display):
            raise TypeError(f"LivePlot: display must be callable, got {type(display).__name__}")
        self.every, self.min_interval, self.boundary, self.grad_norms = every, float(min_interval), boundary, grad_norms
        self.resolution, self.dpi, self.title = resolution, dpi, title
        self._display = display
        self.active = display is not None or in_notebook()
        self.handle: Any = None
        self.draws = 0
        self.last_picture: Optional[PNG] = None
        self._next_time = -float("inf")
        self._drawn_at: Optional[tuple[int, int]] = None

    @property
    def wants_bar(self) -> bool:
        """Whether the loop should show its progress bar beside the picture: in Jupyter, when
        ipywidgets is there to draw it as a widget (tqdm's text fallback would fill the cell's
        output with one line per epoch)."""
        import importlib.util

        return self.active and self._display is None and importlib.util.find_spec("ipywidgets") is not None

    def __repr__(self) -> str:
        return f"<LivePlot every={'epoch' if self.every is None else self.every}, draws={self.draws}>"

    # -- the watcher protocol -----------------------------------------------------------------

    def begin(self, run: Any) -> None:
        """Show the first picture (before any update), or warn once outside Jupyter."""
        if not self.active:
            warnings.warn("live=True draws in Jupyter; outside a notebook the progress bar shows the "
                          "loss and metrics instead (progress=True)", RuntimeWarning, stacklevel=4)
            return
        self._draw(run, force=True)

    def iteration(self, run: Any) -> None:
        """Redraw after every `every` iterations (when `every` is set)."""
        if self.active and self.every is not None and run.iteration % self.every == 0:
            self._draw(run)

    def epoch(self, run: Any) -> None:
        """Redraw after each epoch (when `every` is None)."""
        if self.active and self.every is None:
            self._draw(run, force=run.epoch == run.epochs)

    def end(self, run: Any) -> None:
        """Draw the final state if the last redraw did not show it."""
        if self.active:
            self._draw(run, force=True)

    # -- drawing ---------------------------------------------------------------------------

    def _draw(self, run: Any, force: bool = False) -> None:
        state = (run.epoch, run.iteration)
        if state == self._drawn_at:
            return
        now = time.monotonic()
        if not force and now < self._next_time:
            return
        picture = PNG(figure_png(self.figure(run), self.dpi))
        if self.handle is None:
            display = self._display or _ipython_display()
            self.handle = display(picture, display_id=True)
        else:
            self.handle.update(picture)
        self.last_picture = picture
        self.draws += 1
        self._drawn_at = state
        # At least min_interval apart, and (when spacing is asked for) at least twice as long
        # as a drawing takes, so that drawing never takes more than a third of the run.
        took = time.monotonic() - now
        self._next_time = now + (max(self.min_interval, 3 * took) if self.min_interval > 0 else 0.0)

    def figure(self, run: Any) -> Any:
        """The picture of `run` now, as a matplotlib Figure."""
        from viz.plots import plot_training

        predict = None
        if self.boundary and run.classes is not None and run.labels is not None:
            predict = _class_predictor(run)
        history = run.history
        if not self.grad_norms:
            history = _without_grad_norms(history)
        return plot_training(history, predict=predict, X=run.X if predict else None,
                             labels=run.labels if predict else None,
                             iterations_per_epoch=run.iterations_per_epoch, resolution=self.resolution,
                             title=self.title)


def _class_predictor(run: Any) -> Callable[[np.ndarray], np.ndarray]:
    return lambda points: np.asarray(run.classes(run.predict(points))).astype(int)


class _without_grad_norms:  # noqa: N801 - a view of a history, lower case like a function
    def __init__(self, history: Any) -> None:
        self._history = history

    def __getattr__(self, name: str) -> Any:
        return {} if name == "grad_norms" else getattr(self._history, name)


def _ipython_display() -> Display:
    from IPython.display import display

    return display


__all__ = ["LivePlot", "PNG", "in_notebook", "figure_png"]
