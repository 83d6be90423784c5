"""`Tensor`: a numpy array in a computation graph, with reverse-mode autodiff.

Every operation computes its result with numpy and, when it is recorded, stores a
*backward function*: given dL/d(out) it returns dL/d(parent) for each parent, already
summed back to that parent's shape (numpy broadcasting is undone by `unbroadcast`).
Backward functions capture input and output *arrays*, never the output Tensor, so a
graph has no reference cycles and is freed by reference counting as soon as it goes
out of scope. `Tensor.backward` runs the project's one driver, `graph.backpropagate`.

An operation is recorded only when grad mode is on (see `no_grad`) and at least one
input requires grad; otherwise its result is a plain leaf with no parents.

Numerical domain: values follow IEEE arithmetic exactly like PyTorch (log(0) = -inf,
log(-1) = nan, 1/0 = inf) and numpy's RuntimeWarning is left visible, so such values
are never produced silently.

The operations live in short sibling modules: `tensor_arithmetic` (+ - * / ** @),
`tensor_reductions` (sum, mean, max), `tensor_shape` (reshape, transpose, indexing,
concatenate, stack) and `tensor_functions` (elementwise functions, activations,
softmax, clip, where), plus `tensor_custom_op` behind `Tensor.from_op`. This module holds
the class, the node protocol and the helpers every op uses to build its result.
"""

from __future__ import annotations

import numbers
from sys import getrefcount
from typing import Any, Callable, Iterator, Optional, Sequence, Union

import numpy as np

from autograd_core import ops
from autograd_core.grad_mode import GRAD_MODE, enable_grad
from autograd_core.anomaly import ANOMALY, check_tensor_forward
from autograd_core.graph import _LEAF_LOCKS, backpropagate, chain_rule_step
from autograd_core.value import Value, too_large_for_float

# dL/d(out) -> one dL/d(parent) per parent, each in that parent's shape, or None.
BackwardFunction = Callable[[np.ndarray], Sequence[Optional[np.ndarray]]]
# An op's vector-Jacobian product: (dL/dout, inputs, out, needs) -> dL/d(input) per input (None
# where ``needs`` is False). Written with operations that numpy arrays and Tensors share, it runs
# on the forward's arrays for an ordinary backward, and on the parent Tensors (building graph
# nodes) for ``backward(create_graph=True)``.
VectorJacobianProduct = Callable[[Any, Sequence[Any], Any, Sequence[bool]], Sequence[Any]]
# Anything numpy turns into a real array: numbers, nested lists, arrays, Tensors.
ArrayLike = Any
Operand = Union["Tensor", float, int, np.ndarray]

FLOAT_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))


def float_dtype(dtype: Any) -> np.dtype:
    """`dtype` as a numpy dtype, which must be float64 or float32."""
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be float64 or float32, got {dtype!r}") from None
    if resolved not in FLOAT_DTYPES:
        raise TypeError(f"dtype must be float64 or float32, got {resolved}")
    return resolved


def to_array(data: ArrayLike, dtype: np.dtype, what: str = "Tensor data") -> np.ndarray:
    """A fresh array of `dtype` holding `data`; TypeError naming the type for non-real data."""
    if isinstance(data, Tensor):
        data = data.data
    if data is None or isinstance(data, (str, bytes)):
        raise TypeError(f"{what} must be real numbers, got {type(data).__name__}: {data!r}")
    if isinstance(data, (list, tuple)) and _holds_tensor(data):
        # numpy would read their data and silently cut them out of the graph.
        raise TypeError(f"{what} must be real numbers, got a {type(data).__name__} holding "
                        "Tensors: to combine Tensors in the graph use stack or concatenate")
    try:
        raw = np.asarray(data)
    except ValueError as error:  # ragged nested lists
        raise ValueError(f"{what} must be a rectangular array of numbers: {error}") from None
    if raw.dtype.kind == "O" and raw.size and all(_is_real_number(item) for item in raw.flat):
        # Python ints beyond int64 (numpy keeps them as objects): read as floats if they fit
        for item in raw.flat:
            if isinstance(item, numbers.Integral):
                too_large_for_float(item, what)
        return np.array(raw.astype(np.float64), dtype=dtype)
    if raw.dtype.kind not in "biuf":
        if raw.dtype.kind == "O" and any(isinstance(item, Value) for item in raw.flat):
            got = "" if isinstance(data, Value) else f"{type(data).__name__} holding a "
            raise TypeError(_VALUE_MIXED_WITH_TENSOR.format(what=what, got=got))
        hint = " (to combine Tensors use stack or concatenate)" if raw.dtype.kind == "O" else ""
        raise TypeError(f"{what} must be real numbers, got {type(data).__name__} "
                        f"of dtype {raw.dtype}{hint}")
    return np.array(raw, dtype=dtype)


