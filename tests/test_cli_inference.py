"""``fastem lrt`` and ``fastem bootstrap``, run end to end in subprocesses on small inputs."""

import csv
import io
import json
import os
import stat
import warnings
from pathlib import Path

import numpy as np
import pytest

import fastem
from test_cli import (
    PNG_SIGNATURE,
    assert_one_line_error,
    fastem_cli,
    needs_matplotlib,
    option_helps,
    read_csv,
)

FAITHFUL = Path(__file__).parent / "data" / "faithful.csv"
WAITING = (FAITHFUL, "--value", "waiting")
"""Old Faithful's waiting times between eruptions: two components by every account."""


def simulated(tmp_path, replications=3, n_samples=120):
    path = tmp_path / "sim.csv"
    fastem_cli(
        "simulate",
        "--replications",
        replications,
        "--n-samples",
        n_samples,
        "--means",
        -3,
        3,
        "--out",
        path,
        "--quiet",
        check=True,
    )
    return path


def test_lrt_chooses_two_components_for_the_waiting_times_of_old_faithful(tmp_path):
    out = tmp_path / "lrt.csv"
    completed = fastem_cli("lrt", *WAITING, "--n-boot", 99, "--csv", out, "--quiet", check=True)
    rows = read_csv(out)
    assert list(rows[0]) == [
        "id",
        "test",
        "statistic",
        "p_value",
        "p_value_mcse",
        "rejected",
        "n_negative",
        "n_failed",
        "failed",
        "n_components",
    ]
    assert [(r["id"], r["test"], r["rejected"]) for r in rows] == [
        ("0", "1 vs 2", "True"),
        ("0", "2 vs 3", "False"),
    ]
    assert {r["n_components"] for r in rows} == {"2"}
    assert float(rows[0]["p_value"]) == pytest.approx(0.01)  # the smallest of 99 replicates
    assert all(r["n_negative"] == r["n_failed"] == "0" for r in rows)
    printed = completed.stdout.splitlines()
    assert printed[0].split() == list(rows[0]) and printed[1].split()[:3] == ["0", "1", "vs"]
    assert "99 bootstrap replicates per test" in completed.stdout


def test_bootstrap_writes_every_parameter_with_a_positive_standard_error(tmp_path):
    out = tmp_path / "se.json"
    fastem_cli(
        "bootstrap",
        *WAITING,
        "--n-boot",
        60,
        "--kind",
        "nonparametric",
        "--json",
        out,
        "--quiet",
        check=True,
    )
    written = json.loads(out.read_text())
    assert written["fastem"] == fastem.__version__ and written["command"] == "bootstrap"
    assert written["options"]["n_boot"] == 60 and written["options"]["random_state"] == 0
    rows = written["table"]
    assert list(rows[0]) == [
        "id",
        "component",
        "parameter",
        "estimate",
        "se",
        "lower",
        "upper",
        "n_failed",
        "n_spurious",
        "n_ambiguous",
    ]
    assert [(r["component"], r["parameter"]) for r in rows] == [
        (k, name) for k in (1, 2) for name in ("weight", "mean", "variance")
    ]
    for r in rows:
        assert r["id"] == "0" and r["n_failed"] == r["n_spurious"] == r["n_ambiguous"] == 0
        assert r["se"] > 0 and r["lower"] < r["upper"]
    means = [r["estimate"] for r in rows if r["parameter"] == "mean"]
    assert means == pytest.approx([54.6, 80.1], abs=0.5)


