"""DAAREM (fit's algorithm="daarem"): its maxima, monotone steps, constraints, exactness,
its small linear algebra, and R's daarem from the same starts."""

from pathlib import Path

import numba
import numpy as np
import pytest

import fastem
from fastem import Status, reference
from fastem.engine.daarem import ALPHA, KAPPA, damping, jacobi_svd

DATA = Path(__file__).parent / "data"
WAITING = np.loadtxt(DATA / "faithful.csv", skiprows=1, delimiter=",")[:, 1]
VELOCITY = np.loadtxt(DATA / "galaxies.csv", skiprows=1)


def _standardised(x):
    """The data in the kernels' units (engine/layout.py): mean 0, population variance 1."""
    return (x - x.mean()) / x.std()


def test_the_r_em_map_is_fastems():
    # Printed by `Rscript tests/r/em_map.R` (R 4.x): the log-likelihood of the start and
    # one EM map of it, in the coordinates (log weights, means, log variances) of
    # standardised waiting times.
    r_log_likelihood = -381.01529869349531
    r_map = [
        -1.07712361075133201,
        -0.41638512619696083,
        -1.03088342197532823,
        0.53242014308529484,
        -0.76962824333367796,
        -0.80987359111212986,
    ]
    z = _standardised(WAITING)
    start = (np.array([0.4, 0.6]), np.array([-1.0, 0.5]), np.array([0.5, 0.8]))
    assert reference.log_likelihood(z, *start) == pytest.approx(r_log_likelihood, rel=1e-14)
    weights, means, variances = reference.m_step(z, reference.e_step(z, *start))
    mapped = np.concatenate([np.log(weights), means, np.log(variances)])
    np.testing.assert_allclose(mapped, r_map, rtol=1e-13, atol=1e-15)


# R's daarem from given starts, printed by
#   DAAREM_R=<daarem 0.7's R/ directory> Rscript tests/r/daarem.R
# (daarem 0.7 from github.com/cran/daarem, commit 2335185; R's EM map of tests/r/em_map.R):
# dataset, the start (weights, means, variances in the data's units), daarem's fpevals and
# objfevals, its passes (the distinct points where it called the map or the objective),
# and the log-likelihood of the point it returned, in the data's units.
R_DAAREM = [
    ("faithful", [0.5, 0.5], [55, 80], [30, 30], 8, 10, 10, -1034.0017498320537),
    ("faithful", [0.2, 0.8], [60, 70], [100, 100], 16, 19, 19, -1034.0017498333989),
    ("faithful", [0.3, 0.4, 0.3], [50, 70, 85], [20, 20, 20], 109, 173, 173, -1031.6347139633062),
    ("faithful", [0.2, 0.3, 0.5], [55, 75, 82], [40, 30, 20], 156, 263, 263, -1033.739838469191),
    (
        "galaxies",
        [0.1, 0.4, 0.4, 0.1],
        [10000, 20000, 23000, 33000],
        [2e6, 2e6, 2e6, 2e6],
        16,
        18,
        18,
        -768.59696108324863,
    ),
    (
        "galaxies",
        [0.3, 0.4, 0.3],
        [15000, 21000, 25000],
        [4e6, 4e6, 4e6],
        27,
        41,
        41,
        -769.61516084166124,
    ),
]


@pytest.mark.parametrize("row", R_DAAREM, ids=lambda row: f"{row[0]}-{len(row[1])}")
def test_daarem_takes_r_daarems_steps_from_the_same_starts(row):
    name, weights, means, variances, _, _, passes, r_log_likelihood = row
    x = WAITING if name == "faithful" else VELOCITY
    # R ran daarem with mon.tol = 0 and its objective rule at n * 1e-10: fastem's rule.
    result = fastem.fit(
        x,
        len(weights),
        weights_init=weights,
        means_init=means,
        variances_init=variances,
        algorithm="daarem",
        stop="loglik",
        tol=1e-10,
        max_iter=20_000,
        trace=True,
    )
    assert result.status == Status.CONVERGED
    # R stops at the point whose log-likelihood meets the rule; fastem, like its EM and
    # SQUAREM, tests the rule after the step from that point, one pass later, and
    # returns the point that step reached (trace[n_iter]).
    assert result.n_fpeval == passes + 1
    assert result.trace[0, result.n_iter - 1] == pytest.approx(r_log_likelihood, abs=1e-8)
    assert result.log_likelihood >= result.trace[0, result.n_iter - 1]


