"""Readers and writers: where documents come from and where they go."""

from cleanup.io.decoding import decode
from cleanup.io.readers import FORMATS, discover, read_inputs
from cleanup.io.writers import open_output

__all__ = ["FORMATS", "decode", "discover", "open_output", "read_inputs"]