def test_bootstrap_prints_and_warns_about_the_replicates_it_leaves_out(tmp_path):
    # R's galaxies with three components: the third, on 3 points, is often fitted
    # spuriously or elsewhere (tests/test_bootstrap.py has the Python side).
    out = tmp_path / "se.csv"
    completed = fastem_cli(
        "bootstrap",
        FAITHFUL.parent / "galaxies.csv",
        "--n-components",
        3,
        "--n-boot",
        60,
        "--csv",
        out,
        check=True,
    )
    rows = read_csv(out)
    counts = {(r["n_failed"], r["n_spurious"], r["n_ambiguous"]) for r in rows}
    assert len(rows) == 9 and len(counts) == 1
    failed, spurious, ambiguous = counts.pop()
    assert int(spurious) > 3 and int(ambiguous) > 3
    assert completed.stdout.splitlines()[0].split()[-3:] == [
        "n_failed",
        "n_spurious",
        "n_ambiguous",
    ]
    assert (
        f"fastem: warning: 1 of 1 dataset(s) have more than 5% of their 60 replicates "
        f"left out of the standard errors and intervals (dataset '0': {failed} failed, "
        f"{spurious} spurious, {ambiguous} ambiguous)"
    ) in completed.stderr
    assert "(--n-components bic chooses them per dataset)" in completed.stderr


def test_bootstrap_of_identical_values_warns_as_fit_does(tmp_path):
    path = tmp_path / "same.csv"
    path.write_text('"x"\n' + "3\n" * 100)
    by_fit = fastem_cli("fit", path, "--components", 2, check=True)
    warning = [line for line in by_fit.stderr.splitlines() if "collapsed component" in line]
    assert len(warning) == 1
    completed = fastem_cli("bootstrap", path, "--n-boot", 20, check=True)
    assert warning[0].split(" (variance")[0] in completed.stderr
    assert "(dataset '0': 0 failed, 0 spurious, 20 ambiguous)" in completed.stderr


