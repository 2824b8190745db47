"""Bookkeeping for Monte Carlo studies: label matching, and what the restarts found."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .. import checks as _validate
from ..restarts import kept_restarts


class Matched(NamedTuple):
    """What :func:`fastem.match_components` returns: fitted parameters reordered to the
    true components, and the permutation."""

    #: ndarray of shape (n_datasets, K): the fitted weights, in the true components' order.
    weights: np.ndarray
    #: ndarray of shape (n_datasets, K): the fitted means, in the true components' order.
    means: np.ndarray
    #: ndarray of shape (n_datasets, K): the fitted variances, in the true components'
    #: order.
    variances: np.ndarray
    #: int ndarray of shape (n_datasets, K): ``order[d, k]`` is the fitted component
    #: matched to true component ``k``.
    order: np.ndarray


def match_components(
    weights, means, variances, true_weights, true_means, true_variances
) -> Matched:
    """Align fitted components with the true ones, dataset by dataset.

    The fits' component labels are arbitrary (fastem sorts them by mean); bias and RMSE
    need them matched to the truth. For each dataset this finds the permutation that
    minimises ``sum_k (mu_hat - mu_k)^2 / var_k + (log var_hat - log var_k)^2``, the squared
    error of the means in units of the true standard deviations plus that of the log
    variances (which tells apart components with equal means). The assignment is solved
    exactly (Hungarian algorithm), as an exhaustive search over permutations would.

    Parameters
    ----------
    weights, means, variances : arrays of shape (n_datasets, K) or (K,)
        Fitted parameters.
    true_weights, true_means, true_variances : arrays of shape (K,) or (n_datasets, K)
        The truth, the same for all datasets or one per dataset, with as many components
        as the fits (ValueError otherwise: components are matched one to one).

    Returns
    -------
    Matched

    Examples
    --------
    A fit whose first component is the truth's second:

    >>> matched = fastem.match_components([0.6, 0.4], [3.0, -3.0], [1.0, 2.0],
    ...                                   [0.4, 0.6], [-3.0, 3.0], [2.0, 1.0])
    >>> matched.order, matched.means, matched.weights
    (array([[1, 0]]), array([[-3.,  3.]]), array([[0.4, 0.6]]))
    """
    # SciPy only here, so that ``import fastem`` does not load scipy.optimize.
    from scipy.optimize import linear_sum_assignment

    fitted = [np.atleast_2d(np.asarray(a, dtype=np.float64)) for a in (weights, means, variances)]
    n_datasets, n_components = fitted[1].shape
    true_k = {
        np.shape(a)[-1] if np.ndim(a) else 1 for a in (true_weights, true_means, true_variances)
    }
    if true_k != {n_components}:
        raise ValueError(
            f"the fits have {n_components} component(s) but the truth "
            f"{' or '.join(map(str, sorted(true_k)))}; components are matched one "
            "to one, so fit as many components as the true mixture has."
        )
    truth = [
        np.broadcast_to(np.asarray(a, dtype=np.float64), (n_datasets, n_components))
        for a in (true_weights, true_means, true_variances)
    ]
    mean_error = (fitted[1][:, :, None] - truth[1][:, None, :]) ** 2 / truth[2][:, None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        log_ratio = np.log(fitted[2][:, :, None]) - np.log(truth[2][:, None, :])
    cost = mean_error + np.nan_to_num(log_ratio**2, nan=np.inf, posinf=np.inf)
    order = np.empty((n_datasets, n_components), dtype=np.int64)
    for d in range(n_datasets):
        cost_d = cost[d]
        if not np.isfinite(cost_d).all():  # a failed fit: keep the fitted order
            order[d] = np.arange(n_components)
            continue
        rows, cols = linear_sum_assignment(cost_d)
        order[d, cols] = rows
    return Matched(*(np.take_along_axis(a, order, axis=1) for a in fitted), order)


class RestartSummary(NamedTuple):
    """What the restarts of each dataset found (:func:`fastem.restart_summary`), arrays of
    shape (n_datasets,); for a single 1D dataset each is a number. Non-finite restarts
    count as not reaching the best and as no maximum."""

    #: The highest final log-likelihood of any restart.
    best_log_likelihood: np.ndarray
    #: The fraction of restarts that reached it.
    share_at_best: np.ndarray
    #: The number of distinct final log-likelihoods (local maxima, or saddle points EM
    #: stopped at).
    n_local_maxima: np.ndarray


def restart_summary(result, tol=1e-4) -> RestartSummary:
    """Summarise every restart of a :class:`~fastem.FitResult`.

    Two final log-likelihoods are the same maximum when they differ by less than ``tol``
    per observation (``tol * n_observations`` in all): restarts converging to one
    maximum stop within about ``tol_fit / (1 - rate)`` per point of it, where ``tol_fit``
    bounds the last change of the mean log-likelihood per point and ``rate`` is EM's
    convergence rate. :func:`fastem.fit`'s default rule ("parameter", ``tol=1e-9``)
    bounds that change by 1e-9 and its "loglik" rule by 1e-6 by default, so the default
    ``1e-4`` suits either for rates up to 0.99.

    The summary describes the restarts the returned fit was chosen among: with
    ``skip_degenerate=True``, a dataset's spurious, collapsed or failed restarts are left
    out when it has a regular one.

    Parameters
    ----------
    result : FitResult
        A fit of any number of restarts: their final log-likelihoods
        (:attr:`~fastem.FitResult.restart_log_likelihood`) are summarised.
    tol : float, default 1e-4
        Per observation: final log-likelihoods closer than this are one maximum.

    Returns
    -------
    RestartSummary
        The best log-likelihood, the share of restarts at it and the number of distinct
        maxima, per dataset.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = np.concatenate([rng.normal(-3, 1, 300), rng.normal(3, 1, 200)])
    >>> result = fastem.fit(x, 2, n_init=8, random_state=0)
    >>> summary = fastem.restart_summary(result)
    >>> float(summary.share_at_best), int(summary.n_local_maxima)
    (1.0, 1)
    """
    tol = _validate.check_non_negative("tol", tol)
    restart_ll = np.atleast_2d(result.restart_log_likelihood)
    n_observations = np.atleast_1d(result.n_observations)
    margin = (tol * n_observations)[:, None]
    kept = np.ones(restart_ll.shape, dtype=np.bool_)
    if result.skip_degenerate:
        kept = kept_restarts(np.atleast_2d(result.restart_status))
    finite = np.isfinite(restart_ll) & kept
    best = np.max(np.where(finite, restart_ll, -np.inf), axis=1)
    with np.errstate(invalid="ignore"):
        at_best = finite & (restart_ll >= best[:, None] - margin)
    ordered = np.sort(np.where(finite, restart_ll, np.nan), axis=1)  # NaN sort last
    gaps = np.diff(ordered, axis=1) > margin
    n_maxima = finite.any(axis=1).astype(np.int64) + gaps.sum(axis=1)
    best = np.where(np.isfinite(best), best, np.nan)
    share = at_best.sum(axis=1) / kept.sum(axis=1)
    if np.ndim(result.restart_log_likelihood) == 1:  # one 1D dataset
        return RestartSummary(best.item(), share.item(), n_maxima.item())
    return RestartSummary(best, share, n_maxima)


def labelling_costs(matched, fitted):
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
