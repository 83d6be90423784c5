"""Turning DOT source into SVG, PNG or PDF, without depending on a system binary, within a time limit.

Two renderers:

1. Graphviz's own executable (``dot``, or whichever layout engine is asked for) when it is on
   PATH: the reference implementation, run as a subprocess.
2. pygraphviz, whose wheels bundle the Graphviz libraries, so that a plain ``pip install`` is
   enough on a machine without Graphviz. The layout runs in a worker process forked from this
   one (a fresh interpreter where ``fork`` is unavailable): no executable is needed, and a
   layout that runs past its time limit can be stopped, which a thread could not do.

`render_source` and `GradientGraph`'s ``pipe``, ``render`` and ``_repr_svg_`` prefer the
executable when it is on PATH (the reference layout), else pygraphviz; `render_images`,
`viz.save` and the Jupyter display bundle prefer pygraphviz (one layout for SVG and PNG, and the
same pictures whether or not the system has Graphviz), else the executable. Either way
``graphviz.ExecutableNotFound`` never reaches a user, and one `RendererUnavailableError` names
both fixes when neither can run.

**Time limit.** Every render stops after ``timeout`` seconds (`DEFAULT_TIMEOUT_S` unless told
otherwise; None: no limit) and raises `RenderTimeoutError`, which says how large the drawing is
and how to make it smaller; a worker that is stopped leaves nothing running behind.

**Fontconfig.** On Linux the Graphviz inside pygraphviz's wheel carries an older fontconfig than
the system, and prints ``Fontconfig warning: ... unknown element "reset-dirs"`` on every drawing
when it reads the system's configuration. The worker therefore points ``FONTCONFIG_FILE`` at a
minimal configuration of its own (`fontconfig_file`: the usual font folders and the aliases the
drawings' fonts need), in the worker only and only when the user has set neither
``FONTCONFIG_FILE`` nor ``FONTCONFIG_PATH``; any fontconfig line that still reaches the worker's
stderr is dropped.
"""

from __future__ import annotations

import os
import pathlib
import pickle
import re
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from typing import Any, Literal, Optional, Sequence, Union

import graphviz

RendererName = Literal["dot", "pygraphviz"]

# Seconds a render may take before it is stopped (both renderers). Drawings within
# `viz.graph.DEFAULT_MAX_NODES` take a few seconds at most on a 2-core VM (benchmarks/RESULTS.md).
DEFAULT_TIMEOUT_S = 20.0

# Formats laid out at a `dpi`: the bitmaps. SVG and PDF are vector formats, drawn in points.
RASTER_FORMATS = frozenset({"png", "jpg", "jpeg", "jpe", "gif", "bmp", "tif", "tiff", "webp"})

# The longest side, in pixels, of the PNG in a Jupyter display bundle: a larger drawing is
# laid out again at a lower dpi (an 8,000-pixel PNG is already 10 MB or more).
MAX_BUNDLE_PNG_SIDE = 8000
BUNDLE_PNG_DPI = 96.0

INSTALL_HELP = (
    "Install either one: Graphviz's `dot` executable (https://graphviz.org/download/, e.g. "
    "`apt-get install graphviz` or `brew install graphviz`), or "
    '`pip install "pygraphviz>=2.0"` (its wheels bundle Graphviz; no system package needed).'
)


class RendererUnavailableError(RuntimeError):
    """Neither Graphviz's executable nor pygraphviz can render a graph on this machine."""


class RenderTimeoutError(TimeoutError):
    """A layout ran past its time limit and was stopped."""


# -- checks ----------------------------------------------------------------------------------


def _check_engine_and_format(engine: str, format: str) -> None:
    if not isinstance(engine, str) or engine not in graphviz.ENGINES:
        raise ValueError(f"unknown Graphviz layout engine {engine!r}; expected one of "
                         f"{sorted(graphviz.ENGINES)}")
    if not isinstance(format, str) or format not in graphviz.FORMATS:
        raise ValueError(f"unknown Graphviz output format {format!r}; common ones are "
                         f"'svg', 'png', 'pdf' (all: {sorted(graphviz.FORMATS)})")


