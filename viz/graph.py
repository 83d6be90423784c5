"""Gradient graphs: a computation graph (of `Value`s or `Tensor`s) drawn with Graphviz.

Every node of the graph becomes a *record* box showing its name, data and grad, fed by a
small op node ("*", "tanh", ...), as in micrograd's ``trace_graph``. Node kinds are told
apart by colour *and* shape (the legend under the drawing names them), so that they stay
apart in the greyscale ``print`` theme:

- **input** (square box): data fed to the graph, such as x1, x2 or ``x[0]``,
- **parameter** (rounded box): a weight or bias, what training changes,
- **constant** (dashed box): a number an expression wraps, such as the 1 of ``1/u`` (by
  default folded into its op, drawn as ``1/·``; ``show_constants=True`` draws it),
- **computed value** (square box), and the **root** (thick border), the value differentiated,
- **operation** (small ellipse): the op that computed the box it points to.

Which leaves are which (a `Value` has no ``requires_grad``), unless ``roles=`` says otherwise:

1. a `Constant` (``value.is_constant``), or an unlabelled Tensor leaf of one element that
   does not require grad, is a constant;
2. a label that names a weight or bias is a parameter: its last part, without indices, is
   w, W, b, weight(s) or bias(es), optionally followed by digits or ``_...`` (``w25``,
   ``b_1``, ``layers.0.neurons.1.w.2``, ``fc.weight``): nn's module parameters are named so;
3. a label that names an input is an input: x, X, input(s), data or features, optionally
   followed by digits, ``_...`` or ``[i]`` (``x1``, ``x[0]``, ``inputs``);
4. a label with a module path (``layers.1.alpha``: nn's modules label every parameter with its
   dotted name) is a parameter, and so is a Tensor leaf that requires grad;
5. any other leaf is an input, a number you gave: a Value labelled ``y``, ``z``, ``a`` or
   ``v1``, an unlabelled Value, a Tensor that does not require grad.

The DOT source is deterministic: node ids are positions in
``autograd_core.topological_order(root)`` (``n0``, ``n1``, ...; the op feeding node ``nK`` is
``nK_op``), never ``id()``, so the same graph always gives byte-identical source.

Large graphs never hang: `draw_graph` estimates the layout's size before drawing (nodes, plus
the bends Graphviz routes along edges that span several ranks) and, above ``max_nodes``,
keeps only the focused chain (with ``focus=``), collapses the network by module, or refuses
within a second with advice; every render has a time limit (`viz.render`).
"""

from __future__ import annotations

import difflib
import numbers
import os
import pathlib
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Iterable, Literal, Mapping, Optional, Sequence, Union

import graphviz
import numpy as np

from autograd_core.graph import topological_order
from autograd_core.trace import _names as trace_names
from autograd_core.trace import trace_backward
from viz.render import (DEFAULT_TIMEOUT_S, GradientGraph, RASTER_FORMATS, check_dpi, check_timeout,
                        render_jobs)

RANKDIRS = ("LR", "RL", "TB", "BT")
ROLES = ("input", "parameter", "constant")
Role = Literal["input", "parameter", "constant"]

# Above this many nodes `draw_graph` folds each op into its node's record (unless told
# otherwise) and caps Graphviz's network-simplex iterations: dot's layout time grows much
# faster than linearly, and a separate op node per value doubles the nodes, the ranks and
# the long edges it must route (a 4,500-node MLP graph: ~10 s of dot with op nodes, ~2.5 s
# without, ~1 s with the attributes `build_digraph` adds for large graphs).
LARGE_GRAPH_NODES = 1000

# The largest layout `draw_graph` draws without being told otherwise, in layout nodes: the
# nodes drawn plus the bends Graphviz adds along edges spanning several ranks (one per rank
# crossed). On a 2-core VM a layout of 8,400 takes about 1 s and one of 19,000 (an MLP's loss
# over 7 points) 4-8 s, up to 19 s with pygraphviz on a busy machine (benchmarks/RESULTS.md):
# this keeps drawings well within the render time limit `viz.render.DEFAULT_TIMEOUT_S`.
DEFAULT_MAX_NODES = 15_000

SANS_FONT = "Helvetica,Arial,sans-serif"
# Step frames use a fixed-width font: with every text padded to a fixed length, node
# sizes, and therefore the whole layout, stay the same from frame to frame.
MONO_FONT = "Courier,monospace"

_REQUIRED_ATTRIBUTES = ("parents", "op", "label", "data", "grad")

NO_BREAK_SPACE = "\u00a0"
# Spaces that Graphviz would drop: at the start or end of a line, or after another space.
_KEPT_SPACES = re.compile(r"^ +| +$|(?<= ) +", re.MULTILINE)


# -- themes ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Theme:
    """The colours of a drawing. ``fills`` maps each kind (input, parameter, constant, result,
    root, op, cluster, unit, collapsed) to its fill colour."""

    name: str
    background: str
    text: str
    edge: str
    border: str
    fills: Mapping[str, str]
    cluster_border: str
    dim_fill: str
    dim_text: str
    dim_edge: str
    focus: str
    active_fill: str
    active_edge: str


THEMES: dict[str, Theme] = {
    "light": Theme(
        "light", background="white", text="black", edge="#555555", border="black",
        fills={"input": "#d8f0d2", "parameter": "#cfe8fc", "constant": "#eeeeee", "result": "#ffffff",
               "root": "#ffd8a8", "op": "#fff4c2", "cluster": "#f6f6fb", "unit": "#fafafa",
               "collapsed": "#e4dcf5"},
        cluster_border="#9999bb", dim_fill="#f4f4f4", dim_text="#b0b0b0", dim_edge="#d6d6d6",
        focus="#c62828", active_fill="#fff176", active_edge="#d32f2f"),
    "dark": Theme(
        "dark", background="#1e1e1e", text="#e8e8e8", edge="#a0a0a0", border="#c8c8c8",
        fills={"input": "#24472a", "parameter": "#1d3d5c", "constant": "#3a3a3a", "result": "#2b2b2b",
               "root": "#6e4212", "op": "#4d4420", "cluster": "#262630", "unit": "#232323",
               "collapsed": "#3b3152"},
        cluster_border="#5c5c80", dim_fill="#242424", dim_text="#5e5e5e", dim_edge="#3c3c3c",
        focus="#ff8a80", active_fill="#8d7d00", active_edge="#ff5252"),
    # Greyscale: kinds differ by shade and by shape (see the module docstring), never by hue.
    "print": Theme(
        "print", background="white", text="black", edge="#333333", border="black",
        fills={"input": "#f0f0f0", "parameter": "#d4d4d4", "constant": "#ffffff", "result": "#ffffff",
               "root": "#a8a8a8", "op": "#e8e8e8", "cluster": "#f7f7f7", "unit": "#fbfbfb",
               "collapsed": "#dcdcdc"},
        cluster_border="#777777", dim_fill="#f7f7f7", dim_text="#b4b4b4", dim_edge="#d0d0d0",
        focus="black", active_fill="#cccccc", active_edge="black"),
}

# Kept for callers of the first version of this module (the stepper's colours).
LEAF_COLOUR = THEMES["light"].fills["constant"]
PARAMETER_COLOUR = THEMES["light"].fills["parameter"]
INPUT_COLOUR = THEMES["light"].fills["input"]
RESULT_COLOUR = THEMES["light"].fills["result"]
ROOT_COLOUR = THEMES["light"].fills["root"]
OP_COLOUR = THEMES["light"].fills["op"]
CLUSTER_COLOUR = THEMES["light"].fills["cluster"]
COLLAPSED_COLOUR = THEMES["light"].fills["collapsed"]
ACTIVE_COLOUR = THEMES["light"].active_fill
ACTIVE_EDGE_COLOUR = THEMES["light"].active_edge


def check_theme(theme: Any) -> Theme:
    """The `Theme` named `theme` (light, dark, print), or `theme` itself if it is one."""
    if isinstance(theme, Theme):
        return theme
    if not isinstance(theme, str) or theme not in THEMES:
        raise ValueError(f"theme must be one of {', '.join(THEMES)} (or a viz.graph.Theme), got {theme!r}")
    return THEMES[theme]


# -- formatting ------------------------------------------------------------------------


