"""The backward pass, one step at a time: a drawing per step and an HTML player for them all.

Step k is the k-th application of the chain rule by ``root.backward()``, as listed by
``autograd_core.trace_backward(root)``; step 0 is the forward pass alone. In the drawing of
step k the active node, its op and its edges to its parents are highlighted, and each
node's grad line shows what it has received in steps 1..k: ``?`` before anything arrives,
``(so far)`` while more is still to come from other children, the plain value once it is
complete. The numbers come from the trace, so drawing never changes any ``.grad``.

The player (`backprop_player`, `Stepper.save`, a Stepper's Jupyter display) holds ONE
drawing of the graph and the per-step state as data (the active node, each node's grad text
as it changes, the step's formulas as MathML); a small inline script restyles the drawing
for the step shown. Its size grows with the graph plus the steps, not with their product,
so it has no cap on the number of steps, and it needs no network: it works from ``file://``,
inline in Jupyter, JupyterLab and VS Code.

``focus=node`` keeps only the steps on the chain(s) from the root to that node (for w52: the
slide's chain to w52) and dims the rest of the drawing.
"""

from __future__ import annotations

import base64
import hashlib
import html
import inspect
import itertools
import json
import operator
import os
import pathlib
import re
from typing import Any, Iterator, Optional, Union

from autograd_core.trace import BackwardStep, Trace, chain_nodes, node_names, trace_backward
from autograd_core.graph import topological_order
from viz.graph import (SANS_FONT, StepOverlay, build_digraph, check_focus_mode, check_node,
                       check_rankdir, format_quantity, graph_nodes)
from viz.render import GradientGraph, check_dpi, render_jobs

PathLike = Union[str, "os.PathLike[str]"]

FORWARD_TEXT = ("step 0: forward pass: every node's data is computed; no gradient is known yet "
                "(grad ?).")
UNKNOWN_GRAD = "grad ?"
# The line over the player's picture, and beside it wherever the player cannot run.
PICTURE_NOTE = ("Backprop player: to step through the pass, trust the notebook (File > Trust "
                "Notebook) and run the cell. Shown: the graph after the whole backward pass.")
PICTURE_MAX_SIDE = 2400  # pixels, the longest side of the player's picture
# The picture's resolution: 11 pt text at 11 px, half the bytes of 96 dpi (it is in a notebook
# twice, as image/png and inside the HTML).
PICTURE_DPI = 72.0

_player_count = itertools.count()

# How a node off the focused chain(s) is drawn in `Stepper.draw` (the player dims it with CSS).
DIM_NODE = {"color": "#c4c4c4", "fontcolor": "#a0a0a0", "fillcolor": "#f7f7f7"}
DIM_EDGE_COLOUR = "#d8d8d8"


def received_gradients(root: Any, steps: list[BackwardStep]) -> dict[int, list[tuple[int, Any]]]:
    """For each node (by ``id``), the running total of its gradient after each step that
    adds to it: ``[(step index, dL/dnode received so far), ...]``.

    The root holds the seed from step 1 on, when backward starts from it; every other node
    receives dL/dnode += contribution from each child's step (multivariable chain rule).
    """
    history: dict[int, list[tuple[int, Any]]] = {}
    if steps:
        history[id(steps[0].node)] = [(1, steps[0].upstream)]
    for step in steps:
        for parent in step.parents:
            if parent.contribution is not None:  # the trace keeps the running total
                history.setdefault(id(parent.parent), []).append((step.index, parent.total))
    return history


def grad_text(entries: list[tuple[int, Any]], k: int, n_steps: int) -> str:
    """A node's grad line after step k, given its `received_gradients` entries."""
    reached = [total for index, total in entries if index <= k]
    if not reached:
        # Once the whole pass has run, a node that received nothing gets no gradient.
        return "grad none" if k == n_steps > 0 and not entries else UNKNOWN_GRAD
    value = format_quantity(reached[-1])
    return f"grad {value}" if len(reached) == len(entries) else f"grad {value} (so far)"


def _check_step_index(k: Any, n_steps: int) -> int:
    if isinstance(k, bool):
        raise TypeError(f"step index must be an int, got {k!r}")
    try:
        k = operator.index(k)
    except TypeError:
        raise TypeError(f"step index must be an int, got {type(k).__name__}: {k!r}") from None
    if not 0 <= k <= n_steps:
        raise IndexError(f"step {k} does not exist: this backward pass has steps 0 (the forward "
                         f"pass) to {n_steps}")
    return k


