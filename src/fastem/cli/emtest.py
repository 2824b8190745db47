"""The ``fastem emtest`` command: the EM-test of the order of a normal mixture on the
datasets of a file (:func:`fastem.emtest`), no bootstrap.

It reads its file as ``fastem fit`` does (without point weights), and writes its table to
stdout and, all at once at the end, to ``--csv`` and ``--json``, as ``fastem lrt`` does.
"""

from __future__ import annotations

import numpy as np

from . import shared
from .flags import EPILOG, Formatter, add_data_options
from .outputs import Outputs

COLUMNS = (
    "id",
    "test",
    "statistic",
    "p_value",
    "rejected",
    "penalty_variance",
    "null_log_likelihood",
)
"""The columns of ``fastem emtest``'s table."""
FLAGS = {
    "m0": "--m0",
    "k": "--k",
    "penalty_beta": "--penalty-beta",
    "penalty_variance": "--penalty-variance",
    "n_starts": "--n-starts",
    "random_state": "--seed",
}
"""The flag of each keyword of :func:`fastem.emtest`, for its messages."""


def add_command(commands) -> None:
    """Add ``emtest`` to the subcommands of the ``fastem`` parser."""
    emtest = commands.add_parser(
        "emtest",
        help="test the number of components by the EM-test (no bootstrap)",
        description="For each dataset of FILE (read as 'fastem fit' reads it), test M0 "
        "components against 2 M0 by the EM-test of Chen & Li (2009) and Chen, Li & Fu "
        "(2012), as MixtureInf's emtest.norm: the penalised fit of M0 components, a few "
        "penalised EM iterations of the 2 M0 component alternatives that split each "
        "component, and a p-value from the statistic's chi-square limit with 2 M0 degrees of "
        "freedom.\n\n"
        f"Columns: {', '.join(COLUMNS)}. One row per dataset: id (as 'fastem fit' names "
        "the dataset); test ('1 vs 2'); statistic (2 (penalised log-likelihood of the "
        "alternative - log-likelihood of the null fit)); p_value; rejected (p_value <= "
        "--level); penalty_variance (the alternative's variance penalty); "
        "null_log_likelihood (of the penalised M0 component fit).",
        epilog=EPILOG,
        formatter_class=Formatter,
    )
    add_data_options(emtest, weights=False)
    emtest.add_argument("--m0", type=int, default=1, help="the number of components under the null")
    emtest.add_argument("--k", type=int, default=3, help="EM-test iterations (MixtureInf's k)")
    emtest.add_argument(
        "--penalty-beta",
        type=float,
        default=1.0,
        help="C of the penalty C log(1 - |1 - 2 beta|) on the split proportions",
    )
    emtest.add_argument(
        "--penalty-variance",
        type=float,
        default=None,
        help="the alternative's variance penalty (default: MixtureInf's, 0.25 for M0 = 1)",
    )
    emtest.add_argument(
        "--n-starts", type=int, default=10, help="random starts of each alternative"
    )
    emtest.add_argument(
        "--seed",
        type=int,
        default=0,
        help="random seed of the starts: the same seed, the same results",
    )
    emtest.add_argument(
        "--level",
        type=float,
        default=0.05,
        help="a test rejects M0 when its p-value is at most LEVEL",
    )
    emtest.add_argument("--csv", help="also write the table as CSV, atomically (default: none)")
    emtest.add_argument(
        "--json", help="also write the table as JSON, with the fastem version and the options"
    )
    emtest.add_argument(
        "--quiet", action="store_true", help="no warnings or notices on stderr (errors still print)"
    )
    emtest.set_defaults(run=_emtest, weights_type="frequency")


def _emtest(args) -> int:
    from .. import checks as _validate
    from ..table import Table
    from ..toolkit.emtest import emtest
    from .inference import set_tables

    with Outputs(csv=args.csv, json=args.json) as outputs:
        outputs.protect("the data file", args.file)
        ids, data, _ = shared.read_data(args)
        shared.check_datasets(args.file, ids, data, None, 2 * args.m0, 2 * args.m0)
        options = dict(
            m0=args.m0,
            k=args.k,
            penalty_beta=args.penalty_beta,
            penalty_variance=args.penalty_variance,
            n_starts=args.n_starts,
            random_state=args.seed,
        )
        with shared.in_cli_terms(ids, FLAGS):
            level = _validate.check_level(args.level)
            result = emtest(list(data), **options)
        p_value = np.atleast_1d(result.p_value)
        table = Table(
            {
                "id": list(ids),
                "test": [f"{args.m0} vs {2 * args.m0}"] * len(ids),
                "statistic": np.atleast_1d(result.statistic),
                "p_value": p_value,
                "rejected": p_value <= level,
                "penalty_variance": np.atleast_1d(result.penalty_variance),
                "null_log_likelihood": np.atleast_1d(result.null_log_likelihood),
            }
        )
        set_tables(outputs, table, args, dict(options, level=level))
        shared.commit(outputs)
    shared.write_stdout(
        f"{table}\np-values from the EM-test statistic's chi-square limit with "
        f"{2 * args.m0} degrees of freedom; rejected at level {args.level:g}\n"
    )
    return 0
