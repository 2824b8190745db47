"""The flags of the fit's options: the stopping rule, the algorithm, the variance model and
the study design's options, and how the Python API's keyword arguments are named as flags.

The commands add them to their parsers from here (``fit``, ``study``, ``lrt`` and
``bootstrap``), and :func:`fastem.cli.shared.cli_terms` reads :data:`FIT_FLAGS`.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import fields

from .. import options as _options
from ..toolkit.design import Design

FIT_FLAGS = _options.MESSAGE_FLAGS
"""The keyword arguments of fit and select that the commands set, and the flags that stand
for them in messages (the table of :mod:`fastem.options`)."""


def add_fit_flags(parser, names, defaults=None) -> None:
    """The flags of the fit options ``names``, with the table's help (:mod:`fastem.options`);
    ``defaults`` by name, else None, so that a flag not given leaves the option to the
    function (or the design file) it goes to. True-or-false options are switches."""
    defaults = defaults or {}
    for name in names:
        option = _options.BY_NAME[name]
        settings = dict(default=defaults.get(name), help=option.help)
        if option.parse is bool:
            settings["action"] = "store_true"
        elif option.choices is not None:
            settings["choices"] = option.choices
        else:
            settings["type"] = float if option.n_values > 1 else _typed(option.parse)
        if option.n_values > 1:
            settings.update(nargs=option.n_values, metavar=_metavars(option.help))
        parser.add_argument(option.flag, **settings)


def _typed(parse):
    """``parse`` as argparse's ``type``: a parser of the table's (``init_params``'s
    name=value pairs, say) says what is wrong with a value in its own words, after the flag,
    rather than argparse's "invalid parse_init_params value"."""
    if parse in (int, float, str):
        return parse

    def typed(text):
        try:
            return parse(text)
        except (TypeError, ValueError) as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return typed


def _metavars(text: str) -> tuple:
    """The names in capitals in a flag's help, one for each of its values."""
    return tuple(dict.fromkeys(re.findall(r"\b[A-Z][A-Z_]+\b", text)))


def add_algorithm_options(parser, **defaults):
    """--algorithm, --stop and --penalty; ``defaults``: ``default`` (the algorithm's) and
    ``stop``, each fit's by default."""
    algorithm = defaults.get("default", _options.default("algorithm"))
    stop = defaults.get("stop", _options.default("stop"))
    add_fit_flags(parser, ("algorithm", "stop", "penalty"), dict(algorithm=algorithm, stop=stop))


STOPPING_OPTIONS = tuple(
    option.name for option in _options.DESIGN_OPTIONS if "bootstrap_lrt" in option.toolkit
)
"""The options of :func:`add_stopping_options`: those of a design that ``lrt`` and
``bootstrap`` take too (when a fit stops, and what it may not stop at)."""


def add_stopping_options(parser):
    """--max-iter, --tol and --spurious."""
    add_fit_flags(parser, STOPPING_OPTIONS)


def fit_options(values: dict) -> dict:
    """The options of the design (:data:`fastem.options.DESIGN_OPTIONS`: those of
    :func:`add_stopping_options`, ``--reg-variance``, ``--equal-variance``, ...) that were
    given (``values``: the parsed arguments as a dict), as keyword arguments of the fitting
    functions."""
    given = {
        option.name: option.parse(values[option.name])
        for option in _options.DESIGN_OPTIONS
        if values.get(option.name) is not None
    }
    if values.get("penalty") is not None:  # one value (a study compares a list)
        given["penalty"] = values["penalty"]
    return given


def add_fit_options(parser, skip=()):
    """The flags of the options of :func:`fastem.fit` that a design may set
    (:data:`fastem.options.DESIGN_OPTIONS`), but those in ``skip``."""
    add_stopping_options(parser)
    names = [
        option.name for option in _options.DESIGN_OPTIONS if option.name not in STOPPING_OPTIONS
    ]
    add_fit_flags(parser, [name for name in names if name not in skip])


def add_design_options(parser):
    """The flags of the Design's own options (those of :func:`fastem.fit` are
    :func:`add_fit_options`'); no default, so that a flag not given leaves the design
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
