"""Tensor layers: `Linear`, `Sequential`, activation modules and `TensorMLP`.

Everything here works on `autograd_core.Tensor` batches of shape ``(n_samples, features)``
(a single sample of shape ``(features,)`` works too). Parameters are tensors that require
a gradient, so `Module` finds them, names them (``layers.0.weight``) and saves them, and
the optimizers in `nn.optim` update them.
"""

from __future__ import annotations

import functools
import math
import numbers
from typing import Any, Iterator, Optional, Sequence, Union

import numpy as np

from autograd_core import kernels, ops
from autograd_core.grad_mode import GRAD_MODE
from autograd_core.tensor import Tensor, constant, float_dtype, record
from autograd_core.tensor_elementwise import apply_elementwise
from nn.activations import LEAKY_RELU_SLOPE, activation_names, bound_activation, parse_activation
from nn.module import Module, _all_module_classes, _module_record, build_module

Seed = Union[int, np.random.Generator, None]
TensorLike = Any  # a Tensor, or anything numpy turns into a float array


def _generator(seed: Seed, who: str) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or (isinstance(seed, numbers.Integral) and not isinstance(seed, bool)):
        return np.random.default_rng(seed)
    raise TypeError(f"{who}: seed must be None, an int or a numpy Generator, got "
                    f"{type(seed).__name__}: {seed!r}")


def _positive_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{what} must be a positive int, got {value!r}")
    return int(value)


def as_tensor(x: TensorLike, dtype: np.dtype, who: str) -> Tensor:
    """`x` itself if it is a Tensor, else a new constant Tensor of `dtype` holding `x`."""
    if isinstance(x, Tensor):
        return x
    try:
        return Tensor(x, dtype=dtype)
    except (TypeError, ValueError) as error:
        raise type(error)(f"{who}: the input must be a Tensor or an array of numbers: {error}") from None


class TensorModule(Module):
    """The base class of the tensor modules: ``module(x)`` is ``module.forward(x)``.

    >>> class Double(TensorModule):
    ...     def forward(self, x):
    ...         return as_tensor(x, np.dtype(np.float64), "Double") * 2.0
    >>> Double()([1.0, 2.0]).data
    array([2., 4.])
    """

    def forward(self, x: TensorLike) -> Tensor:
        """The layer's output for the input `x`."""
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, x: TensorLike) -> Tensor:
        """``self.forward(x)``."""
        return self.forward(x)


# -- the affine layer -------------------------------------------------------------------------

def linear(x: Tensor, weight: Tensor, bias: Optional[Tensor] = None) -> Tensor:
    """y = x @ W^T + b as one graph node, for x of shape (..., in), W (out, in), b (out,).

    Chain rule, with G = dL/dy flattened to (rows, out) and X to (rows, in):
    dL/dx = G @ W,   dL/dW = G^T @ X,   dL/db = sum of G over the rows.
    Gradients are computed only for the operands that require grad (the input batch
    usually does not, which saves the largest product of the first layer).
    """
    if not (isinstance(x, Tensor) and isinstance(weight, Tensor)
            and (bias is None or isinstance(bias, Tensor))):
        raise TypeError("linear: x, weight and bias must be Tensors")
    W = weight.data
    if W.ndim != 2:
        raise ValueError(f"linear: weight must have shape (out_features, in_features), got {W.shape}")
    if x.ndim == 0 or x.shape[-1] != W.shape[1]:
        raise ValueError(f"linear: input of shape {x.shape} does not fit weight of shape {W.shape}: "
                         f"the input's last dimension must be in_features = {W.shape[1]}")
    if bias is not None and bias.shape != (W.shape[0],):
        raise ValueError(f"linear: bias has shape {bias.shape}, expected ({W.shape[0]},) for weight "
                         f"of shape {W.shape}")
    if x.dtype != W.dtype or (bias is not None and bias.dtype != W.dtype):
        raise TypeError(f"linear: input has dtype {x.dtype} but weight has dtype {W.dtype}"
                        f"{'' if bias is None else f' and bias {bias.dtype}'}; convert them to one dtype")
    return _linear_node(x, weight, bias)