def _is_real_number(item: Any) -> bool:
    return isinstance(item, numbers.Real) and not isinstance(item, (Value, Tensor))


_VALUE_MIXED_WITH_TENSOR = (
    "{what} must be real numbers, got a {got}scalar Value: a Value (the scalar "
    "engine) cannot be mixed with a Tensor. Use a float instead (value.data, a constant for "
    "the Tensor graph), or keep the computation in Value's own ops")


def _holds_tensor(items: Union[list, tuple]) -> bool:
    """Whether a (nested) list or tuple contains a Tensor anywhere."""
    return any(isinstance(item, Tensor) or (isinstance(item, (list, tuple)) and _holds_tensor(item))
               for item in items)


class Tensor:
    """An array that remembers how it was computed: the tensor side of the engine, with numpy's
    broadcasting, for networks trained on batches.

    >>> W = Tensor([[1.0, -2.0], [3.0, 0.5]], requires_grad=True)
    >>> loss = (W * W).sum()                    # loss = sum of W_ij^2
    >>> loss.backward()
    >>> W.grad                                  # dloss/dW = 2 W, a numpy array
    array([[ 2., -4.],
           [ 6.,  1.]])

    ``Tensor(data, requires_grad=False, dtype=None, label="")`` copies `data`
    (numbers, nested lists or an array; booleans become 0/1) into a float64 or float32
    array: `dtype` if given, else the dtype of a float32 or float64 array or Tensor (as
    ``torch.tensor`` keeps an array's dtype), else float64. Attributes: ``data``, ``grad``, ``requires_grad``, ``op``, ``label``, ``parents``.
    ``grad`` stays None until a backward pass reaches the tensor; a leaf's grad is
    then an array of its own (safe to modify in place), an intermediate's may be a view
    the pass shares. After ``backward(create_graph=True)`` the grads are Tensors that can be
    differentiated again. Large arrays run Numba kernels (`autograd_core.kernels`).

    ``==, !=, <, <=, >, >=`` give plain boolean masks (for `where`), as in PyTorch. Hashing
    stays by identity (``__hash__ = object.__hash__``): Tensors are graph nodes that sets and
    dicts hold, and those find a key by its hash and identity before they would call ``==``.
    Code that finds a Tensor with ``==`` alone (``list.index``, ``in`` on a list) must compare
    identities instead.
    """

    __slots__ = ("data", "grad", "requires_grad", "label", "op", "parents", "_vjp", "_saved",
                 "__weakref__")

    # Makes numpy defer to our reflected operators, so `array * tensor` is a Tensor and
    # `np.exp(tensor)` fails loudly instead of silently dropping out of the graph.
    __array_ufunc__ = None

    def __init__(self, data: ArrayLike, requires_grad: bool = False, dtype: Any = None,
                 label: str = "") -> None:
        if not isinstance(requires_grad, (bool, np.bool_)):
            raise TypeError(f"requires_grad must be a bool, got {type(requires_grad).__name__}")
        if not isinstance(label, str):
            raise TypeError(f"label must be a str, got {type(label).__name__}: {label!r}")
        if dtype is None:
            held = getattr(data, "dtype", None)  # an array's, a numpy number's or a Tensor's
            dtype = held if held in FLOAT_DTYPES else np.float64
        self.data = to_array(data, float_dtype(dtype))
        self.grad: Optional[np.ndarray] = None
        self.requires_grad = bool(requires_grad)
        self.label = label
        self.op = ""
        self.parents: tuple[Tensor, ...] = ()
        self._vjp: Optional[VectorJacobianProduct] = None
        self._saved: tuple = ()

    @staticmethod
    def from_op(data: ArrayLike, parents: Sequence["Tensor"], op: str,
                backward: Optional[BackwardFunction] = None, *, check_gradients: bool = True,
                vjp: Optional[VectorJacobianProduct] = None) -> "Tensor":
        """The public way to define a new differentiable operation.

        `data` is the op's result (computed by the caller from the parents' ``.data``),
        `parents` the Tensors it was computed from, `op` a short name shown in graphs, and
        ``backward(upstream) -> tuple`` the op's chain rule: given dL/d(out) (an array of
        the result's shape) it returns dL/d(parent) = dL/d(out) * d(out)/d(parent) for each
        parent, each already in that parent's shape, or None for no gradient.

        `backward` may capture the input arrays but must never capture the output Tensor:
        that would make a reference cycle, which only Python's cyclic garbage collector
        can free. Gradients for parents that do not require grad are dropped; a wrong
        number of gradients or a wrong shape raises an error naming `op`.

        Those checks run on every backward pass. ``check_gradients=False`` skips them, for
        ops whose backward is itself tested against an oracle: it must then return exactly
        one gradient per parent, in that parent's shape, and None for every parent that
        does not require grad (nn's layers and losses do this on their hot path).

        To make the op differentiable twice, give ``vjp(upstream, inputs, out, needs)`` instead
        of `backward`: the same rule written with operations that numpy arrays and Tensors
        share (``@``, ``.T``, ``.reshape``, ``.sum``, arithmetic, `autograd_core.exp` ...).
        An ordinary backward calls it with the parents' arrays (saved now) and the result's
        array; ``backward(create_graph=True)`` with the parent Tensors and the result Tensor,
        so its gradients are graph nodes. `needs[i]` says whether parent i needs a gradient;
        return None for those that do not. (No per-pass checks: test it against an oracle.)
        """
        return tensor_custom_op.from_op(data, parents, op, backward, check_gradients, vjp)

    @property
    def rule(self) -> Optional["ops.Op"]:
        """The declaration of the elementwise op that made this node (None for a leaf and for
        the tensor ops that are not elementwise, such as matmul)."""
        return getattr(self._vjp, "op", None)

    # -- array attributes ------------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of ``data``."""
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        """The dtype of ``data``: float64 or float32."""
        return self.data.dtype

    @property
    def ndim(self) -> int:
        """The number of dimensions of ``data``."""
        return self.data.ndim

    @property
    def size(self) -> int:
        """The number of elements of ``data``."""
        return self.data.size

    def numpy(self) -> np.ndarray:
        """``data`` itself (shared, not copied), like ``torch.Tensor.numpy``."""
        return self.data

    def __array__(self, dtype: Any = None, copy: Optional[bool] = None) -> np.ndarray:
        """Lets ``np.asarray(tensor)`` read the data (outside the graph)."""
        if dtype is None and not copy:
            return self.data
        return np.array(self.data, dtype=dtype, copy=True if copy else None)

    def item(self) -> float:
        """The single element as a Python float; ValueError for any other size."""
        if self.data.size != 1:
            raise ValueError(f"item: only a tensor with one element converts to a number, "
                             f"this one has shape {self.data.shape}")
        return float(self.data.reshape(()))

    def detach(self) -> "Tensor":
        """A new leaf sharing ``data`` that does not require grad and has no parents."""
        out = constant(self.data)
        out.label = self.label
        return out

    def __repr__(self) -> str:
        extras = "".join([", requires_grad=True" if self.requires_grad else "",
                          f", op={self.op!r}" if self.op else "",
                          f", label={self.label!r}" if self.label else "",
                          ", dtype=float32" if self.data.dtype == np.float32 else ""])
        body = np.array2string(self.data, precision=4, separator=", ", threshold=20)
        return f"Tensor({body}{extras})"

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self) -> Iterator["Tensor"]:
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.data.shape[0]))

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError(f"the truth value of a tensor of shape {self.data.shape} is "
                             "ambiguous; use (t.data > 0).any() or .all()")
        return bool(self.data.reshape(()))

    # -- the node protocol used by autograd_core.graph ---------------------------------------

    def chain_rule(self, upstream: Any, create_graph: bool = False) -> tuple[tuple["Tensor", Any], ...]:
        """(parent_i, dL/d(parent_i)) for each parent, where dL/d(parent_i) = dL/d(self) *
        d(self)/d(parent_i) as this op's vector-Jacobian product computes it (None where a
        parent needs no gradient). A leaf has no parents and returns ().

        An ordinary backward runs the product on the arrays the forward pass saved; with
        `create_graph` it runs on the parent Tensors and this node, so each contribution is
        a Tensor of the graph, differentiable again."""
        vjp = self._vjp
        if vjp is None:
            return ()
        parents = self.parents
        count = len(parents)
        if count == 2:
            needs: Sequence[bool] = (parents[0].requires_grad, parents[1].requires_grad)
        elif count == 1:
            needs = (parents[0].requires_grad,)
        elif count == 3:  # a linear layer with its bias
            needs = (parents[0].requires_grad, parents[1].requires_grad, parents[2].requires_grad)
        else:
            needs = [parent.requires_grad for parent in parents]
        if create_graph:
            gradients = vjp(upstream, parents, self, needs)
        else:
            gradients = vjp(upstream, self._saved, self.data, needs)
        if len(gradients) != count:
            raise ValueError(f"{self.op}: its backward function returned {len(gradients)} "
                             f"gradient(s) for {len(parents)} parent(s)")
        return tuple(zip(parents, gradients))

    def accumulate_grad(self, gradient: Any) -> None:
        """``grad = gradient`` the first time, else ``grad = grad + gradient`` (a new array; a
        Tensor when ``backward(create_graph=True)`` made either of them a graph node).

        A leaf's first gradient is a copy of `gradient`, unless `gradient` is an array of the
        leaf's dtype that only the caller's variable refers to: then it becomes ``.grad`` as it
        is (pass a copy if you go on using that array).

        Into a leaf under `leaf_lock`: threads running backward passes that share a leaf
        (a parameter) must not lose each other's additions."""
        if self.parents:
            self.grad = gradient if self.grad is None else self.grad + gradient
            return
        with _LEAF_LOCKS[(id(self) >> 4) & 63]:  # leaf_lock(self), inlined: a hot path
            grad = self.grad
            if grad is None:  # the leaf's first gradient: the usual case, decided first
                # A leaf's grad is what optimizers read and users edit in place, so it must be
                # an array of its own, writable, in the leaf's dtype. The pass may share an
                # array between nodes or send a broadcast view: those are copied. An array
                # that nothing but the caller holds is kept as it is, as PyTorch keeps the
                # buffer its backward made (copying a large weight's gradient cost a tenth of
                # a training step: benchmarks/RESULTS.md).
                if type(gradient) is Tensor:  # a graph gradient (create_graph)
                    self.grad = gradient
                elif (type(gradient) is np.ndarray and gradient.base is None
                        and getrefcount(gradient) <= _HELD_BY_THE_CALLER_ONLY
                        and gradient.dtype == self.data.dtype and gradient.flags.writeable):
                    self.grad = gradient
                else:
                    self.grad = np.array(gradient, dtype=self.data.dtype)
            elif type(gradient) is Tensor or type(grad) is Tensor:
                self.grad = grad + gradient  # a graph gradient: the sum is a node too (PyTorch's)
            else:
                self.grad = (grad + gradient).astype(self.data.dtype, copy=False)

    def backward_step(self, upstream: Any, pass_gradients: dict["Tensor", Any]) -> None:
        """This node's step in an ordinary backward pass (`graph.backpropagate`):
        `accumulate_grad`, then for each parent dL/d(parent_i) += its `chain_rule`
        contribution in `pass_gradients` (`graph.chain_rule_step` with both inlined for a node
        with parents: a small network's step is Python overhead, benchmarks/RESULTS.md)."""
        if not self.parents:  # a leaf as the root of its pass (the test accumulate_grad makes)
            chain_rule_step(self, upstream, pass_gradients)
            return
        grad = self.grad
        self.grad = upstream if grad is None else grad + upstream
        for parent, contribution in self.chain_rule(upstream):
            if contribution is not None:
                earlier = pass_gradients.get(parent)
                # Never add in place: one contribution array may be shared by two parents.
                pass_gradients[parent] = contribution if earlier is None else earlier + contribution

    def clear_grad(self) -> None:
        """Forget the gradient (``grad = None``)."""
        self.grad = None

    def backward(self, grad: Optional[ArrayLike] = None, create_graph: bool = False) -> None:
        """Add d(self)/d(node) * `grad` into ``.grad`` of every node self depends on.

        `grad` (dL/dself) defaults to 1, which is allowed only for a one-element tensor;
        otherwise pass an array of self's shape. Calling backward twice adds twice, as in
        PyTorch with ``retain_graph=True``. With ``create_graph=True`` each ``.grad`` is a
        Tensor computed by graph operations, which can be differentiated again.
        """
        if not self.requires_grad:
            raise RuntimeError("backward: this tensor does not require grad (no input of its "
                               "graph has requires_grad=True, or it was computed under no_grad)")
        if grad is None:
            if self.data.size != 1:
                raise ValueError(f"backward: grad can be left out only for a tensor with one "
                                 f"element, this one has shape {self.data.shape}; pass grad= "
                                 "an array of that shape")
            seed = np.array(1.0, self.data.dtype).reshape(self.data.shape)  # np.ones costs 5x more
        else:
            seed = to_array(grad, self.data.dtype, "backward grad")
            if seed.shape != self.data.shape:
                raise ValueError(f"backward: grad has shape {seed.shape} but the tensor has "
                                 f"shape {self.data.shape}")
        if create_graph:
            with enable_grad():
                backpropagate(self, constant(seed), create_graph=True)
        else:
            backpropagate(self, seed)

    # -- arithmetic (numpy broadcasting; rules in tensor_arithmetic) ---------------------------

    def __add__(self, other: Operand) -> "Tensor":
        """a + b; see `tensor_arithmetic.add`."""
        return tensor_arithmetic.add(self, lift(other, self, "add"))

    def __radd__(self, other: Operand) -> "Tensor":
        return tensor_arithmetic.add(lift(other, self, "add"), self)

    def __sub__(self, other: Operand) -> "Tensor":
        """a - b; see `tensor_arithmetic.subtract`."""
        return tensor_arithmetic.subtract(self, lift(other, self, "sub"))

    def __rsub__(self, other: Operand) -> "Tensor":
        return tensor_arithmetic.subtract(lift(other, self, "sub"), self)

    def __mul__(self, other: Operand) -> "Tensor":
        """a * b; see `tensor_arithmetic.multiply`."""
        return tensor_arithmetic.multiply(self, lift(other, self, "mul"))

    def __rmul__(self, other: Operand) -> "Tensor":
        return tensor_arithmetic.multiply(lift(other, self, "mul"), self)

    def __truediv__(self, other: Operand) -> "Tensor":
        """a / b; see `tensor_arithmetic.divide`."""
        return tensor_arithmetic.divide(self, lift(other, self, "div"))

    def __rtruediv__(self, other: Operand) -> "Tensor":
        return tensor_arithmetic.divide(lift(other, self, "div"), self)

    def __neg__(self) -> "Tensor":
        """-a; see `tensor_arithmetic.negative`."""
        return tensor_arithmetic.negative(self)

    def __pow__(self, exponent: Operand) -> "Tensor":
        """a ** exponent, a number or a Tensor; see `tensor_arithmetic.power`."""
        if isinstance(exponent, numbers.Real) and not isinstance(exponent, (bool, np.bool_)):
            return tensor_arithmetic.power_of_number(self, float(exponent))
        return tensor_arithmetic.power(self, lift(exponent, self, "pow"))

    def __rpow__(self, other: Operand) -> "Tensor":
        return tensor_arithmetic.power(lift(other, self, "pow"), self)

    def __matmul__(self, other: Operand) -> "Tensor":
        """a @ b with numpy/torch matmul semantics; see `tensor_arithmetic.matmul`."""
        return tensor_arithmetic.matmul(self, lift(other, self, "matmul"))

    def __rmatmul__(self, other: Operand) -> "Tensor":
        return tensor_arithmetic.matmul(lift(other, self, "matmul"), self)

    # Comparisons give plain boolean arrays (masks for `where`), outside the graph, as in
    # PyTorch; == and != too. Hashing stays by identity (a Tensor is a graph node that the
    # graph's sets and dicts hold): see the protocol note in `autograd_core.graph`.
    __hash__ = object.__hash__

    def __eq__(self, other: Operand) -> np.ndarray:  # type: ignore[override]
        return self.data == _data_of(other)

    def __ne__(self, other: Operand) -> np.ndarray:  # type: ignore[override]
        return self.data != _data_of(other)

    def __lt__(self, other: Operand) -> np.ndarray:
        return self.data < _data_of(other)

    def __le__(self, other: Operand) -> np.ndarray:
        return self.data <= _data_of(other)

    def __gt__(self, other: Operand) -> np.ndarray:
        return self.data > _data_of(other)

    def __ge__(self, other: Operand) -> np.ndarray:
        return self.data >= _data_of(other)

    # -- operations defined in the sibling modules -------------------------------------------

    def sum(self, axis: Union[int, tuple[int, ...], None] = None, keepdims: bool = False) -> "Tensor":
        """Sum over `axis` (all axes when None); see `tensor_reductions.reduce_sum`."""
        return tensor_reductions.reduce_sum(self, axis, keepdims)

    def mean(self, axis: Union[int, tuple[int, ...], None] = None, keepdims: bool = False) -> "Tensor":
        """Mean over `axis` (all axes when None); see `tensor_reductions.reduce_mean`."""
        return tensor_reductions.reduce_mean(self, axis, keepdims)

    def max(self, axis: Union[int, tuple[int, ...], None] = None, keepdims: bool = False) -> "Tensor":
        """Maximum over `axis`, ties sharing the gradient; see `tensor_reductions.reduce_max`."""
        return tensor_reductions.reduce_max(self, axis, keepdims)

    def reshape(self, *shape: Any) -> "Tensor":
        """The same elements in a new shape: ``t.reshape(2, 3)`` or ``t.reshape((2, 3))``."""
        return tensor_shape.reshape(self, shape[0] if len(shape) == 1 else shape)

    def transpose(self, *axes: Any) -> "Tensor":
        """Permute the axes (reverse them when none are given), like numpy's transpose."""
        return tensor_shape.transpose(self, axes[0] if len(axes) == 1 else (axes or None))

    @property
    def T(self) -> "Tensor":  # noqa: N802 - numpy's name
        """The tensor with its axes reversed (the matrix transpose for 2-D)."""
        return tensor_shape.transpose(self, None)

    def __getitem__(self, index: Any) -> "Tensor":
        """``t[index]`` with basic, integer-array or boolean indexing; see `tensor_shape.getitem`."""
        return tensor_shape.getitem(self, index)

    def exp(self) -> "Tensor":
        """Elementwise e^x."""
        return apply_elementwise(ops.EXP, (self,))

    def log(self) -> "Tensor":
        """Elementwise natural logarithm (-inf at 0, nan below, like PyTorch)."""
        return apply_elementwise(ops.LOG, (self,))

    def abs(self) -> "Tensor":
        """Elementwise |x|."""
        return apply_elementwise(ops.ABS, (self,))

    __abs__ = abs

    def clip(self, min: "tensor_functions.Bound" = None,  # noqa: A002
             max: "tensor_functions.Bound" = None) -> "Tensor":  # noqa: A002
        """Elementwise clamp into [min, max], as torch.clamp: each bound a number, a numpy
        array or a Tensor (which gets a gradient) broadcast with x, or None (no bound)."""
        return tensor_functions.clip(self, min, max)

    def tanh(self) -> "Tensor":
        """Elementwise tanh."""
        return apply_elementwise(ops.TANH, (self,))

    def sigmoid(self) -> "Tensor":
        """Elementwise logistic sigmoid 1 / (1 + e^-x)."""
        return apply_elementwise(ops.SIGMOID, (self,))

    def relu(self) -> "Tensor":
        """Elementwise max(0, x)."""
        return apply_elementwise(ops.RELU, (self,))

    def leaky_relu(self, negative_slope: float = 0.01) -> "Tensor":
        """Elementwise x if x > 0 else negative_slope * x."""
        return apply_elementwise(ops.LEAKY_RELU.bind(
            negative_slope=_parameter("leaky_relu", "negative_slope", negative_slope)), (self,))

    def elu(self, alpha: float = 1.0) -> "Tensor":
        """Elementwise x if x > 0 else alpha * (e^x - 1)."""
        return apply_elementwise(ops.ELU.bind(alpha=_parameter("elu", "alpha", alpha)), (self,))

    def softmax(self, axis: int = -1) -> "Tensor":
        """Softmax along `axis` (computed stably)."""
        return tensor_functions.softmax(self, axis)

    def log_softmax(self, axis: int = -1) -> "Tensor":
        """Log-softmax along `axis` (computed stably)."""
        return tensor_functions.log_softmax(self, axis)


