"""Penalised likelihood and conjugate priors (fit(penalty=...), fit(prior=...)): mclust's MAP
fits with its default prior, Chen, Tan & Zhang's penalised maximum a stationary point of the
stated objective, the objective never decreasing, the kernels against the NumPy reference,
MixtureInf's update, exactness across threads and chunks, the options' checks."""

from pathlib import Path

import numba
import numpy as np
import pytest
from scipy import stats

import fastem

DATA = Path(__file__).parent / "data"
DATASETS = {
    "faithful": np.loadtxt(DATA / "faithful.csv", skiprows=1, delimiter=",")[:, 1],
    "galaxies": np.loadtxt(DATA / "galaxies.csv", skiprows=1),
    "acidity": np.loadtxt(DATA / "acidity.csv", skiprows=1),
}

# mclust 6.0.0's Mclust(x, G, modelNames, prior = priorControl()), run to its maximum (EM
# to 20000 iterations or no change at all), as printed by `Rscript tests/r/mclust_prior.R`:
# (dataset, model, G): weights, means, variances, loglik, BIC (mclust's sign).
MCLUST_PRIOR = {
    ("faithful", "E", 2): [
        0.3610954185724306,
        0.63890458142756879,
        54.618172460412225,
        80.097949968276481,
        33.656260836084343,
        33.656260836084343,
        -1034.0336438877507,
        -2090.4904960406852,
    ],
    ("faithful", "E", 3): [
        0.3052154229249191,
        0.078390157275058228,
        0.61639441980002319,
        53.310854497054592,
        63.956970588639109,
        80.488587042622342,
        28.487218729750907,
        28.487218729750907,
        28.487218729750907,
        -1033.6285886037224,
        -2100.8919896052207,
    ],
    ("faithful", "E", 4): [
        0.24857755850624941,
        0.12865867807002809,
        0.44794253672658413,
        0.17482122669713787,
        51.759378192156518,
        61.701859540906973,
        78.241958555753897,
        86.057468071655535,
        17.320173388836551,
        17.320173388836551,
        17.320173388836551,
        17.320173388836551,
        -1031.8551974426086,
        -2108.5568114155853,
    ],
    ("faithful", "V", 2): [
        0.36037080535458271,
        0.63962919464541768,
        54.590791678170937,
        80.084513670392496,
        32.589322750206698,
        33.545011565473764,
        -1034.0939224540734,
        -2096.216855239627,
    ],
    ("faithful", "V", 3): [
        0.36635578019160542,
        0.59810887018805747,
        0.035535349620337359,
        54.776685709806593,
        79.590554008147024,
        90.755544791082755,
        33.935006164658866,
        26.517589518537413,
        5.153635201988493,
        -1033.7356582792279,
        -2112.3177330888238,
    ],
    ("faithful", "V", 4): [
        0.2657801482461184,
        0.09452036313267069,
        0.61720826774278748,
        0.022491220878423281,
        51.990879421055659,
        61.717392997607483,
        79.736878503974495,
        90.306263981541846,
        15.962841225281656,
        6.4657309268571099,
        29.933030988972142,
        2.8677497103751759,
        -1032.008548487054,
        -2125.680919703364,
    ],
    ("galaxies", "E", 2): [
        0.086940576935726044,
        0.91305942306427434,
        9862.1818942598529,
        21873.665897067087,
        8448490.8083193172,
        8448490.8083193172,
        -796.90592742379226,
        -1611.4387318366416,
    ],
    ("galaxies", "E", 3): [
        0.085840143989311987,
        0.87713398340948223,
        0.037025872601205968,
        9761.3243743347048,
        21400.104697144478,
        32931.082520243668,
        3959239.3531304877,
        3959239.3531304877,
        3959239.3531304877,
        -778.92003105271863,
        -1584.2803775890227,
    ],
    ("galaxies", "E", 4): [
        0.085366394658474176,
        0.51464429246190846,
        0.3634034921606959,
        0.036585820718921476,
        9726.0435258750458,
        19931.068906797795,
        23479.882403295363,
        33003.673150679962,
        1478348.0310394603,
        1478348.0310394603,
        1478348.0310394603,
        1478348.0310394603,
        -774.35985197787556,
        -1583.9734579338651,
    ],
    ("galaxies", "V", 2): [
        0.3007601412104306,
        0.6992398587895694,
        19665.641747472619,
        21328.318363849899,
        47576046.174235463,
        3015439.3807473164,
        -787.33192040529786,
        -1596.697437046917,
    ],
    ("galaxies", "V", 3): [
        0.30067037066386998,
        0.37405253501128138,
        0.32527709432484875,
        19722.803036694444,
        19866.366144573003,
        22955.92390813394,
        48022788.029873826,
        421281.5819974264,
        829241.24572526128,
        -779.27623783446722,
        -1593.8062296470484,
    ],
    ("galaxies", "V", 4): [
        0.085143569569215344,
        0.38807681003641226,
        0.29832582751741837,
        0.22845379287695405,
        9725.4574440573178,
        19846.146096329794,
        22893.279383453217,
        23941.240714108731,
        291253.25601599307,
        405363.00175302842,
        684559.69515562186,
        19152845.568265636,
        -767.46248271788033,
        -1583.3988771556674,
    ],
    ("acidity", "E", 2): [
        0.62320040914631547,
        0.37679959085368436,
        4.3705113215916445,
        6.3199670596932371,
        0.17950719596942347,
        0.17950719596942347,
        -185.99936808836995,
        -392.1724366444169,
    ],
    ("acidity", "E", 3): [
        0.58666363915366182,
        0.14431632656497026,
        0.26902003428136811,
        4.3160894204932578,
        5.6810796738742049,
        6.5164434684832786,
        0.12365421862187206,
        0.12365421862187206,
        0.12365421862187206,
        -183.29780874151382,
        -396.85616818454309,
    ],
    ("acidity", "E", 4): [
        0.50719319127390816,
        0.12833036613260973,
        0.182780671150403,
        0.18169577144307891,
        4.2309138011307512,
        5.018663964387005,
        6.0135580287510599,
        6.6919421451403922,
        0.077168711472187415,
        0.077168711472187415,
        0.077168711472187415,
        0.077168711472187415,
        -181.61949786649473,
        -403.58639666834341,
    ],
    ("acidity", "V", 2): [
        0.49209519309761546,
        0.50790480690238471,
        4.2552001419111152,
        5.9285412588742732,
        0.068389418997785376,
        0.63238575353351478,
        -187.40843143393249,
        -400.03398845246124,
    ],
    ("acidity", "V", 3): [
        0.23670221028547142,
        0.39866086978967813,
        0.3646369199248502,
        4.1544114376936347,
        4.5334688547544753,
        6.3472439964628284,
        0.026303325834249526,
        0.21767648531862679,
        0.17677860277381713,
        -179.64858990399418,
        -399.64458074334232,
    ],
    ("acidity", "V", 4): [
        0.1866515556202783,
        0.10409197932651842,
        0.35301433812499172,
        0.3562421269282115,
        4.0887712729257819,
        4.4094104321536749,
        4.5769081916493022,
        6.3644514419017675,
        0.01120714156808404,
        0.011940893647170958,
        0.26366721182465314,
        0.16652988442978342,
        -177.44208553099736,
        -410.36184734810644,
    ],
}


