"""A small column table for tidy results: printable, and written as CSV or JSON; and the
text of a fit's summary, made of such tables (:meth:`fastem.FitResult.summary`)."""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from . import search
from .engine import information as _information
from .engine.status import Status

if TYPE_CHECKING:
    from .engine.information import StandardErrors
    from .result import FitResult


class Table:
    """Named columns of equal length, in order.

    ``table["column"]`` is a numpy array; ``len(table)`` is the number of rows;
    ``str(table)`` is an aligned text table, whose numbers are rounded (to 6 significant
    digits, more in a column whose values would otherwise print alike). ``to_csv``,
    ``to_json`` and ``to_records`` write it out with every float in full (``repr``: it
    reads back to the same float); ``to_pandas`` makes a DataFrame when pandas is
    installed.

    Examples
    --------
    >>> table = fastem.Table({"k": [1, 2], "bic": [2108.151, 2108.123]})
    >>> print(table)
    k      bic
    1  2108.15
    2  2108.12
    >>> len(table), table.columns, table["k"]
    (2, ['k', 'bic'], array([1, 2]))
    >>> print(table.to_csv(), end="")
    k,bic
    1,2108.151
    2,2108.123
    """

    def __init__(self, columns: Mapping[str, Sequence[Any] | np.ndarray]) -> None:
        lengths = {name: len(values) for name, values in columns.items()}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"columns have different lengths: {lengths}")
        self._columns = {name: np.asarray(values) for name, values in columns.items()}

    @property
    def columns(self) -> list[str]:
        """The columns' names, in order."""
        return list(self._columns)

    def __len__(self) -> int:
        return len(next(iter(self._columns.values()))) if self._columns else 0

    def __getitem__(self, name: str) -> np.ndarray:
        return self._columns[name]

    def select(self, *names: str) -> Table:
        """A table of the named columns only, in that order."""
        missing = [name for name in names if name not in self._columns]
        if missing:
            raise KeyError(f"no columns {missing}; the table has {self.columns}")
        return Table({name: self._columns[name] for name in names})

    def to_records(self) -> list[dict]:
        """One dict per row, with plain Python values (NaN becomes None)."""
        return [
            {name: _plain(values[i]) for name, values in self._columns.items()}
            for i in range(len(self))
        ]

    def to_json(self, path: str | os.PathLike | None = None) -> str | None:
        """The rows as a JSON list of objects (:meth:`to_records`), written to ``path``, or
        returned as text without it."""
        text = json.dumps(self.to_records(), indent=1)
        if path is None:
            return text
        with open(path, "w") as handle:
            handle.write(text + "\n")
        return None

    def to_csv(self, path: str | os.PathLike | None = None) -> str | None:
        """The table as CSV, a header line and a line per row (NaN as an empty field),
        written to ``path``, or returned as text without it."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(self.columns)
        for record in self.to_records():
            writer.writerow(["" if v is None else v for v in record.values()])
        if path is None:
            return buffer.getvalue()
        with open(path, "w", newline="") as handle:
            handle.write(buffer.getvalue())
        return None

    def to_pandas(self) -> Any:
        """The table as a pandas DataFrame (pandas is not a dependency of fastem)."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError(
                "Table.to_pandas needs pandas, which is not installed: "
                "pip install pandas (or use to_csv, to_json or to_records)"
            ) from None
        return pd.DataFrame(self._columns)

    def __str__(self) -> str:
        cells = [_formatted(values) for values in self._columns.values()]
        widths = [
            max(len(name), *(len(c) for c in column)) if column else len(name)
            for name, column in zip(self._columns, cells)
        ]
        lines = ["  ".join(name.rjust(w) for name, w in zip(self._columns, widths))]
        for i in range(len(self)):
            lines.append("  ".join(column[i].rjust(w) for column, w in zip(cells, widths)))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"Table({len(self)} rows: {', '.join(self.columns)})"


def _plain(value):
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


MIN_DIGITS = 6
"""Significant digits of a float in ``str(table)``: at least 6, and more (up to
:data:`MAX_DIGITS`) in a column whose distinct values would otherwise print alike, so
that a BIC of 2108.15 and one of 2108.12 read as two numbers, and 2108151.3 and
2108149.2 too."""
MAX_DIGITS = 10


def _formatted(values) -> list[str]:
    """The cells of one column: floats with the fewest digits from MIN_DIGITS up that keep
    apart the values that differ within MAX_DIGITS. Values alike to MAX_DIGITS print alike
    at MIN_DIGITS: they are one number computed twice (the standard errors of the two
    weights of a two-component fit), whose last bits no digits could show."""
    plain = [_plain(v) for v in values]
    floats = {v for v in plain if isinstance(v, float)}
    distinct = len({f"{v:.{MAX_DIGITS}g}" for v in floats})
    digits = MIN_DIGITS
    while digits < MAX_DIGITS and len({f"{v:.{digits}g}" for v in floats}) < distinct:
        digits += 1
    return [_format(v, digits) for v in plain]


def _format(value, digits: int = MIN_DIGITS) -> str:
    value = _plain(value)
    if value is None:
        return "nan"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


# --- a fit's summary ----------------------------------------------------------------------


def fit_repr(result: FitResult) -> str:
    """The ``repr`` of a :class:`fastem.FitResult`: one fit's parameters, or a batch's
    outcomes in a line."""
    if result.means.ndim == 1:
        return (
            f"<FitResult: {result.model.describe()}, n={result.n_observations:g}; "
            f"log-likelihood {result.log_likelihood:.6g}, {Status(int(result.status)).name.lower()}"
            f" after {result.n_iter} iterations; weights {_numbers(result.weights)}, means "
            f"{_numbers(result.means)}, variances {_numbers(result.variances)}>"
        )
    return (
        f"<FitResult: {result.n_datasets} datasets, {result.model.describe()}, "
        f"{result.n_init} restart(s) each; {_status_counts(result.status)}; "
        "summary() for more>"
    )


