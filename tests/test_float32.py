"""fit(..., dtype=np.float32): the E-step in float32, against float64 and on its own.

The float32 exp is checked over its whole range as ``test_vmath.py`` checks float64's;
fits are compared with float64 fits from the same starts, where float32 agrees to the
tolerances below (measured: see docs/benchmarks.md, the float32 section), and every guarantee of
the kernel is checked again in float32: status codes, constraints, SQUAREM and every
stopping rule (thread-count independence: ``test_fit.py``, for both precisions).
"""

from pathlib import Path

import numba
import numpy as np
import pytest

import fastem
from conftest import EM, separated_mixture
from fastem import Status
from fastem.engine import lanes as _lanes
from fastem.engine import vmath as _vmath

WAITING = np.loadtxt(Path(__file__).parent / "data" / "faithful.csv", skiprows=1, delimiter=",")[
    :, 1
]

# Documented in _vmath: within 9.1e-8 relative of the exact value on [LOWEST_FLOAT32, 0]
# (the largest error over every float32 of that range is 9.01e-8), exactly 0 below.
MAX_RELATIVE_ERROR = 9.1e-8

# float32 against float64, from the same starts. After a fixed number of iterations the
# two follow slightly different paths (W1's 2,000 datasets, 100 iterations: 3.3e-7 in
# the means and weights, 5.9e-7 in the variances, 2.3e-8 in the log-likelihood); at
# convergence they differ by the float32 E-step's error of the fixed point.
FIXED_ITERATIONS = dict(means=2e-6, weights=2e-6, variances=5e-6, log_likelihood=1e-7)
CONVERGED_LOG_LIKELIHOOD = 2e-8


def _float32_exp(values):
    out = np.array(values, dtype=np.float32)
    total = np.zeros_like(out)
    _vmath.exp_shifted(out, np.zeros_like(out), total, out.size)
    np.testing.assert_array_equal(total, out)
    return out


def _relative_error(x):
    ours = _float32_exp(x).astype(np.float64)
    exact = np.exp(x.astype(np.float64))  # float64 is exact enough: 1e-16 against 1e-7
    return np.abs(ours - exact) / exact


@pytest.mark.exact
def test_float32_exp_is_within_its_bound_over_the_whole_range():
    # Every 97th float32 from -0 down to LOWEST_FLOAT32 (11.5 million values, every
    # exponent and a spread of mantissas), and the edges of the range reduction.
    first = np.float32(-0.0).view(np.uint32)
    last = np.float32(_vmath.LOWEST_FLOAT32).view(np.uint32)
    x = np.arange(first, last, 97, dtype=np.uint64).astype(np.uint32).view(np.float32)
    halves = np.float32(np.log(2.0)) * (np.arange(-124, 1, dtype=np.float32) + np.float32(0.5))
    edges = np.concatenate(
        [
            halves,
            np.nextafter(halves, np.float32(0.0)),
            np.nextafter(halves, np.float32(-1.0)),
            np.array(
                [0.0, -1e-45, -1e-30, -6e-8, -0.5, -1.0, _vmath.LOWEST_FLOAT32], dtype=np.float32
            ),
        ]
    )
    x = np.concatenate([x[x > _vmath.LOWEST_FLOAT32], edges[edges > _vmath.LOWEST_FLOAT32]])
    assert x.size > 11_000_000
    assert _relative_error(x).max() <= MAX_RELATIVE_ERROR
    assert _float32_exp([0.0])[0] == 1.0


@pytest.mark.exact
def test_float32_exp_below_the_range_is_exactly_zero():
    x = np.array([_vmath.LOWEST_FLOAT32, -87.5, -104.0, -3e38, -np.inf], dtype=np.float32)
    np.testing.assert_array_equal(_float32_exp(x), 0.0)


@pytest.mark.exact
@pytest.mark.parametrize("m", [1, 15, 16, 17, 256])
def test_float32_exp_of_partial_blocks(m):
    x = -np.linspace(0.0, 80.0, 300).astype(np.float32)
    out = x.copy()
    _vmath.exp_shifted(out, np.zeros_like(x), np.zeros_like(x), m)
    assert (_relative_error(x[:m]) <= MAX_RELATIVE_ERROR).all()
    assert (np.abs(out[:m] / np.exp(x[:m].astype(np.float64)) - 1.0) <= MAX_RELATIVE_ERROR).all()
    np.testing.assert_array_equal(out[m:], x[m:])


