"""FitResult.predict_proba, predict and score_samples: the fitted mixtures at given points."""

from pathlib import Path

import numpy as np
import pytest
from scipy import stats

import fastem

WAITING = np.loadtxt(Path(__file__).parent / "data" / "faithful.csv", skiprows=1, delimiter=",")[
    :, 1
]


def _by_scipy(weights, means, variances, x):
    """Component densities times weights, straight from scipy.stats.norm."""
    return weights * stats.norm.pdf(np.asarray(x)[:, None], means, np.sqrt(variances))


def test_posteriors_and_density_follow_the_formulas():
    result = fastem.fit(WAITING, 2, random_state=0)
    joint = _by_scipy(result.weights, result.means, result.variances, WAITING)
    np.testing.assert_allclose(
        result.predict_proba(WAITING), joint / joint.sum(axis=1, keepdims=True), rtol=1e-12
    )
    np.testing.assert_allclose(result.score_samples(WAITING), np.log(joint.sum(axis=1)), rtol=1e-13)
    np.testing.assert_array_equal(result.predict(WAITING), np.argmax(joint, axis=1))
    # Over the fitted data, the density's log sums to the fit's log-likelihood.
    assert result.score_samples(WAITING).sum() == pytest.approx(result.log_likelihood, rel=1e-12)


def test_each_dataset_uses_its_own_mixture_in_every_layout():
    rows = np.stack([WAITING[:200], WAITING[72:]])
    result = fastem.fit(rows, 3, random_state=1)
    ragged = [WAITING, WAITING[:50]]
    ragged_result = fastem.fit(ragged, 3, random_state=1)
    for fitted, data in ((result, rows), (ragged_result, ragged)):
        proba = fitted.predict_proba(data)
        labels = fitted.predict(data)
        for d, x in enumerate(data):
            joint = _by_scipy(fitted.weights[d], fitted.means[d], fitted.variances[d], x)
            np.testing.assert_allclose(
                proba[d], joint / joint.sum(axis=1, keepdims=True), rtol=1e-12
            )
            np.testing.assert_array_equal(labels[d], np.argmax(joint, axis=1))
    assert result.predict_proba(rows).shape == (2, 200, 3)
    assert [p.shape for p in ragged_result.predict_proba(ragged)] == [(272, 3), (50, 3)]
    # One 1D array of points for a batch: each mixture on the same points (a grid, say).
    grid = np.linspace(40.0, 100.0, 7)
    np.testing.assert_array_equal(
        result.score_samples(grid)[1], result.score_samples(np.stack([grid, grid]))[1]
    )


def test_data_of_any_scale_give_the_same_posteriors():
    # The same start in both units, so that the two fits take the same path.
    start = dict(weights_init=[0.5, 0.5], max_iter=50, tol=0)
    result = fastem.fit(WAITING, 2, means_init=[50.0, 80.0], variances_init=[40.0, 40.0], **start)
    scaled = fastem.fit(
        WAITING * 1e140, 2, means_init=[50e140, 80e140], variances_init=[40e280, 40e280], **start
    )
    np.testing.assert_allclose(
        scaled.predict_proba(WAITING * 1e140), result.predict_proba(WAITING), rtol=1e-9, atol=1e-300
    )
    # The density scales by 1e-140: its log shifts by log(1e140).
    np.testing.assert_allclose(
        scaled.score_samples(WAITING * 1e140) + np.log(1e140),
        result.score_samples(WAITING),
        rtol=1e-9,
    )


def test_bad_data_is_refused_before_any_work():
    result = fastem.fit(np.stack([WAITING, WAITING]), 2, random_state=0)
    with pytest.raises(ValueError, match="3 dataset.*2 fitted mixture"):
        result.predict_proba(np.stack([WAITING] * 3))
    with pytest.raises(ValueError, match="NaN or infinite"):
        result.predict(np.r_[WAITING, np.nan])
