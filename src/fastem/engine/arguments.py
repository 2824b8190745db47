"""The arguments of the kernels run over a batch, in named groups: the batch's points,
the parameters, the options and the outputs.

The fit kernels (:mod:`.kernels`) and the starting-value kernels (:mod:`.starts`) keep a
flat signature, because numba's parallel loop (:func:`.jit.for_each`) hands a kernel
only arrays and scalars: a group passed as a tuple of arrays does not compile ("scalar
type Tuple(array(float64, 1d, C), ...) given for non scalar argument"). The groups are
unpacked into that order here alone, by :func:`fit_arguments` and
:func:`start_arguments`; tests check the order against the kernels' signatures.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class BatchData(NamedTuple):
    """A batch's points as the kernels read them (see :class:`.layout.Batch`)."""

    values: np.ndarray
    """Float64 array of shape (n_points,): the datasets' points, one after the other."""
    offsets: np.ndarray
    """Int64 array of shape (n_datasets + 1,): dataset ``d`` is ``values[offsets[d]:
    offsets[d + 1]]``."""
    sample_weight: np.ndarray
    """Array like ``values``, or of size 0 for unit weights."""
    center: np.ndarray
    """Array of shape (n_datasets,): each dataset's standardisation, its center..."""
    scale: np.ndarray
    """... and its scale."""

    @classmethod
    def of(cls, batch) -> BatchData:
        """The points of ``batch`` (a :class:`.layout.Batch`)."""
        return cls(batch.values, batch.offsets, batch.kernel_weights, batch.center, batch.scale)


class Parameters(NamedTuple):
    """Arrays of shape (n_fits, K), standardised units: fit ``f`` is dataset
    ``f // n_init``, restart ``f % n_init``. The kernels write their values in place
    (a start, or the fitted values from a start)."""

    weights: np.ndarray
    means: np.ndarray
    variances: np.ndarray


class FitOptions(NamedTuple):
    """What a fit kernel is told to do: the same for every fit of a batch."""

    max_iter: int
    tol: float
    reg_variance: float
    equal_variance: bool
    fixed_weights: np.ndarray
    """Boolean array of shape (K,), as the next two: parameters that keep their start."""
    fixed_means: np.ndarray
    fixed_variances: np.ndarray
    prior: np.ndarray
    """Float64 array of shape (n_datasets, P): each dataset's penalty or prior, a row of
    :mod:`.penalty` in standardised units; P = 0 for none."""
    stop: int
    """The stopping rule (:mod:`.stopping`: ``LOGLIK``, ``RELATIVE``, ``AITKEN``,
    ``PARAMETER``)."""
    dtype: np.dtype
    """The E-step's precision, float64 or float32 (see :mod:`.estep`)."""
    method: int
    """The algorithm within its kernel's family (a code of :mod:`.methods`)."""
    keys: np.ndarray
    """Uint64 array of shape (n_datasets,): each dataset's content key (:mod:`.rng`), for
    the algorithms that draw at random (size 0 for the others)."""
    seed: int
    """The random state of those draws, an int in [0, 2**63)."""

    @classmethod
    def of(
        cls, model, *, max_iter, tol, stop, dtype, prior, method=0, keys=None, seed=0
    ) -> FitOptions:
        """The options of fitting ``model`` (a :class:`fastem.Model`: its constraints and
        regularisation), with the given stopping rule (a code of :mod:`.stopping`),
        E-step precision, algorithm (a code of :mod:`.methods`), random streams and
        per-dataset prior rows (an array of shape (n_datasets, P), P = 0 for none)."""
        return cls(
            max_iter=max_iter,
            tol=tol,
            reg_variance=float(model.reg_variance),
            equal_variance=bool(model.equal_variance),
            fixed_weights=model.fixed_weights,
            fixed_means=model.fixed_means,
            fixed_variances=model.fixed_variances,
            prior=prior,
            stop=stop,
            dtype=np.dtype(dtype),
            method=int(method),
            keys=np.zeros(0, dtype=np.uint64) if keys is None else keys,
            seed=int(seed),
        )


class FitOutputs(NamedTuple):
    """Arrays the fit kernels fill, one row per fit (see :func:`.em.fit_one`)."""

    trace: np.ndarray
    """Of shape (n_fits, L): the log-likelihood after each of the first L iterations."""
    log_likelihood: np.ndarray
    log_map: np.ndarray
    n_iter: np.ndarray
    converged: np.ndarray
    status: np.ndarray
    n_fpeval: np.ndarray
    rate: np.ndarray
    """Of shape (n_fits, 2): the rate of the log-likelihoods and of the parameters."""


def fit_arguments(
    data: BatchData, parameters: Parameters, options: FitOptions, outputs: FitOutputs
) -> tuple:
    """The arguments of the fit kernels (:func:`.kernels.fit_em` and the others) after the
    fit's index and before the E-steps and the interrupt flag, in their order."""
    return (*data, *parameters, *options, *outputs)


class StartOptions(NamedTuple):
    """What a starting-value kernel is told: its random streams, the model and the
    options of the strategies that have some (the others ignore them)."""

    keys: np.ndarray
    """Uint64 array of shape (n_datasets,): each dataset's content key (:mod:`.rng`)."""
    seed: int
    """The random state, an int in [0, 2**63)."""
    first_restart: int
    """The number of the batch's first restart: restart ``r`` draws from stream
    ``first_restart + r``."""
    equal_variance: bool
    hc_model: int = 0
    """The model of ``"hc"``'s clustering (:mod:`.hc`: ``V`` or ``E``)."""
    n_candidates: int = 1
    """The random starts ``"rndem"`` draws per restart."""


def start_arguments(data: BatchData, options: StartOptions, parameters: Parameters) -> tuple:
    """The arguments of the starting-value kernels of :mod:`.starts` after the fit's index
    and before the interrupt flag, in their order."""
    return (*data, *options, *parameters)
