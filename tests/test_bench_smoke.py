"""The benchmarks run, at tiny sizes, so they never rot. Nothing here is timed."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


# The whole of bench/ in a process of its own (about 28 CPU seconds): make test-all and CI run
# it, and so does `pytest tests/test_bench_smoke.py` after a change to a benchmark.
@pytest.mark.slow
def test_benchmarks_run_at_smoke_size():
    env = dict(os.environ, FASTEM_BENCH_SIZE="smoke")
    env.pop("NUMBA_DISABLE_JIT", None)  # benchmarks always measure compiled kernels
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "bench",
            "-q",
            "--benchmark-disable",
            "-p",
            "no:cacheprovider",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert " passed" in completed.stdout and "failed" not in completed.stdout
