"""Monte Carlo studies of EM: simulate from known mixtures, fit, and tabulate.

:func:`study` checks its options here; the run of each design cell is
:mod:`.study_runs`' job, what it gives :mod:`.study_results`', the columns and rows of its
tables :mod:`.study_table`', and its chunks :mod:`.study_chunks`'."""

from __future__ import annotations

import numpy as np

from .. import api, search
from .. import checks as _validate
from .. import options as _options
from ..init._registry import NAMES as STRATEGY_NAMES
from ..priors import labelled_penalties
from .study_checkpoint import open_checkpoint
from .study_chunks import (
    CHUNK_POINTS,
    DEFAULT_CHUNK,
    RAW_BLOCK,
    chunk_plan,
    kept_bytes,
)
from .study_measures import QUANTILES, check_quantiles
from .study_results import Scenario, StudyCell, StudyResult, named_scenarios
from .study_runs import N_TRACED, Fitting, Schedule, run_study
from .study_table import (
    N_BOOTSTRAP,
    PARAMETER_STATISTICS,
    PARAMETERS,
    SE_STATISTICS,
    UNMOVED_BOUND,
    blank_missing,
    with_mcse_in_parentheses,
)
from .study_tests import StudyTest

__all__ = [
    "CHUNK_POINTS",
    "DEFAULT_CHUNK",
    "N_BOOTSTRAP",
    "N_TRACED",
    "PARAMETERS",
    "RAW_BLOCK",
    "UNMOVED_BOUND",
    "Scenario",
    "StudyCell",
    "StudyResult",
    "chunk_plan",
    "kept_bytes",
    "blank_missing",
    "study",
    "with_mcse_in_parentheses",
]
"""The study's names, some of them at home in the modules it is built from (its results,
tables and chunks) and kept importable from here, where they were first."""


