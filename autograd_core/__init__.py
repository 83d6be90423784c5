"""chainrule's autodiff core: scalar `Value`s, the shared graph walk and backward driver,
gradient checking and step-by-step backward tracing."""

from autograd_core.graph import backpropagate, topological_order, zero_grad
from autograd_core.gradcheck import GradcheckError, gradcheck
from autograd_core.trace import BackwardStep, ParentStep, trace_backward
from autograd_core.value import Constant, Value, as_value, maximum, softmax, sum_values
from autograd_core.grad_mode import is_grad_enabled, no_grad
from autograd_core.tensor import Tensor
from autograd_core.tensor_functions import where
from autograd_core.tensor_shape import concatenate, stack

__all__ = [
    "Value", "Constant", "as_value", "maximum", "softmax", "sum_values",
    "backpropagate", "topological_order", "zero_grad",
    "gradcheck", "GradcheckError",
    "trace_backward", "BackwardStep", "ParentStep",
    "Tensor", "no_grad", "is_grad_enabled", "concatenate", "stack", "where",
]
