"""`training_player(history, path)`: one offline HTML file to scrub through a training run.

Train with ``fit(..., record=...)`` or ``fit_scalar(..., record=...)`` (see `nn.recording`),
then write the player. It shows, for the epoch chosen with a slider (or the arrow keys, or
play):

- the loss (and validation loss) and metric curves, with the chosen epoch marked;
- the decision boundary at that epoch, with the training points ("boundary");
- per layer, histograms of the weights and of the gradient of the weights ("weights",
  "grads");
- for a scalar MLP ("graph"): the computation graph of one training sample's loss, every
  node's data and gradient at that epoch, and its nodes coloured by |grad| if you like (the
  idea of EurekaLabs' micrograd demo, without its server and without running Graphviz per
  epoch: the graph is laid out once and the numbers change).

Everything (data, drawing, script) is inside the file; its content security policy forbids
network access. Pictures are drawn by the page's own script on canvases.
"""

from __future__ import annotations

import html
import json
import os
import pathlib
from typing import Any, Optional, Union

PathLike = Union[str, "os.PathLike[str]"]


def _curves(history: Any) -> dict[str, Any]:
    metrics = {k: list(v) for k, v in (getattr(history, "metrics", None) or {}).items() if v}
    val_metrics = {k: list(v) for k, v in (getattr(history, "val_metrics", None) or {}).items() if v}
    return {"loss": list(history.loss), "val_loss": list(getattr(history, "val_loss", None) or []),
            "metrics": metrics, "val_metrics": val_metrics}


def graph_svg(recorder: Any) -> str:
    """The drawing of the recorded sample's graph, laid out once with room for the widest
    data and grad text any frame shows; groups carry ``data-n="nK"`` (K: the node's position
    in topological order, the frames' index)."""
    from autograd_core.graph import topological_order
    from viz.graph import SANS_FONT, StepOverlay, build_digraph
    from viz.stepper import _DRAWING_OPTIONS, _sans_width, prepare_svg

    root = recorder.graph_root
    order = topological_order(root)
    frames = [frame["graph"] for frame in recorder.frames if frame.get("graph")]
    widest_data = [max((f[0][k] for f in frames), key=_sans_width) for k in range(len(order))]
    widest_grad = [max((f[1][k] for f in frames), key=_sans_width) for k in range(len(order))]
    saved = [node.data for node in order]
    try:
        for node, text in zip(order, widest_data):
            node.data = float(text)  # sizes the box for the widest data line (restored below)
        overlay = StepOverlay(grad_texts={id(node): f"grad {text}" for node, text in zip(order, widest_grad)})
        options = {"font": SANS_FONT} if "font" in _DRAWING_OPTIONS else {}
        graph = build_digraph(root, rankdir="LR", overlay=overlay, legend=False, **options)
        svg = graph.pipe(format="svg").decode("utf-8")
    finally:
        for node, data in zip(order, saved):
            node.data = data
    last = frames[-1]
    return prepare_svg(svg, {f"n{k}": f"grad {text}" for k, text in enumerate(last[1])}, set())


def player_data(history: Any, title: str) -> dict[str, Any]:
    """The player's JSON: the curves and the recorder's frames."""
    recorder = getattr(history, "recording", None)
    if recorder is None or not getattr(recorder, "frames", None):
        raise ValueError("training_player needs a history with a recording: train with "
                         "fit(..., record=True) or fit_scalar(..., record=True) (or record=('boundary', "
                         "'weights'), or an nn.recording.Recorder)")
    return {"title": title, **_curves(history), "recording": recorder.to_data()}


