"""Step-by-step backward tracing: what `backward()` does, one node at a time.

`trace_backward(root)` runs the same driver as `backward()` (`graph.backpropagate`) with
``accumulate=False`` and a callback, so the steps are, by construction, exactly the
steps backward applies, in its order, and no ``.grad`` is changed.

Each step prints as a lecture slide writes it (``dL/du = dL/dv * (-1/u^2) = 3 * -0.25 =
-0.75``), and is also math: ``step.latex()`` and Jupyter's math display for one step, and a
whole trace (a `Trace`) displays as a table of formulas. The formula of every step is the
op's own declaration (`autograd_core.ops`), read into math by `autograd_core.mathtext`.
Tensor steps are written in matrix calculus: ``dL/dA = G·Bᵀ`` for a matmul, ``⊙`` for an
elementwise rule, and a sum over the axes that broadcasting added.

``trace_backward(root, focus=w)`` keeps only the steps on the chain(s) from `root` to `w`.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Optional, Sequence, SupportsIndex, Union, overload

import numpy as np

from autograd_core import mathtext, ops
from autograd_core.graph import backpropagate, topological_order
from autograd_core.mathtext import (Bin, Call, Math, Neg, Num, Paren, Partial, Pow, Row, Sym,
                                    SumOver, Text, relation)


def local_derivative_formulas(op: Union[str, ops.Op], parent_names: list[str],
                              out_name: str = "out") -> tuple[str, ...]:
    """The local derivative d(out)/d(parent) of `op` for each parent, as text.

    The text is the op's own: an `ops.Op` (or the name of a declared op) fills its declared
    formula with the parents' and the result's names, as the slide writes it (sigmoid' =
    y(1 - y) for y = sigmoid(F)); a tensor op gives its matrix-calculus form from
    `ops.TENSOR_FORMULAS`. An op declared nowhere falls back to "d(op)/d(parent)"."""
    kind, rule, name = _declaration(op, len(parent_names))
    if kind == "local":
        return rule.formulas(parent_names, out_name)
    if kind == "vjp":
        return ops.TENSOR_FORMULAS[name][:len(parent_names)]
    return tuple(f"d({name})/d{parent}" for parent in parent_names)


def _declaration(op: Union[str, ops.Op], arity: int) -> tuple[str, Optional[ops.Op], str]:
    """Where the formula of `op` comes from: ("local", its Op, name) for a declared
    elementwise op (the formula is d out/d input), ("vjp", None, name) for a tensor op with a
    registered matrix-calculus formula (the formula is dL/d input, written with G = dL/d out),
    ("generic", None, name) for an op declared nowhere."""
    rule = op if isinstance(op, ops.Op) else ops.OPS.get(op)
    name = op.name if isinstance(op, ops.Op) else op
    if rule is None and name.startswith("**") and len(name) > 2:  # a power's name, "**3"
        try:
            rule = ops.POWER_OF_NUMBER.bind(n=float(name[2:]))
        except ValueError:
            rule = None
    if rule is not None and rule.arity == arity:
        return "local", rule, name
    matrix = ops.TENSOR_FORMULAS.get(name)
    if matrix is not None and len(matrix) >= arity:
        return "vjp", None, name
    return "generic", None, name


def rule_of(node: Any) -> Union[ops.Op, str]:
    """The declaration of the op that made `node` where it has one, else its op name."""
    return getattr(node, "rule", None) or node.op


_INFIX = {"+", "-", "*", "/", "**", "max", "@"}
# How an infix op is written in a name as math: matmul as a product, a division inline (a
# name is often a derivative's denominator, where a fraction would be tall).
_MATH_INFIX = {"@": "·", "/": "÷"}
_MAX_NAME = 24
# The word that names a node by its op and position when no expression fits (``sum#3``).
_OP_WORDS = {"+": "sum", "*": "prod", "-": "diff", "/": "quot", "@": "matmul", "neg": "neg",
             "max": "max"}
# Ops that bind more tightly than a sum: such a term is written without parentheses inside a
# sum's name (``(w1*x1+w2*x2+w3*x3)``).
_TIGHTER_THAN_SUM = {"*", "/", "**", "@"}
ELLIPSIS = "…"

LabelsLike = Union[Mapping[Any, str], Sequence[tuple[Any, str]], None]


def node_names(root: Any, labels: LabelsLike = None) -> dict[int, str]:
    """A readable name for every node of the graph, keyed by ``id(node)``.

    A node is called by the name `labels` gives it (``{node: "w52"}``, or a node's label as
    the key), else by its label; an unlabelled leaf by its value; an unlabelled result by its
    expression while that stays short: ``(y-2)``, ``(w1*x1+w2*x2)``, a long sum by its first
    and last terms, ``(w1*x1+…+w4*x4)``; else by its op and position among the nodes so
    named, ``sum#3``, ``prod#1``, ``exp#2`` (``array#1`` for an unlabelled array too large to
    spell out). The same names are used in traces, drawings and the player.
    """
    return _names(root, resolve_labels(labels, topological_order(root)))[0]


def node_math_names(root: Any, labels: LabelsLike = None) -> dict[int, Math]:
    """The names of `node_names` as math (``w52`` as w with subscript 52, ``(y-2)^2`` as a
    power), keyed by ``id(node)``."""
    return _names(root, resolve_labels(labels, topological_order(root)))[1]


def resolve_labels(labels: LabelsLike, order: Sequence[Any]) -> dict[int, str]:
    """`labels` ({node: "name"}, a list of (node, name) pairs for nodes that cannot be dict
    keys, or {"label": "name"} naming a node by its label) keyed by ``id(node)``, checked
    against the graph's nodes `order`."""
    if labels is None:
        return {}
    if isinstance(labels, Mapping):
        pairs = list(labels.items())
    elif isinstance(labels, (list, tuple)) and all(isinstance(p, tuple) and len(p) == 2 for p in labels):
        pairs = list(labels)
    else:
        raise TypeError(f"labels must be a mapping {{node: 'name'}} or a list of (node, 'name') "
                        f"pairs, got {type(labels).__name__}")
    in_graph = {id(node): node for node in order}
    out: dict[int, str] = {}
    for key, name in pairs:
        if isinstance(key, str):
            found = [node for node in order if node.label == key]
            if len(found) != 1:
                raise ValueError(f"labels key {key!r}: {'no' if not found else len(found)} nodes "
                                 f"of this graph are labelled so; pass the node itself")
            node = found[0]
        elif id(key) in in_graph and in_graph[id(key)] is key:
            node = key
        else:
            raise ValueError(f"labels key {getattr(key, 'label', '') or type(key).__name__!r} is not "
                             f"a node of this graph: the root does not depend on it")
        if not isinstance(name, str) or not name:
            raise TypeError(f"labels[{getattr(node, 'label', '') or '?'!r}] must be a non-empty str, "
                            f"got {name!r}")
        out[id(node)] = name
    return out


