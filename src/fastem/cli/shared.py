"""What the commands of ``fastem`` share: the command line's common vocabulary.

Used by :mod:`fastem.cli` (the parser, ``main`` and the ``study``, ``fit``, ``simulate``
and ``bench`` commands) and :mod:`fastem.cli.inference` (``lrt`` and ``bootstrap``):

- the help's epilog and :class:`Formatter`, and the flags that more than one command takes:
  reading a data file (:func:`add_data_options`), the algorithm, the stopping rule;
- reading and checking the datasets of a file (:func:`read_data`, :func:`check_datasets`);
- the Python API's messages in flags and dataset ids (:func:`cli_terms`, :data:`FIT_FLAGS`);
- :class:`UserError` for a problem with the input, and the notice of compiling kernels;
- the progress bar with Ctrl-C (:func:`show_progress`);
- standard output (:func:`write_stdout`, :class:`PipeClosed`) and output files
  (:func:`commit`, :data:`written_files` for the message of an interrupted command).
"""

from __future__ import annotations

import argparse
import contextlib
import re
import signal
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np

from .. import options as _options
from ..checks import SAMPLE_WEIGHT_TYPES as WEIGHT_TYPES
from .datafiles import NA_VALUES
from .outputs import Outputs, write_all
from .signals import STOPPING, stop

EPILOG = """\
exit status: 0 success; 2 a usage or data error (one line on stderr naming the file, line
and column); 1 an internal error (with its traceback); 130 interrupted (Ctrl-C), 143
SIGTERM, 129 SIGHUP; 141 the reader of standard output closed it (as in 'fastem simulate |
head').

files: every output path (--out, --csv, --json, --raw, --plot) is checked before any work,
and written only at the end, all at once: a failed or stopped command leaves no output
file and no partial file (stderr says what was written if a signal comes during the final
renames). A file is written beside its target and renamed over it, so readers never see
half of it; an existing file keeps its permissions, a new one gets 0666 minus the umask;
a symlink is followed and its target replaced. Two outputs may not name one file, nor an
output the input. A stream (/dev/stdout, /dev/fd/N, a FIFO, a device such as /dev/null)
is written as it is (after >>, it is appended to), before any file is renamed.
"""

FIT_FLAGS = _options.MESSAGE_FLAGS
"""The keyword arguments of fit and select that the commands set, and the flags that stand
for them in messages (the table of :mod:`fastem.options`)."""


class UserError(Exception):
    """A problem with the command's input: reported in one line, exit status 2."""


class PipeClosed(Exception):
    """The reader of standard output went away: stop quietly."""


written_files: list = []
"""Output files written so far, for the message of an interrupted command."""


# ----------------------------------------------------------------------------- output


def write_stdout(text: str) -> None:
    """``text`` to standard output: :class:`PipeClosed` when its reader went away, a
    :class:`UserError` when it cannot be written."""
    try:
        buffer = getattr(sys.stdout, "buffer", None)
        if buffer is None:
            sys.stdout.write(text)
            return
        sys.stdout.flush()
        # Not sys.stdout.write: its buffer's short count, when the reader goes away part
        # way through a large write, would be taken for success.
        write_all(buffer.write, text.encode(sys.stdout.encoding, sys.stdout.errors))
    except BrokenPipeError:
        raise PipeClosed from None
    except OSError as error:
        raise UserError(f"standard output: cannot be written ({error.strerror})") from None


def commit(outputs: Outputs) -> None:
    """Write the output files (:meth:`Outputs.commit`), and add those written, even by a
    commit that fails part way, to :data:`written_files`."""
    try:
        outputs.commit()
    finally:
        written_files.extend(outputs.written)


# ----------------------------------------------------------------------------- messages


