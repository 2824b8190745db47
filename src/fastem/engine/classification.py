"""Classification EM (CEM) and stochastic EM (SEM) for one fit: each iteration gives every
point to one component, then runs the M-step of :mod:`.mstep` on that partition
(:func:`classification_at`, which :func:`.kernels.fit_classification` runs for each fit).

CEM (Celeux & Govaert 1992) gives each point to its most probable component (ties to the
lowest index) and so climbs the *classification* log-likelihood
``sum_i log(w_{z_i} phi(x_i; mu_{z_i}, var_{z_i}))``; it stops when the partition no longer
changes, after finitely many iterations. SEM (Celeux & Diebolt 1985) draws each point's
component from its posteriors: a Markov chain around the maximum, which never converges.

Both are exact: a per-point loop in float64 with every sum in the order of the points, the
draws of SEM from the counter-based streams of :mod:`.rng`, keyed by the seed, the
dataset's content key and the restart (the stream) and by the iteration and the point
(the draw's number), so that results depend on neither threads, chunking nor the
dataset's place in a batch.
"""

from __future__ import annotations

import math

import numpy as np

from .jit import jit
from .layout import fit_data
from .mstep import maximisation
from .rng import SEM as SEM_STREAMS
from .rng import stream_key, uniform
from .stopping import copy_parameters

# The codes of fastem.Status set here, written out as in em.py (numba freezes them).
CONVERGED, MAX_ITER, VARIANCE_FLOORED, NON_FINITE = 0, 1, 3, 4
# What a pass over the points does with the labels.
KEEP, MOST_PROBABLE, DRAWN = 0, 1, 2
LOG_2PI = math.log(2.0 * math.pi)


@jit(inline=True)
def _constants(weights, variances, log_norm, half_precision):
    """``log w_k - log(2 pi var_k) / 2`` (``-inf`` for an empty component) and
    ``1 / (2 var_k)``."""
    for k in range(weights.size):
        half_precision[k] = 0.5 / variances[k]
        log_weight = math.log(weights[k]) if weights[k] > 0.0 else -math.inf
        log_norm[k] = log_weight - 0.5 * (LOG_2PI + math.log(variances[k]))


@jit
def classify(x, point_weight, center, inv_scale, means, constants, labels, mode, key, first):
    """One pass over the points with the mixture's ``means`` and ``constants`` (rows
    ``log_norm``, ``half_precision`` and a row of scratch, of :func:`_constants`).

    Returns ``(log_likelihood, log_map, changed)``: the mixture log-likelihood
    ``sum_i w_i log sum_k p_ik`` (``p_ik = w_k phi(z_i; mu_k, var_k)``, standardised
    units), ``sum_i w_i log max_k r_ik`` (``r_ik`` the posteriors), and whether a label
    changed. ``mode`` is ``KEEP`` (labels untouched), ``MOST_PROBABLE`` (CEM: the first
    ``k`` of largest ``p_ik``) or ``DRAWN`` (SEM: ``k`` with probability ``r_ik``, by
    draw ``first + i`` of stream ``key``: the first ``k`` whose cumulative sum of
    ``p_ik / max_k p_ik`` exceeds ``u`` times their total).
    """
    log_norm, half_precision, scaled = constants[0], constants[1], constants[2]
    n_components = means.size
    weighted = point_weight.size > 0
    total = 0.0
    log_map = 0.0
    changed = False
    for i in range(x.size):
        z = (x[i] - center) * inv_scale
        top = -math.inf
        best = 0
        for k in range(n_components):
            d = z - means[k]
            scaled[k] = log_norm[k] - half_precision[k] * d * d
            if scaled[k] > top:
                top = scaled[k]
                best = k
        norm = 0.0
        for k in range(n_components):
            scaled[k] = math.exp(scaled[k] - top)
            norm += scaled[k]
        weight = point_weight[i] if weighted else 1.0
        log_norm_i = math.log(norm)
        total += weight * (top + log_norm_i)
        log_map -= weight * log_norm_i
        if mode == MOST_PROBABLE:
            label = best
        elif mode == DRAWN:
            target = uniform(key, first + i) * norm
            label = best  # reached only by rounding of the cumulative sum
            cumulative = 0.0
            for k in range(n_components):
                cumulative += scaled[k]
                if cumulative > target:
                    label = k
                    break
        else:
            continue
        if label != labels[i]:
            changed = True
            labels[i] = label
    return total, log_map, changed


@jit
def hard_maximisation(
    x, point_weight, center, inv_scale, weights, means, variances, options, labels, statistics
):
    """The M-step of :mod:`.mstep` on a partition (``labels``), in place; returns whether a
    component collapsed (no point, or a variance below the floor).

    Two passes in the order of the points: the first gives each component's weight
    ``s0`` and its shift from the current mean, the second the sums around the new
    mean, so that ``s2/s0 - (s1/s0)^2`` does not cancel however far the mean moves.
    """
    s0, s1, s2, pivots = statistics[0], statistics[1], statistics[2], statistics[3]
    # statistics: five rows of K, s0, s1, s2, the pivots and the M-step's scratch.
    weighted = point_weight.size > 0
    for k in range(means.size):
        s0[k] = 0.0
        s1[k] = 0.0
        s2[k] = 0.0
    for i in range(x.size):
        k = labels[i]
        weight = point_weight[i] if weighted else 1.0
        s0[k] += weight
        s1[k] += weight * ((x[i] - center) * inv_scale - means[k])
    for k in range(means.size):
        pivots[k] = means[k] + (s1[k] / s0[k] if s0[k] > 0.0 else 0.0)
        s1[k] = 0.0
    for i in range(x.size):
        k = labels[i]
        weight = point_weight[i] if weighted else 1.0
        d = (x[i] - center) * inv_scale - pivots[k]
        s1[k] += weight * d
        s2[k] += weight * d * d
    return maximisation(s0, s1, s2, weights, means, variances, options, statistics[4], pivots)