@pytest.mark.parametrize("key", list(MCLUST_PRIOR))
def test_the_default_prior_gives_mclusts_map_fit_and_bic(key):
    # fastem starts from mclust's estimates and runs EM to its own maximum, which must be
    # mclust's: the fixed point of the same penalised M-step.
    name, model, g = key
    values = np.array(MCLUST_PRIOR[key])
    weights, means, variances = values[:g], values[g : 2 * g], values[2 * g : 3 * g]
    loglik, bic = values[3 * g :]
    result = fastem.fit(
        DATASETS[name],
        g,
        prior="default",
        equal_variance=model == "E",
        weights_init=weights,
        means_init=means,
        variances_init=variances,
        algorithm="em",
        stop="parameter",
        tol=1e-14,
        max_iter=100_000,
        sort_components=False,
    )
    np.testing.assert_allclose(result.weights, weights, rtol=1e-6)
    np.testing.assert_allclose(result.means, means, rtol=1e-6)
    np.testing.assert_allclose(result.variances, variances, rtol=1e-6)
    assert result.log_likelihood == pytest.approx(loglik, abs=1e-6)
    assert -result.bic() == pytest.approx(bic, abs=1e-6)
    # The penalised log-likelihood is the log-likelihood plus the log density of the prior
    # (normal means given the variances, inverse gamma variances; one for E), by SciPy.
    x = DATASETS[name]
    shrinkage, dof, scale = 0.01, 3.0, np.var(x, ddof=1) / g**2
    log_prior = stats.norm.logpdf(
        result.means, x.mean(), np.sqrt(result.variances / shrinkage)
    ).sum()
    gammas = result.variances[:1] if model == "E" else result.variances
    log_prior += stats.invgamma.logpdf(gammas, dof / 2, scale=scale / 2).sum()
    assert result.penalized_log_likelihood == pytest.approx(loglik + log_prior, abs=1e-6)


