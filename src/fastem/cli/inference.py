"""The ``fastem lrt`` and ``fastem bootstrap`` commands: bootstrap inference on the
datasets of a file.

Both read their file as ``fastem fit`` does (the same formats, flags and messages), check
every output path before any work, draw a progress bar on stderr, and write their table
to stdout and, all at once at the end, to ``--csv`` and ``--json``, with the helpers that
every command shares (:mod:`fastem.cli.shared`).
"""

from __future__ import annotations

import json

import numpy as np

from .. import __version__
from ..toolkit.designfile import plain
from . import shared
from .fit_options import FIT_FLAGS, add_algorithm_options, add_stopping_options, fit_options
from .flags import EPILOG, Formatter, add_data_options, figure_file, n_init
from .outputs import Outputs
from .progress import show_progress

ALGORITHM = "squarem"
"""The default ``--algorithm`` of both commands, as of the functions they call: the same
maxima as EM in a third of the passes, which counts when every replicate is refitted."""
PLOT_DATASETS = 4
"""Most datasets that ``fastem lrt --plot`` draws (a row of panels each): the first ones."""

LRT_COLUMNS = (
    "id",
    "test",
    "statistic",
    "p_value",
    "p_value_mcse",
    "rejected",
    "n_negative",
    "n_failed",
    "failed",
    "n_components",
)
"""The columns of ``fastem lrt``'s table."""
BOOTSTRAP_COLUMNS = (
    "id",
    "component",
    "parameter",
    "estimate",
    "se",
    "lower",
    "upper",
    "n_failed",
    "n_spurious",
    "n_ambiguous",
)
"""The columns of ``fastem bootstrap``'s table."""

_COMMON_FLAGS = {
    **{name: flag for name, flag in FIT_FLAGS.items() if name != "n_components"},
    "n_boot": "--n-boot",
    "n_init_data": "--n-init-data",
    "level": "--level",
}
FLAGS = {
    "lrt": {**_COMMON_FLAGS, "max_components": "--max-components"},
    "bootstrap": {
        **_COMMON_FLAGS,
        "n_components": "--n-components",
        "max_components": "--max-components",
    },
}
"""Per command, the keyword arguments of its function that a flag sets, and the flag: how
the function's messages are told on the command line. ``n_components`` is an output
column of ``lrt``, so only ``bootstrap`` names it as a flag."""


def add_commands(commands) -> None:
    """Add ``lrt`` and ``bootstrap`` to the subcommands of the ``fastem`` parser."""
    _add_lrt(commands)
    _add_bootstrap(commands)


