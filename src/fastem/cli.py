"""The ``fastem`` command: Monte Carlo studies of EM, fits of data files, simulation, benchmarks.

Exit status: 0 on success, 2 for a usage or data error (one line on stderr, no
traceback), 1 for an internal error, 130 when interrupted, 141 when the reader of
standard output went away (``fastem simulate | head``). Output files are written all at
once at the end (see ``_output``), so an interrupted or failed command leaves none.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import sys
import threading
import time
import traceback
import warnings
from dataclasses import fields
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from . import __version__
from ._output import OutputError, Outputs
from ._status import Status
from .api import ALGORITHMS, SE_METHODS, STOPPING_RULES
from .design import Design

DEFAULT_DESIGN = Design().to_dict()
"""The study's defaults, whose mixture ``fastem simulate`` shares."""
EXIT_PIPE_CLOSED = 128 + signal.SIGPIPE
WEIGHT_TYPES = ("frequency", "probability")
"""The kinds of point weights ``fastem fit --weights-type`` takes (fit's sample_weight_type)."""

EPILOG = """\
exit status: 0 success; 2 a usage or data error (one line on stderr naming the file, line
and column); 1 an internal error (with its traceback); 130 interrupted (Ctrl-C); 141 the
reader of standard output closed it (as in 'fastem simulate | head').

files: every output path (--out, --csv, --json, --plot) is checked before any work, and
written only at the end, all at once: a failed or interrupted command leaves no output
file and no partial file (stderr says what was written if Ctrl-C comes during the final
renames). A file is written beside its target and renamed over it, so readers never see
half of it; an existing file keeps its permissions, a new one gets 0666 minus the umask;
a symlink is followed and its target replaced; a FIFO or device (/dev/null, /dev/stdout)
is written to directly.
"""


class UserError(Exception):
    """A problem with the command's input: reported in one line, exit status 2."""


class _PipeClosed(Exception):
    """The reader of standard output went away: stop quietly."""


_written: list = []
"""Output files written so far, for the message of an interrupted command."""