def test_bootstrap_chooses_each_datasets_components_by_a_criterion(tmp_path):
    path = simulated(tmp_path, replications=2)
    out = tmp_path / "se.csv"
    fastem_cli(
        "bootstrap",
        path,
        "--n-components",
        "bic",
        "--max-components",
        3,
        "--n-boot",
        19,
        "--csv",
        out,
        "--quiet",
        check=True,
    )
    rows = read_csv(out)
    data = np.loadtxt(path, delimiter=",", skiprows=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        chosen = fastem.bootstrap(
            [data[data[:, 0] == d, 1] for d in range(2)], "bic", max_components=3, n_boot=19
        ).n_components
    assert [r["component"] for r in rows] == [
        str(k) for d in range(2) for k in range(1, chosen[d] + 1) for _ in range(3)
    ]
    assert set(chosen) <= {2, 3}
    assert_one_line_error(
        fastem_cli("bootstrap", path, "--n-components", "best"),
        "--n-components 'best': give a number (2) or a criterion (bic",
    )


def test_datasets_are_named_as_fit_names_them_and_each_has_its_choice(tmp_path):
    path = simulated(tmp_path)
    fits = list(csv.DictReader(io.StringIO(fastem_cli("fit", path, "--quiet", check=True).stdout)))
    out = tmp_path / "lrt.csv"
    fastem_cli(
        "lrt",
        path,
        "--n-boot",
        19,
        "--max-components",
        3,
        "--no-sequential",
        "--csv",
        out,
        "--quiet",
        check=True,
    )
    rows = read_csv(out)
    assert [r["id"] for r in rows] == [f["id"] for f in fits for _ in range(2)]
    assert [r["test"] for r in rows] == ["1 vs 2", "2 vs 3"] * len(fits)
    out = tmp_path / "se.csv"
    fastem_cli("bootstrap", path, "--n-boot", 19, "--csv", out, "--quiet", check=True)
    assert [r["id"] for r in read_csv(out)] == [f["id"] for f in fits for _ in range(6)]


def test_a_dataset_without_a_test_keeps_a_row_that_says_so():
    from fastem.cli.inference import _lrt_table
    from fastem.toolkit.lrt import LRTResult

    nan = np.full((2, 1), np.nan)
    result = LRTResult(
        tested=np.array([1]),
        statistic=np.array([[12.0], [np.nan]]),
        boot_statistics=np.zeros((2, 1, 3)),
        p_value=np.array([[0.25], [np.nan]]),
        p_value_mcse=nan,
        n_valid=np.array([[3], [0]]),
        n_negative=np.zeros((2, 1), int),
        n_failed=np.zeros((2, 1), int),
        n_redundant=np.zeros((2, 1), int),
        ran=np.array([[True], [False]]),
        reason=np.array([[""], [""]]),
        n_components=np.array([1, 0]),
        log_likelihood=np.zeros((2, 2)),
        n_boot=3,
        level=0.05,
        variance="unequal",
        sequential=True,
    )
    rows = _lrt_table(result, ["a", "b"]).to_records()
    assert [(r["id"], r["test"], r["rejected"], r["n_components"]) for r in rows] == [
        ("a", "1 vs 2", False, 1),
        ("b", None, None, 0),
    ]


@pytest.mark.parametrize(
    "command, flag, value, fragment",
    [
        ("lrt", "--n-boot", 0, "--n-boot must be an integer from 1"),
        ("lrt", "--level", 1.5, "--level must be between 0 and 1"),
        ("lrt", "--max-components", 1, "--max-components must be at least 2"),
        ("bootstrap", "--n-components", 0, "--n-components must be at least 1"),
        ("bootstrap", "--n-init-data", 0, "--n-init-data must be an integer from 1"),
    ],
)
def test_a_bad_flag_value_is_a_one_line_error_naming_the_flag(command, flag, value, fragment):
    assert_one_line_error(fastem_cli(command, *WAITING, flag, value), fragment)


@pytest.mark.parametrize(
    "command, flag",
    [
        ("lrt", "--n-boot"),
        ("lrt", "--n-init"),
        ("lrt", "--n-init-data"),
        ("bootstrap", "--n-boot"),
        ("bootstrap", "--n-init"),
        ("bootstrap", "--n-init-data"),
    ],
)
def test_counts_beyond_memory_are_refused_before_any_fit_naming_the_flag(command, flag):
    completed = fastem_cli(command, *WAITING, flag, 2**31 - 1)
    assert_one_line_error(
        completed, f"{flag} 2147483647 would need", "more than this machine's", f"at most {flag} "
    )


@pytest.mark.parametrize(
    "command, kind",
    [
        ("lrt", ()),
        ("bootstrap", ("--kind", "parametric")),
        ("bootstrap", ("--kind", "nonparametric")),
    ],
)
def test_weights_whose_replicates_cannot_fit_in_memory_are_refused_naming_the_fix(
    tmp_path, command, kind
):
    path = tmp_path / "weighted.csv"
    path.write_text("x,w\n" + "".join(f"{x},1e12\n" for x in (-3, -2.5, -2, 2, 2.5, 3)))
    completed = fastem_cli(
        command,
        path,
        "--value",
        "x",
        "--weights-column",
        "w",
        *kind,
        "--max-components",
        2,
        "--n-boot",
        9,
    )
    assert_one_line_error(
        completed,
        "the weights of dataset",
        "sum to 6e+12: a replicate of 6e+12 points would need",
        "Divide the weights, or pass --weights-type probability",
    )


def test_an_existing_output_file_is_replaced_whole_on_success_and_kept_on_failure(tmp_path):
    out = tmp_path / "lrt.csv"
    out.write_text("old\n")
    os.chmod(out, 0o640)
    failed = fastem_cli("lrt", *WAITING, "--n-boot", 0, "--csv", out)
    assert_one_line_error(failed, "--n-boot")
    assert out.read_text() == "old\n"
    missing = fastem_cli("lrt", tmp_path / "missing.csv", "--csv", tmp_path / "no" / "x.csv")
    assert_one_line_error(missing, "does not exist")  # the output path, before the data
    fastem_cli("lrt", *WAITING, "--n-boot", 19, "--csv", out, "--quiet", check=True)
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o640
    rows = read_csv(out)
    assert len(rows) == 2 and rows[-1]["n_components"] == "2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lrt.csv"]  # no temporary file


