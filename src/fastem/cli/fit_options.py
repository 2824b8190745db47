"""The flags of the fit's options: the stopping rule, the algorithm, the variance model and
the study design's options, and how the Python API's keyword arguments are named as flags.

The commands add them to their parsers from here (``fit``, ``study``, ``lrt`` and
``bootstrap``), and :func:`fastem.cli.shared.cli_terms` reads :data:`FIT_FLAGS`.
"""

from __future__ import annotations

from dataclasses import fields

from ..api import ALGORITHMS, STOPPING_RULES
from ..toolkit.design import Design

FIT_FLAGS = {
    "n_init": "--n-init",
    "init": "--init",
    "random_state": "--seed",
    "tol": "--tol",
    "max_init": "--max-init",
    "unseen_tol": "--unseen-tol",
    "max_iter": "--max-iter",
    "reg_variance": "--reg-variance",
    "sample_weight_type": "--weights-type",
    "n_components": "--components",
}
"""The keyword arguments of fit and select that ``fastem fit`` sets, and their flags."""


def add_algorithm_options(parser, default="squarem", stop="parameter"):
    """--algorithm and --stop (``default`` and ``stop`` when not given)."""
    parser.add_argument(
        "--algorithm",
        choices=ALGORITHMS,
        default=default,
        help="SQUAREM's accelerated EM, or plain EM",
    )
    parser.add_argument(
        "--stop",
        choices=STOPPING_RULES,
        default=stop,
        help="stopping rule: change of the mean log-likelihood per point "
        "(loglik), relative change (relative, mclust's), Aitken's limit "
        "(aitken), change of the parameters (parameter, turboEM's); --tol "
        "defaults to the rule's own: 1e-6, 1e-5, 1e-5, 1e-9",
    )


def add_stopping_options(parser):
    """--tol and --max-iter."""
    from ..api import DEFAULT_MAX_ITER, DEFAULT_TOL

    parser.add_argument(
        "--tol",
        type=float,
        help="the stopping rule's tolerance (default: "
        f"the rule's own: {DEFAULT_TOL:g} for loglik, 1e-5 for relative and "
        "aitken, 1e-9 for parameter)",
    )
    parser.add_argument(
        "--max-iter",
        type=int,
        help=f"most EM iterations (SQUAREM: accepted steps) per fit (default: {DEFAULT_MAX_ITER})",
    )


def fit_options(values: dict) -> dict:
    """The options of :func:`add_stopping_options` and ``--reg-variance``,
    ``--equal-variance`` that were given (``values``: the parsed arguments as a dict), as
    keyword arguments of the fitting functions."""
    names = ("tol", "max_iter", "reg_variance", "equal_variance")
    return {name: values[name] for name in names if values.get(name) is not None}


def add_fit_options(parser):
    from ..api import DEFAULT_REG_VARIANCE

    add_stopping_options(parser)
    parser.add_argument(
        "--reg-variance",
        type=float,
        help="added to each variance, relative "
        f"to the dataset's (default: {DEFAULT_REG_VARIANCE:g})",
    )
    parser.add_argument(
        "--equal-variance",
        action="store_true",
        default=None,
        help="one variance shared by all components",
    )


def add_design_options(parser):
    """The flags of the Design's options, but those ``fastem fit`` shares
    (:func:`add_fit_options`); no default, so that a flag not given leaves the design
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
        parser.add_argument(
            f"--{option.name.replace('_', '-')}",
            type=kind,
            nargs="+" if option.metadata["many"] else None,
            help=f"{text} (default: {default})",
        )
