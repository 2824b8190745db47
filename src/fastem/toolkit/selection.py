"""Model selection: the number of components and the variance model, by BIC, AIC or ICL."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from .. import api, search
from .. import checks as _validate
from .. import options as _options
from ..engine.status import Status
from ..result import SearchWarning
from ..table import Table
from . import refit as _refit

VARIANCE_MODELS = _validate.VARIANCE_MODELS
CRITERIA = ("bic", "aic", "icl")


@dataclass(frozen=True, eq=False, repr=False)
class SelectionResult:
    """Every candidate model for every dataset, and the chosen one.

    Criteria follow scikit-learn's sign, **smaller is better** (mclust reports BIC and
    ICL as larger-is-better: the same numbers negated). A candidate whose fit of a dataset
    is spurious, collapsed or failed (status ``SPURIOUS`` or above, see
    :class:`fastem.SpuriousRule`) is not eligible for that dataset, as mclust leaves out
    singular fits; ``eligible`` says which were. One component has one candidate, of
    variance model ``"-"`` (equal and unequal variances coincide).

    For a single 1D dataset the leading ``n_datasets`` axis is dropped, as
    :func:`fastem.fit` drops it.

    Examples
    --------
    See :func:`fastem.select`.
    """

    #: list of (n_components, variance) pairs, length n_candidates: the candidate models.
    candidates: list
    #: ndarray of shape (n_datasets, n_candidates): each candidate's log-likelihood.
    log_likelihood: np.ndarray
    #: ndarray of shape (n_datasets, n_candidates): BIC, ``-2 log L + p log n``.
    bic: np.ndarray
    #: ndarray of shape (n_datasets, n_candidates): AIC, ``-2 log L + 2 p``.
    aic: np.ndarray
    #: ndarray of shape (n_datasets, n_candidates): ICL, BIC penalised by the labels'
    #: uncertainty (see :meth:`fastem.FitResult.icl`).
    icl: np.ndarray
    #: ndarray of shape (n_candidates,): each candidate's free parameters ``p``.
    n_parameters: np.ndarray
    #: ndarray of shape (n_datasets, n_candidates): the :class:`fastem.Status` of each
    #: candidate's fit.
    status: np.ndarray
    #: bool ndarray of shape (n_datasets, n_candidates): whether the candidate may be
    #: chosen for the dataset (its fit is not spurious, collapsed or failed).
    eligible: np.ndarray
    #: bool ndarray of shape (n_datasets, n_candidates): the candidate's fit is no better
    #: than the fit of one component fewer (its log-likelihood within ``1e-6 (1 + |l|)``
    #: of it): that fit with a component duplicated or emptied, not a mixture of more
    #: components. Never chosen by a criterion, which charges it more parameters for the
    #: same likelihood.
    redundant: np.ndarray
    #: ndarray of shape (n_datasets, n_candidates): restarts each candidate's search ran
    #: (:attr:`fastem.FitResult.n_restarts`).
    n_restarts: np.ndarray
    #: ndarray of shape (n_datasets, n_candidates): distinct maxima each candidate's
    #: search reached (:attr:`fastem.FitResult.n_maxima`).
    n_maxima: np.ndarray
    #: ndarray of shape (n_datasets, n_candidates): restarts at the best maximum
    #: (:attr:`fastem.FitResult.n_at_best`).
    n_at_best: np.ndarray
    #: ndarray of shape (n_datasets, n_candidates): the probability of an unseen maximum
    #: (:attr:`fastem.FitResult.p_unseen`).
    p_unseen: np.ndarray
    #: bool ndarray of shape (n_datasets, n_candidates): whether each candidate's search
    #: settled (:attr:`fastem.FitResult.settled`).
    settled: np.ndarray
    #: str: the criterion of the choice, "bic", "aic" or "icl".
    criterion: str
    #: ndarray of shape (n_datasets,): index of the chosen candidate (-1 when none was
    #: eligible).
    best: np.ndarray
    #: ndarray of shape (n_datasets,): components of the chosen model (0 when none was
    #: eligible).
    n_components: np.ndarray
    #: str ndarray of shape (n_datasets,): the chosen variance model, ``"equal"``,
    #: ``"unequal"``, ``"-"`` (one component) or ``""`` (none eligible).
    variance: np.ndarray
    #: ndarray of shape (n_datasets, max n_components): the chosen fit's weights, padded
    #: with NaN.
    weights: np.ndarray
    #: ndarray of shape (n_datasets, max n_components): the chosen fit's means, padded
    #: with NaN.
    means: np.ndarray
    #: ndarray of shape (n_datasets, max n_components): the chosen fit's variances,
    #: padded with NaN.
    variances: np.ndarray
    #: list of :class:`fastem.FitResult`, one per candidate: the fits.
    fits: list

    def __repr__(self) -> str:
        chosen = np.atleast_1d(self.n_components)
        if chosen.size == 1:
            what = (
                f"chose {chosen[0]} component(s), variance {self.variance!r}"
                if chosen[0]
                else "no eligible candidate"
            )
        else:
            counts = np.bincount(chosen)
            what = "chose " + ", ".join(f"K={k} for {c}" for k, c in enumerate(counts) if c)
        return (
            f"<SelectionResult: {len(self.candidates)} candidates by {self.criterion}; "
            f"{what}; table() for every candidate>"
        )

    @classmethod
    def from_fits(cls, candidates, fits, criterion="bic", redundant=None, eligible=None):
        """The choice among ``fits``, one :class:`fastem.FitResult` of every dataset per
        candidate, by ``criterion``.

        Parameters
        ----------
        candidates : list of (n_components, variance) pairs, length n_candidates
            The model each fit is of (``variance`` ``"-"`` for one component).
        fits : list of FitResult, length n_candidates
            Fits of the same datasets.
        criterion : {"bic", "aic", "icl"}
            The criterion of the choice, smaller better.
        redundant : list of ndarray of shape (n_datasets,), bool, one per candidate, optional
            Fits no better than those of one component fewer (default: none).
        eligible : ndarray of shape (n_datasets, n_candidates), bool, optional
            The fits that may be chosen. By default those whose status is below
            ``SPURIOUS`` and whose criterion is finite; ``fastem fit --components K``
            gives all, as its one candidate is its answer whatever the fit's status.

        Returns
        -------
        SelectionResult
        """
        values = {
            "log_likelihood": _column(fits, "log_likelihood"),
            "bic": np.stack([np.atleast_1d(f.bic()) for f in fits], axis=1),
            "aic": np.stack([np.atleast_1d(f.aic()) for f in fits], axis=1),
            "icl": np.stack([np.atleast_1d(f.icl()) for f in fits], axis=1),
        }
        status = _column(fits, "status")
        redundant = (
            np.zeros(status.shape, dtype=bool) if redundant is None else np.stack(redundant, axis=1)
        )
        search_columns = {
            name: _column(fits, name)
            for name in ("n_restarts", "n_maxima", "n_at_best", "p_unseen", "settled")
        }
        if eligible is None:
            eligible = (status < Status.SPURIOUS) & np.isfinite(values[criterion])
        score = np.where(eligible, values[criterion], np.inf)
        best = np.argmin(score, axis=1)
        none = ~eligible.any(axis=1)
        best[none] = -1
        n_datasets = score.shape[0]
        width = max(k for k, _ in candidates)
        chosen = {
            name: np.full((n_datasets, width), np.nan) for name in ("weights", "means", "variances")
        }
        for c, fit in enumerate(fits):
            rows = np.flatnonzero(best == c)
            k = candidates[c][0]
            for name, array in chosen.items():
                array[rows, :k] = np.atleast_2d(getattr(fit, name))[rows]
        ks = np.array([k for k, _ in candidates])
        models = np.array([v for _, v in candidates])
        single = fits[0].means.ndim == 1
        if single:  # one 1D dataset: drop the dataset axis, as fit does
            values = {name: value[0] for name, value in values.items()}
            status, eligible, best, none = status[0], eligible[0], int(best[0]), none[0]
            redundant = redundant[0]
            search_columns = {name: value[0] for name, value in search_columns.items()}
            chosen = {name: value[0] for name, value in chosen.items()}
        return cls(
            candidates=candidates,
            **values,
            n_parameters=np.array([f.n_parameters for f in fits]),
            status=status,
            eligible=eligible,
            redundant=redundant,
            **search_columns,
            criterion=criterion,
            best=best,
            n_components=_item(np.where(none, 0, ks[best]), single),
            variance=_item(np.where(none, "", models[best]), single),
            **chosen,
            fits=fits,
        )

    def table(self) -> Table:
        """One row per dataset (``dataset``, from 0) and candidate."""
        n_datasets, n_candidates = np.atleast_2d(self.bic).shape
        dataset = np.repeat(np.arange(n_datasets), n_candidates)
        chosen = np.atleast_1d(self.best)[dataset] == np.tile(np.arange(n_candidates), n_datasets)
        return Table(
            {
                "dataset": dataset,
                "n_components": np.tile([k for k, _ in self.candidates], n_datasets),
                "variance": np.tile([v for _, v in self.candidates], n_datasets),
                "n_parameters": np.tile(self.n_parameters, n_datasets),
                "log_likelihood": np.ravel(self.log_likelihood),
                "bic": np.ravel(self.bic),
                "aic": np.ravel(self.aic),
                "icl": np.ravel(self.icl),
                "status": np.array([Status(s).name.lower() for s in np.ravel(self.status)]),
                "redundant": np.ravel(self.redundant),
                "n_restarts": np.ravel(self.n_restarts),
                "n_maxima": np.ravel(self.n_maxima),
                "n_at_best": np.ravel(self.n_at_best),
                "p_unseen": np.ravel(self.p_unseen),
                "settled": np.ravel(self.settled),
                "chosen": chosen,
            }
        )


def _own(data, variance=VARIANCE_MODELS, criterion="bic"):
    """:func:`select`'s own parameters; its options of :func:`fastem.fit` are the table's
    (:mod:`fastem.options`), but the three it sets itself."""


@_options.derived(
    _own,
    entry="select",
)
def select(data, *args, **kwargs) -> SelectionResult:
    """Fit every candidate model to every dataset and choose one per dataset.

    Each candidate (a number of components and a variance model, "equal" or "unequal")
    is one batched :func:`fastem.fit` over all datasets, with ``skip_degenerate=True`` so
    that each candidate's best restart is a regular one (not spurious, collapsed or
    failed) when there is one. The candidates are nested: the fit of ``K`` components
    also starts from each component of the ``K - 1`` fit (same variance model) split in
    two, and from that fit itself with a component halved, so that ``l(K) >= l(K - 1)``
    by construction; a ``K`` fit that is no better is marked ``redundant``.
    The number of free parameters follows :attr:`fastem.Model.n_parameters`; ``n`` in BIC
    is the number of points (or the sum of ``sample_weight``).

    Parameters
    ----------
    data, sample_weight, sample_weight_type
        The datasets and their points' weights, as for :func:`fastem.fit`.
    n_components : iterable of int, default range(1, 7)
        The numbers of components of the candidates, 1 to 6 by default.
    variance : str or iterable of {"equal", "unequal"}, default ("equal", "unequal")
        The variance models of the candidates: one variance shared by all components, or
        one per component; by default both, so each ``K > 1`` has two candidates.
    criterion : {"bic", "aic", "icl"}, default "bic"
        The criterion that chooses, per dataset, the eligible candidate of least value.
    n_init, init, random_state, ...
        The other options of :func:`fastem.fit`, passed to it for every candidate
        (``spurious``, ``max_init``, ``unseen_tol`` among them). By default every
        candidate's restarts run in rounds of k-means++, random data points and emEM until
        its search is settled (``n_init="auto"``), with SQUAREM to the parameter rule
        (fit's defaults), from the fixed seed 0, so that every call gives the same answer.
        ``settled`` tells which candidates' searches settled; a
        :class:`fastem.SearchWarning` names the datasets whose chosen candidate's search
        did not.

    Returns
    -------
    SelectionResult
        Every candidate's criteria, fit and search for every dataset, and the choice.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = np.concatenate([rng.normal(-3, 1, 300), rng.normal(3, 1, 200)])
    >>> choice = fastem.select(x, n_components=[1, 2, 3], variance=["unequal"])
    >>> choice.candidates
    [(1, '-'), (2, 'unequal'), (3, 'unequal')]
    >>> int(choice.n_components), str(choice.variance)
    (2, 'unequal')
    >>> np.round(choice.means, 1)
    array([-3.,  3., nan])
    """
    chosen, sample_weight, sample_weight_type = _choose(select, data, args, kwargs)
    warn_selection(chosen, data, sample_weight, sample_weight_type, stacklevel=2)
    return chosen


@_options.derived(
    _own,
    entry="select",
    caller="fastem.toolkit.selection.select_quietly",
)
def select_quietly(data, *args, **kwargs) -> SelectionResult:
    """:func:`select` without its warnings, for a caller that fits chunks of the datasets
    apart (on a cluster, say) and warns once for them all, by :func:`warn_selection` of
    the chunks' results joined."""
    return _choose(select_quietly, data, args, kwargs)[0]


def _choose(function, data, args, kwargs):
    """The :class:`SelectionResult` of a call of :func:`select` (or ``function``, with its
    signature), with the call's ``sample_weight`` and ``sample_weight_type``."""
    arguments = _options.bound(function, (data, *args), kwargs)
    n_components, variance = arguments.pop("n_components"), arguments.pop("variance")
    criterion, sample_weight = arguments.pop("criterion"), arguments.pop("sample_weight")
    sample_weight_type, n_init = arguments.pop("sample_weight_type"), arguments.pop("n_init")
    init, random_state = arguments.pop("init"), arguments.pop("random_state")
    # The others go on to fastem.fit as they were given.
    fit_options = {name: value for name, value in arguments.items() if name in kwargs}
    criterion = _validate.check_choice("criterion", criterion, CRITERIA)
    ks = [_validate.check_int("n_components", k, 1) for k in n_components]
    models = [variance] if isinstance(variance, str) else list(variance)
    for model in models:
        _validate.check_variance_model(model)
    if not ks or not models:
        raise ValueError("select needs at least one number of components and one variance model.")
    seed = _validate.check_random_state(random_state)
    # With one component the variance models coincide: one candidate, of model "-".
    candidates = list(
        dict.fromkeys((k, model if k > 1 else "-") for k in sorted(set(ks)) for model in models)
    )

    fits = []
    fitted = {}
    redundant = {}
    for k, model in candidates:
        equal = model == "equal"
        if (k, equal) not in fitted:
            smaller = fitted.get((k - 1, equal and k > 2))
            result = _refit.fit_nested(
                data,
                k,
                smaller,
                n_init=n_init,
                init=init,
                random_state=seed,
                sample_weight=sample_weight,
                options=dict(
                    sample_weight_type=sample_weight_type,
                    equal_variance=equal,
                    skip_degenerate=True,
                    warn=False,
                    **fit_options,
                ),
            )
            fitted[(k, equal)] = result
            redundant[(k, equal)] = search.no_better(result, smaller)
        fits.append(fitted[(k, equal)])
    chosen = SelectionResult.from_fits(
        candidates, fits, criterion, [redundant[(k, model == "equal")] for k, model in candidates]
    )
    return chosen, sample_weight, sample_weight_type


def warn_selection(chosen, data, sample_weight, sample_weight_type, stacklevel=2):
    """The warnings of :func:`select` about ``chosen``, its result for ``data``: each
    candidate's problems (:meth:`fastem.FitResult.problems`), frequency weights that look
    like probabilities, and the datasets whose chosen candidate's search did not settle.
    :func:`select` gives them after its fits; :func:`select_quietly` leaves them to its
    caller, who may give them once for the joined results of several chunks of datasets."""
    for c, ((k, model), result) in enumerate(zip(chosen.candidates, chosen.fits)):
        for category, message in result.problems():
            if category is SearchWarning:  # only for chosen candidates, below
                continue
            warnings.warn(
                f"n_components={k}, variance={model!r}: {message}",
                category,
                stacklevel=stacklevel + 1,
            )
        if c == 0 and sample_weight_type == "frequency":
            api.warn_few_counts(data, sample_weight, k, stacklevel=stacklevel + 2)
    _warn_unsettled(chosen, stacklevel + 2)


def _warn_unsettled(chosen, stacklevel):
    """One :class:`SearchWarning` for the datasets whose chosen candidate's search did not
    settle (an unsettled candidate that was not chosen is in ``settled``, not warned about:
    most candidates of too many components have more maxima than any budget tells
    apart)."""
    best = np.atleast_1d(chosen.best)
    settled = np.atleast_2d(chosen.settled)
    rows = np.flatnonzero(best >= 0)
    unsettled = rows[~settled[rows, best[rows]]]
    if unsettled.size:
        warnings.warn(
            f"{unsettled.size} of {best.size} dataset(s) chose a model whose search did not "
            f"settle within its restarts (dataset(s) {_validate.listed(unsettled)}; "
            "SelectionResult.settled): its fit is the best maximum found, which more restarts "
            "(max_init) might better.",
            SearchWarning,
            stacklevel=stacklevel + 1,
        )


def _item(array, single):
    return array.item() if single else array


def _column(fits, name):
    return np.stack([np.atleast_1d(getattr(f, name)) for f in fits], axis=1)
