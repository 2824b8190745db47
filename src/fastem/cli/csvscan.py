"""The slow scan of a CSV data file, which defines what a valid file is: the rows read one
by one with their line numbers, and the rules of a cell (a number, a missing value, a
weight), each problem named by its line and column.

:mod:`fastem.cli.datafiles` tries the fast parser (:mod:`fastem.cli.csvfast`) first and
falls back on this scan, which either names the first problem or returns the same columns.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass

import numpy as np

NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
"""A number as a CSV cell writes it, and exactly what ``np.loadtxt`` accepts for a float
(apart from nan and inf). Python's ``float`` also takes ``1_000`` and non-ASCII digits; a
data file should not."""

NON_FINITE = re.compile(r"[+-]?(?:nan|inf|infinity)", re.ASCII | re.IGNORECASE)


DECIMAL_COMMA = re.compile(r"[+-]?\d*,\d+(?:[eE][+-]?\d+)?", re.ASCII)
"""A number written with a decimal comma (``1,5``), which the reader does not take."""

DECIMAL_COMMA_HINT = (
    "decimal commas are not read; convert them to points (1,5 to 1.5) "
    "first, e.g. in the spreadsheet's export settings"
)

NA_VALUES = ("NA", "NaN")
"""The cells that ``fastem fit`` reads as a missing value besides an empty one (R's
``read.csv`` reads ``NA`` and an empty numeric cell as missing, and its ``write.csv`` writes
``NaN`` beside ``NA``). ``--na-values`` replaces them; an empty cell is always missing."""


class DataFileError(ValueError):
    """A data file that cannot be read as datasets; the message names file, line, column."""


@dataclass(frozen=True)
class Columns:
    """The chosen columns of every data row, in file order, before grouping."""

    ids: np.ndarray | None
    """Raw id cells, whitespace kept (bytes from the fast parser, str from the slow scan)."""
    values: np.ndarray
    weights: np.ndarray | None
    blank_lines: int
    """Physical lines after the header that start no row: blank lines, skipped as they
    always were, and the further lines of quoted cells that span lines. Both parsers count
    them the same way, so a rule against blank lines can start from this number."""

    @classmethod
    def of_rows(cls, layout, ids, values, weights):
        """The columns with their count of blank lines, from one more pass over the bytes
        (a count of line ends, cheap beside parsing): np.loadtxt skips empty lines silently."""
        lines = _count_lines(layout.path) - layout.header_lines
        return cls(ids, values, weights, blank_lines=lines - len(values))


# ----------------------------------------------------------------------------- slow scan


def parse_slow(layout, dropna=False):
    """The columns read row by row, raising DataFileError at the first
    problem, named by line and column. With ``dropna``, a row whose value or weight is
    missing (empty, or one of ``layout.na_values``) is left out."""
    path, header = layout.path, layout.header
    ids, values, weights = [], [], []
    with text_file(path) as handle:
        for number, row in read_rows(path, handle, layout.sep):
            if number <= layout.header_lines:
                continue
            if len(row) != len(header):
                where = "the header" if layout.header_lines else "the first row"
                hint = ""
                # A column of numbers with decimal commas: 1,5 reads as two cells, 1 and 5.
                if (
                    layout.sep == ","
                    and len(header) == 1
                    and len(row) == 2
                    and all(re.fullmatch(r"\s*[+-]?\d+(?:[eE][+-]?\d+)?\s*", cell) for cell in row)
                ):
                    hint = f" (if these are decimal commas: {DECIMAL_COMMA_HINT})"
                raise DataFileError(
                    f"{path}, line {number}: {len(row)} cells, but {where} has "
                    f"{len(header)}; give every row {len(header)}{hint}"
                )
            if dropna and any(
                _missing(row[at], layout.na_values)
                for at in (layout.value_at, layout.weight_at)
                if at is not None
            ):
                continue
            values.append(
                number_cell(
                    path, number, header[layout.value_at], row[layout.value_at], layout.na_values
                )
            )
            if layout.weight_at is not None:
                weights.append(
                    weight_cell(
                        path,
                        number,
                        header[layout.weight_at],
                        row[layout.weight_at],
                        layout.na_values,
                    )
                )
            if layout.by_at is not None:
                ids.append(row[layout.by_at])
    return Columns.of_rows(
        layout,
        np.array(ids, dtype=str) if layout.by_at is not None else None,
        np.array(values, dtype=np.float64),
        np.array(weights, dtype=np.float64) if layout.weight_at is not None else None,
    )


def _count_lines(path):
    """Physical lines in the file, counted as the csv module counts them for files whose
    lines end in LF or CRLF (a last line without a line break counts too)."""
    lines, last = 0, b"\n"
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 24):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    return lines + (last != b"\n")


def text_file(path):
    """The file as text for the csv module; ``utf-8-sig`` drops the byte-order mark that
    spreadsheets write, so it ends up in no value and no column name."""
    return open(path, encoding="utf-8-sig", newline="")


def read_rows(path, handle, sep=","):
    """``(physical line number, cells)`` of each row that is not blank.

    A row whose cells are all blank is skipped, and so is an empty line. The line number
    is where the row starts (a quoted cell may span lines), counted from 1.
    """
    reader = csv.reader(handle, delimiter=sep)
    start = 1
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                yield start, row
            start = reader.line_num + 1
    except UnicodeDecodeError:
        raise _not_utf8(path) from None
    except csv.Error as error:
        if "field limit" in str(error):
            raise DataFileError(
                f"{path}, line {start}: a cell longer than "
                f'{csv.field_size_limit()} characters; look for a quote (") '
                "that is opened but not closed"
            ) from None
        raise DataFileError(f"{path}, line {start}: not readable as CSV ({error})") from None


def _not_utf8(path):
    """The error for the first line that is not UTF-8, found by decoding line by line."""
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as error:
                return DataFileError(
                    f"{path}, line {number}: not UTF-8 text (byte "
                    f"0x{line[error.start]:02x}); save the file as UTF-8"
                )
    return DataFileError(f"{path}: not UTF-8 text; save the file as UTF-8")


def _missing(cell, na_values):
    """Whether ``cell`` is a missing value: empty, or one of ``na_values``."""
    text = cell.strip()
    return not text or text in na_values


def number_cell(path, line, column, cell, na_values=frozenset(NA_VALUES)):
    """The float in ``cell``, under the rules ``np.loadtxt`` applies (``NUMBER``)."""
    text = cell.strip()
    where = f"{path}, line {line}, column {column!r}"
    if _missing(text, na_values):  # before the number: a marker may be one (-999)
        what = f"{text!r}, a missing value (--na-values)" if text else "empty cell"
        raise DataFileError(
            f"{where}: {what}; fill it in or remove the row, or pass --dropna "
            "to leave out rows with a missing value"
        )
    elif NUMBER.fullmatch(text):
        value = float(text)
        if np.isfinite(value):
            return value
    elif DECIMAL_COMMA.fullmatch(text):
        raise DataFileError(f"{where}: {text!r} is not a number; {DECIMAL_COMMA_HINT}")
    elif not NON_FINITE.fullmatch(text):
        raise DataFileError(f"{where}: {text!r} is not a number")
    hint = ""
    if text.lower().lstrip("+-") == "nan":
        listed = ",".join(sorted(na_values | {text}))
        hint = f", or pass --na-values {listed} to read it as a missing value"
    raise DataFileError(f"{where}: {text!r} (NaN or infinite) is not allowed; remove the row{hint}")


def weight_cell(path, line, column, cell, na_values=frozenset(NA_VALUES)):
    """A point weight: a number, and not negative."""
    weight = number_cell(path, line, column, cell, na_values)
    if weight < 0:
        raise DataFileError(
            f"{path}, line {line}, column {column!r}: negative weight "
            f"{cell.strip()!r}; weights count points, so give 0 or more"
        )
    return weight
