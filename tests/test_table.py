"""fastem.Table: the text it prints, and the CSV and JSON it writes."""

import json
import sys

import numpy as np
import pytest

from fastem import Table


def printed(table, column):
    """The cells of one column as ``str(table)`` prints them."""
    lines = str(table).splitlines()
    at = lines[0].split().index(column)
    return [line.split()[at] for line in lines[1:]]


def test_close_criteria_print_as_different_numbers():
    # faithful's BIC of the E4 and V3 models: 4 significant digits printed both as 2108.
    table = Table({"model": ["E4", "V3", "V2"], "bic": [2108.1512, 2108.1234, 2150.3]})
    assert printed(table, "bic") == ["2108.15", "2108.12", "2150.3"]


def test_a_column_gets_the_digits_that_keep_its_values_apart():
    table = Table({"bic": [2108151.3, 2108149.2, 2108151.3], "w": [0.25, 0.5, 0.125]})
    assert printed(table, "bic") == ["2108151", "2108149", "2108151"]  # 6 digits: 2.10815e+06
    assert printed(Table({"ll": [-1054.12345, -1054.12349]}), "ll") == [
        "-1054.12345",
        "-1054.12349",
    ]
    assert printed(table, "w") == ["0.25", "0.5", "0.125"]
    # Values that differ only beyond 10 digits are printed alike rather than in full.
    assert printed(Table({"x": [1.0, 1.0 + 1e-13]}), "x") == ["1", "1"]


def test_small_and_large_values_keep_six_significant_digits():
    table = Table({"x": [1.234567e-5, 9.87654321e7, 0.0]})
    assert printed(table, "x") == ["1.23457e-05", "9.87654e+07", "0"]


def test_csv_and_json_keep_every_digit():
    values = [2108.1512345678912, 1e-300 / 3, 0.1 + 0.2]
    table = Table({"bic": values})
    rows = table.to_csv().splitlines()[1:]
    assert [float(row) for row in rows] == values
    assert [record["bic"] for record in json.loads(table.to_json())] == values


def test_to_pandas_without_pandas_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas now raises ImportError
    with pytest.raises(ImportError, match="pip install pandas"):
        Table({"x": np.arange(3.0)}).to_pandas()
