"""fastem.emtest, the EM-test for the order of a normal mixture: against MixtureInf's
emtest.norm (tests/r/emtest.R), its penalised null fit, its p-value, its size, and the same
bits in any batch, chunking and number of threads."""

from pathlib import Path

import numba
import numpy as np
import pytest
from scipy import stats

import fastem
from fastem.toolkit.emtest import chi2_sf, default_penalty_variance

DATA = Path(__file__).parent / "data"


def _load(name, column=0):
    return np.loadtxt(DATA / f"{name}.csv", delimiter=",", skiprows=1, ndmin=2)[:, column]


DATASETS = {
    "faithful": _load("faithful", 1),
    "galaxies": _load("galaxies"),
    "acidity": _load("acidity"),
}

# tests/r/emtest.R (MixtureInf 1.1's emtest.norm, its parts called from fastem's null fits
# with the exact penalised M-step, tol = 1e-13): variance penalty, statistic, p-value.
MIXTUREINF = {
    ("faithful", 1): (0.25, 119.221929300979, 1.29207282175013e-26),
    ("galaxies", 1): (0.25, 37.2047125855977, 8.33871847212958e-09),
    ("acidity", 1): (0.25, 78.4827212437289, 9.071803185485e-18),
    ("faithful", 2): (0.200883480926065, 4.94261574336042, 0.293236320494021),
    ("acidity", 2): (0.185469978671123, 15.2033247301886, 0.00429756419850931),
}
# The same script's galaxies, m0 = 2: the fixed-beta alternatives of these 82 points have
# several maxima, and R's 10 random starts reached one of statistic 30.5119954553693.
GALAXIES_2 = 30.5119954553693
# MixtureInf's own iterations (the variance around the mean before the update) from the
# same null fits: the same for m0 = 1 to 1e-4, further apart where k = 3 iterations matter.
MIXTUREINF_OWN = {("faithful", 1): 119.22204145893, ("acidity", 2): 15.1521806675686}
EXACT = dict(tol=1e-13, max_iter=100_000)
"""The alternatives' fits to their maxima, as in tests/r/emtest.R."""


@pytest.mark.parametrize(("name", "m0"), MIXTUREINF)
def test_the_statistic_and_p_value_are_mixtureinfs_from_the_same_null_fit(name, m0):
    penalty, statistic, p_value = MIXTUREINF[name, m0]
    result = fastem.emtest(DATASETS[name], m0, **EXACT)
    assert result.penalty_variance == pytest.approx(penalty, rel=1e-12)
    # The fixed-beta maxima agree to about 1e-13 in the penalised log-likelihood, which
    # moves the parameters by about its square root before the k = 3 EM-test iterations.
    assert result.statistic == pytest.approx(statistic, rel=1e-8)
    assert result.p_value == pytest.approx(p_value, rel=1e-7)


def test_mixtureinfs_own_iterations_differ_from_the_exact_m_step_by_little():
    for (name, m0), own in MIXTUREINF_OWN.items():
        exact = MIXTUREINF[name, m0][1]
        assert abs(own - exact) < 0.01 * exact
        assert abs(fastem.emtest(DATASETS[name], m0, **EXACT).statistic - exact) < 1e-6


def test_more_starts_find_an_alternative_at_least_as_good_as_mixtureinfs_on_galaxies():
    result = fastem.emtest(DATASETS["galaxies"], 2, n_starts=100, **EXACT)
    assert result.statistic >= GALAXIES_2 - 1e-6


def _penalised(x, weights, means, variances, a, target):
    """The null's penalised log-likelihood, written from its definition."""
    density = weights * stats.norm.pdf(x[:, None], means, np.sqrt(variances))
    penalty = -a * (target / variances + np.log(variances / target) - 1.0)
    return np.log(density.sum(axis=1)).sum() + penalty.sum()


