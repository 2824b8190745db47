"""Monte Carlo standard errors of a simulation study's performance measures, and how many
replications a target MCSE needs.

The formulas are those of Morris, White & Crowther (2019), "Using simulation studies to
evaluate statistical methods", Statistics in Medicine 38:2074-2102, Table 6 and section
5.3, as R's rsimsum implements them (``R/performance.R``). For ``n`` replications with
estimates ``theta_i`` of the true value ``theta``, their mean ``m`` and ``e_i = theta_i -
theta``:

=========================  =============================  =========================================
measure                    estimate                       Monte Carlo standard error
=========================  =============================  =========================================
bias                       ``mean(e_i)``                  ``sqrt(sum (theta_i - m)^2 / (n (n-1)))``
empirical SE               ``sqrt(sum (theta_i - m)^2     ``EmpSE / sqrt(2 (n-1))``
                           / (n-1))``
MSE                        ``mean(e_i^2)``                ``sqrt(sum (e_i^2 - MSE)^2 / (n (n-1)))``
RMSE                       ``sqrt(MSE)``                  ``MCSE(MSE) / (2 RMSE)`` (delta method)
proportion                 ``p``                          ``sqrt(p (1-p) / n)``
coverage                   ``mean(|e_i| <= z se_i)``      ``sqrt(cover (1-cover) / n)``
ModSE                      ``sqrt(mean(se_i^2))``
relative % error in ModSE  ``100 (ModSE / EmpSE - 1)``    ``100 (ModSE / EmpSE)
                                                          sqrt(Var(se_i^2) / (4 n ModSE^4)
                                                          + 1 / (2 (n-1)))``
=========================  =============================  =========================================

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
from statistics import NormalDist

import numpy as np

from .exact_sums import Moments, to_float
from .mcse_bootstrap import (
    ResampledCounts,
    bootstrap_mcse,
    percentile_of_counts,
    poisson_weights,
)

__all__ = [
    "MAX_REPLICATIONS",
    "ClusteredMean",
    "Moments",
    "Performance",
    "PerformanceSums",
    "ResampledCounts",
    "StandardErrorPerformance",
    "StandardErrorSums",
    "bootstrap_mcse",
    "clustered_mean_mcse",
    "percentile_of_counts",
    "performance",
    "plan_replications",
    "poisson_weights",
    "proportion_mcse",
    "standard_error_performance",
]
"""The public names of ``fastem.mcse``, the exact sums (:mod:`.exact_sums`) and the
bootstrap MCSEs (:mod:`.mcse_bootstrap`) among them, kept importable from here."""


@dataclass(frozen=True)
class Performance:
    """The performance measures of one estimator (one parameter) and their MCSEs."""

    bias: float  #: The mean error, ``mean(e_i)``.
    bias_mcse: float  #: The bias's MCSE.
    empse: float  #: The empirical SE, the standard deviation of the estimates.
    empse_mcse: float  #: The empirical SE's MCSE (for normally distributed estimates).
    mse: float  #: The mean squared error.
    mse_mcse: float  #: The MSE's MCSE.
    rmse: float  #: The root mean squared error.
    rmse_mcse: float  #: The RMSE's MCSE (delta method).


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


class PerformanceSums:
    """:func:`performance` of estimates given a chunk at a time (:meth:`add`), from the
    exact sums of the estimates, of their errors and of the squared errors."""

    def __init__(self, true: float):
        self.true = float(true)
        self.estimates, self.errors, self.squared_errors = Moments(), Moments(), Moments()

    def add(self, estimates) -> PerformanceSums:
        """Add a chunk of estimates (NaN ones are left out); returns ``self``."""
        theta = _present(estimates)
        error = theta - self.true
        self.estimates.add(theta)
        self.errors.add(error)
        self.squared_errors.add(error**2)
        return self

    def result(self) -> Performance:
        """The :class:`Performance` of every estimate added so far."""
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

    coverage: float  #: The share of intervals that hold the true value.
    coverage_mcse: float  #: The coverage's MCSE.
    modse: float  #: The average model SE, ``sqrt(mean(se_i^2))``.
    relerror: float  #: The relative % error of the model SE, ``100 (ModSE / EmpSE - 1)``.
    relerror_mcse: float  #: The relative error's MCSE.


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
        """Add a chunk of estimates and their standard errors (pairs with a NaN are left
        out); returns ``self``."""
        theta = np.asarray(estimates, dtype=np.float64).ravel()
        se = np.asarray(standard_errors, dtype=np.float64).ravel()
        present = ~(np.isnan(theta) | np.isnan(se))
        theta, se = theta[present], se[present]
        self.covered += int(np.sum(np.abs(theta - self.true) <= self.z * se))
        self.estimates.add(theta)
        self.variances.add(se**2)
        return self

    def result(self) -> StandardErrorPerformance:
        """The :class:`StandardErrorPerformance` of every pair added so far (NaN for
        fewer than two)."""
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
        """Add a chunk of replications, values of shape (n_replications, m); returns
        ``self``."""
        rows = np.asarray(values, dtype=np.float64).reshape(len(values), -1)
        self.m = rows.shape[1]
        self.totals.add(rows.sum(axis=1))
        return self

    def mean(self) -> float:
        """The mean of every value added so far (NaN before any)."""
        return to_float(self.totals.sum / (self.totals.n * self.m)) if self.totals.n else math.nan

    def mcse(self) -> float:
        """:func:`clustered_mean_mcse` of every replication added so far (NaN before any,
        0 after one)."""
        n = self.totals.n
        if n == 0:
            return math.nan
        if n == 1:
            return 0.0
        # sum_d (s_d - s)^2 with s_d = total_d / m: the totals' squared deviations / m^2.
        squares = (self.totals.sum_squares - self.totals.sum**2 / n) / self.m**2
        return math.sqrt(to_float(squares)) / n


MAX_REPLICATIONS = float(2**63 - 1)
"""The most replications :func:`fastem.plan_replications` returns: a study's counts are int64."""


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
    >>> fastem.plan_replications(0.005, proportion=0.95)
    1900
    >>> fastem.plan_replications(0.01, proportion=0.5)
    2500
    >>> fastem.plan_replications(0.01, sd=0.4)
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
