"""The measures of a Monte Carlo study that need each replication's value, or several rows
of the table at once: quantiles of continuous measures with their MCSEs (:class:`Sample`,
:func:`quantile_mcse`), the likelihood-ratio statistic of each fitted number of components
against the next smaller one on the same datasets, and the time per fit with its MCSE
over chunks.

Why keep the values: a quantile of a continuous measure (the likelihood-ratio statistic,
a rate) has no exact streamed form, as the counts of whole numbers behind ``iter_median``
have (:class:`fastem.mcse.ResampledCounts`). One float per replication and row of the
table is kept, also with ``keep_replications=False``: 8 bytes a replication for each
continuous measure.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

from ..engine import run as _run
from ..engine.methods import CLASSIFICATION
from ..engine.status import Status

QUANTILES = (0.9, 0.95, 0.99)
"""The default quantiles of ``study(..., quantiles=...)``: the critical values of tests at
the 10%, 5% and 1% levels, as tables of null distributions report them."""


def quantile_column(measure: str, q: float) -> str:
    """``lr_p95``: the column of the ``q``-quantile (0 < q < 1) of ``measure``, named by its
    percentile as ``iter_p90`` is (``lr_p97.5`` for 0.975)."""
    return f"{measure}_p{100 * q:.10g}"


def check_quantiles(quantiles) -> tuple:
    """The quantiles of a study as a sorted tuple of distinct floats strictly between 0
    and 1; a ``ValueError`` or ``TypeError`` that says the fix otherwise."""
    values = [quantiles] if np.ndim(quantiles) == 0 else list(quantiles)
    checked = []
    for value in values:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
            raise TypeError(
                f"quantiles must be numbers strictly between 0 and 1, got {value!r}; "
                "e.g. quantiles=[0.9, 0.95, 0.99]."
            )
        if not 0 < float(value) < 1:
            raise ValueError(
                f"quantiles must be strictly between 0 and 1, got {value}; write the 95th "
                "percentile as 0.95."
            )
        checked.append(float(value))
    return tuple(sorted(set(checked)))


class Sample:
    """One value of a measure per replication (NaN where a replication has none, left out
    of every statistic), kept in the replications' order; its mean and standard deviation
    and its quantiles, each with its Monte Carlo standard error. Every statistic depends
    on the values only, not on how they were cut into chunks."""

    def __init__(self):
        self.parts: list = []

    def add(self, values) -> Sample:
        """The values of the next replications, in order."""
        self.parts.append(np.array(values, dtype=np.float64).ravel())
        return self

    def values(self) -> np.ndarray:
        """Every replication's value so far (NaN where it has none)."""
        return np.concatenate(self.parts) if self.parts else np.empty(0)

    def _present(self) -> np.ndarray:
        values = self.values()
        return values[~np.isnan(values)]

    def mean(self) -> float:
        """The mean (a correctly rounded sum, the same in any chunking); NaN without values."""
        x = self._present()
        return math.fsum(x) / x.size if x.size else math.nan

    def mean_mcse(self) -> float:
        """``sd / sqrt(n)``; NaN for fewer than two values."""
        n = self._present().size
        return self.sd() / math.sqrt(n) if n > 1 else math.nan

    def sd(self) -> float:
        """The standard deviation (``ddof=1``); NaN for fewer than two values."""
        x = self._present()
        if x.size < 2:
            return math.nan
        return math.sqrt(math.fsum((x - self.mean()) ** 2) / (x.size - 1))

    def sd_mcse(self) -> float:
        """The delta method's MCSE of the standard deviation ``s``, with no assumption of
        normality: ``sqrt(Var(s^2)) / (2 s)``, ``Var(s^2) = (m4 - (n - 3) / (n - 1) s^4) /
        n`` with ``m4`` the mean fourth power of the deviations (for normal values it is
        ``s / sqrt(2 (n - 1))``, the empirical SE's MCSE); NaN for fewer than four values
        or ``s = 0``."""
        x = self._present()
        n = x.size
        s = self.sd()
        if n < 4 or not s > 0:
            return math.nan
        m4 = math.fsum((x - self.mean()) ** 4) / n
        variance = max(0.0, (m4 - (n - 3) / (n - 1) * s**4) / n)
        return math.sqrt(variance) / (2 * s)

    def quantile(self, q: float) -> tuple[float, float]:
        """The ``q``-quantile (``np.quantile``'s linear interpolation) and its MCSE,
        :func:`quantile_mcse`."""
        x = self._present()
        if x.size == 0:
            return math.nan, math.nan
        return float(np.quantile(x, q)), quantile_mcse(x, q)