@pytest.mark.parametrize("name", ["acidity", "faithful"])
def test_the_null_fit_is_a_stationary_point_of_the_penalised_likelihood(name):
    # fastem.fit's penalty="ctz": a_n = n^(-1/2), s^2 the sample variance (divisor n - 1).
    x = DATASETS[name]
    n = x.size
    result = fastem.emtest(x, 2)
    w, m, v = result.null_weights, result.null_means, result.null_variances
    a, target = 1.0 / np.sqrt(n), x.var(ddof=1)
    np.testing.assert_array_equal(result.null_fit.means, m)
    assert result.null_log_likelihood == pytest.approx(_penalised(x, w, m, v, 0.0, target))
    # Its M-step's fixed point: one more penalised EM step leaves it where it is.
    density = w * stats.norm.pdf(x[:, None], m, np.sqrt(v))
    resp = density / density.sum(axis=1, keepdims=True)
    s0 = resp.sum(axis=0)
    means = (resp * x[:, None]).sum(axis=0) / s0
    spread = (resp * (x[:, None] - means) ** 2).sum(axis=0)
    np.testing.assert_allclose(s0 / n, w, rtol=1e-7)
    np.testing.assert_allclose(means, m, rtol=1e-8)
    np.testing.assert_allclose((spread + 2 * a * target) / (s0 + 2 * a), v, rtol=1e-7)
    # And a numerical gradient: along the means, the variances, and the weights' simplex.
    for j in range(2):
        for which, step in ((m, 1e-5 * np.sqrt(v[j])), (v, 1e-5 * v[j])):
            up, down = which.copy(), which.copy()
            up[j] += step
            down[j] -= step
            args_up = (w, up, v) if which is m else (w, m, up)
            args_down = (w, down, v) if which is m else (w, m, down)
            slope = (_penalised(x, *args_up, a, target) - _penalised(x, *args_down, a, target)) / (
                2 * step
            )
            assert abs(slope * step) < 1e-8
    shift = np.array([1e-6, -1e-6])
    slope = (
        _penalised(x, w + shift, m, v, a, target) - _penalised(x, w - shift, m, v, a, target)
    ) / 2
    assert abs(slope) < 1e-8


@pytest.mark.parametrize("df", [2, 4, 6])
def test_the_p_value_is_the_chi_square_survival_function_with_2_m0_degrees(df):
    x = np.array([-1.0, 0.0, 0.1, 1.0, 3.7, 12.0, 80.0])
    expected = np.where(x > 0, stats.chi2.sf(np.maximum(x, 0), df), 1.0)
    np.testing.assert_allclose(chi2_sf(x, df), expected, rtol=1e-13, atol=1e-300)


def test_the_variance_penalty_is_mixtureinfs_formula_of_the_null_fits_overlaps():
    # MixtureInf 1.1's formula3 and formula2 (with over1-over3), in R:
    #   formula3(list(c(.2, .5, .3), c(0, 2, 5), c(1, 0.5, 2)), 150)
    #   formula2(list(c(.3, .7), c(0, 2), c(2, 0.7)), 80)
    # (unequal variances: both branches of over1).
    three = default_penalty_variance(
        np.array([[0.2, 0.5, 0.3]]), np.array([[0.0, 2.0, 5.0]]), np.array([[1.0, 0.5, 2.0]]), [150]
    )
    two = default_penalty_variance(
        np.array([[0.3, 0.7]]), np.array([[0.0, 2.0]]), np.array([[2.0, 0.7]]), [80]
    )
    assert three[0] == pytest.approx(0.068254598064813571, rel=1e-13)
    assert two[0] == pytest.approx(0.050056919868506904, rel=1e-13)
    # Equal variances: each overlap is Phi(-delta / 2), in closed form.
    weights = np.full((1, 3), 1 / 3)
    value = default_penalty_variance(weights, np.array([[0.0, 1.0, 2.0]]), np.ones((1, 3)), [100])
    overlap = stats.norm.cdf(-0.5)
    linear = -1.602 - 0.480 * np.log(overlap / (1 - overlap)) - 130.394 / 100
    assert value[0] == pytest.approx(0.35 / (1 + np.exp(-linear)), rel=1e-12)
    four = default_penalty_variance(
        np.full((2, 4), 0.25), np.zeros((2, 4)), np.ones((2, 4)), [9, 9]
    )
    np.testing.assert_array_equal(four, [0.2, 0.2])


