"""The shared graph walk and backward driver (autograd_core.graph) and `Value.backward`."""

from __future__ import annotations

import gc
import math
import weakref
from typing import Any, Sequence

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from autograd_core import Tensor, Value, backpropagate, maximum, softmax, topological_order, zero_grad
from autograd_core.graph import chain_rule_step

# -- random graphs: one recipe, built both with our Values and with torch tensors ------------------

UNARY = ["tanh", "sigmoid", "neg"]
BINARY = ["+", "-", "*", "max"]


@st.composite
def graph_recipes(draw: Any) -> tuple[list[float], list[tuple[str, tuple[int, ...]]]]:
    """Leaf values and a list of (op, parent indices); later nodes may reuse any earlier node."""
    leaves = draw(st.lists(st.floats(-2, 2, allow_nan=False), min_size=1, max_size=4))
    steps = []
    for _ in range(draw(st.integers(1, 14))):
        available = len(leaves) + len(steps)
        op = draw(st.sampled_from(UNARY + BINARY))
        arity = 1 if op in UNARY else 2
        steps.append((op, tuple(draw(st.integers(0, available - 1)) for _ in range(arity))))
    return leaves, steps


def build_ours(leaves: list[float], steps: list) -> list[Value]:
    nodes = [Value(x, label=f"x{i}") for i, x in enumerate(leaves)]
    for op, idx in steps:
        args = [nodes[i] for i in idx]
        nodes.append({
            "tanh": lambda a: a.tanh(), "sigmoid": lambda a: a.sigmoid(), "neg": lambda a: -a,
            "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b, "max": maximum,
        }[op](*args))
    return nodes


def build_torch(leaves: list[float], steps: list) -> list[torch.Tensor]:
    nodes = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in leaves]
    for op, idx in steps:
        args = [nodes[i] for i in idx]
        nodes.append({
            "tanh": torch.tanh, "sigmoid": torch.sigmoid, "neg": lambda a: -a,
            "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b, "max": torch.maximum,
        }[op](*args))
    return nodes


def reachable(root: Value) -> set[int]:
    """Ids of every node `root` depends on, by a plain recursive walk (small graphs only)."""
    seen: set[int] = set()

    def visit(node: Value) -> None:
        if id(node) not in seen:
            seen.add(id(node))
            for parent in node.parents:
                visit(parent)

    visit(root)
    return seen


@given(graph_recipes())
def test_topological_order_lists_each_node_once_after_its_parents(recipe):
    nodes = build_ours(*recipe)
    root = nodes[-1]
    order = topological_order(root)
    position = {id(node): i for i, node in enumerate(order)}
    assert len(position) == len(order), "a node is listed twice"
    assert set(position) == reachable(root)
    assert order[-1] is root
    for node in order:
        for parent in node.parents:
            assert position[id(parent)] < position[id(node)]


@given(graph_recipes())
def test_backward_matches_torch_on_random_graphs(recipe):
    ours, theirs = build_ours(*recipe), build_torch(*recipe)
    ours[-1].backward()
    theirs[-1].backward()
    for i, leaf in enumerate(theirs[:len(recipe[0])]):
        expected = 0.0 if leaf.grad is None else leaf.grad.item()
        assert math.isclose(ours[i].grad, expected, rel_tol=1e-10, abs_tol=1e-10), f"x{i}"


def test_diamond_shared_node_listed_once_and_gets_both_paths():
    a = Value(2.0, "a")
    b = a * 3
    c = b.tanh() + b * b  # b feeds two branches
    order = topological_order(c)
    assert sum(node is b for node in order) == 1 and sum(node is a for node in order) == 1
    c.backward()
    # hand: dc/db = (1 - tanh(b)^2) + 2b, db/da = 3
    assert math.isclose(b.grad, 1 - math.tanh(6.0) ** 2 + 12.0, rel_tol=1e-14)
    assert math.isclose(a.grad, 3 * b.grad, rel_tol=1e-14)


