"""Quasi-Newton acceleration of EM (Zhou, Alexander & Lange 2011), as R turboEM's ``qn``,
in SQUAREM's coordinates (:mod:`.squarem`), where every point is a valid mixture.

EM's map ``F`` has its fixed point where ``G(theta) = theta - F(theta)`` vanishes. The
method approximates ``dF`` near the fixed point by the secants of the last ``q`` steps,
``u_i = F(theta_i) - theta_i`` and ``v_i = F(F(theta_i)) - F(theta_i)``, the columns of
``U`` and ``V``, and takes the quasi-Newton point

    theta' = F(theta) - V (U^T (U - V))^{-1} U^T (theta - F(theta)),

turboEM's formula, ``q = 2`` its default number of secants. Every vector is a linear
combination of differences of EM maps, which leave fixed parameters, and equal variances,
as they are: so does ``theta'``.
"""

from __future__ import annotations

import math

from .jit import jit
from .squarem import all_coordinates, stabilise

SECANTS = 2
"""The number of secants ``q`` (turboEM's default ``qn = 2``)."""


@jit
def solve(system, m):
    """Solves ``A c = b`` in place for the ``m x m`` matrix ``A = system[:m, :m]`` and
    ``b = system[:m, m]``, leaving ``c`` in ``system[:m, m]``: Gaussian elimination with
    partial pivoting, written out (no LAPACK, whose code, and so bits, depend on the CPU).
    False when ``A`` is singular or a value is not finite."""
    for i in range(m):
        pivot = i
        for row in range(i + 1, m):
            if abs(system[row, i]) > abs(system[pivot, i]):
                pivot = row
        if not (system[pivot, i] != 0.0 and math.isfinite(system[pivot, i])):
            return False
        for column in range(m + 1):
            held = system[i, column]
            system[i, column] = system[pivot, column]
            system[pivot, column] = held
        for row in range(i + 1, m):
            factor = system[row, i] / system[i, i]
            for column in range(i, m + 1):
                system[row, column] -= factor * system[i, column]
    for i in range(m - 1, -1, -1):
        total = system[i, m]
        for column in range(i + 1, m):
            total -= system[i, column] * system[column, m]
        system[i, m] = total / system[i, i]
    return math.isfinite(system[0, m])


@jit
def quasi_newton_step(
    x,
    point_weight,
    center,
    inv_scale,
    weights,
    means,
    variances,
    options,
    statistics,
    per_component,
    dev,
    dens,
    per_point,
    saved,
    coords,
    secants,
    system,
    n_secants,
    fixed_weights,
    start_log_likelihood,
    e_step,
    e_step_far,
):
    """From ``theta_0, theta_1 = F(theta_0), theta_2 = F(theta_1)`` in ``saved``
    (``theta_2`` also in place): adds the secant ``(theta_1 - theta_0, theta_2 -
    theta_1)`` to ``secants`` (shape (2, SECANTS, 3, K): ``U``'s and ``V``'s columns, the
    newest replacing the oldest), takes the quasi-Newton point from the last ``SECANTS``
    of them (fewer in the first steps) and its stabilising map (:func:`.squarem.stabilise`:
    ``F(theta')`` when ``theta'`` is valid and not below ``theta_0``'s log-likelihood,
    else ``theta_2``). ``system`` (SECANTS, SECANTS + 1) is scratch. Returns
    ``(n_secants, maps)``: the secants taken so far and the EM maps run (0 or 1)."""
    n_components = means.size
    if not all_coordinates(saved, fixed_weights, coords):
        return n_secants, 0
    newest = n_secants % SECANTS
    for row in range(3):
        for k in range(n_components):
            secants[0, newest, row, k] = coords[1, row, k] - coords[0, row, k]
            secants[1, newest, row, k] = coords[2, row, k] - coords[1, row, k]
    n_secants += 1
    m = min(n_secants, SECANTS)
    # U^T (U - V) and U^T (theta_0 - theta_1), sums in a fixed order.
    for i in range(m):
        for j in range(m):
            total = 0.0
            for row in range(3):
                for k in range(n_components):
                    total += secants[0, i, row, k] * (secants[0, j, row, k] - secants[1, j, row, k])
            system[i, j] = total
        total = 0.0
        for row in range(3):
            for k in range(n_components):
                total += secants[0, i, row, k] * (coords[0, row, k] - coords[1, row, k])
        system[i, m] = total
    if not solve(system, m):
        return n_secants, 0  # theta_2, EM's step
    # theta' = theta_1 - V c, in coords[0] (theta_0's coordinates are no longer needed).
    for row in range(3):
        for k in range(n_components):
            total = 0.0
            for j in range(m):
                total += secants[1, j, row, k] * system[j, m]
            coords[0, row, k] = coords[1, row, k] - total
    _, maps = stabilise(
        x,
        point_weight,
        center,
        inv_scale,
        weights,
        means,
        variances,
        options,
        statistics,
        per_component,
        dev,
        dens,
        per_point,
        saved,
        coords[0],
        fixed_weights,
        start_log_likelihood,
        e_step,
        e_step_far,
    )
    return n_secants, maps
