"""Gradient checking: `backward()` against central finite differences."""

from __future__ import annotations

from typing import Any, Callable, Sequence

from autograd_core.value import Value


class GradcheckError(AssertionError):
    """Raised by `gradcheck` when an analytic gradient disagrees with finite differences."""


def _as_input(x: Any) -> Value:
    return Value(x.data if isinstance(x, Value) else x, x.label if isinstance(x, Value) else "")


def gradcheck(
    f: Callable[..., Value],
    inputs: Sequence[Any],
    eps: float = 1e-6,
    atol: float = 1e-6,
    rtol: float = 1e-4,
) -> bool:
    """Check ``f(*inputs).backward()`` against central differences (f(x+eps) - f(x-eps)) / 2eps.

    `inputs` are numbers or Values; `f` receives fresh Values with the same data and
    must return a scalar Value. An input passes when
    ``|analytic - numeric| <= atol + rtol * |numeric|``. Returns True, or raises
    `GradcheckError` listing every input that fails with both numbers.
    """
    if eps <= 0:
        raise ValueError(f"eps must be positive, got {eps}")
    points = [_as_input(x) for x in inputs]
    out = f(*points)
    if not isinstance(out, Value):
        raise TypeError(f"gradcheck: f must return a Value, got {type(out).__name__}")
    out.backward()
    mismatches = []
    for i, point in enumerate(points):
        def at(shift: float) -> float:
            shifted = [Value(p.data + (shift if j == i else 0.0)) for j, p in enumerate(points)]
            return f(*shifted).data

        numeric = (at(eps) - at(-eps)) / (2 * eps)
        analytic = point.grad
        if not abs(analytic - numeric) <= atol + rtol * abs(numeric):
            name = f" {point.label!r}" if point.label else ""
            mismatches.append(f"input {i}{name} = {point.data:.6g}: backward gives {analytic:.10g}, "
                              f"finite differences give {numeric:.10g}")
    if mismatches:
        raise GradcheckError("gradcheck failed for " + str(len(mismatches)) + " input(s):\n  "
                             + "\n  ".join(mismatches))
    return True
