"""Label matching, restart summaries, model selection, the study and its table."""

import importlib
import json
import warnings

import numpy as np
import pytest

import fastem
from fastem import Status


def test_match_components_on_a_hand_made_case():
    true_w, true_m, true_v = [0.2, 0.3, 0.5], [0.0, 0.0, 10.0], [1.0, 25.0, 4.0]
    # Dataset 0: components in another order; dataset 1: the two at mean 0 told apart by
    # their variances only.
    weights = np.array([[0.5, 0.2, 0.3], [0.31, 0.19, 0.5]])
    means = np.array([[9.8, 0.1, -0.2], [0.3, -0.1, 10.1]])
    variances = np.array([[4.1, 1.2, 24.0], [20.0, 1.5, 3.0]])
    matched = fastem.match_components(weights, means, variances, true_w, true_m, true_v)
    np.testing.assert_array_equal(matched.order, [[1, 2, 0], [1, 0, 2]])
    np.testing.assert_array_equal(matched.means[0], [0.1, -0.2, 9.8])
    np.testing.assert_array_equal(matched.variances[1], [1.5, 20.0, 3.0])
    np.testing.assert_array_equal(matched.weights[1], [0.19, 0.31, 0.5])


def test_match_components_is_exhaustive_search():
    from itertools import permutations

    rng = np.random.default_rng(0)
    k = 5
    true_m, true_v = rng.normal(size=k) * 3, rng.uniform(0.5, 2.0, k)
    means, variances = rng.normal(size=(50, k)) * 3, rng.uniform(0.5, 2.0, (50, k))
    matched = fastem.match_components(
        np.full((50, k), 0.2), means, variances, np.full(k, 0.2), true_m, true_v
    )

    def cost(m, v):
        return ((m - true_m) ** 2 / true_v + np.log(v / true_v) ** 2).sum()

    for d in range(50):
        brute = min(cost(means[d, list(p)], variances[d, list(p)]) for p in permutations(range(k)))
        assert cost(matched.means[d], matched.variances[d]) == pytest.approx(brute, rel=1e-12)


def test_restart_summary_counts_maxima():
    result = fastem.FitResult.__new__(fastem.FitResult)
    object.__setattr__(
        result,
        "restart_log_likelihood",
        np.array(
            [[-100.0, -100.00001, -103.0, -103.0, np.nan], [-50.0, -50.0, -50.0, -50.0, -50.0]]
        ),
    )
    object.__setattr__(result, "n_observations", np.array([100.0, 40.0]))
    object.__setattr__(result, "skip_degenerate", False)
    summary = fastem.restart_summary(result, tol=1e-4)
    np.testing.assert_array_equal(summary.best_log_likelihood, [-100.0, -50.0])
    np.testing.assert_allclose(summary.share_at_best, [0.4, 1.0])
    np.testing.assert_array_equal(summary.n_local_maxima, [2, 1])


def test_restart_summary_on_real_restarts(three_component_batch):
    result = fastem.fit(
        three_component_batch[:10], 3, n_init=8, init="random_from_data", random_state=1
    )
    summary = fastem.restart_summary(result)
    np.testing.assert_array_equal(summary.best_log_likelihood, result.log_likelihood)
    assert (summary.share_at_best > 0).all() and (summary.share_at_best <= 1).all()
    assert (summary.n_local_maxima >= 1).all() and (summary.n_local_maxima <= 8).all()


def test_select_recovers_the_number_of_components():
    rng = np.random.default_rng(5)
    data = []
    for k in (1, 2, 3, 2, 1, 3):
        centres = 8.0 * np.arange(k)
        data.append(rng.normal(centres[rng.integers(0, k, 400)], 1.0))
    selection = fastem.select(data, n_components=range(1, 5), random_state=0)
    np.testing.assert_array_equal(selection.n_components, [1, 2, 3, 2, 1, 3])
    # Equal unit variances: the tied model has fewer parameters and should win.
    assert (selection.variance[selection.n_components > 1] == "equal").all()
    assert selection.bic.shape == (6, 7)  # one candidate with K=1
    np.testing.assert_array_equal(selection.n_parameters, [2, 4, 5, 6, 8, 8, 11])
    table = selection.table()
    assert len(table) == 42 and table["chosen"].sum() == 6
    chosen = selection.best
    for d in range(6):
        fit = selection.fits[chosen[d]]
        k = selection.n_components[d]
        np.testing.assert_array_equal(selection.means[d, :k], fit.means[d])
        assert np.isnan(selection.means[d, k:]).all()


