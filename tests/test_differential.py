"""Differential suite: random programs run through chainrule and through PyTorch, compared.

Hypothesis writes two kinds of programs (tests/README.md has the counts of a thorough run):

- **Value programs**: 1-4 scalar leaves (ordinary numbers and edge values: +-inf, NaN, +-0,
  +-1e-300, +-1e300, the subnormal 1e-310) and 1-12 steps over every Value op (+ - * / neg, with numbers on either
  side, ** a number, ** a Value, a number ** a Value, exp, log, tanh, sigmoid, relu,
  leaky_relu, elu, abs, maximum, softmax, sum_values), each step free to reuse any earlier
  node, so graphs share nodes. Compared with torch float64: the value, every leaf's
  gradient, and the second order: the gradient of sum_i w_i dL/dx_i (gradients built with
  ``grad(..., create_graph=True)``) against ``torch.autograd.grad(..., create_graph=True)``.
- **Tensor programs**: leaves whose shapes broadcast with one base shape (0-d, size-1 and
  empty axes included), given to Tensor as non-contiguous or negatively strided views, in
  float64 or float32, with edge values among the elements; 1-8 steps over every Tensor op
  (+ - * / ** neg, maximum, clip, where, exp, log, abs, tanh, sigmoid, relu, leaky_relu, elu,
  softmax, log_softmax, sum/mean/max over an axis or all, matmul, transpose, reversed and
  fancy indexing (repeated indices), reshape, concatenate, stack), run in a random kernel
  mode (numpy, serial or parallel Numba, auto). Compared with torch in the same dtype: the
  value and every leaf's gradient for a random upstream gradient (inf now and then), and in
  float64 the second order as for Values.

What counts as agreement: NaN where torch has NaN, the same infinity where torch has one,
and close finite numbers: in float64 within 1e-9 relative, plus an absolute floor of 1e-13
times the size of the terms a gradient adds up (for Values the sum over paths of |products of
local derivatives|, for Tensors the upstream gradient's size), since after cancelling terms
the remainder is rounding; in float32 within 1e-4 of torch float32, or no farther from torch
float64 (on the same inputs) than torch float32 is. Two engines round transcendental
functions differently by an ulp, which a later cancellation can magnify: a float64 mismatch
is excused only when it is what 100 ulps of error would make at the sensitivity torch itself
shows when every input, every step's result and every gradient it passes back is perturbed
by a relative 1e-11 or 1e-12 (ill-conditioned there; a kink that flips, relu at 0 or a tie of
maximum, jumps by J for any perturbation, which allows J/100 at most: a wrong rule at a kink
is not excused). Second order is compared where values and first-order
gradients are finite and torch's second derivative is finite (docs/semantics.md says why).

Refused by design: programs where chainrule raises on purpose (docs/semantics.md): a Value
op's domain or overflow error (log of x <= 0, division by exactly 0, 0 to a negative power,
a negative base to a non-integer or Value power, exp or a power that overflows a float; in
the second order also inside the derivative graph, e.g. the slope 0.5 x^-0.5 of a root at
x = 0), and mean, max, softmax or log_softmax over an empty axis. A refusal counts only with
its designed message, and for a first-order Value refusal only where torch's result or its
derivative at that step is not finite.

Set CHAINRULE_DIFFERENTIAL_COUNTS=path to write the counts of a run as JSON.
"""

from __future__ import annotations

import atexit
import json
import math
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autograd_core import Tensor, Value, concatenate, grad, maximum, softmax, stack, sum_values, where
from autograd_core.kernels import kernel_mode

COUNTS: Counter = Counter()


def _write_counts() -> None:
    path = os.environ.get("CHAINRULE_DIFFERENTIAL_COUNTS")
    if path and COUNTS:
        with open(path, "w") as handle:
            json.dump(dict(sorted(COUNTS.items())), handle, indent=1)


atexit.register(_write_counts)

# Examples per test: a multiple of the profile's max_examples (60 by default and in CI, 1,000 in
# the thorough profile), so that the thorough profile runs at least 20,000 programs in all.
SCALE = {"value": 8, "tensor64": 7, "tensor32": 5}


def examples(kind: str) -> settings:
    return settings(max_examples=settings.default.max_examples * SCALE[kind],
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                           HealthCheck.data_too_large])


INF, NAN = math.inf, math.nan
EDGE = [INF, -INF, NAN, 0.0, -0.0, 1e-300, -1e-300, 1e300, -1e300, 1e-310]
ORDINARY = [1.0, -1.0, 2.0, 0.5, -0.5, 3.0]

# The designed refusals (docs/semantics.md), by their messages.
REFUSALS = re.compile(
    "log of a non-positive number|division by zero: |raised to the negative power|"
    "a negative base|overflows a float|cannot average over an empty axis|"
    "cannot take the max over an empty axis|has length 0")
REFUSAL_TYPES = (ValueError, ZeroDivisionError, OverflowError)


class RefusedByDesign(Exception):
    """chainrule raised one of its designed errors (the message is the reason)."""


def refusal(error: BaseException) -> Optional[str]:
    """The designed-refusal reason of `error`, or None if it is not one (a bug)."""
    if isinstance(error, REFUSAL_TYPES) and REFUSALS.search(str(error)):
        return REFUSALS.search(str(error)).group(0).strip(": ")
    return None


def leaf_number() -> st.SearchStrategy[float]:
    return st.one_of(st.sampled_from(EDGE), st.sampled_from(ORDINARY),
                     st.floats(-3, 3, allow_nan=False, allow_infinity=False))


# -- comparing ------------------------------------------------------------------------------------

# Below this size float64 results are underflow, computed by formulas that underflow at
# different points: torch's sigmoid(-713) is 1/(1 + e^713) = 0, chainrule's e^-713/(1 + e^-713)
# the subnormal 1e-310. Differences this small are not compared.
UNDERFLOW = 1e-290


def mismatch(ours: Any, theirs: Any, rtol: float, atol: Any = 0.0) -> Optional[str]:
    """Why `ours` differs from `theirs` (arrays or numbers), or None when they agree: the same
    shape, NaN at the same places, the same infinities, finite numbers within the tolerance
    (`atol` a number or one per element; never below `UNDERFLOW`)."""
    ours = np.asarray(ours, dtype=np.float64)
    theirs = np.asarray(theirs, dtype=np.float64)
    if ours.shape != theirs.shape:
        return f"shape {ours.shape} != {theirs.shape}"
    nan_ours, nan_theirs = np.isnan(ours), np.isnan(theirs)
    if not np.array_equal(nan_ours, nan_theirs):
        return f"NaN at different places: ours {ours}, torch {theirs}"
    inf_ours, inf_theirs = np.isinf(ours), np.isinf(theirs)
    if not np.array_equal(inf_ours, inf_theirs) or not np.array_equal(ours[inf_ours], theirs[inf_theirs]):
        return f"infinities differ: ours {ours}, torch {theirs}"
    finite = ~(nan_ours | inf_ours)
    a, b = ours[finite], theirs[finite]
    atol = np.maximum(np.broadcast_to(atol, ours.shape)[finite], UNDERFLOW)
    bad = np.abs(a - b) > rtol * np.maximum(np.abs(a), np.abs(b)) + atol
    if bad.any():
        return f"values differ: ours {a[bad][:4]}, torch {b[bad][:4]}"
    return None


