"""Fixed-work EM on many small datasets: fastem, the batched NumPy reference, scikit-learn.

Run with ``make bench`` (or ``python -m pytest bench --benchmark-only``).
"""

from __future__ import annotations

import warnings

import numpy as np

import fastem
from conftest import SIZE, SIZES, record
from fastem import reference


def test_fastem(benchmark, many_small_datasets):
    w = many_small_datasets
    weights, means, variances = w.starts()
    benchmark.group = "W1 many small datasets, K=2"
    record(benchmark, w)
    result = benchmark.pedantic(
        fastem.fit,
        args=(w.data, w.n_components),
        kwargs=dict(
            weights_init=weights, means_init=means, variances_init=variances,
            max_iter=w.n_iter, tol=0,
        ),
        rounds=5,
        warmup_rounds=1,
    )
    assert (result.n_iter == w.n_iter).all()


def test_numpy_reference_batched(benchmark, many_small_datasets):
    w = many_small_datasets
    n = SIZES[SIZE]["reference"]
    weights, means, variances = w.starts(n)
    benchmark.group = "W1 many small datasets, K=2"
    record(benchmark, w, n)
    result = benchmark.pedantic(
        reference.fit_batch,
        args=(w.data[:n], weights, means, variances),
        kwargs=dict(max_iter=w.n_iter, tol=0, reg_variance=1e-6),
        rounds=3,
    )
    assert (result.n_iter == w.n_iter).all()


def test_sklearn_one_by_one(benchmark, many_small_datasets):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture

    w = many_small_datasets
    n = SIZES[SIZE]["sklearn"]
    weights, means, variances = w.starts(n)

    def fit_each():
        n_iter = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            for d in range(n):
                x = w.data[d]
                model = GaussianMixture(
                    w.n_components, weights_init=weights[d], means_init=means[d][:, None],
                    precisions_init=1.0 / variances[d][:, None, None],
                    reg_covar=1e-6 * x.var(), max_iter=w.n_iter, tol=0,
                ).fit(x[:, None])
                n_iter.append(model.n_iter_)
        return np.array(n_iter)

    benchmark.group = "W1 many small datasets, K=2"
    record(benchmark, w, n)
    n_iter = benchmark.pedantic(fit_each, rounds=3)
    assert (n_iter == w.n_iter).all()
