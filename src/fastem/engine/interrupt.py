"""Ctrl-C during a kernel stops it within one EM iteration, not when the kernel ends.

Python runs signal handlers only between bytecodes of the main thread, so a kernel that
the main thread is executing cannot be interrupted: a fit of ten million points would
finish its work before Ctrl-C took effect. :func:`run` therefore calls the kernel from a
worker thread (kernels release the GIL) while the main thread waits. On
``KeyboardInterrupt`` (or any other exception) it sets the kernel's ``interrupted`` flag,
which every kernel reads once per EM iteration and before each fit, waits a moment for
the kernel to return, and re-raises. A kernel still compiling then is left to finish in
the background (compilation cannot be stopped); its results are never read.
"""

from __future__ import annotations

import os
import threading
import time

import numba
import numpy as np

GRACE_SECONDS = 2.0
"""How long an interrupted call waits for its kernel to notice the flag."""


def run(kernel, *args) -> None:
    """``kernel(*args, interrupted)``, stopped early by Ctrl-C (see the module's docstring)."""
    interrupted = np.zeros(1, dtype=np.uint8)
    if threading.current_thread() is not threading.main_thread():
        kernel(*args, interrupted)  # signals reach only the main thread: nothing to wait for
        return
    failure = []
    n_threads = numba.get_num_threads()  # set per thread (numba.set_num_threads): pass it on

    def work():
        try:
            numba.set_num_threads(n_threads)
            kernel(*args, interrupted)
        except BaseException as error:  # re-raised in the calling thread
            failure.append(error)

    worker = threading.Thread(target=work, name="fastem-kernel", daemon=True)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.5)
    except BaseException:
        interrupted[0] = 1
        worker.join(GRACE_SECONDS)
        raise
    _wait_for_exit(worker)
    if failure:
        raise failure[0]


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
