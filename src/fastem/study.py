"""Monte Carlo studies of EM: simulate from a known mixture, fit, and tabulate."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, fields

import numpy as np

from . import _validate, api, mcse
from ._status import Status
from .analysis import match_components
from .init._registry import NAMES as STRATEGY_NAMES
from .simulate import simulate
from .table import Table

PARAMETERS = ("weight", "mean", "variance")
PARAMETER_STATISTICS = ("bias", "bias_mcse", "empse", "empse_mcse", "rmse", "rmse_mcse")
"""The columns of each parameter of each component, in order (``mean_1_bias``, ...): the
fields of :class:`fastem.mcse.Performance` that the table keeps."""
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


@dataclass(eq=False, repr=False)
class StudyCell:
    """Everything one strategy gave on one design cell (a sample size).

    ``weights``, ``means``, ``variances`` (replications, K) are the chosen fits matched to
    the true components; ``restart_*`` and ``init_n_iter`` are per restart;
    ``trace`` (N_TRACED, n_init, max_iter + 1) holds the log-likelihood traces of the
    first datasets' restarts; ``example`` is the first dataset.
    """

    n_samples: int
    init: str
    n_init: int
    weights: list = field(default_factory=list)
    means: list = field(default_factory=list)
    variances: list = field(default_factory=list)
    status: list = field(default_factory=list)
    log_likelihood: list = field(default_factory=list)
    restart_log_likelihood: list = field(default_factory=list)
    restart_n_iter: list = field(default_factory=list)
    restart_converged: list = field(default_factory=list)
    init_n_iter: list = field(default_factory=list)
    n_observations: list = field(default_factory=list)
    seconds: float = 0.0
    trace: np.ndarray | None = None
    example: np.ndarray | None = None

    def __repr__(self) -> str:
        return (f"<StudyCell: n_samples={self.n_samples}, init={self.init!r}, "
                f"n_init={self.n_init}, {len(self.status)} datasets>")

    def add(self, result, truth):
        matched = match_components(result.weights, result.means, result.variances, *truth)
        self.weights.append(matched.weights)
        self.means.append(matched.means)
        self.variances.append(matched.variances)
        for name in ("status", "log_likelihood", "restart_log_likelihood", "restart_n_iter",
                     "restart_converged", "init_n_iter", "n_observations"):
            getattr(self, name).append(getattr(result, name))

    def finish(self):
        """Join the chunks into arrays."""
        for name in ("weights", "means", "variances", "status", "log_likelihood",
                     "restart_log_likelihood", "restart_n_iter", "restart_converged",
                     "init_n_iter", "n_observations"):
            setattr(self, name, np.concatenate(getattr(self, name)))


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

    def __str__(self) -> str:
        return f"{self.table}\n\ntiming (varies from run to run):\n{self.timing}"

    def __repr__(self) -> str:
        return (f"<StudyResult: {len(self.table)} rows x {len(self.table.columns)} columns; "
                "print() it for the table and timing>")

    def brief_table(self) -> Table:
        """The table's main columns, those ``fastem study`` prints without
        ``--all-columns``: the cell, convergence, spurious fits, iterations, ``at_best``
        and each mean's RMSE, each with its Monte Carlo standard error."""
        means_rmse = [_parameter_column("mean", k, statistic)
                      for k in range(self.truth[1].size) for statistic in ("rmse", "rmse_mcse")]
        return self.table.select(*_brief(_Outcome), *means_rmse)


def with_mcse_in_parentheses(table: Table) -> Table:
    """``table`` with each measure and its ``_mcse`` column merged into one column of text,
    ``"1.518 (0.065)"``: the MCSE to two significant digits and the measure to the same
    decimal place, as results are reported. For reading; the numbers are in ``table``."""
    columns = {}
    for name in table.columns:
        if name.endswith("_mcse") and name[: -len("_mcse")] in table.columns:
            continue
        values = table[name]
        if f"{name}_mcse" in table.columns:
            values = [_value_and_mcse(v, e) for v, e in zip(values, table[f"{name}_mcse"])]
        columns[name] = values
    return Table(columns)


