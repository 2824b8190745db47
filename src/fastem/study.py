"""Monte Carlo studies of EM: simulate from known mixtures, fit, and tabulate."""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field, fields

import numpy as np

from . import _validate, api, mcse, search
from ._status import Status
from .analysis import match_components
from .init._registry import NAMES as STRATEGY_NAMES
from .simulate import simulate
from .table import Table

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
        return tuple(np.asarray(a, dtype=np.float64) for a in (self.weights, self.means,
                                                               self.variances))


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

    def __repr__(self) -> str:
        return (f"<StudyCell: scenario={self.scenario!r}, n_samples={self.n_samples}, "
                f"n_components={self.n_components}, init={self.init!r}, "
                f"algorithm={self.algorithm!r}, stop={self.stop!r}, n_init={self.n_init}, "
                f"{len(self.status)} datasets>")

    @property
    def matched(self) -> bool:
        """Whether the fits have the true number of components (and were matched to them)."""
        return self.n_components == self.truth[1].size

    @property
    def label(self) -> str:
        """The method, by what varies in the study: ``"kmeans++"``, ``"kmeans++ squarem"``."""
        return " ".join(str(getattr(self, name)) for name in self.labelled
                        if name != "scenario")

    @property
    def panel(self) -> str:
        """The design cell, for a figure's panel: ``"n = 40"``, ``"2, n = 40, K = 3"``."""
        parts = [f"n = {self.n_samples}"]
        if "scenario" in self.labelled:
            parts.insert(0, self.scenario)
        if not self.matched:
            parts.append(f"K = {self.n_components}")
        return ", ".join(parts)

    def add(self, result):
        errors = result.standard_errors
        if self.matched:
            matched = match_components(result.weights, result.means, result.variances,
                                       *self.truth)
            result_params = matched[:3]
            if errors is not None:  # the standard errors follow their parameters
                errors = [np.take_along_axis(getattr(errors, name + "s"), matched.order, axis=1)
                          for name in PARAMETERS]
        else:
            result_params = (result.weights, result.means, result.variances)
            if errors is not None:
                errors = [getattr(errors, name + "s") for name in PARAMETERS]
        for name, values in zip(PARAMETERS, result_params):
            getattr(self, name + "s").append(values)
        if errors is not None:
            for name, values in zip(PARAMETERS, errors):
                getattr(self, name + "s_se").append(values)
        for name in _PER_DATASET:
            getattr(self, name).append(getattr(result, name))

    def finish(self):
        """Join the chunks into arrays."""
        for name in ("weights", "means", "variances", *_PER_DATASET):
            setattr(self, name, np.concatenate(getattr(self, name)))
        for name in ("weights_se", "means_se", "variances_se"):
            parts = getattr(self, name)
            setattr(self, name, np.concatenate(parts) if parts else None)