def training_player_html(history: Any, *, title: str = "chainrule: training replay") -> str:
    """The player as a whole HTML page (see `training_player`)."""
    from viz.stepper import html_page

    data = player_data(history, title)
    svg = graph_svg(history.recording) if "graph" in data["recording"]["what"] else ""
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    body = (f'<div class="cr-train" tabindex="0">\n<style>{_STYLE}</style>\n'
            f"<h3>{html.escape(title)}</h3>\n"
            '<div class="cr-noscript">This training player needs JavaScript.</div>\n'
            '<div class="cr-controls"><button type="button" data-action="prev" title="previous (left arrow)">'
            '&#x25C0; prev</button><button type="button" data-action="play" title="play / pause (space)">'
            '&#x25B6; play</button><button type="button" data-action="next" title="next (right arrow)">'
            'next &#x25B6;</button><input class="cr-slider" type="range" min="0" value="0" step="1" '
            'aria-label="frame"><span class="cr-epoch"></span></div>\n'
            '<div class="cr-status"></div>\n'
            '<div class="cr-panels"><div class="cr-panel"><div class="cr-caption">loss</div>'
            '<canvas class="cr-loss" width="380" height="220"></canvas></div>'
            '<div class="cr-panel cr-metrics-panel"><div class="cr-caption">metrics</div>'
            '<canvas class="cr-metrics" width="380" height="220"></canvas></div>'
            '<div class="cr-panel cr-boundary-panel"><div class="cr-caption">decision boundary</div>'
            '<canvas class="cr-boundary" width="300" height="300"></canvas></div></div>\n'
            '<div class="cr-hists"></div>\n'
            + (f'<div class="cr-graph-panel"><div class="cr-caption">graph of sample '
               f'{data["recording"]["point"]}: data and dL/dnode of its loss at this epoch '
               '<label><input type="checkbox" class="cr-heat" checked> colour by |grad|</label></div>'
               f'<div class="cr-graph">\n{svg}\n</div></div>\n' if svg else "")
            + f'<script type="application/json" class="cr-data">{_json_in_html(payload)}</script>\n'
            f"<script>{_SCRIPT}</script>\n</div>")
    return html_page(body, title=title)


