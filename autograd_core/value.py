"""`Value`: a scalar node of a computation graph, and the scalar operations on it.

Every operation is declared once in `autograd_core.ops`: its forward on floats and its local
derivative. A Value op evaluates both at once, on the parents' floats, and stores the numbers
on the new node. An ordinary backward then needs no closures: the chain rule for a node is
just ``upstream * local_grad`` per parent. Without closures a graph has no reference cycles,
so it is freed by reference counting as soon as it goes out of scope, instead of waiting for
Python's cyclic garbage collector (which is what makes micrograd slow with the collector on).

``backward(create_graph=True)`` evaluates the same declared derivative on the parent *nodes*
instead, so the gradients are Values of the graph and can be differentiated again.
"""

from __future__ import annotations

import functools
import numbers
import threading
from typing import Any, Callable, Iterable, Sequence, Union

from autograd_core import ops
from autograd_core.grad_mode import GRAD_MODE, NO_GRAD_BLOCKS_OPEN
from autograd_core.graph import backpropagate, chain_rule_step, topological_order

Number = Union[int, float]
Operand = Union["Value", int, float]


def _check_number(data: object, what: str) -> float:
    if isinstance(data, bool) or not isinstance(data, numbers.Real):
        raise TypeError(f"{what} must be an int or a float, got {type(data).__name__}: {data!r}")
    if isinstance(data, numbers.Integral):
        too_large_for_float(data, what)
    return float(data)


def too_large_for_float(number: numbers.Integral, what: str) -> None:
    """OverflowError naming `number` (shortened) if the int does not fit in a float64."""
    try:
        float(number)
    except OverflowError:
        digits = str(abs(int(number)))
        shown = digits if len(digits) <= 20 else f"{digits[:10]}...{digits[-3:]}"
        sign = "-" if number < 0 else ""
        raise OverflowError(f"{what}: the int {sign}{shown} ({len(digits)} digits) is too large "
                            f"for a float (the largest is about 1.8e308)") from None


def _named(node: "Value") -> str:
    return f" (node {node.label!r})" if node.label else ""


