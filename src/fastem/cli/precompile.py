"""The ``fastem compile`` command: compile the kernels of the common paths into numba's
cache once, so that no later command waits for them.

numba compiles each kernel at its first call for the types it gets, and keeps the machine
code in its cache (beside fastem's files, or in ``NUMBA_CACHE_DIR``), from which every later
process loads it. A first ``fastem fit`` after an install therefore compiles; this command
does it at install time instead (``make`` runs it after setting up the environment). Each
path is a small call of fastem's own API, so it compiles exactly what that call compiles
for a user, and a kernel already in the cache is only loaded.
"""

from __future__ import annotations

import os
import time

import numpy as np

from .flags import Formatter
from .shared import write_stdout


def _data():
    """100 points in two clear clusters, the same in every run."""
    rng = np.random.default_rng(0)
    return np.concatenate([rng.normal(-2.0, 1.0, 40), rng.normal(3.0, 1.0, 60)])


def _fit(n_datasets=1, **options):
    """A fit of ``n_datasets`` copies of :func:`_data` (one fit runs without numba's
    parallel loop, several compile it too)."""
    from .. import api

    def run():
        data = _data() if n_datasets == 1 else np.tile(_data(), (n_datasets, 1))
        return api.fit(data, **options, warn=False)

    return run


def _far_pass():
    """The E-step's far pass (float64), which a fit compiles only when a mean moves very
    far in one iteration (:func:`fastem.engine.estep.e_steps`)."""
    from ..engine.estep import e_steps

    values = _data()
    e_steps(values, values[:0], 2, np.float64, far=True)
    e_steps(values, values[:0], 3, np.float64, far=True)


PATHS = (
    (
        "fastem fit: the default search (its starts, EM and SQUAREM), 2 components",
        _fit(n_components=2, n_init="auto"),
    ),
    ("fastem fit: another number of components (3)", _fit(n_components=3, n_init="auto")),
    ("fastem.fit: the default start (k-means++) and SQUAREM", _fit(2, n_components=2)),
    (
        "standard errors (--se score and louis)",
        lambda: [_fit(n_components=2, se=se)() for se in ("score", "louis")],
    ),
    (
        "the E-step in float32 (dtype=numpy.float32), 2 and 3 components",
        lambda: [_fit(2, n_components=k, dtype=np.float32)() for k in (2, 3)],
    ),
    ("the E-step's far pass (a mean that moves far in one iteration)", _far_pass),
)
"""What ``fastem compile`` compiles: a description, and a call that compiles it."""


def add_command(commands) -> None:
    """Add ``compile`` to the subcommands of the ``fastem`` parser."""
    parser = commands.add_parser(
        "compile",
        help="compile the kernels of the common paths into numba's cache, once",
        description="Compile (or load, when they are there already) the kernels of the "
        "common paths into numba's cache, so that later commands start without compiling: "
        "the default fit, other numbers of components, standard errors, the float32 "
        "E-step and the E-step's far pass. Prints each path and its time. Once per "
        "installation and CPU; make runs it after setting up the environment. The cache "
        "is beside fastem's files, or in NUMBA_CACHE_DIR when that is set.",
        formatter_class=Formatter,
    )
    parser.add_argument("--quiet", action="store_true", help="print nothing (errors still print)")
    parser.set_defaults(run=_compile)


def _compile(args) -> int:
    """``fastem compile``: each of :data:`PATHS`, timed."""
    say = (lambda text: None) if args.quiet else (lambda text: write_stdout(text + "\n"))
    where = os.environ.get("NUMBA_CACHE_DIR") or "beside fastem's files"
    say(f"fastem: compiling the kernels of the common paths into numba's cache ({where})")
    began = time.perf_counter()
    for description, call in PATHS:
        start = time.perf_counter()
        call()
        say(f"  {time.perf_counter() - start:6.1f} s  {description}")
    say(f"fastem: done in {time.perf_counter() - began:.1f} s; later commands load these kernels")
    return 0
