"""EM's rate of convergence as a fit reports it: ``parameter_rate`` tends to ``lambda``, the
largest eigenvalue of EM's map's Jacobian ``I_c^-1 (I_c - I_obs)`` (the largest fraction of
missing information), and ``rate``, the log-likelihood's Aitken ratio, to ``lambda^2``."""

import numpy as np
import pytest

import fastem
from fastem import reference

POPULATION_LAMBDA = {3.0: 0.932147, 4.0: 0.724909, 5.0: 0.424067}
"""``lambda`` of the mixture 0.5 N(0, 1) + 0.5 N(d, 1) by separation ``d``, computed two
ways that agree to all six digits: the largest eigenvalue of ``I_c^-1 (I_c - I_obs)``,
with ``I_obs`` the expected outer product of the score, by quadrature on 400,001 points
of [-12, d + 12]; and the largest eigenvalue of the Jacobian of the population EM map
(``reference.m_step`` of ``reference.e_step`` with the true density times the grid step
as ``sample_weight``), by central differences (h = 1e-5) at the true parameters, which
are its fixed point. (For d = 2, 0.994908.)"""


def two_components(separation, n, seed):
    rng = np.random.default_rng(seed)
    return np.where(rng.random(n) < 0.5, rng.normal(0.0, 1.0, n), rng.normal(separation, 1.0, n))


def start(separation):
    return dict(weights_init=[0.5, 0.5], means_init=[0.0, separation], variances_init=[1.0, 1.0])


def em_map(theta, x):
    """The reference EM map on ``theta = (w_1, mu_1, mu_2, var_1, var_2)``."""
    weights, means, variances = np.array([theta[0], 1.0 - theta[0]]), theta[1:3], theta[3:]
    w, m, v = reference.m_step(x, reference.e_step(x, weights, means, variances))
    return np.array([w[0], *m, *v])


def lambda_of(x, result):
    """The largest eigenvalue of the Jacobian of the reference EM map at the fit, by
    central differences: ``lambda`` of this sample, computed without the kernel."""
    theta = np.array([result.weights[0], *result.means, *result.variances])
    h = 1e-5
    jacobian = np.column_stack(
        [
            (em_map(theta + h * e, x) - em_map(theta - h * e, x)) / (2 * h)
            for e in np.eye(theta.size)
        ]
    )
    return float(np.max(np.abs(np.linalg.eigvals(jacobian))))


@pytest.mark.parametrize("separation", [2.0, 3.0, 4.0, 5.0])
def test_parameter_rate_is_ems_rate_and_rate_is_its_square(separation):
    x = two_components(separation, 20_000, seed=int(separation))
    # The log-likelihood's differences must stay above its rounding for rate to be
    # resolved: the loglik rule stops there; the parameter rule runs on to smaller steps.
    by_loglik = fastem.fit(
        x, 2, algorithm="em", stop="loglik", tol=1e-11, max_iter=100_000, **start(separation)
    )
    by_steps = fastem.fit(
        x, 2, algorithm="em", stop="parameter", tol=1e-10, max_iter=100_000, **start(separation)
    )
    assert by_loglik.converged and by_steps.converged
    lam = lambda_of(x, by_steps)
    assert by_steps.parameter_rate == pytest.approx(lam, abs=2e-4)
    assert by_loglik.parameter_rate == pytest.approx(lam, abs=2e-4)
    assert by_loglik.rate == pytest.approx(lam**2, abs=1e-3)
    # rate is not lambda: at a separation of 2, 0.9898 against 0.9949.
    assert abs(by_loglik.rate - lam) > 4e-3


@pytest.mark.parametrize("separation", sorted(POPULATION_LAMBDA))
def test_rates_of_a_large_sample_match_the_population_lambda(separation):
    lam = POPULATION_LAMBDA[separation]
    x = two_components(separation, 200_000, seed=10 + int(separation))
    result = fastem.fit(
        x, 2, algorithm="em", stop="loglik", tol=1e-11, max_iter=100_000, **start(separation)
    )
    assert result.parameter_rate == pytest.approx(lam, abs=0.01)
    assert result.rate == pytest.approx(lam**2, abs=0.01)
