"""Live training pictures (viz.live.LivePlot through fit/fit_scalar(live=...)) with a fake display:
what is displayed, when it is updated in place, what the picture holds, and that matplotlib is
imported only when live drawing is asked for."""

from __future__ import annotations

import subprocess
import sys

import matplotlib
import numpy as np
import pytest

from nn import MLP, SGD, Adam, TensorMLP, fit, fit_scalar, functional as F
from nn.data import make_moons
from viz.live import PNG, LivePlot, in_notebook

matplotlib.use("Agg")


class FakeDisplay:
    """IPython's display(obj, display_id=True) -> handle with handle.update(obj), recorded."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []

    def __call__(self, obj, display_id=None):
        assert display_id is True
        self.calls.append(("display", obj))
        return self

    def update(self, obj):
        self.calls.append(("update", obj))


X, Y = make_moons(40, noise=0.1, seed=0)


def test_fit_displays_once_and_updates_in_place_every_epoch():
    fake = FakeDisplay()
    model = TensorMLP([2, 6, 2], seed=0)
    live = LivePlot(display=fake, min_interval=0)
    history = fit(model, F.cross_entropy, Adam(model.parameters(), lr=0.05), (X, Y), epochs=3,
                  progress=False, live=live)
    kinds = [kind for kind, _ in fake.calls]
    assert kinds == ["display", "update", "update", "update"]  # before training, then epochs 1..3
    pictures = [obj for _, obj in fake.calls]
    assert all(isinstance(p, PNG) and p._repr_png_().startswith(b"\x89PNG") for p in pictures)
    assert live.last_picture is pictures[-1] and live.draws == 4
    assert list(history.grad_norms) == ["layers.0", "layers.2"] and len(history.grad_norms["layers.0"]) == 3


def test_every_k_iterations_and_the_spacing_of_redraws():
    fake = FakeDisplay()
    model = TensorMLP([2, 4, 2], seed=0)
    fit(model, F.cross_entropy, SGD(model.parameters(), lr=0.1), (X, Y), epochs=2, batch_size=15,
        progress=False, live=LivePlot(every=2, display=fake, min_interval=0))
    # 3 batches per epoch: iterations 2, 4, 6 redraw; the end finds iteration 6 drawn already.
    assert [kind for kind, _ in fake.calls] == ["display", "update", "update", "update"]
    fake = FakeDisplay()
    fit(model, F.cross_entropy, SGD(model.parameters(), lr=0.1), (X, Y), epochs=5, progress=False,
        live=LivePlot(display=fake, min_interval=1000))
    assert [kind for kind, _ in fake.calls] == ["display", "update"]  # first and last only


def test_the_picture_has_the_panels_that_apply():
    model = TensorMLP([2, 4, 2], seed=0)
    live = LivePlot(display=FakeDisplay(), min_interval=0)
    runs = []
    live_epoch = live.epoch
    live.epoch = lambda run: (runs.append(run), live_epoch(run))
    fit(model, F.cross_entropy, SGD(model.parameters(), lr=0.1), (X, Y), epochs=2, progress=False,
        validation_data=(X, Y), live=live)
    figure = live.figure(runs[-1])
    titles = [ax.get_title() for ax in figure.axes if ax.get_visible()]
    assert titles[:2] == ["loss", "metrics"] and titles[2].startswith("decision boundary, epoch 2")
    assert titles[3] == "gradient norms"
    loss_lines = {line.get_label() for line in figure.axes[0].get_lines()}
    assert loss_lines == {"loss", "val_loss"}
    # A regression on 1-D inputs: no metric, no boundary.
    xs = np.linspace(-1, 1, 10).reshape(-1, 1)
    model = TensorMLP([1, 4, 1], activation="tanh", seed=0)
    live = LivePlot(display=FakeDisplay(), min_interval=0, grad_norms=False)
    fit(model, F.mse_loss, SGD(model.parameters(), lr=0.1), (xs, xs ** 2), epochs=2, progress=False, live=live)
    assert live.draws == 3


def test_fit_scalar_draws_live_too():
    fake = FakeDisplay()
    model = MLP(2, [4, 1], activation="relu", seed=0)
    fit_scalar(model, X.tolist(), (2 * Y - 1).tolist(), F.hinge, SGD(model.parameters(), lr=0.1), 3,
               live=LivePlot(display=fake, min_interval=0))
    assert [kind for kind, _ in fake.calls] == ["display", "update", "update", "update"]


def test_outside_jupyter_live_true_warns_and_draws_nothing():
    assert not in_notebook()
    model = TensorMLP([2, 3, 2], seed=0)
    with pytest.warns(RuntimeWarning, match="live=True draws in Jupyter"):
        fit(model, F.cross_entropy, SGD(model.parameters(), lr=0.1), (X, Y), epochs=1, progress=False, live=True)
    with pytest.raises(TypeError, match="live must be True"):
        fit(model, F.cross_entropy, SGD(model.parameters(), lr=0.1), (X, Y), epochs=1, live="yes")
    with pytest.raises(ValueError, match="every must be None"):
        LivePlot(every=0)


def test_matplotlib_is_imported_only_when_live_drawing_is_asked_for():
    code = """
import sys, numpy as np
from nn import TensorMLP, SGD, fit, functional as F
X = np.random.default_rng(0).normal(size=(8, 2)); y = np.arange(8) % 2
model = TensorMLP([2, 3, 2], seed=0)
fit(model, F.cross_entropy, SGD(model.parameters(), lr=0.1), (X, y), epochs=2, progress=False)
print('matplotlib' in sys.modules)
from viz.live import LivePlot
fit(model, F.cross_entropy, SGD(model.parameters(), lr=0.1), (X, y), epochs=1, progress=False,
    live=LivePlot(display=lambda obj, display_id=True: None, min_interval=1000))
print('matplotlib' in sys.modules)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]


def test_in_a_real_kernel_the_last_picture_stays_as_one_png_output():
    import nbformat

    sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent.parent / "notebooks"))
    from run_notebooks import execute

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(
        "from nn import TensorMLP, SGD, fit, functional as F\n"
        "from nn.data import make_moons\n"
        "X, y = make_moons(40, noise=0.1, seed=0)\n"
        "model = TensorMLP([2, 4, 2], seed=0)\n"
        "history = fit(model, F.cross_entropy, SGD(model.parameters(), lr=0.1), (X, y), epochs=4, live=True)")]
    execute(notebook)
    outputs = notebook.cells[0].outputs
    pictures = [o for o in outputs if o.output_type == "display_data" and "image/png" in o.data]
    assert len(pictures) == 1  # one output, updated in place, holding the final picture
    assert not [o for o in outputs if o.output_type == "error"]
