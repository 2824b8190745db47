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
:func:`exp_parts` and :func:`power_of_two` pick the version by the type of their
argument when numba compiles the caller, so one E-step source serves both precisions.

Every multiply-add of the polynomial is an explicit :func:`.lanes.fma`, so the result is
the same on every CPU (see :mod:`.jit`).

The module also holds :func:`log`, the elementwise natural logarithm of the Python layer.
The kernels' other machine-independent arithmetic (:func:`.lanes.lane_sum` and its kin)
is in :mod:`.lanes`.
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from .jit import by_type, jit
from .lanes import fma

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


_CONSTANTS_FLOAT64 = (_LOG2E, 0.5, _LN2_HI, _LN2_LO, _TWO52_PLUS_BIAS, *_C)
_CONSTANTS_FLOAT32 = (_LOG2E_F32, _HALF_F32, _LN2_HI_F32, _LN2_LO_F32, _TWO23_PLUS_BIAS, *_D)


def exp_constants(values):
    """The constants of :func:`exp_parts` for ``values``' type (an array of float64 or
    float32), to take once before a loop and hand to every call in it.

    Compiled, each is hidden from LLVM (:func:`_opaque`), so that it treats them as
    values computed before the loop, as it would the parameters of a fit. A constant it
    sees is one it prefers to build again at each use rather than keep: with two dozen
    of them and AVX2's 16 vector registers, that is two instructions per use and per
    vector of points (the x86-64 code of a JIT takes a constant's address whole, then
    broadcasts it), a fifth of the E-step's loop. Values it cannot rebuild it keeps in
    registers or on the stack, whence an arithmetic instruction reads them directly.
    """
    if values.dtype == np.float32:
        return _CONSTANTS_FLOAT32
    return _CONSTANTS_FLOAT64


@intrinsic
def _opaque(typingctx, value):
    """``value`` as it is, but unknown to LLVM's optimiser (see :func:`exp_constants`): on
    x86-64 it passes through an empty inline assembly statement that holds it in a vector
    register; on other CPUs it is returned as it is. No arithmetic, so no bits change."""
    if value not in (types.float64, types.float32):
        return None

    def codegen(context, builder, signature, args):
        if not builder.module.triple.startswith("x86_64"):
            return args[0]
        element = args[0].type
        function = ir.FunctionType(element, [element])
        return builder.asm(function, "", "=x,0", [args[0]], side_effect=False)

    return value(value), codegen


@by_type(exp_constants)
def _exp_constants_by_type(values):
    if values.dtype == types.float32:

        def float32_constants(values):
            return (
                _opaque(_LOG2E_F32),
                _opaque(_HALF_F32),
                _opaque(_LN2_HI_F32),
                _opaque(_LN2_LO_F32),
                _opaque(_TWO23_PLUS_BIAS),
                _opaque(_D0),
                _opaque(_D1),
                _opaque(_D2),
                _opaque(_D3),
                _opaque(_D4),
                _opaque(_D5),
                _opaque(_D6),
                _opaque(_D7),
            )

        return float32_constants

    def float64_constants(values):
        return (
            _opaque(_LOG2E),
            _opaque(0.5),
            _opaque(_LN2_HI),
            _opaque(_LN2_LO),
            _opaque(_TWO52_PLUS_BIAS),
            _opaque(_C0),
            _opaque(_C1),
            _opaque(_C2),
            _opaque(_C3),
            _opaque(_C4),
            _opaque(_C5),
            _opaque(_C6),
            _opaque(_C7),
            _opaque(_C8),
            _opaque(_C9),
            _opaque(_C10),
            _opaque(_C11),
            _opaque(_C12),
            _opaque(_C13),
        )

    return float64_constants


def _exp_parts_float64(x, constants):
    log2e, half, ln2_hi, ln2_lo, bias = constants[:5]
    c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13 = constants[5:]
    # n stays a float (np.floor, not math.floor, which gives an int64): converting
    # between float64 and int64 has no vector instruction before AVX-512, so an integer
    # n would make LLVM convert each lane in turn, one scalar instruction at a time.
    n = np.floor(fma(x, log2e, half))
    r = fma(-n, ln2_lo, x - n * ln2_hi)
    r2 = r * r
    r4 = r2 * r2
    low = fma(fma(c3, r, c2), r2, fma(c1, r, c0))
    mid = fma(fma(c7, r, c6), r2, fma(c5, r, c4))
    high = fma(fma(c11, r, c10), r2, fma(c9, r, c8))
    top = fma(c13, r, c12)
    return fma(fma(top, r4, high), r4 * r4, fma(mid, r4, low)), n + bias


