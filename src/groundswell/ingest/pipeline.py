"""The ingest pipeline: sources → detection → parallel parsing → atomic batched writes.

Reading and writing stay in this process; parsing runs in worker processes on bounded
chunks, so memory stays flat whatever the input size, and results come back in input
order, so "the later copy wins" means the same thing on every run.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import itertools
import os
import sys
import zlib
from collections import deque
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing import get_context
from typing import Any, Callable, Iterator, Protocol

import pyarrow as pa

from ..errors import GroundswellError, UnknownFormat
from ..formats.base import resolve_local_deletes
from ..formats.detect import SAMPLE_LINES, choose_adapter, container_of, sample_jsonl
from ..formats.layouts import resolve as resolve_layout
from ..model import ARROW_SCHEMA
from ..sources import PeekableStream, Source, expand, json_array_records, open_binary, table_records
from ..store.duckdb_store import Store, StoreWriteError
from . import columnar
from .summary import FileError, Summary
from .worker import WARN_LINES_SHOWN, Chunk, ChunkResult, parse_chunk
from .writer import Writer

PARALLEL_MIN_BYTES = 8 << 20
# A chunk holds at most this much raw JSON: v2 pages run to ~1 MB a line, so a count alone
# would send hundreds of megabytes to a worker at once.
CHUNK_BYTES = 4 << 20
# What reading a damaged file can raise; each becomes a one-line error for that file.
READ_ERRORS = (EOFError, zlib.error, OSError, UnicodeDecodeError, csv.Error, GroundswellError)
FINGERPRINT_BYTES = 1 << 16


@dataclass
class IngestOptions:
    format: str | None = None
    adapter_options: dict[str, Any] = field(default_factory=dict)
    workers: int = 0  # 0: one per core
    force: bool = False
    batch_rows: int = 250_000  # posts per commit (files' batches share one until it is full)
    chunk_records: int = 2_000
    collection: str | None = None  # None: this ingest command's own collection, `ingest-<run>`


Warn = Callable[[str], None]


class Progress(Protocol):
    """Told the input's size on disk once (`total_bytes`), then records as chunks are read, and
    each file's size on disk (`bytes_done`) when it is finished, for a rate and an ETA."""

    def __call__(self, records: int, *, total_bytes: int | None = None, bytes_done: int = 0) -> None: ...


def _no_progress(records: int, *, total_bytes: int | None = None, bytes_done: int = 0) -> None:
    return None


def ingest(paths: list[str], store: Store, options: IngestOptions | None = None,
           warn: Warn = lambda message: None, progress: Progress = _no_progress,
           note: Warn | None = None) -> Summary:
    """Ingest every source; one file's failure is reported and the others go on. `note`
    hears what is not a warning (the layout a table is read as); by default, `warn` does."""
    options = options or IngestOptions()
    sources = expand(paths)
    summary = Summary()
    run_id = store.start_run()
    runner = _Runner(store, options, summary, run_id, warn, progress, _wants_parallel(sources, options))
    runner.note = note or warn
    progress(0, total_bytes=sum(_size(s) for s in sources))
    status = "interrupted"
    try:
        for source in sources:
            runner.ingest_source(source)
        runner.writer.drain()
        status = "done"
    except KeyboardInterrupt:
        summary.interrupted = True
        raise
    finally:
        runner.close()
        _finish_run(store, run_id, status, summary)
    return summary


def _size(source: Source) -> int:
    try:
        return 0 if source.is_stdin else os.path.getsize(source.path)
    except OSError:
        return 0


def _finish_run(store: Store, run_id: int, status: str, summary: Summary) -> None:
    """Record the run; when the store already failed (disk full), the first error is the one to show."""
    failing = sys.exc_info()[1] is not None
    try:
        store.finish_run(run_id, status, summary.as_dict())
    except GroundswellError:
        if not failing:
            raise


def _wants_parallel(sources: list[Source], options: IngestOptions) -> bool:
    """Worker processes cost a start-up second; use them when asked, or when input is large."""
    if options.workers:
        return options.workers > 1
    total = sum(os.path.getsize(s.path) for s in sources if not s.is_stdin)
    return any(s.is_stdin for s in sources) or total >= PARALLEL_MIN_BYTES


