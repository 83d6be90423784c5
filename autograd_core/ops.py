"""Every elementwise operation, declared once: its forward, its derivative, its formula, its kernel.

An `Op` is the unit of the design. Declaring one gives, with no other file to touch:

- ``op(x)`` on a float, a numpy array, a `Value` or a `Tensor`, returning the same kind;
- one graph node per call on a Value or a Tensor, whose backward multiplies the upstream
  gradient by the declared local derivative: dL/dx_i = dL/dout * d out/d x_i;
- that derivative evaluated on floats and arrays for an ordinary ``backward()``, and on
  Values and Tensors (so it becomes part of the graph) for ``backward(create_graph=True)``:
  the derivative is written once, with the generic functions of this module, and a second
  derivative is the derivative of that expression;
- the formula text that `trace_backward` prints and the drawings show;
- a Numba kernel for large arrays where one is named (``kernel=``), with the declared
  numpy forward and derivative as its reference.

Example, the softplus a student can add in one cell:

>>> from autograd_core import define_op, exp, log, sigmoid
>>> softplus = define_op("softplus", forward=lambda x: log(1 + exp(x)),
...                      derivative=lambda x, out: sigmoid(x), formula="sigmoid({x})")
>>> round(softplus(0.0), 6)
0.693147

Placeholders in a formula: ``{x}`` and ``{out}`` for a unary op, ``{a}``, ``{b}`` and ``{out}``
for a binary op, and any parameter by its name (``{negative_slope}``).

The tensor operations that are not elementwise (matmul, reductions, reshaping, softmax) are
declared in their own modules with a vector-Jacobian product written the same generic way
(see `tensor_graph.record`); `TENSOR_FORMULAS` holds their matrix-calculus formula text.
"""

from __future__ import annotations

import inspect
import math
import numbers
import operator
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Mapping, Optional, Sequence, Union

import numpy as np

# The node types register how an op is applied to them (value.py and tensor.py do, at
# import), so that this module needs neither: they import it, not the other way round.
_APPLIERS: dict[type, Callable[["Op", tuple], Any]] = {}


def register_node_type(node_type: type, apply: Callable[["Op", tuple], Any]) -> None:
    """Make ``op(node, ...)`` call ``apply(op, args)`` for nodes of `node_type`."""
    _APPLIERS[node_type] = apply


Kernel = Optional[Callable[..., Any]]