def check_timeout(timeout: Any) -> Optional[float]:
    """`timeout` as a float of seconds (None: no limit); ValueError/TypeError otherwise."""
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"timeout must be a number of seconds or None (no limit), got {timeout!r}")
    if not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds or None, got {timeout!r}")
    return float(timeout)


def check_dpi(dpi: Any) -> Optional[float]:
    """`dpi` as a float (None: Graphviz's default, 96 for PNG); ValueError/TypeError otherwise."""
    if dpi is None:
        return None
    if isinstance(dpi, bool) or not isinstance(dpi, (int, float)):
        raise TypeError(f"dpi must be a number (dots per inch) or None, got {dpi!r}")
    if not 1 <= dpi <= 2400:
        raise ValueError(f"dpi must be between 1 and 2400, got {dpi!r}")
    return float(dpi)


def executable_available(engine: str = "dot") -> bool:
    """True when Graphviz's `engine` executable (``dot`` by default) is on PATH."""
    return shutil.which(engine) is not None


def pygraphviz_available() -> bool:
    """True when pygraphviz can be imported (it lays graphs out without any executable)."""
    try:
        import pygraphviz  # noqa: F401
    except ImportError:
        return False
    return True


def choose_renderer(engine: str = "dot", prefer: Optional[RendererName] = None) -> RendererName:
    """The renderer a render will use: ``"dot"`` (the executable) or ``"pygraphviz"``.

    `prefer` names the one to use when both are available (default: the executable).
    Raises `RendererUnavailableError`, naming both fixes, when neither can run.
    """
    if prefer not in (None, "dot", "pygraphviz"):
        raise ValueError(f"prefer must be 'dot', 'pygraphviz' or None, got {prefer!r}")
    order: tuple[RendererName, ...] = ("pygraphviz", "dot") if prefer == "pygraphviz" else ("dot", "pygraphviz")
    for name in order:
        if (executable_available(engine) if name == "dot" else pygraphviz_available()):
            return name
    raise RendererUnavailableError(
        f"cannot render the graph: Graphviz's `{engine}` executable is not on PATH and "
        f"pygraphviz is not installed. {INSTALL_HELP}")


# -- fontconfig --------------------------------------------------------------------------------

_SANS = ("DejaVu Sans", "Liberation Sans", "Nimbus Sans", "Arial", "Helvetica", "FreeSans")
_MONO = ("DejaVu Sans Mono", "Liberation Mono", "Nimbus Mono PS", "Courier New", "FreeMono")


def fontconfig_text() -> str:
    """The minimal fontconfig configuration the pygraphviz worker uses on Linux.

    Only elements that every fontconfig since 2.10 knows: the usual font folders, a cache
    folder, and aliases so that the drawings' fonts (Helvetica, Arial, sans-serif; Courier,
    monospace) find a matching face."""
    def alias(family: str, prefer: Sequence[str]) -> str:
        names = "".join(f"<family>{name}</family>" for name in prefer)
        return f"  <alias><family>{family}</family><prefer>{names}</prefer></alias>\n"

    sans = ("Liberation Sans", "Nimbus Sans", "Arial", "DejaVu Sans", "FreeSans")
    return ('<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n'
            "<!-- chainrule: a minimal configuration for the Graphviz inside pygraphviz's wheel -->\n"
            "<fontconfig>\n"
            "  <dir>/usr/share/fonts</dir>\n  <dir>/usr/local/share/fonts</dir>\n"
            '  <dir prefix="xdg">fonts</dir>\n  <dir>~/.fonts</dir>\n'
            '  <cachedir prefix="xdg">fontconfig</cachedir>\n  <cachedir>~/.fontconfig</cachedir>\n'
            + alias("Helvetica", sans) + alias("Arial", sans) + alias("sans-serif", _SANS)
            + alias("Courier", _MONO[1:] + _MONO[:1]) + alias("monospace", _MONO)
            + "</fontconfig>\n")


