"""The search for a dataset's maximum: seeding by content, how settled a search is,
restarts until settled, pools of strategies, nested candidates."""

from __future__ import annotations

import warnings
from dataclasses import fields
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import fastem
from fastem import search
from fastem.engine.status import Status
from fastem.toolkit import refit as _refit

DATA = Path(__file__).parent / "data"
GALAXIES = np.loadtxt(DATA / "galaxies.csv", skiprows=1)
WAITING = np.loadtxt(DATA / "faithful.csv", skiprows=1, delimiter=",")[:, 1]


def _arrays_equal(a, b):
    """Every array field of two FitResults, bit for bit (NaN equal to NaN)."""
    for field in fields(a):
        x, y = getattr(a, field.name), getattr(b, field.name)
        if isinstance(x, np.ndarray):
            np.testing.assert_array_equal(x, y, err_msg=field.name, strict=True)


# --- same data, same answer --------------------------------------------------------------


@pytest.mark.exact
def test_the_same_dataset_at_eight_places_of_a_batch_gets_eight_identical_fits():
    rng = np.random.default_rng(3)
    others = [rng.normal(size=82) for _ in range(7)]
    batch = others[:3] + [GALAXIES] + others[3:]
    result = fastem.fit(
        [GALAXIES] * 8, 3, n_init=30, random_state=0, skip_degenerate=True, warn=False
    )
    mixed = fastem.fit(batch, 3, n_init=30, random_state=0, skip_degenerate=True, warn=False)
    for d in range(8):
        np.testing.assert_array_equal(result.means[d], result.means[0])
        np.testing.assert_array_equal(
            result.restart_log_likelihood[d], result.restart_log_likelihood[0]
        )
    np.testing.assert_array_equal(mixed.restart_log_likelihood[3], result.restart_log_likelihood[0])


@pytest.mark.exact
def test_permuting_the_datasets_of_a_batch_permutes_the_results_bit_for_bit():
    rng = np.random.default_rng(11)
    data = [rng.normal(rng.choice([-2.0, 2.0], n), 1.0) for n in rng.integers(30, 200, 12)]
    weights = [rng.integers(1, 4, x.size).astype(float) for x in data]
    order = rng.permutation(len(data))
    options = dict(
        n_init=6,
        init={"kmeans++": 3, "random": 2, "emem": 1},
        random_state=5,
        return_restarts=True,
        warn=False,
    )
    whole = fastem.fit(data, 2, sample_weight=weights, **options)
    permuted = fastem.fit(
        [data[i] for i in order], 2, sample_weight=[weights[i] for i in order], **options
    )
    for field in fields(whole):
        value = getattr(whole, field.name)
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(
                value[order], getattr(permuted, field.name), err_msg=field.name, strict=True
            )


def test_a_dataset_alone_gets_the_fit_it_gets_in_a_batch():
    alone = fastem.fit(WAITING, 3, n_init="auto", random_state=2, skip_degenerate=True)
    batch = fastem.fit(
        [GALAXIES, WAITING], 3, n_init="auto", random_state=2, skip_degenerate=True, warn=False
    )
    np.testing.assert_array_equal(batch.means[1], alone.means)
    assert batch.log_likelihood[1] == alone.log_likelihood
    assert batch.n_restarts[1] == alone.n_restarts


def test_the_content_key_depends_on_values_order_and_weights_but_not_on_place_or_units():
    from fastem.engine.rng import content_keys

    x = np.array([1.0, 2.0, 3.5, -0.0])
    offsets = np.array([0, 4, 8, 12, 16, 20])
    values = np.concatenate([x, x, x[::-1], np.where(x == 0, 0.0, x), 1e140 * x - 7e140])
    center = np.array([1.625, 1.625, 1.625, 1.625, 1.625e140 - 7e140])
    scale = np.array([1.3, 1.3, 1.3, 1.3, 1.3e140])
    keys = content_keys(values, offsets, center, scale)
    assert keys[0] == keys[1] == keys[3]  # -0.0 is 0.0: the same number
    assert keys[4] == keys[0]  # the same data in other units
    assert keys[2] != keys[0]  # the order of the points matters to EM's sums
    weights = np.ones(20)
    weights[4] = 2.0
    weighted = content_keys(values, offsets, center, scale, weights)
    assert weighted[0] == weighted[3] != weighted[1]
    assert weighted[0] == keys[0]  # unit weights are no weights