def _names(root: Any, labels: Optional[Mapping[int, str]] = None,
           order: Optional[Sequence[Any]] = None) -> tuple[dict[int, str], dict[int, Math]]:
    """The names of `node_names` and their math, for `labels` keyed by ``id(node)``."""
    labels = labels or {}
    order = topological_order(root) if order is None else order
    names: dict[int, str] = {}
    maths: dict[int, Math] = {}
    used: set[str] = set()
    counters: dict[str, int] = {}

    def fallback(node: Any) -> tuple[str, Math]:
        if not node.parents:
            word = "array" if isinstance(node.data, np.ndarray) else "leaf"
        else:
            op = node.op or "op"
            word = _OP_WORDS.get(op) or ("pow" if op.startswith("**") else
                                         op if op.isidentifier() else "op")
        counters[word] = counters.get(word, 0) + 1
        name = f"{word}#{counters[word]}"
        return name, Sym(name)

    for node in order:
        key = id(node)
        if key in labels or node.label:
            name = labels.get(key) or node.label
            names[key], maths[key] = name, Sym(name)
            used.add(name)
            continue
        if not node.parents:
            name = format_number(node.data)
            math = Num(name) if not isinstance(node.data, np.ndarray) or node.data.ndim == 0 \
                else mathtext.array_math(node.data)
            if len(name) > _MAX_NAME:
                name, math = fallback(node)
        else:
            found = _expression_name(node, names, maths, labels, used)
            name, math = found if found is not None else fallback(node)
        names[key], maths[key] = name, math
        used.add(name)
    return names, maths


