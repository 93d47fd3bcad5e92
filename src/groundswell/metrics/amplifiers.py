"""Who carried the movement: the most active accounts, the most amplified accounts and posts,
the earliest notable adopters, and potential reach and impressions. See docs/spread.md.

Every figure reads a scope table of the movement's collected posts (by default `gs_scope`,
see metrics/scope.py), which carries each post's references. A repost or quote in scope
amplifies its original wherever the original is stored, collected or referenced-only: the
original of a v1.1 retweet is often known only from the retweet.

`prepare` builds the two tables the figures share, each in one pass: every account's latest
known follower count, and every amplification joined to its original. At ten million posts
each of those is a large join or group-by, so no figure repeats one. The top lists rank by
counts first, so the costlier parts (the amplifiers' followers, each account's details) are
computed only for the candidates whose count can still reach the top (metrics/ranking.py).

Privacy is decided in SQL, as in metrics/audience.py: a handle is selected only where the
mode names its account (`privacy.notable_sql()`), everyone else is the store's pseudonym
(`pseudonym_sql`), and no post text is selected at all. Post ids and links are given only
for posts whose author is named, since an id leads straight to its author.
"""

from __future__ import annotations

from typing import Any, Callable

from ..privacy import Privacy, pseudonym_sql
from .ranking import candidates_sql
from .scope import SCOPE

Query = Callable[[str], list[tuple]]
TOP = 10
KINDS = {"original": "originals", "repost": "reposts", "reply": "replies", "quote": "quotes"}
LATEST, AMPLIFIED = "gs_amp_latest", "gs_amp"
# Sorts below every real time: an undated post is an account's latest only when it has no other.
NO_TIME = "TIMESTAMP '0001-01-01 00:00:00'"


def notability_sql(privacy: Privacy, prefix: str = "") -> str:
    """SQL true for a notable account's post whatever the mode: verified, or at least
    `notable_followers` followers. (`privacy.notable_sql` says who may be *named*: nobody
    under strict, everybody under off.)"""
    return Privacy("standard", privacy.notable_followers).notable_sql(prefix)


def prepare(query: Query, privacy: Privacy, table: str = SCOPE) -> None:
    """LATEST: (platform, author_id, followers), each account's latest known follower count in
    scope, the count on its latest post that has one (the larger count breaks a tie of times).
    AMPLIFIED: one row per repost or quote in scope, with its original's author where the
    original is stored (the original's other columns are read for the top lists' candidates)."""
    query(f"CREATE OR REPLACE TEMP TABLE {LATEST} AS SELECT platform, author_id, max_by(author_followers, "
          f"{{'t': coalesce(created_at, {NO_TIME}), 'f': author_followers}}) AS followers "
          f"FROM {table} WHERE author_followers IS NOT NULL GROUP BY platform, author_id")
    query(f"CREATE OR REPLACE TEMP TABLE {AMPLIFIED} AS SELECT r.platform, r.amplifier, r.kind, r.target_id, "
          f"o.post_id IS NOT NULL AS stored, o.author_id "
          f"FROM (SELECT platform, author_id AS amplifier, kind, CASE WHEN kind = 'repost' THEN reposted_post_id "
          f"ELSE quoted_post_id END AS target_id FROM {table} WHERE kind IN ('repost', 'quote')) AS r "
          f"LEFT JOIN posts o ON o.platform = r.platform AND o.post_id = r.target_id")


def _original_sql(privacy: Privacy) -> str:
    """Columns of an original post `o`: whether its author may be named, is notable, and the
    handle and link shown only where named."""
    named, notable = privacy.notable_sql("o."), notability_sql(privacy, "o.")
    return (f"coalesce({named}, FALSE) AS named, coalesce({notable}, FALSE) AS notable, "
            f"CASE WHEN {named} THEN o.author_handle END AS handle, CASE WHEN {named} THEN o.url END AS url")


def _label(named: str, handle: str, alias: str) -> str:
    return f"CASE WHEN {named} AND {handle} IS NOT NULL THEN '@' || {handle} ELSE {alias} END"


def _is_named(named: str, handle: str) -> str:
    return f"coalesce({named} AND {handle} IS NOT NULL, FALSE)"