WAITING = DATASETS["faithful"]
START = dict(weights_init=[0.3, 0.7], means_init=[60.0, 75.0], variances_init=[50.0, 50.0])


def _ctz_objective(x, weights, means, variances, a_n):
    """Chen, Tan & Zhang's penalised log-likelihood as the paper states it."""
    s2 = np.var(x, ddof=1)
    penalty = -a_n * np.sum(s2 / variances + np.log(variances / s2))
    return fastem.reference.log_likelihood(x, weights, means, variances) + penalty


@pytest.mark.plain_python
@pytest.mark.parametrize(
    ("penalty", "equal_variance"),
    [("ctz", False), ({"a_n": 0.3, "mixing": 2.0}, False), ("ctz", True)],
)
def test_penalised_em_follows_the_numpy_reference_from_the_same_start(penalty, equal_variance):
    x = WAITING[:60]
    settings = {"a_n": None, "mixing": 0.0} | (penalty if isinstance(penalty, dict) else {})
    hyper = fastem.reference.ctz_hyperparameters(x, **settings)
    weights, means, variances, _ = fastem.reference.penalised_em(
        x, *START.values(), hyper, n_iter=12, equal_variance=equal_variance
    )
    result = fastem.fit(
        x,
        2,
        penalty=penalty,
        equal_variance=equal_variance,
        algorithm="em",
        max_iter=12,
        tol=0.0,
        stop="loglik",
        sort_components=False,
        warn=False,
        **START,
    )
    np.testing.assert_allclose(result.weights, weights, rtol=1e-10)
    np.testing.assert_allclose(result.means, means, rtol=1e-10)
    np.testing.assert_allclose(result.variances, variances, rtol=1e-10)
    a_n = settings["a_n"] or 1 / np.sqrt(x.size)
    expected = _ctz_objective(x, weights, means, variances, a_n)
    expected += settings["mixing"] * np.log(weights).sum()
    assert result.penalized_log_likelihood == pytest.approx(expected, rel=1e-12)
    plain = fastem.reference.log_likelihood(x, weights, means, variances)
    assert result.log_likelihood == pytest.approx(plain, rel=1e-12)


def _free_coordinates(weights, means, variances):
    return np.concatenate([np.log(weights[:-1] / weights[-1]), means, np.log(variances)])


def _from_coordinates(theta, k):
    eta = np.append(theta[: k - 1], 0.0)
    return np.exp(eta) / np.exp(eta).sum(), theta[k - 1 : 2 * k - 1], np.exp(theta[2 * k - 1 :])


def _gradient(objective, theta, h=1e-5):
    steps = np.eye(theta.size) * h
    return np.array([(objective(theta + e) - objective(theta - e)) / (2 * h) for e in steps])


@pytest.mark.parametrize("k", [2, 3])
def test_the_penalised_fit_is_a_stationary_point_of_the_stated_objective(k):
    # Central differences of CTZ's penalised log-likelihood in the free coordinates (log
    # ratios of weights, means, log variances) vanish at fastem's fit; those of the plain
    # log-likelihood do not: the penalty moved the maximum.
    x = DATASETS["acidity"]
    result = fastem.fit(x, k, penalty="ctz", n_init=10, random_state=0, tol=1e-12)
    theta = _free_coordinates(result.weights, result.means, result.variances)
    a_n = 1 / np.sqrt(x.size)
    penalised = _gradient(lambda t: _ctz_objective(x, *_from_coordinates(t, k), a_n), theta)
    assert np.abs(penalised).max() < 1e-5
    plain = _gradient(lambda t: fastem.reference.log_likelihood(x, *_from_coordinates(t, k)), theta)
    assert np.abs(plain).max() > 1e-2


