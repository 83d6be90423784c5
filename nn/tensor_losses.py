"""Loss functions on `Tensor`s, with the names, formulas and reductions of `nn.scalar_losses`.

`nn.losses` sends Tensor inputs here. Each loss is one graph node whose backward applies
the formula in its docstring, and matches PyTorch (mean reduction where PyTorch means;
``sse`` and ``l1`` sum, as the lecture defines them). The target gets a gradient too when
it is a Tensor that requires one (except for class labels and hinge's +-1 labels).

Prediction and target must have exactly the same shape: no broadcasting, because an (n, 1)
prediction against an (n,) target would silently compare every sample with every other.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from autograd_core import kernels
from autograd_core.tensor import Tensor

TensorLike = Any  # a Tensor, or anything numpy turns into a float array


def _as_tensor(x: TensorLike, dtype: np.dtype, loss: str, role: str) -> Tensor:
    if isinstance(x, Tensor):
        return x
    try:
        return Tensor(x, dtype=dtype)
    except (TypeError, ValueError) as error:
        raise type(error)(f"{loss}: {role} must be a Tensor or an array of numbers: {error}") from None


def _check_finite(array: np.ndarray, loss: str, role: str) -> None:
    if not np.isfinite(array).all():
        raise ValueError(f"{loss}: {role} contains nan or inf; losses need finite numbers")


def _pair(prediction: TensorLike, target: TensorLike, loss: str) -> tuple[Tensor, Tensor]:
    """Both operands as Tensors of one dtype and one shape, with finite values."""
    dtype = (prediction.dtype if isinstance(prediction, Tensor)
             else target.dtype if isinstance(target, Tensor) else np.dtype(np.float64))
    p = _as_tensor(prediction, dtype, loss, "prediction")
    t = _as_tensor(target, dtype, loss, "target")
    if p.dtype != t.dtype:
        raise TypeError(f"{loss}: prediction has dtype {p.dtype} but target has dtype {t.dtype}")
    if p.shape != t.shape:
        hint = (" (reshape one of them: an (n, 1) against an (n,) would compare every pair)"
                if p.size == t.size else "")
        raise ValueError(f"{loss}: prediction has shape {p.shape} but target has shape {t.shape}; "
                         f"they must be equal{hint}")
    if p.size == 0:
        raise ValueError(f"{loss}: prediction and target are empty")
    _check_finite(p.data, loss, "prediction")
    _check_finite(t.data, loss, "target")
    return p, t


def _scalar(value: Any, like: np.ndarray) -> np.ndarray:
    """A 0-d array in `like`'s dtype: every loss is a one-element Tensor of its input's dtype."""
    return np.asarray(value, dtype=like.dtype)


# -- regression losses --------------------------------------------------------------------------

def mse(prediction: TensorLike, target: TensorLike) -> Tensor:
    """Mean squared error L = (1/n) sum_i (p_i - t_i)^2 over all n elements.

    dL/dp_i = g * 2 (p_i - t_i) / n,   dL/dt_i = -dL/dp_i   (g = upstream dL/dL).
    """
    p, t = _pair(prediction, target, "mse")
    residual = p.data - t.data
    n = residual.size

    def backward(g: np.ndarray) -> tuple:
        grad_p = g * (2.0 / n) * residual
        return grad_p, -grad_p
    return Tensor.from_op(_scalar(np.mean(residual * residual), residual), (p, t), "mse", backward)


def sse(prediction: TensorLike, target: TensorLike) -> Tensor:
    """Sum of squared errors L = sum_i (p_i - t_i)^2.

    dL/dp_i = g * 2 (p_i - t_i),   dL/dt_i = -dL/dp_i.
    """
    p, t = _pair(prediction, target, "sse")
    residual = p.data - t.data

    def backward(g: np.ndarray) -> tuple:
        grad_p = g * 2.0 * residual
        return grad_p, -grad_p
    return Tensor.from_op(_scalar(np.sum(residual * residual), residual), (p, t), "sse", backward)


def l1(prediction: TensorLike, target: TensorLike) -> Tensor:
    """Sum of absolute residuals L = sum_i |p_i - t_i| (the lecture's definition).

    dL/dp_i = g * sign(p_i - t_i) (0 where p_i = t_i, as PyTorch),   dL/dt_i = -dL/dp_i.
    """
    p, t = _pair(prediction, target, "l1")
    residual = p.data - t.data

    def backward(g: np.ndarray) -> tuple:
        grad_p = g * np.sign(residual)
        return grad_p, -grad_p
    return Tensor.from_op(_scalar(np.sum(np.abs(residual)), residual), (p, t), "l1", backward)


# -- binary classification -----------------------------------------------------------------------

def _check_unit_targets(t: np.ndarray, loss: str) -> None:
    if ((t < 0.0) | (t > 1.0)).any():
        raise ValueError(f"{loss}: targets must lie in [0, 1], got values from {t.min():g} to {t.max():g}")


# PyTorch's guards, which keep a saturated probability (a sigmoid output rounds to exactly 1
# for logits above ~37 in float64, ~17 in float32) from stopping training with an infinity.
LOG_FLOOR = -100.0  # each log in the loss is clamped from below at this value
# The gradient divides by max(h (1 - h), this): PyTorch's EPSILON, a C++ float 1e-12, which
# is 9.999999960041972e-13 (4e-9 below 1e-12, which shows in a float64 gradient).
BCE_EPSILON = float(np.float32(1e-12))


def binary_cross_entropy(probability: TensorLike, target: TensorLike) -> Tensor:
    """Mean of -[t max(log h, -100) + (1 - t) max(log(1 - h), -100)] for probabilities h and
    targets t in [0, 1], exactly as PyTorch's binary_cross_entropy (in the input's dtype).

    dL/dh_i = g * (h_i - t_i) / max(h_i (1 - h_i), eps) / n   (eps = float32(1e-12)),
    dL/dt_i = g * (log(1 - h_i) - log h_i) / n = -g * logit(h_i) / n.
    The clamps keep h = 0 or 1 finite: the loss term is then at most 100, and dL/dh is
    +-(1 - t) or t times 1e12 / n instead of infinite (0 where h = t). The target gradient
    is not clamped (as in PyTorch): at h = 0 or 1 it is infinite. For logits prefer
    `binary_cross_entropy_with_logits`, which is exact at every logit.
    """
    h, t = _pair(probability, target, "binary_cross_entropy")
    hd, td = h.data, t.data
    outside = (hd < 0.0) | (hd > 1.0)
    if outside.any():
        raise ValueError(f"binary_cross_entropy: probabilities must lie in [0, 1], got "
                         f"{float(hd[outside].flat[0])!r}; pass logits to "
                         "binary_cross_entropy_with_logits instead")
    _check_unit_targets(td, "binary_cross_entropy")
    with np.errstate(divide="ignore"):  # log(0) = -inf, clamped to -100 below
        log_h = np.maximum(np.log(hd), LOG_FLOOR)
        log_not_h = np.maximum(np.log1p(-hd), LOG_FLOOR)
    n = hd.size
    loss = np.mean((td - 1.0) * log_not_h - td * log_h)
    need_t = t.requires_grad

    def backward(g: np.ndarray) -> tuple:
        grad_h = g * (hd - td) / np.maximum((1.0 - hd) * hd, BCE_EPSILON) / n
        if not need_t:
            return grad_h, None
        with np.errstate(divide="ignore"):  # h = 1: h / (1 - h) = inf, as in PyTorch
            return grad_h, -g * np.log(hd / (1.0 - hd)) / n
    return Tensor.from_op(_scalar(loss, hd), (h, t), "binary_cross_entropy", backward)


def binary_cross_entropy_with_logits(logit: TensorLike, target: TensorLike) -> Tensor:
    """Mean of -[t log sigmoid(z) + (1 - t) log(1 - sigmoid(z))] for logits z, targets t in [0, 1].

    Per element that is max(z, 0) - t z + log(1 + e^-|z|), which never overflows, and
    dL/dz_i = g * (sigmoid(z_i) - t_i) / n,   dL/dt_i = -g * z_i / n.
    """
    z, t = _pair(logit, target, "binary_cross_entropy_with_logits")
    zd, td = z.data, t.data
    _check_unit_targets(td, "binary_cross_entropy_with_logits")
    n = zd.size
    loss = np.mean(np.maximum(zd, 0.0) - td * zd + np.log1p(np.exp(-np.abs(zd))))

    def backward(g: np.ndarray) -> tuple:
        probability = kernels.activation_forward("sigmoid", zd)
        return g * (probability - td) / n, -g * zd / n
    return Tensor.from_op(_scalar(loss, zd), (z, t), "binary_cross_entropy_with_logits", backward)


def hinge(score: TensorLike, target: TensorLike) -> Tensor:
    """Max-margin loss: mean of max(0, 1 - y_i s_i) for labels y_i in {-1, +1}.

    dL/ds_i = -g * y_i / n where 1 - y_i s_i > 0, else 0 (0 at the kink, like ReLU's
    derivative). The labels get no gradient.
    """
    s, y = _pair(score, target, "hinge")
    sd, yd = s.data, y.data
    bad = (yd != 1.0) & (yd != -1.0)
    if bad.any():
        raise ValueError(f"hinge: labels must be -1 or +1, got {float(yd[bad].flat[0])!r} "
                         "(for 0/1 labels pass 2 * y - 1)")
    margin = 1.0 - yd * sd
    active = margin > 0.0
    n = sd.size
    loss = np.mean(np.where(active, margin, 0.0))

    def backward(g: np.ndarray) -> tuple:
        return -g * yd * active / n, None
    return Tensor.from_op(_scalar(loss, sd), (s, y), "hinge", backward)


# -- multi-class classification -------------------------------------------------------------------

def _class_targets(target: Any, n: int, classes: int, dtype: np.dtype) -> tuple[np.ndarray, Tensor | None]:
    """(targets for the kernel, the target Tensor when it may need a gradient).

    Labels: integers of shape (n,) in [0, C). Probabilities: shape (n, C), rows summing to 1.
    """
    if isinstance(target, Tensor):
        if target.ndim != 2:
            raise TypeError(f"cross_entropy: class labels must be integers, but a Tensor holds "
                            f"floats (shape {target.shape}); pass the labels as an integer numpy "
                            f"array, or probabilities as a Tensor of shape ({n}, {classes})")
        if target.dtype != dtype:
            raise TypeError(f"cross_entropy: logits have dtype {dtype} but target has dtype {target.dtype}")
        return target.data, target
    if isinstance(target, (str, bytes)) or target is None:
        raise TypeError(f"cross_entropy: target must be class labels or probabilities, got "
                        f"{type(target).__name__}: {target!r}")
    array = target if type(target) is np.ndarray else np.asarray(target)
    if array.ndim <= 1:
        if array.dtype.kind not in "iu":
            raise TypeError(f"cross_entropy: class labels must be integers, got dtype {array.dtype}")
        labels = array.reshape(-1)
        if labels.shape[0] != n:
            raise ValueError(f"cross_entropy: {labels.shape[0]} labels for {n} rows of logits")
        # The kernel checks that every label lies in [0, C); its error is re-raised naming this loss.
        return labels, None
    if array.ndim != 2 or array.shape != (n, classes):
        raise ValueError(f"cross_entropy: target of shape {array.shape} fits neither labels ({n},) nor "
                         f"probabilities ({n}, {classes}) for logits of {n} rows and {classes} classes")
    if array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.number) \
            or np.issubdtype(array.dtype, np.complexfloating):
        raise TypeError(f"cross_entropy: probability targets must be real numbers, got {array.dtype}")
    return array.astype(dtype, copy=False), None


def cross_entropy(logits: TensorLike, target: Any) -> Tensor:
    """Mean over samples of -sum_c t_c log softmax(z)_c, for logits z of shape (n, C).

    `target`: integer labels of shape (n,) (numpy or a list), or class probabilities /
    one-hot rows of shape (n, C) (an array or a Tensor). One sample: logits (C,) with an
    int label or C probabilities. Computed by the fused, stable kernel
    ``softmax_cross_entropy`` as one graph node, with
    dL/dz = g * (softmax(z) - t) / n,   dL/dt = -g * log_softmax(z) / n (probability targets).
    """
    z = logits if isinstance(logits, Tensor) else _as_tensor(logits, np.dtype(np.float64),
                                                             "cross_entropy", "logits")
    single = z.ndim == 1
    if single:
        if isinstance(target, numbers.Integral) and not isinstance(target, bool):
            target = [target]
        elif isinstance(target, Tensor):
            target = target.reshape(1, -1)
        else:
            target = np.asarray(target)[np.newaxis] if np.ndim(target) == 1 else target
        z = z.reshape(1, -1)
    if z.ndim != 2 or z.size == 0:
        raise ValueError(f"cross_entropy: logits must have shape (n, C) (or (C,) for one sample) "
                         f"with n, C >= 1, got {z.shape}")
    _check_finite(z.data, "cross_entropy", "logits")
    n, classes = z.shape
    targets, target_tensor = _class_targets(target, n, classes, z.dtype)
    try:
        loss, probs = kernels.softmax_cross_entropy(z.data, targets)
    except (TypeError, ValueError) as error:  # e.g. probability rows that do not sum to 1
        raise type(error)(f"cross_entropy: {error}") from None
    logit_data = z.data
    has_target_parent = target_tensor is not None
    need_z, need_t = z.requires_grad, has_target_parent and target_tensor.requires_grad

    def backward(g: np.ndarray) -> tuple:
        upstream = float(g)
        grad_z = kernels.softmax_cross_entropy_backward(probs, targets, upstream) if need_z else None
        if not has_target_parent:
            return (grad_z,)
        return grad_z, kernels.log_softmax(logit_data, 1) * (-upstream / n) if need_t else None

    parents = (z, target_tensor) if has_target_parent else (z,)
    # backward respects need_t and the shapes (checked against torch in the tests), so the
    # per-pass check of from_op is skipped on this, the classifier's hot path.
    return Tensor.from_op(_scalar(loss, logit_data), parents, "cross_entropy", backward,
                          check_gradients=False)


__all__ = ["mse", "sse", "l1", "binary_cross_entropy", "binary_cross_entropy_with_logits",
           "cross_entropy", "hinge"]
