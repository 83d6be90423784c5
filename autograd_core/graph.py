"""The graph walk and the backward driver, shared by `Value`, `Tensor`, viz and the stepper.

A *node* is any object with the methods of `Node`:
  - ``parents``: a tuple of nodes it was computed from (empty for a leaf),
  - ``chain_rule(upstream, create_graph=False)``: given dL/d(node), return a pair (parent,
    contribution) for each parent, in the order of ``parents``, where contribution =
    dL/d(node) * d(node)/d(parent), or None where a parent needs no gradient (a leaf returns
    no pairs); with `create_graph` the upstream gradient and the contributions are nodes
    themselves (so a gradient can be differentiated again),
  - ``accumulate_grad(gradient)``: add a gradient into ``node.grad``,
  - ``backward_step(upstream, pass_gradients)``: the two above in one call, as an ordinary pass
    (no stepper, no ``create_graph``) runs them: ``accumulate_grad(upstream)``, then each
    contribution added into the dict `pass_gradients` under its parent. `chain_rule_step`
    does it from the other methods (``backward_step = chain_rule_step`` in a node class);
    `Value` and `Tensor` write their own, as it runs for every node of every training step,
  - ``clear_grad()``: reset ``node.grad``.
Nodes are told apart by identity: they are kept in sets and dicts with the default
``object.__hash__`` (``__hash__ = object.__hash__``), and equal data must never merge two
nodes. A node class may still define ``==`` as something else (`Tensor`'s ``==`` is an
elementwise mask, like PyTorch's): a dict or set looking up a key compares hashes first and
then identity (``is``) before it ever calls ``==``, and the identity hash of two distinct nodes
differs, so the tables here never call a node's ``==`` for a node they hold. What must not be
used on nodes is anything that relies on ``==`` alone: ``list.index``, ``x in some_list``,
``list.remove`` and ``==`` between nodes (they would get a mask, or raise on its truth value).

Threads: several threads may run backward passes at once through graphs that share leaves
(the parameters of one model). Each pass sums its gradients in a private table; only adding
them into a leaf's ``.grad`` touches shared state, so `accumulate_grad` takes a lock for a
node without parents (`Tensor` one of the striped `leaf_lock`s, `Value` one lock for all its
leaves). An intermediate node belongs to the pass that built it and is not locked
(two threads backpropagating through the very same intermediate nodes may lose updates of
those nodes' ``.grad``, never of a leaf's).

The cyclic garbage collector is paused while a pass runs. A pass creates no reference cycles
(its gradients are numbers, arrays, or with ``create_graph`` new nodes that point only at their
parents), so the collector has nothing to find in it, yet the pass's allocations would make it
walk the whole graph again and again (on a graph of a million Values, most of the pass's time:
benchmarks/RESULTS.md). Reference counting still frees everything the pass drops.

Everything that walks a graph in this project goes through `topological_order`, and
everything that applies the chain rule goes through `backpropagate`.
"""

from __future__ import annotations

import gc
import threading
from typing import Any, Callable, Iterable, Optional, Protocol, Sequence

from autograd_core.anomaly import ANOMALY, check_anomalies


class Node(Protocol):
    """What the graph walk and the backward driver need of a node (`Value` and `Tensor` have it)."""

    label: str
    grad: Any

    @property
    def parents(self) -> tuple["Node", ...]: ...

    def chain_rule(self, upstream: Any, create_graph: bool = False) -> Sequence[tuple["Node", Any]]: ...

    def accumulate_grad(self, gradient: Any) -> None: ...

    def backward_step(self, upstream: Any, pass_gradients: dict["Node", Any]) -> None: ...

    def clear_grad(self) -> None: ...


# Locks for adding into a leaf's .grad, striped by the leaf's identity: a lock per leaf would
# cost a slot in every node, one lock for all would make threads that train different models
# wait for each other's (GIL-free, for large arrays) numpy additions.
_LEAF_LOCKS = tuple(threading.Lock() for _ in range(64))


def leaf_lock(node: object) -> threading.Lock:
    """The lock that guards adding a gradient into the leaf `node` (see the module notes)."""
    return _LEAF_LOCKS[(id(node) >> 4) & 63]


# Passes running now (several threads may run one each) and whether the collector was on
# before the first of them paused it: the last one to end switches it back on.
_collector_lock = threading.Lock()
_passes_running = 0
_collector_was_enabled = False


def _pause_collector() -> None:
    global _passes_running, _collector_was_enabled
    _collector_lock.acquire()
    if _passes_running == 0:
        _collector_was_enabled = gc.isenabled()
        gc.disable()
    _passes_running += 1
    _collector_lock.release()


def _resume_collector() -> None:
    global _passes_running
    _collector_lock.acquire()
    _passes_running -= 1
    if _passes_running == 0 and _collector_was_enabled:
        gc.enable()
    _collector_lock.release()


# What `backpropagate` reports for every node it processes: the node, dL/d(node) for
# this pass, and a (parent, contribution) pair per parent (None where no gradient flows).
StepCallback = Callable[[Node, Any, Sequence[Any]], None]


def topological_order(root: Node) -> list[Node]:
    """Every node that `root` depends on, each listed after all of its parents.

    Leaves come first and `root` last. The walk is an explicit-stack depth-first
    search, so a chain of hundreds of thousands of nodes cannot hit Python's recursion
    limit. Nodes are tracked by identity, so a node reached along two paths appears once.
    """
    return _walk(root, None)


