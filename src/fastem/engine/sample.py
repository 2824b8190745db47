"""Sampling from 1D Gaussian mixtures, one dataset per mixture, in parallel over datasets:
the kernel behind :func:`fastem.simulate`, which checks its input."""

from __future__ import annotations

import numpy as np
from numba import prange

from . import interrupt as _interrupt
from . import rng as _rng
from .jit import jit


@jit(parallel=True)
def draw(offsets, cum_weights, means, sds, seed, first_dataset, values, labels, interrupted):
    """Fills ``values`` and ``labels`` of each dataset ``d`` of ``offsets``: point ``j``'s
    component by a uniform draw against ``cum_weights[d]`` (the running sums of the
    weights), its value from that component's normal (``sds``: standard deviations)."""
    n_components = means.shape[1]
    for d in prange(offsets.size - 1):
        if interrupted[0]:  # Ctrl-C (see ``_interrupt``)
            continue
        label_key = _rng.stream_key(seed, _rng.SIMULATE, first_dataset + d, 0)
        noise_key = _rng.stream_key(seed, _rng.SIMULATE, first_dataset + d, 1)
        for j in range(offsets[d + 1] - offsets[d]):
            u = _rng.uniform(label_key, j)
            k = 0
            while k < n_components - 1 and u >= cum_weights[d, k]:
                k += 1
            labels[offsets[d] + j] = k
            values[offsets[d] + j] = means[d, k] + sds[d, k] * _rng.normal(noise_key, j)


def sample(offsets, weights, means, variances, seed, first_dataset):
    """Draw the datasets of ``offsets`` (int64 array of shape (n_datasets + 1,), the
    ragged layout) from the mixtures ``weights, means, variances`` (C-contiguous writable
    float64 arrays of shape (n_datasets, K), checked); dataset ``d`` draws from the stream
    keyed by ``(seed, first_dataset + d)``. Stops early on Ctrl-C (``_interrupt``).

    Returns ``(values, labels)``: float64 and int64 arrays of shape (offsets[-1],), the
    points and the component each came from.
    """
    values = np.empty(offsets[-1])
    labels = np.empty(offsets[-1], dtype=np.int64)
    cum_weights = np.cumsum(weights, axis=1)
    _interrupt.run(
        draw,
        offsets,
        cum_weights,
        means,
        np.sqrt(variances),
        seed,
        first_dataset,
        values,
        labels,
    )
    return values, labels
