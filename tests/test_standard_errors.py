"""``fit(..., se=...)``: standard errors from the observed information, against numerical
derivatives of a NumPy log-likelihood, against R, and under the constraints."""

import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy.special import logsumexp

import fastem
from fastem import checks as _validate
from fastem.engine import information as _information
from fastem.result import unsqueeze

DATA = Path(__file__).parent / "data"
FAITHFUL = DATA / "faithful.csv"
WAITING = np.loadtxt(FAITHFUL, skiprows=1, delimiter=",")[:, 1]
GALAXIES = np.loadtxt(DATA / "galaxies.csv", skiprows=1)
CONVERGED = dict(stop="parameter", tol=1e-12, max_iter=20_000)
"""A fit at the maximum to the last digits: the stopping rule on the parameters' change."""
SHORT = dict(tol=0, max_iter=30, algorithm="em")
"""A short fit, for tests of the identities that hold at any parameter value (and that
run as plain Python)."""


# ----------------------------------------------------------------------------- helpers


def free_names(k, fixed_weights=(), fixed_means=(), fixed_variances=(), equal_variance=False):
    """The free parameters of a ``k``-component fit whose listed components (from 0) have
    fixed parameters, as ``StandardErrors.names`` should list them, and the index of the
    weight that the others determine (None when no weight is free)."""
    weights = [j for j in range(k) if j not in fixed_weights]
    names = [f"weight {j + 1}" for j in weights[:-1]]
    names += [f"mean {j + 1}" for j in range(k) if j not in fixed_means]
    if equal_variance:
        names += [] if fixed_variances else ["variance"]
    else:
        names += [f"variance {j + 1}" for j in range(k) if j not in fixed_variances]
    return names, (weights[-1] if weights else None)


def mixture(theta, names, dependent, fitted):
    """The weights, means and variances of ``fitted`` with its free parameters ``names``
    set to ``theta``; the ``dependent`` weight takes what the others leave."""
    weights, means, variances = (np.array(a, dtype=np.float64) for a in fitted)
    arrays = {"weight": weights, "mean": means, "variance": variances}
    for value, name in zip(theta, names):
        kind, _, component = name.partition(" ")
        if component:
            arrays[kind][int(component) - 1] = value
        else:  # one variance shared by all components
            variances[:] = value
    if dependent is not None:
        weights[dependent] = 1.0 - (weights.sum() - weights[dependent])
    return weights, means, variances


def point_log_densities(x, weights, means, variances):
    """``log sum_k w_k N(x_i; mu_k, v_k)`` per point, written out in NumPy."""
    x = np.asarray(x, dtype=np.float64)[:, np.newaxis]
    log_joint = (
        np.log(weights) - 0.5 * np.log(2 * np.pi * variances) - 0.5 * (x - means) ** 2 / variances
    )
    return logsumexp(log_joint, axis=1)


def parameters_of(result, d=None):
    """The fitted (weights, means, variances) of dataset ``d`` (all for one dataset)."""
    pick = (lambda a: a) if d is None else (lambda a: a[d])
    return pick(result.weights), pick(result.means), pick(result.variances)


def free_values(names, fitted):
    weights, means, variances = fitted
    arrays = {"weight": weights, "mean": means, "variance": variances}
    return np.array(
        [
            arrays[name.split(" ")[0]][int(name.split(" ")[1]) - 1] if " " in name else variances[0]
            for name in names
        ]
    )


def numerical_hessian(function, theta, steps):
    """Central differences, ``[f(+a+b) - f(+a-b) - f(-a+b) + f(-a-b)] / (4 h_a h_b)``,
    extrapolated to step 0 (Richardson: the error of steps ``h`` and ``h / 2`` goes as
    ``h^2``). In weakly identified mixtures (faithful with 3 components) one step of
    1e-3 standard errors is 4e-4 off, the extrapolation from 4e-3 3e-7."""
    return (
        4.0 * _central_hessian(function, theta, 0.5 * steps)
        - _central_hessian(function, theta, steps)
    ) / 3.0


