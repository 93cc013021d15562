"""Stop signals never surface as a traceback from a place Python cannot raise from.

A SIGTERM that lands while the pool forks a worker used to print "Exception ignored in:
<function _releaseLock>" with a traceback (the handler raised inside a fork handler). Worker
starts now hold the signals back, and a Stopped Python has to drop prints nothing.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

from cleanup import stopsignals


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120
    )


def test_a_stopped_python_drops_prints_nothing_and_is_raised_again() -> None:
    done = _python(
        """
        from cleanup.cli import signals
        signals.catch_stop_signals()

        class Finalized:
            def __del__(self):
                signals.received.append(15)
                raise signals.Stopped(15)

        Finalized()
        try:
            signals.check_stopped()
        except signals.Stopped as stop:
            print("raised again", stop.signum)
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "raised again 15\n"
    assert done.stderr == ""


def test_other_errors_python_drops_are_still_shown() -> None:
    done = _python(
        """
        from cleanup.cli import signals
        signals.catch_stop_signals()
        signals.catch_stop_signals()  # twice: one hook, not two

        class Finalized:
            def __del__(self):
                raise ValueError("lost in a finalizer")

        Finalized()
        """
    )
    assert done.returncode == 0
    assert done.stderr.count("ValueError: lost in a finalizer") == 1


def _blocked() -> set[int]:
    return set(signal.pthread_sigmask(signal.SIG_BLOCK, []))


def test_held_blocks_the_stop_signals_and_restores_the_mask() -> None:
    before = _blocked()
    with stopsignals.held():
        assert _blocked() >= stopsignals.STOP_SIGNALS
    assert _blocked() == before


def test_workers_fork_with_stop_signals_held_and_start_with_them_released() -> None:
    done = _python(
        """
        import os, signal
        from cleanup.engines.processes import ProcessEngine
        from cleanup.pipeline import Context

        at_fork = []
        os.register_at_fork(
            before=lambda: at_fork.append(set(signal.pthread_sigmask(signal.SIG_BLOCK, [])))
        )

        def worker_mask():
            return sorted(signal.pthread_sigmask(signal.SIG_BLOCK, []))

        engine = ProcessEngine([], Context(), workers=2)
        try:
            in_worker = engine.result(engine.submit(worker_mask))
        finally:
            engine.close()
        stop = {signal.SIGINT, signal.SIGTERM}
        print(bool(at_fork) and all(stop <= mask for mask in at_fork))
        print(not stop & set(in_worker))
        print(not stop & set(signal.pthread_sigmask(signal.SIG_BLOCK, [])))
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True", "True"]
