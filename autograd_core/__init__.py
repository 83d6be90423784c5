"""chainrule's autodiff core: scalar `Value`s, the shared graph walk and backward driver,
gradient checking and step-by-step backward tracing."""

from autograd_core.graph import backpropagate, topological_order, zero_grad
from autograd_core.gradcheck import GradcheckError, gradcheck
from autograd_core.trace import BackwardStep, ParentStep, trace_backward
from autograd_core.value import Value, as_value, maximum, softmax, sum_values

__all__ = [
    "Value", "as_value", "maximum", "softmax", "sum_values",
    "backpropagate", "topological_order", "zero_grad",
    "gradcheck", "GradcheckError",
    "trace_backward", "BackwardStep", "ParentStep",
]
