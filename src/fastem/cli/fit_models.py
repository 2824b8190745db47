"""The candidate models of ``fastem fit`` and their fits of every dataset, here
(:func:`selection_of`) or as tasks on a Dask cluster (:func:`on_cluster`), with the same
bits and the same warnings."""

from __future__ import annotations

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
    of the datasets, without the warnings, which are given once for all chunks."""
    return selection_of(data, k_low, k_high, models, criterion, options, quiet=True)


def on_cluster(client, intervals, data, k_low, k_high, models, criterion, options):
    """:func:`selection_of` with its chunks of datasets fitted as tasks on the Dask
    ``client``'s cluster, joined, and their warnings given once, as one local call gives
    them: the same bits, and the same warnings, whatever the chunks."""
    from ..interop.dask import concatenate_selections

    sizes = [len(x.lower) if intervals else len(x) for x in data]
    weights = options.pop("sample_weight")
    futures = submit_chunks(
        client, _quiet_selection, data, sizes, weights, options, k_low, k_high, models, criterion
    )
    selection = concatenate_selections(gather(client, futures))
    _warn_fits(selection, data, weights, options, _one_model(k_low, k_high, models))
    return selection


def _warn_fits(selection, data, weights, options, one_model):
    """The warnings about the fits of ``selection`` that :func:`fastem.fit` (one model) or
    :func:`fastem.select` give, for its fits of all ``data`` joined from chunks."""
    from .. import api
    from ..toolkit.selection import warn_selection

    kind = options.get("sample_weight_type", "frequency")
    if not one_model:
        warn_selection(selection, data, weights, kind)
        return
    if kind == "frequency":
        api.warn_few_counts(data, weights, selection.candidates[0][0], stacklevel=2)
    selection.fits[0].warn()


def _variance_model(k, equal):
    """``equal`` or ``unequal`` variances; ``-`` for one component, where the two coincide
    (mclust's model ``X``)."""
    return "-" if k == 1 else ("equal" if equal else "unequal")
