"""`diagnose`: is this network learning, and if not, where does the gradient stop?

``nn.diagnose(model, X, y, loss_fn, lr=0.1)`` runs one forward and backward pass on the batch
(X, y), leaves every parameter's ``.grad`` as it found it, and returns a `DiagnosisReport`:
per layer

- ``grad_norm``: ‖dL/dW‖, the Frobenius norm of the gradient of the layer's weights (its
  bias is left out, so that the number is the one a gradient-flow plot shows);
- ``update_ratio``: lr·‖dL/dW‖ / ‖W‖, how far one SGD step of that learning rate moves the
  weights relative to their size (about 1e-3 is the usual healthy value);
- ``dead``: the fraction of the layer's ReLU units whose output is 0 for every sample of
  the batch (a unit like that passes no gradient back, and nothing brings it back);
- ``saturated``: the fraction of tanh/sigmoid units saturated on every sample of the batch
  (|tanh| > 0.99, sigmoid < 0.01 or > 0.99: the local derivative is below 0.02 and 0.01),
  and ``saturated_activations``, the fraction of (unit, sample) pairs that are;
- ``flags``: "vanishing", "exploding", "small update", "large update", "dead ReLUs",
  "saturated", each against a threshold in `THRESHOLDS` (stated in the report).

A report prints as a text table (``print(report)``) and shows as an HTML table in Jupyter.
``fit(..., diagnostics=True)`` stores one per epoch in ``History.diagnostics``;
``viz.plot_gradient_flow`` draws them.

Layers: a `Linear` (on its own, or inside a `Sequential`/`TensorMLP`, nested Sequentials
flattened), the activation module right after it giving its units' statistics; a scalar
`MLP`'s `Layer`s (their own activation); any other module's parameters grouped by the
module that owns them (no unit statistics).
"""

from __future__ import annotations

import html
import math
import numbers
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping, Optional, Sequence

import numpy as np

from nn.module import Module

# The thresholds of the flags; `diagnose(thresholds={...})` overrides any of them.
THRESHOLDS: dict[str, float] = {
    "vanishing": 1e-6,            # ‖dL/dW‖ below this ...
    "vanishing_relative": 1e-3,   # ... or below this times the largest layer's ‖dL/dW‖
    "exploding": 1e3,             # ‖dL/dW‖ above this (or not finite)
    "small_update": 1e-5,         # lr·‖dL/dW‖/‖W‖ below this: the layer barely learns
    "large_update": 1e-1,         # ... above this: one step changes the weights by > 10 %
    "dead": 0.5,                  # at least this fraction of the ReLU units dead
    "saturated": 0.5,             # at least this fraction of tanh/sigmoid units saturated
    "tanh_saturation": 0.99,      # |tanh| above this is saturated (1 - 0.99^2 < 0.02)
    "sigmoid_saturation": 0.01,   # sigmoid below this or above 1 - this is saturated
}

SATURATING = ("tanh", "sigmoid")


# -- the layers of a model -----------------------------------------------------------------------

@dataclass
class LayerParameters:
    """One layer of a model as `diagnose` and the training plots see it: its name (the
    parameters' common prefix, e.g. ``layers.0``), its weights and biases, and the name of the
    activation applied to its outputs ("" when unknown or none)."""

    name: str
    weights: list[Any]
    biases: list[Any] = field(default_factory=list)
    activation: str = ""

    @property
    def parameters(self) -> list[Any]:
        """Weights then biases."""
        return self.weights + self.biases


def _scalar_group(name: str) -> tuple[str, bool]:
    """(layer name, is a bias) of a scalar parameter name such as ``layers.0.neurons.1.w.2``."""
    head, _, tail = name.partition(".neurons.")
    if tail:
        return head, tail.split(".")[1] == "b"
    prefix, _, last = name.rpartition(".")
    while last.isdigit() and prefix:  # w.2 -> w
        prefix, _, last = prefix.rpartition(".")
    return prefix or name, last in ("b", "bias")


def _activation_name(module: Any) -> str:
    """The op name of an activation module ("relu", "tanh", ...), "" for anything else."""
    from nn.layers import Activation, Identity, Softmax

    if isinstance(module, Activation):
        return module.name
    if isinstance(module, Softmax):
        return "softmax"
    if isinstance(module, Identity):
        return "identity"
    return ""


def _flat_modules(model: Any, prefix: str) -> Iterator[tuple[str, Any]]:
    from nn.layers import Sequential

    for index, module in enumerate(model.layers):
        name = f"{prefix}layers.{index}"
        if isinstance(module, Sequential):
            yield from _flat_modules(module, name + ".")
        else:
            yield name, module


