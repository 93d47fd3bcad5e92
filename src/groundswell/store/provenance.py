"""Where posts came from, beyond the post row: named collections and stream limit notices.

A post seen by two collections is one row in `posts` (never counted twice), so which
collections saw it lives in `collection_posts`; capture-recapture needs exactly that
overlap. Limit notices are kept line by line per source file, because their counts are
cumulative per connection and only their increments mean anything. Both writes are
idempotent: re-reading a file replaces its notices and adds no membership twice.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pyarrow as pa

from ..formats.base import LimitNotice

_MEMBERS_SQL = """
INSERT OR IGNORE INTO collection_posts
SELECT DISTINCT ?, m.platform, m.post_id FROM gs_members m
WHERE m.collected AND EXISTS (SELECT 1 FROM posts p WHERE p.platform = m.platform AND p.post_id = m.post_id)
"""
# A forgotten post leaves no trace: its memberships go with it (run inside forget's transaction).
FORGET_SQL = """
DELETE FROM collection_posts c USING (SELECT platform, post_id FROM forget_gone UNION ALL
                                      SELECT platform, post_id FROM forget_reposts) g
WHERE c.platform = g.platform AND c.post_id = g.post_id
"""
_LIMITS_SCHEMA = pa.schema([("source_line", pa.int64()), ("platform", pa.string()), ("track", pa.int64()),
                            ("noticed_at", pa.timestamp("us"))])


def record_collection(con: duckdb.DuckDBPyConnection, collection: str, posts: pa.Table) -> None:
    """Add this batch's collected posts to `collection` (posts' key columns only); a post the
    batch's own delete notices removed is not in `posts` and is not added. Runs inside the
    batch's transaction (Store.write_batch's bookkeeping), so membership and posts agree."""
    if not posts.num_rows:
        return
    con.register("gs_members", posts.select(["platform", "post_id", "collected"]))
    try:
        con.execute(_MEMBERS_SQL, [collection])
    finally:
        con.unregister("gs_members")


def record_limits(con: duckdb.DuckDBPyConnection, collection: str, source_file: str,
                  limits: list[tuple[int, LimitNotice]]) -> None:
    """Keep each notice at its file and line; the same line read again replaces itself."""
    if not limits:
        return
    rows = pa.Table.from_pylist([{"source_line": line, "platform": n.platform, "track": n.track, "noticed_at": n.at}
                                 for line, n in limits], schema=_LIMITS_SCHEMA)
    con.register("gs_limits", rows)
    try:
        con.execute("INSERT OR REPLACE INTO limit_notices SELECT ?, source_line, ?, platform, track, noticed_at "
                    "FROM gs_limits", [source_file, collection])
    finally:
        con.unregister("gs_limits")


def has_table(query: Any, name: str) -> bool:
    """Stores written before these tables existed, and Spark lakes, simply have no such data."""
    try:
        query(f"SELECT 1 FROM {name} LIMIT 0")
    except Exception:  # noqa: BLE001 - a missing table is the only expected failure
        return False
    return True
