"""``fastem.GaussianMixture``: a scikit-learn estimator for one-dimensional data.

Needs scikit-learn (``pip install 'fastem[sklearn]'``). The constructor mirrors
``sklearn.mixture.GaussianMixture`` where it applies to 1D, and its ``n_init`` restarts run
in parallel in fastem's batched kernel.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np

try:
    from sklearn.base import BaseEstimator, DensityMixin
    from sklearn.exceptions import ConvergenceWarning as SklearnConvergenceWarning
    from sklearn.mixture import GaussianMixture as SklearnGaussianMixture
    from sklearn.utils import check_random_state
    from sklearn.utils.validation import check_is_fitted, validate_data
except ImportError as error:  # pragma: no cover - exercised without scikit-learn only
    raise ImportError(
        "fastem.GaussianMixture needs scikit-learn: pip install 'fastem[sklearn]'"
    ) from error

from .. import api, init, reference
from .. import checks as _validate
from ..init._registry import STRATEGIES
from ..restarts import kept_restarts
from ..result import ConvergenceWarning
from ..status import Status

_INIT_PARAMS = {alias: s.name for s in STRATEGIES.values() for alias in (s.name, *s.aliases)}
"""``init_params`` names (scikit-learn's and fastem's) -> fastem's strategies."""
SKLEARN_INIT_PARAMS = {
    "kmeans": "kmeans",
    "kmeans++": "k-means++",
    "random_from_data": "random_from_data",
    "random": "random",
}
"""fastem's strategies that scikit-learn has too -> scikit-learn's ``init_params`` name."""
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
        "kmeans", "k-means++", "random_from_data", "random", or fastem's "quantile" and
        "emem". Without starting values, fastem's strategies of those names, seeded per
        restart ("random" is then mixtools' random starts). With some starting values
        given, see below.
    weights_init, means_init, precisions_init : array-like, optional
        Starting values: shapes (K,), (K, 1), and (K,), (K, 1) or (K, 1, 1) (a scalar or
        (1, 1) for "tied"). Those given are used as they are; the others are, as in
        scikit-learn, those of the ``init_params`` clustering of each restart. For
        scikit-learn's four names this is scikit-learn's own initialisation, with the same
        draws from ``random_state``, so that the fit is scikit-learn's: responsibilities
        from k-means (its ``KMeans``), k-means++ seeds, random points or random
        responsibilities, and the weights, means and covariances (plus ``reg_covar``)
        they give. For "quantile" and "emem", fastem's starts of that name. A given mean
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
    equal_variance : bool, default False
        fastem's name for ``covariance_type="tied"``; either gives one shared variance.
    equal_weights : bool, default False
        Hold the weights at 1/K.

    Attributes
    ----------
    weights_ : ndarray of shape (n_components,)
    means_ : ndarray of shape (n_components, 1)
        Components keep the order of their starting values when any are given
        (``weights_init``, ``means_init``, ``precisions_init``, or a warm start), as in
        scikit-learn; otherwise they are sorted by mean.
    covariances_, precisions_, precisions_cholesky_ : ndarray
        Shapes as scikit-learn's for ``covariance_type``: "full" (K, 1, 1), "tied" (1, 1),
        "diag" (K, 1), "spherical" (K,).
    converged_ : bool
    n_iter_ : int
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

    def _tied(self):
        return self.covariance_type == "tied" or bool(self.equal_variance)

    def _warm(self):
        """Whether this fit continues from the last one's solution."""
        return bool(self.warm_start) and hasattr(self, "weights_")

    def _starting_values(self):
        """Starting values for fastem.fit, shape (K,) each: the last solution when
        warm-starting, else those given."""
        k = self.n_components
        if self._warm():
            if self.weights_.size != k:
                raise ValueError(
                    f"warm_start=True continues from the last fit, which has "
                    f"{self.weights_.size} components, but n_components={k}. Set "
                    "warm_start=False to fit afresh."
                )
            variances = self._variances
            if self._tied():  # from a fit with a variance per component
                variances = np.full(k, self.weights_ @ variances)
            starts = dict(means_init=self.means_[:, 0], variances_init=variances)
            if not self.equal_weights:
                starts["weights_init"] = self.weights_
            return starts
        starts = {}
        for name in ("weights_init", "means_init"):
            value = getattr(self, name)
            if value is not None:
                value = np.asarray(value, dtype=float)
                if value.size != k:
                    raise ValueError(
                        f"{name} has shape {value.shape}; give one value per component: "
                        f"shape ({k},) or ({k}, 1) for n_components={k}."
                    )
                starts[name] = value.reshape(k)
        if self.precisions_init is not None:
            precisions = np.asarray(self.precisions_init, dtype=float).reshape(-1)
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

    def _starts(self, x):
        """The starting values for :func:`fastem.fit` and its ``n_init``.

        Returns ``(starts, n_init)``: no starts (fastem's strategy, seeded per restart, in
        the kernel); the given or warm-start values of shape (K,) when they are all there
        (every restart would be the same fit, so it runs once); or, when only some are
        given, every value of every restart, shape (n_init, K).
        """
        starts = self._starting_values()
        if not starts:
            return starts, 1 if _INIT_PARAMS[self.init_params] == "quantile" else self.n_init
        if self._complete(starts):
            return starts, 1
        starts = self._completed_starts(x, starts)
        return starts, starts["means_init"].shape[0]

    def _complete(self, starts):
        """Whether ``starts`` give every starting value (weights are held at 1/K with
        ``equal_weights``)."""
        return (
            "means_init" in starts
            and "variances_init" in starts
            and ("weights_init" in starts or bool(self.equal_weights))
        )

    def _fastem_seed(self):
        """The seed of fastem's own random starts."""
        return _validate.check_random_state(check_random_state(self.random_state))

    def _completed_starts(self, x, given):
        """Starting values of shape (n_init, K) each, from ``given`` (some of them, of shape
        (K,)): as in scikit-learn, the others are those of each restart's ``init_params``
        clustering, and the given ones replace the clustering's."""
        k = self.n_components
        strategy = _INIT_PARAMS[self.init_params]
        if strategy in SKLEARN_INIT_PARAMS:
            weights, means, variances = self._sklearn_starts(x, SKLEARN_INIT_PARAMS[strategy])
        else:
            values = init.starting_values(
                x,
                k,
                init=strategy,
                n_init=1 if strategy == "quantile" else self.n_init,
                random_state=self._fastem_seed(),
                equal_variance=self._tied(),
                reg_variance=self.reg_covar / reference.dataset_scale(x) ** 2,
            )
            weights, means, variances = values.weights, values.means, values.variances
        starts = dict(weights_init=weights, means_init=means, variances_init=variances)
        for name, value in given.items():
            starts[name] = np.broadcast_to(value, means.shape)
        if self.equal_weights:
            del starts["weights_init"]
        return starts

    def _sklearn_starts(self, x, init_params):
        """scikit-learn's starting weights, means and variances, shape (n_init, K) each.

        scikit-learn's own initialisation, run by its estimator with ``max_iter=0``: the
        same draws from ``random_state`` in the same order (one ``check_random_state``
        for all restarts, as in its ``fit``) and the same arithmetic, so these are its
        starting values, in any version of it. Weights are normalised: scikit-learn's sum
        to ``K / n_samples`` for starts on single points, which only shifts its first
        lower bound (see ``lower_bounds_``).
        """
        k = self.n_components
        random_state = check_random_state(self.random_state)
        column = x[:, np.newaxis]
        covariance_type = "tied" if self._tied() else self.covariance_type
        weights, means, variances = (np.empty((self.n_init, k)) for _ in range(3))
        for r in range(self.n_init):
            start = SklearnGaussianMixture(
                k,
                covariance_type=covariance_type,
                reg_covar=self.reg_covar,
                init_params=init_params,
                max_iter=0,
                random_state=random_state,
            ).fit(column)
            weights[r] = start.weights_ / start.weights_.sum()
            means[r] = start.means_[:, 0]
            variances[r] = start.covariances_.reshape(-1)  # one value for "tied"
        return weights, means, variances

    def _check_params(self):
        """Checks of the constructor's arguments that fastem.fit does not make itself."""
        if self.covariance_type not in _COVARIANCE_TYPES:
            raise ValueError(
                f"covariance_type={self.covariance_type!r} is not one of "
                f"{', '.join(_COVARIANCE_TYPES)}."
            )
        if self.init_params not in _INIT_PARAMS:
            raise ValueError(
                f"init_params={self.init_params!r} is not one of {', '.join(_INIT_PARAMS)}."
            )
        # fastem.fit sees reg_covar rescaled, so it could not name it.
        _validate.check_non_negative("reg_covar", self.reg_covar)
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
        scale = reference.dataset_scale(x)
        _validate.check_scale(np.array([scale]))  # before reg_covar is divided by it
        starts, n_init = self._starts(x)
        options = dict(
            n_init=n_init,
            max_iter=self.max_iter,
            tol=self.tol,
            algorithm="em",
            stop="loglik",
            reg_variance=self.reg_covar / scale**2,
            equal_variance=self._tied(),
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
            options.update(init=_INIT_PARAMS[self.init_params], random_state=self._fastem_seed())
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

    def _log_joint(self, X):
        check_is_fitted(self)
        x = self._check_x(X, reset=False)
        return reference.log_joint(x, self.weights_, self.means_[:, 0], self._variances)

    def score_samples(self, X):
        """Log-likelihood of each sample, shape (n_samples,)."""
        from scipy.special import logsumexp

        return logsumexp(self._log_joint(X), axis=1)

    def score(self, X, y=None):
        """Mean log-likelihood per sample."""
        return float(self.score_samples(X).mean())

    def predict_proba(self, X):
        """Responsibilities, shape (n_samples, n_components)."""
        from scipy.special import logsumexp

        log_p = self._log_joint(X)
        return np.exp(log_p - logsumexp(log_p, axis=1, keepdims=True))

    def predict(self, X):
        """The most likely component of each sample, shape (n_samples,)."""
        return self._log_joint(X).argmax(axis=1)

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
        return weights + k + (1 if self._tied() else k)

    def bic(self, X):
        """Bayesian information criterion on ``X`` (smaller is better)."""
        n = self._check_x(X, reset=False).size
        return -2.0 * self.score(X) * n + self._n_parameters() * np.log(n)

    def aic(self, X):
        """Akaike information criterion on ``X`` (smaller is better)."""
        n = self._check_x(X, reset=False).size
        return -2.0 * self.score(X) * n + 2.0 * self._n_parameters()


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
