"""What a fit returns: :class:`FitResult`, built from the kernel's output by choosing the
best restart of each dataset, its warnings, and the (un)squeezing of the dataset axis."""

from __future__ import annotations

import dataclasses
import numbers
import warnings
from dataclasses import dataclass, fields

import numpy as np

from . import search
from .engine import information as _information
from .engine import layout as _layout
from .engine import vmath as _vmath
from .engine.information import StandardErrors
from .engine.status import Status
from .mixtures import log_posteriors
from .model import Model
from .options import PER_BATCH
from .spurious import SpuriousRule
from .table import Table

_PER_BATCH = ("model", "auto_search", *PER_BATCH)
"""Fields of a :class:`FitResult` that describe the whole batch, not one dataset."""


class ConvergenceWarning(UserWarning):
    """Some fits stopped at ``max_iter`` before meeting ``tol``."""


class SearchWarning(UserWarning):
    """Some datasets' search for the maximum did not settle within its budget of
    restarts (``n_init="auto"``): their fit may not be the best maximum."""


class DegenerateFitWarning(UserWarning):
    """Some fits are spurious maxima, have a collapsed component or a non-finite
    log-likelihood, or have no standard errors (a singular information matrix)."""


@dataclass(frozen=True, eq=False, repr=False)
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
        EM iterations (E-step plus M-step) the returned fit ran; with SQUAREM, its
        accepted steps.
    n_fpeval, n_objeval : ndarray of shape (n_datasets,)
        EM maps evaluated (passes over the data that produce parameters) and
        log-likelihoods computed by the returned fit (each map computes one, and a last
        pass gives that of the returned parameters).
    rate : ndarray of shape (n_datasets,)
        The last Aitken ratio ``a_t = (l_t - l_{t-1}) / (l_{t-1} - l_{t-2})`` of the
        returned fit's accepted steps (NaN where undefined: fewer than three steps, or no
        change). Near a maximum EM's error shrinks as ``lambda^t``, where ``lambda``, EM's
        rate of convergence, is the largest eigenvalue of ``I_c^-1 (I_c - I_obs)`` (the
        largest fraction of missing information); the log-likelihood's gap, quadratic in
        the error, shrinks as ``lambda^2t``, so ``rate`` estimates ``lambda^2``, not
        ``lambda``. With SQUAREM, the same ratio over its accepted steps, which is not
        EM's.
    parameter_rate : ndarray of shape (n_datasets,)
        The last ratio of the norms of two successive steps of the parameters (weights,
        means, variances, standardised), ``|theta_t - theta_{t-1}| / |theta_{t-1} -
        theta_{t-2}|``, which tends to ``lambda`` itself (NaN where undefined). Resolved
        down to steps far smaller than ``rate`` needs, whose log-likelihood differences
        drown in rounding once they fall below about 1e-16 of the log-likelihood (as
        the default stopping rule's last steps do). With SQUAREM, not EM's.
    converged : ndarray of shape (n_datasets,), bool
        Whether the returned fit met ``tol``.
    status : ndarray of shape (n_datasets,), int8
        :class:`Status` code of the returned fit.
    best_restart : ndarray of shape (n_datasets,)
        Index of the returned restart; -1 where the returned fit is none of them (the
        fit of one component fewer, with a component halved, which :func:`fastem.select`
        returns where the search of more components ended below it).
    n_restarts : ndarray of shape (n_datasets,)
        Restarts run for the dataset: ``n_init``, or with ``n_init="auto"`` as many as its
        search took (the restart arrays' further entries are ``Status.NOT_RUN``, with a
        NaN log-likelihood).
    n_maxima, n_at_best : ndarray of shape (n_datasets,)
        Distinct maxima the counted restarts reached (the regular ones with
        ``skip_degenerate``, else all), and how many of them reached the best.
    p_unseen : ndarray of shape (n_datasets,)
        The Good-Turing estimate of the probability that one more restart finds a maximum
        not seen yet: the share of counted restarts whose maximum no other reached (Finch,
        Mendell & Thode 1989); NaN without a counted restart.
    settled : ndarray of shape (n_datasets,), bool
        ``n_at_best >= 2`` and ``p_unseen <= unseen_tol``: the search can vouch for its
        best maximum.
    restart_log_likelihood : ndarray of shape (n_datasets, n_init)
        Final log-likelihood of every restart (NaN for a non-finite one).
    restart_n_iter, restart_n_fpeval, restart_status, restart_converged : ndarray of shape
        (n_datasets, n_init)
        Iterations, EM maps, status code and convergence of every restart.
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
    tol, max_iter, algorithm, stop : float, int, str, str
        The algorithm and stopping rule the fits ran with.
    spurious_rule : SpuriousRule
        The rule that set ``Status.SPURIOUS``.
    skip_degenerate : bool
        Whether the best restart was chosen among the regular ones (status below
        ``SPURIOUS``) when there were any.
    unseen_tol : float
        The bound on ``p_unseen`` of a settled search.
    auto_search : bool
        Whether the restarts ran in rounds until settled (``n_init="auto"``).
    restart_weights, restart_means, restart_variances : ndarray or None
        With ``return_restarts=True``: every restart's final parameters, shape
        (n_datasets, n_init, n_components), components ordered as the returned fit's.
    start_weights, start_means, start_variances : ndarray or None
        With ``return_restarts=True``: every restart's starting values, same shape, in
        the order the strategy chose them.
    standard_errors : StandardErrors or None
        With ``se="score"`` or ``"louis"``: standard errors of the returned parameters
        and the covariance matrix of the free ones, per dataset (see
        :class:`fastem.StandardErrors`).
    """

    weights: np.ndarray
    means: np.ndarray
    variances: np.ndarray
    log_likelihood: np.ndarray
    n_iter: np.ndarray
    n_fpeval: np.ndarray
    n_objeval: np.ndarray
    rate: np.ndarray
    parameter_rate: np.ndarray
    converged: np.ndarray
    status: np.ndarray
    best_restart: np.ndarray
    n_restarts: np.ndarray
    n_maxima: np.ndarray
    n_at_best: np.ndarray
    p_unseen: np.ndarray
    settled: np.ndarray
    restart_log_likelihood: np.ndarray
    restart_n_iter: np.ndarray
    restart_n_fpeval: np.ndarray
    restart_status: np.ndarray
    restart_converged: np.ndarray
    init_n_iter: np.ndarray
    trace: np.ndarray | None
    n_samples: np.ndarray
    n_observations: np.ndarray
    log_map: np.ndarray
    model: Model
    tol: float
    max_iter: int
    algorithm: str
    stop: str
    spurious_rule: SpuriousRule
    skip_degenerate: bool
    unseen_tol: float
    auto_search: bool
    restart_weights: np.ndarray | None = None
    restart_means: np.ndarray | None = None
    restart_variances: np.ndarray | None = None
    start_weights: np.ndarray | None = None
    start_means: np.ndarray | None = None
    start_variances: np.ndarray | None = None
    standard_errors: StandardErrors | None = None

    @property
    def n_components(self) -> int:
        return self.means.shape[-1]

    @property
    def n_init(self) -> int:
        return self.restart_log_likelihood.shape[-1]

    def __repr__(self) -> str:
        if self.means.ndim == 1:
            return (
                f"<FitResult: {self.model.describe()}, n={self.n_observations:g}; "
                f"log-likelihood {self.log_likelihood:.6g}, {Status(self.status).name.lower()}"
                f" after {self.n_iter} iterations; weights {_numbers(self.weights)}, means "
                f"{_numbers(self.means)}, variances {_numbers(self.variances)}>"
            )
        return (
            f"<FitResult: {self.n_datasets} datasets, {self.model.describe()}, "
            f"{self.n_init} restart(s) each; {_status_counts(self.status)}; "
            "summary() for more>"
        )

    def summary(self) -> str:
        """A report of the fit, like mclust's ``summary``: the model, ``n``, the
        log-likelihood and criteria, convergence and restarts, and the parameters; for a
        batch, the outcomes over datasets and the spread of each parameter."""
        if self.means.ndim > 1:
            return _batch_summary(self)
        criteria = Table(
            {
                "log_likelihood": [_decimals(self.log_likelihood)],
                "n": [self.n_observations],
                "df": [self.n_parameters],
                "bic": [_decimals(self.bic())],
                "aic": [_decimals(self.aic())],
                "icl": [_decimals(self.icl())],
            }
        )
        errors = self.standard_errors
        components = {"component": np.arange(1, self.n_components + 1)}
        for name in ("weight", "mean", "variance"):
            components[name] = getattr(self, name + "s")
            if errors is not None:
                components[name + "_se"] = getattr(errors, name + "s")
        components["sd"] = np.sqrt(self.variances)
        counted = int(
            np.count_nonzero(search.counted_restarts(self.restart_status, self.skip_degenerate))
        )
        among = "" if counted == self.n_restarts else f" ({counted} regular)"
        return "\n".join(
            [
                f"Gaussian mixture fitted by {self.algorithm.upper()} (stop={self.stop!r}): "
                f"{self.model.describe()}",
                "",
                str(criteria),
                "(bic, aic, icl: smaller is better; mclust prints bic and icl negated)",
                "",
                f"status {Status(self.status).name.lower()} after {self.n_iter} iterations "
                f"(tol {self.tol:g}, max_iter {self.max_iter}); best of {self.n_restarts} "
                f"restart(s){among}",
                _search_line(
                    self.n_maxima, self.n_at_best, self.p_unseen, self.settled, self.unseen_tol
                ),
                "",
                str(Table(components)),
            ]
            + ([] if errors is None else [_errors_note(errors)])
        )

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

    def problems(self) -> list[tuple[type, str]]:
        """``(warning category, message)`` for each kind of problem among the fits: no
        finite log-likelihood, a collapsed component, no convergence within ``max_iter``."""
        return _problems(self)

    def warn(self, stacklevel: int = 2) -> None:
        """Issue :meth:`problems` as warnings, one per kind of problem (never one per fit)."""
        for category, message in self.problems():
            warnings.warn(message, category, stacklevel=stacklevel + 1)

    def icl(self):
        """Integrated completed likelihood, ``BIC - 2 sum_i log max_k r_ik``: smaller is
        better (mclust's ICL, negated): BIC penalised by the uncertainty of the labels."""
        return self.bic() - 2.0 * self.log_map

    def predict_proba(self, data):
        """Posterior probability of each component at each point (mclust's ``z``, mixtools'
        ``posterior``), by the fitted mixture of the point's dataset.

        ``data`` holds one dataset per fitted one, in the shapes :func:`fastem.fit`
        takes (the fitted data, or new points); a 1D array with a result of several
        datasets is the same points for every mixture. Returns an array of shape
        ``data.shape + (n_components,)``, or a list of ``(n_d, n_components)`` arrays for a
        list of datasets. ``1 - predict_proba(x).max(axis=-1)`` is mclust's
        ``uncertainty``. A dataset whose fit has no finite log-likelihood gets NaN.
        """
        log_resp, _, unpack = log_posteriors(self, data)
        return unpack(np.exp(log_resp))

    def predict(self, data):
        """The most probable component of each point (mclust's ``classification``), an
        int64 array in the shape of ``data`` (or a list); components are numbered as in
        ``means``. See :meth:`predict_proba`."""
        log_resp, _, unpack = log_posteriors(self, data)
        return unpack(np.argmax(log_resp, axis=1))

    def score_samples(self, data):
        """Log of the fitted mixture density at each point, in the shape of ``data`` (or
        a list); its sum over a dataset's points is the dataset's log-likelihood. See
        :meth:`predict_proba`."""
        _, log_density, unpack = log_posteriors(self, data)
        return unpack(log_density)


def _search_line(n_maxima, n_at_best, p_unseen, settled, unseen_tol) -> str:
    """How settled one dataset's search is, in words."""
    if not n_maxima:
        return "search: no restart counted (none regular)"
    verdict = "settled" if settled else "NOT settled"
    return (
        f"search {verdict}: {n_maxima} distinct maxima, the best reached by {n_at_best} "
        f"restart(s); probability that another restart finds a new maximum "
        f"{p_unseen:.3g} (Good-Turing; settled at <= {unseen_tol:g} with the best "
        "reached twice)"
    )


def _errors_note(errors: StandardErrors) -> str:
    """The line under the components of :meth:`FitResult.summary` that says where their
    standard errors come from, and why any is NaN."""
    note = f"standard errors from {_information.METHODS[errors.method]} (se={errors.method!r})"
    if errors.failed:
        note += ": none for this fit, whose information matrix is singular or not positive definite"
    elif np.isnan(np.concatenate([errors.weights, errors.means, errors.variances])).any():
        note += "; NaN for a fixed parameter"
    return f"({note})"


def _decimals(value) -> str:
    """A log-likelihood or criterion to two decimals, as mclust prints them: differences
    between models are what they are read for, and 6 significant digits of -1034.002
    would print -1034."""
    return f"{float(value):.2f}"


def _numbers(values) -> str:
    return "[" + ", ".join(f"{v:.4g}" for v in values) + "]"


def _status_counts(status) -> str:
    counts = np.bincount(np.asarray(status, dtype=np.int64).ravel(), minlength=len(Status))
    return ", ".join(f"{counts[s]} {s.name.lower()}" for s in Status if counts[s])


def _batch_summary(result: FitResult) -> str:
    quantiles = (5, 50, 95)
    spread = {"component": np.arange(1, result.n_components + 1)}
    for name in ("weights", "means", "variances"):
        values = np.percentile(getattr(result, name), quantiles, axis=0)
        for q, row in zip(quantiles, values):
            spread[f"{name[:-1]}_p{q}"] = row
    ll = (
        np.percentile(result.log_likelihood[np.isfinite(result.log_likelihood)], quantiles)
        if np.isfinite(result.log_likelihood).any()
        else [np.nan] * 3
    )
    iterations = np.percentile(result.n_iter, (50, 90))
    return "\n".join(
        [
            f"Gaussian mixtures fitted by {result.algorithm.upper()} (stop={result.stop!r}): "
            f"{result.n_datasets} datasets, "
            f"{result.model.describe()}, {result.n_init} restart(s) each",
            "",
            f"status of the returned fits: {_status_counts(result.status)}",
            f"search: {int(np.count_nonzero(result.settled))} of {result.n_datasets} settled "
            f"(p_unseen <= {result.unseen_tol:g}, best reached twice); restarts per dataset: "
            f"median {np.median(result.n_restarts):g}, max {result.n_restarts.max()}",
            f"iterations: median {iterations[0]:g}, 90th percentile {iterations[1]:g}, "
            f"max {result.n_iter.max()} (max_iter {result.max_iter}, tol {result.tol:g})",
            f"log-likelihood: median {_decimals(ll[1])} (5%: {_decimals(ll[0])}, "
            f"95%: {_decimals(ll[2])})",
            "",
            "parameters over datasets (5th, 50th and 95th percentiles):",
            str(Table(spread)),
        ]
    )


def _to_data_units(batch, given, masks, grid, weights, means, variances):
    """Parameters of shape (n_fits, K) in the data's units, shaped to ``grid``.

    Components marked in ``masks`` (one boolean array of shape (K,) per parameter) are
    copied from the given values, so that they come back exactly as given rather than
    through a round trip of standardisation (or normalisation, for weights).
    """
    arrays = (
        weights.reshape(grid).copy(),
        _layout.means_to_data(batch.center, batch.scale, means.reshape(grid)),
        _layout.variances_to_data(batch.scale, variances.reshape(grid)),
    )
    for mask, array, value in zip(masks, arrays, given):
        if value is not None and mask.any():
            array[..., mask] = value[..., mask]
    return arrays


def best_of_restarts(
    batch,
    n_init,
    model,
    given,
    params,
    run,
    init_n_iter,
    starts,
    skip_degenerate,
    sort_components,
    stopping,
    spurious_rule,
    starts_moved=False,
    se=None,
    n_restarts=None,
    unseen_tol=search.UNSEEN_TOL,
    auto_search=False,
):
    """The :class:`FitResult` of a batch: the best restart per dataset, components sorted
    by mean (if asked), back in the data's units, with standard errors by the information
    ``se`` ("score" or "louis") if given.

    ``params`` are the fitted ``(weights, means, variances)`` and ``run`` the rest of the
    kernel's output (:class:`~fastem.engine.run.Run`), both per fit in standardised units;
    ``init_n_iter`` the iterations spent on starting values; ``stopping`` the
    ``(tol, max_iter, algorithm, stop)`` the fits ran with; ``spurious_rule`` marks
    ``Status.SPURIOUS``; ``n_restarts`` counts each dataset's restarts (``n_init`` by
    default; fewer where the grid is padded with ``Status.NOT_RUN``), and ``unseen_tol``
    is the bound of a settled search."""
    n_datasets = batch.n_datasets
    n_components = model.n_components
    grid = (n_datasets, n_init, n_components)
    n_observations = batch.n_observations
    fixed = (model.fixed_weights, model.fixed_means, model.fixed_variances)
    weights, means, variances = _to_data_units(batch, given, fixed, grid, *params)
    restart_ll = _layout.log_likelihood_to_data_units(
        run.log_likelihood.reshape(n_datasets, n_init), batch.scale, n_observations
    )
    restart_ll[~np.isfinite(restart_ll)] = np.nan
    restart_status = run.status.reshape(n_datasets, n_init).copy()
    spurious = spurious_rule.flags(weights, variances, n_observations[:, np.newaxis])
    restart_status[spurious & (restart_status < Status.SPURIOUS)] = Status.SPURIOUS
    if n_restarts is None:
        n_restarts = np.full(n_datasets, n_init, dtype=np.int64)
    settled = search.settledness(
        restart_ll, search.counted_restarts(restart_status, skip_degenerate), unseen_tol
    )
    ranking = np.nan_to_num(restart_ll, nan=-np.inf)
    if skip_degenerate:
        ranking = np.where(kept_restarts(restart_status), ranking, -np.inf)
    # A dataset whose restarts are all non-finite keeps restart 0 (flagged by its status).
    best = np.argmax(ranking, axis=1)
    rows = np.arange(n_datasets)
    order = np.broadcast_to(np.arange(n_components), grid)
    if sort_components:
        order = np.argsort(means, axis=2, kind="stable")
        weights, means, variances = (
            np.take_along_axis(a, order, axis=2) for a in (weights, means, variances)
        )
    trace = run.trace
    if trace is not None:
        trace = _layout.log_likelihood_to_data_units(
            trace.reshape(n_datasets, n_init, -1), batch.scale, n_observations
        )
    restarts = {}
    if starts is not None:
        # Given starting values are used as they are, except by emEM, whose short runs
        # move all but the fixed ones.
        every = np.ones(n_components, dtype=np.bool_)
        kept = fixed if starts_moved else (every, every, every)
        start_weights, start_means, start_variances = _to_data_units(
            batch, given, kept, grid, *starts
        )
        restarts = dict(
            restart_weights=weights,
            restart_means=means,
            restart_variances=variances,
            start_weights=start_weights,
            start_means=start_means,
            start_variances=start_variances,
        )
    standard_errors = None
    if se is not None:
        # The fixed components of each returned fit, wherever sorting put them.
        chosen = order[rows, best]
        standard_errors = _information.standard_errors(
            batch,
            se,
            weights[rows, best],
            means[rows, best],
            variances[rows, best],
            tuple(mask[chosen] for mask in fixed),
            model.equal_variance,
            np.isfinite(restart_ll[rows, best]),
        )
    return FitResult(
        weights=weights[rows, best],
        means=means[rows, best],
        variances=variances[rows, best],
        log_likelihood=restart_ll[rows, best],
        n_iter=run.n_iter.reshape(n_datasets, n_init)[rows, best],
        n_fpeval=run.n_fpeval.reshape(n_datasets, n_init)[rows, best],
        n_objeval=run.n_objeval.reshape(n_datasets, n_init)[rows, best],
        rate=run.rate.reshape(n_datasets, n_init)[rows, best],
        parameter_rate=run.parameter_rate.reshape(n_datasets, n_init)[rows, best],
        converged=run.converged.reshape(n_datasets, n_init)[rows, best],
        status=restart_status[rows, best],
        best_restart=best,
        n_restarts=n_restarts,
        **settled._asdict(),
        restart_log_likelihood=restart_ll,
        restart_n_iter=run.n_iter.reshape(n_datasets, n_init),
        restart_n_fpeval=run.n_fpeval.reshape(n_datasets, n_init),
        restart_status=restart_status,
        restart_converged=run.converged.reshape(n_datasets, n_init),
        init_n_iter=init_n_iter,
        trace=trace,
        n_samples=batch.n_samples_given,
        n_observations=n_observations,
        log_map=run.log_map.reshape(n_datasets, n_init)[rows, best],
        model=model,
        tol=stopping[0],
        max_iter=stopping[1],
        algorithm=stopping[2],
        stop=stopping[3],
        spurious_rule=spurious_rule,
        skip_degenerate=skip_degenerate,
        unseen_tol=unseen_tol,
        auto_search=auto_search,
        standard_errors=standard_errors,
        **restarts,
    )


_RESTART_PADDING = {
    **{
        f"restart_{name}": search.NOT_RUN[name]
        for name in ("log_likelihood", "n_iter", "n_fpeval", "status", "converged")
    },
    "init_n_iter": 0,
    "trace": np.nan,
    **{
        f"{kind}_{name}": np.nan
        for kind in ("restart", "start")
        for name in ("weights", "means", "variances")
    },
}
"""What a restart that did not run holds in each per-restart field of a FitResult."""


def pad_restarts(values, name, n_init, width):
    """The field ``name`` of a result of ``n_init`` restarts per dataset, padded as restarts
    that did not run to ``width`` (its other fields as they are)."""
    if name not in _RESTART_PADDING or n_init == width:
        return values
    pad = [(0, 0)] * values.ndim
    pad[1] = (0, width - n_init)
    return np.pad(values, pad, constant_values=_RESTART_PADDING[name])


def kept_restarts(restart_status) -> np.ndarray:
    """Which restarts ``skip_degenerate`` chooses among: the regular ones (status below
    ``SPURIOUS``) of a dataset that has any, else all of them."""
    regular = np.asarray(restart_status) < Status.SPURIOUS
    return regular | ~regular.any(axis=-1, keepdims=True)


def squeeze(result, keep=()):
    """Drop the dataset axis of a result of a single 1D dataset: every array field keeps its
    first row (a number for a 0-d row), also in nested fits, standard errors and named
    tuples of arrays. ``result`` is a :class:`FitResult` or another result dataclass;
    fields named in ``keep`` are per batch and stay as they are."""
    return type(result)(
        **{
            field.name: getattr(result, field.name)
            if field.name in keep
            else _first_dataset(getattr(result, field.name))
            for field in fields(result)
        }
    )


def _first_dataset(value):
    if isinstance(value, np.ndarray):
        value = value[0]
        return value.item() if value.ndim == 0 else value
    if isinstance(value, FitResult):
        return squeeze(value)
    if isinstance(value, StandardErrors):
        return _per_dataset_arrays(value, lambda array: array[0])
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # a NamedTuple of arrays
        return type(value)(*(_first_dataset(item) for item in value))
    return value  # per batch: the model, the rule, settings


def unsqueeze(result: FitResult) -> FitResult:
    """A result of one 1D dataset with its dataset axis back (the inverse of squeeze)."""
    if result.means.ndim > 1:
        return result
    values = {}
    for field in fields(result):
        value = getattr(result, field.name)
        if field.name not in _PER_BATCH and isinstance(value, (np.ndarray, numbers.Number)):
            value = np.asarray(value)[np.newaxis]
        elif isinstance(value, StandardErrors):
            value = _per_dataset_arrays(value, lambda array: array[np.newaxis])
        values[field.name] = value
    # squeeze made the int8 status a Python int.
    values["status"] = values["status"].astype(np.int8)
    return FitResult(**values)


def _per_dataset_arrays(errors: StandardErrors, change) -> StandardErrors:
    """``errors`` with ``change`` applied to each of its arrays (all per dataset)."""
    return dataclasses.replace(
        errors,
        **{
            field.name: change(getattr(errors, field.name))
            for field in fields(errors)
            if isinstance(getattr(errors, field.name), np.ndarray)
        },
    )


def _problems(result: FitResult) -> list[tuple[type, str]]:
    tol, max_iter = result.tol, result.max_iter
    n = np.size(result.status)
    problems = []
    non_finite = int(np.count_nonzero(result.status == Status.NON_FINITE))
    if non_finite:
        problems.append(
            (
                DegenerateFitWarning,
                (
                    f"{non_finite} of {n} dataset(s) have no restart with a finite log-likelihood; "
                    "their results are not usable (see FitResult.status). Check the data for "
                    "extreme "
                    "outliers or raise reg_variance."
                ),
            )
        )
    spurious = int(np.count_nonzero(result.status == Status.SPURIOUS))
    if spurious:
        rule = result.spurious_rule
        problems.append(
            (
                DegenerateFitWarning,
                (
                    f"{spurious} of {n} dataset(s) ended at a spurious maximum: a component on "
                    "fewer "
                    f"than {rule.min_points:g} expected points with a variance below "
                    f"{rule.min_variance_ratio:g} of the largest (see fastem.SpuriousRule). "
                    + (
                        "No restart of theirs was regular. "
                        if result.skip_degenerate
                        else "skip_degenerate=True prefers a regular restart; "
                    )
                    + "more restarts or fewer components may help."
                ),
            )
        )
    floored = int(np.count_nonzero(result.status == Status.VARIANCE_FLOORED))
    if floored:
        problems.append(
            (
                DegenerateFitWarning,
                (
                    f"{floored} of {n} dataset(s) ended with a collapsed component (variance below "
                    "reg_variance or at the floor of 1e-15 of the dataset's, or weight 0): a "
                    "spurious maximum of the unbounded "
                    "mixture likelihood, common with few points per component or with fewer "
                    "distinct "
                    "values than components. See FitResult.status; try fewer components or a "
                    "larger "
                    "reg_variance."
                ),
            )
        )
    if result.auto_search:
        # Datasets whose fit is degenerate are reported as such, below.
        unsettled = int(
            np.count_nonzero(
                ~np.asarray(result.settled) & (np.asarray(result.status) < Status.SPURIOUS)
            )
        )
        if unsettled:
            problems.append(
                (
                    SearchWarning,
                    (
                        f"{unsettled} of {n} dataset(s) did not settle their search within "
                        f"{int(np.max(result.n_restarts))} restarts (FitResult.settled, "
                        "n_maxima, p_unseen): their fit is the best maximum found, which more "
                        "restarts might better. Raise max_init, or try fewer components."
                    ),
                )
            )
    errors = result.standard_errors
    if errors is not None and np.any(errors.failed):
        problems.append(
            (
                DegenerateFitWarning,
                (
                    f"{int(np.count_nonzero(errors.failed))} of {n} dataset(s) have no standard "
                    "errors (NaN): their fit failed, or its information matrix "
                    f"({errors.method!r}) is singular or not positive definite, as with two "
                    "identical "
                    "components, a component without points, or a fit short of a maximum (see "
                    "FitResult.standard_errors). Try more restarts or fewer components."
                ),
            )
        )
    if tol > 0:
        usable = result.status != Status.NON_FINITE  # already reported above
        stopped = int(np.count_nonzero(~np.asarray(result.converged) & usable))
        if stopped:
            problems.append(
                (
                    ConvergenceWarning,
                    (
                        f"{stopped} of {n} dataset(s) did not converge within max_iter={max_iter} "
                        f"iterations (tol={tol:g}). Raise max_iter, loosen tol, or try other "
                        "starting "
                        "values."
                    ),
                )
            )
    return problems
