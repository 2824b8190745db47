"""The figure of a bootstrap likelihood ratio test: the replicates' statistics of each
test against the observed one (:func:`lrt_image`)."""

from __future__ import annotations

import numpy as np

from .base import figure_bytes, load_pyplot, wrapped_title


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
    plt = load_pyplot()
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
    wrapped_title(fig, heading, fontsize=10)
    return figure_bytes(plt, fig, format=format)


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
