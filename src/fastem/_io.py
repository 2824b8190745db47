"""Reading the data files of ``fastem fit``: CSV (one column, or long with ids) and .npy."""

from __future__ import annotations

from pathlib import Path

import numpy as np


class DataFileError(ValueError):
    """A data file that cannot be read as datasets; the message names file, line, column."""


def read_datasets(path, by=None, value=None, weights_column=None):
    """Datasets from ``path``: ``(ids, list of 1D float64 arrays, list of weight arrays or
    None)``. ``by`` names the column of dataset ids, ``value`` the column of values,
    ``weights_column`` the column of point weights (CSV only)."""
    path = Path(path)
    if not path.exists():
        raise DataFileError(f"{path}: no such file")
    if path.suffix.lower() == ".npy":
        if by or value or weights_column:
            raise DataFileError(f"{path}: --by, --value and --weights-column are for CSV files")
        return _read_npy(path)
    return _read_csv(path, by, value, weights_column)


def _read_npy(path):
    try:
        array = np.load(path, allow_pickle=False)
    except Exception as error:
        raise DataFileError(f"{path}: not a readable .npy file ({error})") from None
    if array.dtype.kind not in "iuf":
        raise DataFileError(f"{path}: holds {array.dtype} values; need numbers")
    if array.ndim not in (1, 2) or array.size == 0:
        raise DataFileError(f"{path}: has shape {array.shape}; need a non-empty 1D or 2D array")
    rows = np.atleast_2d(array).astype(np.float64)
    bad = np.flatnonzero(~np.isfinite(rows).all(axis=1))
    if bad.size:
        column = int(np.flatnonzero(~np.isfinite(rows[bad[0]]))[0])
        raise DataFileError(f"{path}, row {bad[0]}, column {column}: NaN or infinite value")
    return [str(i) for i in range(rows.shape[0])], list(rows), None


def _read_csv(path, by, value, weights_column):
    import csv

    with open(path, newline="") as handle:
        lines = [(number, row) for number, row in enumerate(csv.reader(handle), start=1)
                 if any(cell.strip() for cell in row)]
    if not lines:
        raise DataFileError(f"{path}: the file is empty")
    first = lines[0][1]
    has_header = not all(_is_number(cell) for cell in first)
    if has_header:
        header = [cell.strip() for cell in first]
        body = lines[1:]
    else:
        if by or value or weights_column:
            raise DataFileError(f"{path}: --by, --value and --weights-column need a header row")
        header = [f"column {i + 1}" for i in range(len(first))]
        body = lines
    if not body:
        raise DataFileError(f"{path}: no data rows after the header")

    def column_index(name, option):
        if name not in header:
            raise DataFileError(f"{path}: no column {name!r} for {option}; the columns are: "
                            f"{', '.join(header)}")
        return header.index(name)

    by_at = column_index(by, "--by") if by else None
    weight_at = column_index(weights_column, "--weights-column") if weights_column else None
    if value is None:
        candidates = [h for h in header if h not in (by, weights_column)]
        if len(candidates) != 1:
            raise DataFileError(f"{path} has {len(header)} columns ({', '.join(header)}); choose "
                            "the one to fit with --value")
        value = candidates[0]
    value_at = column_index(value, "--value")

    groups: dict[str, list] = {}
    for number, row in body:
        if len(row) != len(header):
            raise DataFileError(f"{path}, line {number}: {len(row)} cells, but the header has "
                            f"{len(header)}")
        key = row[by_at].strip() if by_at is not None else "0"
        x = _number(path, number, header[value_at], row[value_at])
        w = _number(path, number, header[weight_at], row[weight_at]) if weight_at is not None \
            else None
        if w is not None and w < 0:
            raise DataFileError(f"{path}, line {number}, column {header[weight_at]!r}: negative "
                            f"weight {row[weight_at]!r}")
        groups.setdefault(key, []).append((x, w))
    ids = list(groups)
    data = [np.array([x for x, _ in groups[key]]) for key in ids]
    weights = [np.array([w for _, w in groups[key]]) for key in ids] if weight_at is not None \
        else None
    return ids, data, weights


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _number(path, line, column, cell):
    text = cell.strip()
    try:
        value = float(text)
    except ValueError:
        if not text:
            raise DataFileError(f"{path}, line {line}, column {column!r}: empty cell; fill it "
                                "in or remove the row") from None
        raise DataFileError(f"{path}, line {line}, column {column!r}: {text!r} is not a number") \
            from None
    if not np.isfinite(value):
        raise DataFileError(f"{path}, line {line}, column {column!r}: {text!r} (NaN or "
                            "infinite) is not allowed; remove the row")
    return value
