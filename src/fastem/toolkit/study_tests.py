"""Tests of the number of components inside a Monte Carlo study: the size or power of a
test of ``K = k0`` against ``k0 + 1`` (:func:`fastem.bootstrap_lrt`, or any test in the
registry :data:`TESTS`) on every simulated dataset of a design cell, its rejection rates
at the study's ``levels``, and Boos & Zhang's (2000) extrapolation of a bootstrap test's
rejection rate to ``B = infinity`` from a few small bootstrap sizes.

A test is a function ``test(datasets, k0, settings, seed, first)`` of a chunk of datasets
(array of shape (n_datasets, n_samples)), the null's number of components, the
:class:`StudyTest`, the cell's seed of its tests and the index of the chunk's first dataset
in the cell (a test that draws at random keys dataset ``d``'s draws by ``(seed, first +
d)``, so that they do not depend on the chunks), that returns the p-values of shape
(n_datasets, len(settings.n_boot)) of a resampling test (one column per bootstrap size,
each from the first ``B`` replicates of one set drawn per dataset), or (n_datasets, 1)
of another; NaN where the test could not be made. :func:`register_test` adds one.
"""

from __future__ import annotations

import inspect
import re
import warnings
from dataclasses import dataclass, field

import numpy as np

from .. import checks as _validate
from . import mcse
from .emtest import emtest
from .lrt import bootstrap_lrt
from .lrt_result import p_values
from .replicates import stage_seed

TEST_STREAM = 2
"""Keys the seed of a cell's tests apart from the cell's simulation and the bootstrap of
its MCSEs, all derived from ``(random_state, cell)``."""


@dataclass(frozen=True)
class Registered:
    """A test of the registry: its function, whether it resamples (takes bootstrap
    sizes ``n_boot``, one p-value per size), and the names of the options it takes
    (``test_options``; None: not checked before the study runs)."""

    function: object
    resampling: bool
    options: tuple | None = None


TESTS: dict = {}
"""The tests a study can run on its datasets, by name: :class:`Registered`."""


def register_test(name: str, function, *, resampling: bool, options=None) -> None:
    """Make ``function(datasets, k0, settings, seed, first) -> p-values`` (see the module's
    docstring) the test ``name`` of ``study(..., test=StudyTest(name))`` and of the
    design field ``test``; ``options``: the names of the options it takes, checked when
    the test is made."""
    TESTS[name] = Registered(function, resampling, None if options is None else tuple(options))


@dataclass(frozen=True)
class StudyTest:
    """A test of ``K = k0`` against ``k0 + 1`` components run on every dataset of a study
    (``study(..., test=...)``), with its rejection rates at ``levels``.

    ``n_boot`` are the bootstrap sizes of a resampling test, ascending: the plain rate is
    that of the largest; with several, Boos & Zhang's extrapolation to ``B = infinity``
    uses them all, each the first ``B`` of one set of replicates per dataset. ``options``
    go to the test (:func:`fastem.bootstrap_lrt`'s ``n_init``, ``variance``, ...).
    Made by :func:`study_test`, which checks the values."""

    name: str
    k0: int = 1
    levels: tuple = (0.05,)
    n_boot: tuple = (99,)
    options: dict = field(default_factory=dict)

    @property
    def columns(self) -> tuple:
        """The bootstrap sizes of the p-values a dataset gets: ``n_boot``, or ``(0,)``
        for a test that does not resample."""
        return self.n_boot if TESTS[self.name].resampling else (0,)

    def check_sizes(self, sizes) -> None:
        """Refuse sample sizes too small for ``k0 + 1`` components (more points than
        components), before any work."""
        for n in sizes:
            if n < self.k0 + 2:
                raise ValueError(
                    f"n_samples {n} is too small for the test of {self.k0} against "
                    f"{self.k0 + 1} components; give at least {self.k0 + 2} points, or a "
                    "smaller test_k0."
                )


def study_test(name, k0=1, levels=(0.05,), n_boot=(99,), options=None) -> StudyTest | None:
    """The checked :class:`StudyTest` (None without ``name``): ``name`` a test of
    :data:`TESTS`, ``k0`` at least 1, ``levels`` distinct numbers strictly between 0
    and 1, ``n_boot`` distinct bootstrap sizes of at least 1 (sorted, both)."""
    if name is None:
        return None
    name = _validate.check_choice("test", name, tuple(TESTS))
    k0 = _validate.check_int("test_k0", k0, 1)
    levels = [levels] if np.ndim(levels) == 0 else list(levels)
    for level in levels:
        _validate.check_level(level, "levels")
    sizes = [n_boot] if np.ndim(n_boot) == 0 else list(n_boot)
    sizes = [_validate.check_int("n_boot", b, 1, _validate.MAX_ITER_LIMIT) for b in sizes]
    if not levels or not sizes:
        raise ValueError("levels and n_boot need at least one value each, e.g. levels=[0.05].")
    if options is not None and not isinstance(options, dict):
        raise TypeError(f"test_options must be a dict of the test's options, got {options!r}.")
    known = TESTS[name].options
    unknown = [] if known is None else sorted(set(options or {}) - set(known))
    if unknown:
        raise ValueError(
            f"test_options {unknown} are not options of the test {name!r}; it takes "
            f"{', '.join(known or ())}."
        )
    return StudyTest(
        name,
        k0,
        tuple(sorted({float(level) for level in levels})),
        tuple(sorted(set(sizes))),
        dict(options or {}),
    )