def format_quantity(x: Any) -> str:
    """A node's data or grad as short text: ``{:.4g}`` for a number; for an array its
    values when it has at most 6 elements, else its min/mean/max."""
    if x is None:
        return "none"
    if isinstance(x, np.ndarray):
        if x.size <= 6:
            text = np.array2string(x, separator=", ", formatter={"all": lambda v: f"{v:.4g}"})
            return " ".join(line.strip() for line in text.splitlines())  # rows on one line
        return f"min {x.min():.4g} mean {x.mean():.4g} max {x.max():.4g}"
    if isinstance(x, numbers.Number):
        return f"{x:.4g}"
    if hasattr(x, "data") and not hasattr(x, "shape"):  # a Value grad (create_graph=True)
        return format_quantity(x.data)
    return str(x)


def escape_record_text(text: str) -> str:
    """`text` made literal inside a Graphviz record label.

    Record labels give ``{ } | < > "`` and backslashes a meaning, and Graphviz decodes HTML
    entities (``&amp;``) and drops leading, trailing and repeated spaces; so those are
    escaped, and such spaces become no-break spaces (which it keeps). A tab becomes a space,
    any other control character U+FFFD, and a newline a line break.
    """
    text = _escape_common(text)
    for special in '{}|<>':
        text = text.replace(special, "\\" + special)
    return text.replace("\n", "\\n")


def escape_label_text(text: str) -> str:
    """`text` made literal inside a plain (non-record) Graphviz label; see `escape_record_text`."""
    return _escape_common(text).replace("\n", "\\n")


def _escape_common(text: str) -> str:
    text = "".join(" " if ch == "\t" else "\ufffd" if ch != "\n" and unicodedata.category(ch) in ("Cc", "Cs")
                   else ch for ch in text)
    text = text.replace("\\", "\\\\").replace("&", "&amp;").replace('"', '\\"')
    return _KEPT_SPACES.sub(lambda run: NO_BREAK_SPACE * len(run.group()), text)


def is_tensor_node(node: Any) -> bool:
    """True for a node whose data is a numpy array (a Tensor), False for a scalar Value."""
    return isinstance(node.data, np.ndarray)


def node_fields(node: Any, name: str, grad_text: Optional[str] = None,
                with_op: bool = False, op_text: Optional[str] = None) -> list[str]:
    """The lines of a node's record: its name (if any), [shape and dtype,] data and grad.

    `with_op` puts the node's op in the first line (``[tanh] h1``), for drawings that fold
    op nodes into the records; `op_text` replaces the op's name there (``[1/·] v5``).
    """
    if with_op and node.parents:
        name = f"[{op_text or node.op or '?'}] {name}".rstrip()
    fields = [name] if name else []
    if is_tensor_node(node):
        fields.append(f"shape {tuple(node.data.shape)} {node.data.dtype}")
    fields.append(f"data {format_quantity(node.data)}")
    fields.append(grad_text if grad_text is not None else f"grad {format_quantity(node.grad)}")
    return fields


def record_label(fields: Sequence[str], rankdir: str) -> str:
    """A record label stacking `fields` top to bottom.

    A record lays its fields out across the rank direction, and braces flip that; so the
    fields need braces to stack vertically in a top-to-bottom graph and none left-to-right.
    """
    body = " | ".join(escape_record_text(f) for f in fields)
    return f"{{ {body} }}" if rankdir in ("TB", "BT") else body


def display_name(node: Any, names: Mapping[int, str], labels: Optional[Mapping[int, str]] = None) -> str:
    """The header of a node's record: its label (or the one `labels` gives it), the expression
    name of an unlabelled result (as the stepper's text calls it), and nothing for an
    unlabelled leaf, whose value is already its data line."""
    if labels and id(node) in labels:
        return labels[id(node)]
    if node.label:
        return node.label
    return names[id(node)] if node.parents else ""


_INFIX = {"+", "-", "*", "/", "**", "max"}


def drawing_names(root: Any, order: Sequence[Any], labels: Mapping[int, str]) -> dict[int, str]:
    """A readable name for every node, keyed by ``id(node)``: `autograd_core.trace.node_names`
    (labels, values of unlabelled leaves, short expressions, ``sum#3``), with the names that
    `labels` gives some nodes used everywhere, inside expressions too; the trace and the
    player name the nodes the same way."""
    return trace_names(root, labels, order)[0]


# -- checks ----------------------------------------------------------------------------


def check_node(node: Any, role: str) -> None:
    """Raise TypeError unless `node` has the node protocol that drawing relies on."""
    missing = [a for a in _REQUIRED_ATTRIBUTES if not hasattr(node, a)]
    if missing:
        raise TypeError(f"{role} must be a Value or Tensor (a graph node with .parents, .op, "
                        f".label, .data and .grad); got {type(node).__name__} without "
                        f"{', '.join('.' + m for m in missing)}")
    if not isinstance(node.parents, tuple):
        raise TypeError(f"{role}.parents must be a tuple of nodes, got {type(node.parents).__name__}")
    if not isinstance(node.op, str) or not isinstance(node.label, str):
        raise TypeError(f"{role}.op and {role}.label must be str, got "
                        f"{type(node.op).__name__} and {type(node.label).__name__}")


def check_rankdir(rankdir: Any) -> str:
    """`rankdir` itself if it is one of Graphviz's LR, RL, TB, BT; else a ValueError."""
    if not isinstance(rankdir, str) or rankdir not in RANKDIRS:
        raise ValueError(f"rankdir must be one of {', '.join(RANKDIRS)} (left-right, right-left, "
                         f"top-bottom, bottom-top), got {rankdir!r}")
    return rankdir


def check_focus_mode(focus_mode: Any = None, chain_only: Any = None) -> str:
    """The focus mode that `focus_mode` ("auto", "dim", "chain"; None: "auto") and
    `chain_only` (True: "chain", False: "dim", None: either) ask for; an error if they differ."""
    if focus_mode is not None and focus_mode not in FOCUS_MODES:
        raise ValueError(f"focus_mode must be one of {', '.join(map(repr, FOCUS_MODES))}, got {focus_mode!r}")
    if chain_only is not None and not isinstance(chain_only, bool):
        raise TypeError(f"chain_only must be True, False or None, got {chain_only!r}")
    wanted = None if chain_only is None else ("chain" if chain_only else "dim")
    if wanted is not None and focus_mode not in (None, wanted):
        raise ValueError(f"chain_only={chain_only} and focus_mode={focus_mode!r} disagree; give one of them")
    return wanted or focus_mode or "auto"


def graph_nodes(root: Any) -> list[Any]:
    """`topological_order(root)` after checking that every node can be drawn."""
    check_node(root, "root")
    order = topological_order(root)
    for position, node in enumerate(order):
        check_node(node, f"node {position} of the graph")
    return order


def _describe(node: Any) -> str:
    return repr(node.label) if getattr(node, "label", "") else f"{type(node).__name__} {format_quantity(node.data)}"


def find_node(order: Sequence[Any], wanted: Any, what: str, labels: Optional[Mapping[int, str]] = None) -> Any:
    """The node of the graph that `wanted` names: the node itself, or a str matching exactly
    one node's label (or the name `labels` gives it). ValueError names the problem."""
    if isinstance(wanted, str):
        found = [n for n in order if (labels or {}).get(id(n), n.label) == wanted or n.label == wanted]
        if len(found) == 1:
            return found[0]
        if not found:
            named = sorted({(labels or {}).get(id(n), n.label) for n in order if n.label or id(n) in (labels or {})})
            close = difflib.get_close_matches(wanted, named, n=3)
            hint = f" (did you mean {' or '.join(map(repr, close))}?)" if close else ""
            raise ValueError(f"{what}={wanted!r}: no node of this graph is labelled so{hint}; its labels "
                             f"are {', '.join(named[:20]) or 'none'}{' ...' if len(named) > 20 else ''}")
        raise ValueError(f"{what}={wanted!r}: {len(found)} nodes of this graph are labelled so; "
                         f"pass the node itself")
    check_node(wanted, what)
    if not any(n is wanted for n in order):
        raise ValueError(f"{what} node {_describe(wanted)} is not part of the graph that ends in the "
                         f"root: the root does not depend on it")
    return wanted


# -- roles -------------------------------------------------------------------------------------

_PARAMETER_NAME = re.compile(r"^(w|W|b|weights?|bias(es)?)(\d+|_\w*|\[[\d, ]+\])*$")
_INPUT_NAME = re.compile(r"^(x|X|inputs?|data|features)(\d+|_\w*|\[[\d, ]+\])*$")


