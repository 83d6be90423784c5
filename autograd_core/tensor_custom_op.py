"""`Tensor.from_op`: the public way for other modules to define a differentiable op.

The caller computes the op's result from the parents' arrays and supplies the op's chain
rule as ``backward(upstream) -> tuple``. Because that code is not ours, its gradients are
checked on every backward pass: one per parent, each in its parent's shape, so a slip
fails with an error naming the op instead of corrupting gradients further down the graph.
Code whose backward rules are themselves tested against an oracle (nn's layers and losses)
may pass ``check_gradients=False`` to skip that per-pass check on its hot path.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from autograd_core.grad_mode import GRAD_MODE
from autograd_core.tensor import (BackwardFunction, Tensor, VectorJacobianProduct, constant,
                                  record, to_array)


def from_op(data: Any, parents: Sequence[Tensor], op: str, backward: Optional[BackwardFunction],
            check_gradients: bool = True,
            vjp: Optional[VectorJacobianProduct] = None) -> Tensor:
    """The result `data` of `op` on `parents`, with `backward` (arrays only) or `vjp` (arrays
    and Tensors) as its chain rule (see `Tensor.from_op`, which documents the contract)."""
    if not isinstance(op, str):
        raise TypeError(f"from_op: op must be a str, got {type(op).__name__}")
    if (backward is None) == (vjp is None):
        raise TypeError(f"from_op({op!r}): give exactly one of backward and vjp")
    rule = backward if vjp is None else vjp
    if not callable(rule):
        raise TypeError(f"from_op({op!r}): {'backward' if vjp is None else 'vjp'} must be "
                        f"callable, got {type(rule).__name__}")
    parents = parents if type(parents) is tuple else tuple(parents)
    recorded = False
    for parent in parents:
        if not isinstance(parent, Tensor):
            raise TypeError(f"from_op({op!r}): every parent must be a Tensor, got "
                            f"{type(parent).__name__}")
        recorded = recorded or parent.requires_grad
    # dtype.char "d"/"f" is float64/float32: the cheapest exact test on this hot path.
    if type(data) is not np.ndarray or data.dtype.char not in "df":
        data = to_array(data, np.dtype(np.float64), f"from_op({op!r}) data")
    if not (recorded and GRAD_MODE.enabled):
        return constant(data)
    if vjp is not None:
        return record(data, parents, op, vjp, tuple([parent.data for parent in parents]))
    return record(data, parents, op, _on_arrays_only(
        _checked_backward(backward, parents, op) if check_gradients else backward, op))


def _on_arrays_only(backward: BackwardFunction, op: str) -> Any:
    """A `from_op` backward as a vector-Jacobian product: it computes with arrays only, so a
    backward that must build a graph (``create_graph=True``) stops with advice."""
    def vector_jacobian_product(upstream: Any, inputs: Any, out: Any, needs: Any) -> Any:
        if isinstance(upstream, Tensor):  # a backward that builds a graph (create_graph)
            raise RuntimeError(f"{op}: this op was made with Tensor.from_op, whose backward "
                               "works on arrays only, so it cannot be differentiated twice "
                               "(backward(create_graph=True)); declare it with define_op, or "
                               "build it from Tensor operations")
        return backward(upstream)
    vector_jacobian_product.backward = backward  # the rule as given, for inspection
    return vector_jacobian_product


def _checked_backward(backward: BackwardFunction, parents: tuple, op: str) -> BackwardFunction:
    """Wrap a `from_op` backward so a wrong count or shape of gradients fails naming `op`.

    The wrapper keeps only the parents' shapes and flags, never the Tensors themselves.
    """
    shapes = [parent.data.shape for parent in parents]
    needed = [parent.requires_grad for parent in parents]
    count = len(shapes)

    def checked(upstream: np.ndarray) -> list:
        gradients = backward(upstream)
        if type(gradients) not in (tuple, list) or len(gradients) != count:
            got = len(gradients) if isinstance(gradients, (tuple, list)) else type(gradients).__name__
            raise ValueError(f"{op}: backward must return a tuple of {count} gradient(s), "
                             f"one per parent, got {got}")
        checked_gradients = []
        for i, gradient in enumerate(gradients):
            if gradient is None or not needed[i]:
                checked_gradients.append(None)
                continue
            if type(gradient) is not np.ndarray:
                gradient = gradient.data if isinstance(gradient, Tensor) else np.asarray(gradient)
            if gradient.shape != shapes[i]:
                raise ValueError(f"{op}: backward returned a gradient of shape {gradient.shape} "
                                 f"for parent {i} of shape {shapes[i]}")
            checked_gradients.append(gradient)
        return checked_gradients
    return checked
