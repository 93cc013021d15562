"""The `cleanup` group, and the one place where errors become exit statuses.

Commands raise what the library raises; `CleanupGroup.invoke` turns each error of the
family in cleanup/errors.py into one line `Error: ...` and its `exit_code` (1, or 2 for a
usage problem), so no command maps errors itself (docs/architecture.md, "Errors"). What
else escapes is a bug, for main()'s last resort (cleanup/cli/__init__.py).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from typing import Any

import click

from cleanup import __version__
from cleanup.cli.signals import check_stopped
from cleanup.errors import CleanupError

# Commands with diff(1)'s exit statuses: 1 means "different", so any trouble is 2.
_TROUBLE_STATUS = {"diff": 2}
# Commands whose library functions signal a missing id or unreadable file with a builtin
# error (cleanup.report: KeyError for an id not in the audit trail; OSError while reading).
_BUILTIN_ERRORS: dict[str, tuple[type[Exception], ...]] = {
    "diff": (ValueError, OSError),
    "explain": (KeyError, ValueError, OSError),
}


# A reader of standard output that went away (`| head`): what a shell reports for SIGPIPE.
PIPE_CLOSED = 141


def quiet_stdout() -> None:
    """Point standard output at /dev/null, so that Python's flush at exit does not fail on
    the closed pipe again (and print "Exception ignored ...")."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def exit_status(exc: Exception, command: str | None) -> int | None:
    """Return the exit status `command` ends with after `exc`, or None when `exc` is a bug."""
    if isinstance(exc, CleanupError):
        return _TROUBLE_STATUS.get(command or "", exc.exit_code)
    if isinstance(exc, _BUILTIN_ERRORS.get(command or "", ())):
        return _TROUBLE_STATUS.get(command or "", 1)
    return None


def message(exc: Exception) -> str:
    """Return the one-line text of `exc` (a KeyError's message without its quotes)."""
    if isinstance(exc, KeyError) and exc.args:
        return str(exc.args[0])
    return str(exc) or type(exc).__name__


class CleanupGroup(click.Group):
    """A click group whose commands' errors end as one line and the family's exit status."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as exc:
            check_stopped()  # a worker that saw the signal too: the signal is the news
            if isinstance(exc, BrokenPipeError):  # click would exit 1: quiet, 141 (README)
                quiet_stdout()
                raise click.exceptions.Exit(PIPE_CLOSED) from None
            status = exit_status(exc, ctx.invoked_subcommand)
            if status is None:
                raise
            click.echo(f"Error: {message(exc)}", err=True)
            raise click.exceptions.Exit(status) from None


def _kernels_built() -> str:
    """Say whether the install compiled dedup's C kernels (found, not loaded: no numpy import)."""
    found = importlib.util.find_spec("cleanup.dedup._kernels") is not None
    return "compiled" if found else "not compiled (numpy: same output, slower)"


@click.group(cls=CleanupGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(
    __version__,
    prog_name="cleanup",
    message="%(prog)s, version %(version)s; dedup kernels: " + _kernels_built(),
)
def cli() -> None:
    """Turn scraped text and HTML into clean, deduplicated, normalized text."""
