"""The progress bar of a long run, and Ctrl-C, SIGTERM and SIGHUP checked between its
chunks (:func:`show_progress`)."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
import time

from .signals import STOPPING, stop


@contextlib.contextmanager
def show_progress(label: str, quiet: bool, unit: str = "dataset fits"):
    """A ``progress(done, total)`` callback for a long run: it draws a :class:`_ProgressBar`
    (none when ``quiet``), ended by a newline when the run ends, and raises
    KeyboardInterrupt at Ctrl-C, ``_signals.Stopped`` at SIGTERM or SIGHUP
    (:func:`_interrupt_flag`)."""
    bar = None if quiet else _ProgressBar(label, unit=unit)
    with _interrupt_flag() as stopped:

        def progress(done, total):
            if stopped:
                stop(stopped[0])
            if bar is not None:
                bar(done, total)

        yield progress
    if bar is not None:
        bar.close()


@contextlib.contextmanager
def _interrupt_flag():
    """Ctrl-C, SIGTERM and SIGHUP (:mod:`~fastem.cli.signals`) as a flag as well as an
    exception, for loops to check between chunks: the list of the signals received.

    Python drops an exception raised while a destructor runs, and numba's compiler runs
    many (llvmlite's objects), so a Ctrl-C during the first call's compilation would
    otherwise be lost and the study would run to its end.
    """
    stopped = []
    # Only the main thread receives signals; and a process started with a signal ignored
    # (a background job, nohup) or handled by its embedder keeps that.
    ours = {signal.SIGINT: signal.default_int_handler}
    previous = {}

    def handler(signum, frame):
        stopped.append(signum)
        stop(signum)

    if threading.current_thread() is threading.main_thread():
        for signum in STOPPING:
            if signal.getsignal(signum) is ours.get(signum, stop):
                previous[signum] = signal.signal(signum, handler)
    try:
        yield stopped
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


class _ProgressBar:
    """``[#####.....]  45%  18,000/40,000 dataset fits`` on stderr, redrawn in place."""

    def __init__(self, label: str, width: int = 30, unit: str = "dataset fits"):
        self.label, self.width, self.unit = label, width, unit
        self.start = time.perf_counter()

    def __call__(self, done: int, total: int) -> None:
        filled = int(self.width * done / total)
        elapsed = time.perf_counter() - self.start
        print(
            f"\r{self.label} [{'#' * filled}{'.' * (self.width - filled)}] "
            f"{100 * done / total:3.0f}%  {done:,}/{total:,} {self.unit}  {elapsed:5.1f} s",
            end="",
            file=sys.stderr,
            flush=True,
        )

    def close(self) -> None:
        print(file=sys.stderr, flush=True)
