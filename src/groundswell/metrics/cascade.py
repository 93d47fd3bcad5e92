"""The cascade of a post: the tree of replies, quotes and reposts that reach it. See docs/spread.md.

A post's parent is given by its kind: a repost's `reposted_post_id`, a quote's
`quoted_post_id`, a reply's `reply_to_post_id` (a reply that also quotes is a reply), on
the same platform. One parent each makes the reference graph a forest, so the cascade of a
post is the subtree under it; referenced-only posts (`collected = false`) are nodes too,
because a v1.1 retweet or a v2 expansion that carries a post in full proves it existed.

Spark has no recursive CTEs, so the tree is walked one level at a time, each level one
`CREATE OR REPLACE TEMP TABLE` joined to the level above; subtree sizes come back up the
same levels. Python only drives the loop and reads a few aggregate rows, so a tree of a
million nodes never leaves the engine. The Wiener index W = Σ s·(n − s) over edges (s the
size of the subtree below the edge) is summed on the way up, and structural virality, the
mean distance between two nodes (Goel, Anderson, Hofman and Watts 2016), is W / C(n, 2).

A cycle in bad data (A replies to B, B replies to A) cannot make the walk loop: with one
parent per post, a node can be reached twice only through the root, so the root is never
taken as a child; self-references are dropped; and `max_depth` stops runaway chains.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from ..engines.base import drop_temp_tables
from ..errors import GroundswellError
from ..model import PLATFORMS
from ..movement.definition import Movement
from ..movement.match import posts_with_match_sql, sql_string
from ..privacy import Privacy, pseudonym_sql
from ..timeutil import snowflake_time

Query = Callable[[str], list[tuple]]

EDGES = "gs_cascade_edges"
NODES = "gs_cascade_nodes"
REPLIES = "gs_cascade_replies"
RESPONSE_KINDS = ("repost", "reply", "quote")
MILESTONES = (10, 100, 1000)
# Elapsed times (seconds after the root) at which the response-time curve is read.
CURVE_SECONDS = (60, 300, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 259200, 604800,
                 2592000, 31536000)
MAX_DEPTH = 10_000
_UNION_CHUNK = 64  # levels per UNION ALL statement when collecting the nodes
_PARENT = ("CASE kind WHEN 'repost' THEN reposted_post_id WHEN 'quote' THEN quoted_post_id "
           "WHEN 'reply' THEN reply_to_post_id END")
_COLUMNS = "post_id, parent_id, kind, created_at, collected"


def post_key(ref: str, platform: str = "twitter") -> tuple[str, str]:
    """(platform, post_id) from `platform:id` (as movement files write calls) or a bare id.

    Bluesky ids are `at://` URIs, which contain colons, so only a known platform name
    before the first colon counts as a prefix.
    """
    head, sep, rest = ref.partition(":")
    if sep and head in PLATFORMS and rest:
        return head, rest
    if not ref.strip():
        raise GroundswellError("a post id is empty")
    if platform not in PLATFORMS:
        raise GroundswellError(f"unknown platform {platform!r} (known: {', '.join(PLATFORMS)})")
    return platform, ref.strip()


def cascade(query: Query, call: str, movement: Movement | None, privacy: Privacy, salt: str,
            max_depth: int = MAX_DEPTH) -> dict[str, Any]:
    """Every figure of the cascade under `call` (`platform:id`); see docs/spread.md."""
    platform, post_id = post_key(call)
    root, root_time = _root(query, platform, post_id, privacy, salt)
    query(f"CREATE OR REPLACE TEMP TABLE {EDGES} AS SELECT {_COLUMNS} FROM (SELECT post_id, {_PARENT} AS parent_id, "
          f"kind, created_at, coalesce(collected, FALSE) AS collected FROM posts WHERE platform = {sql_string(platform)}"
          f") AS e WHERE parent_id IS NOT NULL AND parent_id <> post_id")
    depth, truncated = _walk(query, post_id, max_depth)
    _collect_nodes(query, depth)
    figures: dict[str, Any] = {"post": f"{platform}:{post_id}", "platform": platform, "post_id": post_id,
                               "root": root, **_shape(query, depth), "truncated": truncated}
    figures.update(_virality(query, depth, figures["size"]))
    figures.update(_timing(query, root_time, figures["responses"]))
    figures["replies"] = _reply_match(query, platform, movement) if movement is not None else None
    levels = [name for d in range(1, depth + 2) for name in (_level(d), _sizes(d))]
    drop_temp_tables(query, (EDGES, NODES, REPLIES, *levels))
    return figures


def _level(depth: int) -> str:
    return f"gs_cascade_l{depth}"


def _sizes(depth: int) -> str:
    return f"gs_cascade_s{depth}"


def _create(query: Query, name: str, select: str) -> int:
    """Make a temp table and return its rows (both engines report them; counted if not)."""
    rows = query(f"CREATE OR REPLACE TEMP TABLE {name} AS {select}")
    if rows and rows[0] and isinstance(rows[0][0], int):
        return rows[0][0]
    return int(query(f"SELECT count(*) FROM {name}")[0][0])


def _walk(query: Query, root: str, max_depth: int) -> tuple[int, bool]:
    """Levels gs_cascade_l1 … l{depth}: the nodes at each distance from the root."""
    depth, quoted = 0, sql_string(root)
    while True:
        if depth == 0:
            source = f"FROM {EDGES} e WHERE e.parent_id = {quoted}"
        else:
            source = f"FROM {EDGES} e JOIN {_level(depth)} p ON e.parent_id = p.post_id WHERE e.post_id <> {quoted}"
        select = f"SELECT {depth + 1} AS depth, e.post_id, e.parent_id, e.kind, e.created_at, e.collected {source}"
        if _create(query, _level(depth + 1), select) == 0:
            return depth, False
        if depth + 1 > max_depth:
            return depth, True
        depth += 1


def _collect_nodes(query: Query, depth: int) -> None:
    """gs_cascade_nodes: every level in one table, a bounded number of levels per statement."""
    levels = list(range(1, depth + 1))
    first = levels[:_UNION_CHUNK]
    parts = [f"SELECT * FROM {_level(d)}" for d in first] or [f"SELECT 1 AS depth, {_COLUMNS} FROM {EDGES} WHERE FALSE"]
    query(f"CREATE OR REPLACE TEMP TABLE {NODES} AS {' UNION ALL '.join(parts)}")
    for start in range(_UNION_CHUNK, len(levels), _UNION_CHUNK):
        more = " UNION ALL ".join(f"SELECT * FROM {_level(d)}" for d in levels[start:start + _UNION_CHUNK])
        query(f"CREATE OR REPLACE TEMP TABLE {NODES} AS SELECT * FROM {NODES} UNION ALL {more}")


def _shape(query: Query, depth: int) -> dict[str, Any]:
    """Size by kind, breadth by depth, and how many nodes are referenced-only."""
    rows = query(f"SELECT depth, kind, collected, count(*) FROM {NODES} GROUP BY depth, kind, collected")
    by_kind = dict.fromkeys(RESPONSE_KINDS, 0)
    breadth = [0] * depth
    referenced = 0
    for level, kind, collected, n in rows:
        by_kind[kind] = by_kind.get(kind, 0) + int(n)
        breadth[int(level) - 1] += int(n)
        referenced += 0 if collected else int(n)
    responses = sum(breadth)
    return {"size": responses + 1, "responses": responses, "by_kind": by_kind, "referenced_only": referenced,
            "depth": depth, "max_breadth": max(breadth, default=0), "breadth_by_depth": breadth}


def _virality(query: Query, depth: int, size: int) -> dict[str, Any]:
    """Subtree sizes bottom-up, carrying Σs and Σs² of each subtree, so the Wiener index is
    n·Σs − Σs² over every node but the root, without a table of all pairs."""
    for d in range(depth, 0, -1):
        if d == depth:
            select = (f"SELECT post_id, parent_id, CAST(1 AS BIGINT) AS s, CAST(0 AS BIGINT) AS acc, "
                      f"CAST(0 AS BIGINT) AS acc2 FROM {_level(d)}")
        else:
            select = (f"SELECT n.post_id, n.parent_id, CAST(1 + coalesce(sum(c.s), 0) AS BIGINT) AS s, "
                      f"CAST(coalesce(sum(c.s + c.acc), 0) AS BIGINT) AS acc, "
                      f"CAST(coalesce(sum(c.s * c.s + c.acc2), 0) AS BIGINT) AS acc2 "
                      f"FROM {_level(d)} n LEFT JOIN {_sizes(d + 1)} c ON c.parent_id = n.post_id "
                      f"GROUP BY n.post_id, n.parent_id")
        query(f"CREATE OR REPLACE TEMP TABLE {_sizes(d)} AS {select}")
    if depth == 0:
        return {"wiener_index": 0, "structural_virality": None}
    total, squares = query(f"SELECT CAST(sum(s + acc) AS BIGINT), CAST(sum(s * s + acc2) AS BIGINT) FROM {_sizes(1)}")[0]
    wiener = size * int(total) - int(squares)
    return {"wiener_index": wiener, "structural_virality": wiener / (size * (size - 1) / 2)}


def _root(query: Query, platform: str, post_id: str, privacy: Privacy,
          salt: str) -> tuple[dict[str, Any], datetime | None]:
    """The root as the store has it, and its time: from the store, else (a tweet missing from
    it) the time its id encodes. Its author is named only where the privacy mode allows."""
    named = privacy.notable_sql()
    rows = query(f"SELECT collected, kind, created_at, {named}, CASE WHEN {named} THEN author_handle END, "
                 f"{pseudonym_sql(salt, 'author_id')} FROM posts "
                 f"WHERE platform = {sql_string(platform)} AND post_id = {sql_string(post_id)}")
    if not rows:
        moment = snowflake_time(post_id) if platform == "twitter" else None
        return ({"in_store": False, "collected": None, "kind": None, "created_at": _iso(moment),
                 "time_source": "id" if moment else None, "author": None, "named": False}, moment)
    collected, kind, created, is_named, handle, alias = rows[0]
    named_ok = bool(is_named) and bool(handle)
    return ({"in_store": True, "collected": bool(collected), "kind": kind, "created_at": _iso(created),
             "time_source": "store" if created else None, "author": f"@{handle}" if named_ok else alias,
             "named": named_ok}, created)


def _timing(query: Query, root_time: datetime | None, responses: int) -> dict[str, Any]:
    """Seconds from the root to its 10th, 100th and 1,000th response, and the response-time
    curve: responses made within each elapsed time of CURVE_SECONDS, in one pass over the
    responses ranked by time. Untimed responses are left out of both and counted."""
    if root_time is None:
        return {"seconds_to_responses": dict.fromkeys(map(str, MILESTONES)), "response_curve": [],
                "untimed_responses": responses}
    elapsed = (f"SELECT date_diff('microsecond', TIMESTAMP '{root_time.isoformat(sep=' ')}', created_at) AS us "
               f"FROM {NODES} WHERE created_at IS NOT NULL")
    ranked = f"SELECT us, row_number() OVER (ORDER BY us) AS rn FROM ({elapsed}) AS t"
    milestones = ", ".join(f"max(CASE WHEN rn = {k} THEN us END)" for k in MILESTONES)
    counts = ", ".join(f"count(*) FILTER (WHERE us <= {s * 1_000_000})" for s in CURVE_SECONDS)
    row = query(f"SELECT count(*), {milestones}, {counts} FROM ({ranked}) AS r")[0]
    timed, found, within = int(row[0]), row[1:1 + len(MILESTONES)], row[1 + len(MILESTONES):]
    return {"seconds_to_responses": {str(k): us / 1e6 if us is not None else None for k, us in zip(MILESTONES, found)},
            "response_curve": _curve(timed, [int(n) for n in within]), "untimed_responses": responses - timed}


def _curve(timed: int, within: list[int]) -> list[dict[str, Any]]:
    """Points of the curve up to the first one that holds every timed response."""
    points = []
    for seconds, n in zip(CURVE_SECONDS, within):
        points.append({"seconds": seconds, "responses": n, "share": n / timed if timed else None})
        if n >= timed:
            break
    return points


def _reply_match(query: Query, platform: str, movement: Movement) -> dict[str, Any]:
    """Collected replies in the tree by how they used the movement: a movement hashtag, only
    its phrase, or neither (the movement's own matching rules, window included)."""
    query(f"CREATE OR REPLACE TEMP TABLE {REPLIES} AS SELECT p.* FROM posts p JOIN {NODES} n "
          f"ON p.post_id = n.post_id WHERE p.platform = {sql_string(platform)} AND n.kind = 'reply' AND n.collected")
    matched = posts_with_match_sql(movement, REPLIES)
    total, tagged, phrase = query(
        f"SELECT count(*), count(*) FILTER (WHERE by_hashtag), count(*) FILTER (WHERE by_phrase AND NOT by_hashtag) "
        f"FROM ({matched}) AS m")[0]
    counts = {"hashtag": int(tagged), "phrase_only": int(phrase), "neither": int(total) - int(tagged) - int(phrase)}
    return {"collected": int(total), **counts,
            "shares": {name: (n / int(total) if total else None) for name, n in counts.items()}}


def _iso(moment: Any) -> str | None:
    return moment.isoformat(sep="T") + "Z" if moment is not None else None
