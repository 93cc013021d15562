"""Choose the documents of a trial run: `--sample FRACTION` by a hash of id and seed, `--limit N`.

Why: a trial run on a big input should see a fair, repeatable part of it. The sample is
chosen by an xxhash of each document's id and the seed, in the reading process, so it is the
same sample on every engine and worker count and on every run with the same seed; a JSONL
line is parsed only as far as its id, and a line whose id cannot be read is kept, so that
the run reports it as the bad input it is.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Iterable, Iterator

import xxhash

from cleanup.document import Document
from cleanup.errors import BadInput
from cleanup.io.decoding import decode
from cleanup.io.jsonline import loads
from cleanup.io.readers import RawLine, RecordFormat, record_id

__all__ = ["in_sample", "item_id", "trial_items"]

_SPAN = float(2**64)


def in_sample(doc_id: str, seed: int, fraction: float) -> bool:
    """Tell whether the document `doc_id` is in the sample of `fraction` chosen by `seed`."""
    digest = xxhash.xxh3_64_intdigest(doc_id.encode("utf-8", "surrogatepass"), seed=seed)
    return digest < fraction * _SPAN


def item_id(item: Document | RawLine, fmt: RecordFormat) -> str | None:
    """Return the document id of what a reader yielded, or None for a line that is bad input."""
    if isinstance(item, Document):
        return item.id
    try:
        text_line, _ = decode(item.line, f"{item.source.name}:{item.lineno}")
        record = loads(text_line)  # as the run reads it: the same id
        if not isinstance(record, dict):
            return None
        return record_id(record, item, fmt)[0]
    except (BadInput, ValueError):
        return None


def trial_items(
    items: Iterable[Document | RawLine],
    fmt: RecordFormat,
    *,
    sample: float | None = None,
    seed: int = 0,
    limit: int | None = None,
) -> Iterator[Document | RawLine]:
    """Yield the items in the sample (all without one), stopping after `limit` of them.

    The item after the last one is never asked for, so reading stops there.
    """
    chosen: Iterable[Document | RawLine] = items
    if sample is not None and sample < 1:
        chosen = (i for i in items if _kept(i, fmt, sample, seed))
    if limit is not None:  # islice takes at most sys.maxsize; more is no limit at all
        chosen = itertools.islice(chosen, min(limit, sys.maxsize))
    yield from chosen


def _kept(item: Document | RawLine, fmt: RecordFormat, sample: float, seed: int) -> bool:
    doc_id = item_id(item, fmt)
    return doc_id is None or in_sample(doc_id, seed, sample)
