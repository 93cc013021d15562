"""Click flags made from the library's option declarations (docs/architecture.md, "Options").

Every flag of `run` and `pipe` comes from an `Option` (a step's SPEC, or RUN_OPTIONS for the
run-wide ones), so a flag, its TOML key and the library keyword are one word, and the click
type refuses what the library refuses (cleanup/ranges.py), with the range shown in help.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import click

from cleanup.options import RUN_OPTIONS
from cleanup.pipeline import Option, StepSpec
from cleanup.ranges import Range, problem

F = Callable[..., Any]
# Short spellings of run-wide flags.
_SHORT = {"output": "-o"}
# Flags of the command line itself (how to read the config, how much to print), not of a run.
UI_FLAGS: tuple[Callable[[F], F], ...] = (
    click.option(
        "--config",
        "config",
        default=None,
        metavar="FILE.toml",
        help="TOML config: [run] and one section per step; the command line wins.",
    ),
    click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors."),
    click.option("-v", "--verbose", is_flag=True, help="Also print edit counts per rule."),
)


class _Ranged:
    """Convert like click's INT/FLOAT, then refuse what `problem` refuses (NaN, inf, `off`)."""

    kind: type
    rng: Range
    base: click.ParamType

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str):
            value = self.base.convert(value, param, ctx)
        why = problem(value, self.kind, self.rng)
        if why is not None:
            self.fail(why, param, ctx)  # type: ignore[attr-defined]
        return float(value) if self.kind is float else value

    def _describe_range(self) -> str:
        return self.rng.describe()


class _RangedInt(_Ranged, click.IntRange):
    def __init__(self, rng: Range) -> None:
        low, high = (None if v is None else int(v) for v in (rng.min, rng.max))
        super().__init__(min=low, max=high, min_open=rng.min_open)
        self.kind, self.rng, self.base = int, rng, click.INT


class _RangedFloat(_Ranged, click.FloatRange):
    def __init__(self, rng: Range) -> None:
        super().__init__(min=rng.min, max=rng.max, min_open=rng.min_open)
        self.kind, self.rng, self.base = float, rng, click.FLOAT


def click_type(kind: type, rng: Range) -> click.ParamType:
    """Return the click type for a ranged int or float option (click shows the range in help)."""
    return _RangedInt(rng) if kind is int else _RangedFloat(rng)


def apply(decorators: Iterable[Callable[[F], F]]) -> Callable[[F], F]:
    """Return one decorator applying `decorators` so that they show in help in their order."""
    listed = list(decorators)

    def wrap(f: F) -> F:
        for decorator in reversed(listed):
            f = decorator(f)
        return f

    return wrap


def click_option(option: Option) -> Callable[[F], F]:
    """Return the click decorator for a declared Option."""
    flags = [f"--{option.name}"]
    if option.keyword in _SHORT:
        flags.insert(0, _SHORT[option.keyword])
    kwargs: dict[str, Any] = {"default": option.default, "help": option.help, "show_default": True}
    if option.type is bool:
        # Both spellings always exist, so the command line can undo a config file's `true`.
        return click.option(f"--{option.name}/--no-{option.name}", option.keyword, **kwargs)
    if isinstance(option.type, tuple):
        kwargs["type"] = click.Choice(option.type)
    elif option.range is not None and option.validate is None:  # else: validate checks it
        kwargs["type"] = click_type(option.type, option.range)
    elif option.type is not None:
        kwargs["type"] = option.type
    if option.multiple:
        kwargs["multiple"] = True
        kwargs["default"] = tuple(option.default or ())
    if option.metavar:
        kwargs["metavar"] = option.metavar
    return click.option(*flags, option.keyword, **kwargs)


def run_flags(f: F) -> F:
    """Add the run-wide flags (RUN_OPTIONS, with --config after the input flags, -q, -v)."""
    options = [click_option(o) for o in RUN_OPTIONS]
    config, quiet, verbose = UI_FLAGS
    at = 1 + [o.keyword for o in RUN_OPTIONS].index("id_prefix")
    return apply([*options[:at], config, *options[at:], quiet, verbose])(f)


def step_flags(specs: Iterable[StepSpec]) -> Callable[[F], F]:
    """Return a decorator adding every option of `specs` as a flag."""
    return apply(click_option(o) for spec in specs for o in spec.options)
