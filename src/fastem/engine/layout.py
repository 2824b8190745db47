"""The ragged layout, and the per-dataset standardisation.

All datasets live in one contiguous float64 array ``values``; dataset ``d`` is
``values[offsets[d]:offsets[d + 1]]``. Kernels work on standardised data
``z = (x - center[d]) / scale[d]``, computed on the fly from ``values`` so that no
standardised copy of the input is ever made. Results are mapped back to the data's units
by :func:`means_to_data`, :func:`variances_to_data` and
:func:`log_likelihood_to_data_units`.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from . import vmath as _vmath
from .jit import jit


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
    sample_weight : ndarray of shape (n_points,), float64, or None
        A non-negative weight per point, in the layout of ``values``.
    center, scale : ndarray of shape (n_datasets,), or None
        The standardisation ``z = (x - center) / scale`` of each dataset, once computed
        (``_validate.prepared_batch``): the kernels read standardised points, and
        parameters go back to the data's units with it.
    keys : ndarray of shape (n_datasets,), uint64, or None
        A key of each dataset's content (:func:`fastem.engine.rng.content_keys`), once computed
        with the standardisation: random starts are keyed by it, so that the same data
        get the same starts wherever they stand.
    """

    values: np.ndarray
    offsets: np.ndarray
    single: bool = False
    sample_weight: np.ndarray | None = None
    input_n_samples: np.ndarray | None = None
    center: np.ndarray | None = None
    scale: np.ndarray | None = None
    keys: np.ndarray | None = None

    @property
    def n_datasets(self) -> int:
        return self.offsets.size - 1

    # The counts are kept once computed (a fit reads them several times), read-only so
    # that no caller can change them for the others.
    @functools.cached_property
    def n_samples(self) -> np.ndarray:
        """Points per dataset, array of shape (n_datasets,)."""
        return _read_only(np.diff(self.offsets))

    @property
    def n_samples_given(self) -> np.ndarray:
        """Points per dataset as given, zero-weight points included."""
        return self.n_samples if self.input_n_samples is None else self.input_n_samples

    def dataset(self, d: int) -> np.ndarray:
        return self.values[self.offsets[d] : self.offsets[d + 1]]

    @property
    def kernel_weights(self) -> np.ndarray:
        """``sample_weight`` for the kernels: an empty array stands for unit weights."""
        return np.empty(0) if self.sample_weight is None else self.sample_weight

    @functools.cached_property
    def n_observations(self) -> np.ndarray:
        """Points per dataset, or the sum of their weights, array of shape (n_datasets,)."""
        if self.sample_weight is None:
            return _read_only(self.n_samples.astype(np.float64))
        return _read_only(_segment_sums(self.sample_weight, self.offsets))

    @property
    def n_weighted_points(self) -> np.ndarray:
        """Points with a positive weight, per dataset."""
        if self.sample_weight is None:
            return self.n_samples
        return _segment_sums((self.sample_weight > 0).astype(np.int64), self.offsets)

    def with_weights(self, sample_weight: np.ndarray | None) -> Batch:
        """The same points (and counts as given) with other weights."""
        return Batch(self.values, self.offsets, self.single, sample_weight, self.input_n_samples)

    def take(self, rows: np.ndarray) -> Batch:
        """The datasets ``rows`` (ascending indices) of a prepared batch, with their
        standardisation and keys."""
        lengths = self.n_samples[rows]
        offsets = np.zeros(rows.size + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        points = np.arange(offsets[-1]) + np.repeat(self.offsets[rows] - offsets[:-1], lengths)
        weights = None if self.sample_weight is None else self.sample_weight[points]
        given = None if self.input_n_samples is None else self.input_n_samples[rows]
        assert self.center is not None and self.scale is not None and self.keys is not None
        return Batch(
            self.values[points],
            offsets,
            False,
            weights,
            given,
            self.center[rows],
            self.scale[rows],
            self.keys[rows],
        )

    def without_zero_weights(self) -> Batch:
        """The batch without its zero-weight points: the fit of a point of weight 0 is
        exactly the fit without it, and its value (1e300, say) takes no part in any sum,
        where ``0 * inf`` would be NaN."""
        if self.sample_weight is None or (self.sample_weight > 0).all():
            return self
        keep = self.sample_weight > 0
        offsets = np.zeros_like(self.offsets)
        np.cumsum(_segment_sums(keep.astype(np.int64), self.offsets), out=offsets[1:])
        return Batch(
            self.values[keep], offsets, self.single, self.sample_weight[keep], self.n_samples
        )


def _read_only(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


def _segment_sums(values: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Sum of each dataset's entries, 0 for an empty dataset (``np.add.reduceat`` is
    wrong there)."""
    sums = np.zeros(offsets.size - 1, dtype=values.dtype)
    np.add.at(sums, np.repeat(np.arange(offsets.size - 1), np.diff(offsets)), values)
    return sums


def pack_rows(rows: np.ndarray, single: bool = False) -> Batch:
    """Pack a float64 array of shape (n_datasets, n_samples); no copy if it is contiguous."""
    n_datasets, n_samples = rows.shape
    offsets = np.arange(n_datasets + 1, dtype=np.int64) * n_samples
    # A read-only array (a memory map, say) is copied: numba would compile the kernels
    # again for read-only arrays, which costs more than the copy.
    values = np.require(rows, np.float64, ["C_CONTIGUOUS", "WRITEABLE"]).reshape(-1)
    return Batch(values, offsets, single)


def pack_ragged(datasets: list[np.ndarray]) -> Batch:
    """Pack a list of 1D float64 arrays of any lengths."""
    lengths = np.array([x.size for x in datasets], dtype=np.int64)
    offsets = np.zeros(lengths.size + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return Batch(np.concatenate(datasets), offsets, False)


@jit(inline=True)
def fit_data(f, n_fits, values, offsets, sample_weight, center, scale):
    """For kernels of one fit: fit ``f`` of ``n_fits`` is dataset ``f // n_init``; its
    points (a view), their weights (or the empty array for unit weights), its centre and
    inverse scale."""
    d = f // (n_fits // (offsets.size - 1))
    start, stop = offsets[d], offsets[d + 1]
    point_weight = sample_weight[start:stop] if sample_weight.size > 0 else sample_weight
    return values[start:stop], point_weight, center[d], 1.0 / scale[d]


@jit
def _moments(values, offsets, sample_weight, center, variance):
    # Serial: two passes over the data cost a small fraction of a fit's iterations, and
    # numba compiles a parallel loop more slowly than a serial one, which the first fit
    # waits for.
    # Two passes per dataset (mean, then squared deviations from it): a one-pass
    # E[x^2] - E[x]^2 loses every digit when the data sit far from zero.
    # A constant dataset is recognised exactly (min == max over the points that carry
    # weight), not by a variance that rounding leaves at 1e-34 instead of 0.
    weighted = sample_weight.size > 0
    for d in range(offsets.size - 1):
        start, stop = offsets[d], offsets[d + 1]
        total = 0.0
        mass = 0.0
        low = math.inf
        high = -math.inf
        for i in range(start, stop):
            w = sample_weight[i] if weighted else 1.0
            if w > 0.0:
                total += w * values[i]
                mass += w
                low = min(low, values[i])
                high = max(high, values[i])
        if low == high:
            center[d] = low
            variance[d] = 0.0
            continue
        mean = total / mass
        ss = 0.0
        for i in range(start, stop):
            w = sample_weight[i] if weighted else 1.0
            dev = values[i] - mean
            ss += w * dev * dev
        center[d] = mean
        variance[d] = ss / mass


def moments(batch: Batch) -> tuple[np.ndarray, np.ndarray]:
    """Mean and (population) variance of each dataset, arrays of shape (n_datasets,).

    With sample weights, the weighted mean and variance: integer weights give the
    moments of the data with points repeated.

    A dataset holding NaN or infinite values, or values so large that their sum
    overflows, gets a non-finite mean or variance.
    """
    center = np.empty(batch.n_datasets)
    variance = np.empty(batch.n_datasets)
    _moments(batch.values, batch.offsets, batch.kernel_weights, center, variance)
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


def _per_dataset(values, like):
    """``values`` of shape (n_datasets,) reshaped to broadcast against ``like``."""
    return values.reshape((-1,) + (1,) * (like.ndim - 1))


def means_to_standard(center, scale, means):
    """Means of shape (n_datasets, ...) in standardised units."""
    return (means - _per_dataset(center, means)) / _per_dataset(scale, means)


def variances_to_standard(scale, variances):
    return variances / _per_dataset(scale, variances) ** 2


def means_to_data(center, scale, means):
    """Inverse of :func:`means_to_standard`."""
    return _per_dataset(center, means) + _per_dataset(scale, means) * means


def variances_to_data(scale, variances):
    return variances * _per_dataset(scale, variances) ** 2


def log_likelihood_to_data_units(log_likelihood, scale, n_observations):
    """Shift standardised log-likelihoods of shape (n_datasets, ...) to the data's units.

    The density of ``x`` is the density of ``z = (x - c) / s`` divided by ``s``; each
    observation (or unit of sample weight) contributes ``-log s``.
    """
    return log_likelihood - _per_dataset(n_observations * _vmath.log(scale), log_likelihood)
