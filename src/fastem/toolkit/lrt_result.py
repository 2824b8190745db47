"""What :func:`fastem.bootstrap_lrt` gives: the tests of every dataset as they run
(:class:`Tests`), their p-values, the number of components chosen, and the
:class:`LRTResult`."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from .. import checks as _validate
from ..table import Table


@dataclass(frozen=True, repr=False)
class LRTResult:
    """What :func:`bootstrap_lrt` found, per dataset and test.

    Test ``t`` compares ``K = tested[t]`` components (the null) with ``K + 1``. Arrays
    have a leading dataset axis, dropped for one 1D dataset. Entries of tests that did not
    run (after a dataset's sequential procedure stopped) are NaN, or 0 for counts, and
    ``ran`` is False there.

    Examples
    --------
    See :func:`fastem.bootstrap_lrt`.
    """

    #: int array of shape (n_tests,): the null's number of components of each test: 1, 2,
    #: ..., ``max_components - 1``.
    tested: np.ndarray
    #: array of shape (n_datasets, n_tests): the observed likelihood-ratio statistic
    #: ``2 (l_{K+1} - l_K)``.
    statistic: np.ndarray
    #: array of shape (n_datasets, n_tests, n_boot): the statistic of each bootstrap
    #: replicate; NaN for a replicate whose fit failed.
    boot_statistics: np.ndarray
    #: array of shape (n_datasets, n_tests): ``(1 + #{boot >= observed}) / (n_valid +
    #: 1)``; NaN when no replicate has a statistic.
    p_value: np.ndarray
    #: array of shape (n_datasets, n_tests): the p-value's Monte Carlo standard error,
    #: ``sqrt(p (1 - p) / n_valid)``.
    p_value_mcse: np.ndarray
    #: int array of shape (n_datasets, n_tests): replicates with a statistic.
    n_valid: np.ndarray
    #: int array of shape (n_datasets, n_tests): replicates whose statistic is below 0
    #: (the ``K + 1`` fit below the ``K`` fit: none, by construction, up to rounding).
    n_negative: np.ndarray
    #: int array of shape (n_datasets, n_tests): replicates whose fits failed (a
    #: non-finite log-likelihood, or no restart of either model that was not spurious or
    #: collapsed), left out of the p-value.
    n_failed: np.ndarray
    #: int array of shape (n_datasets, n_tests): replicates whose ``K + 1`` fit is no
    #: better than their ``K`` fit (statistic 0: the search found nothing but the ``K``
    #: fit with a component duplicated or emptied); they count, with statistic 0.
    n_redundant: np.ndarray
    #: bool array of shape (n_datasets, n_tests): whether the test was made.
    ran: np.ndarray
    #: str array of shape (n_datasets, n_tests): why a test that a dataset reached was not
    #: made, or made no p-value ("" where it ran, or where the sequential procedure had
    #: stopped before it): "no regular fit to the data" (every restart of ``K`` or ``K +
    #: 1`` components was spurious, collapsed or failed), "K+1 fit no better than K,
    #: search not settled" (the search for ``K + 1`` components found nothing above the
    #: ``K`` fit, only it with a component duplicated or emptied, and did not settle: a
    #: test that did not happen, never "not rejected"; where the search settled, nothing
    #: better was there to find, and the test is made with its statistic of about 0), or
    #: "every replicate failed".
    reason: np.ndarray
    #: int array of shape (n_datasets,): the chosen number of components: the first ``K``
    #: not rejected at ``level``, or ``max_components`` when every test rejects; 0 when a
    #: test could not be made before that (the fits to the data failed, or every
    #: replicate's fits did).
    n_components: np.ndarray
    #: array of shape (n_datasets, max_components): log-likelihood of the fits to the data
    #: with 1, 2, ..., ``max_components`` components.
    log_likelihood: np.ndarray
    #: int: replicates per test.
    n_boot: int
    #: float: a test rejects ``K`` components when its p-value is at most ``level``.
    level: float
    #: str: the variance model of every fit, "equal" or "unequal".
    variance: str
    #: bool: whether each dataset's tests stopped at the first ``K`` not rejected.
    sequential: bool

    @property
    def n_datasets(self) -> int:
        """int: the number of datasets (1 for a single 1D dataset)."""
        return 1 if np.ndim(self.n_components) == 0 else len(self.n_components)

    def table(self) -> Table:
        """One row per dataset and test that ran or failed: ``dataset`` (from 0), ``test`` ("1 vs
        2"), ``statistic``, ``p_value``, ``p_value_mcse``, ``rejected`` (at ``level``),
        ``n_valid``, ``n_negative``, ``n_failed``, ``n_redundant``, ``failed`` (the
        ``reason`` a test was not made, "" where it ran)."""
        reached = np.atleast_2d(self.ran) | (np.atleast_2d(self.reason) != "")
        d, t = np.nonzero(reached)

        def pick(values):
            return np.atleast_2d(values)[d, t]

        p = pick(self.p_value)
        return Table(
            {
                "dataset": d,
                "test": np.array([f"{k} vs {k + 1}" for k in self.tested[t]]),
                "statistic": pick(self.statistic),
                "p_value": p,
                "p_value_mcse": pick(self.p_value_mcse),
                "rejected": p <= self.level,
                "n_valid": pick(self.n_valid),
                "n_negative": pick(self.n_negative),
                "n_failed": pick(self.n_failed),
                "n_redundant": pick(self.n_redundant),
                "failed": pick(self.reason).astype(str),
            }
        )

    def __repr__(self) -> str:
        chosen = np.atleast_1d(self.n_components)
        counts = ", ".join(f"K={k}: {n}" for k, n in zip(*np.unique(chosen, return_counts=True)))
        return (
            f"LRTResult({self.n_datasets} dataset(s), n_boot={self.n_boot}, "
            f"{self.variance} variances, chosen {counts})"
        )

    def __str__(self) -> str:
        kind = "sequential " if self.sequential else ""
        title = f"Bootstrap {kind}LRT for the number of mixture components"
        rule = "-" * len(title)
        lines = [
            rule,
            title,
            rule,
            f"Model        = {'V' if self.variance == 'unequal' else 'E'} "
            f"({self.variance} variances)",
            f"Replications = {self.n_boot}",
        ]
        if self.n_datasets > 1:
            chosen = np.atleast_1d(self.n_components)
            for k, n in zip(*np.unique(chosen, return_counts=True)):
                lines.append(f"chosen K = {k}: {n} of {chosen.size} datasets")
            lines.append("(table() has every test of every dataset)")
            return "\n".join(lines)
        table = self.table()
        lines.append(
            f"{'':8} {'LRTS':>12} {'bootstrap p-value':>18} {'MCSE':>8}"
            f" {'negative':>9} {'failed':>7}"
        )
        for row in table.to_records():
            if row["failed"]:
                lines.append(f"{row['test']:8} not made: {row['failed']}")
                continue
            p = "nan" if row["p_value"] is None else f"{row['p_value']:.4g}"
            mcse = "nan" if row["p_value_mcse"] is None else f"{row['p_value_mcse']:.2g}"
            stat = "nan" if row["statistic"] is None else f"{row['statistic']:.7g}"
            lines.append(
                f"{row['test']:8} {stat:>12} {p:>18} {mcse:>8}"
                f" {row['n_negative']:>9} {row['n_failed']:>7}"
            )
        lines.append(f"Chosen: {self.n_components} component(s) at level {self.level:g}")
        return "\n".join(lines)


@dataclass
class Tests:
    """The tests of every dataset as they run, per dataset and test (n_datasets, n_tests):
    the observed ``statistic``, the replicates' (``boot``, with n_boot last), whether the
    test ``ran``, the ``reason`` of one that could not; per dataset whether its tests are
    still ``active`` and whether they stopped undecided (``blocked``)."""

    statistic: np.ndarray
    boot: np.ndarray
    ran: np.ndarray
    active: np.ndarray
    blocked: np.ndarray
    reason: np.ndarray

    @classmethod
    def empty(cls, n_datasets: int, n_tests: int, n_boot: int) -> Tests:
        """Tests not run yet: NaN statistics, every dataset active."""
        return cls(
            statistic=np.full((n_datasets, n_tests), np.nan),
            boot=np.full((n_datasets, n_tests, n_boot), np.nan),
            ran=np.zeros((n_datasets, n_tests), dtype=np.bool_),
            active=np.ones(n_datasets, dtype=np.bool_),
            blocked=np.zeros(n_datasets, dtype=np.bool_),
            reason=np.full((n_datasets, n_tests), "", dtype=object),
        )


def result_of_tests(tests: Tests, log_likelihood, *, level, variance, sequential) -> LRTResult:
    """The :class:`LRTResult` of the finished ``tests``: p-values and their MCSEs, counts of
    the replicates, and the number of components chosen; warns about datasets whose tests
    stopped undecided."""
    statistic, boot, ran, reason = tests.statistic, tests.boot, tests.ran, tests.reason
    n_datasets, n_tests, n_boot = boot.shape
    max_components = n_tests + 1
    n_valid = np.isfinite(boot).sum(axis=2)
    n_failed = np.where(ran, n_boot - n_valid, 0)
    n_negative = (boot < 0).sum(axis=2)
    n_redundant = (boot == 0).sum(axis=2)
    p_value = np.full((n_datasets, n_tests), np.nan)
    p_value[ran] = p_values(statistic[ran], boot[ran])
    with np.errstate(invalid="ignore", divide="ignore"):
        mcse = np.sqrt(p_value * (1 - p_value) / n_valid)
    chosen = _chosen(p_value, ran, tests.blocked, level, max_components)
    undecided = np.flatnonzero(chosen == 0)
    if undecided.size:
        warnings.warn(
            f"dataset(s) {_validate.listed(undecided)}: a test could not be made (reason: "
            f"{_reasons(reason[undecided])}), so no test was made from there and "
            "n_components is 0: the fits to the data had no regular (not spurious, not "
            "collapsed) restart for some K, their K+1 fit was no better than the K fit, or "
            "every replicate's fits failed. Try more restarts (n_init_data, n_init) or "
            "fewer components.",
            UserWarning,
            stacklevel=3,  # from the caller of bootstrap_lrt
        )
    return LRTResult(
        tested=np.arange(1, max_components),
        statistic=statistic,
        boot_statistics=boot,
        p_value=p_value,
        p_value_mcse=mcse,
        n_valid=n_valid,
        n_negative=n_negative,
        n_failed=n_failed,
        n_redundant=np.where(ran, n_redundant, 0),
        ran=ran,
        reason=reason.astype(str),
        n_components=chosen,
        log_likelihood=log_likelihood,
        n_boot=n_boot,
        level=level,
        variance=variance,
        sequential=sequential,
    )


def _reasons(reasons) -> str:
    """The distinct reasons of failed tests, in words."""
    found = sorted({r for r in np.ravel(reasons) if r})
    return "; ".join(found) if found else "none recorded"


def p_values(observed, boot):
    """``(1 + #{boot >= observed}) / (n_valid + 1)`` per row of ``boot``; NaN for a row
    without a valid replicate."""
    valid = np.isfinite(boot)
    n_valid = valid.sum(axis=1)
    at_least = (np.where(valid, boot, -np.inf) >= observed[:, None]).sum(axis=1)
    return np.where(n_valid > 0, (1 + at_least) / (n_valid + 1), np.nan)


def _chosen(p_value, ran, blocked, level, max_components):
    """Per dataset: the first ``K`` whose test ran and did not reject; else 0 when the
    tests stopped undecided (no regular fit to the data, or no valid replicate), else
    ``max_components``."""
    accepted = ran & (p_value > level)
    first = np.argmax(accepted, axis=1) + 1
    return np.where(accepted.any(axis=1), first, np.where(blocked, 0, max_components)).astype(
        np.int64
    )
