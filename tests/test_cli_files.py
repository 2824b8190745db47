"""What the ``fastem`` command writes, where, with which mode, and what a failure leaves."""

import csv
import io
import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from fastem.init._registry import NAMES as STRATEGY_NAMES
from test_cli import FASTEM, assert_one_line_error, fastem_cli, help_text, needs_matplotlib

SMALL_STUDY = ("study", "--replications", 20, "--init", "kmeans++", "--n-init", 1, "--quiet")
needs_wchan = pytest.mark.skipif(
    not Path("/proc/self/wchan").exists(), reason="needs Linux's /proc/PID/wchan"
)


def first_row(output):
    """The first row of the CSV that ``fastem fit`` writes, by column name."""
    return next(csv.DictReader(io.StringIO(output)))


def one_column_csv(tmp_path, n=60):
    path = tmp_path / "x.csv"
    rng = np.random.default_rng(1)
    values = np.concatenate([rng.normal(-3, 1, n // 2), rng.normal(3, 1, n - n // 2)])
    path.write_text("x\n" + "".join(f"{v!r}\n" for v in values.tolist()))
    return path


def started(*args, **options):
    """The installed ``fastem`` with ``args``, started (its stdout and stderr piped)."""
    return subprocess.Popen(
        [str(FASTEM), *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **options,
    )


def finished(process, timeout=600):
    """The result of a started command, which is killed if it does not end in time."""
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    finally:
        process.kill()
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def wait_until(condition, process, what, timeout=600):
    """Poll ``condition()`` while ``process`` runs; fail if it ends first."""
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"never saw {what}: {process.communicate()}")
        time.sleep(0.01)


def waits_for_a_reader(process):
    """Whether the command's main thread waits in open() for a FIFO's reader."""
    with open(f"/proc/{process.pid}/wchan") as wchan:
        return wchan.read() == "wait_for_partner"


def fit_with_umask(args, umask):
    completed = subprocess.run(
        [str(FASTEM), *map(str, args)], capture_output=True, text=True, umask=umask, timeout=600
    )
    assert completed.returncode == 0, completed.stderr
    return completed


# ------------------------------------------------------------------ what a path names


def test_out_through_a_symlink_replaces_its_target_and_keeps_the_link(tmp_path):
    data = one_column_csv(tmp_path)
    target = tmp_path / "real.csv"
    target.write_text("old\n")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    fastem_cli("fit", data, "--out", link, check=True)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text().startswith("id,n,n_components")


def test_out_to_a_device_writes_through_and_leaves_the_device(tmp_path):
    data = one_column_csv(tmp_path)
    fastem_cli("fit", data, "--out", "/dev/null", check=True)
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert list(tmp_path.iterdir()) == [data]


def test_out_to_a_fifo_writes_into_it(tmp_path):
    data = one_column_csv(tmp_path)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()), daemon=True)
    reader.start()
    fastem_cli("fit", data, "--out", fifo, check=True)
    reader.join(60)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert received and received[0].startswith("id,n,n_components")


def test_out_to_dev_stdout_appends_where_the_shell_opened_it_for_appending(tmp_path):
    data = one_column_csv(tmp_path)
    expected = fastem_cli("fit", data, check=True).stdout
    log = tmp_path / "log.txt"
    log.write_text("PRIOR\n")
    with open(log, "ab") as appending:  # fastem fit ... --out /dev/stdout >> log.txt
        completed = subprocess.run(
            [str(FASTEM), "fit", str(data), "--out", "/dev/stdout"],
            stdout=appending,
            stderr=subprocess.PIPE,
            text=True,
            timeout=600,
        )
    assert completed.returncode == 0, completed.stderr
    assert log.read_text() == "PRIOR\n" + expected
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.txt", "x.csv"]


@pytest.mark.parametrize("through_a_link", [False, True])
def test_out_to_dev_stdout_writes_into_a_pipe(tmp_path, through_a_link):
    data = one_column_csv(tmp_path)
    out = "/dev/stdout"
    if through_a_link:
        (tmp_path / "link.csv").symlink_to(out)
        out = tmp_path / "link.csv"
    completed = fastem_cli("fit", data, "--out", out, check=True)  # ... | cat
    assert completed.stdout == fastem_cli("fit", data, check=True).stdout


def test_json_to_dev_stderr_is_written_into_standard_error(tmp_path):
    data = one_column_csv(tmp_path)
    completed = fastem_cli(
        "fit", data, "--quiet", "--format", "json", "--out", "/dev/stderr", check=True
    )
    assert completed.stdout == "" and json.loads(completed.stderr)[0]["id"] == "0"


def test_out_to_dev_fd_writes_into_the_descriptor_it_was_given(tmp_path):
    # What bash's --out >(gzip > x.gz) passes: /dev/fd/63, the write end of a pipe.
    data = one_column_csv(tmp_path)
    read_end, write_end = os.pipe()
    with open(read_end, "rb") as reader:
        process = subprocess.Popen(
            [str(FASTEM), "fit", str(data), "--out", f"/dev/fd/{write_end}"],
            pass_fds=(write_end,),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        os.close(write_end)
        received = reader.read()
    _, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, stderr
    assert received.decode() == fastem_cli("fit", data, check=True).stdout


def test_a_descriptor_that_is_not_open_is_refused_before_any_work(tmp_path):
    data = one_column_csv(tmp_path)
    assert_one_line_error(
        fastem_cli("fit", data, "--out", "/dev/fd/9"), "/dev/fd/9", "descriptor 9 is not open"
    )
    # Descriptor 3, closed when the command starts, is the number the --csv file's
    # temporary takes: the JSON must not be written into it.
    table = tmp_path / "t.csv"
    assert_one_line_error(
        fastem_cli(*SMALL_STUDY, "--csv", table, "--json", "/dev/fd/3"),
        "/dev/fd/3",
        "descriptor 3 is not open",
    )
    assert list(tmp_path.iterdir()) == [data]


def test_new_files_follow_the_umask_and_existing_files_keep_their_mode(tmp_path):
    data = one_column_csv(tmp_path)
    fit_with_umask(("fit", data, "--out", tmp_path / "open.csv"), 0o022)
    assert stat.S_IMODE(os.stat(tmp_path / "open.csv").st_mode) == 0o644
    fit_with_umask(("fit", data, "--out", tmp_path / "private.csv"), 0o077)
    assert stat.S_IMODE(os.stat(tmp_path / "private.csv").st_mode) == 0o600
    shared = tmp_path / "shared.csv"
    shared.write_text("old\n")
    os.chmod(shared, 0o664)
    fit_with_umask(("fit", data, "--out", shared), 0o077)
    assert stat.S_IMODE(os.stat(shared).st_mode) == 0o664
    assert shared.read_text().startswith("id,n,n_components")


# ------------------------------------------------------------------ checked before any work


def test_every_output_path_is_checked_before_the_study_runs(tmp_path):
    table = tmp_path / "s.csv"
    for bad, fragment in (
        ("/sys/s.json", "/sys/s.json"),
        (tmp_path / "no" / "s.json", "does not exist"),
        (tmp_path, "is a directory"),
        ("", "empty path"),
    ):
        completed = fastem_cli("study", "--replications", 10**9, "--csv", table, "--json", bad)
        assert_one_line_error(completed, fragment)
        assert sorted(tmp_path.iterdir()) == [], bad


def test_fit_output_paths_are_checked_before_the_data_are_read(tmp_path):
    data = one_column_csv(tmp_path)
    for option, bad, fragment in (
        ("--out", tmp_path, "is a directory"),
        ("--out", "", "empty path"),
        ("--plot", tmp_path / "no" / "f.png", "does not exist"),
    ):
        assert_one_line_error(fastem_cli("fit", data, option, bad), fragment)
    assert list(tmp_path.iterdir()) == [data]


def test_two_outputs_that_name_one_file_are_refused(tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("PRIOR\n")
    (tmp_path / "link.csv").symlink_to(table)
    os.link(table, tmp_path / "hard.csv")
    for other in (table, tmp_path / "link.csv", tmp_path / "hard.csv"):
        completed = fastem_cli("study", "--replications", 10**9, "--csv", table, "--json", other)
        assert_one_line_error(completed, f"--csv {table} and --json {other} name the same file")
    assert table.read_text() == "PRIOR\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hard.csv", "link.csv", "t.csv"]


def test_an_output_that_would_replace_the_input_is_refused(tmp_path):
    data = one_column_csv(tmp_path)
    before = data.read_bytes()
    (tmp_path / "link.csv").symlink_to(data)
    for out in (data, tmp_path / "link.csv"):
        assert_one_line_error(
            fastem_cli("fit", data, "--out", out), f"--out {out} would replace the data file {data}"
        )
    design = tmp_path / "design.json"
    design.write_text('{"replications": 10}')
    assert_one_line_error(
        fastem_cli("study", "--design", design, "--json", design),
        f"--json {design} would replace the --design file {design}",
    )
    assert data.read_bytes() == before and design.read_text() == '{"replications": 10}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["design.json", "link.csv", "x.csv"]


def test_predict_refuses_an_output_that_would_replace_its_fit_or_data_file(tmp_path):
    data = one_column_csv(tmp_path)
    fit = tmp_path / "fit.csv"
    fastem_cli("fit", data, "--out", fit, check=True)
    files = {path: path.read_bytes() for path in (data, fit)}
    assert_one_line_error(
        fastem_cli("predict", fit, data, "--out", data),
        f"--out {data} would replace the data file {data}",
    )
    assert_one_line_error(
        fastem_cli("predict", fit, data, "--out", fit),
        f"--out {fit} would replace the fit file {fit}",
    )
    assert {path: path.read_bytes() for path in files} == files
    assert sorted(tmp_path.iterdir()) == sorted(files)


def test_an_output_name_of_250_characters_is_written(tmp_path):
    data = one_column_csv(tmp_path)
    out = tmp_path / ("f" * 246 + ".csv")  # 255 bytes is the usual limit of a name
    fastem_cli("fit", data, "--out", out, check=True)
    assert out.read_text() == fastem_cli("fit", data, check=True).stdout
    assert sorted(tmp_path.iterdir()) == sorted([data, out])


@needs_matplotlib
def test_a_plot_directory_made_for_a_failed_study_is_removed(tmp_path):
    figures = tmp_path / "figs"
    completed = fastem_cli(*SMALL_STUDY, "--plot", figures, "--max-iter", 0)
    assert_one_line_error(completed, "--max-iter")
    assert not figures.exists()


# ------------------------------------------------------------------ written at the end


def test_a_stream_that_cannot_be_written_leaves_every_file_as_it_was(tmp_path):
    prior = tmp_path / "prior.csv"
    prior.write_text("PRIOR\n")
    completed = fastem_cli(*SMALL_STUDY, "--csv", prior, "--json", "/dev/full")
    assert_one_line_error(completed, "/dev/full", "No space left on device")
    assert prior.read_text() == "PRIOR\n"
    assert list(tmp_path.iterdir()) == [prior]


@needs_wchan
def test_a_directory_made_in_place_of_a_file_during_the_run_is_a_one_line_error(tmp_path):
    table, fifo = tmp_path / "t.csv", tmp_path / "pipe"
    os.mkfifo(fifo)
    process = started(*SMALL_STUDY, "--csv", table, "--json", fifo)
    wait_until(lambda: waits_for_a_reader(process), process, "the wait for the FIFO's reader")
    table.mkdir()
    with open(fifo) as reader:
        assert json.loads(reader.read())["table"]
    assert_one_line_error(finished(process), f"{table}: is a directory now")
    assert list(table.iterdir()) == [] and sorted(tmp_path.iterdir()) == [fifo, table]


@needs_wchan
def test_a_temporary_file_swapped_for_a_symlink_is_not_followed(tmp_path):
    # In a directory that others can write to, the temporary file's name may be taken
    # over while the command runs; what is written must not go where a symlink points.
    victim, fifo = tmp_path / "victim.txt", tmp_path / "pipe"
    victim.write_text("VICTIM\n")
    os.mkfifo(fifo)
    shared = tmp_path / "shared"
    shared.mkdir()
    # The FIFO, written before the files are renamed, holds the renames back until it is read.
    process = started(*SMALL_STUDY, "--csv", shared / "o.csv", "--json", fifo)
    wait_until(lambda: waits_for_a_reader(process), process, "the wait for the FIFO's reader")
    (temporary,) = shared.iterdir()
    (shared / "swap").symlink_to(victim)
    os.replace(shared / "swap", temporary)
    with open(fifo) as reader:
        assert json.loads(reader.read())["table"]
    assert_one_line_error(finished(process), "o.csv", "was removed or replaced")
    assert victim.read_text() == "VICTIM\n"
    assert list(shared.iterdir()) == [temporary] and temporary.is_symlink()


def test_an_output_is_written_in_pieces_or_at_once(tmp_path):
    from fastem.cli.outputs import Outputs

    rows = tmp_path / "rows.csv"
    read_end, write_end = os.pipe()
    with open(read_end, "rb") as reader:
        with Outputs(table=f"/dev/fd/{write_end}", rows=rows) as outputs:
            os.close(write_end)  # the outputs keep a descriptor of their own
            outputs["table"].write("old")
            outputs["table"].set("a,b\n")
            outputs["table"].write(b"1,2\n")
            for piece in ("a,b\n", b"1,2\n", "3,4\n"):
                outputs["rows"].write(piece)
            assert not rows.exists()
            outputs.commit()
        assert reader.read() == b"a,b\n1,2\n"
    assert rows.read_text() == "a,b\n1,2\n3,4\n"
    assert list(tmp_path.iterdir()) == [rows]


def test_a_file_whose_set_up_fails_leaves_no_temporary_file(tmp_path, monkeypatch):
    from fastem.cli import outputs as _output

    def refuse(fd, mode):
        raise PermissionError(1, "Operation not permitted")

    table = tmp_path / "t.csv"
    table.write_text("PRIOR\n")
    opened = os.listdir("/proc/self/fd")
    monkeypatch.setattr(_output.os, "fchmod", refuse)
    with pytest.raises(_output.OutputError, match=f"{table}: cannot be written"):
        _output.Outputs(json=tmp_path / "t.json", csv=table)
    assert os.listdir("/proc/self/fd") == opened
    assert sorted(tmp_path.iterdir()) == [table] and table.read_text() == "PRIOR\n"


# ------------------------------------------------------------------ stopped by a signal


SIGNAL_DURING_THE_RENAMES = """
import os, signal, sys
from fastem import cli
from fastem.cli import outputs as _output

signal.signal(signal.SIGINT, signal.default_int_handler)  # as the command starts from a shell
signal.signal(signal.SIGTERM, signal.SIG_DFL)
commit = _output.OutputFile.commit

def commit_then_signal(self):
    os.kill(os.getpid(), int(os.environ["SIGNUM"]))  # arrives during the renames
    commit(self)

_output.OutputFile.commit = commit_then_signal
sys.exit(cli.main(sys.argv[1:]))
"""
"""The command, with a signal sent to itself as each file is renamed: run in a process of
its own, so that the signal never reaches the tests."""


@pytest.mark.parametrize(
    ("signum", "said"), [(signal.SIGINT, "interrupted"), (signal.SIGTERM, "stopped by SIGTERM")]
)
def test_a_signal_during_the_final_renames_writes_all_and_says_so(tmp_path, signum, said):
    table, rows = tmp_path / "t.csv", tmp_path / "t.json"
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            SIGNAL_DURING_THE_RENAMES,
            *map(str, SMALL_STUDY),
            "--csv",
            table,
            "--json",
            rows,
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "SIGNUM": str(int(signum))},
    )
    assert completed.returncode == 128 + signum, completed.stderr
    assert table.read_text().startswith("scenario,n_samples,") and json.loads(rows.read_text())
    message = completed.stderr.strip().splitlines()[-1]
    assert message == f"fastem: {said}; wrote {table}, {rows}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv", "t.json"]


