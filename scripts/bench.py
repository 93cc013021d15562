#!/usr/bin/env python3
"""Measure cleanup's speed and memory, step by step and end to end, on generated corpora.

    python scripts/bench.py --sizes 10000,100000 [--workers N] [--markdown | --json]

For each size the bench generates (once, cached under --work-dir) a plain-text news corpus with
scripts/gen_corpus.py, and an all-HTML one for strip-html, then measures, each in its own
subprocess so that peak memory belongs to that measurement alone:

- read: read_inputs over the corpus (the floor every row pays);
- each step alone (library API). One core: the clock stops while documents are read, so the
  row is the step's own cost. All cores (the local engine with N worker processes): wall time
  of read -> step, since the main process reads while the workers clean, as in a real run;
- fix-encoding without its fast path (ftfy_fast_path=False), to show what the fast path buys;
- `cleanup run` as a whole (`python -m cleanup run corpus.jsonl -o out.jsonl --force
  --workers W`): wall time of the subprocess, start-up included;
- `cleanup run (WARC.gz)`: the same on the HTML corpus archived as a WARC (one gzip member and
  one HTTP 200 text/html response per document, as crawlers write them); its MB/s counts the
  archive's bytes. Needs the warc extra (`pip install cleanup[warc]`), else skipped;
- when datatrove is installed (`pip install cleanup[bench]`) and the size is at most
  --datatrove-max: datatrove's FTFY formatter + MinHash deduplication (its four-stage
  example pipeline) on the same corpus, sharded into W files for W workers; its time
  excludes interpreter start-up and imports, to the competitor's advantage. "vs datatrove" is
  cleanup run's MB/s over datatrove's, at the same size and workers.

Start-up is measured as an installed package pays it: the bench compiles the package's bytecode
first (`pip install` does so for an installed package), so that an environment that sets
PYTHONDONTWRITEBYTECODE (or an editable install's first run) does not charge every row the
compiling of every module, about 0.2 s a process on the machines we run on.

MB/s counts the corpus file's bytes (the same for every row); peak RSS is the largest of the
subprocess tree's sampled total and its biggest process's exact peak (wait4), in MiB. A step
that does not import yet is skipped with a note, so the bench runs while steps are written.
Timing figures belong in the README, never in tests.
"""

from __future__ import annotations

import argparse
import compileall
import gzip
import importlib.util
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
GEN = ROOT / "scripts" / "gen_corpus.py"
MiB = 1024 * 1024
WARC_ROW = "cleanup run (WARC.gz)"

# (row label, step name, step options, corpus kind)
STEP_ROWS: tuple[tuple[str, str, dict[str, Any], str], ...] = (
    ("strip-html (HTML corpus)", "strip-html", {}, "html"),
    ("fix-encoding", "fix-encoding", {}, "plain"),
    ("fix-encoding, no fast path", "fix-encoding", {"ftfy_fast_path": False}, "plain"),
    ("strip-artifacts", "strip-artifacts", {}, "plain"),
    ("dedup", "dedup", {}, "plain"),
    ("normalize", "normalize", {}, "plain"),
)


def per_second(amount: float, seconds: float | None) -> float | None:
    """Return amount per second, or None when nothing was measured (no time, or none)."""
    return amount / seconds if seconds else None


@dataclass
class Row:
    """One measurement: what ran, on how many documents, how fast and with how much memory."""

    size: int
    what: str
    workers: int
    seconds: float | None = None
    docs: int = 0
    mbytes: float = 0.0
    peak_rss_mib: float | None = None
    vs_datatrove: float | None = None
    load: float | None = None
    note: str = ""

    @property
    def docs_per_s(self) -> float | None:
        """Return documents per second, or None when the row was not measured."""
        return per_second(self.docs, self.seconds)

    @property
    def mb_per_s(self) -> float | None:
        """Return megabytes (10^6) of corpus per second, or None when not measured."""
        return per_second(self.mbytes, self.seconds)

    def to_dict(self) -> dict[str, Any]:
        """Return the row with its derived rates, for --json."""
        out = asdict(self)
        out["docs_per_s"] = self.docs_per_s
        out["mb_per_s"] = self.mb_per_s
        return out


# --- measuring a subprocess --------------------------------------------------------------


def tree_rss(pgid: int) -> int:
    """Return the summed resident memory (bytes) of every process in process group `pgid`."""
    total = 0
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                fields = fh.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            total += int(fields[21]) * page
    return total


