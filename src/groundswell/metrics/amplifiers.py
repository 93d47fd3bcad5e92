"""Who carried the movement: the most active accounts, the most amplified accounts and posts,
the earliest notable adopters, and potential reach and impressions. See docs/spread.md.

Every figure reads a scope table of the movement's collected posts (by default `gs_scope`,
see metrics/scope.py), with the post table for the references of reposts and quotes. A
repost or quote in scope amplifies its original wherever the original is stored, collected
or referenced-only: the original of a v1.1 retweet is often known only from the retweet.

Privacy is decided in SQL, as in metrics/audience.py: a handle is selected only where the
mode names its account (`privacy.notable_sql()`), everyone else is the store's pseudonym
(`pseudonym_sql`), and no post text is selected at all. Post ids and links are given only
for posts whose author is named, since an id leads straight to its author.
"""

from __future__ import annotations

from typing import Any, Callable

from ..privacy import Privacy, pseudonym_sql
from .scope import SCOPE

Query = Callable[[str], list[tuple]]
TOP = 10
KINDS = {"original": "originals", "repost": "reposts", "reply": "replies", "quote": "quotes"}


def notability_sql(privacy: Privacy, prefix: str = "") -> str:
    """SQL true for a notable account's post whatever the mode: verified, or at least
    `notable_followers` followers. (`privacy.notable_sql` says who may be *named*: nobody
    under strict, everybody under off.)"""
    return Privacy("standard", privacy.notable_followers).notable_sql(prefix)


def _latest_followers(table: str) -> str:
    """Each account's latest known follower count in scope: the count on its latest post that
    has one (the larger count breaks a tie of times)."""
    return (f"SELECT platform, author_id, author_followers AS followers FROM (SELECT platform, author_id, "
            f"author_followers, row_number() OVER (PARTITION BY platform, author_id ORDER BY created_at DESC, "
            f"author_followers DESC) AS rn FROM {table} WHERE author_followers IS NOT NULL) AS r WHERE rn = 1")


def _label(named: str, handle: str, alias: str) -> str:
    return f"CASE WHEN {named} AND {handle} IS NOT NULL THEN '@' || {handle} ELSE {alias} END"


def _is_named(named: str, handle: str) -> str:
    return f"coalesce({named} AND {handle} IS NOT NULL, FALSE)"


def most_active(query: Query, privacy: Privacy, salt: str, top: int = TOP, table: str = SCOPE) -> list[dict[str, Any]]:
    """Accounts by their number of posts in scope (ties: more followers first)."""
    named, notable = privacy.notable_sql(), notability_sql(privacy)
    kinds = ", ".join(f"count(*) FILTER (WHERE kind = '{k}') AS {name}" for k, name in KINDS.items())
    rows = query(
        f"WITH latest AS ({_latest_followers(table)}), a AS (SELECT platform, author_id, count(*) AS posts, {kinds}, "
        f"bool_or({named}) AS named, bool_or({notable}) AS notable, "
        f"max_by(CASE WHEN {named} THEN author_handle END, created_at) AS handle FROM {table} GROUP BY platform, author_id) "
        f"SELECT a.platform, {_label('a.named', 'a.handle', pseudonym_sql(salt, 'a.author_id'))}, "
        f"{_is_named('a.named', 'a.handle')}, a.notable, l.followers, a.posts, "
        f"{', '.join('a.' + name for name in KINDS.values())} "
        f"FROM a LEFT JOIN latest l ON l.platform = a.platform AND l.author_id = a.author_id "
        f"ORDER BY a.posts DESC, coalesce(l.followers, -1) DESC, a.platform, a.author_id LIMIT {int(top)}"
    )
    return [{"label": label, "named": bool(is_named), "notable": bool(is_notable), "platform": platform,
             "followers": followers, "posts": int(posts), **{name: int(n) for name, n in zip(KINDS.values(), by_kind)}}
            for platform, label, is_named, is_notable, followers, posts, *by_kind in rows]


