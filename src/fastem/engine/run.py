"""The Python side of the EM kernels: allocate their outputs, run them, interruptibly.

Both :func:`fastem.fit` and emEM's short runs (``init._plan``) go through :func:`run`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import interrupt as _interrupt
from . import jit as _jit
from . import kernels as _kernels
from .status import Status

ALGORITHMS = {"em": _kernels.fit_em, "squarem": _kernels.fit_squarem}
STOPPING_RULES = {
    "loglik": _kernels.LOGLIK,
    "relative": _kernels.RELATIVE,
    "aitken": _kernels.AITKEN,
    "parameter": _kernels.PARAMETER,
}


class Run(NamedTuple):
    """Per fit, arrays of shape (n_fits,): the kernel's outputs in standardised units;
    ``trace`` is (n_fits, trace_length) or None."""

    log_likelihood: np.ndarray
    log_map: np.ndarray
    n_iter: np.ndarray
    converged: np.ndarray
    status: np.ndarray
    n_fpeval: np.ndarray
    n_objeval: np.ndarray
    rate: np.ndarray
    parameter_rate: np.ndarray
    trace: np.ndarray | None


def _fit_each(work, n_fits, arguments, e_step_for, interrupted):
    """``work`` (a fit kernel) for every fit, passing it the E-steps of ``_kernels.e_steps(
    *e_step_for)`` after ``arguments``; run by ``_interrupt``, so that the E-steps too are
    compiled (or loaded) in the kernel's thread."""
    if interrupted[0]:
        return
    e_steps = _kernels.e_steps(*e_step_for)
    _jit.for_each(work, n_fits, (*arguments, *e_steps), interrupted)


def run(
    batch,
    model,
    weights,
    means,
    variances,
    *,
    max_iter: int,
    tol: float,
    algorithm: str = "em",
    stop: str = "loglik",
    trace_length: int = 0,
    dtype=np.float64,
) -> Run:
    """EM (or SQUAREM) from the starting values ``weights, means, variances`` (n_fits, K),
    standardised, which become the fitted values; fit ``f`` is dataset ``f // n_init``.
    ``dtype`` (float64 or float32) is the E-step's precision."""
    n_fits = means.shape[0]
    trace = np.full((n_fits, trace_length), np.nan)
    rates = np.empty((n_fits, 2))  # one array for the kernel, whose arguments are many
    outputs = Run(
        log_likelihood=np.empty(n_fits),
        log_map=np.empty(n_fits),
        n_iter=np.empty(n_fits, dtype=np.int64),
        converged=np.empty(n_fits, dtype=np.bool_),
        status=np.empty(n_fits, dtype=np.int8),
        n_fpeval=np.empty(n_fits, dtype=np.int64),
        n_objeval=np.empty(n_fits, dtype=np.int64),
        rate=rates[:, 0],
        parameter_rate=rates[:, 1],
        trace=trace if trace_length else None,
    )
    arguments = (
        batch.values,
        batch.offsets,
        batch.kernel_weights,
        batch.center,
        batch.scale,
        weights,
        means,
        variances,
        max_iter,
        tol,
        *model.kernel_options(),
        STOPPING_RULES[stop],
        np.dtype(dtype),
        trace,
        outputs.log_likelihood,
        outputs.log_map,
        outputs.n_iter,
        outputs.converged,
        outputs.status,
        outputs.n_fpeval,
        rates,
    )
    e_step_for = (batch.values, batch.kernel_weights, means.shape[1], dtype)
    _interrupt.run(_fit_each, ALGORITHMS[algorithm], n_fits, arguments, e_step_for)
    # Every EM map computes a log-likelihood, and a last pass that of the returned
    # parameters, unless the fit stopped at a non-finite one.
    np.add(outputs.n_fpeval, outputs.status != Status.NON_FINITE, out=outputs.n_objeval)
    return outputs