def test_a_second_ctrl_c_while_the_temporary_files_are_removed_waits_until_all_are_gone(
    tmp_path, monkeypatch
):
    from fastem.cli import outputs as _output

    unlink = os.unlink

    def signal_then_unlink(path):
        os.kill(os.getpid(), signal.SIGINT)  # arrives part-way through the removal
        unlink(path)

    outputs = _output.Outputs(csv=tmp_path / "t.csv", json=tmp_path / "t.json")
    assert len(list(tmp_path.iterdir())) == 2
    monkeypatch.setattr(_output.os, "unlink", signal_then_unlink)
    with pytest.raises(KeyboardInterrupt):
        outputs.discard()
    assert list(tmp_path.iterdir()) == []


@needs_matplotlib
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_sighup_remove_the_temporary_files_as_ctrl_c_does(tmp_path, signum):
    # How timeout, Slurm and Kubernetes stop a job, and a terminal that closes.
    figures = tmp_path / "figs"
    process = started(
        "study", "--replications", 10**6, "--quiet", "--csv", tmp_path / "t.csv", "--plot", figures
    )
    # The default study's six figures: dataset, traces, estimates, iterations, passes and
    # the data profile.
    wait_until(lambda: len(list(figures.glob(".*.tmp"))) == 6, process, "the figures' files")
    process.send_signal(signum)
    completed = finished(process, timeout=120)
    assert completed.returncode == 128 + signum, completed.stderr
    assert completed.stderr.strip() == f"fastem: stopped by {signum.name}; nothing was written"
    assert list(tmp_path.iterdir()) == []