@pytest.mark.parametrize("algorithm", ["em", "squarem", "daarem", "qn"])
def test_the_penalised_log_likelihood_never_decreases(algorithm):
    result = fastem.fit(
        DATASETS["galaxies"],
        4,
        penalty="ctz",
        n_init=3,
        random_state=1,
        algorithm=algorithm,
        trace=True,
        warn=False,
    )
    trace = result.trace[np.isfinite(result.trace[:, 0])]
    for row in trace:
        steps = np.diff(row[np.isfinite(row)])
        assert steps.min() >= -1e-9 * np.abs(row[0])
    # The trace is the penalised log-likelihood: its last value is the reported one.
    best = result.trace[result.best_restart]
    assert best[np.isfinite(best)][-1] == pytest.approx(result.penalized_log_likelihood)


# MixtureInf 1.1's pmle.norm(waiting, m0 = 2) from a fixed start, run to its fixed point, as
# printed by tests/r/mixtureinf_pmle.R: weights, means, variances, loglik, penalised loglik.
MIXTUREINF = [
    0.36097439634683803,
    0.63902560365316208,
    54.619144955072592,
    80.092167906578354,
    34.760269143622381,
    34.555708645860342,
    -1034.0036661133875,
    -1034.0232171917201,
]


def test_mixtureinf_stops_at_the_fixed_point_of_an_update_that_maximises_no_stated_objective():
    # MixtureInf's update puts 2 s^2 / sqrt(n) in the numerator and 2 / n in the
    # denominator; no a_n gives both, so its fixed point is not the maximum of its own
    # objective (a_n = 1 / n, with pn's constant -1 per component), nor of CTZ's.
    x = WAITING
    n, s2 = x.size, np.var(x, ddof=1)
    weights, means, variances = (np.array(MIXTUREINF[i : i + 2]) for i in (0, 2, 4))
    resp = fastem.reference.e_step(x, weights, means, variances)
    n_k = resp.sum(axis=0)
    spread = (resp * (x[:, None] - means) ** 2).sum(axis=0)
    np.testing.assert_allclose((spread + 2 * s2 / np.sqrt(n)) / (n_k + 2 / n), variances, 1e-6)

    def own_objective(w, m, v):  # MixtureInf's ploglik: pn(sigma, var(x), 1 / n)
        return fastem.reference.log_likelihood(x, w, m, v) - np.sum(
            (s2 / v + np.log(v / s2) - 1) / n
        )

    assert own_objective(weights, means, variances) == pytest.approx(MIXTUREINF[7], abs=1e-8)
    # fastem's fit of MixtureInf's own objective (a_n = 1 / n) beats MixtureInf's point.
    start = dict(weights_init=weights, means_init=means, variances_init=variances)
    ours = fastem.fit(x, 2, penalty=1 / n, tol=1e-12, **start)
    gain = own_objective(ours.weights, ours.means, ours.variances) - MIXTUREINF[7]
    assert gain > 1e-6
    # fastem's default (a_n = n^-1/2 in both places) moves the first variance from
    # MixtureInf's 34.760 to 34.709.
    default = fastem.fit(x, 2, penalty="ctz", tol=1e-12, **start)
    assert np.abs(default.variances - variances).max() > 0.04


