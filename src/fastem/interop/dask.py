"""The same fits on a Dask cluster (``pip install 'fastem[dask]'``).

Each chunk of datasets is fitted by :func:`fastem.fit` on a worker, with
``dataset_offset`` set to the chunk's global index (for messages): random starts are keyed
by each dataset's content, so the result equals a local ``fastem.fit`` of the whole batch
bit for bit, however the data are chunked. Runs on the active Dask scheduler: a
``distributed.Client`` if one is set up (``Client("tcp://scheduler:8786")`` for a real
cluster), else Dask's local threads.
"""

from __future__ import annotations

import dataclasses
from dataclasses import fields

import numpy as np

try:
    import dask
    import dask.array as da
    import dask.bag as db
    from dask.delayed import Delayed
except ImportError as error:  # pragma: no cover - exercised without dask only
    raise ImportError(
        "fastem.dask needs Dask: pip install 'fastem[dask]' (dask[distributed])"
    ) from error

from .. import api
from .. import checks as _validate
from .. import options as _options
from ..engine.information import StandardErrors
from ..restarts import pad_restarts
from ..result import FitResult, unsqueeze
from ..toolkit.selection import SelectionResult

__all__ = ["fit", "concatenate", "concatenate_selections"]


def _own(data, *, compute=True, chunk_size=1000):
    """:func:`fit`'s own parameters; those it hands to :func:`fastem.fit` are the table's
    (:mod:`fastem.options`), but the two it sets itself."""


@_options.derived(
    _own,
    entry="dask",
    caller="fastem.dask.fit",
)
def fit(data, *args, **kwargs):
    """:func:`fastem.fit` over datasets held by Dask.

    Parameters
    ----------
    data : dask.array.Array, dask.bag.Bag or list of dask.delayed.Delayed
        The datasets: an array of shape (n_datasets, n_samples), fitted chunk by chunk
        along the datasets (chunks along the samples are merged first); a bag of 1D
        arrays, fitted partition by partition; or a list of delayed 1D arrays (one
        dataset each), fitted ``chunk_size`` at a time.
    n_components : int
        Number of components K of every mixture.
    sample_weight : dask.array.Array or list of dask.delayed.Delayed, optional
        Weights like ``data``: a Dask array chunked like it, or a list of delayed
        arrays.
    compute : bool, default True
        Compute now and return a :class:`~fastem.FitResult`; with False, return a Dask
        ``Delayed`` whose value is that result.
    chunk_size : int, default 1000
        Datasets per task for a list of delayed datasets.
    n_init, init, random_state, tol, ...
        The options of :func:`fastem.fit`, passed to it.
        ``random_state`` must be an int here (or None, then drawn once) so that every
        worker uses the same seed. Starting values per dataset (``means_init`` of shape
        (n_datasets, K) or (n_datasets, n_init, K), ...) are handed to each task for its
        own datasets.

    Returns
    -------
    FitResult or dask.delayed.Delayed
        The fits of all datasets in their order, as :func:`fastem.fit` returns them;
        with ``compute=False``, a ``Delayed`` whose value is that result.

    Notes
    -----
    Option names are checked here, before any task runs; their values are checked by
    :func:`fastem.fit` in each task before it fits anything, so a bad value fails the
    computation at its first task. A dataset that cannot be fitted (NaN values, too few
    points) fails it too, with an error that names the dataset by its global index.

    Examples
    --------
    A thousand datasets in four chunks of 250: the same fits as one call of
    :func:`fastem.fit`, whatever the chunks.

    >>> import dask.array
    >>> data, _ = fastem.simulate([0.5, 0.5], [-2.0, 2.0], [1.0, 1.0], 200,
    ...                           n_datasets=1000, random_state=1)
    >>> chunked = dask.array.from_array(data, chunks=(250, 200))
    >>> result = fastem.dask.fit(chunked, 2, random_state=0)
    >>> result.means.shape
    (1000, 2)
    >>> bool(np.array_equal(result.means, fastem.fit(data, 2, random_state=0).means))
    True
    """
    # A misspelt option would otherwise surface only on a worker, after the data were read.
    arguments = _options.bound(fit, (data, *args), kwargs)
    n_components, sample_weight = arguments["n_components"], arguments["sample_weight"]
    compute, chunk_size = arguments["compute"], arguments["chunk_size"]
    fit_options = {name: arguments[name] for name in kwargs if name in _options.BY_NAME}
    fit_options.pop("n_components", None)
    fit_options.pop("sample_weight", None)
    n_components = _validate.check_int("n_components", n_components, 1)
    seed = _validate.check_random_state(fit_options.pop("random_state", None))
    options = dict(fit_options, random_state=seed)
    per_dataset = {
        name: np.asarray(options.pop(name))
        for name in _options.STARTS
        if np.ndim(options.get(name)) >= 2
    }
    _check_shapes(per_dataset, n_components, options.get("n_init", 1))
    tasks, n_datasets = _chunks(data, sample_weight, chunk_size)
    _check_rows(per_dataset, n_datasets)
    # One graph key for the per-dataset starting values, not a copy in every task.
    shared = dask.delayed(per_dataset) if per_dataset else {}
    parts = [
        dask.delayed(_fit_chunk)(chunk, weights, offset, n_components, options, shared)
        for chunk, weights, offset in tasks
    ]
    if not compute:
        return dask.delayed(_finish)(parts, shared)
    return _finish(list(dask.compute(*parts)), per_dataset)


