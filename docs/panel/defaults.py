"""fastem.select with its defaults on the panel of real datasets, against the best known maxima.

For every dataset of ``tests/data/panel`` and every candidate (K = 1 to 5, equal and unequal
variances), the default search's log-likelihood against the best known maximum
(``tests/data/panel/maxima.csv``, from ``best_known.py``): a difference above 0.01 is a
miss. Prints the table (docs/guide/search.md's), the share of candidates at the best, whether every
miss is flagged unsettled, whether l(K+1) >= l(K) held everywhere, the largest relative
error of the parameters where the maximum was reached, and the time of each selection
(warm: each dataset is selected once before it is timed).

    python docs/panel/defaults.py [--csv docs/panel/defaults.csv]
"""

from __future__ import annotations

import argparse
import csv
import platform
import subprocess
import time
import warnings
from pathlib import Path

import numpy as np

import fastem

PANEL = Path(__file__).resolve().parents[2] / "tests" / "data" / "panel"
MISS = 0.01
"""A candidate whose log-likelihood is more than this below the best known maximum missed it."""


def best_known():
    """``{(dataset, K, variance): row}`` of ``maxima.csv``, with its parameters as arrays."""
    rows = {}
    with open(PANEL / "maxima.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            for name in ("weights", "means", "variances"):
                row[name] = np.array([float(v) for v in row[name].split()])
            row["log_likelihood"] = float(row["log_likelihood"])
            rows[(row["dataset"], int(row["n_components"]), row["variance"])] = row
    return rows


def load(dataset: str) -> np.ndarray:
    return np.loadtxt(PANEL / f"{dataset}.csv", skiprows=1, delimiter=",")


def relative_error(fit, known) -> float:
    """The largest relative error of the weights, means and variances of one fit."""
    return max(
        float(np.max(np.abs(np.asarray(getattr(fit, name)) - known[name]) / np.abs(known[name])))
        for name in ("weights", "means", "variances")
    )


def compare(dataset, selection, known):
    """One row per candidate of a dataset's selection."""
    rows = []
    for c, (k, variance) in enumerate(selection.candidates):
        best = known[(dataset, k, variance)]
        ll = float(selection.log_likelihood[c])
        fit = selection.fits[c]
        # A fit that is spurious or collapsed is no estimate, whatever its likelihood.
        regular = int(selection.status[c]) < fastem.Status.SPURIOUS
        reached = regular and ll >= best["log_likelihood"] - MISS
        rows.append(
            dict(
                dataset=dataset,
                n=int(best["n"]),
                K=k,
                variance=variance,
                best_known=best["log_likelihood"],
                default=ll,
                below=best["log_likelihood"] - ll,
                reached=reached,
                status=fastem.Status(int(selection.status[c])).name.lower(),
                settled=bool(selection.settled[c]),
                n_restarts=int(selection.n_restarts[c]),
                redundant=bool(selection.redundant[c]),
                parameter_error=relative_error(fit, best) if reached else np.nan,
            )
        )
    return rows


def nested(rows) -> bool:
    """l(K + 1) >= l(K) within rounding, per dataset and variance model."""
    for dataset in {r["dataset"] for r in rows}:
        for model in ("equal", "unequal"):
            ll = [
                r["default"]
                for r in rows
                if r["dataset"] == dataset and r["variance"] in (model, "-")
            ]
            if any(b < a - 1e-9 * abs(a) for a, b in zip(ll, ll[1:])):
                return False
    return True


def cpu() -> str:
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", help="also write the table as CSV")
    args = parser.parse_args()
    known = best_known()
    datasets = sorted({key[0] for key in known})
    rows, seconds = [], {}
    for dataset in datasets:
        x = load(dataset)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fastem.select(x, range(1, 6))  # warm: compiled, cached
            began = time.perf_counter()
            selection = fastem.select(x, range(1, 6))
            seconds[dataset] = time.perf_counter() - began
        rows.extend(compare(dataset, selection, known))
    table = fastem.Table({name: [r[name] for r in rows] for name in rows[0]})
    print(table)
    reached = np.array([r["reached"] for r in rows])
    flagged = all(not r["settled"] for r in rows if not r["reached"])
    errors = [r["parameter_error"] for r in rows if r["reached"]]
    print(
        f"\n{reached.sum()} of {reached.size} candidates at the best known maximum "
        f"({100 * reached.mean():.1f}%); every miss flagged unsettled: {flagged}; "
        f"l(K+1) >= l(K) everywhere: {nested(rows)}"
    )
    print(
        f"largest relative error of a parameter where the maximum was reached: "
        f"{max(errors):.2g} (median {np.median(errors):.2g})"
    )
    times = np.array(list(seconds.values()))
    print(
        f"select(x, range(1, 6)), warm: median {np.median(times):.3f} s, max "
        f"{times.max():.3f} s over {len(times)} datasets, on {cpu()}"
    )
    for dataset, value in seconds.items():
        print(f"  {dataset}: {value:.3f} s")
    if args.csv:
        Path(args.csv).write_text(table.to_csv())


if __name__ == "__main__":
    main()
