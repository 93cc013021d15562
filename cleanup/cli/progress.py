"""Show a run's progress bar and its summary on standard error; the library never prints."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any

import click

from cleanup.cli.signals import check_stopped
from cleanup.io.readers import Skipped
from cleanup.pipeline import StepCall
from cleanup.runner import RunOptions, Summary, execute


def run_with_progress(
    options: RunOptions, calls: list[StepCall], quiet: bool, verbose: bool
) -> Summary:
    """Execute a run with a progress bar (on a terminal) and a summary on standard error."""

    def on_bad(message: str) -> None:
        click.echo(f"skipped: {message}", err=True)

    skipped: list[Skipped] = []
    show = not quiet and sys.stderr.isatty()
    with _bar(show) as bar:
        progress = _Progress(bar)
        try:
            summary = execute(
                options,
                calls,
                on_bad=on_bad,
                on_documents=progress.written,
                on_skip=_unread_files(skipped) if verbose else None,
                on_phase=progress.phase,
                on_read=progress.read,
                on_note=lambda message: click.echo(f"cleanup: {message}", err=True),
            )
        finally:
            progress.stop()
    if not quiet:
        print_summary(summary, verbose, skipped)
    return summary


def _bar(show: bool) -> Any:
    """Return the progress bar: tqdm's on a terminal, else one that shows nothing.

    Why: most runs write to a file or a pipe, and importing tqdm only to disable it cost a
    tenth of the start-up left once the rules loaded fast (issue #18).
    """
    if not show:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(file=sys.stderr, unit=" docs", desc="reading", dynamic_ncols=True)


class _NoBar:
    """Take what _Progress tells a tqdm bar and show nothing (as tqdm(disable=True) does)."""

    disable = True
    bar_format: str | None = None

    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def set_description_str(self, desc: str, refresh: bool = True) -> None:
        """Show nothing."""

    def reset(self, total: int | None = None) -> None:
        """Show nothing."""

    def update(self, n: int = 1) -> None:
        """Show nothing."""

    def refresh(self) -> None:
        """Show nothing."""


class _Progress:
    """Drive the progress bar from the run's phases: count reads, then writes; time decisions."""

    def __init__(self, bar: Any) -> None:
        self.bar = bar
        self.name = "reading"
        self._ticker: tuple[threading.Thread, threading.Event] | None = None

    def phase(self, name: str, total: int | None) -> None:
        self.stop()
        self.name = name
        if name == "deciding":  # no per-document progress: show how many and for how long
            self.bar.bar_format = "{desc} {elapsed}"
            self.bar.set_description_str(f"deciding on {total or 0:,} docs", refresh=False)
            self.bar.reset(total=None)
            self._tick_clock()
            return
        self.bar.bar_format = None
        self.bar.set_description_str(name, refresh=False)
        self.bar.reset(total=total)

    def _tick_clock(self) -> None:
        """Refresh the bar every second from a thread, so the elapsed time moves."""
        if self.bar.disable:
            return
        done = threading.Event()

        def tick() -> None:
            while not done.wait(1.0):
                self.bar.refresh()

        thread = threading.Thread(target=tick, name="cleanup-progress", daemon=True)
        thread.start()
        self._ticker = (thread, done)

    def stop(self) -> None:
        """Stop the clock of a deciding phase, if one runs."""
        if self._ticker is not None:
            thread, done = self._ticker
            done.set()
            thread.join()
            self._ticker = None

    def read(self) -> None:
        if self.name == "reading":
            self.bar.update()
        check_stopped()

    def written(self, count: int) -> None:
        if self.name == "writing":
            self.bar.update(count)
        check_stopped()


def print_summary(summary: Summary, verbose: bool, skipped: list[Skipped] | None = None) -> None:
    """Print the summary line and, when verbose, counts per rule, unread entries, repeated ids."""
    click.echo(summary.line(), err=True)
    if not verbose:
        return
    for rule, count in sorted(summary.edits_by_rule.items(), key=lambda kv: -kv[1]):
        click.echo(f"  {count:8,}  {rule}", err=True)
    for rule, count in sorted(summary.dropped_by_rule.items(), key=lambda kv: -kv[1]):
        click.echo(f"  {count:8,}  {rule} (documents dropped)", err=True)
    for item in skipped or []:
        click.echo(f"  not read: {item.path}: {item.why}", err=True)
    if summary.duplicate_id_examples:
        more = ", ..." if summary.duplicate_ids > len(summary.duplicate_id_examples) else ""
        ids = ", ".join(summary.duplicate_id_examples)
        click.echo(f"  duplicate ids: {ids}{more}", err=True)


def _unread_files(skipped: list[Skipped]) -> Callable[[Skipped], None]:
    """Return an on_skip that keeps folder entries only: archive records are only counted."""

    def keep(item: Skipped) -> None:
        if item.kind != "record":
            skipped.append(item)

    return keep
