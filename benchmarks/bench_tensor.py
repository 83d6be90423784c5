"""Tensor engine vs PyTorch CPU vs a hand-written numpy MLP: one SGD training step, in one run.

The step: forward a ReLU MLP, cross-entropy on the logits, backward, SGD update. Two sizes:
4-16-16-3 on 150 samples (iris-sized) and 784-256-128-10 on a batch of 256 (MNIST-sized).
All three start from the same float64 weights and see the same data, train in lockstep and
must report the same loss at every step. PyTorch gets as many threads as chainrule uses
(Numba's thread count; numpy's BLAS uses the machine's cores as well). Times are medians
over alternating blocks of steps (see `time_in_blocks`). Then the per-kernel table of
`benchmarks/bench_kernels.py`.

    .venv/bin/python benchmarks/bench_tensor.py [--steps 200] [--profile] [--no-kernels]
        [--kernel-size 1000000] [--kernel-samples 15]
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import platform
import pstats
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch

# Run from a checkout without installing chainrule: its packages live one folder up.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from autograd_core import Tensor  # noqa: E402
from autograd_core.kernels.dispatch import thread_count  # noqa: E402
from nn import SGD  # noqa: E402
from nn import functional as F  # noqa: E402
from nn.layers import Linear, TensorMLP  # noqa: E402

LEARNING_RATE = 0.01
CASES = [("4-16-16-3, 150 samples", [4, 16, 16, 3], 150),
         ("784-256-128-10, batch 256", [784, 256, 128, 10], 256)]
# Known PyTorch / numpy numbers on the 2-core development machine (float64), and the goals.
GOAL_RATIO_TO_TORCH = {CASES[0][0]: 0.6, CASES[1][0]: 1.25}
Step = Callable[[], float]


def make_data(sizes: list[int], samples: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Standard-normal features and uniformly drawn class labels."""
    rng = np.random.default_rng(seed)
    return rng.normal(size=(samples, sizes[0])), rng.integers(0, sizes[-1], size=samples)


def weights_of(model: TensorMLP) -> list[tuple[np.ndarray, np.ndarray]]:
    """(weight (out, in), bias) of every Linear layer, copied."""
    return [(layer.weight.data.copy(), layer.bias.data.copy()) for layer in model if isinstance(layer, Linear)]


# -- the three implementations of one step ------------------------------------------------------------

def chainrule_step(model: TensorMLP, X: np.ndarray, y: np.ndarray) -> Step:
    optimizer = SGD(model.parameters(), lr=LEARNING_RATE)
    inputs = Tensor(X, dtype=X.dtype)

    def step() -> float:
        loss = F.cross_entropy(model(inputs), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()
    return step


TORCH_ACTIVATIONS = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid}


