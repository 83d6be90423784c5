"""Stateless functions with `torch.nn.functional`'s names and semantics: ``from nn import functional as F``.

    linear  relu  tanh  sigmoid  softmax  log_softmax
    mse_loss  l1_loss  cross_entropy  binary_cross_entropy  binary_cross_entropy_with_logits
    sse  hinge   (the lecture's: the sum of squared errors, the mean max-margin loss)

Every function takes Tensors. The elementwise functions, softmax/log_softmax and the losses
also take the scalar side's operands: a `Value` (or a number), or a list of them for a
vector (cross_entropy: a list of logits per sample). An operand that is a Tensor (either
one, for a loss) selects the Tensor version; anything else the scalar one. Values and
gradients equal PyTorch's, on both sides, the edges included (tests/test_functional.py).

Each loss is written once. A pointwise loss is a `PointwiseLoss` declaration below: an
elementwise op of the engine (`autograd_core.ops.Op`) holding its per-element value l(x, t),
its partial derivatives and their text. The engine applies it to Values and to Tensors alike
(`nn._loss_nodes` adds the operand checks and the reduction), so the scalar and the tensor
version cannot disagree, at the edges included. Cross-entropy is `log_softmax` and a sum:
on Values it is built from the nodes of `log_softmax`; on Tensors it is one node running the
fused kernel ``autograd_core.kernels.softmax_cross_entropy`` (the classifier's hot path).

Losses take ``reduction="mean" | "sum" | "none"`` (keyword-only: PyTorch's positional
arguments after `target` are others, e.g. `weight`), mean by default as in PyTorch;
`sse` is always a sum. No broadcasting between input and target: their shapes must match.
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any, Callable, Optional, Sequence, Union

import numpy as np

from autograd_core import kernels, ops
from autograd_core.kernels import checks as kernel_checks
from autograd_core.ops import Op, data_of, select
from autograd_core.tensor import Tensor, constant, is_recorded, record
from autograd_core.value import Value, as_value, softmax as value_softmax, sum_values
from nn._loss_nodes import (PointwiseLoss, as_tensor, check_finite, check_reduction, describe_element,
                            is_sequence, reduce_values, scalar_number, zero_d)
from nn.layers import linear

ValueOrList = Union[Value, float, Sequence[Union[Value, float]]]
Operand = Union[Tensor, ValueOrList]
LossResult = Union[Tensor, Value, list[Value]]

# PyTorch's guards in binary_cross_entropy, which keep a saturated probability (a sigmoid
# output rounds to exactly 1 for logits above ~37 in float64, ~17 in float32) from stopping
# training with an infinity: each log is clamped from below at LOG_FLOOR, and dl/dh divides
# by max(h (1 - h), BCE_EPSILON), PyTorch's EPSILON: a C++ float 1e-12, which is
# 9.999999960041972e-13 (4e-9 below 1e-12, which shows in a float64 gradient).
LOG_FLOOR = -100.0
BCE_EPSILON = float(np.float32(1e-12))


# -- elementwise functions ------------------------------------------------------------------------

def _values_of(input: Any, who: str) -> tuple[list[Value], bool]:
    """(the operand as a list of Values, whether it was a single one); numbers become
    constant leaves. A TypeError names `who` for anything else."""
    if isinstance(input, Value):
        return [input], True
    if isinstance(input, numbers.Real) and not isinstance(input, (bool, np.bool_)):
        return [as_value(float(input))], True
    if not is_sequence(input):
        raise TypeError(f"{who}: input must be a Tensor, a Value or a list of Values, got "
                        f"{type(input).__name__}")
    values = []
    for i, item in enumerate(input):
        if isinstance(item, Value):
            values.append(item)
        elif isinstance(item, numbers.Real) and not isinstance(item, (bool, np.bool_)):
            values.append(as_value(float(item)))
        else:
            raise TypeError(f"{who}: input[{i}] must be a Value or a number, got "
                            f"{type(item).__name__}: {item!r}")
    return values, False


def _elementwise(input: Any, who: str) -> Union[Tensor, Value, list[Value]]:
    """``input.<who>()`` on a Tensor or a Value, or that of each Value of a list."""
    if isinstance(input, Tensor):
        return getattr(input, who)()
    values, single = _values_of(input, who)
    results = [getattr(value, who)() for value in values]
    return results[0] if single else results


def relu(input: Operand) -> Union[Tensor, Value, list[Value]]:
    """max(0, x) elementwise.   dL/dx = dL/dout * [x > 0]   (0 at x = 0, as PyTorch)."""
    return _elementwise(input, "relu")


def tanh(input: Operand) -> Union[Tensor, Value, list[Value]]:
    """tanh x elementwise.   dL/dx = dL/dout * (1 - out^2)."""
    return _elementwise(input, "tanh")


def sigmoid(input: Operand) -> Union[Tensor, Value, list[Value]]:
    """1 / (1 + e^-x) elementwise (no overflow for any x).   dL/dx = dL/dout * out (1 - out)."""
    return _elementwise(input, "sigmoid")


def _softmax_dim(input: Tensor, dim: Optional[int], who: str) -> int:
    """`dim`, or for None PyTorch's implicit (deprecated) choice with PyTorch's warning:
    dim 0 for 0-, 1- and 3-d inputs, else 1."""
    if dim is not None:
        return dim
    implicit = 0 if input.ndim in (0, 1, 3) else 1
    warnings.warn(f"Implicit dimension choice for {who} has been deprecated. Change the call to "
                  f"include dim=X as an argument.", UserWarning, stacklevel=3)
    return implicit


def _scalar_dim(dim: Optional[int], who: str) -> None:
    """A list of Values is a vector: the only dim is 0 (or -1, or None)."""
    if dim not in (None, 0, -1) or isinstance(dim, bool):
        raise ValueError(f"{who}: a list of Values has one dimension, so dim must be 0 or -1, got {dim!r}")


def softmax(input: Operand, dim: Optional[int] = None) -> Union[Tensor, list[Value]]:
    """s_i = e^(x_i - m) / sum_j e^(x_j - m) along `dim`, m the maximum (stable).

    dL/dx_i = s_i (g_i - sum_j g_j s_j) with g = dL/ds. `dim` as in PyTorch (Tensor.softmax
    calls it `axis`); a list of Values is one vector, built from ``-``, exp, ``+`` and ``/``
    nodes. For a classifier's loss use `cross_entropy` on the logits instead.
    """
    if isinstance(input, Tensor):
        return input.softmax(_softmax_dim(input, dim, "softmax"))
    _scalar_dim(dim, "softmax")
    values, _ = _values_of(input, "softmax")
    return value_softmax(values)


def log_softmax(input: Operand, dim: Optional[int] = None) -> Union[Tensor, list[Value]]:
    """y_i = x_i - m - log sum_j e^(x_j - m) along `dim`, m the maximum (stable log-sum-exp).

    dL/dx_i = g_i - softmax(x)_i sum_j g_j with g = dL/dy. On a list of Values it is built
    from ``-``, exp, ``+`` and log nodes (m is a constant: it changes no derivative).
    """
    if isinstance(input, Tensor):
        return input.log_softmax(_softmax_dim(input, dim, "log_softmax"))
    _scalar_dim(dim, "log_softmax")
    values, _ = _values_of(input, "log_softmax")
    if not values:
        raise ValueError("log_softmax: the input list is empty")
    shift = max(value.data for value in values)
    shifted = [value - shift for value in values]
    log_total = sum_values(s.exp() for s in shifted).log()
    return [s - log_total for s in shifted]


# The matrix-calculus form of the fused nodes' rules, for the tracer and the drawings.
ops.register_tensor_formula("cross_entropy", "G·(softmax(x) - y)/n", "-G·log_softmax(x)/n")

# -- pointwise losses: each one's formula, written once ---------------------------------------------
#
# Each is an elementwise op of the engine on (x, t) = (input, target): its forward l(x, t),
# its derivative (dl/dx, dl/dt) and that derivative's text. The engine evaluates the forward
# and the derivative on floats for a Value node and on arrays for a Tensor node; derivatives
# written with operators, `select` and the engine's generic functions also work on Values
# and Tensors, for gradients of gradients. They are not registered in the engine's table
# `autograd_core.ops.OPS`, which holds its general-purpose ops.

def _numpy_formula(name: str, formula: Callable[..., Any]) -> Callable[..., Any]:
    """`formula`, written with numpy, on floats (float64, returning floats) or on arrays (in
    their dtype); graph nodes are refused: it has no derivative of its own."""
    def on_floats_or_arrays(*args: Any) -> Any:
        if any(data_of(arg) is not arg for arg in args):
            raise NotImplementedError(f"{name}: gradients of gradients are not declared for this "
                                      f"loss (its derivative is written with numpy)")
        if isinstance(args[0], np.ndarray):
            return formula(*args)
        result = formula(*(np.float64(arg) for arg in args))
        return tuple(float(r) for r in result) if isinstance(result, tuple) else float(result)
    return on_floats_or_arrays


def _loss_op(name: str, value: Callable[..., Any], derivative: Callable[..., Any],
             formula: tuple[str, str]) -> Op:
    """The elementwise op l(x, t) with derivative(x, t, out) = (dl/dx, dl/dt)."""
    return Op(name, 2, scalar=lambda x, t: float(value(x, t)), array=value, derivative=derivative,
              formula=formula)


def _sign(r: Any, like: Any) -> Any:
    """sign(r) as a constant of the kind of `like` (its derivative is 0 almost everywhere)."""
    raw = data_of(r)
    return select(raw > 0, 1.0, select(raw < 0, -1.0, 0.0, like), like)


SQUARED_ERROR = PointwiseLoss(_loss_op(
    "squared_error",
    value=lambda x, t: (x - t) * (x - t),                           # l = (x - t)^2
    derivative=lambda x, t, out: (2 * (x - t), -2 * (x - t)),       # dl/dx = 2 (x - t) = -dl/dt
    formula=("2*({a}-{b})", "-2*({a}-{b})")))

ABSOLUTE_ERROR = PointwiseLoss(_loss_op(
    "absolute_error",
    value=lambda x, t: abs(x - t),                                  # l = |x - t|
    # dl/dx = sign(x - t) = -dl/dt, 0 where x = t (as PyTorch)
    derivative=lambda x, t, out: (_sign(x - t, out), -_sign(x - t, out)),
    formula=("sign({a}-{b})", "-sign({a}-{b})")))


def _check_unit_targets(x: np.ndarray, t: np.ndarray, who: str) -> None:
    outside = (t < 0.0) | (t > 1.0)
    if outside.any():
        raise ValueError(f"{who}: target must lie in [0, 1], but {describe_element(outside, t)}")


def _check_probabilities(h: np.ndarray, t: np.ndarray, who: str) -> None:
    outside = (h < 0.0) | (h > 1.0)
    if outside.any():
        raise ValueError(f"{who}: input must hold probabilities in [0, 1], but "
                         f"{describe_element(outside, h)}; pass logits to "
                         f"binary_cross_entropy_with_logits instead")
    _check_unit_targets(h, t, who)


def _bce_value(h: np.ndarray, t: np.ndarray) -> np.ndarray:
    """l = -[t max(log h, -100) + (1 - t) max(log(1 - h), -100)], as PyTorch computes it."""
    with np.errstate(divide="ignore"):  # log(0) = -inf, clamped to LOG_FLOOR
        log_h = np.maximum(np.log(h), LOG_FLOOR)
        log_not_h = np.maximum(np.log1p(-h), LOG_FLOOR)
    return (t - 1) * log_not_h - t * log_h


def _bce_derivative(h: np.ndarray, t: np.ndarray, out: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """dl/dh = (h - t) / max(h (1 - h), eps): finite at h = 0 and 1 (0 where h = t);
    dl/dt = -logit(h) = -log(h / (1 - h)), not clamped: +-inf at h = 0 and 1 (as PyTorch)."""
    with np.errstate(divide="ignore"):
        return (h - t) / np.maximum((1 - h) * h, BCE_EPSILON), -np.log(h / (1 - h))


_bce_derivative_on_numbers = _numpy_formula("binary_cross_entropy", _bce_derivative)


def _bce_derivative_anywhere(h: Any, t: Any, out: Any) -> tuple[Any, Any]:
    """`_bce_derivative` on floats and arrays; on Values and Tensors (a backward with
    create_graph) the same formula as graph operations, so BCE differentiates twice."""
    if data_of(h) is h and data_of(t) is t:
        return _bce_derivative_on_numbers(h, t, out)
    return ((h - t) / ops.maximum((1 - h) * h, BCE_EPSILON), -ops.log(h / (1 - h)))


BINARY_CROSS_ENTROPY = PointwiseLoss(_loss_op(
    "binary_cross_entropy",
    value=_numpy_formula("binary_cross_entropy", _bce_value),
    derivative=_bce_derivative_anywhere,
    formula=("({a}-{b})/max({a}*(1-{a}),eps)", "-logit({a})")),
    check=_check_probabilities)


def _logistic_value(z: np.ndarray, t: np.ndarray) -> np.ndarray:
    """l = log(1 + e^z) - t z = (1 - t) z - log sigmoid(z), as PyTorch computes it, with
    log sigmoid(z) = min(z, 0) - log(1 + e^-|z|): no exponential overflows."""
    return (1 - t) * z - (np.minimum(z, 0) - np.log1p(np.exp(-np.abs(z))))


BINARY_CROSS_ENTROPY_WITH_LOGITS = PointwiseLoss(_loss_op(
    "binary_cross_entropy_with_logits",
    value=_numpy_formula("binary_cross_entropy_with_logits", _logistic_value),
    derivative=lambda z, t, out: (ops.sigmoid(z) - t, -z),          # dl/dz = sigmoid(z) - t, dl/dt = -z
    formula=("sigmoid({a})-{b}", "-{a}")),
    check=_check_unit_targets)


def _check_signs(s: np.ndarray, y: np.ndarray, who: str) -> None:
    bad = (y != 1.0) & (y != -1.0)
    if bad.any():
        raise ValueError(f"{who}: target must hold labels -1 or +1, but {describe_element(bad, y)} "
                         f"(for 0/1 labels pass 2 * y - 1)")


def _hinge_derivative(s: Any, y: Any, out: Any) -> tuple[Any, Any]:
    """dl/ds = -y and dl/dy = -s where the margin 1 - y s is positive, else 0 (0 at the kink)."""
    active = 1 - data_of(y) * data_of(s) > 0
    return select(active, -y, 0.0, out), select(active, -s, 0.0, out)


HINGE = PointwiseLoss(_loss_op(
    "hinge",
    value=lambda s, y: ops.relu(1 - y * s),                          # l = max(0, 1 - y s)
    derivative=_hinge_derivative,
    formula=("-{b}*[1-{b}*{a}>0]", "-{a}*[1-{b}*{a}>0]")),
    check=_check_signs, target_gradient=False)                      # labels are constants


def mse_loss(input: Operand, target: Operand, *, reduction: str = "mean") -> LossResult:
    """Mean squared error: mean_i (x_i - t_i)^2 (reduction "sum": the sum, "none": each).

    dL/dx_i = g * 2 (x_i - t_i) / n (n only for "mean"),   dL/dt_i = -dL/dx_i.
    """
    return SQUARED_ERROR.apply(input, target, reduction, "mse_loss")


def sse(input: Operand, target: Operand) -> LossResult:
    """The lecture's sum of squared errors: sum_i (x_i - t_i)^2 (mse_loss with reduction="sum").

    dL/dx_i = g * 2 (x_i - t_i),   dL/dt_i = -dL/dx_i.
    """
    return SQUARED_ERROR.apply(input, target, "sum", "sse")


def l1_loss(input: Operand, target: Operand, *, reduction: str = "mean") -> LossResult:
    """Mean absolute error: mean_i |x_i - t_i|, as PyTorch's (reduction="sum": the lecture's L1).

    dL/dx_i = g * sign(x_i - t_i) / n (0 where x_i = t_i),   dL/dt_i = -dL/dx_i.
    """
    return ABSOLUTE_ERROR.apply(input, target, reduction, "l1_loss")


def binary_cross_entropy(input: Operand, target: Operand, *, reduction: str = "mean") -> LossResult:
    """-[t log h + (1 - t) log(1 - h)] for probabilities h and targets t in [0, 1], as PyTorch.

    Each log is clamped at -100, so h = 0 or 1 (a saturated sigmoid) gives a finite loss.
    dL/dh_i = g * (h_i - t_i) / max(h_i (1 - h_i), eps) / n   (eps = float32(1e-12)),
    dL/dt_i = -g * logit(h_i) / n   (not clamped). For logits use the *_with_logits loss.
    """
    return BINARY_CROSS_ENTROPY.apply(input, target, reduction, "binary_cross_entropy")


def binary_cross_entropy_with_logits(input: Operand, target: Operand, *,
                                     reduction: str = "mean") -> LossResult:
    """Binary cross-entropy of sigmoid(z) for logits z: log(1 + e^z) - t z, exact at every z.

    Computed as PyTorch does, (1 - t) z - log sigmoid(z) with log sigmoid(z) = min(z, 0) -
    log(1 + e^-|z|), which never overflows.
    dL/dz_i = g * (sigmoid(z_i) - t_i) / n,   dL/dt_i = -g * z_i / n.
    """
    return BINARY_CROSS_ENTROPY_WITH_LOGITS.apply(input, target, reduction,
                                                  "binary_cross_entropy_with_logits")


def hinge(input: Operand, target: Operand, *, reduction: str = "mean") -> LossResult:
    """The max-margin loss max(0, 1 - y s) for scores s and labels y in {-1, +1}.

    dL/ds_i = -g * y_i / n where 1 - y_i s_i > 0, else 0 (0 at the kink, as ReLU's
    derivative). The labels get no gradient.
    """
    return HINGE.apply(input, target, reduction, "hinge")


# -- cross-entropy -------------------------------------------------------------------------------------

def _row_losses(logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """l_r = -sum_c t_rc log softmax(z_r)_c for each row r (reduction="none"); `targets`
    are int labels (n,) (a one-hot t) or probabilities (n, C)."""
    log_probs = kernels.log_softmax(logits, 1)
    if targets.ndim == 1:
        return -log_probs[np.arange(len(targets)), targets]
    return -(targets * log_probs).sum(axis=1)


def _class_targets(target: Any, n: int, classes: int, dtype: np.dtype,
                   who: str) -> tuple[np.ndarray, Optional[Tensor]]:
    """(targets as arrays, the target Tensor when it may need a gradient), their kinds and
    shapes checked with errors that name `who`; their values are checked by the caller.

    Labels: integers of shape (n,) in [0, C). Probabilities: shape (n, C), rows summing to 1.
    """
    if isinstance(target, Tensor):
        if target.ndim != 2:
            raise TypeError(f"{who}: class labels must be integers, but a Tensor holds floats "
                            f"(shape {target.shape}); pass the labels as an integer numpy array, "
                            f"or probabilities as a Tensor of shape ({n}, {classes})")
        if target.dtype != dtype:
            raise TypeError(f"{who}: input has dtype {dtype} but target has dtype {target.dtype}")
        if target.shape != (n, classes):
            raise ValueError(f"{who}: probability targets of shape {target.shape} do not fit "
                             f"input of shape ({n}, {classes})")
        return target.data, target
    if isinstance(target, (str, bytes)) or target is None:
        raise TypeError(f"{who}: target must be class labels or probabilities, got "
                        f"{type(target).__name__}: {target!r}")
    array = target if type(target) is np.ndarray else np.asarray(target)
    if array.ndim <= 1:
        if array.dtype.kind not in "iu":
            raise TypeError(f"{who}: class labels must be integers, got dtype {array.dtype}")
        labels = array.reshape(-1)
        if labels.shape[0] != n:
            raise ValueError(f"{who}: {labels.shape[0]} labels for {n} rows of logits")
        return labels, None
    if array.ndim != 2 or array.shape != (n, classes):
        raise ValueError(f"{who}: target of shape {array.shape} fits neither labels ({n},) nor "
                         f"probabilities ({n}, {classes}) for input of {n} rows and {classes} classes")
    if array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.number) \
            or np.issubdtype(array.dtype, np.complexfloating):
        raise TypeError(f"{who}: probability targets must be real numbers, got {array.dtype}")
    return array.astype(dtype, copy=False), None


def _cross_entropy_on_tensors(input: Any, target: Any, reduction: str, who: str) -> Tensor:
    """One graph node over logits of shape (n, C) (or (C,)); see `cross_entropy`.

    Validates everything here, once (`kernel_checks.check_targets` for the targets' values),
    then runs the unchecked kernels in the forward and the backward pass.
    """
    z = input if isinstance(input, Tensor) else as_tensor(input, np.dtype(np.float64), who, "input")
    single = z.ndim == 1
    if single:
        if isinstance(target, numbers.Integral) and not isinstance(target, (bool, np.bool_)):
            target = [target]
        elif isinstance(target, Tensor):
            target = target.reshape(1, -1)
        elif np.ndim(target) == 1:
            target = np.asarray(target)[np.newaxis]
        z = z.reshape(1, -1)
    if z.ndim != 2 or z.size == 0:
        raise ValueError(f"{who}: input must have shape (n, C) (or (C,) for one sample) with "
                         f"n, C >= 1, got {z.shape}")
    logits = z.data
    check_finite(logits, who, "input")
    n, classes = logits.shape
    targets, target_tensor = _class_targets(target, n, classes, logits.dtype, who)
    targets = kernel_checks.check_targets(who, targets, n, classes, logits.dtype)
    mean, probs = kernels.softmax_cross_entropy_unchecked(logits, targets)
    if reduction == "none":
        row_losses = _row_losses(logits, targets)
        data = zero_d(row_losses[0], logits) if single else row_losses
    else:
        data = zero_d(mean * n if reduction == "sum" else mean, logits)
    one_hot = None  # the targets as probabilities, made only for a graph-building backward

    def vector_jacobian_product(g: Any, inputs: Sequence[Any], out: Any,
                                needs: Sequence[bool]) -> tuple:
        """dL/dz = G * (softmax(z) - t) / n (mean) and dL/dt = -G * log_softmax(z) / n, with
        G = dL/dloss (per row for reduction="none", where the 1/n is absent)."""
        nonlocal one_hot
        if reduction == "none":
            rows = g.reshape(n, 1)  # dL/dl_r for each row
            scale = rows
        else:
            scale = g * (1.0 if reduction == "sum" else 1.0 / n)
        if not isinstance(g, Tensor):  # the fused kernel on the arrays of the forward pass
            if reduction == "none":
                # The kernel's grad * (p - t) / n with grad = n is exactly p - t.
                grad_z = rows * kernels.softmax_cross_entropy_backward_unchecked(
                    probs, targets, float(n)) if needs[0] else None
            else:
                upstream = float(g) * (n if reduction == "sum" else 1)
                grad_z = kernels.softmax_cross_entropy_backward_unchecked(
                    probs, targets, upstream) if needs[0] else None
            grad_t = kernels.log_softmax(logits, 1) * -scale if len(inputs) > 1 and needs[1] else None
        else:  # Tensors: the same rule as graph operations, differentiable again
            logits_node = inputs[0]
            if one_hot is None:
                one_hot = targets if targets.ndim == 2 else np.eye(classes, dtype=logits.dtype)[targets]
            target_node = inputs[1] if len(inputs) > 1 else one_hot
            grad_z = (logits_node.softmax(1) - target_node) * scale if needs[0] else None
            grad_t = logits_node.log_softmax(1) * -scale if len(inputs) > 1 and needs[1] else None
        return (grad_z,) if len(inputs) == 1 else (grad_z, grad_t)

    # Recorded directly, as from_op would record it without its checks of the arguments: the
    # rule is tested against torch (first and second order), and the arguments are checked above.
    if target_tensor is None:
        parents: tuple[Tensor, ...] = (z,)
        saved: tuple[np.ndarray, ...] = (logits,)
    else:
        parents, saved = (z, target_tensor), (logits, target_tensor.data)
    if not is_recorded(*parents):
        return constant(data)
    return record(data, parents, who, vector_jacobian_product, saved)


def _class_target(target: Any, classes: int, where: str, who: str) -> Union[int, list[float]]:
    """One sample's target on the scalar side, checked: a class index, or `classes` probabilities."""
    if isinstance(target, numbers.Integral) and not isinstance(target, (bool, np.bool_)):
        if not 0 <= target < classes:
            raise ValueError(f"{who}: {where} class index {target} is outside 0..{classes - 1}")
        return int(target)
    if not is_sequence(target):
        raise TypeError(f"{who}: {where} must be a class index (int) or a list of {classes} "
                        f"probabilities, got {type(target).__name__}: {target!r}")
    if len(target) != classes:
        raise ValueError(f"{who}: {where} has {len(target)} probabilities for {classes} logits")
    for i, p in enumerate(target):
        if isinstance(p, (bool, np.bool_)) or not isinstance(p, numbers.Real):
            raise TypeError(f"{who}: {where}[{i}] must be a number, got {type(p).__name__}: {p!r}")
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"{who}: {where}[{i}] is {p!r}, not a probability in [0, 1]")
    total = float(np.sum(np.asarray(target, dtype=np.float64)))
    if abs(total - 1.0) > 1e-6:
        raise ValueError(f"{who}: {where} probabilities sum to {total!r}, not 1")
    return [float(p) for p in target]


