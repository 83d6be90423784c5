"""chainrule's neural networks: modules, layers, losses and optimizers."""

from nn import losses, optim
from nn.module import ModelFileError, Module
from nn.optim import SGD, Adam, Optimizer
from nn.scalar import MLP, Layer, Neuron

__all__ = ["Module", "ModelFileError", "Neuron", "Layer", "MLP", "SGD", "Adam", "Optimizer",
           "losses", "optim"]
