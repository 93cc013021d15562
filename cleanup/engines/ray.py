"""Run the same chain on a Ray cluster: batches of documents become Ray tasks.

Only this module imports Ray, and only when `--engine ray` is chosen. Without an address, a
local Ray is started for the run and bound to loopback; `--address ray://HOST:PORT` (or `auto`)
joins a real cluster, which is always the user's explicit choice.

Keyed shuffles run as partitions (`map_partitions`): the shared arrays (corpus dedup's band
keys, ranks and signatures) go into the object store once and one task per partition selects
its own keys from them; what a partition computes is the step's business, not the engine's.
See docs/architecture.md, "Engines".
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from cleanup.engines.processes import BatchEngine
from cleanup.errors import UsageProblem
from cleanup.io.tasksource import SplitSource
from cleanup.pipeline import Context, Step, StepCall
from cleanup.scratch import OWNER, Scratch, ScratchRef, check_base, put

_LOOPBACK_ENV = {
    "RAY_USAGE_STATS_ENABLED": "0",
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
    "RAY_DISABLE_DOCKER_CPU_WARNING": "1",
}
R = TypeVar("R")
# Pickled results up to this size come back through Ray (inlined: Ray returns objects under
# 100 KiB in its reply, not through the store); larger ones as a file in scratch (see _call).
RESULT_INLINE = 64 << 10
PROBE_FILES = 16  # input files a per-node probe checks before tasks read the input themselves


def sees(files: list[tuple[str, int]]) -> bool:
    """Tell whether this machine has these files, with these sizes (-1: any size)."""
    return all(_size(path) == size if size >= 0 else os.path.exists(path) for path, size in files)


def _size(path: str) -> int:
    """Return a file's size, -2 when it cannot be seen (never a size a caller asks for)."""
    try:
        return os.path.getsize(path)
    except OSError:
        return -2


def machines(nodes: Sequence[dict[str, Any]]) -> int:
    """Count the machines among Ray nodes: nodes started on one machine share its address."""
    return max(1, len({n.get("NodeManagerAddress") for n in nodes}))


def _call(fn: Callable[..., Any], scratch: str | None, *args: Any) -> bytes | ScratchRef:
    """Run fn(*args) inside a Ray worker; return the result pickled, or in scratch if large.

    Why not return it as is: Ray hands numpy arrays back as views into the object store,
    and a view the driver keeps (dedup's ledger keeps signatures) pins the task's whole
    result there, documents included, until the run ends. Bytes are copied out instead.
    A result larger than RESULT_INLINE goes to a file in the run's scratch space when there
    is one: read from the object store, it would map store pages into the driver (up to
    the store's size of resident memory); read from a file, it is a copy the driver frees.
    """
    data = pickle.dumps(fn(*args), protocol=pickle.HIGHEST_PROTOCOL)
    return put(scratch, data) if scratch is not None and len(data) > RESULT_INLINE else data


def _load(result: bytes | ScratchRef) -> Any:
    """Return a task's result, deleting its file in scratch once read."""
    if isinstance(result, bytes):
        return pickle.loads(result)
    loaded = result.unpickle()
    with contextlib.suppress(FileNotFoundError):
        os.remove(result.path)
    return loaded


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
        scratch: str | None = None,
    ) -> None:
        if scratch is not None:
            check_base(scratch)  # before Ray starts: a wrong folder is one line, at once
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
        alive = [n for n in ray.nodes() if n.get("Alive")]
        self.nodes = [n["NodeID"] for n in alive]
        self.machines = machines(alive)
        self.scratch_space: Scratch | None = None
        if scratch is not None or len(self.nodes) <= 1:
            self.scratch_space = Scratch(scratch, context.run_id)
            self.scratch = self.scratch_space.path
            in_parts = getattr(postlude, "in_parts", None)
            if in_parts is not None:  # tasks write the output lines as parts (io/parts.py)
                self.postlude = in_parts(self.scratch)
            if not self.everywhere([(os.path.join(self.scratch, OWNER), -1)]):
                raise UsageProblem(
                    f"--scratch {scratch}: not every machine of the Ray cluster sees it "
                    "(it must be a folder all of them mount)"
                )

    def everywhere(self, files: Sequence[tuple[str, int]]) -> bool:
        """Tell whether every node of the cluster sees these files (with these sizes; -1: any).

        One small task per node, pinned to it. On one machine the answer is yes at once.
        """
        if len(self.nodes) <= 1:
            return True
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        probe = self.ray.remote(sees)
        handles = [
            probe.options(
                scheduling_strategy=NodeAffinitySchedulingStrategy(node, soft=False)
            ).remote(list(files))
            for node in self.nodes
        ]
        return all(self.ray.get(handles))

    def tasks_can_read(self, source: SplitSource) -> bool:
        """Tell whether tasks on every node can read the input files (a sample of them)."""
        sized = {(s.path, _size(s.path)) for s in source.splits if s.problem is None}
        files = sorted((path, size) for path, size in sized if size >= 0)
        step = max(1, len(files) // PROBE_FILES)
        return self.everywhere(files[::step][:PROBE_FILES])

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
            self.ray.init(address=address, log_to_driver=False, configure_logging=False)
        else:
            self.ray.init(
                num_cpus=workers,
                include_dashboard=False,
                _node_ip_address="127.0.0.1",
                log_to_driver=False,
                configure_logging=False,
            )

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        return self.task.remote(fn, self.scratch, *args)

    def result(self, handle: Any) -> Any:
        return _load(self._get(handle))

    def _get(self, handles: Any) -> Any:
        """Return ray.get(handles), raising a task's own error rather than Ray's wrapper.

        Ray's wrapper prints the task's traceback in its message; the error itself (a
        BadInput naming the file and line, say) is what the user is to see.
        """
        try:
            return self.ray.get(handles)
        except self.ray.exceptions.RayTaskError as exc:
            cause = getattr(exc, "cause", None)
            if isinstance(cause, Exception):
                raise cause from None
            raise

    def partitions(self) -> int:
        """Return as many partitions as the cluster has CPUs, at least 2."""
        return max(2, int(self.ray.cluster_resources().get("CPU", 1)))

    def map_partitions(self, fn: Callable[..., R], shared: Sequence[Any], parts: int) -> list[R]:
        """Run one Ray task per partition over arrays put in the object store once.

        Every task gets the same object references (numpy arrays are read there without a
        copy), so the shared data crosses to the cluster once, not once per partition.
        """
        refs = [self.ray.put(a) for a in shared]
        handles = [self.task.remote(fn, self.scratch, *refs, parts, part) for part in range(parts)]
        return [_load(b) for b in self._get(handles)]

    def close(self) -> None:
        """Shut down the local Ray this run started (a joined cluster is left running)."""
        if self.started_here:
            self.ray.shutdown()
        if self.scratch_space is not None:
            self.scratch_space.remove()
