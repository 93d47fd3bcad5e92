"""Who took part and where: platforms, languages, co-hashtags, the most-engaged posts and the
most-followed participants. See docs/metrics.md and docs/privacy.md.

Privacy is decided in the SQL itself: handles, names, texts and links of people who may not
be named are never selected, and authors are labelled (`@handle` or a salted pseudonym) by
the engine, so neither their words nor their account ids reach Python. Breakdowns (platforms,
languages, co-hashtags) hide cells of fewer than `privacy.min_cell` distinct people.
"""

from __future__ import annotations

from typing import Any, Callable

from ..movement.definition import Movement
from ..movement.match import distinct_list_sql, sql_string
from ..privacy import Privacy
from .ranking import candidates_sql
from .scope import SCOPE

Query = Callable[[str], list[tuple]]
TOP = 10
ENGAGEMENT = ("like_count", "repost_count", "reply_count", "quote_count")
SUPPRESSED = "other (suppressed)"
DEFAULT_PRIVACY = Privacy()


def engagement_sql(prefix: str = "") -> str:
    return " + ".join(f"coalesce({prefix}{column}, 0)" for column in ENGAGEMENT)


def platforms(query: Query, table: str = SCOPE, privacy: Privacy = DEFAULT_PRIVACY) -> list[dict[str, Any]]:
    return _breakdown(query, "platform", table, privacy)


def languages(query: Query, table: str = SCOPE, privacy: Privacy = DEFAULT_PRIVACY) -> dict[str, Any]:
    """Posts per language, and how each language label was obtained."""
    sources = query(f"SELECT language_source, count(*) FROM {table} GROUP BY language_source")
    methods = {"source": 0, "detected": 0, "short": 0, "uncertain": 0, "none": 0}
    methods.update({str(name): int(n) for name, n in sources})
    return {"by_language": _breakdown(query, "language", table, privacy), "label_source": methods}


def _breakdown(query: Query, column: str, table: str = SCOPE, privacy: Privacy = DEFAULT_PRIVACY) -> list[dict[str, Any]]:
    """Posts and distinct authors per value of `column`, most posts first.

    A cell is one value's row; its size is its distinct authors. Cells smaller than the
    privacy floor are not shown one by one: their posts and people are counted together,
    exactly (in SQL, so one person in two small cells counts once), in a last row named
    `other (suppressed)`, so the posts still add up to the scope's total.
    """
    rows = query(f"SELECT {column}, count(*), count(DISTINCT author_id) FROM {table} GROUP BY {column}")
    floor = privacy.cell_floor
    out = [{column: value if value is not None else "unknown", "posts": int(posts), "distinct_authors": int(people),
            "suppressed": False} for value, posts, people in rows if int(people) >= floor]
    out.sort(key=lambda item: (-item["posts"], str(item[column])))
    small = [value for value, _, people in rows if int(people) < floor]
    if small:
        named = [value for value in small if value is not None]
        tests = ([f"{column} IN ({', '.join(sql_string(str(v)) for v in named)})"] if named else [])
        tests += [f"{column} IS NULL"] if None in small else []
        posts, people = query(f"SELECT count(*), count(DISTINCT author_id) FROM {table} WHERE {' OR '.join(tests)}")[0]
        out.append({column: SUPPRESSED, "posts": int(posts), "distinct_authors": int(people), "suppressed": True})
    return out


def handle_tags_sql(privacy: Privacy, column: str = "tag", table: str | None = None) -> str:
    """SQL true for a tag that is not the handle of someone who may not be named (`#janedoe`
    names Jane Doe as surely as `@janedoe`); every tag passes under off. With `table`, a
    relation of the tags that may be tested (in `column`), only handles among them are
    looked up: a small set to test against, instead of every handle in the store."""
    if privacy.mode == "off":
        return "TRUE"
    among = f" AND lower(author_handle) IN (SELECT {column} FROM {table})" if table else ""
    return (f"{column} NOT IN (SELECT lower(author_handle) FROM posts "
            f"WHERE author_handle IS NOT NULL AND NOT ({privacy.notable_sql()}){among})")


def co_hashtags(query: Query, movement: Movement | None, top: int = TOP, table: str = SCOPE,
                privacy: Privacy = DEFAULT_PRIVACY) -> list[dict[str, Any]]:
    """Hashtag keys other than the movement's, by the number of posts that carry them.

    A tag is a cell: one used by fewer than `min_cell` people, or equal to the handle of a
    person who may not be named, is left out (tags are not people, but a rare one can point
    at a person); the list is a top list, so nothing is folded.
    """
    own = sorted(movement.stored_forms()) if movement else []
    tests = [f"tag NOT IN ({', '.join(sql_string(k) for k in own)})"] if own else []
    counted = (f"SELECT tag, count(*) AS posts, count(DISTINCT author_id) AS authors FROM (SELECT "
               f"unnest({distinct_list_sql('hashtag_keys')}) AS tag, author_id FROM {table}) AS t "
               f"{'WHERE ' + tests[0] if tests else ''} GROUP BY tag HAVING count(DISTINCT author_id) >= {privacy.cell_floor}")
    rows = query(  # tags are counted first, so only the few that pass are looked up among handles
        f"WITH c AS MATERIALIZED ({counted}) SELECT tag, posts, authors FROM c WHERE {handle_tags_sql(privacy, table='c')} "
        f"ORDER BY posts DESC, tag LIMIT {int(top)}")
    return [{"key": tag, "posts": int(posts), "distinct_authors": int(authors)} for tag, posts, authors in rows]


