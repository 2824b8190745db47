"""EM for binned and censored data in plain NumPy, the yardstick of
:mod:`fastem.engine.intervals`."""

from __future__ import annotations

import numpy as np
from scipy.special import log_ndtr, logsumexp

# --- intervals: EM for grouped and censored data ----------------------------------------
# EM for grouped and censored data (McLachlan & Jones 1988), the yardstick of
# :mod:`fastem.engine.intervals` (fastem.Intervals), equation by equation.
#
# Observation ``i`` is the interval ``[a_i, b_i)`` seen ``c_i`` times. For component ``k``
# with ``alpha_ik = (a_i - mu_k) / s_k``, ``beta_ik = (b_i - mu_k) / s_k``::
#
#     P_ik     = Phi(beta_ik) - Phi(alpha_ik)
#     log L    = sum_i c_i log sum_k w_k P_ik
#     r_ik     = w_k P_ik / sum_j w_j P_ij
#     m1_ik    = E[X | a_i <= X < b_i, k] = mu_k + s_k (phi(alpha_ik) - phi(beta_ik)) / P_ik
#     m2_ik    = E[(X - mu_k)^2 | ...]   = s_k^2 (1 + (alpha_ik phi(alpha_ik)
#                                                    - beta_ik phi(beta_ik)) / P_ik)
#
# and the M-step is that of weighted points, with the conditional moments for the points::
#
#     n_k   = sum_i c_i r_ik
#     w_k   = n_k / sum_k n_k
#     mu_k  = sum_i c_i r_ik m1_ik / n_k
#     var_k = sum_i c_i r_ik m2_ik / n_k - (mu_k - mu_k_old)^2
#
# (the last line is ``E[(X - mu_k_new)^2]`` written around the old mean). An infinite end
# contributes 0 to ``phi`` and to ``alpha phi``. An exact value (``a_i == b_i``) has the
# density ``N(a_i | mu_k, var_k)`` for ``P_ik`` and is its own conditional value, as a
# point. No fixed parameters, no guards.


def log_interval_probabilities(lower, upper, means, variances) -> np.ndarray:
    """``log P_ik``, array of shape (n_intervals, n_components), taken on the side of
    zero where both tails are small (``Phi(b) - Phi(a) = Phi(-a) - Phi(-b)``); at an
    exact value (``a_i == b_i``) the log density ``log N(a_i | mu_k, var_k)``."""
    lower, upper = np.asarray(lower)[:, None], np.asarray(upper)[:, None]
    sd = np.sqrt(variances)
    alpha = (lower - means) / sd
    beta = (upper - means) / sd
    upper_side = alpha > 0
    high = np.where(upper_side, log_ndtr(-alpha), log_ndtr(beta))
    low = np.where(upper_side, log_ndtr(-beta), log_ndtr(alpha))
    with np.errstate(divide="ignore"):
        log_p = high + np.log1p(-np.exp(low - high))
    density = -0.5 * alpha**2 - 0.5 * np.log(2 * np.pi * variances)
    return np.where(lower == upper, density, log_p)


def interval_log_likelihood(lower, upper, counts, weights, means, variances) -> float:
    """``sum_i c_i log sum_k w_k P_ik``."""
    joint = np.log(weights) + log_interval_probabilities(lower, upper, means, variances)
    return float(np.sum(counts * logsumexp(joint, axis=1)))


def interval_em_step(lower, upper, counts, weights, means, variances):
    """One EM map: ``(log-likelihood of the given parameters, (weights, means,
    variances) after the step)``. An exact value is its own conditional mean."""
    sd = np.sqrt(variances)
    log_p = log_interval_probabilities(lower, upper, means, variances)
    joint = np.log(weights) + log_p
    total = logsumexp(joint, axis=1, keepdims=True)
    resp = counts[:, None] * np.exp(joint - total)
    alpha = (np.asarray(lower)[:, None] - means) / sd
    beta = (np.asarray(upper)[:, None] - means) / sd
    phi_a = np.where(np.isinf(alpha), 0.0, np.exp(-0.5 * alpha**2 - log_p) / np.sqrt(2 * np.pi))
    phi_b = np.where(np.isinf(beta), 0.0, np.exp(-0.5 * beta**2 - log_p) / np.sqrt(2 * np.pi))
    with np.errstate(invalid="ignore"):  # inf * 0 at an open end, replaced by 0
        a_phi = np.where(np.isinf(alpha), 0.0, alpha * phi_a)
        b_phi = np.where(np.isinf(beta), 0.0, beta * phi_b)
    exact = (np.asarray(lower) == np.asarray(upper))[:, None]
    first = np.where(exact, sd * alpha, sd * (phi_a - phi_b))
    second = np.where(exact, variances * alpha**2, variances * (1.0 + a_phi - b_phi))
    n_k = resp.sum(axis=0)
    shift = (resp * first).sum(axis=0) / n_k
    new_variances = (resp * second).sum(axis=0) / n_k - shift**2
    return float(np.sum(counts * total[:, 0])), (n_k / n_k.sum(), means + shift, new_variances)


def interval_fit(lower, upper, counts, weights, means, variances, n_iter):
    """``n_iter`` EM maps from the given parameters: ``(log-likelihoods of each map's
    input, final weights, means, variances)``."""
    lower, upper, counts = (np.asarray(a, dtype=np.float64) for a in (lower, upper, counts))
    params = tuple(np.asarray(a, dtype=np.float64) for a in (weights, means, variances))
    trace = []
    for _ in range(n_iter):
        value, params = interval_em_step(lower, upper, counts, *params)
        trace.append(value)
    return np.array(trace), *params
