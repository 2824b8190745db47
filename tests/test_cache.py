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
