"""Activation functions for scalar modules, looked up by name (seed-examples.md section 4)."""

from __future__ import annotations

from typing import Callable

from autograd_core.value import Value

ScalarActivation = Callable[[Value], Value]

# PyTorch's default slope, and Value.leaky_relu's; the lecture's max(0.1x, x) is Value.leaky_relu(0.1).
LEAKY_RELU_SLOPE = 0.01


def identity(x: Value) -> Value:
    """out = x, with no graph node added (dL/dx = dL/dout)."""
    return x


def leaky_relu(x: Value) -> Value:
    """out = x if x > 0 else 0.01*x.   dL/dx = dL/dout * (1 if x > 0 else 0.01)."""
    return x.leaky_relu(LEAKY_RELU_SLOPE)


def elu(x: Value) -> Value:
    """out = x if x > 0 else e^x - 1.   dL/dx = dL/dout * (1 if x > 0 else e^x)."""
    return x.elu(1.0)


SCALAR_ACTIVATIONS: dict[str, ScalarActivation] = {
    "identity": identity,
    "sigmoid": Value.sigmoid,
    "tanh": Value.tanh,
    "relu": Value.relu,
    "leaky_relu": leaky_relu,
    "elu": elu,
}


def scalar_activation(name: str) -> ScalarActivation:
    """The function on Values called `name`; a ValueError lists the valid names otherwise."""
    if not isinstance(name, str):
        raise TypeError(f"activation must be a name (str), got {type(name).__name__}: {name!r}")
    try:
        return SCALAR_ACTIVATIONS[name]
    except KeyError:
        valid = ", ".join(SCALAR_ACTIVATIONS)
        raise ValueError(f"unknown activation {name!r}; valid activations: {valid}") from None


__all__ = ["SCALAR_ACTIVATIONS", "LEAKY_RELU_SLOPE", "ScalarActivation", "scalar_activation",
           "identity", "leaky_relu", "elu"]
