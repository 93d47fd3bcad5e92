"""What the volume is made of over time: hashtag versus phrase, families, and variants.

Built on the movement helper's match columns (`by_hashtag`, `by_phrase`, `families`,
`variants`, see movement/match.py) as materialized in the report's scope. See docs/metrics.md.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from ..movement.definition import Movement
from ..analysis.timeseries import stamp
from .scope import SCOPE, Clock
from .volume import grid

Query = Callable[[str], list[tuple]]
MATCH_CLASSES = ("hashtag_only", "phrase_only", "both")
_CLASS_SQL = {
    "hashtag_only": "by_hashtag AND NOT by_phrase",
    "phrase_only": "by_phrase AND NOT by_hashtag",
    "both": "by_hashtag AND by_phrase",
}


def _sums() -> str:
    return ", ".join(f"sum(CASE WHEN {condition} THEN 1 ELSE 0 END)" for condition in _CLASS_SQL.values())


def match_totals(query: Query, table: str = SCOPE) -> dict[str, int]:
    """Posts matched by hashtag only, phrase only, and both (every post in scope, timed or not)."""
    row = query(f"SELECT {_sums()} FROM {table}")[0]
    return {name: int(value or 0) for name, value in zip(MATCH_CLASSES, row)}


def match_series(query: Query, clock: Clock, bucket: str, first: datetime, last: datetime,
                 table: str = SCOPE) -> list[dict[str, Any]]:
    rows = query(f"SELECT b, {_sums()} FROM (SELECT {clock.bucket_sql(bucket)} AS b, by_hashtag, by_phrase "
                 f"FROM {table} WHERE created_at IS NOT NULL) AS t GROUP BY b")
    found = {b: [int(v or 0) for v in values] for b, *values in rows}
    out = []
    for moment in grid(clock, bucket, first, last):
        values = found.get(moment, [0, 0, 0])
        out.append({"t": stamp(moment, bucket), **dict(zip(MATCH_CLASSES, values))})
    return out


def family_series(query: Query, clock: Clock, bucket: str, first: datetime, last: datetime,
                  labels: list[str], table: str = SCOPE) -> list[dict[str, Any]]:
    """Per bucket, posts in each family (a post counts once in each family it matched)."""
    rows = query(f"SELECT b, family, count(*) FROM (SELECT {clock.bucket_sql(bucket)} AS b, unnest(families) AS family "
                 f"FROM {table} WHERE created_at IS NOT NULL) AS t GROUP BY b, family")
    found: dict[datetime, dict[str, int]] = {}
    for b, family, n in rows:
        found.setdefault(b, {})[family] = int(n)
    return [{"t": stamp(moment, bucket), "posts": {label: found.get(moment, {}).get(label, 0) for label in labels}}
            for moment in grid(clock, bucket, first, last)]


def families(query: Query, movement: Movement | None, table: str = SCOPE) -> list[dict[str, Any]]:
    """Each family of the definition: its language, posts, distinct authors, first post."""
    if movement is None:
        return []
    rows = query(f"SELECT family, count(*), count(DISTINCT author_id), min(created_at) FROM "
                 f"(SELECT unnest(families) AS family, author_id, created_at FROM {table}) AS t GROUP BY family")
    found = {family: (int(posts), int(authors), first) for family, posts, authors, first in rows}
    out = []
    for family in movement.families:
        posts, authors, first = found.get(family.label, (0, 0, None))
        out.append({"label": family.label, "language": family.language, "posts": posts,
                    "distinct_authors": authors, "first_seen": _iso(first)})
    return out


def variants(query: Query, movement: Movement | None, table: str = SCOPE) -> list[dict[str, Any]]:
    """Every matched hashtag key: its family, posts, distinct authors and first sighting."""
    if movement is None:
        return []
    forms = movement.stored_forms()
    language = {family.label: family.language for family in movement.families}
    rows = query(f"SELECT variant, count(*), count(DISTINCT author_id), min(created_at) FROM "
                 f"(SELECT unnest(variants) AS variant, author_id, created_at FROM {table}) AS t GROUP BY variant")
    out = [{"key": key, "family": forms.get(key), "language": language.get(forms.get(key, ""), "und"),
            "posts": int(posts), "distinct_authors": int(authors), "first_seen": _iso(first)}
           for key, posts, authors, first in rows]
    out.sort(key=lambda v: (v["first_seen"] is None, v["first_seen"] or "", v["key"]))
    return out


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() + "Z" if moment is not None else None
