"""Gradients as values: `grad`, and the Jacobian, the Hessian and Hessian-vector products.

These follow ``torch.autograd.grad`` and ``torch.autograd.functional``. They run the one
backward driver (`graph.backpropagate`) without touching any ``.grad``, and with
``create_graph=True`` return gradients that are nodes of the graph, so that they can be
differentiated again: a Hessian is the Jacobian of a gradient.

>>> from autograd_core import Value, grad
>>> x = Value(3.0, "x")
>>> (dy,) = grad(x ** 3, [x], create_graph=True)     # 3 x^2 = 27, as a node
>>> (d2y,) = grad(dy, [x])                            # 6 x = 18
>>> dy.data, d2y
(27.0, 18.0)
"""

from __future__ import annotations

import contextlib
import numbers
from typing import Any, Callable, Union

import numpy as np

from autograd_core.grad_mode import enable_grad
from autograd_core.graph import backpropagate
from autograd_core.tensor import Tensor, constant, to_array
from autograd_core.value import Constant, Value

Node = Union[Value, Tensor]


def _as_list(things: Any, what: str) -> tuple[list[Any], bool]:
    """`things` as a list, and whether it was a single item (then results are unwrapped)."""
    if isinstance(things, (Value, Tensor)):
        return [things], True
    if isinstance(things, (list, tuple)) and things:
        return list(things), False
    raise TypeError(f"grad: {what} must be a Value, a Tensor, or a non-empty list or tuple of "
                    f"them, got {type(things).__name__}")


def _name(node: Node, index: int) -> str:
    return f"input {index}" + (f" ({node.label!r})" if node.label else "")


def _seed(output: Node, given: Any, create_graph: bool, index: int) -> Any:
    """dL/d(output) for the pass: 1 for a one-element output, else the given grad_output."""
    if isinstance(output, Value):
        if given is None:
            number = 1.0
        elif isinstance(given, Value):
            return given if create_graph else given.data
        elif isinstance(given, numbers.Real) and not isinstance(given, bool):
            number = float(given)
        else:
            raise TypeError(f"grad: grad_outputs[{index}] for a Value output must be a number "
                            f"or a Value, got {type(given).__name__}")
        return Constant(number) if create_graph else number
    if given is None:
        if output.data.size != 1:
            raise ValueError(f"grad: output {index} has shape {output.shape}; give grad_outputs "
                             "for a tensor with more than one element")
        seed = np.ones(output.shape, output.dtype)
    elif isinstance(given, Tensor):
        if given.shape != output.shape:
            raise ValueError(f"grad: grad_outputs[{index}] has shape {given.shape} but output "
                             f"{index} has shape {output.shape}")
        return given if create_graph else given.data
    else:
        seed = to_array(given, output.dtype, f"grad: grad_outputs[{index}]")
        if seed.shape != output.shape:
            raise ValueError(f"grad: grad_outputs[{index}] has shape {seed.shape} but output "
                             f"{index} has shape {output.shape}")
    return constant(seed) if create_graph else seed


