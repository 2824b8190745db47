"""The accelerators of EM's map (fit's ``algorithm``: SqS1, SqS2, SqS3, quasi-Newton): R's
SQUAREM from the same starts, chunking, every parameter fixed, and the quasi-Newton
step's linear solve. Their shared properties (EM's maxima, monotone traces, constraints,
thread counts) are tested with SQUAREM's, parametrised, in ``test_algorithms.py`` and
``test_fit.py``."""

from pathlib import Path

import numpy as np
import pytest

import fastem
from fastem.engine import methods
from fastem.engine.methods import CODES
from fastem.engine.quasi_newton import solve

ACCELERATORS = [name for name, code in CODES.items() if code in methods.ACCELERATORS]
DATA = Path(__file__).parent / "data"
WAITING = np.loadtxt(DATA / "faithful.csv", skiprows=1, delimiter=",")[:, 1]
GALAXIES = np.loadtxt(DATA / "galaxies.csv", skiprows=1)
SOURCES = {"waiting": WAITING, "galaxies": GALAXIES}
R_METHODS = {1: "sqs1", 2: "sqs2", 3: "squarem"}

# The starts of tests/r/squarem.R, in the data's units: weights, means, variances.
R_STARTS = {
    1: ([0.5, 0.5], [55.0, 80.0], [30.0, 30.0]),
    2: ([0.3, 0.7], [50.0, 75.0], [100.0, 40.0]),
    3: ([1 / 3, 1 / 3, 1 / 3], [50.0, 65.0, 80.0], [25.0, 25.0, 25.0]),
    4: ([0.2, 0.3, 0.5], [48.0, 60.0, 82.0], [20.0, 50.0, 30.0]),
    5: ([0.1, 0.5, 0.4], [10000.0, 20000.0, 23000.0], [1e6, 4e6, 4e6]),
    6: ([0.1, 0.4, 0.4, 0.1], [9500.0, 19500.0, 22500.0, 33000.0], [5e5, 1e6, 1e6, 1e6]),
}

# Printed by `Rscript tests/r/squarem.R` (R 4, SQUAREM from Debian's r-cran-squarem): data,
# K, start, method, steps, fpevals, final log-likelihood (data's units), and whether no
# step of R's run kept an extrapolation that fastem's rule (theta' itself not below
# theta_0) rejects by more than 1e-8.
R_SQUAREM = [
    ("waiting", 2, 1, 1, 7, 20, -1034.0017498316081, True),
    ("waiting", 2, 1, 2, 7, 20, -1034.0017498316081, True),
    ("waiting", 2, 1, 3, 7, 20, -1034.0017498316081, True),
    ("waiting", 2, 2, 1, 7, 20, -1034.0017498316081, True),
    ("waiting", 2, 2, 2, 7, 20, -1034.0017498316081, True),
    ("waiting", 2, 2, 3, 7, 20, -1034.0017498316081, True),
    ("waiting", 3, 3, 1, 23, 60, -1031.6348853421177, True),
    ("waiting", 3, 3, 2, 23, 61, -1031.6348177204027, False),
    ("waiting", 3, 3, 3, 21, 62, -1031.6347260756741, False),
    ("waiting", 3, 4, 1, 21, 61, -1031.6405171768538, True),
    ("waiting", 3, 4, 2, 22, 61, -1031.6399611386162, False),
    ("waiting", 3, 4, 3, 21, 62, -1031.6392798568022, False),
    ("galaxies", 3, 5, 1, 8, 20, -769.63921267181217, False),
    ("galaxies", 3, 5, 2, 8, 20, -771.78860171968324, False),
    ("galaxies", 3, 5, 3, 8, 21, -769.61516084166124, False),
    ("galaxies", 4, 6, 1, 21, 60, -768.59696108179924, True),
    ("galaxies", 4, 6, 2, 21, 62, -768.59696108179924, False),
    ("galaxies", 4, 6, 3, 21, 62, -768.59696108179924, False),
]


