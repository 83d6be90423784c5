"""Gradient graphs: a computation graph (of `Value`s or `Tensor`s) drawn with Graphviz.

Every node of the graph becomes a *record* box showing its name, data and grad, fed by a
small op node ("*", "tanh", ...), as in micrograd's ``trace_graph``. Node kinds are told
apart by colour and shape (the legend under the drawing says the same):

- grey box: an unlabelled leaf (a constant or an input),
- blue rounded box: a labelled leaf (a parameter or a named input),
- white box: a computed value,
- orange box with a thick border: the root (the value that was differentiated),
- small yellow ellipse: the operation that computed the box it points to.

The DOT source is deterministic: node ids are positions in
``autograd_core.topological_order(root)`` (``n0``, ``n1``, ...; the op feeding node ``nK`` is
``nK_op``), never ``id()``, so the same graph always gives byte-identical source.
"""

from __future__ import annotations

import numbers
import os
import pathlib
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Optional, Sequence, Union

import graphviz
import numpy as np

from autograd_core.graph import topological_order
from autograd_core.trace import node_names
from viz.render import GradientGraph, render_source

RANKDIRS = ("LR", "RL", "TB", "BT")

# Above this many nodes `draw_graph` folds each op into its node's record (unless told
# otherwise) and caps Graphviz's network-simplex iterations: dot's layout time grows much
# faster than linearly, and a separate op node per value doubles the nodes, the ranks and
# the long edges it must route (a 4,500-node MLP graph: ~10 s of dot with op nodes, ~2.5 s
# without, ~1 s with the attributes `build_digraph` adds for large graphs).
LARGE_GRAPH_NODES = 1000

LEAF_COLOUR = "#e8e8e8"
PARAMETER_COLOUR = "#cfe8fc"
RESULT_COLOUR = "#ffffff"
ROOT_COLOUR = "#ffd8a8"
OP_COLOUR = "#fff4c2"
CLUSTER_COLOUR = "#f6f6fb"
COLLAPSED_COLOUR = "#e4dcf5"
ACTIVE_COLOUR = "#fff176"
ACTIVE_EDGE_COLOUR = "#d32f2f"

SANS_FONT = "Helvetica,Arial,sans-serif"
# Step frames use a fixed-width font: with every text padded to a fixed length, node
# sizes, and therefore the whole layout, stay the same from frame to frame.
MONO_FONT = "Courier,monospace"

_REQUIRED_ATTRIBUTES = ("parents", "op", "label", "data", "grad")

NO_BREAK_SPACE = "\u00a0"
# Spaces that Graphviz would drop: at the start or end of a line, or after another space.
_KEPT_SPACES = re.compile(r"^ +| +$|(?<= ) +", re.MULTILINE)


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
                with_op: bool = False) -> list[str]:
    """The lines of a node's record: its name (if any), [shape and dtype,] data and grad.

    `with_op` puts the node's op in the first line (``[tanh] h1``), for drawings that fold
    op nodes into the records.
    """
    if with_op and node.parents:
        name = f"[{node.op or '?'}] {name}".rstrip()
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


def display_name(node: Any, names: Mapping[int, str]) -> str:
    """The header of a node's record: its label, the expression name of an unlabelled
    result (as the stepper's text calls it), and nothing for an unlabelled leaf, whose
    value is already its data line."""
    if node.label:
        return node.label
    return names[id(node)] if node.parents else ""


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


def graph_nodes(root: Any) -> list[Any]:
    """`topological_order(root)` after checking that every node can be drawn."""
    check_node(root, "root")
    order = topological_order(root)
    for position, node in enumerate(order):
        check_node(node, f"node {position} of the graph")
    return order


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


