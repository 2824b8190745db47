"""The one place that owns numba's compilation options.

Every kernel in fastem is compiled through :func:`jit`, so the options below are the
whole policy:

- ``cache=True``: compiled machine code is written next to the sources, so a second
  process loads it instead of compiling again.
- ``nogil=True``: kernels release the GIL, so several Python threads (Dask's, for
  instance) can run fits at once.
- ``error_model="numpy"``: division by zero gives ``inf``/``nan`` instead of raising,
  which keeps the inner loops free of checks; the kernels report a per-fit status
  instead of raising on data.
- ``fastmath`` with only the flags that keep ``inf`` and ``nan`` semantics: the
  log-space code relies on ``log(0) == -inf`` and ``exp(-inf) == 0``, so ``nnan`` and
  ``ninf`` are left out. ``reassoc`` lets LLVM vectorise the sums over points.
- ``strict=True`` keeps only ``contract`` (fused multiply-add), for code whose accuracy
  depends on the order of evaluation: the hand-written ``exp`` rounds with a magic
  constant and splits ``ln 2`` in two (Cody-Waite), which reassociation would undo.
"""

from __future__ import annotations

from numba import njit

FASTMATH_FLAGS = frozenset({"nsz", "arcp", "contract", "afn", "reassoc"})
STRICT_FLAGS = frozenset({"contract"})


def jit(func=None, *, parallel=False, strict=False):
    """Compile ``func`` with fastem's numba options.

    Use as ``@jit``, ``@jit(parallel=True)`` or ``@jit(strict=True)``.
    """
    options = {
        "cache": True,
        "nogil": True,
        "error_model": "numpy",
        "fastmath": set(STRICT_FLAGS if strict else FASTMATH_FLAGS),
        "parallel": parallel,
    }
    if func is None:
        return njit(**options)
    return njit(**options)(func)
