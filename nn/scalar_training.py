"""Kept for ``from nn.scalar_training import fit_scalar`` (notebooks, chainrule.cli): the
scalar training loop now lives in `nn.scalar.training`, and `fit_scalar` is exported from `nn`."""

from nn.scalar.training import ScalarHistory, accuracy, fit_scalar, predict_labels

__all__ = ["fit_scalar", "ScalarHistory", "accuracy", "predict_labels"]
