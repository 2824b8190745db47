"""The command line's output files: checked before any work, written all at once at the end.

Each output path is prepared when the command starts, so that a path that cannot be
written (no such directory, no permission, a read-only file system, a directory in its
place, a file that another output or the command's input already names) is an error
before any work. An output is one of two kinds.

- **A file** (a regular file, a new name, or a symlink to either: the link is followed and
  its target replaced, the link stays a link). A temporary file with a short name of its
  own, ``.fastem-XXXXXXXX.tmp``, is created beside the target with ``O_EXCL | O_NOFOLLOW``
  (nothing already there, a symlink least of all, is followed), and its descriptor is
  kept (and locked, ``flock``, while the command lives: :func:`remove_abandoned` removes
  only the temporary files of commands killed before their commit): the content goes
  through it, in one piece (:meth:`OutputFile.set`) or in many (:meth:`OutputFile.write`),
  and the file is never opened by name again. An existing
  target's permission bits (and owner, where allowed) are copied; a new file gets
  ``0666`` minus the umask, as any program's would.
- **A stream**: ``/dev/stdout``, ``/dev/stderr``, ``/dev/fd/N`` (what bash's ``>(...)``
  gives), a FIFO or a device (``/dev/null``). It cannot be replaced by a rename, so it is
  written as it is: the descriptor the command was given (its offset, and the append mode
  of ``>>``, kept; :mod:`fastem.cli.descriptors` says which it names), or the path opened
  for writing without truncating it. Its content is held until the commit.

:meth:`Outputs.commit` runs when every output's content is complete: it flushes the
temporary files to disk, checks that every target can still be replaced (a directory may
have taken a file's place), writes the streams in order (Ctrl-C works while one waits for
its reader), checks the targets again, and renames the temporary files over their targets,
with Ctrl-C, SIGTERM and SIGHUP held back until the last rename. A failure or a stop before
the renames replaces no file, and a reader never sees half a file.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import secrets
import stat
import sys
import tempfile
from pathlib import Path

from .descriptors import STANDARD_NAMES, given_at_start, named_descriptor
from .signals import held

STREAM_MEMORY = 64 * 2**20
"""Bytes of a stream's content held in memory; beyond that it waits in an unnamed
temporary file (``tempfile``), so that a large output does not fill the memory."""


class OutputError(ValueError):
    """An output path that cannot be written; the message names it and the fix."""


class OutputFile:
    """One output path, a file or a stream (see the module's docstring).

    ``path`` as given, ``what`` its option (``--out``). Content is given by :meth:`set`
    (all of it) or :meth:`write` (a piece, after those written before), as ``str``
    (UTF-8) or ``bytes``."""

    def __init__(self, path, what: str):
        self.path, self.what = Path(path), what
        if str(path) == "":
            raise OutputError(f"{what}: an empty path; give a file name")
        self.temporary: Path | None = None  # a file's temporary, until renamed
        self._file = None  # the kept handle of the temporary, or a stream's held content
        self._descriptor = named_descriptor(str(path))
        if self._descriptor is not None:
            self._descriptor = _duplicate(self._descriptor, self.path)
            self.target, self.is_stream = None, True
        else:
            self.target = Path(os.path.realpath(self.path))  # through symlinks
            mode = _mode(self.target, self.path)
            if mode is not None and stat.S_ISDIR(mode):
                raise OutputError(f"{self.path}: is a directory; give a file name for {what}")
            if mode is not None and stat.S_ISSOCK(mode):
                raise OutputError(
                    f"{self.path}: is a socket; give a file, a FIFO or a device for {what}"
                )
            self.is_stream = mode is not None and not stat.S_ISREG(mode)
            if self.is_stream and not os.access(self.target, os.W_OK):
                raise OutputError(f"{self.path}: cannot be written (permission denied)")
        if self.is_stream:
            self._file = tempfile.SpooledTemporaryFile(max_size=STREAM_MEMORY)
            return
        if not self.target.parent.is_dir():
            raise OutputError(
                f"{self.path}: the directory {self.target.parent} does not exist; create it first"
            )
        fd, self.temporary = _create_beside(self.target, self.path)
        try:
            self._file = open(fd, "wb")
            self._identity = _identity(os.fstat(fd))
            if mode is not None:
                self._guard(_copy_ownership, self.target, fd)
        except BaseException:
            # The caller never gets this output to discard: its temporary goes here.
            if self._file is None:
                os.close(fd)
            else:
                self._file.close()
            with contextlib.suppress(OSError):
                os.unlink(self.temporary)
            self.temporary = None
            raise

    def set(self, content: str | bytes) -> None:
        """The whole content (replacing anything written so far)."""
        self._guard(self._file.seek, 0)
        self._guard(self._file.truncate)
        self.write(content)

    def write(self, content: str | bytes) -> None:
        """A piece of the content, after the pieces written before."""
        data = content.encode() if isinstance(content, str) else content
        self._guard(self._file.write, data)

    def commit(self) -> None:
        """Put the content in place: a stream is written, a file renamed over its target
        (after :meth:`ready` and :meth:`check`)."""
        if self.is_stream:
            self._send()
            return
        try:
            if _identity(os.lstat(self.temporary)) != self._identity:
                raise FileNotFoundError
        except FileNotFoundError:
            raise OutputError(
                f"{self.path}: the temporary file {self.temporary} was removed "
                "or replaced while the command ran; nothing was written to "
                f"{self.path}"
            ) from None
        self._guard(os.replace, self.temporary, self.target)
        self.temporary = None
        self._file.close()

    def ready(self) -> None:
        """A file's content on disk (before its rename, so that a crash never leaves a
        renamed but empty file)."""
        if not self.is_stream:
            self._guard(self._file.flush)
            self._guard(os.fsync, self._file.fileno())

    def check(self) -> None:
        """That a file's target can still be replaced: a directory that appeared in its
        place during the run is a one-line error."""
        if not self.is_stream and os.path.isdir(self.target):
            raise OutputError(
                f"{self.path}: is a directory now (made while the command "
                f"ran); remove it, or give another file name for {self.what}"
            )

    def discard(self) -> None:
        """Close the output and remove its temporary file, if it is still there."""
        if self._file is not None:
            self._file.close()
        if self._descriptor is not None:
            os.close(self._descriptor)
            self._descriptor = None
        if self.temporary is not None:
            with contextlib.suppress(OSError):
                if _identity(os.lstat(self.temporary)) == self._identity:
                    os.unlink(self.temporary)
            self.temporary = None

    def _send(self) -> None:
        """A stream's content into the stream. A BrokenPipeError (its reader went away)
        is left for the caller, as on standard output."""
        if self._descriptor is not None:
            for stream in (sys.stdout, sys.stderr):  # what the command printed comes first
                if stream is not None:
                    with contextlib.suppress(OSError, ValueError):
                        stream.flush()
            fd = self._descriptor
        else:
            # No O_CREAT, no O_TRUNC: a FIFO or device is written as it is. Opening a FIFO
            # waits for its reader; a signal interrupts the wait.
            fd = self._guard(os.open, self.target, os.O_WRONLY | os.O_CLOEXEC)
        try:
            self._file.seek(0)
            while chunk := self._file.read(2**20):
                self._guard(write_all, lambda data: os.write(fd, data), chunk)
        finally:
            if fd != self._descriptor:
                os.close(fd)

    def _guard(self, call, *args):
        """``call(*args)``, an OSError as a one-line :class:`OutputError` naming the path."""
        try:
            return call(*args)
        except BrokenPipeError:
            raise
        except OSError as error:
            raise OutputError(f"{self.path}: cannot be written ({error.strerror})") from None


def write_all(write, data) -> None:
    """Every byte of ``data`` through ``write``, a function that writes some of the bytes
    it is given and returns their number: ``os.write`` and a buffered writer do write
    fewer than asked when a pipe's reader goes away part way, and raise only at the next
    call."""
    view = memoryview(data)
    while view:
        view = view[write(view) :]


class Outputs:
    """A command's output files, as a context manager: prepared on entry, committed by
    :meth:`commit`, removed on any exit before it. ``written`` lists what was written."""

    def __init__(self, **paths):
        self.files: dict[str, OutputFile] = {}
        self.written: list[Path] = []
        self.created: list[Path] = []  # directories made for the files, removed on discard
        try:
            for what, path in paths.items():
                if path is not None:
                    self._add(what, OutputFile(path, "--" + what.replace("_", "-")))
        except BaseException:
            self.discard()
            raise

    def __contains__(self, what):
        return what in self.files

    def __getitem__(self, what) -> OutputFile:
        return self.files[what]

    def add_directory(self, what: str, directory, names) -> None:
        """Files ``names`` in ``directory``, which is created if missing (and removed again
        if the command fails before writing)."""
        if str(directory) == "":
            raise OutputError(f"{what}: an empty path; give a directory name")
        directory = Path(directory)
        if directory.exists() and not directory.is_dir():
            raise OutputError(
                f"{directory}: is not a directory; {what} needs a directory for its files"
            )
        if not directory.exists():
            try:
                directory.mkdir()
            except OSError as error:
                raise OutputError(
                    f"{directory}: cannot create the directory ({error.strerror})"
                ) from None
            self.created.append(directory)
        for name in names:
            self._add(f"{what} {name}", OutputFile(directory / name, what))

    def protect(self, what: str, path) -> None:
        """Refuse an output file that would replace the input ``path`` (``what``: how the
        message names the input, as ``the data file``)."""
        if path is None or not os.path.exists(path):
            return
        for output in self.files.values():
            if _same_file(output, path):
                raise OutputError(
                    f"{output.what} {output.path} would replace {what} {path}; "
                    f"give {output.what} another file name"
                )

    def commit(self) -> None:
        """Put every output in place (see the module's docstring)."""
        files = [output for output in self.files.values() if not output.is_stream]
        for output in files:
            output.ready()
        for output in files:
            output.check()
        for output in self.files.values():
            if output.is_stream:
                output.commit()
                self.written.append(output.path)
        for output in files:
            output.check()
        with held():
            for output in files:
                output.commit()
                self.written.append(output.path)
        for directory in {output.target.parent for output in files}:
            _sync_directory(directory)

    def discard(self) -> None:
        """Remove every temporary file (and directory made for them). A second Ctrl-C or
        SIGTERM, which often follows the first, waits until they are all gone."""
        with held():
            for output in self.files.values():
                output.discard()
            if not self.written:
                for directory in reversed(self.created):
                    with contextlib.suppress(OSError):
                        directory.rmdir()

    def _add(self, key: str, output: OutputFile) -> None:
        """``output``, refused if it names the file of an output already added."""
        self.files[key] = output
        for other in list(self.files.values())[:-1]:
            if not output.is_stream and _same_file(other, output.target):
                raise OutputError(
                    f"{other.what} {other.path} and {output.what} {output.path} "
                    "name the same file; give each output a file of its own"
                )

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.discard()
        return False


def _duplicate(fd: int, shown: Path) -> int:
    """A copy of descriptor ``fd`` (so that it stays open however the command's own
    descriptors change), checked to be open for writing."""
    try:
        flags = fcntl.fcntl(fd, fcntl.F_GETFL)
        closed = not given_at_start(fd)
    except OSError:
        closed = True
    described = STANDARD_NAMES[fd] if fd < len(STANDARD_NAMES) else f"descriptor {fd}"
    if closed:
        redirect = "> FILE" if fd == 1 else f"{fd}> FILE"
        raise OutputError(
            f"{shown}: {described} is not open; open it for the command "
            f"({redirect}) or give a file name"
        )
    if flags & os.O_ACCMODE == os.O_RDONLY:
        raise OutputError(f"{shown}: {described} is open for reading only; give a file name")
    return fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3)