@needs_wchan
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_the_command_while_a_fifo_waits_for_its_reader(tmp_path, signum):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    process = started(*SMALL_STUDY, "--csv", tmp_path / "t.csv", "--json", fifo)
    wait_until(lambda: waits_for_a_reader(process), process, "the wait for the FIFO's reader")
    process.send_signal(signum)
    completed = finished(process, timeout=30)
    assert completed.returncode == 128 + signum, completed.stderr
    assert completed.stderr.strip().endswith("nothing was written")
    assert list(tmp_path.iterdir()) == [fifo]  # no t.csv: streams come before the renames


# ------------------------------------------------------------------ standard output


def test_standard_output_that_cannot_be_written_is_a_one_line_error(tmp_path):
    with open("/dev/full", "w") as full:
        completed = subprocess.run(
            [str(FASTEM), "simulate"], stdout=full, stderr=subprocess.PIPE, text=True, timeout=600
        )
    assert_one_line_error(completed, "standard output", "No space left on device")


def test_a_closed_pipe_ends_the_command_quietly():
    process = subprocess.Popen(
        [str(FASTEM), "simulate", "--replications", "100000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    process.stdout.close()  # as `| true` does
    _, stderr = process.communicate(timeout=600)
    assert process.returncode == 128 + signal.SIGPIPE
    assert stderr == b""


@pytest.mark.parametrize("command", [["fit", "DATA"], ["simulate"], ["lrt", "DATA"]])
def test_a_closed_standard_output_is_a_one_line_error_before_any_work(tmp_path, command):
    data = one_column_csv(tmp_path)
    args = [str(data) if arg == "DATA" else arg for arg in command]
    completed = subprocess.run(
        ["sh", "-c", '"$0" "$@" >&-', str(FASTEM), *args],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert_one_line_error(completed, "standard output is closed")
    assert list(tmp_path.iterdir()) == [data]


def test_a_closed_standard_output_is_not_needed_with_out(tmp_path):
    data = one_column_csv(tmp_path)
    out = tmp_path / "o.csv"
    completed = subprocess.run(
        ["sh", "-c", '"$0" "$@" >&-', str(FASTEM), "fit", str(data), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr
    assert out.read_text() == fastem_cli("fit", data, check=True).stdout
    completed = subprocess.run(
        ["sh", "-c", '"$0" "$@" >&-', str(FASTEM), "fit", str(data), "--out", "/dev/stdout"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert_one_line_error(completed, "/dev/stdout: standard output is not open")


def test_bench_into_a_full_device_is_a_one_line_error():
    with open("/dev/full", "w") as full:
        completed = subprocess.run(
            [str(FASTEM), "bench"], stdout=full, stderr=subprocess.PIPE, text=True, timeout=600
        )
    assert_one_line_error(completed, "standard output", "No space left on device")


def test_a_reader_that_stops_after_one_line_ends_the_command_quietly():
    # fastem simulate --replications 100000 | head -1
    process = subprocess.Popen(
        [str(FASTEM), "simulate", "--replications", "100000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout.readline() == b"dataset,value,component\n"
    process.stdout.close()
    _, stderr = process.communicate(timeout=600)
    assert process.returncode == 128 + signal.SIGPIPE
    assert stderr == b""


SLOW_NUMPY = """\
import sys
import time


class SlowNumpy:
    def find_spec(self, name, path=None, target=None):
        if name == "numpy":
            sys.meta_path.remove(self)
            print("loading numpy", file=sys.stderr, flush=True)
            time.sleep(600)


sys.meta_path.insert(0, SlowNumpy())
"""
"""A ``sitecustomize`` that makes the import of numpy take ten minutes, and says when it
starts."""


def test_ctrl_c_while_the_command_loads_exits_130_without_a_traceback(tmp_path):
    (tmp_path / "sitecustomize.py").write_text(SLOW_NUMPY)
    path = [str(tmp_path), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    process = started("simulate", env=dict(os.environ, PYTHONPATH=os.pathsep.join(path)))
    assert process.stderr.readline() == "loading numpy\n"
    process.send_signal(signal.SIGINT)
    completed = finished(process, timeout=60)
    assert completed.returncode == 130
    assert completed.stderr.strip() == "fastem: interrupted; nothing was written"
    assert completed.stdout == ""


# ------------------------------------------------------------------ one-line errors


@pytest.mark.parametrize(
    ("content", "fragments"),
    [
        (b"\xef\xbb\xbf1.5\n2.5\n3.5\n", None),  # a byte-order mark, then data: no header
        (b"1.5.2\n2.5\n3.5\n", ("line 1", "'1.5.2' is not a number")),
        (b"x\n1\n1_000\n", ("line 3", "'1_000' is not a number")),
        (b"x\n1\n2\n\xff3\n", ("line 4", "not UTF-8")),
        (b"x\n1\n" + b"9" * 200_000 + b"\n", ("line 3",)),
        (b"x\n1.5\n\n2.5\n3.5\n", ("line 3", "a blank line", "--dropna")),
    ],
)
def test_data_files_are_read_as_written(tmp_path, content, fragments):
    path = tmp_path / "data.csv"
    path.write_bytes(content)
    completed = fastem_cli("fit", path, "--components", 1)
    if fragments is None:
        assert completed.returncode == 0, completed.stderr
        assert first_row(completed.stdout)["mean_1"] == "2.5"  # the mean of 3 values
    else:
        assert_one_line_error(completed, str(path), *fragments)


def test_dropna_leaves_out_blank_lines_and_empty_values(tmp_path):
    path = tmp_path / "holes.csv"
    path.write_text("x\n1.5\n\n2.5\n\n3.5\n")
    completed = fastem_cli("fit", path, "--components", 1, "--dropna", check=True)
    assert first_row(completed.stdout)["mean_1"] == "2.5"


def test_a_file_with_ids_is_not_pooled_without_by_or_pool(tmp_path):
    path = tmp_path / "long.csv"
    path.write_text("id,x\na,1\na,2\nb,5\nb,6\n")
    assert_one_line_error(
        fastem_cli("fit", path, "--value", "x", "--components", 1),
        str(path),
        "column 'id' looks like dataset ids",
        "--by id",
        "--pool",
    )
    pooled = fastem_cli("fit", path, "--value", "x", "--components", 1, "--pool", check=True)
    assert len(pooled.stdout.splitlines()) == 2


def test_header_no_header_and_sep_on_the_command_line(tmp_path):
    year = tmp_path / "year.csv"
    year.write_text("2020\n" + "".join(f"{v / 4 + 0.1!r}\n" for v in range(20)))
    guessed = fastem_cli("fit", year, "--components", 1, check=True)
    assert "fastem: warning: " in guessed.stderr and "pass --header" in guessed.stderr
    assert len(guessed.stderr.strip().splitlines()) == 1
    assert float(first_row(guessed.stdout)["mean_1"]) > 90  # 2020 was fitted
    header = fastem_cli("fit", year, "--components", 1, "--header", check=True)
    assert header.stderr == "" and float(first_row(header.stdout)["mean_1"]) < 5
    no_header = fastem_cli("fit", year, "--components", 1, "--no-header", check=True)
    assert no_header.stderr == "" and no_header.stdout == guessed.stdout
    two = tmp_path / "two.csv"
    two.write_text("".join(f"{d};{v}\n" for d in (5, 6) for v in range(1, 9)))
    assert_one_line_error(fastem_cli("fit", two), "separated by semicolons", "--sep ';'")
    assert_one_line_error(
        fastem_cli("fit", two, "--sep", ";"),
        "has 2 columns",
        "--by, by number, 1 to 2",
        "its cell '5' is a number",
    )
    by_number = fastem_cli("fit", two, "--sep", ";", "--by", 1, "--value", 2, check=True)
    assert [line.split(",")[0] for line in by_number.stdout.splitlines()[1:]] == ["5", "6"]
    tabs = tmp_path / "tabs.csv"
    tabs.write_text("x\tid\n" + "".join(f"{v}\t{d}\n" for d in "ab" for v in range(1, 9)))
    fastem_cli("fit", tabs, "--sep", "tab", "--by", "id", check=True)
    decimal = tmp_path / "decimal.csv"
    decimal.write_text("x;y\n1,5;2\n")
    assert_one_line_error(
        fastem_cli("fit", decimal, "--sep", ";", "--value", "x"),
        "'1,5' is not a number",
        "decimal commas are not read",
    )
    np.save(tmp_path / "x.npy", np.arange(5.0))
    assert_one_line_error(fastem_cli("fit", tmp_path / "x.npy", "--sep", ";"), "for CSV files")
    refused = fastem_cli("fit", two, "--sep", ":")
    assert refused.returncode == 2
    assert "argument --sep: ':': give one of , ; tab |" in refused.stderr


def test_datasets_are_named_as_the_file_names_them_or_from_0(tmp_path):
    rng = np.random.default_rng(7)
    np.save(tmp_path / "rows.npy", rng.normal(size=(3, 30)))
    completed = fastem_cli("fit", tmp_path / "rows.npy", "--components", 1, check=True)
    assert [line.split(",")[0] for line in completed.stdout.splitlines()[1:]] == ["0", "1", "2"]
    single = one_column_csv(tmp_path)
    completed = fastem_cli("fit", single, "--components", 1, check=True)
    assert completed.stdout.splitlines()[1].split(",")[0] == "0"
    big = rng.normal(size=(3, 30))
    big[2] *= 1e200
    np.save(tmp_path / "big.npy", big)
    assert_one_line_error(fastem_cli("fit", tmp_path / "big.npy"), "dataset(s) '2' have values")
    # Warnings of the Python API, which counts datasets from 0, name them by their ids.
    path = tmp_path / "weights.csv"
    values = rng.normal(size=60).tolist()
    path.write_text(
        "id,x,w\n"
        + "".join(f"{'ab'[i // 30]},{v!r},{0.01 if i >= 30 else 1}\n" for i, v in enumerate(values))
    )
    completed = fastem_cli(
        "fit", path, "--by", "id", "--value", "x", "--weights-column", "w", check=True
    )
    warning = completed.stderr.strip()
    assert warning.startswith("fastem: warning: ") and len(warning.splitlines()) == 1
    assert "dataset(s) 'b' sum to far less" in warning and "(dataset 'b': 0.3 over 30" in warning
    assert "sample_weight" not in warning and "--weights-type probability" in warning


def test_npy_files_as_a_user_saves_them(tmp_path):
    np.save(tmp_path / "column.npy", np.arange(10.0).reshape(-1, 1))  # a column vector
    completed = fastem_cli("fit", tmp_path / "column.npy", "--components", 1, check=True)
    assert first_row(completed.stdout)["mean_1"] == "4.5"  # one dataset of 10
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    assert_one_line_error(fastem_cli("fit", tmp_path / "objects.npy"), "holds Python objects")
    (tmp_path / "text.npy").write_text("x\n1\n2\n")
    assert_one_line_error(fastem_cli("fit", tmp_path / "text.npy"), "not a .npy file", ".csv")


def test_a_yaml_design_says_that_yaml_is_not_supported(tmp_path):
    path = tmp_path / "design.yaml"
    path.write_text("weights: [0.5, 0.5]\n")
    assert_one_line_error(
        fastem_cli("study", "--design", path), "YAML is not supported", "TOML", "JSON"
    )


def test_a_directory_as_data_file_is_a_one_line_error(tmp_path):
    assert_one_line_error(fastem_cli("fit", tmp_path), str(tmp_path), "is a directory")


@pytest.mark.parametrize(
    ("write", "fragments"),
    [
        (lambda path: path.mkdir(), ("is a directory",)),
        (lambda path: path.write_text('{"n_samples": []}'), ("'n_samples' must be a non-empty",)),
        (lambda path: path.write_text('{"means": [0, "a"]}'), ("'means' holds 'a'",)),
        (lambda path: path.write_bytes(b'{\n"seed":\n 1\xff}'), ("line 3", "not UTF-8")),
    ],
)
def test_bad_design_files_are_one_line_errors(tmp_path, write, fragments):
    path = tmp_path / "design.json"
    write(path)
    assert_one_line_error(fastem_cli("study", "--design", path), str(path), *fragments)


def test_messages_of_study_speak_of_flags_and_design_files(tmp_path):
    completed = fastem_cli("study", "--n-samples", 1, "--replications", 5)
    assert_one_line_error(completed, "--n-samples must be at least 3")
    assert "ravel" not in completed.stderr
    assert_one_line_error(fastem_cli("study", "--seed", -1), "--seed must be at least 0")
    for name, text in [("d.toml", "weights = 0.5\n"), ("d.json", '{"weights": 0.5}')]:
        path = tmp_path / name
        path.write_text(text)
        assert_one_line_error(
            fastem_cli("study", "--design", path),
            f"{path}: 'weights' holds 0.5, a single value; give a list of one value per component",
        )
    yaml = tmp_path / "x.yaml"
    yaml.write_text("seed: 1\n")
    assert_one_line_error(fastem_cli("study", "--design", yaml), "YAML is not supported")


def test_messages_of_fit_speak_of_flags_and_files(tmp_path):
    data = one_column_csv(tmp_path)
    for flag, value in [
        ("--seed", -1),
        ("--n-init", 0),
        ("--max-iter", 0),
        ("--tol", -1),
        ("--init", "best"),
    ]:
        completed = fastem_cli("fit", data, flag, value)
        assert_one_line_error(completed, f"{flag} ")
        message = completed.stderr.split(":", 1)[1]
        for name in STRATEGY_NAMES:  # values the messages list, not Python's names
            message = message.replace(name, "")
        assert "_" not in message
    renamed = tmp_path / "values.npy"
    renamed.write_text("x\n1.5\n2.5\n")
    assert_one_line_error(
        fastem_cli("fit", renamed), "not a .npy file", "read as CSV when its name ends in .csv"
    )


def test_a_byte_order_mark_before_the_header_is_no_part_of_a_column_name(tmp_path):
    path = tmp_path / "bom.csv"
    rows = "".join(f"{d},{x}\n" for d in "ab" for x in range(1, 9))
    path.write_bytes(b"\xef\xbb\xbfid,x\n" + rows.encode())
    completed = fastem_cli("fit", path, "--by", "id", "--value", "x", "--quiet", check=True)
    assert [line.split(",")[0] for line in completed.stdout.splitlines()] == ["id", "a", "b"]


def test_weights_that_are_all_zero_in_a_dataset_are_named_by_its_id(tmp_path):
    path = tmp_path / "w.csv"
    rows = [f"a,{x},1" for x in range(1, 9)] + [f"b,{x},0" for x in range(1, 9)]
    path.write_text("id,x,w\n" + "\n".join(rows) + "\n")
    assert_one_line_error(
        fastem_cli("fit", path, "--by", "id", "--value", "x", "--weights-column", "w"),
        f"{path}: the weights of dataset 'b' sum to 0",
    )


def test_errors_of_a_dataset_name_its_id_before_any_fit(tmp_path):
    path = tmp_path / "long.csv"
    rng = np.random.default_rng(0)
    rows = [f"big,{v!r}" for v in rng.normal(size=200).tolist()] + ["tiny,1.0", "tiny,2.0"]
    path.write_text("id,value\n" + "\n".join(rows) + "\n")
    completed = fastem_cli("fit", path, "--by", "id", "--components", "1-3")
    assert_one_line_error(completed, str(path), "dataset 'tiny' has 2 point(s)", "--components 1-3")
    huge = tmp_path / "huge.csv"
    huge.write_text("id,value\n" + "\n".join(rows[:50] + ["far,1e308"] * 5) + "\n")
    assert_one_line_error(
        fastem_cli("fit", huge, "--by", "id"), str(huge), "dataset(s) 'far' have a scale"
    )


def test_fit_reads_what_simulate_writes_without_options(tmp_path):
    path = tmp_path / "sim.csv"
    fastem_cli("simulate", "--replications", 3, "--out", path, check=True)
    completed = fastem_cli("fit", path, check=True)
    assert [line.split(",")[0] for line in completed.stdout.splitlines()] == ["id", "0", "1", "2"]


def test_help_documents_exit_status_and_files():
    text = help_text("fit")
    for fragment in ("exit status", "130", "141", "0666 minus the umask", "symlink"):
        assert fragment in text


# ------------------------------------------------------------------ memory


def test_a_huge_max_iter_costs_a_study_no_memory(tmp_path):
    script = (
        "import resource, fastem; fastem.study([0.4, 0.6], [-2.5, 3.5], [4.0, 4.0], 40, "
        "200, n_init=5, max_iter=10**8); "
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=600
    )
    assert completed.returncode == 0, completed.stderr
    peak_kib = int(completed.stdout.split()[-1])
    assert peak_kib < 1024**2, peak_kib  # traces of 20 x 5 fits would need 80 GB


def test_kept_traces_are_refused_up_front_when_memory_cannot_hold_them():
    import fastem

    with pytest.raises(ValueError, match="keeping traces .* would need .* of memory"):
        fastem.study([0.4, 0.6], [-2.5, 3.5], [4.0, 4.0], 40, 10, trace=True, max_iter=10**9)


def test_study_chunks_hold_a_bounded_number_of_points():
    from fastem.toolkit.study import CHUNK_POINTS, DEFAULT_CHUNK, chunk_plan

    for size in (1, 40, 2_000, 10**5, 10**7):
        plan = list(chunk_plan(5_000, size))
        assert sum(count for _, count in plan) == 5_000
        assert [start for start, _ in plan] == list(np.cumsum([0] + [c for _, c in plan])[:-1])
        assert all(count * size <= CHUNK_POINTS or count == 1 for _, count in plan)
        assert max(count for _, count in plan) <= DEFAULT_CHUNK


def simulated_text(replications, n_samples, seed):
    """What ``fastem simulate`` writes, built from one simulation of every dataset."""
    import fastem

    data, labels = fastem.simulate(
        [0.4, 0.6], [-2.5, 3.5], [4.0, 4.0], n_samples, replications, seed
    )
    lines = ["dataset,value,component"]
    for d in range(replications):
        lines.extend(f"{d},{x!r},{k}" for x, k in zip(data[d].tolist(), labels[d].tolist()))
    return "\n".join(lines) + "\n"


def test_simulate_writes_in_chunks_the_bytes_of_the_whole_simulation(tmp_path):
    from fastem.cli.simulate import SIMULATE_CHUNK_POINTS

    replications, n_samples = 3 * SIMULATE_CHUNK_POINTS // 1000 + 7, 1000  # four chunks
    expected = simulated_text(replications, n_samples, 5)
    args = (
        "simulate",
        "--replications",
        replications,
        "--n-samples",
        n_samples,
        "--seed",
        5,
        "--means",
        -2.5,
        3.5,
        "--variances",
        4,
        4,
        "--quiet",
    )
    assert fastem_cli(*args, check=True).stdout == expected
    fastem_cli(*args, "--out", tmp_path / "sim.csv", check=True)
    assert (tmp_path / "sim.csv").read_text() == expected
    assert os.listdir(tmp_path) == ["sim.csv"]


def peak_rss_kib(*args):
    """The peak resident memory of ``fastem ARGS``, in KiB."""
    process = subprocess.Popen(
        [str(FASTEM), *map(str, args)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    assert process.returncode == 0, process.stderr.read()
    process.stderr.close()
    return usage.ru_maxrss


def test_simulate_memory_is_flat_in_the_replications(tmp_path):
    out = tmp_path / "sim.csv"
    small, large = (
        peak_rss_kib(
            "simulate", "--replications", replications, "--n-samples", 1000, "--out", out, "--quiet"
        )
        for replications in (200, 2000)
    )
    # The whole CSV of 2 million points in memory took 370 MiB more than that of 200,000.
    assert large - small < 64 * 1024, (small, large)


def test_the_raw_file_of_a_study_is_the_raw_table_of_the_same_study(tmp_path):
    import fastem
    from fastem.cli.study import _with_provenance

    args = (
        "--replications",
        30,
        "--n-samples",
        40,
        60,
        "--init",
        "kmeans++",
        "random",
        "--n-init",
        3,
        "--algorithm",
        "em",
        "squarem",
        "--seed",
        3,
    )
    fastem_cli("study", *args, "--raw", tmp_path / "raw.csv", "--quiet", check=True)
    design = fastem.Design(
        replications=30,
        n_samples=(40, 60),
        init=("kmeans++", "random"),
        n_init=3,
        algorithm=("em", "squarem"),
        seed=3,
    )
    provenance = {"fastem": fastem.__version__, "design": design.to_dict()}
    expected = _with_provenance(design.run().raw(), provenance, whole=False).to_csv()
    assert (tmp_path / "raw.csv").read_text() == expected


def test_a_study_of_a_trillion_replications_runs_in_little_memory(tmp_path):
    process = subprocess.Popen(
        [str(FASTEM), "study", "--replications", str(10**12), "--raw", str(tmp_path / "raw.csv")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )

    def raw_bytes():  # the raw rows written so far, into the temporary file
        return sum(path.stat().st_size for path in tmp_path.glob(".fastem-*.tmp"))

    # Sampled once the study runs (the kernels may take a minute to compile first).
    wait_until(lambda: raw_bytes() > 0, process, "the first raw rows")
    written, peak = raw_bytes(), 0
    for _ in range(16):
        time.sleep(0.5)
        with open(f"/proc/{process.pid}/status") as status:
            rss = next(int(line.split()[1]) for line in status if line.startswith("VmRSS"))
        peak = max(peak, rss)
    assert raw_bytes() > written, "the study made no progress while its memory was sampled"
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "interrupted; nothing was written" in stderr and os.listdir(tmp_path) == []
    # A list of its chunks alone grew to gigabytes while the memory was sampled.
    assert peak < 1024**2, peak


@pytest.mark.parametrize(
    "args, flag",
    [
        (("--n-init", 2**31 - 1), "--n-init"),
        (("--n-samples", 40, 10**13), "--n-samples"),
        (("--replications", 10**13, "--plot", "figures"), "--replications"),
    ],
)
def test_study_options_beyond_memory_are_refused_before_any_work(tmp_path, args, flag):
    completed = fastem_cli("study", *args, "--csv", "table.csv", cwd=tmp_path)
    assert_one_line_error(
        completed, f"{flag} ", " would need ", "more than this machine's", f"at most {flag} "
    )
    assert os.listdir(tmp_path) == []


# ------------------------------------------------------------------ the first run


@pytest.mark.slow  # compiles kernels into an empty cache: make test-all and CI run it
def test_the_first_run_says_that_it_compiles_and_later_runs_do_not(tmp_path):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    first = fastem_cli("simulate", "--replications", 2, env=env)
    assert first.returncode == 0, first.stderr
    assert first.stderr.startswith("fastem: compiling the kernels for this CPU")
    second = fastem_cli("simulate", "--replications", 2, env=env)
    assert second.returncode == 0 and second.stderr == ""
    assert second.stdout == first.stdout


@pytest.mark.slow  # compiles kernels into an empty cache: make test-all and CI run it
def test_the_notice_is_for_the_algorithm_the_command_runs(tmp_path):
    # Each family of algorithms is a kernel of its own (EM and SQUAREM share one): with
    # EM's compiled, DAAREM's is still to come.
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    data = tmp_path / "x.csv"
    data.write_text("x\n" + "\n".join(str(v) for v in [0.1, 0.5, 0.2, 3.1, 3.4, 2.9]) + "\n")
    starts = ["--n-init", "5", "--init", "kmeans++"]  # no emEM starts
    em, daarem = ["--algorithm", "em", *starts], ["--algorithm", "daarem", *starts]
    runs = [fastem_cli("fit", data, *extra, env=env) for extra in (em, daarem, daarem)]
    assert all(run.returncode == 0 for run in runs), [run.stderr for run in runs]
    assert [run.stderr.startswith("fastem: compiling the kernels") for run in runs] == [
        True,
        True,
        False,
    ]


def test_the_notice_looks_at_every_algorithm_of_a_study():
    completed = fastem_cli("study", "--algorithm", "em", "squarem", "--replications", 2)
    assert completed.returncode == 0, completed.stderr
    assert "squarem" in completed.stdout and "Traceback" not in completed.stderr
