"""The built-in demo: the seed notebook's mixture, simulated and fitted in bulk."""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

from . import api
from ._status import Status
from .simulate import simulate

TRUE_WEIGHTS = (0.4, 0.6)
TRUE_MEANS = (-2.5, 3.5)
TRUE_VARIANCES = (4.0, 4.0)


def run(n_datasets=10_000, n_samples=40, n_init=5, random_state=0, init="kmeans++"):
    """Simulate, fit and summarise; returns the summary text."""
    data, _ = simulate(
        TRUE_WEIGHTS, TRUE_MEANS, TRUE_VARIANCES, n_samples, n_datasets, random_state
    )
    start = time.perf_counter()
    api.fit(data[:2], 2, n_init=n_init, init=init, random_state=random_state)
    warm_up = time.perf_counter() - start

    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = api.fit(data, 2, n_init=n_init, init=init, random_state=random_state)
    elapsed = time.perf_counter() - start
    work = float(n_samples) * 2 * result.restart_n_iter.sum()

    lines = [
        f"fastem demo: {n_datasets:,} datasets x {n_samples} points from the mixture",
        f"  weights {TRUE_WEIGHTS}, means {TRUE_MEANS}, variances {TRUE_VARIANCES}",
        f"fit: K=2, init={init!r}, n_init={n_init}, tol={api.DEFAULT_TOL:g}, "
        f"max_iter={api.DEFAULT_MAX_ITER}, random_state={random_state}",
        "",
        f"{'parameter':<14}{'true':>8}{'mean':>10}{'sd':>9}{'median':>10}",
    ]
    for name, truth, estimates in (
        ("weight", TRUE_WEIGHTS, result.weights),
        ("mean", TRUE_MEANS, result.means),
        ("variance", TRUE_VARIANCES, result.variances),
    ):
        for k in range(2):
            column = estimates[:, k]
            lines.append(
                f"{name + f'[{k + 1}]':<14}{truth[k]:>8.3f}{column.mean():>10.3f}"
                f"{column.std():>9.3f}{np.median(column):>10.3f}"
            )
    n_iter = result.n_iter
    lines += [
        "",
        f"converged: {result.converged.mean():.2%} of datasets; iterations of the best "
        f"restart: median {np.median(n_iter):.0f}, 90th percentile "
        f"{np.percentile(n_iter, 90):.0f}, max {n_iter.max()}",
        "status of the best restart: "
        + ", ".join(
            f"{status.name.lower()} {np.count_nonzero(result.status == status)}"
            for status in Status
        ),
        f"time: {elapsed:.3f} s for {n_datasets * n_init:,} fits "
        f"({n_datasets * n_init / elapsed:,.0f} fits/s, "
        f"{work / elapsed / 1e6:,.1f} million points x components x iterations/s); "
        f"first call (compile or cache load): {warm_up:.2f} s",
    ]
    lines += [f"warning: {w.message}" for w in caught]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="fastem", description="Simulate datasets from the seed mixture and fit them all."
    )
    parser.add_argument("--n-datasets", type=int, default=10_000, help="default: %(default)s")
    parser.add_argument("--n-samples", type=int, default=40, help="default: %(default)s")
    parser.add_argument("--n-init", type=int, default=5, help="default: %(default)s")
    parser.add_argument("--init", default="kmeans++", help="default: %(default)s")
    parser.add_argument("--seed", type=int, default=0, help="default: %(default)s")
    args = parser.parse_args(argv)
    print(run(args.n_datasets, args.n_samples, args.n_init, args.seed, args.init))
    return 0
