"""Gradient checking: `backward()` against central finite differences."""

from __future__ import annotations

from typing import Any, Callable, Sequence, Union

import numpy as np

from autograd_core.tensor import Tensor
from autograd_core.value import Value

# Listing every failing element of a large tensor would bury the message.
_MAX_REPORTED = 20


class GradcheckError(AssertionError):
    """Raised by `gradcheck` when an analytic gradient disagrees with finite differences."""


def _as_input(x: Any) -> Union[Value, Tensor]:
    if isinstance(x, Tensor):
        return Tensor(x.data, requires_grad=True, label=x.label)
    if isinstance(x, np.ndarray):
        return Tensor(x, requires_grad=True)
    return Value(x.data if isinstance(x, Value) else x, x.label if isinstance(x, Value) else "")


def _shifted(point: Union[Value, Tensor], element: Any, shift: float) -> Union[Value, Tensor]:
    """A fresh copy of `point` with `shift` added to one element (None: no shift)."""
    if isinstance(point, Value):
        return Value(point.data + (shift if element is not None else 0.0))
    data = point.data.copy()
    if element is not None:
        data[element] += shift
    return Tensor(data)


def _number(out: Any, who: str = "gradcheck") -> float:
    """f's result as a float: a Value's data or a one-element Tensor's item (TypeError naming
    `who` otherwise)."""
    if isinstance(out, Value):
        return out.data
    if isinstance(out, Tensor) and out.size == 1:
        return out.item()
    shape = f" of shape {out.shape}" if isinstance(out, Tensor) else ""
    raise TypeError(f"{who}: f must return a Value or a one-element Tensor, got "
                    f"{type(out).__name__}{shape}")


def gradcheck(
    f: Callable[..., Union[Value, Tensor]],
    inputs: Sequence[Any],
    eps: float = 1e-6,
    atol: float = 1e-6,
    rtol: float = 1e-4,
) -> bool:
    """Check ``f(*inputs).backward()`` against central differences (f(x+eps) - f(x-eps)) / 2eps.

    `inputs` are numbers or Values, for which `f` receives fresh Values with the same
    data, or Tensors or numpy arrays, for which `f` receives fresh float64 Tensors with
    requires_grad=True and every element is perturbed in turn. `f` must return a scalar
    Value or a one-element Tensor. An input passes when
    ``|analytic - numeric| <= atol + rtol * |numeric|`` (elementwise). Returns True, or
    raises `GradcheckError` listing every input (and element) that fails with both numbers.
    """
    if eps <= 0:
        raise ValueError(f"eps must be positive, got {eps}")
    points = [_as_input(x) for x in inputs]
    out = f(*points)
    _number(out)
    if not isinstance(out, Tensor) or out.requires_grad:
        out.backward()
    mismatches = []
    for i, point in enumerate(points):
        def at(element: Any, shift: float) -> float:
            shifted = [_shifted(p, element if j == i else None, shift) for j, p in enumerate(points)]
            return _number(f(*shifted))

        name = f" {point.label!r}" if point.label else ""
        if isinstance(point, Value):
            numeric = (at(0, eps) - at(0, -eps)) / (2 * eps)
            analytic = point.grad
            if not abs(analytic - numeric) <= atol + rtol * abs(numeric):
                mismatches.append(f"input {i}{name} = {point.data:.6g}: backward gives "
                                  f"{analytic:.10g}, finite differences give {numeric:.10g}")
            continue
        analytic_array = np.zeros(point.shape) if point.grad is None else point.grad
        for element in np.ndindex(point.shape):
            numeric = (at(element, eps) - at(element, -eps)) / (2 * eps)
            analytic = float(analytic_array[element])
            if not abs(analytic - numeric) <= atol + rtol * abs(numeric):
                mismatches.append(f"input {i}{name} element {element} = "
                                  f"{point.data[element]:.6g}: backward gives {analytic:.10g}, "
                                  f"finite differences give {numeric:.10g}")
    if mismatches:
        shown = mismatches[:_MAX_REPORTED]
        more = len(mismatches) - len(shown)
        raise GradcheckError("gradcheck failed for " + str(len(mismatches)) + " input(s):\n  "
                             + "\n  ".join(shown) + (f"\n  ... and {more} more" if more else ""))
    return True


def gradgradcheck(
    f: Callable[..., Union[Value, Tensor]],
    inputs: Sequence[Any],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
) -> bool:
    """Check second derivatives, as ``torch.autograd.gradgradcheck``: the gradient of
    ``sum_i v_i * df/dx_i`` (computed with ``backward(create_graph=True)``, then backward
    again) against central differences of that same first gradient, for a fixed random
    direction v (from `seed`). Its Hessian-vector product H v is what gets checked, which
    covers every second derivative that v touches. Returns True or raises `GradcheckError`.
    """
    from autograd_core.derivatives import grad

    rng = np.random.default_rng(seed)
    directions = [rng.uniform(0.5, 1.5, np.shape(x.data if isinstance(x, (Value, Tensor)) else x))
                  for x in inputs]

    def directional_gradient(*points: Any) -> Union[Value, Tensor]:
        # gradcheck's shifted copies do not require grad; the first gradient needs them to.
        points = tuple(Tensor(p.data, requires_grad=True) if isinstance(p, Tensor)
                       and not p.requires_grad else p for p in points)
        gradients = grad(f(*points), list(points), create_graph=True, allow_unused=True)
        total: Any = None
        for gradient, direction in zip(gradients, directions):
            if gradient is None:
                continue
            term = (gradient * Tensor(direction)).sum() if isinstance(gradient, Tensor) \
                else gradient * float(direction)
            total = term if total is None else total + term
        if total is None:
            raise GradcheckError("gradgradcheck: f does not depend on any input")
        return total

    return gradcheck(directional_gradient, inputs, eps=eps, atol=atol, rtol=rtol)
