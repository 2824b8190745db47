"""The search for each dataset's maximum: pools of start strategies, how settled a search
is, and restarts in rounds until it is settled (``fastem.fit(..., n_init="auto")``).

A search is *settled* when its best maximum was reached by at least two restarts and the
probability that one more restart would find a maximum not seen yet is at most ``unseen_tol``.
That probability is estimated as Good and Turing's share of the restarts whose maximum was
found by that restart alone (Finch, Mendell & Thode 1989, JASA 84, "Probabilistic measures of
adequacy of a numerical search for a global maximum"): with ``n`` restarts of which ``n_1``
found a maximum no other restart found, ``p_unseen = n_1 / n``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from . import checks as _validate
from .engine import layout as _layout
from .engine import run as _em
from .engine.status import Status
from .init import _plan, _registry
from .model import Model
from .spurious import SpuriousRule

if TYPE_CHECKING:
    from .result import FitResult

Pool = list[tuple[_registry.Strategy, dict, int]]
"""Strategies, each with its options and number of restarts (0: to be decided)."""
Starts = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
"""Starting weights, means and variances of shape (n_fits, K), and ``init_n_iter``."""

SAME_MAXIMUM = 1e-6
"""Two restarts reached the same maximum when their log-likelihoods differ by at most
``SAME_MAXIMUM * (1 + |l|)``, ``l`` the larger: a fit run to its stopping rule stops
within far less than that of its maximum (with the default rules), and two different
maxima of a mixture likelihood are rarely closer."""
UNSEEN_TOL = 0.05
"""The default ``unseen_tol``: a search is settled when another restart would find a
new maximum with probability at most 5%."""
AUTO_POOL = {"random_from_data": 4, "random": 3, "emem": 3}
"""One round of ``n_init="auto"``: strategies that complement each other. On the panel of
real datasets in ``tests/data/panel`` (``docs/panel/README.md``), emEM's short runs reach
the best maximum most often where maxima are few, and random data points as seeds
("random_from_data") and mixtools' random starts ("random") where the best maximum has a
narrow component, which k-means++ and k-means seldom find; these three between them found
the best known maximum of every candidate there."""
SEARCH_TOL = 1e-5
"""Under the parameter rule with a tighter ``tol`` (the default), the rounds of
``n_init="auto"`` run every restart to this tolerance, and then each dataset's best
restart on to the fit's own ``tol``: the rounds need only tell maxima apart (their log-likelihoods
then stand within far less than ``SAME_MAXIMUM`` of their limits), and the last digits
are worth the iterations only for the fit that is returned."""
AUTO_MAX_INIT = 50
"""The default budget of ``n_init="auto"``: restarts per dataset, in rounds of 10, 10, 20
and 10. On the panel, 100 restarts reached no best maximum that 50 missed."""


class Settledness(NamedTuple):
    """How settled each dataset's search is (:func:`fastem.settledness`), shape (n_datasets,)."""

    n_maxima: np.ndarray  #: int: distinct maxima among the restarts that count.
    n_at_best: np.ndarray  #: int: the restarts that count at the best of them.
    #: float: the Good-Turing probability that one more restart finds a maximum not seen
    #: yet (NaN without any restart that counts).
    p_unseen: np.ndarray
    settled: np.ndarray  #: bool: ``n_at_best >= 2`` and ``p_unseen <= unseen_tol``.


