"""Bootstrap standard errors (:func:`fastem.bootstrap`) on Old Faithful's waiting times,
two components, 999 replicates, each refitted from the fit and 5 k-means++ restarts:
replicates per second for each kind, against a baseline in the same run that refits the
replicates one call of :func:`fastem.fit` at a time (the same fits, without batching).

R's figures on the same machine (``R_SECONDS``) go in the notes for comparison (R 4.2.2,
mclust 6.0.0, mixtools 2.0.0; a 2-core AMD EPYC, lscpu "AMD EPYC"), of
``MclustBootstrap(Mclust(faithful$waiting, G = 2, modelNames = "V"), nboot = 999, type =
"pb")``, ``"bs"`` and ``"wlbs"``; docs/guide/standard-errors.md also gives
``boot.se(normalmixEM(...), B = 999)``'s. mclust refits each replicate from the fit alone (no
restarts).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

import fastem
from conftest import SIZE, note, record, warm_up

WAITING = np.loadtxt(
    Path(__file__).parents[1] / "tests" / "data" / "faithful.csv", skiprows=1, delimiter=","
)[:, 1]
N_BOOT = 999 if SIZE["rounds"] > 1 else 20
N_LOOPED = 100 if SIZE["rounds"] > 1 else 5
R_SECONDS = {
    "parametric": ("mclust pb", 1.77),
    "nonparametric": ("mclust bs", 0.15),
    "weighted": ("mclust wlbs", 11.2),
}


@pytest.fixture(scope="module", autouse=True)
def compiled():
    warm_up()
    fastem.bootstrap(WAITING, 2, n_boot=3, algorithm="squarem")
    fastem.fit(WAITING, 2, algorithm="squarem", max_iter=3, warn=False)


@pytest.mark.parametrize("kind", ["parametric", "nonparametric", "weighted"])
def test_fastem(benchmark, kind):
    record(
        benchmark, f"bootstrap SE, faithful K=2, {kind}", N_BOOT, unit="replicates / s", scale=1.0
    )
    result = benchmark.pedantic(
        fastem.bootstrap,
        args=(WAITING, 2),
        kwargs=dict(n_boot=N_BOOT, kind=kind),
        rounds=SIZE["rounds"],
    )
    assert result.n_failed < N_BOOT // 10
    label, seconds = R_SECONDS[kind]
    if benchmark.stats is not None:  # None with --benchmark-disable (the smoke run)
        note(
            f"bootstrap [{kind}] n_boot={N_BOOT}: median {benchmark.stats.stats.median:.3f} s;"
            f" {label} with 999 replicates took {seconds} s on a 2-core AMD EPYC"
        )


@pytest.mark.parametrize("kind", ["parametric"])
def test_one_replicate_per_call(benchmark, kind):
    """The same refits (start from the fit plus 5 k-means++ restarts), one replicate per
    call of fastem.fit: what batching the replicates saves."""
    record(
        benchmark, f"bootstrap SE, faithful K=2, {kind}", N_LOOPED, unit="replicates / s", scale=1.0
    )
    fitted = fastem.fit(WAITING, 2, n_init=30, random_state=0, warn=False)
    replicates, _ = fastem.simulate(
        fitted.weights,
        fitted.means,
        fitted.variances,
        WAITING.size,
        n_datasets=N_LOOPED,
        random_state=1,
    )
    warm = [np.asarray(a)[None, :] for a in (fitted.weights, fitted.means, fitted.variances)]

    def looped():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for x in replicates:
                starts = fastem.starting_values(x, 2, n_init=5, random_state=2)
                weights, means, variances = (
                    np.concatenate([w, s]) for w, s in zip(warm, starts[:3])
                )
                fastem.fit(
                    x,
                    2,
                    n_init=6,
                    weights_init=weights,
                    means_init=means,
                    variances_init=variances,
                    algorithm="squarem",
                    skip_degenerate=True,
                    warn=False,
                )

    benchmark.pedantic(looped, rounds=SIZE["rounds"])
