"""Starting values: valid for every dataset, seeded, thread-count invariant, as documented."""

import dataclasses
import json
import subprocess
import sys

import numba
import numpy as np
import pytest

import fastem
from fastem import checks as _validate
from fastem import init as strategies
from fastem.init import _plan, _registry
from fastem.model import Model

pytestmark = pytest.mark.plain_python

METHODS = ["kmeans++", "random_from_data", "kmeans", "quantile", "random", "emem", "hc", "rndem"]
METHODS_MARKED = [
    pytest.param(method, marks=pytest.mark.slow_as_python) if method in ("emem", "hc") else method
    for method in METHODS
]
"""METHODS, those whose starts take many seconds as plain Python (emEM's short runs, the
hierarchical clustering) marked so."""
# rndem's 200 candidates per restart by default would take minutes in plain Python.
PARAMS = {"rndem": {"n_candidates": 4}}


def _ragged():
    rng = np.random.default_rng(77)
    sizes = [5, 40, 300, 3, 1000, 17]
    return [rng.normal(rng.uniform(-50, 50), rng.uniform(0.1, 10), n) for n in sizes] + [
        np.full(10, 2.0),  # constant
        np.array([0.0, 0.0, 0.0, 1.0, 1.0]),  # fewer distinct values than components
    ]


@pytest.mark.parametrize("method", METHODS_MARKED)
def test_starting_values_are_valid(method):
    data = _ragged()
    weights, means, variances, _ = fastem.starting_values(
        data, 3, init=method, n_init=4, random_state=1, init_params=PARAMS.get(method)
    )
    assert weights.shape == means.shape == variances.shape == (len(data), 4, 3)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, rtol=1e-14)
    assert (weights > 0).all()
    assert (variances > 0).all() and np.isfinite(variances).all()
    assert np.isfinite(means).all()
    if method != "random":  # mixtools draws means from normals around the blocks
        for d, x in enumerate(data):
            assert (means[d] >= x.min() - 1e-9 * (1 + abs(x.min()))).all()
            assert (means[d] <= x.max() + 1e-9 * (1 + abs(x.max()))).all()


@pytest.mark.parametrize("method", METHODS_MARKED)
def test_starting_values_are_reproducible_and_thread_invariant(method):
    data = _ragged()
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = fastem.starting_values(
            data, 3, init=method, n_init=5, random_state=9, init_params=PARAMS.get(method)
        )
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        many = fastem.starting_values(
            data, 3, init=method, n_init=5, random_state=9, init_params=PARAMS.get(method)
        )
    finally:
        numba.set_num_threads(threads)
    for a, b in zip(one, many):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("method", ["kmeans++", "random_from_data", "random", "emem", "rndem"])
def test_random_strategies_differ_between_restarts_and_seeds(method):
    x = np.random.default_rng(3).normal(size=500)
    params = PARAMS.get(method)
    means = fastem.starting_values(
        x, 2, init=method, n_init=3, random_state=0, init_params=params
    ).means
    assert means.shape == (3, 2)  # one 1D dataset: (n_init, K)
    assert len({tuple(m) for m in means}) == 3
    other = fastem.starting_values(
        x, 2, init=method, n_init=3, random_state=1, init_params=params
    ).means
    assert not np.array_equal(means, other)


@pytest.mark.slow_as_python
def test_each_strategy_has_its_own_function():
    x = np.random.default_rng(4).normal(size=(3, 200))
    for name, method in [
        ("kmeans_plusplus", "kmeans++"),
        ("random_from_data", "random_from_data"),
        ("kmeans", "kmeans"),
        ("quantile", "quantile"),
        ("random", "random"),
        ("emem", "emem"),
        ("hc", "hc"),
        ("rndem", "rndem"),
    ]:
        params = PARAMS.get(method, {})
        direct = getattr(strategies, name)(x, 3, n_init=2, random_state=5, **params)
        dispatched = fastem.starting_values(
            x, 3, init=method, n_init=2, random_state=5, init_params=params or None
        )
        for a, b in zip(direct, dispatched):
            np.testing.assert_array_equal(a, b)


