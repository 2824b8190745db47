"""Every bad input gets a clear error before any work starts."""

import numpy as np
import pytest

import fastem

pytestmark = pytest.mark.plain_python

GOOD = np.linspace(-1.0, 1.0, 20)


@pytest.mark.parametrize(
    ("data", "error", "match"),
    [
        (np.array([1.0, np.nan, 2.0, 3.0]), ValueError, r"dataset\(s\) 0 contain NaN or infinite"),
        ([GOOD, np.r_[GOOD, np.inf], GOOD], ValueError, r"dataset\(s\) 1 contain NaN"),
        (np.vstack([GOOD, GOOD, np.where(GOOD > 0, np.nan, GOOD)]), ValueError, r"dataset\(s\) 2 "),
        (np.array([1e308, 1e308, -1.0]), ValueError, "overflows"),
        (np.array([1e-200, 2e-200, 3e-200]), ValueError, "outside \\[1e-150, 1e\\+150\\]"),
        (np.full(4, 1e-160), ValueError, "scale of 1e-160"),
        (np.array([]), ValueError, r"dataset\(s\) 0 are empty"),
        ([GOOD, np.array([])], ValueError, r"dataset\(s\) 1 are empty"),
        (np.empty((0, 5)), ValueError, "no datasets"),
        (np.array([0.5]), ValueError, "fewer points than n_components=2"),
        ([GOOD, GOOD[:1]], ValueError, r"dataset\(s\) 1 have fewer points"),
        (np.zeros((2, 3, 4)), ValueError, "3 dimensions"),
        (3.0, ValueError, "single number"),
        (np.array(["a", "b", "c"]), TypeError, "not numeric"),
        (np.array([1.0, "a", 2.0], dtype=object), TypeError, "not numbers"),
        (np.array([1.0, None, 2.0], dtype=object), ValueError, "contain NaN"),
        (np.array([True, False, True]), TypeError, "boolean"),
        (np.array([1 + 1j, 2.0, 3.0]), TypeError, "complex"),
        ([GOOD, ["x", "y", "z"]], TypeError, "dataset 1 has dtype"),
        ([GOOD, np.zeros((2, 2))], ValueError, "dataset 1 has 2 dimensions"),
        (None, TypeError, "data is None"),
        (np.ma.masked_array(GOOD, mask=GOOD > 0.5), TypeError, "masked array"),
        (GOOD[:, None], ValueError, r"shape \(20, 1\): 20 datasets of one point"),
    ],
)
def test_bad_data(data, error, match):
    with pytest.raises(error, match=match):
        fastem.fit(data, 2)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (dict(n_components=0), ValueError, "n_components must be at least 1"),
        (dict(n_components=2.5), TypeError, "n_components must be an integer"),
        (dict(n_init=0), ValueError, r"n_init must be an integer from 1 to 2147483647 \(2\*\*31"),
        (dict(max_iter=0), ValueError, "max_iter must be an integer from 1 to 2147483647"),
        (dict(max_iter=2**63), ValueError, "max_iter must be an integer from 1 to 2147483647"),
        (dict(max_iter=2**31), ValueError, "max_iter must be an integer from 1 to"),
        (
            dict(dataset_offset=2**63),
            ValueError,
            r"dataset_offset must be an integer from 0 to 4611686018427387904 \(2\*\*62\)",
        ),
        (dict(dataset_offset=-1), ValueError, "dataset_offset must be an integer from 0"),
        (
            dict(n_init=1000, max_iter=2**31 - 1, trace=True),
            ValueError,
            r"1000 fits would need 15.6 TiB of memory, more than this machine's .* smaller "
            r"max_iter",
        ),
        (dict(tol=-1e-3), ValueError, "tol must be a finite number >= 0"),
        (dict(tol=float("nan")), ValueError, "tol must be"),
        (dict(reg_variance=-1.0), ValueError, "reg_variance must be a finite number >= 0"),
        (dict(reg_variance="big"), TypeError, "reg_variance must be a number"),
        (dict(init="best"), ValueError, "init='best' is not one of"),
        (dict(random_state=-1), ValueError, "random_state must be >= 0"),
        (dict(random_state="seed"), TypeError, "random_state must be None"),
        (dict(equal_variance="no"), TypeError, "equal_variance must be True or False"),
        (dict(trace=1.5), TypeError, "trace must be True, False or a number of entries"),
        (dict(trace=0), ValueError, "trace must be at least 1"),
        (dict(warn=None), TypeError, "warn must be True or False"),
        (dict(sort_components="no"), TypeError, "sort_components must be True or False"),
        (dict(means_init=[0.0, 1.0, 2.0]), ValueError, r"means_init has shape \(3,\)"),
        (dict(means_init=np.zeros((4, 2))), ValueError, r"means_init has shape \(4, 2\)"),
        (dict(means_init=[0.0, np.nan]), ValueError, "means_init contains NaN"),
        (dict(weights_init=[0.7, 0.7]), ValueError, "must sum to 1"),
        (dict(weights_init=[1.5, -0.5]), ValueError, "negative entries"),
        (dict(weights_init=[1.0, 0.0]), ValueError, "zero weight"),
        (dict(variances_init=[1.0, 0.0]), ValueError, "variances must be positive"),
        (dict(variances_init=[1.0, -2.0]), ValueError, "variances must be positive"),
        (dict(variances_init=[1.0, 2.0], equal_variance=True), ValueError, "equal_variance=True"),
    ],
)
def test_bad_options(kwargs, error, match):
    kwargs = {"n_components": 2, **kwargs}
    with pytest.raises(error, match=match):
        fastem.fit(GOOD, **kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(weights_init=[[0.5, 0.5], [0.9, 0.9]]),
        dict(means_init=np.zeros((3, 2))),
        dict(variances_init=[[1.0, 1.0], [1.0, 0.0]]),
        dict(fix_means=True),
        dict(sample_weight=-np.ones((2, 20))),
        dict(n_init=0),
        dict(init="emem", init_params={"n_iter": 0}),
    ],
)
def test_errors_come_before_any_work(monkeypatch, kwargs):
    from fastem.engine import jit as _jit
    from fastem.init import _plan

    def fail(*args):
        raise AssertionError("a kernel ran")

    monkeypatch.setattr(_jit, "for_each", fail)  # runs every kernel of starts and fits
    monkeypatch.setattr(_plan, "_run_initialise", fail)
    with pytest.raises((ValueError, TypeError)):
        fastem.fit(np.vstack([GOOD, GOOD]), 2, **kwargs)


