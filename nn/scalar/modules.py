"""micrograd-style networks on `Value`s: `Neuron`, `Layer` and `MLP`.

Weights are drawn uniform(-1, 1) from a seeded numpy Generator (same seed, same weights) and
biases start at 0, as in micrograd. Parameter names (and labels) look like
``layers.0.neurons.1.w.2`` and ``layers.0.neurons.1.b``.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Sequence, Union

import numpy as np

from autograd_core.value import Value
from nn.activations import scalar_activation
from nn.module import Module

Seed = Union[int, np.random.Generator, None]
Inputs = Sequence[Union[float, Value]]


def _generator(seed: Seed) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or (isinstance(seed, numbers.Integral) and not isinstance(seed, bool)):
        return np.random.default_rng(seed)
    raise TypeError(f"seed must be None, an int or a numpy Generator, got {type(seed).__name__}: {seed!r}")


def _check_size(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{what} must be a positive int, got {value!r}")
    return int(value)


def _input_leaf(x: Any, index: int, who: str) -> Value:
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{who} input {index} must be a float or a Value, got {type(x).__name__}: {x!r}")
    if not math.isfinite(x):
        raise ValueError(f"{who} input {index} is {x!r}; inputs must be finite")
    return Value(float(x), f"x[{index}]")


def _as_inputs(x: Any, expected: int, who: str) -> list[Value]:
    """The inputs as Values (numbers become leaves labelled x[i]), checked against `expected`."""
    if isinstance(x, (Value, numbers.Number, str, bytes)):
        raise TypeError(f"{who} expects a list of {expected} inputs (floats or Values), "
                        f"got a single {type(x).__name__}")
    try:
        items = list(x)
    except TypeError:
        raise TypeError(f"{who} expects a list of {expected} inputs (floats or Values), "
                        f"got {type(x).__name__}") from None
    if len(items) != expected:
        raise ValueError(f"{who} expects {expected} inputs, got {len(items)}")
    return [item if isinstance(item, Value) else _input_leaf(item, i, who) for i, item in enumerate(items)]


class Neuron(Module):
    """One neuron on Values, the unit of micrograd-style networks:
    out = activation(b + w_0 x_0 + ... + w_{n-1} x_{n-1}).

    >>> neuron = Neuron(2, activation="tanh", seed=0)
    >>> out = neuron([1.0, 2.0])
    >>> out.backward()
    >>> [round(w.grad, 4) for w in neuron.w]   # dout/dw_i = (1 - out^2) x_i
    [0.6756, 1.3511]

    Weights are drawn uniform(-1, 1) from `seed`, the bias starts at 0. Built from ``*`` and
    ``+`` nodes, summed left to right from the bias (as micrograd does), so backward applies
    dL/dw_i = dL/dsum * x_i, dL/dx_i = dL/dsum * w_i, dL/db = dL/dsum.
    """

    def __init__(self, nin: int, activation: str = "tanh", seed: Seed = None) -> None:
        self.nin = _check_size(nin, "Neuron nin")
        self.activation = activation
        self._activate = scalar_activation(activation)
        self.w = [Value(float(weight)) for weight in _generator(seed).uniform(-1.0, 1.0, self.nin)]
        self.b = Value(0.0)

    def __call__(self, x: Inputs) -> Value:
        """The neuron's output for the `nin` inputs `x` (floats or Values)."""
        return self.forward_values(_as_inputs(x, self.nin, "Neuron"))

    def forward_values(self, x: list[Value]) -> Value:
        """The output for inputs that are already a checked list of `nin` Values."""
        total = self.b
        for weight, xi in zip(self.w, x):
            total = total + weight * xi
        return self._activate(total)

    def config(self) -> dict[str, Any]:
        """The constructor arguments (without the seed: loading replaces the weights)."""
        return {"nin": self.nin, "activation": self.activation}

    def __repr__(self) -> str:
        return f"Neuron(nin={self.nin}, activation={self.activation!r})"