def grad(outputs: Any, inputs: Any, grad_outputs: Any = None, create_graph: bool = False,
         allow_unused: bool = False) -> Any:
    """d(outputs)/d(inputs), as ``torch.autograd.grad``: returns the gradients, one per input,
    and leaves every ``.grad`` alone.

    `outputs` and `inputs` are a node (Value or Tensor) or a list of them; with several
    outputs the gradients of ``sum_i grad_outputs[i] * outputs[i]`` are returned.
    `grad_outputs` (dL/d(output)) may be left out for one-element outputs. With
    ``create_graph=True`` the gradients are nodes (Value / Tensor) that can be differentiated
    again; otherwise floats and arrays. An input that no output depends on is an error
    naming it, unless ``allow_unused=True`` (then its gradient is None, as in PyTorch).
    Returns a tuple when `inputs` is a list, else the one gradient.
    """
    output_list, _ = _as_list(outputs, "outputs")
    input_list, single = _as_list(inputs, "inputs")
    if grad_outputs is None:
        given_list: list[Any] = [None] * len(output_list)
    else:
        given_list, _ = _as_list(grad_outputs, "grad_outputs") if isinstance(
            grad_outputs, (Value, Tensor, list, tuple)) else ([grad_outputs], True)
        if len(given_list) != len(output_list):
            raise ValueError(f"grad: {len(given_list)} grad_outputs for {len(output_list)} outputs")
    for index, node in enumerate(input_list):
        if not isinstance(node, (Value, Tensor)):
            raise TypeError(f"grad: {_name(node, index) if hasattr(node, 'label') else f'input {index}'} "
                            f"must be a Value or a Tensor, got {type(node).__name__}")
    totals: dict[Node, Any] = {}
    with enable_grad() if create_graph else contextlib.nullcontext():
        for index, output in enumerate(output_list):
            if not isinstance(output, (Value, Tensor)):
                raise TypeError(f"grad: output {index} must be a Value or a Tensor, got "
                                f"{type(output).__name__}")
            if isinstance(output, Tensor) and not output.requires_grad:
                continue  # nothing it depends on needs a gradient
            seed = _seed(output, given_list[index], create_graph, index)
            captured = backpropagate(output, seed, accumulate=False, create_graph=create_graph,
                                     capture=input_list)
            for node, gradient in captured.items():
                totals[node] = gradient if node not in totals else totals[node] + gradient
    results = []
    for index, node in enumerate(input_list):
        if node not in totals:
            if not allow_unused:
                raise RuntimeError(f"grad: {_name(node, index)} is not used to compute the "
                                   "outputs (pass allow_unused=True to get None for it)")
            results.append(None)
            continue
        gradient = totals[node]
        if isinstance(node, Tensor) and not create_graph:
            gradient = np.array(gradient, dtype=node.dtype)  # its own array, as .grad would be
        results.append(gradient)
    return results[0] if single else tuple(results)


# -- torch.autograd.functional ------------------------------------------------------------------

Function = Callable[..., Any]


def _fresh_inputs(x: Any) -> tuple[Any, str]:
    """Leaves to differentiate at: a Tensor (requires grad), a Value, or a list of Values."""
    if isinstance(x, Tensor):
        return Tensor(x.data, requires_grad=True, dtype=x.dtype, label=x.label), "tensor"
    if isinstance(x, np.ndarray):
        return Tensor(x, requires_grad=True, dtype=x.dtype if x.dtype.kind == "f" else np.float64), "tensor"
    if isinstance(x, Value):
        return Value(x.data, x.label), "value"
    if isinstance(x, numbers.Real) and not isinstance(x, bool):
        return Value(float(x)), "value"
    if isinstance(x, (list, tuple)) and x:
        return [Value(v.data, v.label) if isinstance(v, Value) else Value(float(v)) for v in x], "values"
    raise TypeError(f"expected a Tensor, an array, a Value, a number or a list of Values/numbers, "
                    f"got {type(x).__name__}")


def _outputs(result: Any) -> tuple[list[Node], str]:
    if isinstance(result, Tensor):
        return [result[index] for index in np.ndindex(result.shape)], "tensor"
    if isinstance(result, Value):
        return [result], "value"
    if isinstance(result, (list, tuple)) and result and all(isinstance(r, Value) for r in result):
        return list(result), "values"
    raise TypeError(f"f must return a Value, a list of Values or a Tensor, got {type(result).__name__}")


def _rows(f: Function, leaves: Any, kind: str, create_graph: bool) -> tuple[Any, list[list[Any]]]:
    """f(leaves), and for each output element the gradient of that element (per leaf)."""
    result = f(*leaves) if kind == "values" else f(leaves)
    outputs, _ = _outputs(result)
    inputs = list(leaves) if kind == "values" else [leaves]
    rows = []
    for output in outputs:
        if isinstance(output, Tensor) and not output.requires_grad:
            rows.append([None] * len(inputs))
            continue
        rows.append(list(grad(output, inputs, create_graph=create_graph, allow_unused=True)))
    return result, rows


