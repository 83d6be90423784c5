"""benchmarks/bench_scalar_floor.py: its measuring stick computes chainrule's gradients, and its
run prints a row per shape and size (never whether a speed goal holds: speed is never a test)."""

from __future__ import annotations

import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("micrograd")

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
from bench_scalar_floor import BareNode, allocate_chain, values_only_backward  # noqa: E402
from bench_sweep import ScalarShape  # noqa: E402

from autograd_core import Value, topological_order  # noqa: E402


@pytest.mark.parametrize("shape_name, units", [("mlp", 2), ("chain", 50)])
def test_the_floor_gives_every_node_the_gradient_backward_gives(shape_name: str, units: int) -> None:
    shape = ScalarShape(shape_name, 2_000)
    shape.reset()
    _, ours = shape.build(units, ours=True)
    ours.backward()
    expected = [node.grad for node in topological_order(ours)]
    shape.reset()
    _, floor = shape.build(units, ours=True)
    values_only_backward(floor)
    assert [node.grad for node in topological_order(floor)] == expected  # the same sums, to the bit
    assert any(grad != 0.0 for grad in expected)


def test_the_floor_handles_reused_nodes_and_unary_ops() -> None:
    x = Value(0.7)
    y = (x * x).tanh() + x  # x reaches the root along three edges; tanh has one parent
    values_only_backward(y)
    # hand derivation: dy/dx = (1 - tanh(x^2)^2) * 2x + 1
    assert x.grad == pytest.approx((1 - math.tanh(0.49) ** 2) * 1.4 + 1, rel=1e-15)


def test_a_small_run_prints_a_row_per_shape_and_size() -> None:
    result = subprocess.run([sys.executable, str(BENCHMARKS / "bench_scalar_floor.py"), "--sizes", "300", "1000",
                             "--reps", "3", "--collector-sizes", "1000", "4000"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    rows = re.findall(r"^(mlp|chain)\s+(\d+)\s+\d+us\s+\d+us\s+\d+us\s+\d+\.\d\dx\s+\d+\.\d\dx$",
                      result.stdout, re.MULTILINE)
    assert rows == [("mlp", "300"), ("mlp", "1000"), ("chain", "300"), ("chain", "1000")]
    assert "collector off" in result.stdout
    collector_rows = re.findall(r"^\s+(\d+)\s+\d+ns\s+\d+ns\s+(\d+\.\d\d)x$", result.stdout, re.MULTILINE)
    assert [size for size, _ in collector_rows] == ["1000", "4000"]
    assert collector_rows[0][1] == "1.00"  # the growth is measured from the first size


def test_the_collector_floor_allocates_a_linked_chain_of_value_shaped_objects() -> None:
    chain = allocate_chain(5)
    assert set(BareNode.__slots__) == set(Value.__slots__)
    length = 0
    while chain is not None:
        assert chain._second_parent is None and chain.data == 0.5
        chain, length = chain._first_parent, length + 1
    assert length == 5
