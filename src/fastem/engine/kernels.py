"""The EM kernels of one fit, run over a batch by ``_jit.for_each``.

One fit's whole EM loop runs on one thread, with its data hot in cache
(:func:`fit_em`, :func:`fit_squarem`, run over the batch by ``_jit.for_each``); fits share
nothing, so results do not depend on the number of threads. Each iteration is one
fused pass over the points (:func:`_expectation`) followed by an O(K) update
(:func:`_maximisation`). Responsibilities are never stored.

All parameters here are in standardised units: the data of dataset ``d`` are read as
``z = (x - center[d]) / scale[d]``, so the dataset has mean 0 and variance 1 and
``reg_variance`` can be added as it is.

The E-step runs in the precision ``dtype`` of :func:`fit_em`: float64, or float32 for
twice as many points per vector instruction. Its source is the same for both (numba
compiles it once per type of its scratch arrays; every constant in it takes the type of
those arrays, and the helpers of ``_vmath`` pick their float32 versions by type). Each
block of points is standardised in float64 and then rounded to ``dtype``; the per-point
log-densities, their maximum, the ``exp`` and the responsibilities are in ``dtype``; the
sums over a block are taken in 16 float32 lanes (``_vmath.lane_sum``) and added into
float64 totals. Parameters, the log-likelihood's total, the M-step, SQUAREM and the
stopping rules are float64 in both.
"""

from __future__ import annotations

import math

import numpy as np

from .jit import by_address, jit, type_key
from .layout import fit_data
from .vmath import (
    exp_parts,
    exp_shifted,
    fma,
    lane_moments,
    lane_product,
    lane_product_moments,
    lane_sum,
    lanes,
    lowest,
    powers_of_two,
)

# The codes of fastem.Status the kernels set, written out: numba freezes module-level
# ints into the machine code, and its cache is keyed on this file's text, so a code that
# changed in _status.py alone would be served stale from the cache (tests check these).
CONVERGED, MAX_ITER, VARIANCE_FLOORED, NON_FINITE = 0, 1, 3, 4

LOG_2PI = math.log(2.0 * math.pi)

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


@jit(inline=True)
def _log_norm_and_precision(weights, variances, log_norm, half_precision):
    """``log w_k - log(2 pi var_k) / 2`` and ``1 / (2 var_k)``, the per-component
    constants, computed in float64 and stored in the E-step's type."""
    for k in range(weights.size):
        half_precision[k] = 0.5 * (1.0 / variances[k])
        log_norm[k] = math.log(weights[k]) - 0.5 * (LOG_2PI + math.log(variances[k]))


@jit
def block_size(n_components, n_lanes):
    """Points per block: 256, or fewer for many components; a multiple of ``n_lanes``
    (``_vmath.lanes``: 8 for float64, 16 for float32).

    Per block, the log-likelihood takes one ``log`` of the product of the points'
    normalisers ``sum_k exp(log p_k - max)``, each between 1 and K; the product must stay
    below the float64 limit of 2**1023. In float32, each of the 16 lanes of
    :func:`lane_product` multiplies ``block / 16`` of them before the lanes are combined
    in float64: at most ``2**63``, far below float32's limit of 2**127.
    """
    if n_components < 2:
        return 256
    size = min(256, int(1000.0 / math.log2(n_components)))
    return max(n_lanes, size - size % n_lanes)


@jit(inline=True)
def _pad(m, n_lanes):
    """A block of ``m`` points is computed as ``m`` rounded up to a multiple of
    ``n_lanes``, the unit of :func:`lane_sum`; the padding carries no weight."""
    return (m + n_lanes - 1) // n_lanes * n_lanes


@jit(inline=True)
def _standardised_block(x, start, block, center, inv_scale, z):
    """``z[j] = (x[start + j] - center) * inv_scale`` for the block of points from
    ``start`` (in float64, then stored in ``z``'s type), then zeros up to a multiple of
    :func:`lanes`; returns the number of points and the padded length."""
    m = min(block, x.size - start)
    padded = _pad(m, lanes(z))
    # Through a slice: indexing x[start + j] makes numba check for a negative index
    # (which counts from the end) at every point, and LLVM then gathers instead of
    # loading a vector, which is much slower.
    points = x[start : start + m]
    for j in range(m):
        z[j] = (points[j] - center) * inv_scale
    for j in range(m, padded):
        z[j] = 0.0
    return m, padded


