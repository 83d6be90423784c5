"""Formulas as math: every op's declared formula as LaTeX and MathML, each step's `.latex()` and
Jupyter displays, a trace as a table, tensor steps in matrix calculus, and arrays written as
matrices (up to 6x6) or shape and min/mean/max, never ``<array ...>``.

Expected LaTeX is written here by hand; expected numbers come from the hand computations in the
comments or from numpy's own matrix products, never from the tracer."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from autograd_core import Tensor, Value, mathtext, ops, trace_backward
from autograd_core.mathtext import Row, Sym, Text, parse_formula, to_latex, to_mathml
from autograd_core.trace import BackwardStep, Trace, format_number, trace_table

MATHML = "{http://www.w3.org/1998/Math/MathML}"


def latex_of(op: ops.Op) -> list[str]:
    """An op's declared formulas as LaTeX, its input called u (a, b for two) and its result y."""
    placeholders = ["__in0__", "__in1__"][:op.arity]
    names = {"__in0__": Sym("u" if op.arity == 1 else "a"), "__in1__": Sym("b"), "__out__": Sym("y")}
    return [to_latex(parse_formula(text, names)) for text in op.formulas(placeholders, "__out__")]


def parsed_xml(markup: str) -> ET.Element:
    """MathML as XML (in HTML it needs no namespace; here it is added to read it)."""
    return ET.fromstring(markup.replace("<math ", f'<math xmlns="{MATHML[1:-1]}" ', 1))


# Every built-in op, by hand: the slide's spelling of d out/d input as LaTeX.
BUILT_IN = {
    "+": ["1", "1"], "-": ["1", "-1"], "*": ["b", "a"],
    "/": [r"\frac{1}{b}", r"-\frac{a}{b^{2}}"], "neg": ["-1"],
    "**": [r"b\cdot a^{b-1}", r"y\cdot \ln(a)"], "**n": [r"2\cdot u"],
    "exp": ["y"], "log": [r"\frac{1}{u}"], "abs": [r"\operatorname{sign}(u)"],
    "max": ["[a>b]", "[b>a]"],
    "tanh": ["1-y^{2}"], "sigmoid": [r"y\cdot (1-y)"], "relu": ["[u>0]"],
    "leaky_relu": [r"\begin{cases}1 & u>0\\0.01 & \text{otherwise}\end{cases}"],
    "elu": [r"\begin{cases}1 & u>0\\1\cdot \exp(u) & \text{otherwise}\end{cases}"],
}


@pytest.mark.parametrize("name", sorted(BUILT_IN))
def test_built_in_formulas_as_latex(name):
    assert latex_of(ops.OPS[name]) == BUILT_IN[name]


def test_every_declared_op_reads_as_math():
    """Every op in ops.OPS (user-defined ones included): its text parses without falling back
    to prose, its LaTeX is balanced (and matplotlib's mathtext reads it where it knows the
    commands), and its MathML is well-formed XML."""
    from matplotlib.mathtext import MathTextParser

    parser = MathTextParser("agg")
    for name, op in ops.OPS.items():
        placeholders = ["__in0__", "__in1__"][:op.arity]
        names = {"__in0__": Sym("u5"), "__in1__": Sym("w52"), "__out__": Sym("y")}
        for text in op.formulas(placeholders, "__out__"):
            tree = parse_formula(text, names)
            assert not isinstance(tree, (Text, Row)), (name, text)
            latex = to_latex(tree)
            assert mathtext.is_well_formed_latex(latex), (name, latex)
            assert not re.search(r"[*·⊙]|\^\(|__", latex), (name, latex)
            if "cases" not in latex:
                parser.parse(f"${latex}$")
            element = parsed_xml(mathtext.mathml(tree))
            assert element.tag == f"{MATHML}math"


