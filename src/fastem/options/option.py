"""What an option of :func:`fastem.fit` is (:class:`Option`), the checks of one value,
and the reading of a value from a design file or a flag."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .. import checks as _validate
from ..engine import information as _information
from ..engine import run as _em
from ..spurious import SpuriousRule

ALGORITHMS = tuple(_em.ALGORITHMS)
STOPPING_RULES = tuple(_em.STOPPING_RULES)
SE_METHODS = tuple(_information.METHODS)


@dataclass(frozen=True)
class Option:
    """One option of :func:`fastem.fit`.

    Attributes
    ----------
    name : str
        The keyword of :func:`fastem.fit`, the key of a design file.
    default : object
        Its default in :func:`fastem.fit`.
    type : str or None
        The type line of its numpydoc entry; None: documented with the option before it.
    doc : str
        Its numpydoc description (empty with ``type`` None).
    check : callable or None
        ``value -> checked value`` (raises with a message that names the value and the fix);
        None for options checked with others or with the data (``init`` with
        ``init_params``, ``trace`` with ``max_iter``, the starting values).
    flag : str or None
        Its flag on the command line (``fastem fit``, ``fastem study``).
    help : str or None
        The flag's help.
    in_messages : bool
        Whether the command line names it by its flag in the messages of fastem's functions:
        not where messages use its name as a word (``stop``, ``spurious``, ``se``,
        ``algorithm``) or the commands set it themselves (``equal_variance``,
        ``skip_degenerate``).
    choices : tuple or None
        The values the flag takes, where they are a few names.
    n_values : int
        The values the flag takes (``--spurious MIN_POINTS MIN_VARIANCE_RATIO``: 2).
    parse : callable or None
        A flag's or a design file's value (str, number, list, table) -> the option's value.
    per_batch : str or None
        The :class:`fastem.FitResult` field that holds its one value for the whole batch.
    design : bool
        Whether a study's design file (and ``fastem study``) may set it.
    sklearn : str or None
        scikit-learn's name of it, where the estimator's differs.
    defaults : dict
        Its default in other functions that take it (``study``, ``bootstrap``,
        ``bootstrap_lrt``, ``select``), where it differs from :func:`fastem.fit`'s.
    positions : dict
        Its place among the positional parameters of the functions that take it so
        (``fit``, ``dask``, ``select``, ``bootstrap``); keyword-only elsewhere.
    start : bool
        Whether it is a starting value: an array of shape (K,), (n_datasets, K) or
        (n_datasets, n_init, K).
    study_help : str or None
        The help of its flag in ``fastem study``, where a study's design sets it in a way
        of its own (with its ``defaults["design"]``): set, the option is a field of
        :class:`fastem.Design` apart from the others.
    compared : bool
        Whether a study compares a list of its values (strategies, algorithms, ...).
    set_by : tuple of str
        The functions that set it themselves (``study``, ``select``, ``dask``: that is
        ``fastem.dask.fit``), and refuse it by name.
    toolkit : tuple of str
        The functions that take a few of the options and it among them (``bootstrap``,
        ``bootstrap_lrt``); ``study``, ``select`` and ``fastem.dask.fit`` take them all.
    """

    name: str
    default: object
    type: str | None
    doc: str = ""
    check: Callable | None = None
    flag: str | None = None
    help: str | None = None
    in_messages: bool = True
    choices: tuple | None = None
    n_values: int = 1
    parse: Callable | None = None
    per_batch: str | None = None
    design: bool = False
    sklearn: str | None = None
    defaults: dict = field(default_factory=dict)
    positions: dict = field(default_factory=dict)
    start: bool = False
    study_help: str | None = None
    compared: bool = False
    set_by: tuple = ()
    toolkit: tuple = ()


# ----------------------------------------------------------------------------- checks


def integer(name, minimum, maximum=_validate.MAX_ITER_LIMIT):
    return lambda value: _validate.check_int(name, value, minimum, maximum)


def boolean(name):
    return lambda value: _validate.check_bool(name, value)


def one_of(name, choices):
    return lambda value: _validate.check_choice(name, value, choices)


def restarts(value):
    if isinstance(value, str) and value == "auto":
        return value
    return _validate.check_int("n_init", value, 1, _validate.MAX_ITER_LIMIT, also="or 'auto'")


def tolerance(value):
    return None if value is None else _validate.check_non_negative("tol", value)


def se_method(value):
    return None if value is None else _validate.check_choice("se", value, SE_METHODS)


def seed(value):
    return _validate.Seed(_validate.check_random_state(value))


# ----------------------------------------------------------------------------- parsing


def _parsed_value(text: str):
    """A value of ``--init-params``: an int, a float, or the text itself."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse_init_params(value) -> dict:
    """``init_params`` from a design file (a table) or a flag (``n_runs=10,n_iter=5``)."""
    if isinstance(value, dict):
        return dict(value)
    if not isinstance(value, str) or "=" not in value:
        raise ValueError(f"init_params must be a table or name=value pairs, got {value!r}")
    pairs = [item.partition("=") for item in value.split(",")]
    return {key.strip(): _parsed_value(text.strip()) for key, _, text in pairs}


def parse_penalty(value):
    """``penalty`` or ``prior`` from a flag or a design file: a name (``ctz``,
    ``default``; ``none`` for None), a number, ``name=value`` pairs or a table."""
    if isinstance(value, dict) or not isinstance(value, str):
        return value
    if value == "none":
        return None
    if "=" in value:
        return parse_init_params(value)
    number = _parsed_value(value)
    return float(number) if isinstance(number, int) else number


def parse_spurious(value) -> SpuriousRule:
    """The spurious rule from a design file (a table of ``min_points`` and
    ``min_variance_ratio``, or a list of the two) or ``--spurious POINTS RATIO``."""
    if isinstance(value, SpuriousRule):
        return value
    if isinstance(value, dict):
        return SpuriousRule(**value)
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return SpuriousRule(*value)
    raise ValueError(
        f"spurious must be a table of min_points and min_variance_ratio, or a list of the "
        f"two, got {value!r}"
    )
