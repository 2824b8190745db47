"""W1: many small datasets. 2,000 datasets x 1,000 points, K=2, 100 iterations, fixed work.

fastem with all threads and with one (thread scaling), fastem with its E-step in float32
(``dtype=np.float32``, its accuracy against float64 in the summary), a plain fused numba
kernel (:mod:`plain_kernel`: libm exp, one loop) on all datasets, the batched NumPy
reference on a subset, scikit-learn one dataset at a time on a subset.
"""

from __future__ import annotations

import numba
import numpy as np
import pytest

import fastem
from conftest import SEED_MIXTURE, SIZE, Workload, note, record, sklearn_fits, warm_up
from fastem import reference
from plain_kernel import exp_rate_work, fit_plain

GROUP = "W1 many datasets: 1,000 points each, K=2"


@pytest.fixture(scope="module")
def workload() -> Workload:
    data, _ = fastem.simulate(*SEED_MIXTURE, SIZE["w1_points"], SIZE["w1_datasets"], 0)
    shape = (data.shape[0], 1, 2)
    warm_up()
    return Workload(
        data,
        SIZE["w1_iter"],
        np.broadcast_to([0.5, 0.5], shape),
        np.broadcast_to([-1.0, 1.0], shape),
        np.broadcast_to([1.0, 1.0], shape),
    )


def test_fastem(benchmark, workload):
    record(benchmark, GROUP, workload.work())
    benchmark.pedantic(workload.fit_fastem, rounds=SIZE["rounds"], warmup_rounds=1)


def test_fastem_one_thread(benchmark, workload):
    record(benchmark, GROUP, workload.work())
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        benchmark.pedantic(workload.fit_fastem, rounds=max(1, SIZE["rounds"] // 2))
    finally:
        numba.set_num_threads(threads)


def test_fastem_float32(benchmark, workload):
    record(benchmark, GROUP, workload.work())
    workload.fit_fastem(np.float32)  # compile (or load) first
    single = benchmark.pedantic(workload.fit_fastem, args=(np.float32,), rounds=SIZE["rounds"])
    double = workload.fit_fastem()
    differences = {
        name: np.abs(getattr(single, name) / getattr(double, name) - 1.0).max()
        for name in ("means", "variances", "weights", "log_likelihood")
    }
    note(
        "W1 float32 against float64, largest relative difference over the datasets after "
        f"{workload.n_iter} iterations: "
        + ", ".join(f"{name} {value:.1e}" for name, value in differences.items())
    )
    assert max(differences.values()) < 1e-5


def test_plain_fused_kernel(benchmark, workload):
    record(benchmark, GROUP, workload.work())
    starts = [
        np.ascontiguousarray(a[:, 0])
        for a in (workload.weights, workload.means, workload.variances)
    ]
    log_likelihood = np.empty(workload.data.shape[0])

    def run():
        params = [a.copy() for a in starts]
        fit_plain(workload.data, *params, workload.n_iter, log_likelihood)
        return params

    run()  # compile (or load) first
    params = benchmark.pedantic(run, rounds=SIZE["rounds"])
    # The same fits as fastem's (to the rounding of a different order of sums).
    expected = workload.fit_fastem()
    np.testing.assert_allclose(params[1], expected.means, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(params[2], expected.variances, rtol=1e-6)


def test_numpy_reference(benchmark, workload):
    n = SIZE["w1_reference"]
    record(benchmark, GROUP, workload.work(n))
    result = benchmark.pedantic(
        reference.fit_batch,
        args=(
            workload.data[:n],
            workload.weights[:n, 0],
            workload.means[:n, 0],
            workload.variances[:n, 0],
        ),
        kwargs=dict(max_iter=workload.n_iter, tol=0, reg_variance=1e-6),
        rounds=max(1, SIZE["rounds"] // 2),
    )
    assert (result.n_iter == workload.n_iter).all()


def test_sklearn(benchmark, workload):
    n = SIZE["w1_sklearn"]
    record(benchmark, GROUP, workload.work(n))
    n_iter = benchmark.pedantic(
        sklearn_fits,
        args=(
            workload.data[:n],
            workload.weights[:n],
            workload.means[:n],
            workload.variances[:n],
            workload.n_iter,
            0,
        ),
        rounds=max(1, SIZE["rounds"] // 2),
    )
    assert (n_iter == workload.n_iter).all()


def test_measured_limit_of_the_vector_exp(benchmark):
    """The kernel's exp alone, on all threads: the work W1 cannot go below. With K=2 the
    E-step takes one exp per point (``e = exp(-|log p_1 - log p_0|)`` gives both
    responsibilities), so each exp counts as two points x components of W1's work; the
    per-block log, the densities' arithmetic and the M-step's sums come on top of it."""
    n_blocks, block, repeats = 2000, 256, max(1, SIZE["w1_iter"] // 2)
    record(benchmark, GROUP, 2.0 * n_blocks * block * repeats)
    exp_rate_work(4, block, 1)  # compile (or load) first
    benchmark.pedantic(exp_rate_work, args=(n_blocks, block, repeats), rounds=SIZE["rounds"])
