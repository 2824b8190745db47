"""The parametric bootstrap likelihood-ratio test for the number of components
(McLachlan 1987), for many datasets in one call."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import checks as _validate
from .. import options as _options
from .. import search
from ..api import warn_few_counts
from ..engine.status import Status
from ..result import squeeze
from ..spurious import check_rule
from . import refit as _refit
from . import replicates as _replicates
from .lrt_result import LRTResult, Tests, p_values, result_of_tests

VARIANCES = tuple(sorted(_validate.VARIANCE_MODELS, reverse=True))
"""The variance models, the default ("unequal") first."""


def _own(
    data,
    max_components=5,
    n_boot=999,
    *,
    variance="unequal",
    n_init_data="auto",
    level=0.05,
    sequential=True,
    progress=None,
):
    """:func:`bootstrap_lrt`'s own parameters; those of :func:`fastem.fit` it takes are the
    table's (:mod:`fastem.options`, ``toolkit``), with its defaults."""


@_options.derived(_own, entry="bootstrap_lrt")
def bootstrap_lrt(data, *args, **kwargs) -> LRTResult:
    """Choose the number of components by parametric bootstrap likelihood-ratio tests.

    For ``K = 1, 2, ..., max_components - 1``: fit ``K`` and ``K + 1`` components to the
    data, draw ``n_boot`` datasets of the same size from the fitted ``K`` component
    mixture, refit both models to each, and compare the observed statistic ``2 (l_{K+1} -
    l_K)`` with the replicates' (McLachlan 1987; R's ``mclust::mclustBootstrapLRT`` and
    ``mixtools::boot.comp``). With ``sequential=True`` a dataset's tests stop at the first
    ``K`` not rejected at ``level``.

    The fits to the data search until settled (``n_init_data="auto"``, see
    :func:`fastem.fit`), each ``K + 1`` fit also from each component of the ``K`` fit split
    in two (as :func:`fastem.select`). A test whose ``K + 1`` fit to the data is no better
    than the ``K`` fit (the search found only that fit with a component duplicated or
    emptied) is not made, and says so (``reason``), never "statistic 0, not rejected".
    Every fit to a replicate runs from a warm start (the fit of the same model to the
    data) **and** ``n_init`` random k-means++ restarts, and every ``K + 1`` fit also from
    the splits of each component of its ``K`` fit (when ``n_init > 0``) and from that fit
    with the heaviest component split in two equal halves. That start has the ``K`` fit's
    log-likelihood and EM never lowers it, so a statistic is negative (beyond rounding)
    only where EM from it ended at a spurious maximum, which is left out, and no regular
    ``K + 1`` fit reached the ``K`` fit (``n_negative``: 1 of faithful's 999 replicates of
    3 vs 4 with the defaults); a warm start alone gives many negative statistics (mclust)
    or replicates redrawn until they are not (mixtools). Each model
    keeps its best restart that is not spurious (``skip_degenerate``). A replicate whose
    fits fail is counted in ``n_failed`` and left out; none is redrawn (mclust redraws a
    replicate whose statistic is NA). A dataset none of whose replicates of a test has a
    statistic gets a NaN p-value there, and ``n_components`` 0 unless an earlier test
    decided.

    ``n_init=0, algorithm="em", stop="relative", spurious=fastem.SpuriousRule(0, 0)`` is
    mclust's procedure: each replicate refitted from the warm start alone (and the split
    start, which only turns its negative statistics into 0), with mclust's stopping rule,
    keeping spurious fits as mclust does. Its observed fits still come from
    ``n_init_data`` restarts, where mclust starts from hierarchical clustering: a better
    search for the data than for the replicates, which over-rejects (0.12 at level 0.05
    under a one-component null, n = 100; :doc:`/guide/choosing-k` has the study).

    Seeding: replicate ``b`` of dataset ``d`` (its index in the whole batch) draws its data
    and random restarts from streams keyed by ``(random_state, K, d * n_boot + b)``, and
    the fits to dataset ``d`` by ``(random_state, K, d)``. A dataset's results therefore
    never depend on the other datasets' values or sizes, nor on how the replicates are
    chunked, but they do depend on its index ``d`` and on ``n_boot``: one dataset alone is
    ``d = 0``, so it gives the results of the first dataset of a batch, and the ``d``-th
    dataset of a batch gives other (equally valid) draws than the same data alone.

    Parameters
    ----------
    data : array of shape (n_samples,) or (n_datasets, n_samples), or list of 1D arrays
        One dataset or many: with many, the replicates of all datasets are fitted in
        batches together, so the size and power of the test is one call.
    max_components : int, default 5
        The largest number of components fitted; tests run up to ``max_components - 1``
        against ``max_components`` (mclust's ``maxG = max_components - 1``).
    n_boot : int, default 999
        Bootstrap replicates per test.
    variance : {"unequal", "equal"}, default "unequal"
        mclust's model "V" (a variance per component) or "E" (one shared variance).
    n_init : int, default 5
        Random restarts of each fit to a replicate, besides its warm start (and split
        start). 0 gives mclust's warm start alone (with the split start).
    n_init_data : int or "auto", default "auto"
        Restarts of each fit to the data itself: rounds until its search is settled, by
        default (a :class:`fastem.SearchWarning` names the fits that did not settle), or
        that many k-means++ restarts.
    random_state : int or numpy.random.Generator, default 0
        Seed of the draws and restarts: the same call gives the same p-values. Pass
        ``None`` for fresh entropy.
    level : float, default 0.05
        A test rejects ``K`` components when its p-value is at most ``level``.
    sequential : bool, default True
        Stop each dataset's tests at the first ``K`` not rejected. With False every test
        runs, and the choice is the same.
    algorithm, stop, tol, max_iter, spurious
        As in :func:`fastem.fit`. SQUAREM by default: the same maxima as EM in a third of
        the passes over the data.
    penalty, prior
        As in :func:`fastem.fit`: every fit (to the data and to the replicates) is
        penalised, and the statistic is that of the plain log-likelihoods at the penalised
        fits (mclust's ``mclustBootstrapLRT`` with a prior).
    sample_weight, sample_weight_type
        As in :func:`fastem.fit`: the fits to the data count each point as its weight
        (probability weights rescaled to sum to the points of positive weight), and each
        replicate draws as many points as the weights sum to (rounded), BIC's ``n``. With
        integer frequency weights the test is that of the data with each point repeated
        that many times: the fits to the data reach the same maxima and the replicates
        are the same draws.
    progress : callable, optional
        Called as ``progress(done, total)`` in replicates after every chunk; replicates of
        tests that a sequential procedure skips count as done, so the last call has
        ``done == total``.

    Returns
    -------
    LRTResult

    Examples
    --------
    Two components, well apart: one is rejected, two are not. ``n_boot=39`` keeps the
    example quick (the smallest p-value it can give is 1/40); the default is 999.

    >>> rng = np.random.default_rng(0)
    >>> x = np.concatenate([rng.normal(-3, 1, 300), rng.normal(3, 1, 200)])
    >>> lrt = fastem.bootstrap_lrt(x, max_components=3, n_boot=39, random_state=1)
    >>> lrt.tested, lrt.p_value
    (array([1, 2]), array([0.025, 0.525]))
    >>> int(lrt.n_components)
    2
    """
    a = _options.bound(bootstrap_lrt, (data, *args), kwargs)
    max_components, n_boot, variance = a["max_components"], a["n_boot"], a["variance"]
    n_init, n_init_data, random_state = a["n_init"], a["n_init_data"], a["random_state"]
    level, sequential, progress = a["level"], a["sequential"], a["progress"]
    algorithm, stop, tol, max_iter = a["algorithm"], a["stop"], a["tol"], a["max_iter"]
    spurious, sample_weight = a["spurious"], a["sample_weight"]
    sample_weight_type = a["sample_weight_type"]
    max_components = _validate.check_int("max_components", max_components, 2)
    n_boot = _validate.check_int("n_boot", n_boot, 1, _validate.MAX_ITER_LIMIT)
    variance = _validate.check_variance_model(variance)
    n_init = _validate.check_int("n_init", n_init, 0, _validate.MAX_ITER_LIMIT)
    if n_init_data != "auto":
        n_init_data = _validate.check_int(
            "n_init_data", n_init_data, 1, _validate.MAX_ITER_LIMIT, also="or 'auto'"
        )
    seed = _validate.check_random_state(random_state)
    level = _validate.check_level(level)
    sequential = _validate.check_bool("sequential", sequential)
    spurious = check_rule(spurious)
    options = dict(
        equal_variance=variance == "equal",
        algorithm=algorithm,
        stop=stop,
        tol=tol,
        max_iter=max_iter,
        spurious=spurious,
        skip_degenerate=True,
        penalty=a["penalty"],
        prior=a["prior"],
    )
    batch, datasets, point_weights, sizes = _replicates.weighted_batch(
        data, sample_weight, sample_weight_type, max_components
    )
    # Per replicate: its statistic of each test, and the indices and copies of a test.
    _replicates.check_memory(
        sizes,
        max_components,
        n_boot,
        8.0 * (max_components - 1 + 5),
        n_init,
        max_components + 1,
        n_init_data,
        weighted=point_weights is not None,
    )
    if point_weights is not None and sample_weight_type == "frequency":
        warn_few_counts(datasets, point_weights, max_components, stacklevel=2)
    observed = _observed(datasets, point_weights, max_components, n_init_data, seed, options)
    tests = Tests.empty(len(datasets), max_components - 1, n_boot)
    testing = _Testing(
        n_init=n_init, seed=seed, options=options, level=level, sequential=sequential
    )
    _run_tests(tests, observed, sizes, testing, progress)
    result = result_of_tests(
        tests, observed.log_likelihood, level=level, variance=variance, sequential=sequential
    )
    return squeeze(result, keep=("tested",)) if batch.single else result


