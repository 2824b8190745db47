"""How the ``fastem`` command stops: Ctrl-C (SIGINT), SIGTERM and SIGHUP.

``timeout``, Slurm and Kubernetes stop a job with SIGTERM, and a terminal that closes sends
SIGHUP. Inside :func:`handled`, each of them stops the command as Ctrl-C does: an exception
(KeyboardInterrupt, or :class:`Stopped`, a subclass of it) raised in the main thread, which
tells a running kernel to stop (``_interrupt``) and removes the temporary output files on
its way out (:mod:`~fastem.cli.outputs`). The command then exits with 128 plus the signal's number
(:func:`exit_status`): 130, 143, 129. A signal that the process started with ignored
(``nohup``, a background job) stays ignored.

Only the standard library is imported here, so that the command can use it before numpy
and numba are loaded.
"""

from __future__ import annotations

import contextlib
import signal
import threading

STOPPING = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
"""The signals that stop the command, each as Ctrl-C does."""


class Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised where Ctrl-C raises KeyboardInterrupt, so that every
    ``except KeyboardInterrupt`` cleans up after it too."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def stop(signum: int, frame=None):
    """A signal handler: KeyboardInterrupt for SIGINT, :class:`Stopped` for the others."""
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise Stopped(signum)


def exit_status(error: KeyboardInterrupt) -> int:
    """128 plus the number of the signal that raised ``error`` (SIGINT for a plain
    KeyboardInterrupt): the status a shell reports for a process the signal ended."""
    return 128 + getattr(error, "signum", signal.SIGINT)


def name(error: KeyboardInterrupt) -> str:
    """How the command's last message names what stopped it."""
    return (
        "interrupted"
        if not isinstance(error, Stopped)
        else f"stopped by {signal.Signals(error.signum).name}"
    )


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def handled():
    """SIGTERM and SIGHUP raise :class:`Stopped` inside the block, unless the process
    ignores them or a handler of its own is installed (SIGINT is Python's already)."""
    previous = {}
    if _main_thread():
        for signum in STOPPING[1:]:
            if signal.getsignal(signum) == signal.SIG_DFL:
                previous[signum] = signal.signal(signum, stop)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextlib.contextmanager
def held():
    """A stopping signal that arrives inside the block takes effect when it ends.

    The Python-level handlers are swapped for one that only records the signal (blocking
    the signals would not do: numba's worker threads would receive them instead)."""
    if not _main_thread():
        yield
        return
    pending, previous = [], {}
    for signum in STOPPING:
        handler = signal.getsignal(signum)
        if callable(handler):
            previous[signum] = signal.signal(signum, lambda signum, frame: pending.append(signum))
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if pending:
        previous[pending[0]](pending[0], None)
