"""Activation functions for scalar modules, looked up by name (seed-examples.md section 4)."""

from __future__ import annotations

import math
import re
from typing import Callable, Optional, Sequence

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


# The activations that take a parameter, written as a call: "leaky_relu(0.1)" is the lecture's
# max(0.1x, x), "elu(0.5)" an ELU with alpha 0.5. The bare name uses the default.
PARAMETRIZED_ACTIVATIONS = ("leaky_relu", "elu")
_CALL = re.compile(r"^\s*([a-z_]+)\s*\(\s*([^()]*?)\s*\)\s*$")


def parse_activation(name: str, valid: Sequence[str]) -> tuple[str, Optional[float]]:
    """Split an activation name into (base name, parameter or None), checking both.

    ``"tanh"`` -> ("tanh", None); ``"leaky_relu(0.1)"`` -> ("leaky_relu", 0.1). The base
    name must be one of `valid`; only leaky_relu (its negative slope) and elu (its alpha)
    take a parameter, which must be a finite number.
    """
    if not isinstance(name, str):
        raise TypeError(f"activation must be a name (str), got {type(name).__name__}: {name!r}")
    call = _CALL.match(name)
    base, argument = (call.group(1), call.group(2)) if call else (name, None)
    if base not in valid:
        raise ValueError(f"unknown activation {name!r}; valid activations: {', '.join(valid)} "
                         f"(with a parameter: leaky_relu(0.1), elu(0.5))")
    if argument is None:
        return base, None
    if base not in PARAMETRIZED_ACTIVATIONS:
        raise ValueError(f"activation {base!r} takes no parameter, got {name!r}")
    try:
        parameter = float(argument)
    except ValueError:
        raise ValueError(f"activation {name!r}: the parameter must be a number, got {argument!r}") from None
    if not math.isfinite(parameter):
        raise ValueError(f"activation {name!r}: the parameter must be finite")
    return base, parameter


def scalar_activation(name: str) -> ScalarActivation:
    """The function on Values called `name` (e.g. "tanh", "leaky_relu(0.1)"); a ValueError
    lists the valid names otherwise."""
    base, parameter = parse_activation(name, tuple(SCALAR_ACTIVATIONS))
    if parameter is None:
        return SCALAR_ACTIVATIONS[base]
    if base == "leaky_relu":
        return lambda x: x.leaky_relu(parameter)
    return lambda x: x.elu(parameter)


__all__ = ["SCALAR_ACTIVATIONS", "LEAKY_RELU_SLOPE", "ScalarActivation", "scalar_activation",
           "parse_activation", "identity", "leaky_relu", "elu"]
