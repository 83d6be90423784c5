"""Anomaly mode: find the first operation that produced a NaN or an infinity.

``with detect_anomaly():`` (or ``@detect_anomaly()`` on a function) turns on two checks, for
`Value` and `Tensor` graphs alike:

- **forward**: the first node whose result holds a NaN or an infinity while its inputs were
  finite. A Tensor operation is checked the moment it runs (so the traceback points at the
  line that computed it). A Value operation is checked when ``backward()`` runs, in one walk
  over the graph before any gradient is computed: the scalar engine's per-node cost is kept
  free of any check, so outside anomaly mode nothing changes and inside it the forward pass
  costs the same. The walk goes in topological order, so the node it names is the first op
  that turned finite inputs into a non-finite result (or a leaf that was non-finite from the
  start).
- **backward**: the first chain-rule step whose gradient for an input holds a NaN or an
  infinity while the gradient arriving at the node was finite, and the first gradient sum
  that overflows.

Either raises `AnomalyError`, a `FloatingPointError` whose message names the op, the node's
label (or the expression the drawings would write), a summary of its inputs and, for
backward, the forward op that made the node; ``error.node`` is the node (to highlight it in
``viz.draw_graph(root, focus=error.node)``), ``error.phase`` is "forward" or "backward".

The switch is per thread, like grad mode: one thread debugging does not slow another.

>>> from autograd_core import Value, detect_anomaly
>>> x = Value(0.0, "x")
>>> with detect_anomaly():
...     y = x ** 0.5                  # sqrt(0) = 0 is finite; its derivative 0.5 / sqrt(0) is not
...     try:
...         y.backward()
...     except FloatingPointError as error:
...         print(error.phase, error.node.op)
backward **0.5

Like PyTorch's ``torch.autograd.detect_anomaly`` it costs time; turn it on to find a bug,
not for training runs.
"""

from __future__ import annotations

import functools
import math
import threading
from types import TracebackType
from typing import Any, Callable, Optional, Sequence, TypeVar

import numpy as np

F = TypeVar("F", bound=Callable[..., Any])


class _AnomalyMode(threading.local):
    """Per-thread flag; the class attribute is every new thread's starting value."""

    enabled = False


# Read by the backward driver (once per backward pass) and by `tensor.record` (once per
# recorded Tensor op); the Value ops never read it.
ANOMALY = _AnomalyMode()


def is_anomaly_enabled() -> bool:
    """True inside ``detect_anomaly()`` (in this thread).

    >>> is_anomaly_enabled()
    False
    """
    return ANOMALY.enabled


class AnomalyError(FloatingPointError):
    """A NaN or an infinity found by `detect_anomaly`.

    Attributes: ``node`` (the node whose forward result, or whose backward step, went
    wrong), ``phase`` ("forward" or "backward"), ``op`` (the op that made the node, "" for a
    leaf) and ``input_index`` (backward: the input whose gradient is not finite, else None).
    """

    def __init__(self, message: str, node: Any, phase: str, input_index: Optional[int] = None) -> None:
        super().__init__(message)
        self.node = node
        self.phase = phase
        self.op = getattr(node, "op", "") or ""
        self.input_index = input_index


