"""``fastem fit`` and ``fastem study`` on a Dask cluster (``--scheduler``, ``--workers``):
the bytes of a local run, from a ``distributed.LocalCluster`` of worker processes, with a
worker killed mid-run too; and the errors of a cluster that cannot be used."""

import os
import signal
import socket
import sys
import threading
import time

import numpy as np
import pytest

import fastem
from test_cli import assert_one_line_error, fastem_cli

distributed = pytest.importorskip("distributed")

from fastem import cli  # noqa: E402
from fastem.cli import cluster  # noqa: E402

pytestmark = pytest.mark.filterwarnings(
    # distributed's own chatter about ports and cluster shutdown is not this suite's concern
    "ignore::DeprecationWarning",
    "ignore::ResourceWarning",
    "ignore::UserWarning:distributed",
)


@pytest.fixture(scope="module")
def client():
    local = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, host="127.0.0.1"
    )
    with distributed.Client(local) as client:
        yield client
    local.close()


@pytest.fixture(scope="module")
def datafile(tmp_path_factory):
    """A long CSV of 120 datasets of 30 to 89 points, with point weights (integer counts,
    some 0): dataset, value, w."""
    data, _ = fastem.simulate([0.4, 0.6], [-2.5, 3.5], [4.0, 4.0], 90, 120, random_state=7)
    counts = np.random.default_rng(8).integers(0, 4, data.shape)
    lines = ["dataset,value,w"]
    for d, (row, weights) in enumerate(zip(data, counts)):
        size = 30 + (d * 7) % 60  # ragged: the chunks differ in points
        lines += [f"d{d},{float(x)!r},{w}" for x, w in zip(row[:size], weights[:size])]
    path = tmp_path_factory.mktemp("cluster") / "datasets.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def run(capsys, *args):
    """``fastem ARGS`` in this process: its exit status, stdout and stderr."""
    status = cli.main([str(arg) for arg in args])
    out, err = capsys.readouterr()
    return status, out, err


def warnings_of(stderr):
    """The lines of ``stderr`` but the notice of compiling kernels (which only the first
    run of a process gives)."""
    return [line for line in stderr.splitlines() if not line.startswith("fastem: compiling")]


FIT_FLAGS = {
    # one model, weighted points, a fixed number of random restarts, standard errors
    "one_model": ["--components", "2", "--weights-column", "w", "--n-init", "3", "--init",
                  "random", "--seed", "4", "--se", "louis", "--format", "csv"],
    # a range of models chosen by BIC, searches in rounds, too short a budget for some to
    # settle: a SearchWarning naming datasets by their ids
    "candidates": ["--components", "1-3", "--max-init", "6", "--format", "json"],
    # restarts that cannot differ: a warning about the options, which every task gives
    "options": ["--components", "2", "--init", "quantile", "--n-init", "3"],
}  # fmt: skip


@pytest.mark.parametrize("flags", FIT_FLAGS.values(), ids=FIT_FLAGS.keys())
def test_fit_on_a_scheduler_writes_the_bytes_and_warnings_of_a_local_fit(
    client, datafile, capsys, tmp_path, flags
):
    local, remote = tmp_path / "local.out", tmp_path / "remote.out"
    flags = ["--by", "dataset", "--value", "value", *flags]
    status, _, local_err = run(capsys, "fit", datafile, *flags, "--out", local)
    assert status == 0, local_err
    address = client.scheduler.address
    status, _, remote_err = run(
        capsys, "fit", datafile, *flags, "--scheduler", address, "--out", remote
    )
    assert status == 0, remote_err
    assert remote.read_bytes() == local.read_bytes()
    assert warnings_of(remote_err) == warnings_of(local_err)
    if "--max-init" in flags:  # the warning of the joined chunks names datasets by id
        assert "did not settle" in local_err and "'d" in local_err
    if "quantile" in flags:  # once, as the local fit gives it, not once a task
        assert local_err.count("all start from the same values") == 1