def main(argv=None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    _written.clear()
    try:
        with warnings.catch_warnings():
            # fastem's warnings (collapsed components, no convergence) as one plain line
            # each, not Python's two-line format with a file of the library and its source.
            warnings.simplefilter("default")
            warnings.showwarning = _quiet_warning if args.quiet else _one_line_warning
            status = args.run(args)
        _flush_stdout()
        return status
    except _PipeClosed:
        # Nothing more can reach the reader; point stdout at /dev/null so that Python's
        # own flush at exit does not complain either.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_PIPE_CLOSED
    except (UserError, OutputError) as error:
        _fail(str(error))
    except (ValueError, TypeError) as error:  # fastem's checks of the input
        _fail(str(error).splitlines()[0])
    except ImportError as error:
        _fail(str(error))
    except KeyboardInterrupt:
        written = ", ".join(str(p) for p in _written) if _written else "nothing was written"
        print(f"\nfastem: interrupted; {'wrote ' if _written else ''}{written}",
              file=sys.stderr)
        return 130
    except Exception:  # a bug: show it in full
        traceback.print_exc()
        print("fastem: internal error (the traceback above)", file=sys.stderr)
        return 1
    return 2


def _write_stdout(text: str) -> None:
    try:
        sys.stdout.write(text)
    except BrokenPipeError:
        raise _PipeClosed from None
    except OSError as error:
        raise UserError(f"standard output: cannot be written ({error.strerror})") from None


def _flush_stdout() -> None:
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        raise _PipeClosed from None
    except OSError as error:
        raise UserError(f"standard output: cannot be written ({error.strerror})") from None


def _commit(outputs: Outputs) -> None:
    try:
        outputs.commit()
    finally:
        _written.extend(outputs.written)


def _announce_compilation(args, *modules) -> None:
    """One line on stderr when the kernels a command needs are not compiled yet (unless
    ``--quiet``)."""
    import importlib

    from ._jit import compiled_for_this_cpu

    kernels = {"simulate": ("fastem.simulate", "_sample"),
               "fit": ("fastem._kernels", "fit_batch"),
               "init": ("fastem.init._kernels", "kmeans_plusplus"),
               "se": ("fastem._information", "observed_information")}
    if args.quiet:
        return
    cold = [name for name in modules
            if not compiled_for_this_cpu(getattr(importlib.import_module(kernels[name][0]),
                                                 kernels[name][1]))]
    if cold:
        print("fastem: compiling the kernels for this CPU; this happens once per installation "
              "and CPU and can take a minute", file=sys.stderr, flush=True)


def _fail(message: str):
    print(f"fastem: {message}", file=sys.stderr)


def _one_line_warning(message, category, filename, lineno, file=None, line=None):
    print(f"fastem: warning: {str(message).splitlines()[0]}", file=sys.stderr)


def _quiet_warning(message, category, filename, lineno, file=None, line=None):
    pass


# ----------------------------------------------------------------------------- parser


class _Formatter(argparse.HelpFormatter):
    """Every option's default once in its help: the help's own ``(default: ...)`` if it
    states one, else the option's default as it would be typed (``0.4 0.6``; ``off`` for a
    switch). Descriptions and the epilog filled paragraph by paragraph."""

    def _fill_text(self, text, width, indent):
        return "\n\n".join(super(_Formatter, self)._fill_text(part, width, indent)
                           for part in text.strip().split("\n\n"))

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


def _parser():
    parser = argparse.ArgumentParser(
        prog="fastem",
        description="Fit one-dimensional Gaussian mixtures by EM, many datasets at once.",
        epilog=EPILOG, formatter_class=_Formatter,
    )
    parser.add_argument("--version", action="version", version=f"fastem {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    study = commands.add_parser(
        "study", help="Monte Carlo study of EM on a known mixture (the main job)",
        description="Simulate datasets from a known mixture, fit them with several "
        "starting-value strategies, and print a table of convergence, iterations, bias and "
        "RMSE. Without options: the seed notebook's mixture, 40 points, 10,000 datasets.",
        epilog=EPILOG, formatter_class=_Formatter,
    )
    study.add_argument("--design", type=Path, help="TOML or JSON file with any of the options "
                       f"below ({', '.join(Design.options())}); flags win (default: none, "
                       "the defaults below)")
    _add_design_options(study)
    _add_fit_options(study)
    study.add_argument("--scenarios", type=Path, metavar="FILE", help="TOML or JSON file with "
                       "a list 'scenarios' of true mixtures (each a table of weights, means, "
                       "variances and an optional name), studied in place of --weights, "
                       "--means, --variances (default: none)")
    study.add_argument("--csv", help="also write the whole table as CSV (default: none)")
    study.add_argument("--json", help="also write the whole table as JSON, with the fastem "
                       "version and the design (default: none)")
    study.add_argument("--raw", metavar="FILE", help="also write every replication's chosen "
                       "fit, one row per dataset and method, as CSV, or Parquet for a "
                       ".parquet FILE (needs pyarrow; the file's metadata holds the fastem "
                       "version and the design) (default: none)")
    study.add_argument("--plot", metavar="DIR", help="write PNG figures into DIR, created if "
                       "missing (needs matplotlib) (default: none)")
    study.add_argument("--all-columns", action="store_true",
                       help="print every column as numbers: bias, empirical SE and RMSE of "
                       "each parameter, and each measure's Monte Carlo standard error in a "
                       "column of its own")
    study.add_argument("--quiet", action="store_true", help="no progress bar, warnings or "
                       "notices on stderr (errors still print)")
    study.set_defaults(run=_study)

    fit = commands.add_parser(
        "fit", help="fit the datasets of a CSV or .npy file",
        description="Fit a Gaussian mixture to each dataset of FILE and write one row per "
        "dataset. FILE is a CSV with one numeric column, a long CSV (--by, --value), or a .npy "
        "file (1D: one dataset; 2D: one per row).\n\n"
        "Columns: id (the file's, or counted from 1); n (BIC's n: the points, or the sum of "
        "their weights); n_components; variance_model (equal or unequal; '-' for one "
        "component, where the two coincide, mclust's X); n_parameters (free parameters); "
        "weight_k, mean_k, variance_k; with --se, weight_se_k, mean_se_k, variance_se_k; "
        "log_likelihood; bic_smaller_better (-2 log L + "
        "n_parameters log n: smaller is better, scikit-learn's sign; mclust's BIC is its "
        "negative); n_iter; converged; status. With a range of --components, a dataset whose "
        "every candidate is spurious, collapsed or failed has status none_eligible and no "
        "estimates; --all-candidates writes one row per dataset and candidate instead, with "
        "aic_smaller_better, icl_smaller_better, eligible and chosen.",
        epilog=EPILOG, formatter_class=_Formatter,
    )
    _add_data_options(fit)
    fit.add_argument("--components", default="2", help="number of components, or a range such "
                     "as 1-6 to choose it by BIC")
    fit.add_argument("--all-candidates", action="store_true", help="with a range of "
                     "--components, one row per dataset and candidate model (every K), with "
                     "its criteria and whether it was eligible and chosen")
    fit.add_argument("--n-init", type=int, default=5, help="restarts per dataset")
    fit.add_argument("--init", default="kmeans++", help="starting-value strategy")
    fit.add_argument("--seed", type=int, default=0, help="random seed")
    _add_algorithm_options(fit)
    _add_fit_options(fit)
    fit.add_argument("--se", choices=SE_METHODS, help="add the standard errors of the "
                     "estimates (columns weight_se_k, mean_se_k, variance_se_k), from the "
                     "outer product of the scores (score) or the observed information by "
                     "Louis's method (louis), in weights less one, means and variances; NaN "
                     "(empty) for a dataset whose information is singular (default: none)")
    fit.add_argument("--format", choices=("csv", "json"), help="output format (default: from "
                     "the --out extension, else csv)")
    fit.add_argument("--out", help="output file, written atomically (default: stdout)")
    fit.add_argument("--plot", metavar="FILE.png",
                     help="histogram with the fitted density (one dataset only) (default: none)")
    fit.add_argument("--quiet", action="store_true", help="no warnings or notices on stderr "
                     "(errors still print)")
    fit.set_defaults(run=_fit)

    from ._cli_inference import add_commands

    add_commands(commands)

    simulate = commands.add_parser(
        "simulate", help="write simulated datasets in the long CSV format 'fit' reads",
        description="Simulate datasets from a Gaussian mixture and write them as CSV: "
        "dataset,value,component (the dataset's id from 0, a value, the component that drew "
        "it), the format 'fastem fit' reads without options.",
        epilog=EPILOG, formatter_class=_Formatter,
    )
    simulate.add_argument("--weights", type=float, nargs="+", default=DEFAULT_DESIGN["weights"],
                          help="true weights, one per component, summing to 1")
    simulate.add_argument("--means", type=float, nargs="+", default=DEFAULT_DESIGN["means"],
                          help="true means, one per component")
    simulate.add_argument("--variances", type=float, nargs="+",
                          default=DEFAULT_DESIGN["variances"],
                          help="true variances, one per component")
    simulate.add_argument("--n-samples", type=int, default=40, help="points per dataset")
    simulate.add_argument("--replications", type=int, default=10, help="number of datasets")
    simulate.add_argument("--seed", type=int, default=0, help="random seed")
    simulate.add_argument("--out", help="output CSV (default: stdout)")
    simulate.add_argument("--quiet", action="store_true", help="no notices on stderr (errors "
                          "still print)")
    simulate.set_defaults(run=_simulate)

    bench = commands.add_parser(
        "bench", help="quick throughput of fastem, the NumPy reference and scikit-learn",
        description="Fixed-work EM (many datasets; many restarts) timed for fastem, the "
        "batched NumPy reference and scikit-learn (when installed), with their ratios. "
        "Takes well under a minute once fastem's kernels are compiled.",
        formatter_class=_Formatter,
    )
    bench.add_argument("--quiet", action="store_true", help="print the table only")
    bench.set_defaults(run=_bench)
    return parser


def _separator(text):
    from ._io import separator

    try:
        return separator(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error).removeprefix("--sep ")) from None


