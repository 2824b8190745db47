"""The table that ``fastem fit`` writes: a row per dataset (or per dataset and candidate
model), its estimates rounded to the digits the fit warrants."""

from __future__ import annotations

import numpy as np

from ..engine.status import Status

NONE_ELIGIBLE = "none_eligible"
"""The status of a dataset for which no candidate of a range of components is eligible."""
ESTIMATE_DIGITS = 6
"""Significant digits of the estimates ``fastem fit`` writes: its default stopping rule
(SQUAREM to a parameter change below 1e-9) ends within 1e-6 relative of the maximum on
the real datasets of the tests, so further digits would be noise."""
LOG_LIKELIHOOD_DIGITS = 10
"""Significant digits of log-likelihoods and criteria: a parameter within ``e`` of the
maximum moves the log-likelihood by a term in ``e**2``."""
SE_DIGITS = 4
"""Significant digits of standard errors: an estimate of a spread, not a measurement."""


def fit_table(ids, n, selection, pairs, every_candidate=False):
    """The table ``fastem fit`` writes: a row per ``(dataset, candidate)`` pair of
    ``selection`` (a :class:`fastem.SelectionResult`), the candidate -1 standing for none
    (an explicit status and no estimates); the column of ``selection.criterion`` only,
    unless ``every_candidate``. ``n`` is BIC's n of each dataset."""
    from ..table import Table
    from ..toolkit.selection import CRITERIA

    fits = selection.fits
    ks = [k for k, _ in selection.candidates]

    def column(value):
        return [value(d, c) if c >= 0 else None for d, c in pairs]

    width = max((ks[c] for _, c in pairs if c >= 0), default=0)
    columns = {
        "id": [ids[d] for d, _ in pairs],
        "n": [n[d] for d, _ in pairs],
        "n_components": column(lambda d, c: ks[c]),
        "variance_model": column(lambda d, c: selection.candidates[c][1]),
        "n_parameters": column(lambda d, c: int(selection.n_parameters[c])),
    }
    _add_estimates(columns, column, fits, ks, width)
    columns["log_likelihood"] = column(
        lambda d, c: _significant(fits[c].log_likelihood[d], LOG_LIKELIHOOD_DIGITS)
    )
    if fits and fits[0].penalized_log_likelihood is not None:  # fit with a penalty or prior
        columns["penalized_log_likelihood"] = column(
            lambda d, c: _significant(fits[c].penalized_log_likelihood[d], LOG_LIKELIHOOD_DIGITS)
        )
    names = CRITERIA if every_candidate else (selection.criterion,)
    for name in names:
        values = getattr(selection, name)
        columns[f"{name}_smaller_better"] = column(
            lambda d, c, v=values: _significant(v[d, c], LOG_LIKELIHOOD_DIGITS)
        )
    columns["n_iter"] = column(lambda d, c: int(fits[c].n_iter[d]))
    columns["converged"] = column(lambda d, c: bool(fits[c].converged[d]))
    for name, kind in (
        ("n_restarts", int),
        ("n_maxima", int),
        ("n_at_best", int),
        ("p_unseen", _probability),
        ("settled", bool),
    ):
        columns[name] = column(lambda d, c, name=name, kind=kind: kind(getattr(fits[c], name)[d]))
    columns["status"] = [
        Status(int(selection.status[d, c])).name.lower() if c >= 0 else NONE_ELIGIBLE
        for d, c in pairs
    ]
    if every_candidate:
        columns["redundant"] = [bool(selection.redundant[d, c]) for d, c in pairs]
        columns["eligible"] = [bool(selection.eligible[d, c]) for d, c in pairs]
        columns["chosen"] = [bool(selection.best[d] == c) for d, c in pairs]
    return Table(columns)


def _add_estimates(columns, column, fits, ks, width) -> None:
    """The columns ``weight_k``, ``mean_k``, ``variance_k`` for k up to ``width``, and
    their standard errors' when the fits have them, empty beyond a candidate's ``ks``."""
    for name in ("weights", "means", "variances"):
        for k in range(width):
            columns[f"{name[:-1]}_{k + 1}"] = column(
                lambda d, c, k=k, name=name: (
                    _significant(getattr(fits[c], name)[d, k], ESTIMATE_DIGITS)
                    if k < ks[c]
                    else None
                )
            )
    if fits[0].standard_errors is not None:
        for name in ("weights", "means", "variances"):
            for k in range(width):
                columns[f"{name[:-1]}_se_{k + 1}"] = column(
                    lambda d, c, k=k, name=name: (
                        _significant(getattr(fits[c].standard_errors, name)[d, k], SE_DIGITS)
                        if k < ks[c]
                        else None
                    )
                )


def bic_n(fit, probability=False):
    """BIC's n of each dataset of ``fit``: with probability weights, their number, which
    the rescaled weights sum to up to rounding."""
    return [_count(round(v) if probability else v) for v in fit.n_observations]


def _significant(value, digits):
    """``value`` as a float rounded to ``digits`` significant digits (None for NaN)."""
    value = float(value)
    if not np.isfinite(value):
        return None if np.isnan(value) else value
    return float(f"{value:.{digits}g}")


def _probability(value):
    """A probability to four decimals (None for NaN): the Good-Turing estimate is a share
    of restarts, not a measurement."""
    value = float(value)
    return None if np.isnan(value) else round(value, 4)


def _count(value):
    """BIC's n: an int when it counts points (or integer weights), else a float."""
    value = float(value)
    return int(value) if value.is_integer() else value
