"""Reading a study's design file (TOML or JSON): each option to its type and shape, with
messages that name the option and the file.

The options are the fields of :class:`fastem.Design` (:mod:`fastem.toolkit.design`), whose
metadata say each one's kind and shape.
"""

from __future__ import annotations

import json
import numbers
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np

from ..spurious import SpuriousRule

WANTED = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}
"""What a value of each simple kind must be, for the messages."""


class BadShape(Exception):
    """A value of the wrong type or shape for its option (the message names it)."""


def plain(value):
    if isinstance(value, SpuriousRule):
        return asdict(value)
    if isinstance(value, tuple):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    return value


def shaped(option, value):
    """The value of ``option`` as stored: a tuple of its kind for lists."""
    kind, many = option.metadata["kind"], option.metadata["many"]
    if option.name == "scenarios":
        return _scenarios(value)
    if option.name in ("grid", "template"):  # checked by designgrid, which knows them
        if value is not None and not isinstance(value, dict):
            raise BadShape(f"{option.name!r} must be a table, got {value!r}")
        return None if value is None else dict(value)
    if kind not in WANTED and kind is not dict:  # a fit option read by its own parser
        return None if value is None else _parsed(option.name, value, kind)
    if not many:
        if value is None and option.default is None:
            return None
        return _checked(option.name, value, kind)
    if option.metadata["single"] and not _is_list(value):
        value = [value]
    example = json.dumps(list(option.default))
    if not _is_list(value) and not isinstance(value, (str, dict)):
        raise BadShape(
            f"{option.name!r} holds {value!r}, a single value; give a list of one "
            f"value per component, e.g. {example}"
        )
    if not _is_list(value) or len(value) == 0:
        raise BadShape(f"{option.name!r} must be a non-empty list, e.g. {example}")
    return tuple(_checked(option.name, item, kind) for item in value)


_SCENARIO_KEYS = {"name", "weights", "means", "variances"}


def _scenarios(value) -> tuple:
    """Scenarios as stored: a tuple of dicts of a name (str) and tuples of floats."""
    if not _is_list(value):
        raise BadShape(
            "'scenarios' must be a list of tables, each with weights, means, "
            "variances and an optional name"
        )
    shaped = []
    for index, scenario in enumerate(value):
        if not isinstance(scenario, dict) and hasattr(scenario, "weights"):  # a Scenario
            scenario = dict(
                name=scenario.name,
                weights=scenario.weights,
                means=scenario.means,
                variances=scenario.variances,
            )
        if (
            not isinstance(scenario, dict)
            or not {"weights", "means", "variances"} <= set(scenario)
            or set(scenario) - _SCENARIO_KEYS
        ):
            raise BadShape(
                f"scenario {index + 1} must be a table of weights, means, variances "
                f"and an optional name, got {scenario!r}"
            )
        entry = {"name": str(scenario.get("name") or index + 1)}
        for key in ("weights", "means", "variances"):
            if not _is_list(scenario[key]):
                raise BadShape(
                    f"scenario {entry['name']}: {key} must be a list, one value per component"
                )
            entry[key] = tuple(_checked(key, item, float) for item in scenario[key])
        shaped.append(entry)
    return tuple(shaped)


def _parsed(name, value, parse):
    try:
        return parse(value)
    except (TypeError, ValueError) as error:
        raise BadShape(f"{name!r} holds {value!r}: {error}") from None


def _is_list(value) -> bool:
    return isinstance(value, (list, tuple)) or (isinstance(value, np.ndarray) and value.ndim == 1)


def _checked(name, value, kind):
    if kind is bool:
        valid = isinstance(value, (bool, np.bool_))
    elif kind is str:
        valid = isinstance(value, str)
    else:
        valid = isinstance(
            value, numbers.Integral if kind is int else numbers.Real
        ) and not isinstance(value, (bool, np.bool_))
    if not valid:
        raise BadShape(f"{name!r} holds {value!r}; each value must be {WANTED[kind]}")
    return kind(value)


def read(path: Path, settings) -> dict:
    """The options in a design file, each of the right type and shape: ``settings`` are the
    fields of :class:`fastem.Design`."""
    if not path.exists():
        raise ValueError(f"{path}: no such file")
    if path.is_dir():
        raise ValueError(f"{path}: is a directory; give a TOML or JSON file")
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ValueError(f"{path}: cannot be read ({error.strerror})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        raise ValueError(
            f"{path}, line {line}: not UTF-8 text (byte 0x{raw[error.start]:02x}); "
            "save the file as UTF-8"
        ) from None
    if path.suffix.lower() in (".yaml", ".yml"):
        raise ValueError(
            f"{path}: YAML is not supported; write the design as TOML (.toml) or JSON (.json)"
        )
    try:
        if path.suffix.lower() == ".toml":
            options = _toml().loads(text)
        else:
            options = json.loads(text)
    except Exception as error:  # tomllib and json raise their own decode errors
        raise ValueError(
            f"{path}: not valid {path.suffix.lstrip('.').upper() or 'JSON'}: {error}"
        ) from None
    if not isinstance(options, dict):
        raise ValueError(f"{path}: the design must be a table of options")
    unknown = sorted(set(options) - {option.name for option in settings})
    if unknown:
        raise ValueError(f"{path}: unknown option(s) {', '.join(unknown)}")
    both = sorted({"weights", "means", "variances"} & set(options))
    for making in ("scenarios", "grid"):
        if options.get(making) and both:
            raise ValueError(f"{path}: give either {making} or {', '.join(both)}, not both")
    grid = options.get("grid")
    if isinstance(grid, dict) and "n_samples" in grid:  # the design's sample sizes
        if "n_samples" in options:
            raise ValueError(
                f"{path}: n_samples is given twice, at the top and in [grid]; give it in one place"
            )
        options["n_samples"] = grid["n_samples"]
        options["grid"] = {name: values for name, values in grid.items() if name != "n_samples"}
    try:
        return {
            option.name: shaped(option, options[option.name])
            for option in settings
            if option.name in options
        }
    except BadShape as error:
        raise ValueError(f"{path}: {error}") from None


def _toml():
    """The TOML reader: the standard library's from Python 3.11, ``tomli`` (the same code,
    a dependency on older Pythons) before."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib
    return tomllib
