"""The ``fastem simulate`` command: datasets drawn from a Gaussian mixture, written as the
long CSV that ``fastem fit`` reads, chunk after chunk so that memory stays flat."""

from __future__ import annotations

from ..toolkit.design import Design
from .flags import EPILOG, Formatter
from .outputs import Outputs
from .shared import UserError, announce_compilation, commit, in_cli_terms, write_stdout

DEFAULT_DESIGN = Design().to_dict()
"""The study's defaults, whose mixture ``fastem simulate`` shares."""
SIMULATE_CHUNK_POINTS = 2**18
"""Points that ``fastem simulate`` draws and writes at a time: their text (about 25 bytes
a point, and a line object each while it is built) stays in the tens of MiB, so memory
is flat in ``--replications``."""


def add_command(commands) -> None:
    """Add ``simulate`` to the subcommands of the ``fastem`` parser."""
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


def _simulate(args) -> int:
    """``fastem simulate``: the datasets as CSV, chunk after chunk."""
    from .. import checks as _validate
    from ..toolkit.simulation import simulate
    from ..toolkit.study import chunk_plan
    from .csvlayout import SIMULATE_HEADER

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
