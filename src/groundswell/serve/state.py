"""What the dashboard serves from: the store read-only, the movement's scope built once, and
each request's figures computed by the report's own registry over a filtered copy of it.

The store is read through an in-memory snapshot (store/snapshot.py), so the dashboard never
holds the file and `ingest` or `watch` can go on writing it. One connection, used by one
request at a time (a lock): a local dashboard has one reader, and the scope's temp tables
live in that connection. When the store file changes, the next request takes a new snapshot
and rebuilds the scope, so the page follows collection without a restart; while a writer
holds the file, the last snapshot keeps being served. A statement that runs past the time
limit is interrupted and answered with "narrow the window".
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any, Iterable

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
CACHED_VIEWS = 64
PAGE_SIZES = range(1, 201)
DEFAULT_TIME_LIMIT = 20.0


class TooSlow(Exception):
    """A query ran past the time limit."""


class Dashboard:
    def __init__(self, db: str, movement: Movement | None, options: ReportOptions,
                 time_limit: float = DEFAULT_TIME_LIMIT):
        self.db, self.movement, self.options, self.time_limit = db, movement, options, time_limit
        self.lock = threading.Lock()
        self.engine: DuckDBEngine | None = None
        self.stamp: tuple[float, int] | None = None
        self.loaded_at: datetime | None = None
        self._cache: OrderedDict[tuple[Any, ...], dict[str, Any]] = OrderedDict()
        self._load()

    def close(self) -> None:
        if self.engine is not None:
            self.engine.store.close()  # the snapshot's connection: the store file was let go already
            self.engine = None

    # --- the store and the full scope -----------------------------------------------------

    def _file_stamp(self) -> tuple[float, int]:
        if not os.path.exists(self.db):
            raise GroundswellError(f"{self.db}: no such store (run `groundswell ingest` first, or pass --db)")
        paths = [self.db, self.db + ".wal"]
        stats = [os.stat(p) for p in paths if os.path.exists(p)]
        return max(s.st_mtime for s in stats), sum(s.st_size for s in stats)

    def _load(self) -> None:
        stamp = self._file_stamp()
        try:
            copy = snapshot(self.db)
        except StoreBusy:
            if self.engine is None:
                raise
            return  # a writer is committing: keep serving the last snapshot, and try again next time
        self.close()
        self.stamp = stamp
        engine = DuckDBEngine(store=copy)
        prepare_scope(engine, self.movement, writable=False, workers=1)
        engine.query(f"CREATE OR REPLACE TEMP TABLE {FULL} AS SELECT * FROM {scope.SCOPE}")
        self.engine = engine
        self.loaded_at = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)

    def _fresh(self) -> DuckDBEngine:
        if self.engine is None or self._file_stamp() != self.stamp:
            self._load()
        assert self.engine is not None
        return self.engine

    # --- answers ----------------------------------------------------------------------------

    def figures(self, filters: Filters, keys: Iterable[str] | None = None) -> dict[str, Any]:
        """The report's figures over the filtered scope, from the registry's compute functions;
        a view asked for again before the store changes is answered from the cache."""
        wanted = tuple(sorted(keys)) if keys is not None else None
        with self.lock:
            engine = self._fresh()
            key = (self.stamp, filters, wanted)
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
            answer = self._compute(engine, filters, wanted)
            self._cache[key] = answer
            while len(self._cache) > CACHED_VIEWS:
                self._cache.popitem(last=False)
            return answer

    def _compute(self, engine: DuckDBEngine, filters: Filters, keys: Iterable[str] | None) -> dict[str, Any]:
        self._narrow(engine, filters)
        ctx = context(engine, self.movement, self.options, writable=False)
        out: dict[str, Any] = {"settings": ctx.options.as_dict(), "filters": filters.as_dict(),
                               "movement": self.movement.name if self.movement else None}
        return {**out, **compute_figures(ctx, keys, run=lambda work: self._timed(engine, work))}

    def posts(self, filters: Filters, page: int, size: int) -> dict[str, Any]:
        """One page of the explore table: the export's posts, privacy rules and all, paged in SQL."""
        from ..report.export import POSTS_ORDER, posts_sql

        with self.lock:
            engine = self._fresh()
            self._narrow(engine, filters)
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

        with self.lock:
            engine = self._fresh()
            self._narrow(engine, filters)
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

    def _narrow(self, engine: DuckDBEngine, filters: Filters) -> None:
        where, params = filters.where()
        engine.store.con.execute(f"CREATE OR REPLACE TEMP TABLE {scope.SCOPE} AS SELECT * FROM {FULL} WHERE {where}",
                                 params)

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
        with self.lock:
            engine = self._fresh()
            newest, collected = engine.query("SELECT max(created_at), max(collected_at) FROM posts WHERE collected")[0]
            now = datetime.now(timezone.utc).replace(tzinfo=None)
            sources = coverage.live(engine.query)["sources"]
        return {"loaded_at": _iso(self.loaded_at), "newest_post": _iso(newest), "last_collected": _iso(collected),
                "lag_seconds": round((now - newest).total_seconds(), 1) if newest else None, "sources": sources,
                "version": f"{self.stamp[0]:.6f}-{self.stamp[1]}" if self.stamp else None}


def _plain(value: Any) -> Any:
    """A JSON-able cell: times as ISO strings."""
    return _iso(value) if isinstance(value, datetime) else value


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() + "Z" if moment else None


def with_bucket(options: ReportOptions, bucket: str | None) -> ReportOptions:
    return replace(options, bucket=bucket) if bucket else options
