"""Reading the data files of ``fastem fit``: CSV (one column, or long with ids) and .npy.

A CSV file's rows are parsed twice at most. NumPy's C parser (``np.loadtxt``) reads them
first, fast and in little memory; it is trusted only when it accepts every row and every value
passes the checks, and is not used when a missing-value marker is a number (``-999``), which
it would read as that number. Otherwise the slow scan (the ``csv`` module, row by row) reads
them again. The slow scan is the definition of what a valid file is: it either finds the first
problem and names its line and column, or returns the same datasets the fast parser would have.

Cells are separated by commas, or by the separator given (``SEPARATORS``). Whether the first
row is a header is the caller's choice, or else the first row's: a header unless a cell in it
is (or starts like) a number. Messages about columns say which rule applied.
"""

from __future__ import annotations

import csv
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SIMULATE_HEADER = ("dataset", "value", "component")
"""The header ``fastem simulate`` writes: ids in ``dataset``, values in ``value``, and the
true component of each point in ``component``, which a fit ignores."""

_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
"""A number as a CSV cell writes it, and exactly what ``np.loadtxt`` accepts for a float
(apart from nan and inf). Python's ``float`` also takes ``1_000`` and non-ASCII digits; a
data file should not."""

_NON_FINITE = re.compile(r"[+-]?(?:nan|inf|infinity)", re.ASCII | re.IGNORECASE)

_LOOKS_NUMERIC = re.compile(r"[+-]?\.?\d", re.ASCII)
"""The start of a cell meant as a number, well formed or not (``1.5.2``, ``1e``, ``.5.``):
such a cell is never a column name, so a first row with one is data, and its error is named."""

SEPARATORS = {",": ",", ";": ";", "tab": "\t", "\t": "\t", "\\t": "\t", "|": "|"}
"""What ``fastem fit --sep`` accepts, and the character each stands for."""

_SEPARATOR_NAMES = {
    ",": ("commas", "','"),
    ";": ("semicolons", "';'"),
    "\t": ("tabs", "tab"),
    "|": ("bars", "'|'"),
}
"""Each separator character: its name in a message, and how to pass it to ``--sep``."""

_DECIMAL_COMMA = re.compile(r"[+-]?\d*,\d+(?:[eE][+-]?\d+)?", re.ASCII)
"""A number written with a decimal comma (``1,5``), which the reader does not take."""

_DECIMAL_COMMA_HINT = (
    "decimal commas are not read; convert them to points (1,5 to 1.5) "
    "first, e.g. in the spreadsheet's export settings"
)

NA_VALUES = ("NA", "NaN")
"""The cells that ``fastem fit`` reads as a missing value besides an empty one (R's
``read.csv`` reads ``NA`` and an empty numeric cell as missing, and its ``write.csv`` writes
``NaN`` beside ``NA``). ``--na-values`` replaces them; an empty cell is always missing."""

_SNIFFED_LINES = 50
"""Lines looked at to tell whether the rows are separated by another character than the
one asked for."""

_FIRST_ROWS = 1000
"""Data rows read by the slow scan before the fast parser starts: enough to size the id
column, and to tell an empty file from one whose data start after many blank lines."""


class DataFileError(ValueError):
    """A data file that cannot be read as datasets; the message names file, line, column."""


def read_datasets(
    path,
    by=None,
    value=None,
    weights_column=None,
    dropna=False,
    pool=False,
    header=None,
    sep=",",
    na_values=NA_VALUES,
):
    """Datasets from ``path``: ``(ids, list of 1D float64 arrays, list of weight arrays or
    None)``. ``by`` names the column of dataset ids, ``value`` the column of values,
    ``weights_column`` the column of point weights (CSV only): by name, or, in a file
    without a header row, by number from 1 (``"2"``). ``header``: True if the first row is
    a header (even of numbers, such as ``2020``), False if the file has none, None to
    decide by the first row. ``sep``: the character between cells (``","``, ``";"``,
    ``"\t"`` or ``"|"``). A blank line between data rows, or a value or weight that is
    empty or one of ``na_values`` (compared after stripping whitespace, case included), is
    a missing value: an error naming its line, or, with ``dropna``, a row left out. A
    column left unused that looks like dataset ids (repeated names or integers) is an
    error unless ``pool`` says to fit all rows as one dataset.

    Datasets come in the order their ids first appear in the file, and each keeps the
    file's order of its values. Their ids are the id column's values, or ``"0"`` for the
    one dataset of a CSV file without ``by``; a .npy file's rows are ``"0"``, ``"1"``, ...
    (datasets are counted from 0, as the Python API, its tables and ``fastem simulate``
    count them; lines, rows and columns of a file from 1, as editors count them). Raises
    DataFileError, with a one-line message, for a file that cannot be read.
    """
    path = Path(path)
    _check_readable(path)
    if path.suffix.lower() == ".npy":
        if by or value or weights_column:
            raise DataFileError(f"{path}: --by, --value and --weights-column are for CSV files")
        if header is not None or sep != ",":
            raise DataFileError(f"{path}: --header, --no-header and --sep are for CSV files")
        return _read_npy(path)
    return _read_csv(path, by, value, weights_column, dropna, pool, header, sep, na_values)


