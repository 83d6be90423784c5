"""Tests for nn.data: shipped data sets, generators, scalers, one_hot, train_test_split, DataLoader.

Oracles: published facts about Fisher's iris data (R's `iris` summaries, the UCI erratum),
the lecture tables as written in the seed, hand derivations written out below, and
PyTorch float64 for the scaler statistics on random inputs.
"""

from __future__ import annotations

import csv
import io
import math
from fractions import Fraction
from importlib.resources import files

import numpy as np
import pytest
import torch
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from nn.data import (
    IRIS_FEATURE_NAMES, DataLoader, MinMaxScaler, NotFittedError, StandardScaler, load_exam_scores,
    load_height_weight, load_iris, load_linear_regression, load_pass_fail, make_circles, make_moons,
    make_spirals, make_xor, one_hot, train_test_split)

# ----------------------------------------------------------------------------- iris

# Per-species means and sample standard deviations of Fisher's data, as published by R
# (aggregate(. ~ Species, iris, mean / sd)); columns: sepal length, sepal width, petal
# length, petal width.
IRIS_MEANS = {
    "setosa": [5.006, 3.428, 1.462, 0.246],
    "versicolor": [5.936, 2.770, 4.260, 1.326],
    "virginica": [6.588, 2.974, 5.552, 2.026],
}
IRIS_SDS = {
    "setosa": [0.3524897, 0.3790644, 0.1736640, 0.1053856],
    "versicolor": [0.5161711, 0.3137983, 0.4699110, 0.1977527],
    "virginica": [0.6358796, 0.3224966, 0.5518947, 0.2746501],
}


def test_iris_shapes_dtypes_and_classes():
    X, y, class_names = load_iris()
    assert X.shape == (150, 4) and X.dtype == np.float64
    assert y.shape == (150,) and y.dtype == np.int64
    assert class_names == ("setosa", "versicolor", "virginica")
    assert IRIS_FEATURE_NAMES == ("sepal_length", "sepal_width", "petal_length", "petal_width")
    assert np.bincount(y).tolist() == [50, 50, 50]


def test_iris_matches_fishers_published_statistics():
    X, y, class_names = load_iris()
    for k, name in enumerate(class_names):
        np.testing.assert_allclose(X[y == k].mean(axis=0), IRIS_MEANS[name], atol=5e-4)
        np.testing.assert_allclose(X[y == k].std(axis=0, ddof=1), IRIS_SDS[name], atol=5e-7)
    # Ranges from the data set's documentation: min 4.3 2.0 1.0 0.1, max 7.9 4.4 6.9 2.5.
    np.testing.assert_array_equal(X.min(axis=0), [4.3, 2.0, 1.0, 0.1])
    np.testing.assert_array_equal(X.max(axis=0), [7.9, 4.4, 6.9, 2.5])


def test_iris_has_fishers_values_not_the_uci_errata_rows():
    X, y, _ = load_iris()
    # UCI's iris.names: sample 35 should be 4.9,3.1,1.5,0.2 and sample 38 4.9,3.6,1.4,0.1.
    np.testing.assert_array_equal(X[34], [4.9, 3.1, 1.5, 0.2])
    np.testing.assert_array_equal(X[37], [4.9, 3.6, 1.4, 0.1])
    np.testing.assert_array_equal(X[0], [5.1, 3.5, 1.4, 0.2])
    assert y[0] == 0 and y[-1] == 2


