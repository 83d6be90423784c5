"""The sweep of issue 13: chainrule's tensor step against PyTorch, numpy and JAX, and its scalar
engine against micrograd, in one process, with the ratios and which of the issue's goals hold.

Tensor: one SGD step (forward an MLP, cross-entropy on the logits, backward, SGD update with
lr 0.01) for 4-16-16-3 on 150 samples, 64-64-10 on 64, 784-256-128-10 on 256 and
784-1024-1024-10 on 512, ReLU everywhere and tanh and sigmoid at 64-64-10, in float32 and
float64. The contenders:

- chainrule: `nn.TensorMLP`, `nn.functional.cross_entropy`, `nn.SGD`, with its Numba kernels
  loaded before the first case (untimed, as JAX's compilation), so that every case runs in the
  steady state of a process that has loaded them;
- PyTorch CPU: `torch.nn.Sequential` of Linear and the activation, `F.cross_entropy`,
  `torch.optim.SGD`, with ``torch.set_num_threads`` set to chainrule's thread count (Numba's,
  ``numba.get_num_threads()``); numpy's BLAS uses its own threads (all cores, unless
  OPENBLAS_NUM_THREADS says otherwise) for chainrule and the numpy MLP alike;
- a hand-written numpy MLP (forward, softmax cross-entropy, backward by hand, SGD in place);
- JAX, when it is importable: ``jax.jit`` of value_and_grad plus the SGD update (parameters
  donated), compiled during the warm-up; XLA runs its own thread pool (all cores). float64
  needs ``jax_enable_x64``, which this script turns on (float32 arrays stay float32).

All contenders start from chainrule's initial weights, see the same data and take the same
steps, and their losses must agree at every step (warm-up included) with chainrule's: to a
relative 1e-9 in float64 and 1e-4 in float32 (where summation order alone moves the last
digits, and the difference grows a little over the steps). Times are medians over
alternating blocks (chainrule's block, then PyTorch's, numpy's and JAX's, five times), so a
burst of load from another process hits every contender alike; the first step of each block
is left out of the median (the threads of the previous contender's parallel regions are
still spinning down). The number of steps adapts to the size: about `--seconds` of timed
steps per contender and case, at most `--steps`.

Scalar: forward + backward of one graph, chainrule's `Value` against micrograd 0.1.0's, for
two shapes: an MLP graph (``nn.MLP(2, [16, 16, 1])``, ReLU, on a batch of points whose
outputs are summed into one root; micrograd's MLP gets the same weights and its inputs as
Values, as micrograd's demo does) and a chain with constants (``y = y * 0.999 + 0.001``
repeated from one leaf). Each is sized to about 1e3, 1e4, 1e5 and 1e6 nodes in total,
counted with ``autograd_core.topological_order`` on chainrule's graph (micrograd's graph is
counted by a walk over ``_prev``; both engines make the numbers into nodes, so the counts
agree). Each repetition starts after a full collection and times the forward and the
backward, with the garbage collector on and again off (``gc.disable()`` around the timed
part); engines alternate repetition by repetition. Freeing the graph is not timed: with the
collector on, chainrule's graph is freed by reference counting when it is dropped, while
micrograd's closures tie every node into reference cycles that only the collector frees,
so each repetition's garbage is collected (untimed) before the next. Objects that exist
before the scalar section (the imported modules: torch and jax alone are hundreds of
thousands of objects) are moved out of the collector's sight with ``gc.freeze()``, so a
full collection walks the graphs being built only, as in a script that imports just the
engine. Both engines must agree on the root's value and the gradients (the leaf's, or
the sum of the parameters').

Bytes per node: in a separate, untimed forward pass (collector off, so the count is not
moved by a collection), ``tracemalloc`` records every allocation of the Python allocators
(objects, their dicts, sets, closures and cells, float objects, list buffers). "B/node" is
the memory still allocated after the forward pass (the graph itself: the nodes and
everything they hold) divided by the number of nodes the pass made; "peak B/n" is the
forward pass's peak divided by the same number. The MLP's parameters exist before the pass,
so they are neither counted nor divided by. Both engines are pure Python, so tracemalloc
sees all of their memory, and the same accounting applies to both. The backward pass is not
traced: tracemalloc walks the whole Python stack on every allocation (Python 3.11 counts
every frame), and micrograd's topological sort recurses once per node along a path (half a
million frames deep in the 1e6-node chain), which makes tracing it quadratic: hours.

    .venv/bin/python benchmarks/bench_sweep.py [--quick] [--max-nodes 1000000] [--json PATH]
        [--steps 200] [--seconds 1.0] [--scalar-reps 3] [--no-jax] [--no-tensor] [--no-scalar]

A full run takes about 8 minutes on the 2-core development VM. The 1e6-node cases take
about a gigabyte for micrograd (less for chainrule) and, with the collector on, 15-40 s per
micrograd repetition; ``--max-nodes`` caps the sizes. Run it on an otherwise idle machine:
while another process keeps a core busy, every 2-thread fork-join (PyTorch's OpenMP,
OpenBLAS, Numba) waits for scheduler ticks, and the large tensor steps of PyTorch, numpy and
chainrule slow down 10-20x while JAX's barely do; ``OPENBLAS_NUM_THREADS=1
NUMBA_NUM_THREADS=1`` (PyTorch follows Numba) gives steadier single-threaded numbers there.
``--quick`` is the smoke test's run: scalar sizes up to 1e4 nodes, a few steps per case, and
no 784-1024-1024-10 case.
The exit status is 1 when the contenders disagree on a loss or a gradient, 0 otherwise:
goals that are missed are reported, never an error (speed is never a test).
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import statistics
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any, Callable, Optional

import numba
import numpy as np
import torch
import micrograd
from micrograd.engine import Value as MicrogradValue
from micrograd.nn import MLP as MicrogradMLP

# Run from a checkout without installing chainrule: its packages live one folder up.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # the other benchmarks' helpers
from autograd_core import Tensor, Value, topological_order  # noqa: E402
from nn import MLP, SGD, TensorMLP  # noqa: E402
from nn import functional as F  # noqa: E402
from nn.layers import Linear  # noqa: E402
from autograd_core.kernels.warmup import warm_up  # noqa: E402
from bench_scalar import micrograd_copy  # noqa: E402
from bench_tensor import chainrule_step, numpy_step, torch_step, weights_of  # noqa: E402
from bench_tensor import time_in_blocks as blocks_timer  # noqa: E402

try:
    import jax
    import jax.numpy as jnp
    jax.config.update("jax_enable_x64", True)  # before any array exists; float32 arrays stay float32
except ImportError:  # JAX is in the `bench` extra, not a test dependency
    jax = jnp = None

LEARNING_RATE = 0.01
# (name, layer sizes, samples, activation); each runs in float32 and in float64.
TENSOR_CASES = [
    ("4-16-16-3", [4, 16, 16, 3], 150, "relu"),
    ("64-64-10", [64, 64, 10], 64, "relu"),
    ("64-64-10", [64, 64, 10], 64, "tanh"),
    ("64-64-10", [64, 64, 10], 64, "sigmoid"),
    ("784-256-128-10", [784, 256, 128, 10], 256, "relu"),
    ("784-1024-1024-10", [784, 1024, 1024, 10], 512, "relu"),
]
SMALL_CASE = ("4-16-16-3", "relu")
DTYPES = [np.float32, np.float64]
LOSS_TOLERANCE = {"float32": 1e-4, "float64": 1e-9}

SCALAR_SIZES = [1_000, 10_000, 100_000, 1_000_000]
SCALAR_SHAPES = ["mlp", "chain"]
MLP_SIZES = [16, 16, 1]
CHAIN_FACTOR, CHAIN_OFFSET = 0.999, 0.001

# The goals of issue 13.
GOAL_SMALL_VS_NUMPY = 1.3
GOAL_SMALL_VS_JAX = 1.5
GOAL_VS_TORCH = 1.0
GOAL_GC_OFF_SPEEDUP = 2.0
GOAL_PER_NODE_GROWTH = 1.5

Step = Callable[[], float]


# -- the machine ------------------------------------------------------------------------------------------

def processor_info() -> dict[str, Any]:
    """The processor as platform and /proc/cpuinfo describe it, and its AVX-512F / AVX2 flags."""
    model, flags = "", set()
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as cpuinfo:
            for line in cpuinfo:
                key, _, value = line.partition(":")
                if key.strip() == "model name" and not model:
                    model = value.strip()
                elif key.strip() == "flags" and not flags:
                    flags = set(value.split())
    except OSError:
        pass
    return {"platform_processor": platform.processor(), "machine": platform.machine(),
            "model_name": model or "unknown (no /proc/cpuinfo)", "cores": os.cpu_count(),
            "avx512f": "avx512f" in flags, "avx2": "avx2" in flags}


def blas_name() -> str:
    """numpy's BLAS, as its build configuration names it."""
    try:
        config = np.show_config(mode="dicts")
        blas = config["Build Dependencies"]["blas"]
        return f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:  # older numpy, or a build without the information
        return "unknown"