def model_layers(model: Module) -> list[LayerParameters]:
    """The layers of `model`, in forward order (see the module notes for what a layer is).

    >>> from nn import TensorMLP
    >>> [(layer.name, layer.activation) for layer in model_layers(TensorMLP([2, 3, 1], "tanh"))]
    [('layers.0', 'tanh'), ('layers.2', '')]
    """
    from nn.layers import Linear, Sequential
    from nn.scalar.modules import MLP, Layer, Neuron

    if isinstance(model, Linear):
        return [LayerParameters("linear", [model.weight], [model.bias] if model.bias is not None else [])]
    if isinstance(model, Sequential):
        layers: list[LayerParameters] = []
        for name, module in _flat_modules(model, ""):
            if isinstance(module, Linear):
                layers.append(LayerParameters(name, [module.weight],
                                              [module.bias] if module.bias is not None else []))
            elif layers and not layers[-1].activation and _activation_name(module):
                layers[-1].activation = _activation_name(module)
            elif module.parameters():
                layers.append(LayerParameters(name, module.parameters()))
        return layers
    if isinstance(model, MLP):
        return [LayerParameters(f"layers.{i}", [w for n in layer.neurons for w in n.w],
                                [n.b for n in layer.neurons], _scalar_activation_name(layer.activation))
                for i, layer in enumerate(model.layers)]
    if isinstance(model, Layer):
        return [LayerParameters("layer", [w for n in model.neurons for w in n.w], [n.b for n in model.neurons],
                                _scalar_activation_name(model.activation))]
    if isinstance(model, Neuron):
        return [LayerParameters("neuron", list(model.w), [model.b], _scalar_activation_name(model.activation))]
    groups: dict[str, LayerParameters] = {}
    for name, parameter in model.named_parameters():
        group, is_bias = _scalar_group(name)
        layer = groups.setdefault(group, LayerParameters(group, []))
        (layer.biases if is_bias else layer.weights).append(parameter)
    return [layer if layer.weights else LayerParameters(layer.name, layer.biases) for layer in groups.values()]


def _scalar_activation_name(name: str) -> str:
    """"tanh" for "tanh", "leaky_relu" for "leaky_relu(0.1)", "" for the identity (None)."""
    if not name or name == "identity":
        return ""
    return name.split("(")[0].strip()


def parameter_values(parameters: Sequence[Any], attribute: str) -> Iterator[Any]:
    """``parameter.<attribute>`` (``"data"`` or ``"grad"``) of each parameter as an array or a
    number: None (no gradient yet) is skipped, and a graph gradient (a node, after
    ``backward(create_graph=True)``) gives its data.

    >>> from autograd_core import Value
    >>> a, b = Value(1.0), Value(2.0)
    >>> a.grad = 3.0
    >>> b.grad = None
    >>> list(parameter_values([a, b], "grad"))
    [3.0]
    """
    for parameter in parameters:
        value = getattr(parameter, attribute)
        if value is None:
            continue
        yield value if isinstance(value, (np.ndarray, numbers.Real)) else value.data


def _squared_norm(parameters: Sequence[Any], attribute: str) -> float:
    total = 0.0
    scalars = []
    for value in parameter_values(parameters, attribute):
        if isinstance(value, np.ndarray):
            total += float(np.sum(np.square(value, dtype=np.float64)))
        else:
            scalars.append(float(value))
    if scalars:
        total += float(np.sum(np.square(scalars)))
    return total


def gradient_norm(parameters: Sequence[Any]) -> float:
    """sqrt of the sum of every squared gradient element of `parameters` (None grads count 0).

    >>> from autograd_core import Value
    >>> a, b = Value(1.0), Value(2.0)
    >>> a.grad, b.grad = 3.0, 4.0
    >>> gradient_norm([a, b])
    5.0
    """
    return math.sqrt(_squared_norm(parameters, "grad"))


def weight_norm(parameters: Sequence[Any]) -> float:
    """sqrt of the sum of every squared element of the parameters' data."""
    return math.sqrt(_squared_norm(parameters, "data"))


def layer_gradient_norms(model: Module) -> dict[str, float]:
    """‖dL/dW‖ of each layer's weights from the gradients the parameters hold now.

    >>> from nn import Linear
    >>> layer = Linear(2, 1, seed=0)
    >>> layer.weight.grad = np.array([[3.0, 4.0]])
    >>> layer_gradient_norms(layer)
    {'linear': 5.0}
    """
    return {layer.name: gradient_norm(layer.weights) for layer in model_layers(model)}


# -- the report -------------------------------------------------------------------------------------

