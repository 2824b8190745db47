"""fastem.dask against a real distributed.LocalCluster (worker processes on loopback)."""

import dataclasses
import os
import signal
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest

import fastem

dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")
import dask.array as da  # noqa: E402
import dask.bag as db  # noqa: E402
from dask.delayed import Delayed  # noqa: E402

from fastem import dask as fastem_dask  # noqa: E402

pytestmark = pytest.mark.filterwarnings(
    # distributed's own chatter about ports and cluster shutdown is not this suite's concern
    "ignore::DeprecationWarning",
    "ignore::ResourceWarning",
    "ignore::UserWarning:distributed",
)


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, host="127.0.0.1"
    )
    with distributed.Client(cluster) as client:
        yield client
    cluster.close()


@pytest.fixture(scope="module")
def batch():
    return fastem.simulate([0.4, 0.6], [-2.5, 3.5], [4.0, 4.0], 80, 60, random_state=2)[0]


def assert_identical(result, expected):
    for field in dataclasses.fields(expected):
        value, wanted = getattr(result, field.name), getattr(expected, field.name)
        if isinstance(wanted, np.ndarray):
            np.testing.assert_array_equal(value, wanted, err_msg=field.name)
            assert value.dtype == wanted.dtype, field.name
        else:
            assert (value is None) == (wanted is None), field.name


KWARGS = dict(n_init=3, random_state=11, init="random")


@pytest.mark.parametrize("chunks", [(7, 80), (13, 25), (60, 80), (1, 80)])
def test_dask_array_equals_local_fit_for_any_chunking(client, batch, chunks):
    expected = fastem.fit(batch, 2, **KWARGS)
    result = fastem_dask.fit(da.from_array(batch, chunks=chunks), 2, **KWARGS)
    assert_identical(result, expected)


def test_ragged_bag_and_delayed_datasets(client, batch):
    ragged = [row[: 20 + 3 * i] for i, row in enumerate(batch[:25])]
    # One of the short datasets ends at a spurious maximum, and all three say so once.
    with pytest.warns(fastem.DegenerateFitWarning, match="1 of 25"):
        expected = fastem.fit(ragged, 2, **KWARGS)
    bag = db.from_sequence(ragged, npartitions=4)
    with pytest.warns(fastem.DegenerateFitWarning, match="1 of 25"):
        assert_identical(fastem_dask.fit(bag, 2, **KWARGS), expected)
    delayed = [dask.delayed(np.asarray)(x) for x in ragged]
    with pytest.warns(fastem.DegenerateFitWarning, match="1 of 25"):
        assert_identical(fastem_dask.fit(delayed, 2, chunk_size=6, **KWARGS), expected)


def test_weights_lazy_results_and_options(client, batch):
    weights = np.random.default_rng(3).integers(0, 3, batch.shape).astype(float)
    with pytest.warns(fastem.DegenerateFitWarning, match="1 of 60"):
        expected = fastem.fit(batch, 2, sample_weight=weights, return_restarts=True, **KWARGS)
    lazy = fastem_dask.fit(
        da.from_array(batch, chunks=(11, 80)),
        2,
        compute=False,
        sample_weight=da.from_array(weights, chunks=(20, 40)),
        return_restarts=True,
        **KWARGS,
    )
    assert isinstance(lazy, Delayed)
    result = lazy.compute()  # the final task, and its summarised warning, run on a worker
    with pytest.warns(fastem.DegenerateFitWarning, match="1 of 60"):
        eager = fastem_dask.fit(
            da.from_array(batch, chunks=(11, 80)),
            2,
            sample_weight=da.from_array(weights, chunks=(20, 40)),
            **KWARGS,
        )
    np.testing.assert_array_equal(eager.means, expected.means)
    assert_identical(result, expected)
    np.testing.assert_array_equal(result.start_means, expected.start_means)


