"""The engine: every numba kernel and the Python that runs it.

Nothing outside this package is compiled. The kernels fit one mixture each
(:mod:`.kernels`, whose steps are :mod:`.em`, :mod:`.estep`, :mod:`.mstep`,
:mod:`.squarem` and :mod:`.stopping`) or find its start (:mod:`.starts`, from
:mod:`.seeding` and :mod:`.blocks`); :mod:`.arguments` names their arguments, :mod:`.jit`
runs them in parallel over fits, and :mod:`.run` allocates their outputs and runs them so
that Ctrl-C stops them. :mod:`.status` holds the codes they report."""