@dataclass
class LayerDiagnosis:
    """One row of a `DiagnosisReport` (see the module notes for each number)."""

    name: str
    shape: tuple[int, ...]
    activation: str
    grad_norm: float
    weight_norm: float
    update_ratio: Optional[float]
    dead: Optional[float] = None
    saturated: Optional[float] = None
    saturated_activations: Optional[float] = None
    flags: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The row as plain numbers and strings (JSON-ready)."""
        return {"name": self.name, "shape": list(self.shape), "activation": self.activation,
                "grad_norm": self.grad_norm, "weight_norm": self.weight_norm,
                "update_ratio": self.update_ratio, "dead": self.dead, "saturated": self.saturated,
                "saturated_activations": self.saturated_activations, "flags": list(self.flags)}


def _percent(x: Optional[float]) -> str:
    return "-" if x is None else f"{100 * x:.0f}%"


def _number(x: Optional[float]) -> str:
    return "-" if x is None else f"{x:.3g}"


@dataclass
class DiagnosisReport:
    """What `diagnose` found: ``layers`` (a `LayerDiagnosis` per layer, in forward order),
    the batch ``loss``, ``samples``, the ``lr`` of the update ratios and the ``thresholds``
    of the flags. ``str(report)`` is a text table; in Jupyter it shows as HTML.
    """

    layers: list[LayerDiagnosis]
    loss: float
    samples: int
    lr: Optional[float]
    thresholds: dict[str, float]

    @property
    def flags(self) -> dict[str, list[str]]:
        """The flags of every layer that has any, by layer name."""
        return {layer.name: list(layer.flags) for layer in self.layers if layer.flags}

    @property
    def healthy(self) -> bool:
        """True when no layer is flagged."""
        return not self.flags

    def __getitem__(self, name: str) -> LayerDiagnosis:
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(f"no layer {name!r}; layers: {', '.join(layer.name for layer in self.layers)}")

    def to_dict(self) -> dict[str, Any]:
        """The report as plain data (JSON-ready)."""
        return {"loss": self.loss, "samples": self.samples, "lr": self.lr,
                "thresholds": dict(self.thresholds), "layers": [layer.to_dict() for layer in self.layers]}

    def _rows(self) -> list[list[str]]:
        rows = [["layer", "shape", "activation", "‖dL/dW‖", "lr·‖dL/dW‖/‖W‖", "dead ReLU",
                 "saturated", "flags"]]
        for layer in self.layers:
            saturated = "-" if layer.saturated is None else (
                f"{_percent(layer.saturated)} / {_percent(layer.saturated_activations)}")
            rows.append([layer.name, "x".join(map(str, layer.shape)), layer.activation or "-",
                         _number(layer.grad_norm), _number(layer.update_ratio), _percent(layer.dead),
                         saturated, ", ".join(layer.flags) or "ok"])
        return rows

    def threshold_lines(self) -> list[str]:
        """The rules of the flags, one per line, with this report's thresholds."""
        t = self.thresholds
        return [
            f"vanishing: ‖dL/dW‖ < {t['vanishing']:g}, or < {t['vanishing_relative']:g} x the largest layer's",
            f"exploding: ‖dL/dW‖ > {t['exploding']:g}, or not finite",
            f"small / large update: lr·‖dL/dW‖/‖W‖ < {t['small_update']:g} / > {t['large_update']:g} "
            "(about 1e-3 is healthy)",
            f"dead ReLUs: >= {100 * t['dead']:.0f}% of the layer's ReLU units output 0 on every sample",
            f"saturated: >= {100 * t['saturated']:.0f}% of its tanh/sigmoid units saturated on every sample "
            f"(|tanh| > {t['tanh_saturation']:g}; sigmoid < {t['sigmoid_saturation']:g} or "
            f"> {1 - t['sigmoid_saturation']:g}); after the /: the share of (unit, sample) pairs saturated",
        ]

    def _header(self) -> str:
        lr = "no lr given (no update ratios)" if self.lr is None else f"lr {self.lr:g}"
        return f"diagnose: loss {self.loss:.6g} on {self.samples} samples, {lr}"

    def __str__(self) -> str:
        rows = self._rows()
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
        return "\n".join([self._header(), *lines, "thresholds:", *("  " + rule for rule in self.threshold_lines())])

    def __repr__(self) -> str:
        flagged = ", ".join(f"{name}: {'/'.join(flags)}" for name, flags in self.flags.items())
        return (f"<DiagnosisReport: {len(self.layers)} layers, loss {self.loss:.4g}, "
                f"{flagged or 'no flags'}>")

    def _repr_html_(self) -> str:
        rows = self._rows()
        head = "".join(f"<th>{html.escape(cell)}</th>" for cell in rows[0])
        body = []
        for layer, row in zip(self.layers, rows[1:]):
            style = ' style="background:#fdecea"' if layer.flags else ""
            body.append(f"<tr{style}>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>")
        return (f"<div><p><b>{html.escape(self._header())}</b></p><table><thead><tr>{head}</tr></thead>"
                f"<tbody>{''.join(body)}</tbody></table><p style=\"font-size:smaller\">thresholds: "
                f"{html.escape('; '.join(self.threshold_lines()))}</p></div>")


