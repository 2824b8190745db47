"""Bootstrap replicates, shared by :func:`fastem.bootstrap_lrt` and :func:`fastem.bootstrap`:
the checked data and its weights, the memory the replicates need, their draws and their
chunks.

A replicate is a dataset drawn from a fitted mixture (parametric), resampled from the
data with replacement (nonparametric), or the data with random weights (weighted
likelihood bootstrap). Weighted data (``sample_weight``) count each point as its weight
(:func:`weighted_batch`): a replicate has as many points as the weights sum to, and
integer frequency weights give the replicates of the data with each point repeated that
many times. Replicate ``b`` of dataset ``d`` has the global index ``g = d *
n_boot + b`` and draws from streams keyed by ``(seed, g)``, so results do not depend on
how the replicates are chunked. Replicates are refitted (:func:`.refit.refit`) in chunks
of about ``CHUNK_POINTS`` points.
"""

from __future__ import annotations

import numpy as np

from .. import checks as _validate
from .simulation import simulate

CHUNK_POINTS = 2**21
"""Points per chunk of replicates: 16 MB of values, a few kernel calls' worth of work."""

KINDS = ("parametric", "nonparametric", "weighted")


def stage_seed(random_state: int, *keys: int) -> int:
    """An independent seed for one stage of a bootstrap (the draws, the restarts of each
    model), derived from the caller's seed."""
    sequence = np.random.SeedSequence(random_state, spawn_key=keys)
    return int(sequence.generate_state(1, np.uint64)[0] % np.uint64(2**63))


REPLICATE_POINT_BYTES = 24.0
"""Memory of one point of a replicate being refitted: its value, its draw (an index or a
component) and the kernel's standardised copy."""