def _add_data_options(parser, weights=True):
    """FILE and the flags that say how to read it (:func:`_read_data`); with ``weights``,
    the column of point weights and their kind too, else no weights are read."""
    parser.add_argument("file", type=Path, metavar="FILE", help="a CSV file (one column of "
                        "values, or long with --by) or a .npy file")
    parser.add_argument("--by", help="column of dataset ids (long CSV), by name, or by number "
                        "from 1 in a file without a header row (default: none, one dataset; "
                        "the 'dataset' column of a file from 'fastem simulate')")
    parser.add_argument("--value", help="column of values, by name or number as for --by "
                        "(default: the only column that no other option names)")
    if weights:
        parser.add_argument("--weights-column", help="column of point weights (weighted or "
                            "binned data), by name or number as for --by (default: none, "
                            "every point weighs 1)")
    header = parser.add_mutually_exclusive_group()
    header.add_argument("--header", dest="header", action="store_const", const=True,
                        help="the first row is a header, even if it holds numbers (2020) "
                        "(default: the first row is a header unless a cell in it is a number)")
    header.add_argument("--no-header", dest="header", action="store_const", const=False,
                        help="the file has no header row: the first row is data, and "
                        f"{'--by, --value and --weights-column' if weights else '--by and --value'}"
                        " name columns by number, from 1 (default: as for --header)")
    parser.add_argument("--sep", type=_separator, default=",", metavar="CHAR",
                        help="the character between cells: , ; tab or | (default: ,)")
    if weights:
        parser.add_argument("--weights-type", choices=WEIGHT_TYPES, default=WEIGHT_TYPES[0],
                            help="frequency: weights count points (binned data), and BIC's n "
                            "is their sum; probability: sampling weights, rescaled per dataset "
                            "to sum to its points of positive weight, and BIC's n is that number")
    else:
        parser.set_defaults(weights_column=None)
    parser.add_argument("--pool", action="store_true", help="fit all rows of a CSV as one "
                        "dataset even when a column looks like dataset ids (without --by)")
    parser.add_argument("--dropna", action="store_true", help="leave out rows with a missing "
                        "value (a blank line, an empty value or weight) instead of stopping at "
                        "the first")