def _value_and_mcse(value, mcse) -> str:
    if not (np.isfinite(value) and np.isfinite(mcse)):
        return f"{value:.6g} ({mcse:.2g})"
    if mcse == 0:
        return f"{value:.6g} (0)"
    decimals = max(0, 1 - int(np.floor(np.log10(mcse))))
    return f"{value:.{decimals}f} ({mcse:.{decimals}f})"


_EXTRA = dict(extra=True)
"""Metadata of a column that ``fastem study`` prints only with ``--all-columns``."""


@dataclass(frozen=True)
class _Outcome:
    """The columns of a row of the study's table before those of each parameter, in order
    (described in :func:`study`)."""

    n_samples: int
    init: str
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
    init_iter: float = field(metadata=_EXTRA)
    init_iter_mcse: float = field(metadata=_EXTRA)
    at_best: float
    at_best_mcse: float


@dataclass(frozen=True)
class _Speed:
    """The columns of a row of the study's timing table after the cell's, in order."""

    seconds: float
    fits_per_s: float
    mega_throughput: float


_CELL = ("n_samples", "init", "n_init")
"""The columns that name a row's design cell and strategy."""


def _brief(columns) -> list:
    return [column.name for column in fields(columns) if not column.metadata.get("extra")]


def _parameter_column(parameter: str, k: int, statistic: str) -> str:
    """``mean_2_rmse``: the column of ``statistic`` of the ``k``-th (from 0) component's
    ``parameter``."""
    return f"{parameter}_{k + 1}_{statistic}"


def _columns(values) -> dict:
    return {column.name: getattr(values, column.name) for column in fields(values)}


