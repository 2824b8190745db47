"""The study's measures from turboEM's turboSim (failures, passes, the share within epsilon
of the best, time per fit), the likelihood-ratio statistic across numbers of components,
quantile columns and rate medians: each recomputed here with numpy from the per-fit arrays
or the raw rows, and each MCSE from its formula."""

import csv
import json
import math
from statistics import NormalDist

import numpy as np
import pytest

import fastem
from fastem.toolkit.study import blank_missing, with_mcse_in_parentheses
from fastem.toolkit.study_measures import ChunkTimes, Sample, check_quantiles, quantile_mcse
from test_cli import fastem_cli

TRUTH = ([0.4, 0.6], [-2.5, 3.5], [4.0, 4.0])


@pytest.fixture(scope="module")
def compared():
    """Two strategies, two numbers of components, on the same 300 datasets."""
    return fastem.study(
        *TRUTH,
        n_samples=40,
        replications=300,
        init=["kmeans++", "random"],
        n_init=3,
        n_components=[2, 3],
        random_state=5,
    )


def _clustered_mcse(per_restart):
    """The MCSE of a mean over restarts whose datasets are the replicates."""
    per_dataset = per_restart.mean(axis=1)
    return math.sqrt(np.sum((per_dataset - per_dataset.mean()) ** 2)) / per_dataset.size


def _hall_sheather_mcse(values, q):
    """Siddiqui's MCSE of a quantile with Hall and Sheather's bandwidth, written out."""
    n, normal = values.size, NormalDist()
    u = normal.inv_cdf(q)
    h = n ** (-1 / 3) * 1.959963984540054 ** (2 / 3)
    h *= (1.5 * normal.pdf(u) ** 2 / (2 * u**2 + 1)) ** (1 / 3)
    if q + h >= 1:  # the tail is beyond the sample
        return math.nan
    reciprocal_density = (np.quantile(values, q + h) - np.quantile(values, q - h)) / (2 * h)
    return math.sqrt(q * (1 - q) / n) * reciprocal_density


def test_failures_and_mean_passes_are_turbosims_counted_over_every_restart(compared):
    for cell, i in zip(compared.cells, range(len(compared.table))):
        failed = ~cell.restart_converged | np.isin(
            cell.restart_status, [fastem.Status.VARIANCE_FLOORED, fastem.Status.NON_FINITE]
        )
        assert compared.table["failed"][i] == pytest.approx(failed.mean(), rel=1e-12)
        assert compared.table["failed_mcse"][i] == pytest.approx(
            _clustered_mcse(failed.astype(float)), rel=1e-9
        )
        passes = cell.restart_n_fpeval.astype(float)
        assert compared.table["passes_mean"][i] == pytest.approx(passes.mean(), rel=1e-12)
        assert compared.table["passes_mean_mcse"][i] == pytest.approx(
            _clustered_mcse(passes), rel=1e-9
        )
    # Three components on two-component data collapse often: failures are counted.
    assert compared.table["failed"][compared.table["n_components"] == 3].min() > 0.01


def test_at_best_and_found_best_are_the_raw_restart_log_likelihoods_against_the_best(compared):
    raw, table = compared.raw(), compared.table
    tol = 1e-4 * 40  # at_best_tol per point, times the points
    restarts = np.column_stack([raw[f"restart_log_likelihood_{r}"] for r in (1, 2, 3)])
    for i in range(len(table)):
        k = table["n_components"][i]
        mine = (raw["n_components"] == k) & (raw["init"] == table["init"][i])
        same_k = raw["n_components"] == k
        # The best any method found, per replication (the raw rows are in replication order),
        # of the fits without a floored variance (a collapsed component's likelihood is
        # unbounded).
        regular = ~np.isin(raw["status"], ["variance_floored", "non_finite"])
        best = np.fmax.reduce(
            [
                np.where(regular, raw["log_likelihood"], np.nan)[same_k & (raw["init"] == s)]
                for s in ("kmeans++", "random")
            ],
            axis=0,
        )
        np.testing.assert_array_equal(
            raw["log_likelihood"][mine], np.nanmax(restarts[mine], axis=1)
        )
        at_best = restarts[mine] >= (best - tol)[:, None]
        found = raw["log_likelihood"][mine] >= best - tol
        assert table["at_best"][i] == pytest.approx(at_best.mean(), rel=1e-12)
        assert table["found_best"][i] == found.mean()
        assert table["found_best_mcse"][i] == pytest.approx(
            math.sqrt(found.mean() * (1 - found.mean()) / found.size), rel=1e-12
        )