@pytest.mark.parametrize("x, k", [(WAITING, 2), (WAITING, 3), (VELOCITY, 4)])
def test_daarem_reaches_the_maxima_of_em_in_fewer_passes(x, k):
    options = dict(n_init=10, random_state=0, max_iter=20_000, stop="loglik", warn=False)
    limit = fastem.fit(x, k, tol=0, **options, algorithm="em")
    em = fastem.fit(x, k, tol=1e-10, **options, algorithm="em")
    daarem = fastem.fit(x, k, tol=1e-10, **options, algorithm="daarem")
    assert daarem.restart_status.max() == Status.CONVERGED
    np.testing.assert_allclose(
        daarem.restart_log_likelihood, limit.restart_log_likelihood, rtol=1e-8
    )
    assert np.median(daarem.restart_n_fpeval) < np.median(em.restart_n_fpeval)
    assert daarem.n_objeval == daarem.n_fpeval + 1


def test_daarem_never_lowers_the_log_likelihood():
    data, _ = fastem.simulate(
        [0.3, 0.3, 0.4], [0.0, 1.5, 4.0], [1.0, 0.5, 2.0], 300, 40, random_state=2
    )
    result = fastem.fit(
        data,
        3,
        algorithm="daarem",
        n_init=3,
        random_state=1,
        trace=True,
        max_iter=300,
        warn=False,
        stop="loglik",
    )
    steps = np.diff(result.trace, axis=-1)
    assert np.nanmin(steps) >= 0.0
    assert (result.n_fpeval < 2 * result.n_iter).all()  # proposals were accepted


@pytest.mark.plain_python
@pytest.mark.parametrize(
    "constraint",
    [
        dict(equal_variance=True),
        dict(equal_weights=True),
        dict(means_init=[50.0, 80.0], fix_means=[True, False]),
        dict(weights_init=[0.3, 0.7], fix_weights=True),
        dict(variances_init=[31.0, 37.0], fix_variances=[False, True]),
        dict(weights_init=[0.3, 0.7], fix_weights=[True, False], equal_variance=True),
    ],
)
def test_daarem_keeps_constraints(constraint):
    options = dict(random_state=0, sort_components=False, **constraint, stop="loglik")
    result = fastem.fit(WAITING, 2, algorithm="daarem", tol=1e-10, **options)
    em = fastem.fit(WAITING, 2, tol=1e-13, max_iter=5000, **options, algorithm="em")
    if constraint.get("equal_variance"):
        assert result.variances[0] == result.variances[1]
    if constraint.get("equal_weights"):
        np.testing.assert_array_equal(result.weights, [0.5, 0.5])
    if "fix_means" in constraint:
        assert result.means[0] == 50.0
    if "fix_weights" in constraint:
        np.testing.assert_array_equal(result.weights, [0.3, 0.7])
    if "fix_variances" in constraint:
        fixed = np.asarray(constraint["fix_variances"])
        np.testing.assert_array_equal(
            result.variances[fixed], np.asarray(constraint["variances_init"])[fixed]
        )
    assert result.log_likelihood == pytest.approx(em.log_likelihood, rel=1e-8)
    assert result.n_fpeval < em.n_fpeval


@pytest.mark.plain_python
def test_daarem_with_every_parameter_fixed_stays_at_the_start():
    start = dict(weights_init=[0.4, 0.6], means_init=[55.0, 80.0], variances_init=[30.0, 35.0])
    result = fastem.fit(
        WAITING,
        2,
        **start,
        fix_weights=True,
        fix_means=True,
        fix_variances=True,
        algorithm="daarem",
        stop="loglik",
        max_iter=5,
    )
    np.testing.assert_array_equal(result.weights, start["weights_init"])
    np.testing.assert_array_equal(result.means, start["means_init"])
    np.testing.assert_array_equal(result.variances, start["variances_init"])
    assert result.status == Status.CONVERGED


@pytest.mark.plain_python
def test_daarem_goes_on_past_a_collapsing_component():
    # Half the points tied: a component collapses onto them, its variance floored.
    rng = np.random.default_rng(11)
    x = np.concatenate([np.full(40, 2.0), rng.normal(0.0, 3.0, 60)])
    result = fastem.fit(
        x,
        3,
        n_init=6,
        random_state=3,
        algorithm="daarem",
        stop="loglik",
        max_iter=400,
        return_restarts=True,
        warn=False,
    )
    assert (result.restart_status == Status.VARIANCE_FLOORED).any()
    assert np.isfinite(result.restart_log_likelihood).all()


