"""The M-step, and one EM map of a fit: the E-step (a kernel of :mod:`.estep`, passed by
address) and then the M-step's update of the parameters, in place.

All parameters here are in standardised units (see :mod:`.estep`), so ``reg_variance``
and the variance floor are relative to the dataset's variance.
"""

from __future__ import annotations

import math

from .estep import e_step_parameters
from .jit import jit
from .penalty import C, log_penalty, penalised_variances, penalised_weights

MIN_VARIANCE = 1e-15
"""Lower bound on a variance, relative to the dataset's variance; a floor, never added.

A component collapsing onto one point (or onto tied values) would otherwise reach
variance 0 and an infinite density; at the floor its density stays finite and its fit
is flagged ``VARIANCE_FLOORED``. A real component is never near it: two equal clusters
``s`` of their standard deviations apart have a relative variance of about
``4 / s**2``, 4e-12 at a million standard deviations, 4,000 times the floor. A standard
deviation of 3e-8 of the data's spread still spans about 1e8 steps of float64 at the
data's magnitude when that is about its spread (fewer when the data sit far from zero), so
variances near the floor are still resolved.
"""


FAR = 1e4
"""A move of the mean whose square exceeds this many times the new variance (100
standard deviations) makes the one-pass variance lose too many digits."""


@jit(inline=True)
def _moved_far(s0, s1, s2, fixed_means):
    """Whether a free mean moves so far that ``s2/s0 - (s1/s0)^2`` cancels.

    The sums are taken around the current means, which is exact once EM is near a
    maximum; from a start far from the data the variance would lose ``log10(shift**2 /
    variance)`` digits (all of them, 100,000 standard deviations away). Such an iteration
    is given a second pass, with the same parameters, around the new means.
    Variances below the floor are not worth it.
    """
    for k in range(s0.size):
        if fixed_means[k] or not s0[k] > 0.0:
            continue
        shift = s1[k] / s0[k]
        spread = max(s2[k] / s0[k] - shift * shift, MIN_VARIANCE)
        if shift * shift > FAR * spread:
            return True
    return False


@jit(inline=True)
def maximisation(s0, s1, s2, weights, means, variances, options, raw, pivots):
    """New parameters from the statistics of the E-step (:mod:`.estep`), in place.

    The sums are taken around ``pivots`` (K,): the old means as the E-step held them
    (rounded to float32 in a float32 E-step), or the points of :func:`_moved_far`. The
    new mean is ``pivot + s1/s0`` and the new variance ``s2/s0 - (s1/s0)^2``, so nothing
    cancels when the data sit far from zero. A fixed mean stays, and the variance is
    then ``s2/s0`` around it (corrected for a pivot that differs from it by rounding).
    Free weights share what the fixed ones leave, in proportion to ``s0``. With a prior
    (``options[5]``, a dataset's row of :mod:`.penalty`, of size 0 for none) the update
    is the penalised one of :mod:`.penalty`. Returns True when a component collapsed (its
    variance fell below the floor, or its weight to zero).
    """
    reg_variance, equal_variance, fixed_weights, fixed_means, fixed_variances, prior = options
    n_components = means.size
    if prior.size > 0:
        penalised_weights(s0, weights, fixed_weights, prior[C])
        floored, numerator, denominator = penalised_variances(
            s0, s1, s2, means, fixed_means, prior, pivots, raw
        )
        if equal_variance:
            pooled = numerator / denominator
            for k in range(n_components):
                raw[k] = pooled
        return _floor_variances(raw, variances, reg_variance, fixed_variances) or floored
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
        if s0[k] > 0.0 and fixed_means[k]:
            # sum r (z - mu)^2 = s2 + 2 (p - mu) s1 + (p - mu)^2 s0 around pivot p.
            spread = s2[k] / s0[k]
            offset = pivots[k] - means[k]
            if offset != 0.0:
                spread += offset * (2.0 * (s1[k] / s0[k]) + offset)
            raw[k] = max(spread, 0.0)
        elif s0[k] > 0.0:
            shift = s1[k] / s0[k]
            means[k] = pivots[k] + shift
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
    return _floor_variances(raw, variances, reg_variance, fixed_variances) or floored


@jit(inline=True)
def _floor_variances(raw, variances, reg_variance, fixed_variances):
    """The free variances ``raw + reg_variance``, kept above the floor, in place; returns
    whether one of ``raw`` fell below it."""
    floored = False
    floor = max(reg_variance, MIN_VARIANCE)
    for k in range(raw.size):
        if fixed_variances[k]:
            continue
        if raw[k] < floor:
            floored = True
        variances[k] = max(raw[k] + reg_variance, MIN_VARIANCE)
    return floored


@jit
def em_map(
    x,
    point_weight,
    center,
    inv_scale,
    weights,
    means,
    variances,
    options,
    statistics,
    per_component,
    dev,
    dens,
    per_point,
    e_step,
    e_step_far,
):
    """One EM map over the data: the log-likelihood of ``(weights, means, variances)``,
    which the M-step then replaces in place by their update.

    Returns ``(log_likelihood, log_map, floored)``; with a non-finite log-likelihood the
    parameters are left as they were. With a prior (``options[5]``), ``log_likelihood``
    is the penalised one (plus :func:`.penalty.log_penalty`), the objective the M-step
    climbs, so that EM, the accelerators' tests of a step and the stopping rules all
    follow it.
    """
    n_components = means.size
    e_step_parameters(weights, means, variances, per_component)
    log_likelihood, log_map = e_step(
        x,
        point_weight,
        center,
        inv_scale,
        per_component,
        statistics,
        dev,
        dens,
        per_point,
    )
    if not math.isfinite(log_likelihood):
        return log_likelihood, log_map, False
    log_likelihood += log_penalty(weights, means, variances, options[5])
    s0, s1, s2, raw = statistics[0], statistics[1], statistics[2], statistics[3]
    centres, around = per_component[0], per_component[3]
    pivots = centres
    if _moved_far(s0, s1, s2, options[3]):
        for k in range(n_components):
            free = not options[3][k] and s0[k] > 0.0
            around[k] = centres[k] + (s1[k] / s0[k] if free else 0.0)
        e_step_far(
            x,
            point_weight,
            center,
            inv_scale,
            per_component,
            statistics,
            dev,
            dens,
            per_point,
        )
        pivots = around
    floored = maximisation(s0, s1, s2, weights, means, variances, options, raw, pivots)
    return log_likelihood, log_map, floored


@jit
def log_likelihood_only(
    x,
    point_weight,
    center,
    inv_scale,
    weights,
    means,
    variances,
    prior,
    statistics,
    per_component,
    dev,
    dens,
    per_point,
    e_step,
):
    """``(log_likelihood, log_map)`` of the parameters, which stay as they are; with a
    prior (a row of :mod:`.penalty`, size 0 for none), the penalised log-likelihood."""
    e_step_parameters(weights, means, variances, per_component)
    log_likelihood, log_map = e_step(
        x,
        point_weight,
        center,
        inv_scale,
        per_component,
        statistics,
        dev,
        dens,
        per_point,
    )
    if math.isfinite(log_likelihood):
        log_likelihood += log_penalty(weights, means, variances, prior)
    return log_likelihood, log_map
