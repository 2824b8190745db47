"""What a Monte Carlo study gives: its scenarios, the cells that gather the fits of each
method, their sums a chunk at a time, and the :class:`StudyResult` with its tables."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..engine.status import Status
from ..table import Table
from . import mcse
from .matching import match_components
from .study_measures import ChunkTimes, Sample
from .study_table import (
    COVERAGE_LEVEL,
    N_BOOTSTRAP,
    PARAMETERS,
    VARYING,
    Outcome,
    blank_missing,
    brief_columns,
    parameter_column,
    raw_rows,
)


@dataclass(frozen=True)
class Scenario:
    """A true mixture of a study: its weights, means and variances, and a name for the
    table (by default ``"1"``, ``"2"`` and so on)."""

    #: tuple: the true weights, one per component.
    weights: tuple
    #: tuple: the true means.
    means: tuple
    #: tuple: the true variances.
    variances: tuple
    #: str: the scenario's name in the table.
    name: str = ""
    #: tuple: the values of the design variables that made it, ``((name, value), ...)``
    #: (a grid's, :func:`fastem.grid_scenarios`), each a column of the
    #: study's table and raw rows.
    variables: tuple = ()

    def arrays(self) -> tuple:
        """The weights, means and variances as float64 arrays."""
        return tuple(
            np.asarray(a, dtype=np.float64) for a in (self.weights, self.means, self.variances)
        )


@dataclass(eq=False, repr=False)
class StudyCell:
    """Everything one method (start strategy, algorithm, stopping rule, penalty) gave on one design
    cell (a scenario and a sample size) for one fitted number of components.

    ``weights``, ``means``, ``variances`` (replications, K) are the chosen fits, matched to
    the true components when ``n_components`` is the true number (sorted by mean
    otherwise), and ``weights_se``, ``means_se``, ``variances_se`` their standard errors
    (with ``se``; None otherwise); ``restart_*`` and ``init_n_iter`` are per restart,
    ``best_restart``, ``n_iter``, ``n_fpeval``, ``rate`` and ``parameter_rate`` per dataset
    (the chosen fit); ``trace`` (N_TRACED, n_init, max_iter + 1) holds the log-likelihood
    traces of the first datasets' restarts; ``example`` is the first dataset; ``truth`` the
    scenario's mixture and ``variables`` its design variables (:attr:`Scenario.variables`).

    These per-replication arrays are kept only with ``study(..., keep_replications=True)``
    (the default; None otherwise); the table's row is computed from sums kept a chunk at a
    time (``sums``), whose memory does not grow with the replications.
    """

    n_samples: int
    init: str
    n_init: int
    scenario: str = "1"
    truth: tuple = ()
    n_components: int = 0
    algorithm: str = "em"
    stop: str = "loglik"
    penalty: str = "none"
    labelled: tuple = ("init",)
    variables: tuple = ()
    at_best_tol: float = 1e-4
    weights: list = field(default_factory=list)
    means: list = field(default_factory=list)
    variances: list = field(default_factory=list)
    weights_se: list = field(default_factory=list)
    means_se: list = field(default_factory=list)
    variances_se: list = field(default_factory=list)
    status: list = field(default_factory=list)
    log_likelihood: list = field(default_factory=list)
    restart_log_likelihood: list = field(default_factory=list)
    restart_n_iter: list = field(default_factory=list)
    restart_converged: list = field(default_factory=list)
    restart_status: list = field(default_factory=list)
    init_n_iter: list = field(default_factory=list)
    n_observations: list = field(default_factory=list)
    restart_n_fpeval: list = field(default_factory=list)
    best_restart: list = field(default_factory=list)
    n_iter: list = field(default_factory=list)
    n_fpeval: list = field(default_factory=list)
    rate: list = field(default_factory=list)
    parameter_rate: list = field(default_factory=list)
    settled: list = field(default_factory=list)
    p_unseen: list = field(default_factory=list)
    n_maxima: list = field(default_factory=list)
    seconds: float = 0.0
    trace: np.ndarray | None = None
    example: np.ndarray | None = None
    replications: int = 0
    keep: bool = True
    sums: CellSums | None = None

    def __repr__(self) -> str:
        return (
            f"<StudyCell: scenario={self.scenario!r}, n_samples={self.n_samples}, "
            f"n_components={self.n_components}, init={self.init!r}, "
            f"algorithm={self.algorithm!r}, stop={self.stop!r}, n_init={self.n_init}, "
            f"{self.replications} datasets>"
        )

    @property
    def matched(self) -> bool:
        """Whether the fits have the true number of components (and were matched to them)."""
        return self.n_components == self.truth[1].size

    @property
    def label(self) -> str:
        """The method, by what varies in the study: ``"kmeans++"``, ``"kmeans++ squarem"``."""
        return " ".join(str(getattr(self, name)) for name in self.labelled if name != "scenario")

    @property
    def panel(self) -> str:
        """The design cell, for a figure's panel: ``"n = 40"``, ``"2, n = 40, K = 3"``."""
        parts = [f"n = {self.n_samples}"]
        if "scenario" in self.labelled:
            parts.insert(0, self.scenario)
        if not self.matched:
            parts.append(f"K = {self.n_components}")
        return ", ".join(parts)

    def estimates(self, result):
        """The chunk's chosen estimates and their standard errors (None without ``se``),
        each a list of arrays (replications, K) in PARAMETERS order: matched to the true
        components when the counts agree, else as fitted (sorted by mean)."""
        errors = result.standard_errors
        if self.matched:
            matched = match_components(result.weights, result.means, result.variances, *self.truth)
            params = list(matched[:3])
            if errors is not None:  # the standard errors follow their parameters
                errors = [
                    np.take_along_axis(getattr(errors, name + "s"), matched.order, axis=1)
                    for name in PARAMETERS
                ]
        else:
            params = [result.weights, result.means, result.variances]
            if errors is not None:
                errors = [getattr(errors, name + "s") for name in PARAMETERS]
        return params, errors

    def add(self, result, params, errors, at_best, first, weights):
        """A chunk's fits, replications ``first, first + 1, ...``: into the sums, and the
        arrays when kept; ``at_best`` (replications, n_init) marks the restarts within
        ``at_best_tol`` of the best any method found, ``weights`` are the replications'
        counts in the bootstrap's resamples (:func:`fastem.mcse.poisson_weights`)."""
        self.sums.add(result, params, errors, at_best, first, weights)
        self.replications += len(result.log_likelihood)
        if not self.keep:
            return
        for name, values in zip(PARAMETERS, params):
            getattr(self, name + "s").append(values)
        if errors is not None:
            for name, values in zip(PARAMETERS, errors):
                getattr(self, name + "s_se").append(values)
        for name in PER_DATASET:
            getattr(self, name).append(getattr(result, name))

    def finish(self):
        """Join the chunks into arrays (None when not kept)."""
        for name in ("weights", "means", "variances", *PER_DATASET):
            setattr(self, name, np.concatenate(getattr(self, name)) if self.keep else None)
        for name in ("weights_se", "means_se", "variances_se"):
            parts = getattr(self, name)
            setattr(self, name, np.concatenate(parts) if parts else None)