_PER_DATASET = ("status", "log_likelihood", "restart_log_likelihood", "restart_n_iter",
                "restart_converged", "init_n_iter", "n_observations", "restart_n_fpeval",
                "best_restart", "n_iter", "n_fpeval", "rate", "settled", "p_unseen",
                "n_maxima")
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
        return (f"<StudyResult: {len(self.table)} rows x {len(self.table.columns)} columns; "
                "print() it for the table and timing>")

    def brief_table(self) -> Table:
        """The table's main columns, those ``fastem study`` prints without
        ``--all-columns``: the cell (scenario, fitted components, algorithm and stopping
        rule only when they vary), convergence, spurious fits, iterations, passes,
        ``at_best`` and each mean's RMSE (and coverage, with ``se``), each with its Monte Carlo
        standard error."""
        width = max(cell.truth[1].size for cell in self.cells)
        shown = ("rmse", "rmse_mcse", "coverage", "coverage_mcse")
        means_rmse = [_parameter_column("mean", k, statistic)
                      for k in range(width) for statistic in shown
                      if _parameter_column("mean", k, statistic) in self.table.columns]
        varying = [name for name in _VARYING if len(set(self.table[name])) > 1]
        names = [name for name in _brief(_Outcome) if name not in _VARYING or name in varying]
        if "passes_median" in names and all(c.algorithm == "em" for c in self.cells):
            names = [n for n in names if not n.startswith("passes_")]  # EM: passes = iter
        return self.table.select(*names, *means_rmse)

    def brief_timing(self) -> Table:
        """``timing`` with the cell's columns that vary (as :meth:`brief_table`)."""
        return self.timing.select(*(name for name in self.timing.columns
                                    if name not in _VARYING
                                    or len(set(self.timing[name])) > 1))

    def raw(self) -> Table:
        """Every replication's chosen fit, one row per dataset and row of ``table``:
        scenario, n_samples, n_components, init, algorithm, stop, n_init, replication (the
        dataset's index from 0), restart (the chosen one's index), log_likelihood, n_iter,
        passes (EM maps), rate, status, the estimates (``weight_1``, ...; matched to the
        true components when the counts agree, else sorted by mean; NaN beyond a fit's
        components), with ``se``, their standard errors (``weight_se_1``, ...), and the
        scenario's true values (``true_weight_1``, ...; NaN beyond its components), so that a
        study can be reanalysed, its coverage too, without refitting."""
        width = max(cell.n_components for cell in self.cells)
        true_width = max(cell.truth[1].size for cell in self.cells)
        columns: dict = {name: [] for name in (*_CELL, "replication", "restart",
                                               "log_likelihood", "n_iter", "passes", "rate",
                                               "status")}
        with_se = self.cells[0].weights_se is not None
        suffixes = ("", "_se") if with_se else ("",)
        estimates = {f"{name}{se}_{k + 1}": [] for se in suffixes for name in PARAMETERS
                     for k in range(width)}
        truths = {f"true_{name}_{k + 1}": [] for name in PARAMETERS for k in range(true_width)}
        for cell in self.cells:
            n = cell.status.size
            for name in _CELL:
                columns[name].append(np.repeat(np.asarray([getattr(cell, name)]), n))
            columns["replication"].append(np.arange(n))
            columns["restart"].append(cell.best_restart)
            columns["log_likelihood"].append(cell.log_likelihood)
            columns["n_iter"].append(cell.n_iter)
            columns["passes"].append(cell.n_fpeval)
            columns["rate"].append(cell.rate)
            columns["status"].append(np.array([Status(s).name.lower() for s in cell.status]))
            for name in PARAMETERS:
                for se in suffixes:
                    values = getattr(cell, name + "s" + se)
                    for k in range(width):
                        estimates[f"{name}{se}_{k + 1}"].append(
                            values[:, k] if k < values.shape[1] else np.full(n, np.nan))
            for index, name in enumerate(PARAMETERS):
                true = cell.truth[index]
                for k in range(true_width):
                    truths[f"true_{name}_{k + 1}"].append(
                        np.full(n, true[k] if k < true.size else np.nan))
        return Table({name: np.concatenate(parts) for name, parts in
                      {**columns, **estimates, **truths}.items()})


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
            values = [_value_and_mcse(v, e, bound)
                      for v, e in zip(values, table[f"{name}_mcse"])]
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


