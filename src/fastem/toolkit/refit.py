"""Fits from given starts, shared by :func:`fastem.select`, :func:`fastem.bootstrap_lrt`
and :func:`fastem.bootstrap`: nested candidates (each component of a fit of one component
fewer split in two, tight groups of points) and bootstrap replicates refitted from the fits
to the data plus ``n_init`` random k-means++ restarts (:func:`refit`), each one call of
:func:`fastem.fit`. How the replicates are drawn is :mod:`.replicates`'s job.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import numpy as np

from .. import binned
from ..api import fit
from ..engine.status import Status
from ..init import starting_values
from ..result import squeeze, unsqueeze


class Parameters(NamedTuple):
    """Weights, means and variances, each an array with components on the last axis."""

    weights: np.ndarray
    means: np.ndarray
    variances: np.ndarray

    def take(self, rows) -> Parameters:
        return Parameters(*(np.asarray(a)[rows] for a in self))


def parameters_of(result) -> Parameters:
    """A fit's parameters with a dataset axis, also for a fit of one 1D dataset."""
    return Parameters(
        *(
            np.atleast_2d(np.asarray(a, dtype=np.float64))
            for a in (result.weights, result.means, result.variances)
        )
    )


def split_start(params: Parameters) -> Parameters:
    """Starts for a ``K + 1`` component fit that are the ``K`` component fits exactly: the
    heaviest component split in two halves of the same mean and variance.

    Such a start has the ``K`` component fit's log-likelihood, and EM never lowers it, so
    a ``K + 1`` fit that includes it is never worse than the ``K`` component fit.
    """
    weights, means, variances = (np.asarray(a, dtype=np.float64) for a in params)
    rows = np.arange(weights.shape[0])
    heaviest = np.argmax(weights, axis=1)
    half = weights[rows, heaviest] / 2
    split_weights = np.concatenate([weights, half[:, None]], axis=1)
    split_weights[rows, heaviest] = half
    return Parameters(
        split_weights,
        np.concatenate([means, means[rows, heaviest][:, None]], axis=1),
        np.concatenate([variances, variances[rows, heaviest][:, None]], axis=1),
    )


SPLIT_SPREAD = 0.5
"""How far apart :func:`nested_starts` puts the halves of a split component: their means
are ``mu -+ SPLIT_SPREAD * sd``, and their variances ``(1 - SPLIT_SPREAD**2) var``, so that
the two together have the component's mean and variance."""


def nested_starts(params: Parameters, equal_variance: bool = False) -> Parameters:
    """Starts for ``K + 1`` components from a ``K`` component fit (parameters of shape
    (n_datasets, K)): each component in turn split in two halves of its weight, moved apart
    by :data:`SPLIT_SPREAD` so that EM can move them (with ``equal_variance``, the halves
    keep the shared variance). Arrays of shape (n_datasets, K, K + 1), each start's
    components sorted by mean."""
    weights, means, variances = (np.asarray(a, dtype=np.float64) for a in params)
    k = means.shape[1]
    sd = np.sqrt(variances)
    shrink = 1.0 if equal_variance else 1.0 - SPLIT_SPREAD**2
    starts = []
    for j in range(k):
        others = np.arange(k) != j
        half = weights[:, j : j + 1] / 2
        starts.append(
            Parameters(
                np.concatenate([weights[:, others], half, half], axis=1),
                np.concatenate(
                    [
                        means[:, others],
                        means[:, j : j + 1] - SPLIT_SPREAD * sd[:, j : j + 1],
                        means[:, j : j + 1] + SPLIT_SPREAD * sd[:, j : j + 1],
                    ],
                    axis=1,
                ),
                np.concatenate(
                    [
                        variances[:, others],
                        shrink * variances[:, j : j + 1],
                        shrink * variances[:, j : j + 1],
                    ],
                    axis=1,
                ),
            )
        )
    stacked = Parameters(*(np.stack([s[i] for s in starts], axis=1) for i in range(3)))
    order = np.argsort(stacked.means, axis=2, kind="stable")
    return Parameters(*(np.take_along_axis(a, order, axis=2) for a in stacked))


TIGHT_SIZES = (5, 8, 12)
"""Window sizes of :func:`tight_starts`: a narrow component on a few points close together
is the kind of maximum a random search finds least often (on the panel of real datasets,
best maxima with a component on 5 to 9 points were reached by 1 restart in 100 to 10,000)."""
TIGHT_PER_SIZE = 2


