"""The Numba kernels (imported lazily by `autograd_core.kernels` on first use).

Why everything Numba compiles lives in this one file: Numba's on-disk cache is invalidated
by a hash of the *defining* file only, so a helper kept in another module could change
without the cached kernels that inline it being recompiled. One file, one hash, no stale code.

Why our own exp: Numba calls the C library's scalar exp/tanh, which cannot be vectorized,
while numpy's are vectorized (SIMD) routines, several times faster (benchmarks/RESULTS.md). The
polynomial exp below is plain arithmetic that LLVM vectorizes, accurate to about 1 ulp.

Layout conventions: every array argument is C-contiguous and already has the output dtype;
elementwise kernels take flat 1-D arrays; axis-wise kernels take a 3-D view
(outer, axis_length, inner) so that any axis of any array is handled without a transpose.
Each kernel has a serial driver and a `parallel=True` driver (dispatch.THRESHOLDS says when
each is used, and why the parallel ones are not on a 2-core VM). Parallel drivers that split work by thread take the count as an argument: calling
numba.get_num_threads() inside a kernel makes Numba refuse to cache it (a dynamic global).
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.extending import intrinsic, overload

# FMA contraction only: it never changes results by more than the rounding it removes, and
# unlike `reassoc` it keeps Cody-Waite range reduction and the rounding trick exact.
CONTRACT = {"contract"}
# Reductions may be re-associated so that LLVM vectorizes them (like numpy's pairwise sums).
REDUCE = {"contract", "reassoc"}
# Every kernel uses error_model="numpy": Python's error model puts a zero-division check
# (and a possible exception) on every float division, which stops the loop vectorizing.

# The activation kernels are named by the `kernel=` of the op's declaration in
# `autograd_core.ops`; the drivers take a code for that name (`ACTIVATION_CODES` below).

# The parallel drivers' only parallel construct is their prange loop. Numba would otherwise
# also turn array expressions such as `total[:] = 0` into parallel loops, each one more
# fork-join, and waking a sleeping worker thread is costly on a small shared machine.
# (A function, not a constant: Numba pops the keys out of the dict it is given.)


def prange_only() -> dict[str, bool]:
    """Numba parallel options enabling prange loops and nothing else."""
    return {"prange": True, "comprehension": False, "reduction": False,
            "inplace_binop": False, "setitem": False, "numpy": False, "stencil": False,
            "fusion": False}

# Column-block width for axis-wise kernels over non-last axes: wide enough to vectorize,
# small enough that the per-column accumulators stay in L1.
COLUMN_BLOCK = 512

# Rows shorter than this take `_max`'s plain loop (the crossover measured on softmax
# cross-entropy rows: benchmarks/RESULTS.md, "Issue 13, third round").
SHORT_ROW = 128
# Cross-entropy rows of fewer classes than this index the 2-D arrays directly (the crossover
# with the row views, measured: benchmarks/RESULTS.md, "Issue 13, fourth round").
FEW_CLASSES = 12
# Rows per task of a parallel driver that hands out blocks of short rows.
ROW_BLOCK = 256


# ---------------------------------------------------------------- bit casts for 2**k

@intrinsic
def _float64_from_bits(typingctx, bits):
    """Reinterpret an int64 bit pattern as a float64 (how 2**k is built without ldexp)."""
    if bits != types.int64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())
    return types.float64(types.int64), codegen


@intrinsic
def _float32_from_bits(typingctx, bits):
    """Reinterpret the low 32 bits of an int64 as a float32."""
    if bits != types.int64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(builder.trunc(args[0], ir.IntType(32)), ir.FloatType())
    return types.float32(types.int64), codegen


@intrinsic
def _select(typingctx, condition, if_true, if_false):
    """`if_true if condition else if_false` as one LLVM select instruction.

    Used inside the inlined helpers instead of a Python conditional expression, whose
    branch variables Numba's inliner mis-scopes (a NumbaIRAssumptionWarning)."""
    if condition != types.boolean or if_true != if_false:
        return None

    def codegen(context, builder, signature, args):
        return builder.select(args[0], args[1], args[2])
    return if_true(condition, if_true, if_false), codegen


