"""W3: a ragged Monte Carlo batch. 100,000 datasets of 20 to 200 points, K=2, each run to
convergence with the default tol from the same k-means++ starts. Counted in datasets
per second."""

from __future__ import annotations

import numpy as np
import pytest

import fastem
from conftest import SEED_MIXTURE, SIZE, record, sklearn_fits, warm_up
from fastem import reference
from fastem.api import DEFAULT_MAX_ITER, DEFAULT_TOL
from fastem.engine.methods import ACCELERATORS, CODES

GROUP = "W3 ragged: 20 to 200 points per dataset, K=2, to convergence"
UNIT = dict(unit="datasets / s", scale=1.0)


@pytest.fixture(scope="module")
def workload():
    sizes = np.random.default_rng(3).integers(20, 201, SIZE["w3_datasets"])
    data, _ = fastem.simulate(*SEED_MIXTURE, sizes, sizes.size, random_state=3)
    starts = fastem.starting_values(data, 2, random_state=4)
    warm_up()
    return data, starts


def _fastem(data, starts, algorithm="em"):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fastem.DegenerateFitWarning)
        warnings.simplefilter("ignore", fastem.ConvergenceWarning)
        return fastem.fit(
            data,
            2,
            weights_init=starts.weights,
            means_init=starts.means,
            variances_init=starts.variances,
            algorithm=algorithm,
            stop="loglik",
        )


def test_fastem(benchmark, workload):
    data, starts = workload
    record(benchmark, GROUP, len(data), **UNIT)
    result = benchmark.pedantic(
        _fastem, args=(data, starts), rounds=SIZE["rounds"], warmup_rounds=1
    )
    benchmark.extra_info["median_iterations"] = float(np.median(result.n_iter))


def test_numpy_reference(benchmark, workload):
    data, starts = workload
    n = SIZE["w3_reference"]
    record(benchmark, GROUP, n, **UNIT)

    def fit_each():
        return [
            reference.fit(
                data[d],
                starts.weights[d, 0],
                starts.means[d, 0],
                starts.variances[d, 0],
                max_iter=DEFAULT_MAX_ITER,
                tol=DEFAULT_TOL,
                reg_variance=1e-6,
            )
            for d in range(n)
        ]

    benchmark.pedantic(fit_each, rounds=1)


def test_sklearn(benchmark, workload):
    data, starts = workload
    n = SIZE["w3_sklearn"]
    record(benchmark, GROUP, n, **UNIT)
    benchmark.pedantic(
        sklearn_fits,
        args=(
            data[:n],
            starts.weights[:n],
            starts.means[:n],
            starts.variances[:n],
            DEFAULT_MAX_ITER,
            DEFAULT_TOL,
        ),
        rounds=1,
    )


@pytest.mark.parametrize(
    "algorithm", [name for name, code in CODES.items() if code in ACCELERATORS]
)
def test_fastem_accelerated(benchmark, workload, algorithm):
    """The same fits by each accelerator (same starts, same stopping rule and tol):
    fastem's EM row divided by one of these is EM's time over that accelerator's."""
    data, starts = workload
    record(benchmark, GROUP, len(data), **UNIT)
    result = benchmark.pedantic(
        _fastem, args=(data, starts, algorithm), rounds=SIZE["rounds"], warmup_rounds=1
    )
    benchmark.extra_info["median_passes"] = float(np.median(result.n_fpeval))
