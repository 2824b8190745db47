"""The ``fastem`` command: Monte Carlo studies of EM, fits of data files, simulation, benchmarks.

Exit status: 0 on success, 2 for a usage or data error (one line on stderr, no
traceback), 1 for an internal error, 130, 143 or 129 when stopped by Ctrl-C, SIGTERM or
SIGHUP (see ``_signals``), 141 when the reader of standard output went away (``fastem
simulate | head``). Output files are written all at once at the end (see ``_output``), so
a stopped or failed command leaves none.

This module holds ``main``, the parser, and the ``study``, ``fit``, ``simulate`` and
``bench`` commands; :mod:`fastem.cli.inference` holds ``lrt`` and ``bootstrap``, and
:mod:`fastem.cli.shared` what the commands share (the epilog and help format, the flags
of a data file and of the algorithm, messages in CLI terms, the progress bar, output).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import signal
import sys
import traceback
import warnings
from dataclasses import fields
from pathlib import Path
from types import SimpleNamespace

try:  # while numpy and numba load, Ctrl-C stops the command as at any other time
    import numpy as np

    from .. import __version__
    from ..options import DESIGN_OPTIONS
    from ..status import Status
    from ..toolkit.design import Design
    from . import signals as _signals
    from .outputs import OutputError, Outputs, forget_descriptors, reserve_standard_descriptors
    from .shared import (
        EPILOG,
        STOPPING_OPTIONS,
        Formatter,
        PipeClosed,
        UserError,
        add_algorithm_options,
        add_data_options,
        add_fit_flags,
        add_stopping_options,
        announce_compilation,
        as_flag,
        check_datasets,
        check_weights_type,
        commit,
        figure_file,
        fit_options,
        in_cli_terms,
        n_init,
        read_data,
        show_progress,
        write_stdout,
        written_files,
    )
except KeyboardInterrupt:
    if sys.stderr is not None:
        print("\nfastem: interrupted; nothing was written", file=sys.stderr)
    raise SystemExit(128 + signal.SIGINT) from None

DEFAULT_DESIGN = Design().to_dict()
"""The study's defaults, whose mixture ``fastem simulate`` shares."""
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
    parser = _parser()
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


# ----------------------------------------------------------------------------- parser


