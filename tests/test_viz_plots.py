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
