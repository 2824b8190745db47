"""``fastem.fit``: many 1D Gaussian mixtures, many restarts, one call.

Its options, their defaults, documentation and checks are the table of
:mod:`fastem.options`; this module runs the steps of a fit in order.
"""

from __future__ import annotations

import warnings

import numpy as np

from . import batch as _batch
from . import checks as _validate
from . import options as _options
from . import priors as _priors
from . import search
from .engine import run as _em
from .init._registry import DETERMINISTIC
from .options import ALGORITHMS, DEFAULT_MAX_ITER, DEFAULT_TOLS, SE_METHODS, STOPPING_RULES
from .restarts import Choice, Stopping, best_of_restarts
from .result import FitResult, squeeze

__all__ = [
    "ALGORITHMS",
    "DEFAULT_MAX_ITER",
    "DEFAULT_TOLS",
    "SE_METHODS",
    "STOPPING_RULES",
    "fit",
    "warn_few_counts",
]

DEFAULT_TOL = DEFAULT_TOLS["loglik"]
DEFAULT_REG_VARIANCE = _options.DEFAULTS["reg_variance"]
DEFAULT_SPURIOUS = _options.DEFAULTS["spurious"]
"""The rule for spurious maxima by default (see :class:`fastem.SpuriousRule`)."""
PARAMETER_TOL_FLOAT32 = 1e-7
"""The parameter rule's default ``tol`` with ``dtype=np.float32``, whose E-step resolves the
maximum to about 1e-8 relative and no finer."""


def _data(data):
    """:func:`fit`'s own parameter; its options are the table's."""


@_options.derived(_data)
def fit(data, *args, **kwargs) -> FitResult:
    """Fit a Gaussian mixture by EM to every dataset, with ``n_init`` restarts each.

    Every (dataset, restart) pair is an independent fit; all of them run in one
    parallel loop. Each dataset keeps its restart with the highest log-likelihood.

    Parameters
    ----------
    data : array of shape (n_samples,) or (n_datasets, n_samples), or list of 1D arrays
        One dataset, one dataset per row, or datasets of different lengths. Integer
        and float32 data are computed in float64.
    {fit options}

    Returns
    -------
    FitResult

    Examples
    --------
    One dataset, a 1D array: its result has no dataset axis.

    >>> rng = np.random.default_rng(0)
    >>> x = np.concatenate([rng.normal(-3, 1, 300), rng.normal(3, 1, 200)])
    >>> result = fastem.fit(x, 2, n_init=4, random_state=0)
    >>> np.round(result.means, 1), np.round(result.weights, 1)
    (array([-3.,  3.]), array([0.6, 0.4]))

    A thousand datasets of 200 points, one per row, in one call:

    >>> data, labels = fastem.simulate([0.5, 0.5], [-2.0, 2.0], [1.0, 1.0], 200,
    ...                                n_datasets=1000, random_state=1)
    >>> batch = fastem.fit(data, 2, n_init=3, random_state=0)
    >>> batch.means.shape
    (1000, 2)
    >>> int(np.count_nonzero(batch.status == fastem.Status.CONVERGED))
    1000

    Restarts in rounds until the search for the best maximum has settled:

    >>> auto = fastem.fit(x, 2, n_init="auto", random_state=0)
    >>> bool(auto.settled), int(auto.n_restarts), int(auto.n_maxima)
    (True, 10, 1)
    """
    settings = _settings(_options.bound(fit, (data, *args), kwargs))
    batch = _batch.prepared_batch(
        settings["data"],
        settings["sample_weight"],
        settings["n_components"],
        first=settings["dataset_offset"],
        sample_weight_type=settings["sample_weight_type"],
    )
    if settings["warn"] and settings["sample_weight_type"] == "frequency":
        _warn_few_counts(_batch.few_counts(batch, settings["dataset_offset"]), stacklevel=3)
    given, model, n_given = _given_and_model(settings, batch)
    if not settings["auto"] and settings["algorithm"] != "sem":  # SEM's restarts draw apart
        _warn_identical_restarts(settings["n_init"], settings["init"], given)
    rounds = _restarts(settings, batch, model, given, n_given)
    result = best_of_restarts(
        batch,
        model,
        given,
        rounds,
        Stopping(settings["tol"], settings["max_iter"], settings["algorithm"], settings["stop"]),
        Choice(
            skip_degenerate=settings["skip_degenerate"],
            sort_components=settings["sort_components"],
            spurious_rule=settings["spurious"],
            se=settings["se"],
            unseen_tol=settings["unseen_tol"],
            auto_search=settings["auto"],
        ),
        starts_moved=any(s.kernel is None for s, _, _ in settings["pool"]),
    )
    if settings["warn"]:
        result.warn(stacklevel=2)
    return squeeze(result) if batch.single else result


def _settings(arguments: dict) -> dict:
    """The call's arguments by name, each option checked (:func:`fastem.options.checked`),
    with what follows from several of them: ``auto`` (``n_init="auto"``), ``pool`` (the
    strategies and their restarts), ``tol`` (the stopping rule's own by default) and
    ``trace_length`` (log-likelihoods kept per fit)."""
    settings = {**arguments, **_options.checked(arguments)}
    settings["auto"] = settings["n_init"] == "auto"
    settings["pool"] = search.checked_pool(
        settings["init"], settings["init_params"], settings["auto"]
    )
    if settings["tol"] is None:
        float32 = settings["stop"] == "parameter" and settings["dtype"] == np.float32
        settings["tol"] = PARAMETER_TOL_FLOAT32 if float32 else DEFAULT_TOLS[settings["stop"]]
    settings["trace_length"] = _validate.check_trace(settings["trace"], settings["max_iter"])
    _priors.check_algorithm(settings["penalty"], settings["prior"], settings["algorithm"])
    return settings