def _parser():
    parser = argparse.ArgumentParser(
        prog="fastem",
        description="Fit one-dimensional Gaussian mixtures by EM, many datasets at once.",
        epilog=EPILOG,
        formatter_class=Formatter,
    )
    from ..toolkit.selection import CRITERIA

    parser.add_argument("--version", action="version", version=f"fastem {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    study = commands.add_parser(
        "study",
        help="Monte Carlo study of EM on a known mixture (the main job)",
        description="Simulate datasets from a known mixture, fit them with several "
        "starting-value strategies, and print a table of convergence, iterations, bias and "
        "RMSE. Without options: the seed notebook's mixture, 40 points, 10,000 datasets.",
        epilog=EPILOG,
        formatter_class=Formatter,
    )
    study.add_argument(
        "--design",
        type=Path,
        help="TOML or JSON file with any of the options "
        f"below ({', '.join(Design.options())}); flags win (default: none, "
        "the defaults below)",
    )
    _add_design_options(study)
    _add_fit_options(study)
    study.add_argument(
        "--scenarios",
        type=Path,
        metavar="FILE",
        help="TOML or JSON file with "
        "a list 'scenarios' of true mixtures (each a table of weights, means, "
        "variances and an optional name), studied in place of --weights, "
        "--means, --variances (default: none)",
    )
    study.add_argument("--csv", help="also write the whole table as CSV (default: none)")
    study.add_argument(
        "--json",
        help="also write the whole table as JSON, with the fastem "
        "version and the design (default: none)",
    )
    study.add_argument(
        "--raw",
        metavar="FILE",
        help="also write every replication's chosen "
        "fit, one row per dataset and method, as CSV, or Parquet for a "
        ".parquet FILE (needs pyarrow; the file's metadata holds the fastem "
        "version and the design) (default: none)",
    )
    study.add_argument(
        "--plot",
        metavar="DIR",
        help="write PNG figures into DIR, created if "
        "missing (needs matplotlib); keeps every replication's fits in memory "
        "for them (default: none)",
    )
    study.add_argument(
        "--all-columns",
        action="store_true",
        help="print every column as numbers: bias, empirical SE and RMSE of "
        "each parameter, and each measure's Monte Carlo standard error in a "
        "column of its own",
    )
    study.add_argument(
        "--quiet",
        action="store_true",
        help="no progress bar, warnings or notices on stderr (errors still print)",
    )
    study.set_defaults(run=_study)

    fit = commands.add_parser(
        "fit",
        help="fit the datasets of a CSV or .npy file",
        description="Fit a Gaussian mixture to each dataset of FILE and write one row per "
        "dataset. FILE is a CSV with one numeric column, a long CSV (--by, --value), or a .npy "
        "file (1D: one dataset; 2D: one per row).\n\n"
        "Columns: id (the file's, or counted from 0, as fastem counts datasets everywhere); "
        "n (BIC's n: the points, or the sum of their weights); n_components; variance_model "
        "(equal or unequal; '-' for one component, where the two coincide, mclust's X); "
        "n_parameters (free parameters); "
        "weight_k, mean_k, variance_k; with --se, weight_se_k, mean_se_k, variance_se_k; "
        "log_likelihood; bic_smaller_better (-2 log L + "
        "n_parameters log n: smaller is better, scikit-learn's sign; mclust's BIC is its "
        "negative), or the --criterion's column (aic_smaller_better, -2 log L + 2 "
        "n_parameters; icl_smaller_better, BIC - 2 sum_i log max_k of the posteriors); n_iter; "
        "converged; n_restarts, n_maxima, n_at_best (restarts run, "
        "distinct maxima among them, restarts at the best), p_unseen (the Good-Turing "
        "probability that another restart finds a new maximum), settled (the best reached "
        "twice and p_unseen <= 0.05); status. Estimates are printed to 6 significant digits, "
        "which the default stopping rule (SQUAREM to the parameter rule, 1e-9) warrants. "
        "With a range of --components or several --variance models, each dataset's row is "
        "the candidate the --criterion chooses, and a dataset whose "
        "every candidate is spurious, collapsed or failed has status none_eligible and no "
        "estimates; --all-candidates writes one row per dataset and candidate instead, with "
        "aic_smaller_better, icl_smaller_better, redundant (no better than one "
        "component fewer), eligible and chosen.",
        epilog=EPILOG,
        formatter_class=Formatter,
    )
    add_data_options(fit)
    fit.add_argument(
        "--components",
        default="2",
        help="number of components, or a range such as 1-6 to choose it by --criterion",
    )
    fit.add_argument(
        "--variance",
        type=_variances,
        metavar="MODELS",
        help="variance model: "
        "unequal (a variance per component, mclust's V), equal (one shared, E), "
        "or both, as equal,unequal, to choose between them by --criterion as "
        "mclust does (default: unequal; equal with --equal-variance)",
    )
    fit.add_argument(
        "--criterion",
        choices=CRITERIA,
        default=CRITERIA[0],
        help="the criterion that chooses among the candidate models (a range "
        "of --components, several --variance models), smaller better; it names "
        "the table's column CRITERION_smaller_better",
    )
    fit.add_argument(
        "--all-candidates",
        action="store_true",
        help="with a range of "
        "--components, one row per dataset and candidate model (every K), with "
        "its criteria and whether it was eligible and chosen",
    )
    fit.add_argument(
        "--n-init",
        type=n_init,
        default="auto",
        help="restarts per "
        "dataset, or auto: rounds of restarts until each dataset's search is "
        "settled (columns n_restarts, n_maxima, n_at_best, p_unseen, settled), "
        "at most --max-init",
    )
    fit.add_argument(
        "--max-init", type=int, default=50, help="with --n-init auto: most restarts per dataset"
    )
    fit.add_argument(
        "--unseen-tol",
        type=float,
        default=0.05,
        help="a search is settled "
        "when its best maximum was reached twice and the Good-Turing probability "
        "that another restart finds a new maximum is at most this",
    )
    fit.add_argument(
        "--init",
        type=_init,
        help="starting-value strategy (kmeans++, "
        "random_from_data, kmeans, quantile, random, emem), or a pool of them "
        "with their restarts, as random=10,kmeans++=10 (default: kmeans++ for a "
        "number of restarts; rounds of random_from_data=4,random=3,emem=3 for "
        "auto)",
    )
    fit.add_argument("--seed", type=int, default=0, help="random seed")
    add_algorithm_options(fit)
    # select keeps each candidate's best regular restart: --skip-degenerate is always on.
    _add_fit_options(fit, skip=("skip_degenerate",))
    fit.add_argument(
        "--format",
        choices=("csv", "json"),
        help="output format (default: from the --out extension, else csv)",
    )
    fit.add_argument("--out", help="output file, written atomically (default: stdout)")
    fit.add_argument(
        "--plot",
        metavar="FILE.png",
        type=figure_file,
        help="a row of panels per dataset (the first 8): the histogram with the "
        "fitted density, a spurious or collapsed fit marked in red, and, with "
        "candidate models (a range of --components, several --variance models), "
        "the criterion of each against K, one line per variance model; PNG, SVG "
        "or PDF by the name's suffix (needs matplotlib) (default: none)",
    )
    fit.add_argument(
        "--quiet", action="store_true", help="no warnings or notices on stderr (errors still print)"
    )
    fit.set_defaults(run=_fit)

    from .inference import add_commands
    from .predict import add_command as add_predict

    add_commands(commands)
    add_predict(commands)

    simulate = commands.add_parser(
        "simulate",
        help="write simulated datasets in the long CSV format 'fit' reads",
        description="Simulate datasets from a Gaussian mixture and write them as CSV: "
        "dataset,value,component (the dataset's id from 0, a value, the component that drew "
        "it), the format 'fastem fit' reads without options.",
        epilog=EPILOG,
        formatter_class=Formatter,
    )
    simulate.add_argument(
        "--weights",
        type=float,
        nargs="+",
        default=DEFAULT_DESIGN["weights"],
        help="true weights, one per component, summing to 1",
    )
    simulate.add_argument(
        "--means",
        type=float,
        nargs="+",
        default=DEFAULT_DESIGN["means"],
        help="true means, one per component",
    )
    simulate.add_argument(
        "--variances",
        type=float,
        nargs="+",
        default=DEFAULT_DESIGN["variances"],
        help="true variances, one per component",
    )
    simulate.add_argument("--n-samples", type=int, default=40, help="points per dataset")
    simulate.add_argument("--replications", type=int, default=10, help="number of datasets")
    simulate.add_argument("--seed", type=int, default=0, help="random seed")
    simulate.add_argument("--out", help="output CSV (default: stdout)")
    simulate.add_argument(
        "--quiet", action="store_true", help="no notices on stderr (errors still print)"
    )
    simulate.set_defaults(run=_simulate)

    bench = commands.add_parser(
        "bench",
        help="quick throughput of fastem, the NumPy reference and scikit-learn",
        description="Fixed-work EM (many datasets; many restarts) timed for fastem, the "
        "batched NumPy reference and scikit-learn (when installed), with their ratios. "
        "Takes well under a minute once fastem's kernels are compiled.",
        formatter_class=Formatter,
    )
    bench.add_argument("--quiet", action="store_true", help="print the table only")
    bench.set_defaults(run=_bench)
    return parser


