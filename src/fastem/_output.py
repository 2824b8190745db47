"""The command line's output files: checked before any work, written all at once at the end.

Each output path is prepared when the command starts: a temporary file is created beside
its target, so that a path that cannot be written (no such directory, no permission, a
read-only file system, a directory in its place) is an error before any fitting. The
content goes into the temporary files; :meth:`Outputs.commit` then renames them over
their targets, with Ctrl-C held back until every rename is done, so that an interrupted
command leaves either all of its files or none, and a reader never sees half a file.

What a path names is respected:

- a symlink is followed, and its target replaced (the link stays a link);
- an existing file keeps its permission bits (and owner, where allowed); a new file gets
  ``0666`` minus the umask, as any program's would;
- a FIFO, a character device or a socket (``/dev/null``, ``/dev/stdout``, a named pipe)
  cannot be replaced by a rename: it is opened and written to at commit time instead.
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import threading
from pathlib import Path


class OutputError(ValueError):
    """An output path that cannot be written; the message names it and the fix."""


class OutputFile:
    """One output path: a temporary file beside the target, or the target itself when it is
    a FIFO or a device (see the module's docstring)."""

    def __init__(self, path, what: str):
        self.path, self.what = Path(path), what
        if str(path) == "":
            raise OutputError(f"{what}: an empty path; give a file name")
        self.target = Path(os.path.realpath(self.path))  # through symlinks
        self.temporary = None
        self.content: bytes | None = None
        self.streamed = False  # written in pieces through open_for_writing
        try:
            mode = os.stat(self.target).st_mode
        except FileNotFoundError:
            mode = None
        except OSError as error:
            raise OutputError(f"{self.path}: cannot be written ({error.strerror})") from None
        if mode is not None and stat.S_ISDIR(mode):
            raise OutputError(f"{self.path}: is a directory; give a file name for {what}")
        self.through = mode is not None and not stat.S_ISREG(mode)
        if self.through:
            if not os.access(self.target, os.W_OK):
                raise OutputError(f"{self.path}: cannot be written (permission denied)")
            return
        directory = self.target.parent
        if not directory.is_dir():
            raise OutputError(f"{self.path}: the directory {directory} does not exist; "
                              "create it first")
        self.temporary = _create_beside(self.target, self.path)
        if mode is not None:
            _copy_ownership(self.target, self.temporary)

    def set(self, content: str | bytes) -> None:
        """The file's content, written at commit (into the temporary file now)."""
        data = content.encode() if isinstance(content, str) else content
        if self.temporary is None:
            self.content = data
            return
        try:
            with open(self.temporary, "wb") as handle:
                handle.write(data)
        except OSError as error:
            raise OutputError(f"{self.path}: cannot be written ({error.strerror})") from None

    @contextlib.contextmanager
    def open_for_writing(self):
        """A binary file to write the content into piece by piece, for content larger than
        memory should hold: the temporary file, moved into place at commit; or the FIFO or
        device itself, which has no temporary file to hold it."""
        try:
            with open(self.target if self.temporary is None else self.temporary, "wb") as handle:
                yield handle
        except OSError as error:
            raise OutputError(f"{self.path}: cannot be written ({error.strerror})") from None
        self.streamed = True

    def commit(self) -> None:
        if self.temporary is None and self.streamed:
            return
        if self.temporary is None:
            try:
                with open(self.target, "wb") as handle:
                    handle.write(self.content or b"")
            except OSError as error:
                raise OutputError(f"{self.path}: cannot be written ({error.strerror})") \
                    from None
            return
        os.replace(self.temporary, self.target)
        self.temporary = None

    def discard(self) -> None:
        if self.temporary is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.temporary)
            self.temporary = None


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
                    self.files[what] = OutputFile(path, "--" + what.replace("_", "-"))
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
            raise OutputError(f"{directory}: is not a directory; {what} needs a directory "
                              "for its files")
        if not directory.exists():
            try:
                directory.mkdir()
            except OSError as error:
                raise OutputError(f"{directory}: cannot create the directory "
                                  f"({error.strerror})") from None
            self.created.append(directory)
        for name in names:
            self.files[f"{what} {name}"] = OutputFile(directory / name, what)

    def commit(self) -> None:
        """Move every file into place, with Ctrl-C held back until the last one is."""
        with _sigint_held():
            for output in self.files.values():
                output.commit()
                self.written.append(output.path)

    def discard(self) -> None:
        for output in self.files.values():
            output.discard()
        if not self.written:
            for directory in reversed(self.created):
                with contextlib.suppress(OSError):
                    directory.rmdir()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.discard()
        return False


def _create_beside(target: Path, shown: Path) -> Path:
    """An empty temporary file in ``target``'s directory, mode ``0666`` minus the umask."""
    for attempt in range(100):
        temporary = target.with_name(f".{target.name}.{os.getpid()}.{attempt}.tmp")
        try:
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        except OSError as error:
            raise OutputError(f"{shown}: cannot be written in {target.parent} "
                              f"({error.strerror})") from None
        os.close(fd)
        return temporary
    raise OutputError(f"{shown}: cannot create a temporary file in {target.parent}")


def _copy_ownership(existing: Path, temporary: Path) -> None:
    """Give the new file the permission bits (and, where allowed, owner) of the old."""
    info = os.stat(existing)
    os.chmod(temporary, stat.S_IMODE(info.st_mode))
    with contextlib.suppress(OSError):
        os.chown(temporary, info.st_uid, info.st_gid)


@contextlib.contextmanager
def _sigint_held():
    """Ctrl-C pressed inside the block takes effect when it ends.

    The Python-level handler is swapped for one that only records the signal (blocking the
    signal would not do: numba's worker threads would receive it instead)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: pending.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if pending and callable(previous):
        previous(signal.SIGINT, None)
