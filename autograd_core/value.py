"""`Value`: a scalar node of a computation graph, and the scalar operations on it.

Each operation computes its result *and* its local derivatives d(out)/d(parent) at once,
and stores those numbers on the new node. Backward then needs no closures: the chain
rule for a node is just ``upstream * local_grad`` per parent. Without closures a graph
has no reference cycles, so it is freed by reference counting as soon as it goes out of
scope, instead of waiting for Python's cyclic garbage collector (which is what makes
micrograd slow with the collector on).
"""

from __future__ import annotations

import math
import numbers
from typing import Iterable, Sequence, Union

from autograd_core.graph import backpropagate, topological_order

Number = Union[int, float]
Operand = Union["Value", int, float]


def _check_number(data: object, what: str) -> float:
    if isinstance(data, bool) or not isinstance(data, numbers.Real):
        raise TypeError(f"{what} must be an int or a float, got {type(data).__name__}: {data!r}")
    return float(data)


def _named(node: "Value") -> str:
    return f" (node {node.label!r})" if node.label else ""


class Value:
    """A scalar in a computation graph: ``data``, ``grad``, ``label``, ``op``, ``parents``.

    Every op has one or two parents. A node keeps them, and its local derivatives
    d(self)/d(parent), in four slots of its own rather than in tuples, so that each node is one
    object for Python's cyclic garbage collector to track instead of two (the node and a
    parents tuple). ``parents`` and ``local_grads`` build their tuples when asked.
    """

    __slots__ = ("data", "grad", "label", "op", "_first_parent", "_second_parent",
                 "_local_first", "_local_second", "__weakref__")
    is_constant = False  # True for the numbers an expression wraps (`Constant`)

    def __init__(self, data: Number, label: str = "") -> None:
        if not isinstance(label, str):
            raise TypeError(f"label must be a str, got {type(label).__name__}: {label!r}")
        self.data = _check_number(data, "Value data")
        self.grad = 0.0
        self.label = label
        self.op = ""
        self._first_parent = self._second_parent = None
        self._local_first = self._local_second = 0.0

    @property
    def parents(self) -> tuple["Value", ...]:
        """The nodes this one was computed from: () for a leaf, else one or two Values."""
        first = self._first_parent
        if first is None:
            return ()
        second = self._second_parent
        return (first,) if second is None else (first, second)

    @property
    def local_grads(self) -> tuple[float, ...]:
        """d(self)/d(parents[i]) for each parent, as evaluated when the node was created."""
        return (self._local_first, self._local_second)[:len(self.parents)]

    @local_grads.setter
    def local_grads(self, local_grads: Sequence[float]) -> None:
        """Replace the stored derivatives (tests plant wrong ones to check gradcheck)."""
        if len(local_grads) != len(self.parents):
            raise ValueError(f"a node with {len(self.parents)} parents needs {len(self.parents)} "
                             f"local derivatives, got {len(local_grads)}")
        self._local_first, self._local_second = (*local_grads, 0.0, 0.0)[:2]

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g}{label})"

    # -- the node protocol used by autograd_core.graph -------------------------------

    def chain_rule(self, upstream: float) -> tuple[tuple["Value", float], ...]:
        """(parent_i, dL/d(parent_i)) for each parent, where dL/d(parent_i) = dL/d(self) * d(self)/d(parent_i)."""
        first, second = self._first_parent, self._second_parent
        if first is None:
            return ()
        if second is None:
            return ((first, upstream * self._local_first),)
        return ((first, upstream * self._local_first), (second, upstream * self._local_second))

    def accumulate_grad(self, gradient: float) -> None:
        """Add `gradient` into ``self.grad`` (gradients accumulate, as in PyTorch)."""
        self.grad += gradient

    def clear_grad(self) -> None:
        """Reset ``self.grad`` to 0."""
        self.grad = 0.0

    def backward(self, grad: Number = 1.0) -> None:
        """Seed ``self.grad`` with `grad` (default 1) and accumulate dself/dnode into every node."""
        backpropagate(self, _check_number(grad, "backward grad"))

    # -- arithmetic ---------------------------------------------------------------------

    def __add__(self, other: Operand) -> "Value":
        """out = a + b.   dL/da = dL/dout * 1,   dL/db = dL/dout * 1."""
        if not isinstance(other, Value):  # as_value inlined: this runs for every + and * of a network
            other = as_value(other)
        return _new_node(self.data + other.data, "+", self, 1.0, other, 1.0)

    def __sub__(self, other: Operand) -> "Value":
        """out = a - b.   dL/da = dL/dout * 1,   dL/db = dL/dout * (-1)."""
        if not isinstance(other, Value):
            other = as_value(other)
        return _new_node(self.data - other.data, "-", self, 1.0, other, -1.0)

    def __mul__(self, other: Operand) -> "Value":
        """out = a * b.   dL/da = dL/dout * b,   dL/db = dL/dout * a."""
        if not isinstance(other, Value):
            other = as_value(other)
        return _new_node(self.data * other.data, "*", self, other.data, other, self.data)

    def __truediv__(self, other: Operand) -> "Value":
        """out = a / b.   dL/da = dL/dout * (1/b),   dL/db = dL/dout * (-a/b^2)."""
        if not isinstance(other, Value):
            other = as_value(other)
        if other.data == 0.0:
            raise ZeroDivisionError(f"division by zero: {self.data:g} / {other.data:g}{_named(other)}")
        b = other.data
        return _new_node(self.data / b, "/", self, 1.0 / b, other, -self.data / (b * b))

    def __neg__(self) -> "Value":
        """out = -a.   dL/da = dL/dout * (-1)."""
        return _new_node(-self.data, "neg", self, -1.0)

    def __pow__(self, exponent: Operand) -> "Value":
        """out = a ** n for a number n:  dL/da = dL/dout * n * a^(n-1).

        out = a ** b for a Value b:  dL/da = dL/dout * b * a^(b-1),  dL/db = dL/dout * a^b * ln(a).
        """
        a = self.data
        if isinstance(exponent, Value):
            b = exponent.data
            if a < 0.0:
                raise ValueError(f"a negative base {a:g}{_named(self)} raised to a Value power "
                                 f"has no real derivative with respect to the exponent")
            if a == 0.0 and b < 0.0:
                raise ZeroDivisionError(f"0 raised to the negative power {b:g}{_named(self)}")
            out = _checked_power(a, b, self)
            # d(a^b)/db = a^b ln a tends to 0 as a -> 0+ when b >= 0 (PyTorch uses 0 there too).
            return _new_node(out, "**", self, _power_rule(a, b, self),
                             exponent, out * math.log(a) if a > 0.0 else 0.0)
        n = _check_number(exponent, "exponent")
        if a == 0.0 and n < 0.0:
            raise ZeroDivisionError(f"0 raised to the negative power {n:g}{_named(self)}")
        if a < 0.0 and not n.is_integer():
            raise ValueError(f"a negative base {a:g}{_named(self)} raised to the non-integer "
                             f"power {n:g} is not a real number")
        return _new_node(_checked_power(a, n, self), f"**{n:g}", self, _power_rule(a, n, self))

    def __radd__(self, other: Number) -> "Value":
        return as_value(other) + self

    def __rsub__(self, other: Number) -> "Value":
        return as_value(other) - self

    def __rmul__(self, other: Number) -> "Value":
        return as_value(other) * self

    def __rtruediv__(self, other: Number) -> "Value":
        return as_value(other) / self

    def __rpow__(self, other: Number) -> "Value":
        return as_value(other) ** self

    # -- elementary functions and activations ---------------------------------------------

    def exp(self) -> "Value":
        """out = e^a.   dL/da = dL/dout * e^a."""
        try:
            out = math.exp(self.data)
        except OverflowError:
            raise OverflowError(f"exp({self.data:g}){_named(self)} overflows a float") from None
        return _new_node(out, "exp", self, out)

    def log(self) -> "Value":
        """out = ln a (a > 0).   dL/da = dL/dout * (1/a)."""
        if self.data <= 0.0:
            raise ValueError(f"log of a non-positive number {self.data:g}{_named(self)}")
        return _new_node(math.log(self.data), "log", self, 1.0 / self.data)

    def tanh(self) -> "Value":
        """out = tanh a.   dL/da = dL/dout * (1 - out^2)."""
        out = math.tanh(self.data)
        return _new_node(out, "tanh", self, 1.0 - out * out)

    def sigmoid(self) -> "Value":
        """out = 1 / (1 + e^-a).   dL/da = dL/dout * out * (1 - out).

        Evaluated so that no exponential overflows: for a < 0 use e^a / (1 + e^a).
        """
        if self.data >= 0.0:
            out = 1.0 / (1.0 + math.exp(-self.data))
        else:
            e = math.exp(self.data)
            out = e / (1.0 + e)
        return _new_node(out, "sigmoid", self, out * (1.0 - out))

    def relu(self) -> "Value":
        """out = 0 if a <= 0 else a.   dL/da = dL/dout * (0 if a <= 0 else 1).

        Written with a <= 0 as PyTorch does, so that a NaN passes through: relu(nan) = nan
        with slope 1 (max(0, a) and [a > 0] would give 0 and 0)."""
        if self.data <= 0.0:
            return _new_node(0.0, "relu", self, 0.0)
        return _new_node(self.data, "relu", self, 1.0)

    def leaky_relu(self, negative_slope: Number = 0.01) -> "Value":
        """out = a if a > 0 else s*a.   dL/da = dL/dout * (1 if a > 0 else s).

        As in PyTorch a NaN takes the a <= 0 branch: out = s*nan = nan, slope s."""
        slope = _check_number(negative_slope, "negative_slope")
        if self.data > 0.0:
            return _new_node(self.data, "leaky_relu", self, 1.0)
        return _new_node(slope * self.data, "leaky_relu", self, slope)

    def elu(self, alpha: Number = 1.0) -> "Value":
        """out = alpha*(e^a - 1) if a <= 0 else a.   dL/da = dL/dout * (alpha*e^a if a <= 0 else 1).

        e^a - 1 is computed with expm1: near a = 0, e^a rounds to 1 and the subtraction would
        lose every digit (elu(-1e-17) would be 0 instead of -1e-17). Tested with a <= 0 as
        PyTorch does, so that a NaN takes the identity branch: out = nan, slope 1.
        """
        alpha = _check_number(alpha, "alpha")
        if self.data <= 0.0:
            return _new_node(alpha * math.expm1(self.data), "elu", self, alpha * math.exp(self.data))
        return _new_node(self.data, "elu", self, 1.0)

    def abs(self) -> "Value":
        """out = |a|.   dL/da = dL/dout * sign(a)   (0 at a = 0, as in PyTorch)."""
        sign = 1.0 if self.data > 0.0 else (-1.0 if self.data < 0.0 else 0.0)
        return _new_node(abs(self.data), "abs", self, sign)

    __abs__ = abs