class Stepper:
    """The backward pass of `root`, one chain-rule step at a time: to read each step, draw the
    graph after it, or play them all in a browser or a notebook.

    >>> from autograd_core import Value
    >>> x, w = Value(0.5, "x"), Value(-1.0, "w")
    >>> y = (w * x + 1).tanh(); y.label = "y"
    >>> stepper = Stepper(y)
    >>> len(stepper)
    3
    >>> print(stepper[1])
    step 1: y [tanh]
      dy/d(w*x+1) = dy/dy * (1-y^2) = 1 * 0.7864 = 0.7864
    >>> str(stepper.save("y.html"))             # a player: open it, the arrow keys step
    'y.html'

    ``len(stepper)`` is the number of steps; ``stepper[k]`` is step k (a `BackwardStep`,
    numbered from 1 like ``draw(k)`` and the step's own ``index``; ``stepper[-1]`` is the
    last); ``draw(k)`` is the picture after step k (``draw(0)``: the forward pass).
    In Jupyter a Stepper displays as the same player `backprop_player` writes; its buttons need
    the notebook to be trusted (File > Trust Notebook, or ``jupyter trust NOTEBOOK.ipynb``).
    Its display bundle also carries a PNG of the graph after the whole pass (`picture`), with
    a one-line note, which an untrusted notebook, VS Code without trust and code hosts show.

    ``focus=node`` (a node of the graph, its label, or a list of nodes) keeps only the steps
    on the chain(s) from `root` to it, as ``trace_backward(root, focus=node)`` does. The
    drawing dims every other node, or, for a graph of more than 60 drawn nodes, draws only
    the chains and the inputs of their ops (``focus_mode="auto"``; "dim" and "chain" choose,
    as in `viz.draw_graph`; ``chain_only=True`` is "chain").

    ``labels={node: "name"}`` calls nodes by other names in the steps and the drawing
    (``labels={graph.w52: "w52"}``), as `trace_backward` and `viz.draw_graph` take them.
    `rankdir` is the drawing's direction (None: chosen as `viz.draw_graph` chooses it).
    """

    def __init__(self, root: Any, *, seed: Any = None, rankdir: Optional[str] = None,
                 focus: Any = None, labels: Any = None, focus_mode: Optional[str] = None,
                 chain_only: Optional[bool] = None) -> None:
        check_node(root, "root")
        self.root = root
        self.rankdir = check_rankdir(rankdir) if rankdir is not None else None
        self.focus = focus
        self.labels = labels
        self.focus_mode = check_focus_mode(focus_mode, chain_only)
        graph_nodes(root)  # reject a graph that cannot be drawn before tracing it
        self.steps: Trace = trace_backward(root, seed, focus=focus, labels=labels)
        self._on_chain: Optional[set[int]] = (chain_nodes(root, focus, labels)
                                              if focus is not None else None)
        self._received = received_gradients(root, self.steps)

    def __repr__(self) -> str:
        root = getattr(self.root, "label", "") or type(self.root).__name__
        steps = len(self.steps)
        focus = ""
        if self.focus is not None:
            targets = self.focus if isinstance(self.focus, (list, tuple, set, frozenset)) else [self.focus]
            names = node_names(self.root, self.labels)
            focus = " focused on " + ", ".join(
                repr(t if isinstance(t, str) else names.get(id(t), "?")) for t in targets)
        return f"<Stepper: backward pass of {root!r}{focus}, {steps} step{'' if steps == 1 else 's'}>"

    def __len__(self) -> int:
        """The number of backward steps (frames 1..len; frame 0 is the forward pass)."""
        return len(self.steps)

    def __iter__(self) -> Iterator[BackwardStep]:
        """The steps in the order backward applies them."""
        return iter(self.steps)

    def __getitem__(self, k: int) -> BackwardStep:
        """Step k, for k = 1..len(self) (or -1, -2, ... from the end)."""
        if isinstance(k, bool) or not isinstance(k, int):
            raise TypeError(f"a step index must be an int, got {type(k).__name__}: {k!r}")
        n = len(self.steps)
        if k == 0:
            raise IndexError("step 0 is the forward pass and applies no chain rule; backward "
                             f"steps are numbered 1 to {n} (draw(0) draws the forward pass)")
        if not -n <= k <= n:
            raise IndexError(f"step {k} does not exist: this backward pass has steps 1 to {n}")
        return self.steps[k - 1 if k > 0 else k]

    def text(self, k: int) -> str:
        """What step k does, as ``str(step)`` prints it (step 0: the forward pass)."""
        k = _check_step_index(k, len(self.steps))
        return FORWARD_TEXT if k == 0 else str(self.steps[k - 1])

    def table(self) -> Trace:
        """The steps as a `Trace`: in Jupyter, a table of every step's formulas."""
        return self.steps

    def _grad_text(self, node: Any, k: int) -> str:
        if self._on_chain is not None and id(node) not in self._on_chain:
            return UNKNOWN_GRAD  # off the focused chain: the trace does not follow it
        return grad_text(self._received.get(id(node), []), k, len(self.steps))

    def _grad_options(self, node: Any) -> set[str]:
        """Every grad text a node shows in some step."""
        entries = self._received.get(id(node), [])
        n = len(self.steps)
        return {self._grad_text(node, j) for j in {0, n, *(i for i, _ in entries),
                                                     *(i - 1 for i, _ in entries)}}

    def draw(self, k: int) -> GradientGraph:
        """The graph after step k: step k's node and edges highlighted, grads received so far.

        Every grad line is padded to the longest text it takes in any step, and the frames
        use a fixed-width font, so each node keeps its size and the layout stays put. With
        `focus`, the nodes off the chain are drawn in light grey.
        """
        k = _check_step_index(k, len(self.steps))
        texts: dict[int, str] = {}
        for node in graph_nodes(self.root):
            width = max(len(t) for t in self._grad_options(node))
            texts[id(node)] = self._grad_text(node, k).center(width)
        active = self.steps[k - 1].node if k > 0 else None
        overlay = StepOverlay(grad_texts=texts, active=active)
        options = self._drawing_options()
        if self._drawing_focus():  # the drawing dims off-chain nodes itself
            return build_digraph(self.root, overlay=overlay, focus=self.focus, **options)
        graph = build_digraph(self.root, overlay=overlay, **options)
        if self._on_chain is not None:
            _dim_in_source(graph, self._dimmed_ids())
        return graph

    def _drawing_options(self) -> dict[str, Any]:
        """The options of `build_digraph` that this stepper sets, as far as it takes them."""
        options: dict[str, Any] = {"rankdir": self.rankdir if self.rankdir is not None else (
            None if "focus_mode" in _DRAWING_OPTIONS else "LR")}
        if self.labels is not None and "labels" in _DRAWING_OPTIONS:
            options["labels"] = self.labels
        if "focus_mode" in _DRAWING_OPTIONS and self._drawing_focus():
            options["focus_mode"] = self.focus_mode
        return options

    def _drawing_focus(self) -> bool:
        """Whether `build_digraph` draws the focus itself: it takes ``focus=`` (one node)."""
        return (self.focus is not None and "focus" in _DRAWING_OPTIONS
                and not isinstance(self.focus, (list, tuple, set, frozenset)))

    def _dimmed_ids(self) -> set[str]:
        """The drawing's ids (``nK``) of the nodes off the focused chain(s)."""
        if self._on_chain is None:
            return set()
        return {f"n{position}" for position, node in enumerate(topological_order(self.root))
                if id(node) not in self._on_chain}

    # -- the player ----------------------------------------------------------------------

    def player_data(self) -> dict[str, Any]:
        """The per-step state the player's script applies to its drawing, as JSON-ready data.

        ``steps[k]`` (k = 0 the forward pass) is ``[active, header, formulas, changes,
        receivers]``: the position K of the active node (drawn as ``nK``; -1 for none), the
        step's first line, its formulas as MathML, ``[[K, grad text], ...]`` for each node
        whose grad line changes at that step, and the positions of the parents the step sends
        a gradient to (their edges to the active node are highlighted). ``initial`` is every
        grad line before step 1.
        """
        order = topological_order(self.root)
        position = {id(node): i for i, node in enumerate(order)}
        n = len(self.steps)
        steps: list[list[Any]] = [[-1, FORWARD_TEXT, "", [], []]]
        changes: dict[int, list[list[Any]]] = {k: [] for k in range(1, n + 1)}
        for node in order:
            if self._on_chain is not None and id(node) not in self._on_chain:
                continue
            entries = self._received.get(id(node), [])
            for number, (k, total) in enumerate(entries):
                more = " (so far)" if number < len(entries) - 1 else ""
                changes[k].append([position[id(node)], f"grad {format_quantity(total)}{more}"])
            if not entries and n > 0:
                changes[n].append([position[id(node)], grad_text([], n, n)])
        for step in self.steps:
            receivers = sorted({position[id(p.parent)] for p in step.parents
                                if p.contribution is not None})
            steps.append([position[id(step.node)], step.header(), step.mathml(),
                          changes[step.index], receivers])
        return {"initial": UNKNOWN_GRAD, "steps": steps, "focus": self._on_chain is not None}

    def player_svg(self) -> str:
        """The player's one drawing of the graph, as SVG ready to inline in HTML: every node
        is a ``<g class="node" data-n="nK">``, every edge a ``<g class="edge" data-t=... data-h=...>``,
        nodes off a focused chain carry the class ``dim``, and each grad line shows the state
        after the last step (what a reader without scripts sees)."""
        n = len(self.steps)
        sans = "font" in _DRAWING_OPTIONS  # else the drawing is laid out in a fixed-width font
        width = _sans_width if sans else len
        widest: dict[int, str] = {}
        final: dict[str, str] = {}
        for position, node in enumerate(topological_order(self.root)):
            # The box is sized for the widest text the line takes; the script swaps the text.
            widest[id(node)] = f" {max(sorted(self._grad_options(node)), key=width)} "
            final[f"n{position}"] = self._grad_text(node, n)
        graph, dimmed = self._player_drawing(widest)
        # Nodes drawn only as inputs of a chain's ops show their data, no grad line.
        final = {item: text for item, text in final.items() if item not in graph.stub_items}
        svg = graph.pipe(format="svg")
        return prepare_svg(svg.decode("utf-8"), final, dimmed)

    def _player_drawing(self, grad_texts: dict[int, str], caption: Optional[str] = None
                        ) -> tuple[GradientGraph, set[str]]:
        """The player's drawing with `grad_texts` on the grad lines, and the ids of the nodes
        the player dims itself (where the drawing cannot)."""
        options = self._drawing_options()
        if "font" in _DRAWING_OPTIONS:
            options["font"] = SANS_FONT
        if caption is not None and "caption" in _DRAWING_OPTIONS:
            options["caption"] = caption
        dimmed = self._dimmed_ids()
        if self._drawing_focus():
            # The drawing dims the rest itself, or draws only the chains to the focus.
            options["focus"], dimmed = self.focus, set()
        graph = build_digraph(self.root, overlay=StepOverlay(grad_texts=grad_texts, active=None),
                              **options)
        return graph, dimmed

    def picture(self, *, dpi: Optional[float] = None) -> bytes:
        """A PNG of the player's drawing after the whole backward pass (every grad as backward
        leaves it), with `PICTURE_NOTE` above its key: what an untrusted notebook or a code
        host shows of the player. At `dpi` (default `PICTURE_DPI`), and at most
        `PICTURE_MAX_SIDE` pixels on its longest side."""
        n = len(self.steps)
        final = {id(node): self._grad_text(node, n) for node in topological_order(self.root)}
        graph, dimmed = self._player_drawing(final, caption=PICTURE_NOTE)
        if dimmed:
            _dim_in_source(graph, dimmed)
        dpi = PICTURE_DPI if dpi is None else check_dpi(dpi)
        results, _ = render_jobs(graph.source, [("png", dpi)], prefer="pygraphviz",
                                 timeout=graph.timeout, max_png_side=PICTURE_MAX_SIDE)
        return next(iter(results.values()))

    def player_html(self, *, standalone: bool = True, picture: Optional[bytes] = None) -> str:
        """The player: one drawing, the steps as data, controls (buttons, slider, keys, a list
        of steps) and an inline script. `standalone`: a whole HTML page (else a fragment for
        Jupyter, JupyterLab and VS Code, with an id of its own). `picture` (PNG bytes, see
        `picture`) is shown in place of the player where scripts do not run."""
        data = self.player_data()
        payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        digest = hashlib.sha1(payload.encode("utf-8")).hexdigest()[:10]
        player_id = f"chainrule-player-{digest}-{next(_player_count)}"
        fragment = player_fragment(player_id, self.player_svg(), payload, len(self.steps),
                                   picture=picture)
        return html_page(fragment) if standalone else fragment

    def save(self, path: PathLike) -> pathlib.Path:
        """Write the standalone player to `path` (an .html file); return the path."""
        target = _checked_html_path(path)  # before the drawing is rendered, which takes time
        target.write_text(self.player_html(), encoding="utf-8")
        return target

    def _repr_html_(self) -> str:
        """The player, inline in a Jupyter notebook (a short note where the graph cannot be
        drawn)."""
        try:
            return self.player_html(standalone=False)
        except (ValueError, RuntimeError, TimeoutError) as failed:
            return f"<p><b>Stepper:</b> {html.escape(str(failed))}</p>"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None, **_: Any) -> dict[str, Any]:
        """The Jupyter display bundle: the player (text/html), a PNG of the graph after the
        whole pass with a one-line note (image/png, `picture`), and the repr (text/plain).

        A trusted notebook shows the player. Where scripts may not run, the HTML shows the
        same picture in place of the player (an untrusted JupyterLab or Notebook, which
        sanitizes HTML), and a front end that shows no HTML shows the PNG (VS Code without
        trust, code hosts)."""
        wanted = [m for m in ("text/html", "image/png", "text/plain")
                  if (include is None or m in include) and m not in set(exclude or ())]
        bundle: dict[str, Any] = {}
        if "text/plain" in wanted:
            bundle["text/plain"] = f"{self!r}\n{PICTURE_NOTE}"
        if not {"text/html", "image/png"} & set(wanted):
            return bundle
        try:
            png = self.picture()
        except (ValueError, RuntimeError, TimeoutError) as failed:
            if "text/html" in wanted:
                bundle["text/html"] = f"<p><b>Stepper:</b> {html.escape(str(failed))}</p>"
            return bundle
        if "image/png" in wanted:
            bundle["image/png"] = png
        if "text/html" in wanted:
            try:
                bundle["text/html"] = self.player_html(standalone=False, picture=png)
            except (ValueError, RuntimeError, TimeoutError) as failed:
                bundle["text/html"] = f"<p><b>Stepper:</b> {html.escape(str(failed))}</p>"
        return bundle


