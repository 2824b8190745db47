"""From every restart's fit to a :class:`~fastem.result.FitResult`: each dataset's best
restart, in the data's units, with its search's settledness and standard errors; which
restarts the best is chosen among; and the padding of a result to more restarts."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from . import priors as _priors
from . import search
from .checks import Given
from .engine import information as _information
from .engine import layout as _layout
from .engine.layout import Batch
from .engine.status import Status
from .model import Model
from .result import FitResult
from .search import Rounds
from .spurious import SpuriousRule


class Stopping(NamedTuple):
    """The algorithm and stopping rule the fits ran with, as :func:`fastem.fit` took them."""

    tol: float
    max_iter: int
    algorithm: str
    stop: str


class Choice(NamedTuple):
    """How each dataset's returned fit is chosen among its restarts and reported.

    ``skip_degenerate``: choose among the regular restarts (status below ``SPURIOUS``)
    when there are any; ``sort_components``: components by increasing mean;
    ``spurious_rule`` marks ``Status.SPURIOUS``; ``se``: the information of the standard
    errors ("score" or "louis"), or None for none; ``unseen_tol``: the bound on
    ``p_unseen`` of a settled search; ``auto_search``: the restarts ran in rounds until
    settled (``n_init="auto"``).
    """

    skip_degenerate: bool
    sort_components: bool
    spurious_rule: SpuriousRule
    se: str | None = None
    unseen_tol: float = search.UNSEEN_TOL
    auto_search: bool = False


def best_of_restarts(
    batch: Batch,
    model: Model,
    given: Given,
    restarts: Rounds,
    stopping: Stopping,
    choice: Choice,
    *,
    starts_moved: bool = False,
) -> FitResult:
    """The :class:`FitResult` of a batch: the best restart per dataset, components sorted
    by mean (if asked), back in the data's units, with standard errors if asked.

    Parameters
    ----------
    batch : Batch
        The data the restarts were fitted to.
    model : Model
        The model fitted.
    given : Given
        The given starting values (fixed components come back exactly as given).
    restarts : Rounds
        Every restart's fit, per fit of a grid of shape (n_datasets, n_init): parameters
        and kernel output in standardised units, the iterations spent on starting values,
        the restarts each dataset ran (fewer than ``n_init`` where the grid is padded with
        ``Status.NOT_RUN``) and the starting values (or None).
    stopping : Stopping
        The algorithm and stopping rule the fits ran with.
    choice : Choice
        How the returned fit is chosen and reported.
    starts_moved : bool
        Whether the strategy moved the given starting values (emEM's short runs).

    Returns
    -------
    FitResult
    """
    n_init = restarts.init_n_iter.shape[1]
    grid = (batch.n_datasets, n_init, model.n_components)
    fixed = (model.fixed_weights, model.fixed_means, model.fixed_variances)
    params = (restarts.weights, restarts.means, restarts.variances)
    fitted = _to_data_units(batch, given, fixed, grid, *params)
    restart_ll, restart_status = _restart_outcomes(
        batch, restarts.run, grid, fitted, choice.spurious_rule
    )
    plain_ll = restart_ll
    if model.penalty is not None:  # the restarts compete by the penalised log-likelihood
        restart_ll, plain_ll = _priors.split(model, batch, restart_ll, params)
    counted = search.counted_restarts(restart_status, choice.skip_degenerate)
    settled = search.settledness(restart_ll, counted, choice.unseen_tol)
    best = _best_restart(restart_ll, restart_status, choice.skip_degenerate)
    fitted, order = _sorted_components(fitted, choice.sort_components)
    chosen = (np.arange(batch.n_datasets), best)  # indexes each dataset's returned restart
    returned = dict(zip(("weights", "means", "variances"), (a[chosen] for a in fitted)))
    standard_errors = None
    if choice.se is not None:
        # The fixed components of each returned fit, wherever sorting put them.
        returned_fixed = tuple(mask[order[chosen]] for mask in fixed)
        usable = np.isfinite(restart_ll[chosen])
        standard_errors = _information.standard_errors(
            batch,
            choice.se,
            returned["weights"],
            returned["means"],
            returned["variances"],
            returned_fixed,
            model.equal_variance,
            usable,
        )
    starts = {}
    if restarts.starts is not None:
        kept = fixed if starts_moved else None
        starts = _restart_parameters(batch, given, kept, grid, fitted, restarts.starts)
    outputs = {name: values[chosen] for name, values in _outputs(restarts.run, grid).items()}
    return FitResult(
        **returned,
        log_likelihood=plain_ll[chosen],
        penalized_log_likelihood=None if model.penalty is None else restart_ll[chosen],
        **outputs,
        status=restart_status[chosen],
        best_restart=best,
        n_restarts=restarts.n_restarts,
        **settled._asdict(),
        **_every_restart(batch, restarts, grid, restart_ll, restart_status, model),
        n_samples=batch.n_samples_given.copy(),  # the result's own, writable
        n_observations=batch.n_observations.copy(),
        model=model,
        **stopping._asdict(),
        spurious_rule=choice.spurious_rule,
        skip_degenerate=choice.skip_degenerate,
        unseen_tol=choice.unseen_tol,
        auto_search=choice.auto_search,
        standard_errors=standard_errors,
        **starts,
    )


# --- the steps of best_of_restarts -----------------------------------------------------


def _to_data_units(batch, given, masks, grid, weights, means, variances):
    """Parameters of shape (n_fits, K) in the data's units, shaped to ``grid``.

    Components marked in ``masks`` (one boolean array of shape (K,) per parameter) are
    copied from the given values, so that they come back exactly as given rather than
    through a round trip of standardisation (or normalisation, for weights).
    """
    arrays = (
        weights.reshape(grid).copy(),
        _layout.means_to_data(batch.center, batch.scale, means.reshape(grid)),
        _layout.variances_to_data(batch.scale, variances.reshape(grid)),
    )
    for mask, array, value in zip(masks, arrays, given):
        if value is not None and mask.any():
            array[..., mask] = value[..., mask]
    return arrays


def _restart_outcomes(batch, run, grid, fitted, spurious_rule):
    """Every restart's log-likelihood in the data's units (NaN for a non-finite one) and
    its status, ``Status.SPURIOUS`` where ``spurious_rule`` flags a regular fit of the
    ``fitted`` parameters; arrays of shape (n_datasets, n_init)."""
    n_datasets, n_init, _ = grid
    restart_ll = _layout.log_likelihood_to_data_units(
        run.log_likelihood.reshape(n_datasets, n_init), batch.scale, batch.n_observations
    )
    restart_ll[~np.isfinite(restart_ll)] = np.nan
    restart_status = run.status.reshape(n_datasets, n_init).copy()
    weights, _, variances = fitted
    spurious = spurious_rule.flags(weights, variances, batch.n_observations[:, np.newaxis])
    restart_status[spurious & (restart_status < Status.SPURIOUS)] = Status.SPURIOUS
    return restart_ll, restart_status


def _best_restart(restart_ll, restart_status, skip_degenerate) -> np.ndarray:
    """Each dataset's restart of the highest log-likelihood, among the regular ones with
    ``skip_degenerate`` (see :func:`kept_restarts`): indices of shape (n_datasets,)."""
    ranking = np.nan_to_num(restart_ll, nan=-np.inf)
    if skip_degenerate:
        ranking = np.where(kept_restarts(restart_status), ranking, -np.inf)
    # A dataset whose restarts are all non-finite keeps restart 0 (flagged by its status).
    return np.argmax(ranking, axis=1)


def _sorted_components(fitted, sort_components):
    """The ``fitted`` parameters of every restart, shape (n_datasets, n_init, K), with
    components sorted by increasing mean (if ``sort_components``), and the order that
    sorted them (the components' own order otherwise)."""
    means = fitted[1]
    if not sort_components:
        return fitted, np.broadcast_to(np.arange(means.shape[2]), means.shape)
    order = np.argsort(means, axis=2, kind="stable")
    # np.take_along_axis's gather, its index arrays built once for the three.
    n_datasets, n_init, _ = order.shape
    datasets = np.arange(n_datasets)[:, np.newaxis, np.newaxis]
    restarts = np.arange(n_init)[np.newaxis, :, np.newaxis]
    return tuple(a[datasets, restarts, order] for a in fitted), order


def _outputs(run, grid) -> dict[str, np.ndarray]:
    """The kernel's outputs that a :class:`FitResult` reports for its returned fit, by the
    field's name, each of shape (n_datasets, n_init)."""
    names = ("n_iter", "n_fpeval", "n_objeval", "rate", "parameter_rate", "converged", "log_map")
    return {name: getattr(run, name).reshape(grid[:2]) for name in names}


def _every_restart(batch, restarts, grid, restart_ll, restart_status, model) -> dict[str, Any]:
    """The per-restart fields of a :class:`FitResult`, arrays of shape (n_datasets,
    n_init): every restart's log-likelihood, iterations, EM maps, status and convergence,
    the iterations spent on its starting values, and its trace (or None, else of shape
    (n_datasets, n_init, max_iter + 1), in the data's units; penalised with a penalty)."""
    run = restarts.run
    trace = run.trace
    if trace is not None:
        trace = _layout.log_likelihood_to_data_units(
            trace.reshape(*grid[:2], -1), batch.scale, batch.n_observations
        )
        if model.penalty is not None:
            constants = model.penalty.rows_and_constants(
                batch, model.n_components, model.equal_variance
            )[1]
            trace += constants[:, np.newaxis, np.newaxis]
    return dict(
        restart_log_likelihood=restart_ll,
        restart_n_iter=run.n_iter.reshape(grid[:2]),
        restart_n_fpeval=run.n_fpeval.reshape(grid[:2]),
        restart_status=restart_status,
        restart_converged=run.converged.reshape(grid[:2]),
        init_n_iter=restarts.init_n_iter,
        trace=trace,
    )


def _restart_parameters(batch, given, fixed, grid, fitted, starts) -> dict[str, Any]:
    """The fields of ``return_restarts=True``: every restart's ``fitted`` parameters (in
    the data's units, sorted as the returned fits) and ``starts``, its starting values
    (standardised, as the strategy chose them), in the data's units.

    Given starting values are used as they are, except by emEM, whose short runs move all
    but the ``fixed`` ones: ``fixed`` holds the model's masks then, else None.
    """
    every = np.ones(grid[2], dtype=np.bool_)
    kept = (every, every, every) if fixed is None else fixed
    start_weights, start_means, start_variances = _to_data_units(batch, given, kept, grid, *starts)
    return dict(
        restart_weights=fitted[0],
        restart_means=fitted[1],
        restart_variances=fitted[2],
        start_weights=start_weights,
        start_means=start_means,
        start_variances=start_variances,
    )


# --- restarts a dataset's fit is chosen among, and restarts that did not run -------------


def kept_restarts(restart_status: np.ndarray) -> np.ndarray:
    """Which restarts ``skip_degenerate`` chooses among: the regular ones (status below
    ``SPURIOUS``) of a dataset that has any, else all of them."""
    regular = np.asarray(restart_status) < Status.SPURIOUS
    return regular | ~regular.any(axis=-1, keepdims=True)


_RESTART_PADDING = {
    **{
        f"restart_{name}": search.NOT_RUN[name]
        for name in ("log_likelihood", "n_iter", "n_fpeval", "status", "converged")
    },
    "init_n_iter": 0,
    "trace": np.nan,
    **{
        f"{kind}_{name}": np.nan
        for kind in ("restart", "start")
        for name in ("weights", "means", "variances")
    },
}
"""What a restart that did not run holds in each per-restart field of a FitResult."""


def pad_restarts(values: np.ndarray, name: str, n_init: int, width: int) -> np.ndarray:
    """The field ``name`` of a result of ``n_init`` restarts per dataset, padded as restarts
    that did not run to ``width`` (its other fields as they are)."""
    if name not in _RESTART_PADDING or n_init == width:
        return values
    pad = [(0, 0)] * values.ndim
    pad[1] = (0, width - n_init)
    return np.pad(values, pad, constant_values=_RESTART_PADDING[name])