def _ragged():
    rng = np.random.default_rng(28)
    return [
        np.concatenate([rng.normal(0, 1, n // 2), rng.normal(3, 0.2, n - n // 2)])
        for n in rng.integers(15, 200, size=12)
    ]


@pytest.mark.exact
@pytest.mark.parametrize(
    "options",
    [{"penalty": "ctz"}, {"prior": "default", "equal_variance": True, "algorithm": "daarem"}],
)
def test_results_depend_on_neither_threads_nor_chunks_nor_place_in_the_batch(options):
    data = _ragged()
    options = dict(options, n_init=3, random_state=9, warn=False)
    whole = fastem.fit(data, 3, **options)
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = fastem.fit(data, 3, **options)
    finally:
        numba.set_num_threads(threads)
    chunks = [fastem.fit(data[at : at + 4], 3, dataset_offset=at, **options) for at in (0, 4, 8)]
    alone = fastem.fit(data[7], 3, dataset_offset=7, **options)
    for name in ("weights", "means", "variances", "log_likelihood", "penalized_log_likelihood"):
        expected = getattr(whole, name)
        np.testing.assert_array_equal(getattr(one, name), expected)
        np.testing.assert_array_equal(
            np.concatenate([getattr(chunk, name) for chunk in chunks]), expected
        )
        np.testing.assert_array_equal(getattr(alone, name), expected[7])


@pytest.mark.plain_python
def test_a_fixed_mean_keeps_its_value_and_its_variance_is_the_map_around_it():
    x = WAITING[:50]
    start = dict(weights_init=[0.4, 0.6], means_init=[55.0, 80.0], variances_init=[30.0, 30.0])
    result = fastem.fit(
        x,
        2,
        prior="default",
        fix_means=[True, False],
        algorithm="em",
        max_iter=1,
        tol=0.0,
        stop="loglik",
        warn=False,
        **start,
    )
    assert result.means[0] == 55.0
    resp = fastem.reference.e_step(x, *(np.array(v) for v in start.values()))
    n_k = resp[:, 0].sum()
    shrinkage, scale, dof = 0.01, np.var(x, ddof=1) / 4, 3.0
    top = scale + (resp[:, 0] * (x - 55.0) ** 2).sum() + shrinkage * (55.0 - x.mean()) ** 2
    assert result.variances[0] == pytest.approx(top / (n_k + dof + 3), rel=1e-10)


@pytest.mark.plain_python
def test_an_emptied_component_is_flagged_not_nan():
    # A component a million standard deviations away gets no responsibility at all: its
    # mean stays, its variance is the penalty's own s^2, its weight Chen & Li's C / (n + K
    # C), and the fit is flagged.
    x = WAITING[:40]
    result = fastem.fit(
        x,
        2,
        penalty={"mixing": 1.0},
        weights_init=[0.5, 0.5],
        means_init=[70.0, 1e8],
        variances_init=[100.0, 1.0],
        algorithm="em",
        max_iter=3,
        warn=False,
        sort_components=False,
    )
    assert result.status == fastem.Status.VARIANCE_FLOORED
    assert result.means[1] == 1e8
    assert result.variances[1] == pytest.approx(np.var(x, ddof=1), rel=1e-12)
    assert result.weights[1] == pytest.approx(1 / (x.size + 2), rel=1e-12)
    assert np.isfinite(result.log_likelihood) and np.isfinite(result.penalized_log_likelihood)


# --- every entry point ------------------------------------------------------------------


def test_select_chooses_by_the_bic_of_the_plain_log_likelihood_at_the_map_fits():
    x = DATASETS["acidity"]
    selection = fastem.select(x, range(1, 4), prior="default", random_state=0)
    for fit in selection.fits:
        assert fit.penalized_log_likelihood is not None
        assert fit.model.penalty is not None
    bic = np.array([np.atleast_1d(fit.bic())[0] for fit in selection.fits])
    plain = np.array([np.atleast_1d(fit.log_likelihood)[0] for fit in selection.fits])
    n_parameters = np.array([fit.n_parameters for fit in selection.fits])
    np.testing.assert_allclose(bic, -2 * plain + n_parameters * np.log(x.size))


def test_bootstrap_lrt_and_bootstrap_fit_with_the_penalty():
    x = DATASETS["acidity"]
    lrt = fastem.bootstrap_lrt(x, 2, penalty="ctz", n_boot=9, random_state=0)
    ours = fastem.fit(x, 1, penalty="ctz"), fastem.fit(x, 2, penalty="ctz", n_init="auto")
    # The statistic is that of the plain log-likelihoods at the penalised fits.
    expected = 2 * (ours[1].log_likelihood - ours[0].log_likelihood)
    assert float(lrt.statistic[0]) == pytest.approx(expected, rel=1e-6)
    plain = fastem.bootstrap_lrt(x, 2, n_boot=9, random_state=0)
    assert float(plain.statistic[0]) > float(lrt.statistic[0])
    penalised = fastem.bootstrap(x, 2, prior="default", n_boot=5, random_state=0)
    map_fit = fastem.fit(x, 2, prior="default", n_init="auto")
    np.testing.assert_allclose(penalised.fit.variances, map_fit.variances, rtol=1e-6)


def test_a_study_compares_fits_with_and_without_the_penalty_in_rows_of_their_own():
    result = fastem.study(
        [0.5, 0.5],
        [0.0, 3.0],
        [1.0, 1.0],
        n_samples=25,
        replications=30,
        penalty=["none", "ctz", "a_n=0.5"],
        n_init=3,
    )
    assert result.table["penalty"].tolist() == ["none", "ctz", "a_n=0.5"]
    assert "penalty" in str(result).splitlines()[0]
    # The penalty pulls the variances towards the sample variance (above the truth, 1).
    bias = result.table["variance_1_bias"]
    assert bias[0] < bias[1] < bias[2]


def test_the_penalty_is_a_flag_of_fit_lrt_and_study(tmp_path):
    from test_cli import fastem_cli, read_csv

    out = tmp_path / "fit.csv"
    path = DATA / "acidity.csv"
    fastem_cli("fit", path, "--components", 2, "--penalty", "ctz", "--out", out, check=True)
    row = read_csv(out)[0]
    fit = fastem.fit(DATASETS["acidity"], 2, penalty="ctz", n_init="auto", random_state=0)
    assert float(row["penalized_log_likelihood"]) == pytest.approx(
        fit.penalized_log_likelihood, rel=1e-6
    )
    assert float(row["log_likelihood"]) == pytest.approx(fit.log_likelihood, rel=1e-6)
    lrt = tmp_path / "lrt.csv"
    fastem_cli("lrt", path, "--prior", "default", "--n-boot", 9, "--csv", lrt, check=True)
    assert read_csv(lrt)[0]["test"] == "1 vs 2"
    table = tmp_path / "study.csv"
    fastem_cli(
        "study",
        "--n-samples",
        25,
        "--replications",
        10,
        "--init",
        "kmeans++",
        "--penalty",
        "none",
        "ctz",
        "--csv",
        table,
        "--quiet",
        check=True,
    )
    assert [r["penalty"] for r in read_csv(table)] == ["none", "ctz"]


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"penalty": "ctz", "prior": "default"}, "pass one of them"),
        ({"penalty": "lasso"}, "penalty='lasso' is not known"),
        ({"penalty": -1.0}, "a_n must be positive"),
        ({"penalty": {"a_n": 0.1, "c": 1}}, "no setting 'c'"),
        ({"prior": {"dof": 0}}, "dof must be positive"),
        ({"prior": "ctz"}, "prior='ctz' is not known"),
        ({"penalty": "ctz", "algorithm": "cem"}, "use algorithm='em'"),
    ],
)
def test_bad_penalties_are_refused_before_any_work_naming_the_fix(options, fragment):
    with pytest.raises((ValueError, TypeError), match=fragment):
        fastem.fit(WAITING, 2, **options)


