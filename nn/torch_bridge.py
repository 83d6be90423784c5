"""Carry a model to PyTorch and back: `to_torch` and `from_torch`.

``nn.to_torch(model)`` returns a ``torch.nn.Module`` that computes the same function with the
same weights (copied, in the model's dtype): a `Linear` becomes ``torch.nn.Linear``, a
`Sequential` or `TensorMLP` a ``torch.nn.Sequential``, the activation modules their PyTorch
namesakes, and a scalar `MLP` (`Layer`, `Neuron`) a ``torch.nn.Sequential`` of Linear layers
and activations whose weight rows are the neurons' weights. ``nn.from_torch(module)`` does the
reverse for the same set (``scalar=True`` rebuilds a scalar `MLP` from a Sequential of Linear
layers and one hidden activation) and names every module it cannot convert.

Outputs and gradients agree with PyTorch's to about 1e-15 in float64 (only the order of the
sums in a matrix product differs). PyTorch is optional: it is imported when these functions
run, with an ImportError saying how to install it when it is missing.

>>> from nn import TensorMLP
>>> torch_model = to_torch(TensorMLP([2, 3, 1], activation="tanh"))   # doctest: +SKIP
>>> torch_model                                                         # doctest: +SKIP
Sequential(
  (0): Linear(in_features=2, out_features=3, bias=True)
  (1): Tanh()
  (2): Linear(in_features=3, out_features=1, bias=True)
)
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from nn.module import Module

CONVERTIBLE = ("Linear", "Sequential", "TensorMLP", "Identity", "ReLU", "Tanh", "Sigmoid", "LeakyReLU",
               "ELU", "Softmax", "scalar MLP", "Layer", "Neuron")


def _torch() -> Any:
    try:
        import torch
    except ImportError:
        raise ImportError("to_torch / from_torch need PyTorch, which chainrule itself does not need: "
                          "pip install torch (the CPU wheel: pip install torch --index-url "
                          "https://download.pytorch.org/whl/cpu)") from None
    return torch


def _torch_dtype(torch: Any, dtype: np.dtype) -> Any:
    if dtype == np.float64:
        return torch.float64
    if dtype == np.float32:
        return torch.float32
    raise TypeError(f"to_torch: unsupported dtype {dtype}")


# -- to PyTorch -----------------------------------------------------------------------------------

def _torch_linear(torch: Any, weight: np.ndarray, bias: Optional[np.ndarray]) -> Any:
    out_features, in_features = weight.shape
    dtype = _torch_dtype(torch, weight.dtype)
    # skip_init: no random initialisation, so converting leaves torch's random state alone.
    layer = torch.nn.utils.skip_init(torch.nn.Linear, in_features, out_features, bias=bias is not None,
                                     dtype=dtype)
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(np.array(weight)))
        if bias is not None:
            layer.bias.copy_(torch.from_numpy(np.array(bias)))
    return layer


def _torch_activation(torch: Any, name: str, parameter: Optional[float], where: str) -> Any:
    """The torch module of an activation name ("relu", "leaky_relu" with its slope, ...)."""
    if name == "identity":
        return torch.nn.Identity()
    if name == "relu":
        return torch.nn.ReLU()
    if name == "tanh":
        return torch.nn.Tanh()
    if name == "sigmoid":
        return torch.nn.Sigmoid()
    if name == "leaky_relu":
        return torch.nn.LeakyReLU(0.01 if parameter is None else parameter)
    if name == "elu":
        return torch.nn.ELU(1.0 if parameter is None else parameter)
    raise TypeError(f"to_torch: cannot convert {where}: the activation {name!r} has no PyTorch module "
                    "(to_torch converts identity, relu, tanh, sigmoid, leaky_relu, elu)")


def _split_activation(spelled: Optional[str]) -> tuple[str, Optional[float]]:
    from nn.activations import activation_names, parse_activation

    if spelled is None:
        return "identity", None
    return parse_activation(spelled, activation_names())


def _scalar_layer(torch: Any, layer: Any, where: str) -> list[Any]:
    weight = np.array([[w.data for w in neuron.w] for neuron in layer.neurons], dtype=np.float64)
    bias = np.array([neuron.b.data for neuron in layer.neurons], dtype=np.float64)
    modules = [_torch_linear(torch, weight, bias)]
    name, parameter = _split_activation(layer.activation)
    if name != "identity":
        modules.append(_torch_activation(torch, name, parameter, where))
    return modules


def _convert_to_torch(torch: Any, model: Any, where: str, failures: list[str]) -> Any:
    from nn.layers import ELU, Activation, Identity, LeakyReLU, Linear, Sequential, Softmax
    from nn.scalar.modules import MLP, Layer, Neuron

    if isinstance(model, Linear):
        return _torch_linear(torch, model.weight.data, None if model.bias is None else model.bias.data)
    if isinstance(model, Sequential):
        children = [_convert_to_torch(torch, m, f"{where}.{i}" if where else str(i), failures)
                    for i, m in enumerate(model.layers)]
        return torch.nn.Sequential(*children)
    if isinstance(model, Identity):
        return torch.nn.Identity()
    if isinstance(model, Softmax):
        return torch.nn.Softmax(dim=model.axis)
    if isinstance(model, LeakyReLU):
        return torch.nn.LeakyReLU(model.negative_slope)
    if isinstance(model, ELU):
        return torch.nn.ELU(model.alpha)
    if isinstance(model, Activation):
        try:
            return _torch_activation(torch, model.name, model.parameter, repr(model))
        except TypeError:
            failures.append(f"{where or 'the model'} ({model!r}: an activation declared with define_op)")
            return torch.nn.Identity()
    if isinstance(model, MLP):
        modules = []
        for i, layer in enumerate(model.layers):
            modules += _scalar_layer(torch, layer, f"layers.{i}")
        return torch.nn.Sequential(*modules)
    if isinstance(model, (Layer, Neuron)):
        layer = model if isinstance(model, Layer) else _NeuronAsLayer(model)
        return torch.nn.Sequential(*_scalar_layer(torch, layer, where or type(model).__name__))
    failures.append(f"{where or 'the model'} ({type(model).__name__})")
    return torch.nn.Identity()


class _NeuronAsLayer:
    def __init__(self, neuron: Any) -> None:
        self.neurons, self.activation = [neuron], neuron.activation


def to_torch(model: Module) -> Any:
    """A ``torch.nn.Module`` equivalent to `model`, with its weights copied.

    Converts `Linear`, `Sequential`, `TensorMLP`, `Identity`, `ReLU`, `Tanh`, `Sigmoid`,
    `LeakyReLU`, `ELU`, `Softmax` (and an `Activation` of one of those ops), and the scalar
    `MLP`, `Layer` and `Neuron` (to Linear layers of float64 weights: row i of a layer's weight
    is neuron i's ``w``). A tensor model keeps its dtype. A TypeError names every module that
    cannot be converted.

    >>> import numpy as np, torch
    >>> from nn import Linear
    >>> layer = Linear(2, 1, seed=0)
    >>> twin = to_torch(layer)
    >>> bool(np.allclose(twin(torch.ones(1, 2, dtype=torch.float64)).detach().numpy(), layer(np.ones((1, 2))).data))
    True
    """
    torch = _torch()
    if not isinstance(model, Module):
        raise TypeError(f"to_torch: model must be an nn Module, got {type(model).__name__}")
    failures: list[str] = []
    converted = _convert_to_torch(torch, model, "", failures)
    if failures:
        raise TypeError("to_torch: cannot convert " + "; ".join(failures) + ". It converts "
                        + ", ".join(CONVERTIBLE))
    return converted


# -- from PyTorch -----------------------------------------------------------------------------------

def _numpy(tensor: Any) -> np.ndarray:
    return tensor.detach().cpu().numpy().copy()


def _convert_from_torch(torch: Any, module: Any, where: str, failures: list[str]) -> Any:
    from nn.layers import ELU, Identity, LeakyReLU, Linear, ReLU, Sequential, Sigmoid, Softmax, Tanh

    nn_ = torch.nn
    if isinstance(module, nn_.Linear):
        weight = _numpy(module.weight)
        if weight.dtype not in (np.float64, np.float32):
            failures.append(f"{where or 'the module'} (Linear of dtype {weight.dtype}: chainrule holds "
                            "float64 or float32)")
            return Identity()
        layer = Linear(module.in_features, module.out_features, bias=module.bias is not None, dtype=weight.dtype)
        layer.weight.data[...] = weight
        if module.bias is not None:
            layer.bias.data[...] = _numpy(module.bias)
        return layer
    if isinstance(module, nn_.Sequential):
        return Sequential(*[_convert_from_torch(torch, child, f"{where}.{name}" if where else name, failures)
                            for name, child in module.named_children()])
    if type(module) is nn_.ReLU:
        return ReLU()
    if type(module) is nn_.Tanh:
        return Tanh()
    if type(module) is nn_.Sigmoid:
        return Sigmoid()
    if type(module) is nn_.LeakyReLU:
        return LeakyReLU(module.negative_slope)
    if type(module) is nn_.ELU:
        return ELU(module.alpha)
    if type(module) is nn_.Identity:
        return Identity()
    if type(module) is nn_.Softmax:
        if module.dim is None:
            failures.append(f"{where or 'the module'} (Softmax without dim: give dim=-1 or 1)")
            return Identity()
        return Softmax(module.dim)
    failures.append(f"{where or 'the module'} ({type(module).__name__})")
    return Identity()


_TORCH_ACTIVATIONS = {"ReLU": "relu", "Tanh": "tanh", "Sigmoid": "sigmoid"}


def _activation_spelling(module: Any) -> Optional[str]:
    """The scalar side's name of a torch activation module (None for anything else)."""
    name = type(module).__name__
    if name in _TORCH_ACTIVATIONS:
        return _TORCH_ACTIVATIONS[name]
    if name == "LeakyReLU":
        return f"leaky_relu({module.negative_slope!r})"
    if name == "ELU":
        return f"elu({module.alpha!r})"
    if name == "Identity":
        return "identity"
    return None


def _scalar_mlp_from_torch(torch: Any, module: Any) -> Any:
    from nn.scalar.modules import MLP

    children = list(module.children()) if isinstance(module, torch.nn.Sequential) else [module]
    linears, activations = [], []
    for index, child in enumerate(children):
        if isinstance(child, torch.nn.Linear):
            linears.append(child)
            activations.append("identity")
        elif _activation_spelling(child) is not None and linears and activations[-1] == "identity":
            activations[-1] = _activation_spelling(child)
        else:
            raise TypeError(f"from_torch(scalar=True): cannot convert module {index} ({type(child).__name__}): "
                            "a scalar MLP is Linear layers, each followed by at most one activation "
                            "(ReLU, Tanh, Sigmoid, LeakyReLU, ELU, Identity)")
    if not linears:
        raise TypeError("from_torch(scalar=True): the module holds no Linear layer")
    hidden = set(activations[:-1])
    if len(hidden) > 1:
        raise TypeError(f"from_torch(scalar=True): a scalar MLP has one hidden activation, this module has "
                        f"{sorted(hidden)}")
    if any(layer.bias is None for layer in linears):
        raise TypeError("from_torch(scalar=True): a scalar MLP's neurons all have a bias; a Linear "
                        "without bias cannot be converted")
    for previous, layer in zip(linears, linears[1:]):
        if previous.out_features != layer.in_features:
            raise TypeError(f"from_torch(scalar=True): Linear layers of {previous.out_features} outputs and "
                            f"{layer.in_features} inputs do not chain")
    output = activations[-1]
    model = MLP(linears[0].in_features, [layer.out_features for layer in linears],
                activation=hidden.pop() if hidden else "tanh",
                output_activation=None if output == "identity" else output)
    for layer, torch_layer in zip(model.layers, linears):
        weight, bias = _numpy(torch_layer.weight).astype(np.float64), _numpy(torch_layer.bias).astype(np.float64)
        for neuron, row, b in zip(layer.neurons, weight, bias):
            for w, value in zip(neuron.w, row):
                w.data = float(value)
            neuron.b.data = float(b)
    return model


def from_torch(module: Any, *, scalar: bool = False) -> Module:
    """The chainrule model equivalent to the ``torch.nn.Module`` `module`, weights copied.

    Converts ``Linear`` (float64 or float32), ``Sequential``, ``ReLU``, ``Tanh``, ``Sigmoid``,
    ``LeakyReLU``, ``ELU``, ``Softmax`` (with a dim) and ``Identity``; a TypeError names every
    module that it cannot convert, by its path in the Sequential (``"2"``, ``"1.0"``).
    ``scalar=True`` builds a scalar `MLP` instead (Value weights, float64), from Linear layers
    each followed by at most one activation, the hidden ones all the same.

    >>> import torch
    >>> twin = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1))
    >>> from_torch(twin.double())
    Sequential(
      (0): Linear(in_features=2, out_features=3, bias=True)
      (1): ReLU()
      (2): Linear(in_features=3, out_features=1, bias=True)
    )
    """
    torch = _torch()
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"from_torch: module must be a torch.nn.Module, got {type(module).__name__}")
    if scalar:
        return _scalar_mlp_from_torch(torch, module)
    failures: list[str] = []
    converted = _convert_from_torch(torch, module, "", failures)
    if failures:
        raise TypeError("from_torch: cannot convert module " + "; ".join(failures) + ". It converts Linear, "
                        "Sequential, ReLU, Tanh, Sigmoid, LeakyReLU, ELU, Softmax and Identity")
    return converted


__all__ = ["to_torch", "from_torch", "CONVERTIBLE"]
