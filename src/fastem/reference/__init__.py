"""A plain NumPy implementation of EM for 1D Gaussian mixtures, written for reading.

This is the yardstick every fast path in fastem is tested against. It follows the
textbook equations one step at a time, in log space, and keeps the same conventions as
:func:`fastem.fit`: the same iteration count, stopping rule and variance regulariser.
It has none of the kernel's guards for degenerate data (collapsed or empty components).

E-step, for point ``i`` and component ``k``::

    log p_ik = log w_k - log(2 pi var_k) / 2 - (x_i - mu_k)^2 / (2 var_k)
    r_ik     = exp(log p_ik - logsumexp_k log p_ik)

M-step::

    n_k   = sum_i r_ik
    w_k   = n_k / sum_k n_k
    mu_k  = sum_i r_ik x_i / n_k
    var_k = sum_i r_ik (x_i - mu_k)^2 / n_k  (+ reg_variance)

With sample weights ``c_i``, every sum over points is weighted: ``n_k = sum_i c_i r_ik``
and so on. Fixed parameters keep their values; the variance of a component with a fixed
mean is taken around that mean; free weights share what fixed weights leave, in
proportion to ``n_k``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import logsumexp


def log_joint(
    x: ArrayLike, weights: np.ndarray, means: np.ndarray, variances: np.ndarray
) -> np.ndarray:
    """``log w_k + log N(x_i | mu_k, var_k)``, array of shape (n_samples, n_components)."""
    x = np.asarray(x, dtype=np.float64)[:, np.newaxis]
    return (
        np.log(weights) - 0.5 * np.log(2.0 * np.pi * variances) - 0.5 * (x - means) ** 2 / variances
    )


def e_step(
    x: ArrayLike, weights: np.ndarray, means: np.ndarray, variances: np.ndarray
) -> np.ndarray:
    """Responsibilities ``r_ik``, array of shape (n_samples, n_components)."""
    log_p = log_joint(x, weights, means, variances)
    return np.exp(log_p - logsumexp(log_p, axis=1, keepdims=True))


def log_likelihood(
    x: ArrayLike,
    weights: np.ndarray,
    means: np.ndarray,
    variances: np.ndarray,
    sample_weight: np.ndarray | None = None,
) -> float:
    """Total log-likelihood of the data under the mixture (weighted by ``sample_weight``)."""
    per_point = logsumexp(log_joint(x, weights, means, variances), axis=1)
    if sample_weight is not None:
        per_point = per_point * sample_weight
    return float(per_point.sum())


def m_step(
    x: ArrayLike,
    resp: np.ndarray,
    reg_variance: float = 0.0,
    equal_variance: bool = False,
    sample_weight: ArrayLike | None = None,
    fixed: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weights, means and variances maximising the expected log-likelihood.

    Parameters
    ----------
    x : array of shape (n_samples,)
        The data.
    resp : array of shape (n_samples, n_components)
        The responsibilities of the E-step, rows summing to 1.
    reg_variance : float
        Added to every free variance, in the units of ``x`` squared.
    equal_variance : bool
        Pool the variances into one shared by all components.
    sample_weight : array of shape (n_samples,), optional
        A weight per point, as if the point were repeated that many times.
    fixed : dict, optional
        ``{"weights": (mask, values), "means": ..., "variances": ...}``: the components
        marked in ``mask`` keep ``values``.

    Returns
    -------
    weights, means, variances : arrays of shape (n_components,)
        The parameters of the M-step.
    """
    x = np.asarray(x, dtype=np.float64)
    fixed = fixed or {}
    if sample_weight is not None:
        resp = resp * np.asarray(sample_weight, dtype=np.float64)[:, np.newaxis]
    n_k = resp.sum(axis=0)
    means = resp.T @ x / n_k
    if "means" in fixed:
        mask, values = fixed["means"]
        means = np.where(mask, values, means)
    variances = (resp * (x[:, np.newaxis] - means) ** 2).sum(axis=0) / n_k
    if equal_variance:
        variances = np.full_like(variances, (n_k * variances).sum() / n_k.sum())
    variances = variances + reg_variance
    if "variances" in fixed:
        mask, values = fixed["variances"]
        variances = np.where(mask, values, variances)
    weights = n_k / n_k.sum()
    if "weights" in fixed:
        mask, values = fixed["weights"]
        free = ~mask
        weights = values.copy()
        weights[free] = (1.0 - values[mask].sum()) * n_k[free] / n_k[free].sum()
    return weights, means, variances


