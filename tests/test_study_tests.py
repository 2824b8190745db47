"""Tests of K inside a study (fastem.toolkit.study_tests): the rejection rates, Boos &
Zhang's extrapolation checked by hand and against simhelpers, the p-values of one set of
replicates per dataset, and a table that does not depend on the chunks or the threads."""

import json
import math
from pathlib import Path

import numba
import numpy as np
import pytest

import fastem
from fastem import cli
from fastem.toolkit import study_tests
from fastem.toolkit.replicates import stage_seed
from fastem.toolkit.study import with_mcse_in_parentheses
from fastem.toolkit.study_tests import (
    TESTS,
    StudyTest,
    TestSums,
    boos_zhang_weights,
    register_test,
    run_test,
    study_test,
)

SIZES = (19, 39, 59)
NULL = ([1.0], [0.0], [1.0])  # one N(0, 1) component


@pytest.fixture(scope="module")
def tested():
    """A small size study of the bootstrap LRT, 1 against 2 components, in chunks of 7."""
    test = study_test("bootstrap_lrt", 1, [0.05, 0.1], SIZES, {"n_init": 1})
    return fastem.study(*NULL, n_samples=40, replications=16, n_init=2, test=test, chunk_size=7)


def _test_columns(table):
    return [name for name in table.columns if name.startswith(("reject_", "test_"))]


def test_boos_zhang_weights_are_the_intercept_of_the_least_squares_line_in_one_over_b():
    rates = np.array([0.031, 0.042, 0.0455])
    intercept = np.polynomial.polynomial.polyfit(1 / np.array(SIZES), rates, 1)[0]
    c = boos_zhang_weights(SIZES)
    assert c @ rates == pytest.approx(intercept, rel=1e-12)
    assert c.sum() == pytest.approx(1.0, rel=1e-14)
    assert c @ (1 / np.array(SIZES)) == pytest.approx(0.0, abs=1e-14)


def test_the_table_is_the_published_formula_computed_by_hand_from_the_raw_p_values(tested):
    raw, row = tested.raw(), tested.table.to_records()[0]
    p = np.column_stack([raw["p_value_b19"], raw["p_value_b39"], raw["p_value"]])
    p = p[np.isfinite(p).all(axis=1)]
    n = len(p)
    assert row["test_failed"] == 1 - n / 16
    x = 1 / np.array(SIZES, dtype=float)
    for level, label in ((0.05, "05"), (0.1, "10")):
        rejected = (p <= level).astype(float)  # I_dj: dataset d rejects with the first B_j
        rates = rejected.mean(axis=0)
        # Boos & Zhang: pi_inf = intercept of the least-squares line of pi_B on 1/B, its
        # MCSE the standard error of the mean of Y_d = sum_j c_j I_dj.
        slope = np.sum((x - x.mean()) * (rates - rates.mean())) / np.sum((x - x.mean()) ** 2)
        assert row[f"reject_{label}_bz"] == pytest.approx(rates.mean() - slope * x.mean())
        y = rejected @ boos_zhang_weights(SIZES)
        assert row[f"reject_{label}_bz_mcse"] == pytest.approx(y.std(ddof=1) / np.sqrt(n))
        assert row[f"reject_{label}"] == rates[-1]
        assert row[f"reject_{label}_b19"] == rates[0]
        mcse = np.sqrt(rates[-1] * (1 - rates[-1]) / n)
        assert row[f"reject_{label}_mcse"] == pytest.approx(mcse, rel=1e-14)


