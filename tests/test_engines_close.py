"""Closing the process engine ends its workers, even after a batch that could not be sent."""

from __future__ import annotations

import threading

import pytest

from cleanup.engines.processes import ProcessEngine
from cleanup.pipeline import Context


def test_close_returns_after_a_job_that_cannot_be_pickled() -> None:
    """A job that fails to pickle (in the pool's sending thread) fails its batch; closing the
    pool must then still end the workers (a pool cancelling its futures at shutdown used to
    wait forever for the failed one, and the exit handler for its idle workers)."""
    for _ in range(3):  # the hang took a race; it came 5 times out of 6
        context = Context()
        engine = ProcessEngine([], context, workers=2)
        with pytest.raises(Exception, match=r"pickle|local object"):
            list(engine.map_batches(lambda batch: batch, range(4000), size=10))
        closing = threading.Thread(target=engine.close, daemon=True)
        closing.start()
        closing.join(30)
        hung = closing.is_alive()
        if hung and engine.pools is not None:  # free the test run of the stuck workers
            for pool in engine.pools:
                for process in list((pool._processes or {}).values()):
                    process.kill()
        assert not hung, "closing the engine hung"