def _from_r_start(source, k, start, method, steps):
    weights, means, variances = R_STARTS[start]
    assert len(means) == k
    return fastem.fit(
        SOURCES[source],
        k,
        algorithm=R_METHODS[method],
        weights_init=weights,
        means_init=means,
        variances_init=variances,
        max_iter=steps,
        tol=0,
        warn=False,
    )


@pytest.mark.parametrize(
    "source, k, start, method, steps, fpevals, log_likelihood",
    [run[:7] for run in R_SQUAREM if run[7]],
)
def test_sqs_schemes_follow_r_squarem_step_for_step(
    source, k, start, method, steps, fpevals, log_likelihood
):
    # R's squarem(method = 1, 2, 3) with objfn.inc = 0 and tol = 0 for the same number of
    # steps, in the runs where R's rule and fastem's decided alike (see tests/r/squarem.R):
    # the same maps, and the same log-likelihood up to rounding.
    result = _from_r_start(source, k, start, method, steps)
    assert abs(int(result.n_fpeval) - fpevals) <= 1
    assert result.log_likelihood == pytest.approx(log_likelihood, abs=1e-8)


def test_r_squarem_disagrees_only_where_its_rule_keeps_a_step_that_fastem_rejects():
    # Where R kept an extrapolated theta' whose log-likelihood is below theta_0's (its
    # F(theta') being above), fastem falls back to EM's step: the paths part, so these
    # runs are compared by the maximum they reach instead (same start, to convergence).
    parted = [run for run in R_SQUAREM if not run[7]]
    for source, k, start, method, *_ in parted:
        weights, means, variances = R_STARTS[start]
        options = dict(weights_init=weights, means_init=means, variances_init=variances)
        em = fastem.fit(SOURCES[source], k, algorithm="em", tol=1e-12, max_iter=20_000, **options)
        accelerated = fastem.fit(
            SOURCES[source], k, algorithm=R_METHODS[method], tol=1e-12, max_iter=20_000, **options
        )
        assert accelerated.log_likelihood == pytest.approx(em.log_likelihood, abs=1e-8)
        assert accelerated.n_fpeval < em.n_fpeval


@pytest.mark.parametrize("algorithm", ACCELERATORS)
def test_accelerators_give_the_same_bits_in_any_chunking(algorithm, three_component_batch):
    kwargs = dict(n_init=3, random_state=21, max_iter=40, tol=0, algorithm=algorithm)
    whole = fastem.fit(three_component_batch, 3, **kwargs)
    for start, stop in ((0, 7), (7, 20), (20, 30)):
        chunk = fastem.fit(three_component_batch[start:stop], 3, dataset_offset=start, **kwargs)
        for name in ("weights", "means", "variances", "log_likelihood", "n_fpeval", "n_iter"):
            np.testing.assert_array_equal(getattr(chunk, name), getattr(whole, name)[start:stop])


@pytest.mark.plain_python
@pytest.mark.parametrize("algorithm", ACCELERATORS)
def test_accelerators_with_every_parameter_fixed_keep_them(algorithm):
    # No secant and no extrapolation exist (EM's map is the identity): every step is EM's.
    weights, means, variances = [0.3, 0.7], [55.0, 80.0], [30.0, 40.0]
    result = fastem.fit(
        WAITING,
        2,
        algorithm=algorithm,
        weights_init=weights,
        means_init=means,
        variances_init=variances,
        fix_weights=True,
        fix_means=True,
        fix_variances=True,
        max_iter=5,
        tol=0,
        warn=False,
    )
    np.testing.assert_array_equal(result.weights, weights)
    np.testing.assert_array_equal(result.means, means)
    np.testing.assert_array_equal(result.variances, variances)
    # SQUAREM's schemes and quasi-Newton: two maps a step, no extrapolation; DAAREM: one
    # map a step, and one of its first proposal (the point itself, nothing being free),
    # which each later step takes as its map.
    assert result.n_fpeval == (6 if algorithm == "daarem" else 10)