# ---------------------------------------------------------------- vectorizable exp / expm1

def fast_exp(v: float) -> float:
    """exp(v) for float32/float64, branch-free so that loops calling it vectorize."""
    raise NotImplementedError("fast_exp is only callable from Numba-compiled code")


def expm1_from_exp(v: float, exp_v: float) -> float:
    """exp(v) - 1 given exp_v = exp(v): exp_v - 1 cancels badly near 0, so there a Taylor
    polynomial is used instead. (Taking exp_v as an argument, rather than calling fast_exp
    inside, avoids nested inlining, which trips a Numba scoping bug.)"""
    raise NotImplementedError("expm1_from_exp is only callable from Numba-compiled code")


def _exp64(v):
    """float64 exp by range reduction to |r| <= ln2/2, a polynomial, and scaling by 2**k."""
    # Clamp so that 2**k stays representable (Numba's max/min return a NaN first argument,
    # so NaN stays NaN). No if/else in inlined helpers: see _select.
    clamped = min(max(v, -745.2), 709.8)
    # Round v/ln2 to an integer k by the 1.5 * 2**52 trick, then r = v - k ln2 in two parts.
    k = (clamped * 1.4426950408889634 + 6755399441055744.0) - 6755399441055744.0
    r = (clamped - k * 6.93147180369123816490e-01) - k * 1.90821492927058770002e-10
    # Taylor series of exp(r) to degree 13: |r| <= ln2/2 makes the remainder < 1e-17.
    p = 1.6059043836821613e-10
    p = p * r + 2.08767569878681e-09
    p = p * r + 2.505210838544172e-08
    p = p * r + 2.755731922398589e-07
    p = p * r + 2.7557319223985893e-06
    p = p * r + 2.48015873015873e-05
    p = p * r + 1.984126984126984e-04
    p = p * r + 1.3888888888888889e-03
    p = p * r + 8.333333333333333e-03
    p = p * r + 4.1666666666666664e-02
    p = p * r + 1.6666666666666666e-01
    p = p * r + 0.5
    p = p * r + 1.0
    p = p * r + 1.0
    # 2**k as two factors so that results in the subnormal range underflow gradually.
    ki = np.int64(k)
    half = ki >> 1
    return (p * _float64_from_bits((half + 1023) << 52)) * _float64_from_bits((ki - half + 1023) << 52)


_F32 = np.float32


def _exp32(v):
    """float32 exp, same scheme with float32 constants (all arithmetic stays float32)."""
    clamped = min(max(v, _F32(-104.0)), _F32(88.8))
    k = (clamped * _F32(1.44269504) + _F32(12582912.0)) - _F32(12582912.0)
    r = (clamped - k * _F32(0.693359375)) - k * _F32(-2.12194440e-4)
    # Cephes expf minimax polynomial on |r| <= ln2/2.
    p = _F32(1.9875691500e-4)
    p = p * r + _F32(1.3981999507e-3)
    p = p * r + _F32(8.3334519073e-3)
    p = p * r + _F32(4.1665795894e-2)
    p = p * r + _F32(1.6666665459e-1)
    p = p * r + _F32(5.0000001201e-1)
    p = p * (r * r) + r + _F32(1.0)
    ki = np.int64(k)
    half = ki >> 1
    return (p * _float32_from_bits((half + 127) << 23)) * _float32_from_bits((ki - half + 127) << 23)


def _expm1_64(v, exp_v):
    """float64 expm1 given exp(v)."""
    # Below ln2/2 in size exp(v) - 1 would cancel; the Taylor series to degree 14 is exact
    # to ~1e-17 there. Both branches are computed and one selected, which vectorizes.
    p = 1.1470745597729725e-11
    p = p * v + 1.6059043836821613e-10
    p = p * v + 2.08767569878681e-09
    p = p * v + 2.505210838544172e-08
    p = p * v + 2.755731922398589e-07
    p = p * v + 2.7557319223985893e-06
    p = p * v + 2.48015873015873e-05
    p = p * v + 1.984126984126984e-04
    p = p * v + 1.3888888888888889e-03
    p = p * v + 8.333333333333333e-03
    p = p * v + 4.1666666666666664e-02
    p = p * v + 1.6666666666666666e-01
    p = p * v + 0.5
    p = p * v + 1.0
    small = p * v
    large = exp_v - 1.0
    return _select(abs(v) < 0.34657359027997264, small, large)


