"""The DuckDB store: upserts that never count a post twice, quarantine, tombstones, files.

Every write of a batch happens in one transaction together with the bookkeeping that
says how far ingest got, so a process killed at any moment leaves a store that a re-run
completes without duplicates.
"""

from __future__ import annotations

import os
import re
import time
import secrets
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Iterable, Iterator

import duckdb
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import GroundswellError, StoreBusy
from ..formats.base import Delete
from . import provenance
from ..model import ENGAGEMENT, FIELD_NAMES
from .schema import KEY, SCHEMA_VERSION, SUPPORT_DDL, posts_ddl

DEFAULT_DB = "groundswell.duckdb"


def default_db_path(explicit: str | None = None) -> str:
    return explicit or os.environ.get("GROUNDSWELL_DB") or DEFAULT_DB


@dataclass
class BatchCounts:
    new: int = 0
    duplicate: int = 0
    referenced: int = 0
    tombstoned: int = 0


@dataclass(frozen=True)
class Quarantined:
    source_file: str
    source_line: int
    source_format: str
    reason: str
    raw: bytes | None


def _older_version(new: str, old: str) -> str:
    """SQL: true when version `new` is older than `old` (ids compare as numbers when numeric)."""
    return f"(length({new}) < length({old}) OR (length({new}) = length({old}) AND {new} < {old}))"


PROVENANCE = ("source_file", "source_line", "source_format", "collected_at", "ingested_at")
CONTENT = tuple(c for c in FIELD_NAMES if c not in KEY and c != "collected")
_NEW_WINS = (
    "((b.collected OR NOT posts.collected) AND NOT coalesce("
    + _older_version("b.version_id", "posts.version_id") + ", false))"
)


def _update_sql() -> str:
    """Overwrite a stored post with a newer copy, only where the copy says something new.

    An identical copy (the same archive read twice) touches nothing, so re-ingesting is cheap
    and provenance keeps pointing at the first file that held the post.
    """
    sets = []
    for column in CONTENT:
        value = f"coalesce(b.{column}, posts.{column})" if column in ENGAGEMENT else f"b.{column}"
        sets.append(f"{column} = CASE WHEN {_NEW_WINS} THEN {value} ELSE posts.{column} END")
    sets.append("collected = posts.collected OR b.collected")
    compared = [c for c in CONTENT if c not in PROVENANCE]
    changed = " OR ".join(f"b.{c} IS DISTINCT FROM posts.{c}" for c in compared)
    return (
        f"UPDATE posts SET {', '.join(sets)} FROM batch_in b JOIN batch_winners w USING (_pos) "
        f"WHERE posts.platform = b.platform AND posts.post_id = b.post_id "
        f"AND ((b.collected AND NOT posts.collected) OR ({_NEW_WINS} AND ({changed})))"
    )


def _insert_sql() -> str:
    columns = ", ".join(FIELD_NAMES)
    return (
        f"INSERT INTO posts ({columns}) SELECT {', '.join('b.' + c for c in FIELD_NAMES)} "
        f"FROM batch_in b JOIN batch_winners w USING (_pos) "
        f"WHERE NOT EXISTS (SELECT 1 FROM posts p WHERE p.platform = b.platform AND p.post_id = b.post_id)"
    )


# Narrow copies of the batch's keys: deduplication and counting never move the wide columns.
_KEYS_SQL = """
CREATE OR REPLACE TEMP TABLE batch_keys AS
SELECT platform, post_id, author_id, reposted_post_id, collected, version_id, _pos FROM batch_in
"""

# Posts whose id or author was forgotten never come back, whatever archive is re-read; nor
# do reposts of them, which carry the forgotten text (a retweet's text is its original's).
_DROP_TOMBSTONED_SQL = """
CREATE OR REPLACE TEMP TABLE batch_dropped AS
SELECT platform, post_id FROM batch_keys k WHERE
  EXISTS (SELECT 1 FROM tombstones t WHERE NOT t.is_author AND t.platform = k.platform AND t.target_id = k.post_id)
  OR EXISTS (SELECT 1 FROM tombstones t WHERE t.is_author AND t.platform = k.platform AND t.target_id = k.author_id);
DELETE FROM batch_keys k WHERE
  EXISTS (SELECT 1 FROM batch_dropped d WHERE d.platform = k.platform AND d.post_id IN (k.post_id, k.reposted_post_id))
  OR (k.reposted_post_id IS NOT NULL AND EXISTS (SELECT 1 FROM tombstones t
      WHERE NOT t.is_author AND t.platform = k.platform AND t.target_id = k.reposted_post_id));
"""

# Within one batch the same post may appear many times (one original, retweeted by many):
# keep the copy that would win in the store, and the last one among equals.
_WINNERS_SQL = """
CREATE OR REPLACE TEMP TABLE batch_winners AS
SELECT platform, post_id, collected, _pos FROM batch_keys
QUALIFY row_number() OVER (
  PARTITION BY platform, post_id
  ORDER BY collected DESC, length(coalesce(version_id, '')) DESC, coalesce(version_id, '') DESC, _pos DESC
) = 1
"""