def settledness(
    restart_ll: np.ndarray, counted: np.ndarray, unseen_tol: float = UNSEEN_TOL
) -> Settledness:
    """How settled each search is (maxima told apart by :data:`~fastem.search.SAME_MAXIMUM`).

    Parameters
    ----------
    restart_ll, counted : arrays of shape (n_datasets, n_restarts)
        The restarts' final log-likelihoods, and which of them take part (bool).
    unseen_tol : float, default 0.05
        The largest ``p_unseen`` of a settled search (which needs ``n_at_best >= 2`` too).

    Returns
    -------
    Settledness
        Each field an array of shape (n_datasets,).

    Examples
    --------
    >>> # Dataset 0: one maximum 19 times, another once. Dataset 1: four, 5 times each.
    >>> ll = np.array([[-10.0] * 19 + [-12.5], [-10.0, -11.0, -12.0, -13.0] * 5])
    >>> tuple(fastem.settledness(ll, np.isfinite(ll)))  # n_maxima, n_at_best, p_unseen, settled
    (array([2, 4]), array([19,  5]), array([0.05, 0.  ]), array([ True,  True]))
    """
    restart_ll, counted = np.asarray(restart_ll), np.asarray(counted)
    if restart_ll.shape[1] == 1:  # one restart: a maximum if it counts, never settled
        valid = (counted & np.isfinite(restart_ll))[:, 0]
        found = valid.astype(np.int64)
        return Settledness(found, found.copy(), np.where(valid, 1.0, np.nan), valid & False)
    ll = np.where(counted & np.isfinite(restart_ll), restart_ll, -np.inf)
    ll = -np.sort(-ll, axis=1)  # descending; -inf (not counted) last
    valid = np.isfinite(ll)
    n_datasets, n_restarts = ll.shape
    # A maximum starts where a value is farther than the tolerance below the one before it.
    with np.errstate(invalid="ignore"):
        gap = ll[:, :-1] - ll[:, 1:]
        tol = SAME_MAXIMUM * (1.0 + np.abs(ll[:, :-1]))
        new = np.concatenate([np.ones((n_datasets, 1), dtype=np.bool_), gap > tol], axis=1)
    new &= valid
    ends = np.concatenate(
        [new[:, 1:] | ~valid[:, 1:], np.ones((n_datasets, 1), dtype=np.bool_)], axis=1
    )
    singletons = (new & ends & valid).sum(axis=1)
    n_counted = valid.sum(axis=1)
    n_maxima = new.sum(axis=1)
    later = np.where(new[:, 1:], np.arange(1, n_restarts), n_restarts)
    first_break = later.min(axis=1, initial=n_restarts)
    n_at_best = np.minimum(first_break, n_counted)
    with np.errstate(invalid="ignore", divide="ignore"):
        p_unseen = np.where(n_counted > 0, singletons / n_counted, np.nan)
    settled = (n_at_best >= 2) & (p_unseen <= unseen_tol)
    return Settledness(n_maxima.astype(np.int64), n_at_best.astype(np.int64), p_unseen, settled)


def counted_restarts(restart_status: ArrayLike, skip_degenerate: bool) -> np.ndarray:
    """The restarts a dataset's best is chosen among, which settledness counts: regular
    ones with ``skip_degenerate`` (status below ``SPURIOUS``), else all that ran."""
    return np.asarray(restart_status) < (Status.SPURIOUS if skip_degenerate else Status.NOT_RUN)


def no_better(fit: FitResult, smaller: FitResult | None) -> np.ndarray:
    """Per dataset: whether ``fit`` (``K`` components) has a log-likelihood no better than
    ``smaller`` (``K - 1``, or None) within :data:`SAME_MAXIMUM`: that fit with a component
    duplicated or emptied, not a mixture of more components. False without ``smaller``."""
    ll = np.atleast_1d(fit.log_likelihood)
    if smaller is None:
        return np.zeros(ll.shape, dtype=np.bool_)
    below = np.atleast_1d(smaller.log_likelihood)
    with np.errstate(invalid="ignore"):
        return ll <= below + SAME_MAXIMUM * (1.0 + np.abs(below))


# --- pools of strategies ---------------------------------------------------------------


def parse_init(text: str) -> str | dict[str, int]:
    """A strategy's name as it is, or a pool written ``name=restarts,...`` (``"random=10,
    kmeans++=10"``, as the command line and study designs write it) as a dict."""
    if "=" not in text:
        return text
    pool = {}
    for part in text.split(","):
        name, _, count = part.partition("=")
        try:
            pool[name.strip()] = int(count)
        except ValueError:
            raise ValueError(
                f"init {text!r}: {part!r} is not name=restarts; write a pool as "
                "random=10,kmeans++=10."
            ) from None
    checked_pool(pool, None, False)
    return pool


