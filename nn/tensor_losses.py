"""The lecture's loss names on Tensors, kept for existing code (``nn.tensor_losses.cross_entropy``).

Each is the Tensor side of its `nn.functional` declaration with the lecture's reduction (the
mean; `sse` and `l1` sum), one graph node; an operand that is not a Tensor (a numpy array, a
list) becomes a constant Tensor. New code: ``from nn import functional as F``, whose
functions take the same Tensors (``F.cross_entropy(logits, labels)``).
"""

from __future__ import annotations

from typing import Any

from autograd_core.tensor import Tensor
from nn import functional as F

TensorLike = Any  # a Tensor, or anything numpy turns into a float array


def mse(prediction: TensorLike, target: TensorLike) -> Tensor:
    """Mean squared error L = (1/n) sum_i (p_i - t_i)^2.   dL/dp_i = g * 2 (p_i - t_i) / n = -dL/dt_i."""
    return F.SQUARED_ERROR.on_tensors(prediction, target, "mean", "mse")


def sse(prediction: TensorLike, target: TensorLike) -> Tensor:
    """Sum of squared errors L = sum_i (p_i - t_i)^2.   dL/dp_i = g * 2 (p_i - t_i) = -dL/dt_i."""
    return F.SQUARED_ERROR.on_tensors(prediction, target, "sum", "sse")


def l1(prediction: TensorLike, target: TensorLike) -> Tensor:
    """Sum of absolute residuals L = sum_i |p_i - t_i|.   dL/dp_i = g * sign(p_i - t_i) = -dL/dt_i."""
    return F.ABSOLUTE_ERROR.on_tensors(prediction, target, "sum", "l1")


def binary_cross_entropy(probability: TensorLike, target: TensorLike) -> Tensor:
    """Mean of -[t max(log h, -100) + (1 - t) max(log(1 - h), -100)], as PyTorch.

    dL/dh_i = g * (h_i - t_i) / max(h_i (1 - h_i), float32(1e-12)) / n,   dL/dt_i = -g * logit(h_i) / n.
    """
    return F.BINARY_CROSS_ENTROPY.on_tensors(probability, target, "mean", "binary_cross_entropy")


def binary_cross_entropy_with_logits(logit: TensorLike, target: TensorLike) -> Tensor:
    """Mean of log(1 + e^z) - t z, computed stably (binary cross-entropy of sigmoid(z)).

    dL/dz_i = g * (sigmoid(z_i) - t_i) / n,   dL/dt_i = -g * z_i / n.
    """
    return F.BINARY_CROSS_ENTROPY_WITH_LOGITS.on_tensors(logit, target, "mean",
                                                         "binary_cross_entropy_with_logits")


def hinge(score: TensorLike, target: TensorLike) -> Tensor:
    """Mean of max(0, 1 - y_i s_i) for labels y_i in {-1, +1} (which get no gradient).

    dL/ds_i = -g * y_i / n where 1 - y_i s_i > 0, else 0.
    """
    return F.HINGE.on_tensors(score, target, "mean", "hinge")


def cross_entropy(logits: TensorLike, target: Any) -> Tensor:
    """Mean over samples of -sum_c t_c log softmax(z)_c, one fused node (see `nn.functional.cross_entropy`).

    dL/dz = g * (softmax(z) - t) / n,   dL/dt = -g * log_softmax(z) / n (probability targets).
    """
    return F.CROSS_ENTROPY.on_tensors(logits, target, "mean", "cross_entropy")


__all__ = ["mse", "sse", "l1", "binary_cross_entropy", "binary_cross_entropy_with_logits",
           "cross_entropy", "hinge"]
