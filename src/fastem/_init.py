"""Starting values for every (dataset, restart) pair, computed in one batched kernel.

Every strategy works on the standardised data (mean 0, variance 1) and returns
parameters in standardised units. Random choices for fit ``(d, r)`` come from the
counter-based stream keyed by ``(random_state, d, r)``, so they do not depend on the
number of threads or on the other datasets in the batch. Sample weights count as
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
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from . import _rng
from ._jit import jit

METHODS = ("kmeans++", "random_from_data", "kmeans", "quantile", "random")
_KMEANS_PP, _RANDOM_FROM_DATA, _KMEANS, _QUANTILE, _RANDOM = range(5)
AROUND_MEANS = 5
"""Not a strategy: weights and variances of the clusters of points nearest to the means
already in ``means`` (given by the user), which stay as they are."""
_LLOYD_MAX_ROUNDS = 300


@jit
def _weight(point_weight, i):
    return point_weight[i] if point_weight.size > 0 else 1.0


@jit
def _lightest(z, point_weight):
    """The smallest positive weight of a point (1 for unit weights)."""
    lightest = 1.0 if point_weight.size == 0 else math.inf
    for i in range(point_weight.size):
        if 0.0 < point_weight[i] < lightest:
            lightest = point_weight[i]
    return lightest


@jit
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
def _cluster_parameters(z, point_weight, seeds, weights, means, variances):
    """Weights, means and variances of the clusters of points nearest to each seed."""
    n_components = seeds.size
    count = np.zeros(n_components)
    s1 = np.zeros(n_components)
    s2 = np.zeros(n_components)
    for i in range(z.size):
        w = _weight(point_weight, i)
        k = _nearest(z[i], seeds)
        dev = z[i] - seeds[k]  # around the seed: no cancellation
        count[k] += w
        s1[k] += w * dev
        s2[k] += w * dev * dev
    _finish_clusters(
        count, s1, s2, seeds, _lightest(z, point_weight), weights, means, variances
    )


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


@jit
def _draw(mass, total, u):
    """Index drawn with probability ``mass[i] / total``; ``u`` uniform in [0, 1)."""
    target = u * total
    running = 0.0
    last = -1
    for i in range(mass.size):
        if mass[i] > 0.0:
            last = i
            running += mass[i]
            if running > target:
                return i
    return last  # rounding left ``target`` past the end


@jit
def _kmeans_plusplus_seeds(z, point_weight, key, seeds):
    n = z.size
    mass = np.empty(n)
    total = 0.0
    for i in range(n):
        mass[i] = _weight(point_weight, i)
        total += mass[i]
    first = z[_draw(mass, total, _rng.uniform(key, 0))]
    seeds[0] = first
    dist2 = np.empty(n)
    total = 0.0
    for i in range(n):
        dev = z[i] - first
        dist2[i] = dev * dev
        mass[i] = _weight(point_weight, i) * dist2[i]
        total += mass[i]
    for k in range(1, seeds.size):
        if total > 0.0:
            chosen = _draw(mass, total, _rng.uniform(key, k))
        else:  # every point coincides with a seed: fewer distinct values than K
            chosen = _rng.index(key, k, n)
        seeds[k] = z[chosen]
        total = 0.0
        for i in range(n):
            dev = z[i] - seeds[k]
            dist2[i] = min(dist2[i], dev * dev)
            mass[i] = _weight(point_weight, i) * dist2[i]
            total += mass[i]


@jit
def _random_seeds(z, point_weight, key, seeds):
    """K points drawn without replacement, in proportion to their weights.

    A draw takes one unit of a point's weight (all of a weight below 1), as it would
    take one of the copies of a point repeated ``w`` times; with unit weights, the K
    points are distinct.
    """
    n = z.size
    mass = np.empty(n)
    total = 0.0
    for i in range(n):
        mass[i] = _weight(point_weight, i)
        total += mass[i]
    for k in range(seeds.size):
        if total > 0.0:
            chosen = _draw(mass, total, _rng.uniform(key, k))
        else:  # fewer weighted points than K (ruled out by validation)
            chosen = _rng.index(key, k, n)
        seeds[k] = z[chosen]
        taken = min(mass[chosen], 1.0)
        mass[chosen] -= taken
        total = 0.0  # summed again, in the order _draw adds, so that it matches its sum
        for i in range(n):
            total += mass[i]


@jit
def _lloyd(z, point_weight, seeds):
    """Lloyd's k-means from ``seeds`` (updated in place, sorted) until the clusters stay.

    In 1D a cluster is a run of the sorted data between the midpoints of neighbouring
    centers, so after one sort each round costs K binary searches and K differences of
    prefix sums, not a pass over the points.
    """
    n_components = seeds.size
    order = np.argsort(z)
    ordered = z[order]
    mass = np.zeros(z.size + 1)  # prefix sums of weights and of weighted values
    first = np.zeros(z.size + 1)
    for j in range(z.size):
        w = _weight(point_weight, order[j])
        mass[j + 1] = mass[j] + w
        first[j + 1] = first[j] + w * ordered[j]
    bounds = np.zeros(n_components + 1, dtype=np.int64)
    previous = np.full(n_components + 1, -1, dtype=np.int64)
    bounds[n_components] = z.size
    for _ in range(_LLOYD_MAX_ROUNDS):
        seeds.sort()
        for k in range(n_components - 1):
            # Points at a midpoint go to the lower center, as in the nearest-seed rule.
            bounds[k + 1] = np.searchsorted(ordered, 0.5 * (seeds[k] + seeds[k + 1]), "right")
        if (bounds == previous).all():
            break
        previous[:] = bounds
        for k in range(n_components):
            a, b = bounds[k], bounds[k + 1]
            weight = mass[b] - mass[a]
            if weight > 0.0:
                seeds[k] = (first[b] - first[a]) / weight


@jit
def _blocks(z, point_weight, count, s1, s2, pivots):
    """Statistics of the K blocks of equal weight of the sorted data.

    On the cumulative scale of weight (total ``T``), block ``k`` is
    ``[k T / K, (k + 1) T / K)``; a point covering ``[c, c + w)`` gives each block the
    part of its weight that falls in it. A point of integer weight ``w`` is therefore
    exactly ``w`` points of weight 1; with unit weights, block ``k`` holds points
    ``k n / K`` to ``(k + 1) n / K``, and a point across a boundary is shared.
    """
    n_components = pivots.size
    order = np.argsort(z)
    total = 0.0
    for i in range(z.size):
        total += _weight(point_weight, i)
    count[:] = 0.0
    s1[:] = 0.0
    s2[:] = 0.0
    running = 0.0
    k = 0
    for j in range(z.size):
        i = order[j]
        w = _weight(point_weight, i)
        if w <= 0.0:
            continue
        low = running
        high = running + w
        while True:
            upper = total * (k + 1) / n_components if k < n_components - 1 else high
            part = min(high, upper) - low
            if part > 0.0:
                if count[k] == 0.0:
                    pivots[k] = z[i]
                dev = z[i] - pivots[k]
                count[k] += part
                s1[k] += part * dev
                s2[k] += part * dev * dev
            if high <= upper:
                break
            low = max(low, upper)
            k += 1
        running = high
    # A point heavier than a block leaves the next blocks empty; they start at its value.
    for k in range(1, n_components):
        if count[k] == 0.0:
            pivots[k] = pivots[k - 1]
    for k in range(n_components - 2, -1, -1):
        if count[k] == 0.0:
            pivots[k] = pivots[k + 1]


@jit
def _quantile(z, point_weight, weights, means, variances):
    n_components = means.size
    stats = np.empty((4, n_components))
    count, s1, s2, pivots = stats[0], stats[1], stats[2], stats[3]
    _blocks(z, point_weight, count, s1, s2, pivots)
    _finish_clusters(
        count, s1, s2, pivots, _lightest(z, point_weight), weights, means, variances
    )


@jit
def _mixtools_random(z, point_weight, key, equal_variance, weights, means, variances):
    n_components = means.size
    stats = np.empty((4, n_components))
    count, s1, s2, pivots = stats[0], stats[1], stats[2], stats[3]
    _blocks(z, point_weight, count, s1, s2, pivots)
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


@jit(parallel=True)
def initialise(method, values, offsets, sample_weight, center, scale, seed, first_dataset,
               equal_variance, weights, means, variances, interrupted):
    """Fill ``weights``, ``means`` and ``variances`` of shape (n_fits, K), standardised units.

    Fit ``f`` is dataset ``f // n_init``, restart ``f % n_init``; ``sample_weight`` is
    like ``values``, or empty for unit weights. Random draws of dataset ``d`` use the
    stream of its global index ``first_dataset + d``. Fits not yet started when
    ``interrupted[0]`` is set are skipped (Ctrl-C, see ``_interrupt``).
    """
    n_fits, n_components = means.shape
    n_init = n_fits // (offsets.size - 1)
    weighted = sample_weight.size > 0
    for f in prange(n_fits):
        if interrupted[0]:
            continue
        d = f // n_init
        r = f % n_init
        start, stop = offsets[d], offsets[d + 1]
        point_weight = sample_weight[start:stop] if weighted else sample_weight
        z = (values[start:stop] - center[d]) * (1.0 / scale[d])
        key = _rng.stream_key(seed, _rng.INIT, first_dataset + d, r)
        if method == AROUND_MEANS:
            seeds = means[f].copy()
            _cluster_parameters(z, point_weight, seeds, weights[f], means[f], variances[f])
            means[f, :] = seeds
        elif method == _QUANTILE:
            _quantile(z, point_weight, weights[f], means[f], variances[f])
        elif method == _RANDOM:
            _mixtools_random(z, point_weight, key, equal_variance, weights[f], means[f],
                             variances[f])
        else:
            seeds = np.empty(n_components)
            if method == _RANDOM_FROM_DATA:
                _random_seeds(z, point_weight, key, seeds)
            else:
                _kmeans_plusplus_seeds(z, point_weight, key, seeds)
                if method == _KMEANS:
                    _lloyd(z, point_weight, seeds)
            _cluster_parameters(z, point_weight, seeds, weights[f], means[f], variances[f])


def method_code(method: str) -> int:
    return METHODS.index(method)
