"""``fastem.fit``: many 1D Gaussian mixtures, many restarts, one call."""

from __future__ import annotations

import numbers
import warnings
from dataclasses import dataclass, fields

import numpy as np

from . import _init, _interrupt, _kernels, _layout, _start, _validate, _vmath
from ._model import Model
from ._status import Status

DEFAULT_MAX_ITER = 1000
DEFAULT_TOL = 1e-6
DEFAULT_REG_VARIANCE = 0.0
INIT_METHODS = _init.METHODS + ("emem",)


class ConvergenceWarning(UserWarning):
    """Some fits stopped at ``max_iter`` before meeting ``tol``."""


class DegenerateFitWarning(UserWarning):
    """Some fits have a collapsed component or a non-finite log-likelihood."""


@dataclass(frozen=True, eq=False)
class FitResult:
    """Fitted mixtures, one per dataset (the best restart), in the data's units.

    Shapes are given for a batch; for a single 1D dataset the leading ``n_datasets``
    axis is dropped (``weights`` has shape ``(n_components,)``, ``log_likelihood`` is a
    float, and so on).

    Attributes
    ----------
    weights, means, variances : ndarray of shape (n_datasets, n_components)
        Parameters of the restart with the highest final log-likelihood, components
        sorted by increasing mean (unless ``sort_components=False``).
    log_likelihood : ndarray of shape (n_datasets,)
        Total log-likelihood of the returned parameters (weighted by ``sample_weight``).
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
    restart_n_iter, restart_status, restart_converged : ndarray of shape (n_datasets, n_init)
        Iterations, status code and convergence of every restart.
    init_n_iter : ndarray of shape (n_datasets, n_init)
        EM iterations spent choosing each restart's starting values (emEM's short
        runs; 0 for the other strategies).
    trace : ndarray of shape (n_datasets, n_init, max_iter + 1) or None
        With ``trace=True``: ``trace[..., t]`` is the log-likelihood after ``t``
        iterations (``t = 0`` is the starting values), NaN after the fit stopped.
    n_samples : ndarray of shape (n_datasets,)
        Points per dataset, those of weight 0 included.
    n_observations : ndarray of shape (n_datasets,)
        Points per dataset, or the sum of their ``sample_weight``: the ``n`` of BIC.
    log_map : ndarray of shape (n_datasets,)
        ``sum_i log max_k r_ik`` for the returned parameters: the log-probability of the
        most likely labelling, which ICL penalises.
    model : Model
        The model fitted (constraints, regularisation).
    restart_weights, restart_means, restart_variances : ndarray or None
        With ``return_restarts=True``: every restart's final parameters, shape
        (n_datasets, n_init, n_components), components ordered as the returned fit's.
    start_weights, start_means, start_variances : ndarray or None
        With ``return_restarts=True``: every restart's starting values, same shape, in
        the order the strategy chose them.
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
    restart_converged: np.ndarray
    init_n_iter: np.ndarray
    trace: np.ndarray | None
    n_samples: np.ndarray
    n_observations: np.ndarray
    log_map: np.ndarray
    model: Model
    restart_weights: np.ndarray | None = None
    restart_means: np.ndarray | None = None
    restart_variances: np.ndarray | None = None
    start_weights: np.ndarray | None = None
    start_means: np.ndarray | None = None
    start_variances: np.ndarray | None = None

    @property
    def n_components(self) -> int:
        return self.means.shape[-1]

    @property
    def n_datasets(self) -> int:
        return 1 if self.means.ndim == 1 else self.means.shape[0]

    @property
    def n_parameters(self) -> int:
        """Free parameters of the model (see :attr:`Model.n_parameters`)."""
        return self.model.n_parameters

    def bic(self):
        """Bayesian information criterion, ``-2 log L + p log n``: smaller is better.

        This is scikit-learn's sign; mclust reports ``2 log L - p log n`` (larger is
        better), the same number negated.
        """
        return -2.0 * self.log_likelihood + self.n_parameters * _vmath.log(self.n_observations)

    def aic(self):
        """Akaike information criterion, ``-2 log L + 2 p``: smaller is better."""
        return -2.0 * self.log_likelihood + 2.0 * self.n_parameters

    def icl(self):
        """Integrated completed likelihood, ``BIC - 2 sum_i log max_k r_ik``: smaller is
        better (mclust's ICL, negated): BIC penalised by the uncertainty of the labels."""
        return self.bic() - 2.0 * self.log_map


def fit(
    data,
    n_components=2,
    *,
    n_init=1,
    init="kmeans++",
    init_params=None,
    weights_init=None,
    means_init=None,
    variances_init=None,
    sample_weight=None,
    equal_variance=False,
    equal_weights=False,
    fix_weights=False,
    fix_means=False,
    fix_variances=False,
    max_iter=DEFAULT_MAX_ITER,
    tol=DEFAULT_TOL,
    reg_variance=DEFAULT_REG_VARIANCE,
    random_state=None,
    trace=False,
    return_restarts=False,
    skip_degenerate=False,
    dataset_offset=0,
    sort_components=True,
    warn=True,
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
    init : str, default "kmeans++"
        How starting values not given explicitly are chosen: "kmeans++",
        "random_from_data", "kmeans", "quantile", "random" (mixtools' scheme) or "emem"
        (short runs of EM); see :mod:`fastem.init`.
    init_params : dict, optional
        Options of the strategy; for "emem": ``n_runs`` (10) short runs of ``n_iter``
        (5) iterations each from ``start`` ("random_from_data").
    weights_init, means_init, variances_init : array, optional
        Starting values of shape (K,) for every fit, (n_datasets, K) per dataset, or
        (n_datasets, n_init, K) per fit, in the data's units. Those given are used as
        they are; the others come from ``init``.
    sample_weight : array, optional
        A non-negative weight per point, in the shape of ``data``. Integer weights fit
        the data with points repeated; counts at bin centres fit binned data.
    equal_variance : bool, default False
        One variance shared by all components (mclust's "E" model).
    equal_weights : bool, default False
        Weights held at ``1/K`` (mclust's ``equalPro``).
    fix_weights, fix_means, fix_variances : bool or array of bool of shape (K,)
        Hold those parameters (of all components, or of those marked) at their given
        starting values, which must then be passed.
    max_iter : int, default 1000
        Most EM iterations per fit.
    tol : float, default 1e-6
        A fit stops when the mean log-likelihood per point changes by less than
        ``tol`` between iterations. ``tol=0`` runs exactly ``max_iter`` iterations.
    reg_variance : float, default 0
        Added to every variance at each M-step, as a fraction of the dataset's variance
        (scikit-learn's ``reg_covar``, made scale-free). The default 0 is plain EM, as in
        mixtools and mclust: any positive value biases variances, and the more so the
        farther apart the components are (it is relative to the whole dataset's variance).
        A variance never goes below 1e-15 of the dataset's (a floor, not an addition), so
        a collapsing component keeps a finite density and is flagged.
    random_state : None, int or numpy.random.Generator
        Seed of the random starts. Fit ``(d, r)`` draws from a stream keyed by
        ``(random_state, d, r)``, so results are the same for any number of threads.
    trace : bool or int, default False
        Keep the log-likelihood after every iteration of every fit (``8 * (max_iter + 1)``
        bytes per fit); an integer ``L`` keeps only the first ``L`` entries (at most
        ``max_iter + 1``), the rest of ``trace`` is then cut off.
    return_restarts : bool, default False
        Keep every restart's starting values and final parameters.
    dataset_offset : int, default 0
        Global index of the first dataset, for seeding: fitting rows ``a:b`` of a batch
        with ``dataset_offset=a`` gives exactly rows ``a:b`` of fitting the whole batch,
        so a large batch can be fitted in chunks (or on several machines).
    skip_degenerate : bool, default False
        Choose each dataset's best restart among those that did not collapse
        (``Status.VARIANCE_FLOORED``) when there is one. By default the highest
        log-likelihood wins, which on small datasets is often a spurious maximum with a
        component collapsed onto a point.
    sort_components : bool, default True
        Return each fit's components in order of increasing mean, so that the
        components of different datasets and restarts line up. With False they keep the
        order of their starting values (as scikit-learn's do), which matters when
        ``means_init`` says which component is which.
    warn : bool, default True
        Summarise fits that collapsed, became non-finite or did not converge in one
        :class:`DegenerateFitWarning` or :class:`ConvergenceWarning` per kind. With False
        only ``FitResult.status`` tells, for callers that summarise several calls
        themselves (chunks of one batch, say) without touching the process's warning
        filters, which threads share.

    Returns
    -------
    FitResult
    """
    n_components = _validate.check_int("n_components", n_components, 1)
    n_init = _validate.check_int("n_init", n_init, 1, _validate.MAX_ITER_LIMIT)
    max_iter = _validate.check_int("max_iter", max_iter, 1, _validate.MAX_ITER_LIMIT)
    tol = _validate.check_non_negative("tol", tol)
    reg_variance = _validate.check_non_negative("reg_variance", reg_variance)
    init = _validate.check_choice("init", init, INIT_METHODS)
    init_params = _validate.check_init_params(init, init_params, _start.INIT_PARAMS)
    dataset_offset = _validate.check_int("dataset_offset", dataset_offset, 0, _validate.MAX_INDEX)
    seed = (_validate.check_random_state(random_state), dataset_offset)
    equal_variance = _validate.check_bool("equal_variance", equal_variance)
    equal_weights = _validate.check_bool("equal_weights", equal_weights)
    trace_length = _validate.check_trace(trace, max_iter)
    return_restarts = _validate.check_bool("return_restarts", return_restarts)
    skip_degenerate = _validate.check_bool("skip_degenerate", skip_degenerate)
    sort_components = _validate.check_bool("sort_components", sort_components)
    warn = _validate.check_bool("warn", warn)

    batch, center, scale = _validate.prepared_batch(
        data, sample_weight, n_components, first=dataset_offset
    )
    _check_fit_memory(batch.n_datasets * n_init * init_params.get("n_runs", 1), n_components,
                      trace_length)
    given = _validate.check_starting_values(
        weights_init, means_init, variances_init, n_datasets=batch.n_datasets, n_init=n_init,
        n_components=n_components, single=batch.single, equal_variance=equal_variance,
    )
    model = _validate.check_model(
        n_components, reg_variance, equal_variance, equal_weights, given,
        fix_weights=fix_weights, fix_means=fix_means, fix_variances=fix_variances,
    )
    _warn_identical_restarts(n_init, init, given)

    weights, means, variances, init_n_iter = _start.starting_values(
        init, init_params, batch, center, scale, model, n_init, seed, given
    )
    starts = (weights.copy(), means.copy(), variances.copy()) if return_restarts else None
    n_fits = batch.n_datasets * n_init
    trace_array = np.full((n_fits, trace_length), np.nan)
    log_likelihood = np.empty(n_fits)
    log_map = np.empty(n_fits)
    n_iter = np.empty(n_fits, dtype=np.int64)
    converged = np.empty(n_fits, dtype=np.bool_)
    status = np.empty(n_fits, dtype=np.int8)
    _interrupt.run(
        _kernels.fit_batch, batch.values, batch.offsets, batch.kernel_weights, center, scale,
        weights, means, variances, max_iter, tol, model.kernel_options(), trace_array,
        log_likelihood, log_map, n_iter, converged, status,
    )
    fitted = _Fitted(
        weights, means, variances, log_likelihood, log_map, n_iter, converged, status,
        trace_array if trace_length else None, init_n_iter,
    )
    result = _reduce(batch, center, scale, n_init, model, given, fitted, starts, skip_degenerate,
                     sort_components, starts_moved=init == "emem")
    if warn:
        _warn(result, tol=tol, max_iter=max_iter)
    return _squeeze(result) if batch.single else result


def _check_fit_memory(n_fits, n_components, trace_length):
    """Per fit: parameters and their copies (about 9 arrays of K), per-fit outputs, and
    ``trace_length`` log-likelihoods."""
    per_fit = 8.0 * (9 * n_components + 6 + trace_length)
    fix = ("Fit fewer datasets or restarts per call (dataset_offset keeps the seeding of "
           "chunks)" + (", or keep a shorter trace (trace=L or a smaller max_iter)."
                        if trace_length else "."))
    _validate.check_memory(n_fits * per_fit, f"{n_fits} fits", fix)


@dataclass
class _Fitted:
    """What the kernel returns, per fit, in standardised units."""

    weights: np.ndarray
    means: np.ndarray
    variances: np.ndarray
    log_likelihood: np.ndarray
    log_map: np.ndarray
    n_iter: np.ndarray
    converged: np.ndarray
    status: np.ndarray
    trace: np.ndarray | None
    init_n_iter: np.ndarray


def _to_data_units(center, scale, given, masks, grid, weights, means, variances):
    """Parameters of shape (n_fits, K) in the data's units, shaped to ``grid``.

    Components marked in ``masks`` (one boolean array of shape (K,) per parameter) are
    copied from the given values, so that they come back exactly as given rather than
    through a round trip of standardisation (or normalisation, for weights).
    """
    arrays = (
        weights.reshape(grid).copy(),
        _layout.means_to_data(center, scale, means.reshape(grid)),
        _layout.variances_to_data(scale, variances.reshape(grid)),
    )
    for mask, array, value in zip(masks, arrays, given):
        if value is not None and mask.any():
            array[..., mask] = value[..., mask]
    return arrays


def _reduce(batch, center, scale, n_init, model, given, fitted, starts, skip_degenerate,
            sort_components, starts_moved=False):
    """Best restart per dataset, components sorted by mean (if asked), back in the data's
    units."""
    n_datasets = batch.n_datasets
    n_components = model.n_components
    grid = (n_datasets, n_init, n_components)
    n_observations = batch.n_observations
    fixed = (model.fixed_weights, model.fixed_means, model.fixed_variances)
    weights, means, variances = _to_data_units(
        center, scale, given, fixed, grid, fitted.weights, fitted.means, fitted.variances
    )
    restart_ll = _layout.log_likelihood_to_data_units(
        fitted.log_likelihood.reshape(n_datasets, n_init), scale, n_observations
    )
    restart_ll[~np.isfinite(restart_ll)] = np.nan
    restart_status = fitted.status.reshape(n_datasets, n_init)
    ranking = np.nan_to_num(restart_ll, nan=-np.inf)
    if skip_degenerate:
        regular = restart_status < Status.VARIANCE_FLOORED
        keep = regular | ~regular.any(axis=1, keepdims=True)
        ranking = np.where(keep, ranking, -np.inf)
    # A dataset whose restarts are all non-finite keeps restart 0 (flagged by its status).
    best = np.argmax(ranking, axis=1)
    rows = np.arange(n_datasets)
    if sort_components:
        order = np.argsort(means, axis=2, kind="stable")
        weights, means, variances = (
            np.take_along_axis(a, order, axis=2) for a in (weights, means, variances)
        )
    trace = fitted.trace
    if trace is not None:
        trace = _layout.log_likelihood_to_data_units(
            trace.reshape(n_datasets, n_init, -1), scale, n_observations
        )
    restarts = {}
    if starts is not None:
        # Given starting values are used as they are, except by emEM, whose short runs
        # move all but the fixed ones.
        every = np.ones(n_components, dtype=np.bool_)
        kept = fixed if starts_moved else (every, every, every)
        start_weights, start_means, start_variances = _to_data_units(
            center, scale, given, kept, grid, *starts
        )
        restarts = dict(
            restart_weights=weights, restart_means=means, restart_variances=variances,
            start_weights=start_weights, start_means=start_means,
            start_variances=start_variances,
        )
    return FitResult(
        weights=weights[rows, best],
        means=means[rows, best],
        variances=variances[rows, best],
        log_likelihood=restart_ll[rows, best],
        n_iter=fitted.n_iter.reshape(n_datasets, n_init)[rows, best],
        converged=fitted.converged.reshape(n_datasets, n_init)[rows, best],
        status=restart_status[rows, best],
        best_restart=best,
        restart_log_likelihood=restart_ll,
        restart_n_iter=fitted.n_iter.reshape(n_datasets, n_init),
        restart_status=restart_status,
        restart_converged=fitted.converged.reshape(n_datasets, n_init),
        init_n_iter=fitted.init_n_iter,
        trace=trace,
        n_samples=batch.n_samples_given,
        n_observations=n_observations,
        log_map=fitted.log_map.reshape(n_datasets, n_init)[rows, best],
        model=model,
        **restarts,
    )


def _squeeze(result: FitResult) -> FitResult:
    """Drop the dataset axis for a single 1D dataset."""
    values = {}
    for field in fields(result):
        value = getattr(result, field.name)
        if isinstance(value, np.ndarray):
            value = value[0]
            if value.ndim == 0:
                value = value.item()
        values[field.name] = value
    return FitResult(**values)


def _unsqueeze(result: FitResult) -> FitResult:
    """A result of one 1D dataset with its dataset axis back (the inverse of _squeeze)."""
    if result.means.ndim > 1:
        return result
    values = {}
    for field in fields(result):
        value = getattr(result, field.name)
        if isinstance(value, (np.ndarray, numbers.Number)):
            value = np.asarray(value)[np.newaxis]
        values[field.name] = value
    # _squeeze made the int8 status a Python int.
    values["status"] = values["status"].astype(np.int8)
    return FitResult(**values)


def _warn_identical_restarts(n_init, init, given):
    """Restarts that cannot differ are wasted work; say so once."""
    if n_init == 1:
        return
    if given[1] is not None and all(
        value is None or value.strides[1] == 0 for value in given
    ):
        reason = "means_init (with the other starting values) is the same for every restart"
    elif init == "quantile" and all(value is None for value in given):
        reason = "init='quantile' is deterministic"
    else:
        return
    warnings.warn(
        f"n_init={n_init} restarts all start from the same values ({reason}), so they give "
        "identical fits; use n_init=1, or give starting values of shape (n_datasets, n_init, K).",
        UserWarning,
        stacklevel=3,
    )


def _warn(result: FitResult, *, tol: float, max_iter: int) -> None:
    """One summarised warning per kind of problem, never one per fit."""
    for category, message in _problems(result, tol=tol, max_iter=max_iter):
        warnings.warn(message, category, stacklevel=3)


def _problems(result: FitResult, *, tol: float, max_iter: int) -> list[tuple[type, str]]:
    """``(warning category, message)`` for each kind of problem among the fits."""
    n = np.size(result.status)
    problems = []
    non_finite = int(np.count_nonzero(result.status == Status.NON_FINITE))
    if non_finite:
        problems.append((DegenerateFitWarning, (
            f"{non_finite} of {n} dataset(s) have no restart with a finite log-likelihood; "
            "their results are not usable (see FitResult.status). Check the data for extreme "
            "outliers or raise reg_variance."
        )))
    floored = int(np.count_nonzero(result.status == Status.VARIANCE_FLOORED))
    if floored:
        problems.append((DegenerateFitWarning, (
            f"{floored} of {n} dataset(s) ended with a collapsed component (variance below "
            "reg_variance or at the floor of 1e-15 of the dataset's, or weight 0): a "
            "spurious maximum of the unbounded "
            "mixture likelihood, common with few points per component or with fewer distinct "
            "values than components. See FitResult.status; try fewer components or a larger "
            "reg_variance."
        )))
    if tol > 0:
        usable = result.status != Status.NON_FINITE  # already reported above
        stopped = int(np.count_nonzero(~np.asarray(result.converged) & usable))
        if stopped:
            problems.append((ConvergenceWarning, (
                f"{stopped} of {n} dataset(s) did not converge within max_iter={max_iter} "
                f"iterations (tol={tol:g}). Raise max_iter, loosen tol, or try other starting "
                "values."
            )))
    return problems
