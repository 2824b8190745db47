"""Monte Carlo standard errors (fastem.mcse) against rsimsum and by hand, and planning."""

import math
from fractions import Fraction

import numpy as np
import pytest

import fastem
from fastem import mcse

ESTIMATES = [0.9, 1.3, 1.1, 0.6, 1.8, 1.2, 0.95, 1.45]
TRUE = 1.0

# rsimsum's numbers for ESTIMATES and TRUE. rsimsum is not packaged for Debian, so its own
# .performance() was sourced from R/performance.R (github.com/ellessenne/rsimsum at commit
# 6041ba7, version 0.13.1.9000) into R 4.2.2:
#   source("performance.R")
#   d <- data.frame(est = c(0.9, 1.3, 1.1, 0.6, 1.8, 1.2, 0.95, 1.45)); d[[":true"]] <- 1
#   p <- .performance(d, "est", se = NULL, true = 1, ci.limits = NULL, df = NULL,
#                     control = list(na.rm = TRUE, mcse = TRUE, level = 0.95, power_df = NULL))
#   options(digits = 17); print(p)
#   mse <- p$est[p$stat == "mse"]; print(p$mcse[p$stat == "mse"] / (2 * sqrt(mse)))
# (rsimsum has no RMSE; its MCSE is MCSE(MSE) / (2 RMSE), the delta method.)
RSIMSUM = dict(
    bias=0.16250000000000001,
    bias_mcse=0.12981786691911315,
    empse=0.36718037607071075,
    empse_mcse=0.09813308331452919,
    mse=0.14437500000000000,
    mse_mcse=0.07551718997779816,
    rmse=0.379967103839266573,
    rmse_mcse=0.099373326288982364,
)


def test_performance_matches_rsimsum_on_a_fixed_table():
    result = mcse.performance(ESTIMATES, TRUE)
    for name, expected in RSIMSUM.items():
        assert getattr(result, name) == pytest.approx(expected, rel=1e-13), name


def test_performance_matches_the_formulas_in_exact_arithmetic():
    # Morris, White & Crowther (2019), Table 6, in fractions: squares exact, one square
    # root at the end.
    theta = [Fraction(str(x)) for x in ESTIMATES]
    n = len(theta)
    mean = sum(theta) / n
    squares = sum((t - mean) ** 2 for t in theta)
    errors2 = [(t - 1) ** 2 for t in theta]
    mse = sum(errors2) / n
    mse_variance = sum((e - mse) ** 2 for e in errors2) / (n * (n - 1))
    empse = math.sqrt(squares / (n - 1))
    expected = dict(
        bias=float(mean - 1),
        bias_mcse=math.sqrt(squares / (n * (n - 1))),
        empse=empse,
        empse_mcse=empse / math.sqrt(2 * (n - 1)),
        mse=float(mse),
        mse_mcse=math.sqrt(mse_variance),
        rmse=math.sqrt(mse),
        rmse_mcse=math.sqrt(mse_variance) / (2 * math.sqrt(mse)),
    )
    result = mcse.performance(ESTIMATES, TRUE)
    for name, value in expected.items():
        assert getattr(result, name) == pytest.approx(value, rel=1e-13), name
    # The hand-made numbers are rsimsum's: the two checks agree.
    assert expected == pytest.approx(RSIMSUM, rel=1e-13)


def test_missing_estimates_are_left_out_and_not_counted():
    with_missing = mcse.performance([np.nan, *ESTIMATES, np.nan], TRUE)
    assert with_missing == mcse.performance(ESTIMATES, TRUE)


def test_one_estimate_leaves_the_mcses_undefined_and_exact_ones_have_none():
    one = mcse.performance([1.5], 1.0)
    assert one.bias == 0.5 and one.rmse == 0.5
    assert math.isnan(one.bias_mcse) and math.isnan(one.empse) and math.isnan(one.rmse_mcse)
    exact = mcse.performance([2.0, 2.0, 2.0], 2.0)
    assert (exact.bias, exact.bias_mcse, exact.rmse, exact.rmse_mcse) == (0, 0, 0, 0)


def test_proportion_mcse_is_morris_formula():
    # Of 8 replications, 2 covered: sqrt(0.25 * 0.75 / 8).
    assert mcse.proportion_mcse(0.25, 8) == pytest.approx(0.15309310892394862, rel=1e-15)
    np.testing.assert_allclose(mcse.proportion_mcse([0.0, 0.5, 1.0], 100), [0, 0.05, 0])


