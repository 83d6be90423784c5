"""How long a large scalar graph takes to draw and render to SVG (the budget: 5,000 nodes in 5 s).

The graph: the squared error of an MLP(20, [32, 32, 1]) (tanh hidden layers) on one sample,
5,240 nodes, its parameters labelled ``layers.0.neurons.1.w.2`` as nn.MLP labels them. Each
configuration is timed from the root to the SVG bytes (building the DOT source, then the
layout and rendering), the median of a few runs, with each renderer that is available:
Graphviz's ``dot`` executable when it is on PATH, and pygraphviz in-process.

    .venv/bin/python benchmarks/bench_viz.py [--repeats 3] [--with-op-nodes]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

# Run from a checkout without installing chainrule: its packages live one folder up.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import viz.render  # noqa: E402
from autograd_core import Value, topological_order  # noqa: E402
from nn import MLP  # noqa: E402
from viz import draw_graph  # noqa: E402

BUDGET_S = 5.0
NIN, SIZES = 20, [32, 32, 1]


def build_graph() -> Value:
    """Squared error of MLP(20, [32, 32, 1]) on one sample, after backward (grads filled in)."""
    model = MLP(NIN, SIZES, seed=0)
    loss = (model([0.05 * i - 0.5 for i in range(NIN)]) - 1.0) ** 2
    loss.backward()
    return loss


def time_render(root: Value, renderer: str, repeats: int, **options: Any) -> tuple[float, int]:
    """Median seconds from `root` to SVG bytes with `renderer`, and the SVG's size."""
    original: Callable[..., bool] = viz.render.executable_available
    if renderer == "pygraphviz":
        viz.render.executable_available = lambda engine="dot": False  # hide dot for this run
    try:
        times, size = [], 0
        for _ in range(repeats):
            start = time.perf_counter()
            graph = draw_graph(root, **options)
            svg = graph.pipe(format="svg")
            times.append(time.perf_counter() - start)
            assert graph.last_renderer == renderer, (graph.last_renderer, renderer)
            size = len(svg)
        return statistics.median(times), size
    finally:
        viz.render.executable_available = original


def main() -> int:
    """Time every configuration with every available renderer and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--with-op-nodes", action="store_true",
                        help="also time op_nodes=True (one op node per value; several times slower)")
    args = parser.parse_args()

    root = build_graph()
    nodes = len(topological_order(root))
    renderers = (["dot"] if viz.render.executable_available() else []) + \
        (["pygraphviz"] if viz.render.pygraphviz_available() else [])
    print(f"graph: MLP({NIN}, {SIZES}) squared error, {nodes} nodes; budget {BUDGET_S:.0f} s")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cpus, "
          f"Python {platform.python_version()}; median of {args.repeats}")
    configurations: list[tuple[str, dict[str, Any]]] = [
        ("default (ops folded into records)", {}),
        ("cluster=True", {"cluster": True}),
        ("collapse=('layers.0',)", {"collapse": ("layers.0",)}),
    ]
    if args.with_op_nodes:
        configurations.append(("op_nodes=True", {"op_nodes": True}))
    worst = 0.0
    for renderer in renderers:
        for name, options in configurations:
            seconds, size = time_render(root, renderer, args.repeats, **options)
            if not options:
                worst = max(worst, seconds)
            print(f"  {renderer:10s}  {name:36s} {seconds:6.2f} s   SVG {size / 1e6:5.1f} MB")
    verdict = "within" if worst < BUDGET_S else "OVER"
    print(f"default drawing: {worst:.2f} s at worst, {verdict} the {BUDGET_S:.0f} s budget")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