def _named(node: Any, labels: Mapping[int, str]) -> bool:
    return id(node) in labels or bool(node.label)


def _terms(node: Any, op: str, labels: Mapping[int, str]) -> list[Any]:
    """The operands of a chain of the same associative op (`+` or `*`), as `sum_values` builds
    a sum: unlabelled nodes of that op with two parents are opened up."""
    out: list[Any] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if (item is node or not _named(item, labels)) and item.op == op and len(item.parents) == 2:
            stack.extend(reversed(item.parents))
        else:
            out.append(item)
    return out


def _expression_name(node: Any, names: Mapping[int, str], maths: Mapping[int, Math],
                     labels: Mapping[int, str], used: set[str]) -> Optional[tuple[str, Math]]:
    """The name of an unlabelled result as its expression, or None when none fits."""
    op = node.op
    args = [names[id(p)] for p in node.parents]
    arg_maths = [maths[id(p)] for p in node.parents]
    if op in ("+", "*") and len(args) == 2:
        terms = _terms(node, op, labels)
        texts, term_maths = [], []
        for term in terms:
            text, math = names[id(term)], maths[id(term)]
            if (op == "+" and not _named(term, labels) and term.op in _TIGHTER_THAN_SUM
                    and text.startswith("(") and text.endswith(")") and isinstance(math, Paren)):
                text, math = text[1:-1], math.inner  # w1*x1 inside a sum needs no parentheses
            texts.append(text)
            term_maths.append(math)
        symbol = _MATH_INFIX.get(op, op)
        candidates = [(texts, term_maths)]
        if len(terms) > 2:
            candidates.append(([texts[0], ELLIPSIS, texts[-1]],
                               [term_maths[0], Text(ELLIPSIS), term_maths[-1]]))
        for parts, part_maths in candidates:
            name = f"({op.join(parts)})"
            # Two nodes that compute the same sum share its name, as any expression; an
            # abbreviated one must not stand for two different sums.
            if len(name) <= _MAX_NAME and (parts is texts or name not in used):
                math = part_maths[0]
                for item in part_maths[1:]:
                    math = Bin(symbol, math, item)
                return name, Paren(math)
        return None
    if op in _INFIX and len(args) == 2:
        if op == "max":
            name, math = f"max({args[0]},{args[1]})", Call("max", tuple(arg_maths))
        else:
            name = f"({args[0]}{op}{args[1]})"
            math = Paren(Pow(*arg_maths) if op == "**"
                         else Bin(_MATH_INFIX.get(op, op), *arg_maths))
    elif op.startswith("**") and len(args) == 1:
        name, math = f"{args[0]}^{op[2:]}", Pow(arg_maths[0], Num(op[2:]))
    elif op == "neg":
        name, math = f"(-{args[0]})", Paren(Neg(arg_maths[0]))
    else:
        # A function's parentheses are enough around an expression: exp(z1-0.2551).
        bare = [text[1:-1] if (not _named(parent, labels) and isinstance(math, Paren)
                               and text.startswith("(") and text.endswith(")")) else text
                for parent, text, math in zip(node.parents, args, arg_maths)]
        name, math = f"{op}({','.join(bare)})", Call(op, tuple(arg_maths))
    if len(name) > _MAX_NAME:
        return None
    return name, math


def format_number(x: Any) -> str:
    """Short text for a number (``.4g``) or an array: its values when it has at most 6 rows
    and 6 columns (``[[1, 2], [3, 4]]``, on one line), else its shape and min/mean/max."""
    if isinstance(x, np.ndarray):
        if x.ndim == 0:
            return f"{float(x):.4g}"
        if x.ndim <= 2 and x.size > 0 and all(n <= mathtext.MATRIX_LIMIT for n in x.shape):
            text = np.array2string(x, separator=", ", formatter={"all": lambda v: f"{v:.4g}"})
            return " ".join(line.strip() for line in text.splitlines())
        if x.size == 0:
            return f"empty array of shape {x.shape}"
        return (f"shape {x.shape}: min {float(np.min(x)):.4g} mean {float(np.mean(x)):.4g} "
                f"max {float(np.max(x)):.4g}")
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
    math_name: Optional[Math] = None  # `name` as math
    slot: int = 0  # the parent's position in ``node.parents``

    @property
    def shown(self) -> bool:
        """Whether the step writes a line for this parent: it receives a gradient and is not
        a number an expression wraps (a slide writes no dL/d2 for the 2 of ``y - 2``)."""
        return self.contribution is not None and not getattr(self.parent, "is_constant", False)


