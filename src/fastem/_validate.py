"""Input checks. Every message names the bad value and says how to fix it.

All checks run before any fitting work starts.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np

from ._layout import Batch, pack_ragged, pack_rows

_MAX_LISTED = 5


def _listed(indices) -> str:
    indices = [int(i) for i in indices]
    shown = ", ".join(str(i) for i in indices[:_MAX_LISTED])
    if len(indices) > _MAX_LISTED:
        shown += f", ... ({len(indices)} in all)"
    return shown


def _numeric_float64(array, what: str) -> np.ndarray:
    """``array`` as float64, or a TypeError for data that are not real numbers."""
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


def as_batch(data) -> Batch:
    """Validate the shape and type of ``data`` and pack it.

    ``data`` is a 1D array (one dataset), a 2D array (one dataset per row) or a
    sequence of 1D arrays (datasets of different lengths).
    """
    if isinstance(data, Sequence) and not isinstance(data, (str, bytes)) and len(data) > 0:
        if any(np.ndim(item) >= 1 for item in data):
            datasets = []
            for d, item in enumerate(data):
                x = _numeric_float64(item, f"dataset {d}")
                if x.ndim != 1:
                    raise ValueError(
                        f"dataset {d} has {x.ndim} dimensions; in a list of datasets each "
                        "one must be a 1D array of numbers."
                    )
                datasets.append(x)
            batch = pack_ragged(datasets)
            _check_not_empty(batch)
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
        batch = pack_rows(array)
    _check_not_empty(batch)
    return batch


def _check_not_empty(batch: Batch) -> None:
    empty = np.flatnonzero(batch.n_samples == 0)
    if empty.size:
        raise ValueError(
            f"dataset(s) {_listed(empty)} are empty; every dataset needs at least "
            "n_components points. Drop the empty datasets before fitting."
        )


def check_data_values(batch: Batch, center: np.ndarray, variance: np.ndarray) -> None:
    """Raise when a dataset holds NaN or infinite values (its moments are then non-finite)."""
    bad = np.flatnonzero(~(np.isfinite(center) & np.isfinite(variance)))
    if bad.size == 0:
        return
    holding_nan = [d for d in bad if not np.isfinite(batch.dataset(d)).all()]
    if holding_nan:
        raise ValueError(
            f"dataset(s) {_listed(holding_nan)} contain NaN or infinite values. Remove them "
            "first, e.g. x[np.isfinite(x)] for each dataset."
        )
    raise ValueError(
        f"dataset(s) {_listed(bad)} have values so large that their sum overflows "
        "float64. Rescale the data (fits are invariant to scale)."
    )


# Variances scale as the square of the data: outside this range they (or their
# inverses) over- or underflow float64.
SCALE_RANGE = (1e-150, 1e150)


def check_scale(scale: np.ndarray) -> None:
    low, high = SCALE_RANGE
    bad = np.flatnonzero((scale < low) | (scale > high))
    if bad.size:
        raise ValueError(
            f"dataset(s) {_listed(bad)} have a scale of {scale[bad[0]]:.3g}, outside "
            f"[{low:g}, {high:g}] where float64 can hold their variances. Multiply the data "
            "by a constant first (fits are invariant to scale)."
        )


def check_n_samples(batch: Batch, n_components: int) -> None:
    short = np.flatnonzero(batch.n_samples < n_components)
    if short.size:
        raise ValueError(
            f"dataset(s) {_listed(short)} have fewer points than n_components="
            f"{n_components} (smallest: {batch.n_samples[short].min()}). Use fewer "
            "components or drop those datasets."
        )


def check_int(name: str, value, minimum: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r} of type {type(value).__name__}.")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}.")
    return int(value)


def check_non_negative(name: str, value) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r} of type {type(value).__name__}.")
    value = float(value)
    if not (value >= 0.0 and np.isfinite(value)):
        raise ValueError(f"{name} must be a finite number >= 0, got {value}.")
    return value


def check_choice(name: str, value, choices) -> str:
    if value not in choices:
        options = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name}={value!r} is not one of {options}.")
    return value


def check_random_state(random_state) -> int:
    """A seed in [0, 2**63) from ``None`` (fresh entropy), an int or a numpy ``Generator``.

    Larger ints are reduced modulo 2**63 (numba passes integers as int64).
    """
    if random_state is None:
        return int(np.random.SeedSequence().entropy) % 2**63
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**63))
    if isinstance(random_state, (bool, np.bool_)) or not isinstance(random_state, numbers.Integral):
        raise TypeError(
            f"random_state must be None, an int or a numpy Generator, got {random_state!r}."
        )
    if random_state < 0:
        raise ValueError(f"random_state must be >= 0, got {random_state}.")
    return int(random_state) % 2**63


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
    return np.broadcast_to(array, (n_datasets, n_init, n_components))


def check_starting_values(
    weights_init, means_init, variances_init, *, n_datasets, n_init, n_components, single,
    equal_variance,
):
    """Broadcast the given starting values to (n_datasets, n_init, n_components).

    Returns a tuple of three arrays, with ``None`` for each one not given.
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
        if not np.allclose(sums, 1.0, rtol=0.0, atol=1e-8):
            worst = sums.flat[np.argmax(np.abs(sums - 1.0))]
            raise ValueError(
                f"weights_init must sum to 1 over the components (one sum is {worst!r}); "
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
    return weights, means, variances
