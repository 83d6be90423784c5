"""The shipped data sets: Fisher's iris (from nn/datasets/iris.csv) and the lectures' small tables."""

from __future__ import annotations

import csv
import io
from importlib.resources import files

import numpy as np

from nn.data._checks import FloatArray, IntArray, check_int

IRIS_FEATURE_NAMES = ("sepal_length", "sepal_width", "petal_length", "petal_width")


def _read_shipped_csv(filename: str) -> tuple[list[str], list[list[str]]]:
    """Header and rows of ``nn/datasets/<filename>``, read through importlib.resources."""
    text = (files("nn") / "datasets" / filename).read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise ValueError(f"shipped data set {filename} is empty")
    return rows[0], rows[1:]


def load_iris() -> tuple[FloatArray, IntArray, tuple[str, ...]]:
    """Fisher's iris data: ``(X, y, class_names)``.

    X: float64 (150, 4), columns `IRIS_FEATURE_NAMES` (sepal length, sepal width, petal
    length, petal width, in cm). y: int64 (150,), ``class_names[y[i]]`` is the species of
    sample i. class_names: ``("setosa", "versicolor", "virginica")``, 50 samples each, in
    the file's order.
    """
    header, rows = _read_shipped_csv("iris.csv")
    if tuple(header) != IRIS_FEATURE_NAMES + ("species",):
        raise ValueError(f"iris.csv: unexpected header {header}")
    class_names: list[str] = []
    features, labels = [], []
    for line, row in enumerate(rows, start=2):
        if len(row) != 5:
            raise ValueError(f"iris.csv line {line}: expected 5 fields, got {len(row)}: {row}")
        features.append([float(v) for v in row[:4]])
        if row[4] not in class_names:
            class_names.append(row[4])
        labels.append(class_names.index(row[4]))
    return np.array(features, dtype=np.float64), np.array(labels, dtype=np.int64), tuple(class_names)


def load_linear_regression() -> tuple[FloatArray, FloatArray]:
    """The simple linear regression data: ``(X, y)`` with X (5, 1) = 1..5, y (5,) = 3, 1, 2, 5, 4."""
    return np.arange(1.0, 6.0).reshape(5, 1), np.array([3.0, 1.0, 2.0, 5.0, 4.0])


def load_exam_scores(num_targets: int = 1) -> tuple[FloatArray, FloatArray]:
    """The multi-variable regression table: three quiz scores per student -> final score(s).

    X: float64 (5, 3). y: float64 (5,) with the first target (152, 185, 180, 196, 142) when
    ``num_targets == 1``; (5, 2) with the second target (76, 92, 89, 96, 69) as column 1
    when ``num_targets == 2``.
    """
    num_targets = check_int(num_targets, "num_targets", "load_exam_scores", 1)
    if num_targets > 2:
        raise ValueError(f"load_exam_scores: num_targets must be 1 or 2, got {num_targets}")
    X = np.array([[73, 80, 75], [93, 88, 93], [89, 91, 90], [96, 98, 100], [73, 66, 70]], dtype=np.float64)
    y = np.array([[152, 76], [185, 92], [180, 89], [196, 96], [142, 69]], dtype=np.float64)
    return X, (y[:, 0].copy() if num_targets == 1 else y)


def load_pass_fail() -> tuple[FloatArray, IntArray]:
    """The logistic regression data: hours x -> pass (1) / fail (0).

    X: float64 (5, 1) = 10, 9, 3, 2, 1. y: int64 (5,) = 1, 1, 0, 0, 0.
    """
    return np.array([[10.0], [9.0], [3.0], [2.0], [1.0]]), np.array([1, 1, 0, 0, 0], dtype=np.int64)


def load_height_weight() -> tuple[FloatArray, IntArray, tuple[str, ...]]:
    """The feature-scaling table: ``(X, y, class_names)``.

    X: float64 (9, 2), columns height (cm) and weight (kg). y: int64 (9,), the sex as an
    index into class_names ``("F", "M")``.
    """
    table = [(180, 83, "M"), (170, 73, "M"), (175, 78, "M"), (170, 64, "F"), (163, 52, "F"),
             (154, 45, "F"), (165, 70, "M"), (160, 55, "F"), (173, 71, "M")]
    class_names = ("F", "M")
    X = np.array([[h, w] for h, w, _ in table], dtype=np.float64)
    y = np.array([class_names.index(s) for _, _, s in table], dtype=np.int64)
    return X, y, class_names
