"""Standard errors of many fits: the information pass of ``fit(..., se="louis")`` over
10,000 datasets of 500 points, K=2, at parameters fitted once, against the same
computation in plain NumPy (batched over datasets and points) on a subset.

Both compute Louis's information matrix over all parameters, project it onto the free
ones, invert it and take the standard errors; the NumPy baseline's results are checked
against fastem's. fastem's pass computes the score information too, at no extra cost, so
``se="score"`` takes the same time. Throughput is points x components per second (one
pass over the data).
"""

from __future__ import annotations

import numba
import numpy as np
import pytest
from scipy.special import logsumexp

import fastem
from conftest import SEED_MIXTURE, SIZE_NAME, record, warm_up
from fastem import checks as _validate
from fastem.engine import information as _information

SIZES = {
    "full": dict(datasets=10_000, points=500, numpy=500, rounds=5),
    "smoke": dict(datasets=6, points=50, numpy=3, rounds=1),
}[SIZE_NAME]
K = 2
GROUP = f"Standard errors (louis): {SIZES['points']:,} points each, K={K}"


@pytest.fixture(scope="module")
def workload():
    data, _ = fastem.simulate(*SEED_MIXTURE, SIZES["points"], SIZES["datasets"], 0)
    warm_up()
    result = fastem.fit(data, K, random_state=0, warn=False)
    batch = _validate.prepared_batch(data, None, K)
    fixed = tuple(np.zeros((batch.n_datasets, K), dtype=bool) for _ in range(3))
    usable = np.isfinite(result.log_likelihood)

    def fastem_se():
        return _information.standard_errors(
            batch,
            "louis",
            result.weights,
            result.means,
            result.variances,
            fixed,
            False,
            usable,
        )

    fastem_se()  # compile, or load from numba's cache
    return data, result, fastem_se


def numpy_standard_errors(x, weights, means, variances):
    """Standard errors of every weight, mean and variance, arrays of shape (n_datasets, K),
    for unconstrained fits: the same information as fastem's, written in NumPy."""
    x = x[:, :, np.newaxis]
    w, mu, v = (a[:, np.newaxis, :] for a in (weights, means, variances))
    t = x - mu
    log_joint = np.log(w) - 0.5 * np.log(2 * np.pi * v) - 0.5 * t * t / v
    r = np.exp(log_joint - logsumexp(log_joint, axis=2, keepdims=True))
    g_w, g_m = 1.0 / w, t / v
    g_v = 0.5 * (t * t / v - 1.0) / v
    scores = np.concatenate([r * g_w, r * g_m, r * g_v], axis=2)
    information = np.einsum("dni,dnj->dij", scores, scores)
    # plus sum_k r_k (-H_k - g_k g_k^T), component k's 3x3 block
    k = weights.shape[1]
    blocks = {
        (0, 1): -g_w * g_m,
        (0, 2): -g_w * g_v,
        (1, 1): 1.0 / v - g_m * g_m,
        (1, 2): t / v**2 - g_m * g_v,
        (2, 2): t * t / v**3 - 0.5 / v**2 - g_v * g_v,
    }
    for (a, b), entry in blocks.items():
        block = (r * entry).sum(axis=1)
        for j in range(k):
            information[:, a * k + j, b * k + j] += block[:, j]
            if a != b:
                information[:, b * k + j, a * k + j] += block[:, j]
    # full = A free + c: weights 1..K-1 free, the last one 1 minus them.
    projection = np.zeros((3 * k, 3 * k - 1))
    projection[: k - 1, : k - 1] = np.eye(k - 1)
    projection[k - 1, : k - 1] = -1.0
    projection[k:, k - 1 :] = np.eye(2 * k)
    covariance = np.linalg.inv(projection.T @ information @ projection)
    full = np.einsum("ap,dpq,aq->da", projection, covariance, projection)
    with np.errstate(invalid="ignore"):  # a fit whose information is not positive definite
        return np.split(np.sqrt(full), 3, axis=1)


def test_fastem(benchmark, workload):
    data, _, fastem_se = workload
    record(benchmark, GROUP, float(data.size * K), unit="M points x K / s")
    benchmark.pedantic(fastem_se, rounds=SIZES["rounds"], warmup_rounds=1)


def test_fastem_one_thread(benchmark, workload):
    data, _, fastem_se = workload
    record(benchmark, GROUP, float(data.size * K), unit="M points x K / s")
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        benchmark.pedantic(fastem_se, rounds=max(1, SIZES["rounds"] // 2))
    finally:
        numba.set_num_threads(threads)


def test_numpy(benchmark, workload):
    data, result, fastem_se = workload
    n = SIZES["numpy"]
    record(benchmark, GROUP, float(n * data.shape[1] * K), unit="M points x K / s")
    weights, means, variances = benchmark.pedantic(
        numpy_standard_errors,
        args=(data[:n], result.weights[:n], result.means[:n], result.variances[:n]),
        rounds=max(1, SIZES["rounds"] // 2),
    )
    expected = fastem_se()
    regular = ~expected.failed[:n]  # fastem's NaN: singular or not positive definite
    assert regular.mean() > 0.9
    for got, want in (
        (weights, expected.weights),
        (means, expected.means),
        (variances, expected.variances),
    ):
        np.testing.assert_allclose(got[regular], want[:n][regular], rtol=1e-6)
