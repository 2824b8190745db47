"""Bootstrap standard errors and percentile intervals of fitted mixtures, for many
datasets in one call (R's ``mclust::MclustBootstrap``, ``mixtools::boot.se``)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from .. import checks as _validate
from .. import options as _options
from ..api import fit, warn_few_counts
from ..engine.status import Status
from ..result import squeeze
from ..spurious import check_rule
from . import refit as _refit
from . import replicates as _replicates
from .bootstrap_result import BootstrapResult, Replicates, summarise
from .matching import labelling_costs, match_components
from .selection import CRITERIA, select

KINDS = _replicates.KINDS
AMBIGUITY = 4.0
"""The default ``ambiguity``: a replicate whose second-best labelling costs less than 4
times its best is less than twice as far from another labelling of the fit as from the
one it was given (see :func:`bootstrap`)."""


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
        One dataset, one dataset per row, or datasets of different lengths, as for
        :func:`fastem.fit`.
    n_components : int, int array of shape (n_datasets,), or {"bic", "aic", "icl"}, default 2
        Components of every dataset, of each one, or chosen for each by
        :func:`fastem.select` by that criterion among 1 to ``max_components`` (with
        ``n_init_data`` restarts; a dataset with no eligible candidate gets one
        component). Datasets with different numbers are refitted in groups of one
        number each, and the result's arrays pad components with NaN.
    n_boot : int, default 999
        Bootstrap replicates per dataset.
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
        The fit to the data, every replicate's matched estimates and flags, and the
        standard errors and percentile intervals from the replicates kept.

    Examples
    --------
    ``n_boot=19`` keeps the example quick; standard errors want a few hundred replicates.

    >>> rng = np.random.default_rng(0)
    >>> x = np.concatenate([rng.normal(-3, 1, 300), rng.normal(3, 1, 200)])
    >>> boot = fastem.bootstrap(x, 2, n_boot=19, random_state=0)
    >>> boot.means.shape, boot.standard_errors.means.shape
    ((19, 2), (2,))
    >>> int(boot.n_failed), int(boot.n_spurious), int(boot.n_ambiguous)
    (0, 0, 0)
    >>> bool(np.all((boot.lower.means < boot.fit.means) & (boot.fit.means < boot.upper.means)))
    True
    >>> boot.table().columns[:7]
    ['dataset', 'component', 'parameter', 'estimate', 'se', 'lower', 'upper']
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
        penalty=a["penalty"],
        prior=a["prior"],
    )
    batch, datasets, point_weights, sizes = _replicates.weighted_batch(
        data,
        sample_weight,
        sample_weight_type,
        n_components if isinstance(n_components, int) else 1,
    )
    _check_replicate_memory(
        sizes,
        n_components,
        max_components,
        n_boot,
        n_init,
        n_init_data,
        weighted=point_weights is not None and kind != "weighted",
    )
    weighted = _WeightedData(datasets, point_weights, sizes, sample_weight_type)
    ks, fits = _fit_data(
        batch,
        weighted,
        n_components,
        max_components,
        n_init_data,
        seed,
        options,
    )
    resampling = _Resampling(
        kind=kind, n_boot=n_boot, n_init=n_init, seed=seed, ambiguity=ambiguity, options=options
    )
    replicates = _draw_and_refit(fits, ks, weighted, resampling, progress)
    result = summarise(fits, ks, replicates, kind, level, options["equal_weights"])
    return squeeze(result) if batch.single else result


@dataclass(frozen=True)
class _WeightedData:
    """The checked datasets (a list of 1D arrays), their point weights (a list of arrays,
    or None), the size of each one's replicates and the weights' type."""

    datasets: list
    point_weights: list | None
    sizes: np.ndarray
    sample_weight_type: str


@dataclass(frozen=True)
class _Resampling:
    """How the replicates are drawn and refitted: their ``kind``, ``n_boot`` per dataset,
    the random restarts of each refit, the seed, the ``ambiguity`` of a labelling and the
    options of :func:`fastem.fit`."""

    kind: str
    n_boot: int
    n_init: int
    seed: int
    ambiguity: float
    options: dict


def _check_replicate_memory(
    sizes, n_components, max_components, n_boot, n_init, n_init_data, weighted
) -> None:
    """Refuse, before any work, replicates whose arrays would not fit in memory, for the
    largest number of components any dataset may get."""
    if isinstance(n_components, str):
        largest = _validate.check_int("max_components", max_components, 1)
    elif np.ndim(n_components) == 0:
        largest = _validate.check_int("n_components", n_components, 1)
    else:  # checked in full with the fits
        largest = int(np.max(np.asarray(n_components, dtype=np.float64), initial=1))
    # Per replicate: its estimates, their copy without the ambiguous ones and the
    # percentiles' working copy (3 x 3 arrays of K), its status, flags and indices.
    # A weighted bootstrap's replicate is the data with other weights, whatever they sum to.
    _replicates.check_memory(
        sizes,
        largest,
        n_boot,
        8.0 * (9 * largest + 5),
        n_init,
        1,
        n_init_data,
        weighted=weighted,
    )


def _fit_data(
    batch, weighted: _WeightedData, n_components, max_components, n_init_data, seed, options
):
    """The fits to the data, as :func:`_fits_to_data` gives them, with their problems
    warned about (as :func:`fastem.fit` warns, from the caller of :func:`bootstrap`)."""
    datasets, point_weights = weighted.datasets, weighted.point_weights
    if point_weights is not None and weighted.sample_weight_type == "frequency":
        warn_few_counts(datasets, point_weights, 1, stacklevel=3)
    ks, fits = _fits_to_data(
        batch, datasets, point_weights, n_components, max_components, n_init_data, seed, options
    )
    for k, fitted in fits.items():
        among = "" if len(fits) == 1 else f"the fits of {k} component(s) to the data: "
        for category, message in fitted.problems():
            warnings.warn(among + message, category, stacklevel=3)
    if point_weights is not None:  # a criterion chose K: replicates need K points too
        _replicates.weighted_batch(datasets, point_weights, "frequency", ks)
    return ks, fits


def _draw_and_refit(
    fits, ks, weighted: _WeightedData, resampling: _Resampling, progress
) -> Replicates:
    """Every dataset's replicates, drawn and refitted a chunk at a time, their components
    matched to the fit's; ``progress(done, n_datasets * n_boot)`` after each chunk."""
    datasets, point_weights, sizes = weighted.datasets, weighted.point_weights, weighted.sizes
    n_boot = resampling.n_boot
    replicates = Replicates.empty(len(datasets), n_boot, int(ks.max()))
    done = 0
    for k, fitted in fits.items():
        members = np.flatnonzero(ks == k)  # the group's datasets, in order
        params = _refit.parameters_of(fitted)
        usable = np.isfinite(np.atleast_1d(fitted.log_likelihood))
        replicates.status[members[~usable]] = Status.NON_FINITE
        which = np.flatnonzero(usable)
        source = np.repeat(which, n_boot)
        replicate = np.tile(np.arange(n_boot), which.size)
        global_index = members[source] * n_boot + replicate
        for positions in _replicates.chunks(global_index, sizes[members[source]]):
            rows = source[positions]
            dataset_rows = members[rows]
            at = (dataset_rows, replicate[positions])  # where the chunk's replicates go
            data_rows, weights, runs = _replicates.draw(
                resampling.kind,
                [datasets[d] for d in dataset_rows],
                sizes[dataset_rows],
                global_index[positions],
                _replicates.stage_seed(resampling.seed, 11),
                params=params.take(rows),
                source_weights=None
                if point_weights is None
                else [point_weights[d] for d in dataset_rows],
            )
            refitted = _refit.refit(
                data_rows,
                k,
                [params.take(rows)],
                n_init=resampling.n_init,
                random_state=_replicates.stage_seed(resampling.seed, 12),
                runs=runs,
                options=resampling.options,
                sample_weight=weights,
            )
            _record(replicates, at, k, refitted, params.take(rows), resampling.ambiguity)
            done += positions.size
            if progress is not None:
                progress(done, len(datasets) * n_boot)
    return replicates


