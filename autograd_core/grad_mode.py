"""Grad mode: whether Tensor and Value operations record a graph for backward.

Inside ``with no_grad():`` (or a function decorated with ``@no_grad()``) every Tensor
operation returns a plain leaf that does not require grad and remembers no parents, and every
Value operation a Value leaf, so evaluation and parameter updates build no graph and keep
nothing alive. The switch is per thread, as in PyTorch, so one thread evaluating cannot stop
another from training.
"""

from __future__ import annotations

import functools
import threading
from types import TracebackType
from typing import Any, Callable, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class _GradMode(threading.local):
    """Per-thread flag; the class attribute is every new thread's starting value."""

    enabled = True


# Read directly by the Tensor operations (one attribute lookup on the hot path).
GRAD_MODE = _GradMode()

# How many no_grad blocks are open now, in all threads together: a Value op, which costs a
# few hundred nanoseconds, reads this plain number first and looks at its own thread's mode
# (a slower, thread-local lookup) only while some block is open somewhere.
NO_GRAD_BLOCKS_OPEN = [0]
_COUNT_LOCK = threading.Lock()


def is_grad_enabled() -> bool:
    """True when Tensor and Value operations record the graph (the default), False inside `no_grad`."""
    return GRAD_MODE.enabled


class no_grad:  # noqa: N801 - lower case like the PyTorch context manager it mirrors
    """Context manager and decorator that turns graph recording off, restoring the previous
    mode on exit (also when an exception leaves the block), so blocks nest correctly.

    >>> with no_grad():
    ...     prediction = model(x)          # no graph, prediction.requires_grad is False
    >>> @no_grad()
    ... def evaluate(model, x): ...
    """

    __slots__ = ("_previous",)
    recording = False  # the grad mode inside the block

    def __init__(self) -> None:
        self._previous: list[bool] = []

    def __enter__(self) -> "no_grad":
        # A stack, so the same instance may be entered again before it exits (recursion).
        self._previous.append(GRAD_MODE.enabled)
        GRAD_MODE.enabled = self.recording
        if not self.recording:
            with _COUNT_LOCK:
                NO_GRAD_BLOCKS_OPEN[0] += 1
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        GRAD_MODE.enabled = self._previous.pop()
        if not self.recording:
            with _COUNT_LOCK:
                NO_GRAD_BLOCKS_OPEN[0] -= 1

    def __call__(self, function: F) -> F:
        """Decorate `function` so every call runs in this block's grad mode."""
        if not callable(function):
            raise TypeError(f"{type(self).__name__}() decorates a function, got "
                            f"{type(function).__name__}")
        block = type(self)

        @functools.wraps(function)
        def in_grad_mode(*args: Any, **kwargs: Any) -> Any:
            with block():
                return function(*args, **kwargs)

        return in_grad_mode  # type: ignore[return-value]


class enable_grad(no_grad):  # noqa: N801 - lower case like the PyTorch context manager it mirrors
    """Context manager and decorator that turns graph recording *on* inside a `no_grad`
    block (as ``torch.enable_grad``); ``backward(create_graph=True)`` uses it, since a
    gradient that is to be differentiated again must be recorded.

    >>> with no_grad():
    ...     with enable_grad():
    ...         y = x * 2                  # recorded: y.requires_grad is True
    """

    __slots__ = ()
    recording = True