def _amplified_sql(table: str, privacy: Privacy) -> str:
    """CTEs: `amp`, one row per repost or quote in scope with the original it amplifies, and
    that original's author (only where the original is stored); `latest` followers."""
    named, notable = privacy.notable_sql("o."), notability_sql(privacy, "o.")
    return (
        f"latest AS ({_latest_followers(table)}), "
        f"refs AS (SELECT s.platform, s.author_id AS amplifier, s.kind, CASE WHEN s.kind = 'repost' "
        f"THEN p.reposted_post_id ELSE p.quoted_post_id END AS target_id FROM {table} s JOIN posts p "
        f"ON p.platform = s.platform AND p.post_id = s.post_id WHERE s.kind IN ('repost', 'quote')), "
        f"amp AS (SELECT r.platform, r.amplifier, r.kind, r.target_id, o.author_id, o.created_at, o.collected, "
        f"{named} AS named, {notable} AS notable, CASE WHEN {named} THEN o.author_handle END AS handle, "
        f"CASE WHEN {named} THEN o.url END AS url FROM refs r JOIN posts o "
        f"ON o.platform = r.platform AND o.post_id = r.target_id)"
    )


def most_influential(query: Query, privacy: Privacy, salt: str, top: int = TOP,
                     table: str = SCOPE) -> list[dict[str, Any]]:
    """Accounts by the reposts and quotes their posts received in scope, then by the followers
    of the distinct accounts that amplified them (each at its latest known count)."""
    rows = query(
        f"WITH {_amplified_sql(table, privacy)}, "
        f"reach AS (SELECT d.platform, d.author_id, CAST(sum(l.followers) AS BIGINT) AS followers FROM "
        f"(SELECT DISTINCT platform, author_id, amplifier FROM amp) AS d LEFT JOIN latest l "
        f"ON l.platform = d.platform AND l.author_id = d.amplifier GROUP BY d.platform, d.author_id), "
        f"g AS (SELECT platform, author_id, count(*) FILTER (WHERE kind = 'repost') AS reposts, "
        f"count(*) FILTER (WHERE kind = 'quote') AS quotes, count(DISTINCT amplifier) AS amplifiers, "
        f"count(DISTINCT target_id) AS posts, bool_or(named) AS named, bool_or(notable) AS notable, "
        f"max_by(handle, created_at) AS handle FROM amp GROUP BY platform, author_id) "
        f"SELECT g.platform, {_label('g.named', 'g.handle', pseudonym_sql(salt, 'g.author_id'))}, "
        f"{_is_named('g.named', 'g.handle')}, g.notable, g.reposts, g.quotes, g.amplifiers, g.posts, r.followers "
        f"FROM g JOIN reach r ON r.platform = g.platform AND r.author_id = g.author_id "
        f"ORDER BY g.reposts + g.quotes DESC, coalesce(r.followers, -1) DESC, g.platform, g.author_id LIMIT {int(top)}"
    )
    return [{"label": label, "named": bool(is_named), "notable": bool(is_notable), "platform": platform,
             "reposts": int(reposts), "quotes": int(quotes), "amplifications": int(reposts) + int(quotes),
             "amplifiers": int(amplifiers), "posts_amplified": int(posts), "amplifier_followers": followers}
            for platform, label, is_named, is_notable, reposts, quotes, amplifiers, posts, followers in rows]


def most_amplified_posts(query: Query, privacy: Privacy, salt: str, top: int = TOP,
                         table: str = SCOPE) -> list[dict[str, Any]]:
    """Originals by the reposts and quotes they received in scope; their id and link only
    where their author is named."""
    rows = query(
        f"WITH {_amplified_sql(table, privacy)}, "
        f"reach AS (SELECT d.platform, d.target_id, CAST(sum(l.followers) AS BIGINT) AS followers FROM "
        f"(SELECT DISTINCT platform, target_id, amplifier FROM amp) AS d LEFT JOIN latest l "
        f"ON l.platform = d.platform AND l.author_id = d.amplifier GROUP BY d.platform, d.target_id), "
        f"g AS (SELECT platform, target_id, author_id, created_at, collected, named, notable, handle, url, "
        f"count(*) FILTER (WHERE kind = 'repost') AS reposts, count(*) FILTER (WHERE kind = 'quote') AS quotes, "
        f"count(DISTINCT amplifier) AS amplifiers FROM amp "
        f"GROUP BY platform, target_id, author_id, created_at, collected, named, notable, handle, url) "
        f"SELECT g.platform, CASE WHEN g.named THEN g.target_id END, g.url, "
        f"{_label('g.named', 'g.handle', pseudonym_sql(salt, 'g.author_id'))}, {_is_named('g.named', 'g.handle')}, "
        f"g.notable, CAST(g.created_at AS DATE), g.collected, g.reposts, g.quotes, g.amplifiers, r.followers "
        f"FROM g JOIN reach r ON r.platform = g.platform AND r.target_id = g.target_id "
        f"ORDER BY g.reposts + g.quotes DESC, coalesce(r.followers, -1) DESC, g.platform, g.target_id LIMIT {int(top)}"
    )
    return [{"post_id": post_id, "url": url, "author": label, "named": bool(is_named), "notable": bool(is_notable),
             "platform": platform, "day": day.isoformat() if day else None, "collected": bool(collected),
             "reposts": int(reposts), "quotes": int(quotes), "amplifications": int(reposts) + int(quotes),
             "amplifiers": int(amplifiers), "amplifier_followers": followers}
            for platform, post_id, url, label, is_named, is_notable, day, collected, reposts, quotes, amplifiers,
            followers in rows]


