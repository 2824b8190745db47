"""A counter-based random number generator for the kernels.

Draw ``i`` of the stream for ``(seed, purpose, a, b)`` is a pure function of those five
numbers: ``uniform(stream_key(seed, purpose, a, b), i)``. A fit's starts are keyed by its
dataset's content (:func:`content_keys`) and its restart, and a simulated dataset by its
index, so their random numbers do not depend on the number of threads, on the order in
which fits run, or on which other datasets are in the batch: the same data get the same
starts at any place of any batch, file or study.

The generator is SplitMix64 used as a hash: the key is a mix of the five inputs, and
draw ``i`` is the SplitMix64 output function applied to ``key + (i + 1) * golden``, which
is exactly the SplitMix64 sequence started from ``key``. SplitMix64 passes BigCrush; the
starting values and simulations here need far less.
"""

from __future__ import annotations

import math

import numpy as np

from .jit import jit

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MUL1 = np.uint64(0xBF58476D1CE4E5B9)
_MUL2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_TWO_POW_M53 = 1.0 / 9007199254740992.0

# Purposes, so that the streams of different consumers never coincide.
INIT = 1
SIMULATE = 2
SEM = 8  # stochastic EM's labels (the number of its algorithm, :mod:`.methods`)
EMTEST = 28  # the EM-test's random starts of the alternative (:mod:`.emtest`)


@jit(inline=True)
def _mix(z):
    z = (z ^ (z >> _S30)) * _MUL1
    z = (z ^ (z >> _S27)) * _MUL2
    return z ^ (z >> _S31)


@jit(inline=True)
def stream_key(seed, purpose, a, b):
    """Key of the stream for ``(seed, purpose, a, b)``; all arguments are non-negative ints."""
    key = _mix(np.uint64(seed) + _GOLDEN)
    key = _mix(key ^ (np.uint64(purpose) * _GOLDEN))
    key = _mix(key ^ _mix(np.uint64(a) + _GOLDEN))
    return _mix(key ^ _mix(np.uint64(b) + _MUL1))


@jit
def _content_keys(values, offsets, center, scale, sample_weight, keys):
    # Point i of a dataset enters as mix(bits + (i + 1) * golden), and the dataset's
    # points are combined by XOR: the mixes are independent of each other, so the loop
    # pipelines (a chain key = mix(key ^ bits) would wait for every multiply in turn).
    # The position salt keeps a reordering of the points from giving the same key.
    weighted = sample_weight.size > 0
    rounded = np.empty(1, dtype=np.float32)
    bits = rounded.view(np.uint32)
    for d in range(offsets.size - 1):
        start, stop = offsets[d], offsets[d + 1]
        inv_scale = 1.0 / scale[d]
        points = np.uint64(0)
        weights = np.uint64(0)
        for i in range(start, stop):
            salt = (np.uint64(i - start) + np.uint64(1)) * _GOLDEN
            points ^= _mix(_standard_bits(values[i], center[d], inv_scale, rounded, bits) + salt)
            if weighted:
                rounded[0] = np.float32(sample_weight[i])
                if rounded[0] != 1.0:  # unit weights are no weights
                    weights ^= _mix(np.uint64(bits[0]) ^ salt)
        key = _mix(np.uint64(stop - start) + _MUL2)
        keys[d] = _mix(_mix(key ^ points) ^ weights)


@jit(inline=True)
def _standard_bits(x, center, inv_scale, rounded, bits):
    """The bits of the point's standardised value rounded to float32 (0.0 for -0.0),
    through ``rounded`` and its uint32 view ``bits``: the same for the data in any units,
    but for a value within float64 rounding of a float32 rounding boundary (odds of about
    2**-29 per point)."""
    rounded[0] = np.float32((x - center) * inv_scale)
    if rounded[0] == 0:
        return np.uint64(0)
    return np.uint64(bits[0])


def content_keys(values, offsets, center, scale, sample_weight=None) -> np.ndarray:
    """A key of each dataset's content, array of shape (n_datasets,), uint64.

    The key is a hash of the dataset's standardised values ``(x - center) / scale``
    rounded to float32, in order, their number and, if given, their weights other than 1
    rounded to float32 (unit weights are no weights, as a point of weight 0 is no point;
    weights that differ in their last bits, rescaled probability weights say, are the
    same weights): a function of the
    data alone, not of the dataset's place in a batch, so that fits keyed by it give the
    same data the same starts; and, as the standardised values are the same in any units
    up to rounding, data in other units (``a x + b``) almost always get the same key, so
    that fits are invariant to the data's units. Integer operations on the rounded
    values: the same key on every CPU. ``values`` and ``sample_weight`` are float64
    arrays in the ragged layout of ``offsets``; ``center`` and ``scale`` one value per
    dataset.
    """
    keys = np.empty(offsets.size - 1, dtype=np.uint64)
    weights = np.empty(0) if sample_weight is None else sample_weight
    _content_keys(values, offsets, center, scale, weights, keys)
    return keys


@jit(inline=True)
def uniform(key, i):
    """Draw ``i`` of stream ``key``: a float64 in [0, 1) with 53 random bits."""
    z = _mix(key + (np.uint64(i) + np.uint64(1)) * _GOLDEN)
    return float(z >> _S11) * _TWO_POW_M53


@jit(inline=True)
def index(key, i, n):
    """Draw ``i`` of stream ``key`` as an integer in ``[0, n)``."""
    j = int(uniform(key, i) * n)
    return min(j, n - 1)


@jit(inline=True)
def normal(key, i):
    """A standard normal from draws ``2 i`` and ``2 i + 1`` (Box-Muller, cosine branch)."""
    u1 = 1.0 - uniform(key, 2 * i)  # in (0, 1], so the log is finite
    u2 = uniform(key, 2 * i + 1)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)