def _add_design_options(parser):
    """The flags of the Design's own options (those of :func:`fastem.fit` are
    :func:`_add_fit_options`'); no default, so that a flag not given leaves the design
    file's value."""
    for option in fields(Design):
        kind, text = option.metadata["kind"], option.metadata["help"]
        if text is None or option.metadata["fit"]:
            continue
        default = option.default
        if isinstance(default, tuple):  # as it would be typed
            default = " ".join(str(value) for value in default)
        elif default is None:
            default = "none"
        parser.add_argument(
            f"--{option.name.replace('_', '-')}",
            type=kind,
            nargs="+" if option.metadata["many"] else None,
            help=f"{text} (default: {default})",
        )


def _add_fit_options(parser, skip=()):
    """The flags of the options of :func:`fastem.fit` that a design may set
    (:data:`fastem.options.DESIGN_OPTIONS`), but those in ``skip``."""
    add_stopping_options(parser)
    names = [option.name for option in DESIGN_OPTIONS if option.name not in STOPPING_OPTIONS]
    add_fit_flags(parser, [name for name in names if name not in skip])


# ----------------------------------------------------------------------------- study


def _study(args) -> int:
    from ..toolkit.study import with_mcse_in_parentheses

    design = _design(args)
    if args.raw is not None and args.raw.lower().endswith(".parquet"):
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise UserError(
                "--raw FILE.parquet needs pyarrow: pip install pyarrow (or write "
                "CSV: --raw FILE.csv)"
            ) from None
    with Outputs(csv=args.csv, json=args.json, raw=args.raw) as outputs:
        if args.plot is not None:
            from ..toolkit.plots import STUDY_FIGURES, _pyplot

            _pyplot()  # fail now, not after the study, if matplotlib is missing
            outputs.add_directory("--plot", args.plot, STUDY_FIGURES)
        outputs.protect("the --design file", args.design)
        outputs.protect("the --scenarios file", args.scenarios)
        announce_compilation(args, "simulate", "init", "fit", algorithms=design.algorithm)
        provenance = {"fastem": __version__, "design": design.to_dict()}
        with contextlib.ExitStack() as stack:
            # The raw rows go to their file as they come, and only the figures need every
            # replication kept: memory stays flat in --replications otherwise.
            raw = (
                stack.enter_context(_RawWriter(outputs["raw"], args.raw, provenance))
                if "raw" in outputs
                else None
            )
            with show_progress("study", args.quiet) as progress:
                try:
                    result = design.run(
                        progress=progress,
                        trace=args.plot is not None,
                        keep_replications=args.plot is not None,
                        raw=raw,
                    )
                except ValueError as error:  # the memory checks of study's options
                    message = str(error).splitlines()[0]
                    for name in ("replications", "n_init", "n_samples"):
                        message = as_flag(message, name, _flag(name))
                    raise UserError(message) from None
        table = result.table if args.all_columns else with_mcse_in_parentheses(result.brief_table())
        if "csv" in outputs:
            outputs["csv"].set(_with_provenance(result.table, provenance, whole=True).to_csv())
        if "json" in outputs:
            outputs["json"].set(
                json.dumps({**provenance, "table": result.table.to_records()}, indent=1) + "\n"
            )
        if args.plot is not None:
            from ..toolkit.plots import study_images

            for name, image in study_images(result, provenance=provenance).items():
                outputs[f"--plot {name}"].set(image)
        commit(outputs)
    legend = "" if args.all_columns else "Monte Carlo standard errors in parentheses\n"
    write_stdout(
        f"{table}\n{legend}\ntiming (varies from run to run; not in --csv or "
        f"--json):\n{result.brief_timing()}\n"
    )
    if args.plot is not None and not args.quiet:
        figures = ", ".join(str(Path(args.plot) / name) for name in STUDY_FIGURES)
        print(f"figures: {figures}", file=sys.stderr)
    return 0


