"""The settings of a Monte Carlo study in one place: :class:`Design`.

A field's name is the option's name everywhere: the keyword of ``Design(...)``, the key
of a TOML or JSON design file and, with ``-`` for ``_``, the flag of ``fastem study``
(``n_samples`` is ``--n-samples``).
"""

from __future__ import annotations

import contextlib
import inspect
import json
import math
import numbers
import sys
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from .. import api, search
from .. import checks as _validate
from ..init._registry import NAMES as STRATEGY_NAMES

_FIT_DEFAULTS = {
    name: parameter.default for name, parameter in inspect.signature(api.fit).parameters.items()
}
_WANTED = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}


def _setting(default, kind, *, many=False, single=False, help=None):
    """A field of :class:`Design`.

    ``kind`` is the type of its value (of each value when ``many``); ``single``: one value
    stands for a list of one. ``help`` is the flag's help in ``fastem study``; None for the
    options of :func:`fastem.fit`, whose flags ``fastem study`` shares with ``fastem fit``.
    """
    return field(default=default, metadata=dict(kind=kind, many=many, single=single, help=help))


@dataclass(frozen=True)
class Design:
    """Everything a Monte Carlo study (:func:`fastem.study`) needs, with the defaults of
    ``fastem study``.

    The mixture (``weights``, ``means``, ``variances``, one value per component) is
    simulated ``replications`` times for each sample size in ``n_samples`` (a design
    cell each); every strategy in ``init`` then fits each dataset with ``n_init``
    restarts. ``seed`` seeds it all. ``tol``, ``max_iter``, ``reg_variance`` and
    ``equal_variance`` are passed to :func:`fastem.fit`, with its defaults.

    Lists are kept as tuples; a single sample size or strategy stands for a list of one
    (a single weight, mean or variance does not: it is refused, as it is almost always a
    list mistyped). Values are checked when the design is made: a ``TypeError`` or
    ``ValueError`` names the option, and carries the names of the options it is about in
    ``error.options``. Every dataset needs at least one point more than the mixture has
    components.

    Examples
    --------
    >>> design = Design(means=(0.0, 6.0), variances=(1.0, 1.0), weights=(0.5, 0.5),
    ...                 replications=100)
    >>> result = design.run()  # doctest: +SKIP
    """

    weights: tuple = _setting((0.4, 0.6), float, many=True, help="true weights")
    means: tuple = _setting((-2.5, 3.5), float, many=True, help="true means")
    variances: tuple = _setting((4.0, 4.0), float, many=True, help="true variances")
    n_samples: tuple = _setting(
        (40,), int, many=True, single=True, help="points per dataset, one design cell each"
    )
    replications: int = _setting(10_000, int, help="datasets per design cell")
    init: tuple = _setting(
        ("kmeans++", "random", "emem"),
        str,
        many=True,
        single=True,
        help="starting-value strategies to compare",
    )
    algorithm: tuple = _setting(
        ("em",), str, many=True, single=True, help="algorithms to compare: em, squarem"
    )
    stop: tuple = _setting(
        ("loglik",),
        str,
        many=True,
        single=True,
        help="stopping rules to compare: loglik, relative, aitken, "
        "parameter (each at its own default tol unless --tol is given)",
    )
    n_components: tuple = _setting(
        (0,),
        int,
        many=True,
        single=True,
        help="components fitted, one set of rows each (over- and "
        "under-fitting); 0 is the true number",
    )
    scenarios: tuple = _setting((), dict, many=True)
    n_init: int = _setting(5, int, help="restarts per dataset")
    seed: int = _setting(0, int, help="random seed")
    tol: float = _setting(None, float)
    max_iter: int = _setting(_FIT_DEFAULTS["max_iter"], int)
    reg_variance: float = _setting(_FIT_DEFAULTS["reg_variance"], float)
    equal_variance: bool = _setting(_FIT_DEFAULTS["equal_variance"], bool)
    se: str = _setting(
        None,
        str,
        help="standard errors of every fit, score or louis: adds each "
        "parameter's coverage of 95%% intervals and the relative error of the "
        "model SE to the table",
    )

    def __post_init__(self):
        for option in fields(self):
            with _about(option.name):
                try:
                    value = _shaped(option, getattr(self, option.name))
                except _BadShape as error:
                    raise TypeError(str(error)) from None
            object.__setattr__(self, option.name, value)
        for scenario in self.scenarios or [None]:
            self._check_mixture(scenario)
        with _about("n_samples"):
            needed = (
                max(len(scenario["weights"]) for scenario in self.scenarios) + 1
                if self.scenarios
                else len(self.weights) + 1
            )
            needed = max([needed, *(k + 1 for k in self.n_components)])
            for n in self.n_samples:
                _validate.check_int("n_samples", n, 1)
                if n < needed:
                    raise ValueError(
                        f"n_samples must be at least {needed} for a mixture of {needed - 1} "
                        f"components (more points than components), got {n}."
                    )
        with _about("replications"):
            _validate.check_int("replications", self.replications, 1)
        with _about("init"):
            for strategy in self.init:
                if "=" in strategy:  # a pool, "random=10,kmeans++=10"
                    search.parse_init(strategy)
                else:
                    _validate.check_choice("init", strategy, STRATEGY_NAMES)
        with _about("algorithm"):
            for algorithm in self.algorithm:
                _validate.check_choice("algorithm", algorithm, api.ALGORITHMS)
        with _about("stop"):
            for rule in self.stop:
                _validate.check_choice("stop", rule, api.STOPPING_RULES)
        with _about("n_components"):
            for k in self.n_components:
                _validate.check_int("n_components", k, 0)
        with _about("n_init"):
            _validate.check_int("n_init", self.n_init, 1)
        with _about("seed"):
            _validate.check_int("seed", self.seed, 0)
        with _about("tol"):
            if self.tol is not None:
                _validate.check_non_negative("tol", self.tol)
        with _about("max_iter"):
            _validate.check_int("max_iter", self.max_iter, 1, _validate.MAX_ITER_LIMIT)
        with _about("se"):
            if self.se is not None:
                _validate.check_choice("se", self.se, api.SE_METHODS)
        with _about("reg_variance"):
            _validate.check_non_negative("reg_variance", self.reg_variance)

    def _check_mixture(self, scenario=None):
        """The true mixture (or a scenario's), as :func:`fastem.simulate` needs it, checked
        here so that the message names the options."""
        if scenario is None:
            self._check_one_mixture(self, "")
            return
        try:
            self._check_one_mixture(
                SimpleNamespace(**scenario), f"scenario {scenario.get('name') or '?'}: "
            )
        except (TypeError, ValueError) as error:
            error.options = ("scenarios",)
            raise

    @staticmethod
    def _check_one_mixture(self, where):
        sizes = [len(self.weights), len(self.means), len(self.variances)]
        with _about("weights", "means", "variances"):
            if len(set(sizes)) > 1:
                raise ValueError(
                    where
                    + "weights, means and variances need one value per "
                    "component; got {}, {} and {}".format(*sizes)
                )
        with _about("weights"):
            weights = np.array(self.weights)
            if (weights < 0).any() or not np.isclose(weights.sum(), 1.0, rtol=0, atol=1e-8):
                raise ValueError(
                    f"{where}weights must be >= 0 and sum to 1, got "
                    f"{list(self.weights)} "
                    f"(sum {weights.sum():.10g})."
                )
        with _about("means"):
            if not np.isfinite(self.means).all():
                raise ValueError(f"{where}means must be finite numbers, got {list(self.means)}.")
        with _about("variances"):
            if not (np.isfinite(self.variances).all() and min(self.variances) > 0):
                raise ValueError(
                    f"{where}variances must be positive and finite, got {list(self.variances)}."
                )
        # The simulated datasets must pass fit's check of their scale: a mixture whose
        # spread float64 cannot square would otherwise fail in the middle of the run.
        means, variances = np.array(self.means, float), np.array(self.variances, float)
        with np.errstate(over="ignore", invalid="ignore"):
            centre = float(np.dot(weights, means))
            sd = math.sqrt(np.dot(weights, variances) + np.dot(weights, (means - centre) ** 2))
        low, high = _validate.SCALE_RANGE
        if not (low <= sd <= high and np.abs(means).max() <= high):
            with _about("means", "variances"):
                spread = (
                    f"of standard deviation {sd:.3g}"
                    if np.isfinite(sd)
                    else "whose spread overflows float64"
                )
                raise ValueError(
                    f"{where}means {list(self.means)} and variances "
                    f"{list(self.variances)} give data {spread}, but a fit needs "
                    f"a scale from {low:g} to {high:g} and values within "
                    f"+-{high:g}; rescale the mixture (fits are invariant to "
                    "scale)."
                )

    @classmethod
    def options(cls) -> tuple:
        """The names of the options, in order."""
        return tuple(option.name for option in fields(cls))

    @classmethod
    def from_file(cls, path, **overrides) -> Design:
        """The design in a TOML (``.toml``) or JSON (any other suffix) file: the defaults
        updated with the file's options, then with ``overrides`` that are not None.

        Raises ``ValueError`` with one line starting with ``path`` for a file that is
        missing, unreadable, not UTF-8, not valid TOML/JSON, not a table, or that holds
        unknown options or values of the wrong type.
        """
        options = _read(Path(path))
        options.update(_given(overrides))
        return cls(**options)

    def override(self, **options) -> Design:
        """A copy with ``options`` that are not None in place of this design's."""
        return replace(self, **_given(options))

    def to_dict(self) -> dict:
        """The options as plain Python values (lists for tuples), as in a JSON file; with
        scenarios, without the single mixture's weights, means and variances."""
        unused = ("weights", "means", "variances") if self.scenarios else ()
        return {name: _plain(getattr(self, name)) for name in self.options() if name not in unused}

    def study_arguments(self) -> dict:
        """The keyword arguments of :func:`fastem.study` for this design."""
        from .study import Scenario

        arguments = self.to_dict()
        arguments["random_state"] = arguments.pop("seed")
        scenarios = arguments.pop("scenarios")
        if scenarios:
            arguments["scenarios"] = [
                Scenario(s["weights"], s["means"], s["variances"], str(s.get("name", "")))
                for s in scenarios
            ]
        ks = arguments.pop("n_components")
        arguments["n_components"] = None if ks == [0] else [None if k == 0 else k for k in ks]
        if arguments["tol"] is None:
            del arguments["tol"]  # each stopping rule's own default
        return arguments

    def run(self, **options):
        """:func:`fastem.study` of this design; ``options`` are its other arguments
        (``progress``, ``client``, ``trace``, ``chunk_size``, ...)."""
        from .study import study

        return study(**self.study_arguments(), **options)