# -- running the batch -------------------------------------------------------------------------------

def _check_threshold_overrides(thresholds: Optional[Mapping[str, float]]) -> dict[str, float]:
    merged = dict(THRESHOLDS)
    for key, value in (thresholds or {}).items():
        if key not in THRESHOLDS:
            raise ValueError(f"diagnose: unknown threshold {key!r}; known: {', '.join(THRESHOLDS)}")
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0:
            raise ValueError(f"diagnose: threshold {key!r} must be a number >= 0, got {value!r}")
        merged[key] = float(value)
    return merged


def _tensor_forward(model: Module, X: np.ndarray, layers: list[LayerParameters]) -> tuple[Any, dict[str, np.ndarray]]:
    """The model's output Tensor, and each layer's post-activation outputs (n, units) by name."""
    from autograd_core.tensor import Tensor
    from nn.layers import Linear, Sequential

    dtype = next((p.data.dtype for p in model.parameters() if isinstance(p.data, np.ndarray)), np.float64)
    x = Tensor(X, dtype=dtype)
    outputs: dict[str, np.ndarray] = {}
    if not isinstance(model, Sequential):
        return model(x), outputs
    current = ""
    for name, module in _flat_modules(model, ""):
        x = module(x)
        if isinstance(module, Linear):
            current = name
        elif current and _activation_name(module):
            outputs[current] = np.asarray(x.data).reshape(len(X), -1)
            current = ""
    return x, outputs


def _scalar_forward(model: Any, X: np.ndarray, y: Any, loss_fn: Callable[..., Any]
                    ) -> tuple[Any, dict[str, np.ndarray]]:
    """The mean scalar loss over the samples and each MLP layer's outputs (n, units)."""
    from autograd_core.value import sum_values
    from nn.scalar.modules import MLP, _as_inputs

    per_layer: dict[str, list[list[float]]] = {}
    losses = []
    for row, target in zip(X, y):
        if isinstance(model, MLP):
            values = _as_inputs(list(map(float, row)), model.nin, "diagnose")
            for i, layer in enumerate(model.layers):
                values = layer.forward_values(values)
                per_layer.setdefault(f"layers.{i}", []).append([v.data for v in values])
            output = values[0] if len(values) == 1 else values
        else:
            output = model(list(map(float, row)))
        target = float(target) if np.ndim(target) == 0 else np.asarray(target).tolist()
        losses.append(loss_fn(output, target))
    loss = sum_values(losses) / len(losses)
    return loss, {name: np.asarray(rows) for name, rows in per_layer.items()}


def _is_scalar_model(model: Module) -> bool:
    from autograd_core.value import Value

    parameters = model.parameters()
    return bool(parameters) and isinstance(parameters[0], Value)


def _unit_statistics(activation: str, outputs: Optional[np.ndarray], t: Mapping[str, float]
                     ) -> tuple[Optional[float], Optional[float], Optional[float]]:
    """(dead, saturated units, saturated pairs) of one layer's (n, units) outputs."""
    if outputs is None or outputs.size == 0:
        return None, None, None
    if activation == "relu":
        return float(np.mean(np.all(outputs == 0.0, axis=0))), None, None
    if activation in SATURATING:
        if activation == "tanh":
            mask = np.abs(outputs) > t["tanh_saturation"]
        else:
            low = t["sigmoid_saturation"]
            mask = (outputs < low) | (outputs > 1.0 - low)
        return None, float(np.mean(np.all(mask, axis=0))), float(np.mean(mask))
    return None, None, None