# -- building results ------------------------------------------------------------------------

def _references_seen_by_a_callee(array: np.ndarray) -> int:
    return getrefcount(array)


def _references_of_a_local_passed_on() -> int:
    """How many references `sys.getrefcount` reports, inside a function, for an array that
    only the calling function's variable holds (measured, since interpreters count
    differently); `Tensor.accumulate_grad` keeps such an array without copying it."""
    probe = np.empty(0)
    return _references_seen_by_a_callee(probe)


_HELD_BY_THE_CALLER_ONLY = _references_of_a_local_passed_on()


def constant(data: Any) -> Tensor:
    """A leaf holding the array `data` (no copy, no checks) that does not require grad."""
    out = Tensor.__new__(Tensor)
    out.data = data if type(data) is np.ndarray else np.asarray(data)
    out.grad = None
    out.requires_grad = False
    out.label = ""
    out.op = ""
    out.parents = ()
    out._vjp = None
    out._saved = ()
    return out


def record(data: Any, parents: tuple, op: str, vjp: VectorJacobianProduct, saved: tuple = ()) -> Tensor:
    """A graph node computed by `op` from `parents` (the caller checked that it is recorded).

    `vjp` is the op's vector-Jacobian product; `saved` the input arrays it reads in an
    ordinary backward (taken at forward time, so later edits of a parent's ``.data`` do not
    change this node's gradient)."""
    out = Tensor.__new__(Tensor)
    # Reductions and scalar indexing give numpy scalars; a Tensor always holds an ndarray.
    out.data = data if type(data) is np.ndarray else np.asarray(data)
    out.grad = None
    out.requires_grad = True
    out.label = ""
    out.op = op
    out.parents = parents
    out._vjp = vjp
    out._saved = saved
    if ANOMALY.enabled:  # detect_anomaly(): a NaN or inf result is reported by the op that made it
        check_tensor_forward(out)
    return out