def _last_name(label: str) -> str:
    parts = label.split(".")
    while len(parts) > 1 and parts[-1].isdigit():
        parts.pop()
    return parts[-1]


def leaf_role(node: Any) -> Role:
    """The role of a leaf by the rule in the module docstring: "input", "parameter" or "constant"."""
    if getattr(node, "is_constant", False):
        return "constant"
    requires_grad = getattr(node, "requires_grad", None)
    label = node.label
    if is_tensor_node(node) and not requires_grad:
        return "constant" if not label and node.data.size == 1 else "input"
    if label:
        name = _last_name(label)
        if _PARAMETER_NAME.match(name):
            return "parameter"
        if _INPUT_NAME.match(name) or _INPUT_NAME.match(label):
            return "input"
        if "." in label:  # a module path: nn's modules label their parameters so
            return "parameter"
    # A Tensor that requires grad is trained; any other leaf is a number the user gave.
    return "parameter" if requires_grad else "input"


def _pairs(value: Any, what: str, example: str) -> list[tuple[Any, Any]]:
    """The (node, value) pairs of a mapping, or of a list of pairs (nodes that compare
    elementwise, like Tensors, cannot be dict keys)."""
    if isinstance(value, Mapping):
        return list(value.items())
    if isinstance(value, (list, tuple)) and all(isinstance(p, tuple) and len(p) == 2 for p in value):
        return list(value)
    raise TypeError(f"{what} must be a mapping {{node: {example}}} or a list of (node, {example}) "
                    f"pairs, got {type(value).__name__}")


def check_roles(roles: Any, order: Sequence[Any]) -> dict[int, Role]:
    """`roles` ({node: "input" | "parameter" | "constant"}, or such pairs) keyed by ``id(node)``,
    checked."""
    if roles is None:
        return {}
    out: dict[int, Role] = {}
    for key, role in _pairs(roles, "roles", "'input' | 'parameter' | 'constant'"):
        node = find_node(order, key, "roles key")
        if role not in ROLES:
            raise ValueError(f"roles[{_describe(node)}] must be one of {', '.join(ROLES)}, got {role!r}")
        if node.parents:
            raise ValueError(f"roles apply to leaves; {_describe(node)} is computed by {node.op!r}")
        out[id(node)] = role
    return out


def check_labels(labels: Any, order: Sequence[Any]) -> dict[int, str]:
    """`labels` ({node: "name"}, or such pairs) keyed by ``id(node)``, checked."""
    if labels is None:
        return {}
    out: dict[int, str] = {}
    for key, name in _pairs(labels, "labels", "'name'"):
        node = find_node(order, key, "labels key")
        if not isinstance(name, str) or not name:
            raise TypeError(f"labels[{_describe(node)}] must be a non-empty str, got {name!r}")
        out[id(node)] = name
    return out


# -- clusters --------------------------------------------------------------------------


def module_of_parameter(label: str) -> Optional[str]:
    """The module a parameter label belongs to: drop its trailing indices and its own name.

    ``layers.0.neurons.1.w.2`` -> ``layers.0.neurons.1``; ``layers.0.neurons.1.b`` ->
    ``layers.0.neurons.1``; a label without a module path (``w25``) -> None.
    """
    parts = label.split(".")
    while parts and parts[-1].isdigit():
        parts.pop()
    return ".".join(parts[:-1]) or None


def cluster_chain(module: str) -> list[str]:
    """The nested clusters a module sits in, outermost first: every prefix of its path that
    ends with an index, then the module itself (``layers.0.neurons.1`` -> ``layers.0``,
    ``layers.0.neurons.1``)."""
    parts = module.split(".")
    chain = [".".join(parts[:i + 1]) for i in range(len(parts) - 1) if parts[i].isdigit()]
    return chain + [module]


def assign_modules(order: Sequence[Any]) -> dict[int, str]:
    """The module of each node that belongs to one, keyed by ``id(node)``.

    A parameter belongs to the module in its label. A computed node belongs to the module
    of its first parameter parent (``w * x`` joins w's neuron); without one, to the module
    that all of its parents share (the neuron's ``+`` chain and activation); otherwise to
    none (a loss combining several neurons, or a node using an unlabelled constant).
    """
    modules: dict[int, str] = {}
    for node in order:
        if not node.parents:
            module = module_of_parameter(node.label) if node.label else None
        else:
            module = next((modules[id(p)] for p in node.parents
                           if not p.parents and id(p) in modules), None)
            if module is None:
                shared = {modules.get(id(p)) for p in node.parents}
                module = shared.pop() if len(shared) == 1 else None
        if module is not None:
            modules[id(node)] = module
    return modules


def hidden_units(order: Sequence[Any], drawn: set[int], root: Any) -> dict[int, str]:
    """Groups that keep each hidden unit's nodes together in the layout, keyed by ``id(node)``.

    A unit is a labelled computed node ``v`` with everything only it leads to: the nodes
    through which every path to the root passes ``v`` (``v``'s dominator subtree, on the
    graph read from the root), as long as the labelled nodes in it form one chain (``v5``,
    ``u5``) and ``v`` is the largest such node. In the w52 graph these are v_j with u_j,
    its two products and its two weights; the shared inputs x1, x2 stay outside. Graphs with
    fewer than two such units get none.
    """
    reverse = [n for n in reversed(order) if id(n) in drawn]  # the root first
    number = {id(n): i for i, n in enumerate(reverse)}
    consumers: dict[int, list[int]] = {}
    for node in reverse:
        for parent in node.parents:
            if id(parent) in drawn:
                consumers.setdefault(id(parent), []).append(number[id(node)])
    idom: list[int] = [0] * len(reverse)
    for i, node in enumerate(reverse[1:], start=1):
        users = consumers.get(id(node), [])
        if not users:
            idom[i] = 0
            continue
        d = users[0]
        for other in users[1:]:
            a, b = d, other
            while a != b:
                while a > b:
                    a = idom[a]
                while b > a:
                    b = idom[b]
            d = a
        idom[i] = d
    labelled = [bool(n.label) and bool(n.parents) and n is not root for n in reverse]
    # For each node: whether the labelled computed nodes of its subtree form one chain, and
    # which subtree child carries them (bottom-up: children have larger numbers).
    carriers: list[list[int]] = [[] for _ in reverse]
    chain_ok = [True] * len(reverse)
    has_label = list(labelled)
    for i in range(len(reverse) - 1, 0, -1):  # i's subtree is complete when i is reached
        chain_ok[i] = chain_ok[i] and len(carriers[i]) <= 1
        if has_label[i]:
            carriers[idom[i]].append(i)
        has_label[idom[i]] = has_label[idom[i]] or has_label[i]
        chain_ok[idom[i]] = chain_ok[idom[i]] and chain_ok[i]
    children: list[list[int]] = [[] for _ in reverse]
    for i in range(1, len(reverse)):
        children[idom[i]].append(i)
    units: dict[int, str] = {}
    found = 0
    for i in range(1, len(reverse)):
        if not (labelled[i] and chain_ok[i]):
            continue
        j, top = idom[i], True
        while j != 0:
            if labelled[j] and chain_ok[j]:
                top = False
                break
            j = idom[j]
        if not top:
            continue
        members, stack = [], [i]
        while stack:
            k = stack.pop()
            members.append(k)
            stack.extend(children[k])
        if len(members) < 3:
            continue
        found += 1
        for k in members:
            units[id(reverse[k])] = f"unit {reverse[i].label}"
    return units if found >= 2 else {}


@dataclass
class Placement:
    """Where each drawn item goes: the items (``nK`` node ids, ``cK`` collapsed boxes) directly
    in each cluster (None: the top level), each cluster's sub-clusters, and the members of
    each collapsed box. ``units`` lists the clusters that are layout groups, not modules."""

    items: dict[Optional[str], list[str]] = field(default_factory=lambda: {None: []})
    children: dict[Optional[str], list[str]] = field(default_factory=lambda: {None: []})
    index: dict[str, int] = field(default_factory=dict)
    box_of: dict[int, str] = field(default_factory=dict)  # id(node) -> its box's id
    box_members: dict[str, list[Any]] = field(default_factory=dict)
    box_names: dict[str, str] = field(default_factory=dict)
    units: set[str] = field(default_factory=set)

    def add_cluster(self, path: str, parent: Optional[str]) -> None:
        """Open cluster `path` inside `parent` unless it is already open."""
        if path not in self.index:
            self.index[path] = len(self.index)
            self.items[path], self.children[path] = [], []
            self.children[parent].append(path)


