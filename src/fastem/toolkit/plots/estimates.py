"""``estimates.png`` of a study: the estimates of every design cell whose fits have the true
number of components, a histogram per method against the true value."""

from __future__ import annotations

import numpy as np

from ..study_table import PARAMETERS
from .base import panel_title, wrapped_title
from .layout import number_ticks

COLLAPSED_BELOW = 1e-3
"""Variance estimates below this fraction of the true variance are counted, not drawn, in
``estimates.png``: on its log axis the collapsed fits (variance near 0) would otherwise
stretch the axis over many decades and squeeze the real estimates."""


def estimates_figure(plt, result, grid):
    # Only the design cells whose fits have the true number of components: the others have
    # no component to match, and would be columns of empty panels.
    sizes = [n for n in grid.sizes if grid[n, grid.strategies[0]].matched]
    if not sizes:
        return _nothing_matched(plt)
    n_components = max(cell.truth[1].size for cell in result.cells if cell.matched)
    rows = [(index, name, k) for index, name in enumerate(PARAMETERS) for k in range(n_components)]
    columns = len(sizes)
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
        for column, n in enumerate(sizes):
            ax = axes[row, column]
            cells = [grid[n, s] for s in grid.strategies]
            panel_title(ax, f"{name} {k + 1}, {n}")
            if not cells[0].matched or k >= cells[0].truth[1].size:
                ax.text(
                    0.5,
                    0.5,
                    "the scenario has no such component",
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
            number_ticks(axes[row, 0].xaxis, *axes[row, 0].get_xlim())
    wrapped_title(
        fig,
        f"Estimates over {replications} datasets per sample size, matched to the true "
        "components\none histogram per strategy, each scaled to its own peak; dotted: "
        "the true value",
    )
    return fig


def _nothing_matched(plt):
    """``estimates.png`` of a study that fitted no true number of components: one panel
    that says so, rather than no file where one was announced."""
    fig, ax = plt.subplots(figsize=(5, 1.6), layout="constrained")
    ax.text(
        0.5,
        0.5,
        "No fit has the true number of components:\nno estimate to compare with a true value.",
        ha="center",
        va="center",
        transform=ax.transAxes,
    )
    ax.set_axis_off()
    ax.set_title("estimates")
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