def test_select_criteria_signs_and_icl():
    x = np.random.default_rng(6).normal(size=300)
    selection = fastem.select(
        x, n_components=[1, 2], variance="unequal", random_state=0, criterion="icl"
    )
    fit = selection.fits[0]
    n = 300
    # One 1D dataset: no dataset axis, as fit has none.
    assert selection.bic[0] == pytest.approx(-2 * fit.log_likelihood + 2 * np.log(n))
    assert selection.aic[0] == pytest.approx(-2 * fit.log_likelihood + 4)
    # One component: every point's label is certain, so ICL equals BIC.
    assert selection.icl[0] == pytest.approx(selection.bic[0], rel=1e-12)
    assert selection.icl[1] > selection.bic[1]
    assert selection.n_components == 1 and selection.variance == "-"


def test_select_leaves_out_collapsed_fits():
    x = np.array([0.0] * 10 + [5.0] * 10 + list(np.linspace(1.0, 4.0, 10)))
    with pytest.warns(fastem.DegenerateFitWarning):
        selection = fastem.select(
            x, n_components=[1, 2, 3], variance="unequal", random_state=0, n_init=2
        )
    collapsed = selection.status >= Status.SPURIOUS
    assert collapsed.any()
    assert not selection.eligible[collapsed].any()
    assert not collapsed[selection.best]


def test_a_selection_built_from_its_fits_is_the_one_select_made():
    rng = np.random.default_rng(7)
    data = [rng.normal(8.0 * rng.integers(0, k, 150), 1.0) for k in (1, 2, 3)]
    selection = fastem.select(data, n_components=range(1, 4), random_state=0)
    redundant = [selection.redundant[:, c] for c in range(len(selection.candidates))]
    rebuilt = fastem.SelectionResult.from_fits(
        selection.candidates, selection.fits, selection.criterion, redundant
    )
    for name in ("bic", "eligible", "redundant", "best", "n_components", "variance", "means"):
        np.testing.assert_array_equal(getattr(rebuilt, name), getattr(selection, name))
    # Every fit may be chosen when the caller says so, whatever its status.
    everyone = np.ones(selection.bic.shape, dtype=bool)
    best = np.argmin(selection.bic, axis=1)
    given = fastem.SelectionResult.from_fits(
        selection.candidates, selection.fits, "bic", eligible=everyone
    )
    np.testing.assert_array_equal(given.best, best)
    assert not given.redundant.any()


def test_study_table_has_the_expected_columns_and_sane_values():
    result = fastem.study(
        [0.4, 0.6],
        [-2.5, 3.5],
        [4.0, 4.0],
        n_samples=(60, 200),
        replications=300,
        init=("kmeans++", "emem", "quantile"),
        n_init=3,
        random_state=1,
    )
    table, timing = result.table, result.timing
    assert len(table) == 6
    measures = [
        "converged",
        "spurious",
        "failed",
        "iter_median",
        "iter_p90",
        "passes_median",
        "passes_mean",
        "init_iter",
        "at_best",
        "found_best",
        "settled",
        "p_unseen",
        "n_maxima",
        "rate_median",
        "parameter_rate_median",
        "passes_p90",
        "passes_p95",
        "passes_p99",
    ]
    for name in ("weight", "mean", "variance"):
        for k in (1, 2):
            measures += [f"{name}_{k}_bias", f"{name}_{k}_empse", f"{name}_{k}_rmse"]
    # Each measure is followed by its Monte Carlo standard error.
    cell = ["scenario", "n_samples", "n_components", "init", "algorithm", "stop", "penalty"]
    cell += ["n_init"]
    expected = [*cell, "replications"]
    for name in measures:
        expected += [name, f"{name}_mcse"]
    assert table.columns == expected
    assert all((table[f"{name}_mcse"] >= 0).all() for name in measures)
    assert list(table["n_init"]) == [3, 3, 1, 3, 3, 1]
    assert ((table["converged"] > 0.95) & (table["converged"] <= 1)).all()
    assert ((table["at_best"] > 0.5) & (table["at_best"] <= 1)).all()
    assert (table["init_iter"][table["init"] == "emem"] == 50).all()
    big = table["n_samples"] == 200
    # With 200 points per dataset the means are recovered to within a few tenths, and
    # the errors shrink with the sample size.
    assert (np.abs(table["mean_1_bias"][big]) < 0.2).all()
    assert (table["mean_1_rmse"][big] < table["mean_1_rmse"][~big]).all()
    # Timing has a table of its own, so that two runs of a study give equal tables.
    assert timing.columns == [
        *cell,
        "seconds",
        "fits_per_s",
        "ms_per_fit",
        "ms_per_fit_mcse",
        "mega_throughput",
    ]
    for name in cell:
        np.testing.assert_array_equal(timing[name], table[name])
    assert (timing["mega_throughput"] > 0).all() and (timing["fits_per_s"] > 0).all()
    assert "timing (varies from run to run)" in str(result)


