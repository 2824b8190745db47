"""The algorithms a fit kernel runs, by code, and the kernel family of each.

A kernel family is compiled on its own (:mod:`.kernels`), so a fit compiles only the
family it runs: ``fit_em`` runs EM and SQUAREM's schemes (a ``method`` code below selects
one at run time), ``fit_daarem`` DAAREM, ``fit_quasi_newton`` the quasi-Newton
acceleration, ``fit_classification`` CEM and SEM.

The codes are written out, not derived: numba freezes module-level ints into the machine
code, and its cache is keyed on the text of the file that uses them.
"""

from __future__ import annotations

EM = 0
SQS1 = 1
"""SQUAREM, scheme SqS1 (Varadhan & Roland 2008): :mod:`.squarem`."""
SQS2 = 2
"""SQUAREM, scheme SqS2: :mod:`.squarem`."""
SQS3 = 3
"""SQUAREM, scheme SqS3: :mod:`.squarem`."""
QN = 5
"""Quasi-Newton acceleration of EM (Zhou, Alexander & Lange 2011): :mod:`.quasi_newton`."""

DAAREM = 4
"""DAAREM, damped Anderson acceleration with restarts (Henderson & Varadhan 2019):
:mod:`.daarem`."""
ACCELERATORS = (SQS1, SQS2, SQS3, DAAREM, QN)
"""The codes of the accelerators of EM's map."""
CEM = 7
"""Classification EM (Celeux & Govaert 1992): :mod:`.classification`."""
SEM = 8
"""Stochastic EM (Celeux & Diebolt 1985): :mod:`.classification`."""
CLASSIFICATION = (CEM, SEM)
"""The codes the ``fit_classification`` kernel runs; they draw labels at random (SEM)
or not (CEM)."""
DRAWING = (SEM,)
"""The codes of algorithms that draw at random, which need the datasets' content keys."""

CODES = {
    "em": EM,
    "squarem": SQS3,
    "sqs1": SQS1,
    "sqs2": SQS2,
    "daarem": DAAREM,
    "qn": QN,
    "cem": CEM,
    "sem": SEM,
}
"""The code of each algorithm's name, as :func:`fastem.fit` takes it."""
