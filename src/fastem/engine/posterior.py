"""Posterior probabilities, classification and mixture density of fitted mixtures at
given points, for every dataset of a batch in one parallel pass: the E-step of the fits,
on new data (:meth:`FitResult.predict_proba` and friends)."""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from .. import checks as _validate
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


def log_posteriors(result, data):
    """``(log_resp, log_density, unpack)`` of ``result``'s mixtures at ``data``: arrays in
    the packed layout, and a function that reshapes a per-point array to ``data``'s shape.

    ``data`` has one dataset per fitted dataset, in ``fit``'s shapes (a 2D array, a list
    of 1D arrays, or a 1D array for a result of one dataset); a 1D array with a result of
    several datasets is the same points for each of them.
    """
    weights, means, variances = (
        np.atleast_2d(np.asarray(a, dtype=np.float64))
        for a in (result.weights, result.means, result.variances)
    )
    n_datasets = means.shape[0]
    if n_datasets > 1 and not _validate.is_dataset_list(data) and np.ndim(data) == 1:
        points = np.asarray(data, dtype=np.float64)
        data = np.broadcast_to(points, (n_datasets, points.size))
    batch = _validate.as_batch(data)
    if batch.n_datasets != n_datasets:
        raise ValueError(
            f"data holds {batch.n_datasets} dataset(s) but the result has {n_datasets} "
            "fitted mixture(s); give one dataset per fitted one (or one 1D array of points "
            "for all of them)."
        )
    _validate.check_finite(batch)
    log_resp = np.empty((batch.values.size, means.shape[1]))
    log_density = np.empty(batch.values.size)
    _log_posteriors(batch.values, batch.offsets, weights, means, variances, log_resp, log_density)
    failed = ~np.isfinite(np.atleast_1d(result.log_likelihood))
    if failed.any():  # a fit with no finite log-likelihood has no usable parameters
        at = np.repeat(failed, batch.n_samples)
        log_resp[at], log_density[at] = np.nan, np.nan

    def unpack(array):
        if batch.single:
            return array
        if isinstance(data, np.ndarray) and data.ndim == 2:
            return array.reshape(data.shape + array.shape[1:])
        return [array[a:b] for a, b in zip(batch.offsets[:-1], batch.offsets[1:])]

    return log_resp, log_density, unpack
