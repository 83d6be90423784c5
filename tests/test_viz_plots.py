"""plot_history and plot_decision_boundary: Figures holding exactly the given curves and points,
savable as PNG and SVG; clear errors for bad input and for a missing matplotlib."""

from __future__ import annotations

import io
import sys
import xml.etree.ElementTree as ET
from types import SimpleNamespace

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure

from viz import plot_decision_boundary, plot_history

matplotlib.use("Agg")


def lines_by_label(ax) -> dict[str, tuple[list[float], list[float]]]:
    return {line.get_label(): (list(line.get_xdata()), list(line.get_ydata())) for line in ax.get_lines()}


def saved(figure: Figure, fmt: str) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format=fmt)
    return buffer.getvalue()


# -- plot_history ----------------------------------------------------------------------------------


def test_history_dict_gives_a_loss_and_an_accuracy_panel():
    figure = plot_history({"loss": [0.9, 0.5, 0.25], "accuracy": [0.5, 0.75, 1.0]})
    assert isinstance(figure, Figure)
    loss_ax, acc_ax = figure.axes
    assert lines_by_label(loss_ax) == {"loss": ([1, 2, 3], [0.9, 0.5, 0.25])}
    assert lines_by_label(acc_ax) == {"accuracy": ([1, 2, 3], [0.5, 0.75, 1.0])}
    assert loss_ax.get_xlabel() == "epoch" and acc_ax.get_ylabel() == "accuracy"
    assert saved(figure, "png").startswith(b"\x89PNG")
    assert ET.fromstring(saved(figure, "svg")).tag == "{http://www.w3.org/2000/svg}svg"


def test_history_objects_with_attributes_or_metrics_tables():
    from nn.training import History

    history = History(loss=[1.0, 0.5], metrics={"accuracy": [0.25, 0.5]},
                      val_loss=[1.5, 0.75], val_metrics={"accuracy": [0.0, 0.5]})
    loss_ax, acc_ax = plot_history(history).axes
    assert lines_by_label(loss_ax) == {"loss": ([1, 2], [1.0, 0.5]), "val_loss": ([1, 2], [1.5, 0.75])}
    assert lines_by_label(acc_ax) == {"accuracy": ([1, 2], [0.25, 0.5]),
                                      "val_accuracy": ([1, 2], [0.0, 0.5])}

    # A history without accuracy (History.accuracy raises KeyError then): one panel.
    (only,) = plot_history(History(loss=[3.0, 2.0, 1.0])).axes
    assert lines_by_label(only) == {"loss": ([1, 2, 3], [3.0, 2.0, 1.0])}

    scalar_style = SimpleNamespace(loss=[0.5, 0.25], accuracy=[0.5, 1.0])
    assert len(plot_history(scalar_style).axes) == 2


@pytest.mark.parametrize("history, error, pattern", [
    ({}, ValueError, "no per-epoch curves"),
    ({"loss": []}, ValueError, "no per-epoch curves"),
    ({"loss": "0.5"}, TypeError, r"history\['loss'\] must be a list"),
    ({"loss": [0.5, "x"]}, TypeError, r"epoch 2 is str"),
    ({"accuracy": [True]}, TypeError, r"epoch 1 is bool"),
    (42, TypeError, "history must be a dict of per-epoch lists"),
])
def test_bad_histories_are_refused(history, error, pattern):
    with pytest.raises(error, match=pattern):
        plot_history(history)


# -- plot_decision_boundary ------------------------------------------------------------------------

X = np.array([[-1.0, -1.0], [1.0, 1.0], [-1.0, 1.0], [1.0, -1.0], [0.5, 0.25]])
Y = np.array([0, 0, 1, 1, 0])


def xor_classifier(points: np.ndarray) -> np.ndarray:
    """Class 1 where exactly one coordinate is positive (the XOR quadrants)."""
    return (points[:, 0] > 0) ^ (points[:, 1] > 0)