def defined_part(ours: list, theirs: list) -> tuple[list, list, bool]:
    """The second-order results where torch's are finite (elsewhere torch says the second
    derivative is not defined there: 0 * inf inside its rules); and whether any was left out."""
    kept_ours, kept_theirs, left_out = [], [], False
    for mine, reference in zip(ours, theirs):
        mine, reference = np.asarray(mine, np.float64), np.asarray(reference, np.float64)
        defined = np.isfinite(reference)
        left_out = left_out or not defined.all()
        kept_ours.append(np.where(defined, mine, 0.0))
        kept_theirs.append(np.where(defined, reference, 0.0))
    return kept_ours, kept_theirs, left_out


def torch_grad_or_zero(grads: Sequence[Optional[torch.Tensor]], leaves: Sequence[torch.Tensor]) -> list:
    return [torch.zeros_like(leaf) if g is None else g for g, leaf in zip(grads, leaves)]


def excused_by_conditioning(evaluate: Callable[[float, int], list[np.ndarray]], ours: list[Any],
                            theirs: list[Any], floors: Optional[list[Any]] = None) -> bool:
    """A float64 mismatch is rounding magnified by ill-conditioning when torch itself moves
    that much under tiny relative perturbations: `evaluate(delta, seed)` reruns torch with
    every input, every step's result and every gradient it passes back scaled by 1 +- delta
    (random signs from `seed`; see `perturbed`). The sensitivity is the largest move divided
    by delta, over four seeds and delta = 1e-11 and 1e-12; allowed is what 100 ulps (1e-14)
    of such errors make at that sensitivity. A kink that flips (relu at 0, a tie of maximum)
    jumps by the same J for any delta, so at most 0.01 J is allowed there: a wrong rule at a
    kink is not excused. `floors`: the absolute tolerance of each of `ours`, as `mismatch`'s."""
    runs = [(evaluate(delta, seed), delta) for seed in range(4) for delta in (1e-11, 1e-12)]
    floors = floors if floors is not None else [0.0] * len(ours)
    for index, (mine, reference, floor) in enumerate(zip(ours, theirs, floors)):
        mine, reference = np.asarray(mine, np.float64), np.asarray(reference, np.float64)
        if mismatch(mine, reference, 1e-9, floor) is None:
            continue
        finite = np.isfinite(mine) & np.isfinite(reference)
        if not np.array_equal(np.isnan(mine), np.isnan(reference)) or \
                not np.array_equal(mine[~finite], reference[~finite]):
            return False
        sensitivity = np.zeros(int(finite.sum()))
        with np.errstate(invalid="ignore", over="ignore"):
            for moved, delta in runs:
                shift = np.abs(np.asarray(moved[index], np.float64) - reference)[finite]
                sensitivity = np.maximum(sensitivity, np.nan_to_num(shift, nan=np.inf) / delta)
        gap = np.abs(mine - reference)[finite]
        allowed = 1e-9 * np.abs(reference[finite]) + np.broadcast_to(floor, mine.shape)[finite] + UNDERFLOW + \
            np.where(np.isfinite(sensitivity), sensitivity * 1e-14, 0.0)
        if not np.all(gap <= allowed):
            return False
    return True


# -- Value programs -------------------------------------------------------------------------------

@dataclass(frozen=True)
class VOp:
    arity: int  # how many earlier nodes it reads (3 for softmax and sum: any number, drawn)
    ours: Callable[..., Value]
    theirs: Callable[..., torch.Tensor]
    parameters: Sequence[float] = ()


def _softmax_ours(i: int) -> Callable[..., Value]:
    return lambda *xs: softmax(list(xs))[i % len(xs)]


def _softmax_theirs(i: int) -> Callable[..., torch.Tensor]:
    return lambda *xs: torch.softmax(torch.stack(list(xs)), 0)[i % len(xs)]


def _sum_theirs(*xs: torch.Tensor) -> torch.Tensor:
    total = xs[0]
    for x in xs[1:]:
        total = total + x
    return total


V_OPS: dict[str, VOp] = {
    "+": VOp(2, lambda a, b: a + b, lambda a, b: a + b),
    "-": VOp(2, lambda a, b: a - b, lambda a, b: a - b),
    "*": VOp(2, lambda a, b: a * b, lambda a, b: a * b),
    "/": VOp(2, lambda a, b: a / b, lambda a, b: a / b),
    "neg": VOp(1, lambda a: -a, lambda a: -a),
    "x+c": VOp(1, lambda a, c: a + c, lambda a, c: a + c, (2.0, -0.5)),
    "c-x": VOp(1, lambda a, c: c - a, lambda a, c: c - a, (1.0, 3.0)),
    "x*c": VOp(1, lambda a, c: a * c, lambda a, c: a * c, (2.0, -3.0, 0.0)),
    # torch's number / tensor is number * reciprocal(tensor), whose gradient underflows for tiny
    # divisors where its tensor / tensor rule (and ours, for both) does not: compare with that
    "c/x": VOp(1, lambda a, c: c / a, lambda a, c: torch.tensor(c, dtype=a.dtype) / a, (1.0, -2.0)),
    "x**n": VOp(1, lambda a, n: a ** n, lambda a, n: a ** n, (2.0, 3.0, 0.5, -1.0, 0.0, 1.0, -2.0, 1.5)),
    "sqrt": VOp(1, lambda a: a ** 0.5, lambda a: a ** 0.5),  # often: its slope is inf at 0
    "x**y": VOp(2, lambda a, b: a ** b, lambda a, b: a ** b),
    "c**x": VOp(1, lambda a, c: c ** a, lambda a, c: c ** a, (2.0, 0.5)),
    "exp": VOp(1, lambda a: a.exp(), torch.exp),
    "log": VOp(1, lambda a: a.log(), torch.log),
    "tanh": VOp(1, lambda a: a.tanh(), lambda a: torch_tanh(a)),
    "sigmoid": VOp(1, lambda a: a.sigmoid(), lambda a: torch_sigmoid(a)),
    "relu": VOp(1, lambda a: a.relu(), torch.relu),
    "leaky_relu": VOp(1, lambda a, s: a.leaky_relu(s), lambda a, s: TF.leaky_relu(a, s), (0.01, 0.2)),
    "elu": VOp(1, lambda a, alpha: a.elu(alpha), lambda a, alpha: TF.elu(a, alpha), (1.0, 0.5)),
    "abs": VOp(1, lambda a: a.abs(), torch.abs),
    "max": VOp(2, maximum, torch.maximum),
    "softmax": VOp(3, None, None, (0.0, 1.0, 2.0)),  # parameter: which component
    "sum": VOp(3, lambda *xs: sum_values(list(xs)), _sum_theirs),
}


