"""chainrule's autodiff core: scalar `Value`s and `Tensor`s, every op declared once
(`autograd_core.ops`, `define_op`), the shared graph walk and backward driver, gradients of
gradients (`grad`, `jacobian`, `hessian`, `hvp`), gradient checking and step-by-step
backward tracing.

The generic functions ``exp, log, tanh, sigmoid, relu, leaky_relu, elu, absolute`` (and
`maximum` on Values) take a float, a numpy array, a `Value` or a `Tensor` and return the same
kind."""

from autograd_core import ops
from autograd_core.graph import Node, backpropagate, topological_order, zero_grad
from autograd_core.gradcheck import GradcheckError, gradcheck, gradgradcheck
from autograd_core.ops import (Op, absolute, define_op, elu, exp, leaky_relu, log, maximum,
                               relu, sigmoid, tanh)
from autograd_core.trace import BackwardStep, ParentStep, Trace, chain_nodes, trace_backward, trace_table
from autograd_core.value import Constant, Value, as_value, softmax, sum_values
from autograd_core.grad_mode import enable_grad, is_grad_enabled, no_grad
from autograd_core.anomaly import AnomalyError, detect_anomaly, is_anomaly_enabled
from autograd_core.tensor import Tensor
from autograd_core.tensor_functions import where
from autograd_core.tensor_shape import concatenate, stack
from autograd_core.derivatives import grad, hessian, hvp, jacobian

__all__ = [
    "Value", "Constant", "as_value", "maximum", "softmax", "sum_values",
    "backpropagate", "topological_order", "zero_grad", "Node",
    "gradcheck", "gradgradcheck", "GradcheckError",
    "ops", "Op", "define_op", "exp", "log", "tanh", "sigmoid", "relu", "leaky_relu", "elu",
    "absolute", "grad", "jacobian", "hessian", "hvp", "enable_grad",
    "trace_backward", "trace_table", "Trace", "chain_nodes", "BackwardStep", "ParentStep",
    "Tensor", "no_grad", "is_grad_enabled", "concatenate", "stack", "where",
    "detect_anomaly", "is_anomaly_enabled", "AnomalyError",
]
