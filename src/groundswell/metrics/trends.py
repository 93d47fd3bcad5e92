"""The counts behind `groundswell trends`: posts per hashtag key, per movement group and in
all, per UTC hour or day, and each group's first sighting. See docs/trends.md.

Portable SQL over the post table (hashtags) and over a movement scope table (groups: see
metrics/scope.py), run the same on DuckDB and Spark. Only non-empty (key, bucket) cells
come back, so a store with 10^5 hashtags over 10^3 buckets returns what it holds, not the
10^8 cells of a full table. The algorithms that read these counts live in analysis/.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from ..movement.match import distinct_list_sql
from .scope import SCOPE, source_language_sql

Query = Callable[[str], list[tuple]]
BUCKETS = ("hour", "day")
DIMENSIONS = ("movement", "family", "variant", "language", "platform")
# The source's language, with Twitter's codes for "no language" (und, zxx, q*) as `und`.
LANGUAGE_SQL = f"coalesce({source_language_sql()}, 'und')"


def bucket_sql(bucket: str) -> str:
    """The UTC bucket of a post: trends compare buckets across the whole store, in UTC."""
    if bucket not in BUCKETS:
        raise ValueError(f"bucket must be one of {BUCKETS}")
    return f"date_trunc('{bucket}', created_at)"


def hashtag_cells_sql(bucket: str) -> str:
    """(hashtag_key, bucket, posts) for every non-empty cell; a post counts once per key."""
    return (f"SELECT hashtag_key, b AS bucket, count(*) AS posts FROM (SELECT unnest({distinct_list_sql('hashtag_keys')}) "
            f"AS hashtag_key, {bucket_sql(bucket)} AS b FROM posts WHERE collected AND created_at IS NOT NULL) AS k "
            f"GROUP BY hashtag_key, b")


def hashtag_cells(query: Query, bucket: str) -> list[tuple[str, datetime, int]]:
    """Collected posts per hashtag key and bucket (non-empty cells, sorted)."""
    return [(key, moment, int(n)) for key, moment, n in query(hashtag_cells_sql(bucket) + " ORDER BY hashtag_key, bucket")]


def bucket_totals(query: Query, bucket: str) -> list[tuple[datetime, int]]:
    """Every collected post per bucket: the store's own pulse, which tells gaps from lulls."""
    rows = query(f"SELECT b, count(*) FROM (SELECT {bucket_sql(bucket)} AS b FROM posts "
                 f"WHERE collected AND created_at IS NOT NULL) AS t GROUP BY b ORDER BY b")
    return [(moment, int(n)) for moment, n in rows]


def _groups_sql(table: str, columns: dict[str, str]) -> str:
    """One row per (group, post) for every dimension, with `columns` (alias: expression)."""
    inner = ", ".join(f"{expression} AS {alias}" for alias, expression in columns.items())
    outer = ", ".join(columns)
    timed = f"FROM {table} WHERE created_at IS NOT NULL"
    return " UNION ALL ".join((
        f"SELECT 'movement' AS dimension, 'all' AS value, {inner} {timed}",
        f"SELECT 'family' AS dimension, value, {outer} FROM (SELECT unnest(families) AS value, {inner} {timed}) AS f",
        f"SELECT 'variant' AS dimension, value, {outer} FROM (SELECT unnest(variants) AS value, {inner} {timed}) AS v",
        f"SELECT 'language' AS dimension, {LANGUAGE_SQL} AS value, {inner} {timed}",
        f"SELECT 'platform' AS dimension, platform AS value, {inner} {timed}",
    ))


def group_cells(query: Query, bucket: str, table: str = SCOPE) -> list[tuple[str, str, datetime, int]]:
    """(dimension, value, bucket, posts) for the movement's posts in `table`: all of them
    (`movement`/`all`), per family label, per variant key, per source language, per platform.
    A post counts once in each family and variant it matched."""
    rows = query(f"SELECT dimension, value, b, count(*) FROM ({_groups_sql(table, {'b': bucket_sql(bucket)})}) AS g "
                 f"GROUP BY dimension, value, b ORDER BY dimension, value, b")
    return [(dimension, value, moment, int(n)) for dimension, value, moment, n in rows]


def first_sightings(query: Query, table: str = SCOPE) -> list[dict[str, Any]]:
    """Per group: its first post's time (UTC), its posts with a time, and their distinct authors.
    One query per dimension: a distinct count over the five dimensions' union at once keys
    one hash table by every (dimension, value, author), which is slower than five small ones."""
    values = {"movement": "'all'", "family": "unnest(families)", "variant": "unnest(variants)",
              "language": LANGUAGE_SQL, "platform": "platform"}
    found = []
    for dimension in sorted(values):
        rows = query(f"SELECT value, min(created_at), count(*), count(DISTINCT author_id) FROM (SELECT {values[dimension]} "
                     f"AS value, created_at, author_id FROM {table} WHERE created_at IS NOT NULL) AS g GROUP BY value ORDER BY value")
        found += [{"dimension": dimension, "value": value, "first_seen": first, "posts": int(posts),
                   "distinct_authors": int(authors)} for value, first, posts, authors in rows]
    return found