def fingerprint(path: str) -> str:
    """Size plus a hash of the first and last 64 KiB: cheap, and changes when content does."""
    size = os.path.getsize(path)
    digest = hashlib.blake2b(str(size).encode(), digest_size=16)
    with open(path, "rb") as handle:
        digest.update(handle.read(FINGERPRINT_BYTES))
        if size > FINGERPRINT_BYTES:
            handle.seek(max(FINGERPRINT_BYTES, size - FINGERPRINT_BYTES))
            digest.update(handle.read())
    return digest.hexdigest()


class _Runner:
    def __init__(self, store: Store, options: IngestOptions, summary: Summary, run_id: int,
                 warn: Warn, progress: Progress, parallel: bool):
        self.store, self.options, self.summary, self.run_id = store, options, summary, run_id
        self.warn, self.progress = warn, progress
        self.ingested_at = datetime.utcnow()
        self._executor: Executor | None = None
        self._parallel = parallel
        self.writer = Writer()
        if isinstance(store, Store):
            store.group_commits(options.batch_rows)
        self.collection = options.collection or f"ingest-{run_id}"

    def close(self) -> None:
        """Finish the submitted writes and commit them: an interrupted ingest keeps what it read."""
        self.writer.close()
        if isinstance(self.store, Store):
            self.store.end_group_commits()
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)

    def executor(self) -> Executor | None:
        if self._parallel and self._executor is None:
            workers = self.options.workers or os.cpu_count() or 1
            self._executor = ProcessPoolExecutor(max_workers=workers, mp_context=get_context("forkserver"))
        return self._executor

    def ingest_source(self, source: Source) -> None:
        self.summary.files += 1
        stamp = None if source.is_stdin else fingerprint(source.path)
        if stamp and not self.options.force and self.store.file_fingerprint(source.path) == stamp:
            self.summary.files_already_ingested += 1
            self.warn(f"{source.label}: already ingested, skipped (use --force to read it again)")
            return
        try:
            self._read_file(source, stamp)
            self.progress(0, bytes_done=_size(source))
        except StoreWriteError:
            raise  # not this file's fault: no other file can be written either
        except UnknownFormat as exc:
            self._file_error(source, str(exc))
        except GroundswellError as exc:
            self._file_error(source, str(exc) if str(exc).startswith(source.label) else f"{source.label}: {exc}")
        except (EOFError, zlib.error, gzip.BadGzipFile, OSError) as exc:
            self._file_error(source, f"{source.label}: truncated or corrupt data ({_reason(exc)}); the records before it were kept")
        except UnicodeDecodeError as exc:
            self._file_error(source, f"{source.label}: not UTF-8 text ({exc.reason} at byte {exc.start}); re-encode it as UTF-8")
        except csv.Error as exc:
            self._file_error(source, f"{source.label}: unreadable table ({exc})")

    def _file_error(self, source: Source, message: str) -> None:
        self.writer.drain()
        self.summary.file_errors.append(FileError(source.label, message))
        self.warn(message)

    def _read_file(self, source: Source, stamp: str | None) -> None:
        stream = PeekableStream(open_binary(source))
        container = container_of(stream.head)
        if container == "empty":
            self.warn(f"{source.label}: empty, nothing to ingest")
            self.writer.submit(lambda: self.store.mark_file(source.label, stamp, "", "done", 0, 0, self.run_id))
            return
        records, sample = _records_and_sample(stream, container, self.options)
        name = choose_adapter(sample, source.label, self.options.format or _table_default(container))
        adapter_options = self.options.adapter_options
        if name == "table":
            layout = resolve_layout(_header(sample), adapter_options, source.label)
            self.note(f"{source.label}: {layout.describe()}")
            self.summary.layouts[source.label] = layout.name
            adapter_options = layout.adapter_options(adapter_options)
        self.summary.add_counts(self.summary.formats, {name: 1})
        _FileIngest(self, source, name, adapter_options).run(records, stamp)


def _header(sample: list[Any]) -> list[str]:
    """A table's columns: a CSV's header, or every key of the first flat JSON records."""
    columns: dict[str, None] = {}
    for record in sample:
        if isinstance(record, dict):
            columns.update((key, None) for key in record if isinstance(key, str))
    return list(columns)


def _table_default(container: str) -> str | None:
    return "table" if container == "table" else None


def _records_and_sample(stream: PeekableStream, container: str, options: IngestOptions) -> tuple[Iterator[tuple[int, Any]], list[Any]]:
    if container == "jsonl":
        numbered = ((n, line) for n, line in enumerate(stream.lines(), start=1) if line.strip())
        first = list(itertools.islice(numbered, SAMPLE_LINES))  # lines may be far longer than the head
        return itertools.chain(first, numbered), sample_jsonl([line for _, line in first])
    if container == "json":
        elements = list(json_array_records(stream))
        return iter(elements), [value for _, value in elements[:5]]
    rows = table_records(stream, options.adapter_options.get("delimiter"))
    first = list(itertools.islice(rows, 5))
    return itertools.chain(first, rows), [row for _, row in first]


