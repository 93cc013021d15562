"""`cleanup run` and `cleanup pipe`: gather options from flags and config, then execute().

`run` is an ordinary command (options anywhere); `pipe` is the chained group of steps
(click's "imagepipe" pattern). Both read the config once (cleanup.config.load_config checks
it), let a flag given on the command line win over it, and hand RunOptions and the step
calls to cleanup.runner.execute (docs/architecture.md, "Layers").
"""

from __future__ import annotations

import sys
from typing import Any

import click

from cleanup.cli.app import cli
from cleanup.cli.flags import click_option, run_flags, step_flags
from cleanup.cli.progress import run_with_progress
from cleanup.config import Config, load_config
from cleanup.errors import UsageProblem
from cleanup.options import RunOptions, run_option_names
from cleanup.pipeline import StepCall, StepSpec, all_specs


@cli.command(context_settings={"show_default": True})
@click.argument("inputs", nargs=-1)
@run_flags
@step_flags(all_specs())
@click.pass_context
def run(ctx: click.Context, inputs: tuple[str, ...], **_: Any) -> None:
    """Clean INPUT... (files, folders, or - for JSONL on stdin) with the default pipeline.

    Steps: strip-html, fix-encoding, strip-artifacts, dedup, normalize.
    """
    config = _config(ctx)
    calls = [(spec.name, _step_values(ctx, spec, config)) for spec in all_specs()]
    _execute(ctx, config, list(inputs), calls)


@cli.group(chain=True, context_settings={"show_default": True})
@click.option(
    "-i",
    "--input",
    "inputs",
    multiple=True,
    metavar="INPUT",
    help="An input file or folder, or - (repeatable; default: stdin).",
)
@run_flags
def pipe(**_: Any) -> None:
    """Run the steps named after the options, in that order: STEP [options] STEP [options]...

    Example: cleanup pipe -i in/ -o out/ strip-html fix-encoding normalize
    """


@pipe.result_callback()
@click.pass_context
def _pipe_done(
    ctx: click.Context, calls: list[StepCall], inputs: tuple[str, ...], **_: Any
) -> None:
    _execute(ctx, _config(ctx), list(inputs), calls)


def _add_step_command(spec: StepSpec) -> None:
    """Add `spec` as a subcommand of `pipe` that returns its (name, options) pair."""

    @click.pass_context
    def callback(ctx: click.Context, **_: Any) -> StepCall:
        return spec.name, _step_values(ctx, spec, _config(ctx))

    command = click.Command(spec.name, callback=callback, help=spec.help)
    for option in spec.options:
        click_option(option)(command)
    pipe.add_command(command)


for _spec in all_specs():
    _add_step_command(_spec)


def _config(ctx: click.Context) -> Config:
    """Return the run's config, read and checked once (pipe's steps and its result all ask)."""
    if "cleanup.config" not in ctx.meta:
        root = ctx if "config" in ctx.params else ctx.parent
        ctx.meta["cleanup.config"] = load_config(root.params["config"] if root else None)
    return ctx.meta["cleanup.config"]


def _merged(ctx: click.Context, names: list[str], values: dict[str, Any]) -> dict[str, Any]:
    """Return the flags `names`, taking the config's `values` for flags not given."""
    merged = {name: ctx.params[name] for name in names}
    for key, value in values.items():
        if ctx.get_parameter_source(key) == click.core.ParameterSource.DEFAULT:
            merged[key] = value
    return merged


def _step_values(ctx: click.Context, spec: StepSpec, config: Config) -> dict[str, Any]:
    return _merged(ctx, [o.keyword for o in spec.options], config.section(spec.name))


def _execute(ctx: click.Context, config: Config, inputs: list[str], calls: list[StepCall]) -> None:
    """Check the inputs, build RunOptions from flags and config, and run with progress."""
    if not inputs or inputs == ["-"]:
        inputs = ["-"]
        if _stdin_is_terminal():
            raise click.UsageError("no INPUT given and standard input is a terminal")
    if "-" in inputs and sys.stdin is None:  # started with fd 0 closed (`cleanup run <&-`)
        raise UsageProblem("no input: standard input is closed (give INPUT files or pipe data in)")
    values = _merged(ctx, run_option_names(), config.section("run"))
    options = RunOptions(inputs=inputs, **values)
    run_with_progress(options, calls, ctx.params["quiet"], ctx.params["verbose"])


def _stdin_is_terminal() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()
