"""One file's share of an ingest: its chunks, its results in order, its atomic batches.

The pipeline (pipeline.py) keeps chunks of several files in flight at once, so a file's
results arrive while the next file is already being read; everything that belongs to one
file (its counts, its warnings, its pending batch, its mark in the store) lives here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterator

import pyarrow as pa

from ..errors import GroundswellError
from ..formats.base import resolve_local_deletes
from ..model import ARROW_SCHEMA
from ..sources import Source
from ..store.duckdb_store import Store
from .reading import Record, chunked
from .worker import WARN_LINES_SHOWN, Chunk, ChunkResult

if TYPE_CHECKING:
    from .pipeline import _Runner


class FileIngest:
    """Chunks go out in input order and their results come back in that order, in atomic batches."""

    def __init__(self, runner: "_Runner", source: Source, format_name: str, adapter_options: dict[str, Any],
                 stamp: str | None):
        self.runner, self.source, self.format_name = runner, source, format_name
        self.adapter_options, self.stamp = adapter_options, stamp
        self.pending: list[ChunkResult] = []
        self.pending_rows = 0
        self.records = 0
        self.rejected = 0
        self.first_reason: str | None = None
        self.posts = 0
        self.warnings: dict[str, list[int]] = {}
        self.local_ids: dict[str, str] = {}  # the file's streamed statuses, for its local-id deletes
        self.failed = False  # given up part-way: its later chunks and its end are passed over

    def chunks(self, records: Iterator[Record]) -> Iterator[Chunk]:
        for batch in chunked(records, self.format_name, self.runner.options.chunk_records):
            yield Chunk(self.source.label, self.format_name, self.adapter_options, batch, self.runner.ingested_at)

    def take(self, result: ChunkResult) -> None:
        """Count a chunk's result, and hand a full batch to the writer."""
        summary = self.runner.summary
        summary.read += result.records
        self.records += result.records
        self.rejected += len(result.quarantined)
        if result.quarantined and self.first_reason is None:
            self.first_reason = result.quarantined[0].reason
        summary.skipped += sum(result.skipped.values())
        summary.add_counts(summary.skipped_reasons, result.skipped)
        summary.add_counts(summary.notes, result.counters)
        if result.per_record:
            summary.add_counts(summary.per_record, {self.format_name: result.per_record})
        for message, lines in result.warnings.items():
            self.warnings.setdefault(message, []).extend(lines)
        if result.local_ids or self.local_ids:
            self.local_ids.update(result.local_ids)
            result.deletes = resolve_local_deletes(result.deletes, self.local_ids)
        self.pending.append(result)
        self.pending_rows += result.posts.num_rows + len(result.quarantined) + len(result.deletes)
        self.runner.progress(result.records)
        if self.pending_rows >= self.runner.options.batch_rows:
            self.flush()

    def close(self) -> None:
        """The rest of the batch and the warnings: also when reading failed or was interrupted,
        so what was read is kept."""
        self.flush()
        self.report_warnings()

    def mark(self) -> None:
        """After the last result and close(): the file is marked ingested, unless nothing in it could be read."""
        if self.records and self.rejected == self.records:
            raise GroundswellError(self._nothing_readable())
        runner = self.runner
        runner.writer.submit(lambda: runner.store.mark_file(
            self.source.label, self.stamp, self.format_name, "done", self.records, self.posts, runner.run_id,
            stale_before=runner.ingested_at))

    def _nothing_readable(self) -> str:
        """Not marked ingested, so the corrected command reads it again without --force."""
        return (f"{self.source.label}: none of its {self.records:,} records could be read (first reason: "
                f"{self.first_reason}); the file is not marked as ingested, so the corrected command reads it again")

    def flush(self) -> None:
        if not self.pending:
            return
        results, self.pending, self.pending_rows = self.pending, [], 0
        self.runner.writer.submit(lambda: self._write(results))

    def _write(self, results: list[ChunkResult]) -> None:
        """Runs in the writer thread, in order: one atomic batch, then its counts."""
        posts = pa.concat_tables([r.posts for r in results]) if results else ARROW_SCHEMA.empty_table()
        quarantined = [q for r in results for q in r.quarantined]
        deletes = [d for r in results for d in r.deletes]
        store = self.runner.store
        limits = [n for r in results for n in r.limits]
        keeps_provenance = isinstance(store, Store)
        bookkeeping = _provenance(self.runner.collection, posts, limits, self.source.label) if keeps_provenance else None
        counts = store.write_batch(posts, quarantined, deletes, self.source.label, bookkeeping=bookkeeping)
        if limits and not keeps_provenance:
            self.runner.warn(f"{self.source.label}: {len(limits)} stream limit notices not kept (a Spark lake holds "
                             "no limit notices yet; ingest into a DuckDB store to estimate from them)")
        summary = self.runner.summary
        summary.add_counts(summary.notes, {"limit_notices": sum(len(r.limits) for r in results)} if any(r.limits for r in results) else {})
        summary.ingested += counts.new
        summary.duplicate += counts.duplicate
        summary.referenced += counts.referenced
        summary.forgotten += counts.tombstoned
        summary.rejected += len(quarantined)
        summary.deleted += len(deletes)
        self.posts += counts.new
        for q in quarantined[:WARN_LINES_SHOWN]:
            self.runner.warn(f"{q.source_file}:{q.source_line}: rejected: {q.reason}")
        if len(quarantined) > WARN_LINES_SHOWN:
            self.runner.warn(f"{self.source.label}: {len(quarantined) - WARN_LINES_SHOWN} more records rejected (see the quarantine table)")

    def report_warnings(self) -> None:
        for message, lines in self.warnings.items():
            shown = ", ".join(str(n) for n in lines[:WARN_LINES_SHOWN])
            more = f" and {len(lines) - WARN_LINES_SHOWN} more" if len(lines) > WARN_LINES_SHOWN else ""
            self.runner.warn(f"{self.source.label}:{shown}{more}: {message}")
        self.warnings = {}


def _provenance(collection: str, posts: pa.Table, limits: list, source_file: str) -> Callable[[Any], None]:
    """Which collection saw each post, and the stream's limit notices (see store/provenance.py),
    written in the batch's own transaction. A sink without these tables (Spark's per-file
    hand-back) keeps the posts only."""
    from ..store import provenance

    def record(con: Any) -> None:
        provenance.record_collection(con, collection, posts)
        provenance.record_limits(con, collection, source_file, limits)

    return record
