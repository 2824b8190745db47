"""Small calls: one 100-point dataset per call of ``fastem.fit``, what a loop over datasets
or a cross-validation of the estimator pays, against the same datasets in one batched call
and against scikit-learn's GaussianMixture, one fit per call.

Every fit is K=2 EM (``algorithm="em"``, as scikit-learn's) for exactly 20 iterations
(``tol=0, max_iter=20``) from given starting values, the same for all three, so each does
the same arithmetic and the difference between a call per dataset and one call for all is
what a call costs beyond its kernel. The summary prints that per-call overhead in
microseconds: the median time of a call minus the batched call's median time per dataset.

Run: ``FASTEM_BENCH_SIZE=full python -m pytest bench/test_small_calls.py --benchmark-only``
(the numbers in the documentation's "Small calls" table come from this command).
"""

from __future__ import annotations

import numba
import numpy as np
import pytest

import fastem
from conftest import SIZE, note, record, sklearn_fits, warm_up

N_POINTS = 100
N_ITER = 20
GROUP = f"small calls: one {N_POINTS}-point dataset per call, K=2, {N_ITER} EM iterations"
UNIT = dict(unit="datasets / s", scale=1.0)
MEDIANS: dict[str, float] = {}
"""Each test's median time per dataset (seconds), for the per-call overhead in the summary."""


class Datasets:
    """``n`` datasets of 100 points (rows of ``data``) and one start for each (shape (n, K))."""

    def __init__(self, n: int):
        self.data, _ = fastem.simulate(
            [0.4, 0.6], [-1.5, 1.5], [1.0, 1.0], N_POINTS, n_datasets=n, random_state=0
        )
        self.weights = np.full((n, 2), 0.5)
        self.means = np.quantile(self.data, [0.25, 0.75], axis=1).T.copy()
        self.variances = np.repeat(self.data.var(axis=1)[:, None], 2, axis=1)

    def fit_each(self, n: int | None = None) -> None:
        """One call of ``fastem.fit`` per dataset (the first ``n``)."""
        for d in range(self.data.shape[0] if n is None else n):
            fastem.fit(
                self.data[d],
                2,
                weights_init=self.weights[d],
                means_init=self.means[d],
                variances_init=self.variances[d],
                **OPTIONS,
            )

    def fit_batched(self) -> None:
        fastem.fit(
            self.data,
            2,
            weights_init=self.weights,
            means_init=self.means,
            variances_init=self.variances,
            **OPTIONS,
        )


OPTIONS = dict(algorithm="em", tol=0, max_iter=N_ITER, warn=False)


@pytest.fixture(scope="module")
def datasets():
    warm_up()
    before = numba.get_num_threads()
    numba.set_num_threads(1)  # a call of one dataset runs on one thread anyway
    sets = Datasets(SIZE["small_calls"])
    sets.fit_each(3)  # the fits' kernels compiled or loaded
    sets.fit_batched()
    try:
        yield sets
    finally:
        numba.set_num_threads(before)
        _note_overheads()


def _timed(benchmark, name: str, n: int) -> None:
    """Keep ``benchmark``'s median time per dataset (none with --benchmark-disable)."""
    if benchmark.stats is not None:
        MEDIANS[name] = benchmark.stats.stats.median / n


def _note_overheads() -> None:
    """The summary's lines: the cost of a call beyond the batched fit of its dataset."""
    if "batched" not in MEDIANS:
        return
    batched = MEDIANS["batched"]
    for name in ("fit_per_call", "estimator_per_call", "sklearn_per_call"):
        if name in MEDIANS:
            per_call = MEDIANS[name]
            note(
                f"  [small calls] {name}: {per_call * 1e6:9.1f} us per call, overhead "
                f"{(per_call - batched) * 1e6:9.1f} us beyond the batched "
                f"{batched * 1e6:.1f} us per dataset ({per_call / batched:.1f}x)"
            )


def test_fastem(benchmark, datasets):
    """The same datasets in one call: the baseline of the per-call overhead."""
    n = datasets.data.shape[0]
    record(benchmark, GROUP, n, **UNIT)
    benchmark.pedantic(datasets.fit_batched, rounds=SIZE["rounds"], warmup_rounds=1)
    _timed(benchmark, "batched", n)


def test_fit_per_call(benchmark, datasets):
    n = datasets.data.shape[0]
    record(benchmark, GROUP, n, **UNIT)
    benchmark.pedantic(datasets.fit_each, rounds=SIZE["rounds"])
    _timed(benchmark, "fit_per_call", n)


def test_estimator_per_call(benchmark, datasets):
    """``fastem.GaussianMixture(...).fit`` per dataset, from the same starts."""
    n = SIZE["small_estimator"]

    def fit_each():
        for d in range(n):
            fastem.GaussianMixture(
                2,
                tol=0,
                max_iter=N_ITER,
                weights_init=datasets.weights[d],
                means_init=datasets.means[d][:, None],
                precisions_init=1.0 / datasets.variances[d][:, None, None],
            ).fit(datasets.data[d][:, None])

    fit_each()  # compiled or loaded
    record(benchmark, GROUP, n, **UNIT)
    benchmark.pedantic(fit_each, rounds=SIZE["rounds"])
    _timed(benchmark, "estimator_per_call", n)


def test_sklearn_per_call(benchmark, datasets):
    n = SIZE["small_sklearn"]
    starts = (datasets.weights[:n, None], datasets.means[:n, None], datasets.variances[:n, None])
    record(benchmark, GROUP, n, **UNIT)
    benchmark.pedantic(
        sklearn_fits, args=(datasets.data[:n], *starts, N_ITER, 0.0), rounds=SIZE["rounds"]
    )
    _timed(benchmark, "sklearn_per_call", n)
