"""The tables of a Monte Carlo study: the columns of its table and timing, a row computed
from a cell's sums, the raw rows of its replications, and the MCSEs written in parentheses."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np

from ..engine.status import Status
from ..table import Table
from . import mcse
from .study_measures import quantile_column, sample_columns

PARAMETERS = ("weight", "mean", "variance")
PARAMETER_STATISTICS = ("bias", "bias_mcse", "empse", "empse_mcse", "rmse", "rmse_mcse")
"""The columns of each parameter of each component, in order (``mean_1_bias``, ...): the
fields of :class:`fastem.mcse.Performance` that the table keeps."""
SE_STATISTICS = ("coverage", "coverage_mcse", "relerror", "relerror_mcse")
"""The columns added after those of each parameter by ``study(..., se=...)``: the fields of
:class:`fastem.mcse.StandardErrorPerformance` that the table keeps."""
COVERAGE_LEVEL = 0.95

N_BOOTSTRAP = 200
"""Bootstrap resamples of the datasets behind ``iter_median_mcse`` and ``iter_p90_mcse``:
their own error is about 5% of the MCSE (``1 / sqrt(2 * 200)``)."""

BOOTSTRAPPED = ("iter_median", "iter_p90", "passes_median")
"""The measures of counts whose MCSE is the bootstrap's (``N_BOOTSTRAP`` resamples)."""
UNMOVED_BOUND = float(np.ceil(10 * np.sqrt(3 / N_BOOTSTRAP)) / 10)
"""What a bootstrapped MCSE of 0 is printed as being below, in iterations: when no resample
moved the statistic, the chance that one does is below ``3 / N_BOOTSTRAP`` (the rule of
three), so a move of one iteration has a standard deviation below ``sqrt(3 / N_BOOTSTRAP)``
(0.12, rounded up to 0.2)."""


def with_mcse_in_parentheses(table: Table) -> Table:
    """``table`` with each measure and its ``_mcse`` column merged into one column of text,
    ``"1.518 (0.065)"``: the MCSE to two significant digits and the measure to the same
    decimal place, as results are reported. For reading; the numbers are in ``table``. A
    count's bootstrapped MCSE of 0 (:data:`BOOTSTRAPPED`, and the passes' quantiles) reads
    ``(<0.2)`` (:data:`UNMOVED_BOUND`), not a claim of no error. A measure that cannot be
    computed in a row (NaN) is blank."""
    columns = {}
    for name in table.columns:
        if name.endswith("_mcse") and name[: -len("_mcse")] in table.columns:
            continue
        values = table[name]
        if f"{name}_mcse" in table.columns:
            counted = name in BOOTSTRAPPED or name.startswith("passes_p")
            bound = UNMOVED_BOUND if counted else None
            values = [_value_and_mcse(v, e, bound) for v, e in zip(values, table[f"{name}_mcse"])]
        columns[name] = values
    return Table(columns)


def blank_missing(table: Table) -> Table:
    """``table`` for reading, with a blank where a measure cannot be computed in a row (a
    NaN): each float column holding a NaN becomes text, its numbers to 6 significant
    digits. For reading; the numbers are in ``table``."""
    columns = {}
    for name in table.columns:
        values = table[name]
        if values.dtype.kind == "f" and np.isnan(values).any():
            values = ["" if np.isnan(v) else f"{v:.6g}" for v in values]
        columns[name] = values
    return Table(columns)


def _value_and_mcse(value, mcse, zero_bound=None) -> str:
    if np.isnan(value):  # a measure that cannot be computed in this row: blank
        return ""
    if not np.isfinite(mcse):  # a value without an MCSE (one chunk's time per fit)
        return f"{value:.6g}" if np.isnan(mcse) else f"{value:.6g} ({mcse:.2g})"
    if not np.isfinite(value):
        return f"{value:.6g} ({mcse:.2g})"
    if mcse == 0:
        return f"{value:.6g} ({'0' if zero_bound is None else f'<{zero_bound:g}'})"
    decimals = max(0, 1 - int(np.floor(np.log10(mcse))))
    return f"{value:.{decimals}f} ({mcse:.{decimals}f})"


_EXTRA = dict(extra=True)
"""Metadata of a column that ``fastem study`` prints only with ``--all-columns``."""


