"""The options of :func:`fastem.fit`, declared once: :data:`FIT_OPTIONS`.

Each :class:`Option` says its name, default, check, documentation, the flag of the command
line (or None), the :class:`fastem.FitResult` field that holds its one value for a whole
batch (``per_batch``), whether a study's design file may set it, and scikit-learn's name
where the estimator's differs. The table is written in two parts, :mod:`.model` (the data,
the model, the starting values) and :mod:`.run` (the EM runs and their result), in the order
of ``fit``'s signature. Everything that takes fit options reads it: :func:`fastem.fit` (its
signature, the Parameters of its docstring, its checks), :class:`fastem.Design` (the
options a design file may set), the command line's flags and their help, the estimator, and
:func:`fastem.dask.fit`.

Why ``fit(data, *args, **options)`` with a ``__signature__`` and docstring built from the
table (:func:`derived`), not an explicit signature whose defaults come from the table: an
explicit signature writes every option's name a second time, in ``api.py``, and each
function that forwards the options a third. Built from the table,
``inspect.signature(fastem.fit)`` and ``help(fastem.fit)`` still show every option with its
default and documentation, and a misspelt option is refused as Python refuses it
(:func:`bound`). As in scikit-learn's ``_parameter_constraints``, values are checked once,
at the entry point (:func:`checked`), with fastem's messages, which name the value and the
fix.
"""

from __future__ import annotations

import inspect
import re

from .. import checks as _validate
from . import model as _model
from . import run as _run
from .option import ALGORITHMS, SE_METHODS, STOPPING_RULES, Option
from .run import DEFAULT_MAX_ITER, DEFAULT_TOLS

__all__ = [
    "ALGORITHMS",
    "DEFAULT_MAX_ITER",
    "DEFAULT_TOLS",
    "SE_METHODS",
    "STOPPING_RULES",
    "FIT_OPTIONS",
    "Option",
]

FIT_OPTIONS: tuple[Option, ...] = (*_model.OPTIONS, *_run.OPTIONS)
"""Every option of :func:`fastem.fit`, in the order of its signature."""
BY_NAME = {option.name: option for option in FIT_OPTIONS}
NAMES = tuple(BY_NAME)
DEFAULTS = {option.name: option.default for option in FIT_OPTIONS}
PER_BATCH = tuple(option.per_batch for option in FIT_OPTIONS if option.per_batch)
"""The :class:`fastem.FitResult` fields that hold an option's one value for the batch."""
FLAGS = {option.name: option.flag for option in FIT_OPTIONS if option.flag}
"""Each option's flag on the command line."""
MESSAGE_FLAGS = {name: flag for name, flag in FLAGS.items() if BY_NAME[name].in_messages}
"""The flags that stand for the options' names in messages on the command line."""
DESIGN_OPTIONS = tuple(option for option in FIT_OPTIONS if option.design)
"""The options a study's design file (and ``fastem study``) may set, handed on to
:func:`fastem.fit` as they are."""
STARTS = tuple(option.name for option in FIT_OPTIONS if option.start)
"""The options that give starting values."""
STUDY_OPTIONS = tuple(option for option in FIT_OPTIONS if option.study_help)
"""The options a study's design sets in a way of its own (lists of values to compare)."""


def taken_by(entry: str) -> tuple:
    """The options that the function ``entry`` takes: those of :attr:`Option.toolkit`, or
    every one that it does not set itself (:attr:`Option.set_by`)."""
    if any(entry in option.toolkit for option in FIT_OPTIONS):
        return tuple(option.name for option in FIT_OPTIONS if entry in option.toolkit)
    return tuple(option.name for option in FIT_OPTIONS if entry not in option.set_by)


def set_by(entry: str) -> tuple:
    """The options that the function ``entry`` sets itself."""
    return tuple(option.name for option in FIT_OPTIONS if entry in option.set_by)


def default(name: str, entry: str | None = None):
    """The default of option ``name`` in the function ``entry`` (``fit`` when None)."""
    option = BY_NAME[name]
    return option.defaults.get(entry, option.default)


def signature(own, positional=None, names=NAMES, entry=None) -> inspect.Signature:
    """The signature of a function that takes the options ``names``: the parameters of
    ``own`` (a function that lists the others, the entry's own), with the ``positional``
    options (``{name: index}``) among its positional ones and the others keyword-only after
    its own; defaults are those of the function ``entry`` (:attr:`Option.defaults`)."""
    kinds = inspect.Parameter
    parameters = list(inspect.signature(own).parameters.values())
    leading = [p for p in parameters if p.kind is kinds.POSITIONAL_OR_KEYWORD]
    keyword = [p for p in parameters if p.kind is kinds.KEYWORD_ONLY]
    for name, index in (positional or {}).items():
        leading.insert(
            index, kinds(name, kinds.POSITIONAL_OR_KEYWORD, default=default(name, entry))
        )
    options = [
        kinds(name, kinds.KEYWORD_ONLY, default=default(name, entry))
        for name in names
        if name not in (positional or {})
    ]
    return inspect.Signature([*leading, *keyword, *options])


