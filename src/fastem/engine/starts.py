"""The starting-value kernels: one per strategy, each the values of one (dataset, restart)
pair, run over a batch by ``_jit.for_each``.

Every strategy works on the standardised data (mean 0, variance 1) and returns
parameters in standardised units. Random choices for restart ``r`` of a dataset come from
the counter-based stream keyed by ``random_state``, the dataset's content and ``r``, so
they do not depend on the number of threads, on the other datasets in the batch or on the
dataset's place in it. Sample weights count as
repetitions: a point of weight 2 is drawn, and counted, as two points would be.

Strategies
----------
``"kmeans++"``
    k-means++ seeding (Arthur & Vassilvitskii 2007): the first seed is a data point
    drawn uniformly, each next one a data point drawn with probability proportional to
    its squared distance to the nearest seed so far.
``"random_from_data"``
    ``K`` distinct data points drawn uniformly as seeds.
``"kmeans"``
    Lloyd's k-means from k-means++ seeds, to convergence (at most 300 rounds, as
    scikit-learn), the default of scikit-learn's ``GaussianMixture``.
``"quantile"``
    No randomness: the sorted data are cut into ``K`` blocks of (nearly) equal counts.
    All restarts of a dataset are therefore identical.
``"random"``
    mixtools' ``normalmix.init``: the sorted data are cut into ``K`` blocks as for
    ``"quantile"``; standard deviations are ``s_k / E_k`` with ``s_k`` the block's and
    ``E_k`` standard exponential (one common draw with ``equal_variance``); means are
    normal around the block means with those standard deviations; weights are uniform
    draws, normalised.

For the seeded strategies, every point is then assigned to its nearest seed, and the
weights, means and variances are those of the resulting clusters (for ``"quantile"``,
of the blocks). A cluster whose variance is below ``1e-3 / K**2`` of the dataset's (one
point, or near-equal points) gets ``1 / K**2`` instead, so that no fit starts collapsed
onto a point.

Memory: a fit keeps O(K) numbers beyond the data, whatever the strategy. Nothing is
stored per point (not even the standardised values): every strategy works in passes
over the points, which it repeats rather than remember what they found. k-means++ takes
O(n K^2) time, each Lloyd round one pass, the blocks of ``"quantile"`` and ``"random"``
a bisection of a few passes (at most 66) instead of a sort.
"""

from __future__ import annotations

import math

import numpy as np

from . import rng as _rng
from .jit import jit
from .layout import fit_data

_LLOYD_MAX_ROUNDS = 300


@jit(inline=True)
def _weight(point_weight, i):
    return point_weight[i] if point_weight.size > 0 else 1.0


@jit(inline=True)
def _z(x, i, center, inv_scale):
    """Point ``i`` standardised. Computed where it is needed rather than stored, so that a
    fit holds nothing of the size of its dataset (the same bits as an array expression)."""
    return (x[i] - center) * inv_scale


@jit(inline=True)
def _lightest(point_weight):
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
def _cluster_parameters(x, point_weight, center, inv_scale, seeds, weights, means, variances):
    """Weights, means and variances of the clusters of points nearest to each seed."""
    n_components = seeds.size
    count = np.zeros(n_components)
    s1 = np.zeros(n_components)
    s2 = np.zeros(n_components)
    for i in range(x.size):
        w = _weight(point_weight, i)
        z = _z(x, i, center, inv_scale)
        k = _nearest(z, seeds)
        dev = z - seeds[k]  # around the seed: no cancellation
        count[k] += w
        s1[k] += w * dev
        s2[k] += w * dev * dev
    _finish_clusters(count, s1, s2, seeds, _lightest(point_weight), weights, means, variances)


@jit
def _finish_clusters(count, s1, s2, pivots, lightest, weights, means, variances):
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
    w = _weight(point_weight, i)
    if n_seeds == 0:
        return w
    z = _z(x, i, center, inv_scale)
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
def _kmeans_plusplus_seeds(x, point_weight, center, inv_scale, key, seeds):
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
        seeds[k] = _z(x, chosen, center, inv_scale)


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
            mass = _weight(point_weight, i)
        if mass > 0.0:
            last = i
            running += mass
            if running > target:
                return i, running
    return last, running