@pytest.mark.exact
@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs 2 or more threads")
def test_daarem_does_not_depend_on_threads_or_chunks(three_component_batch):
    kwargs = dict(n_init=5, random_state=2024, max_iter=100, tol=0, trace=True, algorithm="daarem")
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = fastem.fit(three_component_batch, 3, **kwargs)
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        many = fastem.fit(three_component_batch, 3, **kwargs)
        chunk = fastem.fit(three_component_batch[7:19], 3, **kwargs, dataset_offset=7)
    finally:
        numba.set_num_threads(threads)
    for name in ("weights", "means", "variances", "log_likelihood", "n_fpeval", "trace"):
        np.testing.assert_array_equal(getattr(one, name), getattr(many, name), err_msg=name)
        np.testing.assert_array_equal(getattr(chunk, name), getattr(one, name)[7:19], err_msg=name)


@pytest.mark.plain_python
@pytest.mark.parametrize("m, n", [(1, 6), (2, 6), (3, 6), (5, 9), (5, 12)])
def test_the_jacobi_svd_is_numpys(m, n):
    rng = np.random.default_rng(100 * m + n)
    columns = rng.normal(size=(m, n))  # the rows of a are the matrix's columns
    work, v, d = columns.copy(), np.empty((m, m)), np.empty(m)
    jacobi_svd(work, v, d)
    expected = np.linalg.svd(columns.T, compute_uv=False)
    # One-sided Jacobi's singular values carry relative errors of a few units of the last
    # place times the condition of the columns (at most about 10 for these Gaussian ones).
    np.testing.assert_allclose(np.sort(d)[::-1], expected, rtol=1e-13)
    np.testing.assert_allclose(v.T @ v, np.eye(m), atol=1e-14)
    np.testing.assert_allclose(work.T @ v.T, columns.T, atol=1e-14 * expected[0])


@pytest.mark.plain_python
def test_the_jacobi_svd_finds_a_zero_column():
    rng = np.random.default_rng(5)
    columns = rng.normal(size=(3, 6))
    columns[2] = 0.0
    work, v, d = columns.copy(), np.empty((3, 3)), np.empty(3)
    jacobi_svd(work, v, d)
    np.testing.assert_allclose(
        np.sort(d)[::-1], np.linalg.svd(columns.T, compute_uv=False), rtol=1e-13, atol=1e-300
    )
    assert np.sort(d)[0] == 0.0


@pytest.mark.plain_python
@pytest.mark.parametrize("shrink", [0, 10, 25, 40])
def test_the_ridge_shrinks_the_least_squares_step_to_its_target_share(shrink):
    rng = np.random.default_rng(shrink)
    f_matrix = rng.normal(size=(9, 4))
    f = rng.normal(size=9)
    u, d, vt = np.linalg.svd(f_matrix, full_matrices=False)
    uy = u.T @ f
    lam, _ = damping(uy * uy, d, float(shrink), np.sqrt(np.sum(uy**2 * d**2)), 1e5, 0.0)
    ridge = np.linalg.solve(f_matrix.T @ f_matrix + lam * np.eye(4), f_matrix.T @ f)
    least_squares = np.linalg.lstsq(f_matrix, f, rcond=None)[0]
    share = np.linalg.norm(ridge) / np.linalg.norm(least_squares)
    # DampingFind stops once the share lies between its targets at shrink +- 1/2.
    power = KAPPA - shrink
    low, high = (1.0 / np.sqrt(1.0 + ALPHA ** (power + h)) for h in (0.5, -0.5))
    assert low <= share <= high


@pytest.mark.plain_python
def test_daarem_steps_past_proposals_below_the_variance_floor():
    # A tight cluster (variance 1e-14 of the data's, ten times the floor) that a component
    # closes in on: some proposals overshoot below the floor, and the step is then EM's.
    rng = np.random.default_rng(11)
    rng.normal(0.0, 1.0, 40), rng.normal(size=10)  # the stream's first dataset, not used
    x = np.concatenate([rng.normal(0.0, 1.0, 40), 3.0 + 1e-7 * rng.normal(size=10)])
    result = fastem.fit(
        x,
        3,
        n_init=10,
        init="random",
        random_state=3,
        algorithm="daarem",
        stop="loglik",
        max_iter=300,
        return_restarts=True,
        trace=True,
        warn=False,
    )
    assert (result.restart_status == Status.CONVERGED).all()
    assert np.nanmin(np.diff(result.trace, axis=-1)) >= 0.0


@pytest.mark.plain_python
def test_daarem_with_the_float32_e_step_reaches_the_float64_maximum():
    options = dict(algorithm="daarem", random_state=0, stop="loglik")
    single = fastem.fit(WAITING, 2, dtype=np.float32, tol=1e-8, **options)
    double = fastem.fit(WAITING, 2, tol=1e-10, **options)
    assert single.status == Status.CONVERGED
    # test_float32.py's bound for a float32 E-step's log-likelihood (measured: 2e-9).
    assert single.log_likelihood == pytest.approx(double.log_likelihood, rel=1e-7)
