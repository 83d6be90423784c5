"""The lecture's losses on `Value`s (seed-examples.md section 4), for the scalar networks.

An input and its target are both single numbers/Values or both equal-length lists of them
(cross_entropy: a list of logits with a class index or a list of probabilities, or a batch
of those). Each loss is the scalar side of its declaration in `nn.functional`: one Value
node per element, whose local derivatives are the declared formulas (so they equal
PyTorch's, the edges included), reduced with ``+`` and ``/ n`` nodes. Same names and
reductions as `nn.losses`; this module never builds Tensors, whatever it is given.
"""

from __future__ import annotations

from typing import Any, Union

from autograd_core.value import Value
from nn import functional as F
from nn.functional import ValueOrList

Loss = Union[Value, list[Value]]


def mse(prediction: ValueOrList, target: ValueOrList) -> Loss:
    """Mean squared error: L = (1/n) sum_i (p_i - t_i)^2.   dL/dp_i = 2 (p_i - t_i) / n."""
    return F.SQUARED_ERROR.on_values(prediction, target, "mean", "mse")


def sse(prediction: ValueOrList, target: ValueOrList) -> Loss:
    """Sum of squared errors: L = sum_i (p_i - t_i)^2.   dL/dp_i = 2 (p_i - t_i)."""
    return F.SQUARED_ERROR.on_values(prediction, target, "sum", "sse")


def l1(prediction: ValueOrList, target: ValueOrList) -> Loss:
    """The lecture's L1, a sum: L = sum_i |p_i - t_i|.   dL/dp_i = sign(p_i - t_i) (0 at 0).

    (PyTorch's l1_loss, ``nn.functional.l1_loss``, is the mean.)"""
    return F.ABSOLUTE_ERROR.on_values(prediction, target, "sum", "l1")


def binary_cross_entropy(probability: ValueOrList, target: ValueOrList) -> Loss:
    """Mean of -[t max(log h, -100) + (1 - t) max(log(1 - h), -100)], as PyTorch.

    dL/dh_i = (h_i - t_i) / max(h_i (1 - h_i), float32(1e-12)) / n: finite at h = 0 and 1.
    """
    return F.BINARY_CROSS_ENTROPY.on_values(probability, target, "mean", "binary_cross_entropy")


def binary_cross_entropy_with_logits(logit: ValueOrList, target: ValueOrList) -> Loss:
    """Mean of log(1 + e^z) - t z (binary cross-entropy of sigmoid(z)), exact at every z.

    dL/dz_i = (sigmoid(z_i) - t_i) / n.
    """
    return F.BINARY_CROSS_ENTROPY_WITH_LOGITS.on_values(logit, target, "mean",
                                                        "binary_cross_entropy_with_logits")


def cross_entropy(logits: Any, target: Any) -> Loss:
    """L = -sum_k t_k log softmax(z)_k; the mean over the samples of a batch.

    `target`: a class index or a list of probabilities. dL/dz_k = softmax(z)_k - t_k.
    """
    return F.CROSS_ENTROPY.on_values(logits, target, "mean", "cross_entropy")


def hinge(score: ValueOrList, target: ValueOrList) -> Loss:
    """Max-margin loss: mean of max(0, 1 - y_i s_i) for labels y_i in {-1, +1}.

    dL/ds_i = -y_i / n where 1 - y_i s_i > 0, else 0.
    """
    return F.HINGE.on_values(score, target, "mean", "hinge")


__all__ = ["mse", "sse", "l1", "binary_cross_entropy", "binary_cross_entropy_with_logits",
           "cross_entropy", "hinge"]
