"""A long study, checkpointed: its peak memory at two numbers of replications (flat but for
the 8 bytes per replication of each continuous measure whose quantiles the table has), and
the time of a checkpointed run and of resuming a finished one, each against the same study
without a checkpoint, in the same process."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from conftest import SIZE_NAME, note

REPLICATIONS = {"full": (20_000, 200_000), "smoke": (100, 300)}[SIZE_NAME]
CHUNK = {"full": 2_000, "smoke": 50}[SIZE_NAME]

SCRIPT = textwrap.dedent("""
    import json, os, sys, tempfile, time
    import fastem

    def status(key):
        for line in open("/proc/self/status"):
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024

    def timed(**options):
        began = time.perf_counter()
        fastem.study(*truth, **study, **options)
        return time.perf_counter() - began

    mode, replications, chunk = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    truth = ([0.4, 0.6], [-2.5, 3.5], [4.0, 4.0])
    study = dict(n_samples=40, replications=replications, init="kmeans++", n_init=3,
                 random_state=0, chunk_size=chunk, keep_replications=False)
    fastem.study(*truth, **{**study, "replications": 10})  # compile first
    with tempfile.TemporaryDirectory() as tmp, open(os.path.join(tmp, "raw.csv"), "w") as raw:
        sink = lambda rows: raw.write(rows.to_csv())  # --raw's rows, streamed to a file
        ck = os.path.join(tmp, "ck")
        if mode == "memory":  # the whole process's peak, the checkpointed study its last work
            before = status("VmRSS")
            timed(raw=sink, checkpoint=ck)
            found = dict(before=before, peak=status("VmHWM"))
        else:  # a first run unmeasured: the heap grown, the pages touched
            timed(raw=sink)
            plain = timed(raw=sink)
            found = dict(plain=plain, checkpointed=timed(raw=sink, checkpoint=ck),
                         resumed=timed(raw=sink, checkpoint=ck, resume=True))
            found["disk"] = sum(os.path.getsize(os.path.join(ck, n)) for n in os.listdir(ck))
    print(json.dumps(found))
""")


def _run(mode: str, replications: int) -> dict:
    completed = subprocess.run(
        [sys.executable, "-c", SCRIPT, mode, str(replications), str(CHUNK)],
        capture_output=True,
        text=True,
        timeout=1800,
        check=True,
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_a_checkpointed_study_in_flat_memory(benchmark):
    small, large = (_run("memory", replications) for replications in REPLICATIONS)
    times = benchmark.pedantic(_run, args=("time", REPLICATIONS[1]), rounds=1)
    mib = 2**20
    note(
        f"[study checkpoint] kmeans++, 3 restarts, 40 points, chunks of {CHUNK:,}, --raw "
        f"streamed: peak RSS {small['peak'] / mib:.1f} MiB at {REPLICATIONS[0]:,} "
        f"replications, {large['peak'] / mib:.1f} MiB at {REPLICATIONS[1]:,} (before the "
        f"study {small['before'] / mib:.1f} and {large['before'] / mib:.1f} MiB)"
    )
    note(
        f"[study checkpoint] {REPLICATIONS[1]:,} replications: checkpointed / plain time "
        f"{times['checkpointed'] / times['plain']:.3f}, resuming it finished / plain "
        f"{times['resumed'] / times['plain']:.3f} (plain {times['plain']:.2f} s); "
        f"{times['disk'] / mib:.1f} MiB on disk"
    )
    if SIZE_NAME == "smoke":
        return
    # The values of rate and parameter_rate (8 bytes each per replication, and the copies
    # np.quantile makes of one at the end: about 100 bytes in all, by tracemalloc) are all
    # that may grow; a raw block of 2,000 replications and the chunks' fits do not.
    allowed = 100 * (REPLICATIONS[1] - REPLICATIONS[0]) + 32 * mib
    assert large["peak"] - small["peak"] < allowed
