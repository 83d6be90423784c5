"""The scalar side of nn, under one roof: micrograd-style networks on `Value`s.

- `nn.scalar.modules`: `Neuron`, `Layer`, `MLP`;
- `nn.scalar.losses`: the lecture's losses on Values and lists of Values (mse, sse, l1,
  binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy, hinge), the same
  declarations as `nn.functional`'s;
- `nn.scalar.training`: `fit_scalar`, the full-batch training loop, and `ScalarHistory`.

Everything here is also importable from `nn` itself (``from nn import MLP, fit_scalar``).
"""

from nn.scalar import losses
from nn.scalar.modules import MLP, Layer, Neuron
from nn.scalar.training import ScalarHistory, accuracy, fit_scalar, predict_labels

__all__ = ["Neuron", "Layer", "MLP", "fit_scalar", "ScalarHistory", "accuracy", "predict_labels",
           "losses"]
