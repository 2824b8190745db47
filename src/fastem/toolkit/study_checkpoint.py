"""Checkpoints of a Monte Carlo study: each finished chunk's fits in a file of its own in a
directory, so that a study stopped at any point (a kill, an out-of-memory, a preempted
node) resumes where it stopped and ends with the same table and raw rows, bit for bit, as
if it had never stopped.

What a chunk file holds is what a chunk's run gives (:func:`.study_runs._run_chunk`: every
method's :class:`fastem.FitResult` and its fitting time, and the tests' p-values), so that
a resumed study folds the same values into the same sums, in the same order, as an
uninterrupted one: the table, the raw rows and the figures cannot tell them apart. A chunk's
fits depend only on the study's settings and the chunk's datasets, so those of a chunk read
back are those it would compute again.

The directory holds:

- ``study.json``, the manifest: the checkpoint's format, the fastem version and the study's
  settings that decide its results (:func:`settings_of`), written once, when the study
  starts; a resumed study must have the same, or is refused with the settings that differ;
- ``cell0001-000000002000-02000.chunk``: design cell 1's chunk of 2,000 datasets from
  dataset 2,000, written to a temporary file (``.chunk-*.tmp``) in the directory, flushed to
  disk and renamed (``os.replace``): a chunk file is whole or absent. Its header holds the
  payload's length and SHA-256, so that a file damaged on disk is recognised, reported and
  computed again;
- ``.lock``, locked (``fcntl.flock``) while a study runs in the directory, so that two runs
  never write into one checkpoint.

Chunk files are pickles: resume only from a directory written by a study you ran, as you
would run only scripts you trust.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import fcntl
import hashlib
import json
import os
import pickle
import tempfile
import warnings
from pathlib import Path

import numpy as np

from .. import __version__
from .study_chunks import run_chunks

FORMAT = 1
"""The version of the checkpoint's layout: a checkpoint of another format is refused."""
MANIFEST = "study.json"
LOCK = ".lock"
_MAGIC = b"fastem study chunk 1\n"
_TEMPORARY = (".chunk-", ".tmp")


class CheckpointError(ValueError):
    """A checkpoint directory that this study cannot use: the message names it and the fix;
    ``options`` names the study's settings that differ from the checkpoint's, if that is
    why."""

    def __init__(self, message: str, options: tuple = ()):
        super().__init__(message)
        self.options = options


def settings_of(**settings) -> dict:
    """The study's settings as plain JSON values (lists for tuples and arrays, dicts for
    dataclasses and :class:`Scenario`), so that they are written, read back and compared as
    text: ``settings_of(replications=1000, ...)``."""
    return {name: _plain(value) for name, value in settings.items()}


def open_checkpoint(directory, resume, design, fitting, schedule, fit_options):
    """The :class:`Checkpoint` of ``study(..., checkpoint=directory, resume=resume)``, or
    None without a directory: ``design`` is the study's ``(scenarios, sizes, fitted
    numbers of components)``, ``fitting`` and ``schedule`` its :class:`.study_runs.Fitting`
    and :class:`.study_runs.Schedule`, ``fit_options`` every option of :func:`fastem.fit`
    it has, given or not (so that a default given by name is no difference)."""
    if not isinstance(resume, (bool, np.bool_)):
        raise TypeError(f"resume must be True or False, got {resume!r}.")
    if directory is None:
        if resume:
            raise TypeError(
                "resume=True continues a checkpoint; give its directory: checkpoint=DIR."
            )
        return None
    scenarios, sizes, fitted_ks = design
    methods = fitting.methods
    settings = settings_of(
        scenarios=scenarios,
        n_samples=sizes,
        replications=schedule.replications,
        chunk_size=schedule.chunk_size,
        n_components=fitted_ks,
        **{
            name: list(dict.fromkeys(method[index] for method in methods))
            for index, name in enumerate(("init", "algorithm", "stop", "penalty"))
        },
        n_init=fitting.n_init,
        random_state=fitting.seed,
        se=fitting.se,
        init_params=fitting.init_params,
        at_best_tol=fitting.at_best_tol,
        quantiles=fitting.quantiles,
        test=fitting.test,
        trace=fitting.trace,
        **fit_options,
    )
    return Checkpoint(directory, settings, bool(resume))