@jit
def _random_seeds(x, point_weight, center, inv_scale, key, seeds):
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
        seeds[k] = _z(x, chosen, center, inv_scale)
        j = 0
        while j < n_drawn and drawn[j] < chosen:
            j += 1
        if j == n_drawn or drawn[j] != chosen:
            for m in range(n_drawn, j, -1):
                drawn[m] = drawn[m - 1]
                left[m] = left[m - 1]
            drawn[j] = chosen
            left[j] = _weight(point_weight, chosen)
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
def _lloyd(x, point_weight, center, inv_scale, seeds):
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
            z = _z(x, i, center, inv_scale)
            k = 0
            for m in range(n_components - 1):  # no early exit: no branch to mispredict
                k += z > midpoints[m]
            w = _weight(point_weight, i)
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


_FLIP = 0x7FFFFFFFFFFFFFFF


@jit
def _order_key(value):
    """An int64 in the order of the float64 ``value`` (finite): consecutive floats have
    consecutive keys, and -0.0 shares the key 0 of +0.0, as they compare equal."""
    bits = np.float64(value).view(np.int64)
    return bits if bits >= 0 else (bits ^ _FLIP) + 1


@jit
def _key_value(key):
    """The float64 of order key ``key`` (+0.0 for 0)."""
    bits = key if key >= 0 else (key - 1) ^ _FLIP
    return np.int64(bits).view(np.float64)


@jit
def _block_bounds(x, point_weight, center, inv_scale, total, lowest, highest, bounds):
    """``bounds[j]``: the smallest value ``v`` with ``W(v) > total (j + 1) / K``, where
    ``W(v)`` is the weight of the points ``<= v`` (``lowest``, ``highest``: the extreme
    values of the points of positive weight).

    Bisection over the order keys of the float64 values, all bounds in the same passes.
    Each bound's search keeps a range of keys ``(below, above]`` that holds its answer,
    with ``W`` known at both ends. A pass cuts the range at its middle key and at the
    value where ``W`` would reach the target if it grew linearly over the range, and
    sums the weight of the points in the range up to each cut; the range shrinks to the
    piece that holds the answer, then to the data values in that piece. The middle cut
    halves the range at least, so that a range of at most 2**64 keys takes at most 64
    passes; the linear cut makes it a few passes for data with a smooth distribution.
    The search ends as soon as the range holds a single value of the data.
    """
    n_components = bounds.size + 1
    n_bounds = bounds.size
    below = np.full(n_bounds, _order_key(lowest) - 1)  # nothing below the lowest value
    above = np.full(n_bounds, _order_key(highest))  # all the weight up to the highest
    weight_below = np.zeros(n_bounds)
    weight_above = np.full(n_bounds, total)
    # Per bound: the range and its two cuts as values, then what a pass finds in the
    # three pieces they make: the weight in the first two, their largest values, the
    # smallest values of the last two.
    cuts = np.empty((4, n_bounds))
    range_low, first_cut, second_cut, range_high = cuts[0], cuts[1], cuts[2], cuts[3]
    found = np.empty((6, n_bounds))
    weight_0, weight_1, largest_0, largest_1, smallest_1, smallest_2 = (
        found[0],
        found[1],
        found[2],
        found[3],
        found[4],
        found[5],
    )
    while True:
        searching = False
        for j in range(n_bounds):
            a, b = below[j], above[j]
            range_high[j] = _key_value(b)
            if a + 1 < b:
                searching = True
                range_low[j] = _key_value(a)
                middle = (a >> 1) + (b >> 1) + (a & b & 1)  # floor((a + b) / 2), no overflow
                share = (total * (j + 1) / n_components - weight_below[j]) / (
                    weight_above[j] - weight_below[j]
                )
                linear = _order_key(range_low[j] * (1.0 - share) + range_high[j] * share)
                if not a < linear < b:
                    linear = middle
                first_cut[j] = _key_value(min(middle, linear))
                second_cut[j] = _key_value(max(middle, linear))
            else:  # found: an empty range, which no point enters
                range_low[j] = range_high[j]
        if not searching:
            for j in range(n_bounds):  # a loop: numba's array copy compiles a long
                bounds[j] = range_high[j]  # error message, slow to compile
            return
        weight_0[:] = 0.0
        weight_1[:] = 0.0
        largest_0[:] = -math.inf
        largest_1[:] = -math.inf
        smallest_1[:] = math.inf
        smallest_2[:] = math.inf
        for i in range(x.size):
            w = _weight(point_weight, i)
            if w <= 0.0:
                continue
            z = _z(x, i, center, inv_scale)
            for j in range(n_bounds):
                if range_low[j] < z <= range_high[j]:
                    if z <= first_cut[j]:
                        weight_0[j] += w
                        largest_0[j] = max(largest_0[j], z)
                    elif z <= second_cut[j]:
                        weight_1[j] += w
                        largest_1[j] = max(largest_1[j], z)
                        smallest_1[j] = min(smallest_1[j], z)
                    else:
                        smallest_2[j] = min(smallest_2[j], z)
        for j in range(n_bounds):
            if below[j] + 1 < above[j]:
                target = total * (j + 1) / n_components
                reach_0 = weight_below[j] + weight_0[j]
                reach_1 = reach_0 + weight_1[j]
                if reach_0 > target:
                    above[j] = _order_key(largest_0[j])
                    weight_above[j] = reach_0
                elif reach_1 > target:
                    below[j] = _order_key(smallest_1[j]) - 1
                    above[j] = _order_key(largest_1[j])
                    weight_below[j] = reach_0
                    weight_above[j] = reach_1
                else:
                    below[j] = _order_key(smallest_2[j]) - 1
                    weight_below[j] = reach_1