def is_recorded(*inputs: Tensor) -> bool:
    """Whether an op on `inputs` joins the graph: grad mode on and some input requires grad."""
    if GRAD_MODE.enabled:
        for tensor in inputs:
            if tensor.requires_grad:
                return True
    return False


def lift(value: Operand, like: Tensor, op: str) -> Tensor:
    """`value` itself if it is a Tensor, else a constant leaf in `like`'s dtype (like a
    Python number in PyTorch, a non-Tensor operand never changes the result's dtype)."""
    if isinstance(value, Tensor):
        return value
    if type(value) is float or type(value) is int:
        return constant(np.asarray(value, like.data.dtype))
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"{op}: unsupported operand {type(value).__name__}: {value!r}")
    return constant(to_array(value, like.data.dtype, f"{op} operand"))


def _data_of(value: Operand) -> Any:
    return value.data if isinstance(value, Tensor) else value


def _parameter(op: str, name: str, value: Any) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{op}: {name} must be a real number, got {type(value).__name__}: {value!r}")
    return float(value)


# The sibling modules import Tensor from here, so they are loaded once it exists.
from autograd_core import (tensor_arithmetic, tensor_custom_op,  # noqa: E402
                           tensor_functions, tensor_reductions, tensor_shape)
from autograd_core.tensor_elementwise import apply_elementwise  # noqa: E402