def test_quantile_blocks_are_deterministic():
    x = np.arange(12.0)
    weights, means, variances, _ = strategies.quantile(x, 3, n_init=2)
    np.testing.assert_allclose(means[0], [1.5, 5.5, 9.5], rtol=1e-14)
    np.testing.assert_array_equal(means[0], means[1])
    np.testing.assert_allclose(weights[0], [1 / 3] * 3)
    np.testing.assert_allclose(variances[0], [1.25] * 3)


def test_kmeans_plusplus_finds_separated_clusters():
    # Seeds drawn proportionally to squared distance land in distinct clusters almost
    # always; with these seeds they do every time.
    rng = np.random.default_rng(5)
    x = np.concatenate([rng.normal(c, 0.1, 100) for c in (-10.0, 0.0, 10.0)])
    means = strategies.kmeans_plusplus(x, 3, n_init=20, random_state=2).means
    np.testing.assert_allclose(means, [[-10.0, 0.0, 10.0]] * 20, atol=0.05)


def test_kmeans_reaches_a_lloyd_fixed_point():
    rng = np.random.default_rng(6)
    x = np.concatenate([rng.normal(c, 1.0, 150) for c in (-4.0, 0.0, 5.0)])
    weights, means, variances, _ = strategies.kmeans(x, 3, n_init=5, random_state=0)
    for r in range(5):
        centers = means[r]
        nearest = np.argmin(np.abs(x[:, None] - centers), axis=1)
        for k in range(3):
            members = x[nearest == k]
            assert centers[k] == pytest.approx(members.mean(), rel=1e-12, abs=1e-12)
            assert variances[r, k] == pytest.approx(members.var(), rel=1e-10)
            assert weights[r, k] == pytest.approx(members.size / x.size, rel=1e-14)


@pytest.mark.slow_as_python
def test_mixtools_random_draws_around_the_blocks():
    # Over 4,000 restarts: weights are normalised uniforms (mean 1/K), means are normal
    # draws centred on the block means (their median sits there). The blocks lie far
    # apart, so that sorting the components by mean rarely swaps two draws.
    x = np.concatenate([np.linspace(0.0, 1.0, 200), np.linspace(10.0, 11.0, 200)])
    weights, means, variances, _ = strategies.random(x, 2, n_init=4000, random_state=3)
    np.testing.assert_allclose(weights.mean(axis=0), [0.5, 0.5], atol=0.02)
    np.testing.assert_allclose(np.median(means, axis=0), [0.5, 10.5], atol=0.05)
    # sd = s_block / E with E ~ Exp(1): its median is s_block / log(2).
    expected = x[:200].std() / np.log(2.0)
    assert np.median(np.sqrt(variances[:, 0])) == pytest.approx(expected, rel=0.05)
    equal = strategies.random(x, 2, n_init=10, random_state=3, equal_variance=True).variances
    np.testing.assert_array_equal(equal[:, 0], equal[:, 1])


def test_emem_starts_from_the_best_short_run():
    x = np.random.default_rng(8).normal(size=300) + np.repeat([0.0, 4.0], 150)
    start = strategies.emem(x, 2, n_runs=7, n_iter=4, random_state=11)
    np.testing.assert_array_equal(start.n_iter, [28])
    # With one restart, short run j draws from stream (11, 0, j): the same as restart j
    # of a plain fit with 7 restarts of 4 iterations.
    short = fastem.fit(
        x,
        2,
        init="random_from_data",
        n_init=7,
        max_iter=4,
        tol=0,
        random_state=11,
        return_restarts=True,
        algorithm="em",
    )
    best = short.best_restart
    np.testing.assert_allclose(start.means[0], short.restart_means[best], rtol=1e-14)
    np.testing.assert_allclose(start.variances[0], short.restart_variances[best], rtol=1e-14)


