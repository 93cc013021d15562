"""The one family of errors the library raises for a problem a user can fix.

Every error meant for a user derives from CleanupError, so a Python caller can catch them
all with one `except CleanupError`, and the command line turns each into one line
`Error: ...` and its `exit_code` in one place (cleanup/cli/app.py; docs/architecture.md,
"Errors"). Anything else that escapes is a bug: the CLI's last resort prints one line too.

    CleanupError                        exit 1: the run cannot go on
    ├── BadInput                        input that cannot be read, naming file and line
    ├── StateError                      a dedup state that is locked, damaged or other
    ├── OutputError                     a file the run cannot write (no space, permission)
    ├── JournalError                    a publish journal that cannot be written or completed
    ├── UnknownDocument (KeyError)      an id that an audit trail does not hold
    └── UsageProblem                    exit 2: a command line, option or config to fix
        ├── ConfigError     (ValueError)  a config file that cannot be used
        ├── OptionError     (ValueError)  an option value of the wrong type or range
        ├── UnknownOption   (TypeError)   a keyword no step or run option has
        ├── UnknownStep     (KeyError)    a step name that is not registered
        ├── RuleError       (ValueError)  a rules file or rule (cleanup.rules)
        └── NotAnAudit                    a file given as an audit trail that is not one
                                          (cleanup.report.audit)

Where Python code expects a builtin type (a bad value is a ValueError, an unknown keyword
a TypeError, a missing name a KeyError), the class derives from that builtin too, so
`except ValueError` around `Pipeline(num_perm=4)` keeps working. The message is always the
plain text (a KeyError's quotes are not added), as the CLI prints it.
"""

from __future__ import annotations


class CleanupError(Exception):
    """Base of the errors that stop a run with a message instead of a traceback."""

    exit_code = 1

    # KeyError.__str__ would quote the message; every error here reads as plain text.
    __str__ = Exception.__str__


class BadInput(CleanupError):
    """Report input that cannot be read as documents, naming the file and line."""


class UsageProblem(CleanupError):
    """Report a command line that asks for something impossible (exit status 2)."""

    exit_code = 2


class ConfigError(UsageProblem, ValueError):
    """Report a config file that cannot be used, naming the file (and section and key)."""


class OptionError(UsageProblem, ValueError):
    """Report an option value of the wrong type or range (a ValueError in Python)."""


class UnknownOption(UsageProblem, TypeError):
    """Report a keyword that is no option of the step or run (a TypeError, as for a function)."""


class UnknownStep(UsageProblem, KeyError):
    """Report a step name that is not registered (a KeyError, as for a dict lookup)."""


class StateError(CleanupError):
    """Report a persistent state that cannot be used (locked, other settings, damaged)."""


class OutputError(CleanupError):
    """Report a file the run cannot write (no space left, permission), naming it."""

    def __init__(self, path: str, exc: OSError) -> None:
        super().__init__(f"cannot write {path}: {exc.strerror or exc}")
        self.path = path


__all__ = [
    "BadInput",
    "CleanupError",
    "ConfigError",
    "OptionError",
    "OutputError",
    "StateError",
    "UnknownOption",
    "UnknownStep",
    "UsageProblem",
]


class UnknownDocument(CleanupError, KeyError):
    """Report a document id that an audit trail does not hold (a KeyError to Python callers)."""


class JournalError(CleanupError):
    """Report a publish journal that cannot be written, read or completed."""
