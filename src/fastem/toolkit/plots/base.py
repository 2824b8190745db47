"""What every figure shares: matplotlib loaded on first use, the file formats, figures
written out as bytes (with their provenance), titles that fit, and the mixture's density
and the data's bins that the figures of fits draw."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from scipy.special import logsumexp
from scipy.stats import norm

INSTALL_HINT = "plotting needs matplotlib: pip install 'fastem[plot]' (or pip install matplotlib)"

RESOLUTION_TOL = 1e-4
"""How far from a whole number (in steps) a gap between two values may be for the data to
count as discrete in :func:`resolution`: far above the rounding of values written with a
few decimals, far below what continuous data meet by chance."""


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


def load_pyplot():
    """matplotlib's pyplot, drawing off screen (Agg); ImportError with the way to install it
    when matplotlib is missing."""
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


def panel_title(ax, text, fontsize=9):
    """``text`` as the panel's title, wrapped to the panel's width (about 12 characters an
    inch at 11 points) on the figure's layout, so that neighbouring titles never overlap
    nor run off the figure."""
    import textwrap

    inches = ax.get_position().width * ax.figure.get_figwidth()
    width = max(12, int(inches * 13 * 11 / fontsize))
    ax.set_title("\n".join(textwrap.wrap(text, width)), fontsize=fontsize)


def wrapped_title(fig, text, fontsize=11):
    """The figure's title, each line wrapped to the figure's width (about 12 characters
    an inch at 11 points), so that a narrow figure does not cut it off."""
    import textwrap

    width = max(20, int(fig.get_figwidth() * 12 * 11 / fontsize))
    lines = [wrapped for line in text.split("\n") for wrapped in textwrap.wrap(line, width)]
    fig.suptitle("\n".join(lines), fontsize=fontsize)


def figure_bytes(plt, fig, provenance=None, format="png") -> bytes:
    """``fig`` written as an image file of ``format``, and closed; ``provenance``
    (``{"fastem": version, "design": {...}}``), when given, goes into the file's metadata
    and, as the version and seed, in a line at the figure's foot."""
    metadata = {}
    if provenance is not None:
        import json

        from matplotlib.layout_engine import ConstrainedLayoutEngine

        # PDF has no Description among its document fields; Subject is its nearest.
        metadata["Subject" if format == "pdf" else "Description"] = json.dumps(provenance)
        seed = provenance["design"].get("seed")
        engine = fig.get_layout_engine()
        if isinstance(engine, ConstrainedLayoutEngine):  # room for the line below the axes
            foot = 9 / 72 / fig.get_figheight()
            engine.set(rect=(0, foot, 1, 1 - foot))
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