@jit(inline=True)
def _reset_moments(s0, s1, s2):
    for k in range(s0.size):
        s0[k] = 0.0
        s1[k] = 0.0
        s2[k] = 0.0


@jit(inline=True)
def _add_moments(s0, s1, s2, k, moments):
    """Adds a block's ``(sum r, sum r d, sum r d^2)`` to the statistics of component ``k``."""
    a0, a1, a2 = moments
    s0[k] += a0
    s1[k] += a1
    s2[k] += a2


@jit(inline=True)
def _block_log_likelihood(point_weight, start, m, padded, top, norm):
    """Log-likelihood of a block and its share of ``sum log max_k r_k``; turns ``norm[j]``
    (``sum_k exp(log p_k - top[j])``) into the factor that makes ``exp(log p_k - top[j])``
    a responsibility times the point's weight, 0 in the padding.

    Unweighted, the block takes one ``log`` of the product of the normalisers (each in
    [1, K]); weighted, one per point, in float64 whatever the type of ``top`` and ``norm``.
    """
    one = norm.dtype.type(1.0)
    if point_weight.size > 0:
        total = 0.0
        log_map = 0.0
        for j in range(m):
            weight = point_weight[start + j]
            log_norm_j = math.log(np.float64(norm[j]))
            total += weight * (top[j] + log_norm_j)
            log_map -= weight * log_norm_j
            norm[j] = weight / norm[j]
    else:
        for j in range(m, padded):
            top[j] = 0.0
            norm[j] = 1.0
        log_product = math.log(lane_product(norm, padded))
        total = lane_sum(top, padded) + log_product
        for j in range(padded):
            norm[j] = one / norm[j]
        log_map = -log_product
    for j in range(m, padded):
        norm[j] = 0.0
    return total, log_map


@jit(inline=True)
def _expectation(
    x, point_weight, center, inv_scale, per_component, statistics, dev, dens, per_point, far
):
    """One pass over the points: log-likelihood of the current parameters, M-step statistics.

    For each point, the K log-densities, their log-sum-exp and the responsibilities
    ``r_k``; accumulates ``s0 = sum r``, ``s1 = sum r (z - mu)`` and
    ``s2 = sum r (z - mu)^2`` around the current means, reusing the ``z - mu`` of the
    density. ``point_weight`` holds one weight per point, or is empty for unit weights.

    The points go in blocks of ``dev.shape[1]``; each step is a loop over a block that
    LLVM vectorises, ``exp`` is :func:`exp_shifted`, and the sums over a block are
    :func:`lane_sum`, in an order that does not depend on the CPU. Arrays of the E-step's
    type: ``per_component`` (4, K), the means, ``log_norm`` and ``half_precision`` of
    :func:`_e_step_parameters` and the points of :func:`_moved_far`; scratch ``dev`` and
    ``dens`` (K, block) and ``per_point`` (4, block), for ``z``, ``top``, ``norm`` and
    ``bits``. ``statistics`` (float64, at least 3 rows of K) receives ``s0``, ``s1``,
    ``s2``. They come as 2D arrays because numba updates an array's reference count
    twice on each call it is passed to (atomically, a cost per iteration); the rows are
    taken here.

    With ``far``, ``s1`` and ``s2`` are accumulated around the points of
    :func:`_moved_far` (``per_component[3]``) instead of the means.

    Returns the total log-likelihood and ``sum log max_k r_k`` (the log-probability of
    the most likely labelling, for ICL), both weighted and in standardised units.
    """
    means, log_norm, half_precision, around = (
        per_component[0],
        per_component[1],
        per_component[2],
        per_component[3],
    )
    s0, s1, s2 = statistics[0], statistics[1], statistics[2]
    z, top, norm, bits = per_point[0], per_point[1], per_point[2], per_point[3]
    n_components = means.size
    block = dev.shape[1]
    _reset_moments(s0, s1, s2)
    total = 0.0
    log_map = 0.0
    for start in range(0, x.size, block):
        m, padded = _standardised_block(x, start, block, center, inv_scale, z)
        for j in range(padded):
            top[j] = -math.inf
            norm[j] = 0.0
        for k in range(n_components):
            mean = means[k]
            constant = log_norm[k]
            half = half_precision[k]
            for j in range(padded):
                d = z[j] - mean
                dev[k, j] = d
                dens[k, j] = fma(-half * d, d, constant)
                top[j] = max(top[j], dens[k, j])
        for k in range(n_components):
            exp_shifted(dens[k], top, norm, padded, bits)
        block_total, block_map = _block_log_likelihood(point_weight, start, m, padded, top, norm)
        total += block_total
        log_map += block_map
        for k in range(n_components):
            deviation = dev[k]
            if far:
                pivot = around[k]
                for j in range(padded):
                    deviation[j] = z[j] - pivot
            # The responsibilities are dens[k] * norm (0 in the padding).
            _add_moments(s0, s1, s2, k, lane_product_moments(dens[k], norm, deviation, padded))
    return total, log_map


