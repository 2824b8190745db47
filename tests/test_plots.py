"""The figures, checked on the matplotlib objects before they become PNGs: bins that respect
the data's resolution, one panel per design cell, labels, and what the traces and the
iterations show."""

import copy
import itertools

import numpy as np
import pytest

pytest.importorskip("matplotlib")

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import StepPatch  # noqa: E402

import fastem  # noqa: E402
from fastem import plots  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SIZES = (30, 60)
STRATEGIES = ("kmeans++", "quantile")
MAX_ITER = 15
"""Small enough that some fits of the small study stop at it."""


@pytest.fixture(scope="module")
def small_study():
    return fastem.study(
        [0.4, 0.6],
        [-2.5, 3.5],
        [4.0, 4.0],
        n_samples=SIZES,
        replications=20,
        init=STRATEGIES,
        n_init=2,
        max_iter=MAX_ITER,
        trace=True,
    )


@pytest.fixture(scope="module")
def figures(small_study):
    yield plots.figures_of(small_study)
    plt.close("all")


def cell_of(result, n_samples, init):
    (cell,) = [c for c in result.cells if (c.n_samples, c.init) == (n_samples, init)]
    return cell


# ------------------------------------------------------------------------------ bins


def test_integer_data_put_each_integer_inside_a_bin_with_no_empty_bins():
    rng = np.random.default_rng(1)
    # Every integer from 40 to 100 occurs, so no bin may be empty.
    x = np.concatenate([np.arange(40, 101), np.round(rng.normal(70, 12, 500)).clip(40, 100)])
    edges = plots.bin_edges(x)
    assert np.allclose(edges % 1, 0.5)  # edges at half-integers: no integer on an edge
    widths = np.diff(edges)
    assert np.allclose(widths, widths[0]) and widths[0] == np.round(widths[0]) >= 1
    counts, _ = np.histogram(x, edges)
    assert np.all(counts > 0)
    assert edges[0] < x.min() and edges[-1] > x.max()


def test_few_distinct_integers_sit_in_the_middle_of_their_bins():
    x = np.random.default_rng(2).integers(0, 8, 200).astype(float)
    edges = plots.bin_edges(x)
    assert np.allclose((edges[:-1] + edges[1:]) / 2, np.arange(8))


def test_values_recorded_to_one_decimal_are_binned_on_their_grid():
    x = 3.0 + np.random.default_rng(3).integers(0, 200, 400) * 0.1
    assert plots.resolution(x) == pytest.approx(0.1)
    steps = (plots.bin_edges(x) - 3.0) / 0.1
    assert np.allclose(steps % 1, 0.5)
    assert np.allclose(np.diff(steps), np.round(np.diff(steps)))


def test_continuous_data_get_even_bins_over_their_range():
    x = np.random.default_rng(4).normal(size=300)
    assert plots.resolution(x) is None
    edges = plots.bin_edges(x)
    assert edges[0] == x.min() and edges[-1] == x.max()
    assert np.allclose(np.diff(edges), np.diff(edges)[0])


# ------------------------------------------------------------------------------ fit figure


def test_draw_fit_labels_the_axis_and_gives_k_log_likelihood_and_parameters():
    x = np.round(fastem.simulate([0.4, 0.6], [50.0, 80.0], [30.0, 30.0], 150, 1, 0)[0][0])
    result = fastem.fit(x, 2, random_state=0)
    fitted = (result.weights, result.means, result.variances)
    fig, (named, plain) = plt.subplots(1, 2)
    plots.draw_fit(named, x, fitted, label="waiting")
    plots.draw_fit(plain, x, fitted)
    assert named.get_xlabel() == "waiting" and plain.get_xlabel() == "x"
    legend = " | ".join(text.get_text() for text in named.get_legend().get_texts())
    assert "K = 2" in legend
    assert f"log-likelihood {result.log_likelihood:.1f}" in legend
    for k in range(2):
        assert f"mean {result.means[k]:.4g}" in legend
        assert f"variance {result.variances[k]:.4g}" in legend
        assert f"weight {result.weights[k]:.3g}" in legend
    plt.close(fig)


def test_fit_image_is_a_png_with_the_column_name():
    x = np.random.default_rng(5).normal(size=100)
    image = plots.fit_image(x, ([0.5, 0.5], [-1.0, 1.0], [1.0, 1.0]), title="t", label="depth")
    assert image[:8] == PNG_SIGNATURE


# ------------------------------------------------------------------------------ study figures


