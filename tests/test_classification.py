"""CEM and SEM (fit(algorithm="cem" | "sem")): flexmix's CEM from the same start, SEM's
draws from the streams, exactness across threads, chunks and places in a batch, the
constraints, an emptied component."""

import warnings
from pathlib import Path

import numba
import numpy as np
import pytest

import fastem
from fastem import Status
from fastem.batch import prepared_batch
from fastem.engine import rng
from fastem.result import ConvergenceWarning

DATA = Path(__file__).parent / "data"
WAITING = np.loadtxt(DATA / "faithful.csv", skiprows=1, delimiter=",")[:, 1]
VELOCITY = np.loadtxt(DATA / "galaxies.csv", skiprows=1)

# flexmix 2.3's CEM (FLXcontrol(classify = "CEM"), a driver with the maximum-likelihood
# variance, minprior = 0, tolerance = 1e-15) from the partition by the start, as printed
# by `Rscript tests/r/flexmix_cem.R` (which says why each setting): (data, start, weights,
# means, variances, log-likelihood, flexmix's iterations). flexmix counts the iteration
# that finds the partition unchanged, which fastem does not count as an M-step.
FLEXMIX_CEM = {
    "faithful K=2": (
        WAITING,
        ([0.5, 0.5], [60.0, 70.0], [100.0, 100.0]),
        [0.3639705882352941, 0.63602941176470584],
        [54.626262626262623, 80.20809248554913],
        [33.223956739108253, 32.315079020348158],
        -1034.1951220458093,
        3,
    ),
    "faithful K=3": (
        WAITING,
        ([0.3, 0.4, 0.3], [50.0, 70.0, 85.0], [30.0, 30.0, 30.0]),
        [0.37132352941176472, 0.25367647058823528, 0.375],
        [54.881188118811885, 75.043478260869563, 83.950980392156865],
        [35.787863934908337, 7.0560806553245117, 14.811322568242982],
        -1042.5380086167281,
        10,
    ),
    "galaxies K=3": (
        VELOCITY,
        ([0.2, 0.6, 0.2], [10000.0, 21000.0, 30000.0], [4e6, 4e6, 4e6]),
        [0.085365853658536592, 0.87804878048780488, 0.036585365853658534],
        [9710.1428571428569, 21400.083333333332, 33044.333333333336],
        [178515.2653061224, 4815733.465277778, 849563.55555555562],
        -769.61516091969099,
        4,
    ),
    "galaxies K=4": (
        VELOCITY,
        ([0.1, 0.4, 0.4, 0.1], [9000.0, 19000.0, 23000.0, 33000.0], [1e6, 2e6, 2e6, 1e6]),
        [0.085365853658536592, 0.46341463414634149, 0.41463414634146339, 0.036585365853658534],
        [9710.1428571428569, 19660.63157894737, 23344.176470588234, 33044.333333333336],
        [178515.2653061224, 1149151.864265928, 1752523.2629757784, 849563.55555555562],
        -770.26421835503982,
        3,
    ),
}


def _start(values):
    weights, means, variances = values
    return dict(weights_init=weights, means_init=means, variances_init=variances)


def _log_densities(x, weights, means, variances):
    """``log w_k + log phi(x_i; mu_k, var_k)``, array of shape (n, K)."""
    x = np.asarray(x)[:, None]
    return (
        np.log(weights)
        - 0.5 * np.log(2 * np.pi * np.asarray(variances))
        - 0.5 * (x - means) ** 2 / variances
    )


def _hard_m_step(x, labels, n_components):
    """Weights, means and maximum-likelihood variances of a partition."""
    counts = np.bincount(labels, minlength=n_components).astype(float)
    means = np.bincount(labels, x, n_components) / counts
    variances = np.bincount(labels, (x - means[labels]) ** 2, n_components) / counts
    return counts / x.size, means, variances


@pytest.mark.parametrize("case", list(FLEXMIX_CEM))
def test_cem_agrees_with_flexmix_from_the_same_start(case):
    x, start, weights, means, variances, log_likelihood, iterations = FLEXMIX_CEM[case]
    k = len(weights)
    fit = fastem.fit(x, k, **_start(start), algorithm="cem", reg_variance=0, max_iter=1000)
    assert fit.status == Status.CONVERGED and fit.converged
    assert fit.n_iter == iterations - 1
    np.testing.assert_allclose(fit.weights, weights, rtol=1e-10)
    np.testing.assert_allclose(fit.means, means, rtol=1e-10)
    np.testing.assert_allclose(fit.variances, variances, rtol=1e-10)
    np.testing.assert_allclose(fit.log_likelihood, log_likelihood, rtol=1e-10)