class _BadShape(Exception):
    """A value of the wrong type or shape for its option (the message names it)."""


@contextlib.contextmanager
def _about(*names):
    """Mark a TypeError or ValueError raised inside with the options it is about
    (``error.options``), so that ``fastem study`` can name the flag or the design file that
    gave them."""
    try:
        yield
    except (TypeError, ValueError) as error:
        error.options = names
        raise


def _given(options: dict) -> dict:
    unknown = sorted(set(options) - set(Design.options()))
    if unknown:
        raise TypeError(f"unknown option(s) {', '.join(unknown)}")
    return {name: value for name, value in options.items() if value is not None}


def _plain(value):
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def _shaped(option, value):
    """The value of ``option`` as stored: a tuple of its kind for lists."""
    kind, many = option.metadata["kind"], option.metadata["many"]
    if option.name == "scenarios":
        return _scenarios(value)
    if not many:
        if value is None and option.default is None:
            return None
        return _checked(option.name, value, kind)
    if option.metadata["single"] and not _is_list(value):
        value = [value]
    example = json.dumps(list(option.default))
    if not _is_list(value) and not isinstance(value, (str, dict)):
        raise _BadShape(
            f"{option.name!r} holds {value!r}, a single value; give a list of one "
            f"value per component, e.g. {example}"
        )
    if not _is_list(value) or len(value) == 0:
        raise _BadShape(f"{option.name!r} must be a non-empty list, e.g. {example}")
    return tuple(_checked(option.name, item, kind) for item in value)


