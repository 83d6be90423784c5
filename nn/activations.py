"""Activation functions for scalar modules, looked up by name (seed-examples.md section 4)."""

from __future__ import annotations

import math
import re
from typing import Callable, Optional, Sequence

from autograd_core import ops
from autograd_core.value import Value, unary_on_values

ScalarActivation = Callable[[Value], Value]

# PyTorch's default slope, and Value.leaky_relu's; the lecture's max(0.1x, x) is Value.leaky_relu(0.1).
LEAKY_RELU_SLOPE = ops.LEAKY_RELU.parameters["negative_slope"]


def identity(x: Value) -> Value:
    """out = x, with no graph node added (dL/dx = dL/dout)."""
    return x


def activation_ops() -> dict[str, ops.Op]:
    """Every activation an nn module can use, by name: the declared activations of
    `autograd_core.ops` and any other one-input op declared with `define_op` (so an activation
    a user declares is usable by name at once: ``MLP(2, [4, 1], activation="softplus")``)."""
    table = dict(ops.ACTIVATIONS)
    table.update({name: op for name, op in ops.OPS.items()
                  if op.arity == 1 and name.isidentifier() and name not in ("neg", "exp", "log")})
    return table


def activation_names() -> tuple[str, ...]:
    """The names `parse_activation` accepts: "identity" and the one-input ops of the table."""
    return ("identity", *activation_ops())


# An activation with a parameter is written as a call: "leaky_relu(0.1)" is the lecture's
# max(0.1x, x), "elu(0.5)" an ELU with alpha 0.5. The bare name uses the default.
_CALL = re.compile(r"^\s*([a-z_]+)\s*\(\s*([^()]*?)\s*\)\s*$")


def parse_activation(name: str, valid: Sequence[str]) -> tuple[str, Optional[float]]:
    """Split an activation name into (base name, parameter or None), checking both.

    ``"tanh"`` -> ("tanh", None); ``"leaky_relu(0.1)"`` -> ("leaky_relu", 0.1). The base
    name must be one of `valid`; only an op declared with a parameter (leaky_relu's negative
    slope, elu's alpha) takes one, which must be a finite number.
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
    op = activation_ops().get(base)
    if op is None or not op.parameters:
        raise ValueError(f"activation {base!r} takes no parameter, got {name!r}")
    try:
        parameter = float(argument)
    except ValueError:
        raise ValueError(f"activation {name!r}: the parameter must be a number, got {argument!r}") from None
    if not math.isfinite(parameter):
        raise ValueError(f"activation {name!r}: the parameter must be finite")
    return base, parameter


def scalar_activation(name: str) -> ScalarActivation:
    """The function on Values called `name` (e.g. "tanh", "leaky_relu(0.1)"): the declared op,
    one graph node per call; a ValueError lists the valid names otherwise."""
    base, parameter = parse_activation(name, activation_names())
    if base == "identity":
        return identity
    return unary_on_values(_bound(base, parameter))


def _bound(base: str, parameter: Optional[float]) -> ops.Op:
    """The declared op `base` with its parameter (or its default) bound."""
    op = activation_ops()[base]
    if parameter is not None:
        return op.bind(**{next(iter(op.parameters)): parameter})
    return op.bind() if op.parameters else op


def bound_activation(name: str) -> ops.Op | None:
    """The declared op of an activation name, its parameter bound (None for "identity")."""
    base, parameter = parse_activation(name, activation_names())
    return None if base == "identity" else _bound(base, parameter)


# The scalar activations by name (for listing them; modules look names up in the op table).
SCALAR_ACTIVATIONS: dict[str, ScalarActivation] = {
    name: scalar_activation(name) for name in ("identity", *ops.ACTIVATIONS)}


__all__ = ["SCALAR_ACTIVATIONS", "LEAKY_RELU_SLOPE", "ScalarActivation", "scalar_activation",
           "parse_activation", "identity", "activation_ops", "activation_names", "bound_activation"]