def _documented_float32_order(values, combine, neutral, rows):
    """The order of _lanes._vector_reduction over float32, written out: rows of 16 float32
    lanes, rows combined pairwise in float32, lane l + 8 added to lane l in float64, then
    the 8 lanes pairwise."""
    group = 16 * rows
    table = [[np.float32(neutral)] * 16 for _ in range(rows)]
    whole = len(values) // group * group
    for j, value in enumerate(values):
        row = (j % group) // 16 if j < whole else 0
        table[row][j % 16] = combine(table[row][j % 16], value)
    while len(table) > 1:
        table = [
            [combine(a, b) for a, b in zip(table[r], table[r + 1])] for r in range(0, len(table), 2)
        ]
    lanes = [combine(float(a), float(b)) for a, b in zip(table[0][:8], table[0][8:])]
    return combine(
        combine(combine(lanes[0], lanes[1]), combine(lanes[2], lanes[3])),
        combine(combine(lanes[4], lanes[5]), combine(lanes[6], lanes[7])),
    )


@pytest.mark.exact
@pytest.mark.plain_python
@pytest.mark.parametrize("n", [16, 32, 48, 64, 112, 256])
def test_float32_lane_sums_follow_the_order_they_document(n):
    rng = np.random.default_rng(n)
    values = (rng.normal(size=n) * 10.0 ** rng.integers(-4, 4, size=n)).astype(np.float32)
    factors = rng.uniform(0.5, 2.0, size=n).astype(np.float32)
    add, multiply = (lambda a, b: a + b), (lambda a, b: a * b)
    assert _lanes.lane_sum(values, n) == _documented_float32_order(values, add, 0.0, 4)
    assert _lanes.lane_product(factors, n) == _documented_float32_order(factors, multiply, 1.0, 4)
    dev = rng.normal(size=n).astype(np.float32)
    resp = values * factors
    moments = tuple(
        _documented_float32_order(terms, add, 0.0, 2)
        for terms in (resp, resp * dev, resp * dev * dev)
    )
    assert _lanes.lane_moments(resp, dev, n) == moments
    assert _lanes.lane_product_moments(values, factors, dev, n) == moments
    assert _lanes.lanes(values) == 16 and _lanes.lanes(values.astype(np.float64)) == 8


@pytest.mark.exact
@pytest.mark.skipif(numba.config.DISABLE_JIT, reason="plain Python rounds a * b + c twice")
def test_float32_fma_rounds_once_in_float32():
    # (1 + 2**-23)**2 = 1 + 2**-22 + 2**-46: the last term survives only in one rounding,
    # and a float32 result drops it where a float64 one would keep it.
    a = np.float32(1.0 + 2.0**-23)
    assert _lanes.fma(a, a, np.float32(-(1.0 + 2.0**-22))) == 2.0**-46
    assert _lanes.fma(a, a, np.float32(0.0)) == 1.0 + 2.0**-22


def _w1_like(n_datasets):
    data, _ = fastem.simulate([0.4, 0.6], [-2.5, 3.5], [4.0, 4.0], 1000, n_datasets, random_state=0)
    shape = (n_datasets, 1, 2)
    start = dict(
        weights_init=np.broadcast_to([0.5, 0.5], shape),
        means_init=np.broadcast_to([-1.0, 1.0], shape),
        variances_init=np.broadcast_to([1.0, 1.0], shape),
    )
    return data, start


def _assert_close(single, double, tolerances):
    for name, rtol in tolerances.items():
        np.testing.assert_allclose(
            getattr(single, name), getattr(double, name), rtol=rtol, err_msg=name
        )


def test_float32_follows_float64_over_a_fixed_number_of_iterations():
    data, start = _w1_like(200)
    kwargs = dict(max_iter=100, tol=0, **start)
    double = fastem.fit(data, 2, **kwargs)
    single = fastem.fit(data, 2, dtype=np.float32, **kwargs)
    _assert_close(single, double, FIXED_ITERATIONS)
    assert (single.status == Status.MAX_ITER).all()
    assert single.means.dtype == single.log_likelihood.dtype == np.float64


