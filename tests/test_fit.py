"""``fastem.fit`` against the reference, scikit-learn, and its own contract."""

import warnings

import numba
import numpy as np
import pytest

import fastem
from conftest import (
    EM,
    WORKED_MEAN_1,
    WORKED_MEAN_2,
    WORKED_START,
    WORKED_VARIANCE_1,
    WORKED_VARIANCE_2,
    WORKED_WEIGHT_1,
    WORKED_X,
    separated_mixture,
)
from fastem import Status, reference

RESULT_ARRAYS = (
    "weights",
    "means",
    "variances",
    "log_likelihood",
    "n_iter",
    "converged",
    "status",
    "restart_log_likelihood",
    "restart_n_iter",
    "restart_status",
)


def assert_results_identical(a, b):
    for name in RESULT_ARRAYS:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


@pytest.mark.plain_python
def test_worked_example_one_iteration():
    result = fastem.fit(WORKED_X, 2, **WORKED_START, max_iter=1, tol=0, reg_variance=0, **EM)
    assert result.n_iter == 1
    np.testing.assert_allclose(result.weights, [WORKED_WEIGHT_1, 1 - WORKED_WEIGHT_1], rtol=1e-13)
    np.testing.assert_allclose(result.means, [WORKED_MEAN_1, WORKED_MEAN_2], rtol=1e-13)
    np.testing.assert_allclose(result.variances, [WORKED_VARIANCE_1, WORKED_VARIANCE_2], rtol=1e-12)
    expected = reference.log_likelihood(WORKED_X, result.weights, result.means, result.variances)
    assert result.log_likelihood == pytest.approx(expected, rel=1e-13)


@pytest.mark.plain_python
@pytest.mark.parametrize("equal_variance", [False, True], ids=["unequal", "equal"])
@pytest.mark.parametrize(
    "n_components", [1, 2, 3, pytest.param(5, marks=pytest.mark.slow_as_python)]
)
def test_kernel_matches_reference(n_components, equal_variance):
    x, start = separated_mixture(n_components, 400 * n_components, seed=n_components)
    if equal_variance:
        start["variances_init"][:] = start["variances_init"].mean()
    kwargs = dict(max_iter=150, tol=0, reg_variance=1e-6, equal_variance=equal_variance)
    expected = reference.fit(x, **start, **kwargs)
    result = fastem.fit(x, n_components, **start, **kwargs, trace=True, **EM)
    order = np.argsort(expected.means)
    assert result.n_iter == expected.n_iter == 150
    np.testing.assert_allclose(result.weights, expected.weights[order], rtol=1e-10)
    np.testing.assert_allclose(result.means, expected.means[order], rtol=1e-10)
    np.testing.assert_allclose(result.variances, expected.variances[order], rtol=1e-10)
    assert result.log_likelihood == pytest.approx(expected.log_likelihood, rel=1e-10)
    np.testing.assert_allclose(result.trace[0], expected.trace, rtol=1e-10)


@pytest.mark.plain_python
@pytest.mark.parametrize("equal_variance", [False, True], ids=["unequal", "equal"])
def test_kernel_stops_where_reference_stops(equal_variance):
    x, start = separated_mixture(3, 900, seed=11)
    if equal_variance:
        start["variances_init"][:] = start["variances_init"].mean()
    kwargs = dict(max_iter=1000, tol=1e-7, reg_variance=1e-6, equal_variance=equal_variance)
    expected = reference.fit(x, **start, **kwargs)
    result = fastem.fit(x, 3, **start, **kwargs, **EM)
    assert expected.converged and result.converged
    assert result.status == Status.CONVERGED
    assert result.n_iter == expected.n_iter
    np.testing.assert_allclose(result.means, np.sort(expected.means), rtol=1e-10)


@pytest.mark.exact
def test_tol_zero_runs_exactly_max_iter():
    x, start = separated_mixture(2, 300, seed=5)
    result = fastem.fit(x, 2, **start, max_iter=37, tol=0, trace=True)
    assert result.n_iter == 37
    assert not result.converged
    assert result.status == Status.MAX_ITER
    assert np.isfinite(result.trace[0]).all()
    assert result.trace.shape == (1, 38)


