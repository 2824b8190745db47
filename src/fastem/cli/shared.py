"""What the commands of ``fastem`` share when they run: messages, data files, output.

- :class:`UserError` for a problem with the input, and the notice of compiling kernels;
- the Python API's messages in flags and dataset ids (:func:`cli_terms`);
- reading and checking the datasets of a file (:func:`read_data`, :func:`check_datasets`);
- standard output (:func:`write_stdout`, :class:`PipeClosed`) and output files
  (:func:`commit`, :data:`written_files` for the message of an interrupted command).

What their parsers share is in :mod:`fastem.cli.flags` and :mod:`fastem.cli.fit_options`,
the progress bar in :mod:`fastem.cli.progress`.
"""

from __future__ import annotations

import contextlib
import re
import sys
import warnings

import numpy as np

from ..checks import SAMPLE_WEIGHT_TYPES as WEIGHT_TYPES
from .fit_options import FIT_FLAGS
from .outputs import Outputs, write_all


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
    ``--quiet``); ``"fit"`` needs the kernel of each of ``algorithms`` (each its own),
    ``"intervals"`` the kernel of :class:`fastem.Intervals`."""
    import importlib

    from ..engine.jit import compiled_for_this_cpu
    from ..engine.run import ALGORITHMS

    kernels = {
        "simulate": [("fastem.engine.sample", "draw")],
        "fit": [
            ("fastem.engine.kernels", ALGORITHMS[algorithm][0].__name__) for algorithm in algorithms
        ],
        "init": [("fastem.engine.starts", "kmeans_plusplus")],
        "intervals": [("fastem.engine.intervals", "fit_intervals_at")],
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
