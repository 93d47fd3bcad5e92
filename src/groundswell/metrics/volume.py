"""Volume over time: posts and distinct authors per hour or day, cumulative curves, the
movement's start, the first 24 hours, milestones and peaks. See docs/metrics.md.

Every count is SQL over the report's scope (`gs_scope`, see scope.py); Python only lays
the counts on a complete grid of buckets, so empty buckets show as zero and gaps can be
found (series.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Callable

from .. import series as ts
from ..movement.definition import Movement
from ..movement.match import sql_string
from ..timeutil import snowflake_time
from ..series import stamp
from .scope import SCOPE, Clock

Query = Callable[[str], list[tuple]]
MILESTONES = (1_000, 10_000, 100_000, 1_000_000)
FIRST_HOURS = 24
# `auto` buckets by hour up to this span (about 4,400 points, five to a pixel of a chart) and
# by day beyond, so a multi-year table is not drawn as tens of thousands of mostly empty hours.
HOURLY_SPAN = timedelta(days=183)


def resolve_bucket(bucket: str, first: datetime | None, last: datetime | None) -> str:
    if bucket != "auto":
        return bucket
    return "day" if first is not None and last is not None and last - first > HOURLY_SPAN else "hour"


def _timed(table: str) -> str:
    return f"FROM {table} WHERE created_at IS NOT NULL"


def counts(query: Query, clock: Clock, bucket: str, table: str = SCOPE) -> dict[datetime, tuple[int, int]]:
    """{local bucket start: (posts, distinct authors)}."""
    rows = query(f"SELECT b, count(*), count(DISTINCT author_id) FROM "
                 f"(SELECT {clock.bucket_sql(bucket)} AS b, author_id {_timed(table)}) AS t GROUP BY b")
    return {b: (int(posts), int(authors)) for b, posts, authors in rows}


def new_authors(query: Query, clock: Clock, bucket: str, table: str = SCOPE) -> dict[datetime, int]:
    """{local bucket start: authors whose first post in scope falls in it}."""
    rows = query(f"SELECT b, count(*) FROM (SELECT author_id, min({clock.bucket_sql(bucket)}) AS b "
                 f"{_timed(table)} GROUP BY author_id) AS firsts GROUP BY b")
    return {b: int(n) for b, n in rows}


def grid(clock: Clock, bucket: str, first: datetime, last: datetime) -> list[datetime]:
    """Every local bucket from the first post to the last (UTC range given)."""
    if bucket == "hour":
        return ts.hour_grid(first, last, clock.to_local)
    return ts.day_grid(clock.to_local(first), clock.to_local(last))


def series(query: Query, clock: Clock, bucket: str, first: datetime, last: datetime,
           table: str = SCOPE) -> list[dict[str, Any]]:
    """Per bucket: posts, distinct authors, and the cumulative posts and distinct authors."""
    by_bucket = counts(query, clock, bucket, table)
    newcomers = new_authors(query, clock, bucket, table)
    rows, total_posts, total_authors = [], 0, 0
    for moment in grid(clock, bucket, first, last):
        posts, authors = by_bucket.get(moment, (0, 0))
        total_posts += posts
        total_authors += newcomers.get(moment, 0)
        rows.append({"t": stamp(moment, bucket), "posts": posts, "distinct_authors": authors,
                     "cumulative_posts": total_posts, "cumulative_authors": total_authors})
    return rows


def posts_per_bucket(query: Query, clock: Clock, bucket: str, first: datetime, last: datetime,
                     table: str = SCOPE) -> tuple[list[datetime], list[int]]:
    """Posts on the complete grid, for peaks, bursts and gaps."""
    rows = query(f"SELECT b, count(*) FROM (SELECT {clock.bucket_sql(bucket)} AS b {_timed(table)}) AS t GROUP BY b")
    found = {b: int(n) for b, n in rows}
    times = grid(clock, bucket, first, last)
    return times, [found.get(moment, 0) for moment in times]


# --- the movement's start --------------------------------------------------------------


def call_time(query: Query, call: str) -> tuple[datetime | None, str]:
    """When a call-to-action post was made: from the store, else from a tweet id's snowflake."""
    platform, _, post_id = call.partition(":")
    rows = query(f"SELECT min(created_at) FROM posts WHERE platform = {sql_string(platform)} "
                 f"AND post_id = {sql_string(post_id)}")
    if rows and rows[0][0] is not None:
        return rows[0][0], "call_to_action"
    if platform == "twitter":
        return snowflake_time(post_id), "call_to_action_id"
    return None, "call_to_action"