class Value:
    """A number that remembers how it was computed, so that backward() can find its gradients.

    >>> x, w = Value(0.5, "x"), Value(-1.0, "w")
    >>> y = (w * x + 1).tanh()                  # y = tanh(w x + 1) = tanh(0.5)
    >>> y.backward()
    >>> round(w.grad, 4), round(x.grad, 4)      # dy/dw = x (1 - y^2), dy/dx = w (1 - y^2)
    (0.3932, -0.7864)

    Attributes: ``data`` (the number), ``grad`` (dL/dthis after backward; a Value after
    ``backward(create_graph=True)``, which you can differentiate again), ``label`` (a name for
    drawings and traces), ``op`` (the operation that made it, "" for a leaf) and ``parents``
    (the nodes it was computed from). Every op of `autograd_core.ops` works on Values:
    ``+ - * / **``, ``exp``, ``log``, ``tanh``, ``sigmoid``, ``relu``, ``leaky_relu``, ``elu``,
    ``abs``, and `maximum`; `autograd_core.trace_backward` prints the backward pass step by step.
    Inside ``with no_grad():`` every op gives a leaf holding its result (no graph), as PyTorch's
    ops give tensors that do not require grad.

    Internals: a node keeps its one or two parents, their local derivatives d(self)/d(parent)
    and its op's declaration in slots of its own rather than in tuples, so that each node is
    one object for Python's cyclic garbage collector to track instead of two.
    ``parents`` and ``local_grads`` build their tuples when asked.
    """

    __slots__ = ("data", "grad", "label", "_op", "_first_parent", "_second_parent",
                 "_local_first", "_local_second", "__weakref__")
    is_constant = False  # True for the numbers an expression wraps (`Constant`)

    def __init__(self, data: Number, label: str = "") -> None:
        if not isinstance(label, str):
            raise TypeError(f"label must be a str, got {type(label).__name__}: {label!r}")
        self.data = _check_number(data, "Value data")
        self.grad: Any = 0.0
        self.label = label
        self._op = None
        self._first_parent = self._second_parent = None
        self._local_first = self._local_second = 0.0

    @property
    def op(self) -> str:
        """The name of the operation that made this node ("" for a leaf)."""
        return "" if self._op is None else self._op.name

    @property
    def rule(self) -> "ops.Op | None":
        """The declaration of the operation that made this node (None for a leaf)."""
        return self._op

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
        grad = self.grad.data if isinstance(self.grad, Value) else self.grad
        return f"Value(data={self.data:.6g}, grad={grad:.6g}{label})"

    # -- the node protocol used by autograd_core.graph -------------------------------

    def chain_rule(self, upstream: Any, create_graph: bool = False) -> tuple[tuple["Value", Any], ...]:
        """(parent_i, dL/d(parent_i)) for each parent, where dL/d(parent_i) = dL/d(self) * d(self)/d(parent_i).

        With `create_graph` the upstream gradient is a Value and the local derivatives are
        evaluated again from the op's declaration on the parent nodes, so every product is a
        node of the graph (differentiable again)."""
        first, second = self._first_parent, self._second_parent
        if first is None:
            return ()
        if create_graph:
            parents = self.parents
            locals_ = self._op.local_derivatives(parents, self)
            return tuple((parent, ops.times(upstream, local)) for parent, local in zip(parents, locals_))
        if second is None:
            return ((first, upstream * self._local_first),)
        return ((first, upstream * self._local_first), (second, upstream * self._local_second))

    def accumulate_grad(self, gradient: Any) -> None:
        """Add `gradient` into ``self.grad`` (gradients accumulate, as in PyTorch).

        Into a leaf under a lock: threads running backward passes that share a leaf (a
        parameter) must not lose each other's additions. One lock serves every Value leaf
        (adding Python floats holds the interpreter lock anyway, so threads lose no
        parallelism); an intermediate node belongs to the pass that built it and takes none."""
        if self._first_parent is not None:
            if type(gradient) is float:
                self.grad += gradient  # the hot path: an intermediate node, an ordinary backward
            else:
                _add_gradient(self, gradient)
            return
        _lock_leaves()  # not `with`: this runs for every parameter of every pass
        try:
            if type(gradient) is float:
                self.grad += gradient
            else:
                _add_gradient(self, gradient)
        finally:
            _unlock_leaves()

    def backward_step(self, upstream: Any, pass_gradients: dict["Value", Any]) -> None:
        """This node's step in an ordinary backward pass (`graph.backpropagate`):
        ``self.grad += upstream``, then for each parent dL/d(parent_i) += upstream *
        d(self)/d(parent_i) in `pass_gradients`.

        `accumulate_grad` and `chain_rule` written out in one method without the pairs: it
        runs for every node of a scalar network, where the pairs and the second call were a
        fifth of backward's time (benchmarks/RESULTS.md)."""
        first = self._first_parent
        if first is None or type(upstream) is not float:  # a leaf as the root, or a gradient node
            chain_rule_step(self, upstream, pass_gradients)
            return
        self.grad += upstream
        contribution = upstream * self._local_first
        earlier = pass_gradients.get(first)
        pass_gradients[first] = contribution if earlier is None else earlier + contribution
        second = self._second_parent
        if second is not None:
            contribution = upstream * self._local_second
            earlier = pass_gradients.get(second)
            pass_gradients[second] = contribution if earlier is None else earlier + contribution

    def clear_grad(self) -> None:
        """Reset ``self.grad`` to 0."""
        self.grad = 0.0

    def backward(self, grad: Number = 1.0, create_graph: bool = False) -> None:
        """Seed ``self.grad`` with `grad` (default 1) and accumulate dself/dnode into every node.

        With ``create_graph=True`` each ``.grad`` becomes a Value, a node of a graph built
        from the declared derivatives, which can be differentiated again (as in PyTorch)."""
        seed = _check_number(grad, "backward grad")
        if create_graph:
            backpropagate(self, Constant(seed), create_graph=True)
        else:
            backpropagate(self, seed)

    # -- arithmetic ---------------------------------------------------------------------

    def __add__(self, other: Operand) -> "Value":
        """out = a + b.   dL/da = dL/dout * 1,   dL/db = dL/dout * 1."""
        if not isinstance(other, Value):  # the type test inlined: this runs for every + and * of a network
            other = as_value(other)
        # `_new_node` inlined for the two ops that make nearly every node of a network (a call
        # saved per node); the forward is the declared one (operator.add), the derivatives its
        # declared numbers.
        if _no_grad_blocks_open[0] and not GRAD_MODE.enabled:
            return _unrecorded(self.data + other.data)
        out = _allocate(Value)
        out.data = self.data + other.data
        out.grad = 0.0
        out.label = ""
        out._op = _ADD
        out._first_parent, out._local_first = self, _ADD_LOCAL_A
        out._second_parent, out._local_second = other, _ADD_LOCAL_B
        return out

    def __sub__(self, other: Operand) -> "Value":
        """out = a - b.   dL/da = dL/dout * 1,   dL/db = dL/dout * (-1)."""
        if not isinstance(other, Value):
            other = as_value(other)
        return _binary(_SUB, self, other)

    def __mul__(self, other: Operand) -> "Value":
        """out = a * b.   dL/da = dL/dout * b,   dL/db = dL/dout * a."""
        if not isinstance(other, Value):
            other = as_value(other)
        # As in __add__; the declared forward is operator.mul and the declared derivative
        # (b, a), written out here (tests/test_define_op.py compares the two on every kind of
        # number, the selected zeros of `ops.Zero` included).
        a, b = self.data, other.data
        if _no_grad_blocks_open[0] and not GRAD_MODE.enabled:
            return _unrecorded(a * b)
        out = _allocate(Value)
        out.data = a * b
        out.grad = 0.0
        out.label = ""
        out._op = _MUL
        out._first_parent, out._local_first = self, b
        out._second_parent, out._local_second = other, a
        return out

    def __truediv__(self, other: Operand) -> "Value":
        """out = a / b.   dL/da = dL/dout * (1/b),   dL/db = dL/dout * (-a/b^2)."""
        if not isinstance(other, Value):
            other = as_value(other)
        if other.data == 0.0:
            raise ZeroDivisionError(f"division by zero: {self.data:g} / {other.data:g}{_named(other)}")
        return _binary(_DIV, self, other)

    def __neg__(self) -> "Value":
        """out = -a.   dL/da = dL/dout * (-1)."""
        return _unary(ops.NEG, self)

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
            _check_power(a, b, self)
            if b != 0.0 and b != 1.0 and a != 0.0:
                _check_power(a, b - 1.0, self, f"the derivative of {a:g} ** {b:g} needs ")
            return _binary(ops.POWER, self, exponent)
        n = _check_number(exponent, "exponent")
        if a == 0.0 and n < 0.0:
            raise ZeroDivisionError(f"0 raised to the negative power {n:g}{_named(self)}")
        if a < 0.0 and not n.is_integer():
            raise ValueError(f"a negative base {a:g}{_named(self)} raised to the non-integer "
                             f"power {n:g} is not a real number")
        _check_power(a, n, self)
        if n != 0.0 and n != 1.0 and a != 0.0:
            _check_power(a, n - 1.0, self, f"the derivative of {a:g} ** {n:g} needs ")
        return _unary(ops.POWER_OF_NUMBER.bind(n=n), self)

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

    # -- elementary functions and activations (declared in autograd_core.ops) ---------------

    def exp(self) -> "Value":
        """out = e^a.   dL/da = dL/dout * e^a."""
        return _unary(ops.EXP, self)

    def log(self) -> "Value":
        """out = ln a (a > 0).   dL/da = dL/dout * (1/a)."""
        return _unary(ops.LOG, self)

    def tanh(self) -> "Value":
        """out = tanh a.   dL/da = dL/dout * (1 - out^2)."""
        return _unary(ops.TANH, self)

    def sigmoid(self) -> "Value":
        """out = 1 / (1 + e^-a).   dL/da = dL/dout * out * (1 - out)."""
        return _unary(ops.SIGMOID, self)

    def relu(self) -> "Value":
        """out = 0 if a <= 0 else a.   dL/da = dL/dout * (0 if a <= 0 else 1).

        Written with a <= 0 as PyTorch does, so that a NaN passes through: relu(nan) = nan
        with slope 1 (max(0, a) and [a > 0] would give 0 and 0)."""
        return _unary(ops.RELU, self)

    def leaky_relu(self, negative_slope: Number = 0.01) -> "Value":
        """out = a if a > 0 else s*a.   dL/da = dL/dout * (1 if a > 0 else s).

        As in PyTorch a NaN takes the a <= 0 branch: out = s*nan = nan, slope s."""
        slope = _check_number(negative_slope, "negative_slope")
        return _unary(ops.LEAKY_RELU.bind(negative_slope=slope), self)

    def elu(self, alpha: Number = 1.0) -> "Value":
        """out = alpha*(e^a - 1) if a <= 0 else a.   dL/da = dL/dout * (alpha*e^a if a <= 0 else 1)."""
        return _unary(ops.ELU.bind(alpha=_check_number(alpha, "alpha")), self)

    def abs(self) -> "Value":
        """out = |a|.   dL/da = dL/dout * sign(a)   (0 at a = 0, as in PyTorch)."""
        return _unary(ops.ABS, self)

    __abs__ = abs


