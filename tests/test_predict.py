"""Fits read back from the table of ``fastem fit`` (``fastem.read_fit``), and ``fastem
predict``, run end to end in subprocesses."""

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest

import fastem
from test_cli import assert_one_line_error, fastem_cli, read_csv

FAITHFUL = Path(__file__).parent / "data" / "faithful.csv"
WAITING = np.loadtxt(FAITHFUL, skiprows=1, delimiter=",")[:, 1]

# mclust 6.0.0 (R 4.2.2): m <- Mclust(faithful$waiting, G = 2, modelNames = "V");
# p <- m$parameters; new <- c(40, 55, 65, 67, 70, 75, 96); predict(m, newdata = new)$z,
# and dens(data = new, modelName = "V", parameters = p, logarithm = TRUE); printed with
# options(digits = 17).
MCLUST_PARAMETERS = {
    "weight": [0.36183593742552866, 0.63816406257447134],
    "mean": [54.646657124242012, 80.110958002812652],
    "variance": [34.793877724365892, 34.199006048215878],
}
MCLUST_POINTS = [40, 55, 65, 67, 70, 75, 96]
MCLUST_Z1 = [
    9.9999999763770742e-01,
    9.9982334997684430e-01,
    7.7241669296612736e-01,
    4.3639049264572694e-01,
    7.8072931803560786e-02,
    2.1349921566524007e-03,
    4.7883233586700652e-10,
]
MCLUST_CLASSIFICATION = [1, 1, 1, 2, 2, 2, 2]
MCLUST_LOG_DENSITY = [
    -6.7930154778309522,
    -3.7118411254647481,
    -4.9923742723768756,
    -5.0739933592400721,
    -4.5475631395157148,
    -3.5139695273709428,
    -6.8252638506183976,
]


def test_predict_gives_mclusts_posteriors_classes_and_densities(tmp_path):
    fit = tmp_path / "mclust.json"
    row = {"id": "1", "n_components": 2, "log_likelihood": -1034.0}
    for name, values in MCLUST_PARAMETERS.items():
        row.update({f"{name}_{k + 1}": v for k, v in enumerate(values)})
    fit.write_text(json.dumps([row]))
    points = tmp_path / "new.csv"
    points.write_text("waiting\n" + "".join(f"{x}\n" for x in MCLUST_POINTS))
    completed = fastem_cli("predict", fit, points, check=True)
    rows = list(csv.DictReader(io.StringIO(completed.stdout)))
    assert list(rows[0]) == [
        "id",
        "value",
        "probability_1",
        "probability_2",
        "component",
        "log_density",
    ]
    assert [float(r["value"]) for r in rows] == MCLUST_POINTS
    z1 = np.array([float(r["probability_1"]) for r in rows])
    z2 = np.array([float(r["probability_2"]) for r in rows])
    np.testing.assert_allclose(z1, MCLUST_Z1, rtol=1e-12)
    np.testing.assert_allclose(z2, 1 - np.array(MCLUST_Z1), rtol=1e-9, atol=1e-15)
    assert [int(r["component"]) for r in rows] == MCLUST_CLASSIFICATION
    np.testing.assert_allclose(
        [float(r["log_density"]) for r in rows], MCLUST_LOG_DENSITY, rtol=1e-13
    )


@pytest.mark.parametrize("suffix", [".json", ".csv"])
def test_a_fit_read_back_from_its_table_has_the_fits_parameters_and_predictions(tmp_path, suffix):
    out = tmp_path / f"fits{suffix}"
    fastem_cli("fit", FAITHFUL, "--value", "waiting", "--out", out, "--quiet", check=True)
    read = fastem.read_fit(out)
    fitted = fastem.fit(
        [WAITING], 2, n_init="auto", random_state=0, skip_degenerate=True, warn=False
    )
    assert read.ids == ["0"] and read.n_components.tolist() == [2]
    for name in ("weights", "means", "variances"):  # written to 6 significant digits
        np.testing.assert_allclose(getattr(read, name), getattr(fitted, name), rtol=5e-6)
    np.testing.assert_allclose(read.log_likelihood, fitted.log_likelihood, rtol=1e-9)
    np.testing.assert_allclose(
        read.predict_proba([WAITING])[0], fitted.predict_proba([WAITING])[0], atol=1e-5
    )
    np.testing.assert_array_equal(read.predict(WAITING[None]), fitted.predict(WAITING[None]))
    # A relative change e of a parameter moves a log-density by about e (x - m)^2 / v.
    np.testing.assert_allclose(
        read.score_samples([WAITING])[0], fitted.score_samples([WAITING])[0], atol=5e-5
    )


def test_predict_matches_datasets_by_id_and_pads_fewer_components(tmp_path):
    data = tmp_path / "two.csv"
    rng = np.random.default_rng(3)
    one = rng.normal(0, 1, 80)
    two = np.concatenate([rng.normal(-4, 1, 60), rng.normal(4, 1, 60)])
    data.write_text(
        "id,x\n"
        + "".join(f"b,{x!r}\n" for x in two.tolist())
        + "".join(f"a,{x!r}\n" for x in one.tolist())
    )
    fits = tmp_path / "fits.csv"
    fastem_cli(
        "fit", data, "--by", "id", "--components", "1-2", "--out", fits, "--quiet", check=True
    )
    assert [r["n_components"] for r in read_csv(fits)] == ["2", "1"]
    # The points of 'a' alone, in another file: classified by a's mixture.
    alone = tmp_path / "a.csv"
    alone.write_text("id,x\n" + "".join(f"a,{x!r}\n" for x in one[:5].tolist()))
    rows = read_csv(_predicted(tmp_path, fits, alone, "--by", "id"))
    assert {r["id"] for r in rows} == {"a"}
    assert "probability_2" not in rows[0]  # columns reach the most components classified
    assert all(r["probability_1"] == "1.0" and r["component"] == "1" for r in rows)
    rows = read_csv(_predicted(tmp_path, fits, data, "--by", "id"))
    assert all(r["probability_2"] == "" for r in rows if r["id"] == "a")
    b = [r for r in rows if r["id"] == "b"]
    assert [r["component"] for r in b] == ["1"] * 60 + ["2"] * 60
    read = fastem.read_fit(fits)
    expected = read.take([0]).score_samples([two])[0]
    np.testing.assert_allclose([float(r["log_density"]) for r in b], expected, rtol=1e-12)
    other = tmp_path / "c.csv"
    other.write_text("id,x\n" + "".join(f"c,{x}\n" for x in (1, 2, 3)))
    assert_one_line_error(
        fastem_cli("predict", fits, other, "--by", "id"),
        "no fitted mixture of dataset 'c'",
        "'b', 'a'",
    )
    assert_one_line_error(
        fastem_cli("predict", data, data, "--by", "id"), "not a table of 'fastem fit'"
    )


def _predicted(tmp_path, fits, data, *args):
    out = tmp_path / "predicted.csv"
    fastem_cli("predict", fits, data, *args, "--out", out, check=True)
    return out
