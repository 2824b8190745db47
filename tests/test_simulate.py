"""Batched simulation: shapes, seeding, and the distribution it samples."""

import numpy as np
import pytest
from scipy import stats

import fastem

pytestmark = pytest.mark.plain_python

W, M, V = [0.4, 0.6], [-2.5, 3.5], [4.0, 4.0]


def test_shapes_and_labels():
    x, z = fastem.simulate(W, M, V, 40, 100, random_state=0)
    assert x.shape == z.shape == (100, 40)
    assert set(np.unique(z)) == {0, 1}
    x1, z1 = fastem.simulate(W, M, V, 25, random_state=0)
    assert x1.shape == z1.shape == (25,)
    ragged, labels = fastem.simulate(W, M, V, np.array([3, 10, 7]), 3, random_state=0)
    assert [len(a) for a in ragged] == [3, 10, 7] == [len(a) for a in labels]


def test_seeded_per_dataset():
    a, _ = fastem.simulate(W, M, V, 30, 50, random_state=4)
    b, _ = fastem.simulate(W, M, V, 30, 10, random_state=4)
    c, _ = fastem.simulate(W, M, V, 30, 10, random_state=5)
    np.testing.assert_array_equal(a[:10], b)
    assert not np.array_equal(b, c)


def test_per_dataset_parameters():
    means = np.array([[-100.0, 100.0], [0.0, 1000.0]])
    x, z = fastem.simulate(W, means, [1e-6, 1e-6], 200, 2, random_state=1)
    np.testing.assert_allclose(x, means[np.arange(2)[:, None], z], atol=0.01)


@pytest.mark.slow_as_python
def test_samples_follow_the_mixture():
    # Kolmogorov-Smirnov test of 200,000 pooled points against the mixture's CDF; the
    # seed is fixed, and at this level a correct sampler fails one seed in a thousand.
    x, z = fastem.simulate(W, M, V, 1000, 200, random_state=12345)

    def cdf(t):
        return sum(w * stats.norm.cdf(t, m, np.sqrt(v)) for w, m, v in zip(W, M, V))

    assert stats.kstest(x.ravel(), cdf).pvalue > 1e-3
    # The labels: a binomial test of the share of component 0.
    assert stats.binomtest(int((z == 0).sum()), z.size, 0.4).pvalue > 1e-3


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(weights=[0.5, 0.6]), "sum to 1"),
        (dict(variances=[1.0, -1.0]), "positive"),
        (dict(means=[0.0, 1.0, 2.0]), "same number of components"),
        (dict(n_samples=0), "at least 1"),
    ],
)
def test_bad_parameters(kwargs, match):
    args = dict(weights=W, means=M, variances=V, n_samples=10, n_datasets=2) | kwargs
    with pytest.raises(ValueError, match=match):
        fastem.simulate(**args)


def test_chunks_with_dataset_offset_equal_the_whole():
    whole, labels = fastem.simulate(W, M, V, 25, 40, random_state=6)
    part, part_labels = fastem.simulate(W, M, V, 25, 15, random_state=6, dataset_offset=20)
    np.testing.assert_array_equal(part, whole[20:35])
    np.testing.assert_array_equal(part_labels, labels[20:35])


class _Measured(Exception):
    pass


@pytest.mark.parametrize("per_dataset", [False, True])
def test_the_memory_a_simulation_needs_grows_with_its_datasets_not_their_square(
    monkeypatch, per_dataset
):
    # The check is asked for the values and labels (16 bytes a point) and the mixtures
    # (24 bytes a component of each dataset), whether the mixture is given once or once
    # per dataset; the draw is stopped at the check.
    from fastem.toolkit import simulation

    asked = []

    def measure(n_bytes, *args):
        asked.append(n_bytes)
        raise _Measured

    monkeypatch.setattr(simulation._validate, "check_memory", measure)
    n_datasets = 30_000
    means = np.tile(M, (n_datasets, 1)) if per_dataset else M
    with pytest.raises(_Measured):
        fastem.simulate(W, means, V, 10, n_datasets, random_state=0)
    assert asked == [16.0 * 10 * n_datasets + 24.0 * n_datasets * 2]
