"""``fastem.fit``: many 1D Gaussian mixtures, many restarts, one call."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from . import _init, _kernels, _layout, _validate
from ._status import Status

DEFAULT_MAX_ITER = 1000
DEFAULT_TOL = 1e-6
DEFAULT_REG_VARIANCE = 1e-6


class ConvergenceWarning(UserWarning):
    """Some fits stopped at ``max_iter`` before meeting ``tol``."""


class DegenerateFitWarning(UserWarning):
    """Some fits have a collapsed component or a non-finite log-likelihood."""


@dataclass(frozen=True)
class FitResult:
    """Fitted mixtures, one per dataset (the best restart), in the data's units.

    Shapes are given for a batch; for a single 1D dataset the leading
    ``n_datasets`` axis is dropped (``weights`` has shape ``(n_components,)``,
    ``log_likelihood`` is a float, and so on).

    Attributes
    ----------
    weights, means, variances : ndarray of shape (n_datasets, n_components)
        Parameters of the restart with the highest final log-likelihood, components
        sorted by increasing mean.
    log_likelihood : ndarray of shape (n_datasets,)
        Total log-likelihood of the returned parameters.
    n_iter : ndarray of shape (n_datasets,)
        EM iterations (E-step plus M-step) the returned fit ran.
    converged : ndarray of shape (n_datasets,), bool
        Whether the returned fit met ``tol``.
    status : ndarray of shape (n_datasets,), int8
        :class:`Status` code of the returned fit.
    best_restart : ndarray of shape (n_datasets,)
        Index of the returned restart.
    restart_log_likelihood : ndarray of shape (n_datasets, n_init)
        Final log-likelihood of every restart (NaN for a non-finite one).
    restart_n_iter, restart_status : ndarray of shape (n_datasets, n_init)
        Iterations and status code of every restart.
    trace : ndarray of shape (n_datasets, n_init, max_iter + 1) or None
        With ``trace=True``: ``trace[..., t]`` is the log-likelihood after ``t``
        iterations (``t = 0`` is the starting values), NaN after the fit stopped.
    n_samples : ndarray of shape (n_datasets,)
        Points per dataset.
    """

    weights: np.ndarray
    means: np.ndarray
    variances: np.ndarray
    log_likelihood: np.ndarray
    n_iter: np.ndarray
    converged: np.ndarray
    status: np.ndarray
    best_restart: np.ndarray
    restart_log_likelihood: np.ndarray
    restart_n_iter: np.ndarray
    restart_status: np.ndarray
    trace: np.ndarray | None
    n_samples: np.ndarray

    @property
    def n_components(self) -> int:
        return self.means.shape[-1]

    @property
    def n_datasets(self) -> int:
        return 1 if self.means.ndim == 1 else self.means.shape[0]


def fit(
    data,
    n_components=2,
    *,
    n_init=1,
    init="kmeans++",
    weights_init=None,
    means_init=None,
    variances_init=None,
    max_iter=DEFAULT_MAX_ITER,
    tol=DEFAULT_TOL,
    reg_variance=DEFAULT_REG_VARIANCE,
    equal_variance=False,
    random_state=None,
    trace=False,
) -> FitResult:
    """Fit a Gaussian mixture by EM to every dataset, with ``n_init`` restarts each.

    Every (dataset, restart) pair is an independent fit; all of them run in one
    parallel kernel. Each dataset keeps its restart with the highest log-likelihood.

    Parameters
    ----------
    data : array of shape (n_samples,) or (n_datasets, n_samples), or list of 1D arrays
        One dataset, one dataset per row, or datasets of different lengths. Integer
        and float32 data are computed in float64.
    n_components : int, default 2
        Number of mixture components ``K``.
    n_init : int, default 1
        Restarts per dataset.
    init : {"kmeans++", "random_from_data", "quantile"}, default "kmeans++"
        How starting values not given explicitly are chosen (see ``fastem.starting_values``).
    weights_init, means_init, variances_init : array, optional
        Starting values of shape (K,) for every fit, (n_datasets, K) per dataset, or
        (n_datasets, n_init, K) per fit, in the data's units. Those given are used as
        they are; the others come from ``init``.
    max_iter : int, default 1000
        Most EM iterations per fit.
    tol : float, default 1e-6
        A fit stops when the mean log-likelihood per point changes by less than
        ``tol`` between iterations. ``tol=0`` runs exactly ``max_iter`` iterations.
    reg_variance : float, default 1e-6
        Added to every variance at each M-step, as a fraction of the dataset's variance
        (scikit-learn's ``reg_covar``, made scale-free). 0 gives plain EM.
    equal_variance : bool, default False
        One variance shared by all components (mclust's "E" model).
    random_state : None, int or numpy.random.Generator
        Seed of the random starts. Fit ``(d, r)`` draws from a stream keyed by
        ``(random_state, d, r)``, so results are the same for any number of threads.
    trace : bool, default False
        Keep the log-likelihood after every iteration of every fit.

    Returns
    -------
    FitResult
    """
    n_components = _validate.check_int("n_components", n_components, 1)
    n_init = _validate.check_int("n_init", n_init, 1)
    max_iter = _validate.check_int("max_iter", max_iter, 1)
    tol = _validate.check_non_negative("tol", tol)
    reg_variance = _validate.check_non_negative("reg_variance", reg_variance)
    init = _validate.check_choice("init", init, _init.METHODS)
    seed = _validate.check_random_state(random_state)
    equal_variance = bool(equal_variance)

    batch = _validate.as_batch(data)
    center, variance = _layout.moments(batch)
    _validate.check_data_values(batch, center, variance)
    _validate.check_n_samples(batch, n_components)
    given = _validate.check_starting_values(
        weights_init, means_init, variances_init, n_datasets=batch.n_datasets, n_init=n_init,
        n_components=n_components, single=batch.single, equal_variance=equal_variance,
    )
    scale = _layout.scale_from_moments(center, variance)
    _validate.check_scale(scale)

    weights, means, variances = _starting_values(
        batch, center, scale, n_init, n_components, init, seed, given, equal_variance
    )
    n_fits = batch.n_datasets * n_init
    trace_array = np.full((n_fits, max_iter + 1 if trace else 0), np.nan)
    log_likelihood = np.empty(n_fits)
    n_iter = np.empty(n_fits, dtype=np.int64)
    converged = np.empty(n_fits, dtype=np.bool_)
    status = np.empty(n_fits, dtype=np.int8)
    _kernels.fit_batch(
        batch.values, batch.offsets, center, scale, weights, means, variances, max_iter, tol,
        reg_variance, equal_variance, trace_array, log_likelihood, n_iter, converged, status,
    )
    result = _reduce(
        batch, center, scale, n_init, weights, means, variances, log_likelihood, n_iter,
        converged, status, trace_array if trace else None,
    )
    _warn(result, tol=tol, max_iter=max_iter)
    return _squeeze(result) if batch.single else result


def _starting_values(batch, center, scale, n_init, n_components, init, seed, given,
                     equal_variance):
    """Starting values of shape (n_fits, K) in standardised units."""
    shape = (batch.n_datasets * n_init, n_components)
    weights, means, variances = (np.empty(shape) for _ in range(3))
    if any(value is None for value in given):
        _init.initialise(
            _init.method_code(init), batch.values, batch.offsets, center, scale, seed,
            weights, means, variances,
        )
    given_weights, given_means, given_variances = given
    std_means, std_variances = _layout.to_standard_units(
        center,
        scale,
        given_means if given_means is not None else np.zeros((batch.n_datasets, 1, 1)),
        given_variances if given_variances is not None else np.ones((batch.n_datasets, 1, 1)),
    )
    if given_weights is not None:
        weights[:] = given_weights.reshape(shape)
    if given_means is not None:
        means[:] = std_means.reshape(shape)
    if given_variances is not None:
        variances[:] = std_variances.reshape(shape)
    elif equal_variance:
        # Start from the tied model: the weighted mean of the strategy's variances.
        variances[:] = (weights * variances).sum(axis=1, keepdims=True) / weights.sum(
            axis=1, keepdims=True
        )
    return weights, means, variances


def _reduce(batch, center, scale, n_init, weights, means, variances, log_likelihood, n_iter,
            converged, status, trace):
    """Best restart per dataset, components sorted by mean, back in the data's units."""
    n_datasets = batch.n_datasets
    n_samples = batch.n_samples
    restart_ll = _layout.log_likelihood_to_data_units(
        log_likelihood.reshape(n_datasets, n_init), scale, n_samples
    )
    restart_ll[~np.isfinite(restart_ll)] = np.nan
    # A dataset whose restarts are all non-finite keeps restart 0 (flagged by its status).
    best = np.argmax(np.nan_to_num(restart_ll, nan=-np.inf), axis=1)
    rows = np.arange(n_datasets)
    fits = rows * n_init + best
    best_means, best_variances = _layout.to_data_units(
        center, scale, means[fits], variances[fits]
    )
    order = np.argsort(best_means, axis=1, kind="stable")
    if trace is not None:
        trace = _layout.log_likelihood_to_data_units(
            trace.reshape(n_datasets, n_init, -1), scale, n_samples
        )
    restart_status = status.reshape(n_datasets, n_init)
    return FitResult(
        weights=np.take_along_axis(weights[fits], order, axis=1),
        means=np.take_along_axis(best_means, order, axis=1),
        variances=np.take_along_axis(best_variances, order, axis=1),
        log_likelihood=restart_ll[rows, best],
        n_iter=n_iter[fits],
        converged=converged[fits],
        status=restart_status[rows, best],
        best_restart=best,
        restart_log_likelihood=restart_ll,
        restart_n_iter=n_iter.reshape(n_datasets, n_init),
        restart_status=restart_status,
        trace=trace,
        n_samples=n_samples,
    )


def _squeeze(result: FitResult) -> FitResult:
    """Drop the dataset axis for a single 1D dataset."""
    fields = {}
    for name, value in vars(result).items():
        if isinstance(value, np.ndarray):
            value = value[0]
            if value.ndim == 0:
                value = value.item()
        fields[name] = value
    return FitResult(**fields)


def _warn(result: FitResult, *, tol: float, max_iter: int) -> None:
    """One summarised warning per kind of problem, never one per fit."""
    n = result.status.size
    non_finite = int(np.count_nonzero(result.status == Status.NON_FINITE))
    if non_finite:
        warnings.warn(
            f"{non_finite} of {n} dataset(s) have no restart with a finite log-likelihood; "
            "their results are not usable (see FitResult.status). Check the data for extreme "
            "outliers or raise reg_variance.",
            DegenerateFitWarning,
            stacklevel=3,
        )
    floored = int(np.count_nonzero(result.status == Status.VARIANCE_FLOORED))
    if floored:
        warnings.warn(
            f"{floored} of {n} dataset(s) ended with a collapsed component (variance at the "
            "floor set by reg_variance, or weight 0): a spurious maximum of the unbounded "
            "mixture likelihood, common with few points per component or with fewer distinct "
            "values than components. See FitResult.status; try fewer components or a larger "
            "reg_variance.",
            DegenerateFitWarning,
            stacklevel=3,
        )
    if tol > 0:
        stopped = int(np.count_nonzero(result.status == Status.MAX_ITER))
        if stopped:
            warnings.warn(
                f"{stopped} of {n} dataset(s) did not converge within max_iter={max_iter} "
                f"iterations (tol={tol:g}). Raise max_iter, loosen tol, or try other starting "
                "values.",
                ConvergenceWarning,
                stacklevel=3,
            )