def test_a_fit_is_the_same_in_any_units():
    # The same streams (the keys above); k-means++'s draws by distance can still fall on
    # other points where the data's rounding moves a cumulative sum across a draw, so the
    # starts agree mostly, and the fits at the maximum.
    result = fastem.fit(WAITING, 3, n_init=10, random_state=0, return_restarts=True)
    scaled = fastem.fit(WAITING * 1e-3 + 5.0, 3, n_init=10, random_state=0, return_restarts=True)
    same = np.isclose(scaled.start_means, result.start_means * 1e-3 + 5.0, rtol=1e-12)
    assert same.mean() > 0.5
    np.testing.assert_allclose(scaled.weights, result.weights, rtol=1e-6)
    np.testing.assert_allclose(scaled.means, result.means * 1e-3 + 5.0, rtol=1e-6)


def test_a_scenario_studied_alone_draws_the_datasets_it_draws_beside_others():
    first = fastem.Scenario((0.5, 0.5), (0.0, 4.0), (1.0, 1.0), name="a")
    second = fastem.Scenario((0.3, 0.7), (0.0, 2.0), (1.0, 1.0), name="b")
    options = dict(n_samples=(30, 60), replications=50, n_init=2, random_state=4)
    both = fastem.study(scenarios=[first, second], **options)
    alone = fastem.study(scenarios=[second], **options)
    raw_both, raw_alone = both.raw(), alone.raw()
    rows = np.asarray(raw_both["scenario"]) == "b"
    np.testing.assert_array_equal(
        np.asarray(raw_both["log_likelihood"])[rows], raw_alone["log_likelihood"]
    )
    one_size = fastem.study(scenarios=[second], **dict(options, n_samples=(60,)))
    sixty = np.asarray(raw_alone["n_samples"]) == 60
    np.testing.assert_array_equal(
        np.asarray(raw_alone["log_likelihood"])[sixty], one_size.raw()["log_likelihood"]
    )


# --- how settled a search is -------------------------------------------------------------


def test_settledness_counts_maxima_restarts_at_the_best_and_singletons():
    ll = np.array(
        [
            [-10.0, -10.0, -10.5, -11.0, -11.0, -12.0],  # 4 maxima, 2 of them seen once
            [-5.0, -5.0, -5.0, -5.0, -5.0, -5.0],  # settled
            [-5.0, -7.0, -7.0, -7.0, -7.0, -7.0],  # the best seen once
            [-5.0, np.nan, -5.0, -6.0, -5.0, -5.0],  # NaN is no restart
        ]
    )
    counted = np.ones(ll.shape, dtype=bool)
    counted[3, 3] = False  # a spurious restart, say
    result = search.settledness(ll, counted, unseen_tol=0.05)
    np.testing.assert_array_equal(result.n_maxima, [4, 1, 2, 1])
    np.testing.assert_array_equal(result.n_at_best, [2, 6, 1, 4])
    np.testing.assert_allclose(result.p_unseen, [2 / 6, 0.0, 1 / 6, 0.0])
    np.testing.assert_array_equal(result.settled, [False, True, False, True])


def test_log_likelihoods_within_the_tolerance_are_one_maximum():
    best = -1000.0
    close = best - 0.5 * search.SAME_MAXIMUM * 1001.0
    apart = best - 2.0 * search.SAME_MAXIMUM * 1001.0
    result = search.settledness(
        np.array([[best, close, apart, apart]]), np.ones((1, 4), dtype=bool)
    )
    assert result.n_maxima[0] == 2 and result.n_at_best[0] == 2


def test_a_single_restart_is_never_settled_and_no_restart_has_nan():
    result = search.settledness(np.array([[-3.0], [np.nan]]), np.ones((2, 1), dtype=bool))
    np.testing.assert_array_equal(result.settled, [False, False])
    assert result.p_unseen[0] == 1.0 and np.isnan(result.p_unseen[1])