def torch_step(weights: list[tuple[np.ndarray, np.ndarray]], X: np.ndarray, y: np.ndarray,
               activation: str = "relu") -> Step:
    """PyTorch's step with the same weights and data, in X's dtype."""
    dtype = torch.float32 if X.dtype == np.float32 else torch.float64
    modules: list[torch.nn.Module] = []
    for i, (weight, bias) in enumerate(weights):
        layer = torch.nn.Linear(weight.shape[1], weight.shape[0], dtype=dtype)
        with torch.no_grad():
            layer.weight.copy_(torch.from_numpy(weight))
            layer.bias.copy_(torch.from_numpy(bias))
        modules += [layer] if i == len(weights) - 1 else [layer, TORCH_ACTIVATIONS[activation]()]
    model = torch.nn.Sequential(*modules)
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    inputs, labels = torch.from_numpy(X.copy()), torch.from_numpy(y.copy())

    def step() -> float:
        loss = torch.nn.functional.cross_entropy(model(inputs), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()
    return step


def _numpy_activation(activation: str) -> tuple[Callable[[np.ndarray], np.ndarray],
                                                 Callable[[np.ndarray, np.ndarray], np.ndarray]]:
    """(forward, derivative from (pre-activation z, activation a))."""
    if activation == "relu":
        return (lambda z: np.maximum(z, 0.0)), (lambda z, a: z > 0.0)
    if activation == "tanh":
        return np.tanh, (lambda z, a: 1.0 - a * a)
    if activation == "sigmoid":
        return (lambda z: 1.0 / (1.0 + np.exp(-z))), (lambda z, a: a * (1.0 - a))
    raise ValueError(f"no numpy activation {activation!r}")


def numpy_step(weights: list[tuple[np.ndarray, np.ndarray]], X: np.ndarray, y: np.ndarray,
               activation: str = "relu") -> Step:
    """A hand-written MLP: forward, softmax cross-entropy, backward by hand, in-place SGD, in
    X's dtype."""
    params = [(w.copy(), b.copy()) for w, b in weights]
    rows = np.arange(len(X))
    forward, derivative = _numpy_activation(activation)
    scale = X.dtype.type(1.0 / len(X))

    def step() -> float:
        activations, pre = [X], []
        for i, (w, b) in enumerate(params):
            z = activations[-1] @ w.T + b
            pre.append(z)
            activations.append(z if i == len(params) - 1 else forward(z))
        logits = activations[-1]
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        loss = -log_probs[rows, y].mean()
        grad = np.exp(log_probs)
        grad[rows, y] -= 1.0
        grad *= scale
        for i in range(len(params) - 1, -1, -1):
            w, b = params[i]
            grad_w, grad_b = grad.T @ activations[i], grad.sum(axis=0)
            if i > 0:
                grad = (grad @ w) * derivative(pre[i - 1], activations[i])
            w -= LEARNING_RATE * grad_w
            b -= LEARNING_RATE * grad_b
        return float(loss)
    return step


# -- timing ---------------------------------------------------------------------------------------------

def time_in_blocks(steps: dict[str, Step], rounds: int, blocks: int = 5) -> tuple[dict[str, float], dict[str, list[float]]]:
    """Median seconds per step of each implementation, and each one's losses in step order.

    The implementations take turns in `blocks` blocks of rounds / blocks steps each (ABC ABC
    ...), so a burst of load on the machine hits all three alike, and all three take the
    same steps (lockstep). Not one step each in turn: after a parallel region PyTorch's
    OpenMP threads, OpenBLAS's and Numba's keep spinning for a while, and on 2 cores that
    would slow whichever implementation runs next. The first step of each block is
    excluded from the median for the same reason."""
    per_block = max(2, rounds // blocks)
    times: dict[str, list[float]] = {name: [] for name in steps}
    losses: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(blocks):
        for name, step in steps.items():
            for i in range(per_block):
                start = time.perf_counter()
                loss = step()
                if i:
                    times[name].append(time.perf_counter() - start)
                losses[name].append(loss)
    return {name: statistics.median(values) for name, values in times.items()}, losses


def check_same_losses(losses: dict[str, list[float]], label: str) -> float:
    """The largest relative difference from chainrule's losses; raises if it exceeds 1e-9."""
    ours = np.array(losses["chainrule"])
    worst = max(float(np.max(np.abs(np.array(values) - ours) / np.abs(ours))) for values in losses.values())
    if worst > 1e-9:
        raise AssertionError(f"{label}: the implementations disagree on the loss (relative difference {worst:.3g})")
    return worst


def format_time(seconds: float) -> str:
    return f"{seconds * 1e6:8.1f} us" if seconds < 1e-3 else f"{seconds * 1e3:8.2f} ms"


def profile_step(step: Step, rounds: int, label: str, lines: int = 18) -> None:
    """Print where chainrule's step spends its time (cProfile, sorted by own time)."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(rounds):
        step()
    profiler.disable()
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(lines)
    print(f"\n-- profile of {rounds} chainrule steps, {label} --")
    print("\n".join(line for line in text.getvalue().splitlines()[4:] if line.strip()))


def phase_breakdown(model: TensorMLP, X: np.ndarray, y: np.ndarray, rounds: int) -> dict[str, float]:
    """Median time of chainrule's forward+loss, backward and optimizer step, measured apart."""
    optimizer = SGD(model.parameters(), lr=LEARNING_RATE)
    inputs = Tensor(X, dtype=X.dtype)
    times: dict[str, list[float]] = {"forward + loss": [], "backward": [], "SGD update": []}
    for _ in range(rounds):
        t0 = time.perf_counter()
        loss = F.cross_entropy(model(inputs), y)
        t1 = time.perf_counter()
        optimizer.zero_grad()
        loss.backward()
        t2 = time.perf_counter()
        optimizer.step()
        t3 = time.perf_counter()
        times["forward + loss"].append(t1 - t0)
        times["backward"].append(t2 - t1)
        times["SGD update"].append(t3 - t2)
    return {name: statistics.median(values) for name, values in times.items()}


def run_steps(rounds: int, profile: bool) -> None:
    threads = thread_count()
    torch.set_num_threads(threads)
    print(f"one SGD step (forward, cross-entropy, backward, update), float64, median over {rounds} "
          f"steps each, in 5 alternating blocks")
    print(f"machine: {platform.machine()}, {torch.get_num_threads()} torch threads = {threads} Numba "
          f"threads, Python {platform.python_version()}, torch {torch.__version__}, numpy {np.__version__}\n")
    header = f"{'case':28s} {'chainrule':>11s} {'PyTorch':>11s} {'numpy MLP':>11s} {'ours/torch':>11s} " \
             f"{'ours/numpy':>11s} {'goal':>7s}  loss agreement"
    print(header)
    print("-" * len(header))
    for label, sizes, samples in CASES:
        X, y = make_data(sizes, samples)
        model = TensorMLP(sizes, seed=0)
        weights = weights_of(model)
        steps = {"chainrule": chainrule_step(model, X, y), "torch": torch_step(weights, X, y),
                 "numpy": numpy_step(weights, X, y)}
        warmup = {name: [step() for _ in range(5)] for name, step in steps.items()}  # compile, allocate
        check_same_losses(warmup, label)
        medians, losses = time_in_blocks(steps, rounds)
        worst = check_same_losses(losses, label)
        ratio_torch = medians["chainrule"] / medians["torch"]
        ratio_numpy = medians["chainrule"] / medians["numpy"]
        goal = GOAL_RATIO_TO_TORCH[label]
        verdict = "met" if ratio_torch <= goal else "MISSED"
        print(f"{label:28s} {format_time(medians['chainrule']):>11s} {format_time(medians['torch']):>11s} "
              f"{format_time(medians['numpy']):>11s} {ratio_torch:10.2f}x {ratio_numpy:10.2f}x "
              f"{'<=' + format(goal, 'g') + 'x':>7s}  {verdict}; max rel. diff {worst:.1e}")
    print("\nchainrule's step by phase (measured separately):")
    for label, sizes, samples in CASES:
        X, y = make_data(sizes, samples)
        phases = phase_breakdown(TensorMLP(sizes, seed=0), X, y, max(20, rounds // 2))
        print(f"  {label:28s} " + "  ".join(f"{name} {format_time(t).strip()}" for name, t in phases.items()))
    if profile:
        for label, sizes, samples in CASES:
            X, y = make_data(sizes, samples)
            profile_step(chainrule_step(TensorMLP(sizes, seed=0), X, y), max(20, rounds // 2), label)


def run_kernel_table(size: int, samples: int) -> None:
    """The per-kernel table of benchmarks/bench_kernels.py (same process, same threads)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import bench_kernels

    print(f"\nper-kernel table (benchmarks/bench_kernels.py, {size} float64 elements, median of "
          f"{samples} samples):")
    print(bench_kernels.format_rows(bench_kernels.benchmark_rows(size, np.float64, samples)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=200, help="steps to time per implementation (default 200)")
    parser.add_argument("--profile", action="store_true", help="also print a cProfile of chainrule's step")
    parser.add_argument("--no-kernels", action="store_true", help="skip the per-kernel table")
    parser.add_argument("--kernel-size", type=int, default=10**6,
                        help="elements per kernel in the per-kernel table (default 10^6)")
    parser.add_argument("--kernel-samples", type=int, default=15, help="samples per kernel timing (default 15)")
    args = parser.parse_args(argv)
    if args.steps < 5:
        parser.error(f"--steps must be at least 5, got {args.steps}")
    gc.collect()
    run_steps(args.steps, args.profile)
    if not args.no_kernels:
        run_kernel_table(args.kernel_size, args.kernel_samples)
    return 0


if __name__ == "__main__":
    sys.exit(main())
