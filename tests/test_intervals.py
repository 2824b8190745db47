"""Binned and censored data (fastem.Intervals): EM for grouped data against its NumPy
reference, against SciPy's direct maximisation of the same likelihood, as bins shrink,
and with censored observations."""

from pathlib import Path

import numba
import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.special import log_ndtr
from scipy.stats import norm

import fastem
from fastem import reference
from fastem.engine import intervals

DATA = Path(__file__).parent / "data"
WAITING = np.loadtxt(DATA / "faithful.csv", skiprows=1, delimiter=",")[:, 1]
GALAXIES = np.loadtxt(DATA / "galaxies.csv", skiprows=1)
BINNED = {
    # Waiting times are whole minutes: bins of 5 minutes; velocities in bins of 500 km/s
    # (in bins of 1000 from 9000 the seven slowest galaxies fill one bin and a half, and a
    # component inside one bin is not identified: its likelihood is flat there).
    "waiting": fastem.Intervals.from_bins(
        np.arange(40.0, 101.0, 5.0), np.histogram(WAITING, np.arange(40.0, 101.0, 5.0))[0]
    ),
    "galaxies": fastem.Intervals.from_bins(
        np.arange(8000.0, 36000.0, 500.0),
        np.histogram(GALAXIES, np.arange(8000.0, 36000.0, 500.0))[0],
    ),
}
TIGHT = dict(stop="parameter", tol=1e-13, max_iter=100_000, warn=False)


def _unpacked(theta, n_components):
    """Mixture parameters from unconstrained coordinates: log weight ratios to the last
    component, means, log variances."""
    logits = np.append(theta[: n_components - 1], 0.0)
    weights = np.exp(logits - logits.max())
    return (
        weights / weights.sum(),
        theta[n_components - 1 : 2 * n_components - 1],
        np.exp(theta[2 * n_components - 1 :]),
    )


def _packed(weights, means, variances):
    return np.concatenate([np.log(weights[:-1] / weights[-1]), means, np.log(variances)])


def _scipy_maximum(log_likelihood, weights, means, variances, scale):
    """SciPy's BFGS on ``-log_likelihood(weights, means, variances)``, in units where the
    data's spread is 1, from a start moved away from the given parameters."""
    k = len(means)
    start = _packed(weights, np.asarray(means) / scale, np.asarray(variances) / scale**2)
    start = start + np.linspace(-0.05, 0.05, start.size)

    def objective(theta):
        w, m, v = _unpacked(theta, k)
        return -log_likelihood(w, m * scale, v * scale**2)

    found = minimize(objective, start, method="BFGS", jac="3-point", options={"gtol": 1e-9})
    w, m, v = _unpacked(found.x, k)
    return w, m * scale, v * scale**2


@pytest.mark.parametrize("name", ["waiting", "galaxies"])
@pytest.mark.parametrize("n_components", [2, 3])
def test_fit_is_the_maximum_scipy_finds_of_the_binned_likelihood(name, n_components):
    data = BINNED[name]
    result = fastem.fit(data, n_components, n_init=10, random_state=0, **TIGHT)
    assert result.status == fastem.Status.CONVERGED

    def log_likelihood(w, m, v):
        return reference.interval_log_likelihood(data.lower, data.upper, data.counts, w, m, v)

    assert result.log_likelihood == pytest.approx(
        log_likelihood(result.weights, result.means, result.variances), rel=1e-12
    )
    scale = np.sqrt(np.average(data.midpoints**2, weights=data.counts))
    found = _scipy_maximum(log_likelihood, result.weights, result.means, result.variances, scale)
    for ours, theirs in zip((result.weights, result.means, result.variances), found):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)
    assert result.bic() == pytest.approx(
        -2 * result.log_likelihood + (3 * n_components - 1) * np.log(data.n_observations)
    )


@pytest.mark.plain_python
def test_kernel_follows_the_numpy_reference_step_by_step():
    data = fastem.Intervals(  # intervals, open ones, and two exact values (0.2 and 2.5)
        [-np.inf, -2.0, -1.0, 0.0, 0.2, 0.5, 1.5, 2.5, 3.0],
        [-2.0, -1.0, 0.0, 0.5, 0.2, 1.5, 3.0, 2.5, np.inf],
        [3, 10, 25, 12, 4, 30, 18, 2, 6],
    )
    start = ([0.4, 0.6], [-1.0, 1.0], [1.0, 2.0])
    result = fastem.fit(
        data,
        2,
        weights_init=start[0],
        means_init=start[1],
        variances_init=start[2],
        tol=0.0,
        max_iter=25,
        trace=True,
        warn=False,
    )
    trace, *parameters = reference.interval_fit(
        data.lower, data.upper, data.counts, *start, n_iter=25
    )
    np.testing.assert_allclose(result.trace[0, :25], trace, rtol=1e-12)
    for ours, theirs in zip((result.weights, result.means, result.variances), parameters):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10)
    assert np.all(np.diff(result.trace[0]) >= -1e-12 * np.abs(result.trace[0, 1:]))
    assert result.n_iter == 25 and result.status == fastem.Status.MAX_ITER


