"""A live source's bookkeeping in the store: its cursor, its span, reconnects, gaps, waits.

Written in the same transaction as the posts it describes (Store.write_batch's
`bookkeeping`), so after any stop the cursor says exactly how far the store got. The report's
coverage section and the dashboard read `live_sources` and `live_gaps`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import duckdb

DDL = (
    """CREATE TABLE IF NOT EXISTS live_sources (
  source VARCHAR PRIMARY KEY,
  platform VARCHAR,
  endpoint VARCHAR,
  cursor VARCHAR,
  first_event_at TIMESTAMP,
  last_event_at TIMESTAMP,
  last_commit_at TIMESTAMP,
  events BIGINT,
  posts BIGINT,
  reconnects BIGINT,
  rate_limit_waits BIGINT,
  rate_limit_wait_seconds DOUBLE
)""",
    """CREATE TABLE IF NOT EXISTS live_gaps (
  source VARCHAR,
  gap_start TIMESTAMP,
  gap_end TIMESTAMP,
  seconds DOUBLE,
  reason VARCHAR,
  PRIMARY KEY (source, gap_start)
)""",
    """CREATE TABLE IF NOT EXISTS live_local_ids (
  source VARCHAR,
  local_id VARCHAR,
  post_id VARCHAR,
  PRIMARY KEY (source, local_id)
)""",
)


@dataclass
class Gap:
    start: datetime
    end: datetime
    reason: str


@dataclass
class Progress:
    """What this run adds to a source's row at the next commit."""

    cursor: str | None = None
    first_event_at: datetime | None = None
    last_event_at: datetime | None = None
    events: int = 0
    posts: int = 0
    reconnects: int = 0
    rate_limit_waits: int = 0
    rate_limit_wait_seconds: float = 0.0
    gaps: list[Gap] = field(default_factory=list)
    local_ids: dict[str, str] = field(default_factory=dict)

    def taken(self) -> "Progress":
        """The counts to commit now; this object keeps only the cursor and span."""
        out = Progress(self.cursor, self.first_event_at, self.last_event_at, self.events, self.posts, self.reconnects,
                       self.rate_limit_waits, self.rate_limit_wait_seconds, self.gaps, self.local_ids)
        self.events = self.posts = self.reconnects = self.rate_limit_waits = 0
        self.rate_limit_wait_seconds, self.gaps, self.local_ids = 0.0, [], {}
        return out


def create(con: duckdb.DuckDBPyConnection) -> None:
    for ddl in DDL:
        con.execute(ddl)


def cursor(con: duckdb.DuckDBPyConnection, source: str) -> str | None:
    if not con.execute("SELECT 1 FROM information_schema.tables WHERE table_name = 'live_sources'").fetchall():
        return None
    rows = con.execute("SELECT cursor FROM live_sources WHERE source = ?", [source]).fetchall()
    return rows[0][0] if rows else None


def record(con: duckdb.DuckDBPyConnection, source: str, platform: str, endpoint: str, done: Progress,
           committed_at: datetime) -> None:
    """Fold one commit's progress into the source's row (inside the batch's transaction)."""
    create(con)
    con.execute(
        """INSERT INTO live_sources VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (source) DO UPDATE SET cursor = coalesce(excluded.cursor, live_sources.cursor),
          first_event_at = coalesce(least(live_sources.first_event_at, excluded.first_event_at), excluded.first_event_at,
                                    live_sources.first_event_at),
          last_event_at = coalesce(greatest(live_sources.last_event_at, excluded.last_event_at), excluded.last_event_at,
                                   live_sources.last_event_at),
          last_commit_at = excluded.last_commit_at, endpoint = excluded.endpoint,
          events = live_sources.events + excluded.events, posts = live_sources.posts + excluded.posts,
          reconnects = live_sources.reconnects + excluded.reconnects,
          rate_limit_waits = live_sources.rate_limit_waits + excluded.rate_limit_waits,
          rate_limit_wait_seconds = live_sources.rate_limit_wait_seconds + excluded.rate_limit_wait_seconds""",
        [source, platform, endpoint, done.cursor, done.first_event_at, done.last_event_at, committed_at, done.events,
         done.posts, done.reconnects, done.rate_limit_waits, done.rate_limit_wait_seconds])
    for gap in done.gaps:
        con.execute("INSERT OR REPLACE INTO live_gaps VALUES (?, ?, ?, ?, ?)",
                    [source, gap.start, gap.end, (gap.end - gap.start).total_seconds(), gap.reason])
    if done.local_ids:
        con.executemany("INSERT OR REPLACE INTO live_local_ids VALUES (?, ?, ?)",
                        [(source, local, post) for local, post in done.local_ids.items()])


def resolve_local(con: duckdb.DuckDBPyConnection, source: str, local_ids: list[str]) -> dict[str, str]:
    """The posts that local ids (Mastodon's streaming deletes) stand for, as far as known."""
    if not local_ids or not con.execute(
            "SELECT 1 FROM information_schema.tables WHERE table_name = 'live_local_ids'").fetchall():
        return {}
    rows = con.execute("SELECT local_id, post_id FROM live_local_ids WHERE source = ? AND list_contains(?, local_id)",
                       [source, local_ids]).fetchall()
    return dict(rows)
