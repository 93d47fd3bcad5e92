"""Forgetting: tombstone ids and accounts, and remove their posts and the reposts of them.

Both a compliance `forget` and the deletion notices met during ingest come through here,
inside the caller's transaction, so a post is never gone without its tombstone (which keeps
a re-read archive from bringing it back) nor tombstoned while it still stands.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pyarrow as pa

from ..formats.base import Delete
from . import provenance
from .connection import utc_now

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


def record_deletes(con: duckdb.DuckDBPyConnection, deletes: list[Delete], source_file: str) -> None:
    """Deletion notices met during ingest: a later notice for the same id replaces an earlier one."""
    if deletes:
        insert_tombstones(con, deletes, source_file, replace=True)
        remove_tombstoned(con, source_file)


def insert_tombstones(con: duckdb.DuckDBPyConnection, deletes: list[Delete], source_file: str, replace: bool) -> int:
    """Returns how many of these targets were tombstoned already."""
    targets = pa.Table.from_pylist(
        [{"platform": d.platform, "target_id": d.target_id, "is_author": d.author, "deleted_at": d.deleted_at,
          "reason": d.reason, "_n": n} for n, d in enumerate(deletes)], schema=TARGET_SCHEMA)
    con.register("forget_in", targets)
    try:
        # The last notice for a target wins within one call, as it would row by row.
        con.execute("""CREATE OR REPLACE TEMP TABLE forget_targets AS SELECT * EXCLUDE (_n) FROM forget_in
            QUALIFY row_number() OVER (PARTITION BY platform, target_id, is_author ORDER BY _n DESC) = 1""")
    finally:
        con.unregister("forget_in")
    (already,), = con.execute("SELECT count(*) FROM forget_targets f JOIN tombstones t "
                              "USING (platform, target_id, is_author)").fetchall()
    conflict = "OR REPLACE" if replace else "OR IGNORE"
    con.execute(f"INSERT {conflict} INTO tombstones SELECT platform, target_id, is_author, deleted_at, reason, ?, ? "
                "FROM forget_targets", [source_file, utc_now()])
    return int(already)


def remove_tombstoned(con: duckdb.DuckDBPyConnection, source_file: str) -> Removed:
    """Remove the posts of `forget_targets` and the reposts of them, tombstoning those reposts."""
    con.execute(_GONE_SQL)
    con.execute(_REPOSTS_SQL)
    con.execute("INSERT OR IGNORE INTO tombstones SELECT platform, post_id, false, NULL, ?, ?, ? FROM forget_reposts",
                [REPOST_REASON, source_file, utc_now()])
    (posts, referenced), = con.execute(
        "SELECT count(*) FILTER (WHERE collected), count(*) FILTER (WHERE NOT collected) FROM forget_gone").fetchall()
    (reposts,), = con.execute("SELECT count(*) FROM forget_reposts").fetchall()
    con.execute(_REMOVE_SQL)
    con.execute(provenance.FORGET_SQL)
    return Removed(int(posts), int(referenced), int(reposts))