@dataclass(frozen=True)
class BackwardStep:
    """One application of the chain rule: a node passes dL/d(node) on to its parents.

    `index` counts the steps of the trace from 1; `pass_index` is the step's number in the
    whole backward pass (they differ in a trace focused on one node's chain).
    """

    index: int  # 1-based, in the order backward() applies the steps
    node: Any
    name: str
    root_name: str
    upstream: Any  # dL/d(node), complete when the step runs
    parents: tuple[ParentStep, ...]
    pass_index: Optional[int] = None
    math_name: Optional[Math] = None
    root_math: Optional[Math] = None
    # The names of all of the node's parents, as text and math, also those a focused trace
    # leaves out of `parents` (a formula such as d(a*b)/da = b names the other one).
    operands: tuple[tuple[str, Math], ...] = ()

    def _operands(self) -> tuple[list[str], list[Math]]:
        if self.operands:
            return [t for t, _ in self.operands], [m for _, m in self.operands]
        return [p.name for p in self.parents], [p.math_name or Sym(p.name) for p in self.parents]

    @property
    def is_tensor_step(self) -> bool:
        """Whether the gradients are arrays (a Tensor graph), written in matrix calculus."""
        return isinstance(self.upstream, np.ndarray)

    def lines(self) -> list[str]:
        """One line per parent, as the slide writes it:
        ``dL/du = dL/dv * (-1/u^2) = <upstream> * <local> = <product>``.

        A parent that receives gradient along several paths gets ``+=`` instead of ``=``,
        which path this is, and its gradient so far (complete after the last path).
        The numbers an expression wraps (``Constant``s, such as the 2 in ``y - 2``) get no
        line (their `ParentStep` is still in ``parents``), as a slide writes no dL/d2.

        A tensor step is written in matrix calculus, with its result as a matrix (up to 6x6)
        or as shape and min/mean/max: ``dL/dW = xᵀ·(dL/d(x@W)) = [[...]]`` for a matmul,
        ``dL/da = dL/dout ⊙ (b)`` for an elementwise rule, summed over the axes that
        broadcasting added (``sum over axis 0 of [...]``)."""
        root, up = self.root_name, format_number(self.upstream)
        out = []
        operand_texts, _ = self._operands()
        kind, _, _ = _declaration(rule_of(self.node), len(operand_texts))
        letters = _letters(f"d{root}/d{self.name}", self.name, operand_texts)
        for p in self.parents:
            if not p.shown:
                continue
            gradient = f"d{root}/d{p.name}"
            value = format_number(p.contribution)
            if isinstance(p.contribution, np.ndarray) and kind == "vjp":
                chain = _substitute_letters(p.formula, letters)
            elif isinstance(p.contribution, np.ndarray) and kind == "local":
                chain = f"d{root}/d{self.name} ⊙ ({p.formula})"
                axes = _broadcast_axes(np.shape(p.contribution), np.shape(self.upstream))
                if axes:
                    chain = f"sum over {_axes_label(axes)} of [{chain}]"
            elif isinstance(p.contribution, np.ndarray):  # an op declared nowhere: G·J
                chain = f"d{root}/d{self.name} · ({p.formula})"
            else:
                chain = f"d{root}/d{self.name} * ({p.formula})"
            if p.local is not None:
                value = f"{up} * {format_number(p.local)} = {value}"
            if p.paths == 1:
                out.append(f"{gradient} = {chain} = {value}")
                continue
            so_far = "in all" if p.path == p.paths else "so far"
            out.append(f"{gradient} += {chain} = {value}   (path {p.path} of {p.paths}; "
                       f"{gradient} = {format_number(p.total)} {so_far})")
        return out

    def header(self) -> str:
        """The step's first line: ``step 3: v5 [/]`` (and its number in the whole pass when
        the trace is focused)."""
        where = "" if self.pass_index in (None, self.index) else \
            f" (step {self.pass_index} of the whole pass)"
        return f"step {self.index}: {self.name} [{self.node.op}]{where}"

    def __str__(self) -> str:
        return self.header() + "\n" + "\n".join("  " + line for line in self.lines())

    def __repr__(self) -> str:
        # The slide text (also Jupyter's text/plain), not the fields: a step holds whole nodes.
        return str(self)

    # -- as math -------------------------------------------------------------------------

    def equations(self) -> list[Math]:
        """The lines of `lines` as math trees (`autograd_core.mathtext`), one per line."""
        root = self.root_math or Sym(self.root_name)
        node = self.math_name or Sym(self.name)
        parent_texts, parent_maths = self._operands()
        kind, rule, op_name = _declaration(rule_of(self.node), len(parent_texts))
        formulas = _formula_maths(kind, rule, op_name, parent_maths, parent_texts, node,
                                  self.name, Partial(root, node), f"d{self.root_name}/d{self.name}")
        out: list[Math] = []
        for number, p in enumerate(self.parents):
            if not p.shown:
                continue
            slot = p.slot if self.operands else number
            formula = formulas[slot]
            gradient = Partial(root, parent_maths[slot])
            value = mathtext.quantity_math(p.contribution)
            if isinstance(p.contribution, np.ndarray) and kind == "vjp":
                chain: Math = formula
            elif isinstance(p.contribution, np.ndarray) and kind == "local":
                chain = Bin("⊙", Partial(root, node), formula)
                axes = _broadcast_axes(np.shape(p.contribution), np.shape(self.upstream))
                if axes:
                    chain = SumOver(_axes_label(axes), Paren(chain))
            elif isinstance(p.contribution, np.ndarray):
                chain = Bin("·", Partial(root, node), formula)
            else:
                chain = Bin("*", Partial(root, node), formula)
            parts: list[Union[Math, str]] = [gradient, "+=" if p.paths > 1 else "=", chain, "="]
            if p.local is not None:
                parts += [Bin("*", mathtext.quantity_math(self.upstream),
                              mathtext.quantity_math(p.local)), "="]
            equation = relation(*parts, value)
            if p.paths > 1:
                so_far = "in all" if p.path == p.paths else "so far"
                equation = Row((equation, Text(f"\u2003(path {p.path} of {p.paths}; "),
                                relation(gradient, mathtext.quantity_math(p.total)),
                                Text(f" {so_far})")))
            out.append(equation)
        return out

    def latex(self) -> str:
        """The step as LaTeX: its header and one aligned line per parent (``aligned``)."""
        rows = [f"&{self._latex_header()}"]
        for equation in self.equations():
            text = mathtext.to_latex(equation)
            rows.append("&" + text)
        return "\\begin{aligned}" + " \\\\ ".join(rows) + "\\end{aligned}"

    def _latex_header(self) -> str:
        """`header` in LaTeX, the node's name as math: ``\\text{step 2: }v\\ \\text{[/]}``."""
        where = "" if self.pass_index in (None, self.index) else \
            mathtext.latex_text(f" (step {self.pass_index} of the whole pass)")
        return (mathtext.latex_text(f"step {self.index}: ") + self._latex_node() + where)

    def _latex_node(self) -> str:
        """The node's name as math and its op: ``v\\ \\text{[/]}``."""
        name = mathtext.to_latex(self.math_name or Sym(self.name))
        return f"{name}\\ {mathtext.latex_text(f'[{self.node.op}]')}"

    def _repr_latex_(self) -> str:
        """Jupyter's math display of the step."""
        return f"$${self.latex()}$$"

    def mathml(self) -> str:
        """The step's lines as MathML: one ``<div>`` per line, each holding a ``<math>``
        element in display style."""
        return "".join(f"<div>{mathtext.mathml(equation)}</div>" for equation in self.equations())

    def _repr_html_(self) -> str:
        """The step as HTML: its header and its formulas typeset in MathML."""
        return (f'<div class="chainrule-step"><div>{html.escape(self.header())}</div>'
                f"{self.mathml()}</div>")