def draw_step(root: Any, k: int, *, seed: Any = None, rankdir: Optional[str] = None,
              focus: Any = None, labels: Any = None, focus_mode: Optional[str] = None,
              chain_only: Optional[bool] = None) -> GradientGraph:
    """The graph of `root` after step k of its backward pass (k = 0: the forward pass only).

    The active node and its edges to its parents are highlighted; grads show what each
    node has received by step k, ``?`` where nothing has arrived yet. With `focus`, k counts
    the steps on the chain(s) to that node, and the rest of the graph is grey (or, on a
    graph of more than 60 nodes, left out: see `Stepper`). `labels` renames nodes.
    """
    return Stepper(root, seed=seed, rankdir=rankdir, focus=focus, labels=labels,
                   focus_mode=focus_mode, chain_only=chain_only).draw(k)


def backprop_player(root: Any, path: PathLike, *, seed: Any = None, rankdir: Optional[str] = None,
                    focus: Any = None, labels: Any = None, focus_mode: Optional[str] = None,
                    chain_only: Optional[bool] = None) -> pathlib.Path:
    """Write one self-contained HTML file that plays the backward pass of `root` step by step.

    The file holds one drawing of the graph (inline SVG), every step's state and formulas
    (MathML) as data, and the controls as inline JavaScript, so it needs no network access
    and its size grows with the graph plus the steps. `focus` keeps only the steps on the
    chain(s) to that node and dims the rest of the drawing, or on a graph of more than 60
    nodes draws only the chains (`focus_mode`, `chain_only`: see `Stepper`); `labels` renames
    nodes (``{graph.w52: "w52"}``). Returns the path written.
    """
    return Stepper(root, seed=seed, rankdir=rankdir, focus=focus, labels=labels,
                   focus_mode=focus_mode, chain_only=chain_only).save(path)


