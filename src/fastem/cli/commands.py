"""The ``fastem`` command: Monte Carlo studies of EM, fits of data files, simulation, benchmarks.

Exit status: 0 on success, 2 for a usage or data error (one line on stderr, no
traceback), 1 for an internal error, 130, 143 or 129 when stopped by Ctrl-C, SIGTERM or
SIGHUP (see :mod:`~fastem.cli.signals`), 141 when the reader of standard output went away
(``fastem simulate | head``). Output files are written all at once at the end (see
:mod:`~fastem.cli.outputs`), so a stopped or failed command leaves none.

This module holds ``main`` and the parser, to which each command adds its own subparser:
:mod:`~fastem.cli.study`, :mod:`~fastem.cli.fit`, :mod:`~fastem.cli.inference` (``lrt``
and ``bootstrap``), :mod:`~fastem.cli.predict`, :mod:`~fastem.cli.simulate`,
:mod:`~fastem.cli.bench` and :mod:`~fastem.cli.precompile` (``compile``). What the
commands share is in :mod:`fastem.cli.shared` (messages in CLI terms, data files, output),
:mod:`fastem.cli.flags` and :mod:`fastem.cli.fit_options` (their flags) and
:mod:`fastem.cli.progress`.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import traceback
import warnings

try:  # while numpy and numba load, Ctrl-C stops the command as at any other time
    from .. import __version__
    from . import bench, emtest, fit, inference, precompile, predict, simulate, study
    from . import signals as _signals
    from .descriptors import forget_descriptors, reserve_standard_descriptors
    from .flags import EPILOG, Formatter
    from .outputs import OutputError
    from .shared import PipeClosed, UserError, written_files
except KeyboardInterrupt:
    if sys.stderr is not None:
        print("\nfastem: interrupted; nothing was written", file=sys.stderr)
    raise SystemExit(128 + signal.SIGINT) from None

EXIT_PIPE_CLOSED = 128 + signal.SIGPIPE


def main(argv=None) -> int:
    reserve_standard_descriptors()
    try:
        if sys.stderr is None:  # started with 2>&-: the messages go nowhere, not to stdout
            sys.stderr = open(os.devnull, "w")
        with _signals.handled():
            try:
                return _main(argv)
            except KeyboardInterrupt as error:  # Ctrl-C, SIGTERM or SIGHUP
                stopped = error
        return _stopped(stopped)  # outside handled(): a second SIGTERM or SIGHUP ends it
    finally:
        forget_descriptors()


def _main(argv) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    written_files.clear()
    try:
        if sys.stdout is None and getattr(args, "out", None) is None:
            raise UserError(
                "standard output is closed (>&-); redirect it (> FILE, or "
                "> /dev/null to discard it)"
                + (" or give --out FILE" if hasattr(args, "out") else "")
            )
        with warnings.catch_warnings():
            # fastem's warnings (collapsed components, no convergence) as one plain line
            # each, not Python's two-line format with a file of the library and its source.
            warnings.simplefilter("default")
            warnings.showwarning = _quiet_warning if args.quiet else _one_line_warning
            status = args.run(args)
        _flush_stdout()
        return status
    except (PipeClosed, BrokenPipeError):  # stdout's reader, or a FIFO's, went away
        # Nothing more can reach the reader; point stdout at /dev/null so that Python's
        # own flush at exit does not complain either.
        _release(sys.stdout)
        return EXIT_PIPE_CLOSED
    except (UserError, OutputError) as error:
        _fail(str(error))
    except (ValueError, TypeError) as error:  # fastem's checks of the input
        _fail(str(error).splitlines()[0])
    except ImportError as error:
        _fail(str(error))
    except Exception:  # a bug: show it in full
        traceback.print_exc()
        print("fastem: internal error (the traceback above)", file=sys.stderr)
        return 1
    return 2


def _stopped(error: KeyboardInterrupt) -> int:
    """Say what was written before the command was stopped; its exit status."""
    written = ", ".join(str(p) for p in written_files) if written_files else "nothing was written"
    _last_words(sys.stdout, "")
    _last_words(
        sys.stderr,
        f"\nfastem: {_signals.name(error)}; {'wrote ' if written_files else ''}{written}\n",
    )
    return _signals.exit_status(error)


def _last_words(stream, text: str) -> None:
    """``text``, and what ``stream`` still holds, written if it can be: after SIGHUP the
    terminal may be gone."""
    try:
        stream.write(text)
        stream.flush()
    except (OSError, ValueError, AttributeError):
        _release(stream)


def _release(stream) -> None:
    """Point a standard stream that cannot be written any more at /dev/null, so that
    Python's own flush at exit does not fail (and print) as well."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, stream.fileno())
        os.close(null)


def _flush_stdout() -> None:
    if sys.stdout is None:
        return
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        raise PipeClosed from None
    except OSError as error:
        raise UserError(f"standard output: cannot be written ({error.strerror})") from None


def _fail(message: str):
    print(f"fastem: {message}", file=sys.stderr)


def _one_line_warning(message, category, filename, lineno, file=None, line=None):
    print(f"fastem: warning: {str(message).splitlines()[0]}", file=sys.stderr)


def _quiet_warning(message, category, filename, lineno, file=None, line=None):
    pass


def build_parser():
    """The ``fastem`` parser: ``--version``, and each command's subparser, in the order
    the help lists them."""
    parser = argparse.ArgumentParser(
        prog="fastem",
        description="Fit one-dimensional Gaussian mixtures by EM, many datasets at once.",
        epilog=EPILOG,
        formatter_class=Formatter,
    )
    parser.add_argument("--version", action="version", version=f"fastem {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    study.add_command(commands)
    fit.add_command(commands)
    inference.add_commands(commands)
    emtest.add_command(commands)
    predict.add_command(commands)
    simulate.add_command(commands)
    bench.add_command(commands)
    precompile.add_command(commands)
    return parser
