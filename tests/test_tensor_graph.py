"""Tensor graph behaviour: reused nodes, backward twice, requires_grad propagation, no_grad,
float32, from_op, leaf gradients and the absence of reference cycles, against PyTorch
float64 or hand derivations."""

from __future__ import annotations

import gc
import threading
import weakref

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from autograd_core import (Tensor, concatenate, is_grad_enabled, no_grad, stack, topological_order,
                           where, zero_grad)
from autograd_core import kernels
from test_tensor_oracle import arrays, assert_close, assert_matches_torch, shapes


@given(shape=shapes(), data=st.data())
def test_reused_nodes_sum_their_gradients_like_torch(shape, data):
    """x*x and x feeding two branches: dL/dx is the sum over every path."""
    x, y = data.draw(arrays(shape), label="x"), data.draw(arrays(shape), label="y")
    assert_matches_torch(lambda t: t * t, lambda t: t * t, x)
    assert_matches_torch(lambda a, b: (a * b).tanh() + a.exp() * a - b,
                         lambda a, b: (a * b).tanh() + a.exp() * a - b, x, y)


def test_a_diamond_graph_by_hand():
    """f = (x + x) * x = 2x^2, so df/dx = 4x: the shared node x is reached along three edges."""
    x = Tensor([1.5, -2.0], requires_grad=True)
    ((x + x) * x).sum().backward()
    assert_close(x.grad, [6.0, -8.0], "grad")


def mlp_loss(x, w1, b1, w2, b2, relu, log_softmax):
    hidden = relu(x @ w1 + b1)
    return -(log_softmax(hidden @ w2 + b2)[:, 0]).mean()


def test_backward_twice_accumulates_like_torch_with_retain_graph():
    rng = np.random.default_rng(3)
    arrays_ = [rng.normal(size=s) for s in [(5, 4), (4, 6), (6,), (6, 3), (3,)]]
    ours = [Tensor(a, requires_grad=i > 0) for i, a in enumerate(arrays_)]
    theirs = [torch.tensor(a, requires_grad=i > 0) for i, a in enumerate(arrays_)]
    our_loss = mlp_loss(*ours, lambda t: t.relu(), lambda t: t.log_softmax(axis=1))
    their_loss = mlp_loss(*theirs, torch.relu, lambda t: torch.log_softmax(t, dim=1))
    our_loss.backward()
    our_loss.backward()
    their_loss.backward(retain_graph=True)
    their_loss.backward()
    assert_close(our_loss.data, their_loss.detach().numpy(), "loss")
    assert ours[0].grad is None
    for mine, reference in zip(ours[1:], theirs[1:]):
        assert_close(mine.grad, reference.grad.numpy(), "twice-accumulated grad")


def test_an_intermediate_gradient_is_not_propagated_twice():
    """y = 3x; z = y^2. Backward twice gives dz/dx twice (not more): the driver never
    re-sends y's accumulated grad from the first pass."""
    x = Tensor([2.0], requires_grad=True)
    z = ((x * 3.0) ** 2).sum()
    z.backward()
    z.backward()
    assert_close(x.grad, [2 * 18.0 * 2.0], "grad")  # dz/dx = 18x = 36, twice


def test_zero_grad_resets_every_node_to_none():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2.0).sum()
    y.backward()
    zero_grad(y)
    assert all(node.grad is None for node in topological_order(y))


def test_requires_grad_propagates_only_from_inputs_that_need_it():
    a = Tensor([1.0, 2.0], requires_grad=True)
    c = Tensor([3.0, 4.0])
    assert not (c * 2.0).requires_grad and (c * 2.0).parents == ()
    out = a * c
    assert out.requires_grad and out.parents == (a, c) and out.op == "*"
    out.sum().backward()
    assert c.grad is None
    assert_close(a.grad, [3.0, 4.0], "grad")


def test_leaf_gradients_are_separate_writable_arrays():
    """a + b sends one array to both parents; each leaf must still own its grad."""
    a = Tensor([1.0, 2.0], requires_grad=True)
    b = Tensor([3.0, 4.0], requires_grad=True)
    c = Tensor(5.0, requires_grad=True)
    (a + b + c).sum().backward()
    assert a.grad is not b.grad
    a.grad *= 10.0
    assert_close(b.grad, [1.0, 1.0], "b untouched")
    c.grad += 1.0  # a broadcast view would be read-only
    assert_close(c.grad, 3.0, "c")


def test_no_grad_records_nothing_and_restores_the_mode():
    w = Tensor([[1.0, 2.0]], requires_grad=True)
    with no_grad():
        assert not is_grad_enabled()
        out = (w * 3.0).relu().sum()
        with no_grad():
            pass
        assert not is_grad_enabled()
    assert is_grad_enabled()
    assert not out.requires_grad and out.parents == () and out.op == ""
    with pytest.raises(RuntimeError, match="does not require grad"):
        out.backward()
    with pytest.raises(ValueError):
        with no_grad():
            raise ValueError("boom")
    assert is_grad_enabled()


def test_no_grad_as_a_decorator():
    @no_grad()
    def evaluate(t: Tensor) -> Tensor:
        """Docstring kept."""
        assert not is_grad_enabled()
        return t * 2.0

    out = evaluate(Tensor([1.0], requires_grad=True))
    assert not out.requires_grad and evaluate.__doc__ == "Docstring kept."
    assert is_grad_enabled()


def test_no_grad_is_per_thread():
    seen = []
    with no_grad():
        thread = threading.Thread(target=lambda: seen.append(is_grad_enabled()))
        thread.start()
        thread.join()
    assert seen == [True]