def _check_shapes(per_dataset, n_components, n_init):
    """Per-dataset starting values in the user's terms, before the tasks slice them."""
    shapes = [(n_components,), (n_init, n_components)]
    for name, value in per_dataset.items():
        if value.shape[1:] not in shapes:
            raise ValueError(
                f"{name} has shape {value.shape}; give shape (n_datasets, {n_components}) "
                f"or (n_datasets, n_init={n_init}, {n_components}) per dataset, or "
                f"({n_components},) for all."
            )


def _check_rows(per_dataset, n_datasets):
    """Per-dataset starting values need one row per dataset (``n_datasets`` None: not
    known before the data are read)."""
    if n_datasets is None:
        return
    for name, value in per_dataset.items():
        if len(value) != n_datasets:
            raise ValueError(
                f"{name} has {len(value)} rows of starting values, but there are "
                f"{n_datasets} datasets; give one row per dataset, or shape (K,) for all."
            )


def _chunks(data, sample_weight, chunk_size):
    """``[(chunk, weights, global index of the chunk's first dataset)]`` for the tasks, and
    the number of datasets (None when only the data can tell: a bag)."""
    chunk_size = _validate.check_int("chunk_size", chunk_size, 1)
    if isinstance(data, da.Array):
        if data.ndim != 2:
            raise ValueError(
                f"a Dask array of datasets must be 2D (n_datasets, n_samples); "
                f"got {data.ndim} dimensions."
            )
        if data.shape[0] == 0:
            raise ValueError("The Dask array holds no datasets (0 rows).")
        if np.isnan(data.shape[0]):
            raise ValueError(
                "The Dask array's chunk sizes along the datasets are unknown (NaN), so no chunk "
                "knows the global index of its first dataset, which seeds its fits. Call "
                "data.compute_chunk_sizes() first."
            )
        data = data.rechunk({1: -1})
        blocks = data.to_delayed()[:, 0]
        weights = [None] * len(blocks)
        if sample_weight is not None:
            if not isinstance(sample_weight, da.Array) or sample_weight.shape != data.shape:
                raise ValueError("sample_weight must be a Dask array of the data's shape.")
            weights = list(sample_weight.rechunk(data.chunks).to_delayed()[:, 0])
        offsets = np.concatenate([[0], np.cumsum(data.chunks[0])[:-1]])
        return list(zip(blocks, weights, offsets.tolist())), data.shape[0]
    if isinstance(data, db.Bag):
        if sample_weight is not None:
            raise ValueError(
                "sample_weight is not supported with a Dask bag; pass the "
                "datasets as a list of delayed arrays instead."
            )
        # Offsets stay lazy: each is the sum of the lengths of the partitions before it.
        partitions = [dask.delayed(list)(p) for p in data.to_delayed()]
        lengths = [dask.delayed(len)(p) for p in partitions]
        offsets = [dask.delayed(sum)(lengths[:i]) for i in range(len(partitions))]
        return list(zip(partitions, [None] * len(partitions), offsets)), None
    if isinstance(data, (list, tuple)) and not data:
        raise ValueError("The list of datasets is empty.")
    if isinstance(data, (list, tuple)) and all(isinstance(d, Delayed) for d in data):
        if sample_weight is not None and len(sample_weight) != len(data):
            raise ValueError("sample_weight must be a list like the data, one entry per dataset.")
        tasks = []
        for start in range(0, len(data), chunk_size):
            stop = start + chunk_size
            weights = None if sample_weight is None else list(sample_weight[start:stop])
            tasks.append((list(data[start:stop]), weights, start))
        return tasks, len(data)
    raise TypeError(
        "fastem.dask.fit takes a 2D Dask array, a Dask bag of 1D arrays, or a list of Dask "
        f"delayed 1D arrays; got {type(data).__name__}. For data in memory use fastem.fit."
    )


