"""Figures of studies and fits (needs matplotlib: ``pip install fastem[plot]``).

``fastem fit --plot`` draws one PNG: a row of panels per dataset (the first
``FIT_DATASETS``), each the data with the fit and, for a choice among candidate models, the
criterion of every candidate against the number of components (:func:`fits_image`).

A study's figures are one PNG file each, with the fixed names of ``STUDY_FIGURES`` (which
``fastem study --plot`` prepares before any work), rather than one file per sample size:
each figure is a grid of panels with a row (or a column) per sample size, so that every
design cell is shown and sample sizes compare on shared axes. A figure grows with the
number of sample sizes and strategies (``iterations.png`` wraps after
``ITERATION_COLUMNS`` sample sizes); :func:`study_images` describes each.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import NamedTuple

import numpy as np
from scipy.special import logsumexp
from scipy.stats import norm

from ..engine.status import Status
from .study import PARAMETERS

INSTALL_HINT = "plotting needs matplotlib: pip install 'fastem[plot]' (or pip install matplotlib)"

RESOLUTION_TOL = 1e-4
"""How far from a whole number (in steps) a gap between two values may be for the data to
count as discrete in :func:`resolution`: far above the rounding of values written with a
few decimals, far below what continuous data meet by chance."""
ITERATION_COLUMNS = 3
"""Most panels (sample sizes) side by side in ``iterations.png``; more make more rows."""
FIT_DATASETS = 8
"""Most datasets that ``fastem fit --plot`` draws (a row of panels each): the first ones."""
COLLAPSED_BELOW = 1e-3
"""Variance estimates below this fraction of the true variance are counted, not drawn, in
``estimates.png``: on its log axis the collapsed fits (variance near 0) would otherwise
stretch the axis over many decades and squeeze the real estimates."""


FIGURE_FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
"""The file types a figure of ``fastem fit --plot`` or ``fastem lrt --plot`` is written
as, by the suffix of its name."""


def figure_format(path) -> str:
    """The format of a figure file by its suffix (:data:`FIGURE_FORMATS`); ValueError for
    another, so that a file's name never disagrees with its contents."""
    suffix = Path(path).suffix.lower()
    if suffix not in FIGURE_FORMATS:
        raise ValueError(
            f"{path}: a figure is written as {', '.join(FIGURE_FORMATS)}; give "
            "a file name ending in one of them"
        )
    return FIGURE_FORMATS[suffix]


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise ImportError(INSTALL_HINT) from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def mixture_density(grid, weights, means, variances):
    """Component densities ``w_k N(grid | mu_k, var_k)``, shape (K, len(grid))."""
    weights, means, variances = (
        np.asarray(a, dtype=float)[:, None] for a in (weights, means, variances)
    )
    return weights * norm.pdf(grid, means, np.sqrt(variances))


def mixture_log_likelihood(x, weights, means, variances) -> float:
    """``sum_i log sum_k w_k N(x_i | mu_k, var_k)``: the log-likelihood of the mixture for
    the points ``x`` (each counted once)."""
    weights, means, variances = (
        np.asarray(a, dtype=float)[:, None] for a in (weights, means, variances)
    )
    with np.errstate(divide="ignore"):  # an empty component adds log 0 = -inf terms
        log_parts = np.log(weights) + norm.logpdf(
            np.asarray(x, dtype=float), means, np.sqrt(variances)
        )
    return float(logsumexp(log_parts, axis=0).sum())


def resolution(x):
    """The step ``r`` of discrete data, or None for continuous data.

    ``r`` is the smallest gap between distinct values, when every gap is a whole multiple
    of it (within ``RESOLUTION_TOL`` steps): integers give 1, values recorded to one
    decimal usually 0.1. Fewer than two distinct values give None.
    """
    values = np.unique(np.asarray(x, dtype=float))
    values = values[np.isfinite(values)]
    if values.size < 2:
        return None
    gaps = np.diff(values)
    step = gaps.min()
    steps = gaps / step
    if np.all(np.abs(steps - np.round(steps)) <= RESOLUTION_TOL):
        return float(step)
    return None