def study(weights=None, means=None, variances=None, n_samples=(40,), replications=1000, *,
          scenarios=None, init=("kmeans++",), algorithm=("em",), stop=("loglik",),
          n_components=None, n_init=5, random_state=0, init_params=None,
          at_best_tol=1e-4, chunk_size=DEFAULT_CHUNK, progress=None, client=None,
          trace=False, se=None, **fit_options) -> StudyResult:
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
      over ``N_BOOTSTRAP`` resamples of the datasets (each with all its restarts),
      seeded by ``random_state`` and the cell's content, so the same study gives the same
      numbers.
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
    scenarios = _scenarios(weights, means, variances, scenarios)
    sizes = [n_samples] if np.ndim(n_samples) == 0 else list(n_samples)
    if not sizes:
        raise ValueError("n_samples is empty; give one sample size or a list of them, e.g. "
                         "n_samples=[40, 100].")
    sizes = [_validate.check_int("n_samples", n, 1) for n in sizes]
    replications = _validate.check_int("replications", replications, 1)
    chunk_size = _validate.check_int("chunk_size", chunk_size, 1)
    strategies = _strategies(init)
    algorithms = _choices("algorithm", algorithm, api.ALGORITHMS)
    stops = _choices("stop", stop, api.STOPPING_RULES)
    fitted_ks = [None] if n_components is None else [
        None if k is None else _validate.check_int("n_components", k, 1)
        for k in ([n_components] if np.ndim(n_components) == 0 else list(n_components))]
    n_init = _validate.check_int("n_init", n_init, 1)
    trace = _validate.check_bool("trace", trace)
    if se is not None:
        se = _validate.check_choice("se", se, api.SE_METHODS)
    statistics = PARAMETER_STATISTICS + (SE_STATISTICS if se else ())
    seed = _validate.check_random_state(random_state)
    _validate.check_not_given("fastem.study", fit_options, ("dataset_offset", "warn"))
    init_params = init_params or {}
    labelled = tuple(name for name, values in (("scenario", scenarios),
                                                ("init", strategies),
                                                ("algorithm", algorithms), ("stop", stops))
                     if len(values) > 1 or name == "init")
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
    fitted = [list(dict.fromkeys(sc.arrays()[1].size if k is None else k for k in fitted_ks))
              for sc in scenarios]  # the distinct numbers of components fitted, per scenario
    total = sum(map(len, fitted)) * len(sizes) * len(methods) * replications
    done = 0
    # Compile (or load) the kernels first, so that ``seconds`` times fitting only.
    first = scenarios[0].arrays()
    tiny, _ = simulate(*first, max(10, 2 * first[1].size), 1, 0)
    for strategy, method_algorithm, _ in methods:
        _quiet_fit(tiny, first[1].size, init=search.parse_init(strategy),
                   algorithm=method_algorithm, max_iter=2,
                   init_params=init_params.get(strategy))

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
            for k in fitted[scenario_index]:
                for strategy, method_algorithm, method_stop in methods:
                    key = (k, strategy, method_algorithm, method_stop)
                    cell[key] = StudyCell(
                        size, strategy, _restarts(strategy, n_init),
                        scenario=scenario.name, truth=truth, n_components=k,
                        algorithm=method_algorithm, stop=method_stop, labelled=labelled,
                    )
                    plans[key] = dict(n_init=cell[key].n_init, init=search.parse_init(strategy),
                                      algorithm=method_algorithm, stop=method_stop,
                                      random_state=cell_seed, se=se,
                                      init_params=init_params.get(strategy), **fit_options)
            chunks = chunk_plan(replications, size, chunk_size)
            arguments = [(truth, size, count, cell_seed, start, plans, trace)
                         for start, count in chunks]
            for (_, count), outcome in zip(chunks, _run_all(arguments, client)):
                for key, (result, seconds, traced) in outcome.items():
                    accumulated = cell[key]
                    accumulated.seconds += seconds
                    accumulated.add(result)
                    if traced is not None:
                        accumulated.trace, accumulated.example = traced
                done += count * len(plans)
                if progress is not None:
                    progress(done, total)
            for accumulated in cell.values():
                accumulated.finish()
            for k in dict.fromkeys(key[0] for key in cell):
                same_k = [c for key, c in cell.items() if key[0] == k]
                with np.errstate(invalid="ignore"):  # a dataset no method fitted finitely
                    best = np.nanmax([c.log_likelihood for c in same_k], axis=0)
                for accumulated in same_k:
                    row = _row(accumulated, best, at_best_tol,
                               bootstrap_seed=(seed, *cell_words, _BOOTSTRAP_STREAM))
                    rows.append(row)
                    timing.append({**{name: row[name] for name in _CELL},
                                   **_timing(accumulated)})
                    cells.append(accumulated)
    width = max(sc.arrays()[1].size for sc in scenarios)
    for row in rows:  # one set of parameter columns for every row: the widest scenario's
        for name in PARAMETERS:
            for k in range(width):
                for statistic in statistics:
                    row.setdefault(_parameter_column(name, k, statistic), np.nan)
    columns = list(rows[0])
    table = Table({name: [row[name] for row in rows] for name in
                   [*columns[:columns.index(_parameter_column(PARAMETERS[0], 0, "bias"))],
                    *(_parameter_column(name, k, statistic) for name in PARAMETERS
                      for k in range(width) for statistic in statistics)]})
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
            raise TypeError("study needs the true mixture: weights, means and variances, or "
                            "scenarios=[...] for several.")
        scenarios = [Scenario(*single)]
    elif any(value is not None for value in single):
        raise TypeError("give either weights, means and variances, or scenarios, not both.")
    named = []
    for index, scenario in enumerate(scenarios):
        if not isinstance(scenario, Scenario):
            scenario = Scenario(*scenario)
        name = scenario.name or str(index + 1)
        weights_, means_, variances_ = scenario.arrays()
        if not (weights_.ndim == means_.ndim == variances_.ndim == 1
                and weights_.size == means_.size == variances_.size > 0):
            raise ValueError(f"scenario {name!r}: weights, means and variances need one value "
                             "per component each.")
        named.append(Scenario(tuple(weights_), tuple(means_), tuple(variances_), name))
    if not named:
        raise ValueError("scenarios is empty; give at least one true mixture.")
    names = [scenario.name for scenario in named]
    if len(set(names)) < len(names):
        raise ValueError(f"scenario names repeat: {names}; give each its own name.")
    return named


def _table(rows) -> Table:
    return Table({name: [row[name] for row in rows] for name in rows[0]})