def fontconfig_file() -> Optional[str]:
    """The path of `fontconfig_text` written out (once per user), or None where the worker
    keeps the user's own configuration: off Linux, when ``FONTCONFIG_FILE`` or
    ``FONTCONFIG_PATH`` is set, or when no file can be written."""
    if not sys.platform.startswith("linux") or "FONTCONFIG_FILE" in os.environ \
            or "FONTCONFIG_PATH" in os.environ:
        return None
    text = fontconfig_text()
    folder = pathlib.Path(tempfile.gettempdir()) / f"chainrule-fontconfig-{os.getuid()}"
    path = folder / "fonts.conf"
    try:
        if not path.is_file() or path.read_text() != text:
            folder.mkdir(mode=0o700, exist_ok=True)
            scratch = folder / f"fonts.conf.{os.getpid()}"
            scratch.write_text(text)
            os.replace(scratch, path)
    except OSError:
        return None
    return str(path)


_FONTCONFIG_NOISE = re.compile(r"^Fontconfig (warning|error)\b.*$\n?", re.MULTILINE)
_PYGRAPHVIZ_NOISE = re.compile(r"^Warning: graph has \d+ nodes\.\.\.layout may take a long time\.$\n?",
                               re.MULTILINE)


def clean_stderr(text: str) -> str:
    """Graphviz's stderr without fontconfig's configuration warnings (see the module docstring)."""
    return _PYGRAPHVIZ_NOISE.sub("", _FONTCONFIG_NOISE.sub("", text)).strip()


# -- the pygraphviz worker ---------------------------------------------------------------------

Job = tuple[str, Optional[float]]  # (format, dpi); one layout per distinct dpi


def _group_by_dpi(jobs: Sequence[Job]) -> dict[Optional[float], list[str]]:
    groups: dict[Optional[float], list[str]] = {}
    for format, dpi in jobs:
        groups.setdefault(dpi, []).append(format)
    return groups


def _svg_size_points(svg: bytes) -> tuple[float, float]:
    """(width, height) in points from an SVG's root element as Graphviz writes it."""
    found = re.search(rb'<svg width="([\d.]+)pt" height="([\d.]+)pt"', svg[:2000])
    return (float(found.group(1)), float(found.group(2))) if found else (0.0, 0.0)


def _layout_and_render(source: str, engine: str, jobs: Sequence[Job],
                       max_png_side: Optional[int]) -> dict[Job, bytes]:
    """Lay `source` out with pygraphviz once per dpi and render each job (in the worker).

    With `max_png_side`, a PNG whose longest side would exceed it is laid out again at the
    dpi that fits; the size comes from an SVG rendered before it from the same layout."""
    import pygraphviz
    from pygraphviz import graphviz as gv

    try:
        graph = pygraphviz.AGraph(string=source)
    except (pygraphviz.DotError, ValueError) as error:
        raise ValueError(f"pygraphviz could not parse the DOT source: {error}") from None
    source_dpi = graph.graph_attr.get("dpi") or ""
    results: dict[Job, bytes] = {}
    pending: list[tuple[Optional[float], list[Job]]] = [
        (dpi, [(format, dpi) for format in formats]) for dpi, formats in _group_by_dpi(jobs).items()]
    while pending:
        dpi, group = pending.pop(0)
        graph.graph_attr["dpi"] = source_dpi if dpi is None else f"{dpi:g}"
        context = gv.gvContextWithBuiltins()
        if gv.gvLayout(context, graph.handle, engine.encode()) != 0:
            gv.gvFreeContext(context)
            raise ValueError(f"pygraphviz could not lay the graph out with {engine!r}")
        size_points: Optional[tuple[float, float]] = None
        try:
            for job in group:
                format = job[0]
                if max_png_side and format == "png" and size_points is not None:
                    side = max(size_points) * (dpi or BUNDLE_PNG_DPI) / 72.0
                    if side > max_png_side:
                        pending.append((72.0 * max_png_side / max(size_points), [job]))
                        continue
                error, data = gv.gvRenderData(context, graph.handle, format.encode())
                if error:
                    raise ValueError(f"pygraphviz could not render the graph as {format!r} "
                                     f"with {engine!r}")
                if format == "svg" and dpi is None:
                    size_points = _svg_size_points(data)
                results[job] = data
        finally:
            gv.gvFreeLayout(context, graph.handle)
            gv.gvFreeContext(context)
    return results


