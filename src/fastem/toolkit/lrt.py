"""The parametric bootstrap likelihood-ratio test for the number of components
(McLachlan 1987), for many datasets in one call."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from .. import checks as _validate
from .. import options as _options
from .. import search
from ..api import warn_few_counts
from ..result import squeeze
from ..spurious import check_rule
from ..status import Status
from ..table import Table
from . import refit as _refit

VARIANCES = tuple(sorted(_validate.VARIANCE_MODELS, reverse=True))
"""The variance models, the default ("unequal") first."""


@dataclass(frozen=True, repr=False)
class LRTResult:
    """What :func:`bootstrap_lrt` found, per dataset and test.

    Test ``t`` compares ``K = tested[t]`` components (the null) with ``K + 1``. Arrays
    have a leading dataset axis, dropped for one 1D dataset. Entries of tests that did not
    run (after a dataset's sequential procedure stopped) are NaN, or 0 for counts, and
    ``ran`` is False there.

    Attributes
    ----------
    tested : int array of shape (n_tests,)
        The null's number of components of each test: 1, 2, ..., ``max_components - 1``.
    statistic : array of shape (n_datasets, n_tests)
        The observed likelihood-ratio statistic ``2 (l_{K+1} - l_K)``.
    boot_statistics : array of shape (n_datasets, n_tests, n_boot)
        The statistic of each bootstrap replicate; NaN for a replicate whose fit failed.
    p_value : array of shape (n_datasets, n_tests)
        ``(1 + #{boot >= observed}) / (n_valid + 1)``; NaN when no replicate has a
        statistic.
    p_value_mcse : array of shape (n_datasets, n_tests)
        Its Monte Carlo standard error, ``sqrt(p (1 - p) / n_valid)``.
    n_valid, n_negative, n_failed : int arrays of shape (n_datasets, n_tests)
        Replicates with a statistic; those whose statistic is below 0 (the ``K + 1``
        fit below the ``K`` fit: none, by construction, up to rounding); those whose fits
        failed (a non-finite log-likelihood, or no restart of either model that was not
        spurious or collapsed), left out of the p-value.
    n_redundant : int array of shape (n_datasets, n_tests)
        Replicates whose ``K + 1`` fit is no better than their ``K`` fit (statistic 0:
        the search found nothing but the ``K`` fit with a component duplicated or
        emptied); they count, with statistic 0.
    ran : bool array of shape (n_datasets, n_tests)
        Whether the test was made.
    reason : str array of shape (n_datasets, n_tests)
        Why a test that a dataset reached was not made, or made no p-value ("" where it
        ran, or where the sequential procedure had stopped before it): "no regular fit to
        the data" (every restart of ``K`` or ``K + 1`` components was spurious, collapsed
        or failed), "K+1 fit no better than K, search not settled" (the search for ``K +
        1`` components found nothing above the ``K`` fit, only it with a component
        duplicated or emptied, and did not settle: a test that did not happen, never "not
        rejected"; where the search settled, nothing better was there to find, and the
        test is made with its statistic of about 0), or "every replicate failed".
    n_components : int array of shape (n_datasets,)
        The chosen number of components: the first ``K`` not rejected at ``level``, or
        ``max_components`` when every test rejects; 0 when a test could not be made before
        that (the fits to the data failed, or every replicate's fits did).
    log_likelihood : array of shape (n_datasets, max_components)
        Log-likelihood of the fits to the data with 1, 2, ..., ``max_components``
        components.
    """

    tested: np.ndarray
    statistic: np.ndarray
    boot_statistics: np.ndarray
    p_value: np.ndarray
    p_value_mcse: np.ndarray
    n_valid: np.ndarray
    n_negative: np.ndarray
    n_failed: np.ndarray
    n_redundant: np.ndarray
    ran: np.ndarray
    reason: np.ndarray
    n_components: np.ndarray
    log_likelihood: np.ndarray
    n_boot: int
    level: float
    variance: str
    sequential: bool

    @property
    def n_datasets(self) -> int:
        return 1 if np.ndim(self.n_components) == 0 else len(self.n_components)

    def table(self) -> Table:
        """One row per dataset and test that ran or failed: ``dataset`` (from 0), ``test`` ("1 vs
        2"), ``statistic``, ``p_value``, ``p_value_mcse``, ``rejected`` (at ``level``),
        ``n_valid``, ``n_negative``, ``n_failed``, ``n_redundant``, ``failed`` (the
        ``reason`` a test was not made, "" where it ran)."""
        reached = np.atleast_2d(self.ran) | (np.atleast_2d(self.reason) != "")
        d, t = np.nonzero(reached)

        def pick(values):
            return np.atleast_2d(values)[d, t]

        p = pick(self.p_value)
        return Table(
            {
                "dataset": d,
                "test": np.array([f"{k} vs {k + 1}" for k in self.tested[t]]),
                "statistic": pick(self.statistic),
                "p_value": p,
                "p_value_mcse": pick(self.p_value_mcse),
                "rejected": p <= self.level,
                "n_valid": pick(self.n_valid),
                "n_negative": pick(self.n_negative),
                "n_failed": pick(self.n_failed),
                "n_redundant": pick(self.n_redundant),
                "failed": pick(self.reason).astype(str),
            }
        )

    def __repr__(self) -> str:
        chosen = np.atleast_1d(self.n_components)
        counts = ", ".join(f"K={k}: {n}" for k, n in zip(*np.unique(chosen, return_counts=True)))
        return (
            f"LRTResult({self.n_datasets} dataset(s), n_boot={self.n_boot}, "
            f"{self.variance} variances, chosen {counts})"
        )

    def __str__(self) -> str:
        kind = "sequential " if self.sequential else ""
        title = f"Bootstrap {kind}LRT for the number of mixture components"
        rule = "-" * len(title)
        lines = [
            rule,
            title,
            rule,
            f"Model        = {'V' if self.variance == 'unequal' else 'E'} "
            f"({self.variance} variances)",
            f"Replications = {self.n_boot}",
        ]
        if self.n_datasets > 1:
            chosen = np.atleast_1d(self.n_components)
            for k, n in zip(*np.unique(chosen, return_counts=True)):
                lines.append(f"chosen K = {k}: {n} of {chosen.size} datasets")
            lines.append("(table() has every test of every dataset)")
            return "\n".join(lines)
        table = self.table()
        lines.append(
            f"{'':8} {'LRTS':>12} {'bootstrap p-value':>18} {'MCSE':>8}"
            f" {'negative':>9} {'failed':>7}"
        )
        for row in table.to_records():
            if row["failed"]:
                lines.append(f"{row['test']:8} not made: {row['failed']}")
                continue
            p = "nan" if row["p_value"] is None else f"{row['p_value']:.4g}"
            mcse = "nan" if row["p_value_mcse"] is None else f"{row['p_value_mcse']:.2g}"
            stat = "nan" if row["statistic"] is None else f"{row['statistic']:.7g}"
            lines.append(
                f"{row['test']:8} {stat:>12} {p:>18} {mcse:>8}"
                f" {row['n_negative']:>9} {row['n_failed']:>7}"
            )
        lines.append(f"Chosen: {self.n_components} component(s) at level {self.level:g}")
        return "\n".join(lines)


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
    log-likelihood and EM never lowers it, so no statistic is negative (up to rounding),
    where a warm start alone gives negative statistics (mclust) or replicates redrawn until
    they are not (mixtools). Each model
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
    under a one-component null, n = 100; the README has the study).

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
    )
    batch, datasets, point_weights, sizes = _refit.weighted_batch(
        data, sample_weight, sample_weight_type, max_components
    )
    # Per replicate: its statistic of each test, and the indices and copies of a test.
    _refit.check_memory(
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
    n_datasets = len(datasets)

    observed = _fits_to_data(datasets, point_weights, max_components, n_init_data, seed, options)
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
    reason = np.full((len(datasets), max_components - 1), "", dtype=object)

    n_tests = max_components - 1
    statistic = np.full((n_datasets, n_tests), np.nan)
    boot = np.full((n_datasets, n_tests, n_boot), np.nan)
    ran = np.zeros((n_datasets, n_tests), dtype=np.bool_)
    active = np.ones(n_datasets, dtype=np.bool_)
    blocked = np.zeros(n_datasets, dtype=np.bool_)  # tests stopped undecided
    total = n_tests * n_datasets * n_boot
    reported = [0]

    def report(done):
        if progress is not None and done > reported[0]:
            reported[0] = done
            progress(done, total)

    for t in range(n_tests):
        k = t + 1
        testable = regular[:, t] & regular[:, t + 1] & ~no_better[:, t]
        reason[active & ~(regular[:, t] & regular[:, t + 1]), t] = "no regular fit to the data"
        reason[active & regular[:, t] & regular[:, t + 1] & no_better[:, t], t] = (
            "K+1 fit no better than K, search not settled"
        )
        blocked |= active & ~testable
        active &= testable
        which = np.flatnonzero(active)
        if which.size == 0:
            break
        ran[which, t] = True
        statistic[which, t] = _statistic(
            log_likelihood[which, t + 1], log_likelihood[which, t], sizes[which]
        )
        null, alternative = (
            _refit.parameters_of(observed[t]),
            _refit.parameters_of(observed[t + 1]),
        )
        source = np.repeat(which, n_boot)
        replicate = np.tile(np.arange(n_boot), which.size)
        global_index = source * n_boot + replicate
        done = t * n_datasets * n_boot
        for positions in _refit.chunks(global_index, sizes[source]):
            rows = source[positions]
            boot[rows, t, replicate[positions]] = _replicate_statistics(
                k,
                sizes[rows],
                global_index[positions],
                null.take(rows),
                alternative.take(rows),
                n_init,
                seed,
                options,
            )
            done += positions.size
            report(done)
        # No replicate with a statistic: the test cannot decide, and nothing after it runs.
        empty = which[~np.isfinite(boot[which, t]).any(axis=1)]
        reason[empty, t] = "every replicate failed"
        blocked[empty] = True
        active[empty] = False
        if sequential:
            active[which[_p_values(statistic[which, t], boot[which, t]) > level]] = False
        report((t + 1) * n_datasets * n_boot)
    report(total)  # also when every dataset's tests stopped early

    n_valid = np.isfinite(boot).sum(axis=2)
    n_failed = np.where(ran, n_boot - n_valid, 0)
    n_negative = (boot < 0).sum(axis=2)
    n_redundant = (boot == 0).sum(axis=2)
    p_value = np.full((n_datasets, n_tests), np.nan)
    p_value[ran] = _p_values(statistic[ran], boot[ran])
    with np.errstate(invalid="ignore", divide="ignore"):
        mcse = np.sqrt(p_value * (1 - p_value) / n_valid)
    chosen = _chosen(p_value, ran, blocked, level, max_components)
    undecided = np.flatnonzero(chosen == 0)
    if undecided.size:
        warnings.warn(
            f"dataset(s) {_validate.listed(undecided)}: a test could not be made (reason: "
            f"{_reasons(reason[undecided])}), so no test was made from there and "
            "n_components is 0: the fits to the data had no regular (not spurious, not "
            "collapsed) restart for some K, their K+1 fit was no better than the K fit, or "
            "every replicate's fits failed. Try more restarts (n_init_data, n_init) or "
            "fewer components.",
            UserWarning,
            stacklevel=2,
        )
    result = LRTResult(
        tested=np.arange(1, max_components),
        statistic=statistic,
        boot_statistics=boot,
        p_value=p_value,
        p_value_mcse=mcse,
        n_valid=n_valid,
        n_negative=n_negative,
        n_failed=n_failed,
        n_redundant=np.where(ran, n_redundant, 0),
        ran=ran,
        reason=reason.astype(str),
        n_components=chosen,
        log_likelihood=log_likelihood,
        n_boot=n_boot,
        level=level,
        variance=variance,
        sequential=sequential,
    )
    return squeeze(result, keep=("tested",)) if batch.single else result


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
                random_state=_refit.stage_seed(seed, 0, k),
                options=dict(options, warn=False),
                sample_weight=weights,
                # No starts aimed at narrow components: the replicates' fits have none, and
                # an observed statistic from a search that looks harder than the replicates'
                # would reject too often.
                tight=False,
            )
        )
    return fits


def _reasons(reasons) -> str:
    """The distinct reasons of failed tests, in words."""
    found = sorted({r for r in np.ravel(reasons) if r})
    return "; ".join(found) if found else "none recorded"


def _replicate_statistics(k, sizes, global_index, null, alternative, n_init, seed, options):
    """The statistic of each replicate drawn from ``null`` (one row per replicate); NaN
    where a fit failed."""
    data, _, runs = _refit.draw(
        "parametric", None, sizes, global_index, _refit.stage_seed(seed, 1, k), params=null
    )
    h0 = _refit.refit(
        data,
        k,
        [null],
        n_init=n_init,
        random_state=_refit.stage_seed(seed, 2, k),
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
        random_state=_refit.stage_seed(seed, 3, k),
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


def _p_values(observed, boot):
    """``(1 + #{boot >= observed}) / (n_valid + 1)`` per row of ``boot``; NaN for a row
    without a valid replicate."""
    valid = np.isfinite(boot)
    n_valid = valid.sum(axis=1)
    at_least = (np.where(valid, boot, -np.inf) >= observed[:, None]).sum(axis=1)
    return np.where(n_valid > 0, (1 + at_least) / (n_valid + 1), np.nan)


def _chosen(p_value, ran, blocked, level, max_components):
    """Per dataset: the first ``K`` whose test ran and did not reject; else 0 when the
    tests stopped undecided (no regular fit to the data, or no valid replicate), else
    ``max_components``."""
    accepted = ran & (p_value > level)
    first = np.argmax(accepted, axis=1) + 1
    return np.where(accepted.any(axis=1), first, np.where(blocked, 0, max_components)).astype(
        np.int64
    )


__all__ = ["LRTResult", "bootstrap_lrt"]