def _record(replicates: Replicates, at, k: int, refitted, fitted, ambiguity: float) -> None:
    """Refitted replicates into ``replicates`` at ``at`` (their datasets and indices): their
    status, whether their labelling is ambiguous, and the estimates of the regular ones,
    components matched to the fit's (``fitted``)."""
    matched = match_components(refitted.weights, refitted.means, refitted.variances, *fitted)
    finite = np.isfinite(refitted.log_likelihood)
    replicates.status[at] = np.where(finite, refitted.status, Status.NON_FINITE)
    regular = replicates.status[at] < Status.SPURIOUS
    best, second = labelling_costs(matched, fitted)
    replicates.ambiguous[at] = regular & (second <= ambiguity * best)
    for index in range(3):
        replicates.estimates[index, at[0], at[1], :k] = np.where(
            regular[:, None], matched[index], np.nan
        )


def _fits_to_data(batch, datasets, weights, n_components, max_components, n_init, seed, options):
    """Each dataset's number of components, an int array of shape (n_datasets,), and the
    fits to the data (``weights``: each dataset's frequency weights, or None), ``{K:
    FitResult of the datasets with K components, in order}``.

    With a criterion, :func:`fastem.select` chooses ``K``; its warnings about the
    candidates are not shown, as the chosen fits' problems are (by the caller)."""
    n_datasets = len(datasets)
    seed = _replicates.stage_seed(seed, 10)
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