def test_clustered_mean_mcse_treats_each_replication_as_one_replicate():
    # Three datasets of two restarts each, converged 2, 1 and 0 times: shares 1, 1/2, 0;
    # their mean 1/2, and sqrt((1/4 + 0 + 1/4)) / 3.
    values = [[1, 1], [1, 0], [0, 0]]
    assert mcse.clustered_mean_mcse(values) == pytest.approx(math.sqrt(0.5) / 3, rel=1e-15)
    # Not the binomial formula over all six restarts, which takes them as independent.
    assert mcse.clustered_mean_mcse(values) != pytest.approx(mcse.proportion_mcse(0.5, 6))
    # With one restart a dataset, it is the binomial formula.
    single = np.array([1, 0, 0, 1, 1, 1, 0, 1])[:, None]
    assert mcse.clustered_mean_mcse(single) == pytest.approx(mcse.proportion_mcse(5 / 8, 8))


def test_bootstrap_mcse_is_seeded_and_estimates_the_standard_error_of_a_mean():
    rng = np.random.default_rng(0)
    values = rng.normal(size=(400, 1))
    a = mcse.bootstrap_mcse(values, np.mean, 400, random_state=3)
    assert a == mcse.bootstrap_mcse(values, np.mean, 400, random_state=3)
    assert a != mcse.bootstrap_mcse(values, np.mean, 400, random_state=4)
    # For a mean the bootstrap agrees with sd / sqrt(n) to its own error, 1/sqrt(800).
    assert a == pytest.approx(np.std(values, ddof=1) / 20, rel=0.15)


def test_bootstrap_mcse_resamples_whole_replications():
    # Restarts of one dataset that agree exactly are one replicate, not 4: resampling
    # the 400 rows gives twice the MCSE of resampling the 1600 values as independent.
    rng = np.random.default_rng(1)
    per_dataset = rng.normal(size=(400, 1))
    rows = np.repeat(per_dataset, 4, axis=1)
    by_rows = mcse.bootstrap_mcse(rows, np.mean, 300, random_state=0)
    flat = mcse.bootstrap_mcse(rows.reshape(-1, 1), np.mean, 300, random_state=0)
    assert by_rows / flat == pytest.approx(2, rel=0.2)


def test_plan_replications_for_a_proportion_round_trips():
    # 0.2 * 0.8 / 0.01^2 is 1600, which floating point makes 1600.0000000000002.
    n = fastem.plan_replications(0.01, proportion=0.2)
    assert n == 1600
    assert mcse.proportion_mcse(0.2, n) == pytest.approx(0.01, rel=1e-14)
    worst = fastem.plan_replications(0.01, proportion=0.5)
    assert worst == 2500 > fastem.plan_replications(0.01, proportion=0.9) == 900
    # Not a whole number: rounded up, so the MCSE is at most the target.
    n = fastem.plan_replications(0.003, proportion=0.93)
    assert mcse.proportion_mcse(0.93, n) <= 0.003 < mcse.proportion_mcse(0.93, n - 1)


def test_plan_replications_for_a_bias_round_trips():
    assert fastem.plan_replications(0.01, sd=0.4) == 1600
    assert fastem.plan_replications(0.005, proportion=0.95) == 1900
    # A pilot's SD gives n; n fresh replications of the same estimator then have about
    # the target MCSE (the SD of a normal sample is within 3 / sqrt(2 n) of its own).
    rng = np.random.default_rng(7)
    pilot = rng.normal(2.0, 0.3, size=2000)
    n = fastem.plan_replications(0.01, sd=np.std(pilot, ddof=1))
    result = mcse.performance(rng.normal(2.0, 0.3, size=n), 2.0)
    assert 800 < n < 1000
    assert result.bias_mcse == pytest.approx(0.01, rel=0.1)


def test_plan_replications_refuses_what_it_cannot_plan():
    with pytest.raises(TypeError, match="one of proportion= .* got neither"):
        fastem.plan_replications(0.01)
    with pytest.raises(TypeError, match="got both"):
        fastem.plan_replications(0.01, proportion=0.5, sd=1.0)
    with pytest.raises(ValueError, match=r"strictly between 0 and 1, got 1.0; .* give 0.5"):
        fastem.plan_replications(0.01, proportion=1.0)
    with pytest.raises(ValueError, match="target_mcse must be positive, got 0"):
        fastem.plan_replications(0, proportion=0.5)
    with pytest.raises(ValueError, match="sd must be positive"):
        fastem.plan_replications(0.01, sd=-1)
    with pytest.raises(ValueError, match="sd must be finite"):
        fastem.plan_replications(0.01, sd=float("nan"))
    with pytest.raises(TypeError, match="proportion must be a number, got '0.5'"):
        fastem.plan_replications(0.01, proportion="0.5")


