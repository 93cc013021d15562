"""Hold SIGINT, SIGTERM and SIGHUP back for a short critical section; they take effect right after.

The command line turns them into an exception raised wherever the main thread is
(cleanup/cli/signals.py). Two places must not be interrupted that way: publishing, which
renames files and commits state as one unit, and starting a worker process, where an
exception raised inside the interpreter's fork handlers cannot propagate (Python prints it as
"Exception ignored" with a traceback and carries on). See docs/architecture.md, "Errors".
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

STOP_SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM, signal.SIGHUP})


@contextlib.contextmanager
def held() -> Iterator[None]:
    """Block the stop signals in the main thread for the block's duration (other threads: no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def release() -> None:
    """Unblock the stop signals: a forked worker starts with the mask its parent held."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
