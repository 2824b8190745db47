"""Fixed parameters, equal weights and variances, sample weights, every restart's outcome."""

import numpy as np
import pytest

import fastem
from conftest import EM, separated_mixture
from fastem import Model, reference

MASKS = {
    "none": np.array([False, False, False]),
    "first": np.array([True, False, False]),
    "last_two": np.array([False, True, True]),
    "all": np.array([True, True, True]),
}


@pytest.mark.exact
@pytest.mark.parametrize("which", ["weights", "means", "variances"])
@pytest.mark.parametrize("mask_name", ["first", "last_two", "all"])
def test_fixed_parameters_stay_exactly_fixed(which, mask_name, three_component_batch):
    mask = MASKS[mask_name]
    start = dict(
        weights_init=np.array([0.25, 0.35, 0.4]),
        means_init=np.array([-3.7, 0.4, 5.3]),
        variances_init=np.array([1.1, 0.7, 1.9]),
    )
    result = fastem.fit(
        three_component_batch,
        3,
        **start,
        **{f"fix_{which}": mask},
        max_iter=100,
        tol=0,
        return_restarts=True,
    )
    # The starting means are sorted and the fits stay near them, so the components keep
    # their order; the fixed values come back bit for bit.
    assert (np.argsort(result.start_means, axis=-1) == np.arange(3)).all()
    fitted = getattr(result, f"restart_{which}")
    given = start[f"{which}_init"]
    held = np.broadcast_to(given, fitted.shape)[..., mask]
    np.testing.assert_array_equal(fitted[..., mask], held)
    # Free parameters move, except a lone free weight, which the others determine.
    if not mask.all() and not (which == "weights" and (~mask).sum() == 1):
        assert not np.any(fitted[..., ~mask] == given[~mask])
    np.testing.assert_allclose(result.weights.sum(axis=1), 1.0, rtol=1e-14)


@pytest.mark.parametrize(
    "constraints",
    [
        dict(fix_weights=MASKS["first"]),
        dict(fix_weights=MASKS["last_two"]),
        dict(fix_means=MASKS["first"]),
        dict(fix_means=MASKS["all"], fix_weights=MASKS["last_two"]),
        dict(fix_variances=MASKS["last_two"]),
        dict(fix_variances=MASKS["all"], equal_variance=True),
        dict(fix_means=MASKS["last_two"], equal_variance=True),
        dict(equal_weights=True),
        dict(equal_weights=True, equal_variance=True),
        dict(equal_weights=True, fix_means=MASKS["first"]),
    ],
    ids=lambda c: "-".join(
        f"{k}={v if not isinstance(v, np.ndarray) else v.astype(int)}" for k, v in c.items()
    ),
)
@pytest.mark.plain_python
def test_constrained_fits_match_the_constrained_reference(constraints):
    x, start = separated_mixture(3, 600, seed=41)  # two blocks of 256 and a part one
    if constraints.get("equal_variance"):
        start["variances_init"][:] = start["variances_init"].mean()
    reference_constraints = dict(constraints)
    if reference_constraints.pop("equal_weights", False):
        start["weights_init"] = np.full(3, 1.0 / 3.0)
        reference_constraints["fix_weights"] = MASKS["all"]
    fit_start = dict(start)
    if constraints.get("equal_weights"):
        del fit_start["weights_init"]
    kwargs = dict(max_iter=120, tol=0, reg_variance=1e-6)
    expected = reference.fit(x, **start, **kwargs, **reference_constraints)
    result = fastem.fit(x, 3, **fit_start, **kwargs, **constraints, trace=True, **EM)
    order = np.argsort(expected.means)
    np.testing.assert_allclose(result.means, expected.means[order], rtol=1e-10)
    np.testing.assert_allclose(result.variances, expected.variances[order], rtol=1e-10)
    np.testing.assert_allclose(result.weights, expected.weights[order], rtol=1e-10)
    np.testing.assert_allclose(result.trace[0], expected.trace, rtol=1e-10)


@pytest.mark.exact
def test_equal_weights_and_variances_hold_exactly(three_component_batch):
    result = fastem.fit(
        three_component_batch,
        3,
        equal_weights=True,
        equal_variance=True,
        n_init=3,
        random_state=1,
        max_iter=80,
        tol=0,
        return_restarts=True,
    )
    assert (result.restart_weights == 1.0 / 3.0).all()
    assert (result.restart_variances == result.restart_variances[..., :1]).all()


def test_log_likelihood_is_monotone_under_constraints(three_component_batch):
    result = fastem.fit(
        three_component_batch,
        3,
        means_init=[-4.0, 0.0, 5.0],
        fix_means=MASKS["first"],
        equal_weights=True,
        random_state=0,
        max_iter=100,
        tol=0,
        reg_variance=0,
        trace=True,
    )
    steps = np.diff(result.trace, axis=-1)
    assert np.all(steps >= -1e-12 * np.abs(result.trace[..., 1:]))