def test_percentiles_of_counts_are_numpys_to_the_bit():
    rng = np.random.default_rng(7)
    for _ in range(500):
        values = rng.integers(0, rng.integers(1, 60), rng.integers(1, 80))
        distinct, counts = np.unique(values, return_counts=True)
        for q in (0, 10, 37.5, 50, 90, 99, 100):
            assert mcse.percentile_of_counts(distinct, counts, q) == np.percentile(values, q)
        assert mcse.percentile_of_counts(distinct, counts, 50) == np.median(values)


def test_moments_are_exact_however_the_values_are_cut():
    rng = np.random.default_rng(8)
    values = np.concatenate(
        [rng.normal(3.0, 2.0, 3000), -rng.lognormal(0.0, 20.0, 300), [np.nan, 0.0, -0.0]]
    )
    whole = mcse.Moments().add(values)
    present = [Fraction(v) for v in values if not np.isnan(v)]
    assert whole.n == len(present) and whole.sum == sum(present)
    assert whole.sum_squares == sum(v * v for v in present)
    pieces = mcse.Moments()
    for piece in np.array_split(rng.permutation(values), 9):
        pieces.add(piece)
    assert (pieces.mean(), pieces.sd()) == (whole.mean(), whole.sd())
    mean = sum(present) / len(present)
    assert whole.sd() == math.sqrt(
        float(sum((v - mean) ** 2 for v in present) / (len(present) - 1))
    )


def test_squares_of_huge_and_tiny_values_are_summed_exactly():
    # Squares above about 1e308 and below about 1e-308 are not floats; their sum still is exact.
    values = np.array([2e154, -3e200, 7e307, 1e-150, -5e-200, 4e-320])
    moments = mcse.Moments().add(values)
    assert moments.sum_squares == sum(Fraction(v) ** 2 for v in values)


@pytest.mark.parametrize(
    "values",
    [
        2e154 + np.arange(-2, 3) * 2.0**470,  # squares overflow, the variance does not
        np.full(4, 1e300),
        np.array([1.0, 2.0, 4.0]) * 1e-150,
        np.array([-1e300, 1e300, 0.0]),  # a variance too large for a float
        np.array([1.0, np.inf, 2.0]),
        np.array([-np.inf, 1.0, -np.inf]),
        np.array([np.inf, -np.inf, 1.0]),
    ],
)
def test_moments_of_huge_tiny_and_infinite_values_are_numpys(values):
    moments = mcse.Moments().add(values)
    with np.errstate(over="ignore", invalid="ignore"):
        mean, variance = np.mean(values), np.var(values, ddof=1)
    np.testing.assert_allclose(moments.mean(), mean, rtol=1e-14)
    np.testing.assert_allclose(moments.variance(), variance, rtol=1e-12)


def test_measures_from_chunks_equal_the_measures_of_the_whole():
    rng = np.random.default_rng(9)
    estimates = np.where(rng.random(999) < 0.02, np.nan, rng.normal(1.0, 0.3, 999))
    errors = rng.uniform(0.2, 0.4, 999)
    cut = (np.array_split(estimates, 13), np.array_split(errors, 13))
    performance, coverage = mcse.PerformanceSums(1.0), mcse.StandardErrorSums(1.0)
    for part, part_errors in zip(*cut):
        performance.add(part)
        coverage.add(part, part_errors)
    assert performance.result() == mcse.performance(estimates, 1.0)
    assert coverage.result() == mcse.standard_error_performance(estimates, errors, 1.0)
    shares = rng.random((999, 5)) < 0.3
    clustered = mcse.ClusteredMean()
    for part in np.array_split(shares, 13):
        clustered.add(part)
    assert clustered.mean() == np.mean(shares)
    assert clustered.mcse() == mcse.clustered_mean_mcse(shares)


def test_poisson_weights_of_a_replication_do_not_depend_on_its_chunk():
    key = (3, 1, 4)
    whole = mcse.poisson_weights(key, 0, 5_000, 200)
    parts = [
        mcse.poisson_weights(key, first, count, 200)
        for first, count in ((0, 1), (1, 1_999), (2_000, 3_000))
    ]
    np.testing.assert_array_equal(np.hstack(parts), whole)
    # Poisson(1): mean and variance 1, within 5 standard errors of a million draws.
    assert abs(whole.mean() - 1) < 5e-3 and abs(whole.var() - 1) < 1e-2
    assert not np.array_equal(mcse.poisson_weights((3, 1, 5), 0, 5_000, 200), whole)