class _FileIngest:
    """One file's records, chunked to workers and written back in order, in atomic batches."""

    def __init__(self, runner: _Runner, source: Source, format_name: str, adapter_options: dict[str, Any]):
        self.runner, self.source, self.format_name = runner, source, format_name
        self.adapter_options = adapter_options
        self.pending: list[ChunkResult] = []
        self.pending_rows = 0
        self.records = 0
        self.rejected = 0
        self.first_reason: str | None = None
        self.posts = 0
        self.warnings: dict[str, list[int]] = {}
        self.local_ids: dict[str, str] = {}  # the file's streamed statuses, for its local-id deletes

    def run(self, records: Iterator[tuple[int, Any]], stamp: str | None) -> None:
        try:
            for result in self._results(records):
                self._take(result)
                if self.pending_rows >= self.runner.options.batch_rows:
                    self._flush()
        finally:
            self._flush()
            self._report_warnings()
        if self.records and self.rejected == self.records:
            raise GroundswellError(self._nothing_readable())
        runner = self.runner
        runner.writer.submit(lambda: runner.store.mark_file(
            self.source.label, stamp, self.format_name, "done", self.records, self.posts, runner.run_id,
            stale_before=runner.ingested_at))

    def _nothing_readable(self) -> str:
        """Not marked ingested, so the corrected command reads it again without --force."""
        return (f"{self.source.label}: none of its {self.records:,} records could be read (first reason: "
                f"{self.first_reason}); the file is not marked as ingested, so the corrected command reads it again")

    def _chunks(self, records: Iterator[tuple[int, Any]]) -> Iterator[Chunk]:
        """Bounded chunks; when reading fails part-way, the records before the failure still go on."""
        size, most_bytes = columnar.chunk_limits(self.format_name, self.runner.options.chunk_records, CHUNK_BYTES)
        batch: list[tuple[int, Any]] = []
        failure: BaseException | None = None
        held = 0
        try:
            for record in records:
                batch.append(record)
                raw = record[1]
                held += len(raw) if isinstance(raw, bytes) else 0
                if len(batch) >= size or held >= most_bytes:
                    yield self._chunk(batch)
                    batch, held = [], 0
        except READ_ERRORS as exc:
            failure = exc
        if batch:
            yield self._chunk(batch)
        if failure is not None:
            raise failure

    def _chunk(self, batch: list[tuple[int, Any]]) -> Chunk:
        return Chunk(self.source.label, self.format_name, self.adapter_options, batch, self.runner.ingested_at)

    def _results(self, records: Iterator[tuple[int, Any]]) -> Iterator[ChunkResult]:
        executor = self.runner.executor()
        if executor is None:
            for chunk in self._chunks(records):
                yield parse_chunk(chunk)
            return
        in_flight: deque[Future[ChunkResult]] = deque()
        limit = 2 * (self.runner.options.workers or os.cpu_count() or 1) + 1
        for chunk in self._chunks(records):
            in_flight.append(executor.submit(parse_chunk, chunk))
            if len(in_flight) >= limit:
                yield in_flight.popleft().result()
        while in_flight:
            yield in_flight.popleft().result()

    def _take(self, result: ChunkResult) -> None:
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

    def _flush(self) -> None:
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

    def _report_warnings(self) -> None:
        for message, lines in self.warnings.items():
            shown = ", ".join(str(n) for n in lines[:WARN_LINES_SHOWN])
            more = f" and {len(lines) - WARN_LINES_SHOWN} more" if len(lines) > WARN_LINES_SHOWN else ""
            self.runner.warn(f"{self.source.label}:{shown}{more}: {message}")


def _provenance(collection: str, posts: pa.Table, limits: list, source_file: str) -> Callable[[Any], None]:
    """Which collection saw each post, and the stream's limit notices (see store/provenance.py),
    written in the batch's own transaction. A sink without these tables (Spark's per-file
    hand-back) keeps the posts only."""
    from ..store import provenance

    def record(con: Any) -> None:
        provenance.record_collection(con, collection, posts)
        provenance.record_limits(con, collection, source_file, limits)

    return record


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:120]
