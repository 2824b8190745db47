"""The ``fastem`` command for the tests: run in the test process by default, as the
installed program where only a process of its own tells the truth.

Starting Python, numpy and numba and loading the cached kernels costs every subprocess
about as much as a small command's own work, so :func:`fastem_cli` calls
:func:`fastem.cli.main` here, with standard output and error captured, and gives back
what :func:`subprocess.run` would: the exit status, and both streams as text. It runs
the installed command instead when asked (``subprocess=True``: the entry point itself is
under test), when the test gives an environment (``env=``), and for what a process of its
own would see differently: a Dask cluster (``--scheduler``, ``--workers``) and a path
that names one of the process's descriptors (``/dev/stdout``, ``/dev/fd/3``, a symlink to
one). Tests of signals, of a process's exit, its memory, its standard input or a terminal
start the program themselves.

What the command changes in the process is put back after each run: the working
directory, the signal handlers, the warnings' filters, numba's thread count, the
environment, the umask, matplotlib's backend and the figures left open.
"""

from __future__ import annotations

import contextlib
import io
import locale
import os
import signal
import sys
import sysconfig
import warnings
from pathlib import Path
from subprocess import CompletedProcess, run

import numba

import fastem
from fastem.cli import main
from fastem.cli.descriptors import named_descriptor

FASTEM = Path(sys.executable).with_name("fastem")
"""The installed command, run as a user would (``pip install`` puts it beside Python)."""

SOURCE_ROOT = Path(fastem.__file__).resolve().parents[1]
"""The directory of the ``fastem`` package that the tests import (a source tree's
``src``), which the installed command is given too, whatever its working directory."""

CLUSTER_FLAGS = ("--scheduler", "--workers")
"""Flags that start or reach Dask workers: processes, threads and logging of their own."""

STOPPING = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def fastem_cli(*args, cwd=None, env=None, check=False, subprocess=False):
    """``fastem ARGS`` as :func:`subprocess.run` with ``capture_output=True, text=True``
    reports it (``returncode``, ``stdout``, ``stderr``), in this process unless
    ``subprocess`` or ``env`` is given or the arguments need a process of their own; with
    ``check``, fails the test unless it exited with status 0."""
    args = [str(arg) for arg in args]
    if subprocess or env is not None or needs_a_process(args, cwd):
        completed = run_installed(args, cwd, env)
    else:
        completed = run_here(args, cwd)
    if check:
        assert completed.returncode == 0, completed.stderr
    return completed


def needs_a_process(args, cwd=None) -> bool:
    """Whether ``args`` would behave otherwise in the test process: a Dask cluster, or a
    path naming a descriptor (which are the test process's here)."""
    directory = os.fspath(cwd) if cwd is not None else os.getcwd()
    for arg in args:
        flag, _, value = arg.partition("=") if arg.startswith("--") else ("", "", arg)
        if flag in CLUSTER_FLAGS or arg in CLUSTER_FLAGS:
            return True
        if value and named_descriptor(os.path.join(directory, value)) is not None:
            return True
    return False


