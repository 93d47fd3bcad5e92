"""Opening the store's file: where it is, waiting out another process's lock, clear errors.

DuckDB lets one process write a file at a time and says so with terse exceptions. This
module turns those into one-line errors that name the store and say what to do, and sets
the session (UTC, no progress bar, a fixed memory budget) that every query relies on.
"""

from __future__ import annotations

import os
import re
import time
from datetime import datetime

import duckdb

from ..errors import GroundswellError, StoreBusy

DEFAULT_DB = "groundswell.duckdb"
DEFAULT_MEMORY_LIMIT = "3GB"
BUSY_WAIT_SECONDS = 5.0

_FULL_DISK = ("no space left", "file too large", "disk quota")
_READ_ONLY = ("permission denied", "operation not permitted", "read-only file system")


def default_db_path(explicit: str | None = None) -> str:
    return explicit or os.environ.get("GROUNDSWELL_DB") or DEFAULT_DB


class StoreWriteError(GroundswellError):
    """The store itself cannot be written (disk full, read-only): no later file can be ingested either."""


def write_error(path: str, exc: BaseException) -> StoreWriteError:
    """A one-line error that names the store and says what the user can do."""
    detail = (str(exc).splitlines() or [type(exc).__name__])[0]
    lowered = detail.lower()
    if any(word in lowered for word in _FULL_DISK):
        return StoreWriteError(f"{path}: the disk is full ({detail}); what was committed before is kept "
                                "and the store is intact: free some space and run the same command again")
    if any(word in lowered for word in _READ_ONLY):
        return StoreWriteError(f"{path}: the store is read-only ({detail}); nothing more was written: "
                                "check the permissions of the file and its folder, or use another --db")
    return StoreWriteError(f"{path}: cannot write to the store ({detail}); what was committed before is kept")


def connect(path: str, read_only: bool, busy_wait: float) -> duckdb.DuckDBPyConnection:
    """Open the store and set up its session, or raise an error the CLI can print as it is."""
    if read_only and not os.path.exists(path):
        raise GroundswellError(f"{path}: no such store (run `groundswell ingest` first, or pass --db)")
    try:
        con = _open(path, read_only, busy_wait)
    except duckdb.IOException as exc:
        message = str(exc)
        if "lock" in message.lower():
            raise StoreBusy(f"{path}: store is busy (another groundswell process is writing to it); try again when it finishes") from None
        if not read_only and any(word in message.lower() for word in _READ_ONLY):
            raise write_error(path, exc) from None
        raise GroundswellError(f"{path}: cannot open the store ({message.splitlines()[0]})") from None
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")  # the CLI owns the terminal
    con.execute(f"SET memory_limit = '{memory_limit()}'")
    return con


def _open(path: str, read_only: bool, busy_wait: float) -> duckdb.DuckDBPyConnection:
    """A command that meets another process's lock waits a little: `groundswell watch` holds
    the store only for its brief commits (watch/sink.py), so a reader, or a report that caches
    languages, gets in between two of them. A long writer (an ingest) still answers busy after
    BUSY_WAIT_SECONDS."""
    deadline = time.monotonic() + busy_wait
    while True:
        try:
            return duckdb.connect(path, read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() >= deadline:
                raise
            time.sleep(0.05)


def memory_limit() -> str:
    """DuckDB's memory budget: 3 GB unless GROUNDSWELL_MEMORY_LIMIT says otherwise ("16GB").

    DuckDB would take 80% of the machine; a fixed budget makes large reports spill to disk
    instead (next to the store, in `<store>.tmp`), so one stays under 4 GB on any input.
    """
    value = os.environ.get("GROUNDSWELL_MEMORY_LIMIT", DEFAULT_MEMORY_LIMIT).strip()
    if not re.fullmatch(r"\d+(\.\d+)?\s*[KMGT]?i?B", value, flags=re.I):
        raise GroundswellError(f"GROUNDSWELL_MEMORY_LIMIT={value!r}: expected a size such as 3GB or 512MB")
    return value


def utc_now() -> datetime:
    """The store's clock for bookkeeping rows: naive UTC, like the session's TimeZone."""
    return datetime.utcnow().replace(tzinfo=None)