def test_tensor_formulas_as_latex():
    g = mathtext.Partial(Sym("L"), Sym("h"))
    letters = {"G": g, "A": Sym("X"), "B": Sym("W"), "x": Sym("z"), "s": Sym("p")}
    latex = {name: [to_latex(parse_formula(text, letters)) for text in texts]
             for name, texts in ops.TENSOR_FORMULAS.items()}
    dl_dh = r"\frac{\partial L}{\partial h}"
    assert latex["@"] == [dl_dh + r"\cdot W^{\top}", r"X^{\top}\cdot " + dl_dh]
    assert latex["softmax"] == [rf"p\odot \left({dl_dh}-\operatorname{{sum}}\left({dl_dh}\odot p\right)\right)"]
    assert latex["clip"][0] == dl_dh + r"\odot [\min\leq z\leq \max]"
    assert latex["sum"] == [rf"\operatorname{{broadcast}}\left({dl_dh}\right)\text{{ over the summed axes}}"]
    for name, forms in latex.items():
        assert all(mathtext.is_well_formed_latex(form) for form in forms), name


def test_names_as_math():
    assert to_latex(Sym("w52")) == "w_{52}" and to_mathml(Sym("w52")) == "<msub><mi>w</mi><mn>52</mn></msub>"
    assert to_latex(Sym("x_i")) == "x_{i}"
    assert to_latex(Sym("alpha")) == r"\alpha" and to_mathml(Sym("alpha")) == "<mi>α</mi>"
    assert to_latex(Sym("node12")) == r"\mathrm{node12}"  # a position, not a subscript
    assert to_latex(Sym("layers.0.w")) == r"\text{layers.0.w}"
    # TeX's special characters as math symbols, which LaTeX and MathJax both read the same way
    assert to_latex(Sym("a_b#%")) == r"\text{a}\_\text{b}\#\%"
    assert to_latex(Text("leaky_relu over x")) == r"\text{leaky}\_\text{relu over x}"
    assert to_mathml(Sym("a<b")) == "<mi>a&lt;b</mi>"


def test_numbers_as_math():
    assert mathtext.latex_number("1.235e+05") == r"1.235\times 10^{5}"
    assert mathtext.latex_number("-inf") == r"-\infty" and mathtext.latex_number("nan") == r"\mathrm{NaN}"
    assert mathtext.mathml_number("-0.25") == "<mrow><mo>−</mo><mn>0.25</mn></mrow>"


def test_text_that_is_not_a_formula_stays_prose():
    assert parse_formula("G with the axes permuted back") == Row((Sym("G"), Text(" with the axes permuted back")))
    assert parse_formula("((") == Text("((")
    assert parse_formula("shape of x", prose_names={"x": "u5"}) == Row((Sym("shape"), Text(" of u5")))


# -- steps ---------------------------------------------------------------------------------------


def slide_step() -> tuple[BackwardStep, BackwardStep]:
    """L = v * c with v = 1/u, u = 2, c = 3; by hand dL/dv = c = 3, dL/du = 3 * (-1/u^2) = -0.75."""
    u = Value(2.0, "u")
    v = 1 / u
    v.label = "v"
    loss = v * Value(3.0, "c")
    loss.label = "L"
    first, second = trace_backward(loss)
    return first, second


def test_a_step_as_latex_is_the_slides_line():
    _, second = slide_step()
    assert second.latex() == (
        r"\begin{aligned}&\text{step 2: }v\ \text{[/]} \\ "
        r"&\frac{\partial L}{\partial u} = \frac{\partial L}{\partial v}\cdot \left(-\frac{1}{u^{2}}\right)"
        r" = 3\cdot (-0.25) = -0.75\end{aligned}")
    assert second._repr_latex_() == f"$${second.latex()}$$"


def test_a_step_as_mathml():
    first, second = slide_step()
    markup = second.mathml()
    assert markup.count("<math") == 1 and markup.startswith("<div><math")
    element = parsed_xml(markup[len("<div>"):-len("</div>")])
    text = "".join(element.itertext())
    assert text == "∂L∂u=∂L∂v·(−1u2)=3·(−0.25)=−0.75"
    assert element.find(f".//{MATHML}mfrac") is not None
    assert first.mathml().count("<math") == 2  # dL/dv and dL/dc
    assert "step 2: v [/]" in second._repr_html_()


def test_several_paths_read_plus_equals_in_math():
    a = Value(3.0, "a")
    y = a * a
    y.label = "y"
    (step,) = trace_backward(y, seed=0.5)
    latex = step.latex()
    # hand: each factor sends 0.5 * a = 1.5; in all dy/da = 3
    assert r"\frac{\partial y}{\partial a}\;{+}{=}\;\frac{\partial y}{\partial y}\cdot a = 0.5\cdot 3 = 1.5" in latex
    assert r"\quad \text{(path 2 of 2; }\frac{\partial y}{\partial a} = 3\text{ in all)}" in latex