def test_iris_loader_agrees_with_the_shipped_csv_read_independently():
    text = (files("nn") / "datasets" / "iris.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    X, y, class_names = load_iris()
    assert len(rows) == 150
    for i, row in enumerate(rows):
        assert [float(row[name]) for name in IRIS_FEATURE_NAMES] == X[i].tolist()
        assert row["species"] == class_names[y[i]]


# ----------------------------------------------------------------------------- seed tables

def test_linear_regression_table():
    X, y = load_linear_regression()
    assert X.shape == (5, 1) and y.shape == (5,)
    assert X[:, 0].tolist() == [1, 2, 3, 4, 5] and y.tolist() == [3, 1, 2, 5, 4]


def test_exam_scores_with_one_and_two_targets():
    X, y1 = load_exam_scores()
    _, y2 = load_exam_scores(num_targets=2)
    assert X.tolist() == [[73, 80, 75], [93, 88, 93], [89, 91, 90], [96, 98, 100], [73, 66, 70]]
    assert y1.shape == (5,) and y1.tolist() == [152, 185, 180, 196, 142]
    assert y2.shape == (5, 2) and y2.tolist() == [[152, 76], [185, 92], [180, 89], [196, 96], [142, 69]]
    with pytest.raises(ValueError, match="num_targets must be 1 or 2, got 3"):
        load_exam_scores(3)
    with pytest.raises(ValueError, match="num_targets must be >= 1"):
        load_exam_scores(0)


def test_pass_fail_table():
    X, y = load_pass_fail()
    assert X.shape == (5, 1) and X[:, 0].tolist() == [10, 9, 3, 2, 1]
    assert y.dtype == np.int64 and y.tolist() == [1, 1, 0, 0, 0]


def test_height_weight_table():
    X, y, class_names = load_height_weight()
    assert class_names == ("F", "M")
    table = [(180, 83, "M"), (170, 73, "M"), (175, 78, "M"), (170, 64, "F"), (163, 52, "F"),
             (154, 45, "F"), (165, 70, "M"), (160, 55, "F"), (173, 71, "M")]
    assert X.tolist() == [[h, w] for h, w, _ in table]
    assert [class_names[k] for k in y] == [s for _, _, s in table]


# ----------------------------------------------------------------------------- generators

GENERATORS = {
    "xor": lambda seed: make_xor(5, noise=0.1, seed=seed),
    "moons": lambda seed: make_moons(40, noise=0.1, seed=seed),
    "circles": lambda seed: make_circles(40, noise=0.1, factor=0.5, seed=seed),
    "spirals": lambda seed: make_spirals(40, 4, noise=0.1, seed=seed),
}


@pytest.mark.parametrize("name", GENERATORS)
def test_generators_are_reproducible_and_differ_across_seeds(name):
    X_a, y_a = GENERATORS[name](3)
    X_b, y_b = GENERATORS[name](3)
    X_c, _ = GENERATORS[name](4)
    np.testing.assert_array_equal(X_a, X_b)
    np.testing.assert_array_equal(y_a, y_b)
    assert not np.array_equal(X_a, X_c)
    assert X_a.dtype == np.float64 and X_a.shape == (len(y_a), 2) and y_a.dtype == np.int64


def test_xor_is_the_four_points_and_repeats():
    X, y = make_xor()
    assert X.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]] and y.tolist() == [0, 1, 1, 0]
    X, y = make_xor(3)
    assert X.shape == (12, 2) and X[8:].tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    # XOR of the coordinates is the label.
    assert (X[:, 0].astype(int) ^ X[:, 1].astype(int)).tolist() == y.tolist()


def test_xor_noise_has_the_requested_standard_deviation():
    X, _ = make_xor(1000, noise=0.1, seed=1)
    clean, _ = make_xor(1000)
    # 8000 Gaussian draws: the sample sd is within 1% of 0.1 (about 9 standard errors).
    assert abs((X - clean).std() - 0.1) < 1e-3
    assert abs((X - clean).mean()) < 5e-3


@pytest.mark.parametrize("generate", [
    lambda noise: make_moons(2000, noise=noise, seed=2),
    lambda noise: make_circles(2000, noise=noise, seed=2),
    lambda noise: make_spirals(2000, 3, noise=noise, seed=2),
])
def test_noise_is_gaussian_with_the_requested_standard_deviation(generate):
    # The order depends on the seed only, so noisy minus clean is the noise itself.
    X_noisy, y_noisy = generate(0.2)
    X_clean, y_clean = generate(0.0)
    np.testing.assert_array_equal(y_noisy, y_clean)
    # 4000 Gaussian draws: the sample sd is within 1.5% of 0.2 (about 6 standard errors).
    assert abs((X_noisy - X_clean).std() - 0.2) < 3e-3
    assert abs((X_noisy - X_clean).mean()) < 2e-2


