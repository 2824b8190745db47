"""The rule for spurious maxima (fastem.SpuriousRule), used alike by fit's status,
skip_degenerate, select, restart_summary and study."""

from pathlib import Path

import numpy as np
import pytest

import fastem
from fastem import SpuriousRule, Status

DATA = Path(__file__).parent / "data"
# R's MASS::galaxies / 1000 (km/s) and datasets::faithful, written by write.csv.
GALAXIES = np.loadtxt(DATA / "galaxies.csv", skiprows=1) / 1000.0
FAITHFUL = np.loadtxt(DATA / "faithful.csv", skiprows=1, delimiter=",")


def test_a_component_is_spurious_only_when_it_is_both_small_and_narrow():
    rule = SpuriousRule(min_points=5, min_variance_ratio=0.01)
    n = 100.0
    weights = np.array(
        [
            [0.04, 0.96],  # 4 points ...
            [0.04, 0.96],
            [0.06, 0.94],  # 6 points
            [0.5, 0.5],
        ]
    )
    variances = np.array(
        [
            [0.005, 1.0],  # ... narrow: spurious
            [0.02, 1.0],  # ... not narrow
            [0.005, 1.0],  # narrow, but not few
            [0.005, 1.0],
        ]
    )
    np.testing.assert_array_equal(rule.flags(weights, variances, n), [True, False, False, False])
    assert not SpuriousRule(0, 0).flags(weights, variances, n).any()
    # Per-fit n broadcasts: 40 points make the last fit's 20-point component ... still many.
    np.testing.assert_array_equal(
        rule.flags(weights, variances, [n, n, 50.0, 8.0]), [True, False, True, True]
    )


@pytest.mark.parametrize(
    "bad, error",
    [
        (dict(min_points=-1), ValueError),
        (dict(min_variance_ratio=1.5), ValueError),
        (dict(min_points="5"), TypeError),
    ],
)
def test_a_rule_with_a_bad_threshold_is_refused(bad, error):
    with pytest.raises(error, match="min_"):
        SpuriousRule(**bad)


def test_fit_rejects_a_rule_that_is_not_a_rule():
    with pytest.raises(TypeError, match="fastem.SpuriousRule"):
        fastem.fit(np.arange(10.0), 2, spurious=0.01)


def _with_a_tight_trio():
    """A normal sample and three nearly equal values within it: the likelihood has a
    spurious maximum, higher than the regular ones, with a component on the three."""
    sample = np.random.default_rng(0).normal(0.0, 1.0, 100)
    return np.r_[sample, [1.0, 1.0005, 1.001]]


ON_THE_TRIO = dict(weights_init=[0.97, 0.03], means_init=[0.0, 1.0005], variances_init=[1.0, 1e-6])


def test_fit_marks_a_component_on_three_close_points_spurious():
    x = _with_a_tight_trio()
    with pytest.warns(fastem.DegenerateFitWarning, match="spurious maximum"):
        result = fastem.fit(x, 2, **ON_THE_TRIO)
    assert result.status == Status.SPURIOUS and result.converged
    assert result.weights[1] * x.size < 5
    assert result.variances[1] < 0.01 * result.variances[0]
    plain = fastem.fit(x, 2, spurious=SpuriousRule(0, 0), **ON_THE_TRIO)
    assert plain.status == Status.CONVERGED
    assert plain.log_likelihood == result.log_likelihood  # the rule only labels


def test_skip_degenerate_prefers_a_regular_restart_to_a_spurious_one():
    x = _with_a_tight_trio()
    means = np.array([[[0.0, 1.0005], [-0.5, 0.5]]])  # restart 0: on the trio; 1: regular
    variances = np.array([[[1.0, 1e-6], [1.0, 1.0]]])
    options = dict(n_init=2, means_init=means, variances_init=variances, warn=False)
    highest = fastem.fit([x], 2, **options)
    assert highest.best_restart[0] == 0 and highest.status[0] == Status.SPURIOUS
    skipped = fastem.fit([x], 2, skip_degenerate=True, **options)
    assert skipped.best_restart[0] == 1 and skipped.status[0] == Status.CONVERGED
    np.testing.assert_array_equal(skipped.restart_status, highest.restart_status)


def test_restart_summary_describes_the_restarts_the_fit_was_chosen_among():
    # Old Faithful's waiting times are integers: with 4 components some restarts
    # collapse onto a repeated value, with a higher likelihood than any regular fit.
    waiting = FAITHFUL[:, 1]
    every = fastem.fit(waiting, 4, n_init=50, random_state=1, warn=False)
    regular = fastem.fit(waiting, 4, n_init=50, random_state=1, skip_degenerate=True)
    assert every.status >= Status.SPURIOUS and regular.status < Status.SPURIOUS
    assert regular.log_likelihood < every.log_likelihood
    assert fastem.restart_summary(every).best_log_likelihood == every.log_likelihood
    summary = fastem.restart_summary(regular)
    assert summary.best_log_likelihood == regular.log_likelihood
    kept = np.count_nonzero(regular.restart_status < Status.SPURIOUS)
    at_best = np.count_nonzero(
        (regular.restart_status < Status.SPURIOUS)
        & (regular.restart_log_likelihood >= regular.log_likelihood - 1e-4 * waiting.size)
    )
    assert summary.share_at_best == at_best / kept


def test_mclusts_galaxies_fit_is_not_spurious():
    # mclust (R 4.2.2, Debian's r-cran-mclust): Mclust(galaxies / 1000, G = 1:6) chooses
    # V,4, with a 7-point cluster of variance ratio 0.005. Its parameters, printed with
    # sprintf("%.17g"), and their log-likelihood computed in R with dnorm:
    # -199.2538239666 (Mclust's loglik, -199.2544961, is that of the E-step before its
    # last M-step).
    weights = [0.084406635429828666, 0.38615546296495529, 0.36963553817599587, 0.15980236342922022]
    means = [9.7074805444125722, 19.804456476947855, 22.877669960110726, 24.435158336309566]
    variances = [0.177294016838977, 0.43533391642661107, 1.252625963469268, 34.122438527388333]
    result = fastem.fit(
        GALAXIES, 4, weights_init=weights, means_init=means, variances_init=variances, tol=1e-10
    )
    start = fastem.fit(
        GALAXIES,
        4,
        weights_init=weights,
        means_init=means,
        variances_init=variances,
        max_iter=1,
        tol=0,
        trace=True,
        warn=False,
    )
    assert start.trace[0, 0] == pytest.approx(-199.2538239666, abs=1e-7)
    # EM from there (mclust stops at a relative change of 1e-5) gains a little more and
    # stays a regular fit.
    assert result.status == Status.CONVERGED
    assert -199.2538239666 < result.log_likelihood < -199.25


def test_select_gives_the_same_answer_at_every_call_and_seed():
    eruptions = FAITHFUL[:, 0]
    first = fastem.select(eruptions)
    assert fastem.select(eruptions).n_components == first.n_components
    answers = {fastem.select(eruptions, random_state=seed).n_components for seed in range(5)}
    assert answers == {first.n_components}


def test_select_leaves_out_spurious_candidates():
    # 14 points: with 4 components every fit has a narrow component on a few of them.
    x = np.r_[np.random.default_rng(1).normal(0.0, 1.0, 12), [3.0, 3.001]]
    with pytest.warns(fastem.DegenerateFitWarning, match="spurious"):
        selection = fastem.select(x, n_components=[1, 2, 3, 4], variance="unequal")
    spurious = selection.status >= Status.SPURIOUS
    assert spurious.any() and not selection.eligible[spurious].any()
    assert selection.status[selection.best] < Status.SPURIOUS
