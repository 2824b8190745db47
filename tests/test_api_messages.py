"""The Python API's answers at the edges of float64, and its errors for mismatched input."""

import numpy as np
import pytest

import fastem
from fastem.mcse import plan_replications
from fastem.toolkit.design import Design
from fastem.toolkit.matching import match_components


@pytest.fixture(scope="module")
def two_clusters():
    rng = np.random.default_rng(5)
    x = np.concatenate([rng.normal(-2, 1, 60), rng.normal(2, 1, 60)])
    return x, fastem.fit(x, 2, random_state=0)


def test_score_samples_is_minus_infinity_far_from_every_component(two_clusters):
    x, result = two_clusters
    points = np.array([0.0, 1e155, -1e200])
    scores = result.score_samples(points)
    assert np.isfinite(scores[0])
    assert scores[1] == -np.inf and scores[2] == -np.inf
    estimator = fastem.GaussianMixture(n_components=2, random_state=0).fit(x[:, None])
    with np.errstate(over="ignore"):  # the estimator's NumPy squares overflow on the way
        expected = estimator.score_samples(points[1:, None])
    np.testing.assert_array_equal(expected, scores[1:])


def test_posteriors_far_from_every_component_are_undefined_not_a_number(two_clusters):
    _, result = two_clusters
    assert np.isnan(result.predict_proba(np.array([1e155]))).all()


def test_plan_replications_refuses_a_target_no_study_can_reach():
    with pytest.raises(
        ValueError,
        match=r"target_mcse=1e-200 needs more than 1e308 "
        r"replications.*larger target_mcse",
    ):
        plan_replications(1e-200, sd=1)
    with pytest.raises(ValueError, match=r"needs 1e\+20 replications"):
        plan_replications(1e-10, sd=1)


def test_plan_replications_is_exact_for_large_counts():
    assert plan_replications(1e-9, sd=1) == 10**18
    assert plan_replications(0.003, sd=1) == 111112  # 111111.1 rounds up
    assert plan_replications(0.01, sd=0.4) == 1600  # 1600.0000000000002 does not


@pytest.mark.parametrize("fitted_k, true_k", [(2, 1), (1, 2), (2, 3)])
def test_match_components_refuses_different_numbers_of_components(fitted_k, true_k):
    fitted = (
        np.full((3, fitted_k), 1 / fitted_k),
        np.tile(np.arange(fitted_k, dtype=float), (3, 1)),
        np.ones((3, fitted_k)),
    )
    truth = (np.full(true_k, 1 / true_k), np.arange(true_k, dtype=float), np.ones(true_k))
    with pytest.raises(
        ValueError,
        match=rf"the fits have {fitted_k} component\(s\) but the "
        rf"truth {true_k}",
    ):
        match_components(*fitted, *truth)


@pytest.mark.parametrize(
    "weight, fragment",
    [
        (1e308, "are so large that their sum overflows"),
        (5e-324, "include subnormal values"),
    ],
)
@pytest.mark.parametrize("kind", ["frequency", "probability"])
def test_weights_out_of_float64s_range_are_named_as_the_problem(weight, fragment, kind):
    x = np.arange(10.0)
    with pytest.raises(ValueError, match=rf"sample weights of dataset\(s\) 0 {fragment}"):
        fastem.fit(x, 2, sample_weight=np.full(10, weight), sample_weight_type=kind)


@pytest.mark.parametrize(
    "mixture", [dict(means=(0.0, 1e200)), dict(means=(0.0, 1e-160), variances=(1e-320, 1e-320))]
)
def test_a_design_whose_data_float64_cannot_fit_is_refused_when_made(mixture):
    with pytest.raises(ValueError, match="rescale the mixture") as caught:
        Design(**{"variances": (1.0, 1.0), **mixture})
    assert set(caught.value.options) == {"means", "variances"}
