"""The checks of options. Every message names the bad value and says how to fix it.

All checks run before any fitting work starts. The data's checks, and their packing into
a batch, are :mod:`fastem.batch`'s; those names are also importable from here, as they
were before the two were split.
"""

from __future__ import annotations

import math
import numbers
import os
import secrets
from typing import NamedTuple

import numpy as np

from .batch import (  # noqa: F401 - the data's checks, importable from here as before
    NOTHING_GIVEN,
    SCALE_RANGE,
    Given,
    as_batch,
    check_finite,
    check_n_samples,
    check_scale,
    check_starting_values,
    few_counts,
    is_dataset_list,
    listed,
    prepared_batch,
)
from .model import Model

SAMPLE_WEIGHT_TYPES = ("frequency", "probability")


MAX_ITER_LIMIT = 2**31 - 1
"""Most iterations a fit may be asked for (and the largest ``n_init``)."""


MAX_INDEX = 2**62
"""Largest ``dataset_offset``: global dataset indices are int64 in the kernels."""


def check_int(name: str, value, minimum: int, maximum: int | None = None, *, also: str = "") -> int:
    """``value`` as an int within the bounds; ``also`` names other values it may be (in
    the message of a TypeError: "or 'auto'")."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"{name} must be an integer{' ' + also if also else ''}, got "
            f"{value!r} of type {type(value).__name__}."
        )
    value = int(value)
    if value < minimum or (maximum is not None and value > maximum):
        if maximum is None:
            raise ValueError(f"{name} must be at least {minimum}, got {value}.")
        raise ValueError(
            f"{name} must be an integer from {minimum} to {maximum}{_as_power(maximum)}, got "
            f"{value}."
        )
    return value


def _as_power(n: int) -> str:
    """`` (2**k)`` or `` (2**k - 1)`` for such numbers, else nothing."""
    if n > 1024 and n & (n - 1) == 0:
        return f" (2**{n.bit_length() - 1})"
    if n > 1024 and n & (n + 1) == 0:
        return f" (2**{n.bit_length()} - 1)"
    return ""


def memory_bytes() -> float:
    """The machine's physical memory, in bytes (infinite where the system does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return math.inf


def check_memory(n_bytes: float, what: str, fix: str) -> None:
    """Refuse a request whose arrays alone would exceed the machine's memory, before any
    allocation (NumPy would raise a MemoryError, or the system start swapping)."""
    available = memory_bytes()
    if n_bytes > available:
        raise ValueError(
            f"{what} would need {_size(n_bytes)} of memory, more than this machine's "
            f"{_size(available)}. {fix}"
        )


def check_option_memory(
    name: str, value: int, n_bytes_each: float, what: str, fixed: float = 0.0
) -> None:
    """Refuse a value of the option ``name`` whose arrays, ``n_bytes_each`` per unit of
    ``value`` (for ``what``) and ``fixed`` besides, would exceed the machine's memory,
    naming the largest value that fits."""
    available = memory_bytes()
    n_bytes = fixed + value * n_bytes_each
    if n_bytes > available:
        largest = max(int((available - fixed) // n_bytes_each), 0)
        raise ValueError(
            f"{name}={value} would need {_size(n_bytes)} of memory for {what}, more than this "
            f"machine's {_size(available)}; at most {name}={largest} fits in memory."
        )


FIT_FIXED_BYTES = 8.0 * 6
"""Per fit: its outputs (log-likelihood, iterations, status and the like)."""


def fit_bytes(n_components: int, trace_length: int = 0) -> float:
    """Memory of one fit of a batch: parameters and their copies (about 9 arrays of
    ``K``, starting values included), per-fit outputs, and ``trace_length``
    log-likelihoods."""
    return 8.0 * (9 * n_components + trace_length) + FIT_FIXED_BYTES


def _size(n_bytes: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n_bytes < 1024 or unit == "PiB":
            return f"{n_bytes:.3g} {unit}" if unit != "bytes" else f"{n_bytes:.0f} bytes"
        n_bytes /= 1024
    raise AssertionError  # not reached


def check_non_negative(name: str, value) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r} of type {type(value).__name__}.")
    value = float(value)
    if not (value >= 0.0 and np.isfinite(value)):
        raise ValueError(f"{name} must be a finite number >= 0, got {value}.")
    return value


def check_not_given(caller: str, options: dict, names) -> None:
    """Refuse options that ``caller`` sets itself, by name (Python would only say "got
    multiple values for keyword argument", and from deep inside)."""
    for name in names:
        if name in options:
            raise TypeError(f"{caller} sets {name} itself; do not pass it.")


def check_bool(name: str, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}.")
    return bool(value)


def check_trace(trace, max_iter: int) -> int:
    """How many log-likelihoods to keep per fit: ``trace`` True (all ``max_iter + 1``),
    False (none) or an integer ``L >= 1`` (the first ``L``)."""
    if isinstance(trace, (bool, np.bool_)):
        return max_iter + 1 if trace else 0
    if not isinstance(trace, numbers.Integral):
        raise TypeError(f"trace must be True, False or a number of entries to keep, got {trace!r}.")
    return min(check_int("trace", trace, 1), max_iter + 1)


FIT_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))
"""The precisions of fit's E-step: float64 (the default) first."""


