"""``fastem fit --intervals``: files of intervals and counts, fitted as fastem.fit fits
fastem.Intervals, and their errors named by line."""

import csv
import io

import numpy as np
import pytest

import fastem
from test_cli import assert_one_line_error, fastem_cli

BINS = "lower,upper,count\n-inf,50,10\n50,60,40\n60,70,30\n70,80,80\n80,90,70\n90,inf,12\n"


def rows(output):
    return list(csv.DictReader(io.StringIO(output)))


def test_fit_of_an_interval_file_is_the_fit_of_its_intervals(tmp_path):
    path = tmp_path / "bins.csv"
    path.write_text(BINS)
    written = rows(fastem_cli("fit", path, "--intervals", "--components", 2, check=True).stdout)
    data = fastem.Intervals(
        [-np.inf, 50, 60, 70, 80, 90], [50, 60, 70, 80, 90, np.inf], [10, 40, 30, 80, 70, 12]
    )
    # The command's defaults: 10 restarts of k-means++, EM, the parameter rule at 1e-9.
    expected = fastem.fit(data, 2, n_init=10, stop="parameter", tol=1e-9, random_state=0)
    (row,) = written
    assert row["n"] == "242" and row["status"] == "converged"
    assert float(row["log_likelihood"]) == pytest.approx(expected.log_likelihood, rel=1e-9)
    for k in (1, 2):
        assert float(row[f"mean_{k}"]) == pytest.approx(expected.means[k - 1], rel=1e-5)


def test_datasets_by_id_and_a_range_of_components(tmp_path):
    path = tmp_path / "two.csv"
    path.write_text(
        "id;from;to;n\n"
        + "".join(f"a;{i};{i + 1};{c}\n" for i, c in enumerate([1, 4, 9, 4, 1, 3, 8, 3]))
        + "b;-inf;0;5\nb;0;1;2\nb;1;2;1\nb;2;inf;6\n"
    )
    completed = fastem_cli(
        "fit", path, "--intervals", "--sep", ";", "--by", "id", "--lower", "from", "--upper",
        "to", "--weights-column", "n", "--components", "1-2", "--n-init", 4, check=True,
    )  # fmt: skip
    written = rows(completed.stdout)
    assert [row["id"] for row in written] == ["a", "b"]
    assert [row["n"] for row in written] == ["33", "14"]
    assert written[0]["n_components"] == "2"


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("lower,upper,count\n0,1,2\n2,1,3\n", ("line 3", "lower > upper; swap them")),
        ("lower,upper,count\n0,1,2\ninf,1,3\n", ("line 3", "open end must point outwards")),
        ("lower,upper,count\n0,1,2\n1,2,-3\n", ("line 3", "negative weight")),
        ("lower,upper,count\n0,1,2\n1,x,3\n", ("line 3", "'x' is not a number")),
        ("a,b,count\n0,1,2\n", ("no column 'lower'", "--lower")),
        ("lower,upper,count\n0,1,0\n", ("every count of dataset '0' is 0",)),
    ],
)
def test_a_bad_interval_file_is_named_by_line_before_any_fit(tmp_path, text, fragments):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    assert_one_line_error(fastem_cli("fit", path, "--intervals"), *fragments)


def test_options_intervals_do_not_take_are_named_as_flags(tmp_path):
    path = tmp_path / "bins.csv"
    path.write_text(BINS)
    completed = fastem_cli("fit", path, "--intervals", "--algorithm", "daarem")
    assert_one_line_error(completed, "not supported for Intervals")