class detect_anomaly:  # noqa: N801 - lower case like torch.autograd.detect_anomaly
    """Context manager and decorator that turns anomaly mode on (``enabled=False`` turns it
    off inside an enclosing block), restoring the previous mode on exit.

    >>> from autograd_core import Tensor, detect_anomaly
    >>> x = Tensor([1.0, -1.0], requires_grad=True, label="x")
    >>> with detect_anomaly():
    ...     try:
    ...         x.log()
    ...     except FloatingPointError as error:
    ...         print(error.phase, error.op)
    forward log
    """

    __slots__ = ("_enabled", "_previous")

    def __init__(self, enabled: bool = True) -> None:
        if not isinstance(enabled, bool):
            raise TypeError(f"detect_anomaly(enabled=...) takes True or False, got {enabled!r}")
        self._enabled = enabled
        self._previous: list[bool] = []

    def __enter__(self) -> "detect_anomaly":
        self._previous.append(ANOMALY.enabled)
        ANOMALY.enabled = self._enabled
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        ANOMALY.enabled = self._previous.pop()

    def __call__(self, function: F) -> F:
        """Decorate `function` so that every call runs in anomaly mode."""
        if not callable(function):
            raise TypeError(f"detect_anomaly() decorates a function, got {type(function).__name__}")
        enabled = self._enabled

        @functools.wraps(function)
        def checked(*args: Any, **kwargs: Any) -> Any:
            with detect_anomaly(enabled):
                return function(*args, **kwargs)

        return checked  # type: ignore[return-value]


# -- describing nodes -------------------------------------------------------------------------

def _array(x: Any) -> Any:
    """The number or array inside a gradient or a node's data (a Value/Tensor gradient too)."""
    data = getattr(x, "data", x)
    return data


def _finite(x: Any) -> bool:
    data = _array(x)
    if isinstance(data, float):
        return math.isfinite(data)
    return bool(np.isfinite(data).all())


def _count_bad(data: Any) -> str:
    """'NaN' / 'inf' / '-inf' for a number; 'k NaN and m infinities of n elements' for an array."""
    if isinstance(data, (float, int)) or np.ndim(data) == 0:
        return repr(float(data)).replace("nan", "NaN")
    data = np.asarray(data)
    nans = int(np.isnan(data).sum())
    infs = int(np.isinf(data).sum())
    parts = [f"{nans} NaN" if nans else "", f"{infs} infinit{'y' if infs == 1 else 'ies'}" if infs else ""]
    return " and ".join(p for p in parts if p) + f" of {data.size} elements"


def _summary(data: Any) -> str:
    """A number as %.6g; an array as its shape and min/max (and how many are not finite)."""
    if isinstance(data, (float, int)) or np.ndim(data) == 0:
        return f"{float(data):.6g}"
    data = np.asarray(data)
    text = f"shape {tuple(data.shape)}"
    if data.size == 0:
        return text + ", empty"
    finite = data[np.isfinite(data)]
    if finite.size:
        text += f", min {finite.min():.6g}, max {finite.max():.6g}"
    if finite.size != data.size:
        text += f", {_count_bad(data)} not finite"
    return text


_INFIX = {"+", "-", "*", "/"}


def _short(node: Any) -> str:
    """A parent as an expression shows it: its label, a constant's number, else '·'."""
    label = getattr(node, "label", "")
    if label:
        return label
    if getattr(node, "is_constant", False):
        return f"{node.data:g}"
    return "·"


def _name(node: Any) -> str:
    """The node's label (quoted), else the expression that made it (``x * 10``, ``log(x)``)."""
    label = getattr(node, "label", "")
    if label:
        return repr(label)
    parents = getattr(node, "parents", ())
    if not parents:
        return f"constant {node.data:g}" if getattr(node, "is_constant", False) else "unlabelled leaf"
    names = [_short(p) for p in parents]
    if node.op in _INFIX and len(names) == 2:
        return f"{names[0]} {node.op} {names[1]}"
    if node.op.startswith("**") and len(names) == 1:
        return f"{names[0]}{node.op}"
    return f"{node.op}({', '.join(names)})"


def _inputs(node: Any) -> str:
    lines = []
    for i, parent in enumerate(node.parents):
        kind = f"made by op {parent.op!r}" if parent.parents else "leaf"
        lines.append(f"  input {i} ({_name(parent)}, {kind}): {_summary(_array(parent.data))}")
    return "\n".join(lines)


# -- the checks --------------------------------------------------------------------------------

