"""Errors the library raises; cli.py turns each into a one-line message and an exit code."""

from __future__ import annotations


class CleanupError(Exception):
    """Base of the errors that stop a run with a message instead of a traceback."""

    exit_code = 1


class BadInput(CleanupError):
    """Report input that cannot be read as documents, naming the file and line."""


class UsageProblem(CleanupError):
    """Report a command line that asks for something impossible (exit status 2)."""

    exit_code = 2


class StateError(CleanupError):
    """Report a persistent state that cannot be used (locked, other settings, damaged)."""


class OutputError(CleanupError):
    """Report a file the run cannot write (no space left, permission), naming it."""

    def __init__(self, path: str, exc: OSError) -> None:
        super().__init__(f"cannot write {path}: {exc.strerror or exc}")
        self.path = path
