"""The kernels besides EM's, each against a NumPy (or scikit-learn) baseline in the same run:
drawing datasets (:func:`fastem.simulate`), starting values (k-means++ and the quantile
blocks), and the fitted mixtures' posteriors (:meth:`FitResult.predict_proba`).
Rates are in points per second (points x components for the posteriors).
"""

from __future__ import annotations

import numpy as np
import pytest

import fastem
from conftest import SEED_MIXTURE, SIZE, record, warm_up

FULL = SIZE["rounds"] > 1
N_DATASETS, N_POINTS = (2000, 1000) if FULL else (10, 50)
N_BASELINE = 100 if FULL else 2


@pytest.fixture(scope="module")
def data():
    warm_up()
    values, _ = fastem.simulate(*SEED_MIXTURE, N_POINTS, N_DATASETS, random_state=0)
    fastem.starting_values(values[:2], 2, n_init=2, init="quantile")
    return values


def _numpy_simulate(n_datasets, rng):
    """The same draws in NumPy: a label per point, then a normal around its component."""
    weights, means, variances = (np.asarray(a) for a in SEED_MIXTURE)
    labels = rng.choice(weights.size, size=(n_datasets, N_POINTS), p=weights)
    return rng.normal(means[labels], np.sqrt(variances)[labels])


class TestSimulate:
    GROUP = "simulate: datasets of 1,000 points from the seed mixture, points / s"

    def test_fastem(self, benchmark):
        record(benchmark, self.GROUP, float(N_DATASETS) * N_POINTS, unit="M points / s")
        benchmark.pedantic(
            fastem.simulate,
            args=(*SEED_MIXTURE, N_POINTS, N_DATASETS),
            kwargs=dict(random_state=1),
            rounds=SIZE["rounds"],
        )

    def test_numpy(self, benchmark):
        record(benchmark, self.GROUP, float(N_DATASETS) * N_POINTS, unit="M points / s")
        rng = np.random.default_rng(1)
        benchmark.pedantic(_numpy_simulate, args=(N_DATASETS, rng), rounds=SIZE["rounds"])


class TestStartingValues:
    GROUP = "starting values: k-means++, 5 restarts per dataset, K=2, points x restarts / s"

    def test_fastem(self, benchmark, data):
        record(benchmark, self.GROUP, float(N_DATASETS) * N_POINTS * 5, unit="M points / s")
        benchmark.pedantic(
            fastem.starting_values,
            args=(data, 2),
            kwargs=dict(n_init=5, random_state=1),
            rounds=SIZE["rounds"],
        )

    def test_sklearn_kmeans_plusplus(self, benchmark, data):
        cluster = pytest.importorskip("sklearn.cluster")
        record(benchmark, self.GROUP, float(N_BASELINE) * N_POINTS * 5, unit="M points / s")

        def looped():
            for x in data[:N_BASELINE]:
                for seed in range(5):
                    cluster.kmeans_plusplus(x[:, None], 2, random_state=seed)

        benchmark.pedantic(looped, rounds=SIZE["rounds"])


class TestQuantileStarts:
    GROUP = "starting values: quantile blocks, K=3, points / s"

    def test_fastem(self, benchmark, data):
        record(benchmark, self.GROUP, float(N_DATASETS) * N_POINTS, unit="M points / s")
        benchmark.pedantic(
            fastem.starting_values,
            args=(data, 3),
            kwargs=dict(init="quantile"),
            rounds=SIZE["rounds"],
        )

    def test_numpy_sort(self, benchmark, data):
        """Sorting every dataset and cutting it into blocks: what the bisection replaces."""
        record(benchmark, self.GROUP, float(N_DATASETS) * N_POINTS, unit="M points / s")

        def blocks():
            ordered = np.sort(data, axis=1)
            parts = np.array_split(ordered, 3, axis=1)
            return [(p.mean(axis=1), p.var(axis=1)) for p in parts]

        benchmark.pedantic(blocks, rounds=SIZE["rounds"])


@pytest.fixture(scope="module")
def fitted(data):
    return fastem.fit(data, 2, random_state=0, warn=False)


class TestPosteriors:
    GROUP = "posteriors of fitted mixtures (predict_proba), K=2, points x K / s"

    def test_fastem(self, benchmark, data, fitted):
        record(benchmark, self.GROUP, float(N_DATASETS) * N_POINTS * 2, unit="M points x K / s")
        benchmark.pedantic(fitted.predict_proba, args=(data,), rounds=SIZE["rounds"])

    def test_numpy(self, benchmark, data, fitted):
        record(benchmark, self.GROUP, float(N_DATASETS) * N_POINTS * 2, unit="M points x K / s")

        def posteriors():
            sd = np.sqrt(fitted.variances)[:, None, :]
            z = (data[:, :, None] - fitted.means[:, None, :]) / sd
            log_joint = np.log(fitted.weights)[:, None, :] - np.log(sd) - 0.5 * z * z
            top = log_joint.max(axis=2, keepdims=True)
            joint = np.exp(log_joint - top)
            return joint / joint.sum(axis=2, keepdims=True)

        result = benchmark.pedantic(posteriors, rounds=SIZE["rounds"])
        np.testing.assert_allclose(result, fitted.predict_proba(data), rtol=1e-9, atol=1e-300)
