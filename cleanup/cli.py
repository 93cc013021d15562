"""The `cleanup` command line: a thin click layer over the library.

`run` is an ordinary command (options anywhere); `pipe` is the chained group of steps
(click's "imagepipe" pattern). Every step's flags are generated from its Option list, so a
flag, its TOML key and the library keyword are one word.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable
from typing import Any

import click

from cleanup import __version__
from cleanup.config import Config, load_config
from cleanup.dedup.state import KEEP_RUNS, OLDER_THAN
from cleanup.engines import ENGINES
from cleanup.errors import CleanupError
from cleanup.io.readers import FORMATS, Skipped
from cleanup.pipeline import DEFAULT_STEPS, Option, StepSpec, all_specs
from cleanup.ranges import Range, click_type
from cleanup.runner import RunOptions, Summary, execute

F = Callable[..., Any]

_RUN_OPTIONS: list[Callable[[F], F]] = [
    click.option(
        "-o",
        "--output",
        default=None,
        metavar="OUT",
        help="Folder (ending in /), FILE.jsonl[.gz|.zst], or - for standard output (default).",
    ),
    click.option("--force", is_flag=True, help="Replace an existing output file or folder."),
    click.option(
        "--input-format",
        type=click.Choice(FORMATS),
        default=None,
        help="Read every input as this format (default: by extension; stdin: jsonl).",
    ),
    click.option(
        "--text-field", default="text", show_default=True, help="JSONL field with the text."
    ),
    click.option("--id-field", default="id", show_default=True, help="JSONL field with the id."),
    click.option("--id-prefix", default="", help="Prefix for ids derived from paths and lines."),
    click.option(
        "--config",
        "config",
        default=None,
        metavar="FILE.toml",
        help="TOML config: [run] and one section per step; the command line wins.",
    ),
    click.option("--audit", default=None, metavar="FILE.jsonl", help="Write every edit here."),
    click.option(
        "--audit-detail",
        type=click.Choice(["short", "full"]),
        default="short",
        show_default=True,
        help="Record rewrites in short form or with full text.",
    ),
    click.option(
        "--rejects",
        default=None,
        metavar="FILE.jsonl",
        help="Write every dropped document with its reason here.",
    ),
    click.option(
        "--report",
        default=None,
        metavar="FILE.html",
        help="Write a self-contained HTML review page of every change.",
    ),
    click.option(
        "--report-max-docs",
        type=click.IntRange(min=1),
        default=2000,
        show_default=True,
        metavar="N",
        help="Show at most N changed documents in full on the --report page; count the rest.",
    ),
    click.option(
        "--stats",
        default=None,
        metavar="FILE.json",
        help="Write the summary, version and effective options as JSON.",
    ),
    click.option(
        "--workers",
        type=click_type(int, Range(min=0)),
        default=0,
        show_default=True,
        help="Worker processes for the per-document steps (0 = all cores).",
    ),
    click.option(
        "--engine",
        type=click.Choice(ENGINES),
        default="local",
        show_default=True,
        help="Who runs the chain: local processes, or Ray tasks (pip install 'cleanup[ray]').",
    ),
    click.option(
        "--address",
        default=None,
        metavar="ADDR",
        help="Ray cluster to join (ray://HOST:PORT or auto); default: a local Ray on loopback.",
    ),
    click.option(
        "--skip-bad",
        is_flag=True,
        help="Skip bad input (named on stderr and counted) instead of stopping.",
    ),
    click.option(
        "--max-bad",
        type=click.IntRange(min=0),
        default=None,
        metavar="N",
        help="Skip bad input as --skip-bad does, but stop (exit 1, no output) past N of them.",
    ),
    click.option(
        "--follow-links",
        is_flag=True,
        help="Read symbolic links found inside input folders (skipped and counted by default).",
    ),
    click.option("--keep-empty", is_flag=True, help="Keep documents that cleaning left empty."),
    click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors."),
    click.option("-v", "--verbose", is_flag=True, help="Also print edit counts per rule."),
]
_UI_KEYS = ("config", "quiet", "verbose")


def _apply(decorators: list[Callable[[F], F]]) -> Callable[[F], F]:
    def wrap(f: F) -> F:
        for decorator in reversed(decorators):
            f = decorator(f)
        return f

    return wrap


def click_option(option: Option) -> Callable[[F], F]:
    """Return the click decorator for a step Option."""
    flag = f"--{option.name}"
    kwargs: dict[str, Any] = {"default": option.default, "help": option.help, "show_default": True}
    if option.type is bool:
        # Both spellings always exist, so the command line can undo a config file's `true`.
        return click.option(f"{flag}/--no-{option.name}", option.keyword, **kwargs)
    if isinstance(option.type, tuple):
        kwargs["type"] = click.Choice(option.type)
    elif option.range is not None:
        kwargs["type"] = click_type(option.type, option.range)
    elif option.type is not None:
        kwargs["type"] = option.type
    if option.multiple:
        kwargs["multiple"] = True
        kwargs["default"] = tuple(option.default or ())
    if option.metavar:
        kwargs["metavar"] = option.metavar
    return click.option(flag, option.keyword, **kwargs)


def _step_options(specs: list[StepSpec]) -> Callable[[F], F]:
    return _apply([click_option(o) for spec in specs for o in spec.options])


class _Failure(click.ClickException):
    """A library error shown as one line, with its own exit status."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def _from_config(ctx: click.Context, section: str, names: list[str], config: Config) -> dict:
    """Return values for `names`, taking the config file's where the command line said nothing."""
    values = {name: ctx.params[name] for name in names}
    for key in config.section(section):
        if key not in values:
            raise _Failure(f"{_where(config, section, key)}: unknown key", 2)
        if ctx.get_parameter_source(key) == click.core.ParameterSource.DEFAULT:
            values[key] = _config_value(ctx, ctx.command, config, section, key)
    return values