_allocate = object.__new__
_no_grad_blocks_open = NO_GRAD_BLOCKS_OPEN  # see grad_mode: read before the thread's own mode
_VALUE_LEAF_LOCK = threading.Lock()  # see Value.accumulate_grad
_lock_leaves, _unlock_leaves = _VALUE_LEAF_LOCK.acquire, _VALUE_LEAF_LOCK.release
_ADD, _SUB, _MUL, _DIV, _Zero = ops.ADD, ops.SUB, ops.MUL, ops.DIV, ops.Zero
_ADD_LOCAL_A, _ADD_LOCAL_B = _ADD.constant_derivative


def _unary(op: "ops.Op", x: Value) -> Value:
    """The node op(x): the declared forward and derivative on x's float."""
    a = x.data
    try:
        out = op.scalar(a)
    except (ValueError, OverflowError, ZeroDivisionError) as error:
        raise type(error)(f"{error}{_named(x)}") from None
    return _new_node(out, op, x, op.derivative(a, out))


def _binary(op: "ops.Op", x: Value, y: Value) -> Value:
    """The node op(x, y): the declared forward and derivatives on the parents' floats."""
    a, b = x.data, y.data
    out = op.scalar(a, b)
    local_a, local_b = op.constant_derivative or op.derivative(a, b, out)
    return _new_node(out, op, x, local_a, y, local_b)