def test_study_figures_have_one_panel_per_design_cell(figures):
    cells = list(itertools.product(SIZES, STRATEGIES))
    for name in ("dataset.png", "traces.png"):
        titles = [ax.get_title() for ax in figures[name].axes]
        assert len(titles) == len(cells)
        for title, (n, init) in zip(titles, cells):
            assert title.startswith(f"{init}, n = {n}")
    # A row per parameter of each component (3 x K = 6), a column per sample size.
    estimates = [ax.get_title() for ax in figures["estimates.png"].axes]
    assert len(estimates) == 6 * len(SIZES)
    assert {title.rsplit("n = ", 1)[1] for title in estimates} == {str(n) for n in SIZES}
    iterations = [ax.get_title() for ax in figures["iterations.png"].axes]
    assert iterations == [f"n = {n}" for n in SIZES]


def test_every_panel_has_a_title_and_its_axes_are_labelled(figures):
    for name, fig in figures.items():
        for ax in fig.axes:
            spec = ax.get_subplotspec()
            assert ax.get_title(), name
            if spec.is_last_row() or name != "traces.png":
                assert ax.get_xlabel(), name
            if spec.is_first_col():
                assert ax.get_ylabel(), name
    suptitle = " ".join(text.get_text() for text in figures["iterations.png"].texts)
    assert "iterations" in suptitle and "did not meet tol" in suptitle


def test_each_strategys_estimates_have_their_own_baseline(figures):
    for ax in figures["estimates.png"].axes:
        baselines = {
            float(patch.get_data().baseline) for patch in ax.patches if isinstance(patch, StepPatch)
        }
        assert len(baselines) == len(STRATEGIES), ax.get_title()


def test_identical_estimates_stay_visible():
    # With one component, k-means++ and the quantile start give the same estimates.
    result = fastem.study(
        [1.0], [0.0], [1.0], n_samples=40, replications=20, init=("kmeans++", "quantile"), n_init=2
    )
    assert np.allclose(result.cells[0].means, result.cells[1].means, rtol=1e-12, atol=0)
    fig = plots.figures_of(result)["estimates.png"]
    for ax in fig.axes:
        drawn = {}
        for patch in ax.patches:
            values, edges, baseline = patch.get_data()
            drawn[float(baseline)] = values - baseline
        assert len(drawn) == 2, ax.get_title()
        first, second = drawn.values()
        assert np.allclose(first, second) and first.max() > 0
    plt.close(fig)


def test_variances_are_on_a_log_axis_and_collapsed_ones_are_counted(small_study):
    result = copy.deepcopy(small_study)
    result.cells[0].variances[:3, 0] = 1e-14
    fig = plots.figures_of(result)["estimates.png"]
    variance_axes = [ax for ax in fig.axes if ax.get_title().startswith("variance")]
    assert len(variance_axes) == 2 * len(SIZES)
    assert all(ax.get_xscale() == "log" for ax in variance_axes)
    first = variance_axes[0]
    assert first.get_title() == f"variance 1, n = {SIZES[0]}"
    counted = [text.get_text() for text in first.texts]
    assert any(text.startswith("3 below") for text in counted), counted
    assert first.get_xlim()[0] > 1e-6
    plt.close(fig)


def test_traces_are_each_relative_to_their_own_final_value(small_study, figures):
    axes = figures["traces.png"].axes
    for ax, (n, init) in zip(axes, itertools.product(SIZES, STRATEGIES)):
        assert ax.get_yscale() == "log"
        assert ax.get_shared_y_axes().joined(axes[0], ax)
        traces = cell_of(small_study, n, init).trace.reshape(-1, MAX_ITER + 1)
        lines = ax.get_lines()
        assert len(lines) == traces.shape[0]
        for line, trace in zip(lines, traces):
            drawn = np.asarray(line.get_ydata(), dtype=float)
            stopped = np.isfinite(trace).sum()
            final = trace[stopped - 1]
            expected = (final - trace[: drawn.size]) / n
            positive = expected > 0
            assert np.allclose(drawn[positive], expected[positive], rtol=1e-12, atol=0)
            assert np.all(np.isnan(drawn[~positive]))
            assert np.all(drawn[np.isfinite(drawn)] > 0)
            assert drawn.size < stopped or np.isnan(drawn[stopped - 1])  # the end is 0


def test_iterations_figure_shows_the_fits_that_missed_tol(small_study, figures):
    axes = figures["iterations.png"].axes
    for ax, n in zip(axes, SIZES):
        cells = [cell_of(small_study, n, init) for init in STRATEGIES]
        missed = np.concatenate([c.restart_n_iter[~c.restart_converged] for c in cells])
        assert missed.size > 0  # else this test checks nothing: lower MAX_ITER
        marked = np.concatenate(
            [
                collection.get_offsets()[:, 1]
                for collection in ax.collections
                if collection.get_gid() == "missed_tol"
            ]
        )
        assert np.array_equal(np.sort(marked), np.sort(missed))
        assert ax.get_ylim()[1] > MAX_ITER
        labels = [label.get_text() for label in ax.get_xticklabels()]
        for label, cell in zip(labels, cells):
            total = cell.restart_converged.size
            assert f"{np.sum(~cell.restart_converged)} of {total}" in label