def _where(config: Config, section: str, key: str) -> str:
    return f"--config {config.path}: [{section}] {key.replace('_', '-')}"


def _config_value(
    ctx: click.Context, command: click.Command, config: Config, section: str, key: str
) -> Any:
    """Return a config value converted by its option's type, or one line naming file and key.

    The option's click type is the flag's, so a file refuses what the command line refuses.
    """
    value = config.section(section)[key]
    param = next((p for p in command.params if p.name == key), None)
    if param is None:
        raise _Failure(f"{_where(config, section, key)}: unknown key", 2)
    if getattr(param, "multiple", False) and isinstance(value, str):
        value = [value]
    try:
        return param.type_cast_value(ctx, value)
    except click.BadParameter as exc:
        raise _Failure(f"{_where(config, section, key)}: {exc.message}", 2) from None


def _config(ctx: click.Context) -> Config:
    """Return the run's config, read and checked once (pipe's steps and result all ask).

    Every step section is checked, not only the steps this command runs: a file that is
    wrong for one command is wrong for all.
    """
    if "cleanup.config" not in ctx.meta:
        root = ctx if "config" in ctx.params else ctx.parent
        try:
            config = load_config(root.params["config"] if root else None)
        except CleanupError as exc:
            raise _Failure(str(exc), exc.exit_code) from None
        for spec in all_specs():
            for key in config.section(spec.name):
                _config_value(ctx, pipe.commands[spec.name], config, spec.name, key)
        ctx.meta["cleanup.config"] = config
    return ctx.meta["cleanup.config"]  # type: ignore[no-any-return]


def _run_options(ctx: click.Context, config: Config, inputs: list[str]) -> RunOptions:
    names = [n for n in RunOptions.__dataclass_fields__ if n != "inputs"]
    values = _from_config(ctx, "run", names, config)
    if values["workers"] == 0:
        values["workers"] = os.cpu_count() or 1
    if not inputs or inputs == ["-"]:
        inputs = ["-"]
        if _stdin_is_terminal():
            raise click.UsageError("no INPUT given and standard input is a terminal")
    if "-" in inputs and sys.stdin is None:  # started with fd 0 closed (`cleanup run <&-`)
        raise _Failure("no input: standard input is closed (give INPUT files or pipe data in)", 2)
    return RunOptions(inputs=inputs, **values)


