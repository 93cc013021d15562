"""Read inputs from URLs and publish outputs to object storage, through fsspec.

Why fsspec: one interface over S3 (s3fs), Google Cloud Storage (gcsfs), HTTP(S) (aiohttp)
and every other store with an fsspec package, each taking its credentials from the store's
usual environment and config files (AWS_* variables and ~/.aws, GOOGLE_APPLICATION_CREDENTIALS,
fsspec's FSSPEC_<PROTOCOL>_<KEY> variables), never from our flags. It is the optional extra
`cleanup[remote]`, imported inside functions only.

Reading streams: an object is read in blocks as the reader asks for them (HTTP(S) as one
streamed GET), never downloaded whole. Errors of the stores (botocore, aiohttp, fsspec) are
turned into one line naming the URL at this boundary (`describe`).

Writing: object stores have no rename, so outputs are built in a local temporary folder
(`Staging`) and published by `RemotePublisher`: every file is uploaded under a temporary key
`<final>.cleanup-tmp-<run>`, then, after every upload succeeded, copied into its final key
(an existing object there is first copied aside to `<final>.cleanup-old-<run>`), the `last`
file (a manifest, the commit mark of a folder output) after all others; then the temporary and
aside keys are deleted. A failure deletes what the run uploaded and copied and puts the
objects it replaced back. A sharded output (`-o s3://b/prefix/ --format F`) is published by
`ShardPublisher`: its parts under the prefix, `_manifest.json` last, then the parts of an
earlier run that the new manifest does not list are deleted (`remote_publisher` picks it).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from typing import Any, BinaryIO

from cleanup.errors import BadInput, CleanupError, OutputError, UsageProblem
from cleanup.io.shards import MANIFEST, ShardOutput, is_part_name
from cleanup.io.temporaries import OLD_MARK, TMP_MARK

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_NOT_FILES = ("redis", "rediss", "unix")  # server URLs of a dedup state, not fsspec locations
_ALIASES = {"s3a": "s3", "s3n": "s3", "gcs": "gs"}
_READ_ONLY = ("http", "https")
_BUCKETED = ("s3", "gs", "az", "abfs", "abfss", "oss")
_PACKAGE = {"s3": "s3fs", "gs": "gcsfs", "http": "aiohttp", "https": "aiohttp", "az": "adlfs"}
_BLOCK = 8 << 20  # bytes fetched per request while reading an object


def is_remote(location: str) -> bool:
    """Tell whether an input or output names a URL (s3://, https://, ...) rather than a file."""
    found = _SCHEME.match(location)
    return found is not None and found.group(1).lower() not in _NOT_FILES


def protocol(url: str) -> str:
    """Return the URL's protocol, lower case, aliases resolved (s3a -> s3, gcs -> gs)."""
    found = _SCHEME.match(url)
    scheme = found.group(1).lower() if found else "file"
    return _ALIASES.get(scheme, scheme)


def normalise(url: str) -> str:
    """Return the URL as compared by the path check: one scheme per store, no doubled slashes.

    Why: s3a://b/x and s3://b//x/ name the same object, and an output must not hit an input
    under another spelling.
    """
    found = _SCHEME.match(url)
    rest = url[found.end() :] if found else url
    rest = re.sub(r"/{2,}", "/", rest).rstrip("/")
    return f"{protocol(url)}://{rest}"


def inside(url: str, prefix: str) -> bool:
    """Tell whether (normalised) `url` lies under the (normalised) `prefix`."""
    return url.startswith(prefix.rstrip("/") + "/")


def filesystem(url: str) -> tuple[Any, str]:
    """Return the fsspec file system of a URL and the path within it.

    A missing fsspec, or the store's package (s3fs, gcsfs, ...), is a one-line usage error
    naming what to install.
    """
    try:
        import fsspec
    except ImportError:
        raise UsageProblem(f"{url}: URLs need fsspec: pip install 'cleanup[remote]'") from None
    try:
        return fsspec.core.url_to_fs(url)
    except ImportError:
        package = _PACKAGE.get(protocol(url), f"the fsspec package for {protocol(url)}://")
        message = f"{url}: {protocol(url)}:// needs {package}: pip install {package}"
        raise UsageProblem(message) from None
    except ValueError as exc:
        raise UsageProblem(f"{url}: {describe(exc)}") from None


def describe(exc: BaseException) -> str:
    """Return one line saying what a store's error means (credentials, bucket, permission)."""
    name = type(exc).__name__
    text = str(exc).splitlines()[0] if str(exc) else name
    if name in ("NoCredentialsError", "PartialCredentialsError", "DefaultCredentialsError"):
        return f"no credentials found ({text}); set the store's usual environment or config"
    if "Connect" in name or isinstance(exc, ConnectionError | TimeoutError):
        return f"cannot reach the store ({text})"
    if isinstance(exc, PermissionError):
        return f"permission denied ({text})"
    if isinstance(exc, FileNotFoundError):
        return f"not found ({text})" if " " in text else "not found"  # not just the path again
    if isinstance(exc, IsADirectoryError):
        return "is a prefix (a folder), not an object"
    return text if name in text else f"{name}: {text}"


@contextlib.contextmanager
def store_errors(url: str, writing: bool = False) -> Iterator[None]:
    """Turn a store's errors in the block into one line naming `url` (BadInput, OutputError).

    Why here: botocore, aiohttp and fsspec raise errors of their own, which must not reach
    the user as a traceback.
    """
    try:
        yield
    except CleanupError:
        raise
    except Exception as exc:
        if writing:
            raise OutputError(url, OSError(describe(exc))) from None
        raise BadInput(f"{url}: cannot read: {describe(exc)}") from None


# Reading ------------------------------------------------------------------------------


class RemoteFile(io.RawIOBase):
    """Read an object as a binary stream whose errors are BadInput naming the URL."""

    def __init__(self, fh: Any, url: str) -> None:
        super().__init__()
        self.fh = fh
        self.url = url

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        with store_errors(self.url):
            return bool(self.fh.seekable())

    def read(self, size: int | None = -1) -> bytes:
        with store_errors(self.url):
            return bytes(self.fh.read(-1 if size is None else size))

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        with store_errors(self.url):
            return int(self.fh.seek(offset, whence))

    def tell(self) -> int:
        with store_errors(self.url):
            return int(self.fh.tell())

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.fh.close()
        super().close()


def open_input(url: str) -> BinaryIO:
    """Open an object for streaming reads (HTTP(S): one streamed GET; others: ranged blocks)."""
    fs, path = filesystem(url)
    block = 0 if protocol(url) in _READ_ONLY else _BLOCK  # 0: no Range requests needed
    with store_errors(url):
        fh = fs.open(path, "rb", block_size=block)
    return RemoteFile(fh, url)  # type: ignore[return-value]


def discover_remote(
    url: str,
    input_format: str | None,
    on_skip: Callable[[Any], None] | None,
    on_bad: Callable[[str], None] | None,
) -> Iterator[Any]:
    """Yield the Sources of a URL: one object, or every object under a prefix (a folder).

    A prefix (a URL ending in /, or one the store lists as a folder) is read like a local
    folder: objects in sorted order, files before subfolders, hidden names and unsupported
    types passed over and reported through `on_skip`. A prefix that cannot be listed goes
    to `on_bad` (which raises unless bad input is skipped); a named object that does not
    exist or cannot be reached is BadInput naming the URL.
    """
    from cleanup.io.discover import Skipped, Source, format_of, type_of

    fs, path = filesystem(url)
    if not url.endswith("/") and protocol(url) not in _READ_ONLY:
        with store_errors(url):
            info = fs.info(path)
        if info.get("type") != "directory":
            fmt = input_format or format_of(url) or "txt"
            yield Source(url, url.rsplit("/", 1)[0], url.rsplit("/", 1)[1], fmt)
            return
    elif protocol(url) in _READ_ONLY:
        fmt = input_format or format_of(url) or "txt"
        yield Source(url, url.rsplit("/", 1)[0], url.rsplit("/", 1)[1], fmt)
        return
    try:
        with store_errors(url):
            keys = fs.find(path)
    except BadInput as exc:
        if on_bad is None:
            raise
        on_bad(f"{exc} (listing the prefix)")
        return
    prefix = path.rstrip("/") + "/"
    base = url.rstrip("/") + "/"
    rels = [k[len(prefix) :] for k in keys if k.startswith(prefix) and not k.endswith("/")]
    for rel in sorted(rels, key=_walk_order):
        if any(part.startswith(".") for part in rel.split("/")):
            continue
        kind = format_of(rel)
        if kind is None:
            if on_skip:
                why = f"unsupported type {type_of(rel.rsplit('/', 1)[-1])}"
                on_skip(Skipped("type", base + rel, why))
            continue
        yield Source(base + rel, base, rel, input_format or kind)


def _walk_order(rel: str) -> tuple[tuple[int, str], ...]:
    """Return the key that sorts objects the way a local folder is walked: files first."""
    parts = rel.split("/")
    return (*((1, p) for p in parts[:-1]), (0, parts[-1]))


# The path check -------------------------------------------------------------------------


def check_target(
    shown: str, url: str, inputs: Sequence[str], is_dir: bool, force: bool, sharded: bool = False
) -> None:
    """Refuse an output URL that is or lies inside an input, or exists without --force.

    Runs before any input is read, so a wrong URL costs nothing: the existence of the object
    and of its bucket are asked of the store here. A prefix (`is_dir`) can only be written
    as a sharded output (`sharded`, --format): it must not hold an input either, and one
    that holds a manifest or parts already needs --force.
    """
    if protocol(url) in _READ_ONLY:
        raise UsageProblem(f"{shown}: {protocol(url)}:// is read-only; write to object storage")
    if is_dir and not sharded:
        raise UsageProblem(
            f"{shown}: a folder of text files cannot be written to a URL; give an object"
            " name ending in .jsonl, .jsonl.gz, .jsonl.zst or .parquet, or --format for"
            " sharded output"
        )
    target = normalise(url)
    for given in inputs:
        if not is_remote(given):
            continue
        source = normalise(given)
        if target == source:
            raise UsageProblem(f"{shown}: refusing to write over the input {given}")
        if inside(target, source):
            raise UsageProblem(f"{shown}: refusing to write inside the input prefix {given}")
        if is_dir and inside(source, target):
            raise UsageProblem(f"{shown}: refusing to write a prefix that holds the input {given}")
    _fs, path = filesystem(url)
    if protocol(url) in _BUCKETED and not exists(url, path.split("/", 1)[0]):
        raise OutputError(url, OSError(f"bucket {path.split('/', 1)[0]} does not exist"))
    if force:
        return
    if is_dir and (ours := [n for n in children(url) if n == MANIFEST or is_part_name(n)]):
        raise UsageProblem(
            f"{shown}: already holds a sharded output ({', '.join(ours[:2])}"
            f"{', ...' if len(ours) > 2 else ''}; use --force to replace it)"
        )
    if not is_dir and exists(url, path):
        raise UsageProblem(f"{shown}: already exists (use --force to replace it)")


def children(url: str) -> list[str]:
    """Return the names of the objects directly under a prefix URL, sorted ([] if none).

    Why not a cached listing: the store is asked afresh, since the run itself (or another)
    may have written under the prefix since the last listing.
    """
    fs, path = filesystem(url)
    path = path.rstrip("/")
    try:
        fs.invalidate_cache(path)
        entries = fs.ls(path, detail=True)
    except FileNotFoundError:
        return []
    except Exception as exc:
        raise OutputError(url, OSError(describe(exc))) from None
    files = [e["name"] for e in entries if e.get("type") != "directory"]
    return sorted(name.rstrip("/").rsplit("/", 1)[-1] for name in files)


def exists(url: str, path: str | None = None) -> bool:
    """Tell whether an object (or `path` in the URL's store) exists; other errors: OutputError.

    Why not fs.exists: it answers False for missing credentials or a lost connection too.
    """
    fs, own = filesystem(url)
    try:
        fs.info(own if path is None else path)
    except FileNotFoundError:
        return False
    except Exception as exc:
        raise OutputError(url, OSError(describe(exc))) from None
    return True


# Writing --------------------------------------------------------------------------------


class Staging:
    """Map a run's output URLs to local files in a temporary folder, built there first."""

    def __init__(self) -> None:
        self.folder: str | None = None
        self.urls: dict[str, str] = {}  # local path -> URL

    def local(self, location: str | None) -> str | None:
        """Return where to build `location` locally: itself unless it is a URL."""
        if not location or not is_remote(location):
            return location
        if self.folder is None:
            self.folder = tempfile.mkdtemp(prefix="cleanup-stage-")
        sub = os.path.join(self.folder, str(len(self.urls)))
        os.mkdir(sub)
        path = os.path.join(sub, location.rstrip("/").rsplit("/", 1)[-1])
        self.urls[path] = location
        return path + "/" if location.endswith("/") else path  # a prefix: a folder output

    def url_of(self, final: str | None) -> str | None:
        """Return the URL a staged file stands for, or None for a local file."""
        return self.urls.get(final) if final else None

    def remove(self) -> None:
        """Remove the temporary folder and everything in it."""
        if self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None


class RemotePublisher:
    """Put local files under remote keys as one unit, as far as object storage allows.

    `files` are (local file, URL) pairs published in order; `last` is committed after them
    (a manifest: its presence marks a complete output). `abort` undoes what `publish` did.
    """

    def __init__(
        self,
        files: Sequence[tuple[str, str]],
        last: tuple[str, str] | None = None,
        run_id: str = "",
    ) -> None:
        self.files = [*files, *([last] if last else [])]
        self.run_id = run_id or str(os.getpid())
        self.uploaded: list[str] = []  # temporary keys written
        self.aside: dict[str, str] = {}  # final URL -> where its earlier object was copied
        self.copied: list[str] = []  # final keys written

    def temporary(self, url: str) -> str:
        """Return the temporary key a file is uploaded to before it is copied into place."""
        return f"{url}{TMP_MARK}{self.run_id}"

    def publish(self) -> None:
        """Upload every file, copy each into place (the last one last), delete the temporaries.

        Raise OutputError naming the URL after undoing everything (see `abort`).
        """
        try:
            for local, url in self.files:
                self._run(url, "put_file", local, self.temporary(url))
                self.uploaded.append(url)
            for _local, url in self.files:
                self._set_aside(url)
                self._run(url, "copy", self.temporary(url), url)
                self.copied.append(url)
        except BaseException:
            self.abort()
            raise
        self._clean()

    def _run(self, url: str, method: str, *args: str) -> None:
        """Call the store's `method` on `args` (URLs as its paths); errors name `url`."""
        fs, _ = filesystem(url)
        paths = [a if not is_remote(a) else fs._strip_protocol(a) for a in args]
        with store_errors(url, writing=True):
            getattr(fs, method)(*paths)

    def _set_aside(self, url: str) -> None:
        if exists(url):
            old = f"{url}{OLD_MARK}{self.run_id}"
            self._run(url, "copy", url, old)
            self.aside[url] = old

    def abort(self) -> None:
        """Delete what this run copied and uploaded; put back the objects it replaced."""
        for url in reversed(self.copied):
            with contextlib.suppress(CleanupError):
                if url in self.aside:
                    self._run(url, "copy", self.aside[url], url)
                else:
                    self._run(url, "rm_file", url)
        self.copied.clear()
        self._clean()

    def _clean(self) -> None:
        """Delete the temporary keys and the copies set aside (best effort)."""
        for url in [self.temporary(u) for u in self.uploaded] + list(self.aside.values()):
            with contextlib.suppress(CleanupError):
                self._run(url, "rm_file", url)
        self.uploaded.clear()
        self.aside.clear()


class ShardPublisher(RemotePublisher):
    """Publish a sharded output under a prefix: parts, the manifest last, then prune.

    `files` (side files) go first, then the parts of `output` under `prefix`, then
    `_manifest.json` as the commit mark. Once the manifest is in place, the parts under the
    prefix that it does not list (an earlier, bigger run's, in any of our formats) are
    deleted. Why only then: until the new manifest is in place a failure puts the earlier
    output back whole (its manifest and parts); deleting its parts earlier would leave a
    manifest listing parts that are gone. Other objects under the prefix are left alone.
    """

    def __init__(
        self, files: Sequence[tuple[str, str]], output: ShardOutput, prefix: str, run_id: str = ""
    ) -> None:
        parts = [(os.path.join(output.folder, p.name), prefix + p.name) for p in output.parts]
        manifest = (
            os.path.join(output.folder, output.manifest_name),
            prefix + output.manifest_name,
        )
        super().__init__([*files, *parts], last=manifest, run_id=run_id)
        self.prefix = prefix
        self.listed = {part.name for part in output.parts}
        self.pruned: list[str] = []  # names of the stale parts deleted

    def publish(self) -> None:
        """Publish as RemotePublisher does, then delete the stale parts (see the class)."""
        super().publish()
        self.prune()

    def prune(self) -> None:
        """Delete the parts under the prefix the new manifest does not list (best effort).

        A part that cannot be deleted stays, unlisted: the manifest names the output's parts.
        """
        with contextlib.suppress(CleanupError):
            stale = [n for n in children(self.prefix) if is_part_name(n) and n not in self.listed]
            for name in stale:
                with contextlib.suppress(CleanupError):
                    self._run(self.prefix + name, "rm_file", self.prefix + name)
                    self.pruned.append(name)


def remote_publisher(files: Sequence[Any], staging: Staging, run_id: str) -> RemotePublisher | None:
    """Return the publisher of a run's files staged for URLs (None if none is).

    `files` are finished writers and side files (with `tmp` and `final`); a sharded writer,
    whose finished `output` is a ShardOutput, is published by a ShardPublisher, the others
    from their temporary files, in order.
    """
    uploads: list[tuple[str, str]] = []
    sharded: tuple[ShardOutput, str] | None = None
    for f in files:
        url = staging.url_of(f.final)
        if url is None:
            continue
        output = getattr(f, "output", None)
        if isinstance(output, ShardOutput):
            sharded = (output, url if url.endswith("/") else url + "/")
        else:
            uploads.append((f.tmp, url))
    if sharded is not None:
        return ShardPublisher(uploads, *sharded, run_id=run_id)
    return RemotePublisher(uploads, run_id=run_id) if uploads else None