def _same(first, second):
    for field in (
        "statistic",
        "p_value",
        "null_means",
        "null_variances",
        "means",
        "variances",
        "beta",
    ):
        np.testing.assert_array_equal(getattr(first, field), getattr(second, field))


@pytest.mark.exact
@pytest.mark.plain_python
@pytest.mark.slow_as_python
def test_a_dataset_gets_the_same_bits_in_any_batch_chunk_and_number_of_threads():
    rng = np.random.default_rng(28)
    datasets = [
        rng.normal(size=n) + np.where(rng.random(n) < 0.3, 3.0, 0.0) for n in (40, 55, 61, 47)
    ]
    for m0 in (1, 2):
        whole = fastem.emtest(datasets, m0, n_starts=3, start_iter=5, max_iter=50, k=2)
        alone = fastem.emtest(datasets[2], m0, n_starts=3, start_iter=5, max_iter=50, k=2)
        assert alone.statistic == whole.statistic[2]
        np.testing.assert_array_equal(alone.means, whole.means[2])
        reversed_ = fastem.emtest(datasets[::-1], m0, n_starts=3, start_iter=5, max_iter=50, k=2)
        np.testing.assert_array_equal(reversed_.statistic[::-1], whole.statistic)
        threads = numba.get_num_threads()
        try:
            numba.set_num_threads(1)
            one = fastem.emtest(datasets, m0, n_starts=3, start_iter=5, max_iter=50, k=2)
        finally:
            numba.set_num_threads(threads)
        _same(one, whole)


@pytest.mark.plain_python
def test_a_two_component_sample_is_rejected_and_the_alternative_splits_it():
    rng = np.random.default_rng(5)
    x = np.concatenate([rng.normal(0.0, 1.0, 60), rng.normal(5.0, 1.0, 40)])
    result = fastem.emtest(x, 1, n_starts=4, start_iter=10, max_iter=200)
    assert result.p_value < 1e-6
    assert result.null_means[0] == pytest.approx(x.mean())
    # The penalised variance of one component: (n v + 2 a_n s^2) / (n + 2 a_n).
    n, a_n = x.size, 1.0 / np.sqrt(x.size)
    expected = (n * x.var() + 2 * a_n * x.var(ddof=1)) / (n + 2 * a_n)
    assert result.null_variances[0] == pytest.approx(expected, rel=1e-9)
    assert sorted(np.round(result.means)) == [0.0, 5.0]
    assert result.weights.sum() == pytest.approx(1.0)
    assert result.rejected(0.05)


def test_the_statistic_is_the_same_in_any_units():
    x = DATASETS["acidity"]
    base = fastem.emtest(x, 1)
    moved = fastem.emtest(1e4 * x - 3e5, 1)
    assert moved.statistic == pytest.approx(base.statistic, rel=1e-9)
    np.testing.assert_allclose(moved.means, 1e4 * base.means - 3e5, rtol=1e-9)


def test_the_size_at_0_05_is_nominal_within_its_monte_carlo_error():
    # 400 datasets of 100 points from N(0, 1): the rejection rate's MCSE is
    # sqrt(0.05 * 0.95 / 400) = 0.011; a test at 3 MCSE fails a correct test 0.3% of the
    # time (bench/test_emtest.py runs 1,000).
    x = np.random.default_rng(2028).normal(size=(400, 100))
    rate = np.mean(fastem.emtest(x, 1).p_value <= 0.05)
    mcse = np.sqrt(0.05 * 0.95 / 400)
    assert abs(rate - 0.05) <= 3 * mcse


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(m0=0), "m0"),
        (dict(m0=1, k=0), "k"),
        (dict(m0=1, n_starts=0), "n_starts"),
        (dict(m0=1, penalty_beta=-1.0), "penalty_beta"),
        (dict(m0=1, penalty_variance=-0.5), "penalty_variance"),
    ],
)
def test_bad_settings_are_refused_by_name(kwargs, message):
    with pytest.raises(ValueError, match=message):
        fastem.emtest(DATASETS["acidity"], **kwargs)


def test_too_few_points_for_the_alternative_are_refused():
    with pytest.raises(ValueError, match="dataset"):
        fastem.emtest([np.arange(10.0), np.arange(3.0)], 2)
