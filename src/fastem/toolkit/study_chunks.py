"""How a Monte Carlo study's replications are cut into chunks: their sizes, the memory they
need, their dispatch here or to a Dask cluster, and the raw rows handed on in fixed blocks."""

from __future__ import annotations

import collections

import numpy as np

from .. import checks as _validate
from ..table import Table

DEFAULT_CHUNK = 2000
CHUNK_POINTS = 2**22
"""Most points in a chunk (about 4 million: 64 MiB of values and labels), so that memory
stays flat however large the datasets are; a dataset larger than this is a chunk alone."""
RAW_BLOCK = DEFAULT_CHUNK
"""Replications per block of the rows that ``study(..., raw=...)`` hands on: a fixed
block, not a chunk, so that the rows come in the same order whatever the chunk size."""
DASK_WINDOW = 64
"""Chunks of a study submitted to a Dask cluster ahead of the one awaited (at least twice
its threads): enough to keep the cluster busy, without a task per chunk of a huge study
held at once."""


def chunk_plan(replications, size, chunk_size=DEFAULT_CHUNK, max_points=CHUNK_POINTS):
    """``(first dataset, number of datasets)`` of each chunk, one at a time: at most
    ``chunk_size`` datasets and ``max_points`` points a chunk (at least one dataset)."""
    step = max(1, min(chunk_size, max_points // size))
    for start in range(0, replications, step):
        yield start, min(step, replications - start)


def run_chunks(run_chunk, arguments, client):
    """``(args, outcome)`` of ``run_chunk(*args)`` (a chunk of datasets simulated and
    fitted) for each argument tuple, in order: here, or as tasks on a Dask cluster, at most
    ``DASK_WINDOW`` (or twice its threads) ahead of the one awaited (those in flight
    cancelled if the study is interrupted)."""
    if client is None:
        for args in arguments:
            yield args, run_chunk(*args)
        return
    window = max(DASK_WINDOW, 2 * sum(client.nthreads().values()))
    pending = collections.deque()
    try:
        for args in arguments:
            pending.append((args, client.submit(run_chunk, *args, pure=False)))
            if len(pending) >= window:
                args, future = pending.popleft()
                yield args, future.result()
        while pending:
            args, future = pending.popleft()
            yield args, future.result()
    finally:
        client.cancel([future for _, future in pending])


class RawBlocks:
    """The raw rows of a design cell's methods, handed to ``sink`` a block of
    ``RAW_BLOCK`` replications at a time, one method after the other, as chunks of any
    size complete them."""

    def __init__(self, sink, replications: int):
        self.sink, self.replications = sink, replications
        self.pending: dict = {}
        self.given = 0  # replications handed on

    def add(self, rows: dict, done: int) -> None:
        """``rows``: per method, the columns of the next replications, up to ``done``."""
        for key, columns in rows.items():
            self.pending.setdefault(key, []).append(columns)
        while self.given < self.replications:
            stop = min(self.given + RAW_BLOCK, self.replications)
            if done < stop:
                return
            for key, parts in self.pending.items():
                columns = {
                    name: np.concatenate([part[name] for part in parts]) for name in parts[0]
                }
                taken = stop - self.given
                self.sink(Table({name: values[:taken] for name, values in columns.items()}))
                rest = {name: values[taken:] for name, values in columns.items()}
                self.pending[key] = [rest] if len(rest["replication"]) else []
            self.given = stop


def kept_bytes(n_init: int, n_components: int, se: bool) -> int:
    """Bytes a replication kept in a cell holds (``keep_replications=True``): 41 a restart
    (log-likelihood, iterations, passes, convergence, status, starting iterations), 24 a
    component (estimates; as much again for their standard errors) and 88 for the chosen
    fit's outcomes, twice over while the chunks are joined."""
    return 2 * (41 * n_init + 24 * n_components * (1 + se) + 88)


def check_memory(sizes, replications, chunk_size, n_init, width, n_rows, keep, se):
    """Refuse, before any work, a study whose arrays would not fit in memory: one dataset's
    points (a chunk holds at least one), the fits of a chunk, and the kept replications of
    ``n_rows`` rows of the table."""
    largest = max(sizes)
    # Values and labels drawn, the fit's packed copy and its standardised values.
    _validate.check_option_memory(
        "n_samples", largest, 40.0, "one dataset's points (a chunk holds at least one)"
    )
    datasets = max(
        min(replications, max(1, min(chunk_size, CHUNK_POINTS // size))) for size in sizes
    )
    _validate.check_option_memory(
        "n_init",
        n_init,
        datasets * _validate.fit_bytes(width),
        f"the fits of a chunk of {datasets} datasets",
    )
    if keep:
        _validate.check_option_memory(
            "replications",
            replications,
            kept_bytes(n_init, width, se) * n_rows,
            "every replication's fits kept in the cells (keep_replications=True; the "
            "figures need them)",
        )