@pytest.mark.parametrize("k, parameters", [(2, 1e-7), (3, 1e-5)])
def test_float32_converges_to_the_maxima_of_float64(k, parameters):
    # Old Faithful's waiting times, run to the limit: float32's E-step moves the fixed
    # point by about 1e-8 relative (K=3 has a weakly determined variance, 1.3e-6). 40
    # restarts reach K=3's best maximum, -1031.540; at a flatter one, -1031.635, the
    # shift is 6e-5.
    kwargs = dict(n_init=40, random_state=0, tol=0, max_iter=20_000, warn=False)
    double = fastem.fit(WAITING, k, **kwargs, **EM)
    single = fastem.fit(WAITING, k, dtype=np.float32, **kwargs, **EM)
    _assert_close(
        single,
        double,
        dict(
            means=parameters,
            weights=parameters,
            variances=parameters,
            log_likelihood=CONVERGED_LOG_LIKELIHOOD,
        ),
    )


@pytest.mark.parametrize("n_components", [1, 2, 3, 5])
@pytest.mark.parametrize("weighted", [False, True])
def test_float32_every_kernel_path_agrees_with_float64(
    n_components, weighted, three_component_batch
):
    data = three_component_batch[:8]
    weights = (
        np.random.default_rng(5).integers(0, 4, data.shape).astype(float) if weighted else None
    )
    kwargs = dict(
        n_init=2,
        random_state=3,
        max_iter=30,
        tol=0,
        sample_weight=weights,
        warn=False,
        return_restarts=True,
        **EM,
    )
    double = fastem.fit(data, n_components, **kwargs)
    single = fastem.fit(data, n_components, dtype=np.float32, **kwargs)
    # The restart float64 chooses, in both: where two restarts end within float32's error
    # of each other, the two precisions may choose different ones as the best.
    rows = np.arange(data.shape[0])
    chosen = double.best_restart
    ok = double.status == Status.MAX_ITER
    assert ok.sum() >= 6 and (single.restart_status[rows, chosen][ok] == Status.MAX_ITER).all()
    # From random starts, 30 iterations leave some fits far from a maximum, moving along a
    # flat ridge where float32's rounding is not damped: the parameters are compared to
    # 1e-5, and the log-likelihood, which moves at first order with them there, to 1e-6.
    tolerances = dict(means=1e-5, weights=1e-5, variances=1e-4, log_likelihood=1e-6)
    for name, rtol in tolerances.items():
        field = "restart_" + name
        np.testing.assert_allclose(
            getattr(single, field)[rows, chosen][ok],
            getattr(double, field)[rows, chosen][ok],
            rtol=rtol,
            atol=1e-6 if name == "means" else 0,
            err_msg=name,
        )


@pytest.mark.plain_python
@pytest.mark.parametrize("n_components", [2, 3])
def test_float32_kernels_follow_float64_in_a_few_steps(n_components, three_component_batch):
    # Small enough to run as plain Python too, where the float32 kernels compute with
    # NumPy float32 scalars (make test checks their logic that way).
    data = three_component_batch[:2, :100]
    for weights in (None, np.linspace(0.5, 2.0, 200).reshape(2, 100)):
        kwargs = dict(
            n_init=2,
            random_state=6,
            max_iter=5,
            tol=0,
            sample_weight=weights,
            warn=False,
            return_restarts=True,
            **EM,
        )
        single = fastem.fit(data, n_components, dtype=np.float32, **kwargs)
        double = fastem.fit(data, n_components, **kwargs)
        # The restart float64 chooses, in both, as the two may choose different ones where
        # they are close.
        rows, chosen = np.arange(2), double.best_restart
        for name in ("means", "weights", "variances", "log_likelihood"):
            np.testing.assert_allclose(
                getattr(single, "restart_" + name)[rows, chosen],
                getattr(double, "restart_" + name)[rows, chosen],
                rtol=1e-6 if name == "log_likelihood" else 1e-5,
                err_msg=name,
            )


