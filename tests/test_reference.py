"""The NumPy reference against the worked example and against itself, batched."""

import numpy as np
import pytest

from conftest import (
    WORKED_MEAN_1,
    WORKED_MEAN_2,
    WORKED_POSTERIOR_1,
    WORKED_START,
    WORKED_VARIANCE_1,
    WORKED_VARIANCE_2,
    WORKED_WEIGHT_1,
    WORKED_X,
    separated_mixture,
)
from fastem import reference


def _start_args():
    return (
        WORKED_START["weights_init"],
        WORKED_START["means_init"],
        WORKED_START["variances_init"],
    )


@pytest.mark.plain_python
def test_worked_example_e_step():
    resp = reference.e_step(WORKED_X, *_start_args())
    np.testing.assert_allclose(resp[:, 0], WORKED_POSTERIOR_1, atol=5e-9)
    np.testing.assert_allclose(resp.sum(axis=1), 1.0, rtol=1e-15)


@pytest.mark.plain_python
def test_worked_example_m_step():
    resp = reference.e_step(WORKED_X, *_start_args())
    weights, means, variances = reference.m_step(WORKED_X, resp)
    np.testing.assert_allclose(weights, [WORKED_WEIGHT_1, 1 - WORKED_WEIGHT_1], rtol=1e-14)
    np.testing.assert_allclose(means, [WORKED_MEAN_1, WORKED_MEAN_2], rtol=1e-14)
    np.testing.assert_allclose(variances, [WORKED_VARIANCE_1, WORKED_VARIANCE_2], rtol=1e-12)


def test_log_likelihood_matches_scipy():
    from scipy.stats import norm

    weights, means, variances = _start_args()
    density = sum(
        w * norm.pdf(WORKED_X, m, np.sqrt(v)) for w, m, v in zip(weights, means, variances)
    )
    expected = np.log(density).sum()
    assert reference.log_likelihood(WORKED_X, weights, means, variances) == pytest.approx(
        expected, rel=1e-14
    )


def test_equal_variance_m_step_pools_the_variances():
    resp = reference.e_step(WORKED_X, *_start_args())
    _, _, free = reference.m_step(WORKED_X, resp)
    weights, _, tied = reference.m_step(WORKED_X, resp, equal_variance=True)
    assert tied[0] == tied[1]
    assert tied[0] == pytest.approx((weights * free).sum(), rel=1e-14)


def test_fit_log_likelihood_never_decreases():
    x, start = separated_mixture(3, 500, seed=3)
    result = reference.fit(x, **start, max_iter=100, tol=0)
    assert result.n_iter == 100
    assert np.all(np.diff(result.trace) >= -1e-9 * np.abs(result.trace[1:]))


@pytest.mark.parametrize("equal_variance", [False, True])
def test_batched_reference_equals_single_fits(equal_variance):
    rows, starts = zip(*(separated_mixture(2, 300, seed=s) for s in range(5)))
    x = np.array(rows)
    stacked = {key: np.array([s[key] for s in starts]) for key in starts[0]}
    if equal_variance:
        stacked["variances_init"][:] = stacked["variances_init"].mean(axis=1, keepdims=True)
    batch = reference.fit_batch(
        x,
        stacked["weights_init"],
        stacked["means_init"],
        stacked["variances_init"],
        max_iter=500,
        tol=1e-9,
        reg_variance=1e-6,
        equal_variance=equal_variance,
    )
    for d in range(x.shape[0]):
        single = reference.fit(
            x[d],
            stacked["weights_init"][d],
            stacked["means_init"][d],
            stacked["variances_init"][d],
            max_iter=500,
            tol=1e-9,
            reg_variance=1e-6,
            equal_variance=equal_variance,
        )
        assert batch.n_iter[d] == single.n_iter
        assert batch.converged[d] == single.converged
        np.testing.assert_allclose(batch.means[d], single.means, rtol=1e-12)
        np.testing.assert_allclose(batch.variances[d], single.variances, rtol=1e-12)
        np.testing.assert_allclose(batch.weights[d], single.weights, rtol=1e-12)
        assert batch.log_likelihood[d] == pytest.approx(single.log_likelihood, rel=1e-12)
