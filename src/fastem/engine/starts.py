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
``"hc"``
    mclust's model-based agglomerative hierarchical clustering (:mod:`.hc`, model ``V``
    or ``E``), cut into ``K`` groups. No randomness: all restarts of a dataset are
    identical, as for ``"quantile"``. It sorts the points, so it keeps O(n) numbers.
``"rndem"``
    rndEM (:mod:`.rndem`): ``n_candidates`` starts drawn as ``"random_from_data"``'s, the
    one of highest log-likelihood kept.

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

The kernels below are the strategies' entry points; their steps are in :mod:`.seeding`
(seeds, Lloyd's k-means, clusters) and :mod:`.blocks` (blocks of equal weight), and
their arguments are built by :func:`.arguments.start_arguments`.
"""

from __future__ import annotations

import numpy as np

from . import rng as _rng
from .blocks import mixtools_random, quantile_clusters
from .hc import hc_clusters
from .jit import jit
from .layout import fit_data
from .rndem import best_of_random_starts
from .seeding import cluster_parameters, kmeans_plusplus_seeds, lloyd, random_seeds

# One kernel per strategy, all with the same arguments (:func:`.arguments.start_arguments`),
# each filling one fit's start (``_jit.for_each`` runs it for every fit of the batch); a
# fit compiles only the strategy it uses.
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
    uniform_seeds,
    run_lloyd,
):
    """The clusters of the points nearest to seeds drawn by k-means++, or (``uniform_seeds``)
    uniformly, and moved by Lloyd's k-means with ``run_lloyd``. The flags are constants in each
    kernel below, so that numba compiles only the code of the one it is."""
    x, point_weight, loc, inv_scale = fit_data(
        f, means.shape[0], values, offsets, sample_weight, center, scale
    )
    seeds = np.empty(means.shape[1])
    key = _key(f, means, keys, seed, first_restart)
    if uniform_seeds:
        random_seeds(x, point_weight, loc, inv_scale, key, seeds)
    else:
        kmeans_plusplus_seeds(x, point_weight, loc, inv_scale, key, seeds)
    if run_lloyd:
        lloyd(x, point_weight, loc, inv_scale, seeds)
    cluster_parameters(x, point_weight, loc, inv_scale, seeds, weights[f], means[f], variances[f])


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
    hc_model,
    n_candidates,
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
    hc_model,
    n_candidates,
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
    hc_model,
    n_candidates,
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
    hc_model,
    n_candidates,
    weights,
    means,
    variances,
    interrupted,
):
    x, point_weight, loc, inv_scale = fit_data(
        f, means.shape[0], values, offsets, sample_weight, center, scale
    )
    quantile_clusters(x, point_weight, loc, inv_scale, weights[f], means[f], variances[f])


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
    hc_model,
    n_candidates,
    weights,
    means,
    variances,
    interrupted,
):
    x, point_weight, loc, inv_scale = fit_data(
        f, means.shape[0], values, offsets, sample_weight, center, scale
    )
    mixtools_random(
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
    hc_model,
    n_candidates,
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
    cluster_parameters(x, point_weight, loc, inv_scale, seeds, weights[f], means[f], variances[f])
    for k in range(seeds.size):  # a loop, as in _block_bounds
        means[f, k] = seeds[k]


@jit
def hc(
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
    hc_model,
    n_candidates,
    weights,
    means,
    variances,
    interrupted,
):
    x, point_weight, loc, inv_scale = fit_data(
        f, means.shape[0], values, offsets, sample_weight, center, scale
    )
    hc_clusters(hc_model, x, point_weight, loc, inv_scale, weights[f], means[f], variances[f])


@jit
def rndem(
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
    hc_model,
    n_candidates,
    weights,
    means,
    variances,
    interrupted,
):
    x, point_weight, loc, inv_scale = fit_data(
        f, means.shape[0], values, offsets, sample_weight, center, scale
    )
    key = _key(f, means, keys, seed, first_restart)
    best_of_random_starts(
        x, point_weight, loc, inv_scale, key, n_candidates, weights[f], means[f], variances[f]
    )