_allocate = object.__new__


def _new_node(data: float, op: str, first_parent: Value, local_first: float,
              second_parent: Value | None = None, local_second: float = 0.0) -> Value:
    """The Value that `op` computed from its parents: `data`, with d(data)/d(first_parent) =
    `local_first` and, for a binary op, d(data)/d(second_parent) = `local_second`.

    Skips ``__init__``'s checks, and stores one slot at a time: it runs for every node of a
    network, so it is written for speed.
    """
    out = _allocate(Value)
    out.data = data
    out.grad = 0.0
    out.label = ""
    out.op = op
    out._first_parent = first_parent
    out._local_first = local_first
    out._second_parent = second_parent
    out._local_second = local_second
    return out


def _checked_power(base: float, exponent: float, node: Value, what: str = "") -> float:
    """base ** exponent, or an OverflowError that names the node instead of Python's errno text."""
    try:
        return base ** exponent
    except OverflowError:
        raise OverflowError(f"{what}{base:g} ** {exponent:g}{_named(node)} overflows a float") from None


def _power_rule(base: float, exponent: float, node: Value) -> float:
    """d(base^n)/d(base) = n * base^(n-1), with PyTorch's values where that formula reads
    0 * inf or 1/0: 0 for n = 0, and +inf at base 0 for 0 < n < 1 (the slope of a root at 0)."""
    if exponent == 0.0:
        return 0.0
    if base == 0.0 and exponent < 1.0:
        return math.inf
    return exponent * _checked_power(base, exponent - 1.0, node,
                                     f"the derivative of {base:g} ** {exponent:g} needs ")