def test_decision_boundary_covers_the_data_and_shows_every_sample():
    calls = []

    def predict(points):
        calls.append(points.copy())
        return xor_classifier(points)

    figure = plot_decision_boundary(predict, X, Y, resolution=40, margin=0.5)
    assert isinstance(figure, Figure)
    (ax,) = figure.axes
    # One call with the whole grid: X's range, 0.5 wider on every side, 40 points per axis.
    (grid,) = calls
    assert grid.shape == (1600, 2)
    assert grid.min(axis=0).tolist() == [-1.5, -1.5] and grid.max(axis=0).tolist() == [1.5, 1.5]
    assert ax.get_xlim() == (-1.5, 1.5) and ax.get_ylim() == (-1.5, 1.5)
    scatters = {c.get_label(): c.get_offsets().tolist() for c in ax.collections if c.get_label().startswith("class")}
    assert scatters == {"class 0": X[Y == 0].tolist(), "class 1": X[Y == 1].tolist()}
    assert saved(figure, "png").startswith(b"\x89PNG")
    assert ET.fromstring(saved(figure, "svg")).tag == "{http://www.w3.org/2000/svg}svg"


def test_decision_regions_follow_the_classifier():
    """The filled regions are the classifier's: sample the PNG at the four quadrant centres."""
    figure = plot_decision_boundary(xor_classifier, X, Y, resolution=60)
    (ax,) = figure.axes
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    pixels = np.asarray(canvas.buffer_rgba())
    height = pixels.shape[0]

    def colour_at(x: float, y: float) -> tuple[int, ...]:
        px, py = ax.transData.transform((x, y))
        return tuple(pixels[int(height - py), int(px), :3])

    # No sample sits at these points, so each pixel shows the region's fill.
    same_class_0 = colour_at(-1.2, -0.6), colour_at(1.2, 0.6)
    same_class_1 = colour_at(-1.2, 0.6), colour_at(1.2, -0.6)
    assert same_class_0[0] == same_class_0[1]
    assert same_class_1[0] == same_class_1[1]
    assert same_class_0[0] != same_class_1[0]


def test_class_scores_are_turned_into_their_argmax():
    calls = []

    def scores(points):
        calls.append(1)
        return np.column_stack([points[:, 0], -points[:, 0], points[:, 1] * 0])

    figure = plot_decision_boundary(scores, X, Y, resolution=10)
    assert calls == [1] and isinstance(figure, Figure)


@pytest.mark.parametrize("predict, X_, y_, error, pattern", [
    (xor_classifier, X[:, :1], Y, ValueError, r"inputs X of shape \(n, 2\)"),
    (xor_classifier, X, Y[:3], ValueError, r"one label per sample"),
    (xor_classifier, X, np.array(["a", "b", "a", "b", "a"]), ValueError, "integer class labels"),
    (xor_classifier, np.full((5, 2), np.nan), Y, ValueError, "NaN or infinite"),
    (lambda p: p[:, 0], X, Y, ValueError, r"class labels \(integers\)"),
    (lambda p: np.zeros(3), X, Y, ValueError, r"one class per point"),
    ("not callable", X, Y, TypeError, "predict_fn must be callable"),
])
def test_bad_classifier_inputs_are_refused(predict, X_, y_, error, pattern):
    with pytest.raises(error, match=pattern):
        plot_decision_boundary(predict, X_, y_, resolution=5)


def test_bad_grid_options_are_refused():
    with pytest.raises(ValueError, match="resolution must be an int >= 2"):
        plot_decision_boundary(xor_classifier, X, Y, resolution=1)
    with pytest.raises(ValueError, match="margin must be a number >= 0"):
        plot_decision_boundary(xor_classifier, X, Y, margin=-1)


# -- matplotlib missing ----------------------------------------------------------------------------


def test_missing_matplotlib_names_the_notebooks_extra(monkeypatch):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(ImportError, match=r"notebooks.*pip install \"chainrule\[notebooks\]\""):
        plot_history({"loss": [1.0]})
    with pytest.raises(ImportError, match="notebooks"):
        plot_decision_boundary(xor_classifier, X, Y)


def test_importing_viz_does_not_import_matplotlib():
    import subprocess

    code = "import sys, viz; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- plot_gradcheck (issue 10) ----------------------------------------------------------------------