@dataclass
class Program:
    leaves: list[float]
    steps: list[tuple[str, tuple[int, ...], Optional[float]]] = field(default_factory=list)

    def describe(self) -> str:
        return f"leaves {self.leaves}, steps {self.steps}"


@st.composite
def value_programs(draw: Any) -> Program:
    program = Program(draw(st.lists(leaf_number(), min_size=1, max_size=4)))
    for _ in range(draw(st.integers(1, 12))):
        available = len(program.leaves) + len(program.steps)
        name = draw(st.sampled_from(sorted(V_OPS)))
        op = V_OPS[name]
        count = draw(st.integers(1, 3)) if op.arity == 3 else op.arity
        args = tuple(draw(st.integers(0, available - 1)) for _ in range(count))
        parameter = draw(st.sampled_from(op.parameters)) if op.parameters else None
        program.steps.append((name, args, parameter))
    return program


def _apply_value_step(name: str, args: list, parameter: Optional[float], ours: bool) -> Any:
    op = V_OPS[name]
    if name == "softmax":
        build = _softmax_ours(int(parameter)) if ours else _softmax_theirs(int(parameter))
        return build(*args)
    function = op.ours if ours else op.theirs
    return function(*args) if parameter is None else function(*args, parameter)


def run_value_program_ours(program: Program) -> tuple[list[Value], list[Value]]:
    leaves = [Value(x) for x in program.leaves]
    nodes = list(leaves)
    for index, (name, args, parameter) in enumerate(program.steps):
        try:
            nodes.append(_apply_value_step(name, [nodes[i] for i in args], parameter, True))
        except REFUSAL_TYPES as error:
            reason = refusal(error)
            if reason is None:
                raise
            raise RefusedByDesign(f"step {index} ({name}): {reason}") from error
    return leaves, nodes


# While torch reruns with perturbations (see `excused_by_conditioning`): their size and signs.
_PERTURBATION: dict[str, Any] = {"delta": 0.0, "rng": None}


def _with_rounded_result(function: Callable, slope: Callable) -> Callable:
    """`function` (tanh, sigmoid) whose backward computes its slope from its result y as torch
    does (1 - y^2, y (1 - y)), but from y times 1 +- delta while a perturbed rerun is on: the
    ulp an engine's y is off by makes a relative error of 1/(1 - y) in that slope where y ~ 1,
    which no perturbation of the inputs shows (tanh is flat there)."""
    def apply(x: torch.Tensor) -> torch.Tensor:
        delta, rng = _PERTURBATION["delta"], _PERTURBATION["rng"]
        if not delta:
            return function(x)
        factor = torch.tensor(1 + delta * rng.choice([-1.0, 1.0], tuple(x.shape)), dtype=x.dtype)

        class Rounded(torch.autograd.Function):
            @staticmethod
            def forward(ctx: Any, inputs: torch.Tensor) -> torch.Tensor:
                ctx.save_for_backward(inputs)
                return function(inputs)

            @staticmethod
            def backward(ctx: Any, gradient: torch.Tensor) -> torch.Tensor:
                (inputs,) = ctx.saved_tensors
                return gradient * slope(function(inputs) * factor)
        return Rounded.apply(x)
    return apply


torch_tanh = _with_rounded_result(torch.tanh, lambda y: 1 - y * y)
torch_sigmoid = _with_rounded_result(torch.sigmoid, lambda y: y * (1 - y))


def perturbed(node: torch.Tensor, delta: float, rng: np.random.Generator) -> torch.Tensor:
    """`node` times 1 +- delta elementwise, and its gradient too (a hook): a model of the
    rounding error each step makes on the way forward and back, at relative size delta."""
    if not delta:
        return node
    shape = tuple(node.shape)
    forward = torch.tensor(1 + delta * rng.choice([-1.0, 1.0], shape), dtype=node.dtype)
    backward = torch.tensor(1 + delta * rng.choice([-1.0, 1.0], shape), dtype=node.dtype)
    out = node * forward
    if out.requires_grad:
        out.register_hook(lambda gradient: gradient * backward)
    return out


def run_value_program_torch(program: Program, values: Optional[list[float]] = None,
                            upto: Optional[int] = None, delta: float = 0.0,
                            seed: int = 0) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    rng = np.random.default_rng(seed)
    if delta:
        values = [x * (1 + delta * rng.choice([-1.0, 1.0])) for x in program.leaves]
    leaves = [torch.tensor(x, dtype=torch.float64, requires_grad=True)
              for x in (program.leaves if values is None else values)]
    nodes = list(leaves)
    _PERTURBATION.update(delta=delta, rng=rng)
    try:
        for name, args, parameter in program.steps[:upto]:
            step = _apply_value_step(name, [nodes[i] for i in args], parameter, False)
            nodes.append(perturbed(step, delta, rng))
    finally:
        _PERTURBATION.update(delta=0.0, rng=None)
    return leaves, nodes


def _torch_step_is_not_finite(program: Program, step: int) -> bool:
    """Whether torch's value of step `step`, or its derivative there, is inf or NaN (what a
    designed Value refusal stands for)."""
    leaves, nodes = run_value_program_torch(program, upto=step + 1)
    out = nodes[-1]
    if not math.isfinite(out.item()):
        return True
    name, args, _ = program.steps[step]
    inputs = [nodes[i] for i in args]
    grads = torch.autograd.grad(out, inputs, allow_unused=True)
    return any(g is not None and not math.isfinite(g.item()) for g in grads)


def noise_floor(root: Value, leaves: Sequence[Value]) -> list[float]:
    """For each leaf, 1e-13 times the sum over the paths from `root` of |product of the local
    derivatives|: the size of the terms its gradient adds up, so the rounding a cancellation
    leaves behind (softmax's gradient with respect to a shift is 0, computed as 1/3 - 1/3...)
    is not a mismatch. 0 where that sum is not finite."""
    from autograd_core import topological_order
    totals = {id(root): 1.0}
    for node in reversed(topological_order(root)):
        upstream = totals.get(id(node))
        if upstream is None:
            continue
        for parent, local in zip(node.parents, node.local_grads):
            totals[id(parent)] = totals.get(id(parent), 0.0) + upstream * abs(float(local))
    floors = [1e-13 * totals.get(id(leaf), 0.0) for leaf in leaves]
    return [floor if math.isfinite(floor) else 0.0 for floor in floors]


