"""Declared ranges of numeric options, checked alike for flags, config values and keywords.

Each numeric option declares its Range where it is defined (a step's `Option`, a run option,
a `state` flag), so that the command line, a TOML config and the Python API refuse the same
values with a message naming the option, instead of running with a value that silently
means something else (a negative age that prunes everything, a threshold of 1 document).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import Any

from cleanup.errors import OptionError

__all__ = ["OptionError", "Range", "check", "problem", "size_parts", "value_problem"]

# A size: a number, then optionally a unit, decimal (kB, MB, GB, TB) or binary (KiB ... TiB).
_SIZE = re.compile(r"\s*(\d+)\s*([kmgt]i?b|b)?\s*", re.IGNORECASE)
_UNITS = {"b": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12}


@dataclass(frozen=True)
class Range:
    """Describe the values a numeric option takes: [min, max], optionally open at min.

    `off` is one value outside that range that turns the feature off (0 for
    --boilerplate-min-docs, whose next meaningful value is 2). Floats must be finite.
    """

    min: float | None = None
    max: float | None = None
    min_open: bool = False
    off: int | None = None

    def describe(self) -> str:
        """Return the range as click shows it in help, e.g. '0<x<=1' or 'x=0 or x>=2'."""
        low, high = self.min, self.max
        if low is None:
            text = "any number" if high is None else f"x<={_num(high)}"
        elif high is None:
            text = f"x{'>' if self.min_open else '>='}{_num(low)}"
        else:
            text = f"{_num(low)}{'<' if self.min_open else '<='}x<={_num(high)}"
        return text if self.off is None else f"x={self.off} or {text}"

    def contains(self, value: float) -> bool:
        """Return whether `value` (already a finite number) is in the range or is `off`."""
        if self.off is not None and value == self.off:
            return True
        if self.min is not None and (value <= self.min if self.min_open else value < self.min):
            return False
        return self.max is None or value <= self.max


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


def problem(value: Any, kind: type, rng: Range) -> str | None:
    """Return why `value` is not a `kind` (int or float) in `rng`, or None when it is fine."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        noun = "an integer" if kind is int else "a number"
        return f"must be {noun}, got {value!r}"
    if kind is int and not isinstance(value, int):
        return f"must be an integer, got {value!r}"
    if not math.isfinite(value):
        return f"must be a finite number, got {value!r}"
    if not rng.contains(value):
        return f"must be {rng.describe()}, got {value!r}"
    return None


def check(name: str, value: Any, kind: type, rng: Range, where: str = "") -> Any:
    """Return `value` (a float for float options) or raise OptionError naming --name."""
    why = problem(value, kind, rng)
    if why is not None:
        raise OptionError(f"{where}--{name} {why}")
    return float(value) if kind is float else value


def value_problem(option: Any, value: Any) -> str | None:
    """Return why `value` does not fit `option` (a pipeline Option), or None when it does.

    Check the type as well as the range, so that a config file's `workers = "many"` or
    `mark = 1` is refused as the command line would refuse it, not passed on to a step.
    A `multiple` option takes a list (or tuple) of its type.
    """
    if getattr(option, "validate", None) is not None:
        return option.validate(value)
    if option.multiple:
        if not isinstance(value, list | tuple):
            return f"must be a list, got {value!r}"
        single = replace(option, multiple=False)
        return next((why for v in value if (why := value_problem(single, v))), None)
    if isinstance(option.type, tuple):
        if value in option.type:
            return None
        return f"must be one of {', '.join(option.type)}, got {value!r}"
    if option.type is bool:
        return None if isinstance(value, bool) else f"must be true or false, got {value!r}"
    if option.type in (int, float):
        return problem(value, option.type, option.range or Range())
    if option.type in (None, str) and value is not None and not isinstance(value, str):
        return f"must be a string, got {value!r}"
    return None


def size_parts(value: Any) -> tuple[int, int | None] | None:
    """Return the number of a size (`100000`, `256MB`, `1GiB`) and the bytes of its unit (None
    for a bare number), or None when `value` is no size (an int or a string of one)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    match = _SIZE.fullmatch(str(value))
    if match is None:
        return None
    number, unit = int(match.group(1)), (match.group(2) or "").lower()
    if not unit:
        return number, None
    return number, 1024 ** "bkmgt".index(unit[0]) if "i" in unit else _UNITS[unit[0]]