def _checked_html_path(path: PathLike) -> pathlib.Path:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or a path, got {type(path).__name__}")
    target = pathlib.Path(path)
    if target.suffix.lower() not in (".html", ".htm"):
        raise ValueError(f"the player is an HTML page, so the path must end in .html; got {str(target)!r}")
    if not target.parent.is_dir():
        raise FileNotFoundError(f"cannot write {str(target)!r}: the folder "
                                f"{str(target.parent)!r} does not exist")
    return target


# The options this version of `viz.graph.build_digraph` takes (newer ones add `font`, `focus`).
_DRAWING_OPTIONS = frozenset(inspect.signature(build_digraph).parameters)

# Helvetica's advance widths in em for the characters of grad lines (the rest: 0.556).
_HELVETICA = {**dict.fromkeys(" .,:;!|'", 0.278), **dict.fromkeys("()-r[]", 0.333),
              **dict.fromkeys("ijl", 0.222), **dict.fromkeys("ft", 0.278), "m": 0.833, "w": 0.722,
              "e": 0.556, **dict.fromkeys("ABCDEFGHIJKLMNOPQRSTUVWXYZ", 0.667)}


def _sans_width(text: str) -> float:
    """About how wide `text` is in Helvetica, in em (to pick the widest of a node's texts)."""
    return sum(_HELVETICA.get(ch, 0.556) for ch in text)


