"""Allow `python -m cleanup`."""

from cleanup.cli import main

main()