class CellSums:
    """What a cell's row of the table and its timing are computed from, a chunk at a time,
    in memory that does not grow with the replications: counts, exact sums
    (:mod:`fastem.mcse`'s accumulators, so that the table does not depend on the chunks),
    and the counts of iterations and passes in the bootstrap's resamples of the datasets
    (the same for every method of a design cell: ``key``).

    ``rivals`` is ``(methods, restarts)``: how many methods fit the cell's datasets with
    its number of components, and their restarts per dataset in all, which say whether
    ``at_best`` and ``found_best`` can be other than 1; ``paired`` whether a smaller number
    of components is fitted to the same datasets (the likelihood-ratio statistic, kept in
    ``lr``)."""

    def __init__(self, cell: StudyCell, se: bool, key, rivals=(1, 1), paired=False):
        self.converged, self.init_iter, self.at_best = (mcse.ClusteredMean() for _ in range(3))
        self.failed, self.passes_mean = mcse.ClusteredMean(), mcse.ClusteredMean()
        self.found_best = 0
        self.rivals = rivals
        self.rate, self.parameter_rate = Sample(), Sample()
        self.lr = Sample() if paired else None
        self.times = ChunkTimes()
        self.spurious = self.settled = 0
        self.p_unseen, self.n_maxima = mcse.Moments(), mcse.Moments()
        self.iterations = mcse.ResampledCounts(N_BOOTSTRAP, key)
        self.passes = mcse.ResampledCounts(N_BOOTSTRAP, key)
        self.n_fits = self.n_passes = self.n_init_iter = 0
        true_k = cell.truth[1].size if cell.matched else 0
        self.performance = {
            (index, k): mcse.PerformanceSums(cell.truth[index][k])
            for index in range(3)
            for k in range(true_k)
        }
        self.coverage = (
            {
                (index, k): mcse.StandardErrorSums(cell.truth[index][k], COVERAGE_LEVEL)
                for index in range(3)
                for k in range(true_k)
            }
            if se
            else {}
        )

    def add(self, result, params, errors, at_best, first, weights):
        self.converged.add(result.restart_converged)
        self.init_iter.add(result.init_n_iter)
        self.at_best.add(at_best)
        chosen = result.best_restart  # -1 only for select's fits, never fit's
        self.found_best += int(np.sum(at_best[np.arange(len(at_best)), chosen] & (chosen >= 0)))
        restart_status = result.restart_status
        self.failed.add(
            ~result.restart_converged
            | (restart_status == Status.VARIANCE_FLOORED)
            | (restart_status == Status.NON_FINITE)
        )
        self.passes_mean.add(result.restart_n_fpeval)
        self.rate.add(result.rate)
        self.parameter_rate.add(result.parameter_rate)
        status = result.status
        self.spurious += int(
            np.sum((status == Status.SPURIOUS) | (status == Status.VARIANCE_FLOORED))
        )
        self.settled += int(np.sum(result.settled))
        self.p_unseen.add(result.p_unseen)
        self.n_maxima.add(result.n_maxima)
        self.iterations.add(result.restart_n_iter, first, weights)
        self.passes.add(result.restart_n_fpeval, first, weights)
        self.n_fits += result.restart_n_iter.size
        self.n_passes += int(result.restart_n_fpeval.sum())
        self.n_init_iter += int(result.init_n_iter.sum())
        for (index, k), sums in self.performance.items():
            sums.add(params[index][:, k])
        for (index, k), sums in self.coverage.items():
            sums.add(params[index][:, k], errors[index][:, k])


