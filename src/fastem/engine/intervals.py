"""EM for grouped and censored data (McLachlan & Jones 1988): each observation is an
interval ``[a, b)`` with a count, and its likelihood under a mixture is the mixture's
probability of the interval, ``sum_k w_k (Phi((b - mu_k) / s_k) - Phi((a - mu_k) / s_k))``.

The E-step takes, for every interval and component, the probability of the interval, the
responsibility, and the first two moments of the component's normal truncated to the
interval, in closed form: with ``alpha = (a - mu) / s``, ``beta = (b - mu) / s`` and
``P = Phi(beta) - Phi(alpha)``,

    E[X - mu | a <= X < b] = s (phi(alpha) - phi(beta)) / P
    E[(X - mu)^2 | a <= X < b] = s^2 (1 + (alpha phi(alpha) - beta phi(beta)) / P)

(a term whose end is infinite is 0). The M-step is the one of points
(:func:`.mstep.maximisation`), fed these conditional moments as the points' statistics,
taken around the current means.

``P`` and the ratios ``phi / P`` are formed in log space from the upper tail ``Q(x) =
P(Z > x)``, by ``erfc`` below :data:`TAIL` standard deviations and by its asymptotic
series above, so an interval far in a component's tail (or a censored one beyond it)
keeps its relative precision instead of becoming ``0 / 0``.

An exact value (``a == b``) contributes its density instead, and itself as its moments, as
a point does in EM for points; so censored samples mix exact values and intervals.

Data and parameters here are standardised; a probability does not depend on the units,
and the densities of exact values are shifted to the data's units by each dataset's
``shift``, so the log-likelihood is the data's. Every sum over intervals runs in
the intervals' order, one fit per item of the parallel loop, so a fit's bits do not
depend on the number of threads or on the batch around it.
"""

from __future__ import annotations

import math

import numpy as np

from .interrupt import run as run_interruptibly
from .jit import for_each, jit
from .mstep import maximisation
from .run import STOPPING_RULES, Run
from .stopping import aitken_rate, copy_parameters, squared_change, stopped

# fastem.Status's codes, written out as in em.py (numba freezes them into the cache).
CONVERGED, MAX_ITER, VARIANCE_FLOORED, NON_FINITE = 0, 1, 3, 4

TAIL = 20.0
"""Above this many standard deviations the upper tail comes from its asymptotic series
(``erfc`` loses no precision below it: its relative error there is about ``x^2`` ulps)."""
SERIES_TERMS = 10
"""Terms of the asymptotic series of the Mills ratio, ``1 - 1/x^2 + 3/x^4 - ...``: at
``x >= 20`` the first term left out is below ``19!! / 20^20``, 7e-18 relative."""
LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
SQRT_HALF = math.sqrt(0.5)


@jit(inline=True)
def log_upper_tail(x):
    """``log Q(x) = log P(Z > x)`` for a standard normal ``Z``, to a few ulps relative
    for every ``x`` (``0`` at ``-inf``, ``-inf`` at ``inf``)."""
    if x < TAIL:
        return math.log(0.5 * math.erfc(x * SQRT_HALF))
    inv_square = 1.0 / (x * x)
    term = 1.0
    series = 1.0
    for n in range(1, SERIES_TERMS):
        term *= -(2.0 * n - 1.0) * inv_square
        series += term
    return -0.5 * x * x - LOG_SQRT_2PI - math.log(x) + math.log(series)


@jit(inline=True)
def upper_tail(x, tails):
    """``Q(x) = erfc(x / sqrt(2)) / 2``, or its value kept in ``tails`` (shape (4,): the
    last two arguments and their values) when ``x`` is one of them.

    Adjacent bins share an end, and the standardised end is the same float in both (the
    same arithmetic on the same value): each tail is then computed once, not twice. The
    value is the one ``erfc`` gives, so the bits do not change.
    """
    if x == tails[0]:
        return tails[1]
    if x == tails[2]:
        return tails[3]
    value = 0.5 * math.erfc(x * SQRT_HALF)
    tails[2] = tails[0]
    tails[3] = tails[1]
    tails[0] = x
    tails[1] = value
    return value


