"""SQUAREM's extrapolation step (Varadhan & Roland 2008, schemes SqS1, SqS2, SqS3) and the
coordinates it extrapolates in, where every point is a valid mixture; the quasi-Newton
step (:mod:`.quasi_newton`) shares them, and the stabilising map and its test
(:func:`stabilise`)."""

from __future__ import annotations

import math

from .jit import jit
from .methods import SQS1, SQS2
from .mstep import MIN_VARIANCE, em_map

# SQUAREM's step-length bounds (R SQUAREM's defaults step.min0 = 1, step.max0 = 1, mstep = 4).
STEP_MIN = 1.0
STEP_MAX0 = 1.0
MSTEP = 4.0


@jit
def to_coordinates(weights, means, variances, fixed_weights, into):
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
def from_coordinates(u, fixed_weights, weights, means, variances):
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


@jit
def all_coordinates(saved, fixed_weights, coords):
    """``coords[j]`` = the coordinates of ``saved[j]`` (``theta_0, theta_1, theta_2``).
    False when one has none (a weight of 0 or a variance at the floor)."""
    for j in range(3):
        if not to_coordinates(saved[j, 0], saved[j, 1], saved[j, 2], fixed_weights, coords[j]):
            return False
    return True


@jit
def stabilise(
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
    point,
    fixed_weights,
    start_log_likelihood,
    e_step,
    e_step_far,
):
    """The stabilising EM map of an extrapolated ``point`` (coordinates, shape (3, K)):
    leaves ``F(point)`` in place when ``point`` is a valid mixture whose log-likelihood
    (computed by the same map) is at least ``start_log_likelihood`` (``theta_0``'s) and
    whose map collapses no component, else ``theta_2`` (``saved[2]``), EM's step.
    Returns ``(accepted, maps)``, ``maps`` the EM maps run (0 or 1). As EM never lowers
    the log-likelihood, an accepted point does not either."""
    maps = 0
    if from_coordinates(point, fixed_weights, weights, means, variances):
        extrapolated, _, floored = em_map(
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
            return True, 1
        maps = 1
    for k in range(means.size):
        weights[k] = saved[2, 0, k]
        means[k] = saved[2, 1, k]
        variances[k] = saved[2, 2, k]
    return False, maps


@jit
def step_length(method, r2, v2, rv):
    """SQUAREM's step length ``a`` of scheme ``method`` before its bounds, from ``|r|^2``,
    ``|v|^2`` and ``r.v`` (R SQUAREM's ``-srv/sv2``, ``-sr2/srv``, ``sqrt(sr2/sv2)``;
    ``v2 > 0``). SqS1 and SqS2 are negative when ``r.v >= 0``, where the bounds make it 1:
    0 is returned there, as ``-r2/0`` is undefined."""
    if method == SQS1:
        return -rv / v2
    if method == SQS2:
        return -r2 / rv if rv < 0.0 else 0.0
    return math.sqrt(r2 / v2)


@jit
def squarem_step(
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
    method,
    e_step,
    e_step_far,
):
    """From ``theta_0, theta_1, theta_2`` in ``saved`` (``theta_2`` also in place), the
    extrapolation of scheme ``method`` (a code of :mod:`.methods`: SqS1, SqS2 or SqS3)
    and its stabilising EM map (:func:`stabilise`), or ``theta_2`` itself; leaves the
    accepted parameters in place. Returns ``(step_max, maps)``: the new step bound and
    the maps it ran (0 or 1). The schemes differ only in the step length
    (:func:`step_length`); the step is clipped to ``[1, step_max]`` as in R's SQUAREM."""
    n_components = means.size
    if not all_coordinates(saved, fixed_weights, coords):
        return step_max, 0
    r2 = 0.0
    v2 = 0.0
    rv = 0.0
    for row in range(3):
        for k in range(n_components):
            r = coords[1, row, k] - coords[0, row, k]
            v = coords[2, row, k] - 2.0 * coords[1, row, k] + coords[0, row, k]
            r2 += r * r
            v2 += v * v
            rv += r * v
    if not (r2 > 0.0 and v2 > 0.0):
        return step_max, 0
    step = max(STEP_MIN, min(step_max, step_length(method, r2, v2, rv)))
    grown = step * MSTEP if step == step_max else step_max
    if step == STEP_MIN:
        return grown, 0  # the extrapolation is theta_2 itself
    # theta' in coords[1] (theta_1's coordinates are no longer needed).
    for row in range(3):
        for k in range(n_components):
            r = coords[1, row, k] - coords[0, row, k]
            v = coords[2, row, k] - 2.0 * coords[1, row, k] + coords[0, row, k]
            coords[1, row, k] = coords[0, row, k] + 2.0 * step * r + step * step * v
    accepted, maps = stabilise(
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
        coords[1],
        fixed_weights,
        start_log_likelihood,
        e_step,
        e_step_far,
    )
    if accepted:
        return grown, maps
    # Back at theta_2, a step of 1, and a shorter step bound; as in R's SQUAREM, a bound
    # back at its start grows again at once (the step of 1 reaches it).
    if step == step_max:
        step_max = max(STEP_MAX0, step_max / MSTEP)
    if step_max == STEP_MIN:
        step_max *= MSTEP
    return step_max, maps
