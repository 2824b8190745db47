"""``exp`` over a block of values, in a loop LLVM vectorises, in float64 and in float32.

numba calls libm's ``exp`` one value at a time (there is no vector math library here),
and ``exp`` is most of the E-step's work. This version evaluates a whole block with
SIMD instructions:

- range reduction (Cody-Waite): ``x = n ln2 + r`` with ``n = round(x / ln 2)`` and
  ``|r| <= ln(2) / 2``, ``ln 2`` split in a part exact in ``n * LN2_HI`` and the rest;
- ``exp(r)`` by its Taylor polynomial of degree 13 (truncation below 1e-17 relative on
  that interval), evaluated by Estrin's scheme, whose short dependency chains keep the
  FMA units busy;
- ``2**n`` built from its bits: ``n + 2**52 + 1023`` holds ``n + 1023`` in its low
  mantissa bits; shifted left by 52 they are the exponent field of ``2**n``.

It serves only arguments ``x <= 0`` (log-densities minus their maximum), where it is
within 4.4e-16 relative of the exact ``exp`` down to ``x = -708``; below that
(``exp(x) < 3.3e-308``, including ``x = -inf``) it returns exactly 0. ``test_vmath.py``
checks the whole range against an extended-precision reference.

The float32 twin (for ``fit(..., dtype=np.float32)``) is the same scheme with float32
constants: ``n * LN2_HI`` exact for ``|n| < 2**15``, the Taylor polynomial of degree 7
(truncation below 7e-9 relative) summed as ``1 + (r + r**2 P(r))`` so that the one
rounding near 1 comes last, ``2**n`` from ``n + 2**23 + 127`` shifted left by 23. It is
within 9.1e-8 relative of the exact ``exp`` on ``[-86, 0]`` and exactly 0 below
(``exp(-86) = 4.5e-38``, near float32's smallest normal number 1.2e-38). Every one of
the 1.1e9 float32 values of that range was checked once against float64's ``exp``: the
largest error is 9.01e-8 relative, 1.07 units in the last place; ``test_float32.py``
checks every 97th of them and the edges.
:func:`exp_parts` and :func:`powers_of_two` pick the version by the type of their
argument when numba compiles the caller, so one E-step source serves both precisions.

Every multiply-add of the polynomial is an explicit :func:`fma`, so the result is the
same on every CPU (see ``_jit``).

The module also holds the kernels' machine-independent arithmetic (:func:`lane_sum`,
:func:`lane_product`, an explicit :func:`fma`) and :func:`log`, the elementwise natural
logarithm of the Python layer.
"""

from __future__ import annotations

import math
import operator

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from .jit import by_type, jit

LOWEST = -708.0
"""Below this, exp returns 0: ``2**n`` would be subnormal."""

LOWEST_FLOAT32 = -86.0
"""The same for the float32 exp: ``exp(-86) = 4.5e-38``, and float32's smallest normal
number is 1.2e-38."""

_LOG2E = 1.4426950408889634
_LN2_HI = 0.693145751953125  # few mantissa bits: n * _LN2_HI is exact for |n| < 2**11
_LN2_LO = 1.42860682030941723212e-6
_TWO52_PLUS_BIAS = 4503599627370496.0 + 1023.0
_TWO52_BITS = np.int64(0x4330000000000000)
_EXPONENT_SHIFT = np.int64(52)
_C = [1.0 / math.factorial(i) for i in range(14)]
_C0, _C1, _C2, _C3, _C4, _C5, _C6, _C7, _C8, _C9, _C10, _C11, _C12, _C13 = _C

# The float32 twins. numba types a NumPy scalar global as its own type, so these keep
# the float32 kernel's arithmetic in float32 (a Python float would promote it to float64).
_LOG2E_F32 = np.float32(_LOG2E)
_LN2_HI_F32 = np.float32(0.693359375)  # 355/512: n * _LN2_HI_F32 is exact for |n| < 2**15
_LN2_LO_F32 = np.float32(math.log(2.0) - 0.693359375)
_HALF_F32 = np.float32(0.5)
_TWO23_PLUS_BIAS = np.float32(8388608.0 + 127.0)
_TWO23_BITS = np.int32(0x4B000000)
_EXPONENT_SHIFT_F32 = np.int32(23)
_D = [np.float32(1.0 / math.factorial(i)) for i in range(8)]
_D0, _D1, _D2, _D3, _D4, _D5, _D6, _D7 = _D