def _new_node(data: float, op: "ops.Op", first_parent: Value, local_first: float,
              second_parent: Value | None = None, local_second: float = 0.0) -> Value:
    """The Value that `op` computed from its parents: `data`, with d(data)/d(first_parent) =
    `local_first` and, for a binary op, d(data)/d(second_parent) = `local_second`.

    Skips ``__init__``'s checks, and stores one slot at a time: it runs for every node of a
    network, so it is written for speed.
    """
    if _no_grad_blocks_open[0] and not GRAD_MODE.enabled:
        return _unrecorded(data)
    out = _allocate(Value)
    out.data = data
    out.grad = 0.0
    out.label = ""
    out._op = op
    out._first_parent = first_parent
    out._local_first = local_first
    out._second_parent = second_parent
    out._local_second = local_second
    return out


def _unrecorded(data: float) -> Value:
    """What an op gives inside `no_grad`: a leaf holding the result, with no graph behind it."""
    out = _allocate(Value)
    out.data = data
    out.grad = 0.0
    out.label = ""
    out._op = out._first_parent = out._second_parent = None
    out._local_first = out._local_second = 0.0
    return out


def _add_gradient(node: Value, gradient: Any) -> None:
    """``node.grad += gradient``; a gradient node (``create_graph``) replaces the float 0 it
    meets first, so the graph does not gain a ``0 + g`` node."""
    if type(gradient) is float:
        node.grad += gradient
    elif type(node.grad) is float and node.grad == 0.0:
        node.grad = gradient
    else:
        node.grad = node.grad + gradient