def test_starting_values_per_dataset_go_to_the_tasks_of_their_datasets(client, batch):
    rng = np.random.default_rng(8)
    # (n_datasets, n_init, K), near the two clusters: plain EM from a start far from them
    # can collapse a component, which this test is not about.
    means = rng.normal([-2.5, 3.5], 1.0, (60, 3, 2))
    kwargs = dict(n_init=3, means_init=means, random_state=1)
    expected = fastem.fit(batch, 2, **kwargs)
    assert_identical(fastem_dask.fit(da.from_array(batch, chunks=(7, 80)), 2, **kwargs), expected)
    bag = db.from_sequence(list(batch), npartitions=5)
    assert_identical(fastem_dask.fit(bag, 2, **kwargs), expected)
    per_dataset = fastem.fit(batch, 2, means_init=means[:, 0], variances_init=[1.0, 2.0])
    delayed = [dask.delayed(np.asarray)(x) for x in batch]
    assert_identical(
        fastem_dask.fit(
            delayed, 2, chunk_size=8, means_init=means[:, 0], variances_init=[1.0, 2.0]
        ),
        per_dataset,
    )
    wrong_shape = r"means_init has shape \(60, 3\); give shape \(n_datasets, 2\)"
    with pytest.raises(ValueError, match=wrong_shape):
        fastem_dask.fit(bag, 2, means_init=np.zeros((60, 3)))
    with pytest.raises(ValueError, match="59 rows of starting values, but there are 60"):
        fastem_dask.fit(da.from_array(batch, chunks=(7, 80)), 2, means_init=means[1:, 0])
    with pytest.raises(ValueError, match="59 rows of starting values, fewer than the datasets"):
        fastem_dask.fit(bag, 2, means_init=means[1:, 0])


def test_bad_input_errors_name_the_option_or_the_global_dataset(batch):
    read = []

    def load(row):
        read.append(row)
        return batch[row]

    delayed = [dask.delayed(load)(row) for row in range(len(batch))]
    with dask.config.set(scheduler="sync"):
        with pytest.raises(TypeError, match="unexpected keyword argument 'n_inti'"):
            fastem_dask.fit(delayed, 2, n_inti=3)
        with pytest.raises(ValueError, match="n_components must be at least 1"):
            fastem_dask.fit(delayed, 0)
        assert read == []  # both refused before any data were read
        bad = batch.copy()
        bad[37, 5] = np.nan
        with pytest.raises(ValueError, match=r"dataset\(s\) 37 contain NaN"):
            fastem_dask.fit(da.from_array(bad, chunks=(10, 80)), 2)


def test_threads_summarise_warnings_once_and_leave_the_filters_alone(batch):
    filters = list(warnings.filters)
    with dask.config.set(scheduler="threads", num_workers=2):
        with pytest.warns(fastem.ConvergenceWarning) as caught:
            fastem_dask.fit(da.from_array(batch, chunks=(5, 80)), 2, max_iter=2, **KWARGS)
    assert [str(w.message)[:36] for w in caught] == ["60 of 60 dataset(s) did not converge"]
    assert caught[0].filename == __file__  # the user's line, not fastem's
    assert warnings.filters == filters


def test_unusable_dask_inputs_are_refused_up_front(batch):
    unknown = da.from_array(batch, chunks=(7, 80))
    unknown = unknown[unknown[:, 0] > -100]  # row count known only when computed
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        fastem_dask.fit(unknown, 2)
    with pytest.raises(ValueError, match="no datasets"):
        fastem_dask.fit(da.zeros((0, 10)), 2)
    with pytest.raises(ValueError, match="list of datasets is empty"):
        fastem_dask.fit([], 2)
    with dask.config.set(scheduler="sync"), pytest.raises(ValueError, match="bag holds no"):
        fastem_dask.fit(db.from_sequence([], npartitions=1), 2)


def test_concatenate_takes_single_dataset_results_as_chunks_of_one(batch):
    expected = fastem.fit(batch[:3], 2, **KWARGS)
    first = fastem.fit(batch[0], 2, **KWARGS)  # one 1D dataset: no dataset axis
    rest = fastem.fit(batch[1:3], 2, dataset_offset=1, **KWARGS)
    assert_identical(fastem_dask.concatenate([first, rest]), expected)
    singles = [fastem.fit(row, 2, dataset_offset=d, **KWARGS) for d, row in enumerate(batch[:3])]
    assert_identical(fastem_dask.concatenate(singles), expected)


