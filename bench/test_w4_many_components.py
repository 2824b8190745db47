"""W4: more components. K=8 on W1's data (2,000 datasets x 1,000 points), 100
iterations, fixed work."""

from __future__ import annotations

import numpy as np
import pytest

import fastem
from conftest import SEED_MIXTURE, SIZE, Workload, record, sklearn_fits, warm_up
from fastem import reference

GROUP = "W4 K=8 on 1,000-point datasets"


@pytest.fixture(scope="module")
def workload() -> Workload:
    data, _ = fastem.simulate(*SEED_MIXTURE, SIZE["w1_points"], SIZE["w4_datasets"], 0)
    shape = (data.shape[0], 1, 8)
    warm_up()
    return Workload(
        data,
        SIZE["w1_iter"],
        np.broadcast_to(np.full(8, 1 / 8), shape),
        np.broadcast_to(np.linspace(-7.0, 8.0, 8), shape),
        np.broadcast_to(np.full(8, 2.0), shape),
    )


def test_fastem(benchmark, workload):
    record(benchmark, GROUP, workload.work())
    benchmark.pedantic(workload.fit_fastem, rounds=max(1, SIZE["rounds"] // 2), warmup_rounds=1)


def test_numpy_reference(benchmark, workload):
    n = SIZE["w4_reference"]
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
        rounds=1,
    )
    assert (result.n_iter == workload.n_iter).all()


def test_sklearn(benchmark, workload):
    n = SIZE["w4_sklearn"]
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
        rounds=1,
    )
    assert (n_iter == workload.n_iter).all()
