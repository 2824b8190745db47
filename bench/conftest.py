"""Shared set-up for the benchmarks, and a summary of throughput and ratios.

Sizes come from ``FASTEM_BENCH_SIZE``: ``full`` (default) for real measurements, ``smoke``
for a seconds-long run that only checks the benchmarks still work (the test suite runs it).

Throughput is counted as points x components x iterations per second, the work EM does
whatever the implementation (W3, which runs to convergence, counts datasets per second).
Baselines that would take minutes at full size run on a subset, and their throughput is
computed on that subset. The summary after pytest-benchmark's table gives the medians'
throughputs and each baseline's ratio to fastem in the same run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pytest

import fastem

SIZES = {
    "full": dict(
        w1_datasets=2000,
        w1_points=1000,
        w1_iter=100,
        w1_reference=100,
        w1_sklearn=10,
        w2_points=100_000,
        w2_restarts=1000,
        w2_iter=10,
        w2_reference=4,
        w2_sklearn=2,
        w3_datasets=100_000,
        w3_reference=100,
        w3_sklearn=300,
        w4_datasets=2000,
        w4_reference=20,
        w4_sklearn=4,
        rounds=5,
        squarem_datasets=2000,
        squarem_restarts=20,
        small_calls=10_000,
        small_estimator=2000,
        small_sklearn=1000,
        cold_rounds=3,
    ),
    "smoke": dict(
        w1_datasets=6,
        w1_points=50,
        w1_iter=4,
        w1_reference=3,
        w1_sklearn=2,
        w2_points=300,
        w2_restarts=5,
        w2_iter=3,
        w2_reference=2,
        w2_sklearn=1,
        w3_datasets=20,
        w3_reference=3,
        w3_sklearn=3,
        w4_datasets=4,
        w4_reference=2,
        w4_sklearn=1,
        rounds=1,
        squarem_datasets=5,
        squarem_restarts=3,
        small_calls=20,
        small_estimator=5,
        small_sklearn=5,
        cold_rounds=1,
    ),
}
SIZE_NAME = os.environ.get("FASTEM_BENCH_SIZE", "full")
if SIZE_NAME not in SIZES:
    raise pytest.UsageError(f"FASTEM_BENCH_SIZE={SIZE_NAME!r}; use one of {sorted(SIZES)}")
SIZE = SIZES[SIZE_NAME]
SEED_MIXTURE = ([0.4, 0.6], [-2.5, 3.5], [4.0, 4.0])
NOTES: list[str] = []


@dataclass(frozen=True)
class Workload:
    """Fixed work: ``n_iter`` EM iterations (``tol=0``) from given starting values.

    ``weights``, ``means`` and ``variances`` have shape (n_datasets, n_restarts, K).
    """

    data: np.ndarray
    n_iter: int
    weights: np.ndarray
    means: np.ndarray
    variances: np.ndarray

    @property
    def n_components(self) -> int:
        return self.means.shape[-1]

    def work(self, n_datasets=None, n_restarts=None) -> float:
        n_datasets = self.data.shape[0] if n_datasets is None else n_datasets
        n_restarts = self.means.shape[1] if n_restarts is None else n_restarts
        return float(n_datasets * n_restarts) * self.data.shape[1] * self.n_components * self.n_iter

    def fit_fastem(self, dtype=np.float64):
        result = fastem.fit(
            self.data,
            self.n_components,
            n_init=self.means.shape[1],
            weights_init=self.weights,
            means_init=self.means,
            variances_init=self.variances,
            max_iter=self.n_iter,
            tol=0,
            algorithm="em",
            dtype=dtype,
        )
        assert (result.restart_n_iter == self.n_iter).all()
        return result


def warm_up():
    """Compile (or load from numba's cache) before anything is timed."""
    fastem.fit(np.linspace(0.0, 1.0, 20), 2, max_iter=2, tol=0, algorithm="em")
    fastem.fit(np.linspace(0.0, 1.0, 20), 3, max_iter=2, tol=0, algorithm="em")


def record(benchmark, group, work, unit="M points x K x iterations / s", scale=1e6):
    benchmark.group = group
    benchmark.extra_info.update(work=work, unit=unit, scale=scale)


def note(line: str) -> None:
    """A line for the summary (memory, start-up: numbers that are not timings)."""
    NOTES.append(line)


def pytest_terminal_summary(terminalreporter, config):
    session = getattr(config, "_benchmarksession", None)
    if session is None or session.disabled or not session.benchmarks:
        return
    groups: dict[str, list] = {}
    for bench in session.benchmarks:
        if "work" in bench.extra_info and bench.stats is not None:
            groups.setdefault(bench.group or "", []).append(bench)
    write = terminalreporter.write_line
    write("")
    write("fastem summary (rates from median times; ratios within the same run)")
    for group, benches in groups.items():
        unit = benches[0].extra_info["unit"]
        rates = {
            b.name: b.extra_info["work"] / b.stats.median / b.extra_info["scale"] for b in benches
        }
        # fastem's own test of the group: "test_fastem", or one parametrisation of it.
        mine = [name for name in rates if name.split("[")[0] == "test_fastem"]
        ours = rates[mine[0]] if len(mine) == 1 else None
        write(f"[{group}] {unit}")
        for name, rate in sorted(rates.items(), key=lambda item: -item[1]):
            ratio = f"   fastem is {ours / rate:7.2f}x" if ours and name not in mine else ""
            write(f"  {name:<32} {rate:12.2f}{ratio}")
    for line in NOTES:
        write(line)


def sklearn_fits(rows, weights, means, variances, max_iter, tol):
    """scikit-learn's GaussianMixture, one fit per (row, restart), from the given starts;
    returns the iterations of each fit."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture

    n_iter = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for x, w, m, v in zip(rows, weights, means, variances):
            for r in range(m.shape[0]):
                model = GaussianMixture(
                    m.shape[1],
                    weights_init=w[r],
                    means_init=m[r][:, None],
                    precisions_init=1.0 / v[r][:, None, None],
                    reg_covar=1e-6 * x.var(),
                    max_iter=max_iter,
                    tol=tol,
                ).fit(x[:, None])
                n_iter.append(model.n_iter_)
    return np.array(n_iter)
