"""What fastem.SpuriousRule catches: a small study behind the defaults (docs/guide/search.md).

For each design, datasets are simulated from a known mixture and fitted twice: with
5 k-means++ restarts (the highest likelihood wins, as by default), and from the true
parameters (a regular fit by construction, though EM may still wander off it). For each
rule the table gives the share of datasets it flags (collapsed fits, which the kernel
flags whatever the rule, included) among the first fits ("flagged"), among the first fits
with a variance below 1/10 and below 1/40 of the smallest true one ("caught 1/10",
"caught 1/40": fits a statistician would call spurious here), and among the fits from the
truth ("false").

    python docs/spurious_rule.py            # about a minute on 2 cores
"""

import warnings

import fastem

DESIGNS = {
    "README default: 0.4/0.6, -2.5/3.5, 4/4, n=40": ((0.4, 0.6), (-2.5, 3.5), (4.0, 4.0), 40),
    "same, n=100": ((0.4, 0.6), (-2.5, 3.5), (4.0, 4.0), 100),
    "three: 0.3/0.3/0.4, 0/1.5/4, 1/0.5/2, n=1000": (
        (0.3, 0.3, 0.4),
        (0.0, 1.5, 4.0),
        (1.0, 0.5, 2.0),
        1000,
    ),
    "narrow real: 0.9/0.1, 0/3, 1/0.01, n=200": ((0.9, 0.1), (0.0, 3.0), (1.0, 0.01), 200),
}
RULES = {
    "default (5 points and 0.01)": fastem.SpuriousRule(),
    "collapsed only (0, 0)": fastem.SpuriousRule(0, 0),
    "variance ratio 0.01 alone": fastem.SpuriousRule(1e12, 0.01),
    "5 points alone": fastem.SpuriousRule(5, 1.0),
}
REPLICATIONS = 4000


def main():
    warnings.simplefilter("ignore")
    print(
        f"{'design':48} {'rule':28} {'flagged':>8} {'caught 1/10':>12} {'caught 1/40':>12} "
        f"{'false':>8}"
    )
    for name, (weights, means, variances, n) in DESIGNS.items():
        data, _ = fastem.simulate(weights, means, variances, n, REPLICATIONS, random_state=0)
        k = len(weights)
        fitted = fastem.fit(data, k, n_init=5, random_state=1, warn=False)
        truth = fastem.fit(
            data, k, weights_init=weights, means_init=means, variances_init=variances, warn=False
        )
        smallest = fitted.variances.min(axis=1) / min(variances)
        small, tiny = smallest < 0.1, smallest < 0.025
        for label, rule in RULES.items():
            flagged = _flags(rule, fitted)
            false = _flags(rule, truth)
            print(
                f"{name:48} {label:28} {flagged.mean():8.4f} {_share(flagged, small):12.3f} "
                f"{_share(flagged, tiny):12.3f} {false.mean():8.4f}"
            )
        print(f"{'':48} {'(share of fits)':28} {'':8} {small.mean():12.4f} {tiny.mean():12.4f}")


def _flags(rule, result):
    collapsed = result.status == fastem.Status.VARIANCE_FLOORED
    return collapsed | rule.flags(result.weights, result.variances, result.n_observations)


def _share(flags, among):
    return flags[among].mean() if among.any() else float("nan")


if __name__ == "__main__":
    main()