def _expm1_32(v, exp_v):
    """float32 expm1 given exp(v)."""
    p = _F32(2.4801587e-05)
    p = p * v + _F32(1.9841270e-04)
    p = p * v + _F32(1.3888889e-03)
    p = p * v + _F32(8.3333333e-03)
    p = p * v + _F32(4.1666667e-02)
    p = p * v + _F32(1.6666667e-01)
    p = p * v + _F32(0.5)
    p = p * v + _F32(1.0)
    small = p * v
    large = exp_v - _F32(1.0)
    return _select(abs(v) < _F32(0.34657359), small, large)


@overload(fast_exp, jit_options={"fastmath": CONTRACT, "error_model": "numpy"}, inline="always")
def _fast_exp_overload(v):
    """Pick the float32 or float64 exp at compile time from the argument type."""
    if v == types.float64:
        return _exp64
    if v == types.float32:
        return _exp32
    return None


@overload(expm1_from_exp, jit_options={"fastmath": CONTRACT, "error_model": "numpy"},
          inline="always")
def _expm1_from_exp_overload(v, exp_v):
    """Pick the float32 or float64 expm1 at compile time from the argument type."""
    if v == types.float64:
        return _expm1_64
    if v == types.float32:
        return _expm1_32
    return None


# ---------------------------------------------------------------- small reductions

@njit(cache=True, error_model="numpy", fastmath=REDUCE)
def _sum(a):
    """Sum of a 1-D array, re-associated so that it vectorizes."""
    total = a.dtype.type(0)
    for i in range(a.size):
        total += a[i]
    return total


@njit(cache=True, error_model="numpy", fastmath=REDUCE)
def _dot(a, b):
    """sum(a * b) of two 1-D arrays, vectorized."""
    total = a.dtype.type(0)
    for i in range(a.size):
        total += a[i] * b[i]
    return total


@njit(cache=True, error_model="numpy", inline="always")
def _max(a):
    """Maximum of a non-empty 1-D array; on long rows four running maxima hide the compare
    latency, on short ones (the few classes of a small classifier) one plain pass is faster.
    Inlined into its callers: called per row, a call of its own cost more than the row.

    A NaN may be skipped here, but then exp(NaN - max) still turns the whole row into NaN."""
    n = a.size
    if n < SHORT_ROW:
        m = a[0]
        for i in range(1, n):
            m = a[i] if a[i] > m else m
        return m
    m0 = m1 = m2 = m3 = a[0]
    i = 0
    while i + 4 <= n:
        m0 = a[i] if a[i] > m0 else m0
        m1 = a[i + 1] if a[i + 1] > m1 else m1
        m2 = a[i + 2] if a[i + 2] > m2 else m2
        m3 = a[i + 3] if a[i + 3] > m3 else m3
        i += 4
    while i < n:
        m0 = a[i] if a[i] > m0 else m0
        i += 1
    m0 = m1 if m1 > m0 else m0
    m2 = m3 if m3 > m2 else m2
    return m2 if m2 > m0 else m0


# ---------------------------------------------------------------- activations

# The drivers take an activation's code, not its name: a str argument costs every call of a
# compiled function about 1 us in Numba's dispatcher, more than relu's whole loop on a small
# layer. Callers look the name an op declares (`kernel=`, one of `ops.ACTIVATION_KERNELS`; a
# test holds the two lists equal) up in `ACTIVATION_CODES`. The codes are literals in this
# file on purpose: Numba freezes globals into the machine code it caches, and only a change of
# this file makes it compile again.
RELU, TANH, SIGMOID, LEAKY_RELU, ELU = 0, 1, 2, 3, 4
ACTIVATION_CODES = {"relu": RELU, "tanh": TANH, "sigmoid": SIGMOID, "leaky_relu": LEAKY_RELU,
                    "elu": ELU}