def _exp_parts_float64(x):
    n = math.floor(fma(x, _LOG2E, 0.5))
    r = fma(-n, _LN2_LO, x - n * _LN2_HI)
    r2 = r * r
    r4 = r2 * r2
    low = fma(fma(_C3, r, _C2), r2, fma(_C1, r, _C0))
    mid = fma(fma(_C7, r, _C6), r2, fma(_C5, r, _C4))
    high = fma(fma(_C11, r, _C10), r2, fma(_C9, r, _C8))
    top = fma(_C13, r, _C12)
    return fma(fma(top, r4, high), r4 * r4, fma(mid, r4, low)), n + _TWO52_PLUS_BIAS


def _exp_parts_float32(x):
    # n stays a float (np.floor keeps float32): no integer conversion in the loop.
    n = np.floor(fma(x, _LOG2E_F32, _HALF_F32))
    r = fma(-n, _LN2_LO_F32, x - n * _LN2_HI_F32)
    r2 = r * r
    # 1 + (r + r**2 P(r)): the one rounding near 1 is the last addition.
    low = fma(_D3, r, _D2)
    high = fma(fma(_D7, r, _D6), r2, fma(_D5, r, _D4))
    return _D0 + fma(r2, fma(high, r2, low), r), n + _TWO23_PLUS_BIAS


def exp_parts(x):
    """``exp(x) = poly * 2**n`` for ``LOWEST <= x <= 0`` (``LOWEST_FLOAT32`` for a float32
    ``x``): returns ``poly`` and ``n + 2**52 + 1023`` (float32: ``n + 2**23 + 127``), of
    ``x``'s type, which :func:`powers_of_two` turns into ``2**n``.

    Small enough for LLVM to inline into the caller's loop and vectorise it.
    """
    if isinstance(x, np.float32):
        return _exp_parts_float32(x)
    return _exp_parts_float64(x)


@by_type(exp_parts)
def _exp_parts_by_type(x):
    return _exp_parts_float32 if x == types.float32 else _exp_parts_float64


def _powers_of_two_float64(biased, m):
    bits = biased.view(np.int64)
    for j in range(m):
        bits[j] = (bits[j] - _TWO52_BITS) << _EXPONENT_SHIFT


def _powers_of_two_float32(biased, m):
    bits = biased.view(np.int32)
    for j in range(m):
        bits[j] = (bits[j] - _TWO23_BITS) << _EXPONENT_SHIFT_F32


def powers_of_two(biased, m):
    """``biased[:m]`` from :func:`exp_parts` becomes ``2**n``, in place, by bit shifts."""
    if biased.dtype == np.float32:
        return _powers_of_two_float32(biased, m)
    return _powers_of_two_float64(biased, m)


@by_type(powers_of_two)
def _powers_of_two_by_type(biased, m):
    return _powers_of_two_float32 if biased.dtype == types.float32 else _powers_of_two_float64


@jit
def lowest(values):
    """:data:`LOWEST`, or :data:`LOWEST_FLOAT32` for float32 ``values``, of their type."""
    return values.dtype.type(LOWEST if values.itemsize == 8 else LOWEST_FLOAT32)


@jit
def exp_shifted(values, shift, total, m, biased):
    """``values[:m] = exp(values[:m] - shift[:m])`` in place, and ``total[:m] += values[:m]``.

    Arguments must satisfy ``values <= shift`` (log-densities and their maximum); the
    shift and the running sum are folded in to save passes over the block. ``biased``
    is scratch of at least ``m`` entries. All arrays of one type, float64 or float32.
    """
    floor = lowest(values)
    zero = values.dtype.type(0.0)
    for j in range(m):
        x = values[j] - shift[j]
        keep = x > floor
        poly, biased[j] = exp_parts(max(x, floor))
        values[j] = poly if keep else zero
    powers_of_two(biased, m)
    for j in range(m):
        values[j] *= biased[j]
        total[j] += values[j]


