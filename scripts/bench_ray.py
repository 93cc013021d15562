#!/usr/bin/env python3
"""Measure the Ray engine's driver: its peak memory, the object-store bytes it owns, its speed.

    python scripts/bench_ray.py --sizes 20000,100000 [--workers N] [--object-store-mib M]
                                [--repeat N] [--markdown | --json]

For each size, on the plain corpus of scripts/bench.py (generated once by scripts/gen_corpus.py
and cached under --work-dir, shared with bench.py), it runs
`python -m cleanup run CORPUS -o OUT --force -q --engine ray --workers N` in its own session
and measures:

- driver peak RSS: VmHWM of the cleanup process alone (read from /proc/PID/status every 50 ms;
  the kernel keeps the high-water mark, so sampling misses nothing but the last 50 ms). The
  raylet, GCS server and task workers the driver starts are separate processes and not
  counted. Plasma pages the driver maps (a `ray.get` of a large object reads it in place) are
  counted, since they are resident in the driver;
- object store owned by the driver: a sidecar process finds the run's GCS address on the
  command line of the raylet the driver started, and polls the raylet every --poll seconds
  with the call behind `ray memory` (GetNodeStats with memory info; needs grpcio, which
  the dev extra installs). In the driver's reference table it sums the sizes of the distinct
  objects pinned in the object store: the driver owns them (its `ray.put`s, and the returns
  of the tasks it submitted, which Ray makes the caller own), and each stays in the store
  while the driver holds its reference. Small returns, inlined into the driver's own memory,
  are left out (they are in its RSS). The peak over the samples is kept; the store's total
  use, capacity and spilled bytes (every owner) are shown beside it. "driver total" is peak
  RSS plus that peak: an upper bound on what the driver needs, since the two peaks need not
  coincide and plasma pages the driver read may be in both;
- throughput: corpus MB (10^6 bytes of the JSONL file) over the wall time of the subprocess,
  starting Ray included; and the same for the local engine with the same --workers, so
  "Ray / local" is the ratio of the two wall times in one bench run.

The engine starts Ray with `ray.init` and no object_store_memory argument, so the bench caps
the store with Ray's own RAY_DEFAULT_OBJECT_STORE_MAX_MEMORY_BYTES (--object-store-mib; Ray's
floor is 75 MiB); a store too small spills to disk, which the "spilled" column shows.
Timing figures belong in the README, never in tests.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # scripts/bench.py: corpus generation, measuring, tables

MiB = bench.MiB
GCS_ADDRESS = re.compile(r"--gcs[-_]address=(\S+)")


@dataclass
class RayRow:
    """One size: the Ray run's driver memory and speed, and the local engine's speed."""

    size: int
    workers: int
    mbytes: float
    ray_seconds: float | None = None
    local_seconds: float | None = None
    driver_peak_rss_mib: float | None = None
    driver_store_mib: float | None = None
    driver_owned_objects: int | None = None
    store_used_mib: float | None = None
    store_capacity_mib: float | None = None
    spilled_mib: float | None = None
    samples: int = 0
    note: str = ""

    @property
    def ray_mb_per_s(self) -> float | None:
        """Return corpus megabytes per second with the Ray engine, or None if not measured."""
        return bench.per_second(self.mbytes, self.ray_seconds)

    @property
    def local_mb_per_s(self) -> float | None:
        """Return corpus megabytes per second with the local engine, or None if not measured."""
        return bench.per_second(self.mbytes, self.local_seconds)

    @property
    def ray_vs_local(self) -> float | None:
        """Return how many times longer the Ray run took than the local one."""
        if self.ray_seconds and self.local_seconds:
            return self.ray_seconds / self.local_seconds
        return None

    @property
    def driver_total_mib(self) -> float | None:
        """Return the driver's peak RSS plus its peak owned object-store bytes, in MiB."""
        if self.driver_peak_rss_mib is None or self.driver_store_mib is None:
            return None
        return self.driver_peak_rss_mib + self.driver_store_mib

    def to_dict(self) -> dict[str, Any]:
        """Return the row with its derived figures, for --json."""
        out = asdict(self)
        for name in ("ray_mb_per_s", "local_mb_per_s", "ray_vs_local", "driver_total_mib"):
            out[name] = getattr(self, name)
        return out


# --- the driver's own memory ------------------------------------------------------------


