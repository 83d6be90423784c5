"""Operations that move elements without changing them: reshape, transpose, indexing,
concatenate, stack, and the pair broadcast_to / sum_to. Each backward moves the gradient back
to where the elements came from, with operations that arrays and Tensors share, so it also
runs on Tensors for ``backward(create_graph=True)``.
"""

from __future__ import annotations

import numbers
from typing import Any, Sequence

import numpy as np

from autograd_core import kernels, ops
from autograd_core.tensor import Tensor, constant, is_recorded, record, to_array

ops.register_tensor_formula("reshape", "reshape(G, shape of x)")
ops.register_tensor_formula("transpose", "G with the axes permuted back")
ops.register_tensor_formula("getitem", "zeros with G added at the index")
ops.register_tensor_formula("scatter", "G[index]")
ops.register_tensor_formula("broadcast_to", "G summed over the broadcast axes")
ops.register_tensor_formula("sum_to", "G broadcast back over the summed axes")


def sum_to(gradient: Any, shape: tuple[int, ...]) -> Any:
    """`gradient` summed down to `shape`, undoing numpy broadcasting: the gradient of a
    broadcast input is the sum of the upstream gradient over every axis the broadcast
    stretched. An array goes through `kernels.unbroadcast`; a Tensor through the `sum_to` op
    (whose own gradient is `broadcast_to`). `gradient` itself when the shapes already match."""
    if gradient.shape == shape:
        return gradient
    if isinstance(gradient, Tensor):
        return _sum_to_node(gradient, shape)
    extra = gradient.ndim - len(shape)
    if extra > 0 and gradient.shape[extra:] == shape:
        # The bias of a layer: only leading axes were added, one reduction undoes them
        # (skips the general routine's checks on the hottest broadcast of training).
        return gradient.sum(axis=tuple(range(extra)))
    return kernels.unbroadcast(gradient, shape)


def broadcast_to(x: Any, shape: tuple[int, ...]) -> Any:
    """`x` repeated along new or length-1 axes to `shape` (numpy's broadcast_to). For a
    Tensor a graph op: dL/dx = sum_to(dL/dout, x's shape)."""
    if x.shape == shape:
        return x
    if not isinstance(x, Tensor):
        return np.broadcast_to(x, shape)
    out = np.broadcast_to(x.data, shape)
    if not is_recorded(x):
        return constant(out)
    original = x.data.shape
    return record(out, (x,), "broadcast_to",
                  lambda g, inputs, out, needs: (sum_to(g, original),))


def _sum_to_node(x: Tensor, shape: tuple[int, ...]) -> Tensor:
    out = kernels.unbroadcast(x.data, shape) if x.data.dtype.kind == "f" else \
        np.asarray(x.data.sum())
    if not is_recorded(x):
        return constant(out)
    original = x.data.shape
    return record(out, (x,), "sum_to", lambda g, inputs, out, needs: (broadcast_to(g, original),))


def scatter(gradient: Any, index: Any, shape: tuple[int, ...], basic: bool) -> Any:
    """Zeros of `shape` with `gradient` added at `index` (the adjoint of ``x[index]``);
    ``np.add.at`` makes an element picked twice receive both values. For a Tensor a graph
    op, whose own gradient is indexing again: dL/dg = dL/dout[index]."""
    if not isinstance(gradient, Tensor):
        grad = np.zeros(shape, dtype=gradient.dtype)
        if basic:  # a view selects each element at most once: plain assignment is enough
            grad[index] = gradient
        else:
            np.add.at(grad, index, gradient)
        return grad
    out = scatter(gradient.data, index, shape, basic)
    if not is_recorded(gradient):
        return constant(out)
    return record(out, (gradient,), "scatter",
                  lambda g, inputs, out, needs: (getitem(g, index) if isinstance(g, Tensor)
                                                 else g[index],))


def reshape(x: Tensor, shape: Any) -> Tensor:
    """out = x with a new shape (one size may be -1).   dL/dx = dL/dout reshaped to x's shape."""
    if isinstance(shape, numbers.Integral) and not isinstance(shape, (bool, np.bool_)):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)) or not all(
            isinstance(size, numbers.Integral) and not isinstance(size, (bool, np.bool_))
            for size in shape):
        raise TypeError(f"reshape: the shape must be ints, got {shape!r}")
    try:
        out = x.data.reshape(tuple(shape))
    except ValueError:
        raise ValueError(f"reshape: cannot reshape {x.data.shape} ({x.data.size} elements) "
                         f"into {tuple(shape)}") from None
    if not is_recorded(x):
        return constant(out)
    original = x.data.shape
    return record(out, (x,), "reshape", lambda g, inputs, out, needs: (g.reshape(original),))