def test_every_step_of_the_w52_and_an_mlp_trace_reads_as_latex():
    """matplotlib's mathtext (a strict subset of LaTeX) reads every line and header."""
    from matplotlib.mathtext import MathTextParser

    from chainrule.w52 import build_w52
    from nn import MLP

    parser = MathTextParser("agg")
    model = MLP(2, [3, 1], seed=0)
    loss = (model([Value(0.5, "x1"), Value(-1.0, "x2")]) - 1.0) ** 2
    loss.label = "L"
    for root in (build_w52().L, loss):
        for step in trace_backward(root):
            parser.parse(f"${step._latex_header()}$")
            for equation in step.equations():
                parser.parse(f"${to_latex(equation)}$")


def test_a_trace_displays_as_a_table_of_formulas():
    steps = trace_backward(slide_step()[0].node)
    assert isinstance(steps, Trace)
    table = steps._repr_html_()
    assert table.startswith('<table class="chainrule-trace">')
    assert table.count("<tr>") == 1 + len(steps) and table.count("<math") == 3
    latex = steps._repr_latex_()
    assert latex.startswith(r"$$\begin{array}{rll}") and mathtext.is_well_formed_latex(latex)
    assert latex.count(r"\\") == 3  # after the header row, and between the 3 formula rows
    assert str(steps) == "\n".join(str(s) for s in steps)
    assert isinstance(steps[:1], Trace) and isinstance(steps[0], BackwardStep)
    assert trace_table(steps[1:]) == steps[1:]
    with pytest.raises(TypeError, match="trace_table takes BackwardSteps .* got str"):
        trace_table(["step"])


# -- tensor steps in matrix calculus ---------------------------------------------------------------

def test_matmul_step_is_matrix_calculus():
    x_data = np.array([[1.0, 2.0, -1.0], [0.5, 0.0, 3.0]])
    w_data = np.array([[0.2, -0.4], [1.0, 0.3], [-0.5, 0.1]])
    c_data = np.array([[1.0, -2.0], [0.5, 4.0]])
    X = Tensor(x_data, requires_grad=True, label="X")
    W = Tensor(w_data, requires_grad=True, label="W")
    L = ((X @ W) * Tensor(c_data)).sum()
    L.label = "L"
    steps = trace_backward(L)
    matmul = next(s for s in steps if s.node.op == "@")
    G = c_data  # dL/d(XW) = C for L = sum(XW ⊙ C)
    lines = matmul.lines()
    assert lines[0] == f"dL/dX = (dL/d(X@W))·Wᵀ = {format_number(G @ w_data.T)}"
    assert lines[1] == f"dL/dW = Xᵀ·(dL/d(X@W)) = {format_number(x_data.T @ G)}"
    latex = matmul.latex()
    assert r"\frac{\partial L}{\partial X} = \frac{\partial L}{\partial (X\cdot W)}\cdot W^{\top}" in latex
    assert r"\frac{\partial L}{\partial W} = X^{\top}\cdot \frac{\partial L}{\partial (X\cdot W)}" in latex
    expected = x_data.T @ G  # 3x2, written as a matrix
    rows = " \\\\ ".join(" & ".join(f"{v:.4g}" for v in row) for row in expected)
    assert rf"\begin{{bmatrix}}{rows}\end{{bmatrix}}" in latex
    assert "<array" not in str(steps) and "<array" not in steps.latex()


def test_broadcasting_is_a_sum_over_the_broadcast_axes():
    a_data = np.arange(6.0).reshape(2, 3)
    b_data = np.array([1.0, -1.0, 2.0])
    A = Tensor(a_data, requires_grad=True, label="A")
    b = Tensor(b_data, requires_grad=True, label="b")
    s = A + b
    s.label = "s"
    L = (s * s).sum()
    L.label = "L"
    step = next(step for step in trace_backward(L) if step.node is s)
    G = 2 * (a_data + b_data)  # dL/ds = 2s
    assert step.lines() == [
        f"dL/dA = dL/ds ⊙ (1) = {format_number(G)}",
        f"dL/db = sum over axis 0 of [dL/ds ⊙ (1)] = {format_number(G.sum(axis=0))}"]
    assert r"\frac{\partial L}{\partial b} = \sum_{\text{axis 0}}\left(\frac{\partial L}{\partial s}\odot 1\right)" \
        in step.latex()
    assert "<munder><mo>∑</mo><mtext>axis 0</mtext></munder>" in step.mathml()


