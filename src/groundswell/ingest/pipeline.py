"""The ingest pipeline: sources → detection → parallel parsing → atomic batched writes.

Reading and writing stay in this process; parsing runs in worker processes on bounded
chunks, so memory stays flat whatever the input size, and results come back in input
order, so "the later copy wins" means the same thing on every run.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import os
import sys
import zlib
from collections import deque
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing import get_context
from typing import Any, Callable, Iterator, Protocol

from ..errors import GroundswellError, UnknownFormat
from ..formats.detect import choose_adapter, container_of
from ..formats.layouts import resolve as resolve_layout
from ..sources import PeekableStream, Source, expand, open_binary
from ..store.duckdb_store import Store, StoreWriteError
from .file_ingest import FileIngest
from .reading import Record, header, records_and_sample, table_default
from .summary import FileError, Summary
from .worker import ChunkResult, FileTask, Work, parse
from .writer import Writer

PARALLEL_MIN_BYTES = 8 << 20
# A file up to this size on disk is read whole by a worker: its parsed posts (at most a few
# times its decompressed size) come back in one piece, so in-flight memory stays bounded.
WHOLE_FILE_BYTES = 8 << 20
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
        runner.run(sources)
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
    """Reads files in order and keeps chunks of several files in flight at once: with many small
    files (a scrape of one file a day), waiting for each file's last chunk before reading the
    next would leave all but one worker idle at every file's end."""

    def __init__(self, store: Store, options: IngestOptions, summary: Summary, run_id: int,
                 warn: Warn, progress: Progress, parallel: bool):
        self.store, self.options, self.summary, self.run_id = store, options, summary, run_id
        self.warn, self.progress = warn, progress
        self.note: Warn = warn
        self.ingested_at = datetime.utcnow()
        self._executor: Executor | None = None
        self._parallel = parallel
        self.writer = Writer()
        if isinstance(store, Store):
            store.group_commits(options.batch_rows)
        self.collection = options.collection or f"ingest-{run_id}"
        self._taking: list[FileIngest] = []  # files whose results are being taken, not yet closed

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

    def run(self, sources: list[Source]) -> None:
        """Produce steps in input order, parse chunks in the workers, and take every step back in
        that same order, so "the later copy wins" means the same on every run."""
        executor = self.executor()
        limit = 2 * (self.options.workers or os.cpu_count() or 1) + 1 if executor is not None else 1
        queue: deque[_Part | _Step] = deque()
        in_flight = 0
        try:
            for item in self._steps(sources):
                if isinstance(item, _Part):
                    item.future = executor.submit(parse, item.work) if executor is not None else None
                    in_flight += 1
                queue.append(item)
                while in_flight >= limit:
                    in_flight -= self._handle(queue.popleft())
            while queue:
                self._handle(queue.popleft())
        except BaseException:
            for file in self._taking:  # what was read is kept, as when a file fails part-way
                file.close()
            raise

    def _handle(self, item: "_Part | _Step") -> int:
        """Take one step; 1 when it was a chunk."""
        if isinstance(item, _Step):
            item.action()
            return 0
        file = item.file
        if file.failed:
            return 1
        if file not in self._taking:
            self._taking.append(file)
        try:
            results, failure = item.future.result() if item.future is not None else parse(item.work)
            for result in results:
                file.take(result)
            if failure is not None:
                raise failure
        except Exception as exc:
            if _failure_message(file.source, exc) is None:
                raise
            self._end(file, exc)  # its later chunks and its own end are passed over
            file.failed = True
        return 1

    def _steps(self, sources: list[Source]) -> Iterator["_Part | _Step"]:
        queued: set[tuple[str, str]] = set()
        for source in sources:
            self.summary.files += 1
            stamp = None if source.is_stdin else fingerprint(source.path)
            if stamp and not self.options.force and (
                    (source.path, stamp) in queued or self.store.file_fingerprint(source.path) == stamp):
                yield _Step(lambda source=source: self._skip(source))
                continue
            if stamp:
                queued.add((source.path, stamp))
            yield from self._file_steps(source, stamp)

    def _skip(self, source: Source) -> None:
        self.summary.files_already_ingested += 1
        self.warn(f"{source.label}: already ingested, skipped (use --force to read it again)")

    def _file_steps(self, source: Source, stamp: str | None) -> Iterator["_Part | _Step"]:
        """One file's chunks and then its end; a failure to open or detect it becomes its end."""
        said: list[_Step] = []
        try:
            opened = self._open(source, stamp, said)
        except Exception as exc:
            if _failure_message(source, exc) is None:
                raise
            yield from said
            yield _Step(lambda exc=exc: self._fail(source, exc))
            return
        yield from said
        if opened is None:
            return
        file, records, container = opened
        if self._reads_whole(source, container):
            yield _Part(file, FileTask(source.path, container, self.options.adapter_options.get("delimiter"),
                                       file.format_name, file.adapter_options, self.options.chunk_records,
                                       self.ingested_at))
            yield _Step(lambda: self._end(file, None))
            return
        failure: BaseException | None = None
        try:
            for chunk in file.chunks(records):
                yield _Part(file, chunk)
        except Exception as exc:
            if _failure_message(source, exc) is None:
                raise
            failure = exc
        yield _Step(lambda: self._end(file, failure))

    def _reads_whole(self, source: Source, container: str) -> bool:
        """A small file goes to a worker whole (a JSON array is read whole here to detect it)."""
        return (self._executor is not None and not source.is_stdin and container != "json"
                and _size(source) <= WHOLE_FILE_BYTES)

    def _open(self, source: Source, stamp: str | None, said: list["_Step"]) -> tuple[FileIngest, Iterator[Record], str] | None:
        """Detect the file's format; what it says waits in `said`, to be told in input order."""
        stream = PeekableStream(open_binary(source))
        container = container_of(stream.head)
        if container == "empty":
            said.append(_Step(lambda: self._empty(source, stamp)))
            return None
        records, sample = records_and_sample(stream, container, self.options.adapter_options.get("delimiter"))
        name = choose_adapter(sample, source.label, self.options.format or table_default(container))
        adapter_options = self.options.adapter_options
        if name == "table":
            layout = resolve_layout(header(sample), adapter_options, source.label)
            said.append(_Step(lambda: self._layout(source, layout.describe(), layout.name)))
            adapter_options = layout.adapter_options(adapter_options)
        said.append(_Step(lambda: self.summary.add_counts(self.summary.formats, {name: 1})))
        return FileIngest(self, source, name, adapter_options, stamp), records, container

    def _layout(self, source: Source, described: str, layout_name: str) -> None:
        self.note(f"{source.label}: {described}")
        self.summary.layouts[source.label] = layout_name

    def _empty(self, source: Source, stamp: str | None) -> None:
        self.warn(f"{source.label}: empty, nothing to ingest")
        self.writer.submit(lambda: self.store.mark_file(source.label, stamp, "", "done", 0, 0, self.run_id))
        self.progress(0, bytes_done=_size(source))

    def _end(self, file: FileIngest, failure: BaseException | None) -> None:
        """The file's last step: keep what was read, then mark it ingested or say why not."""
        if file.failed:
            return
        if file in self._taking:
            self._taking.remove(file)
        file.close()
        if failure is None:
            try:
                file.mark()
            except GroundswellError as exc:
                if _failure_message(file.source, exc) is None:
                    raise  # the store cannot be written: not this file's fault
                failure = exc
        if failure is not None:
            self._fail(file.source, failure)
            return
        self.progress(0, bytes_done=_size(file.source))

    def _fail(self, source: Source, exc: BaseException) -> None:
        self.writer.drain()
        message = _failure_message(source, exc) or str(exc)
        self.summary.file_errors.append(FileError(source.label, message))
        self.warn(message)


