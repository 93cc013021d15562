"""Declare the run-wide options of `execute()` (docs/architecture.md, "Options").

Each run option is declared once here, as a step option is in its step's SPEC: its name is
the CLI flag (`--text-field`), the TOML key in a config's [run] section and, snake_cased,
the RunOptions field. The command line builds its flags from these declarations and a config
file is checked against them, so the two refuse the same values, and so does RunOptions.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

from cleanup.engines import ENGINES
from cleanup.errors import OptionError, UnknownOption
from cleanup.io.readers import FORMATS, MAX_DOCUMENT_BYTES
from cleanup.io.shards import DEFAULT_SHARD_SIZE, shard_size_problem
from cleanup.io.shards import FORMATS as OUTPUT_FORMATS
from cleanup.pipeline import Option
from cleanup.ranges import Range, problem, size_parts, value_problem

if TYPE_CHECKING:
    from cleanup.config import Config

__all__ = ["RUN_OPTIONS", "RunOptions"]

# `--max-document-size`: bytes, as MAX_DOCUMENT_BYTES (the one home of the default) says.
DOCUMENT_SIZE = Range(min=1)
DEFAULT_DOCUMENT_SIZE = f"{MAX_DOCUMENT_BYTES >> 20}MiB"


def document_bytes(value: str | int) -> int:
    """Return the bytes of a `--max-document-size` (`64MiB`, `1GB`, `1000000`); 0 if no size."""
    parts = size_parts(value)
    return 0 if parts is None else parts[0] * (parts[1] or 1)


def document_size_problem(value: Any) -> str | None:
    """Return why `value` is no `--max-document-size`, or None (the option's `validate`)."""
    if size_parts(value) is None:
        return f"must be a size such as 64MiB or 1GB, or a number of bytes, got {value!r}"
    why = problem(document_bytes(value), int, DOCUMENT_SIZE)
    return None if why is None else f"{why} bytes"


RUN_OPTIONS: tuple[Option, ...] = (
    Option(
        "output",
        None,
        "Folder (ending in /), FILE.jsonl[.gz|.zst], FILE.parquet, or - for standard output"
        " (default).",
        str,
        metavar="OUT",
        path=True,
    ),
    Option("force", False, "Replace an existing output file or folder.", bool),
    Option(
        "format",
        None,
        "With -o DIR/: write parts of this format plus _manifest.json (sharded output).",
        OUTPUT_FORMATS,
    ),
    Option(
        "shard-size",
        DEFAULT_SHARD_SIZE,
        "With --format: documents a part (100000) or bytes of output a part (256MB, 1GiB).",
        metavar="SIZE",
        validate=shard_size_problem,
    ),
    Option(
        "max-document-size",
        DEFAULT_DOCUMENT_SIZE,
        "The most one document (a JSONL line, a text or HTML file) may hold as read: a larger"
        " one is bad input (64MiB, 1GB, or bytes).",
        metavar="SIZE",
        range=DOCUMENT_SIZE,
        validate=document_size_problem,
    ),
    Option(
        "input-format",
        None,
        "Read every input as this format (default: by extension; stdin: jsonl).",
        FORMATS,
    ),
    Option("text-field", "text", "JSONL field (Parquet column) with the text.", str),
    Option(
        "id-field",
        "id",
        "JSONL field (Parquet column) with the id; for WARC, WARC-Record-ID takes the record's"
        " id instead of its target URI.",
        str,
    ),
    Option("id-prefix", "", "Prefix for ids derived from paths and lines.", str),
    Option("audit", None, "Write every edit here.", str, metavar="FILE.jsonl", path=True),
    Option(
        "audit-detail",
        "short",
        "Record rewrites in short form or with full text.",
        ("short", "full"),
    ),
    Option(
        "rejects",
        None,
        "Write every dropped document with its reason here.",
        str,
        metavar="FILE.jsonl",
        path=True,
    ),
    Option(
        "report",
        None,
        "Write a self-contained HTML review page of every change.",
        str,
        metavar="FILE.html",
        path=True,
    ),
    Option(
        "report-max-docs",
        2000,
        "Show at most N changed documents in full on the --report page; count the rest.",
        int,
        metavar="N",
        range=Range(min=1),
    ),
    Option(
        "stats",
        None,
        "Write the summary, version and effective options as JSON.",
        str,
        metavar="FILE.json",
        path=True,
    ),
    Option(
        "workers",
        0,
        "Worker processes for the per-document steps (0 = all cores).",
        int,
        range=Range(min=0),
    ),
    Option(
        "engine",
        "local",
        "Who runs the chain: local processes, or Ray tasks (pip install 'cleanup[ray]').",
        ENGINES,
    ),
    Option(
        "address",
        None,
        "Ray cluster to join (ray://HOST:PORT or auto); default: a local Ray on loopback.",
        str,
        metavar="ADDR",
    ),
    Option(
        "scratch",
        None,
        "Folder where the workers leave their documents between passes (default: the temp"
        " folder; on a cluster of several machines, a path all of them mount).",
        str,
        metavar="DIR",
    ),
    Option(
        "skip-bad", False, "Skip bad input (named on stderr and counted) instead of stopping.", bool
    ),
    Option(
        "max-bad",
        None,
        "Skip bad input as --skip-bad does, but stop (exit 1, no output) past N of them.",
        int,
        metavar="N",
        range=Range(min=0),
    ),
    Option(
        "follow-links",
        False,
        "Read symbolic links found inside input folders (skipped and counted by default).",
        bool,
    ),
    Option("keep-empty", False, "Keep documents that cleaning left empty.", bool),
    Option(
        "limit",
        None,
        "Trial run: stop after N documents read (after --sample); --state is not updated.",
        int,
        metavar="N",
        range=Range(min=1),
    ),
    Option(
        "sample",
        None,
        "Trial run: keep this fraction of documents, chosen by a hash of id and --seed; "
        "--state is not updated.",
        float,
        metavar="FRACTION",
        range=Range(min=0, max=1, min_open=True),
    ),
    Option(
        "seed",
        0,
        "Seed of --sample: another seed picks another sample.",
        int,
        range=Range(min=0, max=2**64 - 1),
    ),
)
_BY_KEYWORD = {o.keyword: o for o in RUN_OPTIONS}


@dataclass
class RunOptions:
    """Hold the run-wide options of `cleanup run` / `cleanup pipe` (step options are separate).

    Values are checked when the object is made (OptionError names the option), as on the
    command line. `workers=0` means one worker per core, as `--workers 0` does; the
    library's default is 1, the command line's 0.
    """

    inputs: list[str] = field(default_factory=lambda: ["-"])
    output: str | None = None
    force: bool = False
    format: str | None = None  # sharded output into the -o folder: jsonl, jsonl.gz, ...
    shard_size: str | int = DEFAULT_SHARD_SIZE  # documents (100000) or bytes (256MB) a part
    max_document_size: str | int = DEFAULT_DOCUMENT_SIZE  # bytes (64MiB): see document_bytes
    input_format: str | None = None
    text_field: str = "text"
    id_field: str = "id"
    id_prefix: str = ""
    skip_bad: bool = False
    max_bad: int | None = None  # implies skip_bad: skip up to this many bad inputs, then stop
    follow_links: bool = False
    keep_empty: bool = False
    limit: int | None = None  # a trial run: at most this many documents, no state commit
    sample: float | None = None  # a trial run: this fraction of documents, no state commit
    seed: int = 0
    audit: str | None = None
    audit_detail: str = "short"
    rejects: str | None = None
    report: str | None = None
    report_max_docs: int = 2000
    stats: str | None = None
    workers: int = 1
    engine: str = "local"
    address: str | None = None
    scratch: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.inputs, str | os.PathLike):
            raise OptionError(f"inputs must be a list of paths, got {self.inputs!r}")
        self.inputs = [os.fspath(path) for path in self.inputs]
        for key, option in _BY_KEYWORD.items():
            value = getattr(self, key)
            if option.path and isinstance(value, os.PathLike):
                value = os.fspath(value)
                setattr(self, key, value)
            if value is None and option.default is None:
                continue
            why = value_problem(option, value)
            if why is not None:
                raise OptionError(f"--{option.name} {why}")
        if self.format is None and str(self.shard_size) != DEFAULT_SHARD_SIZE:
            raise OptionError("--shard-size needs --format (it sizes the parts of -o DIR/)")
        if self.workers == 0:
            self.workers = os.cpu_count() or 1

    @property
    def document_bytes(self) -> int:
        """Return `max_document_size` in bytes."""
        return document_bytes(self.max_document_size)

    @property
    def trial(self) -> bool:
        """Tell whether this is a trial run (--limit or --sample), which never commits a state."""
        return self.limit is not None or self.sample is not None

    @classmethod
    def from_config(
        cls, config: Config | str | None, inputs: list[str] | None = None, **overrides: Any
    ) -> RunOptions:
        """Return the options of a config's [run] section, with `overrides` winning over it.

        `config` is a Config from `load_config` or a path to read; its relative paths are
        already resolved against the config file's folder. Raise UnknownOption for an
        override that is no run option.
        """
        from cleanup.config import Config, load_config

        if not isinstance(config, Config):
            config = load_config(config)
        unknown = sorted(set(overrides) - set(_BY_KEYWORD))
        if unknown:
            raise UnknownOption(f"unknown run option(s): {', '.join(unknown)}")
        values = {**config.section("run"), **overrides}
        return cls(inputs=list(inputs) if inputs else ["-"], **values)


def run_option_names() -> list[str]:
    """Return the RunOptions keywords a config or the command line may set (all but inputs)."""
    return [f.name for f in fields(RunOptions) if f.name != "inputs"]
