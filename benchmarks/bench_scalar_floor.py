"""How fast can a pure-Python scalar engine be? The floor under issue 13's "2x micrograd" goal.

Times forward + backward of bench_sweep's scalar graphs (the MLP and the chain with constants,
collector off, a full collection untimed before each repetition, engines alternating), for:

- chainrule: ``root.backward()``, the library's one driver (`autograd_core.graph`), shared by
  `Value` and `Tensor`, the stepper and viz;
- floor: the same Value graph, backpropagated by `values_only_backward` below: a walk and a
  pass written for `Value`'s slots alone, with no method call, no protocol and no collector
  pause a node: what is left of backward when everything generic is taken away. It is a
  measuring stick, not an engine: nothing in the library calls it;
- micrograd 0.1.0.

Both of ours use chainrule's forward; the floor's ratio is what any backward over these nodes
could reach in CPython, so where it is under 2x micrograd, 2x is out of reach for a
pure-Python engine with a graph walk per backward call, whatever its driver.

Then the collector's floor, under the goal "ns per node with the collector on within 1.5x of
its 1e4-node value up to 1e6": the time to do nothing but allocate one object per node with
`Value`'s slots, each pointing at the one before (a chain of 1e4, 1e5 and 1e6), with the
collector on and off. Full collections walk everything the caller has built so far, so per
node they cost more as the graph outgrows the caches; any engine with a tracked object per node
pays at least this growth.

    .venv/bin/python benchmarks/bench_scalar_floor.py [--sizes 1000 10000 100000] [--reps 21]
        [--collector-sizes 10000 100000 1000000]
"""

from __future__ import annotations

import argparse
import gc
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_sweep import ScalarShape, processor_info  # noqa: E402  (one graph recipe for all three)

from autograd_core import Value  # noqa: E402


def values_only_backward(root: Any) -> None:
    """dL/dnode for every node of a Value graph, accumulated into ``.grad`` (seed 1): the walk
    of `autograd_core.graph._walk` and the step of `Value.backward_step`, on the slots."""
    order, leaves = [], []
    visited = {root}
    path, parents_left = [root], [iter(root.parents)]
    while path:
        for parent in parents_left[-1]:
            if parent not in visited:
                visited.add(parent)
                first = parent._first_parent
                if first is None:
                    leaves.append(parent)
                    continue
                second = parent._second_parent
                path.append(parent)
                parents_left.append(iter((first,) if second is None else (first, second)))
                break
        else:
            parents_left.pop()
            order.append(path.pop())
    gradients = {root: 1.0}
    take, earlier_gradient = gradients.pop, gradients.get
    for node in reversed(order):
        upstream = take(node, None)
        if upstream is None:
            continue
        node.grad += upstream
        first, contribution = node._first_parent, upstream * node._local_first
        earlier = earlier_gradient(first)
        gradients[first] = contribution if earlier is None else earlier + contribution
        second = node._second_parent
        if second is not None:
            contribution = upstream * node._local_second
            earlier = earlier_gradient(second)
            gradients[second] = contribution if earlier is None else earlier + contribution
    for leaf in leaves:
        upstream = take(leaf, None)
        if upstream is not None:
            leaf.grad += upstream


class BareNode:
    """An object with `Value`'s slots and nothing else: the collector's view of a node."""

    __slots__ = Value.__slots__


def allocate_chain(length: int) -> BareNode:
    """`length` BareNodes, each holding the one before, filled as `Value.__mul__` fills a node."""
    previous = None
    for _ in range(length):
        node = BareNode()
        node.data, node.grad, node.label, node._op = 0.5, 0.0, "", None
        node._first_parent, node._local_first = previous, 1.0
        node._second_parent, node._local_second = None, 0.0
        previous = node
    return previous


def collector_floor(sizes: list[int]) -> None:
    """Print ns per allocated BareNode with the collector on and off, and the growth with it on."""
    print("\nthe collector's floor: allocating a chain of objects with Value's slots, nothing else")
    print(f"{'objects':>8s} {'gc on':>10s} {'gc off':>10s} {'gc on, x its first size':>24s}")
    first = None
    for size in sizes:
        per_object = {}
        for collector_on in (True, False):
            times = []
            for _ in range(3 if size >= 1_000_000 else 5):
                gc.collect()
                if not collector_on:
                    gc.disable()
                try:
                    start = time.perf_counter()
                    chain = allocate_chain(size)
                    times.append(time.perf_counter() - start)
                finally:
                    gc.enable()
                del chain
            per_object[collector_on] = statistics.median(times) / size * 1e9
        first = first or per_object[True]
        print(f"{size:8d} {per_object[True]:8.0f}ns {per_object[False]:8.0f}ns "
              f"{per_object[True] / first:23.2f}x", flush=True)


def time_once(shape: ScalarShape, units: int, engine: str) -> tuple[float, float]:
    """(seconds for forward + backward, the gradient bench_sweep compares) of one repetition."""
    shape.reset()
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        handle, root = shape.build(units, ours=engine != "micrograd")
        if engine == "floor":
            values_only_backward(root)
        else:
            root.backward()
        elapsed = time.perf_counter() - start
    finally:
        gc.enable()
    return elapsed, float(shape.gradient(handle))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000],
                        help="graph sizes in nodes (default 1e3 1e4 1e5)")
    parser.add_argument("--reps", type=int, default=21, help="repetitions at 1e3 nodes (fewer above)")
    parser.add_argument("--collector-sizes", type=int, nargs="*", default=[10_000, 100_000, 1_000_000],
                        help="chain lengths for the collector's floor (none: skip it)")
    args = parser.parse_args()
    processor = processor_info()
    print(f"python {platform.python_version()}, {processor['model_name']} ({processor['cores']} cores); "
          "collector off; medians of alternating repetitions")
    print(f"{'shape':6s} {'nodes':>8s} {'chainrule':>10s} {'floor':>10s} {'micrograd':>10s} "
          f"{'chainrule speedup':>18s} {'floor speedup':>14s}")
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 4 * max(args.sizes) + 10_000))  # micrograd recurses
    for name in ("mlp", "chain"):
        shape = ScalarShape(name, max(args.sizes))
        gc.collect()
        gc.freeze()  # the modules and the model are not the graphs' garbage (as bench_sweep)
        for target in args.sizes:
            units = shape.units_for(target)
            reps = max(3, min(args.reps, args.reps * 1_000 // target))
            times: dict[str, list[float]] = {"chainrule": [], "floor": [], "micrograd": []}
            gradients: dict[str, float] = {}
            for _ in range(reps):
                for engine in times:
                    elapsed, gradients[engine] = time_once(shape, units, engine)
                    times[engine].append(elapsed)
            spread = max(gradients.values()) - min(gradients.values())
            if spread > 1e-9 * max(1.0, max(abs(g) for g in gradients.values())):
                raise SystemExit(f"{name} {target}: the engines disagree on the gradient: {gradients}")
            ours, floor, theirs = (statistics.median(times[engine]) for engine in times)
            print(f"{name:6s} {target:8d} {ours * 1e6:8.0f}us {floor * 1e6:8.0f}us {theirs * 1e6:8.0f}us "
                  f"{theirs / ours:17.2f}x {theirs / floor:13.2f}x", flush=True)
        gc.unfreeze()
    if args.collector_sizes:
        gc.collect()
        gc.freeze()
        collector_floor(args.collector_sizes)


if __name__ == "__main__":
    main()
