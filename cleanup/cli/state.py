"""`cleanup state`: inspect and maintain a dedup state (cleanup.dedup.store does the work)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import click

from cleanup.cli.app import cli
from cleanup.cli.flags import apply, click_option, click_type
from cleanup.dedup.state import KEEP_RUNS, OLDER_THAN
from cleanup.ranges import Range


@cli.group()
def state() -> None:
    """Inspect and maintain a dedup state (SQLite file or redis://HOST:PORT/DB)."""


_STATE_ARG = click.argument("location", metavar="STATE")
_WAIT = click.option(
    "--wait",
    type=click_type(float, Range(min=0)),
    default=0.0,
    help="Seconds to wait for the state lock.",
)


@state.command("info")
@_STATE_ARG
@_WAIT
def state_info(location: str, wait: float) -> None:
    """Print what a state holds: settings, entries, runs and size, as JSON."""
    from cleanup.dedup.state import state_info as info

    click.echo(json.dumps(_state_call(info, location, wait=wait), indent=2, default=str))


@state.command("prune")
@_STATE_ARG
@click.option(
    "--older-than",
    "older_than_days",
    type=click_type(float, OLDER_THAN),
    default=None,
    metavar="DAYS",
    help="Remove entries last seen more than DAYS days ago.",
)
@click.option(
    "--keep-runs",
    type=click_type(int, KEEP_RUNS),
    default=None,
    metavar="N",
    help="Remove entries not seen in the last N runs.",
)
@_WAIT
def state_prune(location: str, **options: Any) -> None:
    """Remove old entries from a state: give exactly one of --older-than or --keep-runs."""
    from cleanup.dedup.state import prune_state

    click.echo(f"removed {_state_call(prune_state, location, **options):,} entries", err=True)


@state.command("export")
@_STATE_ARG
@_WAIT
def state_export(location: str, wait: float) -> None:
    """Write every state entry as one JSON line to standard output."""
    from cleanup.dedup.state import export_state

    _state_call(export_state, location, sys.stdout, wait=wait)


# The dedup options a state's settings come from (those present in this version).
_MIGRATE_NAMES = ("doc-threshold", "doc-shingle-size", "num-perm", "minhash-seed", "doc-bands",
                  "doc-rows")  # fmt: skip


def _migrate_options() -> list[Any]:
    """Return the dedup options `state migrate` takes, declared where dedup declares them."""
    from cleanup.dedup.settings import options_of

    return [o for o in options_of() if o.name in _MIGRATE_NAMES]


@state.command("migrate")
@click.option("--state", "location", required=True, metavar="STATE", help="The state to migrate.")
@apply(click_option(o) for o in _migrate_options())
@_WAIT
def state_migrate(location: str, wait: float, **options: Any) -> None:
    """Re-band a state for the current (or given) dedup settings from its stored signatures.

    Where the signatures themselves would differ (--num-perm, --minhash-seed,
    --doc-shingle-size, the tokenizer), says in one line how to rebuild the state instead.
    """
    from cleanup.dedup.settings import DedupSettings
    from cleanup.dedup.state import migrate_state

    settings = DedupSettings.from_options(**options).state_settings()
    click.echo(_state_call(migrate_state, location, settings, wait=wait), err=True)


def _state_call(fn: Callable[..., Any], location: str, *args: Any, **kwargs: Any) -> Any:
    """Call `fn(location, ...)` with the store's errors turned into StateError (one line)."""
    from cleanup.dedup.store import state_errors

    with state_errors(location):
        return fn(location, *args, **kwargs)
