"""Per-fit status codes shared by the kernels and the Python layer."""

from __future__ import annotations

from enum import IntEnum


class Status(IntEnum):
    """Outcome of one fit, one code per (dataset, restart) pair.

    When several apply, the highest code wins: a fit that converged with a
    floored variance reports ``VARIANCE_FLOORED`` (its ``converged`` flag says
    whether the tolerance was met).
    """

    CONVERGED = 0
    """The change in mean log-likelihood per point fell below ``tol``."""
    MAX_ITER = 1
    """``max_iter`` iterations ran without meeting ``tol``."""
    VARIANCE_FLOORED = 2
    """A component collapsed: its variance fell below ``reg_variance`` (when positive) or
    the floor of 1e-15, both relative to the dataset's variance, or its weight reached
    zero."""
    NON_FINITE = 3
    """The log-likelihood became NaN or infinite (for example from extreme starting values);
    the parameters are those at which it happened, and are not usable."""


# Plain integers for the kernels: numba freezes module-level ints as constants.
CONVERGED = int(Status.CONVERGED)
MAX_ITER = int(Status.MAX_ITER)
VARIANCE_FLOORED = int(Status.VARIANCE_FLOORED)
NON_FINITE = int(Status.NON_FINITE)
