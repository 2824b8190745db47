"""The engine: every numba kernel and the Python that runs it.

Nothing outside this package is compiled. The kernels fit one mixture each
(:mod:`.kernels`, :mod:`.starts`), :mod:`.jit` runs them in parallel over fits, and
:mod:`.run` allocates their outputs and runs them so that Ctrl-C stops them."""
