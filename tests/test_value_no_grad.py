"""`no_grad` on Values: inside the block every Value op gives a leaf with the same number and no
graph (as PyTorch's ops give tensors that do not require grad); outside it, and in other threads,
Values record as usual; `enable_grad` records again inside the block.

Expected numbers are the ops' own values outside the block (the block changes recording, never
results) and math's (tanh, exp) for a hand check.
"""

from __future__ import annotations

import math
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd_core import Value, enable_grad, is_grad_enabled, maximum, no_grad
from autograd_core.grad_mode import NO_GRAD_BLOCKS_OPEN


def _expression(x: Value, w: Value) -> Value:
    """Every kind of Value op: the inlined + and *, the other binaries, unaries, a power."""
    y = (w * x + 1.0) * 2 - x / 4.0
    return maximum(y.tanh() + y.sigmoid() + (y * y + 1.0).log() + y.relu() + (-y).exp()
                   + abs(y) + y.leaky_relu(0.1) + y.elu() + (y * y + 1.0) ** 0.5, x ** w)


@given(st.floats(0.1, 3.0), st.floats(-2.0, 2.0))
def test_values_inside_no_grad_are_the_same_numbers_without_a_graph(x0, w0):
    x, w = Value(x0, "x"), Value(w0, "w")
    recorded = _expression(x, w)
    with no_grad():
        assert not is_grad_enabled()
        plain = _expression(x, w)
    assert plain.data == recorded.data
    assert plain.parents == () and plain.op == "" and recorded.parents != ()
    plain.backward()  # a leaf: its own gradient only, nothing reaches x or w
    assert plain.grad == 1.0 and x.grad == 0.0 and w.grad == 0.0


def test_the_hand_example_and_recording_after_the_block():
    x = Value(0.5)
    with no_grad():
        y = (x * 2.0).tanh()
    assert y.data == pytest.approx(math.tanh(1.0), abs=1e-15) and y.parents == ()
    z = (x * 2.0).tanh()  # after the block: recorded again
    z.backward()
    assert x.grad == pytest.approx(2 * (1 - math.tanh(1.0) ** 2), abs=1e-15)
    assert NO_GRAD_BLOCKS_OPEN[0] == 0


def test_enable_grad_inside_no_grad_records_and_an_exception_closes_the_block():
    x = Value(3.0)
    with no_grad():
        with enable_grad():
            y = x * x
        assert NO_GRAD_BLOCKS_OPEN[0] == 1
    y.backward()
    assert x.grad == 6.0
    with pytest.raises(ZeroDivisionError):
        with no_grad():
            x / 0.0
    assert NO_GRAD_BLOCKS_OPEN[0] == 0 and is_grad_enabled()
    assert (x * 2.0).parents != ()


def test_a_thread_in_no_grad_does_not_stop_another_from_recording():
    inside, recorded = threading.Event(), threading.Event()
    results: dict[str, Value] = {}

    def evaluate() -> None:
        with no_grad():
            inside.set()
            recorded.wait(5)
            results["evaluated"] = Value(2.0) * 3.0

    thread = threading.Thread(target=evaluate)
    thread.start()
    assert inside.wait(5)
    results["trained"] = Value(2.0) * 3.0  # this thread records while the other's block is open
    recorded.set()
    thread.join(5)
    assert results["trained"].parents != () and results["evaluated"].parents == ()
    assert results["trained"].data == results["evaluated"].data == 6.0


def test_no_grad_frees_the_evaluation_at_once():
    """Nothing of the expression stays alive behind a value computed in no_grad."""
    import weakref
    x = Value(1.0)
    with no_grad():
        middle = x * 2.0
        probe = weakref.ref(middle)
        out = middle + 1.0
        del middle
    assert probe() is None and out.data == 3.0