def check_memory(
    sizes, n_components, n_boot, per_replicate, n_init, n_starts, n_init_data, weighted=False
):
    """Refuse, before any work, options whose arrays would not fit in the machine's memory:
    ``n_boot`` replicates of each dataset (``per_replicate`` bytes each, what the result
    keeps of them), ``n_init_data`` restarts of each fit to the data (an int; "auto" is
    bounded by :func:`fastem.fit`'s ``max_init``), and ``n_init`` random restarts besides
    ``n_starts`` given starts for each replicate of the largest chunk. With ``weighted``
    (the replicates have as many points as frequency weights sum to, ``sizes``), also the
    points of one replicate, which a chunk holds at least."""
    n_datasets = len(sizes)
    if weighted:
        d = int(np.argmax(sizes))
        _validate.check_memory(
            REPLICATE_POINT_BYTES * max(int(sizes[d]), CHUNK_POINTS),
            f"the weights of dataset {d} sum to {sizes[d]:g}: a replicate of {sizes[d]:g} points",
            "Divide the weights, or pass sample_weight_type='probability' if they "
            "are sampling weights.",
        )
    per_fit = _validate.fit_bytes(n_components)
    _validate.check_option_memory(
        "n_boot", n_boot, n_datasets * per_replicate, f"the replicates of {n_datasets} dataset(s)"
    )
    if n_init_data != "auto":
        _validate.check_option_memory(
            "n_init_data", n_init_data, n_datasets * per_fit, f"the fits to {n_datasets} dataset(s)"
        )
    chunk = min(n_datasets * n_boot, max(1, CHUNK_POINTS // int(np.min(sizes))))
    _validate.check_option_memory(
        "n_init",
        n_init,
        chunk * per_fit,
        f"the refits of a chunk of {chunk} replicates",
        fixed=chunk * n_starts * per_fit,
    )


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


def weighted_batch(data, sample_weight, sample_weight_type, n_components):
    """The checked batch of a bootstrap's data, its datasets (a list of 1D arrays), their
    point weights (a list of arrays, or None) and the size of each dataset's replicates
    (int array of shape (n_datasets,)).

    Points of weight 0 are left out and probability weights rescaled, as :func:`fastem.fit`
    does, so the weights returned are frequency weights that fit the same mixture; a
    replicate has as many points as they sum to (rounded), BIC's ``n``."""
    from .. import checks as _validate

    sample_weight_type = _validate.check_choice(
        "sample_weight_type", sample_weight_type, _validate.SAMPLE_WEIGHT_TYPES
    )
    batch = _validate.prepared_batch(
        data, sample_weight, n_components, sample_weight_type=sample_weight_type
    )
    bounds = list(zip(batch.offsets[:-1], batch.offsets[1:]))
    datasets = [batch.values[a:b] for a, b in bounds]
    if batch.sample_weight is None:
        return batch, datasets, None, batch.n_samples.astype(np.int64)
    weights = [batch.sample_weight[a:b] for a, b in bounds]
    sizes = np.rint(batch.n_observations).astype(np.int64)
    needed = np.broadcast_to(n_components, sizes.shape)
    small = np.flatnonzero(sizes < needed)
    if small.size:
        d = int(small[0])
        raise ValueError(
            f"the weights of dataset {d} sum to {batch.n_observations[d]:g}, fewer points "
            f"than the {needed[d]} component(s) of a bootstrap replicate: "
            "frequency weights count points (pass sample_weight_type='probability' for "
            "sampling weights)."
        )
    return batch, datasets, weights, sizes


def draw(kind, source, sizes, global_index, random_state, params=None, source_weights=None):
    """Replicates of kind ``kind`` for the given global indices: drawn from ``params``
    (:class:`Parameters`, one row per replicate) for "parametric"; resampled from
    ``source`` (a list of 1D arrays, one per replicate) for "nonparametric"; ``source``
    with weights ``n * Dirichlet(1, ..., 1)`` (rescaled exponential draws) for "weighted".

    With ``source_weights`` (frequency weights, one array per replicate), "nonparametric"
    draws ``sizes`` points, each with probability proportional to its weight, and
    "weighted" gives point ``i`` a ``Gamma(w_i)`` draw, rescaled to sum to ``sizes``:
    what the data with each point repeated ``w_i`` times would get, as a sum of
    ``w_i`` exponential draws is ``Gamma(w_i)``. Integer weights draw positions among those
    repeated points, so their nonparametric replicates are those of the repeated data,
    point for point."""
    runs = runs_of(global_index)
    if kind == "parametric":
        data = []
        at = 0
        for first, count in runs:
            rows = slice(at, at + count)
            values, _ = simulate(
                params.weights[rows],
                params.means[rows],
                params.variances[rows],
                np.asarray(sizes[rows], dtype=np.int64),
                n_datasets=count,
                random_state=random_state,
                dataset_offset=first,
            )
            data.extend(values)
            at += count
        return data, None, runs
    generators = [np.random.default_rng([random_state, int(g)]) for g in global_index]
    if source_weights is None:
        if kind == "nonparametric":
            data = [x[rng.integers(0, x.size, x.size)] for x, rng in zip(source, generators)]
            return data, None, runs
        weights = [rng.standard_exponential(x.size) for x, rng in zip(source, generators)]
        return list(source), [w * (w.size / w.sum()) for w in weights], runs
    if kind == "nonparametric":
        data = [
            x[_weighted_positions(w, int(n), rng)]
            for x, w, n, rng in zip(source, source_weights, sizes, generators)
        ]
        return data, None, runs
    weights = [rng.standard_gamma(w) for w, rng in zip(source_weights, generators)]
    return list(source), [g * (n / g.sum()) for g, n in zip(weights, sizes)], runs


def _weighted_positions(weights, size, rng):
    """``size`` indices of points drawn with probabilities ``weights / weights.sum()``: a
    position among the points repeated by their weights, mapped to its point (for integer
    weights the same draws as resampling the repeated points)."""
    ends = np.cumsum(weights)
    if np.all(weights == np.round(weights)):
        positions = rng.integers(0, int(round(ends[-1])), size)
    else:
        positions = rng.random(size) * ends[-1]
    return np.minimum(np.searchsorted(ends, positions, side="right"), weights.size - 1)
