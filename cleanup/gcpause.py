"""Holding back Python's cyclic garbage collector while a step makes objects by the million.

Why: CPython collects again every few hundred containers made (an edit, its detail, a
decision), and every so often a full collection walks every live container. A document of
millions of paragraphs makes millions of them at once, none of them part of a cycle: for
3,000,000 exact repeats, making their edits took 4 s with the collector, 1 s without.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

GC_PAUSE = 10_000  # paragraphs (or edits) from which the collector waits (paused)


@contextmanager
def paused(count: int) -> Iterator[None]:
    """Hold back the collector while `count` (past GC_PAUSE) objects' worth of work runs.

    Below GC_PAUSE, or when the collector is off already, nothing changes; it is turned on
    again on the way out, whatever happens inside (it collects then, as it would have).
    """
    if count < GC_PAUSE or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
