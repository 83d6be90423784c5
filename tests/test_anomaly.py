"""Anomaly mode (`autograd_core.detect_anomaly`): the first op whose forward result or backward
gradient is not finite, on Values and Tensors; every expected node and number by hand."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from autograd_core import (AnomalyError, Tensor, Value, detect_anomaly, is_anomaly_enabled, no_grad,
                           tanh)
from autograd_core import anomaly as anomaly_module


def test_the_error_is_a_floating_point_error_exported_from_autograd_core():
    assert issubclass(AnomalyError, FloatingPointError)
    assert not is_anomaly_enabled()
    with detect_anomaly():
        assert is_anomaly_enabled()
        with detect_anomaly(enabled=False):
            assert not is_anomaly_enabled()
        assert is_anomaly_enabled()
    assert not is_anomaly_enabled()


def test_value_forward_names_the_first_op_that_made_an_infinity():
    # y = x * 10 overflows to inf (x = 1e308 is finite); z = y - y is NaN, but y came first.
    x = Value(1e308, "x")
    y = x * 10.0
    y.label = "y"
    z = y - y
    loss = z * 2.0
    with detect_anomaly():
        with pytest.raises(FloatingPointError) as caught:
            loss.backward()
    error = caught.value
    assert error.node is y and error.phase == "forward" and error.op == "*"
    message = str(error)
    assert message.startswith("detect_anomaly: forward: op '*' returned inf (node 'y')")
    assert "input 0 ('x', leaf): 1e+308" in message and "input 1 (constant 10, leaf): 10" in message
    assert x.grad == 0.0  # nothing was propagated


def test_value_forward_without_anomaly_mode_propagates_nan_silently():
    x = Value(1e308, "x")
    z = x * 10.0 - x * 10.0
    z.backward()  # the engine itself does not check (its per-node cost stays as benchmarked)
    assert np.isnan(x.grad) or x.grad == 0.0


def test_value_backward_names_the_op_whose_derivative_is_infinite():
    # y = sqrt(x) at x = 0: y = 0 is finite, dy/dx = 0.5 / sqrt(0) = inf.
    x = Value(0.0, "x")
    y = x ** 0.5
    y.label = "y"
    loss = y * 3.0
    with detect_anomaly():
        with pytest.raises(AnomalyError) as caught:
            loss.backward()
    error = caught.value
    assert error.node is y and error.phase == "backward" and error.input_index == 0
    assert str(error).startswith("detect_anomaly: backward: the chain rule at node 'y' (made by the "
                                  "forward op '**0.5') gives input 0 ('x') a gradient holding inf "
                                  "from a finite upstream gradient (3)")


def test_a_leaf_whose_gradient_sum_overflows_is_named():
    # L = 1.5e308 x + 1.5e308 x at x = 1e-308: forward 1.5 + 1.5 = 3; each path sends 1.5e308
    # to x, and their sum 3e308 overflows.
    x = Value(1e-308, "x")
    loss = x * 1.5e308 + x * 1.5e308
    assert loss.data == pytest.approx(3.0)
    with detect_anomaly():
        with pytest.raises(AnomalyError) as caught:
            loss.backward()
    assert caught.value.node is x and caught.value.phase == "backward"
    assert "overflows" in str(caught.value)


def test_an_intermediate_node_whose_gradient_sum_overflows_is_named():
    w = Value(1e-308, "w")
    h = w * 1.0
    h.label = "h"
    loss = h * 1.5e308 + h * 1.5e308
    with detect_anomaly():
        with pytest.raises(AnomalyError) as caught:
            loss.backward()
    assert caught.value.node is h and "overflowed" in str(caught.value)


def test_an_unlabelled_node_is_named_by_its_expression():
    x = Value(1e308, "x")
    loss = (x * 10.0).tanh()
    with detect_anomaly(), pytest.raises(AnomalyError, match=r"returned inf \(node x \* 10\)"):
        loss.backward()


def test_a_non_finite_leaf_is_reported_as_such():
    x = Value(float("nan"), "x")
    loss = x * 2.0
    with detect_anomaly(), pytest.raises(AnomalyError, match="the leaf 'x' already holds NaN"):
        loss.backward()


def test_finite_graphs_and_gradients_of_gradients_are_unchanged():
    x = Value(0.5, "x")
    with detect_anomaly():
        y = tanh(x * 2.0)
        y.backward(create_graph=True)
        first = x.grad
        x.grad = 0.0
        first.backward()
    t = np.tanh(1.0)
    assert first.data == pytest.approx(2 * (1 - t * t), rel=1e-15)
    # d/dx [2 (1 - tanh(2x)^2)] = -8 tanh(2x) (1 - tanh(2x)^2)
    assert x.grad == pytest.approx(-8 * t * (1 - t * t), rel=1e-14)


def test_tensor_forward_raises_at_the_op_with_a_summary_of_its_inputs():
    x = Tensor([1.0, -1.0, 4.0], requires_grad=True, label="x")
    with detect_anomaly():
        with np.errstate(invalid="ignore"), pytest.raises(AnomalyError) as caught:
            x.log()
    error = caught.value
    assert error.phase == "forward" and error.op == "log" and error.node.parents[0] is x
    message = str(error)
    assert message.startswith("detect_anomaly: forward: op 'log' returned 1 NaN of 3 elements (node log(x))")
    assert "input 0 ('x', leaf): shape (3,), min -1, max 4" in message


def test_tensor_ops_outside_the_mode_or_without_grad_are_not_checked():
    x = Tensor([-1.0], requires_grad=True)
    with np.errstate(invalid="ignore"):
        assert np.isnan(x.log().data).all()
        with detect_anomaly(), no_grad():
            assert np.isnan(x.log().data).all()  # no graph node: nothing to name


def test_tensor_backward_names_the_op_and_the_input():
    # y = x ** 0.5 at x = [0, 4]: y = [0, 2]; dy/dx = 0.5 / sqrt(x) = [inf, 0.25].
    x = Tensor([0.0, 4.0], requires_grad=True, label="x")
    with detect_anomaly():
        y = x ** 0.5
        loss = y.sum()
        with np.errstate(divide="ignore"), pytest.raises(AnomalyError) as caught:
            loss.backward()
    error = caught.value
    assert error.node is y and error.phase == "backward" and error.input_index == 0
    assert "1 infinity of 2 elements" in str(error)
    assert x.grad is None


def test_the_mode_is_per_thread():
    seen = []
    with detect_anomaly():
        worker = threading.Thread(target=lambda: seen.append(is_anomaly_enabled()))
        worker.start()
        worker.join()
    assert seen == [False]


def test_the_decorator_form_and_its_argument_check():
    @detect_anomaly()
    def enabled() -> bool:
        return is_anomaly_enabled()

    assert enabled() and not is_anomaly_enabled()
    with pytest.raises(TypeError, match="True or False"):
        detect_anomaly("yes")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="decorates a function"):
        detect_anomaly()(3)  # type: ignore[arg-type]


def test_the_value_hot_path_reads_no_flag():
    # The scalar engine's node constructor must not look at the anomaly flag: only the backward
    # driver (once per pass) and tensor.record do.
    import inspect

    from autograd_core import value

    assert "ANOMALY" not in inspect.getsource(value)
    assert anomaly_module.ANOMALY.enabled is False