def options_table(value) -> dict:
    """The test's options as a design file gives them (``test_options``): a table."""
    if not isinstance(value, dict):
        raise TypeError(
            f"must be a table of the test's options, e.g. {{n_init = 1}}, got {value!r}"
        )
    return dict(value)


def run_test(test: StudyTest, data, first: int, cell_seed: int) -> np.ndarray:
    """The p-values of datasets ``first, first + 1, ...`` of a cell (``data``, one row
    each), of shape (n_datasets, len(test.columns)): the tests seeded by the cell's seed,
    each dataset's draws by its index in the cell, so that they do not depend on the
    chunks or the threads."""
    seed = stage_seed(cell_seed, TEST_STREAM)
    return TESTS[test.name].function(data, test.k0, test, seed, first)


def _bootstrap_lrt(datasets, k0, test: StudyTest, seed, first) -> np.ndarray:
    """The parametric bootstrap LRT's p-values (:func:`fastem.bootstrap_lrt` of ``k0``
    against ``k0 + 1``) of each dataset at each size of ``test.n_boot``: one call for
    the chunk (``first_dataset=first``: the draws of the whole cell's call), each
    dataset's ``max(n_boot)`` replicates drawn once, and its p-value at ``B`` from the
    first ``B`` of them."""
    with warnings.catch_warnings():
        # A dataset whose test cannot be made is counted (test_failed), not news.
        warnings.simplefilter("ignore")
        result = bootstrap_lrt(
            datasets,
            k0 + 1,
            test.n_boot[-1],
            random_state=seed,
            sequential=False,
            first_dataset=first,
            **test.options,
        )
    observed, boot = result.statistic[:, -1], result.boot_statistics[:, -1]
    p = np.column_stack([p_values(observed, boot[:, :b]) for b in test.n_boot])
    p[~result.ran[:, -1]] = np.nan
    return p


_SET_BY_STUDY = (
    "data",
    "max_components",
    "n_boot",
    "random_state",
    "sequential",
    "progress",
    "first_dataset",
)
"""The arguments of :func:`fastem.bootstrap_lrt` that the study gives (``level`` is only
its choice of K, which the study does not use)."""

register_test(
    "bootstrap_lrt",
    _bootstrap_lrt,
    resampling=True,
    options=[
        name
        for name in inspect.signature(bootstrap_lrt).parameters
        if name not in (*_SET_BY_STUDY, "level")
    ],
)


def _emtest(datasets, k0, test: StudyTest, seed, first) -> np.ndarray:
    """The EM-test's p-values (:func:`fastem.emtest` of the order ``k0``, whose alternative
    is ``2 k0`` components), one column: its draws depend on each dataset's content, not
    on ``first``, so they do not depend on the chunks either."""
    del first
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = emtest(datasets, k0, random_state=seed, **test.options)
    return np.reshape(result.p_value, (-1, 1))


register_test(
    "emtest",
    _emtest,
    resampling=False,
    options=[
        name
        for name in inspect.signature(emtest).parameters
        if name not in ("data", "m0", "random_state")
    ],
)


# ----------------------------------------------------------------------------- sums


def level_label(level: float) -> str:
    """``"05"`` for 0.05, ``"10"`` for 0.1, ``"005"`` for 0.005: the digits after the
    point, at least two (as simhelpers labels its levels)."""
    decimals = max(2, len(f"{level:.10g}".split(".")[1]))
    return f"{level:.{decimals}f}".split(".")[1]


def boos_zhang_weights(sizes) -> np.ndarray:
    """The coefficients ``c_j`` of Boos & Zhang's (2000) linear extrapolation of rejection
    rates ``pi_B`` in ``1 / B`` to ``B = infinity``, ``pi_inf = sum_j c_j pi_{B_j}``: the
    intercept of the least-squares line through ``(1 / B_j, pi_{B_j})``,
    ``c_j = 1 / m - (x_j - xbar) xbar / sum_i (x_i - xbar)^2`` with ``x_j = 1 / B_j``.
    They sum to 1, and ``sum_j c_j / B_j = 0``."""
    x = 1.0 / np.asarray(sizes, dtype=np.float64)
    centred = x - x.mean()
    return 1.0 / x.size - centred * x.mean() / np.sum(centred**2)


