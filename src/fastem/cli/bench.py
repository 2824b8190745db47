"""The ``fastem bench`` command: the quick benchmark of :mod:`fastem.cli.quickbench`."""

from __future__ import annotations

from .flags import Formatter
from .shared import write_stdout


def add_command(commands) -> None:
    """Add ``bench`` to the subcommands of the ``fastem`` parser."""
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


def _bench(args) -> int:
    """``fastem bench``: the table of :func:`fastem.cli.quickbench.run`."""
    from .quickbench import run

    write_stdout(run(say=None if args.quiet else lambda line: write_stdout(line + "\n")) + "\n")
    return 0
