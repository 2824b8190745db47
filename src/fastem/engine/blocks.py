"""The K blocks of equal weight of a fit's sorted points, found without sorting, and the
starts made of them: ``"quantile"`` (the blocks' clusters) and ``"random"`` (mixtools'
``normalmix.init``, draws around the blocks). See :mod:`.starts` for the strategies."""

from __future__ import annotations

import math

import numpy as np

from . import rng as _rng
from .jit import jit
from .seeding import finish_clusters, lightest_weight, standardised, weight_of

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
            w = weight_of(point_weight, i)
            if w <= 0.0:
                continue
            z = standardised(x, i, center, inv_scale)
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
        w = weight_of(point_weight, i)
        total += w
        if w > 0.0:
            z = standardised(x, i, center, inv_scale)
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
        w = weight_of(point_weight, i)
        if w <= 0.0:
            continue
        z = standardised(x, i, center, inv_scale)
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
def quantile_clusters(x, point_weight, center, inv_scale, weights, means, variances):
    n_components = means.size
    stats = np.empty((4, n_components))
    count, s1, s2, pivots = stats[0], stats[1], stats[2], stats[3]
    _blocks(x, point_weight, center, inv_scale, count, s1, s2, pivots)
    finish_clusters(count, s1, s2, pivots, lightest_weight(point_weight), weights, means, variances)


@jit
def mixtools_random(
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