VECTOR_BYTES = 64
"""The vectors of :func:`lane_sum` hold 64 bytes: 8 float64 or 16 float32 lanes."""

LANES = VECTOR_BYTES // 8
"""Partial sums of :func:`lane_sum` over float64: blocks of points are padded to a
multiple of this (of :func:`lanes` in general)."""


ROWS = 4
"""Vectors of ``LANES`` that :func:`lane_sum` keeps, so that four additions are in flight
at once instead of one chain waiting on the last."""


@jit
def lanes(values):
    """Lanes of :func:`lane_sum` over ``values``' type: 8 for float64, 16 for float32."""
    return VECTOR_BYTES // values.itemsize


def _sum_terms(values):
    return [values[0]]


def _moment_terms(values, multiply):
    """``r``, ``r d`` and ``r d d`` from the vectors of ``r`` and ``d``, or of ``e``, ``f``
    and ``d`` with ``r = e f``."""
    if len(values) == 3:
        resp, dev = multiply(values[0], values[1]), values[2]
    else:
        resp, dev = values
    weighted = multiply(resp, dev)
    return [resp, weighted, multiply(weighted, dev)]


_ELEMENTS = {types.float64: ir.DoubleType(), types.float32: ir.FloatType()}


def _vector_reduction(name, n_inputs, n_sums, combine, neutral, rows):
    """An intrinsic reducing arrays ``values[:n]`` of float64 (float32), ``n`` a multiple
    of ``L = 8`` (16), to ``n_sums`` float64 numbers with ``combine`` ("fadd" or "fmul"),
    in this order:

    1. ``rows`` accumulators of type ``<8 x double>`` (``<16 x float>``) per result:
       accumulator ``a`` takes the terms of points ``L (rows i + a)`` to
       ``L (rows i + a) + L - 1`` for every whole group of ``L rows`` points, in turn;
    2. the rest (a multiple of ``L``) goes to accumulator 0, ``L`` points at a time;
    3. the accumulators combine pairwise, ``(a0 + a1) + (a2 + a3)``, lane by lane;
    4. float32 only: the 16 lanes are converted to float64 (exactly), and lane ``l``
       and lane ``l + 8`` combine into lane ``l`` of 8: a float32 lane holds the terms
       of ``n / 16`` points, the rest of the sum is in float64;
    5. the 8 lanes combine pairwise, ``((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7))``.

    The terms of a point are its value (one input), or ``r``, ``r d`` and ``r d d`` for
    the inputs ``r`` and ``d`` (three sums, :func:`lane_moments`), or for ``e``, ``f`` and
    ``d`` with ``r = e f`` (:func:`lane_product_moments`), in the arrays' type.

    Written in LLVM IR because numba (without fastmath) compiles a scalar loop for any
    reduction, and reassociating it would make the result depend on the CPU. A vector
    type fixes the order: LLVM maps ``<8 x double>`` (``<16 x float>``) onto one AVX-512
    register, two AVX2 registers or four SSE2 registers, and every lane computes the
    same thing either way.
    """

    def typed(arrays, n):
        dtype = getattr(arrays[0], "dtype", None)
        if (
            dtype not in _ELEMENTS
            or not isinstance(n, types.Integer)
            or not all(
                isinstance(a, types.Array)
                and a.dtype == dtype
                and a.ndim == 1
                and a.layout == "C"  # read through the data pointer: contiguous only
                for a in arrays
            )
        ):
            return None
        result = types.float64 if n_sums == 1 else types.UniTuple(types.float64, n_sums)
        element = _ELEMENTS[dtype]
        width = VECTOR_BYTES * 8 // dtype.bitwidth

        def codegen(context, builder, signature, args):
            data = [
                context.make_array(t)(context, builder, a).data
                for t, a in zip(signature.args[:-1], args[:-1])
            ]
            stop = context.cast(builder, args[-1], signature.args[-1], types.intp)
            vector = ir.VectorType(element, width)
            apply = getattr(builder, combine)
            accumulators = [
                [
                    cgutils.alloca_once_value(builder, ir.Constant(vector, [neutral] * width))
                    for _ in range(rows)
                ]
                for _ in range(n_sums)
            ]

            def add_row(row, offset):
                loaded = [
                    builder.load(
                        builder.bitcast(builder.gep(pointer, [offset]), vector.as_pointer()),
                        align=dtype.bitwidth // 8,
                    )
                    for pointer in data
                ]
                terms = _sum_terms(loaded) if n_inputs == 1 else _moment_terms(loaded, builder.fmul)
                for sums, term in zip(accumulators, terms):
                    builder.store(apply(builder.load(sums[row]), term), sums[row])

            group = width * rows
            whole = builder.mul(builder.sdiv(stop, stop.type(group)), stop.type(group))
            with cgutils.for_range_slice(builder, stop.type(0), whole, stop.type(group)) as (
                start,
                _,
            ):
                for row in range(rows):
                    add_row(row, builder.add(start, stop.type(row * width)))
            with cgutils.for_range_slice(builder, whole, stop, stop.type(width)) as (start, _):
                add_row(0, start)
            totals = []
            for sums in accumulators:
                vectors = [builder.load(accumulator) for accumulator in sums]
                while len(vectors) > 1:
                    vectors = [apply(vectors[k], vectors[k + 1]) for k in range(0, len(vectors), 2)]
                vector = vectors[0]
                if element != ir.DoubleType():
                    # Two <8 x double> from the lanes 0-7 and 8-15, added lane by lane.
                    halves = [
                        builder.fpext(
                            builder.shuffle_vector(
                                vector,
                                ir.Constant(vector.type, None),
                                ir.Constant(
                                    ir.VectorType(ir.IntType(32), LANES),
                                    list(range(first, first + LANES)),
                                ),
                            ),
                            ir.VectorType(ir.DoubleType(), LANES),
                        )
                        for first in (0, LANES)
                    ]
                    vector = apply(halves[0], halves[1])
                parts = [
                    builder.extract_element(vector, ir.Constant(ir.IntType(32), k))
                    for k in range(LANES)
                ]
                while len(parts) > 1:
                    parts = [apply(parts[k], parts[k + 1]) for k in range(0, len(parts), 2)]
                totals.append(parts[0])
            if n_sums == 1:
                return totals[0]
            return context.make_tuple(builder, signature.return_type, totals)

        return result(*arrays, n), codegen

    # numba's intrinsics take named arguments only.
    if n_inputs == 1:

        def reduction(typingctx, values, n):
            return typed([values], n)
    elif n_inputs == 2:

        def reduction(typingctx, resp, dev, n):
            return typed([resp, dev], n)
    else:

        def reduction(typingctx, exps, factor, dev, n):
            return typed([exps, factor, dev], n)

    reduction.__name__ = name
    return intrinsic(reduction)