def test_sum_mean_and_elementwise_rules():
    x_data = np.array([[0.5, -1.0], [2.0, 0.25], [1.0, 3.0]])
    X = Tensor(x_data, requires_grad=True, label="X")
    h = X.tanh()
    h.label = "h"
    L = h.mean()
    L.label = "L"
    mean_step, tanh_step = trace_backward(L)
    ones = np.full_like(x_data, 1 / 6)  # dL/dh = 1/N with N = 6
    assert mean_step.lines() == [f"dL/dh = broadcast(dL/dL) / N over the averaged axes = {format_number(ones)}"]
    assert tanh_step.lines() == [f"dL/dX = dL/dh ⊙ (1-h^2) = {format_number(ones * (1 - np.tanh(x_data) ** 2))}"]
    assert r"\frac{\partial L}{\partial h}\odot (1-h^{2})" in tanh_step.latex()


def test_arrays_are_matrices_up_to_6x6_and_summaries_above():
    six = np.arange(36.0).reshape(6, 6)
    assert format_number(six).startswith("[[0, 1, 2, 3, 4, 5], [6, 7,")
    assert to_latex(mathtext.array_math(six)).count(r"\\") == 5
    seven = np.arange(49.0).reshape(7, 7)  # mean of 0..48 is 24
    assert format_number(seven) == "shape (7, 7): min 0 mean 24 max 48"
    assert to_latex(mathtext.array_math(seven)) == (
        r"[7\times 7\text{ array: min }0\text{, mean }24\text{, max }48]")
    cube = np.ones((2, 2, 2))
    assert format_number(cube) == "shape (2, 2, 2): min 1 mean 1 max 1"
    assert format_number(np.array([1.5, -2.0])) == "[1.5, -2]"
    assert format_number(np.array(3.0)) == "3"
    for x in (six, seven, cube, np.zeros((0, 3))):
        assert "<array" not in format_number(x)
    assert ET.fromstring(f"<m>{to_mathml(mathtext.array_math(six))}</m>") is not None


def test_large_tensor_steps_are_summarised():
    X = Tensor(np.ones((7, 10)), requires_grad=True, label="X")
    C = Tensor(np.arange(70.0).reshape(7, 10), label="C")
    L = (X * C).sum()
    L.label = "L"
    lines = [line for step in trace_backward(L) for line in step.lines()]
    # hand: dL/d(X*C) = 1 everywhere; dL/dX = C, from 0 to 69 with mean 34.5
    assert lines == ["dL/d(X*C) = broadcast(dL/dL) over the summed axes = shape (7, 10): min 1 mean 1 max 1",
                     "dL/dX = dL/d(X*C) ⊙ (C) = shape (7, 10): min 0 mean 34.5 max 69"]


def test_a_superscript_never_touches_a_fraction():
    g = mathtext.Partial(Sym("L"), Sym("h"))
    assert to_latex(parse_formula("Gᵀ·A", {"G": g, "A": Sym("x")})) == \
        r"\left(\frac{\partial L}{\partial h}\right)^{\top}\cdot x"
    assert to_latex(parse_formula("(1/u)^2")) == r"\left(\frac{1}{u}\right)^{2}"
    assert to_latex(parse_formula("-x^2")) == "-x^{2}"  # -(x^2), as Python reads it


def test_a_quotient_inside_a_name_is_written_inline():
    """A name is often a derivative's denominator, where a fraction would be tall."""
    v3, v4 = Value(0.5, "v3"), Value(2.0, "v4")
    out = v3 / v4 + v3
    out.label = "F"
    first = trace_backward(out)[0]
    assert first.latex().split(r" \\ ")[1].startswith(
        r"&\frac{\partial F}{\partial (v_{3}/v_{4})} = \frac{\partial F}{\partial F}\cdot 1")