# simhelpers' extrapolate_rejection (development version) on the Weyl-sequence statistics
# of tests/r/boos_zhang.R (SIMHELPERS_R=<its file> Rscript tests/r/boos_zhang.R): per
# level, the rates at B = 19, 39, 59 and extrapolated to infinity, and their MCSEs
# (simhelpers' sd / sqrt(n) for all four).
SIMHELPERS = {
    0.05: (
        [0.029999999999999999, 0.040000000000000001, 0.044999999999999998, 0.051299894217207341],
        [0.012092607484694706, 0.013891177924157583, 0.014695399751940971, 0.017199147037531681],
    ),
    0.1: (
        [0.065000000000000002, 0.085000000000000006, 0.085000000000000006, 0.097486097118678242],
        [0.017475754920753817, 0.019769399225283583, 0.019769399225283583, 0.023324646331215140],
    ),
}


def test_extrapolation_matches_simhelpers_extrapolate_rejection():
    n = 200
    golden = (np.sqrt(5) - 1) / 2
    stat = ((np.arange(n) + 1) * np.sqrt(2)) % 1
    boot = ((59 * np.arange(n)[:, None] + np.arange(59) + 1) * golden) % 1
    assert not (boot == stat[:, None]).any()  # no ties: simhelpers' p < alpha is fastem's
    p = np.column_stack([((boot[:, :b] >= stat[:, None]).sum(axis=1) + 1) / (b + 1) for b in SIZES])
    sums = TestSums(StudyTest("bootstrap_lrt", 1, (0.05, 0.1), SIZES), keep=False)
    sums.add(p[:77])
    sums.add(p[77:])  # in two chunks: integer sums
    row = sums.columns()
    for level, label in ((0.05, "05"), (0.1, "10")):
        rates, mcses = SIMHELPERS[level]
        assert row[f"reject_{label}_bz"] == pytest.approx(rates[3], rel=1e-13)
        assert row[f"reject_{label}_bz_mcse"] == pytest.approx(mcses[3], rel=1e-13)
        for b, rate, mcse in zip(SIZES[:2], rates, mcses):
            assert row[f"reject_{label}_b{b}"] == pytest.approx(rate, rel=1e-14)
            # fastem's binomial MCSE sqrt(p (1 - p) / n), simhelpers' sd / sqrt(n).
            assert row[f"reject_{label}_b{b}_mcse"] == pytest.approx(
                mcse * np.sqrt((n - 1) / n), rel=1e-13
            )
        assert row[f"reject_{label}"] == pytest.approx(rates[2], rel=1e-14)


def test_no_extrapolation_where_b_plus_one_times_the_level_is_not_whole():
    sums = TestSums(StudyTest("bootstrap_lrt", 1, (0.01, 0.05), (19, 39)), keep=False)
    sums.add(np.array([[0.05, 0.025], [0.5, 0.4], [0.1, 0.075]]))
    row = sums.columns()
    assert np.isnan(row["reject_01_bz"]) and np.isnan(row["reject_01_bz_mcse"])
    assert row["reject_01"] == 0 and row["reject_05"] == 1 / 3
    assert row["reject_05_bz"] == pytest.approx(1 / 3)  # the same rate at both sizes


def test_the_sizes_are_the_first_replicates_of_bootstrap_lrts_own_call():
    data, _ = fastem.simulate(*NULL, 30, 4, random_state=4)
    test = study_test("bootstrap_lrt", 1, 0.05, [19, 39], {"n_init": 1})
    p = run_test(test, data[1:3], 1, 77)  # datasets 1 and 2 of the cell
    seed = stage_seed(77, study_tests.TEST_STREAM)
    whole = fastem.bootstrap_lrt(data, 2, 39, random_state=seed, n_init=1, sequential=False)
    np.testing.assert_array_equal(p[:, 1], whole.p_value[1:3, 0])
    boot, observed = whole.boot_statistics[1:3, 0, :19], whole.statistic[1:3, 0]
    first = (1 + (boot >= observed[:, None]).sum(axis=1)) / (1 + np.isfinite(boot).sum(axis=1))
    np.testing.assert_array_equal(p[:, 0], first)


