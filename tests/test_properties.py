"""Property-based tests: the kernel's contract on data hypothesis makes up.

Hypothesis runs derandomised (see the profile below), so every run tries the same
examples and a failure is reproducible.
"""

import warnings
from types import SimpleNamespace

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import fastem
from fastem import Status, reference

settings.register_profile(
    "fastem",
    derandomize=True,
    deadline=None,
    max_examples=300,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("fastem")

# Magnitudes below 1e-100 become 0: data at 1e-200 is rejected by design (its variances
# underflow float64), which test_validation covers.
finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False).map(
    lambda v: 0.0 if abs(v) < 1e-100 else v
)


@st.composite
def dataset_and_start(draw, max_components=4):
    n_components = draw(st.integers(1, max_components))
    x = draw(arrays(np.float64, st.integers(max(n_components, 2) * 3, 60), elements=finite))
    spread = max(float(x.std()), 1e-3)
    means = draw(arrays(np.float64, n_components, elements=st.floats(-1.0, 1.0)))
    weights = draw(arrays(np.float64, n_components, elements=st.floats(0.1, 1.0)))
    log_sd = draw(arrays(np.float64, n_components, elements=st.floats(-1.0, 1.0)))
    start = dict(
        weights_init=weights / weights.sum(),
        means_init=x.mean() + spread * means,
        variances_init=(spread * np.exp(log_sd)) ** 2,
    )
    return x, start


def _quiet_fit(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fastem.DegenerateFitWarning)
        warnings.simplefilter("ignore", fastem.ConvergenceWarning)
        return fastem.fit(*args, **kwargs)


@given(dataset_and_start(), st.integers(1, 4), st.booleans())
def test_first_iterations_match_the_reference(case, max_iter, equal_variance):
    x, start = case
    if equal_variance:
        start["variances_init"][:] = start["variances_init"].mean()
    n_components = start["means_init"].size
    kwargs = dict(max_iter=max_iter, tol=0, reg_variance=1e-3, equal_variance=equal_variance)
    result = _quiet_fit(x, n_components, **start, **kwargs, algorithm="em", stop="loglik")
    expected = reference.fit(x, **start, **kwargs)
    scale = reference.dataset_scale(x)
    ours, theirs = _canonical_order(result, scale), _canonical_order(expected, scale)
    # Means near zero are compared on the data's scale, not relative to themselves.
    np.testing.assert_allclose(
        result.means[ours], expected.means[theirs], rtol=1e-10, atol=1e-10 * scale
    )
    np.testing.assert_allclose(result.variances[ours], expected.variances[theirs], rtol=1e-10)
    np.testing.assert_allclose(
        result.weights[ours], expected.weights[theirs], rtol=1e-10, atol=1e-14
    )


def _canonical_order(fit, scale):
    """Components by mean, then variance, then weight, each compared to 1e-9 of its
    scale: components that start alike stay alike to rounding (on constant data every
    mean converges to the same value), and which one rounding puts first is arbitrary."""
    return np.lexsort(
        (
            np.round(fit.weights, 9),
            np.round(fit.variances / scale**2, 9),
            np.round(fit.means / scale, 9),
        )
    )


@given(dataset_and_start(), st.booleans())
def test_log_likelihood_is_monotone_for_plain_em(case, equal_variance):
    x, start = case
    if equal_variance:
        start["variances_init"][:] = start["variances_init"].mean()
    result = _quiet_fit(
        x,
        start["means_init"].size,
        **start,
        max_iter=30,
        tol=0,
        reg_variance=0,
        equal_variance=equal_variance,
        trace=True,
    )
    trace = result.trace[0, : result.n_iter + 1]
    if result.status == Status.VARIANCE_FLOORED:
        # The hard floor (1e-12 of the dataset variance) can cut a collapsing variance,
        # after which monotonicity is no longer promised.
        return
    assert np.all(np.diff(trace) >= -1e-10 * np.abs(trace[1:]))


@given(
    st.lists(arrays(np.float64, st.integers(3, 40), elements=finite), min_size=1, max_size=6),
    st.integers(1, 3),
    st.sampled_from(["kmeans++", "random_from_data", "quantile"]),
)
def test_any_finite_data_gives_finite_results_and_a_status(datasets, n_components, init):
    n_init = 1 if init == "quantile" else 2
    result = _quiet_fit(
        datasets, n_components, n_init=n_init, init=init, random_state=0, max_iter=50
    )
    assert result.means.shape == (len(datasets), n_components)
    for name in ("weights", "means", "variances", "log_likelihood"):
        assert np.isfinite(getattr(result, name)).all(), name
    assert set(np.unique(result.restart_status)) <= {int(s) for s in Status}
    assert (result.variances > 0).all()
    np.testing.assert_allclose(result.weights.sum(axis=1), 1.0, rtol=1e-12)


@given(
    dataset_and_start(max_components=3),
    st.sampled_from([1e-6, 0.5, 1.0, 7.0, 1e5]),
    st.sampled_from([-1.0, 1.0]),
    st.sampled_from([0.0, 3.0, -1e4]),
)
def test_affine_invariance_from_given_starts(case, scale, sign, shift):
    x, start = case
    assume(x.min() < x.max())  # constant data has no scale to be invariant to
    a = sign * scale
    # The moved data must be representable: storing a * x + shift rounds it by about
    # 1e-16 * |a * x + shift|, which must stay far below the spread |a| * std(x).
    assume(abs(shift) + abs(a) * np.abs(x).max() <= 1e5 * abs(a) * x.std())
    n_components = start["means_init"].size
    kwargs = dict(max_iter=5, tol=0)
    base = _quiet_fit(x, n_components, **start, **kwargs)
    moved = _quiet_fit(
        a * x + shift,
        n_components,
        weights_init=start["weights_init"],
        means_init=a * start["means_init"] + shift,
        variances_init=a * a * start["variances_init"],
        **kwargs,
    )
    # Map the moved fit back, then compare component by component in a canonical order
    # (components with equal means have no natural order, and a < 0 reverses it).
    back = SimpleNamespace(
        weights=moved.weights, means=(moved.means - shift) / a, variances=moved.variances / a**2
    )
    scale = reference.dataset_scale(x)
    ours, theirs = _canonical_order(back, scale), _canonical_order(base, scale)
    np.testing.assert_allclose(back.weights[ours], base.weights[theirs], rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(back.variances[ours], base.variances[theirs], rtol=1e-8)
    np.testing.assert_allclose(back.means[ours], base.means[theirs], rtol=1e-8, atol=1e-8 * scale)
