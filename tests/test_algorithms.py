"""SQUAREM and the other accelerators, and the stopping rules: fit(algorithm=..., stop=...),
n_fpeval, n_objeval, rate."""

import functools
from pathlib import Path

import numpy as np
import pytest

import fastem
from conftest import EM
from fastem import Status
from fastem.engine import methods
from fastem.engine.methods import CODES

ACCELERATORS = [name for name, code in CODES.items() if code in methods.ACCELERATORS]

FAITHFUL = np.loadtxt(Path(__file__).parent / "data" / "faithful.csv", skiprows=1, delimiter=",")
WAITING = FAITHFUL[:, 1]


RESTARTS = dict(n_init=10, random_state=0)


@functools.cache
def _em_and_its_maxima(k):
    """EM on the waiting times from :data:`RESTARTS` to tol=1e-10, and the same fits run to
    tol=0 for many iterations (the maxima they approach): the same for every accelerator,
    so fitted once per ``k``."""
    em = fastem.fit(WAITING, k, tol=1e-10, max_iter=20_000, **RESTARTS, **EM)
    return em, fastem.fit(WAITING, k, tol=0, max_iter=20_000, warn=False, **RESTARTS, **EM)


@pytest.mark.parametrize("algorithm", ACCELERATORS)
@pytest.mark.parametrize("k", [2, 3])
def test_accelerators_reach_the_maxima_of_em_in_fewer_passes(k, algorithm):
    em, limit = _em_and_its_maxima(k)
    squarem = fastem.fit(
        WAITING, k, algorithm=algorithm, tol=1e-10, max_iter=20_000, **RESTARTS, stop="loglik"
    )
    for result in (em, squarem):
        assert result.restart_status.max() == Status.CONVERGED
        np.testing.assert_allclose(
            result.restart_log_likelihood, limit.restart_log_likelihood, rtol=1e-8
        )
    assert np.median(squarem.restart_n_fpeval) < np.median(em.restart_n_fpeval)
    assert (squarem.n_objeval == squarem.n_fpeval + 1) and (em.n_objeval == em.n_fpeval + 1)
    np.testing.assert_array_equal(em.n_fpeval, em.n_iter)


@pytest.mark.parametrize("algorithm", ACCELERATORS)
def test_accelerators_never_lower_the_log_likelihood(algorithm):
    data, _ = fastem.simulate(
        [0.3, 0.3, 0.4], [0.0, 1.5, 4.0], [1.0, 0.5, 2.0], 300, 40, random_state=2
    )
    result = fastem.fit(
        data,
        3,
        algorithm=algorithm,
        n_init=3,
        random_state=1,
        trace=True,
        max_iter=300,
        warn=False,
        stop="loglik",
    )
    steps = np.diff(result.trace, axis=-1)
    assert np.nanmin(steps) >= -1e-9 * np.abs(np.nanmax(np.abs(result.trace)))
    assert (result.n_fpeval > result.n_iter).any()  # extrapolations were taken


@pytest.mark.plain_python
@pytest.mark.parametrize(
    "constraint",
    [
        dict(equal_variance=True),
        dict(equal_weights=True),
        dict(means_init=[50.0, 80.0], fix_means=[True, False]),
        dict(weights_init=[0.3, 0.7], fix_weights=True),
    ],
)
@pytest.mark.parametrize("algorithm", ACCELERATORS)
def test_accelerators_keep_constraints(constraint, algorithm):
    # DAAREM's first steps are damped close to EM's, whose increases fall below the loglik
    # rule's default tol about 4e-8 (relative) short of these maxima; it is run to 1e-12.
    result = fastem.fit(
        WAITING,
        2,
        algorithm=algorithm,
        random_state=0,
        sort_components=False,
        **constraint,
        stop="loglik",
        **({"tol": 1e-12} if algorithm == "daarem" else {}),
    )
    em = fastem.fit(
        WAITING,
        2,
        random_state=0,
        sort_components=False,
        tol=1e-13,
        max_iter=5000,
        **constraint,
        **EM,
    )
    if constraint.get("equal_variance"):
        assert result.variances[0] == result.variances[1]
    if constraint.get("equal_weights"):
        np.testing.assert_array_equal(result.weights, [0.5, 0.5])
    if "fix_means" in constraint:
        assert result.means[0] == 50.0
    if constraint.get("fix_weights"):
        np.testing.assert_array_equal(result.weights, [0.3, 0.7])
    assert result.log_likelihood == pytest.approx(em.log_likelihood, rel=1e-8)


