"""What ``fastem`` says about input it cannot use, and how it reads missing values."""

import csv
import io

import numpy as np
import pytest

from test_cli import PNG_SIGNATURE, assert_one_line_error, fastem_cli, needs_matplotlib


def rows_of(output):
    return list(csv.DictReader(io.StringIO(output)))


def values_csv(tmp_path, cells, name="x.csv", header="x"):
    """A one-column CSV of ``cells`` (strings, written as given) around 40 seeded values."""
    rng = np.random.default_rng(3)
    values = [
        repr(v) for v in np.concatenate([rng.normal(-3, 1, 20), rng.normal(3, 1, 20)]).tolist()
    ]
    path = tmp_path / name
    path.write_text(header + "\n" + "\n".join(values[:20] + cells + values[20:]) + "\n")
    return path


# ------------------------------------------------------------------ missing values


@pytest.mark.parametrize("missing", ["NA", "NaN", ""])
def test_na_nan_and_empty_cells_are_missing_values_that_dropna_leaves_out(tmp_path, missing):
    with_na = values_csv(tmp_path, [missing], "na.csv")
    without = values_csv(tmp_path, [], "plain.csv")
    dropped = fastem_cli("fit", with_na, "--dropna", "--quiet", check=True).stdout
    plain = fastem_cli("fit", without, "--quiet", check=True).stdout
    assert rows_of(dropped)[0]["n"] == "40"
    assert rows_of(dropped)[0]["mean_1"] == rows_of(plain)[0]["mean_1"]


def test_a_missing_value_without_dropna_names_its_line_and_the_fix(tmp_path):
    path = values_csv(tmp_path, ["NA"])
    assert_one_line_error(
        fastem_cli("fit", path), "x.csv, line 22, column 'x'", "'NA'", "missing value", "--dropna"
    )


def test_na_values_replaces_the_cells_read_as_missing(tmp_path):
    path = values_csv(tmp_path, [".", "NA"])
    assert_one_line_error(fastem_cli("fit", path, "--dropna"), "line 22", "'.' is not a number")
    listed = fastem_cli("fit", path, "--dropna", "--na-values", "NA,.", "--quiet", check=True)
    assert rows_of(listed.stdout)[0]["n"] == "40"
    # With no markers listed, NA is text again, which is not a number.
    assert_one_line_error(
        fastem_cli("fit", values_csv(tmp_path, ["NA"], "na.csv"), "--dropna", "--na-values", ""),
        "line 22",
        "'NA' is not a number",
    )


def test_a_number_given_as_na_value_is_missing_and_never_fitted(tmp_path):
    path = values_csv(tmp_path, ["-999"])
    plain = fastem_cli("fit", values_csv(tmp_path, [], "plain.csv"), "--quiet", check=True)
    dropped = fastem_cli("fit", path, "--dropna", "--na-values", "-999", "--quiet", check=True)
    assert rows_of(dropped.stdout)[0]["n"] == "40"
    assert rows_of(dropped.stdout)[0]["mean_1"] == rows_of(plain.stdout)[0]["mean_1"]
    assert_one_line_error(
        fastem_cli("fit", path, "--na-values", "-999"),
        "x.csv, line 22, column 'x'",
        "'-999', a missing value",
        "--dropna",
    )


# ------------------------------------------------------------------ columns


def test_a_column_name_given_twice_in_the_header_is_ambiguous(tmp_path):
    path = tmp_path / "twice.csv"
    path.write_text("x,x\n" + "".join(f"{i},{i * 2 + 1}\n" for i in range(10)))
    assert_one_line_error(
        fastem_cli("fit", path, "--value", "x"),
        "--value x",
        "2 columns 'x'",
        "ambiguous",
        "different names",
    )


def test_a_column_of_ids_without_a_name_is_named_by_its_place(tmp_path):
    path = tmp_path / "ids.csv"
    path.write_text(",v\n" + "".join(f"{'ab'[i % 2]},{i}.5\n" for i in range(10)))
    completed = fastem_cli("fit", path, "--value", "v")
    assert_one_line_error(completed, "column 1 (empty in the header)", "give it a name", "--pool")
    assert "--by  " not in completed.stderr


# ------------------------------------------------------------------ weights