def fit_summary(result: FitResult) -> str:
    """The text of :meth:`fastem.FitResult.summary`: for one fit, the model, ``n``, the
    log-likelihood and criteria, convergence and restarts, and the parameters; for a
    batch, the outcomes over datasets and the spread of each parameter."""
    if result.means.ndim > 1:
        return _batch_summary(result)
    criteria = Table(
        {
            "log_likelihood": [_decimals(result.log_likelihood)],
            "n": [result.n_observations],
            "df": [result.n_parameters],
            "bic": [_decimals(result.bic())],
            "aic": [_decimals(result.aic())],
            "icl": [_decimals(result.icl())],
        }
    )
    errors = result.standard_errors
    components = {"component": np.arange(1, result.n_components + 1)}
    for name in ("weight", "mean", "variance"):
        components[name] = getattr(result, name + "s")
        if errors is not None:
            components[name + "_se"] = getattr(errors, name + "s")
    components["sd"] = np.sqrt(result.variances)
    counted = int(
        np.count_nonzero(search.counted_restarts(result.restart_status, result.skip_degenerate))
    )
    among = "" if counted == result.n_restarts else f" ({counted} regular)"
    return "\n".join(
        [
            f"Gaussian mixture fitted by {result.algorithm.upper()} (stop={result.stop!r}): "
            f"{result.model.describe()}",
            "",
            str(criteria),
            "(bic, aic, icl: smaller is better; mclust prints bic and icl negated)",
            "",
            f"status {Status(int(result.status)).name.lower()} after {result.n_iter} iterations "
            f"(tol {result.tol:g}, max_iter {result.max_iter}); best of {result.n_restarts} "
            f"restart(s){among}",
            _search_line(
                result.n_maxima,
                result.n_at_best,
                result.p_unseen,
                result.settled,
                result.unseen_tol,
            ),
            "",
            str(Table(components)),
        ]
        + ([] if errors is None else [_errors_note(errors)])
    )


def _search_line(n_maxima, n_at_best, p_unseen, settled, unseen_tol) -> str:
    """How settled one dataset's search is, in words."""
    if not n_maxima:
        return "search: no restart counted (none regular)"
    verdict = "settled" if settled else "NOT settled"
    return (
        f"search {verdict}: {n_maxima} distinct maxima, the best reached by {n_at_best} "
        f"restart(s); probability that another restart finds a new maximum "
        f"{p_unseen:.3g} (Good-Turing; settled at <= {unseen_tol:g} with the best "
        "reached twice)"
    )


def _errors_note(errors: StandardErrors) -> str:
    """The line under the components of :meth:`FitResult.summary` that says where their
    standard errors come from, and why any is NaN."""
    note = f"standard errors from {_information.METHODS[errors.method]} (se={errors.method!r})"
    if errors.failed:
        note += ": none for this fit, whose information matrix is singular or not positive definite"
    elif np.isnan(np.concatenate([errors.weights, errors.means, errors.variances])).any():
        note += "; NaN for a fixed parameter"
    return f"({note})"


def _decimals(value) -> str:
    """A log-likelihood or criterion to two decimals, as mclust prints them: differences
    between models are what they are read for, and 6 significant digits of -1034.002
    would print -1034."""
    return f"{float(value):.2f}"


def _numbers(values) -> str:
    return "[" + ", ".join(f"{v:.4g}" for v in values) + "]"


def _status_counts(status) -> str:
    counts = np.bincount(np.asarray(status, dtype=np.int64).ravel(), minlength=len(Status))
    return ", ".join(f"{counts[s]} {s.name.lower()}" for s in Status if counts[s])


def _batch_summary(result: FitResult) -> str:
    quantiles = (5, 50, 95)
    spread = {"component": np.arange(1, result.n_components + 1)}
    for name in ("weights", "means", "variances"):
        values = np.percentile(getattr(result, name), quantiles, axis=0)
        for q, row in zip(quantiles, values):
            spread[f"{name[:-1]}_p{q}"] = row
    ll = (
        np.percentile(result.log_likelihood[np.isfinite(result.log_likelihood)], quantiles)
        if np.isfinite(result.log_likelihood).any()
        else [np.nan] * 3
    )
    iterations = np.percentile(result.n_iter, (50, 90))
    return "\n".join(
        [
            f"Gaussian mixtures fitted by {result.algorithm.upper()} (stop={result.stop!r}): "
            f"{result.n_datasets} datasets, "
            f"{result.model.describe()}, {result.n_init} restart(s) each",
            "",
            f"status of the returned fits: {_status_counts(result.status)}",
            f"search: {int(np.count_nonzero(result.settled))} of {result.n_datasets} settled "
            f"(p_unseen <= {result.unseen_tol:g}, best reached twice); restarts per dataset: "
            f"median {np.median(result.n_restarts):g}, max {result.n_restarts.max()}",
            f"iterations: median {iterations[0]:g}, 90th percentile {iterations[1]:g}, "
            f"max {result.n_iter.max()} (max_iter {result.max_iter}, tol {result.tol:g})",
            f"log-likelihood: median {_decimals(ll[1])} (5%: {_decimals(ll[0])}, "
            f"95%: {_decimals(ll[2])})",
            "",
            "parameters over datasets (5th, 50th and 95th percentiles):",
            str(Table(spread)),
        ]
    )