def _walk(root: Node, leaves: list[Node] | None) -> list[Node]:
    """`topological_order`'s walk; given a list `leaves`, the leaves other than `root` go
    there (in the order they are found) instead of into the returned order."""
    order: list[Node] = []
    leaf_list = order if leaves is None else leaves
    visited = {root}
    # The path from root to the node being visited, and for each node on it, an iterator over
    # the parents it has not yet visited.
    path, parents_left = [root], [iter(root.parents)]
    while path:
        for parent in parents_left[-1]:
            if parent not in visited:
                visited.add(parent)
                grandparents = parent.parents
                if not grandparents:  # a leaf is listed at once, without a visit of its own
                    leaf_list.append(parent)
                    continue
                path.append(parent)
                parents_left.append(iter(grandparents))
                break
        else:  # every parent of the last node on the path is listed: list the node itself
            parents_left.pop()
            order.append(path.pop())
    return order


def chain_rule_step(node: Node, upstream: Any, pass_gradients: dict[Node, Any]) -> None:
    """A node's step in an ordinary backward pass: ``node.accumulate_grad(upstream)``, then
    dL/d(parent) += dL/d(node) * d(node)/d(parent) into `pass_gradients` for each parent
    that ``node.chain_rule(upstream)`` sends a contribution to. The node protocol's
    ``backward_step`` for a class that writes no faster one of its own."""
    node.accumulate_grad(upstream)
    add_contributions(node.chain_rule(upstream), pass_gradients)


def add_contributions(sent: Sequence[tuple[Node, Any]], pass_gradients: dict[Node, Any]) -> None:
    """Add each (parent, contribution) pair of `sent` into `pass_gradients` (None: nothing)."""
    for parent, contribution in sent:
        if contribution is not None:
            earlier = pass_gradients.get(parent)
            # Never add in place: one contribution array may be shared by two parents.
            pass_gradients[parent] = contribution if earlier is None else earlier + contribution


def backpropagate(
    root: Node,
    seed: Any,
    *,
    accumulate: bool = True,
    create_graph: bool = False,
    on_step: StepCallback | None = None,
    capture: Optional[Iterable[Node]] = None,
) -> dict[Node, Any]:
    """Apply the chain rule from `root` (whose gradient is `seed`) to every node it depends on.

    Multivariable chain rule: dL/dx = sum over children c of dL/dc * dc/dx. Nodes are
    processed in reverse topological order, so every child has sent its contribution
    before a node passes its own gradient on; the leaves (other than `root`) come last,
    each once its whole gradient has arrived.

    The gradients of *this pass* are summed in a private table, and only then added
    (``+=``) into each node's ``.grad``. That is why calling backward twice behaves like
    PyTorch with ``retain_graph=True``: leaves receive twice the gradient, while an
    intermediate node's accumulated ``.grad`` from an earlier pass is never propagated
    again (micrograd propagates it and double-counts).

    An ordinary pass (accumulating, without `on_step`, `capture` or `create_graph`) makes one
    ``node.backward_step(upstream, pass_gradients)`` call a node; any other pass asks each node
    for its ``chain_rule`` pairs (the ones `on_step` is shown) and adds them itself.

    With ``accumulate=False`` no ``.grad`` is touched: the stepper uses that to record the
    same steps without changing the graph. ``on_step(node, upstream, sent)``, with `sent` the
    (parent, contribution) pairs of ``node.chain_rule(upstream)``, is called for every node
    that has parents, in the order the steps are applied.

    With ``create_graph=True`` (and a seed that is a node) every gradient is computed with
    graph operations, so the gradients are nodes that can be differentiated again. The
    gradient of this pass reaching each node of `capture` is returned, keyed by node (nodes
    that no path reaches are left out); `grad` is built on that.
    """
    if ANOMALY.enabled:  # detect_anomaly(): forward results checked now, each step's gradients as it runs
        on_step = check_anomalies(root, seed, on_step)
    _pause_collector()  # see the module notes
    try:
        return _apply_chain_rule(root, seed, accumulate, create_graph, on_step, capture)
    finally:
        _resume_collector()


def _apply_chain_rule(root: Node, seed: Any, accumulate: bool, create_graph: bool,
                      on_step: StepCallback | None, capture: Optional[Iterable[Node]]) -> dict[Node, Any]:
    """`backpropagate`'s pass itself."""
    wanted = set(capture) if capture is not None else ()
    captured: dict[Node, Any] = {}
    pass_gradients = {root: seed}
    take = pass_gradients.pop
    leaves: list[Node] = []
    order = reversed(_walk(root, leaves))
    if accumulate and not create_graph and on_step is None and not wanted:
        # An ordinary pass: one call a node (`backward_step`, in the module notes).
        for node in order:
            upstream = take(node, None)
            if upstream is not None:  # else no path from root reaches this node with a gradient
                node.backward_step(upstream, pass_gradients)
    else:
        for node in order:
            upstream = take(node, None)
            if upstream is None:
                continue
            if wanted and node in wanted:
                captured[node] = upstream
            if accumulate:
                node.accumulate_grad(upstream)
            sent = node.chain_rule(upstream, True) if create_graph else node.chain_rule(upstream)
            if on_step is not None and sent:
                on_step(node, upstream, sent)
            add_contributions(sent, pass_gradients)
    # A leaf sends nothing on, so it has its whole gradient once every other node has sent
    # theirs: it is accumulated here, without a chain_rule call that would return no pairs (a
    # third to a half of the nodes of a scalar network are leaves: parameters and numbers).
    # The loop's names let go of the last step's gradients first: a leaf keeps a gradient
    # array as its .grad only when nothing else holds it (Tensor.accumulate_grad).
    sent = None
    for leaf in leaves:
        upstream = take(leaf, None)
        if upstream is None:
            continue
        if wanted and leaf in wanted:
            captured[leaf] = upstream
        if accumulate:
            leaf.accumulate_grad(upstream)
    return captured


def zero_grad(root: Node) -> None:
    """Reset the gradient of every node that `root` depends on (root included)."""
    for node in topological_order(root):
        node.clear_grad()
