"""Batched sampling from 1D Gaussian mixtures."""

from __future__ import annotations

import numpy as np

from .. import checks as _validate
from ..engine.sample import sample


def _parameters(weights, means, variances, n_datasets):
    arrays = []
    for name, value in (("weights", weights), ("means", means), ("variances", variances)):
        array = np.asarray(value, dtype=np.float64)
        if array.ndim == 1:
            array = array[np.newaxis]
        if array.ndim != 2 or array.shape[0] not in (1, n_datasets):
            raise ValueError(
                f"{name} must have shape (n_components,) or (n_datasets, n_components) = "
                f"({n_datasets}, K); got {np.shape(value)}."
            )
        if not np.isfinite(array).all():
            raise ValueError(f"{name} contains NaN or infinite values.")
        arrays.append(array)
    weights, means, variances = arrays
    if not weights.shape[1] == means.shape[1] == variances.shape[1]:
        raise ValueError(
            "weights, means and variances must have the same number of components; got "
            f"{weights.shape[1]}, {means.shape[1]} and {variances.shape[1]}."
        )
    if (weights < 0).any() or not np.allclose(weights.sum(axis=1), 1.0, rtol=0, atol=1e-8):
        raise ValueError("weights must be >= 0 and sum to 1 over the components.")
    if (variances <= 0).any():
        raise ValueError("variances must be positive.")
    shape = (n_datasets, weights.shape[1])
    # Copies, writable whatever the input: numba compiles a kernel again for a read-only
    # array (a broadcast view is one).
    return (np.array(np.broadcast_to(a, shape), order="C") for a in arrays)


def simulate(
    weights, means, variances, n_samples, n_datasets=None, random_state=None, dataset_offset=0
):
    """Draw datasets from 1D Gaussian mixtures.

    Parameters
    ----------
    weights, means, variances : array of shape (K,) or (n_datasets, K)
        One mixture for all datasets, or one per dataset.
    n_samples : int or array of ints of shape (n_datasets,)
        Points per dataset; different sizes give a ragged list of datasets.
    n_datasets : int, optional
        Number of datasets; without it, one dataset is drawn and returned as a 1D array.
    random_state : None, int or numpy.random.Generator
        Dataset ``d`` draws from a stream keyed by ``(random_state, d)``, so the first
        ``m`` datasets do not depend on how many are drawn.
    dataset_offset : int, default 0
        Global index of the first dataset: datasets ``a:b`` of a large simulation are
        drawn alone with ``n_datasets=b - a, dataset_offset=a``.

    Returns
    -------
    data : array of shape (n_samples,), (n_datasets, n_samples), or list of 1D arrays
        The points: one dataset without ``n_datasets``, one per row, or a ragged list.
    labels : int64 array(s) of the same shape
        The component each point came from.

    Examples
    --------
    >>> data, labels = fastem.simulate([0.3, 0.7], [0.0, 5.0], [1.0, 1.0], 8, random_state=0)
    >>> data.shape, labels
    ((8,), array([1, 1, 1, 0, 1, 0, 0, 1]))
    >>> data, labels = fastem.simulate([0.5, 0.5], [-2.0, 2.0], [1.0, 1.0], 200,
    ...                                n_datasets=1000, random_state=1)
    >>> data.shape
    (1000, 200)

    Different sizes give a list of datasets:

    >>> data, labels = fastem.simulate([0.5, 0.5], [0.0, 4.0], [1.0, 1.0], [3, 5],
    ...                                n_datasets=2, random_state=0)
    >>> [dataset.shape for dataset in data]
    [(3,), (5,)]
    """
    single = n_datasets is None
    n_datasets = (
        1 if single else _validate.check_int("n_datasets", n_datasets, 1, _validate.MAX_INDEX)
    )
    seed = _validate.check_random_state(random_state)
    first_dataset = _validate.check_int("dataset_offset", dataset_offset, 0, _validate.MAX_INDEX)
    sizes = np.asarray(n_samples)
    if sizes.ndim == 0:
        size = _validate.check_int("n_samples", n_samples, 1)
        n_points = float(size) * n_datasets
    elif sizes.shape != (n_datasets,) or sizes.dtype.kind not in "iu" or (sizes < 1).any():
        raise ValueError(
            f"n_samples must be a positive int or an int array of shape ({n_datasets},)."
        )
    else:
        n_points = sizes.sum(dtype=np.float64)
    # Values and labels, 16 bytes a point, and the mixtures, 24 bytes a component of each
    # dataset's (the mixture given once or per dataset: its last axis is the components).
    n_components = np.shape(means)[-1] if np.ndim(means) else 1
    _validate.check_memory(
        16.0 * n_points + 24.0 * n_datasets * n_components,
        f"n_samples={n_samples!r} for {n_datasets} dataset(s)",
        "Draw fewer points, or draw the datasets in chunks with dataset_offset.",
    )
    if sizes.ndim == 0:
        sizes = np.full(n_datasets, size)
    weights, means, variances = _parameters(weights, means, variances, n_datasets)
    offsets = np.zeros(n_datasets + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    values, labels = sample(offsets, weights, means, variances, seed, first_dataset)
    if single:
        return values, labels
    if (sizes == sizes[0]).all():
        return values.reshape(n_datasets, -1), labels.reshape(n_datasets, -1)
    return np.split(values, offsets[1:-1]), np.split(labels, offsets[1:-1])
