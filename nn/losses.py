"""The public loss functions. Each one dispatches on its inputs' type: `autograd_core.Tensor`
inputs go to `nn.tensor_losses`, everything else (Values, lists of them, numbers) to
`nn.scalar_losses`. Both implement the same formulas, with the same reductions.
"""

from __future__ import annotations

from typing import Any, Callable

import autograd_core
from nn import scalar_losses


def _implementation(name: str, *operands: Any) -> Callable[..., Any]:
    """The scalar or the tensor version of loss `name`, chosen by the operands' types."""
    tensor_type = getattr(autograd_core, "Tensor", None)
    if tensor_type is None or not any(isinstance(x, tensor_type) for x in operands):
        return getattr(scalar_losses, name)
    # Imported here: the tensor losses are optional for scalar users and import the tensor engine.
    try:
        from nn import tensor_losses
    except ImportError as error:
        raise NotImplementedError(f"{name}: Tensor inputs need nn.tensor_losses, which cannot be "
                                  f"imported ({error})") from error
    try:
        return getattr(tensor_losses, name)
    except AttributeError:
        raise NotImplementedError(f"{name}: nn.tensor_losses has no {name} for Tensor inputs") from None


def mse(prediction: Any, target: Any) -> Any:
    """Mean squared error: L = (1/n) sum_i (p_i - t_i)^2.   dL/dp_i = 2 (p_i - t_i) / n."""
    return _implementation("mse", prediction, target)(prediction, target)


def sse(prediction: Any, target: Any) -> Any:
    """Sum of squared errors: L = sum_i (p_i - t_i)^2.   dL/dp_i = 2 (p_i - t_i)."""
    return _implementation("sse", prediction, target)(prediction, target)


def l1(prediction: Any, target: Any) -> Any:
    """Sum of absolute residuals: L = sum_i |p_i - t_i|.   dL/dp_i = sign(p_i - t_i)."""
    return _implementation("l1", prediction, target)(prediction, target)


def binary_cross_entropy(probability: Any, target: Any) -> Any:
    """Mean of -[t log h + (1 - t) log(1 - h)] for probabilities h in (0, 1).

    dL/dh_i = (h_i - t_i) / (h_i (1 - h_i)) / n.
    """
    return _implementation("binary_cross_entropy", probability, target)(probability, target)


def binary_cross_entropy_with_logits(logit: Any, target: Any) -> Any:
    """Mean of log(1 + e^z) - t z (binary cross-entropy of sigmoid(z)), computed stably.

    dL/dz_i = (sigmoid(z_i) - t_i) / n.
    """
    return _implementation("binary_cross_entropy_with_logits", logit, target)(logit, target)


def cross_entropy(logits: Any, target: Any) -> Any:
    """L = -sum_k t_k log softmax(z)_k (mean over a batch); target: class index or probabilities.

    dL/dz_k = softmax(z)_k - t_k for a target distribution t.
    """
    return _implementation("cross_entropy", logits, target)(logits, target)


def hinge(score: Any, target: Any) -> Any:
    """Mean of max(0, 1 - y_i s_i) for labels y_i in {-1, +1}.   dL/ds_i = -y_i / n where 1 - y_i s_i > 0."""
    return _implementation("hinge", score, target)(score, target)


__all__ = ["mse", "sse", "l1", "binary_cross_entropy", "binary_cross_entropy_with_logits",
           "cross_entropy", "hinge"]