def _mixture_sample(n, seed):
    rng = np.random.default_rng(seed)
    labels = rng.random(n) < 0.35
    return np.where(labels, rng.normal(-1.5, 0.7, n), rng.normal(1.5, 1.2, n))


def test_finer_bins_converge_to_the_fit_of_the_points():
    x = _mixture_sample(4000, 1)
    points = fastem.fit(x, 2, n_init=5, random_state=0, **TIGHT)
    distances = []
    widths = np.array([1.0, 0.5, 0.25, 0.125, 0.0625])
    for width in widths:
        edges = np.arange(-8.0, 8.0 + width, width)
        binned = fastem.fit(
            fastem.Intervals.from_bins(edges, np.histogram(x, edges)[0]),
            2,
            n_init=5,
            random_state=0,
            **TIGHT,
        )
        distances.append(
            max(
                np.max(np.abs(binned.means - points.means)),
                np.max(np.abs(binned.variances - points.variances)),
                np.max(np.abs(binned.weights - points.weights)),
            )
        )
    # Binning moves each observation by less than the width: the fit moves by O(width),
    # with the noise of where the points fall in their bins, so the distance falls about
    # as fast as the width, not at every step.
    slope = np.polyfit(np.log(widths), np.log(distances), 1)[0]
    assert slope > 0.8, distances
    assert distances[-1] < 0.002 and distances[-1] < distances[0] / 10, distances


def test_intervals_remove_the_bias_of_treating_bin_centres_as_points():
    x = _mixture_sample(20_000, 2)
    edges = np.arange(-8.0, 9.0, 1.0)  # bins of about one component's spread
    counts = np.histogram(x, edges)[0]
    points = fastem.fit(x, 2, n_init=5, random_state=0, **TIGHT)
    intervals = fastem.fit(
        fastem.Intervals.from_bins(edges, counts), 2, n_init=5, random_state=0, **TIGHT
    )
    centres = fastem.fit(
        0.5 * (edges[:-1] + edges[1:]), 2, sample_weight=counts, n_init=5, random_state=0, **TIGHT
    )
    # Centres inflate the narrow component's variance by about width^2 / 12 (Sheppard).
    bias_centres = np.abs(centres.variances - points.variances)
    bias_intervals = np.abs(intervals.variances - points.variances)
    assert np.all(bias_intervals < bias_centres / 3), (bias_intervals, bias_centres)


def test_right_censored_fit_is_the_maximum_of_the_censored_likelihood():
    # Observations recorded to 0.01, and every one above 2 known only to exceed 2.
    x = np.round(_mixture_sample(600, 3), 2)
    limit = 2.0
    observed = x[x < limit]
    values, counts = np.unique(observed, return_counts=True)
    lower = np.append(values - 0.005, limit)
    upper = np.append(values + 0.005, np.inf)
    data = fastem.Intervals(lower, upper, np.append(counts, np.count_nonzero(x >= limit)))
    result = fastem.fit(data, 2, n_init=10, random_state=0, **TIGHT)
    censored = np.count_nonzero(x >= limit)

    def log_likelihood(w, m, v):
        # Written independently of fastem: rounded points, and SciPy's normal tail above 2.
        sd = np.sqrt(v)
        z_low = (values[:, None] - 0.005 - m) / sd
        z_high = (values[:, None] + 0.005 - m) / sd
        cells = np.exp(log_ndtr(z_high)) - np.exp(log_ndtr(z_low))
        tail = np.exp(log_ndtr(-(limit - m) / sd))
        return np.sum(counts * np.log(cells @ w)) + censored * np.log(tail @ w)

    assert result.log_likelihood == pytest.approx(
        log_likelihood(result.weights, result.means, result.variances), rel=1e-10
    )
    found = _scipy_maximum(log_likelihood, result.weights, result.means, result.variances, 1.5)
    for ours, theirs in zip((result.weights, result.means, result.variances), found):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def _batch():
    rng = np.random.default_rng(7)
    edges = np.concatenate([[-np.inf], np.arange(-5.0, 5.5, 0.5), [np.inf]])
    return [
        fastem.Intervals.from_bins(edges, np.histogram(_mixture_sample(n, s), edges)[0])
        for s, n in enumerate(rng.integers(50, 800, size=9))
    ]


