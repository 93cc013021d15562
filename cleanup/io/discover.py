"""Find the input files: folders walked in sorted order, file names mapped to formats.

`discover` turns the paths a user gives into Sources (cleanup/io/readers.py reads them);
inside a folder, what is not read (an unsupported type, a link, a FIFO) is reported through
`on_skip`, so that nothing vanishes unnoticed. URLs and object storage are listed by
cleanup/io/remote.py.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from cleanup.errors import BadInput, UsageProblem
from cleanup.io.compression import strip_compression
from cleanup.io.remote import discover_remote, is_remote

FORMATS = ("txt", "html", "jsonl", "parquet", "warc")
_EXTENSIONS = {
    ".txt": "txt",
    ".text": "txt",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".jsonl": "jsonl",
    ".json": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".warc": "warc",
    ".arc": "warc",
}


@dataclass(frozen=True)
class Source:
    """One input file (or standard input) and where it sits under its input root."""

    path: str  # "-" for standard input
    root: str
    relpath: str
    format: str

    @property
    def name(self) -> str:
        """Return the name used in messages: the path as the user gave it."""
        return "<stdin>" if self.path == "-" else self.path


def format_of(path: str) -> str | None:
    """Return the input format implied by a file name, or None for an unsupported one."""
    lower = path.lower()
    if lower.endswith((".warc.lz4", ".arc.lz4")):  # LZ4 is for archives only
        return "warc"
    return _EXTENSIONS.get(os.path.splitext(strip_compression(lower))[1])


@dataclass(frozen=True)
class Skipped:
    """Say why discovery passed over an entry of an input folder: `kind` is "type", "link"
    or "special" (a FIFO, socket or device: as `grep -r`, read only when named)."""

    kind: str
    path: str
    why: str


OnSkip = Callable[[Skipped], None]


def discover(
    paths: Iterable[str],
    input_format: str | None = None,
    *,
    follow_links: bool = False,
    on_skip: OnSkip | None = None,
    on_bad: Callable[[str], None] | None = None,
) -> Iterator[Source]:
    """Expand inputs into Sources: folders recursively (sorted, hidden entries skipped).

    Inside a folder, files of unsupported types and symbolic links (unless `follow_links`)
    are passed over and reported through `on_skip`, so that nothing vanishes unnoticed. A
    path named here is always read, even when it is a link. A folder that cannot be listed
    raises BadInput, or goes to `on_bad` (which may raise) when given.
    """
    walker = _Walker(input_format, follow_links, on_skip, on_bad)
    for path in paths:
        if path == "-":
            yield Source("-", "", "", input_format or "jsonl")
        elif is_remote(path):  # s3://, https://, ...: cleanup/io/remote.py
            yield from discover_remote(path, input_format, on_skip, on_bad)
        elif os.path.isdir(path):
            yield from walker.walk(path)
        elif os.path.exists(path):
            fmt = input_format or format_of(path) or "txt"
            yield Source(path, os.path.dirname(path), os.path.basename(path), fmt)
        else:
            raise UsageProblem(f"{path}: no such file or folder")


def type_of(name: str) -> str:
    """Return the type of a file name as shown in the summary: '.csv', '.csv.gz', 'no extension'."""
    plain = strip_compression(name)
    ext = os.path.splitext(plain)[1].lower() + name[len(plain) :]
    return ext or "no extension"


@dataclass
class _Walker:
    """Walk input folders in sorted order, the way `find` and `grep -r` treat links.

    Links are skipped unless followed; a followed link to a folder that is already on the
    way down (an ancestor, or itself) is skipped as a loop, so the walk always ends.
    """

    input_format: str | None
    follow_links: bool
    on_skip: OnSkip | None
    on_bad: Callable[[str], None] | None = None

    def walk(self, root: str) -> Iterator[Source]:
        st = os.stat(root)
        yield from self._folder(root, root, {(st.st_dev, st.st_ino)})

    def _skip(self, kind: str, path: str, why: str) -> None:
        if self.on_skip:
            self.on_skip(Skipped(kind, path, why))

    def _folder(self, root: str, folder: str, ancestors: set[tuple[int, int]]) -> Iterator[Source]:
        try:
            with os.scandir(folder) as it:
                entries = sorted(
                    (e for e in it if not e.name.startswith(".")), key=lambda e: e.name
                )
        except OSError as exc:
            message = f"{folder}: cannot read folder: {exc.strerror or exc}"
            if self.on_bad is None:
                raise BadInput(message) from None
            self.on_bad(message)
            return
        folders = []
        for entry in entries:
            if entry.is_symlink() and not self.follow_links:
                self._skip("link", entry.path, "symbolic link (--follow-links reads it)")
            elif entry.is_dir():
                folders.append(entry)
            elif not entry.is_file() and os.path.exists(entry.path):  # would block or never end
                self._skip("special", entry.path, "not a regular file (FIFO, socket or device)")
            else:
                yield from self._file(root, entry.path)
        for entry in folders:
            st = entry.stat()
            key = (st.st_dev, st.st_ino)
            if key in ancestors:
                self._skip("link", entry.path, "link to a folder it is inside (a loop)")
                continue
            yield from self._folder(root, entry.path, ancestors | {key})

    def _file(self, root: str, path: str) -> Iterator[Source]:
        fmt = format_of(path)
        if fmt is None:
            self._skip("type", path, f"unsupported type {type_of(os.path.basename(path))}")
            return
        rel = os.path.relpath(path, root).replace(os.sep, "/")
        yield Source(path, root, rel, self.input_format or fmt)
