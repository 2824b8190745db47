"""Figures of fits: one dataset with its fitted mixture (:func:`draw_fit`), and the panels
of ``fastem fit --plot``, a row per dataset with the criterion of each candidate number of
components (:func:`fits_image`)."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np

from ...engine.status import Status
from .base import (
    bin_edges,
    figure_bytes,
    load_pyplot,
    mixture_density,
    mixture_log_likelihood,
    wrapped_title,
)

FIT_DATASETS = 8
"""Most datasets that ``fastem fit --plot`` draws (a row of panels each): the first ones."""


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
    and the true mixture when known.

    The histogram's bins respect the data's resolution (:func:`bin_edges`). The legend
    gives each component's parameters and the mixture's ``K`` and log-likelihood
    (``log_likelihood``, or computed from ``x`` when None). ``label`` names the x axis
    (default ``"x"``). A collapsed component's spike is cut at twice the height of the
    histogram (or of the true density), so that the data stay readable. A fit whose
    ``status`` (a :class:`fastem.Status` code) is spurious or collapsed says so in red under the
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
    plt = load_pyplot()
    fig, ax = plt.subplots(figsize=(8, 5.5), layout="constrained")
    draw_fit(
        ax,
        np.asarray(x, dtype=float),
        fitted,
        title=title,
        label=label,
        log_likelihood=log_likelihood,
    )
    return figure_bytes(plt, fig, format=format)


class Candidates(NamedTuple):
    """A dataset's candidate models for a criterion panel (:func:`draw_criterion`)."""

    #: The criterion's name ("bic", ...).
    name: str
    #: Each candidate's number of components.
    ks: list
    #: Each candidate's variance model: "equal", "unequal", or "-" for one component.
    models: list
    #: Each candidate's criterion (smaller is better).
    values: np.ndarray
    #: Whether each candidate was eligible.
    eligible: np.ndarray
    #: The chosen candidate's index (-1 for none).
    chosen: int


class FitPanel(NamedTuple):
    """One dataset of :func:`fits_image`."""

    #: The dataset's points.
    x: np.ndarray
    #: The fitted ``(weights, means, variances)``, or None when no candidate was eligible.
    fitted: tuple | None
    #: The fit's log-likelihood.
    log_likelihood: float
    #: The fit's :class:`fastem.Status` code.
    status: int
    #: The panel's title.
    title: str
    #: The :class:`Candidates` of a model choice (None for a fit of one model).
    candidates: Candidates | None = None
    #: The points' weights (None for unit weights).
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
    plt = load_pyplot()
    return figure_bytes(plt, fits_figure(panels, heading, label, max_datasets), format=format)


def fits_figure(panels, heading=None, label=None, max_datasets=FIT_DATASETS):
    """The figure of ``fastem fit --plot``: a row per dataset (the first ``max_datasets``
    of ``panels``, a list of :class:`FitPanel`), each its data with the fit
    (:func:`draw_fit`), and beside it, when it chose among candidate models, the criterion
    of each (:func:`draw_criterion`). ``heading`` starts the figure's title (a file name)
    and ``label`` names the x axis of the data."""
    plt = load_pyplot()
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
        wrapped_title(fig, text)
    return fig
