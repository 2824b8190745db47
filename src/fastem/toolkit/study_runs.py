"""Running a Monte Carlo study's design cells: the kernels compiled first, each cell's
datasets simulated and fitted a chunk at a time by every method, and the finished cells
made into the study's tables."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .. import api, search
from ..init._registry import DETERMINISTIC
from ..table import Table
from . import mcse
from .simulation import simulate
from .study_checkpoint import checkpointed_chunks
from .study_chunks import RawBlocks, check_memory, chunk_plan
from .study_measures import best_regular, climbs, likelihood_ratios
from .study_results import CellSums, Scenario, StudyCell, StudyResult
from .study_table import (
    CELL_COLUMNS,
    N_BOOTSTRAP,
    PARAMETERS,
    parameter_column,
    raw_rows,
    row_of,
    table_of_rows,
    timing_of,
    with_variables,
)
from .study_tests import StudyTest, TestSums, run_test

N_TRACED = 20
"""Datasets of each cell whose restarts' log-likelihood traces ``study(..., trace=True)``
keeps."""

_BOOTSTRAP_STREAM = 1
"""Keys the bootstrap's generator apart from the cell's simulation, both drawn from
``(random_state, cell)``."""


@dataclass(frozen=True)
class Fitting:
    """How every design cell's datasets are fitted: the methods (start strategy, algorithm,
    stopping rule, and penalty as its label and its value), their restarts and options,
    what is kept of their fits, and the ``quantiles`` of the table's quantile columns."""

    methods: list
    n_init: int
    labelled: tuple
    seed: int
    se: str | None
    init_params: dict
    fit_options: dict
    at_best_tol: float
    trace: bool
    keep: bool
    quantiles: tuple = ()
    test: StudyTest | None = None


@dataclass
class Schedule:
    """How the study's work is run and handed on: the replications of each cell in chunks,
    here or on a Dask ``client``, the datasets done of the ``total`` for ``progress``, and
    the ``raw`` rows (``width`` and ``true_width`` components wide, ``restart_width``
    restarts wide, set by :func:`run_study`), and the ``checkpoint`` that keeps each
    finished chunk (a :class:`.study_checkpoint.Checkpoint`, or None)."""

    replications: int
    chunk_size: int
    client: object
    progress: object
    raw: object
    checkpoint: object = None
    total: int = 0
    done: int = 0
    width: int = 0
    true_width: int = 0
    restart_width: int = 0


def run_study(scenarios, sizes, fitted_ks, fitting: Fitting, schedule: Schedule, statistics):
    """The :class:`StudyResult` of every design cell (each of ``scenarios`` at each of
    ``sizes``), fitted with each number of components of ``fitted_ks`` (None: the
    scenario's own) by every method of ``fitting``, as ``schedule`` runs them; the table
    has the columns ``statistics`` of each parameter."""
    fitted = [
        list(dict.fromkeys(sc.arrays()[1].size if k is None else k for k in fitted_ks))
        for sc in scenarios
    ]  # the distinct numbers of components fitted, per scenario
    schedule.width = max(max(ks) for ks in fitted)
    schedule.true_width = max(sc.arrays()[1].size for sc in scenarios)
    schedule.restart_width = max(_restarts(s, fitting.n_init) for s, *_ in fitting.methods)
    check_memory(
        sizes,
        schedule.replications,
        schedule.chunk_size,
        fitting.n_init,
        schedule.width,
        len(fitting.methods) * sum(map(len, fitted)) * len(sizes),
        fitting.keep,
        fitting.se is not None,
    )
    schedule.total = (
        sum(map(len, fitted)) * len(sizes) * len(fitting.methods) * schedule.replications
    )
    if fitting.test is not None:
        fitting.test.check_sizes(sizes)
    _compile_kernels(scenarios[0], fitting)
    design_cells = [
        (scenario, ks, size) for scenario, ks in zip(scenarios, fitted) for size in sizes
    ]
    cells = [
        cell
        for index, (scenario, ks, size) in enumerate(design_cells)
        for cell in _run_cell(fitting, schedule, scenario, size, ks, index)
    ]
    return _study_result(cells, scenarios, schedule.true_width, statistics, fitting.quantiles)