def test_the_chunks_of_a_file_cover_it_in_order_within_their_limits():
    sizes = [10] * 25 + [cluster.POINTS_PER_TASK, 5, 5]
    spans = list(cluster.spans(sizes, n_threads=2))
    assert spans[0][0] == 0 and spans[-1][1] == len(sizes)
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:]))  # consecutive, no gap
    # 28 datasets on 2 threads: at most 4 a task (4 tasks a thread), and the large one alone
    assert max(stop - start for start, stop in spans) == 4
    assert (25, 26) in spans
    assert list(cluster.spans([10] * 5000, n_threads=1)) == [
        (start, start + cluster.DATASETS_PER_TASK) for start in range(0, 5000, 1000)
    ]
    assert list(cluster.spans([], n_threads=1)) == []


def test_a_selection_of_chunks_joined_is_the_selection_of_the_whole():
    from fastem.dask import concatenate_selections

    data, _ = fastem.simulate([0.5, 0.5], [0.0, 3.0], [1.0, 1.0], 60, 9, random_state=3)
    kwargs = dict(n_components=[1, 2, 3], n_init=4, random_state=2)
    whole = fastem.select(data, **kwargs)
    parts = [fastem.select(data[a:b], dataset_offset=a, **kwargs) for a, b in ((0, 2), (2, 9))]
    joined = concatenate_selections(parts)
    for name in ("log_likelihood", "bic", "eligible", "redundant", "best", "means", "settled"):
        np.testing.assert_array_equal(getattr(joined, name), getattr(whole, name), err_msg=name)
    with pytest.raises(ValueError, match="same candidates"):
        concatenate_selections([parts[0], fastem.select(data, n_components=[1, 2])])


def free_port():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        return listener.getsockname()[1]


@pytest.mark.parametrize(
    ("flags", "fragments"),
    [
        (["--scheduler", "tcp://127.0.0.1:{port}"],
         ["--scheduler tcp://127.0.0.1:", "no Dask scheduler answers", "--workers N"]),
        (["--scheduler", "127.0.0.1"], ["is not a scheduler's address", "tcp://HOST:PORT"]),
        (["--scheduler", "foo://host:1"], ["unknown address scheme 'foo'", "tcp://HOST:PORT"]),
    ],
)  # fmt: skip
def test_a_scheduler_that_cannot_be_reached_is_an_error_before_any_work(
    datafile, capsys, flags, fragments
):
    flags = [flag.format(port=free_port()) for flag in flags]
    started = time.monotonic()
    status, out, err = run(capsys, "fit", datafile, *flags, "--out", "/nonexistent/never")
    assert status == 2 and out == ""
    assert time.monotonic() - started < cluster.CONNECT_TIMEOUT  # refused at once: no wait
    (line,) = err.strip().splitlines()
    for fragment in fragments:
        assert fragment in line, line


@pytest.mark.parametrize(
    ("flags", "fragment"),
    [
        (["--workers", "0"], "at least 1, not '0'"),
        (["--workers", "-2"], "at least 1, not '-2'"),
        (["--workers", "2", "--scheduler", "tcp://127.0.0.1:8786"], "not allowed with"),
    ],
)
def test_workers_must_be_positive_and_exclude_a_scheduler(capsys, flags, fragment):
    for command in ("fit", "study"):
        with pytest.raises(SystemExit) as stopped:
            cli.main([command, *(["data.csv"] if command == "fit" else []), *flags])
        assert stopped.value.code == 2
        assert fragment in capsys.readouterr().err