@dataclass(frozen=True)
class _Observed:
    """The fits to the data of 1, 2, ... components (``fits``), and per dataset and number
    of components (n_datasets, max_components) their ``log_likelihood``, whether they are
    ``regular`` (not spurious, not collapsed), and per test (n_datasets, max_components -
    1) whether the ``K + 1`` fit is ``no_better`` than the ``K`` fit with an unsettled
    search."""

    fits: list
    log_likelihood: np.ndarray
    regular: np.ndarray
    no_better: np.ndarray


@dataclass(frozen=True)
class _Testing:
    """How each test runs: the random restarts of each refit, the seed, the options of
    :func:`fastem.fit`, the ``level`` and whether a dataset's tests stop at the first
    ``K`` not rejected (``sequential``)."""

    n_init: int
    seed: int
    options: dict
    level: float
    sequential: bool


def _observed(datasets, weights, max_components, n_init_data, seed, options) -> _Observed:
    """The fits to the data (:func:`_fits_to_data`) and what the tests need of them."""
    observed = _fits_to_data(datasets, weights, max_components, n_init_data, seed, options)
    log_likelihood = np.stack([np.atleast_1d(f.log_likelihood) for f in observed], axis=1)
    regular = np.stack([np.atleast_1d(f.status) < Status.SPURIOUS for f in observed], axis=1)
    # A K + 1 fit no better than the K fit stands for a test only when its search
    # settled: then no mixture of K + 1 components found does better, and the statistic is
    # truly about 0. Where the search did not settle, the test did not happen.
    no_better = np.stack(
        [
            search.no_better(observed[k], observed[k - 1]) & ~np.atleast_1d(observed[k].settled)
            for k in range(1, max_components)
        ],
        axis=1,
    )
    return _Observed(observed, log_likelihood, regular, no_better)


