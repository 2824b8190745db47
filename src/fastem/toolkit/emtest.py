"""The EM-test for the order of a normal mixture (Chen & Li 2009; Chen, Li & Fu 2012), as
MixtureInf's ``emtest.norm`` computes it, for many datasets in one call: no bootstrap,
a p-value from the statistic's chi-square limit."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from .. import batch as _batch
from .. import checks as _validate
from ..engine import emtest as _kernels
from ..engine import layout as _layout
from ..result import FitResult, squeeze

BETAS = (0.1, 0.3, 0.5)
"""The grid of each null component's split proportion beta (MixtureInf's)."""
PENALTY_BETA = 1.0
"""MixtureInf's ``C`` of the penalty ``C log(1 - |1 - 2 beta|)`` on the splits."""
NULL_TOL = 1e-12
"""The penalised null fit stops when its parameters (in standard units) move by less than
this (``stop="parameter"`` of :func:`fastem.fit`): a true maximum in every digit."""


@dataclass(frozen=True)
class EMTestResult:
    """The EM-test of ``H0: m = m0`` against ``m = 2 m0`` for each dataset.

    Attributes
    ----------
    statistic, p_value : ndarray of shape (n_datasets,)
        ``EM_n^{(k)} = 2 (pl(alternative) - l(null))`` and its p-value from the limit
        ``chi2_{2 m0}`` (Chen, Li & Fu 2012, Theorem 2), 1 for a statistic <= 0.
    null_weights, null_means, null_variances : ndarray of shape (n_datasets, m0)
        The penalised fit of ``m0`` components, in the data's units, components by mean.
    null_log_likelihood, null_penalized_log_likelihood : ndarray of shape (n_datasets,)
        Its log-likelihood (the statistic's) and its penalised log-likelihood.
    weights, means, variances : ndarray of shape (n_datasets, 2 m0)
        The alternative of the largest penalised log-likelihood over the betas, after ``k``
        EM-test iterations: the two halves of null component ``h`` are ``2h, 2h + 1``.
    beta : ndarray of shape (n_datasets, m0)
        Its split proportions after the ``k`` iterations.
    penalty_variance : ndarray of shape (n_datasets,)
        The constant of the alternative's variance penalty (a function of the null fit
        for ``m0`` = 2 or 3).
    null_fit : FitResult
        The null fit, :func:`fastem.fit`'s with ``penalty="ctz"``.
    m0, k, penalty_beta, n_starts, start_iter, tol, max_iter, random_state
        The settings, per batch.
    """

    statistic: np.ndarray
    p_value: np.ndarray
    null_weights: np.ndarray
    null_means: np.ndarray
    null_variances: np.ndarray
    null_log_likelihood: np.ndarray
    null_penalized_log_likelihood: np.ndarray
    weights: np.ndarray
    means: np.ndarray
    variances: np.ndarray
    beta: np.ndarray
    penalty_variance: np.ndarray
    null_fit: FitResult
    m0: int
    k: int
    penalty_beta: float
    n_starts: int
    start_iter: int
    tol: float
    max_iter: int
    random_state: int

    def rejected(self, level: float = 0.05) -> np.ndarray:
        """Whether each dataset's test rejects ``m = m0`` at ``level``."""
        return np.asarray(self.p_value) <= _validate.check_level(level)


_SETTINGS = ("m0", "k", "penalty_beta", "n_starts", "start_iter", "tol", "max_iter", "random_state")


