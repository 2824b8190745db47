"""The EM-test (:func:`fastem.emtest`, m0 = 1, MixtureInf's defaults) on 1,000 datasets of
100 points from N(0, 1), against the parametric bootstrap LRT (:func:`fastem.bootstrap_lrt`,
1 vs 2 components, 99 replicates) on the same data, in the same run. Counted in datasets
tested per second; the bootstrap runs on the first ``N_BOOTSTRAP`` datasets (all 1,000 would
take minutes), and the summary gives the ratio of the two rates.

At full size the EM-test's rejection rate at 0.05 is also checked to be within 3 Monte
Carlo standard errors of 0.05 (``sqrt(0.05 * 0.95 / 1000) = 0.0069``) and noted.
"""

from __future__ import annotations

import numpy as np

import fastem
from conftest import SIZE, SIZE_NAME, note, record

N_DATASETS = 1000 if SIZE_NAME == "full" else 20
N_BOOTSTRAP = 50 if SIZE_NAME == "full" else 3
N_BOOT = 99
DATA = np.random.default_rng(2028).normal(size=(N_DATASETS, 100))
GROUP = "EM-test vs bootstrap LRT, m0 = 1, n = 100 under N(0, 1)"
ROUNDS = max(1, SIZE["rounds"] // 2)


def _warm_up():
    fastem.emtest(DATA[:2], 1)
    fastem.bootstrap_lrt(DATA[:2], max_components=2, n_boot=2)


def test_fastem(benchmark):
    _warm_up()
    record(benchmark, GROUP, N_DATASETS, unit="datasets / s", scale=1.0)
    result = benchmark.pedantic(fastem.emtest, args=(DATA, 1), rounds=ROUNDS)
    rate = float(np.mean(result.p_value <= 0.05))
    mcse = np.sqrt(0.05 * 0.95 / N_DATASETS)
    if SIZE_NAME == "full":
        assert abs(rate - 0.05) <= 3 * mcse
    note(
        f"EM-test size at 0.05, {N_DATASETS} N(0, 1) datasets of 100: {rate:.3f} (MCSE {mcse:.4f})"
    )


def test_bootstrap_lrt(benchmark):
    """bootstrap_lrt with 99 replicates, 1 vs 2 components, on the first datasets."""
    _warm_up()
    record(benchmark, GROUP, N_BOOTSTRAP, unit="datasets / s", scale=1.0)
    result = benchmark.pedantic(
        fastem.bootstrap_lrt,
        args=(DATA[:N_BOOTSTRAP],),
        kwargs=dict(max_components=2, n_boot=N_BOOT),
        rounds=ROUNDS,
    )
    assert np.asarray(result.p_value).shape[0] == N_BOOTSTRAP