def study(weights, means, variances, n_samples=(40,), replications=1000, *,
          init=("kmeans++",), n_init=5, random_state=0, init_params=None,
          at_best_tol=1e-4, chunk_size=DEFAULT_CHUNK, progress=None, client=None,
          trace=False, **fit_options) -> StudyResult:
    """How EM behaves on data from a known mixture, for several sample sizes and starts.

    For each sample size (a design cell), ``replications`` datasets are drawn from the
    mixture once; every starting-value strategy then fits the same datasets with
    ``n_init`` restarts ("quantile", which is deterministic, with one). One row per design
    cell and strategy:

    - ``converged``: share of all fits (every restart of every dataset) that met ``tol``;
    - ``spurious``: share of datasets whose chosen fit is a spurious maximum or collapsed
      (status ``SPURIOUS`` or ``VARIANCE_FLOORED``, by the ``spurious`` rule of
      :func:`fastem.fit`, :class:`fastem.SpuriousRule`);
    - ``iter_median``, ``iter_p90``: iterations over all fits; ``init_iter``: mean EM
      iterations spent on starting values per fit (emEM's short runs);
    - ``at_best``: share of all fits (restarts) whose final log-likelihood is within
      ``at_best_tol`` per point of the best any strategy found for that dataset;
    - ``{weight,mean,variance}_{k}_bias``, ``_empse`` (empirical standard error: the
      standard deviation of the estimates) and ``_rmse``: of the chosen fits (one per
      dataset), after matching their components to the true ones
      (:func:`fastem.match_components`); datasets whose estimate is NaN are left out.

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
    - ``iter_median_mcse``, ``iter_p90_mcse``: bootstrap, the standard deviation of the
      median and 90th percentile over ``N_BOOTSTRAP`` resamples of the datasets (each with
      all its restarts), seeded by ``random_state`` and the cell, so the same study gives
      the same numbers. Iterations are whole numbers: a median that every resample puts
      on the same one has an MCSE of 0;
    - ``_bias_mcse``: ``SD / sqrt(n)``; ``_empse_mcse``: ``EmpSE / sqrt(2 (n - 1))``
      (for normally distributed estimates); ``_rmse_mcse``: the delta method,
      ``MCSE(MSE) / (2 RMSE)``, with ``MCSE(MSE) = sqrt(sum_i (e_i^2 - MSE)^2 /
      (n (n - 1)))`` for errors ``e_i``.

    :func:`fastem.plan_replications` gives the replications needed for a target MCSE.

    ``timing`` has, per row, ``seconds``, ``fits_per_s`` and ``mega_throughput``: wall
    time of the fits (the kernels are compiled before timing starts), and millions of
    points x components x iterations (including emEM's) per second.

    Datasets are simulated and fitted ``chunk_size`` at a time (fewer when they would hold
    more than ``CHUNK_POINTS`` points), seeded by their global index, so the results do
    not depend on ``chunk_size``; between chunks a keyboard
    interrupt stops the study and ``progress(done, total)`` (in datasets x strategies) is
    called. With a ``distributed.Client`` as ``client``, the chunks run as tasks on its
    cluster, with the same results; ``seconds`` then adds up the workers' fitting time.

    Parameters
    ----------
    weights, means, variances : array of shape (K,)
        The true mixture; ``K`` is also the number of components fitted.
    n_samples : int or iterable of int
        Points per dataset, one design cell each.
    replications : int
        Datasets per design cell.
    init : str or iterable of str
        Starting-value strategies to compare (see :func:`fastem.fit`).
    n_init : int
        Restarts per dataset.
    random_state : int
        Seeds the simulation (per design cell) and the starts; the same value gives the
        same table, whatever the number of threads or the chunk size.
    init_params : dict, optional
        ``{strategy: params}`` for strategies that take options (``"emem"``).
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
    sizes = [n_samples] if np.ndim(n_samples) == 0 else list(n_samples)
    if not sizes:
        raise ValueError("n_samples is empty; give one sample size or a list of them, e.g. "
                         "n_samples=[40, 100].")
    sizes = [_validate.check_int("n_samples", n, 1) for n in sizes]
    replications = _validate.check_int("replications", replications, 1)
    chunk_size = _validate.check_int("chunk_size", chunk_size, 1)
    strategies = [init] if isinstance(init, str) else list(init)
    for strategy in strategies:
        _validate.check_choice("init", strategy, STRATEGY_NAMES)
    n_init = _validate.check_int("n_init", n_init, 1)
    trace = _validate.check_bool("trace", trace)
    seed = _validate.check_random_state(random_state)
    _validate.check_not_given("fastem.study", fit_options, ("dataset_offset", "warn"))
    truth = tuple(np.asarray(a, dtype=np.float64) for a in (weights, means, variances))
    n_components = truth[1].size
    init_params = init_params or {}
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
    total = len(sizes) * len(strategies) * replications
    done = 0
    # Compile (or load) the kernels first, so that ``seconds`` times fitting only.
    tiny, _ = simulate(*truth, max(10, 2 * n_components), 1, 0)
    for strategy in strategies:
        _quiet_fit(tiny, n_components, init=strategy, max_iter=2,
                   init_params=init_params.get(strategy))

    rows, timing, cells = [], [], []
    for cell_index, size in enumerate(sizes):
        state = np.random.SeedSequence([seed, cell_index]).generate_state(1, np.uint64)[0]
        cell_seed = int(state >> np.uint64(1))
        cell = {
            s: StudyCell(size, s, 1 if s == "quantile" else n_init) for s in strategies
        }
        plans = {s: dict(n_init=c.n_init, init=s, random_state=cell_seed,
                         init_params=init_params.get(s), **fit_options) for s, c in cell.items()}
        chunks = chunk_plan(replications, size, chunk_size)
        arguments = [(truth, size, count, cell_seed, start, n_components, plans, trace)
                     for start, count in chunks]
        for (_, count), outcome in zip(chunks, _run_all(arguments, client)):
            for strategy, (result, seconds, traced) in outcome.items():
                accumulated = cell[strategy]
                accumulated.seconds += seconds
                accumulated.add(result, truth)
                if traced is not None:
                    accumulated.trace, accumulated.example = traced
            done += count * len(strategies)
            if progress is not None:
                progress(done, total)
        for accumulated in cell.values():
            accumulated.finish()
        best = np.max([c.log_likelihood for c in cell.values()], axis=0)
        for accumulated in cell.values():
            row = _row(accumulated, best, truth, at_best_tol,
                       bootstrap_seed=(seed, cell_index, _BOOTSTRAP_STREAM))
            rows.append(row)
            timing.append({**{name: row[name] for name in _CELL}, **_timing(accumulated)})
            cells.append(accumulated)
    return StudyResult(_table(rows), _table(timing), truth, cells)


def _table(rows) -> Table:
    return Table({name: [row[name] for row in rows] for name in rows[0]})


def chunk_plan(replications, size, chunk_size=DEFAULT_CHUNK):
    """``[(first dataset, number of datasets)]``: at most ``chunk_size`` datasets and
    ``CHUNK_POINTS`` points a chunk (at least one dataset)."""
    step = max(1, min(chunk_size, CHUNK_POINTS // size))
    return [(start, min(step, replications - start)) for start in range(0, replications, step)]


def _run_chunk(truth, size, count, cell_seed, start, n_components, plans, trace):
    """Simulate datasets ``start:start + count`` of a cell and fit them with each strategy:
    ``{strategy: (FitResult, seconds, (traces, first dataset) or None)}``."""
    data, _ = simulate(*truth, size, count, cell_seed, dataset_offset=start)
    outcome = {}
    for strategy, options in plans.items():
        began = time.perf_counter()
        result = _quiet_fit(data, n_components, dataset_offset=start, **options)
        seconds = time.perf_counter() - began
        traced = None
        if trace and start == 0:
            traces = _quiet_fit(data[:N_TRACED], n_components, trace=True, **options).trace
            traced = (traces, data[0])
        outcome[strategy] = (result, seconds, traced)
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


def _row(cell: StudyCell, best, truth, at_best_tol, bootstrap_seed):
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
    iter_mcse = mcse.bootstrap_mcse(iterations, _iteration_quantiles, N_BOOTSTRAP,
                                    bootstrap_seed)
    iter_median, iter_p90 = _iteration_quantiles(iterations)
    row = _columns(_Outcome(
        n_samples=cell.n_samples,
        init=cell.init,
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
        init_iter=cell.init_n_iter.mean(),
        init_iter_mcse=mcse.clustered_mean_mcse(cell.init_n_iter),
        at_best=np.mean(at_best),
        at_best_mcse=mcse.clustered_mean_mcse(at_best),
    ))
    for name, fitted, true in zip(PARAMETERS, (cell.weights, cell.means, cell.variances), truth):
        for k in range(truth[1].size):
            measures = mcse.performance(fitted[:, k], true[k])
            for statistic in PARAMETER_STATISTICS:
                row[_parameter_column(name, k, statistic)] = getattr(measures, statistic)
    return row


def _iteration_quantiles(iterations) -> tuple[float, float]:
    """The median and 90th percentile of the iterations of all fits."""
    median, p90 = np.percentile(iterations, (50, 90))
    return float(median), float(p90)


def _timing(cell: StudyCell) -> dict:
    n_fits = cell.restart_n_iter.size
    iterations = cell.restart_n_iter.sum() + cell.init_n_iter.sum()
    work = float(cell.n_samples) * cell.means.shape[1] * iterations
    return _columns(_Speed(
        seconds=cell.seconds,
        fits_per_s=n_fits / cell.seconds,
        mega_throughput=work / cell.seconds / 1e6,
    ))