@pytest.mark.plain_python
@pytest.mark.parametrize(
    "stop, tol", [("loglik", 1e-6), ("relative", 1e-5), ("aitken", 1e-5), ("parameter", 1e-9)]
)
def test_each_stopping_rule_stops_where_its_formula_first_holds(stop, tol):
    start = dict(weights_init=[0.5, 0.5], means_init=[50.0, 70.0], variances_init=[40.0, 40.0])
    result = fastem.fit(WAITING, 2, stop=stop, trace=True, **start, algorithm="em")
    assert result.converged and result.tol == tol and result.stop == stop
    ll = result.trace[0, : result.n_iter]  # what the rule saw: l_0 ... l_{n-1}, data units
    n = WAITING.size

    def holds(t):
        if stop == "loglik":
            return abs(ll[t] / n - ll[t - 1] / n) < tol
        if stop == "relative":
            return abs(ll[t] - ll[t - 1]) < tol * abs(ll[t])
        if stop == "aitken":
            a = (ll[t] - ll[t - 1]) / (ll[t - 1] - ll[t - 2])
            return a < 1 and abs(ll[t - 1] + (ll[t] - ll[t - 1]) / (1 - a) - ll[t]) < tol
        return None

    if stop == "parameter":
        # Refit with one iteration fewer: the change of the last step is the one that
        # fell below tol, and the one before did not.
        steps = [
            fastem.fit(WAITING, 2, tol=0, max_iter=m, **start, **EM)
            for m in (result.n_iter - 2, result.n_iter - 1, result.n_iter)
        ]
        scale = WAITING.std()  # parameters are compared in standardised units

        def change(a, b):
            return np.sqrt(
                np.sum((a.weights - b.weights) ** 2)
                + np.sum(((a.means - b.means) / scale) ** 2)
                + np.sum(((a.variances - b.variances) / scale**2) ** 2)
            )

        assert change(steps[2], steps[1]) < tol <= change(steps[1], steps[0])
        return
    first = 2 if stop == "aitken" else 1
    assert holds(len(ll) - 1)
    assert not any(holds(t) for t in range(first, len(ll) - 1))


@pytest.mark.plain_python
def test_rate_is_the_last_aitken_ratio_of_the_trace():
    start = dict(weights_init=[0.5, 0.5], means_init=[50.0, 70.0], variances_init=[40.0, 40.0])
    result = fastem.fit(WAITING, 2, trace=True, **start, **EM)
    ll = result.trace[0, : result.n_iter]  # the one restart's trace
    assert result.rate == pytest.approx((ll[-1] - ll[-2]) / (ll[-2] - ll[-3]), rel=1e-6)
    assert 0 < result.rate < 1
    two = fastem.fit(WAITING, 2, max_iter=2, tol=0, **start, **EM)
    assert np.isnan(fastem.fit(WAITING, 2, max_iter=1, tol=0, **start, **EM).rate)
    assert np.isnan(two.rate)


@pytest.mark.plain_python
def test_bad_algorithm_or_rule_is_refused():
    with pytest.raises(ValueError, match="algorithm='squaremm' is not one of"):
        fastem.fit(WAITING, 2, algorithm="squaremm", stop="loglik")
    with pytest.raises(ValueError, match="stop='aitkin' is not one of"):
        fastem.fit(WAITING, 2, stop="aitkin", algorithm="em")


@pytest.mark.plain_python
@pytest.mark.parametrize("algorithm", ["em", "squarem"])
def test_aitken_stops_a_fit_whose_log_likelihood_no_longer_changes(algorithm):
    # One component: EM's first step is the maximum, and the log-likelihood stays put.
    result = fastem.fit(WAITING, 1, algorithm=algorithm, stop="aitken", max_iter=200)
    assert result.converged and result.n_iter < 5


@pytest.mark.plain_python
def test_the_relative_rule_is_mclusts_near_a_log_likelihood_of_zero():
    # mclust's err = |l_t - l_{t-1}| / (1 + |l_t|) does not blow up as l_t nears 0.
    start = dict(weights_init=[0.5, 0.5], means_init=[50.0, 70.0], variances_init=[40.0, 40.0])
    fits = [
        fastem.fit(
            WAITING * scale,
            2,
            stop="relative",
            trace=True,
            **{k: np.asarray(v) * f for (k, v), f in zip(start.items(), (1.0, scale, scale**2))},
            algorithm="em",
        )
        for scale in (1.0, 0.0165)
    ]  # the second has a log-likelihood near 0
    for result in fits:
        ll = result.trace[0, : result.n_iter]
        err = np.abs(np.diff(ll)) / (1 + np.abs(ll[1:]))
        assert err[-1] < 1e-5 and (err[:-1] >= 1e-5).all()