_COUNT_SQL = """
SELECT
  (SELECT count(*) FILTER (WHERE collected) FROM batch_keys) AS collected_live,
  count(*) FILTER (WHERE w.collected) AS collected_winners,
  count(*) FILTER (WHERE w.collected AND coalesce(p.collected, false)) AS already_collected,
  count(*) FILTER (WHERE NOT w.collected AND p.post_id IS NULL) AS new_referenced
FROM batch_winners w LEFT JOIN posts p ON p.platform = w.platform AND p.post_id = w.post_id
"""


# Forgetting: the targets (ids or accounts) are in the temp table `forget_targets`. Posts that
# match are removed, and so are reposts of them, which carry the forgotten text; each such
# repost gets a tombstone of its own so that re-reading an archive cannot restore it.
_GONE_SQL = """
CREATE OR REPLACE TEMP TABLE forget_gone AS
SELECT p.platform, p.post_id, p.collected FROM posts p JOIN forget_targets t
  ON NOT t.is_author AND t.platform = p.platform AND t.target_id = p.post_id
UNION
SELECT p.platform, p.post_id, p.collected FROM posts p JOIN forget_targets t
  ON t.is_author AND t.platform = p.platform AND t.target_id = p.author_id
"""
_REPOSTS_SQL = """
CREATE OR REPLACE TEMP TABLE forget_reposts AS
SELECT DISTINCT r.platform, r.post_id, r.collected FROM posts r JOIN (
  SELECT platform, post_id AS id FROM forget_gone
  UNION SELECT platform, target_id FROM forget_targets WHERE NOT is_author
) g ON r.platform = g.platform AND r.reposted_post_id = g.id
WHERE NOT EXISTS (SELECT 1 FROM forget_gone x WHERE x.platform = r.platform AND x.post_id = r.post_id)
"""
_REMOVE_SQL = """
DELETE FROM posts p USING (SELECT platform, post_id FROM forget_gone UNION ALL SELECT platform, post_id FROM forget_reposts) g
WHERE p.platform = g.platform AND p.post_id = g.post_id
"""
REPOST_REASON = "repost of a forgotten post"
TARGET_SCHEMA = pa.schema([("platform", pa.string()), ("target_id", pa.string()), ("is_author", pa.bool_()),
                           ("deleted_at", pa.timestamp("us")), ("reason", pa.string()), ("_n", pa.int64())])


@dataclass
class Removed:
    """What one deletion removed from the post table."""

    posts: int = 0  # collected posts matched by id or author
    referenced: int = 0  # posts known only by reference, matched by id or author
    reposts: int = 0  # reposts of those posts (removed with them: they carry the same text)
    already_tombstoned: int = 0  # targets forgotten before (their posts could not have come back)


