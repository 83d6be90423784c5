"""How a loss declared once becomes graph nodes, on Tensors and on Values, and its operand checks.

A *pointwise* loss is declared once (`PointwiseLoss`, declared in `nn.functional`) as an
elementwise op of the engine (`autograd_core.ops.Op`): its per-element value l(x, t), its
partial derivatives dl/dx and dl/dt, and their formula text. The engine applies an op the
same way to floats, arrays, Values and Tensors, so from that one declaration come both
versions of the loss:

- on Tensors, one elementwise node l(x, t) over the batch, then a ``mean`` or ``sum`` node
  (reduction "none": no reduction node); dL/dx_i = dL/dl_i * dl/dx(x_i, t_i);
- on Values (a Value, or a list of Values for a vector), one node per element, then ``+``
  nodes (and a ``/ n`` node for the mean), built by `reduce_values`.

So the two versions agree everywhere, the edges included (clamps, saturation), by
construction. The checks of the operands, shared by every loss, live here too.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence, Union

import numpy as np

from autograd_core.ops import Op
from autograd_core.tensor import Tensor
from autograd_core.value import Constant, Value, sum_values

DomainCheck = Callable[[np.ndarray, np.ndarray, str], None]
ScalarOperand = Union[Value, float, Sequence[Union[Value, float]]]
REDUCTIONS = ("mean", "sum", "none")


def check_reduction(reduction: Any, who: str) -> str:
    """`reduction` itself if it is "mean", "sum" or "none", else a ValueError naming `who`."""
    if not isinstance(reduction, str) or reduction not in REDUCTIONS:
        raise ValueError(f"{who}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    return reduction


def describe_element(mask: np.ndarray, array: np.ndarray) -> str:
    """'element i is v' for the first True entry of `mask` (i a tuple for N-d arrays)."""
    flat = int(np.flatnonzero(mask)[0])
    value = float(array.flat[flat])
    if array.ndim == 0:
        return f"it is {value!r}"
    index = flat if array.ndim == 1 else tuple(int(i) for i in np.unravel_index(flat, array.shape))
    return f"element {index} is {value!r}"


# -- reductions and operands ------------------------------------------------------------------

def reduce_values(terms: list[Value], reduction: str, single: bool) -> Union[Value, list[Value]]:
    """The scalar side's reduction of per-element losses l_1..l_n.

    "sum": l_1 + ... + l_n (``+`` nodes: dL/dl_i = dL/dsum). "mean": that sum ``/ n``
    (dL/dl_i = dL/dmean / n; one element is its own mean, without a node). "none": the
    list itself, or the one Value when the input was a single Value.
    """
    if reduction == "none":
        return terms[0] if single else terms
    if len(terms) == 1:
        return terms[0]
    total = sum_values(terms)
    return total / len(terms) if reduction == "mean" else total


def is_sequence(x: Any) -> bool:
    """True for lists, tuples and numpy arrays of at least one dimension (not for strings)."""
    if isinstance(x, np.ndarray):
        return x.ndim >= 1
    return isinstance(x, Sequence) and not isinstance(x, (str, bytes))


def scalar_number(x: Any, who: str, role: str) -> Union[Value, float]:
    """`x` itself if it is a Value, else `x` as a float; a TypeError or ValueError naming
    `who` and `role` if it is neither a Value nor a real number, or is not finite."""
    if isinstance(x, Value):
        value = x.data
    elif isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Real):
        raise TypeError(f"{who}: {role} must be a float or a Value, got {type(x).__name__}: {x!r}")
    else:
        value = x = float(x)
    if not math.isfinite(value):
        raise ValueError(f"{who}: {role} is {value!r}; losses need finite numbers")
    return x


def scalar_pairs(input: ScalarOperand, target: ScalarOperand,
                 who: str) -> tuple[list[Union[Value, float]], list[Union[Value, float]], bool]:
    """(inputs, targets, single): both operands as equal-length lists of Values or floats.

    Both must be single numbers/Values or both sequences of the same non-zero length.
    """
    if is_sequence(input) != is_sequence(target):
        kinds = ["a list" if is_sequence(x) else "a single value" for x in (input, target)]
        raise ValueError(f"{who}: input is {kinds[0]} but target is {kinds[1]}")
    if not is_sequence(input):
        return [scalar_number(input, who, "input")], [scalar_number(target, who, "target")], True
    if len(input) != len(target):
        raise ValueError(f"{who}: input has {len(input)} elements but target has {len(target)}")
    if len(input) == 0:
        raise ValueError(f"{who}: input and target are empty")
    return ([scalar_number(x, who, f"input[{i}]") for i, x in enumerate(input)],
            [scalar_number(t, who, f"target[{i}]") for i, t in enumerate(target)], False)


def numbers_of(items: list[Union[Value, float]]) -> np.ndarray:
    """The numbers of Values and floats, as a float64 array."""
    return np.array([item.data if isinstance(item, Value) else item for item in items], dtype=np.float64)


def as_tensor(x: Any, dtype: np.dtype, who: str, role: str) -> Tensor:
    """`x` itself if it is a Tensor, else a constant Tensor of `dtype` holding `x`."""
    if isinstance(x, Tensor):
        return x
    try:
        return Tensor(x, dtype=dtype)
    except (TypeError, ValueError) as error:
        raise type(error)(f"{who}: {role} must be a Tensor or an array of numbers: {error}") from None


def check_finite(array: np.ndarray, who: str, role: str) -> None:
    """A ValueError naming `who` and `role` if `array` holds a nan or an infinity."""
    if not np.isfinite(array).all():
        raise ValueError(f"{who}: {role} contains nan or inf; losses need finite numbers")


def tensor_pair(input: Any, target: Any, who: str) -> tuple[Tensor, Tensor]:
    """Both operands as Tensors of one dtype and one shape, with finite values.

    A non-Tensor operand becomes a constant Tensor in the other one's dtype. No
    broadcasting: an (n, 1) input against an (n,) target would compare every pair.
    """
    dtype = (input.dtype if isinstance(input, Tensor)
             else target.dtype if isinstance(target, Tensor) else np.dtype(np.float64))
    x = as_tensor(input, dtype, who, "input")
    t = as_tensor(target, dtype, who, "target")
    if x.dtype != t.dtype:
        raise TypeError(f"{who}: input has dtype {x.dtype} but target has dtype {t.dtype}")
    if x.shape != t.shape:
        hint = (" (reshape one of them: an (n, 1) against an (n,) would compare every pair)"
                if x.size == t.size else "")
        raise ValueError(f"{who}: input has shape {x.shape} but target has shape {t.shape}; "
                         f"they must be equal{hint}")
    if x.size == 0:
        raise ValueError(f"{who}: input and target are empty")
    check_finite(x.data, who, "input")
    check_finite(t.data, who, "target")
    return x, t


def zero_d(value: Any, like: np.ndarray) -> np.ndarray:
    """A 0-d array in `like`'s dtype: a reduced loss is a one-element Tensor of its input's dtype."""
    return np.asarray(value, dtype=like.dtype)


# -- the declaration -------------------------------------------------------------------------------

@dataclass(frozen=True)
class PointwiseLoss:
    """A loss l(x, t) applied element by element, declared once as an engine op.

    `op` is a binary `autograd_core.ops.Op` on (input, target): its forward is l, its
    derivative the pair (dl/dx, dl/dt), its formula their text for traces and drawings.
    `check(x, t, who)` raises for data outside the loss's domain (numpy arrays of the
    operands), naming `who`. ``target_gradient=False``: the target enters as a constant
    (labels), whatever it is.
    """

    op: Op
    check: Optional[DomainCheck] = None
    target_gradient: bool = True

    def apply(self, input: Any, target: Any, reduction: str, who: str) -> Union[Tensor, Value, list[Value]]:
        """`on_tensors` if either operand is a Tensor, else `on_values`; `who` (the public
        function's name) names every error."""
        reduction = check_reduction(reduction, who)
        if isinstance(input, Tensor) or isinstance(target, Tensor):
            return self.on_tensors(input, target, reduction, who)
        return self.on_values(input, target, reduction, who)

    def on_tensors(self, input: Any, target: Any, reduction: str, who: str) -> Tensor:
        """reduce(l(x, t)) with reduction "mean", "sum" or "none": the elementwise node of
        `op`, then a ``mean`` or ``sum`` node. dL/dx = g * dl/dx(x, t) (/ n for the mean)."""
        x, t = tensor_pair(input, target, who)
        if self.check is not None:
            self.check(x.data, t.data, who)
        if not self.target_gradient and t.requires_grad:
            t = t.detach()
        losses = self.op(x, t)
        return losses.mean() if reduction == "mean" else losses.sum() if reduction == "sum" else losses

    def on_values(self, input: ScalarOperand, target: ScalarOperand, reduction: str,
                  who: str) -> Union[Value, list[Value]]:
        """One node l_i = op(x_i, t_i) per element (local derivatives dl/dx and dl/dt at
        (x_i, t_i)), then `reduce_values`. Numbers enter as constant leaves."""
        inputs, targets, single = scalar_pairs(input, target, who)
        if self.check is not None:
            self.check(numbers_of(inputs), numbers_of(targets), who)
        if not self.target_gradient:
            targets = [t.data if isinstance(t, Value) else t for t in targets]
        op = self.op
        terms = [op(x if isinstance(x, Value) else Constant(x), t) for x, t in zip(inputs, targets)]
        return reduce_values(terms, reduction, single)


__all__ = ["PointwiseLoss", "REDUCTIONS", "check_reduction", "reduce_values",
           "scalar_pairs", "scalar_number", "is_sequence", "numbers_of", "tensor_pair", "as_tensor",
           "check_finite", "describe_element", "zero_d"]
