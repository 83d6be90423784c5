"""softmax/log_softmax, clip and where for Tensors (the elementwise functions and activations
are declared in `autograd_core.ops`).

(Log-)softmax calls `autograd_core.kernels` for both the forward and the backward pass on
arrays, so the Numba kernels are used wherever they pay off; on Tensors (a backward with
``create_graph``) the same rule is written with Tensor operations.
"""

from __future__ import annotations

import numbers
from typing import Any, Optional, Union

import numpy as np

from autograd_core import kernels, ops
from autograd_core.tensor import Operand, Tensor, constant, is_recorded, lift, record
from autograd_core.tensor_shape import sum_to

ops.register_tensor_formula("softmax", "s ⊙ (G - sum(G ⊙ s))")
ops.register_tensor_formula("log_softmax", "G - softmax(x) ⊙ sum(G)")
ops.register_tensor_formula("clip", "G ⊙ [min <= x <= max]", "G ⊙ [x < min]", "G ⊙ [x > max]")
ops.register_tensor_formula("where", "G ⊙ [condition]", "G ⊙ [not condition]")


Bound = Union[Tensor, np.ndarray, float, int, None]


def _bound(name: str, value: Bound, x: Tensor) -> Optional[Tensor]:
    """A clip bound as a Tensor (None stays None). Numbers and arrays become constants in
    x's dtype; a Tensor is used as it is, so that it can receive a gradient."""
    if value is None or isinstance(value, Tensor):
        return value
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "iuf":
            raise TypeError(f"clip: {name} must hold real numbers, got an array of dtype "
                            f"{value.dtype}")
        return lift(value, x, "clip")
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"clip: {name} must be a real number, a numpy array, a Tensor or None, "
                        f"got {type(value).__name__}: {value!r}")
    if np.isnan(value):
        raise ValueError(f"clip: {name} is nan")
    return lift(float(value), x, "clip")


def clip(x: Tensor, min: Bound = None, max: Bound = None) -> Tensor:  # noqa: A002
    """out = min(max(x, lo), hi), with x, lo and hi broadcast together (PyTorch's clamp).

    dL/dx  = unbroadcast(dL/dout * [lo <= x <= hi])   (the gradient passes at the bounds),
    dL/dlo = unbroadcast(dL/dout * [x < lo and lo < hi]),
    dL/dhi = unbroadcast(dL/dout * [x > hi or hi < lo]).
    When lo > hi the output is hi everywhere and only hi gets the gradient; when x < lo = hi
    nobody does. A NaN anywhere makes every comparison false: out is NaN, no gradient. A
    missing bound drops its factor (and its condition from the other bound's rule).
    """
    lo, hi = _bound("min", min, x), _bound("max", max, x)
    if lo is None and hi is None:
        raise ValueError("clip: give at least one of min and max")
    bounds = tuple(bound for bound in (lo, hi) if bound is not None)
    _check_clip_shapes(x, lo, hi)
    data = x.data
    lo_data = None if lo is None else lo.data
    hi_data = None if hi is None else hi.data
    out = data if lo_data is None else np.maximum(data, lo_data)
    out = out if hi_data is None else np.minimum(out, hi_data)
    if not is_recorded(x, *bounds):
        return constant(out)
    shapes = [x.shape] + [bound.shape for bound in bounds]
    masks = _clip_masks(data, lo_data, hi_data)

    def backward(g: Any, inputs: Any, out: Any, needs: Any) -> tuple:
        return tuple(sum_to(ops.select(mask, g, 0.0, g), shape) if need else None
                     for mask, need, shape in zip(masks, needs, shapes))
    return record(out, (x, *bounds), "clip", backward)


def _check_clip_shapes(x: Tensor, lo: Optional[Tensor], hi: Optional[Tensor]) -> None:
    """ValueError naming every shape unless x, lo and hi broadcast together."""
    named = [("x", x)] + [(name, bound) for name, bound in (("min", lo), ("max", hi))
                          if bound is not None]
    try:
        np.broadcast_shapes(*(tensor.shape for _, tensor in named))
    except ValueError:
        listed = ", ".join(f"{name} {tensor.shape}" for name, tensor in named)
        raise ValueError(f"clip: shapes {listed} do not broadcast together") from None


