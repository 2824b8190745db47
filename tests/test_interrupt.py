"""The kernels' worker thread (engine/interrupt.py): one thread for every call, stopped by
Ctrl-C within an iteration, replaced when an interrupted kernel will not stop, gone before
a fork."""

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numba
import numpy as np
import pytest

from fastem.engine import interrupt as _interrupt
from fastem.engine import jit as _jit


def _worker_thread(interrupted):
    """A kernel that records which thread ran it."""
    _worker_thread.seen.append(threading.get_ident())


_worker_thread.seen = []


def test_every_call_runs_in_the_same_long_lived_worker():
    _worker_thread.seen.clear()
    for _ in range(3):
        _interrupt.run(_worker_thread)
    assert len(set(_worker_thread.seen)) == 1
    assert _worker_thread.seen[0] != threading.get_ident()


def test_the_worker_takes_each_callers_thread_count_in_turn():
    seen = []

    def probe(interrupted):
        seen.append(numba.get_num_threads())

    before = numba.get_num_threads()
    try:
        for n in (1, before, 1):
            numba.set_num_threads(n)
            _interrupt.run(probe)
    finally:
        numba.set_num_threads(before)
    assert seen == [1, before, 1]


def test_a_failing_kernel_raises_in_the_caller_and_the_worker_goes_on():
    def failing(interrupted):
        raise ZeroDivisionError("in the kernel")

    with pytest.raises(ZeroDivisionError, match="in the kernel"):
        _interrupt.run(failing)
    _worker_thread.seen.clear()
    _interrupt.run(_worker_thread)
    assert len(_worker_thread.seen) == 1


def _interrupt_soon():
    """SIGINT to this process in 0.1 s, as Ctrl-C sends it."""
    timer = threading.Timer(0.1, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    return timer


def test_ctrl_c_sets_the_kernels_flag_and_the_worker_serves_the_next_call():
    stopped = []

    def iterations(interrupted):
        deadline = time.monotonic() + 30
        while not interrupted[0] and time.monotonic() < deadline:
            time.sleep(0.001)  # one iteration
        stopped.append(bool(interrupted[0]))

    _interrupt.run(_worker_thread)
    worker = _interrupt._worker
    with pytest.raises(KeyboardInterrupt):
        _interrupt_soon()
        _interrupt.run(iterations)
    assert stopped == [True]
    assert _interrupt._worker is worker


def test_a_kernel_that_outlives_the_grace_period_is_left_to_an_abandoned_worker(monkeypatch):
    monkeypatch.setattr(_interrupt, "GRACE_SECONDS", 0.05)
    release = threading.Event()

    def compiling(interrupted):
        release.wait(30)  # deaf to the flag, as a kernel being compiled is

    _interrupt.run(_worker_thread)
    busy = _interrupt._worker
    try:
        with pytest.raises(KeyboardInterrupt):
            _interrupt_soon()
            _interrupt.run(compiling)
        _worker_thread.seen.clear()
        _interrupt.run(_worker_thread)  # not queued behind the busy worker
        assert _interrupt._worker is not busy
        assert _worker_thread.seen == [_interrupt._worker.thread.ident]
    finally:
        release.set()
    busy.thread.join(30)
    assert not busy.thread.is_alive()


FORK = textwrap.dedent("""
    import os

    import numpy as np

    import fastem

    x = np.r_[np.linspace(-3, -1, 50), np.linspace(1, 3, 50)]
    expected = float(fastem.fit(x, 2).log_likelihood)  # the parent's worker has run kernels
    pid = os.fork()
    if pid == 0:
        os._exit(0 if float(fastem.fit(x, 2).log_likelihood) == expected else 1)
    _, status = os.waitpid(pid, 0)
    print(os.waitstatus_to_exitcode(status), float(fastem.fit(x, 2).log_likelihood) == expected)
""")


def test_a_fork_after_a_fit_leaves_tbb_able_to_stop_and_both_processes_fit():
    # Without the hook that stops the worker before fork(), TBB prints "Unable to join
    # threads to shut down before fork()" and the child's threads may be broken.
    completed = subprocess.run(
        [sys.executable, "-c", FORK], capture_output=True, text=True, timeout=300
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split() == ["0", "True"], completed.stdout


def test_a_small_kernel_runs_in_the_calling_thread_once_it_has_run_on_the_worker():
    def small(interrupted):  # a kernel that no other test runs
        _worker_thread.seen.append(threading.get_ident())

    _worker_thread.seen.clear()
    _interrupt.run(small, work=10.0)  # first run: on the worker, where it compiles
    _interrupt.run(small, work=10.0)
    _interrupt.run(small, work=10.0, variant="float32")  # another compiled variant
    _interrupt.run(small, work=_interrupt.INLINE_WORK * 2)  # long enough to need Ctrl-C
    worker = _interrupt._worker.thread.ident
    assert _worker_thread.seen == [worker, threading.get_ident(), worker, worker]


@_jit.jit
def _mark(i, out, interrupted):
    out[i] = 1.0


@pytest.mark.parametrize("n", [1, 3])
def test_for_each_skips_the_items_of_a_call_interrupted_while_it_compiled(monkeypatch, n):
    """One item runs without the parallel loop; like the loop's items, it is skipped when
    the flag is set before it starts: here by Ctrl-C while its kernel compiled."""
    flag = np.zeros(1, dtype=np.uint8)
    compile_kernel = _jit.by_address

    def compiled_then_interrupted(*arguments):
        found = compile_kernel(*arguments)
        flag[0] = 1
        return found

    monkeypatch.setattr(_jit, "_LOOPS", {})  # the kernel looked up anew
    monkeypatch.setattr(_jit, "by_address", compiled_then_interrupted)
    out = np.zeros(n)
    _jit.for_each(_mark, n, (out,), flag)
    np.testing.assert_array_equal(out, np.zeros(n))
    flag[0] = 0
    _jit.for_each(_mark, n, (out,), flag)  # found, not compiled: runs
    np.testing.assert_array_equal(out, np.ones(n))
