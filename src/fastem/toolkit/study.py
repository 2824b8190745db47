"""Monte Carlo studies of EM: simulate from known mixtures, fit, and tabulate."""

from __future__ import annotations

import collections
import time
from dataclasses import dataclass, field, fields

import numpy as np

from .. import api, search
from .. import checks as _validate
from .. import options as _options
from ..init._registry import NAMES as STRATEGY_NAMES
from ..status import Status
from ..table import Table
from . import mcse
from .matching import match_components
from .simulation import simulate

PARAMETERS = ("weight", "mean", "variance")
PARAMETER_STATISTICS = ("bias", "bias_mcse", "empse", "empse_mcse", "rmse", "rmse_mcse")
"""The columns of each parameter of each component, in order (``mean_1_bias``, ...): the
fields of :class:`fastem.mcse.Performance` that the table keeps."""
SE_STATISTICS = ("coverage", "coverage_mcse", "relerror", "relerror_mcse")
"""The columns added after those of each parameter by ``study(..., se=...)``: the fields of
:class:`fastem.mcse.StandardErrorPerformance` that the table keeps."""
COVERAGE_LEVEL = 0.95
DEFAULT_CHUNK = 2000
CHUNK_POINTS = 2**22
"""Most points in a chunk (about 4 million: 64 MiB of values and labels), so that memory
stays flat however large the datasets are; a dataset larger than this is a chunk alone."""
RAW_BLOCK = DEFAULT_CHUNK
"""Replications per block of the rows that ``study(..., raw=...)`` hands on: a fixed
block, not a chunk, so that the rows come in the same order whatever the chunk size."""
DASK_WINDOW = 64
"""Chunks of a study submitted to a Dask cluster ahead of the one awaited (at least twice
its threads): enough to keep the cluster busy, without a task per chunk of a huge study
held at once."""
N_TRACED = 20
N_BOOTSTRAP = 200
"""Bootstrap resamples of the datasets behind ``iter_median_mcse`` and ``iter_p90_mcse``:
their own error is about 5% of the MCSE (``1 / sqrt(2 * 200)``)."""
_BOOTSTRAP_STREAM = 1
"""Keys the bootstrap's generator apart from the cell's simulation, both drawn from
``(random_state, cell)``."""


@dataclass(frozen=True)
class Scenario:
    """A true mixture of a study: its weights, means and variances, and a name for the
    table (``"1"``, ``"2"``, ... by default)."""

    weights: tuple
    means: tuple
    variances: tuple
    name: str = ""

    def arrays(self) -> tuple:
        return tuple(
            np.asarray(a, dtype=np.float64) for a in (self.weights, self.means, self.variances)
        )