@jit
def _spread(value, low, high, k, total, count, s1, s2, pivots):
    """Add weight at ``value`` covering ``[low, high)`` of the cumulative scale to the
    blocks from ``k`` on, each the part that falls in it (the last block takes the rest)."""
    n_components = pivots.size
    while True:
        upper = total * (k + 1) / n_components if k < n_components - 1 else high
        part = min(high, upper) - low
        if part > 0.0:
            dev = value - pivots[k]
            count[k] += part
            s1[k] += part * dev
            s2[k] += part * dev * dev
        if high <= upper:
            return
        low = max(low, upper)
        k += 1


@jit
def _blocks(x, point_weight, center, inv_scale, count, s1, s2, pivots):
    """Statistics of the K blocks of equal weight of the sorted data, found without
    sorting: O(n K) time per pass, at most 66 passes, O(K) memory.

    On the cumulative scale of weight (total ``T``), block ``k`` is
    ``[k T / K, (k + 1) T / K)``; a point covering ``[c, c + w)`` gives each block the
    part of its weight that falls in it. A point of integer weight ``w`` is therefore
    exactly ``w`` points of weight 1; with unit weights, block ``k`` holds points
    ``k n / K`` to ``(k + 1) n / K``, and a point across a boundary is shared.

    The value at each boundary comes from :func:`_block_bounds`. Points between two
    boundary values lie wholly in one block; the points at a boundary value (which may be
    several tied points) cover ``[W(< v), W(<= v))`` together and are shared as one
    point: tied points have the same value, so how the sort would order them does not
    change the statistics. ``pivots[k]``, the value sums are taken around, is the
    smallest value in block ``k``.
    """
    n_components = pivots.size
    total = 0.0
    lowest = math.inf
    highest = -math.inf
    for i in range(x.size):
        w = _weight(point_weight, i)
        total += w
        if w > 0.0:
            z = _z(x, i, center, inv_scale)
            lowest = min(lowest, z)
            highest = max(highest, z)
    bounds = pivots[1:]  # the block above a boundary starts at its value
    _block_bounds(x, point_weight, center, inv_scale, total, lowest, highest, bounds)
    pivots[0] = lowest
    below = np.zeros(n_components - 1)  # W(< v) and W(<= v) at each boundary value v
    upto = np.zeros(n_components - 1)
    count[:] = 0.0
    s1[:] = 0.0
    s2[:] = 0.0
    for i in range(x.size):
        w = _weight(point_weight, i)
        if w <= 0.0:
            continue
        z = _z(x, i, center, inv_scale)
        for j in range(n_components - 1):
            if z <= bounds[j]:
                upto[j] += w
                if z < bounds[j]:
                    below[j] += w
        k = 0
        while k < n_components - 1 and z > bounds[k]:
            k += 1
        if k < n_components - 1 and z == bounds[k]:
            continue  # at a boundary: shared below
        dev = z - pivots[k]
        count[k] += w
        s1[k] += w * dev
        s2[k] += w * dev * dev
    for j in range(n_components - 1):
        if j == 0 or bounds[j] != bounds[j - 1]:  # once per value, from its first boundary
            _spread(bounds[j], below[j], upto[j], j, total, count, s1, s2, pivots)
    # Blocks left empty by rounding start at the value of a neighbour.
    for k in range(1, n_components):
        if count[k] == 0.0:
            pivots[k] = pivots[k - 1]
    for k in range(n_components - 2, -1, -1):
        if count[k] == 0.0:
            pivots[k] = pivots[k + 1]


