"""fastem.bootstrap: standard errors and percentile intervals by parametric, nonparametric
and weighted likelihood bootstrap, checked against R's mclust and mixtools."""

from pathlib import Path

import numpy as np
import pytest

import fastem

WAITING = np.loadtxt(Path(__file__).parent / "data" / "faithful.csv", skiprows=1,
                     delimiter=",")[:, 1]

# Bootstrap standard errors of the two-component model "V" on faithful$waiting, from R
# 4.2.2 with mclust 6.0.0 and mixtools 2.0.0, 999 replicates each:
#   m <- Mclust(faithful$waiting, G = 2, modelNames = "V")
#   set.seed(1); summary(MclustBootstrap(m, nboot = 999, type = "pb"), what = "se")
#   (and type = "bs", "wlbs"); the weight, the means, the variances.
#   set.seed(1); e <- normalmixEM(faithful$waiting, k = 2, epsilon = 1e-10, maxit = 10000)
#   boot.se(e, B = 999): lambda.se 0.03099803, mu.se 0.7303881 0.5009124, sigma.se
#   0.5244172 0.3969703 (standard deviations: a variance's SE is about 2 sd SE(sd)).
MCLUST_SE = {
    "parametric": (0.03033856, [0.6963237, 0.4945003], [6.169086, 4.560917]),
    "nonparametric": (0.03040642, [0.728295, 0.5039392], [5.370457, 4.809103]),
    "weighted": (0.03059643, [0.778538, 0.5259302], [5.689772, 4.771654]),
}
N_BOOT = 999


def _sd_mcse(replicates):
    """Monte Carlo standard error of a standard deviation estimated from ``replicates``:
    ``sd * sqrt((kurtosis - 1) / (4 n))`` (the delta method on the variance's MCSE)."""
    x = replicates[np.isfinite(replicates)]
    centred = x - x.mean()
    kurtosis = np.mean(centred**4) / np.mean(centred**2) ** 2
    return x.std(ddof=1) * np.sqrt((kurtosis - 1) / (4 * x.size))


@pytest.mark.parametrize("kind", ["parametric", "nonparametric", "weighted"])
def test_standard_errors_agree_with_mclust_within_monte_carlo_error(kind):
    result = fastem.bootstrap(WAITING, 2, n_boot=N_BOOT, kind=kind)
    weight_se, mean_se, variance_se = MCLUST_SE[kind]
    assert result.n_failed == 0
    checks = [(result.weights[:, 0], result.standard_errors.weights[0], weight_se)]
    for k in range(2):
        checks.append((result.means[:, k], result.standard_errors.means[k], mean_se[k]))
        checks.append((result.variances[:, k], result.standard_errors.variances[k],
                       variance_se[k]))
    for replicates, ours, theirs in checks:
        # Two independent estimates, each with about this MCSE.
        assert abs(ours - theirs) <= 3 * np.sqrt(2) * _sd_mcse(replicates), (ours, theirs)


def test_replicates_are_matched_to_the_fitted_components():
    result = fastem.bootstrap(WAITING, 2, n_boot=200, kind="nonparametric")
    # The components are 25 apart with SEs below 1: a switched label would stand out.
    assert np.all(np.abs(result.means - result.fit.means) < 5)
    np.testing.assert_allclose(result.weights.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(result.standard_errors.means,
                               np.std(result.means, axis=0, ddof=1), rtol=1e-12)
    lower, upper = np.percentile(result.variances, [2.5, 97.5], axis=0)
    np.testing.assert_allclose(result.lower.variances, lower, rtol=1e-12)
    np.testing.assert_allclose(result.upper.variances, upper, rtol=1e-12)


def test_a_dataset_does_not_depend_on_the_datasets_after_it():
    alone = fastem.bootstrap(WAITING, 2, n_boot=50, kind="parametric", random_state=3)
    batch = fastem.bootstrap([WAITING, WAITING[:100] + 5.0], 2, n_boot=50,
                             kind="parametric", random_state=3)
    np.testing.assert_array_equal(batch.means[0], alone.means)
    np.testing.assert_array_equal(batch.standard_errors.variances[0],
                                  alone.standard_errors.variances)
    assert batch.means.shape == (2, 50, 2)


def test_failed_replicates_are_counted_and_left_out_without_touching_other_datasets():
    # Three components on twelve points: some replicates find only spurious fits.
    small = np.array([0.0, 0.1, 0.15, 0.3, 2.0, 2.2, 2.3, 2.35, 5.0, 5.1, 5.3, 9.0])
    batch = fastem.bootstrap([WAITING, small], 3, n_boot=100, kind="nonparametric",
                             random_state=0)
    failed_rows = ~np.isfinite(batch.means[1]).all(axis=1)
    assert batch.n_failed[0] == 0 and batch.n_failed[1] > 0
    assert batch.n_failed[1] == failed_rows.sum()
    assert (batch.status[1][failed_rows] >= fastem.Status.SPURIOUS).all()
    expected = np.nanstd(batch.means[1], axis=0, ddof=1)
    np.testing.assert_allclose(batch.standard_errors.means[1], expected, rtol=1e-12)
    alone = fastem.bootstrap(WAITING, 3, n_boot=100, kind="nonparametric", random_state=0)
    np.testing.assert_array_equal(batch.means[0], alone.means)


def test_a_fixed_weight_has_no_standard_error():
    result = fastem.bootstrap(WAITING, 2, n_boot=20, equal_weights=True)
    assert np.isnan(result.standard_errors.weights).all()
    assert np.isfinite(result.standard_errors.means).all()
    one = fastem.bootstrap(WAITING, 1, n_boot=20)
    assert np.isnan(one.standard_errors.weights).all()
    # One component: the replicates' means are those of normal samples of the data's mean
    # and variance, whose standard deviation is sd / sqrt(n).
    assert one.standard_errors.means[0] == pytest.approx(
        WAITING.std() / np.sqrt(WAITING.size), rel=0.5)


def test_the_table_lists_every_parameter_with_its_interval():
    result = fastem.bootstrap(WAITING, 2, n_boot=30)
    table = result.table()
    assert table.columns == ["dataset", "component", "parameter", "estimate", "se", "lower",
                             "upper"]
    assert len(table) == 6
    assert (table["lower"] <= table["upper"]).all()
    assert "parametric, 30 replicates" in str(result)
    assert repr(result).startswith("BootstrapResult(1 dataset(s), parametric")


@pytest.mark.parametrize("options, message", [
    (dict(kind="bs"), "kind"),
    (dict(level=1.0), "level"),
    (dict(n_boot=1), "n_boot"),
    (dict(n_init_data=0), "n_init_data"),
])
def test_bad_options_are_refused_before_any_work(options, message):
    with pytest.raises(ValueError, match=message):
        fastem.bootstrap(WAITING, 2, **options)