def _sample_cross_entropy(logits: Any, target: Any, where: str, who: str) -> Value:
    """-sum_k t_k log_softmax(z)_k for one sample, built from the Value nodes of `log_softmax`:
    dl/dz_j = softmax(z)_j sum_k t_k - t_j."""
    if not is_sequence(logits) or len(logits) == 0:
        raise ValueError(f"{who}: {where} must be a non-empty list of logits, got {logits!r}")
    values = [scalar_number(z, who, f"{where}[{i}]") for i, z in enumerate(logits)]
    target = _class_target(target, len(values), where.replace("input", "target"), who)
    log_probs = log_softmax(values)
    if isinstance(target, int):
        return -log_probs[target]
    return -sum_values(t * log_p for t, log_p in zip(target, log_probs) if t != 0.0)


def _cross_entropy_on_values(input: Any, target: Any, reduction: str, who: str) -> Union[Value, list[Value]]:
    """One loss per sample (`_sample_cross_entropy`), then `reduce_values` over the samples.

    `input`: a list of logits with one target, or a batch: a list of logit lists with a list
    of targets, of one length."""
    if not (is_sequence(input) and len(input) > 0 and is_sequence(input[0])):
        return _sample_cross_entropy(input, target, "the input", who)
    if not is_sequence(target) or len(target) != len(input):
        count = len(target) if is_sequence(target) else "not a list of"
        raise ValueError(f"{who}: a batch of {len(input)} logit lists needs {len(input)} "
                         f"targets, got {count}")
    for i, logits in enumerate(input):
        if is_sequence(logits) and len(logits) != len(input[0]):
            raise ValueError(f"{who}: sample {i} has {len(logits)} logits but sample 0 has "
                             f"{len(input[0])}")
    terms = [_sample_cross_entropy(logits, t, f"sample {i} input", who)
             for i, (logits, t) in enumerate(zip(input, target))]
    return reduce_values(terms, reduction, single=False)


