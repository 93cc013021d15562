"""A two-node Ray cluster on loopback for tests, run as its own process.

Why a process of its own: the tests must not import Ray (its import-time settings would beat
the ones the engine sets before it imports Ray); `ray start --node-ip-address 127.0.0.1` turns
loopback into the machine's routable address on Linux; and `ray stop` kills every Ray on the
machine, other people's too. So `python ray_cluster.py ROOT STORE_MIB` starts, with
`ray.cluster_utils.Cluster`, a head and a second node bound to 127.0.0.1 (one CPU and a small
object store each, Ray's files under ROOT), prints its address and node ids on one JSON line,
and shuts down exactly these two nodes when its standard input closes (or on SIGTERM). If the
process is killed outright, Ray's fate sharing ends the nodes' processes with it, and `stop`
kills what is left of them by pid.

The test side (`start`, `RayCluster`) imports nothing from Ray either.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STORE_MIB = 90
# Ray reads these when it starts: no usage reports, no auth token from the user's home (the
# cluster is loopback only), and every address Ray picks for itself on loopback.
CLUSTER_ENV = {
    "RAY_USAGE_STATS_ENABLED": "0",
    "RAY_AUTH_MODE": "disabled",
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
}
# A driver joining the cluster: the same auth mode and no usage reports; the rest is the engine's.
DRIVER_ENV = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled"}
_PROBE = """
import json, sys
import ray
ray.init(address=sys.argv[1], log_to_driver=False, configure_logging=False)
nodes = [
    {"id": n["NodeID"], "ip": n["NodeManagerAddress"], "cpus": n["Resources"].get("CPU", 0)}
    for n in ray.nodes() if n["Alive"]
]
print(json.dumps(nodes))
"""


def _node_args(temp_dir: str, store_bytes: int) -> dict[str, Any]:
    """Return the settings both nodes share: loopback, one CPU, a small store, no dashboard."""
    return {
        "node_ip_address": "127.0.0.1",
        "num_cpus": 1,
        "object_store_memory": store_bytes,
        "include_dashboard": False,
        "temp_dir": temp_dir,
    }


def main(argv: list[str]) -> int:
    """Start the cluster, print its address and node ids, and wait for the end of stdin."""
    temp_dir = os.path.join(argv[0], "ray")  # where Ray puts its files under RAY_TMPDIR
    store_bytes = int(argv[1]) << 20 if len(argv) > 1 else STORE_MIB << 20
    os.makedirs(temp_dir, exist_ok=True)
    from ray.cluster_utils import Cluster

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # so the finally below runs
    cluster = Cluster(shutdown_at_exit=True)
    try:
        head = cluster.add_node(**_node_args(temp_dir, store_bytes))
        second = cluster.add_node(**_node_args(temp_dir, store_bytes))
        cluster.wait_for_nodes()
        print(json.dumps({"address": cluster.address, "nodes": [head.node_id, second.node_id]}))
        sys.stdout.flush()
        sys.stdin.read()
    finally:
        cluster.shutdown()
    return 0


@dataclass
class RayCluster:
    """A running two-node cluster: its GCS address, node ids, folder and process."""

    address: str
    nodes: list[str]
    root: Path
    process: subprocess.Popen[str]

    def driver_env(self) -> dict[str, str]:
        """Return the environment for a driver that joins this cluster."""
        return {**os.environ, **DRIVER_ENV, "RAY_TMPDIR": str(self.root)}

    def pids(self) -> dict[int, str]:
        """Return the cluster's process and every process below it: pid -> start time."""
        from helpers import descendants

        found = {pid: _started(pid) for pid in descendants(self.process.pid) | {self.process.pid}}
        return {pid: when for pid, when in found.items() if when}

    def listening(self) -> list[str]:
        """Return the local addresses the cluster's processes listen on (TCP, from `ss`)."""
        out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True, check=True).stdout
        pids = self.pids()
        return [
            line.split()[3]
            for line in out.splitlines()
            if any(f"pid={pid}," in line for pid in pids)
        ]

    def alive_nodes(self) -> list[dict[str, Any]]:
        """Ask the cluster (from a separate driver) for its alive nodes: id, ip and CPUs."""
        cmd = [sys.executable, "-c", _PROBE, self.address]
        # as the engine does: else Ray reads 127.0.0.1 in the address as the routable address
        env = {**self.driver_env(), "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"probing the Ray cluster failed: {done.stderr[-2000:]}")
        nodes: list[dict[str, Any]] = json.loads(done.stdout.splitlines()[-1])
        return nodes

    def log_sizes(self) -> dict[Path, int]:
        """Return the size of every worker's stdout log now, to read only what comes after."""
        return {
            out: out.stat().st_size for out in self.root.glob("ray/session_*/logs/worker-*.out")
        }

    def nodes_that_ran(self, task: str, since: dict[Path, int]) -> set[str]:
        """Return the ids of the nodes whose workers ran a task named `task` after `since`.

        Each worker writes `:task_name:NAME` to its stdout log (worker-WORKERID-...out) for
        every task it runs, and its node id to python-core-worker-WORKERID_PID.log; `since`
        (from `log_sizes`) leaves out what earlier runs wrote.
        """
        found = set()
        for out in self.log_sizes():
            with open(out, "rb") as f:
                f.seek(since.get(out, 0))
                if f":task_name:{task}\n".encode() not in f.read():
                    continue
            worker = out.name.split("-")[1]
            for core in out.parent.glob(f"python-core-worker-{worker}_*.log"):
                found.update(re.findall(r"node_id=([0-9a-f]+)", core.read_text()))
        return found

    def stop(self, timeout: float = 60) -> None:
        """Shut the cluster down, then kill by pid whatever of it is still running."""
        pids = self.pids()  # before it exits: its children are then no longer below it
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        time.sleep(0.5)
        for pid, when in pids.items():
            if _started(pid) == when:  # still the same process, not a reused pid
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)


def _started(pid: int) -> str:
    """Return the start time of process `pid` from /proc ("" once it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[1].split()[19]


def _first_json_line(process: subprocess.Popen[str], deadline: float) -> str | None:
    """Return the first line the process prints that is a JSON object, or None at the deadline."""
    assert process.stdout is not None
    while (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([process.stdout], [], [], left)
        line = process.stdout.readline() if ready else ""
        if not line:
            return None  # timed out, or the process ended
        if line.startswith("{"):
            return line
    return None


def start(root: Path, store_mib: int = STORE_MIB, timeout: float = 180) -> RayCluster:
    """Start the cluster under `root` and return it once its address is printed."""
    env = {**os.environ, **CLUSTER_ENV, "RAY_TMPDIR": str(root)}
    with open(root / "cluster.err", "w") as err:
        process = subprocess.Popen(
            [sys.executable, __file__, str(root), str(store_mib)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=err,
            env=env,
            text=True,
        )
    cluster = RayCluster("", [], root, process)
    line = _first_json_line(process, time.monotonic() + timeout)
    if line is None:
        cluster.stop()
        tail = (root / "cluster.err").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"the Ray cluster did not start within {timeout:.0f} s: {tail}")
    info = json.loads(line)
    cluster.address, cluster.nodes = info["address"], info["nodes"]
    return cluster


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