def _own(
    weights=None,
    means=None,
    variances=None,
    n_samples=(40,),
    replications=1000,
    *,
    scenarios=None,
    at_best_tol=1e-4,
    quantiles=QUANTILES,
    chunk_size=DEFAULT_CHUNK,
    progress=None,
    client=None,
    keep_replications=True,
    raw=None,
    test=None,
    checkpoint=None,
    resume=False,
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
    then fits the same datasets with ``n_init`` restarts ("quantile" and "hc", which are
    deterministic, with one) from the same starts, for each number of components in
    ``n_components`` (default: the scenario's), so that differences between methods are
    paired. One row per design cell, fitted number of components and method:

    - ``converged``: share of all fits (every restart of every dataset) that met ``tol``;
    - ``failed``: share of all fits that failed as turboEM's ``turboSim`` counts failures
      (an error, or no convergence within ``max_iter``): not converged, collapsed (status
      ``VARIANCE_FLOORED``: where an EM without fastem's floor would stop on a zero
      variance) or non-finite (``NON_FINITE``);
    - ``spurious``: share of datasets whose chosen fit is a spurious maximum or collapsed
      (status ``SPURIOUS`` or ``VARIANCE_FLOORED``, by the ``spurious`` rule of
      :func:`fastem.fit`, :class:`fastem.SpuriousRule`);
    - ``iter_median``, ``iter_p90``: iterations (accepted steps) over all fits;
      ``passes_median``: EM maps (passes over the data) over all fits, which SQUAREM
      spends differently from its steps; ``passes_mean`` their mean (turboSim's
      ``fpeval``); ``passes_p90``, ... one column per ``quantiles``; ``init_iter``: mean
      EM iterations spent on starting values per fit (emEM's short runs);
    - ``at_best``: share of all fits (restarts) whose final log-likelihood is within
      ``at_best_tol`` per point of the best any method found for that dataset with the
      same number of components (turboSim's ``objfn <= min(objfn) + eps``, per point);
      blank (NaN) where the methods together ran one restart per dataset, which makes it
      1 by construction;
    - ``found_best``: share of datasets whose chosen fit (the best of its method's
      restarts) is within ``at_best_tol`` per point of the best any method found: what a
      user of the method gets; blank with one method;
    - ``lr_mean``, ``lr_sd``, ``lr_p90``, ... (with several numbers of components
      fitted): the likelihood-ratio statistic ``-2 log lambda = 2 (l_K - l_K')`` of each
      dataset's chosen fits of the row's ``K`` and of ``K'``, the next smaller number of
      components in ``n_components``, by the same method on the same datasets: its mean,
      standard deviation and quantiles; blank in the rows of the smallest ``K``;
    - ``rate_median``, ``parameter_rate_median``: medians over datasets of the chosen
      fits' :attr:`fastem.FitResult.rate` and ``parameter_rate`` (lambda, EM's rate of
      convergence), NaN ones left out;
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
    - ``failed_mcse``, ``passes_mean_mcse``: as ``converged_mcse``;
      ``found_best_mcse``: ``sqrt(p (1 - p) / replications)``;
    - ``lr_mean_mcse``: ``SD / sqrt(n)``; ``lr_sd_mcse``: the delta method without
      normality, ``sqrt(Var(s^2)) / (2 s)``, ``Var(s^2) = (m4 - (n - 3) s^4 / (n - 1)) / n``;
      the passes' quantiles (``passes_p95_mcse``): the bootstrap, as
      ``iter_median_mcse``; those of continuous measures (``lr_p95_mcse``,
      ``rate_median_mcse``, ``parameter_rate_median_mcse``): from the order statistics,
      ``sqrt(q (1 - q) / n) / f``, the density's reciprocal ``1 / f`` a difference
      quotient of the sample quantiles (``fastem.toolkit.study_measures.quantile_mcse``),
      blank where the sample is too small for the tail;
    - ``_bias_mcse``: ``SD / sqrt(n)``; ``_empse_mcse``: ``EmpSE / sqrt(2 (n - 1))``
      (for normally distributed estimates); ``_rmse_mcse``: the delta method,
      ``MCSE(MSE) / (2 RMSE)``, with ``MCSE(MSE) = sqrt(sum_i (e_i^2 - MSE)^2 /
      (n (n - 1)))`` for errors ``e_i``.

    :func:`fastem.plan_replications` gives the replications needed for a target MCSE.

    ``timing`` has, per row, ``seconds``, ``fits_per_s``, ``ms_per_fit`` (with its MCSE
    over the chunks, the ratio estimator's: blank with one chunk) and
    ``mega_throughput``: wall time of the fits (the kernels are compiled before timing
    starts), and millions of points x components x passes over the data (EM maps, emEM's
    included) per second.

    Datasets are simulated and fitted in chunks (``chunk_size``), seeded by their global
    index, so the results do not depend on the chunking; between chunks a keyboard
    interrupt stops the study.

    ``StudyResult.raw()`` has every replication's chosen fit, for analyses of one's own.

    With ``test`` (a ``fastem.toolkit.study_tests.StudyTest``, e.g.
    ``study_test("bootstrap_lrt", k0=1, levels=[0.05], n_boot=[19, 39, 59])``), every
    dataset of a design cell is also tested (``k0`` against ``k0 + 1`` components), and
    every row of the cell has the test's columns: ``test_failed`` (the share of datasets
    the test could not be made on, left out of the rates), ``reject_05`` (the rejection
    rate at level 0.05, at the largest bootstrap size) and, with several sizes, Boos &
    Zhang's extrapolation to ``B = infinity``, ``reject_05_bz``, and the rates at the
    smaller sizes, ``reject_05_b19``, each with its MCSE; the raw rows have each dataset's
    ``p_value`` (and ``p_value_b19``, ...). :doc:`/guide/studies` has the formulas.

    Memory: the table is computed from counts and exact sums kept per cell a chunk at a
    time, and the bootstrap's resamples are Poisson counts drawn per dataset (the same in
    any chunking), so with ``keep_replications=False`` memory grows with the replications
    only by the values of the continuous measures whose quantiles the table has (8 bytes
    per replication each); ``raw`` then receives the raw rows as they come. A chunk's fits, a
    dataset's points and the kept arrays are checked against the machine's memory before
    any work.

    Parameters
    ----------
    weights, means, variances : array of shape (K,)
        The true mixture, when there is one scenario.
    n_samples : int or iterable of int, default (40,)
        Points per dataset, one design cell each.
    replications : int, default 1000
        Datasets per design cell.
    scenarios : iterable of Scenario (or of (weights, means, variances)), optional
        Several true mixtures instead of one, e.g. a grid over separation and mixing
        proportion; a design cell each, with every sample size.
    at_best_tol : float, default 1e-4
        Per point: a fit whose final log-likelihood is within this of the best any method
        found for its dataset counts in ``at_best``.
    quantiles : float or iterable of float, default (0.9, 0.95, 0.99)
        Quantiles (strictly between 0 and 1) of the passes and of the likelihood-ratio
        statistic, each a column with its MCSE (``passes_p95``, ``lr_p95``, ...); ``()``
        for none.
    chunk_size : int, default 2000
        Datasets simulated and fitted at a time (fewer when they would hold more than
        ``CHUNK_POINTS`` points); the results do not depend on it.
    progress : callable, optional
        Called as ``progress(done, total)``, in datasets x strategies, after every chunk.
    client : distributed.Client, optional
        Run the chunks as tasks on its Dask cluster, with the same results; ``seconds``
        then adds up the workers' fitting time.
    init : str or iterable of str, default ("kmeans++",)
        Starting-value strategies to compare (see :func:`fastem.fit`); a pool of them is
        written ``"random=10,kmeans++=10"`` (its restarts, the best of all kept, as
        EMMIX does; ``n_init`` does not apply to it).
    algorithm, stop : str or iterable of str, default ("em",) and ("loglik",)
        Algorithms and stopping rules to compare, as :func:`fastem.fit` takes them.
    n_components : int or iterable of int (or None), optional
        Components fitted, each its own rows; None (the default, or in the list) is each
        scenario's own number.
    n_init : int, default 5
        Restarts per dataset.
    random_state : int, default 0
        Seeds the simulation (per design cell) and the starts; the same value gives the
        same table, whatever the number of threads or the chunk size.
    init_params : dict, optional
        ``{strategy: params}`` for strategies that take options (``"emem"``).
    se : {"score", "louis"}, optional
        Standard errors of every fit, and the coverage and relative error columns.
    trace : bool, default False
        Keep the log-likelihood traces of the restarts of the first ``N_TRACED`` datasets
        of each cell (``StudyCell.trace``, for the figure of traces): ``8 * (max_iter + 1)``
        bytes per restart.
    keep_replications : bool, default True
        Keep every replication's fits in the cells (``StudyCell.weights`` and the other
        per-replication arrays; :meth:`StudyResult.raw`; the figures of
        :mod:`fastem.plots`): ``2 * (41 n_init + 24 n_components (1 + se) + 88)`` bytes
        per replication and row of the table, 0.7 KiB with 5 restarts and 2 components.
        With False the cells keep only their sums and the values of the continuous
        measures whose quantiles the table has (``rate``, ``parameter_rate`` and the
        likelihood-ratio statistic: 8 bytes each per replication), and memory grows
        only by these; the table is the same.
    raw : callable, optional
        Called with the rows of :meth:`StudyResult.raw` as they come, a :class:`Table` at a
        time: per design cell, blocks of ``RAW_BLOCK`` replications, each method's rows
        in the table's order within a block (a study of at most ``RAW_BLOCK`` replications
        gives them in ``raw()``'s order), the same however the study is chunked.
    test : StudyTest, optional
        A test of the number of components run on every dataset of each cell (above).
    checkpoint : str or path, optional
        A directory (created if missing) where each finished chunk is written at once, in
        a file of its own (``fastem.toolkit.study_checkpoint``): a study stopped at any
        point, even by ``kill -9``, resumes from there with ``resume=True``. A directory
        holding another study's chunks, or files of its own, is refused.
    resume : bool, default False
        Continue the study in ``checkpoint``: its chunks are read back, not fitted again,
        and the result (table, raw rows, figures; not the timing) is the same, bit for
        bit, as an uninterrupted run's; a study with other settings is refused, naming
        them. With no study in ``checkpoint`` yet, one is started.
    tol, max_iter, reg_variance, equal_variance, ...
        The other options of :func:`fastem.fit`, passed to it.

    Returns
    -------
    StudyResult
        ``.table`` is the table above, ``.timing`` the timing; ``str(result)`` prints both.

    See Also
    --------
    fastem.Design : these settings in one value, with the defaults of ``fastem study``
        (``Design(...).run()``).

    Examples
    --------
    Two sample sizes, two start strategies, 20 replications (a real study runs
    thousands): one row per cell and strategy.

    >>> result = fastem.study([0.5, 0.5], [-2.0, 2.0], [1.0, 1.0], n_samples=[50, 100],
    ...                       replications=20, init=["kmeans++", "quantile"], n_init=2)
    >>> len(result.table)
    4
    >>> result.table["n_samples"]
    array([ 50,  50, 100, 100])
    >>> result.table["init"].tolist()
    ['kmeans++', 'quantile', 'kmeans++', 'quantile']
    >>> result.table["converged"]
    array([1., 1., 1., 1.])
    """
    a = _options.bound(study, args, kwargs)
    weights, means, variances = a.pop("weights"), a.pop("means"), a.pop("variances")
    n_samples, replications, scenarios = (
        a.pop(n) for n in ("n_samples", "replications", "scenarios")
    )
    init, algorithm, stop = a.pop("init"), a.pop("algorithm"), a.pop("stop")
    penalties = labelled_penalties(a.pop("penalty"))
    n_components, n_init, random_state = (
        a.pop(n) for n in ("n_components", "n_init", "random_state")
    )
    init_params, at_best_tol, chunk_size = (
        a.pop(n) for n in ("init_params", "at_best_tol", "chunk_size")
    )
    quantiles = check_quantiles(a.pop("quantiles"))
    progress, client, trace, se = a.pop("progress"), a.pop("client"), a.pop("trace"), a.pop("se")
    keep_replications, raw = a.pop("keep_replications"), a.pop("raw")
    test, checkpoint, resume = a.pop("test"), a.pop("checkpoint"), a.pop("resume")
    if test is not None and not isinstance(test, StudyTest):
        raise TypeError(f"test must be a StudyTest (study_tests.study_test(...)), got {test!r}.")
    # The other options of fastem.fit go on to it as they were given.
    fit_options = {name: value for name, value in a.items() if name in kwargs}
    scenarios = named_scenarios(weights, means, variances, scenarios)
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
    labelled = _labelled(scenarios, strategies, algorithms, stops, penalties)
    methods = [
        (s, a, r, p) for s in strategies for a in algorithms for r in stops for p in penalties
    ]
    if trace:
        _check_trace_memory(fit_options, replications, n_init)
    fitting = Fitting(
        methods=methods,
        n_init=n_init,
        labelled=labelled,
        seed=seed,
        se=se,
        init_params=init_params,
        fit_options=fit_options,
        at_best_tol=at_best_tol,
        trace=trace,
        keep=keep_replications,
        quantiles=quantiles,
        test=test,
    )
    schedule = Schedule(replications, chunk_size, client=client, progress=progress, raw=raw)
    schedule.checkpoint = open_checkpoint(
        checkpoint, resume, (scenarios, sizes, fitted_ks), fitting, schedule, a
    )
    try:
        return run_study(scenarios, sizes, fitted_ks, fitting, schedule, statistics)
    finally:
        if schedule.checkpoint is not None:
            schedule.checkpoint.close()  # its lock, on any exit


def _labelled(scenarios, strategies, algorithms, stops, penalties) -> tuple:
    """The names that label a study's methods (and figures' panels): those that vary,
    and always ``"init"``."""
    return tuple(
        name
        for name, values in (
            ("scenario", scenarios),
            ("init", strategies),
            ("algorithm", algorithms),
            ("stop", stops),
            ("penalty", penalties),
        )
        if len(values) > 1 or name == "init"
    )


def _check_trace_memory(fit_options, replications: int, n_init: int) -> None:
    """Refuse, before any work, traces (``trace=True``) that would not fit in memory."""
    max_iter = fit_options.get("max_iter", api.DEFAULT_MAX_ITER)
    max_iter = _validate.check_int("max_iter", max_iter, 1, _validate.MAX_ITER_LIMIT)
    _validate.check_memory(
        8.0 * min(N_TRACED, replications) * n_init * (max_iter + 1),
        f"keeping traces (trace=True) of {n_init} restart(s) of {N_TRACED} datasets for "
        f"max_iter={max_iter}",
        "Use a smaller max_iter, or no traces (trace=False; without --plot on the command line).",
    )


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


def _choices(name, values, allowed) -> list:
    values = [values] if isinstance(values, str) else list(values)
    if not values:
        raise ValueError(f"{name} is empty; give at least one of {', '.join(allowed)}.")
    return [_validate.check_choice(name, value, allowed) for value in dict.fromkeys(values)]
