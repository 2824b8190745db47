"""Reading the interval files of ``fastem fit --intervals``: a CSV file with one row per
interval, its lower end, its upper end and its count, and optionally a column of dataset
ids (``--by``), as :class:`fastem.Intervals` per dataset.

An end may be ``-inf`` (a lower end: left-censored) or ``inf`` (an upper end:
right-censored); equal ends are an exact value. Rows are read by the csv module, cell by
cell under the rules of :mod:`fastem.cli.csvscan` (a count is a weight: a number, not
negative); every problem is named by its line and column, before any fit.
"""

from __future__ import annotations

import re

import numpy as np

from .csvscan import NA_VALUES, DataFileError, number_cell, read_rows, text_file, weight_cell

__all__ = [
    "COLUMNS",
    "N_INIT",
    "interval_options",
    "plotted",
    "read_interval_data",
    "read_intervals",
]

COLUMNS = ("lower", "upper", "count")
"""The columns of an interval file, by their default names in its header row (without a
header row, columns 1, 2 and 3)."""

N_INIT = 10
"""Restarts per dataset of ``fastem fit --intervals`` when ``--n-init`` is left at auto,
which intervals do not take."""

_OPEN_END = re.compile(r"\s*([+-]?)inf(?:inity)?\s*", re.IGNORECASE)


def read_intervals(
    path, by=None, columns=(None, None, None), header=True, sep=",", na_values=NA_VALUES
):
    """``(ids, list of fastem.Intervals)`` from the interval file ``path``.

    ``columns`` names the lower, upper and count columns (None for the defaults of
    :data:`COLUMNS`), by name, or by number from 1 in a file without a header row
    (``header=False``); ``by`` the column of dataset ids, as ``fastem fit``'s ``--by``.
    Datasets come in the order their ids first appear. Raises DataFileError, with a
    one-line message naming the line, for a file that cannot be read or an interval that
    is not one.
    """
    from .. import binned

    with text_file(path) as handle:
        rows = list(read_rows(path, handle, sep))
    if not rows:
        raise DataFileError(f"{path}: the file is empty")
    if header is not False:
        names = [cell.strip() for cell in rows[0][1]]
        rows = rows[1:]
    else:
        names = [str(i + 1) for i in range(len(rows[0][1]))]
    defaults = COLUMNS if header is not False else ("1", "2", "3")
    wanted = [given or default for given, default in zip(columns, defaults)]
    at = [_index(path, names, name, header) for name in wanted]
    by_at = None if by is None else _index(path, names, by, header)
    na = frozenset(cell.strip() for cell in na_values)
    grouped: dict[str, list] = {}
    for line, row in rows:
        if len(row) < len(names):
            raise DataFileError(
                f"{path}, line {line}: {len(row)} cells, fewer than the {len(names)} columns"
            )
        lower = _end(path, line, wanted[0], row[at[0]], na)
        upper = _end(path, line, wanted[1], row[at[1]], na)
        count = weight_cell(path, line, wanted[2], row[at[2]], na)
        _check_interval(path, line, lower, upper)
        key = "0" if by_at is None else row[by_at].strip()
        grouped.setdefault(key, []).append((lower, upper, count))
    if not grouped:
        raise DataFileError(f"{path}: no data rows after the header")
    datasets = []
    for key, found in grouped.items():
        lower, upper, count = np.array(found).T
        if not (count > 0).any():
            raise DataFileError(
                f"{path}: every count of dataset {key!r} is 0; give it an observation or drop it"
            )
        datasets.append(binned.Intervals(lower, upper, count))
    return list(grouped), datasets


def read_interval_data(args):
    """``fastem fit --intervals``'s datasets: ``(ids, list of fastem.Intervals, None)``
    (no point weights: the counts are the intervals')."""
    from .shared import UserError

    if args.value is not None:
        raise UserError("--value is for files of points; with --intervals give --lower and --upper")
    try:
        ids, datasets = read_intervals(
            args.file,
            by=args.by,
            columns=(args.lower, args.upper, args.weights_column),
            header=args.header,
            sep=args.sep,
            na_values=args.na_values,
        )
    except DataFileError as error:
        raise UserError(str(error)) from None
    return ids, datasets, None


def interval_options(args, options: dict) -> None:
    """``options`` of fit and select for intervals, in place: ``--n-init auto`` is
    :data:`N_INIT` restarts, and the default algorithm is EM (the one intervals take);
    one given otherwise is refused by fit, which names it."""
    from .. import options as _options

    if options["n_init"] == "auto":
        options["n_init"] = N_INIT
    if args.algorithm == _options.default("algorithm"):
        del options["algorithm"]


def plotted(data, weights):
    """``(data, weights)`` as ``fit --plot`` draws them: intervals at their midpoints,
    weighted by their counts."""
    from .. import binned

    if data and isinstance(data[0], binned.Intervals):
        return [item.midpoints for item in data], [item.counts for item in data]
    return data, weights


def _index(path, names, name, header):
    """The position of column ``name``: by name in the header, by number without one."""
    if name in names:
        return names.index(name)
    how = (
        f"the columns are: {', '.join(names)}"
        if header is not False
        else f"columns are numbered 1 to {len(names)}"
    )
    raise DataFileError(
        f"{path}: no column {name!r} in this interval file ({how}); name the lower end, "
        "upper end and count columns with --lower, --upper and --weights-column"
    )


def _end(path, line, column, cell, na_values):
    """An interval's end: a number, or ``inf``/``-inf`` for an open end."""
    found = _OPEN_END.fullmatch(cell)
    if found:
        return -np.inf if found.group(1) == "-" else np.inf
    return number_cell(path, line, column, cell, na_values)


def _check_interval(path, line, lower, upper):
    """``lower <= upper`` (equal: an exact value), open ends only outwards, not both
    open."""
    problem = None
    if lower == np.inf or upper == -np.inf:
        problem = "an open end must point outwards: lower may be -inf and upper inf"
    elif np.isinf(lower) and np.isinf(upper):
        problem = "(-inf, inf) says nothing about the data; drop the row"
    elif lower > upper:
        problem = "lower > upper; swap them"
    if problem:
        raise DataFileError(f"{path}, line {line}: the interval [{lower:g}, {upper:g}): {problem}")
