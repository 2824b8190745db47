"""The algorithms a fit kernel runs, by code, and the kernel family of each.

A kernel family is compiled on its own (:mod:`.kernels`), so a fit compiles only the
family it runs: ``fit_em`` runs EM alone, ``fit_accelerated`` the accelerators of EM's
map (a ``method`` code below selects one at run time), ``fit_classification`` CEM and SEM.

The codes are written out, not derived: numba freezes module-level ints into the machine
code, and its cache is keyed on the text of the file that uses them.
"""

from __future__ import annotations

EM = 0
SQS3 = 3
"""SQUAREM, scheme SqS3 (Varadhan & Roland 2008): :mod:`.squarem`."""

CEM = 7
"""Classification EM (Celeux & Govaert 1992): :mod:`.classification`."""
SEM = 8
"""Stochastic EM (Celeux & Diebolt 1985): :mod:`.classification`."""
CLASSIFICATION = (CEM, SEM)
"""The codes the ``fit_classification`` kernel runs; they draw labels at random (SEM)
or not (CEM)."""
DRAWING = (SEM,)
"""The codes of algorithms that draw at random, which need the datasets' content keys."""

CODES = {"em": EM, "squarem": SQS3, "cem": CEM, "sem": SEM}
"""The code of each algorithm's name, as :func:`fastem.fit` takes it."""