def _arrays(result):
    return {k: v for k, v in vars(result).items() if isinstance(v, np.ndarray)}


@pytest.mark.exact
@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs 2 or more threads")
def test_interval_fits_do_not_depend_on_threads_or_chunks():
    data = _batch()
    options = dict(n_init=3, random_state=5, trace=True, warn=False)
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = _arrays(fastem.fit(data, 2, **options))
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        many = _arrays(fastem.fit(data, 2, **options))
    finally:
        numba.set_num_threads(threads)
    chunks = [
        _arrays(fastem.fit(data[i : i + 4], 2, dataset_offset=i, **options)) for i in (0, 4, 8)
    ]
    for name, value in one.items():
        np.testing.assert_array_equal(many[name], value, err_msg=name)
        joined = np.concatenate([chunk[name] for chunk in chunks])
        np.testing.assert_array_equal(joined, value, err_msg=name)


@pytest.mark.plain_python
def test_tail_probabilities_keep_their_precision_far_out():
    # The kernel takes tails at x >= 0 only (each interval on the side of 0 where its
    # tails are small), where log Q(x) <= log(1/2) is resolved relatively.
    x = np.concatenate([np.linspace(0.0, 60.0, 1001), [1e3, 1e150]])
    ours = np.array([intervals.log_upper_tail(v) for v in x])
    np.testing.assert_allclose(ours, log_ndtr(-x), rtol=1e-13)
    assert intervals.log_upper_tail(np.inf) == -np.inf
    assert intervals.log_upper_tail(-np.inf) == 0.0
    for a, b in [(25.0, 25.5), (-33.0, -32.0), (-1.0, 2.0), (45.0, np.inf), (-np.inf, -45.0)]:
        expected = reference.log_interval_probabilities([a], [b], np.zeros(1), np.ones(1))[0, 0]
        tails = np.full(4, np.nan)
        found = intervals.log_interval_probability(a, b, tails)
        assert found == pytest.approx(expected, rel=1e-13)
        # Kept tails give the same bits.
        assert intervals.log_interval_probability(a, b, tails) == found
        first, second = intervals.truncated_moments(a, b, expected)
        # The truncated normal's mean lies in the interval and its variance is positive.
        assert max(a, -1e300) <= first <= min(b, 1e300)
        assert second - first**2 > 0.0
    # Intervals [a, inf): the mean is the inverse Mills ratio phi(a) / Q(a).
    mills = np.exp(-0.5 * 45.0**2 - 0.5 * np.log(2 * np.pi) - log_ndtr(-45.0))
    assert intervals.truncated_moments(45.0, np.inf, log_ndtr(-45.0))[0] == pytest.approx(
        mills, rel=1e-13
    )


@pytest.mark.plain_python
def test_a_component_too_far_for_any_interval_makes_a_non_finite_fit_not_a_crash():
    data = fastem.Intervals([0.0, 1.0], [1.0, 2.0], [3, 4])
    with pytest.warns(fastem.DegenerateFitWarning, match="finite log-likelihood"):
        result = fastem.fit(data, 1, means_init=[1e170], fix_means=True)
    assert result.status == fastem.Status.NON_FINITE


@pytest.mark.plain_python
def test_censored_ends_far_in_the_tail_fit_without_nan():
    # Left- and right-censored observations 40 standard deviations out.
    data = fastem.Intervals(
        [-np.inf, -1.0, 0.0, 1.0, 40.0], [-40.0, 0.0, 1.0, 2.0, np.inf], [1, 30, 40, 30, 1]
    )
    result = fastem.fit(data, 2, n_init=3, random_state=0, warn=False)
    assert np.isfinite(result.log_likelihood)
    assert np.all(np.isfinite(result.means)) and np.all(result.variances > 0)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (([0.0, 1.0], [1.0], [1, 1]), "lengths 2, 1 and 2"),
        (([0.0, 2.0], [1.0, 1.0], [1, 1]), r"interval\(s\) 1 has lower > upper; swap them"),
        (([-np.inf], [np.inf], [1]), "says nothing"),
        (([np.inf], [np.inf], [1]), "right-censored interval is"),
        (([0.0, np.nan], [1.0, 2.0], [1, 1]), "NaN end"),
        (([0.0, 1.0], [1.0, 2.0], [1, -1]), "negative count"),
        (([0.0, 1.0], [1.0, 2.0], [1, np.inf]), "not finite"),
        (([0.0, 1.0], [1.0, 2.0], [0, 0]), "every count is 0"),
    ],
)
def test_bad_intervals_are_refused_with_the_fix(arguments, message):
    with pytest.raises(ValueError, match=message):
        fastem.Intervals(*arguments)