class TestSums:
    """A design cell's test results, a chunk at a time: per level, the integer sums
    ``sum_d I_d I_d^T`` of each tested dataset's rejection indicators at the bootstrap
    sizes (their diagonal the rejections), so that the rates, their covariance and the
    extrapolation do not depend on the chunks; the p-values kept with
    ``keep_replications`` (for :meth:`fastem.StudyResult.raw`)."""

    __test__ = False  # not a pytest class

    def __init__(self, test: StudyTest, keep: bool):
        self.test = test
        m = len(test.columns)
        self.products = np.zeros((len(test.levels), m, m), dtype=np.int64)
        self.n = self.n_tested = 0
        self.kept: list | None = [] if keep else None

    def add(self, p: np.ndarray) -> None:
        """A chunk's p-values (n_datasets, len(test.columns)), in the datasets' order."""
        tested = np.isfinite(p).all(axis=1)
        self.n += len(p)
        self.n_tested += int(tested.sum())
        for index, level in enumerate(self.test.levels):
            rejected = (p[tested] <= level).astype(np.int64)
            self.products[index] += rejected.T @ rejected
        if self.kept is not None:
            self.kept.append(p)

    def columns(self) -> dict:
        """The table's columns of the test, the same in every row of the cell (see
        :func:`fastem.study`)."""
        n, sizes = self.n_tested, self.test.columns
        failed = 1 - n / self.n
        row = {
            "test_failed": failed,
            "test_failed_mcse": float(mcse.proportion_mcse(failed, self.n)),
        }
        for index, level in enumerate(self.test.levels):
            label, products = level_label(level), self.products[index]
            rates = np.diag(products) / n if n else np.full(len(sizes), np.nan)
            row[f"reject_{label}"] = rates[-1]
            row[f"reject_{label}_mcse"] = float(mcse.proportion_mcse(rates[-1], n))
            if len(sizes) < 2:
                continue
            row[f"reject_{label}_bz"], row[f"reject_{label}_bz_mcse"] = self._extrapolated(
                products, level
            )
            for b, rate in zip(sizes[:-1], rates[:-1]):
                row[f"reject_{label}_b{b}"] = rate
                row[f"reject_{label}_b{b}_mcse"] = float(mcse.proportion_mcse(rate, n))
        return row

    def _extrapolated(self, products, level) -> tuple:
        """Boos & Zhang's ``pi_inf`` and its MCSE, from the sums of the indicators' products:
        with ``Y_d = sum_j c_j I_dj``, ``pi_inf`` is the mean of ``Y_d`` and its MCSE
        ``sd(Y) / sqrt(n)``, ``sum_d Y_d^2 = c^T (sum_d I_d I_d^T) c``. NaN unless every
        ``(B + 1) level`` is a whole number (the bootstrap test's size is then exactly
        ``level`` for every ``B``, which the extrapolation needs) and two datasets were
        tested."""
        n, sizes = self.n_tested, np.asarray(self.test.columns, dtype=np.float64)
        whole = np.abs((sizes + 1) * level - np.rint((sizes + 1) * level)) < 1e-9
        if n < 2 or not whole.all():
            return np.nan, np.nan
        c = boos_zhang_weights(sizes)
        mean = float(c @ np.diag(products)) / n
        squares = float(c @ products.astype(np.float64) @ c)
        variance = max(squares - n * mean**2, 0.0) / (n - 1)
        return mean, float(np.sqrt(variance / n))

    def raw_columns(self, p=None) -> dict:
        """The raw rows' p-values: of the chunk ``p``, or of every kept dataset:
        ``p_value`` (at the largest bootstrap size) and ``p_value_b19``, ... at the
        others."""
        p = np.concatenate(self.kept) if p is None else p
        sizes = self.test.columns
        columns = {"p_value": p[:, -1]}
        columns.update({f"p_value_b{b}": p[:, j] for j, b in enumerate(sizes[:-1])})
        return columns


def brief_test_columns(names) -> list:
    """The test's columns among ``names`` that ``fastem study`` prints without
    ``--all-columns``: the failed share and, per level, the plain and extrapolated rates
    with their MCSEs."""
    return [
        name
        for name in names
        if name.startswith(("test_failed", "reject_")) and not _AT_SIZE.fullmatch(name)
    ]


_AT_SIZE = re.compile(r"reject_\d+_b\d+(_mcse)?")
"""The columns of the rates at the smaller bootstrap sizes (``reject_05_b19``)."""


def is_test_measure(name: str) -> bool:
    """Whether ``name`` is a measure of a test of K in a study's table, with an MCSE column
    (``test_failed``, ``reject_05``, ``reject_05_bz``, ``reject_05_b19``): a figure of it
    against a design variable is the test's power curve."""
    return bool(_MEASURE.fullmatch(name))


_MEASURE = re.compile(r"test_failed|reject_\d+(_bz|_b\d+)?")