def run_installed(args, cwd=None, env=None) -> CompletedProcess:
    """The installed command in a process of its own, importing the tests' ``fastem``."""
    return run(
        [str(FASTEM), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=with_this_fastem(os.environ if env is None else env),
        timeout=600,
    )


def with_this_fastem(env) -> dict:
    """``env`` with the tests' ``fastem`` on ``PYTHONPATH``, and that path's relative
    entries made absolute, so that a command run in another directory imports it too."""
    entries = [
        os.path.abspath(entry) for entry in env.get("PYTHONPATH", "").split(os.pathsep) if entry
    ]
    installed = {sysconfig.get_paths()[key] for key in ("purelib", "platlib")}
    if str(SOURCE_ROOT) not in {*installed, *entries}:  # an installed fastem needs no path
        entries.append(str(SOURCE_ROOT))
    return dict(env, PYTHONPATH=os.pathsep.join(entries))


def run_here(args, cwd=None) -> CompletedProcess:
    """``fastem ARGS`` through :func:`fastem.cli.main` in this process, in ``cwd``, its
    standard output and error captured as a pipe would receive them."""
    stdout = _pipe(sys.__stdout__, "strict")
    stderr = _pipe(sys.__stderr__, "backslashreplace")
    with _process_state_kept(cwd):
        streams = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = stdout, stderr
        try:
            returncode = _exit_status(args)
        finally:
            sys.stdout, sys.stderr = streams
    return CompletedProcess([str(FASTEM), *args], returncode, _received(stdout), _received(stderr))


def _exit_status(args) -> int:
    """What the installed script's ``sys.exit(main())`` makes the exit status; an exception
    that ``main`` does not handle fails the test with its traceback."""
    try:
        code = main(args)
    except SystemExit as exit:
        code = exit.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code % 256
    print(code, file=sys.stderr)  # sys.exit("message")
    return 1


def _pipe(model, errors: str) -> io.TextIOWrapper:
    """A text stream over bytes in memory, encoded as the interpreter encodes its own
    standard stream ``model`` when that is a pipe (block-buffered, with a ``buffer``)."""
    encoding = getattr(model, "encoding", None) or locale.getpreferredencoding(False)
    errors = getattr(model, "errors", None) or errors
    return io.TextIOWrapper(io.BytesIO(), encoding=encoding, errors=errors, newline="\n")


def _received(stream: io.TextIOWrapper) -> str:
    """What :func:`subprocess.run` with ``text=True`` reads from ``stream``: decoded in the
    locale's encoding, with universal newlines (a progress bar's ``\\r`` read as ``\\n``)."""
    stream.flush()
    text = stream.buffer.getvalue().decode(locale.getpreferredencoding(False))
    return text.replace("\r\n", "\n").replace("\r", "\n")


@contextlib.contextmanager
def _process_state_kept(cwd):
    """The block run in ``cwd``, and what a command may change in the process put back
    after it, whether it ends or fails."""
    directory = os.getcwd()
    environment = dict(os.environ)
    umask = os.umask(0o022)
    os.umask(umask)
    threads = numba.get_num_threads()
    handlers = {signum: signal.getsignal(signum) for signum in STOPPING}
    backend, figures = _matplotlib_state()
    try:
        with warnings.catch_warnings(), _narrow_terminal():
            if cwd is not None:
                os.chdir(cwd)
            yield
    finally:
        os.chdir(directory)
        if dict(os.environ) != environment:
            os.environ.clear()
            os.environ.update(environment)
        os.umask(umask)
        if numba.get_num_threads() != threads:
            numba.set_num_threads(threads)
        for signum, handler in handlers.items():
            if signal.getsignal(signum) is not handler:
                signal.signal(signum, handler)
        _restore_matplotlib(backend, figures)


@contextlib.contextmanager
def _narrow_terminal():
    """argparse's help as wide as in a process whose output is a pipe: ``COLUMNS`` if the
    environment has it, else 80 columns, not the width of the terminal running the tests
    (``shutil.get_terminal_size`` asks this process's original standard output)."""
    if "COLUMNS" in os.environ:
        yield
        return
    os.environ["COLUMNS"] = "80"
    try:
        yield
    finally:
        os.environ.pop("COLUMNS", None)


def _matplotlib_state():
    """matplotlib's backend and the numbers of the open figures, if it is imported."""
    matplotlib = sys.modules.get("matplotlib")
    if matplotlib is None:
        return None, set()
    pyplot = sys.modules.get("matplotlib.pyplot")
    return matplotlib.get_backend(), set(pyplot.get_fignums()) if pyplot else set()


def _restore_matplotlib(backend, figures) -> None:
    """Close the figures a command left open, and put back the backend it replaced."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        for number in set(pyplot.get_fignums()) - figures:
            pyplot.close(number)
    matplotlib = sys.modules.get("matplotlib")
    if backend is not None and matplotlib.get_backend() != backend:
        matplotlib.use(backend)