@given(st.integers(2, 60))
def test_moons_points_lie_on_their_half_circles(n_samples):
    X, y = make_moons(n_samples, seed=0)
    assert X.shape == (n_samples, 2)
    assert np.bincount(y).tolist() == [n_samples // 2, n_samples - n_samples // 2]
    upper, lower = X[y == 0], X[y == 1]
    # Upper moon: x^2 + y^2 = 1 with y >= 0; lower moon: (x - 1)^2 + (y - 0.5)^2 = 1 with y <= 0.5.
    np.testing.assert_allclose(upper[:, 0] ** 2 + upper[:, 1] ** 2, 1.0)
    np.testing.assert_allclose((lower[:, 0] - 1) ** 2 + (lower[:, 1] - 0.5) ** 2, 1.0)
    assert (upper[:, 1] >= -1e-12).all() and (lower[:, 1] <= 0.5 + 1e-12).all()


@given(st.integers(2, 60), st.floats(0.05, 0.95))
def test_circles_points_lie_on_their_circles(n_samples, factor):
    X, y = make_circles(n_samples, factor=factor, seed=0)
    radius = np.hypot(X[:, 0], X[:, 1])
    assert np.bincount(y).tolist() == [n_samples // 2, n_samples - n_samples // 2]
    np.testing.assert_allclose(radius[y == 0], 1.0)
    np.testing.assert_allclose(radius[y == 1], factor)


@given(st.integers(2, 6), st.integers(0, 40), st.floats(0.25, 2.0))
def test_spiral_arms_follow_their_formula(n_classes, extra, turns):
    n_samples = n_classes + extra
    X, y = make_spirals(n_samples, n_classes, turns=turns, seed=0)
    assert X.shape == (n_samples, 2) and set(y.tolist()) == set(range(n_classes))
    for k in range(n_classes):
        arm = X[y == k]
        count = n_samples // n_classes + (1 if k < n_samples % n_classes else 0)
        radius = np.hypot(arm[:, 0], arm[:, 1])
        order = np.argsort(radius)
        # Radii 1/count, 2/count, ..., 1; angle 2 pi (k / K + turns r).
        np.testing.assert_allclose(radius[order], np.arange(1, count + 1) / count)
        angle = 2 * np.pi * (k / n_classes + turns * radius[order])
        np.testing.assert_allclose(arm[order], radius[order, None] * np.c_[np.cos(angle), np.sin(angle)],
                                   atol=1e-12)


@pytest.mark.parametrize("call, error, message", [
    (lambda: make_xor(0), ValueError, "n \\(number of repeats\\) must be >= 1"),
    (lambda: make_xor(2.5), TypeError, "must be an int"),
    (lambda: make_xor(noise=-0.1), ValueError, "noise is a standard deviation"),
    (lambda: make_xor(seed=-1), ValueError, "seed must be >= 0"),
    (lambda: make_xor(seed=1.5), TypeError, "seed must be an int"),
    (lambda: make_moons(1), ValueError, "make_moons: n_samples must be >= 2, got 1"),
    (lambda: make_moons(10, noise=float("nan")), ValueError, "noise must be finite"),
    (lambda: make_circles(10, factor=1.0), ValueError, "factor .* must be in \\(0, 1\\), got 1.0"),
    (lambda: make_circles(10, factor="0.5"), TypeError, "factor must be a real number"),
    (lambda: make_spirals(10, n_classes=1), ValueError, "n_classes must be >= 2"),
    (lambda: make_spirals(2, n_classes=3), ValueError, "n_samples must be >= 3, got 2"),
    (lambda: make_spirals(10, n_classes=True), TypeError, "n_classes must be an int"),
])
def test_generators_reject_bad_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ----------------------------------------------------------------------------- scalers

def test_min_max_on_the_height_weight_table_by_hand():
    X, _, _ = load_height_weight()
    # Heights 180 170 175 170 163 154 165 160 173: min 154, max 180, range 26.
    # Weights 83 73 78 64 52 45 70 55 71: min 45, max 83, range 38.
    heights = [(180 - 154) / 26, (170 - 154) / 26, (175 - 154) / 26, (170 - 154) / 26, (163 - 154) / 26,
               (154 - 154) / 26, (165 - 154) / 26, (160 - 154) / 26, (173 - 154) / 26]
    weights = [38 / 38, 28 / 38, 33 / 38, 19 / 38, 7 / 38, 0 / 38, 25 / 38, 10 / 38, 26 / 38]
    scaler = MinMaxScaler()
    scaled = scaler.fit_transform(X)
    np.testing.assert_allclose(scaled, np.column_stack([heights, weights]), rtol=1e-15)
    assert scaler.data_min.tolist() == [154, 45] and scaler.data_max.tolist() == [180, 83]
    np.testing.assert_allclose(scaler.inverse_transform(scaled), X, rtol=1e-15)
    # New data is scaled with the fitted min and range: 167 cm -> 13/26, 64 kg -> 19/38.
    np.testing.assert_allclose(scaler.transform([[167.0, 64.0]]), [[0.5, 0.5]])


def test_z_score_on_the_height_weight_table_by_hand():
    X, _, _ = load_height_weight()
    heights = [180, 170, 175, 170, 163, 154, 165, 160, 173]
    mu = (180 + 170 + 175 + 170 + 163 + 154 + 165 + 160 + 173) / 9  # 1510 / 9
    sigma = math.sqrt(sum((h - mu) ** 2 for h in heights) / 9)  # population: divide by n
    scaler = StandardScaler()
    scaled = scaler.fit_transform(X)
    np.testing.assert_allclose(scaled[:, 0], [(h - mu) / sigma for h in heights], rtol=1e-12)
    np.testing.assert_allclose(scaler.mean[0], 1510 / 9, rtol=1e-15)
    np.testing.assert_allclose(scaler.std[0], sigma, rtol=1e-14)


def test_z_score_uses_the_population_sigma():
    # 2 4 4 4 5 5 7 9: mean 5, squared deviations 9 1 1 1 0 0 4 16 sum to 32, 32 / 8 = 4, sigma 2.
    column = np.array([[2.0], [4], [4], [4], [5], [5], [7], [9]])
    scaler = StandardScaler().fit(column)
    assert scaler.mean.tolist() == [5.0] and scaler.std.tolist() == [2.0]
    np.testing.assert_allclose(scaler.transform(column)[:, 0], [-1.5, -0.5, -0.5, -0.5, 0, 0, 1, 2])


@given(hnp.arrays(np.float64, st.tuples(st.integers(2, 12), st.integers(1, 4)),
                  elements=st.integers(-10**6, 10**6).map(lambda k: k / 1000)))
def test_scalers_match_torch_and_round_trip(X):
    t = torch.tensor(X, dtype=torch.float64)
    low, high = t.amin(0), t.amax(0)
    sigma = t.std(0, unbiased=False)
    non_constant = (high > low).numpy()
    min_max, standard = MinMaxScaler(), StandardScaler()
    expected_min_max = ((t - low) / (high - low)).numpy()
    expected_z = ((t - t.mean(0)) / sigma).numpy()
    np.testing.assert_allclose(min_max.fit_transform(X)[:, non_constant], expected_min_max[:, non_constant],
                               rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(standard.fit_transform(X)[:, non_constant], expected_z[:, non_constant],
                               rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(min_max.inverse_transform(min_max.transform(X)), X, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(standard.inverse_transform(standard.transform(X)), X, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("scaler_type", [MinMaxScaler, StandardScaler])
def test_a_constant_column_maps_to_zero_and_back(scaler_type):
    # 0.1 three times: its computed mean may be an ulp off and its sd a crumb above 0.
    X = np.array([[0.1, 1.0], [0.1, 2.0], [0.1, 4.0]])
    scaler = scaler_type()
    scaled = scaler.fit_transform(X)
    assert scaled[:, 0].tolist() == [0.0, 0.0, 0.0]
    assert np.isfinite(scaled).all()
    assert scaler.inverse_transform(scaled)[:, 0].tolist() == [0.1, 0.1, 0.1]


@pytest.mark.parametrize("tiny", [1e-170, 1e-300])
def test_z_score_of_a_tiny_spread_does_not_underflow(tiny):
    # Column [0, 2t]: mean t, deviations -t and t, population sigma t, so z = [-1, 1].
    # Squaring t directly would underflow to 0 (t^2 < 1e-308).
    scaler = StandardScaler()
    np.testing.assert_allclose(scaler.fit_transform([[0.0], [2 * tiny]])[:, 0], [-1.0, 1.0], rtol=1e-12)
    np.testing.assert_allclose(scaler.std, [tiny], rtol=1e-12)


def test_z_score_of_a_huge_spread_does_not_overflow():
    # Column [-h, h]: mean 0, population sigma h, so z = [-1, 1], though h^2 overflows.
    huge = 1e200
    np.testing.assert_allclose(StandardScaler().fit_transform([[-huge], [huge]])[:, 0], [-1.0, 1.0])


@pytest.mark.parametrize("scaler_type, column", [
    (MinMaxScaler, [-1.5e308, 1.5e308]),  # max - min = 3e308 exceeds the largest float64 (~1.8e308)
    (StandardScaler, [1.5e308, 1.7e308]),  # the sum 3.2e308 behind the mean overflows
])
def test_statistics_beyond_float64_are_an_error_and_keep_the_earlier_fit(scaler_type, column):
    scaler = scaler_type().fit([[0.0, 0.0], [2.0, 4.0]])
    with pytest.raises(ValueError, match="column 1 cannot be scaled in float64, its statistics overflow"):
        scaler.fit(np.column_stack([[0.0, 1.0], column]))
    # Both scalers map [2, 4] fitted on rows [0, 0] and [2, 4] to [1, 1] (max-min and z-score alike).
    np.testing.assert_allclose(scaler.transform([[2.0, 4.0]]), [[1.0, 1.0]])
    fitted = (scaler.data_max if scaler_type is MinMaxScaler else scaler.std).tolist()
    assert fitted == ([2.0, 4.0] if scaler_type is MinMaxScaler else [1.0, 2.0])


@pytest.mark.parametrize("scaler_type", [MinMaxScaler, StandardScaler])
def test_scaler_errors(scaler_type):
    name = scaler_type.__name__
    with pytest.raises(NotFittedError, match=f"{name}.transform: call fit"):
        scaler_type().transform([[1.0]])
    with pytest.raises(NotFittedError, match=f"{name}.inverse_transform: call fit"):
        scaler_type().inverse_transform([[1.0]])
    fitted = scaler_type().fit([[1.0, 2.0], [3.0, 5.0]])
    with pytest.raises(ValueError, match="X has 3 features but the scaler was fitted on 2"):
        fitted.transform([[1.0, 2.0, 3.0]])
    with pytest.raises(ValueError, match="must be 2-D .* got shape \\(3,\\)"):
        scaler_type().fit([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="X contains nan at row 1, column 0"):
        scaler_type().fit([[1.0], [float("nan")]])
    with pytest.raises(ValueError, match="at least one sample"):
        scaler_type().fit(np.zeros((0, 2)))
    with pytest.raises(TypeError, match="must hold real numbers"):
        scaler_type().fit([["a"], ["b"]])
    assert fitted.n_features == 2


# ----------------------------------------------------------------------------- one_hot

def test_one_hot_by_hand():
    np.testing.assert_array_equal(one_hot([2, 0, 1]), [[0, 0, 1], [1, 0, 0], [0, 1, 0]])
    np.testing.assert_array_equal(one_hot(np.array([1.0, 0.0]), num_classes=4), [[0, 1, 0, 0], [1, 0, 0, 0]])
    assert one_hot([], num_classes=3).shape == (0, 3)


@given(st.lists(st.integers(0, 9), min_size=1, max_size=30), st.integers(0, 5))
def test_one_hot_rows_hold_a_single_one_at_the_label(labels, spare):
    num_classes = max(labels) + 1 + spare
    encoded = one_hot(labels, num_classes)
    assert encoded.shape == (len(labels), num_classes) and encoded.dtype == np.float64
    assert encoded.sum(axis=1).tolist() == [1.0] * len(labels)
    assert encoded.argmax(axis=1).tolist() == labels


@pytest.mark.parametrize("labels, num_classes, error, message", [
    ([0, -1, 2], None, ValueError, "labels must be >= 0, got label -1"),
    ([0, 3, 1], 3, ValueError, "label 3 is out of range for num_classes=3"),
    ([0, 1.5], None, ValueError, "labels must be integers, got 1.5"),
    ([0, float("inf")], None, ValueError, "labels must be integers, got inf"),
    ([[0, 1]], None, ValueError, "labels must be 1-D, got shape \\(1, 2\\)"),
    (["a"], None, TypeError, "labels must be integers, got dtype"),
    ([], None, ValueError, "cannot infer num_classes"),
    ([0], 0, ValueError, "num_classes must be >= 1"),
])
def test_one_hot_errors(labels, num_classes, error, message):
    with pytest.raises(error, match=message):
        one_hot(labels, num_classes)


# ----------------------------------------------------------------------------- train_test_split

@given(st.integers(2, 80), st.integers(1, 999), st.integers(0, 2**32))
def test_split_partitions_the_samples_and_keeps_rows_aligned(n, permille, seed):
    test_size = permille / 1000
    n_test = -(-permille * n // 1000)  # ceil(test_size * n) in exact integer arithmetic
    assume(1 <= n_test <= n - 1)
    X = np.arange(n).reshape(n, 1) * 10.0  # row i holds 10 i, so rows can be traced
    y = np.arange(n)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=test_size, seed=seed)
    assert len(X_test) == n_test and len(X_train) == n - n_test
    assert sorted(y_train.tolist() + y_test.tolist()) == list(range(n))
    np.testing.assert_array_equal(X_train[:, 0], y_train * 10.0)
    np.testing.assert_array_equal(X_test[:, 0], y_test * 10.0)


def test_split_sizes_by_hand():
    X, y = np.zeros((10, 2)), np.zeros(10)
    big_X, big_y = np.zeros((100, 1)), np.zeros(100)
    assert len(train_test_split(big_X, big_y, test_size=0.07)[1]) == 7  # 0.07 * 100 is 7.000000000000001
    assert len(train_test_split(X[:5], y[:5], test_size=0.5)[1]) == 3  # ceil(2.5)
    assert len(train_test_split(X, y, test_size=4)[1]) == 4
    assert len(train_test_split(X, y)[1]) == 2  # default 0.2


def test_split_is_reproducible_and_differs_across_seeds():
    X, y, _ = load_iris()
    first = train_test_split(X, y, seed=5)
    again = train_test_split(X, y, seed=5)
    other = train_test_split(X, y, seed=6)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[1], other[1])


def test_stratified_iris_split_takes_ten_of_each_species():
    X, y, _ = load_iris()
    _, _, y_train, y_test = train_test_split(X, y, test_size=0.2, seed=1, stratify=True)
    assert np.bincount(y_test).tolist() == [10, 10, 10]
    assert np.bincount(y_train).tolist() == [40, 40, 40]


@given(st.lists(st.integers(0, 3), min_size=2, max_size=60), st.integers(1, 999), st.integers(0, 100))
def test_stratified_class_counts_are_the_rounded_quotas(labels, permille, seed):
    y = np.array(labels)
    n = len(y)
    test_size = permille / 1000
    n_test = -(-permille * n // 1000)  # ceil(test_size * n) in exact integer arithmetic
    assume(1 <= n_test <= n - 1)
    _, _, y_train, y_test = train_test_split(np.zeros((n, 1)), y, test_size=test_size, seed=seed, stratify=True)
    assert len(y_test) == n_test
    for c in set(labels):
        quota = Fraction(n_test * labels.count(c), n)  # class c's exact share of the test set
        taken = int((y_test == c).sum())
        assert math.floor(quota) <= taken <= math.ceil(quota)
        assert taken + int((y_train == c).sum()) == labels.count(c)


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(test_size=0.0), ValueError, "fractional test_size must be in \\(0, 1\\), got 0.0"),
    (dict(test_size=1.0), ValueError, "fractional test_size must be in \\(0, 1\\)"),
    (dict(test_size=10), ValueError, "gives 10 test samples out of 10"),
    (dict(test_size=0), ValueError, "gives 0 test samples out of 10"),
    (dict(test_size="0.2"), TypeError, "test_size must be a real number"),
    (dict(stratify=1), TypeError, "stratify must be True or False"),
    (dict(seed=-3), ValueError, "seed must be >= 0"),
])
def test_split_rejects_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        train_test_split(np.zeros((10, 2)), np.zeros(10), **kwargs)


def test_split_rejects_mismatched_or_unsuitable_data():
    with pytest.raises(ValueError, match="X has 10 samples but y has 9"):
        train_test_split(np.zeros((10, 2)), np.zeros(9))
    with pytest.raises(ValueError, match="stratify=True needs 1-D class labels"):
        train_test_split(np.zeros((10, 2)), np.zeros((10, 2)), stratify=True)
    with pytest.raises(ValueError, match="X has no samples"):
        train_test_split(np.zeros((0, 2)), np.zeros(0))


# ----------------------------------------------------------------------------- DataLoader

@given(st.integers(1, 70), st.integers(1, 80), st.booleans(), st.booleans(), st.integers(0, 1000))
def test_loader_covers_every_sample_once_per_epoch(n, batch_size, shuffle, drop_last, seed):
    assume(not (drop_last and batch_size > n))
    X = np.arange(n, dtype=np.float64).reshape(n, 1) * 10.0
    y = np.arange(n)
    loader = DataLoader(X, y, batch_size, shuffle=shuffle, seed=seed, drop_last=drop_last)
    expected_len = n // batch_size if drop_last else math.ceil(n / batch_size)
    assert len(loader) == expected_len
    for _ in range(2):
        batches = list(loader)
        assert len(batches) == expected_len
        seen = np.concatenate([b_y for _, b_y in batches])
        for b_X, b_y in batches:
            np.testing.assert_array_equal(b_X[:, 0], b_y * 10.0)
        assert [len(b_y) for _, b_y in batches[:-1]] == [batch_size] * (expected_len - 1)
        if drop_last:
            assert len(seen) == expected_len * batch_size and len(set(seen.tolist())) == len(seen)
        else:
            assert sorted(seen.tolist()) == list(range(n))
        if not shuffle:
            assert seen.tolist() == list(range(len(seen)))


def test_loader_length_by_hand():
    X, y = np.zeros((150, 4)), np.zeros(150)
    assert len(DataLoader(X, y, 32)) == 5  # 150 = 4 * 32 + 22
    assert len(DataLoader(X, y, 32, drop_last=True)) == 4
    assert len(DataLoader(X, y, 50)) == 3
    assert len(DataLoader(X, y, 500)) == 1
    assert DataLoader(X, y, 32).num_samples == 150


def test_loader_reshuffles_each_epoch_reproducibly_from_the_seed():
    X, y = np.arange(40.0).reshape(40, 1), np.arange(40)

    def epochs(seed, count=3):
        loader = DataLoader(X, y, 7, seed=seed)
        return [np.concatenate([b_y for _, b_y in loader]).tolist() for _ in range(count)]

    first = epochs(0)
    assert first == epochs(0)
    assert first[0] != first[1] and first[1] != first[2]
    assert first != epochs(1)


def test_loader_batches_are_copies():
    X, y = np.arange(6.0).reshape(6, 1), np.arange(6)
    loader = DataLoader(X, y, 3, shuffle=False)
    b_X, b_y = next(iter(loader))
    b_X[:] = -1.0
    b_y[:] = -1
    assert X[:, 0].tolist() == [0, 1, 2, 3, 4, 5] and y.tolist() == [0, 1, 2, 3, 4, 5]


@pytest.mark.parametrize("args, kwargs, error, message", [
    ((np.zeros((5, 2)), np.zeros(4), 2), {}, ValueError, "X has 5 samples but y has 4"),
    ((np.zeros((5, 2)), np.zeros(5), 0), {}, ValueError, "batch_size must be >= 1, got 0"),
    ((np.zeros((5, 2)), np.zeros(5), 2.0), {}, TypeError, "batch_size must be an int"),
    ((np.zeros((5, 2)), np.zeros(5), True), {}, TypeError, "batch_size must be an int"),
    ((np.zeros((5, 2)), np.zeros(5), 6), {"drop_last": True}, ValueError, "would yield no batches"),
    ((np.zeros((5, 2)), np.zeros(5), 2), {"shuffle": "yes"}, TypeError, "shuffle must be True or False"),
    ((np.zeros((5, 2)), np.zeros(5), 2), {"seed": None}, TypeError, "seed must be an int"),
    ((np.zeros((0, 2)), np.zeros(0), 2), {}, ValueError, "X has no samples"),
    ((3.0, np.zeros(1), 2), {}, ValueError, "X must have one sample per row"),
])
def test_loader_rejects_bad_arguments(args, kwargs, error, message):
    with pytest.raises(error, match=message):
        DataLoader(*args, **kwargs)