def _weighted_case(seed=51):
    rng = np.random.default_rng(seed)
    x, start = separated_mixture(2, 150, seed=seed)
    counts = rng.integers(0, 5, size=x.size)
    counts[:2] = 1  # keep the dataset's extremes irrelevant to the zero/positive mix
    return x, counts, start


def test_integer_weights_equal_repeated_points():
    x, counts, start = _weighted_case()
    kwargs = dict(max_iter=200, tol=0, reg_variance=1e-6, **start)
    weighted = fastem.fit(x, 2, sample_weight=counts.astype(float), **kwargs)
    repeated = fastem.fit(np.repeat(x, counts), 2, **kwargs)
    for name in ("weights", "means", "variances", "log_likelihood", "log_map"):
        np.testing.assert_allclose(
            getattr(weighted, name), getattr(repeated, name), rtol=1e-11, err_msg=name
        )
    assert weighted.n_observations == counts.sum() == repeated.n_samples
    assert weighted.bic() == pytest.approx(repeated.bic(), rel=1e-11)


@pytest.mark.exact
@pytest.mark.parametrize("init", ["kmeans++", "random_from_data", "kmeans", "random", "emem"])
def test_zero_weight_is_a_dropped_point(init):
    x, counts, _ = _weighted_case(seed=52)
    keep = counts > 0
    kwargs = dict(n_init=3, init=init, random_state=7, max_iter=150, tol=0)
    weighted = fastem.fit(x, 2, sample_weight=keep.astype(float), **kwargs)
    dropped = fastem.fit(x[keep], 2, **kwargs)
    for name in ("weights", "means", "variances", "log_likelihood", "restart_log_likelihood"):
        np.testing.assert_allclose(
            getattr(weighted, name), getattr(dropped, name), rtol=1e-12, err_msg=name
        )


def test_weights_in_2d_and_ragged_layouts():
    x, counts, start = _weighted_case(seed=53)
    rows = np.vstack([x, x[::-1]])
    weights = np.vstack([counts, counts[::-1]]).astype(float)
    kwargs = dict(max_iter=60, tol=0, **start)
    batch = fastem.fit(rows, 2, sample_weight=weights, **kwargs)
    ragged = fastem.fit([x, x[:100]], 2, sample_weight=[weights[0], weights[0][:100]], **kwargs)
    single = fastem.fit(x, 2, sample_weight=weights[0], **kwargs)
    np.testing.assert_allclose(batch.means[0], single.means, rtol=1e-12)
    np.testing.assert_allclose(batch.means[1], single.means, rtol=1e-12)
    np.testing.assert_allclose(ragged.means[0], single.means, rtol=1e-12)


@pytest.mark.plain_python
def test_weighted_fit_matches_the_weighted_reference():
    rng = np.random.default_rng(54)
    x, start = separated_mixture(3, 600, seed=54)
    weight = rng.uniform(0.1, 3.0, size=x.size)
    kwargs = dict(max_iter=100, tol=0, reg_variance=1e-6, **start)
    expected = reference.fit(x, sample_weight=weight, **kwargs)
    result = fastem.fit(x, 3, sample_weight=weight, **kwargs)
    order = np.argsort(expected.means)
    np.testing.assert_allclose(result.means, expected.means[order], rtol=1e-10)
    np.testing.assert_allclose(result.variances, expected.variances[order], rtol=1e-10)
    assert result.log_likelihood == pytest.approx(expected.log_likelihood, rel=1e-10)


def test_binned_data_fit_like_the_raw_data():
    x, _ = fastem.simulate([0.4, 0.6], [-2.5, 3.5], [4.0, 4.0], 20_000, random_state=3)
    counts, edges = np.histogram(x, bins=np.arange(-12.0, 14.0, 0.25))
    centres = 0.5 * (edges[:-1] + edges[1:])
    start = dict(weights_init=[0.5, 0.5], means_init=[-1.0, 1.0], variances_init=[3.0, 3.0])
    binned = fastem.fit(centres, 2, sample_weight=counts.astype(float), **start)
    raw = fastem.fit(x, 2, **start)
    # Binning at width 0.25 moves each variance by about width^2 / 12 (Sheppard).
    np.testing.assert_allclose(binned.means, raw.means, atol=0.01)
    np.testing.assert_allclose(binned.variances, raw.variances + 0.25**2 / 12, atol=0.02)
    np.testing.assert_allclose(binned.weights, raw.weights, atol=0.002)