def _worker_payload(source: str, engine: str, jobs: Sequence[Job],
                    max_png_side: Optional[int]) -> tuple[str, Any, str]:
    """Run `_layout_and_render` with fd 2 captured; ("ok", results, stderr) or ("error", text, stderr)."""
    config = fontconfig_file()
    if config is not None:
        os.environ["FONTCONFIG_FILE"] = config
    with tempfile.TemporaryFile() as captured:
        saved = os.dup(2)
        os.dup2(captured.fileno(), 2)
        try:
            payload: tuple[str, Any] = ("ok", _layout_and_render(source, engine, jobs, max_png_side))
        except BaseException as error:  # noqa: BLE001 - reported to the parent
            payload = ("error", f"{type(error).__name__}: {error}")
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        captured.seek(0)
        stderr = captured.read().decode("utf-8", "replace")
    return payload[0], payload[1], stderr


def _fork_worker(connection: Any, source: str, engine: str, jobs: Sequence[Job],
                 max_png_side: Optional[int]) -> None:
    """The body of a forked worker: send the payload, then leave without any cleanup of the
    parent's state (atexit handlers, buffered files) that the fork copied."""
    try:
        connection.send(_worker_payload(source, engine, jobs, max_png_side))
        connection.close()
    finally:
        os._exit(0)


# Run by `python -c` where fork is not used: reads a pickle of the arguments on stdin, writes the
# payload's pickle on stdout. It imports only pygraphviz and this file's worker functions.
_SPAWN_CODE = (
    "import pickle, sys, runpy\n"
    "module = runpy.run_path(sys.argv[1])\n"
    "arguments = pickle.loads(sys.stdin.buffer.read())\n"
    "sys.stdout.buffer.write(pickle.dumps(module['_worker_payload'](*arguments)))\n"
)

# "fork": a worker forked from this process (Linux; fast, pygraphviz already loaded);
# "spawn": a fresh interpreter (elsewhere, where forking a process that uses system
# frameworks is unsafe). Tests set it to exercise both.
WORKER_START = "fork" if sys.platform.startswith("linux") else "spawn"


def _timeout_error(renderer: str, engine: str, timeout: float, source: str) -> RenderTimeoutError:
    nodes = source.count("\n\t") or source.count("\n")
    return RenderTimeoutError(
        f"rendering stopped after the time limit of {timeout:g} s: {renderer}'s {engine} layout of "
        f"this drawing (about {nodes:,} DOT statements) had not finished. Draw less of it: "
        f"draw_graph(root, collapse=(...)) or cluster=True for a network, focus=node for one "
        f"weight's chain, or a smaller graph (fewer samples); or allow more time with timeout=...")


