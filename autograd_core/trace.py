"""Step-by-step backward tracing: what `backward()` does, one node at a time.

`trace_backward(root)` runs the same driver as `backward()` (`graph.backpropagate`) with
``accumulate=False`` and a callback, so the steps are, by construction, exactly the
steps backward applies, in its order, and no ``.grad`` is changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from autograd_core.graph import backpropagate, topological_order

# d(out)/d(parent_i) as text, for each op, from the names of the parents (a, b).
# Ops not listed (e.g. tensor ops that register none) fall back to "d(out)/d(parent)".
LOCAL_DERIVATIVE_FORMULAS: dict[str, Callable[..., tuple[str, ...]]] = {
    "+": lambda a, b: ("1", "1"),
    "-": lambda a, b: ("1", "-1"),
    "*": lambda a, b: (b, a),
    "/": lambda a, b: (f"1/{b}", f"-{a}/{b}^2"),
    "neg": lambda a: ("-1",),
    "**": lambda a, b: (f"{b}*{a}^({b}-1)", f"{a}^{b}*ln({a})"),
    "exp": lambda a: (f"exp({a})",),
    "log": lambda a: (f"1/{a}",),
    "tanh": lambda a: (f"1-tanh({a})^2",),
    "sigmoid": lambda a: (f"sigmoid({a})*(1-sigmoid({a}))",),
    "relu": lambda a: (f"[{a}>0]",),
    "leaky_relu": lambda a: (f"(1 if {a}>0 else slope)",),
    "elu": lambda a: (f"(1 if {a}>0 else alpha*exp({a}))",),
    "abs": lambda a: (f"sign({a})",),
    "max": lambda a, b: (f"[{a}>{b}]", f"[{b}>{a}]"),
}


def local_derivative_formulas(op: str, parent_names: list[str]) -> tuple[str, ...]:
    """The local derivative d(out)/d(parent) of `op` for each parent, as text."""
    if op.startswith("**") and len(parent_names) == 1:  # power with a number exponent
        n = float(op[2:])
        return (f"{n:g}*{parent_names[0]}^{n - 1:g}",)
    rule = LOCAL_DERIVATIVE_FORMULAS.get(op)
    if rule is None or rule.__code__.co_argcount != len(parent_names):
        return tuple(f"d({op})/d{name}" for name in parent_names)
    return rule(*parent_names)


_INFIX = {"+", "-", "*", "/", "**", "max"}
_MAX_NAME = 24


def node_names(root: Any) -> dict[int, str]:
    """A readable name for every node of the graph, keyed by ``id(node)``.

    A labelled node is called by its label, an unlabelled leaf by its value, and an
    unlabelled result by its expression, e.g. ``(y-2)``, while that stays short, else
    by its position, e.g. ``node12``.
    """
    names: dict[int, str] = {}
    for index, node in enumerate(topological_order(root)):
        if node.label:
            name = node.label
        elif not node.parents:
            name = format_number(node.data)
        else:
            args = [names[id(p)] for p in node.parents]
            op = node.op
            if op in _INFIX and len(args) == 2:
                name = f"({args[0]}{op}{args[1]})" if op != "max" else f"max({args[0]},{args[1]})"
            elif op.startswith("**") and len(args) == 1:
                name = f"{args[0]}^{op[2:]}"
            elif op == "neg":
                name = f"(-{args[0]})"
            else:
                name = f"{op}({','.join(args)})"
            if len(name) > _MAX_NAME:
                name = f"node{index}"
        names[id(node)] = name
    return names


def format_number(x: Any) -> str:
    """Short text for a scalar (``.4g``) or an array (its values if small, else its shape)."""
    if isinstance(x, np.ndarray):
        if x.ndim == 0:
            return f"{float(x):.4g}"
        if x.size <= 6:
            return np.array2string(x, precision=4, separator=", ")
        return f"<array {x.shape}>"
    return f"{x:.4g}"


@dataclass(frozen=True)
class ParentStep:
    """What one step sends to one parent: dL/d(parent) += upstream * local."""

    parent: Any
    name: str
    formula: str  # the local derivative d(node)/d(parent), as text
    local: float | None  # its value (scalar graphs only)
    contribution: Any  # upstream * local, the amount added to the parent's gradient


@dataclass(frozen=True)
class BackwardStep:
    """One application of the chain rule: a node passes dL/d(node) on to its parents."""

    index: int  # 1-based, in the order backward() applies the steps
    node: Any
    name: str
    root_name: str
    upstream: Any  # dL/d(node), complete when the step runs
    parents: tuple[ParentStep, ...]

    def lines(self) -> list[str]:
        """One line per parent, as the slide writes it:
        ``dL/du = dL/dv * (-1/u^2) = <upstream> * <local> = <product>``."""
        root, up = self.root_name, format_number(self.upstream)
        out = []
        for p in self.parents:
            if p.contribution is None:
                continue
            head = f"d{root}/d{p.name} = d{root}/d{self.name} * ({p.formula})"
            if p.local is not None:
                out.append(f"{head} = {up} * {format_number(p.local)} = {format_number(p.contribution)}")
            else:
                out.append(f"{head} = {format_number(p.contribution)}")
        return out

    def __str__(self) -> str:
        return f"step {self.index}: {self.name} [{self.node.op}]\n" + "\n".join(
            "  " + line for line in self.lines())


def trace_backward(root: Any, seed: Any = None) -> list[BackwardStep]:
    """The steps of ``root.backward()``, in the order it applies them; no ``.grad`` changes.

    `seed` is dL/d(root), 1 by default (a scalar root is required then).
    """
    if seed is None:
        if isinstance(root.data, np.ndarray):
            if root.data.size != 1:
                raise ValueError(f"trace_backward needs a seed for a non-scalar root of shape "
                                 f"{root.data.shape}")
            seed = np.ones_like(root.data)
        else:
            seed = 1.0
    names = node_names(root)
    root_name = names[id(root)]
    steps: list[BackwardStep] = []

    def record(node: Any, upstream: Any, contributions: Any) -> None:
        parent_names = [names[id(p)] for p in node.parents]
        formulas = local_derivative_formulas(node.op, parent_names)
        locals_ = getattr(node, "local_grads", None) or (None,) * len(node.parents)
        parents = tuple(
            ParentStep(p, n, f, local, c)
            for p, n, f, local, c in zip(node.parents, parent_names, formulas, locals_, contributions))
        steps.append(BackwardStep(len(steps) + 1, node, names[id(node)], root_name, upstream, parents))

    backpropagate(root, seed, accumulate=False, on_step=record)
    return steps