def _shape(layer: LayerParameters) -> tuple[int, ...]:
    first = layer.weights[0] if layer.weights else None
    if first is not None and isinstance(first.data, np.ndarray):
        return tuple(first.data.shape)
    n_biases = len(layer.biases)
    if n_biases and len(layer.weights) % n_biases == 0:
        return (n_biases, len(layer.weights) // n_biases)
    return (len(layer.weights),)


def diagnose(model: Module, X: Any, y: Any, loss_fn: Callable[..., Any], *, lr: Optional[float] = None,
             optimizer: Any = None, thresholds: Optional[Mapping[str, float]] = None) -> DiagnosisReport:
    """One forward and backward pass on (X, y) and what it says about each layer.

    `model`: a tensor model (`Linear`, `Sequential`, `TensorMLP`, any tensor `Module`) or a
    scalar one (`MLP`, `Layer`, `Neuron`). The loss is ``loss_fn(model(Tensor(X)), y)`` for a
    tensor model and the mean over the samples of ``loss_fn(model(x_i), y_i)`` for a scalar
    one, as `fit` and `fit_scalar` compute them. `lr` (or the ``lr`` of `optimizer`) gives the
    update ratios; without either they are left out. `thresholds` overrides entries of
    `THRESHOLDS`. Every parameter's ``.grad`` is restored afterwards.

    >>> import numpy as np
    >>> from nn import Linear, ReLU, Sequential, functional as F
    >>> model = Sequential(Linear(2, 2), ReLU(), Linear(2, 1))
    >>> model[0].weight.data[:] = [[1, 0], [-1, -1]]; model[0].bias.data[:] = 0
    >>> model[2].weight.data[:] = [[2, 5]]; model[2].bias.data[:] = 0
    >>> X, y = np.array([[1.0, 2.0], [3.0, 1.0]]), np.array([[1.0], [0.0]])
    >>> report = diagnose(model, X, y, F.mse_loss, lr=0.01)
    >>> report.loss, report["layers.2"].grad_norm, report["layers.0"].dead
    (18.5, 19.0, 0.5)
    """
    if not isinstance(model, Module):
        raise TypeError(f"diagnose: model must be an nn Module (Linear, Sequential, TensorMLP, MLP, ...), "
                        f"got {type(model).__name__}")
    if lr is None and optimizer is not None:
        lr = getattr(optimizer, "lr", None)
    if lr is not None and (isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not lr > 0):
        raise ValueError(f"diagnose: lr must be a positive number, got {lr!r}")
    t = _check_threshold_overrides(thresholds)
    X = np.asarray(X, dtype=np.float64) if not hasattr(X, "dtype") else np.asarray(X)
    y_array = np.asarray(y)
    if X.ndim == 0 or len(X) == 0 or len(X) != len(y_array):
        raise ValueError(f"diagnose: X of shape {X.shape} and y of shape {y_array.shape} must hold the same "
                         "number (>= 1) of samples")
    layers = model_layers(model)
    if not layers:
        raise ValueError(f"diagnose: {type(model).__name__} has no parameters to diagnose")
    parameters = model.parameters()
    saved = [p.grad for p in parameters]
    scalar = _is_scalar_model(model)
    try:
        for p in parameters:
            p.grad = 0.0 if scalar else None
        if scalar:
            loss, outputs = _scalar_forward(model, X, y_array, loss_fn)
        else:
            out, outputs = _tensor_forward(model, X, layers)
            loss = loss_fn(out, y_array)
        loss_value = float(np.asarray(loss.data).reshape(-1)[0])
        loss.backward()
        norms = [gradient_norm(layer.weights) for layer in layers]
        weights = [weight_norm(layer.weights) for layer in layers]
    finally:
        for p, grad in zip(parameters, saved):
            p.grad = grad
    largest = max((n for n in norms if math.isfinite(n)), default=0.0)
    rows = []
    for layer, norm, w_norm in zip(layers, norms, weights):
        ratio = None if lr is None else (lr * norm / w_norm if w_norm > 0 else math.inf)
        dead, saturated, pairs = _unit_statistics(layer.activation, outputs.get(layer.name), t)
        flags = []
        if not math.isfinite(norm) or norm > t["exploding"]:
            flags.append("exploding")
        elif norm < t["vanishing"] or norm < t["vanishing_relative"] * largest:
            flags.append("vanishing")
        if ratio is not None and math.isfinite(norm):
            if ratio < t["small_update"]:
                flags.append("small update")
            elif ratio > t["large_update"]:
                flags.append("large update")
        if dead is not None and dead >= t["dead"]:
            flags.append("dead ReLUs")
        if saturated is not None and saturated >= t["saturated"]:
            flags.append("saturated")
        rows.append(LayerDiagnosis(layer.name, _shape(layer), layer.activation, norm, w_norm, ratio,
                                   dead, saturated, pairs, flags))
    return DiagnosisReport(rows, loss_value, len(X), None if lr is None else float(lr), t)


__all__ = ["diagnose", "DiagnosisReport", "LayerDiagnosis", "THRESHOLDS", "model_layers",
           "LayerParameters", "layer_gradient_norms", "gradient_norm", "weight_norm",
           "parameter_values"]
