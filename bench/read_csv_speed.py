"""Seconds and peak memory of reading a large CSV file with ``fastem fit``'s reader.

Run with ``python bench/read_csv_speed.py [--rows N] [--dir DIR]``. It writes two files of N
rows (10 million by default) and reads each in a fresh process, so that the peak resident
memory (``ru_maxrss``) is the reader's alone:

- ``one-column``: one float a line, written with ``repr``, no header;
- ``long``: the format ``fastem simulate`` writes (``dataset,value,component``), 1000 rows
  per dataset.

The target is under 10 s and a peak under 3x the file's size. The peak includes the
interpreter and fastem's imports, printed as ``baseline``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

READ = """
import resource, sys, time
from fastem.cli.datafiles import read_datasets
baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
ids, data, _ = read_datasets(sys.argv[1], by=sys.argv[2] or None, value=sys.argv[3] or None)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(seconds, peak * 1024, baseline * 1024, len(ids), sum(len(x) for x in data))
"""


def write_files(directory, n_rows, chunk=1_000_000):
    """The two files, written in chunks so that writing them takes little memory."""
    rng = np.random.default_rng(0)
    one, long = directory / "one-column.csv", directory / "long.csv"
    with open(one, "w") as single, open(long, "w") as table:
        table.write("dataset,value,component\n")
        for start in range(0, n_rows, chunk):
            rows = np.arange(start, min(start + chunk, n_rows))
            x = rng.normal(size=len(rows)).tolist()
            single.write("".join(f"{v!r}\n" for v in x))
            table.write(
                "".join(
                    f"{d},{v!r},{k}\n"
                    for d, v, k in zip(
                        (rows // 1000).tolist(), x, rng.integers(1, 3, size=len(rows)).tolist()
                    )
                )
            )
    return one, long


def measure(path, by="", value=""):
    """Read ``path`` in a fresh process: seconds, peak bytes, baseline bytes, datasets, rows."""
    completed = subprocess.run(
        [sys.executable, "-c", READ, str(path), by, value],
        capture_output=True,
        text=True,
        check=True,
    )
    seconds, peak, baseline, n_ids, n_rows = completed.stdout.split()
    return float(seconds), int(peak), int(baseline), int(n_ids), int(n_rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument(
        "--dir",
        type=Path,
        help="where to write the files (default: a temporary directory, removed afterwards)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        directory = args.dir or Path(scratch)
        for name, path in zip(("one-column", "long"), write_files(directory, args.rows)):
            size = path.stat().st_size
            seconds, peak, baseline, n_ids, n_rows = measure(path)
            print(
                f"{name:10}  {n_rows:>10,} rows  {n_ids:>6,} datasets  {size / 1e6:7.0f} MB  "
                f"{seconds:6.2f} s  peak {peak / 1e6:5.0f} MB = {peak / size:.2f}x the file "
                f"(baseline {baseline / 1e6:.0f} MB)"
            )


if __name__ == "__main__":
    main()
