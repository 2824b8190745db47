"""Bootstrap standard errors and percentile intervals of fitted mixtures, for many
datasets in one call (R's ``mclust::MclustBootstrap``, ``mixtools::boot.se``)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from . import _refit, _validate
from ._status import Status
from .analysis import match_components
from .api import DEFAULT_MAX_ITER, DEFAULT_SPURIOUS, fit
from .result import FitResult, squeeze
from .spurious import check_rule
from .table import Table

KINDS = _refit.KINDS


@dataclass(frozen=True, repr=False)
class BootstrapResult:
    """What :func:`bootstrap` found. Arrays have a leading dataset axis, dropped for one 1D
    dataset.

    Attributes
    ----------
    fit : FitResult
        The fit to the data whose parameters are bootstrapped.
    kind : {"parametric", "nonparametric", "weighted"}
    weights, means, variances : arrays of shape (n_datasets, n_boot, K)
        Every replicate's estimates, components matched to ``fit``'s (so no label
        switching); NaN for a failed replicate.
    standard_errors, lower, upper : :class:`Parameters`, arrays of shape (n_datasets, K)
        The standard deviation of the replicates' estimates, and the percentile interval at
        ``level``, per parameter; NaN for a parameter the model fixes (equal weights).
    status : int array of shape (n_datasets, n_boot)
        Each replicate's :class:`~fastem.Status`.
    n_failed : int array of shape (n_datasets,)
        Replicates left out: no fit that was not spurious, collapsed or non-finite.
    """

    fit: FitResult
    kind: str
    n_boot: int
    level: float
    weights: np.ndarray
    means: np.ndarray
    variances: np.ndarray
    standard_errors: _refit.Parameters
    lower: _refit.Parameters
    upper: _refit.Parameters
    status: np.ndarray
    n_failed: np.ndarray

    @property
    def n_datasets(self) -> int:
        return 1 if np.ndim(self.n_failed) == 0 else len(self.n_failed)

    def table(self) -> Table:
        """One row per dataset, component and parameter: ``dataset``, ``component`` (from
        1), ``parameter``, ``estimate``, ``se``, ``lower``, ``upper``."""
        fitted = _refit.parameters_of(self.fit)
        n_datasets, n_components = fitted.means.shape
        columns = {name: [] for name in ("dataset", "component", "parameter", "estimate",
                                         "se", "lower", "upper")}
        for index, name in enumerate(("weight", "mean", "variance")):
            parts = (fitted[index], self.standard_errors[index], self.lower[index],
                     self.upper[index])
            parts = [np.atleast_2d(a) for a in parts]
            for d in range(n_datasets):
                for k in range(n_components):
                    columns["dataset"].append(d)
                    columns["component"].append(k + 1)
                    columns["parameter"].append(name)
                    for column, values in zip(("estimate", "se", "lower", "upper"), parts):
                        columns[column].append(values[d, k])
        order = np.lexsort((columns["component"], columns["dataset"]))
        return Table({name: np.asarray(values)[order] for name, values in columns.items()})

    def __repr__(self) -> str:
        failed = int(np.sum(self.n_failed))
        return (f"BootstrapResult({self.n_datasets} dataset(s), {self.kind}, "
                f"n_boot={self.n_boot}, {failed} failed replicate(s))")

    def __str__(self) -> str:
        head = (f"Bootstrap ({self.kind}, {self.n_boot} replicates) standard errors and "
                f"{100 * self.level:g}% percentile intervals")
        return f"{head}\n{self.table()}"


def bootstrap(data, n_components=2, n_boot=999, *, kind="parametric", n_init=5,
              n_init_data=30, random_state=0, level=0.95, equal_variance=False,
              equal_weights=False, algorithm="squarem", stop="loglik", tol=None,
              max_iter=DEFAULT_MAX_ITER, spurious=DEFAULT_SPURIOUS,
              progress=None) -> BootstrapResult:
    """Standard errors and percentile intervals of a mixture's parameters by bootstrap.

    Fits ``n_components`` to each dataset (``n_init_data`` restarts), draws ``n_boot``
    replicates, refits each from the fit to the data and ``n_init`` random k-means++
    restarts, matches the replicate's components to the fit's (the assignment of
    :func:`fastem.match_components`), and summarises the replicates per parameter.

    Parameters
    ----------
    data : array of shape (n_samples,) or (n_datasets, n_samples), or list of 1D arrays
    n_components : int, default 2
    n_boot : int, default 999
    kind : {"parametric", "nonparametric", "weighted"}, default "parametric"
        Replicates drawn from the fitted mixture; resampled from the data with
        replacement; or the data with random weights ``n * Dirichlet(1, ..., 1)``, the
        weighted likelihood bootstrap (Newton & Raftery 1994). mclust's ``MclustBootstrap``
        types "pb", "bs" and "wlbs"; mixtools' ``boot.se`` is "parametric".
    n_init : int, default 5
        Random restarts of each replicate's fit, besides the start from the fit to the data.
    n_init_data : int, default 30
        Restarts of the fit to the data.
    random_state : int or numpy.random.Generator, default 0
        Seed of the fit to the data, the replicates and their restarts. Replicate ``b`` of
        dataset ``d`` draws from streams keyed by ``d * n_boot + b``, so a dataset's
        replicates do not depend on how many datasets are fitted with it.
    level : float, default 0.95
        Coverage of the percentile intervals.
    equal_variance, equal_weights, algorithm, stop, tol, max_iter, spurious
        As in :func:`fastem.fit`; SQUAREM by default. Fits choose their best restart that
        is not spurious (``skip_degenerate``).
    progress : callable, optional
        Called as ``progress(done, n_datasets * n_boot)`` after every chunk of replicates.

    Returns
    -------
    BootstrapResult
    """
    n_components = _validate.check_int("n_components", n_components, 1)
    n_boot = _validate.check_int("n_boot", n_boot, 2, _validate.MAX_ITER_LIMIT)
    kind = _validate.check_choice("kind", kind, KINDS)
    n_init = _validate.check_int("n_init", n_init, 0, _validate.MAX_ITER_LIMIT)
    n_init_data = _validate.check_int("n_init_data", n_init_data, 1, _validate.MAX_ITER_LIMIT)
    seed = _validate.check_random_state(random_state)
    level = _validate.check_level(level)
    options = dict(equal_variance=_validate.check_bool("equal_variance", equal_variance),
                   equal_weights=_validate.check_bool("equal_weights", equal_weights),
                   algorithm=algorithm, stop=stop, tol=tol, max_iter=max_iter,
                   spurious=check_rule(spurious), skip_degenerate=True)
    batch = _validate.prepared_batch(data, None, n_components)
    datasets = [batch.dataset(d) for d in range(batch.n_datasets)]
    fitted = fit(datasets, n_components, n_init=n_init_data,
                 random_state=_refit.stage_seed(seed, 10), warn=False, **options)
    params = _refit.parameters_of(fitted)
    n_datasets = len(datasets)
    sizes = np.asarray(batch.n_samples, dtype=np.int64)

    estimates = np.full((3, n_datasets, n_boot, n_components), np.nan)
    status = np.zeros((n_datasets, n_boot), dtype=np.int64)
    usable = np.isfinite(np.atleast_1d(fitted.log_likelihood))
    which = np.flatnonzero(usable)
    status[~usable] = Status.NON_FINITE
    source = np.repeat(which, n_boot)
    replicate = np.tile(np.arange(n_boot), which.size)
    global_index = source * n_boot + replicate
    done = 0
    for positions in _refit.chunks(global_index, sizes[source]):
        rows = source[positions]
        data_rows, weights, runs = _refit.draw(
            kind, [datasets[d] for d in rows], sizes[rows], global_index[positions],
            _refit.stage_seed(seed, 11), params=params.take(rows),
        )
        refitted = _refit.refit(data_rows, n_components, [params.take(rows)], n_init=n_init,
                                random_state=_refit.stage_seed(seed, 12), runs=runs,
                                options=options, sample_weight=weights)
        matched = match_components(refitted.weights, refitted.means, refitted.variances,
                                   *params.take(rows))
        failed = ((refitted.status >= Status.SPURIOUS)
                  | ~np.isfinite(refitted.log_likelihood))
        for index in range(3):
            estimates[index, rows, replicate[positions]] = np.where(
                failed[:, None], np.nan, matched[index])
        status[rows, replicate[positions]] = refitted.status
        done += positions.size
        if progress is not None:
            progress(done, n_datasets * n_boot)

    n_failed = (~np.isfinite(estimates[1]).all(axis=2)).sum(axis=1)
    fixed = np.zeros((3, n_components), dtype=np.bool_)
    fixed[0] = options["equal_weights"] or n_components == 1
    summaries = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all NaN: a dataset that failed
        se = np.nanstd(estimates, axis=2, ddof=1)
        tail = 100 * (1 - level) / 2
        lower, upper = np.nanpercentile(estimates, [tail, 100 - tail], axis=2)
    for values in (se, lower, upper):
        values = np.where(fixed[:, None, :], np.nan, values)
        summaries.append(_refit.Parameters(*values))
    result = BootstrapResult(
        fit=fitted, kind=kind, n_boot=n_boot, level=level, weights=estimates[0],
        means=estimates[1], variances=estimates[2], standard_errors=summaries[0],
        lower=summaries[1], upper=summaries[2], status=status, n_failed=n_failed,
    )
    return squeeze(result) if batch.single else result