class Store:
    """A groundswell store in one DuckDB file."""

    def __init__(self, path: str | None = None, read_only: bool = False, busy_wait: float | None = None):
        """`busy_wait`: seconds to wait for another process's lock (BUSY_WAIT_SECONDS by default)."""
        self.path = default_db_path(path)
        self.read_only = read_only
        self.con = _connect(self.path, read_only, BUSY_WAIT_SECONDS if busy_wait is None else busy_wait)
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
            self.con.execute("INSERT INTO runs VALUES (?, ?, NULL, 'running', NULL)", [run_id, _now()])
        return int(run_id)

    def finish_run(self, run_id: int, status: str, summary: dict[str, Any]) -> None:
        with self.guard():
            self.con.execute(
                "UPDATE runs SET finished_at = ?, status = ?, summary = ? WHERE run_id = ?",
                [_now(), status, orjson.dumps(summary).decode(), run_id],
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
            self._record_deletes(list(deletes), source_file)
            if posts.num_rows:
                counts = self._upsert(posts)
            self._record_quarantine(list(quarantined))
            if bookkeeping is not None:
                bookkeeping(self.con)
        return counts

    def forget(self, deletes: list[Delete], source_file: str) -> Removed:
        """Tombstone these ids and accounts and remove their posts, in one transaction.

        A target already tombstoned keeps its first deletion time and reason.
        """
        with self.guard(), self._transaction():
            already = self._insert_tombstones(deletes, source_file, replace=False)
            removed = self._remove_tombstoned(source_file)
        removed.already_tombstoned = already
        return removed

    def checkpoint(self) -> None:
        """Write the WAL into the main file, so removed rows are gone from its live blocks."""
        with self.guard():
            self.con.execute("CHECKPOINT")

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield
            self.con.execute("COMMIT")
        except BaseException:
            try:
                self.con.execute("ROLLBACK")
            except duckdb.Error:
                pass  # a failed COMMIT has already ended the transaction
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
                [path, fingerprint, source_format, status, records, posts, run_id, _now()],
            )

    def _upsert(self, posts: pa.Table) -> BatchCounts:
        collected_in = int(pc.sum(posts.column("collected").cast(pa.int64())).as_py() or 0)
        positioned = posts.append_column("_pos", pa.array(range(posts.num_rows), pa.int64()))
        self.con.register("batch_in", positioned)
        try:
            self.con.execute(_KEYS_SQL)
            if self._has_tombstones():
                self.con.execute(_DROP_TOMBSTONED_SQL)
            self.con.execute(_WINNERS_SQL)
            live, winners, already, referenced = self.con.execute(_COUNT_SQL).fetchone()  # type: ignore[misc]
            self.con.execute(_update_sql())
            self.con.execute(_insert_sql())
        finally:
            self.con.unregister("batch_in")
        return BatchCounts(
            new=int(winners) - int(already),
            duplicate=int(already) + int(live) - int(winners),
            referenced=int(referenced),
            tombstoned=collected_in - int(live),
        )

    def _has_tombstones(self) -> bool:
        return bool(self.con.execute("SELECT EXISTS (SELECT 1 FROM tombstones)").fetchone()[0])  # type: ignore[index]

    def _record_quarantine(self, rows: list[Quarantined]) -> None:
        if not rows:
            return
        now = _now()
        table = pa.table({"source_file": [q.source_file for q in rows], "source_line": [q.source_line for q in rows],
                          "source_format": [q.source_format for q in rows], "reason": [q.reason for q in rows],
                          "raw": pa.array([q.raw for q in rows], pa.binary()), "_n": range(len(rows))})
        self.con.register("quarantine_in", table)
        try:  # one statement for the batch: row-by-row inserts made rejecting slower than ingesting
            self.con.execute("INSERT OR REPLACE INTO quarantine SELECT source_file, source_line, source_format, reason, "
                             "raw, ?::TIMESTAMP FROM quarantine_in QUALIFY row_number() OVER "
                             "(PARTITION BY source_file, source_line ORDER BY _n DESC) = 1", [now])
        finally:
            self.con.unregister("quarantine_in")

    def _record_deletes(self, deletes: list[Delete], source_file: str) -> None:
        """Deletion notices met during ingest: a later notice for the same id replaces an earlier one."""
        if deletes:
            self._insert_tombstones(deletes, source_file, replace=True)
            self._remove_tombstoned(source_file)

    def _insert_tombstones(self, deletes: list[Delete], source_file: str, replace: bool) -> int:
        """Returns how many of these targets were tombstoned already."""
        targets = pa.Table.from_pylist(
            [{"platform": d.platform, "target_id": d.target_id, "is_author": d.author, "deleted_at": d.deleted_at,
              "reason": d.reason, "_n": n} for n, d in enumerate(deletes)], schema=TARGET_SCHEMA)
        self.con.register("forget_in", targets)
        try:
            # The last notice for a target wins within one call, as it would row by row.
            self.con.execute("""CREATE OR REPLACE TEMP TABLE forget_targets AS SELECT * EXCLUDE (_n) FROM forget_in
                QUALIFY row_number() OVER (PARTITION BY platform, target_id, is_author ORDER BY _n DESC) = 1""")
        finally:
            self.con.unregister("forget_in")
        (already,), = self.con.execute("SELECT count(*) FROM forget_targets f JOIN tombstones t "
                                       "USING (platform, target_id, is_author)").fetchall()
        conflict = "OR REPLACE" if replace else "OR IGNORE"
        self.con.execute(f"INSERT {conflict} INTO tombstones SELECT platform, target_id, is_author, deleted_at, reason, ?, ? "
                         "FROM forget_targets", [source_file, _now()])
        return int(already)

    def _remove_tombstoned(self, source_file: str) -> Removed:
        self.con.execute(_GONE_SQL)
        self.con.execute(_REPOSTS_SQL)
        self.con.execute("INSERT OR IGNORE INTO tombstones SELECT platform, post_id, false, NULL, ?, ?, ? FROM forget_reposts",
                         [REPOST_REASON, source_file, _now()])
        (posts, referenced), = self.con.execute(
            "SELECT count(*) FILTER (WHERE collected), count(*) FILTER (WHERE NOT collected) FROM forget_gone").fetchall()
        (reposts,), = self.con.execute("SELECT count(*) FROM forget_reposts").fetchall()
        self.con.execute(_REMOVE_SQL)
        self.con.execute(provenance.FORGET_SQL)
        return Removed(int(posts), int(referenced), int(reposts))


class StoreWriteError(GroundswellError):
    """The store itself cannot be written (disk full, read-only): no later file can be ingested either."""


_FULL_DISK = ("no space left", "file too large", "disk quota")
_READ_ONLY = ("permission denied", "operation not permitted", "read-only file system")


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


DEFAULT_MEMORY_LIMIT = "3GB"


def _connect(path: str, read_only: bool, busy_wait: float) -> duckdb.DuckDBPyConnection:
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


BUSY_WAIT_SECONDS = 5.0


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


def _now() -> datetime:
    return datetime.utcnow().replace(tzinfo=None)
