"""Per-fit status codes shared by the kernels and the Python layer."""

from __future__ import annotations

from enum import IntEnum


class Status(IntEnum):
    """Outcome of one fit, one code per (dataset, restart) pair.

    When several apply, the highest code wins: a fit that converged with a
    floored variance reports ``VARIANCE_FLOORED`` (its ``converged`` flag says
    whether the tolerance was met). Codes from ``SPURIOUS`` up mark fits that are not
    estimates of the mixture: ``skip_degenerate`` and :func:`fastem.select` pass them
    over.

    Examples
    --------
    >>> fastem.Status(3).name, fastem.Status.SPURIOUS > fastem.Status.MAX_ITER
    ('VARIANCE_FLOORED', True)
    """

    CONVERGED = 0
    """The change in mean log-likelihood per point fell below ``tol``."""
    MAX_ITER = 1
    """``max_iter`` iterations ran without meeting ``tol``."""
    SPURIOUS = 2
    """A spurious maximum by the fit's :class:`~fastem.SpuriousRule`: a component on a few
    points with a variance small next to the others' (set after the kernel, from the
    final parameters)."""
    VARIANCE_FLOORED = 3
    """A component collapsed: its variance fell below ``reg_variance`` (when positive) or
    the floor of 1e-15, both relative to the dataset's variance, or its weight reached
    zero."""
    NON_FINITE = 4
    """The log-likelihood became NaN or infinite (for example from extreme starting values);
    the parameters are those at which it happened, and are not usable."""
    NOT_RUN = 5
    """No fit: a restart's place in a grid of restarts that its dataset did not use (with
    ``n_init="auto"``, a dataset whose search settled early ran fewer restarts than the
    others; ``FitResult.n_restarts`` says how many)."""