def checked_pool(init: str | dict | None, init_params: dict | None, auto: bool) -> Pool:
    """``init`` as a list of ``(strategy, its options, restarts)``: a name (one strategy, restarts
    to be decided), a dict ``{name: restarts}`` (a pool), or None (k-means++, or
    :data:`AUTO_POOL` with ``auto``). ``init_params`` go to the strategies that take them (emEM)."""
    if init is None:
        init = dict(AUTO_POOL) if auto else "kmeans++"
    if isinstance(init, str):  # with auto, rounds of AUTO_POOL's size of the one strategy
        return [(*_registry.checked(init, init_params), sum(AUTO_POOL.values()) if auto else 0)]
    if not isinstance(init, dict) or not init:
        raise TypeError(
            "init must be a strategy's name or a dict of restarts per strategy (for example "
            f"{{'random': 10, 'kmeans++': 10}}), got {init!r}."
        )
    pool = []
    for name, count in init.items():
        strategy, _ = _registry.checked(name, None)
        options = {
            key: value for key, value in (init_params or {}).items() if key in strategy.options
        }
        count = _validate.check_int(f"init[{name!r}]", count, 1, _validate.MAX_ITER_LIMIT)
        pool.append((*_registry.checked(name, options), count))
    if init_params:
        known = {key for strategy, _, _ in pool for key in strategy.options}
        unknown = sorted(set(init_params) - known)
        if unknown:
            raise ValueError(
                f"init_params {unknown} are not options of any strategy in init {sorted(init)}."
            )
    return pool


def fixed_pool(pool: Pool, n_init: int) -> tuple[Pool, int]:
    """A pool of a fixed number of restarts, and that number: ``n_init`` restarts of one
    strategy, or a pool's own counts (with ``n_init`` left at 1 or equal to their total)."""
    if len(pool) == 1 and pool[0][2] == 0:
        return [(pool[0][0], pool[0][1], n_init)], n_init
    total = sum(count for _, _, count in pool)
    if n_init not in (1, total):
        raise ValueError(
            f"n_init={n_init} but init pools {total} restarts per dataset; leave n_init at 1 "
            "(or pass the total) with a dict of restarts per strategy."
        )
    return pool, total


def slots(strategy: _registry.Strategy, options: dict, count: int) -> int:
    """Random streams a strategy's ``count`` restarts use: emEM draws ``n_runs`` per restart."""
    return count * options.get("n_runs", 1)


def pooled_values(
    pool: Pool,
    batch: _layout.Batch,
    model: Model,
    seed: _validate.Seed,
    given: _validate.Given = _validate.NOTHING_GIVEN,
) -> Starts:
    """Starting values of shape (n_datasets * R, K) of every strategy of ``pool`` (a list of
    ``(strategy, options, restarts)``), each dataset's restarts in the pool's order, and
    ``init_n_iter`` (n_datasets, R). Strategy ``s`` draws from restart numbers after those of
    the strategies before it, so that no two restarts share a stream. ``given`` (arrays of R
    restarts, or of one) is laid over all restarts, as :func:`fastem.fit` does."""
    total = sum(count for _, _, count in pool)
    parts = []
    first, at = seed.first_restart, 0
    for strategy, options, count in pool:
        own = _validate.Given(
            *(
                value if value is None or value.shape[1] != total else value[:, at : at + count]
                for value in given
            )
        )
        strategy_seed = seed._replace(first_restart=first)
        values = _plan.starting_values(strategy, options, batch, model, count, strategy_seed, own)
        parts.append(values)
        first += slots(strategy, options, count)
        at += count
    return _side_by_side(parts, model.n_components)


def _side_by_side(parts: list[Starts], n_components: int) -> Starts:
    """Starting values of several parts of the same datasets joined: each dataset's
    restarts of every part in turn."""
    grid = (parts[0][3].shape[0], -1, n_components)  # (n_datasets, restarts, K)
    weights, means, variances = (
        np.concatenate([p[i].reshape(grid) for p in parts], axis=1).reshape(-1, n_components)
        for i in range(3)
    )
    return weights, means, variances, np.concatenate([p[3] for p in parts], axis=1)


# --- rounds of restarts ----------------------------------------------------------------


def round_sizes(pool_size: int, max_init: int) -> list[int]:
    """Restarts of each round of ``n_init="auto"``: one pool, one more, then doubling, up
    to ``max_init`` in all (a last round cut to what is left)."""
    sizes, done, multiple = [], 0, 1
    while done < max_init:
        size = min(multiple * pool_size, max_init - done)
        sizes.append(size)
        done += size
        multiple *= 2 if len(sizes) > 1 else 1
    return sizes


