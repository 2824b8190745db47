"""Coverage of standard errors in studies: ``study(..., se=...)`` and
``mcse.standard_error_performance`` (Morris, White & Crowther 2019, Table 6)."""

import math

import numpy as np
import pytest

import fastem
from fastem import mcse


def test_coverage_and_relative_error_follow_their_formulas():
    rng = np.random.default_rng(7)
    estimates = 2.0 + rng.normal(size=400) * 0.5
    ses = 0.5 * np.sqrt(rng.chisquare(20, size=400) / 20)
    estimates[3], ses[5] = np.nan, np.nan  # left out
    measured = mcse.standard_error_performance(estimates, ses, 2.0, level=0.9)
    keep = ~(np.isnan(estimates) | np.isnan(ses))
    theta, se = estimates[keep], ses[keep]
    n = theta.size
    assert n == 398
    coverage = np.mean(
        (theta - 1.6448536269514722 * se <= 2.0) & (2.0 <= theta + 1.6448536269514722 * se)
    )
    modse = math.sqrt(np.mean(se**2))
    empse = np.std(theta, ddof=1)
    relerror_mcse = (
        100
        * modse
        / empse
        * math.sqrt(np.var(se**2, ddof=1) / (4 * n * modse**4) + 1 / (2 * n - 2))
    )
    assert measured.coverage == pytest.approx(coverage, rel=1e-15)
    assert measured.coverage_mcse == pytest.approx(math.sqrt(coverage * (1 - coverage) / n))
    assert measured.modse == pytest.approx(modse, rel=1e-14)
    assert measured.relerror == pytest.approx(100 * (modse / empse - 1), rel=1e-12)
    assert measured.relerror_mcse == pytest.approx(relerror_mcse, rel=1e-12)


def test_exact_standard_errors_cover_at_the_nominal_level():
    rng = np.random.default_rng(11)
    estimates = rng.normal(size=20_000)
    measured = mcse.standard_error_performance(estimates, np.ones(20_000), 0.0)
    assert abs(measured.coverage - 0.95) <= 3 * measured.coverage_mcse
    assert abs(measured.relerror) <= 3 * measured.relerror_mcse


def test_louis_standard_errors_cover_at_95_percent_when_components_are_well_separated():
    # Asymptotic theory holds here (n = 500, means 8 sds apart): every parameter's Wald
    # intervals cover at 95% and the model SE matches the spread of the estimates, each
    # within three Monte Carlo standard errors.
    result = fastem.study(
        [0.4, 0.6],
        [0.0, 8.0],
        [1.0, 2.0],
        n_samples=500,
        replications=2000,
        init="kmeans++",
        se="louis",
    )
    table = result.table
    for name in ("weight", "mean", "variance"):
        for k in (1, 2):
            column = f"{name}_{k}_"
            coverage = table[column + "coverage"][0]
            assert abs(coverage - 0.95) <= 3 * table[column + "coverage_mcse"][0]
            assert abs(table[column + "relerror"][0]) <= 3 * table[column + "relerror_mcse"][0]


def test_the_table_measures_the_standard_errors_of_the_matched_components():
    result = fastem.study(
        [0.5, 0.5],
        [0.0, 3.0],
        [1.0, 1.0],
        n_samples=60,
        replications=300,
        init="kmeans++",
        se="score",
    )
    cell = result.cells[0]
    assert cell.means_se.shape == cell.means.shape == (300, 2)
    for k in range(2):
        expected = mcse.standard_error_performance(
            cell.means[:, k], cell.means_se[:, k], (0.0, 3.0)[k]
        )
        assert result.table[f"mean_{k + 1}_coverage"][0] == expected.coverage
        assert result.table[f"mean_{k + 1}_relerror"][0] == expected.relerror
    # Matched components keep their own standard errors: the first (true mean 0) is
    # estimated with the first's spread.
    assert np.nanmedian(np.abs(cell.means[:, 0])) < 1.0
    assert "mean_1_coverage" in result.brief_table().columns


def test_without_se_the_table_has_no_coverage_columns():
    result = fastem.study(
        [0.5, 0.5], [0.0, 3.0], [1.0, 1.0], n_samples=40, replications=20, init="kmeans++"
    )
    assert not any("coverage" in name for name in result.table.columns)
    assert result.cells[0].means_se is None


def test_a_design_refuses_an_unknown_standard_error_method():
    with pytest.raises(ValueError, match="se") as error:
        fastem.Design(se="sandwich")
    assert error.value.options == ("se",)
    assert fastem.Design(se="louis").study_arguments()["se"] == "louis"