def training_player(history: Any, path: PathLike, *, title: str = "chainrule: training replay",
                    budget: Optional[int] = None) -> pathlib.Path:
    """Write one self-contained HTML file that replays a recorded training run; returns the path.

    `history`: what ``fit(..., record=...)`` or ``fit_scalar(..., record=...)`` returned.
    `budget`: the most bytes the file may take (default: the recorder's budget); a larger page
    is refused with advice, nothing is written.

    >>> import numpy as np, tempfile, os
    >>> from nn import TensorMLP, Adam, fit, functional as F
    >>> X = np.array([[0., 0.], [0., 1.], [1., 0.], [1., 1.]]); y = np.array([0, 1, 1, 0])
    >>> model = TensorMLP([2, 4, 2], seed=0)
    >>> history = fit(model, F.cross_entropy, Adam(model.parameters(), lr=0.1), (X, y), epochs=5,
    ...               progress=False, record=("boundary", "weights"))
    >>> path = training_player(history, os.path.join(tempfile.mkdtemp(), "run.html"))
    >>> path.read_text().count("cr-data") > 0
    True
    """
    from viz.stepper import _checked_html_path

    target = _checked_html_path(path)
    page = training_player_html(history, title=title)
    size = len(page.encode("utf-8"))
    limit = budget if budget is not None else getattr(history.recording, "budget", None)
    if limit is not None and size > limit:
        recorder = history.recording
        every = max(2, -(-recorder.every * size // limit))
        raise ValueError(
            f"training_player: the page would take {size:,} bytes, over the budget of {limit:,}. "
            f"Record fewer frames (Recorder(every={every})), fewer items (without 'graph' or 'grads'), "
            f"a coarser boundary (resolution=20), or pass budget={size + size // 10:,}")
    target.write_text(page, encoding="utf-8")
    return target


def _json_in_html(payload: str) -> str:
    return payload.replace("</", "<\\/").replace("<!--", "<\\u0021--")


_STYLE = """
.cr-train { font-family: Helvetica, Arial, sans-serif; font-size: 14px; color: #222; outline: none; }
.cr-train h3 { margin: 4px 0; }
.cr-train .cr-controls { display: flex; align-items: center; gap: 6px; margin: 4px 0; }
.cr-train button { font: inherit; font-size: 13px; padding: 2px 10px; }
.cr-train .cr-slider { flex: 1; max-width: 520px; }
.cr-train .cr-epoch { font-variant-numeric: tabular-nums; min-width: 8em; }
.cr-train .cr-status { font-variant-numeric: tabular-nums; margin: 2px 0 6px; color: #444; }
.cr-train .cr-panels, .cr-train .cr-hists { display: flex; flex-wrap: wrap; gap: 10px; }
.cr-train .cr-panel, .cr-train .cr-hist { border: 1px solid #e0e0e0; padding: 4px; }
.cr-train .cr-caption { font-size: 12px; color: #555; margin-bottom: 2px; }
.cr-train .cr-graph { max-height: 75vh; overflow: auto; border: 1px solid #e0e0e0; margin-top: 4px; }
.cr-train .cr-graph text { font-family: Helvetica, Arial, sans-serif; font-size: 11px; }
.cr-train .cr-graph-panel { margin-top: 10px; }
.cr-train:not([data-ready]) .cr-controls { display: none; }
.cr-train[data-ready] .cr-noscript { display: none; }
"""

_SCRIPT = r"""
(function () {
  "use strict";
  var PALETTE = ["#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3",
                 "#8c8c8c", "#ccb974", "#64b5cd"];
  var CHARS = "0123456789abcdefghijklmnopqrstuvwxyz";
  var TINTS = PALETTE.map(function (hex) {  // each colour at 35 % on white, opaque (no seams)
    var v = parseInt(hex.slice(1), 16), mix = function (c) { return Math.round(255 - 0.35 * (255 - c)); };
    return "rgb(" + mix(v >> 16) + "," + mix((v >> 8) & 255) + "," + mix(v & 255) + ")";
  });
  function init(root) {
    if (root.hasAttribute("data-ready")) { return; }
    var data = JSON.parse(root.querySelector("script.cr-data").textContent);
    var rec = data.recording, frames = rec.frames, last = frames.length - 1, epochs = data.loss.length;
    var slider = root.querySelector(".cr-slider"), label = root.querySelector(".cr-epoch");
    var status = root.querySelector(".cr-status"), playButton = root.querySelector("[data-action=play]");
    slider.max = last;
    var hasMetrics = Object.keys(data.metrics).length > 0;
    if (!hasMetrics) { root.querySelector(".cr-metrics-panel").style.display = "none"; }
    if (rec.what.indexOf("boundary") < 0) { root.querySelector(".cr-boundary-panel").style.display = "none"; }
    // histograms: one box per layer with a weights and a grads canvas
    var hists = root.querySelector(".cr-hists"), histCanvases = [];
    var kinds = ["weights", "grads"].filter(function (k) { return rec.what.indexOf(k) >= 0; });
    rec.layers.forEach(function (name) {
      if (!kinds.length) { return; }
      var box = document.createElement("div"), row = {};
      box.className = "cr-hist";
      kinds.forEach(function (kind) {
        var caption = document.createElement("div"), canvas = document.createElement("canvas");
        caption.className = "cr-caption"; canvas.width = 220; canvas.height = 90;
        canvas.setAttribute("data-layer", name); canvas.setAttribute("data-kind", kind);
        box.appendChild(caption); box.appendChild(canvas);
        row[kind] = [canvas, caption];
      });
      hists.appendChild(box); histCanvases.push(row);
    });
    // the graph: every node's data and grad text elements
    var texts = {}, shapes = {};
    var graph = root.querySelector(".cr-graph");
    if (graph) {
      Array.prototype.forEach.call(graph.querySelectorAll("g.node[data-n]"), function (g) {
        var id = g.getAttribute("data-n");
        if (/_op$/.test(id)) { return; }
        var entry = {};
        Array.prototype.forEach.call(g.getElementsByTagName("text"), function (t) {
          var s = t.textContent.replace(/\u00a0/g, " ");
          if (s.indexOf("data ") === 0) { entry.data = t; }
          if (s.indexOf("grad ") === 0) { entry.grad = t; }
        });
        texts[id.slice(1)] = entry;
        shapes[id.slice(1)] = g.querySelector("polygon, path");
      });
    }
    var heat = root.querySelector(".cr-heat");

    function scaleY(values, h, pad) {
      var finite = values.filter(function (v) { return isFinite(v); });
      var lo = Math.min.apply(null, finite), hi = Math.max.apply(null, finite);
      var log = lo > 0 && hi / lo > 20;
      var f = log ? function (v) { return Math.log(v); } : function (v) { return v; };
      var a = f(lo), b = f(hi); if (b === a) { a -= 1; b += 1; }
      return { y: function (v) { return h - pad - (f(v) - a) / (b - a) * (h - 2 * pad); }, lo: lo, hi: hi, log: log };
    }
    function chart(canvas, series, epoch) {
      var ctx = canvas.getContext("2d"), w = canvas.width, h = canvas.height, pad = 22;
      ctx.clearRect(0, 0, w, h);
      var all = [];
      series.forEach(function (s) { all = all.concat(s.values); });
      if (!all.length) { return; }
      var sy = scaleY(all, h, pad), n = Math.max(epochs, 2);
      function x(e) { return pad + (e - 1) / (n - 1) * (w - 2 * pad); }
      ctx.strokeStyle = "#ccc"; ctx.strokeRect(pad, pad, w - 2 * pad, h - 2 * pad);
      ctx.fillStyle = "#555"; ctx.font = "10px sans-serif";
      ctx.fillText(sy.hi.toPrecision(3), 2, pad - 4); ctx.fillText(sy.lo.toPrecision(3), 2, h - 6);
      ctx.fillText("epoch " + epochs, w - pad - 50, h - 6);
      series.forEach(function (s, i) {
        ctx.strokeStyle = s.colour; ctx.setLineDash(s.dash ? [4, 3] : []); ctx.lineWidth = 1.6;
        ctx.beginPath();
        s.values.forEach(function (v, k) { if (k === 0) { ctx.moveTo(x(k + 1), sy.y(v)); } else { ctx.lineTo(x(k + 1), sy.y(v)); } });
        ctx.stroke(); ctx.setLineDash([]);
        ctx.fillStyle = s.colour; ctx.fillText(s.name, pad + 4 + 90 * i, pad + 12);
      });
      if (epoch >= 1) {
        ctx.strokeStyle = "#d32f2f"; ctx.lineWidth = 1; ctx.beginPath();
        ctx.moveTo(x(epoch), pad); ctx.lineTo(x(epoch), h - pad); ctx.stroke();
      }
    }
    function boundary(canvas, frame) {
      var ctx = canvas.getContext("2d"), w = canvas.width, h = canvas.height, g = rec.grid, n = g.n;
      ctx.clearRect(0, 0, w, h);
      var cw = w / n, ch = h / n;
      for (var r = 0; r < n; r++) {
        for (var c = 0; c < n; c++) {
          ctx.fillStyle = TINTS[CHARS.indexOf(frame.boundary.charAt(r * n + c)) % TINTS.length];
          ctx.fillRect(Math.floor(c * cw), Math.floor(h - (r + 1) * ch), Math.ceil(cw) + 1, Math.ceil(ch) + 1);
        }
      }
      rec.points.forEach(function (p, i) {
        var px = (p[0] - g.x0) / (g.x1 - g.x0) * w, py = h - (p[1] - g.y0) / (g.y1 - g.y0) * h;
        ctx.beginPath(); ctx.arc(px, py, 3.2, 0, 2 * Math.PI);
        ctx.fillStyle = PALETTE[rec.labels[i] % PALETTE.length]; ctx.fill();
        ctx.strokeStyle = "#000"; ctx.lineWidth = 0.6; ctx.stroke();
      });
    }
    function histogram(canvas, caption, name, kind, hist) {
      var ctx = canvas.getContext("2d"), w = canvas.width, h = canvas.height;
      ctx.clearRect(0, 0, w, h);
      if (!hist) { caption.textContent = kind + " of " + name + ": none yet"; return; }
      var counts = hist[2], top = Math.max.apply(null, counts) || 1, bw = w / counts.length;
      ctx.fillStyle = kind === "weights" ? "#4c72b0" : "#dd8452";
      counts.forEach(function (c, i) { var bh = c / top * (h - 4); ctx.fillRect(i * bw + 1, h - bh, bw - 2, bh); });
      caption.textContent = kind + " of " + name + ": " + hist[0] + " to " + hist[1];
    }
    function heatColour(g, top) {
      if (!(top > 0) || !isFinite(g)) { return null; }
      var t = Math.log10(1 + 9 * Math.min(1, Math.abs(g) / top));
      var r = 255, gr = Math.round(255 - 150 * t), b = Math.round(255 - 235 * t);
      return "rgb(" + r + "," + gr + "," + b + ")";
    }
    function paintGraph(frame) {
      if (!graph || !frame.graph) { return; }
      var values = frame.graph[0], grads = frame.graph[1], top = 0;
      grads.forEach(function (g) { var v = Math.abs(parseFloat(g)); if (isFinite(v) && v > top) { top = v; } });
      Object.keys(texts).forEach(function (k) {
        var entry = texts[k];
        if (entry.data) { entry.data.textContent = "data " + values[k]; }
        if (entry.grad) { entry.grad.textContent = "grad " + grads[k]; }
        var shape = shapes[k];
        if (!shape) { return; }
        if (!shape.hasAttribute("data-fill")) { shape.setAttribute("data-fill", shape.getAttribute("fill") || "none"); }
        var colour = heat && heat.checked ? heatColour(parseFloat(grads[k]), top) : null;
        shape.setAttribute("fill", colour || shape.getAttribute("data-fill"));
      });
    }
    var current = -1, timer = null;
    function show(k) {
      k = Math.max(0, Math.min(last, k));
      current = k; slider.value = k;
      var frame = frames[k], epoch = frame.epoch;
      label.textContent = "epoch " + epoch + " / " + epochs;
      root.setAttribute("data-frame", k); root.setAttribute("data-epoch", epoch);
      var parts = [];
      if (epoch >= 1) {
        parts.push("loss " + data.loss[epoch - 1].toPrecision(4));
        Object.keys(data.metrics).forEach(function (m) { parts.push(m + " " + data.metrics[m][epoch - 1].toPrecision(3)); });
        if (data.val_loss.length) { parts.push("val_loss " + data.val_loss[epoch - 1].toPrecision(4)); }
      } else { parts.push("before training"); }
      status.textContent = parts.join("   ");
      var series = [{ name: "loss", values: data.loss, colour: "#4c72b0" }];
      if (data.val_loss.length) { series.push({ name: "val_loss", values: data.val_loss, colour: "#dd8452" }); }
      chart(root.querySelector(".cr-loss"), series, epoch);
      if (hasMetrics) {
        var ms = [];
        Object.keys(data.metrics).forEach(function (m, i) {
          ms.push({ name: m, values: data.metrics[m], colour: PALETTE[i % PALETTE.length] });
          if (data.val_metrics[m]) { ms.push({ name: "val_" + m, values: data.val_metrics[m], colour: PALETTE[i % PALETTE.length], dash: true }); }
        });
        chart(root.querySelector(".cr-metrics"), ms, epoch);
      }
      if (frame.boundary) { boundary(root.querySelector(".cr-boundary"), frame); }
      histCanvases.forEach(function (row, i) {
        kinds.forEach(function (kind) {
          var hist = frame[kind] ? frame[kind][i] : null;
          histogram(row[kind][0], row[kind][1], rec.layers[i], kind, hist);
        });
      });
      paintGraph(frame);
    }
    function stop() { if (timer !== null) { clearInterval(timer); timer = null; } playButton.textContent = "\u25B6 play"; }
    function play() {
      if (timer !== null) { stop(); return; }
      if (current === last) { show(0); }
      playButton.textContent = "\u275A\u275A pause";
      timer = setInterval(function () { show(current + 1); if (current >= last) { stop(); } }, 400);
    }
    var actions = { prev: function () { stop(); show(current - 1); }, next: function () { stop(); show(current + 1); }, play: play };
    Array.prototype.forEach.call(root.querySelectorAll("button[data-action]"), function (b) {
      b.addEventListener("click", actions[b.getAttribute("data-action")]);
    });
    slider.addEventListener("input", function () { stop(); show(parseInt(slider.value, 10)); });
    if (heat) { heat.addEventListener("change", function () { show(current); }); }
    root.addEventListener("keydown", function (event) {
      var keys = { ArrowRight: actions.next, ArrowLeft: actions.prev, " ": play,
                   Home: function () { stop(); show(0); }, End: function () { stop(); show(last); } };
      var action = keys[event.key];
      if (!action || event.target === slider) { return; }
      event.preventDefault(); action();
    });
    root.setAttribute("data-ready", "1");
    show(last);
  }
  Array.prototype.forEach.call(document.querySelectorAll("div.cr-train"), init);
})();
"""


__all__ = ["training_player", "training_player_html", "graph_svg", "player_data"]
