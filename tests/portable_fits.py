"""A fixed set of fits that reaches every kernel, saved bit for bit.

``test_portability.py`` runs this script in fresh processes compiled for different CPU
targets (each with its own numba cache) and compares the saved arrays bit for bit.

    python tests/portable_fits.py OUT.npz
"""

from __future__ import annotations

import sys

import numpy as np

import fastem


def _data():
    rng = np.random.default_rng(20261126)
    labels = rng.random((60, 700)) < 0.4
    two = np.where(labels, rng.normal(-2.5, 2.0, labels.shape), rng.normal(3.5, 2.0, labels.shape))
    three = []
    for n in rng.integers(50, 1500, size=12):
        k = rng.choice(3, size=n, p=[0.3, 0.3, 0.4])
        three.append(rng.normal(np.array([-4.0, 0.5, 5.0])[k], np.array([1.0, 0.8, 1.3])[k]) + 1e4)
    weights = rng.integers(0, 4, size=two.shape).astype(np.float64)
    return two, three, weights


def _bins(datasets, center=0.0):
    """Each dataset binned on the integers around ``center`` from -6 to 6, the first and
    last bins open (censored)."""
    edges = center + np.concatenate([[-np.inf], np.arange(-6.0, 7.0), [np.inf]])
    return [(edges, np.histogram(x, edges)[0]) for x in datasets]