def test_topological_order_of_a_leaf_is_the_leaf():
    a = Value(1.0)
    assert topological_order(a) == [a]
    a.backward()
    assert a.grad == 1.0


# -- backward accumulates --------------------------------------------------------------------------


def test_backward_seeds_the_root_with_one():
    a = Value(3.0)
    c = (a * a) * (a * a)
    c.backward()
    assert c.grad == 1.0
    assert a.grad == 108.0  # hand: dc/da = 4 a^3 = 108


def test_two_backward_calls_accumulate_like_torch_retain_graph():
    a = Value(3.0)
    b = a * a
    c = b * b
    c.backward()
    c.backward()
    # hand: dc/da = 4 a^3 = 108 per pass, so 216 after two; dc/db = 2b = 18 per pass
    assert a.grad == 216.0 and b.grad == 36.0 and c.grad == 2.0

    ta = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
    tb = ta * ta
    tb.retain_grad()
    tc = tb * tb
    tc.retain_grad()
    tc.backward(retain_graph=True)
    tc.backward()
    assert (a.grad, b.grad, c.grad) == (ta.grad.item(), tb.grad.item(), tc.grad.item())


def test_micrograd_double_counts_where_we_do_not():
    """micrograd re-propagates an intermediate's accumulated grad on the second call (324)."""
    from micrograd.engine import Value as MicrogradValue

    a = MicrogradValue(3.0)
    b = a * a
    c = b * b
    c.backward()
    c.backward()
    assert a.grad == 324.0  # 108 + (2 * 3) * 36
    ours = Value(3.0)
    d = (ours * ours) * (ours * ours)
    d.backward()
    d.backward()
    assert ours.grad == 216.0


def test_backward_from_an_intermediate_node():
    a = Value(2.0)
    b = a.exp()
    c = b * 5
    b.backward()
    assert a.grad == math.exp(2.0) and c.grad == 0.0  # c does not feed b


def test_zero_grad_resets_every_node():
    a, b = Value(1.5, "a"), Value(-0.5, "b")
    out = softmax([a * b, a + b, maximum(a, b)])[0].log() * 3
    out.backward()
    nodes = topological_order(out)
    assert any(node.grad != 0.0 for node in nodes)
    zero_grad(out)
    assert all(node.grad == 0.0 for node in nodes)
    out.backward()
    once = (a.grad, b.grad)
    out.backward()
    assert (a.grad, b.grad) == (2 * once[0], 2 * once[1])


# -- deep graphs, memory ---------------------------------------------------------------------------


def test_a_chain_of_200000_nodes_needs_no_recursion():
    leaf = Value(0.5, "leaf")
    node = leaf
    for _ in range(200_000):
        node = -node
    order = topological_order(node)
    assert len(order) == 200_001
    assert order[0] is leaf and order[-1] is node
    assert all(order[i + 1].parents == (order[i],) for i in range(0, 200_000, 997))
    node.backward()
    assert leaf.grad == 1.0 and node.data == 0.5  # hand: (-1)^200000 = 1
    zero_grad(node)
    assert leaf.grad == 0.0 and node.grad == 0.0
    middle = weakref.ref(order[100_000])
    del order, node  # freeing the chain must not recurse either
    assert middle() is None


def test_graphs_have_no_reference_cycles():
    """Reference counting alone frees a graph: no closures keep nodes alive."""
    gc.disable()
    try:
        a, b = Value(2.0, "a"), Value(3.0, "b")
        hidden = (a * b).tanh()
        root = softmax([hidden, b, a ** 2])[0] * hidden + maximum(hidden, a).relu()
        root.backward()
        intermediate = weakref.ref(hidden)
        deep = weakref.ref(root.parents[0])
        del hidden
        assert intermediate() is not None  # root still uses it
        del root
        assert intermediate() is None and deep() is None
        assert a.grad != 0.0  # leaves held by the test survive with their gradients
    finally:
        gc.enable()


# -- the driver's protocol, with a minimal node type ------------------------------------------------