def _python_reduction(n_inputs, combine, neutral, rows):
    """:func:`_vector_reduction` in plain Python, in the same order and types (for
    ``NUMBA_DISABLE_JIT=1``)."""

    def reduction(*arguments):
        *arrays, n = arguments
        element = arrays[0].dtype.type  # NumPy scalars compute in the arrays' type
        width = VECTOR_BYTES // arrays[0].itemsize
        n_sums = 1 if n_inputs == 1 else 3
        accumulators = [[[element(neutral)] * width for _ in range(rows)] for _ in range(n_sums)]
        group = width * rows
        whole = n // group * group
        for start in range(0, n, width):
            row = (start % group) // width if start < whole else 0
            for k in range(width):
                loaded = [a[start + k] for a in arrays]
                terms = _sum_terms(loaded) if n_inputs == 1 else _moment_terms(loaded, operator.mul)
                for sums, term in zip(accumulators, terms):
                    sums[row][k] = combine(sums[row][k], term)
        totals = []
        for sums in accumulators:
            while len(sums) > 1:
                sums = [
                    [combine(a, b) for a, b in zip(sums[r], sums[r + 1])]
                    for r in range(0, len(sums), 2)
                ]
            parts = [float(value) for value in sums[0]]
            if width > LANES:
                parts = [combine(a, b) for a, b in zip(parts[:LANES], parts[LANES:])]
            while len(parts) > 1:
                parts = [combine(parts[k], parts[k + 1]) for k in range(0, len(parts), 2)]
            totals.append(parts[0])
        return totals[0] if n_sums == 1 else tuple(totals)

    return reduction


