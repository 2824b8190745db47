"""W2: many restarts of one dataset. 100,000 points, K=3, 1,000 restarts, 10 iterations
each, fixed work, from random starts drawn once."""

from __future__ import annotations

import numpy as np
import pytest

import fastem
from conftest import SIZE, Workload, record, sklearn_fits, warm_up
from fastem import reference

GROUP = "W2 restarts: one dataset of 100,000 points, K=3"


@pytest.fixture(scope="module")
def workload() -> Workload:
    x, _ = fastem.simulate(
        [0.3, 0.4, 0.3], [-4.0, 0.0, 5.0], [1.0, 2.0, 1.5], SIZE["w2_points"], random_state=1
    )
    starts = fastem.starting_values(
        x, 3, init="random_from_data", n_init=SIZE["w2_restarts"], random_state=2
    )
    warm_up()
    return Workload(
        x[None], SIZE["w2_iter"], starts.weights[None], starts.means[None], starts.variances[None]
    )


def test_fastem(benchmark, workload):
    record(benchmark, GROUP, workload.work())
    benchmark.pedantic(workload.fit_fastem, rounds=max(1, SIZE["rounds"] // 2), warmup_rounds=1)


def test_numpy_reference(benchmark, workload):
    n = SIZE["w2_reference"]
    record(benchmark, GROUP, workload.work(n_restarts=n))
    rows = np.broadcast_to(workload.data, (n, workload.data.shape[1]))
    result = benchmark.pedantic(
        reference.fit_batch,
        args=(rows, workload.weights[0, :n], workload.means[0, :n], workload.variances[0, :n]),
        kwargs=dict(max_iter=workload.n_iter, tol=0, reg_variance=1e-6),
        rounds=1,
    )
    assert (result.n_iter == workload.n_iter).all()


def test_sklearn(benchmark, workload):
    n = SIZE["w2_sklearn"]
    record(benchmark, GROUP, workload.work(n_restarts=n))
    n_iter = benchmark.pedantic(
        sklearn_fits,
        args=(
            workload.data,
            workload.weights[:, :n],
            workload.means[:, :n],
            workload.variances[:, :n],
            workload.n_iter,
            0,
        ),
        rounds=1,
    )
    assert (n_iter == workload.n_iter).all()