def _linear_node(x: Tensor, weight: Tensor, bias: Optional[Tensor]) -> Tensor:
    """`linear` after its checks (Linear.forward makes the same ones with its own message).

    Recorded as `Tensor.from_op(out, parents, "linear", vjp=...)` would record it, without
    from_op's checks of its arguments, which the callers have made (every layer of a network
    runs this)."""
    if bias is None:
        parents: tuple[Tensor, ...] = (x, weight)
        saved: tuple[np.ndarray, ...] = (x.data, weight.data)
        recorded = x.requires_grad or weight.requires_grad
    else:
        parents, saved = (x, weight, bias), (x.data, weight.data, bias.data)
        recorded = x.requires_grad or weight.requires_grad or bias.requires_grad
    out = kernels.affine_unchecked(x.data, weight.data, None if bias is None else bias.data)
    if not (recorded and GRAD_MODE.enabled):  # is_recorded(*parents), inlined
        return constant(out)
    return record(out, parents, "linear", _linear_vector_jacobian_product, saved)


ops.register_tensor_formula("linear", "G·W", "Gᵀ·x", "sum(G) over the rows")


def _linear_vector_jacobian_product(g: Any, inputs: Sequence[Any], out: Any,
                                    needs: Sequence[bool]) -> tuple:
    """linear's chain rule, with G = dL/dy flattened to (rows, out) and X to (rows, in):
    dL/dx = G @ W,   dL/dW = G^T @ X,   dL/db = sum of G over the rows.

    Written with operations that arrays and Tensors share, so it also runs on Tensors for
    gradients of gradients; None for the operands that need no gradient (the input batch
    usually does not, which saves the largest product of the first layer)."""
    x, weight = inputs[0], inputs[1]
    out_features, in_features = weight.shape
    rows = g if g.ndim == 2 else g.reshape(-1, out_features)  # (a batch of vectors needs no reshape)
    grad_x = g @ weight if needs[0] else None
    grad_w = rows.T @ (x if x.ndim == 2 else x.reshape(-1, in_features)) if needs[1] else None
    if len(inputs) == 2:
        return grad_x, grad_w
    if not needs[2]:
        return grad_x, grad_w, None
    if isinstance(rows, np.ndarray):
        return grad_x, grad_w, _ones(rows.shape[0], rows.dtype) @ rows
    return grad_x, grad_w, rows.sum(axis=0)


@functools.lru_cache(maxsize=64)
def _ones(length: int, dtype: np.dtype) -> np.ndarray:
    """A read-only vector of `length` ones, made once per (length, dtype).

    ``ones @ G`` is the column sum of G as one BLAS call, faster than G.sum(axis=0) for the
    short, wide gradients of small layers; caching the ones saves allocating them on every
    backward pass, a large part of that call's time (measurements: benchmarks/RESULTS.md,
    "Measurements moved out of code comments")."""
    ones = np.ones(length, dtype)
    ones.flags.writeable = False
    return ones