@pytest.mark.parametrize("n_components", [1, 2, 3])
@pytest.mark.parametrize("distance", [1e3, 1e6])
def test_float32_a_start_far_from_the_data_keeps_the_variance(n_components, distance):
    rng = np.random.default_rng(104)
    x = rng.normal(0.0, 1.0, 300) * 1e-3 + 5.0
    offsets = 1e-3 * distance * np.array([1.0, 0.0, -2.0])[:n_components]
    kwargs = dict(
        weights_init=np.full(n_components, 1.0 / n_components),
        means_init=5.0 + offsets,
        variances_init=np.maximum(offsets**2, 1e-6),
        max_iter=3,
        tol=0,
        sort_components=False,
        warn=False,
    )
    double = fastem.fit(x, n_components, **kwargs)
    single = fastem.fit(x, n_components, dtype=np.float32, **kwargs)
    np.testing.assert_allclose(single.variances, double.variances, rtol=1e-5)
    np.testing.assert_allclose(single.means, double.means, rtol=1e-9)


def test_float32_flags_degenerate_fits_as_float64_does(three_component_batch):
    good = three_component_batch[:3]
    data = [
        good[0],
        np.full(50, 3.25),
        good[1],
        np.array([1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0]),
        good[2],
    ]
    kwargs = dict(n_init=2, random_state=17, max_iter=200, tol=0, dtype=np.float32)
    with pytest.warns(fastem.DegenerateFitWarning, match="2 of 5 dataset"):
        result = fastem.fit(data, 3, **kwargs)
    np.testing.assert_array_equal(
        result.status,
        [
            Status.MAX_ITER,
            Status.VARIANCE_FLOORED,
            Status.MAX_ITER,
            Status.VARIANCE_FLOORED,
            Status.MAX_ITER,
        ],
    )
    for name in ("weights", "means", "variances", "log_likelihood"):
        assert np.isfinite(getattr(result, name)).all(), name


def test_float32_a_component_collapsing_onto_a_point_is_floored_and_finite():
    x = np.concatenate([np.linspace(-1.0, 1.0, 50), [7.0]])
    result = fastem.fit(
        x, 2, means_init=[0.0, 7.0], variances_init=[0.3, 0.01], warn=False, dtype=np.float32
    )
    assert result.status == Status.VARIANCE_FLOORED
    assert np.isfinite(result.log_likelihood)
    assert 0.0 < result.variances[1] <= 1e-15 * x.var() * (1 + 1e-12)


def test_float32_a_non_finite_log_likelihood_is_reported_not_returned():
    x = np.linspace(-1.0, 1.0, 400)
    with pytest.warns(fastem.DegenerateFitWarning, match="no restart with a finite"):
        result = fastem.fit(
            x, 1, means_init=[50.0], variances_init=[1e-307], max_iter=5, dtype=np.float32
        )
    assert result.status == Status.NON_FINITE
    assert np.isnan(result.log_likelihood)


@pytest.mark.exact
@pytest.mark.parametrize("which", ["weights", "means", "variances"])
def test_float32_fixed_parameters_stay_exactly_fixed(which, three_component_batch):
    mask = np.array([True, False, True])
    start = dict(
        weights_init=np.array([0.25, 0.35, 0.4]),
        means_init=np.array([-3.7, 0.4, 5.3]),
        variances_init=np.array([1.1, 0.7, 1.9]),
    )
    kwargs = dict(max_iter=100, tol=0, **start, **{f"fix_{which}": mask})
    single = fastem.fit(three_component_batch, 3, dtype=np.float32, **kwargs)
    double = fastem.fit(three_component_batch, 3, **kwargs)
    fitted = getattr(single, which)
    np.testing.assert_array_equal(
        fitted[:, mask], np.broadcast_to(start[f"{which}_init"][mask], (30, 2))
    )
    np.testing.assert_allclose(single.weights.sum(axis=1), 1.0, rtol=1e-14)
    _assert_close(
        single, double, dict(means=1e-5, weights=1e-5, variances=1e-5, log_likelihood=1e-7)
    )


def test_float32_equal_variance_and_equal_weights_hold(three_component_batch):
    kwargs = dict(
        n_init=2, random_state=4, max_iter=50, tol=0, equal_variance=True, equal_weights=True
    )
    single = fastem.fit(three_component_batch, 3, dtype=np.float32, **kwargs)
    double = fastem.fit(three_component_batch, 3, **kwargs)
    np.testing.assert_array_equal(single.variances, single.variances[:, :1].repeat(3, axis=1))
    np.testing.assert_array_equal(single.weights, np.full((30, 3), 1.0 / 3.0))
    _assert_close(single, double, dict(means=1e-5, variances=1e-5, log_likelihood=1e-7))


