"""How a study's figures lay out their panels: a grid that wraps after
:data:`ITERATION_COLUMNS` panels, with no empty panels left over."""

from __future__ import annotations

import numpy as np

ITERATION_COLUMNS = 3
"""Most panels (sample sizes) side by side in ``iterations.png``; more make more rows."""


def panel_grid(plt, n_panels, width, height, columns=ITERATION_COLUMNS, **shared):
    """A figure of ``n_panels`` panels of ``width`` x ``height`` inches, ``columns`` to a
    row at most, the unused places of the last row removed; returns ``(fig, axes)``, the
    axes as a list in reading order. ``shared`` goes to ``plt.subplots`` (``sharex``,
    ``sharey``), so that panels compared side by side share their axes."""
    columns = max(1, min(n_panels, columns))
    rows = -(-n_panels // columns)
    fig, axes = plt.subplots(
        rows,
        columns,
        figsize=(width * columns + 0.4, height * rows + 0.9),
        squeeze=False,
        layout="constrained",
        **shared,
    )
    for ax in axes.flat[n_panels:]:
        fig.delaxes(ax)
    return fig, list(axes.flat[:n_panels])


def number_ticks(axis, low, high, most_decades=2):
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