def quantile_mcse(values, q: float, level: float = 0.95) -> float:
    """The MCSE of the ``q``-quantile of ``values``, from the order statistics: its
    asymptotic standard deviation ``sqrt(q (1 - q) / n) / f(Q(q))``, with the density's
    reciprocal estimated by Siddiqui's difference quotient ``1 / f = (Q(q + h) - Q(q - h))
    / (2 h)`` of the sample quantiles ``Q`` and Hall and Sheather's bandwidth ``h = n^(-1/3)
    z^(2/3) (1.5 phi(Phi^-1(q))^2 / (2 Phi^-1(q)^2 + 1))^(1/3)``, ``z`` the normal
    quantile of ``(1 + level) / 2`` (as R's quantreg ``summary.rq(se = "iid")``). NaN
    for fewer than two values, or where ``q +- h`` leaves (0, 1): the sample is too small
    for that tail.

    Why not the bootstrap of ``iter_median``: it needs every replication's count in
    every resample (memory that grows with the replications), and its estimate of a
    quantile's variance converges slowly (relative error of order ``n^(-1/4)``, Hall and
    Martin 1988); this needs the sorted values only, and no random numbers."""
    x = np.asarray(values, dtype=np.float64)
    n = x.size
    if n < 2:
        return math.nan
    normal = NormalDist()
    z, u = normal.inv_cdf((1 + level) / 2), normal.inv_cdf(q)
    h = n ** (-1 / 3) * z ** (2 / 3) * (1.5 * normal.pdf(u) ** 2 / (2 * u**2 + 1)) ** (1 / 3)
    if not 0 < q - h < q + h < 1:
        return math.nan
    spread = float(np.quantile(x, q + h) - np.quantile(x, q - h)) / (2 * h)
    return math.sqrt(q * (1 - q) / n) * spread


def sample_columns(measure: str, sample: Sample, quantiles, moments: bool) -> dict:
    """The columns of ``sample``: with ``moments``, ``{measure}_mean`` and ``_sd``; then a
    quantile column (:func:`quantile_column`) for each of ``quantiles``; each followed by
    its ``_mcse``."""
    columns = {}
    if moments:
        columns[f"{measure}_mean"] = sample.mean()
        columns[f"{measure}_mean_mcse"] = sample.mean_mcse()
        columns[f"{measure}_sd"] = sample.sd()
        columns[f"{measure}_sd_mcse"] = sample.sd_mcse()
    for q in quantiles:
        name = quantile_column(measure, q)
        columns[name], columns[f"{name}_mcse"] = sample.quantile(q)
    return columns


def likelihood_ratios(outcome: dict, ks) -> dict:
    """``-2 log lambda = 2 (l_K - l_K')`` of each dataset of a chunk, for each fitted number
    of components ``K`` of ``ks`` but the smallest, against ``K'``, the next smaller one, by
    the same method on the same datasets: ``{key: array (n_datasets,)}``, keyed as
    ``outcome`` (``(K, init, algorithm, stop)``: FitResult first), NaN where either fit's
    log-likelihood is not finite."""
    ordered = sorted(ks)
    ratios = {}
    for key, (result, *_) in outcome.items():
        k = key[0]
        if k == ordered[0]:
            continue
        smaller = outcome[(ordered[ordered.index(k) - 1], *key[1:])][0]
        with np.errstate(invalid="ignore"):
            ratio = 2.0 * (result.log_likelihood - smaller.log_likelihood)
        ratios[key] = np.where(np.isfinite(ratio), ratio, np.nan)
    return ratios


class ChunkTimes:
    """The fitting time of a cell's chunks, and the time per fit with its MCSE: the ratio
    of the total time to the fits, whose MCSE treats the chunks as the replicates (the
    ratio estimator's standard error, ``sqrt(sum_c (t_c - r n_c)^2 / (C (C - 1))) /
    mean(n_c)`` for ``C`` chunks of ``n_c`` fits in ``t_c`` seconds); NaN with one chunk,
    where the fits ran as one batch and have no time of their own."""

    def __init__(self):
        self.seconds: list = []
        self.fits: list = []

    def add(self, seconds: float, n_fits: int) -> None:
        self.seconds.append(float(seconds))
        self.fits.append(int(n_fits))

    def per_fit(self) -> tuple[float, float]:
        """Milliseconds per fit and its MCSE."""
        t, n = np.array(self.seconds), np.array(self.fits, dtype=np.float64)
        if not n.sum():
            return math.nan, math.nan
        ratio = t.sum() / n.sum()
        if t.size < 2:
            return 1e3 * ratio, math.nan
        spread = np.sum((t - ratio * n) ** 2) / (t.size * (t.size - 1))
        return 1e3 * ratio, 1e3 * math.sqrt(spread) / n.mean()


def climbs(algorithm: str) -> bool:
    """Whether ``algorithm`` climbs the likelihood (EM and its accelerators), so that its
    fits' maxima are what ``at_best`` measures restarts against; CEM climbs the
    classification likelihood and SEM is a chain."""
    return _run.ALGORITHMS[algorithm][1] not in CLASSIFICATION


def best_regular(log_likelihoods, statuses) -> np.ndarray:
    """Per dataset, the highest of the methods' fits (rows of ``log_likelihoods`` with their
    ``statuses``), leaving out fits with a floored variance or not finite: a collapsed
    component's likelihood is unbounded, no maximum to reach (a spurious fit above the
    floor still counts, and is counted as spurious). NaN where none is left (``fmax``,
    unlike ``nanmax``, does not warn then)."""
    regular = np.asarray(statuses) < Status.VARIANCE_FLOORED
    return np.fmax.reduce(np.where(regular, log_likelihoods, np.nan), axis=0)
