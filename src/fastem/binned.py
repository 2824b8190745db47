"""Binned and interval-censored data: :class:`Intervals`, their checks, and what
:func:`fastem.fit` needs to fit them by EM for grouped data (:mod:`.engine.intervals`).

A dataset of intervals is packed as a batch of points (:mod:`.engine.layout`) whose
points are the intervals' midpoints (a censored interval's finite end) weighted by the
counts: the starting-value strategies run on it, and its standardisation (centre and
scale) is the one the intervals are fitted in.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from .checks import listed
from .engine.layout import Batch

__all__ = ["Intervals"]


@dataclass(frozen=True, eq=False)
class Intervals:
    """One dataset of interval observations ``[lower, upper)``, each seen ``counts`` times:
    binned data (a histogram), or censored data (``lower = -inf`` for an observation
    known only to lie below ``upper``, ``upper = inf`` for one known only to lie above
    ``lower``).

    :func:`fastem.fit` and :func:`fastem.select` take an ``Intervals`` (one dataset) or a
    list of them (a batch) and maximise the likelihood of the intervals themselves,
    ``sum_i c_i log sum_k w_k (Phi_k(upper_i) - Phi_k(lower_i))`` (with the density
    ``phi_k`` at an exact value), by EM for grouped data (see the guide's page on binned
    data).

    Parameters
    ----------
    lower, upper : array of shape (n_intervals,)
        The ends of each interval, ``lower <= upper``; ``lower`` may be ``-inf`` and
        ``upper`` ``inf``, not both. ``lower == upper`` is an exact observation, which
        contributes its density, as a point does (a censored sample mixes exact values
        with open intervals).
    counts : array of shape (n_intervals,), optional
        How many observations fell in each interval (finite, at least 0, one at least
        positive; need not be integers). By default 1 each. Intervals of count 0 are
        dropped.

    Examples
    --------
    >>> binned = fastem.Intervals.from_bins([0.0, 1.0, 2.0, 3.0], [5, 10, 5])
    >>> binned.lower, binned.upper, binned.counts
    (array([0., 1., 2.]), array([1., 2., 3.]), array([ 5., 10.,  5.]))
    >>> float(binned.n_observations)
    20.0
    """

    #: ndarray of shape (n_intervals,): each interval's lower end (``-inf``: open),
    #: read-only.
    lower: np.ndarray
    #: ndarray of shape (n_intervals,): each interval's upper end (``inf``: open).
    upper: np.ndarray
    #: ndarray of shape (n_intervals,): each interval's count, float64.
    counts: np.ndarray

    def __init__(self, lower: ArrayLike, upper: ArrayLike, counts: ArrayLike | None = None):
        lower_array = _vector(lower, "lower")
        upper_array = _vector(upper, "upper")
        if counts is None:
            counts = np.ones(lower_array.shape)
        counts_array = _vector(counts, "counts")
        _check_intervals(lower_array, upper_array, counts_array)
        for name, value in zip(self.__dataclass_fields__, (lower_array, upper_array, counts_array)):
            value.setflags(write=False)
            object.__setattr__(self, name, value)

    @classmethod
    def from_bins(cls, edges: ArrayLike, counts: ArrayLike) -> Intervals:
        """The intervals of a histogram: bin ``j`` is ``[edges[j], edges[j + 1])`` with
        ``counts[j]`` observations (``np.histogram``'s output, say). ``edges`` are
        increasing, one more than ``counts``; an end of ``-inf`` or ``inf`` makes an open
        first or last bin."""
        edges_array = _vector(edges, "edges")
        counts_array = _vector(counts, "counts")
        if edges_array.size != counts_array.size + 1:
            raise ValueError(
                f"from_bins needs one more edge than counts; got {edges_array.size} edges "
                f"and {counts_array.size} counts."
            )
        return cls(edges_array[:-1], edges_array[1:], counts_array)

    @property
    def n_observations(self) -> float:
        """The total count: the ``n`` of BIC."""
        return float(np.sum(self.counts))

    @property
    def midpoints(self) -> np.ndarray:
        """Each interval's midpoint, or its finite end when it is censored: where the
        starting-value strategies see its observations."""
        with np.errstate(invalid="ignore"):
            middle = 0.5 * self.lower + 0.5 * self.upper
        return np.where(
            np.isinf(self.lower), self.upper, np.where(np.isinf(self.upper), self.lower, middle)
        )


def _vector(value, name) -> np.ndarray:
    try:
        array = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be an array of numbers.") from None
    if array.ndim != 1:
        raise ValueError(
            f"{name} has shape {array.shape}; Intervals holds one dataset, a 1D array per "
            "argument (give a list of Intervals for several datasets)."
        )
    return array


def _check_intervals(lower, upper, counts) -> None:
    """Same lengths, ``lower <= upper`` with open ends only outwards, counts finite >= 0
    with one positive: each message names the first bad interval and the fix."""
    if not lower.size == upper.size == counts.size:
        raise ValueError(
            f"lower, upper and counts have lengths {lower.size}, {upper.size} and "
            f"{counts.size}; give one of each per interval."
        )
    problems = (
        (np.isnan(lower) | np.isnan(upper), "has a NaN end; drop it"),
        (lower == np.inf, "has lower = inf; a right-censored interval is [a, inf)"),
        (upper == -np.inf, "has upper = -inf; a left-censored interval is [-inf, b)"),
        (np.isinf(lower) & np.isinf(upper), "is (-inf, inf), which says nothing; drop it"),
        (lower > upper, "has lower > upper; swap them"),
        (~np.isfinite(counts), "has a count that is not finite"),
        (counts < 0, "has a negative count"),
    )  # fmt: skip
    for bad, message in problems:
        if bad.any():
            where = np.flatnonzero(bad)
            raise ValueError(
                f"interval(s) {listed(where)} {message} (first: [{lower[where[0]]!r}, "
                f"{upper[where[0]]!r}) with count {counts[where[0]]!r})."
            )
    if not (counts > 0).any():
        raise ValueError("every count is 0; an Intervals needs at least one observation.")


# --- Intervals in a fit -------------------------------------------------------------------


def is_intervals(data) -> bool:
    """Whether ``data`` is an :class:`Intervals` or a non-empty list of them."""
    if isinstance(data, Intervals):
        return True
    return (
        isinstance(data, Sequence)
        and len(data) > 0
        and any(isinstance(item, Intervals) for item in data)
    )


def datasets(data, first: int = 0) -> tuple[list[Intervals], bool]:
    """The datasets of ``data`` (:func:`is_intervals`), without their intervals of count 0,
    and whether it was one ``Intervals`` (a single dataset)."""
    single = isinstance(data, Intervals)
    items = [data] if single else list(data)
    for d, item in enumerate(items):
        if not isinstance(item, Intervals):
            raise TypeError(
                f"dataset {first + d} is a {type(item).__name__}, in a list of Intervals; "
                "give every dataset as fastem.Intervals (points as Intervals of width 0 are "
                "not supported: fit points and intervals in separate calls)."
            )
    kept = []
    for item in items:
        keep = item.counts > 0
        kept.append(item if keep.all() else Intervals(*(a[keep] for a in _arrays(item))))
    return kept, single


def _arrays(item: Intervals) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return item.lower, item.upper, item.counts


def points(items: list[Intervals], single: bool):
    """``(data, sample_weight)`` for :func:`fastem.batch.prepared_batch`: each dataset's
    :attr:`Intervals.midpoints` weighted by its counts."""
    if single:
        return items[0].midpoints, items[0].counts
    return [item.midpoints for item in items], [item.counts for item in items]


def check_options(settings: dict, given_names) -> None:
    """Refuse the options of :func:`fastem.fit` that intervals take at one value only,
    naming the fix. An ``algorithm`` the call did not give (not in ``given_names``) is
    fit's default, which means EM for intervals: EM for grouped data is their one
    algorithm."""
    if settings["n_init"] == "auto":
        raise ValueError(
            "n_init='auto' is not supported for Intervals; give a number of restarts "
            "(n_init=10, say)."
        )
    if "algorithm" in given_names:
        _refuse("algorithm", settings["algorithm"], "em", "EM is their one algorithm")
    _refuse("se", settings["se"], None, "their standard errors are not computed")
    for name in ("penalty", "prior"):
        _refuse(name, settings[name], None, "their penalised likelihood is not implemented")
    _refuse(
        "sample_weight",
        None if settings["sample_weight"] is None else "given",
        None,
        "the counts of Intervals are the observations' weights",
    )
    if np.dtype(settings["dtype"]) != np.float64:
        raise ValueError("Intervals are fitted in float64; leave dtype at its default.")


def _refuse(name: str, value, allowed, why: str) -> None:
    if value != allowed:
        raise ValueError(
            f"{name}={value!r} is not supported for Intervals ({why}); leave {name} at {allowed!r}."
        )


def standardised(items: list[Intervals], batch: Batch, n_init: int) -> tuple:
    """The intervals in ``batch``'s standardisation, packed in its layout, for
    :func:`fastem.engine.intervals.run_intervals`: ``(lower, upper, counts, offsets,
    shifts, n_init)``, ``shifts`` the change of units of the exact values' densities."""
    assert batch.center is not None and batch.scale is not None  # a prepared batch
    repeat = np.diff(batch.offsets)
    center = np.repeat(batch.center, repeat)
    inv_scale = np.repeat(1.0 / batch.scale, repeat)
    lower, upper, counts = (np.concatenate(arrays) for arrays in zip(*map(_arrays, items)))
    lower = (lower - center) * inv_scale
    upper = (upper - center) * inv_scale
    # Exact values' densities are of standardised units: each adds -log(scale). (An exact
    # value stays exact: both its ends go through the same arithmetic.)
    exact = np.array([np.sum(item.counts[item.lower == item.upper]) for item in items])
    shifts = -exact * np.log(batch.scale)
    return (lower, upper, counts, batch.offsets, shifts, np.int64(n_init))


def with_probabilities(result, run):
    """``result`` (of :func:`fastem.restarts.best_of_restarts`, which takes every
    log-likelihood for a density of standardised points) with the intervals'
    log-likelihoods, ``run``'s, already in the data's units."""
    restart = result.restart_log_likelihood
    every = run.log_likelihood.reshape(restart.shape).copy()
    every[np.isnan(restart)] = np.nan
    chosen = every[np.arange(every.shape[0]), result.best_restart]
    trace = None if run.trace is None else run.trace.reshape(result.trace.shape)
    return dataclasses.replace(
        result, log_likelihood=chosen, restart_log_likelihood=every, trace=trace
    )