def _run_tests(tests: Tests, observed: _Observed, sizes, testing: _Testing, progress) -> None:
    """Run the tests of ``K = 1, 2, ...`` in turn, each for the datasets still testing, into
    ``tests``; ``progress(done, total)`` in replicates, those of skipped tests counted as
    done."""
    n_datasets, n_tests, n_boot = tests.boot.shape
    total = n_tests * n_datasets * n_boot
    reported = [0]

    def report(done):
        if progress is not None and done > reported[0]:
            reported[0] = done
            progress(done, total)

    for t in range(n_tests):
        which = _testable(tests, observed, t)
        if which.size == 0:
            break
        tests.ran[which, t] = True
        tests.statistic[which, t] = _statistic(
            observed.log_likelihood[which, t + 1], observed.log_likelihood[which, t], sizes[which]
        )
        _bootstrap_test(tests, t, which, observed, sizes, testing, report)
        # No replicate with a statistic: the test cannot decide, and nothing after it runs.
        empty = which[~np.isfinite(tests.boot[which, t]).any(axis=1)]
        tests.reason[empty, t] = "every replicate failed"
        tests.blocked[empty] = True
        tests.active[empty] = False
        if testing.sequential:
            not_rejected = p_values(tests.statistic[which, t], tests.boot[which, t]) > testing.level
            tests.active[which[not_rejected]] = False
        report((t + 1) * n_datasets * n_boot)
    report(total)  # also when every dataset's tests stopped early