def tight_starts(data, params: Parameters, sample_weight=None) -> Parameters:
    """Starts for ``K + 1`` components from a ``K`` component fit (parameters of shape
    (n_datasets, K), data units): the fit's components with their weights scaled down,
    and a narrow component on a tight group of points: for each window size of
    :data:`TIGHT_SIZES`, the :data:`TIGHT_PER_SIZE` windows of that many consecutive sorted
    points with the smallest range (not overlapping), with their mean and variance (at
    least 1e-3 of the fit's smallest) and weight. Arrays of shape (n_datasets, S, K + 1),
    components sorted by mean. Weighted data (``sample_weight``) get none: windows of
    points are not windows of weight."""
    weights, means, variances = (np.asarray(a, dtype=np.float64) for a in params)
    datasets = _rows(data, range(weights.shape[0]))
    if sample_weight is not None:
        return Parameters(
            *(np.empty((weights.shape[0], 0, weights.shape[1] + 1)) for _ in range(3))
        )
    starts = [[], [], []]
    for d, x in enumerate(datasets):
        x = np.sort(np.asarray(x, dtype=np.float64))
        n = x.size
        rows = [[], [], []]
        for m in TIGHT_SIZES:
            if m >= n:
                continue
            ranges = x[m - 1 :] - x[: n - m + 1]
            taken = np.zeros(n, dtype=np.bool_)
            found = 0
            for i in np.argsort(ranges, kind="stable"):
                if found == TIGHT_PER_SIZE:
                    break
                if taken[i : i + m].any():
                    continue
                found += 1
                taken[i : i + m] = True
                window = x[i : i + m]
                share = m / n
                rows[0].append(np.append(weights[d] * (1 - share), share))
                rows[1].append(np.append(means[d], window.mean()))
                rows[2].append(
                    np.append(variances[d], max(window.var(), 1e-3 * variances[d].min()))
                )
        for part, values in zip(starts, rows):
            part.append(values)
    count = max(len(part) for part in starts[0])
    k = weights.shape[1] + 1
    out = []
    for part in starts:
        array = np.full((weights.shape[0], count, k), np.nan)
        for d, values in enumerate(part):
            if values:
                array[d, : len(values)] = values
        out.append(array)
    # Datasets with fewer windows repeat their first start (or the K fit split) to fill.
    for d in range(weights.shape[0]):
        filled = len(starts[0][d])
        if filled == 0:
            fallback = split_start(params.take([d]))
            for array, value in zip(out, fallback):
                array[d, :] = value[0]
        else:
            for array in out:
                array[d, filled:] = array[d, 0]
    stacked = Parameters(*out)
    order = np.argsort(stacked.means, axis=2, kind="stable")
    return Parameters(*(np.take_along_axis(a, order, axis=2) for a in stacked))


def fit_nested(
    data,
    n_components,
    smaller,
    *,
    n_init,
    init,
    random_state,
    options,
    sample_weight=None,
    tight=True,
):
    """:func:`fastem.fit` of ``n_components`` to ``data``, with the :func:`nested_starts`
    of ``smaller`` (the fit of one component fewer, or None) besides the restarts of
    ``init``: ``n_init`` of them, or rounds until settled for ``"auto"``, and with
    ``tight`` (and unequal variances) from the :func:`tight_starts` of ``smaller``.
    ``options`` are further arguments of :func:`fastem.fit`.

    A dataset whose search ends at a regular fit below ``smaller`` gets ``smaller`` itself
    with its heaviest component halved (:func:`split_start`, a fixed point of EM), run to
    its stopping rule from there: so the log-likelihood of ``n_components`` is never below
    that of one fewer. Its restarts and search are those of the search.
    """
    if smaller is None:
        return fit(
            data,
            n_components,
            n_init=n_init,
            init=init,
            random_state=random_state,
            sample_weight=sample_weight,
            **options,
        )
    equal_variance = options.get("equal_variance", False)
    params = parameters_of(smaller)
    nested = nested_starts(params, equal_variance)
    # Intervals' starts are drawn on their midpoints, weighted by their counts.
    points, point_weight = (
        binned.points(*binned.datasets(data))
        if binned.is_intervals(data)
        else (data, sample_weight)
    )
    if tight and not equal_variance:  # a shared variance has no narrow component
        tight = tight_starts(points, params, point_weight)
        nested = Parameters(*(np.concatenate([a, b], axis=1) for a, b in zip(nested, tight)))
    own = dict(options)
    if n_init != "auto":
        drawn = starting_values(
            points,
            n_components,
            init=init,
            n_init=n_init,
            random_state=random_state,
            sample_weight=point_weight,
            equal_variance=equal_variance,
            init_params=options.get("init_params"),
        )
        nested = Parameters(
            *(
                np.concatenate([given, value.reshape(given.shape[0], -1, n_components)], axis=1)
                for given, value in zip(nested, drawn[:3])
            )
        )
        # Every start is given: a strategy without randomness or options stands by.
        init = "quantile"
        own.pop("init_params", None)
    result = fit(
        data,
        n_components,
        n_init=n_init if n_init == "auto" else nested.means.shape[1],
        init=init,
        random_state=random_state,
        sample_weight=sample_weight,
        **_given(nested, options),
        **own,
    )
    below = np.atleast_1d(smaller.log_likelihood)
    # Where the search found no regular fit, its fit stays: spurious or collapsed, it is
    # flagged as such and no estimate (select leaves it out, the LRT says so).
    regular = np.atleast_1d(result.status) < Status.SPURIOUS
    with np.errstate(invalid="ignore"):
        short = np.flatnonzero((np.atleast_1d(result.log_likelihood) < below) & regular)
    if short.size == 0:
        return result
    rows = _rows(data, short)
    kept = fit(
        rows,
        n_components,
        init="quantile",
        sample_weight=_rows(sample_weight, short),
        **_given(split_start(params.take(short)), options),
        **{k: v for k, v in own.items() if k != "init_params"},
    )
    return _with_rows(result, short, kept)