def chunk_plan(replications, size, chunk_size=DEFAULT_CHUNK):
    """``[(first dataset, number of datasets)]``: at most ``chunk_size`` datasets and
    ``CHUNK_POINTS`` points a chunk (at least one dataset)."""
    step = max(1, min(chunk_size, CHUNK_POINTS // size))
    return [(start, min(step, replications - start)) for start in range(0, replications, step)]


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
    """Results of :func:`_run_chunk` for each argument tuple, in order: here, or as tasks
    on a Dask cluster (cancelled if the study is interrupted)."""
    if client is None:
        for args in arguments:
            yield _run_chunk(*args)
        return
    futures = [client.submit(_run_chunk, *args, pure=False) for args in arguments]
    try:
        for future in futures:
            yield future.result()
    finally:
        client.cancel(futures)


def _quiet_fit(data, n_components, **options):
    # Collapses and non-convergence are what the study counts, not news.
    return api.fit(data, n_components, warn=False, **options)


def _row(cell: StudyCell, best, at_best_tol, bootstrap_seed):
    restart_ll = cell.restart_log_likelihood
    with np.errstate(invalid="ignore"):
        at_best = restart_ll >= (best - at_best_tol * cell.n_observations)[:, None]
    at_best &= np.isfinite(restart_ll)
    iterations = cell.restart_n_iter
    replications = restart_ll.shape[0]
    spurious = np.mean((cell.status == Status.SPURIOUS)
                       | (cell.status == Status.VARIANCE_FLOORED))
    # The same resamples of the datasets for every strategy of a cell (the same seed),
    # and for the median and the 90th percentile.
    # Iterations and passes of each dataset's restarts side by side, resampled together.
    both = np.hstack([iterations, cell.restart_n_fpeval])
    statistics = functools.partial(_iteration_statistics, n_init=iterations.shape[1])
    iter_median, iter_p90, passes_median = statistics(both.ravel())
    iter_mcse = mcse.bootstrap_mcse(both, statistics, N_BOOTSTRAP, bootstrap_seed)
    row = _columns(_Outcome(
        scenario=cell.scenario,
        n_samples=cell.n_samples,
        n_components=cell.n_components,
        init=cell.init,
        algorithm=cell.algorithm,
        stop=cell.stop,
        n_init=cell.n_init,
        replications=replications,
        converged=cell.restart_converged.mean(),
        converged_mcse=mcse.clustered_mean_mcse(cell.restart_converged),
        spurious=spurious,
        spurious_mcse=float(mcse.proportion_mcse(spurious, replications)),
        iter_median=iter_median,
        iter_median_mcse=float(iter_mcse[0]),
        iter_p90=iter_p90,
        iter_p90_mcse=float(iter_mcse[1]),
        passes_median=passes_median,
        passes_median_mcse=float(iter_mcse[2]),
        init_iter=cell.init_n_iter.mean(),
        init_iter_mcse=mcse.clustered_mean_mcse(cell.init_n_iter),
        at_best=np.mean(at_best),
        at_best_mcse=mcse.clustered_mean_mcse(at_best),
        settled=np.mean(cell.settled),
        settled_mcse=float(mcse.proportion_mcse(np.mean(cell.settled), replications)),
        p_unseen=np.nanmean(cell.p_unseen) if np.isfinite(cell.p_unseen).any() else np.nan,
        p_unseen_mcse=_mean_mcse(cell.p_unseen),
        n_maxima=np.mean(cell.n_maxima),
        n_maxima_mcse=_mean_mcse(cell.n_maxima),
    ))
    if not cell.matched:  # over- or under-fitting: no component to compare
        return row
    errors = (cell.weights_se, cell.means_se, cell.variances_se)
    for name, fitted, error, true in zip(PARAMETERS, (cell.weights, cell.means, cell.variances),
                                         errors, cell.truth):
        for k in range(cell.truth[1].size):
            measures = mcse.performance(fitted[:, k], true[k])
            for statistic in PARAMETER_STATISTICS:
                row[_parameter_column(name, k, statistic)] = getattr(measures, statistic)
            if error is None:
                continue
            coverage = mcse.standard_error_performance(fitted[:, k], error[:, k], true[k],
                                                       COVERAGE_LEVEL)
            for statistic in SE_STATISTICS:
                row[_parameter_column(name, k, statistic)] = getattr(coverage, statistic)
    return row


def _mean_mcse(values) -> float:
    """The MCSE of the mean of one value per dataset (those that are not NaN): their
    standard deviation over the square root of their number."""
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size < 2:
        return np.nan
    return float(values.std(ddof=1) / np.sqrt(values.size))


def _iteration_statistics(flat, n_init) -> np.ndarray:
    """The median and 90th percentile of the iterations of all fits, and the median of
    their passes, from rows of ``n_init`` iterations then ``n_init`` passes, raveled."""
    rows = flat.reshape(-1, 2 * n_init)
    median, p90 = np.percentile(rows[:, :n_init], (50, 90))
    return np.array([median, p90, np.median(rows[:, n_init:])])


def _timing(cell: StudyCell) -> dict:
    n_fits = cell.restart_n_iter.size
    iterations = cell.restart_n_fpeval.sum() + cell.init_n_iter.sum()  # passes: EM maps
    work = float(cell.n_samples) * cell.means.shape[1] * iterations
    return _columns(_Speed(
        seconds=cell.seconds,
        fits_per_s=n_fits / cell.seconds,
        mega_throughput=work / cell.seconds / 1e6,
    ))
