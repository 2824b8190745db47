"""The kernel of the EM-test for the order of a normal mixture (Chen & Li 2009; Chen, Li &
Fu 2012), as MixtureInf's ``emtest.norm`` computes it, for every dataset of a batch, on
standardised data, from the penalised fit of the null order ``m0`` (:func:`fastem.fit`
with ``penalty="ctz"``).

:func:`alternatives`, per (dataset, beta vector) pair, one ``prange`` iteration: the fit
of the ``2 m0`` component alternative with each null component ``h`` split into two of
  weights ``w_h beta_h`` and ``w_h (1 - beta_h)``, the means of both halves kept in
  ``[eta_h, eta_{h+1}]`` (the data's ends and the midpoints of the null means) and each
  variance penalised towards its null component's (constant ``a``), from ``n_starts``
  random starts (``n_start_iter`` iterations each, the best one then to convergence); then
  ``k`` EM-test iterations, which also update the betas under the penalty
  ``C log(1 - |1 - 2 beta_h|)``::

      beta_h = min((s_1 + C) / (s_1 + s_2 + C), 0.5)   if s_1 / (s_1 + s_2) <= 0.5
      beta_h = max(s_1 / (s_1 + s_2 + C), 0.5)          otherwise

  with ``s_1, s_2`` the summed responsibilities of the two halves. The result is the
  penalised log-likelihood of the last iterate.

Each work item's random starts come from its own stream (:mod:`.rng`, keyed by the seed,
the dataset's content and the beta vector), sums over points run in the order of the
points, and no work item reads another's output: the results have the same bits with any
number of threads and in any chunking of the datasets.
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from . import rng
from .jit import jit
from .vmath import exp_shifted

HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


BLOCK = 64
"""Points per block of the E-step: its ``exp`` runs over a block at once (:mod:`.vmath`)."""


@jit
def scratch_of_pass(n_components):
    """The scratch of :func:`_pass` for ``n_components``: the log-densities of a block,
    their largest per point, the densities' sums, ``exp``'s scratch, and per component
    ``1 / sd`` and ``log w - log sd - log(2 pi) / 2``."""
    return (
        np.empty((n_components, BLOCK)),
        np.empty(BLOCK),
        np.empty(BLOCK),
        np.empty(BLOCK),
        np.empty(n_components),
        np.empty(n_components),
    )


@jit
def _pass(values, start, stop, weights, means, variances, work, s0, s1, s2, with_loglik):
    """One E-step over the points ``values[start:stop]`` for the mixture ``(weights, means,
    variances)``: leaves in ``s0, s1, s2`` the summed responsibilities, ``sum r (x - m_k)``
    and ``sum r (x - m_k)^2`` of each component (statistics around the current means,
    which lose nothing to cancellation) and returns the log-likelihood if
    ``with_loglik``, else 0 (a log per point saved). ``work``: :func:`scratch_of_pass`.

    A block of points at a time: their log-densities, shifted by each point's largest so
    that no point far from every component underflows, go through :func:`.vmath.exp_shifted`
    together (the same bits on every CPU); the sums then run point by point, in order."""
    dens, top, total, biased, inv_sd, constant = work
    n_components = means.size
    for c in range(n_components):
        s0[c] = 0.0
        s1[c] = 0.0
        s2[c] = 0.0
        inv_sd[c] = 1.0 / math.sqrt(variances[c])
        constant[c] = math.log(weights[c]) + math.log(inv_sd[c]) - HALF_LOG_2PI
    log_likelihood = 0.0
    for first in range(start, stop, BLOCK):
        m = min(BLOCK, stop - first)
        for j in range(m):
            top[j] = -math.inf
            total[j] = 0.0
        for c in range(n_components):
            for j in range(m):
                t = (values[first + j] - means[c]) * inv_sd[c]
                dens[c, j] = constant[c] - 0.5 * t * t
                top[j] = max(top[j], dens[c, j])
        for c in range(n_components):
            exp_shifted(dens[c], top, total, m, biased)
        for j in range(m):
            if with_loglik:
                log_likelihood += top[j] + math.log(total[j])
            inv_total = 1.0 / total[j]
            x = values[first + j]
            for c in range(n_components):
                r = dens[c, j] * inv_total
                dx = x - means[c]
                s0[c] += r
                s1[c] += r * dx
                s2[c] += r * dx * dx
    return log_likelihood


@jit
def _variance_penalty(variances, targets, a):
    """``sum_c -a (t_c / v_c + log(v_c / t_c) - 1)``: the variance penalty, 0 at the
    targets (MixtureInf's ``pn``)."""
    total = 0.0
    for c in range(variances.size):
        ratio = targets[c] / variances[c]
        total -= a * (ratio - math.log(ratio) - 1.0)
    return total


@jit
def _m_step(means, variances, s0, s1, s2, a, targets, lower, upper):
    """The penalised M-step of the means and variances: each mean moved by ``s1 / s0`` and
    kept in ``[lower[c], upper[c]]``, each variance the penalised maximiser
    ``(sum r (x - m)^2 + 2 a t) / (s0 + 2 a)`` around the new mean."""
    for c in range(means.size):
        shift = s1[c] / s0[c]
        moved = min(max(means[c] + shift, lower[c]), upper[c])
        clamped = means[c] + shift - moved  # 0 unless the bound holds the mean
        spread = s2[c] - s1[c] * shift + s0[c] * clamped * clamped
        variances[c] = (spread + 2.0 * a * targets[c]) / (s0[c] + 2.0 * a)
        means[c] = moved


@jit
def _split_weights(weights, s0, beta, n):
    """Each pair ``(2h, 2h + 1)`` gets the pair's share of the points, split ``beta_h :
    1 - beta_h``."""
    for h in range(beta.size):
        share = (s0[2 * h] + s0[2 * h + 1]) / n
        weights[2 * h] = share * beta[h]
        weights[2 * h + 1] = share * (1.0 - beta[h])


@jit
def _update_beta(beta, s0, c_beta):
    """The EM-test's update of each beta under the penalty ``C log(1 - |1 - 2 beta|)``."""
    for h in range(beta.size):
        first, second = s0[2 * h], s0[2 * h + 1]
        if first / (first + second) <= 0.5:
            beta[h] = min((first + c_beta) / (first + second + c_beta), 0.5)
        else:
            beta[h] = max(first / (first + second + c_beta), 0.5)


@jit
def _beta_penalty(beta, c_beta):
    total = 0.0
    for h in range(beta.size):
        total += c_beta * math.log(1.0 - abs(1.0 - 2.0 * beta[h]))
    return total


@jit
def _random_start(key, draw, null_w, null_v, beta, lower, upper, weights, means, variances):
    """A start of the alternative as MixtureInf draws one: the weights split by beta, two
    means uniform in each null component's interval and two variances uniform in
    ``[0.25, 2]`` times its variance. Returns the next draw's index."""
    for h in range(beta.size):
        for j in range(2):
            c = 2 * h + j
            means[c] = lower[c] + (upper[c] - lower[c]) * rng.uniform(key, draw)
            variances[c] = null_v[h] * (0.25 + 1.75 * rng.uniform(key, draw + 1))
            draw += 2
        weights[2 * h] = null_w[h] * beta[h]
        weights[2 * h + 1] = null_w[h] * (1.0 - beta[h])
    return draw


@jit
def _fixed_beta_iterations(x, start, stop, params, beta, a, bounds, scratch, work, n_iter, tol):
    """Up to ``n_iter`` iterations of EM with the betas fixed (the means bounded, the
    variances penalised), stopping early only when ``tol`` >= 0 and the penalised
    log-likelihood rises by ``tol`` or less. Returns the penalised log-likelihood of the
    parameters left in ``params`` (statistics of that last E-step in ``scratch[1:4]``, the
    variances' targets in ``scratch[4]``); with ``tol`` < 0 only the last E-step computes
    a log-likelihood."""
    weights, means, variances = params[0], params[1], params[2]
    s0, s1, s2, targets = scratch[1], scratch[2], scratch[3], scratch[4]
    n = stop - start
    converging = tol >= 0.0
    loglik = _pass(
        x, start, stop, weights, means, variances, work, s0, s1, s2, converging or n_iter == 0
    )
    penalised = loglik + _variance_penalty(variances, targets, a)
    for iteration in range(n_iter):
        _split_weights(weights, s0, beta, n)
        _m_step(means, variances, s0, s1, s2, a, targets, bounds[0], bounds[1])
        last = converging or iteration == n_iter - 1
        loglik = _pass(x, start, stop, weights, means, variances, work, s0, s1, s2, last)
        before = penalised
        penalised = loglik + _variance_penalty(variances, targets, a)
        if converging and penalised - before <= tol:
            break
    return penalised


@jit(parallel=True)
def alternatives(
    values, offsets, null, betas, constants, counts, tol, seed, keys, pl, params, beta_out
):
    """The penalised log-likelihood of the alternative after ``k`` EM-test iterations, for
    every (dataset, beta vector) pair.

    ``null`` (3, n_datasets, m0): the null fit's weights, means and variances; ``betas``
    (n_betas, m0): the starting betas; ``constants`` (n_datasets, 2): the penalties' ``C``
    and ``a``; ``counts``: ``(n_starts, n_start_iter, max_iter, k)``; ``tol``: the
    convergence tolerance of the best start's fit; ``seed`` and ``keys`` (n_datasets,) key
    the random starts. Outputs: ``pl`` (n_datasets, n_betas), ``params`` (n_datasets,
    n_betas, 3, 2 m0) the alternative's weights, means and variances, ``beta_out``
    (n_datasets, n_betas, m0) its final betas."""
    n_starts, n_start_iter, max_iter, k = counts
    m0 = betas.shape[1]
    n_betas = betas.shape[0]
    for item in prange((offsets.size - 1) * n_betas):
        d, b = item // n_betas, item % n_betas
        start, stop = offsets[d], offsets[d + 1]
        c_beta, a = constants[d, 0], constants[d, 1]
        null_w, null_m, null_v = null[0, d], null[1, d], null[2, d]
        scratch = np.empty((5, 2 * m0))
        work = scratch_of_pass(2 * m0)
        bounds = np.empty((2, 2 * m0))
        unbounded = np.empty((2, 2 * m0))
        unbounded[0, :], unbounded[1, :] = -math.inf, math.inf
        smallest, largest = np.min(values[start:stop]), np.max(values[start:stop])
        for h in range(m0):
            low = smallest if h == 0 else 0.5 * (null_m[h - 1] + null_m[h])
            high = largest if h == m0 - 1 else 0.5 * (null_m[h] + null_m[h + 1])
            for j in range(2):
                bounds[0, 2 * h + j], bounds[1, 2 * h + j] = low, high
                scratch[4, 2 * h + j] = null_v[h]
        beta = betas[b].copy()
        trial = np.empty((3, 2 * m0))
        best = params[d, b]
        best_pl = -math.inf
        key = rng.stream_key(seed, rng.EMTEST, keys[d], b)
        draw = 0
        for _ in range(n_starts):
            draw = _random_start(
                key, draw, null_w, null_v, beta, bounds[0], bounds[1], trial[0], trial[1], trial[2]
            )
            trial_pl = _fixed_beta_iterations(
                values, start, stop, trial, beta, a, bounds, scratch, work, n_start_iter, -1.0
            )
            if trial_pl > best_pl or best_pl == -math.inf:
                best_pl = trial_pl
                best[:, :] = trial
        penalised = _fixed_beta_iterations(
            values, start, stop, best, beta, a, bounds, scratch, work, max_iter, tol
        )
        n = stop - start
        for _ in range(k):
            _update_beta(beta, scratch[1], c_beta)
            _split_weights(best[0], scratch[1], beta, n)
            _m_step(
                best[1],
                best[2],
                scratch[1],
                scratch[2],
                scratch[3],
                a,
                scratch[4],
                unbounded[0],
                unbounded[1],
            )
            loglik = _pass(
                values,
                start,
                stop,
                best[0],
                best[1],
                best[2],
                work,
                scratch[1],
                scratch[2],
                scratch[3],
                True,
            )
            penalised = loglik + _variance_penalty(best[2], scratch[4], a)
        pl[d, b] = penalised + _beta_penalty(beta, c_beta)
        beta_out[d, b] = beta