def place_items(root: Any, order: Sequence[Any], cluster: bool, collapse: Sequence[str],
                drawn: Optional[set[int]] = None, units: Optional[Mapping[int, str]] = None,
                modules: Optional[Mapping[int, str]] = None) -> Placement:
    """Assign every drawn node to its cluster (when `cluster`), to a collapsed box
    (`collapse`) or to a layout unit (`units`, see `hidden_units`).

    A collapsed cluster's outputs (nodes used outside any box, and the root) stay drawn
    beside its box: the box then has one edge per output instead of one per use of an
    output, and dot lays out a node with a thousand edges very slowly. An output used only
    inside other boxes is hidden in its own box, which gets one edge to each such box.
    """
    if drawn is None:
        drawn = {id(n) for n in order}
    if modules is None:
        modules = assign_modules(order) if (cluster or collapse) else {}
    known = {c for m in set(modules.values()) for c in cluster_chain(m)}
    unknown = [c for c in collapse if c not in known]
    if unknown:
        listed = ", ".join(sorted(known)[:12]) or "none: no parameter label has a module path"
        raise ValueError(f"collapse names unknown cluster(s) {unknown}; this graph's clusters are: {listed}")
    box_ids = {name: f"c{i}" for i, name in enumerate(sorted(set(collapse)))}
    chains = {id(n): cluster_chain(modules[id(n)]) if id(n) in modules else [] for n in order}
    box_name = {key: next((c for c in chain if c in box_ids), None) for key, chain in chains.items()}
    outputs = {id(p) for node in order if id(node) in drawn for p in node.parents
               if box_name[id(p)] is not None and box_name[id(node)] is None}
    outputs.add(id(root))

    placement = Placement(box_names={i: name for name, i in box_ids.items()})
    for position, node in enumerate(order):
        if id(node) not in drawn:
            continue
        chain, box = chains[id(node)], box_name[id(node)]
        parent = None
        if cluster:
            for path in (chain[:chain.index(box)] if box else chain):
                placement.add_cluster(path, parent)
                parent = path
        elif units and id(node) in units:
            parent = units[id(node)]
            placement.add_cluster(parent, None)
            placement.units.add(parent)
        if box is None or id(node) in outputs:
            placement.items[parent].append(f"n{position}")
            continue
        box_id = box_ids[box]
        placement.box_of[id(node)] = box_id
        if box_id not in placement.box_members:
            placement.box_members[box_id] = []
            placement.items[parent].append(box_id)
        placement.box_members[box_id].append(node)
    return placement


# -- the size of a layout --------------------------------------------------------------------


def layout_size(items: Sequence[str], edges: Sequence[tuple[str, str]], labelled_edges: bool = False) -> tuple[int, int]:
    """(nodes, bends): what Graphviz's dot must place for these items and edges.

    dot gives every node a rank and adds a bend (a virtual node) on each rank an edge
    crosses; its ranking minimises the total edge length, so any valid ranking bounds the
    bends from above. This takes the better of two: every node as early as its inputs allow,
    and every node as late as its users allow. A labelled edge needs one more rank for its
    label, so labels double the spans. The layout's cost grows with nodes + bends: a leaf
    feeding 1,000 nodes of a 1,000-deep sum needs half a million bends however few nodes
    there are, while an MLP's long ``+`` chains need few (products move next to their sums).
    """
    incoming: dict[str, list[str]] = {item: [] for item in items}
    outgoing: dict[str, list[str]] = {item: [] for item in items}
    for tail, head in edges:
        outgoing[tail].append(head)
        incoming[head].append(tail)
    order: list[str] = []  # topological, by Kahn's algorithm
    pending = {item: len(incoming[item]) for item in items}
    ready = [item for item in items if not incoming[item]]
    while ready:
        item = ready.pop()
        order.append(item)
        for head in outgoing[item]:
            pending[head] -= 1
            if pending[head] == 0:
                ready.append(head)
    early: dict[str, int] = {}
    for item in order:
        early[item] = max((early[t] + 1 for t in incoming[item]), default=0)
    late: dict[str, int] = {}
    last = max(early.values(), default=0)
    for item in reversed(order):
        late[item] = min((late[h] - 1 for h in outgoing[item]), default=last)

    def bends(rank: Mapping[str, int]) -> int:
        return sum(rank[h] - rank[t] - 1 for t, h in edges if t in rank and h in rank)

    fewest = min(bends(early), bends(late))
    if labelled_edges:
        fewest = 2 * fewest + len(edges)
    return len(items), fewest


# With ``focus=`` and more drawn nodes than this, `draw_graph` draws only the chains from the
# root to the focus and the inputs of their ops (``focus_mode="auto"``); a smaller graph is
# drawn whole with the rest dimmed. The w52 network (39 drawn nodes) stays whole; the iris
# 4-4-4-3 network's output (138 drawn of 157 nodes) gets its chains only.
CHAIN_ONLY_ABOVE = 60
CHAIN_ONLY_NOTE = "only the chains to the focus are drawn"
FOCUS_MODES = ("auto", "dim", "chain")
# A drawing left to choose its direction (``rankdir=None``) runs left to right, except a
# chain-only or edge-labelled drawing whose longest chain has more boxes than this: top to
# bottom, which keeps it near a notebook's width (the page scrolls down, not sideways; an
# edge's label widens its rank left to right, and sits beside the edge top to bottom).
LONG_CHAIN_BOXES = 9


class GraphTooLargeError(ValueError):
    """`draw_graph` refused a graph whose layout would exceed its ``max_nodes`` budget."""


# -- drawing ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StepOverlay:
    """What a stepper frame changes in a drawing: the text of every node's grad line
    (``grad_texts[id(node)]``) and the node whose backward step is active, if any."""

    grad_texts: Mapping[int, str]
    active: Any = None


_KIND_SHAPES = {
    # kind: (shape, style, border width)
    "root": ("record", "filled", "2.5"),
    "result": ("record", "filled", "1"),
    "parameter": ("Mrecord", "filled", "1"),
    "input": ("record", "filled", "1.6"),
    "constant": ("record", "filled,dashed", "1"),
}


def node_style(node: Any, root: Any, role: Optional[str] = None, theme: Theme = THEMES["light"]
               ) -> tuple[str, str, str, str]:
    """(kind, fill colour, shape, border width) of a node's record; see the module docstring.

    `role` is the leaf's role (`leaf_role` by default)."""
    if node is root:
        kind = "root"
    elif node.parents:
        kind = "result"
    else:
        kind = role or leaf_role(node)
    shape, _, pen = _KIND_SHAPES[kind]
    return kind, theme.fills[kind], shape, pen


LEGEND_ROW_CHARS = 90

_LEGEND_TEXT = {
    "input": "input", "parameter": "parameter (weight, bias)", "constant": "constant",
    "result": "computed value", "root": "root (output)",
}


