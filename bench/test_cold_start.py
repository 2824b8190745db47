"""Cold start: a first ``fastem fit`` in a new process with numba's cache empty, against
the same process with the cache filled and against Python starting numba, in one run.

Every row is a new process (``fastem fit small.csv``, 100 points, the command's defaults
unless the row says otherwise). A row marked *cold* runs with a new empty
``NUMBA_CACHE_DIR`` in each round, so it compiles every kernel it calls; a row marked
*extra* first fills a new cache with the default fit, untimed, and then times the row, so
that it measures what that option compiles beyond the default. The rows of a round run
one after the other, and the table gives each row's median over the rounds and its ratio
to the baseline (``python -c "import numba"``) of the same rounds, so that the ratios hold
on a loaded machine, and its CPU seconds (compiling runs on one thread: a loaded machine
inflates its wall time far more than its CPU time). The float32 E-step has no flag of
``fastem fit``: its rows call ``fastem.fit`` as the command does, with
``dtype=numpy.float32``.

Each fastem row also records numba's compile events (``numba.core.event``): the seconds
spent compiling each function, less the functions it compiled in turn; the summary lists
those of the default cold fit, largest first.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time

import numpy as np

from conftest import SIZE, SIZE_NAME, note

ROUNDS = SIZE["cold_rounds"]

# A new process that runs a fastem command and writes numba's compile times per function
# (seconds less those of the functions it compiled in turn) to the file in argv[1].
RUNNER = textwrap.dedent("""
    import json, sys, time
    from numba.core import event

    stack, spent = [], {}

    class Compiles(event.Listener):
        def on_start(self, ev):
            func = ev.data["dispatcher"].py_func
            stack.append([f"{func.__module__}.{func.__qualname__}", time.perf_counter(), 0.0])

        def on_end(self, ev):
            name, began, inner = stack.pop()
            took = time.perf_counter() - began
            spent[name] = spent.get(name, 0.0) + took - inner
            if stack:
                stack[-1][2] += took

    event.register("numba:compile", Compiles())
    if sys.argv[2] == "fit":
        from fastem.cli.commands import main
        status = main(sys.argv[2:])
    else:  # the float32 E-step, as fastem fit calls fastem.fit
        import numpy as np
        import fastem
        x = np.loadtxt(sys.argv[3], skiprows=1)
        fastem.fit(x, 2, n_init="auto", dtype=np.float32, warn=False)
        status = 0
    with open(sys.argv[1], "w") as out:
        json.dump(spent, out)
    sys.exit(status)
""")

SMOKE_FIT = ("--init", "kmeans++", "--n-init", "1", "--algorithm", "em")
ROWS = (
    # name, kind (baseline, warm, cold or extra), arguments after the CSV file's name
    ("python -c 'import numba' (baseline)", "baseline", None),
    ("fastem fit small.csv, cache filled", "warm", ()),
    ("fastem fit small.csv, cache empty (default: SQUAREM)", "cold", ()),
    ("... --algorithm em, cache empty", "cold", ("--algorithm", "em")),
    ("... --se score, cache empty", "cold", ("--se", "score")),
    ("... dtype=float32 (fastem.fit), cache empty", "cold", "float32"),
    ("... --se score, beyond the default", "extra", ("--se", "score")),
    ("... dtype=float32, beyond the default", "extra", "float32"),
    ("... --algorithm daarem, beyond the default", "extra", ("--algorithm", "daarem")),
)
SMOKE_ROWS = (
    ROWS[0],
    ("fastem fit small.csv --init kmeans++ --n-init 1 --algorithm em", "warm", SMOKE_FIT),
)
"""The rows of the smoke size (the test suite's run: seconds), in fastem's own cache: a fit
that needs only the kernels of ``conftest.warm_up``, which the other benchmarks load."""


def _command(csv, arguments, profile):
    if arguments is None:
        return [sys.executable, "-c", "import numba"]
    if arguments == "float32":
        return [sys.executable, "-c", RUNNER, profile, "float32", csv]
    return [sys.executable, "-c", RUNNER, profile, "fit", csv, "--quiet", *arguments]


def _timed(command, cache):
    """``(wall, cpu)``: the seconds ``command`` took, and the CPU seconds (user and system)
    it used, which a loaded machine inflates less (compiling runs on one thread)."""
    env = dict(os.environ)
    env.pop("NUMBA_DISABLE_JIT", None)
    if cache is not None:
        env["NUMBA_CACHE_DIR"] = cache
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, capture_output=True, timeout=1800)
    wall = time.perf_counter() - start
    now = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, now.ru_utime - used.ru_utime + now.ru_stime - used.ru_stime


def _round(csv, rows, work):
    """One round: each row's seconds, and the compile times of the cold default fit."""
    seconds, compiles = {}, {}
    profile = os.path.join(work, "compiles.json")
    warm = None  # smoke: fastem's own cache, which the test suite has filled
    if SIZE_NAME == "full":
        warm = tempfile.mkdtemp(dir=work)
        _timed(_command(csv, (), profile), warm)  # fills it (untimed)
    for name, kind, arguments in rows:
        cache = warm if kind in ("baseline", "warm") else tempfile.mkdtemp(dir=work)
        if kind == "extra":
            _timed(_command(csv, (), profile), cache)
        seconds[name] = _timed(_command(csv, arguments, profile), cache)
        if kind == "cold" and arguments == ():
            with open(profile) as found:
                compiles = json.load(found)
    return seconds, compiles


def _rounds(csv, rows, work):
    """Each row's median wall and CPU seconds over the rounds, and the compile times of
    the last round's cold default fit."""
    runs = [_round(csv, rows, work) for _ in range(ROUNDS)]
    medians = {
        name: [statistics.median(run[0][name][i] for run in runs) for i in (0, 1)]
        for name, _, _ in rows
    }
    return medians, runs[-1][1]


def test_cold_start(benchmark, tmp_path):
    rng = np.random.default_rng(2029)
    x = np.concatenate([rng.normal(-2.0, 1.0, 40), rng.normal(3.0, 1.5, 60)])
    csv = tmp_path / "small.csv"
    csv.write_text("x\n" + "\n".join(f"{value:.6f}" for value in x) + "\n")
    rows = ROWS if SIZE_NAME == "full" else SMOKE_ROWS
    medians, compiles = benchmark.pedantic(
        _rounds, args=(str(csv), rows, str(tmp_path)), rounds=1, iterations=1
    )
    baseline, _ = medians[rows[0][0]]
    note(f"[cold start] medians of {ROUNDS} rounds, each row a new process ({os.cpu_count()} CPUs)")
    note("| run | seconds | x baseline | CPU seconds |")
    note("|---|---|---|---|")
    for name, _, _ in rows:
        wall, cpu = medians[name]
        note(f"| {name} | {wall:.2f} | {wall / baseline:.1f} | {cpu:.2f} |")
    if compiles:
        total = sum(compiles.values())
        note(f"[cold start] compiling in the cold default fit: {total:.1f} s, largest first")
        for name, took in sorted(compiles.items(), key=lambda item: -item[1])[:15]:
            note(f"  {took:6.2f} s  {name}")
