"""DAAREM: damped Anderson acceleration of EM's map with restarts (Henderson & Varadhan
2019), one fit's step, with the settings of R's daarem (version 0.7) as its defaults.

Each step takes the current point ``x`` (in :mod:`.squarem`'s coordinates: log weights,
means, log variances), its map's residual ``f = F(x) - x`` and the differences of the last
``m`` points and residuals (the columns of ``X`` and ``F``), and proposes::

    gamma = argmin |f - F gamma|^2 + lambda |gamma|^2
    x'    = x + f - (X + F) gamma

the least-squares coefficients of Anderson acceleration, shrunk by a ridge ``lambda`` so
that ``|gamma| = delta |gamma_ls|`` to within a window (:func:`damping`), where the target
share ``delta^2 = 1 / (1 + alpha^(kappa - s))`` grows with ``s``, the proposals accepted
so far. The history restarts (holds only the newest difference) every ``m`` steps, ``m =
min(order, ceil(p / 2))`` for ``p`` free coordinates, and after a proposal that is not a
valid mixture.

A proposal is mapped once: that pass gives its log-likelihood, and its map ``F(x')``
which the next step needs (:func:`take_pending`), so a step costs one pass. A proposal is
accepted when its log-likelihood is not below the current point's; otherwise the step
is EM's, ``F(x)``.

How this differs from R's daarem, by design: R accepts a proposal whose log-likelihood
is down by up to ``mon.tol = 0.01``; fastem never lowers the log-likelihood between
accepted steps (``mon.tol = 0``). R's cycle check (``cycl.mon.tol``), which lowers ``s``
when a cycle of ``m`` steps ends below where it began, then never fires, and is left
out. A proposal whose map floors a variance or collapses a weight is refused too, and a
floored EM step restarts the history. Fixed parameters and equal variances are honoured
exactly: the coordinates of fixed values are left out of every sum and copied, and equal
variances count as one coordinate whose value every component gets.
"""

from __future__ import annotations

import math

import numpy as np

from .jit import jit
from .mstep import em_map
from .squarem import from_coordinates, to_coordinates
from .stopping import copy_parameters

# R daarem's defaults (control of daarem 0.7): order, alpha, kappa; the ridge's start
# (lambda.ridge) and DampingFind's iterations (maxit).
ORDER = 5
ALPHA = 1.2
KAPPA = 25.0
LAMBDA_START = 100000.0
DAMPING_ITERATIONS = 10

# Rows of the scratch ``vectors`` (each a (3, K) point in the coordinates): the current
# point, its residual, the previous ones, the mask of free coordinates, the proposal, its
# map (the pending pass), then the history's differences.
_X, _F, _X_OLD, _F_OLD, _FREE, _PROPOSAL, _PENDING = 0, 1, 2, 3, 4, 5, 6
_X_DIFF = 7
_F_DIFF = _X_DIFF + ORDER
# The fit's state (``state``): history's length and limit, accepted proposals, ridge
# and its correction, whether x and the previous point are set, the pending pass.
_COUNT, _LAG, _SHRINK, _LAMBDA, _R, _HAS_X, _HAS_OLD, _PENDING_SET = 0, 1, 2, 3, 4, 5, 6, 7
_PENDING_LL, _PENDING_LOG_MAP = 8, 9