# -- dimming a drawing ---------------------------------------------------------------------

_EDGE_LINE = re.compile(r"^(\t+)(\w+) -> (\w+)( \[(.*)\])?$")
_NODE_LINE = re.compile(r"^\t+(\w+) \[")


def _owner(item: str) -> str:
    """The node a drawn item belongs to: ``n3_op`` (the op node of n3) belongs to ``n3``."""
    return item[:-3] if item.endswith("_op") else item


def _dim_in_source(graph: GradientGraph, dimmed: set[str]) -> None:
    """Grey out the nodes `dimmed` (and their op nodes), and every edge touching one, by
    adding attributes to the DOT statements of `graph`."""
    body = []
    for line in graph.body:
        match = _EDGE_LINE.match(line.rstrip("\n"))
        if match and (_owner(match.group(2)) in dimmed or _owner(match.group(3)) in dimmed):
            indent, tail, head, _, attributes = match.groups()
            attributes = re.sub(r'\b(color|penwidth)=("[^"]*"|\S+)\s*', "", attributes or "").strip()
            line = f'{indent}{tail} -> {head} [{attributes} color="{DIM_EDGE_COLOUR}"]\n'.replace("[ ", "[")
        body.append(line)
    graph.body[:] = body
    declared = {match.group(1) for match in map(_NODE_LINE.match, body) if match}
    style = " ".join(f'{key}="{value}"' for key, value in DIM_NODE.items())
    for item in sorted(dimmed):
        for drawn in (item, f"{item}_op"):
            if drawn in declared:  # a later statement adds attributes to a declared node
                graph.body.append(f"\t{drawn} [{style}]\n")


# -- the SVG of the player -----------------------------------------------------------------

_GROUP = re.compile(r'^<g id="[^"]*" class="([^"]*)"')
_TITLE = re.compile(r"^<title>(.*)</title>$")
_TEXT = re.compile(r"^(<text[^>]*>)(.*)(</text>)$")
_FONT = re.compile(r' font-family="[^"]*"| font-size="11\.00"')
_ID = re.compile(r' id="[^"]*"')
_DECIMALS = re.compile(r"(-?\d+\.\d)\d+")


def prepare_svg(svg: str, grad_texts: dict[str, str], dimmed: set[str]) -> str:
    """Graphviz's SVG made ready for the player (it writes one element per line).

    Node and edge groups get ``data-n`` (the node's id, ``nK``) and ``data-t``/``data-h``
    (an edge's tail and head) instead of Graphviz's ids, which would clash between two
    players on one page; titles, comments, the fixed-width font (the player's CSS sets the
    drawing's font) and the third decimal of coordinates go; each node's grad line (its
    last text) shows `grad_texts` for its id; items in `dimmed` get the class ``dim``.
    """
    start = svg.find("<svg")
    if start < 0:
        raise ValueError("the renderer returned no <svg> element")
    lines = svg[start:].splitlines()
    out: list[str] = []
    group: Optional[list[str]] = None  # the lines of the node group being read
    group_id = ""
    pending_class: Optional[str] = None
    for line in lines:
        if line.startswith("<!--"):
            continue
        line = _FONT.sub("", line)
        match = _GROUP.match(line)
        if match:
            pending_class = match.group(1)
            if not pending_class.split()[0] in ("node", "edge"):
                out.append(_ID.sub("", line))
                pending_class = None
            continue
        title = _TITLE.match(line)
        if title and pending_class is not None:
            name = html.unescape(title.group(1))
            classes = pending_class.split()
            if classes[0] == "edge":
                tail, _, head = name.partition("->")
                dim = _owner(tail) in dimmed or _owner(head) in dimmed
                out.append(f'<g class="{" ".join(classes + ["dim"] * dim)}" '
                           f'data-t="{html.escape(tail)}" data-h="{html.escape(head)}">')
            else:
                dim = _owner(name) in dimmed
                group, group_id = [], name
                out.append(f'<g class="{" ".join(classes + ["dim"] * dim)}" '
                           f'data-n="{html.escape(name)}">')
            pending_class = None
            continue
        if title:  # the graph's own title
            continue
        if group is not None:
            if line == "</g>":
                texts = [i for i, item in enumerate(group) if item.startswith("<text")]
                if texts and group_id in grad_texts:
                    text = _TEXT.match(group[texts[-1]])
                    if text:
                        group[texts[-1]] = (text.group(1) + html.escape(grad_texts[group_id], quote=False)
                                            + text.group(3))
                out.extend(group)
                out.append(line)
                group = None
                continue
            group.append(_round_coordinates(line))
            continue
        out.append(_round_coordinates(_ID.sub("", line)) if not line.startswith("<svg") else line)
    return "\n".join(out)