def _stdin_is_terminal() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


def _run(options: RunOptions, calls: list[tuple[str, dict]], quiet: bool, verbose: bool) -> None:
    """Execute a run with a progress bar and a summary on standard error."""
    from tqdm import tqdm

    def on_bad(message: str) -> None:
        click.echo(f"skipped: {message}", err=True)

    skipped: list[Skipped] = []
    show = not quiet and sys.stderr.isatty()
    bar_options = {"unit": " docs", "desc": "reading", "dynamic_ncols": True}
    with tqdm(file=sys.stderr, disable=not show, **bar_options) as bar:
        progress = _Progress(bar)
        try:
            summary = execute(
                options,
                calls,
                on_bad=on_bad,
                on_document=progress.written,
                on_skip=skipped.append if verbose else None,
                on_phase=progress.phase,
                on_read=progress.read,
                on_note=lambda message: click.echo(f"cleanup: {message}", err=True),
            )
        except CleanupError as exc:
            raise _Failure(str(exc), exc.exit_code) from None
        finally:
            progress.stop()
    if not quiet:
        _print_summary(summary, verbose, skipped)


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

    def written(self, _doc: Any) -> None:
        if self.name == "writing":
            self.bar.update()


def _print_summary(summary: Summary, verbose: bool, skipped: list[Skipped] | None = None) -> None:
    click.echo(summary.line(), err=True)
    if verbose:
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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cleanup")
def cli() -> None:
    """Turn scraped text and HTML into clean, deduplicated, normalized text."""


@cli.command(context_settings={"show_default": True})
@click.argument("inputs", nargs=-1)
@_apply(_RUN_OPTIONS)
@_step_options(all_specs())
@click.pass_context
def run(ctx: click.Context, inputs: tuple[str, ...], **_: Any) -> None:
    """Clean INPUT... (files, folders, or - for JSONL on stdin) with the default pipeline.

    Steps: strip-html, fix-encoding, strip-artifacts, dedup, normalize.
    """
    config = _config(ctx)
    options = _run_options(ctx, config, list(inputs))
    calls = [
        (s.name, _from_config(ctx, s.name, [o.keyword for o in s.options], config))
        for s in all_specs()
    ]
    _run(options, calls, ctx.params["quiet"], ctx.params["verbose"])


@cli.group(chain=True, context_settings={"show_default": True})
@click.option(
    "-i",
    "--input",
    "inputs",
    multiple=True,
    metavar="INPUT",
    help="An input file or folder, or - (repeatable; default: stdin).",
)
@_apply(_RUN_OPTIONS)
def pipe(**_: Any) -> None:
    """Run the steps named after the options, in that order: STEP [options] STEP [options]...

    Example: cleanup pipe -i in/ -o out/ strip-html fix-encoding normalize
    """


@pipe.result_callback()
@click.pass_context
def _pipe_done(
    ctx: click.Context, calls: list[tuple[str, dict]], inputs: tuple[str, ...], **_: Any
) -> None:
    options = _run_options(ctx, _config(ctx), list(inputs))
    _run(options, calls, ctx.params["quiet"], ctx.params["verbose"])


def _add_step_command(spec: StepSpec) -> None:
    """Add `spec` as a subcommand of `pipe` that returns its (name, options) pair."""

    @click.pass_context
    def callback(ctx: click.Context, **_: Any) -> tuple[str, dict]:
        names = [o.keyword for o in spec.options]
        return spec.name, _from_config(ctx, spec.name, names, _config(ctx))

    command = click.Command(spec.name, callback=callback, help=spec.help)
    for option in spec.options:
        click_option(option)(command)
    pipe.add_command(command)


for _spec in all_specs():
    _add_step_command(_spec)


