"""Walk an HTML tree in document order: the one walker every reader of page text shares.

strip-html's blocks (`blocks.page_blocks`), the text of trafilatura's result
(`main.body_blocks`) and the report's view of a raw page (`cleanup.report.corpora`) all
read text the same way: an element opens, its text follows, its children, it closes, its
tail follows. The walk is iterative (lxml's iterwalk), so no nesting depth can exhaust
Python's stack, and it leaves the tree as it found it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Literal

import lxml.etree as etree

Event = Literal["start", "end", "tail"]


def walk(root: Any, skip: Callable[[Any], bool] | None = None) -> Iterator[tuple[Event, Any]]:
    """Yield the events of reading `root`'s text, leaving out the subtrees `skip` names.

    - ("start", el): an element opens; its `.text` comes next on the page;
    - ("end", el): it closes;
    - ("tail", node): after an element, a skipped element, a comment or a processing
      instruction, when it has tail text (`node.tail`); never for `root`.

    `skip(el)` is asked once per element below `root`, when it opens; a skipped element
    yields neither start nor end (its tail still follows). Comments and processing
    instructions only yield their tails. Why a predicate rather than a tag set: callers
    decide by position and content too (page chrome, captions seen once).
    """
    walker = etree.iterwalk(root, events=("start", "end"))
    skipped = None
    for event, node in walker:
        if not isinstance(node.tag, str):  # comments and processing instructions
            if event == "end" and node.tail:
                yield "tail", node
            continue
        if event == "start":
            if skip is not None and node is not root and skip(node):
                walker.skip_subtree()
                skipped = node  # iterwalk still ends it: its end is the next event
                continue
            yield "start", node
            continue
        if node is skipped:
            skipped = None
        else:
            yield "end", node
        if node is not root and node.tail:
            yield "tail", node
