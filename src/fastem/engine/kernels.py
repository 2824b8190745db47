"""The EM kernels of one fit, run over a batch by ``_jit.for_each``; their arguments
are built by :func:`.arguments.fit_arguments`.

One fit's whole EM loop runs on one thread, with its data hot in cache
(:func:`fit_em`, :func:`fit_accelerated`, run over the batch by ``_jit.for_each``); fits share
nothing, so results do not depend on the number of threads. Each iteration is one
fused pass over the points (the E-step) followed by an O(K) update (the M-step).
Responsibilities are never stored.

All parameters here are in standardised units: the data of dataset ``d`` are read as
``z = (x - center[d]) / scale[d]``, so the dataset has mean 0 and variance 1 and
``reg_variance`` can be added as it is.

The steps of a fit have their own modules: the E-step (:mod:`.estep`), the M-step and one
EM map (:mod:`.mstep`), SQUAREM's extrapolation (:mod:`.squarem`), the stopping rules
(:mod:`.stopping`) and the loop that runs them for one fit (:mod:`.em`).
"""

from __future__ import annotations

from .classification import classification_at
from .em import fit_at
from .jit import jit

# The kernels of a fit, one per family of algorithms (:mod:`.methods`), so that a fit
# compiles only the family it runs: numba drops the branches of the others (``accelerated``
# is a constant in each). Their arguments are :func:`.em.fit_at`'s.


@jit
def fit_em(
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
    reg_variance,
    equal_variance,
    fixed_weights,
    fixed_means,
    fixed_variances,
    prior,
    stop,
    dtype,
    method,
    keys,
    seed,
    trace,
    log_likelihood,
    log_map,
    n_iter,
    converged,
    status,
    n_fpeval,
    rate,
    e_step,
    e_step_far,
    interrupted,
):
    """Fit ``f`` of the batch by EM."""
    fit_at(
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
        (reg_variance, equal_variance, fixed_weights, fixed_means, fixed_variances, prior),
        stop,
        dtype,
        (method, keys, seed),
        trace,
        log_likelihood,
        log_map,
        n_iter,
        converged,
        status,
        n_fpeval,
        rate,
        (e_step, e_step_far),
        interrupted,
        False,
    )


@jit
def fit_accelerated(
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
    reg_variance,
    equal_variance,
    fixed_weights,
    fixed_means,
    fixed_variances,
    prior,
    stop,
    dtype,
    method,
    keys,
    seed,
    trace,
    log_likelihood,
    log_map,
    n_iter,
    converged,
    status,
    n_fpeval,
    rate,
    e_step,
    e_step_far,
    interrupted,
):
    """Fit ``f`` of the batch by an accelerator of EM (``method``, a code of
    :mod:`.methods`)."""
    fit_at(
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
        (reg_variance, equal_variance, fixed_weights, fixed_means, fixed_variances, prior),
        stop,
        dtype,
        (method, keys, seed),
        trace,
        log_likelihood,
        log_map,
        n_iter,
        converged,
        status,
        n_fpeval,
        rate,
        (e_step, e_step_far),
        interrupted,
        True,
    )


@jit
def fit_classification(
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
    reg_variance,
    equal_variance,
    fixed_weights,
    fixed_means,
    fixed_variances,
    prior,
    stop,
    dtype,
    method,
    keys,
    seed,
    trace,
    log_likelihood,
    log_map,
    n_iter,
    converged,
    status,
    n_fpeval,
    rate,
    e_step,
    e_step_far,
    interrupted,
):
    """Fit ``f`` of the batch by CEM or SEM (``method``, a code of :mod:`.methods`), in
    float64 whatever ``dtype``; CEM stops when its partition no longer changes and SEM
    runs ``max_iter`` iterations, whatever ``tol`` and ``stop``. The E-steps are unused."""
    classification_at(
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
        (reg_variance, equal_variance, fixed_weights, fixed_means, fixed_variances, prior),
        (method, keys, seed),
        trace,
        (log_likelihood, log_map, n_iter, converged, status, n_fpeval, rate),
        interrupted,
    )
