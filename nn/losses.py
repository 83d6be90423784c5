"""The lecture's loss names, kept for existing code: ``nn.losses.mse``, ``.sse``, ``.l1``,
``.binary_cross_entropy``, ``.binary_cross_entropy_with_logits``, ``.cross_entropy``, ``.hinge``.

Each is its `nn.functional` loss with the lecture's reduction: the mean, except `sse` and
`l1`, which are sums (PyTorch's ``l1_loss``, ``nn.functional.l1_loss``, is the mean). Like
the functional ones, they take Tensors (either operand a Tensor) or the scalar side's Values
and lists of Values. New code: ``from nn import functional as F``.
"""

from __future__ import annotations

from typing import Any

from nn import functional as F
from nn.functional import LossResult, Operand


def mse(prediction: Operand, target: Operand) -> LossResult:
    """Mean squared error: L = (1/n) sum_i (p_i - t_i)^2.   dL/dp_i = 2 (p_i - t_i) / n."""
    return F.SQUARED_ERROR.apply(prediction, target, "mean", "mse")


def sse(prediction: Operand, target: Operand) -> LossResult:
    """Sum of squared errors: L = sum_i (p_i - t_i)^2.   dL/dp_i = 2 (p_i - t_i)."""
    return F.SQUARED_ERROR.apply(prediction, target, "sum", "sse")


def l1(prediction: Operand, target: Operand) -> LossResult:
    """Sum of absolute residuals: L = sum_i |p_i - t_i|.   dL/dp_i = sign(p_i - t_i) (0 at 0)."""
    return F.ABSOLUTE_ERROR.apply(prediction, target, "sum", "l1")


def binary_cross_entropy(probability: Operand, target: Operand) -> LossResult:
    """Mean of -[t log h + (1 - t) log(1 - h)] for probabilities h, each log clamped at -100.

    dL/dh_i = (h_i - t_i) / max(h_i (1 - h_i), float32(1e-12)) / n.
    """
    return F.BINARY_CROSS_ENTROPY.apply(probability, target, "mean", "binary_cross_entropy")


def binary_cross_entropy_with_logits(logit: Operand, target: Operand) -> LossResult:
    """Mean of log(1 + e^z) - t z (binary cross-entropy of sigmoid(z)), computed stably.

    dL/dz_i = (sigmoid(z_i) - t_i) / n.
    """
    return F.BINARY_CROSS_ENTROPY_WITH_LOGITS.apply(logit, target, "mean",
                                                    "binary_cross_entropy_with_logits")


def cross_entropy(logits: Any, target: Any) -> LossResult:
    """L = -sum_k t_k log softmax(z)_k (mean over a batch); target: class index or probabilities.

    dL/dz_k = softmax(z)_k - t_k for a target distribution t.
    """
    return F.CROSS_ENTROPY.apply(logits, target, "mean", "cross_entropy")


def hinge(score: Operand, target: Operand) -> LossResult:
    """Mean of max(0, 1 - y_i s_i) for labels y_i in {-1, +1}.   dL/ds_i = -y_i / n where 1 - y_i s_i > 0."""
    return F.HINGE.apply(score, target, "mean", "hinge")


__all__ = ["mse", "sse", "l1", "binary_cross_entropy", "binary_cross_entropy_with_logits",
           "cross_entropy", "hinge"]
