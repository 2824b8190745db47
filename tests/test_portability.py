"""The same fits give the same bits whatever CPU the kernels are compiled for.

``portable_fits.py`` runs a fixed set of fits that reaches every kernel. Here it runs in
this process (compiled for this machine's CPU, AVX-512 included where it has it) and in
fresh processes compiled for other x86-64 targets, each with its own numba cache:

- ``haswell``: AVX2 and FMA without AVX-512, with NumPy's AVX-512 code switched off too,
  as on an AMD Zen 2/3 or an older Intel machine;
- ``generic``: baseline x86-64 (SSE2), without FMA instructions at all.

Every array must match bit for bit. Each target's numba cache is a directory of its own
under ``FASTEM_TARGET_CACHES`` when that is set (``make test`` sets it to the caches of its
venv, where its pass for baseline x86-64 finds the ``generic`` one), otherwise under the
test's temporary directory, compiled from nothing. A kept cache is as valid as the suite's
own: numba keys each entry on the target's name and features, and fastem on the text of
every engine module (``fastem.engine.jit``), so a changed kernel is compiled again.
"""

import os
import subprocess
import sys
from pathlib import Path

import numba
import numpy as np
import pytest

from portable_fits import fits

HERE = Path(__file__).resolve().parent
TARGET_CACHES = "FASTEM_TARGET_CACHES"
"""The environment variable naming a directory for the targets' numba caches."""

HASWELL_FEATURES = ",".join(
    "+" + feature
    for feature in (
        "64bit avx avx2 bmi bmi2 cmov cx16 cx8 f16c fma fsgsbase fxsr invpcid lzcnt mmx movbe "
        "pclmul popcnt rdrnd sahf sse sse2 sse3 sse4.1 sse4.2 ssse3 xsave xsaveopt"
    ).split()
)
TARGETS = {
    "haswell": dict(
        NUMBA_CPU_NAME="haswell",
        NUMBA_CPU_FEATURES=HASWELL_FEATURES,
        NPY_DISABLE_CPU_FEATURES="X86_V4 AVX512_ICL AVX512_SPR",
    ),
    "generic": dict(NUMBA_CPU_NAME="generic", NUMBA_CPU_FEATURES=""),
}


@pytest.mark.skipif(numba.config.DISABLE_JIT, reason="compares compiled kernels")
def test_fits_are_identical_on_every_cpu_target(tmp_path):
    caches = Path(os.environ.get(TARGET_CACHES) or tmp_path).resolve()
    running = {}
    for name, settings in TARGETS.items():
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("NUMBA_CPU", "NPY_"))
        }
        env.update(settings, NUMBA_CACHE_DIR=str(caches / name))
        out = tmp_path / f"{name}.npz"
        command = [sys.executable, str(HERE / "portable_fits.py"), str(out)]
        running[name] = (
            out,
            subprocess.Popen(
                command,
                env=env,
                cwd=HERE,
                text=True,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            ),
        )
    here = fits()
    for name, (out, process) in running.items():
        output, _ = process.communicate(timeout=900)
        assert process.returncode == 0, f"{name}: {output}"
        with np.load(out) as there:
            assert sorted(there.files) == sorted(here)
            differ = [
                key
                for key in here
                if there[key].tobytes() != here[key].tobytes()
                or there[key].dtype != here[key].dtype
            ]
        assert not differ, f"{name} differs from this CPU's fits in {differ}"
