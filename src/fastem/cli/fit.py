"""The ``fastem fit`` command: fit each dataset of a file, one model or candidates chosen by
a criterion, and write the table of :mod:`fastem.cli.fit_table` (and ``--plot``)."""

from __future__ import annotations

import argparse
import warnings

import numpy as np

from ..engine.status import Status
from .cluster import add_cluster_options, cluster_client
from .fit_models import on_cluster, selection_of
from .fit_options import add_algorithm_options, add_fit_options, fit_options
from .fit_table import NONE_ELIGIBLE, bic_n, fit_table
from .flags import EPILOG, Formatter, add_data_options, figure_file, n_init
from .intervalfiles import interval_options, plotted, read_interval_data
from .outputs import Outputs
from .shared import (
    UserError,
    announce_compilation,
    check_datasets,
    check_weights_type,
    commit,
    in_cli_terms,
    read_data,
    write_stdout,
)


def add_command(commands) -> None:
    """Add ``fit`` to the subcommands of the ``fastem`` parser."""
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
    _add_interval_options(fit)
    _add_model_options(fit)
    _add_search_options(fit)
    add_algorithm_options(fit)
    # select keeps each candidate's best regular restart: --skip-degenerate is always on.
    add_fit_options(fit, skip=("skip_degenerate",))
    _add_output_options(fit)
    add_cluster_options(fit)
    fit.set_defaults(run=_fit)


def _add_interval_options(fit) -> None:
    """--intervals, --lower and --upper: a file of intervals and counts (binned or censored
    data), fitted by EM for grouped data."""
    fit.add_argument(
        "--intervals",
        action="store_true",
        help="FILE holds intervals, one per row: columns lower, upper and count (named by "
        "--lower, --upper and --weights-column; an end may be -inf or inf, censored), and "
        "--by for dataset ids; each dataset is fitted by the likelihood of its intervals "
        "(fastem.Intervals), by EM, with 10 restarts unless --n-init says otherwise",
    )
    for end, number in (("lower", 1), ("upper", 2)):
        fit.add_argument(
            f"--{end}",
            help=f"with --intervals: the column of {end} ends, by name or number as for --by "
            f"(default: {end}, or column {number} without a header row)",
        )


def _add_model_options(fit) -> None:
    """--components, --variance, --criterion and --all-candidates: the candidate models."""
    from ..toolkit.selection import CRITERIA

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


def _add_search_options(fit) -> None:
    """--n-init, --max-init, --unseen-tol, --init and --seed: the restarts of each fit."""
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


def _add_output_options(fit) -> None:
    """--se, --format, --out, --plot and --quiet: what is written, and where."""
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


# ----------------------------------------------------------------------------- fit


def _fit(args) -> int:
    """``fastem fit``: fit the datasets of FILE, write the table (and the figure)."""
    k_low, k_high = _components(args.components)
    models = _variance_models(args)
    check_weights_type(args)
    if args.all_candidates and k_low == k_high and (len(models) == 1 or k_high == 1):
        raise UserError(
            f"--all-candidates lists the candidates of a range of components, as "
            f"--components 1-{max(k_high, 2)}, or of --variance equal,unequal; "
            f"--components {args.components} has one"
        )
    with cluster_client(args) as client, Outputs(out=args.out, plot=args.plot) as outputs:
        outputs.protect("the data file", args.file)
        if args.plot is not None:
            from ..toolkit.plots import load_pyplot

            load_pyplot()  # fail now, not after the fits, if matplotlib is missing
        if args.intervals:
            ids, data, weights = read_interval_data(args)
        else:
            ids, data, weights = read_data(args)
            check_datasets(args.file, ids, data, weights, k_low, k_high)
        kernels = ["intervals" if args.intervals else "fit", *(["se"] if args.se else [])]
        announce_compilation(args, "init", *kernels, algorithms=(args.algorithm,))
        with in_cli_terms(ids):
            fitting = (data, k_low, k_high, models, args.criterion, _options(args, weights))
            selection = (
                selection_of(*fitting)
                if client is None
                else on_cluster(client, args.intervals, *fitting)
            )
        table = _table(ids, selection, args)
        _warn_none_eligible(ids, selection, args.components, args.all_candidates)
        out = args.out or ""
        fmt = args.format or ("json" if out.lower().endswith(".json") else "csv")
        text = table.to_json() + "\n" if fmt == "json" else table.to_csv()
        if "out" in outputs:
            outputs["out"].set(text)
        if args.plot is not None:
            from ..toolkit.plots import figure_format, fits_image

            outputs["plot"].set(
                fits_image(
                    _plot_panels(ids, *plotted(data, weights), selection, args),
                    heading=args.file.name,
                    label=_value_label(args),
                    format=figure_format(args.plot),
                )
            )
        commit(outputs)
    if args.out is None:
        write_stdout(text)
    return 0


def _options(args, weights) -> dict:
    """The keyword arguments of fit and select that the flags give (the variance models
    apart: :func:`_variance_models`), with the point weights."""
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
    if args.intervals:
        interval_options(args, options)
    if weights is not None:
        options["sample_weight_type"] = args.weights_type
    if args.se is not None:
        options["se"] = args.se
    return options


def _table(ids, selection, args):
    """:func:`fit_table` of the chosen candidates, or of every one (``--all-candidates``)."""
    n = bic_n(selection.fits[0], probability=args.weights_type == "probability")
    if args.all_candidates:
        pairs = [(d, c) for d in range(len(ids)) for c in range(len(selection.candidates))]
        return fit_table(ids, n, selection, pairs, every_candidate=True)
    return fit_table(ids, n, selection, list(enumerate(selection.best)))


def _plot_panels(ids, data, weights, selection, args):
    """The :class:`fastem.plots.FitPanel` of each dataset for ``fit --plot``: its chosen
    fit, and its candidates by ``--criterion`` when there were several."""
    from ..toolkit.plots import Candidates, FitPanel

    ks = [k for k, _ in selection.candidates]
    models = [model for _, model in selection.candidates]
    panels = []
    for d in range(len(ids)):
        point_weights = None if weights is None else weights[d]
        c = int(selection.best[d])
        name = args.file.name if len(ids) == 1 else f"dataset {ids[d]}"
        listed = None
        if len(ks) > 1:
            listed = Candidates(
                args.criterion,
                ks,
                models,
                getattr(selection, args.criterion)[d],
                selection.eligible[d],
                c,
            )
        if c < 0:
            panels.append(
                FitPanel(data[d], None, np.nan, Status.NON_FINITE, name, listed, point_weights)
            )
            continue
        fit, k = selection.fits[c], ks[c]
        model = models[c]
        panels.append(
            FitPanel(
                data[d],
                (fit.weights[d, :k], fit.means[d, :k], fit.variances[d, :k]),
                float(fit.log_likelihood[d]),
                int(selection.status[d, c]),
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


def _warn_none_eligible(ids, selection, components, every_candidate):
    """Warn of the datasets for which no candidate is eligible."""
    none = [repr(ids[d]) for d in np.flatnonzero(np.asarray(selection.best) < 0)]
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
    """``--components``: a number, or a range such as ``1-6``, as ``(low, high)``."""
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
