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
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.special import logsumexp


def log_joint(x, weights, means, variances):
    """``log w_k + log N(x_i | mu_k, var_k)``, array of shape (n_samples, n_components)."""
    x = np.asarray(x, dtype=np.float64)[:, np.newaxis]
    return (
        np.log(weights)
        - 0.5 * np.log(2.0 * np.pi * variances)
        - 0.5 * (x - means) ** 2 / variances
    )


def e_step(x, weights, means, variances):
    """Responsibilities ``r_ik``, array of shape (n_samples, n_components)."""
    log_p = log_joint(x, weights, means, variances)
    return np.exp(log_p - logsumexp(log_p, axis=1, keepdims=True))


def log_likelihood(x, weights, means, variances) -> float:
    """Total log-likelihood of the data under the mixture."""
    return float(logsumexp(log_joint(x, weights, means, variances), axis=1).sum())


def m_step(x, resp, reg_variance=0.0, equal_variance=False):
    """Weights, means and variances maximising the expected log-likelihood.

    Parameters
    ----------
    x : array of shape (n_samples,)
    resp : array of shape (n_samples, n_components)
    reg_variance : float
        Added to every variance, in the units of ``x`` squared.
    equal_variance : bool
        Pool the variances into one shared by all components.

    Returns
    -------
    weights, means, variances : arrays of shape (n_components,)
    """
    x = np.asarray(x, dtype=np.float64)
    n_k = resp.sum(axis=0)
    weights = n_k / n_k.sum()
    means = resp.T @ x / n_k
    variances = (resp * (x[:, np.newaxis] - means) ** 2).sum(axis=0) / n_k
    if equal_variance:
        variances = np.full_like(variances, (n_k * variances).sum() / n_k.sum())
    return weights, means, variances + reg_variance


def dataset_scale(x) -> float:
    """The scale ``reg_variance`` is relative to: the standard deviation of ``x``.

    A constant dataset has none; its magnitude ``|x[0]|`` (or 1 for zeros) stands in.
    """
    if x.min() < x.max():
        return float(np.std(x))
    return float(abs(x[0])) or 1.0


class ReferenceFit(NamedTuple):
    """Result of :func:`fit`; ``trace[t]`` is the log-likelihood after ``t`` iterations."""

    weights: np.ndarray
    means: np.ndarray
    variances: np.ndarray
    log_likelihood: float
    n_iter: int
    converged: bool
    trace: np.ndarray


def fit(x, n_components, weights_init, means_init, variances_init, max_iter=1000, tol=1e-6,
        reg_variance=0.0, equal_variance=False) -> ReferenceFit:
    """EM from the given starting values, with :func:`fastem.fit`'s conventions.

    Iteration ``t`` runs an E-step on the parameters after ``t - 1`` iterations and an
    M-step. The fit stops when the mean log-likelihood per point changed by less than
    ``tol`` between two iterations, or after ``max_iter`` iterations. ``reg_variance`` is
    relative to the variance of ``x``, as in :func:`fastem.fit`.
    """
    x = np.asarray(x, dtype=np.float64)
    weights = np.array(weights_init, dtype=np.float64)
    means = np.array(means_init, dtype=np.float64)
    variances = np.array(variances_init, dtype=np.float64)
    assert weights.shape == means.shape == variances.shape == (n_components,)
    reg = reg_variance * dataset_scale(x) ** 2
    trace = [log_likelihood(x, weights, means, variances)]
    previous = -np.inf
    converged = False
    for _ in range(max_iter):
        current = trace[-1] / x.size
        resp = e_step(x, weights, means, variances)
        weights, means, variances = m_step(x, resp, reg, equal_variance)
        trace.append(log_likelihood(x, weights, means, variances))
        if abs(current - previous) < tol:
            converged = True
            break
        previous = current
    return ReferenceFit(
        weights, means, variances, trace[-1], len(trace) - 1, converged, np.array(trace)
    )


class ReferenceBatchFit(NamedTuple):
    """Result of :func:`fit_batch`: arrays with a leading (n_datasets,) axis."""

    weights: np.ndarray
    means: np.ndarray
    variances: np.ndarray
    log_likelihood: np.ndarray
    n_iter: np.ndarray
    converged: np.ndarray


def fit_batch(x, weights_init, means_init, variances_init, max_iter=1000, tol=1e-6,
              reg_variance=0.0, equal_variance=False) -> ReferenceBatchFit:
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
