"""The study outputs of the user guide (docs/guide/studies.md) are what the current code prints.

A study's cells are seeded by their true mixture and sample size, and its bootstrap by the
cell, so one strategy or one scenario run alone gives the same rows as in the guide's
whole run: each test reruns a cheap slice and compares it with the guide, digit for digit.
"""

import json
import re
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # the same reader, a dependency of fastem before Python 3.11
    import tomli as tomllib

import fastem
from test_cli import fastem_cli

ROOT = Path(__file__).resolve().parents[1]
GUIDE = (ROOT / "docs" / "guide" / "studies.md").read_text()


def guide_block(first_line_start):
    """The lines of the guide's code block from the line starting ``first_line_start``."""
    start = GUIDE.index("\n" + first_line_start) + 1
    return GUIDE[start : GUIDE.index("\n```", start)].splitlines()


def test_the_guide_seed_mixture_table_is_what_the_study_prints_for_quantile_starts():
    # Quantile starts alone (deterministic, one restart each): every column but at_best,
    # which compares with the best of all four strategies, is the guide's.
    result = fastem.study(
        weights=[0.4, 0.6],
        means=[-2.5, 3.5],
        variances=[4.0, 4.0],
        n_samples=(40, 100),
        replications=10_000,
        init="quantile",
        n_init=5,
        random_state=0,
    )
    columns = (
        "n_samples",
        "init",
        "spurious",
        "spurious_mcse",
        "iter_median",
        "iter_median_mcse",
        "at_best",
        "at_best_mcse",
        "mean_1_bias",
        "mean_1_bias_mcse",
        "mean_1_rmse",
        "mean_1_rmse_mcse",
    )
    printed = str(result.table.select(*columns)).splitlines()[1:]
    shown = [
        line
        for line in guide_block("n_samples      init  spurious")[1:]
        if line.split()[1] == "quantile"
    ]
    assert len(printed) == len(shown) == 2
    for new, old in zip(printed, shown):
        new, old = new.split(), old.split()
        assert new[:6] + new[8:] == old[:6] + old[8:]


def test_the_guide_coverage_table_is_what_the_study_gives_at_200_points():
    result = fastem.study(
        [0.4, 0.6],
        [-2.5, 3.5],
        [4.0, 4.0],
        n_samples=(200,),
        replications=2000,
        init="kmeans++",
        se="score",
    )
    row = next(line for line in GUIDE.splitlines() if line.startswith("| 200 | score |"))
    cells = [cell.strip() for cell in row.strip("|").split("|")][2:]
    names = [f"{p}_1_{m}" for p in ("weight", "mean", "variance") for m in ("coverage", "relerror")]
    for name, cell in zip(names, cells, strict=True):
        for text, value in zip(
            re.findall(r"-?[\d.]+", cell), (result.table[name][0], result.table[f"{name}_mcse"][0])
        ):
            decimals = len(text.partition(".")[2])
            assert f"{value:.{decimals}f}" == text, name


def test_the_guide_separation_table_is_what_fastem_study_prints_for_one_scenario(tmp_path):
    # The design file with its grid cut down to one of its six scenarios.
    design = tomllib.loads((ROOT / "docs" / "studies" / "separation.toml").read_text())
    design["grid"].update(separation=[4.0], weight=[0.5])
    path = tmp_path / "d4.json"
    path.write_text(json.dumps(design))
    completed = fastem_cli("study", "--design", path, "--quiet", check=True)
    # Alone, the scenario is not a column (its variables are): the guide's rows without
    # their scenario's name.
    printed = [line.split() for line in completed.stdout.split("Monte Carlo")[0].splitlines()[1:]]
    block = guide_block(" scenario  separation  weight  n_samples      init  algorithm")
    table = block[: block.index("Monte Carlo standard errors in parentheses")]
    shown = [line.split()[2:] for line in table if line.startswith("d=4 w=0.5")]
    assert len(printed) == 4
    assert printed == shown


def test_the_guide_null_percentiles_of_the_likelihood_ratio_are_what_the_study_gives():
    # emEM alone: the statistic is each method's own, so its row is the guide's.
    result = fastem.study(
        [0.5, 0.5],
        [0.0, 3.0],
        [1.0, 1.0],
        n_samples=100,
        replications=999,
        init="emem",
        n_components=[2, 3],
        equal_variance=True,
        quantiles=[0.8, 0.9, 0.95, 0.975, 0.99],
    )
    row = next(line for line in GUIDE.splitlines() if line.startswith("| `-2 log lambda` |"))
    cells = [cell.strip() for cell in row.strip("|").split("|")][1:]
    names = ["lr_mean", "lr_sd", "lr_p80", "lr_p90", "lr_p95", "lr_p97.5", "lr_p99"]
    for name, cell in zip(names, cells, strict=True):
        for text, value in zip(
            re.findall(r"-?[\d.]+", cell), (result.table[name][1], result.table[f"{name}_mcse"][1])
        ):
            decimals = len(text.partition(".")[2])
            assert f"{value:.{decimals}f}" == text, name