@dataclass(frozen=True, eq=False)
class Op:
    """An elementwise operation, declared once: call it on floats, arrays, Values or Tensors.

    >>> from autograd_core import tanh, Value
    >>> tanh(0.5), tanh(Value(0.5)).data      # the same number, as a float and as a node
    (0.46211715726000974, 0.46211715726000974)

    Every built-in op (exp, log, tanh, sigmoid, relu, ...) is an Op; declare your own with
    `define_op` and it works on all four kinds, shows its formula in `trace_backward`, appears
    in drawings under its name and differentiates twice:

    >>> from autograd_core import define_op, exp, log, sigmoid
    >>> softplus = define_op("softplus", forward=lambda x: log(1 + exp(x)),
    ...                      derivative=lambda x, out: sigmoid(x), formula="sigmoid({x})")
    >>> x = Value(0.0)
    >>> y = softplus(x)
    >>> y.backward()
    >>> round(y.data, 4), x.grad                # log 2, and sigmoid(0)
    (0.6931, 0.5)

    Fields (all but the first four optional):

    - ``name``: shown in graphs and traces; ``arity``: 1 or 2.
    - ``scalar``: the forward on Python floats (math module), returning a float.
    - ``array``: the forward on numpy arrays (the numpy reference of any kernel).
    - ``derivative(*inputs, out)``: d out/d input for a unary op, a tuple of one per input
      for a binary op, written with operators and this module's generic functions so that it
      works on floats, arrays, Values and Tensors alike.
    - ``formula``: that derivative as text, one template per input.
    - ``kernel``: the name of a Numba activation kernel (one of `ACTIVATION_KERNELS`) used for
      large arrays in place of ``array`` and of the derivative on arrays.
    - ``parameters``: names and defaults of numeric parameters (leaky_relu's slope), passed
      to ``scalar``, ``array`` and ``derivative`` as keyword arguments; ``op.bind(...)``
      fixes them, and ``op(x, negative_slope=0.1)`` binds on the fly.
    """

    name: str
    arity: int
    scalar: Callable[..., float]
    array: Callable[..., np.ndarray]
    derivative: Callable[..., Any]
    formula: tuple[Union[str, Callable[..., str]], ...] = ()
    kernel: Optional[str] = None
    parameters: Mapping[str, float] = field(default_factory=dict)
    display: Optional[Callable[..., str]] = None  # the node's name from the parameters ("**2")
    bound: bool = False
    # The local derivatives when they are numbers that depend on nothing (those of + and -):
    # then no call is needed to know them, on the hottest path of a scalar network.
    constant_derivative: Optional[tuple[float, ...]] = None

    # -- applying the op -----------------------------------------------------------------

    def __call__(self, *args: Any, **parameters: float) -> Any:
        if parameters or (self.parameters and not self.bound):
            return self.bind(**parameters)(*args)
        if len(args) != self.arity:
            raise TypeError(f"{self.name} takes {self.arity} argument(s), got {len(args)}")
        for arg in args:
            apply = _APPLIERS.get(type(arg))
            if apply is not None:
                return apply(self, args)
        for arg in args:
            if isinstance(arg, np.ndarray):
                return self.on_arrays(*(_as_float_array(x, self.name) for x in args))
        for arg in args:
            if isinstance(arg, bool) or not isinstance(arg, numbers.Real):
                raise TypeError(f"{self.name}: expected a float, a numpy array, a Value or a "
                                f"Tensor, got {type(arg).__name__}: {arg!r}")
        return self.scalar(*(float(x) for x in args))

    def on_arrays(self, *arrays: np.ndarray) -> np.ndarray:
        """The forward on float arrays: the Numba kernel when one is named and pays off."""
        if self.kernel is not None:
            return (_KERNELS or _load_kernels()).run_activation_forward(self, arrays[0])
        return np.asarray(self.array(*arrays))

    def local_derivatives(self, inputs: Sequence[Any], out: Any) -> tuple[Any, ...]:
        """d out/d input_i for each input, always as a tuple."""
        if self.constant_derivative is not None:
            return self.constant_derivative
        local = self.derivative(*inputs, out)
        return (local,) if self.arity == 1 else tuple(local)

    def vjp_on_arrays(self, upstream: np.ndarray, inputs: Sequence[np.ndarray],
                      out: np.ndarray, needs: Sequence[bool]) -> tuple[Optional[np.ndarray], ...]:
        """dL/d input_i = dL/dout * d out/d input_i on arrays (before any unbroadcast), for the
        inputs that need it; the kernel computes the product in one pass where there is one."""
        if self.kernel is not None:
            return ((_KERNELS or _load_kernels()).run_activation_backward(self, inputs[0], out, upstream),)
        locals_ = self.local_derivatives(inputs, out)
        return tuple(times(upstream, local) if need else None
                     for local, need in zip(locals_, needs))

    # -- parameters and text ---------------------------------------------------------------

    def bind(self, **parameters: float) -> "Op":
        """This op with its parameters fixed (defaults for those not given); cached."""
        cache = _BOUND.setdefault(id(self), {})
        found = cache.get(tuple(parameters.items()))
        if found is not None:  # the usual case: the same parameters as last time
            return found
        unknown = set(parameters) - set(self.parameters)
        if unknown:
            raise TypeError(f"{self.name}: unknown parameter(s) {sorted(unknown)}; it takes "
                            f"{sorted(self.parameters) or 'none'}")
        values = {name: _parameter(self.name, name, parameters.get(name, default))
                  for name, default in self.parameters.items()}
        key = tuple(values.items())
        found = cache.get(key)
        if found is None:
            found = replace(
                self, bound=True, parameters=values,
                name=self.display(**values) if self.display else self.name,
                scalar=_with(self.scalar, values), array=_with(self.array, values),
                derivative=_with(self.derivative, values),
                formula=tuple(_fill_parameters(text, values) for text in self.formula))
            cache[key] = found
        cache[tuple(parameters.items())] = found
        return found

    def formulas(self, inputs: Sequence[str], out: str = "out") -> tuple[str, ...]:
        """The local derivatives as text, with the inputs' and the result's names filled in."""
        names = {"x": inputs[0]} if self.arity == 1 else {"a": inputs[0], "b": inputs[1]}
        names = {key: _grouped(value) for key, value in names.items()}
        names["out"] = _grouped(out)
        names.update({key: f"{value:g}" for key, value in self.parameters.items()})
        return tuple(_fill_parameters(text, self.parameters).format(**names)
                     for text in self.formula)

    def __repr__(self) -> str:
        parameters = "".join(f", {key}={value:g}" for key, value in self.parameters.items())
        return f"Op({self.name!r}, arity={self.arity}{parameters})"


_BOUND: dict[int, dict[tuple, Op]] = {}

# The Numba activation kernels of `autograd_core.kernels.compiled`, by the names a declaration's
# `kernel=` may give (that module maps each to the code its compiled loops branch on).
ACTIVATION_KERNELS = ("relu", "tanh", "sigmoid", "leaky_relu", "elu")

# autograd_core.kernels, once loaded: it imports this module (its references are the
# declarations), so it is imported on first use rather than at the top.
_KERNELS: Any = None


