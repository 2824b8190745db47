"""The hand-written exp against an extended-precision reference over the whole range the
kernels can meet, and the machine-independent reductions."""

import math

import numba
import numpy as np
import pytest

from fastem.engine import lanes as _lanes
from fastem.engine import vmath as _vmath

pytestmark = pytest.mark.exact

# Documented in _vmath: within 4.4e-16 relative of the exact value (2 units in the last
# place) down to LOWEST, exactly 0 below.
MAX_RELATIVE_ERROR = 4.4e-16


def _exact_exp(x):
    """``exp`` in x87 extended precision (64-bit mantissa, relative error near 1e-19):
    the yardstick. NumPy's float64 ``np.exp`` is no yardstick: on CPUs with AVX-512 it
    runs an implementation of its own that is itself off by up to 1.3e-16."""
    assert np.finfo(np.longdouble).eps < 1e-18, "needs an extended-precision long double"
    return np.exp(np.asarray(x, dtype=np.longdouble))


def _exp(values):
    out = np.array(values, dtype=np.float64)
    total = np.zeros_like(out)
    _vmath.exp_shifted(out, np.zeros_like(out), total, out.size)
    np.testing.assert_array_equal(total, out)
    return out


def test_relative_error_over_the_whole_range():
    rng = np.random.default_rng(0)
    x = -np.concatenate(
        [
            np.linspace(0.0, -_vmath.LOWEST, 3_000_001),
            rng.uniform(0.0, 1.0, 500_000),
            -_vmath.LOWEST * rng.random(500_000),
            [0.0, 5e-324, 1e-300, 1e-16, 0.5 * np.log(2.0), np.log(2.0)],
        ]
    )
    x = x[x > _vmath.LOWEST]
    ours, exact = _exp(x), _exact_exp(x)
    relative = np.abs(ours.astype(np.longdouble) - exact) / exact
    assert relative.max() <= MAX_RELATIVE_ERROR
    assert _exp([0.0])[0] == 1.0


def test_below_the_range_is_exactly_zero():
    x = np.array([_vmath.LOWEST - 1e-9, -709.0, -745.2, -1e300, -np.inf])
    np.testing.assert_array_equal(_exp(x), 0.0)


@pytest.mark.parametrize("m", [1, 3, 4, 5, 17, 256])
def test_partial_blocks(m):
    x = -np.linspace(0.0, 30.0, 300)
    out = x.copy()
    _vmath.exp_shifted(out, np.zeros(300), np.zeros(300), m)
    exact = _exact_exp(x[:m])
    assert (np.abs(out[:m].astype(np.longdouble) - exact) <= MAX_RELATIVE_ERROR * exact).all()
    np.testing.assert_array_equal(out[m:], x[m:])


def _documented_order(values, combine, neutral, rows=4):
    """The order of _lanes._vector_reduction, written out: `rows` rows of 8 lanes take the
    whole groups of 8 * rows values, row 0 takes the rest, then rows and lanes pairwise."""
    group = 8 * rows
    table = np.full((rows, 8), neutral).tolist()
    whole = len(values) // group * group
    for j, value in enumerate(values):
        row = (j % group) // 8 if j < whole else 0
        table[row][j % 8] = combine(table[row][j % 8], float(value))
    while len(table) > 1:
        table = [
            [combine(a, b) for a, b in zip(table[r], table[r + 1])] for r in range(0, len(table), 2)
        ]
    lanes = table[0]
    return combine(
        combine(combine(lanes[0], lanes[1]), combine(lanes[2], lanes[3])),
        combine(combine(lanes[4], lanes[5]), combine(lanes[6], lanes[7])),
    )


@pytest.mark.plain_python
@pytest.mark.parametrize("n", [8, 16, 32, 40, 96, 256, 1024])
def test_lane_sums_follow_the_order_they_document(n):
    rng = np.random.default_rng(n)
    values = rng.normal(size=n) * 10.0 ** rng.integers(-8, 8, size=n)
    factors = rng.uniform(0.5, 2.0, size=n)
    assert _lanes.lane_sum(values, n) == _documented_order(values, float.__add__, 0.0)
    assert _lanes.lane_product(factors, n) == _documented_order(factors, float.__mul__, 1.0)
    # Moments: r, r d, r d d in the same order, with r given or formed as e * f.
    dev = rng.normal(size=n)
    resp = values * factors
    moments = tuple(
        _documented_order(terms, float.__add__, 0.0, rows=2)
        for terms in (resp, resp * dev, resp * dev * dev)
    )
    assert _lanes.lane_moments(resp, dev, n) == moments
    assert _lanes.lane_product_moments(values, factors, dev, n) == moments
    # Only the first n values count.
    assert _lanes.lane_sum(np.append(values, 1e300), n) == _lanes.lane_sum(values, n)


@pytest.mark.skipif(numba.config.DISABLE_JIT, reason="plain Python rounds a * b + c twice")
def test_fma_rounds_once():
    # 1 + 2**-52 squared is 1 + 2**-51 + 2**-104: the last term survives only in a fused
    # multiply-add; rounded twice, a * a - (1 + 2**-51) is 0.
    a = 1.0 + 2.0**-52
    assert _lanes.fma(a, a, -(1.0 + 2.0**-51)) == 2.0**-104
    assert _lanes.fma(2.0, 3.0, 1.0) == 7.0


def test_log_matches_the_c_library():
    values = np.array([1e-300, 0.5, 1.0, 2.0, 10.0, 1e300])
    np.testing.assert_array_equal(_vmath.log(values), [math.log(v) for v in values])
    assert _vmath.log(np.ones((2, 3))).shape == (2, 3)