@dataclass(eq=False, repr=False)
class StudyCell:
    """Everything one method (start strategy, algorithm, stopping rule) gave on one design
    cell (a scenario and a sample size) for one fitted number of components.

    ``weights``, ``means``, ``variances`` (replications, K) are the chosen fits, matched to
    the true components when ``n_components`` is the true number (sorted by mean
    otherwise), and ``weights_se``, ``means_se``, ``variances_se`` their standard errors
    (with ``se``; None otherwise); ``restart_*`` and ``init_n_iter`` are per restart,
    ``best_restart``, ``n_iter``, ``n_fpeval`` and ``rate`` per dataset (the chosen fit); ``trace``
    (N_TRACED, n_init, max_iter + 1) holds the log-likelihood traces of the first datasets'
    restarts; ``example`` is the first dataset; ``truth`` the scenario's mixture.

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
    labelled: tuple = ("init",)
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
    init_n_iter: list = field(default_factory=list)
    n_observations: list = field(default_factory=list)
    restart_n_fpeval: list = field(default_factory=list)
    best_restart: list = field(default_factory=list)
    n_iter: list = field(default_factory=list)
    n_fpeval: list = field(default_factory=list)
    rate: list = field(default_factory=list)
    settled: list = field(default_factory=list)
    p_unseen: list = field(default_factory=list)
    n_maxima: list = field(default_factory=list)
    seconds: float = 0.0
    trace: np.ndarray | None = None
    example: np.ndarray | None = None
    replications: int = 0
    keep: bool = True
    sums: _Sums | None = None

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
        for name in _PER_DATASET:
            getattr(self, name).append(getattr(result, name))

    def finish(self):
        """Join the chunks into arrays (None when not kept)."""
        for name in ("weights", "means", "variances", *_PER_DATASET):
            setattr(self, name, np.concatenate(getattr(self, name)) if self.keep else None)
        for name in ("weights_se", "means_se", "variances_se"):
            parts = getattr(self, name)
            setattr(self, name, np.concatenate(parts) if parts else None)


class _Sums:
    """What a cell's row of the table and its timing are computed from, a chunk at a time,
    in memory that does not grow with the replications: counts, exact sums
    (:mod:`fastem.mcse`'s accumulators, so that the table does not depend on the chunks),
    and the counts of iterations and passes in the bootstrap's resamples of the datasets
    (the same for every method of a design cell: ``key``)."""

    def __init__(self, cell: StudyCell, se: bool, key):
        self.converged, self.init_iter, self.at_best = (mcse.ClusteredMean() for _ in range(3))
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


_PER_DATASET = (
    "status",
    "log_likelihood",
    "restart_log_likelihood",
    "restart_n_iter",
    "restart_converged",
    "init_n_iter",
    "n_observations",
    "restart_n_fpeval",
    "best_restart",
    "n_iter",
    "n_fpeval",
    "rate",
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

    table: Table
    timing: Table
    truth: tuple
    cells: list
    scenarios: tuple = ()

    def __str__(self) -> str:
        return f"{self.table}\n\ntiming (varies from run to run):\n{self.timing}"

    def __repr__(self) -> str:
        return (
            f"<StudyResult: {len(self.table)} rows x {len(self.table.columns)} columns; "
            "print() it for the table and timing>"
        )

    def brief_table(self) -> Table:
        """The table's main columns, those ``fastem study`` prints without
        ``--all-columns``: the cell (scenario, fitted components, algorithm and stopping
        rule only when they vary), convergence, spurious fits, iterations, passes,
        ``at_best`` and each mean's RMSE (and coverage, with ``se``), each with its Monte Carlo
        standard error."""
        width = max(cell.truth[1].size for cell in self.cells)
        shown = ("rmse", "rmse_mcse", "coverage", "coverage_mcse")
        means_rmse = [
            _parameter_column("mean", k, statistic)
            for k in range(width)
            for statistic in shown
            if _parameter_column("mean", k, statistic) in self.table.columns
        ]
        varying = [name for name in _VARYING if len(set(self.table[name])) > 1]
        names = [name for name in _brief(_Outcome) if name not in _VARYING or name in varying]
        if "passes_median" in names and all(c.algorithm == "em" for c in self.cells):
            names = [n for n in names if not n.startswith("passes_")]  # EM: passes = iter
        return self.table.select(*names, *means_rmse)

    def brief_timing(self) -> Table:
        """``timing`` with the cell's columns that vary (as :meth:`brief_table`)."""
        return self.timing.select(
            *(
                name
                for name in self.timing.columns
                if name not in _VARYING or len(set(self.timing[name])) > 1
            )
        )

    def raw(self) -> Table:
        """Every replication's chosen fit, one row per dataset and row of ``table``:
        scenario, n_samples, n_components, init, algorithm, stop, n_init, replication (the
        dataset's index from 0), restart (the chosen one's index), log_likelihood, n_iter,
        passes (EM maps), rate, status, the estimates (``weight_1``, ...; matched to the
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
        width = max(cell.n_components for cell in self.cells)
        true_width = max(cell.truth[1].size for cell in self.cells)
        parts = [
            _raw_rows(
                cell,
                cell,
                (cell.weights, cell.means, cell.variances),
                0,
                width,
                true_width,
                None
                if cell.weights_se is None
                else (cell.weights_se, cell.means_se, cell.variances_se),
            )
            for cell in self.cells
        ]
        return Table({name: np.concatenate([part[name] for part in parts]) for name in parts[0]})


def _raw_rows(cell: StudyCell, fits, params, first, width, true_width, errors=None) -> dict:
    """The columns of :meth:`StudyResult.raw` for replications ``first, first + 1, ...``
    of ``cell``: ``fits`` holds their per-dataset outcomes (a FitResult, or the cell's
    kept arrays), ``params`` their estimates and ``errors`` their standard errors (None
    without them); ``width`` and ``true_width`` are the study's most components fitted
    and true."""
    n = len(fits.log_likelihood)
    columns = {name: np.repeat(np.asarray([getattr(cell, name)]), n) for name in _CELL}
    columns.update(
        replication=np.arange(first, first + n),
        restart=fits.best_restart,
        log_likelihood=fits.log_likelihood,
        n_iter=fits.n_iter,
        passes=fits.n_fpeval,
        rate=fits.rate,
        status=np.array([Status(s).name.lower() for s in fits.status]),
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
    return columns


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
    count's bootstrapped MCSE of 0 (:data:`BOOTSTRAPPED`) reads ``(<0.2)``
    (:data:`UNMOVED_BOUND`), not a claim of no error."""
    columns = {}
    for name in table.columns:
        if name.endswith("_mcse") and name[: -len("_mcse")] in table.columns:
            continue
        values = table[name]
        if f"{name}_mcse" in table.columns:
            bound = UNMOVED_BOUND if name in BOOTSTRAPPED else None
            values = [_value_and_mcse(v, e, bound) for v, e in zip(values, table[f"{name}_mcse"])]
        columns[name] = values
    return Table(columns)


def _value_and_mcse(value, mcse, zero_bound=None) -> str:
    if not (np.isfinite(value) and np.isfinite(mcse)):
        return f"{value:.6g} ({mcse:.2g})"
    if mcse == 0:
        return f"{value:.6g} ({'0' if zero_bound is None else f'<{zero_bound:g}'})"
    decimals = max(0, 1 - int(np.floor(np.log10(mcse))))
    return f"{value:.{decimals}f} ({mcse:.{decimals}f})"


_EXTRA = dict(extra=True)
"""Metadata of a column that ``fastem study`` prints only with ``--all-columns``."""


@dataclass(frozen=True)
class _Outcome:
    """The columns of a row of the study's table before those of each parameter, in order
    (described in :func:`study`)."""

    scenario: str
    n_samples: int
    n_components: int
    init: str
    algorithm: str
    stop: str
    n_init: int
    replications: int = field(metadata=_EXTRA)
    converged: float
    converged_mcse: float
    spurious: float
    spurious_mcse: float
    iter_median: float
    iter_median_mcse: float
    iter_p90: float
    iter_p90_mcse: float
    passes_median: float
    passes_median_mcse: float
    init_iter: float = field(metadata=_EXTRA)
    init_iter_mcse: float = field(metadata=_EXTRA)
    at_best: float
    at_best_mcse: float
    settled: float
    settled_mcse: float
    p_unseen: float = field(metadata=_EXTRA)
    p_unseen_mcse: float = field(metadata=_EXTRA)
    n_maxima: float = field(metadata=_EXTRA)
    n_maxima_mcse: float = field(metadata=_EXTRA)


@dataclass(frozen=True)
class _Speed:
    """The columns of a row of the study's timing table after the cell's, in order."""

    seconds: float
    fits_per_s: float
    mega_throughput: float


_CELL = ("scenario", "n_samples", "n_components", "init", "algorithm", "stop", "n_init")
"""The columns that name a row's design cell and method."""
_VARYING = ("scenario", "n_components", "algorithm", "stop")
"""Columns of the cell that the brief table shows only when they vary."""


def _brief(columns) -> list:
    return [column.name for column in fields(columns) if not column.metadata.get("extra")]


def _parameter_column(parameter: str, k: int, statistic: str) -> str:
    """``mean_2_rmse``: the column of ``statistic`` of the ``k``-th (from 0) component's
    ``parameter``."""
    return f"{parameter}_{k + 1}_{statistic}"


def _columns(values) -> dict:
    return {column.name: getattr(values, column.name) for column in fields(values)}


def _own(
    weights=None,
    means=None,
    variances=None,
    n_samples=(40,),
    replications=1000,
    *,
    scenarios=None,
    at_best_tol=1e-4,
    chunk_size=DEFAULT_CHUNK,
    progress=None,
    client=None,
    keep_replications=True,
    raw=None,
):
    """:func:`study`'s own parameters; its options of :func:`fastem.fit` are the table's
    (:mod:`fastem.options`), with its defaults, but the two it sets itself."""


@_options.derived(
    _own,
    entry="study",
)
def study(*args, **kwargs) -> StudyResult:
    """How EM behaves on data from known mixtures, for several sample sizes, starts,
    algorithms, stopping rules and numbers of components fitted.

    For each scenario (a true mixture: ``weights, means, variances``, or each of
    ``scenarios``) and sample size (a design cell), ``replications`` datasets are drawn
    once; every method (a start strategy of ``init``, an ``algorithm``, a ``stop`` rule)
    then fits the same datasets with ``n_init`` restarts ("quantile", which is
    deterministic, with one) from the same starts, for each number of components in
    ``n_components`` (default: the scenario's), so that differences between methods are
    paired. One row per design cell, fitted number of components and method:

    - ``converged``: share of all fits (every restart of every dataset) that met ``tol``;
    - ``spurious``: share of datasets whose chosen fit is a spurious maximum or collapsed
      (status ``SPURIOUS`` or ``VARIANCE_FLOORED``, by the ``spurious`` rule of
      :func:`fastem.fit`, :class:`fastem.SpuriousRule`);
    - ``iter_median``, ``iter_p90``: iterations (accepted steps) over all fits;
      ``passes_median``: EM maps (passes over the data) over all fits, which SQUAREM
      spends differently from its steps; ``init_iter``: mean EM iterations spent on
      starting values per fit (emEM's short runs);
    - ``at_best``: share of all fits (restarts) whose final log-likelihood is within
      ``at_best_tol`` per point of the best any method found for that dataset with the
      same number of components;
    - ``settled``: share of datasets whose search settled (:attr:`fastem.FitResult.settled`:
      the best maximum reached by two restarts, and the Good-Turing probability of an
      unseen maximum at most 0.05), with the MCSE of a proportion; ``--all-columns`` adds
      ``p_unseen`` and ``n_maxima`` (means over datasets, with the MCSE of a mean);
    - ``{weight,mean,variance}_{k}_bias``, ``_empse`` (empirical standard error: the
      standard deviation of the estimates) and ``_rmse``: of the chosen fits (one per
      dataset), after matching their components to the true ones
      (:func:`fastem.match_components`); datasets whose estimate is NaN are left out.
      NaN where the fitted number of components is not the true one (over- or
      under-fitting: no component matches), or the scenario has fewer components.
    - with ``se`` ("score" or "louis", :func:`fastem.fit`'s standard errors), also
      ``_coverage``: the share of datasets whose 95% Wald interval ``estimate +- 1.96 se``
      holds the true value, and ``_relerror``: the relative % error of the model SE
      against the empirical SE, ``100 (ModSE / EmpSE - 1)`` with ``ModSE = sqrt(mean(se^2))``
      (rsimsum's ``cover`` and ``relerror``); datasets without a standard error (a
      singular information matrix) are left out. The first question to ask of any
      standard error: do its intervals cover, and does it match the spread it estimates?

    Each measure is followed by its Monte Carlo standard error, ``<measure>_mcse``, the
    replications being the datasets (see :mod:`fastem.mcse` for the formulas, from
    Morris, White & Crowther 2019, Table 6, as in R's rsimsum):

    - ``spurious_mcse``: ``sqrt(p (1 - p) / replications)``;
    - ``converged_mcse``, ``at_best_mcse``, ``init_iter_mcse``: the restarts of one
      dataset are not independent, so each dataset's share (or mean) over its restarts is
      one replicate, the measure is the mean of these over datasets, and its MCSE is that
      mean's standard error, ``sqrt(sum_d (s_d - s)^2) / replications``
      (:func:`fastem.mcse.clustered_mean_mcse`; with one restart, the formula for
      ``spurious``);
    - ``iter_median_mcse``, ``iter_p90_mcse``, ``passes_median_mcse``: bootstrap, the
      standard deviation of the median, the 90th percentile (and the median of the passes)
      over ``N_BOOTSTRAP`` resamples of the datasets (each with all its restarts): Poisson
      resamples (:func:`fastem.mcse.poisson_weights`, each dataset drawn a Poisson(1)
      number of times), which need no list of the datasets, seeded by ``random_state``,
      the cell's content and each dataset's index, so the same study gives the same
      numbers in any chunking.
      Iterations are whole numbers: a median that every resample puts on the same one has
      an MCSE of 0;
    - ``_coverage_mcse``: ``sqrt(p (1 - p) / n)``; ``_relerror_mcse``: ``100 (ModSE /
      EmpSE) sqrt(Var(se^2) / (4 n ModSE^4) + 1 / (2 (n - 1)))`` (Morris et al. Table 6);
    - ``_bias_mcse``: ``SD / sqrt(n)``; ``_empse_mcse``: ``EmpSE / sqrt(2 (n - 1))``
      (for normally distributed estimates); ``_rmse_mcse``: the delta method,
      ``MCSE(MSE) / (2 RMSE)``, with ``MCSE(MSE) = sqrt(sum_i (e_i^2 - MSE)^2 /
      (n (n - 1)))`` for errors ``e_i``.

    :func:`fastem.plan_replications` gives the replications needed for a target MCSE.

    ``timing`` has, per row, ``seconds``, ``fits_per_s`` and ``mega_throughput``: wall
    time of the fits (the kernels are compiled before timing starts), and millions of
    points x components x passes over the data (EM maps, emEM's included) per second.

    Datasets are simulated and fitted ``chunk_size`` at a time (fewer when they would hold
    more than ``CHUNK_POINTS`` points), seeded by their global index, so the results do
    not depend on ``chunk_size``; between chunks a keyboard
    interrupt stops the study and ``progress(done, total)`` (in datasets x strategies) is
    called. With a ``distributed.Client`` as ``client``, the chunks run as tasks on its
    cluster, with the same results; ``seconds`` then adds up the workers' fitting time.

    ``StudyResult.raw()`` has every replication's chosen fit, for analyses of one's own.

    Memory: the table is computed from counts and exact sums kept per cell a chunk at a
    time, and the bootstrap's resamples are Poisson counts drawn per dataset (the same in
    any chunking), so with ``keep_replications=False`` memory does not grow with the
    replications; ``raw`` then receives the raw rows as they come. A chunk's fits, a
    dataset's points and the kept arrays are checked against the machine's memory before
    any work.

    Parameters
    ----------
    weights, means, variances : array of shape (K,)
        The true mixture, when there is one scenario.
    n_samples : int or iterable of int
        Points per dataset, one design cell each.
    replications : int
        Datasets per design cell.
    scenarios : iterable of Scenario (or of (weights, means, variances)), optional
        Several true mixtures instead of one, e.g. a grid over separation and mixing
        proportion; a design cell each, with every sample size.
    init : str or iterable of str
        Starting-value strategies to compare (see :func:`fastem.fit`); a pool of them is
        written ``"random=10,kmeans++=10"`` (its restarts, the best of all kept, as
        EMMIX does; ``n_init`` does not apply to it).
    algorithm, stop : str or iterable of str
        Algorithms ("em", "squarem") and stopping rules ("loglik", "relative", "aitken",
        "parameter") to compare; see :func:`fastem.fit`.
    n_components : int or iterable of int (or None), optional
        Components fitted, each its own rows; None (the default, or in the list) is each
        scenario's own number.
    n_init : int
        Restarts per dataset.
    random_state : int
        Seeds the simulation (per design cell) and the starts; the same value gives the
        same table, whatever the number of threads or the chunk size.
    init_params : dict, optional
        ``{strategy: params}`` for strategies that take options (``"emem"``).
    se : {"score", "louis"}, optional
        Standard errors of every fit, and the coverage and relative error columns.
    trace : bool
        Keep the log-likelihood traces of the restarts of the first ``N_TRACED`` datasets
        of each cell (``StudyCell.trace``, for the figure of traces): ``8 * (max_iter + 1)``
        bytes per restart.
    keep_replications : bool, default True
        Keep every replication's fits in the cells (``StudyCell.weights`` and the other
        per-replication arrays; :meth:`StudyResult.raw`; the figures of
        :mod:`fastem.plots`): :func:`kept_bytes` per replication and row of the table, 0.7
        KiB with 5 restarts and 2 components. With False the cells keep only their sums,
        and memory stays flat in the replications; the table is the same.
    raw : callable, optional
        Called with the rows of :meth:`StudyResult.raw` as they come, a :class:`Table` at a
        time: per design cell, blocks of ``RAW_BLOCK`` replications, each method's rows
        in the table's order within a block (a study of at most ``RAW_BLOCK`` replications
        gives them in ``raw()``'s order), the same however the study is chunked.
    **fit_options
        Passed to :func:`fastem.fit` (``tol``, ``max_iter``, ``reg_variance``,
        ``equal_variance``, ...).

    Returns
    -------
    StudyResult
        ``.table`` is the table above, ``.timing`` the timing; ``str(result)`` prints both.

    See Also
    --------
    fastem.Design : these settings in one value, with the defaults of ``fastem study``
        (``Design(...).run()``).
    """
    a = _options.bound(study, args, kwargs)
    weights, means, variances = a.pop("weights"), a.pop("means"), a.pop("variances")
    n_samples, replications, scenarios = (
        a.pop("n_samples"),
        a.pop("replications"),
        a.pop("scenarios"),
    )
    init, algorithm, stop = a.pop("init"), a.pop("algorithm"), a.pop("stop")
    n_components, n_init, random_state = (
        a.pop("n_components"),
        a.pop("n_init"),
        a.pop("random_state"),
    )
    init_params, at_best_tol, chunk_size = (
        a.pop("init_params"),
        a.pop("at_best_tol"),
        a.pop("chunk_size"),
    )
    progress, client, trace, se = a.pop("progress"), a.pop("client"), a.pop("trace"), a.pop("se")
    keep_replications, raw = a.pop("keep_replications"), a.pop("raw")
    # The other options of fastem.fit go on to it as they were given.
    fit_options = {name: value for name, value in a.items() if name in kwargs}
    scenarios = _scenarios(weights, means, variances, scenarios)
    sizes = [n_samples] if np.ndim(n_samples) == 0 else list(n_samples)
    if not sizes:
        raise ValueError(
            "n_samples is empty; give one sample size or a list of them, e.g. n_samples=[40, 100]."
        )
    sizes = [_validate.check_int("n_samples", n, 1) for n in sizes]
    replications = _validate.check_int("replications", replications, 1)
    chunk_size = _validate.check_int("chunk_size", chunk_size, 1)
    strategies = _strategies(init)
    algorithms = _choices("algorithm", algorithm, api.ALGORITHMS)
    stops = _choices("stop", stop, api.STOPPING_RULES)
    fitted_ks = (
        [None]
        if n_components is None
        else [
            None if k is None else _validate.check_int("n_components", k, 1)
            for k in ([n_components] if np.ndim(n_components) == 0 else list(n_components))
        ]
    )
    n_init = _validate.check_int("n_init", n_init, 1)
    trace = _validate.check_bool("trace", trace)
    if se is not None:
        se = _validate.check_choice("se", se, api.SE_METHODS)
    statistics = PARAMETER_STATISTICS + (SE_STATISTICS if se else ())
    seed = _validate.check_random_state(random_state)
    keep_replications = _validate.check_bool("keep_replications", keep_replications)
    if raw is not None and not callable(raw):
        raise TypeError(f"raw must be a callable that takes a Table of rows, got {raw!r}.")
    init_params = init_params or {}
    labelled = tuple(
        name
        for name, values in (
            ("scenario", scenarios),
            ("init", strategies),
            ("algorithm", algorithms),
            ("stop", stops),
        )
        if len(values) > 1 or name == "init"
    )
    methods = [(s, a, r) for s in strategies for a in algorithms for r in stops]
    if trace:
        max_iter = fit_options.get("max_iter", api.DEFAULT_MAX_ITER)
        max_iter = _validate.check_int("max_iter", max_iter, 1, _validate.MAX_ITER_LIMIT)
        _validate.check_memory(
            8.0 * min(N_TRACED, replications) * n_init * (max_iter + 1),
            f"keeping traces (trace=True) of {n_init} restart(s) of {N_TRACED} datasets for "
            f"max_iter={max_iter}",
            "Use a smaller max_iter, or no traces (trace=False; without --plot on the "
            "command line).",
        )
    fitted = [
        list(dict.fromkeys(sc.arrays()[1].size if k is None else k for k in fitted_ks))
        for sc in scenarios
    ]  # the distinct numbers of components fitted, per scenario
    width = max(max(ks) for ks in fitted)
    true_width = max(sc.arrays()[1].size for sc in scenarios)
    _check_memory(
        sizes,
        replications,
        chunk_size,
        n_init,
        width,
        len(methods) * sum(map(len, fitted)) * len(sizes),
        keep_replications,
        se is not None,
    )
    total = sum(map(len, fitted)) * len(sizes) * len(methods) * replications
    done = 0
    # Compile (or load) the kernels first, so that ``seconds`` times fitting only.
    first = scenarios[0].arrays()
    tiny, _ = simulate(*first, max(10, 2 * first[1].size), 1, 0)
    for strategy, method_algorithm, _ in methods:
        _quiet_fit(
            tiny,
            first[1].size,
            init=search.parse_init(strategy),
            algorithm=method_algorithm,
            max_iter=2,
            se=se,
            init_params=init_params.get(strategy),
        )

    rows, timing, cells = [], [], []
    for scenario_index, scenario in enumerate(scenarios):
        truth = scenario.arrays()
        for size in sizes:
            # A cell is seeded by its content (the true mixture and the sample size), not
            # by its place in the design: a scenario studied alone, or beside others,
            # draws the same datasets.
            cell_words = _cell_words(truth, size)
            state = np.random.SeedSequence([seed, *cell_words]).generate_state(1, np.uint64)[0]
            cell_seed = int(state >> np.uint64(1))
            cell = {}
            plans = {}
            # The same resamples of the datasets for every method of the cell.
            bootstrap_key = (seed, *cell_words, _BOOTSTRAP_STREAM)
            for k in fitted[scenario_index]:
                for strategy, method_algorithm, method_stop in methods:
                    key = (k, strategy, method_algorithm, method_stop)
                    cell[key] = StudyCell(
                        size,
                        strategy,
                        _restarts(strategy, n_init),
                        scenario=scenario.name,
                        truth=truth,
                        n_components=k,
                        algorithm=method_algorithm,
                        stop=method_stop,
                        labelled=labelled,
                        keep=keep_replications,
                    )
                    cell[key].sums = _Sums(cell[key], se is not None, bootstrap_key)
                    plans[key] = dict(
                        n_init=cell[key].n_init,
                        init=search.parse_init(strategy),
                        algorithm=method_algorithm,
                        stop=method_stop,
                        random_state=cell_seed,
                        se=se,
                        init_params=init_params.get(strategy),
                        **fit_options,
                    )
            blocks = None if raw is None else _RawBlocks(raw, replications)
            arguments = (
                (truth, size, count, cell_seed, start, plans, trace)
                for start, count in chunk_plan(replications, size, chunk_size)
            )
            for (_, _, count, _, start, _, _), outcome in _run_all(arguments, client):
                chunk_rows = {}
                weights = mcse.poisson_weights(bootstrap_key, start, count, N_BOOTSTRAP)
                for k in fitted[scenario_index]:
                    same_k = [key for key in outcome if key[0] == k]
                    with np.errstate(invalid="ignore"):  # a dataset no method fitted finitely
                        best = np.nanmax([outcome[key][0].log_likelihood for key in same_k], axis=0)
                    for key in same_k:
                        result, seconds, traced = outcome[key]
                        accumulated = cell[key]
                        restart_ll = result.restart_log_likelihood
                        with np.errstate(invalid="ignore"):
                            at_best = (
                                restart_ll >= (best - at_best_tol * result.n_observations)[:, None]
                            )
                        at_best &= np.isfinite(restart_ll)
                        params, errors = accumulated.estimates(result)
                        accumulated.seconds += seconds
                        accumulated.add(result, params, errors, at_best, start, weights)
                        if traced is not None:
                            accumulated.trace, accumulated.example = traced
                        if blocks is not None:
                            chunk_rows[key] = _raw_rows(
                                accumulated, result, params, start, width, true_width, errors
                            )
                if blocks is not None:
                    blocks.add(chunk_rows, start + count)
                done += count * len(plans)
                if progress is not None:
                    progress(done, total)
            for accumulated in cell.values():
                accumulated.finish()
                row = _row(accumulated)
                rows.append(row)
                timing.append({**{name: row[name] for name in _CELL}, **_timing(accumulated)})
                cells.append(accumulated)
    for row in rows:  # one set of parameter columns for every row: the widest scenario's
        for name in PARAMETERS:
            for k in range(true_width):
                for statistic in statistics:
                    row.setdefault(_parameter_column(name, k, statistic), np.nan)
    columns = list(rows[0])
    table = Table(
        {
            name: [row[name] for row in rows]
            for name in [
                *columns[: columns.index(_parameter_column(PARAMETERS[0], 0, "bias"))],
                *(
                    _parameter_column(name, k, statistic)
                    for name in PARAMETERS
                    for k in range(true_width)
                    for statistic in statistics
                ),
            ]
        }
    )
    return StudyResult(table, _table(timing), first, cells, tuple(scenarios))


def _cell_words(truth, size) -> list[int]:
    """The entropy of a cell's seed: its sample size and the bits of its true weights,
    means and variances, as 32-bit words."""
    bits = np.concatenate([np.asarray(a, dtype=np.float64) + 0.0 for a in truth])
    return [size, *np.frombuffer(bits.tobytes(), dtype=np.uint32).tolist()]


def _strategies(init) -> list[str]:
    """The study's start strategies: names, or pools written ``name=restarts,...``."""
    values = [init] if isinstance(init, str) else list(init)
    for value in values:
        if isinstance(value, str) and "=" in value:
            search.parse_init(value)
        else:
            _validate.check_choice("init", value, STRATEGY_NAMES)
    if not values:
        raise ValueError(f"init is empty; give at least one of {', '.join(STRATEGY_NAMES)}.")
    return list(dict.fromkeys(values))


def _restarts(strategy: str, n_init: int) -> int:
    """A method's restarts: ``n_init``, one for the deterministic "quantile", and a pool's
    own total."""
    pool = search.parse_init(strategy)
    if isinstance(pool, dict):
        return sum(pool.values())
    return 1 if strategy == "quantile" else n_init


def _choices(name, values, allowed) -> list:
    values = [values] if isinstance(values, str) else list(values)
    if not values:
        raise ValueError(f"{name} is empty; give at least one of {', '.join(allowed)}.")
    return [_validate.check_choice(name, value, allowed) for value in dict.fromkeys(values)]


def _scenarios(weights, means, variances, scenarios) -> list:
    """The study's true mixtures as Scenarios, named "1", "2", ... unless named."""
    single = (weights, means, variances)
    if scenarios is None:
        if any(value is None for value in single):
            raise TypeError(
                "study needs the true mixture: weights, means and variances, or "
                "scenarios=[...] for several."
            )
        scenarios = [Scenario(*single)]
    elif any(value is not None for value in single):
        raise TypeError("give either weights, means and variances, or scenarios, not both.")
    named = []
    for index, scenario in enumerate(scenarios):
        if not isinstance(scenario, Scenario):
            scenario = Scenario(*scenario)
        name = scenario.name or str(index + 1)
        weights_, means_, variances_ = scenario.arrays()
        if not (
            weights_.ndim == means_.ndim == variances_.ndim == 1
            and weights_.size == means_.size == variances_.size > 0
        ):
            raise ValueError(
                f"scenario {name!r}: weights, means and variances need one value "
                "per component each."
            )
        named.append(Scenario(tuple(weights_), tuple(means_), tuple(variances_), name))
    if not named:
        raise ValueError("scenarios is empty; give at least one true mixture.")
    names = [scenario.name for scenario in named]
    if len(set(names)) < len(names):
        raise ValueError(f"scenario names repeat: {names}; give each its own name.")
    return named


def _table(rows) -> Table:
    return Table({name: [row[name] for row in rows] for name in rows[0]})


def chunk_plan(replications, size, chunk_size=DEFAULT_CHUNK, max_points=CHUNK_POINTS):
    """``(first dataset, number of datasets)`` of each chunk, one at a time: at most
    ``chunk_size`` datasets and ``max_points`` points a chunk (at least one dataset)."""
    step = max(1, min(chunk_size, max_points // size))
    for start in range(0, replications, step):
        yield start, min(step, replications - start)


def _run_chunk(truth, size, count, cell_seed, start, plans, trace):
    """Simulate datasets ``start:start + count`` of a cell and fit them with each method
    (``plans``: ``{(n_components, init, algorithm, stop): fit options}``):
    ``{key: (FitResult, seconds, (traces, first dataset) or None)}``."""
    data, _ = simulate(*truth, size, count, cell_seed, dataset_offset=start)
    outcome = {}
    for key, options in plans.items():
        n_components = key[0]
        began = time.perf_counter()
        result = _quiet_fit(data, n_components, dataset_offset=start, **options)
        seconds = time.perf_counter() - began
        traced = None
        if trace and start == 0:
            traces = _quiet_fit(data[:N_TRACED], n_components, trace=True, **options).trace
            traced = (traces, data[0])
        outcome[key] = (result, seconds, traced)
    return outcome


def _run_all(arguments, client):
    """``(args, outcome)`` of :func:`_run_chunk` for each argument tuple, in order: here, or
    as tasks on a Dask cluster, at most ``DASK_WINDOW`` (or twice its threads) ahead of the
    one awaited (those in flight cancelled if the study is interrupted)."""
    if client is None:
        for args in arguments:
            yield args, _run_chunk(*args)
        return
    window = max(DASK_WINDOW, 2 * sum(client.nthreads().values()))
    pending = collections.deque()
    try:
        for args in arguments:
            pending.append((args, client.submit(_run_chunk, *args, pure=False)))
            if len(pending) >= window:
                args, future = pending.popleft()
                yield args, future.result()
        while pending:
            args, future = pending.popleft()
            yield args, future.result()
    finally:
        client.cancel([future for _, future in pending])


class _RawBlocks:
    """The raw rows of a design cell's methods, handed to ``sink`` a block of
    ``RAW_BLOCK`` replications at a time, one method after the other, as chunks of any
    size complete them."""

    def __init__(self, sink, replications: int):
        self.sink, self.replications = sink, replications
        self.pending: dict = {}
        self.given = 0  # replications handed on

    def add(self, rows: dict, done: int) -> None:
        """``rows``: per method, the columns of the next replications, up to ``done``."""
        for key, columns in rows.items():
            self.pending.setdefault(key, []).append(columns)
        while self.given < self.replications:
            stop = min(self.given + RAW_BLOCK, self.replications)
            if done < stop:
                return
            for key, parts in self.pending.items():
                columns = {
                    name: np.concatenate([part[name] for part in parts]) for name in parts[0]
                }
                taken = stop - self.given
                self.sink(Table({name: values[:taken] for name, values in columns.items()}))
                rest = {name: values[taken:] for name, values in columns.items()}
                self.pending[key] = [rest] if len(rest["replication"]) else []
            self.given = stop


def kept_bytes(n_init: int, n_components: int, se: bool) -> int:
    """Bytes a replication kept in a cell holds (``keep_replications=True``): 40 a restart
    (log-likelihood, iterations, passes, convergence, starting iterations), 24 a component
    (estimates; as much again for their standard errors) and 80 for the chosen fit's
    outcomes, twice over while the chunks are joined."""
    return 2 * (40 * n_init + 24 * n_components * (1 + se) + 80)


def _check_memory(sizes, replications, chunk_size, n_init, width, n_rows, keep, se):
    """Refuse, before any work, a study whose arrays would not fit in memory: one dataset's
    points (a chunk holds at least one), the fits of a chunk, and the kept replications of
    ``n_rows`` rows of the table."""
    largest = max(sizes)
    # Values and labels drawn, the fit's packed copy and its standardised values.
    _validate.check_option_memory(
        "n_samples", largest, 40.0, "one dataset's points (a chunk holds at least one)"
    )
    datasets = max(
        min(replications, max(1, min(chunk_size, CHUNK_POINTS // size))) for size in sizes
    )
    _validate.check_option_memory(
        "n_init",
        n_init,
        datasets * _validate.fit_bytes(width),
        f"the fits of a chunk of {datasets} datasets",
    )
    if keep:
        _validate.check_option_memory(
            "replications",
            replications,
            kept_bytes(n_init, width, se) * n_rows,
            "every replication's fits kept in the cells (keep_replications=True; the "
            "figures need them)",
        )


def _quiet_fit(data, n_components, **options):
    # Collapses and non-convergence are what the study counts, not news.
    return api.fit(data, n_components, warn=False, **options)


def _row(cell: StudyCell):
    sums = cell.sums
    replications = cell.replications
    spurious = sums.spurious / replications
    settled = sums.settled / replications
    row = _columns(
        _Outcome(
            scenario=cell.scenario,
            n_samples=cell.n_samples,
            n_components=cell.n_components,
            init=cell.init,
            algorithm=cell.algorithm,
            stop=cell.stop,
            n_init=cell.n_init,
            replications=replications,
            converged=sums.converged.mean(),
            converged_mcse=sums.converged.mcse(),
            spurious=spurious,
            spurious_mcse=float(mcse.proportion_mcse(spurious, replications)),
            iter_median=sums.iterations.percentile(50),
            iter_median_mcse=sums.iterations.percentile_mcse(50),
            iter_p90=sums.iterations.percentile(90),
            iter_p90_mcse=sums.iterations.percentile_mcse(90),
            passes_median=sums.passes.percentile(50),
            passes_median_mcse=sums.passes.percentile_mcse(50),
            init_iter=sums.init_iter.mean(),
            init_iter_mcse=sums.init_iter.mcse(),
            at_best=sums.at_best.mean(),
            at_best_mcse=sums.at_best.mcse(),
            settled=settled,
            settled_mcse=float(mcse.proportion_mcse(settled, replications)),
            p_unseen=sums.p_unseen.mean(),
            p_unseen_mcse=sums.p_unseen.mean_mcse(),
            n_maxima=sums.n_maxima.mean(),
            n_maxima_mcse=sums.n_maxima.mean_mcse(),
        )
    )
    for (index, k), performance in sums.performance.items():  # matched cells only
        measures = performance.result()
        for statistic in PARAMETER_STATISTICS:
            row[_parameter_column(PARAMETERS[index], k, statistic)] = getattr(measures, statistic)
        if (index, k) in sums.coverage:
            coverage = sums.coverage[index, k].result()
            for statistic in SE_STATISTICS:
                row[_parameter_column(PARAMETERS[index], k, statistic)] = getattr(
                    coverage, statistic
                )
    return row


def _timing(cell: StudyCell) -> dict:
    n_fits = cell.sums.n_fits
    iterations = cell.sums.n_passes + cell.sums.n_init_iter  # passes: EM maps
    work = float(cell.n_samples) * cell.n_components * iterations
    return _columns(
        _Speed(
            seconds=cell.seconds,
            fits_per_s=n_fits / cell.seconds,
            mega_throughput=work / cell.seconds / 1e6,
        )
    )
