"""Sums over a block of points that give the same bits on every CPU, and an explicit fused
multiply-add: the machine-independent arithmetic of the kernels.

Without fastmath, numba compiles a reduction as one scalar chain; with ``reassoc``, LLVM
would reorder it by the vector width of the CPU at hand, and the bits would depend on
the CPU (see :mod:`.jit`). :func:`lane_sum` and its kin write the partial sums of a block
out as vectors of a fixed width instead (:func:`_vector_reduction`), and :func:`fma`
fuses a multiply and an add on every CPU alike. Both have plain Python twins for
``NUMBA_DISABLE_JIT=1``.
"""

from __future__ import annotations

import operator

import numba
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from .jit import jit

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
        if dtype is None or not _reducible(arrays, dtype, n):
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
            rows_of = _RowAdder(builder, data, vector, dtype.bitwidth // 8, n_inputs, apply)
            _accumulate(builder, rows_of, accumulators, stop, width)
            totals = [_lane_total(builder, sums, apply, element) for sums in accumulators]
            if n_sums == 1:
                return totals[0]
            return context.make_tuple(builder, signature.return_type, totals)

        return result(*arrays, n), codegen

    # numba's intrinsics take named arguments only.
    if n_inputs == 1:

        def reduction(typingctx, values, n):
            return typed([values], n)
    elif n_inputs == 2:

        def reduction(typingctx, resp, dev, n):  # type: ignore[misc]
            return typed([resp, dev], n)
    else:

        def reduction(typingctx, exps, factor, dev, n):  # type: ignore[misc]
            return typed([exps, factor, dev], n)

    reduction.__name__ = name
    return intrinsic(reduction)


def _reducible(arrays, dtype, n) -> bool:
    """Whether :func:`_vector_reduction` takes these numba types: C-contiguous 1D arrays
    (read through their data pointer) of one float type, and an integer ``n``."""
    return (
        dtype in _ELEMENTS
        and isinstance(n, types.Integer)
        and all(
            isinstance(a, types.Array) and a.dtype == dtype and a.ndim == 1 and a.layout == "C"
            for a in arrays
        )
    )


class _RowAdder:
    """Emits the IR that adds the terms of one vector of points to one accumulator per sum
    (step 1 of :func:`_vector_reduction`)."""

    def __init__(self, builder, data, vector, alignment, n_inputs, apply):
        self.builder = builder
        self.data = data
        self.vector = vector
        self.alignment = alignment
        self.n_inputs = n_inputs
        self.apply = apply

    def add(self, accumulators, row, offset):
        """The points from ``offset`` into accumulator ``row`` of each sum."""
        builder = self.builder
        loaded = [
            builder.load(
                builder.bitcast(builder.gep(pointer, [offset]), self.vector.as_pointer()),
                align=self.alignment,
            )
            for pointer in self.data
        ]
        terms = _sum_terms(loaded) if self.n_inputs == 1 else _moment_terms(loaded, builder.fmul)
        for sums, term in zip(accumulators, terms):
            builder.store(self.apply(builder.load(sums[row]), term), sums[row])


def _accumulate(builder, rows_of, accumulators, stop, width):
    """Steps 1 and 2 of :func:`_vector_reduction`: whole groups of ``rows`` vectors, one
    vector to each accumulator in turn, then the rest into accumulator 0."""
    rows = len(accumulators[0])
    group = width * rows
    whole = builder.mul(builder.sdiv(stop, stop.type(group)), stop.type(group))
    with cgutils.for_range_slice(builder, stop.type(0), whole, stop.type(group)) as (start, _):
        for row in range(rows):
            rows_of.add(accumulators, row, builder.add(start, stop.type(row * width)))
    with cgutils.for_range_slice(builder, whole, stop, stop.type(width)) as (start, _):
        rows_of.add(accumulators, 0, start)


def _lane_total(builder, sums, apply, element):
    """Steps 3 to 5 of :func:`_vector_reduction`: one sum's accumulators combined pairwise
    into one vector, float32 lanes folded into 8 float64 lanes, then the lanes pairwise."""
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
    parts = [builder.extract_element(vector, ir.Constant(ir.IntType(32), k)) for k in range(LANES)]
    while len(parts) > 1:
        parts = [apply(parts[k], parts[k + 1]) for k in range(0, len(parts), 2)]
    return parts[0]


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
