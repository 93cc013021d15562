"""The per-document step loops as they were before their fast paths (issue #18), frozen.

tests/test_core_speed.py runs today's steps and these side by side: the edits, the paragraphs
and the audit trail must come out the same. Only the loops are frozen; what they call
(`_normalize`, `repair`, `describe`, `Document.apply`) is today's, tested on its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from cleanup.document import Document, Edit
from cleanup.pipeline import each_live
from cleanup.steps import encoding, normalize


def normalize_step(docs: Iterable[Document], **options: bool) -> Iterator[Document]:
    """The normalize step: every paragraph through _normalize, labels built per edit."""
    nfkc = options.get("nfkc", False)
    keep_lines = options.get("keep_lines", False)
    keep_typography = options.get("keep_typography", False)

    def clean(doc: Document) -> None:
        rewrites: list[Edit] = []
        empty: list[Edit] = []
        for i, p in enumerate(doc.paragraphs):
            new, kinds = normalize._normalize(p, nfkc, keep_lines, keep_typography)
            if new == p and new:
                continue
            if not new:
                empty.append(
                    Edit.removal("normalize", normalize._EMPTY, i, p, normalize._EMPTY_WHY)
                )
                continue
            why = "; ".join(normalize._WHY[k] for k in kinds)
            rule = "normalize:" + "+".join(kinds)
            rewrites.append(Edit.rewrite("normalize", rule, i, p, new, why))
        if rewrites or empty:
            doc.apply(rewrites + empty)

    return each_live(docs, clean)


def fix_encoding_step(docs: Iterable[Document]) -> Iterator[Document]:
    """The fix-encoding step: one gate search of the joined document, then every paragraph."""
    config = encoding.ftfy_config()
    gate = encoding.NEEDS_FTFY

    def repair_document(doc: Document) -> None:
        if gate is not None and not gate.search("\n".join(doc.paragraphs)):
            return
        rewrites: list[Edit] = []
        empty: list[Edit] = []
        for i, p in enumerate(doc.paragraphs):
            new, plan = encoding.repair(p, config, fast_path=gate is not None)
            if new == p:
                continue
            rule, why = encoding.describe(plan)
            if new.strip():
                rewrites.append(Edit.rewrite("fix-encoding", rule, i, p, new, why))
            else:
                empty.append(Edit.removal("fix-encoding", rule, i, p, why))
        if rewrites or empty:
            doc.apply(rewrites + empty[::-1])

    return each_live(docs, repair_document)