PER_DATASET = (
    "status",
    "log_likelihood",
    "restart_log_likelihood",
    "restart_n_iter",
    "restart_converged",
    "restart_status",
    "init_n_iter",
    "n_observations",
    "restart_n_fpeval",
    "best_restart",
    "n_iter",
    "n_fpeval",
    "rate",
    "parameter_rate",
    "settled",
    "p_unseen",
    "n_maxima",
)
"""The fields of a FitResult that a StudyCell keeps as they are."""


@dataclass(eq=False, repr=False)
class StudyResult:
    """The study's results (see :func:`study`), and per cell and strategy the material
    behind them (:class:`StudyCell`), for figures or further analysis.

    ``table`` holds what the fits found, the same at every run of the same study;
    ``timing`` how long they took, which varies from run to run (one row per row of
    ``table``: the cell, ``seconds``, ``fits_per_s``, ``mega_throughput``)."""

    #: :class:`fastem.Table`: one row per design cell, fitted number of components and
    #: method (the columns are those of :func:`fastem.study`).
    table: Table
    #: :class:`fastem.Table`: how long each row's fits took.
    timing: Table
    #: tuple: the first scenario's true ``(weights, means, variances)``, as arrays.
    truth: tuple
    #: list of :class:`fastem.StudyCell`: the material behind the rows of :attr:`table`.
    cells: list
    #: tuple of :class:`fastem.Scenario`: the study's true mixtures.
    scenarios: tuple = ()

    def __str__(self) -> str:
        return (
            f"{blank_missing(self.table)}\n\ntiming (varies from run to run):\n"
            f"{blank_missing(self.timing)}"
        )

    def __repr__(self) -> str:
        return (
            f"<StudyResult: {len(self.table)} rows x {len(self.table.columns)} columns; "
            "print() it for the table and timing>"
        )

    def brief_table(self) -> Table:
        """The table's main columns, those ``fastem study`` prints without
        ``--all-columns``: the cell (scenario, fitted components, algorithm and stopping
        rule only when they vary; a grid's variables always), convergence, failures, spurious
        fits, iterations, passes, ``at_best``, ``found_best``, the likelihood-ratio
        statistic's mean (with several numbers of components) and each mean's RMSE (and
        coverage, with ``se``), each with its Monte Carlo standard error; a column that no
        row can compute is left out."""
        width = max(cell.truth[1].size for cell in self.cells)
        shown = ("rmse", "rmse_mcse", "coverage", "coverage_mcse")
        means_rmse = [
            parameter_column("mean", k, statistic)
            for k in range(width)
            for statistic in shown
            if parameter_column("mean", k, statistic) in self.table.columns
        ]
        varying = [name for name in VARYING if len(set(self.table[name])) > 1]
        names = [name for name in brief_columns(Outcome) if name not in VARYING or name in varying]
        if "passes_median" in names and all(c.algorithm == "em" for c in self.cells):
            names = [n for n in names if not n.startswith("passes_")]  # EM: passes = iter
        at = names.index("found_best_mcse") + 1
        names[at:at] = [n for n in ("lr_mean", "lr_mean_mcse") if n in self.table.columns]
        grid = [name for name, _ in self.cells[0].variables]  # a grid's, after the scenario
        at = names.index("scenario") + 1 if "scenario" in names else 0
        names = [*names[:at], *grid, *names[at:], *means_rmse]
        return self.table.select(*(name for name in names if not _missing(self.table[name])))

    def brief_timing(self) -> Table:
        """``timing`` with the cell's columns that vary (as :meth:`brief_table`)."""
        return self.timing.select(
            *(
                name
                for name in self.timing.columns
                if name not in VARYING or len(set(self.timing[name])) > 1
            )
        )

    def raw(self) -> Table:
        """Every replication's chosen fit, one row per dataset and row of ``table``:
        scenario, n_samples, n_components, init, algorithm, stop, n_init, replication (the
        dataset's index from 0), restart (the chosen one's index), log_likelihood, n_iter,
        passes (EM maps), rate, status, every restart's final log-likelihood
        (``restart_log_likelihood_1``, ...: one column per restart, in the restarts' order,
        NaN beyond a method's restarts), the estimates (``weight_1``, ...; matched to the
        true components when the counts agree, else sorted by mean; NaN beyond a fit's
        components), with ``se``, their standard errors (``weight_se_1``, ...), and the
        scenario's true values (``true_weight_1``, ...; NaN beyond its components), so that a
        study can be reanalysed, its coverage too, without refitting."""
        if any(not cell.keep for cell in self.cells):
            raise ValueError(
                "this study kept no replications (keep_replications=False); "
                "pass raw=callable to study() to receive its raw rows as they "
                "come."
            )
        widths = (
            max(cell.n_components for cell in self.cells),
            max(cell.truth[1].size for cell in self.cells),
            max(cell.n_init for cell in self.cells),
        )
        parts = [
            raw_rows(
                cell,
                cell,
                (cell.weights, cell.means, cell.variances),
                0,
                widths,
                None
                if cell.weights_se is None
                else (cell.weights_se, cell.means_se, cell.variances_se),
            )
            for cell in self.cells
        ]
        return Table({name: np.concatenate([part[name] for part in parts]) for name in parts[0]})


def _missing(values) -> bool:
    """Whether a column is NaN in every row: a measure that no row can compute."""
    return values.dtype.kind == "f" and bool(np.isnan(values).all())