def parameters_doc(names=NAMES, indent="    ") -> str:
    """The numpydoc entries of the options ``names``: an option documented with the one
    before it (``type`` None) under one heading with it."""
    entries: list[tuple[list[str], Option]] = []  # (names, the option that documents them)
    for name in names:
        index = NAMES.index(name)
        leader = next(BY_NAME[n] for n in reversed(NAMES[: index + 1]) if BY_NAME[n].type)
        if entries and entries[-1][1] is leader and NAMES.index(entries[-1][0][-1]) == index - 1:
            entries[-1][0].append(name)
        else:
            entries.append(([name], leader))
    lines = []
    for grouped, option in entries:
        lines.append(f"{indent}{', '.join(grouped)} : {option.type}")
        lines.extend(
            f"{indent}    {line}" if line else ""
            for line in inspect.cleandoc(option.doc).split("\n")
        )
    return "\n".join(lines)


_PLACEHOLDER = re.compile(r"^([ \t]*)\{fit options\}$", re.MULTILINE)
"""The line of a docstring that the options' entries replace, at its indentation: Python
3.13 strips a docstring's common indentation when it compiles it, older ones do not."""


def derived(own, entry=None, documented=(), caller=None):
    """A decorator: the function's ``__signature__`` built by :func:`signature` from
    ``own`` and the options the function ``entry`` takes (:func:`taken_by`;
    all of them for ``fit``, ``entry`` None), the line ``{fit options}`` of its docstring
    replaced by the entries of the options it does not document itself (``documented``),
    and the options it sets itself (:func:`set_by`), which :func:`bound` refuses by name
    (``caller``, ``fastem.<name>`` by default, names the function in that message)."""

    def decorate(function):
        names = NAMES if entry is None else taken_by(entry)
        positional = {
            option.name: option.positions[entry or "fit"]
            for option in FIT_OPTIONS
            if (entry or "fit") in option.positions
        }
        function.__signature__ = signature(own, positional, names, entry)
        function.sets_options = () if entry is None else set_by(entry)
        function.caller = caller or f"fastem.{function.__name__}"
        shown = [name for name in names if name not in documented]
        if function.__doc__ is not None:  # None under python -OO
            function.__doc__ = _PLACEHOLDER.sub(
                lambda line: parameters_doc(shown, indent=line.group(1)), function.__doc__
            )
        return function

    return decorate


def bound(function, args, kwargs) -> dict:
    """The arguments of a call of ``function`` (whose ``__signature__`` is
    :func:`derived`) by name, with the defaults of those not given; a TypeError as
    Python's for a missing, repeated or unknown argument, and one that names an option
    the function sets itself."""
    _validate.check_not_given(function.caller, kwargs, function.sets_options)
    fast = _bound_fast(function, args, kwargs)
    if fast is not None:
        return fast
    try:
        arguments = function.__signature__.bind(*args, **kwargs)
    except TypeError as error:
        # Signature.bind's message, after the function's public name, as Python's own
        # ("fastem.fit() got an unexpected keyword argument 'n_inti'").
        hint = "" if function.caller == "fastem.fit" else "; it takes the options of fastem.fit"
        raise TypeError(f"{function.caller}() {error}{hint}.") from None
    arguments.apply_defaults()
    return dict(arguments.arguments)


_BINDINGS: dict = {}
"""Per function: its positional parameters' names and every parameter's default (in the
order of its signature), or None for a signature with ``*args`` or ``**kwargs``."""


def _bound_fast(function, args, kwargs) -> dict | None:
    """What ``Signature.bind`` and ``apply_defaults`` give for a call that binds without
    error, in a tenth of their time (a loop of small fits pays them on every call); None
    for any other call, which the slow path binds, or refuses with Python's message."""
    binding = _BINDINGS.get(function, False)  # by the function: a signature's hash is slow
    if binding is False:
        parameters = function.__signature__.parameters.values()
        simple = all(p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) for p in parameters)
        positional = tuple(p.name for p in parameters if p.kind == p.POSITIONAL_OR_KEYWORD)
        defaults = {p.name: p.default for p in parameters}
        binding = _BINDINGS[function] = (positional, defaults) if simple else None
    if binding is None:
        return None
    positional, defaults = binding
    if len(args) > len(positional) or any(
        name not in defaults or name in positional[: len(args)] for name in kwargs
    ):
        return None
    values = {**defaults, **dict(zip(positional, args)), **kwargs}
    if any(value is inspect.Parameter.empty for value in values.values()):
        return None  # a required argument is missing
    return values


def checked(values: dict) -> dict:
    """``values`` (by option name) checked, each by its :attr:`Option.check`, in the
    table's order; options without a check are returned as they are.

    A check's answer for a value of a plain type (None, a bool, an int, a float or a
    string) is kept and reused: the checks are pure functions of such values, except
    ``random_state``'s, whose None draws a new seed. A loop of small fits, whose options
    are the same on every call, then pays each check once."""
    return {name: _checked(name, values[name]) for name in NAMES if name in values}


_PLAIN = frozenset({type(None), bool, int, float, str})
_KEPT: dict[tuple, object] = {}
"""``(name, type, value)``: what the option's check returned for a plain value."""


def _checked(name: str, value):
    check = BY_NAME[name].check
    if check is None:
        return value
    if type(value) not in _PLAIN or name == "random_state":
        return check(value)
    # The type tells 1, 1.0 and True apart; a float's hex, 0.0 and -0.0.
    key = (name, type(value), value.hex() if type(value) is float else value)
    found = _KEPT.get(key, _KEPT)
    if found is _KEPT:
        if len(_KEPT) > 4096:  # values that change on every call: keep few
            _KEPT.clear()
        found = _KEPT[key] = check(value)
    return found
