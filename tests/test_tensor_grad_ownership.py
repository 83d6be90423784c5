"""A leaf's .grad after backward is an array of its own: writable, in the leaf's dtype, sharing
memory with no other leaf's gradient, no intermediate's, no data and no array the caller passed
in. The backward pass keeps an array it made and nothing else holds (no copy, as PyTorch keeps
the buffers its backward makes) and copies everything shared: these tests edit one gradient in
place and check that nothing else changed.
"""

from __future__ import annotations

import numpy as np
import pytest

from autograd_core import Tensor
from nn import functional as F
from nn.layers import Linear


def _leaves(*shapes: tuple[int, ...], dtype: type = np.float64) -> list[Tensor]:
    rng = np.random.default_rng(0)
    return [Tensor(rng.normal(size=shape).astype(dtype), requires_grad=True) for shape in shapes]


def _graphs() -> list[tuple[str, list[Tensor], Tensor]]:
    cases = []
    a, b = _leaves((3, 4), (3, 4))
    cases.append(("a + b: one upstream array for both leaves", [a, b], (a + b).sum()))
    a, b = _leaves((3, 4), (4,))
    cases.append(("a + bias: a broadcast operand", [a, b], (a + b).sum()))
    a, = _leaves((5,))
    cases.append(("a - a + a: one leaf reached three times", [a], (a - a + a).sum()))
    a, = _leaves((2, 3))
    cases.append(("a.sum(): a broadcast view of the seed", [a], a.sum()))
    x, weight, bias = _leaves((6, 3), (2, 3), (2,))
    hidden = F.linear(x, weight, bias).relu()
    cases.append(("linear then relu", [x, weight, bias], (hidden * hidden).mean()))
    a, b = _leaves((4, 4), (4, 4), dtype=np.float32)
    cases.append(("float32 a @ b", [a, b], (a @ b).tanh().sum()))
    return cases


@pytest.mark.parametrize("name, leaves, loss", _graphs(), ids=[case[0] for case in _graphs()])
def test_every_leaf_owns_its_gradient(name, leaves, loss):
    loss.backward()
    others = [leaf.data for leaf in leaves] + [node.grad for node in _intermediates(loss)]
    for leaf in leaves:
        grad = leaf.grad
        assert type(grad) is np.ndarray and grad.dtype == leaf.data.dtype
        assert grad.flags.writeable and grad.shape == leaf.shape
        for other in [other.grad for other in leaves if other is not leaf] + others:
            if other is not None:
                assert not np.shares_memory(grad, other), name
    # Editing one gradient in place changes no other leaf's.
    before = [leaf.grad.copy() for leaf in leaves]
    leaves[0].grad += 1.0
    for leaf, kept in zip(leaves[1:], before[1:]):
        np.testing.assert_array_equal(leaf.grad, kept)


def _intermediates(root: Tensor) -> list[Tensor]:
    from autograd_core import topological_order
    return [node for node in topological_order(root) if node.parents]


def test_a_seed_the_caller_passes_is_not_kept():
    x = Tensor(np.ones(3), requires_grad=True)
    seed = np.array([1.0, 2.0, 3.0])
    x.backward(seed)  # x is a leaf: the seed itself is its gradient
    assert not np.shares_memory(x.grad, seed)
    seed[:] = 0.0
    np.testing.assert_array_equal(x.grad, [1.0, 2.0, 3.0])
    y = Tensor(np.ones(3), requires_grad=True)
    (y * 1.0).backward(seed)
    assert not np.shares_memory(y.grad, seed)


def test_the_weight_gradient_of_a_linear_layer_is_the_array_backward_made(monkeypatch):
    """The case the no-copy path is for: dL/dW = G^T X is made by the pass and held by nothing
    else, so it becomes .grad as it is (a copy would cost a pass over the weight's size). The
    spy keeps only a weak reference, which does not count as holding the array."""
    import weakref

    import nn.layers as layers
    made = []
    original = layers._linear_vector_jacobian_product

    def spy(g, inputs, out, needs):
        gradients = original(g, inputs, out, needs)
        made.append(weakref.ref(gradients[1]))
        return gradients
    monkeypatch.setattr(layers, "_linear_vector_jacobian_product", spy)
    layer = Linear(3, 2, seed=0)
    layer(Tensor(np.ones((4, 3)))).sum().backward()
    assert layer.weight.grad is made[0]()
    np.testing.assert_allclose(layer.weight.grad, np.full((2, 3), 4.0))  # G = 1: dL/dW_ij = sum_r x_rj


def test_a_named_array_passed_to_accumulate_grad_by_hand_may_become_the_grad_as_documented():
    leaf = Tensor(np.zeros(2), requires_grad=True)
    leaf.accumulate_grad(np.array([1.0, 2.0]))  # a temporary: kept
    np.testing.assert_array_equal(leaf.grad, [1.0, 2.0])
    other = Tensor(np.zeros(2), requires_grad=True)
    shared = np.array([3.0, 4.0])
    keep_a_second_reference = [shared]
    other.accumulate_grad(shared)  # referred to twice here: copied
    assert not np.shares_memory(other.grad, keep_a_second_reference[0])
