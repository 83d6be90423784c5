"""chainrule's neural networks: modules, layers, losses, optimizers and training loops.

- the scalar side (`nn.scalar`): `Neuron`, `Layer`, `MLP` on Values, trained by `fit_scalar`;
- the tensor side: `Linear`, `Sequential`, `TensorMLP` and the activation modules
  (`nn.layers`), trained by `fit` (`nn.training`);
- `nn.functional` (``from nn import functional as F``): torch.nn.functional's names, for
  Tensors and for Values; `nn.losses` keeps the lecture's loss names (mse, sse, l1, ...);
- `SGD` and `Adam` (`nn.optim`) update either side's parameters.
"""

from nn import functional, losses, optim
from nn.module import ModelFileError, Module
from nn.optim import SGD, Adam, Optimizer
from nn.scalar import MLP, Layer, Neuron, ScalarHistory, fit_scalar

__all__ = ["Module", "ModelFileError", "Neuron", "Layer", "MLP", "fit_scalar", "ScalarHistory",
           "SGD", "Adam", "Optimizer", "functional", "losses", "optim"]

# Tensor networks: layers, tensor losses and the training loop.
from nn import tensor_losses, training  # noqa: E402
from nn.layers import (ELU, Identity, LeakyReLU, Linear, ReLU, Sequential, Sigmoid, Softmax,  # noqa: E402
                       Tanh, TensorMLP)
from nn.training import History, evaluate, fit, train_iris  # noqa: E402

__all__ += ["Linear", "Sequential", "TensorMLP", "Identity", "ReLU", "Tanh", "Sigmoid",
            "LeakyReLU", "ELU", "Softmax", "History", "fit", "evaluate", "train_iris", "tensor_losses",
            "training"]

# Watching, diagnosing and carrying models (issue 10).
from nn.diagnose import DiagnosisReport, diagnose  # noqa: E402
from nn.recording import Recorder  # noqa: E402
from nn.torch_bridge import from_torch, to_torch  # noqa: E402

__all__ += ["diagnose", "DiagnosisReport", "Recorder", "to_torch", "from_torch"]