def _add_lrt(commands) -> None:
    """The ``lrt`` subcommand."""
    from ..toolkit.lrt import VARIANCES

    lrt = commands.add_parser(
        "lrt",
        help="choose the number of components by bootstrap likelihood-ratio tests",
        description="For each dataset of FILE (read as 'fastem fit' reads it), test K against "
        "K + 1 components for K = 1, 2, ... by a parametric bootstrap likelihood-ratio test "
        "(McLachlan 1987; mclust's mclustBootstrapLRT), and choose the first K not rejected. "
        "Every fit runs from the fit to the data, the K fit split in two and random restarts, "
        "so a bootstrap statistic is negative only where the K + 1 fit from the split ended "
        "at a spurious maximum (left out) and no regular K + 1 fit reached the K fit "
        "(n_negative counts them).\n\n"
        f"Columns: {', '.join(LRT_COLUMNS)}. One row per dataset and test: id (as 'fastem "
        "fit' names the dataset); test ('1 vs 2'); statistic (2 (l_{K+1} - l_K)); p_value "
        "((1 + replicates at least as large) / (valid replicates + 1)) and its Monte Carlo "
        "standard error; rejected (p_value <= --level); n_negative (replicates whose "
        "statistic is below 0); n_failed (replicates whose fits failed, left out); failed "
        "(why a test was not made or has no p-value: no regular fit to the data, the K+1 fit "
        "no better than the K fit, or every replicate failed; empty when it was made, and "
        "then rejected is empty too); n_components (the dataset's chosen K; 0 when a test "
        "could not be made, or the fits to the data failed, in a row with no test).",
        epilog=EPILOG,
        formatter_class=Formatter,
    )
    add_data_options(lrt)
    lrt.add_argument(
        "--max-components",
        type=int,
        default=5,
        help="the most components: tests run up to MAX - 1 against MAX (mclust's maxG is MAX - 1)",
    )
    _add_bootstrap_options(lrt, per="test")
    lrt.add_argument(
        "--variance",
        choices=VARIANCES,
        default=VARIANCES[0],
        help="a variance per component (mclust's model V) or one shared by all (E)",
    )
    lrt.add_argument(
        "--level",
        type=float,
        default=0.05,
        help="a test rejects K components when its p-value is at most LEVEL",
    )
    lrt.add_argument(
        "--no-sequential",
        dest="sequential",
        action="store_false",
        help="run every test of every dataset, instead of stopping at the first "
        "K not rejected; the choice is the same (default: off, stop there)",
    )
    add_algorithm_options(lrt, default=ALGORITHM, stop="loglik")
    add_stopping_options(lrt)
    _add_output_options(lrt)
    lrt.add_argument(
        "--plot",
        metavar="FILE.png",
        type=figure_file,
        help="the bootstrap distribution of "
        "each test's statistic, the observed value marked and the p-value in the "
        f"panel's title; of the first {PLOT_DATASETS} datasets when there are "
        "more; PNG, SVG or PDF by the name's suffix (needs matplotlib) "
        "(default: none)",
    )
    _add_quiet(lrt)
    lrt.set_defaults(run=_lrt)


def _add_bootstrap(commands) -> None:
    """The ``bootstrap`` subcommand."""
    from ..toolkit.replicates import KINDS
    from ..toolkit.selection import CRITERIA

    bootstrap = commands.add_parser(
        "bootstrap",
        help="bootstrap standard errors and intervals of every parameter",
        description="Fit --n-components to each dataset of FILE (read as 'fastem fit' reads "
        "it), refit bootstrap replicates, match their components to the fit's, and write "
        "the standard error and percentile interval of every parameter (mclust's "
        "MclustBootstrap, mixtools' boot.se).\n\n"
        f"Columns: {', '.join(BOOTSTRAP_COLUMNS)}. One row per dataset, component and "
        "parameter (weight, mean, variance): id (as 'fastem fit' names the dataset); "
        "component (from 1, by increasing mean); estimate (the fit to the data); se (the "
        "kept replicates' standard deviation); lower, upper (their percentile interval at "
        "--level); n_failed, n_spurious, n_ambiguous (the dataset's replicates left out: "
        "no finite fit; only spurious or collapsed fits; components that match two "
        "labellings of the fit's about equally well). A warning names the datasets with "
        "more than 5% of their replicates left out.",
        epilog=EPILOG,
        formatter_class=Formatter,
    )
    add_data_options(bootstrap)
    bootstrap.add_argument(
        "--n-components",
        default="2",
        help="components fitted: a number, or a criterion "
        f"({', '.join(CRITERIA)}) that chooses it for each dataset among "
        "1 to --max-components, as 'fastem fit --components 1-MAX' does by BIC",
    )
    bootstrap.add_argument(
        "--max-components", type=int, default=5, help="the most components a criterion may choose"
    )
    _add_bootstrap_options(bootstrap, per="dataset")
    bootstrap.add_argument(
        "--kind",
        choices=KINDS,
        default=KINDS[0],
        help="replicates drawn from the fitted mixture (parametric), "
        "resampled from the data with replacement (nonparametric), or the "
        "data with random Dirichlet weights (weighted, the weighted "
        "likelihood bootstrap); mclust's pb, bs and wlbs",
    )
    bootstrap.add_argument(
        "--level", type=float, default=0.95, help="coverage of the percentile intervals"
    )
    bootstrap.add_argument(
        "--equal-variance",
        action="store_true",
        default=None,
        help="one variance shared by all components",
    )
    add_algorithm_options(bootstrap, default=ALGORITHM, stop="loglik")
    add_stopping_options(bootstrap)
    _add_output_options(bootstrap)
    _add_quiet(bootstrap)
    bootstrap.set_defaults(run=_bootstrap)