def test_the_likelihood_ratio_statistic_is_the_raw_fits_of_k_and_k_plus_1_compared(compared):
    raw, table = compared.raw(), compared.table
    for init in ("kmeans++", "random"):
        ll = {
            k: raw["log_likelihood"][(raw["init"] == init) & (raw["n_components"] == k)]
            for k in (2, 3)
        }
        lr = 2 * (ll[3] - ll[2])
        lr = lr[np.isfinite(lr)]
        row = np.flatnonzero((table["init"] == init) & (table["n_components"] == 3))[0]
        n = lr.size
        assert table["lr_mean"][row] == pytest.approx(lr.mean(), rel=1e-12)
        assert table["lr_sd"][row] == pytest.approx(lr.std(ddof=1), rel=1e-12)
        assert table["lr_mean_mcse"][row] == pytest.approx(lr.std(ddof=1) / math.sqrt(n), rel=1e-12)
        s, m4 = lr.std(ddof=1), np.mean((lr - lr.mean()) ** 4)
        sd_mcse = math.sqrt((m4 - (n - 3) / (n - 1) * s**4) / n) / (2 * s)
        assert table["lr_sd_mcse"][row] == pytest.approx(sd_mcse, rel=1e-9)
        for q in (0.9, 0.95, 0.99):
            name = f"lr_p{100 * q:g}"
            assert table[name][row] == np.quantile(lr, q)
            assert table[f"{name}_mcse"][row] == pytest.approx(
                _hall_sheather_mcse(lr, q), rel=1e-12, nan_ok=True
            )
        assert np.isfinite(table["lr_p95_mcse"][row]) and np.isnan(table["lr_p99_mcse"][row])
        # The rows of the smallest K have no statistic: NaN in the numbers, blank in print.
        small = np.flatnonzero((table["init"] == init) & (table["n_components"] == 2))[0]
        assert np.isnan(table["lr_mean"][small])


def test_rate_medians_and_the_passes_quantiles_have_their_mcses(compared):
    table = compared.table
    for i, cell in enumerate(compared.cells):
        for name, values in (("rate", cell.rate), ("parameter_rate", cell.parameter_rate)):
            present = values[~np.isnan(values)]
            assert table[f"{name}_median"][i] == np.median(present)
            assert table[f"{name}_median_mcse"][i] == pytest.approx(
                _hall_sheather_mcse(present, 0.5), rel=1e-12
            )
        passes = cell.restart_n_fpeval.ravel()
        assert table["passes_p95"][i] == np.percentile(passes, 95)
        assert table["passes_p95_mcse"][i] >= 0


def test_the_order_statistics_mcse_of_a_quantile_is_the_spread_of_quantiles_over_samples():
    # 400 samples of 500 chi-square(2) values (the LR statistic's shape): the MCSEs
    # estimate the standard deviation of the sample quantile across samples.
    rng = np.random.default_rng(11)
    for q in (0.5, 0.95):
        samples = rng.chisquare(2, size=(400, 500))
        estimates = np.quantile(samples, q, axis=1)
        mcses = np.array([quantile_mcse(sample, q) for sample in samples])
        spread = estimates.std(ddof=1)  # itself within about 3.5% (1 / sqrt(2 * 399))
        assert abs(np.median(mcses) / spread - 1) < 0.15, (q, np.median(mcses), spread)
        # And the asymptotic value sqrt(q (1 - q) / n) / f(Q(q)), f = exp(-x / 2) / 2.
        x = -2 * math.log(1 - q)
        asymptotic = math.sqrt(q * (1 - q) / 500) / (math.exp(-x / 2) / 2)
        assert abs(spread / asymptotic - 1) < 0.15


def test_a_quantile_too_far_in_the_tail_for_the_sample_has_no_mcse():
    values = np.arange(20.0)
    assert math.isnan(quantile_mcse(values, 0.99))
    sample = Sample().add(values[:7]).add(values[7:])
    assert sample.quantile(0.5) == (np.quantile(values, 0.5), quantile_mcse(values, 0.5))
    assert sample.mean() == values.mean() and sample.sd() == values.std(ddof=1)


def test_the_time_per_fit_and_its_mcse_take_the_chunks_as_replicates():
    times = ChunkTimes()
    seconds, fits = [0.2, 0.3, 0.25], [100, 100, 50]
    for t, n in zip(seconds, fits):
        times.add(t, n)
    ratio = sum(seconds) / sum(fits)
    spread = sum((t - ratio * n) ** 2 for t, n in zip(seconds, fits)) / (3 * 2)
    assert times.per_fit() == pytest.approx((1e3 * ratio, 1e3 * math.sqrt(spread) / np.mean(fits)))
    one = ChunkTimes()
    one.add(0.2, 100)
    assert one.per_fit()[0] == pytest.approx(2.0) and math.isnan(one.per_fit()[1])


