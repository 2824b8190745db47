"""DAAREM against EM and SQUAREM (SqS3): passes over the data to the same accuracy on
Old Faithful's waiting times (K = 2, 3, from k-means++ restarts), and W3's ragged batch
to convergence in datasets per second, all three in the same run.

Accuracy as in ``test_squarem.py``: the loglik rule at ``TOL``, and the share of fits
within ``ACCURACY`` (relative) of the maximum the same fit approaches at ``tol=0``.
W3's batch is ``test_w3_ragged.py``'s, a fifth of its size, each algorithm from the same
k-means++ starts with the loglik rule at the default tol.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import fastem
from conftest import SEED_MIXTURE, SIZE, SIZE_NAME, note, record, warm_up
from test_squarem import ACCURACY, TOL, WAITING

ALGORITHMS = ["em", "squarem", "daarem"]
RESTARTS = 100 if SIZE_NAME == "full" else 3
W3_DATASETS = SIZE["w3_datasets"] // 5


def _fit(data, k, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fastem.fit(data, k, stop="loglik", **{"max_iter": 100_000, **options})


@pytest.fixture(scope="module", autouse=True)
def compiled():
    warm_up()
    for algorithm in ALGORITHMS[1:]:
        _fit(WAITING, 2, algorithm=algorithm, max_iter=3)


PASSES: dict = {}


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("k", [2, 3])
def test_passes_on_faithful(benchmark, k, algorithm):
    options = dict(n_init=RESTARTS, random_state=1)
    record(benchmark, f"DAAREM: faithful waiting, K={k}", RESTARTS, unit="fits / s", scale=1.0)
    result = benchmark.pedantic(
        _fit, args=(WAITING, k), kwargs=dict(algorithm=algorithm, tol=TOL, **options), rounds=3
    )
    limit = _fit(WAITING, k, algorithm="em", tol=0, max_iter=20_000, **options)
    accurate = np.abs(result.restart_log_likelihood - limit.restart_log_likelihood) <= (
        ACCURACY * np.abs(limit.restart_log_likelihood)
    )
    passes = result.restart_n_fpeval
    PASSES.setdefault(k, {})[algorithm] = passes
    note(
        f"DAAREM [faithful K={k}] {algorithm}: passes median {np.median(passes):g} "
        f"(quartiles {np.percentile(passes, 25):g}, {np.percentile(passes, 75):g}), "
        f"within {ACCURACY:g} of the maximum {accurate.mean():.2f}"
    )
    if len(PASSES[k]) == len(ALGORITHMS):
        em = np.median(PASSES[k]["em"])
        note(
            f"DAAREM [faithful K={k}] EM's median passes / each one's: "
            + ", ".join(f"{a} {em / np.median(p):.2f}x" for a, p in PASSES[k].items())
        )


@pytest.fixture(scope="module")
def w3():
    sizes = np.random.default_rng(3).integers(20, 201, W3_DATASETS)
    data, _ = fastem.simulate(*SEED_MIXTURE, sizes, sizes.size, random_state=3)
    return data, fastem.starting_values(data, 2, random_state=4)


RATES: dict = {}


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_w3_datasets_per_second(benchmark, w3, algorithm):
    data, starts = w3
    record(benchmark, "DAAREM: W3 ragged, K=2, to convergence", len(data), unit="datasets / s")
    start = dict(
        weights_init=starts.weights, means_init=starts.means, variances_init=starts.variances
    )
    _fit(data[:50], 2, algorithm=algorithm, **{k: v[:50] for k, v in start.items()})
    result = benchmark.pedantic(
        _fit, args=(data, 2), kwargs=dict(algorithm=algorithm, **start), rounds=SIZE["rounds"]
    )
    RATES[algorithm] = len(data) / benchmark.stats.stats.median
    note(
        f"DAAREM [W3, {len(data)} datasets] {algorithm}: {RATES[algorithm]:.0f} datasets/s, "
        f"median passes {np.median(result.n_fpeval):g}"
    )
    if len(RATES) == len(ALGORITHMS):
        note(
            "DAAREM [W3] datasets/s against EM's: "
            + ", ".join(f"{a} {r / RATES['em']:.2f}x" for a, r in RATES.items())
        )