def _with_provenance(table, provenance, whole):
    """``table`` with columns recording the fastem version and the design, for a CSV file,
    which has no place for metadata: ``fastem`` and ``design`` (the whole design as JSON)
    when ``whole``, else ``fastem`` and the options that the rows do not already say
    (``seed``, ``tol``, ``max_iter``, ``reg_variance``, ``equal_variance``)."""
    from ..table import Table

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


class _RawWriter:
    """``study(..., raw=...)``'s receiver for ``--raw``: each piece of rows written to the
    output's temporary file as it comes, as CSV (with :func:`_with_provenance`'s columns,
    the header once), or as a row group of a Parquet file (``path`` ending in .parquet)
    with ``provenance`` in the file's metadata."""

    def __init__(self, output, path, provenance):
        self.output, self.provenance = output, provenance
        self.parquet = path.lower().endswith(".parquet")
        self.handle = self.writer = None
        self.header = True

    def __enter__(self):
        self.handle = _Pieces(self.output)
        return self

    def __call__(self, rows) -> None:
        if not self.parquet:
            text = _with_provenance(rows, self.provenance, whole=False).to_csv()
            self.handle.write((text if self.header else text.split("\n", 1)[1]).encode())
            self.header = False
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.table({name: rows[name] for name in rows.columns})
        table = table.replace_schema_metadata({"fastem": json.dumps(self.provenance)})
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.handle, table.schema)
        self.writer.write_table(table)

    def __exit__(self, *exc):
        if self.writer is not None:
            self.writer.close()
        return False


