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

Every multiply-add of the polynomial is an explicit :func:`.lanes.fma`, so the result is
the same on every CPU (see :mod:`.jit`).

The module also holds :func:`log`, the elementwise natural logarithm of the Python layer.
The kernels' other machine-independent arithmetic (:func:`.lanes.lane_sum` and its kin)
is in :mod:`.lanes`.
"""

from __future__ import annotations

import math

import numpy as np
from numba import types

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


def _exp_parts_float64(x):
    # n stays a float (np.floor, not math.floor, which gives an int64): converting
    # between float64 and int64 has no vector instruction before AVX-512, so an integer
    # n would make LLVM convert each lane in turn, one scalar instruction at a time.
    n = np.floor(fma(x, _LOG2E, 0.5))
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