def _load_kernels() -> Any:
    global _KERNELS
    from autograd_core import kernels
    _KERNELS = kernels
    return kernels


def _with(function: Callable[..., Any], values: Mapping[str, float]) -> Callable[..., Any]:
    if not values:
        return function
    return lambda *args: function(*args, **values)


def _fill_parameters(text: Union[str, Callable[..., str]], values: Mapping[str, float]) -> str:
    """A formula with its parameters filled in; a formula given as a function of the
    parameters (power's, which reads best simplified) is called with them."""
    if callable(text):
        return text(**values)
    for key, value in values.items():
        text = text.replace("{" + key + "}", f"{value:g}")
    return text


def _grouped(name: str) -> str:
    """`name`, in parentheses if it is an expression that would otherwise read ambiguously
    (a name, a number, a bracketed expression, `sum#2` or a call `exp(z)` reads as one unit)."""
    if name.isidentifier() or _is_number(name) or _one_unit(name):
        return name
    return f"({name})"


def _one_unit(name: str) -> bool:
    """Whether `name` is `(…)`, `f(…)` with one outer pair of brackets, or `op#k`."""
    head, _, tail = name.partition("#")
    if tail and head.isidentifier() and tail.isdigit():
        return True
    start = name.find("(")
    if start < 0 or not name.endswith(")") or (start and not name[:start].isidentifier()):
        return False
    depth = 0
    for i, char in enumerate(name[start:], start):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0 and i < len(name) - 1:
            return False  # "(a)+(b)": the first pair closes before the end
    return True


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return not text.startswith("-")


