"""EM for binned data (:class:`fastem.Intervals`): datasets of 1,000 points from the seed
mixture in 35 bins, a fixed number of iterations from the same starts, against the NumPy
reference of :mod:`fastem.reference` (``interval_fit``) and against EM on the 1,000 points
themselves (what the bins replace), in the same run. Rates are intervals (or points) x
components x iterations per second.
"""

from __future__ import annotations

import numpy as np
import pytest

import fastem
from conftest import SEED_MIXTURE, SIZE, record, warm_up
from fastem import reference

FULL = SIZE["rounds"] > 1
N_DATASETS, N_POINTS, N_ITER = (2000, 1000, 50) if FULL else (6, 50, 3)
N_BASELINE = 20 if FULL else 2
EDGES = np.linspace(-12.0, 12.0, 36)  # 35 bins of 0.69, a third of a component's spread
START = dict(weights_init=[0.5, 0.5], means_init=[-2.0, 2.0], variances_init=[3.0, 3.0])
FIXED = dict(tol=0.0, max_iter=N_ITER, warn=False, **START)


@pytest.fixture(scope="module")
def data():
    warm_up()
    values, _ = fastem.simulate(*SEED_MIXTURE, N_POINTS, N_DATASETS, random_state=0)
    binned = [fastem.Intervals.from_bins(EDGES, np.histogram(x, EDGES)[0]) for x in values]
    fastem.fit(binned[:2], 2, max_iter=2, tol=0, warn=False)
    return values, binned


class TestIntervals:
    GROUP = "intervals: 35 bins of 1,000 points, K=2, 50 EM iterations, intervals x K x it / s"

    def test_fastem(self, benchmark, data):
        _, binned = data
        n_intervals = sum(item.lower.size for item in binned)
        record(benchmark, self.GROUP, float(n_intervals) * 2 * N_ITER)
        benchmark.pedantic(fastem.fit, args=(binned, 2), kwargs=FIXED, rounds=SIZE["rounds"])

    def test_reference(self, benchmark, data):
        _, binned = data
        subset = binned[:N_BASELINE]
        record(benchmark, self.GROUP, float(sum(i.lower.size for i in subset)) * 2 * N_ITER)
        start = tuple(np.asarray(START[name]) for name in START)

        def looped():
            for item in subset:
                reference.interval_fit(item.lower, item.upper, item.counts, *start, N_ITER)

        benchmark.pedantic(looped, rounds=SIZE["rounds"])


class TestPointsTheBinsReplace:
    GROUP = "intervals: the same datasets' 1,000 points, K=2, 50 EM iterations, datasets / s"

    def test_fastem_intervals(self, benchmark, data):
        _, binned = data
        record(benchmark, self.GROUP, float(N_DATASETS), unit="datasets / s", scale=1.0)
        benchmark.pedantic(fastem.fit, args=(binned, 2), kwargs=FIXED, rounds=SIZE["rounds"])

    def test_fastem_points(self, benchmark, data):
        values, _ = data
        record(benchmark, self.GROUP, float(N_DATASETS), unit="datasets / s", scale=1.0)
        benchmark.pedantic(
            fastem.fit,
            args=(values, 2),
            kwargs=dict(FIXED, algorithm="em"),
            rounds=SIZE["rounds"],
        )