@dataclass
class Placement:
    """Where each drawn item goes: the items (``nK`` node ids, ``cK`` collapsed boxes) directly
    in each cluster (None: the top level), each cluster's sub-clusters, and the members of
    each collapsed box."""

    items: dict[Optional[str], list[str]] = field(default_factory=lambda: {None: []})
    children: dict[Optional[str], list[str]] = field(default_factory=lambda: {None: []})
    index: dict[str, int] = field(default_factory=dict)
    box_of: dict[int, str] = field(default_factory=dict)  # id(node) -> its box's id
    box_members: dict[str, list[Any]] = field(default_factory=dict)
    box_names: dict[str, str] = field(default_factory=dict)

    def add_cluster(self, path: str, parent: Optional[str]) -> None:
        """Open cluster `path` inside `parent` unless it is already open."""
        if path not in self.index:
            self.index[path] = len(self.index)
            self.items[path], self.children[path] = [], []
            self.children[parent].append(path)


def place_items(root: Any, order: Sequence[Any], cluster: bool, collapse: Sequence[str]) -> Placement:
    """Assign every node to its cluster (when `cluster`) or to a collapsed box (`collapse`).

    A collapsed cluster's outputs (nodes used outside it, and the root) stay drawn beside
    its box: the box then has one edge per output instead of one per use of an output, and
    dot lays out a node with a thousand edges very slowly.
    """
    modules = assign_modules(order) if (cluster or collapse) else {}
    known = {c for m in set(modules.values()) for c in cluster_chain(m)}
    unknown = [c for c in collapse if c not in known]
    if unknown:
        listed = ", ".join(sorted(known)[:12]) or "none: no parameter label has a module path"
        raise ValueError(f"collapse names unknown cluster(s) {unknown}; this graph's clusters are: {listed}")
    box_ids = {name: f"c{i}" for i, name in enumerate(sorted(set(collapse)))}
    chains = {id(n): cluster_chain(modules[id(n)]) if id(n) in modules else [] for n in order}
    box_name = {key: next((c for c in chain if c in box_ids), None) for key, chain in chains.items()}
    outputs = {id(p) for node in order for p in node.parents
               if box_name[id(p)] is not None and box_name[id(p)] != box_name[id(node)]}
    outputs.add(id(root))

    placement = Placement(box_names={i: name for name, i in box_ids.items()})
    for position, node in enumerate(order):
        chain, box = chains[id(node)], box_name[id(node)]
        parent = None
        if cluster:
            for path in (chain[:chain.index(box)] if box else chain):
                placement.add_cluster(path, parent)
                parent = path
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


# -- drawing ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StepOverlay:
    """What a stepper frame changes in a drawing: the text of every node's grad line
    (``grad_texts[id(node)]``) and the node whose backward step is active, if any."""

    grad_texts: Mapping[int, str]
    active: Any = None


def node_style(node: Any, root: Any) -> tuple[str, str, str, str]:
    """(kind, fill colour, shape, border width) of a node's record; see the module docstring."""
    if node is root:
        return "root", ROOT_COLOUR, "record", "2.5"
    if node.parents:
        return "result", RESULT_COLOUR, "record", "1"
    if node.label:
        return "parameter", PARAMETER_COLOUR, "Mrecord", "1"
    return "leaf", LEAF_COLOUR, "record", "1"


def legend_label(overlay: Optional[StepOverlay], op_nodes: bool) -> str:
    """An HTML-like table explaining the colours, drawn under the graph."""
    cells = [
        (LEAF_COLOUR, "constant / input leaf", ' border="1"'),
        (PARAMETER_COLOUR, "labelled leaf (parameter)", ' border="1" style="rounded"'),
        (RESULT_COLOUR, "computed value", ' border="1"'),
        (ROOT_COLOUR, "root (output)", ' border="2"'),
    ]
    if op_nodes:
        cells.append((OP_COLOUR, "operation", ' border="1" style="rounded"'))
    else:
        cells.append((RESULT_COLOUR, "[op] = the operation that computed the box", ' border="0"'))
    if overlay is not None:
        cells.append((ACTIVE_COLOUR, "active step; grad ? = not reached yet", ' border="1"'))
    row = "".join(f'<td bgcolor="{colour}"{extra}>{text}</td>' for colour, text, extra in cells)
    return f'<<table border="0" cellspacing="6" cellpadding="3"><tr>{row}</tr></table>>'