def dataset_scale(x: ArrayLike, sample_weight: np.ndarray | None = None) -> float:
    """The scale ``reg_variance`` is relative to: the standard deviation of ``x``.

    With sample weights, the weighted one (points of weight 0 count as absent). A
    constant dataset has none; its magnitude (or 1 for zeros) stands in.
    """
    x = np.asarray(x, dtype=np.float64)
    if sample_weight is not None:
        x, sample_weight = x[sample_weight > 0], sample_weight[sample_weight > 0]
    if x.min() == x.max():
        return float(abs(x[0])) or 1.0
    mean = np.average(x, weights=sample_weight)
    return float(np.sqrt(np.average((x - mean) ** 2, weights=sample_weight)))


class ReferenceFit(NamedTuple):
    """Result of :func:`fit`."""

    #: The fitted weights, shape (n_components,).
    weights: np.ndarray
    #: The fitted means, shape (n_components,).
    means: np.ndarray
    #: The fitted variances, shape (n_components,).
    variances: np.ndarray
    #: The log-likelihood of the fitted parameters.
    log_likelihood: float
    #: The EM iterations run.
    n_iter: int
    #: Whether the change in mean log-likelihood per point fell below ``tol``.
    converged: bool
    #: ``trace[t]`` is the log-likelihood after ``t`` iterations (``t = 0``: the starting
    #: values).
    trace: np.ndarray


def fit(
    x: ArrayLike,
    weights_init: ArrayLike,
    means_init: ArrayLike,
    variances_init: ArrayLike,
    max_iter: int = 1000,
    tol: float = 1e-6,
    reg_variance: float = 0.0,
    equal_variance: bool = False,
    sample_weight: ArrayLike | None = None,
    fix_weights: ArrayLike | None = None,
    fix_means: ArrayLike | None = None,
    fix_variances: ArrayLike | None = None,
) -> ReferenceFit:
    """EM from the given starting values, with :func:`fastem.fit`'s conventions.

    Iteration ``t`` runs an E-step on the parameters after ``t - 1`` iterations and an
    M-step. The fit stops when the mean log-likelihood per point (per unit of sample
    weight) changed by less than ``tol`` between two iterations, or after ``max_iter``
    iterations. ``reg_variance`` is relative to the variance of ``x``, as in
    :func:`fastem.fit`; ``fix_*`` are boolean masks of the components whose parameters
    keep their starting values. The starting values, arrays of shape (n_components,),
    give the number of components.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = np.concatenate([rng.normal(-3, 1, 300), rng.normal(3, 1, 200)])
    >>> ref = fastem.reference.fit(x, [0.5, 0.5], [-1.0, 1.0], [1.0, 1.0])
    >>> np.round(ref.means, 1), bool(ref.converged), len(ref.trace) == ref.n_iter + 1
    (array([-3.,  3.]), True, True)

    :func:`fastem.fit` with the same start, EM and the same stopping rule reaches the same
    fit:

    >>> fast = fastem.fit(x, 2, weights_init=[0.5, 0.5], means_init=[-1.0, 1.0],
    ...                   variances_init=[1.0, 1.0], algorithm="em", stop="loglik")
    >>> bool(np.allclose(fast.means, ref.means, rtol=1e-6))
    True
    """
    x = np.asarray(x, dtype=np.float64)
    weights = np.array(weights_init, dtype=np.float64)
    means = np.array(means_init, dtype=np.float64)
    variances = np.array(variances_init, dtype=np.float64)
    assert weights.ndim == 1 and weights.shape == means.shape == variances.shape
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight, dtype=np.float64)
    fixed = {
        name: (np.asarray(mask, dtype=bool), start.copy())
        for name, mask, start in (
            ("weights", fix_weights, weights),
            ("means", fix_means, means),
            ("variances", fix_variances, variances),
        )
        if mask is not None and np.any(mask)
    }
    reg = reg_variance * dataset_scale(x, sample_weight) ** 2
    n = x.size if sample_weight is None else sample_weight.sum()
    trace = [log_likelihood(x, weights, means, variances, sample_weight)]
    previous = -np.inf
    converged = False
    for _ in range(max_iter):
        current = float(trace[-1] / n)
        resp = e_step(x, weights, means, variances)
        weights, means, variances = m_step(
            x, resp, reg, equal_variance, sample_weight=sample_weight, fixed=fixed
        )
        trace.append(log_likelihood(x, weights, means, variances, sample_weight))
        if abs(current - previous) < tol:
            converged = True
            break
        previous = current
    return ReferenceFit(
        weights, means, variances, trace[-1], len(trace) - 1, converged, np.array(trace)
    )