def _central_hessian(function, theta, steps):
    p = theta.size
    hessian = np.empty((p, p))
    for a in range(p):
        for b in range(a, p):

            def at(sign_a, sign_b, a=a, b=b):
                moved = theta.copy()
                moved[a] += sign_a * steps[a]
                moved[b] += sign_b * steps[b]
                return function(moved)

            hessian[a, b] = hessian[b, a] = (at(1, 1) - at(1, -1) - at(-1, 1) + at(-1, -1)) / (
                4 * steps[a] * steps[b]
            )
    return hessian


def numerical_gradients(function, theta, steps):
    """Central differences of a per-point function: array of shape (n_points, p)."""
    columns = []
    for a in range(theta.size):
        up, down = theta.copy(), theta.copy()
        up[a] += steps[a]
        down[a] -= steps[a]
        columns.append((function(up) - function(down)) / (2 * steps[a]))
    return np.stack(columns, axis=1)


def full_standard_errors(covariance, names, dependent, k):
    """Standard errors of every weight, mean and variance from the covariance of the
    free ones: the dependent weight's by the delta method, NaN for fixed parameters."""
    se = {kind: np.full(k, np.nan) for kind in ("weight", "mean", "variance")}
    free_weights = []
    for index, name in enumerate(names):
        kind, _, component = name.partition(" ")
        if component:
            se[kind][int(component) - 1] = np.sqrt(covariance[index, index])
        else:
            se["variance"][:] = np.sqrt(covariance[index, index])
        if kind == "weight":
            free_weights.append(index)
    if free_weights:  # w_L = c - sum of the other free weights
        block = covariance[np.ix_(free_weights, free_weights)]
        se["weight"][dependent] = np.sqrt(block.sum())
    return se["weight"], se["mean"], se["variance"]


def check_against_numbers(errors, covariance, names, dependent, rtol):
    """``errors`` (one dataset's StandardErrors arrays) against a covariance matrix of the
    free parameters computed here."""
    k = errors.weights.shape[-1]
    assert list(errors.names) == names
    expected = full_standard_errors(covariance, names, dependent, k)
    for kind, got, want in zip(
        ("weights", "means", "variances"),
        (errors.weights, errors.means, errors.variances),
        expected,
    ):
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=kind)
        np.testing.assert_allclose(got, want, rtol=rtol, err_msg=kind)
    scale = np.sqrt(np.outer(np.diag(covariance), np.diag(covariance)))
    np.testing.assert_allclose(errors.covariance / scale, covariance / scale, atol=rtol)


def numerical_louis(x, result, names, dependent, d=None, sample_weight=None):
    """The covariance of the free parameters from a numerical Hessian of the observed
    log-likelihood, steps of 4e-3 standard errors."""
    fitted = parameters_of(result, d)
    errors = result.standard_errors
    counts = 1.0 if sample_weight is None else sample_weight

    def log_likelihood(theta):
        return float(
            np.sum(counts * point_log_densities(x, *mixture(theta, names, dependent, fitted)))
        )

    covariance = errors.covariance if d is None else errors.covariance[d]
    theta = free_values(names, fitted)
    hessian = numerical_hessian(log_likelihood, theta, 4e-3 * np.sqrt(np.diag(covariance)))
    return np.linalg.inv(-hessian)


def per_dataset(errors, d):
    """One dataset's StandardErrors (a dataset of a batch)."""
    return type(errors)(
        errors.method,
        errors.weights[d],
        errors.means[d],
        errors.variances[d],
        errors.covariance[d],
        errors.names[d],
    )


# ----------------------------------------------------------------------------- Louis


@pytest.mark.parametrize(
    ("data", "k"),
    [(WAITING, 2), (WAITING, 3), (GALAXIES, 3)],
    ids=["faithful-2", "faithful-3", "galaxies-3"],
)
def test_louis_information_is_the_negative_hessian_of_the_log_likelihood(data, k):
    result = fastem.fit(data, k, n_init=5, random_state=0, se="louis", **CONVERGED)
    assert result.converged
    names, dependent = free_names(k)
    assert len(names) == result.n_parameters
    covariance = numerical_louis(data, result, names, dependent)
    check_against_numbers(result.standard_errors, covariance, names, dependent, rtol=1e-5)