def _weights(count: int) -> list[float]:
    return [0.5 + 0.25 * i for i in range(count)]


def underflows_differently(ours: Sequence[Any], theirs: Sequence[Any]) -> bool:
    """Whether some intermediate result is subnormal (below 2.2e-308) in one engine and 0, or
    another subnormal, in the other: a formula's underflow point (torch's sigmoid(-713) is 0,
    chainrule's 1e-310; docs/semantics.md), which a later 1/x turns into a difference of 1."""
    for mine, reference in zip(ours, theirs):
        mine, reference = np.asarray(mine, np.float64), np.asarray(reference, np.float64)
        if mine.shape != reference.shape:
            continue
        with np.errstate(invalid="ignore"):
            tiny = (np.abs(mine) < 2.3e-308) & (np.abs(reference) < 2.3e-308)
            if np.any(tiny & (mine != reference)):
                return True
    return False


def check_value_program(program: Program) -> str:
    """Run `program` both ways; return the outcome ("passed", "refused ...") or fail."""
    try:
        leaves, nodes = run_value_program_ours(program)
    except RefusedByDesign as refused:
        step = int(str(refused).split()[1])
        assert _torch_step_is_not_finite(program, step), \
            f"refused where torch is finite: {refused}; {program.describe()}"
        return "refused by design"
    root = nodes[-1]
    root.backward()
    t_leaves, t_nodes = run_value_program_torch(program)
    t_root = t_nodes[-1]
    if underflows_differently([node.data for node in nodes], [node.item() for node in t_nodes]):
        return "not compared (an intermediate underflows differently)"
    t_grads = torch_grad_or_zero(torch.autograd.grad(t_root, t_leaves, allow_unused=True,
                                                     create_graph=True)
                                 if t_root.requires_grad else [None] * len(t_leaves), t_leaves)
    ours = [root.data, [leaf.grad for leaf in leaves]]
    theirs = [t_root.item(), [g.item() for g in t_grads]]
    floor = noise_floor(root, leaves)

    def rerun(delta: float, seed: int) -> list:
        p_leaves, p_nodes = run_value_program_torch(program, delta=delta, seed=seed)
        p_grads = torch_grad_or_zero(torch.autograd.grad(p_nodes[-1], p_leaves, allow_unused=True)
                                     if p_nodes[-1].requires_grad else [None] * len(p_leaves), p_leaves)
        return [p_nodes[-1].item(), [g.item() for g in p_grads]]
    problem = mismatch(ours[0], theirs[0], 1e-9) or mismatch(ours[1], theirs[1], 1e-9, floor)
    if problem and not excused_by_conditioning(rerun, ours, theirs, [0.0, floor]):
        pytest.fail(f"first order: {problem}; {program.describe()}")
    outcome = "passed" if not problem else "passed (ill-conditioned: excused)"
    if not all(math.isfinite(node.item()) for node in t_nodes + list(t_grads)):
        # where a value or a gradient is inf or NaN, a second derivative is 0 * inf in one
        # rule or another, decided differently op by op inside torch: not both defined
        return outcome + ", second order not compared (non-finite values)"
    return outcome + ", " + check_value_second_order(program, t_leaves, t_grads)


def check_value_second_order(program: Program, t_leaves: list, t_grads: list) -> str:
    weights = _weights(len(t_leaves))
    try:
        leaves, nodes = run_value_program_ours(program)
        first = grad(nodes[-1], leaves, create_graph=True, allow_unused=True)
        total = sum_values([g * w for g, w in zip(first, weights) if isinstance(g, Value)] or [0.0])
        second = grad(total, leaves, allow_unused=True) if total.parents else [None] * len(leaves)
        floor_first = noise_floor(nodes[-1], leaves)
        floor_second = noise_floor(total, leaves) if total.parents else [0.0] * len(leaves)
    except REFUSAL_TYPES as error:
        if refusal(error) is None:
            raise
        return "second order refused by design"
    t_total = sum((g * w for g, w in zip(t_grads, weights)), torch.tensor(0.0, dtype=torch.float64))
    t_second = torch_grad_or_zero(torch.autograd.grad(t_total, t_leaves, allow_unused=True)
                                  if t_total.requires_grad else [None] * len(t_leaves), t_leaves)
    ours_first = [g.data if isinstance(g, Value) else (0.0 if g is None else g) for g in first]
    ours_second = [0.0 if g is None else g for g in second]
    theirs_first = [g.item() for g in t_grads]
    theirs_second = [g.item() for g in t_second]
    (ours_second,), (theirs_second,), left_out = defined_part([ours_second], [theirs_second])
    problem = mismatch(ours_first, theirs_first, 1e-9, floor_first) or \
        mismatch(ours_second, theirs_second, 1e-9, floor_second)
    if problem:
        def rerun(delta: float, seed: int) -> list:
            p_leaves, p_nodes = run_value_program_torch(program, delta=delta, seed=seed)
            p_first = torch_grad_or_zero(torch.autograd.grad(p_nodes[-1], p_leaves, allow_unused=True,
                                                             create_graph=True)
                                         if p_nodes[-1].requires_grad else [None] * len(p_leaves), p_leaves)
            p_total = sum((g * w for g, w in zip(p_first, weights)), torch.tensor(0.0, dtype=torch.float64))
            p_second = torch_grad_or_zero(torch.autograd.grad(p_total, p_leaves, allow_unused=True)
                                          if p_total.requires_grad else [None] * len(p_leaves), p_leaves)
            return [[g.item() for g in p_first], [g.item() for g in p_second]]
        if not excused_by_conditioning(rerun, [ours_first, ours_second], [theirs_first, theirs_second],
                                       [floor_first, floor_second]):
            pytest.fail(f"second order: {problem}; {program.describe()}")
        return "second order passed (ill-conditioned: excused)"
    return "second order passed" + (" where torch's is finite" if left_out else "")


@examples("value")
@given(program=value_programs())
def test_value_programs_match_torch(program):
    COUNTS["value programs tried"] += 1
    with np.errstate(all="ignore"):
        outcome = check_value_program(program)
    for part in outcome.split(", "):
        COUNTS[f"value programs: {part}"] += 1
    _count_value_kinds(program)


def _count_value_kinds(program: Program) -> None:
    """What the programs held (for tests/README.md): ops, edge values, shared nodes."""
    kinds = COUNTS
    kinds["value kinds: with an edge value (inf, NaN, 0, 1e-300, 1e300, 1e-310)"] += any(
        x in EDGE or math.isnan(x) for x in program.leaves)
    reads = Counter(i for _, args, _ in program.steps for i in args)
    kinds["value kinds: with a node read twice or more"] += any(n > 1 for n in reads.values())
    for name in {name for name, _, _ in program.steps}:
        kinds[f"value ops: {name}"] += 1