def test_study_images_are_pngs_named_as_announced(small_study, tmp_path):
    paths = plots.study_figures(small_study, tmp_path, measure="at_best")
    named = [*plots.STUDY_FIGURES, plots.measure_figure_name("at_best", "n_samples")]
    assert sorted(path.name for path in paths) == sorted(named)
    assert all(path.read_bytes()[:8] == PNG_SIGNATURE for path in paths)


def test_the_data_profile_counts_the_fits_at_the_best_within_each_budget(small_study):
    profiles = plots.data_profile(small_study)
    assert len(profiles) == len(small_study.cells)
    for profile, cell, row in zip(profiles, small_study.cells, range(len(small_study.table))):
        same = [c for c in small_study.cells if c.n_samples == cell.n_samples]
        best = np.max([c.log_likelihood for c in same], axis=0)
        solved = cell.restart_log_likelihood >= (best - 1e-4 * cell.n_observations)[:, None]
        for budget, share, mcse in zip(profile.budgets, profile.share, profile.mcse):
            within = solved & (cell.restart_n_fpeval <= budget)
            per_dataset = within.mean(axis=1)  # each dataset's restarts are one replicate
            assert share == pytest.approx(within.mean(), abs=1e-15)
            expected = np.sqrt(np.sum((per_dataset - per_dataset.mean()) ** 2)) / len(within)
            assert mcse == pytest.approx(expected, rel=1e-12, abs=1e-15)
        assert np.all(np.diff(profile.share) >= 0) and np.all(np.diff(profile.budgets) > 0)
        # At the largest budget every fit counts: the table's at_best and its MCSE.
        assert profile.share[-1] == pytest.approx(small_study.table["at_best"][row], abs=1e-15)
        assert profile.mcse[-1] == pytest.approx(small_study.table["at_best_mcse"][row], rel=1e-12)


def test_the_measure_figure_draws_the_tables_points_with_their_mcse(small_study):
    lines = plots.measure_lines(small_study, "mean_1_bias")
    table = small_study.table
    assert [line.label for line in lines] == list(STRATEGIES)
    for line in lines:
        rows = [i for i, init in enumerate(table["init"]) if init == line.label]
        assert line.x.tolist() == [float(n) for n in SIZES]
        assert line.y.tolist() == table["mean_1_bias"][rows].tolist()
        assert line.mcse.tolist() == table["mean_1_bias_mcse"][rows].tolist()
    fig = plots.measure_figure(small_study, "mean_1_bias")
    (ax,) = fig.axes
    drawn = [c for c in ax.containers]  # one errorbar container per method
    for container, line in zip(drawn, lines):
        _, _, (bars,) = container
        lows = [segment[0][1] for segment in bars.get_segments()]
        assert np.allclose(lows, line.y - 1.96 * line.mcse, rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="not a measure of this study's table"):
        plots.measure_lines(small_study, "mean_3_bias")
    with pytest.raises(ValueError, match="design variable"):
        plots.measure_lines(small_study, "at_best", against="separation")
    plt.close("all")


def test_a_study_without_traces_leaves_out_their_figures(small_study):
    result = copy.deepcopy(small_study)
    for cell in result.cells:
        cell.trace = cell.example = None
    figures = plots.figures_of(result)
    assert sorted(figures) == ["estimates.png", "iterations.png", "passes.png", "profile.png"]
    plt.close("all")


def test_the_dataset_figure_marks_a_spurious_or_collapsed_first_fit(small_study):
    result = copy.deepcopy(small_study)
    result.cells[0].status[0] = fastem.Status.SPURIOUS
    result.cells[1].status[0] = fastem.Status.VARIANCE_FLOORED
    fig = plots.figures_of(result)["dataset.png"]
    titles = [ax.title for ax in fig.axes]
    marked = [t.get_text() for t in titles if "fit (" in t.get_text()]
    assert len(marked) == 2 and "spurious fit" in marked[0] and "collapsed fit" in marked[1]
    regular = [t for t in titles if "fit (" not in t.get_text()]
    assert len(regular) == len(titles) - 2
    assert all(t.get_color() != titles[0].get_color() for t in regular)
    plt.close("all")


# ------------------------------------------------------------------------------ fits figure