def test_trace_is_nan_padded_after_convergence():
    x, start = separated_mixture(2, 300, seed=6)
    result = fastem.fit(x, 2, **start, max_iter=500, tol=1e-6, trace=True)
    n = result.n_iter
    assert result.converged and n < 500
    assert np.isfinite(result.trace[0, : n + 1]).all()
    assert np.isnan(result.trace[0, n + 1 :]).all()
    assert result.trace[0, n] == result.log_likelihood


def _ragged_datasets():
    rng = np.random.default_rng(7)
    return [
        np.concatenate([rng.normal(-2, 1, n // 2), rng.normal(2.5, 1.5, n - n // 2)])
        for n in (30, 250, 75, 500, 12, 140)
    ]


@pytest.mark.parametrize("layout", ["2d", "ragged"])
def test_batch_equals_loop_of_single_fits(layout, two_component_batch):
    datasets = list(two_component_batch[:6]) if layout == "2d" else _ragged_datasets()
    data = two_component_batch[:6] if layout == "2d" else datasets
    kwargs = dict(n_init=3, random_state=123, max_iter=300, tol=0)
    batch = fastem.fit(data, 2, **kwargs)
    for d, x in enumerate(datasets):
        # Dataset d of the batch draws its starts from stream (123, d, r): reproduce it
        # alone by fitting it in position d of a batch of copies.
        padded = [x] * (d + 1)
        single = fastem.fit(padded, 2, **kwargs)
        np.testing.assert_array_equal(single.means[d], batch.means[d])
        np.testing.assert_array_equal(single.variances[d], batch.variances[d])
        np.testing.assert_array_equal(single.weights[d], batch.weights[d])
        assert single.log_likelihood[d] == batch.log_likelihood[d]


def test_given_starts_batch_equals_single_fits(two_component_batch):
    start = dict(weights_init=[0.5, 0.5], means_init=[-1.0, 1.0], variances_init=[1.0, 1.0])
    batch = fastem.fit(two_component_batch, 2, **start, max_iter=200, tol=0)
    for d in range(0, two_component_batch.shape[0], 7):
        single = fastem.fit(two_component_batch[d], 2, **start, max_iter=200, tol=0)
        np.testing.assert_array_equal(single.means, batch.means[d])
        assert single.log_likelihood == batch.log_likelihood[d]


def test_first_datasets_of_a_batch_give_the_first_results(two_component_batch):
    kwargs = dict(n_init=4, init="random_from_data", random_state=99, max_iter=100, tol=0)
    whole = fastem.fit(two_component_batch, 2, **kwargs)
    first = fastem.fit(two_component_batch[:10], 2, **kwargs)
    for name in RESULT_ARRAYS:
        np.testing.assert_array_equal(getattr(first, name), getattr(whole, name)[:10])


@pytest.mark.exact
@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs 2 or more threads")
@pytest.mark.parametrize(
    "dtype, algorithm",
    [
        (np.float64, "em"),
        (np.float32, "em"),
        (np.float32, "squarem"),
        (np.float64, "sqs1"),
        (np.float64, "sqs2"),
        (np.float64, "qn"),
    ],
)
def test_results_do_not_depend_on_the_thread_count(dtype, algorithm, three_component_batch):
    kwargs = dict(
        n_init=5,
        random_state=2024,
        max_iter=100,
        tol=0,
        trace=True,
        algorithm=algorithm,
        dtype=dtype,
    )
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = fastem.fit(three_component_batch, 3, **kwargs)
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        many = fastem.fit(three_component_batch, 3, **kwargs)
    finally:
        numba.set_num_threads(threads)
    assert_results_identical(one, many)
    np.testing.assert_array_equal(one.trace, many.trace)


def test_same_seed_same_result_other_seed_other_starts(three_component_batch):
    kwargs = dict(n_init=3, max_iter=5, tol=0)
    a = fastem.fit(three_component_batch, 3, random_state=1, **kwargs)
    b = fastem.fit(three_component_batch, 3, random_state=1, **kwargs)
    c = fastem.fit(three_component_batch, 3, random_state=2, **kwargs)
    assert_results_identical(a, b)
    assert not np.array_equal(a.restart_log_likelihood, c.restart_log_likelihood)


@pytest.mark.parametrize("init", ["kmeans++", "random_from_data", "quantile"])
@pytest.mark.parametrize("equal_variance", [False, True], ids=["unequal", "equal"])
def test_log_likelihood_never_decreases(init, equal_variance, three_component_batch):
    # reg_variance=0 is plain EM, whose log-likelihood is monotone.
    result = fastem.fit(
        three_component_batch,
        3,
        n_init=1 if init == "quantile" else 4,
        init=init,
        random_state=5,
        max_iter=200,
        tol=0,
        reg_variance=0,
        equal_variance=equal_variance,
        trace=True,
    )
    steps = np.diff(result.trace, axis=-1)
    scale = np.abs(result.trace[..., 1:])
    assert np.all(steps >= -1e-12 * scale)


def test_best_restart_has_the_highest_log_likelihood(three_component_batch):
    result = fastem.fit(three_component_batch, 3, n_init=6, random_state=0, max_iter=60, tol=0)
    np.testing.assert_array_equal(result.log_likelihood, result.restart_log_likelihood.max(axis=1))
    rows = np.arange(result.n_datasets)
    np.testing.assert_array_equal(
        result.log_likelihood, result.restart_log_likelihood[rows, result.best_restart]
    )
    assert np.all(np.diff(result.means, axis=1) >= 0)
    np.testing.assert_allclose(result.weights.sum(axis=1), 1.0, rtol=1e-14)


def test_log_likelihood_is_that_of_the_returned_parameters(two_component_batch):
    result = fastem.fit(two_component_batch, 2, n_init=2, random_state=3)
    for d in range(0, result.n_datasets, 9):
        expected = reference.log_likelihood(
            two_component_batch[d], result.weights[d], result.means[d], result.variances[d]
        )
        assert result.log_likelihood[d] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("equal_variance", [False, True], ids=["full", "tied"])
def test_agrees_with_scikit_learn(equal_variance):
    from sklearn.exceptions import ConvergenceWarning as SklearnConvergenceWarning
    from sklearn.mixture import GaussianMixture

    x, start = separated_mixture(3, 1200, seed=21)
    if equal_variance:
        start["variances_init"][:] = start["variances_init"].mean()
    reg = 1e-6
    n_iter = 80
    gm = GaussianMixture(
        3,
        covariance_type="tied" if equal_variance else "full",
        weights_init=start["weights_init"],
        means_init=start["means_init"][:, None],
        precisions_init=(
            1.0 / start["variances_init"][:1, None]
            if equal_variance
            else 1.0 / start["variances_init"][:, None, None]
        ),
        reg_covar=reg * x.var(),
        max_iter=n_iter,
        tol=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SklearnConvergenceWarning)
        gm.fit(x[:, None])
    result = fastem.fit(
        x,
        3,
        **start,
        max_iter=n_iter,
        tol=0,
        reg_variance=reg,
        equal_variance=equal_variance,
        trace=True,
    )
    order = np.argsort(gm.means_[:, 0])
    variances = np.broadcast_to(gm.covariances_.reshape(-1), (3,))[order]
    np.testing.assert_allclose(result.means, gm.means_[order, 0], rtol=1e-9)
    np.testing.assert_allclose(result.variances, variances, rtol=1e-9)
    np.testing.assert_allclose(result.weights, gm.weights_[order], rtol=1e-9)
    # scikit-learn's lower bound is the mean log-likelihood before its last M-step.
    assert result.trace[0, n_iter - 1] / x.size == pytest.approx(gm.lower_bound_, rel=1e-10)


# Each case keeps the moved data representable: a spread of 1e-8 around 1e3, say, is
# stored with a relative rounding of 1e-5 before any fitting starts.
@pytest.mark.parametrize(
    ("a", "b"), [(1.0, 1e7), (1e-8, 0.0), (-3.0, 2.5), (1e4, -1e7), (1e-8, -2e-7)]
)
def test_affine_invariance(a, b, two_component_batch):
    x = two_component_batch[:8]
    kwargs = dict(n_init=3, random_state=8, max_iter=300, tol=0, reg_variance=1e-6)
    base = fastem.fit(x, 2, **kwargs)
    moved = fastem.fit(a * x + b, 2, **kwargs)
    flip = slice(None, None, -1) if a < 0 else slice(None)
    np.testing.assert_allclose(moved.weights, base.weights[:, flip], rtol=1e-8)
    np.testing.assert_allclose(moved.means, (a * base.means + b)[:, flip], rtol=1e-8)
    np.testing.assert_allclose(moved.variances, (a * a * base.variances)[:, flip], rtol=1e-8)
    shifted = base.log_likelihood - x.shape[1] * np.log(abs(a))
    np.testing.assert_allclose(moved.log_likelihood, shifted, rtol=1e-8)


def test_integer_and_float32_data_are_fitted_in_float64(two_component_batch):
    rounded = np.round(two_component_batch[:4] * 100)
    kwargs = dict(random_state=4, max_iter=50, tol=0)
    as_float = fastem.fit(rounded, 2, **kwargs)
    assert_results_identical(fastem.fit(rounded.astype(np.int32), 2, **kwargs), as_float)
    small = rounded.astype(np.float32)  # integers below 2**24 are exact in float32
    assert_results_identical(fastem.fit(small, 2, **kwargs), as_float)
    assert as_float.means.dtype == np.float64


@pytest.mark.plain_python
@pytest.mark.slow_as_python
def test_degenerate_datasets_are_flagged_and_leave_the_rest_untouched(three_component_batch):
    good = three_component_batch[:3]
    constant = np.full(50, 3.25)
    two_values = np.array([1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0])
    data = [good[0], constant, good[1], two_values, good[2]]
    kwargs = dict(n_init=2, random_state=17, max_iter=200, tol=0)
    with pytest.warns(fastem.DegenerateFitWarning, match="2 of 5 dataset"):
        result = fastem.fit(data, 3, **kwargs)
    assert result.status[1] == Status.VARIANCE_FLOORED
    assert result.status[3] == Status.VARIANCE_FLOORED
    for name in ("weights", "means", "variances", "log_likelihood"):
        assert np.isfinite(getattr(result, name)).all(), name
    np.testing.assert_allclose(result.means[1], 3.25, rtol=1e-14)
    # Starts are keyed by dataset position: the same datasets in the same positions, with
    # good data in place of the degenerate ones, must give bit-identical results there.
    clean = fastem.fit([good[0], good[0], good[1], good[1], good[2]], 3, **kwargs)
    assert (clean.status == Status.MAX_ITER).all()
    for d in (0, 2, 4):
        np.testing.assert_array_equal(result.means[d], clean.means[d])
        np.testing.assert_array_equal(result.variances[d], clean.variances[d])
        assert result.log_likelihood[d] == clean.log_likelihood[d]


def test_reg_variance_zero_is_plain_em_and_reaches_the_fixed_point():
    x, start = separated_mixture(2, 2000, seed=31)
    result = fastem.fit(x, 2, **start, reg_variance=0, tol=0, max_iter=400)
    resp = reference.e_step(x, result.weights, result.means, result.variances)
    weights, means, variances = reference.m_step(x, resp)
    np.testing.assert_allclose(result.means, means, rtol=1e-12)
    np.testing.assert_allclose(result.variances, variances, rtol=1e-12)
    np.testing.assert_allclose(result.weights, weights, rtol=1e-12)


def test_equal_variance_ties_the_variances(three_component_batch):
    result = fastem.fit(
        three_component_batch, 3, equal_variance=True, random_state=0, tol=0, max_iter=50
    )
    np.testing.assert_array_equal(result.variances, result.variances[:, :1].repeat(3, axis=1))


@pytest.mark.plain_python
def test_non_convergence_gives_one_summarised_warning(two_component_batch):
    with pytest.warns(fastem.ConvergenceWarning) as record:
        result = fastem.fit(two_component_batch, 2, random_state=0, max_iter=2, tol=1e-12)
    ours = [w for w in record if issubclass(w.category, fastem.ConvergenceWarning)]
    assert len(ours) == 1
    assert f"{result.n_datasets} of {result.n_datasets} dataset(s)" in str(ours[0].message)
    assert (result.status == Status.MAX_ITER).all()


def test_warn_false_leaves_the_news_to_the_status(two_component_batch):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        quiet = fastem.fit(
            two_component_batch, 2, random_state=0, max_iter=2, tol=1e-12, warn=False
        )
    assert (quiet.status == Status.MAX_ITER).all()


def test_sort_components_false_keeps_the_order_of_the_starting_values(two_component_batch):
    x = two_component_batch[:4]
    start = dict(means_init=[3.0, -2.0], variances_init=[2.0, 1.0], weights_init=[0.6, 0.4])
    ordered = fastem.fit(x, 2, **start, sort_components=False, return_restarts=True)
    assert (ordered.means[:, 0] > ordered.means[:, 1]).all()
    np.testing.assert_array_equal(ordered.restart_means[:, 0], ordered.means)
    default = fastem.fit(x, 2, **start)
    for name in ("weights", "means", "variances"):
        np.testing.assert_array_equal(getattr(ordered, name)[:, ::-1], getattr(default, name))


def test_starting_values_of_every_shape(two_component_batch):
    x = two_component_batch[:3]
    means = np.array([[-2.0, 3.0], [-1.0, 2.0], [-3.0, 4.0]])
    per_fit = np.stack([means, means + 0.5], axis=1)
    kwargs = dict(
        max_iter=1, tol=0, reg_variance=0, variances_init=[4.0, 4.0], weights_init=[0.4, 0.6], **EM
    )
    shared = fastem.fit(x, 2, means_init=means[0], **kwargs)
    by_dataset = fastem.fit(x, 2, means_init=means, **kwargs)
    by_fit = fastem.fit(x, 2, n_init=2, means_init=per_fit, **kwargs)
    for d in range(3):
        resp = reference.e_step(x[d], np.array([0.4, 0.6]), means[d], np.array([4.0, 4.0]))
        np.testing.assert_allclose(by_dataset.means[d], reference.m_step(x[d], resp)[1], rtol=1e-12)
        resp = reference.e_step(x[d], np.array([0.4, 0.6]), means[0], np.array([4.0, 4.0]))
        np.testing.assert_allclose(shared.means[d], reference.m_step(x[d], resp)[1], rtol=1e-12)
    np.testing.assert_array_equal(by_fit.restart_n_iter, 1)
    assert by_fit.restart_log_likelihood.shape == (3, 2)
    for d in range(3):
        for r in range(2):
            resp = reference.e_step(x[d], np.array([0.4, 0.6]), per_fit[d, r], np.full(2, 4.0))
            w, m, v = reference.m_step(x[d], resp)
            expected = reference.log_likelihood(x[d], w, m, v)
            assert by_fit.restart_log_likelihood[d, r] == pytest.approx(expected, rel=1e-12)


def test_per_restart_starts_for_a_single_dataset():
    x, _ = separated_mixture(2, 200, seed=9)
    means = np.array([[-1.0, 7.0], [0.0, 5.0], [1.0, 6.0]])
    result = fastem.fit(
        x,
        2,
        n_init=3,
        means_init=means,
        weights_init=[0.5, 0.5],
        variances_init=[1.0, 1.0],
        max_iter=3,
        tol=0,
        trace=True,
    )
    assert result.trace.shape == (3, 4)
    for r in range(3):
        expected = reference.log_likelihood(x, np.array([0.5, 0.5]), means[r], np.ones(2))
        assert result.trace[r, 0] == pytest.approx(expected, rel=1e-12)


def test_trace_shape_for_a_batch(three_component_batch):
    result = fastem.fit(
        three_component_batch[:4], 3, n_init=2, random_state=0, max_iter=9, tol=0, trace=True
    )
    assert result.trace.shape == (4, 2, 10)
    np.testing.assert_array_equal(result.trace[..., -1], result.restart_log_likelihood)


def test_partial_starting_values_follow_the_given_means():
    # 20 points near -5 and 180 near 5: with only the means given, every restart must
    # start from the same weights and variances, those of the points nearest each mean.
    rng = np.random.default_rng(12)
    x = np.concatenate([rng.normal(-5.0, 0.5, 20), rng.normal(5.0, 0.5, 180)])
    result = fastem.fit(
        x, 2, means_init=[-5.0, 5.0], max_iter=1, tol=0, trace=True, return_restarts=True
    )
    np.testing.assert_allclose(result.start_weights[0], [0.1, 0.9], rtol=1e-14)
    np.testing.assert_allclose(result.start_variances[0], [x[:20].var(), x[20:].var()], rtol=1e-10)
    np.testing.assert_array_equal(result.start_means[0], [-5.0, 5.0])


def test_partial_weights_pair_with_components_by_increasing_mean():
    rng = np.random.default_rng(13)
    x = np.concatenate([rng.normal(-5.0, 0.5, 20), rng.normal(5.0, 0.5, 180)])
    result = fastem.fit(
        x,
        2,
        weights_init=[0.1, 0.9],
        n_init=4,
        random_state=2,
        max_iter=1,
        tol=0,
        return_restarts=True,
    )
    assert (np.diff(result.start_means, axis=-1) > 0).all()
    np.testing.assert_array_equal(result.start_weights, [[0.1, 0.9]] * 4)


def test_extreme_starting_values_give_a_non_finite_status_and_a_warning():
    x = np.linspace(-1.0, 1.0, 400)
    # A variance of 1e-307 at a mean far from the data: (x - mu)^2 / var overflows, and
    # the first log-likelihood is not finite.
    with pytest.warns(fastem.DegenerateFitWarning, match="no restart with a finite"):
        result = fastem.fit(x, 1, means_init=[50.0], variances_init=[1e-307], max_iter=5)
    assert result.status == Status.NON_FINITE
    assert np.isnan(result.log_likelihood)


@pytest.mark.parametrize(
    "make",
    [
        lambda rows: np.asfortranarray(rows),
        lambda rows: np.repeat(rows, 2, axis=0)[::2],
        lambda rows: rows[:, ::-1][:, ::-1],
        lambda rows: rows.tolist(),
        lambda rows: [list(row) for row in rows],
        lambda rows: np.array(list(rows), dtype=object),
    ],
    ids=["fortran", "strided", "view", "list-of-lists", "list-of-float-lists", "object-array"],
)
def test_every_input_form_gives_the_same_fit(make, two_component_batch):
    rows = two_component_batch[:3]
    kwargs = dict(n_init=2, random_state=3, max_iter=20, tol=0)
    expected = fastem.fit(rows, 2, **kwargs)
    assert_results_identical(fastem.fit(make(rows.copy()), 2, **kwargs), expected)


def test_read_only_and_single_list_input(two_component_batch):
    rows = two_component_batch[:3].copy()
    rows.setflags(write=False)
    kwargs = dict(random_state=3, max_iter=20, tol=0)
    writable = fastem.fit(rows.copy(), 2, **kwargs)
    assert_results_identical(fastem.fit(rows, 2, **kwargs), writable)
    single = fastem.fit(list(rows[0]), 2, **kwargs)
    np.testing.assert_array_equal(single.means, writable.means[0])


def test_identical_restarts_are_reported(two_component_batch):
    with pytest.warns(UserWarning, match="identical fits"):
        fastem.fit(two_component_batch[:2], 2, init="quantile", n_init=3, max_iter=5, tol=0)
    with pytest.warns(UserWarning, match="identical fits"):
        fastem.fit(two_component_batch[:2], 2, means_init=[-2.0, 3.0], n_init=2, max_iter=5, tol=0)


def test_float32_weights_are_accepted_and_renormalised():
    x = np.linspace(-1.0, 1.0, 50)
    weights = np.array([0.4, 0.6], dtype=np.float32)
    result = fastem.fit(
        x,
        2,
        weights_init=weights,
        means_init=[-0.5, 0.5],
        variances_init=[0.1, 0.1],
        max_iter=1,
        tol=0,
        trace=True,
    )
    expected = reference.log_likelihood(
        x, np.array([0.4, 0.6]), np.array([-0.5, 0.5]), np.array([0.1, 0.1])
    )
    assert result.trace[0, 0] == pytest.approx(expected, rel=1e-7)


@pytest.mark.parametrize("init", ["kmeans++", "random", "emem"])
def test_chunks_with_dataset_offset_equal_the_whole_batch(init, three_component_batch):
    kwargs = dict(n_init=3, init=init, random_state=21, max_iter=40, tol=0)
    whole = fastem.fit(three_component_batch, 3, **kwargs)
    for start, stop in ((0, 7), (7, 20), (20, 30)):
        chunk = fastem.fit(three_component_batch[start:stop], 3, dataset_offset=start, **kwargs)
        for name in RESULT_ARRAYS:
            np.testing.assert_array_equal(getattr(chunk, name), getattr(whole, name)[start:stop])


@pytest.mark.exact
def test_given_starting_values_come_back_exactly_as_given():
    # Most values do not survive a round trip through standardised units: the starting
    # values reported are the user's, not that round trip.
    rng = np.random.default_rng(101)
    x = rng.normal(3.7, 2.3, 300)
    for _ in range(50):
        means = np.sort(rng.normal(3.7, 3.0, 3))
        variances = rng.uniform(0.1, 9.0, 3)
        weights = rng.dirichlet(np.ones(3))
        result = fastem.fit(
            x,
            3,
            weights_init=weights,
            means_init=means,
            variances_init=variances,
            max_iter=1,
            tol=0,
            return_restarts=True,
        )
        np.testing.assert_array_equal(result.start_means[0], means)
        np.testing.assert_array_equal(result.start_variances[0], variances)
        np.testing.assert_array_equal(result.start_weights[0], weights)
    result = fastem.fit(x, 2, means_init=[-5.0, 5.0], max_iter=1, tol=0, return_restarts=True)
    np.testing.assert_array_equal(result.start_means, [[-5.0, 5.0]])


@pytest.mark.exact
def test_a_zero_weight_gives_the_fit_without_the_point():
    # 0 * inf would be NaN: a zero-weight point far out must take no part in any sum.
    rng = np.random.default_rng(102)
    x = np.concatenate([rng.normal(0.0, 0.01, 150), rng.normal(0.05, 0.01, 150)])
    weights = rng.integers(1, 4, x.size).astype(float)
    with_point = fastem.fit(
        np.append(x, 1e153), 2, sample_weight=np.append(weights, 0.0), n_init=3, random_state=4
    )
    without = fastem.fit(x, 2, sample_weight=weights, n_init=3, random_state=4)
    assert with_point.status == Status.CONVERGED
    assert_results_identical(with_point, without)
    assert with_point.n_samples == x.size + 1
    with pytest.raises(ValueError, match="contain NaN or infinite values"):
        fastem.fit(np.append(x, np.inf), 2, sample_weight=np.append(weights, 0.0))
    batch = np.stack([x, x])
    with pytest.raises(ValueError, match=r"dataset\(s\) 1 have fewer points with a positive"):
        fastem.fit(batch, 2, sample_weight=np.stack([weights, np.zeros_like(weights)]))


@pytest.mark.exact
@pytest.mark.parametrize("separation", [1.0, 3.0, 30.0, 300.0, 1900.0, 1e4, 1e5, 1e6])
def test_the_default_does_not_bias_components_at_any_separation(separation):
    # Two clusters of unit variance, `separation` standard deviations apart. With the
    # defaults, fastem must give plain EM's answer (the NumPy reference without any
    # regularisation, from the same start, for the same 200 iterations) to 1e-6 relative
    # or better; a regularisation
    # relative to the whole dataset's variance (which grows as separation**2) would not.
    rng = np.random.default_rng(103)
    x = np.concatenate([rng.normal(0.0, 1.0, 5000), rng.normal(separation, 1.0, 5000)])
    start = dict(
        weights_init=[0.5, 0.5], means_init=[-0.5, separation + 0.5], variances_init=[2.0, 2.0]
    )
    result = fastem.fit(x, 2, **start, tol=0, max_iter=200, **EM)
    expected = reference.fit(x, **start, tol=0, max_iter=200, reg_variance=0.0)
    assert result.status == Status.MAX_ITER  # neither floored nor flagged
    np.testing.assert_allclose(result.variances, expected.variances, rtol=1e-6)
    np.testing.assert_allclose(result.means, expected.means, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(result.weights, expected.weights, rtol=1e-6)


def test_a_component_collapsing_onto_a_point_keeps_a_finite_density():
    x = np.concatenate([np.linspace(-1.0, 1.0, 50), [7.0]])
    result = fastem.fit(x, 2, means_init=[0.0, 7.0], variances_init=[0.3, 0.01], warn=False)
    assert result.status == Status.VARIANCE_FLOORED
    assert np.isfinite(result.log_likelihood)
    assert 0.0 < result.variances[1] <= 1e-15 * x.var() * (1 + 1e-12)


@pytest.mark.parametrize("n_components", [1, 2, 3])
@pytest.mark.parametrize("distance", [1e3, 1e6, 1e11])
def test_a_start_far_from_the_data_keeps_every_digit_of_the_variance(n_components, distance):
    # The M-step sums are taken around the current means; from a start `distance`
    # standard deviations away, s2/s0 - (s1/s0)^2 would cancel to nothing (hypothesis
    # found 1.5e11 in the property tests), so such an iteration takes a second pass around
    # the new means. The reference computes the variance around the new mean directly.
    # The far components are as wide as they are far, so that they keep a share of the
    # points; the other one starts at the data.
    rng = np.random.default_rng(104)
    x = rng.normal(0.0, 1.0, 300) * 1e-3 + 5.0
    offsets = 1e-3 * distance * np.array([1.0, 0.0, -2.0])[:n_components]
    start = dict(
        weights_init=np.full(n_components, 1.0 / n_components),
        means_init=5.0 + offsets,
        variances_init=np.maximum(offsets**2, 1e-6),
    )
    for max_iter in (1, 3):
        kwargs = dict(max_iter=max_iter, tol=0, **start)
        result = fastem.fit(x, n_components, sort_components=False, warn=False, **kwargs, **EM)
        expected = reference.fit(x, **kwargs)
        np.testing.assert_allclose(result.variances, expected.variances, rtol=1e-10)
        np.testing.assert_allclose(result.means, expected.means, rtol=1e-12)
        np.testing.assert_allclose(result.weights, expected.weights, rtol=1e-10, atol=1e-300)


def test_the_result_keeps_its_stopping_rule_and_names_its_problems():
    x = np.array([0.0, 0.1, 0.2, 5.0, 5.1, 5.3, 9.0])
    # Only the stopping rule here: no fit on 7 points is called spurious by SpuriousRule(0, 0).
    result = fastem.fit(
        x, 2, max_iter=2, tol=1e-12, random_state=0, warn=False, spurious=fastem.SpuriousRule(0, 0)
    )
    assert (result.tol, result.max_iter) == (1e-12, 2)
    [(category, message)] = result.problems()
    assert category is fastem.ConvergenceWarning and "max_iter=2" in message
    with pytest.warns(fastem.ConvergenceWarning, match="tol=1e-12"):
        result.warn()


def test_kernel_status_codes_are_those_of_status():
    from fastem.engine import em

    for name in ("CONVERGED", "MAX_ITER", "VARIANCE_FLOORED", "NON_FINITE"):
        assert getattr(em, name) == Status[name]
