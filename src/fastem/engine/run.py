"""The Python side of the kernels run over a batch: allocate their outputs, run them,
interruptibly.

Both :func:`fastem.fit` and emEM's short runs (``init._plan``) go through :func:`run`;
the starting-value kernels through :func:`run_starts`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import interrupt as _interrupt
from . import jit as _jit
from . import kernels as _kernels
from . import methods as _methods
from . import stopping as _stopping
from .arguments import (
    BatchData,
    FitOptions,
    FitOutputs,
    Parameters,
    StartOptions,
    fit_arguments,
    start_arguments,
)
from .estep import FAR_PASS_PENDING, e_steps
from .rng import content_keys
from .status import Status

FAMILIES = {
    _methods.DAAREM: _kernels.fit_daarem,
    _methods.QN: _kernels.fit_quasi_newton,
    _methods.CEM: _kernels.fit_classification,
    _methods.SEM: _kernels.fit_classification,
}
"""The kernel of each algorithm that EM's own (:func:`.kernels.fit_em`, which runs EM and
SQUAREM's schemes) does not run."""
ALGORITHMS = {
    name: (FAMILIES.get(code, _kernels.fit_em), code) for name, code in _methods.CODES.items()
}
"""Each algorithm's kernel and its code there."""
STOPPING_RULES = {
    "loglik": _stopping.LOGLIK,
    "relative": _stopping.RELATIVE,
    "aitken": _stopping.AITKEN,
    "parameter": _stopping.PARAMETER,
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
    """``work`` (a fit kernel) for every fit, passing it the E-steps of ``e_steps(
    *e_step_for)`` after ``arguments``; run by ``_interrupt``, so that the E-steps too are
    compiled (or loaded) in the kernel's thread."""
    if interrupted[0]:
        return
    e_step, e_step_far = e_steps(*e_step_for)
    _jit.for_each(work, n_fits, (*arguments, e_step, e_step_far), interrupted)


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
    seed: int = 0,
) -> Run:
    """EM (or another algorithm of ``ALGORITHMS``) from the starting values ``weights,
    means, variances`` (n_fits, K), standardised, which become the fitted values; fit ``f``
    is dataset ``f // n_init``. ``dtype`` (float64 or float32) is the E-step's precision;
    ``seed`` (an int in [0, 2**63)) keys the random draws of the algorithms that make
    them (SEM), with each dataset's content key (:func:`.rng.content_keys`). ``prior``
    (n_datasets, :data:`.penalty.N_HYPER`), standardised, penalises the likelihood (see
    :mod:`.penalty`): the kernels then climb, and report as ``log_likelihood``, the
    penalised log-likelihood in standardised units, less the prior's constant."""
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
    kernel, method = ALGORITHMS[algorithm]
    arguments = fit_arguments(
        BatchData.of(batch),
        Parameters(weights, means, variances),
        FitOptions.of(
            model,
            max_iter=max_iter,
            tol=tol,
            stop=STOPPING_RULES[stop],
            dtype=dtype,
            prior=_prior_rows(batch, model),
            method=method,
            keys=_drawing_keys(batch) if method in _methods.DRAWING else None,
            seed=seed,
        ),
        FitOutputs(
            trace=trace,
            log_likelihood=outputs.log_likelihood,
            log_map=outputs.log_map,
            n_iter=outputs.n_iter,
            converged=outputs.converged,
            status=outputs.status,
            n_fpeval=outputs.n_fpeval,
            rate=rates,
        ),
    )
    e_step_for = (batch.values, batch.kernel_weights, means.shape[1], dtype)
    starts = (weights.copy(), means.copy(), variances.copy())
    # Points x components x EM maps (SQUAREM's step maps about three times): small runs
    # go on in the calling thread once their variant has been compiled (see _interrupt).
    work = batch.values.size * n_fits / max(batch.n_datasets, 1) * means.shape[1] * max_iter * 4
    variant = (np.dtype(dtype), means.shape[1], batch.kernel_weights is None, trace_length > 0)
    _interrupt.run(_fit_each, kernel, n_fits, arguments, e_step_for, work=work, variant=variant)
    if (outputs.status == FAR_PASS_PENDING).any():
        # A fit needed the far pass, which e_steps compiles only then: every fit again,
        # from its start, with it (those that did not need it give the same bits).
        for fitted, start in zip((weights, means, variances), starts):
            fitted[...] = start
        trace.fill(np.nan)
        _interrupt.run(
            _fit_each,
            kernel,
            n_fits,
            arguments,
            (*e_step_for, True),
            work=work,
            variant=(*variant, "far"),
        )
    # Every EM map computes a log-likelihood, and a last pass that of the returned
    # parameters, unless the fit stopped at a non-finite one.
    np.add(outputs.n_fpeval, outputs.status != Status.NON_FINITE, out=outputs.n_objeval)
    return outputs


def _prior_rows(batch, model) -> np.ndarray:
    """Each dataset's row of :mod:`.penalty` for ``model``'s penalty (its ``penalty``,
    with a ``rows`` method), of shape (n_datasets, 0) without one."""
    if getattr(model, "penalty", None) is None:
        return np.zeros((batch.n_datasets, 0))
    return model.penalty.rows(batch, model.n_components, model.equal_variance)


def _drawing_keys(batch) -> np.ndarray:
    """Each dataset's content key, for an algorithm that draws: the batch's own, or
    computed from its standardisation."""
    if batch.keys is not None:
        return batch.keys
    weights = None if batch.sample_weight is None else batch.sample_weight
    return content_keys(batch.values, batch.offsets, batch.center, batch.scale, weights)


def run_starts(kernel, batch, options: StartOptions, parameters: Parameters) -> None:
    """A starting-value kernel of :mod:`.starts` (a strategy's) for every fit of ``batch``
    (a :class:`.layout.Batch`), filling ``parameters`` (arrays of shape (n_fits, K)) in
    place, in standardised units."""
    arguments = start_arguments(BatchData.of(batch), options, parameters)
    _interrupt.run(_jit.for_each, kernel, parameters.means.shape[0], arguments)