def _add_algorithm_options(parser, default="em"):
    """--algorithm (``default`` when not given) and --stop."""
    parser.add_argument("--algorithm", choices=ALGORITHMS, default=default,
                        help="plain EM, or SQUAREM's accelerated EM")
    parser.add_argument("--stop", choices=STOPPING_RULES, default="loglik",
                        help="stopping rule: change of the mean log-likelihood per point "
                        "(loglik), relative change (relative, mclust's), Aitken's limit "
                        "(aitken), change of the parameters (parameter, turboEM's); --tol "
                        "defaults to the rule's own: 1e-6, 1e-5, 1e-5, 1e-7")


def _add_design_options(parser):
    """The flags of the Design's options, but those ``fastem fit`` shares
    (:func:`_add_fit_options`); no default, so that a flag not given leaves the design
    file's value."""
    for option in fields(Design):
        kind, text = option.metadata["kind"], option.metadata["help"]
        if text is None:
            continue
        default = option.default
        if isinstance(default, tuple):  # as it would be typed
            default = " ".join(str(value) for value in default)
        elif default is None:
            default = "none"
        parser.add_argument(f"--{option.name.replace('_', '-')}", type=kind,
                            nargs="+" if option.metadata["many"] else None,
                            help=f"{text} (default: {default})")


def _add_fit_options(parser):
    from .api import DEFAULT_REG_VARIANCE

    _add_stopping_options(parser)
    parser.add_argument("--reg-variance", type=float, help="added to each variance, relative "
                        f"to the dataset's (default: {DEFAULT_REG_VARIANCE:g})")
    parser.add_argument("--equal-variance", action="store_true", default=None,
                        help="one variance shared by all components")


def _add_stopping_options(parser):
    """--tol and --max-iter."""
    from .api import DEFAULT_MAX_ITER, DEFAULT_TOL

    parser.add_argument("--tol", type=float, help="the stopping rule's tolerance (default: "
                        f"the rule's own: {DEFAULT_TOL:g} for loglik, 1e-5 for relative and "
                        "aitken, 1e-7 for parameter)")
    parser.add_argument("--max-iter", type=int,
                        help="most EM iterations (SQUAREM: accepted steps) per fit "
                        f"(default: {DEFAULT_MAX_ITER})")


def _fit_options(values: dict) -> dict:
    names = ("tol", "max_iter", "reg_variance", "equal_variance")
    return {name: values[name] for name in names if values.get(name) is not None}


# ----------------------------------------------------------------------------- study


def _study(args) -> int:
    from .study import with_mcse_in_parentheses

    design = _design(args)
    if args.raw is not None and args.raw.lower().endswith(".parquet"):
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise UserError("--raw FILE.parquet needs pyarrow: pip install pyarrow (or write "
                            "CSV: --raw FILE.csv)") from None
    with Outputs(csv=args.csv, json=args.json, raw=args.raw) as outputs:
        if args.plot is not None:
            from .plots import STUDY_FIGURES, _pyplot

            _pyplot()  # fail now, not after the study, if matplotlib is missing
            outputs.add_directory("--plot", args.plot, STUDY_FIGURES)
        _announce_compilation(args, "simulate", "init", "fit")
        with _progress("study", args.quiet) as progress:
            result = design.run(progress=progress, trace=args.plot is not None)
        table = result.table if args.all_columns else with_mcse_in_parentheses(
            result.brief_table())
        provenance = {"fastem": __version__, "design": design.to_dict()}
        if "csv" in outputs:
            outputs["csv"].set(_with_provenance(result.table, provenance, whole=True).to_csv())
        if "json" in outputs:
            outputs["json"].set(json.dumps({**provenance, "table": result.table.to_records()},
                                           indent=1) + "\n")
        if "raw" in outputs:
            outputs["raw"].set(_raw_bytes(result.raw(), args.raw, provenance))
        if args.plot is not None:
            from .plots import study_images

            for name, image in study_images(result, provenance=provenance).items():
                outputs[f"--plot {name}"].set(image)
        _commit(outputs)
    legend = "" if args.all_columns else "Monte Carlo standard errors in parentheses\n"
    _write_stdout(f"{table}\n{legend}\ntiming (varies from run to run; not in --csv or "
                  f"--json):\n{result.brief_timing()}\n")
    if args.plot is not None and not args.quiet:
        figures = ", ".join(str(Path(args.plot) / name) for name in STUDY_FIGURES)
        print(f"figures: {figures}", file=sys.stderr)
    return 0