def _fit_chunk(chunk, weights, offset, n_components, options, per_dataset):
    if len(chunk) == 0:  # an empty partition of a bag
        return None
    rows = slice(offset, offset + len(chunk))
    for name, value in per_dataset.items():
        if len(value) < rows.stop:
            raise ValueError(
                f"{name} has {len(value)} rows of starting values, fewer than the datasets "
                "(a bag tells their number only when read); give one row per dataset."
            )
        options = dict(options, **{name: value[rows]})
    # Warnings are summarised once for the whole batch, by _finish.
    return api.fit(
        chunk, n_components, sample_weight=weights, dataset_offset=offset, warn=False, **options
    )


def _finish(parts, per_dataset):
    parts = [part for part in parts if part is not None]
    if not parts:
        raise ValueError("The Dask bag holds no datasets.")
    result = concatenate(parts)
    _check_rows(per_dataset, result.n_datasets)
    result.warn(stacklevel=3)
    return result


def concatenate(results):
    """One :class:`~fastem.FitResult` from the results of consecutive chunks of datasets
    (a result of one 1D dataset counts as a chunk of one)."""
    if not results:
        raise ValueError("concatenate needs at least one FitResult.")
    results = [unsqueeze(r) for r in results]
    width = max(r.n_init for r in results)  # chunks of n_init="auto" ran their own rounds
    values = {}
    for field in fields(results[0]):
        first = getattr(results[0], field.name)
        if isinstance(first, np.ndarray):
            values[field.name] = np.concatenate(
                [pad_restarts(getattr(r, field.name), field.name, r.n_init, width) for r in results]
            )
        elif isinstance(first, StandardErrors):  # arrays along the dataset axis too
            values[field.name] = dataclasses.replace(
                first,
                **{
                    name.name: np.concatenate(
                        [getattr(getattr(r, field.name), name.name) for r in results]
                    )
                    for name in fields(first)
                    if isinstance(getattr(first, name.name), np.ndarray)
                },
            )
        else:
            values[field.name] = first  # the model, or None for fields not asked for
    return FitResult(**values)


def concatenate_selections(results):
    """One :class:`~fastem.SelectionResult` from the results of consecutive chunks of
    datasets, each of the same candidate models by the same criterion: every candidate's
    fits joined by :func:`concatenate`, and the choice made again from them, with each
    chunk's ``redundant`` and ``eligible`` (a choice per dataset, so the same as the
    chunks')."""
    if not results:
        raise ValueError("concatenate_selections needs at least one SelectionResult.")
    first = results[0]
    if any(r.candidates != first.candidates or r.criterion != first.criterion for r in results):
        raise ValueError(
            "concatenate_selections joins chunks of one selection: every result must have "
            "the same candidates and criterion."
        )
    fits = [concatenate([r.fits[c] for r in results]) for c in range(len(first.candidates))]
    redundant, eligible = (
        np.concatenate([np.atleast_2d(getattr(r, name)) for r in results])
        for name in ("redundant", "eligible")
    )
    return SelectionResult.from_fits(
        first.candidates, fits, first.criterion, list(redundant.T), eligible
    )