def test_zero_weight_points_are_absent_points():
    rng = np.random.default_rng(9)
    x = rng.normal(size=60)
    keep = rng.random(60) < 0.7
    weight = keep.astype(float)
    for method in METHODS:
        n_init = 1 if method in _registry.DETERMINISTIC else 3
        with_zeros = fastem.starting_values(
            x,
            3,
            init=method,
            n_init=n_init,
            random_state=2,
            sample_weight=weight,
            init_params=PARAMS.get(method),
        )
        dropped = fastem.starting_values(
            x[keep], 3, init=method, n_init=n_init, random_state=2, init_params=PARAMS.get(method)
        )
        for a, b in zip(with_zeros, dropped):
            np.testing.assert_allclose(a, b, rtol=1e-12, err_msg=method)


@pytest.mark.parametrize(
    "method", ["quantile", "random", "random_from_data", "kmeans++", "kmeans", "hc", "rndem"]
)
def test_integer_weights_start_where_the_repeated_points_start(method):
    # A point of weight w is w copies of it (np.repeat order), for the draws of the random
    # strategies and the blocks of "quantile" and "random" alike; only the rounding of
    # sums differs.
    # The two are different data to the seeding (a dataset's key hashes its values and
    # weights), so both are drawn here from one stream, that of the weighted points.
    rng = np.random.default_rng(70)
    strategy, options = _registry.checked(method, PARAMS.get(method))
    for case in range(60):
        x = rng.normal(size=int(rng.integers(5, 40)))
        counts = rng.integers(1, 4, size=x.size)
        k = int(rng.integers(1, 4))
        weighted = _validate.prepared_batch(x, counts.astype(float), k)
        repeated = dataclasses.replace(
            _validate.prepared_batch(np.repeat(x, counts), None, k), keys=weighted.keys
        )
        model = Model(k)
        starts = [
            _plan.starting_values(
                strategy, options, batch, model, 2, _validate.Seed(case), _validate.NOTHING_GIVEN
            )
            for batch in (weighted, repeated)
        ]
        for a, b in zip(*starts):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14, err_msg=f"case {case}")


def test_quantile_blocks_share_a_point_across_a_boundary():
    # [0, 1, 1, 2] in two blocks is [0, 1] and [1, 2]: the point 1 of weight 2 is split.
    start = strategies.quantile([0.0, 1.0, 2.0], 2, sample_weight=[1.0, 2.0, 1.0])
    np.testing.assert_allclose(start.means, [[0.5, 1.5]], rtol=1e-15)
    np.testing.assert_allclose(start.weights, [[0.5, 0.5]], rtol=1e-15)


_PEAK_MEMORY_SCRIPT = """
import json, resource, sys
import numpy as np
import fastem

rng = np.random.default_rng(12)
x = rng.normal(np.repeat([-6.0, 0.0, 6.0], 3_333_334), 1.0)  # 80 MB
growth = {}
for method in sys.argv[1:]:
    fastem.starting_values(x[:1000], 3, init=method, n_init=2, random_state=0)  # compiled
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    fastem.starting_values(x, 3, init=method, n_init=2, random_state=0)
    growth[method] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(json.dumps(growth))
"""


@pytest.mark.skipif(numba.config.DISABLE_JIT, reason="ten million points in plain Python")
def test_starting_values_need_no_memory_of_the_size_of_the_data():
    # Two fits of 10**7 points at once: a scratch array per point and fit (a standardised
    # copy, masses, an argsort) would raise the peak RSS by 76 MiB or more each; without,
    # the peak stays where the data put it (the kernel's scratch is O(K) per fit).
    # ru_maxrss is in KiB on Linux; each strategy's growth shows, as the ones before grew
    # the peak by nothing.
    result = subprocess.run(
        [sys.executable, "-c", _PEAK_MEMORY_SCRIPT, *METHODS[:5]],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    growth_kib = json.loads(result.stdout.splitlines()[-1])
    assert max(growth_kib.values()) < 20 * 1024, growth_kib
