"""The data profile of a study (Moré & Wild 2009, as turboEM's ``dataprof``): per method,
the share of fits that solved their dataset within a budget of passes over the data, against
the budget, one panel per design cell (:func:`data_profile`, :func:`profile_figure`)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .. import mcse
from ..study_measures import best_regular, climbs
from .base import panel_title, wrapped_title
from .layout import panel_grid


@dataclass(frozen=True)
class Profile:
    """One method's data profile on one design cell.

    ``budgets`` (increasing, from 1 to the most passes any method of the cell spent) are
    the budgets of passes (EM maps) at which the share changes; ``share[i]`` is the share of
    all fits (every restart of every dataset) solved within ``budgets[i]`` passes, and
    ``mcse[i]`` its Monte Carlo standard error, clustered by dataset as ``at_best_mcse``
    is (:func:`fastem.mcse.clustered_mean_mcse`; with one restart, the binomial
    ``sqrt(p (1 - p) / replications)``)."""

    #: str: the design cell, as the figures' panels name it.
    panel: str
    #: str: the method (start strategy, algorithm, stopping rule).
    label: str
    #: str: the method's start strategy.
    init: str
    #: array of shape (n_budgets,): budgets of passes.
    budgets: np.ndarray
    #: array of shape (n_budgets,): share of fits solved within each budget.
    share: np.ndarray
    #: array of shape (n_budgets,): its MCSE.
    mcse: np.ndarray


def data_profile(result, at_best_tol=None) -> list:
    """The data profile of every method on every design cell, as a list of :class:`Profile`.

    A fit (a restart) *solves* its dataset when its final log-likelihood is within
    ``at_best_tol`` per point of the best that the methods which climb the likelihood found
    for that dataset with the same number of components, leaving out fits with a floored
    variance: the study's ``at_best`` criterion, so that
    at the largest budget the share is the table's ``at_best`` (for the study's own
    ``at_best_tol``, which None stands for). turboEM's ``summary`` counts a fit as a
    failure when its objective is more than ``eps = 0.1`` (absolute) above the best; a
    tolerance per point does not grow with the sample size. A fit solves it *within a budget*
    ``b`` when it also spent at most ``b`` passes (EM maps, :attr:`fastem.FitResult.n_fpeval`),
    whether it converged or stopped at ``max_iter``: passes measure the work, as function
    evaluations do in Moré & Wild's data profiles.

    Needs the replications (``study(..., keep_replications=True)``, the default).
    """
    if any(not cell.keep for cell in result.cells):
        raise ValueError(
            "the data profile needs every fit's passes and log-likelihood, which this "
            "study did not keep; run it with keep_replications=True."
        )
    groups = {}
    for cell in result.cells:
        groups.setdefault((cell.scenario, cell.n_samples, cell.n_components), []).append(cell)
    if at_best_tol is None:
        at_best_tol = result.cells[0].at_best_tol
    profiles = []
    for cells in groups.values():
        climbing = [cell for cell in cells if climbs(cell.algorithm)] or cells
        best = best_regular(
            [cell.log_likelihood for cell in climbing], [cell.status for cell in climbing]
        )
        most = max(int(cell.restart_n_fpeval.max()) for cell in cells)
        for cell in cells:
            loglik = cell.restart_log_likelihood
            with np.errstate(invalid="ignore"):
                solved = loglik >= (best - at_best_tol * cell.n_observations)[:, None]
            solved &= np.isfinite(loglik)
            passes = cell.restart_n_fpeval
            budgets = np.unique(np.concatenate([[1, most], passes[solved]]))
            budgets = budgets[budgets >= 1]
            within = [solved & (passes <= budget) for budget in budgets]
            profiles.append(
                Profile(
                    cell.panel,
                    cell.label,
                    cell.init,
                    budgets.astype(float),
                    np.array([w.mean() for w in within]),
                    np.array([mcse.clustered_mean_mcse(w.astype(float)) for w in within]),
                )
            )
    return profiles


def profile_figure(result, at_best_tol=None):
    """The figure of :func:`data_profile`: a panel per design cell (wrapping after
    ``ITERATION_COLUMNS``), on shared axes, with a step line per method of the share of
    fits solved against the budget of passes (log axis) and a band of +-1.96 MCSE.
    ``at_best_tol`` is the study's own (as its table's ``at_best``) when None; returns a
    matplotlib Figure."""
    from .base import load_pyplot

    plt = load_pyplot()
    tol = result.cells[0].at_best_tol if at_best_tol is None else at_best_tol
    profiles = _faceted(data_profile(result, tol))
    panels = list(dict.fromkeys(profile.panel for profile in profiles))
    labels = list(dict.fromkeys(profile.label for profile in profiles))
    fig, axes = panel_grid(plt, len(panels), width=4.2, height=3.3, sharex=True, sharey=True)
    for ax, panel in zip(axes, panels):
        for profile in (p for p in profiles if p.panel == panel):
            color = f"C{labels.index(profile.label)}"
            x = np.append(profile.budgets, profile.budgets[-1] * 1.5)
            y, e = (np.append(a, a[-1]) for a in (profile.share, profile.mcse))
            ax.step(x, y, where="post", color=color, lw=1.5, label=profile.label)
            ax.fill_between(
                x, y - 1.96 * e, y + 1.96 * e, step="post", color=color, alpha=0.2, lw=0
            )
        ax.set_xscale("log")
        ax.set_ylim(-0.02, 1.02)
        panel_title(ax, panel)
        if ax.get_subplotspec().is_last_row():
            ax.set_xlabel("budget: passes over the data (EM maps)")
        if ax.get_subplotspec().is_first_col():
            ax.set_ylabel("share of fits solved")
    axes[0].legend(fontsize=8, loc="lower right", ncols=1 + len(labels) // 9)
    wrapped_title(
        fig,
        "Data profile: share of fits within "
        f"{tol:g} per point of the best log-likelihood found for their dataset, within a "
        "budget of passes\nbands: 1.96 MCSE (clustered by dataset)",
        fontsize=10,
    )
    return fig


def _faceted(profiles) -> list:
    """With more than one start strategy and more than one method per strategy, a panel per
    design cell and strategy, and a line per algorithm and rule (as many lines in a panel
    as the study compares per strategy, not all of them)."""
    inits = set(profile.init for profile in profiles)
    if len(inits) < 2 or len(set(p.label for p in profiles)) == len(inits):
        return profiles
    return [
        replace(
            profile,
            panel=f"{profile.panel}, {profile.init}",
            label=profile.label.removeprefix(profile.init).strip(),
        )
        for profile in profiles
    ]