def _mode(target: Path, shown: Path) -> int | None:
    """The mode of an existing target, None for a new one."""
    try:
        return os.stat(target).st_mode
    except FileNotFoundError:
        return None
    except OSError as error:
        raise OutputError(f"{shown}: cannot be written ({error.strerror})") from None


def _create_beside(target: Path, shown: Path) -> tuple[int, Path]:
    """An empty temporary file in ``target``'s directory, mode ``0666`` minus the umask:
    its open descriptor and its path. The name is short whatever the target's length, and
    random, so that another user cannot place a file or symlink under it in advance."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    for _ in range(100):
        temporary = target.with_name(f".fastem-{secrets.token_hex(4)}.tmp")
        try:
            fd = os.open(temporary, flags, 0o666)
        except FileExistsError:
            continue
        except OSError as error:
            raise OutputError(
                f"{shown}: cannot be written in {target.parent} ({error.strerror})"
            ) from None
        # Locked while this process lives: the mark of a temporary file in use, which
        # remove_abandoned leaves alone.
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return fd, temporary
    raise OutputError(f"{shown}: cannot create a temporary file in {target.parent}")


_TEMPORARY_NAME = re.compile(r"\.fastem-[0-9a-f]{8}\.tmp")


def remove_abandoned(paths) -> list[Path]:
    """Remove the temporary files that commands killed before their commit (``kill -9``,
    a machine that went down) left beside the output files ``paths`` (None ones
    skipped): those named as :func:`_create_beside` names them, regular files of this
    user, and not locked by a living process. Returns the files removed."""
    removed: list[Path] = []
    directories = {Path(os.path.realpath(path)).parent for path in paths if path is not None}
    for directory in sorted(directories):
        try:
            names = sorted(p for p in directory.iterdir() if _TEMPORARY_NAME.fullmatch(p.name))
        except OSError:  # no such directory: nothing was left there
            continue
        removed += [path for path in names if _remove_if_abandoned(path)]
    return removed


def _remove_if_abandoned(path: Path) -> bool:
    """Remove ``path`` if it is a regular file of this user that no process holds
    locked (:func:`_create_beside`'s lock lives as long as its writer); whether it did."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError:
        return False
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid():
            return False
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # fails while its writer lives
        if _identity(os.lstat(path)) != _identity(info):
            return False
        os.unlink(path)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def _copy_ownership(existing: Path, fd: int) -> None:
    """Give the new file the permission bits (and, where allowed, owner) of the old."""
    try:
        info = os.stat(existing)
    except FileNotFoundError:  # removed since it was seen: the new file is a new file
        return
    os.fchmod(fd, stat.S_IMODE(info.st_mode))
    with contextlib.suppress(OSError):
        os.fchown(fd, info.st_uid, info.st_gid)


def _identity(info: os.stat_result) -> tuple[int, int]:
    return info.st_dev, info.st_ino


def _same_file(output: OutputFile, path) -> bool:
    """Whether the file ``output`` replaces is ``path``: the same name through symlinks,
    or the same file under another name (a hard link)."""
    if output.is_stream:
        return False
    if output.target == Path(os.path.realpath(path)):
        return True
    try:
        return os.path.samefile(output.target, path)
    except OSError:  # one of them does not exist yet
        return False


def _sync_directory(directory: Path) -> None:
    """The renames in ``directory`` on disk (where the file system allows it)."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