def most_active(query: Query, privacy: Privacy, salt: str, top: int = TOP, table: str = SCOPE) -> list[dict[str, Any]]:
    """Accounts by their number of posts in scope (ties: more followers first). Needs `prepare`."""
    named, notable = privacy.notable_sql("s."), notability_sql(privacy, "s.")
    kinds = ", ".join(f"count(*) FILTER (WHERE s.kind = '{k}') AS {name}" for k, name in KINDS.items())
    rows = query(
        f"WITH n AS MATERIALIZED (SELECT platform, author_id, count(*) AS posts FROM {table} GROUP BY platform, author_id), "
        f"c AS ({candidates_sql('n', 'posts', top)}), "
        f"a AS (SELECT s.platform, s.author_id, count(*) AS posts, {kinds}, bool_or({named}) AS named, "
        f"bool_or({notable}) AS notable, max_by(CASE WHEN {named} THEN s.author_handle END, s.created_at) AS handle "
        f"FROM {table} s JOIN c ON c.platform = s.platform AND c.author_id = s.author_id GROUP BY s.platform, s.author_id) "
        f"SELECT a.platform, {_label('a.named', 'a.handle', pseudonym_sql(salt, 'a.author_id'))}, "
        f"{_is_named('a.named', 'a.handle')}, a.notable, l.followers, a.posts, "
        f"{', '.join('a.' + name for name in KINDS.values())} "
        f"FROM a LEFT JOIN {LATEST} l ON l.platform = a.platform AND l.author_id = a.author_id "
        f"ORDER BY a.posts DESC, coalesce(l.followers, -1) DESC, a.platform, a.author_id LIMIT {int(top)}"
    )
    return [{"label": label, "named": bool(is_named), "notable": bool(is_notable), "platform": platform,
             "followers": followers, "posts": int(posts), **{name: int(n) for name, n in zip(KINDS.values(), by_kind)}}
            for platform, label, is_named, is_notable, followers, posts, *by_kind in rows]


def _reach_of(candidates: str, key: str) -> str:
    """Per candidate: the summed latest followers of the distinct accounts that amplified it."""
    return (f"SELECT d.platform, d.{key}, CAST(sum(l.followers) AS BIGINT) AS followers FROM "
            f"(SELECT DISTINCT a.platform, a.{key}, a.amplifier FROM {AMPLIFIED} a JOIN {candidates} c "
            f"ON c.platform = a.platform AND c.{key} = a.{key} WHERE a.stored) AS d LEFT JOIN {LATEST} l "
            f"ON l.platform = d.platform AND l.author_id = d.amplifier GROUP BY d.platform, d.{key}")


def most_influential(query: Query, privacy: Privacy, salt: str, top: int = TOP,
                     table: str = SCOPE) -> list[dict[str, Any]]:
    """Accounts by the reposts and quotes their posts received in scope, then by the followers
    of the distinct accounts that amplified them (each at its latest known count). Needs `prepare`."""
    rows = query(
        f"WITH g AS MATERIALIZED (SELECT platform, author_id, count(*) FILTER (WHERE kind = 'repost') AS reposts, "
        f"count(*) FILTER (WHERE kind = 'quote') AS quotes, count(DISTINCT amplifier) AS amplifiers, "
        f"count(DISTINCT target_id) AS posts FROM {AMPLIFIED} WHERE stored GROUP BY platform, author_id), "
        f"c AS ({candidates_sql('g', 'reposts + quotes', top)}), reach AS ({_reach_of('c', 'author_id')}), "
        f"d AS (SELECT x.platform, x.author_id, bool_or(x.named) AS named, bool_or(x.notable) AS notable, "
        f"max_by(x.handle, x.created_at) AS handle FROM (SELECT a.platform, a.author_id, o.created_at, {_original_sql(privacy)} "
        f"FROM {AMPLIFIED} a JOIN c ON c.platform = a.platform AND c.author_id = a.author_id "
        f"JOIN posts o ON o.platform = a.platform AND o.post_id = a.target_id) AS x GROUP BY x.platform, x.author_id) "
        f"SELECT c.platform, {_label('d.named', 'd.handle', pseudonym_sql(salt, 'c.author_id'))}, "
        f"{_is_named('d.named', 'd.handle')}, d.notable, c.reposts, c.quotes, c.amplifiers, c.posts, r.followers "
        f"FROM c JOIN reach r ON r.platform = c.platform AND r.author_id = c.author_id "
        f"JOIN d ON d.platform = c.platform AND d.author_id = c.author_id "
        f"ORDER BY c.reposts + c.quotes DESC, coalesce(r.followers, -1) DESC, c.platform, c.author_id LIMIT {int(top)}"
    )
    return [{"label": label, "named": bool(is_named), "notable": bool(is_notable), "platform": platform,
             "reposts": int(reposts), "quotes": int(quotes), "amplifications": int(reposts) + int(quotes),
             "amplifiers": int(amplifiers), "posts_amplified": int(posts), "amplifier_followers": followers}
            for platform, label, is_named, is_notable, reposts, quotes, amplifiers, posts, followers in rows]


