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

Each E-step is :func:`fastem.fit`'s (:mod:`.estep`), whose sums over points run in an
order fixed by the source. Each work item's random starts come from its own stream
(:mod:`.rng`, keyed by the seed, the dataset's content and the beta vector), and no work
item reads another's output: the results have the same bits with any number of threads,
in any chunking of the datasets and on any CPU.
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from . import rng
from .estep import block_size, e_step_parameters, plain_e_step, plain_e_step_two
from .jit import jit
from .lanes import lanes


@jit
def scratch_of_pass(n_components):
    """The scratch of :func:`_pass` for ``n_components``, allocated once per work item:
    the E-step's per-component rows (:func:`.estep.e_step_parameters`) and its blocks of
    deviations, densities and per-point values (:mod:`.estep`)."""
    per_component = np.zeros((4, n_components))
    block = block_size(n_components, lanes(per_component))
    return (
        per_component,
        np.empty((n_components, block)),
        np.empty((n_components, block)),
        np.empty((4, block)),
    )


@jit
def _pass(x, params, statistics, work):
    """One E-step over the points ``x`` for the mixture ``params`` (rows: weights, means,
    variances): leaves in the rows of ``statistics`` the summed responsibilities,
    ``sum r (x - m_k)`` and ``sum r (x - m_k)^2`` of each component (statistics around
    the current means, which lose nothing to cancellation) and returns the
    log-likelihood of ``params``. ``work``: :func:`scratch_of_pass`.

    This is the E-step of :func:`fastem.fit` (:mod:`.estep`: blocks of points, a
    vectorised ``exp``, sums in fixed lanes, so the same bits on every CPU; one ``exp``
    per point for two components), on data already standardised. The log-likelihood
    comes out of the same pass as the statistics, one ``log`` per block."""
    per_component, dev, dens, per_point = work
    e_step_parameters(params[0], params[1], params[2], per_component)
    if params.shape[1] == 2:
        log_likelihood, _ = plain_e_step_two(
            x, x[:0], 0.0, 1.0, per_component, statistics, dev, dens, per_point
        )
    else:
        log_likelihood, _ = plain_e_step(
            x, x[:0], 0.0, 1.0, per_component, statistics, dev, dens, per_point
        )
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
def _m_step(means, variances, statistics, a, targets, lower, upper):
    """The penalised M-step of the means and variances from the statistics of
    :func:`_pass`: each mean moved by ``s1 / s0`` and kept in ``[lower[c], upper[c]]``,
    each variance the penalised maximiser ``(sum r (x - m)^2 + 2 a t) / (s0 + 2 a)``
    around the new mean."""
    s0, s1, s2 = statistics[0], statistics[1], statistics[2]
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
    """``sum_h C log(1 - |1 - 2 beta_h|)``: the penalty on the splits, 0 at ``beta = 0.5``."""
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
def _fixed_beta_iterations(x, params, beta, a, targets, bounds, statistics, work, n_iter, tol):
    """Up to ``n_iter`` iterations of EM on the points ``x`` with the betas fixed (the
    means bounded, the variances penalised towards ``targets``), stopping early only when
    ``tol`` >= 0 and the penalised log-likelihood rises by ``tol`` or less. Returns the
    penalised log-likelihood of the parameters left in ``params`` (the statistics of that
    last E-step in ``statistics``); with ``tol`` < 0 the penalty is computed for the last
    iterate only."""
    converging = tol >= 0.0
    n = x.size
    penalised = _pass(x, params, statistics, work) + _variance_penalty(params[2], targets, a)
    for iteration in range(n_iter):
        _split_weights(params[0], statistics[0], beta, n)
        _m_step(params[1], params[2], statistics, a, targets, bounds[0], bounds[1])
        log_likelihood = _pass(x, params, statistics, work)
        if converging or iteration == n_iter - 1:
            before = penalised
            penalised = log_likelihood + _variance_penalty(params[2], targets, a)
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
        x = values[offsets[d] : offsets[d + 1]]
        c_beta, a = constants[d, 0], constants[d, 1]
        null_w, null_m, null_v = null[0, d], null[1, d], null[2, d]
        statistics = np.empty((3, 2 * m0))
        targets = np.empty(2 * m0)
        work = scratch_of_pass(2 * m0)
        bounds = np.empty((2, 2 * m0))
        unbounded = np.empty((2, 2 * m0))
        unbounded[0, :], unbounded[1, :] = -math.inf, math.inf
        smallest, largest = np.min(x), np.max(x)
        for h in range(m0):
            low = smallest if h == 0 else 0.5 * (null_m[h - 1] + null_m[h])
            high = largest if h == m0 - 1 else 0.5 * (null_m[h] + null_m[h + 1])
            for j in range(2):
                bounds[0, 2 * h + j], bounds[1, 2 * h + j] = low, high
                targets[2 * h + j] = null_v[h]
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
                x, trial, beta, a, targets, bounds, statistics, work, n_start_iter, -1.0
            )
            if trial_pl > best_pl or best_pl == -math.inf:
                best_pl = trial_pl
                best[:, :] = trial
        penalised = _fixed_beta_iterations(
            x, best, beta, a, targets, bounds, statistics, work, max_iter, tol
        )
        for _ in range(k):
            _update_beta(beta, statistics[0], c_beta)
            _split_weights(best[0], statistics[0], beta, x.size)
            _m_step(best[1], best[2], statistics, a, targets, unbounded[0], unbounded[1])
            penalised = _pass(x, best, statistics, work) + _variance_penalty(best[2], targets, a)
        pl[d, b] = penalised + _beta_penalty(beta, c_beta)
        beta_out[d, b] = beta
