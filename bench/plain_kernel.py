"""A plain fused EM kernel: the baseline fastem's kernel is measured against.

What one would write first: one ``prange`` iteration per fit, one loop over the points per
iteration computing each point's log-densities, their log-sum-exp with ``math.exp`` and
``math.log`` (scalar libm calls: numba on PyPI has no vector math library), the
responsibilities and the M-step's sums, all in one pass. No blocks, no vectorised exp, no
explicit partial sums. Fixed work: ``n_iter`` iterations from the given starts.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from fastem.engine.vmath import exp_shifted


@njit(parallel=True, cache=True)
def fit_plain(data, weights, means, variances, n_iter, out_log_likelihood):
    """EM on every row of ``data`` (n_datasets, n_samples) from ``weights``, ``means``,
    ``variances`` (n_datasets, K), updated in place."""
    n_datasets, n_samples = data.shape
    n_components = means.shape[1]
    for d in prange(n_datasets):
        x = data[d]
        w, mu, var = weights[d], means[d], variances[d]
        log_norm = np.empty(n_components)
        dens = np.empty(n_components)
        s0 = np.empty(n_components)
        s1 = np.empty(n_components)
        s2 = np.empty(n_components)
        total = 0.0
        for _ in range(n_iter):
            for k in range(n_components):
                log_norm[k] = math.log(w[k]) - 0.5 * math.log(2.0 * math.pi * var[k])
                s0[k] = 0.0
                s1[k] = 0.0
                s2[k] = 0.0
            total = 0.0
            for i in range(n_samples):
                top = -math.inf
                for k in range(n_components):
                    diff = x[i] - mu[k]
                    dens[k] = log_norm[k] - 0.5 * diff * diff / var[k]
                    top = max(top, dens[k])
                norm = 0.0
                for k in range(n_components):
                    dens[k] = math.exp(dens[k] - top)
                    norm += dens[k]
                total += top + math.log(norm)
                for k in range(n_components):
                    r = dens[k] / norm
                    diff = x[i] - mu[k]
                    s0[k] += r
                    s1[k] += r * diff
                    s2[k] += r * diff * diff
            for k in range(n_components):
                shift = s1[k] / s0[k]
                w[k] = s0[k] / n_samples
                mu[k] += shift
                var[k] = max(s2[k] / s0[k] - shift * shift, 1e-12)
        out_log_likelihood[d] = total


@njit(parallel=True, cache=True)
def exp_rate_work(n_blocks, block, repeats):
    """fastem's vector exp (``vmath.exp_shifted``, the kernel's exp) alone: ``repeats``
    passes over each of ``n_blocks`` blocks of ``block`` log-densities, one block per
    ``prange`` iteration. Returns a checksum (so the work is not optimised away).

    Each pass first copies the block's arguments in from a float array: computed from the
    loop's integer index, they would cost an integer-to-float conversion per value, which
    before AVX-512 is a scalar instruction, and the loop would measure that instead."""
    checksum = np.zeros(n_blocks)
    for b in prange(n_blocks):
        arguments = -0.001 * (np.arange(block) + b)  # the kind of spread log-densities have
        values = np.empty(block)
        shift = np.zeros(block)
        total = np.zeros(block)
        for _ in range(repeats):
            values[:] = arguments
            exp_shifted(values, shift, total, block)
        checksum[b] = total[0]
    return checksum