def build_digraph(
    root: Any,
    *,
    rankdir: str = "LR",
    cluster: bool = False,
    collapse: Sequence[str] = (),
    legend: bool = True,
    op_nodes: Optional[bool] = None,
    overlay: Optional[StepOverlay] = None,
) -> GradientGraph:
    """The drawing behind `draw_graph` and the stepper's frames (arguments already checked)."""
    order = graph_nodes(root)
    names = node_names(root)
    position = {id(node): i for i, node in enumerate(order)}
    large = len(order) > LARGE_GRAPH_NODES
    separate_ops = (not large) if op_nodes is None else op_nodes
    mono = overlay is not None
    graph = GradientGraph(name="gradient_graph", format="svg")
    graph.attr(rankdir=rankdir, fontname=MONO_FONT if mono else SANS_FONT, fontsize="11",
               labelloc="b", nodesep="0.25", ranksep="0.35")
    if large:
        # newrank ranks the whole graph in one network-simplex pass, which with Graphviz 2.43
        # is over twice as fast here; nslimit caps the iterations that place nodes.
        graph.attr(newrank="true", nslimit="0.2", nslimit1="0.2")
    graph.attr("node", fontname=MONO_FONT if mono else SANS_FONT, fontsize="11")
    graph.attr("edge", color="#555555", arrowsize="0.6")
    if legend:
        graph.attr(label=legend_label(overlay, separate_ops))

    placement = place_items(root, order, cluster, collapse)
    active_id = f"n{position[id(overlay.active)]}" if overlay and overlay.active is not None else None

    def add_items(target: graphviz.Digraph, item_ids: Iterable[str]) -> None:
        """Declare each item: a collapsed box, or a node's record and its op node."""
        for item in item_ids:
            if item.startswith("c"):
                members = placement.box_members[item]
                n_params = sum(1 for m in members if not m.parents and m.label)
                target.node(item, escape_label_text(f"{placement.box_names[item]}\n{len(members)} "
                                                    f"nodes inside, {n_params} parameters"),
                            shape="box3d", style="filled", fillcolor=COLLAPSED_COLOUR,
                            **{"class": "collapsed"})
                continue
            node = order[int(item[1:])]
            grad_text = overlay.grad_texts[id(node)] if overlay is not None else None
            fields = node_fields(node, display_name(node, names), grad_text,
                                 with_op=not separate_ops)
            kind, colour, shape, pen = node_style(node, root)
            attrs = {"class": kind}
            if item == active_id:
                attrs = {"class": f"{kind} active", "color": ACTIVE_EDGE_COLOUR}
                colour, pen = ACTIVE_COLOUR, "3"
            target.node(item, record_label(fields, rankdir), shape=shape, style="filled",
                        fillcolor=colour, penwidth=pen, **attrs)
            if node.parents and separate_ops:
                op_attrs = {"class": "op active", "color": ACTIVE_EDGE_COLOUR, "penwidth": "2.5"} \
                    if item == active_id else {"class": "op"}
                target.node(f"{item}_op", escape_label_text(node.op or "?"), shape="ellipse", style="filled",
                            fillcolor=OP_COLOUR, fontsize="10", width="0.3", height="0.25",
                            margin="0.03,0.01", **op_attrs)

    def add_cluster(target: graphviz.Digraph, path: Optional[str]) -> None:
        """Declare the items of cluster `path`, then its sub-clusters, nested inside it."""
        add_items(target, placement.items[path])
        for child in placement.children[path]:
            with target.subgraph(name=f"cluster_{placement.index[child]}") as sub:
                sub.attr(label=escape_label_text(child), style="rounded,filled", fillcolor=CLUSTER_COLOUR,
                         color="#9999bb", labeljust="l")
                add_cluster(sub, child)

    add_cluster(graph, None)

    drawn_box_edges: set[tuple[str, str]] = set()
    for node in order:
        if not node.parents:
            continue
        own = placement.box_of.get(id(node))
        node_id = f"n{position[id(node)]}"
        op_id = own or (f"{node_id}_op" if separate_ops else node_id)
        edge_attrs = {"color": ACTIVE_EDGE_COLOUR, "penwidth": "2.5", "class": "active"} \
            if node_id == active_id else {}
        if own is None and separate_ops:
            graph.edge(op_id, node_id, **edge_attrs)
        for parent in node.parents:
            tail = placement.box_of.get(id(parent), f"n{position[id(parent)]}")
            if tail == op_id:
                continue  # an edge inside one collapsed box
            if own is not None or tail.startswith("c"):
                if (tail, op_id) in drawn_box_edges:
                    continue
                drawn_box_edges.add((tail, op_id))
            graph.edge(tail, op_id, **edge_attrs)
    return graph