@pytest.mark.exact
def test_the_tests_do_not_depend_on_the_chunks_or_the_threads(tested):
    test = study_test("bootstrap_lrt", 1, [0.05, 0.1], SIZES, {"n_init": 1})
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        whole = fastem.study(*NULL, n_samples=40, replications=16, n_init=2, test=test)
    finally:
        numba.set_num_threads(threads)
    for name in _test_columns(tested.table):
        np.testing.assert_array_equal(whole.table[name], tested.table[name], err_msg=name)
    for name in ("p_value", "p_value_b19", "p_value_b39"):
        np.testing.assert_array_equal(whole.raw()[name], tested.raw()[name], err_msg=name)


def test_the_raw_rows_handed_on_have_each_datasets_p_values(tested):
    blocks = []
    test = study_test("bootstrap_lrt", 1, [0.05, 0.1], SIZES, {"n_init": 1})
    fastem.study(
        *NULL,
        n_samples=40,
        replications=16,
        n_init=2,
        test=test,
        chunk_size=5,
        keep_replications=False,
        raw=blocks.append,
    )
    np.testing.assert_array_equal(blocks[0]["p_value"], tested.raw()["p_value"])


def test_a_registered_test_without_resampling_gives_rates_and_no_extrapolation(monkeypatch):
    def z_test(datasets, k0, settings, seed, first):
        # A z-test of mean 0 stands in for a test of K: one p-value per dataset, no B.
        z = np.abs(datasets.mean(axis=1)) * np.sqrt(datasets.shape[1])
        return np.array([math.erfc(v / math.sqrt(2)) for v in z])[:, None]

    monkeypatch.setattr(study_tests, "TESTS", dict(TESTS))
    register_test("z", z_test, resampling=False)
    test = study_test("z", 1, [0.05, 0.1])
    result = fastem.study(*NULL, n_samples=25, replications=400, n_init=1, test=test)
    row, p = result.table.to_records()[0], result.raw()["p_value"]
    assert "reject_05_bz" not in result.table.columns and "p_value_b99" not in result.raw().columns
    assert row["test_failed"] == 0
    assert row["reject_05"] == np.mean(p <= 0.05) and row["reject_10"] == np.mean(p <= 0.1)
    # The data are drawn under the z-test's null: its size is its level, within 3 MCSEs.
    assert abs(row["reject_05"] - 0.05) < 3 * row["reject_05_mcse"]


def test_bad_test_settings_are_refused_with_the_option_named():
    with pytest.raises(ValueError, match="test='nope' is not one of 'bootstrap_lrt'"):
        study_test("nope")
    with pytest.raises(ValueError, match="levels"):
        study_test("bootstrap_lrt", levels=[1.5])
    with pytest.raises(ValueError, match="n_boot"):
        study_test("bootstrap_lrt", n_boot=[19, 0])
    with pytest.raises(ValueError, match=r"test_options \['n_bot'\] are not options of the te"):
        study_test("bootstrap_lrt", options={"n_bot": 5})
    with pytest.raises(ValueError, match="test_k0") as error:
        fastem.Design(test="bootstrap_lrt", test_k0=0)
    assert "test_k0" in error.value.options
    with pytest.raises(ValueError, match="too small for the test of 3 against 4"):
        fastem.study(*NULL, n_samples=4, replications=2, test=study_test("bootstrap_lrt", 3))
    with pytest.raises(TypeError, match="StudyTest"):
        fastem.study(*NULL, n_samples=10, replications=2, test="bootstrap_lrt")


def test_the_command_line_runs_a_size_study_with_its_flags(tmp_path, capsys):
    raw = tmp_path / "raw.csv"
    design = tmp_path / "design.json"
    design.write_text(json.dumps({"test_options": {"n_init": 1}}))
    argv = ["study", "--design", str(design), "--weights", "1", "--means", "0"]
    argv += ["--variances", "1", "--n-samples", "30", "--replications", "6", "--n-init", "1"]
    argv += ["--test", "bootstrap_lrt", "--n-boot", "19", "39", "--levels", "0.05"]
    argv += ["--raw", str(raw), "--quiet"]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "reject_05_bz" in out and "test_failed" in out
    header = raw.read_text().splitlines()[0].split(",")
    assert "p_value" in header and "p_value_b19" in header


