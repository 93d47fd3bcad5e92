"""The DuckDB store: upserts that never count a post twice, quarantine, tombstones, files.

Every write of a batch happens in one transaction together with the bookkeeping that
says how far ingest got, so a process killed at any moment leaves a store that a re-run
completes without duplicates.

This module is the store's public face and holds its transactions and run and file
records. The work lives beside it: opening and locking in connection.py, a batch's upsert
and quarantine in batches.py, forgetting in tombstones.py. Their public names are
re-exported here, so `from groundswell.store.duckdb_store import ...` keeps working.
"""

from __future__ import annotations

import secrets
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Iterable, Iterator

import duckdb
import orjson
import pyarrow as pa

from ..errors import GroundswellError
from ..formats.base import Delete
from . import batches, tombstones
from .batches import CONTENT, PROVENANCE, BatchCounts, Quarantined
from .batches import _WINNERS_SQL  # noqa: F401 - a test holds engines/dedupe.py's winner order to it
from .connection import (BUSY_WAIT_SECONDS, DEFAULT_DB, DEFAULT_MEMORY_LIMIT, StoreWriteError, connect,
                         default_db_path, memory_limit, utc_now, write_error)
from .schema import SCHEMA_VERSION, SUPPORT_DDL, posts_ddl
from .tombstones import REPOST_REASON, TARGET_SCHEMA, Removed

__all__ = [
    "BUSY_WAIT_SECONDS", "CONTENT", "DEFAULT_DB", "DEFAULT_MEMORY_LIMIT", "PROVENANCE", "REPOST_REASON",
    "TARGET_SCHEMA", "BatchCounts", "Quarantined", "Removed", "Store", "StoreWriteError", "default_db_path",
    "memory_limit", "write_error",
]


@dataclass
class _Group:
    limit: int
    rows: int = 0
    open: bool = False