def test_one_restart_is_counted_as_the_general_rule_counts_it():
    """One restart per dataset takes a shortcut: the same as that restart beside one
    that does not count, which the general rule handles, for every kind of value."""
    ll = np.array([[-3.0], [np.nan], [-np.inf], [np.inf], [-3.0]])
    counted = np.array([[True], [True], [True], [True], [False]])
    padded = search.settledness(
        np.concatenate([ll, np.full_like(ll, -1.0)], axis=1),
        np.concatenate([counted, np.zeros_like(counted)], axis=1),
    )
    for mine, general in zip(search.settledness(ll, counted), padded):
        np.testing.assert_array_equal(mine, general, strict=True)
    for mine, general in zip(search.settledness(ll.tolist(), counted.tolist()), padded):
        np.testing.assert_array_equal(mine, general, strict=True)  # lists as well
    np.testing.assert_array_equal(padded.n_maxima, [1, 0, 0, 0, 0])


def test_fit_reports_its_search():
    result = fastem.fit(GALAXIES, 3, n_init=40, random_state=0, skip_degenerate=True)
    counted = search.counted_restarts(result.restart_status, True)
    expected = search.settledness(result.restart_log_likelihood[np.newaxis], counted[np.newaxis])
    assert result.n_maxima == expected.n_maxima[0]
    assert result.n_at_best == expected.n_at_best[0]
    assert result.p_unseen == expected.p_unseen[0]
    assert "search settled" in result.summary() or "NOT settled" in result.summary()


# --- restarts until settled --------------------------------------------------------------


def test_auto_restarts_stop_when_settled_and_pad_the_rest():
    data = [WAITING, GALAXIES]
    result = fastem.fit(data, 2, n_init="auto", random_state=0, skip_degenerate=True, warn=False)
    assert result.settled.all()
    assert (result.n_restarts <= search.AUTO_MAX_INIT).all()
    for d in range(2):
        n = result.n_restarts[d]
        assert (result.restart_status[d, n:] == Status.NOT_RUN).all()
        assert np.isnan(result.restart_log_likelihood[d, n:]).all()
        assert (result.restart_status[d, :n] < Status.NOT_RUN).all()


@pytest.mark.parametrize("init", ["kmeans++", "emem", "hc"])
def test_auto_restarts_of_one_named_strategy_run_in_rounds_of_the_pools_size(init):
    # One strategy by name searches in rounds as big as the default pool's (this once
    # looped for ever on rounds of no restart).
    result = fastem.fit(WAITING, 2, init=init, n_init="auto", random_state=0, warn=False)
    assert result.n_restarts % sum(search.AUTO_POOL.values()) == 0
    assert result.n_restarts <= search.AUTO_MAX_INIT


def test_a_search_that_does_not_settle_within_its_budget_is_flagged_and_warned():
    with pytest.warns(fastem.SearchWarning, match="did not settle"):
        result = fastem.fit(
            WAITING, 5, n_init="auto", max_init=10, random_state=0, skip_degenerate=True
        )
    assert not result.settled and result.n_restarts == 10


def test_round_sizes_double_up_to_the_budget():
    assert search.round_sizes(10, 100) == [10, 10, 20, 40, 20]
    assert search.round_sizes(10, search.AUTO_MAX_INIT) == [10, 10, 20, 10]
    assert search.round_sizes(10, 15) == [10, 5]


def test_the_best_restart_of_a_search_runs_on_to_the_fits_own_rule():
    # The rounds stop at the parameter rule's 1e-5; the returned fit meets fit's 1e-7.
    result = fastem.fit(
        WAITING,
        3,
        n_init="auto",
        random_state=0,
        skip_degenerate=True,
        return_restarts=True,
        warn=False,
    )
    step = fastem.fit(
        WAITING,
        3,
        weights_init=result.weights,
        means_init=result.means,
        variances_init=result.variances,
        max_iter=1,
        tol=0,
        algorithm="em",
    )
    change = np.abs(step.means - result.means) / WAITING.std()
    assert change.max() < 1e-7 and result.converged
    # The best restart's iterations are those of the rounds and of the polish.
    assert result.n_iter == result.restart_n_iter[result.best_restart]


# --- pools of strategies -----------------------------------------------------------------


@pytest.mark.exact
def test_a_pool_starts_its_first_strategy_as_that_strategy_alone():
    pooled = fastem.fit(
        WAITING,
        3,
        init={"kmeans++": 4, "random": 3},
        return_restarts=True,
        random_state=7,
        warn=False,
    )
    alone = fastem.fit(
        WAITING, 3, init="kmeans++", n_init=4, return_restarts=True, random_state=7, warn=False
    )
    assert pooled.n_init == 7
    np.testing.assert_array_equal(pooled.start_means[:4], alone.start_means)
    np.testing.assert_array_equal(pooled.restart_log_likelihood[:4], alone.restart_log_likelihood)
    # The second strategy draws from restart numbers after the first's.
    random = fastem.init.random(WAITING, 3, n_init=7, random_state=7)
    np.testing.assert_array_equal(pooled.start_means[4:], random.means[4:])