def test_gradcheck_at_relu_s_kink_shows_both_slopes():
    from viz.plots import plot_gradcheck

    figure = plot_gradcheck(lambda v: v.relu(), 0.0, span=1.0, points=5)
    ax = figure.axes[0]
    curves = lines_by_label(ax)
    f_line = curves["f"]
    assert f_line == ([-1.0, -0.5, 0.0, 0.5, 1.0], [0.0, 0.0, 0.0, 0.5, 1.0])
    # backward: relu'(0) = 0 (PyTorch's convention): the tangent is flat
    (tangent,) = [v for k, v in curves.items() if k.startswith("tangent")]
    assert tangent[1] == [0.0] * 5
    # central differences: (relu(eps) - relu(-eps)) / 2eps = 1/2
    (secant,) = [v for k, v in curves.items() if k.startswith("central")]
    assert secant[1] == pytest.approx([-0.5, -0.25, 0.0, 0.25, 0.5], rel=1e-9)
    assert ax.get_title() == ("f'(0) = 0 by backward, 0.5 by central differences (eps 1e-06): "
                              "relative error 1")


def test_gradcheck_of_one_input_among_several():
    from viz.plots import plot_gradcheck

    # f(x, y) = x * y at (2, 3) along y: backward and the secant both give x = 2
    ax = plot_gradcheck(lambda x, y: x * y, [2.0, 3.0], wrt=1, points=3).axes[0]
    assert ax.get_title().startswith("f'(3) = 2 by backward, 2 by central differences")
    with pytest.raises(ValueError, match="wrt must index one of the 2 input"):
        plot_gradcheck(lambda x, y: x * y, [2.0, 3.0], wrt=2)


def test_gradcheck_of_a_tensor_is_a_heat_map_of_the_relative_error():
    from autograd_core import Tensor
    from viz.plots import plot_gradcheck, relative_error

    x = np.array([[-1.0, 0.0, 2.0]])
    figure = plot_gradcheck(lambda t: t.relu().sum(), x)
    image = figure.axes[0].get_images()[0].get_array()
    # backward [0, 0, 1], central differences [0, 0.5, 1 + rounding]: relative errors [0, 1, ~3e-11]
    # (a 0 is drawn at the floor 1e-16 of the log colour scale)
    values = np.asarray(image)
    assert values.shape == (1, 3) and values[0, 0] == 1e-16 and values[0, 1] == 1.0 and values[0, 2] < 1e-9
    assert figure.axes[0].get_title() == ("worst element (0, 1): backward 0, central differences 0.5 "
                                          "(eps 1e-06)")
    assert relative_error(np.array([2.0]), np.array([2.0])).tolist() == [0.0]
    smooth = plot_gradcheck(lambda t: (t * t).tanh().sum(), Tensor(np.linspace(-1, 1, 6).reshape(2, 3)))
    assert np.asarray(smooth.axes[0].get_images()[0].get_array()).max() < 1e-7
    with pytest.raises(TypeError, match="f must return a Value or a one-element Tensor"):
        plot_gradcheck(lambda t: t * 2, x)


def test_plot_training_panels():
    from nn.training import History
    from viz.plots import plot_training

    history = History(loss=[1.0, 0.5], metrics={"accuracy": [0.5, 1.0]}, val_loss=[1.1, 0.6],
                      val_metrics={"accuracy": [0.5, 0.5]}, batch_loss=[1.2, 0.8, 0.6, 0.4],
                      grad_norms={"layers.0": [0.1, 0.05]})
    figure = plot_training(history, predict=xor_classifier, X=X, labels=Y, iterations_per_epoch=2)
    loss_ax, metric_ax, boundary_ax, norm_ax = figure.axes[:4]
    assert lines_by_label(loss_ax)["batch loss"] == ([0.5, 1.0, 1.5, 2.0], [1.2, 0.8, 0.6, 0.4])
    assert set(lines_by_label(metric_ax)) == {"accuracy", "val_accuracy"}
    assert boundary_ax.get_title() == "decision boundary, epoch 2" and len(boundary_ax.collections) >= 2
    assert lines_by_label(norm_ax) == {"layers.0": ([1, 2], [0.1, 0.05])}
    assert figure._suptitle.get_text() == "training: epoch 2, loss 0.5"