@jit
def classification_one(
    x, point_weight, center, inv_scale, weights, means, variances, max_iter, options, algorithm
):
    """CEM or SEM for one fit, from ``weights, means, variances`` (standardised, updated in
    place); ``algorithm`` is ``(stochastic, key, trace, interrupted)``.

    Iteration ``t`` classifies the points by the parameters ``theta_{t-1}`` (whose
    mixture log-likelihood the same pass gives, ``trace[t - 1]``), then ``theta_t`` is
    the M-step of that partition. CEM stops, converged, at the first iteration whose
    partition is the one before (``theta_{t-1}`` is then its own M-step). SEM runs
    ``max_iter`` iterations (its pass ``t`` draws from ``t * n``) and returns, of its
    iterates ``theta_1 ... theta_{max_iter}`` (M-steps, which honour the constraints,
    unlike the start), the one of highest mixture log-likelihood (the first of them on a
    tie), as flexmix's ``classify = "random"`` does.

    Returns ``(log_likelihood, log_map, n_iter, converged, status, n_fpeval)`` of the
    returned parameters; the status is ``VARIANCE_FLOORED`` when the M-step that made
    them had an empty component or a variance at the floor (an empty component keeps
    its mean and variance and has weight 0 for good), else ``CONVERGED`` or
    ``MAX_ITER`` (SEM's always).
    """
    stochastic, key, trace, interrupted = algorithm
    n_components = means.size
    labels = np.full(x.size, -1, dtype=np.int64)
    constants = np.empty((3, n_components))
    statistics = np.empty((5, n_components))
    best = np.empty((3, n_components))
    mode = DRAWN if stochastic else MOST_PROBABLE
    best_ll = -math.inf
    best_floored = False
    floored = False
    converged = False
    n_iter = 0
    for it in range(max_iter):
        if interrupted[0]:
            break
        _constants(weights, variances, constants[0], constants[1])
        ll, _, changed = classify(
            x, point_weight, center, inv_scale, means, constants, labels, mode, key, it * x.size
        )
        if it < trace.size:
            trace[it] = ll
        if not math.isfinite(ll):
            return ll, ll, n_iter, False, NON_FINITE, n_iter
        if stochastic and it > 0 and ll > best_ll:  # iterates, not the start
            best_ll, best_floored = ll, floored
            copy_parameters(weights, means, variances, best)
        if not (changed or stochastic):
            converged = True
            break
        floored = hard_maximisation(
            x,
            point_weight,
            center,
            inv_scale,
            weights,
            means,
            variances,
            options,
            labels,
            statistics,
        )
        n_iter = it + 1
    _constants(weights, variances, constants[0], constants[1])
    ll, log_map, _ = classify(
        x, point_weight, center, inv_scale, means, constants, labels, KEEP, key, 0
    )
    if stochastic and not ll > best_ll and math.isfinite(best_ll):
        for k in range(n_components):
            weights[k], means[k], variances[k] = best[0, k], best[1, k], best[2, k]
        floored = best_floored
        _constants(weights, variances, constants[0], constants[1])
        ll, log_map, _ = classify(
            x, point_weight, center, inv_scale, means, constants, labels, KEEP, key, 0
        )
    if n_iter < trace.size:
        trace[n_iter] = ll
    if not math.isfinite(ll):
        status = NON_FINITE
    elif floored:
        status = VARIANCE_FLOORED
    else:
        status = CONVERGED if converged else MAX_ITER
    return ll, log_map, n_iter, converged, status, n_iter


@jit(inline=True)
def classification_at(
    f,
    values,
    offsets,
    sample_weight,
    center,
    scale,
    weights,
    means,
    variances,
    max_iter,
    options,
    algorithm,
    trace,
    outputs,
    interrupted,
):
    """Fit ``f`` of the batch (dataset ``f // n_init``, restart ``f % n_init``) by CEM or
    SEM: ``algorithm`` is ``(method, keys, seed)`` as :func:`.em.fit_at` takes it, the
    method a code of :mod:`.methods`; ``options`` the M-step's tuple; ``outputs``
    ``(log_likelihood, log_map, n_iter, converged, status, n_fpeval, rate)``, arrays of
    the fit kernels (``rate`` is NaN: neither algorithm has a rate of convergence).
    SEM's stream is keyed by ``(seed, its purpose, the dataset's key, the restart)``."""
    method, keys, seed = algorithm
    n_fits = means.shape[0]
    x, point_weight, loc, inv_scale = fit_data(
        f, n_fits, values, offsets, sample_weight, center, scale
    )
    n_init = n_fits // (offsets.size - 1)
    reg_variance, equal_variance, fixed_weights, fixed_means, fixed_variances, prior = options
    options = (
        reg_variance,
        equal_variance,
        fixed_weights,
        fixed_means,
        fixed_variances,
        prior[f // n_init],
    )
    stochastic = method == 8  # methods.SEM, written out (see em.py's codes)
    key = np.uint64(0)
    if stochastic:
        key = stream_key(seed, SEM_STREAMS, keys[f // n_init], f % n_init)
    log_likelihood, log_map, n_iter, converged, status, n_fpeval, rate = outputs
    (
        log_likelihood[f],
        log_map[f],
        n_iter[f],
        converged[f],
        status[f],
        n_fpeval[f],
    ) = classification_one(
        x,
        point_weight,
        loc,
        inv_scale,
        weights[f],
        means[f],
        variances[f],
        max_iter,
        options,
        (stochastic, key, trace[f], interrupted),
    )
    rate[f, 0] = math.nan
    rate[f, 1] = math.nan
