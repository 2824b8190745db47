"""Shared, seeded test data. Every random number in the tests comes from a fixed seed."""

from __future__ import annotations

import numba
import numpy as np
import pytest


def pytest_configure(config):
    if numba.config.DISABLE_JIT:
        # Run as Python, the kernels compute with NumPy scalars, which warn where compiled
        # code silently follows IEEE rules: the random number generator's uint64 arithmetic
        # wraps around by design, and inf - inf in the moments of a dataset holding inf is
        # NaN, which the validation then reports.
        for message in ("overflow encountered in scalar", "invalid value encountered in scalar"):
            config.addinivalue_line("filterwarnings", f"ignore:{message}:RuntimeWarning")


@pytest.hookimpl(tryfirst=True)  # before -m deselects any
def pytest_collection_modifyitems(config, items):
    """Refuse a test marked both ``slow`` and ``plain_python``.

    ``make test`` leaves the slow tests out of every pass, and its plain-Python pass measures
    the coverage that must stay above pyproject.toml's floor: a slow plain-Python test would
    reach lines there in CI (which runs the slow tests) and not locally.
    """
    both = [
        item.nodeid
        for item in items
        if item.get_closest_marker("slow") and item.get_closest_marker("plain_python")
    ]
    if both:
        raise pytest.UsageError(
            f"marked both slow and plain_python: {', '.join(both)}; make test's plain-Python "
            "pass leaves slow tests out, so keep plain_python tests quick (or split the test)"
        )


EM = dict(algorithm="em", stop="loglik")
"""Plain EM with the log-likelihood rule, as the NumPy reference runs it (fit's default is
SQUAREM to the parameter rule): for tests that compare the kernel with the reference."""

# The worked example of the E-step and M-step (two components, five points).
WORKED_X = np.array([0.2, -0.9, -1.0, 1.2, 1.8])
WORKED_START = dict(
    weights_init=np.array([0.5, 0.5]),
    means_init=np.array([-3.0, 2.0]),
    variances_init=np.array([4.0, 4.0]),
)
WORKED_POSTERIOR_1 = np.array([0.29421497, 0.62245933, 0.65135486, 0.10669059, 0.05340333])
WORKED_WEIGHT_1 = 0.3456246183552747
WORKED_MEAN_1 = -0.5373289474340418
WORKED_VARIANCE_1 = 0.5757859076870627
WORKED_MEAN_2 = 0.6811290963725771
# The worked example prints 2.5598879676788537 for the second variance, computed around
# the first component's new mean; around its own mean the M-step gives this value.
WORKED_VARIANCE_2 = 1.0752479631618


def separated_mixture(n_components: int, n_samples: int, seed: int):
    """Data from a mixture with well-separated components, and a start near the truth.

    Returns ``x`` and a dict of starting values (weights_init, means_init, variances_init)
    perturbed away from the truth, so that EM has real work to do.
    """
    rng = np.random.default_rng(seed)
    means = 6.0 * np.arange(n_components) + rng.uniform(-1.0, 1.0, n_components)
    sds = rng.uniform(0.7, 1.5, n_components)
    weights = rng.dirichlet(np.full(n_components, 5.0))
    labels = rng.choice(n_components, size=n_samples, p=weights)
    x = rng.normal(means[labels], sds[labels])
    start = dict(
        weights_init=np.full(n_components, 1.0 / n_components),
        means_init=means + rng.uniform(-1.5, 1.5, n_components),
        variances_init=(sds * rng.uniform(0.6, 1.8, n_components)) ** 2,
    )
    return x, start


@pytest.fixture
def two_component_batch():
    """40 datasets of 200 points from 0.4 N(-2.5, 4) + 0.6 N(3.5, 4), as a 2D array."""
    rng = np.random.default_rng(20181)
    z = rng.random((40, 200)) < 0.4
    return np.where(z, rng.normal(-2.5, 2.0, (40, 200)), rng.normal(3.5, 2.0, (40, 200)))


@pytest.fixture
def three_component_batch():
    """30 datasets of 300 points from a mixture of three well-separated components."""
    rng = np.random.default_rng(30303)
    labels = rng.choice(3, size=(30, 300), p=[0.3, 0.3, 0.4])
    return rng.normal(np.array([-4.0, 0.5, 5.0])[labels], np.array([1.0, 0.8, 1.3])[labels])
