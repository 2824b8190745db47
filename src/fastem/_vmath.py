"""``exp`` over a block of values, in a loop LLVM vectorises.

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
within 4.4e-16 relative of the correctly rounded ``exp`` down to ``x = -708``; below that
(``exp(x) < 3.3e-308``, including ``x = -inf``) it returns exactly 0. ``test_vmath.py``
checks the whole range.
"""

from __future__ import annotations

import math

import numpy as np

from ._jit import jit

LOWEST = -708.0
"""Below this, exp returns 0: ``2**n`` would be subnormal."""

_LOG2E = 1.4426950408889634
_LN2_HI = 0.693145751953125  # few mantissa bits: n * _LN2_HI is exact for |n| < 2**11
_LN2_LO = 1.42860682030941723212e-6
_TWO52_PLUS_BIAS = 4503599627370496.0 + 1023.0
_TWO52_BITS = np.int64(0x4330000000000000)
_EXPONENT_SHIFT = np.int64(52)
_C = [1.0 / math.factorial(i) for i in range(14)]
_C0, _C1, _C2, _C3, _C4, _C5, _C6, _C7, _C8, _C9, _C10, _C11, _C12, _C13 = _C


@jit(strict=True)
def exp_parts(x):
    """``exp(x) = poly * 2**n`` for ``LOWEST <= x <= 0``: returns ``poly`` and
    ``n + 2**52 + 1023``, which :func:`powers_of_two` turns into ``2**n``.

    Small enough for LLVM to inline into the caller's loop and vectorise it; compiled
    without reassociation, which would undo the range reduction.
    """
    n = math.floor(x * _LOG2E + 0.5)
    r = (x - n * _LN2_HI) - n * _LN2_LO
    r2 = r * r
    r4 = r2 * r2
    low = (_C0 + _C1 * r) + (_C2 + _C3 * r) * r2
    mid = (_C4 + _C5 * r) + (_C6 + _C7 * r) * r2
    high = (_C8 + _C9 * r) + (_C10 + _C11 * r) * r2
    top = _C12 + _C13 * r
    return (low + mid * r4) + (high + top * r4) * (r4 * r4), n + _TWO52_PLUS_BIAS


@jit(strict=True)
def powers_of_two(biased, m):
    """``biased[:m]`` from :func:`exp_parts` becomes ``2**n``, in place, by bit shifts."""
    bits = biased.view(np.int64)
    for j in range(m):
        bits[j] = (bits[j] - _TWO52_BITS) << _EXPONENT_SHIFT


@jit
def exp_shifted(values, shift, total, m, biased):
    """``values[:m] = exp(values[:m] - shift[:m])`` in place, and ``total[:m] += values[:m]``.

    Arguments must satisfy ``values <= shift`` (log-densities and their maximum); the
    shift and the running sum are folded in to save passes over the block. ``biased``
    is scratch of at least ``m`` entries.
    """
    for j in range(m):
        x = values[j] - shift[j]
        keep = x > LOWEST
        poly, biased[j] = exp_parts(max(x, LOWEST))
        values[j] = poly if keep else 0.0
    powers_of_two(biased, m)
    for j in range(m):
        values[j] *= biased[j]
        total[j] += values[j]