@pytest.mark.slow
def test_the_guides_size_table_is_what_the_shipped_design_prints_for_its_null():
    # The null scenario alone draws and tests the same datasets as in the whole design
    # (cells and tests are seeded by their content and index): its test columns are the
    # guide's, digit for digit.
    root = Path(__file__).resolve().parents[1]
    design = fastem.Design.from_file(root / "docs" / "studies" / "lrt-size.toml")
    null = fastem.Design(**{**design.to_dict(), "scenarios": design.scenarios[:1]})
    table = with_mcse_in_parentheses(null.run().brief_table())
    guide = (root / "docs" / "guide" / "studies.md").read_text()
    line = next(row for row in guide.splitlines() if row.lstrip().startswith("null "))
    shown = [name for name in table.columns if name.startswith(("reject_", "test_"))]
    assert shown == ["test_failed", "reject_05", "reject_05_bz", "reject_10", "reject_10_bz"]
    for name in shown:
        assert f"  {table[name][0]}  " in f"{line}  ", name


def test_a_tests_power_is_a_measure_to_draw_against_a_design_variable():
    from fastem.toolkit.plots.measure import measure_lines

    mixtures = fastem.grid_scenarios(
        {"separation": [0.0, 3.0]},
        {"weights": [0.5, 0.5], "means": [0.0, "separation"], "variances": [1.0, 1.0]},
    )
    test = study_test("bootstrap_lrt", 1, 0.1, [19, 39], {"n_init": 1})
    result = fastem.study(scenarios=mixtures, n_samples=30, replications=10, n_init=1, test=test)
    (line,) = measure_lines(result, "reject_10_bz", "separation")
    np.testing.assert_array_equal(line.x, [0.0, 3.0])
    np.testing.assert_array_equal(line.y, result.table["reject_10_bz"])
    np.testing.assert_array_equal(line.mcse, result.table["reject_10_bz_mcse"])
    assert fastem.Design(test="bootstrap_lrt", plot_measure="reject_05_bz").plot_measure
    with pytest.raises(ValueError, match="plot_measure"):
        fastem.Design(plot_measure="reject_05_mcse")


def test_bootstrap_lrt_of_a_chunk_with_its_offset_is_that_part_of_the_whole_batch():
    x = fastem.simulate(*NULL, 60, 6, random_state=3)[0]
    options = dict(random_state=5, n_init=1, sequential=False)
    whole = fastem.bootstrap_lrt(x, 2, 19, **options)
    part = fastem.bootstrap_lrt(x[2:5], 2, 19, first_dataset=2, **options)
    np.testing.assert_array_equal(part.boot_statistics, whole.boot_statistics[2:5])
    np.testing.assert_array_equal(part.p_value, whole.p_value[2:5])
    with pytest.raises(ValueError, match="first_dataset"):
        fastem.bootstrap_lrt(x, 2, 19, first_dataset=-1)


def test_the_emtest_in_a_study_gives_emtests_own_p_values_whatever_the_chunks():
    data, _ = fastem.simulate(*NULL, 40, 4, random_state=5)
    test = study_test("emtest", 1, 0.05, options={"n_starts": 2})
    seed = stage_seed(78, study_tests.TEST_STREAM)
    whole = fastem.emtest(data, 1, n_starts=2, random_state=seed)
    np.testing.assert_array_equal(run_test(test, data, 0, 78)[:, 0], whole.p_value)
    # datasets 1 and 2 alone: the draws follow each dataset's content, not its place
    np.testing.assert_array_equal(run_test(test, data[1:3], 1, 78)[:, 0], whole.p_value[1:3])
    with pytest.raises(ValueError, match="not options of the test 'emtest'"):
        study_test("emtest", 1, 0.05, options={"n_boot": 19})
