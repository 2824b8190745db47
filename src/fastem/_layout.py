"""The ragged layout, and the per-dataset standardisation.

All datasets live in one contiguous float64 array ``values``; dataset ``d`` is
``values[offsets[d]:offsets[d + 1]]``. Kernels work on standardised data
``z = (x - center[d]) / scale[d]``, computed on the fly from ``values`` so that no
standardised copy of the input is ever made. Results are mapped back to the data's units
by :func:`to_data_units`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import prange

from ._jit import jit


@dataclass(frozen=True)
class Batch:
    """Datasets packed in the ragged layout.

    Attributes
    ----------
    values : ndarray of shape (n_points,), float64, C-contiguous
        All datasets, one after the other.
    offsets : ndarray of shape (n_datasets + 1,), int64
        Dataset ``d`` is ``values[offsets[d]:offsets[d + 1]]``.
    single : bool
        True when the input was one 1D dataset; results then drop the dataset axis.
    """

    values: np.ndarray
    offsets: np.ndarray
    single: bool = False

    @property
    def n_datasets(self) -> int:
        return self.offsets.size - 1

    @property
    def n_samples(self) -> np.ndarray:
        """Points per dataset, array of shape (n_datasets,)."""
        return np.diff(self.offsets)

    def dataset(self, d: int) -> np.ndarray:
        return self.values[self.offsets[d] : self.offsets[d + 1]]


def pack_rows(rows: np.ndarray, single: bool = False) -> Batch:
    """Pack a float64 array of shape (n_datasets, n_samples); no copy if it is contiguous."""
    n_datasets, n_samples = rows.shape
    offsets = np.arange(n_datasets + 1, dtype=np.int64) * n_samples
    return Batch(np.ascontiguousarray(rows).reshape(-1), offsets, single)


def pack_ragged(datasets: list[np.ndarray]) -> Batch:
    """Pack a list of 1D float64 arrays of any lengths."""
    lengths = np.array([x.size for x in datasets], dtype=np.int64)
    offsets = np.zeros(lengths.size + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return Batch(np.concatenate(datasets), offsets, False)


@jit(parallel=True)
def _moments(values, offsets, center, variance):
    # Two passes per dataset (mean, then squared deviations from it): a one-pass
    # E[x^2] - E[x]^2 loses every digit when the data sit far from zero.
    # A constant dataset is recognised exactly (min == max), not by a variance that
    # rounding leaves at 1e-34 instead of 0.
    for d in prange(offsets.size - 1):
        start, stop = offsets[d], offsets[d + 1]
        total = 0.0
        low = values[start]
        high = values[start]
        for i in range(start, stop):
            total += values[i]
            low = min(low, values[i])
            high = max(high, values[i])
        if low == high:
            center[d] = low
            variance[d] = 0.0
            continue
        mean = total / (stop - start)
        ss = 0.0
        for i in range(start, stop):
            dev = values[i] - mean
            ss += dev * dev
        center[d] = mean
        variance[d] = ss / (stop - start)


def moments(batch: Batch) -> tuple[np.ndarray, np.ndarray]:
    """Mean and (population) variance of each dataset, arrays of shape (n_datasets,).

    A dataset holding NaN or infinite values, or values so large that their sum
    overflows, gets a non-finite mean or variance.
    """
    center = np.empty(batch.n_datasets)
    variance = np.empty(batch.n_datasets)
    _moments(batch.values, batch.offsets, center, variance)
    return center, variance


def scale_from_moments(center: np.ndarray, variance: np.ndarray) -> np.ndarray:
    """Standardisation scale: the standard deviation, or for a constant dataset ``|value|``.

    A constant dataset has no spread to measure its scale by; its magnitude keeps the
    fit invariant to rescaling the data (and 1 serves for a dataset of zeros).
    """
    scale = np.sqrt(variance)
    constant = scale == 0.0
    scale[constant] = np.abs(center[constant])
    scale[scale == 0.0] = 1.0
    return scale


def to_standard_units(center, scale, means, variances):
    """Map means and variances of shape (n_datasets, ..., K) into standardised units."""
    c = center.reshape((-1,) + (1,) * (means.ndim - 1))
    s = scale.reshape(c.shape)
    return (means - c) / s, variances / s**2


def to_data_units(center, scale, means, variances):
    """Inverse of :func:`to_standard_units`."""
    c = center.reshape((-1,) + (1,) * (means.ndim - 1))
    s = scale.reshape(c.shape)
    return c + s * means, variances * s**2


def log_likelihood_to_data_units(log_likelihood, scale, n_samples):
    """Shift standardised log-likelihoods of shape (n_datasets, ...) to the data's units.

    The density of ``x`` is the density of ``z = (x - c) / s`` divided by ``s``.
    """
    shift = n_samples * np.log(scale)
    return log_likelihood - shift.reshape((-1,) + (1,) * (log_likelihood.ndim - 1))

