"""The E-step kernels: one fused pass over a fit's points that gives the log-likelihood of
its parameters and the M-step's statistics (:func:`e_steps` picks and compiles them).

All parameters here are in standardised units: the data of dataset ``d`` are read as
``z = (x - center[d]) / scale[d]``, so the dataset has mean 0 and variance 1.

The E-step runs in the precision ``dtype`` of :func:`fastem.engine.kernels.fit_em`:
float64, or float32 for twice as many points per vector instruction. Its source is the
same for both (numba compiles it once per type of its scratch arrays; every constant in
it takes the type of those arrays, and the helpers of :mod:`.vmath` and :mod:`.lanes`
pick their float32 versions by type). Each block of points is standardised in float64
and then rounded to ``dtype``; the per-point log-densities, their maximum, the ``exp``
and the responsibilities are in ``dtype``; the sums over a block are taken in 16
float32 lanes (:func:`.lanes.lane_sum`) and added into float64 totals. Parameters, the
log-likelihood's total, the M-step, SQUAREM and the stopping rules are float64 in both.
"""

from __future__ import annotations

import math

import numpy as np

from .jit import by_address, jit, type_key
from .lanes import fma, lane_moments, lane_product, lane_product_moments, lane_sum, lanes
from .vmath import exp_constants, exp_parts, exp_shifted, lowest, power_of_two

LOG_2PI = math.log(2.0 * math.pi)


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
    (:func:`.lanes.lanes`: 8 for float64, 16 for float32).

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
    """Log-likelihood of a block and its share of ``sum log max_k r_k``, from each point's
    maximum log-density ``top[j]`` and normaliser ``norm[j]`` (``sum_k exp(log p_k -
    top[j])``, in [1, K]).

    Unweighted, the block takes one ``log`` of the product of the normalisers (padded
    with 1, the padding's ``top`` with 0); weighted, one per point, in float64 whatever
    the type of ``top`` and ``norm``.
    """
    if point_weight.size > 0:
        total = 0.0
        log_map = 0.0
        for j in range(m):
            weight = point_weight[start + j]
            log_norm_j = math.log(np.float64(norm[j]))
            total += weight * (top[j] + log_norm_j)
            log_map -= weight * log_norm_j
        return total, log_map
    for j in range(m, padded):
        top[j] = 0.0
        norm[j] = 1.0
    log_product = math.log(lane_product(norm, padded))
    return lane_sum(top, padded) + log_product, -log_product


