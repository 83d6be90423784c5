"""Turning DOT source into SVG/PNG without depending on a system binary.

Two renderers, tried in this order:

1. Graphviz's own executable (``dot``, or whichever layout engine is asked for) when it is
   on PATH: the reference implementation, run as a subprocess by the `graphviz` package.
2. pygraphviz, which bundles the Graphviz libraries and lays the graph out in-process,
   so a plain ``pip install`` is enough on a machine without Graphviz.

`GradientGraph` is the `graphviz.Digraph` that `draw_graph` returns: its ``pipe``,
``render`` and Jupyter display go through the same fallback, so
``graphviz.ExecutableNotFound`` never reaches a user.
"""

from __future__ import annotations

import contextlib
import io
import os
import pathlib
import shutil
from typing import Literal, Optional, Union

import graphviz

RendererName = Literal["dot", "pygraphviz"]

INSTALL_HELP = (
    "Install either one: Graphviz's `dot` executable (https://graphviz.org/download/, e.g. "
    "`apt-get install graphviz` or `brew install graphviz`), or "
    '`pip install "pygraphviz>=2.0"` (its wheels bundle Graphviz; no system package needed).'
)


class RendererUnavailableError(RuntimeError):
    """Neither Graphviz's executable nor pygraphviz can render a graph on this machine."""


def _check_engine_and_format(engine: str, format: str) -> None:
    if not isinstance(engine, str) or engine not in graphviz.ENGINES:
        raise ValueError(f"unknown Graphviz layout engine {engine!r}; expected one of "
                         f"{sorted(graphviz.ENGINES)}")
    if not isinstance(format, str) or format not in graphviz.FORMATS:
        raise ValueError(f"unknown Graphviz output format {format!r}; common ones are "
                         f"'svg', 'png', 'pdf' (all: {sorted(graphviz.FORMATS)})")


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


def choose_renderer(engine: str = "dot") -> RendererName:
    """The renderer `render_source` will use: ``"dot"`` (the executable) or ``"pygraphviz"``.

    Raises `RendererUnavailableError`, naming both fixes, when neither can run.
    """
    if executable_available(engine):
        return "dot"
    if pygraphviz_available():
        return "pygraphviz"
    raise RendererUnavailableError(
        f"cannot render the graph: Graphviz's `{engine}` executable is not on PATH and "
        f"pygraphviz is not installed. {INSTALL_HELP}")


def _render_with_pygraphviz(source: str, format: str, engine: str) -> bytes:
    import pygraphviz

    try:
        graph = pygraphviz.AGraph(string=source)
    except (pygraphviz.DotError, ValueError) as error:
        raise ValueError(f"pygraphviz could not parse the DOT source: {error}") from error
    # pygraphviz writes "graph has N nodes ... may take a long time" to sys.stderr for
    # big graphs; that is noise here, since the caller asked for exactly this layout.
    with contextlib.redirect_stderr(io.StringIO()):
        try:
            return graph.draw(format=format, prog=engine)
        except ValueError as error:
            raise ValueError(f"pygraphviz could not render the graph as {format!r} with "
                             f"{engine!r}: {error}") from error


def render_source(
    source: str,
    format: str = "svg",
    engine: str = "dot",
    *,
    renderer: Optional[str] = None,
    formatter: Optional[str] = None,
    quiet: bool = True,
) -> tuple[bytes, RendererName]:
    """Lay out and render DOT `source`; return the output bytes and which renderer made them.

    Uses Graphviz's `engine` executable when it is on PATH, else pygraphviz in-process.
    `renderer`/`formatter` pick a Graphviz plugin (e.g. ``format="png", renderer="cairo"``).
    """
    if not isinstance(source, str):
        raise TypeError(f"DOT source must be a str, got {type(source).__name__}")
    _check_engine_and_format(engine, format)
    if formatter is not None and renderer is None:
        raise ValueError(f"formatter {formatter!r} needs a renderer as well")
    if choose_renderer(engine) == "dot":
        try:
            data = graphviz.pipe(engine, format, source.encode("utf-8"),
                                 renderer=renderer, formatter=formatter, quiet=quiet)
            return data, "dot"
        except graphviz.ExecutableNotFound:
            # The executable vanished between the PATH check and the call (or PATH
            # points at a broken install): the in-process renderer still works.
            if not pygraphviz_available():
                raise RendererUnavailableError(
                    f"cannot render the graph: Graphviz's `{engine}` executable could not be "
                    f"started and pygraphviz is not installed. {INSTALL_HELP}") from None
    plugin = ":".join(part for part in (format, renderer, formatter) if part)
    return _render_with_pygraphviz(source, plugin, engine), "pygraphviz"


PathLike = Union[str, "os.PathLike[str]"]


class GradientGraph(graphviz.Digraph):
    """A `graphviz.Digraph` whose rendering never needs the ``dot`` executable.

    ``pipe``, ``render``, ``view`` and the Jupyter display (``_repr_mimebundle_``,
    ``_repr_svg_``) use `render_source`: Graphviz's executable when it is on PATH, else
    pygraphviz. After each rendering, ``last_renderer`` says which one ran.
    """

    last_renderer: Optional[RendererName] = None

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
    ) -> Union[bytes, str]:
        """The graph rendered as `format` (default ``self.format``): bytes, or str if `encoding`."""
        if neato_no_op:
            raise ValueError("neato_no_op is not supported by chainrule's renderer fallback")
        data, self.last_renderer = render_source(
            self.source, format or self.format, engine or self.engine,
            renderer=renderer, formatter=formatter, quiet=quiet)
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