def _panels(n_datasets, candidates=True):
    rng = np.random.default_rng(11)
    panels = []
    for d in range(n_datasets):
        x = np.concatenate([rng.normal(-3, 1, 60), rng.normal(3, 1, 60)])
        fit = fastem.fit(x, 2, random_state=0)
        listed = (
            plots.Candidates(
                "icl",
                [1, 2, 2, 3, 3],
                ["-", "equal", "unequal", "equal", "unequal"],
                np.array([520.0, 480.0, 484.0, 490.0, 470.0]),
                np.array([True, True, True, True, False]),
                1,
            )
            if candidates
            else None
        )
        panels.append(
            plots.FitPanel(
                x,
                (fit.weights, fit.means, fit.variances),
                fit.log_likelihood,
                fit.status,
                f"dataset {d}",
                listed,
            )
        )
    return panels


def test_the_fits_figure_has_a_row_per_dataset_and_a_criterion_line_per_variance_model():
    fig = plots.fits_figure(_panels(3), heading="sim.csv", label="depth")
    assert len(fig.axes) == 6
    data_axes, criterion_axes = fig.axes[0::2], fig.axes[1::2]
    assert [ax.get_title() for ax in data_axes] == ["dataset 0", "dataset 1", "dataset 2"]
    assert all(ax.get_xlabel() == "depth" for ax in data_axes)
    ax = criterion_axes[0]
    assert ax.get_ylabel() == "ICL (smaller is better)"
    lines = {line.get_label(): line for line in ax.get_lines()}
    # One line per variance model, each from the one-component candidate; the candidate
    # that is not eligible is off its line, a cross of its own.
    equal, unequal = lines["equal variances"], lines["unequal variances"]
    assert list(equal.get_xdata()) == [1, 2, 3] and list(equal.get_ydata()) == [520, 480, 490]
    assert list(unequal.get_xdata()) == [1, 2, 3]
    assert np.isnan(unequal.get_ydata()[2])
    crosses = lines["not eligible (spurious, collapsed or failed)"]
    assert list(crosses.get_xdata()) == [3] and list(crosses.get_ydata()) == [470]
    ring = lines["chosen: K = 2, equal"]
    assert list(ring.get_xdata()) == [2] and list(ring.get_ydata()) == [480]
    plt.close(fig)


def test_the_fits_figure_draws_the_first_datasets_and_says_how_many_it_left_out():
    panels = _panels(plots.FIT_DATASETS + 2, candidates=False)
    marked = panels[1]._replace(status=fastem.Status.SPURIOUS)
    panels[1] = marked
    fig = plots.fits_figure(panels, heading="many.csv")
    assert len(fig.axes) == plots.FIT_DATASETS  # one column: no candidates
    heading = " ".join(text.get_text() for text in fig.texts)
    assert f"the first {plots.FIT_DATASETS} of {plots.FIT_DATASETS + 2}" in heading
    assert "spurious fit" in fig.axes[1].get_title()
    assert "spurious" not in fig.axes[0].get_title()
    plt.close(fig)
    assert plots.fits_image(panels[:1])[:8] == PNG_SIGNATURE


def test_a_study_that_kept_no_replications_says_the_figures_need_them():
    result = fastem.study(
        [0.4, 0.6],
        [-2.5, 3.5],
        [4.0, 4.0],
        n_samples=30,
        replications=5,
        n_init=1,
        keep_replications=False,
    )
    with pytest.raises(ValueError, match="run it with keep_replications=True"):
        plots.study_images(result)
    with pytest.raises(ValueError, match="kept no replications .* pass raw=callable"):
        result.raw()


@pytest.mark.parametrize("fitted", [[2, 3], [3]], ids=["K=2,3", "K=3"])
def test_estimates_have_no_empty_panels_and_compared_panels_share_their_axes(fitted):
    result = fastem.study(
        [0.4, 0.6],
        [-2.5, 3.5],
        [4.0, 4.0],
        n_samples=(30, 60),
        replications=8,
        init=STRATEGIES,
        n_init=2,
        n_components=fitted,
    )
    figures = plots.figures_of(result)
    estimates = figures["estimates.png"]
    titles = [ax.get_title() for ax in estimates.axes]
    if 2 in fitted:  # a column per sample size whose fits have the true K, none for K = 3
        assert len(titles) == 6 * 2 and not any("K = 3" in title for title in titles)
    else:
        assert len(estimates.axes) == 1 and "No fit has the true number" in " ".join(
            text.get_text() for text in estimates.axes[0].texts
        )
    passes = figures["passes.png"].axes
    visible = [ax for ax in passes if ax.get_visible()]
    tops = [ax for ax in visible if ax.get_title().endswith("passes")]
    bottoms = [ax for ax in visible if "best" in ax.get_title()]
    assert len(tops) == len(bottoms) == 2 * len(fitted)
    for group in (tops, bottoms):
        assert len({ax.get_ylim() for ax in group}) == 1
    profile = figures["profile.png"].axes
    assert len(profile) == 2 * len(fitted) and len({ax.get_xlim() for ax in profile}) == 1
    plt.close("all")
