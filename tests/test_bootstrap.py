"""fastem.bootstrap: standard errors and percentile intervals by parametric, nonparametric
and weighted likelihood bootstrap, checked against R's mclust and mixtools; the replicates
it leaves out (failed, spurious, ambiguously matched), and its warnings."""

import itertools
from pathlib import Path

import numpy as np
import pytest

import fastem

DATA = Path(__file__).parent / "data"
WAITING = np.loadtxt(DATA / "faithful.csv", skiprows=1, delimiter=",")[:, 1]
GALAXIES = np.loadtxt(DATA / "galaxies.csv", skiprows=1)

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
    # Two components 25 apart: no replicate is left out, so mclust's SEs are comparable.
    assert result.n_failed == result.n_spurious == result.n_ambiguous == 0
    checks = [(result.weights[:, 0], result.standard_errors.weights[0], weight_se)]
    for k in range(2):
        checks.append((result.means[:, k], result.standard_errors.means[k], mean_se[k]))
        checks.append((result.variances[:, k], result.standard_errors.variances[k], variance_se[k]))
    for replicates, ours, theirs in checks:
        # Two independent estimates, each with about this MCSE.
        assert abs(ours - theirs) <= 3 * np.sqrt(2) * _sd_mcse(replicates), (ours, theirs)


