"""The EM kernels of one fit, run over a batch by ``_jit.for_each``; their arguments
are built by :func:`.arguments.fit_arguments`.

One fit's whole EM loop runs on one thread, with its data hot in cache (:func:`fit_em`,
:func:`fit_daarem` and the others, run over the batch by ``_jit.for_each``); fits share
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
from .methods import DAAREM, EM, QN

# The kernels of a fit, one per family of algorithms (:mod:`.methods`), so that a fit
# compiles only the family it runs: numba drops the branches of the others (``family`` is
# a constant in each). Their arguments are :func:`.em.fit_at`'s.


def _fit_kernel(family, name, doc):
    """The kernel of ``family`` (a constant of :func:`.em.fit_one`), named ``name``.

    One source for every family, compiled once for each: ``family`` is a variable of this
    closure, which numba reads as a constant, so that it drops the other families'
    branches before it types them (their steps are then never compiled); numba's cache
    keys each kernel on the closure's value as well."""

    @jit
    @_named(name, doc)
    def kernel(
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
            family,
        )

    return kernel


def _named(name, doc):
    """A decorator that gives a function ``name`` (numba names its cache files by it) and
    the docstring ``doc``."""

    def rename(function):
        function.__name__ = function.__qualname__ = name
        function.__doc__ = doc
        return function

    return rename


fit_em = _fit_kernel(
    EM,
    "fit_em",
    "Fit ``f`` of the batch by EM or SQUAREM (``method``: EM, SQS1, SQS2 or SQS3 of "
    ":mod:`.methods`): SQUAREM's steps add little to EM's loop, so the two share a kernel, "
    "and emEM's short runs (EM) and the fit they start (SQUAREM) compile one.",
)
fit_daarem = _fit_kernel(DAAREM, "fit_daarem", "Fit ``f`` of the batch by DAAREM.")
fit_quasi_newton = _fit_kernel(
    QN, "fit_quasi_newton", "Fit ``f`` of the batch by quasi-Newton acceleration."
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
