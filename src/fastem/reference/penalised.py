"""Penalised EM in plain NumPy: Chen, Tan & Zhang's penalty and mclust's conjugate prior
as one M-step, the yardstick of :mod:`fastem.engine.penalty`."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from . import e_step, log_likelihood


def ctz_hyperparameters(
    x: ArrayLike, a_n: float | None = None, mixing: float = 0.0
) -> tuple[float, float, float, float, float]:
    """Chen, Tan & Zhang's penalty ``-a_n sum_k (s^2 / sigma_k^2 + log(sigma_k^2 / s^2))``
    (and Chen & Li's ``mixing * sum_k log pi_k``) as the hyperparameters ``(kappa, m0, psi,
    nu, c)`` of :func:`penalised_m_step`, in the units of ``x``: ``s^2`` the sample variance
    (divisor ``n - 1``), ``a_n = n^(-1/2)`` by default; ``kappa = m0 = 0``, ``psi = 2 a_n
    s^2``, ``nu = 2 a_n``, ``c = mixing``."""
    x = np.asarray(x, dtype=np.float64)
    a_n = 1.0 / np.sqrt(x.size) if a_n is None else a_n
    return 0.0, 0.0, 2.0 * a_n * x.var(ddof=1), 2.0 * a_n, mixing


def log_penalty(
    weights: np.ndarray, means: np.ndarray, variances: np.ndarray, hyper: tuple
) -> float:
    """``sum_k [-(nu/2) log var_k - (psi + kappa (mu_k - m0)^2) / (2 var_k) + c log w_k]``:
    the penalty of :func:`penalised_m_step`, less its constant."""
    kappa, m0, psi, nu, c = hyper
    terms = -0.5 * (nu * np.log(variances) + (psi + kappa * (means - m0) ** 2) / variances)
    return float(terms.sum() + (c * np.log(weights).sum() if c else 0.0))


def penalised_m_step(
    x: ArrayLike, resp: np.ndarray, hyper: tuple, equal_variance: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The M-step that maximises the expected log-likelihood plus :func:`log_penalty`.

    With ``n_k = sum_i r_ik``, ``xbar_k`` the component's mean and ``S_k`` its sum of
    squares around it, and per component ``(kappa, m0, psi, nu, c) = hyper``::

        mu_k  = (n_k xbar_k + kappa m0) / (n_k + kappa)
        var_k = (psi + S_k + kappa n_k / (n_k + kappa) (xbar_k - m0)^2) / (n_k + nu)
        w_k   = (n_k + c) / (n + K c)

    and with ``equal_variance`` the ratio of the sums over ``k`` of the numerators and the
    denominators.
    """
    x = np.asarray(x, dtype=np.float64)
    kappa, m0, psi, nu, c = hyper
    n_k = resp.sum(axis=0)
    xbar = resp.T @ x / n_k
    spread = (resp * (x[:, np.newaxis] - xbar) ** 2).sum(axis=0)
    means = (n_k * xbar + kappa * m0) / (n_k + kappa)
    top = psi + spread + kappa * n_k / (n_k + kappa) * (xbar - m0) ** 2
    variances = top / (n_k + nu)
    if equal_variance:
        variances = np.full_like(variances, top.sum() / (n_k + nu).sum())
    weights = (n_k + c) / (n_k.sum() + n_k.size * c)
    return weights, means, variances


def penalised_em(
    x: ArrayLike,
    weights: ArrayLike,
    means: ArrayLike,
    variances: ArrayLike,
    hyper: tuple,
    n_iter: int,
    equal_variance: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``n_iter`` iterations of penalised EM (:func:`e_step`, :func:`penalised_m_step`)
    from the given parameters; returns the parameters and the penalised log-likelihood
    before each iteration and after the last, an array of shape (n_iter + 1,)."""
    w, m, v = (np.array(a, dtype=np.float64) for a in (weights, means, variances))
    trace = []
    for _ in range(n_iter):
        trace.append(log_likelihood(x, w, m, v) + log_penalty(w, m, v, hyper))
        w, m, v = penalised_m_step(x, e_step(x, w, m, v), hyper, equal_variance)
    trace.append(log_likelihood(x, w, m, v) + log_penalty(w, m, v, hyper))
    return w, m, v, np.array(trace)