def announce_compilation(args, *modules, algorithms=("em",)) -> None:
    """One line on stderr when the kernels a command needs are not compiled yet (unless
    ``--quiet``); ``"fit"`` needs the kernel of each of ``algorithms`` (each its own)."""
    import importlib

    from ..engine.jit import compiled_for_this_cpu

    kernels = {
        "simulate": [("fastem.toolkit.simulation", "_sample")],
        "fit": [("fastem.engine.kernels", f"fit_{algorithm}") for algorithm in algorithms],
        "init": [("fastem.engine.starts", "kmeans_plusplus")],
        "se": [("fastem.engine.information", "observed_information")],
    }
    if args.quiet:
        return
    cold = [
        name
        for module in modules
        for path, name in kernels[module]
        if not compiled_for_this_cpu(getattr(importlib.import_module(path), name))
    ]
    if cold:
        print(
            "fastem: compiling the kernels for this CPU; this happens once per installation "
            "and CPU and can take a minute",
            file=sys.stderr,
            flush=True,
        )


@contextlib.contextmanager
def in_cli_terms(ids, flags=None):
    """The call of fastem's Python API in the ``with`` block, told as the command line says
    things (:func:`cli_terms`): its checks of the options (TypeError, ValueError) as a
    :class:`UserError`, its warnings shown after it."""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
    except (TypeError, ValueError) as error:
        raise UserError(cli_terms(error, ids, flags)) from None
    for warning in caught:
        warnings.showwarning(
            cli_terms(warning.message, ids, flags),
            warning.category,
            warning.filename,
            warning.lineno,
        )


def cli_terms(message: str, ids, flags=None) -> str:
    """The first line of a message of fastem's Python API, as ``fastem fit`` says it: flags
    for keyword arguments (``flags``, ``{keyword: flag}``, default ``fastem fit``'s),
    datasets by their ids (the API counts them from 0)."""
    message = str(message).splitlines()[0]

    def named(match):
        listed = [repr(ids[int(i)]) for i in re.findall(r"\d+", match.group(2))]
        return match.group(1) + ", ".join(listed)

    def candidate(match):
        k, variance = match.groups()
        models = f", {variance} variances" if variance in ("equal", "unequal") else ""
        return f"{k} component(s){models}: "

    message = re.sub(r"(dataset\(s\) |dataset )(\d+(?:, \d+)*)", named, message)
    message = re.sub(r"n_components=(\d+), variance='([^']*)': ", candidate, message)
    message = re.sub(r", or give starting values of shape \([^)]*\)", "", message)
    message = re.sub(r" \(see (?:fastem\.\w+|FitResult\.\w+)\)", "", message)
    message = re.sub(r"[Ss]ee FitResult\.status", "See the status column", message)
    message = re.sub(
        r"(?:FitResult\.settled, n_maxima, p_unseen|SelectionResult\.settled)",
        "the settled column",
        message,
    )
    for name, flag in (FIT_FLAGS if flags is None else flags).items():
        message = as_flag(message, name, flag)
    return message


def as_flag(message: str, name: str, flag: str) -> str:
    """``message`` with the Python name of an option in CLI terms: ``seed must be`` as
    ``--seed must be``, ``init='best'`` as ``--init best``. A quoted value is kept whole,
    whatever it holds (``init='a;b'`` is ``--init 'a;b'``, quoted as a shell needs it)."""
    import shlex

    def quoted(match):
        return f"{flag} {shlex.quote(match.group(1) or match.group(2) or '')}"

    message = re.sub(rf"(?<![\w'-]){re.escape(name)}=(?:'([^']*)'|\"([^\"]*)\")", quoted, message)
    message = re.sub(rf"(?<![\w'-]){re.escape(name)}=([^'\s,;()]*)", rf"{flag} \1", message)
    return re.sub(rf"(?<![\w'-]){re.escape(name)}(?![\w'])", flag, message)


# ----------------------------------------------------------------------------- parser


class Formatter(argparse.HelpFormatter):
    """Every option's default once in its help: the help's own ``(default: ...)`` if it
    states one, else the option's default as it would be typed (``0.4 0.6``; ``off`` for a
    switch). Descriptions and the epilog filled paragraph by paragraph."""

    def _fill_text(self, text, width, indent):
        return "\n\n".join(
            super(Formatter, self)._fill_text(part, width, indent)
            for part in text.strip().split("\n\n")
        )

    def _get_help_string(self, action):
        text = action.help or ""
        if "(default: " in text or action.default is argparse.SUPPRESS or not action.option_strings:
            return text
        if action.nargs == 0 and action.const is True:  # a switch (store_true)
            return f"{text} (default: off)"
        if action.default is None:
            return text  # tests/test_cli.py checks that every such help states its default
        default = action.default
        if isinstance(default, (list, tuple)):
            default = " ".join(str(value) for value in default)
        return f"{text} (default: {str(default).replace('%', '%%')})"