# -- Tensor programs ------------------------------------------------------------------------------

UNARY = {
    "exp": (lambda x: x.exp(), torch.exp),
    "log": (lambda x: x.log(), torch.log),
    "abs": (lambda x: abs(x), torch.abs),
    "tanh": (lambda x: x.tanh(), lambda x: torch_tanh(x)),
    "sigmoid": (lambda x: x.sigmoid(), lambda x: torch_sigmoid(x)),
    "relu": (lambda x: x.relu(), torch.relu),
    "leaky_relu": (lambda x: x.leaky_relu(0.1), lambda x: TF.leaky_relu(x, 0.1)),
    "elu": (lambda x: x.elu(0.7), lambda x: TF.elu(x, 0.7)),
    "neg": (lambda x: -x, lambda x: -x),
    "square": (lambda x: x ** 2, lambda x: x ** 2),
    "sqrt": (lambda x: x ** 0.5, lambda x: x ** 0.5),
    "cube": (lambda x: x ** 3.0, lambda x: x ** 3.0),
    "reciprocal": (lambda x: x ** -1.0, lambda x: x ** -1.0),
    "power0": (lambda x: x ** 0, lambda x: x ** 0),
    "times_number": (lambda x: 2.5 * x, lambda x: 2.5 * x),
    "number_minus": (lambda x: 1.0 - x, lambda x: 1.0 - x),
}
BINARY = {
    "+": (lambda a, b: a + b, lambda a, b: a + b),
    "-": (lambda a, b: a - b, lambda a, b: a - b),
    "*": (lambda a, b: a * b, lambda a, b: a * b),
    "/": (lambda a, b: a / b, lambda a, b: a / b),
    "**": (lambda a, b: a ** b, lambda a, b: a ** b),
    "maximum": (maximum, torch.maximum),
    "clip": (lambda a, b: a.clip(b, 1.5), lambda a, b: torch.clamp(a, b, torch.tensor(1.5, dtype=a.dtype))),
    "clip_number": (lambda a, b: a.clip(-0.5, None) * b, lambda a, b: torch.clamp(a, min=-0.5) * b),
}
TENSOR_STEPS = ["unary", "binary", "where", "reduce", "softmax", "matmul", "transpose",
                "reverse", "take", "reshape", "concatenate", "stack"]


@dataclass
class TensorProgram:
    dtype: Any
    mode: str
    leaves: list[np.ndarray]  # each given to Tensor as a view (see `_as_view`)
    views: list[str]
    steps: list[tuple] = field(default_factory=list)
    upstream: Optional[np.ndarray] = None

    def describe(self) -> str:
        leaves = [(a.shape, a.tolist() if a.size <= 8 else "...") for a in self.leaves]
        return f"{np.dtype(self.dtype).name}, mode {self.mode}, leaves {leaves}, views {self.views}, steps {self.steps}"


def _pattern_shapes(base: tuple[int, ...]) -> st.SearchStrategy[tuple[int, ...]]:
    """Shapes that broadcast with `base`: a suffix of it with some sides set to 1."""
    return st.integers(0, len(base)).flatmap(
        lambda keep: st.tuples(*[st.sampled_from([side, 1]) for side in base[len(base) - keep:]]))


def tensor_element() -> st.SearchStrategy[float]:
    return st.one_of(st.floats(-3, 3, allow_nan=False, allow_infinity=False).filter(lambda v: abs(v) > 1e-3),
                     st.floats(-3, 3, allow_nan=False, allow_infinity=False),
                     st.sampled_from(EDGE + ORDINARY))


@st.composite
def tensor_programs(draw: Any, dtype: Any) -> TensorProgram:
    base = tuple(draw(st.lists(st.sampled_from([0, 1, 2, 3]), min_size=0, max_size=3)))
    program = TensorProgram(dtype, draw(st.sampled_from(["numpy", "serial", "parallel", "auto"])), [], [])
    for _ in range(draw(st.integers(1, 3))):
        shape = draw(_pattern_shapes(base))
        size = int(np.prod(shape, dtype=np.int64))
        elements = draw(st.lists(tensor_element(), min_size=size, max_size=size))
        program.leaves.append(np.array(elements, dtype=np.float64).reshape(shape))
        program.views.append(draw(st.sampled_from(["contiguous", "strided", "reversed"])))
    shapes = [leaf.shape for leaf in program.leaves]
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(TENSOR_STEPS))
        node = draw(st.integers(0, len(shapes) - 1))
        shape = shapes[node]
        other = draw(st.integers(0, len(shapes) - 1))
        if kind == "unary":
            step = ("unary", node, draw(st.sampled_from(sorted(UNARY))))
        elif kind == "binary":
            step = ("binary", node, other, draw(st.sampled_from(sorted(BINARY))))
            shape = np.broadcast_shapes(shape, shapes[other])
        elif kind == "where":
            shape = np.broadcast_shapes(shape, shapes[other])
            mask_shape = draw(_pattern_shapes(shape))
            mask = np.array(draw(st.lists(st.booleans(), min_size=int(np.prod(mask_shape)),
                                          max_size=int(np.prod(mask_shape)))), bool).reshape(mask_shape)
            step = ("where", node, other, mask)
        elif kind == "reduce":
            if not shape:
                continue
            how = draw(st.sampled_from(["sum", "mean", "max"]))
            axis = draw(st.one_of(st.none(), st.integers(0, len(shape) - 1)))
            step = ("reduce", node, how, axis)
            shape = () if axis is None else shape[:axis] + (1,) + shape[axis + 1:]
        elif kind == "softmax":
            if not shape:
                continue
            step = ("softmax", node, draw(st.booleans()), draw(st.integers(0, len(shape) - 1)))
        elif kind == "matmul":
            if not shape:
                continue
            side = shape[-1] if len(shape) == 1 or draw(st.booleans()) else shape[-2]
            size = side * side
            weights = np.array(draw(st.lists(st.floats(-2, 2), min_size=size, max_size=size)),
                               np.float64).reshape(side, side)
            step = ("matmul", node, weights, len(shape) >= 2 and side == shape[-2] and
                    (side != shape[-1] or draw(st.booleans())))
        elif kind == "transpose":
            if len(shape) < 2:
                continue
            permutation = tuple(draw(st.permutations(range(len(shape)))))
            step = ("transpose", node, permutation, draw(st.sampled_from(sorted(UNARY))))
        elif kind == "reverse":
            if not shape:
                continue
            step = ("reverse", node, draw(st.integers(0, len(shape) - 1)))
        elif kind == "take":
            if not shape or 0 in shape:
                continue
            axis = draw(st.integers(0, len(shape) - 1))
            index = np.array(draw(st.lists(st.integers(0, shape[axis] - 1), min_size=shape[axis],
                                           max_size=shape[axis])), np.int64)
            step = ("take", node, axis, index)
        elif kind == "reshape":
            step = ("reshape", node, draw(st.sampled_from(sorted(UNARY))))
        elif kind in ("concatenate", "stack"):
            if shapes[other] != shape or (kind == "concatenate" and not shape):
                continue
            step = (kind, node, other, draw(st.integers(0, max(len(shape) - 1, 0))))
        program.steps.append(step)
        shapes.append(tuple(shape))
    rng_shape = shapes[-1]
    size = int(np.prod(rng_shape, dtype=np.int64))
    upstream = draw(st.lists(st.one_of(st.floats(-2, 2), st.sampled_from([INF, -INF, 1.0])),
                             min_size=size, max_size=size))
    program.upstream = np.array(upstream, np.float64).reshape(rng_shape)
    return program


