"""Turning a chunk of raw records into an Arrow table of posts, in a worker process.

This is the hot path: JSON parsing and adapter work happen here, in parallel, and only
compact results (an Arrow table, quarantined records, deletions, counts) go back.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Iterator, Union

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from ..formats import adapter
from ..formats.base import Delete, LimitNotice, LocalId, ParseContext, RecordError, Skip
from ..formats.table import TIME_DISAGREES
from ..model import ARROW_SCHEMA, ENGAGEMENT, FIELD_NAMES
from ..movement.normalize import hashtag_key
from ..sources import PeekableStream, Source, open_binary
from ..store.duckdb_store import Quarantined
from . import columnar
from .reading import READ_ERRORS, chunked, records_and_sample
from .summary import NEGATIVE_ENGAGEMENT

# Before the first tweet, or more than a day ahead of now: not a real creation time.
EARLIEST_POST = datetime(2006, 3, 21)
RAW_KEPT_BYTES = 16 * 1024
WARN_LINES_SHOWN = 5


@dataclass
class Chunk:
    source_file: str
    source_format: str
    options: dict[str, Any]
    records: list[tuple[int, Any]]  # (line or index, raw bytes or decoded value)
    ingested_at: datetime


@dataclass
class ChunkResult:
    posts: pa.Table
    quarantined: list[Quarantined] = field(default_factory=list)
    deletes: list[Delete] = field(default_factory=list)
    limits: list[tuple[int, LimitNotice]] = field(default_factory=list)  # (line, notice)
    local_ids: dict[str, str] = field(default_factory=dict)  # instance-local id -> stored post id
    records: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    warnings: dict[str, list[int]] = field(default_factory=dict)
    per_record: int = 0  # records read by the per-record path (the rest went columnar)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Parsing a chunk builds tens of thousands of short-lived dicts, freed by reference
    counting; the cyclic collector would only rescan them meanwhile (a third of the live
    watch's parse time in bench/watch.py, a tenth of a v1.1 chunk's). It runs again, and
    finds any cycle, when the chunk is done."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@dataclass
class FileTask:
    """A small file a worker reads whole, once the main process has detected its format: the
    main process then neither reads its records nor sends them, which on an archive of many
    small files (a scrape of one gzip file a day) was most of its work."""

    path: str
    container: str
    delimiter: str | None
    source_format: str
    options: dict[str, Any]
    chunk_records: int
    ingested_at: datetime


Work = Union[Chunk, FileTask]


def parse(work: Work) -> tuple[list[ChunkResult], BaseException | None]:
    """The results of a chunk, or of every chunk of a file in order, and the error that cut a
    file's reading short (its records before it are in the results)."""
    if isinstance(work, Chunk):
        return [parse_chunk(work)], None
    results: list[ChunkResult] = []
    raw = open_binary(Source(work.path))
    try:
        records, _ = records_and_sample(PeekableStream(raw), work.container, work.delimiter)
        for batch in chunked(records, work.source_format, work.chunk_records):
            results.append(parse_chunk(Chunk(work.path, work.source_format, work.options, batch, work.ingested_at)))
    except READ_ERRORS as exc:
        return results, exc
    finally:
        raw.close()
    return results, None


def parse_chunk(chunk: Chunk) -> ChunkResult:
    """The columnar path takes the rows it can (columnar.py); the per-record path reads the rest."""
    with _collector_paused():
        return _parse(chunk)


def _parse(chunk: Chunk) -> ChunkResult:
    latest_allowed = datetime.utcnow() + timedelta(days=1)
    fast = columnar.reader_for(chunk.source_format, chunk.options)
    if fast is None:
        result = _parse_records(chunk, chunk.records, latest_allowed)
        result.per_record = len(chunk.records)
        return result
    fast_posts, rest, notes = fast(chunk.records, chunk.options, latest_allowed)
    result = _parse_records(chunk, rest, latest_allowed)
    result.records, result.per_record = len(chunk.records), len(rest)
    if fast_posts.num_rows:
        _merge_fast(chunk, fast_posts, notes, result)
    return result


def _merge_fast(chunk: Chunk, posts: pa.Table, notes: dict[str, Any], result: ChunkResult) -> None:
    """Provenance as _finish_post gives it, then every row in input order (a later copy wins)."""
    n = posts.num_rows
    for name, value, kind in (("source_file", chunk.source_file, pa.string()),
                              ("source_format", chunk.source_format, pa.string()),
                              ("ingested_at", chunk.ingested_at, pa.timestamp("us"))):
        posts = posts.set_column(posts.schema.get_field_index(name), name, pa.array([value] * n, kind))
    merged = pa.concat_tables([posts, result.posts]) if result.posts.num_rows else posts
    result.posts = merged.take(pc.sort_indices(merged, [("source_line", "ascending")])) if result.posts.num_rows else merged
    for name, count in notes["counters"].items():
        result.counters[name] = result.counters.get(name, 0) + count
    if notes["warned"]:
        lines = result.warnings.setdefault(TIME_DISAGREES, [])
        lines.extend(notes["warned"])
        lines.sort()


