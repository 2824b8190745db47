"""The ``fastem`` command: Monte Carlo studies of EM, fits of data files, simulation, benchmarks.

Exit status: 0 on success, 2 for a usage or data error (one line on stderr, no
traceback), 1 for an internal error, 130 when interrupted (nothing is written then).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from . import __version__
from ._status import Status

DEFAULT_DESIGN = dict(
    weights=[0.4, 0.6], means=[-2.5, 3.5], variances=[4.0, 4.0], n_samples=[40],
    replications=10_000, init=["kmeans++", "random", "emem"], n_init=5, seed=0,
)
STUDY_COLUMNS = ("n_samples", "init", "n_init", "converged", "degenerate", "iter_median",
                 "iter_p90", "at_best")


class UserError(Exception):
    """A problem with the command's input: reported in one line, exit status 2."""


def main(argv=None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return args.run(args)
    except UserError as error:
        _fail(str(error))
    except (ValueError, TypeError) as error:  # fastem's checks of the input
        _fail(str(error).splitlines()[0])
    except ImportError as error:
        _fail(str(error))
    except KeyboardInterrupt:
        print("\nfastem: interrupted; nothing was written", file=sys.stderr)
        return 130
    except Exception:  # a bug: show it in full
        traceback.print_exc()
        print("fastem: internal error (the traceback above)", file=sys.stderr)
        return 1
    return 2


def _fail(message: str):
    print(f"fastem: {message}", file=sys.stderr)


# ----------------------------------------------------------------------------- parser


def _parser():
    parser = argparse.ArgumentParser(
        prog="fastem",
        description="Fit one-dimensional Gaussian mixtures by EM, many datasets at once.",
    )
    parser.add_argument("--version", action="version", version=f"fastem {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    study = commands.add_parser(
        "study", help="Monte Carlo study of EM on a known mixture (the main job)",
        description="Simulate datasets from a known mixture, fit them with several "
        "starting-value strategies, and print a table of convergence, iterations, bias and "
        "RMSE. Without options: the seed notebook's mixture, 40 points, 10,000 datasets.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    study.add_argument("--design", type=Path, help="TOML or JSON file with any of the options "
                       "below (weights, means, variances, n_samples, replications, init, "
                       "n_init, seed, tol, max_iter, reg_variance, equal_variance); flags win")
    study.add_argument("--weights", type=float, nargs="+", help=f"true weights "
                       f"(default: {DEFAULT_DESIGN['weights']})")
    study.add_argument("--means", type=float, nargs="+",
                       help=f"true means (default: {DEFAULT_DESIGN['means']})")
    study.add_argument("--variances", type=float, nargs="+",
                       help=f"true variances (default: {DEFAULT_DESIGN['variances']})")
    study.add_argument("--n-samples", type=int, nargs="+", help="points per dataset, one design "
                       f"cell each (default: {DEFAULT_DESIGN['n_samples']})")
    study.add_argument("--replications", type=int, help="datasets per design cell "
                       f"(default: {DEFAULT_DESIGN['replications']})")
    study.add_argument("--init", nargs="+", help="starting-value strategies to compare "
                       f"(default: {' '.join(DEFAULT_DESIGN['init'])})")
    study.add_argument("--n-init", type=int,
                       help=f"restarts per dataset (default: {DEFAULT_DESIGN['n_init']})")
    study.add_argument("--seed", type=int, help=f"random seed (default: {DEFAULT_DESIGN['seed']})")
    _add_fit_options(study)
    study.add_argument("--csv", type=Path, help="also write the whole table as CSV")
    study.add_argument("--json", type=Path, help="also write the whole table as JSON")
    study.add_argument("--plot", type=Path, metavar="DIR", help="write PNG figures into DIR "
                       "(needs matplotlib)")
    study.add_argument("--all-columns", action="store_true",
                       help="print every column (bias and RMSE of each parameter, timing)")
    study.add_argument("--quiet", action="store_true", help="no progress bar")
    study.set_defaults(run=_study)

    fit = commands.add_parser(
        "fit", help="fit the datasets of a CSV or .npy file",
        description="Fit a Gaussian mixture to each dataset of FILE and write one row per "
        "dataset: id, weights, means, variances, log-likelihood, BIC, iterations, convergence, "
        "status. FILE is a CSV with one numeric column, a long CSV (--by, --value), or a .npy "
        "file (1D: one dataset; 2D: one per row).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    fit.add_argument("file", type=Path, metavar="FILE")
    fit.add_argument("--by", help="column of dataset ids (long CSV)")
    fit.add_argument("--value", help="column of values (needed when the CSV has several)")
    fit.add_argument("--weights-column", help="column of point weights (weighted or binned data)")
    fit.add_argument("--components", default="2", help="number of components, or a range such "
                     "as 1-6 to choose it by BIC")
    fit.add_argument("--n-init", type=int, default=5, help="restarts per dataset")
    fit.add_argument("--init", default="kmeans++", help="starting-value strategy")
    fit.add_argument("--seed", type=int, default=0, help="random seed")
    _add_fit_options(fit)
    fit.add_argument("--format", choices=("csv", "json"), help="output format (default: from "
                     "the --out extension, else csv)")
    fit.add_argument("--out", type=Path, help="output file, written atomically (default: stdout)")
    fit.add_argument("--plot", type=Path, metavar="FILE.png",
                     help="histogram with the fitted density (one dataset only)")
    fit.set_defaults(run=_fit)

    simulate = commands.add_parser(
        "simulate", help="write simulated datasets in the long CSV format 'fit' reads",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    simulate.add_argument("--weights", type=float, nargs="+", default=DEFAULT_DESIGN["weights"])
    simulate.add_argument("--means", type=float, nargs="+", default=DEFAULT_DESIGN["means"])
    simulate.add_argument("--variances", type=float, nargs="+",
                          default=DEFAULT_DESIGN["variances"])
    simulate.add_argument("--n-samples", type=int, default=40, help="points per dataset")
    simulate.add_argument("--replications", type=int, default=10, help="number of datasets")
    simulate.add_argument("--seed", type=int, default=0, help="random seed")
    simulate.add_argument("--out", type=Path, help="output CSV (default: stdout)")
    simulate.set_defaults(run=_simulate)

    bench = commands.add_parser(
        "bench", help="quick throughput of fastem, the NumPy reference and scikit-learn",
        description="Fixed-work EM (many datasets; many restarts) timed for fastem, the "
        "batched NumPy reference and scikit-learn (when installed), with their ratios. "
        "Takes well under a minute once fastem's kernels are compiled.",
    )
    bench.add_argument("--quiet", action="store_true", help="print the table only")
    bench.set_defaults(run=_bench)
    return parser


def _add_fit_options(parser):
    from .api import DEFAULT_MAX_ITER, DEFAULT_REG_VARIANCE, DEFAULT_TOL

    parser.add_argument("--tol", type=float, help="stopping tolerance on the mean log-likelihood"
                        f" per point (default: {DEFAULT_TOL:g})")
    parser.add_argument("--max-iter", type=int,
                        help=f"most EM iterations per fit (default: {DEFAULT_MAX_ITER})")
    parser.add_argument("--reg-variance", type=float, help="added to each variance, relative "
                        f"to the dataset's (default: {DEFAULT_REG_VARIANCE:g})")
    parser.add_argument("--equal-variance", action="store_true", default=None,
                        help="one variance shared by all components")


def _fit_options(values: dict) -> dict:
    names = ("tol", "max_iter", "reg_variance", "equal_variance")
    return {name: values[name] for name in names if values.get(name) is not None}


# ----------------------------------------------------------------------------- study


def _study(args) -> int:
    from .study import study

    design = dict(DEFAULT_DESIGN)
    if args.design is not None:
        design.update(_read_design(args.design))
    explicit = {k: v for k, v in vars(args).items() if v is not None}
    for name in ("weights", "means", "variances", "n_samples", "replications", "init",
                 "n_init", "seed", "tol", "max_iter", "reg_variance", "equal_variance"):
        if name in explicit:
            design[name] = explicit[name]
    for name in ("weights", "means", "variances"):
        if len(design[name]) != len(design["means"]):
            raise UserError(
                f"--weights, --means and --variances need one value per component; got "
                f"{len(design['weights'])}, {len(design['means'])} and "
                f"{len(design['variances'])}"
            )
    for path in (args.csv, args.json):
        _check_writable(path)
    if args.plot is not None:
        from .plots import _pyplot

        _pyplot()  # fail now, not after the study, if matplotlib is missing

    bar = None if args.quiet else _ProgressBar("study")
    with _interrupt_flag() as interrupted:

        def progress(done, total):
            if interrupted.is_set():
                raise KeyboardInterrupt
            if bar is not None:
                bar(done, total)

        result = study(
            design["weights"], design["means"], design["variances"],
            n_samples=design["n_samples"], replications=design["replications"],
            init=design["init"], n_init=design["n_init"], random_state=design["seed"],
            progress=progress, **_fit_options(design),
        )
    if bar is not None:
        bar.close()
    table = result.table if args.all_columns else result.table.select(*STUDY_COLUMNS, *[
        c for c in result.table.columns if c.startswith("mean_") and c.endswith("_rmse")
    ], "seconds")
    print(table)
    if args.csv is not None:
        _write_atomically(args.csv, result.table.to_csv())
    if args.json is not None:
        _write_atomically(args.json, result.table.to_json() + "\n")
    if args.plot is not None:
        from .plots import study_figures

        paths = study_figures(result, args.plot)
        if not args.quiet:
            print(f"figures: {', '.join(str(p) for p in paths)}", file=sys.stderr)
    return 0


def _read_design(path: Path) -> dict:
    if not path.exists():
        raise UserError(f"{path}: no such file")
    text = path.read_text()
    try:
        if path.suffix.lower() == ".toml":
            import tomllib

            design = tomllib.loads(text)
        else:
            design = json.loads(text)
    except Exception as error:  # tomllib and json raise their own decode errors
        raise UserError(f"{path}: not valid {path.suffix.lstrip('.').upper() or 'JSON'}: "
                        f"{error}") from None
    if not isinstance(design, dict):
        raise UserError(f"{path}: the design must be a table of options")
    unknown = sorted(set(design) - set(DEFAULT_DESIGN) - {"tol", "max_iter", "reg_variance",
                                                           "equal_variance"})
    if unknown:
        raise UserError(f"{path}: unknown option(s) {', '.join(unknown)}")
    for name in ("n_samples", "init"):
        if name in design and not isinstance(design[name], list):
            design[name] = [design[name]]
    return design


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


class _ProgressBar:
    """``[#####.....]  45%  18,000/40,000`` on stderr, redrawn in place."""

    def __init__(self, label: str, width: int = 30):
        self.label, self.width, self.start = label, width, time.perf_counter()

    def __call__(self, done: int, total: int) -> None:
        filled = int(self.width * done / total)
        elapsed = time.perf_counter() - self.start
        print(f"\r{self.label} [{'#' * filled}{'.' * (self.width - filled)}] "
              f"{100 * done / total:3.0f}%  {done:,}/{total:,} dataset fits  {elapsed:5.1f} s",
              end="", file=sys.stderr, flush=True)

    def close(self) -> None:
        print(file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- fit


def _fit(args) -> int:
    from . import api
    from .select import select

    k_low, k_high = _components(args.components)
    ids, data, weights = _read_data(args)
    n_samples = np.array([len(x) for x in data])
    short = np.flatnonzero(n_samples < k_low)
    if short.size:
        raise UserError(f"{args.file}: dataset {ids[short[0]]!r} has {n_samples[short[0]]} "
                        f"point(s), fewer than the {k_low} component(s) asked for")
    _check_writable(args.out)
    if args.plot is not None and len(data) != 1:
        raise UserError(f"--plot draws one dataset; {args.file} holds {len(data)}")
    options = dict(n_init=args.n_init, init=args.init, random_state=args.seed,
                   sample_weight=weights, **_fit_options(vars(args)))
    if k_low == k_high:
        result = api.fit(data, k_low, skip_degenerate=True, **options)
        n_components = np.full(len(data), k_low)
        bic = np.atleast_1d(result.bic())
    else:
        variance = "equal" if options.pop("equal_variance", False) else "unequal"
        result = select(data, n_components=range(k_low, k_high + 1), variance=variance,
                               **options)
        n_components = result.n_components
        chosen = [result.fits[c] if c >= 0 else None for c in result.best]
        bic = result.bic[np.arange(len(data)), np.maximum(result.best, 0)]
        result = _chosen_fits(result, chosen)
    table = _fit_table(ids, n_components, result, bic)
    fmt = args.format or ("json" if args.out and args.out.suffix.lower() == ".json" else "csv")
    text = table.to_json() + "\n" if fmt == "json" else table.to_csv()
    if args.out is None:
        sys.stdout.write(text)
    else:
        _write_atomically(args.out, text)
    if args.plot is not None:
        from .plots import fit_figure

        k = n_components[0]
        fitted = (result.weights[0, :k], result.means[0, :k], result.variances[0, :k])
        fit_figure(data[0], fitted, args.plot, title=f"{args.file.name}: {k} components")
    return 0


def _chosen_fits(selection, chosen):
    """The chosen candidate's per-dataset fields, for the output table (a dataset with no
    eligible candidate keeps the status of its first one)."""
    rows = np.arange(len(chosen))
    fits = [f if f is not None else selection.fits[0] for f in chosen]
    return SimpleNamespace(
        weights=selection.weights, means=selection.means, variances=selection.variances,
        log_likelihood=selection.log_likelihood[rows, np.maximum(selection.best, 0)],
        n_iter=np.array([f.n_iter[d] for d, f in enumerate(fits)]),
        converged=np.array([bool(f.converged[d]) for d, f in enumerate(fits)]),
        status=np.array([f.status[d] for d, f in enumerate(fits)]),
    )


def _fit_table(ids, n_components, result, bic):
    from .table import Table

    width = int(np.max(n_components))
    columns = {"id": ids, "n_components": n_components}
    for name in ("weights", "means", "variances"):
        values = np.atleast_2d(getattr(result, name))
        for k in range(width):
            column = np.full(len(ids), np.nan)
            have = n_components > k
            column[have] = values[have, k]
            columns[f"{name[:-1]}_{k + 1}"] = column
    columns["log_likelihood"] = np.atleast_1d(result.log_likelihood)
    columns["bic"] = bic
    columns["n_iter"] = np.atleast_1d(result.n_iter)
    columns["converged"] = np.atleast_1d(result.converged)
    columns["status"] = [Status(int(s)).name.lower() for s in np.atleast_1d(result.status)]
    return Table(columns)


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
                             weights_column=args.weights_column)
    except DataFileError as error:
        raise UserError(str(error)) from None


# ----------------------------------------------------------------------------- simulate


def _simulate(args) -> int:
    from .simulate import simulate

    if not len(args.weights) == len(args.means) == len(args.variances):
        raise UserError("--weights, --means and --variances need one value per component")
    _check_writable(args.out)
    data, labels = simulate(args.weights, args.means, args.variances, args.n_samples,
                            args.replications, args.seed)
    lines = ["dataset,value,component"]
    for d in range(data.shape[0]):
        lines.extend(f"{d},{x!r},{k}" for x, k in zip(data[d].tolist(), labels[d].tolist()))
    text = "\n".join(lines) + "\n"
    if args.out is None:
        sys.stdout.write(text)
    else:
        _write_atomically(args.out, text)
    return 0


# ----------------------------------------------------------------------------- bench


def _bench(args) -> int:
    from .quickbench import run

    print(run(verbose=not args.quiet))
    return 0


# ----------------------------------------------------------------------------- output


def _check_writable(path):
    if path is None:
        return
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise UserError(f"{path}: the directory {directory} does not exist")


def _write_atomically(path: Path, text: str) -> None:
    """Write to a temporary file beside ``path``, then rename: readers never see half."""
    directory = path.parent if str(path.parent) else Path(".")
    handle = tempfile.NamedTemporaryFile("w", dir=directory, delete=False, suffix=".tmp",
                                         prefix=f".{path.name}.")
    try:
        with handle:
            handle.write(text)
        os.replace(handle.name, path)
    except BaseException:
        os.unlink(handle.name)
        raise