def _scaled_pool(pool, size):
    """``pool`` scaled to ``size`` restarts in all, in its proportions (at least one
    restart of the first strategy)."""
    base = sum(count for _, _, count in pool)
    counts = [count * size // base for _, _, count in pool]
    counts[0] += size - sum(counts)
    return [(s, o, c) for (s, o, _), c in zip(pool, counts) if c > 0]


NOT_RUN = dict(
    log_likelihood=np.nan,
    log_map=np.nan,
    n_iter=0,
    converged=False,
    status=Status.NOT_RUN,
    n_fpeval=0,
    n_objeval=0,
    rate=np.nan,
    parameter_rate=np.nan,
)
"""What a restart that did not run holds in each output of the kernel (``_em.Run``);
:class:`fastem.FitResult`'s per-restart fields take theirs from it."""


class Rounds(NamedTuple):
    """The outcome of :func:`run_rounds` (or of a fixed ``n_init``'s one round), per fit of a
    grid of (n_datasets, R) restarts, padded with ``Status.NOT_RUN`` where a search settled."""

    weights: np.ndarray
    means: np.ndarray
    variances: np.ndarray
    run: _em.Run
    init_n_iter: np.ndarray
    n_restarts: np.ndarray
    starts: tuple | None


def run_rounds(
    pool: Pool,
    batch: _layout.Batch,
    model: Model,
    seed: _validate.Seed,
    given: _validate.Given,
    n_given: int,
    run_options: dict,
    *,
    max_init: int,
    unseen_tol: float,
    skip_degenerate: bool,
    spurious_rule: SpuriousRule,
    keep_starts: bool,
) -> Rounds:
    """Restarts in rounds until each dataset's search is settled or has spent
    ``max_init`` restarts; the ``n_given`` given starts (``given``, each of shape
    (n_datasets, n_given, K)) run in the first round besides the pool's."""
    n_datasets = batch.n_datasets
    blocks = []  # (rows, weights, means, variances, run, init_n_iter, starts) per round
    # Rounds to SEARCH_TOL and a polish of the best only under the parameter rule, tighter than
    # it, and without a trace (which follows every fit to its end): another rule is run as it
    # was asked for, as is a looser tol.
    stop, tol, traced = (run_options[name] for name in ("stop", "tol", "trace_length"))
    polish = stop == "parameter" and tol < SEARCH_TOL and not traced
    search_options = dict(run_options, tol=SEARCH_TOL) if polish else run_options
    active = np.arange(n_datasets)
    first = seed.first_restart
    ll_so_far = np.full((n_datasets, 0), np.nan)
    status_so_far = np.full((n_datasets, 0), Status.NOT_RUN, dtype=np.int8)
    for index, size in enumerate(round_sizes(sum(c for _, _, c in pool), max_init)):
        sub = batch if active.size == n_datasets else batch.take(active)
        parts = []
        if index == 0 and n_given:  # the first round has every dataset: sub is batch
            strategy, options, _ = pool[0]
            seed_0 = seed._replace(first_restart=0)
            values = _plan.starting_values(strategy, options, sub, model, n_given, seed_0, given)
            parts.append(values)
        round_pool = _scaled_pool(pool, size)
        parts.append(pooled_values(round_pool, sub, model, seed._replace(first_restart=first)))
        first += sum(slots(s, o, c) for s, o, c in round_pool)
        weights, means, variances, init_n_iter = _side_by_side(parts, model.n_components)
        starts = (weights.copy(), means.copy(), variances.copy()) if keep_starts else None
        run = _em.run(sub, model, weights, means, variances, **search_options)
        blocks.append((active, weights, means, variances, run, init_n_iter, starts))
        ll, status = _round_outcomes(
            sub, active, n_datasets, run, (weights, variances), spurious_rule
        )
        ll_so_far = np.concatenate([ll_so_far, ll], axis=1)
        status_so_far = np.concatenate([status_so_far, status], axis=1)
        counted = counted_restarts(status_so_far, skip_degenerate)
        active = active[~settledness(ll_so_far, counted, unseen_tol).settled[active]]
        if active.size == 0:
            break
    rounds = _assemble(blocks, n_datasets, model.n_components, keep_starts)
    if polish:
        counted = counted_restarts(status_so_far, skip_degenerate) & np.isfinite(ll_so_far)
        _polish(rounds, batch, model, run_options, counted, ll_so_far)
    return rounds


def _round_outcomes(sub, rows, n_datasets, run, fitted, spurious_rule):
    """The final log-likelihoods of a round's restarts, in the data's units as the result
    will report them, and their status (``Status.SPURIOUS`` where ``spurious_rule`` flags
    a regular fit of the ``fitted`` weights and variances); arrays of shape (n_datasets,
    width), the rows of the datasets not in the round (``rows``) ``Status.NOT_RUN``."""
    width = run.log_likelihood.size // rows.size
    grid = (rows.size, width, -1)
    ll = np.full((n_datasets, width), np.nan)
    ll[rows] = _layout.log_likelihood_to_data_units(
        run.log_likelihood.reshape(rows.size, width), sub.scale, sub.n_observations
    )
    weights, variances = fitted
    flags = spurious_rule.flags(
        weights.reshape(grid), variances.reshape(grid), sub.n_observations[:, np.newaxis]
    )
    rows_status = run.status.reshape(rows.size, width).copy()
    rows_status[flags & (rows_status < Status.SPURIOUS)] = Status.SPURIOUS
    status = np.full((n_datasets, width), Status.NOT_RUN, dtype=np.int8)
    status[rows] = rows_status
    return ll, status


def _polish(rounds, batch, model, run_options, counted, ll):
    """Run each dataset's best restart (among ``counted``, by ``ll``; of all when none
    counts) on to the fit's own stopping rule, in place in ``rounds``."""
    n_datasets, width = ll.shape
    ranking = np.where(np.isfinite(ll), ll, -np.inf)
    ranking = np.where(
        counted.any(axis=1, keepdims=True), np.where(counted, ranking, -np.inf), ranking
    )
    best = np.arange(n_datasets) * width + np.argmax(ranking, axis=1)
    weights, means, variances = (a[best].copy() for a in rounds[:3])
    run = _em.run(batch, model, weights, means, variances, **run_options)
    for array, values in zip(rounds[:3], (weights, means, variances)):
        array[best] = values
    earlier = rounds.run
    for name in ("log_likelihood", "log_map", "converged", "status", "rate", "parameter_rate"):
        getattr(earlier, name)[best] = getattr(run, name)
    for name in ("n_iter", "n_fpeval", "n_objeval"):  # the search's and the polish's
        getattr(earlier, name)[best] += getattr(run, name)


def _assemble(blocks, n_datasets, n_components, keep_starts) -> Rounds:
    """Rounds' blocks scattered into one padded grid of (n_datasets, R) restarts."""
    widths = [block[4].log_likelihood.size // block[0].size for block in blocks]
    total = sum(widths)
    n_restarts = np.zeros(n_datasets, dtype=np.int64)
    shape = (n_datasets, total, n_components)
    params = [np.full(shape, np.nan) for _ in range(3)]
    starts = [np.full(shape, np.nan) for _ in range(3)] if keep_starts else None
    init_n_iter = np.zeros((n_datasets, total), dtype=np.int64)
    template = blocks[0][4]
    outputs = {
        name: np.full((n_datasets, total), value, dtype=getattr(template, name).dtype)
        for name, value in NOT_RUN.items()
    }
    trace = None
    if template.trace is not None:
        trace = np.full((n_datasets, total, template.trace.shape[1]), np.nan)
    at = 0
    for (rows, weights, means, variances, run, iters, start), width in zip(blocks, widths):
        columns = slice(at, at + width)
        for array, values in zip(params, (weights, means, variances)):
            array[rows, columns] = values.reshape(rows.size, width, n_components)
        if starts is not None:
            for array, values in zip(starts, start):
                array[rows, columns] = values.reshape(rows.size, width, n_components)
        init_n_iter[rows, columns] = iters
        for name, array in outputs.items():
            array[rows, columns] = getattr(run, name).reshape(rows.size, width)
        if trace is not None:
            trace[rows, columns] = run.trace.reshape(rows.size, width, -1)
        n_restarts[rows] += width
        at += width
    run = _em.Run(
        **{name: array.reshape(-1) for name, array in outputs.items()},
        trace=None if trace is None else trace.reshape(n_datasets * total, -1),
    )
    weights, means, variances = (a.reshape(-1, n_components) for a in params)
    flat_starts = None if starts is None else tuple(a.reshape(-1, n_components) for a in starts)
    return Rounds(weights, means, variances, run, init_n_iter, n_restarts, flat_starts)
