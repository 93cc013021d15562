"""Stop signals: SIGINT, SIGTERM and SIGHUP stop a run the way Ctrl-C does (exit 130, 143, 129).

The handler raises Stopped in the main process; the runner aborts and publishes nothing.
C code (Ray's, numpy's) may turn that exception into another error on its way up, so the
signal is also kept in `received`, and `check_stopped()` raises Stopped again from the
progress callbacks and before an error is mapped to its exit status. Where Python cannot
propagate an exception at all (a finalizer, a fork handler), it would print Stopped as
"Exception ignored" with a traceback; the unraisable hook keeps that quiet, since `received`
has it. Critical sections hold the signals back instead (cleanup/stopsignals.py).
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable
from typing import Any

import click


class Stopped(BaseException):
    """Stop a run on SIGINT, SIGTERM or SIGHUP the way Ctrl-C does: the run aborts and
    publishes nothing.

    A BaseException, so that no `except Exception` on the way swallows it.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


received: list[int] = []  # the stop signal, kept in case C code turns Stopped into another error


def _stop(signum: int, _frame: object) -> None:
    """Raise Stopped in the main process; a second signal then ends the process at once."""
    for caught in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(caught) is _stop:
            signal.signal(caught, signal.SIG_DFL)
    received.append(signum)
    raise Stopped(signum)


def check_stopped() -> None:
    """Raise Stopped again if a stop signal came and its exception got lost on the way."""
    if received:
        raise Stopped(received[0])


def _quiet_unraisable(previous: Callable[[Any], object]) -> Callable[[Any], object]:
    """Wrap the unraisable hook so that a Stopped Python had to drop prints nothing."""

    def hook(unraisable: Any) -> object:
        if isinstance(unraisable.exc_value, Stopped):
            return None  # kept in `received`: check_stopped() raises it again
        return previous(unraisable)

    hook.quiets_stopped = True  # type: ignore[attr-defined]
    return hook


def catch_stop_signals() -> None:
    """Turn SIGINT, SIGTERM and SIGHUP (the terminal or SSH session closed) into Stopped,
    unless whoever started us ignores them (nohup, &)."""
    if not getattr(sys.unraisablehook, "quiets_stopped", False):
        sys.unraisablehook = _quiet_unraisable(sys.unraisablehook)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _stop)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(signum) == signal.SIG_DFL:
            signal.signal(signum, _stop)


def exit_stopped(signum: int) -> None:
    """Say which signal stopped the run and exit with 128 + its number."""
    name = "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name
    click.echo(f"Stopped by {name}.", err=True)
    sys.exit(128 + signum)