def _parameter(op: str, name: str, value: Any) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{op}: {name} must be a real number, got {type(value).__name__}: {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{op}: {name} must be finite, got {number}")
    return number


def _as_float_array(x: Any, op: str) -> np.ndarray:
    array = np.asarray(x)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{op}: expected real numbers, got an array of dtype {array.dtype}")
    return array if array.dtype.kind == "f" else array.astype(np.float64)


# -- generic helpers: one spelling for floats, arrays, Values and Tensors -----------------------

def data_of(x: Any) -> Any:
    """The number or array inside a Value or Tensor; `x` itself otherwise."""
    return getattr(x, "data", x) if _APPLIERS.get(type(x)) is not None else x


class Zero(float):
    """The number 0 as a *selected* local derivative: ``x * ZERO`` is 0 for every number x,
    inf and NaN included, where ``x * 0.0`` would be NaN.

    This is how PyTorch's rules that pick with a mask (``where(x <= 0, 0, grad)`` for relu)
    read as a product dL/dx = dL/dout * d out/dx: a gradient that the mask does not let through
    is 0, whatever reaches the mask. A Value op stores it as its local derivative like any
    float (``Value(-2.0).relu()`` has ``local_grads == (0.0,)``), so the scalar backward's plain
    ``upstream * local`` selects without a test. Arithmetic other than a product gives floats.
    """

    __slots__ = ()

    def __new__(cls) -> "Zero":
        return super().__new__(cls, 0.0)

    def __mul__(self, other: Any) -> Any:
        if type(other) is float or type(other) is int or type(other) is Zero:
            return 0.0
        return NotImplemented

    __rmul__ = __mul__

    def __repr__(self) -> str:
        return "0.0"

    def __reduce__(self) -> tuple:
        return (Zero, ())


ZERO = Zero()


@dataclass(frozen=True)
class Gate:
    """A local derivative on arrays that is `value` where `keep` and a selected 0 (see `Zero`)
    elsewhere: ``times(upstream, Gate(keep, value))`` is ``where(keep, upstream * value, 0)``.
    `gate` makes them; `times` is the only place that reads them."""

    keep: np.ndarray
    value: Any


def gate(keep: Any, value: Any, like: Any) -> Any:
    """A local derivative that is `value` where `keep` (a bool or boolean array computed from
    ``data_of(like)``) and a *selected* 0 elsewhere: multiplied by the upstream gradient (in
    `times`), the places where `keep` is false give 0 even when that gradient is inf or NaN,
    as PyTorch's ``where(keep, grad * value, 0)``. In the kind of `like`: for a float or a
    Value ``value`` or `ZERO`; for arrays and Tensors a boolean mask (when value is 1) or a
    `Gate`."""
    if isinstance(data_of(like), (np.ndarray, np.generic)):
        keep = np.asarray(keep, dtype=bool)
        if type(value) is float and value == 1.0:
            return _broadcast_mask(keep, data_of(like))
        return Gate(keep, value)
    return value if keep else ZERO


class Over(float):
    """1/d as a local derivative that *divides*: ``upstream * Over(d)`` is ``upstream / d``,
    PyTorch's ``grad / x`` for log and division. That stays finite where 1/d alone overflows
    (a subnormal d: 1e-10 / 1e-310 is 1e300, 1e-10 * (1/1e-310) is inf), and in a derivative
    graph (create_graph) it is a division node, as in PyTorch. Its float value is 1/d (what
    ``local_grads`` and the traces show); products with anything other than a number are
    floats' own."""

    def __new__(cls, divisor: float) -> "Over":
        with np.errstate(divide="ignore", over="ignore"):
            inverse = 1.0 / divisor if divisor != 0.0 else math.copysign(math.inf, divisor)
        self = super().__new__(cls, inverse)
        self.divisor = divisor
        return self

    def __mul__(self, other: Any) -> Any:
        if type(other) is float or type(other) is int:
            return other / self.divisor
        return NotImplemented

    __rmul__ = __mul__

    def __repr__(self) -> str:
        return float.__repr__(self)

    def __reduce__(self) -> tuple:
        return (Over, (self.divisor,))


@dataclass(frozen=True)
class Divide:
    """1/`divisor` as a local derivative on arrays and nodes: ``times(upstream, Divide(d))``
    is ``upstream / d`` (see `Over`, its float form). `over` makes them."""

    divisor: Any


def over(divisor: Any) -> Any:
    """The local derivative 1/`divisor`, applied as a division of the upstream gradient (in
    `times`) rather than a product with the reciprocal, as PyTorch's rules for log and
    division do: `Over` for a float, `Divide` for an array, a Value or a Tensor."""
    if type(divisor) is float:
        return Over(divisor)
    return Divide(divisor)


def _broadcast_mask(mask: np.ndarray, like: Any) -> np.ndarray:
    shape = np.shape(like)
    return mask if mask.shape == shape else np.broadcast_to(mask, np.broadcast_shapes(mask.shape, shape))


def times(upstream: Any, local: Any) -> Any:
    """upstream * local, the chain rule's product, where a mask *selects* instead: a boolean
    array (`gate`'s mask), `ZERO` and a `Gate` give 0 wherever they block, whatever the
    upstream gradient holds there (inf, NaN), as PyTorch's masked rules; and a derivative
    1/d declared with `over` divides: upstream / d.
    Skips the product where the local derivative is the number 1 or -1, or where the upstream
    gradient is the constant seed 1 of a scalar backward."""
    kind = type(local)
    if kind is float or kind is int:
        if local == 1:
            return upstream
        if local == -1:
            return -upstream
    elif kind is np.ndarray:
        if local.dtype == np.bool_:
            return _pass_where(local, upstream)
    elif kind is Gate:
        return _pass_where(local.keep, times(upstream, local.value))
    elif kind is Divide or kind is Over:
        return upstream / local.divisor
    elif kind is Zero:
        if _APPLIERS.get(type(upstream)) is None:  # a number or an array: zeros of its kind
            return 0.0 if not isinstance(upstream, (np.ndarray, np.generic)) else \
                np.zeros_like(upstream)
        if isinstance(upstream.data, np.ndarray):  # a Tensor: a node, so the graph stays whole
            return _pass_where(np.zeros(upstream.data.shape, bool), upstream)
    elif getattr(upstream, "is_constant", False) and upstream.data == 1.0:
        return local
    return upstream * local


def _pass_where(keep: np.ndarray, upstream: Any) -> Any:
    """`upstream` where `keep`, else 0 (no product), in upstream's kind; a node stays a node."""
    if type(upstream) is np.ndarray or isinstance(upstream, np.generic):
        upstream = np.asarray(upstream)
        return np.where(keep, upstream, upstream.dtype.type(0))
    if _APPLIERS.get(type(upstream)) is None:  # a float: keep is a 0-d mask
        return float(upstream) if keep else 0.0
    if isinstance(upstream.data, np.ndarray):
        from autograd_core.tensor_functions import where
        return where(np.asarray(keep), upstream, 0.0)
    return upstream if keep else upstream * ZERO


def select(condition: Any, if_true: Any, if_false: Any, like: Any) -> Any:
    """`if_true` where `condition` (a bool or boolean array from ``data_of(like)``), else
    `if_false`, in the kind of `like`; a mask picks, it never multiplies, so an infinite or
    NaN branch that is not picked cannot leak into the result.

    The result holds *values*: a 0 it picks is the number 0, and the upstream gradient times
    it is NaN where that gradient is inf or NaN, as in PyTorch's rules that multiply (abs's
    ``grad * sgn(x)``). For a derivative that *blocks* the gradient (relu's), use `gate`."""
    raw = data_of(like)
    if isinstance(raw, (np.ndarray, np.generic)):  # a numpy scalar is a 0-d array here
        dtype = np.asarray(raw).dtype
        if _APPLIERS.get(type(like)) is None:
            return np.asarray(np.where(condition, if_true, if_false)).astype(dtype, copy=False)
        from autograd_core.tensor import constant
        from autograd_core.tensor_functions import where
        if not (_APPLIERS.get(type(if_true)) or _APPLIERS.get(type(if_false))):
            return constant(np.where(condition, if_true, if_false).astype(dtype, copy=False))
        return where(np.asarray(condition), _in_dtype(if_true, dtype), _in_dtype(if_false, dtype))
    if _APPLIERS.get(type(like)) is None:  # a float
        return float(if_true if condition else if_false)
    return if_true if condition else if_false


def _in_dtype(x: Any, dtype: np.dtype) -> Any:
    """A number or array branch of `select` as a constant of `dtype`; nodes as they are."""
    if _APPLIERS.get(type(x)) is not None:
        return x
    from autograd_core.tensor import constant
    return constant(np.asarray(x, dtype))


def indicator(condition: Any, like: Any) -> Any:
    """1 where `condition`, else 0, as a constant (no gradient) of the kind of `like`."""
    return select(condition, 1.0, 0.0, like)


# -- the declarations ---------------------------------------------------------------------------

OPS: dict[str, Op] = {}


def define_op(name: str, forward: Callable[..., Any], derivative: Callable[..., Any],
              formula: Union[str, Sequence[str]], *, scalar: Optional[Callable[..., float]] = None,
              array: Optional[Callable[..., np.ndarray]] = None, kernel: Optional[str] = None,
              parameters: Optional[Mapping[str, float]] = None,
              display: Optional[Callable[..., str]] = None, replace_existing: bool = False) -> Op:
    """Declare an elementwise op and return it, ready to call on floats, arrays, Values and Tensors.

    `forward(x)` (or `forward(a, b)`) computes the result; written with this module's
    generic functions (exp, log, tanh, ...) and operators it serves floats and arrays at
    once. `derivative(x, out)` returns d out/dx (for two inputs, ``derivative(a, b, out)``
    returns the pair), written the same way so that it also works on Values and Tensors:
    that is what makes the op differentiable twice. `formula` is the derivative as text,
    e.g. ``"sigmoid({x})"`` (one string per input for a binary op). Local derivatives that
    are plain numbers everywhere may be given as such (`+` declares ``(1.0, 1.0)``).

    `scalar` and `array` optionally replace `forward` on floats and on arrays (the built-in
    ops use math and numpy directly); `kernel` names a Numba kernel; `parameters` gives
    numeric parameters and their defaults. The name must be new unless `replace_existing`.
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"define_op: name must be a non-empty str, got {name!r}")
    if name in OPS and not replace_existing:
        raise ValueError(f"define_op: an op named {name!r} exists already "
                         "(pass replace_existing=True to redefine it)")
    for role, function in (("forward", forward), ("derivative", derivative)):
        if role == "derivative" and isinstance(function, (tuple, float)):
            continue
        if not callable(function):
            raise TypeError(f"define_op({name!r}): {role} must be callable, got "
                            f"{type(function).__name__}")
    if kernel is not None and kernel not in ACTIVATION_KERNELS:
        raise ValueError(f"define_op({name!r}): no Numba kernel named {kernel!r}; the kernels "
                         f"are {ACTIVATION_KERNELS} (or None: numpy runs the declared forward)")
    arity = _arity(name, forward, parameters or {})
    if callable(derivative) and _arity(name, derivative, parameters or {}) != arity + 1:
        raise TypeError(f"define_op({name!r}): derivative must take the {arity} input(s) and "
                        f"the result (out), {arity + 1} argument(s)")
    formulas = (formula,) if isinstance(formula, str) or callable(formula) else tuple(formula)
    if len(formulas) != arity or not all(isinstance(text, str) or callable(text) for text in formulas):
        raise TypeError(f"define_op({name!r}): formula must be {arity} str (one per input), "
                        f"got {formula!r}")
    constant = None
    if isinstance(derivative, (tuple, float)):  # numbers: the same at every point
        constant = derivative if isinstance(derivative, tuple) else (derivative,)
        if len(constant) != arity:
            raise TypeError(f"define_op({name!r}): {arity} constant derivative(s) needed, got "
                            f"{derivative!r}")
        derivative = _constant_function(derivative)
    op = Op(name, arity, scalar=scalar or _float_result(forward), array=array or forward,
            derivative=derivative, formula=formulas, kernel=kernel,
            parameters=dict(parameters or {}), display=display, constant_derivative=constant)
    OPS[name] = op
    return op


def _constant_function(value: Any) -> Callable[..., Any]:
    return lambda *args, **parameters: value


def _arity(name: str, function: Callable[..., Any], parameters: Mapping[str, float]) -> int:
    if isinstance(function, np.ufunc):
        return function.nin
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        raise TypeError(f"define_op({name!r}): cannot read the arguments of {function!r}") from None
    positional = [p for p in signature.parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                  and p.default is p.empty and p.name not in parameters]
    return len(positional)


def _float_result(forward: Callable[..., Any]) -> Callable[..., float]:
    return lambda *args, **kwargs: float(forward(*args, **kwargs))


def _safe_exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        raise OverflowError(f"exp({x:g}) overflows a float") from None


def _scalar_log(x: float) -> float:
    if x <= 0.0:
        raise ValueError(f"log of a non-positive number {x:g}")
    return math.log(x)


def _scalar_sigmoid(x: float) -> float:
    """1 / (1 + e^-x), evaluated so that no exponential overflows."""
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _array_sigmoid(x: np.ndarray) -> np.ndarray:
    """Stable logistic: only exp(-|x|) <= 1 is computed, so nothing overflows."""
    e = np.exp(-np.abs(x))
    return np.fmax(e, x >= 0) / (1 + e)


def _power(x: Any, n: float) -> Any:
    """x ** n; on arrays x ** -0.5 is 1/sqrt(x), as PyTorch computes it (rsqrt), which is NaN
    at -inf and -inf at -0.0 where C's pow gives 0 and +inf (numpy's x ** 0.5 is already
    sqrt, as PyTorch's)."""
    if n == -0.5 and isinstance(x, (np.ndarray, np.generic)):
        with np.errstate(divide="ignore", invalid="ignore"):
            return 1.0 / np.sqrt(x)
    return x ** n


def _power_derivative(x: Any, n: float, like_rsqrt: bool = True) -> Any:
    """d(x^n)/dx = n x^(n-1), with PyTorch's values where that formula reads 0 * inf or 1/0:
    a selected 0 for n = 0 (0 even under an infinite upstream gradient, as PyTorch's
    ``where(exponent == 0, 0, ...)``), and +inf at x = 0 for 0 < n < 1 (a root's slope at 0)."""
    if n == 0.0:
        return gate(False, 1.0, x)
    if n == 1.0:
        return 1.0
    if isinstance(x, float):
        if x == 0.0 and n < 1.0:  # 0.5 x ** -0.5 at -0.0 is PyTorch's 0.5 rsqrt(-0.0) = -inf
            negative_zero = like_rsqrt and n == 0.5 and math.copysign(1.0, x) < 0
            return -math.inf if negative_zero else math.inf
        return n * x ** (n - 1.0)
    if n == 2.0:
        return 2.0 * x
    return n * _power(x, n - 1.0)


def _power_exponent_derivative(a: Any, b: Any, out: Any) -> Any:
    """d(a^b)/db = a^b ln a; it tends to 0 as a -> 0+ for b >= 0 (PyTorch uses 0 there)."""
    raw_a, raw_b = data_of(a), data_of(b)
    if isinstance(raw_a, np.ndarray) or isinstance(raw_b, np.ndarray):
        zero = (np.asarray(raw_a) == 0) & (np.asarray(raw_b) >= 0)
        if zero.any():
            with np.errstate(divide="ignore", invalid="ignore"):
                return select(zero, 0.0, out * log(a), a if isinstance(a, np.ndarray) else out)
        with np.errstate(invalid="ignore"):
            return out * log(a)
    if raw_a == 0.0:
        return 0.0
    if raw_a < 0.0:
        return math.nan if isinstance(a, float) else out * math.nan
    return out * log(a)


def _power_base_derivative(a: Any, b: Any) -> Any:
    """d(a^b)/da = b a^(b-1), a selected 0 where b = 0 (PyTorch's ``where(b == 0, 0, ...)``)."""
    raw_a, raw_b = data_of(a), data_of(b)
    if isinstance(raw_a, float) and isinstance(raw_b, float):
        # a Tensor exponent is C's pow in PyTorch (no rsqrt): 0.5 (-0.0) ** -0.5 is +inf there
        return _power_derivative(raw_a, raw_b, like_rsqrt=False) if type(a) is float else (
            ZERO if raw_b == 0.0 else b * a ** (b - 1.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        general = b * a ** (b - 1.0)
        zero = np.asarray(raw_b) == 0
        if zero.any():
            shape = np.broadcast_shapes(np.shape(raw_a), np.shape(raw_b))
            return Gate(np.broadcast_to(~zero, shape), general)
        return general


def _maximum_derivative(a: Any, b: Any, out: Any) -> tuple[Any, Any]:
    """torch.maximum's rule: each input gets the gradient where it is not below the other
    (a selected 0 elsewhere, which blocks even an infinite gradient), half of it at a tie;
    where either is NaN no comparison holds, so both get all of it (the result is NaN)."""
    raw_a, raw_b = data_of(a), data_of(b)
    if isinstance(raw_a, float) and isinstance(raw_b, float):  # floats, or Values
        if raw_a > raw_b:
            return 1.0, ZERO
        if raw_a < raw_b:
            return ZERO, 1.0
        return (0.5, 0.5) if raw_a == raw_b else (1.0, 1.0)
    raw_a, raw_b = np.asarray(raw_a), np.asarray(raw_b)
    shape = np.broadcast_shapes(raw_a.shape, raw_b.shape)
    keep_a = np.broadcast_to(~(raw_a < raw_b), shape)
    keep_b = np.broadcast_to(~(raw_a > raw_b), shape)
    tie = raw_a == raw_b
    if not tie.any():
        return gate(keep_a, 1.0, out), gate(keep_b, 1.0, out)
    share = np.broadcast_to(np.where(tie, 0.5, 1.0).astype(np.result_type(raw_a, raw_b)), shape)
    return Gate(keep_a, share), Gate(keep_b, share)


def _scalar_maximum(a: float, b: float) -> float:
    """max(a, b), NaN where either is NaN (as torch.maximum and np.maximum)."""
    return a if a >= b else b if b > a else math.nan


def _nonpositive_part(x: np.ndarray) -> np.ndarray:
    return np.minimum(x, 0)


# Arithmetic. Division's second rule is -out/b, i.e. -(a/b)/b: -a/b^2 would underflow b^2 for
# tiny divisors (1e-170) and give -inf where the true value is finite. Its first rule, like
# log's, divides the upstream gradient (`over`), as PyTorch: upstream / b, not upstream * (1/b).
ADD = define_op("+", forward=operator.add, derivative=(1.0, 1.0), formula=("1", "1"))
SUB = define_op("-", forward=operator.sub, derivative=(1.0, -1.0), formula=("1", "-1"))
MUL = define_op("*", forward=operator.mul, derivative=lambda a, b, out: (b, a),
                formula=("{b}", "{a}"))
DIV = define_op("/", forward=operator.truediv, derivative=lambda a, b, out: (over(b), -out / b),
                formula=("1/{b}", "-{a}/{b}^2"))
NEG = define_op("neg", forward=operator.neg, derivative=-1.0, formula="-1")
POWER = define_op("**", forward=operator.pow,
                  derivative=lambda a, b, out: (_power_base_derivative(a, b),
                                                _power_exponent_derivative(a, b, out)),
                  formula=("{b}*{a}^({b}-1)", "{out}*ln({a})"))
def _power_formula(n: float) -> str:
    """d(x^n)/dx = n x^(n-1) as text, written the short way for n - 1 = 0 or 1."""
    if n == 1.0:
        return "1"
    if n == 2.0:
        return "2*{x}"
    return f"{n:g}*{{x}}^{n - 1:g}"


POWER_OF_NUMBER = define_op(
    "**n", forward=_power, derivative=lambda x, out, n: _power_derivative(x, n),
    formula=_power_formula, parameters={"n": 2.0}, display=lambda n: f"**{n:g}")

# Elementary functions.
EXP = define_op("exp", forward=np.exp, scalar=_safe_exp, derivative=lambda x, out: out,
                formula="{out}")
LOG = define_op("log", forward=np.log, scalar=_scalar_log, derivative=lambda x, out: over(x),
                formula="1/{x}")
ABS = define_op("abs", forward=np.abs, scalar=abs,
                derivative=lambda x, out: select(data_of(x) > 0, 1.0,
                                                 select(data_of(x) < 0, -1.0, 0.0, x), x),
                formula="sign({x})")  # a product (PyTorch's grad * sgn(x)): sgn is 0 at 0 and NaN
MAXIMUM = define_op("max", forward=np.maximum, scalar=_scalar_maximum,
                    derivative=_maximum_derivative, formula=("[{a}>{b}]", "[{b}>{a}]"))

# Activations, each with a Numba kernel for large arrays. The comparisons are PyTorch's, which
# decides where a NaN goes: relu and elu pass the gradient through a NaN (x <= 0 is false),
# leaky_relu scales it by the slope (x > 0 is false).
TANH = define_op("tanh", forward=np.tanh, scalar=math.tanh,
                 derivative=lambda x, out: 1.0 - out * out, formula="1-{out}^2", kernel="tanh")
SIGMOID = define_op("sigmoid", forward=_array_sigmoid, scalar=_scalar_sigmoid,
                    derivative=lambda x, out: out * (1.0 - out), formula="{out}*(1-{out})",
                    kernel="sigmoid")
# relu's derivative gates (PyTorch: where(x <= 0, 0, grad)): a selected 0 for x <= 0, so that
# relu(x) ** 0.5 or log(relu(x)) at x < 0 gets the gradient 0, not 0 * inf = NaN.
RELU = define_op("relu", forward=lambda x: np.maximum(x, x.dtype.type(0)),  # NaN stays NaN
                 scalar=lambda x: 0.0 if x <= 0.0 else x,
                 derivative=lambda x, out: (ZERO if x <= 0.0 else 1.0) if type(x) is float
                 else gate(np.logical_not(data_of(x) <= 0), 1.0, x),
                 formula="[{x}>0]", kernel="relu")
LEAKY_RELU = define_op(
    "leaky_relu",
    forward=lambda x, negative_slope: np.where(x > 0, x, x * x.dtype.type(negative_slope)),
    scalar=lambda x, negative_slope: x if x > 0.0 else negative_slope * x,
    derivative=lambda x, out, negative_slope: select(data_of(x) > 0, 1.0, negative_slope, x),
    formula="(1 if {x}>0 else {negative_slope})", kernel="leaky_relu",
    parameters={"negative_slope": 0.01})
def _elu_derivative(x: Any, out: Any, alpha: float) -> Any:
    """alpha e^x for x <= 0, else 1; e^x only of the negative part, which cannot overflow
    (a NaN takes the identity branch, slope 1). At x = 0 the slope is alpha, a constant there:
    its own derivative (elu's second) is 0 at 0, as PyTorch's double backward (x < 0)."""
    if type(x) is float:
        return alpha * math.exp(x) if x <= 0.0 else 1.0
    raw = data_of(x)
    if isinstance(raw, float):  # a Value: only the branch taken is built
        return alpha * exp(x) if raw < 0 else alpha if raw == 0 else 1.0
    return select(raw <= 0, alpha * exp(select(raw < 0, x, 0.0, x)), 1.0, x)


# e^x - 1 is expm1, exact near 0 (elu(-1e-17) is -1e-17, not 0).
ELU = define_op(
    "elu",
    forward=lambda x, alpha: np.where(x <= 0, x.dtype.type(alpha) * np.expm1(_nonpositive_part(x)), x),
    scalar=lambda x, alpha: alpha * math.expm1(x) if x <= 0.0 else x,
    derivative=_elu_derivative,
    formula="(1 if {x}>0 else {alpha}*exp({x}))", kernel="elu", parameters={"alpha": 1.0})


# The generic functions users call: each takes a float, an array, a Value or a Tensor.
def exp(x: Any) -> Any:
    """e^x, elementwise.   d/dx = e^x."""
    return EXP(x)


def log(x: Any) -> Any:
    """ln x, elementwise.   d/dx = 1/x."""
    return LOG(x)


def tanh(x: Any) -> Any:
    """tanh x, elementwise.   d/dx = 1 - tanh(x)^2."""
    return TANH(x)


def sigmoid(x: Any) -> Any:
    """1 / (1 + e^-x), elementwise.   d/dx = s(1 - s)."""
    return SIGMOID(x)


def relu(x: Any) -> Any:
    """max(0, x), elementwise.   d/dx = [x > 0]."""
    return RELU(x)


def leaky_relu(x: Any, negative_slope: float = 0.01) -> Any:
    """x if x > 0 else negative_slope * x.   d/dx = 1 or negative_slope."""
    return LEAKY_RELU(x, negative_slope=negative_slope)


def elu(x: Any, alpha: float = 1.0) -> Any:
    """x if x > 0 else alpha (e^x - 1).   d/dx = 1 or alpha e^x."""
    return ELU(x, alpha=alpha)


def absolute(x: Any) -> Any:
    """|x|, elementwise.   d/dx = sign(x) (0 at 0, as PyTorch)."""
    return ABS(x)


def maximum(a: Any, b: Any) -> Any:
    """max(a, b), elementwise.   d/da = [a > b], d/db = [b > a], 1/2 each at a tie."""
    return MAXIMUM(a, b)


# The activations by name, as nn's modules and builders look them up.
ACTIVATIONS: dict[str, Op] = {op.name: op for op in (RELU, TANH, SIGMOID, LEAKY_RELU, ELU)}

# Formula text of the tensor ops that are not elementwise: d out/d input_i in matrix calculus,
# with G = dL/dout. The ops register theirs beside their vector-Jacobian products.
TENSOR_FORMULAS: dict[str, tuple[str, ...]] = {}


def register_tensor_formula(name: str, *formulas: str) -> None:
    """Record the matrix-calculus form of a tensor op's rule for the tracer and the drawings."""
    TENSOR_FORMULAS[name] = formulas


__all__ = ["Op", "OPS", "define_op", "ACTIVATIONS", "ACTIVATION_KERNELS", "TENSOR_FORMULAS", "register_tensor_formula",
           "exp", "log", "tanh", "sigmoid", "relu", "leaky_relu", "elu", "absolute", "maximum",
           "select", "gate", "over", "indicator", "data_of", "times", "ZERO", "Zero", "Gate",
           "Over", "Divide"]
