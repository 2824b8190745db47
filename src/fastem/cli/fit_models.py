"""The candidate models of ``fastem fit`` and their fits of every dataset, here
(:func:`selection_of`) or as tasks on a Dask cluster (:func:`on_cluster`), with the same
bits and the same warnings."""

from __future__ import annotations

import warnings

import numpy as np

from .cluster import gather, submit_chunks


def selection_of(data, k_low, k_high, models, criterion, options, quiet=False):
    """The candidate models of ``fastem fit``, each with its fit of every dataset, and the
    chosen one per dataset, as a :class:`fastem.SelectionResult`: :func:`fastem.select`'s
    for a range of components or several variance models; else the one fit of
    ``--components K``, always chosen. ``quiet``: without the warnings about the fits,
    which :func:`_warn_fits` gives."""
    from .. import api
    from ..toolkit.selection import SelectionResult, select, select_quietly

    if _one_model(k_low, k_high, models):
        fitted = api.fit(
            data,
            k_low,
            skip_degenerate=True,
            equal_variance=models[0] == "equal",
            warn=not quiet,
            **options,
        )
        n_datasets = len(fitted.log_likelihood)
        return SelectionResult.from_fits(
            [(k_low, _variance_model(k_low, models[0] == "equal"))],
            [fitted],
            criterion,
            eligible=np.ones((n_datasets, 1), dtype=bool),
        )
    return (select_quietly if quiet else select)(
        data,
        n_components=range(k_low, k_high + 1),
        variance=models,
        criterion=criterion,
        **options,
    )


def _one_model(k_low, k_high, models) -> bool:
    """Whether ``--components`` and ``--variance`` give one candidate model."""
    return k_low == k_high and (len(models) == 1 or k_low == 1)


def _quiet_selection(data, k_low, k_high, models, criterion, options):
    """A task of ``fastem fit --scheduler`` or ``--workers``: :func:`selection_of` of a chunk
    of the datasets, without the warnings about its fits, which are given once for all
    chunks; and ``(category, message)`` of the warnings it gave all the same, about the
    options (restarts that cannot differ, say), the same for every chunk."""
    # The warnings filters are the process's: a worker that runs several tasks at once
    # may mix their lists, which hold the same warnings.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        selection = selection_of(data, k_low, k_high, models, criterion, options, quiet=True)
    return selection, [(warning.category, str(warning.message)) for warning in caught]


def on_cluster(client, intervals, data, k_low, k_high, models, criterion, options):
    """:func:`selection_of` with its chunks of datasets fitted as tasks on the Dask
    ``client``'s cluster, joined, and their warnings given once, as one local call gives
    them: the same bits, and the same warnings, whatever the chunks."""
    from ..interop.dask import concatenate_selections

    sizes = [len(x.lower) if intervals else len(x) for x in data]
    options = dict(options)
    weights = options.pop("sample_weight")
    futures = submit_chunks(
        client, _quiet_selection, data, sizes, weights, options, k_low, k_high, models, criterion
    )
    parts = gather(client, futures)
    selection = concatenate_selections([part for part, _ in parts])
    one_model = _one_model(k_low, k_high, models)
    _warn_fits(selection, data, weights, options, one_model, given=parts[0][1])
    return selection


def _warn_fits(selection, data, weights, options, one_model, given):
    """The warnings of one local call of :func:`fastem.fit` (one model) or
    :func:`fastem.select` that made ``selection`` of ``data``, in their order: those about
    its fits, given for all the chunks' fits joined, and those its tasks ``given`` (each
    chunk's the same: about the options)."""
    from .. import api
    from ..toolkit.selection import warn_selection

    kind = options.get("sample_weight_type", "frequency")
    if one_model and kind == "frequency":
        api.warn_few_counts(data, weights, selection.candidates[0][0], stacklevel=2)
    for category, message in given:
        warnings.warn(message, category, stacklevel=2)
    if one_model:
        selection.fits[0].warn()
    else:
        warn_selection(selection, data, weights, kind)


def _variance_model(k, equal):
    """``equal`` or ``unequal`` variances; ``-`` for one component, where the two coincide
    (mclust's model ``X``)."""
    return "-" if k == 1 else ("equal" if equal else "unequal")