def _compile_kernels(scenario: Scenario, fitting: Fitting) -> None:
    """Compile (or load) the kernels of every method first, so that ``seconds`` times
    fitting only."""
    first = scenario.arrays()
    tiny, _ = simulate(*first, max(10, 2 * first[1].size), 1, 0)
    for strategy, method_algorithm, _, (_, penalty) in fitting.methods:
        _quiet_fit(
            tiny,
            first[1].size,
            penalty=penalty,
            init=search.parse_init(strategy),
            algorithm=method_algorithm,
            max_iter=2,
            se=fitting.se,
            init_params=fitting.init_params.get(strategy),
        )


def _run_cell(fitting: Fitting, schedule: Schedule, scenario: Scenario, size, ks, index) -> list:
    """Every method's :class:`StudyCell` of one design cell (``scenario`` at ``size``
    points; the ``index``-th of the study), for each number of components ``ks``, its
    datasets fitted (or read from the checkpoint) a chunk at a time."""
    truth = scenario.arrays()
    # A cell is seeded by its content (the true mixture and the sample size), not by its
    # place in the design: a scenario studied alone, or beside others, draws the same
    # datasets.
    cell_words = _cell_words(truth, size)
    state = np.random.SeedSequence([fitting.seed, *cell_words]).generate_state(1, np.uint64)[0]
    cell_seed = int(state >> np.uint64(1))
    # The same resamples of the datasets for every method of the cell.
    bootstrap_key = (fitting.seed, *cell_words, _BOOTSTRAP_STREAM)
    cell, plans = _plan_cell(fitting, scenario, size, ks, cell_seed, bootstrap_key)
    blocks = None if schedule.raw is None else RawBlocks(schedule.raw, schedule.replications)
    tested = None if fitting.test is None else TestSums(fitting.test, fitting.keep)
    chunks = checkpointed_chunks(
        schedule.checkpoint,
        index,
        lambda: chunk_plan(schedule.replications, size, schedule.chunk_size),
        lambda start, count: (
            truth,
            size,
            count,
            cell_seed,
            start,
            plans,
            fitting.trace,
            fitting.test,
        ),
        _run_chunk,
        schedule.client,
    )
    for (start, count), (outcome, p) in chunks:
        weights = mcse.poisson_weights(bootstrap_key, start, count, N_BOOTSTRAP)
        chunk_rows = _add_chunk(cell, ks, outcome, start, weights, fitting, schedule)
        if tested is not None:
            tested.add(p)
            for rows in chunk_rows.values():
                rows.update(tested.raw_columns(p))
        if blocks is not None:
            blocks.add(chunk_rows, start + count)
        schedule.done += count * len(plans)
        if schedule.progress is not None:
            schedule.progress(schedule.done, schedule.total)
    for accumulated in cell.values():
        accumulated.finish()
        accumulated.tested = tested  # the same datasets' tests in every row of the cell
    return list(cell.values())


def _plan_cell(fitting: Fitting, scenario: Scenario, size, ks, cell_seed, bootstrap_key):
    """The empty :class:`StudyCell` of each method and number of components of a design
    cell, and the options of their fits: ``({key: StudyCell}, {key: fit options})``, keyed
    by ``(n_components, init, algorithm, stop, penalty)``."""
    truth = scenario.arrays()
    cell, plans = {}, {}
    rivals = (
        len(fitting.methods),
        sum(_restarts(strategy, fitting.n_init) for strategy, *_ in fitting.methods),
    )
    for k in ks:
        for strategy, method_algorithm, method_stop, (label, penalty) in fitting.methods:
            key = (k, strategy, method_algorithm, method_stop, label)
            cell[key] = StudyCell(
                size,
                strategy,
                _restarts(strategy, fitting.n_init),
                scenario=scenario.name,
                variables=scenario.variables,
                at_best_tol=fitting.at_best_tol,
                truth=truth,
                n_components=k,
                algorithm=method_algorithm,
                stop=method_stop,
                penalty=label,
                labelled=fitting.labelled,
                keep=fitting.keep,
            )
            cell[key].sums = CellSums(
                cell[key], fitting.se is not None, bootstrap_key, rivals, k != min(ks)
            )
            plans[key] = dict(
                n_init=cell[key].n_init,
                init=search.parse_init(strategy),
                algorithm=method_algorithm,
                stop=method_stop,
                random_state=cell_seed,
                se=fitting.se,
                init_params=fitting.init_params.get(strategy),
                penalty=penalty,
                **fitting.fit_options,
            )
    return cell, plans