def _round_coordinates(line: str) -> str:
    """`line` with its coordinates cut to one decimal (a tenth of a point); a text's
    content is left as it is."""
    if line.startswith("<text"):
        end = line.find(">")
        return _DECIMALS.sub(r"\1", line[:end]) + line[end:]
    return _DECIMALS.sub(r"\1", line)


# -- the HTML -----------------------------------------------------------------------------

_STYLE = """
.chainrule-player { font-family: __FONT__; font-size: 14px; color: #222; outline: none;
  max-width: 100%; }
.chainrule-player:focus-visible { box-shadow: 0 0 0 2px #90caf9; }
.chainrule-player .cr-controls { display: flex; flex-wrap: wrap; align-items: center; gap: 6px;
  margin: 4px 0; }
.chainrule-player button { font: inherit; font-size: 13px; padding: 2px 10px; }
.chainrule-player .cr-slider { flex: 1; min-width: 120px; max-width: 480px; }
.chainrule-player .cr-counter { font-variant-numeric: tabular-nums; min-width: 9em; }
.chainrule-player .cr-step { height: 9.5em; overflow: auto; background: #f7f7f7;
  border-left: 4px solid #d32f2f; padding: 4px 10px; margin: 4px 0; box-sizing: border-box; }
.chainrule-player .cr-header { font-weight: bold; margin-bottom: 2px; }
.chainrule-player .cr-math math { font-family: __FONT__; font-size: 16px; }
.chainrule-player .cr-math div { margin: 3px 0; }
.chainrule-player .cr-body { display: flex; gap: 8px; align-items: stretch; }
.chainrule-player .cr-graph { flex: 1; min-width: 0; max-height: 72vh; overflow: auto;
  border: 1px solid #e0e0e0; }
.chainrule-player .cr-graph.cr-fit svg { width: 100%; height: auto; }
.chainrule-player .cr-graph text { font-family: __FONT__; font-size: 11px; }
.chainrule-player .cr-graph .node.op text { font-size: 10px; }
.chainrule-player .cr-list { width: 15em; max-height: 72vh; overflow: auto; margin: 0;
  padding: 2px 0; list-style: none; font-size: 12px; border: 1px solid #e0e0e0; box-sizing: border-box;
  font-variant-numeric: tabular-nums; }
.chainrule-player .cr-list li { cursor: pointer; white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis; padding: 0 4px; }
.chainrule-player .cr-list li:hover { background: #eef4fb; }
.chainrule-player .cr-list li.cr-current { background: #fff176; font-weight: bold; }
.chainrule-player g.node.active > polygon:first-of-type,
.chainrule-player g.node.active > path:first-of-type,
.chainrule-player g.node.active > ellipse { fill: #fff176; stroke: #d32f2f; stroke-width: 3px; }
.chainrule-player g.node.cr-received > polygon:first-of-type,
.chainrule-player g.node.cr-received > path:first-of-type { stroke: #1976d2; stroke-width: 2.5px; }
.chainrule-player g.edge.active > path { stroke: #d32f2f; stroke-width: 2.5px; }
.chainrule-player g.edge.active > polygon { fill: #d32f2f; stroke: #d32f2f; }
.chainrule-player g.dim { opacity: 0.25; }
.chainrule-player:not([data-ready]) .cr-controls,
.chainrule-player:not([data-ready]) .cr-step,
.chainrule-player.cr-pictured:not([data-ready]) .cr-body,
.chainrule-player:not([data-ready]) .cr-list { display: none; }
.chainrule-player[data-ready] .cr-noscript { display: none; }
"""

