"""``fastem.GaussianMixture``: a scikit-learn estimator for one-dimensional data.

Needs scikit-learn (``pip install 'fastem[sklearn]'``). The constructor mirrors
``sklearn.mixture.GaussianMixture`` where it applies to 1D, and its ``n_init`` restarts run
in parallel in fastem's batched kernel.
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import NamedTuple

import numpy as np

try:
    from sklearn.base import BaseEstimator, DensityMixin
    from sklearn.exceptions import ConvergenceWarning as SklearnConvergenceWarning
    from sklearn.utils import check_random_state
    from sklearn.utils.validation import check_is_fitted, validate_data
except ImportError as error:  # pragma: no cover - exercised without scikit-learn only
    raise ImportError(
        "fastem.GaussianMixture needs scikit-learn: pip install 'fastem[sklearn]'"
    ) from error

from .. import api
from .. import checks as _validate
from .. import options as _options
from ..engine.status import Status
from ..mixtures import log_posteriors
from ..restarts import kept_restarts
from ..result import ConvergenceWarning
from . import starts as _starts

_REG_COVAR = _options.BY_NAME["reg_variance"].sklearn
"""scikit-learn's name of fastem's ``reg_variance``, which the estimator takes in the data's
units."""
_COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")
TRACE_KEPT = 1024
"""Log-likelihoods per restart kept by a first run, for ``lower_bounds_``."""


class GaussianMixture(DensityMixin, BaseEstimator):
    """Gaussian mixture for 1D data, fitted by fastem's EM kernel.

    Parameters follow :class:`sklearn.mixture.GaussianMixture` (same names, meanings and
    defaults); ``X`` is of shape ``(n_samples,)`` or ``(n_samples, 1)``.

    Parameters
    ----------
    n_components : int, default 1
        Number of mixture components.
    covariance_type : {"full", "tied", "diag", "spherical"}, default "full"
        In one dimension "full", "diag" and "spherical" are the same model (a variance per
        component); "tied" shares one variance. Fitted attributes take scikit-learn's shapes
        for the type given.
    tol : float, default 1e-3
        Stop when the mean log-likelihood per sample changes by less than ``tol``.
    reg_covar : float, default 1e-6
        Added to every variance at each M-step, in the data's units (as scikit-learn);
        passed to :func:`fastem.fit` as ``reg_variance = reg_covar / var(X)``.
    max_iter : int, default 100
        Most EM iterations (E-step and M-step) of each restart.
    n_init : int, default 1
        Restarts, run in parallel. As in scikit-learn, the one kept has the largest lower
        bound (``lower_bounds_[-1]``, the log-likelihood before its last M-step), the
        first on ties, but among the regular restarts when there is one: never a
        collapsed or spurious one (:class:`fastem.Status` ``SPURIOUS`` or above, fastem's
        ``skip_degenerate``). A component that collapses onto one point keeps the variance
        ``reg_covar`` and has the highest likelihood; its restart is flagged collapsed,
        since its variance before ``reg_covar`` is added falls below ``reg_covar``.
        scikit-learn keeps such a restart, and its BIC then prefers too many components:
        on R's acidity data (155 points, ``n_init=20, random_state=0``) its K=3 fit with a
        component on one point has BIC 392.87 < K=2's 394.76, where the best regular K=3
        restart has 405.85 (scikit-learn's own choice there), and K=2 is chosen.
    init_params : str, default "kmeans"
        "kmeans", "k-means++", "random_from_data", "random", or fastem's "quantile",
        "emem", "hc" and "rndem" (with their default options). Without starting values,
        fastem's strategies of those names, seeded per restart ("random" is then mixtools'
        random starts). With some starting values given, see below.
    weights_init, means_init, precisions_init : array-like, optional
        Starting values: shapes (K,), (K, 1), and (K,), (K, 1) or (K, 1, 1) (a scalar or
        (1, 1) for "tied"). Those given are used as they are; the others are, as in
        scikit-learn, those of the ``init_params`` clustering of each restart. For
        scikit-learn's four names this is scikit-learn's own initialisation, with the same
        draws from ``random_state``, so that the fit is scikit-learn's: responsibilities
        from k-means (its ``KMeans``), k-means++ seeds, random points or random
        responsibilities, and the weights, means and covariances (plus ``reg_covar``)
        they give. For fastem's own names, fastem's starts of that name. A given mean
        pairs with the clustering's component of the same index, as in scikit-learn.
    random_state : int, RandomState or None
        Seeds fastem's random starts; with some starting values given and one of
        scikit-learn's ``init_params``, drawn from exactly as scikit-learn draws.
    warm_start : bool, default False
        Start the next ``fit`` from this one's solution (then ``n_init`` is ignored).
    verbose : int, default 0
        1: a line per restart; 2: also the log-likelihood every ``verbose_interval``
        iterations.
    verbose_interval : int, default 10
        Iterations between the log-likelihoods printed with ``verbose=2``.
    equal_variance : bool, default False
        fastem's name for ``covariance_type="tied"``; either gives one shared variance.
    equal_weights : bool, default False
        Hold the weights at 1/K.

    Attributes
    ----------
    weights_ : ndarray of shape (n_components,)
        The weights of the components, summing to 1.
    means_ : ndarray of shape (n_components, 1)
        Components keep the order of their starting values when any are given
        (``weights_init``, ``means_init``, ``precisions_init``, or a warm start), as in
        scikit-learn; otherwise they are sorted by mean.
    covariances_, precisions_, precisions_cholesky_ : ndarray
        Shapes as scikit-learn's for ``covariance_type``: "full" (K, 1, 1), "tied" (1, 1),
        "diag" (K, 1), "spherical" (K,).
    converged_ : bool
        Whether the returned restart met ``tol`` within ``max_iter`` iterations.
    n_iter_ : int
        Iterations of the returned restart.
    lower_bound_ : float
        Mean log-likelihood per sample of the fitted parameters (``score`` of the training
        data; scikit-learn's is that of the parameters before the last M-step).
    lower_bounds_ : list of float
        As scikit-learn's: the mean log-likelihood per sample before each iteration's
        M-step, ``n_iter_`` values, of the returned restart. The first is that of the
        starting weights normalised to sum to 1; scikit-learn's k-means++ and
        random_from_data starts have weights summing to ``K / n_samples``, so its first
        lower bound is lower by ``log(n_samples / K)`` (the fits are the same).
    n_features_in_ : int
        Always 1.
    status_ : fastem.Status
        fastem's status of the returned fit.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = np.concatenate([rng.normal(-3, 1, 300), rng.normal(3, 1, 200)])
    >>> model = fastem.GaussianMixture(n_components=2, random_state=0).fit(x.reshape(-1, 1))
    >>> np.round(model.means_.ravel(), 1), model.covariances_.shape, bool(model.converged_)
    (array([-3.,  3.]), (2, 1, 1), True)
    >>> model.predict(np.array([[-3.0], [3.0]]))
    array([0, 1])
    >>> np.round(model.predict_proba(np.array([[0.0]])), 2)
    array([[0.81, 0.19]])
    """

    def __init__(
        self,
        n_components=1,
        *,
        covariance_type="full",
        tol=1e-3,
        reg_covar=1e-6,
        max_iter=100,
        n_init=1,
        init_params="kmeans",
        weights_init=None,
        means_init=None,
        precisions_init=None,
        random_state=None,
        warm_start=False,
        verbose=0,
        verbose_interval=10,
        equal_variance=False,
        equal_weights=False,
    ):
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.weights_init = weights_init
        self.means_init = means_init
        self.precisions_init = precisions_init
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.verbose_interval = verbose_interval
        self.equal_variance = equal_variance
        self.equal_weights = equal_weights

    # -------------------------------------------------------------------- input

    def _check_x(self, X, reset):
        if np.ndim(X) == 1:
            X = np.asarray(X)[:, np.newaxis] if not hasattr(X, "iloc") else X.to_frame()
        X = validate_data(
            self, X, reset=reset, dtype=[np.float64, np.float32], ensure_min_samples=1
        )
        if X.shape[1] != 1:
            raise ValueError(
                f"fastem.GaussianMixture models one-dimensional data, but X has "
                f"{X.shape[1]} features. Pass a 1D array or one column (X[:, [j]]), or use "
                "sklearn.mixture.GaussianMixture for multivariate data."
            )
        return X[:, 0].astype(np.float64)

    def _check_params(self):
        """Checks of the constructor's arguments that fastem.fit does not make itself."""
        if self.covariance_type not in _COVARIANCE_TYPES:
            raise ValueError(
                f"covariance_type={self.covariance_type!r} is not one of "
                f"{', '.join(_COVARIANCE_TYPES)}."
            )
        if self.init_params not in _starts.INIT_PARAMS:
            raise ValueError(
                f"init_params={self.init_params!r} is not one of {', '.join(_starts.INIT_PARAMS)}."
            )
        # fastem.fit sees reg_covar rescaled, so it could not name it.
        _validate.check_non_negative(_REG_COVAR, self.reg_covar)
        _validate.check_int("n_init", self.n_init, 1)
        _validate.check_int("verbose_interval", self.verbose_interval, 1)

    # -------------------------------------------------------------------- fitting

    def fit(self, X, y=None):
        """Fit the mixture to ``X`` by EM; returns self."""
        self._fit(X)
        return self

    def fit_predict(self, X, y=None):
        """Fit, then return the most likely component of each sample."""
        self._fit(X)
        return self.predict(X)

    def _fit(self, X):
        """The work of :meth:`fit` and :meth:`fit_predict`, whose warnings point at the
        line of the caller of either (three frames up)."""
        self._check_params()
        x = self._check_x(X, reset=True)
        if x.size < self.n_components:
            raise ValueError(
                f"Expected n_samples >= n_components but got n_components = "
                f"{self.n_components}, n_samples = {x.size}"
            )
        scale = _starts.data_scale(x)
        _validate.check_scale(np.array([scale]))  # before reg_covar is divided by it
        starts, n_init = _starts.starts(self, x)
        options = dict(
            n_init=n_init,
            max_iter=self.max_iter,
            tol=self.tol,
            algorithm="em",
            stop="loglik",
            reg_variance=self.reg_covar / scale**2,
            equal_variance=_starts.tied(self),
            equal_weights=bool(self.equal_weights),
            sort_components=not starts,
            warn=False,
            return_restarts=True,
            skip_degenerate=True,
            **starts,
        )
        if starts:
            # All of them are given: any strategy but emEM (whose short runs would move
            # them) uses them as they are, and draws nothing from random_state.
            options.update(init="quantile", random_state=0)
        else:
            options.update(
                init=_starts.INIT_PARAMS[self.init_params], random_state=_starts.fastem_seed(self)
            )
        # The choice of restart and lower_bounds_ need the trace up to each restart's
        # n_iter; keep a short one, and run the same fit again (same seed or starts, same
        # result) if it turns out too short, so that memory follows the iterations run
        # rather than max_iter.
        kept = self.max_iter + 1 if self.verbose >= 2 else min(self.max_iter + 1, TRACE_KEPT)
        result = api.fit(x, self.n_components, trace=kept, **options)
        longest = int(np.max(result.restart_n_iter))
        if longest > kept:
            result = api.fit(x, self.n_components, trace=longest, **options)
        result = _with_best_restart(result, _best_restart(result))
        for category, message in result.problems():
            if category is ConvergenceWarning:
                category, message = (
                    SklearnConvergenceWarning,
                    (
                        "Best performing initialization did not converge. Try different init "
                        "parameters, or increase max_iter, tol, or check for degenerate data."
                    ),
                )
            warnings.warn(message, category, stacklevel=3)
        self._set_fitted(result, x.size)

    def _set_fitted(self, result, n):
        k = self.n_components
        self.weights_ = np.asarray(result.weights, dtype=float)
        self.means_ = np.asarray(result.means, dtype=float).reshape(k, 1)
        self._variances = np.asarray(result.variances, dtype=float)
        self.covariances_ = self._shaped(self._variances)
        self.precisions_ = self._shaped(1.0 / self._variances)
        self.precisions_cholesky_ = self._shaped(1.0 / np.sqrt(self._variances))
        self.converged_ = bool(result.converged)
        self.n_iter_ = int(result.n_iter)
        self.lower_bound_ = float(result.log_likelihood) / n
        # As scikit-learn's: the log-likelihood before each iteration's M-step.
        self.lower_bounds_ = list(result.trace[result.best_restart, : self.n_iter_] / n)
        self.status_ = Status(int(result.status))
        if self.verbose:
            for r, (ll, iters) in enumerate(
                zip(result.restart_log_likelihood, result.restart_n_iter)
            ):
                if self.verbose >= 2:
                    steps = result.trace[r]
                    for t in range(self.verbose_interval, iters + 1, self.verbose_interval):
                        print(f"  Iteration {t}\t mean log-likelihood {steps[t] / n:.5f}")
                print(f"Initialization {r}: {iters} iterations, mean log-likelihood {ll / n:.5f}")

    def _shaped(self, values):
        k = self.n_components
        if self.covariance_type == "full":
            return values.reshape(k, 1, 1)
        if self.covariance_type == "tied":
            return values[:1].reshape(1, 1)
        if self.covariance_type == "diag":
            return values.reshape(k, 1)
        return values.reshape(k)

    # -------------------------------------------------------------------- prediction

    def _log_posteriors(self, X):
        """``(log_resp, log_density)`` of the fitted mixture at ``X``, by the engine's
        E-step (:func:`fastem.engine.posterior.log_posteriors`), as
        :meth:`fastem.FitResult.score_samples` computes them."""
        check_is_fitted(self)
        x = self._check_x(X, reset=False)
        fitted = _Fitted(self.weights_, self.means_[:, 0], self._variances)
        log_resp, log_density, _ = log_posteriors(fitted, x)
        return log_resp, log_density

    def score_samples(self, X):
        """Log-likelihood of each sample, shape (n_samples,)."""
        return self._log_posteriors(X)[1]

    def score(self, X, y=None):
        """Mean log-likelihood per sample."""
        return float(self.score_samples(X).mean())

    def predict_proba(self, X):
        """Responsibilities, shape (n_samples, n_components)."""
        return np.exp(self._log_posteriors(X)[0])

    def predict(self, X):
        """The most likely component of each sample, shape (n_samples,)."""
        return self._log_posteriors(X)[0].argmax(axis=1)

    def sample(self, n_samples=1):
        """Draw from the fitted mixture: ``(X of shape (n_samples, 1), component labels)``."""
        check_is_fitted(self)
        if n_samples < 1:
            raise ValueError(
                f"Invalid value for 'n_samples': {n_samples}. The sampling "
                "requires at least one sample."
            )
        rng = check_random_state(self.random_state)
        counts = rng.multinomial(n_samples, self.weights_)
        x = np.concatenate(
            [
                rng.normal(mean, np.sqrt(variance), count)
                for mean, variance, count in zip(self.means_[:, 0], self._variances, counts)
            ]
        )
        labels = np.repeat(np.arange(self.n_components), counts)
        return x[:, np.newaxis], labels

    def _n_parameters(self):
        k = self.n_components
        weights = 0 if self.equal_weights else k - 1
        return weights + k + (1 if _starts.tied(self) else k)

    def bic(self, X):
        """Bayesian information criterion on ``X`` (smaller is better)."""
        n = self._check_x(X, reset=False).size
        return -2.0 * self.score(X) * n + self._n_parameters() * np.log(n)

    def aic(self, X):
        """Akaike information criterion on ``X`` (smaller is better)."""
        n = self._check_x(X, reset=False).size
        return -2.0 * self.score(X) * n + 2.0 * self._n_parameters()


class _Fitted(NamedTuple):
    """The fitted mixture, as the engine's E-step reads a fit (one dataset, finite)."""

    weights: np.ndarray
    means: np.ndarray
    variances: np.ndarray
    log_likelihood: float = 0.0


def _best_restart(result):
    """scikit-learn's choice of restart among the regular ones when there is one
    (:func:`fastem.result.kept_restarts`): the largest lower bound (the log-likelihood
    before the last M-step), the first on ties; ``result`` of one dataset with a trace of
    each restart's ``n_iter`` entries at least."""
    n_iter = np.atleast_1d(result.restart_n_iter)
    lower_bounds = result.trace[np.arange(n_iter.size), np.maximum(n_iter - 1, 0)]
    ranking = np.where(kept_restarts(result.restart_status), lower_bounds, np.nan)
    return int(np.argmax(np.nan_to_num(ranking, nan=-np.inf)))


def _with_best_restart(result, best):
    """``result`` (of one dataset, with ``return_restarts=True``) with restart ``best`` as
    the returned fit. Only the fields the estimator reads are replaced (``log_map`` stays
    that of fastem's choice)."""
    if best == result.best_restart:
        return result
    return dataclasses.replace(
        result,
        best_restart=best,
        weights=result.restart_weights[best],
        means=result.restart_means[best],
        variances=result.restart_variances[best],
        log_likelihood=float(result.restart_log_likelihood[best]),
        n_iter=int(result.restart_n_iter[best]),
        converged=bool(result.restart_converged[best]),
        status=int(result.restart_status[best]),
    )