class Constant(Value):
    """A Python number that entered an expression, such as the 2 in ``y - 2``: an unlabelled
    leaf. It gets a gradient like every node (the graph shows it), but the backward trace
    writes no dL/d2 line for it, as a slide would not."""

    __slots__ = ()
    is_constant = True


def as_value(x: Operand) -> Value:
    """`x` itself if it is a Value, else a new `Constant` leaf holding the number `x`."""
    if isinstance(x, Value):
        return x
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"unsupported operand: expected a Value, int or float, got "
                        f"{type(x).__name__}: {x!r} (a Value combines only with Values and Python "
                        f"numbers; for arrays use Tensor, with value.data as the number)")
    return Constant(x)


def maximum(a: Operand, b: Operand) -> Value:
    """out = max(a, b).  dL/da = dL/dout * [a > b], dL/db = dL/dout * [b > a]; a tie splits 1/2 each.

    The tie rule is PyTorch's for ``torch.maximum``. Maxout is ``maximum(w1.x + b1, w2.x + b2)``.
    """
    a, b = as_value(a), as_value(b)
    if a.data == b.data:
        return _new_node(a.data, "max", a, 0.5, b, 0.5)
    if a.data > b.data:
        return _new_node(a.data, "max", a, 1.0, b, 0.0)
    return _new_node(b.data, "max", a, 0.0, b, 1.0)


def softmax(values: Sequence[Operand]) -> list[Value]:
    """softmax(x)_i = e^(x_i - m) / sum_j e^(x_j - m), with m = max x (so no e^x overflows).

    Built from `-`, `exp`, `+` and `/` nodes, so its gradient is their chain rule.
    Subtracting the constant m changes no value and no derivative.
    """
    values = [as_value(v) for v in values]
    if not values:
        raise ValueError("softmax of an empty list")
    shift = max(v.data for v in values)
    exps = [(v - shift).exp() for v in values]
    total = sum_values(exps)
    return [e / total for e in exps]


def sum_values(values: Iterable[Operand]) -> Value:
    """a_1 + a_2 + ... + a_n as a chain of `+` nodes (no extra constant-zero leaf)."""
    iterator = iter(values)
    try:
        total = as_value(next(iterator))
    except StopIteration:
        raise ValueError("sum of an empty sequence of Values") from None
    for v in iterator:
        total = total + v
    return total


__all__ = ["Value", "Constant", "as_value", "maximum", "softmax", "sum_values", "topological_order"]