_SCENARIO_KEYS = {"name", "weights", "means", "variances"}


def _scenarios(value) -> tuple:
    """Scenarios as stored: a tuple of dicts of a name (str) and tuples of floats."""
    if not _is_list(value):
        raise _BadShape(
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
            raise _BadShape(
                f"scenario {index + 1} must be a table of weights, means, variances "
                f"and an optional name, got {scenario!r}"
            )
        entry = {"name": str(scenario.get("name") or index + 1)}
        for key in ("weights", "means", "variances"):
            if not _is_list(scenario[key]):
                raise _BadShape(
                    f"scenario {entry['name']}: {key} must be a list, one value per component"
                )
            entry[key] = tuple(_checked(key, item, float) for item in scenario[key])
        shaped.append(entry)
    return tuple(shaped)


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
        raise _BadShape(f"{name!r} holds {value!r}; each value must be {_WANTED[kind]}")
    return kind(value)


def read_options(path) -> dict:
    """The options in a design file (TOML or JSON), each of the right type and shape;
    ``ValueError`` with one line starting with the path for a file that cannot be read."""
    return _read(Path(path))


def _read(path: Path) -> dict:
    """The options in a design file, each of the right type and shape."""
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
    unknown = sorted(set(options) - set(Design.options()))
    if unknown:
        raise ValueError(f"{path}: unknown option(s) {', '.join(unknown)}")
    both = sorted({"weights", "means", "variances"} & set(options))
    if options.get("scenarios") and both:
        raise ValueError(f"{path}: give either scenarios or {', '.join(both)}, not both")
    try:
        return {
            option.name: _shaped(option, options[option.name])
            for option in fields(Design)
            if option.name in options
        }
    except _BadShape as error:
        raise ValueError(f"{path}: {error}") from None


def _toml():
    """The TOML reader: the standard library's from Python 3.11, ``tomli`` (the same code,
    a dependency on older Pythons) before."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib
    return tomllib