class Node:
    """A bare node for the driver: it passes `upstream * factor` to each parent, or a fixed
    object when `send` is given (to catch in-place additions)."""

    def __init__(self, *parents: "Node", factors: Sequence[Any] = (), send: Any = None, label: str = ""):
        self.parents, self.op, self.label = parents, "node", label
        self.data, self.grad = 0.0, 0.0
        self.factors, self.send = factors or (1.0,) * len(parents), send

    def chain_rule(self, upstream: Any) -> list[tuple["Node", Any]]:
        if self.send is not None:
            return [(parent, self.send) for parent in self.parents]
        return [(parent, None if f is None else upstream * f) for parent, f in zip(self.parents, self.factors)]

    def accumulate_grad(self, gradient: Any) -> None:
        self.grad = self.grad + gradient

    backward_step = chain_rule_step

    def clear_grad(self) -> None:
        self.grad = 0.0


def test_none_contribution_stops_the_gradient():
    blocked, passed = Node(label="blocked"), Node(label="passed")
    behind_blocked = Node(blocked)  # `blocked` is a child of nothing that sends it gradient
    root = Node(behind_blocked, passed, factors=(None, 2.0))
    steps = []
    backpropagate(root, 1.5, on_step=lambda node, up, contributions: steps.append(node))
    assert passed.grad == 3.0 and behind_blocked.grad == 0.0 and blocked.grad == 0.0
    assert steps == [root]  # a node no gradient reached is not processed


def test_driver_never_adds_contributions_in_place():
    seed = np.array([1.0, 2.0])
    p, q = Node(label="p"), Node(label="q")
    s = Node(p, q, send=seed)  # the same array goes to both parents
    t = Node(p, send=seed)
    root = Node(s, t, send=seed)
    backpropagate(root, seed)
    assert np.array_equal(seed, [1.0, 2.0]), "a contribution array was modified in place"
    assert np.array_equal(p.grad, [2.0, 4.0]) and np.array_equal(q.grad, [1.0, 2.0])


def test_on_step_reports_every_step_in_reverse_topological_order():
    a, b = Value(0.3, "a"), Value(-1.2, "b")
    c = a * b
    out = (c + a).tanh() * c
    expected = [node for node in reversed(topological_order(out)) if node.parents]
    recorded = []
    backpropagate(out, 1.0,
                  on_step=lambda node, up, contributions: recorded.append((node, up, contributions)))
    assert [node for node, _, _ in recorded] == expected
    for node, upstream, contributions in recorded:
        assert upstream == node.grad  # a single pass: the upstream is the node's full gradient
        assert [parent for parent, _ in contributions] == list(node.parents)


def test_accumulate_false_changes_no_gradient():
    a = Value(2.0)
    out = a * a + a
    backpropagate(out, 1.0, accumulate=False)
    assert all(node.grad == 0.0 for node in topological_order(out))


@pytest.mark.parametrize("seed", [2.0, -0.5])
def test_backward_seed_scales_every_gradient(seed):
    a = Value(1.3)
    out = a.sigmoid() * a
    out.backward(seed)
    s = 1 / (1 + math.exp(-1.3))
    # hand: d(a sigma(a))/da = sigma(a) + a sigma(a) (1 - sigma(a))
    assert math.isclose(a.grad, seed * (s + 1.3 * s * (1 - s)), rel_tol=1e-14)
    assert out.grad == seed


def test_nodes_with_equal_data_stay_apart_and_hash_by_identity():
    # The driver keys its tables by the nodes themselves: equal data must never merge nodes.
    assert Value.__hash__ is object.__hash__ and Tensor.__hash__ is object.__hash__
    a, b = Value(2.0, "a"), Value(2.0, "b")
    out = a * b
    assert topological_order(out) == [a, b, out]
    out.backward()
    assert (a.grad, b.grad) == (2.0, 2.0)  # hand: d(ab)/da = b, d(ab)/db = a
    x, y = Tensor(np.ones(3), requires_grad=True), Tensor(np.ones(3), requires_grad=True)
    (x * y).sum().backward()
    np.testing.assert_array_equal(x.grad, np.ones(3))  # d(sum xy)/dx = y


