"""Atheris target: any bytes as a whole file: container detection, record reading (JSON lines,
arrays, CSV, gzip), format detection, then parsing. No store, so thousands of files a second.

    python fuzz/fuzz_files.py -max_total_time=60

Errors the pipeline turns into a one-line file error (unknown format, corrupt data) are
expected outcomes; anything else escaping is a crash.
"""

from __future__ import annotations

import csv
import gzip
import io
import sys
import zlib
from datetime import datetime
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import TABLE_OPTIONS, check_result, fuzz_args, instrument_groundswell  # noqa: E402

# Imported plainly, then instrumented in place by instrument_groundswell() in main().
from groundswell.errors import GroundswellError
from groundswell.formats.detect import choose_adapter, container_of
from groundswell.ingest.pipeline import IngestOptions, _records_and_sample
from groundswell.ingest.worker import Chunk, parse_chunk
from groundswell.sources import PeekableStream
from groundswell.formats import adapter, format_names
from groundswell.movement import extract  # noqa: F401  (instrumented for the hashtag paths)

for _name in format_names():  # adapters load lazily: load them here, to instrument them
    adapter(_name)

FILE_ERRORS = (GroundswellError, EOFError, zlib.error, gzip.BadGzipFile, OSError, UnicodeDecodeError, csv.Error)


def test_one_input(data: bytes) -> None:
    stream = io.BufferedReader(io.BytesIO(data))
    if data[:2] == b"\x1f\x8b":
        stream = gzip.GzipFile(fileobj=stream)  # type: ignore[assignment]
    try:
        peek = PeekableStream(stream)
        container = container_of(peek.head)
        if container == "empty":
            return
        records, sample = _records_and_sample(peek, container, IngestOptions())
        name = choose_adapter(sample, "fuzz", "table" if container == "table" else None)
        batch = list(records)[:500]
    except FILE_ERRORS:
        return
    result = parse_chunk(Chunk("fuzz", name, dict(TABLE_OPTIONS), batch, datetime(2024, 1, 1)))
    check_result(result, len(batch))


def main() -> None:
    instrument_groundswell(atheris)
    atheris.Setup(fuzz_args(sys.argv), test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