class Store:
    """A groundswell store in one DuckDB file."""

    def __init__(self, path: str | None = None, read_only: bool = False, busy_wait: float | None = None):
        """`busy_wait`: seconds to wait for another process's lock (BUSY_WAIT_SECONDS by default)."""
        self.path = default_db_path(path)
        self.read_only = read_only
        self._group: _Group | None = None
        self.con = connect(self.path, read_only, BUSY_WAIT_SECONDS if busy_wait is None else busy_wait)
        if not read_only:
            with self.guard():
                self._create()
        elif not self._has_posts():
            raise GroundswellError(f"{self.path}: not a groundswell store (run `groundswell ingest` first)")

    def _has_posts(self) -> bool:
        rows = self.con.execute("SELECT 1 FROM information_schema.tables WHERE table_name = 'posts'").fetchall()
        return bool(rows)

    def _create(self) -> None:
        self.con.execute(posts_ddl())
        for ddl in SUPPORT_DDL:
            self.con.execute(ddl)
        self.con.execute("INSERT INTO meta VALUES ('schema_version', ?) ON CONFLICT DO NOTHING", [SCHEMA_VERSION])
        # The secret behind the outputs' pseudonyms (see privacy.py); made once, never printed.
        self.con.execute("INSERT INTO meta VALUES ('pseudonym_salt', ?) ON CONFLICT DO NOTHING", [secrets.token_hex(32)])

    def close(self) -> None:
        try:
            self.con.close()
        except duckdb.Error:
            pass  # a store that failed to write cannot flush more on close; what was committed stays

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @contextmanager
    def guard(self) -> Iterator[None]:
        """Disk full, read-only files, a store invalidated by an earlier failure: one clear error."""
        try:
            yield
        except (duckdb.IOException, duckdb.FatalException, duckdb.OutOfMemoryException,
                duckdb.PermissionException, duckdb.TransactionException) as exc:
            raise write_error(self.path, exc) from None

    # --- reading ---------------------------------------------------------------------

    def sql(self, query: str, params: list[Any] | None = None) -> list[tuple]:
        return self.con.execute(query, params or []).fetchall()

    def file_fingerprint(self, path: str) -> str | None:
        """Safe to call while another thread writes: it reads through its own cursor."""
        cursor = self.con.cursor()
        try:
            rows = cursor.execute("SELECT fingerprint FROM files WHERE path = ? AND status = 'done'", [path]).fetchall()
        finally:
            cursor.close()
        return rows[0][0] if rows else None

    # --- writing ---------------------------------------------------------------------

    def start_run(self) -> int:
        with self.guard():
            # This process holds the store's lock, so a run still marked running was killed.
            self.con.execute("UPDATE runs SET status = 'killed' WHERE status = 'running'")
            (run_id,) = self.con.execute("SELECT coalesce(max(run_id), 0) + 1 FROM runs").fetchone()  # type: ignore[misc]
            self.con.execute("INSERT INTO runs VALUES (?, ?, NULL, 'running', NULL)", [run_id, utc_now()])
        return int(run_id)

    def finish_run(self, run_id: int, status: str, summary: dict[str, Any]) -> None:
        with self.guard():
            self.con.execute(
                "UPDATE runs SET finished_at = ?, status = ?, summary = ? WHERE run_id = ?",
                [utc_now(), status, orjson.dumps(summary).decode(), run_id],
            )

    def write_batch(
        self,
        posts: pa.Table,
        quarantined: Iterable[Quarantined] = (),
        deletes: Iterable[Delete] = (),
        source_file: str = "-",
        bookkeeping: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
    ) -> BatchCounts:
        """Store one batch atomically: tombstones first, so a delete in the batch wins.
        `bookkeeping` runs in the same transaction (a live source's cursor), so what says how
        far collection got can never run ahead of, or behind, what was stored."""
        counts = BatchCounts()
        with self.guard(), self._transaction():
            tombstones.record_deletes(self.con, list(deletes), source_file)
            if posts.num_rows:
                counts = batches.upsert(self.con, posts)
            batches.record_quarantine(self.con, list(quarantined))
            if bookkeeping is not None:
                bookkeeping(self.con)
        if self._group is not None:
            self._group.rows += posts.num_rows
            if self._group.rows >= self._group.limit:
                self._commit_group()
        return counts

    def group_commits(self, rows: int) -> None:
        """From now on, let batches share a transaction until together they hold `rows` posts.

        DuckDB writes a transaction of at least a row group (122,880 rows) straight into the
        file's blocks, while a smaller one goes through the WAL and is written a second time at
        the next checkpoint: an archive of 6,500-post daily files, each committed alone, spent
        three quarters of its write time committing. Each batch is still merged on its own, in
        order, so the rows are the same; a kill loses at most the open group, whose files are
        not yet marked ingested, so a re-run reads them again.
        """
        self._group = _Group(limit=rows)

    def end_group_commits(self) -> None:
        """Commit the open group, if any (the end of an ingest, or an interrupted one), and go
        back to a transaction per write, so later commands on this store commit their own."""
        try:
            self._commit_group()
        finally:
            self._group = None

    def _commit_group(self) -> None:
        group = self._group
        if group is not None and group.open:
            group.open, group.rows = False, 0
            with self.guard():
                self.con.execute("COMMIT")

    def forget(self, deletes: list[Delete], source_file: str) -> Removed:
        """Tombstone these ids and accounts and remove their posts, in one transaction.

        A target already tombstoned keeps its first deletion time and reason.
        """
        with self.guard(), self._transaction():
            already = tombstones.insert_tombstones(self.con, deletes, source_file, replace=False)
            removed = tombstones.remove_tombstoned(self.con, source_file)
        removed.already_tombstoned = already
        return removed

    def checkpoint(self) -> None:
        """Write the WAL into the main file, so removed rows are gone from its live blocks."""
        with self.guard():
            self.con.execute("CHECKPOINT")

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        if self._group is not None:
            with self._in_group(self._group):
                yield
            return
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield
            self.con.execute("COMMIT")
        except BaseException:
            self._rollback()
            raise

    def _rollback(self) -> None:
        try:
            self.con.execute("ROLLBACK")
        except duckdb.Error:
            pass  # a failed COMMIT has already ended the transaction

    @contextmanager
    def _in_group(self, group: "_Group") -> Iterator[None]:
        """One step of a group: a failure rolls the whole group back, as a failed batch would."""
        if not group.open:
            self.con.execute("BEGIN TRANSACTION")
            group.open = True
        try:
            yield
        except BaseException:
            group.open, group.rows = False, 0
            self._rollback()
            raise

    def mark_file(self, path: str, fingerprint: str | None, source_format: str, status: str,
                  records: int, posts: int, run_id: int, stale_before: datetime | None = None) -> None:
        """With `stale_before`, the file's quarantine rows from earlier reads go with this one,
        so a corrected re-read does not leave rejections of a version that no longer stands."""
        with self.guard(), self._transaction():
            if stale_before is not None:
                self.con.execute("DELETE FROM quarantine WHERE source_file = ? AND recorded_at < ?", [path, stale_before])
            self.con.execute(
                "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [path, fingerprint, source_format, status, records, posts, run_id, utc_now()],
            )