def bin_edges(x, max_bins=60):
    """Histogram bin edges for the data ``x``, array of shape (n_bins + 1,).

    About ``x.size / 8`` bins (from 10 to ``max_bins``) over the data's range. For
    discrete data (:func:`resolution` ``r``), the width is the nearest whole multiple of
    ``r`` and the edges lie halfway between possible values (at half-integers for
    integers): each bin then holds the same number of possible values, so the
    histogram has no empty bins between neighbouring values and no bins that hold one
    value more than the next (aliasing).
    """
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    low, high = float(x.min()), float(x.max())
    n_bins = min(max_bins, max(10, x.size // 8))
    step = resolution(x)
    if step is None:
        if high == low:
            return np.array([low - 0.5, low + 0.5])
        return np.linspace(low, high, n_bins + 1)
    per_bin = max(1, round((high - low) / n_bins / step))
    n_values = round((high - low) / step) + 1
    n_bins = -(-n_values // per_bin)
    return low - step / 2 + step * per_bin * np.arange(n_bins + 1)


def _grid(x, means, variances):
    low = min(x.min(), (np.asarray(means) - 3 * np.sqrt(variances)).min())
    high = max(x.max(), (np.asarray(means) + 3 * np.sqrt(variances)).max())
    return np.linspace(low, high, 400)


def draw_fit(
    ax,
    x,
    fitted,
    truth=None,
    title=None,
    label=None,
    log_likelihood=None,
    status=None,
    sample_weight=None,
):
    """The data (histogram and a rug of points), the fitted mixture and its components,
    and the true mixture when known: the seed notebook's picture.

    The histogram's bins respect the data's resolution (:func:`bin_edges`). The legend
    gives each component's parameters and the mixture's ``K`` and log-likelihood
    (``log_likelihood``, or computed from ``x`` when None). ``label`` names the x axis
    (default ``"x"``). A collapsed component's spike is cut at twice the height of the
    histogram (or of the true density), so that the data stay readable. A fit whose
    ``status`` (a :class:`Status` code) is spurious or collapsed says so in red under the
    title: it is not an estimate of the mixture. ``sample_weight`` weighs the histogram's
    points (binned data: values and their counts).
    """
    x = np.asarray(x, dtype=float)
    weights, means, variances = (np.asarray(a, dtype=float) for a in fitted)
    if log_likelihood is None:
        log_likelihood = mixture_log_likelihood(x, weights, means, variances)
    grid = _grid(x, means, variances)
    weighted = "" if sample_weight is None else ", weighted"
    heights, _, _ = ax.hist(
        x,
        bins=bin_edges(x),
        density=True,
        color="0.85",
        weights=sample_weight,
        label=f"data ({x.size} points{weighted})",
    )
    parts = mixture_density(grid, weights, means, variances)
    for k, part in enumerate(parts):
        ax.plot(
            grid,
            part,
            "--",
            lw=1,
            label=f"component {k + 1}: weight {weights[k]:.3g}, "
            f"mean {means[k]:.4g}, variance {variances[k]:.4g}",
        )
    ax.plot(
        grid,
        parts.sum(axis=0),
        color="C3",
        lw=2,
        label=f"fitted mixture: K = {weights.size}, log-likelihood {log_likelihood:.1f}",
    )
    tallest = heights.max()
    if truth is not None:
        true_density = mixture_density(grid, *truth).sum(axis=0)
        ax.plot(grid, true_density, color="k", lw=1.5, ls=":", label="true mixture")
        tallest = max(tallest, true_density.max())
    top = min(ax.get_ylim()[1], 2 * tallest)
    ax.plot(x, np.full(x.size, -0.03 * top), "|", color="0.3", markersize=8)
    ax.set_ylim(-0.06 * top, top)
    ax.set_xlabel("x" if label is None else label)
    ax.set_ylabel("density")
    warning = _status_warning(status)
    if warning:
        title = f"{title}\n{warning}" if title else warning
    if title:
        ax.set_title(title, **({"color": "C3"} if warning else {}))
    # Below the axes: inside, five lines of legend cover the data whatever the corner.
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.13), frameon=False)


def _status_warning(status):
    """What a fit's status says about it in a figure: empty for a regular fit."""
    if status is None or Status(int(status)) < Status.SPURIOUS:
        return ""
    return {
        Status.SPURIOUS: "spurious fit (a component on a few points)",
        Status.VARIANCE_FLOORED: "collapsed fit (a variance or weight at 0)",
    }.get(Status(int(status)), "failed fit (no finite log-likelihood)")


def fit_figure(x, fitted, path, title=None, label=None, log_likelihood=None):
    """Write a PNG of one dataset with its fitted density (:func:`draw_fit`)."""
    Path(path).write_bytes(fit_image(x, fitted, title, label, log_likelihood))


def fit_image(x, fitted, title=None, label=None, log_likelihood=None, format="png") -> bytes:
    """The image of :func:`fit_figure`, as bytes, in ``format`` (:data:`FIGURE_FORMATS`)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 5.5), layout="constrained")
    draw_fit(
        ax,
        np.asarray(x, dtype=float),
        fitted,
        title=title,
        label=label,
        log_likelihood=log_likelihood,
    )
    return _image(plt, fig, format=format)


class Candidates(NamedTuple):
    """A dataset's candidate models for a criterion panel (:func:`draw_criterion`): the
    criterion's ``name`` ("bic", ...), each candidate's ``ks`` (number of components) and
    ``models`` ("equal", "unequal", or "-" for one component), its ``values`` (smaller
    better), whether it was ``eligible``, and the ``chosen`` one's index (-1 for none)."""

    name: str
    ks: list
    models: list
    values: np.ndarray
    eligible: np.ndarray
    chosen: int


class FitPanel(NamedTuple):
    """One dataset of :func:`fits_image`: its points ``x``, the ``fitted`` (weights, means,
    variances) or None when no candidate was eligible, the fit's ``log_likelihood`` and
    ``status``, its ``title``, its ``candidates`` (None for a fit of one model) and the
    points' ``sample_weight`` (None for unit weights)."""

    x: np.ndarray
    fitted: tuple | None
    log_likelihood: float
    status: int
    title: str
    candidates: Candidates | None = None
    sample_weight: np.ndarray | None = None


def draw_criterion(ax, candidates: Candidates):
    """mclust's first picture of a model choice: the criterion of every candidate against
    its number of components, one line per variance model (the one-component candidate,
    where the models coincide, starts each line), the chosen one ringed. Candidates that
    are not eligible (spurious, collapsed or failed) are grey crosses, off the lines."""
    ks = np.asarray(candidates.ks)
    values = np.asarray(candidates.values, dtype=float)
    eligible = np.asarray(candidates.eligible, dtype=bool)
    models = [m for m in dict.fromkeys(candidates.models) if m != "-"] or ["-"]
    for line, model in enumerate(models):
        on = np.array([m in (model, "-") for m in candidates.models])
        ax.plot(
            ks[on],
            np.where(eligible[on], values[on], np.nan),
            "o-",
            color=f"C{line}",
            lw=1.5,
            ms=4,
            label="one component" if model == "-" else f"{model} variances",
        )
    if (~eligible & np.isfinite(values)).any():
        ax.plot(
            ks[~eligible],
            values[~eligible],
            "x",
            color="0.5",
            ms=7,
            label="not eligible (spurious, collapsed or failed)",
        )
    name = candidates.name.upper()
    if candidates.chosen >= 0:
        c = candidates.chosen
        model = candidates.models[c]
        ax.plot(
            ks[c],
            values[c],
            "o",
            ms=13,
            mfc="none",
            mec="C3",
            mew=2,
            label=f"chosen: K = {ks[c]}" + ("" if model == "-" else f", {model}"),
        )
    ax.set_xticks(np.unique(ks))
    ax.set_xlabel("components")
    ax.set_ylabel(f"{name} (smaller is better)")
    ax.set_title(f"{name} of each candidate")
    ax.legend(fontsize=7, frameon=False)


def fits_image(panels, heading=None, label=None, max_datasets=FIT_DATASETS, format="png") -> bytes:
    """The image of :func:`fits_figure`, as bytes, in ``format`` (:data:`FIGURE_FORMATS`)."""
    plt = _pyplot()
    return _image(plt, fits_figure(panels, heading, label, max_datasets), format=format)


def fits_figure(panels, heading=None, label=None, max_datasets=FIT_DATASETS):
    """The figure of ``fastem fit --plot``: a row per dataset (the first ``max_datasets``
    of ``panels``, a list of :class:`FitPanel`), each its data with the fit
    (:func:`draw_fit`), and beside it, when it chose among candidate models, the criterion
    of each (:func:`draw_criterion`). ``heading`` starts the figure's title (a file name)
    and ``label`` names the x axis of the data."""
    plt = _pyplot()
    shown = panels[:max_datasets]
    columns = 2 if any(p.candidates is not None for p in shown) else 1
    fig, axes = plt.subplots(
        len(shown),
        columns,
        squeeze=False,
        layout="constrained",
        figsize=(8 * columns if columns == 1 else 13, 6.2 * len(shown)),
        width_ratios=[8, 5][:columns],
    )
    for row, panel in zip(axes, shown):
        if panel.fitted is None:
            row[0].hist(
                panel.x,
                bins=bin_edges(panel.x),
                density=True,
                color="0.85",
                weights=panel.sample_weight,
            )
            row[0].set_title(f"{panel.title}\nno eligible candidate: no fit to draw", color="C3")
            row[0].set_xlabel("x" if label is None else label)
        else:
            draw_fit(
                row[0],
                panel.x,
                panel.fitted,
                title=panel.title,
                label=label,
                log_likelihood=panel.log_likelihood,
                status=panel.status,
                sample_weight=panel.sample_weight,
            )
        if columns == 2:
            if panel.candidates is None:
                row[1].set_axis_off()
            else:
                draw_criterion(row[1], panel.candidates)
    if len(panels) > len(shown) or len(shown) > 1:
        text = f"{heading}: " if heading else ""
        if len(panels) > len(shown):
            text += f"the first {len(shown)} of {len(panels)} datasets"
        else:
            text += f"{len(shown)} datasets"
        _title(fig, text)
    return fig


def lrt_image(result, ids=None, max_datasets=4, title=None, format="png") -> bytes:
    """An image of the bootstrap distributions of an :class:`~fastem.LRTResult`: a row of
    panels per dataset (the first ``max_datasets``), a panel per test that ran, each a
    histogram of the replicates' statistics with the observed statistic as a vertical line
    and the p-value in its title; PNG, or ``format`` (:data:`FIGURE_FORMATS`).

    ``ids`` names the datasets (default ``0, 1, ...``, as datasets are counted); ``title``
    starts the figure's title (a file name). An observed statistic far beyond every
    replicate stretches the panel's axis to reach it, as it should: that distance is the
    evidence.
    """
    plt = _pyplot()
    statistic, p_value, mcse, ran = (
        np.atleast_2d(a)
        for a in (result.statistic, result.p_value, result.p_value_mcse, result.ran)
    )
    boot = np.asarray(result.boot_statistics, dtype=float)
    boot = boot[np.newaxis] if boot.ndim == 2 else boot
    n_failed = np.atleast_2d(result.n_failed)
    chosen = np.atleast_1d(result.n_components)
    n_datasets = statistic.shape[0]
    ids = [str(d) for d in range(n_datasets)] if ids is None else [str(i) for i in ids]
    shown = min(n_datasets, max_datasets)
    columns = max(1, int(ran[:shown].sum(axis=1).max()))
    fig, axes = plt.subplots(
        shown,
        columns,
        figsize=(4.2 * columns + 0.4, 3.3 * shown + 0.9),
        squeeze=False,
        layout="constrained",
    )
    for d in range(shown):
        tests = np.flatnonzero(ran[d])
        for column, ax in enumerate(axes[d]):
            if column >= tests.size:
                reason = (
                    "no test: the fits to the data failed"
                    if tests.size == 0 and chosen[d] == 0
                    else "no further test"
                )
                ax.text(
                    0.5,
                    0.5,
                    f"dataset {ids[d]}: {reason}",
                    ha="center",
                    va="center",
                    transform=ax.transAxes,
                    fontsize=9,
                    color="0.4",
                )
                ax.set_axis_off()
                continue
            t = tests[column]
            _draw_lrt_panel(
                ax,
                boot[d, t],
                statistic[d, t],
                int(result.tested[t]),
                p_value[d, t],
                mcse[d, t],
                int(n_failed[d, t]),
                result.level,
            )
            if column == 0:
                choice = f"K = {chosen[d]} chosen" if chosen[d] else "no K chosen"
                ax.set_ylabel(f"dataset {ids[d]}: {choice}\nreplicates")
    heading = (
        f"Bootstrap distribution of the likelihood-ratio statistic under K components "
        f"({result.n_boot} replicates per test, {result.variance} variances); red "
        "line: the observed statistic"
    )
    if title:
        heading = f"{title}: {heading}"
    if shown < n_datasets:
        heading += f"\nthe first {shown} of {n_datasets} datasets: {', '.join(ids[:shown])}"
    _title(fig, heading, fontsize=10)
    return _image(plt, fig, format=format)


def _draw_lrt_panel(ax, boot, observed, k, p_value, mcse, n_failed, level):
    """One test's replicates (a histogram) and its observed statistic (a line)."""
    boot = boot[np.isfinite(boot)]
    high = max(float(boot.max()) if boot.size else 1.0, float(observed), 1e-9)
    n_bins = int(np.clip(2 * np.sqrt(boot.size), 10, 50))
    # Bins over the replicates' own range, so that a far observed value does not squeeze
    # them into one bin.
    top = float(boot.max()) if boot.size and boot.max() > 0 else high
    ax.hist(
        boot,
        bins=np.linspace(0, top, n_bins + 1),
        color="0.75",
        edgecolor="0.45",
        lw=0.5,
        label=f"{boot.size} replicates",
    )
    ax.axvline(observed, color="C3", lw=2)
    right = observed > 0.75 * high
    ax.text(
        observed,
        0.97,
        f"observed\n{observed:.2f}",
        color="C3",
        fontsize=8,
        va="top",
        ha="right" if right else "left",
        multialignment="right" if right else "left",
        transform=ax.get_xaxis_transform(),
        bbox=dict(boxstyle="square,pad=0.25", facecolor="white", edgecolor="none", alpha=0.85),
    )
    ax.set_xlim(-0.02 * high, 1.04 * high)
    failed = f", {n_failed} failed" if n_failed else ""
    if np.isnan(p_value):
        verdict = "no p-value: every replicate failed"
    else:
        verdict = (
            f"p = {p_value:.3g} (MCSE {mcse:.1g}), "
            f"{'rejected' if p_value <= level else 'not rejected'} at {level:g}{failed}"
        )
    ax.set_title(f"{k} vs {k + 1} components\n{verdict}", fontsize=9)
    ax.set_xlabel(f"2 (log L with {k + 1} - log L with {k})", fontsize=8)


def study_figures(result, directory) -> list:
    """Write the study's figures (:func:`study_images`) as PNG files into ``directory``;
    returns their paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, image in study_images(result).items():
        paths.append(directory / name)
        paths[-1].write_bytes(image)
    return paths


STUDY_FIGURES = ("dataset.png", "traces.png", "estimates.png", "iterations.png", "passes.png")


def study_images(result, provenance=None) -> dict:
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
      algorithms and rules compare.

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
    plt = _pyplot()
    images = {}
    for name, fig in _study_figures(result).items():
        images[name] = _image(plt, fig, provenance)
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


def _study_figures(result) -> dict:
    """The figures of :func:`study_images`, as ``{file name: matplotlib Figure}``."""
    plt = _pyplot()
    grid = _Grid(result)
    figures = {}
    if all(cell.example is not None for cell in result.cells):
        figures["dataset.png"] = _dataset_figure(plt, result, grid)
    if all(cell.trace is not None for cell in result.cells):
        figures["traces.png"] = _traces_figure(plt, grid)
    figures["estimates.png"] = _estimates_figure(plt, result, grid)
    figures["iterations.png"] = _iterations_figure(plt, grid)
    figures["passes.png"] = _passes_figure(plt, result, grid)
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
            ax.set_title(
                f"{cell.label}, {n}: {restarts} restart(s) of {datasets} datasets", fontsize=9
            )
            if row == rows - 1:
                ax.set_xlabel("EM iteration")
            if column == 0:
                ax.set_ylabel("final minus current\nlog-likelihood per point")
    _title(
        fig,
        "Convergence of each fit: distance of its log-likelihood from its own final "
        "value (0 at the end, not drawn)",
    )
    return fig


def _estimates_figure(plt, result, grid):
    n_components = max(cell.truth[1].size for cell in result.cells if cell.matched)
    rows = [(index, name, k) for index, name in enumerate(PARAMETERS) for k in range(n_components)]
    columns = len(grid.sizes)
    panel_height = 0.9 + 0.45 * len(grid.strategies)
    fig, axes = plt.subplots(
        len(rows),
        columns,
        squeeze=False,
        sharex="row",
        figsize=(4 * columns + 1, panel_height * len(rows) + 0.8),
        layout="constrained",
    )
    replications = result.cells[0].weights.shape[0]
    for row, (index, name, k) in enumerate(rows):
        for column, n in enumerate(grid.sizes):
            ax = axes[row, column]
            cells = [grid[n, s] for s in grid.strategies]
            ax.set_title(f"{name} {k + 1}, {n}", fontsize=9)
            if not cells[0].matched or k >= cells[0].truth[1].size:
                ax.text(
                    0.5,
                    0.5,
                    "no true component to match",
                    ha="center",
                    va="center",
                    transform=ax.transAxes,
                    fontsize=8,
                )
                ax.set_yticks([])
                continue
            true = float(cells[0].truth[index][k])
            samples = [getattr(cell, name + "s")[:, k] for cell in cells]
            _ridges(ax, samples, grid.strategies, true, log=name == "variance")
            ax.set_xlabel(
                f"estimated {name} {k + 1}" + (" (log scale)" if name == "variance" else ""),
                fontsize=8,
            )
            if column == 0:
                ax.set_ylabel("strategy")
        if name == "variance" and axes[row, 0].get_xscale() == "log":
            _number_ticks(axes[row, 0].xaxis, *axes[row, 0].get_xlim())
    _title(
        fig,
        f"Estimates over {replications} datasets per sample size, matched to the true "
        "components\none histogram per strategy, each scaled to its own peak; dotted: "
        "the true value",
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
        _number_ticks(top.yaxis, *top.get_ylim(), most_decades=4)
        top.set_title(f"{n}: passes")
        bottom.set_title(f"{n}: at the best maximum")
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
    _title(
        fig,
        "Passes to convergence and the share of fits reaching the best maximum "
        "found for their dataset, per method",
    )
    return fig


def _ridges(ax, samples, names, true, log):
    """One histogram per sample of estimates, each on its own baseline (top to bottom in
    the order of ``names``) and scaled to its own peak; on a log axis when ``log``, where
    values below ``COLLAPSED_BELOW * true`` are counted at the left instead."""
    samples = [np.asarray(s, dtype=float) for s in samples]
    samples = [s[np.isfinite(s)] for s in samples]
    floor = COLLAPSED_BELOW * true if log else -np.inf
    shown = np.concatenate([s[s >= floor] for s in samples] + [np.array([true])])
    low, high = shown.min(), shown.max()
    n_bins = int(np.clip(2 * np.sqrt(max(s.size for s in samples)), 15, 60))
    if high == low:  # all estimates equal (the weight when K = 1): in a central bin
        n_bins += 1 - n_bins % 2
        pad = 0.05 * max(abs(low), 1.0)
        low, high = low - pad, high + pad
    edges = np.geomspace(low, high, n_bins + 1) if log else np.linspace(low, high, n_bins + 1)
    for i, sample in enumerate(samples):
        baseline = len(samples) - 1 - i
        counts, _ = np.histogram(sample, edges)
        heights = baseline + 0.85 * counts / max(1, counts.max())
        ax.stairs(heights, edges, baseline=baseline, fill=True, color=f"C{i}", alpha=0.3)
        ax.stairs(heights, edges, baseline=baseline, color=f"C{i}", lw=1)
        collapsed = int(np.sum(sample < floor))
        if collapsed:
            ax.text(
                0.01,
                baseline + 0.45,
                f"{collapsed} below {floor:.2g}",
                fontsize=7,
                color=f"C{i}",
                transform=ax.get_yaxis_transform(),
            )
    ax.axvline(true, color="k", ls=":", lw=1.2)
    if log:
        ax.set_xscale("log")
    ax.set_yticks(np.arange(len(names))[::-1], names, fontsize=8)
    ax.set_ylim(-0.1, len(names))


def _number_ticks(axis, low, high, most_decades=2):
    """Ticks of a log ``axis`` at 1, 2 and 5 times powers of ten between ``low`` and
    ``high`` (at powers of ten only beyond ``most_decades``), labelled as plain numbers."""
    from matplotlib.ticker import NullFormatter

    low = max(low, np.finfo(float).tiny)
    subs = (1, 2, 5) if np.log10(high / low) <= most_decades else (1,)
    ticks = [
        s * 10.0**d
        for d in range(int(np.floor(np.log10(low))), int(np.ceil(np.log10(high))) + 1)
        for s in subs
    ]
    ticks = [t for t in ticks if low <= t <= high]
    axis.set_ticks(ticks, [f"{t:g}" for t in ticks])
    axis.set_minor_formatter(NullFormatter())


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
        ax.set_title(f"{n}")
        ax.set_xlabel("strategy")
        if ax.get_subplotspec().is_first_col():
            ax.set_ylabel("EM iterations per fit (restart)")
    top = 1.4 * max(
        [1, max_iter or 0] + [int(cell.restart_n_iter.max()) for cell in grid.cells.values()]
    )
    # symlog: a fit that failed at its first iteration has 0 iterations, which log drops.
    axes[0, 0].set_yscale("symlog", linthresh=1, linscale=0.3)
    axes[0, 0].set_ylim(0, top)
    _number_ticks(axes[0, 0].yaxis, 1, top, most_decades=3)
    note = (
        "; emem's short runs not counted"
        if any(np.any(cell.init_n_iter > 0) for cell in grid.cells.values())
        else ""
    )
    _title(
        fig,
        "EM iterations of every fit: until tol was met, or max_iter or a failure "
        f"stopped it{note}\nboxes: quartiles, whiskers to 1.5 IQR, dots beyond; "
        "red x: fits that did not meet tol",
        fontsize=10,
    )
    return fig


def _title(fig, text, fontsize=11):
    """The figure's title, each line wrapped to the figure's width (about 12 characters
    an inch at 11 points), so that a narrow figure does not cut it off."""
    import textwrap

    width = max(20, int(fig.get_figwidth() * 12 * 11 / fontsize))
    lines = [wrapped for line in text.split("\n") for wrapped in textwrap.wrap(line, width)]
    fig.suptitle("\n".join(lines), fontsize=fontsize)


def _image(plt, fig, provenance=None, format="png") -> bytes:
    metadata = {}
    if provenance is not None:
        import json

        # PDF has no Description among its document fields; Subject is its nearest.
        metadata["Subject" if format == "pdf" else "Description"] = json.dumps(provenance)
        seed = provenance["design"].get("seed")
        fig.text(
            0.995,
            0.002,
            f"fastem {provenance['fastem']}, seed {seed}",
            ha="right",
            va="bottom",
            fontsize=6,
            color="0.4",
        )
    buffer = io.BytesIO()
    fig.savefig(buffer, format=format, dpi=110, metadata=metadata)
    plt.close(fig)
    return buffer.getvalue()