def test_float32_path_matches_torch_float32():
    rng = np.random.default_rng(4)
    x, w, b = rng.normal(size=(6, 3)), rng.normal(size=(3, 4)), rng.normal(size=(4,))
    ours = [Tensor(a, requires_grad=True, dtype=np.float32) for a in (x, w, b)]
    theirs = [torch.tensor(a, dtype=torch.float32, requires_grad=True) for a in (x, w, b)]
    out = ((ours[0] @ ours[1] + ours[2]).tanh() * 2.0 - 1.0).softmax(axis=1)
    ref = ((theirs[0] @ theirs[1] + theirs[2]).tanh() * 2.0 - 1.0).softmax(dim=1)
    assert out.dtype == np.float32
    upstream = rng.normal(size=out.shape).astype(np.float32)
    out.backward(upstream)
    ref.backward(torch.tensor(upstream))
    assert_close(out.data, ref.detach().numpy(), "value", tol=1e-5)
    for mine, reference in zip(ours, theirs):
        assert mine.grad.dtype == np.float32
        assert_close(mine.grad, reference.grad.numpy(), "grad", tol=1e-5)


def test_a_float32_leaf_keeps_float32_gradients_after_a_float64_op():
    x = Tensor([1.0, -2.0], requires_grad=True, dtype=np.float32)
    y = x.relu() * Tensor([3.0, 3.0])  # float64 operand: the result is float64
    assert y.dtype == np.float64
    y.sum().backward()
    assert x.grad.dtype == np.float32
    assert_close(x.grad, np.array([3.0, 0.0], np.float32), "grad")


def test_from_op_defines_a_differentiable_op_like_nn_losses_do():
    """Softmax cross-entropy as one node, via the kernels, against PyTorch."""
    logits = np.random.default_rng(5).normal(size=(4, 3))
    labels = np.array([0, 2, 1, 2])

    def cross_entropy(z: Tensor) -> Tensor:
        loss, probs = kernels.softmax_cross_entropy(z.data, labels)
        return Tensor.from_op(np.asarray(loss), (z,), "cross_entropy",
                              lambda g: (kernels.softmax_cross_entropy_backward(probs, labels, float(g)),))

    assert_matches_torch(cross_entropy, lambda t: torch.nn.functional.cross_entropy(
        t, torch.tensor(labels)), logits)
    with no_grad():
        assert cross_entropy(Tensor(logits, requires_grad=True)).parents == ()


def test_graphs_have_no_reference_cycles():
    """Every node is freed by reference counting alone, the cyclic collector switched off."""
    gc.disable()
    try:
        x = Tensor(np.ones((3, 2)), requires_grad=True)
        w = Tensor(np.ones((2, 2)), requires_grad=True)
        out = ((x @ w + 1.0).relu().softmax(axis=1)[[0, 0]] ** 2).sum()
        custom = Tensor.from_op(out.data * 2.0, (out,), "double", lambda g: (2.0 * g,))
        custom.backward()
        nodes = [weakref.ref(node) for node in topological_order(custom) if node.parents]
        assert len(nodes) >= 7
        del out, custom
        assert all(ref() is None for ref in nodes)
    finally:
        gc.enable()


def test_detach_numpy_item_and_attributes():
    x = Tensor([[1.0, 2.0, 3.0]], requires_grad=True, label="x")
    assert (x.shape, x.ndim, x.size, x.dtype) == ((1, 3), 2, 3, np.float64)
    assert x.numpy() is x.data and x.grad is None and x.op == "" and x.parents == ()
    d = (x * 2.0).detach()
    assert not d.requires_grad and d.parents == ()
    assert Tensor([[4.0]]).item() == 4.0
    assert np.asarray(x) is x.data
    data = np.array([1.0, 2.0])
    t = Tensor(data)
    data[0] = 100.0
    assert t.data[0] == 1.0  # the constructor copies


FLOAT32_OPS = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
    "/": lambda a, b: a / b, "** tensor": lambda a, b: a ** b, "@": lambda a, b: a @ b.T,
    "** 2": lambda a, b: a ** 2, "neg": lambda a, b: -a, "sum": lambda a, b: a.sum(axis=0),
    "mean": lambda a, b: a.mean(), "max": lambda a, b: a.max(axis=1), "reshape": lambda a, b: a.reshape(-1),
    "transpose": lambda a, b: a.T, "getitem": lambda a, b: a[[0, 0]], "exp": lambda a, b: a.exp(),
    "log": lambda a, b: a.log(), "abs": lambda a, b: abs(a), "clip": lambda a, b: a.clip(0.5, 1.0),
    "relu": lambda a, b: a.relu(), "tanh": lambda a, b: a.tanh(), "sigmoid": lambda a, b: a.sigmoid(),
    "leaky_relu": lambda a, b: a.leaky_relu(), "elu": lambda a, b: a.elu(),
    "softmax": lambda a, b: a.softmax(), "log_softmax": lambda a, b: a.log_softmax(),
    "where": lambda a, b: where(a.data > 1.0, a, b), "concatenate": lambda a, b: concatenate([a, b]),
    "stack": lambda a, b: stack([a, b], axis=1),
}


@pytest.mark.parametrize("name", FLOAT32_OPS)
def test_float32_stays_float32_through_every_op_and_its_backward(name):
    """No op promotes float32 to float64, forward or backward (that would double the work)."""
    a = Tensor([[0.5, 1.5, 2.0], [1.0, 3.0, 0.7]], requires_grad=True, dtype=np.float32)
    b = Tensor([[1.0, 2.0, 0.5], [2.0, 1.0, 1.5]], requires_grad=True, dtype=np.float32)
    out = FLOAT32_OPS[name](a, b)
    assert out.dtype == np.float32
    for _, contribution in out.chain_rule(np.ones(out.shape, np.float32)):
        assert contribution is None or np.asarray(contribution).dtype == np.float32
