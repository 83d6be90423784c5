"""The PyTorch oracle the Tensor tests compare against, and proof that it can fail.

`assert_matches_torch(ours, theirs, *arrays)` runs the same function through our Tensor and
through PyTorch float64 on copies of the same arrays, sends the same random upstream gradient
back through both, and compares the value and every input's gradient within 1e-10.
"""

from __future__ import annotations

from typing import Callable, Optional, Sequence

import numpy as np
import pytest
import torch
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograd_core import Tensor

TORCH_TOL = 1e-10


def floats(lo: float = -3.0, hi: float = 3.0) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def arrays(shape: "tuple[int, ...] | st.SearchStrategy", lo: float = -3.0, hi: float = 3.0,
           ) -> st.SearchStrategy[np.ndarray]:
    """float64 arrays of `shape` (a shape or a strategy of shapes) with entries in [lo, hi]."""
    return hnp.arrays(np.float64, shape, elements=floats(lo, hi))


def shapes(min_dims: int = 0, max_dims: int = 3, max_side: int = 4) -> st.SearchStrategy:
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=max_side)


def upstream_for(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """A fixed random dL/d(out): a ones seed would hide errors that mix up entries."""
    return np.random.default_rng(seed).normal(size=shape)


def assert_close(actual: np.ndarray, expected: np.ndarray, what: str, tol: float = TORCH_TOL) -> None:
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    np.testing.assert_allclose(actual, expected, rtol=tol, atol=tol, err_msg=what)


def assert_matches_torch(ours: Callable[..., Tensor], theirs: Callable[..., torch.Tensor],
                         *arrays: np.ndarray, requires_grad: Optional[Sequence[bool]] = None,
                         tol: float = TORCH_TOL) -> None:
    """Value and all gradients of ours(*Tensors) equal those of theirs(*torch tensors)."""
    flags = list(requires_grad) if requires_grad is not None else [True] * len(arrays)
    our_inputs = [Tensor(a, requires_grad=f) for a, f in zip(arrays, flags)]
    torch_inputs = [torch.tensor(np.array(a, dtype=np.float64), requires_grad=f)
                    for a, f in zip(arrays, flags)]
    out = ours(*our_inputs)
    expected = theirs(*torch_inputs)
    assert_close(out.data, expected.detach().numpy(), "value", tol)
    assert out.dtype == np.float64
    if not any(flags):
        assert not out.requires_grad and out.parents == ()
        return
    upstream = upstream_for(out.shape)
    out.backward(upstream)
    expected.backward(torch.tensor(upstream))
    for i, (mine, reference) in enumerate(zip(our_inputs, torch_inputs)):
        if not reference.requires_grad:
            assert mine.grad is None, f"input {i} does not require grad but got one"
            continue
        assert mine.grad is not None, f"input {i} got no gradient"
        assert_close(mine.grad, reference.grad.numpy(), f"gradient of input {i}", tol)


# -- the oracle itself must be able to fail --------------------------------------------------------

def _wrong_square(x: Tensor) -> Tensor:
    """x^2 whose backward claims x (the truth is 2x)."""
    data = x.data
    return Tensor.from_op(data * data, (x,), "wrong_square", lambda g: (g * data,))


def test_the_oracle_catches_a_wrong_gradient():
    with pytest.raises(AssertionError, match="gradient of input 0"):
        assert_matches_torch(_wrong_square, lambda t: t * t, np.array([1.0, -2.0, 3.0]))


def test_the_oracle_catches_a_wrong_value():
    with pytest.raises(AssertionError, match="value"):
        assert_matches_torch(lambda t: t * 2.0, lambda t: t * 2.0000001, np.array([1.0, 2.0]))


def test_the_oracle_catches_a_mixed_up_entry_that_a_ones_seed_would_hide():
    def rolled(x: Tensor) -> Tensor:  # out_i = x_i, but backward sends g_i to x_(i+1)
        return Tensor.from_op(x.data.copy(), (x,), "rolled", lambda g: (np.roll(g, 1),))
    with pytest.raises(AssertionError, match="gradient of input 0"):
        assert_matches_torch(rolled, lambda t: t * 1.0, np.array([1.0, 2.0, 3.0]))


def test_the_oracle_passes_a_correct_custom_op():
    def square(x: Tensor) -> Tensor:
        data = x.data
        return Tensor.from_op(data * data, (x,), "square", lambda g: (2.0 * data * g,))
    assert_matches_torch(square, lambda t: t * t, np.array([[1.0, -2.0], [0.5, 3.0]]))