def test_replicates_are_matched_to_the_fitted_components():
    result = fastem.bootstrap(WAITING, 2, n_boot=200, kind="nonparametric")
    # The components are 25 apart with SEs below 1: a switched label would stand out.
    assert np.all(np.abs(result.means - result.fit.means) < 5)
    np.testing.assert_allclose(result.weights.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(
        result.standard_errors.means, np.std(result.means, axis=0, ddof=1), rtol=1e-12
    )
    lower, upper = np.percentile(result.variances, [2.5, 97.5], axis=0)
    np.testing.assert_allclose(result.lower.variances, lower, rtol=1e-12)
    np.testing.assert_allclose(result.upper.variances, upper, rtol=1e-12)


def test_a_dataset_does_not_depend_on_the_datasets_after_it():
    alone = fastem.bootstrap(WAITING, 2, n_boot=50, kind="parametric", random_state=3)
    batch = fastem.bootstrap(
        [WAITING, WAITING[:100] + 5.0], 2, n_boot=50, kind="parametric", random_state=3
    )
    np.testing.assert_array_equal(batch.means[0], alone.means)
    np.testing.assert_array_equal(
        batch.standard_errors.variances[0], alone.standard_errors.variances
    )
    assert batch.means.shape == (2, 50, 2)


def _left_out_message(result, d=0):
    """The counts of dataset ``d`` as bootstrap's warning gives them."""
    failed, spurious, ambiguous = (
        np.atleast_1d(getattr(result, name))[d]
        for name in ("n_failed", "n_spurious", "n_ambiguous")
    )
    return f"dataset {d}: {failed} failed, {spurious} spurious, {ambiguous} ambiguous"


def test_left_out_replicates_are_counted_and_warned_about_without_touching_other_datasets():
    # Three components on twelve points: the fit to them collapses, and most replicates find
    # only spurious fits. Faithful's waiting times have two components, so a third is
    # placed by chance, and many replicates match two labellings of the fit about equally.
    small = np.array([0.0, 0.1, 0.15, 0.3, 2.0, 2.2, 2.3, 2.35, 5.0, 5.1, 5.3, 9.0])
    with pytest.warns(fastem.DegenerateFitWarning) as caught:
        # 30 restarts of the fits to the data, as the search of three components on
        # waiting times does not settle (the bootstrap's accounting is the subject here).
        batch = fastem.bootstrap(
            [WAITING, small], 3, n_boot=100, kind="nonparametric", n_init_data=30, random_state=0
        )
    messages = [str(w.message) for w in caught]
    assert any(m.startswith("1 of 2 dataset(s) ended with a collapsed component") for m in messages)
    left_out = [m for m in messages if "left out of the standard errors" in m]
    assert len(left_out) == 1
    assert _left_out_message(batch, 0) in left_out[0]
    assert _left_out_message(batch, 1) in left_out[0]

    no_estimates = ~np.isfinite(batch.means).all(axis=2)
    assert batch.n_failed[0] == batch.n_spurious[0] == 0 and batch.n_spurious[1] > 0
    np.testing.assert_array_equal(batch.n_failed + batch.n_spurious, no_estimates.sum(axis=1))
    assert (batch.status[no_estimates] >= fastem.Status.SPURIOUS).all()
    assert not (batch.ambiguous & no_estimates).any()  # one reason per replicate
    np.testing.assert_array_equal(batch.n_ambiguous, batch.ambiguous.sum(axis=1))
    assert batch.n_ambiguous[0] > 0.05 * 100
    kept = np.where(batch.ambiguous[0][:, None], np.nan, batch.means[0])
    np.testing.assert_allclose(
        batch.standard_errors.means[0], np.nanstd(kept, axis=0, ddof=1), rtol=1e-12
    )
    with pytest.warns(fastem.DegenerateFitWarning, match=_left_out_message(batch, 0)):
        alone = fastem.bootstrap(
            WAITING, 3, n_boot=100, kind="nonparametric", random_state=0, n_init_data=30
        )
    np.testing.assert_array_equal(batch.means[0], alone.means)
    np.testing.assert_array_equal(batch.ambiguous[0], alone.ambiguous)


def _flags_by_enumeration(result, ambiguity=4.0):
    """Which replicates of one dataset the rule calls ambiguous, from the cost of every
    labelling of their components (the cost of fastem.match_components)."""
    means, variances = result.means, result.variances
    k = means.shape[1]
    with np.errstate(invalid="ignore"):  # left-out replicates: NaN
        cost = (means[:, :, None] - result.fit.means) ** 2 / result.fit.variances + (
            np.log(variances[:, :, None]) - np.log(result.fit.variances)
        ) ** 2
    labellings = np.array(list(itertools.permutations(range(k))))
    costs = sum(cost[:, labellings[:, j], j] for j in range(k))
    regular = np.isfinite(costs).all(axis=1)
    ordered = np.sort(costs, axis=1)
    # Replicates are matched by the labelling of least cost: the identity.
    np.testing.assert_allclose(ordered[regular, 0], costs[regular, 0], rtol=1e-12)
    return regular & (ordered[:, 1] <= ambiguity * ordered[:, 0])


def test_galaxies_with_three_components_leave_out_ambiguous_replicates_and_say_so():
    # R's galaxies: the third component stands on 3 of 82 points. Many replicates fit only
    # spurious maxima, or put their third component elsewhere (onto the main one, say);
    # matched to the fit's third anyway, those made its standard errors many times the
    # Louis information's, without a word. 999 replicates in docs/guide/standard-errors.md;
    # 200 here.
    with pytest.warns(fastem.DegenerateFitWarning) as caught:
        result = fastem.bootstrap(GALAXIES, 3, n_boot=200)
    assert len(caught) == 1  # the fit to the data is regular
    message = str(caught[0].message)
    assert (
        message.startswith("1 of 1 dataset(s) have more than 5% of their 200 replicates left out")
        and _left_out_message(result) in message
    )
    assert result.n_failed == 0
    assert result.n_spurious > 10 and result.n_ambiguous > 10
    np.testing.assert_array_equal(result.ambiguous, _flags_by_enumeration(result))
    louis = fastem.fit(
        GALAXIES, 3, n_init=30, random_state=0, skip_degenerate=True, se="louis"
    ).standard_errors
    ratio = result.standard_errors.means / louis.means
    assert ((ratio > 0.5) & (ratio < 2)).all(), ratio
    assert result.upper.weights[2] < 0.2  # a weight of 0.037 on 3 points
    with pytest.warns(fastem.DegenerateFitWarning, match=r"0 failed, \d+ spurious, 0 ambig"):
        kept = fastem.bootstrap(GALAXIES, 3, n_boot=200, ambiguity=1)
    np.testing.assert_array_equal(kept.means, result.means)  # the same replicates
    ratio = kept.standard_errors.means / louis.means
    assert ratio[0] > 3 and ratio[2] > 3, ratio
    assert kept.upper.weights[2] > 0.5


def test_replicates_of_two_nearly_equal_components_are_flagged_as_label_switched():
    # Two normals 0.3 standard deviations apart: the fit's two components have means 0.2
    # apart and differ mostly in their variances, and a replicate's two components often
    # match the fit's either way round at about the same cost.
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.normal(0.0, 1.0, 100), rng.normal(0.3, 1.0, 100)])
    # 30 restarts of the fit to the data: the search of two nearly equal components, on a
    # flat likelihood, does not settle (the labels of the replicates are the subject here).
    with pytest.warns(fastem.DegenerateFitWarning, match="left out") as caught:
        result = fastem.bootstrap(x, 2, n_boot=100, n_init_data=30)
    assert _left_out_message(result) in str(caught[0].message)
    assert abs(np.diff(result.fit.means)[0]) < 0.25 * np.sqrt(result.fit.variances.max())
    np.testing.assert_array_equal(result.ambiguous, _flags_by_enumeration(result))
    assert result.n_ambiguous >= 20
    # With two components the second-best labelling is the swapped one.
    means, variances = result.means, result.variances
    fitted_means, fitted_variances = result.fit.means, result.fit.variances
    identity = (
        (means - fitted_means) ** 2 / fitted_variances + np.log(variances / fitted_variances) ** 2
    ).sum(axis=1)
    swapped = (
        (means[:, ::-1] - fitted_means) ** 2 / fitted_variances
        + np.log(variances[:, ::-1] / fitted_variances) ** 2
    ).sum(axis=1)
    flagged, clear = result.ambiguous, ~result.ambiguous & np.isfinite(identity)
    assert (swapped[flagged] <= 4 * identity[flagged]).all()
    assert (swapped[clear] > 4 * identity[clear]).all()
    kept = np.where(flagged[:, None], np.nan, means)
    np.testing.assert_allclose(
        result.standard_errors.means, np.nanstd(kept, axis=0, ddof=1), rtol=1e-12
    )


