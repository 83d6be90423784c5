"""Reductions of a Tensor over some axes: sum, mean and max.

The backward of each spreads dL/d(out) back over the reduced axes: first the reduced axes
are restored as length-1 axes (as if ``keepdims=True``), then the gradient is broadcast to
the input's shape.
"""

from __future__ import annotations

import numbers
from typing import Any, Union

import numpy as np

from autograd_core import ops
from autograd_core.tensor import Tensor, constant, is_recorded, record
from autograd_core.tensor_shape import broadcast_to

ops.register_tensor_formula("sum", "broadcast(G) over the summed axes")
ops.register_tensor_formula("mean", "broadcast(G) / N over the averaged axes")
ops.register_tensor_formula("max", "G at the maxima (shared by ties), 0 elsewhere")

Axis = Union[int, tuple[int, ...], None]


def normalize_axes(op: str, axis: Axis, ndim: int) -> tuple[int, ...]:
    """`axis` as a sorted tuple of distinct axes in 0..ndim-1 (every axis for None)."""
    if axis is None:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, tuple) else (axis,)
    if not axes:
        raise ValueError(f"{op}: axis=() is ambiguous (numpy reduces no axis, PyTorch every "
                         "axis); pass axis=None to reduce every axis")
    normalized = []
    for item in axes:
        if isinstance(item, (bool, np.bool_)) or not isinstance(item, numbers.Integral):
            raise TypeError(f"{op}: axis must be an int, a tuple of ints or None, got {axis!r}")
        if not -ndim <= item < ndim:
            raise ValueError(f"{op}: axis {item} is out of range for a tensor with {ndim} "
                             "dimension(s)")
        normalized.append(int(item) % ndim)
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"{op}: axis {axis!r} names the same axis twice")
    return tuple(sorted(normalized))


def _check_keepdims(op: str, keepdims: object) -> None:
    if not isinstance(keepdims, (bool, np.bool_)):
        raise TypeError(f"{op}: keepdims must be a bool, got {type(keepdims).__name__}")


def _kept_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    """`shape` with every reduced axis set to length 1 (the keepdims=True result shape)."""
    return tuple(1 if i in axes else size for i, size in enumerate(shape))


def reduce_sum(x: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """out = sum of x over `axis`.   dL/dx = dL/dout broadcast back over the summed axes."""
    _check_keepdims("sum", keepdims)
    axes = normalize_axes("sum", axis, x.data.ndim)
    out = np.sum(x.data, axis=axes, keepdims=keepdims)
    if not is_recorded(x):
        return constant(out)
    shape, kept = x.data.shape, _kept_shape(x.data.shape, axes)

    def backward(g: Any, inputs: Any, out: Any, needs: Any) -> tuple:
        return (broadcast_to(g.reshape(kept), shape),)
    return record(out, (x,), "sum", backward)


def reduce_mean(x: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """out = mean of x over `axis` (N entries each).   dL/dx = broadcast(dL/dout) / N."""
    _check_keepdims("mean", keepdims)
    axes = normalize_axes("mean", axis, x.data.ndim)
    if any(x.data.shape[i] == 0 for i in axes):
        raise ValueError(f"mean: cannot average over an empty axis of shape {x.data.shape}")
    out = np.mean(x.data, axis=axes, keepdims=keepdims)
    if not is_recorded(x):
        return constant(out)
    shape, kept = x.data.shape, _kept_shape(x.data.shape, axes)
    count = int(np.prod([shape[i] for i in axes]))

    def backward(g: Any, inputs: Any, out: Any, needs: Any) -> tuple:
        return (broadcast_to(g.reshape(kept) / count, shape),)
    return record(out, (x,), "mean", backward)


def reduce_max(x: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """out = max of x over `axis`.   dL/dx_i = dL/dout * [x_i == out] / (number of ties),
    so tied maxima share the gradient evenly, like ``torch.amax``."""
    _check_keepdims("max", keepdims)
    axes = normalize_axes("max", axis, x.data.ndim)
    if any(x.data.shape[i] == 0 for i in axes):
        raise ValueError(f"max: cannot take the max over an empty axis of shape {x.data.shape}")
    data = x.data
    kept_max = np.max(data, axis=axes, keepdims=True)
    out = kept_max if keepdims else kept_max.reshape(
        tuple(size for i, size in enumerate(data.shape) if i not in axes))
    if not is_recorded(x):
        return constant(out)
    kept = kept_max.shape
    winners = data == kept_max
    # The share of each maximum, as a constant: ties split the gradient evenly.
    share = winners / np.sum(winners, axis=axes, keepdims=True, dtype=data.dtype)

    def backward(g: Any, inputs: Any, out: Any, needs: Any) -> tuple:
        return (g.reshape(kept) * (constant(share) if isinstance(g, Tensor) else share),)
    return record(out, (x,), "max", backward)
