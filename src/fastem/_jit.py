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
- No ``fastmath`` flag at all, so that every CPU computes the same bits. Each flag lets
  LLVM choose the arithmetic by the CPU at hand: ``reassoc`` reorders sums by the
  vector width (4 lanes with AVX2, 8 with AVX-512), ``contract`` fuses a multiply and an
  add only where the target has FMA, ``arcp`` and ``afn`` may use the approximate
  reciprocal instructions of AVX-512. The kernels get the speed back by hand, in a
  machine-independent way: sums over points are 8 interleaved partial sums held in one
  8-wide vector (:func:`fastem._vmath.lane_sum`), whose order is fixed whatever the
  vector width of the CPU, and fused multiply-adds are explicit
  (:func:`fastem._vmath.fma`).

IEEE arithmetic without fastmath keeps ``inf`` and ``nan`` semantics, which the log-space
code relies on (``log(0) == -inf``, ``exp(-inf) == 0``).
"""

from __future__ import annotations

from numba import njit


def jit(func=None, *, parallel=False):
    """Compile ``func`` with fastem's numba options.

    Use as ``@jit`` or ``@jit(parallel=True)``.
    """
    options = {
        "cache": True,
        "nogil": True,
        "error_model": "numpy",
        "parallel": parallel,
    }
    if func is None:
        return njit(**options)
    return njit(**options)(func)
