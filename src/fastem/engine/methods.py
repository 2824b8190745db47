"""The algorithms a fit kernel runs, by code, and the kernel family of each.

A kernel family is compiled on its own (:mod:`.kernels`), so a fit compiles only the
family it runs: ``fit_em`` runs EM alone, ``fit_accelerated`` the accelerators of EM's
map (a ``method`` code below selects one at run time).

The codes are written out, not derived: numba freezes module-level ints into the machine
code, and its cache is keyed on the text of the file that uses them.
"""

from __future__ import annotations

EM = 0
SQS3 = 3
"""SQUAREM, scheme SqS3 (Varadhan & Roland 2008): :mod:`.squarem`."""

DAAREM = 4
"""DAAREM, damped Anderson acceleration with restarts (Henderson & Varadhan 2019):
:mod:`.daarem`."""

CODES = {"em": EM, "squarem": SQS3, "daarem": DAAREM}
"""The code of each algorithm's name, as :func:`fastem.fit` takes it."""
