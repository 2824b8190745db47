"""Exact sums of floats: :class:`Moments`, the count, sum and sum of squares of a stream of
values in rational arithmetic, rounded once, so that values given in chunks, in any
cutting and any order, give the same bits as all of them at once."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np


class Moments:
    """The count, the sum and the sum of squares of a stream of values, exact (NaN values
    left out): their mean and standard deviation do not depend on how the stream is cut
    into chunks, nor on the order of its values, and are rounded once.

    Floats are sums of few exact terms: each value a 53-bit integer times a power of 2,
    each square three such products times a power of 2 (Veltkamp's split of the value's
    mantissa, exact for every finite value), added up as Python integers. A mean or a
    variance too large for a float is infinite; with an infinite value among the values,
    the mean is infinite (NaN for both signs) and the variance NaN, as ``np.mean`` and
    ``np.var`` give."""

    def __init__(self):
        self.n = 0
        self.sum = Fraction(0)
        self.sum_squares = Fraction(0)
        self.infinite = 0.0  # the sum of infinite values, which have no exact sum

    def add(self, values) -> Moments:
        x = np.asarray(values, dtype=np.float64).ravel()
        x = x[~np.isnan(x)]
        self.n += x.size
        finite = np.isfinite(x)
        if not finite.all():
            with np.errstate(invalid="ignore"):  # inf - inf: NaN, as np.mean gives
                self.infinite += float(np.sum(x[~finite]))
            x = x[finite]
        self.sum += exact_sum(x)
        self.sum_squares += exact_sum(*_square_terms(x))
        return self

    def mean(self) -> float:
        if self.n == 0:
            return math.nan
        return self.infinite if self.infinite else to_float(self.sum / self.n)

    def variance(self) -> float:
        """``ddof=1``; NaN for fewer than two values, or an infinite one."""
        if self.n < 2 or self.infinite:
            return math.nan
        return to_float((self.sum_squares - self.sum**2 / self.n) / (self.n - 1))

    def sd(self) -> float:
        return math.sqrt(self.variance())

    def mean_mcse(self) -> float:
        """``sd / sqrt(n)``, which is ``sqrt(sum (x - mean)^2 / (n (n-1)))``."""
        return self.sd() / math.sqrt(self.n) if self.n > 1 else math.nan


_SPLIT = 2.0**27 + 1


def _square_terms(x) -> tuple[np.ndarray, np.ndarray]:
    """Floats and powers of 2 whose products add up to ``x**2`` exactly: ``x = m 2**e`` with
    ``m`` in [0.5, 1), and ``m = hi + lo`` with halves of at most 26 bits (Veltkamp), whose
    products are exact in float64. Squaring ``m`` rather than ``x`` neither overflows (above
    about 1e154) nor underflows (below about 1e-145)."""
    m, e = np.frexp(x)
    scaled = _SPLIT * m
    hi = scaled - (scaled - m)
    lo = m - hi
    return np.concatenate([hi * hi, 2.0 * hi * lo, lo * lo]), np.tile(2 * e, 3)


def to_float(value: Fraction) -> float:
    """``value`` rounded to a float, infinite when it is too large for one."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


_EXACT_BLOCK = 2**25
"""Values added at a time by :func:`exact_sum`: sums of that many 27-bit integers stay
below 2**52, exact in float64."""


def exact_sum(x, powers=None) -> Fraction:
    """The exact sum of finite float64 values, each times ``2**powers`` if given (integers of
    the same shape): each is a 53-bit integer times a power of 2; the integers of each power
    are added in halves of 27 bits (by ``np.bincount``, whose float64 sums of them are
    exact), and the powers' totals as Python integers."""
    total = Fraction(0)
    for start in range(0, x.size, _EXACT_BLOCK):
        mantissa, exponent = np.frexp(x[start : start + _EXACT_BLOCK])
        if powers is not None:
            exponent = exponent + powers[start : start + _EXACT_BLOCK]
        integers = (mantissa * 2.0**53).astype(np.int64)
        lowest = int(exponent.min())
        where = exponent - lowest
        high = np.bincount(where, weights=(integers >> 27).astype(np.float64))
        low = np.bincount(where, weights=(integers & (2**27 - 1)).astype(np.float64))
        block = 0
        for power in np.flatnonzero((high != 0) | (low != 0)):
            block += ((int(high[power]) << 27) + int(low[power])) << int(power)
        total += Fraction(block) * Fraction(2) ** (lowest - 53)
    return total