class Linear(TensorModule):
    """A fully connected layer on Tensors: ``y = x @ weight.T + bias``, weight of shape (out, in)
    as in PyTorch.

    >>> layer = Linear(3, 2, seed=0)
    >>> layer(np.ones((4, 3))).shape            # a batch of 4 samples in, 4 outputs out
    (4, 2)
    >>> layer.weight.shape, layer.bias.shape
    ((2, 3), (2,))

    Initialised like ``torch.nn.Linear``: weight and bias uniform in (-1/sqrt(in), 1/sqrt(in))
    (PyTorch's kaiming-uniform with a = sqrt(5) gives exactly that bound), drawn weight first
    from `seed` (an int, a numpy Generator shared across layers, or None for fresh entropy).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, seed: Seed = None,
                 dtype: Any = np.float64) -> None:
        self.in_features = _positive_int(in_features, "Linear in_features")
        self.out_features = _positive_int(out_features, "Linear out_features")
        if not isinstance(bias, bool):
            raise TypeError(f"Linear bias must be True or False, got {type(bias).__name__}: {bias!r}")
        resolved = float_dtype(dtype)
        rng = _generator(seed, "Linear")
        bound = 1.0 / math.sqrt(self.in_features)
        self.weight = Tensor(rng.uniform(-bound, bound, (self.out_features, self.in_features)),
                             requires_grad=True, dtype=resolved)
        self.bias = (Tensor(rng.uniform(-bound, bound, self.out_features), requires_grad=True,
                            dtype=resolved) if bias else None)

    def forward(self, x: TensorLike) -> Tensor:
        """y = x @ weight.T + bias for x of shape (..., in_features)."""
        if type(x) is not Tensor:
            x = as_tensor(x, self.weight.dtype, repr(self))
        shape = x.data.shape
        if not shape or shape[-1] != self.in_features:
            raise ValueError(f"{self!r}: input of shape {shape} does not fit the weight of shape "
                             f"{self.weight.shape}: its last dimension must be {self.in_features}")
        if x.data.dtype != self.weight.data.dtype:
            raise TypeError(f"{self!r}: input has dtype {x.data.dtype} but weight has dtype "
                            f"{self.weight.data.dtype}; convert the input")
        return _linear_node(x, self.weight, self.bias)

    @classmethod
    def parameter_shapes(cls, config: dict[str, Any]) -> dict[str, tuple[int, ...]] | None:
        """weight (out_features, in_features) and, with a bias, bias (out_features,)."""
        n_in, n_out = config.get("in_features"), config.get("out_features")
        if not (isinstance(n_in, int) and isinstance(n_out, int)):
            return None
        return {"weight": (n_out, n_in), **({"bias": (n_out,)} if config.get("bias", True) else {})}

    def config(self) -> dict[str, Any]:
        """The constructor arguments (without the seed: loading replaces the weights)."""
        return {"in_features": self.in_features, "out_features": self.out_features,
                "bias": self.bias is not None, "dtype": str(self.weight.dtype)}

    def __repr__(self) -> str:
        return (f"Linear(in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None})")


# -- activation modules -------------------------------------------------------------------------

def _real(value: Any, what: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{what} must be a real number, got {type(value).__name__}: {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{what} must be finite, got {value!r}")
    return float(value)


class Identity(TensorModule):
    """The identity as a module, a placeholder in a Sequential: out = x (no graph node).

    >>> Identity()(Tensor([1.0, -2.0])).data
    array([ 1., -2.])

    dL/dx = dL/dout.
    """

    @classmethod
    def parameter_shapes(cls, config: dict[str, Any]) -> dict[str, tuple[int, ...]]:
        """None: it has no parameters."""
        return {}

    def forward(self, x: TensorLike) -> Tensor:
        """`x` itself (as a Tensor)."""
        return as_tensor(x, np.dtype(np.float64), "Identity")

    def config(self) -> dict[str, Any]:
        """No constructor arguments."""
        return {}

    def __repr__(self) -> str:
        return "Identity()"


class Activation(TensorModule):
    """Any elementwise activation of the op table as a module, by name: ``Activation("tanh")``,
    ``Activation("leaky_relu", 0.1)``, or a one-input op you declared with `define_op`.

    >>> Activation("leaky_relu", 0.1)(Tensor([-1.0, 2.0])).data
    array([-0.1,  2. ])

    out = f(x) elementwise; dL/dx = dL/dout * f'(x), the op's declared derivative.
    """

    def __init__(self, name: str, parameter: Optional[float] = None) -> None:
        if not isinstance(name, str):
            raise TypeError(f"Activation name must be a str, got {type(name).__name__}: {name!r}")
        spelled = name if parameter is None else f"{name}({_real(parameter, f'{name} parameter')!r})"
        self._op = bound_activation(spelled)
        if self._op is None:
            raise ValueError("Activation('identity') adds nothing: use Identity()")
        self.name, self.parameter = name, None if parameter is None else float(parameter)

    @classmethod
    def parameter_shapes(cls, config: dict[str, Any]) -> dict[str, tuple[int, ...]]:
        """None: it has no parameters."""
        return {}

    def forward(self, x: TensorLike) -> Tensor:
        """The activation, elementwise."""
        if type(x) is not Tensor:
            x = as_tensor(x, np.dtype(np.float64), repr(self))
        return apply_elementwise(self._op, (x,))  # what self._op(x) does for a Tensor, directly

    def config(self) -> dict[str, Any]:
        """The constructor arguments."""
        return {"name": self.name, "parameter": self.parameter}

    def __repr__(self) -> str:
        return f"Activation({self.name!r}" + ("" if self.parameter is None else f", {self.parameter:g}") + ")"


class ReLU(Activation):
    """The ReLU activation as a module: out = max(0, x).

    >>> ReLU()(Tensor([-1.0, 2.0])).data
    array([0., 2.])

    dL/dx = dL/dout * [x > 0].
    """

    def __init__(self) -> None:
        super().__init__("relu")

    def config(self) -> dict[str, Any]:
        return {}

    def __repr__(self) -> str:
        return "ReLU()"


class Tanh(Activation):
    """The tanh activation as a module: out = tanh x.

    >>> Tanh()(Tensor([0.5])).data
    array([0.46211716])

    dL/dx = dL/dout * (1 - out^2).
    """

    def __init__(self) -> None:
        super().__init__("tanh")

    def config(self) -> dict[str, Any]:
        return {}

    def __repr__(self) -> str:
        return "Tanh()"


class Sigmoid(Activation):
    """The sigmoid activation as a module: out = 1 / (1 + e^-x), a probability for a binary output.

    >>> Sigmoid()(Tensor([0.0])).data
    array([0.5])

    dL/dx = dL/dout * out * (1 - out).
    """

    def __init__(self) -> None:
        super().__init__("sigmoid")

    def config(self) -> dict[str, Any]:
        return {}

    def __repr__(self) -> str:
        return "Sigmoid()"


class LeakyReLU(Activation):
    """The leaky ReLU activation as a module: out = x if x > 0 else s*x.

    >>> LeakyReLU(0.1)(Tensor([-2.0, 3.0])).data   # the lecture's max(0.1x, x)
    array([-0.2,  3. ])

    dL/dx = dL/dout * (1 if x > 0 else s); s defaults to 0.01 as in PyTorch.
    """

    def __init__(self, negative_slope: float = LEAKY_RELU_SLOPE) -> None:
        self.negative_slope = _real(negative_slope, "LeakyReLU negative_slope")
        super().__init__("leaky_relu", self.negative_slope)

    def config(self) -> dict[str, Any]:
        return {"negative_slope": self.negative_slope}

    def __repr__(self) -> str:
        return f"LeakyReLU(negative_slope={self.negative_slope:g})"


class ELU(Activation):
    """The ELU activation as a module: out = x if x > 0 else alpha*(e^x - 1).

    >>> ELU()(Tensor([-1.0, 2.0])).data
    array([-0.63212056,  2.        ])

    dL/dx = dL/dout * (1 if x > 0 else alpha*e^x).
    """

    def __init__(self, alpha: float = 1.0) -> None:
        self.alpha = _real(alpha, "ELU alpha")
        super().__init__("elu", self.alpha)

    def config(self) -> dict[str, Any]:
        return {"alpha": self.alpha}

    def __repr__(self) -> str:
        return f"ELU(alpha={self.alpha:g})"


class Softmax(TensorModule):
    """Softmax as a module: s = e^x / sum(e^x) along `axis`, turning scores into probabilities.

    >>> Softmax()(Tensor([[1.0, 2.0, 3.0]])).data.round(4)
    array([[0.09  , 0.2447, 0.6652]])

    dL/dx = s * (g - sum(g * s, axis)), g = dL/ds; computed stably (shifted by the maximum).
    For training a classifier, prefer raw logits with ``cross_entropy``: it fuses softmax
    and the log, which is both faster and more accurate.
    """

    def __init__(self, axis: int = -1) -> None:
        if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
            raise TypeError(f"Softmax axis must be an int, got {type(axis).__name__}: {axis!r}")
        self.axis = int(axis)

    @classmethod
    def parameter_shapes(cls, config: dict[str, Any]) -> dict[str, tuple[int, ...]]:
        """None: it has no parameters."""
        return {}

    def forward(self, x: TensorLike) -> Tensor:
        """Softmax along `axis`."""
        return as_tensor(x, np.dtype(np.float64), "Softmax").softmax(self.axis)

    def config(self) -> dict[str, Any]:
        """The constructor arguments."""
        return {"axis": self.axis}

    def __repr__(self) -> str:
        return f"Softmax(axis={self.axis})"


# PyTorch's names for the built-in activations; every other op of the table is an `Activation`.
ACTIVATION_MODULES: dict[str, type[TensorModule]] = {
    "identity": Identity, "relu": ReLU, "tanh": Tanh, "sigmoid": Sigmoid,
    "leaky_relu": LeakyReLU, "elu": ELU, "softmax": Softmax,
}


def activation_module(name: str) -> TensorModule:
    """A new activation module by name (e.g. "relu", "leaky_relu(0.1)", "elu(0.5)", or the
    name of any one-input op declared with `define_op`); a ValueError lists the valid names."""
    base, parameter = parse_activation(name, (*activation_names(), "softmax"))
    module_class = ACTIVATION_MODULES.get(base)
    if module_class is None:
        return Activation(base, parameter)
    return module_class() if parameter is None else module_class(parameter)


# -- containers ------------------------------------------------------------------------------------

class Sequential(TensorModule):
    """Modules applied one after another: a tensor network built layer by layer.

    >>> model = Sequential(Linear(4, 16, seed=0), ReLU(), Linear(16, 3, seed=1))
    >>> model(np.ones((5, 4))).shape            # 5 samples of 4 features -> 5 rows of 3 scores
    (5, 3)
    >>> str(model.save("net"))                  # records each layer's class and arguments
    'net.npz'
    >>> Sequential.load("net.npz")[0]
    Linear(in_features=4, out_features=16, bias=True)

    Indexable (``model[0]``; a slice gives a new Sequential sharing the modules) and sized.
    Parameters are named ``layers.<index>.<name>``, e.g. ``layers.0.weight``.
    """

    def __init__(self, *modules: Module) -> None:
        if len(modules) == 1 and isinstance(modules[0], (list, tuple)):
            raise TypeError("Sequential takes the modules as separate arguments: "
                            "Sequential(*modules), not Sequential([...])")
        for i, module in enumerate(modules):
            if not (isinstance(module, Module) and callable(module)):
                raise TypeError(f"Sequential: argument {i} must be a callable Module, got "
                                f"{type(module).__name__}: {module!r}")
        self.layers = list(modules)

    def forward(self, x: TensorLike) -> Tensor:
        """The output of the last module, each module fed the previous one's output (an
        empty Sequential returns its input, as a Tensor, like torch's)."""
        if not self.layers and not isinstance(x, Tensor):
            return as_tensor(x, np.dtype(np.float64), "Sequential()")
        for layer in self.layers:
            x = layer(x)
        return x

    def __getitem__(self, index: Union[int, slice]) -> Any:
        if isinstance(index, slice):
            return Sequential(*self.layers[index])
        if isinstance(index, bool) or not isinstance(index, numbers.Integral):
            raise TypeError(f"Sequential indices must be ints or slices, got {type(index).__name__}")
        if not -len(self.layers) <= index < len(self.layers):
            raise IndexError(f"Sequential index {index} out of range for {len(self.layers)} modules")
        return self.layers[index]

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self) -> Iterator[Module]:
        return iter(self.layers)

    def config(self) -> dict[str, Any]:
        """Each layer's class and constructor arguments, so ``Sequential.load(path)`` (and
        ``Module.load(path)``) rebuild the layers from the file."""
        return {"layers": [_module_record(layer) for layer in self.layers]}

    @classmethod
    def parameter_shapes(cls, config: dict[str, Any]) -> dict[str, tuple[int, ...]] | None:
        """Each recorded layer's parameters under ``layers.{i}.``, or None if any layer's
        class cannot tell them without being built."""
        if cls.config is not Sequential.config:
            return None
        records = config.get("layers")
        if not isinstance(records, list):
            return None
        shapes: dict[str, tuple[int, ...]] = {}
        for i, record in enumerate(records):
            layer_class = next((c for c in _all_module_classes() if isinstance(record, dict)
                                and c.__qualname__ == record.get("class")), None)
            config_i = record.get("config") if isinstance(record, dict) else None
            layer_shapes = layer_class.parameter_shapes(config_i) \
                if layer_class is not None and isinstance(config_i, dict) else None
            if layer_shapes is None:
                return None
            shapes.update({f"layers.{i}.{name}": shape for name, shape in layer_shapes.items()})
        return shapes

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Sequential":
        """A Sequential of the recorded layers, each built from its class and config; a
        subclass that records its own arguments (`TensorMLP`) is built from those."""
        if cls.config is not Sequential.config:
            return super().from_config(config)
        if cls.__init__ is not Sequential.__init__:
            raise ValueError(f"{cls.__qualname__} records only its layers, not its own constructor's "
                             "arguments: give it config() and from_config(), or build the model and "
                             "call model.load(path) on it")
        records = config.get("layers")
        if not isinstance(records, list):
            raise ValueError(f"{cls.__qualname__}'s record lists no layers")
        layers = [build_module(record, where=f"layer {i} of the {cls.__qualname__}")
                  for i, record in enumerate(records)]
        return cls(*layers)

    def __repr__(self) -> str:
        lines = [f"  ({i}): {layer!r}" for i, layer in enumerate(self.layers)]
        return f"{type(self).__name__}(\n" + "\n".join(lines) + "\n)" if lines else "Sequential()"


