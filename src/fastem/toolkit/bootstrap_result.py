"""What :func:`fastem.bootstrap` gives: every replicate's estimates and status
(:class:`Replicates`), their summaries (standard errors and percentile intervals, without
the replicates left out) and the warning about those left out, and the
:class:`BootstrapResult` with its table."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ..engine.status import Status
from ..result import DegenerateFitWarning, FitResult
from ..table import Table
from . import refit as _refit

LEFT_OUT_SHARE = 0.05
"""Share of a dataset's replicates left out (failed, spurious or ambiguous) above which
:func:`bootstrap` warns."""


@dataclass(frozen=True, repr=False)
class BootstrapResult:
    """What :func:`bootstrap` found. Arrays have a leading dataset axis, dropped for one 1D
    dataset; components run to the largest ``K`` of any dataset, NaN beyond a dataset's own.

    Examples
    --------
    See :func:`fastem.bootstrap`.
    """

    #: :class:`fastem.FitResult`, or dict of int to FitResult: the fit to the data whose
    #: parameters are bootstrapped; when datasets have different numbers of components,
    #: ``fit[K]`` fits the datasets with ``K`` components, in their order
    #: (``np.flatnonzero(n_components == K)``).
    fit: FitResult | dict
    #: {"parametric", "nonparametric", "weighted"}: how the replicates were drawn.
    kind: str
    #: int: replicates per dataset.
    n_boot: int
    #: float: the coverage of the percentile intervals.
    level: float
    #: int array of shape (n_datasets,): each dataset's number of components ``K``.
    n_components: np.ndarray
    #: array of shape (n_datasets, n_boot, K): every replicate's weights, components
    #: matched to ``fit``'s (the labelling of least cost, see :func:`fastem.bootstrap`);
    #: NaN for a failed or spurious replicate. An ambiguous replicate keeps its estimates
    #: here, but not in the summaries.
    weights: np.ndarray
    #: array of shape (n_datasets, n_boot, K): every replicate's means, as the weights.
    means: np.ndarray
    #: array of shape (n_datasets, n_boot, K): every replicate's variances, as the
    #: weights.
    variances: np.ndarray
    #: named tuple of arrays of shape (n_datasets, K), fields ``weights``, ``means`` and
    #: ``variances``: the standard deviation of the kept replicates' estimates, per
    #: parameter; NaN for a parameter the model fixes (equal weights, or the weight of
    #: one component).
    standard_errors: _refit.Parameters
    #: named tuple as :attr:`standard_errors`: the lower ends of the percentile intervals
    #: at ``level``.
    lower: _refit.Parameters
    #: named tuple as :attr:`standard_errors`: the upper ends of the percentile intervals
    #: at ``level``.
    upper: _refit.Parameters
    #: int array of shape (n_datasets, n_boot): each replicate's :class:`~fastem.Status`.
    status: np.ndarray
    #: bool array of shape (n_datasets, n_boot): replicates whose components match two
    #: labellings of the fit's about equally well.
    ambiguous: np.ndarray
    #: int array of shape (n_datasets,): replicates with no finite fit (``NON_FINITE``, or
    #: all of a dataset's when its fit to the data is not finite), left out of the
    #: summaries.
    n_failed: np.ndarray
    #: int array of shape (n_datasets,): replicates whose every fit was spurious or
    #: collapsed (``SPURIOUS``, ``VARIANCE_FLOORED``), left out of the summaries.
    n_spurious: np.ndarray
    #: int array of shape (n_datasets,): the ambiguous replicates, left out of the
    #: summaries.
    n_ambiguous: np.ndarray

    @property
    def n_datasets(self) -> int:
        """int: the number of datasets (1 for a single 1D dataset)."""
        return 1 if np.ndim(self.n_failed) == 0 else len(self.n_failed)

    def table(self) -> Table:
        """One row per dataset, component and parameter: ``dataset`` (from 0, as datasets
        are counted everywhere), ``component`` (from 1), ``parameter``, ``estimate``,
        ``se``, ``lower``, ``upper``, and the dataset's ``n_failed``, ``n_spurious`` and
        ``n_ambiguous``."""
        n_components = np.atleast_1d(self.n_components)
        fitted = _fitted_parameters(self.fit, n_components)
        counts = {
            name: np.atleast_1d(getattr(self, name))
            for name in ("n_failed", "n_spurious", "n_ambiguous")
        }
        columns = {
            name: []
            for name in (
                "dataset",
                "component",
                "parameter",
                "estimate",
                "se",
                "lower",
                "upper",
                *counts,
            )
        }
        for index, name in enumerate(("weight", "mean", "variance")):
            parts = (
                fitted[index],
                self.standard_errors[index],
                self.lower[index],
                self.upper[index],
            )
            parts = [np.atleast_2d(a) for a in parts]
            for d, n in enumerate(n_components):
                for k in range(n):
                    columns["dataset"].append(d)
                    columns["component"].append(k + 1)
                    columns["parameter"].append(name)
                    for column, values in zip(("estimate", "se", "lower", "upper"), parts):
                        columns[column].append(values[d, k])
                    for column, values in counts.items():
                        columns[column].append(values[d])
        order = np.lexsort((columns["component"], columns["dataset"]))
        return Table({name: np.asarray(values)[order] for name, values in columns.items()})

    def __repr__(self) -> str:
        counts = ", ".join(
            f"{int(np.sum(getattr(self, 'n_' + name)))} {name}"
            for name in ("failed", "spurious", "ambiguous")
        )
        return (
            f"BootstrapResult({self.n_datasets} dataset(s), {self.kind}, "
            f"n_boot={self.n_boot}, replicates left out: {counts})"
        )

    def __str__(self) -> str:
        head = (
            f"Bootstrap ({self.kind}, {self.n_boot} replicates) standard errors and "
            f"{100 * self.level:g}% percentile intervals"
        )
        note = (
            "Left out of se, lower and upper: n_failed (no finite fit), n_spurious (only "
            "spurious or collapsed fits), n_ambiguous (matched to two labellings of the "
            "fit's components about equally well)."
        )
        return f"{head}\n{self.table()}\n{note}"


@dataclass
class Replicates:
    """Every replicate of a bootstrap: ``estimates`` (3, n_datasets, n_boot, K), its
    weights, means and variances (components matched to the fit's; NaN for a failed or
    spurious replicate), its ``status`` and whether it is ``ambiguous`` (n_datasets,
    n_boot)."""

    estimates: np.ndarray
    status: np.ndarray
    ambiguous: np.ndarray

    @classmethod
    def empty(cls, n_datasets: int, n_boot: int, width: int) -> Replicates:
        """Replicates not drawn yet: NaN estimates, status 0, none ambiguous."""
        return cls(
            estimates=np.full((3, n_datasets, n_boot, width), np.nan),
            status=np.zeros((n_datasets, n_boot), dtype=np.int64),
            ambiguous=np.zeros((n_datasets, n_boot), dtype=np.bool_),
        )


def summarise(fits, ks, replicates: Replicates, kind: str, level: float, equal_weights: bool):
    """The :class:`BootstrapResult` of the ``replicates`` of the fits to the data
    (``fits``: ``{K: FitResult}``; ``ks``: each dataset's K): standard errors and
    percentile intervals at ``level`` of the replicates not left out, NaN for the weights
    the model fixes; warns when too many of a dataset's replicates are left out."""
    estimates, status, ambiguous = replicates.estimates, replicates.status, replicates.ambiguous
    _, n_datasets, n_boot, width = estimates.shape
    n_failed = (status == Status.NON_FINITE).sum(axis=1)
    n_spurious = (status >= Status.SPURIOUS).sum(axis=1) - n_failed
    n_ambiguous = ambiguous.sum(axis=1)
    _warn_left_out(n_failed, n_spurious, n_ambiguous, n_boot)
    kept = np.where(ambiguous[:, :, None], np.nan, estimates)
    fixed = np.zeros((3, n_datasets, width), dtype=np.bool_)
    fixed[0] = equal_weights | (ks == 1)[:, None]
    summaries = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all NaN: a dataset that failed
        se = np.nanstd(kept, axis=2, ddof=1)
        tail = 100 * (1 - level) / 2
        lower, upper = np.nanpercentile(kept, [tail, 100 - tail], axis=2)
    for values in (se, lower, upper):
        values = np.where(fixed, np.nan, values)
        summaries.append(_refit.Parameters(*values))
    return BootstrapResult(
        fit=fits[width] if len(fits) == 1 else fits,
        kind=kind,
        n_boot=n_boot,
        level=level,
        n_components=ks,
        weights=estimates[0],
        means=estimates[1],
        variances=estimates[2],
        standard_errors=summaries[0],
        lower=summaries[1],
        upper=summaries[2],
        status=status,
        ambiguous=ambiguous,
        n_failed=n_failed,
        n_spurious=n_spurious,
        n_ambiguous=n_ambiguous,
    )


def _fitted_parameters(fits, n_components) -> _refit.Parameters:
    """The parameters of the fits to the data (a :class:`FitResult`, or one per number of
    components), shape (n_datasets, max K), padded with NaN."""
    if isinstance(fits, FitResult):
        return _refit.parameters_of(fits)
    fitted = [np.full((n_components.size, n_components.max()), np.nan) for _ in range(3)]
    for k, result in fits.items():
        for array, values in zip(fitted, _refit.parameters_of(result)):
            array[n_components == k, :k] = values
    return _refit.Parameters(*fitted)


def _warn_left_out(n_failed, n_spurious, n_ambiguous, n_boot) -> None:
    """One :class:`DegenerateFitWarning` naming the datasets with more than
    ``LEFT_OUT_SHARE`` of their replicates left out, and their counts."""
    left_out = np.flatnonzero(n_failed + n_spurious + n_ambiguous > LEFT_OUT_SHARE * n_boot)
    if left_out.size == 0:
        return
    counts = "; ".join(
        f"dataset {d}: {n_failed[d]} failed, {n_spurious[d]} spurious, {n_ambiguous[d]} ambiguous"
        for d in left_out[:5]
    ) + ("" if left_out.size <= 5 else f"; ... ({left_out.size} datasets in all)")
    warnings.warn(
        f"{left_out.size} of {n_failed.size} dataset(s) have more than "
        f"{100 * LEFT_OUT_SHARE:g}% of their {n_boot} replicates left out of the standard "
        f"errors and intervals ({counts}): failed replicates have no finite fit, spurious "
        "ones only spurious or collapsed fits, and ambiguous ones match two labellings of "
        "the fit's components about equally well, so these intervals describe only the "
        "replicates whose labels are clear. Fewer components usually help (n_components="
        "'bic' chooses them per dataset); more restarts (n_init) help spurious ones.",
        DegenerateFitWarning,
        stacklevel=4,  # from the caller of bootstrap, through summarise
    )