class _Pieces(io.RawIOBase):
    """A binary file whose writes go to an output's content, piece after piece, for
    writers that want a file (Parquet's)."""

    def __init__(self, output):
        self.output = output

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.output.write(bytes(data))
        return len(data)


def _design(args) -> Design:
    """The design file's options (if any) over the defaults, and the flags over both.

    A bad value is reported by its flag when a flag gave it, else by the design file."""
    flags = {name: getattr(args, name, None) for name in Design.options()}
    if args.scenarios is not None:
        from ..toolkit.design import read_options

        try:
            scenarios = read_options(args.scenarios).get("scenarios")
        except ValueError as error:
            raise UserError(str(error)) from None
        if not scenarios:
            raise UserError(
                f"{args.scenarios}: no 'scenarios' list; give one, e.g. "
                "[[scenarios]] tables in TOML"
            )
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
                message = as_flag(message, name, _flag(name))
        if args.design is not None and any(flags[name] is None for name in about):
            message = f"{args.design}: {message}"
        raise UserError(message) from None


def _flag(name: str) -> str:
    """The flag of a keyword argument or design option: ``n_samples`` is ``--n-samples``."""
    return "--" + name.replace("_", "-")


# ----------------------------------------------------------------------------- fit


def _fit(args) -> int:
    k_low, k_high = _components(args.components)
    models = _variance_models(args)
    check_weights_type(args)
    if args.all_candidates and k_low == k_high and (len(models) == 1 or k_high == 1):
        raise UserError(
            f"--all-candidates lists the candidates of a range of components, as "
            f"--components 1-{max(k_high, 2)}, or of --variance equal,unequal; "
            f"--components {args.components} has one"
        )
    with Outputs(out=args.out, plot=args.plot) as outputs:
        outputs.protect("the data file", args.file)
        if args.plot is not None:
            from ..toolkit.plots import _pyplot

            _pyplot()  # fail now, not after the fits, if matplotlib is missing
        ids, data, weights = read_data(args)
        check_datasets(args.file, ids, data, weights, k_low, k_high)
        options = dict(
            n_init=args.n_init,
            init=args.init,
            random_state=args.seed,
            max_init=args.max_init,
            unseen_tol=args.unseen_tol,
            algorithm=args.algorithm,
            stop=args.stop,
            sample_weight=weights,
            **fit_options(vars(args)),
        )
        options.pop("equal_variance", None)  # the models are _variance_models'
        if weights is not None:
            options["sample_weight_type"] = args.weights_type
        if args.se is not None:
            options["se"] = args.se
        announce_compilation(
            args, "init", "fit", *(["se"] if args.se else []), algorithms=(args.algorithm,)
        )
        with in_cli_terms(ids):
            fitted = _fitted(data, k_low, k_high, models, args.criterion, options)
        candidates = _candidates(
            fitted, k_low, k_high, models, probability=args.weights_type == "probability"
        )
        if args.all_candidates:
            table = _fit_table(
                ids,
                candidates,
                [(d, c) for d in range(len(ids)) for c in range(len(candidates.ks))],
                args.criterion,
                every_candidate=True,
            )
        else:
            table = _fit_table(ids, candidates, list(enumerate(candidates.best)), args.criterion)
        _warn_none_eligible(ids, candidates, args.components, args.all_candidates)
        out = args.out or ""
        fmt = args.format or ("json" if out.lower().endswith(".json") else "csv")
        text = table.to_json() + "\n" if fmt == "json" else table.to_csv()
        if "out" in outputs:
            outputs["out"].set(text)
        if args.plot is not None:
            from ..toolkit.plots import figure_format, fits_image

            outputs["plot"].set(
                fits_image(
                    _plot_panels(ids, data, weights, candidates, args),
                    heading=args.file.name,
                    label=_value_label(args),
                    format=figure_format(args.plot),
                )
            )
        commit(outputs)
    if args.out is None:
        write_stdout(text)
    return 0


