"""How many posts, people, and of which kinds: the basic figures of `stats`.

Each figure is one SQL query over the post table, written in the portable subset that
both DuckDB and Spark SQL accept, and counted over collected posts only (referenced-only
posts are context, not part of the movement's volume).
"""

from __future__ import annotations

from typing import Any, Callable

Query = Callable[[str], list[tuple]]

TOTALS_SQL = """
SELECT
  count(*) AS posts,
  count(DISTINCT author_id) AS distinct_authors,
  min(created_at) AS first_created_at,
  max(created_at) AS last_created_at,
  count(*) FILTER (WHERE created_at IS NULL) AS posts_without_time
FROM posts WHERE collected
"""

BY_KIND_SQL = "SELECT kind, count(*) FROM posts WHERE collected GROUP BY kind ORDER BY kind"
BY_PLATFORM_SQL = "SELECT platform, count(*) FROM posts WHERE collected GROUP BY platform ORDER BY platform"
REFERENCED_SQL = "SELECT count(*) FROM posts WHERE NOT collected"
BY_DAY_SQL = """
SELECT CAST(date_trunc('day', created_at) AS DATE) AS day, count(*) FROM posts
WHERE collected AND created_at IS NOT NULL GROUP BY 1 ORDER BY 1
"""


def totals(query: Query) -> dict[str, Any]:
    from .people import basis  # the same rule as the report's

    posts, authors, first, last, untimed = query(TOTALS_SQL)[0]
    people = basis(query, "(SELECT author_id FROM posts WHERE collected) AS collected_posts")
    return {
        "posts": posts,
        "distinct_authors": authors if people["known"] else None,
        "people": people,
        "first_created_at": _iso(first),
        "last_created_at": _iso(last),
        "posts_without_time": untimed,
        "referenced_only_posts": query(REFERENCED_SQL)[0][0],
        "by_kind": {kind or "unknown": n for kind, n in query(BY_KIND_SQL)},
        "by_platform": {platform: n for platform, n in query(BY_PLATFORM_SQL)},
    }


def by_day(query: Query) -> dict[str, int]:
    return {day.isoformat(): n for day, n in query(BY_DAY_SQL)}


def _iso(moment: Any) -> str | None:
    return moment.isoformat(sep="T") + "Z" if moment is not None else None