def _as_view(array: np.ndarray, how: str) -> np.ndarray:
    """`array`'s elements as a non-contiguous (every other element of a larger array) or a
    negatively strided (reversed storage) view, or contiguous."""
    if how == "strided" and array.ndim:
        holder = np.zeros(array.shape[:-1] + (2 * array.shape[-1],), array.dtype)
        holder[..., ::2] = array
        return holder[..., ::2]
    if how == "reversed" and array.ndim:
        return np.ascontiguousarray(array[..., ::-1])[..., ::-1]
    return array


def _leaf_arrays(program: TensorProgram, delta: float = 0.0, seed: int = 0) -> list[np.ndarray]:
    arrays = [leaf.astype(program.dtype) for leaf in program.leaves]
    if delta:
        rng = np.random.default_rng(100 + seed)
        arrays = [a * (1 + delta * rng.choice([-1.0, 1.0], a.shape)).astype(program.dtype) for a in arrays]
    return arrays


def _slice(axis: int, part: Any) -> tuple:
    return (slice(None),) * axis + (part,)


def _apply_tensor_step(step: tuple, nodes: list, ours: bool) -> Any:
    kind = step[0]
    x = nodes[step[1]]
    dtype = x.dtype
    pick = 0 if ours else 1
    if kind == "unary":
        return UNARY[step[2]][pick](x)
    if kind == "binary":
        return BINARY[step[3]][pick](x, nodes[step[2]])
    if kind == "where":
        mask = step[3]
        return where(mask, x, nodes[step[2]]) if ours else torch.where(torch.tensor(mask), x, nodes[step[2]])
    if kind == "reduce":
        how, axis = step[2], step[3]
        if ours:
            return getattr(x, how)(axis=axis, keepdims=axis is not None)
        if how == "max":
            return x.amax() if axis is None else x.amax(axis, keepdim=True)
        return getattr(x, how)() if axis is None else getattr(x, how)(axis, keepdim=True)
    if kind == "softmax":
        log, axis = step[2], step[3]
        if ours:
            return x.log_softmax(axis) if log else x.softmax(axis)
        return torch.log_softmax(x, axis) if log else torch.softmax(x, axis)
    if kind == "matmul":
        weights, on_left = step[2], step[3]
        w = Tensor(weights, dtype=dtype) if ours else torch.tensor(weights, dtype=dtype)
        return w @ x if on_left else x @ w
    if kind == "transpose":
        permutation, unary = step[2], step[3]
        inverse = tuple(int(i) for i in np.argsort(permutation))
        if ours:
            return UNARY[unary][0](x.transpose(permutation)).transpose(inverse)
        return UNARY[unary][1](x.permute(permutation)).permute(inverse)
    if kind == "reverse":
        axis = step[2]
        return x[_slice(axis, slice(None, None, -1))] if ours else x.flip(axis)
    if kind == "take":
        axis, index = step[2], step[3]
        return x[_slice(axis, index)] if ours else x[_slice(axis, torch.tensor(index))]
    if kind == "reshape":
        flat = x.reshape(-1)
        return UNARY[step[2]][pick](flat).reshape(x.shape if ours else tuple(x.shape))
    if kind == "concatenate":
        other, axis = nodes[step[2]], step[3]
        n = x.shape[axis]
        joined = concatenate([x, other], axis) if ours else torch.cat([x, other], axis)
        return joined[_slice(axis, slice(0, n))] * joined[_slice(axis, slice(n, 2 * n))]
    if kind == "stack":
        other, axis = nodes[step[2]], step[3]
        stacked = stack([x, other], axis) if ours else torch.stack([x, other], axis)
        return stacked[_slice(axis, 0)] - 2.0 * stacked[_slice(axis, 1)]
    raise AssertionError(kind)


def run_tensor_program_ours(program: TensorProgram, every: bool = False) -> tuple[list[Tensor], Any]:
    leaves = [Tensor(_as_view(a, how), requires_grad=True, dtype=program.dtype)
              for a, how in zip(_leaf_arrays(program), program.views)]
    nodes: list = list(leaves)
    with kernel_mode(program.mode):
        for index, step in enumerate(program.steps):
            try:
                nodes.append(_apply_tensor_step(step, nodes, True))
            except REFUSAL_TYPES as error:
                reason = refusal(error)
                if reason is None:
                    raise
                raise RefusedByDesign(f"step {index} ({step[0]}): {reason}") from error
    return leaves, (nodes if every else nodes[-1])


def run_tensor_program_torch(program: TensorProgram, dtype: torch.dtype, delta: float = 0.0,
                             seed: int = 0, every: bool = False) -> tuple[list[torch.Tensor], Any]:
    leaves = [torch.tensor(a, dtype=dtype, requires_grad=True)
              for a in _leaf_arrays(program, delta, seed)]
    nodes: list = list(leaves)
    rng = np.random.default_rng(200 + seed)
    _PERTURBATION.update(delta=delta, rng=rng)
    try:
        for step in program.steps:
            nodes.append(perturbed(_apply_tensor_step(step, nodes, False), delta, rng))
    finally:
        _PERTURBATION.update(delta=0.0, rng=None)
    return leaves, (nodes if every else nodes[-1])


def _torch_first_order(program: TensorProgram, dtype: torch.dtype, delta: float = 0.0,
                       create_graph: bool = False, seed: int = 0) -> tuple:
    """torch's value and gradients; with `delta`, the inputs and the upstream gradient each
    perturbed by relative +-delta (the upstream's perturbation shows the size of the terms a
    gradient sums, which a cancellation hides: the rounding left after it is not a mismatch)."""
    leaves, out = run_tensor_program_torch(program, dtype, delta, seed)
    upstream = program.upstream
    if delta:
        signs = np.random.default_rng(300 + seed).choice([-1.0, 1.0], upstream.shape)
        upstream = upstream * (1 + delta * signs)
    upstream = torch.tensor(upstream, dtype=dtype)
    grads = torch.autograd.grad(out, leaves, upstream, allow_unused=True, create_graph=create_graph) \
        if out.requires_grad else [None] * len(leaves)
    return leaves, out, torch_grad_or_zero(grads, leaves)