@jit(inline=True)
def log_interval_probability(alpha, beta, tails):
    """``log (Phi(beta) - Phi(alpha))`` for ``alpha < beta`` (either may be infinite),
    as a difference of two upper tails on the side of zero where both are small, so
    that an interval far in a tail keeps its relative precision.

    Within :data:`TAIL` standard deviations the tails come from ``erfc`` (through
    :func:`upper_tail` and its ``tails``, of one component) and are subtracted as they
    are (the difference loses what ``log1p(-exp(...))`` of their logs would lose, for one
    ``log``); beyond, from the logs of :func:`log_upper_tail`, where ``erfc`` would
    underflow.
    """
    if alpha >= 0.0:
        near, far = alpha, beta
    elif beta <= 0.0:
        near, far = -beta, -alpha
    else:  # the interval holds 0: P >= 1 - two tails of at most 1/2 each
        return math.log1p(-(upper_tail(-alpha, tails) + upper_tail(beta, tails)))
    if near < TAIL:
        return math.log(upper_tail(near, tails) - upper_tail(far, tails))
    high, low = log_upper_tail(near), log_upper_tail(far)
    if high == -math.inf:  # beyond even the series (x^2 overflows): no probability
        return -math.inf
    return high + math.log1p(-math.exp(low - high))


@jit(inline=True)
def truncated_moments(alpha, beta, log_probability):
    """``(E[Z], E[Z^2])`` of a standard normal ``Z`` truncated to ``[alpha, beta)``, whose
    probability is ``exp(log_probability)``; an infinite end contributes nothing."""
    first = 0.0
    second = 1.0
    if math.isfinite(alpha):
        ratio = math.exp(-0.5 * alpha * alpha - LOG_SQRT_2PI - log_probability)
        first += ratio
        second += alpha * ratio
    if math.isfinite(beta):
        ratio = math.exp(-0.5 * beta * beta - LOG_SQRT_2PI - log_probability)
        first -= ratio
        second -= beta * ratio
    return first, second


@jit(inline=True)
def log_term(lower, upper, mean, sd, log_sd, tails):
    """``log P`` of the interval ``[lower, upper)`` under ``N(mean, sd^2)``, or the log
    density at ``lower`` for an exact value (``lower == upper``); ``tails`` as
    :func:`log_interval_probability`'s."""
    alpha = (lower - mean) / sd
    if lower == upper:
        return -0.5 * alpha * alpha - LOG_SQRT_2PI - log_sd
    return log_interval_probability(alpha, (upper - mean) / sd, tails)