@njit(cache=True, error_model="numpy", fastmath=CONTRACT)
def _activation_forward_block(kernel, x, out, param):
    """out = f(x) elementwise on 1-D arrays; one loop per activation so each vectorizes."""
    zero = x.dtype.type(0)
    one = x.dtype.type(1)
    if kernel == RELU:
        for i in range(x.size):
            # `not (v <= 0)` keeps NaN as NaN, like np.maximum.
            out[i] = x[i] if not x[i] <= zero else zero
    elif kernel == TANH:
        two = one + one
        for i in range(x.size):
            # tanh|v| = -t / (t + 2) with t = expm1(-2|v|): no cancellation near 0, no overflow.
            minus_two_abs = -(abs(x[i]) + abs(x[i]))
            t = expm1_from_exp(minus_two_abs, fast_exp(minus_two_abs))
            magnitude = -t / (t + two)
            out[i] = magnitude if x[i] >= zero else -magnitude
    elif kernel == SIGMOID:
        for i in range(x.size):
            e = fast_exp(-abs(x[i]))
            r = one / (one + e)
            out[i] = r if x[i] >= zero else e * r
    elif kernel == LEAKY_RELU:
        for i in range(x.size):
            out[i] = x[i] if x[i] > zero else x[i] * param
    elif kernel == ELU:
        for i in range(x.size):
            # Only the non-positive part is exponentiated (exp of a large x would overflow);
            # `zero if x >= 0 else x` rather than min() so that NaN stays NaN.
            negative_part = zero if x[i] >= zero else x[i]
            negative_branch = param * expm1_from_exp(negative_part, fast_exp(negative_part))
            out[i] = x[i] if x[i] > zero else negative_branch
    else:
        raise ValueError("no activation kernel of that code")


@njit(cache=True, error_model="numpy", fastmath=CONTRACT)
def _activation_backward_block(kernel, x, out, grad, grad_x, param):
    """grad_x = grad * f'(x) elementwise (chain rule dL/dx = dL/dout * dout/dx), with f':
    relu 0 if x<=0 else 1; tanh 1-out^2; sigmoid out*(1-out); leaky_relu 1 if x>0 else
    slope; elu alpha*exp(x) if x<=0 else 1. The comparisons are PyTorch's (and the
    reference's): a NaN x gets slope 1 from relu and elu and `slope` from leaky_relu.
    relu selects rather than multiplies, as PyTorch's where(x <= 0, 0, grad): 0 for x <= 0
    even where grad is inf or NaN (0 * inf would be NaN)."""
    zero = x.dtype.type(0)
    one = x.dtype.type(1)
    if kernel == RELU:
        for i in range(x.size):
            grad_x[i] = zero if x[i] <= zero else grad[i]
    elif kernel == TANH:
        for i in range(x.size):
            grad_x[i] = grad[i] * (one - out[i] * out[i])
    elif kernel == SIGMOID:
        for i in range(x.size):
            grad_x[i] = grad[i] * out[i] * (one - out[i])
    elif kernel == LEAKY_RELU:
        for i in range(x.size):
            grad_x[i] = grad[i] * (one if x[i] > zero else param)
    elif kernel == ELU:
        for i in range(x.size):
            # exp of x < 0 only: a large x would overflow, and a NaN must not reach slope.
            slope = param * fast_exp(x[i] if x[i] < zero else zero)
            grad_x[i] = grad[i] * (slope if x[i] <= zero else one)
    else:
        raise ValueError("no activation kernel of that code")