def test_the_study_mcse_columns_are_the_formulas_applied_to_its_cells():
    result = fastem.study(
        [0.4, 0.6],
        [-2.5, 3.5],
        [4.0, 4.0],
        n_samples=30,
        replications=150,
        init=("random", "quantile"),
        n_init=3,
        random_state=3,
        max_iter=60,
    )
    truth = dict(zip(("weight", "mean", "variance"), result.truth))
    for row, cell in enumerate(result.cells):
        table = {name: result.table[name][row] for name in result.table.columns}
        n = len(cell.status)
        assert table["replications"] == n == 150

        def share_mcse(per_restart):
            # Each dataset's share over its restarts is one replicate (Morris et al.'s
            # SE of a mean, with the n - 1 of a proportion's p(1 - p) / n).
            shares = np.asarray(per_restart, dtype=float).mean(axis=1)
            return np.sqrt(np.sum((shares - shares.mean()) ** 2)) / len(shares)

        spurious = np.mean(cell.status >= Status.SPURIOUS)
        assert table["spurious"] == spurious
        assert table["spurious_mcse"] == pytest.approx(np.sqrt(spurious * (1 - spurious) / n))
        assert table["converged_mcse"] == pytest.approx(share_mcse(cell.restart_converged))
        assert table["init_iter_mcse"] == pytest.approx(share_mcse(cell.init_n_iter))
        # The best fit per dataset, of those without a floored variance (unbounded).
        floored = [c.status >= Status.VARIANCE_FLOORED for c in result.cells]
        regular = [np.where(f, np.nan, c.log_likelihood) for f, c in zip(floored, result.cells)]
        best = np.fmax.reduce(regular, axis=0)
        at_best = cell.restart_log_likelihood >= (best - 1e-4 * cell.n_observations)[:, None]
        assert table["at_best"] == pytest.approx(at_best.mean())
        assert table["at_best_mcse"] == pytest.approx(share_mcse(at_best))
        for parameter, fitted in (
            ("weight", cell.weights),
            ("mean", cell.means),
            ("variance", cell.variances),
        ):
            for k in range(2):
                theta = fitted[:, k]
                error = theta - truth[parameter][k]
                sd = np.std(theta, ddof=1)
                mse = np.mean(error**2)
                mse_mcse = np.sqrt(np.sum((error**2 - mse) ** 2) / (n * (n - 1)))
                column = f"{parameter}_{k + 1}"
                assert table[f"{column}_bias"] == pytest.approx(np.mean(error))
                assert table[f"{column}_bias_mcse"] == pytest.approx(sd / np.sqrt(n))
                assert table[f"{column}_empse"] == pytest.approx(sd)
                assert table[f"{column}_empse_mcse"] == pytest.approx(sd / np.sqrt(2 * (n - 1)))
                assert table[f"{column}_rmse"] == pytest.approx(np.sqrt(mse))
                assert table[f"{column}_rmse_mcse"] == pytest.approx(mse_mcse / (2 * np.sqrt(mse)))
        # The bootstrap MCSE of the median iterations: datasets resampled with their
        # restarts, the same resamples at every run, and an honest size: within a factor
        # of 3 of the median's asymptotic SE from the density at the median.
        iterations = cell.restart_n_iter
        median = np.median(iterations)
        assert table["iter_median"] == median
        assert table["iter_median_mcse"] > 0
        density = np.mean(np.abs(iterations - median) <= 5) / 11
        asymptotic = 1 / (2 * density * np.sqrt(iterations.size))
        assert asymptotic / 3 < table["iter_median_mcse"] < 3 * asymptotic * np.sqrt(cell.n_init)
    again = fastem.study(
        [0.4, 0.6],
        [-2.5, 3.5],
        [4.0, 4.0],
        n_samples=30,
        replications=150,
        init=("random", "quantile"),
        n_init=3,
        random_state=3,
        max_iter=60,
    )
    for name in ("iter_median_mcse", "iter_p90_mcse"):
        np.testing.assert_array_equal(again.table[name], result.table[name])


