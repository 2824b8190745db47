"""The fast parser of a CSV data file: NumPy's C parser (``np.loadtxt``), fast and in little
memory, trusted only when it accepts every row and every value passes the checks (else
:mod:`fastem.cli.csvscan` reads the file again and names the problem)."""

from __future__ import annotations

import warnings

import numpy as np

from .csvscan import Columns


def parse_fast(layout):
    """The columns from ``np.loadtxt``, or None when it refuses the file or a
    value fails a check: the slow scan then finds the culprit's line.

    Every column is parsed (not only the chosen ones) so that a row with the wrong number
    of cells is refused. Ids are read as bytes, 1 byte a character (4 for str), which keeps
    the peak memory for a file of short ids under 2x its size; a cell the width cannot hold
    is cut short silently, so a column that may have been cut is read again, wider.
    """
    width = max(8, 2 * layout.id_width)
    while True:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # "input contained no data" and the like
                rows = np.loadtxt(
                    layout.path,
                    dtype=_row_dtype(layout, width),
                    delimiter=layout.sep,
                    quotechar='"',
                    comments=None,
                    skiprows=layout.header_lines,
                    encoding="utf-8-sig",
                    ndmin=1,
                )
        except (ValueError, Warning):  # UnicodeDecodeError is a ValueError
            return None
        ids = rows["id"].copy() if layout.by_at is not None else None
        if ids is None or not _may_be_cut(ids):
            break
        width *= 4
    values = rows["value"].copy()
    weights = rows["weight"].copy() if layout.weight_at is not None else None
    del rows
    if not np.isfinite(values).all():
        return None
    if weights is not None and not (np.isfinite(weights).all() and (weights >= 0).all()):
        return None
    return Columns.of_rows(layout, ids, values, weights)


def _row_dtype(layout, id_width):
    """One field per column: floats for values and weights, bytes for ids, and one
    character (cut short, never checked) for the columns no one asked for."""
    fields = [(f"unused {at}", "U1") for at in range(len(layout.header))]
    fields[layout.value_at] = ("value", np.float64)
    if layout.weight_at is not None:
        fields[layout.weight_at] = ("weight", np.float64)
    if layout.by_at is not None:
        fields[layout.by_at] = ("id", f"S{id_width}")
    return fields


def _may_be_cut(ids):
    """True if an id fills its whole width: it may have been longer in the file."""
    width = ids.dtype.itemsize
    return bool(ids.view(np.uint8).reshape(-1, width)[:, -1].any())