@dataclass(frozen=True)
class Outcome:
    """The columns of a row of the study's table before those of each parameter, in order
    (described in :func:`study`)."""

    scenario: str
    n_samples: int
    n_components: int
    init: str
    algorithm: str
    stop: str
    penalty: str
    n_init: int
    replications: int = field(metadata=_EXTRA)
    converged: float
    converged_mcse: float
    spurious: float
    spurious_mcse: float
    failed: float
    failed_mcse: float
    iter_median: float
    iter_median_mcse: float
    iter_p90: float
    iter_p90_mcse: float
    passes_median: float
    passes_median_mcse: float
    passes_mean: float = field(metadata=_EXTRA)
    passes_mean_mcse: float = field(metadata=_EXTRA)
    init_iter: float = field(metadata=_EXTRA)
    init_iter_mcse: float = field(metadata=_EXTRA)
    at_best: float
    at_best_mcse: float
    found_best: float
    found_best_mcse: float
    settled: float
    settled_mcse: float
    p_unseen: float = field(metadata=_EXTRA)
    p_unseen_mcse: float = field(metadata=_EXTRA)
    n_maxima: float = field(metadata=_EXTRA)
    n_maxima_mcse: float = field(metadata=_EXTRA)
    rate_median: float = field(metadata=_EXTRA)
    rate_median_mcse: float = field(metadata=_EXTRA)
    parameter_rate_median: float = field(metadata=_EXTRA)
    parameter_rate_median_mcse: float = field(metadata=_EXTRA)


@dataclass(frozen=True)
class _Speed:
    """The columns of a row of the study's timing table after the cell's, in order."""

    seconds: float
    fits_per_s: float
    ms_per_fit: float
    ms_per_fit_mcse: float
    mega_throughput: float


CELL_COLUMNS = (
    "scenario",
    "n_samples",
    "n_components",
    "init",
    "algorithm",
    "stop",
    "penalty",
    "n_init",
)
"""The columns that name a row's design cell and method."""
VARYING = ("scenario", "n_components", "algorithm", "stop", "penalty")
"""Columns of the cell that the brief table shows only when they vary."""


def brief_columns(columns) -> list:
    return [column.name for column in fields(columns) if not column.metadata.get("extra")]


def is_measure(name: str) -> bool:
    """Whether ``name`` is a measure of the study's table that has an MCSE column
    (``at_best``, ``mean_2_bias``, ...), as a figure of a measure needs."""
    outcome = {column.name for column in fields(Outcome)}
    if name in outcome:
        return f"{name}_mcse" in outcome
    parts = name.rsplit("_", 2)  # mean_2_bias
    return (
        len(parts) == 3
        and parts[0] in PARAMETERS
        and parts[1].isdigit()
        and parts[2] in PARAMETER_STATISTICS + SE_STATISTICS
        and parts[2] != "mcse"
    )


def parameter_column(parameter: str, k: int, statistic: str) -> str:
    """``mean_2_rmse``: the column of ``statistic`` of the ``k``-th (from 0) component's
    ``parameter``."""
    return f"{parameter}_{k + 1}_{statistic}"


def _columns(values) -> dict:
    return {column.name: getattr(values, column.name) for column in fields(values)}


def raw_rows(cell, fits, params, first, widths, errors=None) -> dict:
    """The columns of :meth:`StudyResult.raw` for replications ``first, first + 1, ...``
    of ``cell``: ``fits`` holds their per-dataset outcomes (a FitResult, or the cell's
    kept arrays), ``params`` their estimates and ``errors`` their standard errors (None
    without them); ``widths`` are the study's most components fitted and true, and its
    most restarts of a method."""
    width, true_width, restart_width = widths
    n = len(fits.log_likelihood)
    columns = {name: np.repeat(np.asarray([getattr(cell, name)]), n) for name in CELL_COLUMNS}
    columns.update(
        replication=np.arange(first, first + n),
        restart=fits.best_restart,
        log_likelihood=fits.log_likelihood,
        n_iter=fits.n_iter,
        passes=fits.n_fpeval,
        rate=fits.rate,
        status=np.array([Status(s).name.lower() for s in fits.status]),
    )
    restart_ll = np.asarray(fits.restart_log_likelihood).reshape(n, -1)
    for r in range(restart_width):
        columns[f"restart_log_likelihood_{r + 1}"] = (
            restart_ll[:, r] if r < restart_ll.shape[1] else np.full(n, np.nan)
        )
    for suffix, estimates in (("", params), ("_se", errors)):
        for name, values in zip(PARAMETERS, estimates or ()):
            for k in range(width):
                columns[f"{name}{suffix}_{k + 1}"] = (
                    values[:, k] if k < values.shape[1] else np.full(n, np.nan)
                )
    for index, name in enumerate(PARAMETERS):
        true = cell.truth[index]
        for k in range(true_width):
            columns[f"true_{name}_{k + 1}"] = np.full(n, true[k] if k < true.size else np.nan)
    return with_variables(columns, cell, n)


def with_variables(columns: dict, cell, n=None) -> dict:
    """``columns`` with the design variables of ``cell``'s scenario (a grid's,
    :attr:`fastem.Scenario.variables`) after ``scenario``: a value each, or ``n`` copies."""
    if not cell.variables:
        return columns
    names = list(columns)
    at = names.index("scenario") + 1
    added = {name: value if n is None else np.full(n, value) for name, value in cell.variables}
    return {
        **{name: columns[name] for name in names[:at]},
        **added,
        **{name: columns[name] for name in names[at:]},
    }