def _letters(g: Any, out: Any, parents: list[Any]) -> dict[str, Any]:
    """What the letters of a tensor op's registered formula stand for: G = dL/d(out), the
    op's result s (softmax's), its inputs A, B, C and x (the first input)."""
    letters = {"G": g, "s": out}
    for letter, parent in zip("ABC", parents):
        letters[letter] = parent
    if parents:
        letters["x"] = parents[0]
    return letters


def _substitute_letters(text: str, letters: dict[str, str]) -> str:
    """A tensor op's registered formula with its letters replaced by the step's names."""

    def name(match: "re.Match[str]") -> str:
        value = letters.get(match.group(1), match.group(1))
        before = text[:match.start()].rstrip()[-1:]
        after = text[match.end():].lstrip()[:1]
        alone = before in ("(", ",") and after in (")", ",")  # an argument: no parentheses
        if alone or value.isidentifier() or value.startswith("("):
            return value
        return f"({value})"

    return re.sub(r"(?<![\w.])([GABCxs])(?!(?:(?!ᵀ)\w)|\()", name, text)


def _formula_maths(kind: str, rule: Optional[ops.Op], op_name: str, parent_maths: list[Math],
                   parent_texts: list[str], out_math: Math, out_text: str, g_math: Math,
                   g_text: str) -> tuple[Math, ...]:
    """The local derivatives (or, for a tensor op, the vector-Jacobian products) as math,
    read from the op's declared formula text with its inputs and result as placeholders."""
    if kind == "local":
        placeholders = [f"__in{i}__" for i in range(len(parent_maths))]
        symbols = dict(zip(placeholders, parent_maths))
        symbols["__out__"] = out_math
        prose = dict(zip(placeholders, parent_texts))
        prose["__out__"] = out_text
        return tuple(mathtext.parse_formula(text, symbols, prose)
                     for text in rule.formulas(placeholders, "__out__"))
    if kind == "vjp":
        symbols = _letters(g_math, out_math, parent_maths)
        prose = _letters(g_text, out_text, parent_texts)
        return tuple(mathtext.parse_formula(text, symbols, prose)
                     for text in ops.TENSOR_FORMULAS[op_name][:len(parent_maths)])
    op = Sym(op_name) if op_name.isidentifier() else Paren(Text(op_name))
    return tuple(Partial(op, p) for p in parent_maths)