@dataclass
class _Part:
    """A chunk of a file, or a whole small file, parsed in a worker (or here, without workers)."""

    file: FileIngest
    work: Work
    future: Future[tuple[list[ChunkResult], BaseException | None]] | None = None


@dataclass
class _Step:
    """Anything else that must happen in input order: a message, a file's end, a skip."""

    action: Callable[[], None]


def _failure_message(source: Source, exc: BaseException) -> str | None:
    """The one-line error for a file that cannot be read (or read on), or None when the
    error is not the file's fault (a store that cannot be written fails every file)."""
    if isinstance(exc, StoreWriteError):
        return None
    if isinstance(exc, UnknownFormat):
        return str(exc)
    if isinstance(exc, GroundswellError):
        return str(exc) if str(exc).startswith(source.label) else f"{source.label}: {exc}"
    if isinstance(exc, (EOFError, zlib.error, gzip.BadGzipFile, OSError)):
        return f"{source.label}: truncated or corrupt data ({_reason(exc)}); the records before it were kept"
    if isinstance(exc, UnicodeDecodeError):
        return f"{source.label}: not UTF-8 text ({exc.reason} at byte {exc.start}); re-encode it as UTF-8"
    if isinstance(exc, csv.Error):
        return f"{source.label}: unreadable table ({exc})"
    return None


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:120]
