"""What a fit returns: :class:`FitResult` (built by :mod:`fastem.restarts`), the
warnings of its problems, one function per kind, and the (un)squeezing of the dataset
axis."""

from __future__ import annotations

import dataclasses
import numbers
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
from numpy.typing import ArrayLike

from . import table as _table
from .engine import vmath as _vmath
from .engine.information import StandardErrors
from .engine.status import Status
from .mixtures import log_posteriors
from .model import Model
from .options import PER_BATCH
from .spurious import SpuriousRule

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

_PER_BATCH = ("model", "auto_search", *PER_BATCH)
"""Fields of a :class:`FitResult` that describe the whole batch, not one dataset."""

Data = ArrayLike | Sequence[ArrayLike]
"""Points as :func:`fastem.fit` takes them: one dataset, a 2D array or a list of datasets."""
Result = TypeVar("Result", bound="DataclassInstance")


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

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = np.concatenate([rng.normal(-3, 1, 300), rng.normal(3, 1, 200)])
    >>> result = fastem.fit(x, 2, n_init=4, random_state=0)
    >>> np.round(result.means, 1), np.round(result.weights, 1)
    (array([-3.,  3.]), array([0.6, 0.4]))
    >>> bool(result.converged), fastem.Status(result.status).name
    (True, 'CONVERGED')
    >>> int(result.n_restarts), result.restart_log_likelihood.shape
    (4, (4,))
    >>> fastem.fit(np.stack([x, -x]), 2, random_state=0).means.shape  # a batch of two
    (2, 2)
    """

    #: ndarray of shape (n_datasets, n_components): the mixing weights of the restart with
    #: the highest final log-likelihood, components sorted by increasing mean (unless
    #: ``sort_components=False``).
    weights: np.ndarray
    #: ndarray of shape (n_datasets, n_components): the components' means, in the order of
    #: ``weights``.
    means: np.ndarray
    #: ndarray of shape (n_datasets, n_components): the components' variances, in the
    #: order of ``weights``.
    variances: np.ndarray
    #: ndarray of shape (n_datasets,): total log-likelihood of the returned parameters
    #: (weighted by ``sample_weight``; the plain one with a penalty or prior).
    log_likelihood: np.ndarray
    #: ndarray of shape (n_datasets,): EM iterations (E-step plus M-step) the returned fit
    #: ran; with SQUAREM, its accepted steps.
    n_iter: np.ndarray
    #: ndarray of shape (n_datasets,): EM maps evaluated by the returned fit (passes over
    #: the data that produce parameters).
    n_fpeval: np.ndarray
    #: ndarray of shape (n_datasets,): log-likelihoods computed by the returned fit (each
    #: EM map computes one, and a last pass gives that of the returned parameters).
    n_objeval: np.ndarray
    #: ndarray of shape (n_datasets,): the last Aitken ratio ``a_t = (l_t - l_{t-1}) /
    #: (l_{t-1} - l_{t-2})`` of the returned fit's accepted steps (NaN where undefined:
    #: fewer than three steps, or no change). Near a maximum EM's error shrinks as
    #: ``lambda^t``, where ``lambda``, EM's rate of convergence, is the largest eigenvalue
    #: of ``I_c^-1 (I_c - I_obs)`` (the largest fraction of missing information); the
    #: log-likelihood's gap, quadratic in the error, shrinks as ``lambda^2t``, so ``rate``
    #: estimates ``lambda^2``, not ``lambda``. With SQUAREM, the same ratio over its
    #: accepted steps, which is not EM's.
    rate: np.ndarray
    #: ndarray of shape (n_datasets,): the last ratio of the norms of two successive steps
    #: of the parameters (weights, means, variances, standardised), ``|theta_t -
    #: theta_{t-1}| / |theta_{t-1} - theta_{t-2}|``, which tends to ``lambda`` itself (NaN
    #: where undefined). Resolved down to steps far smaller than :attr:`rate` needs, whose
    #: log-likelihood differences drown in rounding once they fall below about 1e-16 of
    #: the log-likelihood (as the default stopping rule's last steps do). With SQUAREM,
    #: not EM's.
    parameter_rate: np.ndarray
    #: bool ndarray of shape (n_datasets,): whether the returned fit met ``tol``.
    converged: np.ndarray
    #: int8 ndarray of shape (n_datasets,): :class:`~fastem.Status` code of the returned
    #: fit.
    status: np.ndarray
    #: ndarray of shape (n_datasets,): index of the returned restart; -1 where the
    #: returned fit is none of them (the fit of one component fewer, with a component
    #: halved, which :func:`fastem.select` returns where the search of more components
    #: ended below it).
    best_restart: np.ndarray
    #: ndarray of shape (n_datasets,): restarts run for the dataset: ``n_init``, or with
    #: ``n_init="auto"`` as many as its search took (the restart arrays' further entries
    #: are ``Status.NOT_RUN``, with a NaN log-likelihood).
    n_restarts: np.ndarray
    #: ndarray of shape (n_datasets,): distinct maxima the counted restarts reached (the
    #: regular ones with ``skip_degenerate``, else all).
    n_maxima: np.ndarray
    #: ndarray of shape (n_datasets,): counted restarts that reached the best maximum.
    n_at_best: np.ndarray
    #: ndarray of shape (n_datasets,): the Good-Turing estimate of the probability that
    #: one more restart finds a maximum not seen yet: the share of counted restarts whose
    #: maximum no other reached (Finch, Mendell & Thode 1989); NaN without a counted
    #: restart.
    p_unseen: np.ndarray
    #: bool ndarray of shape (n_datasets,): ``n_at_best >= 2`` and ``p_unseen <=
    #: unseen_tol``: the search can vouch for its best maximum (:func:`fastem.settledness`).
    settled: np.ndarray
    #: ndarray of shape (n_datasets, n_init): final log-likelihood of every restart (NaN
    #: for a non-finite one).
    restart_log_likelihood: np.ndarray
    #: ndarray of shape (n_datasets, n_init): EM iterations of every restart.
    restart_n_iter: np.ndarray
    #: ndarray of shape (n_datasets, n_init): EM maps evaluated by every restart.
    restart_n_fpeval: np.ndarray
    #: int8 ndarray of shape (n_datasets, n_init): :class:`~fastem.Status` code of every
    #: restart.
    restart_status: np.ndarray
    #: bool ndarray of shape (n_datasets, n_init): whether each restart met ``tol``.
    restart_converged: np.ndarray
    #: ndarray of shape (n_datasets, n_init): EM iterations spent choosing each restart's
    #: starting values (emEM's short runs; 0 for the other strategies).
    init_n_iter: np.ndarray
    #: ndarray of shape (n_datasets, n_init, max_iter + 1), or None: with ``trace=True``,
    #: ``trace[..., t]`` is the log-likelihood after ``t`` iterations (``t = 0`` is the
    #: starting values), NaN after the fit stopped.
    trace: np.ndarray | None
    #: ndarray of shape (n_datasets,): points per dataset, those of weight 0 included.
    n_samples: np.ndarray
    #: ndarray of shape (n_datasets,): points per dataset, or the sum of their
    #: ``sample_weight``: the ``n`` of BIC.
    n_observations: np.ndarray
    #: ndarray of shape (n_datasets,): ``sum_i log max_k r_ik`` for the returned
    #: parameters: the log-probability of the most likely labelling, which ICL penalises.
    log_map: np.ndarray
    #: :class:`~fastem.Model`: the model fitted (constraints, regularisation).
    model: Model
    #: float: the convergence tolerance the fits ran with.
    tol: float
    #: int: the most EM iterations a fit could run.
    max_iter: int
    #: str: the algorithm the fits ran (``"em"``, ``"squarem"``, ``"daarem"``).
    algorithm: str
    #: str: the stopping rule the fits ran with ("loglik", "relative", "aitken", "parameter").
    stop: str
    #: :class:`~fastem.SpuriousRule`: the rule that set ``Status.SPURIOUS``.
    spurious_rule: SpuriousRule
    #: bool: whether the best restart was chosen among the regular ones (status below
    #: ``SPURIOUS``) when there were any.
    skip_degenerate: bool
    #: float: the bound on :attr:`p_unseen` of a settled search.
    unseen_tol: float
    #: bool: whether the restarts ran in rounds until settled (``n_init="auto"``).
    auto_search: bool
    #: ndarray of shape (n_datasets, n_init, n_components), or None: with
    #: ``return_restarts=True``, every restart's final weights, components ordered as the
    #: returned fit's.
    restart_weights: np.ndarray | None = None
    #: ndarray or None: every restart's final means, as :attr:`restart_weights`.
    restart_means: np.ndarray | None = None
    #: ndarray or None: every restart's final variances, as :attr:`restart_weights`.
    restart_variances: np.ndarray | None = None
    #: ndarray of shape (n_datasets, n_init, n_components), or None: with
    #: ``return_restarts=True``, every restart's starting weights, in the order the
    #: strategy chose them.
    start_weights: np.ndarray | None = None
    #: ndarray or None: every restart's starting means, as :attr:`start_weights`.
    start_means: np.ndarray | None = None
    #: ndarray or None: every restart's starting variances, as :attr:`start_weights`.
    start_variances: np.ndarray | None = None
    #: :class:`~fastem.StandardErrors` or None: with ``se="score"`` or ``"louis"``,
    #: standard errors of the returned parameters and the covariance matrix of the free
    #: ones, per dataset.
    standard_errors: StandardErrors | None = None
    #: ndarray of shape (n_datasets,) or None: with ``penalty`` or ``prior``, the penalised
    #: log-likelihood maximised (the restarts' log-likelihoods and traces are then it too).
    penalized_log_likelihood: np.ndarray | None = None

    @property
    def n_components(self) -> int:
        """int: the number of components of every fit."""
        return self.means.shape[-1]

    @property
    def n_init(self) -> int:
        """int: the length of the restart axis (the most restarts any dataset ran)."""
        return self.restart_log_likelihood.shape[-1]

    def __repr__(self) -> str:
        return _table.fit_repr(self)

    def summary(self) -> str:
        """A report of the fit, like mclust's ``summary``: the model, ``n``, the
        log-likelihood and criteria, convergence and restarts, and the parameters; for a
        batch, the outcomes over datasets and the spread of each parameter."""
        return _table.fit_summary(self)

    @property
    def n_datasets(self) -> int:
        """int: the number of datasets (1 for a single 1D dataset)."""
        return 1 if self.means.ndim == 1 else self.means.shape[0]

    @property
    def n_parameters(self) -> int:
        """Free parameters of the model (see :attr:`Model.n_parameters`)."""
        return self.model.n_parameters

    def bic(self) -> np.ndarray | float:
        """Bayesian information criterion, ``-2 log L + p log n``: smaller is better
        (scikit-learn's sign; mclust's ``2 log L - p log n`` is the same negated)."""
        return -2.0 * self.log_likelihood + self.n_parameters * _vmath.log(self.n_observations)

    def aic(self) -> np.ndarray | float:
        """Akaike information criterion, ``-2 log L + 2 p``: smaller is better."""
        return -2.0 * self.log_likelihood + 2.0 * self.n_parameters

    def problems(self) -> list[tuple[type, str]]:
        """``(warning category, message)`` for each kind of problem among the fits: no
        finite log-likelihood, a collapsed component, no convergence within ``max_iter``."""
        n = np.size(self.status)
        found = (problem(self, n) for problem in _PROBLEMS)
        return [problem for problem in found if problem is not None]

    def warn(self, stacklevel: int = 2) -> None:
        """Issue :meth:`problems` as warnings, one per kind of problem (never one per fit)."""
        for category, message in self.problems():
            warnings.warn(message, category, stacklevel=stacklevel + 1)

    def icl(self) -> np.ndarray | float:
        """Integrated completed likelihood, ``BIC - 2 sum_i log max_k r_ik``: smaller is
        better (mclust's ICL, negated): BIC penalised by the uncertainty of the labels."""
        return self.bic() - 2.0 * self.log_map

    def predict_proba(self, data: Data) -> np.ndarray | list[np.ndarray]:
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

    def predict(self, data: Data) -> np.ndarray | list[np.ndarray]:
        """The most probable component of each point (mclust's ``classification``), an
        int64 array in the shape of ``data`` (or a list); components are numbered as in
        ``means``. See :meth:`predict_proba`."""
        log_resp, _, unpack = log_posteriors(self, data)
        return unpack(np.argmax(log_resp, axis=1))

    def score_samples(self, data: Data) -> np.ndarray | list[np.ndarray]:
        """Log of the fitted mixture density at each point, in the shape of ``data`` (or
        a list); its sum over a dataset's points is the dataset's log-likelihood. See
        :meth:`predict_proba`."""
        _, log_density, unpack = log_posteriors(self, data)
        return unpack(log_density)


def squeeze(result: Result, keep: Iterable[str] = ()) -> Result:
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


def _first_dataset(value: Any) -> Any:
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


def _per_dataset_arrays(
    errors: StandardErrors, change: Callable[[np.ndarray], np.ndarray]
) -> StandardErrors:
    """``errors`` with ``change`` applied to each of its arrays (all per dataset)."""
    changed: dict[str, Any] = {
        field.name: change(getattr(errors, field.name))
        for field in fields(errors)
        if isinstance(getattr(errors, field.name), np.ndarray)
    }
    return dataclasses.replace(errors, **changed)


# --- the problems a result warns of, one function per kind ------------------------------
# Each takes the result and its number of datasets ``n``, and returns ``(warning category,
# message)``, or None when no fit has that problem.


def _non_finite(result: FitResult, n: int) -> tuple[type, str] | None:
    """Datasets without a restart of finite log-likelihood."""
    count = int(np.count_nonzero(result.status == Status.NON_FINITE))
    if not count:
        return None
    return DegenerateFitWarning, (
        f"{count} of {n} dataset(s) have no restart with a finite log-likelihood; "
        "their results are not usable (see FitResult.status). Check the data for "
        "extreme outliers or raise reg_variance."
    )


def _spurious(result: FitResult, n: int) -> tuple[type, str] | None:
    """Datasets whose returned fit is a spurious maximum (:class:`SpuriousRule`)."""
    count = int(np.count_nonzero(result.status == Status.SPURIOUS))
    if not count:
        return None
    rule = result.spurious_rule
    advice = (
        "No restart of theirs was regular. "
        if result.skip_degenerate
        else "skip_degenerate=True prefers a regular restart; "
    )
    return DegenerateFitWarning, (
        f"{count} of {n} dataset(s) ended at a spurious maximum: a component on fewer "
        f"than {rule.min_points:g} expected points with a variance below "
        f"{rule.min_variance_ratio:g} of the largest (see fastem.SpuriousRule). "
        + advice
        + "more restarts or fewer components may help."
    )


def _collapsed(result: FitResult, n: int) -> tuple[type, str] | None:
    """Datasets whose returned fit has a collapsed component."""
    count = int(np.count_nonzero(result.status == Status.VARIANCE_FLOORED))
    if not count:
        return None
    return DegenerateFitWarning, (
        f"{count} of {n} dataset(s) ended with a collapsed component (variance below "
        "reg_variance or at the floor of 1e-15 of the dataset's, or weight 0): a "
        "spurious maximum of the unbounded mixture likelihood, common with few points "
        "per component or with fewer distinct values than components. See "
        "FitResult.status; try fewer components or a larger reg_variance."
    )


def _unsettled(result: FitResult, n: int) -> tuple[type, str] | None:
    """Datasets whose search (``n_init="auto"``) did not settle within its budget."""
    if not result.auto_search:
        return None
    # Datasets whose fit is degenerate are reported as such.
    regular = np.asarray(result.status) < Status.SPURIOUS
    count = int(np.count_nonzero(~np.asarray(result.settled) & regular))
    if not count:
        return None
    return SearchWarning, (
        f"{count} of {n} dataset(s) did not settle their search within "
        f"{int(np.max(result.n_restarts))} restarts (FitResult.settled, "
        "n_maxima, p_unseen): their fit is the best maximum found, which more "
        "restarts might better. Raise max_init, or try fewer components."
    )


def _no_standard_errors(result: FitResult, n: int) -> tuple[type, str] | None:
    """Datasets whose standard errors, asked for, could not be computed."""
    errors = result.standard_errors
    if errors is None or not np.any(errors.failed):
        return None
    return DegenerateFitWarning, (
        f"{int(np.count_nonzero(errors.failed))} of {n} dataset(s) have no standard "
        "errors (NaN): their fit failed, or its information matrix "
        f"({errors.method!r}) is singular or not positive definite, as with two "
        "identical components, a component without points, or a fit short of a "
        "maximum (see FitResult.standard_errors). Try more restarts or fewer components."
    )


def _not_converged(result: FitResult, n: int) -> tuple[type, str] | None:
    """Datasets whose fit stopped at ``max_iter`` (``tol > 0``, not SEM: it never stops)."""
    if not result.tol > 0 or result.algorithm == "sem":
        return None
    usable = result.status != Status.NON_FINITE  # reported by _non_finite
    count = int(np.count_nonzero(~np.asarray(result.converged) & usable))
    if not count:
        return None
    return ConvergenceWarning, (
        f"{count} of {n} dataset(s) did not converge within max_iter={result.max_iter} "
        f"iterations (tol={result.tol:g}). Raise max_iter, loosen tol, or try other "
        "starting values."
    )


_PROBLEMS = (_non_finite, _spurious, _collapsed, _unsettled, _no_standard_errors, _not_converged)
"""The kinds of problem, in the order :meth:`FitResult.problems` lists them."""