def test_local_grads_setter_checks_the_count():
    a = Value(1.0)
    out = a.tanh()
    with pytest.raises(ValueError, match="1 parents needs 1 local derivatives, got 2"):
        out.local_grads = (1.0, 2.0)
    out.local_grads = (0.5,)
    assert out.local_grads == (0.5,) and out.chain_rule(2.0) == ((a, 1.0),)


# -- threads sharing a leaf --------------------------------------------------------------------

def _run_in_threads(work: Any, count: int = 4) -> None:
    import threading
    failures: list[BaseException] = []

    def guarded() -> None:
        try:
            work()
        except BaseException as error:  # noqa: BLE001 - re-raised in the main thread
            failures.append(error)
    threads = [threading.Thread(target=guarded) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]


def test_threads_accumulating_into_a_shared_tensor_leaf_lose_no_gradient():
    # Issue 11's example: numpy releases the GIL while it adds a million floats, so an
    # unguarded `grad = grad + g` lost updates (62 or 68 instead of 160). PyTorch: exactly 160.
    w = Tensor(np.ones(1_000_000), requires_grad=True)

    def work() -> None:
        for _ in range(40):
            (w * 1.0).sum().backward()
    _run_in_threads(work)
    np.testing.assert_array_equal(w.grad[[0, -1]], [160.0, 160.0])


class _SlowGradient(Value):
    """A Value gradient whose addition yields the interpreter to other threads half-way
    (like numpy's large additions, or any Python __add__ under free threading), so that an
    accumulation that is not atomic loses updates every time, not just by bad luck."""

    __slots__ = ()

    def __radd__(self, other: Any) -> Value:
        import time
        time.sleep(0.001)
        return Value.__add__(other, Value(self.data))


def test_threads_accumulating_into_a_shared_value_leaf_lose_no_gradient():
    w = Value(0.0)
    w.grad = Value(0.0)  # a gradient node (as after backward(create_graph=True))

    def work() -> None:
        for _ in range(25):
            w.accumulate_grad(_SlowGradient(1.0))
    _run_in_threads(work)
    assert w.grad.data == 100.0


def test_threads_running_value_backward_on_a_shared_leaf_lose_no_gradient():
    w = Value(1.5)

    def work() -> None:
        for _ in range(2000):
            (w * 2.0 + w.tanh()).backward()
    _run_in_threads(work)
    assert math.isclose(w.grad, 8000 * (2.0 + 1.0 - math.tanh(1.5) ** 2), rel_tol=1e-12)


# -- the collector is paused while a pass runs, and restored after -----------------------------

def _collector_states_seen_by_a_pass(root: Any, seed: Any, inner: Any = None) -> list[bool]:
    seen: list[bool] = []

    def on_step(node: Any, upstream: Any, sent: Any) -> None:
        seen.append(gc.isenabled())
        if inner is not None and len(seen) == 1:
            inner()
            seen.append(gc.isenabled())
    backpropagate(root, seed, accumulate=False, on_step=on_step)
    return seen


@pytest.mark.parametrize("kind", ["value", "tensor"])
def test_a_backward_pass_pauses_the_collector_and_restores_it(kind):
    x = Value(0.5) if kind == "value" else Tensor(np.ones(3), requires_grad=True)
    root = (x * 2.0 + 1.0).tanh() if kind == "value" else (x * 2.0 + 1.0).tanh().sum()
    seed = 1.0 if kind == "value" else np.array(1.0)
    was_enabled = gc.isenabled()
    try:
        gc.enable()
        assert set(_collector_states_seen_by_a_pass(root, seed)) == {False}
        assert gc.isenabled()
        gc.disable()  # a caller who turned it off keeps it off
        assert set(_collector_states_seen_by_a_pass(root, seed)) == {False}
        assert not gc.isenabled()
    finally:
        (gc.enable if was_enabled else gc.disable)()


