"""The hand-written exp against NumPy's over the whole range the kernels can meet."""

import numpy as np
import pytest

from fastem import _vmath

# Documented in _vmath: within 4.4e-16 relative (2 units in the last place) down to
# LOWEST, exactly 0 below.
MAX_RELATIVE_ERROR = 4.4e-16


def _exp(values):
    out = np.array(values, dtype=np.float64)
    total = np.zeros_like(out)
    _vmath.exp_shifted(out, np.zeros_like(out), total, out.size, np.empty_like(out))
    np.testing.assert_array_equal(total, out)
    return out


def test_relative_error_over_the_whole_range():
    rng = np.random.default_rng(0)
    x = -np.concatenate([
        np.linspace(0.0, -_vmath.LOWEST, 3_000_001),
        rng.uniform(0.0, 1.0, 500_000),
        -_vmath.LOWEST * rng.random(500_000),
        [0.0, 5e-324, 1e-300, 1e-16, 0.5 * np.log(2.0), np.log(2.0)],
    ])
    x = x[x > _vmath.LOWEST]
    ours, exact = _exp(x), np.exp(x)
    relative = np.abs(ours - exact) / exact
    assert relative.max() <= MAX_RELATIVE_ERROR
    assert _exp([0.0])[0] == 1.0


def test_below_the_range_is_exactly_zero():
    x = np.array([_vmath.LOWEST - 1e-9, -709.0, -745.2, -1e300, -np.inf])
    np.testing.assert_array_equal(_exp(x), 0.0)


@pytest.mark.parametrize("m", [1, 3, 4, 5, 17, 256])
def test_partial_blocks(m):
    x = -np.linspace(0.0, 30.0, 300)
    out = x.copy()
    _vmath.exp_shifted(out, np.zeros(300), np.zeros(300), m, np.empty(300))
    np.testing.assert_allclose(out[:m], np.exp(x[:m]), rtol=MAX_RELATIVE_ERROR)
    np.testing.assert_array_equal(out[m:], x[m:])