def test_a_bootstrap_of_identical_values_warns_as_fit_does():
    x = np.full(100, 3.0)
    with pytest.warns(fastem.DegenerateFitWarning) as by_fit:
        fastem.fit(x, 2, n_init=30, random_state=0)
    with pytest.warns(fastem.DegenerateFitWarning) as caught:
        result = fastem.bootstrap(x, 2, n_boot=20)
    messages = [str(w.message) for w in caught]
    assert str(by_fit[0].message) in messages  # the collapsed fit to the data
    assert result.fit.status == fastem.Status.VARIANCE_FLOORED
    # Its two components are the same: every replicate matches both labellings alike.
    assert result.n_ambiguous == 20 and any(_left_out_message(result) in m for m in messages)
    assert np.isnan(result.standard_errors.means).all()


def test_each_dataset_is_bootstrapped_with_its_own_number_of_components():
    one = np.random.default_rng(2).normal(10.0, 2.0, 150)
    with pytest.warns(fastem.DegenerateFitWarning, match="dataset 2"):  # K=3 on waiting
        result = fastem.bootstrap([WAITING, one, WAITING], [2, 1, 3], n_boot=40, n_init_data=30)
    np.testing.assert_array_equal(result.n_components, [2, 1, 3])
    assert sorted(result.fit) == [1, 2, 3]
    assert result.means.shape == (3, 40, 3) and result.standard_errors.means.shape == (3, 3)
    assert np.isnan(result.means[0, :, 2]).all() and np.isnan(result.means[1, :, 1:]).all()
    assert np.isnan(result.standard_errors.weights[1]).all()  # one component: weight 1
    assert np.isfinite(result.standard_errors.means[1, 0])
    table = result.table()
    assert list(table["dataset"]) == [0] * 6 + [1] * 3 + [2] * 9
    alone = fastem.bootstrap(WAITING, 2, n_boot=40)
    np.testing.assert_array_equal(result.fit[2].means[0], alone.fit.means)
    np.testing.assert_array_equal(result.means[0, :, :2], alone.means)
    np.testing.assert_array_equal(result.standard_errors.means[0, :2], alone.standard_errors.means)
    by_bic = fastem.bootstrap([WAITING, one], "bic", n_boot=40)
    np.testing.assert_array_equal(by_bic.n_components, [2, 1])
    np.testing.assert_array_equal(by_bic.means, result.means[:2, :, :2])
    with pytest.raises(ValueError, match=r"one integer >= 1 per dataset \(shape \(2,\)\)"):
        fastem.bootstrap([WAITING, one], [2, 1, 3], n_boot=40)
    with pytest.raises(ValueError, match="n_components='bics' is not one of 'bic'"):
        fastem.bootstrap([WAITING, one], "bics", n_boot=40)


