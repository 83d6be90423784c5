"""The backward pass, one step at a time: a drawing per step and an HTML player for them all.

Step k is the k-th application of the chain rule by ``root.backward()``, as listed by
``autograd_core.trace_backward(root)``; step 0 is the forward pass alone. In the drawing of
step k the active node, its op and its edges to its parents are highlighted, and each
node's grad line shows what it has received in steps 1..k: ``?`` before anything arrives,
``(so far)`` while more is still to come from other children, the plain value once it is
complete. The numbers come from the trace, so drawing never changes any ``.grad``.
"""

from __future__ import annotations

import html
import itertools
import operator
import os
import pathlib
from typing import Any, Iterator, Union

from autograd_core.trace import BackwardStep, trace_backward
from viz.graph import StepOverlay, build_digraph, check_node, check_rankdir, format_quantity, graph_nodes
from viz.render import GradientGraph, render_source

PathLike = Union[str, "os.PathLike[str]"]

FORWARD_TEXT = ("step 0: forward pass: every node's data is computed; no gradient is known yet "
                "(grad ?).")

_player_ids = itertools.count()
# Frames of a player (forward pass + steps) before it is refused: the w52 example has 28.
MAX_PLAYER_FRAMES = 120


def received_gradients(root: Any, steps: list[BackwardStep]) -> dict[int, list[tuple[int, Any]]]:
    """For each node (by ``id``), the running total of its gradient after each step that
    adds to it: ``[(step index, dL/dnode received so far), ...]``.

    The root holds the seed from step 1 on, when backward starts from it; every other node
    receives dL/dnode += contribution from each child's step (multivariable chain rule).
    """
    history: dict[int, list[tuple[int, Any]]] = {}
    if steps:
        history[id(root)] = [(1, steps[0].upstream)]
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
        return "grad none" if k == n_steps > 0 and not entries else "grad ?"
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
    """The steps of ``root.backward()``, to read, draw and play one at a time.

    ``len(stepper)`` is the number of steps; ``stepper[k]`` is step k (a `BackwardStep`,
    numbered from 1 like ``draw(k)`` and the step's own ``index``; ``stepper[-1]`` is the
    last); ``draw(k)`` is the picture after step k (``draw(0)``: the forward pass).
    In Jupyter a Stepper displays as the same player `backprop_player` writes.
    """

    def __init__(self, root: Any, *, seed: Any = None, rankdir: str = "LR",
                 max_frames: int = MAX_PLAYER_FRAMES) -> None:
        check_node(root, "root")
        if isinstance(max_frames, bool) or not isinstance(max_frames, int) or max_frames < 1:
            raise ValueError(f"max_frames must be a positive int, got {max_frames!r}")
        self.root = root
        self.rankdir = check_rankdir(rankdir)
        self.max_frames = max_frames
        graph_nodes(root)  # reject a graph that cannot be drawn before tracing it
        self.steps: list[BackwardStep] = trace_backward(root, seed)
        self._received = received_gradients(root, self.steps)

    def __repr__(self) -> str:
        root = getattr(self.root, "label", "") or type(self.root).__name__
        steps = len(self.steps)
        return f"<Stepper: backward pass of {root!r}, {steps} step{'' if steps == 1 else 's'}>"

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

    def draw(self, k: int) -> GradientGraph:
        """The graph after step k: step k's node and edges highlighted, grads received so far.

        Every grad line is padded to the longest text it takes in any step, and the frames
        use a fixed-width font, so each node keeps its size and the layout stays put.
        """
        k = _check_step_index(k, len(self.steps))
        n = len(self.steps)
        texts: dict[int, str] = {}
        for node in graph_nodes(self.root):
            entries = self._received.get(id(node), [])
            options = {grad_text(entries, j, n) for j in {0, n, *(i for i, _ in entries)}}
            options |= {grad_text(entries, i - 1, n) for i, _ in entries}
            width = max(len(t) for t in options)
            texts[id(node)] = grad_text(entries, k, n).center(width)
        active = self.steps[k - 1].node if k > 0 else None
        return build_digraph(self.root, rankdir=self.rankdir,
                             overlay=StepOverlay(grad_texts=texts, active=active))

    def frames_svg(self) -> list[str]:
        """The SVG of every step's drawing, steps 0 to len(self)."""
        svgs = []
        for k in range(len(self.steps) + 1):
            svg, _ = render_source(self.draw(k).source, "svg")
            text = svg.decode("utf-8")
            svgs.append(text[text.index("<svg"):])  # inline in HTML: no XML prolog or DOCTYPE
        return svgs

    def player_html(self, *, standalone: bool = True) -> str:
        """The player: every frame's SVG inline, with previous/next/play controls, a slider
        and each step's text. `standalone`: a whole HTML page (else a fragment for Jupyter)."""
        self._check_player_size()
        player_id = "chainrule-player" if standalone else f"chainrule-player-{next(_player_ids)}"
        fragment = player_fragment(player_id, self.frames_svg(),
                                   [self.text(k) for k in range(len(self.steps) + 1)])
        return html_page(fragment) if standalone else fragment

    def save(self, path: PathLike) -> pathlib.Path:
        """Write the standalone player to `path` (an .html file); return the path."""
        target = _checked_html_path(path)  # before the frames are rendered, which takes time
        target.write_text(self.player_html(), encoding="utf-8")
        return target

    def _check_player_size(self) -> None:
        """Refuse a player of more than `max_frames` frames: each frame is the whole graph
        as SVG, so the file grows with steps x nodes (an MLP(2, [8, 8, 1]) on one sample:
        195 frames, 95 MB)."""
        frames = len(self.steps) + 1
        if frames > self.max_frames:
            raise ValueError(
                f"this backward pass has {len(self.steps)} steps, so its player would hold "
                f"{frames} drawings of the whole graph (more than max_frames={self.max_frames}); "
                f"step through a smaller graph (one neuron, or a path as in notebook 02), draw "
                f"single steps with draw(k) / draw_step(root, k), or pass a larger max_frames")

    def _repr_html_(self) -> str:
        """The player, inline in a Jupyter notebook (a short note instead when it would hold
        more than `max_frames` frames)."""
        try:
            return self.player_html(standalone=False)
        except ValueError as too_large:
            return f"<p><b>Stepper:</b> {html.escape(str(too_large))}</p>"