def _add_chunk(cell, ks, outcome, start, weights, fitting: Fitting, schedule: Schedule):
    """A chunk's fits (``outcome`` of :func:`_run_chunk`, datasets from ``start``) into each
    method's cell; returns their raw rows per method (none without ``raw``)."""
    chunk_rows = {}
    ratios = likelihood_ratios(outcome, ks)
    for k in ks:
        same_k = [key for key in outcome if key[0] == k]
        bests = {}  # per penalty (key[4]): methods of one objective are compared
        for label in {key[4] for key in same_k}:
            same = [key for key in same_k if key[4] == label]
            climbing = [key for key in same if climbs(key[2])] or same
            bests[label] = best_regular(
                [_objective(outcome[key][0]) for key in climbing],
                [outcome[key][0].status for key in climbing],
            )
        for key in same_k:
            best = bests[key[4]]
            result, seconds, traced = outcome[key]
            accumulated = cell[key]
            restart_ll = result.restart_log_likelihood
            with np.errstate(invalid="ignore"):
                at_best = (
                    restart_ll >= (best - fitting.at_best_tol * result.n_observations)[:, None]
                )
            at_best &= np.isfinite(restart_ll)
            params, errors = accumulated.estimates(result)
            accumulated.seconds += seconds
            accumulated.sums.times.add(seconds, restart_ll.size)
            if key in ratios:
                accumulated.sums.lr.add(ratios[key])
            accumulated.add(result, params, errors, at_best, start, weights)
            if traced is not None:
                accumulated.trace, accumulated.example = traced
            if schedule.raw is not None:
                chunk_rows[key] = raw_rows(
                    accumulated,
                    result,
                    params,
                    start,
                    (schedule.width, schedule.true_width, schedule.restart_width),
                    errors,
                )
    return chunk_rows


def _objective(result) -> np.ndarray:
    """What a fit maximised, as its restarts' log-likelihoods are: the penalised
    log-likelihood with a penalty, else the log-likelihood."""
    penalised = result.penalized_log_likelihood
    return result.log_likelihood if penalised is None else penalised


def _study_result(cells, scenarios, true_width, statistics, quantiles) -> StudyResult:
    """The table and timing of the finished ``cells``: a row each, in order, with the
    columns of every row (NaN in a row where a measure cannot be computed: the
    likelihood-ratio statistic's of the smallest number of components, a parameter's of
    another number of components than the true one)."""
    rows = [row_of(cell, quantiles) for cell in cells]
    timing = [
        {**with_variables({name: row[name] for name in CELL_COLUMNS}, cell), **timing_of(cell)}
        for cell, row in zip(cells, rows)
    ]
    parameters = [
        parameter_column(name, k, statistic)
        for name in PARAMETERS
        for k in range(true_width)
        for statistic in statistics
    ]
    measures = [
        name for name in dict.fromkeys(n for row in rows for n in row) if name not in parameters
    ]
    table = Table(
        {name: [row.get(name, np.nan) for row in rows] for name in [*measures, *parameters]}
    )
    return StudyResult(table, table_of_rows(timing), scenarios[0].arrays(), cells, tuple(scenarios))


def _cell_words(truth, size) -> list[int]:
    """The entropy of a cell's seed: its sample size and the bits of its true weights,
    means and variances, as 32-bit words."""
    bits = np.concatenate([np.asarray(a, dtype=np.float64) + 0.0 for a in truth])
    return [size, *np.frombuffer(bits.tobytes(), dtype=np.uint32).tolist()]


def _restarts(strategy: str, n_init: int) -> int:
    """A method's restarts: ``n_init``, one for a deterministic strategy ("quantile",
    "hc"), and a pool's own total."""
    pool = search.parse_init(strategy)
    if isinstance(pool, dict):
        return sum(pool.values())
    return 1 if strategy in DETERMINISTIC else n_init


def _run_chunk(truth, size, count, cell_seed, start, plans, trace, test=None):
    """Simulate datasets ``start:start + count`` of a cell and fit them with each method
    (``plans``: ``{(n_components, init, algorithm, stop, penalty): fit options}``), and
    test them (``test``, or None): ``({key: (FitResult, seconds, (traces, first dataset)
    or None)}, p-values or None)``."""
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
    return outcome, None if test is None else run_test(test, data, start, cell_seed)


def _quiet_fit(data, n_components, **options):
    # Collapses and non-convergence are what the study counts, not news.
    return api.fit(data, n_components, warn=False, **options)