def add_data_options(parser, weights=True):
    """FILE and the flags that say how to read it (:func:`read_data`); with ``weights``,
    the column of point weights and their kind too, else no weights are read."""
    parser.add_argument(
        "file",
        type=Path,
        metavar="FILE",
        help="a CSV file (one column of values, or long with --by) or a .npy file",
    )
    parser.add_argument(
        "--by",
        help="column of dataset ids (long CSV), by name, or by number "
        "from 1 in a file without a header row (default: none, one dataset; "
        "the 'dataset' column of a file from 'fastem simulate')",
    )
    parser.add_argument(
        "--value",
        help="column of values, by name or number as for --by "
        "(default: the only column that no other option names)",
    )
    if weights:
        parser.add_argument(
            "--weights-column",
            help="column of point weights (weighted or "
            "binned data), by name or number as for --by (default: none, "
            "every point weighs 1)",
        )
    header = parser.add_mutually_exclusive_group()
    header.add_argument(
        "--header",
        dest="header",
        action="store_const",
        const=True,
        help="the first row is a header, even if it holds numbers (2020) "
        "(default: the first row is a header unless a cell in it is a number)",
    )
    header.add_argument(
        "--no-header",
        dest="header",
        action="store_const",
        const=False,
        help="the file has no header row: the first row is data, and "
        f"{'--by, --value and --weights-column' if weights else '--by and --value'}"
        " name columns by number, from 1 (default: as for --header)",
    )
    parser.add_argument(
        "--sep",
        type=_separator,
        default=",",
        metavar="CHAR",
        help="the character between cells: , ; tab or | (default: ,)",
    )
    if weights:
        parser.add_argument(
            "--weights-type",
            choices=WEIGHT_TYPES,
            default=WEIGHT_TYPES[0],
            help="frequency: weights count points (binned data), and BIC's n "
            "is their sum; probability: sampling weights, rescaled per dataset "
            "to sum to its points of positive weight, and BIC's n is that number",
        )
    else:
        parser.set_defaults(weights_column=None)
    parser.add_argument(
        "--pool",
        action="store_true",
        help="fit all rows of a CSV as one "
        "dataset even when a column looks like dataset ids (without --by)",
    )
    parser.add_argument(
        "--dropna",
        action="store_true",
        help="leave out rows with a missing "
        "value (a blank line, a value or weight that is empty or one of "
        "--na-values) instead of stopping at the first",
    )
    parser.add_argument(
        "--na-values",
        type=_na_values,
        default=",".join(NA_VALUES),
        metavar="LIST",
        help="comma-separated cells that stand for a missing "
        "value besides an empty one, compared case and all (R's read.csv "
        "na.strings); '' for none",
    )


def figure_file(text):
    """``--plot FILE``: a name whose suffix says the figure's format (``figure_format``)."""
    from ..toolkit.plots import figure_format

    try:
        figure_format(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def _na_values(text):
    """``--na-values``: the cells of a comma-separated list, stripped."""
    return tuple(cell.strip() for cell in text.split(",") if cell.strip())


def _separator(text):
    from .datafiles import separator

    try:
        return separator(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error).removeprefix("--sep ")) from None


def n_init(text: str):
    """``--n-init`` and ``--n-init-data``: a number of restarts, or ``auto``."""
    if text == "auto":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"give a number of restarts or auto, not {text!r}"
        ) from None


def add_fit_flags(parser, names, defaults=None) -> None:
    """The flags of the fit options ``names``, with the table's help (:mod:`fastem.options`);
    ``defaults`` by name, else None, so that a flag not given leaves the option to the
    function (or the design file) it goes to. True-or-false options are switches."""
    defaults = defaults or {}
    for name in names:
        option = _options.BY_NAME[name]
        settings = dict(default=defaults.get(name), help=option.help)
        if option.parse is bool:
            settings["action"] = "store_true"
        elif option.choices is not None:
            settings["choices"] = option.choices
        else:
            settings["type"] = float if option.n_values > 1 else option.parse
        if option.n_values > 1:
            settings.update(nargs=option.n_values, metavar=_metavars(option.help))
        parser.add_argument(option.flag, **settings)