def legend_label(overlay: Optional[StepOverlay], op_nodes: bool, kinds: Sequence[str] = ("input", "parameter", "constant", "result", "root"),
                 theme: Theme = THEMES["light"], focus_text: Optional[str] = None,
                 folded: Union[bool, Sequence[str]] = False, caption: Optional[str] = None) -> str:
    """An HTML-like table explaining the kinds of node present, drawn under the graph.

    `folded` lists the op labels with a constant folded in (``1/·``, ``· - 2``) that the
    drawing shows, so that the key names them (True: the generic ``1/·``)."""
    cells = []
    for kind in ("input", "parameter", "constant", "result", "root"):
        if kind not in kinds:
            continue
        shape, style, pen = _KIND_SHAPES[kind]
        extra = ' style="rounded"' if shape == "Mrecord" else ' style="dashed"' if "dashed" in style else ""
        border = "2" if kind == "root" else "1"
        cells.append((theme.fills[kind], _LEGEND_TEXT[kind], f' border="{border}"{extra}'))
    if op_nodes:
        examples = ["1/·"] if folded is True else list(folded or [])
        if len(examples) > 3:
            examples = examples[:3] + ["…"]
        text = f"operation ({', '.join(examples)}: a constant folded in)" if examples else "operation"
        cells.append((theme.fills["op"], text, ' border="1" style="rounded"'))
    else:
        cells.append((theme.fills["result"], "[op] = the operation that computed the box", ' border="0"'))
    if focus_text:
        cells.append((theme.dim_fill, focus_text, ' border="1"'))
    if overlay is not None:
        cells.append((theme.active_fill, "active step; grad ? = not reached yet", ' border="1"'))
    # Rows of at most about LEGEND_ROW_CHARS characters, so that the key is never what makes
    # a drawing wide.
    rows: list[list[tuple[str, str, str]]] = [[]]
    for cell in cells:
        if rows[-1] and sum(len(text) + 4 for _, text, _ in rows[-1]) + len(cell[1]) > LEGEND_ROW_CHARS:
            rows.append([])
        rows[-1].append(cell)
    tables = "".join(
        '<tr><td border="0" align="center"><table border="0" cellspacing="4" cellpadding="2" align="center"><tr>'
        + "".join(f'<td bgcolor="{colour}" color="{theme.border}"{extra}>'
                  f'<font color="{theme.text}">{_html(text)}</font></td>' for colour, text, extra in row)
        + "</tr></table></td></tr>" for row in rows)
    head = ""
    if caption:
        head = (f'<tr><td border="0"><font color="{theme.text}" point-size="12">'
                f'{_html(caption)}</font></td></tr>')
    return f'<<table border="0" cellspacing="0" cellpadding="0">{head}{tables}</table>>'


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _folded_op_text(node: Any, folded: set[int]) -> str:
    """The op's label with its folded constants written in: ``1/·``, ``· - 2``, ``max(·,0)``."""
    op = node.op or "?"
    if not any(id(p) in folded for p in node.parents):
        return op
    parts = [_constant_text(p) if id(p) in folded else "·" for p in node.parents]
    if op in ("+", "-") and len(parts) == 2:
        return f"{parts[0]} {op} {parts[1]}"  # spaced: "·-2" reads as a double dash
    if op in _INFIX and op != "max" and len(parts) == 2:
        return f"{parts[0]}{op}{parts[1]}"
    return f"{op}({','.join(parts)})"


def _constant_text(node: Any) -> str:
    data = node.data
    if isinstance(data, np.ndarray):
        data = float(data.reshape(-1)[0])
    return f"{data:.4g}"


_UNITS_PER_INCH = {"in": 1.0, "cm": 2.54, "mm": 25.4, "pt": 72.0, "px": 96.0}