def draw_step(root: Any, k: int, *, seed: Any = None, rankdir: str = "LR") -> GradientGraph:
    """The graph of `root` after step k of its backward pass (k = 0: the forward pass only).

    The active node and its edges to its parents are highlighted; grads show what each
    node has received by step k, ``?`` where nothing has arrived yet.
    """
    return Stepper(root, seed=seed, rankdir=rankdir).draw(k)


def backprop_player(root: Any, path: PathLike, *, seed: Any = None, rankdir: str = "LR",
                    max_frames: int = MAX_PLAYER_FRAMES) -> pathlib.Path:
    """Write one self-contained HTML file that plays the backward pass of `root` step by step.

    All frames are inline SVG and the controls inline JavaScript, so the file needs no
    network access. A pass of more than `max_frames` - 1 steps is refused with advice (the
    file would hold that many drawings of the whole graph). Returns the path written.
    """
    return Stepper(root, seed=seed, rankdir=rankdir, max_frames=max_frames).save(path)


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


# -- the HTML -----------------------------------------------------------------------------

_STYLE = """
#__PLAYER__ { font-family: Helvetica, Arial, sans-serif; }
#__PLAYER__ .controls { display: flex; align-items: center; gap: 6px; margin: 4px 0; }
#__PLAYER__ .controls button { font-size: 14px; padding: 2px 10px; }
#__PLAYER__ .slider { flex: 1; max-width: 480px; }
#__PLAYER__ .counter { font-variant-numeric: tabular-nums; min-width: 8em; }
#__PLAYER__ .step-text { background: #f7f7f7; border-left: 4px solid #d32f2f; padding: 6px 10px;
  margin: 4px 0; font-size: 13px; white-space: pre-wrap; }
#__PLAYER__ .frame { display: none; }
#__PLAYER__ .frame.current { display: block; }
#__PLAYER__ .frame svg { max-width: 100%; height: auto; }
"""

