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

import asyncio
import queue
import threading
import time
from datetime import datetime
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import StoreBusy
from ..formats.base import Delete, resolve_local_deletes
from ..ingest.worker import Chunk, ChunkResult, parse_chunk
from ..movement.definition import Movement
from ..movement.match import matched_posts_sql
from ..store.duckdb_store import Store
from . import ledger

COMMIT_SECONDS = 1.0
COMMIT_EVENTS = 50_000  # at full speed a commit every few seconds; its fixed cost is the store's open and close
BUSY_RETRY_SECONDS = 0.2
# The sinks of one process (one per Mastodon instance) share the store's database instance:
# their transactions would conflict on the catalog, so they write one at a time.
_WRITING = threading.Lock()
MAX_BUFFERED = 2 * COMMIT_EVENTS  # beyond this the stream waits for the committer: memory stays bounded


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
        self._threads: list[threading.Thread] = []
        self._parsing = threading.Event()
        self._to_parse: queue.Queue[tuple[list[tuple[int, Any]], ledger.Progress]] = queue.Queue(maxsize=1)
        self._writes: queue.Queue[tuple[ChunkResult, pa.Table, ledger.Progress]] = queue.Queue(maxsize=1)
        self._failure: BaseException | None = None
        self._matcher: duckdb.DuckDBPyConnection | None = None  # the parsing thread's, for _kept

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
        if self._parsing.is_set():
            return False  # the batch before is still being parsed; this one grows meanwhile
        return len(self.buffer) >= COMMIT_EVENTS or time.monotonic() - self.last_commit >= self.interval

    def commit(self) -> bool:
        """Hand the buffer and its cursor on and return at once (False while the batch before
        is still being parsed). One thread parses a batch while another writes the batch
        before it, and both run while the stream is received: DuckDB releases the interpreter
        lock, so the three share the cores. Batches are written one at a time, in order."""
        self._raise_failure()
        if self._parsing.is_set():
            return False
        self.last_commit = time.monotonic()
        records = list(zip(self._positions(len(self.buffer)), self.buffer))
        done = self.progress.taken()
        done.cursor = self.pending_cursor or self.progress.cursor
        self.buffer = []
        if not self._threads:
            self._threads = [threading.Thread(target=work, name=f"{name} {self.source}", daemon=True)
                             for work, name in ((self._parse_each, "parse"), (self._write_each, "write"))]
            for thread in self._threads:
                thread.start()
        self._parsing.set()
        self._to_parse.put((records, done))
        return True

    def full(self) -> bool:
        return len(self.buffer) >= MAX_BUFFERED

    async def drain(self) -> None:
        """Stop reading until the batch before is parsed, then hand this one on. The socket's
        flow control slows the server meanwhile; a server that drops a slow reader is
        resumed from the cursor, like any other drop."""
        while not self.commit():
            await asyncio.sleep(0.005)

    def flush(self) -> None:
        """Wait for the batches in flight, then write what is left (at the end of a watch)."""
        while True:
            self._to_parse.join()
            self._writes.join()
            self._raise_failure()
            if not self.buffer and self.pending_cursor in (None, self.progress.cursor):
                return
            self.commit()

    def _raise_failure(self) -> None:
        if self._failure is not None:
            raise self._failure

    def _parse_each(self) -> None:
        """A thread of its own for the sink's life, so that its DuckDB connection is reused."""
        while True:
            records, done = self._to_parse.get()
            try:
                result = parse_chunk(Chunk(f"watch:{self.source}", self.format_name, {}, records, datetime.utcnow()))
                self._writes.put((result, self._kept(result.posts), done))
            except BaseException as exc:  # raised again in the watch's own thread, at the next commit
                self._failure = exc
            finally:
                self._parsing.clear()
                self._to_parse.task_done()

    def _write_each(self) -> None:
        while True:
            batch = self._writes.get()
            try:
                if self._failure is None:  # after a failure nothing more is written: the cursor stays
                    with _WRITING:
                        self._write(*batch)
            except BaseException as exc:
                self._failure = exc
            finally:
                self._writes.task_done()

    def _write(self, result: ChunkResult, posts: pa.Table, done: ledger.Progress) -> None:
        """One batch in one transaction. A reader holding the store only delays it: the
        stream keeps buffering, and the cursor moves only when the batch is in."""
        store = self._open()
        try:
            deletes = self._deletes(store, result.deletes, posts, done.local_ids)
            done.posts = posts.num_rows
            store.write_batch(posts, result.quarantined, deletes, f"watch:{self.source}",
                              bookkeeping=lambda con: ledger.record(con, self.source, self.platform, self.endpoint,
                                                                    done, datetime.utcnow()))
        finally:
            store.close()
        self.progress.cursor = done.cursor
        self.totals["posts"] += result.posts.num_rows
        self.totals["matched"] += posts.num_rows
        self.totals["deletes"] += len(deletes)
        self.totals["rejected"] += len(result.quarantined)
        self.totals["commits"] += 1

    def _open(self) -> Store:
        while True:
            try:
                return Store(self.db, busy_wait=0)
            except StoreBusy:
                self.busy_waits += 1
                time.sleep(BUSY_RETRY_SECONDS)

    def _positions(self, n: int) -> range:
        """Line numbers for quarantine rows that never repeat across runs: microseconds."""
        first = max(self._serial + 1, int(time.time() * 1_000_000))
        self._serial = first + n - 1
        return range(first, first + n)

    def _kept(self, posts: pa.Table) -> pa.Table:
        """The movement's posts (the same SQL matcher as every figure), or all with no movement.
        Called in the parsing thread only, which keeps one connection for the sink's life: a
        connection per batch and the ids through Python cost the matching half its time."""
        if self.movement is None or posts.num_rows == 0:
            return posts
        if self._matcher is None:
            self._matcher = duckdb.connect()
            self._matcher.execute("SET threads = 1")  # the receiving loop and the writer share the cores
        con = self._matcher
        con.register("batch", posts)
        try:
            ids = con.sql(f"SELECT post_id FROM ({matched_posts_sql(self.movement, 'batch')})").to_arrow_table()
        finally:
            con.unregister("batch")
        return posts.filter(pc.is_in(posts.column("post_id"), value_set=ids.column(0).combine_chunks()))

    def _deletes(self, store: Store, deletes: list[Delete], kept: pa.Table, batch_ids: dict[str, str]) -> list[Delete]:
        """Deletions of posts this watch keeps (or could have kept), with local ids mapped to
        posts: those stored, those of this batch, and those received since."""
        if not deletes:
            return []
        local = ledger.resolve_local(store.con, self.source, [d.target_id for d in deletes])
        local.update(batch_ids)
        local.update(self.progress.local_ids)
        mapped = resolve_local_deletes(deletes, local)
        if self.movement is None:
            return mapped
        wanted = {d.target_id for d in mapped}
        in_batch = set(kept.column("post_id").to_pylist()) & wanted
        stored = {pid for (pid,) in store.con.execute(
            "SELECT post_id FROM posts WHERE list_contains(?, post_id)", [sorted(wanted)]).fetchall()}
        return [d for d in mapped if d.target_id in in_batch | stored or d.author]