def weights_csv(tmp_path, weight):
    path = tmp_path / "w.csv"
    path.write_text(
        "x,w\n" + "".join(f"{(i % 5) * 1.5 + (i > 4) * 9},{weight}\n" for i in range(10))
    )
    return path


@pytest.mark.parametrize("kind", ["frequency", "probability"])
@pytest.mark.parametrize(
    "weight, fragment",
    [
        ("1e308", "the sample weights of dataset(s) '0' are so large that their sum overflows"),
        ("5e-324", "the sample weights of dataset(s) '0' include subnormal values"),
    ],
)
def test_weights_out_of_float64s_range_are_named_as_the_problem(tmp_path, kind, weight, fragment):
    completed = fastem_cli(
        "fit", weights_csv(tmp_path, weight), "--weights-column", "w", "--weights-type", kind
    )
    assert_one_line_error(completed, fragment, "weights by a constant")
    assert "values so large" not in completed.stderr


def test_weights_that_overflow_the_weighted_sums_are_named_as_the_problem(tmp_path):
    completed = fastem_cli("fit", weights_csv(tmp_path, "1e307"), "--weights-column", "w")
    assert_one_line_error(
        completed,
        "the sample weights of dataset(s) '0' are so large that "
        "the weighted sums of the values overflow",
        "Divide the weights",
    )


# ------------------------------------------------------------------ options


def test_a_quoted_init_keeps_its_quoting_in_the_message(tmp_path):
    completed = fastem_cli("fit", values_csv(tmp_path, []), "--init", "a;b")
    assert_one_line_error(completed, "--init 'a;b' is not one of")


@needs_matplotlib
@pytest.mark.parametrize(
    "suffix, start", [(".svg", b"<?xml"), (".pdf", b"%PDF"), (".png", PNG_SIGNATURE)]
)
def test_plot_writes_the_format_its_suffix_names(tmp_path, suffix, start):
    figure = tmp_path / f"fit{suffix}"
    fastem_cli("fit", values_csv(tmp_path, []), "--plot", figure, "--quiet", check=True)
    assert figure.read_bytes().startswith(start)


def test_plot_refuses_a_suffix_it_cannot_write_before_any_work(tmp_path):
    figure = tmp_path / "fit.gif"
    completed = fastem_cli("fit", values_csv(tmp_path, []), "--plot", figure)
    assert completed.returncode == 2
    assert "fit.gif: a figure is written as .png, .svg, .pdf" in completed.stderr
    assert not figure.exists()


@pytest.mark.parametrize("how", ["file", "flag"])
def test_a_design_whose_mixture_float64_cannot_hold_is_refused_naming_the_option(tmp_path, how):
    design = tmp_path / "far.toml"
    design.write_text("means = [0, 1e200]\n")
    args = ["--design", design] if how == "file" else ["--means", "0", "1e200"]
    completed = fastem_cli("study", *args, "--replications", 5, "--quiet")
    where = "far.toml: means [0.0, 1e+200]" if how == "file" else "--means [0.0, 1e+200]"
    assert_one_line_error(completed, where, "spread overflows float64", "rescale the mixture")


# ------------------------------------------------------------------ study --raw


def test_raw_has_each_replicates_standard_errors_and_coverage_recomputes_from_it(tmp_path):
    raw, summary = tmp_path / "raw.csv", tmp_path / "table.csv"
    fastem_cli(
        "study",
        "--replications",
        30,
        "--init",
        "kmeans++",
        "--n-init",
        1,
        "--se",
        "score",
        "--raw",
        raw,
        "--csv",
        summary,
        "--quiet",
        check=True,
    )
    rows, (table,) = rows_of(raw.read_text()), rows_of(summary.read_text())
    assert len(rows) == 30
    for name in ("weight", "mean", "variance"):
        for k in (1, 2):
            estimate = np.array([float(r[f"{name}_{k}"]) for r in rows])
            se = np.array([float(r[f"{name}_se_{k}"] or "nan") for r in rows])
            true = float(rows[0][f"true_{name}_{k}"])
            kept = ~np.isnan(se)
            covered = np.abs(estimate[kept] - true) <= 1.959963984540054 * se[kept]
            assert covered.mean() == pytest.approx(float(table[f"{name}_{k}_coverage"]), abs=1e-12)
