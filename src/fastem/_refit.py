"""Bootstrap replicates and their refits, shared by :func:`fastem.bootstrap_lrt` and
:func:`fastem.bootstrap`.

A replicate is a dataset drawn from a fitted mixture (parametric), resampled from the
data with replacement (nonparametric), or the data with random weights (weighted
likelihood bootstrap). Replicate ``b`` of dataset ``d`` has the global index ``g = d *
n_boot + b`` and draws from streams keyed by ``(seed, g)``, so results do not depend on
how the replicates are chunked. Each replicate is refitted from given starts (the fits
to the data) plus ``n_init`` random k-means++ restarts, in chunks of about
``CHUNK_POINTS`` points, each one call of :func:`fastem.fit`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .api import fit
from .init import starting_values
from .simulate import simulate

CHUNK_POINTS = 2**21
"""Points per chunk of replicates: 16 MB of values, a few kernel calls' worth of work."""

KINDS = ("parametric", "nonparametric", "weighted")


def stage_seed(random_state: int, *keys: int) -> int:
    """An independent seed for one stage of a bootstrap (the draws, the restarts of each
    model), derived from the caller's seed."""
    sequence = np.random.SeedSequence(random_state, spawn_key=keys)
    return int(sequence.generate_state(1, np.uint64)[0] % np.uint64(2**63))


class Parameters(NamedTuple):
    """Weights, means and variances, each an array with components on the last axis."""

    weights: np.ndarray
    means: np.ndarray
    variances: np.ndarray

    def take(self, rows) -> Parameters:
        return Parameters(*(np.asarray(a)[rows] for a in self))


def parameters_of(result) -> Parameters:
    """A fit's parameters with a dataset axis, also for a fit of one 1D dataset."""
    return Parameters(*(np.atleast_2d(np.asarray(a, dtype=np.float64))
                        for a in (result.weights, result.means, result.variances)))


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


def refit(data, n_components, starts, *, n_init, random_state, runs, options,
          sample_weight=None):
    """Fit ``data`` (a list of 1D arrays) from each of ``starts`` (:class:`Parameters` of
    shape (n_datasets, K), data units) and ``n_init`` random k-means++ restarts.

    The restarts of dataset ``d`` are seeded by ``(random_state, g)`` with ``g`` its global
    index; ``runs`` lists ``(first g, count)`` of consecutive datasets (:func:`runs_of`).
    ``options`` are further arguments of :func:`fastem.fit`.
    """
    stacks = [[np.asarray(s[i], dtype=np.float64)[:, None, :] for s in starts] for i in range(3)]
    if n_init:
        random = _random_starts(data, n_components, n_init, random_state, runs,
                                options.get("equal_variance", False), sample_weight)
        for stack, values in zip(stacks, random):
            stack.append(values)
    weights, means, variances = (np.concatenate(stack, axis=1) for stack in stacks)
    if options.get("equal_weights"):  # held at 1/K: fit takes no starting weights then
        weights = None
    return fit(data, n_components, n_init=means.shape[1], weights_init=weights,
               means_init=means, variances_init=variances, sample_weight=sample_weight,
               warn=False, **options)


def _random_starts(data, n_components, n_init, random_state, runs, equal_variance,
                   sample_weight):
    """k-means++ starts of shape (n_datasets, n_init, K) for every dataset of ``data``;
    ``runs`` is a list of ``(first_global_index, n_datasets)``: consecutive datasets of
    ``data`` seeded from consecutive global indices."""
    parts = [[], [], []]
    at = 0
    for first, count in runs:
        weights = None if sample_weight is None else sample_weight[at:at + count]
        values = starting_values(
            data[at:at + count], n_components, n_init=n_init, random_state=random_state,
            dataset_offset=first, equal_variance=equal_variance, sample_weight=weights,
        )
        for part, array in zip(parts, values[:3]):
            part.append(array)
        at += count
    return [np.concatenate(part, axis=0) for part in parts]


def chunks(global_index, sizes, max_points=CHUNK_POINTS):
    """Split replicates (their global indices, ascending, and sizes) into chunks of about
    ``max_points`` points; yields arrays of positions into ``global_index``."""
    ends = np.cumsum(sizes, dtype=np.float64)
    start = 0
    while start < global_index.size:
        stop = int(np.searchsorted(ends, ends[start] - sizes[start] + max_points, side="right"))
        stop = max(stop, start + 1)
        yield np.arange(start, stop)
        start = stop


def runs_of(global_index) -> list[tuple[int, int]]:
    """``(first, length)`` of each run of consecutive integers in ``global_index``."""
    breaks = np.flatnonzero(np.diff(global_index) != 1) + 1
    starts = np.concatenate([[0], breaks])
    lengths = np.diff(np.concatenate([starts, [global_index.size]]))
    return [(int(global_index[s]), int(n)) for s, n in zip(starts, lengths)]


def draw(kind, source, sizes, global_index, random_state, params=None):
    """Replicates of kind ``kind`` for the given global indices: drawn from ``params``
    (:class:`Parameters`, one row per replicate) for "parametric"; resampled from
    ``source`` (a list of 1D arrays, one per replicate) for "nonparametric"; ``source``
    with weights ``n * Dirichlet(1, ..., 1)`` (rescaled exponential draws) for "weighted"."""
    runs = runs_of(global_index)
    if kind == "parametric":
        data = []
        at = 0
        for first, count in runs:
            rows = slice(at, at + count)
            values, _ = simulate(params.weights[rows], params.means[rows],
                                 params.variances[rows], np.asarray(sizes[rows], dtype=np.int64),
                                 n_datasets=count, random_state=random_state,
                                 dataset_offset=first)
            data.extend(values)
            at += count
        return data, None, runs
    generators = [np.random.default_rng([random_state, int(g)]) for g in global_index]
    if kind == "nonparametric":
        data = [x[rng.integers(0, x.size, x.size)] for x, rng in zip(source, generators)]
        return data, None, runs
    weights = [rng.standard_exponential(x.size) for x, rng in zip(source, generators)]
    return list(source), [w * (w.size / w.sum()) for w in weights], runs
