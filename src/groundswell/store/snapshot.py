"""A read-only snapshot of a store in memory, so a long-lived reader never holds the file.

DuckDB lets one process write a file, and while any process has it open, even read-only,
no other can write it. A dashboard that kept the store open would block `ingest` and
`watch` for as long as it runs. A snapshot attaches the file read-only for the moment it
takes to copy its tables into an in-memory database, then lets go; the reader works on the
copy, and takes a new one when the file changes. The cost is memory: the copy holds the
post table (see docs/serve.md).
"""

from __future__ import annotations

import shutil
import tempfile
import time

import duckdb

from ..errors import GroundswellError, StoreBusy
from .duckdb_store import BUSY_WAIT_SECONDS, Store, memory_limit


class Snapshot(Store):
    """The Store API over the in-memory copy, never written back; what DuckDB spills beyond
    its memory budget goes to a directory of its own, removed on close (an in-memory
    database would otherwise spill into `.tmp` under whatever directory serve was started in)."""

    spill: str

    def close(self) -> None:
        super().close()
        shutil.rmtree(self.spill, ignore_errors=True)


def snapshot(path: str) -> Store:
    """A Store over an in-memory copy of every table of the store at `path` (read-only)."""
    spill = tempfile.mkdtemp(prefix="groundswell-snapshot-")
    con = duckdb.connect(config={"temp_directory": spill, "memory_limit": memory_limit()})
    try:
        _copy(con, path)
    except BaseException:
        con.close()
        shutil.rmtree(spill, ignore_errors=True)
        raise
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    store = Snapshot.__new__(Snapshot)  # no Store.__init__: it would open the file
    store.path, store.read_only, store.con, store.spill = path, True, con, spill
    return store


def _copy(con: duckdb.DuckDBPyConnection, path: str) -> None:
    try:
        _attach(con, path)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise StoreBusy(f"{path}: store is busy (a writer holds it); the last snapshot is kept") from None
        raise GroundswellError(f"{path}: cannot open the store ({str(exc).splitlines()[0]})") from None
    try:
        tables = [name for (name,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'source' AND schema_name = 'main'").fetchall()]
        if "posts" not in tables:
            raise GroundswellError(f"{path}: not a groundswell store (run `groundswell ingest` first)")
        for name in tables:
            con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM source.main."{name}"')
    finally:
        con.execute("DETACH source")


def _attach(con: duckdb.DuckDBPyConnection, path: str) -> None:
    """Attach read-only, waiting out a watch's brief commit (as Store does)."""
    deadline = time.monotonic() + BUSY_WAIT_SECONDS
    while True:
        try:
            con.execute(f"ATTACH '{path.replace(chr(39), chr(39) * 2)}' AS source (READ_ONLY)")
            return
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() >= deadline:
                raise
            time.sleep(0.05)
