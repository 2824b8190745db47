"""fastem.GaussianMixture: scikit-learn's estimator checks, and agreement with scikit-learn."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning as SklearnConvergenceWarning
from sklearn.mixture import GaussianMixture as SklearnGaussianMixture
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks
from sklearn.utils.validation import validate_data

import fastem
from fastem import GaussianMixture

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.SkipTestWarning")

MULTIVARIATE = (
    "uses X with several features; this estimator models one-dimensional data and rejects "
    "them with a ValueError (the same check passes on one column, see "
    "test_checks_on_one_column)"
)
ONE_D_INPUT = "X of shape (n_samples,) is this estimator's natural input, so it is accepted"


def _expected_failures(estimator):
    multivariate = [
        "check_fit_score_takes_y", "check_estimators_overwrite_params",
        "check_dont_overwrite_parameters", "check_estimators_fit_returns_self",
        "check_readonly_memmap_input", "check_n_features_in_after_fitting",
        "check_positive_only_tag_during_fit", "check_estimators_dtypes", "check_dtype_object",
        "check_pipeline_consistency", "check_estimators_nan_inf", "check_estimators_pickle",
        "check_f_contiguous_array_estimator", "check_methods_sample_order_invariance",
        "check_methods_subset_invariance", "check_fit2d_1sample", "check_dict_unchanged",
        "check_fit_idempotent", "check_fit_check_is_fitted", "check_n_features_in",
        "check_fit2d_predict1d",
    ]
    return {name: MULTIVARIATE for name in multivariate} | {"check_fit1d": ONE_D_INPUT}


@parametrize_with_checks([GaussianMixture()], expected_failed_checks=_expected_failures)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


class FirstColumn(GaussianMixture):
    """Test-only: fits the first column of X, so that scikit-learn's generic checks, which
    generate several features, exercise everything else in the estimator."""

    def _check_x(self, X, reset):
        X = validate_data(self, X, reset=reset, dtype=[np.float64, np.float32])
        return X[:, 0].astype(np.float64)


@parametrize_with_checks([FirstColumn()])
def test_checks_on_one_column(estimator, check):
    check(estimator)


def _data(seed=0, n=600):
    x, _ = fastem.simulate([0.3, 0.5, 0.2], [-4.0, 0.0, 5.0], [1.0, 2.0, 0.5], n,
                           random_state=seed)
    return x


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
def test_matches_scikit_learn_from_the_same_start(covariance_type):
    x = _data()
    # Components not in order of their means: both keep the order of the start.
    start = dict(weights_init=[0.4, 0.3, 0.3], means_init=[[1.0], [4.0], [-3.0]])
    precisions = {"full": np.array([0.5, 2.0, 1.0]).reshape(3, 1, 1),
                  "tied": np.array([[0.8]]), "diag": np.array([[0.5], [2.0], [1.0]]),
                  "spherical": np.array([0.5, 2.0, 1.0])}[covariance_type]
    kwargs = dict(covariance_type=covariance_type, precisions_init=precisions, tol=1e-10,
                  max_iter=500, **start)
    ours = GaussianMixture(3, **kwargs).fit(x[:, None])
    theirs = SklearnGaussianMixture(3, **kwargs).fit(x[:, None])
    np.testing.assert_allclose(ours.weights_, theirs.weights_, rtol=1e-8)
    np.testing.assert_allclose(ours.means_, theirs.means_, rtol=1e-8)
    np.testing.assert_allclose(ours.covariances_, theirs.covariances_, rtol=1e-8)
    np.testing.assert_allclose(ours.precisions_cholesky_, theirs.precisions_cholesky_,
                               rtol=1e-8)
    assert ours.covariances_.shape == theirs.covariances_.shape
    assert ours.n_iter_ == theirs.n_iter_ and ours.converged_ and theirs.converged_
    np.testing.assert_allclose(ours.lower_bounds_, theirs.lower_bounds_, rtol=1e-10)
    np.testing.assert_array_equal(ours.predict(x), theirs.predict(x[:, None]))
    np.testing.assert_allclose(ours.score_samples(x), theirs.score_samples(x[:, None]),
                               rtol=1e-9)
    np.testing.assert_allclose(ours.predict_proba(x), theirs.predict_proba(x[:, None]),
                               atol=1e-9)
    assert ours.bic(x) == pytest.approx(theirs.bic(x[:, None]), rel=1e-9)
    assert ours.aic(x) == pytest.approx(theirs.aic(x[:, None]), rel=1e-9)


def test_methods_and_attributes():
    x = _data(1)
    model = GaussianMixture(3, n_init=5, random_state=0).fit(x)
    assert model.n_features_in_ == 1 and model.converged_
    assert model.lower_bound_ == pytest.approx(model.score(x), rel=1e-12)
    assert np.all(np.diff(model.lower_bounds_ + [model.lower_bound_]) > -1e-9)
    assert len(model.lower_bounds_) == model.n_iter_
    labels = model.fit_predict(x)
    np.testing.assert_array_equal(labels, model.predict(x.reshape(-1, 1)))
    np.testing.assert_allclose(model.predict_proba(x).sum(axis=1), 1.0)
    samples, components = model.sample(1000)
    assert samples.shape == (1000, 1) and np.bincount(components).size == 3
    assert model.status_ == fastem.Status.CONVERGED
    with pytest.raises(ValueError, match="one-dimensional data, but X has 2 features"):
        model.fit(np.ones((10, 2)))
    with pytest.raises(ValueError, match="n_samples >= n_components"):
        GaussianMixture(5).fit([[1.0], [2.0]])
    with pytest.raises(ValueError, match=r"means_init has shape \(2, 1\); give one value per"):
        GaussianMixture(3, means_init=[[0.0], [1.0]]).fit(x)
    with pytest.raises(ValueError, match="precisions_init has 2 values"):
        GaussianMixture(3, precisions_init=[1.0, 2.0]).fit(x)
    with pytest.raises(ValueError, match="precisions_init must be finite and positive"):
        GaussianMixture(2, precisions_init=[np.inf, 1.0]).fit(x)
    with pytest.raises(ValueError, match="reg_covar must be a finite number >= 0, got -1"):
        GaussianMixture(2, reg_covar=-1).fit(x)
    with pytest.raises(ValueError, match="n_init must be at least 1"):
        GaussianMixture(2, n_init=0, means_init=[[0.0], [1.0]]).fit(x)
    GaussianMixture(2, init_params="quantile", n_init=3).fit(x)  # one fit, no warning
    with pytest.raises(ValueError, match="verbose_interval must be at least 1"):
        GaussianMixture(2, verbose=2, verbose_interval=0).fit(x)
    with pytest.raises(ValueError, match="Multiply the data by a constant"):
        GaussianMixture(2).fit(x * 1e-200)
    with pytest.warns(SklearnConvergenceWarning, match="did not converge"):
        GaussianMixture(3, max_iter=2, random_state=0).fit(x)


def test_warm_start_continues_from_the_last_solution():
    x = _data(2)
    model = GaussianMixture(3, max_iter=3, warm_start=True, random_state=1, tol=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(x)
        first = model.means_.copy()
        model.fit(x)
    cold = GaussianMixture(3, max_iter=6, random_state=1, tol=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cold.fit(x)
    assert not np.allclose(first, model.means_)
    np.testing.assert_allclose(model.means_, cold.means_, rtol=1e-10)
    for changed in (dict(equal_weights=True), dict(covariance_type="tied")):
        model.set_params(max_iter=100, tol=1e-3, **changed).fit(x)  # from the last solution
        assert model.converged_ and model.n_iter_ < 100
    np.testing.assert_allclose(model.weights_, 1 / 3)
    assert model.covariances_.shape == (1, 1)
    with pytest.raises(ValueError, match="last fit, which has 3 components, but n_comp"):
        model.set_params(n_components=2).fit(x)


def test_pipeline_and_grid_search():
    x = _data(3, n=900)[:, None]
    search = GridSearchCV(
        make_pipeline(StandardScaler(), GaussianMixture(random_state=0, n_init=3)),
        {"gaussianmixture__n_components": [1, 2, 3, 4]}, cv=3,
    )
    search.fit(x)
    assert search.best_params_["gaussianmixture__n_components"] >= 3
    from sklearn.base import clone

    model = clone(GaussianMixture(3, equal_variance=True)).set_params(n_init=2)
    assert model.get_params()["n_init"] == 2 and model.get_params()["equal_variance"]


def test_fastem_import_does_not_need_scikit_learn(tmp_path):
    import os
    import subprocess
    import sys

    blocker = tmp_path / "sklearn"
    blocker.mkdir()
    (blocker / "__init__.py").write_text("raise ImportError('no scikit-learn here')\n")
    code = ("import fastem\n"
            "try:\n    fastem.GaussianMixture\nexcept ImportError as e:\n    print(e)\n")
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                               env=dict(os.environ, PYTHONPATH=str(tmp_path)), check=True)
    assert "pip install 'fastem[sklearn]'" in completed.stdout


def test_a_huge_max_iter_costs_no_memory_when_the_fit_is_short():
    import tracemalloc

    x = np.random.default_rng(0).normal(size=(500, 1))
    tracemalloc.start()
    try:
        model = GaussianMixture(2, max_iter=10**7, random_state=0).fit(x)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert model.converged_ and len(model.lower_bounds_) == model.n_iter_
    assert peak < 8 * 2**20, peak  # a trace of max_iter + 1 log-likelihoods: 80 MB


def test_lower_bounds_of_a_fit_longer_than_the_first_trace_are_complete():
    from fastem.estimator import TRACE_KEPT

    x = np.random.default_rng(0).normal(size=(300, 1))
    model = GaussianMixture(2, max_iter=TRACE_KEPT + 500, tol=0.0, random_state=0).fit(x)
    assert model.n_iter_ == TRACE_KEPT + 500
    assert len(model.lower_bounds_) == model.n_iter_
    assert np.isfinite(model.lower_bounds_).all()
    assert np.all(np.diff(model.lower_bounds_ + [model.lower_bound_]) > -1e-12)
