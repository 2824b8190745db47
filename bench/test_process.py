"""Whole-process numbers: peak memory of a W1 fit, and start-up time (numba's cache)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap

from conftest import SIZE, SIZE_NAME, note

MEMORY_SCRIPT = textwrap.dedent("""
    import json, sys
    import numpy as np
    import fastem

    def status(key):
        for line in open("/proc/self/status"):
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    n_datasets, n_points = int(sys.argv[1]), int(sys.argv[2])
    fastem.fit(np.linspace(0.0, 1.0, 20), 2, max_iter=2, tol=0, algorithm="em")
    data, _ = fastem.simulate([0.4, 0.6], [-2.5, 3.5], [4.0, 4.0], n_points, n_datasets, 0)
    # Reset the peak-RSS counter (Linux: "5" to clear_refs), so that the peak measured
    # is the fit's own.
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")
    before = status("VmRSS")
    result = fastem.fit(data, 2, weights_init=[0.5, 0.5], means_init=[-1.0, 1.0],
                        variances_init=[1.0, 1.0], max_iter=100, tol=0, algorithm="em")
    outputs = sum(v.nbytes for v in vars(result).values() if isinstance(v, np.ndarray))
    print(json.dumps(dict(input=data.nbytes, outputs=outputs, before=before,
                          peak=status("VmHWM"))))
""")

STARTUP_SCRIPT = textwrap.dedent("""
    import json, time
    start = time.perf_counter()
    import numpy as np
    import fastem
    imported = time.perf_counter()
    fastem.fit(np.random.default_rng(0).normal(size=(4, 50)), 2, n_init=2, random_state=0,
               max_iter=5, tol=0, algorithm="em")
    done = time.perf_counter()
    print(json.dumps(dict(imported=imported - start, fitted=done - imported)))
""")


def _run(script, *args, env=None):
    completed = subprocess.run(
        [sys.executable, "-c", script, *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        check=True,
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_peak_memory_of_w1(benchmark):
    sizes = (SIZE["w1_datasets"], SIZE["w1_points"])
    found = benchmark.pedantic(_run, args=(MEMORY_SCRIPT, *sizes), rounds=1)
    growth = found["peak"] - found["before"]
    mib = 2**20
    note(
        f"[memory] W1 fit of {sizes[0]:,} x {sizes[1]:,} points: input {found['input'] / mib:.1f} "
        f"MiB, outputs {found['outputs'] / 2**20:.2f} MiB, peak RSS growth during the fit "
        f"{growth / 2**20:.1f} MiB"
    )
    # Generous bound: no temporary of size n_points x K (that alone would be 32 MiB here).
    assert growth < found["input"] + 8 * 2**20 or SIZE_NAME == "smoke"


def test_startup(benchmark):
    warm = benchmark.pedantic(_run, args=(STARTUP_SCRIPT,), rounds=1)
    note(
        f"[start-up] new process, numba cache warm: import {warm['imported']:.2f} s, first "
        f"small fit (cache load) {warm['fitted']:.2f} s"
    )
    if SIZE_NAME == "smoke":
        return
    with tempfile.TemporaryDirectory() as cache:
        cold = _run(STARTUP_SCRIPT, env=dict(os.environ, NUMBA_CACHE_DIR=cache))
    note(
        f"[start-up] new process, numba cache empty: import {cold['imported']:.2f} s, first "
        f"small fit (compiles the kernels) {cold['fitted']:.2f} s"
    )