def _run_pygraphviz(source: str, engine: str, jobs: Sequence[Job], timeout: Optional[float],
                    max_png_side: Optional[int]) -> tuple[dict[Job, bytes], str]:
    """The jobs rendered by a pygraphviz worker (see `WORKER_START`), stopped after `timeout`."""
    arguments = (source, engine, list(jobs), max_png_side)
    if WORKER_START == "fork":
        import multiprocessing

        context = multiprocessing.get_context("fork")
        receiver, sender = context.Pipe(duplex=False)
        worker = context.Process(target=_fork_worker, args=(sender, *arguments), daemon=True)
        with warnings.catch_warnings():  # Python 3.12+ warns about forking a threaded process
            warnings.simplefilter("ignore", DeprecationWarning)
            worker.start()
        sender.close()
        try:
            if not receiver.poll(timeout):
                worker.kill()
                raise _timeout_error("pygraphviz", engine, timeout or 0.0, source)
            try:
                status, result, stderr = receiver.recv()
            except EOFError:
                worker.join()
                raise RuntimeError(f"pygraphviz's Graphviz crashed while laying the graph out "
                                   f"(worker exit code {worker.exitcode}); the executable may "
                                   f"still work: {INSTALL_HELP}") from None
        finally:
            # Whatever happened (the payload arrived, the time ran out, Ctrl-C in a notebook),
            # no worker outlives the call: one that has sent its payload is only exiting.
            receiver.close()
            if worker.is_alive():
                worker.kill()
            worker.join()
    else:
        try:
            done = subprocess.run([sys.executable, "-c", _SPAWN_CODE, __file__],
                                  input=pickle.dumps(arguments), capture_output=True,
                                  timeout=timeout)
        except subprocess.TimeoutExpired:
            raise _timeout_error("pygraphviz", engine, timeout or 0.0, source) from None
        if done.returncode != 0 or not done.stdout:
            raise RuntimeError(f"the pygraphviz worker failed (exit code {done.returncode}): "
                               f"{clean_stderr(done.stderr.decode('utf-8', 'replace'))[-2000:]}")
        status, result, stderr = pickle.loads(done.stdout)
    stderr = clean_stderr(stderr)
    if status != "ok":
        raise ValueError(result.removeprefix("ValueError: ") + (f"\n{stderr}" if stderr else ""))
    return result, stderr


def _run_executable(source: str, engine: str, jobs: Sequence[Job], timeout: Optional[float],
                    renderer: Optional[str], formatter: Optional[str]) -> tuple[dict[Job, bytes], str]:
    """The jobs rendered by Graphviz's `engine` executable (one run per dpi), stopped after `timeout`.

    Raises ``graphviz.ExecutableNotFound`` when the executable cannot be started."""
    executable = shutil.which(engine)
    if executable is None:
        raise graphviz.ExecutableNotFound([engine])
    deadline = None if timeout is None else time.monotonic() + timeout
    results: dict[Job, bytes] = {}
    messages = []
    with tempfile.TemporaryDirectory(prefix="chainrule-render-") as folder:
        for dpi, formats in _group_by_dpi(jobs).items():
            command = [executable] + ([f"-Gdpi={dpi:g}"] if dpi is not None else [])
            outputs = []
            for i, format in enumerate(formats):
                plugin = ":".join(part for part in (format, renderer, formatter) if part)
                outputs.append(os.path.join(folder, f"out{len(results) + i}"))
                command += [f"-T{plugin}", f"-o{outputs[-1]}"]
            remaining = None if deadline is None else max(0.01, deadline - time.monotonic())
            try:
                done = subprocess.run(command, input=source.encode("utf-8"), capture_output=True,
                                      timeout=remaining)
            except subprocess.TimeoutExpired:
                raise _timeout_error("Graphviz's executable", engine, timeout or 0.0, source) from None
            except OSError:
                raise graphviz.ExecutableNotFound([engine]) from None
            stderr = clean_stderr(done.stderr.decode("utf-8", "replace"))
            if done.returncode != 0:
                raise ValueError(f"Graphviz's {engine} could not render the graph as "
                                 f"{', '.join(formats)} (exit code {done.returncode}): {stderr}")
            messages.append(stderr)
            for format, output in zip(formats, outputs):
                results[(format, dpi)] = pathlib.Path(output).read_bytes()
    return results, "\n".join(m for m in messages if m)