_SCRIPT = r"""
(function () {
  "use strict";
  function init(root) {
    if (root.hasAttribute("data-ready")) { return; }
    var source = root.querySelector("script.cr-data");
    if (!source) { return; }
    root.setAttribute("data-ready", "1");
    var data = JSON.parse(source.textContent), steps = data.steps, last = steps.length - 1;
    if (!root.querySelector(".cr-controls")) {
      root.querySelector(".cr-step").insertAdjacentHTML("beforebegin", '__CONTROLS__');
    }
    var graph = root.querySelector(".cr-graph"), list = root.querySelector(".cr-list");
    var slider = root.querySelector(".cr-slider"), counter = root.querySelector(".cr-counter");
    var header = root.querySelector(".cr-header"), formulas = root.querySelector(".cr-math");
    var playButton = root.querySelector("[data-action=play]");
    slider.max = last;
    var zoomButton = root.querySelector("[data-action=zoom]");
    var nodes = {}, grads = {}, into = {}, history = {};
    Array.prototype.forEach.call(graph.querySelectorAll("g.node[data-n]"), function (g) {
      var id = g.getAttribute("data-n"), texts = g.getElementsByTagName("text");
      nodes[id] = g;
      if (texts.length && !/_op$/.test(id)) { grads[id] = texts[texts.length - 1]; }
    });
    Array.prototype.forEach.call(graph.querySelectorAll("g.edge[data-h]"), function (g) {
      var head = g.getAttribute("data-h");
      (into[head] = into[head] || []).push(g);
    });
    var items = document.createDocumentFragment();
    steps.forEach(function (step, k) {
      step[3].forEach(function (change) {
        (history[change[0]] = history[change[0]] || []).push([k, change[1]]);
      });
      var li = document.createElement("li");
      li.textContent = k + ". " + (k === 0 ? "forward pass" : step[1].replace(/^step \d+: /, ""));
      li.setAttribute("data-k", k);
      li.title = step[1];
      items.appendChild(li);
    });
    list.appendChild(items);
    var entries = list.children;

    function gradAt(node, k) {  // the last change at or before step k (binary search)
      var events = history[node], lo = 0, hi = events ? events.length - 1 : -1, found = -1;
      while (lo <= hi) {
        var mid = (lo + hi) >> 1;
        if (events[mid][0] <= k) { found = mid; lo = mid + 1; } else { hi = mid - 1; }
      }
      return found < 0 ? data.initial : events[found][1];
    }
    var current = -1, lit = [], timer = null;
    function light(element, name) {
      if (element) { element.classList.add(name); lit.push([element, name]); }
    }
    function reveal(element) {
      var box = element.getBoundingClientRect(), view = graph.getBoundingClientRect();
      if (box.right > view.right || box.left < view.left) {
        graph.scrollLeft += (box.left + box.right - view.left - view.right) / 2;
      }
      if (box.bottom > view.bottom || box.top < view.top) {
        graph.scrollTop += (box.top + box.bottom - view.top - view.bottom) / 2;
      }
    }
    function show(k) {
      k = Math.max(0, Math.min(last, k));
      if (k === current) { return; }
      var lo = current < 0 ? 0 : Math.min(current, k), hi = current < 0 ? last : Math.max(current, k);
      var touched = {};
      for (var j = lo + 1; j <= hi; j++) {
        var changes = steps[j][3];
        for (var c = 0; c < changes.length; c++) { touched[changes[c][0]] = true; }
      }
      Object.keys(touched).forEach(function (node) {
        var element = grads["n" + node];
        if (element) { element.textContent = gradAt(node, k); }
      });
      lit.forEach(function (pair) { pair[0].classList.remove(pair[1]); });
      lit = [];
      var active = steps[k][0];
      if (active >= 0) {
        var id = "n" + active;
        var receivers = {};
        steps[k][4].forEach(function (parent) {
          receivers["n" + parent] = true;
          light(nodes["n" + parent], "cr-received");
        });
        light(nodes[id], "active");
        light(nodes[id + "_op"], "active");
        // The edges that carry this step's gradient: op -> node, and each receiving parent's.
        (into[id] || []).concat(into[id + "_op"] || []).forEach(function (edge) {
          var tail = edge.getAttribute("data-t").replace(/_op$/, "");
          if (tail === id || receivers[tail]) { light(edge, "active"); }
        });
      }
      if (current >= 0 && entries[current]) { entries[current].classList.remove("cr-current"); }
      entries[k].classList.add("cr-current");
      var item = entries[k];
      if (item.offsetTop < list.scrollTop || item.offsetTop + item.offsetHeight > list.scrollTop + list.clientHeight) {
        list.scrollTop = item.offsetTop - list.clientHeight / 2;
      }
      header.textContent = steps[k][1];
      formulas.innerHTML = steps[k][2];
      slider.value = k;
      counter.textContent = "step " + k + " / " + last;
      current = k;
      root.setAttribute("data-step", k);
      if (active >= 0 && nodes["n" + active]) { reveal(nodes["n" + active]); }
    }
    function stop() {
      if (timer !== null) { clearInterval(timer); timer = null; }
      playButton.textContent = "\u25B6 play";
    }
    function play() {
      if (timer !== null) { stop(); return; }
      if (current === last) { show(0); }
      playButton.textContent = "\u275A\u275A pause";
      timer = setInterval(function () {
        show(current + 1);
        if (current >= last) { stop(); }
      }, parseInt(root.getAttribute("data-interval"), 10) || 1200);
    }
    function zoom(fit) {
      graph.classList.toggle("cr-fit", fit);
      zoomButton.textContent = fit ? "actual size" : "fit width";
    }
    var actions = {
      first: function () { stop(); show(0); },
      prev: function () { stop(); show(current - 1); },
      next: function () { stop(); show(current + 1); },
      last: function () { stop(); show(last); },
      play: play,
      zoom: function () { zoom(!graph.classList.contains("cr-fit")); }
    };
    Array.prototype.forEach.call(root.querySelectorAll("button[data-action]"), function (button) {
      button.addEventListener("click", actions[button.getAttribute("data-action")]);
    });
    slider.addEventListener("input", function () { stop(); show(parseInt(slider.value, 10)); });
    list.addEventListener("click", function (event) {
      var item = event.target.closest("li[data-k]");
      if (item) { stop(); show(parseInt(item.getAttribute("data-k"), 10)); root.focus({preventScroll: true}); }
    });
    var keys = { ArrowRight: actions.next, ArrowLeft: actions.prev, Home: actions.first,
                 End: actions.last, " ": play, Spacebar: play };
    root.addEventListener("keydown", function (event) {
      var action = keys[event.key];
      if (!action || event.altKey || event.ctrlKey || event.metaKey) { return; }
      if (event.target === slider && event.key !== " " && event.key !== "Spacebar") { return; }
      event.preventDefault();
      event.stopPropagation();
      if (!event.repeat || event.key.length > 1) { action(); }
    });
    root.addEventListener("keyup", function (event) {
      if (event.key === " " || event.key === "Spacebar") { event.preventDefault(); }
    });
    var svg = graph.querySelector("svg"), width = svg ? parseFloat(svg.getAttribute("width")) * 4 / 3 : 0;
    zoom(width > 0 && width <= 2.5 * Math.max(graph.clientWidth, 400));
    show(0);
  }
  function boot() {
    Array.prototype.forEach.call(document.querySelectorAll("div.chainrule-player"), init);
  }
  // Jupyter may run this script before its output is attached to the page: look again for
  // a while (every 100 ms, up to 10 s) until every player on the page is ready.
  var tries = 0;
  (function again() {
    boot();
    var own = document.getElementById("__PLAYER__");
    if ((own === null || !own.hasAttribute("data-ready")) && ++tries < 100) { setTimeout(again, 100); }
  })();
})();
"""