def test_bins_need_one_more_edge_than_counts():
    with pytest.raises(ValueError, match="one more edge than counts"):
        fastem.Intervals.from_bins([0.0, 1.0], [1, 2])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (dict(algorithm="squarem"), "algorithm='squarem' is not supported for Intervals"),
        (dict(n_init="auto"), "n_init='auto' is not supported"),
        (dict(se="score"), "se='score' is not supported"),
        (dict(penalty="ctz"), "penalty=.ctz. is not supported for Intervals"),
        (dict(prior="default"), "prior=.default. is not supported for Intervals"),
        (dict(sample_weight=[1, 1, 1]), "counts of Intervals are the observations' weights"),
        (dict(dtype=np.float32), "float64"),
    ],
)
def test_options_intervals_do_not_take_are_refused(options, message):
    data = fastem.Intervals([0.0, 1.0, 2.0], [1.0, 2.0, 3.0], [3, 4, 5])
    with pytest.raises(ValueError, match=message):
        fastem.fit(data, 1, **options)


def test_a_batch_mixing_points_and_intervals_is_refused():
    data = fastem.Intervals([0.0, 1.0], [1.0, 2.0], [3, 4])
    with pytest.raises(TypeError, match="dataset 1 is a ndarray"):
        fastem.fit([data, np.arange(5.0)], 1)


def test_intervals_of_count_zero_are_dropped_and_the_total_count_is_n():
    data = fastem.Intervals.from_bins([0.0, 1.0, 2.0, 3.0, 4.0], [2, 0, 5, 3])
    kept = fastem.Intervals([0.0, 2.0, 3.0], [1.0, 3.0, 4.0], [2, 5, 3])
    both = fastem.fit([data, kept], 1, warn=False)
    np.testing.assert_array_equal(both.means[0], both.means[1])
    np.testing.assert_array_equal(both.n_observations, [10.0, 10.0])


def test_select_chooses_among_interval_fits_by_their_bic():
    data = BINNED["galaxies"]
    # Seeded: with fresh seeds, fit's 5 restarts for K = 2 end below select's maximum about
    # once in 20 runs, and the comparison below would fail by chance.
    choice = fastem.select(data, [1, 2, 3, 4], variance="unequal", n_init=5, random_state=0)
    assert int(choice.n_components) == 3
    fits = [fastem.fit(data, k, n_init=5, warn=False, random_state=0) for k in (1, 2, 3, 4)]
    bics = np.array([float(f.bic()) for f in fits])
    # The same maxima as fit's restarts up to K = 3; select's nested starts find a better
    # one for K = 4, and l(K) >= l(K - 1) by construction.
    np.testing.assert_allclose(choice.bic[:3], bics[:3], rtol=1e-9)
    assert choice.bic[3] <= bics[3]
    assert np.all(np.diff(choice.log_likelihood) >= 0)
    n_parameters = np.array([2, 5, 8, 11])
    np.testing.assert_allclose(
        choice.bic,
        -2 * choice.log_likelihood + n_parameters * np.log(data.n_observations),
        rtol=1e-12,
    )


@pytest.mark.plain_python
def test_a_variance_at_reg_variance_is_flagged_as_for_points():
    data = BINNED["waiting"]
    result = fastem.fit(data, 2, n_init=2, random_state=0, reg_variance=2.0, warn=False)
    points = fastem.fit(
        data.midpoints, 2, sample_weight=data.counts, n_init=2, random_state=0,
        reg_variance=2.0, warn=False,
    )  # fmt: skip
    # reg_variance is relative to the dataset's variance (that of the midpoints).
    assert result.status == points.status == fastem.Status.VARIANCE_FLOORED
    centre = np.average(data.midpoints, weights=data.counts)
    spread = np.average((data.midpoints - centre) ** 2, weights=data.counts)
    assert np.all(result.variances >= 2.0 * spread * (1 - 1e-12))


def test_interval_kernel_status_codes_are_those_of_status():
    for name in ("CONVERGED", "MAX_ITER", "VARIANCE_FLOORED", "NON_FINITE"):
        assert getattr(intervals, name) == fastem.Status[name]