def test_a_share_that_is_one_by_construction_is_left_blank():
    # One method with one restart: at_best and found_best compare a fit with itself.
    result = fastem.study(*TRUTH, n_samples=40, replications=50, init="quantile")
    assert np.isnan(result.table["at_best"]).all() and np.isnan(result.table["found_best"]).all()
    brief = result.brief_table()
    assert "at_best" not in brief.columns and "found_best" not in brief.columns
    assert "nan" not in str(result)
    # One method with restarts: at_best measures the search, found_best is still 1 by
    # construction.
    restarts = fastem.study(*TRUTH, n_samples=40, replications=50, n_init=3)
    assert 0 < restarts.table["at_best"][0] <= 1 and np.isnan(restarts.table["found_best"][0])


def test_columns_that_a_row_cannot_compute_print_blank_not_nan(compared):
    text = str(with_mcse_in_parentheses(compared.brief_table()))
    assert "nan" not in text
    assert "lr_mean" in text and "mean_1_rmse" in text
    assert "nan" not in str(blank_missing(compared.table))


def test_quantiles_are_checked_and_name_their_columns():
    assert check_quantiles([0.99, 0.9, 0.9]) == (0.9, 0.99)
    assert check_quantiles(0.975) == (0.975,)
    with pytest.raises(ValueError, match="0.95"):
        check_quantiles([95])
    with pytest.raises(TypeError, match="numbers"):
        check_quantiles(["high"])
    with pytest.raises(ValueError, match="quantiles"):
        fastem.Design(quantiles=[0.0])
    result = fastem.study(
        *TRUTH, n_samples=40, replications=30, n_components=[2, 3], quantiles=[0.975]
    )
    assert {"lr_p97.5", "lr_p97.5_mcse", "passes_p97.5"} <= set(result.table.columns)
    assert "lr_p95" not in result.table.columns
    none = fastem.study(*TRUTH, n_samples=40, replications=30, quantiles=())
    assert not [name for name in none.table.columns if name.startswith("passes_p")]


def test_the_command_line_lr_columns_are_the_raw_file_recomputed(tmp_path):
    # McLachlan and Peel's Table 6.5 in small: the null distribution of -2 log lambda for
    # 2 against 3 equal-variance components, read from --csv and recomputed from --raw.
    design = tmp_path / "null.toml"
    design.write_text(
        "weights = [0.5, 0.5]\nmeans = [0.0, 3.0]\nvariances = [1.0, 1.0]\n"
        "n_samples = [100]\nreplications = 60\ninit = ['kmeans++']\nn_init = 3\n"
        "n_components = [2, 3]\nequal_variance = true\nquantiles = [0.9, 0.95]\n"
    )
    table, raw = tmp_path / "table.csv", tmp_path / "raw.csv"
    fastem_cli("study", "--design", design, "--csv", table, "--raw", raw, "--quiet", check=True)
    with open(raw) as handle:
        rows = list(csv.DictReader(handle))
    ll = {
        k: np.array([float(r["log_likelihood"]) for r in rows if r["n_components"] == str(k)])
        for k in (2, 3)
    }
    assert len(ll[2]) == len(ll[3]) == 60
    assert [r["restart_log_likelihood_3"] != "" for r in rows] == [True] * 120
    lr = 2 * (ll[3] - ll[2])
    with open(table) as handle:
        k3 = next(r for r in csv.DictReader(handle) if r["n_components"] == "3")
    assert float(k3["lr_mean"]) == pytest.approx(lr.mean(), rel=1e-12)
    assert float(k3["lr_sd"]) == pytest.approx(lr.std(ddof=1), rel=1e-12)
    assert float(k3["lr_p95"]) == pytest.approx(np.quantile(lr, 0.95), rel=1e-12)
    assert json.loads(k3["design"])["quantiles"] == [0.9, 0.95]


def test_the_quantiles_flag_sets_the_quantile_columns(tmp_path):
    out = tmp_path / "table.json"
    fastem_cli(
        "study",
        "--replications",
        40,
        "--init",
        "quantile",
        "--n-components",
        2,
        3,
        "--quantiles",
        0.5,
        0.8,
        "--json",
        out,
        "--quiet",
        check=True,
    )
    written = json.loads(out.read_text())
    assert written["design"]["quantiles"] == [0.5, 0.8]
    rows = written["table"]
    assert {"lr_p50", "lr_p80_mcse", "passes_p50", "passes_p80_mcse"} <= set(rows[0])
    assert "lr_p95" not in rows[0]
    # The row of the smallest K has no statistic: null in JSON, as NaN is written.
    assert rows[0]["lr_p50"] is None and rows[1]["lr_p50"] is not None
    refused = fastem_cli("study", "--quantiles", 95, "--quiet")
    assert refused.returncode != 0 and "--quantiles" in refused.stderr, refused.stderr
