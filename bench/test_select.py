"""Model selection (:func:`fastem.select`) of one dataset, K = 1 to 5, both variance models:
the default search (restarts in rounds until settled, nested candidates, SQUAREM to the
parameter rule) against the settings it replaced, in the same run: 30 k-means++ restarts
per candidate, EM with the log-likelihood rule. Old Faithful's waiting times, 272 points.

The target: the default at most 3 times the old settings' time. Counted in selections
per second (one selection fits all 9 candidates)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

import fastem
from conftest import SIZE, record, warm_up

WAITING = np.loadtxt(
    Path(__file__).parents[1] / "tests" / "data" / "faithful.csv", skiprows=1, delimiter=","
)[:, 1]
GROUP = "select of one 272-point dataset, K = 1..5, equal and unequal variances"
UNIT = dict(unit="selections / s", scale=1.0)
OLD_SETTINGS = dict(n_init=30, init="kmeans++", algorithm="em", stop="loglik")
"""The defaults of select before its search was settled: the baseline."""


def _select(**options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fastem.SearchWarning)  # K=5 may not settle
        return fastem.select(WAITING, range(1, 6), **options)


@pytest.fixture(scope="module", autouse=True)
def compiled():
    warm_up()
    _select()
    _select(**OLD_SETTINGS)


def test_fastem(benchmark):
    """The default search."""
    record(benchmark, GROUP, 1, **UNIT)
    result = benchmark.pedantic(_select, rounds=SIZE["rounds"], warmup_rounds=1)
    benchmark.extra_info["settled"] = float(np.mean(result.settled))


def test_old_settings(benchmark):
    record(benchmark, GROUP, 1, **UNIT)
    benchmark.pedantic(_select, kwargs=OLD_SETTINGS, rounds=SIZE["rounds"], warmup_rounds=1)