@jit
def _expectation_two(
    x, point_weight, center, inv_scale, per_component, statistics, dev, dens, per_point
):
    """:func:`_expectation` for two components, with one ``exp`` per point instead of two.

    With ``diff = log p_1 - log p_0`` and ``e = exp(-|diff|)``, the likelier component
    has responsibility ``1 / (1 + e)`` and the other ``e / (1 + e)``; ``log(1 + e)`` is
    what the maximum's log-density lacks of the log-likelihood. Same scratch arrays;
    ``dens[0]`` holds ``e`` and ``dens[1]`` whether component 1 is the likelier, then
    the responsibilities.
    """
    block = dev.shape[1]
    s0, s1, s2 = statistics[0], statistics[1], statistics[2]
    z, top, norm, bits = per_point[0], per_point[1], per_point[2], per_point[3]
    zero, one, floor = z.dtype.type(0.0), z.dtype.type(1.0), lowest(z)
    mean0, mean1 = per_component[0, 0], per_component[0, 1]
    constant0, constant1 = per_component[1, 0], per_component[1, 1]
    half0, half1 = per_component[2, 0], per_component[2, 1]
    small, upper = dens[0], dens[1]
    dev0, dev1 = dev[0], dev[1]
    _reset_moments(s0, s1, s2)
    total = 0.0
    log_map = 0.0
    for start in range(0, x.size, block):
        m, padded = _standardised_block(x, start, block, center, inv_scale, z)
        for j in range(padded):
            d0 = z[j] - mean0
            d1 = z[j] - mean1
            l0 = fma(-half0 * d0, d0, constant0)
            l1 = fma(-half1 * d1, d1, constant1)
            dev0[j] = d0
            dev1[j] = d1
            diff = l1 - l0
            upper[j] = one if diff > zero else zero
            top[j] = max(l0, l1)
            arg = -abs(diff)
            poly, bits[j] = exp_parts(max(arg, floor))
            small[j] = poly if arg > floor else zero
        powers_of_two(bits, padded)
        for j in range(padded):
            e = small[j] * bits[j]
            norm[j] = one + e
            small[j] = e
        block_total, block_map = _block_log_likelihood(point_weight, start, m, padded, top, norm)
        total += block_total
        log_map += block_map
        for j in range(padded):
            likely = norm[j]
            unlikely = small[j] * likely
            r1 = likely if upper[j] > zero else unlikely
            r0 = unlikely if upper[j] > zero else likely
            small[j] = r0
            upper[j] = r1
        _add_moments(s0, s1, s2, 0, lane_moments(small, dev0, padded))
        _add_moments(s0, s1, s2, 1, lane_moments(upper, dev1, padded))
    return total, log_map


# The E-step kernels: one fit calls two of them by address (``e_step``, ``e_step_far``),
# chosen by :func:`e_steps`, so that it compiles only those it uses; all have the same
# arguments and results.


@jit
def _expectation_near(
    x, point_weight, center, inv_scale, per_component, statistics, dev, dens, per_point
):
    """:func:`_expectation` around the means."""
    return _expectation(
        x, point_weight, center, inv_scale, per_component, statistics, dev, dens, per_point, False
    )


