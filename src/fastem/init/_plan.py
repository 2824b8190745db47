"""Starting values for a batch, in standardised units: a strategy's, then the given values
and the constraints laid over them; the short runs of emEM, CEM-EM and SEM-EM."""

from __future__ import annotations

import numpy as np

from ..checks import Given, Seed
from ..engine import layout as _layout
from ..engine import run as _em
from ..engine import starts as _kernels
from ..engine.arguments import Parameters, StartOptions
from ..engine.layout import Batch
from ..engine.status import Status
from ..model import Model
from ._registry import STRATEGIES, Strategy, kernel_options

Values = tuple[np.ndarray, np.ndarray, np.ndarray]
"""Weights, means and variances, each of shape (n_fits, K)."""


def _run_initialise(kernel, batch, model, seed, weights, means, variances, options=None):
    """Run a starting-value kernel; ``seed`` is a :class:`~fastem.checks.Seed`, ``options``
    the fields of :func:`~fastem.init._registry.kernel_options`."""
    _em.run_starts(
        kernel,
        batch,
        StartOptions(
            keys=batch.keys,
            seed=seed.random_state,
            first_restart=seed.first_restart,
            equal_variance=model.equal_variance,
            **(options or {}),
        ),
        Parameters(weights, means, variances),
    )


def strategy_values(
    method: str, batch: Batch, n_restarts: int, model: Model, seed: Seed, checked_options=None
) -> Values:
    """Arrays (n_datasets * n_restarts, K) from a strategy of the kernel, each fit's
    components sorted by mean; ``checked_options`` its checked ``init_params`` (its
    defaults if None)."""
    strategy = STRATEGIES[method]
    # A deterministic strategy's restarts are all one start: computed once per dataset.
    computed = 1 if strategy.deterministic else n_restarts
    shape = (batch.n_datasets * computed, model.n_components)
    unsorted = (np.empty(shape), np.empty(shape), np.empty(shape))
    chosen = strategy.options if checked_options is None else checked_options
    options = kernel_options(strategy, chosen)
    _run_initialise(strategy.kernel, batch, model, seed, *unsorted, options)
    order = np.argsort(unsorted[1], axis=1, kind="stable")
    weights, means, variances = (
        np.repeat(np.take_along_axis(a, order, axis=1), n_restarts // computed, axis=0)
        for a in unsorted
    )
    return weights, means, variances


def apply_given(
    weights: np.ndarray,
    means: np.ndarray,
    variances: np.ndarray,
    given: Given,
    batch: Batch,
    model: Model,
    n_restarts: int,
) -> None:
    """Overwrite strategy values with the given ones, then impose the constraints.

    ``given`` (:class:`~fastem.checks.Given`) holds arrays of shape
    (n_datasets, n_init, K) in data units, or None;
    ``n_restarts`` is a multiple of n_init (emEM runs several short fits per restart).
    Given means decide the rest: weights and variances not given are those of the
    clusters of points nearest to them. Without given means, given weights or variances
    pair with the strategy's components in increasing order of mean.
    """
    n_fits, n_components = means.shape
    given_weights, given_means, given_variances = given

    def per_fit(array):
        repeats = n_restarts // array.shape[1]
        return np.repeat(array, repeats, axis=1).reshape(n_fits, n_components)

    if given_means is not None:
        means[:] = per_fit(_layout.means_to_standard(batch.center, batch.scale, given_means))
        if given_weights is None or given_variances is None:
            _run_initialise(
                _kernels.around_means,
                batch,
                model,
                Seed(0),
                weights,
                means,
                variances,
            )
    if given_weights is not None:
        # The user's weights sum to 1 within 1e-6; the model's must sum to 1.
        weights[:] = per_fit(given_weights / given_weights.sum(axis=-1, keepdims=True))
    if given_variances is not None:
        variances[:] = per_fit(_layout.variances_to_standard(batch.scale, given_variances))
    elif model.equal_variance:
        # Start from the tied model: the weighted mean of the strategy's variances.
        variances[:] = (weights * variances).sum(axis=1, keepdims=True) / weights.sum(
            axis=1, keepdims=True
        )
    if model.equal_weights:
        weights[:] = 1.0 / n_components


def starting_values(
    strategy: Strategy,
    init_params: dict,
    batch: Batch,
    model: Model,
    n_init: int,
    seed: Seed,
    given: Given,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Starting values of shape (n_fits, K), standardised, and EM iterations spent on them,
    for a :class:`~fastem.init._registry.Strategy` and its checked ``init_params``.

    Returns ``weights, means, variances, init_n_iter`` with ``init_n_iter`` of shape
    (n_datasets, n_init): the iterations of the short runs (0 for other strategies).
    """
    n_datasets = batch.n_datasets
    if strategy.kernel is not None:  # computed by the kernel; short runs run an algorithm
        if given.means is not None:  # given means decide the rest, whatever the strategy
            shape = (n_datasets * n_init, model.n_components)
            weights, means, variances = (np.empty(shape) for _ in range(3))
        else:
            weights, means, variances = strategy_values(
                strategy.name, batch, n_init, model, seed, init_params
            )
        apply_given(weights, means, variances, given, batch, model, n_init)
        return weights, means, variances, np.zeros((n_datasets, n_init), dtype=np.int64)
    return _short_runs(strategy.short_run, init_params, batch, model, n_init, seed, given)


def _short_runs(algorithm, params, batch, model, n_init, seed, given):
    """emEM, CEM-EM and SEM-EM (Biernacki, Celeux & Govaert 2003): per restart, ``n_runs``
    random starts run for ``n_iter`` iterations each of ``algorithm`` (EM, CEM or SEM); the
    best of them is the start: by the log-likelihood, or for CEM by the classification
    log-likelihood it climbs (``log_likelihood + log_map``), as Rmixmod's CEM start.

    SEM's draws are keyed by the seed and the first restart (:class:`~fastem.checks.Seed`),
    so that each round of restarts draws new chains."""
    n_runs, n_iter = params["n_runs"], params["n_iter"]
    n_restarts = n_init * n_runs
    weights, means, variances = strategy_values(params["start"], batch, n_restarts, model, seed)
    apply_given(weights, means, variances, given, batch, model, n_restarts)
    draws = (seed.random_state + seed.first_restart * 0x9E3779B97F4A7C15) % 2**63
    short = _em.run(
        batch,
        model,
        weights,
        means,
        variances,
        max_iter=n_iter,
        tol=0.0,
        algorithm=algorithm,
        seed=draws,
    )
    score = short.log_likelihood + (short.log_map if algorithm == "cem" else 0.0)
    runs = score.reshape(batch.n_datasets, n_init, n_runs)
    best = np.argmax(np.where(np.isfinite(runs), runs, -np.inf), axis=2)
    if algorithm != "em":
        # A CEM or SEM run that emptied a component left it weight 0, which EM never
        # changes: such a run is the start only when every run of the restart did so.
        kept = (short.status < Status.VARIANCE_FLOORED).reshape(runs.shape) & np.isfinite(runs)
        regular = np.argmax(np.where(kept, runs, -np.inf), axis=2)
        best = np.where(kept.any(axis=2), regular, best)
    chosen = np.arange(batch.n_datasets * n_init) * n_runs + best.reshape(-1)
    init_n_iter = short.n_iter.reshape(batch.n_datasets, n_init, n_runs).sum(axis=2)
    return weights[chosen], means[chosen], variances[chosen], init_n_iter