def seed_scale(program: TensorProgram) -> float:
    """The largest finite |entry| of the upstream gradient (1 if none): the size below which a
    gradient's rounding after cancelling terms of the upstream's size is noise, not a mismatch
    (x / x has the gradient 1/x - (x/x)/x, 0 or an ulp of 1/x depending on the order)."""
    finite = np.abs(program.upstream[np.isfinite(program.upstream)])
    return float(finite.max()) if finite.size and finite.max() > 0 else 1.0


def check_tensor_program(program: TensorProgram) -> str:
    is64 = program.dtype == np.float64
    torch_dtype = torch.float64 if is64 else torch.float32
    try:
        leaves, nodes = run_tensor_program_ours(program, every=True)
    except RefusedByDesign:
        return "refused by design"
    out = nodes[-1]
    if is64:
        _, t_nodes = run_tensor_program_torch(program, torch.float64, every=True)
        if underflows_differently([node.data for node in nodes],
                                  [node.detach().numpy(force=True) for node in t_nodes]):
            return "not compared (an intermediate underflows differently)"
    with kernel_mode(program.mode):
        if out.requires_grad:
            out.backward(program.upstream)
    ours = [out.data] + [np.zeros(leaf.shape) if leaf.grad is None else leaf.grad for leaf in leaves]
    assert out.dtype == program.dtype and all(leaf.grad is None or leaf.grad.dtype == program.dtype
                                              for leaf in leaves)
    t_leaves, t_out, t_grads = _torch_first_order(program, torch_dtype, create_graph=is64)
    theirs = [t_out.detach().numpy(force=True)] + [g.detach().numpy(force=True) for g in t_grads]
    if is64:
        floor = 1e-13 * seed_scale(program)
        problem = next((m for m in (mismatch(o, t, 1e-9, floor) for o, t in zip(ours, theirs)) if m),
                       None)

        def rerun(delta: float, seed: int) -> list:
            _, p_out, p_grads = _torch_first_order(program, torch.float64, delta, seed=seed)
            return [p_out.detach().numpy(force=True)] + [g.detach().numpy(force=True) for g in p_grads]
        if problem and not excused_by_conditioning(rerun, ours, theirs, [floor] * len(ours)):
            pytest.fail(f"first order: {problem}; {program.describe()}")
        outcome = "passed" if not problem else "passed (ill-conditioned: excused)"
        if not all(np.all(np.isfinite(array)) for array in theirs) or \
                not np.all(np.isfinite(program.upstream)):
            return outcome + ", second order not compared (non-finite values)"
        return outcome + ", " + check_tensor_second_order(program, t_leaves, t_grads)
    # float32: each as close to torch float64 (on the same float32 inputs) as torch float32 is
    _, exact_out, exact_grads = _torch_first_order(program, torch.float64)
    exact = [exact_out.detach().numpy(force=True)] + [g.detach().numpy(force=True) for g in exact_grads]
    for index, (mine, reference, truth) in enumerate(zip(ours, theirs, exact)):
        problem = _float32_mismatch(np.asarray(mine), np.asarray(reference), np.asarray(truth),
                                    4e-7 * seed_scale(program))
        if problem:
            pytest.fail(f"float32, {'value' if index == 0 else f'grad {index - 1}'}: {problem}; "
                        f"{program.describe()}")
    return "passed"


def _float32_mismatch(mine: np.ndarray, reference: np.ndarray, truth: np.ndarray,
                      floor: float) -> Optional[str]:
    """NaN and infinities as torch float32; finite numbers within 1e-4 of torch float32, or no
    farther from the float64 result than torch float32 is (times 8, plus float32 rounding of
    the result and of terms the size of the upstream gradient, `floor`)."""
    problem = mismatch(mine, reference, 1e-4, floor)
    if problem is None:
        return None
    if mine.shape != reference.shape:
        return problem
    both = np.isfinite(mine) & np.isfinite(reference)
    if not np.array_equal(np.isfinite(mine), np.isfinite(reference)):
        # overflow or NaN on one side only: acceptable where float64 shows it is a float32
        # overflow that one rounding order escapes (the true value beyond float32's range)
        odd = np.isfinite(mine) != np.isfinite(reference)
        if not np.all(np.abs(truth[odd]) > 1e37):
            return problem
    with np.errstate(invalid="ignore", over="ignore"):
        ours_error = np.abs(mine[both].astype(np.float64) - truth[both])
        torch_error = np.abs(reference[both].astype(np.float64) - truth[both])
        slack = 1e-6 * np.abs(truth[both]) + floor
    if np.all((ours_error <= 8 * torch_error + slack) | ~np.isfinite(truth[both])):
        return None
    return problem


def check_tensor_second_order(program: TensorProgram, t_leaves: list, t_grads: list) -> str:
    weights = [np.linspace(0.5, 1.5, max(leaf.numel(), 1))[:leaf.numel()].reshape(tuple(leaf.shape))
               for leaf in t_leaves]
    try:
        leaves, out = run_tensor_program_ours(program)
        with kernel_mode(program.mode):
            if not out.requires_grad:
                return "second order: nothing to differentiate"
            first = grad(out, leaves, grad_outputs=program.upstream, create_graph=True, allow_unused=True)
            parts = [(g * w).sum() for g, w in zip(first, weights) if isinstance(g, Tensor) and g.requires_grad]
            if parts:
                total = parts[0]
                for part in parts[1:]:
                    total = total + part
                second = grad(total, leaves, allow_unused=True)
            else:
                second = [None] * len(leaves)
    except REFUSAL_TYPES as error:
        if refusal(error) is None:
            raise
        return "second order refused by design"
    t_total = sum(((g * torch.tensor(w)).sum() for g, w in zip(t_grads, weights)),
                  torch.tensor(0.0, dtype=torch.float64))
    t_second = torch_grad_or_zero(torch.autograd.grad(t_total, t_leaves, allow_unused=True)
                                  if t_total.requires_grad else [None] * len(t_leaves), t_leaves)
    ours = [np.zeros(leaf.shape) if g is None else np.asarray(g.data if isinstance(g, Tensor) else g)
            for leaf, g in zip(leaves, first)]
    ours += [np.zeros(leaf.shape) if g is None else g for leaf, g in zip(leaves, second)]
    theirs = [g.detach().numpy(force=True) for g in t_grads] + [g.detach().numpy(force=True) for g in t_second]
    count = len(leaves)
    second_ours, second_theirs, left_out = defined_part(ours[count:], theirs[count:])
    ours, theirs = ours[:count] + second_ours, theirs[:count] + second_theirs
    floor = 1e-13 * seed_scale(program) * 1.5  # the weights are at most 1.5
    problem = next((m for m in (mismatch(o, t, 1e-9, floor) for o, t in zip(ours, theirs)) if m), None)
    if not problem:
        return "second order passed" + (" where torch's is finite" if left_out else "")

    def rerun(delta: float, seed: int) -> list:
        p_leaves, _, p_first = _torch_first_order(program, torch.float64, delta, create_graph=True,
                                                  seed=seed)
        rng = np.random.default_rng(400 + seed)
        moved = [w * (1 + delta * rng.choice([-1.0, 1.0], w.shape)) for w in weights]
        p_total = sum(((g * torch.tensor(w)).sum() for g, w in zip(p_first, moved)),
                      torch.tensor(0.0, dtype=torch.float64))
        p_second = torch_grad_or_zero(torch.autograd.grad(p_total, p_leaves, allow_unused=True)
                                      if p_total.requires_grad else [None] * len(p_leaves), p_leaves)
        return [g.detach().numpy(force=True) for g in p_first] + [g.detach().numpy(force=True) for g in p_second]
    if not excused_by_conditioning(rerun, ours, theirs, [floor] * len(ours)):
        pytest.fail(f"second order: {problem}; {program.describe()}")
    return "second order passed (ill-conditioned: excused)"