def _plot_panels(ids, data, weights, candidates, args):
    """The :class:`fastem.plots.FitPanel` of each dataset for ``fit --plot``: its chosen
    fit, and its candidates by ``--criterion`` when there were several."""
    from ..toolkit.plots import Candidates, FitPanel

    panels = []
    for d in range(len(ids)):
        point_weights = None if weights is None else weights[d]
        c = int(candidates.best[d])
        name = args.file.name if len(ids) == 1 else f"dataset {ids[d]}"
        listed = None
        if len(candidates.ks) > 1:
            listed = Candidates(
                args.criterion,
                candidates.ks,
                candidates.models,
                candidates.criteria[args.criterion][d],
                candidates.eligible[d],
                c,
            )
        if c < 0:
            panels.append(
                FitPanel(data[d], None, np.nan, Status.NON_FINITE, name, listed, point_weights)
            )
            continue
        fit, k = candidates.fits[c], candidates.ks[c]
        model = candidates.models[c]
        panels.append(
            FitPanel(
                data[d],
                (fit.weights[d, :k], fit.means[d, :k], fit.variances[d, :k]),
                float(fit.log_likelihood[d]),
                int(candidates.status[d, c]),
                f"{name}: {k} component{'s' if k > 1 else ''}"
                + ("" if model == "-" else f", {model} variances"),
                listed,
                point_weights,
            )
        )
    return panels


def _value_label(args) -> str:
    """The x-axis label of ``fit --plot``: the value column's name (``--value``, or the
    header of a one-column CSV), else the file's name."""
    import csv

    from .datafiles import separator

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


def _variances(text: str):
    """``--variance``: one variance model or a comma list of them."""
    from ..checks import VARIANCE_MODELS

    models = [part.strip() for part in text.split(",")]
    unknown = [model for model in models if model not in VARIANCE_MODELS]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"{unknown[0]!r} is not a variance model: give equal, unequal or both as "
            "equal,unequal (mclust's E and V)"
        )
    return list(dict.fromkeys(models))


def _variance_models(args):
    """The variance models ``fastem fit`` compares: ``--variance``, else the one of
    ``--equal-variance`` (unequal without it), which is its one-model shorthand."""
    if args.variance is None:
        return ["equal" if args.equal_variance else "unequal"]
    if args.equal_variance and args.variance != ["equal"]:
        raise UserError(
            f"--equal-variance is --variance equal; give one of them, not both "
            f"with --variance {','.join(args.variance)}"
        )
    return args.variance


def _fitted(data, k_low, k_high, models, criterion, options):
    """The FitResult of ``k_low`` components and one variance model, or the
    SelectionResult of the candidates (a range of components, several models)."""
    from .. import api
    from ..toolkit.selection import select

    if k_low == k_high and (len(models) == 1 or k_low == 1):
        return api.fit(
            data, k_low, skip_degenerate=True, equal_variance=models[0] == "equal", **options
        )
    return select(
        data, n_components=range(k_low, k_high + 1), variance=models, criterion=criterion, **options
    )


NONE_ELIGIBLE = "none_eligible"
"""The status of a dataset for which no candidate of a range of components is eligible."""