def table_of_rows(rows) -> Table:
    """A :class:`Table` of ``rows`` (dicts with the same keys, in the first one's order)."""
    return Table({name: [row[name] for row in rows] for name in rows[0]})


def row_of(cell, quantiles=()) -> dict:
    """The row of the study's table of a finished :class:`StudyCell`, from its sums: the
    columns of :class:`Outcome`, the quantile columns of the passes (one per
    ``quantiles``), the likelihood-ratio statistic's columns (when a smaller number of
    components was fitted to the same datasets), then those of each matched parameter.

    ``at_best`` is NaN when every method of the cell's number of components together ran
    one restart per dataset, ``found_best`` when one method fitted them: both are then 1
    by construction (but for non-finite fits), not a measure."""
    sums = cell.sums
    replications = cell.replications
    spurious = sums.spurious / replications
    settled = sums.settled / replications
    found_best = sums.found_best / replications if sums.rivals[0] > 1 else np.nan
    rate, parameter_rate = sums.rate.quantile(0.5), sums.parameter_rate.quantile(0.5)
    row = _columns(
        Outcome(
            scenario=cell.scenario,
            n_samples=cell.n_samples,
            n_components=cell.n_components,
            init=cell.init,
            algorithm=cell.algorithm,
            stop=cell.stop,
            penalty=cell.penalty,
            n_init=cell.n_init,
            replications=replications,
            converged=sums.converged.mean(),
            converged_mcse=sums.converged.mcse(),
            spurious=spurious,
            spurious_mcse=float(mcse.proportion_mcse(spurious, replications)),
            failed=sums.failed.mean(),
            failed_mcse=sums.failed.mcse(),
            iter_median=sums.iterations.percentile(50),
            iter_median_mcse=sums.iterations.percentile_mcse(50),
            iter_p90=sums.iterations.percentile(90),
            iter_p90_mcse=sums.iterations.percentile_mcse(90),
            passes_median=sums.passes.percentile(50),
            passes_median_mcse=sums.passes.percentile_mcse(50),
            passes_mean=sums.passes_mean.mean(),
            passes_mean_mcse=sums.passes_mean.mcse(),
            init_iter=sums.init_iter.mean(),
            init_iter_mcse=sums.init_iter.mcse(),
            at_best=sums.at_best.mean() if sums.rivals[1] > 1 else np.nan,
            at_best_mcse=sums.at_best.mcse() if sums.rivals[1] > 1 else np.nan,
            found_best=found_best,
            found_best_mcse=float(mcse.proportion_mcse(found_best, replications)),
            settled=settled,
            settled_mcse=float(mcse.proportion_mcse(settled, replications)),
            p_unseen=sums.p_unseen.mean(),
            p_unseen_mcse=sums.p_unseen.mean_mcse(),
            n_maxima=sums.n_maxima.mean(),
            n_maxima_mcse=sums.n_maxima.mean_mcse(),
            rate_median=rate[0],
            rate_median_mcse=rate[1],
            parameter_rate_median=parameter_rate[0],
            parameter_rate_median_mcse=parameter_rate[1],
        )
    )
    for q in quantiles:
        row[quantile_column("passes", q)] = sums.passes.percentile(100 * q)
        row[quantile_column("passes", q) + "_mcse"] = sums.passes.percentile_mcse(100 * q)
    if sums.lr is not None:
        row.update(sample_columns("lr", sums.lr, quantiles, moments=True))
    row = with_variables(row, cell)
    for (index, k), performance in sums.performance.items():  # matched cells only
        measures = performance.result()
        for statistic in PARAMETER_STATISTICS:
            row[parameter_column(PARAMETERS[index], k, statistic)] = getattr(measures, statistic)
        if (index, k) in sums.coverage:
            coverage = sums.coverage[index, k].result()
            for statistic in SE_STATISTICS:
                row[parameter_column(PARAMETERS[index], k, statistic)] = getattr(
                    coverage, statistic
                )
    return row


def timing_of(cell) -> dict:
    """The timing columns of a finished :class:`StudyCell` (:class:`_Speed`)."""
    n_fits = cell.sums.n_fits
    iterations = cell.sums.n_passes + cell.sums.n_init_iter  # passes: EM maps
    work = float(cell.n_samples) * cell.n_components * iterations
    ms_per_fit, ms_per_fit_mcse = cell.sums.times.per_fit()
    return _columns(
        _Speed(
            seconds=cell.seconds,
            fits_per_s=n_fits / cell.seconds,
            ms_per_fit=ms_per_fit,
            ms_per_fit_mcse=ms_per_fit_mcse,
            mega_throughput=work / cell.seconds / 1e6,
        )
    )