@jit(inline=True)
def _normalisers_to_factors(point_weight, start, m, padded, norm):
    """Turns ``norm[j]`` into the factor that makes ``exp(log p_k - top[j])`` a
    responsibility times the point's weight: ``1 / norm[j]``, or ``weight / norm[j]``
    (in float64, then rounded to ``norm``'s type), and 0 in the padding."""
    if point_weight.size > 0:
        for j in range(m):
            norm[j] = point_weight[start + j] / norm[j]
    else:
        one = norm.dtype.type(1.0)
        for j in range(m):
            norm[j] = one / norm[j]
    for j in range(m, padded):
        norm[j] = 0.0


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
    :func:`e_step_parameters` and the points of :func:`.mstep._moved_far`; scratch ``dev`` and
    ``dens`` (K, block) and ``per_point`` (at least 3 rows of block), for ``z``, ``top``
    and ``norm``. ``statistics`` (float64, at least 3 rows of K) receives ``s0``, ``s1``,
    ``s2``. They come as 2D arrays because numba updates an array's reference count
    twice on each call it is passed to (atomically, a cost per iteration); the rows are
    taken here.

    With ``far``, ``s1`` and ``s2`` are accumulated around the points of
    :func:`.mstep._moved_far` (``per_component[3]``) instead of the means.

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
    z, top, norm = per_point[0], per_point[1], per_point[2]
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
            exp_shifted(dens[k], top, norm, padded)
        block_total, block_map = _block_log_likelihood(point_weight, start, m, padded, top, norm)
        total += block_total
        log_map += block_map
        _normalisers_to_factors(point_weight, start, m, padded, norm)
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
    what the maximum's log-density lacks of the log-likelihood.

    One loop over a block's points does all of a point's work that LLVM can vectorise:
    the point's standardisation, the two log-densities, ``e`` (:func:`.vmath.exp_parts`
    and :func:`.vmath.power_of_two`, in registers), and the responsibilities (times the
    point's weight); it stores the deviations in ``dev``, the responsibilities in
    ``dens``, the maximum log-density in ``per_point[0]`` and ``1 + e`` in
    ``per_point[1]``. Two passes over what it stored follow: the block's log-likelihood
    (:func:`_block_log_likelihood`) and the M-step's sums (:func:`lane_moments`).
    """
    block = dev.shape[1]
    s0, s1, s2 = statistics[0], statistics[1], statistics[2]
    top, norm = per_point[0], per_point[1]
    cast = top.dtype.type
    zero, one, floor = cast(0.0), cast(1.0), lowest(top)
    mean0, mean1 = per_component[0, 0], per_component[0, 1]
    constant0, constant1 = per_component[1, 0], per_component[1, 1]
    half0, half1 = per_component[2, 0], per_component[2, 1]
    resp0, resp1 = dens[0], dens[1]
    dev0, dev1 = dev[0], dev[1]
    weighted = point_weight.size > 0
    constants = exp_constants(top)
    _reset_moments(s0, s1, s2)
    total = 0.0
    log_map = 0.0
    for start in range(0, x.size, block):
        m = min(block, x.size - start)
        padded = _pad(m, lanes(top))
        # Through slices, as in _standardised_block (vector loads, not gathers).
        points = x[start : start + m]
        weights = point_weight[start : start + m]  # empty when unweighted
        for j in range(m):
            z = cast((points[j] - center) * inv_scale)
            d0 = z - mean0
            d1 = z - mean1
            l0 = fma(-half0 * d0, d0, constant0)
            l1 = fma(-half1 * d1, d1, constant1)
            dev0[j] = d0
            dev1[j] = d1
            diff = l1 - l0
            top[j] = max(l0, l1)
            arg = -abs(diff)
            poly, biased = exp_parts(max(arg, floor), constants)
            e = (poly if arg > floor else zero) * power_of_two(biased)
            normaliser = one + e
            norm[j] = normaliser
            # The likelier component's responsibility (times the weight), and e times it.
            likely = cast(weights[j] / normaliser) if weighted else one / normaliser
            unlikely = e * likely
            upper = diff > zero
            resp0[j] = unlikely if upper else likely
            resp1[j] = likely if upper else unlikely
        for j in range(m, padded):  # the padding carries no weight
            dev0[j] = zero
            dev1[j] = zero
            resp0[j] = zero
            resp1[j] = zero
        block_total, block_map = _block_log_likelihood(point_weight, start, m, padded, top, norm)
        total += block_total
        log_map += block_map
        _add_moments(s0, s1, s2, 0, lane_moments(resp0, dev0, padded))
        _add_moments(s0, s1, s2, 1, lane_moments(resp1, dev1, padded))
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


plain_e_step = _expectation_near
"""The E-step around the means, for a kernel not passed one by address: the log-likelihood
of random starts (:mod:`.rndem`)."""

plain_e_step_two = _expectation_two
"""The E-step of two components, for a kernel not passed one by address: the EM-test's
alternatives of one null component (:mod:`.emtest`)."""


@jit
def _expectation_far(
    x, point_weight, center, inv_scale, per_component, statistics, dev, dens, per_point
):
    """:func:`_expectation` around the points of :func:`.mstep._moved_far`."""
    return _expectation(
        x, point_weight, center, inv_scale, per_component, statistics, dev, dens, per_point, True
    )


FAR_PASS_PENDING = -1
"""The status of a fit that needed the far pass while :func:`e_steps` passed
:func:`_far_pass_pending` in its place; never returned to users (:func:`.run.run` runs the
batch again with the far pass)."""
PENDING_ROW = 4
"""The row of the fit's ``statistics`` (float64, 5 rows) where :func:`_far_pass_pending`
marks the fit, in column 0."""


@jit
def _far_pass_pending(
    x, point_weight, center, inv_scale, per_component, statistics, dev, dens, per_point
):
    """Stands in for :func:`_expectation_far` while no fit has needed it: marks the fit
    (``statistics[PENDING_ROW, 0]``), which stops at its next iteration with status
    :data:`FAR_PASS_PENDING`. Until then the M-step takes the near pass's sums, around the
    means (the points it would have used are set to them), so that the parameters stay a
    mixture. It compiles in a fraction of the time of the far pass, which most batches
    never call (only a mean that moves by more than 100 of its new standard deviations in
    one iteration does)."""
    statistics[PENDING_ROW, 0] = 1.0
    for k in range(per_component.shape[1]):
        per_component[3, k] = per_component[0, k]
    return math.nan, math.nan


def e_steps(values, sample_weight, n_components, dtype, far=False):
    """``(e_step, e_step_far)`` for a fit of ``n_components`` whose E-step is in ``dtype``
    (``values`` and ``sample_weight`` as the fit kernels get them), compiled (or loaded
    from numba's cache) and passed by address: :func:`_expectation_two` (two components)
    or :func:`_expectation_near`, and :func:`_expectation_far`.

    The far pass is compiled only when a batch needs it: until ``far`` is true for these
    types, or it was compiled in this process, ``e_step_far`` is
    :func:`_far_pass_pending`, and a fit that needs it stops with status
    :data:`FAR_PASS_PENDING`; :func:`.run.run` then runs the batch again with
    ``far=True``. Results are the same bits either way: a fit that never moves far never
    calls it, and one that does is run again from its start."""
    key = (type_key(values), type_key(sample_weight), n_components == 2, np.dtype(dtype))
    found = _E_STEPS.get(key)
    if found is None or (far and found[2] is not _expectation_far):
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
        second = _expectation_far if far else _far_pass_pending
        found = _E_STEPS[key] = (
            by_address(near, arguments),
            by_address(second, arguments),
            second,
        )
    return found[0], found[1]


_E_STEPS: dict[tuple, tuple] = {}
"""The E-steps :func:`e_steps` found, by what their types depend on, with the function
passed as the far pass."""


@jit(inline=True)
def e_step_parameters(weights, means, variances, per_component):
    """Fills the E-step's per-component rows (of its type): the means as the E-step holds
    them (rounded to its type) and the constants of :func:`_log_norm_and_precision`; the
    fourth row is for the points of :func:`.mstep._moved_far`."""
    for k in range(means.size):
        per_component[0, k] = means[k]
    _log_norm_and_precision(weights, variances, per_component[1], per_component[2])
