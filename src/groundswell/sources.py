"""Finding input files and reading raw records from them, whatever the compression.

Readers yield (position, raw) pairs: for JSON lines the raw bytes of the line, so that
parsing happens in worker processes; for JSON arrays and tables the decoded value.
Positions are 1-based line numbers (JSONL, CSV) or element indexes (JSON arrays), and are
what quarantine records and provenance columns point at.
"""

from __future__ import annotations

import csv
import glob
import gzip
import io
import os
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Iterator

import orjson

from .errors import GroundswellError

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
SNIFF_BYTES = 64 * 1024
csv.field_size_limit(sys.maxsize)


@dataclass(frozen=True)
class Source:
    """One input: a path, or `-` for standard input."""

    path: str

    @property
    def is_stdin(self) -> bool:
        return self.path == "-"

    @property
    def label(self) -> str:
        return self.path


def expand(paths: list[str]) -> list[Source]:
    """Globs and directories become sorted file lists, so runs are repeatable."""
    found: list[Source] = []
    for raw in paths:
        if raw == "-":
            found.append(Source("-"))
            continue
        matches = sorted(glob.glob(raw, recursive=True)) if glob.has_magic(raw) else [raw]
        if not matches:
            raise GroundswellError(f"{raw}: no file matches this pattern")
        for match in matches:
            found.extend(Source(p) for p in _files_under(match))
    return found


def _files_under(path: str) -> list[str]:
    if os.path.isdir(path):
        return sorted(
            str(p) for p in Path(path).rglob("*")
            if p.is_file() and not p.name.startswith(".") and p.suffix.lower() not in {".md", ".txt", ".toml"}
            and p.name not in {"MANIFEST.json", "LICENSE", "truth.json"}
        )
    if not os.path.exists(path):
        raise GroundswellError(f"{path}: no such file or directory")
    return [path]


def open_binary(source: Source) -> IO[bytes]:
    """A decompressed byte stream; compression is recognised by magic bytes, not the name."""
    raw: IO[bytes] = sys.stdin.buffer if source.is_stdin else open(source.path, "rb")
    buffered = raw if isinstance(raw, io.BufferedReader) else io.BufferedReader(raw)  # type: ignore[arg-type]
    head = buffered.peek(4)[:4]
    if head.startswith(GZIP_MAGIC):
        return gzip.GzipFile(fileobj=buffered)  # type: ignore[return-value]
    if head.startswith(ZSTD_MAGIC):
        import zstandard

        return zstandard.ZstdDecompressor().stream_reader(buffered, read_across_frames=True)  # type: ignore[return-value]
    return buffered


class PeekableStream:
    """Lets detection look at the start of a stream (even stdin) without consuming it."""

    def __init__(self, stream: IO[bytes]):
        self._stream = stream
        self._error: BaseException | None = None
        try:
            self.head = _read_up_to(stream, SNIFF_BYTES)
        except (EOFError, OSError, zlib.error) as exc:
            # A file cut short inside its first 64 KiB: keep what came before, fail at the cut.
            self.head = getattr(exc, "partial", b"")
            self._error = exc

    def lines(self) -> Iterator[bytes]:
        """Complete lines; a line cut off by corrupt or truncated data is not yielded."""
        if self._error is not None:
            *complete, _cut = self.head.split(b"\n")
            yield from complete
            raise self._error
        yield from _lines(self.head, self._stream)

    def read_all(self) -> bytes:
        if self._error is not None:
            raise self._error
        return self.head + self._stream.read()

    def text_lines(self, encoding: str) -> io.TextIOWrapper:
        """The whole stream as text; the head is re-read so no character is cut at its end."""
        chained = io.BufferedReader(_Chain(self.head, self._stream))
        return io.TextIOWrapper(chained, encoding=encoding, errors="strict", newline="")


def _read_up_to(stream: IO[bytes], size: int) -> bytes:
    chunks: list[bytes] = []
    remaining = size
    while remaining > 0:
        try:
            chunk = stream.read(min(remaining, 8192))
        except (EOFError, OSError, zlib.error) as exc:
            exc.partial = b"".join(chunks)  # type: ignore[union-attr]
            raise
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _lines(head: bytes, stream: IO[bytes]) -> Iterator[bytes]:
    *complete, pending = head.split(b"\n")
    yield from complete
    while True:
        chunk = stream.read(1 << 20)  # an error here drops the cut line in `pending`
        if not chunk:
            break
        pending += chunk
        *complete, pending = pending.split(b"\n")
        yield from complete
    if pending:
        *complete, last = pending.split(b"\n")
        yield from complete
        if last:
            yield last


class _Chain(io.RawIOBase):
    """A raw stream that first returns `head`, then the rest of `stream`."""

    def __init__(self, head: bytes, stream: IO[bytes]):
        self._head = memoryview(head)
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def looks_like_json_array(head: bytes) -> bool:
    return head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"[")


def looks_like_json(head: bytes) -> bool:
    return head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith((b"{", b"["))


def json_array_records(stream: PeekableStream) -> Iterator[tuple[int, Any]]:
    """Elements of a top-level JSON array, numbered from 1. The array is read whole."""
    try:
        value = orjson.loads(stream.read_all())
    except orjson.JSONDecodeError as exc:
        raise GroundswellError(f"not valid JSON ({exc})") from None
    if not isinstance(value, list):
        yield 1, value
        return
    yield from enumerate(value, start=1)


def table_records(stream: PeekableStream, delimiter: str | None) -> Iterator[tuple[int, dict[str, str]]]:
    """CSV/TSV rows as dicts, each numbered by the line it starts on."""
    encoding = sniff_text_encoding(stream.head)
    lines = stream.text_lines(encoding)
    sample = stream.head.decode(encoding, errors="replace")
    dialect_delimiter = delimiter or _guess_delimiter(sample)
    reader = csv.DictReader(lines, delimiter=dialect_delimiter)
    line_no = 1
    for row in reader:
        yield line_no + 1, row
        line_no = reader.line_num


def _guess_delimiter(sample: str) -> str:
    first = sample.split("\n", 1)[0]
    return "\t" if first.count("\t") > first.count(",") else ","


def sniff_text_encoding(head: bytes) -> str:
    """UTF-8 (with or without BOM) or UTF-16 by BOM; anything else is reported, not guessed."""
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # a character cut at the end of the sample is fine
            raise GroundswellError(f"not UTF-8 text (byte {exc.start}): re-encode the file as UTF-8") from None
    return "utf-8"