def test_a_fixed_weight_has_no_standard_error():
    result = fastem.bootstrap(WAITING, 2, n_boot=20, equal_weights=True)
    assert np.isnan(result.standard_errors.weights).all()
    assert np.isfinite(result.standard_errors.means).all()
    one = fastem.bootstrap(WAITING, 1, n_boot=20)
    assert np.isnan(one.standard_errors.weights).all()
    # One component: the replicates' means are those of normal samples of the data's mean
    # and variance, whose standard deviation is sd / sqrt(n).
    assert one.standard_errors.means[0] == pytest.approx(
        WAITING.std() / np.sqrt(WAITING.size), rel=0.5
    )


def test_the_table_lists_every_parameter_with_its_interval():
    result = fastem.bootstrap(WAITING, 2, n_boot=30)
    table = result.table()
    assert table.columns == [
        "dataset",
        "component",
        "parameter",
        "estimate",
        "se",
        "lower",
        "upper",
        "n_failed",
        "n_spurious",
        "n_ambiguous",
    ]
    assert len(table) == 6 and (table["n_ambiguous"] == 0).all()
    assert (table["lower"] <= table["upper"]).all()
    assert "parametric, 30 replicates" in str(result)
    assert repr(result).startswith("BootstrapResult(1 dataset(s), parametric")


@pytest.mark.parametrize(
    "options, message",
    [
        (dict(kind="bs"), "kind"),
        (dict(level=1.0), "level"),
        (dict(n_boot=1), "n_boot"),
        (dict(n_init_data=0), "n_init_data"),
        (dict(ambiguity=0.5), "ambiguity"),
    ],
)
def test_bad_options_are_refused_before_any_work(options, message):
    with pytest.raises(ValueError, match=message):
        fastem.bootstrap(WAITING, 2, **options)


@pytest.mark.parametrize("kind", ["parametric", "nonparametric"])
def test_integer_frequency_weights_give_the_bootstrap_of_the_repeated_points(kind):
    # The waiting times are whole minutes: their distinct values with their counts are the
    # same data. Parametric replicates are the same draws from the same fit; nonparametric
    # ones draw positions among the repeated points, so they are the same points. (The
    # weighted kind's Gamma(w) weights match the repeated points' only in distribution.)
    # The fits agree to their stopping rule: the parameter rule's here (the default loglik
    # rule leaves differences of about 1e-5 relative in a replicate's estimates).
    values, counts = np.unique(WAITING, return_counts=True)
    options = dict(n_boot=49, kind=kind, stop="parameter")
    weighted = fastem.bootstrap(values, 2, sample_weight=counts, **options)
    repeated = fastem.bootstrap(np.repeat(values, counts), 2, **options)
    for name in ("weights", "means", "variances"):
        np.testing.assert_allclose(getattr(weighted, name), getattr(repeated, name), rtol=1e-6)
        np.testing.assert_allclose(
            getattr(weighted.standard_errors, name),
            getattr(repeated.standard_errors, name),
            rtol=1e-5,
        )


@pytest.mark.parametrize("kind", ["parametric", "nonparametric"])
def test_frequency_weights_whose_replicates_cannot_fit_in_memory_are_refused(kind):
    x = np.array([-3.0, -2.5, -2.0, 2.0, 2.5, 3.0])
    with pytest.raises(
        ValueError,
        match=r"the weights of dataset 0 sum to 6e\+12: a "
        r"replicate of 6e\+12 points would need .* Divide the weights, or pass "
        r"sample_weight_type='probability'",
    ):
        fastem.bootstrap(x, 2, 9, kind=kind, sample_weight=np.full(6, 1e12))
