"""Compare documents before and after cleanup, paragraph by paragraph, with the audit's reasons.

This module gathers the public names of the diff, which live by concern in:
`model` (Op, DocDiff, DiffSummary), `paragraphs` (paragraph and word alignment),
`reasons` (one document's diff with the audit's reasons attached), `audit` (reading an
audit trail) and `corpora` (matching two corpora's documents). Renderers are `text`,
`jsonfmt` and `html`.
"""

from __future__ import annotations

from cleanup.report.audit import NotAnAudit, iter_audit, load_audit
from cleanup.report.corpora import (
    MATCH_KEYS,
    diff_corpora,
    document_paragraphs,
    html_paragraphs,
    path_key,
)
from cleanup.report.model import DiffSummary, DocDiff, Op, Segment
from cleanup.report.paragraphs import align, paragraph_diff, paragraph_key, word_diff
from cleanup.report.reasons import attach_reasons, diff_document, rebuild_before

__all__ = [
    "MATCH_KEYS",
    "DiffSummary",
    "DocDiff",
    "NotAnAudit",
    "Op",
    "Segment",
    "align",
    "attach_reasons",
    "diff_corpora",
    "diff_document",
    "document_paragraphs",
    "html_paragraphs",
    "iter_audit",
    "load_audit",
    "paragraph_diff",
    "paragraph_key",
    "path_key",
    "rebuild_before",
    "word_diff",
]