def test_the_mcse_of_a_bias_shrinks_like_one_over_the_root_of_the_replications():
    kwargs = dict(n_samples=50, init="quantile", random_state=5)
    truth = ([0.5, 0.5], [0.0, 5.0], [1.0, 1.0])
    few = fastem.study(*truth, replications=400, **kwargs).table
    many = fastem.study(*truth, replications=1600, **kwargs).table
    for name in ("mean_1_bias_mcse", "mean_2_bias_mcse", "weight_1_bias_mcse"):
        # sqrt(1600 / 400) = 2, up to the error of the SD of 400 estimates (about 4% for
        # normal estimates; these have heavier tails).
        assert few[name][0] / many[name][0] == pytest.approx(2, rel=0.15), name


def test_planned_replications_give_the_target_mcse_of_a_bias():
    kwargs = dict(n_samples=60, init="quantile", random_state=6)
    truth = ([0.5, 0.5], [0.0, 5.0], [1.0, 1.0])
    pilot = fastem.study(*truth, replications=200, **kwargs).table
    n = fastem.plan_replications(0.006, sd=pilot["mean_1_empse"][0])
    planned = fastem.study(*truth, replications=n, **dict(kwargs, random_state=7)).table
    assert 500 < n < 2000
    assert planned["mean_1_bias_mcse"][0] == pytest.approx(0.006, rel=0.15)


def test_study_counts_spurious_fits_by_the_rule_it_is_given():
    kwargs = dict(n_samples=20, replications=200, init="random_from_data", n_init=3, random_state=2)
    truth = ([0.5, 0.5], [0.0, 3.0], [1.0, 1.0])
    counted = fastem.study(*truth, **kwargs)
    cell = counted.cells[0]
    expected = np.mean(cell.status >= fastem.Status.SPURIOUS)
    assert counted.table["spurious"][0] == expected > 0
    only_collapsed = fastem.study(*truth, spurious=fastem.SpuriousRule(0, 0), **kwargs)
    assert only_collapsed.table["spurious"][0] < expected


def test_study_is_reproducible_whatever_the_chunk_size():
    kwargs = dict(n_samples=50, replications=100, init="random", n_init=2, random_state=4)
    calls = []
    a = fastem.study([0.5, 0.5], [0.0, 4.0], [1.0, 1.0], **kwargs).table
    b = fastem.study(
        [0.5, 0.5],
        [0.0, 4.0],
        [1.0, 1.0],
        chunk_size=30,
        progress=lambda done, total: calls.append((done, total)),
        **kwargs,
    ).table
    assert calls == [(30, 100), (60, 100), (90, 100), (100, 100)]
    assert a.columns == b.columns
    for name in a.columns:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


def test_table_outputs(tmp_path):
    table = fastem.Table({"name": ["a", "b"], "value": [1.5, np.nan], "count": [1, 2]})
    text = str(table)
    assert text.splitlines()[0].split() == ["name", "value", "count"]
    assert "nan" in text
    assert table.to_csv() == "name,value,count\na,1.5,1\nb,,2\n"
    assert json.loads(table.to_json()) == [
        {"name": "a", "value": 1.5, "count": 1},
        {"name": "b", "value": None, "count": 2},
    ]
    table.to_csv(tmp_path / "t.csv")
    assert (tmp_path / "t.csv").read_text() == table.to_csv()
    with pytest.raises(ValueError, match="different lengths"):
        fastem.Table({"a": [1, 2], "b": [1]})


# ----------------------------------------------------------------------------- weight types


def _two_groups():
    rng = np.random.default_rng(3)
    return np.r_[rng.normal(0.0, 1.0, 150), rng.normal(5.0, 1.0, 120)]


def test_probability_weights_are_rescaled_to_the_number_of_points():
    x = _two_groups()
    w = np.random.default_rng(4).uniform(0.5, 2.0, x.size)
    w[:10] = 0.0  # points of weight 0 are not counted in n
    w /= w.sum()
    n = np.count_nonzero(w)
    probability = fastem.fit(
        x, 2, sample_weight=w, sample_weight_type="probability", random_state=0
    )
    counts = fastem.fit(x, 2, sample_weight=w * (n / w.sum()), random_state=0)
    assert probability.n_observations == pytest.approx(n, rel=1e-12)
    assert probability.n_samples == counts.n_samples == x.size  # as given, zeros included
    np.testing.assert_allclose(probability.means, counts.means, rtol=1e-12)
    assert probability.bic() == pytest.approx(counts.bic(), rel=1e-12)


