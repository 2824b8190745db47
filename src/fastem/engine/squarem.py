"""SQUAREM's extrapolation step (Varadhan & Roland 2008, scheme SqS3) and the coordinates
it extrapolates in, where every point is a valid mixture."""

from __future__ import annotations

import math

from .jit import jit
from .mstep import MIN_VARIANCE, em_map

# SQUAREM's step-length bounds (R SQUAREM's defaults step.min0 = 1, step.max0 = 1, mstep = 4).
STEP_MIN = 1.0
STEP_MAX0 = 1.0
MSTEP = 4.0


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
