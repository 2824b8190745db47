"""What the package shows of itself: its names, how it counts, where its warnings point, and
how its reports round."""

import inspect
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

import fastem
from fastem.table import Table

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_dir_shows_the_public_names_and_not_the_modules_the_package_imports():
    names = dir(fastem)
    assert {"importlib", "sys", "types"}.isdisjoint(names)
    assert set(fastem.__all__) <= set(names)
    assert not [name for name in names if name.startswith("_") and not name.startswith("__")]


def test_the_readme_states_the_python_version_pyproject_requires():
    pyproject = (ROOT / "pyproject.toml").read_text()
    (required,) = re.findall(r'^requires-python = ">=(3\.\d+)"$', pyproject, re.MULTILINE)
    stated = re.findall(r"Python (3\.\d+) \(or newer\)", README)
    assert stated and set(stated) == {required}


def test_the_guide_signature_of_fit_has_every_parameter():
    guide = (ROOT / "docs" / "guide" / "fitting.md").read_text()
    block = guide[guide.index("fastem.fit(data, n_components=2, *,") :]
    block = block[: block.index("-> FitResult")]
    written = re.findall(r"(\w+)=", block)
    assert written == [name for name in inspect.signature(fastem.fit).parameters if name != "data"]


def degenerate_column():
    """Ten copies of one value among 50 normal points: three components collapse one."""
    rng = np.random.default_rng(0)
    return np.r_[np.zeros(10), rng.normal(size=50)][:, None]


@pytest.mark.parametrize("method", ["fit", "fit_predict"])
def test_estimator_warnings_point_at_the_callers_line(method):
    estimator = fastem.GaussianMixture(3, random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        line = inspect.currentframe().f_lineno + 1
        getattr(estimator, method)(degenerate_column())
    degenerate = [w for w in caught if issubclass(w.category, fastem.DegenerateFitWarning)]
    assert degenerate
    assert {(w.filename, w.lineno) for w in degenerate} == {(__file__, line)}


def test_a_table_prints_values_alike_to_ten_digits_with_six():
    # The standard errors of the two weights of a two-component fit are one number,
    # computed twice; they differ in the last bits only.
    se = 0.023627007171234
    column = str(Table({"se": [se, np.nextafter(se, 1), 0.0570471577]})).splitlines()[1:]
    assert [cell.strip() for cell in column] == ["0.023627", "0.023627", "0.0570472"]
    # Values apart within ten digits still print apart.
    apart = str(Table({"bic": [2108151.31, 2108151.32]})).splitlines()[1:]
    assert [cell.strip() for cell in apart] == ["2108151.31", "2108151.32"]


def test_a_bootstrapped_mcse_of_zero_prints_as_below_its_resolution():
    from fastem.toolkit.study import N_BOOTSTRAP, UNMOVED_BOUND, with_mcse_in_parentheses

    assert np.sqrt(3 / N_BOOTSTRAP) <= UNMOVED_BOUND < np.sqrt(3 / N_BOOTSTRAP) + 0.1
    table = Table(
        {
            "iter_median": [12.0, 12.5],
            "iter_median_mcse": [0.0, 0.5],
            "converged": [1.0, 1.0],
            "converged_mcse": [0.0, 0.0],
        }
    )
    merged = with_mcse_in_parentheses(table)
    assert list(merged["iter_median"]) == [f"12 (<{UNMOVED_BOUND:g})", "12.50 (0.50)"]
    assert list(merged["converged"]) == ["1 (0)", "1 (0)"]


def test_summary_prints_log_likelihoods_and_criteria_to_two_decimals():
    waiting = np.loadtxt(
        ROOT / "tests" / "data" / "faithful.csv", delimiter=",", skiprows=1, usecols=-1
    )
    result = fastem.fit(waiting, 2, random_state=0)
    lines = result.summary().splitlines()
    header = lines[2].split()
    values = dict(zip(header, lines[3].split()))
    assert values["log_likelihood"] == f"{result.log_likelihood:.2f}"
    assert values["aic"] == f"{result.aic():.2f}" and values["bic"] == f"{result.bic():.2f}"
    batch = fastem.fit(np.stack([waiting, waiting[::-1]]), 2, random_state=0)
    assert f"median {np.median(batch.log_likelihood):.2f} (5%: " in batch.summary()


def test_the_citation_names_the_version_pyproject_gives():
    pyproject = (ROOT / "pyproject.toml").read_text()
    (version,) = re.findall(r'^version = "(.+)"$', pyproject, re.MULTILINE)
    citation = (ROOT / "CITATION.cff").read_text()
    assert re.findall(r"^version: (.+)$", citation, re.MULTILINE) == [version]