def _parse_records(chunk: Chunk, records: list[tuple[int, Any]], latest_allowed: datetime) -> ChunkResult:
    module = adapter(chunk.source_format)
    ctx = ParseContext(chunk.source_file, chunk.source_format, chunk.options)
    result = ChunkResult(posts=ARROW_SCHEMA.empty_table(), records=len(records))
    rows: list[dict[str, Any]] = []
    for position, raw in records:
        ctx.warnings.clear()
        try:
            record = orjson.loads(raw) if isinstance(raw, (bytes, bytearray, memoryview)) else raw
            items = list(module.parse(record, ctx))
        except orjson.JSONDecodeError as exc:
            result.quarantined.append(_quarantine(chunk, position, f"broken JSON: {exc}", raw))
            continue
        except RecordError as exc:
            result.quarantined.append(_quarantine(chunk, position, str(exc), raw))
            continue
        except (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError) as exc:
            reason = f"unexpected record shape ({type(exc).__name__}: {_short(exc)})"
            result.quarantined.append(_quarantine(chunk, position, reason, raw))
            continue
        for message in ctx.warnings:
            result.warnings.setdefault(message, []).append(position)
        for item in items:
            if isinstance(item, Skip):
                result.skipped[item.reason] = result.skipped.get(item.reason, 0) + 1
            elif isinstance(item, Delete):
                result.deletes.append(item)
            elif isinstance(item, LimitNotice):
                result.limits.append((position, item))
            elif isinstance(item, LocalId):
                result.local_ids[item.local_id] = item.post_id
            else:
                _finish_post(item, chunk, position, latest_allowed, result)
                if dropped := _drop_negative_engagement(item):
                    ctx.count(NEGATIVE_ENGAGEMENT, dropped)
                rows.append(item)
    result.counters = ctx.counters
    if rows:
        result.posts = _to_table(rows, chunk, result)
    return result


def _to_table(rows: list[dict[str, Any]], chunk: Chunk, result: ChunkResult) -> pa.Table:
    """One bad value must not sink its chunk: on failure, rows are converted one by one."""
    try:
        return pa.Table.from_pylist(rows, schema=ARROW_SCHEMA)
    except (pa.ArrowException, TypeError, ValueError, OverflowError):
        pass
    good = []
    for row in rows:
        try:
            pa.Table.from_pylist([row], schema=ARROW_SCHEMA)
        except (pa.ArrowException, TypeError, ValueError, OverflowError) as exc:
            reason = f"a field has the wrong type ({type(exc).__name__})"
            result.quarantined.append(_quarantine(chunk, row["source_line"], reason, None))
            continue
        good.append(row)
    return pa.Table.from_pylist(good, schema=ARROW_SCHEMA)


def _finish_post(post: dict[str, Any], chunk: Chunk, position: int, latest: datetime, result: ChunkResult) -> None:
    """Provenance, hashtag keys and a last sanity check on time, the same for every adapter."""
    post["source_file"] = chunk.source_file
    post["source_line"] = position
    post["source_format"] = chunk.source_format
    post["ingested_at"] = chunk.ingested_at
    if post.get("version_id") is None:
        post["version_id"] = post["post_id"]
    if post.get("hashtags") and post.get("hashtag_keys") is None:
        fold = chunk.options.get("accent_fold", True)
        post["hashtag_keys"] = [hashtag_key(tag, fold_accents=fold) for tag in post["hashtags"]]
    created = post.get("created_at")
    if created is not None and not (EARLIEST_POST <= created <= latest):
        message = f"implausible creation time (year {created.year}); created_at left empty"
        result.warnings.setdefault(message, []).append(position)
        post["created_at"] = None
        post["time_source"] = "invalid"


def _drop_negative_engagement(post: dict[str, Any]) -> int:
    """A count below zero is a broken export's, not a reading: the field is set aside (NULL, as
    when the source gives none) rather than stored, and the number set aside is returned for
    the ingest summary and the report's coverage section. The post itself is kept."""
    dropped = 0
    for column in ENGAGEMENT:
        value = post.get(column)
        # A value of the wrong type is left for the table conversion, which quarantines its row.
        if isinstance(value, (int, float)) and value < 0:
            post[column] = None
            dropped += 1
    return dropped


def _quarantine(chunk: Chunk, position: int, reason: str, raw: Any) -> Quarantined:
    if isinstance(raw, (bytes, bytearray, memoryview)):
        kept = bytes(raw[:RAW_KEPT_BYTES])
    else:
        try:
            kept = orjson.dumps(raw, default=str)[:RAW_KEPT_BYTES]
        except TypeError:
            kept = None
    return Quarantined(chunk.source_file, position, chunk.source_format, reason, kept)


def _short(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return text[:80]


def empty_posts() -> pa.Table:
    return ARROW_SCHEMA.empty_table()


__all__ = ["Chunk", "ChunkResult", "FileTask", "parse", "parse_chunk", "FIELD_NAMES"]