def test_without_distributed_the_error_says_what_to_install(datafile, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed fails
    status, _, err = run(capsys, "study", "--workers", "2", "--replications", "5", "--quiet")
    assert status == 2
    assert "--workers runs the fits on a Dask cluster" in err
    assert "pip install 'fastem[dask]'" in err


@pytest.mark.slow  # four commands, one starting a cluster of processes
def test_study_on_two_local_workers_and_fit_on_a_scheduler_in_subprocesses(
    client, datafile, tmp_path
):
    """The installed command, as a user runs it: ``study --workers 2`` starts and closes
    its own cluster; ``fit --scheduler`` uses a running one. Both write a local run's bytes,
    and an address where no scheduler answers is a one-line error."""
    study = ["study", "--n-samples", "20", "30", "--replications", "60", "--init", "kmeans++",
             "emem", "--n-init", "2", "--seed", "3", "--quiet"]  # fmt: skip
    fastem_cli(*study, "--csv", tmp_path / "l.csv", "--json", tmp_path / "l.json", check=True)
    completed = fastem_cli(
        *study, "--workers", 2, "--csv", tmp_path / "w.csv", "--json", tmp_path / "w.json"
    )
    assert completed.returncode == 0, completed.stderr
    for suffix in ("csv", "json"):
        assert (tmp_path / f"w.{suffix}").read_bytes() == (tmp_path / f"l.{suffix}").read_bytes()
    fit = ["fit", datafile, "--by", "dataset", "--value", "value", "--components", "1-2", "--quiet"]
    local = fastem_cli(*fit, check=True).stdout
    assert fastem_cli(*fit, "--scheduler", client.scheduler.address, check=True).stdout == local
    nobody = fastem_cli(*fit, "--scheduler", f"tcp://127.0.0.1:{free_port()}")
    assert_one_line_error(nobody, "no Dask scheduler answers there")


def killing_a_busy_worker(client, task, killed):
    """A thread that, once a worker of ``client``'s cluster runs a task of the function
    named ``task``, kills the worker's process (SIGKILL) and appends ``(pid, when)`` to
    ``killed``."""

    def kill():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            busy = [
                worker
                for worker, keys in client.processing().items()
                if any(task in str(key) for key in keys)
            ]
            if busy:
                pids = client.run(os.getpid, workers=busy[:1])
                os.kill(pids[busy[0]], signal.SIGKILL)
                killed.append((pids[busy[0]], time.monotonic()))
                return
            time.sleep(0.02)

    return threading.Thread(target=kill)


def many_datasets(tmp_path):
    """A .npy file of 160 datasets: 8 tasks of 20 on 2 workers (cluster.TASKS_PER_THREAD)."""
    data, _ = fastem.simulate([0.4, 0.6], [-2.5, 3.5], [4.0, 4.0], 200, 160, random_state=5)
    np.save(tmp_path / "many.npy", data)
    return tmp_path / "many.npy"


KILLED = {
    # (command and flags, the task's function, the output's flag)
    "fit": (lambda tmp_path: ["fit", many_datasets(tmp_path), "--components", "2", "--n-init",
                              "10"], "_quiet_selection", "--out"),
    # eight design cells, a task each
    "study": (lambda tmp_path: ["study", "--n-samples", *map(str, range(20, 60, 5)),
                                "--replications", "100", "--init", "kmeans++", "--n-init", "3"],
              "_run_chunk", "--csv"),
}  # fmt: skip


@pytest.mark.parametrize("case", KILLED.values(), ids=KILLED.keys())
def test_a_worker_killed_mid_run_leaves_the_output_of_a_local_run(client, capsys, tmp_path, case):
    """SIGKILL to a worker process while it runs a task: the scheduler gives its tasks to
    the other worker (and the nanny starts a new one), and the file is the local one."""
    command, task, output = case
    command = [*command(tmp_path), "--quiet"]
    status, _, err = run(capsys, *command, output, tmp_path / "local.out")
    assert status == 0, err
    client.wait_for_workers(2, timeout=120)  # after a worker killed by the test before
    killed: list = []
    killer = killing_a_busy_worker(client, task, killed)
    killer.start()
    address = client.scheduler.address
    status, _, err = run(capsys, *command, "--scheduler", address, output, tmp_path / "remote.out")
    finished = time.monotonic()
    killer.join()
    assert status == 0, err
    assert killed, "no worker was seen running a task"
    ((pid, when),) = killed
    assert when < finished  # mid-run, not after
    assert pid not in client.run(os.getpid).values()  # the worker really died
    assert (tmp_path / "remote.out").read_bytes() == (tmp_path / "local.out").read_bytes()
