"""``--scheduler`` and ``--workers``: ``fastem fit`` and ``fastem study`` on a Dask cluster.

A command given one of them runs its fits as Dask tasks: on the cluster of a running
scheduler (``--scheduler tcp://host:8786``), or on a local cluster of worker processes
started for the run and closed after it (``--workers N``). The output is the same, byte
for byte, as without them: every fit is seeded by its dataset's content, so the chunks a
cluster fits give the bits of one local call. A worker that dies is replaced and its tasks
run again (a task carries its chunk of datasets, so nothing is lost with the worker).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import socket

from .shared import UserError

CONNECT_TIMEOUT = 10.0
"""Seconds to reach a ``--scheduler`` before giving up with an error."""
DATASETS_PER_TASK = 1000
"""Most datasets in one task of ``fastem fit``: as ``fastem.dask.fit``'s ``chunk_size``."""
POINTS_PER_TASK = 2**22
"""Most points in one task (a dataset larger than this is a task alone): a task's data
travel with it, so that a worker that dies loses nothing."""
TASKS_PER_THREAD = 4
"""Tasks per thread of the cluster at least (while there are datasets enough): a worker
that finishes early takes more, and one that dies leaves little to run again."""
INSTALL = "pip install 'fastem[dask]'"


def add_cluster_options(parser) -> None:
    """``--scheduler ADDRESS`` and ``--workers N``, of which one at most."""
    cluster = parser.add_argument_group(
        "cluster",
        "run the fits as Dask tasks (needs distributed: " + INSTALL + "); the output is the "
        "same, byte for byte, as without these flags",
    ).add_mutually_exclusive_group()
    cluster.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="the address of a running Dask scheduler, as tcp://host:8786, whose workers "
        "(with fastem installed) run the fits (default: none, this machine)",
    )
    cluster.add_argument(
        "--workers",
        type=_workers,
        metavar="N",
        help="start a local Dask cluster of N worker processes (one task at a time each, "
        "the CPU's threads shared among them) for the run, and close it after "
        "(default: none, one process)",
    )


def _workers(text: str) -> int:
    """``--workers``: a number of worker processes, at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(
            f"give a number of worker processes of at least 1, not {text!r}"
        )
    return value


@contextlib.contextmanager
def cluster_client(args):
    """The ``distributed.Client`` of ``--scheduler`` or ``--workers`` in the ``with``
    block (None without either), closed after it, with the local cluster it started."""
    if args.scheduler is None and args.workers is None:
        yield None
        return
    flag = "--scheduler" if args.workers is None else "--workers"
    try:
        import distributed
    except ImportError:
        raise UserError(
            f"{flag} runs the fits on a Dask cluster, which needs distributed: {INSTALL}"
        ) from None
    if args.workers is not None:
        threads = max(1, (os.cpu_count() or 1) // args.workers)
        with (
            distributed.LocalCluster(
                n_workers=args.workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                # the workers' logs of a worker lost or a task cancelled are not the user's
                # concern: the tasks run again, the result is the same
                silence_logs=logging.ERROR,
                # numba's threads of the kernels: the CPU's shared among the workers
                env={"NUMBA_NUM_THREADS": str(threads)},
            ) as cluster,
            distributed.Client(cluster, set_as_default=False) as client,
        ):
            yield client
        return
    with _connect(distributed, args.scheduler) as client:
        yield client


def _connect(distributed, address: str):
    """A client of the scheduler at ``address``, or a :class:`UserError` that names the
    address and the fix, within :data:`CONNECT_TIMEOUT` seconds."""
    fix = (
        "start one (dask scheduler, then dask worker ADDRESS on each machine) or give the "
        "address it prints, or use --workers N for a local cluster"
    )
    _reachable(distributed, address, fix)
    try:
        return distributed.Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except Exception as error:  # noqa: BLE001 - any failure to connect is the address's
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise UserError(
            f"--scheduler {address}: cannot connect to a Dask scheduler there ({reason}); {fix}"
        ) from None


def _reachable(distributed, address: str, fix: str) -> None:
    """An address of a scheme Dask knows; a TCP one (``tcp://host:port`` or
    ``host:port``) must take a connection within :data:`CONNECT_TIMEOUT`: a refused one
    fails at once, with the reason, rather than after the client's retries."""
    scheme = address.partition("://")[0] if "://" in address else "tcp"
    try:
        distributed.comm.registry.get_backend(scheme)
    except ValueError as error:
        raise UserError(f"--scheduler {address}: {error}; give tcp://HOST:PORT") from None
    if scheme != "tcp":
        return  # tls://, ws://, ...: the client's own handshake says
    host, _, port = address.removeprefix("tcp://").rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit():
        raise UserError(
            f"--scheduler {address!r} is not a scheduler's address; give tcp://HOST:PORT, "
            "as tcp://127.0.0.1:8786 (the address 'dask scheduler' prints)"
        )
    try:
        socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT).close()
    except OSError as error:
        reason = error.strerror or str(error) or type(error).__name__
        raise UserError(
            f"--scheduler {address}: no Dask scheduler answers there ({reason}); {fix}"
        ) from None


# ----------------------------------------------------------------------------- fit


def spans(sizes, n_threads: int):
    """``(start, stop)`` of each task's datasets, consecutive: at most
    :data:`DATASETS_PER_TASK` datasets and :data:`POINTS_PER_TASK` points a task, and at
    least :data:`TASKS_PER_THREAD` tasks a thread of the cluster while datasets last."""
    n = len(sizes)
    most = max(1, min(DATASETS_PER_TASK, -(-n // (TASKS_PER_THREAD * max(1, n_threads)))))
    start, points = 0, 0
    for index, size in enumerate(sizes):
        if index > start and (index - start == most or points + size > POINTS_PER_TASK):
            yield start, index
            start, points = index, 0
        points += size
    if n:
        yield start, n


def submit_chunks(client, function, data, sizes, weights, options, *args):
    """The futures of ``function(chunk, *args, options)`` over the datasets ``data`` (of
    ``sizes`` points or intervals, and with their point ``weights``, or None) in
    consecutive chunks (:func:`spans`), each chunk's ``options`` with its
    ``sample_weight`` and its ``dataset_offset`` (the global index of its first dataset,
    which names its datasets in messages)."""
    n_threads = sum(client.nthreads().values())
    futures = []
    for start, stop in spans(sizes, n_threads):
        chunk_options = dict(options, dataset_offset=start)
        chunk_options["sample_weight"] = None if weights is None else weights[start:stop]
        futures.append(client.submit(function, data[start:stop], *args, chunk_options, pure=False))
    return futures


def gather(client, futures) -> list:
    """The results of ``futures`` in their order; if one fails (or the command is
    stopped), the others are cancelled and its error raised."""
    try:
        # One at a time, not client.gather: the waits of a gather that is interrupted are
        # left behind, each printing its exception at exit.
        return [future.result() for future in futures]
    finally:
        client.cancel([future for future in futures if not future.done()])