class _CrossEntropy:
    """Cross-entropy with the interface of a `PointwiseLoss` (apply, on_tensors, on_values)."""

    name = "cross-entropy"

    def apply(self, input: Any, target: Any, reduction: str, who: str) -> LossResult:
        """`on_tensors` if either operand is a Tensor, else `on_values`."""
        reduction = check_reduction(reduction, who)
        if isinstance(input, Tensor) or isinstance(target, Tensor):
            return _cross_entropy_on_tensors(input, target, reduction, who)
        return _cross_entropy_on_values(input, target, reduction, who)

    def on_tensors(self, input: Any, target: Any, reduction: str, who: str) -> Tensor:
        """The Tensor version (arrays become constant Tensors)."""
        return _cross_entropy_on_tensors(input, target, reduction, who)

    def on_values(self, input: Any, target: Any, reduction: str, who: str) -> Union[Value, list[Value]]:
        """The scalar version."""
        return _cross_entropy_on_values(input, target, reduction, who)


CROSS_ENTROPY = _CrossEntropy()


def cross_entropy(input: Operand, target: Any, *, reduction: str = "mean") -> LossResult:
    """-sum_c t_c log softmax(z)_c per sample, averaged over the samples (as PyTorch).

    Tensors: logits `input` of shape (n, C) with integer labels (n,) (a numpy array or a
    list) or class probabilities (n, C) (an array, or a Tensor that may require a gradient);
    one sample: logits (C,) with an int label or C probabilities. Probability rows must sum
    to 1. Scalar side: a list of C logits (Values) with a class index or C probabilities,
    or a batch: a list of such lists with a list of targets.

    dL/dz = g * (softmax(z) - t) / n,   dL/dt = -g * log_softmax(z) / n (probability targets).
    The Tensor mean and sum run the fused kernel ``softmax_cross_entropy`` as one node.
    """
    return CROSS_ENTROPY.apply(input, target, reduction, "cross_entropy")


__all__ = ["linear", "relu", "tanh", "sigmoid", "softmax", "log_softmax",
           "mse_loss", "l1_loss", "cross_entropy", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "sse", "hinge",
           "SQUARED_ERROR", "ABSOLUTE_ERROR", "BINARY_CROSS_ENTROPY",
           "BINARY_CROSS_ENTROPY_WITH_LOGITS", "HINGE", "CROSS_ENTROPY", "LOG_FLOOR", "BCE_EPSILON"]