def test_return_restarts_holds_every_restart(three_component_batch):
    x = three_component_batch[:5]
    result = fastem.fit(
        x,
        3,
        n_init=4,
        init="random_from_data",
        random_state=3,
        max_iter=50,
        tol=0,
        return_restarts=True,
    )
    for name in (
        "restart_weights",
        "restart_means",
        "restart_variances",
        "start_weights",
        "start_means",
        "start_variances",
    ):
        assert getattr(result, name).shape == (5, 4, 3), name
    rows = np.arange(5)
    np.testing.assert_array_equal(result.restart_means[rows, result.best_restart], result.means)
    assert (np.diff(result.restart_means, axis=-1) >= 0).all()
    starts = fastem.starting_values(x, 3, init="random_from_data", n_init=4, random_state=3)
    np.testing.assert_allclose(result.start_means, starts.means, rtol=1e-13)
    np.testing.assert_array_equal(result.start_weights, starts.weights)
    for d in range(5):
        for r in range(4):
            expected = reference.log_likelihood(
                x[d],
                result.restart_weights[d, r],
                result.restart_means[d, r],
                result.restart_variances[d, r],
            )
            assert result.restart_log_likelihood[d, r] == pytest.approx(expected, rel=1e-12)
    plain = fastem.fit(x, 3, n_init=4, init="random_from_data", random_state=3, max_iter=50, tol=0)
    assert plain.restart_means is None


def test_emem_reports_its_iteration_budget(three_component_batch):
    result = fastem.fit(
        three_component_batch[:4],
        3,
        init="emem",
        n_init=2,
        random_state=0,
        init_params={"n_runs": 6, "n_iter": 3},
    )
    np.testing.assert_array_equal(result.init_n_iter, 18)
    assert result.converged.all()


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        (Model(3), 8),
        (Model(3, equal_variance=True), 6),
        (Model(3, equal_weights=True), 6),
        (Model(3, equal_weights=True, equal_variance=True), 4),
        (Model(3, fixed_means=[True, False, False]), 7),
        (Model(3, fixed_weights=[True, False, False]), 7),
        (Model(3, fixed_weights=[True, True, False]), 6),
        (Model(3, fixed_variances=[True, True, True], equal_variance=True), 5),
        (Model(1), 2),
    ],
)
def test_free_parameter_count(model, expected):
    assert model.n_parameters == expected


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (dict(fix_means=True), ValueError, "pass means_init"),
        (dict(fix_weights=[True, False]), ValueError, "pass weights_init"),
        (dict(fix_variances=np.array([1, 0])), ValueError, "boolean array of shape"),
        (dict(equal_weights=True, weights_init=[0.5, 0.5]), ValueError, "drop weights_init"),
        (
            dict(
                equal_variance=True,
                variances_init=[1.0, 1.0],
                fix_variances=np.array([True, False]),
            ),
            ValueError,
            "True for all components",
        ),
        (dict(sample_weight=np.ones(5)), ValueError, "one weight per point"),
        (dict(sample_weight=-np.ones(20)), ValueError, "negative"),
        (dict(sample_weight=np.r_[np.nan, np.ones(19)]), ValueError, "NaN"),
        (dict(sample_weight=np.r_[1.0, np.zeros(19)]), ValueError, "positive weight"),
        (
            dict(init="emem", init_params={"n_runs": 0}),
            ValueError,
            "n_runs'\\] must be an integer from 1 to",
        ),
        (dict(init="emem", init_params={"runs": 3}), ValueError, "not options of init='emem'"),
        (dict(init="kmeans", init_params={"n_runs": 3}), ValueError, "its options: none"),
    ],
)
def test_bad_constraints_and_weights(kwargs, error, match):
    with pytest.raises(error, match=match):
        fastem.fit(np.linspace(0.0, 1.0, 20), 2, **kwargs)


def test_ragged_weights_must_match_each_dataset():
    data = [np.arange(5.0), np.arange(7.0)]
    with pytest.raises(ValueError, match="dataset 1 has shape \\(6,\\)"):
        fastem.fit(data, 2, sample_weight=[np.ones(5), np.ones(6)])
    with pytest.raises(ValueError, match="list of 2 1D arrays"):
        fastem.fit(data, 2, sample_weight=np.ones(12))


@pytest.mark.exact
def test_fixed_weights_come_back_bit_for_bit_even_when_their_float_sum_is_not_one():
    # 0.7 + 0.2 + 0.1 is 0.9999999999999999 in float64: the kernel works with weights
    # normalised to sum to 1, but fixed weights are reported as given.
    x = np.random.default_rng(60).normal(size=200)
    result = fastem.fit(
        x,
        3,
        weights_init=[0.7, 0.2, 0.1],
        fix_weights=True,
        means_init=[-1.0, 0.0, 1.0],
        sort_components=False,
    )
    assert result.weights.tolist() == [0.7, 0.2, 0.1]
    rng = np.random.default_rng(61)
    for _ in range(300):
        weights = np.round(rng.dirichlet(np.ones(3)), int(rng.integers(1, 17)))
        weights[-1] = 1.0 - weights[:-1].sum()
        if (weights <= 0).any():
            continue
        mask = rng.random(3) < 0.5
        result = fastem.fit(
            x,
            3,
            weights_init=weights,
            fix_weights=mask,
            means_init=[-1.0, 0.0, 1.0],
            sort_components=False,
            max_iter=20,
            warn=False,
        )
        np.testing.assert_array_equal(result.weights[mask], weights[mask])