def _metavars(text: str) -> tuple:
    """The names in capitals in a flag's help, one for each of its values."""
    return tuple(dict.fromkeys(re.findall(r"\b[A-Z][A-Z_]+\b", text)))


def add_algorithm_options(parser, **defaults):
    """--algorithm and --stop; ``defaults``: ``default`` (the algorithm's) and ``stop``,
    each fit's by default."""
    algorithm = defaults.get("default", _options.default("algorithm"))
    stop = defaults.get("stop", _options.default("stop"))
    add_fit_flags(parser, ("algorithm", "stop"), dict(algorithm=algorithm, stop=stop))


STOPPING_OPTIONS = tuple(
    option.name for option in _options.DESIGN_OPTIONS if "bootstrap_lrt" in option.toolkit
)
"""The options of :func:`add_stopping_options`: those of a design that ``lrt`` and
``bootstrap`` take too (when a fit stops, and what it may not stop at)."""


def add_stopping_options(parser):
    """--max-iter, --tol and --spurious."""
    add_fit_flags(parser, STOPPING_OPTIONS)


def fit_options(values: dict) -> dict:
    """The options of the design (:data:`fastem.options.DESIGN_OPTIONS`: those of
    :func:`add_stopping_options`, ``--reg-variance``, ``--equal-variance``, ...) that were
    given (``values``: the parsed arguments as a dict), as keyword arguments of the fitting
    functions."""
    return {
        option.name: option.parse(values[option.name])
        for option in _options.DESIGN_OPTIONS
        if values.get(option.name) is not None
    }


# ----------------------------------------------------------------------------- data


def check_weights_type(args) -> None:
    """``--weights-type`` is about the weights of ``--weights-column``: an error without
    them."""
    if args.weights_type != WEIGHT_TYPES[0] and args.weights_column is None:
        raise UserError(
            f"--weights-type {args.weights_type} is for the weights of "
            "--weights-column, which is not given"
        )


def read_data(args):
    """Datasets from FILE: ``(ids, list of 1D arrays, list of weight arrays or None)``."""
    from .datafiles import DataFileError, read_datasets

    try:
        return read_datasets(
            args.file,
            by=args.by,
            value=args.value,
            weights_column=args.weights_column,
            dropna=args.dropna,
            pool=args.pool,
            header=args.header,
            sep=args.sep,
            na_values=args.na_values,
        )
    except DataFileError as error:
        raise UserError(str(error)) from None


def check_datasets(path, ids, data, weights, k_low, k_high):
    """The checks ``fit`` makes of each dataset, made before any fit and naming datasets by
    their ids: a range of components needs enough points for its largest model."""
    from .. import checks as _validate

    counts = [
        int(np.count_nonzero(w > 0)) if weights is not None else len(x)
        for x, w in zip(data, weights if weights is not None else data)
    ]
    for name, count in zip(ids, counts):
        if count == 0 and weights is not None:
            raise UserError(
                f"{path}: the weights of dataset {name!r} sum to 0 (every point has "
                "weight 0); give some of its points a positive weight, or drop it"
            )
        if count < k_high:
            what = "point(s)" if weights is None else "point(s) with a positive weight"
            asked = (
                f"{k_high} component(s)"
                if k_low == k_high
                else f"the {k_high} components of --components {k_low}-{k_high}"
            )
            raise UserError(
                f"{path}: dataset {name!r} has {count} {what}, fewer than "
                f"{asked}; drop it or ask for fewer components"
            )
    try:
        _validate.prepared_batch(data, weights, k_high)
    except ValueError as error:
        raise UserError(f"{path}: {cli_terms(str(error), ids)}") from None


# ----------------------------------------------------------------------------- progress


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
    """Ctrl-C, SIGTERM and SIGHUP (``_signals``) as a flag as well as an exception, for
    loops to check between chunks: the list of the signals received.

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