@jit
def daarem_scratch(options, n_components, used):
    """DAAREM's work space for one fit, allocated once: ``(vectors, small, packed,
    state)``.

    ``vectors`` is of shape (7 + 2 * ORDER, 3, K) (see the rows above; its mask of free
    coordinates set from ``options``), ``small`` (ORDER, ORDER + 3) the SVD's ``V`` and
    its singular values, ``U^T f`` and ``gamma``, ``packed`` (ORDER + 1, 3 K) the free
    coordinates of the residuals' differences (the SVD's work space) and of ``f``,
    contiguous, ``state`` (10,) the step's scalars. Without ``used`` the arrays are empty
    but for ``state``, whose pending flag stays 0.
    """
    _, equal_variance, fixed_weights, fixed_means, fixed_variances, _ = options
    rows = _F_DIFF + ORDER if used else 0
    vectors = np.zeros((rows, 3, n_components))
    small = np.zeros((ORDER if used else 0, ORDER + 3))
    packed = np.zeros((ORDER + 1 if used else 0, 3 * n_components))
    state = np.zeros(10)
    if used:
        free_weights = 0
        for k in range(n_components):
            free_weights += 0 if fixed_weights[k] else 1
        n_free = 0
        for k in range(n_components):
            # One free weight alone cannot move (the weights sum to 1); equal variances
            # (all fixed or none) are one coordinate, the first component's (-1: a copy).
            vectors[_FREE, 0, k] = 1.0 if free_weights > 1 and not fixed_weights[k] else 0.0
            vectors[_FREE, 1, k] = 0.0 if fixed_means[k] else 1.0
            if fixed_variances[k]:
                vectors[_FREE, 2, k] = 0.0
            else:
                vectors[_FREE, 2, k] = -1.0 if equal_variance and k > 0 else 1.0
            for row in range(3):
                n_free += 1 if vectors[_FREE, row, k] > 0.0 else 0
        state[_LAG] = max(1, min(ORDER, (n_free + 1) // 2))
        state[_LAMBDA] = LAMBDA_START
    return vectors, small, packed, state


@jit
def _dot(a, b):
    """``sum a b`` over two vectors, in a fixed order."""
    total = 0.0
    for i in range(a.size):
        total += a[i] * b[i]
    return total


@jit
def jacobi_svd(a, v, d):
    """The thin SVD ``A = U diag(d) V^T`` of the matrix whose columns are the rows of ``a``
    (m, n), by one-sided Jacobi rotations (Hestenes 1958).

    On return ``a[j]`` holds ``d_j U_j``, ``v`` (m, m) holds ``V`` and ``d`` (m,) the
    singular values, in no particular order; a zero column gives ``d_j = 0``. Written in
    loops, not LAPACK, whose bits differ by CPU. Rotations stop when every pair of
    columns is orthogonal to within 1e-15 of their norms' product (a few sweeps for the
    at most 5 columns here), so ``d`` carries relative errors of a few units of the last
    place times the columns' condition.
    """
    m = v.shape[0]
    for i in range(m):
        for j in range(m):
            v[i, j] = 1.0 if i == j else 0.0
    for _ in range(60):
        rotated = False
        for i in range(m - 1):
            for j in range(i + 1, m):
                alpha = _dot(a[i], a[i])
                beta = _dot(a[j], a[j])
                gamma = _dot(a[i], a[j])
                if abs(gamma) <= 1e-15 * math.sqrt(alpha * beta):
                    continue
                rotated = True
                zeta = (beta - alpha) / (2.0 * gamma)
                t = math.copysign(1.0, zeta) / (abs(zeta) + math.sqrt(1.0 + zeta * zeta))
                c = 1.0 / math.sqrt(1.0 + t * t)
                s = c * t
                for k in range(a.shape[1]):
                    ai, aj = a[i, k], a[j, k]
                    a[i, k] = c * ai - s * aj
                    a[j, k] = s * ai + c * aj
                for r in range(m):
                    vi, vj = v[r, i], v[r, j]
                    v[r, i] = c * vi - s * vj
                    v[r, j] = s * vi + c * vj
        if not rotated:
            break
    for j in range(m):
        d[j] = math.sqrt(_dot(a[j], a[j]))


@jit
def damping(uy_sq, d, shrink, ftf, lambda_start, r_start):
    """The ridge ``lambda`` that shrinks the least-squares coefficients to a target share of
    their norm, and its correction for the next step: ``(lambda, r)``.

    R daarem's DampingFind: Newton's iterations on ``phi(lambda) = |gamma(lambda)| - v``,
    ``v = delta |gamma_ls|``, ``delta = (1 + alpha^(kappa - shrink))^(-1/2)``, safeguarded
    by bounds, until the share lies between its values at ``shrink`` minus and plus 1/2,
    at most ten iterations. ``uy_sq`` holds ``(U^T f)^2`` and ``d`` the singular values
    (zero ones are left out). A start outside the bounds (or not a number) starts from
    their geometric mean.
    """
    power = KAPPA - shrink
    target = math.exp(-0.5 * math.log1p(ALPHA**power))
    norm_sq = 0.0
    curvature = 0.0
    for j in range(d.size):
        if d[j] > 0.0:
            norm_sq += uy_sq[j] / (d[j] * d[j])
            curvature += uy_sq[j] / (d[j] ** 4)
    norm = math.sqrt(norm_sq)
    vk = target * norm
    if vk == 0.0:
        # No least-squares direction: the ridge does not matter.
        return lambda_start, r_start
    lam = lambda_start - r_start / vk
    low = norm * (norm - vk) / curvature
    high = ftf / vk
    low_stop = math.exp(-0.5 * math.log1p(ALPHA ** (power + 0.5)))
    high_stop = math.exp(-0.5 * math.log1p(ALPHA ** (power - 0.5)))
    s_norm = 0.0
    ratio = 0.0
    for _ in range(DAMPING_ITERATIONS):
        if not (low < lam < high):
            lam = max(1e-4 * high, math.sqrt(low * high))
        s_sq = 0.0
        derivative = 0.0
        for j in range(d.size):
            if d[j] > 0.0:
                shrunk = (d[j] / (d[j] * d[j] + lam)) ** 2
                s_sq += uy_sq[j] * shrunk
                derivative += uy_sq[j] * shrunk / (d[j] * d[j] + lam)
        s_norm = math.sqrt(s_sq)
        phi = s_norm - vk
        ratio = phi / (-derivative / s_norm)
        if low_stop * norm <= s_norm <= high_stop * norm:
            break
        if phi < 0.0:
            high = lam
        low = max(low, lam - ratio)
        lam = lam - s_norm * ratio / vk
    return lam, s_norm * ratio


@jit
def _propose(vectors, small, packed, state):
    """Anderson's damped proposal ``x + f - (X + F) gamma`` from the history's first
    ``count`` columns, into ``vectors[_PROPOSAL]``; updates the ridge in ``state``."""
    count = int(state[_COUNT])
    free, f = vectors[_FREE], vectors[_F]
    n_free = 0
    for row in range(3):
        for k in range(f.shape[1]):
            if free[row, k] > 0.0:
                for j in range(count):
                    packed[j, n_free] = vectors[_F_DIFF + j, row, k]
                packed[ORDER, n_free] = f[row, k]
                n_free += 1
    work, f_free = packed[:count, :n_free], packed[ORDER, :n_free]
    v = small[:count, :count]
    d, uy, gamma = small[:count, ORDER], small[:count, ORDER + 1], small[:count, ORDER + 2]
    jacobi_svd(work, v, d)
    ftf_sq = 0.0
    for j in range(count):
        # U_j^T f, with U_j = work[j] / d_j; a zero singular value takes no part.
        uy[j] = _dot(work[j], f_free) / d[j] if d[j] > 0.0 else 0.0
        ftf_sq += uy[j] * uy[j] * d[j] * d[j]
    uy_sq = small[:count, ORDER + 2]  # gamma's column, free until gamma is formed
    for j in range(count):
        uy_sq[j] = uy[j] * uy[j]
    state[_LAMBDA], state[_R] = damping(
        uy_sq, d, state[_SHRINK], math.sqrt(ftf_sq), state[_LAMBDA], state[_R]
    )
    for j in range(count):
        uy[j] = d[j] * uy[j] / (d[j] * d[j] + state[_LAMBDA])  # now R's dd
    for i in range(count):
        total = 0.0
        for j in range(count):
            total += v[i, j] * uy[j]
        gamma[i] = total
    x, proposal = vectors[_X], vectors[_PROPOSAL]
    for row in range(3):
        for k in range(x.shape[1]):
            if not free[row, k] > 0.0:
                proposal[row, k] = x[row, k]
                continue
            x_bar = x[row, k]
            f_bar = f[row, k]
            for j in range(count):
                x_bar -= vectors[_X_DIFF + j, row, k] * gamma[j]
                f_bar -= vectors[_F_DIFF + j, row, k] * gamma[j]
            proposal[row, k] = x_bar + f_bar
    for k in range(x.shape[1]):
        if free[2, k] < 0.0:  # equal variances: the shared coordinate's value
            proposal[2, k] = proposal[2, 0]


@jit
def take_pending(weights, means, variances, scratch):
    """A pass DAAREM already made: when the last step accepted a proposal, its map into
    the parameters and ``(True, log_likelihood, log_map)`` of the proposal; otherwise
    ``(False, nan, nan)`` and nothing changes."""
    vectors, _, _, state = scratch
    if state[_PENDING_SET] == 0.0:
        return False, math.nan, math.nan
    state[_PENDING_SET] = 0.0
    pending = vectors[_PENDING]
    for k in range(means.size):
        weights[k] = pending[0, k]
        means[k] = pending[1, k]
        variances[k] = pending[2, k]
    return True, state[_PENDING_LL], state[_PENDING_LOG_MAP]


@jit
def _restore(source, weights, means, variances):
    """The parameters from ``source`` (rows 0 to 2)."""
    for k in range(means.size):
        weights[k] = source[0, k]
        means[k] = source[1, k]
        variances[k] = source[2, k]


@jit
def _reset(state):
    """Forget the point and the history: the next step is EM's, and starts them anew."""
    state[_HAS_X] = 0.0
    state[_HAS_OLD] = 0.0
    state[_COUNT] = 0.0


@jit
def daarem_step(
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
    scratch,
    log_likelihood,
    floored,
    e_step,
    e_step_far,
):
    """One DAAREM step from the point ``theta`` in ``saved[0]``, of log-likelihood
    ``log_likelihood``, whose map ``F(theta)`` is in place (``floored`` when that map
    floored a variance); leaves the accepted point in place. Returns the maps it ran (0
    or 1). ``scratch`` is :func:`daarem_scratch`'s; ``saved[1:3]`` is work space.

    The first step after a start (or a floored map) is EM's, and starts the history;
    each later step proposes a point (:func:`_propose`), maps it, and keeps it when its
    log-likelihood is not below ``log_likelihood``, its map's pass then pending for the
    next step (:func:`take_pending`); otherwise the step is EM's, ``F(theta)``.
    """
    vectors, small, packed, state = scratch
    fixed_weights, fixed_variances = options[2], options[4]
    point, residual = vectors[_X], vectors[_F]
    old_point, old_residual = vectors[_X_OLD], vectors[_F_OLD]
    n_components = means.size
    if (
        floored
        or not to_coordinates(weights, means, variances, fixed_weights, residual)
        or (
            state[_HAS_X] == 0.0
            and not to_coordinates(saved[0, 0], saved[0, 1], saved[0, 2], fixed_weights, point)
        )
    ):
        _reset(state)
        return 0
    state[_HAS_X] = 1.0
    for row in range(3):
        for k in range(n_components):
            residual[row, k] -= point[row, k]  # f = F(x) - x
    first = state[_HAS_OLD] == 0.0
    if not first:
        column = int(state[_COUNT])
        state[_COUNT] += 1.0
        for row in range(3):
            for k in range(n_components):
                vectors[_X_DIFF + column, row, k] = point[row, k] - old_point[row, k]
                vectors[_F_DIFF + column, row, k] = residual[row, k] - old_residual[row, k]
        _propose(vectors, small, packed, state)
    state[_HAS_OLD] = 1.0
    old_point[:, :] = point
    old_residual[:, :] = residual
    maps = 0
    copy_parameters(weights, means, variances, saved[1])  # F(theta)
    if not first:
        if from_coordinates(vectors[_PROPOSAL], fixed_weights, weights, means, variances):
            for k in range(n_components):
                if fixed_variances[k]:
                    variances[k] = saved[1, 2, k]  # exactly, not exp(log(v))
            copy_parameters(weights, means, variances, saved[2])
            proposed, log_map, proposal_floored = em_map(
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
                e_step,
                e_step_far,
            )
            maps = 1
            if math.isfinite(proposed) and not proposal_floored and proposed >= log_likelihood:
                copy_parameters(weights, means, variances, vectors[_PENDING])
                state[_PENDING_SET] = 1.0
                state[_PENDING_LL] = proposed
                state[_PENDING_LOG_MAP] = log_map
                state[_SHRINK] += 1.0
                _restore(saved[2], weights, means, variances)
                point[:, :] = vectors[_PROPOSAL]
        else:
            state[_COUNT] = 0.0  # not a mixture: R's daarem restarts too
    if state[_PENDING_SET] == 0.0:
        # EM's step, x + f (as R's daarem forms it).
        _restore(saved[1], weights, means, variances)
        for row in range(3):
            for k in range(n_components):
                point[row, k] = old_point[row, k] + old_residual[row, k]
    if state[_COUNT] == state[_LAG]:
        state[_COUNT] = 0.0
    return maps