def render_jobs(
    source: str,
    jobs: Sequence[Job],
    engine: str = "dot",
    *,
    prefer: Optional[RendererName] = None,
    timeout: Optional[float] = DEFAULT_TIMEOUT_S,
    renderer: Optional[str] = None,
    formatter: Optional[str] = None,
    quiet: bool = True,
    max_png_side: Optional[int] = None,
) -> tuple[dict[Job, bytes], RendererName]:
    """Render DOT `source` for each (format, dpi) job with one layout per dpi.

    Returns the output of every job and the renderer that made them. `prefer` picks the
    renderer when both are available (default: the executable); `timeout` (seconds, None: no
    limit) bounds the whole render, raising `RenderTimeoutError`. Graphviz's remaining
    warnings are written to stderr unless `quiet`."""
    if not isinstance(source, str):
        raise TypeError(f"DOT source must be a str, got {type(source).__name__}")
    if not jobs:
        raise ValueError("render_jobs needs at least one (format, dpi) job")
    for format, dpi in jobs:
        _check_engine_and_format(engine, format)
        check_dpi(dpi)
    timeout = check_timeout(timeout)
    if formatter is not None and renderer is None:
        raise ValueError(f"formatter {formatter!r} needs a renderer as well")
    chosen = choose_renderer(engine, prefer)
    if chosen == "dot":
        try:
            results, stderr = _run_executable(source, engine, jobs, timeout, renderer, formatter)
        except graphviz.ExecutableNotFound:
            # The executable vanished between the PATH check and the call (or PATH points at
            # a broken install): the in-process renderer still works.
            if not pygraphviz_available():
                raise RendererUnavailableError(
                    f"cannot render the graph: Graphviz's `{engine}` executable could not be "
                    f"started and pygraphviz is not installed. {INSTALL_HELP}") from None
            chosen = "pygraphviz"
    if chosen == "pygraphviz":
        plugin_jobs = [(":".join(part for part in (format, renderer, formatter) if part), dpi)
                       for format, dpi in jobs]
        rendered, stderr = _run_pygraphviz(source, engine, plugin_jobs, timeout, max_png_side)
        results = {job: rendered[plugin_job] for job, plugin_job in zip(jobs, plugin_jobs)}
    if stderr and not quiet:
        print(stderr, file=sys.stderr)
    return results, chosen


def render_source(
    source: str,
    format: str = "svg",
    engine: str = "dot",
    *,
    renderer: Optional[str] = None,
    formatter: Optional[str] = None,
    quiet: bool = True,
    timeout: Optional[float] = DEFAULT_TIMEOUT_S,
    dpi: Optional[float] = None,
    prefer: Optional[RendererName] = None,
) -> tuple[bytes, RendererName]:
    """Lay out and render DOT `source`; return the output bytes and which renderer made them.

    Uses Graphviz's `engine` executable when it is on PATH, else pygraphviz (`prefer` reverses
    that). `renderer`/`formatter` pick a Graphviz plugin (e.g. ``format="png", renderer="cairo"``);
    `dpi` sets the resolution of a bitmap format; `timeout` (seconds, None: no limit) raises
    `RenderTimeoutError` when the layout takes longer.
    """
    results, used = render_jobs(source, [(format, check_dpi(dpi))], engine, prefer=prefer,
                                timeout=timeout, renderer=renderer, formatter=formatter, quiet=quiet)
    return next(iter(results.values())), used


