"""The ``fastem study`` command: a Monte Carlo study of EM on a known mixture, its table
on stdout and, at the end, its ``--csv``, ``--json``, ``--raw`` and ``--plot`` files.

The design is the defaults, under a ``--design`` file, under the flags (:func:`_design`);
``--raw`` rows go to their file as the study makes them (:class:`_RawWriter`).
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from pathlib import Path

from .. import __version__
from ..toolkit.design import Design
from .cluster import add_cluster_options, cluster_client
from .fit_options import add_design_options, add_fit_options
from .flags import EPILOG, Formatter
from .outputs import Outputs, remove_abandoned
from .progress import show_progress
from .shared import UserError, announce_compilation, as_flag, commit, write_stdout


def add_command(commands) -> None:
    """Add ``study`` to the subcommands of the ``fastem`` parser."""
    study = commands.add_parser(
        "study",
        help="Monte Carlo study of EM on a known mixture (the main job)",
        description="Simulate datasets from a known mixture, fit them with several "
        "starting-value strategies, and print a table of convergence, iterations, bias and "
        "RMSE. Without options: the default mixture 0.4 N(-2.5, 4) + 0.6 N(3.5, 4), 40 points, "
        "10,000 datasets.",
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
    add_design_options(study)
    add_fit_options(study)
    add_cluster_options(study)
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
    _add_checkpoint_flags(study)
    # A grid, its template and the test's options are tables, written in a --design file;
    # no flag sets them.
    study.set_defaults(run=_study, grid=None, template=None, test_options=None)


def _add_checkpoint_flags(study) -> None:
    """``--checkpoint``, ``--resume`` and ``--chunk-size``: long studies kept a chunk at
    a time, and resumed."""
    study.add_argument(
        "--checkpoint",
        metavar="DIR",
        type=Path,
        help="write each finished chunk of datasets into DIR (created if missing) as it "
        "is done, so that a study stopped at any point, even by kill -9, can be resumed; "
        "a DIR holding another run is refused (default: none)",
    )
    study.add_argument(
        "--resume",
        action="store_true",
        help="continue the study in --checkpoint DIR: its chunks are read back, the rest "
        "fitted, and the table and --raw are those of an uninterrupted run, bit for bit; "
        "refused if the design or settings differ (starts the study if DIR has none)",
    )
    study.add_argument(
        "--chunk-size",
        type=int,
        default=None,
        metavar="N",
        help="datasets simulated and fitted at a time (and kept in one checkpoint file); "
        "results do not depend on it (default: 2000)",
    )


# ----------------------------------------------------------------------------- study


def _study(args) -> int:
    """``fastem study``: run the design, print its table, write the files asked for."""
    from ..toolkit.study import blank_missing, with_mcse_in_parentheses

    design = _design(args)
    checkpointing = _checkpointing(args)
    if args.raw is not None and args.raw.lower().endswith(".parquet"):
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise UserError(
                "--raw FILE.parquet needs pyarrow: pip install pyarrow (or write "
                "CSV: --raw FILE.csv)"
            ) from None
    if design.plot_measure is not None and args.plot is None:
        raise UserError("--plot-measure draws a figure; give --plot DIR for it to go into")
    figures = ()
    if args.resume:  # the temporary output files of the run that stopped
        for path in remove_abandoned([args.csv, args.json, args.raw]):
            if not args.quiet:
                print(f"fastem: removed {path}, left by a stopped run", file=sys.stderr)
    with Outputs(csv=args.csv, json=args.json, raw=args.raw) as outputs:
        if args.plot is not None:
            from ..toolkit.plots import STUDY_FIGURES, load_pyplot, measure_figure_name

            load_pyplot()  # fail now, not after the study, if matplotlib is missing
            figures = STUDY_FIGURES
            if design.plot_measure is not None:
                against = design.plot_against or next(iter(design.grid or {}), "n_samples")
                figures += (measure_figure_name(design.plot_measure, against),)
            outputs.add_directory("--plot", args.plot, figures)
        outputs.protect("the --design file", args.design)
        outputs.protect("the --scenarios file", args.scenarios)
        announce_compilation(args, "simulate", "init", "fit", algorithms=design.algorithm)
        provenance = {"fastem": __version__, "design": design.to_dict()}
        with contextlib.ExitStack() as stack:
            client = stack.enter_context(cluster_client(args))
            # The raw rows go to their file as they come, and only the figures need every
            # replication kept: memory stays flat in --replications otherwise.
            raw = (
                stack.enter_context(_RawWriter(outputs["raw"], args.raw, provenance))
                if "raw" in outputs
                else None
            )
            result = _run_design(design, args, raw, checkpointing, client)
        table = (
            blank_missing(result.table)
            if args.all_columns
            else with_mcse_in_parentheses(result.brief_table())
        )
        if "csv" in outputs:
            outputs["csv"].set(_with_provenance(result.table, provenance, whole=True).to_csv())
        if "json" in outputs:
            outputs["json"].set(
                json.dumps({**provenance, "table": result.table.to_records()}, indent=1) + "\n"
            )
        if args.plot is not None:
            from ..toolkit.plots import study_images

            try:
                images = study_images(
                    result, provenance, measure=design.plot_measure, against=design.plot_against
                )
            except ValueError as error:  # a measure this study's table does not have
                raise UserError(f"--plot-measure: {error}") from None
            for name, image in images.items():
                outputs[f"--plot {name}"].set(image)
        commit(outputs)
    legend = "" if args.all_columns else "Monte Carlo standard errors in parentheses\n"
    write_stdout(
        f"{table}\n{legend}\ntiming (varies from run to run; not in --csv or "
        f"--json):\n{blank_missing(result.brief_timing())}\n"
    )
    if args.plot is not None and not args.quiet:
        written = ", ".join(str(Path(args.plot) / name) for name in figures)
        print(f"figures: {written}", file=sys.stderr)
    return 0


def _run_design(design, args, raw, checkpointing, client):
    """The study of ``design``, with a progress bar, its raw rows to ``raw``, its
    chunks kept as ``checkpointing`` says (:func:`_checkpointing`) and fitted on
    ``client``'s cluster (or here, without one); a refusal of its options in the flags'
    terms."""
    from ..toolkit.study_checkpoint import CheckpointError

    with show_progress("study", args.quiet) as progress:
        try:
            return design.run(
                progress=progress,
                trace=args.plot is not None,
                keep_replications=args.plot is not None,
                raw=raw,
                client=client,
                **checkpointing,
            )
        except CheckpointError as error:
            raise UserError(_checkpoint_message(error)) from None
        except ValueError as error:  # the memory checks of study's options
            message = str(error).splitlines()[0]
            for name in ("replications", "n_init", "n_samples"):
                message = as_flag(message, name, _flag(name))
            raise UserError(message) from None


def _checkpointing(args) -> dict:
    """:func:`fastem.study`'s arguments of ``--checkpoint``, ``--resume`` and
    ``--chunk-size`` (those given)."""
    if args.resume and args.checkpoint is None:
        raise UserError("--resume continues a checkpoint; give its directory: --checkpoint DIR")
    if args.chunk_size is not None and args.chunk_size < 1:
        raise UserError(f"--chunk-size must be at least 1, got {args.chunk_size}")
    given = dict(checkpoint=args.checkpoint, resume=args.resume, chunk_size=args.chunk_size)
    return {name: value for name, value in given.items() if value is not None}


def _checkpoint_message(error) -> str:
    """A checkpoint's refusal in the command line's terms: the settings that differ by
    their flags (from the options' table, as ``--seed``; the traces the figures need by
    ``--plot``), ``resume=True`` as ``--resume``."""
    from .. import options

    message = str(error).replace("resume=True, --resume", "--resume")
    message = message.replace("resume=True", "--resume")
    for name in error.options:
        option = options.BY_NAME.get(name)
        flag = option.flag if option is not None and option.flag else _flag(name)
        message = as_flag(message, name, "--plot" if name == "trace" else flag)
    return message


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
