"""Who took part and where: platforms, languages, co-hashtags, the most-engaged posts and the
most-followed participants. See docs/metrics.md.

Privacy is decided in the SQL itself: handles, names, texts and links of accounts that are
not notable are never selected, so they cannot leak into any output built from these rows.
"""

from __future__ import annotations

from typing import Any, Callable

from ..movement.definition import Movement
from ..movement.match import sql_string
from ..privacy import Privacy
from .scope import SCOPE

Query = Callable[[str], list[tuple]]
TOP = 10
ENGAGEMENT = ("like_count", "repost_count", "reply_count", "quote_count")


def engagement_sql(prefix: str = "") -> str:
    return " + ".join(f"coalesce({prefix}{column}, 0)" for column in ENGAGEMENT)


def platforms(query: Query, table: str = SCOPE) -> list[dict[str, Any]]:
    rows = query(f"SELECT platform, count(*), count(DISTINCT author_id) FROM {table} GROUP BY platform")
    return _ranked(rows, "platform")


def languages(query: Query, table: str = SCOPE) -> dict[str, Any]:
    """Posts per language, and how each language label was obtained."""
    rows = query(f"SELECT language, count(*), count(DISTINCT author_id) FROM {table} GROUP BY language")
    sources = query(f"SELECT language_source, count(*) FROM {table} GROUP BY language_source")
    methods = {"source": 0, "detected": 0, "short": 0, "none": 0}
    methods.update({str(name): int(n) for name, n in sources})
    return {"by_language": _ranked(rows, "language"), "label_source": methods}


def co_hashtags(query: Query, movement: Movement | None, top: int = TOP, table: str = SCOPE) -> list[dict[str, Any]]:
    """Hashtag keys other than the movement's own, by the number of posts that carry them."""
    own = sorted(movement.stored_forms()) if movement else []
    exclude = f"WHERE tag NOT IN ({', '.join(sql_string(k) for k in own)})" if own else ""
    rows = query(f"SELECT tag, count(*), count(DISTINCT author_id) FROM (SELECT unnest(list_distinct(hashtag_keys)) AS tag, "
                 f"author_id FROM {table}) AS t {exclude} GROUP BY tag ORDER BY count(*) DESC, tag LIMIT {int(top)}")
    return [{"key": tag, "posts": int(posts), "distinct_authors": int(authors)} for tag, posts, authors in rows]


def most_engaged(query: Query, privacy: Privacy, top: int = TOP, table: str = SCOPE) -> list[dict[str, Any]]:
    """Posts (not reposts: a repost reports its original's counts) by likes + reposts + replies
    + quotes as reported at collection; text and handle only for notable authors."""
    notable = privacy.notable_sql("s.")
    rows = query(
        f"SELECT s.platform, s.kind, s.created_at, s.author_id, {notable} AS notable, "
        f"CASE WHEN {notable} THEN s.author_handle END, CASE WHEN {notable} THEN p.text END, "
        f"CASE WHEN {notable} THEN p.url END, s.like_count, s.repost_count, s.reply_count, s.quote_count, "
        f"{engagement_sql('s.')} AS engagement "
        f"FROM {table} s JOIN posts p ON p.platform = s.platform AND p.post_id = s.post_id "
        f"WHERE s.kind <> 'repost' ORDER BY engagement DESC, s.created_at, s.post_id LIMIT {int(top)}"
    )
    return [
        {"platform": platform, "kind": kind, "day": created.date().isoformat() if created else None,
         "_author": author, "notable": bool(is_notable), "handle": handle, "text": text, "url": url,
         "likes": likes, "reposts": reposts, "replies": replies, "quotes": quotes, "engagement": int(total)}
        for platform, kind, created, author, is_notable, handle, text, url, likes, reposts, replies, quotes, total in rows
        if int(total) > 0
    ]


def most_followed(query: Query, privacy: Privacy, top: int = TOP, table: str = SCOPE) -> list[dict[str, Any]]:
    """Authors by the largest follower count seen on their posts; handles only if notable."""
    notable = privacy.notable_sql()
    rows = query(
        f"SELECT author_id, max(author_followers) AS followers, count(*) AS posts, bool_or({notable}) AS notable, "
        f"max_by(CASE WHEN {notable} THEN author_handle END, created_at), "
        f"max_by(CASE WHEN {notable} THEN author_name END, created_at), bool_or(coalesce(author_verified, FALSE)) "
        f"FROM {table} WHERE author_followers IS NOT NULL GROUP BY author_id "
        f"ORDER BY followers DESC, author_id LIMIT {int(top)}"
    )
    return [
        {"_author": author, "followers": int(followers), "posts": int(posts), "notable": bool(is_notable),
         "handle": handle if is_notable else None, "name": name if is_notable else None, "verified": bool(verified)}
        for author, followers, posts, is_notable, handle, name, verified in rows
    ]


def label_participants(*tables: list[dict[str, Any]]) -> None:
    """Replace internal author ids by a public label: the handle for notable accounts,
    `participant N` (in order of first appearance across the tables) for everyone else,
    whose handle, name, text and link are then null whatever the query returned."""
    labels: dict[str, str] = {}
    for rows in tables:
        for row in rows:
            author = row.pop("_author")
            if row["notable"] and row.get("handle"):
                row["label"] = "@" + str(row["handle"])
                continue
            row["notable"] = False
            labels.setdefault(author, f"participant {len(labels) + 1}")
            row["label"] = labels[author]
            for key in ("handle", "name", "text", "url"):
                if key in row:
                    row[key] = None


def _ranked(rows: list[tuple], name: str) -> list[dict[str, Any]]:
    out = [{name: value if value is not None else "unknown", "posts": int(posts), "distinct_authors": int(authors)}
           for value, posts, authors in rows]
    out.sort(key=lambda item: (-item["posts"], str(item[name])))
    return out