class TensorMLP(Sequential):
    """A multilayer perceptron on Tensors in one line: Linear layers of `sizes`, `activation`
    between them.

    >>> model = TensorMLP([4, 16, 16, 3], activation="relu", seed=0)
    >>> len(model), model[1]                    # Linear, ReLU, Linear, ReLU, Linear
    (5, ReLU())
    >>> model(np.ones((2, 4))).shape
    (2, 3)

    `output_activation` (None: linear output, which is what ``cross_entropy`` wants) is
    appended after the last layer. All weights come from one Generator seeded by `seed`.
    Records its arguments, so ``TensorMLP.load(path)`` rebuilds a saved model. Train it with
    `nn.fit`.
    """

    def __init__(self, sizes: Sequence[int], activation: str = "relu",
                 output_activation: Optional[str] = None, seed: Seed = 0,
                 dtype: Any = np.float64) -> None:
        if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence) or len(sizes) < 2:
            raise ValueError(f"TensorMLP sizes must list at least the input and output sizes, "
                             f"e.g. [4, 16, 3], got {sizes!r}")
        self.sizes = [_positive_int(size, f"TensorMLP sizes[{i}]") for i, size in enumerate(sizes)]
        activation_module(activation)  # checked even when there is no hidden layer to use it
        self.activation = activation
        self.output_activation = output_activation
        self.dtype = str(float_dtype(dtype))
        rng = _generator(seed, "TensorMLP")
        modules: list[Module] = []
        for i in range(len(self.sizes) - 1):
            if i > 0:
                modules.append(activation_module(activation))
            modules.append(Linear(self.sizes[i], self.sizes[i + 1], seed=rng, dtype=self.dtype))
        if output_activation is not None:
            modules.append(activation_module(output_activation))
        super().__init__(*modules)

    def config(self) -> dict[str, Any]:
        """The constructor arguments (without the seed: loading replaces the weights)."""
        return {"sizes": list(self.sizes), "activation": self.activation,
                "output_activation": self.output_activation, "dtype": self.dtype}

    @classmethod
    def parameter_shapes(cls, config: dict[str, Any]) -> dict[str, tuple[int, ...]] | None:
        """layers.{2i}.weight (sizes[i+1], sizes[i]) and layers.{2i}.bias (sizes[i+1],)."""
        sizes = config.get("sizes")
        if not isinstance(sizes, list) or not all(isinstance(n, int) for n in sizes):
            return None
        shapes: dict[str, tuple[int, ...]] = {}
        for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
            shapes[f"layers.{2 * i}.weight"] = (n_out, n_in)
            shapes[f"layers.{2 * i}.bias"] = (n_out,)
        return shapes


__all__ = ["TensorModule", "Linear", "linear", "Sequential", "TensorMLP",
           "Identity", "ReLU", "Tanh", "Sigmoid", "LeakyReLU", "ELU", "Softmax",
           "ACTIVATION_MODULES", "activation_module", "as_tensor", "Activation"]