def environment() -> dict[str, Any]:
    versions = {"python": platform.python_version(), "numpy": np.__version__, "numba": numba.__version__,
                "torch": torch.__version__, "jax": jax.__version__ if jax is not None else None,
                "micrograd": getattr(micrograd, "__version__", None) or _distribution_version("micrograd"),
                "numpy_blas": blas_name()}
    threads = {"numba (chainrule)": numba.get_num_threads(), "torch": torch.get_num_threads(),
               "cores": os.cpu_count(),
               "numpy BLAS": os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS")
               or "its default (all cores)",
               "jax": "XLA's own pool (all cores)" if jax is not None else None,
               "environment": {name: os.environ[name] for name in
                               ("NUMBA_NUM_THREADS", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                                "XLA_FLAGS") if name in os.environ}}
    return {"processor": processor_info(), "versions": versions, "threads": threads,
            "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None}


def _distribution_version(name: str) -> Optional[str]:
    try:
        from importlib.metadata import version
        return version(name)
    except Exception:
        return None


def print_environment(env: dict[str, Any]) -> None:
    cpu, versions, threads = env["processor"], env["versions"], env["threads"]
    print(f"processor: {cpu['model_name']} (platform.processor(): {cpu['platform_processor'] or '-'}, "
          f"{cpu['machine']}, {cpu['cores']} cores); avx512f: {'yes' if cpu['avx512f'] else 'no'}, "
          f"avx2: {'yes' if cpu['avx2'] else 'no'}")
    print(f"Python {versions['python']}, numpy {versions['numpy']} ({versions['numpy_blas']}), "
          f"numba {versions['numba']}, torch {versions['torch']}, "
          f"jax {versions['jax'] or 'not installed'}, micrograd {versions['micrograd']}")
    print(f"threads: chainrule (Numba) {threads['numba (chainrule)']}, torch {threads['torch']}, "
          f"jax {threads['jax'] or '-'}, numpy's BLAS (chainrule's and the numpy MLP's) {threads['numpy BLAS']}"
          + "".join(f"; {name}={value}" for name, value in threads["environment"].items()))
    if env["load_average"] is not None:
        print("load average before the run: " + ", ".join(f"{x:.2f}" for x in env["load_average"]))


# -- tensor step: the four contenders ----------------------------------------------------------------------

def make_data(sizes: list[int], samples: int, dtype: Any, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Standard-normal features of `dtype` and uniformly drawn class labels (int64)."""
    rng = np.random.default_rng(seed)
    return rng.normal(size=(samples, sizes[0])).astype(dtype), rng.integers(0, sizes[-1], size=samples)


def jax_step(weights: list[tuple[np.ndarray, np.ndarray]], X: np.ndarray, y: np.ndarray,
             activation: str) -> Step:
    """JAX's jitted step: value_and_grad of the loss and the SGD update in one compiled
    function; the parameters are donated, so XLA may update them in place."""
    act = {"relu": jax.nn.relu, "tanh": jnp.tanh, "sigmoid": jax.nn.sigmoid}[activation]

    def loss_fn(params: list, inputs: Any, labels: Any) -> Any:
        h = inputs
        for i, (w, b) in enumerate(params):
            h = h @ w.T + b
            if i < len(params) - 1:
                h = act(h)
        log_probs = jax.nn.log_softmax(h, axis=1)
        return -jnp.mean(jnp.take_along_axis(log_probs, labels[:, None], axis=1))

    def update(params: list, inputs: Any, labels: Any) -> tuple[Any, list]:
        loss, grads = jax.value_and_grad(loss_fn)(params, inputs, labels)
        return loss, jax.tree_util.tree_map(lambda p, g: p - LEARNING_RATE * g, params, grads)

    compiled = jax.jit(update, donate_argnums=0)
    state = [[(jnp.array(w), jnp.array(b)) for w, b in weights]]  # jnp.array copies
    inputs, labels = jnp.array(X), jnp.array(y)

    def step() -> float:
        loss, state[0] = compiled(state[0], inputs, labels)
        return float(loss)  # waits for the step to finish
    return step


# -- tensor step: timing ---------------------------------------------------------------------------------

def time_in_blocks(steps: dict[str, Step], per_block: int, blocks: int,
                   losses: dict[str, list[float]]) -> dict[str, float]:
    """Median seconds per step of each contender; appends each one's losses to `losses`.

    bench_tensor's alternating blocks (ABCD ABCD ..., the first step of each block left out),
    `per_block` steps per block."""
    medians, block_losses = blocks_timer(steps, rounds=per_block * blocks, blocks=blocks)
    for name, values in block_losses.items():
        losses[name].extend(values)
    return medians


def loss_agreement(losses: dict[str, list[float]]) -> dict[str, float]:
    """Each contender's largest relative difference from chainrule's losses, step by step."""
    ours = np.array(losses["chainrule"])
    return {name: float(np.max(np.abs(np.array(values) - ours) / np.abs(ours)))
            for name, values in losses.items() if name != "chainrule"}


def run_tensor_case(name: str, sizes: list[int], samples: int, activation: str, dtype: Any,
                    settings: dict[str, Any], use_jax: bool) -> dict[str, Any]:
    X, y = make_data(sizes, samples, dtype)
    model = TensorMLP(sizes, activation=activation, seed=0, dtype=dtype)
    weights = weights_of(model)
    steps = {"chainrule": chainrule_step(model, X, y), "torch": torch_step(weights, X, y, activation),
             "numpy": numpy_step(weights, X, y, activation)}
    if use_jax:
        steps["jax"] = jax_step(weights, X, y, activation)
    losses: dict[str, list[float]] = {name: [] for name in steps}
    warmup_times: dict[str, list[float]] = {name: [] for name in steps}
    for contender, step in steps.items():  # compile (JAX, Numba), allocate, fill caches
        for _ in range(settings["warmup"]):
            start = time.perf_counter()
            losses[contender].append(step())
            warmup_times[contender].append(time.perf_counter() - start)
    # The step count follows the slowest contender, each judged by its fastest warm-up step
    # after the first (which compiles), so that one step slowed by load does not cut the count.
    slowest = max(min(times[1:]) for times in warmup_times.values())
    timed_steps = int(min(settings["steps"], max(settings["min_steps"], settings["seconds"] / slowest)))
    blocks = settings["blocks"]
    per_block = max(2, math.ceil(timed_steps / blocks))
    medians = time_in_blocks(steps, per_block, blocks, losses)
    dtype_name = np.dtype(dtype).name
    agreement = loss_agreement(losses)
    tolerance = LOSS_TOLERANCE[dtype_name]
    return {"case": name, "sizes": sizes, "samples": samples, "activation": activation, "dtype": dtype_name,
            "steps_per_contender": per_block * blocks, "timed_per_contender": (per_block - 1) * blocks,
            "seconds": medians,
            "ratios": {other: medians["chainrule"] / medians[other] for other in medians if other != "chainrule"},
            "loss_rel_diff": agreement, "loss_tolerance": tolerance,
            "agree": all(diff <= tolerance for diff in agreement.values()),  # False for a NaN too
            "final_loss": losses["chainrule"][-1]}


def format_time(seconds: Optional[float]) -> str:
    if seconds is None:
        return "-"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} us"
    return f"{seconds * 1e3:.2f} ms" if seconds < 1.0 else f"{seconds:.2f} s"


TENSOR_HEADER = (f"{'case':22s} {'act':7s} {'dtype':7s} {'steps':>5s} {'chainrule':>10s} {'PyTorch':>10s} "
                 f"{'numpy':>10s} {'JAX':>10s} {'/torch':>7s} {'/numpy':>7s} {'/JAX':>7s}  loss agreement")


def tensor_line(row: dict[str, Any]) -> str:
    s, r = row["seconds"], row["ratios"]
    worst = max(row["loss_rel_diff"].values())
    jax_ratio = f"{r['jax']:6.2f}x" if "jax" in r else "-"
    return (f"{row['case']:22s} {row['activation']:7s} {row['dtype']:7s} {row['timed_per_contender']:5d} "
            f"{format_time(s['chainrule']):>10s} {format_time(s['torch']):>10s} {format_time(s['numpy']):>10s} "
            f"{format_time(s.get('jax')):>10s} {r['torch']:6.2f}x {r['numpy']:6.2f}x {jax_ratio:>7s}  "
            f"{'agree' if row['agree'] else 'DISAGREE'} (max rel. diff {worst:.1e}, tol {row['loss_tolerance']:g})")


def tensor_table(rows: list[dict[str, Any]], use_jax: bool) -> str:
    lines = [TENSOR_HEADER, "-" * len(TENSOR_HEADER)] + [tensor_line(row) for row in rows]
    if not use_jax:
        lines.append("JAX columns skipped: jax is not installed (pip install -e '.[bench]') or --no-jax was given")
    return "\n".join(lines)


def run_tensor(settings: dict[str, Any], use_jax: bool) -> list[dict[str, Any]]:
    torch.set_num_threads(numba.get_num_threads())
    # Steady state, as for JAX's compiled step: chainrule's Numba kernels are loaded first,
    # as in any process that has run a large array, so small arrays take the kernels that
    # win there (autograd_core.kernels.dispatch.SERIAL_FROM_ONCE_LOADED).
    loaded_in = warm_up(("float64", "float32"))
    print(f"\n== tensor SGD step (forward, cross-entropy on the logits, backward, SGD lr={LEARNING_RATE}): "
          f"median seconds per step, ratios = chainrule / competitor (lower is better) ==")
    print(f"   {settings['warmup']} warm-up steps, then {settings['blocks']} alternating blocks; timed "
          f"steps per contender shown under 'steps' (about {settings['seconds']:g} s each, at most "
          f"{settings['steps']}); chainrule's Numba kernels loaded first ({loaded_in:.2f} s, not timed)\n")
    print(TENSOR_HEADER)
    print("-" * len(TENSOR_HEADER), flush=True)
    rows = []
    for name, sizes, samples, activation in TENSOR_CASES:
        if settings["quick"] and sizes[1] >= 1024:
            print(f"{name} x{samples}: left out by --quick")
            continue
        for dtype in DTYPES:
            rows.append(run_tensor_case(f"{name} x{samples}", sizes, samples, activation, dtype, settings, use_jax))
            print(tensor_line(rows[-1]), flush=True)
    print()
    return rows


# -- scalar engine ---------------------------------------------------------------------------------------

def count_micrograd_nodes(root: MicrogradValue) -> int:
    """The nodes of a micrograd graph (an iterative walk over `_prev`)."""
    seen, stack = {root}, [root]
    while stack:
        for child in stack.pop()._prev:
            if child not in seen:
                seen.add(child)
                stack.append(child)
    return len(seen)


class ScalarShape:
    """Builds one shape's graph for both engines at a given size; checks that they agree."""

    def __init__(self, name: str, max_nodes: int) -> None:
        self.name = name
        if name == "mlp":
            self.model = MLP(2, MLP_SIZES, activation="relu", seed=0)
            self.twin = micrograd_copy(self.model)
            # About 640 nodes a point: enough points for max_nodes, and no more (they are
            # objects the collector walks while the graphs are timed).
            self.points = np.random.default_rng(1).normal(size=(max_nodes // 500 + 2, 2)).tolist()
            one, two = (len(topological_order(self.build(n, ours=True)[1])) for n in (1, 2))
            self.per_unit, self.base = two - one, one - (two - one)  # nodes per point, parameters
            self.preexisting = len(self.model.parameters())  # leaves that exist before a pass
        else:
            one = len(topological_order(self.build(1, ours=True)[1]))
            self.per_unit, self.base = one - 1, 1  # nodes per link, the leaf
            self.preexisting = 0

    def units_for(self, target: int) -> int:
        return max(1, round((target - self.base) / self.per_unit))

    def describe(self, units: int) -> str:
        return (f"MLP(2, {MLP_SIZES}) on {units} points" if self.name == "mlp"
                else f"chain of {units} x (y * {CHAIN_FACTOR} + {CHAIN_OFFSET})")

    def build(self, units: int, ours: bool) -> tuple[Any, Any]:
        """(the model or the chain's leaf, the root) of one engine's graph of `units` points
        or links; micrograd's MLP takes its inputs as its own Values, as micrograd's demo does."""
        if self.name == "mlp":
            model = self.model if ours else self.twin
            root = None
            for x in self.points[:units]:
                out = model(x if ours else list(map(MicrogradValue, x)))
                root = out if root is None else root + out
            return model, root
        leaf = Value(0.5) if ours else MicrogradValue(0.5)
        y = leaf
        for _ in range(units):
            y = y * CHAIN_FACTOR + CHAIN_OFFSET
        return leaf, y

    def gradient(self, handle: Any) -> float:
        """The leaf's gradient, or the sum of the parameters' gradients (MLP)."""
        if self.name == "mlp":
            return math.fsum(p.grad for p in handle.parameters())
        return handle.grad

    def reset(self) -> None:
        if self.name == "mlp":
            for model in (self.model, self.twin):
                model.zero_grad()


def _rel(a: float, b: float) -> float:
    return abs(a - b) / max(abs(a), abs(b), 1e-300)


def time_scalar_rep(shape: ScalarShape, units: int, ours: bool, collector_on: bool) -> tuple[float, float, float]:
    """(seconds for forward + backward, root's value, gradient) of one repetition."""
    shape.reset()
    gc.collect()
    if not collector_on:
        gc.disable()
    try:
        start = time.perf_counter()
        handle, root = shape.build(units, ours)
        root.backward()
        elapsed = time.perf_counter() - start
    finally:
        gc.enable()
    value, gradient = float(root.data), float(shape.gradient(handle))
    del handle, root
    return elapsed, value, gradient


def measure_bytes(shape: ScalarShape, units: int, ours: bool, new_nodes: int) -> dict[str, float]:
    """tracemalloc's count of the graph after a forward pass and the pass's peak, per node the
    pass made; collector off during the pass, so no collection moves the numbers. The backward
    is not traced (see the docstring: micrograd's recursion would make tracing quadratic)."""
    shape.reset()
    gc.collect()
    gc.disable()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        handle, root = shape.build(units, ours)
        graph, peak = (traced - base for traced in tracemalloc.get_traced_memory())
        del handle, root
    finally:
        tracemalloc.stop()
        gc.enable()
    gc.collect()
    return {"graph": graph / new_nodes, "peak": peak / new_nodes}


def scalar_reps(nodes: int, settings: dict[str, Any]) -> int:
    return max(settings["scalar_reps"], min(settings["scalar_reps_max"], int(2e5 // nodes)))


def run_scalar(settings: dict[str, Any]) -> list[dict[str, Any]]:
    sizes = [size for size in SCALAR_SIZES if size <= settings["max_nodes"]] or [settings["max_nodes"]]
    print("== scalar engine: forward + backward of one graph, chainrule vs micrograd; ratio = chainrule / "
          "micrograd time (lower is better) ==")
    print(f"   sizes {', '.join(f'{s:.0e}' for s in sizes)} nodes; collector on and off; median over "
          f"repetitions alternating between the engines; memory from tracemalloc (see the docstring)\n")
    old_limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old_limit, 4 * sizes[-1] + 10_000))  # micrograd's backward recurses
    rows = []
    header = (f"{'shape':6s} {'nodes':>9s} {'gc':3s} {'reps':>4s} {'chainrule':>10s} {'micrograd':>10s} "
              f"{'ratio':>7s} {'ns/node':>8s} {'mg ns/n':>8s} {'B/node':>7s} {'mg B/n':>7s} "
              f"{'peak B/n':>8s} {'mg peak':>8s}  agreement")
    print(header)
    print("-" * len(header), flush=True)
    try:
        for shape_name in SCALAR_SHAPES:
            shape = ScalarShape(shape_name, sizes[-1])
            gc.collect()
            gc.freeze()  # the modules, the models and the points are not the graphs' garbage (see the docstring)
            for target in sizes:
                units = shape.units_for(target)
                _, root = shape.build(units, ours=True)
                nodes = len(topological_order(root))
                _, their_root = shape.build(units, ours=False)
                their_nodes = count_micrograd_nodes(their_root)
                del root, their_root
                memory = {"chainrule": measure_bytes(shape, units, True, nodes - shape.preexisting),
                          "micrograd": measure_bytes(shape, units, False, their_nodes - shape.preexisting)}
                reps = scalar_reps(nodes, settings)
                for collector_on in (True, False):
                    times: dict[str, list[float]] = {"chainrule": [], "micrograd": []}
                    results: dict[str, tuple[float, float]] = {}
                    for _ in range(reps):
                        for engine in ("chainrule", "micrograd"):
                            elapsed, value, gradient = time_scalar_rep(shape, units, engine == "chainrule",
                                                                       collector_on)
                            times[engine].append(elapsed)
                            results.setdefault(engine, (value, gradient))
                    (our_value, our_grad), (their_value, their_grad) = results["chainrule"], results["micrograd"]
                    difference = max(_rel(our_value, their_value), _rel(our_grad, their_grad))
                    ours, theirs = statistics.median(times["chainrule"]), statistics.median(times["micrograd"])
                    row = {"shape": shape_name, "graph": shape.describe(units), "target_nodes": target,
                           "nodes": nodes, "micrograd_nodes": their_nodes, "gc": "on" if collector_on else "off",
                           "reps": reps, "seconds": {"chainrule": ours, "micrograd": theirs},
                           "ratio": ours / theirs, "speedup": theirs / ours,
                           "ns_per_node": {"chainrule": ours / nodes * 1e9, "micrograd": theirs / their_nodes * 1e9},
                           "bytes_per_node": {engine: memory[engine]["graph"] for engine in memory},
                           "peak_bytes_per_node": {engine: memory[engine]["peak"] for engine in memory},
                           "value_rel_diff": difference, "agree": difference <= 1e-9}
                    rows.append(row)
                    print(scalar_row(row), flush=True)
    finally:
        gc.unfreeze()
        sys.setrecursionlimit(old_limit)
    print()
    return rows


def scalar_row(row: dict[str, Any]) -> str:
    s, n, b, p = row["seconds"], row["ns_per_node"], row["bytes_per_node"], row["peak_bytes_per_node"]
    nodes = f"{row['nodes']}" if row["nodes"] == row["micrograd_nodes"] else f"{row['nodes']}/{row['micrograd_nodes']}"
    return (f"{row['shape']:6s} {nodes:>9s} {row['gc']:3s} {row['reps']:4d} {format_time(s['chainrule']):>10s} "
            f"{format_time(s['micrograd']):>10s} {row['ratio']:6.2f}x {n['chainrule']:8.0f} {n['micrograd']:8.0f} "
            f"{b['chainrule']:7.0f} {b['micrograd']:7.0f} {p['chainrule']:8.0f} {p['micrograd']:8.0f}  "
            f"{'agree' if row['agree'] else 'DISAGREE'} ({row['value_rel_diff']:.0e})")


# -- goals -----------------------------------------------------------------------------------------------

def check_goals(tensor: list[dict[str, Any]], scalar: list[dict[str, Any]], use_jax: bool,
                max_nodes: int) -> list[dict[str, str]]:
    """Each goal of issue 13 that this sweep measures: PASS, FAIL or SKIP, with the numbers."""
    goals: list[dict[str, str]] = []

    def goal(name: str, verdict: str, detail: str) -> None:
        goals.append({"goal": name, "verdict": verdict, "detail": detail})

    small = {row["dtype"]: row for row in tensor if (row["case"].split(" x")[0], row["activation"]) == SMALL_CASE}
    for dtype in ("float32", "float64"):
        row = small.get(dtype)
        name = f"small tensor step ({SMALL_CASE[0]}) <= {GOAL_SMALL_VS_NUMPY}x numpy MLP, {dtype}"
        if row is None:
            goal(name, "SKIP", "tensor sweep not run")
        else:
            ratio = row["ratios"]["numpy"]
            goal(name, "PASS" if ratio <= GOAL_SMALL_VS_NUMPY else "FAIL", f"{ratio:.2f}x")
        name = f"small tensor step ({SMALL_CASE[0]}) <= {GOAL_SMALL_VS_JAX}x JAX jit, {dtype}"
        if row is None or not use_jax:
            goal(name, "SKIP", "tensor sweep not run" if row is None else "JAX not installed")
        else:
            ratio = row["ratios"]["jax"]
            goal(name, "PASS" if ratio <= GOAL_SMALL_VS_JAX else "FAIL", f"{ratio:.2f}x")

    for dtype in ("float32", "float64"):
        rows = [row for row in tensor if row["dtype"] == dtype]
        name = f"every tensor case <= {GOAL_VS_TORCH}x PyTorch, {dtype}"
        if not rows:
            goal(name, "SKIP", "tensor sweep not run")
            continue
        missed = [f"{row['case']} {row['activation']} {row['ratios']['torch']:.2f}x" for row in rows
                  if not row["ratios"]["torch"] <= GOAL_VS_TORCH]
        worst = max(row["ratios"]["torch"] for row in rows)
        goal(name, "FAIL" if missed else "PASS",
             f"worst {worst:.2f}x" + (f"; over: {', '.join(missed)}" if missed else ""))

    name = "scalar never slower than micrograd (every shape, size, collector on and off)"
    if not scalar:
        goal(name, "SKIP", "scalar sweep not run")
    else:
        slower = [f"{row['shape']} {row['nodes']} gc {row['gc']} {row['ratio']:.2f}x" for row in scalar
                  if not row["ratio"] <= 1.0]
        worst = max(row["ratio"] for row in scalar)
        goal(name, "FAIL" if slower else "PASS",
             f"worst {worst:.2f}x micrograd's time" + (f"; slower: {', '.join(slower)}" if slower else ""))

    measured_up_to = max((row["target_nodes"] for row in scalar), default=0)
    partial = "" if measured_up_to >= SCALAR_SIZES[-1] else f" (measured up to {measured_up_to:.0e} nodes only)"
    for shape in SCALAR_SHAPES:
        rows = [row for row in scalar if row["shape"] == shape and row["gc"] == "off"]
        name = f"scalar {shape} >= {GOAL_GC_OFF_SPEEDUP:g}x micrograd with the collector off, 1e3..1e6 nodes"
        if not rows:
            goal(name, "SKIP", "scalar sweep not run")
            continue
        missed = [f"{row['nodes']}: {row['speedup']:.2f}x" for row in rows if not row["speedup"] >= GOAL_GC_OFF_SPEEDUP]
        speedups = ", ".join(f"{row['speedup']:.2f}x" for row in rows)
        goal(name, "FAIL" if missed else "PASS", f"speedups {speedups}{partial}")

    for shape in SCALAR_SHAPES:
        rows = {row["target_nodes"]: row for row in scalar if row["shape"] == shape and row["gc"] == "on"}
        name = f"scalar {shape}: ns/node with the collector on <= {GOAL_PER_NODE_GROWTH}x its 1e4 value up to 1e6"
        if not scalar:
            goal(name, "SKIP", "scalar sweep not run")
            continue
        if 10_000 not in rows:
            goal(name, "SKIP", f"needs the 1e4-node size (--max-nodes {max_nodes})")
            continue
        reference = rows[10_000]["ns_per_node"]["chainrule"]
        larger = [row for size, row in sorted(rows.items()) if size > 10_000]
        if not larger:
            goal(name, "SKIP", f"no size above 1e4 measured (--max-nodes {max_nodes})")
            continue
        growth = [(row["nodes"], row["ns_per_node"]["chainrule"] / reference) for row in larger]
        missed = [g for g in growth if not g[1] <= GOAL_PER_NODE_GROWTH]
        goal(name, "FAIL" if missed else "PASS",
             f"1e4: {reference:.0f} ns/node; " + ", ".join(f"{n}: {g:.2f}x" for n, g in growth) + partial)
    return goals


def print_goals(goals: list[dict[str, str]]) -> None:
    print("== goals of issue 13 ==")
    for g in goals:
        print(f"GOAL {g['verdict']:4s} {g['goal']}: {g['detail']}")


# -- main ------------------------------------------------------------------------------------------------

def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="a small run for the smoke test: scalar sizes up to 1e4 nodes, few steps")
    parser.add_argument("--max-nodes", type=float, default=1e6,
                        help="largest scalar graph, in nodes (default 1e6)")
    parser.add_argument("--json", metavar="PATH", help="write every number to PATH as JSON")
    parser.add_argument("--steps", type=int, default=200, help="most timed steps per tensor contender (default 200)")
    parser.add_argument("--seconds", type=float, default=1.0,
                        help="about how long each tensor contender is timed per case (default 1.0)")
    parser.add_argument("--scalar-reps", type=int, default=3,
                        help="fewest repetitions per scalar size (default 3; small graphs get more)")
    parser.add_argument("--no-jax", action="store_true", help="leave JAX out even when it is installed")
    parser.add_argument("--no-tensor", action="store_true", help="skip the tensor sweep")
    parser.add_argument("--no-scalar", action="store_true", help="skip the scalar sweep")
    args = parser.parse_args(argv)
    if args.max_nodes < 10:
        parser.error(f"--max-nodes must be at least 10, got {args.max_nodes:g}")
    if args.steps < 4 or args.scalar_reps < 1 or not args.seconds > 0:
        parser.error("--steps must be at least 4, --scalar-reps at least 1 and --seconds positive")
    max_nodes = int(min(args.max_nodes, 10_000) if args.quick else args.max_nodes)
    settings = {"quick": args.quick, "max_nodes": max_nodes,
                "warmup": 2 if args.quick else 5, "blocks": 2 if args.quick else 5,
                "steps": min(args.steps, 6) if args.quick else args.steps,
                "min_steps": 4 if args.quick else 15, "seconds": min(args.seconds, 0.05) if args.quick else args.seconds,
                "scalar_reps": 1 if args.quick else args.scalar_reps, "scalar_reps_max": 3 if args.quick else 40}
    use_jax = jax is not None and not args.no_jax

    torch.set_num_threads(numba.get_num_threads())
    env = environment()
    print("bench_sweep: issue 13's sweep" + (" (--quick: numbers are not meaningful)" if args.quick else ""))
    print_environment(env)
    if jax is None:
        print("JAX is not installed: its columns and goals are skipped (pip install -e '.[bench]')")
    elif args.no_jax:
        print("--no-jax: JAX's columns and goals are skipped")

    tensor_rows = [] if args.no_tensor else run_tensor(settings, use_jax)
    scalar_rows = [] if args.no_scalar else run_scalar(settings)
    if tensor_rows:
        print("== tensor table ==")
        print(tensor_table(tensor_rows, use_jax))
        print()
    goals = check_goals(tensor_rows, scalar_rows, use_jax, max_nodes)
    print_goals(goals)

    disagreements = [f"tensor {row['case']} {row['activation']} {row['dtype']}" for row in tensor_rows
                     if not row["agree"]]
    disagreements += [f"scalar {row['shape']} {row['nodes']} gc {row['gc']}" for row in scalar_rows if not row["agree"]]
    if args.json:
        Path(args.json).write_text(json.dumps(
            {"environment": env, "settings": settings, "jax": use_jax, "tensor": tensor_rows, "scalar": scalar_rows,
             "goals": goals, "disagreements": disagreements}, indent=2) + "\n", encoding="utf-8")
        print(f"\nwrote {args.json}")
    if disagreements:
        print("\nthe contenders DISAGREE on: " + "; ".join(disagreements))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
