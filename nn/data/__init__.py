"""Data for training: the shipped data sets, toy generators, scalers, splitting and mini-batches.

Conventions used throughout:

* ``X`` is a float64 array of shape ``(n_samples, n_features)``: one row per sample.
* Class labels ``y`` are int64 arrays of shape ``(n_samples,)`` with values in ``{0, ..., k-1}``.
* Regression targets are float64: shape ``(n_samples,)`` for one target, ``(n_samples, n_targets)``
  for several (the scikit-learn convention).
* Everything random takes a ``seed`` (an int >= 0) and is reproducible from it.

The iris data (Fisher, 1936; public domain) is ``nn/datasets/iris.csv``, taken from the copy
bundled with scikit-learn, which has Fisher's values (as R's ``iris``), not the UCI copy's
two erroneous rows.
"""

from nn.data.datasets import (
    IRIS_FEATURE_NAMES, load_exam_scores, load_height_weight, load_iris, load_linear_regression, load_pass_fail)
from nn.data.generators import make_circles, make_moons, make_spirals, make_xor
from nn.data.labels import one_hot
from nn.data.loader import DataLoader
from nn.data.scaling import MinMaxScaler, NotFittedError, StandardScaler
from nn.data.splitting import train_test_split

__all__ = [
    "IRIS_FEATURE_NAMES", "load_iris",
    "load_linear_regression", "load_exam_scores", "load_pass_fail", "load_height_weight",
    "make_xor", "make_moons", "make_circles", "make_spirals",
    "NotFittedError", "MinMaxScaler", "StandardScaler",
    "one_hot", "train_test_split", "DataLoader",
]
