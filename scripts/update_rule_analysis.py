"""Regenerate cleanup/rules/analysis.json, what the built-in rules' regexes say, from the rules.

Usage: python scripts/update_rule_analysis.py [--check]
Run it after editing a built-in rule's `match`; --check only tells (exit status 1 when out of
date). tests/test_rule_analysis.py fails while the table is out of date.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's cleanup

from cleanup.rules.analysis import main

if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