@pytest.mark.plain_python
def test_cem_returns_the_m_step_of_its_own_most_probable_partition():
    _, start, *_ = FLEXMIX_CEM["faithful K=3"]
    fit = fastem.fit(WAITING, 3, **_start(start), algorithm="cem", reg_variance=0, trace=True)
    dens = _log_densities(WAITING, fit.weights, fit.means, fit.variances)
    labels = np.argmax(dens, axis=1)
    for got, expected in zip(
        (fit.weights, fit.means, fit.variances), _hard_m_step(WAITING, labels, 3)
    ):
        np.testing.assert_allclose(got, expected, rtol=1e-12)
    # The classification log-likelihood of that partition is log_likelihood + log_map.
    classification = dens[np.arange(WAITING.size), labels].sum()
    np.testing.assert_allclose(fit.log_likelihood + fit.log_map, classification, rtol=1e-12)
    # The trace: the mixture log-likelihood of each iterate, the last one the returned fit's.
    trace = fit.trace[0, : fit.n_iter + 1]  # (n_init, max_iter + 1) for one dataset
    assert np.isnan(fit.trace[0, fit.n_iter + 1 :]).all() and np.isfinite(trace).all()
    np.testing.assert_allclose(trace[-1], fit.log_likelihood, rtol=1e-14)
    assert fit.n_fpeval == fit.n_iter and fit.n_objeval == fit.n_iter + 1


@pytest.mark.plain_python
def test_sem_draws_each_label_from_the_streams_and_m_steps_the_partition():
    x = WAITING
    seed, start = 11, ([0.5, 0.5], [55.0, 75.0], [200.0, 200.0])
    fit = fastem.fit(
        x, 2, **_start(start), algorithm="sem", max_iter=1, random_state=seed, reg_variance=0
    )
    batch = prepared_batch(x, None, 2)
    # uint64 again: a compiled stream_key returns a Python int, which uniform would type int64.
    key = np.uint64(rng.stream_key(seed, rng.SEM, batch.keys[0], 0))
    draws = np.array([rng.uniform(key, i) for i in range(x.size)])
    dens = _log_densities(x, *(np.asarray(v) for v in start))
    scaled = np.exp(dens - dens.max(axis=1, keepdims=True))
    labels = (np.cumsum(scaled, axis=1) <= draws[:, None] * scaled.sum(axis=1)[:, None]).sum(1)
    expected = _hard_m_step(x, labels, 2)
    # One iteration: SEM returns its one iterate (never the start).
    for got, value in zip((fit.weights, fit.means, fit.variances), expected):
        np.testing.assert_allclose(got, value, rtol=1e-12)
    assert fit.status == Status.MAX_ITER and not fit.converged and fit.n_iter == 1


@pytest.mark.plain_python
def test_sem_returns_the_best_likelihood_iterate_of_its_chain():
    fit = fastem.fit(WAITING, 2, algorithm="sem", max_iter=40, random_state=3, trace=True)
    assert fit.status == Status.MAX_ITER and fit.n_iter == 40
    assert fit.log_likelihood == np.nanmax(fit.trace)
    # The returned parameters are the best iterate's, whose pass gave its log-likelihood.
    np.testing.assert_allclose(
        fit.log_likelihood,
        np.log(np.exp(_log_densities(WAITING, fit.weights, fit.means, fit.variances)).sum(1)).sum(),
        rtol=1e-12,
    )
    # A chain never converges, and says nothing about it.
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        fastem.fit(WAITING, 2, algorithm="sem", max_iter=40, random_state=3)


def test_sem_lands_near_em_maximum_on_well_separated_data():
    # 0.4 N(0, 1) + 0.6 N(4, 1), n = 4000: the chain's iterates spread about the maximum by
    # about a standard error (Nielsen 2000: SEM's stationary distribution is centred at the
    # maximum, with a covariance of the order of the estimate's); its best iterate is
    # nearer still. Each mean must be within 3 standard errors (sd / sqrt(n_k)) of EM's,
    # and the log-likelihood within 10 of EM's (2 * 10 = 20, the 0.9995 quantile of the
    # chi-square on 5 parameters).
    data_rng = np.random.default_rng(2718)
    labels = data_rng.random(4000) < 0.4
    x = np.where(labels, data_rng.normal(0.0, 1.0, 4000), data_rng.normal(4.0, 1.0, 4000))
    em = fastem.fit(x, 2, n_init=3, random_state=1, tol=1e-12, max_iter=5000)
    sem = fastem.fit(x, 2, n_init=1, random_state=1, algorithm="sem", max_iter=500)
    standard_errors = np.sqrt(em.variances / (em.weights * x.size))
    assert (np.abs(sem.means - em.means) < 3 * standard_errors).all()
    assert 0 <= em.log_likelihood - sem.log_likelihood < 10