def _candidates(fitted, k_low, k_high, models, probability=False):
    """The candidate models of ``fastem fit``, each with its fit of every dataset, and the
    chosen one per dataset: a FitResult is the one candidate of ``--components K`` and
    one variance model, always chosen; a SelectionResult brings its own choice (-1 where
    none is eligible). ``n`` is BIC's n per dataset: with probability weights, their
    number, which the rescaled weights sum to up to rounding."""
    from ..toolkit.selection import CRITERIA, SelectionResult

    single = not isinstance(fitted, SelectionResult)
    fits = [fitted] if single else fitted.fits
    n = [_count(round(v) if probability else v) for v in fits[0].n_observations]
    if single:
        n_datasets = len(fitted.log_likelihood)
        return SimpleNamespace(
            n=n,
            ks=[k_low],
            models=[_variance_model(k_low, models[0] == "equal")],
            fits=[fitted],
            n_parameters=[fitted.n_parameters],
            criteria={name: getattr(fitted, name)()[:, np.newaxis] for name in CRITERIA},
            status=fitted.status[:, np.newaxis],
            eligible=np.ones((n_datasets, 1), dtype=bool),
            redundant=np.zeros((n_datasets, 1), dtype=bool),
            best=np.zeros(n_datasets, dtype=int),
        )
    return SimpleNamespace(
        n=n,
        ks=[k for k, _ in fitted.candidates],
        models=[_variance_model(k, model == "equal") for k, model in fitted.candidates],
        fits=fitted.fits,
        n_parameters=list(fitted.n_parameters),
        criteria={name: getattr(fitted, name) for name in ("bic", "aic", "icl")},
        status=fitted.status,
        eligible=fitted.eligible,
        redundant=fitted.redundant,
        best=np.asarray(fitted.best),
    )


def _variance_model(k, equal):
    """``equal`` or ``unequal`` variances; ``-`` for one component, where the two coincide
    (mclust's model ``X``)."""
    return "-" if k == 1 else ("equal" if equal else "unequal")


def _fit_table(ids, candidates, pairs, criterion, every_candidate=False):
    """The table ``fastem fit`` writes: a row per ``(dataset, candidate)`` pair, the
    candidate -1 standing for none (an explicit status and no estimates); the
    ``criterion``'s column only, unless ``every_candidate``."""
    from ..table import Table

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
                lambda d, c, k=k, name=name: (
                    _significant(getattr(fits[c], name)[d, k], ESTIMATE_DIGITS)
                    if k < ks[c]
                    else None
                )
            )
    if fits[0].standard_errors is not None:
        for name in ("weights", "means", "variances"):
            for k in range(width):
                columns[f"{name[:-1]}_se_{k + 1}"] = column(
                    lambda d, c, k=k, name=name: (
                        _significant(getattr(fits[c].standard_errors, name)[d, k], SE_DIGITS)
                        if k < ks[c]
                        else None
                    )
                )
    columns["log_likelihood"] = column(
        lambda d, c: _significant(fits[c].log_likelihood[d], LOG_LIKELIHOOD_DIGITS)
    )
    criteria = (
        candidates.criteria if every_candidate else {criterion: candidates.criteria[criterion]}
    )
    for name, values in criteria.items():
        columns[f"{name}_smaller_better"] = column(
            lambda d, c, v=values: _significant(v[d, c], LOG_LIKELIHOOD_DIGITS)
        )
    columns["n_iter"] = column(lambda d, c: int(fits[c].n_iter[d]))
    columns["converged"] = column(lambda d, c: bool(fits[c].converged[d]))
    for name, kind in (
        ("n_restarts", int),
        ("n_maxima", int),
        ("n_at_best", int),
        ("p_unseen", _probability),
        ("settled", bool),
    ):
        columns[name] = column(lambda d, c, name=name, kind=kind: kind(getattr(fits[c], name)[d]))
    columns["status"] = [
        Status(int(candidates.status[d, c])).name.lower() if c >= 0 else NONE_ELIGIBLE
        for d, c in pairs
    ]
    if every_candidate:
        columns["redundant"] = [bool(candidates.redundant[d, c]) for d, c in pairs]
        columns["eligible"] = [bool(candidates.eligible[d, c]) for d, c in pairs]
        columns["chosen"] = [bool(candidates.best[d] == c) for d, c in pairs]
    return Table(columns)