def most_engaged(query: Query, privacy: Privacy, top: int = TOP, table: str = SCOPE) -> list[dict[str, Any]]:
    """Posts (not reposts: a repost reports its original's counts) by likes + reposts + replies
    + quotes as reported at collection; handle, text and link only where the mode allows."""
    named = privacy.notable_sql("s.")
    order = f"ORDER BY engagement DESC, s.created_at, s.post_id LIMIT {int(top)}"
    chosen = f"SELECT s.*, {engagement_sql('s.')} AS engagement FROM {table} s WHERE s.kind <> 'repost' {order}"
    rows = query(  # the top posts first; only they are joined to their text
        f"SELECT s.platform, s.kind, s.created_at, {privacy.is_notable_sql('s.')}, {named}, {privacy.label_sql('s.')}, "
        f"CASE WHEN {named} THEN s.author_handle END, {privacy.text_sql('s.', 'p.text')}, "
        f"CASE WHEN {named} THEN p.url END, s.like_count, s.repost_count, s.reply_count, s.quote_count, s.engagement "
        f"FROM ({chosen}) AS s JOIN posts p ON p.platform = s.platform AND p.post_id = s.post_id {order}"
    )
    return [
        {"platform": platform, "kind": kind, "day": created.date().isoformat() if created else None, "label": label,
         "notable": bool(notable), "named": bool(is_named), "handle": handle, "text": text, "url": url,
         "likes": likes, "reposts": reposts, "replies": replies, "quotes": quotes, "engagement": int(total)}
        for platform, kind, created, notable, is_named, label, handle, text, url, likes, reposts, replies, quotes, total in rows
        if int(total) > 0
    ]


def most_followed(query: Query, privacy: Privacy, top: int = TOP, table: str = SCOPE) -> list[dict[str, Any]]:
    """Authors by the largest follower count seen on their posts; handle and name only where
    the mode allows, else the author's pseudonym."""
    named = privacy.notable_sql()
    most = (f"SELECT author_id, max(author_followers) AS followers FROM {table} WHERE author_followers IS NOT NULL "
            f"GROUP BY author_id")
    rows = query(  # the accounts that can be in the list first; only they are described
        f"WITH m AS MATERIALIZED ({most}), c AS ({candidates_sql('m', 'followers', top)}) "
        f"SELECT CASE WHEN named AND handle IS NOT NULL THEN '@' || handle ELSE {privacy.pseudonym_sql('author_id')} END, "
        f"followers, posts, notable, named, handle, name, verified FROM ("
        f"SELECT author_id, max(author_followers) AS followers, count(*) AS posts, "
        f"bool_or({privacy.is_notable_sql()}) AS notable, bool_or({named}) AS named, "
        f"max_by(CASE WHEN {named} THEN author_handle END, created_at) AS handle, "
        f"max_by(CASE WHEN {named} THEN author_name END, created_at) AS name, "
        f"bool_or(coalesce(author_verified, FALSE)) AS verified "
        f"FROM {table} WHERE author_followers IS NOT NULL AND author_id IN (SELECT author_id FROM c) GROUP BY author_id) AS a "
        f"ORDER BY followers DESC, author_id LIMIT {int(top)}"
    )
    return [
        {"label": label, "followers": int(followers), "posts": int(posts), "notable": bool(notable),
         "named": bool(is_named), "handle": handle if is_named else None, "name": name if is_named else None,
         "verified": bool(verified)}
        for label, followers, posts, notable, is_named, handle, name, verified in rows
    ]


def label_participants(*tables: list[dict[str, Any]]) -> None:
    """Kept for rows made the old way (with an internal `_author`): those of people who may not
    be named become `participant N` with handle, name, text and link nulled. Rows from
    `most_engaged` and `most_followed` are labelled in SQL already and are left as they are."""
    labels: dict[str, str] = {}
    for rows in tables:
        for row in rows:
            if "_author" not in row:
                continue
            author = row.pop("_author")
            if row.get("notable") and row.get("handle"):
                row["label"] = "@" + str(row["handle"])
                continue
            row["notable"] = False
            row["label"] = labels.setdefault(author, f"participant {len(labels) + 1}")
            for key in ("handle", "name", "text", "url"):
                if key in row:
                    row[key] = None
