"""A file's records, in order and numbered, and their cut into bounded chunks.

Used where a file is read: in the main process for a stream or a large file, and in a worker
for a small file it reads whole (worker.parse_file), so both read every record the same way.
"""

from __future__ import annotations

import csv
import itertools
import zlib
from typing import Any, Iterator

from ..errors import GroundswellError
from ..formats.detect import SAMPLE_LINES, sample_jsonl
from ..sources import PeekableStream, json_array_records, table_records
from . import columnar

# A chunk holds at most this much raw JSON: v2 pages run to ~1 MB a line, so a count alone
# would send hundreds of megabytes to a worker at once.
CHUNK_BYTES = 4 << 20
# What reading a damaged file can raise; each becomes a one-line error for that file.
READ_ERRORS = (EOFError, zlib.error, OSError, UnicodeDecodeError, csv.Error, GroundswellError)

Record = tuple[int, Any]  # (line or index, raw bytes or decoded value)


def records_and_sample(stream: PeekableStream, container: str, delimiter: str | None) -> tuple[Iterator[Record], list[Any]]:
    """Every record of the stream, and the first few decoded, for detection."""
    if container == "jsonl":
        numbered = ((n, line) for n, line in enumerate(stream.lines(), start=1) if line.strip())
        first = list(itertools.islice(numbered, SAMPLE_LINES))  # lines may be far longer than the head
        return itertools.chain(first, numbered), sample_jsonl([line for _, line in first])
    if container == "json":
        elements = list(json_array_records(stream))
        return iter(elements), [value for _, value in elements[:5]]
    rows = table_records(stream, delimiter)
    first = list(itertools.islice(rows, 5))
    return itertools.chain(first, rows), [row for _, row in first]


def header(sample: list[Any]) -> list[str]:
    """A table's columns: a CSV's header, or every key of the first flat JSON records."""
    columns: dict[str, None] = {}
    for record in sample:
        if isinstance(record, dict):
            columns.update((key, None) for key in record if isinstance(key, str))
    return list(columns)


def table_default(container: str) -> str | None:
    return "table" if container == "table" else None


def chunked(records: Iterator[Record], format_name: str, chunk_records: int) -> Iterator[list[Record]]:
    """Bounded chunks; when reading fails part-way, the records before the failure still go
    out, and then the failure is raised."""
    size, most_bytes = columnar.chunk_limits(format_name, chunk_records, CHUNK_BYTES)
    batch: list[Record] = []
    failure: BaseException | None = None
    held = 0
    try:
        for record in records:
            batch.append(record)
            raw = record[1]
            held += len(raw) if isinstance(raw, bytes) else 0
            if len(batch) >= size or held >= most_bytes:
                yield batch
                batch, held = [], 0
    except READ_ERRORS as exc:
        failure = exc
    if batch:
        yield batch
    if failure is not None:
        raise failure
