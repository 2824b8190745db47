"""Seeds drawn from a fit's points (k-means++, or uniformly without replacement), moved by
Lloyd's k-means, and the clusters of the points nearest to them: the steps of the
seeded starting-value strategies of :mod:`.starts`.

Every function reads the points standardised (:func:`standardised`, computed where it is
needed rather than stored) and keeps O(K) numbers: a draw walks the points again rather
than remember their masses. Sample weights count as repetitions.
"""

from __future__ import annotations

import math

import numpy as np

from . import rng as _rng
from .jit import jit

_LLOYD_MAX_ROUNDS = 300


@jit(inline=True)
def weight_of(point_weight, i):
    """The weight of point ``i`` (1 for unit weights, an empty ``point_weight``)."""
    return point_weight[i] if point_weight.size > 0 else 1.0


@jit(inline=True)
def standardised(x, i, center, inv_scale):
    """Point ``i`` standardised. Computed where it is needed rather than stored, so that a
    fit holds nothing of the size of its dataset (the same bits as an array expression)."""
    return (x[i] - center) * inv_scale


@jit(inline=True)
def lightest_weight(point_weight):
    """The smallest positive weight of a point (1 for unit weights)."""
    lightest = 1.0 if point_weight.size == 0 else math.inf
    for i in range(point_weight.size):
        if 0.0 < point_weight[i] < lightest:
            lightest = point_weight[i]
    return lightest


@jit(inline=True)
def _nearest(z, seeds):
    nearest = 0
    best = abs(z - seeds[0])
    for k in range(1, seeds.size):
        dist = abs(z - seeds[k])
        if dist < best:
            best = dist
            nearest = k
    return nearest


@jit
def cluster_parameters(x, point_weight, center, inv_scale, seeds, weights, means, variances):
    """Weights, means and variances of the clusters of points nearest to each seed."""
    n_components = seeds.size
    count = np.zeros(n_components)
    s1 = np.zeros(n_components)
    s2 = np.zeros(n_components)
    for i in range(x.size):
        w = weight_of(point_weight, i)
        z = standardised(x, i, center, inv_scale)
        k = _nearest(z, seeds)
        dev = z - seeds[k]  # around the seed: no cancellation
        count[k] += w
        s1[k] += w * dev
        s2[k] += w * dev * dev
    finish_clusters(count, s1, s2, seeds, lightest_weight(point_weight), weights, means, variances)


@jit
def finish_clusters(count, s1, s2, pivots, lightest, weights, means, variances):
    n_components = pivots.size
    fallback = 1.0 / (n_components * n_components)
    total = 0.0
    for k in range(n_components):
        total += count[k]
    for k in range(n_components):
        if count[k] == 0.0:  # duplicate seeds: the first one took all their points
            weights[k] = 0.0
            means[k] = pivots[k]
            variances[k] = fallback
            continue
        shift = s1[k] / count[k]
        weights[k] = count[k] / total
        means[k] = pivots[k] + shift
        variance = s2[k] / count[k] - shift * shift
        # Two near-equal points would start a component almost collapsed.
        variances[k] = variance if variance > 1e-3 * fallback else fallback
    # Clusters emptied by duplicate seeds still need a weight to be able to grow: half a
    # point's (half a unit of weight, or of the lightest point's weight if below 1).
    floor = 0.5 * min(lightest, 1.0) / total
    norm = 0.0
    for k in range(n_components):
        weights[k] = max(weights[k], floor)
        norm += weights[k]
    for k in range(n_components):
        weights[k] /= norm


# Draws in proportion to a mass per point that is recomputed in each pass instead of
# stored. A draw takes two passes: one sums the masses, the next walks their running sum
# (in the same order, so that it reaches the same total) to the first point where it
# exceeds ``u`` times the sum. ``target=inf`` makes the walk the summing pass: it then
# returns the sum, and the last point of positive mass.


@jit
def _seed_distance_mass(x, point_weight, center, inv_scale, seeds, n_seeds, i):
    """Weight of point ``i`` times its squared distance to the nearest of the first
    ``n_seeds`` seeds (its weight alone before the first seed)."""
    w = weight_of(point_weight, i)
    if n_seeds == 0:
        return w
    z = standardised(x, i, center, inv_scale)
    nearest = math.inf
    for k in range(n_seeds):
        dev = z - seeds[k]
        nearest = min(nearest, dev * dev)
    return w * nearest


@jit
def _walk_seed_distance(x, point_weight, center, inv_scale, seeds, n_seeds, target):
    """``(i, running)``: the first point at which the running sum of the masses of
    :func:`_seed_distance_mass` exceeds ``target`` (else the last of positive mass)."""
    running = 0.0
    last = -1
    for i in range(x.size):
        mass = _seed_distance_mass(x, point_weight, center, inv_scale, seeds, n_seeds, i)
        if mass > 0.0:
            last = i
            running += mass
            if running > target:
                return i, running
    return last, running  # for a draw: rounding left ``target`` past the end