def _broadcast_axes(parent_shape: tuple[int, ...], out_shape: tuple[int, ...]) -> tuple[int, ...]:
    """The axes of the result that broadcasting added or stretched for this parent, which its
    gradient is summed over (axes of the result's shape)."""
    if parent_shape == out_shape:
        return ()
    leading = len(out_shape) - len(parent_shape)
    if leading < 0:
        return ()
    stretched = [leading + i for i, n in enumerate(parent_shape)
                 if n == 1 and out_shape[leading + i] != 1]
    return tuple(range(leading)) + tuple(stretched)


def _axes_label(axes: tuple[int, ...]) -> str:
    return f"axis {axes[0]}" if len(axes) == 1 else "axes " + ", ".join(map(str, axes))


# The most steps a trace's repr writes out (the first ones and the last 10).
REPR_STEPS = 60


class Trace(list):
    """The steps of a backward pass (a list of `BackwardStep`), shown in Jupyter as a table
    with each step's formulas typeset (HTML with MathML, or LaTeX); ``print(trace)`` prints
    every step as the slide writes it, and its repr (Jupyter's plain text) is that text too.
    ``focus_names`` names the nodes a focused trace leads to (empty: the whole pass)."""

    focus_names: tuple[str, ...] = ()

    @overload
    def __getitem__(self, index: SupportsIndex) -> BackwardStep: ...

    @overload
    def __getitem__(self, index: slice) -> "Trace": ...

    def __getitem__(self, index):  # type: ignore[no-untyped-def]
        """A step, or a `Trace` of a slice of the steps."""
        item = super().__getitem__(index)
        if not isinstance(index, slice):
            return item
        part = Trace(item)
        part.focus_names = self.focus_names
        return part

    def __str__(self) -> str:
        return "\n".join(str(step) for step in self)

    def __repr__(self) -> str:
        """The slide text, as `print` writes it, under a line saying what the trace is: what
        Jupyter saves as the trace's text/plain. A trace of more than `REPR_STEPS` steps shows
        its first and last steps, and how many it leaves out (``print(trace)`` prints all)."""
        if not self:
            return "Trace: no steps (the root is a leaf, or nothing flows back)"
        steps = list(self)
        root = getattr(steps[0], "root_name", "?")
        count = f"{len(steps):,} step{'s' if len(steps) != 1 else ''}"
        head = f"Trace: {count} of the backward pass of {root}"
        if self.focus_names:
            head += f", on the chains to {', '.join(self.focus_names)}"
        if len(steps) <= REPR_STEPS:
            return head + "\n" + "\n".join(str(step) for step in steps)
        shown_head, shown_tail = steps[:REPR_STEPS - 10], steps[-10:]
        left_out = len(steps) - len(shown_head) - len(shown_tail)
        return "\n".join([head, *map(str, shown_head),
                          f"... {left_out:,} more steps (print(trace) prints them all) ...",
                          *map(str, shown_tail)])

    def latex(self) -> str:
        """Every step as LaTeX: one ``array`` row per formula line, the step and node on its
        first line."""
        rows = []
        for step in self:
            equations = step.equations() or [Text("(no gradient flows)")]
            node = step._latex_node()
            for number, equation in enumerate(equations):
                head = f"{step.index} & {node}" if number == 0 else " & "
                rows.append(f"{head} & {mathtext.to_latex(equation)}")
        body = " \\\\ ".join(rows)
        return ("\\begin{array}{rll}\\text{step} & \\text{node [op]} & \\text{chain rule} \\\\ "
                f"\\hline {body}\\end{{array}}")

    def _repr_latex_(self) -> str:
        """Jupyter's math display of the whole trace."""
        return f"$${self.latex()}$$"

    def _repr_html_(self) -> str:
        """The trace as an HTML table, each step's formulas typeset in MathML."""
        cell = ' style="padding: 3px 10px; text-align: left; vertical-align: middle"'
        rows = "".join(
            f"<tr><td{cell}>{step.index}</td><td{cell}>{html.escape(step.name)} "
            f"<code>[{html.escape(step.node.op)}]</code></td><td{cell}>{step.mathml()}</td></tr>"
            for step in self)
        return (f'<table class="chainrule-trace"><thead><tr><th{cell}>step</th><th{cell}>node [op]</th>'
                f"<th{cell}>chain rule</th></tr></thead><tbody>{rows}</tbody></table>")