def separator(text: str) -> str:
    """The character that ``--sep text`` stands for (``tab`` is a tab); ValueError for
    one that is not in :data:`SEPARATORS`."""
    if text not in SEPARATORS:
        raise ValueError(f"--sep {text!r}: give one of , ; tab |")
    return SEPARATORS[text]


def _check_readable(path):
    """Turn the ways opening a file fails into one-line errors, before any parser sees it."""
    if not path.exists():
        raise DataFileError(f"{path}: no such file")
    if path.is_dir():
        raise DataFileError(f"{path}: is a directory; give a CSV or .npy file")
    try:
        with open(path, "rb"):
            pass
    except OSError as error:
        raise DataFileError(
            f"{path}: cannot be read ({error.strerror}); check the file's permissions"
        ) from None


NPY_MAGIC = b"\x93NUMPY"


def _read_npy(path):
    """A 1D array is one dataset, a 2D array one dataset per row, with ids ``"0"``,
    ``"1"``, ...; a single column (shape (n, 1)), as a column vector is often saved, is one
    dataset too."""
    with open(path, "rb") as handle:
        start = handle.read(len(NPY_MAGIC))
    if start != NPY_MAGIC:
        raise DataFileError(
            f"{path}: not a .npy file (it does not start as one); a text file "
            "of values is read as CSV when its name ends in .csv"
        )
    try:
        array = np.load(path, allow_pickle=False)
    except ValueError as error:
        if "pickle" in str(error):
            raise DataFileError(
                f"{path}: holds Python objects, not numbers; save a numeric array"
            ) from None
        raise DataFileError(f"{path}: not a readable .npy file ({error})") from None
    except Exception as error:
        raise DataFileError(f"{path}: not a readable .npy file ({error})") from None
    if array.dtype.kind not in "iuf":
        raise DataFileError(f"{path}: holds {array.dtype} values; need numbers")
    if array.ndim not in (1, 2) or array.size == 0:
        raise DataFileError(f"{path}: has shape {array.shape}; need a non-empty 1D or 2D array")
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    rows = np.atleast_2d(array).astype(np.float64)
    bad = np.flatnonzero(~np.isfinite(rows).all(axis=1))
    if bad.size:
        column = int(np.flatnonzero(~np.isfinite(rows[bad[0]]))[0])
        where = (
            f"value {column + 1}" if array.ndim == 1 else f"row {bad[0] + 1}, column {column + 1}"
        )
        raise DataFileError(
            f"{path}, {where} (counted from 1): NaN or infinite value; remove it or replace it"
        )
    return [str(i) for i in range(rows.shape[0])], list(rows), None


# ----------------------------------------------------------------------------- CSV layout


@dataclass(frozen=True)
class _Layout:
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


@dataclass(frozen=True)
class _Columns:
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


def _read_csv(
    path,
    by,
    value,
    weights_column,
    dropna=False,
    pool=False,
    header=None,
    sep=",",
    na_values=NA_VALUES,
):
    layout = _layout(path, by, value, weights_column, pool, header, sep, na_values)
    # np.loadtxt would read a marker written as a number (-999) as that number: only the slow
    # scan compares cells with the markers.
    numeric_marker = any(_NUMBER.fullmatch(marker) for marker in layout.na_values)
    columns = (None if numeric_marker else _parse_fast(layout)) or _parse_slow(layout, dropna)
    if columns.blank_lines and not dropna:
        _check_no_blank_line(layout)  # the fast parser and the slow scan both skip them
    return _group(columns)


def _check_no_blank_line(layout):
    """Raise at the first blank line that has data rows after it: a missing value."""
    blank = None
    with _text_file(layout.path) as handle:
        reader = csv.reader(handle, delimiter=layout.sep)
        start = 1
        for row in reader:
            if start > layout.header_lines:
                if not any(cell.strip() for cell in row):
                    blank = start if blank is None else blank
                elif blank is not None:
                    raise DataFileError(
                        f"{layout.path}, line {blank}: a blank line, that is a missing value; "
                        "fill it in or delete the line, or pass --dropna to leave out missing "
                        "values"
                    )
            start = reader.line_num + 1


