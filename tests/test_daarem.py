"""DAAREM (fit's algorithm="daarem"): its maxima, monotone steps, constraints, exactness,
its small linear algebra, and R's daarem from the same starts."""

from pathlib import Path

import numpy as np
import pytest

from fastem import reference

DATA = Path(__file__).parent / "data"
WAITING = np.loadtxt(DATA / "faithful.csv", skiprows=1, delimiter=",")[:, 1]


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