ESTIMATE_DIGITS = 6
"""Significant digits of the estimates ``fastem fit`` writes: its default stopping rule
(SQUAREM to a parameter change below 1e-9) ends within 1e-6 relative of the maximum on
the real datasets of the tests, so further digits would be noise."""
LOG_LIKELIHOOD_DIGITS = 10
"""Significant digits of log-likelihoods and criteria: a parameter within ``e`` of the
maximum moves the log-likelihood by a term in ``e**2``."""
SE_DIGITS = 4
"""Significant digits of standard errors: an estimate of a spread, not a measurement."""


def _significant(value, digits):
    """``value`` as a float rounded to ``digits`` significant digits (None for NaN)."""
    value = float(value)
    if not np.isfinite(value):
        return None if np.isnan(value) else value
    return float(f"{value:.{digits}g}")


def _probability(value):
    """A probability to four decimals (None for NaN): the Good-Turing estimate is a share
    of restarts, not a measurement."""
    value = float(value)
    return None if np.isnan(value) else round(value, 4)


def _count(value):
    """BIC's n: an int when it counts points (or integer weights), else a float."""
    value = float(value)
    return int(value) if value.is_integer() else value


def _warn_none_eligible(ids, candidates, components, every_candidate):
    none = [repr(ids[d]) for d in np.flatnonzero(candidates.best < 0)]
    if none:
        shown = ", ".join(none[:5]) + (f", ... ({len(none)} in all)" if len(none) > 5 else "")
        rows = (
            ""
            if every_candidate
            else (
                f"; their rows have status {NONE_ELIGIBLE} and no "
                "estimates, and --all-candidates lists every "
                "candidate"
            )
        )
        warnings.warn(
            f"dataset(s) {shown}: no candidate of --components {components} is "
            f"eligible (every fit is spurious, collapsed or failed){rows}",
            UserWarning,
            stacklevel=2,
        )


def _init(text: str):
    """``--init``: a strategy's name, or ``name=restarts,...`` (a pool)."""
    from ..search import parse_init

    try:
        return parse_init(text)
    except (TypeError, ValueError) as error:
        raise argparse.ArgumentTypeError(str(error)) from None


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


# ----------------------------------------------------------------------------- simulate


SIMULATE_CHUNK_POINTS = 2**18
"""Points that ``fastem simulate`` draws and writes at a time: their text (about 25 bytes
a point, and a line object each while it is built) stays in the tens of MiB, so memory
is flat in ``--replications``."""


def _simulate(args) -> int:
    from .. import checks as _validate
    from ..toolkit.simulation import simulate
    from ..toolkit.study import chunk_plan
    from .datafiles import SIMULATE_HEADER

    if not len(args.weights) == len(args.means) == len(args.variances):
        raise UserError("--weights, --means and --variances need one value per component")
    for flag, value in (("--n-samples", args.n_samples), ("--replications", args.replications)):
        if value < 1:
            raise UserError(f"{flag} must be at least 1, got {value}")
    with in_cli_terms([], {"n_samples": "--n-samples"}):
        # A dataset is never split between chunks: its points and their lines (about
        # 130 bytes a point while the chunk's text is built) must fit.
        _validate.check_option_memory(
            "n_samples", args.n_samples, 130.0, "one dataset's points and lines"
        )
    with Outputs(out=args.out) as outputs:
        announce_compilation(args, "simulate")
        write = outputs["out"].write if "out" in outputs else write_stdout
        header = ",".join(SIMULATE_HEADER) + "\n"
        for start, count in chunk_plan(
            args.replications, args.n_samples, max_points=SIMULATE_CHUNK_POINTS
        ):
            data, labels = simulate(
                args.weights,
                args.means,
                args.variances,
                args.n_samples,
                count,
                args.seed,
                dataset_offset=start,
            )
            lines = [header] if start == 0 else []
            for d in range(count):
                lines.extend(
                    f"{start + d},{x!r},{k}\n" for x, k in zip(data[d].tolist(), labels[d].tolist())
                )
            write("".join(lines))
        if "out" in outputs:
            commit(outputs)
    return 0


# ----------------------------------------------------------------------------- bench


def _bench(args) -> int:
    from .quickbench import run

    write_stdout(run(say=None if args.quiet else lambda line: write_stdout(line + "\n")) + "\n")
    return 0
