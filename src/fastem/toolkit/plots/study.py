"""The figures of a Monte Carlo study (:func:`study_images`), one PNG file each with the
fixed names of ``STUDY_FIGURES``, each a grid of panels over the study's design cells and
methods."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .base import figure_bytes, load_pyplot, panel_title, wrapped_title
from .estimates import estimates_figure
from .fits import draw_fit
from .layout import ITERATION_COLUMNS, number_ticks
from .profile import profile_figure


def study_figures(result, directory, measure=None, against=None) -> list:
    """Write the study's figures (:func:`study_images`) as PNG files into ``directory``;
    returns their paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, image in study_images(result, measure=measure, against=against).items():
        paths.append(directory / name)
        paths[-1].write_bytes(image)
    return paths


STUDY_FIGURES = (
    "dataset.png",
    "traces.png",
    "estimates.png",
    "iterations.png",
    "passes.png",
    "profile.png",
)


def measure_figure_name(measure, against) -> str:
    """The file name of the figure of ``measure`` against ``against``:
    ``"mean_2_bias-by-separation.png"``."""
    return f"{measure}-by-{against}.png"


def study_images(result, provenance=None, measure=None, against=None) -> dict:
    """The study's figures as ``{file name: PNG bytes}``, each showing every sample size
    and strategy:

    - ``dataset.png``: a row per sample size, a column per strategy: the first dataset
      with the strategy's fit and the true mixture, a spurious or collapsed fit marked as
      such in red;
    - ``traces.png``: the same grid, on shared axes: for each restart of the first
      datasets, how far its log-likelihood per point is below its own final value, per
      iteration (log scale), so that the curves show convergence, not the datasets;
    - ``estimates.png``: a row per parameter, a column per sample size: a histogram of the
      estimates per strategy, on its own baseline so that identical ones stay visible,
      against the true value; variances on a log axis, collapsed ones counted;
    - ``iterations.png``: a panel per sample size: the EM iterations of every fit, per
      strategy, with the fits that did not meet ``tol`` marked;
    - ``passes.png``: a column per design cell: the passes over the data (EM maps) of
      every fit per method (start strategy, algorithm, stopping rule), and the share of
      fits reaching the best maximum with its Monte Carlo error bars (1.96 MCSE): how
      algorithms and rules compare;
    - ``profile.png``: the data profile (:func:`fastem.plots.profile_figure`): per design
      cell, the share of fits that reached the best maximum within a budget of passes,
      against the budget, a line per method with 1.96 MCSE bands;
    - with ``measure`` (a column of the table with an MCSE), also
      ``<measure>-by-<against>.png`` (:func:`measure_figure_name`): the measure against
      the design variable ``against`` (:func:`fastem.plots.measure_figure`).

    A design cell is a sample size, or a scenario and a sample size (and a number of
    components fitted, when it is not the true one); a strategy is the start strategy, with
    the algorithm and the stopping rule when the study compares several.

    ``dataset.png`` and ``traces.png`` need the first datasets and their traces, which the
    study keeps only when asked (``study(..., trace=True)``, ``fastem study --plot``);
    without them they are left out.

    ``provenance`` (``{"fastem": version, "design": {...}}``), when given, goes into each
    PNG's metadata (its "Description" text chunk, as JSON) and, as the version and seed, in
    a line at the foot of each figure.
    """
    plt = load_pyplot()
    images = {}
    for name, fig in figures_of(result).items():
        images[name] = figure_bytes(plt, fig, provenance)
    if measure is not None:
        from .measure import _resolved, measure_figure

        name = measure_figure_name(measure, _resolved(result, against))
        images[name] = figure_bytes(plt, measure_figure(result, measure, against), provenance)
    return images


class _Grid:
    """The study's design cells (``sizes``: each one's panel title, "n = 40") by method
    (``strategies``: each one's label), in the study's order."""

    def __init__(self, result):
        if any(not cell.keep for cell in result.cells):
            raise ValueError(
                "the study's figures draw every replication, which this study "
                "did not keep; run it with keep_replications=True."
            )
        self.cells = {(cell.panel, cell.label): cell for cell in result.cells}
        self.sizes = list(dict.fromkeys(cell.panel for cell in result.cells))
        self.strategies = list(dict.fromkeys(cell.label for cell in result.cells))
        self.rows_of = {id(cell): i for i, cell in enumerate(result.cells)}

    def __getitem__(self, key):
        return self.cells[key]

    def rows(self):
        """``[(panel, [cells of each strategy])]``."""
        return [(n, [self.cells[n, s] for s in self.strategies]) for n in self.sizes]


