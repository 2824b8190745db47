"""Resumable studies: ``study(..., checkpoint=DIR, resume=True)`` and ``fastem study
--checkpoint DIR --resume`` end with the same table and raw rows, byte for byte, as an
uninterrupted run, after a SIGKILL at any point, a chunk file cut short or damaged, or
chunks never written; a checkpoint of another study, or a directory that is not one, is
refused, naming the difference and the fix."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import fastem
from fastem.toolkit.study_checkpoint import MANIFEST, Checkpoint, CheckpointError

FASTEM = Path(sys.executable).with_name("fastem")
TRUTH = ([0.4, 0.6], [-2.5, 3.5], [4.0, 4.0])
SMALL = dict(
    n_samples=[20, 30],
    replications=30,
    n_init=2,
    init=["kmeans++", "random"],
    random_state=7,
    chunk_size=7,
)


def _study(**options):
    """The small study, its table as CSV text and its raw rows as CSV texts."""
    rows = []
    result = fastem.study(*TRUTH, **{**SMALL, **options}, raw=rows.append)
    return result.table.to_csv(), [table.to_csv() for table in rows], result


@pytest.fixture(scope="module")
def uninterrupted():
    table, raw, _ = _study()
    return table, raw


def _chunk_files(directory: Path) -> list:
    return sorted(directory.glob("*.chunk"))


def test_a_checkpointed_study_and_its_resumption_give_the_uninterrupted_table(
    tmp_path, uninterrupted
):
    assert _study(checkpoint=tmp_path / "run")[:2] == uninterrupted
    files = _chunk_files(tmp_path / "run")
    assert len(files) == 2 * 5  # 2 cells of 30 datasets in chunks of 7
    before = {path: path.read_bytes() for path in files}
    # Resuming a finished study reads every chunk back and fits nothing again.
    assert _study(checkpoint=tmp_path / "run", resume=True)[:2] == uninterrupted
    assert {path: path.read_bytes() for path in _chunk_files(tmp_path / "run")} == before


def test_chunks_missing_cut_short_or_damaged_are_fitted_again(tmp_path, uninterrupted):
    directory = tmp_path / "run"
    _study(checkpoint=directory)
    files = _chunk_files(directory)
    files[3].unlink()  # killed before this chunk was written
    files[7].unlink()
    whole = files[5].read_bytes()
    files[5].write_bytes(whole[: len(whole) // 2])  # cut short (the file system lost a part)
    changed = bytearray(files[8].read_bytes())
    changed[-10] ^= 1
    files[8].write_bytes(bytes(changed))  # one bit flipped on disk
    stray = directory / ".chunk-k1ll3d.tmp"  # a chunk killed mid-write, never renamed
    stray.write_bytes(whole[:100])
    with pytest.warns(RuntimeWarning, match="damaged") as caught:
        assert _study(checkpoint=directory, resume=True)[:2] == uninterrupted
    assert sorted(str(w.message).split("chunk file ")[1].split(" ")[0] for w in caught) == [
        files[5].name,
        files[8].name,
    ]
    assert not stray.exists()
    assert _chunk_files(directory) == files
    # Written again, whole (a warning would be an error here); the fitting times they
    # hold differ from run to run, the fits do not.
    assert _study(checkpoint=directory, resume=True)[:2] == uninterrupted


def test_a_resumed_study_keeps_every_replication_as_an_uninterrupted_one(tmp_path):
    _, _, plain = _study(keep_replications=True, trace=True)
    _study(checkpoint=tmp_path / "run", keep_replications=True, trace=True)
    for path in _chunk_files(tmp_path / "run")[::2]:
        path.unlink()
    _, _, resumed = _study(checkpoint=tmp_path / "run", resume=True, trace=True)
    assert resumed.raw().to_csv() == plain.raw().to_csv()
    for ours, theirs in zip(resumed.cells, plain.cells):
        assert ours.trace.tobytes() == theirs.trace.tobytes()
        assert ours.rate.tobytes() == theirs.rate.tobytes()


def test_a_checkpoint_is_never_overwritten_without_resume(tmp_path):
    _study(checkpoint=tmp_path / "run", replications=5, n_samples=[20])
    with pytest.raises(CheckpointError, match=r"holds a study already.*resume=True.*new dir"):
        _study(checkpoint=tmp_path / "run", replications=5, n_samples=[20])


def test_resuming_another_study_is_refused_naming_what_differs(tmp_path):
    _study(checkpoint=tmp_path / "run", replications=5, n_samples=[20])
    with pytest.raises(CheckpointError) as error:
        _study(
            checkpoint=tmp_path / "run",
            resume=True,
            replications=5,
            n_samples=[20],
            random_state=8,
            tol=1e-6,
        )
    assert error.value.options == ("random_state", "tol")
    message = str(error.value)
    assert "random_state=8 here, 7 in the checkpoint" in message
    assert f"its settings are in {tmp_path / 'run' / MANIFEST}" in message
    assert "give a new directory" in message


def test_a_checkpoint_of_another_fastem_version_is_refused(tmp_path):
    _study(checkpoint=tmp_path / "run", replications=5, n_samples=[20])
    manifest = tmp_path / "run" / MANIFEST
    document = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({**document, "fastem": "0.0.1"}))
    with pytest.raises(CheckpointError, match="written by fastem 0.0.1.*resume it with fastem"):
        _study(checkpoint=tmp_path / "run", resume=True, replications=5, n_samples=[20])


def test_a_directory_that_is_not_a_checkpoint_is_refused(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("mine")
    with pytest.raises(CheckpointError, match=r"notes\.txt.*give an empty or a new directory"):
        _study(checkpoint=tmp_path / "mine", resume=True)
    assert (tmp_path / "mine" / "notes.txt").read_text() == "mine"
    (tmp_path / "file").write_text("")
    with pytest.raises(CheckpointError, match="is not a directory"):
        _study(checkpoint=tmp_path / "file")
    with pytest.raises(CheckpointError, match="cannot create the directory"):
        _study(checkpoint=tmp_path / "missing" / "run")
    with pytest.raises(TypeError, match="give its directory: checkpoint=DIR"):
        _study(resume=True)


def test_two_studies_never_write_into_one_checkpoint(tmp_path):
    first = Checkpoint(tmp_path / "run", {"replications": 5}, resume=False)
    try:
        with pytest.raises(CheckpointError, match="another study is running in it"):
            Checkpoint(tmp_path / "run", {"replications": 5}, resume=True)
    finally:
        first.close()
    Checkpoint(tmp_path / "run", {"replications": 5}, resume=True).close()


# ----------------------------------------------------------------------------- the CLI

STUDY = ["study", "--n-samples", "20", "--replications", "400", "--n-init", "2", "--quiet"]
STUDY += ["--chunk-size", "5"]  # 80 chunks: a kill lands part way


def _fastem(*args):
    return subprocess.run(
        [str(FASTEM), *map(str, args)], capture_output=True, text=True, timeout=600
    )


def _table_of(stdout: str) -> str:
    return stdout.split("timing (varies")[0]


def test_fastem_study_killed_by_sigkill_resumes_to_the_same_files_byte_for_byte(tmp_path):
    plain = _fastem(*STUDY, "--csv", tmp_path / "plain.csv", "--raw", tmp_path / "plain.raw")
    assert plain.returncode == 0, plain.stderr
    run = [*STUDY, "--checkpoint", tmp_path / "ck", "--csv", tmp_path / "table.csv"]
    run += ["--raw", tmp_path / "raw.csv"]
    killed = subprocess.Popen([str(FASTEM), *map(str, run)], stderr=subprocess.DEVNULL)
    while killed.poll() is None and not _chunk_files(tmp_path / "ck"):
        time.sleep(0.002)
    os.kill(killed.pid, signal.SIGKILL)
    assert killed.wait() == -signal.SIGKILL
    assert 0 < len(_chunk_files(tmp_path / "ck")) < 80  # killed part way
    assert not (tmp_path / "table.csv").exists() and not (tmp_path / "raw.csv").exists()
    left = sorted(tmp_path.glob(".fastem-*.tmp"))  # the killed run's outputs, uncommitted
    assert len(left) == 2
    refused = _fastem(*run)
    assert refused.returncode == 2 and "--resume" in refused.stderr, refused.stderr
    other = _fastem(*run, "--resume", "--seed", "1")
    assert other.returncode == 2, other.stderr
    assert "--seed 1 here, 0 in the checkpoint" in other.stderr
    resumed = _fastem(*run, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert sorted(tmp_path.glob(".fastem-*.tmp")) == []
    assert len(_chunk_files(tmp_path / "ck")) == 80
    assert (tmp_path / "table.csv").read_bytes() == (tmp_path / "plain.csv").read_bytes()
    assert (tmp_path / "raw.csv").read_bytes() == (tmp_path / "plain.raw").read_bytes()
    assert _table_of(resumed.stdout) == _table_of(plain.stdout)


def test_only_the_temporary_files_of_stopped_commands_are_removed(tmp_path):
    from fastem.cli.outputs import OutputFile, remove_abandoned

    living = OutputFile(tmp_path / "living.csv", "--raw")  # locked by this process
    try:
        stopped = tmp_path / ".fastem-0123abcd.tmp"
        stopped.write_text("a killed run's rows")
        other = tmp_path / ".fastem-notes.tmp"
        other.write_text("not fastem's name")
        assert remove_abandoned([tmp_path / "raw.csv", None]) == [stopped]
        assert living.temporary.exists() and other.exists() and not stopped.exists()
    finally:
        living.discard()


def test_fastem_study_resume_needs_a_checkpoint(tmp_path):
    refused = _fastem("study", "--resume")
    assert refused.returncode == 2
    assert "give its directory: --checkpoint DIR" in refused.stderr


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::UserWarning:distributed")
def test_a_study_on_a_dask_cluster_is_checkpointed_and_resumed_alike(tmp_path, uninterrupted):
    distributed = pytest.importorskip("distributed")
    with distributed.Client(
        processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None
    ) as client:
        assert _study(checkpoint=tmp_path / "run", client=client)[:2] == uninterrupted
        for path in _chunk_files(tmp_path / "run")[1::3]:
            path.unlink()  # the chunks that were in flight on the cluster
        assert _study(checkpoint=tmp_path / "run", resume=True, client=client)[:2] == uninterrupted
    assert len(_chunk_files(tmp_path / "run")) == 2 * 5