def trace_table(steps: Iterable[BackwardStep]) -> Trace:
    """`steps` (from `trace_backward`, or a selection of them) as a `Trace`, which Jupyter
    shows as a table of formulas."""
    steps = list(steps)
    for step in steps:
        if not isinstance(step, BackwardStep):
            raise TypeError(f"trace_table takes BackwardSteps (from trace_backward), got "
                            f"{type(step).__name__}")
    return Trace(steps)


def _focus_nodes(root: Any, focus: Any, order: list[Any], names: dict[int, str]) -> list[Any]:
    """`focus` (a node, a node's name, or a list of them) checked to be nodes of the graph of
    `root`; a name is a node's label or the name `labels` gives it (`names`)."""
    targets = list(focus) if isinstance(focus, (list, tuple, set, frozenset)) else [focus]
    if not targets:
        raise ValueError("focus is empty: pass the node (or the nodes) whose chain to keep")
    in_graph = {id(node) for node in order}
    found = []
    for target in targets:
        if isinstance(target, str):
            named = [node for node in order if node.label == target or names[id(node)] == target]
            if len(named) != 1:
                raise ValueError(f"focus={target!r}: {'no' if not named else len(named)} nodes of "
                                 f"this graph are called so; pass the node itself")
            target = named[0]
        if not hasattr(target, "parents"):
            raise TypeError(f"focus must be a node of the graph (a Value or a Tensor), or a list "
                            f"of them, got {type(target).__name__}: {target!r}")
        if id(target) not in in_graph:
            label = getattr(target, "label", "") or repr(target)
            raise ValueError(f"focus: {label!r} is not a node of the graph of "
                             f"{names[id(root)]!r}, so no chain leads from it to the root "
                             "(was it made in another computation, or copied?)")
        found.append(target)
    return found