def start(query: Query, movement: Movement | None, utc_hours: list[datetime], utc_counts: list[int]) -> dict[str, Any]:
    """The call to action if the movement names one and the data covers its first 24 hours;
    else the first burst in the data (saying which call it set aside, and why)."""
    set_aside = None
    if movement is not None:
        found = [(moment, method, call) for call in movement.call_to_action
                 for moment, method in [call_time(query, call)] if moment is not None]
        if found:
            moment, method, call = min(found)
            if _covers(utc_hours, moment):
                return {"at": _iso(moment), "method": method, "post": call, "set_aside": None}
            set_aside = {"at": _iso(moment), "post": call,
                         "reason": "the data does not cover the first 24 hours after the definition's call to action"}
    index = ts.first_burst(utc_counts)
    if index is None:
        return {"at": None, "method": "none", "post": None, "set_aside": set_aside}
    return {"at": _iso(utc_hours[index]), "method": "first_burst", "post": None, "set_aside": set_aside}


def _covers(utc_hours: list[datetime], moment: datetime) -> bool:
    """Whether [moment, moment + 24 h) meets the span of the data."""
    if not utc_hours:
        return False
    return moment < utc_hours[-1] + timedelta(hours=1) and moment + timedelta(hours=FIRST_HOURS) > utc_hours[0]


def first_hours(query: Query, at: datetime, hours: int = FIRST_HOURS, table: str = SCOPE) -> dict[str, Any]:
    """Posts and distinct authors in [start, start + hours)."""
    end = at + timedelta(hours=hours)
    posts, authors = query(
        f"SELECT count(*), count(DISTINCT author_id) FROM {table} WHERE created_at >= {_ts(at)} AND created_at < {_ts(end)}"
    )[0]
    return {"hours": hours, "from": _iso(at), "to": _iso(end), "posts": int(posts), "distinct_authors": int(authors)}


def milestones(query: Query, at: datetime | None, table: str = SCOPE) -> list[dict[str, Any]]:
    """When the 1,000th, 10,000th... post counted from the start was made, where reached."""
    since = f"created_at >= {_ts(at)}" if at else "created_at IS NOT NULL"
    wanted = ", ".join(str(n) for n in MILESTONES)
    # The n-th post's time is the same whichever of the posts of that second comes first, so
    # the sort needs the times alone (the slowest step of the report once tie-broken by id).
    rows = query(f"SELECT n, created_at FROM (SELECT created_at, row_number() OVER (ORDER BY created_at) "
                 f"AS n FROM {table} WHERE {since}) AS ranked WHERE n IN ({wanted}) ORDER BY n")
    reached = {int(n): moment for n, moment in rows}
    out = []
    for n in MILESTONES:
        moment = reached.get(n)
        elapsed = (moment - at).total_seconds() / 3600 if moment is not None and at is not None else None
        out.append({"posts": n, "reached": moment is not None, "at": _iso(moment),
                    "hours_after_start": round(elapsed, 2) if elapsed is not None else None})
    return out


def _ts(moment: datetime) -> str:
    return f"TIMESTAMP '{moment.isoformat(sep=' ')}'"


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() + "Z" if moment is not None else None


def totals(query: Query, table: str = SCOPE) -> dict[str, Any]:
    """The headline counts: posts, distinct authors, and posts of each kind."""
    posts, authors = query(f"SELECT count(*), count(DISTINCT author_id) FROM {table}")[0]
    kinds = dict.fromkeys(("original", "repost", "reply", "quote"), 0)
    for kind, n in query(f"SELECT kind, count(*) FROM {table} GROUP BY kind"):
        kinds[kind or "unknown"] = int(n)
    return {"posts": int(posts), "distinct_authors": int(authors), "by_kind": kinds}


def around_start(hours: list[datetime], hour_counts: list[int], start_local: datetime,
                 before: int = 24, after: int = 72) -> list[dict[str, Any]]:
    """Posts per local hour from `before` hours ahead of the start's hour to `after` hours past
    it: the take-off at a readable scale, whatever the range of the whole series."""
    hour = start_local.replace(minute=0, second=0, microsecond=0)
    index = next((i for i, t in enumerate(hours) if t >= hour), None)
    if index is None:
        return []
    low, high = max(0, index - before), min(len(hours), index + after)
    return [{"t": stamp(hours[i], "hour"), "posts": hour_counts[i]} for i in range(low, high)]