@jit
def interval_e_step(lower, upper, counts, weights, means, variances, statistics, scratch):
    """One pass over a dataset's intervals (standardised): returns ``(log_likelihood,
    log_map)`` of the parameters, and fills ``statistics[0:3]`` with the M-step's sums
    around the current means, ``sum c r``, ``sum c r E[X - mu_k]``, ``sum c r E[(X -
    mu_k)^2]``, the expectations under component ``k`` truncated to each interval (at an
    exact value, the value itself).

    ``scratch`` has shape (8, K): log weights, standard deviations, their logs, per
    interval the components' log joint probabilities (densities at exact values), and
    each component's last tails (:func:`upper_tail`).
    """
    n_components = means.size
    log_weights, sds, log_sds, joint = scratch[0], scratch[1], scratch[2], scratch[3]
    tails = scratch[4:8]
    for k in range(n_components):
        tails[0, k] = math.nan  # equal to no argument
        tails[2, k] = math.nan
        log_weights[k] = math.log(weights[k]) if weights[k] > 0.0 else -math.inf
        sds[k] = math.sqrt(variances[k])
        log_sds[k] = math.log(sds[k])
        statistics[0, k] = 0.0
        statistics[1, k] = 0.0
        statistics[2, k] = 0.0
    log_likelihood = 0.0
    log_map = 0.0
    for i in range(lower.size):
        count = counts[i]
        top = -math.inf
        for k in range(n_components):
            term = log_term(lower[i], upper[i], means[k], sds[k], log_sds[k], tails[:, k])
            joint[k] = log_weights[k] + term
            top = max(top, joint[k])
        if top == -math.inf:  # no component gives the interval any probability
            return -math.inf, -math.inf
        total = 0.0
        for k in range(n_components):
            total += math.exp(joint[k] - top)
        log_sum = top + math.log(total)
        log_likelihood += count * log_sum
        log_map += count * (top - log_sum)
        for k in range(n_components):
            if joint[k] == -math.inf:
                continue
            mass = count * math.exp(joint[k] - log_sum)
            alpha = (lower[i] - means[k]) / sds[k]
            if lower[i] == upper[i]:
                first, second = alpha, alpha * alpha
            else:
                beta = (upper[i] - means[k]) / sds[k]
                first, second = truncated_moments(alpha, beta, joint[k] - log_weights[k])
            statistics[0, k] += mass
            statistics[1, k] += mass * (sds[k] * first)
            statistics[2, k] += mass * (variances[k] * second)
    return log_likelihood, log_map


@jit
def fit_intervals_one(
    lower, upper, counts, shift, weights, means, variances, options, max_iter, tol, stop, trace
):
    """EM for one fit to one dataset's intervals, updating the parameters in place.

    ``shift`` turns the log-likelihood into the data's units: ``-n log(scale)`` for the
    ``n`` exact values among the intervals (a density, unlike a probability, has units).

    Iteration ``t`` evaluates the log-likelihood of ``theta_{t-1}`` in the pass that
    produces ``theta_t``, and the fit stops when ``stop`` holds (:func:`.stopping.stopped`,
    with the log-likelihood already in the data's units); a last pass gives the
    log-likelihood of the returned parameters. Returns ``(log_likelihood, log_map,
    n_iter, converged, status, n_fpeval, rate, parameter_rate)`` as :func:`.em.fit_one`.
    """
    n_components = means.size
    statistics = np.empty((4, n_components))
    scratch = np.empty((8, n_components))
    saved = np.empty((3, n_components))
    pivots = np.empty(n_components)
    total = 0.0
    for i in range(counts.size):
        total += counts[i]
    inv_n = 1.0 / total
    previous = -math.inf
    before = -math.inf
    rate = math.nan
    parameter_rate = math.nan
    previous_change = 0.0
    converged = False
    floored = False
    n_iter = 0
    for it in range(max_iter):
        copy_parameters(weights, means, variances, saved)
        log_likelihood, log_map = interval_e_step(
            lower, upper, counts, weights, means, variances, statistics, scratch
        )
        log_likelihood += shift
        if it < trace.size:
            trace[it] = log_likelihood
        if not math.isfinite(log_likelihood):
            return log_likelihood, log_map, n_iter, False, NON_FINITE, it + 1, rate, parameter_rate
        for k in range(n_components):
            pivots[k] = means[k]
        floored = maximisation(
            statistics[0],
            statistics[1],
            statistics[2],
            weights,
            means,
            variances,
            options,
            statistics[3],
            pivots,
        )
        n_iter = it + 1
        change = squared_change(weights, means, variances, saved)
        if n_iter > 1:
            rate = aitken_rate(log_likelihood, previous, before)
            if previous_change > 0.0:
                parameter_rate = math.sqrt(change / previous_change)
        previous_change = change
        if stopped(stop, tol, log_likelihood, previous, before, inv_n, 0.0, change):
            converged = True
            break
        before = previous
        previous = log_likelihood
    log_likelihood, log_map = interval_e_step(
        lower, upper, counts, weights, means, variances, statistics, scratch
    )
    log_likelihood += shift
    if n_iter < trace.size:
        trace[n_iter] = log_likelihood
    if not math.isfinite(log_likelihood):
        status = NON_FINITE
    elif floored:
        status = VARIANCE_FLOORED
    else:
        status = CONVERGED if converged else MAX_ITER
    return log_likelihood, log_map, n_iter, converged, status, n_iter, rate, parameter_rate


