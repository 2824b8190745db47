"""numba's cache of compiled kernels never stops a fit: with nowhere to write it, with a disk
that fills up, or with a broken entry, fastem compiles without it (or compiles the entry
again) instead of failing.

Each test runs in a process of its own, with the cache in a directory of the test's
(``NUMBA_CACHE_DIR``), so that it neither reads nor spoils the suite's cache.
"""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

KERNEL = textwrap.dedent("""
    from fastem.engine.jit import jit


    @jit
    def twice(x):
        return 2.0 * x
""")
"""A module with one function compiled as fastem compiles its kernels."""

CALL = textwrap.dedent("""
    import warnings

    warnings.simplefilter("always")
    {before}
    import kernel

    print(kernel.twice(21.0))
""")


def run(tmp_path, before=""):
    """Python on :data:`CALL`, with ``before`` run first, in ``tmp_path`` with its cache."""
    (tmp_path / "kernel.py").write_text(KERNEL)
    script = CALL.format(before=textwrap.dedent(before))
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    return subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=300,
    )


def cache_files(tmp_path, suffix):
    return sorted((tmp_path / "cache").rglob(f"kernel.twice-*{suffix}"))


def test_a_second_process_loads_the_function_from_the_cache(tmp_path):
    first = run(tmp_path)
    assert (first.returncode, first.stdout.strip()) == (0, "42.0"), first.stderr
    assert cache_files(tmp_path, ".nbi") and cache_files(tmp_path, ".nbc")
    assert "CacheWarning" not in first.stderr


def test_a_truncated_cache_entry_is_compiled_again_and_replaced(tmp_path):
    assert run(tmp_path).returncode == 0
    for path in cache_files(tmp_path, ".nbc"):
        size = path.stat().st_size
        with open(path, "r+b") as handle:
            handle.truncate(size // 2)
    again = run(tmp_path)
    assert (again.returncode, again.stdout.strip()) == (0, "42.0"), again.stderr
    assert "Warning" not in again.stderr  # nothing to tell: the entry is simply rebuilt
    third = run(
        tmp_path,
        before="""
        from numba.core import caching

        def compile_instead(*args):
            raise AssertionError("compiled again: the replaced entry was not loaded")

        caching.IndexDataCacheFile.save = compile_instead
    """,
    )
    assert (third.returncode, third.stdout.strip()) == (0, "42.0"), third.stderr


def test_a_broken_cache_index_is_compiled_again(tmp_path):
    assert run(tmp_path).returncode == 0
    for path in cache_files(tmp_path, ".nbi"):
        path.write_bytes(path.read_bytes()[:40])
    again = run(tmp_path)
    assert (again.returncode, again.stdout.strip()) == (0, "42.0"), again.stderr


def test_a_full_disk_compiles_without_the_cache_after_one_warning(tmp_path):
    completed = run(
        tmp_path,
        before="""
        import errno
        from numba.core import caching

        def full(self, name, data):
            raise OSError(errno.ENOSPC, "No space left on device")

        caching.IndexDataCacheFile._save_data = full
        import kernel

        kernel.twice(1)  # compiled for an integer: the save fails and warns
    """,
    )  # then compiled for a float: nothing more is tried, nor told
    assert (completed.returncode, completed.stdout.strip()) == (0, "42.0"), completed.stderr
    warned = [line for line in completed.stderr.splitlines() if "CacheWarning" in line]
    assert len(warned) == 1, completed.stderr
    assert "No space left on device" in warned[0] and "NUMBA_CACHE_DIR" in warned[0]


# Compiles the kernels of a fit from nothing (no cache at all): make test-all and CI run it.
@pytest.mark.slow
def test_with_nowhere_to_write_the_cache_the_command_line_fits_after_one_warning(tmp_path):
    # A read-only install run by an account whose home cannot be written: numba finds no
    # directory for the cache. The test takes numba's ways of finding one away, as running
    # as such an account (which root, running the suite in CI, is not) would.
    (tmp_path / "data.csv").write_text(
        "x\n"
        + "\n".join(str(v) for v in np.r_[np.linspace(-3, -1, 20), np.linspace(2, 4, 20)])
        + "\n"
    )
    script = textwrap.dedent("""
        import sys

        from numba.core import caching

        implementation = getattr(caching, "CacheImpl", None) or caching._CacheImpl
        implementation._locator_classes = []
        from fastem.cli import main

        sys.exit(main(["fit", "data.csv", "--components", "2", "--n-init", "1"]))
    """)
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, timeout=600
    )
    assert completed.returncode == 0, completed.stderr
    header, row = completed.stdout.splitlines()
    assert dict(zip(header.split(","), row.split(",")))["status"] == "converged"
    warned = [line for line in completed.stderr.splitlines() if "cache" in line.lower()]
    assert len(warned) == 1 and "NUMBA_CACHE_DIR" in warned[0], completed.stderr


