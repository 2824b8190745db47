"""Where things are in a CSV data file: its header (if any), its separator, and the columns
of ids, values and weights, chosen from the flags and read from the first rows.

Whether the first row is a header is the caller's choice, or else the first row's: a
header unless a cell in it is (or starts like) a number. Messages about columns say which
rule applied.
"""

from __future__ import annotations

import csv
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

from .csvscan import (
    DECIMAL_COMMA,
    DECIMAL_COMMA_HINT,
    NA_VALUES,
    NON_FINITE,
    NUMBER,
    DataFileError,
    read_rows,
    text_file,
)

SIMULATE_HEADER = ("dataset", "value", "component")
"""The header ``fastem simulate`` writes: ids in ``dataset``, values in ``value``, and the
true component of each point in ``component``, which a fit ignores."""


_LOOKS_NUMERIC = re.compile(r"[+-]?\.?\d", re.ASCII)
"""The start of a cell meant as a number, well formed or not (``1.5.2``, ``1e``, ``.5.``):
such a cell is never a column name, so a first row with one is data, and its error is named."""


_SEPARATOR_NAMES = {
    ",": ("commas", "','"),
    ";": ("semicolons", "';'"),
    "\t": ("tabs", "tab"),
    "|": ("bars", "'|'"),
}
"""Each separator character: its name in a message, and how to pass it to ``--sep``."""


_SNIFFED_LINES = 50
"""Lines looked at to tell whether the rows are separated by another character than the
one asked for."""

_FIRST_ROWS = 1000
"""Data rows read by the slow scan before the fast parser starts: enough to size the id
column, and to tell an empty file from one whose data start after many blank lines."""


# ----------------------------------------------------------------------------- CSV layout


@dataclass(frozen=True)
class Layout:
    """Where things are in a CSV file: what both parsers need to know before reading it."""

    path: Path
    header: list[str]
    """Column names; ``column 1``, ``column 2``... for a file without a header row."""
    header_lines: int
    """Physical lines up to and including the header row (0 without a header)."""
    sep: str
    """The character between cells."""
    by_at: int | None
    value_at: int
    weight_at: int | None
    id_width: int
    """Characters of the longest id among the first rows; the fast parser starts there."""
    na_values: frozenset = frozenset(NA_VALUES)
    """Cells that stand for a missing value, besides an empty one."""


def read_layout(
    path, by, value, weights_column, pool=False, header=None, sep=",", na_values=NA_VALUES
):
    """Read the header and the first rows with the slow scan, and choose the columns.

    ``header`` is True, False or None (the first row decides: see :func:`_header_rule`)."""
    first_rows = []
    with text_file(path) as handle:
        for number, row in read_rows(path, handle, sep):
            first_rows.append((number, row))
            if len(first_rows) > _FIRST_ROWS:
                break
    if not first_rows:
        raise DataFileError(f"{path}: the file is empty")
    _check_separator(path, sep)
    header_line, first = first_rows[0]
    has_header, rule = _header_rule(first, header)
    if has_header:
        names = [cell.strip() for cell in first]
        header_lines = header_line
        first_rows = first_rows[1:]
    else:
        names = [f"column {i + 1}" for i in range(len(first))]
        header_lines = 0
    if not first_rows:
        raise DataFileError(f"{path}: no data rows after the header ({rule})")
    if has_header and tuple(names) == SIMULATE_HEADER and by is None and value is None:
        by, value = SIMULATE_HEADER[:2]
    by_at, value_at, weight_at = _column_indices(
        path, names, has_header, rule, by, value, weights_column
    )
    if by_at is None and not pool:
        _check_no_ids_left(
            path, names, has_header, [row for _, row in first_rows], {value_at, weight_at}
        )
    if header is None and not has_header:
        _warn_if_a_header_of_numbers(path, [row for _, row in first_rows], value_at)
    id_width = (
        1
        if by_at is None
        else max((len(row[by_at]) for _, row in first_rows if by_at < len(row)), default=1)
    )
    return Layout(
        path,
        names,
        header_lines,
        sep,
        by_at,
        value_at,
        weight_at,
        id_width,
        frozenset(cell.strip() for cell in na_values),
    )


def _header_rule(first, header):
    """Whether the first row is a header, and the rule that said so, for messages."""
    if header is True:
        return True, "the first row is the header (--header)"
    if header is False:
        return False, "the file has no header row (--no-header)"
    cells = [cell.strip() for cell in first]
    numeric = [cell for cell in cells if _LOOKS_NUMERIC.match(cell) or NON_FINITE.fullmatch(cell)]
    if numeric:
        return False, (
            f"the first row was read as data, as its cell {numeric[0]!r} is a "
            "number; pass --header if it is a header"
        )
    return True, (
        "the first row was read as a header, as none of its cells is a number; "
        "pass --no-header if it is data"
    )


