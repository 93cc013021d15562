"""Strip scraper artifacts: video prompts, share bars, credits, highlights, repeated captions.

What counts as an artifact is data: the rules in cleanup/rules/*.toml (see cleanup.rules for
the schema) plus the users' rule files. Each rule's regex must match a whole paragraph in its
folded form (`fold`: case, spaces, quotes and dashes), because this step runs before normalize.

The step is in this module; `onepass` says, for a batch of documents at once, which paragraphs
any rule could touch (`literals` finds their `requires` words in one pass), `gates` decides
cheaply which rules to try on a paragraph, `scan` decides what goes in one document (rules by
position, blocks, repeated captions), `blocks` says which lines belong to a block. The
decisions become edits made by Document.apply.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator

from cleanup.document import Document, Edit
from cleanup.gcpause import paused
from cleanup.pipeline import Option, StepSpec
from cleanup.ranges import Range
from cleanup.rules import RuleError, builtin_rules, load_rules
from cleanup.steps.artifacts.blocks import BlockShape, bullet_text
from cleanup.steps.artifacts.gates import RuleSet, compile_rules
from cleanup.steps.artifacts.scan import REPEATED, REPEATED_WHY, Scan, Shared

__all__ = [
    "REPEATED",
    "REPEATED_WHY",
    "SPEC",
    "STEP",
    "BlockShape",
    "RuleSet",
    "bullet_text",
    "compile_rules",
    "strip_artifacts",
    "strip_document",
]

STEP = "strip-artifacts"
_BATCH = 64  # documents scanned together (see _run)


def strip_document(
    doc: Document,
    rs: RuleSet,
    shape: BlockShape,
    repeats: bool = True,
    shared: Shared | None = None,
) -> None:
    """Remove (or move into doc.meta) every artifact paragraph of one document, with edits.

    `shared`: the view and matches of a batch of documents this one is part of (see _run).
    """
    decisions, meta = Scan(doc.paragraphs, rs, shape, repeats, shared).run()
    if not decisions:
        return
    # Highest index first, so each edit's index is the paragraph's place in the input and
    # also its place when the edit was made (undoing edits in reverse order restores it).
    paragraphs, move, removal = doc.paragraphs, Edit.move, Edit.removal
    edits = [
        (move if d.kind == "move" else removal)(
            STEP, d.rule, i, paragraphs[i], d.why, d.detail or None
        )
        for i, d in sorted(decisions.items(), reverse=True)
    ]
    doc.apply(edits)
    for key, values in meta.items():
        current = doc.meta.get(key)
        if current is None:
            doc.meta[key] = list(values)
        elif isinstance(current, list):
            current.extend(values)
        else:
            doc.meta[key] = [current, *values]


def strip_artifacts(
    docs: Iterable[Document],
    *,
    disable_rule: Iterable[str] = (),
    rules_file: Iterable[str] = (),
    block_max_words: int = 30,
    block_max_lines: int = 5,
) -> Iterator[Document]:
    """Drop artifact paragraphs and collapse repeated ones, recording each as an edit.

    Rules load (and rule files are checked) when the step is called, so a bad rule file, an
    unknown rule id or a bad block option stops a run before any input is read: that raises
    cleanup.rules.RuleError, a usage problem for the CLI and a ValueError for the library.
    """
    if block_max_words < 1 or block_max_lines < 0:
        raise RuleError("--block-max-words must be >= 1 and --block-max-lines >= 0")
    disabled = tuple(disable_rule)
    files = tuple(rules_file)
    if files:
        rules = tuple(load_rules(files, disabled, known_ids=(REPEATED,)))
    else:
        rules = tuple(builtin_rules(disabled, known_ids=(REPEATED,)))
    rs = compile_rules(rules)
    shape = BlockShape(block_max_words, block_max_lines)
    repeats = REPEATED not in disabled
    return _run(docs, rs, shape, repeats)


def _run(
    docs: Iterable[Document], rs: RuleSet, shape: BlockShape, repeats: bool
) -> Iterator[Document]:
    """Apply the compiled rules to every live document; pass dropped ones through.

    Documents go in batches of _BATCH: one joined view, one word scan and one opening regex
    for the batch (onepass), each a call with a cost of its own, paid once per batch.
    """
    batch: list[Document] = []
    for doc in docs:
        batch.append(doc)
        if len(batch) == _BATCH:
            yield from _strip_batch(batch, rs, shape, repeats)
            batch = []
    yield from _strip_batch(batch, rs, shape, repeats)


def _strip_batch(
    batch: list[Document], rs: RuleSet, shape: BlockShape, repeats: bool
) -> list[Document]:
    """Strip the live documents of `batch` (sharing one view and one matching); return it."""
    live = [doc for doc in batch if doc.dropped is None and doc.paragraphs]
    if live:
        paragraphs = list(itertools.chain.from_iterable(doc.paragraphs for doc in live))
        with paused(len(paragraphs)):  # a decision and an edit per artifact (gcpause)
            shared = Shared.of(paragraphs, rs, repeats)
            for doc in live:
                count = len(doc.paragraphs)  # before the edits
                strip_document(doc, rs, shape, repeats, shared)
                shared.offset += count
    return batch


SPEC = StepSpec(
    name=STEP,
    func=strip_artifacts,
    help=(
        "Remove scraper artifacts (video prompts, share bars, credits, cookie notices, photo "
        "credits, 'Story highlights' blocks into metadata) by the rules in cleanup/rules/*.toml, "
        "and collapse a paragraph repeated right after itself."
    ),
    options=(
        Option(
            "disable-rule",
            (),
            "Turn off a built-in rule by id (repeatable); 'repeated-paragraph' keeps repeats.",
            type=str,
            multiple=True,
            metavar="ID",
        ),
        Option(
            "rules-file",
            (),
            "Add the [[rule]] tables of a TOML rule file (repeatable); an id of a built-in "
            "rule replaces it.",
            type=str,
            multiple=True,
            metavar="FILE",
            path=True,
        ),
        Option(
            "block-max-words",
            30,
            "A line under a block header (e.g. 'Story highlights') belongs to the block only "
            "up to this many words; highlight bullets run 7-25 words, body paragraphs longer.",
            type=int,
            range=Range(min=1),
        ),
        Option(
            "block-max-lines",
            5,
            "A block takes at most this many lines after its header; highlight lists hold 2-4, "
            "so a longer run is body text.",
            type=int,
            range=Range(min=0),
        ),
    ),
)
