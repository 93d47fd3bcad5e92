"""Where live events go: a buffer, parsed and matched like any archive, committed in small
batches together with the source's cursor, with the store open only for the commit.

Reading while watching: DuckDB lets one process write a store, and while any process has
it open no other can write it. So the watch opens the store only to commit (a fraction of a
second every `interval`), and between commits `stats`, `report`, `export` and `serve` open
it freely (readers that meet a commit wait for it, see store/connection.py). A reader that
holds the store for long only delays commits: events keep buffering in memory, and the
cursor advances only with a commit, so a kill at any moment resumes from what was stored.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import StoreBusy
from ..formats.base import Delete, resolve_local_deletes
from ..ingest.worker import Chunk, parse_chunk
from ..movement.definition import Movement
from ..movement.match import matched_posts_sql
from ..store.duckdb_store import Store
from . import ledger

COMMIT_SECONDS = 1.0
COMMIT_EVENTS = 50_000  # at full speed a commit every few seconds; its fixed cost is the store's open and close


class Sink:
    def __init__(self, db: str, source: str, platform: str, endpoint: str, format_name: str,
                 movement: Movement | None, interval: float = COMMIT_SECONDS):
        self.db, self.source, self.platform, self.endpoint = db, source, platform, endpoint
        self.format_name, self.movement, self.interval = format_name, movement, interval
        self.buffer: list[Any] = []
        self.progress = ledger.Progress()
        self.pending_cursor: str | None = None
        self.last_commit = time.monotonic()
        self.busy_waits = 0
        self.totals = {"events": 0, "posts": 0, "matched": 0, "deletes": 0, "rejected": 0, "commits": 0}
        self._serial = 0

    def stored_cursor(self) -> str | None:
        """The cursor committed by an earlier run, if the store has one (None: a first start)."""
        try:
            with Store(self.db, read_only=False) as store:
                return ledger.cursor(store.con, self.source)
        except StoreBusy:
            time.sleep(0.5)
            return self.stored_cursor()

    def add(self, raw: Any, cursor: str | None = None, at: datetime | None = None) -> None:
        self.buffer.append(raw)
        self.progress.events += 1
        self.totals["events"] += 1
        if cursor is not None:
            self.pending_cursor = cursor
        if at is not None:  # plain comparisons: this runs for every event of the firehose
            progress = self.progress
            if progress.first_event_at is None or at < progress.first_event_at:
                progress.first_event_at = at
            if progress.last_event_at is None or at > progress.last_event_at:
                progress.last_event_at = at

    def due(self) -> bool:
        return len(self.buffer) >= COMMIT_EVENTS or time.monotonic() - self.last_commit >= self.interval

    def commit(self) -> bool:
        """Write the buffer and the cursor in one transaction; False (nothing lost) when a
        reader holds the store, to be tried again at the next tick."""
        self.last_commit = time.monotonic()
        records = [(self._position(), raw) for raw in self.buffer]
        result = parse_chunk(Chunk(f"watch:{self.source}", self.format_name, {}, records, datetime.utcnow()))
        posts = self._kept(result.posts)
        try:
            store = Store(self.db, busy_wait=0)  # never stall the stream: the buffer waits instead
        except StoreBusy:
            self.busy_waits += 1
            return False
        try:
            deletes = self._deletes(store, result.deletes, posts)
            done = self.progress.taken()
            done.cursor = self.pending_cursor or self.progress.cursor
            done.posts = posts.num_rows
            store.write_batch(posts, result.quarantined, deletes, f"watch:{self.source}",
                              bookkeeping=lambda con: ledger.record(con, self.source, self.platform, self.endpoint,
                                                                    done, datetime.utcnow()))
        finally:
            store.close()
        self.progress.cursor = done.cursor
        self.buffer = []
        self.totals["posts"] += result.posts.num_rows
        self.totals["matched"] += posts.num_rows
        self.totals["deletes"] += len(deletes)
        self.totals["rejected"] += len(result.quarantined)
        self.totals["commits"] += 1
        return True

    def _position(self) -> int:
        """A line number for quarantine rows that never repeats across runs: microseconds."""
        self._serial = max(self._serial + 1, int(time.time() * 1_000_000))
        return self._serial

    def _kept(self, posts: pa.Table) -> pa.Table:
        """The movement's posts (the same SQL matcher as every figure), or all with no movement."""
        if self.movement is None or posts.num_rows == 0:
            return posts
        con = duckdb.connect()
        try:
            con.register("batch", posts)
            ids = [pid for (pid,) in con.execute(f"SELECT post_id FROM ({matched_posts_sql(self.movement, 'batch')})").fetchall()]
        finally:
            con.close()
        return posts.filter(pc.is_in(posts.column("post_id"), value_set=pa.array(ids, pa.string())))

    def _deletes(self, store: Store, deletes: list[Delete], kept: pa.Table) -> list[Delete]:
        """Deletions of posts this watch keeps (or could have kept), with local ids mapped to posts."""
        if not deletes:
            return []
        local = ledger.resolve_local(store.con, self.source, [d.target_id for d in deletes])
        local.update(self.progress.local_ids)
        mapped = resolve_local_deletes(deletes, local)
        if self.movement is None:
            return mapped
        wanted = {d.target_id for d in mapped}
        in_batch = set(kept.column("post_id").to_pylist()) & wanted
        stored = {pid for (pid,) in store.con.execute(
            "SELECT post_id FROM posts WHERE list_contains(?, post_id)", [sorted(wanted)]).fetchall()}
        return [d for d in mapped if d.target_id in in_batch | stored or d.author]