def check_dtype(dtype) -> np.dtype:
    """``fit``'s ``dtype``, as a NumPy dtype: float64 (also for None, as in NumPy) or
    float32."""
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        resolved = None
    # A dtype compares equal to None (as to np.dtype(None), float64): test identity first.
    if resolved is None or resolved not in FIT_DTYPES:
        raise ValueError(
            f"dtype={dtype!r} is not supported: the E-step runs in np.float64 (the default) "
            "or np.float32 (about twice as fast, to about 1e-6 relative); the data may be "
            "of any real type either way."
        )
    return resolved


def check_choice(name: str, value, choices) -> str:
    if value not in choices:
        options = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name}={value!r} is not one of {options}.")
    return value


def check_level(level, name: str = "level") -> float:
    """A test's level, an interval's coverage or a probability's bound: strictly between 0
    and 1."""
    level = check_non_negative(name, level)
    if not 0 < level < 1:
        raise ValueError(f"{name} must be between 0 and 1 (exclusive), got {level}.")
    return level


VARIANCE_MODELS = ("equal", "unequal")
"""The variance models of ``select`` and ``bootstrap_lrt``: mclust's "E" and "V"."""


_MCLUST_MODELS = {"E": "equal", "V": "unequal"}


def check_variance_model(value) -> str:
    """A variance model, with the fix for mclust's one-letter names."""
    if isinstance(value, str) and value in _MCLUST_MODELS:
        raise ValueError(
            f"variance={value!r} is mclust's name of a model; fastem's is "
            f"variance={_MCLUST_MODELS[value]!r}."
        )
    return check_choice("variance", value, VARIANCE_MODELS)


def _fixed_mask(name: str, value, n_components: int) -> np.ndarray:
    if isinstance(value, (bool, np.bool_)):
        return np.full(n_components, bool(value))
    mask = np.asarray(value)
    if mask.dtype != np.bool_ or mask.shape != (n_components,):
        raise ValueError(
            f"{name} must be True/False or a boolean array of shape ({n_components},), one "
            "flag per component."
        )
    return mask


def check_model(
    n_components,
    reg_variance,
    equal_variance,
    equal_weights,
    given,
    *,
    fix_weights,
    fix_means,
    fix_variances,
    penalised_by=None,
) -> Model:
    """The model, with its constraints checked against the given starting values;
    ``penalised_by`` a :class:`fastem.priors.Penalty` or None."""
    masks = {}
    for name, value, start_name, start in (
        ("fix_weights", fix_weights, "weights_init", given.weights),
        ("fix_means", fix_means, "means_init", given.means),
        ("fix_variances", fix_variances, "variances_init", given.variances),
    ):
        mask = _fixed_mask(name, value, n_components)
        if mask.any() and start is None:
            raise ValueError(
                f"{name} holds parameters at their starting values; pass {start_name}."
            )
        masks[name] = mask
    if equal_weights:
        if given.weights is not None:
            raise ValueError(
                "equal_weights=True holds the weights at 1/K; drop weights_init (or use "
                "fix_weights to hold other values)."
            )
        if masks["fix_weights"].any():
            raise ValueError("equal_weights=True already fixes the weights; drop fix_weights.")
    mask = masks["fix_variances"]
    if equal_variance and mask.any() and not mask.all():
        raise ValueError(
            "equal_variance=True shares one variance: fix_variances must be True for all "
            "components or for none."
        )
    return Model(
        n_components=n_components,
        reg_variance=reg_variance,
        equal_variance=bool(equal_variance),
        equal_weights=bool(equal_weights),
        fixed_weights=masks["fix_weights"],
        fixed_means=masks["fix_means"],
        fixed_variances=mask,
        penalty=penalised_by,
    )


def check_random_state(random_state) -> int:
    """A seed in [0, 2**63) from ``None`` (fresh entropy), an int or a numpy ``Generator``.

    Larger ints are reduced modulo 2**63 (numba passes integers as int64).
    """
    if random_state is None:
        return secrets.randbits(63)  # fresh entropy, as numpy's SeedSequence() draws it
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**63))
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**63 - 1, dtype=np.int64))
    if isinstance(random_state, (bool, np.bool_)) or not isinstance(random_state, numbers.Integral):
        raise TypeError(
            "random_state must be None, an int, or a numpy Generator or RandomState, got "
            f"{random_state!r}."
        )
    if random_state < 0:
        raise ValueError(f"random_state must be >= 0, got {random_state}.")
    return int(random_state) % 2**63


class Seed(NamedTuple):
    """What random starts are keyed by, besides their dataset's content: the seed, and the
    number of the batch's first restart (restarts ``first_restart, first_restart + 1,
    ...`` of every dataset), so that further rounds of restarts draw new starts."""

    random_state: int
    first_restart: int = 0
