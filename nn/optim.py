"""Gradient-descent optimizers with `torch.optim`'s exact update rules.

They read and write only ``.data`` and ``.grad``, so the same classes update `Value`
parameters (float data and grad) and tensor parameters (ndarray data and grad). A parameter
whose grad is None is skipped, and its optimizer state does not advance.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Iterable, Iterator

import numpy as np

from nn.module import Module, Parameter, clear_parameter_grad


def _hyperparameter(value: Any, name: str, optimizer: str, low: float, high: float = math.inf,
                    low_inclusive: bool = True) -> float:
    """`value` as a float, or a ValueError stating the allowed range."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{optimizer}: {name} must be a number, got {type(value).__name__}: {value!r}")
    value = float(value)
    above_low = value >= low if low_inclusive else value > low
    if not (above_low and value < high):
        interval = f"{'[' if low_inclusive else '('}{low:g}, {high:g})"
        raise ValueError(f"{optimizer}: {name} must be in {interval}, got {value!r}")
    return value


def _copy(x: Any) -> Any:
    """A snapshot of a float or an array (a gradient array may be changed later by its owner)."""
    return x.copy() if isinstance(x, np.ndarray) else x


def _describe(parameter: Any) -> str:
    """A parameter in an error message: its label, or its type and shape."""
    label = getattr(parameter, "label", "")
    shape = getattr(getattr(parameter, "data", None), "shape", None)
    kind = type(parameter).__name__ + (f" of shape {shape}" if shape is not None else "")
    return f"{label!r}, a {kind}" if label else f"a {kind}"


def _check_gradient(optimizer: str, index: int, parameter: Any, gradient: Any) -> None:
    """Refuse a ``.grad`` that would silently change the parameter's shape or type: an array
    grad on a scalar parameter, a grad of another shape, or anything that is not numbers."""
    data = parameter.data
    if isinstance(data, np.ndarray):
        if not isinstance(gradient, np.ndarray) or gradient.dtype.kind not in "biuf":
            raise TypeError(f"{optimizer}: parameter {index} ({_describe(parameter)}) has a .grad of "
                            f"type {type(gradient).__name__}"
                            f"{f' with dtype {gradient.dtype}' if isinstance(gradient, np.ndarray) else ''}; "
                            "it must be a float array of the parameter's shape")
        if gradient.shape != data.shape:
            raise ValueError(f"{optimizer}: parameter {index} ({_describe(parameter)}) has a .grad of "
                             f"shape {gradient.shape}; it must have the parameter's shape {data.shape}")
    elif isinstance(gradient, bool) or not isinstance(gradient, numbers.Real):
        raise TypeError(f"{optimizer}: parameter {index} ({_describe(parameter)}) is a number, but its "
                        f".grad is a {type(gradient).__name__}: {gradient!r:.60}; it must be a number")


def _sqrt(x: Any) -> Any:
    return np.sqrt(x) if isinstance(x, np.ndarray) else math.sqrt(x)


class Optimizer:
    """The base class of the optimizers: holds the parameters, `zero_grad` resets their
    gradients, and a subclass defines `step`.

    >>> class PlainGradientDescent(Optimizer):
    ...     def __init__(self, params, lr):
    ...         super().__init__(params)
    ...         self.lr = lr
    ...     def step(self):
    ...         for parameter in self.params:
    ...             if parameter.grad is not None:
    ...                 parameter.data = parameter.data - self.lr * parameter.grad

    `SGD` and `Adam` are the ready ones.
    """

    def __init__(self, params: Iterable[Parameter]) -> None:
        name = type(self).__name__
        if isinstance(params, Module):
            raise TypeError(f"{name} expects the parameters, e.g. {name}(model.parameters(), ...), not a module")
        try:
            self.params: list[Parameter] = list(params)
        except TypeError:
            raise TypeError(f"{name} expects an iterable of parameters, got {type(params).__name__}") from None
        if not self.params:
            raise ValueError(f"{name} got an empty parameter list")
        seen = set()
        for i, parameter in enumerate(self.params):
            if not (hasattr(parameter, "data") and hasattr(parameter, "grad")):
                raise TypeError(f"{name}: parameter {i} ({type(parameter).__name__}) has no .data and .grad")
            if getattr(parameter, "parents", ()):
                raise ValueError(f"{name}: parameter {i} ({_describe(parameter)}) is computed by "
                                 f"an operation ({parameter.op}), not a leaf: optimize the leaves it "
                                 "comes from (PyTorch refuses a non-leaf tensor too)")
            if id(parameter) in seen:
                raise ValueError(f"{name}: parameter {i} appears more than once; it would be updated twice")
            seen.add(id(parameter))

    def zero_grad(self) -> None:
        """Reset every parameter's gradient: a `Value`'s to 0.0, a tensor's to None."""
        for parameter in self.params:
            clear_parameter_grad(parameter)

    def step(self) -> None:
        """Update every parameter that has a gradient."""
        raise NotImplementedError(f"{type(self).__name__} does not define step()")

    def _gradients(self, weight_decay: float) -> Iterator[tuple[int, Parameter, Any]]:
        """(index, parameter, grad + weight_decay * data) for every parameter whose grad is not
        None (torch.optim skips those too); the L2 term is added as torch.optim adds it."""
        for i, parameter in enumerate(self.params):
            gradient = parameter.grad
            if gradient is None:
                continue
            data = parameter.data
            if not (type(gradient) is np.ndarray and type(data) is np.ndarray  # the usual case,
                    and gradient.shape == data.shape and gradient.dtype.kind == "f"):  # decided here
                _check_gradient(type(self).__name__, i, parameter, gradient)
            if weight_decay:
                gradient = gradient + weight_decay * data
            yield i, parameter, gradient