def figures_of(result) -> dict:
    """The figures of :func:`study_images`, as ``{file name: matplotlib Figure}``."""
    plt = load_pyplot()
    grid = _Grid(result)
    figures = {}
    if all(cell.example is not None for cell in result.cells):
        figures["dataset.png"] = _dataset_figure(plt, result, grid)
    if all(cell.trace is not None for cell in result.cells):
        figures["traces.png"] = _traces_figure(plt, grid)
    figures["estimates.png"] = estimates_figure(plt, result, grid)
    figures["iterations.png"] = _iterations_figure(plt, grid)
    figures["passes.png"] = _passes_figure(plt, result, grid)
    figures["profile.png"] = profile_figure(result)
    return figures


def _dataset_figure(plt, result, grid):
    rows, columns = len(grid.sizes), len(grid.strategies)
    fig, axes = plt.subplots(
        rows, columns, figsize=(5.5 * columns, 5.2 * rows), squeeze=False, layout="constrained"
    )
    for row, (n, cells) in enumerate(grid.rows()):
        for ax, cell in zip(axes[row], cells):
            fitted = (cell.weights[0], cell.means[0], cell.variances[0])
            draw_fit(
                ax,
                cell.example,
                fitted,
                truth=cell.truth,
                title=f"{cell.label}, {n}: dataset 1",
                status=cell.status[0],
            )
    return fig


def _trace_gaps(trace, n_samples):
    """How far each traced log-likelihood is below the fit's final one, per point.

    ``trace`` is a cell's (datasets, restarts, max_iter + 1) traces; returns shape
    (datasets * restarts, max_iter + 1): ``(final - trace) / n_samples``, where ``final``
    is the fit's last finite value. NaN after the fit stopped and where the gap is not
    positive (the final value itself, which a log axis cannot show, and the rare
    rounding-sized dips of a monotone likelihood).
    """
    traces = trace.reshape(-1, trace.shape[-1])
    finite = np.isfinite(traces)
    last = traces.shape[1] - 1 - np.argmax(finite[:, ::-1], axis=1)
    final = np.where(finite.any(axis=1), traces[np.arange(traces.shape[0]), last], np.nan)
    with np.errstate(invalid="ignore"):
        gaps = (final[:, None] - traces) / n_samples
        gaps[~(gaps > 0)] = np.nan
    return gaps


def _traces_figure(plt, grid):
    rows, columns = len(grid.sizes), len(grid.strategies)
    fig, axes = plt.subplots(
        rows,
        columns,
        figsize=(4.5 * columns, 3.6 * rows),
        squeeze=False,
        sharex=True,
        sharey=True,
        layout="constrained",
    )
    for row, (n, cells) in enumerate(grid.rows()):
        for column, (ax, cell) in enumerate(zip(axes[row], cells)):
            gaps = _trace_gaps(cell.trace, cell.n_samples)
            longest = max(1, int(np.max(np.sum(np.isfinite(cell.trace), axis=-1))))
            ax.plot(np.arange(longest), gaps[:, :longest].T, color="C0", lw=0.7, alpha=0.35)
            ax.set_yscale("log")
            datasets, restarts = cell.trace.shape[:2]
            panel_title(ax, f"{cell.label}, {n}: {restarts} restart(s) of {datasets} datasets")
            if row == rows - 1:
                ax.set_xlabel("EM iteration")
            if column == 0:
                ax.set_ylabel("final minus current\nlog-likelihood per point")
    wrapped_title(
        fig,
        "Convergence of each fit: distance of its log-likelihood from its own final "
        "value (0 at the end, not drawn)",
    )
    return fig