def test_study_on_the_cluster_equals_the_local_study(client):
    kwargs = dict(
        n_samples=(30, 60),
        replications=90,
        init=("kmeans++", "emem"),
        n_init=2,
        random_state=5,
        chunk_size=25,
    )
    local = fastem.study([0.5, 0.5], [0.0, 4.0], [1.0, 1.0], **kwargs).table
    remote = fastem.study([0.5, 0.5], [0.0, 4.0], [1.0, 1.0], client=client, **kwargs).table
    assert remote.columns == local.columns
    for name in local.columns:
        np.testing.assert_array_equal(remote[name], local[name], err_msg=name)


def test_a_studys_tests_of_k_on_the_cluster_equal_the_local_ones(client):
    from fastem.toolkit.study_tests import study_test

    test = study_test("bootstrap_lrt", 1, [0.05, 0.1], [19, 39], {"n_init": 1})
    kwargs = dict(n_samples=40, replications=12, n_init=1, random_state=5, chunk_size=5, test=test)
    local = fastem.study([1.0], [0.0], [1.0], **kwargs)
    remote = fastem.study([1.0], [0.0], [1.0], client=client, **kwargs)
    assert any(name.startswith("reject_10_bz") for name in local.table.columns)
    for name in local.table.columns:
        np.testing.assert_array_equal(remote.table[name], local.table[name], err_msg=name)
    np.testing.assert_array_equal(remote.raw()["p_value_b19"], local.raw()["p_value_b19"])


def test_a_killed_worker_is_retried_without_losing_or_duplicating_results(client):
    data = fastem.simulate([0.4, 0.6], [-2.5, 3.5], [4.0, 4.0], 400, 3000, random_state=4)[0]
    kwargs = dict(n_init=8, random_state=3, tol=0, max_iter=150)
    expected = fastem.fit(data, 2, **kwargs)
    lazy = fastem_dask.fit(da.from_array(data, chunks=(50, 400)), 2, compute=False, **kwargs)
    future = client.compute(lazy)
    pids = client.run(os.getpid)  # {worker address: pid}
    victim = sorted(pids)[0]
    deadline = time.monotonic() + 60
    # Kill the worker while it holds fitting tasks (60 short chunks).
    while not any("_fit_chunk" in key for key in client.processing([victim])[victim]):
        assert time.monotonic() < deadline, "the worker never received a fitting task"
        time.sleep(0.01)
    os.kill(pids[victim], signal.SIGKILL)
    assert not future.done()  # killed mid-run, not after
    result = future.result()
    assert pids[victim] not in client.run(os.getpid).values()  # the worker really died
    assert result.means.shape == (3000, 2)
    assert_identical(result, expected)


def test_without_dask_the_error_says_what_to_install(tmp_path):
    blocker = tmp_path / "dask"
    blocker.mkdir()
    (blocker / "__init__.py").write_text("raise ImportError('no dask here')\n")
    code = "try:\n    import fastem.dask\nexcept ImportError as e:\n    print(e)\n"
    completed = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(tmp_path)),
        check=True,
    )
    assert "pip install 'fastem[dask]'" in completed.stdout


def test_standard_errors_of_every_chunk_are_kept(client):
    data, _ = fastem.simulate([0.4, 0.6], [-2.5, 3.5], [4.0, 4.0], 200, 6, random_state=3)
    whole = fastem.fit(data, 2, random_state=1, se="louis")
    chunked = fastem_dask.fit(da.from_array(data, chunks=(2, 200)), 2, random_state=1, se="louis")
    assert chunked.standard_errors.means.shape == (6, 2)
    np.testing.assert_array_equal(chunked.standard_errors.means, whole.standard_errors.means)
    np.testing.assert_array_equal(
        chunked.standard_errors.covariance, whole.standard_errors.covariance
    )