def _given(params, options) -> dict:
    """Starting values as :func:`fastem.fit`'s arguments (no weights with equal ones)."""
    weights = None if options.get("equal_weights") else params.weights
    return dict(weights_init=weights, means_init=params.means, variances_init=params.variances)


def _rows(data, rows):
    """Datasets ``rows`` of ``data`` (a 1D array, 2D array or list of 1D arrays, or None;
    or an :class:`~fastem.Intervals` or a list of them) as a list of datasets."""
    if data is None:
        return None
    if (isinstance(data, np.ndarray) and data.ndim == 1) or isinstance(data, binned.Intervals):
        return [data]
    return [data[r] if isinstance(data[r], binned.Intervals) else np.asarray(data[r]) for r in rows]


_ROW_FIELDS = (
    "weights",
    "means",
    "variances",
    "log_likelihood",
    "n_iter",
    "n_fpeval",
    "n_objeval",
    "rate",
    "parameter_rate",
    "converged",
    "status",
    "log_map",
)


def _with_rows(result, rows, other):
    """``result`` with the returned fits of datasets ``rows`` replaced by ``other``'s (a
    fit of those datasets alone); ``best_restart`` is -1 there, as no restart of the
    search is the returned fit."""
    single = np.ndim(result.log_likelihood) == 0
    result, other = unsqueeze(result), unsqueeze(other)
    changes = {}
    for name in _ROW_FIELDS + ("best_restart",):
        values = getattr(result, name).copy()
        values[rows] = -1 if name == "best_restart" else getattr(other, name)
        changes[name] = values
    replaced = dataclasses.replace(result, **changes)
    return squeeze(replaced) if single else replaced


def refit(data, n_components, starts, *, n_init, random_state, runs, options, sample_weight=None):
    """Fit ``data`` (a list of 1D arrays) from each of ``starts`` (:class:`Parameters` of
    shape (n_datasets, K), data units) and ``n_init`` random k-means++ restarts.

    The restarts of dataset ``d`` are seeded by ``(random_state, g)`` with ``g`` its global
    index; ``runs`` lists ``(first g, count)`` of consecutive datasets (:func:`runs_of`).
    ``options`` are further arguments of :func:`fastem.fit`.
    """
    stacks = [[np.asarray(s[i], dtype=np.float64)[:, None, :] for s in starts] for i in range(3)]
    if n_init:
        random = _random_starts(
            data,
            n_components,
            n_init,
            random_state,
            runs,
            options.get("equal_variance", False),
            sample_weight,
        )
        for stack, values in zip(stacks, random):
            stack.append(values)
    weights, means, variances = (np.concatenate(stack, axis=1) for stack in stacks)
    if options.get("equal_weights"):  # held at 1/K: fit takes no starting weights then
        weights = None
    return fit(
        data,
        n_components,
        n_init=means.shape[1],
        weights_init=weights,
        means_init=means,
        variances_init=variances,
        sample_weight=sample_weight,
        warn=False,
        **options,
    )


def _random_starts(data, n_components, n_init, random_state, runs, equal_variance, sample_weight):
    """k-means++ starts of shape (n_datasets, n_init, K) for every dataset of ``data``;
    ``runs`` is a list of ``(first_global_index, n_datasets)``: consecutive datasets of
    ``data`` seeded from consecutive global indices."""
    parts = [[], [], []]
    at = 0
    for first, count in runs:
        weights = None if sample_weight is None else sample_weight[at : at + count]
        values = starting_values(
            data[at : at + count],
            n_components,
            n_init=n_init,
            random_state=random_state,
            dataset_offset=first,
            equal_variance=equal_variance,
            sample_weight=weights,
        )
        for part, array in zip(parts, values[:3]):
            part.append(array)
        at += count
    return [np.concatenate(part, axis=0) for part in parts]