def render_images(source: str, formats: Sequence[str] = ("svg", "png"), engine: str = "dot", *,
                  dpi: Optional[float] = None, timeout: Optional[float] = DEFAULT_TIMEOUT_S,
                  max_png_side: Optional[int] = MAX_BUNDLE_PNG_SIDE) -> dict[str, bytes]:
    """`source` rendered in each of `formats` from one layout, by pygraphviz (the executable
    where pygraphviz is missing): e.g. the SVG and the PNG of a Jupyter display bundle.

    `dpi` applies to the bitmap formats only (PNG: 96 by default), a PNG larger than
    `max_png_side` pixels is drawn at the dpi that fits, and `timeout` bounds the whole render.
    """
    dpi = check_dpi(dpi)
    jobs = [(format, dpi if format in RASTER_FORMATS else None) for format in formats]
    results, _ = render_jobs(source, jobs, engine, prefer="pygraphviz", timeout=timeout,
                             max_png_side=max_png_side)
    return {format: results[job] for format, job in zip(formats, jobs)}


PathLike = Union[str, "os.PathLike[str]"]


class GradientGraph(graphviz.Digraph):
    """A drawing of a computation graph, as `viz.draw_graph` returns it: it shows itself in
    Jupyter, saves as SVG, PNG or PDF, and never needs the ``dot`` executable or hangs.

    >>> from autograd_core import Value
    >>> from viz import draw_graph
    >>> x = Value(3.0, "x")
    >>> y = x * x; y.label = "y"
    >>> y.backward()
    >>> graph = draw_graph(y)                   # in Jupyter the cell shows the picture
    >>> graph.pipe(format="svg")[:5]            # or viz.save(y, "y.svg"), .png, .pdf
    b'<?xml'

    A `graphviz.Digraph`: ``pipe``, ``render``, ``view``, ``_repr_svg_`` and the Jupyter display
    bundle (``_repr_mimebundle_``: SVG and PNG, so that the picture shows in an untrusted notebook
    and on code hosts) use `render_jobs`: Graphviz's executable or pygraphviz, stopped after
    ``timeout`` seconds. After each rendering, ``last_renderer`` says which one ran.
    ``drawn_nodes`` is the number of nodes `viz.draw_graph` drew (0 for a graph built by hand).
    """

    last_renderer: Optional[RendererName] = None
    timeout: Optional[float] = DEFAULT_TIMEOUT_S
    drawn_nodes: int = 0
    stub_items: frozenset = frozenset()  # ids (nK) of nodes drawn as inputs of a chain's ops
    direction: str = "LR"  # the drawing's rankdir
    notes: Sequence[str] = ()  # what draw_graph left out to stay within its budget

    def __repr__(self) -> str:
        # No object address: a re-executed notebook shows the same text (no spurious diffs).
        statements = sum(1 for line in self.body if line.strip() and not line.strip().startswith("//"))
        return f"<GradientGraph: {statements} DOT statements>"

    def pipe(  # type: ignore[override]
        self,
        format: Optional[str] = None,
        renderer: Optional[str] = None,
        formatter: Optional[str] = None,
        neato_no_op: Union[bool, int, None] = None,
        quiet: bool = False,
        *,
        engine: Optional[str] = None,
        encoding: Optional[str] = None,
        timeout: Union[float, None, Literal["default"]] = "default",
        dpi: Optional[float] = None,
    ) -> Union[bytes, str]:
        """The graph rendered as `format` (default ``self.format``): bytes, or str if `encoding`.

        `timeout`: seconds before the render is stopped (default ``self.timeout``; None: no
        limit); `dpi`: the resolution of a bitmap format."""
        if neato_no_op:
            raise ValueError("neato_no_op is not supported by chainrule's renderer fallback")
        data, self.last_renderer = render_source(
            self.source, format or self.format, engine or self.engine,
            renderer=renderer, formatter=formatter, quiet=quiet, dpi=dpi,
            timeout=self.timeout if timeout == "default" else timeout)
        return data.decode(encoding) if encoding is not None else data

    def render(  # type: ignore[override]
        self,
        filename: Optional[PathLike] = None,
        directory: Optional[PathLike] = None,
        view: bool = False,
        cleanup: bool = False,
        format: Optional[str] = None,
        renderer: Optional[str] = None,
        formatter: Optional[str] = None,
        neato_no_op: Union[bool, int, None] = None,
        quiet: bool = False,
        quiet_view: bool = False,
        *,
        outfile: Optional[PathLike] = None,
        engine: Optional[str] = None,
        raise_if_result_exists: bool = False,
        overwrite_source: bool = False,
    ) -> str:
        """Save the DOT source and render it to a file; return the rendered file's path.

        Same arguments and file names as `graphviz.Digraph.render`: the output goes to
        `outfile` (its suffix gives the format) or to ``<source file>.<format>``.
        """
        if outfile is not None:
            outfile = pathlib.Path(outfile)
            if format is None:
                format = outfile.suffix.lstrip(".").lower() or None
            if format is None:
                raise ValueError(f"cannot tell the output format from {str(outfile)!r}: "
                                 f"give format=... or a suffix such as .svg")
            if directory is None:
                outfile = pathlib.Path(self.directory, outfile)
            if filename is None:
                filename = outfile.with_suffix(".gv")
        format = format or self.format
        source_path = pathlib.Path(self.save(filename, directory=directory))
        suffix = ".".join(part for part in (formatter, renderer, format) if part)
        target = outfile if outfile is not None else pathlib.Path(f"{source_path}.{suffix}")
        if target.resolve() == source_path.resolve() and not overwrite_source:
            raise ValueError(f"the output file {str(target)!r} is the DOT source file itself; "
                             f"pass overwrite_source=True to replace it")
        if raise_if_result_exists and target.exists():
            raise graphviz.FileExistsError(f"output file exists: {str(target)!r}")
        data = self.pipe(format, renderer, formatter, neato_no_op, quiet, engine=engine)
        target.write_bytes(data)  # type: ignore[arg-type]
        if cleanup:
            os.remove(source_path)
        if view or quiet_view:
            self._view(str(target), format=format, quiet=quiet_view)
        return str(target)

    def _repr_svg_(self) -> str:
        """The graph as an SVG string, for Jupyter."""
        return self.pipe(format="svg", encoding="utf-8")  # type: ignore[return-value]

    def _repr_mimebundle_(self, include: Optional[Sequence[str]] = None,
                          exclude: Optional[Sequence[str]] = None, **_: Any) -> dict[str, Any]:
        """The Jupyter display bundle: ``image/svg+xml`` and ``image/png`` from one layout.

        The PNG is what an untrusted notebook, a code host or nbviewer without SVG support
        shows; it is drawn at 96 dpi (less for a drawing wider than `MAX_BUNDLE_PNG_SIDE`
        pixels). `include`/`exclude` narrow the MIME types, as in IPython."""
        wanted = {"image/svg+xml": "svg", "image/png": "png"}
        mimetypes = [m for m in wanted if (include is None or m in include)
                     and m not in set(exclude or ())]
        if not mimetypes:
            return {}
        formats = [wanted[m] for m in mimetypes]
        jobs = [(format, None) for format in formats]
        results, self.last_renderer = render_jobs(
            self.source, jobs, self.engine, prefer="pygraphviz", timeout=self.timeout,
            max_png_side=MAX_BUNDLE_PNG_SIDE)
        bundle: dict[str, Any] = {}
        for mimetype, job in zip(mimetypes, jobs):
            data = results[job]
            bundle[mimetype] = data.decode("utf-8") if mimetype == "image/svg+xml" else data
        return bundle

    def _repr_image_png(self) -> bytes:
        """The graph as PNG bytes (96 dpi), for Jupyter."""
        return self._repr_mimebundle_(include=["image/png"])["image/png"]


__all__ = [
    "GradientGraph", "RendererUnavailableError", "RenderTimeoutError", "DEFAULT_TIMEOUT_S",
    "render_source", "render_images", "render_jobs", "choose_renderer", "executable_available",
    "pygraphviz_available", "fontconfig_file", "check_timeout", "check_dpi",
]