def status_kib(pid: int, field: str) -> int | None:
    """Return a `field: N kB` line of /proc/PID/status in KiB, or None once the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


class HighWater:
    """Poll a process's VmHWM (the kernel's peak RSS of that process alone) until it exits."""

    def __init__(self, pid: int, every: float = 0.05) -> None:
        self.pid = pid
        self.peak_kib = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(every,), daemon=True)
        self._thread.start()

    def _run(self, every: float) -> None:
        while not self._done.is_set():
            kib = status_kib(self.pid, "VmHWM")
            if kib is not None:
                self.peak_kib = max(self.peak_kib, kib)
            self._done.wait(every)

    def stop(self) -> int:
        """Stop polling; return the peak in bytes."""
        self._done.set()
        self._thread.join()
        return self.peak_kib * 1024


# --- the sidecar: what the driver owns in the object store ------------------------------


def descendants(pid: int) -> list[int]:
    """Return the pids of every process below `pid`, from /proc's parent links."""
    parent: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as fh:
                    parent[int(entry)] = int(fh.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    found, frontier = [], [pid]
    while frontier:
        below = [p for p, pp in parent.items() if pp in frontier]
        found += below
        frontier = below
    return found


def gcs_address(driver: int) -> str | None:
    """Return the GCS address of the Ray the driver started, from its raylet's command line."""
    for pid in descendants(driver):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                args = fh.read().decode("utf-8", "replace").split("\0")
        except OSError:
            continue
        for arg in args:
            match = GCS_ADDRESS.fullmatch(arg)
            if match:
                return match.group(1)
    return None


def in_store(ref: Any) -> bool:
    """Tell whether a reference's object sits in the object store (pinned there, size known).

    Small task returns are inlined into the owner's own memory (its RSS) instead.
    """
    return bool(ref.pinned_in_memory) and ref.object_size > 0


def store_sample(state: Any, driver: int) -> dict[str, int] | None:
    """Ask every live raylet for its memory stats; return the driver's figures and the store's."""
    from ray._private.internal_api import node_stats

    sample = {"owned_bytes": 0, "owned_objects": 0, "used": 0, "spilled": 0, "seen": 0}
    sample["capacity"] = 0
    for node in state.node_table():
        if not node["Alive"]:
            continue
        stats = node_stats(node["NodeManagerAddress"], node["NodeManagerPort"], True)
        sample["used"] += stats.store_stats.object_store_bytes_used
        sample["capacity"] += stats.store_stats.object_store_bytes_avail
        sample["spilled"] += stats.store_stats.spilled_bytes_total
        for worker in stats.core_workers_stats:
            if worker.pid == driver:
                sample["seen"] = 1
                sizes = {r.object_id: r.object_size for r in worker.object_refs if in_store(r)}
                sample["owned_bytes"] += sum(sizes.values())
                sample["owned_objects"] += len(sizes)
    return sample


def gcs_state(address: str) -> Any:
    """Connect Ray's state client to `address` as given.

    ray's own get_state_from_address rewrites 127.0.0.1 to the machine's address, where a
    local Ray bound to loopback does not listen.
    """
    from ray._private.authentication.authentication_token_setup import (
        maybe_enable_token_auth_if_token_available,
    )
    from ray._private.state import GlobalState
    from ray._raylet import GcsClientOptions

    # a local ray.init turns Ray's token authentication on; its clients must present the token
    maybe_enable_token_auth_if_token_available(warn_if_disabled=False)
    state = GlobalState()
    options = GcsClientOptions.create(
        address, None, allow_cluster_id_nil=True, fetch_cluster_id_if_nil=False
    )
    state._initialize_global_state(options)
    return state


def sidecar_main(driver: int, out: str, poll: float) -> int:
    """Poll the object store while the driver runs; write the peaks as JSON to `out`."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    peak = {"owned_bytes": 0, "owned_objects": 0, "used": 0, "spilled": 0, "seen": 0}
    peak["capacity"] = 0
    samples, errors, state = 0, "", None
    while os.path.exists(f"/proc/{driver}") and status_kib(driver, "VmRSS") is not None:
        try:
            if state is None:
                address = gcs_address(driver)
                state = gcs_state(address) if address else None
            else:
                sample = store_sample(state, driver)
                if sample is not None:
                    samples += 1
                    peak = {k: max(v, sample[k]) for k, v in peak.items()}
        except Exception as exc:  # the cluster starts and stops under us; keep polling
            errors = f"{type(exc).__name__}: {exc}"[:200]
        save(out, {**peak, "samples": samples, "last_error": errors})
        time.sleep(poll)
    return 0


def save(path: str, figures: dict[str, Any]) -> None:
    """Replace the sidecar's result file atomically after every sample.

    Once the driver shuts its Ray down, a call in flight can block (and Ray's client ends the
    process after a minute without its GCS), so the bench stops the sidecar instead of
    waiting for it, and reads what the file holds.
    """
    tmp = f"{path}.tmp"
    with open(tmp, "w") as fh:
        json.dump(figures, fh)
    os.replace(tmp, path)


# --- one measurement --------------------------------------------------------------------


@dataclass
class RayRun:
    """What one measured Ray run returned."""

    ok: bool
    wall: float
    driver_peak: int
    store: dict[str, Any]
    error: str


def measure_ray(
    argv: list[str], env: dict[str, str], log: Path, poll: float, timeout: float
) -> RayRun:
    """Run the Ray driver with a sidecar watching the object store; return its figures.

    A driver still running after `timeout` seconds gets SIGTERM (it shuts its Ray down and
    publishes nothing) and the run is reported as stopped, so a stalled run cannot hang the
    bench: with an object store smaller than what the driver holds, a run can stall.
    """
    store_out = log.parent / f"sidecar-{os.getpid()}.json"
    store_out.unlink(missing_ok=True)
    with open(log, "ab") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            argv, stdout=err, stderr=err, cwd=bench.ROOT, env=env, start_new_session=True
        )
        hwm = HighWater(proc.pid)
        side = [sys.executable, str(Path(__file__).resolve()), "--sidecar", str(proc.pid)]
        side += [str(store_out), str(poll)]
        sidecar = subprocess.Popen(side, stdout=err, stderr=err, env=env)
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.terminate()
            proc.wait()
            code = None
        wall = time.perf_counter() - started
        peak = hwm.stop()
        try:
            sidecar.wait(timeout=max(3.0, 3 * poll))
        except subprocess.TimeoutExpired:
            sidecar.kill()
            sidecar.wait()
    end_session(proc.pid)
    store = json.loads(store_out.read_text()) if store_out.exists() else {}
    store_out.unlink(missing_ok=True)
    if code is None:
        error = f"stopped after {timeout:.0f} s without finishing"
    else:
        error = "" if code == 0 else bench._last_line(log) or f"exit status {code}"
    if not error and not store.get("seen"):
        error = f"the sidecar never saw the driver ({store.get('last_error') or 'no sample'})"
    return RayRun(not error, wall, peak, store, error)


def end_session(sid: int) -> None:
    """Stop what the driver's session left running (it is ours: started for this run)."""
    import signal

    for pid in descendants_in_session(sid):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def descendants_in_session(sid: int) -> list[int]:
    """Return the pids still alive in session `sid` (the driver's, made by start_new_session)."""
    alive = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as fh:
                    if int(fh.read().rsplit(b")", 1)[1].split()[3]) == sid:
                        alive.append(int(entry))
            except (OSError, ValueError, IndexError):
                continue
    return alive


# --- the bench --------------------------------------------------------------------------


def run_argv(corpus: Path, out: Path, workers: int, engine: str) -> list[str]:
    """Return the `cleanup run` command line measured for one engine."""
    argv = [sys.executable, "-m", "cleanup", "run", str(corpus), "-o", str(out), "--force", "-q"]
    return [*argv, "--workers", str(workers), "--engine", engine]


def measure_size(args: argparse.Namespace, size: int, work: Path, log: Path) -> RayRow:
    """Measure one corpus size with the Ray engine, then the local engine."""
    c = bench.corpus(work, size, args.seed, "plain", log)
    row = RayRow(size=size, workers=args.workers, mbytes=c.mbytes)
    out = work / "ray-run-output.jsonl"
    env = {
        **os.environ,
        "RAY_DEFAULT_OBJECT_STORE_MAX_MEMORY_BYTES": str(args.object_store_mib * MiB),
    }
    runs = [
        measure_ray(run_argv(c.path, out, args.workers, "ray"), env, log, args.poll, args.timeout)
        for _ in range(max(args.repeat, 1))
    ]
    ok = [r for r in runs if r.ok]
    if ok:
        best = min(ok, key=lambda r: r.wall)
        row.ray_seconds = best.wall
        row.driver_peak_rss_mib = best.driver_peak / MiB
        row.driver_store_mib = best.store["owned_bytes"] / MiB
        row.driver_owned_objects = best.store["owned_objects"]
        row.store_used_mib = best.store["used"] / MiB
        row.store_capacity_mib = best.store["capacity"] / MiB
        row.spilled_mib = best.store["spilled"] / MiB
        row.samples = best.store["samples"]
    else:
        row.note = runs[-1].error
    local = [
        bench.measure(run_argv(c.path, out, args.workers, "local"), log, bench.ROOT)
        for _ in range(max(args.repeat, 1))
    ]
    good = [m for m in local if m.ok]
    if good:
        row.local_seconds = min(m.wall for m in good)
    else:
        row.note = (row.note + "; " if row.note else "") + f"local: {local[-1].error}"
    out.unlink(missing_ok=True)
    rate = f"{row.ray_mb_per_s:.2f} MB/s" if row.ray_mb_per_s else f"failed: {row.note}"
    bench.note(f"{size:>9,} ray workers={args.workers}: {rate}")
    return row


def _f(value: float | None, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def table(rows: list[RayRow], markdown: bool) -> str:
    """Return the rows as bench.py's text or Markdown table."""
    head = ["docs", "workers", "driver peak RSS MiB", "driver's object store MiB"]
    head += ["driver total MiB", "store used MiB", "spilled MiB", "Ray MB/s", "local MB/s"]
    head += ["Ray / local time"]
    body = []
    for r in rows:
        cells = [f"{r.size:,}", str(r.workers), _f(r.driver_peak_rss_mib, ",.0f")]
        cells += [_f(r.driver_store_mib, ",.1f"), _f(r.driver_total_mib, ",.0f")]
        cells += [_f(r.store_used_mib, ",.0f"), _f(r.spilled_mib, ",.0f")]
        cells += [_f(r.ray_mb_per_s, ".2f"), _f(r.local_mb_per_s, ".2f")]
        cells += [_f(r.ray_vs_local, ".1f") + ("x" if r.ray_vs_local else "")]
        body.append(cells)
    lines = bench.grid(head, body, markdown)
    failed = [f"failed: {r.size:,} docs: {r.note}" for r in rows if r.note]
    lines += ["", *failed] if failed else []
    return "\n".join(x.rstrip() for x in lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="20000,100000", help="corpus sizes (comma-separated)")
    p.add_argument("--seed", type=int, default=1, help="corpus seed")
    p.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="cores for both engines"
    )
    p.add_argument("--object-store-mib", type=int, default=256, help="Ray's object store cap")
    p.add_argument("--poll", type=float, default=0.5, help="sidecar polling interval, seconds")
    p.add_argument("--timeout", type=float, default=1800, help="stop a Ray run after N s")
    p.add_argument("--repeat", type=int, default=1, help="run each N times, keep the fastest")
    p.add_argument("--work-dir", default=os.path.join(tempfile.gettempdir(), "cleanup-bench"))
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print JSON for machines")
    out.add_argument("--markdown", action="store_true", help="print a Markdown table")
    p.add_argument("--sidecar", nargs=3, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.sidecar:
        return args
    try:
        args.sizes = [int(x) for x in args.sizes.split(",") if x.strip()]
    except ValueError:
        p.error("--sizes takes comma-separated integers")
    if not args.sizes or min(args.sizes) < 1 or args.workers < 1:
        p.error("--sizes must be positive and --workers at least 1")
    if args.object_store_mib < 75:
        p.error("--object-store-mib: Ray's object store needs at least 75 MiB")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the Ray bench and print its table."""
    args = parse_args(argv)
    if args.sidecar:
        driver, out, poll = args.sidecar
        return sidecar_main(int(driver), out, float(poll))
    work = Path(args.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    log = work / "bench.log"
    rows = [measure_size(args, size, work, log) for size in args.sizes]
    info = bench.machine()
    info["ray"] = _version("ray")
    info["object_store_mib"] = args.object_store_mib
    if args.json:
        print(json.dumps({"machine": info, "rows": [r.to_dict() for r in rows]}, indent=1))
        return 0
    command = "python scripts/bench_ray.py " + " ".join(argv if argv is not None else sys.argv[1:])
    desc = f"{info['cpu']}, {info['cores']} cores, Python {info['python']}, Ray {info['ray']}"
    print(f"{command.strip()}\n\n{desc}; object store capped at {args.object_store_mib} MiB\n")
    print(table(rows, args.markdown))
    return 0


def _version(name: str) -> str | None:
    """Return an installed distribution's version, or None."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None


if __name__ == "__main__":
    sys.exit(main())