@jit
def fit_intervals_at(
    f,
    lower,
    upper,
    counts,
    offsets,
    shifts,
    n_init,
    weights,
    means,
    variances,
    reg_variance,
    equal_variance,
    fixed_weights,
    fixed_means,
    fixed_variances,
    max_iter,
    tol,
    stop,
    trace,
    outputs,
    counters,
    status,
    interrupted,
):
    """Fit ``f`` (dataset ``f // n_init``) of a batch of intervals: its EM from the
    starting values in row ``f`` of ``weights, means, variances``, its outputs into row
    ``f`` of ``outputs`` (log-likelihood in the data's units, with ``shifts[d]``; log of
    the MAP labelling; rate; parameter rate), ``counters`` (iterations, EM maps,
    converged) and ``status``. The model's options come one by one (numba's parallel
    loop takes no tuple among its arguments) and are grouped here as
    :func:`.mstep.maximisation` takes them."""
    # No penalty or prior (an empty row of :mod:`.penalty`): fastem.binned refuses them.
    no_prior = np.zeros(0)
    options = (reg_variance, equal_variance, fixed_weights, fixed_means, fixed_variances, no_prior)
    d = f // n_init
    start, end = offsets[d], offsets[d + 1]
    result = fit_intervals_one(
        lower[start:end],
        upper[start:end],
        counts[start:end],
        shifts[d],
        weights[f],
        means[f],
        variances[f],
        options,
        max_iter,
        tol,
        stop,
        trace[f],
    )
    outputs[f, 0] = result[0]
    outputs[f, 1] = result[1]
    counters[f, 0] = result[2]
    counters[f, 1] = result[5]
    counters[f, 2] = 1 if result[3] else 0
    status[f] = result[4]
    outputs[f, 2] = result[6]
    outputs[f, 3] = result[7]


def run_intervals(
    intervals, model, weights, means, variances, *, max_iter, tol, stop, trace_length
):
    """EM from the starting values ``weights, means, variances`` (n_fits, K), standardised,
    which become the fitted values, for every fit of ``intervals``: ``(lower, upper,
    counts, offsets, shifts, n_init)``, the intervals standardised and packed as a batch's
    points (:mod:`.layout`), each dataset's shift of the log-likelihood to the data's units
    (:func:`fit_intervals_one`), fit ``f`` of dataset ``f // n_init``. Returns the
    kernel's outputs as :func:`.run.run` does; the log-likelihoods are those of the
    data's units already."""
    n_fits = means.shape[0]
    trace = np.full((n_fits, trace_length), np.nan)
    outputs = np.empty((n_fits, 4))
    counters = np.empty((n_fits, 3), dtype=np.int64)
    status = np.empty(n_fits, dtype=np.int8)
    arguments = (
        *intervals,
        weights,
        means,
        variances,
        float(model.reg_variance),
        bool(model.equal_variance),
        model.fixed_weights,
        model.fixed_means,
        model.fixed_variances,
        max_iter,
        float(tol),
        STOPPING_RULES[stop],
        trace,
        outputs,
        counters,
        status,
    )
    run_interruptibly(for_each, fit_intervals_at, n_fits, arguments)
    n_fpeval = counters[:, 1].copy()
    return Run(
        log_likelihood=outputs[:, 0].copy(),
        log_map=outputs[:, 1].copy(),
        n_iter=counters[:, 0].copy(),
        converged=counters[:, 2] == 1,
        status=status,
        n_fpeval=n_fpeval,
        n_objeval=n_fpeval + (status != NON_FINITE),
        rate=outputs[:, 2].copy(),
        parameter_rate=outputs[:, 3].copy(),
        trace=trace if trace_length else None,
    )
