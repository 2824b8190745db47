"""Reading the data files of ``fastem fit``: CSV (one column, or long with ids) and .npy.

A CSV file's rows are parsed twice at most. NumPy's C parser (``np.loadtxt``) reads them
first, fast and in little memory; it is trusted only when it accepts every row and every value
passes the checks, and is not used when a missing-value marker is a number (``-999``), which
it would read as that number. Otherwise the slow scan (the ``csv`` module, row by row) reads
them again. The slow scan is the definition of what a valid file is: it either finds the first
problem and names its line and column, or returns the same datasets the fast parser would have.

Cells are separated by commas, or by the separator given (``SEPARATORS``). Where the
header and the columns are is :mod:`fastem.cli.csvlayout`'s; the fast parser is
:mod:`fastem.cli.csvfast`, the slow scan and the rules of a cell :mod:`fastem.cli.csvscan`.
This module tries them in turn, reads .npy files, and groups the rows into datasets.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from .csvfast import parse_fast
from .csvlayout import SIMULATE_HEADER, read_layout
from .csvscan import NA_VALUES, NUMBER, DataFileError, parse_slow, text_file

__all__ = ["DataFileError", "NA_VALUES", "SIMULATE_HEADER", "read_datasets", "separator"]

SEPARATORS = {",": ",", ";": ";", "tab": "\t", "\t": "\t", "\\t": "\t", "|": "|"}
"""What ``fastem fit --sep`` accepts, and the character each stands for."""


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
    layout = read_layout(path, by, value, weights_column, pool, header, sep, na_values)
    # np.loadtxt would read a marker written as a number (-999) as that number: only the slow
    # scan compares cells with the markers.
    numeric_marker = any(NUMBER.fullmatch(marker) for marker in layout.na_values)
    columns = (None if numeric_marker else parse_fast(layout)) or parse_slow(layout, dropna)
    if columns.blank_lines and not dropna:
        _check_no_blank_line(layout)  # the fast parser and the slow scan both skip them
    return _group(columns)


def _check_no_blank_line(layout):
    """Raise at the first blank line that has data rows after it: a missing value."""
    blank = None
    with text_file(layout.path) as handle:
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
