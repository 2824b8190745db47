"""Posterior probabilities, classification and mixture density of fitted mixtures at
given points, for every dataset of a batch in one parallel pass: the E-step of the fits,
on new data (:meth:`FitResult.predict_proba` and friends)."""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from .jit import jit

HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


@jit(parallel=True)
def _log_posteriors(values, offsets, weights, means, variances, log_resp, log_density):
    """Per point ``i`` of dataset ``d``: ``log_resp[i, k] = log P(component k | x_i)`` and
    ``log_density[i] = log sum_k w_k N(x_i; m_k, v_k)``, with dataset ``d``'s parameters.
    Each component's term is ``log w - log sd - (x - m)^2 / (2 v)`` with ``(x - m) / sd``
    formed first, so that data of any scale neither overflows nor underflows."""
    n_components = means.shape[1]
    for d in prange(offsets.size - 1):
        for i in range(offsets[d], offsets[d + 1]):
            top = -math.inf
            for k in range(n_components):
                sd = math.sqrt(variances[d, k])
                t = (values[i] - means[d, k]) / sd
                term = math.log(weights[d, k]) - math.log(sd) - HALF_LOG_2PI - 0.5 * t * t
                log_resp[i, k] = term
                top = max(top, term)
            if top == -math.inf:
                # So far from every component that each density underflows to 0: its
                # log is -inf, and the posterior, a ratio of zeros, is undefined (NaN).
                log_density[i] = -math.inf
                for k in range(n_components):
                    log_resp[i, k] = math.nan
                continue
            total = 0.0
            for k in range(n_components):
                total += math.exp(log_resp[i, k] - top)
            log_sum = top + math.log(total)
            log_density[i] = log_sum
            for k in range(n_components):
                log_resp[i, k] -= log_sum


def log_posteriors(batch, weights, means, variances, log_likelihood):
    """``(log_resp, log_density)`` of the mixtures ``weights, means, variances`` (arrays of
    shape (n_datasets, K), float64, data units) at the points of ``batch`` (a checked
    :class:`~fastem.engine.layout.Batch` of finite values, one dataset per mixture), in
    the packed layout: arrays of shape (n_points, K) and (n_points,). A dataset whose
    ``log_likelihood`` is not finite has no usable parameters, and gets NaN.
    """
    log_resp = np.empty((batch.values.size, means.shape[1]))
    log_density = np.empty(batch.values.size)
    _log_posteriors(batch.values, batch.offsets, weights, means, variances, log_resp, log_density)
    failed = ~np.isfinite(np.atleast_1d(log_likelihood))
    if failed.any():
        at = np.repeat(failed, batch.n_samples)
        log_resp[at], log_density[at] = np.nan, np.nan
    return log_resp, log_density
