"""The batched EM kernel.

One ``prange`` iteration runs one fit's whole EM loop, with its data hot in cache; fits
share nothing, so results do not depend on the number of threads. Each iteration is one
fused pass over the points (:func:`_expectation`) followed by an O(K) update
(:func:`_maximisation`). Responsibilities are never stored.

All parameters here are in standardised units: the data of dataset ``d`` are read as
``z = (x - center[d]) / scale[d]``, so the dataset has mean 0 and variance 1 and
``reg_variance`` can be added as it is.
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from ._jit import jit
from ._status import CONVERGED, MAX_ITER, NON_FINITE, VARIANCE_FLOORED

LOG_2PI = math.log(2.0 * math.pi)

MIN_VARIANCE = 1e-12
"""Hard lower bound on a variance, relative to the dataset's variance.

It only matters with ``reg_variance=0`` on degenerate data, where a component
collapsing onto one point would otherwise reach variance 0 and an infinite density.
"""


@jit
def _log_norm_and_precision(weights, variances, log_norm, precision):
    """``log w_k - log(2 pi var_k) / 2`` and ``1 / var_k``, the per-component constants."""
    for k in range(weights.size):
        precision[k] = 1.0 / variances[k]
        log_norm[k] = math.log(weights[k]) - 0.5 * (LOG_2PI + math.log(variances[k]))


@jit
def _expectation(x, point_weight, center, inv_scale, means, log_norm, precision, s0, s1, s2,
                 dev, dens):
    """One pass over the points: log-likelihood of the current parameters, M-step statistics.

    For each point, the K log-densities, their log-sum-exp and the responsibilities
    ``r_k``; accumulates ``s0 = sum r``, ``s1 = sum r (z - mu)`` and
    ``s2 = sum r (z - mu)^2`` around the current means, reusing the ``z - mu`` of the
    density. ``point_weight`` holds one weight per point, or is empty for unit weights.

    Returns the total log-likelihood and ``sum log max_k r_k`` (the log-probability of
    the most likely labelling, for ICL), both weighted and in standardised units.
    """
    n_components = means.size
    weighted = point_weight.size > 0
    for k in range(n_components):
        s0[k] = 0.0
        s1[k] = 0.0
        s2[k] = 0.0
    total = 0.0
    log_map = 0.0
    for i in range(x.size):
        z = (x[i] - center) * inv_scale
        top = -math.inf
        for k in range(n_components):
            dev[k] = z - means[k]
            dens[k] = log_norm[k] - 0.5 * dev[k] * dev[k] * precision[k]
            top = max(top, dens[k])
        norm = 0.0
        for k in range(n_components):
            dens[k] = math.exp(dens[k] - top)
            norm += dens[k]
        log_norm_i = math.log(norm)
        inv_norm = 1.0 / norm
        if weighted:
            total += point_weight[i] * (top + log_norm_i)
            log_map -= point_weight[i] * log_norm_i
            inv_norm *= point_weight[i]
        else:
            total += top + log_norm_i
            log_map -= log_norm_i
        for k in range(n_components):
            resp = dens[k] * inv_norm
            s0[k] += resp
            s1[k] += resp * dev[k]
            s2[k] += resp * dev[k] * dev[k]
    return total, log_map


@jit
def _maximisation(s0, s1, s2, weights, means, variances, options, raw):
    """New parameters from the statistics of :func:`_expectation`, in place.

    The new mean is ``mu + s1/s0`` and the new variance ``s2/s0 - (s1/s0)^2``: both
    sums are taken around the old mean, so nothing cancels when the data sit far from
    zero. A fixed mean stays, and the variance is then ``s2/s0`` around it. Free weights
    share what the fixed ones leave, in proportion to ``s0``. Returns True when a
    component collapsed (its variance fell below the floor, or its weight to zero).
    """
    reg_variance, equal_variance, fixed_weights, fixed_means, fixed_variances = options
    n_components = means.size
    total = 0.0
    fixed_mass = 0.0
    free_s0 = 0.0
    for k in range(n_components):
        total += s0[k]
        if fixed_weights[k]:
            fixed_mass += weights[k]
        else:
            free_s0 += s0[k]
    floored = False
    for k in range(n_components):
        if not fixed_weights[k]:
            weights[k] = (1.0 - fixed_mass) * (s0[k] / free_s0)
        if s0[k] > 0.0:
            shift = 0.0 if fixed_means[k] else s1[k] / s0[k]
            means[k] += shift
            raw[k] = max(s2[k] / s0[k] - shift * shift, 0.0)
        else:  # no point left: the mean stays, and a free weight is 0 for good
            raw[k] = 0.0
            floored = True
    if equal_variance:
        pooled = 0.0
        for k in range(n_components):
            pooled += s0[k] * raw[k]
        pooled /= total
        for k in range(n_components):
            raw[k] = pooled
    floor = max(reg_variance, MIN_VARIANCE)
    for k in range(n_components):
        if fixed_variances[k]:
            continue
        if raw[k] < floor:
            floored = True
        variances[k] = max(raw[k] + reg_variance, MIN_VARIANCE)
    return floored


@jit
def _fit_one(x, point_weight, center, inv_scale, weights, means, variances, max_iter, tol,
             options, trace):
    """Run EM for one fit, updating ``weights``, ``means``, ``variances`` in place.

    Iteration ``t`` evaluates the log-likelihood of the parameters ``theta_{t-1}`` in the
    same pass that produces ``theta_t``; the fit stops once the mean log-likelihood per
    point changed by less than ``tol`` between two iterations. A last pass gives the
    log-likelihood of the returned parameters. ``trace[t]`` is the log-likelihood of
    ``theta_t``; ``trace`` may have length 0 to skip it.

    ``options`` is ``(reg_variance, equal_variance, fixed_weights, fixed_means,
    fixed_variances)``, the last three boolean arrays of shape (K,).

    Returns ``(log_likelihood, log_map, n_iter, converged, status)``.
    """
    n_components = means.size
    scratch = np.empty((8, n_components))
    log_norm, precision, s0, s1, s2, dev, dens, raw = (
        scratch[0], scratch[1], scratch[2], scratch[3], scratch[4], scratch[5], scratch[6],
        scratch[7],
    )
    keep_trace = trace.size > 0
    total_weight = 0.0
    for i in range(point_weight.size):
        total_weight += point_weight[i]
    inv_n = 1.0 / (total_weight if point_weight.size > 0 else x.size)
    previous = -math.inf
    converged = False
    floored = False
    n_iter = 0
    for it in range(max_iter):
        _log_norm_and_precision(weights, variances, log_norm, precision)
        log_likelihood, log_map = _expectation(
            x, point_weight, center, inv_scale, means, log_norm, precision, s0, s1, s2, dev,
            dens,
        )
        if keep_trace:
            trace[it] = log_likelihood
        if not math.isfinite(log_likelihood):
            return log_likelihood, log_map, n_iter, False, NON_FINITE
        floored = _maximisation(s0, s1, s2, weights, means, variances, options, raw)
        n_iter = it + 1
        current = log_likelihood * inv_n
        if abs(current - previous) < tol:
            converged = True
            break
        previous = current
    _log_norm_and_precision(weights, variances, log_norm, precision)
    log_likelihood, log_map = _expectation(
        x, point_weight, center, inv_scale, means, log_norm, precision, s0, s1, s2, dev, dens
    )
    if keep_trace:
        trace[n_iter] = log_likelihood
    if not math.isfinite(log_likelihood):
        status = NON_FINITE
    elif floored:
        status = VARIANCE_FLOORED
    else:
        status = CONVERGED if converged else MAX_ITER
    return log_likelihood, log_map, n_iter, converged, status


@jit(parallel=True)
def fit_batch(values, offsets, sample_weight, center, scale, weights, means, variances,
              max_iter, tol, options, trace, log_likelihood, log_map, n_iter, converged,
              status):
    """Run every fit of the batch; fit ``f`` is dataset ``f // n_init``, restart ``f % n_init``.

    Parameters
    ----------
    values, offsets : the ragged layout (see ``_layout``).
    sample_weight : array like ``values``, or of size 0 for unit weights.
    center, scale : arrays of shape (n_datasets,), the standardisation.
    weights, means, variances : arrays of shape (n_fits, K)
        Starting values in standardised units on entry, fitted values on return.
    max_iter : int
    tol : float
    options : tuple (reg_variance, equal_variance, fixed_weights, fixed_means, fixed_variances)
        The M-step's options; the last three are boolean arrays of shape (K,).
    trace : array of shape (n_fits, max_iter + 1) or (n_fits, 0)
        Filled with the log-likelihood after each iteration when its second axis is
        not empty; entries after a fit stops are left untouched.
    log_likelihood, log_map, n_iter, converged, status : arrays of shape (n_fits,), outputs.
    """
    n_fits = means.shape[0]
    n_init = n_fits // (offsets.size - 1)
    weighted = sample_weight.size > 0
    for f in prange(n_fits):
        d = f // n_init
        start, stop = offsets[d], offsets[d + 1]
        result = _fit_one(
            values[start:stop], sample_weight[start:stop] if weighted else sample_weight,
            center[d], 1.0 / scale[d], weights[f], means[f], variances[f], max_iter, tol,
            options, trace[f],
        )
        log_likelihood[f], log_map[f], n_iter[f], converged[f], status[f] = result
