"""The ``fastem`` command, run end to end on small inputs: in the test process by default,
as the installed program where that is under test (:mod:`cli_runner`)."""

import csv
import functools
import importlib
import io
import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

import fastem
from cli_runner import FASTEM, fastem_cli

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def read_csv(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def has_matplotlib():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


needs_matplotlib = pytest.mark.skipif(not has_matplotlib(), reason="matplotlib not installed")


def assert_one_line_error(completed, *fragments):
    assert completed.returncode == 2, (completed.stdout, completed.stderr)
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1, completed.stderr
    assert lines[0].startswith("fastem: ")
    assert "Traceback" not in completed.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@functools.cache
def help_text(*command):
    """What ``fastem COMMAND --help`` prints: run once per command in a session, as it
    depends on nothing but the command (the tests of the help texts share it); the
    top-level help through the installed program."""
    return fastem_cli(*command, "--help", check=True, subprocess=not command).stdout


def test_version_and_help():
    version = fastem_cli("--version", check=True, subprocess=True).stdout
    assert version.strip() == f"fastem {fastem.__version__}"
    assert "study" in help_text()
    for command in ("study", "fit", "lrt", "bootstrap", "predict", "simulate", "bench", "compile"):
        assert "usage: fastem " + command in help_text(command)
    assert "(default: 10000)" in help_text("study")
    assert fastem_cli(subprocess=True).returncode == 2


def option_helps(*command):
    """``{flag: help text}`` of the options in ``fastem COMMAND --help``, with the help's
    lines joined (argparse wraps them, a default included)."""
    text = help_text(*command)
    section = text.split("\noptions:\n", 1)[1].split("\n\n", 1)[0]
    helps = {}
    for line in section.splitlines():
        if line.startswith("  -"):
            invocation, _, description = line.strip().partition("  ")
            flag = invocation.split()[0].rstrip(",")
            helps[flag] = description.strip()
        else:
            helps[flag] = f"{helps[flag]} {line.strip()}".strip()
    return helps


@pytest.mark.parametrize(
    "command", ["study", "fit", "lrt", "bootstrap", "predict", "simulate", "bench", "compile"]
)
def test_every_flag_has_help_and_shows_its_default_once(command):
    helps = option_helps(command)
    helps.pop("-h")
    assert helps
    for flag, text in helps.items():
        assert text and not text.startswith("(default"), (flag, text)
        assert text.count("(default: ") == 1, (flag, text)
        assert "None" not in text and "[" not in text.split("(default: ")[1], (flag, text)
    assert set(option_helps()) == {"-h", "--version"}  # fastem's own options need none


def test_defaults_in_the_help_are_written_as_they_would_be_typed():
    study = option_helps("study")
    assert study["--weights"].endswith("(default: 0.4 0.6)")
    assert study["--n-samples"].endswith("(default: 40)")
    assert study["--equal-variance"].endswith("(default: off)")
    assert option_helps("simulate")["--means"].endswith("(default: -2.5 3.5)")


@needs_matplotlib
def test_study_writes_table_csv_json_and_figures(tmp_path):
    completed = fastem_cli(
        "study",
        "--replications",
        150,
        "--n-samples",
        40,
        120,
        "--init",
        "kmeans++",
        "emem",
        "--n-init",
        2,
        "--csv",
        tmp_path / "t.csv",
        "--json",
        tmp_path / "t.json",
        "--plot",
        tmp_path / "figs",
        check=True,
    )
    table, timing = completed.stdout.split("\n\ntiming (varies from run to run")
    *table, legend = table.splitlines()
    assert legend == "Monte Carlo standard errors in parentheses"
    header = table[0].split()
    assert header[:5] == ["n_samples", "init", "n_init", "converged", "spurious"]
    assert "seconds" not in header and len(table) == 5
    assert all(re.search(r"\d \(\d", row) for row in table[1:])  # "0.0440 (0.0092)"
    assert timing.splitlines()[1].split() == [
        "n_samples",
        "init",
        "n_init",
        "seconds",
        "fits_per_s",
        "ms_per_fit",
        "ms_per_fit_mcse",
        "mega_throughput",
    ]  # as varying
    assert len(timing.strip().splitlines()) == 6
    assert "100%" in completed.stderr  # the progress bar
    rows = read_csv(tmp_path / "t.csv")
    assert len(rows) == 4 and "variance_2_rmse" in rows[0]
    assert {r["init"] for r in rows} == {"kmeans++", "emem"}
    assert all(0.9 <= float(r["converged"]) <= 1.0 for r in rows)
    written = json.loads((tmp_path / "t.json").read_text())
    assert written["table"][0]["n_samples"] == 40 and written["fastem"] == fastem.__version__
    assert written["design"]["replications"] == 150 and written["design"]["seed"] == 0
    for name in ("dataset", "traces", "estimates", "iterations"):
        assert (tmp_path / "figs" / f"{name}.png").read_bytes()[:8] == PNG_SIGNATURE


@pytest.mark.parametrize("suffix", [".json", ".toml"])
def test_study_design_file_and_flags_that_override_it(tmp_path, suffix):
    design = tmp_path / f"design{suffix}"
    if suffix == ".json":
        design.write_text(
            json.dumps(
                dict(
                    means=[0.0, 6.0],
                    variances=[1.0, 1.0],
                    weights=[0.5, 0.5],
                    n_samples=30,
                    replications=50,
                    init="quantile",
                )
            )
        )
    else:
        design.write_text(
            "means = [0.0, 6.0]\nvariances = [1.0, 1.0]\nweights = [0.5, 0.5]\n"
            'n_samples = 30\nreplications = 50\ninit = "quantile"\n'
        )
    completed = fastem_cli(
        "study",
        "--design",
        design,
        "--replications",
        80,
        "--quiet",
        "--csv",
        tmp_path / "t.csv",
        check=True,
    )
    assert completed.stderr == ""
    rows = read_csv(tmp_path / "t.csv")
    assert [(r["init"], r["replications"], r["n_samples"]) for r in rows] == [
        ("quantile", "80", "30")
    ]
    assert abs(float(rows[0]["mean_2_bias"])) < 0.3


def test_a_study_of_values_whose_squares_overflow_ends_with_its_table(tmp_path):
    out = tmp_path / "table.csv"
    fastem_cli(
        "study",
        "--means",
        "0",
        "1e100",
        "--variances",
        "1e198",
        "1e198",
        "--replications",
        "4",
        "--csv",
        out,
        "--quiet",
        check=True,
    )
    assert read_csv(out)


def test_study_usage_errors(tmp_path):
    assert_one_line_error(
        fastem_cli("study", "--means", 0, 1, "--variances", 1, "--weights", 1, subprocess=True),
        "one value per component",
    )
    assert_one_line_error(
        fastem_cli("study", "--init", "best", "--replications", 5), "--init best is not one of"
    )
    bad = tmp_path / "d.json"
    bad.write_text('{"means": [0, 1], "colour": 3}')
    assert_one_line_error(fastem_cli("study", "--design", bad), "unknown option(s) colour")
    assert_one_line_error(
        fastem_cli("study", "--csv", tmp_path / "nowhere" / "t.csv"), "does not exist"
    )


def test_interrupted_study_writes_nothing(tmp_path):
    out = tmp_path / "table.csv"
    process = subprocess.Popen(
        [str(FASTEM), "study", "--replications", "2000000", "--csv", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(6)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "interrupted; nothing was written" in stderr
    assert not out.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_an_interrupt_swallowed_by_a_destructor_still_stops_the_study(monkeypatch, capsys):
    from fastem import cli

    # The module that runs a study's cells (and fits through _quiet_fit).
    study = importlib.import_module("fastem.toolkit.study_runs")

    class Dropped:
        """Python ignores an exception raised in __del__, as numba's compiler does with a
        Ctrl-C that lands in one of llvmlite's destructors."""

        def __del__(self):
            signal.raise_signal(signal.SIGINT)

    fitted = []

    def fit_after_a_lost_interrupt(*args, **kwargs):
        if not fitted:
            Dropped()  # created and destroyed at once: the interrupt is dropped
        fitted.append(1)
        return quiet_fit(*args, **kwargs)

    quiet_fit = study._quiet_fit
    monkeypatch.setattr(study, "_quiet_fit", fit_after_a_lost_interrupt)
    status = cli.main(["study", "--replications", "20000", "--n-samples", "20", "--quiet"])
    assert status == 130 and "interrupted; nothing was written" in capsys.readouterr().err
    chunk_fits = 3 * 2  # the first chunk: three strategies, each also traced
    assert len(fitted) <= 3 + chunk_fits  # the warm-up fits, then the first chunk, then stop


def test_an_ignored_interrupt_stays_ignored():
    from fastem.cli.progress import show_progress

    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # as for a background job
    try:
        with show_progress("study", quiet=True):
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


def _simulated(tmp_path, replications=3, n_samples=150):
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
        check=True,
    )
    return path


def test_simulate_then_fit_long_csv(tmp_path):
    path = _simulated(tmp_path)
    rows = read_csv(path)
    assert len(rows) == 450 and set(rows[0]) == {"dataset", "value", "component"}
    completed = fastem_cli("fit", path, "--by", "dataset", "--value", "value", check=True)
    table = list(csv.DictReader(io.StringIO(completed.stdout)))
    assert [r["id"] for r in table] == ["0", "1", "2"]
    data = np.loadtxt(path, delimiter=",", skiprows=1)
    expected = fastem.fit(
        [data[data[:, 0] == d, 1] for d in range(3)],
        2,
        n_init="auto",
        random_state=0,
        skip_degenerate=True,
        warn=False,
    )
    for d, r in enumerate(table):
        assert r["status"] == "converged" and r["converged"] == "True"
        assert float(r["mean_1"]) == pytest.approx(expected.means[d, 0], rel=1e-6)
        assert float(r["weight_1"]) + float(r["weight_2"]) == pytest.approx(1.0)
        assert float(r["bic_smaller_better"]) > 0 and "log_likelihood" in r
        assert r["settled"] == str(bool(expected.settled[d]))
        if r["settled"] == "True":
            assert float(r["mean_1"]) == pytest.approx(-3.0, abs=0.8)
            assert float(r["mean_2"]) == pytest.approx(3.0, abs=0.8)
    # A search that found its best maximum once (a component of a few points with a tiny
    # variance, just outside the spurious rule, say) does not vouch for it, and says so.
    assert ("did not settle" in completed.stderr) == any(r["settled"] == "False" for r in table)
    # A stricter bound of a settled search is an option of its own.
    strict = fastem_cli(
        "fit",
        path,
        "--by",
        "dataset",
        "--value",
        "value",
        "--unseen-tol",
        1e-9,
        "--n-init",
        10,
        "--quiet",
        check=True,
    )
    assert all(
        r["settled"] == str(float(r["p_unseen"]) <= 1e-9 and int(r["n_at_best"]) >= 2)
        for r in csv.DictReader(io.StringIO(strict.stdout))
    )
    assert_one_line_error(fastem_cli("fit", path, "--unseen-tol", 2), "--unseen-tol")


def test_fit_chooses_the_number_of_components(tmp_path):
    path = _simulated(tmp_path, replications=2, n_samples=400)
    out = tmp_path / "fits.json"
    fastem_cli(
        "fit",
        path,
        "--by",
        "dataset",
        "--value",
        "value",
        "--components",
        "1-4",
        "--out",
        out,
        check=True,
    )
    fits = json.loads(out.read_text())
    assert [f["n_components"] for f in fits] == [2, 2]
    assert "weight_3" not in fits[0]  # columns reach the largest number chosen
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def fit_rows(*args):
    completed = fastem_cli("fit", *args, "--quiet", check=True)
    return list(csv.DictReader(io.StringIO(completed.stdout)))


def test_fit_writes_n_the_variance_model_and_a_criterion_named_by_its_sign(tmp_path):
    path = _simulated(tmp_path, replications=2, n_samples=150)
    rows = fit_rows(path)
    assert list(rows[0])[:5] == ["id", "n", "n_components", "variance_model", "n_parameters"]
    assert list(rows[0])[-10:] == [
        "log_likelihood",
        "bic_smaller_better",
        "n_iter",
        "converged",
        "n_restarts",
        "n_maxima",
        "n_at_best",
        "p_unseen",
        "settled",
        "status",
    ]
    for row in rows:
        assert (row["n"], row["variance_model"], row["n_parameters"]) == ("150", "unequal", "5")
        bic = -2 * float(row["log_likelihood"]) + 5 * np.log(150)
        # Both printed to 10 significant digits (LOG_LIKELIHOOD_DIGITS).
        assert float(row["bic_smaller_better"]) == pytest.approx(bic, rel=1e-9)
    assert {r["variance_model"] for r in fit_rows(path, "--equal-variance")} == {"equal"}
    one = fit_rows(path, "--components", 1)
    assert [(r["variance_model"], r["n_parameters"]) for r in one] == [("-", "2")] * 2
    binned = tmp_path / "binned.csv"
    binned.write_text(
        "x,count\n"
        + "".join(f"{v},{c}\n" for v, c in [(-3, 4), (-2, 9), (-1, 5), (2, 6), (3, 10), (4, 3)])
    )
    assert fit_rows(binned, "--weights-column", "count")[0]["n"] == "37"  # the sum of weights


def test_a_dataset_with_no_eligible_candidate_says_so_instead_of_k_0(tmp_path):
    path = tmp_path / "two_values.csv"
    # Dataset 'a' holds two distinct values: every fit of 2 or 3 components collapses.
    path.write_text(
        "id,x\n"
        + "a,1\na,2\n" * 6
        + "".join(f"b,{v}\n" for v in (0.3, 1.2, 2.5, 3.1, 4.4, 5.0, 6.2, 7.7))
    )
    completed = fastem_cli("fit", path, "--by", "id", "--components", "2-3", check=True)
    a, b = csv.DictReader(io.StringIO(completed.stdout))
    assert a["status"] == "none_eligible" and a["n"] == "12"
    assert [
        a[name]
        for name in (
            "n_components",
            "variance_model",
            "mean_1",
            "log_likelihood",
            "bic_smaller_better",
            "n_iter",
            "converged",
        )
    ] == [""] * 7
    assert b["n_components"] == "2" and b["status"] == "converged"
    assert "dataset(s) 'a': no candidate of --components 2-3 is eligible" in completed.stderr
    out = tmp_path / "fits.json"
    fastem_cli(
        "fit", path, "--by", "id", "--components", "2-3", "--out", out, "--quiet", check=True
    )
    assert json.loads(out.read_text())[0]["n_components"] is None


def test_all_candidates_lists_every_model_of_every_dataset(tmp_path):
    path = _simulated(tmp_path, replications=2, n_samples=150)
    chosen = fit_rows(path, "--components", "1-3")
    rows = fit_rows(path, "--components", "1-3", "--all-candidates")
    assert [(r["id"], r["n_components"], r["variance_model"]) for r in rows] == [
        (d, k, "-" if k == "1" else "unequal") for d in ("0", "1") for k in ("1", "2", "3")
    ]
    assert {"aic_smaller_better", "icl_smaller_better", "eligible", "chosen"} <= set(rows[0])
    for d, row in zip(("0", "1"), chosen):
        (best,) = [r for r in rows if r["id"] == d and r["chosen"] == "True"]
        assert best["n_components"] == row["n_components"]
        assert best["bic_smaller_better"] == row["bic_smaller_better"]
        assert best["mean_1"] == row["mean_1"]
    assert_one_line_error(
        fastem_cli("fit", path, "--all-candidates"), "--all-candidates", "--components 1-2"
    )


FAITHFUL = Path(__file__).with_name("data") / "faithful.csv"


def test_probability_weights_keep_bic_n_the_number_of_points(tmp_path):
    # faithful's waiting times, each with weight 1/272: weights that sum to 1.
    waiting = [row["waiting"] for row in read_csv(FAITHFUL)]
    path = tmp_path / "weighted.csv"
    path.write_text("waiting,w\n" + "".join(f"{x},{1 / len(waiting)!r}\n" for x in waiting))
    args = ("--value", "waiting", "--weights-column", "w", "--components", "1-6")
    counts = fastem_cli("fit", path, *args, check=True)
    # Besides this warning: n = 1 in BIC all but removes its penalty, so six components
    # are chosen, whose search does not settle, and says so.
    (warning,) = [
        line for line in counts.stderr.strip().splitlines() if "did not settle" not in line
    ]
    assert warning.startswith("fastem: warning: ") and "sum to far less" in warning
    assert "--weights-type probability" in warning and "sample_weight" not in warning
    assert float(next(csv.DictReader(io.StringIO(counts.stdout)))["n"]) == pytest.approx(1.0)
    probability = fit_rows(path, *args, "--weights-type", "probability")
    unweighted = fit_rows(FAITHFUL, "--value", "waiting", "--components", "1-6")
    assert probability[0]["n"] == unweighted[0]["n"] == "272"
    assert probability[0]["n_components"] == unweighted[0]["n_components"] == "2"
    assert float(probability[0]["bic_smaller_better"]) == pytest.approx(
        float(unweighted[0]["bic_smaller_better"]), rel=1e-9
    )
    assert_one_line_error(
        fastem_cli("fit", FAITHFUL, "--value", "waiting", "--weights-type", "probability"),
        "--weights-type probability",
        "--weights-column",
    )


def test_fit_single_column_csv_weights_and_npy(tmp_path):
    x = fastem.simulate([0.5, 0.5], [0.0, 5.0], [1.0, 1.0], 300, random_state=1)[0]
    single = tmp_path / "x.csv"
    single.write_text("\n".join(map(repr, x.tolist())) + "\n")  # no header
    from_csv = fastem_cli("fit", single, "--seed", 3, check=True).stdout
    np.save(tmp_path / "x.npy", x)
    from_npy = fastem_cli("fit", tmp_path / "x.npy", "--seed", 3, check=True).stdout
    assert from_csv == from_npy
    np.save(tmp_path / "rows.npy", np.vstack([x, x[::-1]]))
    rows = list(csv.DictReader(io.StringIO(fastem_cli("fit", tmp_path / "rows.npy").stdout)))
    assert len(rows) == 2
    counts, edges = np.histogram(x, bins=40)
    binned = tmp_path / "binned.csv"
    binned.write_text(
        "centre,count\n"
        + "\n".join(
            f"{(a + b) / 2!r},{c}"
            for a, b, c in zip(edges[:-1].tolist(), edges[1:].tolist(), counts.tolist())
        )
        + "\n"
    )
    fitted = list(
        csv.DictReader(
            io.StringIO(
                fastem_cli(
                    "fit", binned, "--value", "centre", "--weights-column", "count", check=True
                ).stdout
            )
        )
    )
    assert float(fitted[0]["mean_2"]) == pytest.approx(5.0, abs=0.3)


@needs_matplotlib
def test_fit_plot(tmp_path):
    path = _simulated(tmp_path, replications=1)
    fastem_cli(
        "fit", path, "--value", "value", "--by", "dataset", "--plot", tmp_path / "f.png", check=True
    )
    assert (tmp_path / "f.png").read_bytes()[:8] == PNG_SIGNATURE
    # Several datasets, each with its criterion against K: one figure, a row per dataset.
    fastem_cli(
        "fit",
        _simulated(tmp_path, 2),
        "--value",
        "value",
        "--by",
        "dataset",
        "--components",
        "1-3",
        "--variance",
        "equal,unequal",
        "--plot",
        tmp_path / "g.png",
        "--quiet",
        check=True,
    )
    assert (tmp_path / "g.png").read_bytes()[:8] == PNG_SIGNATURE
    wide = _png_size(tmp_path / "g.png")
    assert wide[1] > 1.5 * _png_size(tmp_path / "f.png")[1]  # two rows, not one
    assert wide[0] > _png_size(tmp_path / "f.png")[0]  # the criterion's panel beside


def _png_size(path):
    """A PNG's (width, height), from its IHDR chunk."""
    header = path.read_bytes()[16:24]
    return int.from_bytes(header[:4], "big"), int.from_bytes(header[4:], "big")


@pytest.mark.parametrize(
    ("content", "args", "fragments"),
    [
        ("value\n1.5\n2.0\nabc\n", (), ("line 4", "column 'value'", "'abc' is not a number")),
        ("value\n\n", (), ("no data rows",)),
        ("", (), ("the file is empty",)),
        (
            "value\n1.5\nnan\n3\n",
            (),
            (
                "line 3",
                "'nan' (NaN or infinite)",
            ),
        ),
        ("id,value\na,1\na,\n", ("--by", "id"), ("line 3", "empty cell")),
        ("a,b\n1,2\n", ("--value", "c"), ("no column 'c' for --value", "the columns are: a, b")),
        ("a,b\n1,2\n", (), ("has 2 columns (a, b)", "--value")),
        ("id,value\nx,1\nx,2\ny,5\n", ("--by", "id"), ("dataset 'y' has 1 point(s)",)),
        ("value,w\n1,1\n2,-1\n3,1\n", ("--weights-column", "w"), ("line 3", "negative weight")),
        (
            "1,2\n3\n",
            ("--value", "v"),
            (
                "--value 'v': without a header row, columns are named by number, 1 to 2",
                "its cell '1' is a number",
                "--header",
            ),
        ),
    ],
)
def test_bad_csv_files(tmp_path, content, args, fragments):
    path = tmp_path / "data.csv"
    path.write_text(content)
    assert_one_line_error(fastem_cli("fit", path, *args), str(path), *fragments)


def test_bad_npy_and_missing_files(tmp_path):
    np.save(tmp_path / "cube.npy", np.zeros((2, 2, 2)))
    assert_one_line_error(fastem_cli("fit", tmp_path / "cube.npy"), "shape (2, 2, 2)")
    rows = np.ones((3, 10))
    rows[1, 4] = np.nan
    np.save(tmp_path / "nan.npy", rows)
    assert_one_line_error(
        fastem_cli("fit", tmp_path / "nan.npy"), "row 2, column 5 (counted from 1)", "NaN"
    )
    np.save(tmp_path / "text.npy", np.array(["a", "b"]))
    assert_one_line_error(fastem_cli("fit", tmp_path / "text.npy"), "need numbers")
    assert_one_line_error(fastem_cli("fit", tmp_path / "missing.csv"), "no such file")
    assert_one_line_error(
        fastem_cli("fit", tmp_path / "cube.npy", "--components", "x"), "--components 'x'"
    )


def test_plot_without_matplotlib_says_how_to_install(tmp_path):
    blocker = tmp_path / "blocker" / "matplotlib"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('matplotlib is blocked here')\n")
    env = dict(os.environ, PYTHONPATH=str(tmp_path / "blocker"))
    completed = fastem_cli("study", "--replications", 10, "--plot", tmp_path / "figs", env=env)
    assert_one_line_error(completed, "pip install 'fastem[plot]'")
    assert not (tmp_path / "figs").exists()


def test_bench_prints_throughputs_and_ratios():
    completed = fastem_cli("bench", "--quiet", check=True)
    lines = completed.stdout.strip().splitlines()
    assert lines[1].split()[:2] == ["workload", "fastem"]
    for line in lines[2:]:
        numbers = [float(t.strip("()x")) for t in line.split()[2:] if t.strip("()x")[:1].isdigit()]
        assert len(numbers) >= 3 and all(n > 0 for n in numbers)


def test_integers_beyond_their_range_are_usage_errors(tmp_path):
    path = _simulated(tmp_path, replications=1, n_samples=50)
    completed = fastem_cli("fit", path, "--by", "dataset", "--value", "value", "--max-iter", 2**63)
    assert_one_line_error(completed, "--max-iter must be an integer from 1 to 2147483647")
    completed = fastem_cli("simulate", "--replications", 2, "--n-samples", 2**40)
    assert_one_line_error(completed, "--n-samples 1099511627776 would need 130 TiB of memory")


def test_ctrl_c_stops_a_long_fit_within_seconds(tmp_path):
    # Ten million points and 100,000 iterations would take many minutes; Ctrl-C must stop
    # the kernel at its next iteration, not when it ends.
    data = tmp_path / "big.npy"
    rng = np.random.default_rng(0)
    np.save(data, np.concatenate([rng.normal(-2, 1, 5_000_000), rng.normal(2, 1, 5_000_000)]))
    process = subprocess.Popen(
        [
            str(FASTEM),
            "fit",
            str(data),
            "--n-init",
            "2",
            "--tol",
            "0",
            "--max-iter",
            "100000",
            "--out",
            str(tmp_path / "fit.csv"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(8)
    assert process.poll() is None, process.communicate()
    process.send_signal(signal.SIGINT)
    interrupted = time.perf_counter()
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert time.perf_counter() - interrupted < 10, stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.npy"]


def test_warnings_are_one_plain_line_and_quiet_hides_them(tmp_path):
    path = tmp_path / "spikes.csv"
    path.write_text("x\n" + "1\n2\n3\n" * 3)  # three values, three components: collapses
    completed = fastem_cli("fit", path, "--components", 3, check=True)
    assert completed.stdout.splitlines()[1].endswith("variance_floored")
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("fastem: warning: 1 of 1 dataset(s) ended")
    assert ".py" not in completed.stderr
    quiet = fastem_cli("fit", path, "--components", 3, "--quiet", check=True)
    assert quiet.stderr == "" and quiet.stdout == completed.stdout


def test_warnings_of_the_python_api_are_told_in_flags(tmp_path):
    path = _simulated(tmp_path, replications=2, n_samples=100)
    completed = fastem_cli("fit", path, "--max-iter", 2, "--components", "1-2", check=True)
    converged, settled = completed.stderr.strip().splitlines()
    assert converged.startswith(
        "fastem: warning: 2 component(s), unequal variances: 2 of 2 "
        "dataset(s) did not converge within --max-iter 2 iterations"
    )
    # Two iterations from each start leave restarts short of their maxima: the search
    # cannot tell them apart, so it does not settle.
    assert (
        settled.startswith(
            "fastem: warning: 2 of 2 dataset(s) chose a model whose search did not settle"
        )
        and "the settled column" in settled
    )
    for line in (converged, settled):
        assert "max_iter" not in line and "max_init" not in line and "n_components=" not in line
        assert "FitResult" not in line and "SelectionResult" not in line
    collapsed = tmp_path / "spikes.csv"
    collapsed.write_text("x\n" + "1\n2\n3\n" * 3)
    completed = fastem_cli("fit", collapsed, "--components", 3, check=True)
    assert "FitResult" not in completed.stderr and "reg_variance" not in completed.stderr


def test_fit_takes_the_algorithm_and_the_stopping_rule(tmp_path):
    waiting = np.loadtxt(
        Path(__file__).parent / "data" / "faithful.csv", skiprows=1, delimiter=","
    )[:, 1]
    path = tmp_path / "waiting.csv"
    path.write_text("waiting\n" + "\n".join(f"{v:g}" for v in waiting) + "\n")
    for algorithm, stop in (("squarem", "aitken"), ("em", "parameter")):
        completed = fastem_cli(
            "fit",
            path,
            "--components",
            3,
            "--algorithm",
            algorithm,
            "--stop",
            stop,
            "--quiet",
            check=True,
        )
        [row] = list(csv.DictReader(io.StringIO(completed.stdout)))
        expected = fastem.fit(
            waiting,
            3,
            n_init="auto",
            random_state=0,
            algorithm=algorithm,
            stop=stop,
            skip_degenerate=True,
            warn=False,
        )
        # Printed to 10 significant digits.
        assert float(row["log_likelihood"]) == float(f"{expected.log_likelihood:.10g}")
        assert int(row["n_iter"]) == expected.n_iter


def test_raw_parquet_holds_the_raw_csv_rows_and_the_provenance_in_its_metadata(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    from fastem.toolkit.study import RAW_BLOCK

    scenarios = tmp_path / "scenarios.toml"
    scenarios.write_text(
        '[[scenarios]]\nname = "two"\nweights = [0.5, 0.5]\nmeans = [0.0, 4.0]\n'
        'variances = [1.0, 1.0]\n\n[[scenarios]]\nname = "three"\nweights = [0.3, 0.3, 0.4]\n'
        "means = [0.0, 4.0, 8.0]\nvariances = [1.0, 1.0, 1.0]\n"
    )
    for name in ("raw.parquet", "raw.csv"):  # more replications than a block of raw rows
        fastem_cli(
            "study",
            "--scenarios",
            scenarios,
            "--n-samples",
            20,
            "--init",
            "kmeans++",
            "--replications",
            RAW_BLOCK + 1,
            "--raw",
            tmp_path / name,
            "--quiet",
            check=True,
        )
    table = pq.read_table(tmp_path / "raw.parquet")
    rows = read_csv(tmp_path / "raw.csv")
    assert pq.ParquetFile(tmp_path / "raw.parquet").num_row_groups == 4  # 2 blocks a scenario
    assert table.num_rows == len(rows) == 2 * (RAW_BLOCK + 1)
    provenance = json.loads(table.schema.metadata[b"fastem"])
    design = provenance["design"]
    kept = {
        "fastem": provenance["fastem"],
        **{
            name: design[name]
            for name in ("seed", "tol", "max_iter", "reg_variance", "equal_variance")
        },
    }
    assert table.column_names + list(kept) == list(rows[0])
    assert [sc["name"] for sc in design["scenarios"]] == ["two", "three"]

    def cell(value):  # as CSV writes it: nothing for a missing value
        return "" if value is None or value != value else str(value)

    for name in table.column_names:
        assert [cell(v) for v in table.column(name).to_pylist()] == [r[name] for r in rows]
    for name, value in kept.items():
        assert {r[name] for r in rows} == {cell(value)}


def test_study_takes_scenarios_algorithms_rules_and_writes_raw_results(tmp_path):
    scenarios = tmp_path / "scenarios.toml"
    scenarios.write_text(
        '[[scenarios]]\nname = "close"\nweights = [0.5, 0.5]\nmeans = [0.0, 2.0]\n'
        'variances = [1.0, 1.0]\n\n[[scenarios]]\nname = "apart"\nweights = [0.5, 0.5]\n'
        "means = [0.0, 4.0]\nvariances = [1.0, 1.0]\n"
    )
    completed = fastem_cli(
        "study",
        "--scenarios",
        scenarios,
        "--n-samples",
        50,
        "--replications",
        40,
        "--init",
        "kmeans++",
        "--algorithm",
        "em",
        "squarem",
        "--stop",
        "loglik",
        "aitken",
        "--raw",
        tmp_path / "raw.csv",
        "--csv",
        tmp_path / "t.csv",
        "--quiet",
        check=True,
    )
    header = completed.stdout.splitlines()[0].split()
    assert header[:6] == ["scenario", "n_samples", "init", "algorithm", "stop", "n_init"]
    assert "passes_median" in header
    rows = read_csv(tmp_path / "t.csv")
    assert [(r["scenario"], r["algorithm"], r["stop"]) for r in rows[:4]] == [
        ("close", "em", "loglik"),
        ("close", "em", "aitken"),
        ("close", "squarem", "loglik"),
        ("close", "squarem", "aitken"),
    ]
    raw = read_csv(tmp_path / "raw.csv")
    assert len(raw) == 8 * 40 and {r["scenario"] for r in raw} == {"close", "apart"}
    python = (
        fastem.Design(
            scenarios=[
                dict(name="close", weights=[0.5, 0.5], means=[0.0, 2.0], variances=[1.0, 1.0]),
                dict(name="apart", weights=[0.5, 0.5], means=[0.0, 4.0], variances=[1.0, 1.0]),
            ],
            n_samples=50,
            replications=40,
            init="kmeans++",
            algorithm=("em", "squarem"),
            stop=("loglik", "aitken"),
        )
        .run()
        .raw()
    )
    assert [float(r["log_likelihood"]) for r in raw] == list(python["log_likelihood"])
    # Every output records the version and the design: CSV files in plain columns.
    assert {r["true_mean_2"] for r in raw} == {"2.0", "4.0"}
    assert {(r["fastem"], r["seed"], r["max_iter"]) for r in raw} == {
        (fastem.__version__, "0", "1000")
    }
    design = json.loads(rows[0]["design"])
    assert [sc["name"] for sc in design["scenarios"]] == ["close", "apart"]
    assert design["algorithm"] == ["em", "squarem"] and rows[0]["fastem"] == fastem.__version__


def test_study_scenarios_file_without_scenarios_is_refused(tmp_path):
    empty = tmp_path / "s.json"
    empty.write_text('{"replications": 10}')
    completed = fastem_cli("study", "--scenarios", empty)
    assert completed.returncode == 2
    assert (
        completed.stderr.strip() == f"fastem: {empty}: no 'scenarios' list; give one, e.g. "
        "[[scenarios]] tables in TOML"
    )


def test_a_bad_scenario_is_named_by_its_file_and_a_mixture_flag_beside_scenarios_refused(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[[scenarios]]\nname = "a"\nweights = [0.5, 0.6]\nmeans = [0.0, 1.0]\n'
        "variances = [1.0, 1.0]\n"
    )
    completed = fastem_cli("study", "--scenarios", bad)
    assert completed.returncode == 2
    assert completed.stderr.startswith(f"fastem: {bad}: scenario a: weights must be")
    good = tmp_path / "good.toml"
    good.write_text(bad.read_text().replace("0.6", "0.5"))
    completed = fastem_cli("study", "--scenarios", good, "--means", 0, 3)
    assert completed.returncode == 2
    assert "leave out --means" in completed.stderr


def test_fit_compares_variance_models_by_the_criterion_asked_as_mclust_does():
    # mclust 6 on faithful's waiting times, mclustBIC(x, G = 1:3, modelNames = c("E", "V"))
    # and mclustICL(...): BIC E,2 -2090.427 (the best), E,3 -2101.849; ICL E,2 -2099.576
    # (the best). mclust's V fits stop earlier than fastem's, so only E's are compared.
    waiting = ("--value", "waiting")
    both = ("--components", "1-3", "--variance", "equal,unequal")
    (bic,) = fit_rows(FAITHFUL, *waiting, *both)
    assert (bic["n_components"], bic["variance_model"]) == ("2", "equal")
    assert float(bic["bic_smaller_better"]) == pytest.approx(2090.427, abs=2e-3)
    (icl,) = fit_rows(FAITHFUL, *waiting, *both, "--criterion", "icl")
    assert (icl["n_components"], icl["variance_model"]) == ("2", "equal")
    assert "bic_smaller_better" not in icl
    x = np.array([float(row["waiting"]) for row in read_csv(FAITHFUL)])
    expected = fastem.select(x, range(1, 4), variance=("equal", "unequal"), criterion="icl")
    assert float(icl["icl_smaller_better"]) == pytest.approx(expected.icl[expected.best], rel=1e-9)
    rows = fit_rows(FAITHFUL, *waiting, *both, "--all-candidates")
    assert [(r["n_components"], r["variance_model"]) for r in rows] == [
        ("1", "-"),
        ("2", "equal"),
        ("2", "unequal"),
        ("3", "equal"),
        ("3", "unequal"),
    ]
    # E,3: fastem's search finds a higher maximum than mclust's hierarchical start.
    assert float(rows[3]["bic_smaller_better"]) < 2101.849
    # One K and both models is a choice between the two.
    two = fit_rows(FAITHFUL, *waiting, "--variance", "unequal,equal", "--all-candidates")
    assert [r["variance_model"] for r in two] == ["unequal", "equal"]
    assert [r["chosen"] for r in two] == ["False", "True"]
    assert_one_line_error(
        fastem_cli("fit", FAITHFUL, *waiting, "--variance", "unequal", "--equal-variance"),
        "--equal-variance",
        "--variance",
    )
    bad = fastem_cli("fit", FAITHFUL, *waiting, "--variance", "E")
    assert bad.returncode == 2 and "equal,unequal (mclust's E and V)" in bad.stderr
