"""The ``fastem`` command line: its parser, its commands, data files and outputs."""

from .commands import main

__all__ = ["main"]