@jit
def _expectation_far(
    x, point_weight, center, inv_scale, per_component, statistics, dev, dens, per_point
):
    """:func:`_expectation` around the points of :func:`_moved_far`."""
    return _expectation(
        x, point_weight, center, inv_scale, per_component, statistics, dev, dens, per_point, True
    )


def e_steps(values, sample_weight, n_components, dtype):
    """``(e_step, e_step_far)`` for a fit of ``n_components`` whose E-step is in ``dtype``
    (``values`` and ``sample_weight`` as the fit kernels get them): :func:`_expectation_two`
    (two components) or :func:`_expectation_near`, and :func:`_expectation_far`, compiled
    (or loaded from numba's cache) and passed by address."""
    key = (type_key(values), type_key(sample_weight), n_components == 2, np.dtype(dtype))
    found = _E_STEPS.get(key)
    if found is None:
        scratch = np.empty((1, 1), dtype)
        arguments = (
            values[:0],
            sample_weight[:0],
            0.0,
            1.0,
            scratch,
            np.empty((1, 1)),
            scratch,
            scratch,
            scratch,
        )
        near = _expectation_two if n_components == 2 else _expectation_near
        found = _E_STEPS[key] = (
            by_address(near, arguments),
            by_address(_expectation_far, arguments),
        )
    return found


_E_STEPS = {}
"""The E-steps :func:`e_steps` found, by what their types depend on."""


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
def _maximisation(s0, s1, s2, weights, means, variances, options, raw, pivots):
    """New parameters from the statistics of :func:`_expectation`, in place.

    The sums are taken around ``pivots`` (K,): the old means as the E-step held them
    (rounded to float32 in a float32 E-step), or the points of :func:`_moved_far`. The
    new mean is ``pivot + s1/s0`` and the new variance ``s2/s0 - (s1/s0)^2``, so nothing
    cancels when the data sit far from zero. A fixed mean stays, and the variance is
    then ``s2/s0`` around it (corrected for a pivot that differs from it by rounding).
    Free weights share what the fixed ones leave, in proportion to ``s0``. Returns True
    when a component collapsed (its variance fell below the floor, or its weight to zero).
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
    floor = max(reg_variance, MIN_VARIANCE)
    for k in range(n_components):
        if fixed_variances[k]:
            continue
        if raw[k] < floor:
            floored = True
        variances[k] = max(raw[k] + reg_variance, MIN_VARIANCE)
    return floored


# Stopping rules, as fit's ``stop`` names them (api.py).
LOGLIK, RELATIVE, AITKEN, PARAMETER = 0, 1, 2, 3

# SQUAREM's step-length bounds (R SQUAREM's defaults step.min0 = 1, step.max0 = 1, mstep = 4).
STEP_MIN = 1.0
STEP_MAX0 = 1.0
MSTEP = 4.0


@jit(inline=True)
def _e_step_parameters(weights, means, variances, per_component):
    """Fills the E-step's per-component rows (of its type): the means as the E-step holds
    them (rounded to its type) and the constants of :func:`_log_norm_and_precision`; the
    fourth row is for the points of :func:`_moved_far`."""
    for k in range(means.size):
        per_component[0, k] = means[k]
    _log_norm_and_precision(weights, variances, per_component[1], per_component[2])


@jit
def _em_map(
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
    parameters are left as they were.
    """
    n_components = means.size
    _e_step_parameters(weights, means, variances, per_component)
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
    floored = _maximisation(s0, s1, s2, weights, means, variances, options, raw, pivots)
    return log_likelihood, log_map, floored