def test_a_pool_with_another_n_init_is_refused():
    with pytest.raises(ValueError, match="init pools 20 restarts"):
        fastem.fit(WAITING, 2, n_init=5, init={"random": 10, "kmeans++": 10})
    with pytest.raises(ValueError, match="not options of any strategy"):
        fastem.fit(WAITING, 2, init={"random": 2}, init_params={"n_runs": 3})
    with pytest.raises(TypeError, match="integer or 'auto'"):
        fastem.fit(WAITING, 2, n_init="many")


# --- nested candidates -------------------------------------------------------------------


def test_nested_starts_split_each_component_keeping_its_mean_and_variance():
    params = _refit.Parameters(
        np.array([[0.3, 0.7]]), np.array([[0.0, 5.0]]), np.array([[1.0, 4.0]])
    )
    starts = _refit.nested_starts(params)
    assert starts.means.shape == (1, 2, 3)
    for j, (w, m, v) in enumerate(zip(*(p[0] for p in params))):
        halves = np.abs(starts.means[0, j] - m) == _refit.SPLIT_SPREAD * np.sqrt(v)
        assert halves.sum() == 2
        weights = starts.weights[0, j, halves]
        means = starts.means[0, j, halves]
        variances = starts.variances[0, j, halves]
        assert np.isclose(weights.sum(), w)
        mean = np.average(means, weights=weights)
        assert np.isclose(mean, m)
        spread = np.average(variances + (means - mean) ** 2, weights=weights)
        assert np.isclose(spread, v)


def test_a_nested_fit_is_never_below_the_fit_of_one_component_fewer(monkeypatch):
    x = np.random.default_rng(8).normal(size=500)
    smaller = fastem.fit(x, 1)

    def poor_starts(params, equal_variance=False):  # both components far in one tail
        shape = (1, 1, 2)
        return _refit.Parameters(
            np.full(shape, 0.5), np.array([[[3.0, 3.5]]]), np.full(shape, 0.01)
        )

    monkeypatch.setattr(_refit, "nested_starts", poor_starts)
    monkeypatch.setattr(_refit, "tight_starts", lambda data, params, weights: poor_starts(params))
    result = _refit.fit_nested(
        x,
        2,
        smaller,
        n_init=1,
        init="quantile",
        random_state=0,
        options=dict(max_iter=1, tol=0, algorithm="em", warn=False, skip_degenerate=True),
    )
    regular = result.restart_status < Status.SPURIOUS
    assert regular.any()
    assert result.restart_log_likelihood[regular].max() < smaller.log_likelihood
    assert result.best_restart == -1  # so the fit returned is the smaller one's, halved
    assert result.log_likelihood >= smaller.log_likelihood - 1e-12 * abs(smaller.log_likelihood)
    assert search.no_better(result, smaller).all()


def test_select_candidates_never_lose_likelihood_with_one_more_component():
    for x in (GALAXIES, WAITING):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", fastem.SearchWarning)  # K=5 of WAITING
            chosen = fastem.select(x, range(1, 6))
        table = chosen.table()
        for model in ("equal", "unequal"):
            rows = [i for i, v in enumerate(table["variance"]) if v in (model, "-")]
            ll = np.asarray(table["log_likelihood"])[rows]
            assert (np.diff(ll) >= -1e-9 * np.abs(ll[:-1])).all(), (model, ll)
        assert {"redundant", "settled", "p_unseen", "n_restarts"} <= set(table.columns)


def test_no_better_marks_a_fit_that_does_not_improve_on_one_component_fewer():
    smaller = SimpleNamespace(log_likelihood=np.array([-100.0, -100.0, np.nan]))
    fit = SimpleNamespace(log_likelihood=np.array([-100.0 + 1e-6, -99.0, -50.0]))
    np.testing.assert_array_equal(search.no_better(fit, smaller), [True, False, False])
    assert not search.no_better(fit, None).any()