def _with_provenance(table, provenance, whole):
    """``table`` with columns recording the fastem version and the design, for a CSV file,
    which has no place for metadata: ``fastem`` and ``design`` (the whole design as JSON)
    when ``whole``, else ``fastem`` and the options that the rows do not already say
    (``seed``, ``tol``, ``max_iter``, ``reg_variance``, ``equal_variance``)."""
    from .table import Table

    n = len(table)
    columns = {name: table[name] for name in table.columns}
    columns["fastem"] = [provenance["fastem"]] * n
    design = provenance["design"]
    if whole:
        columns["design"] = [json.dumps(design, separators=(",", ":"))] * n
    else:
        for name in ("seed", "tol", "max_iter", "reg_variance", "equal_variance"):
            columns[name] = [design[name]] * n
    return Table(columns)


def _raw_bytes(raw, path, provenance):
    """The raw table as CSV (with :func:`_with_provenance`'s columns), or as Parquet
    (``path`` ending in .parquet) with ``provenance`` in the file's metadata."""
    if not path.lower().endswith(".parquet"):
        return _with_provenance(raw, provenance, whole=False).to_csv()
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({name: raw[name] for name in raw.columns})
    table = table.replace_schema_metadata({"fastem": json.dumps(provenance)})
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def _design(args) -> Design:
    """The design file's options (if any) over the defaults, and the flags over both.

    A bad value is reported by its flag when a flag gave it, else by the design file."""
    flags = {name: getattr(args, name, None) for name in Design.options()}
    if args.scenarios is not None:
        from .design import read_options

        try:
            scenarios = read_options(args.scenarios).get("scenarios")
        except ValueError as error:
            raise UserError(str(error)) from None
        if not scenarios:
            raise UserError(f"{args.scenarios}: no 'scenarios' list; give one, e.g. "
                            "[[scenarios]] tables in TOML")
        given = [_flag(name) for name in ("weights", "means", "variances") if flags[name]]
        if given:
            raise UserError(f"--scenarios gives the true mixtures; leave out {', '.join(given)}")
        flags["scenarios"] = scenarios
    try:
        if args.design is None:
            return Design().override(**flags)
        return Design.from_file(args.design, **flags)
    except (TypeError, ValueError) as error:
        message = str(error).splitlines()[0]
        about = getattr(error, "options", ())
        if about == ("scenarios",):  # a scenario's values: name the file that gave them
            source = args.scenarios if args.scenarios is not None else args.design
            raise UserError(f"{source}: {message}") from None
        for name in about:
            if flags[name] is not None or args.design is None:
                message = _as_flag(message, name, _flag(name))
        if args.design is not None and any(flags[name] is None for name in about):
            message = f"{args.design}: {message}"
        raise UserError(message) from None


def _flag(name: str) -> str:
    """The flag of a keyword argument or design option: ``n_samples`` is ``--n-samples``."""
    return "--" + name.replace("_", "-")


def _as_flag(message: str, name: str, flag: str) -> str:
    """``message`` with the Python name of an option in CLI terms: ``seed must be`` as
    ``--seed must be``, ``init='best'`` as ``--init best``."""
    message = re.sub(rf"(?<![\w'-]){re.escape(name)}='?([^'\s,;()]*)'?", rf"{flag} \1",
                     message)
    return re.sub(rf"(?<![\w'-]){re.escape(name)}(?![\w'])", flag, message)


@contextlib.contextmanager
def _interrupt_flag():
    """Ctrl-C as a flag as well as a KeyboardInterrupt, for loops to check between chunks.

    Python drops an exception raised while a destructor runs, and numba's compiler runs
    many (llvmlite's objects), so a Ctrl-C during the first call's compilation would
    otherwise be lost and the study would run to its end.
    """
    interrupted = threading.Event()
    # Only the main thread receives signals; and a process started with SIGINT ignored
    # (a background job) or handled by its embedder keeps that.
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        yield interrupted
        return

    def handler(signum, frame):
        interrupted.set()
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield interrupted
    finally:
        signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def _progress(label: str, quiet: bool, unit: str = "dataset fits"):
    """A ``progress(done, total)`` callback for a long run: it draws a :class:`_ProgressBar`
    (none when ``quiet``), ended by a newline when the run ends, and raises
    KeyboardInterrupt at Ctrl-C (:func:`_interrupt_flag`)."""
    bar = None if quiet else _ProgressBar(label, unit=unit)
    with _interrupt_flag() as interrupted:

        def progress(done, total):
            if interrupted.is_set():
                raise KeyboardInterrupt
            if bar is not None:
                bar(done, total)

        yield progress
    if bar is not None:
        bar.close()