@jit
def _quantile(x, point_weight, center, inv_scale, weights, means, variances):
    n_components = means.size
    stats = np.empty((4, n_components))
    count, s1, s2, pivots = stats[0], stats[1], stats[2], stats[3]
    _blocks(x, point_weight, center, inv_scale, count, s1, s2, pivots)
    _finish_clusters(count, s1, s2, pivots, _lightest(point_weight), weights, means, variances)


@jit
def _mixtools_random(
    x, point_weight, center, inv_scale, key, equal_variance, weights, means, variances
):
    n_components = means.size
    stats = np.empty((4, n_components))
    count, s1, s2, pivots = stats[0], stats[1], stats[2], stats[3]
    _blocks(x, point_weight, center, inv_scale, count, s1, s2, pivots)
    block_sd = np.empty(n_components)
    block_mean = np.empty(n_components)
    for k in range(n_components):
        if count[k] > 0.0:
            shift = s1[k] / count[k]
            block_mean[k] = pivots[k] + shift
            block_sd[k] = math.sqrt(max(s2[k] / count[k] - shift * shift, 0.0))
        else:
            block_mean[k] = pivots[k]
            block_sd[k] = 0.0
        if block_sd[k] == 0.0:  # mixtools: a uniform draw up to the data's sd (1 here)
            block_sd[k] = _rng.uniform(key, 4 * n_components + k)
    mean_sd = 0.0
    for k in range(n_components):
        mean_sd += block_sd[k] / n_components
    total = 0.0
    for k in range(n_components):
        # 1 / rexp(rate = s) is s / E with E standard exponential.
        draw = n_components + (0 if equal_variance else k)
        exponential = -math.log(1.0 - _rng.uniform(key, draw))
        sd = (mean_sd if equal_variance else block_sd[k]) / max(exponential, 1e-300)
        variances[k] = sd * sd
        means[k] = block_mean[k] + sd * _rng.normal(key, n_components + k)
        weights[k] = _rng.uniform(key, k)
        total += weights[k]
    for k in range(n_components):
        weights[k] = weights[k] / total if total > 0.0 else 1.0 / n_components


# One kernel per strategy, all with the same arguments, each filling one fit's start
# (``_jit.for_each`` runs it for every fit of the batch); a fit compiles only the strategy
# it uses.
#
# Each fills row ``f`` of ``weights``, ``means`` and ``variances`` of shape (n_fits, K),
# standardised units. Fit ``f`` is dataset ``f // n_init``, restart ``f % n_init``;
# ``sample_weight`` is like ``values``, or empty for unit weights. Random draws of
# dataset ``d``, restart ``r`` use the stream of the dataset's content key ``keys[d]`` and
# the restart's number ``first_restart + r``.


