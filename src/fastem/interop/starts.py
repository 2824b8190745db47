"""The starting values of :class:`fastem.GaussianMixture`'s fits: a warm start, those given,
or, when only some are given, scikit-learn's own initialisation of the others (or fastem's
strategy of the ``init_params`` name).

Functions of the estimator, which holds the constructor's arguments and the last fit.
"""

from __future__ import annotations

import numpy as np
from sklearn.mixture import GaussianMixture as SklearnGaussianMixture
from sklearn.utils import check_random_state

from .. import checks as _validate
from .. import init
from ..batch import as_batch
from ..engine import layout
from ..init._registry import DETERMINISTIC, STRATEGIES

INIT_PARAMS = {alias: s.name for s in STRATEGIES.values() for alias in (s.name, *s.aliases)}
"""``init_params`` names (scikit-learn's and fastem's) -> fastem's strategies."""
SKLEARN_INIT_PARAMS = {
    "kmeans": "kmeans",
    "kmeans++": "k-means++",
    "random_from_data": "random_from_data",
    "random": "random",
}
"""fastem's strategies that scikit-learn has too -> scikit-learn's ``init_params`` name."""


def tied(estimator) -> bool:
    """Whether the components share one variance."""
    return estimator.covariance_type == "tied" or bool(estimator.equal_variance)


def warm(estimator) -> bool:
    """Whether this fit continues from the last one's solution."""
    return bool(estimator.warm_start) and hasattr(estimator, "weights_")


def _starting_values(estimator):
    """Starting values for fastem.fit, shape (K,) each: the last solution when
    warm-starting, else those given."""
    k = estimator.n_components
    if warm(estimator):
        if estimator.weights_.size != k:
            raise ValueError(
                f"warm_start=True continues from the last fit, which has "
                f"{estimator.weights_.size} components, but n_components={k}. Set "
                "warm_start=False to fit afresh."
            )
        # "tied" keeps one value, the variance of every component.
        variances = np.broadcast_to(estimator.covariances_.reshape(-1), (k,))
        if tied(estimator):  # from a fit with a variance per component
            variances = np.full(k, estimator.weights_ @ variances)
        starts = dict(means_init=estimator.means_[:, 0], variances_init=variances)
        if not estimator.equal_weights:
            starts["weights_init"] = estimator.weights_
        return starts
    starts = {}
    for name in ("weights_init", "means_init"):
        value = getattr(estimator, name)
        if value is not None:
            value = np.asarray(value, dtype=float)
            if value.size != k:
                raise ValueError(
                    f"{name} has shape {value.shape}; give one value per component: "
                    f"shape ({k},) or ({k}, 1) for n_components={k}."
                )
            starts[name] = value.reshape(k)
    if estimator.precisions_init is not None:
        precisions = np.asarray(estimator.precisions_init, dtype=float).reshape(-1)
        if precisions.size == 1:
            precisions = np.repeat(precisions, k)
        if precisions.size != k:
            raise ValueError(
                f"precisions_init has {precisions.size} values; give one per component "
                f"({k}), or one for covariance_type='tied'."
            )
        if not (np.isfinite(precisions).all() and (precisions > 0).all()):
            raise ValueError("precisions_init must be finite and positive.")
        starts["variances_init"] = 1.0 / precisions
    return starts


def starts(estimator, x):
    """The starting values for :func:`fastem.fit` and its ``n_init``.

    Returns ``(starts, n_init)``: no starts (fastem's strategy, seeded per restart, in
    the kernel); the given or warm-start values of shape (K,) when they are all there
    (every restart would be the same fit, so it runs once); or, when only some are
    given, every value of every restart, shape (n_init, K).
    """
    starts = _starting_values(estimator)
    if not starts:
        deterministic = INIT_PARAMS[estimator.init_params] in DETERMINISTIC
        return starts, 1 if deterministic else estimator.n_init
    if _complete(estimator, starts):
        return starts, 1
    starts = _completed_starts(estimator, x, starts)
    return starts, starts["means_init"].shape[0]


def _complete(estimator, starts):
    """Whether ``starts`` give every starting value (weights are held at 1/K with
    ``equal_weights``)."""
    return (
        "means_init" in starts
        and "variances_init" in starts
        and ("weights_init" in starts or bool(estimator.equal_weights))
    )


def fastem_seed(estimator):
    """The seed of fastem's own random starts."""
    return _validate.check_random_state(check_random_state(estimator.random_state))


def _completed_starts(estimator, x, given):
    """Starting values of shape (n_init, K) each, from ``given`` (some of them, of shape
    (K,)): as in scikit-learn, the others are those of each restart's ``init_params``
    clustering, and the given ones replace the clustering's."""
    k = estimator.n_components
    strategy = INIT_PARAMS[estimator.init_params]
    if strategy in SKLEARN_INIT_PARAMS:
        weights, means, variances = _sklearn_starts(estimator, x, SKLEARN_INIT_PARAMS[strategy])
    else:
        values = init.starting_values(
            x,
            k,
            init=strategy,
            n_init=1 if strategy in DETERMINISTIC else estimator.n_init,
            random_state=fastem_seed(estimator),
            equal_variance=tied(estimator),
            reg_variance=estimator.reg_covar / data_scale(x) ** 2,
        )
        weights, means, variances = values.weights, values.means, values.variances
    starts = dict(weights_init=weights, means_init=means, variances_init=variances)
    for name, value in given.items():
        starts[name] = np.broadcast_to(value, means.shape)
    if estimator.equal_weights:
        del starts["weights_init"]
    return starts


def _sklearn_starts(estimator, x, init_params):
    """scikit-learn's starting weights, means and variances, shape (n_init, K) each.

    scikit-learn's own initialisation, run by its estimator with ``max_iter=0``: the
    same draws from ``random_state`` in the same order (one ``check_random_state``
    for all restarts, as in its ``fit``) and the same arithmetic, so these are its
    starting values, in any version of it. Weights are normalised: scikit-learn's sum
    to ``K / n_samples`` for starts on single points, which only shifts its first
    lower bound (see ``lower_bounds_``).
    """
    k = estimator.n_components
    random_state = check_random_state(estimator.random_state)
    column = x[:, np.newaxis]
    covariance_type = "tied" if tied(estimator) else estimator.covariance_type
    weights, means, variances = (np.empty((estimator.n_init, k)) for _ in range(3))
    for r in range(estimator.n_init):
        start = SklearnGaussianMixture(
            k,
            covariance_type=covariance_type,
            reg_covar=estimator.reg_covar,
            init_params=init_params,
            max_iter=0,
            random_state=random_state,
        ).fit(column)
        weights[r] = start.weights_ / start.weights_.sum()
        means[r] = start.means_[:, 0]
        variances[r] = start.covariances_.reshape(-1)  # one value for "tied"
    return weights, means, variances


def data_scale(x: np.ndarray) -> float:
    """The scale of the points ``x`` that fit's ``reg_variance`` is relative to: the
    standard deviation that :func:`fastem.fit` standardises the dataset by (for a constant
    dataset, its magnitude), so that ``reg_covar / data_scale(x) ** 2`` adds ``reg_covar``
    to each variance in the data's units."""
    return float(layout.scale_from_moments(*layout.moments(as_batch(x)))[0])