def jacobian(f: Function, x: Any, create_graph: bool = False) -> Any:
    """The Jacobian of `f` at `x`, as ``torch.autograd.functional.jacobian``.

    For a Tensor (or array) `x` and a Tensor result y: an array of shape y.shape + x.shape
    with J[i..., j...] = dy[i...]/dx[j...]. For a Value (or number) `x`: dy/dx as a float
    (a list of them if f returns a list of Values). For a list of Values (f receives them
    as separate arguments, as torch unpacks a tuple of inputs): a list of rows, one per
    output, each a list of floats. With ``create_graph=True`` the entries are nodes.
    """
    leaves, kind = _fresh_inputs(x)
    result, rows = _rows(f, leaves, kind, create_graph)
    if kind == "tensor":
        if create_graph:
            return rows
        out_shape = result.shape if isinstance(result, Tensor) else ()
        matrix = np.zeros(out_shape + leaves.shape, dtype=leaves.dtype)
        for index, row in zip(np.ndindex(out_shape), rows):
            if row[0] is not None:
                matrix[index] = row[0]
        return matrix
    filled = [[0.0 if entry is None else entry for entry in row] for row in rows]
    if kind == "value":
        column = [row[0] for row in filled]
        return column[0] if isinstance(result, Value) else column
    return filled[0] if isinstance(result, Value) else filled


def hessian(f: Function, x: Any) -> Any:
    """The Hessian of a scalar function `f` at `x`, as ``torch.autograd.functional.hessian``:
    H[i, j] = d^2 f / dx_i dx_j, the Jacobian of the gradient (built with create_graph).

    For a Tensor `x` an array of shape x.shape + x.shape; for a Value a float; for a list
    of n Values an n x n list of lists."""
    def gradient(*leaves: Any) -> Any:
        leaves = list(leaves) if len(leaves) > 1 or isinstance(x, (list, tuple)) else leaves[0]
        output = f(*leaves) if isinstance(leaves, list) else f(leaves)
        if isinstance(output, Tensor):
            if output.size != 1:
                raise ValueError(f"hessian: f must return one number, got shape {output.shape}")
            return grad(output, leaves, create_graph=True, allow_unused=True)
        if not isinstance(output, Value):
            raise TypeError(f"hessian: f must return a Value or a one-element Tensor, got "
                            f"{type(output).__name__}")
        inputs = list(leaves) if isinstance(leaves, list) else [leaves]
        gradients = grad(output, inputs, create_graph=True, allow_unused=True)
        gradients = [Constant(0.0) if g is None else g for g in gradients]
        return gradients if isinstance(leaves, list) else gradients[0]

    return jacobian(_tensor_gradient(gradient), x)


def _tensor_gradient(gradient: Function) -> Function:
    """A gradient function whose Tensor result is never None (an unused input gives zeros)."""
    def wrapped(*leaves: Any) -> Any:
        result = gradient(*leaves)
        leaves = leaves[0] if len(leaves) == 1 else leaves
        if isinstance(leaves, Tensor) and result is None:
            return constant(np.zeros(leaves.shape, leaves.dtype))
        return result
    return wrapped


def hvp(f: Function, x: Any, v: Any) -> tuple[Any, Any]:
    """``(f(x), H v)``, the Hessian of the scalar `f` at `x` times the vector `v`, as
    ``torch.autograd.functional.hvp``, without building the Hessian: the gradient of
    ``grad(f)(x) · v``. `v` has the shape of `x` (a list of numbers for a list of Values)."""
    leaves, kind = _fresh_inputs(x)
    output = f(*leaves) if kind == "values" else f(leaves)
    inputs = list(leaves) if kind == "values" else [leaves]
    gradients = grad(output, inputs, create_graph=True, allow_unused=True)
    if kind == "tensor":
        direction = to_array(v, leaves.dtype, "hvp: v")
        if direction.shape != leaves.shape:
            raise ValueError(f"hvp: v has shape {direction.shape} but x has shape {leaves.shape}")
        if gradients[0] is None:
            return output.data.copy(), np.zeros(leaves.shape, leaves.dtype)
        product = grad(gradients[0], leaves, grad_outputs=direction, allow_unused=True)
        value = output.data.copy()
        return value, np.zeros(leaves.shape, leaves.dtype) if product is None else product
    directions = [v] if kind == "value" else list(v)
    if len(directions) != len(inputs):
        raise ValueError(f"hvp: v has {len(directions)} entries for {len(inputs)} inputs")
    total: Any = 0.0
    for gradient, direction in zip(gradients, directions):
        if gradient is not None:
            total = total + gradient * float(direction)
    if not isinstance(total, Value):
        products = [0.0] * len(inputs)
    else:
        products = [0.0 if g is None else g for g in grad(total, inputs, allow_unused=True)]
    return output.data, products[0] if kind == "value" else products


__all__ = ["grad", "jacobian", "hessian", "hvp"]
