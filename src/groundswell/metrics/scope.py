"""The posts a report counts, and the local clock it counts them by.

Every figure of the report is read from one relation, `gs_scope`: the collected posts the
movement matches (by hashtag or phrase, inside its window), with the columns the figures
need. Building it once runs the movement's regular expressions once, however many figures
follow. Times are UTC in the store; a report in another zone shifts them in SQL by the
zone's offsets over the data's range (a CASE over the zone's transitions), which is plain
portable SQL and keeps bucket edges exact across daylight-saving changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from ..movement.definition import Movement
from ..movement.match import matched_posts_sql
from ..timeutil import zone

Query = Callable[[str], list[tuple]]
SCOPE = "gs_scope"
# Columns copied from the post table next to the match columns of `matched_posts_sql`: all
# that a report figure reads, references included, so no figure joins the scope back to
# `posts`. Each column costs about 200 MB per ten million posts, so those only the reply and
# mention networks read are added by the network alone (NETWORK_COLUMNS).
POST_COLUMNS = ("author_handle", "author_name", "author_followers", "author_verified", "hashtag_keys",
                "like_count", "repost_count", "reply_count", "quote_count", "lang", "reposted_post_id",
                "quoted_post_id")
NETWORK_COLUMNS = ("mentions", "reply_to_post_id", "reply_to_author_id")
BUCKETS = ("hour", "day")
# Zones change offset by whole quarter hours, so stepping by 15 minutes finds every transition.
_STEP = timedelta(minutes=15)


@dataclass(frozen=True)
class Clock:
    """A time zone over a range: SQL that turns UTC `created_at` into local wall time."""

    tz: str
    offsets: tuple[tuple[datetime, int], ...]  # (UTC moment from which it applies, minutes east of UTC)

    def local_sql(self, column: str = "created_at") -> str:
        if all(minutes == 0 for _, minutes in self.offsets):
            return column
        if len(self.offsets) == 1:
            return _shift(column, self.offsets[0][1])
        cases = " ".join(
            f"WHEN {column} < TIMESTAMP '{until.isoformat(sep=' ')}' THEN {_shift(column, minutes)}"
            for (_, minutes), (until, _) in zip(self.offsets, self.offsets[1:])
        )
        return f"CASE {cases} ELSE {_shift(column, self.offsets[-1][1])} END"

    def bucket_sql(self, bucket: str, column: str = "created_at") -> str:
        if bucket not in BUCKETS:
            raise ValueError(f"bucket must be one of {BUCKETS}")
        return f"date_trunc('{bucket}', {self.local_sql(column)})"

    def to_local(self, moment: datetime) -> datetime:
        minutes = self.offsets[0][1]
        for since, offset in self.offsets:
            if moment >= since:
                minutes = offset
        return moment + timedelta(minutes=minutes)


def _shift(column: str, minutes: int) -> str:
    if minutes == 0:
        return column
    sign = "+" if minutes > 0 else "-"
    return f"({column} {sign} INTERVAL '{abs(minutes)}' MINUTE)"


def clock(tz: str, first: datetime | None, last: datetime | None) -> Clock:
    """The zone's offsets between `first` and `last` (UTC, naive); UTC needs none."""
    if tz.upper() == "UTC" or first is None or last is None:
        return Clock("UTC" if tz.upper() == "UTC" else tz, ((datetime.min, _offset(tz, first)),))
    offsets: list[tuple[datetime, int]] = [(datetime.min, _offset(tz, first))]
    moment = first.replace(minute=0, second=0, microsecond=0)
    while moment <= last + _STEP:
        minutes = _offset(tz, moment)
        if minutes != offsets[-1][1]:
            offsets.append((_transition(tz, moment - _STEP, moment), minutes))
        moment += _STEP
    return Clock(tz, tuple(offsets))


def _offset(tz: str, moment: datetime | None) -> int:
    if tz.upper() == "UTC" or moment is None:
        return 0
    from datetime import timezone

    aware = moment.replace(tzinfo=timezone.utc).astimezone(zone(tz))
    delta = aware.utcoffset() or timedelta(0)
    return int(delta.total_seconds() // 60)


def _transition(tz: str, before: datetime, after: datetime) -> datetime:
    """The exact UTC second the offset changes, between two moments with different offsets."""
    low, high = before, after
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if _offset(tz, middle) == _offset(tz, low):
            low = middle
        else:
            high = middle
    return high.replace(microsecond=0)


MATCH_COLUMNS = ("platform", "post_id", "created_at", "kind", "author_id", "by_hashtag", "by_phrase", "families",
                 "variants")


def source_language_sql(column: str = "lang") -> str:
    """The source's language code, `und` for the codes that mean "no language" (Twitter's und,
    zxx and q* codes), NULL where the source gave none."""
    return (f"CASE WHEN {column} IS NULL THEN NULL WHEN lower({column}) IN ('und', 'zxx') OR lower({column}) LIKE 'q%' "
            f"THEN 'und' ELSE {column} END")


def scope_base_sql(movement: Movement | None, columns: tuple[str, ...] = POST_COLUMNS) -> str:
    """The matched posts with the post `columns` figures need; every collected post without a movement."""
    if movement is None:
        return (f"SELECT platform, post_id, created_at, kind, author_id, TRUE AS by_hashtag, "
                f"FALSE AS by_phrase, CAST([] AS VARCHAR[]) AS families, CAST([] AS VARCHAR[]) AS variants, "
                f"{', '.join(columns)} FROM posts WHERE collected")
    return matched_posts_sql(movement, carry=columns)


def materialize_base(query: Query, movement: Movement | None) -> None:
    """`gs_scope` with `language` and `language_source` from the source alone: one scan of the
    post table, however many figures follow. `materialize_scope` adds detected languages."""
    query(f"CREATE OR REPLACE TEMP TABLE {SCOPE} AS SELECT *, coalesce({source_language_sql()}, 'und') AS language, "
          f"CASE WHEN lang IS NULL THEN 'none' ELSE 'source' END AS language_source "
          f"FROM ({scope_base_sql(movement)}) AS b")


def materialize_scope(query: Query, languages: str | None) -> None:
    """Give posts without a source language the language in `languages` (platform, post_id,
    lang, method). The scope is rewritten only when there is something to add, since
    rewriting copies every matched post."""
    if languages is None or not query(f"SELECT 1 FROM {languages} LIMIT 1"):
        return
    columns = ", ".join(f"s.{name}" for name in (*MATCH_COLUMNS, *POST_COLUMNS))
    query(
        f"CREATE OR REPLACE TEMP TABLE {SCOPE} AS SELECT {columns}, coalesce({source_language_sql('s.lang')}, "
        f"d.lang, 'und') AS language, CASE WHEN s.lang IS NOT NULL THEN 'source' ELSE coalesce(d.method, 'none') END "
        f"AS language_source FROM {SCOPE} s LEFT JOIN {languages} d ON d.platform = s.platform AND d.post_id = s.post_id"
    )


def time_range(query: Query, table: str = SCOPE) -> tuple[datetime | None, datetime | None]:
    first, last = query(f"SELECT min(created_at), max(created_at) FROM {table}")[0]
    return first, last
