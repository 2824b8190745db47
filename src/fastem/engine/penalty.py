"""Penalised maximum likelihood and MAP estimation: the M-step that maximises the
log-likelihood plus a penalty (or log prior) of closed form, and that penalty.

Both the variance penalty of Chen, Tan & Zhang (2008) and mclust's conjugate prior
(``priorControl()``) are, per component ``k``, a sum of terms of one form, written here
with per-dataset hyperparameters ``(kappa, m0, psi, nu, c)`` in standardised units::

    log p(theta) = sum_k [ -(nu / 2) log var_k - (psi + kappa (mu_k - m0)^2) / (2 var_k)
                           + c log w_k ]  (+ a constant, added outside the kernels)

Its M-step, with ``n_k`` the component's weighted count, ``xbar_k`` its mean and ``S_k``
its sum of squares around it, stays closed form::

    mu_k  = (n_k xbar_k + kappa m0) / (n_k + kappa)
    var_k = (psi + S_k + kappa n_k / (n_k + kappa) (xbar_k - m0)^2) / (n_k + nu)
    w_k   = (n_k + c) / (n + K c)          (the free weights, sharing what fixed ones leave)

and with one variance for all components (``equal_variance``), the sums over ``k`` of the
numerators and of the denominators. A fixed mean keeps its value (its ``S_k`` is then
taken around it and its shrinkage term is ``kappa (mu_k - m0)^2``). CTZ's penalty is
``kappa = 0, psi = 2 a_n s^2, nu = 2 a_n``; mclust's prior is its own hyperparameters
(see :mod:`fastem.priors`, which builds the rows).
"""

from __future__ import annotations

import math

from .jit import jit

N_HYPER = 5
"""The hyperparameters of a dataset's row: ``(kappa, m0, psi, nu, c)``."""
KAPPA, M0, PSI, NU, C = 0, 1, 2, 3, 4


@jit(inline=True)
def log_penalty(weights, means, variances, prior):
    """The penalty (log prior, less its constant) of the parameters, in standardised
    units; 0 with no prior (``prior`` of size 0)."""
    if prior.size == 0:
        return 0.0
    kappa, m0, psi, nu, c = prior[KAPPA], prior[M0], prior[PSI], prior[NU], prior[C]
    total = 0.0
    for k in range(means.size):
        shrink = means[k] - m0
        total -= 0.5 * (
            nu * math.log(variances[k]) + (psi + kappa * shrink * shrink) / variances[k]
        )
        if c != 0.0:
            total += c * math.log(weights[k])
    return total


@jit(inline=True)
def penalised_variances(s0, s1, s2, means, fixed_means, prior, pivots, raw):
    """The new means in place (the free ones) and each component's penalised variance in
    ``raw``, ``(psi + S_k + ...) / (n_k + nu)`` (0 where that is 0 / 0); returns
    ``(empty, numerator, denominator)``: whether a component has no point left (its mean
    stays), and the sums over components of the numerators and of the denominators, whose
    ratio is the pooled variance."""
    kappa, m0, psi, nu = prior[KAPPA], prior[M0], prior[PSI], prior[NU]
    empty = False
    numerator = 0.0
    denominator = 0.0
    for k in range(means.size):
        if s0[k] > 0.0 and fixed_means[k]:
            # sum r (z - mu)^2 = s2 + 2 (p - mu) s1 + (p - mu)^2 s0 around pivot p.
            offset = pivots[k] - means[k]
            spread = max(s2[k] + offset * (2.0 * s1[k] + offset * s0[k]), 0.0)
            shrink = means[k] - m0
            top = psi + spread + kappa * shrink * shrink
        elif s0[k] > 0.0:
            shift = s1[k] / s0[k]
            xbar = pivots[k] + shift
            spread = max(s2[k] - shift * s1[k], 0.0)
            shrink = xbar - m0
            means[k] = xbar - kappa * shrink / (s0[k] + kappa)
            top = psi + spread + kappa * s0[k] / (s0[k] + kappa) * shrink * shrink
        else:
            shrink = means[k] - m0
            top = psi + kappa * shrink * shrink
            empty = True
        bottom = s0[k] + nu
        raw[k] = top / bottom if bottom > 0.0 else 0.0
        numerator += top
        denominator += bottom
    return empty, numerator, denominator


@jit(inline=True)
def penalised_weights(s0, weights, fixed_weights, c):
    """Free weights ``(n_k + c) / (n_free + K_free c)``, times the mass the fixed ones
    leave, in place."""
    fixed_mass = 0.0
    free_s0 = 0.0
    n_free = 0
    for k in range(s0.size):
        if fixed_weights[k]:
            fixed_mass += weights[k]
        else:
            free_s0 += s0[k]
            n_free += 1
    for k in range(s0.size):
        if not fixed_weights[k]:
            weights[k] = (1.0 - fixed_mass) * ((s0[k] + c) / (free_s0 + n_free * c))