@cli.command(context_settings={"show_default": True})
@click.argument("before", nargs=1)
@click.argument("after", nargs=1)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "html"]),
    default="text",
    help="Output format.",
)
@click.option("--stat", is_flag=True, help="Print the summary only (per document and in total).")
@click.option(
    "--context",
    type=click.IntRange(min=0),
    default=3,
    help="Unchanged paragraphs shown around each change.",
)
@click.option(
    "--audit",
    default=None,
    metavar="AUDIT.jsonl",
    help="Audit trail of the run: adds the reason (step, rule, why) to each change.",
)
@click.option("-o", "--output", default=None, metavar="FILE", help="Write here instead of stdout.")
@click.option("--force", is_flag=True, help="Replace an existing -o FILE.")
@click.option(
    "--color/--no-color", default=None, help="Color the text diff (default: on a terminal)."
)
@click.option("--text-field", default="text", help="JSONL field with the text.")
@click.option("--id-field", default="id", help="JSONL field with the id.")
def diff(before: str, after: str, fmt: str, output: str | None, **options: Any) -> None:
    """Show what changed between two corpora (files, folders or JSONL, in any mix).

    Documents are matched by id, else by the path `cleanup run -o FOLDER/` writes them to
    (a JSONL record and its FOLDER/<file>/<id>.txt), else by relative path without
    extension; repeated ids are matched in order of appearance. Exit status as diff(1):
    0 no differences, 1 differences, 2 trouble.
    """
    from cleanup.report import write_diff

    try:
        summary = write_diff(before, after, output, format=fmt, **options)
    except BrokenPipeError:
        raise
    except (CleanupError, ValueError, OSError) as exc:
        raise _Failure(str(exc), 2) from None
    sys.exit(1 if summary.different else 0)


@cli.command()
@click.argument("doc_id", metavar="ID")
@click.option("--audit", required=True, metavar="AUDIT.jsonl", help="Audit trail of a run.")
def explain(doc_id: str, audit: str) -> None:
    """Print one document's changes with their reasons, from a run's audit trail.

    Exit status: 0 explained; 1 the audit has no record of ID, or a line of it is damaged;
    2 AUDIT is missing or not an audit trail (empty, a corpus, text, binary).
    """
    from cleanup.report import explain as explain_document

    try:
        click.echo(explain_document(doc_id, audit), nl=False)
    except CleanupError as exc:
        raise _Failure(str(exc), exc.exit_code) from None
    except (KeyError, ValueError, OSError) as exc:
        raise _Failure(exc.args[0] if exc.args else str(exc), 1) from None


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


def _state_call(fn: Callable[..., Any], location: str, *args: Any, **kwargs: Any) -> Any:
    from cleanup.dedup.store import state_errors

    try:
        with state_errors(location):
            return fn(location, *args, **kwargs)
    except CleanupError as exc:
        raise _Failure(str(exc), exc.exit_code) from None


class Stopped(BaseException):
    """Stop a run on SIGINT or SIGTERM the way Ctrl-C does: the run aborts and publishes nothing.

    A BaseException, so that no `except Exception` on the way swallows it.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _stop(signum: int, _frame: object) -> None:
    """Raise Stopped in the main process; a second signal then ends the process at once."""
    for caught in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(caught) is _stop:
            signal.signal(caught, signal.SIG_DFL)
    raise Stopped(signum)


def _catch_stop_signals() -> None:
    """Turn SIGINT and SIGTERM into Stopped, unless whoever started us ignores them (nohup, &)."""
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _stop)
    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _stop)


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
    _catch_stop_signals()
    try:
        cli(prog_name="cleanup")
    except Stopped as stop:
        name = "Ctrl-C" if stop.signum == signal.SIGINT else signal.Signals(stop.signum).name
        click.echo(f"Stopped by {name}.", err=True)
        sys.exit(128 + stop.signum)
    except BrokenPipeError:  # a reader such as `head` stopped early: quiet, like other tools
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(141)
    except Exception as exc:  # the last resort: no traceback reaches a user unless asked
        if _wants_traceback(sys.argv[1:]):
            traceback.print_exc()
        click.echo(f"Error: {str(exc) or type(exc).__name__}", err=True)
        sys.exit(1)


__all__ = ["DEFAULT_STEPS", "cli", "main"]