def test_exact_values_fit_as_points_do():
    x = _mixture_sample(300, 5)
    as_points = fastem.fit(x, 2, n_init=5, random_state=0, **TIGHT)
    as_intervals = fastem.fit(fastem.Intervals(x, x), 2, n_init=5, random_state=0, **TIGHT)
    # The same likelihood in the same units (densities of the data's units).
    assert as_intervals.log_likelihood == pytest.approx(as_points.log_likelihood, rel=1e-12)
    for name in ("weights", "means", "variances"):
        np.testing.assert_allclose(
            getattr(as_intervals, name), getattr(as_points, name), rtol=1e-8, err_msg=name
        )


def test_exact_values_with_right_censored_ones_maximise_the_censored_likelihood():
    # A sample observed exactly below a limit of 2, known only to exceed 2 above it.
    x = _mixture_sample(500, 6)
    limit = 2.0
    observed = x[x < limit]
    censored = np.count_nonzero(x >= limit)
    data = fastem.Intervals(
        np.append(observed, limit),
        np.append(observed, np.inf),
        np.append(np.ones(observed.size), censored),
    )
    result = fastem.fit(data, 2, n_init=10, random_state=0, **TIGHT)

    def log_likelihood(w, m, v):
        # Written with SciPy's normal, independently of fastem.
        sd = np.sqrt(v)
        densities = norm.pdf(observed[:, None], m, sd) @ w
        tail = norm.sf(limit, m, sd) @ w
        return np.sum(np.log(densities)) + censored * np.log(tail)

    assert result.log_likelihood == pytest.approx(
        log_likelihood(result.weights, result.means, result.variances), rel=1e-10
    )
    found = _scipy_maximum(log_likelihood, result.weights, result.means, result.variances, 1.5)
    for ours, theirs in zip((result.weights, result.means, result.variances), found):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)


@pytest.mark.plain_python
def test_a_component_no_interval_can_reach_is_emptied_and_flagged():
    data = fastem.Intervals([0.0, 1.0, 2.0], [1.0, 2.0, 3.0], [3, 4, 5])
    result = fastem.fit(
        data, 2, means_init=[1.5, 1e170], fix_means=[False, True], max_iter=20, warn=False
    )
    assert result.status == fastem.Status.VARIANCE_FLOORED
    assert result.weights[1] == 0.0 and np.isfinite(result.log_likelihood)


def test_select_asks_for_a_number_of_restarts_for_intervals():
    with pytest.raises(ValueError, match="n_init='auto' is not supported for Intervals"):
        fastem.select(BINNED["waiting"], [1, 2])


def test_equal_variances_and_a_fixed_mean_are_the_constrained_maximum():
    data = BINNED["waiting"]
    result = fastem.fit(
        data, 2, means_init=[55.0, 80.0], fix_means=[True, False], equal_variance=True, **TIGHT
    )
    assert result.means[0] == 55.0 and result.variances[0] == result.variances[1]

    def negative(theta):  # the free parameters: log weight ratio, second mean, log variance
        w = np.array([1.0, np.exp(-theta[0])])
        return -reference.interval_log_likelihood(
            data.lower, data.upper, data.counts, w / w.sum(), np.array([55.0, theta[1]]),
            np.full(2, np.exp(theta[2])),
        )  # fmt: skip

    start = [np.log(result.weights[0] / result.weights[1]) + 0.05, result.means[1] - 0.5, 3.0]
    found = minimize(negative, start, method="BFGS", jac="3-point", options={"gtol": 1e-9}).x
    weight = 1 / (1 + np.exp(-found[0]))
    np.testing.assert_allclose(result.weights[0], weight, rtol=1e-6)
    np.testing.assert_allclose(result.means[1], found[1], rtol=1e-6)
    np.testing.assert_allclose(result.variances[0], np.exp(found[2]), rtol=1e-6)


def test_a_failed_dataset_does_not_lose_the_others_of_its_batch():
    data = fastem.Intervals([0.0, 1.0, 2.0], [1.0, 2.0, 3.0], [3, 4, 5])
    alone = fastem.fit(data, 1, warn=False)
    with pytest.warns(fastem.DegenerateFitWarning, match="1 of 2 dataset"):
        batch = fastem.fit([data, data], 1, means_init=[[1.5], [1e170]], fix_means=[True])
    assert list(batch.status) == [fastem.Status.CONVERGED, fastem.Status.NON_FINITE]
    fixed = fastem.fit(data, 1, means_init=[1.5], fix_means=[True], warn=False)
    np.testing.assert_array_equal(batch.variances[0], fixed.variances)
    assert alone.status == fastem.Status.CONVERGED
