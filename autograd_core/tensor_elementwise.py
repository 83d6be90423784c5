"""Applying an elementwise op of `autograd_core.ops` to Tensors, with numpy broadcasting.

The forward is the op's array forward (or its Numba kernel); the backward is the op's declared
local derivative: dL/dx_i = unbroadcast(dL/dout * d out/d x_i), summed back to each input's
shape by `sum_to`. An ordinary backward evaluates it on the forward's arrays; with
``create_graph`` on the parent Tensors, so the gradient is itself a differentiable Tensor.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from autograd_core import ops
from autograd_core.grad_mode import GRAD_MODE
from autograd_core.tensor import Tensor, constant, lift, record
from autograd_core.tensor_shape import sum_to

# How a broadcast error names each op (as the operators read: "add: shapes (2,) + (3,) ...").
_WORDS = {"+": ("add", "+"), "-": ("sub", "-"), "*": ("mul", "*"), "/": ("div", "/"),
          "**": ("pow", "**"), "max": ("maximum", ",")}


def apply_elementwise(op: ops.Op, args: Sequence[Any]) -> Tensor:
    """The Tensor op(*args); numbers and arrays among `args` become constants of the first
    Tensor's dtype (a Value is refused with advice)."""
    first = args[0]
    if len(args) == 1 and type(first) is Tensor:  # the usual cases, without lifting
        inputs, arrays = args, (first.data,)
    elif len(args) == 2 and type(first) is Tensor and type(args[1]) is Tensor:
        inputs, arrays = args, (first.data, args[1].data)
    else:
        like = next(arg for arg in args if isinstance(arg, Tensor))
        word = _WORDS.get(op.name, (op.name, ","))[0]
        inputs = tuple(lift(arg, like, word) for arg in args)
        arrays = tuple(tensor.data for tensor in inputs)
    try:
        out = op.on_arrays(*arrays)
    except ValueError:
        if len(inputs) == 2 and arrays[0].shape != arrays[1].shape:
            raise broadcast_error(op, inputs[0], inputs[1]) from None
        raise
    if type(out) is not np.ndarray:  # numpy gives a scalar for 0-d inputs
        out = np.asarray(out)
    if GRAD_MODE.enabled:
        for tensor in inputs:
            if tensor.requires_grad:
                return record(out, inputs, op.name, _vector_jacobian_product(op), arrays)
    return constant(out)


def broadcast_error(op: ops.Op, a: Tensor, b: Tensor) -> ValueError:
    """The error for operands whose shapes do not broadcast, naming both shapes and the op."""
    word, symbol = _WORDS.get(op.name, (op.name, ","))
    return ValueError(f"{word}: shapes {a.shape} {symbol} {b.shape} do not broadcast together")


_PRODUCTS: dict[int, Any] = {}


def _vector_jacobian_product(op: ops.Op) -> Any:
    """The backward of an elementwise op (one function per op, made once)."""
    found = _PRODUCTS.get(id(op))
    if found is not None:
        return found

    kernel = op.kernel is not None
    times = ops.times

    def vector_jacobian_product(upstream: Any, inputs: Sequence[Any], out: Any,
                                needs: Sequence[bool]) -> tuple:
        if not isinstance(upstream, Tensor):  # arrays (0-d ones may arrive as numpy scalars)
            upstream = np.asarray(upstream)
            if upstream.dtype != out.dtype:  # a float64 op followed this float32 one
                upstream = upstream.astype(out.dtype)
            if kernel:
                return op.vjp_on_arrays(upstream, inputs, out, needs)
        locals_ = op.local_derivatives(inputs, out)
        if len(inputs) == 1:
            return (times(upstream, locals_[0]),)
        a, b = inputs
        return (sum_to(times(upstream, locals_[0]), a.shape) if needs[0] else None,
                sum_to(times(upstream, locals_[1]), b.shape) if needs[1] else None)

    vector_jacobian_product.op = op  # the declaration, for the tracer and the drawings
    _PRODUCTS[id(op)] = vector_jacobian_product
    return vector_jacobian_product


def _apply(op: ops.Op, args: tuple) -> Tensor:
    return apply_elementwise(op, args)


ops.register_node_type(Tensor, _apply)
