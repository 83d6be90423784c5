"""chainrule's pictures: gradient graphs, the backward stepper and its HTML player, plots.

- `draw_graph(root)`: a computation graph as a Graphviz drawing (renders with or without
  Graphviz's ``dot`` executable, within a time limit; a graph too large to lay out is
  collapsed by module or refused with advice). Options: ``focus=node`` (one weight's chains:
  the rest dimmed, or on a graph of more than 60 nodes left out, ``chain_only=True``),
  ``edge_labels=True`` (local derivatives and what each edge carries), roles, labels
  (``labels={graph.w52: "w52"}``), themes (light, dark, print) and ``width="16cm"``.
- `save(root_or_graph, path)` writes .svg, .png (``dpi=``) or .pdf by the suffix;
  `save_svg(root_or_graph, path)` writes SVG.
- `draw_step(root, k)`, `Stepper(root)`, `backprop_player(root, path)`: the backward pass one
  chain-rule step at a time, as drawings and as a self-contained HTML player (``focus=`` and
  ``labels=`` as for drawings); in a notebook that is not trusted, a picture of the finished
  pass shows in the player's place.
- `training_player(history, path)`: an offline HTML page to scrub a recorded training run;
  `LivePlot`: the picture `fit(..., live=True)` redraws in place in Jupyter.
- `plot_history`, `plot_decision_boundary`, `plot_gradient_flow`, `plot_gradcheck`,
  `plot_training`: matplotlib figures (the `notebooks` extra), imported on first use so that
  drawing graphs never needs matplotlib.
"""

from typing import Any

from viz.graph import GraphTooLargeError, draw_graph, save, save_svg
from viz.render import GradientGraph, RendererUnavailableError, RenderTimeoutError
from viz.stepper import Stepper, backprop_player, draw_step
from viz.live import LivePlot
from viz.training_player import training_player

__all__ = [
    "draw_graph", "save", "save_svg", "GradientGraph", "GraphTooLargeError",
    "RendererUnavailableError", "RenderTimeoutError",
    "draw_step", "backprop_player", "Stepper",
    "training_player", "LivePlot",
    "plot_history", "plot_decision_boundary", "plot_gradient_flow", "plot_gradcheck", "plot_training",
]


def __getattr__(name: str) -> Any:
    # The plots need matplotlib, an optional extra: import it only when a plot is asked for.
    if name in ("plot_history", "plot_decision_boundary", "plot_gradient_flow", "plot_gradcheck",
                "plot_training"):
        from viz import plots

        return getattr(plots, name)
    raise AttributeError(f"module 'viz' has no attribute {name!r}")