def _testable(tests: Tests, observed: _Observed, t: int) -> np.ndarray:
    """The datasets that make test ``t``: still testing, with regular fits to the data of
    both sizes, the larger better (or its search settled); the others stop, with the
    reason."""
    regular, no_better = observed.regular, observed.no_better
    testable = regular[:, t] & regular[:, t + 1] & ~no_better[:, t]
    active = tests.active
    tests.reason[active & ~(regular[:, t] & regular[:, t + 1]), t] = "no regular fit to the data"
    tests.reason[active & regular[:, t] & regular[:, t + 1] & no_better[:, t], t] = (
        "K+1 fit no better than K, search not settled"
    )
    tests.blocked |= active & ~testable
    tests.active &= testable
    return np.flatnonzero(tests.active)


def _bootstrap_test(tests: Tests, t, which, observed: _Observed, sizes, testing, report):
    """The replicates' statistics of test ``t`` (``K = t + 1``) for datasets ``which``,
    drawn from their ``K`` fit and refitted a chunk at a time."""
    n_datasets, _, n_boot = tests.boot.shape
    null, alternative = (
        _refit.parameters_of(observed.fits[t]),
        _refit.parameters_of(observed.fits[t + 1]),
    )
    source = np.repeat(which, n_boot)
    replicate = np.tile(np.arange(n_boot), which.size)
    global_index = source * n_boot + replicate
    done = t * n_datasets * n_boot
    for positions in _replicates.chunks(global_index, sizes[source]):
        rows = source[positions]
        tests.boot[rows, t, replicate[positions]] = _replicate_statistics(
            t + 1,
            sizes[rows],
            global_index[positions],
            null.take(rows),
            alternative.take(rows),
            testing.n_init,
            testing.seed,
            testing.options,
        )
        done += positions.size
        report(done)


def _fits_to_data(datasets, weights, max_components, n_init, seed, options):
    """Fits of 1..max_components components to the data (``weights``: each dataset's
    frequency weights, or None), each ``K + 1`` fit nested in the
    ``K`` fit (:func:`fastem.toolkit.refit.fit_nested`: its log-likelihood is at least the ``K``
    fit's). The first one checks the fit options, before any replicate is drawn."""
    fits = []
    for k in range(1, max_components + 1):
        # Seeded too: fit's own default draws fresh entropy, and the one-component fit from
        # a random start ends in other last bits, which every later fit inherits.
        fits.append(
            _refit.fit_nested(
                datasets,
                k,
                fits[-1] if fits else None,
                n_init=n_init,
                init=None,
                random_state=_replicates.stage_seed(seed, 0, k),
                options=dict(options, warn=False),
                sample_weight=weights,
                # No starts aimed at narrow components: the replicates' fits have none, and
                # an observed statistic from a search that looks harder than the replicates'
                # would reject too often.
                tight=False,
            )
        )
    return fits


def _replicate_statistics(k, sizes, global_index, null, alternative, n_init, seed, options):
    """The statistic of each replicate drawn from ``null`` (one row per replicate); NaN
    where a fit failed."""
    data, _, runs = _replicates.draw(
        "parametric", None, sizes, global_index, _replicates.stage_seed(seed, 1, k), params=null
    )
    h0 = _refit.refit(
        data,
        k,
        [null],
        n_init=n_init,
        random_state=_replicates.stage_seed(seed, 2, k),
        runs=runs,
        options=options,
    )
    smaller = _refit.parameters_of(h0)
    starts = [alternative, _refit.split_start(smaller)]
    if n_init:  # with n_init=0, mclust's procedure: the warm and split starts alone
        nested = _refit.nested_starts(smaller, options["equal_variance"])
        starts[1:1] = [nested.take((slice(None), j)) for j in range(k)]
    h1 = _refit.refit(
        data,
        k + 1,
        starts,
        n_init=n_init,
        random_state=_replicates.stage_seed(seed, 3, k),
        runs=runs,
        options=options,
    )
    stats = _statistic(h1.log_likelihood, h0.log_likelihood, sizes)
    failed = (h0.status >= Status.SPURIOUS) | (h1.status >= Status.SPURIOUS) | ~np.isfinite(stats)
    return np.where(failed, np.nan, stats)


ROUNDING = 1e-9
"""Statistics within ``ROUNDING * (|l_K| + n)`` of 0 are 0: a ``K + 1`` fit from the split
start has the ``K`` fit's log-likelihood, summed over ``n`` points in another order."""


def _statistic(l_alternative, l_null, n):
    """``2 (l_{K+1} - l_K)``, with differences within the rounding of the sums made 0."""
    difference = l_alternative - l_null
    rounding = np.abs(difference) <= ROUNDING * (np.abs(l_null) + n)
    return 2 * np.where(rounding, 0.0, difference)


__all__ = ["LRTResult", "bootstrap_lrt"]
