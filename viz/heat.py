"""Heat maps on gradient graphs: ``draw_graph(root, heat="grad")`` fills every node by |grad|.

The colour runs on a log scale from the lightest (|grad| at most a millionth of the largest,
or 0, or no gradient at all) to the darkest (the largest |grad| of the drawing), so a gradient
that vanishes along a chain shows as a fading trail. A Tensor node counts its largest |element|.
The fills are added to a finished drawing as later DOT statements (a node's attributes merge),
so the layout is the same as without heat.

>>> from autograd_core import Value
>>> x = Value(2.0, "x"); y = (x * x).tanh(); y.backward()
>>> sorted(set(heat_colours(y).values()))[:1]
['#7f2704']
"""

from __future__ import annotations

import math
from typing import Any, Optional

import numpy as np

HEATS = ("grad",)
# ColorBrewer's Oranges, light to dark.
_RAMP = ["#fff5eb", "#fee6ce", "#fdd0a2", "#fdae6b", "#fd8d3c", "#f16913", "#d94801", "#a63603", "#7f2704"]
DECADES = 6  # the scale spans this many powers of ten below the largest |grad|


def magnitude(grad: Any) -> Optional[float]:
    """|grad| of a node: a float's absolute value, a Value gradient's, an array's largest
    |element|; None for no gradient (None) or a non-finite one."""
    if grad is None:
        return None
    if not isinstance(grad, (float, int, np.ndarray, np.generic)):
        grad = getattr(grad, "data", grad)  # a graph gradient (create_graph) is a node
    array = np.abs(np.asarray(grad, dtype=np.float64))
    if array.size == 0:
        return None
    value = float(array.max())
    return value if math.isfinite(value) else None


def ramp_colour(fraction: float) -> str:
    """The ramp's colour at `fraction` in [0, 1] (0 lightest), interpolated in RGB.

    >>> ramp_colour(0.0), ramp_colour(1.0)
    ('#fff5eb', '#7f2704')
    """
    fraction = min(1.0, max(0.0, fraction))
    position = fraction * (len(_RAMP) - 1)
    low = int(math.floor(position))
    high = min(low + 1, len(_RAMP) - 1)
    t = position - low
    a = [int(_RAMP[low][i:i + 2], 16) for i in (1, 3, 5)]
    b = [int(_RAMP[high][i:i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * t):02x}" for x, y in zip(a, b))


def heat_colours(root: Any, heat: str = "grad") -> dict[str, str]:
    """The fill of every node of `root`'s graph, by its drawing id (``nK``, K its position in
    topological order), for `heat` "grad"."""
    from autograd_core.graph import topological_order

    if heat not in HEATS:
        raise ValueError(f"heat must be one of {', '.join(HEATS)} (or None), got {heat!r}")
    order = topological_order(root)
    sizes = [magnitude(node.grad) for node in order]
    largest = max((s for s in sizes if s is not None and s > 0), default=0.0)
    colours = {}
    for position, size in enumerate(sizes):
        if size is None or size <= 0 or largest <= 0:
            fraction = 0.0
        else:
            fraction = 1.0 + math.log10(size / largest) / DECADES
        colours[f"n{position}"] = ramp_colour(fraction)
    return colours


def apply_heat(graph: Any, root: Any, heat: Optional[str]) -> Any:
    """Fill the drawn nodes of `graph` (a drawing of `root`) by `heat`; returns the graph.
    ``graph.notes`` says what the colours mean."""
    if heat is None:
        return graph
    colours = heat_colours(root, heat)
    declared = set()
    for line in graph.body:
        stripped = line.strip()
        name = stripped.split(" ", 1)[0]
        if name in colours and not stripped.startswith(f"{name} ->"):
            declared.add(name)
    for name in sorted(declared, key=lambda n: int(n[1:])):
        graph.body.append(f'\t{name} [fillcolor="{colours[name]}"]\n')
    sizes = [magnitude(node.grad) for node in _order(root)]
    largest = max((s for s in sizes if s is not None and s > 0), default=0.0)
    note = (f"heat: nodes filled by |grad| on a log scale, darkest = the largest |grad| ({largest:.4g}), "
            f"lightest = at most 1e-{DECADES} of it, 0, or no gradient")
    if hasattr(graph, "notes"):
        graph.notes.append(note)
    return graph


def _order(root: Any) -> list[Any]:
    from autograd_core.graph import topological_order

    return topological_order(root)


__all__ = ["apply_heat", "heat_colours", "ramp_colour", "magnitude", "HEATS"]