@pytest.mark.plain_python
def test_louis_holds_away_from_the_maximum_too():
    # Louis's identity is exact at any parameter value: 30 iterations from a poor start.
    result = fastem.fit(
        WAITING,
        2,
        means_init=[60.0, 70.0],
        variances_init=[50.0, 50.0],
        weights_init=[0.5, 0.5],
        se="louis",
        **SHORT,
    )
    names, dependent = free_names(2)
    covariance = numerical_louis(WAITING, result, names, dependent)
    check_against_numbers(result.standard_errors, covariance, names, dependent, rtol=1e-5)


@pytest.mark.parametrize(
    "constraint",
    [
        dict(equal_variance=True),
        dict(means_init=[50.0, 65.0, 80.0], fix_means=[False, True, False]),
        dict(weights_init=[0.2, 0.4, 0.4], fix_weights=[True, False, False]),
        dict(equal_weights=True),
        dict(
            equal_variance=True,
            equal_weights=True,
            means_init=[50.0, 65.0, 80.0],
            fix_means=[True, False, False],
        ),
    ],
    ids=["equal-variance", "fixed-mean", "fixed-weight", "equal-weights", "combined"],
)
def test_louis_standard_errors_follow_the_constraints(constraint):
    # Restarts, where the means are not given, so that the fit is a maximum of three
    # distinct components (one start ends at two identical ones, whose information is
    # singular).
    n_init = 1 if "means_init" in constraint else 5
    result = fastem.fit(
        WAITING, 3, n_init=n_init, random_state=0, se="louis", **constraint, **CONVERGED
    )
    names, dependent = free_names(
        3,
        equal_variance=constraint.get("equal_variance", False),
        fixed_means=np.flatnonzero(constraint.get("fix_means", [False] * 3)),
        fixed_weights=range(3)
        if constraint.get("equal_weights")
        else np.flatnonzero(constraint.get("fix_weights", [False] * 3)),
    )
    assert len(names) == result.n_parameters
    covariance = numerical_louis(WAITING, result, names, dependent)
    check_against_numbers(result.standard_errors, covariance, names, dependent, rtol=1e-5)


@pytest.mark.plain_python
def test_a_fixed_component_moved_by_sorting_keeps_its_parameter_fixed():
    # Given second-to-first, the fixed mean of 80 becomes component 2 of the result.
    result = fastem.fit(
        WAITING, 2, means_init=[80.0, 55.0], fix_means=[True, False], se="louis", **SHORT
    )
    assert result.means[1] == 80.0
    names, dependent = free_names(2, fixed_means=[1])
    assert np.isnan(result.standard_errors.means[1]) and result.standard_errors.means[0] > 0
    covariance = numerical_louis(WAITING, result, names, dependent)
    check_against_numbers(result.standard_errors, covariance, names, dependent, rtol=1e-5)


def test_a_ragged_batch_gives_each_dataset_its_own_information():
    data = [WAITING, WAITING[::3], GALAXIES / 1000.0]
    result = fastem.fit(data, 2, n_init=3, random_state=0, se="louis", **CONVERGED)
    names, dependent = free_names(2)
    assert result.standard_errors.covariance.shape == (3, 5, 5)
    for d, x in enumerate(data):
        covariance = numerical_louis(x, result, names, dependent, d=d)
        check_against_numbers(
            per_dataset(result.standard_errors, d), covariance, names, dependent, rtol=1e-5
        )


