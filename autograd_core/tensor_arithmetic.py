"""Arithmetic on Tensors: + - * / ** with numpy broadcasting, negation and matmul.

Both operands are Tensors here (`Tensor`'s operators lift numbers and arrays first). The
elementwise operators are the declarations of `autograd_core.ops`, applied by
`tensor_elementwise`; matmul is declared here with its vector-Jacobian product, written with
operations that arrays and Tensors share so that it is differentiable twice.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd_core import ops
from autograd_core.grad_mode import GRAD_MODE
from autograd_core.tensor import Tensor, constant, record
from autograd_core.tensor_elementwise import apply_elementwise
from autograd_core.tensor_shape import sum_to

ops.register_tensor_formula("@", "G·Bᵀ", "Aᵀ·G")


def add(a: Tensor, b: Tensor) -> Tensor:
    """out = a + b.   dL/da = unbroadcast(dL/dout),   dL/db = unbroadcast(dL/dout)."""
    return apply_elementwise(ops.ADD, (a, b))


def subtract(a: Tensor, b: Tensor) -> Tensor:
    """out = a - b.   dL/da = unbroadcast(dL/dout),   dL/db = -unbroadcast(dL/dout)."""
    return apply_elementwise(ops.SUB, (a, b))


def multiply(a: Tensor, b: Tensor) -> Tensor:
    """out = a * b.   dL/da = unbroadcast(dL/dout * b),   dL/db = unbroadcast(dL/dout * a)."""
    return apply_elementwise(ops.MUL, (a, b))


def divide(a: Tensor, b: Tensor) -> Tensor:
    """out = a / b.   dL/da = unbroadcast(dL/dout / b),   dL/db = unbroadcast(-dL/dout * out / b).

    Division by zero gives inf or nan as in PyTorch (numpy warns)."""
    return apply_elementwise(ops.DIV, (a, b))


def negative(a: Tensor) -> Tensor:
    """out = -a.   dL/da = -dL/dout."""
    return apply_elementwise(ops.NEG, (a,))


def power_of_number(base: Tensor, n: float) -> Tensor:
    """out = a ** n for a number n.   dL/da = dL/dout * n * a^(n-1), and 0 for n = 0 (as PyTorch).

    A negative base with a non-integer n gives nan, as in PyTorch (numpy warns)."""
    return apply_elementwise(ops.POWER_OF_NUMBER.bind(n=n), (base,))


def power(base: Tensor, exponent: Tensor) -> Tensor:
    """out = a ** b.   dL/da = unbroadcast(dL/dout * b * a^(b-1))   (0 where b = 0),
    dL/db = unbroadcast(dL/dout * a^b * ln a)   (0 where a = 0 and b >= 0), as in PyTorch.

    Where the real power or its logarithm does not exist (negative bases) the value or the
    exponent's gradient is nan, as in PyTorch."""
    return apply_elementwise(ops.POWER, (base, exponent))


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """out = a @ b with numpy/torch matmul semantics (1-D vectors, batched stacks).

    2-D: dL/da = dL/dout @ b^T,   dL/db = a^T @ dL/dout. Other ranks: see `_matmul_backward`.
    """
    x, y = a.data, b.data
    if x.ndim == 0 or y.ndim == 0:
        raise ValueError(f"matmul: {x.shape} @ {y.shape}: both operands need at least one "
                         "dimension (use * to scale by a scalar)")
    try:
        out = x @ y
    except ValueError:
        raise ValueError(f"matmul: {x.shape} @ {y.shape}: "
                         f"{_matmul_mismatch(x.shape, y.shape)}") from None
    if not (GRAD_MODE.enabled and (a.requires_grad or b.requires_grad)):
        return constant(out)
    return record(out, (a, b), "@", _matrix_backward if x.ndim == 2 and y.ndim == 2 else
                  _matmul_backward, (x, y))


def _matrix_backward(g: Any, inputs: Any, out: Any, needs: Any) -> tuple:
    """dL/dA = G·Bᵀ, dL/dB = Aᵀ·G for 2-D A and B (straight to BLAS for arrays)."""
    x, y = inputs
    return (g @ y.T if needs[0] else None, x.T @ g if needs[1] else None)


def _matmul_mismatch(shape_a: tuple[int, ...], shape_b: tuple[int, ...]) -> str:
    """Which of matmul's two shape checks failed (or both), with the dimensions involved.

    The inner check: a's last dimension must equal b's second-to-last (b's only one if
    b is 1-D). The batch check: the dimensions before the last two (none for a 1-D or
    2-D operand) must broadcast.
    """
    problems = []
    where_b = "second-to-last" if len(shape_b) > 1 else "only"
    inner_b = shape_b[-2] if len(shape_b) > 1 else shape_b[0]
    if shape_a[-1] != inner_b:
        problems.append(f"inner dimensions differ: the left operand's last dimension is "
                        f"{shape_a[-1]} but the right operand's {where_b} dimension is {inner_b}")
    batch_a, batch_b = shape_a[:-2], shape_b[:-2]
    try:
        np.broadcast_shapes(batch_a, batch_b)
    except ValueError:
        problems.append(f"batch dimensions {batch_a} and {batch_b} do not broadcast (aligned "
                        "from the right, each pair must be equal or contain a 1)")
    return "; and ".join(problems)


def _matmul_backward(g: Any, inputs: Any, out: Any, needs: Any) -> tuple:
    """Matmul's chain rule for 1-D and batched operands.

    Promote vectors as matmul does (x to a row matrix, y to a column matrix, and g gains
    the matching length-1 axes), apply dA = G @ B^T and dB = A^T @ G on the stacks, sum the
    batch dimensions that broadcasting added, and drop the promoted axes again.
    """
    x, y = inputs
    x2 = x.reshape((1,) + x.shape) if x.ndim == 1 else x
    y2 = y.reshape(y.shape + (1,)) if y.ndim == 1 else y
    promoted = g.shape + (1,) if y.ndim == 1 else g.shape
    if x.ndim == 1:
        promoted = promoted[:-1] + (1,) + promoted[-1:]
    g2 = g.reshape(promoted)
    grad_a = grad_b = None
    if needs[0]:
        grad_a = sum_to(g2 @ _swap_last(y2), x2.shape).reshape(x.shape)
    if needs[1]:
        grad_b = sum_to(_swap_last(x2) @ g2, y2.shape).reshape(y.shape)
    return grad_a, grad_b


def _swap_last(x: Any) -> Any:
    """`x` with its last two axes swapped (a stack of transposed matrices)."""
    axes = tuple(range(x.ndim - 2)) + (x.ndim - 1, x.ndim - 2)
    return x.transpose(axes)
