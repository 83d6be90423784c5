"""Formulas as math: the chain rule's text read into a small expression tree, written as LaTeX
(for Jupyter's math display) and as MathML (for browsers, with no network and no MathJax).

Every op declares its local derivative once, as text (``"1-{out}^2"``, ``"G·Bᵀ"``; see
`autograd_core.ops`). `parse_formula` reads such text, with the op's inputs filled in, into a
tree of the classes below; `to_latex` and `to_mathml` write a tree out. The grammar is the one
the declarations use: numbers, names, ``+ - * / ^``, ``·`` (matrix product), ``⊙`` (elementwise
product), ``ᵀ`` (transpose), comparisons, function calls (``sigmoid(x)``), Iverson brackets
(``[x>0]``), ``(a if condition else b)`` and indexing (``G[index]``). Words that follow the math
(``"broadcast(G) over the summed axes"``) stay prose; text that does not parse at all is shown
as prose, so a user's own formula never breaks a display.

>>> to_latex(parse_formula("1-y^2"))
'1-y^{2}'
>>> print(to_latex(parse_formula("y*(1-y)")))
y\\cdot (1-y)
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Mapping, Optional, Union

import numpy as np

# -- the tree ----------------------------------------------------------------------------------

# Binding strength, loosest first: a child that binds more loosely than its place needs is
# put in parentheses when written out.
RELATION, COMPARISON, ADDITIVE, MULTIPLICATIVE, UNARY, POWER, ATOM = range(7)


@dataclass(frozen=True)
class Num:
    """A number, as its text (``"-0.25"``, ``"1.235e+05"``, ``"inf"``, ``"nan"``)."""

    text: str


@dataclass(frozen=True)
class Sym:
    """A name: ``w52`` is written w with subscript 52, ``alpha`` as α, ``loss`` upright."""

    name: str


@dataclass(frozen=True)
class Text:
    """Prose inside a formula (``over the summed axes``)."""

    text: str


@dataclass(frozen=True)
class Call:
    """A function applied to arguments: ``sigmoid(F)``, ``sum(G ⊙ s)``."""

    function: str
    args: tuple["Math", ...]


@dataclass(frozen=True)
class Bin:
    """A binary operation: one of ``+ - * / · ⊙ > < >= <= = +=``, or ``÷``: a/b written
    inline rather than as a fraction."""

    op: str
    left: "Math"
    right: "Math"


@dataclass(frozen=True)
class Neg:
    """``-x`` (``not x`` when `logical`)."""

    operand: "Math"
    logical: bool = False


@dataclass(frozen=True)
class Pow:
    """``base^exponent``."""

    base: "Math"
    exponent: "Math"


@dataclass(frozen=True)
class Transpose:
    """``xᵀ``."""

    operand: "Math"


@dataclass(frozen=True)
class Paren:
    """Parentheses the text wrote itself."""

    inner: "Math"


@dataclass(frozen=True)
class Iverson:
    """``[condition]``: 1 where the condition holds, else 0."""

    inner: "Math"


@dataclass(frozen=True)
class Index:
    """``base[index]``."""

    base: "Math"
    index: "Math"


@dataclass(frozen=True)
class Cases:
    """``(value if condition else otherwise)``."""

    value: "Math"
    condition: "Math"
    otherwise: "Math"


@dataclass(frozen=True)
class Partial:
    """The derivative ∂of/∂wrt."""

    of: "Math"
    wrt: "Math"


@dataclass(frozen=True)
class SumOver:
    """``Σ_{label} body``: a sum over the axes that broadcasting added."""

    label: str
    body: "Math"


@dataclass(frozen=True)
class Matrix:
    """A small array written out: rows of number texts (one row for a vector)."""

    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Summary:
    """A large array, shown as its shape and its min, mean and max."""

    shape: tuple[int, ...]
    minimum: str
    mean: str
    maximum: str


@dataclass(frozen=True)
class Row:
    """Parts written one after the other (math followed by prose, a note after an equation)."""

    parts: tuple["Math", ...]


Math = Union[Num, Sym, Text, Call, Bin, Neg, Pow, Transpose, Paren, Iverson, Index, Cases,
             Partial, SumOver, Matrix, Summary, Row]

# ÷ is a division written inline, a/b (inside a node's name, where a fraction would be tall).
_BINARY_PRECEDENCE = {"=": RELATION, "+=": RELATION, ">": COMPARISON, "<": COMPARISON,
                      ">=": COMPARISON, "<=": COMPARISON, "+": ADDITIVE, "-": ADDITIVE,
                      "*": MULTIPLICATIVE, "/": MULTIPLICATIVE, "·": MULTIPLICATIVE,
                      "⊙": MULTIPLICATIVE, "÷": MULTIPLICATIVE}


def precedence(node: Math) -> int:
    """How tightly `node` binds (see the constants above)."""
    if isinstance(node, Num):
        return UNARY if node.text.startswith("-") else ATOM
    if isinstance(node, Bin):
        if node.op == "/":  # a fraction is drawn: an atom, unless a minus sign leads it
            return UNARY if _negative(node.left) else ATOM
        return _BINARY_PRECEDENCE[node.op]
    if isinstance(node, Neg):
        return UNARY
    if isinstance(node, (Pow, Transpose)):
        return POWER
    if isinstance(node, SumOver):
        return MULTIPLICATIVE
    if isinstance(node, Row):
        return RELATION
    return ATOM


def relation(*parts: Union[Math, str]) -> Math:
    """``a = b = c``: math parts separated by relation strings (``"="``, ``"+="``)."""
    node: Optional[Math] = None
    pending = "="
    for part in parts:
        if isinstance(part, str):
            pending = part
            continue
        node = part if node is None else Bin(pending, node, part)
    if node is None:
        raise ValueError("relation needs at least one math part")
    return node


# -- reading formula text ------------------------------------------------------------------------

_TOKEN = re.compile(r"""\s*(?:
      (?P<num>(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)
    | (?P<name>(?:(?!ᵀ)[^\W\d])(?:(?!ᵀ)\w)*)
    | (?P<op><=|>=|[-+*/^·⊙ᵀ()\[\],<>=])
    )""", re.VERBOSE)

_KEYWORDS = {"if", "else", "not"}


class _ParseError(ValueError):
    pass


class _Parser:
    """Recursive descent over the tokens of one formula; `symbols` replace names."""

    def __init__(self, text: str, symbols: Mapping[str, Math]) -> None:
        self.text = text
        self.symbols = symbols
        self.tokens: list[tuple[str, str, int]] = []  # (kind, text, start offset)
        position = 0
        while position < len(text):
            match = _TOKEN.match(text, position)
            if match is None or match.end() == position:
                if text[position:].strip():
                    self.tokens.append(("other", text[position:].strip(), position))
                break
            kind = match.lastgroup
            if kind is None:  # trailing spaces
                break
            self.tokens.append((kind, match.group(kind), match.start(kind)))
            position = match.end()
        self.at = 0

    def peek(self, offset: int = 0) -> tuple[str, str]:
        index = self.at + offset
        if index < len(self.tokens):
            kind, text, _ = self.tokens[index]
            return kind, text
        return "end", ""

    def take(self, expected: Optional[str] = None) -> str:
        kind, text = self.peek()
        if kind == "end" or (expected is not None and text != expected):
            raise _ParseError(f"expected {expected or 'more'} at token {self.at} of {self.text!r}")
        self.at += 1
        return text

    def rest(self) -> str:
        """The text from the current token on."""
        return self.text[self.tokens[self.at][2]:] if self.at < len(self.tokens) else ""

    # expression := comparison ; comparison := additive (cmp additive)*
    def expression(self) -> Math:
        node = self.additive()
        while self.peek()[1] in (">", "<", ">=", "<="):
            op = self.take()
            node = Bin(op, node, self.additive())
        return node

    def additive(self) -> Math:
        node = self.multiplicative()
        while self.peek()[1] in ("+", "-"):
            op = self.take()
            node = Bin(op, node, self.multiplicative())
        return node

    def multiplicative(self) -> Math:
        node = self.unary()
        while self.peek()[1] in ("*", "/", "·", "⊙"):
            op = self.take()
            node = Bin(op, node, self.unary())
        return node

    def unary(self) -> Math:
        if self.peek()[1] == "-":
            self.take()
            operand = self.unary()
            if isinstance(operand, Num) and not operand.text.startswith("-"):
                return Num("-" + operand.text)
            return Neg(operand)
        if self.peek() == ("name", "not"):
            self.take()
            return Neg(self.unary(), logical=True)
        return self.postfix()

    def postfix(self) -> Math:
        node = self.atom()
        while True:
            token = self.peek()[1]
            if token == "^":
                self.take()
                exponent = self.unary()
                node = Pow(node, exponent.inner if isinstance(exponent, Paren) else exponent)
            elif token == "ᵀ":
                self.take()
                node = Transpose(node)
            elif token == "[":
                self.take()
                index = self.expression()
                self.take("]")
                node = Index(node, index)
            else:
                return node

    def atom(self) -> Math:
        kind, token = self.peek()
        if kind == "num":
            self.take()
            return Num(token)
        if kind == "name" and token not in _KEYWORDS:
            self.take()
            if token in self.symbols:
                return self.symbols[token]
            if self.peek()[1] == "(":
                self.take()
                args = [self.expression()]
                while self.peek()[1] == ",":
                    self.take()
                    args.append(self.expression())
                self.take(")")
                return Call(token, tuple(args))
            return Sym(token)
        if token == "(":
            self.take()
            inner = self.expression()
            if self.peek() == ("name", "if"):
                self.take()
                condition = self.expression()
                self.take("else")
                otherwise = self.expression()
                self.take(")")
                return Cases(inner, condition, otherwise)
            self.take(")")
            return Paren(inner)
        if token == "[":
            self.take()
            inner = self.expression()
            self.take("]")
            return Iverson(inner)
        raise _ParseError(f"unexpected {token or 'end'!r} in {self.text!r}")


def parse_formula(text: str, symbols: Optional[Mapping[str, Math]] = None,
                  prose_names: Optional[Mapping[str, str]] = None) -> Math:
    """`text` (a formula as the op declarations write it) as a math tree.

    `symbols` maps names in the text to math (an op's inputs: ``{"x": Sym("u5")}``);
    `prose_names` gives the same names as plain text, for words left as prose. Words after
    a complete expression are kept as prose; text that does not parse is prose as a whole.
    """
    if not isinstance(text, str):
        raise TypeError(f"a formula must be a str, got {type(text).__name__}")
    symbols = symbols or {}
    parser = _Parser(text, symbols)
    try:
        node = parser.expression()
    except _ParseError:
        return Text(_substitute_words(text, prose_names or {}))
    rest = parser.rest().strip()
    if not rest:
        return node
    return Row((node, Text(" " + _substitute_words(rest, prose_names or {}))))


def _substitute_words(text: str, names: Mapping[str, str]) -> str:
    if not names:
        return text
    return re.sub(r"(?<![\w.])(\w+)(?![\w(])", lambda m: names.get(m.group(1), m.group(1)), text)


# -- names ----------------------------------------------------------------------------------------

GREEK = {name: chr(code) for name, code in (
    ("alpha", 0x3B1), ("beta", 0x3B2), ("gamma", 0x3B3), ("delta", 0x3B4), ("epsilon", 0x3B5),
    ("eta", 0x3B7), ("theta", 0x3B8), ("lambda", 0x3BB), ("mu", 0x3BC), ("nu", 0x3BD),
    ("pi", 0x3C0), ("rho", 0x3C1), ("sigma", 0x3C3), ("tau", 0x3C4), ("phi", 0x3C6),
    ("psi", 0x3C8), ("omega", 0x3C9))}
# Functions with a conventional symbol or a LaTeX operator of their own.
FUNCTION_SYMBOLS = {"sigmoid": ("\\sigma", "σ")}
LATEX_OPERATORS = {"tanh", "exp", "ln", "log", "max", "min", "sin", "cos"}

_SUBSCRIPTED = re.compile(r"([A-Za-z]+)_?(\d+)|([A-Za-z])_([A-Za-z0-9]+)")
_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9]*")


def _split_name(name: str) -> tuple[str, Optional[str]]:
    """(base, subscript) of a name such as ``w52``, ``x_i`` or ``node12``; no subscript else."""
    match = _SUBSCRIPTED.fullmatch(name)
    if match is None:
        return name, None
    if match.group(1) is not None:
        return match.group(1), match.group(2)
    return match.group(3), match.group(4)


# Characters that \\text{} cannot hold in both LaTeX and MathJax (MathJax shows \\_ in text
# literally), written instead as math-mode symbols, which both read the same way.
_LATEX_SPECIAL = {"\\": "\\backslash ", "{": "\\{", "}": "\\}", "_": "\\_", "^": "\\hat{}",
                  "#": "\\#", "$": "\\$", "%": "\\%", "&": "\\&", "~": "\\sim ",
                  "\u2003": "\\quad ", "…": "\\ldots "}


def latex_text(text: str) -> str:
    """`text` as upright prose in LaTeX math: runs of plain characters in ``\\text{...}``, the
    characters TeX treats specially as math-mode symbols (``\\_``, ``\\#``, ...), so that LaTeX
    and MathJax (Jupyter) show the same thing."""
    parts: list[str] = []
    run = ""
    for ch in text:
        if ch in _LATEX_SPECIAL:
            if run:
                parts.append(f"\\text{{{run}}}")
                run = ""
            parts.append(_LATEX_SPECIAL[ch])
        else:
            run += ch
    if run or not parts:
        parts.append(f"\\text{{{run}}}")
    return "".join(parts)


def _subscripted(base: str) -> bool:
    """Whether a name's trailing digits are a subscript: after one letter or a Greek name
    (w52, x1, alpha2), not after a word (node12, layer3)."""
    return base in GREEK or (len(base) == 1 and base.isalpha())


def _latex_base(base: str) -> str:
    if base in GREEK or base in LATEX_OPERATORS:
        return "\\" + base
    if len(base) == 1 and base.isalpha() and base.isascii():
        return base
    if _PLAIN.fullmatch(base):
        return f"\\mathrm{{{base}}}"
    return latex_text(base)


def _mathml_base(base: str) -> str:
    if base in GREEK:
        return f"<mi>{GREEK[base]}</mi>"
    return f"<mi>{html.escape(base, quote=False)}</mi>"


def _negative(node: Math) -> bool:
    return (isinstance(node, Num) and node.text.startswith("-")) or (
        isinstance(node, Neg) and not node.logical)


def _negated(node: Math) -> Math:
    """-`node` for a node that `_negative` accepts: the number or expression without its sign."""
    return Num(node.text[1:]) if isinstance(node, Num) else node.operand  # type: ignore[union-attr]


def _bare(node: Math) -> Math:
    """An argument of a call without parentheses of its own: tanh((a+b)) is tanh(a+b)."""
    return node.inner if isinstance(node, Paren) else node


# -- LaTeX ---------------------------------------------------------------------------------------

_LATEX_OPS = {"*": "\\cdot ", "·": "\\cdot ", "⊙": "\\odot ", "÷": "/", ">=": "\\geq ", "<=": "\\leq ",
              "+=": "\\;{+}{=}\\;", "+": "+", "-": "-", ">": ">", "<": "<", "=": "="}


def latex_number(text: str) -> str:
    """A number's text as LaTeX: ``1.2e-05`` is ``1.2\\times 10^{-5}``, inf is ∞."""
    sign = "-" if text.startswith("-") else ""
    body = text.lstrip("-+")
    if body == "inf":
        return sign + "\\infty"
    if body == "nan":
        return "\\mathrm{NaN}"
    mantissa, _, exponent = body.partition("e")
    if exponent:
        return f"{sign}{mantissa}\\times 10^{{{int(exponent)}}}"
    return sign + body


def needs_parentheses(child: Math, level: int, right: bool) -> bool:
    """Whether `child`, an operand of an operation that binds at `level` (on its right side
    when `right`), must be put in parentheses: ``a-(b-c)``, ``3·(-0.25)``, ``(a+b)·c``."""
    inner = precedence(child)
    if level == MULTIPLICATIVE:
        return inner < (POWER if right else MULTIPLICATIVE)
    if level == ADDITIVE:
        return inner < (MULTIPLICATIVE if right else ADDITIVE) or (right and inner == UNARY)
    if level == COMPARISON:  # chains read left to right: a <= x <= b
        return inner < (ADDITIVE if right else COMPARISON)
    return inner < level


def _latex_group(node: Math, needed: int) -> str:
    text = to_latex(node)
    return _latex_fence(text) if precedence(node) < needed else text


def _drawn_fraction(node: Math) -> bool:
    """Whether `node` is drawn as a fraction, which a superscript must not touch: (∂L/∂h)ᵀ."""
    return isinstance(node, Partial) or (isinstance(node, Bin) and node.op == "/")


def _latex_base_of(node: Math) -> str:
    """The base of a power or a transpose, in parentheses unless it is a plain atom."""
    text = to_latex(node)
    return _latex_fence(text) if precedence(node) < ATOM or _drawn_fraction(node) else text


def _latex_operand(node: Math, level: int, right: bool) -> str:
    text = to_latex(node)
    return _latex_fence(text) if needs_parentheses(node, level, right) else text


_TALL_LATEX = ("\\frac", "\\begin", "\\sum")
_TALL_MATHML = ("<mfrac", "<mtable", "<munder")


def _latex_fence(inner: str, left: str = "(", right: str = ")") -> str:
    """Brackets around `inner`: sized to it (``\\left(``) only when it is taller than a line."""
    if any(tall in inner for tall in _TALL_LATEX):
        return f"\\left{left}{inner}\\right{right}"
    return f"{left}{inner}{right}"


def to_latex(node: Math) -> str:
    """`node` written as LaTeX math (no surrounding ``$``)."""
    if isinstance(node, Num):
        return latex_number(node.text)
    if isinstance(node, Sym):
        base, subscript = _split_name(node.name)
        if subscript is not None and not _subscripted(base):
            base, subscript = node.name, None
        out = _latex_base(base)
        return out if subscript is None else f"{out}_{{{subscript}}}"
    if isinstance(node, Text):
        return latex_text(node.text)
    if isinstance(node, Call):
        if node.function in FUNCTION_SYMBOLS:
            name = FUNCTION_SYMBOLS[node.function][0]
        elif node.function in LATEX_OPERATORS:
            name = "\\" + node.function
        else:
            name = f"\\operatorname{{{''.join(_LATEX_SPECIAL.get(ch, ch) for ch in node.function)}}}"
        return name + _latex_fence(", ".join(to_latex(_bare(a)) for a in node.args))
    if isinstance(node, Bin):
        if node.op == "/":
            if _negative(node.left):  # -1/u^2 reads as minus a fraction
                return f"-\\frac{{{to_latex(_negated(node.left))}}}{{{to_latex(node.right)}}}"
            return f"\\frac{{{to_latex(node.left)}}}{{{to_latex(node.right)}}}"
        level = _BINARY_PRECEDENCE[node.op]
        left = _latex_operand(node.left, level, False)
        right = _latex_operand(node.right, level, True)
        if level == RELATION:
            if node.op == "+=":
                return f"{left}{_LATEX_OPS[node.op]}{right}"
            return f"{left} {_LATEX_OPS[node.op].strip()} {right}"
        return f"{left}{_LATEX_OPS[node.op]}{right}"
    if isinstance(node, Neg):
        if node.logical:
            return f"\\neg {_latex_group(node.operand, POWER)}"
        return f"-{_latex_group(node.operand, POWER)}"
    if isinstance(node, Pow):
        return f"{_latex_base_of(node.base)}^{{{to_latex(node.exponent)}}}"
    if isinstance(node, Transpose):
        return f"{_latex_base_of(node.operand)}^{{\\top}}"
    if isinstance(node, Paren):
        return _latex_fence(to_latex(node.inner))
    if isinstance(node, Iverson):
        return _latex_fence(to_latex(node.inner), "[", "]")
    if isinstance(node, Index):
        return _latex_group(node.base, ATOM) + _latex_fence(to_latex(node.index), "[", "]")
    if isinstance(node, Cases):
        return (f"\\begin{{cases}}{to_latex(node.value)} & {to_latex(node.condition)}\\\\"
                f"{to_latex(node.otherwise)} & \\text{{otherwise}}\\end{{cases}}")
    if isinstance(node, Partial):
        return f"\\frac{{\\partial {to_latex(node.of)}}}{{\\partial {to_latex(node.wrt)}}}"
    if isinstance(node, SumOver):
        return f"\\sum_{{{latex_text(node.label)}}}{_latex_group(node.body, POWER)}"
    if isinstance(node, Matrix):
        rows = " \\\\ ".join(" & ".join(latex_number(x) for x in row) for row in node.rows)
        return f"\\begin{{bmatrix}}{rows}\\end{{bmatrix}}"
    if isinstance(node, Summary):
        shape = "\\times ".join(str(n) for n in node.shape) or "1"
        return (f"[{shape}\\text{{ array: min }}{latex_number(node.minimum)}"
                f"\\text{{, mean }}{latex_number(node.mean)}"
                f"\\text{{, max }}{latex_number(node.maximum)}]")
    if isinstance(node, Row):
        return "".join(to_latex(part) for part in node.parts)
    raise TypeError(f"not a math node: {node!r}")


# -- MathML --------------------------------------------------------------------------------------

_MATHML_OPS = {"*": "·", "·": "·", "⊙": "⊙", "÷": "/", ">=": "≥", "<=": "≤", "-": "−", "+": "+",
               ">": "&gt;", "<": "&lt;", "=": "=", "+=": "+="}


def mathml_number(text: str) -> str:
    """A number's text as MathML (a minus sign, ×10 powers, ∞ and NaN)."""
    sign = "<mo>−</mo>" if text.startswith("-") else ""
    body = text.lstrip("-+")
    if body == "inf":
        core = "<mi mathvariant=\"normal\">∞</mi>"
    elif body == "nan":
        core = "<mi>NaN</mi>"
    else:
        mantissa, _, exponent = body.partition("e")
        core = f"<mn>{mantissa}</mn>"
        if exponent:
            core += f"<mo>×</mo><msup><mn>10</mn><mn>{int(exponent)}</mn></msup>"
    return f"<mrow>{sign}{core}</mrow>" if sign or "msup" in core else core


def _mrow(*parts: str) -> str:
    return "<mrow>" + "".join(parts) + "</mrow>"


def _fenced(inner: str, left: str = "(", right: str = ")") -> str:
    """Brackets around `inner`, stretching only when it is taller than a line."""
    stretch = "" if any(tall in inner for tall in _TALL_MATHML) else ' stretchy="false"'
    return f"<mrow><mo{stretch}>{left}</mo>{inner}<mo{stretch}>{right}</mo></mrow>"


def _mathml_group(node: Math, needed: int) -> str:
    text = to_mathml(node)
    return _fenced(text) if precedence(node) < needed else text


def _mathml_base_of(node: Math) -> str:
    text = to_mathml(node)
    return _fenced(text) if precedence(node) < ATOM or _drawn_fraction(node) else text


def _mathml_operand(node: Math, level: int, right: bool) -> str:
    text = to_mathml(node)
    return _fenced(text) if needs_parentheses(node, level, right) else text


def to_mathml(node: Math) -> str:
    """`node` written as Presentation MathML (the content of a ``<math>`` element)."""
    if isinstance(node, Num):
        return mathml_number(node.text)
    if isinstance(node, Sym):
        base, subscript = _split_name(node.name)
        if subscript is not None and not _subscripted(base):
            base, subscript = node.name, None
        out = _mathml_base(base)
        return out if subscript is None else f"<msub>{out}<mn>{subscript}</mn></msub>"
    if isinstance(node, Text):
        # MathML trims the spaces at the ends of a token: keep them as no-break spaces.
        text = html.escape(node.text, quote=False)
        stripped = text.strip(" ")
        start = text.index(stripped) if stripped else 0
        return (f"<mtext>{'&#160;' * start}{stripped}"
                f"{'&#160;' * (len(text) - start - len(stripped))}</mtext>")
    if isinstance(node, Call):
        name = FUNCTION_SYMBOLS.get(node.function, (None, node.function))[1]
        args = "<mo>,</mo>".join(to_mathml(_bare(a)) for a in node.args)
        return _mrow(f"<mi>{html.escape(name, quote=False)}</mi>", _fenced(args))
    if isinstance(node, Bin):
        if node.op == "/":
            if _negative(node.left):
                fraction = f"<mfrac>{_mrow(to_mathml(_negated(node.left)))}{_mrow(to_mathml(node.right))}</mfrac>"
                return _mrow("<mo>−</mo>", fraction)
            return f"<mfrac>{_mrow(to_mathml(node.left))}{_mrow(to_mathml(node.right))}</mfrac>"
        level = _BINARY_PRECEDENCE[node.op]
        if level == RELATION:  # a = b = c as one row
            parts = [f"<mo>{_MATHML_OPS[node.op]}</mo>", to_mathml(node.right)]
            left = node.left
            while isinstance(left, Bin) and _BINARY_PRECEDENCE[left.op] == RELATION:
                parts[:0] = [f"<mo>{_MATHML_OPS[left.op]}</mo>", to_mathml(left.right)]
                left = left.left
            return _mrow(to_mathml(left), *parts)
        left = _mathml_operand(node.left, level, False)
        right = _mathml_operand(node.right, level, True)
        return _mrow(left, f"<mo>{_MATHML_OPS[node.op]}</mo>", right)
    if isinstance(node, Neg):
        sign = "¬" if node.logical else "−"
        return _mrow(f"<mo>{sign}</mo>", _mathml_group(node.operand, POWER))
    if isinstance(node, Pow):
        return f"<msup>{_mathml_base_of(node.base)}{_mrow(to_mathml(node.exponent))}</msup>"
    if isinstance(node, Transpose):
        return f"<msup>{_mathml_base_of(node.operand)}<mo>⊤</mo></msup>"
    if isinstance(node, Paren):
        return _fenced(to_mathml(node.inner))
    if isinstance(node, Iverson):
        return _fenced(to_mathml(node.inner), "[", "]")
    if isinstance(node, Index):
        return _mrow(_mathml_group(node.base, ATOM), _fenced(to_mathml(node.index), "[", "]"))
    if isinstance(node, Cases):
        return _fenced(_mrow(to_mathml(node.value), "<mtext> if </mtext>",
                             to_mathml(node.condition), "<mtext>, else </mtext>",
                             to_mathml(node.otherwise)))
    if isinstance(node, Partial):
        return (f"<mfrac><mrow><mi>∂</mi>{to_mathml(node.of)}</mrow>"
                f"<mrow><mi>∂</mi>{to_mathml(node.wrt)}</mrow></mfrac>")
    if isinstance(node, SumOver):
        return _mrow(f"<munder><mo>∑</mo><mtext>{html.escape(node.label, quote=False)}</mtext></munder>",
                     _mathml_group(node.body, POWER))
    if isinstance(node, Matrix):
        rows = "".join("<mtr>" + "".join(f"<mtd>{mathml_number(x)}</mtd>" for x in row) + "</mtr>"
                       for row in node.rows)
        return _fenced(f"<mtable>{rows}</mtable>", "[", "]")
    if isinstance(node, Summary):
        shape = "<mo>×</mo>".join(f"<mn>{n}</mn>" for n in node.shape) or "<mn>1</mn>"
        return _fenced(_mrow(shape, "<mtext> array: min </mtext>", mathml_number(node.minimum),
                             "<mtext>, mean </mtext>", mathml_number(node.mean),
                             "<mtext>, max </mtext>", mathml_number(node.maximum)), "[", "]")
    if isinstance(node, Row):
        return _mrow(*(to_mathml(part) for part in node.parts))
    raise TypeError(f"not a math node: {node!r}")


def mathml(node: Math, *, xmlns: bool = False) -> str:
    """`node` as a whole ``<math>`` element in display style (fractions full size), left
    to the page to place. HTML needs no namespace; `xmlns` adds it (for XML documents)."""
    namespace = ' xmlns="http://www.w3.org/1998/Math/MathML"' if xmlns else ""
    return f'<math{namespace} displaystyle="true">{to_mathml(node)}</math>'


# -- numbers and arrays ----------------------------------------------------------------------------

# Arrays up to this many rows and columns are written out; larger ones are summarised.
MATRIX_LIMIT = 6


def _g4(x: float) -> str:
    return f"{x:.4g}"


def array_math(x: np.ndarray) -> Math:
    """An array as math: a matrix (vector: one row) up to 6x6, else its shape and min/mean/max."""
    if x.ndim == 0:
        return Num(_g4(float(x)))
    if x.ndim <= 2 and x.size > 0 and all(n <= MATRIX_LIMIT for n in x.shape):
        rows = x.reshape(1, -1) if x.ndim == 1 else x
        return Matrix(tuple(tuple(_g4(float(v)) for v in row) for row in rows))
    if x.size == 0:
        return Summary(tuple(x.shape), "nan", "nan", "nan")
    return Summary(tuple(x.shape), _g4(float(np.min(x))), _g4(float(np.mean(x))),
                   _g4(float(np.max(x))))


def quantity_math(x: object) -> Math:
    """A number or an array as math (see `array_math`)."""
    if isinstance(x, np.ndarray):
        return array_math(x)
    if isinstance(x, (int, float, np.floating, np.integer)) and not isinstance(x, bool):
        return Num(_g4(float(x)))
    return Text(str(x))


def is_well_formed_latex(text: str) -> bool:
    """Whether braces balance and every ``\\left`` has its ``\\right`` (a cheap sanity check)."""
    depth = 0
    escaped = False
    for ch in text:
        if escaped:
            escaped = False
            continue
        if ch == "\\":
            escaped = True
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0 and text.count("\\left") == text.count("\\right")


__all__ = ["Math", "Num", "Sym", "Text", "Call", "Bin", "Neg", "Pow", "Transpose", "Paren",
           "Iverson", "Index", "Cases", "Partial", "SumOver", "Matrix", "Summary", "Row",
           "parse_formula", "relation", "to_latex", "to_mathml", "mathml", "array_math",
           "quantity_math", "latex_number", "mathml_number", "latex_text", "is_well_formed_latex",
           "precedence", "MATRIX_LIMIT"]
