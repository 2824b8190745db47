"""Ctrl-C during a kernel stops it within one EM iteration, not when the kernel ends.

Python runs signal handlers only between bytecodes of the main thread, so a kernel that
the main thread is executing cannot be interrupted: a fit of ten million points would
finish its work before Ctrl-C took effect. :func:`run` therefore calls the kernel from a
worker thread (kernels release the GIL) while the main thread waits. On
``KeyboardInterrupt`` (or any other exception) it sets the kernel's ``interrupted`` flag,
which every kernel reads once per EM iteration and before each fit, waits a moment for
the kernel to return, and re-raises. A kernel still compiling then is left to finish in
the background (compilation cannot be stopped); its results are never read.

The worker is one long-lived daemon thread (:class:`_Worker`) fed by a queue, not a
thread per call: starting a thread and waiting for its system thread to exit costs far
more than the kernel of a small fit, and a loop of small calls paid it on every kernel.
Three things a thread per call gave for free are kept by hand:

- the caller's thread count: numba's (``numba.set_num_threads``) is per thread, so each
  job carries the caller's and the worker sets it when it differs from its own;
- ``fork()``: a thread that ran a parallel kernel stays attached to TBB's scheduler,
  which then cannot shut its threads down before a ``fork()`` and prints a warning (the
  child's TBB may be broken). A hook run before every ``os.fork`` stops the worker and
  waits until its system thread is gone (:func:`_wait_for_exit`); a child has no worker
  (threads do not survive ``fork``), and the next call, in either process, starts one,
  since the worker records the process it belongs to;
- an interrupted kernel that outlives the grace period (one still compiling) keeps its
  worker busy: that worker is abandoned (it exits after the kernel) and the next call
  starts a new one.

Even a persistent worker costs two thread wake-ups per kernel, which a busy machine's
scheduler can stretch to milliseconds. A kernel whose caller bounds its work (``work``,
in points x components x EM maps) by :data:`INLINE_WORK` therefore runs in the calling
thread, once the same kernel has run on the worker in this process (so that it is
compiled, or loaded, there): it ends within about a millisecond of its start, sooner than
a person's Ctrl-C could matter, and Python raises ``KeyboardInterrupt`` as it returns.
"""

from __future__ import annotations

import atexit
import math
import os
import queue
import threading
import time
from collections.abc import Hashable

import numba
import numpy as np

GRACE_SECONDS = 2.0
"""How long an interrupted call waits for its kernel to notice the flag."""

INLINE_WORK = 1e6
"""The most work (points x components x EM maps) of a kernel run in the calling thread:
about a millisecond of arithmetic on one core."""

POLL_SECONDS = 0.5
"""How often the waiting main thread wakes (signals interrupt its wait anyway on POSIX)."""


class _Job:
    """One kernel call handed to the worker: ``kernel(*args, interrupted)`` with the
    caller's thread count; ``done`` is released when it has returned or raised."""

    __slots__ = ("kernel", "args", "interrupted", "n_threads", "done", "failure")

    def __init__(self, kernel, args, interrupted, n_threads):
        self.kernel, self.args, self.interrupted = kernel, args, interrupted
        self.n_threads = n_threads
        self.done = threading.Lock()
        self.done.acquire()
        self.failure: BaseException | None = None


class _Worker:
    """The daemon thread that runs the main thread's kernels, one job at a time, in the
    process (``pid``) that started it."""

    def __init__(self):
        self.pid = os.getpid()
        self.jobs: queue.SimpleQueue = queue.SimpleQueue()
        self.n_threads = 0  # numba's thread count in the worker, set by its first job
        self.thread = threading.Thread(target=self._serve, name="fastem-kernel", daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        """Run jobs until ``None`` arrives."""
        while (job := self.jobs.get()) is not None:
            try:
                if job.n_threads != self.n_threads:
                    numba.set_num_threads(job.n_threads)
                    self.n_threads = job.n_threads
                job.kernel(*job.args, job.interrupted)
            except BaseException as error:  # re-raised in the calling thread
                job.failure = error
            finally:
                job.done.release()

    def stop(self, timeout: float) -> None:
        """Ask the thread to exit after its current job; wait up to ``timeout`` seconds
        for it, and for its system thread (:func:`_wait_for_exit`)."""
        self.jobs.put(None)
        self.thread.join(timeout)
        if not self.thread.is_alive():
            _wait_for_exit(self.thread)


_worker: _Worker | None = None
_ran_on_worker: set = set()
"""The kernels (``(kernel, first argument, variant)``) that have run on a worker in this
process."""


def run(kernel, *args, work: float = math.inf, variant: Hashable = None) -> None:
    """``kernel(*args, interrupted)``, stopped early by Ctrl-C (see the module's docstring).

    ``work`` bounds the kernel's work in points x components x EM maps, where the caller
    knows a bound; ``variant`` names what else chooses the compiled code (a dtype, say).
    With ``work`` at most :data:`INLINE_WORK`, a kernel that has already run on the worker
    with the same first argument and variant runs in the calling thread. A variant that
    ``variant`` does not tell apart is then compiled in the calling thread, where Ctrl-C
    stops the compilation itself.
    """
    global _worker
    interrupted = np.zeros(1, dtype=np.uint8)
    small = work <= INLINE_WORK  # only then is the key (of hashable values) needed
    key = (kernel, args[0] if args else None, variant) if small else None
    if threading.current_thread() is not threading.main_thread() or (
        small and key in _ran_on_worker
    ):
        # Signals reach only the main thread, or the kernel ends before Ctrl-C matters.
        kernel(*args, interrupted)
        return
    worker = _worker
    if worker is None or worker.pid != os.getpid():
        worker = _worker = _Worker()
    job = _Job(kernel, args, interrupted, numba.get_num_threads())
    worker.jobs.put(job)
    try:
        while not job.done.acquire(timeout=POLL_SECONDS):
            pass
    except BaseException:
        interrupted[0] = 1
        if not job.done.acquire(timeout=GRACE_SECONDS):
            worker.stop(timeout=0)  # busy compiling: it exits when done; a new one serves
            if _worker is worker:
                _worker = None
        raise
    if job.failure is not None:
        raise job.failure
    if small:
        _ran_on_worker.add(key)


def _stop_worker(timeout: float = GRACE_SECONDS) -> None:
    """Stop this process's worker, if it has one (before ``fork()`` and at exit)."""
    global _worker
    worker, _worker = _worker, None
    if worker is not None and worker.pid == os.getpid():
        worker.stop(timeout)


os.register_at_fork(before=_stop_worker)
atexit.register(_stop_worker)


def _wait_for_exit(worker, timeout=1.0):
    """Wait until the worker's system thread is gone, not only its Python part.

    A thread that ran a parallel kernel is attached to TBB's scheduler until its
    thread-local destructors run, just after ``join`` returns; a ``fork()`` in that window
    finds TBB unable to shut its threads down and prints a warning. Linux lists live
    threads in ``/proc/self/task``; elsewhere there is nothing to wait for.
    """
    task = f"/proc/self/task/{worker.native_id}"
    deadline = time.monotonic() + timeout
    while os.path.exists(task) and time.monotonic() < deadline:
        time.sleep(0.0002)
