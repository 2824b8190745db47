"""How far short of the maximum each stopping rule stops: a study behind docs/guide/algorithms.md.

For each design, every dataset is fitted once from the same k-means++ start by each
algorithm and stopping rule (at the rule's default tol), and once by the same algorithm to
``tol=0`` for 20,000 steps: the maximum that start leads that algorithm to. Per rule: the
shortfall of the log-likelihood (median and 95th percentile, in log-likelihood units),
the error of the means in standard deviations of the data (95th percentile and largest
over datasets), and the median passes over the data.

    python docs/stopping_rules.py            # about half a minute on 2 cores
"""

import warnings
from pathlib import Path

import numpy as np

import fastem

WAITING = np.loadtxt(
    Path(__file__).parents[1] / "tests" / "data" / "faithful.csv", skiprows=1, delimiter=","
)[:, 1]
SEED = ([0.4, 0.6], [-2.5, 3.5], [4.0, 4.0])
DESIGNS = {
    "seed mixture, n=40 (2,000 datasets)": (fastem.simulate(*SEED, 40, 2000, random_state=1)[0], 2),
    "seed mixture, n=1000 (200 datasets)": (
        fastem.simulate(*SEED, 1000, 200, random_state=2)[0],
        2,
    ),
    "faithful waiting, K=3 (50 starts)": (np.tile(WAITING, (50, 1)), 3),
}
RULES = ("loglik", "relative", "aitken", "parameter")


def main():
    warnings.simplefilter("ignore")
    print(
        f"{'design':38} {'algorithm':9} {'rule':9} {'tol':>6} {'short p50':>10} "
        f"{'short p95':>10} {'mean err p95':>12} {'max':>9} {'passes p50':>10}"
    )
    for name, (data, k) in DESIGNS.items():
        starts = fastem.starting_values(data, k, random_state=3)
        given = dict(
            weights_init=starts.weights,
            means_init=starts.means,
            variances_init=starts.variances,
            sort_components=False,
        )
        spread = data.std(axis=1)
        for algorithm in ("em", "squarem"):
            limit = fastem.fit(data, k, algorithm=algorithm, tol=0, max_iter=20_000, **given)
            for rule in RULES:
                result = fastem.fit(
                    data, k, algorithm=algorithm, stop=rule, max_iter=20_000, **given
                )
                short = limit.log_likelihood - result.log_likelihood
                error = np.abs(result.means - limit.means).max(axis=1) / spread
                print(
                    f"{name:38} {algorithm:9} {rule:9} {result.tol:6.0e} "
                    f"{np.median(short):10.2e} {np.percentile(short, 95):10.2e} "
                    f"{np.percentile(error, 95):12.2e} {error.max():9.2e} "
                    f"{np.median(result.n_fpeval):10g}"
                )


if __name__ == "__main__":
    main()