def test_probability_weights_keep_bic_choosing_what_the_unweighted_data_choose():
    x = _two_groups()
    w = np.full(x.size, 1.0 / x.size)
    unweighted = fastem.select(x, random_state=0)
    probability = fastem.select(
        x, sample_weight=w, sample_weight_type="probability", random_state=0
    )
    assert probability.n_components == unweighted.n_components == 2
    with pytest.warns(UserWarning) as caught:
        counted = fastem.select(x, sample_weight=w, random_state=0)
    assert any("sample_weight_type='probability'" in str(w.message) for w in caught)
    assert counted.n_components > 2  # n = 1 in BIC: the penalty all but vanishes
    # The model it chooses, six components of two groups, has more maxima than the
    # search's budget tells apart, and the search says so.
    assert any(isinstance(w.message, fastem.SearchWarning) for w in caught)


def test_counts_do_not_warn_and_probabilities_given_as_counts_do():
    x = _two_groups()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fastem.fit(x, 2, sample_weight=np.ones(x.size), random_state=0)
        fastem.fit(
            x,
            2,
            sample_weight=np.full(x.size, 1.0 / x.size),
            sample_weight_type="probability",
            random_state=0,
        )
    with pytest.warns(UserWarning, match=r"dataset\(s\) 0 sum to far less"):
        fastem.fit(x, 2, sample_weight=np.full(x.size, 0.4), random_state=0)
    with pytest.raises(ValueError, match="sample_weight_type=.counts. is not one of"):
        fastem.fit(x, 2, sample_weight_type="counts")


def test_measures_print_with_their_mcse_to_the_digits_it_warrants():
    from fastem.toolkit.study import with_mcse_in_parentheses

    table = fastem.Table(
        {
            "init": ["a", "b", "c"],
            "at_best": [0.68888, 30.0, 1.0],
            "at_best_mcse": [0.018716, 1.2277, 0.0],
        }
    )
    merged = with_mcse_in_parentheses(table)
    assert merged.columns == ["init", "at_best"]
    assert list(merged["at_best"]) == ["0.689 (0.019)", "30.0 (1.2)", "1 (0)"]


def test_a_study_design_crosses_scenarios_methods_and_fitted_components():
    near = fastem.Scenario((0.5, 0.5), (0.0, 2.0), (1.0, 1.0), "near")
    result = fastem.study(
        scenarios=[near, ([0.3, 0.7], [0.0, 5.0], [1.0, 1.0])],
        n_samples=(50, 80),
        replications=60,
        init=("kmeans++", "quantile"),
        algorithm=("em", "squarem"),
        stop=("loglik", "aitken"),
        n_components=(None, 3),
        n_init=2,
        random_state=3,
    )
    table = result.table
    # 2 scenarios x 2 sizes x 2 fitted K x 2 inits x 2 algorithms x 2 rules
    assert len(table) == 64 and set(table["scenario"]) == {"near", "2"}
    over = table["n_components"] == 3
    assert np.isnan(table["mean_1_rmse"][over]).all()
    assert np.isfinite(table["mean_1_rmse"][~over]).all()
    # The methods of a cell fit the same datasets: a study of one method alone gives the
    # same rows.
    alone = fastem.study(
        scenarios=[near],
        n_samples=(50, 80),
        replications=60,
        init="quantile",
        algorithm="squarem",
        stop="aitken",
        n_init=2,
        random_state=3,
    ).table
    row = (
        (table["scenario"] == "near")
        & (table["init"] == "quantile")
        & (table["algorithm"] == "squarem")
        & (table["stop"] == "aitken")
        & ~over
    )
    for name in ("mean_1_rmse", "converged", "iter_median", "passes_median"):
        np.testing.assert_array_equal(table[name][row], alone[name], err_msg=name)
    # SQUAREM spends more passes than its accepted steps; EM one each.
    em = table["algorithm"] == "em"
    np.testing.assert_array_equal(table["passes_median"][em], table["iter_median"][em])
    assert (table["passes_median"][~em] > table["iter_median"][~em]).all()