@jit(inline=True)
def _key(f, means, keys, seed, first_restart):
    """The random stream of fit ``f``: its dataset's content key and its restart."""
    n_init = means.shape[0] // keys.size
    return _rng.stream_key(seed, _rng.INIT, keys[f // n_init], first_restart + f % n_init)


@jit(inline=True)
def _clusters_of_seeds(
    f,
    values,
    offsets,
    sample_weight,
    center,
    scale,
    keys,
    seed,
    first_restart,
    weights,
    means,
    variances,
    random_seeds,
    lloyd,
):
    """The clusters of the points nearest to seeds drawn by k-means++, or (``random_seeds``)
    uniformly, and moved by Lloyd's k-means with ``lloyd``. The flags are constants in each
    kernel below, so that numba compiles only the code of the one it is."""
    x, point_weight, loc, inv_scale = fit_data(
        f, means.shape[0], values, offsets, sample_weight, center, scale
    )
    seeds = np.empty(means.shape[1])
    key = _key(f, means, keys, seed, first_restart)
    if random_seeds:
        _random_seeds(x, point_weight, loc, inv_scale, key, seeds)
    else:
        _kmeans_plusplus_seeds(x, point_weight, loc, inv_scale, key, seeds)
    if lloyd:
        _lloyd(x, point_weight, loc, inv_scale, seeds)
    _cluster_parameters(x, point_weight, loc, inv_scale, seeds, weights[f], means[f], variances[f])


@jit
def kmeans_plusplus(
    f,
    values,
    offsets,
    sample_weight,
    center,
    scale,
    keys,
    seed,
    first_restart,
    equal_variance,
    weights,
    means,
    variances,
    interrupted,
):
    _clusters_of_seeds(
        f,
        values,
        offsets,
        sample_weight,
        center,
        scale,
        keys,
        seed,
        first_restart,
        weights,
        means,
        variances,
        False,
        False,
    )


@jit
def random_from_data(
    f,
    values,
    offsets,
    sample_weight,
    center,
    scale,
    keys,
    seed,
    first_restart,
    equal_variance,
    weights,
    means,
    variances,
    interrupted,
):
    _clusters_of_seeds(
        f,
        values,
        offsets,
        sample_weight,
        center,
        scale,
        keys,
        seed,
        first_restart,
        weights,
        means,
        variances,
        True,
        False,
    )


@jit
def kmeans(
    f,
    values,
    offsets,
    sample_weight,
    center,
    scale,
    keys,
    seed,
    first_restart,
    equal_variance,
    weights,
    means,
    variances,
    interrupted,
):
    _clusters_of_seeds(
        f,
        values,
        offsets,
        sample_weight,
        center,
        scale,
        keys,
        seed,
        first_restart,
        weights,
        means,
        variances,
        False,
        True,
    )


@jit
def quantile(
    f,
    values,
    offsets,
    sample_weight,
    center,
    scale,
    keys,
    seed,
    first_restart,
    equal_variance,
    weights,
    means,
    variances,
    interrupted,
):
    x, point_weight, loc, inv_scale = fit_data(
        f, means.shape[0], values, offsets, sample_weight, center, scale
    )
    _quantile(x, point_weight, loc, inv_scale, weights[f], means[f], variances[f])


@jit
def random(
    f,
    values,
    offsets,
    sample_weight,
    center,
    scale,
    keys,
    seed,
    first_restart,
    equal_variance,
    weights,
    means,
    variances,
    interrupted,
):
    x, point_weight, loc, inv_scale = fit_data(
        f, means.shape[0], values, offsets, sample_weight, center, scale
    )
    _mixtools_random(
        x,
        point_weight,
        loc,
        inv_scale,
        _key(f, means, keys, seed, first_restart),
        equal_variance,
        weights[f],
        means[f],
        variances[f],
    )


@jit
def around_means(
    f,
    values,
    offsets,
    sample_weight,
    center,
    scale,
    keys,
    seed,
    first_restart,
    equal_variance,
    weights,
    means,
    variances,
    interrupted,
):
    """Not a strategy: weights and variances of the clusters of points nearest to the means
    already in ``means`` (given by the user), which stay as they are."""
    x, point_weight, loc, inv_scale = fit_data(
        f, means.shape[0], values, offsets, sample_weight, center, scale
    )
    seeds = means[f].copy()
    _cluster_parameters(x, point_weight, loc, inv_scale, seeds, weights[f], means[f], variances[f])
    for k in range(seeds.size):  # a loop, as in _block_bounds
        means[f, k] = seeds[k]