def _column(names, has_header, at):
    """How to name column ``at`` on the command line: by name, or by number from 1; None
    for a header cell left empty, which no flag can name."""
    if not has_header:
        return str(at + 1)
    return names[at] or None


def _check_no_ids_left(path, names, has_header, rows, used):
    """Refuse to pool the rows of a file that has a column of dataset ids nobody chose."""
    for at, name in enumerate(names):
        if at in used:
            continue
        cells = [row[at].strip() for row in rows if at < len(row)]
        integers = all(re.fullmatch(r"[+-]?\d+", cell) for cell in cells)
        texts = not any(NUMBER.fullmatch(cell) for cell in cells)
        if len(set(cells)) < len(cells) and (integers or texts):
            flag = _column(names, has_header, at)
            what, by = (
                (f"column {name!r}", f"pass --by {flag}")
                if flag
                else (
                    f"column {at + 1} (empty in the header)",
                    "give it a name in the header and pass --by with that name",
                )
            )
            raise DataFileError(
                f"{path}: {what} looks like dataset ids (repeated "
                f"{'integers' if integers else 'names'}); {by} to fit each dataset, or --pool "
                "to fit all rows as one dataset"
            )


def _warn_if_a_header_of_numbers(path, rows, value_at):
    """Warn when the first row, read as data, is a whole number above values that are not:
    most likely a header such as ``2020``."""
    cells = [row[value_at].strip() for row in rows if value_at < len(row)]
    whole = re.compile(r"[+-]?\d+", re.ASCII)
    if (
        len(cells) > 1
        and whole.fullmatch(cells[0])
        and all(NUMBER.fullmatch(cell) and not whole.fullmatch(cell) for cell in cells[1:])
    ):
        warnings.warn(
            f"{path}: the first row ({cells[0]}) was read as data because it is a "
            "number, but it is a whole number and the values below it are not; if "
            "it is a header, pass --header (--no-header reads it as data without "
            "this warning)",
            UserWarning,
            stacklevel=2,
        )


def _check_separator(path, sep):
    """Refuse a file whose first lines are plainly separated by another character than
    ``sep`` (the same number of cells on every line, more than one), naming ``--sep``."""
    lines = []
    try:
        with text_file(path) as handle:
            for line in handle:
                if line.strip():
                    lines.append(line)
                    if len(lines) == _SNIFFED_LINES:
                        break
    except UnicodeDecodeError:
        return  # the scan of the rows names the line

    def separates(char):
        counts = {len(next(csv.reader([line], delimiter=char), [])) for line in lines}
        return len(counts) == 1 and counts.pop() > 1

    if separates(sep):
        return
    for char, (name, flag) in _SEPARATOR_NAMES.items():
        if char != sep and separates(char):
            message = (
                f"{path}: the rows look separated by {name}, not by "
                f"{_SEPARATOR_NAMES[sep][0]}; pass --sep {flag}"
            )
            if char != "," and any(DECIMAL_COMMA.search(line) for line in lines):
                message += f" ({DECIMAL_COMMA_HINT})"
            raise DataFileError(message)


def _column_indices(path, names, has_header, rule, by, value, weights_column):
    """Positions of the id, value and weight columns named on the command line: by name
    in a file with a header row, by number from 1 in one without."""

    def index(name, option):
        if has_header:
            if name not in names:
                raise DataFileError(
                    f"{path}: no column {name!r} for {option}; the columns "
                    f"are: {', '.join(names)} ({rule})"
                )
            same = [at + 1 for at, other in enumerate(names) if other == name]
            if len(same) > 1:
                raise DataFileError(
                    f"{path}: {option} {name}: the header names "
                    f"{len(same)} columns {name!r} (columns "
                    f"{', '.join(map(str, same))}), so it is ambiguous; give "
                    "the columns different names in the header"
                )
            return names.index(name)
        if not (re.fullmatch(r"\d+", name) and 1 <= int(name) <= len(names)):
            raise DataFileError(
                f"{path}: {option} {name!r}: without a header row, columns are "
                f"named by number, 1 to {len(names)} ({rule})"
            )
        return int(name) - 1

    by_at = index(by, "--by") if by else None
    weight_at = index(weights_column, "--weights-column") if weights_column else None
    if value is None:
        candidates = [at for at in range(len(names)) if at not in (by_at, weight_at)]
        if len(candidates) != 1:
            how = "by name" if has_header else f"by number, 1 to {len(names)}"
            raise DataFileError(
                f"{path} has {len(names)} columns ({', '.join(names)}); choose "
                f"the one to fit with --value and the one of dataset ids, if "
                f"any, with --by, {how} ({rule})"
            )
        value_at = candidates[0]
    else:
        value_at = index(value, "--value")
    chosen = [at for at in (by_at, value_at, weight_at) if at is not None]
    if len(set(chosen)) != len(chosen):
        raise DataFileError(
            f"{path}: --by, --value and --weights-column name the same column; "
            "give each a different one"
        )
    return by_at, value_at, weight_at