def _add_bootstrap_options(parser, per: str) -> None:
    parser.add_argument("--n-boot", type=int, default=999, help=f"bootstrap replicates per {per}")
    parser.add_argument(
        "--n-init",
        type=int,
        default=5,
        help="random restarts of each fit "
        "to a replicate, besides its starts from the fits to the data",
    )
    parser.add_argument(
        "--n-init-data",
        type=n_init,
        default="auto",
        help="restarts of "
        "each fit to the data, or auto: rounds of restarts until its search "
        "is settled",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="random seed of the replicates and the restarts: the same seed gives the same results",
    )


def _add_output_options(parser) -> None:
    parser.add_argument("--csv", help="also write the table as CSV, atomically (default: none)")
    parser.add_argument(
        "--json",
        help="also write the table as JSON, with the fastem "
        "version and the options (default: none)",
    )


def _add_quiet(parser) -> None:
    parser.add_argument(
        "--quiet",
        action="store_true",
        help="no progress bar, warnings or notices on stderr (errors still print)",
    )


# ----------------------------------------------------------------------------- lrt


def _lrt(args) -> int:
    from ..toolkit.lrt import bootstrap_lrt

    shared.check_weights_type(args)
    with Outputs(csv=args.csv, json=args.json, plot=args.plot) as outputs:
        if args.plot is not None:
            from ..toolkit.plots import load_pyplot

            load_pyplot()  # fail now, not after the bootstrap, if matplotlib is missing
        outputs.protect("the data file", args.file)
        ids, data, weights = shared.read_data(args)
        shared.check_datasets(
            args.file, ids, data, weights, args.max_components, args.max_components
        )
        options = dict(
            max_components=args.max_components,
            n_boot=args.n_boot,
            variance=args.variance,
            n_init=args.n_init,
            n_init_data=args.n_init_data,
            random_state=args.seed,
            level=args.level,
            sequential=args.sequential,
            algorithm=args.algorithm,
            stop=args.stop,
            **fit_options(vars(args)),
        )
        result = _run(bootstrap_lrt, data, ids, dict(options, **_weights(weights, args)), args)
        table = _lrt_table(result, ids)
        set_tables(outputs, table, args, options)
        if args.plot is not None:
            from ..toolkit.plots import figure_format, lrt_image

            outputs["plot"].set(
                lrt_image(
                    result,
                    ids,
                    max_datasets=PLOT_DATASETS,
                    title=args.file.name,
                    format=figure_format(args.plot),
                )
            )
        shared.commit(outputs)
    smallest = 1 / (args.n_boot + 1)
    sequence = "up to the first K not rejected" if args.sequential else "every test"
    shared.write_stdout(
        f"{table}\np-values from {args.n_boot} bootstrap replicates per test "
        f"(the smallest possible: {smallest:.2g}), {sequence}; rejected at "
        f"level {args.level:g}; n_components: the first K not rejected\n"
    )
    return 0


def _lrt_table(result, ids):
    """:meth:`LRTResult.table` with datasets named by their ids, each dataset's chosen K,
    and a row of its own (no test) for a dataset none of whose tests could run."""
    from ..table import Table

    tests = result.table()
    chosen = np.atleast_1d(result.n_components)
    rows_of = {}
    for record in tests.to_records():
        rows_of.setdefault(record["dataset"], []).append(record)
    rows = []
    for d, name in enumerate(ids):
        for record in rows_of.get(d, [dict.fromkeys(tests.columns)]):
            if record["p_value"] is None:  # a test not made, or without a p-value
                record = {**record, "rejected": None}
            rows.append({**record, "id": name, "n_components": int(chosen[d])})
    return Table({column: [row[column] for row in rows] for column in LRT_COLUMNS})


