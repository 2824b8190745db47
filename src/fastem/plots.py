"""Figures of studies and fits (needs matplotlib: ``pip install fastem[plot]``)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from scipy.stats import norm

INSTALL_HINT = "plotting needs matplotlib: pip install 'fastem[plot]' (or pip install matplotlib)"


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
    weights, means, variances = (np.asarray(a, dtype=float)[:, None] for a in
                                 (weights, means, variances))
    return weights * norm.pdf(grid, means, np.sqrt(variances))


def _grid(x, means, variances):
    low = min(x.min(), (np.asarray(means) - 3 * np.sqrt(variances)).min())
    high = max(x.max(), (np.asarray(means) + 3 * np.sqrt(variances)).max())
    return np.linspace(low, high, 400)


def draw_fit(ax, x, fitted, truth=None, title=None):
    """The data (histogram and a rug of points), the fitted mixture and its components,
    and the true mixture when known: the seed notebook's picture."""
    weights, means, variances = fitted
    grid = _grid(x, means, variances)
    ax.hist(x, bins=min(60, max(10, x.size // 8)), density=True, color="0.85", label="data")
    ax.plot(x, np.full(x.size, -0.01 * ax.get_ylim()[1]), "|", color="0.3", markersize=8)
    parts = mixture_density(grid, weights, means, variances)
    for k, part in enumerate(parts):
        ax.plot(grid, part, "--", lw=1, label=f"fitted component {k + 1}")
    ax.plot(grid, parts.sum(axis=0), color="C3", lw=2, label="fitted mixture")
    if truth is not None:
        ax.plot(grid, mixture_density(grid, *truth).sum(axis=0), color="k", lw=1.5, ls=":",
                label="true mixture")
    ax.set_xlabel("x")
    ax.set_ylabel("density")
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8)


def fit_figure(x, fitted, path, title=None):
    """Write a PNG of one dataset with its fitted density."""
    Path(path).write_bytes(fit_image(x, fitted, title))


def fit_image(x, fitted, title=None) -> bytes:
    """The PNG of :func:`fit_figure`, as bytes."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    draw_fit(ax, np.asarray(x, dtype=float), fitted, title=title)
    return _png(plt, fig)


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


STUDY_FIGURES = ("dataset.png", "traces.png", "estimates.png", "iterations.png")


def study_images(result) -> dict:
    """The study's figures as ``{file name: PNG bytes}``:

    - ``dataset.png``: the first dataset with each strategy's fit and the true mixture;
    - ``traces.png``: log-likelihood per iteration for the first datasets' restarts (only
      when the study kept them: ``study(..., trace=True)``);
    - ``estimates.png``: histograms of the estimates against the true values;
    - ``iterations.png``: iterations to convergence, per strategy and sample size.
    """
    plt = _pyplot()
    first = [c for c in result.cells if c.n_samples == result.cells[0].n_samples]
    images = {}

    fig, axes = plt.subplots(1, len(first), figsize=(5 * len(first), 4), squeeze=False)
    for ax, cell in zip(axes[0], first):
        fitted = (cell.weights[0], cell.means[0], cell.variances[0])
        draw_fit(ax, cell.example, fitted, truth=result.truth,
                 title=f"{cell.init}: dataset 1 of n={cell.n_samples}")
    images["dataset.png"] = _png(plt, fig)

    if first[0].trace is not None:
        images["traces.png"] = _png(plt, _traces_figure(plt, first))

    n_components = result.truth[1].size
    fig, axes = plt.subplots(3, n_components, figsize=(4.5 * n_components, 9), squeeze=False)
    for row, (name, true) in enumerate(zip(("weight", "mean", "variance"), result.truth)):
        for k in range(n_components):
            ax = axes[row, k]
            for cell in first:
                values = getattr(cell, name + "s")[:, k]
                values = values[np.isfinite(values)]
                ax.hist(values, bins=60, histtype="step", density=True, label=cell.init)
            ax.axvline(true[k], color="k", ls=":", label="true")
            ax.set_title(f"{name} {k + 1} (n={first[0].n_samples})")
    axes[0, 0].legend(fontsize=8)
    images["estimates.png"] = _png(plt, fig)

    fig, ax = plt.subplots(figsize=(max(6, 1.2 * len(result.cells)), 4))
    labels = [f"{c.init}\nn={c.n_samples}" for c in result.cells]
    ax.boxplot([c.restart_n_iter.ravel() for c in result.cells], showfliers=False)
    ax.set_xticks(np.arange(1, len(labels) + 1), labels, fontsize=8)
    ax.set_ylabel("iterations to convergence")
    images["iterations.png"] = _png(plt, fig)
    return images


def _traces_figure(plt, first):
    fig, axes = plt.subplots(1, len(first), figsize=(5 * len(first), 4), squeeze=False)
    for ax, cell in zip(axes[0], first):
        traces = cell.trace.reshape(-1, cell.trace.shape[-1]) / cell.n_samples
        longest = int(np.max(np.sum(np.isfinite(traces), axis=1)))
        for trace in traces:
            ax.plot(np.arange(longest), trace[:longest], lw=0.8, alpha=0.6)
        ax.set_xscale("symlog", linthresh=10)
        ax.set_xlabel("iteration")
        ax.set_ylabel("log-likelihood per point")
        ax.set_title(f"{cell.init}: {traces.shape[0]} fits, n={cell.n_samples}")
    return fig


def _png(plt, fig) -> bytes:
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    return buffer.getvalue()