@needs_matplotlib
def test_plot_draws_each_test_of_the_first_datasets(tmp_path):
    figure = tmp_path / "lrt.png"
    fastem_cli("lrt", *WAITING, "--n-boot", 19, "--plot", figure, "--quiet", check=True)
    assert figure.read_bytes()[:8] == PNG_SIGNATURE
    many = simulated(tmp_path, replications=6, n_samples=60)
    figure = tmp_path / "many.png"
    fastem_cli(
        "lrt", many, "--n-boot", 9, "--max-components", 2, "--plot", figure, "--quiet", check=True
    )
    assert figure.read_bytes()[:8] == PNG_SIGNATURE


def test_the_progress_bar_goes_to_stderr_unless_quiet():
    for command in ("lrt", "bootstrap"):
        drawn = fastem_cli(command, *WAITING, "--n-boot", 19, check=True)
        assert f"{command} [" in drawn.stderr and "100%" in drawn.stderr
        assert "replicates" in drawn.stderr and "[#" not in drawn.stdout
        quiet = fastem_cli(command, *WAITING, "--n-boot", 19, "--quiet", check=True)
        assert quiet.stderr == "" and quiet.stdout == drawn.stdout


@pytest.mark.parametrize("command", ["lrt", "bootstrap"])
def test_the_help_gives_the_defaults_of_the_functions_and_the_weights_of_fit(command):
    # test_cli.py checks that every flag's help has text and one default.
    helps = option_helps(command)
    assert helps["--n-boot"].endswith("(default: 999)")
    assert helps["--algorithm"].endswith("(default: squarem)")
    assert helps["--weights-type"] == option_helps("fit")["--weights-type"]
    assert "--weights-column" in helps


def test_lrt_and_bootstrap_take_point_weights_as_fit_does(tmp_path):
    # The waiting times are whole minutes: their distinct values with their counts are the
    # same data, and give the same tests and intervals to the stopping rule's precision
    # (the parameter rule here; see the library's tests).
    waiting = np.array([float(row["waiting"]) for row in read_csv(FAITHFUL)])
    values, counts = np.unique(waiting, return_counts=True)
    binned = tmp_path / "binned.csv"
    binned.write_text("waiting,count\n" + "".join(f"{v:g},{c}\n" for v, c in zip(values, counts)))
    repeated = tmp_path / "repeated.csv"
    repeated.write_text("waiting\n" + "".join(f"{v:g}\n" for v in np.repeat(values, counts)))
    weights = ("--value", "waiting", "--weights-column", "count")
    for command, extra, columns in (
        ("lrt", ("--max-components", 2), ("statistic", "p_value")),
        ("bootstrap", ("--kind", "nonparametric"), ("estimate", "se", "lower", "upper")),
    ):
        common = (*extra, "--n-boot", 19, "--stop", "parameter", "--quiet")
        fastem_cli(
            command,
            binned,
            *weights,
            *common,
            "--csv",
            tmp_path / "a.csv",
            "--json",
            tmp_path / "a.json",
            check=True,
        )
        fastem_cli(command, repeated, *common, "--csv", tmp_path / "b.csv", check=True)
        a, b = read_csv(tmp_path / "a.csv"), read_csv(tmp_path / "b.csv")
        assert len(a) == len(b) > 0
        for name in columns:
            np.testing.assert_allclose(
                [float(r[name]) for r in a], [float(r[name]) for r in b], rtol=1e-6
            )
        options = json.loads((tmp_path / "a.json").read_text())["options"]
        assert (options["weights_column"], options["weights_type"]) == ("count", "frequency")
        assert_one_line_error(
            fastem_cli(command, FAITHFUL, "--value", "waiting", "--weights-type", "probability"),
            "--weights-type probability",
            "--weights-column",
        )
