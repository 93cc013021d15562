"""Regenerate what is shipped about the built-in rules' regexes, from the rules:
cleanup/rules/analysis.json (what each regex says) and cleanup/rules/compiled.json (their code,
and that of the gates they give, for this Python).

Usage: python scripts/update_rule_analysis.py [--check]
Run it after editing a built-in rule's `match`; --check only tells (exit status 1 when out of
date). tests/test_rule_analysis.py fails while a table is out of date.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's cleanup

from cleanup.rules import analysis, compiled


def main(argv: list[str]) -> int:
    """Write (or with --check, check) both tables; the second is built from the first."""
    status = analysis.main(argv)
    from cleanup.steps.artifacts.gates import shipped_patterns

    return max(status, compiled.main(argv, shipped_patterns()))


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