def _clip_masks(data: np.ndarray, lo: Optional[np.ndarray],
                hi: Optional[np.ndarray]) -> list[np.ndarray]:
    """Where each of x, lo, hi (those given, in that order) receives clip's gradient."""
    inside = np.ones(data.shape, dtype=bool)
    if lo is not None:
        inside = inside & (data >= lo)
    if hi is not None:
        inside = inside & (data <= hi)
    masks = [inside]
    if lo is not None:
        below = data < lo
        masks.append(below if hi is None else below & (lo < hi))
    if hi is not None:
        above = data > hi
        masks.append(above if lo is None else above | (hi < lo))
    return masks


def where(condition: Any, a: Operand, b: Operand) -> Tensor:
    """out = a where condition else b (all three broadcast together).
    dL/da = unbroadcast(dL/dout * [condition]),   dL/db = unbroadcast(dL/dout * [not condition])."""
    if isinstance(condition, Tensor):
        raise TypeError("where: condition must be a boolean array such as x > 0, not a Tensor")
    mask = np.asarray(condition)
    if mask.dtype != np.bool_:
        raise TypeError(f"where: condition must be a boolean array, got dtype {mask.dtype}")
    mask = mask.copy()  # the backward pass must not see later edits of the caller's array
    like = a if isinstance(a, Tensor) else b if isinstance(b, Tensor) else None
    if like is None:
        like = constant(np.zeros((), np.float64))
    a, b = lift(a, like, "where"), lift(b, like, "where")
    try:
        out = np.where(mask, a.data, b.data)
    except ValueError:
        raise ValueError(f"where: shapes condition {mask.shape}, {a.shape} and {b.shape} do "
                         "not broadcast together") from None
    if not is_recorded(a, b):
        return constant(out)
    shape_a, shape_b = a.shape, b.shape

    def backward(g: Any, inputs: Any, out: Any, needs: Any) -> tuple:
        return (sum_to(ops.select(mask, g, 0.0, g), shape_a) if needs[0] else None,
                sum_to(ops.select(mask, 0.0, g, g), shape_b) if needs[1] else None)
    return record(out, (a, b), "where", backward)


# -- softmax and log-softmax, through the kernels ------------------------------------------------

def _softmax_axis(op: str, x: Tensor, axis: Any) -> int:
    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"{op}: axis must be an int, got {type(axis).__name__}")
    ndim = x.data.ndim
    if ndim == 0:
        raise ValueError(f"{op}: needs a tensor with at least one dimension, got a 0-d tensor")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{op}: axis {axis} is out of range for a tensor of shape {x.data.shape}")
    return int(axis) % ndim


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    """s = exp(x) / sum(exp(x)) along `axis`.   dL/dx = s * (g - sum(g * s, axis)), g = dL/ds."""
    axis = _softmax_axis("softmax", x, axis)
    out = kernels.softmax(x.data, axis)
    if not is_recorded(x):
        return constant(out)

    def backward(g: Any, inputs: Any, s: Any, needs: Any) -> tuple:
        if not isinstance(g, Tensor):
            return (kernels.softmax_backward(s, g.astype(s.dtype, copy=False), axis),)
        return (s * (g - (g * s).sum(axis, keepdims=True)),)
    return record(out, (x,), "softmax", backward)


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    """y = x - log(sum(exp(x))) along `axis`.   dL/dx = g - exp(y) * sum(g, axis), g = dL/dy."""
    axis = _softmax_axis("log_softmax", x, axis)
    out = kernels.log_softmax(x.data, axis)
    if not is_recorded(x):
        return constant(out)

    def backward(g: Any, inputs: Any, y: Any, needs: Any) -> tuple:
        if not isinstance(g, Tensor):
            return (kernels.log_softmax_backward(y, g.astype(y.dtype, copy=False), axis),)
        return (g - y.exp() * g.sum(axis, keepdims=True),)
    return record(out, (x,), "log_softmax", backward)

