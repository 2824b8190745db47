"""Shared set-up for the benchmarks, and a summary of throughput and ratios.

Sizes come from ``FASTEM_BENCH_SIZE``: ``full`` (default) for real measurements, ``smoke``
for a seconds-long run that only checks the benchmarks still work (the test suite runs it).

Throughput is counted as points x components x iterations per second, the work EM does
whatever the implementation. Baselines that would take minutes at full size run on a
subset of the datasets, and their throughput is computed on that subset.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pytest

import fastem

SIZES = {
    "full": dict(n_datasets=2000, n_samples=1000, n_iter=100, reference=100, sklearn=10),
    "smoke": dict(n_datasets=6, n_samples=50, n_iter=4, reference=3, sklearn=2),
}
SIZE = os.environ.get("FASTEM_BENCH_SIZE", "full")
if SIZE not in SIZES:
    raise pytest.UsageError(f"FASTEM_BENCH_SIZE={SIZE!r}; use one of {sorted(SIZES)}")


@dataclass(frozen=True)
class Workload:
    """Fixed work: ``n_iter`` EM iterations (``tol=0``) from given starting values."""

    data: np.ndarray
    n_components: int
    n_iter: int
    weights_init: np.ndarray
    means_init: np.ndarray
    variances_init: np.ndarray

    def work(self, n_datasets: int | None = None) -> float:
        rows = self.data.shape[0] if n_datasets is None else n_datasets
        return float(rows) * self.data.shape[1] * self.n_components * self.n_iter

    def starts(self, n_datasets: int | None = None):
        rows = slice(None) if n_datasets is None else slice(n_datasets)
        return (
            np.broadcast_to(self.weights_init, (self.data.shape[0], self.n_components))[rows],
            np.broadcast_to(self.means_init, (self.data.shape[0], self.n_components))[rows],
            np.broadcast_to(self.variances_init, (self.data.shape[0], self.n_components))[rows],
        )


@pytest.fixture(scope="session")
def many_small_datasets() -> Workload:
    """W1: many datasets of 1,000 points from the seed notebook's mixture, K=2."""
    size = SIZES[SIZE]
    data, _ = fastem.simulate(
        [0.4, 0.6], [-2.5, 3.5], [4.0, 4.0], size["n_samples"], size["n_datasets"], 0
    )
    workload = Workload(
        data, 2, size["n_iter"], np.array([0.5, 0.5]), np.array([-1.0, 1.0]), np.array([1.0, 1.0])
    )
    # Compile (or load from numba's cache) before anything is timed.
    fastem.fit(data[:2], 2, max_iter=2, tol=0)
    return workload


def record(benchmark, workload: Workload, n_datasets: int | None = None) -> None:
    benchmark.extra_info["work"] = workload.work(n_datasets)


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
    write("throughput: million points x components x iterations per second (median time)")
    for group, benches in groups.items():
        rates = {b.name: b.extra_info["work"] / b.stats.median / 1e6 for b in benches}
        ours = next((rate for name, rate in rates.items() if "fastem" in name), None)
        write(f"[{group}]")
        for name, rate in sorted(rates.items(), key=lambda item: -item[1]):
            ratio = f"   fastem is {ours / rate:7.1f}x" if ours and "fastem" not in name else ""
            write(f"  {name:<40} {rate:10.2f}{ratio}")