def _exp_parts_float32(x, constants):
    log2e, half, ln2_hi, ln2_lo, bias, d0, d1, d2, d3, d4, d5, d6, d7 = constants
    # n stays a float (np.floor keeps float32): no integer conversion in the loop.
    n = np.floor(fma(x, log2e, half))
    r = fma(-n, ln2_lo, x - n * ln2_hi)
    r2 = r * r
    # 1 + (r + r**2 P(r)): the one rounding near 1 is the last addition. (d1 = 1.)
    low = fma(d3, r, d2)
    high = fma(fma(d7, r, d6), r2, fma(d5, r, d4))
    return d0 + fma(r2, fma(high, r2, low), r), n + bias


def exp_parts(x, constants):
    """``exp(x) = poly * 2**n`` for ``LOWEST <= x <= 0`` (``LOWEST_FLOAT32`` for a float32
    ``x``): returns ``poly`` and ``n + 2**52 + 1023`` (float32: ``n + 2**23 + 127``), of
    ``x``'s type, which :func:`power_of_two` turns into ``2**n``. ``constants`` are
    :func:`exp_constants` of the same type.

    Small enough for LLVM to inline into the caller's loop and vectorise it.
    """
    if isinstance(x, np.float32):
        return _exp_parts_float32(x, constants)
    return _exp_parts_float64(x, constants)


@by_type(exp_parts)
def _exp_parts_by_type(x, constants):
    return _exp_parts_float32 if x == types.float32 else _exp_parts_float64


def power_of_two(biased):
    """``2**n`` from the ``n + 2**52 + 1023`` (float32: ``n + 2**23 + 127``) of
    :func:`exp_parts`, by integer arithmetic on its bits: ``n + 1023`` (``n + 127``) is in
    its low mantissa bits, and shifted into the exponent field it is ``2**n``.

    Compiled, the bits are reinterpreted in registers (:func:`_power_of_two_bits`), so
    the caller's loop keeps ``exp`` whole in vector registers, with no scratch array and
    no second pass; exact, as the bits do not depend on the CPU.
    """
    if isinstance(biased, np.float32):
        bits32 = (np.float32(biased).view(np.int32) - _TWO23_BITS) << _EXPONENT_SHIFT_F32
        return bits32.view(np.float32)
    bits64 = (np.float64(biased).view(np.int64) - _TWO52_BITS) << _EXPONENT_SHIFT
    return bits64.view(np.float64)


@intrinsic
def _power_of_two_bits(typingctx, biased):
    """:func:`power_of_two` in LLVM IR: a bitcast to the integer of the same width, a
    subtraction and a shift, and a bitcast back (numba has no scalar bit reinterpretation,
    and an array view in a loop costs a store and a load per value)."""
    if biased not in (types.float64, types.float32):
        return None
    single = biased == types.float32
    width, offset, shift = (32, 0x4B000000, 23) if single else (64, 0x4330000000000000, 52)

    def codegen(context, builder, signature, args):
        integer = ir.IntType(width)
        bits = builder.bitcast(args[0], integer)
        bits = builder.shl(builder.sub(bits, integer(offset)), integer(shift))
        return builder.bitcast(bits, args[0].type)

    return biased(biased), codegen


@by_type(power_of_two)
def _power_of_two_by_type(biased):
    def power_of_two_bits(biased):
        return _power_of_two_bits(biased)

    return power_of_two_bits


@jit
def lowest(values):
    """:data:`LOWEST`, or :data:`LOWEST_FLOAT32` for float32 ``values``, of their type."""
    return values.dtype.type(LOWEST if values.itemsize == 8 else LOWEST_FLOAT32)


@jit
def exp_shifted(values, shift, total, m):
    """``values[:m] = exp(values[:m] - shift[:m])`` in place, and ``total[:m] += values[:m]``.

    Arguments must satisfy ``values <= shift`` (log-densities and their maximum); the
    shift and the running sum are folded in to save passes over the block. All arrays of
    one type, float64 or float32. One loop, which LLVM vectorises whole.
    """
    floor = lowest(values)
    zero = values.dtype.type(0.0)
    constants = exp_constants(values)
    for j in range(m):
        x = values[j] - shift[j]
        poly, biased = exp_parts(max(x, floor), constants)
        value = (poly if x > floor else zero) * power_of_two(biased)
        values[j] = value
        total[j] += value


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