def _record(kind: str, outcome: str, program: TensorProgram) -> None:
    COUNTS[f"{kind} tried"] += 1
    for part in outcome.split(", "):
        COUNTS[f"{kind}: {part}"] += 1
    shapes = [leaf.shape for leaf in program.leaves]
    tally = {
        "a 0-d leaf": any(shape == () for shape in shapes),
        "a size-1 axis": any(1 in shape for shape in shapes),
        "an empty axis": any(0 in shape for shape in shapes),
        "leaves of different shapes (broadcasting)": len(set(shapes)) > 1,
        "a non-contiguous leaf": "strided" in program.views,
        "a negatively strided leaf": "reversed" in program.views,
        "an edge value": any(np.any(~np.isfinite(leaf) | (leaf == 0) | (np.abs(leaf) < 1e-200) |
                                    (np.abs(leaf) > 1e200)) for leaf in program.leaves),
        "an inf in the upstream gradient": bool(np.any(np.isinf(program.upstream))),
        f"kernel mode {program.mode}": True,
    }
    for name, present in tally.items():
        COUNTS[f"tensor kinds ({kind[:7]}): with {name}"] += bool(present)
    for step in program.steps:
        label = {"unary": lambda: step[2], "binary": lambda: step[3], "reduce": lambda: step[2],
                 "softmax": lambda: "log_softmax" if step[2] else "softmax"}.get(step[0], lambda: step[0])()
        COUNTS[f"tensor ops ({kind[:7]}): {label}"] += 1


@examples("tensor64")
@given(program=tensor_programs(np.float64))
def test_float64_tensor_programs_match_torch(program):
    with np.errstate(all="ignore"):
        _record("float64 tensor programs", check_tensor_program(program), program)


@examples("tensor32")
@given(program=tensor_programs(np.float32))
def test_float32_tensor_programs_match_torch(program):
    with np.errstate(all="ignore"):
        _record("float32 tensor programs", check_tensor_program(program), program)


# -- the suite can fail ---------------------------------------------------------------------------

def test_the_comparison_catches_each_kind_of_difference():
    assert mismatch([1.0, NAN], [1.0, NAN], 1e-9) is None
    assert mismatch([0.0], [-0.0], 1e-9) is None
    assert "NaN" in mismatch([0.0], [NAN], 1e-9)
    assert "infinities" in mismatch([INF], [-INF], 1e-9)
    assert "infinities" in mismatch([1e308], [INF], 1e-9)
    assert "values" in mismatch([1.0], [1.0 + 1e-6], 1e-9)
    assert "shape" in mismatch(np.zeros((2, 1)), np.zeros(2), 1e-9)


def _value_rerun(program: Program) -> Callable[[float, int], list]:
    def rerun(delta: float, seed: int) -> list:
        leaves, nodes = run_value_program_torch(program, delta=delta, seed=seed)
        return [nodes[-1].item(), [g.item() for g in torch.autograd.grad(nodes[-1], leaves)]]
    return rerun


def test_a_kink_that_flips_is_not_excused_as_ill_conditioning():
    # maximum at a tie: 0.5 each. A rule giving (1, 0) must fail, though perturbing the inputs
    # breaks the tie and moves torch's gradient by 0.5: it does so for every size of
    # perturbation, so the sensitivity it shows allows a hundredth of that jump at most
    program = Program([1.0, 1.0], [("max", (0, 1), None)])
    assert not excused_by_conditioning(_value_rerun(program), [1.0, [1.0, 0.0]], [1.0, [0.5, 0.5]])
    assert not excused_by_conditioning(_value_rerun(program), [1.0, [0.45, 0.55]], [1.0, [0.5, 0.5]])


def test_rounding_that_a_cancellation_magnifies_is_excused():
    # 1 / (e^x - e^y) with x ~ y: an ulp of e^x, divided by e^x - e^y ~ 2e-9, is a relative
    # 1e-7 of the result; a 1% difference is not rounding
    program = Program([0.7, 0.7 + 1e-9], [("exp", (0,), None), ("exp", (1,), None),
                                          ("-", (2, 3), None), ("c/x", (4,), 1.0)])
    leaves, nodes = run_value_program_torch(program)
    value = nodes[-1].item()
    grads = [g.item() for g in torch.autograd.grad(nodes[-1], leaves)]
    assert excused_by_conditioning(_value_rerun(program), [value * (1 + 1e-7), grads], [value, grads])
    assert not excused_by_conditioning(_value_rerun(program), [value * 1.01, grads], [value, grads])


@pytest.mark.parametrize("program", [
    Program([-2.0], [("relu", (0,), None), ("x**n", (1,), 0.5)]),  # issue 11: 0, not NaN
    Program([NAN, 1.0], [("max", (0, 1), None)]),
    Program([1e-170, 1e-170], [("/", (0, 1), None)]),
    Program([0.0, 1e-200], [("/", (0, 1), None)]),
    Program([1e-170], [("c/x", (0,), 1.0), ("x*c", (1,), 2.0)]),
    Program([-1.0], [("log", (0,), None)]),  # refused by design
], ids=["relu ** 0.5", "maximum at NaN", "tiny / tiny", "0 / tiny", "number / tiny", "log(-1)"])
def test_fixed_edge_programs(program):
    with np.errstate(all="ignore"):
        outcome = check_value_program(program)
    assert outcome.startswith("refused by design" if program.steps[-1][0] == "log" else "passed")