def _json_in_html(payload: str) -> str:
    """JSON text safe inside ``<script type="application/json">``: no ``</`` or ``<!--``."""
    return payload.replace("</", "<\\/").replace("<!--", "<\\u0021--")


# The controls, which the script puts in (where no script runs, there are no dead buttons);
# a JavaScript string in single quotes, so it holds no single quote, backslash or newline.
CONTROLS_HTML = (
    '<div class="cr-controls">'
    '<button type="button" data-action="first" title="forward pass (Home)">|&#x25C0;</button>'
    '<button type="button" data-action="prev" title="previous step (left arrow)">&#x25C0; prev</button>'
    '<button type="button" data-action="play" title="play / pause (space)">&#x25B6; play</button>'
    '<button type="button" data-action="next" title="next step (right arrow)">next &#x25B6;</button>'
    '<button type="button" data-action="last" title="last step (End)">&#x25B6;|</button>'
    '<input class="cr-slider" type="range" min="0" max="0" value="0" step="1" aria-label="step">'
    '<span class="cr-counter">step 0 / 0</span>'
    '<button type="button" data-action="zoom" title="fit the drawing to the width, or show '
    'it at its size">fit width</button></div>')
assert not set("'\\\n") & set(CONTROLS_HTML)

NOSCRIPT_TEXT = ("This backprop player needs JavaScript (in Jupyter: trust the notebook, File > "
                 "Trust Notebook, and run the cell). Shown: the graph after the whole backward pass.")


def player_fragment(player_id: str, svg: str, payload: str, n_steps: int,
                    picture: Optional[bytes] = None) -> str:
    """The player's HTML (style, step text, drawing, list of steps, data, script; the script
    adds the controls) inside one ``div#player_id``; `payload` is `Stepper.player_data` as
    JSON text. Where no script runs, a note shows and, with `picture` (PNG bytes), that
    picture in place of the drawing (a sanitizer that removes scripts removes inline SVG
    too)."""
    if not isinstance(n_steps, int) or n_steps < 0:
        raise ValueError(f"n_steps must be a non-negative int, got {n_steps!r}")
    if not re.fullmatch(r"[A-Za-z][\w-]*", player_id):
        raise ValueError(f"a player id is letters, digits, - and _, starting with a letter; got {player_id!r}")
    style = _STYLE.replace("__FONT__", SANS_FONT.replace(",", ", "))
    image = ""
    if picture is not None:
        encoded = base64.b64encode(picture).decode("ascii")
        image = (f'<br><img class="cr-picture" alt="the graph after the whole backward pass" '
                 f'style="max-width: 100%; height: auto" src="data:image/png;base64,{encoded}">')
    script = _SCRIPT.replace("__PLAYER__", player_id).replace("__CONTROLS__", CONTROLS_HTML)
    return (
        f'<div class="chainrule-player{" cr-pictured" if picture is not None else ""}" '
        f'id="{player_id}" tabindex="0" data-interval="1200" data-steps="{n_steps}">\n'
        f"<style>{style}</style>\n"
        f'<div class="cr-noscript">{html.escape(NOSCRIPT_TEXT, quote=False)}{image}</div>\n'
        '<div class="cr-step" aria-live="polite"><div class="cr-header"></div>'
        '<div class="cr-math"></div></div>\n'
        f'<div class="cr-body"><div class="cr-graph">\n{svg}\n</div>'
        '<ol class="cr-list" start="0" aria-label="steps"></ol></div>\n'
        f'<script type="application/json" class="cr-data">{_json_in_html(payload)}</script>\n'
        f"<script>{script}</script>\n</div>")


def html_page(body: str, title: str = "chainrule: backpropagation step by step") -> str:
    """A whole HTML page around `body`; its content security policy forbids any network
    access, so the page works offline by construction."""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n"
        f"<title>{html.escape(title)}</title>\n</head>\n<body>\n{body}\n</body>\n</html>\n")