class Layer(Module):
    """A layer of `nout` neurons on Values that share the same `nin` inputs.

    >>> layer = Layer(2, 3, seed=0)
    >>> len(layer([1.0, 2.0]))                  # one output Value per neuron
    3

    Calling a layer returns a Value when it has one neuron, else a list of Values.
    """

    def __init__(self, nin: int, nout: int, activation: str = "tanh", seed: Seed = None) -> None:
        self.nin = _check_size(nin, "Layer nin")
        self.nout = _check_size(nout, "Layer nout")
        self.activation = activation
        rng = _generator(seed)
        self.neurons = [Neuron(self.nin, activation, seed=rng) for _ in range(self.nout)]

    def __call__(self, x: Inputs) -> Union[Value, list[Value]]:
        """The outputs of every neuron for the `nin` inputs `x` (floats or Values)."""
        outputs = self.forward_values(_as_inputs(x, self.nin, "Layer"))
        return outputs[0] if len(outputs) == 1 else outputs

    def forward_values(self, x: list[Value]) -> list[Value]:
        """Every neuron's output for inputs that are already a checked list of `nin` Values."""
        return [neuron.forward_values(x) for neuron in self.neurons]

    def config(self) -> dict[str, Any]:
        """The constructor arguments (without the seed: loading replaces the weights)."""
        return {"nin": self.nin, "nout": self.nout, "activation": self.activation}

    def __repr__(self) -> str:
        return f"Layer(nin={self.nin}, nout={self.nout}, activation={self.activation!r})"


class MLP(Module):
    """A multilayer perceptron on Values, micrograd style: small enough to draw every node and
    step through its backward pass.

    >>> model = MLP(2, [4, 1], activation="tanh", seed=0)
    >>> y = model([1.0, -1.0])                  # one Value: the last layer has one unit
    >>> y.backward()                            # every weight's .grad is now dy/dweight
    >>> len(model.parameters())
    17

    Hidden layers use `activation`; the last layer uses `output_activation` (None: identity,
    a linear output as in micrograd). ``model(x)`` returns a Value when the last layer has
    one unit, else a list of Values. Train it with `nn.fit_scalar`.
    """

    def __init__(self, nin: int, nouts: Sequence[int], activation: str = "tanh",
                 output_activation: str | None = None, seed: Seed = 0) -> None:
        self.nin = _check_size(nin, "MLP nin")
        if isinstance(nouts, (str, bytes)) or not isinstance(nouts, Sequence) or not nouts:
            raise ValueError(f"MLP nouts must be a non-empty list of layer sizes, got {nouts!r}")
        self.nouts = [_check_size(size, f"MLP layer size nouts[{i}]") for i, size in enumerate(nouts)]
        scalar_activation(activation)  # checked even when there is no hidden layer to use it
        self.activation = activation
        self.output_activation = output_activation
        sizes = [self.nin, *self.nouts]
        activations = [activation] * (len(self.nouts) - 1) + [output_activation or "identity"]
        rng = _generator(seed)
        self.layers = [Layer(sizes[i], sizes[i + 1], activations[i], seed=rng) for i in range(len(self.nouts))]

    def __call__(self, x: Inputs) -> Union[Value, list[Value]]:
        """The network's output for the `nin` inputs `x` (floats or Values)."""
        values = _as_inputs(x, self.nin, "MLP")
        for layer in self.layers:
            values = layer.forward_values(values)
        return values[0] if len(values) == 1 else values

    def config(self) -> dict[str, Any]:
        """The constructor arguments (without the seed: loading replaces the weights)."""
        return {"nin": self.nin, "nouts": list(self.nouts), "activation": self.activation,
                "output_activation": self.output_activation}

    def __repr__(self) -> str:
        return (f"MLP({self.nin}, {self.nouts}, activation={self.activation!r}, "
                f"output_activation={self.output_activation!r})")


__all__ = ["Neuron", "Layer", "MLP"]