class ReferenceBatchFit(NamedTuple):
    """Result of :func:`fit_batch`: the fields of :class:`ReferenceFit` but ``trace``,
    with a leading (n_datasets,) axis."""

    #: The fitted weights, shape (n_datasets, n_components).
    weights: np.ndarray
    #: The fitted means, shape (n_datasets, n_components).
    means: np.ndarray
    #: The fitted variances, shape (n_datasets, n_components).
    variances: np.ndarray
    #: The log-likelihood of each dataset's fitted parameters.
    log_likelihood: np.ndarray
    #: The EM iterations each fit ran.
    n_iter: np.ndarray
    #: Whether each fit met ``tol``.
    converged: np.ndarray


def fit_batch(
    x: ArrayLike,
    weights_init: ArrayLike,
    means_init: ArrayLike,
    variances_init: ArrayLike,
    max_iter: int = 1000,
    tol: float = 1e-6,
    reg_variance: float = 0.0,
    equal_variance: bool = False,
) -> ReferenceBatchFit:
    """:func:`fit` vectorised over the rows of ``x``, shape (n_datasets, n_samples).

    Starting values have shape (n_datasets, n_components). Arrays of shape
    (n_datasets, n_samples, n_components) hold the log-densities, as a NumPy user would
    write it; this is the batched baseline of the benchmarks.
    """
    x = np.asarray(x, dtype=np.float64)
    weights = np.array(weights_init, dtype=np.float64)
    means = np.array(means_init, dtype=np.float64)
    variances = np.array(variances_init, dtype=np.float64)
    n_datasets, n_samples = x.shape
    reg = reg_variance * np.array([[dataset_scale(row) ** 2] for row in x])
    active = np.ones(n_datasets, dtype=bool)
    converged = np.zeros(n_datasets, dtype=bool)
    n_iter = np.zeros(n_datasets, dtype=np.int64)
    previous = np.full(n_datasets, -np.inf)
    for _ in range(max_iter):
        xa = x[active][:, :, np.newaxis]
        wa, ma, va = weights[active], means[active], variances[active]
        log_p = (
            np.log(wa)[:, np.newaxis, :]
            - 0.5 * np.log(2.0 * np.pi * va)[:, np.newaxis, :]
            - 0.5 * (xa - ma[:, np.newaxis, :]) ** 2 / va[:, np.newaxis, :]
        )
        log_norm = logsumexp(log_p, axis=2, keepdims=True)
        current = log_norm.sum(axis=(1, 2)) / n_samples
        resp = np.exp(log_p - log_norm)
        n_k = resp.sum(axis=1)
        new_means = np.einsum("dnk,dn->dk", resp, xa[:, :, 0]) / n_k
        new_variances = np.einsum("dnk,dnk->dk", resp, (xa - new_means[:, np.newaxis, :]) ** 2)
        new_variances /= n_k
        if equal_variance:
            pooled = (n_k * new_variances).sum(axis=1, keepdims=True)
            pooled /= n_k.sum(axis=1, keepdims=True)
            new_variances = np.broadcast_to(pooled, new_variances.shape)
        weights[active] = n_k / n_k.sum(axis=1, keepdims=True)
        means[active] = new_means
        variances[active] = new_variances + reg[active]
        n_iter[active] += 1
        done = np.abs(current - previous[active]) < tol
        previous[active] = current
        index = np.flatnonzero(active)
        converged[index[done]] = True
        active[index[done]] = False
        if not active.any():
            break
    final = logsumexp(
        np.log(weights)[:, np.newaxis, :]
        - 0.5 * np.log(2.0 * np.pi * variances)[:, np.newaxis, :]
        - 0.5 * (x[:, :, np.newaxis] - means[:, np.newaxis, :]) ** 2 / variances[:, np.newaxis, :],
        axis=2,
    ).sum(axis=1)
    return ReferenceBatchFit(weights, means, variances, final, n_iter, converged)


# The parts for penalised likelihoods and for intervals, in modules of their own.
from .intervals import (  # noqa: E402
    interval_em_step,
    interval_fit,
    interval_log_likelihood,
    log_interval_probabilities,
)
from .penalised import (  # noqa: E402
    ctz_hyperparameters,
    log_penalty,
    penalised_em,
    penalised_m_step,
)

__all__ = [
    "ReferenceBatchFit",
    "ReferenceFit",
    "ctz_hyperparameters",
    "dataset_scale",
    "e_step",
    "fit",
    "fit_batch",
    "interval_em_step",
    "interval_fit",
    "interval_log_likelihood",
    "log_interval_probabilities",
    "log_joint",
    "log_likelihood",
    "log_penalty",
    "m_step",
    "penalised_em",
    "penalised_m_step",
]