def parse_width(width: Any) -> float:
    """`width` in inches: a number of inches, or a str with a unit (``"16cm"``, ``"160mm"``,
    ``"6in"``, ``"450pt"``, ``"800px"`` at 96 px per inch)."""
    if isinstance(width, bool):
        raise TypeError(f"width must be a length such as '16cm' or a number of inches, got {width!r}")
    if isinstance(width, (int, float)):
        inches = float(width)
    elif isinstance(width, str):
        found = re.fullmatch(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*(in|cm|mm|pt|px)\s*", width)
        if not found:
            raise ValueError(f"width must be a number with a unit (in, cm, mm, pt, px), such as "
                             f"'16cm', got {width!r}")
        inches = float(found.group(1)) / _UNITS_PER_INCH[found.group(2)]
    else:
        raise TypeError(f"width must be a length such as '16cm' or a number of inches, got {width!r}")
    if not 0.1 <= inches <= 1000:
        raise ValueError(f"width must be between 0.1 and 1000 inches, got {width!r}")
    return inches


@dataclass
class _Plan:
    """What a drawing shows, decided before any DOT is written (so that its size can be
    checked first)."""

    order: list[Any]
    position: dict[int, int]
    drawn: set[int]            # nodes drawn (not folded, not pruned)
    stubs: set[int]            # drawn without their op and inputs (parents of a kept chain)
    folded: set[int]           # constants written into their op
    chain: Optional[set[int]]  # with focus: the nodes on a chain from the root to it
    placement: Placement
    separate_ops: bool
    notes: list[str]
    chain_only: bool = False   # only the chains (and the inputs of their ops) are drawn


def _skeleton(plan: _Plan) -> tuple[list[str], list[tuple[str, str]]]:
    """The items and edges of a plan (ids as in the DOT source), for `layout_size`."""
    items: list[str] = []
    for ids in plan.placement.items.values():
        items.extend(ids)
    edges: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for node in plan.order:
        if id(node) not in plan.drawn or not node.parents or id(node) in plan.stubs:
            continue
        own = plan.placement.box_of.get(id(node))
        node_id = f"n{plan.position[id(node)]}"
        op_id = own or (f"{node_id}_op" if plan.separate_ops else node_id)
        if own is None and plan.separate_ops:
            items.append(op_id)
            edges.append((op_id, node_id))
        for parent in node.parents:
            if id(parent) not in plan.drawn:
                continue
            tail = plan.placement.box_of.get(id(parent), f"n{plan.position[id(parent)]}")
            if tail == op_id or (tail, op_id) in seen:
                continue
            seen.add((tail, op_id))
            edges.append((tail, op_id))
    return items, edges


def _chain_of(order: Sequence[Any], focus: Any) -> set[int]:
    """The nodes that depend on `focus` (it included): those on a chain from the root to it."""
    chain = {id(focus)}
    for node in order:
        if any(id(p) in chain for p in node.parents):
            chain.add(id(node))
    return chain


def _plan(root: Any, order: list[Any], *, cluster: bool, collapse: Sequence[str], op_nodes: Optional[bool],
          roles: Mapping[int, str], show_constants: bool, focus: Any, group_units: Optional[bool],
          max_nodes: Optional[int], edge_labels: bool, focus_mode: str = "auto") -> _Plan:
    """Decide what to draw; apply the node budget (see `draw_graph`)."""
    position = {id(node): i for i, node in enumerate(order)}
    folded = set()
    if not show_constants:
        for node in order:
            if node is not root and not node.parents and roles.get(id(node)) == "constant" \
                    and (not is_tensor_node(node) or node.data.size == 1):
                folded.add(id(node))
    drawn = {id(n) for n in order} - folded
    chain = _chain_of(order, focus) if focus is not None else None
    notes: list[str] = []

    def make(drawn: set[int], stubs: set[int], collapse: Sequence[str], units_allowed: bool) -> _Plan:
        auto_units = (group_units is None and len(drawn) <= LARGE_GRAPH_NODES) or group_units is True
        units = hidden_units(order, drawn, root) if (auto_units and units_allowed and not cluster
                                                     and not collapse) else {}
        placement = place_items(root, order, cluster, collapse, drawn=drawn, units=units)
        shown = len(drawn) - len(placement.box_of)  # the nodes outside collapsed boxes
        separate_ops = (shown <= LARGE_GRAPH_NODES) if op_nodes is None else op_nodes
        return _Plan(order, position, drawn, stubs, folded, chain, placement, separate_ops, notes)

    def chain_plan() -> _Plan:
        stubs = {id(p) for n in order if id(n) in chain for p in n.parents} - chain - folded
        reduced = make((chain | stubs) - folded, stubs, collapse, False)
        reduced.chain_only = True
        notes.append(CHAIN_ONLY_NOTE)
        return reduced

    chain_only = chain is not None and (
        focus_mode == "chain" or (focus_mode == "auto" and len(drawn) > CHAIN_ONLY_ABOVE))
    plan = chain_plan() if chain_only else make(drawn, set(), collapse, True)
    if max_nodes is None:
        return plan
    nodes, bends = layout_size(*_skeleton(plan), labelled_edges=edge_labels)
    if nodes + bends <= max_nodes:
        return plan
    first = (nodes, bends)
    if chain is not None and not plan.chain_only and focus_mode != "dim":
        plan = chain_plan()
        nodes, bends = layout_size(*_skeleton(plan), labelled_edges=edge_labels)
        if nodes + bends <= max_nodes:
            return plan
    if not collapse:
        modules = assign_modules(order)
        top = sorted({cluster_chain(m)[0] for m in set(modules.values())})
        if top:
            plan = make(plan.drawn, plan.stubs, top, False)
            nodes, bends = layout_size(*_skeleton(plan), labelled_edges=edge_labels)
            notes.append(f"collapsed by module: {', '.join(top)}")
            if nodes + bends <= max_nodes:
                return plan
    message = (f"this graph is too large to draw: {len(order):,} nodes, whose layout needs "
               f"{first[0]:,} nodes and {first[1]:,} edge bends (one per rank an edge crosses), "
               f"{sum(first):,} in all, over max_nodes={max_nodes:,}.")
    if notes:
        message += f" Reduced ({'; '.join(notes)}), it still needs {nodes + bends:,}."
    raise GraphTooLargeError(
        message + " Draw less of it: focus=node keeps only the chains from the root to one node; "
        "collapse=('layers.0', ...) draws a module as one box (cluster=True shows the modules; they "
        "come from parameter labels with module paths, as nn's modules give); or draw a smaller "
        "graph (fewer samples, one neuron). Or raise the budget, max_nodes=... (None: no budget; "
        f"the render still stops at its time limit, timeout={DEFAULT_TIMEOUT_S:g} s by default).")


def build_digraph(
    root: Any,
    *,
    rankdir: Optional[str] = "LR",
    cluster: bool = False,
    collapse: Sequence[str] = (),
    legend: bool = True,
    op_nodes: Optional[bool] = None,
    overlay: Optional[StepOverlay] = None,
    focus: Any = None,
    focus_mode: str = "auto",
    edge_labels: bool = False,
    roles: Optional[Mapping[Any, str]] = None,
    labels: Optional[Mapping[Any, str]] = None,
    show_constants: bool = False,
    group_units: Optional[bool] = None,
    theme: Union[str, Theme] = "light",
    size: Optional[str] = None,
    max_nodes: Optional[int] = DEFAULT_MAX_NODES,
    timeout: Optional[float] = DEFAULT_TIMEOUT_S,
    font: Optional[str] = None,
    caption: Optional[str] = None,
) -> GradientGraph:
    """The drawing behind `draw_graph` and the stepper's frames (arguments already checked,
    except `roles`, `labels` and `focus`, which need the graph). `caption` is a line written
    above the legend (the stepper's note on its picture); ``rankdir=None`` chooses it (see
    `draw_graph`)."""
    order = graph_nodes(root)
    theme = check_theme(theme)
    label_of = check_labels(labels, order)
    role_of = {id(n): leaf_role(n) for n in order if not n.parents}
    role_of.update(check_roles(roles, order))
    focus_node = find_node(order, focus, "focus", label_of) if focus is not None else None
    plan = _plan(root, order, cluster=cluster, collapse=collapse, op_nodes=op_nodes, roles=role_of,
                 show_constants=show_constants, focus=focus_node, group_units=group_units,
                 max_nodes=max_nodes, edge_labels=edge_labels, focus_mode=focus_mode)
    names = drawing_names(root, order, label_of)
    if rankdir is None:
        long = (plan.chain_only or edge_labels) and _longest_chain(plan) > LONG_CHAIN_BOXES
        rankdir = "TB" if long else "LR"
    position, placement, separate_ops, chain = plan.position, plan.placement, plan.separate_ops, plan.chain
    items, _ = _skeleton(plan)
    large = len(plan.drawn) - len(placement.box_of) > LARGE_GRAPH_NODES
    font = font or (MONO_FONT if overlay is not None else SANS_FONT)

    graph = GradientGraph(name="gradient_graph", format="svg")
    graph.timeout = timeout
    graph.drawn_nodes = len(items)
    graph.notes = list(plan.notes)
    graph.stub_items = frozenset(f"n{position[key]}" for key in plan.stubs)
    graph.direction = rankdir
    graph.attr(rankdir=rankdir, fontname=font, fontsize="11", fontcolor=theme.text,
               bgcolor=theme.background, labelloc="b", nodesep="0.1", ranksep="0.12")
    if size:
        graph.attr(size=size)
    if large:
        # newrank ranks the whole graph in one network-simplex pass, which with Graphviz 2.43
        # is over twice as fast here; nslimit caps the iterations that place nodes.
        graph.attr(newrank="true", nslimit="0.2", nslimit1="0.2")
    # Tight margins and rank gaps: a drawing is mostly text, and every point of padding
    # shrinks the text when the drawing is scaled to a slide or a README's width.
    graph.attr("node", fontname=font, fontsize="11", fontcolor=theme.text, color=theme.border,
               margin="0.04,0.01")
    graph.attr("edge", color=theme.edge, arrowsize="0.6", fontname=font, fontsize="9",
               fontcolor=theme.text)

    def dim(node_id_or_none: Any) -> bool:
        return chain is not None and node_id_or_none not in chain

    if legend:
        kinds = {"result", "root"} | {role_of[id(n)] for n in order if id(n) in plan.drawn and not n.parents}
        focus_text = None
        if focus_node is not None and plan.chain_only:
            left_out = len(order) - len(plan.drawn) - len(plan.folded)
            focus_text = (f"grey: other inputs of the chains' ops; {left_out:,} nodes off the "
                          f"chains from {names[id(root)]} to {names[id(focus_node)]} not drawn")
        elif focus_node is not None:
            focus_text = f"dimmed: off the chains from {names[id(root)]} to {names[id(focus_node)]}"
        folded_texts: list[str] = []
        if separate_ops:
            for node in order:
                if id(node) in plan.drawn and node.parents and id(node) not in plan.stubs:
                    text = _folded_op_text(node, plan.folded)
                    if text != (node.op or "?") and text not in folded_texts:
                        folded_texts.append(text)
        graph.attr(label=legend_label(overlay, separate_ops, sorted(kinds), theme, focus_text,
                                      folded=folded_texts, caption=caption))

    active_id = f"n{position[id(overlay.active)]}" if overlay and overlay.active is not None else None

    def add_items(target: graphviz.Digraph, item_ids: Iterable[str]) -> None:
        """Declare each item: a collapsed box, or a node's record and its op node."""
        for item in item_ids:
            if item.startswith("c"):
                members = placement.box_members[item]
                n_params = sum(1 for m in members if not m.parents and role_of.get(id(m)) == "parameter")
                dimmed = chain is not None and not any(id(m) in chain for m in members)
                target.node(item, escape_label_text(f"{placement.box_names[item]}\n{len(members)} "
                                                    f"nodes inside, {n_params} parameters"),
                            shape="box3d", style="filled",
                            fillcolor=theme.dim_fill if dimmed else theme.fills["collapsed"],
                            **({"fontcolor": theme.dim_text, "color": theme.dim_edge} if dimmed else {}),
                            **{"class": "collapsed dimmed" if dimmed else "collapsed"})
                continue
            node = order[int(item[1:])]
            stub = id(node) in plan.stubs
            grad_text = overlay.grad_texts[id(node)] if overlay is not None else None
            if stub:
                # An input of a chain's op, drawn for the value its formula uses: its name and
                # data (its gradient is not on the chain, its op and inputs are not drawn).
                fields = node_fields(node, display_name(node, names, label_of))[:-1]
            else:
                fields = node_fields(node, display_name(node, names, label_of), grad_text,
                                     with_op=not separate_ops, op_text=_folded_op_text(node, plan.folded))
            kind, colour, shape, pen = node_style(node, root, role_of.get(id(node)), theme)
            style = _KIND_SHAPES[kind][1]
            classes = [kind]
            attrs: dict[str, str] = {}
            if dim(id(node)):
                classes.append("dimmed")
                colour = theme.dim_fill
                attrs.update(fontcolor=theme.dim_text, color=theme.dim_edge)
            elif chain is not None:
                classes.append("chain")
            if focus_node is node:
                classes.append("focus")
                attrs.update(color=theme.focus)
                pen = "3"
            if item == active_id:
                classes.append("active")
                attrs.update(color=theme.active_edge)
                colour, pen = theme.active_fill, "3"
            target.node(item, record_label(fields, rankdir), shape=shape, style=style,
                        fillcolor=colour, penwidth=pen, **attrs, **{"class": " ".join(classes)})
            if node.parents and separate_ops and not stub:
                op_classes = ["op"]
                op_attrs: dict[str, str] = {}
                if dim(id(node)):
                    op_classes.append("dimmed")
                    op_attrs.update(fontcolor=theme.dim_text, color=theme.dim_edge, fillcolor=theme.dim_fill)
                if item == active_id:
                    op_classes.append("active")
                    op_attrs.update(color=theme.active_edge, penwidth="2.5")
                target.node(f"{item}_op", escape_label_text(_folded_op_text(node, plan.folded)),
                            shape="ellipse", style="filled", fontsize="10", width="0.3", height="0.25",
                            margin="0.03,0.01", **{"fillcolor": theme.fills["op"], **op_attrs,
                                                   "class": " ".join(op_classes)})

    def add_cluster(target: graphviz.Digraph, path: Optional[str]) -> None:
        """Declare the items of cluster `path`, then its sub-clusters, nested inside it."""
        add_items(target, placement.items[path])
        for child in placement.children[path]:
            with target.subgraph(name=f"cluster_{placement.index[child]}") as sub:
                if child in placement.units:
                    # A layout group: it keeps a hidden unit's nodes together, drawn faintly.
                    sub.attr(label="", style="rounded,filled", fillcolor=theme.fills["unit"],
                             color=theme.fills["unit"], margin="3")
                else:
                    sub.attr(label=escape_label_text(child), style="rounded,filled",
                             fillcolor=theme.fills["cluster"], color=theme.cluster_border,
                             labeljust="l", fontcolor=theme.text)
                add_cluster(sub, child)

    add_cluster(graph, None)

    edge_texts = _edge_texts(root, order, names, plan) if edge_labels else {}
    drawn_box_edges: set[tuple[str, str]] = set()
    for node in order:
        if id(node) not in plan.drawn or not node.parents or id(node) in plan.stubs:
            continue
        own = placement.box_of.get(id(node))
        node_id = f"n{position[id(node)]}"
        op_id = own or (f"{node_id}_op" if separate_ops else node_id)
        base: dict[str, str] = {}
        if dim(id(node)):
            base = {"color": theme.dim_edge, "class": "dimmed"}
        elif chain is not None:
            base = {"penwidth": "1.6", "class": "chain"}
        if node_id == active_id:
            base = {"color": theme.active_edge, "penwidth": "2.5", "class": "active"}
        if own is None and separate_ops:
            graph.edge(op_id, node_id, **base)
        for index, parent in enumerate(node.parents):
            if id(parent) not in plan.drawn:
                continue
            tail = placement.box_of.get(id(parent), f"n{position[id(parent)]}")
            if tail == op_id:
                continue  # an edge inside one collapsed box
            if own is not None or tail.startswith("c"):
                if (tail, op_id) in drawn_box_edges:
                    continue
                drawn_box_edges.add((tail, op_id))
            attrs = dict(base)
            if chain is not None and node_id != active_id:
                attrs = ({"color": theme.dim_edge, "class": "dimmed"} if id(parent) not in chain
                         else base)
            text = edge_texts.get((id(node), index))
            # Labels go on the chain's edges only when there is a focus: the others would
            # crowd and widen the drawing with numbers that are not the question's.
            if text and own is None and not tail.startswith("c") and attrs.get("class") != "dimmed":
                attrs["label"] = escape_label_text(text)
            graph.edge(tail, op_id, **attrs)
    return graph


def _longest_chain(plan: _Plan) -> int:
    """The most boxes (drawn nodes) on one path of the drawing."""
    depth: dict[int, int] = {}
    for node in plan.order:
        if id(node) not in plan.drawn:
            continue
        inputs = [] if id(node) in plan.stubs else [depth[id(p)] for p in node.parents if id(p) in depth]
        depth[id(node)] = 1 + max(inputs, default=0)
    return max(depth.values(), default=0)


def _edge_texts(root: Any, order: Sequence[Any], names: Mapping[int, str], plan: _Plan) -> dict[tuple[int, int], str]:
    """The text on each edge parent -> node, keyed by (id(node), parent index): the local
    derivative d(node)/d(parent) as the op's declaration writes it and its value, and the
    contribution the edge carries to dL/d(parent), upstream x local, from the backward trace."""
    seed = None
    if is_tensor_node(root) and root.data.size != 1:
        seed = np.ones_like(root.data)
    steps = trace_backward(root, seed) if root.parents else []
    by_node = {id(step.node): step for step in steps}
    out: dict[tuple[int, int], str] = {}
    root_name = names[id(root)]
    for node in order:
        if id(node) not in plan.drawn or not node.parents or id(node) in plan.stubs:
            continue
        parent_names = [names[id(p)] for p in node.parents]
        formulas = _formulas(node, parent_names, names[id(node)])
        step = by_node.get(id(node))
        sent = list(step.parents) if step is not None else []
        for index, parent in enumerate(node.parents):
            if id(parent) in plan.folded or (plan.chain is not None and id(parent) not in plan.chain):
                continue
            part = sent[index] if index < len(sent) and sent[index].parent is parent else \
                next((s for s in sent if s.parent is parent), None)
            local = part.local if part is not None else None
            formula = formulas[index] if index < len(formulas) else None
            head = f"∂{names[id(node)]}/∂{parent_names[index]}"
            local_text = format_quantity(local) if local is not None else None
            if formula and local_text and formula != local_text:
                first = f"{head} = {formula} = {local_text}"
            else:
                first = f"{head} = {formula or local_text or '?'}"
            if part is None or part.contribution is None:
                second = "carries no gradient"
            elif local is not None and step is not None:
                second = (f"{format_quantity(step.upstream)} × {local_text} = "
                          f"{format_quantity(part.contribution)}")
            else:
                second = f"d{root_name}/d{parent_names[index]} += {format_quantity(part.contribution)}"
            out[(id(node), index)] = f"{first}\n{second}"
    return out


def _formulas(node: Any, parent_names: list[str], out_name: str) -> tuple[str, ...]:
    """The local derivatives of `node`'s op as its declaration writes them (elementwise ops,
    ``node.rule``), or the matrix-calculus text registered for a tensor op; () otherwise."""
    from autograd_core import ops

    rule = getattr(node, "rule", None)
    if rule is not None and getattr(rule, "arity", None) == len(parent_names):
        return tuple(rule.formulas(parent_names, out_name))
    matrix = getattr(ops, "TENSOR_FORMULAS", {}).get(node.op)
    if matrix is not None and len(matrix) >= len(parent_names):
        return tuple(matrix[:len(parent_names)])
    return ()


def draw_graph(
    root: Any,
    rankdir: Optional[str] = None,
    *,
    cluster: bool = False,
    collapse: Sequence[str] = (),
    legend: bool = True,
    op_nodes: Optional[bool] = None,
    focus: Any = None,
    chain_only: Optional[bool] = None,
    focus_mode: Optional[str] = None,
    edge_labels: bool = False,
    roles: Optional[Mapping[Any, str]] = None,
    labels: Optional[Mapping[Any, str]] = None,
    show_constants: bool = False,
    group_units: Optional[bool] = None,
    theme: Union[str, Theme] = "light",
    width: Union[str, float, None] = None,
    size: Optional[str] = None,
    max_nodes: Optional[int] = DEFAULT_MAX_NODES,
    timeout: Optional[float] = DEFAULT_TIMEOUT_S,
    heat: Optional[str] = None,
) -> GradientGraph:
    """Draw the computation graph that ends in `root` (a `Value` or a `Tensor`).

    ``heat="grad"`` fills each node by its |grad| on a log scale (`viz.heat`).

    Each node is a record showing its label (or expression name), data and grad (``.4g``);
    a Tensor node also shows its shape and dtype, and its values when it has at most 6
    elements, else their min/mean/max. Each computed node is fed by a small op node.
    Inputs, parameters and constants are drawn apart (the module docstring gives the rule).

    Layout: `rankdir` is Graphviz's direction, "LR", "RL", "TB" or "BT"; by default (None)
    "LR", except a chain-only or edge-labelled drawing (below) whose longest chain has more
    than `LONG_CHAIN_BOXES` boxes, which runs "TB" to stay near a notebook's width (the w52
    drawing with edge labels: 1,040 pt wide instead of 2,207 pt). ``graph.direction`` says
    which.
    ``cluster=True`` groups the nodes of each module into a box, using parameter labels such
    as ``layers.0.neurons.1.w.2`` (see `assign_modules`); ``collapse=("layers.0",)`` draws
    each named cluster as one box. Without clusters, `group_units` keeps each hidden unit's
    nodes together (`hidden_units`), so fewer edges cross: True, False, or None (default: on
    up to `LARGE_GRAPH_NODES` nodes). `op_nodes`: draw each op as its own small node (True)
    or inside its node's record as ``[op] name`` (False); by default own nodes up to
    `LARGE_GRAPH_NODES` nodes, inside the records above that.

    What is shown:

    - ``focus=node`` (a node, or the label of exactly one node) picks out the chains from
      `root` to `node`, those that dL/d(node) flows along; the focused node gets a strong
      border. How the rest is shown, ``focus_mode``:

      - ``"dim"``: the whole graph, every node and edge off the chains dimmed (SVG classes
        ``chain``/``dimmed``);
      - ``"chain"`` (or ``chain_only=True``): only the nodes on the chains, plus the direct
        inputs of their ops (in grey, name and data: the values the chain's formulas use);
        everything else is left out. The iris 4-4-4-3 network's chain to one weight is 43
        boxes (27 on the chains, 16 inputs of their ops) of its 157 nodes, top to bottom;
      - ``"auto"`` (the default): "chain" for a graph of more than `CHAIN_ONLY_ABOVE` drawn
        nodes, else "dim" (the w52 network, 39 drawn nodes, is drawn whole).

      ``graph.notes`` says when only the chains are drawn.
    - ``edge_labels=True`` writes on each edge parent -> op its local derivative, as the op's
      declaration writes it and its value (``∂u5/∂w25 = x2 = 3.5``), and the contribution it
      carries to dL/d(parent), upstream x local, from `autograd_core.trace_backward`. With
      a focus, only the chains' edges are labelled.
    - ``roles={node: "input" | "parameter" | "constant"}`` overrides the role of leaves (for
      a module's parameters: ``dict.fromkeys(model.parameters(), "parameter")``). A key may
      also be a label; a list of (node, role) pairs does for nodes that are not hashable.
    - ``labels={node: "name"}`` draws a node under another name (in expressions too), e.g.
      a weight as the question names it (same forms as `roles`).
    - constants are folded into the op that uses them (``1/u`` is one op node ``1/·`` with u
      its only input); ``show_constants=True`` draws them as nodes.
    - `legend` adds a key under the graph; `theme` is "light" (default), "dark" or "print"
      (greyscale; kinds differ by shade and shape).

    Size: ``width="16cm"`` (in, cm, mm, pt, px; or a number of inches) scales the whole
    drawing to exactly that width, text included, for a slide or a paper column;
    ``size="7.5,10"`` passes Graphviz's own size attribute instead (an upper bound).

    Never hangs: a drawing whose layout would exceed `max_nodes` layout nodes (nodes plus the
    bends of edges spanning several ranks, `layout_size`) is reduced (with `focus`, only the
    chain and the inputs of its ops are drawn; a network with module labels is collapsed by
    module) or refused with `GraphTooLargeError`, which says what to do, in well under a
    second; ``max_nodes=None`` lifts the budget. Rendering it stops after `timeout` seconds
    (None: no limit) with `viz.render.RenderTimeoutError`. ``graph.notes`` says what was
    reduced.

    Returns a `GradientGraph` (a `graphviz.Digraph`) that renders with or without Graphviz's
    ``dot`` executable: display it in Jupyter (SVG and PNG), or call `save`, ``.pipe()``,
    ``.render()``.
    """
    if rankdir is not None:
        check_rankdir(rankdir)
    mode = check_focus_mode(focus_mode, chain_only)
    for name, value in (("cluster", cluster), ("legend", legend), ("edge_labels", edge_labels),
                        ("show_constants", show_constants)):
        if not isinstance(value, bool):
            raise TypeError(f"{name} must be True or False, got {value!r}")
    for name, value in (("op_nodes", op_nodes), ("group_units", group_units)):
        if value is not None and not isinstance(value, bool):
            raise TypeError(f"{name} must be True, False or None (automatic), got {value!r}")
    if isinstance(collapse, str) or not all(isinstance(c, str) for c in collapse):
        raise TypeError(f"collapse must be a sequence of cluster names such as ('layers.0',), "
                        f"got {collapse!r}")
    if max_nodes is not None and (isinstance(max_nodes, bool) or not isinstance(max_nodes, int)
                                  or max_nodes < 1):
        raise ValueError(f"max_nodes must be a positive int or None (no budget), got {max_nodes!r}")
    timeout = check_timeout(timeout)
    check_theme(theme)
    if width is not None and size is not None:
        raise ValueError("give width (an exact width, such as '16cm') or size (Graphviz's upper "
                         "bound, such as '7.5,10'), not both")
    if size is not None and (not isinstance(size, str)
                             or not re.fullmatch(r"\s*\d*\.?\d+\s*(,\s*\d*\.?\d+\s*)?!?\s*", size)):
        raise ValueError(f"size must be Graphviz's size attribute in inches, such as '7.5,10' or "
                         f"'7.5,10!', got {size!r}")
    graph_size = size
    if width is not None:
        # Exactly `width` wide: "!" scales up as well as down, and the height bound is loose.
        graph_size = f"{parse_width(width):.4g},1000!"
    graph = build_digraph(root, rankdir=rankdir, cluster=cluster, collapse=tuple(collapse),
                          legend=legend, op_nodes=op_nodes, focus=focus, focus_mode=mode,
                          edge_labels=edge_labels,
                          roles=roles, labels=labels, show_constants=show_constants,
                          group_units=group_units, theme=theme, size=graph_size,
                          max_nodes=max_nodes, timeout=timeout)
    if heat is not None:
        from viz.heat import apply_heat

        apply_heat(graph, root, heat)
    return graph


PathLike = Union[str, "os.PathLike[str]"]

SAVE_FORMATS = ("svg", "png", "pdf")


def save(root_or_graph: Any, path: PathLike, *, dpi: Optional[float] = None,
         timeout: Union[float, None, Literal["default"]] = "default", **draw_options: Any) -> pathlib.Path:
    """Write a gradient graph to `path` as SVG, PNG or PDF, chosen by its suffix; return the path.

    `root_or_graph` is a Value/Tensor root (drawn with ``draw_graph(root, **draw_options)``,
    e.g. ``theme="print", width="16cm"``), a graph already drawn with `draw_graph`, or any
    `graphviz` graph. `dpi` sets a PNG's resolution (96 by default; 300 for print). Rendered
    by pygraphviz's bundled Graphviz (Graphviz's executable where pygraphviz is missing),
    stopped after `timeout` seconds (default: the graph's own, 20 s).
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or a path, got {type(path).__name__}")
    target = pathlib.Path(path)
    format = target.suffix.lower().lstrip(".")
    if format not in SAVE_FORMATS:
        raise ValueError(f"save writes .svg, .png or .pdf, chosen by the suffix; got {str(target)!r}")
    dpi = check_dpi(dpi)
    if dpi is not None and format not in RASTER_FORMATS:
        raise ValueError(f"dpi applies to a .png; {format.upper()} is a vector format (use width=... "
                         f"to set its size)")
    if not target.parent.is_dir():
        raise FileNotFoundError(f"cannot write {str(target)!r}: the folder "
                                f"{str(target.parent)!r} does not exist")
    if isinstance(root_or_graph, (graphviz.Graph, graphviz.Digraph, graphviz.Source)):
        if draw_options:
            raise TypeError(f"drawing options ({', '.join(sorted(draw_options))}) apply to a root; "
                            f"this graph is drawn already")
        source, engine = root_or_graph.source, root_or_graph.engine
        own_timeout = getattr(root_or_graph, "timeout", DEFAULT_TIMEOUT_S)
    else:
        drawn = draw_graph(root_or_graph, **draw_options)
        source, engine, own_timeout = drawn.source, "dot", drawn.timeout
    limit = own_timeout if timeout == "default" else check_timeout(timeout)
    results, _ = render_jobs(source, [(format, dpi)], engine, prefer="pygraphviz", timeout=limit)
    target.write_bytes(next(iter(results.values())))
    return target


def save_svg(root_or_graph: Any, path: PathLike) -> pathlib.Path:
    """Write the gradient graph of `root_or_graph` (a Value/Tensor root, or a graph already
    drawn with `draw_graph` or any `graphviz` graph) to `path` as SVG; return the path.

    `save` is the general form (SVG, PNG, PDF and the drawing options). Raises
    `viz.render.RendererUnavailableError`, naming both fixes, when no renderer is available.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or a path, got {type(path).__name__}")
    target = pathlib.Path(path)
    if target.suffix.lower() != ".svg":
        raise ValueError(f"save_svg writes SVG, so the path must end in .svg; got {str(target)!r}")
    return save(root_or_graph, target)


__all__ = [
    "draw_graph", "save", "save_svg", "build_digraph", "GraphTooLargeError", "Theme", "THEMES",
    "leaf_role", "hidden_units", "layout_size", "DEFAULT_MAX_NODES", "LARGE_GRAPH_NODES",
    "CHAIN_ONLY_ABOVE", "FOCUS_MODES",
]

