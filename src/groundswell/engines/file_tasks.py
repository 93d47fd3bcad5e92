"""One input file, read inside a Spark task by the very pipeline that feeds the DuckDB store.

The task runs `groundswell.ingest.ingest` on its file with a store that keeps nothing: its
`write_batch` hands each batch back as Arrow record batches instead of writing it. Detection,
decompression, chunking, the adapters, quarantine and the summary counts are therefore the
same code on both engines, and only the deduplication (done later, in SQL) differs in where
it runs. Nothing here imports pyspark, so it runs (and is tested) without Spark.

Every output row carries `_pos`, the copy's place in the input order: the file's index in
the sorted input list in the high 32 bits, the row's order within the file in the low ones.
"Later copy wins" then means the same as in the DuckDB store, which reads files in that order.
It also carries `_batch`, numbered the same way: the store settles duplicates within one
write batch differently from duplicates across batches, and the lake follows it exactly.
"""

from __future__ import annotations

import queue
import threading
from datetime import datetime
from typing import Any, Iterator

import orjson
import pyarrow as pa
import pyarrow.compute  # noqa: F401  (pa.compute)

from ..formats.base import Delete
from ..ingest import IngestOptions, ingest
from ..model import ARROW_SCHEMA
from ..store.duckdb_store import BatchCounts, Quarantined
from .lake import table_schemas

POSITION_BITS = 32
QUEUE_DEPTH = 4
WARNINGS_KEPT = 20
# What a file task emitted, so the driver needs no extra pass to know it.
FILE_COUNTS = ("file_index", "post_rows", "collected_rows", "tombstone_rows", "quarantine_rows")


def _struct(table: str, drop: tuple[str, ...] = ()) -> pa.StructType:
    return pa.struct([f for f in table_schemas()[table] if f.name not in drop])


def parsed_schema() -> pa.Schema:
    """What a file task yields: each row holds exactly one of a post, a quarantined record,
    a deletion, or the file's own status (its `files` row plus its summary as JSON)."""
    file_fields = [f for f in table_schemas()["files"] if f.name not in ("run_id", "finished_at", "posts")]
    return pa.schema([
        pa.field("_pos", pa.int64()),
        pa.field("_batch", pa.int64()),
        pa.field("post", pa.struct(list(ARROW_SCHEMA))),
        pa.field("quarantine", _struct("quarantine", ("recorded_at",))),
        pa.field("tombstone", _struct("tombstones", ("recorded_at",))),
        pa.field("file", pa.struct([*file_fields, *[pa.field(name, pa.int64()) for name in FILE_COUNTS],
                                    pa.field("summary", pa.string())])),
    ])


class _HandBack:
    """A store for one file that keeps nothing: every write goes back to the task as rows."""

    def __init__(self, done: dict[str, str], out: queue.Queue):
        self.done, self.out = done, out

    def start_run(self) -> int:
        return 0

    def finish_run(self, run_id: int, status: str, summary: dict[str, Any]) -> None:
        pass

    def file_fingerprint(self, path: str) -> str | None:
        return self.done.get(path)

    def write_batch(self, posts: pa.Table, quarantined: Any = (), deletes: Any = (), source_file: str = "-",
                    bookkeeping: None = None) -> BatchCounts:
        """`bookkeeping` is always None here: the pipeline keeps provenance only in a Store."""
        self.out.put(("batch", posts, list(quarantined), list(deletes), source_file))
        return BatchCounts()

    def mark_file(self, path: str, fingerprint: str | None, source_format: str, status: str,
                  records: int, posts: int, run_id: int, stale_before: datetime | None = None) -> None:
        self.out.put(("file", {"path": path, "fingerprint": fingerprint, "source_format": source_format,
                               "status": status, "records": records}))


