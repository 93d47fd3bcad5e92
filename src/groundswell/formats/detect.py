"""Recognising a file's format from its content, never from its name.

A file is first classed by container (JSON lines, one JSON document or array, or a
delimited table), then a sample of its records is offered to each adapter's sniff().
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from ..errors import UnknownFormat
from . import adapter, format_names

SAMPLE_RECORDS = 5
SAMPLE_LINES = 50


@dataclass(frozen=True)
class Detected:
    container: str  # "jsonl", "json" (one document or an array), or "table"
    format: str


def container_of(head: bytes) -> str:
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped:
        return "empty"
    if stripped.startswith(b"["):
        return "json"
    if stripped.startswith(b"{"):
        first_line = stripped.split(b"\n", 1)[0]
        try:
            orjson.loads(first_line)
            return "jsonl"
        except orjson.JSONDecodeError:
            # A pretty-printed document, or JSON lines whose first line is broken.
            return "json" if _is_pretty_document(stripped) else "jsonl"
    return "table"


def _is_pretty_document(stripped: bytes) -> bool:
    first_line = stripped.split(b"\n", 1)[0].strip()
    return first_line == b"{" or (b"\n" in stripped and first_line.endswith((b"{", b",", b"[")))


def sample_jsonl(lines: list[bytes]) -> list[Any]:
    """The first records among these lines that parse; broken ones are left to ingest to report."""
    records: list[Any] = []
    for line in lines:
        if len(records) >= SAMPLE_RECORDS:
            break
        if not line.strip():
            continue
        try:
            records.append(orjson.loads(line))
        except orjson.JSONDecodeError:
            continue
    return records


def choose_adapter(sample: list[Any], label: str, forced: str | None = None) -> str:
    """The first adapter that accepts most of the sample, or the forced one."""
    if forced:
        if forced not in format_names():
            raise UnknownFormat(f"{label}: unknown format {forced!r} (known: {', '.join(format_names())})")
        return forced
    if not sample:
        raise UnknownFormat(f"{label}: no readable record found to recognise the format")
    for name in format_names():
        module = adapter(name)
        accepted = sum(1 for record in sample if _safe_sniff(module, record))
        if accepted * 2 > len(sample):
            return name
    if all(isinstance(record, dict) and _flat(record) for record in sample):
        from .layouts import no_layout  # the table's own message: these records are rows

        columns = list(dict.fromkeys(key for record in sample for key in record))
        raise UnknownFormat(no_layout(label, columns, what="unknown format: flat JSON records (a table)"))
    raise UnknownFormat(f"{label}: unknown format (not {', '.join(format_names())}); use --format to force one, "
                        f"or --map FIELD=COLUMN if its records are rows of a table")


def _flat(record: dict) -> bool:
    return all(isinstance(value, (str, int, float, bool, type(None))) for value in record.values())


def _safe_sniff(module: Any, record: Any) -> bool:
    try:
        return bool(module.sniff(record))
    except Exception:
        return False