@pytest.mark.plain_python
@pytest.mark.parametrize("se", ["louis", "score"])
def test_frequency_weights_count_as_repeated_points(se):
    rng = np.random.default_rng(3)
    counts = rng.integers(1, 4, WAITING.size)
    start = dict(
        means_init=[55.0, 80.0], variances_init=[30.0, 30.0], weights_init=[0.4, 0.6], **SHORT
    )
    weighted = fastem.fit(WAITING, 2, sample_weight=counts, se=se, **start)
    repeated = fastem.fit(np.repeat(WAITING, counts), 2, se=se, **start)
    for name in ("weights", "means", "variances", "covariance"):
        np.testing.assert_allclose(
            getattr(weighted.standard_errors, name),
            getattr(repeated.standard_errors, name),
            rtol=1e-9,
            err_msg=name,
        )
    if se == "louis":
        names, dependent = free_names(2)
        covariance = numerical_louis(WAITING, weighted, names, dependent, sample_weight=counts)
        check_against_numbers(weighted.standard_errors, covariance, names, dependent, rtol=1e-5)


# ----------------------------------------------------------------------------- score


@pytest.mark.plain_python
@pytest.mark.parametrize(
    "constraint",
    [
        dict(),
        dict(equal_variance=True, weights_init=[0.2, 0.4, 0.4], fix_weights=[True, False, False]),
    ],
    ids=["free", "constrained"],
)
def test_score_information_is_the_outer_product_of_the_point_gradients(constraint):
    k = 3 if constraint else 2
    counts = np.random.default_rng(5).integers(1, 3, WAITING.size)
    result = fastem.fit(
        WAITING, k, random_state=0, sample_weight=counts, se="score", **constraint, **SHORT
    )
    names, dependent = free_names(
        k, equal_variance=bool(constraint), fixed_weights=[0] if constraint else ()
    )
    fitted = parameters_of(result)
    errors = result.standard_errors
    gradients = numerical_gradients(
        lambda theta: point_log_densities(WAITING, *mixture(theta, names, dependent, fitted)),
        free_values(names, fitted),
        1e-4 * np.sqrt(np.diag(errors.covariance)),
    )
    covariance = np.linalg.inv(gradients.T @ (counts[:, np.newaxis] * gradients))
    check_against_numbers(errors, covariance, names, dependent, rtol=1e-5)


# ----------------------------------------------------------------------------- R


def test_faithful_standard_errors_match_r():
    """The exact observed information and the outer product of the scores, from R's
    symbolic derivatives (stats::deriv) of a hand-written log-likelihood, R 4.2.2:

        x <- faithful$waiting
        f <- deriv(~ log(w * exp(-(x - m1)^2 / (2 * v1)) / sqrt(2 * pi * v1) +
                         (1 - w) * exp(-(x - m2)^2 / (2 * v2)) / sqrt(2 * pi * v2)),
                   c("w", "m1", "m2", "v1", "v2"), hessian = TRUE)
        w <- 0.36088607379020976; m1 <- 54.61485614062421; m2 <- 80.09106940273445
        v1 <- 34.471217386494374; v2 <- 34.430307267154944    # fastem's fit below
        value <- eval(f)
        H <- apply(attr(value, "hessian"), c(2, 3), sum)
        sprintf("%.10g", sqrt(diag(solve(-H))))                          # louis
        G <- attr(value, "gradient")
        sprintf("%.10g", sqrt(diag(solve(crossprod(G)))))                # score

    optimHess (numerical, parscale = the parameters, ndeps = 1e-4) gives the same
    louis numbers to 4e-6.
    """
    louis = [0.03116475469, 0.6996749794, 0.504594714, 6.309475202, 4.705471238]
    score = [0.03116094205, 0.6635105005, 0.5051206253, 7.70908012, 4.610874741]
    for se, expected in (("louis", louis), ("score", score)):
        result = fastem.fit(WAITING, 2, random_state=0, se=se, **CONVERGED)
        np.testing.assert_allclose(result.means, [54.61485614062421, 80.09106940273445], rtol=1e-12)
        errors = result.standard_errors
        got = [errors.weights[0], *errors.means, *errors.variances]
        np.testing.assert_allclose(got, expected, rtol=2e-9, err_msg=se)
        assert errors.weights[1] == pytest.approx(errors.weights[0], rel=1e-12)


# ----------------------------------------------------------------------------- contract


