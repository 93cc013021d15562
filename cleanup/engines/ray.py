"""Run the same chain on a Ray cluster: batches of documents become Ray tasks.

Only this module imports Ray, and only when `--engine ray` is chosen. Without an address, a
local Ray is started for the run and bound to loopback; `--address ray://HOST:PORT` (or `auto`)
joins a real cluster, which is always the user's explicit choice.

Corpus dedup's LSH search is shuffled too (`context.find_edges`): the band keys, ranks and
signatures go into the object store once, one task per partition picks the entries whose
(band, key) hash falls in it (so every bucket is whole in one task), finds the bucket's pairs
and verifies them; the driver merges the partitions' pairs and finds connected components over
the verified edges (few, next to the entries).
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from cleanup.dedup.clusters import merge_edges, part_edges
from cleanup.engines.processes import BatchEngine
from cleanup.errors import UsageProblem
from cleanup.pipeline import Context, Step, StepCall

_LOOPBACK_ENV = {
    "RAY_USAGE_STATS_ENABLED": "0",
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
    "RAY_DISABLE_DOCKER_CPU_WARNING": "1",
}


def _call(fn: Callable[..., Any], *args: Any) -> Any:
    """Run fn(*args) inside a Ray worker."""
    return fn(*args)


class RayEngine(BatchEngine):
    """Submit batches as Ray tasks; decisions that need the whole corpus stay on the driver."""

    def __init__(
        self,
        calls: list[StepCall],
        context: Context,
        workers: int,
        address: str | None = None,
        prelude: Step | None = None,
        postlude: Step | None = None,
    ) -> None:
        for key, value in _LOOPBACK_ENV.items():  # read by Ray at import time, set them first
            os.environ.setdefault(key, value)
        try:
            import ray
        except ImportError:
            raise UsageProblem("--engine ray needs Ray: pip install 'cleanup[ray]'") from None
        self.ray = ray
        self.started_here = False
        if not ray.is_initialized():
            self._init(address, workers)
        cpus = max(workers, int(ray.cluster_resources().get("CPU", 1)))
        super().__init__(calls, context, cpus, prelude, postlude)
        self.task = ray.remote(_call)
        self.edges_task = ray.remote(part_edges)
        context.find_edges = self.find_edges

    def _init(self, address: str | None, workers: int) -> None:
        """Start or join Ray, keeping our SIGTERM handler (ray.init replaces it with sys.exit)."""
        previous = signal.getsignal(signal.SIGTERM)
        try:
            self._connect(address, workers)
        finally:
            if previous is not None and threading.current_thread() is threading.main_thread():
                signal.signal(signal.SIGTERM, previous)
        self.started_here = True

    def _connect(self, address: str | None, workers: int) -> None:
        if address:
            self.ray.init(address=address, log_to_driver=False)
        else:
            self.ray.init(
                num_cpus=workers,
                include_dashboard=False,
                _node_ip_address="127.0.0.1",
                log_to_driver=False,
                configure_logging=False,
            )

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        return self.task.remote(fn, *args)

    def result(self, handle: Any) -> Any:
        return self.ray.get(handle)

    def find_edges(
        self,
        keys: np.ndarray,
        sigs: np.ndarray,
        threshold: float,
        rank: np.ndarray,
        fixed: np.ndarray | None = None,
        group: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Find and verify LSH candidate pairs in one Ray task per hash partition of the band keys.

        Returns what cleanup.dedup.clusters.local_edges returns. There are as many partitions
        as the cluster has CPUs, at least 2; the arrays are put in the object store once and
        shared by every task (numpy arrays are read there without a copy).
        """
        if keys.shape[0] < 2:
            return merge_edges([])
        parts = max(2, int(self.ray.cluster_resources().get("CPU", 1)))
        k, s, r, f, g = (self.ray.put(a) for a in (keys, sigs, rank, fixed, group))
        handles = [
            self.edges_task.remote(k, s, threshold, r, f, g, parts, part) for part in range(parts)
        ]
        self.context.count("dedup lsh tasks", parts)
        return merge_edges(self.ray.get(handles))

    def close(self) -> None:
        """Shut down the local Ray this run started (a joined cluster is left running)."""
        if self.started_here:
            self.ray.shutdown()
