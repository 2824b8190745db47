"""A small column table for tidy results: printable, and written as CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
import math

import numpy as np


class Table:
    """Named columns of equal length, in order.

    ``table["column"]`` is a numpy array; ``len(table)`` is the number of rows;
    ``str(table)`` is an aligned text table, whose numbers are rounded (see
    :data:`MIN_DIGITS`). ``to_csv``, ``to_json`` and ``to_records`` write it out with every
    float in full (``repr``: it reads back to the same float); ``to_pandas`` makes a
    DataFrame when pandas is installed.
    """

    def __init__(self, columns: dict):
        lengths = {name: len(values) for name, values in columns.items()}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"columns have different lengths: {lengths}")
        self._columns = {name: np.asarray(values) for name, values in columns.items()}

    @property
    def columns(self) -> list[str]:
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

    def to_json(self, path=None) -> str | None:
        text = json.dumps(self.to_records(), indent=1)
        if path is None:
            return text
        with open(path, "w") as handle:
            handle.write(text + "\n")
        return None

    def to_csv(self, path=None) -> str | None:
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

    def to_pandas(self):
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