def test_the_raw_table_holds_every_replications_chosen_fit():
    result = fastem.study(
        [0.4, 0.6],
        [-2.5, 3.5],
        [4.0, 4.0],
        n_samples=40,
        replications=30,
        init=("kmeans++", "random"),
        algorithm=("em", "squarem"),
        n_components=(None, 3),
        random_state=5,
    )
    raw = result.raw()
    assert len(raw) == 30 * len(result.cells)
    for cell in result.cells:
        rows = (
            (raw["init"] == cell.init)
            & (raw["algorithm"] == cell.algorithm)
            & (raw["n_components"] == cell.n_components)
        )
        np.testing.assert_array_equal(raw["log_likelihood"][rows], cell.log_likelihood)
        np.testing.assert_array_equal(raw["passes"][rows], cell.n_fpeval)
        np.testing.assert_array_equal(raw["restart"][rows], cell.best_restart)
        np.testing.assert_array_equal(raw["mean_2"][rows], cell.means[:, 1])
        if cell.n_components == 2:
            assert np.isnan(raw["mean_3"][rows]).all()
    assert set(raw["status"]) <= {s.name.lower() for s in fastem.Status}


def test_bad_designs_are_refused_by_name():
    truth = ([0.5, 0.5], [0.0, 3.0], [1.0, 1.0])
    with pytest.raises(ValueError, match="algorithm='squaremm' is not one of"):
        fastem.study(*truth, replications=5, algorithm=("em", "squaremm"))
    with pytest.raises(ValueError, match="stop is empty"):
        fastem.study(*truth, replications=5, stop=())
    with pytest.raises(TypeError, match="either weights, means and variances, or scenarios"):
        fastem.study(*truth, scenarios=[truth], replications=5)
    with pytest.raises(ValueError, match="names repeat"):
        Scenario = fastem.Scenario
        fastem.study(scenarios=[Scenario(*truth, "a"), Scenario(*truth, "a")], replications=5)


def test_a_streamed_study_gives_the_same_table_and_raw_rows_in_any_chunking(monkeypatch):
    chunks = importlib.import_module("fastem.toolkit.study_chunks")
    # Blocks of 10 rows, so that 25 replications make blocks that chunks of 7 cut across.
    monkeypatch.setattr(chunks, "RAW_BLOCK", 10)
    truth = ([0.4, 0.6], [-2.5, 3.5], [4.0, 4.0])
    kwargs = dict(
        n_samples=(30, 50),
        replications=25,
        init=("kmeans++", "random"),
        algorithm=("em", "squarem"),
        n_components=(None, 3),
        n_init=3,
        random_state=6,
        se="score",
    )
    kept = fastem.study(*truth, **kwargs)
    runs = {}
    for chunk_size in (7, 25, 1000):
        pieces = []
        result = fastem.study(
            *truth, chunk_size=chunk_size, keep_replications=False, raw=pieces.append, **kwargs
        )
        assert result.cells[0].means is None and result.cells[0].replications == 25
        runs[chunk_size] = (
            result.table.to_csv(),
            "".join(piece.to_csv().split("\n", 1)[1] for piece in pieces),
        )
        assert all(len(piece) <= 10 for piece in pieces)
    assert len(set(runs.values())) == 1  # the same bytes in any chunking
    table, rows = runs[7]
    assert table == kept.table.to_csv()
    # Within each design cell, the rows come a block at a time, each method's in turn.
    raw = kept.raw()
    order = np.lexsort(
        (raw["replication"], np.arange(len(raw)) // 25, raw["replication"] // 10, raw["n_samples"])
    )
    expected = fastem.Table({name: raw[name][order] for name in raw.columns})
    assert rows == expected.to_csv().split("\n", 1)[1]


def test_the_memory_of_a_study_does_not_grow_with_its_replications():
    import tracemalloc

    def peak(replications):
        tracemalloc.start()
        try:
            # max_iter bounds the distinct iteration counts, the one thing kept per value.
            fastem.study(
                [0.4, 0.6],
                [-2.5, 3.5],
                [4.0, 4.0],
                n_samples=40,
                replications=replications,
                n_init=3,
                max_iter=30,
                chunk_size=50,
                algorithm="em",
                keep_replications=False,
            )
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    peak(60)  # imports and caches
    small, large = peak(300), peak(3_000)
    # Keeping every replication's fits took 0.5 KiB each: +1.4 MiB here.
    assert large < 1.25 * small, (small, large)