@pytest.mark.plain_python
@pytest.mark.parametrize("m", [1, 2])
def test_the_quasi_newton_solve_is_gaussian_elimination(m):
    rng = np.random.default_rng(m)
    a = rng.normal(size=(m, m))
    a[0, 0] = 1e-3  # a pivot row swap when m = 2
    b = rng.normal(size=m)
    system = np.column_stack([a, b])
    assert solve(system, m)
    np.testing.assert_allclose(system[:, m], np.linalg.solve(a, b), rtol=1e-12)


@pytest.mark.plain_python
def test_the_quasi_newton_solve_refuses_a_singular_system():
    system = np.array([[1.0, 2.0, 1.0], [2.0, 4.0, 1.0]])
    assert not solve(system, 2)
    assert not solve(np.array([[0.0, 1.0], [0.0, 0.0]]), 1)


@pytest.mark.plain_python
@pytest.mark.parametrize("algorithm", ACCELERATORS)
def test_accelerators_take_em_steps_where_a_variance_has_no_coordinate(algorithm):
    # A fixed variance at the data's precision (below the floor of the log-variance
    # coordinate) on a fixed mean at tied points: no extrapolation exists, every step is
    # two EM maps (one for DAAREM, which maps only its proposals), and the fit is EM's run
    # as many maps, bit for bit.
    options = dict(
        weights_init=[0.1, 0.9],
        fix_weights=[True, False],
        means_init=[54.0, 70.0],
        fix_means=[True, False],
        variances_init=[1e-14, 30.0],
        fix_variances=[True, False],
        tol=0,
        warn=False,
    )
    maps = 15 if algorithm == "daarem" else 30
    accelerated = fastem.fit(WAITING, 2, algorithm=algorithm, max_iter=15, **options)
    em = fastem.fit(WAITING, 2, algorithm="em", max_iter=maps, **options)
    assert accelerated.n_fpeval == em.n_fpeval == maps
    for name in ("weights", "means", "variances", "log_likelihood"):
        np.testing.assert_array_equal(getattr(accelerated, name), getattr(em, name))


# Printed by `TURBOEM_R=.../turboem.R Rscript tests/r/turboem_qn.R` (turboEM 2025.1's
# quasi-Newton EM, qn = 2, to its parameter rule at tol = 1e-10): data, K, start, maps,
# objective evaluations, final log-likelihood in the data's units.
R_TURBOEM_QN = [
    ("waiting", 2, 1, 16, 12, -1034.0017498316081),
    ("waiting", 2, 2, 18, 14, -1034.0017498316081),
    ("waiting", 3, 3, 1314, 1310, -1031.6347087199197),
    ("waiting", 3, 4, 1964, 1960, -1031.6347087199197),
    ("galaxies", 3, 5, 50, 45, -769.61516084166124),
    ("galaxies", 4, 6, 48, 44, -768.59696108179924),
]


@pytest.mark.parametrize(
    "source, k, start, maps, objective_evaluations, log_likelihood", R_TURBOEM_QN
)
def test_qn_reaches_the_maxima_of_turboems_qn(
    source, k, start, maps, objective_evaluations, log_likelihood
):
    # turboEM keeps theta' itself and fastem the stabilised F(theta'), so their paths, and
    # their counts of maps, differ by design (docs/guide/algorithms.md); from the same
    # start both reach the same maximum, and so does fastem's EM.
    weights, means, variances = R_STARTS[start]
    options = dict(
        weights_init=weights,
        means_init=means,
        variances_init=variances,
        stop="parameter",
        tol=1e-10,
        max_iter=100_000,
        warn=False,
    )
    qn = fastem.fit(SOURCES[source], k, algorithm="qn", **options)
    em = fastem.fit(SOURCES[source], k, algorithm="em", **options)
    assert qn.log_likelihood == pytest.approx(log_likelihood, abs=1e-8)
    assert em.log_likelihood == pytest.approx(log_likelihood, abs=1e-8)
