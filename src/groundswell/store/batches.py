"""One write batch's posts and rejections: the upsert that never counts a post twice.

These are the store's deduplication rules, applied batch by batch in SQL (engines/dedupe.py
states the same rules as one query for Spark). They run inside Store.write_batch's
transaction, so they take the connection and never commit on their own.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from ..model import ENGAGEMENT, FIELD_NAMES
from .connection import utc_now
from .schema import KEY


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


def _insert_sql(all_new: bool) -> str:
    """`all_new`: no winner is stored yet (the count said so), so the anti-join is skipped."""
    columns = ", ".join(FIELD_NAMES)
    unstored = "" if all_new else (
        "WHERE NOT EXISTS (SELECT 1 FROM posts p WHERE p.platform = b.platform AND p.post_id = b.post_id)")
    return (f"INSERT INTO posts ({columns}) SELECT {', '.join('b.' + c for c in FIELD_NAMES)} "
            f"FROM batch_in b JOIN batch_winners w USING (_pos) {unstored}")


# Narrow copies of the batch's keys: deduplication and counting never move the wide columns.
_KEYS_SQL = """
CREATE OR REPLACE TEMP TABLE batch_keys AS
SELECT platform, post_id, author_id, reposted_post_id, collected, version_id, _pos FROM batch_in
"""

# Posts whose id or author was forgotten never come back, whatever archive is re-read; nor
# do reposts of them, which carry the forgotten text (a retweet's text is its original's).
# Equality joins only: `post_id IN (k.post_id, k.reposted_post_id)` made DuckDB compare every
# key with every tombstone (1.1 s for one 130,000-event live batch with 5,200 deletes).
_DROP_TOMBSTONED_SQL = """
CREATE OR REPLACE TEMP TABLE batch_dropped AS
SELECT platform, post_id FROM batch_keys k WHERE
  EXISTS (SELECT 1 FROM tombstones t WHERE NOT t.is_author AND t.platform = k.platform AND t.target_id = k.post_id)
  OR EXISTS (SELECT 1 FROM tombstones t WHERE t.is_author AND t.platform = k.platform AND t.target_id = k.author_id);
DELETE FROM batch_keys WHERE _pos IN (
  SELECT k._pos FROM batch_keys k JOIN batch_dropped d ON d.platform = k.platform AND d.post_id = k.post_id
  UNION ALL
  SELECT k._pos FROM batch_keys k JOIN batch_dropped d ON d.platform = k.platform AND d.post_id = k.reposted_post_id
  UNION ALL
  SELECT k._pos FROM batch_keys k JOIN tombstones t
    ON NOT t.is_author AND t.platform = k.platform AND t.target_id = k.reposted_post_id);
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
  count(*) FILTER (WHERE NOT w.collected AND p.post_id IS NULL) AS new_referenced,
  count(p.post_id) AS stored
FROM batch_winners w LEFT JOIN posts p ON p.platform = w.platform AND p.post_id = w.post_id
"""


def upsert(con: duckdb.DuckDBPyConnection, posts: pa.Table) -> BatchCounts:
    """Merge a batch of posts into `posts`, counting what was new, seen before or forgotten."""
    collected_in = int(pc.sum(posts.column("collected").cast(pa.int64())).as_py() or 0)
    positioned = posts.append_column("_pos", pa.array(range(posts.num_rows), pa.int64()))
    con.register("batch_in", positioned)
    try:
        con.execute(_KEYS_SQL)
        if _has_tombstones(con):
            con.execute(_DROP_TOMBSTONED_SQL)
        con.execute(_WINNERS_SQL)
        live, winners, already, referenced, stored = con.execute(_COUNT_SQL).fetchone()  # type: ignore[misc]
        if stored:  # a fresh archive's batches meet nothing stored: no update can apply
            con.execute(_update_sql())
        con.execute(_insert_sql(all_new=not stored))
    finally:
        con.unregister("batch_in")
    return BatchCounts(
        new=int(winners) - int(already),
        duplicate=int(already) + int(live) - int(winners),
        referenced=int(referenced),
        tombstoned=collected_in - int(live),
    )


def _has_tombstones(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(con.execute("SELECT EXISTS (SELECT 1 FROM tombstones)").fetchone()[0])  # type: ignore[index]


def record_quarantine(con: duckdb.DuckDBPyConnection, rows: list[Quarantined]) -> None:
    """Keep rejected records at their file and line; the same line rejected again replaces itself."""
    if not rows:
        return
    now = utc_now()
    table = pa.table({"source_file": [q.source_file for q in rows], "source_line": [q.source_line for q in rows],
                      "source_format": [q.source_format for q in rows], "reason": [q.reason for q in rows],
                      "raw": pa.array([q.raw for q in rows], pa.binary()), "_n": range(len(rows))})
    con.register("quarantine_in", table)
    try:  # one statement for the batch: row-by-row inserts made rejecting slower than ingesting
        con.execute("INSERT OR REPLACE INTO quarantine SELECT source_file, source_line, source_format, reason, "
                    "raw, ?::TIMESTAMP FROM quarantine_in QUALIFY row_number() OVER "
                    "(PARTITION BY source_file, source_line ORDER BY _n DESC) = 1", [now])
    finally:
        con.unregister("quarantine_in")