# ----------------------------------------------------------------------------- bootstrap


def _bootstrap(args) -> int:
    from ..toolkit.bootstrap import bootstrap

    n_components = _components(args.n_components)
    shared.check_weights_type(args)
    with Outputs(csv=args.csv, json=args.json) as outputs:
        outputs.protect("the data file", args.file)
        ids, data, weights = shared.read_data(args)
        largest = args.max_components if isinstance(n_components, str) else n_components
        shared.check_datasets(args.file, ids, data, weights, largest, largest)
        options = dict(
            n_components=n_components,
            max_components=args.max_components,
            n_boot=args.n_boot,
            kind=args.kind,
            n_init=args.n_init,
            n_init_data=args.n_init_data,
            random_state=args.seed,
            level=args.level,
            algorithm=args.algorithm,
            stop=args.stop,
            **fit_options(vars(args)),
        )
        result = _run(bootstrap, data, ids, dict(options, **_weights(weights, args)), args)
        table = _bootstrap_table(result, ids)
        set_tables(outputs, table, args, options)
        shared.commit(outputs)
    shared.write_stdout(
        f"{table}\nstandard errors and {100 * args.level:g}% percentile "
        f"intervals from {args.n_boot} {args.kind} bootstrap replicates per "
        "dataset; n_failed, n_spurious, n_ambiguous: replicates left out "
        "(no finite fit; only spurious or collapsed fits; matched "
        "ambiguously)\n"
    )
    return 0


def _components(text: str):
    """``--n-components``: a number, or a criterion's name."""
    from ..toolkit.selection import CRITERIA

    if text in CRITERIA:
        return text
    try:
        return int(text)
    except ValueError:
        raise shared.UserError(
            f"--n-components {text!r}: give a number (2) or a criterion ({', '.join(CRITERIA)})"
        ) from None


def _bootstrap_table(result, ids):
    """:meth:`BootstrapResult.table` with datasets named by their ids."""
    from ..table import Table

    table = result.table()
    columns = {"id": [ids[d] for d in table["dataset"]]}
    columns.update({name: table[name] for name in BOOTSTRAP_COLUMNS[1:]})
    return Table(columns)


# ----------------------------------------------------------------------------- shared


def _weights(weights, args) -> dict:
    """The point weights of ``--weights-column`` as keyword arguments (none without it)."""
    if weights is None:
        return {}
    return dict(sample_weight=weights, sample_weight_type=args.weights_type)


def _run(function, data, ids, options, args):
    """``function(data, **options)`` with a progress bar, its messages and warnings told in
    flags and dataset ids."""
    flags = FLAGS[args.command]
    shared.announce_compilation(args, "simulate", "init", "fit", algorithms=(args.algorithm,))
    with shared.in_cli_terms(ids, flags):
        with show_progress(args.command, args.quiet, unit="replicates") as progress:
            result = function(data, progress=progress, **options)
    return result


def set_tables(outputs, table, args, options) -> None:
    """The table as CSV and as JSON (with the fastem version, the command, the file and
    its options), into the output files asked for."""
    if "csv" in outputs:
        outputs["csv"].set(table.to_csv())
    if "json" in outputs:
        if args.weights_column is not None:
            options = dict(
                options, weights_column=args.weights_column, weights_type=args.weights_type
            )
        document = {
            "fastem": __version__,
            "command": args.command,
            "file": str(args.file),
            "options": {name: plain(value) for name, value in options.items()},
            "table": table.to_records(),
        }
        outputs["json"].set(json.dumps(document, indent=1) + "\n")