def earliest_notable_adopters(query: Query, privacy: Privacy, salt: str, top: int = TOP,
                              table: str = SCOPE) -> list[dict[str, Any]]:
    """Notable accounts (verified, or enough followers on one of their posts in scope) by the
    time of their first post in scope. The exact time only where the account is named."""
    named, notable = privacy.notable_sql(), notability_sql(privacy)
    account = "PARTITION BY platform, author_id"
    rows = query(
        f"WITH r AS (SELECT platform, author_id, post_id, kind, created_at, author_followers, "
        f"row_number() OVER ({account} ORDER BY created_at, post_id) AS rn, "
        f"max(CASE WHEN {notable} THEN 1 ELSE 0 END) OVER ({account}) AS is_notable, "
        f"max(CASE WHEN {named} THEN author_handle END) OVER ({account}) AS handle, "
        f"count(*) OVER ({account}) AS posts FROM {table} WHERE created_at IS NOT NULL) "
        f"SELECT platform, {_label('TRUE', 'handle', pseudonym_sql(salt, 'author_id'))}, handle IS NOT NULL, "
        f"created_at, kind, author_followers, posts FROM r WHERE rn = 1 AND is_notable = 1 "
        f"ORDER BY created_at, platform, post_id LIMIT {int(top)}"
    )
    return [{"label": label, "named": bool(is_named), "platform": platform,
             "first_post_at": _iso(first) if is_named else None, "first_day": first.date().isoformat(),
             "first_kind": kind, "followers_then": followers, "posts": int(posts)}
            for platform, label, is_named, first, kind, followers, posts in rows]


def reach(query: Query, table: str = SCOPE) -> dict[str, Any]:
    """Potential reach and potential impressions, as defined in docs/spread.md."""
    (authors, known, potential_reach, posts, posts_known, impressions), = query(
        f"WITH latest AS ({_latest_followers(table)}) "
        f"SELECT a.n, l.n, l.total, p.n, p.known, p.total FROM "
        f"(SELECT count(*) AS n FROM (SELECT DISTINCT platform, author_id FROM {table}) AS d) AS a CROSS JOIN "
        f"(SELECT count(*) AS n, CAST(sum(followers) AS BIGINT) AS total FROM latest) AS l CROSS JOIN "
        f"(SELECT count(*) AS n, count(author_followers) AS known, CAST(sum(author_followers) AS BIGINT) AS total "
        f"FROM {table}) AS p"
    )
    return {"potential_reach": int(potential_reach or 0), "accounts": int(authors),
            "accounts_without_followers": int(authors) - int(known),
            "potential_impressions": int(impressions or 0), "posts": int(posts),
            "posts_without_followers": int(posts) - int(posts_known)}


def amplifications(query: Query, table: str = SCOPE) -> dict[str, Any]:
    """Reposts and quotes in scope, and how many of them point to an original in the store."""
    (reposts, quotes, stored, originals), = query(
        f"SELECT count(*) FILTER (WHERE r.kind = 'repost'), count(*) FILTER (WHERE r.kind = 'quote'), "
        f"count(o.post_id), count(DISTINCT o.post_id) FROM (SELECT s.platform, s.kind, CASE WHEN s.kind = 'repost' "
        f"THEN p.reposted_post_id ELSE p.quoted_post_id END AS target_id FROM {table} s JOIN posts p "
        f"ON p.platform = s.platform AND p.post_id = s.post_id WHERE s.kind IN ('repost', 'quote')) AS r "
        f"LEFT JOIN posts o ON o.platform = r.platform AND o.post_id = r.target_id"
    )
    return {"reposts": int(reposts), "quotes": int(quotes), "with_original_stored": int(stored),
            "without_original": int(reposts) + int(quotes) - int(stored), "originals": int(originals)}


def _iso(moment: Any) -> str | None:
    return moment.isoformat(sep="T") + "Z" if moment is not None else None