def test_messages_list_many_bad_datasets_briefly():
    data = np.tile(GOOD, (20, 1))
    data[3:17, 0] = np.nan
    with pytest.raises(ValueError, match=r"3, 4, 5, 6, 7, \.\.\. \(14 in all\)"):
        fastem.fit(data, 2)


@pytest.mark.parametrize(
    "random_state", [np.random.default_rng(0), np.random.RandomState(0), 2**70]
)
def test_random_state_forms_are_accepted(random_state):
    result = fastem.fit(GOOD, 2, random_state=random_state, max_iter=3, tol=0)
    assert np.isfinite(result.log_likelihood)


@pytest.mark.parametrize(
    ("data", "error", "match"),
    [
        (np.vstack([GOOD, np.r_[GOOD[1:], np.nan]]), ValueError, r"dataset\(s\) 41 contain NaN"),
        ([GOOD, GOOD[:1]], ValueError, r"dataset\(s\) 41 have fewer points"),
        ([GOOD, np.array([])], ValueError, r"dataset\(s\) 41 are empty"),
        ([GOOD, ["x", "y"]], TypeError, "dataset 41 has dtype"),
    ],
)
def test_a_chunk_names_its_bad_datasets_by_their_index_in_the_whole_batch(data, error, match):
    with pytest.raises(error, match=match):
        fastem.fit(data, 2, dataset_offset=40)


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: fastem.study([0.5, 0.5], [0.0, 3.0], [1.0, 1.0], 20, 10, warn=False), "warn"),
        (lambda: fastem.select(GOOD, [1, 2], skip_degenerate=False), "skip_degenerate"),
        (lambda: fastem.select(GOOD, [1, 2], warn=True), "warn"),
    ],
)
def test_options_a_wrapper_sets_itself_are_refused_by_name(call, name):
    with pytest.raises(TypeError, match=f"sets {name} itself; do not pass it"):
        call()


def test_simulating_more_than_memory_holds_is_refused_before_allocating():
    too_many = r"n_samples=1099511627776 for 1 dataset\(s\) would need 16 TiB"
    with pytest.raises(ValueError, match=too_many):
        fastem.simulate([1.0], [0.0], [1.0], n_samples=2**40)
    with pytest.raises(ValueError, match=r"for 1099511627776 dataset\(s\) would need 184 TiB"):
        fastem.simulate([1.0], [0.0], [1.0], n_samples=10, n_datasets=2**40)
    with pytest.raises(ValueError, match="dataset_offset must be an integer from 0 to"):
        fastem.simulate([1.0], [0.0], [1.0], n_samples=10, dataset_offset=2**63)


def test_a_study_without_sample_sizes_is_refused():
    with pytest.raises(ValueError, match="n_samples is empty"):
        fastem.study([0.5, 0.5], [0.0, 3.0], [1.0, 1.0], n_samples=[])


BEYOND_MEMORY = 2**31 - 1
"""A count of restarts or replicates whose arrays no machine's memory holds (hundreds of
GiB for one small dataset)."""


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: fastem.init.kmeans_plusplus(GOOD, 2, n_init=BEYOND_MEMORY), "n_init"),
        (lambda: fastem.init.emem(GOOD, 2, n_init=BEYOND_MEMORY // 10), "n_init"),
        (lambda: fastem.starting_values(GOOD, 2, init="random", n_init=BEYOND_MEMORY), "n_init"),
        (lambda: fastem.bootstrap(GOOD, 2, n_boot=BEYOND_MEMORY), "n_boot"),
        (lambda: fastem.bootstrap(GOOD, 2, n_init=BEYOND_MEMORY), "n_init"),
        (lambda: fastem.bootstrap(GOOD, 2, n_init_data=BEYOND_MEMORY), "n_init_data"),
        (lambda: fastem.bootstrap_lrt(GOOD, 2, n_boot=BEYOND_MEMORY), "n_boot"),
        (lambda: fastem.bootstrap_lrt(GOOD, 2, n_init=BEYOND_MEMORY), "n_init"),
        (lambda: fastem.bootstrap_lrt(GOOD, 2, n_init_data=BEYOND_MEMORY), "n_init_data"),
    ],
)
def test_options_beyond_memory_are_refused_by_name_with_what_fits(call, name):
    with pytest.raises(
        ValueError,
        match=rf"^{name}=\d+ would need .* of memory for .*, more "
        rf"than this machine's .*; at most {name}=\d+ fits in memory\.$",
    ):
        call()
