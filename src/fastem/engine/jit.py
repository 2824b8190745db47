"""The one place that owns numba's compilation options.

Every kernel in fastem is compiled through :func:`jit`, so the options below are the
whole policy:

- a cache: compiled machine code is written next to the sources (or in
  ``NUMBA_CACHE_DIR``, or the user's cache directory, where numba finds one), so a second
  process loads it instead of compiling again. A cache that cannot be used never stops a
  fit (:class:`_Cache`): with nowhere to write (a read-only install and an unwritable
  home), or a disk that fills up, fastem compiles without it, after one
  :class:`CacheWarning` that names ``NUMBA_CACHE_DIR``; a broken entry (a truncated file)
  is compiled again and replaced.
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
  8-wide vector (:func:`fastem.engine.vmath.lane_sum`), whose order is fixed whatever the
  vector width of the CPU, and fused multiply-adds are explicit
  (:func:`fastem.engine.vmath.fma`).

IEEE arithmetic without fastmath keeps ``inf`` and ``nan`` semantics, which the log-space
code relies on (``log(0) == -inf``, ``exp(-inf) == 0``).

Threads: parallel kernels run on numba's TBB threading layer (the ``tbb`` package, a
dependency on x86-64). It is the one layer that is safe both after ``fork()`` (GNU
OpenMP, numba's default, makes ``multiprocessing``'s default start method hang or abort
after any fit) and with several Python threads calling kernels at once (the
``workqueue`` layer aborts then). A ``NUMBA_THREADING_LAYER`` set by the user wins.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import hashlib
import os
import sys
import warnings

try:
    import fcntl
except ImportError:  # not POSIX: no lock (numba's cache as it is)
    fcntl = None  # type: ignore[assignment]

import numba
import numpy as np
from numba import njit, prange
from numba.core.caching import FunctionCache, NullCache
from numba.core.types.function_type import WrapperAddressProtocol
from numba.extending import overload

TBB_LIBRARY = "libtbb.so.12"


def _use_tbb() -> bool:
    """Select numba's TBB threading layer, if TBB can be loaded; returns whether it was.

    The ``tbb`` wheel puts its library in ``<prefix>/lib``, which the dynamic loader does
    not search, so it is loaded here by path first; numba's own lookup by name then finds
    it already loaded.
    """
    chosen = os.environ.get("NUMBA_THREADING_LAYER") or numba.config.THREADING_LAYER != "default"
    if chosen or not sys.platform.startswith("linux"):
        return False
    for directory in (os.path.join(sys.prefix, "lib"), None):
        path = TBB_LIBRARY if directory is None else os.path.join(directory, TBB_LIBRARY)
        try:
            ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
        except OSError:
            continue
        numba.config.THREADING_LAYER = "tbb"
        return True
    return False


USES_TBB = _use_tbb()


OPTIONS = {"nogil": True, "error_model": "numpy"}
"""The options every compiled function has, whether compiled on its own (:func:`jit`) or
as part of its callers (:func:`by_type`)."""


def jit(func=None, *, parallel=False, inline=False):
    """Compile ``func`` with fastem's numba options.

    Use as ``@jit``, ``@jit(parallel=True)`` or ``@jit(inline=True)``. ``inline`` copies
    the function into each caller when numba compiles it, for small helpers that the
    kernels call per block of points or per iteration: a call that LLVM does not inline
    costs two atomic reference-count updates per array argument (numba's, on each call),
    a visible share of a small fit's time; inlined, numba drops most of them. It costs
    compile time, so the large functions stay calls.
    """
    options = {**OPTIONS, "parallel": parallel, "inline": "always" if inline else "never"}

    def compiled(func):
        dispatcher = njit(**options)(func)
        if not numba.config.DISABLE_JIT:
            _cache(dispatcher)
        return dispatcher

    return compiled if func is None else compiled(func)


class CacheWarning(UserWarning):
    """numba's cache of compiled kernels cannot be used: fastem compiles without it."""


def _cache(dispatcher) -> None:
    """Give ``dispatcher`` a :class:`_Cache`, as numba's ``cache=True`` gives it a
    ``FunctionCache``; with no place for one, a cache that only warns (once, when the
    first kernel compiles)."""
    try:
        dispatcher._cache = _Cache(dispatcher.py_func)
    except RuntimeError:  # numba: "no locator available" for the source file
        dispatcher._cache = _NoCache()


@functools.cache
def _engine_stamp() -> str:
    """A hash of the text of every module of this package (where every kernel lives)."""
    return source_stamp(os.path.dirname(os.path.abspath(__file__)))


def source_stamp(directory) -> str:
    """A hash of the names and text of the Python modules in ``directory``."""
    digest = hashlib.sha256()
    for name in sorted(os.listdir(directory)):
        if name.endswith(".py"):
            digest.update(name.encode())
            with open(os.path.join(directory, name), "rb") as source:
                digest.update(source.read())
    return digest.hexdigest()


class _NoCache(NullCache):
    """No cache, for a function whose cache numba has no directory for."""

    def load_overload(self, sig, target_context):
        _Cache.give_up(
            "numba finds no writable directory for it, neither beside fastem's "
            "files nor in the user's cache directory"
        )


class _Cache(FunctionCache):
    """numba's cache of one function's machine code, which never stops a fit.

    Loading an entry that cannot be read back (a truncated or foreign file) compiles the
    function again, and the new entry replaces the broken one. Saving that fails (a full
    disk, a directory made read-only) warns once, and nothing more is saved in this
    process."""

    usable = True

    def __init__(self, py_func):
        super().__init__(py_func)
        # numba keys an entry on its function's own file alone: a kernel whose file is
        # unchanged but which inlines or calls code of another module that changed would
        # be loaded stale (after an upgrade, or an edit). Every kernel is in this package,
        # so its entries are keyed on the text of all of its modules as well.
        cache_file = self._cache_file
        cache_file._source_stamp = (cache_file._source_stamp, _engine_stamp())

    def load_overload(self, sig, target_context):
        try:
            with self.locked(shared=True):
                return super().load_overload(sig, target_context)
        except Exception:  # any entry that cannot be read back is compiled again
            # The index itself may be what is broken; without it, the next save writes a
            # fresh one instead of failing to read the old.
            with contextlib.suppress(OSError), self.locked(shared=False):
                os.unlink(self._cache_file._index_path)
            return None

    def save_overload(self, sig, data):
        if not _Cache.usable:
            return
        try:
            with self.locked(shared=False):
                super().save_overload(sig, data)
        except Exception as error:  # a cache that fails is left out
            _Cache.give_up(f"it cannot be written ({error})")

    @contextlib.contextmanager
    def locked(self, shared: bool):
        """The function's entries read (``shared``) or written by one process at a time.

        numba saves an entry by reading the function's index, choosing a data file's name
        that the index does not hold yet, then writing the index and the data file. Two
        processes that compile two signatures of a kernel at once (two workers of a pool
        on a new install, say) can choose the same name, and the index then names, for
        one signature, the other's machine code, which a later process would load and
        run. An advisory lock on a file beside the index (``flock``, where there is one)
        makes each save and each load whole; where the lock file cannot be opened or the
        file system has no ``flock`` (NFS without its lock daemon, say), the cache is used
        as numba uses it."""
        handle = None
        if fcntl is not None:
            with contextlib.suppress(OSError):
                handle = open(self._cache_file._index_path + ".lock", "ab")
        if handle is None:
            yield
            return
        with handle:  # closing the file releases the lock
            try:
                fcntl.flock(handle, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
            except OSError:  # ENOLCK, ENOSYS: a file system without flock
                pass
            yield

    @staticmethod
    def give_up(why: str) -> None:
        if _Cache.usable:
            _Cache.usable = False
            warnings.warn(
                f"numba's cache of compiled kernels cannot be used: {why}; fastem compiles "
                "without it, so every process compiles again. Set NUMBA_CACHE_DIR to a "
                "writable directory to keep the compiled kernels.",
                CacheWarning,
                stacklevel=2,
            )


def by_type(function):
    """``@by_type(function)`` over ``chooser(*argument_types)`` makes numba compile, for a
    call of the plain Python ``function`` in compiled code, the implementation that
    ``chooser`` returns for those argument types (a Python function with ``function``'s
    parameters). So one kernel source compiles to a float64 and a float32 kernel, each
    calling the helpers of its precision. The implementation is compiled into each caller
    and cached with it. With ``NUMBA_DISABLE_JIT=1`` ``function`` runs as it is.
    """
    if numba.config.DISABLE_JIT:
        return lambda chooser: chooser
    return overload(function, jit_options=OPTIONS)


class _Compiled(WrapperAddressProtocol):
    """``dispatcher`` compiled for ``argument_types`` (or loaded from numba's cache), as a
    first-class function: a kernel that takes it as an argument calls it through its
    address instead of compiling a copy of it into its own machine code.

    numba links a copy of every function a kernel calls into the kernel's machine code,
    and optimises and assembles it again there, and its parallel loop wraps the loop's
    body in four layers, each with its own copy; a call by address does neither. A fit's
    kernel (called from the parallel loop) and its E-steps (called from the fit's EM map,
    its last pass and SQUAREM's step) are therefore passed by address
    (:func:`by_address`, :func:`for_each`).
    """

    def __init__(self, dispatcher, argument_types):
        dispatcher.compile(argument_types)
        result = dispatcher.overloads[argument_types]
        self._signature = result.signature
        self._address = result.library.get_pointer_to_function(
            result.fndesc.llvm_cfunc_wrapper_name
        )

    def signature(self):
        return self._signature

    def __wrapper_address__(self):
        return self._address


def type_key(value):
    """What numba's type of ``value`` depends on, cheaper to find than the type itself
    (``numba.typeof`` takes microseconds an argument, and a fit passes thirty)."""
    if isinstance(value, np.ndarray):
        flags = value.flags
        return (
            value.dtype,
            value.ndim,
            flags.c_contiguous,
            flags.f_contiguous,
            flags.writeable,
            flags.aligned,
        )
    if isinstance(value, (np.dtype, _Compiled)):
        return value
    if type(value) is int:  # int64, unless too large for it
        return int, -(2**63) <= value < 2**63
    return type(value)


_COMPILED: dict[tuple, object] = {}
"""``(dispatcher, argument keys)``: the :class:`_Compiled` for them, made once a process."""


def by_address(dispatcher, example_arguments):
    """``dispatcher`` compiled for the types of ``example_arguments``, to pass to a kernel
    that calls it through its address (see :class:`_Compiled`); ``dispatcher`` itself when
    the kernels run as plain Python."""
    if numba.config.DISABLE_JIT:
        return dispatcher
    key = (dispatcher, tuple(map(type_key, example_arguments)))
    compiled = _COMPILED.get(key)
    if compiled is None:
        compiled = _Compiled(dispatcher, tuple(map(numba.typeof, example_arguments)))
        _COMPILED[key] = compiled
    return compiled


@jit(parallel=True)
def _for_each(work, n, arguments, interrupted):
    for i in prange(n):
        if not interrupted[0]:
            work(np.int64(i), *arguments, interrupted)


def for_each(work, n, arguments, interrupted) -> None:
    """``work(i, *arguments, interrupted)`` for every ``i`` in ``range(n)``, on numba's
    threads; items not yet started when ``interrupted[0]`` is set are skipped.

    ``work`` is a serial kernel (:func:`jit`) that does one item: one fit, one start. It
    is compiled on its own and called through its address, so the parallel loop, which
    numba compiles into four layers of wrappers each holding a copy of what the loop
    calls, stays a few instructions; compiled around a fit's whole EM directly, those
    copies made up a large part of a first fit's compile time.
    """
    if numba.config.DISABLE_JIT:
        _for_each(work, n, arguments, interrupted)
        return
    if interrupted[0]:  # Ctrl-C while an earlier kernel compiled: compile no more
        return
    key = (work, tuple(map(type_key, arguments)))
    found = _LOOPS.get(key)
    if found is None:  # work compiled for these types, called without numba's typing
        compiled = by_address(work, (0, *arguments, interrupted))
        single = work.overloads[tuple(compiled.signature().args)].entry_point
        found = _LOOPS[key] = [compiled, single, None]
    compiled, single, loop = found
    if n == 1:  # one item needs no threads, nor the parallel loop compiled
        if not interrupted[0]:  # Ctrl-C while it compiled: skipped, as the loop skips it
            single(0, *arguments, interrupted)
        return
    if loop is None:  # the loop compiled for these types, at its first use
        signature = (
            numba.typeof(compiled),
            numba.types.int64,
            numba.typeof(arguments),
            numba.typeof(interrupted),
        )
        _for_each.compile(signature)
        loop = found[2] = _for_each.overloads[signature].entry_point
    loop(compiled, n, arguments, interrupted)


_LOOPS: dict[tuple, list] = {}
"""``(work, argument keys)``: ``work`` by address, its own entry point (for one item) and
:func:`_for_each` compiled for them (None until a call of several items)."""


def compiled_for_this_cpu(dispatcher) -> bool:
    """Whether numba's cache holds machine code of ``dispatcher``'s current source for this
    CPU, so that calling it loads instead of compiling. True when it cannot tell."""
    try:
        cache = dispatcher._cache
        codegen = dispatcher.targetctx.codegen()
        index = cache._cache_file._load_index()
        return any(cache._index_key(key[0], codegen) == key for key in index)
    except Exception:  # numba's cache layout is not public: when in doubt, say nothing
        return True
