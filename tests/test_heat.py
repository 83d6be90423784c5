"""draw_graph(root, heat="grad"): nodes filled by |grad| on a log scale; colours by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from autograd_core import Tensor, Value
from viz import draw_graph
from viz.heat import DECADES, heat_colours, magnitude, ramp_colour


def test_colours_follow_log_grad_by_hand():
    # L = a * b at a = 2, b = 0.001: dL/dL = 1, dL/da = b = 0.001, dL/db = a = 2 (the largest).
    a, b = Value(2.0, "a"), Value(0.001, "b")
    loss = a * b
    loss.backward()
    colours = heat_colours(loss)  # positions: a, b, L
    assert colours == {"n0": ramp_colour(1 + math.log10(0.001 / 2) / DECADES), "n1": ramp_colour(1.0),
                       "n2": ramp_colour(1 + math.log10(1 / 2) / DECADES)}
    assert colours["n1"] == "#7f2704" and ramp_colour(0.0) == "#fff5eb"
    assert ramp_colour(0.5) == "#fd8d3c"  # the ramp's middle colour


def test_no_gradient_and_tensors():
    x = Value(1.0, "x")
    y = x * 2.0
    assert set(heat_colours(y).values()) == {"#fff5eb"}  # no backward yet: every grad is 0
    assert magnitude(np.array([[-3.0, 1.0]])) == 3.0 and magnitude(None) is None
    assert magnitude(float("nan")) is None
    t = Tensor([1.0, -2.0], requires_grad=True, label="t")
    out = (t * t).sum()
    out.backward()
    colours = heat_colours(out)
    assert colours[f"n{0}"] == ramp_colour(1.0)  # |dout/dt| = max |2t| = 4 is the largest


def test_draw_graph_heat_fills_the_drawn_nodes_only():
    a, b = Value(2.0, "a"), Value(0.001, "b")
    loss = (a * b).tanh()
    loss.backward()
    graph = draw_graph(loss, heat="grad")
    fills = [line for line in graph.body if "fillcolor=" in line and line.strip().startswith("n")
             and "[fillcolor=" in line]
    assert any('n1 [fillcolor="#7f2704"]' in line for line in fills)
    assert any(note.startswith("heat: nodes filled by |grad|") for note in graph.notes)
    svg = graph.pipe(format="svg").decode()
    assert 'fill="#7f2704"' in svg
    plain = draw_graph(loss)
    assert not any(line.startswith('\tn1 [fillcolor="#7f2704"]') for line in plain.body)
    with pytest.raises(ValueError, match="heat must be one of grad"):
        draw_graph(loss, heat="data")