def most_amplified_posts(query: Query, privacy: Privacy, salt: str, top: int = TOP,
                         table: str = SCOPE) -> list[dict[str, Any]]:
    """Originals by the reposts and quotes they received in scope; their id and link only
    where their author is named. Needs `prepare`."""
    rows = query(
        f"WITH g AS MATERIALIZED (SELECT platform, target_id, max(author_id) AS author_id, "
        f"count(*) FILTER (WHERE kind = 'repost') AS reposts, count(*) FILTER (WHERE kind = 'quote') AS quotes, "
        f"count(DISTINCT amplifier) AS amplifiers FROM {AMPLIFIED} WHERE stored GROUP BY platform, target_id), "
        f"c AS ({candidates_sql('g', 'reposts + quotes', top)}), reach AS ({_reach_of('c', 'target_id')}), "
        f"d AS (SELECT o.platform, o.post_id, o.created_at, o.collected, {_original_sql(privacy)} FROM posts o "
        f"JOIN c ON c.platform = o.platform AND c.target_id = o.post_id) "
        f"SELECT c.platform, CASE WHEN d.named THEN c.target_id END, d.url, "
        f"{_label('d.named', 'd.handle', pseudonym_sql(salt, 'c.author_id'))}, {_is_named('d.named', 'd.handle')}, "
        f"d.notable, CAST(d.created_at AS DATE), d.collected, c.reposts, c.quotes, c.amplifiers, r.followers "
        f"FROM c JOIN reach r ON r.platform = c.platform AND r.target_id = c.target_id "
        f"JOIN d ON d.platform = c.platform AND d.post_id = c.target_id "
        f"ORDER BY c.reposts + c.quotes DESC, coalesce(r.followers, -1) DESC, c.platform, c.target_id LIMIT {int(top)}"
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
    time of their first post in scope. The exact time only where the account is named.
    Notable accounts are found first, so only their posts are ordered."""
    named, notable = privacy.notable_sql("s."), notability_sql(privacy, "s.")
    rows = query(
        f"WITH n AS (SELECT s.platform, s.author_id, count(*) AS posts, max(CASE WHEN {named} THEN s.author_handle END) "
        f"AS handle FROM {table} s WHERE s.created_at IS NOT NULL GROUP BY s.platform, s.author_id "
        f"HAVING bool_or(coalesce({notable}, FALSE))), "
        f"r AS (SELECT s.platform, s.author_id, s.post_id, s.kind, s.created_at, s.author_followers, n.handle, n.posts, "
        f"row_number() OVER (PARTITION BY s.platform, s.author_id ORDER BY s.created_at, s.post_id) AS rn "
        f"FROM {table} s JOIN n ON n.platform = s.platform AND n.author_id = s.author_id WHERE s.created_at IS NOT NULL) "
        f"SELECT platform, {_label('TRUE', 'handle', pseudonym_sql(salt, 'author_id'))}, handle IS NOT NULL, "
        f"created_at, kind, author_followers, posts FROM r WHERE rn = 1 "
        f"ORDER BY created_at, platform, post_id LIMIT {int(top)}"
    )
    return [{"label": label, "named": bool(is_named), "platform": platform,
             "first_post_at": _iso(first) if is_named else None, "first_day": first.date().isoformat(),
             "first_kind": kind, "followers_then": followers, "posts": int(posts)}
            for platform, label, is_named, first, kind, followers, posts in rows]


def reach(query: Query, table: str = SCOPE) -> dict[str, Any]:
    """Potential reach and potential impressions, as defined in docs/spread.md. Needs `prepare`."""
    (authors, known, potential_reach, posts, posts_known, impressions), = query(
        f"SELECT a.n, l.n, l.total, p.n, p.known, p.total FROM "
        f"(SELECT count(*) AS n FROM (SELECT DISTINCT platform, author_id FROM {table}) AS d) AS a CROSS JOIN "
        f"(SELECT count(*) AS n, CAST(sum(followers) AS BIGINT) AS total FROM {LATEST}) AS l CROSS JOIN "
        f"(SELECT count(*) AS n, count(author_followers) AS known, CAST(sum(author_followers) AS BIGINT) AS total "
        f"FROM {table}) AS p"
    )
    return {"potential_reach": int(potential_reach or 0), "accounts": int(authors),
            "accounts_without_followers": int(authors) - int(known),
            "potential_impressions": int(impressions or 0), "posts": int(posts),
            "posts_without_followers": int(posts) - int(posts_known)}


def amplifications(query: Query) -> dict[str, Any]:
    """Reposts and quotes in scope, and how many of them point to an original in the store.
    Needs `prepare`."""
    (reposts, quotes, stored, originals), = query(
        f"SELECT count(*) FILTER (WHERE kind = 'repost'), count(*) FILTER (WHERE kind = 'quote'), "
        f"count(*) FILTER (WHERE stored), count(DISTINCT CASE WHEN stored THEN target_id END) FROM {AMPLIFIED}"
    )
    return {"reposts": int(reposts), "quotes": int(quotes), "with_original_stored": int(stored),
            "without_original": int(reposts) + int(quotes) - int(stored), "originals": int(originals)}


def _iso(moment: Any) -> str | None:
    return moment.isoformat(sep="T") + "Z" if moment is not None else None
