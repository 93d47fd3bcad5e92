"""The aggregates estimation needs, each one SQL query run in the engine.

The movement's posts (or every collected post) go once into a temporary table; every other
query is a GROUP BY over it, so no post leaves the engine. A person is the author id, or,
where a format mapped only a handle, the handle (case-folded): `people_basis` says which.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Callable

from ...movement.definition import Movement
from ...movement.match import matched_posts_sql
from ...store.provenance import has_table

Query = Callable[[str], list[tuple]]
SCOPE = "gs_estimate_scope"
_PERSON = "coalesce(author_id, 'handle:' || lower(author_handle))"


@dataclass
class Aggregates:
    posts: int
    people: int
    with_id: int
    with_handle: int
    with_followers: int
    by_day: dict[date, tuple[int, int]]  # day -> (posts, people)
    frequencies: dict[int, int]  # posts per person -> people (1 and 2 only)
    phrase_only: int
    matched_by_hashtag: int


def scope(query: Query, movement: Movement | None, table: str | None = None) -> None:
    """The posts every estimate counts: the movement's matched posts, or all collected posts.
    `table`: a scope the caller already matched (the report's gs_scope), so nothing is matched twice."""
    if table is not None:
        inner = table
    elif movement is None:
        inner = ("(SELECT platform, post_id, created_at, author_id, author_handle, author_followers, "
                 "true AS by_hashtag, false AS by_phrase FROM posts WHERE collected)")
    else:
        inner = f"({matched_posts_sql(movement, carry=('author_handle', 'author_followers'))})"
    query(f"CREATE OR REPLACE TEMP TABLE {SCOPE} AS SELECT platform, post_id, created_at, author_id, author_handle, "
          f"author_followers, by_hashtag, by_phrase, {_PERSON} AS person FROM {inner} AS s")


def read(query: Query) -> Aggregates:
    posts, people, with_id, with_handle, followers, phrase_only, tagged = query(
        f"SELECT count(*), count(DISTINCT person), count(author_id), count(author_handle), count(author_followers), "
        f"count(*) FILTER (WHERE by_phrase AND NOT by_hashtag), count(*) FILTER (WHERE by_hashtag) FROM {SCOPE}")[0]
    days = query(f"SELECT CAST(date_trunc('day', created_at) AS DATE), count(*), count(DISTINCT person) FROM {SCOPE} "
                 "WHERE created_at IS NOT NULL GROUP BY 1 ORDER BY 1")
    freq = query(f"SELECT k, count(*) FROM (SELECT person, count(*) AS k FROM {SCOPE} WHERE person IS NOT NULL "
                 "GROUP BY person) AS f WHERE k <= 2 GROUP BY k")
    return Aggregates(int(posts), int(people), int(with_id), int(with_handle), int(followers),
                      {day: (int(n), int(p)) for day, n, p in days}, {int(k): int(n) for k, n in freq},
                      int(phrase_only), int(tagged))


def limit_notices(query: Query) -> dict[str, list[tuple[int, datetime | None]]]:
    """Each source file's notices, (track, time) in line order."""
    if not has_table(query, "limit_notices"):
        return {}
    out: dict[str, list[tuple[int, datetime | None]]] = {}
    for source, track, at in query("SELECT source_file, track, noticed_at FROM limit_notices "
                                   "ORDER BY source_file, source_line"):
        out.setdefault(source, []).append((int(track), at))
    return out


def stream_minutes(query: Query, files: list[str]) -> dict[str, dict[datetime, tuple[int, int, datetime]]]:
    """Per stream file and UTC minute: (collected posts, of them in scope, last post time)."""
    if not files:
        return {}
    names = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
    rows = query(f"SELECT p.source_file, date_trunc('minute', p.created_at), count(*), count(s.post_id), max(p.created_at) "
                 f"FROM posts p LEFT JOIN {SCOPE} s ON s.platform = p.platform AND s.post_id = p.post_id "
                 f"WHERE p.collected AND p.created_at IS NOT NULL AND p.source_file IN ({names}) GROUP BY 1, 2")
    out: dict[str, dict[datetime, tuple[int, int, datetime]]] = {}
    for source, hour, n, m, last in rows:
        out.setdefault(source, {})[hour] = (int(n), int(m), last)
    return out


def histories(query: Query, key: str) -> tuple[dict[tuple[str, ...], int], Any]:
    """Posts (key 'post') or people (key 'person') by the collections that saw them, over the
    span every collection covers; and that span."""
    if not has_table(query, "collection_posts"):
        return {}, None
    joined = (f"SELECT c.collection, s.person, s.platform, s.post_id, s.created_at FROM collection_posts c "
              f"JOIN {SCOPE} s ON s.platform = c.platform AND s.post_id = c.post_id")
    spans = query(f"SELECT collection, min(created_at), max(created_at) FROM ({joined}) AS j GROUP BY 1")
    if len(spans) < 2:
        return {}, None
    start, end = max(s for _, s, _ in spans), min(e for _, _, e in spans)
    if start is None or end is None or start > end:
        return {}, None
    unit = "person" if key == "person" else "platform || ':' || post_id"
    rows = query(f"SELECT h, count(*) FROM (SELECT {unit} AS unit, string_agg(DISTINCT collection, '|' ORDER BY collection) AS h "
                 f"FROM ({joined}) AS j WHERE created_at BETWEEN TIMESTAMP '{start}' AND TIMESTAMP '{end}' "
                 f"AND {unit} IS NOT NULL GROUP BY 1) AS u GROUP BY h")
    return {tuple(h.split("|")): int(n) for h, n in rows}, (start, end)


def drop(query: Query) -> None:
    query(f"DROP TABLE IF EXISTS {SCOPE}")