def emtest(
    data,
    m0: int = 1,
    *,
    k: int = 3,
    penalty_beta: float = PENALTY_BETA,
    penalty_variance: float | None = None,
    n_starts: int = 10,
    start_iter: int = 50,
    tol: float = 1e-6,
    max_iter: int = 2000,
    random_state: int = 0,
) -> EMTestResult:
    """EM-test of the order ``m0`` of a normal mixture (unequal variances) against ``2 m0``.

    For each dataset: the penalised maximum likelihood fit of ``m0`` components,
    :func:`fastem.fit` with ``penalty="ctz"`` (the variance penalty of Chen, Tan & Zhang
    2008 with ``a_n = n^{-1/2}`` and ``s^2`` the sample variance, divisor ``n - 1``), run
    until its parameters settle; then for each vector of split proportions ``beta`` in
    ``{0.1, 0.3, 0.5}^m0``, the penalised fit of the ``2 m0`` component alternative with the
    betas fixed (from ``n_starts`` random starts of ``start_iter`` iterations, the best
    continued until its penalised log-likelihood rises by ``tol`` or less, at most
    ``max_iter`` iterations), followed by ``k`` EM iterations that also move the betas
    under the penalty ``penalty_beta * log(1 - |1 - 2 beta|)``. The statistic is twice the
    largest penalised log-likelihood of the alternatives less the null fit's
    log-likelihood; its p-value is from its limit ``chi2_{2 m0}`` (Chen & Li 2009 for
    ``m0 = 1``, Chen, Li & Fu 2012). This is MixtureInf's ``emtest.norm`` with its
    defaults; :doc:`/guide/emtest` says where it differs.

    Parameters
    ----------
    data : array of shape (n_samples,) or (n_datasets, n_samples), or list of 1D arrays
        One dataset, one per row, or datasets of different lengths.
    m0 : int
        The order under the null hypothesis.
    k : int
        The EM-test iterations (MixtureInf's ``k``; Chen, Li & Fu use 1, 2 or 3).
    penalty_beta : float
        ``C`` of the penalty on the split proportions.
    penalty_variance : float or None
        The alternative's variance penalty constant; None takes MixtureInf's: 0.25 for
        ``m0 = 1``, its formulas of the null fit's overlap for ``m0`` = 2 and 3, and 0.2
        above.
    n_starts, start_iter, tol, max_iter : int, int, float, int
        The random starts of each alternative and its fit (MixtureInf's ``len``,
        ``niter``, ``tol`` and its limit of 2000 iterations).
    random_state : int
        Seed of the random starts (and of the null fit's search, for ``m0 >= 2``); a
        dataset's starts depend on its content, not its place in the batch.

    Returns
    -------
    EMTestResult
        Arrays per dataset; for one 1D dataset, without the dataset axis.

    Examples
    --------
    >>> import numpy as np, fastem
    >>> x = np.random.default_rng(1).normal(size=200)
    >>> result = fastem.emtest(x, m0=1)
    >>> bool(0 <= result.p_value <= 1), result.means.shape
    (True, (2,))
    """
    m0 = _validate.check_int("m0", m0, 1, 8)
    settings = dict(
        m0=m0,
        k=_validate.check_int("k", k, 1, 1000),
        penalty_beta=_validate.check_non_negative("penalty_beta", penalty_beta),
        n_starts=_validate.check_int("n_starts", n_starts, 1, 10_000),
        start_iter=_validate.check_int("start_iter", start_iter, 0, 1_000_000),
        tol=_validate.check_non_negative("tol", tol),
        max_iter=_validate.check_int("max_iter", max_iter, 0, 1_000_000),
        random_state=_validate.check_random_state(random_state),
    )
    batch = _batch.prepared_batch(data, None, 2 * m0)
    z = (batch.values - np.repeat(batch.center, batch.n_samples)) / np.repeat(
        batch.scale, batch.n_samples
    )
    null_fit, null = _null_fit(data, batch, m0, settings["random_state"])
    if penalty_variance is None:
        a = default_penalty_variance(null[0], null[1], null[2], batch.n_samples)
    else:
        a = np.full(
            batch.n_datasets, _validate.check_non_negative("penalty_variance", penalty_variance)
        )
    betas = np.array(list(itertools.product(BETAS, repeat=m0)))[:, ::-1]  # MixtureInf's order
    n_betas = betas.shape[0]
    pl = np.empty((batch.n_datasets, n_betas))
    params = np.empty((batch.n_datasets, n_betas, 3, 2 * m0))
    beta_out = np.empty((batch.n_datasets, n_betas, m0))
    counts = (settings["n_starts"], settings["start_iter"], settings["max_iter"], settings["k"])
    constants = np.stack([np.full(batch.n_datasets, settings["penalty_beta"]), a], axis=1)
    _kernels.alternatives(
        z, batch.offsets, null, betas, constants, counts, settings["tol"],
        settings["random_state"], batch.keys, pl, params, beta_out,
    )  # fmt: skip
    return _result(batch, null_fit, pl, params, beta_out, a, settings)


def _null_fit(data, batch, m0, seed):
    """The penalised null fit (:func:`fastem.fit` with ``penalty="ctz"``, run until its
    parameters settle) and its parameters in standard units, of shape (3, n_datasets,
    m0): weights, means, variances."""
    from ..api import fit

    null_fit = fit(
        data, m0, penalty="ctz", random_state=seed, stop="parameter", tol=NULL_TOL, warn=False
    )
    null = np.empty((3, batch.n_datasets, m0))
    null[0] = np.reshape(null_fit.weights, (-1, m0))
    null[1] = _layout.means_to_standard(
        batch.center, batch.scale, np.reshape(null_fit.means, (-1, m0))
    )
    null[2] = _layout.variances_to_standard(batch.scale, np.reshape(null_fit.variances, (-1, m0)))
    return null_fit, null


