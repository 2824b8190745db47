"""The data's checks, and their packing into a :class:`~fastem.engine.layout.Batch`.

Every message names the bad dataset by its index in the whole batch and says how to fix
it; all checks run before any fitting work starts. The starting values given by the user
are checked here too, against the batch's shape.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from .engine import layout as _layout
from .engine import rng as _rng
from .engine.layout import Batch, pack_ragged, pack_rows

_MAX_LISTED = 5


def listed(indices, first: int = 0) -> str:
    """Dataset indices for a message, counted from ``first`` (a chunk's global index)."""
    indices = [first + int(i) for i in indices]
    shown = ", ".join(str(i) for i in indices[:_MAX_LISTED])
    if len(indices) > _MAX_LISTED:
        shown += f", ... ({len(indices)} in all)"
    return shown


def _numeric_float64(array, what: str) -> np.ndarray:
    """``array`` as float64, or a TypeError for data that are not real numbers."""
    if array is None:
        raise TypeError(
            f"{what} is None; pass a 1D array (one dataset), a 2D array (one dataset per "
            "row) or a list of 1D arrays."
        )
    if isinstance(array, np.ma.MaskedArray):
        raise TypeError(
            f"{what} is a masked array, whose mask fastem cannot honour. Pass "
            "x.compressed() for one dataset, or a list of row.compressed() for a batch."
        )
    try:
        array = np.asarray(array)
    except ValueError as err:  # ragged nesting deeper than one level
        raise ValueError(f"{what} could not be read as an array of numbers: {err}") from None
    kind = array.dtype.kind
    if kind == "b":
        raise TypeError(
            f"{what} is boolean; fastem fits real-valued data. "
            "If you mean 0/1 values, convert with .astype(float)."
        )
    if kind == "c":
        raise TypeError(f"{what} is complex; fastem fits real-valued data. Pass the real part.")
    if kind == "O":
        try:
            return array.astype(np.float64)
        except (TypeError, ValueError):
            raise TypeError(
                f"{what} holds values that are not numbers (dtype object). Remove or convert "
                "them, e.g. with np.asarray(data, dtype=float)."
            ) from None
    if kind not in "iuf":
        raise TypeError(
            f"{what} has dtype {array.dtype}, which is not numeric. Convert it with "
            ".astype(float) after removing the non-numeric entries."
        )
    return array.astype(np.float64, copy=False)


def as_batch(data, first: int = 0) -> Batch:
    """Validate the shape and type of ``data`` and pack it.

    ``data`` is a 1D array (one dataset), a 2D array (one dataset per row) or a
    sequence of 1D arrays (datasets of different lengths), also as a 1D object array.
    Messages number the datasets from ``first``.
    """
    if is_dataset_list(data):
        datasets = []
        for d, item in enumerate(data):
            x = _numeric_float64(item, f"dataset {first + d}")
            if x.ndim != 1:
                raise ValueError(
                    f"dataset {first + d} has {x.ndim} dimensions; in a list of datasets each "
                    "one must be a 1D array of numbers."
                )
            datasets.append(x)
        batch = pack_ragged(datasets)
        _check_not_empty(batch, first)
        return batch
    array = _numeric_float64(data, "data")
    if array.ndim == 0:
        raise ValueError(
            "data is a single number; pass a 1D array (one dataset), a 2D array "
            "(one dataset per row) or a list of 1D arrays."
        )
    if array.ndim > 2:
        raise ValueError(
            f"data has {array.ndim} dimensions (shape {array.shape}); pass a 1D array "
            "(one dataset), a 2D array (one dataset per row) or a list of 1D arrays. "
            "To fit each slice separately, reshape to 2D first."
        )
    if array.ndim == 1:
        batch = pack_rows(array.reshape(1, -1), single=True)
    else:
        if array.shape[0] == 0:
            raise ValueError("data has no datasets (a 2D array with 0 rows).")
        if array.shape[1] == 1 and array.shape[0] > 1:
            raise ValueError(
                f"data has shape {array.shape}: {array.shape[0]} datasets of one point each. "
                "For one dataset in a column, pass x.ravel()."
            )
        batch = pack_rows(array)
    _check_not_empty(batch, first)
    return batch


def prepared_batch(data, sample_weight, n_components, first=0, sample_weight_type="frequency"):
    """Validated, packed data with its standardisation (``batch.center``, ``batch.scale``).

    ``first`` is the global index of the first dataset (``fit``'s ``dataset_offset``), so
    that a chunk of a larger batch names its bad datasets as the whole batch would.
    Probability weights are rescaled to sum to the number of points with a positive weight.
    """
    batch = as_batch(data, first)
    if sample_weight is not None:
        batch = batch.with_weights(check_sample_weight(sample_weight, data, batch, first))
        check_finite(batch, first)  # before zero-weight points leave the batch
        batch = batch.without_zero_weights()
    check_n_samples(batch, n_components, first)  # before the sums of an emptied dataset
    check_weight_range(batch, first)
    if sample_weight_type == "probability" and batch.sample_weight is not None:
        batch = batch.with_weights(
            batch.sample_weight
            * np.repeat(batch.n_weighted_points / batch.n_observations, np.diff(batch.offsets))
        )
    center, variance = _layout.moments(batch)
    check_data_values(batch, center, variance, first)
    scale = _layout.scale_from_moments(center, variance)
    check_scale(scale, first)
    keys = _rng.content_keys(batch.values, batch.offsets, center, scale, batch.sample_weight)
    return dataclasses.replace(batch, center=center, scale=scale, keys=keys)


def check_sample_weight(sample_weight, data, batch: Batch, first: int = 0) -> np.ndarray:
    """Weights in the layout of ``batch.values``: same shapes as the data, finite, >= 0."""
    if batch.single or not is_dataset_list(data):
        weights = _numeric_float64(sample_weight, "sample_weight")
        expected = (
            (int(batch.n_samples[0]),)
            if batch.single
            else (batch.n_datasets, int(batch.n_samples[0]))
        )
        if weights.shape != expected:
            raise ValueError(
                f"sample_weight has shape {weights.shape}; it needs one weight per point, in "
                f"the shape of the data {expected}."
            )
        weights = np.require(weights, np.float64, ["C_CONTIGUOUS", "WRITEABLE"]).reshape(-1)
    else:
        if not is_dataset_list(sample_weight) or len(sample_weight) != batch.n_datasets:
            raise ValueError(
                f"sample_weight must be a list of {batch.n_datasets} 1D arrays, one per "
                "dataset, like the data."
            )
        parts = []
        for d, item in enumerate(sample_weight):
            part = _numeric_float64(item, f"sample_weight of dataset {first + d}")
            if part.shape != (batch.n_samples[d],):
                raise ValueError(
                    f"sample_weight of dataset {first + d} has shape {part.shape}; the dataset has "
                    f"{batch.n_samples[d]} points."
                )
            parts.append(part)
        weights = np.concatenate(parts)
    if not np.isfinite(weights).all():
        raise ValueError("sample_weight contains NaN or infinite values.")
    if (weights < 0).any():
        raise ValueError("sample_weight has negative entries; weights must be >= 0.")
    return weights


def check_weight_range(batch: Batch, first: int = 0) -> None:
    """Raise when a dataset's positive weights are subnormal, or sum beyond float64.

    A subnormal weight (below 2.2e-308) has lost digits of precision, and the sums of
    the M-step made of such weights round so coarsely that EM never meets its tolerance;
    weights summing to infinity leave no finite mean. Both are the weights' scale, not the
    data's, and both are fixed by multiplying the weights by one constant.
    """
    weights = batch.sample_weight
    if weights is None or weights.size == 0:
        return
    starts = batch.offsets[:-1]
    with np.errstate(over="ignore"):
        total = np.add.reduceat(weights, starts)
    huge = np.flatnonzero(~np.isfinite(total))
    if huge.size:
        raise ValueError(
            f"the sample weights of dataset(s) {listed(huge, first)} are so large that their "
            "sum overflows float64. Divide the weights by a constant (the fitted mixture "
            "depends only on their ratios)."
        )
    tiny = np.finfo(np.float64).tiny
    smallest = np.minimum.reduceat(np.where(weights > 0, weights, np.inf), starts)
    low = np.flatnonzero(smallest < tiny)
    if low.size:
        raise ValueError(
            f"the sample weights of dataset(s) {listed(low, first)} include subnormal "
            f"values (dataset {first + low[0]}: {smallest[low[0]]:.3g}, below {tiny:.3g}), "
            "too small for float64 to compute with. Multiply the weights by a constant (the "
            "fitted mixture depends only on their ratios)."
        )


def few_counts(batch: Batch, first: int = 0) -> str | None:
    """A warning's text when frequency weights sum to less than half the number of points
    they weight (probability weights, most likely), else None."""
    if batch.sample_weight is None:
        return None
    low = np.flatnonzero(batch.n_observations < 0.5 * batch.n_weighted_points)
    if low.size == 0:
        return None
    d = low[0]
    return (
        f"the sample weights of dataset(s) {listed(low, first)} sum to far less than their "
        f"number of points (dataset {first + d}: {batch.n_observations[d]:.6g} over "
        f"{batch.n_weighted_points[d]} points). Frequency weights are counts, and BIC's n is "
        "their sum; if these are probability (sampling) weights, pass "
        "sample_weight_type='probability', which makes n the number of points."
    )


def is_dataset_list(data) -> bool:
    """A list (or tuple, or 1D object array) of arrays: one dataset each."""
    listed = isinstance(data, Sequence) and not isinstance(data, (str, bytes))
    objects = isinstance(data, np.ndarray) and data.dtype == object and data.ndim == 1
    return (listed or objects) and len(data) > 0 and any(np.ndim(item) >= 1 for item in data)


def _check_not_empty(batch: Batch, first: int = 0) -> None:
    empty = np.flatnonzero(batch.n_samples == 0)
    if empty.size:
        raise ValueError(
            f"dataset(s) {listed(empty, first)} are empty; every dataset needs at least "
            "n_components points. Drop the empty datasets before fitting."
        )


def check_finite(batch: Batch, first: int = 0) -> None:
    """Raise when a dataset holds NaN or infinite values, whatever their weights."""
    finite = np.isfinite(batch.values)
    if finite.all():
        return
    bad = np.unique(np.searchsorted(batch.offsets, np.flatnonzero(~finite), side="right") - 1)
    raise ValueError(
        f"dataset(s) {listed(bad, first)} contain NaN or infinite values. Remove them "
        "first, e.g. x[np.isfinite(x)] for each dataset."
    )


def check_data_values(
    batch: Batch, center: np.ndarray, variance: np.ndarray, first: int = 0
) -> None:
    """Raise when a dataset holds NaN or infinite values (its moments are then non-finite)."""
    bad = np.flatnonzero(~(np.isfinite(center) & np.isfinite(variance)))
    if bad.size == 0:
        return
    holding_nan = [d for d in bad if not np.isfinite(batch.dataset(int(d))).all()]
    if holding_nan:
        raise ValueError(
            f"dataset(s) {listed(holding_nan, first)} contain NaN or infinite values. Remove them "
            "first, e.g. x[np.isfinite(x)] for each dataset."
        )
    if batch.sample_weight is not None:
        plain_center, plain_variance = _layout.moments(batch.with_weights(None))
        by_weights = [d for d in bad if np.isfinite(plain_center[d] + plain_variance[d])]
        if by_weights:  # the values alone have finite sums: their weights overflow them
            raise ValueError(
                f"the sample weights of dataset(s) {listed(by_weights, first)} are so large "
                "that the weighted sums of the values overflow float64. Divide the weights by "
                "a constant (the fitted mixture depends only on their ratios)."
            )
    raise ValueError(
        f"dataset(s) {listed(bad, first)} have values so large that their sum overflows "
        "float64. Rescale the data (fits are invariant to scale)."
    )


# Variances scale as the square of the data: outside this range they (or their
# inverses) over- or underflow float64.
SCALE_RANGE = (1e-150, 1e150)


def check_scale(scale: np.ndarray, first: int = 0) -> None:
    low, high = SCALE_RANGE
    bad = np.flatnonzero((scale < low) | (scale > high))
    if bad.size:
        raise ValueError(
            f"dataset(s) {listed(bad, first)} have a scale of {scale[bad[0]]:.3g}, outside "
            f"[{low:g}, {high:g}] where float64 can hold their variances. Multiply the data "
            "by a constant first (fits are invariant to scale)."
        )


def check_n_samples(batch: Batch, n_components: int, first: int = 0) -> None:
    counts = batch.n_weighted_points
    short = np.flatnonzero(counts < n_components)
    if short.size:
        what = "points" if batch.sample_weight is None else "points with a positive weight"
        raise ValueError(
            f"dataset(s) {listed(short, first)} have fewer {what} than n_components="
            f"{n_components} (smallest: {counts[short].min()}). Use fewer components or "
            "drop those datasets."
        )


def _starting_array(name, value, n_datasets, n_init, n_components, single):
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be an array of numbers.") from None
    shapes = [(n_components,), (n_datasets, n_components), (n_datasets, n_init, n_components)]
    if single:
        shapes.append((n_init, n_components))
    if array.shape not in shapes:
        wanted = " or ".join(str(s) for s in dict.fromkeys(shapes))
        raise ValueError(
            f"{name} has shape {array.shape}; with {n_datasets} dataset(s), n_init={n_init} "
            f"and n_components={n_components} it must have shape {wanted}."
        )
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinite values.")
    if single and array.shape == (n_init, n_components) and n_init != 1:
        array = array[np.newaxis]
    if array.ndim == 1:
        array = array[np.newaxis, np.newaxis, :]
    elif array.ndim == 2:
        array = array[:, np.newaxis, :]
    shape = (n_datasets, n_init, n_components)
    if array.shape == shape:  # what np.broadcast_to gives, without its cost in Python
        array = array.view()
        array.flags.writeable = False
        return array
    return np.broadcast_to(array, shape)


class Given(NamedTuple):
    """Starting values given by the user, each of shape (n_datasets, n_init, K) in the
    data's units, or None when not given."""

    weights: np.ndarray | None
    means: np.ndarray | None
    variances: np.ndarray | None


NOTHING_GIVEN = Given(None, None, None)


def check_starting_values(
    weights_init,
    means_init,
    variances_init,
    *,
    n_datasets,
    n_init,
    n_components,
    single,
    equal_variance,
):
    """Broadcast the given starting values to (n_datasets, n_init, n_components).

    Returns :class:`Given`: three arrays, with ``None`` for each one not given. They are the
    user's values, unchanged: weights that sum to 1 within 1e-6 are normalised only in
    the kernels' working copy.
    """
    shape = dict(n_datasets=n_datasets, n_init=n_init, n_components=n_components, single=single)
    weights = means = variances = None
    if weights_init is not None:
        weights = _starting_array("weights_init", weights_init, **shape)
        if (weights < 0).any():
            raise ValueError(
                "weights_init has negative entries; weights must be >= 0 and sum to 1."
            )
        sums = weights.sum(axis=-1)
        # float32 weights such as [0.4, 0.6] sum to 1 only to about 3e-8.
        if not (np.abs(sums - 1.0) <= 1e-6).all():  # np.allclose's test, without its cost
            worst = sums.flat[np.argmax(np.abs(sums - 1.0))]
            raise ValueError(
                f"weights_init must sum to 1 over the components (one sum is {worst:.17g}); "
                "divide by the sum to normalise."
            )
        if (weights == 0).any():
            raise ValueError(
                "weights_init has a zero weight; a component with weight 0 never comes "
                "back. Give every component a positive weight or use fewer components."
            )
    if means_init is not None:
        means = _starting_array("means_init", means_init, **shape)
    if variances_init is not None:
        variances = _starting_array("variances_init", variances_init, **shape)
        if (variances <= 0).any():
            raise ValueError("variances_init has entries <= 0; variances must be positive.")
        if equal_variance and not (variances == variances[..., :1]).all():
            raise ValueError(
                "equal_variance=True but variances_init differ between components; give one "
                "common variance per fit, or set equal_variance=False."
            )
    return Given(weights, means, variances)