def draw_graph(
    root: Any,
    rankdir: str = "LR",
    *,
    cluster: bool = False,
    collapse: Sequence[str] = (),
    legend: bool = True,
    op_nodes: Optional[bool] = None,
) -> GradientGraph:
    """Draw the computation graph that ends in `root` (a `Value` or a `Tensor`).

    Each node is a record showing its label (or expression name), data and grad (``.4g``);
    a Tensor node also shows its shape and dtype, and its values when it has at most 6
    elements, else their min/mean/max. Each computed node is fed by a small op node.

    `rankdir` is Graphviz's layout direction: "LR" (default), "RL", "TB" or "BT".
    ``cluster=True`` groups the nodes of each module into a box, using parameter labels
    such as ``layers.0.neurons.1.w.2`` (see `assign_modules`); ``collapse=("layers.0",)``
    draws each named cluster as one box. `legend` adds a colour key under the graph.
    `op_nodes`: draw each op as its own small node (True) or inside its node's record as
    ``[op] name`` (False); by default, own nodes up to `LARGE_GRAPH_NODES` nodes, inside
    the records above that, where separate op nodes would make the layout several times
    slower.

    Returns a `GradientGraph` (a `graphviz.Digraph`) that renders with or without Graphviz's
    ``dot`` executable: display it in Jupyter, or call `save_svg`, ``.pipe()``, ``.render()``.
    """
    check_rankdir(rankdir)
    if not isinstance(cluster, bool):
        raise TypeError(f"cluster must be True or False, got {cluster!r}")
    if not isinstance(legend, bool):
        raise TypeError(f"legend must be True or False, got {legend!r}")
    if op_nodes is not None and not isinstance(op_nodes, bool):
        raise TypeError(f"op_nodes must be True, False or None (automatic), got {op_nodes!r}")
    if isinstance(collapse, str) or not all(isinstance(c, str) for c in collapse):
        raise TypeError(f"collapse must be a sequence of cluster names such as ('layers.0',), "
                        f"got {collapse!r}")
    return build_digraph(root, rankdir=rankdir, cluster=cluster, collapse=tuple(collapse),
                         legend=legend, op_nodes=op_nodes)


PathLike = Union[str, "os.PathLike[str]"]


def save_svg(root_or_graph: Any, path: PathLike) -> pathlib.Path:
    """Write the gradient graph of `root_or_graph` (a Value/Tensor root, or a graph already
    drawn with `draw_graph` or any `graphviz` graph) to `path` as SVG; return the path.

    Renders with Graphviz's ``dot`` when it is on PATH, else with pygraphviz; raises
    `viz.render.RendererUnavailableError`, naming both fixes, when neither is available.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or a path, got {type(path).__name__}")
    target = pathlib.Path(path)
    if target.suffix.lower() != ".svg":
        raise ValueError(f"save_svg writes SVG, so the path must end in .svg; got {str(target)!r}")
    if not target.parent.is_dir():
        raise FileNotFoundError(f"cannot write {str(target)!r}: the folder "
                                f"{str(target.parent)!r} does not exist")
    if isinstance(root_or_graph, (graphviz.Graph, graphviz.Digraph, graphviz.Source)):
        source, engine = root_or_graph.source, root_or_graph.engine
    else:
        source, engine = draw_graph(root_or_graph).source, "dot"
    svg, _ = render_source(source, "svg", engine)
    target.write_bytes(svg)
    return target