class _Rows:
    """Builds the task's output batches for one file, numbering rows in input order."""

    def __init__(self, index: int, ingested_at: datetime):
        self.schema = parsed_schema()
        self.base = index << POSITION_BITS
        self.index = index
        self.seq = 0
        self.batch = self.base
        self.ingested_at = ingested_at
        self.counts = dict.fromkeys(FILE_COUNTS[1:], 0)

    def _positions(self, n: int) -> pa.Array:
        start = self.base + self.seq
        self.seq += n
        return pa.array(range(start, start + n), pa.int64())

    def _record_batch(self, column: str, values: pa.StructArray) -> pa.RecordBatch:
        n = len(values)
        arrays = [self._positions(n), pa.array([self.batch] * n, pa.int64())]
        for field in list(self.schema)[2:]:
            arrays.append(values if field.name == column else pa.nulls(n, field.type))
        return pa.RecordBatch.from_arrays(arrays, schema=self.schema)

    def posts(self, table: pa.Table) -> pa.RecordBatch:
        stamped = table.set_column(table.schema.get_field_index("ingested_at"), "ingested_at",
                                   pa.array([self.ingested_at] * table.num_rows, pa.timestamp("us")))
        columns = [column.combine_chunks() for column in stamped.columns]
        self.counts["post_rows"] += table.num_rows
        self.counts["collected_rows"] += int(pa.compute.sum(table.column("collected").cast(pa.int64())).as_py() or 0)
        return self._record_batch("post", pa.StructArray.from_arrays(columns, fields=list(ARROW_SCHEMA)))

    def quarantined(self, rows: list[Quarantined]) -> pa.RecordBatch:
        kind = self.schema.field("quarantine").type
        self.counts["quarantine_rows"] += len(rows)
        values = [{"source_file": q.source_file, "source_line": q.source_line, "source_format": q.source_format,
                   "reason": q.reason, "raw": q.raw} for q in rows]
        return self._record_batch("quarantine", pa.array(values, kind))

    def deletes(self, rows: list[Delete], source_file: str) -> pa.RecordBatch:
        kind = self.schema.field("tombstone").type
        self.counts["tombstone_rows"] += len(rows)
        values = [{"platform": d.platform, "target_id": d.target_id, "is_author": d.author, "deleted_at": d.deleted_at,
                   "reason": d.reason, "source_file": source_file} for d in rows]
        return self._record_batch("tombstone", pa.array(values, kind))

    def status(self, row: dict[str, Any], summary: dict[str, Any]) -> pa.RecordBatch:
        kind = self.schema.field("file").type
        value = {**row, **self.counts, "file_index": self.index, "summary": orjson.dumps(summary).decode()}
        return self._record_batch("file", pa.array([value], kind))


def parse_file(index: int, path: str, options: IngestOptions, done: dict[str, str],
               ingested_at: datetime) -> Iterator[pa.RecordBatch]:
    """Every row one input file contributes, streamed: memory holds a few batches, not the file."""
    out: queue.Queue = queue.Queue(maxsize=QUEUE_DEPTH)
    store = _HandBack(done, out)
    warnings: list[str] = []

    def run() -> None:
        try:
            summary = ingest([path], store, options, warn=lambda m: warnings.append(m) if len(warnings) < WARNINGS_KEPT else None)
            out.put(("done", summary.as_dict()))
        except BaseException as exc:  # raised again in the task
            out.put(("error", exc))

    threading.Thread(target=run, name="groundswell-file", daemon=True).start()
    rows = _Rows(index, ingested_at)
    status: dict[str, Any] | None = None
    while True:
        item = out.get()
        if item[0] == "batch":
            yield from _batches(rows, *item[1:])
        elif item[0] == "file":
            status = item[1]
        elif item[0] == "error":
            raise item[1]
        else:
            summary = {**item[1], "warnings": warnings}
            yield rows.status(status or _unfinished(path, summary), summary)
            return


def _batches(rows: _Rows, posts: pa.Table, quarantined: list[Quarantined], deletes: list[Delete],
             source_file: str) -> Iterator[pa.RecordBatch]:
    """In the store's order within a batch: deletions first, then posts, then quarantine."""
    rows.batch += 1
    if deletes:
        yield rows.deletes(deletes, source_file)
    if posts.num_rows:
        yield rows.posts(posts)
    if quarantined:
        yield rows.quarantined(quarantined)


def _unfinished(path: str, summary: dict[str, Any]) -> dict[str, Any]:
    """A file that failed, or was skipped as already ingested, has no `files` row of its own."""
    status = "skipped" if summary.get("files_already_ingested") else "error"
    return {"path": path, "fingerprint": None, "source_format": None, "status": status, "records": summary.get("read", 0)}


def parse_partition(batches: Iterator[pa.RecordBatch], paths: list[str], options: IngestOptions,
                    done: dict[str, str], ingested_at: datetime) -> Iterator[pa.RecordBatch]:
    """The body of the Spark task: its input rows are file indexes into `paths`."""
    for batch in batches:
        for index in batch.column(0).to_pylist():
            yield from parse_file(int(index), paths[int(index)], options, done, ingested_at)
