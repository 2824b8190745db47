"""Starting values: valid for every dataset, seeded, thread-count invariant."""

import numba
import numpy as np
import pytest

import fastem

METHODS = ["kmeans++", "random_from_data", "quantile"]


def _ragged():
    rng = np.random.default_rng(77)
    sizes = [5, 40, 300, 3, 1000, 17]
    return [rng.normal(rng.uniform(-50, 50), rng.uniform(0.1, 10), n) for n in sizes] + [
        np.full(10, 2.0),  # constant
        np.array([0.0, 0.0, 0.0, 1.0, 1.0]),  # fewer distinct values than components
    ]


@pytest.mark.parametrize("method", METHODS)
def test_starting_values_are_valid(method):
    data = _ragged()
    weights, means, variances = fastem.starting_values(
        data, 3, init=method, n_init=4, random_state=1
    )
    assert weights.shape == means.shape == variances.shape == (len(data), 4, 3)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, rtol=1e-14)
    assert (weights > 0).all()
    assert (variances > 0).all() and np.isfinite(variances).all()
    for d, x in enumerate(data):
        assert (means[d] >= x.min() - 1e-9 * (1 + abs(x.min()))).all()
        assert (means[d] <= x.max() + 1e-9 * (1 + abs(x.max()))).all()


@pytest.mark.parametrize("method", METHODS)
def test_starting_values_are_reproducible_and_thread_invariant(method):
    data = _ragged()
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = fastem.starting_values(data, 3, init=method, n_init=5, random_state=9)
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        many = fastem.starting_values(data, 3, init=method, n_init=5, random_state=9)
    finally:
        numba.set_num_threads(threads)
    for a, b in zip(one, many):
        np.testing.assert_array_equal(a, b)


def test_random_strategies_differ_between_restarts_and_seeds():
    x = np.random.default_rng(3).normal(size=500)
    for method in ("kmeans++", "random_from_data"):
        _, means, _ = fastem.starting_values(x, 2, init=method, n_init=3, random_state=0)
        assert len({tuple(m) for m in means[0]}) == 3
        _, other, _ = fastem.starting_values(x, 2, init=method, n_init=3, random_state=1)
        assert not np.array_equal(means, other)


def test_quantile_blocks_are_deterministic():
    x = np.arange(12.0)
    weights, means, variances = fastem.starting_values(x, 3, init="quantile", n_init=2)
    np.testing.assert_allclose(means[0, 0], [1.5, 5.5, 9.5], rtol=1e-14)
    np.testing.assert_array_equal(means[0, 0], means[0, 1])
    np.testing.assert_allclose(weights[0, 0], [1 / 3] * 3)
    np.testing.assert_allclose(variances[0, 0], [1.25] * 3)


def test_kmeans_plusplus_finds_separated_clusters():
    # Seeds drawn proportionally to squared distance land in distinct clusters almost
    # always; with these seeds they do every time.
    rng = np.random.default_rng(5)
    x = np.concatenate([rng.normal(c, 0.1, 100) for c in (-10.0, 0.0, 10.0)])
    _, means, _ = fastem.starting_values(x, 3, n_init=20, random_state=2)
    np.testing.assert_allclose(np.sort(means[0], axis=-1), [[-10.0, 0.0, 10.0]] * 20, atol=0.05)