def _ragged():
    data_rng = np.random.default_rng(5)
    return [
        np.concatenate([data_rng.normal(-2, 1, n // 2), data_rng.normal(2, 1.5, n - n // 2)])
        for n in data_rng.integers(40, 400, size=9)
    ]


RESULTS = ("weights", "means", "variances", "log_likelihood", "n_iter", "status", "log_map")


@pytest.mark.exact
@pytest.mark.parametrize("algorithm", ["cem", "sem"])
def test_results_depend_on_neither_threads_nor_chunks_nor_place_in_the_batch(algorithm):
    data = _ragged()
    options = dict(algorithm=algorithm, n_init=3, random_state=9, max_iter=60, warn=False)
    whole = fastem.fit(data, 2, **options)
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = fastem.fit(data, 2, **options)
    finally:
        numba.set_num_threads(threads)
    chunks = [fastem.fit(data[at : at + 4], 2, dataset_offset=at, **options) for at in (0, 4, 8)]
    reversed_ = fastem.fit(data[::-1], 2, **options)
    for name in RESULTS:
        expected = getattr(whole, name)
        np.testing.assert_array_equal(getattr(one, name), expected, err_msg=name)
        np.testing.assert_array_equal(
            np.concatenate([getattr(c, name) for c in chunks]), expected, err_msg=name
        )
        np.testing.assert_array_equal(getattr(reversed_, name)[::-1], expected, err_msg=name)


def test_sem_draws_differ_by_seed_and_restart():
    options = dict(algorithm="sem", max_iter=20, means_init=[50.0, 80.0], n_init=2, warn=False)
    a = fastem.fit(WAITING, 2, random_state=1, return_restarts=True, **options)
    b = fastem.fit(WAITING, 2, random_state=2, return_restarts=True, **options)
    assert a.restart_log_likelihood[0] != a.restart_log_likelihood[1]
    assert not np.array_equal(a.restart_log_likelihood, b.restart_log_likelihood)


@pytest.mark.plain_python
@pytest.mark.parametrize("algorithm", ["cem", "sem"])
@pytest.mark.parametrize(
    "constraint",
    [
        dict(equal_variance=True),
        dict(means_init=[50.0, 80.0], fix_means=[True, False]),
        dict(weights_init=[0.3, 0.7], fix_weights=True),
        dict(variances_init=[20.0, 30.0], fix_variances=True),
        dict(reg_variance=0.5),
    ],
)
def test_constraints_hold(algorithm, constraint):
    fit = fastem.fit(
        WAITING, 2, algorithm=algorithm, max_iter=30, random_state=4, warn=False, **constraint
    )
    assert np.isfinite(fit.log_likelihood)
    if constraint.get("equal_variance"):
        assert fit.variances[0] == fit.variances[1]
    if "fix_means" in constraint:
        assert fit.means[0] == 50.0
    if "fix_weights" in constraint:
        np.testing.assert_array_equal(fit.weights, [0.3, 0.7])
    if "fix_variances" in constraint:
        np.testing.assert_array_equal(fit.variances, [20.0, 30.0])
    if "reg_variance" in constraint:
        # reg_variance is relative to the data's variance, and added to every variance.
        assert (fit.variances >= 0.5 * WAITING.var()).all()


@pytest.mark.plain_python
@pytest.mark.parametrize("algorithm", ["cem", "sem"])
def test_an_emptied_component_is_flagged_not_nan(algorithm):
    # A third component far beyond the data gets no point at the first classification.
    fit = fastem.fit(
        WAITING,
        3,
        means_init=[55.0, 80.0, 500.0],
        variances_init=[30.0, 30.0, 1.0],
        algorithm=algorithm,
        max_iter=20,
        random_state=0,
        skip_degenerate=False,
        warn=False,
    )
    assert fit.status == Status.VARIANCE_FLOORED
    assert fit.weights[2] == 0.0 and np.isfinite(fit.means).all()
    assert np.isfinite(fit.log_likelihood)


def test_unknown_algorithm_names_the_choices():
    with pytest.raises(ValueError, match="cem"):
        fastem.fit(WAITING, 2, algorithm="classification")


@pytest.mark.parametrize("init", ["cem_em", "sem_em"])
def test_short_runs_of_cem_and_sem_start_fits_and_are_counted(init):
    data = _ragged()
    options = dict(init=init, n_init=2, random_state=3, warn=False)
    whole = fastem.fit(data, 2, **options)
    chunk = fastem.fit(data[4:], 2, dataset_offset=4, **options)
    np.testing.assert_array_equal(chunk.log_likelihood, whole.log_likelihood[4:])
    assert (whole.init_n_iter > 0).all() and np.isfinite(whole.log_likelihood).all()
    short = fastem.fit(data, 2, init_params={"n_runs": 2, "n_iter": 3}, **options)
    assert (short.init_n_iter <= 2 * 3 * 2).all()
    with pytest.raises(ValueError, match="n_runs"):
        fastem.fit(data, 2, init=init, init_params={"n_run": 2})


def test_cem_em_and_sem_em_never_start_from_a_run_that_emptied_a_component():
    # An emptied component has weight 0, which EM never changes: such a short run is the
    # start only when every run of its restart emptied one (none does on these data).
    data = list(fastem.simulate([0.4, 0.6], [-2.5, 3.5], [4.0, 4.0], 1000, 50, random_state=1)[0])
    for init in ("cem_em", "sem_em"):
        start = fastem.init.starting_values(data, 2, init=init, n_init=3, random_state=0)
        assert (start.weights > 0).all()