@jit
def _log_likelihood_only(
    x,
    point_weight,
    center,
    inv_scale,
    weights,
    means,
    variances,
    statistics,
    per_component,
    dev,
    dens,
    per_point,
    e_step,
):
    """``(log_likelihood, log_map)`` of the parameters, which stay as they are."""
    _e_step_parameters(weights, means, variances, per_component)
    return e_step(
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


@jit(inline=True)
def _copy_parameters(weights, means, variances, into):
    """``into[0:3]`` = weights, means, variances."""
    for k in range(means.size):
        into[0, k] = weights[k]
        into[1, k] = means[k]
        into[2, k] = variances[k]


@jit(inline=True)
def _squared_change(weights, means, variances, before):
    """Squared L2 distance between the parameters and ``before`` (rows 0 to 2)."""
    total = 0.0
    for k in range(means.size):
        dw = weights[k] - before[0, k]
        dm = means[k] - before[1, k]
        dv = variances[k] - before[2, k]
        total += dw * dw + dm * dm + dv * dv
    return total


@jit
def _aitken_rate(current, previous, before):
    """``a_t = (l_t - l_{t-1}) / (l_{t-1} - l_{t-2})``, NaN where undefined."""
    step = previous - before
    if not (math.isfinite(before) and step != 0.0):
        return math.nan
    return (current - previous) / step


@jit
def _stopped(stop, tol, current, previous, before, inv_n, data_shift, squared_change):
    """Whether the stopping rule ``stop`` holds after the log-likelihoods
    ``l_{t-2}, l_{t-1}, l_t`` = ``before, previous, current`` (totals, standardised units)
    and a squared parameter change ``squared_change``. Each compares with ``<``, so
    ``tol = 0`` never stops a fit."""
    if stop == LOGLIK:
        # The per-point values are formed first, as the rule is defined on them.
        return abs(current * inv_n - previous * inv_n) < tol
    if stop == RELATIVE:
        # mclust's err = |l_t - l_{t-1}| / (1 + |l_t|), l in the data's units.
        return abs(current - previous) < tol * (1.0 + abs(current + data_shift))
    if stop == AITKEN:
        # No change at the step before: a rate of 0, so the limit is l_t itself.
        rate = 0.0 if previous == before else _aitken_rate(current, previous, before)
        if not rate < 1.0:
            return False
        limit = previous + (current - previous) / (1.0 - rate)
        return abs(limit - current) < tol
    # The parameters' change alone, and the mean log-likelihood per point changing by less
    # than tol too: a component collapsing onto tied points shrinks its variance by
    # amounts that are small in absolute terms while its density, and the log-likelihood,
    # grow without bound; it must run on to the variance floor, where it is flagged. At a
    # maximum the log-likelihood's change is of the order of the squared parameter change,
    # far below tol.
    return math.sqrt(squared_change) < tol and abs(current * inv_n - previous * inv_n) < tol


@jit
def _to_coordinates(weights, means, variances, fixed_weights, into):
    """Parameters in SQUAREM's coordinates, where every point is a valid mixture: log
    weights (fixed ones left out of the step), means, log variances. False when a weight is
    0 or a variance at the floor (no step from there)."""
    for k in range(means.size):
        if weights[k] <= 0.0 or variances[k] <= MIN_VARIANCE:
            return False
        into[0, k] = 0.0 if fixed_weights[k] else math.log(weights[k])
        into[1, k] = means[k]
        into[2, k] = math.log(variances[k])
    return True


@jit
def _from_coordinates(u, fixed_weights, weights, means, variances):
    """Parameters from SQUAREM's coordinates: the free weights share what the fixed ones
    leave in proportion to ``exp`` of their coordinates. False when a variance would fall
    below the floor or a value is not finite."""
    n_components = means.size
    fixed_mass = 0.0
    top = -math.inf
    for k in range(n_components):
        if fixed_weights[k]:
            fixed_mass += weights[k]
        else:
            top = max(top, u[0, k])
    total = 0.0
    for k in range(n_components):
        if not fixed_weights[k]:
            total += math.exp(u[0, k] - top)
    for k in range(n_components):
        variance = math.exp(u[2, k])
        if not (math.isfinite(u[1, k]) and variance > MIN_VARIANCE and math.isfinite(variance)):
            return False
    for k in range(n_components):
        if not fixed_weights[k]:
            weights[k] = (1.0 - fixed_mass) * math.exp(u[0, k] - top) / total
        means[k] = u[1, k]
        variances[k] = math.exp(u[2, k])
    return True


@jit(inline=True)
def _fit_one(
    x,
    point_weight,
    center,
    inv_scale,
    weights,
    means,
    variances,
    max_iter,
    tol,
    options,
    squarem,
    stop,
    dtype,
    trace,
    interrupted,
    e_step,
    e_step_far,
):
    """Run EM (or, with ``squarem``, SQUAREM) for one fit, updating ``weights``,
    ``means``, ``variances`` in place.

    EM: iteration ``t`` evaluates the log-likelihood of the parameters ``theta_{t-1}`` in
    the same pass that produces ``theta_t``. SQUAREM (Varadhan & Roland 2008, scheme SqS3):
    each step maps ``theta_0`` twice, extrapolates to
    ``theta' = theta_0 + 2 a r + a^2 v`` (``r = theta_1 - theta_0``,
    ``v = theta_2 - 2 theta_1 + theta_0``, ``a = |r| / |v|`` clipped to ``[1, step_max]``)
    in coordinates where every point is a valid mixture (:func:`_to_coordinates`), and
    maps ``theta'`` once more; when ``theta'`` is invalid or its log-likelihood is below
    ``theta_0``'s, the step is the plain ``theta_2`` and ``step_max`` shrinks (EM never
    lowers the log-likelihood, so neither does an accepted step). R's SQUAREM instead
    tests the stabilised ``F(theta')`` and tolerates a decrease of up to ``objfn.inc = 1``;
    testing ``theta'`` costs no extra pass and keeps every step monotone.

    A fit stops when ``stop`` holds between accepted steps (:func:`_stopped`). A last pass
    gives the log-likelihood of the returned parameters. ``trace[t]`` is the
    log-likelihood after ``t`` accepted steps, for ``t`` below the length of ``trace``.

    Returns ``(log_likelihood, log_map, n_iter, converged, status, n_fpeval, rate,
    parameter_rate)``: ``n_iter`` accepted steps, ``n_fpeval`` EM maps (each also computes
    a log-likelihood, and so does the last pass unless the fit became non-finite), ``rate``
    the last ``a_t`` of the log-likelihoods, ``parameter_rate`` the last ratio of the norms
    of two successive parameter steps, ``|theta_t - theta_{t-1}| / |theta_{t-1} -
    theta_{t-2}|``. Near a maximum EM's error shrinks as ``lambda^t``, ``lambda`` the
    largest eigenvalue of its map's Jacobian: the steps shrink as ``lambda^t`` too, and the
    log-likelihood's gap, a quadratic form in the error, as ``lambda^(2t)``; so
    ``parameter_rate`` tends to ``lambda`` and ``rate`` to ``lambda^2``.
    """
    n_components = means.size
    # Scratch, allocated once per fit: the M-step's statistics in float64, the E-step's
    # arrays in its type.
    statistics = np.empty((4, n_components))
    per_component = np.empty((4, n_components), dtype)
    block = block_size(n_components, lanes(per_component))
    per_point = np.empty((4, block), dtype)
    dev = np.empty((n_components, block), dtype)
    dens = np.empty((n_components, block), dtype)
    saved = np.empty((3, 3, n_components))  # theta_0, theta_1 and theta_2 (SQUAREM)
    coords = np.empty((3, 3, n_components))  # their coordinates
    total_weight = 0.0
    for i in range(point_weight.size):
        total_weight += point_weight[i]
    n = total_weight if point_weight.size > 0 else x.size
    inv_n = 1.0 / n
    data_shift = n * math.log(inv_scale)  # log-likelihood in the data's units, less this
    fixed_weights = options[2]
    previous = -math.inf
    before = -math.inf
    rate = math.nan
    parameter_rate = math.nan
    previous_change = 0.0
    converged = False
    floored = False
    n_iter = 0
    n_fpeval = 0
    step_max = STEP_MAX0
    for it in range(max_iter):
        if interrupted[0]:
            break
        _copy_parameters(weights, means, variances, saved[0])
        log_likelihood, log_map, floored = _em_map(
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
        )
        n_fpeval += 1
        if it < trace.size:
            trace[it] = log_likelihood
        if not math.isfinite(log_likelihood):
            return (
                log_likelihood,
                log_map,
                n_iter,
                False,
                NON_FINITE,
                n_fpeval,
                rate,
                parameter_rate,
            )
        if squarem and not floored:
            # theta_1 is in place; map it once more, then extrapolate.
            _copy_parameters(weights, means, variances, saved[1])
            middle, _, floored = _em_map(
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
            )
            n_fpeval += 1
            if math.isfinite(middle) and not floored:
                _copy_parameters(weights, means, variances, saved[2])
                step_max, extra = _squarem_step(
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
                    saved,
                    coords,
                    fixed_weights,
                    log_likelihood,
                    step_max,
                    e_step,
                    e_step_far,
                )
                n_fpeval += extra
        n_iter = it + 1
        change = _squared_change(weights, means, variances, saved[0])
        if n_iter > 1:
            rate = _aitken_rate(log_likelihood, previous, before)
            if previous_change > 0.0:
                parameter_rate = math.sqrt(change / previous_change)
        previous_change = change
        if _stopped(stop, tol, log_likelihood, previous, before, inv_n, data_shift, change):
            converged = True
            break
        before = previous
        previous = log_likelihood
    log_likelihood, log_map = _log_likelihood_only(
        x,
        point_weight,
        center,
        inv_scale,
        weights,
        means,
        variances,
        statistics,
        per_component,
        dev,
        dens,
        per_point,
        e_step,
    )
    if n_iter < trace.size:
        trace[n_iter] = log_likelihood
    if not math.isfinite(log_likelihood):
        status = NON_FINITE
    elif floored:
        status = VARIANCE_FLOORED
    else:
        status = CONVERGED if converged else MAX_ITER
    return (log_likelihood, log_map, n_iter, converged, status, n_fpeval, rate, parameter_rate)


@jit
def _squarem_step(
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
    saved,
    coords,
    fixed_weights,
    start_log_likelihood,
    step_max,
    e_step,
    e_step_far,
):
    """From ``theta_0, theta_1, theta_2`` in ``saved`` (``theta_2`` also in place), the
    SqS3 extrapolation and its stabilising EM map, or ``theta_2`` itself; leaves the
    accepted parameters in place. Returns ``(step_max, maps)``: the new step bound and
    the maps it ran (0 or 1). An extrapolation whose map collapses a component is not
    accepted, so what it leaves never has one."""
    n_components = means.size
    for j in range(3):
        if not _to_coordinates(saved[j, 0], saved[j, 1], saved[j, 2], fixed_weights, coords[j]):
            return step_max, 0
    r2 = 0.0
    v2 = 0.0
    for row in range(3):
        for k in range(n_components):
            r = coords[1, row, k] - coords[0, row, k]
            v = coords[2, row, k] - 2.0 * coords[1, row, k] + coords[0, row, k]
            r2 += r * r
            v2 += v * v
    if not (r2 > 0.0 and v2 > 0.0):
        return step_max, 0
    step = max(STEP_MIN, min(step_max, math.sqrt(r2 / v2)))
    grown = step * MSTEP if step == step_max else step_max
    if step == STEP_MIN:
        return grown, 0  # the extrapolation is theta_2 itself
    # theta' in coords[1] (theta_1's coordinates are no longer needed).
    for row in range(3):
        for k in range(n_components):
            r = coords[1, row, k] - coords[0, row, k]
            v = coords[2, row, k] - 2.0 * coords[1, row, k] + coords[0, row, k]
            coords[1, row, k] = coords[0, row, k] + 2.0 * step * r + step * step * v
    if _from_coordinates(coords[1], fixed_weights, weights, means, variances):
        extrapolated, _, floored = _em_map(
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
        )
        if math.isfinite(extrapolated) and extrapolated >= start_log_likelihood and not floored:
            return grown, 1
        maps = 1
    else:
        maps = 0
    # Back to theta_2, a step of 1, and a shorter step bound; as in R's SQUAREM, a bound
    # back at its start grows again at once (the step of 1 reaches it).
    for k in range(n_components):
        weights[k] = saved[2, 0, k]
        means[k] = saved[2, 1, k]
        variances[k] = saved[2, 2, k]
    if step == step_max:
        step_max = max(STEP_MAX0, step_max / MSTEP)
    if step_max == STEP_MIN:
        step_max *= MSTEP
    return step_max, maps


@jit(inline=True)
def _fit_at(
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
    tol,
    reg_variance,
    equal_variance,
    fixed_weights,
    fixed_means,
    fixed_variances,
    stop,
    dtype,
    trace,
    log_likelihood,
    log_map,
    n_iter,
    converged,
    status,
    n_fpeval,
    rate,
    e_step,
    e_step_far,
    interrupted,
    squarem,
):
    """Fit ``f`` of the batch, by EM or (``squarem``, a constant) SQUAREM: dataset
    ``f // n_init``, restart ``f % n_init``.

    Parameters
    ----------
    f : int, the fit.
    values, offsets : the ragged layout (see ``_layout``).
    sample_weight : array like ``values``, or of size 0 for unit weights.
    center, scale : arrays of shape (n_datasets,), the standardisation.
    weights, means, variances : arrays of shape (n_fits, K)
        Starting values in standardised units on entry, fitted values on return.
    max_iter : int
    tol : float
    reg_variance, equal_variance, fixed_weights, fixed_means, fixed_variances
        The M-step's options, packed here into :func:`_fit_one`'s ``options`` tuple
        (numba's parallel loop takes no tuple of arrays); the last three are boolean
        arrays of shape (K,).
    stop : int
        The stopping rule (``LOGLIK``, ``RELATIVE``, ``AITKEN``, ``PARAMETER``).
    dtype : numpy.dtype, float64 or float32
        The E-step's precision (see the module's docstring); numba compiles one kernel
        for each.
    trace : array of shape (n_fits, L), L from 0 to max_iter + 1
        Filled with the log-likelihood after each of the first L iterations; entries after
        a fit stops are left untouched.
    log_likelihood, log_map, n_iter, converged, status, n_fpeval : arrays
        of shape (n_fits,), outputs (see :func:`_fit_one`).
    rate : array of shape (n_fits, 2), output: :func:`_fit_one`'s ``rate`` and
        ``parameter_rate``.
    e_step, e_step_far : the E-step kernels, by address (:func:`e_steps`).
    interrupted : array of shape (1,)
        Set (from another thread) to stop the fit at its next iteration.
    squarem : bool, a constant in each kernel (:func:`fit_em`, :func:`fit_squarem`).
    """
    x, point_weight, loc, inv_scale = fit_data(
        f, means.shape[0], values, offsets, sample_weight, center, scale
    )
    (
        log_likelihood[f],
        log_map[f],
        n_iter[f],
        converged[f],
        status[f],
        n_fpeval[f],
        rate[f, 0],
        rate[f, 1],
    ) = _fit_one(
        x,
        point_weight,
        loc,
        inv_scale,
        weights[f],
        means[f],
        variances[f],
        max_iter,
        tol,
        (reg_variance, equal_variance, fixed_weights, fixed_means, fixed_variances),
        squarem,
        stop,
        dtype,
        trace[f],
        interrupted,
        e_step,
        e_step_far,
    )


# The two kernels of a fit, one per algorithm, so that a fit compiles only the one it
# runs: numba drops the branch of the other (``squarem`` is a constant in each). Their
# arguments are :func:`_fit_at`'s.


@jit
def fit_em(
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
    tol,
    reg_variance,
    equal_variance,
    fixed_weights,
    fixed_means,
    fixed_variances,
    stop,
    dtype,
    trace,
    log_likelihood,
    log_map,
    n_iter,
    converged,
    status,
    n_fpeval,
    rate,
    e_step,
    e_step_far,
    interrupted,
):
    """Fit ``f`` of the batch by EM."""
    _fit_at(
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
        tol,
        reg_variance,
        equal_variance,
        fixed_weights,
        fixed_means,
        fixed_variances,
        stop,
        dtype,
        trace,
        log_likelihood,
        log_map,
        n_iter,
        converged,
        status,
        n_fpeval,
        rate,
        e_step,
        e_step_far,
        interrupted,
        False,
    )


@jit
def fit_squarem(
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
    tol,
    reg_variance,
    equal_variance,
    fixed_weights,
    fixed_means,
    fixed_variances,
    stop,
    dtype,
    trace,
    log_likelihood,
    log_map,
    n_iter,
    converged,
    status,
    n_fpeval,
    rate,
    e_step,
    e_step_far,
    interrupted,
):
    """Fit ``f`` of the batch by SQUAREM."""
    _fit_at(
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
        tol,
        reg_variance,
        equal_variance,
        fixed_weights,
        fixed_means,
        fixed_variances,
        stop,
        dtype,
        trace,
        log_likelihood,
        log_map,
        n_iter,
        converged,
        status,
        n_fpeval,
        rate,
        e_step,
        e_step_far,
        interrupted,
        True,
    )
