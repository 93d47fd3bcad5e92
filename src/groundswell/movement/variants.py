"""Hashtags that may belong to a movement but are not in its definition yet.

Two kinds of evidence, both computed in SQL over the post table (Python only orders the
final few hundred rows):
  - association: for a candidate tag t, n_t posts carry t and n_tm of them also carry a
    movement tag; share = n_tm / n_t; lift = (n_tm / N) / ((n_t / N) (n_m / N)) against the
    store's own background (N collected posts, n_m with a movement tag); pmi = log2(lift).
  - form: t is within a small edit distance of a movement key, ends with one of the
    movement's `suffixes` (-too, -aussi...), or contains a movement key (metook12).

The list interleaves the two: the strongest associated tag, then the strongest form
neighbour, and so on, because in a corpus collected by searching for the movement's own
tag, association cannot tell #TimesUp from #Trump (nearly every post carries the seed, so
lift ≈ 1 and share ≈ 1 for every tag) and only form finds #ChurchToo among them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

from .definition import Movement
from .match import sql_list, sql_string

Query = Callable[[str], list[tuple]]
MAX_DISTANCE = 2
MIN_CONTAINED = 4  # shorter keys ("me") would be contained in half the vocabulary
SATURATED = 0.5

_COUNTS_SQL = """
WITH tagged AS (
  SELECT list_distinct(hashtag_keys) AS tags, coalesce(list_has_any(hashtag_keys, {keys}), false) AS has_m
  FROM posts WHERE collected AND len(hashtag_keys) > 0
),
counts AS (
  SELECT tag, count(*) AS n_t, count(*) FILTER (WHERE has_m) AS n_tm
  FROM (SELECT unnest(tags) AS tag, has_m FROM tagged) AS pairs GROUP BY tag
),
candidates AS (
  SELECT * FROM counts WHERE n_t >= {min_count} AND NOT list_contains({keys}, tag)
),
movement_keys AS (SELECT unnest({keys}) AS key),
form AS (
  SELECT c.tag,
    min(levenshtein(c.tag, k.key)) FILTER (WHERE {distance_ok}) AS distance,
    arg_min(k.key, levenshtein(c.tag, k.key)) FILTER (WHERE {distance_ok}) AS near_key,
    arg_max(k.key, length(k.key)) FILTER (WHERE length(k.key) >= {min_contained} AND contains(c.tag, k.key)) AS contained
  FROM candidates c CROSS JOIN movement_keys k GROUP BY c.tag
)
SELECT c.tag, c.n_t, c.n_tm, f.distance, f.near_key, f.contained, {suffix} AS suffix
FROM candidates c LEFT JOIN form f USING (tag)
WHERE c.n_tm >= {min_count} OR f.distance IS NOT NULL OR f.contained IS NOT NULL OR {suffix} IS NOT NULL
"""

_TOTALS_SQL = """
SELECT count(*), count(*) FILTER (WHERE coalesce(list_has_any(hashtag_keys, {keys}), false))
FROM posts WHERE collected
"""


@dataclass
class Suggestion:
    key: str
    posts: int  # n_t
    with_movement: int  # n_tm
    share: float
    lift: float | None
    pmi: float | None
    reasons: list[str] = field(default_factory=list)
    form: bool = False

    @property
    def association(self) -> float:
        """n_tm × share: many co-occurrences, and mostly with the movement."""
        return self.with_movement * self.share

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "posts": self.posts, "with_movement": self.with_movement,
                "share": round(self.share, 4), "lift": _round(self.lift), "pmi": _round(self.pmi),
                "reasons": self.reasons}


def suggest(query: Query, movement: Movement, top: int = 30, min_count: int = 10,
            suffixes: tuple[str, ...] | None = None) -> dict[str, Any]:
    """Suggested variants, ranked, with the store's totals and a note on reading the scores."""
    keys = sql_list(movement.stored_forms())
    total, with_movement = query(_TOTALS_SQL.format(keys=keys))[0]
    suffixes = movement.suffixes if suffixes is None else suffixes
    rows = query(_counts_sql(keys, min_count, suffixes))
    suggestions = [_suggestion(row, total, with_movement) for row in rows]
    ranked = interleave(suggestions)[: max(top, 0)]
    coverage = with_movement / total if total else 0.0
    return {
        "movement": movement.name,
        "collected_posts": total,
        "posts_with_movement_tag": with_movement,
        "coverage": round(coverage, 4),
        "saturated": coverage >= SATURATED,
        "min_count": min_count,
        "suffixes": list(suffixes),
        "note": note(coverage),
        "suggestions": [s.as_dict() for s in ranked],
    }


def _counts_sql(keys: str, min_count: int, suffixes: tuple[str, ...]) -> str:
    distance_ok = f"levenshtein(c.tag, k.key) <= least({MAX_DISTANCE}, length(k.key) // 3)"
    whens = " ".join(f"WHEN c.tag <> {sql_string(s)} AND ends_with(c.tag, {sql_string(s)}) THEN {sql_string(s)}"
                     for s in suffixes)
    suffix = f"(CASE {whens} END)" if whens else "CAST(NULL AS VARCHAR)"
    return _COUNTS_SQL.format(keys=keys, min_count=int(min_count), distance_ok=distance_ok,
                              min_contained=MIN_CONTAINED, suffix=suffix)


def _suggestion(row: tuple, total: int, with_movement: int) -> Suggestion:
    tag, n_t, n_tm, distance, near_key, contained, suffix = row
    lift = (n_tm * total) / (n_t * with_movement) if n_tm and with_movement else None
    suggestion = Suggestion(tag, n_t, n_tm, n_tm / n_t, lift, math.log2(lift) if lift else None)
    if n_tm:
        suggestion.reasons.append(f"co-occurs with the movement's tags in {n_tm} posts")
    if distance is not None:
        suggestion.reasons.append(f"spelled like {near_key} (edit distance {distance})")
    if suffix is not None:
        suggestion.reasons.append(f"ends in -{suffix}")
    if contained is not None:
        suggestion.reasons.append(f"contains {contained}")
    suggestion.form = distance is not None or suffix is not None or contained is not None
    return suggestion


def interleave(suggestions: list[Suggestion]) -> list[Suggestion]:
    """Alternate the strongest associated tag and the strongest form neighbour, without repeats."""
    order = lambda s: (-s.association, -s.posts, s.key)  # noqa: E731
    by_association = sorted(suggestions, key=order)
    by_form = sorted((s for s in suggestions if s.form), key=order)
    ranked: list[Suggestion] = []
    seen: set[str] = set()
    queues = [iter(by_association), iter(by_form)]
    while queues:
        for queue in list(queues):
            item = next((s for s in queue if s.key not in seen), None)
            if item is None:
                queues.remove(queue)
                continue
            seen.add(item.key)
            ranked.append(item)
    return ranked


def note(coverage: float) -> str:
    """How to read the scores, given the share of posts that carry a movement tag."""
    base = ("Ranked by alternating association (co-occurrences × share) and form (spelling, suffix, "
            "containment); lift and pmi compare against this store's own posts.")
    if coverage >= SATURATED:
        return (f"{coverage:.0%} of collected posts carry a movement tag: the corpus was probably collected by "
                "searching for it, so lift ≈ 1 and share ≈ 1 for every tag and say nothing; association falls "
                "back to co-occurrence counts, which also rank generic tags high. " + base)
    return base


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