def transpose(x: Tensor, axes: Any = None) -> Tensor:
    """out = x with its axes permuted by `axes` (reversed when None).
    dL/dx = dL/dout permuted by the inverse permutation."""
    ndim = x.data.ndim
    if axes is None:
        axes = tuple(range(ndim))[::-1]
    if isinstance(axes, numbers.Integral) and not isinstance(axes, (bool, np.bool_)):
        axes = (axes,)
    if not isinstance(axes, (tuple, list)) or not all(
            isinstance(a, numbers.Integral) and not isinstance(a, (bool, np.bool_)) for a in axes):
        raise TypeError(f"transpose: axes must be ints, got {axes!r}")
    in_range = all(-ndim <= a < ndim for a in axes)
    if not in_range or sorted(int(a) % ndim for a in axes) != list(range(ndim)):
        raise ValueError(f"transpose: axes {tuple(axes)} are not a permutation of the "
                         f"{ndim} axes of shape {x.data.shape}")
    axes = tuple(int(a) % ndim for a in axes)
    out = x.data.transpose(axes)
    if not is_recorded(x):
        return constant(out)
    inverse = tuple(int(axis) for axis in np.argsort(axes))
    return record(out, (x,), "transpose", lambda g, inputs, out, needs: (g.transpose(inverse),))


def _is_basic(item: Any) -> bool:
    """True for index parts that select a view: ints, slices, None and Ellipsis."""
    return item is None or item is Ellipsis or isinstance(item, slice) or (
        isinstance(item, numbers.Integral) and not isinstance(item, (bool, np.bool_)))


def _frozen_index(index: Any) -> Any:
    """`index` with every list or array copied into a fresh array, so that editing the
    caller's index array after the forward pass cannot change the backward pass."""
    if isinstance(index, tuple):
        return tuple(_frozen_index(item) for item in index)
    if isinstance(index, Tensor):
        raise TypeError("getitem: index with ints, slices or a numpy int/bool array, not a "
                        "Tensor (a Tensor holds floats)")
    if isinstance(index, list):
        array = np.array(index)
        return array.astype(np.intp) if array.size == 0 else array
    if isinstance(index, np.ndarray):
        return index.copy()
    return index


def getitem(x: Tensor, index: Any) -> Tensor:
    """out = x[index] (basic, integer-array or boolean indexing, numpy semantics).

    dL/dx = zeros of x's shape with dL/dout scatter-added at `index`; ``np.add.at`` makes
    an element picked twice (a repeated index) receive the sum of both gradients.
    """
    index = _frozen_index(index)
    try:
        out = x.data[index]
    except IndexError as error:
        raise IndexError(f"getitem: index {index!r} does not fit shape {x.data.shape}: "
                         f"{error}") from None
    if not is_recorded(x):
        return constant(out)
    shape = x.data.shape
    basic = all(_is_basic(item) for item in index) if isinstance(index, tuple) else _is_basic(index)

    return record(out, (x,), "getitem",
                  lambda g, inputs, out, needs: (scatter(g, index, shape, basic),))


def _as_tensors(op: str, tensors: Sequence[Any]) -> list[Tensor]:
    """The inputs of concatenate/stack as Tensors; non-Tensors take the first Tensor's dtype."""
    if isinstance(tensors, (Tensor, np.ndarray)) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{op}: expects a list or tuple of Tensors, got {type(tensors).__name__}")
    if not tensors:
        raise ValueError(f"{op}: needs at least one tensor, got an empty sequence")
    dtype = next((t.data.dtype for t in tensors if isinstance(t, Tensor)), np.dtype(np.float64))
    return [t if isinstance(t, Tensor) else constant(to_array(t, dtype, f"{op} input"))
            for t in tensors]


def _check_axis(op: str, axis: Any, ndim: int) -> int:
    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"{op}: axis must be an int, got {type(axis).__name__}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{op}: axis {axis} is out of range for {ndim} dimension(s)")
    return int(axis) % ndim


def concatenate(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """out = the tensors joined along an existing `axis`.
    dL/d(tensor_i) = the slice of dL/dout that tensor_i occupies along `axis`."""
    parts = _as_tensors("concatenate", tensors)
    ndim = parts[0].data.ndim
    if ndim == 0:
        raise ValueError("concatenate: 0-d tensors have no axis to join along (use stack)")
    axis = _check_axis("concatenate", axis, ndim)
    try:
        out = np.concatenate([t.data for t in parts], axis=axis)
    except ValueError:
        raise ValueError(f"concatenate: shapes {[t.data.shape for t in parts]} must agree "
                         f"everywhere except axis {axis}") from None
    if not is_recorded(*parts):
        return constant(out)
    ends = np.cumsum([t.data.shape[axis] for t in parts])
    slices = [(slice(None),) * axis + (slice(int(end - t.data.shape[axis]), int(end)),)
              for t, end in zip(parts, ends)]

    def backward(g: Any, inputs: Any, out: Any, needs: Any) -> tuple:
        return tuple(g[piece] if need else None for piece, need in zip(slices, needs))
    return record(out, tuple(parts), "concatenate", backward)


def stack(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """out = the equal-shaped tensors joined along a new `axis`.
    dL/d(tensor_i) = dL/dout at position i of the new axis."""
    parts = _as_tensors("stack", tensors)
    axis = _check_axis("stack", axis, parts[0].data.ndim + 1)
    shapes = [t.data.shape for t in parts]
    if any(shape != shapes[0] for shape in shapes):
        raise ValueError(f"stack: every tensor must have the same shape, got {shapes}")
    out = np.stack([t.data for t in parts], axis=axis)
    if not is_recorded(*parts):
        return constant(out)
    def backward(g: Any, inputs: Any, out: Any, needs: Any) -> tuple:
        return tuple(g[(slice(None),) * axis + (i,)] if need else None
                     for i, need in enumerate(needs))
    return record(out, tuple(parts), "stack", backward)