@pytest.mark.parametrize("se", ["louis", "score"])
def test_standard_errors_are_invariant_to_shift_and_scale(se):
    base = fastem.fit(WAITING, 2, random_state=0, se=se, **CONVERGED).standard_errors
    for a, b in ((1e140, 0.0), (1e-140, 0.0), (1.0, 1e8), (-3.0, 7.0)):
        moved = fastem.fit(a * WAITING + b, 2, random_state=0, se=se, **CONVERGED).standard_errors
        rtol = 1e-5 if b == 1e8 else 1e-9  # 1e8 + x keeps 8 digits fewer of x
        weights, means, variances = base.weights, base.means, base.variances
        if a < 0:  # the components' order reverses
            weights, means, variances = weights[::-1], means[::-1], variances[::-1]
        np.testing.assert_allclose(moved.weights, weights, rtol=rtol)
        np.testing.assert_allclose(moved.means, abs(a) * means, rtol=rtol)
        np.testing.assert_allclose(moved.variances, a * a * variances, rtol=rtol)
        assert not moved.failed


@pytest.mark.plain_python
def test_a_batch_equals_a_loop_of_single_fits():
    rows = np.stack([WAITING[:136], WAITING[136:], WAITING[::-1][:136]])
    batch = fastem.fit(rows, 2, n_init=2, random_state=4, se="louis", **SHORT)
    for d, row in enumerate(rows):
        alone = fastem.fit(row, 2, n_init=2, random_state=4, dataset_offset=d, se="louis", **SHORT)
        for name in ("weights", "means", "variances", "covariance", "names"):
            np.testing.assert_array_equal(
                getattr(batch.standard_errors, name)[d],
                getattr(alone.standard_errors, name),
                err_msg=name,
            )


@pytest.mark.parametrize("se", ["louis", "score"])  # JIT only: the failed fit's NaN
def test_singular_and_failed_datasets_get_nan_alone_with_one_warning(se):
    # Dataset 1 starts with two identical components, which EM never separates: the
    # scores of their weights are equal, so the information is singular (with a positive
    # diagonal). Dataset 2 starts so narrow and far from its data that its log-likelihood
    # is not finite.
    data = [WAITING, WAITING, np.linspace(-1.0, 1.0, 400)]
    start = dict(
        weights_init=np.full(3, 1 / 3),
        max_iter=100,
        means_init=[[50.0, 65.0, 80.0], [55.0, 55.0, 80.0], [50.0, 60.0, 70.0]],
        variances_init=[[30.0] * 3, [30.0] * 3, [1e-307] * 3],
    )
    with pytest.warns(fastem.DegenerateFitWarning) as caught:
        result = fastem.fit(data, 3, se=se, **start)
    messages = [str(w.message) for w in caught if "standard errors" in str(w.message)]
    assert len(messages) == 1 and messages[0].startswith("2 of 3 dataset(s) have no standard")
    errors = result.standard_errors
    np.testing.assert_array_equal(errors.failed, [False, True, True])
    for name in ("weights", "means", "variances", "covariance"):
        assert np.isnan(getattr(errors, name)[1:]).all()
    alone = fastem.fit(
        WAITING,
        3,
        se=se,
        **dict(start, means_init=start["means_init"][0], variances_init=[30.0] * 3),
    )
    for name in ("weights", "means", "variances", "covariance"):
        np.testing.assert_array_equal(
            getattr(errors, name)[0], getattr(alone.standard_errors, name), err_msg=name
        )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fastem.fit(data, 3, se=se, warn=False, **start)  # problems() still tells
    assert any("standard errors" in message for _, message in result.problems())


@pytest.mark.plain_python
def test_a_fit_that_failed_gets_nan_whatever_its_parameters():
    # fit marks a dataset whose log-likelihood is not finite as not usable; its last
    # parameters may still give a finite information.
    rows = np.stack([WAITING, WAITING])
    batch = _validate.prepared_batch(rows, None, 2)
    parameters = [np.tile(values, (2, 1)) for values in ([0.36, 0.64], [54.6, 80.1], [34.5, 34.4])]
    fixed = tuple(np.zeros((2, 2), dtype=bool) for _ in range(3))
    errors = _information.standard_errors(
        batch, "louis", *parameters, fixed, False, usable=np.array([True, False])
    )
    np.testing.assert_array_equal(errors.failed, [False, True])
    assert np.isfinite(errors.means[0]).all() and np.isnan(errors.means[1]).all()


