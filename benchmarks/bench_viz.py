"""How long drawings take, from the root to SVG bytes, at 100, 1k, 5k and 20k nodes and on a fan-out.

The graphs: the squared error of an MLP(2, [16, 16, 1]) (tanh) summed over 1, 7 and 30 points
(982, 4,858 and 19,716 nodes; parameters labelled ``layers.0.neurons.1.w.2`` as nn.MLP labels
them), an MLP(2, [4, 4, 1]) on one point (106 nodes), and the fan-out that used to run past
400 s: one leaf feeding 1,000 nodes (x, x^2, ..., x^1000) summed in a chain (2,000 nodes).

For each graph, with each renderer available (Graphviz's ``dot`` executable on PATH, and
pygraphviz, in its worker process):

- *default*: what ``draw_graph(root)`` does within its layout budget (drawn, collapsed by module,
  or refused), the time to decide and draw the DOT source, then to render it, and the SVG's size;
- *full*: ``draw_graph(root, max_nodes=None)``, every node, rendered with a time limit
  (``--full-limit`` seconds), to show what the budget saves.

    .venv/bin/python benchmarks/bench_viz.py [--full-limit 60] [--skip-full]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any, Callable, Optional

# Run from a checkout without installing chainrule: its packages live one folder up.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import viz.render  # noqa: E402
from autograd_core import Value, sum_values, topological_order  # noqa: E402
from nn import MLP  # noqa: E402
from viz import GraphTooLargeError, RenderTimeoutError, draw_graph  # noqa: E402
from viz.graph import DEFAULT_MAX_NODES  # noqa: E402


def mlp_loss(points: int, sizes: list[int]) -> Value:
    """Squared error of MLP(2, sizes) summed over `points` points, after backward."""
    model = MLP(2, sizes, seed=0)
    loss = sum_values((model([0.01 * i, -0.02 * i]) - 1.0) ** 2 for i in range(points))
    loss.backward()
    return loss


def fan_out() -> Value:
    """x, x^2, ..., x^1000 summed in a chain: one leaf feeding 1,000 nodes, 2,000 nodes."""
    x = Value(1.0, "x")
    total = sum_values(x ** (i + 1) for i in range(1000))
    total.backward()
    return total


GRAPHS: list[tuple[str, Callable[[], Value]]] = [
    ("100: MLP(2,[4,4,1]), 1 point", lambda: mlp_loss(1, [4, 4, 1])),
    ("1k: MLP(2,[16,16,1]), 1 point", lambda: mlp_loss(1, [16, 16, 1])),
    ("5k: MLP(2,[16,16,1]), 7 points", lambda: mlp_loss(7, [16, 16, 1])),
    ("20k: MLP(2,[16,16,1]), 30 points", lambda: mlp_loss(30, [16, 16, 1])),
    ("fan-out: x^1..x^1000 summed", fan_out),
]


def render(source: str, renderer: str, limit: Optional[float]) -> tuple[str, str]:
    """(time, size) texts for rendering `source` to SVG with `renderer` within `limit` seconds."""
    start = time.perf_counter()
    try:
        results, used = viz.render.render_jobs(source, [("svg", None)], prefer=renderer,  # type: ignore[arg-type]
                                               timeout=limit)
    except RenderTimeoutError:
        return f"stopped at {limit:g} s", "-"
    assert used == renderer, (used, renderer)
    return f"{time.perf_counter() - start:6.2f} s", f"{len(results[('svg', None)]) / 1e6:5.2f} MB"


def main() -> int:
    """Time every graph with every available renderer and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full-limit", type=float, default=60.0,
                        help="time limit in seconds for rendering the full drawings (default 60)")
    parser.add_argument("--skip-full", action="store_true", help="time only the default drawings")
    args = parser.parse_args()

    renderers = (["dot"] if viz.render.executable_available() else []) + \
        (["pygraphviz"] if viz.render.pygraphviz_available() else [])
    print(f"machine: {platform.machine()}, {os.cpu_count()} cpus, Python {platform.python_version()}; "
          f"renderers: {', '.join(renderers)}; layout budget max_nodes={DEFAULT_MAX_NODES:,}, "
          f"render limit {viz.render.DEFAULT_TIMEOUT_S:g} s")
    header = f"{'graph':34s} {'nodes':>6s}  {'drawing':10s} {'outcome':44s} {'draw':>7s}  " \
             f"{'renderer':10s} {'render':>16s} {'SVG':>8s}"
    print(header)
    print("-" * len(header))
    for name, build in GRAPHS:
        root = build()
        nodes = len(topological_order(root))
        variants: list[tuple[str, dict[str, Any], Optional[float]]] = [
            ("default", {}, viz.render.DEFAULT_TIMEOUT_S)]
        if not args.skip_full:
            variants.append(("full", {"max_nodes": None}, args.full_limit))
        for label, options, limit in variants:
            start = time.perf_counter()
            try:
                graph = draw_graph(root, **options)
            except GraphTooLargeError as refused:
                seconds = time.perf_counter() - start
                reason = str(refused).split(": ", 1)[1].split(", over")[0]
                print(f"{name:34s} {nodes:6,d}  {label:10s} {'refused: ' + reason[:35]:44s} {seconds:5.2f} s")
                continue
            seconds = time.perf_counter() - start
            outcome = (graph.notes[-1] if graph.notes else "drawn in full") + f" ({graph.drawn_nodes:,} drawn)"
            for renderer in renderers:
                took, size = render(graph.source, renderer, limit)
                print(f"{name:34s} {nodes:6,d}  {label:10s} {outcome[:44]:44s} {seconds:5.2f} s  "
                      f"{renderer:10s} {took:>16s} {size:>8s}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
