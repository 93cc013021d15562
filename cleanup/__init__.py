"""cleanup: turn scraped text and HTML into clean, deduplicated, normalized text.

Public API: Document, Edit, Pipeline, clean_text, DEFAULT_STEPS, step_spec, read_inputs.
"""

__version__ = "0.1.0"

from cleanup.document import Document, Edit
from cleanup.pipeline import DEFAULT_STEPS, Context, Pipeline, clean_text, step_spec

__all__ = [
    "DEFAULT_STEPS",
    "Context",
    "Document",
    "Edit",
    "Pipeline",
    "__version__",
    "clean_text",
    "step_spec",
]