def _passes_figure(plt, result, grid):
    """Per design cell: passes over the data of every fit per method (box plots, log
    axis), and below it the share of fits at the best maximum with 1.96 MCSE error bars;
    the cells wrap after ``ITERATION_COLUMNS``."""
    n_cells = len(grid.sizes)
    columns = min(n_cells, ITERATION_COLUMNS)
    pairs = -(-n_cells // columns)
    width = max(3.5, 1.1 * len(grid.strategies) + 1)
    fig, axes = plt.subplots(
        2 * pairs,
        columns,
        figsize=(width * columns, 7.0 * pairs),
        squeeze=False,
        layout="constrained",
    )
    for ax in axes[:, :].flat:
        ax.set_visible(False)
    at_best, at_best_mcse = result.table["at_best"], result.table["at_best_mcse"]
    positions = np.arange(1, len(grid.strategies) + 1)
    for index, (n, cells) in enumerate(grid.rows()):
        pair, column = divmod(index, columns)
        top, bottom = axes[2 * pair, column], axes[2 * pair + 1, column]
        top.set_visible(True)
        bottom.set_visible(True)
        top.boxplot(
            [cell.restart_n_fpeval.ravel() for cell in cells],
            flierprops=dict(marker=".", markersize=3, alpha=0.4),
        )
        top.set_yscale("log")
        if index:  # compared side by side: the same axes in every cell
            top.sharey(axes[0, 0])
            bottom.sharey(axes[1, 0])
        panel_title(top, f"{n}: passes", fontsize=10)
        panel_title(bottom, f"{n}: at the best maximum", fontsize=10)
        rows = [grid.rows_of[id(cell)] for cell in cells]
        bottom.errorbar(
            positions, at_best[rows], yerr=1.96 * at_best_mcse[rows], fmt="o", capsize=4, color="C0"
        )
        for ax in (top, bottom):
            ax.set_xticks(positions, grid.strategies, fontsize=8, rotation=20, ha="right")
            ax.set_xlim(0.5, len(positions) + 0.5)
            ax.set_xlabel("method")
        if column == 0:
            top.set_ylabel("passes over the data per fit\n(EM maps, log scale)")
            bottom.set_ylabel("share of fits at the best\nmaximum (bars: 1.96 MCSE)")
    axes[0, 0].relim()
    number_ticks(axes[0, 0].yaxis, *axes[0, 0].get_ylim(), most_decades=4)
    wrapped_title(
        fig,
        "Passes to convergence and the share of fits reaching the best maximum "
        "found for their dataset, per method",
    )
    return fig


def _iterations_figure(plt, grid):
    columns = min(len(grid.sizes), ITERATION_COLUMNS)
    rows = -(-len(grid.sizes) // columns)
    width = max(4.0, 1.3 * len(grid.strategies) + 1)
    fig, axes = plt.subplots(
        rows,
        columns,
        figsize=(width * columns, 4.2 * rows + 0.6),
        sharey=True,
        squeeze=False,
        layout="constrained",
    )
    for ax in axes.flat[len(grid.sizes) :]:
        fig.delaxes(ax)
    traces = [cell.trace for cell in grid.cells.values() if cell.trace is not None]
    # The traces' length is the one record of max_iter that a study keeps.
    max_iter = traces[0].shape[-1] - 1 if traces else None
    jitter_rng = np.random.default_rng(0)  # spreads the markers sideways, nothing else
    for ax, (n, cells) in zip(axes.flat, grid.rows()):
        iterations = [cell.restart_n_iter.ravel() for cell in cells]
        missed = [~cell.restart_converged.ravel() for cell in cells]
        ax.boxplot(iterations, flierprops=dict(marker=".", markersize=3, alpha=0.4))
        for position, (n_iter, stopped) in enumerate(zip(iterations, missed), start=1):
            jitter = jitter_rng.uniform(-0.15, 0.15, int(stopped.sum()))
            ax.scatter(
                position + jitter,
                n_iter[stopped],
                marker="x",
                s=14,
                color="C3",
                lw=0.8,
                gid="missed_tol",
            )
        if max_iter is not None:
            ax.axhline(max_iter, color="C3", ls="--", lw=0.8)
            ax.text(
                0.99,
                max_iter,
                "max_iter ",
                color="C3",
                fontsize=7,
                ha="right",
                va="bottom",
                transform=ax.get_yaxis_transform(),
            )
        labels = [
            "\n".join([*cell.label.split(), f"{stopped.sum()} of {stopped.size}", "missed tol"])
            for cell, stopped in zip(cells, missed)
        ]
        ax.set_xticks(np.arange(1, len(labels) + 1), labels, fontsize=8)
        panel_title(ax, f"{n}", fontsize=11)
        ax.set_xlabel("strategy")
        if ax.get_subplotspec().is_first_col():
            ax.set_ylabel("EM iterations per fit (restart)")
    top = 1.4 * max(
        [1, max_iter or 0] + [int(cell.restart_n_iter.max()) for cell in grid.cells.values()]
    )
    # symlog: a fit that failed at its first iteration has 0 iterations, which log drops.
    axes[0, 0].set_yscale("symlog", linthresh=1, linscale=0.3)
    axes[0, 0].set_ylim(0, top)
    number_ticks(axes[0, 0].yaxis, 1, top, most_decades=3)
    note = (
        "; emem's short runs not counted"
        if any(np.any(cell.init_n_iter > 0) for cell in grid.cells.values())
        else ""
    )
    wrapped_title(
        fig,
        "EM iterations of every fit: until tol was met, or max_iter or a failure "
        f"stopped it{note}\nboxes: quartiles, whiskers to 1.5 IQR, dots beyond; "
        "red x: fits that did not meet tol",
        fontsize=10,
    )
    return fig
