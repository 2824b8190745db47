"""One fit's EM (or SQUAREM) loop, to its stopping rule, and its place in the batch
(:func:`fit_at`, which the kernels of :mod:`.kernels` run for each fit)."""

from __future__ import annotations

import math

import numpy as np

from .daarem import daarem_scratch, daarem_step, take_pending
from .estep import FAR_PASS_PENDING, PENDING_ROW, block_size
from .jit import jit
from .lanes import lanes
from .layout import fit_data
from .methods import DAAREM, EM, QN
from .mstep import em_map, log_likelihood_only
from .quasi_newton import SECANTS, quasi_newton_step
from .squarem import STEP_MAX0, squarem_step
from .stopping import aitken_rate, copy_parameters, squared_change, stopped

# The codes of fastem.Status the kernels set, written out: numba freezes module-level
# ints into the machine code, and its cache is keyed on this file's text, so a code that
# changed in status.py alone would be served stale from the cache (tests check these).
CONVERGED, MAX_ITER, VARIANCE_FLOORED, NON_FINITE = 0, 1, 3, 4


@jit(inline=True)
def fit_one(
    x,
    point_weight,
    center,
    inv_scale,
    weights,
    means,
    variances,
    max_iter,
    tol,
    options,
    family,
    method,
    stop,
    dtype,
    trace,
    interrupted,
    e_step,
    e_step_far,
):
    """Run EM (or the accelerator ``method``, of the kernel's ``family``) for one fit,
    updating ``weights``, ``means``, ``variances`` in place.

    ``family`` is a constant of each kernel (:mod:`.kernels`): ``DAAREM`` or ``QN`` for the
    kernel of that accelerator, ``EM`` for the kernel of EM and SQUAREM's schemes (which
    ``method`` picks at run time). numba drops the branches of the other families when it
    compiles a kernel, so a fit compiles only the steps its family can take.

    EM: iteration ``t`` evaluates the log-likelihood of the parameters ``theta_{t-1}`` in
    the same pass that produces ``theta_t``. An accelerator (``method``, a code of
    :mod:`.methods`): each step maps ``theta_0`` twice (``theta_1``, ``theta_2``),
    extrapolates in coordinates where every point is a valid mixture (:mod:`.squarem`:
    SQUAREM's ``theta' = theta_0 + 2 a r + a^2 v`` with scheme SqS1, SqS2 or SqS3's step
    length ``a``; :mod:`.quasi_newton`: the quasi-Newton point of the last secants), and
    maps ``theta'`` once more; when ``theta'`` is invalid or its log-likelihood is below
    ``theta_0``'s, the step is the plain ``theta_2`` (EM never lowers the log-likelihood,
    so neither does an accepted step). R's SQUAREM instead tests the stabilised
    ``F(theta')`` and tolerates a decrease of up to ``objfn.inc = 1``; testing ``theta'``
    costs no extra pass and keeps every step monotone.

    A fit stops when ``stop`` holds between accepted steps (:func:`stopped`). A last pass
    gives the log-likelihood of the returned parameters. ``trace[t]`` is the
    log-likelihood after ``t`` accepted steps, for ``t`` below the length of ``trace``.

    Returns ``(log_likelihood, log_map, n_iter, converged, status, n_fpeval, rate,
    parameter_rate)``: ``n_iter`` accepted steps, ``n_fpeval`` EM maps (each also computes
    a log-likelihood, and so does the last pass unless the fit became non-finite), ``rate``
    the last ``a_t`` of the log-likelihoods, ``parameter_rate`` the last ratio of the norms
    of two successive parameter steps, ``|theta_t - theta_{t-1}| / |theta_{t-1} -
    theta_{t-2}|``. Near a maximum EM's error shrinks as ``lambda^t``, ``lambda`` the
    largest eigenvalue of its map's Jacobian: the steps shrink as ``lambda^t`` too, and the
    log-likelihood's gap, a quadratic form in the error, as ``lambda^(2t)``; so
    ``parameter_rate`` tends to ``lambda`` and ``rate`` to ``lambda^2``.
    """
    n_components = means.size
    # Scratch, allocated once per fit: the M-step's statistics in float64 (and the mark of
    # a far pass not yet compiled, .estep.e_steps), the E-step's arrays in its type.
    statistics = np.empty((5, n_components))
    statistics[PENDING_ROW, 0] = 0.0
    per_component = np.empty((4, n_components), dtype)
    block = block_size(n_components, lanes(per_component))
    per_point = np.empty((3, block), dtype)
    dev = np.empty((n_components, block), dtype)
    dens = np.empty((n_components, block), dtype)
    saved = np.empty((3, 3, n_components))  # theta_0, theta_1 and theta_2 (SQUAREM)
    coords = np.empty((3, 3, n_components))  # their coordinates
    if family == DAAREM:  # (the other families compile none of DAAREM's code)
        daarem = daarem_scratch(options, n_components, True)
    secants = np.empty((2, SECANTS, 3, n_components))  # quasi-Newton's U and V
    system = np.empty((SECANTS, SECANTS + 1))  # and its linear system
    total_weight = 0.0
    for i in range(point_weight.size):
        total_weight += point_weight[i]
    n = total_weight if point_weight.size > 0 else x.size
    inv_n = 1.0 / n
    data_shift = n * math.log(inv_scale)  # log-likelihood in the data's units, less this
    fixed_weights = options[2]
    previous = -math.inf
    before = -math.inf
    rate = math.nan
    parameter_rate = math.nan
    previous_change = 0.0
    converged = False
    floored = False
    n_iter = 0
    n_fpeval = 0
    step_max = STEP_MAX0
    n_secants = 0
    for it in range(max_iter):
        if interrupted[0] or statistics[PENDING_ROW, 0] != 0.0:
            break
        copy_parameters(weights, means, variances, saved[0])
        # DAAREM may have mapped these parameters already (its accepted proposal).
        if family == DAAREM:
            mapped, log_likelihood, log_map = take_pending(weights, means, variances, daarem)
        else:
            mapped, log_likelihood, log_map = False, math.nan, math.nan
        if mapped:
            floored = False
        else:
            log_likelihood, log_map, floored = em_map(
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
            n_fpeval += 1
        if it < trace.size:
            trace[it] = log_likelihood
        if not math.isfinite(log_likelihood):
            return (
                log_likelihood,
                log_map,
                n_iter,
                False,
                NON_FINITE,
                n_fpeval,
                rate,
                parameter_rate,
            )
        if family == DAAREM:
            n_fpeval += daarem_step(
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
                daarem,
                log_likelihood,
                floored,
                e_step,
                e_step_far,
            )
        elif method != EM and not floored:
            # theta_1 is in place; map it once more, then extrapolate.
            copy_parameters(weights, means, variances, saved[1])
            middle, _, floored = em_map(
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
            n_fpeval += 1
            if math.isfinite(middle) and not floored:
                copy_parameters(weights, means, variances, saved[2])
                if family == QN:
                    n_secants, extra = quasi_newton_step(
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
                        log_likelihood,
                        e_step,
                        e_step_far,
                    )
                else:
                    step_max, extra = squarem_step(
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
                        fixed_weights,
                        log_likelihood,
                        step_max,
                        method,
                        e_step,
                        e_step_far,
                    )
                n_fpeval += extra
        n_iter = it + 1
        change = squared_change(weights, means, variances, saved[0])
        if n_iter > 1:
            rate = aitken_rate(log_likelihood, previous, before)
            if previous_change > 0.0:
                parameter_rate = math.sqrt(change / previous_change)
        previous_change = change
        if stopped(stop, tol, log_likelihood, previous, before, inv_n, data_shift, change):
            converged = True
            break
        before = previous
        previous = log_likelihood
    log_likelihood, log_map = log_likelihood_only(
        x,
        point_weight,
        center,
        inv_scale,
        weights,
        means,
        variances,
        options[5],
        statistics,
        per_component,
        dev,
        dens,
        per_point,
        e_step,
    )
    if n_iter < trace.size:
        trace[n_iter] = log_likelihood
    if statistics[PENDING_ROW, 0] != 0.0:
        status = FAR_PASS_PENDING
    elif not math.isfinite(log_likelihood):
        status = NON_FINITE
    elif floored:
        status = VARIANCE_FLOORED
    else:
        status = CONVERGED if converged else MAX_ITER
    return (log_likelihood, log_map, n_iter, converged, status, n_fpeval, rate, parameter_rate)


@jit(inline=True)
def fit_at(
    f,
    values,
    offsets,
    sample_weight,
    center,
    scale,
    weights,
    means,
    variances,
    max_iter,
    tol,
    options,
    stop,
    dtype,
    algorithm,
    trace,
    log_likelihood,
    log_map,
    n_iter,
    converged,
    status,
    n_fpeval,
    rate,
    e_steps,
    interrupted,
    family,
):
    """Fit ``f`` of the batch, by EM or an accelerator of the kernel's ``family``: dataset
    ``f // n_init``, restart ``f % n_init``.

    Parameters
    ----------
    f : int, the fit.
    values, offsets : the ragged layout (see :mod:`.layout`).
    sample_weight : array like ``values``, or of size 0 for unit weights.
    center, scale : arrays of shape (n_datasets,), the standardisation.
    weights, means, variances : arrays of shape (n_fits, K)
        Starting values in standardised units on entry, fitted values on return.
    max_iter : int
    tol : float
    options : tuple
        The M-step's options, ``(reg_variance, equal_variance, fixed_weights, fixed_means,
        fixed_variances, prior)``, packed by the kernel (numba's parallel loop takes no
        tuple of arrays): the fixed masks are boolean arrays of shape (K,), ``prior`` of
        shape (n_datasets, P), each dataset's row of :mod:`.penalty` (P = 0: none). fit
        ``f`` reads its dataset's row in :func:`fit_one`'s ``options``.
    stop : int
        The stopping rule (``LOGLIK``, ``RELATIVE``, ``AITKEN``, ``PARAMETER``).
    dtype : numpy.dtype, float64 or float32
        The E-step's precision (see the module's docstring); numba compiles one kernel
        for each.
    algorithm : tuple ``(method, keys, seed)``
        The algorithm, a code of :mod:`.methods` (EM, or an accelerator of ``family``), and the
        random streams of :class:`.arguments.FitOptions` (unused here). A tuple, because a
        call of more than 30 arguments compiles to one numba cannot inline.
    trace : array of shape (n_fits, L), L from 0 to max_iter + 1
        Filled with the log-likelihood after each of the first L iterations; entries after
        a fit stops are left untouched.
    log_likelihood, log_map, n_iter, converged, status, n_fpeval : arrays
        of shape (n_fits,), outputs (see :func:`fit_one`).
    rate : array of shape (n_fits, 2), output: :func:`fit_one`'s ``rate`` and
        ``parameter_rate``.
    e_steps : the E-step kernels, by address (:func:`.estep.e_steps`), in a tuple as
        ``algorithm``.
    interrupted : array of shape (1,)
        Set (from another thread) to stop the fit at its next iteration.
    family : int
        A constant in each kernel (:mod:`.kernels`): see :func:`fit_one`.
    """
    x, point_weight, loc, inv_scale = fit_data(
        f, means.shape[0], values, offsets, sample_weight, center, scale
    )
    reg_variance, equal_variance, fixed_weights, fixed_means, fixed_variances, prior = options
    row = prior[f // (means.shape[0] // (offsets.size - 1))]
    (
        log_likelihood[f],
        log_map[f],
        n_iter[f],
        converged[f],
        status[f],
        n_fpeval[f],
        rate[f, 0],
        rate[f, 1],
    ) = fit_one(
        x,
        point_weight,
        loc,
        inv_scale,
        weights[f],
        means[f],
        variances[f],
        max_iter,
        tol,
        (reg_variance, equal_variance, fixed_weights, fixed_means, fixed_variances, row),
        family,
        algorithm[0],
        stop,
        dtype,
        trace[f],
        interrupted,
        e_steps[0],
        e_steps[1],
    )
