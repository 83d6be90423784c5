"""Scalar engine vs micrograd: one full-batch training step of the same network in the same run.

The step: forward MLP(2, [16, 16, 1]) (ReLU hidden layers, linear output) over 100 moons-like
2-D points, hinge loss, backward, SGD update. Both engines start from identical weights and
train in lockstep, so their losses must agree step by step. Times are medians over several
steps, with Python's garbage collector on (as users run it) and again with it off.

    .venv/bin/python benchmarks/bench_scalar.py [--steps 7] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import platform
import pstats
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np
from micrograd.engine import Value as MicrogradValue
from micrograd.nn import MLP as MicrogradMLP

# Run from a checkout without installing chainrule: its packages live one folder up.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from nn import MLP, SGD, losses  # noqa: E402

LEARNING_RATE = 0.05
SIZES = [16, 16, 1]


def make_moons(samples: int = 100, noise: float = 0.1, seed: int = 0) -> tuple[list[list[float]], list[float]]:
    """Two interleaved noisy half circles; labels -1 (outer) and +1 (inner), as hinge loss wants."""
    rng = np.random.default_rng(seed)
    outer, inner = samples // 2, samples - samples // 2
    angles_outer, angles_inner = np.linspace(0.0, np.pi, outer), np.linspace(0.0, np.pi, inner)
    points = np.vstack([np.column_stack([np.cos(angles_outer), np.sin(angles_outer)]),
                        np.column_stack([1.0 - np.cos(angles_inner), 0.5 - np.sin(angles_inner)])])
    points += rng.normal(scale=noise, size=points.shape)
    return points.tolist(), [-1.0] * outer + [1.0] * inner


def micrograd_copy(model: MLP) -> MicrogradMLP:
    """A micrograd MLP with `model`'s architecture and exactly its weights and biases."""
    twin = MicrogradMLP(model.nin, list(model.nouts))
    for layer, twin_layer in zip(model.layers, twin.layers):
        for neuron, twin_neuron in zip(layer.neurons, twin_layer.neurons):
            for weight, twin_weight in zip(neuron.w, twin_neuron.w):
                twin_weight.data = weight.data
            twin_neuron.b.data = neuron.b.data
    return twin


def chainrule_step(model: MLP, optimizer: SGD, points: list[list[float]], labels: list[float]) -> float:
    """Forward, hinge loss, backward and SGD update with chainrule; returns the loss."""
    loss = losses.hinge([model(x) for x in points], labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.data


def micrograd_step(model: MicrogradMLP, points: list[list[float]], labels: list[float]) -> float:
    """The same step written the way micrograd's demo writes it; returns the loss."""
    scores = [model(list(map(MicrogradValue, x))) for x in points]
    hinge_terms = [(1 + -y * score).relu() for y, score in zip(labels, scores)]
    loss = sum(hinge_terms) * (1.0 / len(hinge_terms))
    model.zero_grad()
    loss.backward()
    for parameter in model.parameters():
        parameter.data -= LEARNING_RATE * parameter.grad
    return loss.data


def timed(step: Callable[[], float]) -> tuple[float, float, float]:
    """(wall-clock seconds, CPU seconds of this process, loss) of one call.

    CPU time is reported too because on a shared machine other processes inflate wall-clock
    time; both engines are single-threaded, so CPU time is the work each one does.
    """
    wall, cpu = time.perf_counter(), time.process_time()
    loss = step()
    return time.perf_counter() - wall, time.process_time() - cpu, loss


def compare(steps: int, collector_on: bool, ours: Callable[[], float], theirs: Callable[[], float]) -> dict:
    """`steps` steps of each engine; median times and the largest step-by-step loss difference.

    Each engine runs its steps in one block, after a full collection, so that it pays for
    collecting its own garbage and never for the other engine's.
    """
    results = []
    for step in (ours, theirs):
        gc.collect()
        if not collector_on:
            gc.disable()
        try:
            results.append([timed(step) for _ in range(steps)])
        finally:
            gc.enable()
    (our_wall, our_cpu, our_losses), (their_wall, their_cpu, their_losses) = (zip(*r) for r in results)
    median = statistics.median
    return {"gc": "on" if collector_on else "off",
            "wall": (median(our_wall), median(their_wall)), "cpu": (median(our_cpu), median(their_cpu)),
            "loss_difference": max(abs(a - b) for a, b in zip(our_losses, their_losses))}


def collector_time(step: Callable[[], float]) -> tuple[float, float, dict[int, int]]:
    """(CPU seconds of the step, CPU seconds inside the garbage collector, collections per generation)."""
    spent, started, counts = [0.0], [0.0], {0: 0, 1: 0, 2: 0}

    def on_collection(phase: str, info: dict) -> None:
        if phase == "start":
            started[0] = time.process_time()
        else:
            spent[0] += time.process_time() - started[0]
            counts[info["generation"]] += 1

    gc.collect()
    gc.callbacks.append(on_collection)
    try:
        _, cpu, _ = timed(step)
    finally:
        gc.callbacks.remove(on_collection)
    return cpu, spent[0], counts


def profile_step(step: Callable[[], float]) -> None:
    """Where one chainrule step spends its time: the collector's share, then cProfile (collector off)."""
    cpu, in_collector, counts = collector_time(step)
    print(f"\none chainrule step with the collector on: {cpu * 1e3:.1f} ms CPU, of which "
          f"{in_collector * 1e3:.1f} ms in the collector ({counts[0]}/{counts[1]}/{counts[2]} "
          f"collections of generation 0/1/2)")
    gc.collect()
    gc.disable()
    try:
        profiler = cProfile.Profile()
        profiler.runcall(step)
    finally:
        gc.enable()
    print("cProfile of one chainrule step with the collector off:")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(12)


def main() -> None:
    """Print the timings with the collector on and off, and whether the losses agree."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=7, help="timed steps per engine and setting")
    parser.add_argument("--profile", action="store_true",
                        help="also show the collector's share of a chainrule step and a cProfile of one step")
    args = parser.parse_args()
    if args.steps < 1:
        parser.error(f"--steps must be at least 1, got {args.steps}")

    points, labels = make_moons()
    model = MLP(2, SIZES, activation="relu", seed=0)
    twin = micrograd_copy(model)
    optimizer = SGD(model.parameters(), lr=LEARNING_RATE)

    def ours() -> float:
        return chainrule_step(model, optimizer, points, labels)

    def theirs() -> float:
        return micrograd_step(twin, points, labels)

    print(f"Python {platform.python_version()} on {platform.machine()} with {os.cpu_count()} cores")
    print(f"MLP(2, {SIZES}) relu/linear, {len(points)} points, hinge loss, SGD lr={LEARNING_RATE}; "
          f"median of {args.steps} steps")
    all_agree = True
    for collector_on in (True, False):
        result = compare(args.steps, collector_on, ours, theirs)
        for clock in ("wall", "cpu"):
            ours_time, theirs_time = result[clock]
            print(f"gc {result['gc']:>3}, {clock:>4} time: chainrule {ours_time * 1e3:7.1f} ms/step   "
                  f"micrograd {theirs_time * 1e3:7.1f} ms/step   speedup {theirs_time / ours_time:5.1f}x")
        agree = result["loss_difference"] <= 1e-12  # False for a NaN difference too
        all_agree = all_agree and agree
        print(f"         losses {'agree' if agree else 'DISAGREE'} step by step "
              f"(max |difference| {result['loss_difference']:.1e})")

    if args.profile:
        profile_step(ours)
    if not all_agree:
        raise SystemExit("the two engines' losses differ by more than 1e-12")


if __name__ == "__main__":
    main()