def test_kernels_are_compiled_again_when_any_module_of_the_engine_changes(tmp_path):
    # numba keys a cache entry on its function's file alone; fastem's entries are keyed on
    # the text of every engine module too, so a kernel that inlines code of a changed
    # module (after an upgrade, or an edit) is never loaded stale.
    from fastem.engine import jit, kernels

    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "notes.txt").write_text("not a module")
    before = jit.source_stamp(tmp_path)
    (tmp_path / "notes.txt").write_text("still not a module")
    assert jit.source_stamp(tmp_path) == before
    (tmp_path / "a.py").write_text("x = 2\n")
    assert jit.source_stamp(tmp_path) != before
    engine = os.path.dirname(jit.__file__)
    stamp = kernels.fit_em._cache._cache_file._source_stamp
    assert stamp[1] == jit.source_stamp(engine)


def test_two_processes_saving_two_signatures_at_once_keep_each_ones_code(tmp_path):
    """numba's save reads the index, chooses a data file's name and writes both: two
    processes that save at once could choose one name, and the index would then name, for
    one signature, the machine code of the other. Two caches of one function stand for two
    processes (``flock`` tells their open files apart as it tells processes apart); the
    first stops just before it writes the index, and the second must wait for it."""
    completed = run(
        tmp_path,
        before="""
        import threading

        import numba

        import kernel
        from fastem.engine import jit

        jit._Cache.usable = False  # both signatures compiled, not saved
        kernel.twice.compile((numba.float64,))
        kernel.twice.compile((numba.int64,))
        jit._Cache.usable = True
        (sig_a, code_a), (sig_b, code_b) = kernel.twice.overloads.items()
        first, second = (jit._Cache(kernel.twice.py_func) for _ in range(2))
        paused, go_on = threading.Event(), threading.Event()
        save_index = first._cache_file._save_index

        def save_index_later(overloads):
            paused.set()
            go_on.wait(30)
            save_index(overloads)

        first._cache_file._save_index = save_index_later
        saving = threading.Thread(target=first.save_overload, args=(sig_a, code_a))
        saving.start()
        assert paused.wait(30)
        other = threading.Thread(target=second.save_overload, args=(sig_b, code_b))
        other.start()
        other.join(0.5)
        print("waited:", other.is_alive())
        go_on.set()
        saving.join()
        other.join()
        index = jit._Cache(kernel.twice.py_func)._cache_file._load_index()
        print("entries, data files:", len(index), len(set(index.values())))
        loaded = jit._Cache(kernel.twice.py_func)
        for sig in (sig_a, sig_b):
            code = loaded.load_overload(sig, kernel.twice.targetctx)
            print("own code:", code.signature.args == sig)
        """,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert completed.stdout.splitlines()[:4] == [
        "waited: True",
        "entries, data files: 2 2",
        "own code: True",
        "own code: True",
    ]


def test_a_file_system_without_flock_uses_the_cache_unlocked(tmp_path):
    """NFS without its lock daemon, Lustre without flock: the lock fails (ENOLCK), and
    the cache is written and loaded as without the lock, with nothing to tell."""
    no_flock = """
        import errno
        import fcntl

        from numba.core import caching

        def no_locks(*args):
            raise OSError(errno.ENOLCK, "No locks available")

        fcntl.flock = no_locks
    """
    first = run(tmp_path, before=no_flock)
    assert (first.returncode, first.stdout.strip()) == (0, "42.0"), first.stderr
    assert "Warning" not in first.stderr
    index = cache_files(tmp_path, ".nbi")
    assert index and cache_files(tmp_path, ".nbc")  # written
    again = run(
        tmp_path,
        before=no_flock
        + """
        def compile_instead(*args):
            raise AssertionError("compiled again: the cache was not loaded")

        caching.IndexDataCacheFile.save = compile_instead
        """,
    )
    assert (again.returncode, again.stdout.strip()) == (0, "42.0"), again.stderr
    assert "Warning" not in again.stderr
    assert cache_files(tmp_path, ".nbi") == index  # loaded, the index kept
