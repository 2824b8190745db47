"""A measure of a study's table against a design variable, with its MCSE bars: one line per
method, one panel per value of the other design variables (:func:`measure_figure`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..study_table import is_measure
from .base import panel_title, wrapped_title
from .layout import panel_grid


@dataclass(frozen=True)
class MeasureLine:
    """One method's points in one panel of :func:`measure_figure`: ``x`` the values of the
    design variable, ``y`` the measure and ``mcse`` its MCSE (the table's rows, sorted by
    ``x``)."""

    #: str: the panel, the other design variables' values (``"weight = 0.5"``), or "".
    panel: str
    #: str: the method.
    label: str
    #: array: the design variable's values.
    x: np.ndarray
    #: array: the measure.
    y: np.ndarray
    #: array: its Monte Carlo standard error.
    mcse: np.ndarray


def design_variables(result) -> list:
    """The study's design variables that a measure can be drawn against: ``n_samples``, and
    the variables of its grid (:attr:`fastem.Scenario.variables`), in that order."""
    return ["n_samples", *(name for name, _ in result.cells[0].variables)]


def measure_lines(result, measure, against=None) -> list:
    """The points of :func:`measure_figure`, as a list of :class:`MeasureLine`.

    ``against`` is a design variable (:func:`design_variables`; None: the grid's first,
    else ``n_samples``). The other columns that name a design cell and vary (the grid's
    other variables, or the scenario without a grid, ``n_samples`` and ``n_components``)
    make the panels; the methods (``init``, ``algorithm``, ``stop``) the lines."""
    table = result.table
    variables = design_variables(result)
    against = _resolved(result, against)
    if against not in variables:
        raise ValueError(
            f"a measure is drawn against a design variable ({', '.join(variables)}), "
            f"got {against!r}."
        )
    if not is_measure(measure) or measure not in table.columns:
        shown = [name for name in table.columns if is_measure(name)]
        raise ValueError(
            f"{measure!r} is not a measure of this study's table with an MCSE; choose one "
            f"of {', '.join(shown)}."
        )
    others = [name for name in variables if name != against]
    if len(variables) == 1:
        others.insert(0, "scenario")
    others.append("n_components")
    others = [name for name in others if len(set(table[name])) > 1]
    labels = [cell.label for cell in result.cells]
    lines = {}
    for row in range(len(table)):
        panel = ", ".join(f"{name} = {_shown(table[name][row])}" for name in others)
        lines.setdefault((panel, labels[row]), []).append(row)
    found = []
    for (panel, label), rows in lines.items():
        rows = np.array(rows)[np.argsort(np.asarray(table[against])[rows], kind="stable")]
        found.append(
            MeasureLine(
                panel,
                label,
                np.asarray(table[against], dtype=float)[rows],
                np.asarray(table[measure], dtype=float)[rows],
                np.asarray(table[f"{measure}_mcse"], dtype=float)[rows],
            )
        )
    return found


def measure_figure(result, measure, against=None):
    """``measure`` (a column of the study's table with an MCSE: ``at_best``,
    ``mean_2_bias``, ...) against the design variable ``against`` (``n_samples`` or a grid's
    variable; see :func:`measure_lines`), a line per method with error bars of 1.96 MCSE, a
    panel per value of the other design variables, on shared axes (a log x axis for
    ``n_samples``, which a study spreads over decades). Returns a matplotlib Figure; a
    method's points are dodged sideways a little, so that their bars do not hide each
    other."""
    from .base import load_pyplot

    plt = load_pyplot()
    lines = measure_lines(result, measure, against)
    against = _resolved(result, against)
    panels = list(dict.fromkeys(line.panel for line in lines))
    labels = list(dict.fromkeys(line.label for line in lines))
    fig, axes = panel_grid(plt, len(panels), width=4.2, height=3.3, sharex=True, sharey=True)
    log = against == "n_samples"
    for ax, panel in zip(axes, panels):
        for line in (line for line in lines if line.panel == panel):
            index = labels.index(line.label)
            dodge = (index - (len(labels) - 1) / 2) * 0.02
            x = line.x * 10**dodge if log else line.x + dodge * _span(lines)
            ax.errorbar(
                x,
                line.y,
                yerr=1.96 * line.mcse,
                fmt="o-",
                capsize=3,
                color=f"C{index}",
                label=line.label,
                ms=4,
            )
        if "bias" in measure or "relerror" in measure:
            ax.axhline(0, color="0.5", lw=0.8, ls=":")
        if log:
            ax.set_xscale("log")
        xs = np.unique(np.concatenate([line.x for line in lines]))
        ax.set_xticks(xs, [_shown(x) for x in xs])
        ax.set_xticks([], minor=True)  # the values studied, not a log axis's own ticks
        panel_title(ax, panel or measure)
        if ax.get_subplotspec().is_last_row():
            ax.set_xlabel(against)
        if ax.get_subplotspec().is_first_col():
            ax.set_ylabel(measure)
    axes[0].legend(fontsize=8)
    wrapped_title(fig, f"{measure} against {against}, per method; bars: 1.96 MCSE", fontsize=10)
    return fig


def _resolved(result, against):
    """``against``, or by default the grid's first variable, else ``n_samples``."""
    if against is not None:
        return against
    variables = design_variables(result)
    return variables[1] if len(variables) > 1 else "n_samples"


def _span(lines) -> float:
    values = np.concatenate([line.x for line in lines])
    return float(values.max() - values.min()) or 1.0


def _shown(value) -> str:
    return f"{value:g}" if isinstance(value, (float, np.floating)) else str(value)
