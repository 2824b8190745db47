"""fastem.GaussianMixture against scikit-learn's GaussianMixture, both with n_init=50 and
their defaults otherwise (k-means starts, tol=1e-3, max_iter=100): 5,000 points, K=3."""

from __future__ import annotations

import pytest

import fastem
from conftest import SIZE_NAME, record, warm_up

GROUP = "estimator: 5,000 points, K=3, n_init=50"
UNIT = dict(unit="fits (of 50 restarts) / s", scale=1.0)


@pytest.fixture(scope="module")
def x():
    n = 5000 if SIZE_NAME == "full" else 200
    data, _ = fastem.simulate([0.3, 0.5, 0.2], [-4.0, 0.0, 5.0], [1.0, 2.0, 0.5], n, random_state=0)
    warm_up()
    return data[:, None]


def test_fastem(benchmark, x):
    record(benchmark, GROUP, 1, **UNIT)
    model = fastem.GaussianMixture(3, n_init=50, random_state=0)
    benchmark.pedantic(model.fit, args=(x,), rounds=3, warmup_rounds=1)


def test_sklearn(benchmark, x):
    from sklearn.mixture import GaussianMixture

    record(benchmark, GROUP, 1, **UNIT)
    model = GaussianMixture(3, n_init=50, random_state=0)
    benchmark.pedantic(model.fit, args=(x,), rounds=3)