@dataclass
class Measured:
    """What one subprocess measurement returned."""

    ok: bool
    wall: float
    peak_rss: int
    result: dict[str, Any]
    error: str


def measure(argv: list[str], log: Path, cwd: Path | None = None) -> Measured:
    """Run `argv` in its own process group; return wall time, peak memory and its JSON output.

    The peak is the larger of the sampled sum over the process tree (workers included) and the
    exact peak of the biggest single process from wait4, which sampling could miss.
    """
    with tempfile.TemporaryFile() as out, open(log, "ab") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, cwd=cwd, start_new_session=True)
        peak = 0
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.wait(0.05):
                peak = max(peak, tree_rss(proc.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        done.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    peak = max(peak, usage.ru_maxrss * 1024)
    result: dict[str, Any] = {}
    for line in reversed(text.splitlines()):
        if line.startswith("{"):
            result = json.loads(line)
            break
    error = ""
    if proc.returncode != 0:
        error = _last_line(log) or f"exit status {proc.returncode}"
    elif "skip" in result:
        error = result["skip"]
    return Measured(proc.returncode == 0 and not error, wall, peak, result, error)


def _last_line(path: Path) -> str:
    """Return the last non-empty line of a log file (the error a failed run printed)."""
    try:
        lines = [x for x in path.read_text("utf-8", "replace").splitlines() if x.strip()]
    except OSError:
        return ""
    return lines[-1].strip()[:200] if lines else ""


# --- what the child processes run -------------------------------------------------------


class Clock:
    """Accumulate time only while running, so reading documents can be left out of a step."""

    def __init__(self) -> None:
        self.total = 0.0
        self._since: float | None = None

    def resume(self) -> None:
        """Start counting."""
        self._since = time.perf_counter()

    def pause(self) -> None:
        """Stop counting, adding the time since resume()."""
        if self._since is not None:
            self.total += time.perf_counter() - self._since
            self._since = None


def paused_reading(corpus: str, clock: Clock, chunk: int = 2000) -> Iterator[Any]:
    """Yield the corpus's documents, pausing `clock` while each chunk is read."""
    import itertools

    from cleanup.io import read_inputs

    docs = read_inputs([corpus])
    while True:
        clock.pause()
        batch = list(itertools.islice(docs, chunk))
        clock.resume()
        if not batch:
            return
        yield from batch


def child_read(corpus: str) -> dict[str, Any]:
    """Read every document of the corpus; return the time and count."""
    from cleanup.io import read_inputs

    started = time.perf_counter()
    n = sum(1 for _ in read_inputs([corpus]))
    return {"seconds": time.perf_counter() - started, "docs": n}


def child_step(corpus: str, step: str, options: dict[str, Any], workers: int) -> dict[str, Any]:
    """Run one step over the corpus with the library API; skip it if it does not import yet."""
    try:
        from cleanup.pipeline import Context, step_spec

        spec = step_spec(step)
        known = {o.keyword for o in spec.options}
        missing = sorted(set(options) - known)
        if missing:
            return {"skip": f"{step} has no option {', '.join(missing)} yet"}
        context = Context()
        if workers > 1:
            from cleanup.engines import build_engine

            chain = build_engine("local", [(step, options)], context, workers)
        else:
            chain = spec.bind(context, **options)
    except Exception as exc:  # a step being written may fail to import in any way
        return {"skip": f"{step} does not import yet ({type(exc).__name__}: {exc})"[:200]}
    n = 0
    try:
        if workers > 1:
            from cleanup.io import read_inputs

            started = time.perf_counter()
            for _ in chain(read_inputs([corpus])):
                n += 1
            seconds = time.perf_counter() - started
        else:
            clock = Clock()
            for _ in chain(paused_reading(corpus, clock)):
                n += 1
            clock.pause()
            seconds = clock.total
    finally:
        for close in context.on_close:
            close()
    return {"seconds": seconds, "docs": n}


def child_datatrove(shards: str, workers: int, work: str) -> dict[str, Any]:
    """Run datatrove's FTFY + MinHash dedup pipeline (its example's four stages) over shards."""
    try:
        from datatrove.executor import LocalPipelineExecutor
        from datatrove.pipeline.dedup import (
            MinhashDedupBuckets,
            MinhashDedupCluster,
            MinhashDedupFilter,
            MinhashDedupSignature,
        )
        from datatrove.pipeline.dedup.minhash import MinhashConfig
        from datatrove.pipeline.formatters import FTFYFormatter
        from datatrove.pipeline.readers import JsonlReader
        from datatrove.pipeline.writers import JsonlWriter
        from datatrove.utils.word_tokenizers import load_word_tokenizer

        load_word_tokenizer("en").word_tokenize("probe")  # English needs spaCy
        _let_datatrove_hash_str()
    except Exception as exc:
        return {"skip": f"datatrove unusable ({type(exc).__name__}: {exc})"[:200]}
    tasks = len([p for p in os.listdir(shards) if p.endswith(".jsonl")])
    config = MinhashConfig()
    w = Path(work)

    def stage(pipeline: list[Any], n: int, name: str) -> LocalPipelineExecutor:
        return LocalPipelineExecutor(
            pipeline=pipeline,
            tasks=n,
            workers=min(workers, n),
            logging_dir=str(w / "logs" / name),
            start_method="fork",  # workers inherit _let_datatrove_hash_str's patch
        )

    def writer(folder: str) -> JsonlWriter:
        return JsonlWriter(str(w / folder), output_filename="${rank}.jsonl", compression=None)

    started = time.perf_counter()
    stage(
        [
            JsonlReader(shards),
            FTFYFormatter(),
            writer("fixed"),
            MinhashDedupSignature(output_folder=str(w / "signatures"), config=config),
        ],
        tasks,
        "signatures",
    ).run()
    stage(
        [
            MinhashDedupBuckets(
                input_folder=str(w / "signatures"), output_folder=str(w / "buckets"), config=config
            )
        ],
        config.num_buckets,
        "buckets",
    ).run()
    stage(
        [
            MinhashDedupCluster(
                input_folder=str(w / "buckets"), output_folder=str(w / "remove_ids"), config=config
            )
        ],
        1,
        "clusters",
    ).run()
    stage(
        [
            JsonlReader(str(w / "fixed")),
            MinhashDedupFilter(input_folder=str(w / "remove_ids")),
            writer("output"),
        ],
        tasks,
        "filter",
    ).run()
    seconds = time.perf_counter() - started
    out = 0
    for name in os.listdir(w / "output"):
        with open(w / "output" / name, "rb") as fh:
            out += sum(1 for _ in fh)
    return {"seconds": seconds, "docs_out": out}


def _let_datatrove_hash_str() -> None:
    """Let datatrove hash str shingles with xxhash >= 4, which refuses str.

    datatrove pins xxhash < 4, whose functions encoded str as UTF-8 themselves; cleanup needs
    xxhash 4. Encoding first is what xxhash 3 did, so datatrove computes the same hashes at
    the same cost as in the environment it supports.
    """
    import xxhash
    from datatrove.utils.hashes import xxhash as dt_xxhash

    def as_bytes(data: str | bytes) -> bytes:
        return data.encode("utf-8") if isinstance(data, str) else data

    dt_xxhash.xxhash32 = lambda data: xxhash.xxh32_intdigest(as_bytes(data))
    dt_xxhash.xxhash64 = lambda data: xxhash.xxh64_intdigest(as_bytes(data))


def child_main(spec: dict[str, Any]) -> int:
    """Run one measurement described by `spec` and print its JSON result as the last line."""
    kind = spec["kind"]
    if kind == "read":
        result = child_read(spec["corpus"])
    elif kind == "step":
        result = child_step(spec["corpus"], spec["step"], spec["options"], spec["workers"])
    elif kind == "datatrove":
        result = child_datatrove(spec["shards"], spec["workers"], spec["work"])
    else:
        raise SystemExit(f"unknown measurement kind {kind!r}")
    print(json.dumps(result), flush=True)
    return 0


# --- the bench ------------------------------------------------------------------------


@dataclass
class Corpus:
    """A generated corpus on disk."""

    path: Path
    docs: int
    mbytes: float


def corpus(work: Path, size: int, seed: int, kind: str, log: Path) -> Corpus:
    """Return the corpus of `size` documents, generating it unless it is already cached."""
    folder = work / f"{kind}-{size}-seed{seed}"
    path = folder / "corpus.jsonl"
    if not (folder / "truth.json").exists():
        note(f"generating {kind} corpus of {size:,} documents in {folder}")
        args = [sys.executable, str(GEN), "--docs", str(size), "--seed", str(seed)]
        args += ["--out", str(folder), "-q", "--html-share", "1" if kind == "html" else "0"]
        with open(log, "ab") as err:
            subprocess.run(args, check=True, stderr=err)
    return Corpus(path, size, path.stat().st_size / 1e6)


def warc_corpus(c: Corpus, work: Path) -> Corpus:
    """Return the corpus archived as a WARC.gz of HTML responses (built once, cached)."""
    path = work / f"warc-{c.path.parent.name}.warc.gz"
    if path.exists():
        return Corpus(path, c.docs, path.stat().st_size / 1e6)
    tmp = path.with_suffix(".tmp")
    with open(c.path, "rb") as src, open(tmp, "wb") as out:
        for n, line in enumerate(src):
            record = json.loads(line)
            body = record["text"].encode("utf-8")
            http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
            http += b"Content-Length: %d\r\n\r\n" % len(body) + body
            head = (
                "WARC/1.0\r\nWARC-Type: response\r\n"
                f"WARC-Record-ID: <urn:uuid:00000000-0000-4000-8000-{n:012d}>\r\n"
                f"WARC-Target-URI: https://bench.example/{record['id']}\r\n"
                "WARC-Date: 2024-01-01T00:00:00Z\r\n"
                "Content-Type: application/http; msgtype=response\r\n"
                f"Content-Length: {len(http)}\r\n\r\n"
            ).encode()
            out.write(gzip.compress(head + http + b"\r\n\r\n", compresslevel=6, mtime=0))
    tmp.rename(path)
    return Corpus(path, c.docs, path.stat().st_size / 1e6)


def shard(c: Corpus, parts: int, work: Path) -> Path:
    """Split a corpus into `parts` JSONL files (round robin) for datatrove's per-file tasks."""
    folder = work / f"shards-{c.path.parent.name}-{parts}"
    if (folder / "done").exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    outs = [open(folder / f"{i:05d}.jsonl", "wb") for i in range(parts)]  # noqa: SIM115
    try:
        with open(c.path, "rb") as fh:
            for i, line in enumerate(fh):
                outs[i % parts].write(line)
    finally:
        for out in outs:
            out.close()
    (folder / "done").touch()
    return folder


def note(message: str) -> None:
    """Tell the user what the bench is doing, on standard error."""
    print(f"bench: {message}", file=sys.stderr, flush=True)


class Bench:
    """Run every measurement for every size and collect the rows."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.work = Path(args.work_dir)
        self.work.mkdir(parents=True, exist_ok=True)
        self.log = self.work / "bench.log"
        self.rows: list[Row] = []

    def child(self, spec: dict[str, Any]) -> list[str]:
        """Return the command line that runs one measurement in a fresh interpreter."""
        return [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec)]

    def best(
        self, argv: list[str], cwd: Path | None = None, before: Callable[[], None] | None = None
    ) -> Measured:
        """Run a measurement --repeat times and keep the fastest run.

        Other work on a shared machine only ever slows a run down, so the fastest of a few
        is the best estimate of the code's own speed. `before` runs ahead of each run (to
        clear what a run leaves behind, such as datatrove's record of finished tasks).
        """
        runs = []
        for _ in range(max(self.args.repeat, 1)):
            if before is not None:
                before()
            runs.append(measure(argv, self.log, cwd))
        ok = [m for m in runs if m.ok]
        if not ok:
            return runs[-1]
        return min(ok, key=lambda m: float(m.result.get("seconds", m.wall)))

    def add(self, row: Row, m: Measured | None, seconds: float | None = None) -> Row:
        """Record a row from a measurement (or its failure) and show it on standard error."""
        if m is not None and m.ok:
            row.seconds = seconds if seconds is not None else m.result.get("seconds", m.wall)
            row.peak_rss_mib = m.peak_rss / MiB
            row.docs = m.result.get("docs", row.docs)
        elif m is not None:
            row.note = m.error
        row.load = os.getloadavg()[0]
        self.rows.append(row)
        rate = f"{row.mb_per_s:.2f} MB/s" if row.mb_per_s else f"skipped: {row.note}"
        note(f"{row.size:>9,} {row.what:<30} workers={row.workers}: {rate}")
        return row

    def run(self) -> list[Row]:
        """Measure everything the arguments ask for."""
        for size in self.args.sizes:
            self.size(size)
        return self.ordered()

    def size(self, size: int) -> None:
        """Measure every row of one corpus size: the costly comparison first, steps last."""
        args = self.args
        plain = corpus(self.work, size, args.seed, "plain", self.log)
        base = {"size": size, "docs": size, "mbytes": plain.mbytes}
        spec = {"kind": "read", "corpus": str(plain.path)}
        self.add(Row(what="read", workers=1, **base), self.best(self.child(spec)))
        runs, html = {}, None
        if not args.no_run:
            for w in self.workers_for("run"):
                runs[w] = self.cleanup_run(plain, w, base)
        if not args.no_warc:
            html = corpus(self.work, size, args.seed, "html", self.log)
            archive = warc_corpus(html, self.work)
            for w in self.workers_for("run"):
                self.cleanup_run(archive, w, {**base, "mbytes": archive.mbytes}, "WARC.gz")
        if not args.no_datatrove and size <= args.datatrove_max:
            for w in self.workers_for("datatrove"):
                dt = self.datatrove(plain, w, base)
                run = runs.get(w)
                if dt.mb_per_s and run is not None and run.mb_per_s:
                    run.vs_datatrove = run.mb_per_s / dt.mb_per_s
        for label, step, options, kind in STEP_ROWS:
            if args.steps and step not in args.steps:
                continue
            c = plain
            if kind == "html":
                html = html or corpus(self.work, size, args.seed, "html", self.log)
                c = html
            for w in self.workers_for("steps"):
                spec = {"kind": "step", "corpus": str(c.path), "step": step}
                spec |= {"options": options, "workers": w}
                row = Row(size=size, what=label, workers=w, docs=size, mbytes=c.mbytes)
                self.add(row, self.best(self.child(spec)))

    def workers_for(self, kind: str) -> list[int]:
        """Return the worker counts to measure `kind` with: one core, and all unless opted out."""
        return sorted({1, self.args.workers}) if kind in self.args.all_cores else [1]

    def ordered(self) -> list[Row]:
        """Return the rows in reading order: read, steps in pipeline order, run, datatrove."""
        order = ["read", *(label for label, *_ in STEP_ROWS), "cleanup run", WARC_ROW]
        rank = {what: i for i, what in enumerate(order)}
        return sorted(self.rows, key=lambda r: (r.size, rank.get(r.what, len(order)), r.workers))

    def cleanup_run(self, c: Corpus, workers: int, base: dict[str, Any], archive: str = "") -> Row:
        """Measure `cleanup run` end to end in a subprocess (on an archive: the WARC row)."""
        out = self.work / "run-output.jsonl"
        argv = [sys.executable, "-m", "cleanup", "run", str(c.path), "-o", str(out)]
        argv += ["--force", "-q", "--workers", str(workers)]
        m = self.best(argv, cwd=ROOT)
        row = Row(what=WARC_ROW if archive else "cleanup run", workers=workers, **base)
        self.add(row, m, seconds=m.wall)
        out.unlink(missing_ok=True)
        return row

    def datatrove(self, c: Corpus, workers: int, base: dict[str, Any]) -> Row:
        """Measure datatrove's FTFY + MinHash pipeline on the same corpus."""
        shards = shard(c, workers, self.work)
        work = self.work / "datatrove-run"
        spec = {"kind": "datatrove", "shards": str(shards), "workers": workers}
        spec["work"] = str(work)
        row = Row(what="datatrove ftfy + minhash", workers=workers, **base)
        # datatrove skips tasks it finds done: every run starts from an empty folder
        self.add(row, self.best(self.child(spec), before=lambda: shutil.rmtree(work, True)))
        shutil.rmtree(work, ignore_errors=True)
        return row


def machine() -> dict[str, Any]:
    """Describe the machine and versions, so figures can be compared."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(x.split(":", 1)[1].strip() for x in fh if x.startswith("model name"))
    except (OSError, StopIteration):
        pass
    info: dict[str, Any] = {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
    }
    for name in ("cleanup", "datatrove", "ftfy"):
        try:
            from importlib.metadata import version

            info[name] = version(name)
        except Exception:
            info[name] = None
    return info


def _fmt(value: float | None, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def grid(head: list[str], body: list[list[str]], markdown: bool) -> list[str]:
    """Return the lines of a Markdown or aligned text table, so every bench script prints alike."""
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] * len(head)) + "|"]
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |" for cells in body]
        return lines
    widths = [max(len(x[i]) for x in [head, *body]) for i in range(len(head))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) for cells in body]
    return lines


def table(rows: Iterable[Row], markdown: bool) -> str:
    """Return the rows as an aligned text table, or a Markdown table for the README."""
    head = ["docs", "what", "workers", "docs/s", "MB/s", "peak RSS MiB", "vs datatrove"]
    body = []
    for r in rows:
        ratio = f"{r.vs_datatrove:.1f}x" if r.vs_datatrove else ""
        cells = [f"{r.size:,}", r.what, str(r.workers), _fmt(r.docs_per_s, ",.0f")]
        cells += [_fmt(r.mb_per_s, ".2f"), _fmt(r.peak_rss_mib, ",.0f"), ratio]
        if r.seconds is None:
            cells[3] = f"skipped: {r.note}" if markdown else "skipped"
            cells[4:] = ["", "", ""]
        body.append(cells)
    lines = grid(head, body, markdown)
    if markdown:
        return "\n".join(lines)
    skipped = [r for r in rows if r.seconds is None]
    lines += [f"skipped: {r.what} (workers={r.workers}): {r.note}" for r in skipped]
    return "\n".join(x.rstrip() for x in lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="10000,100000", help="corpus sizes (1000000 is opt-in)")
    p.add_argument("--seed", type=int, default=1, help="corpus seed")
    p.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="all-cores worker count"
    )
    p.add_argument("--steps", default="", help="only these steps (comma-separated)")
    p.add_argument(
        "--all-cores",
        default="run,steps,datatrove",
        help="what to measure with --workers as well as one core (comma-separated subset of "
        "run,steps,datatrove)",
    )
    p.add_argument("--no-run", action="store_true", help="skip `cleanup run`")
    p.add_argument("--no-warc", action="store_true", help="skip `cleanup run` on a WARC.gz")
    p.add_argument(
        "--repeat", type=int, default=1, help="run each measurement N times, keep the fastest"
    )
    p.add_argument("--no-datatrove", action="store_true", help="skip datatrove")
    p.add_argument("--datatrove-max", type=int, default=100_000, help="largest size for datatrove")
    p.add_argument("--work-dir", default=os.path.join(tempfile.gettempdir(), "cleanup-bench"))
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print JSON for machines")
    out.add_argument("--markdown", action="store_true", help="print a Markdown table")
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        return args
    try:
        args.sizes = [int(x) for x in args.sizes.split(",") if x.strip()]
    except ValueError:
        p.error("--sizes takes comma-separated integers")
    if not args.sizes or min(args.sizes) < 1 or args.workers < 1:
        p.error("--sizes must be positive and --workers at least 1")
    args.steps = {x.strip() for x in args.steps.split(",") if x.strip()}
    args.all_cores = {x.strip() for x in args.all_cores.split(",") if x.strip()}
    if args.all_cores - {"run", "steps", "datatrove"}:
        p.error("--all-cores takes a comma-separated subset of run,steps,datatrove")
    return args


def compile_package() -> None:
    """Compile the bytecode of the cleanup package the children import, as `pip install` does.

    Why: with PYTHONDONTWRITEBYTECODE set, Python never caches bytecode, and every `cleanup run`
    would compile every module of the package again; an installed package has its bytecode.
    """
    spec = importlib.util.find_spec("cleanup")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        compileall.compile_dir(folder, quiet=1)


def main(argv: list[str] | None = None) -> int:
    """Run the bench and print its table."""
    args = parse_args(argv)
    if args.child:
        return child_main(json.loads(args.child))
    compile_package()
    rows = Bench(args).run()
    info = machine()
    if args.json:
        print(json.dumps({"machine": info, "rows": [r.to_dict() for r in rows]}, indent=1))
        return 0
    command = "python scripts/bench.py " + " ".join(argv if argv is not None else sys.argv[1:])
    print(f"{command.strip()}\n")
    desc = f"{info['cpu']}, {info['cores']} cores, Python {info['python']}"
    versions = ", ".join(f"{k} {v}" for k, v in info.items() if k in ("cleanup", "datatrove") and v)
    loads = [r.load for r in rows if r.load is not None]
    if loads:  # other work on the machine slows every row; say how busy it was
        desc += f"; 1-minute load average {min(loads):.1f}-{max(loads):.1f} during the run"
    print(f"Machine: {desc}; {versions}\n" if args.markdown else f"{desc}; {versions}\n")
    print(table(rows, args.markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