class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum and weight decay: torch.optim.SGD's
    update, for Value and Tensor parameters alike.

    >>> from autograd_core import Value
    >>> w = Value(1.0)
    >>> optimizer = SGD([w], lr=0.1)            # usually SGD(model.parameters(), lr=...)
    >>> loss = (w - 3) ** 2                     # dloss/dw = 2 (w - 3) = -4
    >>> optimizer.zero_grad(); loss.backward(); optimizer.step()
    >>> round(w.data, 4)                        # w - lr * dloss/dw
    1.4

    g = grad + weight_decay * p;  with momentum: buf = g at the first step, then
    buf = momentum * buf + g, and g = buf;  finally p = p - lr * g.
    """

    def __init__(self, params: Iterable[Parameter], lr: float, momentum: float = 0.0,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params)
        self.lr = _hyperparameter(lr, "lr", "SGD", 0.0)
        self.momentum = _hyperparameter(momentum, "momentum", "SGD", 0.0, 1.0)
        self.weight_decay = _hyperparameter(weight_decay, "weight_decay", "SGD", 0.0)
        self._momentum_buffers: list[Any] = [None] * len(self.params)

    def step(self) -> None:
        """Apply one SGD update to every parameter whose grad is not None."""
        lr, momentum = self.lr, self.momentum
        for i, parameter, gradient in self._gradients(self.weight_decay):
            if momentum:
                buffer = self._momentum_buffers[i]
                buffer = _copy(gradient) if buffer is None else momentum * buffer + gradient
                self._momentum_buffers[i] = gradient = buffer
            parameter.data = parameter.data - lr * gradient


class Adam(Optimizer):
    """Adam with bias correction: torch.optim.Adam's update (weight decay added to the gradient,
    not AdamW), for Value and Tensor parameters alike; a good default for small networks.

    >>> from autograd_core import Value
    >>> w = Value(1.0)
    >>> optimizer = Adam([w], lr=0.1)           # usually Adam(model.parameters(), lr=...)
    >>> loss = (w - 3) ** 2
    >>> optimizer.zero_grad(); loss.backward(); optimizer.step()
    >>> round(w.data, 4)                        # the first step moves about lr downhill
    1.1

    At step t: g = grad + weight_decay * p;  m = beta1 m + (1 - beta1) g;
    v = beta2 v + (1 - beta2) g^2;  p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps).
    """

    def __init__(self, params: Iterable[Parameter], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params)
        self.lr = _hyperparameter(lr, "lr", "Adam", 0.0)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"Adam: betas must be a pair (beta1, beta2), got {betas!r}")
        self.betas = (_hyperparameter(betas[0], "betas[0]", "Adam", 0.0, 1.0),
                      _hyperparameter(betas[1], "betas[1]", "Adam", 0.0, 1.0))
        # eps = 0 (which PyTorch allows) divides 0 by 0 wherever a gradient is 0.
        self.eps = _hyperparameter(eps, "eps", "Adam", 0.0, low_inclusive=False)
        self.weight_decay = _hyperparameter(weight_decay, "weight_decay", "Adam", 0.0)
        self._steps = [0] * len(self.params)
        self._first_moments: list[Any] = [0.0] * len(self.params)
        self._second_moments: list[Any] = [0.0] * len(self.params)

    def step(self) -> None:
        """Apply one Adam update to every parameter whose grad is not None."""
        beta1, beta2 = self.betas
        for i, parameter, gradient in self._gradients(self.weight_decay):
            self._steps[i] += 1
            step = self._steps[i]
            m = self._first_moments[i] = beta1 * self._first_moments[i] + (1.0 - beta1) * gradient
            v = self._second_moments[i] = beta2 * self._second_moments[i] + (1.0 - beta2) * gradient * gradient
            step_size = self.lr / (1.0 - beta1 ** step)
            denominator = _sqrt(v) / math.sqrt(1.0 - beta2 ** step) + self.eps
            parameter.data = parameter.data - step_size * m / denominator


__all__ = ["Optimizer", "SGD", "Adam"]
