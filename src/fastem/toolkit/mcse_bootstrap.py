"""Bootstrap MCSEs: of any statistic by resampling whole replications, and of the
percentiles of whole-number values (iterations) by Poisson resamples drawn a chunk of
replications at a time, in memory that grows with the distinct values only."""

from __future__ import annotations

import math

import numpy as np


def bootstrap_mcse(values, statistic, n_boot: int, random_state):
    """The MCSE of ``statistic(values.ravel())`` by the bootstrap over replications: the
    standard deviation (``ddof=1``) of the statistic over ``n_boot`` resamples of the
    rows of ``values`` (n_replications, m), drawn with replacement, each row with all its
    ``m`` values. Deterministic given ``random_state`` (anything
    ``numpy.random.default_rng`` takes).

    For a median or a quantile, where the jackknife is inconsistent. The bootstrap's own
    error is about ``1 / sqrt(2 n_boot)`` of the MCSE (5% for 200 resamples). A
    ``statistic`` that returns an array (several quantiles) gets an MCSE of its shape,
    from the same resamples.
    """
    rows = np.asarray(values).reshape(len(values), -1)
    n = rows.shape[0]
    shape = np.shape(statistic(rows.ravel()))
    if n < 2:
        return np.full(shape, math.nan)[()]
    rng = np.random.default_rng(random_state)
    draws = np.empty((n_boot, *shape))
    for b in range(n_boot):
        draws[b] = statistic(rows[rng.integers(0, n, n)].ravel())
    return np.std(draws, axis=0, ddof=1)[()]


_POISSON_CDF = np.cumsum([math.exp(-1) / math.factorial(k) for k in range(20)])
"""The Poisson(1) distribution function at 0, 1, ..., 19 (the rest of its mass is below
1e-18, under a uniform draw's resolution)."""


def poisson_weights(key, first: int, count: int, n_boot: int) -> np.ndarray:
    """How many times replications ``first, ..., first + count - 1`` appear in each of
    ``n_boot`` resamples of the Poisson bootstrap: independent Poisson(1) counts, an int
    array of shape (n_boot, count).

    Replication ``i`` draws from its own stretch of a counter-based stream (Philox, keyed
    by ``key``, a sequence of integers), so a replication's counts do not depend on the
    chunk it comes in. With a resample of ``n`` replications drawn as multinomial counts,
    the ordinary bootstrap; independent Poisson(1) counts are its streaming form, the
    same to order ``1/n`` (Hanley & MacGibbon 2006; Chamandy et al. 2012)."""
    steps = -(-n_boot // 4)  # a Philox counter value gives four 64-bit numbers
    state = np.random.SeedSequence(key).generate_state(2, np.uint64)
    generator = np.random.Philox(key=state, counter=first * steps)
    raw = generator.random_raw(count * steps * 4).reshape(count, steps * 4)[:, :n_boot]
    uniform = (raw >> np.uint64(11)).astype(np.float64) * 2.0**-53
    return np.searchsorted(_POISSON_CDF, uniform, side="right").T


def percentile_of_counts(values, counts, q: float):
    """``np.percentile(a, q)`` (linear interpolation) of the array ``a`` holding each of the
    sorted ``values`` ``counts`` times, to the same bits, without the array; NaN when
    ``counts`` are all 0. ``counts`` of shape (n_values, m) give the percentiles of ``m``
    such arrays at once, an array of shape (m,)."""
    counts = np.asarray(counts, dtype=np.int64)
    ends = np.cumsum(counts.reshape(len(counts), -1), axis=0)
    n = ends[-1]
    virtual = (n - 1) * np.true_divide(q, 100)
    previous = np.floor(virtual)
    gamma = virtual - previous
    # The sorted positions previous and previous + 1 (the last at most), as searchsorted
    # with side="right" finds them in the cumulative counts.
    below = np.asarray(values, dtype=np.float64)[
        np.minimum((ends <= previous).sum(axis=0), len(ends) - 1)
    ]
    above = np.asarray(values, dtype=np.float64)[
        np.minimum((ends <= np.minimum(previous + 1, n - 1)).sum(axis=0), len(ends) - 1)
    ]
    difference = above - below
    with np.errstate(invalid="ignore"):
        # As NumPy's _lerp: from the upper value for gamma >= 0.5, exact at gamma = 1.
        result = np.where(
            gamma >= 0.5, above - difference * (1 - gamma), below + difference * gamma
        )
    result = np.where(n > 0, result, np.nan)
    return float(result[0]) if counts.ndim == 1 else result


class ResampledCounts:
    """Counts of the whole-number values (iterations, say) of replications given a chunk
    at a time, each with the same number of values, and the counts of the same values in
    ``n_boot`` Poisson resamples of the replications (:func:`poisson_weights`): the
    percentiles of all the values (:meth:`percentile`), and their bootstrap MCSE
    (:meth:`percentile_mcse`), in memory that grows with the distinct values only.

    Several ResampledCounts with the same ``key`` resample the replications alike."""

    def __init__(self, n_boot: int, key):
        self.n_boot, self.key = n_boot, key
        self.n = 0
        self.counts: dict = {}
        self.resampled: dict = {}

    def add(self, rows, first: int, weights=None) -> ResampledCounts:
        """Replications ``first, first + 1, ...``, one row of values each; ``weights``
        (:func:`poisson_weights` of these replications) when already drawn."""
        rows = np.asarray(rows, dtype=np.int64).reshape(len(rows), -1)
        count = rows.shape[0]
        if weights is None:
            weights = poisson_weights(self.key, first, count, self.n_boot)
        values, where = np.unique(rows, return_inverse=True)
        cell = np.repeat(np.arange(count), rows.shape[1]) * values.size + where.ravel()
        per_row = np.bincount(cell, minlength=count * values.size).reshape(count, values.size)
        # In float64, where BLAS multiplies: sums of whole numbers below 2**53 are exact.
        resampled = (weights.astype(np.float64) @ per_row.astype(np.float64)).astype(np.int64)
        totals = per_row.sum(axis=0)
        for j, value in enumerate(values.tolist()):
            self.counts[value] = self.counts.get(value, 0) + int(totals[j])
            if value in self.resampled:
                self.resampled[value] += resampled[:, j]
            else:
                self.resampled[value] = resampled[:, j].copy()
        self.n += count
        return self

    def percentile(self, q: float) -> float:
        """The ``q``-th percentile (0 to 100) of every value added so far."""
        values = sorted(self.counts)
        return percentile_of_counts(values, [self.counts[v] for v in values], q)

    def resampled_percentiles(self, q: float) -> np.ndarray:
        """The percentile in each resample (NaN for a resample that drew no replication)."""
        values = sorted(self.resampled)
        return percentile_of_counts(values, np.array([self.resampled[v] for v in values]), q)

    def percentile_mcse(self, q: float) -> float:
        """The standard deviation (``ddof=1``) of the percentile over the resamples; NaN
        for fewer than two replications."""
        if self.n < 2:
            return math.nan
        draws = self.resampled_percentiles(q)
        return float(np.std(draws[np.isfinite(draws)], ddof=1))