_SCRIPT = """
(function () {
  var root = document.getElementById("__PLAYER__");
  var frames = root.querySelectorAll(".frame");
  var slider = root.querySelector(".slider");
  var counter = root.querySelector(".counter");
  var playButton = root.querySelector("[data-action=play]");
  var last = frames.length - 1, current = 0, timer = null;
  function show(k) {
    k = Math.max(0, Math.min(last, k));
    frames[current].classList.remove("current");
    frames[k].classList.add("current");
    current = k;
    slider.value = k;
    counter.textContent = "step " + k + " / " + last;
  }
  function stop() {
    if (timer !== null) { clearInterval(timer); timer = null; }
    playButton.textContent = "\\u25B6 play";
  }
  function play() {
    if (timer !== null) { stop(); return; }
    if (current === last) { show(0); }
    playButton.textContent = "\\u275A\\u275A pause";
    timer = setInterval(function () {
      show(current + 1);
      if (current >= last) { stop(); }
    }, parseInt(root.getAttribute("data-interval"), 10) || 1200);
  }
  var actions = {
    first: function () { stop(); show(0); },
    prev: function () { stop(); show(current - 1); },
    next: function () { stop(); show(current + 1); },
    last: function () { stop(); show(last); },
    play: play
  };
  root.querySelectorAll("button[data-action]").forEach(function (button) {
    button.addEventListener("click", actions[button.getAttribute("data-action")]);
  });
  slider.addEventListener("input", function () { stop(); show(parseInt(slider.value, 10)); });
  root.addEventListener("keydown", function (event) {
    if (event.key === "ArrowRight") { actions.next(); event.preventDefault(); }
    if (event.key === "ArrowLeft") { actions.prev(); event.preventDefault(); }
  });
  show(0);
})();
"""


def player_fragment(player_id: str, frames_svg: list[str], texts: list[str]) -> str:
    """The player's HTML (style, controls, frames, script) inside one ``div#player_id``."""
    if len(frames_svg) != len(texts) or not frames_svg:
        raise ValueError(f"the player needs one text per frame, got {len(frames_svg)} frames "
                         f"and {len(texts)} texts")
    last = len(frames_svg) - 1
    frames = "\n".join(
        f'<div class="frame{" current" if k == 0 else ""}" data-step="{k}">'
        f'<pre class="step-text">{html.escape(text)}</pre>\n{svg}</div>'
        for k, (svg, text) in enumerate(zip(frames_svg, texts)))
    return (
        f'<div class="chainrule-player" id="{player_id}" tabindex="0" data-interval="1200">\n'
        f"<style>{_STYLE.replace('__PLAYER__', player_id)}</style>\n"
        '<div class="controls">'
        '<button type="button" data-action="first" title="forward pass">|&#x25C0;</button>'
        '<button type="button" data-action="prev">&#x25C0; prev</button>'
        '<button type="button" data-action="play">&#x25B6; play</button>'
        '<button type="button" data-action="next">next &#x25B6;</button>'
        '<button type="button" data-action="last" title="last step">&#x25B6;|</button>'
        f'<input class="slider" type="range" min="0" max="{last}" value="0" step="1" '
        'aria-label="step">'
        f'<span class="counter">step 0 / {last}</span></div>\n'
        f'<div class="frames">\n{frames}\n</div>\n'
        f"<script>{_SCRIPT.replace('__PLAYER__', player_id)}</script>\n</div>")


def html_page(body: str, title: str = "chainrule: backpropagation step by step") -> str:
    """A whole HTML page around `body`; its content security policy forbids any network
    access, so the page works offline by construction."""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n"
        f"<title>{html.escape(title)}</title>\n</head>\n<body>\n{body}\n</body>\n</html>\n")
