"""The stopping rules of a fit (fit's ``stop``), and the changes they measure between
iterations: of the log-likelihood (Aitken's rate) and of the parameters."""

from __future__ import annotations

import math

from .jit import jit

# Stopping rules, as fit's ``stop`` names them (api.py).
LOGLIK, RELATIVE, AITKEN, PARAMETER = 0, 1, 2, 3


@jit(inline=True)
def copy_parameters(weights, means, variances, into):
    """``into[0:3]`` = weights, means, variances."""
    for k in range(means.size):
        into[0, k] = weights[k]
        into[1, k] = means[k]
        into[2, k] = variances[k]


@jit(inline=True)
def squared_change(weights, means, variances, before):
    """Squared L2 distance between the parameters and ``before`` (rows 0 to 2)."""
    total = 0.0
    for k in range(means.size):
        dw = weights[k] - before[0, k]
        dm = means[k] - before[1, k]
        dv = variances[k] - before[2, k]
        total += dw * dw + dm * dm + dv * dv
    return total


@jit
def aitken_rate(current, previous, before):
    """``a_t = (l_t - l_{t-1}) / (l_{t-1} - l_{t-2})``, NaN where undefined."""
    step = previous - before
    if not (math.isfinite(before) and step != 0.0):
        return math.nan
    return (current - previous) / step


@jit
def stopped(stop, tol, current, previous, before, inv_n, data_shift, squared_change):
    """Whether the stopping rule ``stop`` holds after the log-likelihoods
    ``l_{t-2}, l_{t-1}, l_t`` = ``before, previous, current`` (totals, standardised units)
    and a squared parameter change ``squared_change``. Each compares with ``<``, so
    ``tol = 0`` never stops a fit."""
    if stop == LOGLIK:
        # The per-point values are formed first, as the rule is defined on them.
        return abs(current * inv_n - previous * inv_n) < tol
    if stop == RELATIVE:
        # mclust's err = |l_t - l_{t-1}| / (1 + |l_t|), l in the data's units.
        return abs(current - previous) < tol * (1.0 + abs(current + data_shift))
    if stop == AITKEN:
        # No change at the step before: a rate of 0, so the limit is l_t itself.
        rate = 0.0 if previous == before else aitken_rate(current, previous, before)
        if not rate < 1.0:
            return False
        limit = previous + (current - previous) / (1.0 - rate)
        return abs(limit - current) < tol
    # The parameters' change alone, and the mean log-likelihood per point changing by less
    # than tol too: a component collapsing onto tied points shrinks its variance by
    # amounts that are small in absolute terms while its density, and the log-likelihood,
    # grow without bound; it must run on to the variance floor, where it is flagged. At a
    # maximum the log-likelihood's change is of the order of the squared parameter change,
    # far below tol.
    return math.sqrt(squared_change) < tol and abs(current * inv_n - previous * inv_n) < tol
