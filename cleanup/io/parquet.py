"""Read and write Parquet with pyarrow (the optional extra `cleanup[parquet]`).

Reading streams record batches one row group at a time, so memory does not grow with the
file: the text column is the text, the id column the id (else `PATH:ROW`, 1-based like
JSONL lines), every other column a carried field. Writing builds zstd-compressed row groups
under the temporary sibling name (the writer protocol of cleanup/io/writers.py), so the
path check and the atomic publish cover a Parquet output like any other. Carried columns
keep their Arrow types: a column read from a Parquet input is written with the type it had
there; other columns take the type pyarrow infers from the first row group's values.
pyarrow is imported inside functions only, so the rest of cleanup works without it.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from cleanup.document import Document
from cleanup.errors import BadInput, OutputError, UsageProblem
from cleanup.io.compression import too_large
from cleanup.io.decoding import clean_bad_chars
from cleanup.io.fieldpath import get_path, split_path
from cleanup.io.publish import fsync_path
from cleanup.io.readers import (
    MAX_DOCUMENT_BYTES,
    RawLine,
    RecordFormat,
    Source,
    record_document,
)
from cleanup.io.remote import is_remote, open_input
from cleanup.io.temporaries import remove_stale_temporaries, temporary_name
from cleanup.io.writers import TemporaryFile, record_of

BATCH_ROWS = 1024  # rows per record batch read
GROUP_ROWS = 10_000  # rows per row group written ...
GROUP_BYTES = 64 << 20  # ... or about this much text, whichever comes first


def require_pyarrow() -> Any:
    """Import pyarrow.parquet, or say in one line which extra installs it."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise UsageProblem("Parquet needs pyarrow: pip install 'cleanup[parquet]'") from None
    return pq


def _arrow_errors() -> tuple[type[BaseException], ...]:
    import pyarrow as pa

    return (pa.ArrowException, OSError, ValueError, TypeError, OverflowError)  # int > int64


def read_parquet(
    source: Source,
    fmt: RecordFormat,
    on_bad: Callable[[str], None],
    max_bytes: int = MAX_DOCUMENT_BYTES,
) -> Iterator[Document]:
    """Yield the documents of one Parquet file, row group by row group, in row order.

    A file pyarrow cannot open, or without the text column, raises BadInput naming the file;
    a row group that cannot be decoded names the row group; a row without a string text
    goes to `on_bad` (which raises, unless bad input is skipped), and so does one whose
    text is larger than `max_bytes` (a few KB of zstd can hold a text of gigabytes).
    """
    if source.path == "-":
        raise UsageProblem("Parquet cannot be read from standard input: give the file")
    pq = require_pyarrow()
    errors = _arrow_errors()
    try:
        pf = pq.ParquetFile(open_input(source.path) if is_remote(source.path) else source.path)
    except errors as exc:
        raise BadInput(f"{source.name}: not a readable Parquet file ({_short(exc)})") from None
    column = split_path(fmt.text_field)[0]
    names = pf.schema_arrow.names
    if column not in names:
        raise BadInput(f"{source.name}: Parquet file has no text column {column!r}")
    twice = sorted(name for name, n in Counter(names).items() if n > 1)
    if twice:  # a row as a record keeps one of them: the others would vanish unnoticed
        listed = ", ".join(map(repr, twice))
        raise BadInput(f"{source.name}: Parquet file has more than one column named {listed}")
    row = 0
    for group in range(pf.num_row_groups):
        batches = pf.iter_batches(batch_size=BATCH_ROWS, row_groups=[group])
        while True:
            try:
                batch = next(batches, None)
            except errors as exc:
                where = f"{source.name}: row group {group + 1}"
                raise BadInput(f"{where}: cannot be read ({_short(exc)})") from None
            if batch is None:
                break
            for record in _rows(batch):
                row += 1
                try:
                    if isinstance(record, str):
                        raise BadInput(f"{source.name}:{row}: {record}")
                    yield _document(record, row, source, fmt, max_bytes)
                except BadInput as exc:
                    on_bad(str(exc))