@pytest.mark.plain_python
def test_shapes_names_squeeze_and_summary():
    one = fastem.fit(WAITING, 3, random_state=0, se="score", equal_variance=True, **SHORT)
    errors = one.standard_errors
    assert isinstance(errors, fastem.StandardErrors)
    assert errors.weights.shape == errors.means.shape == (3,)
    assert errors.covariance.shape == (one.n_parameters, one.n_parameters) == (6, 6)
    assert list(errors.names) == ["weight 1", "weight 2", "mean 1", "mean 2", "mean 3", "variance"]
    np.testing.assert_array_equal(errors.variances, errors.variances[0])
    assert not errors.failed
    back = unsqueeze(one).standard_errors
    assert back.covariance.shape == (1, 6, 6) and back.names.shape == (1, 6)
    text = one.summary()
    assert "weight_se" in text and "variance_se" in text and "outer product" in text
    assert fastem.fit(WAITING, 2, **SHORT).standard_errors is None
    assert "_se" not in fastem.fit(WAITING, 2, **SHORT).summary()
    with pytest.raises(ValueError, match="se='hessian' is not one of 'score', 'louis'"):
        fastem.fit(WAITING, 2, se="hessian")


@pytest.mark.plain_python
def test_everything_fixed_leaves_no_parameters():
    result = fastem.fit(
        WAITING,
        2,
        weights_init=[0.4, 0.6],
        means_init=[55.0, 80.0],
        variances_init=[30.0, 30.0],
        fix_weights=True,
        fix_means=True,
        fix_variances=True,
        se="louis",
        max_iter=2,
    )
    errors = result.standard_errors
    assert result.n_parameters == 0 and errors.covariance.shape == (0, 0)
    assert np.isnan(np.concatenate([errors.weights, errors.means, errors.variances])).all()
    assert not errors.failed


# ----------------------------------------------------------------------------- CLI


def test_cli_fit_writes_standard_error_columns(tmp_path):
    fastem_command = Path(sys.executable).with_name("fastem")

    def run(*args):
        completed = subprocess.run(
            [str(fastem_command), *map(str, args)], capture_output=True, text=True, timeout=600
        )
        assert completed.returncode == 0, completed.stderr
        return completed.stdout

    help_text = " ".join(run("fit", "--help").split())
    option_help = help_text.split(" --se {score,louis} ", 1)[1].split(" --format ", 1)[0]
    assert "louis" in option_help and option_help.endswith("(default: none)")
    rows = json.loads(
        run("fit", FAITHFUL, "--value", "waiting", "--se", "louis", "--format", "json")
    )
    expected = fastem.fit(
        WAITING, 2, n_init="auto", random_state=0, skip_degenerate=True, se="louis"
    ).standard_errors
    row = rows[0]
    columns = list(row)
    assert (
        columns.index("variance_2")
        < columns.index("weight_se_1")
        < columns.index("mean_se_1")
        < columns.index("variance_se_2")
        < columns.index("log_likelihood")
    )
    for k in range(2):  # printed to 4 significant digits
        assert row[f"weight_se_{k + 1}"] == float(f"{expected.weights[k]:.4g}")
        assert row[f"mean_se_{k + 1}"] == float(f"{expected.means[k]:.4g}")
        assert row[f"variance_se_{k + 1}"] == float(f"{expected.variances[k]:.4g}")
    out = tmp_path / "fit.csv"
    run("fit", FAITHFUL, "--value", "waiting", "--se", "score", "--equal-variance", "--out", out)
    header, values = out.read_text().splitlines()
    assert "mean_se_2,variance_se_1,variance_se_2" in header
    assert "weight_se" not in run("fit", FAITHFUL, "--value", "waiting")