def _result(batch, null_fit, pl, params, beta_out, a, settings) -> EMTestResult:
    """The result in the data's units: the alternative of the largest penalised
    log-likelihood, the statistic and its p-value."""
    rows = np.arange(batch.n_datasets)
    best = np.argmax(pl, axis=1)
    m0 = settings["m0"]
    null_log_likelihood = np.reshape(null_fit.log_likelihood, -1)
    # The kernel's log-likelihoods are of the standardised data: those of the data in
    # their units are lower by n log(scale).
    alternative_pl = pl[rows, best] - batch.n_samples * np.log(batch.scale)
    statistic = 2.0 * (alternative_pl - null_log_likelihood)
    alternative = params[rows, best]
    center, scale = batch.center, batch.scale
    result = EMTestResult(
        statistic=statistic,
        p_value=chi2_sf(statistic, 2 * m0),
        null_weights=np.reshape(null_fit.weights, (-1, m0)),
        null_means=np.reshape(null_fit.means, (-1, m0)),
        null_variances=np.reshape(null_fit.variances, (-1, m0)),
        null_log_likelihood=null_log_likelihood,
        null_penalized_log_likelihood=np.reshape(null_fit.penalized_log_likelihood, -1),
        weights=alternative[:, 0],
        means=_layout.means_to_data(center, scale, alternative[:, 1]),
        variances=_layout.variances_to_data(scale, alternative[:, 2]),
        beta=beta_out[rows, best],
        penalty_variance=a,
        null_fit=null_fit,
        **settings,
    )
    return squeeze(result, keep=(*_SETTINGS, "null_fit")) if batch.single else result


def chi2_sf(x, df: int) -> np.ndarray:
    """The survival function of chi-square with an even ``df``, in closed form:
    ``exp(-x/2) sum_{j < df/2} (x/2)^j / j!``; 1 at ``x <= 0``."""
    half = np.maximum(np.asarray(x, dtype=float), 0.0) / 2.0
    term = np.exp(-half)
    total = term.copy()
    for j in range(1, df // 2):
        term = term * half / j
        total = total + term
    return np.minimum(total, 1.0)


# ----------------------------------------------------------------------------- penalty


def default_penalty_variance(weights, means, variances, n_samples) -> np.ndarray:
    """MixtureInf's constant of the alternative's variance penalty, per dataset: 0.25 for
    one null component, its logistic formulas of the null components' overlaps (``over2``,
    ``over3``: the average misclassification rates of neighbouring components) and ``n``
    for two and three, and 0.2 above. Arguments of shape (n_datasets, m0), any units."""
    m0 = weights.shape[1]
    if m0 == 1 or m0 > 3:
        return np.full(weights.shape[0], 0.25 if m0 == 1 else 0.2)
    result = np.empty(weights.shape[0])
    for d in range(weights.shape[0]):
        parameters = weights[d], means[d], variances[d]
        logits = [
            math.log(o / (1.0 - o)) for o in (_overlap(*parameters, h) for h in range(m0 - 1))
        ]
        n = float(n_samples[d])
        if m0 == 2:
            value = -1.859 - 0.577 * logits[0] - 60.453 / n
        else:
            value = -1.602 - 0.240 * logits[0] - 0.240 * logits[1] - 130.394 / n
        result[d] = 0.35 * math.exp(value) / (1.0 + math.exp(value))
    return result


def _overlap(weights, means, variances, h) -> float:
    """The average of the two misclassification rates of components ``h`` and ``h + 1``."""
    first = _misclassified(
        weights[h], means[h], variances[h], weights[h + 1], means[h + 1], variances[h + 1]
    )
    second = _misclassified(
        weights[h + 1], means[h + 1], variances[h + 1], weights[h], means[h], variances[h]
    )
    return 0.5 * (first + second)


def _misclassified(wi, mi, vi, wj, mj, vj) -> float:
    """The probability that a point of component ``i`` is classified to ``j`` by the larger
    weighted density (MixtureInf's ``over1``)."""
    si, sj = math.sqrt(vi), math.sqrt(vj)
    if si == sj:
        delta = abs(mi - mj) / si
        return _normal_cdf(-delta / 2.0 + math.log(wj / wi) / delta)
    ncp = (mi - mj) * si / (vi - vj)
    value = vj * (mi - mj) ** 2 / (vj - vi) ** 2 - vj / (vi - vj) * math.log(
        wi**2 * vj / (wj**2 * vi)
    )
    root = math.sqrt(max(value, 0.0))
    inside = _normal_cdf(root - ncp) - _normal_cdf(-root - ncp)
    return inside if si > sj else 1.0 - inside


def _normal_cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))