def _layout(path, by, value, weights_column, pool=False, header=None, sep=",", na_values=NA_VALUES):
    """Read the header and the first rows with the slow scan, and choose the columns.

    ``header`` is True, False or None (the first row decides: see :func:`_header_rule`)."""
    first_rows = []
    with _text_file(path) as handle:
        for number, row in _rows(path, handle, sep):
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
    return _Layout(
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
    numeric = [cell for cell in cells if _LOOKS_NUMERIC.match(cell) or _NON_FINITE.fullmatch(cell)]
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
        texts = not any(_NUMBER.fullmatch(cell) for cell in cells)
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
        and all(_NUMBER.fullmatch(cell) and not whole.fullmatch(cell) for cell in cells[1:])
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
        with _text_file(path) as handle:
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
            if char != "," and any(_DECIMAL_COMMA.search(line) for line in lines):
                message += f" ({_DECIMAL_COMMA_HINT})"
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


# ----------------------------------------------------------------------------- fast parser


def _parse_fast(layout):
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
    return _Columns.of_rows(layout, ids, values, weights)


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


# ----------------------------------------------------------------------------- slow scan


def _parse_slow(layout, dropna=False):
    """The columns read row by row, raising DataFileError at the first
    problem, named by line and column. With ``dropna``, a row whose value or weight is
    missing (empty, or one of ``layout.na_values``) is left out."""
    path, header = layout.path, layout.header
    ids, values, weights = [], [], []
    with _text_file(path) as handle:
        for number, row in _rows(path, handle, layout.sep):
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
                    hint = f" (if these are decimal commas: {_DECIMAL_COMMA_HINT})"
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
                _number(
                    path, number, header[layout.value_at], row[layout.value_at], layout.na_values
                )
            )
            if layout.weight_at is not None:
                weights.append(
                    _weight(
                        path,
                        number,
                        header[layout.weight_at],
                        row[layout.weight_at],
                        layout.na_values,
                    )
                )
            if layout.by_at is not None:
                ids.append(row[layout.by_at])
    return _Columns.of_rows(
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


def _text_file(path):
    """The file as text for the csv module; ``utf-8-sig`` drops the byte-order mark that
    spreadsheets write, so it ends up in no value and no column name."""
    return open(path, encoding="utf-8-sig", newline="")


def _rows(path, handle, sep=","):
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


def _number(path, line, column, cell, na_values=frozenset(NA_VALUES)):
    """The float in ``cell``, under the rules ``np.loadtxt`` applies (``_NUMBER``)."""
    text = cell.strip()
    where = f"{path}, line {line}, column {column!r}"
    if _missing(text, na_values):  # before the number: a marker may be one (-999)
        what = f"{text!r}, a missing value (--na-values)" if text else "empty cell"
        raise DataFileError(
            f"{where}: {what}; fill it in or remove the row, or pass --dropna "
            "to leave out rows with a missing value"
        )
    elif _NUMBER.fullmatch(text):
        value = float(text)
        if np.isfinite(value):
            return value
    elif _DECIMAL_COMMA.fullmatch(text):
        raise DataFileError(f"{where}: {text!r} is not a number; {_DECIMAL_COMMA_HINT}")
    elif not _NON_FINITE.fullmatch(text):
        raise DataFileError(f"{where}: {text!r} is not a number")
    hint = ""
    if text.lower().lstrip("+-") == "nan":
        listed = ",".join(sorted(na_values | {text}))
        hint = f", or pass --na-values {listed} to read it as a missing value"
    raise DataFileError(f"{where}: {text!r} (NaN or infinite) is not allowed; remove the row{hint}")


def _weight(path, line, column, cell, na_values=frozenset(NA_VALUES)):
    """A point weight: a number, and not negative."""
    weight = _number(path, line, column, cell, na_values)
    if weight < 0:
        raise DataFileError(
            f"{path}, line {line}, column {column!r}: negative weight "
            f"{cell.strip()!r}; weights count points, so give 0 or more"
        )
    return weight


# ----------------------------------------------------------------------------- datasets


def _group(columns):
    """Split the rows into datasets by id: ``(ids, data, weights)``.

    Ids are compared after stripping whitespace, and datasets come in the order their ids
    first appear. The work is done on runs of equal ids: a long file holds each dataset in
    one run (as ``fastem simulate`` writes it), and then the datasets are slices of the
    values, found without sorting the rows.
    """
    ids, values, weights = columns.ids, columns.values, columns.weights
    if ids is None:
        return ["0"], [values], None if weights is None else [weights]
    starts = np.flatnonzero(np.concatenate(([True], ids[1:] != ids[:-1])))
    names, run_labels = _label_runs(ids[starts])
    if np.array_equal(run_labels, np.arange(len(starts))):
        order, ends = slice(None), starts[1:]
    else:
        row_labels = np.repeat(run_labels, np.diff(np.append(starts, len(ids))))
        order = np.argsort(row_labels, kind="stable")
        ends = np.cumsum(np.bincount(row_labels, minlength=len(names)))[:-1]
    data = np.split(values[order], ends)
    return names, data, None if weights is None else np.split(weights[order], ends)


def _label_runs(run_ids):
    """The distinct ids, stripped, in order of first appearance, and each run's index
    into them. Only the distinct raw ids are stripped, one by one."""
    distinct, first, inverse = np.unique(run_ids, return_index=True, return_inverse=True)
    label_of_distinct = np.empty(len(distinct), dtype=np.intp)
    labels: dict[str, int] = {}
    for at in np.argsort(first, kind="stable"):
        name = _text(distinct[at]).strip()
        label_of_distinct[at] = labels.setdefault(name, len(labels))
    return list(labels), label_of_distinct[inverse.reshape(-1)]


def _text(id_cell):
    """An id as text. The fast parser's bytes come from ``np.loadtxt``, which encodes
    ``S`` fields as Latin-1, so Latin-1 decodes them exactly."""
    return id_cell.decode("latin-1") if isinstance(id_cell, bytes) else str(id_cell)
