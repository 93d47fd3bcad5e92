"""What the dashboard serves from: the store read-only, the movement's scope built once per
snapshot, and each request's figures computed by the report's own registry over a filtered
copy of it.

The store is read through an in-memory snapshot (store/snapshot.py), so the dashboard never
holds the file and `ingest` or `watch` can go on writing it. A snapshot with its scope and
the views computed over it is a Generation: one connection, used by one request at a time
(its lock), because a local dashboard has one reader and the scope's temp tables live in that
connection. A thread beside the server watches the file; when it changes, the thread takes a
new snapshot and computes the main view over it before it replaces the one being served, so
no request waits on a snapshot (tens of seconds at 10^7 posts) and the main view is always
answered from what was computed ahead. While a writer holds the file, the last snapshot keeps
being served. A request's statement that runs past the time limit is interrupted and answered
with "narrow the window".
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, Iterable, Iterator

from ..engines.duckdb import DuckDBEngine
from ..errors import GroundswellError, StoreBusy
from ..store.snapshot import snapshot
from ..metrics import coverage, scope
from ..movement.definition import Movement
from ..report.context import ReportOptions
from ..report.figures import compute_figures, context, prepare_scope
from .filters import Filters

FULL = "gs_full"
EXPLORE_PAGE = "gs_explore_page"  # one page of the scope, for the explore table
MAIN_VIEW = ("headline", "volume", "hashtag_vs_phrase", "families", "platforms", "languages", "co_hashtags", "coverage")
CACHED_VIEWS = 64
PAGE_SIZES = range(1, 201)
DEFAULT_TIME_LIMIT = 20.0
POLL_SECONDS = 1.0  # how often the follower looks at the store file's size and time
log = logging.getLogger("groundswell.serve")


class TooSlow(Exception):
    """A query ran past the time limit."""


@dataclass
class Generation:
    """One snapshot of the store, its full scope (`gs_full`), and the views computed over it."""

    engine: DuckDBEngine
    stamp: tuple[float, int]  # the store file's (mtime, size) when the snapshot was taken
    loaded_at: datetime
    lock: threading.Lock = field(default_factory=threading.Lock)
    cache: OrderedDict[tuple[Any, ...], dict[str, Any]] = field(default_factory=OrderedDict)
    narrowed: Filters | None = Filters()  # what `gs_scope` holds now: a view when empty, else a table
    closed: bool = False

    def close(self) -> None:
        if not self.closed:
            self.engine.store.close()  # the snapshot's connection: the store file was let go already
            self.closed = True

    @property
    def version(self) -> str:
        return f"{self.stamp[0]:.6f}-{self.stamp[1]}"


class Dashboard:
    def __init__(self, db: str, movement: Movement | None, options: ReportOptions,
                 time_limit: float = DEFAULT_TIME_LIMIT, poll_seconds: float = POLL_SECONDS):
        self.db, self.movement, self.options, self.time_limit = db, movement, options, time_limit
        self.poll_seconds = poll_seconds
        self.current = self._generation()
        self.warmed = threading.Event()  # set once the first snapshot's main view is computed
        self.refresh_error: str | None = None
        self._asked = False  # a request came since the snapshot in service was taken
        self._stop = threading.Event()
        self._follower = threading.Thread(target=self._follow, name="groundswell-serve-follow", daemon=True)
        self._follower.start()

    def close(self) -> None:
        self._stop.set()
        with self.current.lock:
            self.current.close()

    # --- the store, its snapshots and the full scope ----------------------------------------

    def _file_stamp(self) -> tuple[float, int]:
        if not os.path.exists(self.db):
            raise GroundswellError(f"{self.db}: no such store (run `groundswell ingest` first, or pass --db)")
        paths = [self.db, self.db + ".wal"]
        stats = [os.stat(p) for p in paths if os.path.exists(p)]
        return max(s.st_mtime for s in stats), sum(s.st_size for s in stats)

    def _generation(self) -> Generation:
        """A snapshot with the movement's scope kept whole as `gs_full`, and `gs_scope` a view of it."""
        stamp = self._file_stamp()
        copy = snapshot(self.db)
        engine = DuckDBEngine(store=copy)
        try:
            prepare_scope(engine, self.movement, writable=False, workers=1)
            engine.query(f"ALTER TABLE {scope.SCOPE} RENAME TO {FULL}")
            engine.query(f"CREATE TEMP VIEW {scope.SCOPE} AS SELECT * FROM {FULL}")
        except BaseException:
            copy.close()
            raise
        return Generation(engine, stamp, datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0))

    def _follow(self) -> None:
        """Compute the first snapshot's main view, then follow the file until the dashboard closes."""
        self._warm(self.current)
        self.warmed.set()
        while not self._stop.wait(self.poll_seconds):
            self._refresh()

    def _warm(self, generation: Generation) -> None:
        with generation.lock:
            if not generation.closed:
                self._answer(generation, Filters(), MAIN_VIEW, limited=False)

    def _refresh(self) -> None:
        """A new snapshot when the file changed, its main view computed before it replaces the
        one being served; a busy or unreadable store leaves the last snapshot in service. Only
        while someone asks (the open page asks every 5 s): a dashboard nobody looks at does
        not take snapshots, at a core's worth of work each, beside a watch that is collecting."""
        try:
            if not self._asked or self._file_stamp() == self.current.stamp:
                return  # nobody looked since the last snapshot, or nothing changed
            self._asked = False  # asks from here on want the snapshot after this one
            fresh = self._generation()
            self._warm(fresh)
        except StoreBusy:
            self._asked = True
            return  # a writer is committing: try again at the next look
        except Exception as exc:  # the page keeps its last data and says why it is not newer
            self._asked = True
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            if message != self.refresh_error:
                log.warning("the dashboard keeps its last snapshot: %s", message)
            self.refresh_error = message
            return
        if self._stop.is_set():
            fresh.close()
            return
        old, self.current, self.refresh_error = self.current, fresh, None
        with old.lock:
            old.close()

    @contextmanager
    def _serving(self) -> Iterator[Generation]:
        """The generation in service, held for one request; one replaced meanwhile is never used."""
        self._asked = True
        while True:
            generation = self.current
            with generation.lock:
                if not generation.closed:
                    yield generation
                    return
            if self._stop.is_set():
                raise GroundswellError("the dashboard is closed")

    # --- answers ----------------------------------------------------------------------------

    def figures(self, filters: Filters, keys: Iterable[str] | None = None) -> dict[str, Any]:
        """The report's figures over the filtered scope, from the registry's compute functions;
        a view asked for again before the store changes is answered from the cache."""
        with self._serving() as generation:
            return self._answer(generation, filters, keys, limited=True)

    def _answer(self, generation: Generation, filters: Filters, keys: Iterable[str] | None,
                limited: bool) -> dict[str, Any]:
        key = (filters, tuple(sorted(keys)) if keys is not None else None)
        if key in generation.cache:
            generation.cache.move_to_end(key)
            return generation.cache[key]
        engine = self._narrow(generation, filters)
        ctx = context(engine, self.movement, self.options, writable=False)
        run = (lambda work: self._timed(engine, work)) if limited else None
        answer: dict[str, Any] = {"settings": ctx.options.as_dict(), "filters": filters.as_dict(),
                                  "movement": self.movement.name if self.movement else None,
                                  **compute_figures(ctx, keys, run=run)}
        generation.cache[key] = answer
        while len(generation.cache) > CACHED_VIEWS:
            generation.cache.popitem(last=False)
        return answer

    def posts(self, filters: Filters, page: int, size: int) -> dict[str, Any]:
        """One page of the explore table: the export's posts, privacy rules and all, paged in SQL."""
        from ..report.export import POSTS_ORDER, posts_sql

        with self._serving() as generation:
            engine = self._narrow(generation, filters)
            ctx = context(engine, self.movement, self.options, writable=False)

            def read() -> dict[str, Any]:
                """The page is cut from the scope first, in the export's order, so the export's
                query (privacy rules, references) runs over one page instead of every post."""
                con = engine.store.con
                (total,), = engine.query(f"SELECT count(*) FROM {scope.SCOPE}")
                con.execute(f"CREATE OR REPLACE TEMP TABLE {EXPLORE_PAGE} AS SELECT * FROM {scope.SCOPE} "
                            f"ORDER BY {', '.join(POSTS_ORDER)} LIMIT ? OFFSET ?", [size, page * size])
                cursor = con.execute(posts_sql(ctx, rows=EXPLORE_PAGE))
                names = [d[0] for d in cursor.description]
                rows = [{k: _plain(v) for k, v in zip(names, row)} for row in cursor.fetchall()]
                return {"total": int(total), "page": page, "size": size, "rows": rows}

            return self._timed(engine, read)

    def hashtag_curve(self, filters: Filters, key: str, bucket: str) -> dict[str, Any]:
        """Posts carrying one hashtag key per bucket, on the same grid as the volume chart."""
        from ..metrics import volume

        with self._serving() as generation:
            engine = self._narrow(generation, filters)
            ctx = context(engine, self.movement, self.options, writable=False)
            if not ctx.timed:
                return {"bucket": bucket, "series": [], "posts": 0}
            sql = (f"SELECT {ctx.local.bucket_sql(bucket)} AS b, count(*) FROM {scope.SCOPE} "
                   f"WHERE created_at IS NOT NULL AND list_contains(hashtag_keys, ?) GROUP BY b")
            people_sql = (f"SELECT count(DISTINCT author_id), count(*) FILTER (WHERE created_at IS NULL) "
                          f"FROM {scope.SCOPE} WHERE list_contains(hashtag_keys, ?)")
            (people, untimed), = engine.store.con.execute(people_sql, [key]).fetchall()
            if ctx.privacy.suppresses and 0 < people < ctx.privacy.min_cell:  # a curve that could point at people
                return {"bucket": bucket, "series": [], "posts": None, "suppressed": True,
                        "reason": f"used by fewer than {ctx.privacy.min_cell} people"}
            found = dict(self._timed(engine, lambda: engine.store.con.execute(sql, [key]).fetchall()))
            grid = volume.grid(ctx.local, bucket, ctx.first, ctx.last)
        series = [{"t": volume.stamp(t, bucket), "posts": int(found.get(t, 0))} for t in grid]
        return {"bucket": bucket, "series": series, "posts": sum(r["posts"] for r in series),
                "posts_without_time": int(untimed), "suppressed": False}

    def _narrow(self, generation: Generation, filters: Filters) -> DuckDBEngine:
        """Point `gs_scope` at the filtered posts: the whole scope is read in place (a view, no
        copy), a slice is copied once, because every figure then reads it again."""
        engine = generation.engine
        if generation.narrowed == filters:
            return engine
        con = engine.store.con
        if generation.narrowed is not None:  # None: dropped, and its successor never made
            con.execute(f"DROP {'VIEW' if generation.narrowed.empty else 'TABLE'} {scope.SCOPE}")
            generation.narrowed = None
        where, params = filters.where()
        if filters.empty:
            con.execute(f"CREATE TEMP VIEW {scope.SCOPE} AS SELECT * FROM {FULL}")
        else:
            con.execute(f"CREATE TEMP TABLE {scope.SCOPE} AS SELECT * FROM {FULL} WHERE {where}", params)
        generation.narrowed = filters
        return engine

    def _timed(self, engine: DuckDBEngine, work: Any) -> Any:
        timer = threading.Timer(self.time_limit, engine.store.con.interrupt)
        timer.start()
        try:
            return work()
        except Exception as exc:
            if "interrupt" in str(exc).lower():
                raise TooSlow() from None
            raise
        finally:
            timer.cancel()

    def live(self) -> dict[str, Any]:
        """When the page's data was read, the newest post, and how far behind real time it is."""
        with self._serving() as generation:
            query = generation.engine.query
            newest, collected = query("SELECT max(created_at), max(collected_at) FROM posts WHERE collected")[0]
            now = datetime.now(timezone.utc).replace(tzinfo=None)
            sources = coverage.live(query)["sources"]
        return {"loaded_at": _iso(generation.loaded_at), "newest_post": _iso(newest), "last_collected": _iso(collected),
                "lag_seconds": round((now - newest).total_seconds(), 1) if newest else None, "sources": sources,
                "version": generation.version, "refresh_error": self.refresh_error}


def _plain(value: Any) -> Any:
    """A JSON-able cell: times as ISO strings."""
    return _iso(value) if isinstance(value, datetime) else value


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() + "Z" if moment else None


def with_bucket(options: ReportOptions, bucket: str | None) -> ReportOptions:
    return replace(options, bucket=bucket) if bucket else options