def test_the_collector_comes_back_after_a_failing_pass_and_after_nested_passes():
    was_enabled = gc.isenabled()
    gc.enable()
    try:
        x = Value(2.0)
        root = x * x + x

        def fail(node: Any, upstream: Any, sent: Any) -> None:
            raise RuntimeError("a callback failed")
        with pytest.raises(RuntimeError, match="a callback failed"):
            backpropagate(root, 1.0, on_step=fail)
        assert gc.isenabled()
        # A pass started inside another (a callback running backward) leaves it paused until
        # the outer pass ends.
        inner_root = x * 3.0
        seen = _collector_states_seen_by_a_pass(root, 1.0, inner=lambda: inner_root.backward())
        assert set(seen) == {False} and gc.isenabled()
        assert x.grad == 3.0  # the inner pass's gradient; the outer one accumulated nothing
    finally:
        (gc.enable if was_enabled else gc.disable)()


def test_two_threads_passes_switch_the_collector_back_on_only_when_both_have_ended():
    import threading
    was_enabled = gc.isenabled()
    gc.enable()
    b_inside, a_done, seen = threading.Event(), threading.Event(), {}
    try:
        def pass_b() -> None:
            def on_step(node: Any, upstream: Any, sent: Any) -> None:
                if not b_inside.is_set():
                    b_inside.set()
                    a_done.wait(5)
                    seen["after a ended, inside b"] = gc.isenabled()
            x = Value(1.0)
            backpropagate(x * 2.0, 1.0, accumulate=False, on_step=on_step)

        thread = threading.Thread(target=pass_b)
        y = Value(1.0)

        def start_b_then_go_on(node: Any, upstream: Any, sent: Any) -> None:
            if not thread.is_alive() and not b_inside.is_set():
                thread.start()
                b_inside.wait(5)
        backpropagate(y * 3.0, 1.0, accumulate=False, on_step=start_b_then_go_on)
        a_done.set()
        thread.join(5)
        assert seen == {"after a ended, inside b": False}  # b's pass still running: paused
        assert gc.isenabled()  # both ended: back on
    finally:
        a_done.set()
        (gc.enable if was_enabled else gc.disable)()


def test_a_pass_that_fails_midway_leaves_every_leaf_gradient_as_it_was():
    """Leaves are accumulated after every other node has sent its gradient, so a backward
    function that raises halfway leaves no model half updated: the leaf w, whose gradient
    arrives before the failing node's turn, and the leaf x behind it both keep theirs."""
    w = Tensor(np.array([2.0, 3.0]), requires_grad=True)
    x = Tensor(np.array([1.0, -1.0]), requires_grad=True)

    def failing(upstream: np.ndarray) -> tuple:
        raise RuntimeError("this backward fails")
    blocked = Tensor.from_op(x.data * 2, (x,), "fails", backward=failing)
    root = blocked.sum() + (w * 3.0).sum()  # w's gradient is complete before blocked's turn
    with pytest.raises(RuntimeError, match="this backward fails"):
        root.backward()
    assert w.grad is None and x.grad is None
    root = (w * 3.0).sum()
    root.backward()  # and the next pass is whole
    np.testing.assert_array_equal(w.grad, [3.0, 3.0])


@given(graph_recipes())
def test_the_ordinary_pass_and_a_stepped_pass_give_the_same_gradients(recipe):
    """An ordinary pass runs each node's `backward_step`; a pass with a step callback runs
    `accumulate_grad` and `chain_rule`: every node gets the same gradient from both, to the bit."""
    plain, stepped = build_ours(*recipe), build_ours(*recipe)
    backpropagate(plain[-1], 1.0)
    backpropagate(stepped[-1], 1.0, on_step=lambda node, upstream, sent: None)
    assert [node.grad for node in plain] == [node.grad for node in stepped]


