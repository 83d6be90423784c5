"""Arithmetic on Tensors: + - * / ** with numpy broadcasting, negation and matmul.

Both operands are Tensors here (`Tensor`'s operators lift numbers and arrays first). A
broadcast operand's gradient is summed back to its own shape by `sum_to`. These are the
hot paths of training, so each op checks its inputs once, and its backward only computes
the gradients of parents that require grad.
"""

from __future__ import annotations

import numpy as np

from autograd_core import kernels
from autograd_core.grad_mode import GRAD_MODE
from autograd_core.tensor import Tensor, constant, record


def sum_to(gradient: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """`gradient` summed down to `shape` by `kernels.unbroadcast` (undoing broadcasting);
    `gradient` itself when the shapes already match."""
    if gradient.shape == shape:
        return gradient
    extra = gradient.ndim - len(shape)
    if extra > 0 and gradient.shape[extra:] == shape:
        # The bias of a layer: only leading axes were added, one reduction undoes them
        # (skips the general routine's checks on the hottest broadcast of training).
        return gradient.sum(axis=tuple(range(extra)))
    return kernels.unbroadcast(gradient, shape)


def broadcast_error(op: str, symbol: str, a: Tensor, b: Tensor) -> ValueError:
    """The error for operands whose shapes do not broadcast, naming both shapes and the op."""
    return ValueError(f"{op}: shapes {a.shape} {symbol} {b.shape} do not broadcast together")


def add(a: Tensor, b: Tensor) -> Tensor:
    """out = a + b.   dL/da = unbroadcast(dL/dout),   dL/db = unbroadcast(dL/dout)."""
    try:
        out = a.data + b.data
    except ValueError:
        raise broadcast_error("add", "+", a, b) from None
    if not (GRAD_MODE.enabled and (a.requires_grad or b.requires_grad)):
        return constant(out)
    need_a, need_b, shape_a, shape_b = a.requires_grad, b.requires_grad, a.data.shape, b.data.shape

    def backward(g: np.ndarray) -> tuple:
        return (sum_to(g, shape_a) if need_a else None, sum_to(g, shape_b) if need_b else None)
    return record(out, (a, b), "+", backward)


def subtract(a: Tensor, b: Tensor) -> Tensor:
    """out = a - b.   dL/da = unbroadcast(dL/dout),   dL/db = -unbroadcast(dL/dout)."""
    try:
        out = a.data - b.data
    except ValueError:
        raise broadcast_error("sub", "-", a, b) from None
    if not (GRAD_MODE.enabled and (a.requires_grad or b.requires_grad)):
        return constant(out)
    need_a, need_b, shape_a, shape_b = a.requires_grad, b.requires_grad, a.data.shape, b.data.shape

    def backward(g: np.ndarray) -> tuple:
        return (sum_to(g, shape_a) if need_a else None, -sum_to(g, shape_b) if need_b else None)
    return record(out, (a, b), "-", backward)


def multiply(a: Tensor, b: Tensor) -> Tensor:
    """out = a * b.   dL/da = unbroadcast(dL/dout * b),   dL/db = unbroadcast(dL/dout * a)."""
    x, y = a.data, b.data
    try:
        out = x * y
    except ValueError:
        raise broadcast_error("mul", "*", a, b) from None
    if not (GRAD_MODE.enabled and (a.requires_grad or b.requires_grad)):
        return constant(out)
    need_a, need_b = a.requires_grad, b.requires_grad

    def backward(g: np.ndarray) -> tuple:
        return (sum_to(g * y, x.shape) if need_a else None,
                sum_to(g * x, y.shape) if need_b else None)
    return record(out, (a, b), "*", backward)


def divide(a: Tensor, b: Tensor) -> Tensor:
    """out = a / b.   dL/da = unbroadcast(dL/dout / b),   dL/db = unbroadcast(-dL/dout * a / b^2).

    Division by zero gives inf or nan as in PyTorch (numpy warns)."""
    x, y = a.data, b.data
    try:
        out = x / y
    except ValueError:
        raise broadcast_error("div", "/", a, b) from None
    if not (GRAD_MODE.enabled and (a.requires_grad or b.requires_grad)):
        return constant(out)
    need_a, need_b = a.requires_grad, b.requires_grad

    def backward(g: np.ndarray) -> tuple:
        return (sum_to(g / y, x.shape) if need_a else None,
                sum_to(-g * x / (y * y), y.shape) if need_b else None)
    return record(out, (a, b), "/", backward)


def negative(a: Tensor) -> Tensor:
    """out = -a.   dL/da = -dL/dout."""
    out = -a.data
    if not (GRAD_MODE.enabled and a.requires_grad):
        return constant(out)
    return record(out, (a,), "neg", lambda g: (-g,))


def power_of_number(base: Tensor, n: float) -> Tensor:
    """out = a ** n for a number n.   dL/da = dL/dout * n * a^(n-1), and 0 for n = 0 (as PyTorch).

    A negative base with a non-integer n gives nan, as in PyTorch (numpy warns)."""
    x = base.data
    out = x ** n
    if not (GRAD_MODE.enabled and base.requires_grad):
        return constant(out)

    def backward(g: np.ndarray) -> tuple:
        return (np.zeros_like(g) if n == 0.0 else g * (n * x ** (n - 1.0)),)
    # The op name carries the exponent, as for Value, so graphs and traces can show it.
    return record(out, (base,), f"**{n:g}", backward)


def power(base: Tensor, exponent: Tensor) -> Tensor:
    """out = a ** b.   dL/da = unbroadcast(dL/dout * b * a^(b-1))   (0 where b = 0),
    dL/db = unbroadcast(dL/dout * a^b * ln a)   (0 where a = 0 and b >= 0), as in PyTorch.

    Where the real power or its logarithm does not exist (negative bases) the value or the
    exponent's gradient is nan, as in PyTorch."""
    x, y = base.data, exponent.data
    try:
        out = x ** y
    except ValueError:
        raise broadcast_error("pow", "**", base, exponent) from None
    if not (GRAD_MODE.enabled and (base.requires_grad or exponent.requires_grad)):
        return constant(out)
    need_a, need_b = base.requires_grad, exponent.requires_grad

    def backward(g: np.ndarray) -> tuple:
        grad_a = grad_b = None
        # The masked-out entries may divide by zero or take log(0); their values are unused.
        with np.errstate(divide="ignore", invalid="ignore"):
            if need_a:
                grad_a = sum_to(np.where(y == 0, 0.0, g * y * x ** (y - 1)), x.shape)
            if need_b:
                # a^b ln a -> 0 as a -> 0+ for b >= 0: PyTorch gives 0 there, not nan.
                grad_b = sum_to(g * np.where((x == 0) & (y >= 0), 0.0, out * np.log(x)), y.shape)
        return grad_a, grad_b
    return record(out, (base, exponent), "**", backward)


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
    need_a, need_b = a.requires_grad, b.requires_grad
    if x.ndim == 2 and y.ndim == 2:  # the common case, straight to BLAS
        def backward(g: np.ndarray) -> tuple:
            return (g @ y.T if need_a else None, x.T @ g if need_b else None)
    else:
        def backward(g: np.ndarray) -> tuple:
            return _matmul_backward(g, x, y, need_a, need_b)
    return record(out, (a, b), "@", backward)


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


def _matmul_backward(g: np.ndarray, x: np.ndarray, y: np.ndarray, need_a: bool,
                     need_b: bool) -> tuple:
    """Matmul's chain rule for 1-D and batched operands.

    Promote vectors as matmul does (x to a row matrix, y to a column matrix, and g gains
    the matching length-1 axes), apply dA = G @ B^T and dB = A^T @ G on the stacks, sum the
    batch dimensions that broadcasting added, and drop the promoted axes again.
    """
    x2 = x[np.newaxis, :] if x.ndim == 1 else x
    y2 = y[:, np.newaxis] if y.ndim == 1 else y
    promoted = g.shape + (1,) if y.ndim == 1 else g.shape
    if x.ndim == 1:
        promoted = promoted[:-1] + (1,) + promoted[-1:]
    g2 = g.reshape(promoted)
    grad_a = grad_b = None
    if need_a:
        grad_a = sum_to(g2 @ np.swapaxes(y2, -1, -2), x2.shape).reshape(x.shape)
    if need_b:
        grad_b = sum_to(np.swapaxes(x2, -1, -2) @ g2, y2.shape).reshape(y.shape)
    return grad_a, grad_b