def _given_and_model(settings: dict, batch):
    """The given starting values (:class:`fastem.checks.Given`), the model and the number
    of restarts the given values make, checked against the data and each other, and the
    fits' memory against the machine's."""
    auto, n_init, pool = settings["auto"], settings["n_init"], settings["pool"]
    if not auto:
        pool, n_init = search.fixed_pool(pool, n_init)
        settings["pool"], settings["n_init"] = pool, n_init
    n_given = _given_restarts(n_init, [settings[name] for name in _options.STARTS], batch)
    per_dataset = settings["max_init"] + n_given if auto else n_init
    _check_fit_memory(
        batch.n_datasets
        * sum(search.slots(s, o, c) for s, o, c in pool)
        * per_dataset
        // max(sum(c for _, _, c in pool), 1),
        settings["n_components"],
        settings["trace_length"],
    )
    given = _batch.check_starting_values(
        *(settings[name] for name in _options.STARTS),
        n_datasets=batch.n_datasets,
        n_init=n_given if auto else n_init,
        n_components=settings["n_components"],
        single=batch.single,
        equal_variance=settings["equal_variance"],
    )
    model = _validate.check_model(
        settings["n_components"],
        settings["reg_variance"],
        settings["equal_variance"],
        settings["equal_weights"],
        given,
        fix_weights=settings["fix_weights"],
        fix_means=settings["fix_means"],
        fix_variances=settings["fix_variances"],
        penalised_by=_priors.Penalty.of(settings["penalty"], settings["prior"]),
    )
    return given, model, n_given


def _restarts(settings: dict, batch, model, given, n_given) -> search.Rounds:
    """Every restart of every dataset, run: in rounds until settled with ``n_init="auto"``,
    else the pool's ``n_init`` restarts at once."""
    run_options = dict(
        max_iter=settings["max_iter"],
        tol=settings["tol"],
        algorithm=settings["algorithm"],
        stop=settings["stop"],
        trace_length=settings["trace_length"],
        dtype=settings["dtype"],
        seed=settings["random_state"].random_state,  # SEM's draws
    )
    pool, seed = settings["pool"], settings["random_state"]
    if settings["auto"]:
        return search.run_rounds(
            pool,
            batch,
            model,
            seed,
            given,
            n_given,
            run_options,
            max_init=settings["max_init"],
            unseen_tol=settings["unseen_tol"],
            skip_degenerate=settings["skip_degenerate"],
            spurious_rule=settings["spurious"],
            keep_starts=settings["return_restarts"],
        )
    n_init = settings["n_init"]
    weights, means, variances, init_n_iter = search.pooled_values(pool, batch, model, seed, given)
    keep = settings["return_restarts"]
    starts = (weights.copy(), means.copy(), variances.copy()) if keep else None
    run = _em.run(batch, model, weights, means, variances, **run_options)
    n_restarts = np.full(batch.n_datasets, n_init, dtype=np.int64)
    return search.Rounds(weights, means, variances, run, init_n_iter, n_restarts, starts)


def _given_restarts(n_init, given, batch) -> int:
    """Restarts the given starting values make: with ``n_init="auto"``, those of the
    largest given array (shape (n_datasets, G, K), or (G, K) for one dataset), run in the
    first round besides the strategies' (0 when none is given); else ``n_init``."""
    if n_init != "auto":
        return n_init
    counts = [0]
    for value in given:
        if value is not None:
            shape = np.shape(value)
            counts.append(shape[-2] if len(shape) == 3 or (len(shape) == 2 and batch.single) else 1)
    return max(counts)


def warn_few_counts(data, sample_weight, n_components, stacklevel):
    """The warning of :func:`fit` about frequency weights that look like probabilities,
    for callers that fit with ``warn=False`` (data already checked by such a fit)."""
    if sample_weight is not None:
        batch = _batch.prepared_batch(data, sample_weight, n_components)
        _warn_few_counts(_batch.few_counts(batch), stacklevel + 1)


def _warn_few_counts(message, stacklevel):
    if message is not None:
        warnings.warn(message[0].upper() + message[1:], UserWarning, stacklevel=stacklevel)


def _check_fit_memory(n_fits, n_components, trace_length):
    """The fits' arrays (:func:`fastem.checks.fit_bytes` each) must fit in memory."""
    per_fit = _validate.fit_bytes(n_components, trace_length)
    fix = "Fit fewer datasets or restarts per call (dataset_offset keeps the seeding of chunks)" + (
        ", or keep a shorter trace (trace=L or a smaller max_iter)." if trace_length else "."
    )
    _validate.check_memory(n_fits * per_fit, f"{n_fits} fits", fix)


def _warn_identical_restarts(n_init, init, given):
    """Restarts that cannot differ are wasted work; say so once."""
    if n_init == 1 or not isinstance(init, (str, type(None))):
        return
    if given.means is not None and all(value is None or value.strides[1] == 0 for value in given):
        reason = "means_init (with the other starting values) is the same for every restart"
    elif init in DETERMINISTIC and all(value is None for value in given):
        reason = f"init={init!r} is deterministic"
    else:
        return
    warnings.warn(
        f"n_init={n_init} restarts all start from the same values ({reason}), so they give "
        "identical fits; use n_init=1, or give starting values of shape (n_datasets, n_init, K).",
        UserWarning,
        stacklevel=3,
    )