@jit
def kmeans_plusplus_seeds(x, point_weight, center, inv_scale, key, seeds):
    """k-means++ seeds, in O(n K^2) time and O(K) memory.

    The squared distance of a point to the nearest seed so far is computed again in
    every pass (K distances) rather than kept for every point: the masses, their order of
    summation and so the drawn points are those of the stored version.
    """
    n = x.size
    for k in range(seeds.size):
        _, total = _walk_seed_distance(x, point_weight, center, inv_scale, seeds, k, math.inf)
        if k == 0 or total > 0.0:
            target = _rng.uniform(key, k) * total
            chosen, _ = _walk_seed_distance(x, point_weight, center, inv_scale, seeds, k, target)
        else:  # every point coincides with a seed: fewer distinct values than K
            chosen = _rng.index(key, k, n)
        seeds[k] = standardised(x, chosen, center, inv_scale)


@jit
def _walk_weight_left(point_weight, n, drawn, left, n_drawn, target):
    """As :func:`_walk_seed_distance`, for the weight left to each point: ``left[j]`` for
    point ``drawn[j]`` (``drawn[:n_drawn]`` increasing), the point's weight otherwise."""
    running = 0.0
    last = -1
    j = 0
    for i in range(n):
        if j < n_drawn and drawn[j] == i:
            mass = left[j]
            j += 1
        else:
            mass = weight_of(point_weight, i)
        if mass > 0.0:
            last = i
            running += mass
            if running > target:
                return i, running
    return last, running


@jit
def random_seeds(x, point_weight, center, inv_scale, key, seeds):
    """K points drawn without replacement, in proportion to their weights.

    A draw takes one unit of a point's weight (all of a weight below 1), as it would
    take one of the copies of a point repeated ``w`` times; with unit weights, the K
    points are distinct. Only the points drawn so far carry a changed weight, so those
    (at most K) are all that is kept.
    """
    n = x.size
    n_components = seeds.size
    drawn = np.empty(n_components, dtype=np.int64)  # increasing point indices
    left = np.empty(n_components)
    n_drawn = 0
    for k in range(n_components):
        _, total = _walk_weight_left(point_weight, n, drawn, left, n_drawn, math.inf)
        if total > 0.0:
            target = _rng.uniform(key, k) * total
            chosen, _ = _walk_weight_left(point_weight, n, drawn, left, n_drawn, target)
        else:  # fewer weighted points than K (ruled out by validation)
            chosen = _rng.index(key, k, n)
        seeds[k] = standardised(x, chosen, center, inv_scale)
        j = 0
        while j < n_drawn and drawn[j] < chosen:
            j += 1
        if j == n_drawn or drawn[j] != chosen:
            for m in range(n_drawn, j, -1):
                drawn[m] = drawn[m - 1]
                left[m] = left[m - 1]
            drawn[j] = chosen
            left[j] = weight_of(point_weight, chosen)
            n_drawn += 1
        left[j] -= min(left[j], 1.0)


@jit(inline=True)
def _sort_few(values):
    """Sort ``values`` (finite) in place, by insertion: they are a fit's few components
    (numba's ``sort`` is slow to compile)."""
    for i in range(1, values.size):
        value = values[i]
        j = i - 1
        while j >= 0 and values[j] > value:
            values[j + 1] = values[j]
            j -= 1
        values[j + 1] = value


@jit
def lloyd(x, point_weight, center, inv_scale, seeds):
    """Lloyd's k-means from ``seeds`` (updated in place, sorted) until the clusters stay.

    In 1D the clusters of sorted centers are cut at the midpoints of neighbouring
    centers; a point at a midpoint goes to the lower center, as in the nearest-seed rule.
    Each round is one pass over the points. The clusters stay when each one keeps its
    number of points: with the centers sorted, those counts fix the cut points.
    """
    n_components = seeds.size
    midpoints = np.empty(max(n_components - 1, 0))
    weight = np.empty(n_components)
    shift = np.empty(n_components)
    members = np.empty(n_components, dtype=np.int64)
    previous = np.full(n_components, -1, dtype=np.int64)
    for _ in range(_LLOYD_MAX_ROUNDS):
        _sort_few(seeds)
        for k in range(n_components - 1):
            midpoints[k] = 0.5 * (seeds[k] + seeds[k + 1])
        weight[:] = 0.0
        shift[:] = 0.0
        members[:] = 0
        for i in range(x.size):
            z = standardised(x, i, center, inv_scale)
            k = 0
            for m in range(n_components - 1):  # no early exit: no branch to mispredict
                k += z > midpoints[m]
            w = weight_of(point_weight, i)
            members[k] += 1
            weight[k] += w
            shift[k] += w * (z - seeds[k])  # around the center: no cancellation
        stayed = True
        for k in range(n_components):
            stayed = stayed and members[k] == previous[k]
            previous[k] = members[k]
        if stayed:
            break
        for k in range(n_components):
            if weight[k] > 0.0:
                seeds[k] += shift[k] / weight[k]
