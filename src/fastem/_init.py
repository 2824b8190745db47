"""Starting values for every (dataset, restart) pair, computed in one batched kernel.

Every strategy works on the standardised data (mean 0, variance 1) and returns
parameters in standardised units. Random choices for fit ``(d, r)`` come from the
counter-based stream keyed by ``(random_state, d, r)``, so they do not depend on the
number of threads or on the other datasets in the batch.

Strategies
----------
``"kmeans++"``
    k-means++ seeding (Arthur & Vassilvitskii 2007): the first seed is a data point
    drawn uniformly, each next one a data point drawn with probability proportional to
    its squared distance to the nearest seed so far.
``"random_from_data"``
    ``K`` distinct data points drawn uniformly as seeds.
``"quantile"``
    No randomness: the sorted data are cut into ``K`` blocks of (nearly) equal counts.
    All restarts of a dataset are therefore identical.

For the seeded strategies, every point is then assigned to its nearest seed, and the
weights, means and variances are those of the resulting clusters (for ``"quantile"``,
of the blocks). A cluster with fewer than two distinct values gets variance ``1 / K**2``
(of the dataset's variance), so that no fit starts collapsed onto a point.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from . import _rng
from ._jit import jit

METHODS = ("kmeans++", "random_from_data", "quantile")
_KMEANS_PP, _RANDOM_FROM_DATA, _QUANTILE = range(3)


@jit
def _cluster_parameters(z, seeds, weights, means, variances):
    """Weights, means and variances of the clusters of points nearest to each seed."""
    n_components = seeds.size
    count = np.zeros(n_components)
    s1 = np.zeros(n_components)
    s2 = np.zeros(n_components)
    for i in range(z.size):
        nearest = 0
        best = abs(z[i] - seeds[0])
        for k in range(1, n_components):
            dist = abs(z[i] - seeds[k])
            if dist < best:
                best = dist
                nearest = k
        dev = z[i] - seeds[nearest]  # around the seed: no cancellation
        count[nearest] += 1.0
        s1[nearest] += dev
        s2[nearest] += dev * dev
    _finish_clusters(count, s1, s2, seeds, z.size, weights, means, variances)


@jit
def _finish_clusters(count, s1, s2, pivots, n, weights, means, variances):
    n_components = pivots.size
    fallback = 1.0 / (n_components * n_components)
    for k in range(n_components):
        if count[k] == 0.0:  # duplicate seeds: the first one took all their points
            weights[k] = 0.0
            means[k] = pivots[k]
            variances[k] = fallback
            continue
        shift = s1[k] / count[k]
        weights[k] = count[k] / n
        means[k] = pivots[k] + shift
        variance = s2[k] / count[k] - shift * shift
        variances[k] = variance if variance > 0.0 else fallback
    # Clusters emptied by duplicate seeds still need a weight to be able to grow.
    floor = 0.5 / n
    total = 0.0
    for k in range(n_components):
        weights[k] = max(weights[k], floor)
        total += weights[k]
    for k in range(n_components):
        weights[k] /= total


@jit
def _kmeans_plusplus_seeds(z, key, seeds):
    n = z.size
    first = z[_rng.index(key, 0, n)]
    seeds[0] = first
    dist2 = np.empty(n)
    total = 0.0
    for i in range(n):
        dev = z[i] - first
        dist2[i] = dev * dev
        total += dist2[i]
    for k in range(1, seeds.size):
        if total > 0.0:
            target = _rng.uniform(key, k) * total
            chosen = n - 1
            running = 0.0
            for i in range(n):
                running += dist2[i]
                if running > target:
                    chosen = i
                    break
            # Rounding can leave ``target`` past the last increment; never pick a
            # point that is already a seed (distance zero).
            while dist2[chosen] == 0.0 and chosen > 0:
                chosen -= 1
        else:  # every point coincides with a seed: fewer distinct values than K
            chosen = _rng.index(key, k, n)
        seeds[k] = z[chosen]
        total = 0.0
        for i in range(n):
            dev = z[i] - seeds[k]
            dist2[i] = min(dist2[i], dev * dev)
            total += dist2[i]


@jit
def _random_seeds(z, key, seeds):
    n = z.size
    chosen = np.empty(seeds.size, dtype=np.int64)
    draw = 0
    for k in range(seeds.size):
        while True:  # K distinct indices; n >= K so this ends, quickly for K << n
            j = _rng.index(key, draw, n)
            draw += 1
            fresh = True
            for m in range(k):
                if chosen[m] == j:
                    fresh = False
            if fresh:
                break
        chosen[k] = j
        seeds[k] = z[j]


@jit
def _quantile_blocks(z, weights, means, variances):
    n = z.size
    n_components = means.size
    ordered = np.sort(z)
    count = np.zeros(n_components)
    s1 = np.zeros(n_components)
    s2 = np.zeros(n_components)
    pivots = np.empty(n_components)
    for k in range(n_components):
        start = (k * n) // n_components
        stop = ((k + 1) * n) // n_components
        pivots[k] = ordered[(start + stop - 1) // 2]
        for i in range(start, stop):
            dev = ordered[i] - pivots[k]
            count[k] += 1.0
            s1[k] += dev
            s2[k] += dev * dev
    _finish_clusters(count, s1, s2, pivots, n, weights, means, variances)


@jit(parallel=True)
def initialise(method, values, offsets, center, scale, seed, weights, means, variances):
    """Fill ``weights``, ``means`` and ``variances`` of shape (n_fits, K), standardised units.

    Fit ``f`` is dataset ``f // n_init``, restart ``f % n_init``.
    """
    n_fits, n_components = means.shape
    n_init = n_fits // (offsets.size - 1)
    for f in prange(n_fits):
        d = f // n_init
        r = f % n_init
        inv_scale = 1.0 / scale[d]
        z = (values[offsets[d] : offsets[d + 1]] - center[d]) * inv_scale
        if method == _QUANTILE:
            _quantile_blocks(z, weights[f], means[f], variances[f])
            continue
        key = _rng.stream_key(seed, _rng.INIT, d, r)
        seeds = np.empty(n_components)
        if method == _KMEANS_PP:
            _kmeans_plusplus_seeds(z, key, seeds)
        else:
            _random_seeds(z, key, seeds)
        _cluster_parameters(z, seeds, weights[f], means[f], variances[f])


def method_code(method: str) -> int:
    return METHODS.index(method)
