"""Bootstrap standard errors and percentile intervals of fitted mixtures, for many
datasets in one call (R's ``mclust::MclustBootstrap``, ``mixtools::boot.se``)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from .. import checks as _validate
from .. import options as _options
from ..api import fit, warn_few_counts
from ..result import DegenerateFitWarning, FitResult, squeeze
from ..spurious import check_rule
from ..status import Status
from ..table import Table
from . import refit as _refit
from .matching import match_components
from .selection import CRITERIA, select

KINDS = _refit.KINDS
AMBIGUITY = 4.0
"""The default ``ambiguity``: a replicate whose second-best labelling costs less than 4
times its best is less than twice as far from another labelling of the fit as from the
one it was given (see :func:`bootstrap`)."""
LEFT_OUT_SHARE = 0.05
"""Share of a dataset's replicates left out (failed, spurious or ambiguous) above which
:func:`bootstrap` warns."""


@dataclass(frozen=True, repr=False)
class BootstrapResult:
    """What :func:`bootstrap` found. Arrays have a leading dataset axis, dropped for one 1D
    dataset; components run to the largest ``K`` of any dataset, NaN beyond a dataset's own.

    Attributes
    ----------
    fit : FitResult or dict of int to FitResult
        The fit to the data whose parameters are bootstrapped; when datasets have
        different numbers of components, ``fit[K]`` fits the datasets with ``K``
        components, in their order (``np.flatnonzero(n_components == K)``).
    kind : {"parametric", "nonparametric", "weighted"}
    n_components : int array of shape (n_datasets,)
        Each dataset's number of components ``K``.
    weights, means, variances : arrays of shape (n_datasets, n_boot, K)
        Every replicate's estimates, components matched to ``fit``'s (the labelling of
        least cost, see :func:`bootstrap`); NaN for a failed or spurious replicate. An
        ambiguous replicate keeps its estimates here, but not in the summaries.
    standard_errors, lower, upper : :class:`Parameters`, arrays of shape (n_datasets, K)
        The standard deviation of the kept replicates' estimates, and their percentile
        interval at ``level``, per parameter; NaN for a parameter the model fixes (equal
        weights, or the weight of one component).
    status : int array of shape (n_datasets, n_boot)
        Each replicate's :class:`~fastem.Status`.
    ambiguous : bool array of shape (n_datasets, n_boot)
        Replicates whose components match two labellings of the fit's about equally well.
    n_failed, n_spurious, n_ambiguous : int arrays of shape (n_datasets,)
        Replicates left out of the summaries: those with no finite fit (``NON_FINITE``, or
        all of a dataset's when its fit to the data is not finite); those whose every fit
        was spurious or collapsed (``SPURIOUS``, ``VARIANCE_FLOORED``); the ambiguous ones.
    """

    fit: FitResult | dict
    kind: str
    n_boot: int
    level: float
    n_components: np.ndarray
    weights: np.ndarray
    means: np.ndarray
    variances: np.ndarray
    standard_errors: _refit.Parameters
    lower: _refit.Parameters
    upper: _refit.Parameters
    status: np.ndarray
    ambiguous: np.ndarray
    n_failed: np.ndarray
    n_spurious: np.ndarray
    n_ambiguous: np.ndarray

    @property
    def n_datasets(self) -> int:
        return 1 if np.ndim(self.n_failed) == 0 else len(self.n_failed)

    def table(self) -> Table:
        """One row per dataset, component and parameter: ``dataset`` (from 0, as datasets
        are counted everywhere), ``component`` (from 1), ``parameter``, ``estimate``,
        ``se``, ``lower``, ``upper``, and the dataset's ``n_failed``, ``n_spurious`` and
        ``n_ambiguous``."""
        n_components = np.atleast_1d(self.n_components)
        fitted = _fitted_parameters(self.fit, n_components)
        counts = {
            name: np.atleast_1d(getattr(self, name))
            for name in ("n_failed", "n_spurious", "n_ambiguous")
        }
        columns = {
            name: []
            for name in (
                "dataset",
                "component",
                "parameter",
                "estimate",
                "se",
                "lower",
                "upper",
                *counts,
            )
        }
        for index, name in enumerate(("weight", "mean", "variance")):
            parts = (
                fitted[index],
                self.standard_errors[index],
                self.lower[index],
                self.upper[index],
            )
            parts = [np.atleast_2d(a) for a in parts]
            for d, n in enumerate(n_components):
                for k in range(n):
                    columns["dataset"].append(d)
                    columns["component"].append(k + 1)
                    columns["parameter"].append(name)
                    for column, values in zip(("estimate", "se", "lower", "upper"), parts):
                        columns[column].append(values[d, k])
                    for column, values in counts.items():
                        columns[column].append(values[d])
        order = np.lexsort((columns["component"], columns["dataset"]))
        return Table({name: np.asarray(values)[order] for name, values in columns.items()})

    def __repr__(self) -> str:
        counts = ", ".join(
            f"{int(np.sum(getattr(self, 'n_' + name)))} {name}"
            for name in ("failed", "spurious", "ambiguous")
        )
        return (
            f"BootstrapResult({self.n_datasets} dataset(s), {self.kind}, "
            f"n_boot={self.n_boot}, replicates left out: {counts})"
        )

    def __str__(self) -> str:
        head = (
            f"Bootstrap ({self.kind}, {self.n_boot} replicates) standard errors and "
            f"{100 * self.level:g}% percentile intervals"
        )
        note = (
            "Left out of se, lower and upper: n_failed (no finite fit), n_spurious (only "
            "spurious or collapsed fits), n_ambiguous (matched to two labellings of the "
            "fit's components about equally well)."
        )
        return f"{head}\n{self.table()}\n{note}"


def _own(
    data,
    n_boot=999,
    *,
    max_components=5,
    kind="parametric",
    n_init_data="auto",
    level=0.95,
    ambiguity=AMBIGUITY,
    progress=None,
):
    """:func:`bootstrap`'s own parameters; those of :func:`fastem.fit` it takes are the
    table's (:mod:`fastem.options`, ``toolkit``), with its defaults."""


@_options.derived(_own, entry="bootstrap")
def bootstrap(data, *args, **kwargs) -> BootstrapResult:
    """Standard errors and percentile intervals of a mixture's parameters by bootstrap.

    Fits ``n_components`` to each dataset (``n_init_data`` restarts), draws ``n_boot``
    replicates, refits each from the fit to the data and ``n_init`` random k-means++
    restarts, matches the replicate's components to the fit's (the assignment of
    :func:`fastem.match_components`), and summarises the replicates per parameter.

    The summaries leave out three kinds of replicate, each counted per dataset and flagged
    per replicate. **Failed**: no restart has a finite log-likelihood. **Spurious**: every
    restart is spurious or collapsed (``skip_degenerate`` keeps a regular one when there
    is one). **Ambiguous**: the replicate's components do not say which of the fit's they
    are. The labelling of least cost ``c1`` (the cost of :func:`fastem.match_components`,
    the squared distance of each matched mean in the fitted component's standard
    deviations plus that of its log variance) is compared with the second-best labelling
    ``c2``, found exactly over all permutations; the replicate is ambiguous when ``c2 <=
    ambiguity * c1``: with the default 4, it is less than twice as far from another
    labelling of the fit as from its own. This catches both ways a label goes wrong: a
    replicate of two nearly equal components, which sits about as near to the labelling
    with the two swapped (``c2 ~ c1``); and a replicate whose components stand elsewhere
    than the fit's (a spurious fit's narrow component, a component moved onto another),
    far from every labelling alike, so that ``c1`` is no longer small next to the
    fit's own separation and ``c2 / c1`` is near 1 again. Where the fit's components are
    well apart, its labellings differ by far more than a replicate moves, and none is
    flagged. On R's galaxies with three components the ratio ``c2 / c1`` is bimodal,
    below 2.5 or above 16 for 98% of 826 regular replicates; 4 sits in the gap.

    Ambiguous replicates are left out of the standard errors and intervals, with the
    failed and spurious ones, because a label assigned by a coin toss mixes two
    components' estimates into each one's spread: on galaxies (999 replicates, 143
    ambiguous) they made the third mean's standard error 3,887 (km/s), 7.3 times the
    Louis information's 532; without them it is 694. mclust's
    ``MclustBootstrap`` and mixtools' ``boot.se`` keep every replicate as matched (or
    sorted) and say nothing; ``ambiguity=1`` keeps all but exact ties. Leaving replicates
    out shrinks the spread to that of the replicates whose labels are clear, so when more
    than 5% of a dataset's replicates are left out, a :class:`DegenerateFitWarning` says
    which datasets and how many: their intervals then describe the mixture as labelled,
    not its whole uncertainty. So does the fit to the data itself, with the warnings
    :func:`fastem.fit` would give (a spurious or collapsed fit, say).

    Parameters
    ----------
    data : array of shape (n_samples,) or (n_datasets, n_samples), or list of 1D arrays
    n_components : int, int array of shape (n_datasets,), or {"bic", "aic", "icl"}, default 2
        Components of every dataset, of each one, or chosen for each by
        :func:`fastem.select` by that criterion among 1 to ``max_components`` (with
        ``n_init_data`` restarts; a dataset with no eligible candidate gets one
        component). Datasets with different numbers are refitted in groups of one
        number each, and the result's arrays pad components with NaN.
    n_boot : int, default 999
    max_components : int, default 5
        The most components a criterion may choose.
    kind : {"parametric", "nonparametric", "weighted"}, default "parametric"
        Replicates drawn from the fitted mixture; resampled from the data with
        replacement; or the data with random weights ``n * Dirichlet(1, ..., 1)``, the
        weighted likelihood bootstrap (Newton & Raftery 1994). mclust's ``MclustBootstrap``
        types "pb", "bs" and "wlbs"; mixtools' ``boot.se`` is "parametric".
    n_init : int, default 5
        Random restarts of each replicate's fit, besides the start from the fit to the data.
    n_init_data : int or "auto", default "auto"
        Restarts of the fit to the data: rounds until its search is settled (see
        :func:`fastem.fit`), or that many k-means++ restarts.
    random_state : int or numpy.random.Generator, default 0
        Seed of the fit to the data, the replicates and their restarts. Replicate ``b`` of
        dataset ``d`` draws from streams keyed by ``d * n_boot + b``, so a dataset's
        replicates do not depend on how many datasets are fitted with it.
    level : float, default 0.95
        Coverage of the percentile intervals.
    ambiguity : float, default 4
        A replicate is ambiguous when its second-best labelling costs at most
        ``ambiguity`` times its best (at least 1; 1 flags exact ties only).
    equal_variance, equal_weights, algorithm, stop, tol, max_iter, spurious
        As in :func:`fastem.fit`; SQUAREM by default. Fits choose their best restart that
        is not spurious (``skip_degenerate``).
    sample_weight, sample_weight_type
        As in :func:`fastem.fit`: each point counts as its weight (probability weights
        rescaled to sum to the points of positive weight). A replicate has as many points
        as the weights sum to (rounded): parametric ones drawn from the fit, nonparametric
        ones drawn from the points with probabilities proportional to their weights, and
        weighted ones the points with ``Gamma(w_i)`` draws as weights, rescaled to sum to
        that number. Integer
        frequency weights give the replicates of the data with each point repeated that
        many times (in distribution for "weighted"; the same draws for the others).
    progress : callable, optional
        Called as ``progress(done, n_datasets * n_boot)`` after every chunk of replicates.

    Returns
    -------
    BootstrapResult
    """
    a = _options.bound(bootstrap, (data, *args), kwargs)
    n_components, n_boot, max_components = a["n_components"], a["n_boot"], a["max_components"]
    kind, n_init, n_init_data, random_state = (
        a["kind"],
        a["n_init"],
        a["n_init_data"],
        a["random_state"],
    )
    level, ambiguity, progress = a["level"], a["ambiguity"], a["progress"]
    equal_variance, equal_weights = a["equal_variance"], a["equal_weights"]
    algorithm, stop, tol, max_iter = a["algorithm"], a["stop"], a["tol"], a["max_iter"]
    spurious, sample_weight, sample_weight_type = (
        a["spurious"],
        a["sample_weight"],
        a["sample_weight_type"],
    )
    n_boot = _validate.check_int("n_boot", n_boot, 2, _validate.MAX_ITER_LIMIT)
    kind = _validate.check_choice("kind", kind, KINDS)
    n_init = _validate.check_int("n_init", n_init, 0, _validate.MAX_ITER_LIMIT)
    if n_init_data != "auto":
        n_init_data = _validate.check_int(
            "n_init_data", n_init_data, 1, _validate.MAX_ITER_LIMIT, also="or 'auto'"
        )
    seed = _validate.check_random_state(random_state)
    level = _validate.check_level(level)
    ambiguity = _validate.check_non_negative("ambiguity", ambiguity)
    if ambiguity < 1:
        raise ValueError(f"ambiguity must be at least 1 (a ratio of costs), got {ambiguity}.")
    options = dict(
        equal_variance=_validate.check_bool("equal_variance", equal_variance),
        equal_weights=_validate.check_bool("equal_weights", equal_weights),
        algorithm=algorithm,
        stop=stop,
        tol=tol,
        max_iter=max_iter,
        spurious=check_rule(spurious),
        skip_degenerate=True,
    )
    batch, datasets, point_weights, sizes = _refit.weighted_batch(
        data,
        sample_weight,
        sample_weight_type,
        n_components if isinstance(n_components, int) else 1,
    )
    if isinstance(n_components, str):
        largest = _validate.check_int("max_components", max_components, 1)
    elif np.ndim(n_components) == 0:
        largest = _validate.check_int("n_components", n_components, 1)
    else:  # checked in full with the fits
        largest = int(np.max(np.asarray(n_components, dtype=np.float64), initial=1))
    # Per replicate: its estimates, their copy without the ambiguous ones and the
    # percentiles' working copy (3 x 3 arrays of K), its status, flags and indices.
    # A weighted bootstrap's replicate is the data with other weights, whatever they sum to.
    _refit.check_memory(
        sizes,
        largest,
        n_boot,
        8.0 * (9 * largest + 5),
        n_init,
        1,
        n_init_data,
        weighted=point_weights is not None and kind != "weighted",
    )
    if point_weights is not None and sample_weight_type == "frequency":
        warn_few_counts(datasets, point_weights, 1, stacklevel=2)
    ks, fits = _fits_to_data(
        batch, datasets, point_weights, n_components, max_components, n_init_data, seed, options
    )
    for k, fitted in fits.items():
        among = "" if len(fits) == 1 else f"the fits of {k} component(s) to the data: "
        for category, message in fitted.problems():
            warnings.warn(among + message, category, stacklevel=2)
    n_datasets = len(datasets)
    if point_weights is not None:  # a criterion chose K: replicates need K points too
        _refit.weighted_batch(datasets, point_weights, "frequency", ks)

    width = int(ks.max())
    estimates = np.full((3, n_datasets, n_boot, width), np.nan)
    status = np.zeros((n_datasets, n_boot), dtype=np.int64)
    ambiguous = np.zeros((n_datasets, n_boot), dtype=np.bool_)
    done = 0
    for k, fitted in fits.items():
        members = np.flatnonzero(ks == k)  # the group's datasets, in order
        params = _refit.parameters_of(fitted)
        usable = np.isfinite(np.atleast_1d(fitted.log_likelihood))
        status[members[~usable]] = Status.NON_FINITE
        which = np.flatnonzero(usable)
        source = np.repeat(which, n_boot)
        replicate = np.tile(np.arange(n_boot), which.size)
        global_index = members[source] * n_boot + replicate
        for positions in _refit.chunks(global_index, sizes[members[source]]):
            rows = source[positions]
            dataset_rows = members[rows]
            at = (dataset_rows, replicate[positions])  # where the chunk's replicates go
            data_rows, weights, runs = _refit.draw(
                kind,
                [datasets[d] for d in dataset_rows],
                sizes[dataset_rows],
                global_index[positions],
                _refit.stage_seed(seed, 11),
                params=params.take(rows),
                source_weights=None
                if point_weights is None
                else [point_weights[d] for d in dataset_rows],
            )
            refitted = _refit.refit(
                data_rows,
                k,
                [params.take(rows)],
                n_init=n_init,
                random_state=_refit.stage_seed(seed, 12),
                runs=runs,
                options=options,
                sample_weight=weights,
            )
            matched = match_components(
                refitted.weights, refitted.means, refitted.variances, *params.take(rows)
            )
            finite = np.isfinite(refitted.log_likelihood)
            status[at] = np.where(finite, refitted.status, Status.NON_FINITE)
            regular = status[at] < Status.SPURIOUS
            best, second = _labelling_costs(matched, params.take(rows))
            ambiguous[at] = regular & (second <= ambiguity * best)
            for index in range(3):
                estimates[index, dataset_rows, replicate[positions], :k] = np.where(
                    regular[:, None], matched[index], np.nan
                )
            done += positions.size
            if progress is not None:
                progress(done, n_datasets * n_boot)

    n_failed = (status == Status.NON_FINITE).sum(axis=1)
    n_spurious = (status >= Status.SPURIOUS).sum(axis=1) - n_failed
    n_ambiguous = ambiguous.sum(axis=1)
    _warn_left_out(n_failed, n_spurious, n_ambiguous, n_boot)
    kept = np.where(ambiguous[:, :, None], np.nan, estimates)
    fixed = np.zeros((3, n_datasets, width), dtype=np.bool_)
    fixed[0] = options["equal_weights"] | (ks == 1)[:, None]
    summaries = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all NaN: a dataset that failed
        se = np.nanstd(kept, axis=2, ddof=1)
        tail = 100 * (1 - level) / 2
        lower, upper = np.nanpercentile(kept, [tail, 100 - tail], axis=2)
    for values in (se, lower, upper):
        values = np.where(fixed, np.nan, values)
        summaries.append(_refit.Parameters(*values))
    result = BootstrapResult(
        fit=fits[width] if len(fits) == 1 else fits,
        kind=kind,
        n_boot=n_boot,
        level=level,
        n_components=ks,
        weights=estimates[0],
        means=estimates[1],
        variances=estimates[2],
        standard_errors=summaries[0],
        lower=summaries[1],
        upper=summaries[2],
        status=status,
        ambiguous=ambiguous,
        n_failed=n_failed,
        n_spurious=n_spurious,
        n_ambiguous=n_ambiguous,
    )
    return squeeze(result) if batch.single else result


def _fits_to_data(batch, datasets, weights, n_components, max_components, n_init, seed, options):
    """Each dataset's number of components, an int array of shape (n_datasets,), and the
    fits to the data (``weights``: each dataset's frequency weights, or None), ``{K:
    FitResult of the datasets with K components, in order}``.

    With a criterion, :func:`fastem.select` chooses ``K``; its warnings about the
    candidates are not shown, as the chosen fits' problems are (by the caller)."""
    n_datasets = len(datasets)
    seed = _refit.stage_seed(seed, 10)
    if isinstance(n_components, str):
        criterion = _validate.check_choice("n_components", n_components, CRITERIA)
        max_components = _validate.check_int("max_components", max_components, 1)
        _validate.check_n_samples(batch, max_components)
        shared = {
            name: value
            for name, value in options.items()
            if name not in ("equal_variance", "skip_degenerate")
        }
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            selection = select(
                datasets,
                range(1, max_components + 1),
                variance="equal" if options["equal_variance"] else "unequal",
                criterion=criterion,
                n_init=n_init,
                random_state=seed,
                sample_weight=weights,
                **shared,
            )
        ks = np.maximum(np.atleast_1d(selection.n_components), 1)
    elif np.ndim(n_components) == 0:
        n_components = _validate.check_int("n_components", n_components, 1)
        _validate.check_n_samples(batch, n_components)
        ks = np.full(n_datasets, n_components)
    else:
        ks = np.asarray(n_components)
        if ks.shape != (n_datasets,) or ks.dtype.kind not in "iu" or (ks < 1).any():
            raise ValueError(
                f"n_components must be an integer, one integer >= 1 per dataset (shape "
                f"({n_datasets},)), or a criterion ({', '.join(CRITERIA)}); got {n_components!r}."
            )
        _validate.check_n_samples(batch, ks)
    ks = ks.astype(np.int64)
    fits = {
        int(k): fit(
            [datasets[d] for d in np.flatnonzero(ks == k)],
            int(k),
            n_init=n_init,
            random_state=seed,
            warn=False,
            sample_weight=None
            if weights is None
            else [weights[d] for d in np.flatnonzero(ks == k)],
            **options,
        )
        for k in np.unique(ks)
    }
    return ks, fits


def _fitted_parameters(fits, n_components) -> _refit.Parameters:
    """The parameters of the fits to the data (a :class:`FitResult`, or one per number of
    components), shape (n_datasets, max K), padded with NaN."""
    if isinstance(fits, FitResult):
        return _refit.parameters_of(fits)
    fitted = [np.full((n_components.size, n_components.max()), np.nan) for _ in range(3)]
    for k, result in fits.items():
        for array, values in zip(fitted, _refit.parameters_of(result)):
            array[n_components == k, :k] = values
    return _refit.Parameters(*fitted)


def _labelling_costs(matched, fitted):
    """The costs of the best and the second-best labelling of each replicate's components,
    arrays of shape (n_replicates,): ``matched`` (replicates' parameters ordered by the
    best labelling, of shape (n_replicates, K)) against ``fitted`` (the fit's, same shape).

    A labelling's cost is :func:`fastem.match_components`'s. The best labelling is the
    identity, and every other permutation is a product of cycles, each of which costs at
    least 0 more than the identity (else the identity would not be best); so the second
    best is the identity plus its cheapest cycle: the shortest cycle of the graph whose
    edge ``j -> k`` (replicate component ``j`` labelled ``k``) weighs ``cost[j, k] -
    cost[k, k]``, found by Floyd-Warshall, exactly and for any ``K``. With one component
    the second best is infinite. Failed replicates (non-finite costs) get NaN.
    """
    _, means, variances = (np.asarray(a, dtype=np.float64) for a in fitted)
    diagonal = np.arange(means.shape[1])
    with np.errstate(divide="ignore", invalid="ignore"):  # failed replicates: NaN
        log_ratio = np.log(matched.variances[:, :, None]) - np.log(variances[:, None, :])
        cost = (matched.means[:, :, None] - means[:, None, :]) ** 2 / variances[
            :, None, :
        ] + log_ratio**2
        identity = np.diagonal(cost, axis1=1, axis2=2)
        shortest = cost - identity[:, None, :]
        shortest[:, diagonal, diagonal] = np.inf  # a cycle needs another component
        for middle in diagonal:
            shortest = np.minimum(
                shortest, shortest[:, :, middle, None] + shortest[:, None, middle, :]
            )
        best = identity.sum(axis=1)
        # A cycle below 0 by rounding is a tie with the best.
        cycle = np.maximum(np.min(shortest[:, diagonal, diagonal], axis=1), 0.0)
    return best, best + cycle


def _warn_left_out(n_failed, n_spurious, n_ambiguous, n_boot) -> None:
    """One :class:`DegenerateFitWarning` naming the datasets with more than
    ``LEFT_OUT_SHARE`` of their replicates left out, and their counts."""
    left_out = np.flatnonzero(n_failed + n_spurious + n_ambiguous > LEFT_OUT_SHARE * n_boot)
    if left_out.size == 0:
        return
    counts = "; ".join(
        f"dataset {d}: {n_failed[d]} failed, {n_spurious[d]} spurious, {n_ambiguous[d]} ambiguous"
        for d in left_out[:5]
    ) + ("" if left_out.size <= 5 else f"; ... ({left_out.size} datasets in all)")
    warnings.warn(
        f"{left_out.size} of {n_failed.size} dataset(s) have more than "
        f"{100 * LEFT_OUT_SHARE:g}% of their {n_boot} replicates left out of the standard "
        f"errors and intervals ({counts}): failed replicates have no finite fit, spurious "
        "ones only spurious or collapsed fits, and ambiguous ones match two labellings of "
        "the fit's components about equally well, so these intervals describe only the "
        "replicates whose labels are clear. Fewer components usually help (n_components="
        "'bic' chooses them per dataset); more restarts (n_init) help spurious ones.",
        DegenerateFitWarning,
        stacklevel=3,
    )