def _check_power(base: float, exponent: float, node: Value, what: str = "") -> None:
    """An OverflowError that names the node if base ** exponent overflows a float."""
    try:
        base ** exponent
    except OverflowError:
        raise OverflowError(f"{what}{base:g} ** {exponent:g}{_named(node)} overflows a float") from None


class Constant(Value):
    """A Python number that entered an expression, such as the 2 in ``y - 2``: an unlabelled
    leaf. It gets a gradient like every node (the graph shows it), but the backward trace
    writes no dL/d2 line for it, as a slide would not."""

    __slots__ = ()
    is_constant = True
    # A number never has parents: a class attribute, read without `Value.parents`' call (the
    # graph walk asks every node; half the nodes of `y * 0.999 + 0.001` are numbers).
    parents: tuple[()] = ()

    def accumulate_grad(self, gradient: Any) -> None:
        """Add `gradient` into ``self.grad``, without `Value`'s leaf lock: a Constant is made
        for one expression, so only the pass through that expression adds into it."""
        if type(gradient) is float:
            self.grad += gradient
        else:
            _add_gradient(self, gradient)


def as_value(x: Operand) -> Value:
    """`x` itself if it is a Value, else a new `Constant` leaf holding the number `x`."""
    kind = type(x)
    if kind is float or kind is int or kind is _Zero:  # first, and without the checked constructor:
        out = _allocate(Constant)                      # `Value * 0.5` runs this for every node
        out.data = float(x) if kind is int else x  # a selected 0 stays one (ops.Zero)
        out.grad = 0.0
        out.label = ""
        out._op = out._first_parent = out._second_parent = None
        out._local_first = out._local_second = 0.0
        return out
    if isinstance(x, Value):
        return x
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"unsupported operand: expected a Value, int or float, got "
                        f"{type(x).__name__}: {x!r} (a Value combines only with Values and Python "
                        f"numbers; for arrays use Tensor, with value.data as the number)")
    return Constant(x)


def unary_on_values(op: "ops.Op") -> "Callable[[Value], Value]":
    """``op`` as a function of one Value, without `Op.__call__`'s dispatch on the argument's
    type: for code that calls one op on many Values (nn's scalar activations)."""
    if op.arity != 1 or (op.parameters and not op.bound):
        raise ValueError(f"unary_on_values: {op!r} is not a one-input op with its parameters bound")
    return functools.partial(_unary, op)


def _apply(op: "ops.Op", args: tuple) -> Value:
    """``op(...)`` when an argument is a Value: numbers become Constants; Tensors are refused."""
    values = tuple(as_value(arg) for arg in args)
    if op.arity == 1:
        return _unary(op, values[0])
    return _binary(op, values[0], values[1])


ops.register_node_type(Value, _apply)
ops.register_node_type(Constant, _apply)


def maximum(a: Operand, b: Operand) -> Value:
    """out = max(a, b).  dL/da = dL/dout * [a > b], dL/db = dL/dout * [b > a]; a tie splits 1/2 each.

    The tie rule is PyTorch's for ``torch.maximum``. Maxout is ``maximum(w1.x + b1, w2.x + b2)``.
    """
    return _binary(ops.MAXIMUM, as_value(a), as_value(b))


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
