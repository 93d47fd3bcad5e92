"""The DuckDB store: upserts that never count a post twice, quarantine, tombstones, files.

Every write of a batch happens in one transaction together with the bookkeeping that
says how far ingest got, so a process killed at any moment leaves a store that a re-run
completes without duplicates.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable

import duckdb
import orjson
import pyarrow as pa

from ..errors import GroundswellError, StoreBusy
from ..formats.base import Delete
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


def _upsert_sql() -> str:
    content = [c for c in FIELD_NAMES if c not in KEY and c != "collected"]
    new_wins = (
        "((excluded.collected OR NOT posts.collected) AND NOT coalesce("
        + _older_version("excluded.version_id", "posts.version_id")
        + ", false))"
    )
    sets = []
    for column in content:
        new_value = f"coalesce(excluded.{column}, posts.{column})" if column in ENGAGEMENT else f"excluded.{column}"
        sets.append(f"{column} = CASE WHEN {new_wins} THEN {new_value} ELSE posts.{column} END")
    sets.append("collected = posts.collected OR excluded.collected")
    columns = ", ".join(FIELD_NAMES)
    return (
        f"INSERT INTO posts ({columns}) SELECT {columns} FROM batch_winners "
        f"ON CONFLICT (platform, post_id) DO UPDATE SET {', '.join(sets)}"
    )


# Posts whose id or author was forgotten never come back, whatever archive is re-read.
_LIVE_SQL = """
CREATE OR REPLACE TEMP TABLE batch_live AS
SELECT *, row_number() OVER () AS _pos FROM batch_in b
WHERE NOT EXISTS (SELECT 1 FROM tombstones t WHERE t.platform = b.platform AND
                  ((NOT t.is_author AND t.target_id = b.post_id) OR (t.is_author AND t.target_id = b.author_id)))
"""

# Within one batch the same post may appear many times (one original, retweeted by many):
# keep the copy that would win in the store, and the last one among equals.
_WINNERS_SQL = """
CREATE OR REPLACE TEMP TABLE batch_winners AS
SELECT * EXCLUDE (_pos) FROM batch_live
QUALIFY row_number() OVER (
  PARTITION BY platform, post_id
  ORDER BY collected DESC, length(coalesce(version_id, '')) DESC, coalesce(version_id, '') DESC, _pos DESC
) = 1
"""

_COUNT_SQL = """
SELECT
  (SELECT count(*) FILTER (WHERE collected) FROM batch_in) AS collected_in,
  (SELECT count(*) FILTER (WHERE collected) FROM batch_live) AS collected_live,
  count(*) FILTER (WHERE w.collected) AS collected_winners,
  count(*) FILTER (WHERE w.collected AND coalesce(p.collected, false)) AS already_collected,
  count(*) FILTER (WHERE NOT w.collected AND p.post_id IS NULL) AS new_referenced
FROM batch_winners w LEFT JOIN posts p ON p.platform = w.platform AND p.post_id = w.post_id
"""


class Store:
    """A groundswell store in one DuckDB file."""

    def __init__(self, path: str | None = None, read_only: bool = False):
        self.path = default_db_path(path)
        self.read_only = read_only
        self.con = _connect(self.path, read_only)
        if not read_only:
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

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # --- reading ---------------------------------------------------------------------

    def sql(self, query: str, params: list[Any] | None = None) -> list[tuple]:
        return self.con.execute(query, params or []).fetchall()

    def file_fingerprint(self, path: str) -> str | None:
        rows = self.sql("SELECT fingerprint FROM files WHERE path = ? AND status = 'done'", [path])
        return rows[0][0] if rows else None

    # --- writing ---------------------------------------------------------------------

    def start_run(self) -> int:
        (run_id,) = self.con.execute("SELECT coalesce(max(run_id), 0) + 1 FROM runs").fetchone()  # type: ignore[misc]
        self.con.execute("INSERT INTO runs VALUES (?, ?, NULL, 'running', NULL)", [run_id, _now()])
        return int(run_id)

    def finish_run(self, run_id: int, status: str, summary: dict[str, Any]) -> None:
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
    ) -> BatchCounts:
        """Store one batch atomically: tombstones first, so a delete in the batch wins."""
        counts = BatchCounts()
        self.con.execute("BEGIN TRANSACTION")
        try:
            self._record_deletes(list(deletes), source_file)
            if posts.num_rows:
                counts = self._upsert(posts)
            self._record_quarantine(list(quarantined))
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        return counts

    def mark_file(self, path: str, fingerprint: str | None, source_format: str, status: str,
                  records: int, posts: int, run_id: int) -> None:
        self.con.execute(
            "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [path, fingerprint, source_format, status, records, posts, run_id, _now()],
        )

    def _upsert(self, posts: pa.Table) -> BatchCounts:
        self.con.register("batch_in", posts)
        try:
            self.con.execute(_LIVE_SQL)
            self.con.execute(_WINNERS_SQL)
            collected_in, live, winners, already, referenced = self.con.execute(_COUNT_SQL).fetchone()  # type: ignore[misc]
            self.con.execute(_upsert_sql())
        finally:
            self.con.unregister("batch_in")
        return BatchCounts(
            new=int(winners) - int(already),
            duplicate=int(already) + int(live) - int(winners),
            referenced=int(referenced),
            tombstoned=int(collected_in) - int(live),
        )

    def _record_quarantine(self, rows: list[Quarantined]) -> None:
        if not rows:
            return
        now = _now()
        self.con.executemany(
            "INSERT OR REPLACE INTO quarantine VALUES (?, ?, ?, ?, ?, ?)",
            [(q.source_file, q.source_line, q.source_format, q.reason, q.raw, now) for q in rows],
        )

    def _record_deletes(self, deletes: list[Delete], source_file: str) -> None:
        if not deletes:
            return
        now = _now()
        self.con.executemany(
            "INSERT OR REPLACE INTO tombstones VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(d.platform, d.target_id, d.author, d.deleted_at, d.reason, source_file, now) for d in deletes],
        )
        self.con.execute(
            """DELETE FROM posts p USING tombstones t
               WHERE t.platform = p.platform AND t.recorded_at = ?
                 AND ((NOT t.is_author AND t.target_id = p.post_id) OR (t.is_author AND t.target_id = p.author_id))""",
            [now],
        )


def _connect(path: str, read_only: bool) -> duckdb.DuckDBPyConnection:
    if read_only and not os.path.exists(path):
        raise GroundswellError(f"{path}: no such store (run `groundswell ingest` first, or pass --db)")
    try:
        con = duckdb.connect(path, read_only=read_only)
    except duckdb.IOException as exc:
        message = str(exc)
        if "lock" in message.lower():
            raise StoreBusy(f"{path}: store is busy (another groundswell process is writing to it); try again when it finishes") from None
        raise GroundswellError(f"{path}: cannot open the store ({message.splitlines()[0]})") from None
    con.execute("SET TimeZone = 'UTC'")
    return con


def _now() -> datetime:
    return datetime.utcnow().replace(tzinfo=None)
