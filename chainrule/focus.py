"""``chainrule w52 --focus NODE``: the chain(s) of the w52 network from the loss to one node.

`run_w52_focus` prints the steps of the backward pass that lie on the chain(s) from L to the
node (for ``w52``: the slide's dL/dy, dL/dF, dL/dv5, dL/du5 and dL/dw52) and writes the
player of those steps, the rest of the graph dimmed.
"""

from __future__ import annotations

import sys
from typing import Any, Optional, TextIO

from chainrule.w52 import W52Graph, build_w52


def resolve_w52_node(graph: W52Graph, name: str) -> Any:
    """The node of the w52 network called `name`: a label of the graph (x1, u5, F, L, a
    weight as the table names it) or ``w52``, the weight the slide's question asks about
    (from x2 into hidden unit 5). ValueError listing the names for any other."""
    if not isinstance(name, str):
        raise TypeError(f"a node name must be a str, got {type(name).__name__}")
    nodes = {node.label: node for node in graph.nodes()}
    if name in nodes:
        return nodes[name]
    if name == "w52":
        return graph.w52
    raise ValueError(f"no node {name!r} in the w52 network; its nodes are: "
                     f"{', '.join(nodes)} (and w52, the question's name for the weight from x2 "
                     "into unit 5)")


def run_w52_focus(name: str, player_path: Optional[str] = "", out: Optional[TextIO] = None,
                  err: Optional[TextIO] = None) -> int:
    """Print the backward steps on the chain(s) from L to node `name` of the w52 network and
    write their player to `player_path` (default ``<name>-chain.html``; None: no player).
    Returns the exit status: 0, or 2 (after a message on `err`) for an unknown node."""
    from autograd_core import trace_backward
    from viz.stepper import Stepper

    out, err = out or sys.stdout, err or sys.stderr  # looked up now: tests replace them
    graph = build_w52()
    try:
        node = resolve_w52_node(graph, name)
    except ValueError as unknown:
        print(f"chainrule w52: error: --focus: {unknown}", file=err)
        return 2
    whole = len(trace_backward(graph.L))
    steps = trace_backward(graph.L, focus=node)
    label = node.label if node.label == name else f"{name} (labelled {node.label})"
    print(f"The chain(s) from L to {label}: {len(steps)} of the {whole} steps of the backward "
          "pass, each keeping only what it sends down the chain:\n", file=out)
    for step in steps:
        print(step, file=out)
    received = [p for step in steps for p in step.parents if p.parent is node]
    if received:
        print(f"\ndL/d{name} = {received[-1].total:.6g}", file=out)
    if player_path is not None:
        target = player_path or f"{name}-chain.html"
        Stepper(graph.L, focus=node).save(target)
        print(f"wrote the player of this chain to {target} (open it in a browser; "
              "arrow keys step)", file=out)
    return 0