def fits() -> dict[str, np.ndarray]:
    """Every array of a handful of fits that together run every kernel path."""
    two, three, weights = _data()
    runs = {
        "k2": fastem.fit(two, 2, n_init=3, random_state=1, trace=True, warn=False),
        "k3_ragged_kmeans": fastem.fit(
            three, 3, n_init=4, init="kmeans", random_state=2, warn=False
        ),
        "k5_emem": fastem.fit(two, 5, n_init=2, init="emem", random_state=3, warn=False),
        "k2_weighted_random": fastem.fit(
            two, 2, n_init=3, init="random", sample_weight=weights, random_state=4, warn=False
        ),
        "k3_quantile_equal_variance": fastem.fit(
            three, 3, init="quantile", equal_variance=True, warn=False
        ),
        "k4_random_from_data": fastem.fit(
            two[:20],
            4,
            n_init=5,
            init="random_from_data",
            random_state=5,
            return_restarts=True,
            warn=False,
        ),
        "k3_hc_v_ragged": fastem.fit(three, 3, init="hc", warn=False),
        "k2_hc_e_weighted": fastem.fit(
            two[:8], 2, init="hc", init_params={"model": "E"}, sample_weight=weights[:8], warn=False
        ),
        "k3_rndem": fastem.fit(
            three,
            3,
            n_init=2,
            init="rndem",
            init_params={"n_candidates": 30},
            random_state=8,
            return_restarts=True,
            warn=False,
        ),
        "k3_fixed_means": fastem.fit(
            two[:10], 3, means_init=[-3.0, 0.0, 4.0], fix_means=True, warn=False
        ),
        "k3_squarem_aitken": fastem.fit(
            three,
            3,
            n_init=2,
            algorithm="squarem",
            stop="aitken",
            random_state=7,
            trace=True,
            warn=False,
        ),
        "k2_squarem_parameter": fastem.fit(
            two[:20],
            2,
            algorithm="squarem",
            stop="parameter",
            equal_variance=True,
            random_state=8,
            warn=False,
        ),
        # SQUAREM's other step lengths and the quasi-Newton step (their small linear solve).
        **{
            f"k3_{algorithm}": fastem.fit(
                three,
                3,
                n_init=2,
                algorithm=algorithm,
                stop="loglik",
                tol=1e-10,
                random_state=9,
                trace=True,
                warn=False,
            )
            for algorithm in ("sqs1", "sqs2", "qn")
        },
        "k2_qn_fixed_weights": fastem.fit(
            two[:20],
            2,
            algorithm="qn",
            weights_init=[0.4, 0.6],
            fix_weights=True,
            equal_variance=True,
            random_state=10,
            warn=False,
        ),
        # The float32 E-step (fit's dtype): the two-component kernel, the general one,
        # weights, a fixed parameter and SQUAREM.
        "k2_float32": fastem.fit(
            two, 2, n_init=3, random_state=1, trace=True, warn=False, dtype=np.float32
        ),
        "k5_float32_weighted": fastem.fit(
            two[:20],
            5,
            n_init=2,
            sample_weight=weights[:20],
            random_state=3,
            warn=False,
            dtype=np.float32,
        ),
        "k3_float32_fixed_means": fastem.fit(
            three,
            3,
            means_init=[9996.0, 1e4 + 0.5, 1e4 + 5.0],
            fix_means=[True, False, False],
            warn=False,
            dtype=np.float32,
        ),
        "k3_float32_squarem_aitken": fastem.fit(
            three,
            3,
            n_init=2,
            algorithm="squarem",
            stop="aitken",
            random_state=7,
            trace=True,
            warn=False,
            dtype=np.float32,
        ),
        # DAAREM: its SVD and ridge in loops, a fixed mean and equal variances.
        "k3_daarem": fastem.fit(
            three, 3, n_init=2, algorithm="daarem", random_state=9, trace=True, warn=False
        ),
        "k2_daarem_constrained": fastem.fit(
            two[:20],
            2,
            means_init=[-2.0, 3.0],
            fix_means=[True, False],
            equal_variance=True,
            algorithm="daarem",
            warn=False,
        ),
        # CEM and SEM (their own kernel), weighted and constrained, and the short runs of
        # CEM-EM and SEM-EM as starts.
        "k3_cem_weighted": fastem.fit(
            two[:20], 3, algorithm="cem", sample_weight=weights[:20], random_state=9, warn=False
        ),
        "k3_sem_equal_variance": fastem.fit(
            three,
            3,
            algorithm="sem",
            max_iter=50,
            equal_variance=True,
            random_state=10,
            trace=True,
            warn=False,
        ),
        "k2_cem_em_sem_em": fastem.fit(
            two[:20], 2, init={"cem_em": 2, "sem_em": 2}, random_state=11, warn=False
        ),
        # The penalised M-step: CTZ's penalty with Chen & Li's on the weights, mclust's
        # prior with equal variances and weights, a fixed mean in float32, and DAAREM.
        "k3_ctz_mixing": fastem.fit(
            three,
            3,
            n_init=2,
            penalty={"a_n": 0.5, "mixing": 1.0},
            random_state=12,
            trace=True,
            warn=False,
        ),
        "k2_prior_e_weighted": fastem.fit(
            two[:20],
            2,
            prior="default",
            equal_variance=True,
            sample_weight=weights[:20],
            random_state=13,
            warn=False,
        ),
        "k3_prior_float32_fixed_means": fastem.fit(
            three,
            3,
            prior={"shrinkage": 0.1},
            means_init=[9996.0, 1e4 + 0.5, 1e4 + 5.0],
            fix_means=[True, False, False],
            warn=False,
            dtype=np.float32,
        ),
        "k3_daarem_ctz": fastem.fit(
            three, 3, n_init=2, algorithm="daarem", penalty="ctz", random_state=14, warn=False
        ),
        # Intervals (EM for grouped data): bins of a batch, with open ends and a fixed mean.
        "k2_intervals": fastem.fit(
            [fastem.Intervals.from_bins(edges, counts) for edges, counts in _bins(two[:6])],
            2,
            n_init=2,
            random_state=12,
            trace=True,
            warn=False,
        ),
        "k3_intervals_censored_fixed_mean": fastem.fit(
            [fastem.Intervals.from_bins(edges, counts) for edges, counts in _bins(three[:4], 1e4)],
            3,
            means_init=[9996.0, 1e4 + 0.5, 1e4 + 5.0],
            fix_means=[False, True, False],
            warn=False,
        ),
        # The EM-test's kernel: its alternatives from random starts, m0 = 1 and 2 (ragged).
        "emtest_m0_1": fastem.emtest(two[:20], 1, n_starts=3, random_state=15),
        "emtest_m0_2_ragged": fastem.emtest(
            three[:4], 2, n_starts=2, start_iter=10, max_iter=100, random_state=16
        ),
        "simulate": fastem.simulate(
            [0.4, 0.6], [-2.5, 3.5], [4.0, 4.0], n_samples=300, n_datasets=5, random_state=6
        )[0],
    }
    arrays = {}
    for name, result in runs.items():
        if isinstance(result, np.ndarray):
            arrays[name] = result
            continue
        for field, value in vars(result).items():
            if isinstance(value, np.ndarray):
                arrays[f"{name}.{field}"] = value
    return arrays


if __name__ == "__main__":
    np.savez(sys.argv[1], **fits())
