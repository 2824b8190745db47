"""The descriptors of the ``fastem`` process that an output path may name.

``/dev/stdout``, ``/dev/fd/N`` (what bash's ``>(...)`` gives) and ``/proc/self/fd/N``
name a descriptor of the process rather than a file. Only a descriptor that the command
was given when it started may be written so: one that fastem opened itself (another
output's temporary file) or a standard one started closed (``>&-``) may not. This module
keeps the record of the descriptors open at the start (:func:`reserve_standard_descriptors`,
:func:`forget_descriptors`) and tells which descriptor a path names.
"""

from __future__ import annotations

import os
import re

_DESCRIPTOR = re.compile(r"/dev/fd/(\d+)|/proc/(?:self|thread-self|(\d+))/fd/(\d+)")
"""Paths that name a descriptor of the process (a pid in the path must be its own)."""
_STANDARD = {"/dev/stdin": 0, "/dev/stdout": 1, "/dev/stderr": 2}
STANDARD_NAMES = ("standard input", "standard output", "standard error")
_closed_at_start: set[int] = set()
"""The standard descriptors that :func:`reserve_standard_descriptors` found closed."""
_open_at_start: set[int] | None = None
"""The descriptors open when the command started (None where they cannot be listed, or
outside the command): ``/dev/fd/N`` of any other number would name a file that fastem
opened itself, such as another output's temporary file."""


def reserve_standard_descriptors() -> None:
    """Open /dev/null on descriptors 0, 1 and 2 where the command was started without them
    (``>&-``), so that no file the command opens takes their number: a library's message
    to standard output or error would land in it. They are still closed for the outputs
    (``--out /dev/stdout``), and Python's ``sys.stdout`` stays None. The descriptors open
    at this point are recorded first: they are the only ones ``/dev/fd/N`` may name."""
    global _open_at_start
    _open_at_start = _open_descriptors()
    for fd in range(len(STANDARD_NAMES)):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
            _closed_at_start.add(fd)


def forget_descriptors() -> None:
    """The command has ended: its record of open descriptors no longer holds (a later
    :class:`~fastem.cli.outputs.Outputs` in the same process, a test's, gives
    ``/dev/fd/N`` as it finds it)."""
    global _open_at_start
    _open_at_start = None


def _open_descriptors() -> set[int] | None:
    """The descriptors of this process that are open, None where they cannot be listed."""
    for directory in ("/proc/self/fd", "/dev/fd"):
        try:
            listed = [int(name) for name in os.listdir(directory)]
        except (OSError, ValueError):
            continue
        # The listing's own descriptor is among them, and closed again by now.
        return {fd for fd in listed if _is_open(fd)}
    return None


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


def named_descriptor(path: str) -> int | None:
    """The descriptor of this process that ``path`` names (``/dev/stdout``, ``/dev/fd/3``,
    ``/proc/self/fd/3``, or a symlink to one of them), else None."""
    current = os.path.abspath(path)
    for _ in range(40):  # the kernel's own limit on a chain of symlinks
        if current in _STANDARD:
            return _STANDARD[current]
        match = _DESCRIPTOR.fullmatch(current)
        if match:
            fd, pid, proc_fd = match.groups()
            if fd is not None:
                return int(fd)
            return int(proc_fd) if pid is None or int(pid) == os.getpid() else None
        try:
            link = os.readlink(current)
        except OSError:  # not a symlink
            return None
        current = os.path.normpath(os.path.join(os.path.dirname(current), link))
    return None


def given_at_start(fd: int) -> bool:
    """Whether descriptor ``fd`` was open when the command started (a standard one that
    :func:`reserve_standard_descriptors` found closed was not)."""
    return not (fd in _closed_at_start or (_open_at_start is not None and fd not in _open_at_start))