@pytest.mark.parametrize("algorithm", ["em", "squarem"])
@pytest.mark.parametrize("stop", ["loglik", "relative", "aitken", "parameter"])
def test_float32_every_algorithm_and_stopping_rule_converges(algorithm, stop):
    kwargs = dict(n_init=10, random_state=0, algorithm=algorithm, stop=stop, max_iter=5_000)
    limit = fastem.fit(WAITING, 2, n_init=10, random_state=0, tol=0, max_iter=20_000, warn=False)
    double = fastem.fit(WAITING, 2, **kwargs)
    single = fastem.fit(WAITING, 2, dtype=np.float32, **kwargs)
    assert (single.restart_status == Status.CONVERGED).all()
    # Each stops within its rule's default tolerance of the maximum, as float64 does.
    gap = np.abs(single.restart_log_likelihood - limit.restart_log_likelihood)
    assert gap.max() <= max(
        1e-3, 3 * np.abs(double.restart_log_likelihood - limit.restart_log_likelihood).max()
    )
    assert np.all(
        np.abs(single.restart_n_iter - double.restart_n_iter) <= 0.5 * double.restart_n_iter + 3
    )
    if algorithm == "squarem":
        assert (single.restart_n_fpeval < single.restart_n_iter * 3 + 2).all()


@pytest.mark.parametrize("algorithm", ["em", "squarem"])
@pytest.mark.parametrize("k", [2, 3])
def test_float32_log_likelihood_decreases_at_most_by_its_rounding(algorithm, k):
    # In exact arithmetic neither EM nor an accepted SQUAREM step lowers the
    # log-likelihood; evaluated in float32, a step near the maximum can show a decrease
    # of the order of the evaluation's error (measured: up to 2.4e-8 relative, SQUAREM).
    data, _ = fastem.simulate(
        [0.3, 0.3, 0.4], [0.0, 1.5, 4.0], [1.0, 0.5, 2.0], 300, 40, random_state=2
    )
    result = fastem.fit(
        data,
        k,
        algorithm=algorithm,
        n_init=3,
        random_state=1,
        trace=True,
        max_iter=200,
        dtype=np.float32,
        warn=False,
    )
    steps = np.diff(result.trace, axis=-1) / np.abs(result.trace[..., 1:])
    assert (steps[np.isfinite(steps)] >= -1e-7).all()


@pytest.mark.exact
def test_float32_chunks_with_dataset_offset_equal_the_whole_batch(three_component_batch):
    kwargs = dict(n_init=3, random_state=9, max_iter=40, tol=0, dtype=np.float32)
    whole = fastem.fit(three_component_batch, 3, **kwargs)
    tail = fastem.fit(three_component_batch[10:], 3, dataset_offset=10, **kwargs)
    np.testing.assert_array_equal(tail.means, whole.means[10:])
    np.testing.assert_array_equal(tail.log_likelihood, whole.log_likelihood[10:])


@pytest.mark.parametrize("dtype", ["float32", np.dtype(np.float32), "f4"])
def test_float32_can_be_named_as_numpy_names_it(dtype):
    x, start = separated_mixture(2, 300, seed=8)
    named = fastem.fit(x, 2, dtype=dtype, **start)
    plain = fastem.fit(x, 2, dtype=np.float32, **start)
    assert named.log_likelihood == plain.log_likelihood


@pytest.mark.parametrize("dtype", [np.float16, np.int32, "float128", "double-ish", np.complex64])
def test_other_dtypes_are_refused_with_the_choices(dtype):
    with pytest.raises(ValueError, match="np.float64 .* or np.float32"):
        fastem.fit(np.arange(10.0), 2, dtype=dtype)


def test_float64_stays_the_default():
    x, start = separated_mixture(2, 300, seed=8)
    assert (
        fastem.fit(x, 2, **start).log_likelihood
        == fastem.fit(x, 2, dtype=np.float64, **start).log_likelihood
    )