class _ProgressBar:
    """``[#####.....]  45%  18,000/40,000 dataset fits`` on stderr, redrawn in place."""

    def __init__(self, label: str, width: int = 30, unit: str = "dataset fits"):
        self.label, self.width, self.unit = label, width, unit
        self.start = time.perf_counter()

    def __call__(self, done: int, total: int) -> None:
        filled = int(self.width * done / total)
        elapsed = time.perf_counter() - self.start
        print(f"\r{self.label} [{'#' * filled}{'.' * (self.width - filled)}] "
              f"{100 * done / total:3.0f}%  {done:,}/{total:,} {self.unit}  {elapsed:5.1f} s",
              end="", file=sys.stderr, flush=True)

    def close(self) -> None:
        print(file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- fit


def _fit(args) -> int:
    k_low, k_high = _components(args.components)
    if args.weights_type != WEIGHT_TYPES[0] and args.weights_column is None:
        raise UserError(f"--weights-type {args.weights_type} is for the weights of "
                        "--weights-column, which is not given")
    if args.all_candidates and k_low == k_high:
        raise UserError(f"--all-candidates lists the candidates of a range of components, as "
                        f"--components 1-{max(k_high, 2)}; --components {args.components} has one")
    with Outputs(out=args.out, plot=args.plot) as outputs:
        ids, data, weights = _read_data(args)
        if args.plot is not None and len(data) != 1:
            raise UserError(f"--plot draws one dataset; {args.file} holds {len(data)}")
        _check_datasets(args.file, ids, data, weights, k_low, k_high)
        options = dict(n_init=args.n_init, init=args.init, random_state=args.seed,
                       algorithm=args.algorithm, stop=args.stop,
                       sample_weight=weights, **_fit_options(vars(args)))
        if weights is not None:
            options["sample_weight_type"] = args.weights_type
        if args.se is not None:
            options["se"] = args.se
        _announce_compilation(args, "init", "fit", *(["se"] if args.se else []))
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                fitted = _fitted(data, k_low, k_high, options)
        except (TypeError, ValueError) as error:  # the checks of fit's options
            raise UserError(_cli_terms(error, ids)) from None
        for warning in caught:  # the API's warnings, in CLI terms
            warnings.showwarning(_cli_terms(warning.message, ids), warning.category,
                                 warning.filename, warning.lineno)
        candidates = _candidates(fitted, k_low, k_high, bool(options.get("equal_variance")),
                                 probability=args.weights_type == "probability")
        if args.all_candidates:
            table = _fit_table(ids, candidates, [(d, c) for d in range(len(ids))
                                                 for c in range(len(candidates.ks))],
                               every_candidate=True)
        else:
            table = _fit_table(ids, candidates, list(enumerate(candidates.best)))
        _warn_none_eligible(ids, candidates, args.components, args.all_candidates)
        out = args.out or ""
        fmt = args.format or ("json" if out.lower().endswith(".json") else "csv")
        text = table.to_json() + "\n" if fmt == "json" else table.to_csv()
        if "out" in outputs:
            outputs["out"].set(text)
        if args.plot is not None:
            from .plots import fit_image

            c = candidates.best[0]
            if c < 0:
                raise UserError(f"--plot: no candidate of --components {args.components} is "
                                "eligible, so there is no fit to draw")
            fit, k = candidates.fits[c], candidates.ks[c]
            drawn = (fit.weights[0, :k], fit.means[0, :k], fit.variances[0, :k])
            outputs["plot"].set(fit_image(
                data[0], drawn, title=f"{args.file.name}: {k} components",
                label=_value_label(args), log_likelihood=float(fit.log_likelihood[0]),
            ))
        _commit(outputs)
    if args.out is None:
        _write_stdout(text)
    return 0


def _value_label(args) -> str:
    """The x-axis label of ``fit --plot``: the value column's name (``--value``, or the
    header of a one-column CSV), else the file's name."""
    import csv

    from ._io import separator

    if args.value and not args.value.isdigit():
        return args.value
    if args.file.suffix.lower() != ".npy" and args.header is not False and not args.value:
        try:
            with open(args.file, encoding="utf-8-sig", newline="") as handle:
                cells = next(csv.reader(handle, delimiter=separator(args.sep)))
            float(cells[0]) if len(cells) == 1 else None
        except ValueError:  # a header cell, not a number
            return cells[0].strip()
        except (OSError, StopIteration, UnicodeDecodeError, csv.Error, IndexError):
            pass
    return args.file.stem


def _fitted(data, k_low, k_high, options):
    """The FitResult of ``k_low`` components, or the SelectionResult of the range."""
    from . import api
    from .select import select

    if k_low == k_high:
        return api.fit(data, k_low, skip_degenerate=True, **options)
    options = dict(options)
    variance = "equal" if options.pop("equal_variance", False) else "unequal"
    return select(data, n_components=range(k_low, k_high + 1), variance=variance, **options)


def _check_datasets(path, ids, data, weights, k_low, k_high):
    """The checks ``fit`` makes of each dataset, made before any fit and naming datasets by
    their ids: a range of components needs enough points for its largest model."""
    from . import _validate

    counts = [int(np.count_nonzero(w > 0)) if weights is not None else len(x)
              for x, w in zip(data, weights if weights is not None else data)]
    for name, count in zip(ids, counts):
        if count == 0 and weights is not None:
            raise UserError(f"{path}: the weights of dataset {name!r} sum to 0 (every point has "
                            "weight 0); give some of its points a positive weight, or drop it")
        if count < k_high:
            what = "point(s)" if weights is None else "point(s) with a positive weight"
            asked = f"{k_high} component(s)" if k_low == k_high else \
                f"the {k_high} components of --components {k_low}-{k_high}"
            raise UserError(f"{path}: dataset {name!r} has {count} {what}, fewer than "
                            f"{asked}; drop it or ask for fewer components")
    try:
        _validate.prepared_batch(data, weights, k_high)
    except ValueError as error:
        raise UserError(f"{path}: {_cli_terms(str(error), ids)}") from None


_FIT_FLAGS = {"n_init": "--n-init", "init": "--init", "random_state": "--seed", "tol": "--tol",
              "max_iter": "--max-iter", "reg_variance": "--reg-variance",
              "sample_weight_type": "--weights-type", "n_components": "--components"}
"""The keyword arguments of fit and select that ``fastem fit`` sets, and their flags."""


def _cli_terms(message: str, ids, flags=None) -> str:
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
    for name, flag in (_FIT_FLAGS if flags is None else flags).items():
        message = _as_flag(message, name, flag)
    return message


NONE_ELIGIBLE = "none_eligible"
"""The status of a dataset for which no candidate of a range of components is eligible."""


def _candidates(fitted, k_low, k_high, equal_variance, probability=False):
    """The candidate models of ``fastem fit``, each with its fit of every dataset, and the
    chosen one per dataset: a FitResult is the one candidate of ``--components K``, always
    chosen; a SelectionResult brings its own choice (-1 where none is eligible). ``n`` is
    BIC's n per dataset: with probability weights, their number, which the rescaled
    weights sum to up to rounding."""
    fits = [fitted] if k_low == k_high else fitted.fits
    n = [_count(round(v) if probability else v) for v in fits[0].n_observations]
    if k_low == k_high:
        n_datasets = len(fitted.log_likelihood)
        return SimpleNamespace(n=n,
            ks=[k_low], models=[_variance_model(k_low, equal_variance)], fits=[fitted],
            n_parameters=[fitted.n_parameters],
            criteria={"bic": fitted.bic()[:, np.newaxis]},
            status=fitted.status[:, np.newaxis],
            eligible=np.ones((n_datasets, 1), dtype=bool),
            best=np.zeros(n_datasets, dtype=int),
        )
    return SimpleNamespace(
        n=n, ks=[k for k, _ in fitted.candidates],
        models=[_variance_model(k, model == "equal") for k, model in fitted.candidates],
        fits=fitted.fits, n_parameters=list(fitted.n_parameters),
        criteria={name: getattr(fitted, name) for name in ("bic", "aic", "icl")},
        status=fitted.status, eligible=fitted.eligible, best=np.asarray(fitted.best),
    )


def _variance_model(k, equal):
    """``equal`` or ``unequal`` variances; ``-`` for one component, where the two coincide
    (mclust's model ``X``)."""
    return "-" if k == 1 else ("equal" if equal else "unequal")


def _fit_table(ids, candidates, pairs, every_candidate=False):
    """The table ``fastem fit`` writes: a row per ``(dataset, candidate)`` pair, the
    candidate -1 standing for none (an explicit status and no estimates)."""
    from .table import Table

    fits, ks = candidates.fits, candidates.ks

    def column(value):
        return [value(d, c) if c >= 0 else None for d, c in pairs]

    width = max((ks[c] for _, c in pairs if c >= 0), default=0)
    columns = {
        "id": [ids[d] for d, _ in pairs],
        "n": [candidates.n[d] for d, _ in pairs],
        "n_components": column(lambda d, c: ks[c]),
        "variance_model": column(lambda d, c: candidates.models[c]),
        "n_parameters": column(lambda d, c: int(candidates.n_parameters[c])),
    }
    for name in ("weights", "means", "variances"):
        for k in range(width):
            columns[f"{name[:-1]}_{k + 1}"] = column(
                lambda d, c, k=k, name=name: float(getattr(fits[c], name)[d, k])
                if k < ks[c] else None)
    if fits[0].standard_errors is not None:
        for name in ("weights", "means", "variances"):
            for k in range(width):
                columns[f"{name[:-1]}_se_{k + 1}"] = column(
                    lambda d, c, k=k, name=name: float(
                        getattr(fits[c].standard_errors, name)[d, k]) if k < ks[c] else None)
    columns["log_likelihood"] = column(lambda d, c: float(fits[c].log_likelihood[d]))
    criteria = candidates.criteria if every_candidate else {"bic": candidates.criteria["bic"]}
    for name, values in criteria.items():
        columns[f"{name}_smaller_better"] = column(lambda d, c, v=values: float(v[d, c]))
    columns["n_iter"] = column(lambda d, c: int(fits[c].n_iter[d]))
    columns["converged"] = column(lambda d, c: bool(fits[c].converged[d]))
    columns["status"] = [Status(int(candidates.status[d, c])).name.lower() if c >= 0
                         else NONE_ELIGIBLE for d, c in pairs]
    if every_candidate:
        columns["eligible"] = [bool(candidates.eligible[d, c]) for d, c in pairs]
        columns["chosen"] = [bool(candidates.best[d] == c) for d, c in pairs]
    return Table(columns)


def _count(value):
    """BIC's n: an int when it counts points (or integer weights), else a float."""
    value = float(value)
    return int(value) if value.is_integer() else value


def _warn_none_eligible(ids, candidates, components, every_candidate):
    none = [repr(ids[d]) for d in np.flatnonzero(candidates.best < 0)]
    if none:
        shown = ", ".join(none[:5]) + (f", ... ({len(none)} in all)" if len(none) > 5 else "")
        rows = "" if every_candidate else (f"; their rows have status {NONE_ELIGIBLE} and no "
                                           "estimates, and --all-candidates lists every "
                                           "candidate")
        warnings.warn(f"dataset(s) {shown}: no candidate of --components {components} is "
                      f"eligible (every fit is spurious, collapsed or failed){rows}",
                      UserWarning, stacklevel=2)


def _components(text: str):
    try:
        if "-" in text:
            low, high = (int(part) for part in text.split("-", 1))
        else:
            low = high = int(text)
    except ValueError:
        raise UserError(f"--components {text!r}: give a number (2) or a range (1-6)") from None
    if not 1 <= low <= high:
        raise UserError(f"--components {text!r}: need 1 <= low <= high")
    return low, high


def _read_data(args):
    """Datasets from FILE: ``(ids, list of 1D arrays, list of weight arrays or None)``."""
    from ._io import DataFileError, read_datasets

    try:
        return read_datasets(args.file, by=args.by, value=args.value,
                             weights_column=args.weights_column, dropna=args.dropna,
                             pool=args.pool, header=args.header, sep=args.sep)
    except DataFileError as error:
        raise UserError(str(error)) from None


# ----------------------------------------------------------------------------- simulate


def _simulate(args) -> int:
    from ._io import SIMULATE_HEADER
    from .simulate import simulate

    if not len(args.weights) == len(args.means) == len(args.variances):
        raise UserError("--weights, --means and --variances need one value per component")
    with Outputs(out=args.out) as outputs:
        _announce_compilation(args, "simulate")
        data, labels = simulate(args.weights, args.means, args.variances, args.n_samples,
                                args.replications, args.seed)
        lines = [",".join(SIMULATE_HEADER)]
        for d in range(data.shape[0]):
            lines.extend(f"{d},{x!r},{k}" for x, k in zip(data[d].tolist(), labels[d].tolist()))
        text = "\n".join(lines) + "\n"
        if "out" in outputs:
            outputs["out"].set(text)
            _commit(outputs)
    if args.out is None:
        _write_stdout(text)
    return 0


# ----------------------------------------------------------------------------- bench


def _bench(args) -> int:
    from .quickbench import run

    print(run(verbose=not args.quiet))
    return 0
