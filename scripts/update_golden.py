"""Rewrite the expected sections of golden cases from the current output.

Usage: python scripts/update_golden.py [NAME...]   (default: every case with an expected section)
Review the result with `git diff tests/golden` before committing.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from golden_cases import cases


def main(names: list[str]) -> None:
    """Update the named cases (or all cases that have an expected section)."""
    for case in cases():
        if names and case.path.name not in names and case.path.stem not in names:
            continue
        if case.expected is None and not names:
            continue
        case.write_expected(case.run())
        print(f"updated {case.path}")


if __name__ == "__main__":
    main(sys.argv[1:])