def chain_nodes(root: Any, focus: Any, labels: LabelsLike = None) -> set[int]:
    """The ids of the nodes on the chain(s) from `root` to `focus` (a node, its name, or a
    list of them): those that depend on a focus node, and the focus nodes themselves."""
    order = topological_order(root)
    targets = _focus_nodes(root, focus, order, _names(root, resolve_labels(labels, order), order)[0])
    return _chain_ids(order, targets)


def _chain_ids(order: Sequence[Any], targets: Iterable[Any]) -> set[int]:
    """The ids of `targets` and of every node of `order` (topological) that depends on one."""
    on = {id(target) for target in targets}
    for node in order:
        if id(node) not in on and any(id(parent) in on for parent in node.parents):
            on.add(id(node))
    return on


def trace_backward(root: Any, seed: Any = None, *, focus: Any = None,
                   labels: LabelsLike = None) -> Trace:
    """The steps of ``root.backward()``, in the order it applies them; no ``.grad`` changes.

    `seed` is dL/d(root), 1 by default (a scalar root is required then).

    `focus` (a node of the graph, or a list of them) keeps only the steps on the chain(s)
    from `root` to it, and in each step only the parents on a chain: for the w52 network,
    ``focus=w52`` leaves the steps at L, (y-2), y, F, v5, u5 and (w52*x2), which pass the
    gradient down to w52 (the slide's dL/dy, dL/dF, dL/dv5, dL/du5, dL/dw52). The steps are
    numbered 1, 2, ... in the focused trace; ``pass_index`` keeps their number in the whole
    pass. A node that is not in the graph raises ValueError.

    `labels` (``{node: "name"}``, as `viz.draw_graph` takes it) calls nodes by other names,
    inside expressions too: ``labels={graph.w52: "w52"}`` writes dL/dw52 where the node's own
    label is w25. Unlabelled nodes are named as `node_names` says.
    """
    if seed is None:
        if isinstance(root.data, np.ndarray):
            if root.data.size != 1:
                raise ValueError(f"trace_backward needs a seed for a non-scalar root of shape "
                                 f"{root.data.shape}")
            seed = np.ones_like(root.data)
        else:
            seed = 1.0
    order = topological_order(root)
    label_ids = resolve_labels(labels, order)
    names, maths = _names(root, label_ids, order)
    targets = _focus_nodes(root, focus, order, names) if focus is not None else []
    on_chain = _chain_ids(order, targets) if focus is not None else None
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
    root_name, root_math = names[id(root)], maths[id(root)]
    steps = Trace()
    steps.focus_names = tuple(names[id(target)] for target in targets)
    for pass_index, (node, upstream, sent) in enumerate(applied, start=1):
        name = names[id(node)]
        parent_names = [names[id(parent)] for parent, _ in sent]
        formulas = local_derivative_formulas(rule_of(node), parent_names, name)
        locals_ = getattr(node, "local_grads", None) or (None,) * len(sent)
        parents = []
        for slot, ((parent, contribution), parent_name, formula, local) in enumerate(zip(
                sent, parent_names, formulas, locals_)):
            math_name = maths[id(parent)]
            if contribution is None:
                parents.append(ParentStep(parent, parent_name, formula, local, None, 0, 0, None,
                                          math_name, slot))
                continue
            count, total = received.get(id(parent), (0, None))
            # A new total each time: the same contribution array may be shared by two parents.
            total = contribution if total is None else total + contribution
            received[id(parent)] = (count + 1, total)
            parents.append(ParentStep(parent, parent_name, formula, local, contribution,
                                      count + 1, paths[id(parent)], total, math_name, slot))
        if on_chain is not None:
            parents = [p for p in parents if id(p.parent) in on_chain]
            if id(node) not in on_chain or not parents:
                continue
        operands = tuple((names[id(parent)], maths[id(parent)]) for parent, _ in sent)
        steps.append(BackwardStep(len(steps) + 1, node, name, root_name, upstream,
                                  tuple(parents), pass_index, maths[id(node)], root_math, operands))
    return steps


__all__ = ["trace_backward", "trace_table", "Trace", "BackwardStep", "ParentStep",
           "chain_nodes", "node_names", "node_math_names", "resolve_labels", "format_number",
           "local_derivative_formulas", "rule_of"]