def _plain(value):
    """``value`` as JSON can hold it, exactly (floats are written with every digit)."""
    if isinstance(value, (np.generic,)):
        return value.item()
    if isinstance(value, np.ndarray):
        return {"dtype": str(value.dtype), "values": value.tolist()}
    if isinstance(value, enum.Enum):
        return value.name
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"class": type(value).__name__, **fields}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if callable(value):
        return f"{getattr(value, '__module__', '')}.{getattr(value, '__qualname__', value)}"
    return repr(value)


def _text(value) -> str:
    return json.dumps(value, sort_keys=True)


class Checkpoint:
    """A study's checkpoint directory, opened for one run (see the module's docstring).

    Parameters
    ----------
    directory : str or path
        Created if missing (its parent must exist). A directory that holds another
        study's checkpoint, or files that are not a checkpoint, is refused.
    settings : dict
        The study's settings (:func:`settings_of`), written to the manifest of a new
        checkpoint and compared with those of an old one.
    resume : bool
        Whether a checkpoint already in ``directory`` is continued; without it, such a
        directory is refused (a checkpoint is never overwritten). With ``resume`` and no
        checkpoint yet, the study starts one, so that the same command can be run again
        after every stop.
    """

    def __init__(self, directory, settings: dict, resume: bool):
        self.directory = Path(directory)
        self.settings = settings
        self._lock = None
        self._make_directory()
        self._take_lock()
        try:
            self._open(resume)
        except BaseException:
            self.close()
            raise

    def _make_directory(self) -> None:
        if self.directory.exists() and not self.directory.is_dir():
            raise CheckpointError(
                f"checkpoint {self.directory}: is not a directory; give a directory for the "
                "checkpoint (it is created if missing)"
            )
        try:
            self.directory.mkdir(exist_ok=True)
        except OSError as error:
            raise CheckpointError(
                f"checkpoint {self.directory}: cannot create the directory "
                f"({error.strerror}); create its parent first, or give another directory"
            ) from None

    def _take_lock(self) -> None:
        fd = os.open(self.directory / LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise CheckpointError(
                f"checkpoint {self.directory}: another study is running in it; wait for it "
                "to finish, or give another directory"
            ) from None
        self._lock = fd

    def _open(self, resume: bool) -> None:
        """Check the manifest of a checkpoint already there, or write a new one; remove
        the temporary files of chunks whose writing was cut short."""
        for path in self.directory.glob(f"{_TEMPORARY[0]}*{_TEMPORARY[1]}"):
            path.unlink()  # a chunk killed mid-write: computed again
        manifest = self.directory / MANIFEST
        if manifest.exists():
            if not resume:
                raise CheckpointError(
                    f"checkpoint {self.directory}: holds a study already ({len(self.done)} "
                    "chunks done); resume it (resume=True, --resume), or give a new "
                    "directory"
                )
            self._check(manifest)
            return
        others = sorted(p.name for p in self.directory.iterdir() if p.name != LOCK)
        if others:
            raise CheckpointError(
                f"checkpoint {self.directory}: holds files that are not a study's "
                f"checkpoint ({', '.join(others[:3])}{', ...' if len(others) > 3 else ''}); "
                "give an empty or a new directory"
            )
        document = {"format": FORMAT, "fastem": __version__, "settings": self.settings}
        self._write(manifest, (json.dumps(document, indent=1) + "\n").encode())

    def _check(self, manifest: Path) -> None:
        """Refuse a checkpoint of another format, fastem version or study."""
        try:
            document = json.loads(manifest.read_text())
            written, version = document["settings"], document["fastem"]
            assert document["format"] == FORMAT
        except (OSError, ValueError, KeyError, TypeError, AssertionError):
            raise CheckpointError(
                f"checkpoint {self.directory}: its manifest {MANIFEST} cannot be read as "
                f"a fastem checkpoint of format {FORMAT}; give a new directory"
            ) from None
        if version != __version__:
            raise CheckpointError(
                f"checkpoint {self.directory}: written by fastem {version}, this is fastem "
                f"{__version__}, whose fits may differ; resume it with fastem {version}, or "
                "give a new directory"
            )
        names = list(dict.fromkeys([*self.settings, *written]))
        differ = [
            name for name in names if _text(self.settings.get(name)) != _text(written.get(name))
        ]
        if differ:
            shown = "; ".join(
                f"{name}={_text(self.settings.get(name))} here, "
                f"{_text(written.get(name))} in the checkpoint"
                for name in differ
            )
            raise CheckpointError(
                f"checkpoint {self.directory}: written by another study ({shown}); run the "
                f"same study to resume it (its settings are in {manifest}), or give a new "
                "directory",
                tuple(differ),
            )

    @property
    def done(self) -> set:
        """The names of the chunk files in the directory."""
        return {path.name for path in self.directory.glob("*.chunk")}

    @staticmethod
    def name(cell: int, start: int, count: int) -> str:
        """The file name of design cell ``cell``'s chunk of ``count`` datasets from
        ``start``."""
        return f"cell{cell:04d}-{start:012d}-{count:05d}.chunk"

    def load(self, name: str):
        """The outcome saved in chunk file ``name``, or None (with a warning) when the file
        is damaged: its chunk is then computed again and the file replaced."""
        path = self.directory / name
        try:
            data = path.read_bytes()
        except OSError as error:
            return self._damaged(path, error.strerror)
        head = len(_MAGIC) + 40
        if len(data) < head or not data.startswith(_MAGIC):
            return self._damaged(path, "not a chunk file")
        digest, size = data[len(_MAGIC) : head - 8], int.from_bytes(data[head - 8 : head], "big")
        payload = data[head:]
        if len(payload) != size or hashlib.sha256(payload).digest() != digest:
            return self._damaged(path, "incomplete or changed since it was written")
        return pickle.loads(payload)

    def _damaged(self, path: Path, why: str):
        warnings.warn(
            f"checkpoint {self.directory}: chunk file {path.name} is damaged ({why}); its "
            "chunk is computed again and the file replaced",
            RuntimeWarning,
            stacklevel=3,
        )
        return None

    def save(self, name: str, outcome) -> None:
        """``outcome`` in chunk file ``name``, atomically."""
        payload = pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
        header = _MAGIC + hashlib.sha256(payload).digest() + len(payload).to_bytes(8, "big")
        self._write(self.directory / name, header + payload)

    def _write(self, path: Path, data: bytes) -> None:
        """``data`` into ``path``: a temporary file in the directory, flushed to disk, then
        renamed over ``path`` and the rename flushed, so that ``path`` is whole or absent
        whenever the process dies."""
        fd, temporary = tempfile.mkstemp(
            prefix=_TEMPORARY[0], suffix=_TEMPORARY[1], dir=self.directory
        )
        try:
            with open(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        directory = os.open(self.directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    def close(self) -> None:
        """Release the directory's lock."""
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None


def checkpointed_chunks(checkpoint, cell: int, plan, arguments, run_chunk, client):
    """``((start, count), outcome)`` of each chunk of design cell ``cell``, in order:
    ``plan()`` gives the chunks, ``(start, count)``, afresh at each call; a chunk whose
    file is in ``checkpoint`` is read from it, the others are run by
    :func:`.study_chunks.run_chunks` (``run_chunk(*arguments(start, count))``, here or on
    a Dask ``client``'s cluster) and saved as they come. Without a checkpoint, every chunk
    is run. A damaged file's chunk is run here, at its turn."""
    done = set() if checkpoint is None else checkpoint.done  # read once: files come later
    missing = (chunk for chunk in plan() if Checkpoint.name(cell, *chunk) not in done)
    computed = run_chunks(run_chunk, (arguments(*chunk) for chunk in missing), client)
    for chunk in plan():
        name = Checkpoint.name(cell, *chunk)
        if name in done:
            outcome = checkpoint.load(name)
            if outcome is None:
                outcome = run_chunk(*arguments(*chunk))
                checkpoint.save(name, outcome)
        else:
            _, outcome = next(computed)
            if checkpoint is not None:
                checkpoint.save(name, outcome)
        yield chunk, outcome
