"""Starting values: the strategies, on their own exactly as :func:`fastem.fit` chooses them.

The package holds everything about starting values: the functions below, the one list of
strategies with their options (``_registry``), the kernel that computes them
(``_kernels``), and the planning of a batch's starts (``_plan``: the strategy's values,
given values and constraints laid over them, emEM's short runs).

Each strategy is a function returning :class:`fastem.StartingValues` for every dataset and
restart. Random choices for restart ``r`` of a dataset come from a stream keyed by
``random_state``, the dataset's content and ``r``: the values do not depend on the number
of threads, on which other datasets are in the batch, or on where the dataset stands.
Sample weights count as repetitions of points.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from .. import checks as _validate
from .. import search
from ..engine import layout as _layout
from ..model import Model


class StartingValues(NamedTuple):
    """Starting values of shape (n_datasets, n_init, n_components), in the data's units,
    each restart's components sorted by mean; for one 1D dataset, (n_init, n_components).
    """

    #: The starting weights.
    weights: np.ndarray
    #: The starting means.
    means: np.ndarray
    #: The starting variances.
    variances: np.ndarray
    #: Shape (n_datasets, n_init): the EM iterations spent finding them (emEM's short
    #: runs; 0 for the other strategies).
    n_iter: np.ndarray


def starting_values(
    data: ArrayLike | Sequence[ArrayLike],
    n_components: int = 2,
    *,
    init: str | dict[str, int] = "kmeans++",
    n_init: int = 1,
    random_state: int | np.random.Generator | np.random.RandomState | None = None,
    sample_weight: ArrayLike | Sequence[ArrayLike] | None = None,
    equal_variance: bool = False,
    init_params: dict[str, Any] | None = None,
    reg_variance: float = 0.0,
    dataset_offset: int = 0,
) -> StartingValues:
    """The starting values :func:`fastem.fit` uses with the same arguments.

    Parameters
    ----------
    data : array of shape (n_samples,) or (n_datasets, n_samples), or list of 1D arrays
        One dataset, one dataset per row, or datasets of different lengths.
    n_components : int, default 2
        Number of components ``K``.
    init : str or dict, default "kmeans++"
        One of "kmeans++", "random_from_data", "kmeans", "quantile", "random", "emem", "hc"
        and "rndem" (each a function of :mod:`fastem.init`), or a dict of restarts per strategy, as
        :func:`fastem.fit` takes it.
    n_init : int, default 1
        Starting values per dataset (with a dict ``init``: 1, or the pool's total).
    random_state, sample_weight, init_params, dataset_offset
        As for :func:`fastem.fit`: the same values give the same starts as there.
    equal_variance : bool, default False
        One variance shared by the components.
    reg_variance : float, default 0
        As for :func:`fastem.fit`; it only matters for "emem", whose short runs are EM
        fits.

    Returns
    -------
    StartingValues
        Weights, means and variances of shape (n_datasets, n_init, K), in the data's
        units, and the EM iterations spent on them, (n_datasets, n_init); without the
        first axis for one 1D dataset.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = np.concatenate([rng.normal(-3, 1, 300), rng.normal(3, 1, 200)])
    >>> starts = fastem.starting_values(x, 2, n_init=3, random_state=0)
    >>> starts.means.shape, starts.n_iter.shape
    ((3, 2), (3,))

    They are the starts of the fit with the same arguments:

    >>> result = fastem.fit(x, 2, n_init=3, random_state=0, return_restarts=True)
    >>> bool(np.array_equal(starts.means, result.start_means))
    True
    >>> np.round(fastem.starting_values(x, 2, init="quantile").means, 1)
    array([[-3.3,  2.1]])
    """
    n_components = _validate.check_int("n_components", n_components, 1)
    n_init = _validate.check_int("n_init", n_init, 1, _validate.MAX_ITER_LIMIT)
    pool, n_init = search.fixed_pool(search.checked_pool(init, init_params, False), n_init)
    dataset_offset = _validate.check_int("dataset_offset", dataset_offset, 0, _validate.MAX_INDEX)
    seed = _validate.Seed(_validate.check_random_state(random_state))
    reg_variance = _validate.check_non_negative("reg_variance", reg_variance)
    batch = _validate.prepared_batch(data, sample_weight, n_components, first=dataset_offset)
    slots = sum(search.slots(strategy, options, count) for strategy, options, count in pool)
    _validate.check_option_memory(
        "n_init",
        n_init,
        batch.n_datasets * slots / n_init * _validate.fit_bytes(n_components),
        f"the starting values of {batch.n_datasets} dataset(s)",
    )
    model = Model(n_components, reg_variance=reg_variance, equal_variance=bool(equal_variance))
    weights, means, variances, n_iter = search.pooled_values(pool, batch, model, seed)
    grid = (batch.n_datasets, n_init, n_components)
    values = StartingValues(
        weights.reshape(grid),
        _layout.means_to_data(batch.center, batch.scale, means.reshape(grid)),
        _layout.variances_to_data(batch.scale, variances.reshape(grid)),
        n_iter,
    )
    return StartingValues(*(a[0] for a in values)) if batch.single else values


def kmeans_plusplus(
    data: ArrayLike | Sequence[ArrayLike], n_components: int = 2, **options: Any
) -> StartingValues:
    """k-means++ seeding, then one assignment of the points to the nearest seed.

    The first seed is a point drawn uniformly; each next one is drawn with probability
    proportional to its squared distance to the nearest seed so far (Arthur &
    Vassilvitskii 2007). Weights, means and variances are those of the clusters of points
    nearest to each seed. ``options`` are those of :func:`fastem.starting_values`.
    """
    return starting_values(data, n_components, init="kmeans++", **options)


def random_from_data(
    data: ArrayLike | Sequence[ArrayLike], n_components: int = 2, **options: Any
) -> StartingValues:
    """``K`` distinct points drawn uniformly as seeds, then clusters as for k-means++."""
    return starting_values(data, n_components, init="random_from_data", **options)


def kmeans(
    data: ArrayLike | Sequence[ArrayLike], n_components: int = 2, **options: Any
) -> StartingValues:
    """Lloyd's k-means to convergence from k-means++ seeds (scikit-learn's default start).

    Weights, means and variances are those of the final clusters.
    """
    return starting_values(data, n_components, init="kmeans", **options)


def quantile(
    data: ArrayLike | Sequence[ArrayLike], n_components: int = 2, **options: Any
) -> StartingValues:
    """The sorted data cut into ``K`` blocks of equal count; no randomness.

    Weights, means and variances are those of the blocks, so every restart is the same.
    """
    return starting_values(data, n_components, init="quantile", **options)


def random(
    data: ArrayLike | Sequence[ArrayLike], n_components: int = 2, **options: Any
) -> StartingValues:
    """mixtools' random starts (``normalmix.init``).

    The sorted data are cut into ``K`` blocks as for :func:`quantile`. Standard deviations
    are ``s_k / E_k``, with ``s_k`` the block's and ``E_k`` a standard exponential draw
    (mixtools' ``1 / rexp(k, rate = s)``; one common draw with ``equal_variance``); means
    are normal draws around the block means with those standard deviations; weights are
    uniform draws, normalised.
    """
    return starting_values(data, n_components, init="random", **options)


def emem(
    data: ArrayLike | Sequence[ArrayLike],
    n_components: int = 2,
    *,
    n_runs: int = 10,
    n_iter: int = 5,
    start: str = "random_from_data",
    **options: Any,
) -> StartingValues:
    """Short runs of EM (emEM; Biernacki, Celeux & Govaert 2003).

    For each restart, ``n_runs`` starts from ``start`` ("random_from_data", "kmeans++" or
    "random") each run ``n_iter`` EM iterations; the one with the highest log-likelihood
    is the restart's starting value. ``StartingValues.n_iter`` reports the iterations
    spent, ``n_runs * n_iter`` per restart.
    """
    params = dict(n_runs=n_runs, n_iter=n_iter, start=start)
    return starting_values(data, n_components, init="emem", init_params=params, **options)


def hc(
    data: ArrayLike | Sequence[ArrayLike],
    n_components: int = 2,
    *,
    model: str = "V",
    **options: Any,
) -> StartingValues:
    """mclust's model-based agglomerative hierarchical clustering (``hc``), cut into ``K``
    groups (``hclass``), and an M-step of that partition; no randomness.

    From one group per distinct value, the two groups whose merge costs the classification
    likelihood least are merged until ``K`` remain, as ``hc(x, modelName = model)`` does:
    ``model="V"`` (a variance per group, mclust's prior-like term keeping groups of one
    value finite, in the units of mclust's default ``hcUse = "SVD"``) or ``"E"`` (one
    variance: Ward's criterion). Weights, means and variances are the groups' (a variance
    below ``1e-3 / K**2`` of the data's floored as for the other strategies). Every
    restart is the same. Ties go to the pair of groups whose smallest values come first.
    ``options`` are those of :func:`fastem.starting_values`.

    Examples
    --------
    >>> x = np.array([0.0, 0.1, 0.2, 5.0, 5.2, 9.0, 9.1])
    >>> np.round(fastem.init.hc(x, 3, model="E").means, 2).tolist()
    [[0.1, 5.1, 9.05]]
    """
    params = dict(model=model)
    return starting_values(data, n_components, init="hc", init_params=params, **options)


def rndem(
    data: ArrayLike | Sequence[ArrayLike],
    n_components: int = 2,
    *,
    n_candidates: int = 200,
    **options: Any,
) -> StartingValues:
    """rndEM (Maitra 2009): per restart, ``n_candidates`` starts drawn as
    :func:`random_from_data` draws them, the one of highest log-likelihood kept, with no EM
    iteration in between.

    Candidate 0 of a restart is :func:`random_from_data`'s start for that restart, so
    ``n_candidates=1`` gives its starts. The default, 200, is the budget of random starts
    of EMCluster's ``rand.EM`` (``short.iter``). ``options`` are those of
    :func:`fastem.starting_values`.
    """
    params = dict(n_candidates=n_candidates)
    return starting_values(data, n_components, init="rndem", init_params=params, **options)
