"""Loss functions on `Value`s (seed-examples.md section 4).

A prediction and its target are both single numbers/Values or both equal-length lists of
them. Every loss is built from `Value` operations, so its gradient is their chain rule.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Sequence, Union

import numpy as np

from autograd_core.value import Value, sum_values

Scalar = Union[Value, int, float]
Operand = Union[Scalar, Sequence[Scalar]]


def _is_list(x: Any) -> bool:
    """True for lists, tuples and numpy arrays of at least one dimension (not for strings)."""
    if isinstance(x, np.ndarray):
        return x.ndim >= 1
    return isinstance(x, Sequence) and not isinstance(x, (str, bytes))


def _operand(x: Any, loss: str, role: str) -> Value:
    """`x` as a Value; a TypeError or ValueError (naming the loss) if it is not a finite number."""
    if isinstance(x, Value):
        value = x
    elif isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{loss}: {role} must be a float or a Value, got {type(x).__name__}: {x!r}")
    else:
        value = Value(float(x))
    if not math.isfinite(value.data):
        raise ValueError(f"{loss}: {role} is {value.data!r}; losses need finite numbers")
    return value


def _pairs(prediction: Operand, target: Operand, loss: str) -> list[tuple[Value, Value]]:
    """(prediction_i, target_i) as Values, after checking that the two have the same shape."""
    if _is_list(prediction) != _is_list(target):
        kinds = ["a list" if _is_list(x) else "a single value" for x in (prediction, target)]
        raise ValueError(f"{loss}: prediction is {kinds[0]} but target is {kinds[1]}")
    if not _is_list(prediction):
        return [(_operand(prediction, loss, "prediction"), _operand(target, loss, "target"))]
    if len(prediction) != len(target):
        raise ValueError(f"{loss}: prediction has {len(prediction)} elements but target has {len(target)}")
    if len(prediction) == 0:
        raise ValueError(f"{loss}: prediction and target are empty")
    return [(_operand(p, loss, f"prediction[{i}]"), _operand(t, loss, f"target[{i}]"))
            for i, (p, t) in enumerate(zip(prediction, target))]


def sse(prediction: Operand, target: Operand) -> Value:
    """Sum of squared errors: L = sum_i (p_i - t_i)^2.   dL/dp_i = 2 (p_i - t_i)."""
    return sum_values((p - t) ** 2 for p, t in _pairs(prediction, target, "sse"))


def mse(prediction: Operand, target: Operand) -> Value:
    """Mean squared error: L = SSE / n = (1/n) sum_i (p_i - t_i)^2.   dL/dp_i = 2 (p_i - t_i) / n."""
    pairs = _pairs(prediction, target, "mse")
    return sum_values((p - t) ** 2 for p, t in pairs) / len(pairs)


def l1(prediction: Operand, target: Operand) -> Value:
    """Sum of absolute residuals: L = sum_i |p_i - t_i|.   dL/dp_i = sign(p_i - t_i) (0 at 0)."""
    return sum_values((p - t).abs() for p, t in _pairs(prediction, target, "l1"))


def binary_cross_entropy(probability: Operand, target: Operand) -> Value:
    """Mean of -[t log h + (1 - t) log(1 - h)] for probabilities h in (0, 1), targets t in [0, 1].

    dL/dh_i = (h_i - t_i) / (h_i (1 - h_i)) / n. Nothing is clamped: a probability of exactly
    0 or 1 has an infinite loss, so it is an error (use binary_cross_entropy_with_logits).
    """
    pairs = _pairs(probability, target, "binary_cross_entropy")
    for i, (h, t) in enumerate(pairs):
        if not 0.0 < h.data < 1.0:
            raise ValueError(f"binary_cross_entropy: probability {i} is {h.data!r}, outside (0, 1); "
                             f"pass logits to binary_cross_entropy_with_logits instead")
        if not 0.0 <= t.data <= 1.0:
            raise ValueError(f"binary_cross_entropy: target {i} is {t.data!r}, outside [0, 1]")
    terms = [-(t * h.log() + (1.0 - t) * (1.0 - h).log()) for h, t in pairs]
    return sum_values(terms) / len(terms)


def _logistic_loss(z: Value, t: Value) -> Value:
    """softplus(z) - t z = log(1 + e^z) - t z, evaluated so that no exponential overflows.

    For z >= 0 it is (1 - t) z + log(1 + e^-z), else log(1 + e^z) - t z. Both branches have
    the derivative sigmoid(z) - t, and neither subtracts two large nearly equal numbers.
    """
    if z.data >= 0.0:
        return (1.0 - t) * z + (1.0 + (-z).exp()).log()
    return (1.0 + z.exp()).log() - t * z


def binary_cross_entropy_with_logits(logit: Operand, target: Operand) -> Value:
    """Mean of -[t log sigmoid(z) + (1 - t) log(1 - sigmoid(z))] for logits z, targets t in [0, 1].

    Per element that equals log(1 + e^z) - t z, so dL/dz_i = (sigmoid(z_i) - t_i) / n.
    """
    pairs = _pairs(logit, target, "binary_cross_entropy_with_logits")
    for i, (_, t) in enumerate(pairs):
        if not 0.0 <= t.data <= 1.0:
            raise ValueError(f"binary_cross_entropy_with_logits: target {i} is {t.data!r}, outside [0, 1]")
    return sum_values(_logistic_loss(z, t) for z, t in pairs) / len(pairs)


def _class_target(target: Any, classes: int, where: str) -> list[float] | int:
    """A class index, or a probability list over `classes`, checked."""
    if isinstance(target, numbers.Integral) and not isinstance(target, bool):
        if not 0 <= target < classes:
            raise ValueError(f"cross_entropy: {where} class index {target} is outside 0..{classes - 1}")
        return int(target)
    if not _is_list(target):
        raise TypeError(f"cross_entropy: {where} must be a class index (int) or a list of {classes} "
                        f"probabilities, got {type(target).__name__}: {target!r}")
    if len(target) != classes:
        raise ValueError(f"cross_entropy: {where} has {len(target)} probabilities for {classes} logits")
    for i, p in enumerate(target):
        if isinstance(p, bool) or not isinstance(p, numbers.Real):
            raise TypeError(f"cross_entropy: {where}[{i}] must be a number, got {type(p).__name__}: {p!r}")
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"cross_entropy: {where}[{i}] is {p!r}, not a probability in [0, 1]")
    if abs(math.fsum(target) - 1.0) > 1e-6:
        raise ValueError(f"cross_entropy: {where} probabilities sum to {math.fsum(target)!r}, not 1")
    return [float(p) for p in target]


def _sample_cross_entropy(logits: Sequence[Scalar], target: Any, where: str) -> Value:
    if not _is_list(logits) or len(logits) == 0:
        raise ValueError(f"cross_entropy: {where} logits must be a non-empty list, got {logits!r}")
    values = [_operand(z, "cross_entropy", f"{where} logit {i}") for i, z in enumerate(logits)]
    target = _class_target(target, len(values), f"{where} target")
    # Subtracting the largest logit m changes no log-probability and no derivative
    # (m is a constant), and keeps every e^(z - m) <= 1.
    shift = max(v.data for v in values)
    shifted = [v - shift for v in values]
    log_total = sum_values(s.exp() for s in shifted).log()
    if isinstance(target, int):
        return log_total - shifted[target]
    return sum_values(t * (log_total - s) for t, s in zip(target, shifted) if t != 0.0)


def cross_entropy(logits: Sequence[Any], target: Any) -> Value:
    """L = -sum_k t_k log softmax(z)_k, through a stable log-softmax.

    log softmax(z)_k = (z_k - m) - log sum_j e^(z_j - m) with m = max z, so
    dL/dz_k = softmax(z)_k * sum_j t_j - t_k (= softmax(z)_k - t_k for a distribution t).
    `target` is a class index or a list of probabilities (one-hot or soft). A batch is a list
    of logit lists with a list of targets; its loss is the mean over the samples.
    """
    if _is_list(logits) and len(logits) > 0 and _is_list(logits[0]):
        if not _is_list(target) or len(target) != len(logits):
            count = len(target) if _is_list(target) else "not a list of"
            raise ValueError(f"cross_entropy: a batch of {len(logits)} logit lists needs {len(logits)} "
                             f"targets, got {count}")
        losses = [_sample_cross_entropy(z, t, f"sample {i}") for i, (z, t) in enumerate(zip(logits, target))]
        return sum_values(losses) / len(losses)
    return _sample_cross_entropy(logits, target, "the")


def hinge(score: Operand, target: Operand) -> Value:
    """Max-margin loss: mean of max(0, 1 - y_i s_i) for labels y_i in {-1, +1}.

    dL/ds_i = -y_i / n where 1 - y_i s_i > 0, else 0 (0 at the kink, as ReLU's derivative).
    """
    pairs = _pairs(score, target, "hinge")
    for i, (_, y) in enumerate(pairs):
        if y.data not in (-1.0, 1.0):
            raise ValueError(f"hinge: target {i} is {y.data!r}; hinge labels must be -1 or +1")
    return sum_values((1.0 - y * s).relu() for s, y in pairs) / len(pairs)


__all__ = ["mse", "sse", "l1", "binary_cross_entropy", "binary_cross_entropy_with_logits",
           "cross_entropy", "hinge"]
