"""The ``fastem predict`` command: classify the points of a data file by the mixtures of a
fit that ``fastem fit`` wrote (:func:`fastem.read_fit`).

The data file is read as ``fastem fit`` reads it (the same formats, flags and messages);
each dataset is classified by the fitted mixture of the same id, or by the one mixture of a
fit of one dataset. The table goes to stdout or to ``--out``, written atomically.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import shared
from .flags import EPILOG, Formatter, add_data_options
from .outputs import Outputs

COLUMNS = ("id", "value", "probability_k", "component", "log_density")
"""The columns of ``fastem predict``'s table (``probability_k`` for k = 1, 2, ...)."""


def add_command(commands) -> None:
    """Add ``predict`` to the subcommands of the ``fastem`` parser."""
    predict = commands.add_parser(
        "predict",
        help="classify the points of a file by a fit that 'fastem fit' wrote",
        description="Read the fitted mixtures of FIT (the CSV or JSON table of 'fastem fit', "
        "its --out) and, for every point of FILE (read as 'fastem fit' reads it), write the "
        "posterior probability of each component, the most probable component and the "
        "mixture's log-density, as FitResult.predict_proba, predict and score_samples do "
        "(mclust's predict: z and classification).\n\n"
        f"Columns: {', '.join(COLUMNS)}. One row per point, in the file's order within each "
        "dataset: id (the dataset's, which names its mixture in FIT; a fit of one dataset "
        "classifies every dataset of FILE); value; probability_1, probability_2, ... (empty "
        "beyond the dataset's number of components); component (from 1, numbered as in "
        "FIT's mean_k, by increasing mean); log_density (log of the mixture's density at the "
        "value). A dataset whose row in FIT has no estimates (status none_eligible) gets "
        "empty cells.",
        epilog=EPILOG,
        formatter_class=Formatter,
    )
    predict.add_argument(
        "fit", type=Path, metavar="FIT", help="the table of 'fastem fit' (CSV or JSON)"
    )
    add_data_options(predict, weights=False)
    predict.add_argument(
        "--format",
        choices=("csv", "json"),
        help="output format (default: from the --out extension, else csv)",
    )
    predict.add_argument("--out", help="output file, written atomically (default: stdout)")
    predict.add_argument(
        "--quiet", action="store_true", help="no warnings or notices on stderr (errors still print)"
    )
    predict.set_defaults(run=_predict)


def _predict(args) -> int:
    from ..mixtures import read_fit

    with Outputs(out=args.out) as outputs:
        outputs.protect("the fit file", args.fit)
        outputs.protect("the data file", args.file)
        try:
            mixtures = read_fit(args.fit)
        except ValueError as error:
            raise shared.UserError(str(error)) from None
        ids, data, _ = shared.read_data(args)
        if len(mixtures.ids) == 1:
            chosen = mixtures.take([0] * len(ids))
        else:
            try:
                chosen = mixtures.take([mixtures.index(name) for name in ids])
            except ValueError as error:
                raise shared.UserError(
                    f"{args.fit}: {error}; give the data file the fit "
                    "was made from, or its datasets' ids"
                ) from None
        table = _table(ids, data, chosen)
        out = args.out or ""
        fmt = args.format or ("json" if out.lower().endswith(".json") else "csv")
        text = table.to_json() + "\n" if fmt == "json" else table.to_csv()
        if "out" in outputs:
            outputs["out"].set(text)
        shared.commit(outputs)
    if args.out is None:
        shared.write_stdout(text)
    return 0


def _table(ids, data, mixtures):
    """One row per point of ``data`` (a list of 1D arrays, one per mixture)."""
    from ..table import Table

    probability = mixtures.predict_proba(data)
    component = mixtures.predict(data)
    log_density = mixtures.score_samples(data)
    rows = np.concatenate([np.full(x.size, d) for d, x in enumerate(data)])
    ks = mixtures.n_components[rows]
    columns = {"id": [ids[d] for d in rows], "value": np.concatenate(data)}
    probability = np.concatenate(probability)
    for k in range(int(mixtures.n_components.max(initial=1))):
        columns[f"probability_{k + 1}"] = np.where(k < ks, probability[:, k], np.nan)
    fitted = ks > 0
    columns["component"] = [
        int(c) + 1 if ok else None for c, ok in zip(np.concatenate(component), fitted)
    ]
    columns["log_density"] = np.where(fitted, np.concatenate(log_density), np.nan)
    return Table(columns)
