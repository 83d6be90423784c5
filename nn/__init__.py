"""chainrule's neural networks: modules, layers, losses and optimizers."""

from nn import losses, optim
from nn.module import ModelFileError, Module
from nn.optim import SGD, Adam, Optimizer
from nn.scalar import MLP, Layer, Neuron, ScalarHistory, fit_scalar

__all__ = ["Module", "ModelFileError", "Neuron", "Layer", "MLP", "fit_scalar", "ScalarHistory",
           "SGD", "Adam", "Optimizer", "losses", "optim"]

# Tensor networks: layers, tensor losses and the training loop.
from nn import tensor_losses, training  # noqa: E402
from nn.layers import (ELU, Identity, LeakyReLU, Linear, ReLU, Sequential, Sigmoid, Softmax,  # noqa: E402
                       Tanh, TensorMLP, tensor_mlp)
from nn.training import History, evaluate, fit, train_iris  # noqa: E402

__all__ += ["Linear", "Sequential", "TensorMLP", "tensor_mlp", "Identity", "ReLU", "Tanh", "Sigmoid",
            "LeakyReLU", "ELU", "Softmax", "History", "fit", "evaluate", "train_iris", "tensor_losses",
            "training"]