@intrinsic
def _llvm_fma(typingctx, a, b, c):
    # float32 when all three are (one float32 instruction), else float64.
    single = a == b == c == types.float32
    float_type = types.float32 if single else types.float64

    def codegen(context, builder, signature, args):
        element = _ELEMENTS[float_type]
        fused = builder.module.declare_intrinsic(
            "llvm.fma", [element], ir.FunctionType(element, [element, element, element])
        )
        return builder.call(fused, args)

    return float_type(float_type, float_type, float_type), codegen


def _python_fma(a, b, c):
    """``a * b + c`` in plain Python, rounded twice: with ``NUMBA_DISABLE_JIT=1`` the
    kernels run to check their logic, not their last bits, and an exactly rounded
    multiply-add in Python costs microseconds."""
    return a * b + c


if numba.config.DISABLE_JIT:
    fma = _python_fma
    lane_sum = _python_reduction(1, operator.add, 0.0, ROWS)
    lane_product = _python_reduction(1, operator.mul, 1.0, ROWS)
    lane_moments = _python_reduction(2, operator.add, 0.0, 2)
    lane_product_moments = _python_reduction(3, operator.add, 0.0, 2)
else:
    _lane_sum = _vector_reduction("_lane_sum", 1, 1, "fadd", 0.0, ROWS)
    _lane_product = _vector_reduction("_lane_product", 1, 1, "fmul", 1.0, ROWS)
    # Three sums of two rows each: six vector accumulators fit AVX2's 16 registers.
    _lane_moments = _vector_reduction("_lane_moments", 2, 3, "fadd", 0.0, 2)
    _lane_product_moments = _vector_reduction("_lane_product_moments", 3, 3, "fadd", 0.0, 2)

    @jit
    def fma(a, b, c):
        """``a * b + c`` with one rounding (``llvm.fma``), the same on every CPU: one
        instruction where the CPU has FMA, a correctly rounded library call elsewhere.
        In float32 when ``a``, ``b`` and ``c`` all are, else in float64."""
        return _llvm_fma(a, b, c)

    @jit
    def lane_sum(values, n):
        """``sum(values[:n])`` for ``n`` a multiple of :func:`lanes`, in the fixed order of
        :func:`_vector_reduction`: the same on every CPU. float64, for float32 values too."""
        return _lane_sum(values, n)

    @jit
    def lane_product(values, n):
        """``prod(values[:n])`` in the order of :func:`lane_sum`."""
        return _lane_product(values, n)

    @jit
    def lane_moments(resp, dev, n):
        """``(sum r, sum r d, sum r d d)`` over ``r = resp[:n]``, ``d = dev[:n]``, in the
        fixed order of :func:`_vector_reduction` (two rows per sum)."""
        return _lane_moments(resp, dev, n)

    @jit
    def lane_product_moments(exps, factor, dev, n):
        """:func:`lane_moments` of ``r = exps[:n] * factor[:n]`` and ``dev``, without
        storing ``r``."""
        return _lane_product_moments(exps, factor, dev, n)


@jit
def _log_into(values, out):
    for i in range(values.size):
        out[i] = math.log(values[i])


def log(values):
    """Natural logarithm, elementwise, as the kernels compute it (the C library's ``log``).

    NumPy's ``np.log`` picks an implementation by the CPU (an AVX-512 one differs in the
    last bit from the scalar one), so results that must be the same on every CPU use
    this instead.
    """
    values = np.asarray(values, dtype=np.float64)
    out = np.empty(values.size)
    _log_into(np.ascontiguousarray(values).reshape(-1), out)
    return out.reshape(values.shape)