def _rows(batch: Any) -> list[dict[str, Any] | str]:
    """Return a record batch's rows as dicts; a row holding a value Python cannot hold (a
    date or timestamp past the year 9999, a duration past timedelta's range) as the words
    saying which column, for the caller to name the row."""
    errors = _arrow_errors()
    try:
        rows: list[dict[str, Any] | str] = batch.to_pylist()
        return rows
    except errors:
        pass
    rows = []
    for at in range(batch.num_rows):
        one = batch.slice(at, 1)
        try:
            rows.append(one.to_pylist()[0])
        except errors as exc:
            rows.append(_unheld(one, exc))
    return rows


def _unheld(one: Any, exc: BaseException) -> str:
    """Say which column of a one-row batch holds a value Python cannot hold."""
    for name, column in zip(one.schema.names, one.columns, strict=True):
        try:
            column.to_pylist()
        except _arrow_errors() as error:
            return f"column {name!r} holds a value Python cannot hold ({_short(error)})"
    return f"row holds a value Python cannot hold ({_short(exc)})"


def _short(exc: BaseException) -> str:
    """Return the first line of an exception's message: one line per problem."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _document(
    record: dict[str, Any], row: int, source: Source, fmt: RecordFormat, max_bytes: int
) -> Document:
    """Turn one row into a document, as parse_line does a JSONL record."""
    where = f"{source.name}:{row}"
    keys = split_path(fmt.text_field)
    text = get_path(record, keys)
    if not isinstance(text, str):
        problem = "has no" if text is None else "has a non-string"
        raise BadInput(f"{where}: row {problem} text field {fmt.text_field!r}")
    if len(text) > max_bytes // 4 and len(text.encode("utf-8", "surrogatepass")) > max_bytes:
        raise BadInput(f"{where}: text larger than {too_large(max_bytes)}")
    text, edits = clean_bad_chars(text, where)
    return record_document(record, keys, text, RawLine(b"", row, source), fmt, "parquet", edits)


class ParquetWriter(TemporaryFile):
    """Write documents as Parquet row groups under a temporary name; rename on publish.

    The schema is fixed by the first row group (Parquet files have one; the parts of a
    sharded output are given the first part's, cleanup/io/shards.py): a column that first
    appears later, or a value that does not fit its column's type, stops the run with one
    line naming the document. `meta` (what the steps moved out of the text) is written as
    JSON text, since its keys vary from document to document.
    """

    def __init__(self, final: str, text_field: str, id_field: str) -> None:
        require_pyarrow()
        self.final = os.path.abspath(final)
        remove_stale_temporaries(self.final)
        self.tmp = temporary_name(self.final)
        self.text_field = text_field
        self.id_field = id_field
        self.rows: list[dict[str, Any]] = []
        self.sources: list[str] = []
        self.size = 0
        self.schema: Any = None
        self.hints: dict[str, Any] = {}  # input file -> its Arrow schema (None: unreadable)
        self.group_bytes = GROUP_BYTES  # a sharded output's byte-sized parts set it lower
        self.writer: Any = None
        try:
            self.fh = open(self.tmp, "wb")  # noqa: SIM115 - closed by finish/abort
        except OSError as exc:
            raise OutputError(self.final, exc) from None

    def encoder(self) -> None:
        """Return None: rows are encoded as each row group is written."""

    def write(self, doc: Document) -> None:
        """Add one document's row; write a row group when enough rows or text are buffered."""
        record = record_of(doc, self.text_field, self.id_field)
        if doc.meta and record.get("meta") is doc.meta:  # not an input's own `meta` field
            record["meta"] = json.dumps(record["meta"], ensure_ascii=False, default=str)
        self.rows.append(record)
        self.sources.append(doc.source or doc.id)
        if doc.format == "parquet" and doc.source:
            self._hint(doc.source.rsplit(":", 1)[0])
        self.size += len(doc.text)
        if len(self.rows) >= GROUP_ROWS or self.size >= self.group_bytes:
            self._flush()

    def _hint(self, path: str) -> None:
        """Remember the Arrow schema of a Parquet input, so its columns keep their types."""
        if path in self.hints:
            return
        pq = require_pyarrow()
        try:
            self.hints[path] = pq.read_schema(path)
        except _arrow_errors():
            self.hints[path] = None

    def _flush(self) -> None:
        if not self.rows:
            return
        import pyarrow as pa

        if self.schema is None:
            self.schema = self._first_schema()
        known = set(self.schema.names)
        for record, source in zip(self.rows, self.sources, strict=True):
            extra = next((k for k in record if k not in known), None)
            if extra is not None:
                raise BadInput(
                    f"{source}: field {extra!r} is not among the Parquet columns set by the"
                    " first row group (a Parquet file has one schema)"
                )
        columns = []
        for fld in self.schema:
            values = [r.get(fld.name) for r in self.rows]
            try:
                columns.append(pa.array(values, type=fld.type))
            except _arrow_errors() as exc:
                source = self._culprit(fld, values)
                raise BadInput(
                    f"{source}: field {fld.name!r} does not fit its Parquet column type"
                    f" {fld.type} ({_short(exc)})"
                ) from None
        table = pa.Table.from_arrays(columns, schema=self.schema)
        try:
            if self.writer is None:
                self.writer = require_pyarrow().ParquetWriter(
                    self.fh, self.schema, compression="zstd"
                )
            self.writer.write_table(table, row_group_size=len(self.rows))
        except OSError as exc:
            raise OutputError(self.final, exc) from None
        except _arrow_errors() as exc:  # a type Parquet cannot store (a struct with no field)
            raise BadInput(
                f"{self.sources[0]}: the row group from this record cannot be written as"
                f" Parquet ({_short(exc)})"
            ) from None
        self.rows, self.sources, self.size = [], [], 0

    def _culprit(self, fld: Any, values: list[Any]) -> str:
        """Return the source of the first value that does not fit a column's type."""
        import pyarrow as pa

        for value, source in zip(values, self.sources, strict=True):
            try:
                pa.array([value], type=fld.type)
            except _arrow_errors():
                return source
        return self.sources[0]

    def _first_schema(self) -> Any:
        """Return the file's schema: the inputs' types where known, else inferred from values."""
        import pyarrow as pa

        names: dict[str, None] = {}
        for record in self.rows:
            names.update(dict.fromkeys(record))
        fields = []
        for name in names:
            values = [r.get(name) for r in self.rows]
            fields.append(pa.field(name, self._type_of(name, values)))
        return pa.schema(fields)

    def _type_of(self, name: str, values: list[Any]) -> Any:
        import pyarrow as pa

        for schema in self.hints.values():
            if schema is not None and name in schema.names:
                hinted = schema.field(name).type
                with contextlib.suppress(*_arrow_errors()):
                    pa.array(values, type=hinted)
                    return hinted
        try:
            inferred = pa.array(values).type
        except _arrow_errors() as exc:
            at = next(i for i, v in enumerate(values) if v is not None)
            try:
                first = pa.array([values[at]]).type
            except _arrow_errors():  # the value alone has no Arrow type (a mixed list)
                raise BadInput(
                    f"{self.sources[at]}: field {name!r} holds a value Parquet cannot type"
                    f" ({_short(exc)})"
                ) from None
            source = self._culprit(pa.field(name, first), values)
            raise BadInput(
                f"{source}: field {name!r} does not fit the Parquet column type {first} of the"
                f" rows before it ({_short(exc)})"
            ) from None
        return pa.string() if pa.types.is_null(inferred) else inferred

    def finish(self) -> None:
        """Write the last row group, close the file and flush it to disk (not in place yet)."""
        self._flush()
        try:
            if self.writer is None:  # no document: an empty file with the text and id columns
                import pyarrow as pa

                names = dict.fromkeys([self.id_field, self.text_field])
                schema = pa.schema([pa.field(n, pa.string()) for n in names])
                self.writer = require_pyarrow().ParquetWriter(self.fh, schema, compression="zstd")
            self.writer.close()
            self.fh.close()
            fsync_path(self.tmp)
        except OSError as exc:
            raise OutputError(self.final, exc) from None

    def abort(self) -> None:
        """Close and remove the temporary file."""
        with contextlib.suppress(Exception):
            if self.writer is not None:
                self.writer.close()
        with contextlib.suppress(OSError):
            self.fh.close()
        with contextlib.suppress(FileNotFoundError):
            os.remove(self.tmp)