def test_the_ordinary_pass_and_a_stepped_pass_agree_on_tensors_with_broadcasting():
    def gradients(stepped: bool) -> list[np.ndarray]:
        x = Tensor([[1.0], [-2.0], [0.5]], requires_grad=True)  # (3, 1)
        y = Tensor([[0.3, -1.2, 2.0, 0.7]], requires_grad=True)  # (1, 4)
        product = x * y  # (3, 4): both operands broadcast
        root = (product.tanh() * product + x).sum()  # `product` and `x` used twice
        backpropagate(root, np.array(1.0), on_step=(lambda *step: None) if stepped else None)
        return [x.grad, y.grad, product.grad]

    for plain, stepped in zip(gradients(False), gradients(True)):
        np.testing.assert_array_equal(plain, stepped)
    leaf = Tensor([1.0, 2.0], requires_grad=True)  # a leaf as the root takes the general step
    backpropagate(leaf, np.array([0.5, -1.0]))
    np.testing.assert_array_equal(leaf.grad, [0.5, -1.0])
    # and against torch
    x = torch.tensor([[1.0], [-2.0], [0.5]], dtype=torch.float64, requires_grad=True)
    y = torch.tensor([[0.3, -1.2, 2.0, 0.7]], dtype=torch.float64, requires_grad=True)
    product = x * y
    (product.tanh() * product + x).sum().backward()
    x_grad, y_grad, _ = gradients(False)
    np.testing.assert_allclose(x_grad, x.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(y_grad, y.grad.numpy(), rtol=1e-12)


def test_value_backward_step_accumulates_and_adds_each_contribution_into_the_pass():
    a, b = Value(2.0), Value(-3.0)
    product = a * b  # d/da = b = -3, d/db = a = 2
    product.grad = 0.5  # from an earlier pass: backward_step adds to it
    pass_gradients = {a: 10.0}  # a already has a contribution from another child
    product.backward_step(4.0, pass_gradients)
    assert product.grad == 4.5
    assert len(pass_gradients) == 2
    assert pass_gradients[a] == 10.0 + 4.0 * -3.0 and pass_gradients[b] == 4.0 * 2.0
    squashed = a.tanh()  # one parent: d/da = 1 - tanh(a)^2
    pass_gradients = {}
    squashed.backward_step(2.0, pass_gradients)
    assert squashed.grad == 2.0
    assert pass_gradients[a] == pytest.approx(2.0 * (1 - math.tanh(2.0) ** 2), rel=1e-15)


def test_value_backward_step_of_a_leaf_or_a_gradient_node_takes_the_general_step():
    leaf = Value(3.0)
    pass_gradients: dict = {}
    leaf.backward_step(1.5, pass_gradients)  # a leaf that is the root of its pass
    assert leaf.grad == 1.5 and pass_gradients == {}
    a = Value(2.0)
    doubled = a * 2.0
    upstream = Value(0.25)  # a gradient that is a node (what create_graph passes)
    doubled.backward_step(upstream, pass_gradients)
    assert doubled.grad is upstream  # it replaces the float 0, as accumulate_grad does
    contribution = pass_gradients[a]
    assert isinstance(contribution, Value) and contribution.data == 0.5


def test_the_driver_never_asks_a_leaf_for_its_chain_rule(monkeypatch):
    """A leaf has no parents to send to: the driver accumulates its gradient without calling
    chain_rule or backward_step (what makes leaves cheap), and still gives each leaf its whole
    gradient."""
    calls = []
    original_chain_rule, original_step = Value.chain_rule, Value.backward_step

    def spy(self, upstream, create_graph=False):
        calls.append(self.label)
        return original_chain_rule(self, upstream, create_graph)

    def step_spy(self, upstream, pass_gradients):
        calls.append(self.label)
        return original_step(self, upstream, pass_gradients)
    monkeypatch.setattr(Value, "chain_rule", spy)
    monkeypatch.setattr(Value, "backward_step", step_spy)
    a, b = Value(2.0, "a"), Value(-3.0, "b")
    product = a * b
    product.label = "product"
    root = product + a  # d/da = b + 1 = -2, d/db = a = 2
    root.label = "root"
    root.backward()
    assert calls == ["root", "product"]
    assert (a.grad, b.grad) == (-2.0, 2.0)
