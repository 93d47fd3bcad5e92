"""What the volume is made of over time: hashtag versus phrase, families, and variants.

Built on the movement helper's match columns (`by_hashtag`, `by_phrase`, `families`,
`variants`, see movement/match.py) as materialized in the report's scope. See docs/metrics.md.
Families and variants are breakdowns by people: cells of fewer than `min_cell` distinct authors
are suppressed (docs/privacy.md).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from ..movement.definition import Movement
from ..movement.match import sql_string
from ..privacy import Privacy
from ..series import stamp
from .scope import SCOPE, Clock
from .volume import grid

Query = Callable[[str], list[tuple]]
SUPPRESSED = "other (suppressed)"
DEFAULT_PRIVACY = Privacy()
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


def families(query: Query, movement: Movement | None, table: str = SCOPE,
             privacy: Privacy = DEFAULT_PRIVACY) -> list[dict[str, Any]]:
    """Each family of the definition: its language, posts, distinct authors, first post.

    The families are the researcher's, so each keeps its row; one used by fewer than
    `min_cell` people shows no counts and no first post (`suppressed`), since the time of
    the first post finds that post, and so its author.
    """
    if movement is None:
        return []
    rows = query(f"SELECT family, count(*), count(DISTINCT author_id), min(created_at) FROM "
                 f"(SELECT unnest(families) AS family, author_id, created_at FROM {table}) AS t GROUP BY family")
    found = {family: (int(posts), int(authors), first) for family, posts, authors, first in rows}
    out = []
    for family in movement.families:
        posts, authors, first = found.get(family.label, (0, 0, None))
        hidden = 0 < authors < privacy.cell_floor
        out.append({"label": family.label, "language": family.language, "posts": None if hidden else posts,
                    "distinct_authors": None if hidden else authors, "first_seen": None if hidden else _iso(first),
                    "suppressed": hidden})
    return out


def variants(query: Query, movement: Movement | None, table: str = SCOPE,
             privacy: Privacy = DEFAULT_PRIVACY) -> list[dict[str, Any]]:
    """Every matched hashtag key: its family, posts, distinct authors and first sighting.

    Keys used by fewer than `min_cell` people are folded into one last row, `other
    (suppressed)`, counting their posts and people exactly (a post with two such keys once),
    without a first sighting.
    """
    if movement is None:
        return []
    forms = movement.stored_forms()
    language = {family.label: family.language for family in movement.families}
    rows = query(f"SELECT variant, count(*), count(DISTINCT author_id), min(created_at) FROM "
                 f"(SELECT unnest(variants) AS variant, author_id, created_at FROM {table}) AS t GROUP BY variant")
    floor = privacy.cell_floor
    out = [{"key": key, "family": forms.get(key), "language": language.get(forms.get(key, ""), "und"),
            "posts": int(posts), "distinct_authors": int(authors), "first_seen": _iso(first), "suppressed": False}
           for key, posts, authors, first in rows if int(authors) >= floor]
    out.sort(key=lambda v: (v["first_seen"] is None, v["first_seen"] or "", v["key"]))
    small = sorted(key for key, _, authors, _ in rows if int(authors) < floor)
    if small:
        posts, people = query(
            f"SELECT count(*), count(DISTINCT author_id) FROM (SELECT DISTINCT platform, post_id, author_id FROM "
            f"(SELECT platform, post_id, author_id, unnest(variants) AS variant FROM {table}) AS t "
            f"WHERE variant IN ({', '.join(sql_string(k) for k in small)})) AS u")[0]
        out.append({"key": SUPPRESSED, "family": None, "language": None, "posts": int(posts),
                    "distinct_authors": int(people), "first_seen": None, "suppressed": True})
    return out


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() + "Z" if moment is not None else None
