"""chainrule: learn and do backpropagation, in one import.

    import chainrule as cr

    x = cr.Value(2.0, "x")
    y = x * x + 3 * x
    y.backward()
    print(y.data, x.grad)  # 10.0 7.0: y = x^2 + 3x and dy/dx = 2x + 3 at x = 2

This package is the library's face; the work lives in three packages it re-exports:

- `autograd_core`: the engine. Its main names are available here directly: `Value`, `Tensor`,
  `no_grad`, `enable_grad`, `is_grad_enabled`, `trace_backward`, `gradcheck`, `gradgradcheck`,
  `GradcheckError`, `backpropagate`, `topological_order`, `zero_grad`, `concatenate`, `stack`,
  `where`, `detect_anomaly`; gradients of gradients: `grad`, `jacobian`, `hessian`, `hvp`; the op table:
  `define_op`, `ops`, and the generic functions `exp`, `log`, `tanh`, `sigmoid`, `relu`,
  `leaky_relu`, `elu`, `absolute`, `maximum` (each takes a float, an array, a Value or a Tensor).
- `nn` (as `chainrule.nn`): modules, layers, losses, optimizers, data and training loops.
- `viz` (as `chainrule.viz`): gradient graphs, the backward stepper and its player, plots.

`chainrule.nn` and `chainrule.viz` are imported on first use, so `import chainrule` stays light
(it never imports Numba, Graphviz or matplotlib). `chainrule.w52` holds the lecture's worked
w52 network, and `chainrule.cli` the `chainrule` command (`chainrule --help`).
"""

from __future__ import annotations

import importlib
from types import ModuleType

from autograd_core import (GradcheckError, Tensor, Value, absolute, backpropagate, concatenate,
                           define_op, detect_anomaly, elu, enable_grad, exp, grad, gradcheck, gradgradcheck,
                           hessian, hvp, is_grad_enabled, jacobian, leaky_relu, log, maximum,
                           no_grad, ops, relu, sigmoid, stack, tanh, topological_order,
                           trace_backward, where, zero_grad)

# The single source of the version: pyproject.toml reads it from here
# ([tool.setuptools.dynamic] version = {attr = "chainrule.__version__"}).
__version__ = "0.1.0"

# Subpackages loaded on first attribute access: name -> module to import.
_LAZY_MODULES = {"nn": "nn", "viz": "viz", "w52": "chainrule.w52", "cli": "chainrule.cli"}

__all__ = [
    "__version__",
    "Value", "Tensor", "no_grad", "enable_grad", "detect_anomaly", "is_grad_enabled", "trace_backward", "gradcheck",
    "gradgradcheck", "GradcheckError", "backpropagate", "topological_order", "zero_grad",
    "concatenate", "stack", "where", "grad", "jacobian", "hessian", "hvp", "define_op", "ops",
    "exp", "log", "tanh", "sigmoid", "relu", "leaky_relu", "elu", "absolute", "maximum",
    "nn", "viz",
]


def __getattr__(name: str) -> ModuleType:
    """Import `chainrule.nn`, `chainrule.viz`, `chainrule.w52` and `chainrule.cli` on first use."""
    if name in _LAZY_MODULES:
        module = importlib.import_module(_LAZY_MODULES[name])
        globals()[name] = module  # later accesses skip this function
        return module
    raise AttributeError(f"module 'chainrule' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The module's names, the lazily imported subpackages included."""
    return sorted(set(globals()) | set(_LAZY_MODULES))
