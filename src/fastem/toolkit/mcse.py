"""Monte Carlo standard errors of a simulation study's performance measures, and how many
replications a target MCSE needs.

The formulas are those of Morris, White & Crowther (2019), "Using simulation studies to
evaluate statistical methods", Statistics in Medicine 38:2074-2102, Table 6 and section
5.3, as R's rsimsum implements them (``R/performance.R``). For ``n`` replications with
estimates ``theta_i`` of the true value ``theta``, their mean ``m`` and ``e_i = theta_i -
theta``:

=============  =============================  ==========================================
measure        estimate                       Monte Carlo standard error
=============  =============================  ==========================================
bias           ``mean(e_i)``                  ``sqrt(sum (theta_i - m)^2 / (n (n-1)))``
empirical SE   ``sqrt(sum (theta_i - m)^2     ``EmpSE / sqrt(2 (n-1))``
               / (n-1))``
MSE            ``mean(e_i^2)``                ``sqrt(sum (e_i^2 - MSE)^2 / (n (n-1)))``
RMSE           ``sqrt(MSE)``                  ``MCSE(MSE) / (2 RMSE)`` (delta method)
proportion     ``p``                          ``sqrt(p (1-p) / n)``
coverage       ``mean(|e_i| <= z se_i)``       ``sqrt(cover (1-cover) / n)``
ModSE          ``sqrt(mean(se_i^2))``
relative %     ``100 (ModSE / EmpSE - 1)``     ``100 (ModSE / EmpSE) sqrt(Var(se_i^2)
error in                                      / (4 n ModSE^4) + 1 / (2 (n-1)))``
ModSE
=============  =============================  ==========================================

For coverage, ``z`` is the standard normal quantile of the interval's level (1.96 for
95%), and replications with a NaN estimate or standard error are left out.

Missing estimates (NaN) are left out, and ``n`` counts the others, as rsimsum does with
``na.rm = TRUE``. The EmpSE's MCSE assumes normally distributed estimates (Morris et
al.); the others do not.

Every measure is computed from exact sums (:class:`Moments`: the count, and the sums of
the values and of their squares, in rational arithmetic, rounded once at the end), so
that replications given in chunks, in any cutting and any order, give the same bits as
all of them at once: a study keeps these sums per cell, not its replications.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from fractions import Fraction
from statistics import NormalDist

import numpy as np


@dataclass(frozen=True)
class Performance:
    """The performance measures of one estimator (one parameter) and their MCSEs."""

    bias: float
    bias_mcse: float
    empse: float
    empse_mcse: float
    mse: float
    mse_mcse: float
    rmse: float
    rmse_mcse: float


def performance(estimates, true: float) -> Performance:
    """Bias, empirical SE, MSE and RMSE of ``estimates`` of ``true``, each with its Monte
    Carlo standard error (the formulas are in the module's docstring).

    Parameters
    ----------
    estimates : array of shape (n_replications,)
        One estimate per replication; NaN ones are left out.
    true : float
        The value estimated.

    Returns
    -------
    Performance
        NaN where fewer than two estimates leave a measure or its MCSE undefined.
    """
    return PerformanceSums(true).add(estimates).result()


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
        self.sum += _exact_sum(x)
        self.sum_squares += _exact_sum(*_square_terms(x))
        return self

    def mean(self) -> float:
        if self.n == 0:
            return math.nan
        return self.infinite if self.infinite else _float(self.sum / self.n)

    def variance(self) -> float:
        """``ddof=1``; NaN for fewer than two values, or an infinite one."""
        if self.n < 2 or self.infinite:
            return math.nan
        return _float((self.sum_squares - self.sum**2 / self.n) / (self.n - 1))

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


def _float(value: Fraction) -> float:
    """``value`` rounded to a float, infinite when it is too large for one."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


_EXACT_BLOCK = 2**25
"""Values added at a time by :func:`_exact_sum`: sums of that many 27-bit integers stay
below 2**52, exact in float64."""


def _exact_sum(x, powers=None) -> Fraction:
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


class PerformanceSums:
    """:func:`performance` of estimates given a chunk at a time (:meth:`add`), from the
    exact sums of the estimates, of their errors and of the squared errors."""

    def __init__(self, true: float):
        self.true = float(true)
        self.estimates, self.errors, self.squared_errors = Moments(), Moments(), Moments()

    def add(self, estimates) -> PerformanceSums:
        theta = _present(estimates)
        error = theta - self.true
        self.estimates.add(theta)
        self.errors.add(error)
        self.squared_errors.add(error**2)
        return self

    def result(self) -> Performance:
        n = self.estimates.n
        mse = self.squared_errors.mean()
        rmse = math.sqrt(mse)
        mse_mcse = self.squared_errors.mean_mcse()
        empse = self.estimates.sd() if n > 1 else math.nan
        # An RMSE of 0 (every estimate exact) has an MCSE of 0, not 0/0.
        rmse_mcse = mse_mcse / (2 * rmse) if rmse > 0 else mse_mcse
        return Performance(
            bias=self.errors.mean(),
            bias_mcse=self.estimates.mean_mcse(),
            empse=empse,
            empse_mcse=empse / math.sqrt(2 * (n - 1)) if n > 1 else math.nan,
            mse=mse,
            mse_mcse=mse_mcse,
            rmse=rmse,
            rmse_mcse=rmse_mcse,
        )


@dataclass(frozen=True)
class StandardErrorPerformance:
    """How well model-based standard errors describe an estimator, with MCSEs: the
    coverage of Wald intervals ``estimate +- z se`` and the relative % error of the
    average model SE against the empirical SE."""

    coverage: float
    coverage_mcse: float
    modse: float
    relerror: float
    relerror_mcse: float


def standard_error_performance(
    estimates, standard_errors, true: float, level: float = 0.95
) -> StandardErrorPerformance:
    """Coverage and relative error of model standard errors (the formulas are in the
    module's docstring; Morris et al. 2019, Table 6, as rsimsum's ``cover`` and
    ``relerror``).

    Parameters
    ----------
    estimates, standard_errors : arrays of shape (n_replications,)
        One estimate and its standard error per replication; replications where either
        is NaN are left out.
    true : float
        The value estimated.
    level : float, default 0.95
        The intervals' nominal coverage.
    """
    return StandardErrorSums(true, level).add(estimates, standard_errors).result()


class StandardErrorSums:
    """:func:`standard_error_performance` of estimates and standard errors given a chunk
    at a time (:meth:`add`), from the count of intervals that cover and exact sums."""

    def __init__(self, true: float, level: float = 0.95):
        self.true = float(true)
        self.z = NormalDist().inv_cdf((1 + level) / 2)
        self.covered = 0
        self.estimates, self.variances = Moments(), Moments()

    def add(self, estimates, standard_errors) -> StandardErrorSums:
        theta = np.asarray(estimates, dtype=np.float64).ravel()
        se = np.asarray(standard_errors, dtype=np.float64).ravel()
        present = ~(np.isnan(theta) | np.isnan(se))
        theta, se = theta[present], se[present]
        self.covered += int(np.sum(np.abs(theta - self.true) <= self.z * se))
        self.estimates.add(theta)
        self.variances.add(se**2)
        return self

    def result(self) -> StandardErrorPerformance:
        n = self.estimates.n
        if n < 2:
            return StandardErrorPerformance(*(math.nan,) * 5)
        coverage = self.covered / n
        modse = math.sqrt(self.variances.mean())
        empse = self.estimates.sd()
        ratio = modse / empse if empse > 0 else math.nan
        relerror_mcse = (
            100
            * ratio
            * math.sqrt(self.variances.variance() / (4 * n * modse**4) + 1 / (2 * (n - 1)))
            if modse > 0
            else math.nan
        )
        return StandardErrorPerformance(
            coverage=coverage,
            coverage_mcse=float(proportion_mcse(coverage, n)),
            modse=modse,
            relerror=100 * (ratio - 1),
            relerror_mcse=relerror_mcse,
        )


def proportion_mcse(p, n):
    """``sqrt(p (1 - p) / n)``: the MCSE of a proportion ``p`` of ``n`` independent
    replications (coverage, power, the share of spurious fits)."""
    return np.sqrt(np.asarray(p, dtype=np.float64) * (1 - np.asarray(p)) / n)


def clustered_mean_mcse(values) -> float:
    """The MCSE of the mean of ``values`` (n_replications, m) taken over all its elements,
    where the ``m`` values of one replication (the restarts of one dataset) are not
    independent but replications are.

    Each replication's mean is one replicate: the MCSE is
    ``sqrt(sum_d (s_d - s)^2) / n``, with ``s_d`` the mean of replication ``d`` and ``s``
    their mean (which, with ``m`` the same for all, is the mean of all the values). For
    0/1 values and ``m = 1`` it is :func:`proportion_mcse`, ``sqrt(p (1 - p) / n)``.
    """
    return ClusteredMean().add(values).mcse()


class ClusteredMean:
    """The mean of values (n_replications, m) over all of them, and
    :func:`clustered_mean_mcse`, with replications given a chunk at a time (:meth:`add`),
    from the exact sums of each replication's total (its share times ``m``)."""

    def __init__(self):
        self.m = None
        self.totals = Moments()

    def add(self, values) -> ClusteredMean:
        rows = np.asarray(values, dtype=np.float64).reshape(len(values), -1)
        self.m = rows.shape[1]
        self.totals.add(rows.sum(axis=1))
        return self

    def mean(self) -> float:
        return _float(self.totals.sum / (self.totals.n * self.m)) if self.totals.n else math.nan

    def mcse(self) -> float:
        n = self.totals.n
        if n == 0:
            return math.nan
        if n == 1:
            return 0.0
        # sum_d (s_d - s)^2 with s_d = total_d / m: the totals' squared deviations / m^2.
        squares = (self.totals.sum_squares - self.totals.sum**2 / n) / self.m**2
        return math.sqrt(_float(squares)) / n


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


MAX_REPLICATIONS = float(2**63 - 1)
"""The most replications :func:`plan_replications` returns: a study's counts are int64."""


def plan_replications(target_mcse, *, proportion=None, sd=None) -> int:
    """How many replications give a Monte Carlo standard error of at most
    ``target_mcse`` (Morris et al. 2019, section 5.3).

    Give one of:

    - ``proportion``: the expected proportion ``p`` (coverage, convergence, spurious
      fits); ``n = p (1 - p) / target_mcse^2``. Its largest, for an unknown proportion,
      is at ``p = 0.5``: ``n = 0.25 / target_mcse^2`` (2,500 replications for an MCSE of
      0.01).
    - ``sd``: the standard deviation of the estimates across replications (their
      empirical SE, from a pilot study: a study's ``{parameter}_{k}_empse`` column), for
      the MCSE of a bias or a mean; ``n = sd^2 / target_mcse^2``.

    Parameters
    ----------
    target_mcse : float
        The MCSE wanted, in the units of the measure (a share for a proportion).
    proportion : float, optional
        Strictly between 0 and 1.
    sd : float, optional
        Positive.

    Returns
    -------
    int
        The smallest whole number of replications at least the formula's (at least 1);
        ValueError when that is more than ``MAX_REPLICATIONS`` (2**63 - 1).

    Examples
    --------
    >>> plan_replications(0.005, proportion=0.95)
    1900
    >>> plan_replications(0.01, sd=0.4)
    1600
    """
    target = _positive("target_mcse", target_mcse)
    if (proportion is None) == (sd is None):
        raise TypeError(
            "plan_replications needs one of proportion= (e.g. 0.5, the worst case "
            "for an unknown proportion) and sd= (a pilot study's empirical SE of "
            f"the estimates), got {'both' if proportion is not None else 'neither'}."
        )
    if proportion is not None:
        p = _number("proportion", proportion)
        if not 0 < p < 1:
            raise ValueError(
                f"proportion must be strictly between 0 and 1, got {p}; for an "
                "unknown proportion give 0.5, the worst case."
            )
        variance = p * (1 - p)
    else:
        variance = _positive("sd", sd) ** 2
    # The ratio first: target**2 underflows to 0 for a target below 1e-162.
    ratio = math.sqrt(variance) / target
    n = ratio * ratio
    if n > MAX_REPLICATIONS:
        count = f"{n:.3g}" if n < math.inf else "more than 1e308"
        raise ValueError(
            f"target_mcse={target:g} needs {count} replications, more than any "
            f"study can run ({MAX_REPLICATIONS:.3g}); ask for a larger "
            "target_mcse."
        )
    # Rounding error must not add a replication: 0.16 / 0.01**2 is 1600.0000000000002.
    # Twelve significant digits drop it at any size, where a relative margin would take
    # whole replications off a count of 1e18.
    return max(1, math.ceil(float(f"{n:.12g}")))


def _present(estimates) -> np.ndarray:
    theta = np.asarray(estimates, dtype=np.float64).ravel()
    return theta[~np.isnan(theta)]


def _number(name: str, value) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r} of type {type(value).__name__}.")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}.")
    return float(value)


def _positive(name: str, value) -> float:
    value = _number(name, value)
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {value}.")
    return value
