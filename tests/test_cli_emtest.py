"""The ``fastem emtest`` command: the table of :func:`fastem.emtest` for a file's datasets."""

import json

import numpy as np
import pytest

import fastem
from fastem.cli.emtest import COLUMNS
from test_cli import assert_one_line_error, fastem_cli, read_csv
from test_cli_inference import WAITING, simulated


def test_emtest_writes_the_statistic_and_p_value_of_fastem_emtest(tmp_path):
    out, document = tmp_path / "emtest.csv", tmp_path / "emtest.json"
    completed = fastem_cli(
        "emtest", *WAITING, "--m0", 1, "--csv", out, "--json", document, "--quiet", check=True
    )
    rows = read_csv(out)
    assert list(rows[0]) == list(COLUMNS)
    waiting = np.loadtxt(WAITING[0], delimiter=",", skiprows=1)[:, 1]
    expected = fastem.emtest(waiting, 1)
    assert float(rows[0]["statistic"]) == pytest.approx(expected.statistic, rel=1e-12)
    assert float(rows[0]["p_value"]) == pytest.approx(expected.p_value, rel=1e-12)
    assert (rows[0]["test"], rows[0]["rejected"]) == ("1 vs 2", "True")
    assert json.loads(document.read_text())["options"]["m0"] == 1
    assert "2 degrees of freedom" in completed.stdout


def test_emtest_tests_each_dataset_of_a_long_file(tmp_path):
    path = simulated(tmp_path, replications=3, n_samples=80)
    out = tmp_path / "emtest.csv"
    fastem_cli("emtest", path, "--m0", 2, "--csv", out, "--quiet", check=True)
    rows = read_csv(out)
    assert [r["test"] for r in rows] == ["2 vs 4"] * 3
    assert all(0.0 <= float(r["p_value"]) <= 1.0 for r in rows)


def test_emtest_names_a_bad_flag_in_one_line(tmp_path):
    completed = fastem_cli("emtest", *WAITING, "--m0", 0)
    assert_one_line_error(completed, "--m0")