def test_a_constant_dataset_needs_the_priors_scale_given():
    data = [WAITING[:30], np.full(30, 5.0)]
    with pytest.raises(ValueError, match=r"1 dataset\(s\) have every point equal"):
        fastem.fit(data, 2, prior="default")
    fit = fastem.fit(data, 2, prior={"scale": 1.0}, warn=False)
    assert np.isfinite(fit.penalized_log_likelihood).all()


def test_float32_fits_reach_the_same_map_fit():
    x = DATASETS["galaxies"]
    start = dict(weights_init=[0.1, 0.9], means_init=[9800.0, 21500.0])
    double = fastem.fit(x, 2, prior="default", tol=1e-10, **start)
    single = fastem.fit(x, 2, prior="default", dtype=np.float32, **start)
    np.testing.assert_allclose(single.means, double.means, rtol=1e-6)
    np.testing.assert_allclose(single.variances, double.variances, rtol=1e-4)


@pytest.mark.plain_python
def test_free_weights_share_what_a_fixed_one_leaves_with_chen_and_lis_penalty():
    x = WAITING[:60]
    start = dict(
        weights_init=[0.2, 0.3, 0.5], means_init=[50.0, 65.0, 80.0], variances_init=[30.0] * 3
    )
    result = fastem.fit(
        x,
        3,
        penalty={"mixing": 2.0},
        fix_weights=[True, False, False],
        algorithm="em",
        max_iter=1,
        tol=0.0,
        stop="loglik",
        sort_components=False,
        warn=False,
        **start,
    )
    n_k = fastem.reference.e_step(x, *(np.array(v) for v in start.values())).sum(axis=0)
    expected = 0.8 * (n_k[1:] + 2.0) / (n_k[1:].sum() + 2 * 2.0)
    assert result.weights[0] == 0.2
    np.testing.assert_allclose(result.weights[1:], expected, rtol=1e-10)