@njit(cache=True, error_model="numpy")
def _chunk_bounds(n, chunks, chunk):
    """[start, stop) of chunk `chunk` of `chunks`, starts aligned to 64 elements."""
    size = ((n + chunks - 1) // chunks + 63) // 64 * 64
    start = min(chunk * size, n)
    return start, min(start + size, n)


@njit(cache=True, error_model="numpy")
def activation_forward_serial(kernel: int, x: np.ndarray, out: np.ndarray, param: float) -> None:
    """Serial driver of the activation forward kernel."""
    _activation_forward_block(kernel, x, out, param)


@njit(cache=True, error_model="numpy", parallel=prange_only())
def activation_forward_parallel(kernel: int, x: np.ndarray, out: np.ndarray, param: float,
                                chunks: int) -> None:
    """Parallel driver: `chunks` (the thread count) contiguous chunks."""
    for chunk in prange(chunks):
        start, stop = _chunk_bounds(x.size, chunks, chunk)
        _activation_forward_block(kernel, x[start:stop], out[start:stop], param)


@njit(cache=True, error_model="numpy")
def activation_backward_serial(kernel: int, x: np.ndarray, out: np.ndarray, grad: np.ndarray, grad_x: np.ndarray,
                               param: float) -> None:
    """Serial driver of the activation backward kernel."""
    _activation_backward_block(kernel, x, out, grad, grad_x, param)


@njit(cache=True, error_model="numpy", parallel=prange_only())
def activation_backward_parallel(kernel: int, x: np.ndarray, out: np.ndarray, grad: np.ndarray, grad_x: np.ndarray,
                                 param: float, chunks: int) -> None:
    """Parallel driver: `chunks` (the thread count) contiguous chunks."""
    for chunk in prange(chunks):
        start, stop = _chunk_bounds(x.size, chunks, chunk)
        _activation_backward_block(kernel, x[start:stop], out[start:stop],
                                   grad[start:stop], grad_x[start:stop], param)


# ---------------------------------------------------------------- softmax / log-softmax

@njit(cache=True, error_model="numpy", fastmath=CONTRACT)
def _softmax_row(x, out, log):
    """Softmax (or log-softmax if `log`) of one contiguous row, shifted by its max."""
    m = _max(x)
    for j in range(x.size):
        out[j] = fast_exp(x[j] - m)
    total = _sum(out)
    if log:
        log_total = math.log(total)
        for j in range(x.size):
            out[j] = (x[j] - m) - log_total
    else:
        inverse = x.dtype.type(1) / total
        for j in range(x.size):
            out[j] *= inverse


@njit(cache=True, error_model="numpy", fastmath=CONTRACT)
def _softmax_columns(x, out, o, first, last, log):
    """Softmax along axis 1 of x[o, :, first:last], with one accumulator per column."""
    width = last - first
    peak = x[o, 0, first:last].copy()
    for j in range(1, x.shape[1]):
        for c in range(width):
            v = x[o, j, first + c]
            peak[c] = v if v > peak[c] else peak[c]
    total = np.zeros(width, x.dtype)
    for j in range(x.shape[1]):
        for c in range(width):
            e = fast_exp(x[o, j, first + c] - peak[c])
            out[o, j, first + c] = e
            total[c] += e
    if log:
        for c in range(width):
            total[c] = math.log(total[c])
        for j in range(x.shape[1]):
            for c in range(width):
                out[o, j, first + c] = (x[o, j, first + c] - peak[c]) - total[c]
    else:
        for c in range(width):
            total[c] = x.dtype.type(1) / total[c]
        for j in range(x.shape[1]):
            for c in range(width):
                out[o, j, first + c] *= total[c]


@njit(cache=True, error_model="numpy", fastmath=CONTRACT)
def _softmax_backward_row(out, grad, grad_x, log):
    """Softmax: s*(g - sum g s). Log-softmax: g - exp(y) * sum g. On one contiguous row."""
    if log:
        total = _sum(grad)
        for j in range(out.size):
            grad_x[j] = grad[j] - fast_exp(out[j]) * total
    else:
        total = _dot(grad, out)
        for j in range(out.size):
            grad_x[j] = out[j] * (grad[j] - total)


@njit(cache=True, error_model="numpy", fastmath=CONTRACT)
def _softmax_backward_columns(out, grad, grad_x, o, first, last, log):
    """The softmax / log-softmax backward rule along axis 1 of out[o, :, first:last]."""
    width = last - first
    total = np.zeros(width, out.dtype)
    for j in range(out.shape[1]):
        for c in range(width):
            if log:
                total[c] += grad[o, j, first + c]
            else:
                total[c] += grad[o, j, first + c] * out[o, j, first + c]
    for j in range(out.shape[1]):
        for c in range(width):
            g = grad[o, j, first + c]
            y = out[o, j, first + c]
            grad_x[o, j, first + c] = g - fast_exp(y) * total[c] if log else y * (g - total[c])


@njit(cache=True, error_model="numpy")
def _column_blocks(inner):
    """How many COLUMN_BLOCK-wide blocks cover `inner` columns."""
    return (inner + COLUMN_BLOCK - 1) // COLUMN_BLOCK


@njit(cache=True, error_model="numpy")
def softmax_serial(x: np.ndarray, out: np.ndarray, log: bool) -> None:
    """Serial driver: softmax over axis 1 of the 3-D views x, out."""
    outer, length, inner = x.shape
    if inner == 1:
        rows, out_rows = x.reshape(outer, length), out.reshape(outer, length)
        for o in range(outer):
            _softmax_row(rows[o], out_rows[o], log)
    else:
        for o in range(outer):
            _softmax_columns(x, out, o, 0, inner, log)


@njit(cache=True, error_model="numpy", parallel=prange_only())
def softmax_parallel(x: np.ndarray, out: np.ndarray, log: bool) -> None:
    """Parallel driver: rows (or blocks of columns) are independent tasks."""
    outer, length, inner = x.shape
    if inner == 1:
        rows, out_rows = x.reshape(outer, length), out.reshape(outer, length)
        for o in prange(outer):
            _softmax_row(rows[o], out_rows[o], log)
    else:
        blocks = _column_blocks(inner)
        for task in prange(outer * blocks):
            o, block = task // blocks, task % blocks
            first = block * COLUMN_BLOCK
            _softmax_columns(x, out, o, first, min(first + COLUMN_BLOCK, inner), log)


@njit(cache=True, error_model="numpy")
def softmax_backward_serial(out: np.ndarray, grad: np.ndarray, grad_x: np.ndarray, log: bool) -> None:
    """Serial driver of the softmax / log-softmax backward kernel (axis 1 of 3-D views)."""
    outer, length, inner = out.shape
    if inner == 1:
        out2, grad2 = out.reshape(outer, length), grad.reshape(outer, length)
        grad_x2 = grad_x.reshape(outer, length)
        for o in range(outer):
            _softmax_backward_row(out2[o], grad2[o], grad_x2[o], log)
    else:
        for o in range(outer):
            _softmax_backward_columns(out, grad, grad_x, o, 0, inner, log)


@njit(cache=True, error_model="numpy", parallel=prange_only())
def softmax_backward_parallel(out: np.ndarray, grad: np.ndarray, grad_x: np.ndarray, log: bool) -> None:
    """Parallel driver of the softmax / log-softmax backward kernel."""
    outer, length, inner = out.shape
    if inner == 1:
        out2, grad2 = out.reshape(outer, length), grad.reshape(outer, length)
        grad_x2 = grad_x.reshape(outer, length)
        for o in prange(outer):
            _softmax_backward_row(out2[o], grad2[o], grad_x2[o], log)
    else:
        blocks = _column_blocks(inner)
        for task in prange(outer * blocks):
            o, block = task // blocks, task % blocks
            first = block * COLUMN_BLOCK
            _softmax_backward_columns(out, grad, grad_x, o, first,
                                      min(first + COLUMN_BLOCK, inner), log)


# ---------------------------------------------------------------- softmax cross-entropy

@njit(cache=True, error_model="numpy", fastmath=CONTRACT, inline="always")
def _softmax_into(x, p):
    """Write softmax(x) into p; return (m, log s) with m = max(x) and s = sum(exp(x - m)),
    so that log softmax(x)_j = x_j - m - log s."""
    m = _max(x)
    for j in range(x.size):
        p[j] = fast_exp(x[j] - m)
    total = _sum(p)
    inverse = x.dtype.type(1) / total
    for j in range(x.size):
        p[j] *= inverse
    return m, math.log(total)


@njit(cache=True, error_model="numpy", fastmath=CONTRACT, inline="always")
def _cross_entropy_row(logits, probs, labels, targets, row, use_labels):
    """Write softmax(logits[row]) into probs[row]; return -sum_c t_c log p_c for that row."""
    x = logits[row]
    m, log_total = _softmax_into(x, probs[row])
    if use_labels:
        return -((x[labels[row]] - m) - log_total)
    t = targets[row]
    loss = x.dtype.type(0)
    for j in range(x.size):
        loss -= t[j] * ((x[j] - m) - log_total)
    return loss


@njit(cache=True, error_model="numpy", fastmath=CONTRACT)
def _cross_entropy_few_classes(logits, labels, targets, use_labels, probs, first, last):
    """`_cross_entropy_row` over the rows first..last-1, returning the sum of their losses,
    for rows of fewer than `FEW_CLASSES` classes: one loop over the 2-D arrays, with no row
    views and no call per row, each of which costs more than a 3-class row's arithmetic (the
    same loop split into a function per row, even an inlined one, ran twice as long). The
    same steps: max, e = exp(x - max) and their sum s, p = e / s, loss = -sum_c t_c (x_c -
    max - log s)."""
    classes = logits.shape[1]
    one = logits.dtype.type(1)
    loss = 0.0
    for row in range(first, last):
        m = logits[row, 0]
        for j in range(1, classes):
            m = logits[row, j] if logits[row, j] > m else m
        total = logits.dtype.type(0)
        for j in range(classes):
            e = fast_exp(logits[row, j] - m)
            probs[row, j] = e
            total += e
        inverse = one / total
        for j in range(classes):
            probs[row, j] *= inverse
        log_total = math.log(total)
        if use_labels:
            loss -= (logits[row, labels[row]] - m) - log_total
        else:
            row_loss = logits.dtype.type(0)
            for j in range(classes):
                row_loss -= targets[row, j] * ((logits[row, j] - m) - log_total)
            loss += row_loss
    return loss


@njit(cache=True, error_model="numpy", fastmath=CONTRACT)
def cross_entropy_serial(logits: np.ndarray, labels: np.ndarray, targets: np.ndarray, use_labels: bool,
                         probs: np.ndarray) -> float:
    """Serial driver: fills probs, returns the mean loss (accumulated in float64)."""
    rows = logits.shape[0]
    if logits.shape[1] < FEW_CLASSES:
        total = _cross_entropy_few_classes(logits, labels, targets, use_labels, probs, 0, rows)
        return total / rows
    loss = 0.0
    for row in range(rows):
        loss += _cross_entropy_row(logits, probs, labels, targets, row, use_labels)
    return loss / rows


@njit(cache=True, error_model="numpy", fastmath=CONTRACT, parallel=prange_only())
def cross_entropy_parallel(logits: np.ndarray, labels: np.ndarray, targets: np.ndarray, use_labels: bool,
                           probs: np.ndarray) -> float:
    """Parallel driver: rows are independent; prange reduces the loss sum."""
    rows = logits.shape[0]
    loss = 0.0
    if logits.shape[1] < FEW_CLASSES:  # blocks of rows, each one call
        for block in prange((rows + ROW_BLOCK - 1) // ROW_BLOCK):
            first, last = block * ROW_BLOCK, min(rows, (block + 1) * ROW_BLOCK)
            loss += _cross_entropy_few_classes(logits, labels, targets, use_labels, probs,
                                               first, last)
        return loss / rows
    for row in prange(rows):
        loss += _cross_entropy_row(logits, probs, labels, targets, row, use_labels)
    return loss / rows


@njit(cache=True, error_model="numpy", fastmath=CONTRACT)
def _cross_entropy_backward_rows(probs, labels, targets, use_labels, scale, grad_logits,
                                 first, last):
    """Rows first..last-1 of scale * (probs - onehot(targets)), as one flat vectorized loop
    (then, for labels, one correction per row) rather than a loop per short row."""
    width = probs.shape[1]
    p = probs.reshape(-1)[first * width:last * width]
    g = grad_logits.reshape(-1)[first * width:last * width]
    if use_labels:
        for i in range(p.size):
            g[i] = p[i] * scale
        one = probs.dtype.type(1)
        for row in range(first, last):
            label = labels[row]
            grad_logits[row, label] = (probs[row, label] - one) * scale
    else:
        t = targets.reshape(-1)[first * width:last * width]
        for i in range(p.size):
            g[i] = (p[i] - t[i]) * scale


@njit(cache=True, error_model="numpy")
def cross_entropy_backward_serial(probs: np.ndarray, labels: np.ndarray, targets: np.ndarray, use_labels: bool,
                                  scale: float, grad_logits: np.ndarray) -> None:
    """Serial driver: grad_logits = scale * (probs - onehot(targets))."""
    _cross_entropy_backward_rows(probs, labels, targets, use_labels, scale, grad_logits,
                                 0, probs.shape[0])


@njit(cache=True, error_model="numpy", parallel=prange_only())
def cross_entropy_backward_parallel(probs: np.ndarray, labels: np.ndarray, targets: np.ndarray, use_labels: bool,
                                    scale: float, grad_logits: np.ndarray, chunks: int) -> None:
    """Parallel driver: `chunks` (the thread count) blocks of rows."""
    rows = probs.shape[0]
    for chunk in prange(chunks):
        _cross_entropy_backward_rows(probs, labels, targets, use_labels, scale, grad_logits,
                                     chunk * rows // chunks, (chunk + 1) * rows // chunks)


# ---------------------------------------------------------------- unbroadcast sums

@njit(cache=True, error_model="numpy", fastmath=CONTRACT)
def _add_rows(grad, first, last, total):
    """total += sum of grad[first:last] (rows of a 2-D array), row by row like numpy."""
    for r in range(first, last):
        for c in range(grad.shape[1]):
            total[c] += grad[r, c]


@njit(cache=True, error_model="numpy")
def column_sums_serial(grad: np.ndarray, total: np.ndarray) -> None:
    """total[c] = sum_r grad[r, c] (the bias-gradient reduction)."""
    total[:] = 0
    _add_rows(grad, 0, grad.shape[0], total)


@njit(cache=True, error_model="numpy", parallel=prange_only())
def column_sums_parallel(grad: np.ndarray, total: np.ndarray, chunks: int) -> None:
    """Each of `chunks` tasks sums a block of rows into a private partial; partials added last."""
    chunks = max(1, min(chunks, grad.shape[0]))
    partials = np.zeros((chunks, grad.shape[1]), grad.dtype)
    for chunk in prange(chunks):
        first = chunk * grad.shape[0] // chunks
        last = (chunk + 1) * grad.shape[0] // chunks
        _add_rows(grad, first, last, partials[chunk])
    total[:] = 0
    for chunk in range(chunks):
        total += partials[chunk]


@njit(cache=True, error_model="numpy")
def row_sums_serial(grad: np.ndarray, total: np.ndarray) -> None:
    """total[r] = sum_c grad[r, c]."""
    for r in range(grad.shape[0]):
        total[r] = _sum(grad[r])


@njit(cache=True, error_model="numpy", parallel=prange_only())
def row_sums_parallel(grad: np.ndarray, total: np.ndarray) -> None:
    """Rows are independent tasks."""
    for r in prange(grad.shape[0]):
        total[r] = _sum(grad[r])


# ---------------------------------------------------------------- affine: the bias row

@njit(cache=True, error_model="numpy")
def _add_bias_rows(out, bias, first, last):
    """out[r, c] += bias[c] for the rows first..last-1 of a 2-D array."""
    for r in range(first, last):
        for c in range(out.shape[1]):
            out[r, c] += bias[c]


@njit(cache=True, error_model="numpy")
def add_bias_serial(out: np.ndarray, bias: np.ndarray) -> None:
    """out += bias, row by row, in place (out (rows, features), bias (features,)): numpy's
    broadcast addition steps through one short row at a time, three to four times slower."""
    _add_bias_rows(out, bias, 0, out.shape[0])


@njit(cache=True, error_model="numpy", parallel=prange_only())
def add_bias_parallel(out: np.ndarray, bias: np.ndarray, chunks: int) -> None:
    """Parallel driver: `chunks` (the thread count) blocks of rows."""
    rows = out.shape[0]
    for chunk in prange(chunks):
        _add_bias_rows(out, bias, chunk * rows // chunks, (chunk + 1) * rows // chunks)
