"""The `cleanup` command line: a thin click layer over the library.

Each command gathers its options and calls one library function; errors become one line
and an exit status in one place (cleanup/cli/app.py). The modules:

    app.py       the `cleanup` group and the error -> exit status mapping
    flags.py     click flags made from the library's Option declarations
    run.py       `run` and `pipe`: flags + config -> RunOptions and step calls -> execute()
    progress.py  the progress bar and the summary on standard error
    review.py    `diff` and `explain`
    state.py     `state info|prune|export`
    rules.py     `rules list|test`
    signals.py   SIGINT/SIGTERM/SIGHUP -> Stopped (exit 130/143/129), kept even when C code loses it
    here         main(): a stop signal's exit, a closed pipe (141), the last-resort error line
"""

from __future__ import annotations

import sys
import traceback

import click

from cleanup.cli import review as _review  # noqa: F401  (registers diff, explain)
from cleanup.cli import rules as _rules  # noqa: F401  (registers rules)
from cleanup.cli import run as _run  # noqa: F401  (registers run, pipe)
from cleanup.cli import signals
from cleanup.cli import state as _state  # noqa: F401  (registers state)
from cleanup.cli.app import PIPE_CLOSED, cli, quiet_stdout
from cleanup.cli.signals import Stopped, catch_stop_signals, exit_stopped
from cleanup.pipeline import DEFAULT_STEPS


def _wants_traceback(argv: list[str]) -> bool:
    """Return whether the command line asks for -v/--verbose (also in a cluster such as -qv)."""
    for arg in argv:
        if arg == "--":
            break
        if arg == "--verbose":
            return True
        if arg.startswith("-") and not arg.startswith("--"):
            flags = arg[1:]
            for flag in flags:
                if flag == "v":
                    return True
                if flag in "oi":  # the rest of the word is this option's value
                    break
    return False


def main() -> None:
    """Run the command line (the `cleanup` console script) and turn what escapes click into one
    line and an exit status: 130 after Ctrl-C, 143 after SIGTERM, 141 on a closed pipe, 1 on
    an unexpected error (with its traceback under -v)."""
    catch_stop_signals()
    try:
        cli(prog_name="cleanup")
    except Stopped as stop:
        exit_stopped(stop.signum)
    except BrokenPipeError:  # a reader such as `head` stopped early: quiet, like other tools
        quiet_stdout()
        sys.exit(PIPE_CLOSED)
    except Exception as exc:  # the last resort: no traceback reaches a user unless asked
        if signals.received:  # C code (Ray's, numpy's) may turn Stopped into a SystemError
            exit_stopped(signals.received[0])
        if _wants_traceback(sys.argv[1:]):
            traceback.print_exc()
        click.echo(f"Error: {str(exc) or type(exc).__name__}", err=True)
        sys.exit(1)


__all__ = ["DEFAULT_STEPS", "Stopped", "cli", "main"]
