"""Step-by-step backward tracing: what `backward()` does, one node at a time.

`trace_backward(root)` runs the same driver as `backward()` (`graph.backpropagate`) with
``accumulate=False`` and a callback, so the steps are, by construction, exactly the
steps backward applies, in its order, and no ``.grad`` is changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union

import numpy as np

from autograd_core import ops
from autograd_core.graph import backpropagate, topological_order

def local_derivative_formulas(op: Union[str, ops.Op], parent_names: list[str],
                              out_name: str = "out") -> tuple[str, ...]:
    """The local derivative d(out)/d(parent) of `op` for each parent, as text.

    The text is the op's own: an `ops.Op` (or the name of a declared op) fills its declared
    formula with the parents' and the result's names, as the slide writes it (sigmoid' =
    y(1 - y) for y = sigmoid(F)); a tensor op gives its matrix-calculus form from
    `ops.TENSOR_FORMULAS`. An op declared nowhere falls back to "d(op)/d(parent)"."""
    rule = op if isinstance(op, ops.Op) else ops.OPS.get(op)
    name = op.name if isinstance(op, ops.Op) else op
    if rule is None and name.startswith("**") and len(name) > 2:  # a power's name, "**3"
        rule = ops.POWER_OF_NUMBER.bind(n=float(name[2:]))
    if rule is not None and rule.arity == len(parent_names):
        return rule.formulas(parent_names, out_name)
    matrix = ops.TENSOR_FORMULAS.get(name)
    if matrix is not None and len(matrix) >= len(parent_names):
        return matrix[:len(parent_names)]
    return tuple(f"d({name})/d{parent}" for parent in parent_names)


def rule_of(node: Any) -> Union[ops.Op, str]:
    """The declaration of the op that made `node` where it has one, else its op name."""
    return getattr(node, "rule", None) or node.op


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
    """What one step sends to one parent: dL/d(parent) += upstream * local.

    A parent used by several nodes receives one contribution from each (the multivariable
    chain rule sums them): this is contribution `path` of `paths`, and `total` is what the
    parent has received so far, this contribution included (the full dL/d(parent) once
    ``path == paths``).
    """

    parent: Any
    name: str
    formula: str  # the local derivative d(node)/d(parent), as text
    local: float | None  # its value (scalar graphs only)
    contribution: Any  # upstream * local, the amount added to the parent's gradient
    path: int = 1
    paths: int = 1
    total: Any = None


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
        ``dL/du = dL/dv * (-1/u^2) = <upstream> * <local> = <product>``.

        A parent that receives gradient along several paths gets ``+=`` instead of ``=``,
        which path this is, and its gradient so far (complete after the last path).
        The numbers an expression wraps (``Constant``s, such as the 2 in ``y - 2``) get no
        line (their `ParentStep` is still in ``parents``), as a slide writes no dL/d2."""
        root, up = self.root_name, format_number(self.upstream)
        out = []
        for p in self.parents:
            if p.contribution is None or getattr(p.parent, "is_constant", False):
                continue
            gradient = f"d{root}/d{p.name}"
            chain = f"d{root}/d{self.name} * ({p.formula})"
            value = format_number(p.contribution)
            if p.local is not None:
                value = f"{up} * {format_number(p.local)} = {value}"
            if p.paths == 1:
                out.append(f"{gradient} = {chain} = {value}")
                continue
            so_far = "in all" if p.path == p.paths else "so far"
            out.append(f"{gradient} += {chain} = {value}   (path {p.path} of {p.paths}; "
                       f"{gradient} = {format_number(p.total)} {so_far})")
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
    applied: list[tuple[Any, Any, Any]] = []
    backpropagate(root, seed, accumulate=False,
                  on_step=lambda node, upstream, sent: applied.append((node, upstream, sent)))

    # How many contributions each node receives in the whole pass, then the running totals.
    paths: dict[int, int] = {}
    for node, _, sent in applied:
        for parent, contribution in sent:
            if contribution is not None:
                paths[id(parent)] = paths.get(id(parent), 0) + 1
    received: dict[int, tuple[int, Any]] = {}
    names = node_names(root)
    root_name = names[id(root)]
    steps: list[BackwardStep] = []
    for index, (node, upstream, sent) in enumerate(applied, start=1):
        name = names[id(node)]
        parent_names = [names[id(parent)] for parent, _ in sent]
        formulas = local_derivative_formulas(rule_of(node), parent_names, name)
        locals_ = getattr(node, "local_grads", None) or (None,) * len(sent)
        parents = []
        for (parent, contribution), parent_name, formula, local in zip(
                sent, parent_names, formulas, locals_):
            if contribution is None:
                parents.append(ParentStep(parent, parent_name, formula, local, None, 0, 0, None))
                continue
            count, total = received.get(id(parent), (0, None))
            # A new total each time: the same contribution array may be shared by two parents.
            total = contribution if total is None else total + contribution
            received[id(parent)] = (count + 1, total)
            parents.append(ParentStep(parent, parent_name, formula, local, contribution,
                                      count + 1, paths[id(parent)], total))
        steps.append(BackwardStep(index, node, name, root_name, upstream, tuple(parents)))
    return steps