def forward_error(node: Any) -> Optional[AnomalyError]:
    """The error for `node` if its data is not finite (None if it is): an op that made a
    NaN/inf from finite inputs, or one that received one (then the input is named)."""
    data = _array(node.data)
    if _finite(data):
        return None
    parents = node.parents
    if not parents:
        return AnomalyError(f"detect_anomaly: the leaf {_name(node)} already holds "
                            f"{_count_bad(data)} before any op ran", node, "forward")
    bad_inputs = [i for i, p in enumerate(parents) if not _finite(p.data)]
    message = (f"detect_anomaly: forward: op {node.op!r} returned {_count_bad(data)} "
               f"(node {_name(node)})")
    if bad_inputs:
        message += (f"; input {bad_inputs[0]} was not finite already (its node was made "
                    "before anomaly mode was on, or is a leaf)")
    return AnomalyError(f"{message}\n{_inputs(node)}", node, "forward")


def check_tensor_forward(node: Any) -> None:
    """Raise `AnomalyError` if the Tensor op result `node` holds a NaN or an infinity
    (`tensor.record` calls this in anomaly mode)."""
    error = forward_error(node)
    if error is not None:
        raise error


def _check_graph_forward(root: Any) -> None:
    """Walk the graph of `root` once, parents before children, and raise for the first
    node whose data is not finite."""
    from autograd_core.graph import topological_order

    for node in topological_order(root):
        if not _finite(node.data):
            error = forward_error(node)
            if error is not None:
                raise error


def check_anomalies(root: Any, seed: Any, on_step: Optional[Callable[..., None]]) -> Callable[..., None]:
    """What the backward driver calls once per pass in anomaly mode: check every forward
    result of `root`'s graph and the seed now, and return the step callback that checks each
    chain-rule step's gradients (calling `on_step` too, if one was given)."""
    _check_graph_forward(root)
    if not _finite(seed):
        raise AnomalyError(f"detect_anomaly: the seed gradient of backward holds "
                           f"{_count_bad(_array(seed))}", root, "backward")
    leaf_sums: dict[Any, Any] = {}

    def checked_step(node: Any, upstream: Any, sent: Sequence[Any]) -> None:
        if not _finite(upstream):
            raise AnomalyError(
                f"detect_anomaly: backward: the gradient reaching node {_name(node)} (made by the "
                f"forward op {node.op!r}) holds {_count_bad(_array(upstream))}: the sum of the "
                f"finite gradients it received overflowed\n{_inputs(node)}", node, "backward")
        for index, (parent, contribution) in enumerate(sent):
            if contribution is None:
                continue
            if not _finite(contribution):
                raise AnomalyError(
                    f"detect_anomaly: backward: the chain rule at node {_name(node)} (made by the "
                    f"forward op {node.op!r}) gives input {index} ({_name(parent)}) a gradient "
                    f"holding {_count_bad(_array(contribution))} from a finite upstream gradient "
                    f"({_summary(_array(upstream))})\n{_inputs(node)}", node, "backward", index)
            if not parent.parents:  # a leaf: its gradient is complete only after the pass
                earlier, data = leaf_sums.get(parent), _array(contribution)
                try:
                    with np.errstate(over="ignore", invalid="ignore"):
                        total = data if earlier is None else earlier + data
                except ValueError:  # shapes that only the leaf's own accumulation reconciles
                    continue
                if not _finite(total):
                    raise AnomalyError(
                        f"detect_anomaly: backward: the gradient of the leaf {_name(parent)} overflows "
                        f"({_count_bad(_array(total))}) when the contribution of node "
                        f"{_name(node)} (op {node.op!r}) is added to the finite sum so far",
                        parent, "backward")
                leaf_sums[parent] = total
        if on_step is not None:
            on_step(node, upstream, sent)

    return checked_step


__all__ = ["detect_anomaly", "is_anomaly_enabled", "AnomalyError", "ANOMALY", "check_anomalies",
           "check_tensor_forward", "forward_error"]
