"""Networks of a movement as SQL: who reposts, replies to or mentions whom, and which hashtags
go together. See docs/networks.md for every definition.

Everything heavy happens in the engine, in portable SQL, one statement at a time: the edges
of one kind, their weights and times, the pruning (minimum weight, minimum degree, k-core by
peeling rounds, each round one `CREATE OR REPLACE TEMP TABLE`, since Spark has no recursive
CTE) and the node attributes. Labels are decided in SQL under the privacy mode, so the
handle of a person who may not be named never leaves the engine. Python only reads the
final, pruned tables in chunks, to write a file or a summary.

A node is (`ns`, `node`): for people `ns` is the platform and `node` the account id, or, for
a mentioned handle that matches no single account in the store, `@` and the lowercased
handle (the input of `Pseudonymizer.handle`); for hashtags `ns` is `#` and `node` the key.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any, Callable, Iterator

from ..movement.definition import Movement
from ..movement.match import distinct_list_sql, sql_string
from ..privacy import Privacy
from .audience import handle_tags_sql
from .scope import NETWORK_COLUMNS, POST_COLUMNS, scope_base_sql

Query = Callable[[str], list[tuple]]
KINDS = ("cohashtag", "mention", "reply", "repost")
DIRECTED = {"cohashtag": False, "mention": True, "reply": True, "repost": True}
SCOPE, EVENTS, RAW = "gs_net_scope", "gs_net_events", "gs_net_raw"
TAGS, HANDLES, NODE_BASE = "gs_net_tags", "gs_net_handles", "gs_net_node_base"
TAG_COUNTS, KEPT_TAGS = "gs_net_tag_counts", "gs_net_kept_tags"
NODES, LINKS = "gs_net_nodes", "gs_net_links"
STEPS = ("gs_net_step_a", "gs_net_step_b")
CHUNK = 50_000
NODE_COLUMNS = ("idx", "label", "named", "posts", "authors", "in_weight", "out_weight", "degree", "first_at", "last_at")
EDGE_COLUMNS = ("idx", "source", "target", "weight", "authors", "first_at", "last_at")


@dataclass(frozen=True)
class Pruning:
    """What to remove so that a large network stays drawable (applied in this order).

    min_weight: edges made by fewer posts go; min_authors: edges made by fewer distinct
    authors go (co-hashtag pairs under privacy: a small cell); self_loops: keep edges from a
    node to itself; min_degree: one pass removing nodes with fewer distinct neighbours;
    k_core: the k-core, nodes peeled until each has at least k neighbours; max_nodes: keep
    the nodes of highest weighted degree only (0: all). max_tag_share (co-hashtag): leave out
    tags carried by more than this share of the posts (1: none), before anything else.
    """

    min_weight: int = 1
    min_degree: int = 0
    k_core: int = 0
    max_nodes: int = 0
    self_loops: bool = True
    min_authors: int = 1
    max_tag_share: float = 1.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Network:
    """A built network: its tables live in the engine session; `summary` says what was counted."""

    kind: str
    directed: bool
    summary: dict[str, Any] = field(default_factory=dict)

    def nodes(self, query: Query, chunk: int = CHUNK) -> Iterator[dict[str, Any]]:
        return _chunks(query, NODES, NODE_COLUMNS, self.summary["nodes"], chunk)

    def edges(self, query: Query, chunk: int = CHUNK) -> Iterator[dict[str, Any]]:
        return _chunks(query, LINKS, EDGE_COLUMNS, self.summary["edges"], chunk)

    def edge_list(self, query: Query) -> list[tuple[int, int, int]]:
        """(source, target, weight) of every kept edge: for community detection on the pruned graph."""
        return [(int(s), int(t), int(w)) for s, t, w in query(f"SELECT source, target, weight FROM {LINKS} ORDER BY idx")]

    def top(self, query: Query, n: int = 10) -> list[dict[str, Any]]:
        """The nodes of highest weighted degree (in + out weight), with their labels under privacy."""
        rows = query(f"SELECT {', '.join(NODE_COLUMNS)} FROM {NODES} "
                     f"ORDER BY in_weight + out_weight DESC, idx LIMIT {int(n)}")
        return [_node(row) for row in rows]


def materialize(query: Query, kind: str, privacy: Privacy, movement: Movement | None = None,
                pruning: Pruning = Pruning(), table: str | None = None, drop_tags: tuple[str, ...] = ()) -> Network:
    """Build the network of `kind` over the movement's matched posts (or `table`, a scope
    such as the report's `gs_scope`; or every collected post) and return what it holds.

    Pseudonyms use `privacy.salt`: bind the privacy to the store (`Privacy.bind`) so that a
    person has the same label here as in every other output of the store. Each step is one
    statement, and few of them: on Spark every statement is a job.
    """
    if kind not in KINDS:
        raise ValueError(f"network kind must be one of {KINDS}")
    if kind == "cohashtag" and pruning.min_authors < privacy.cell_floor:
        pruning = replace(pruning, min_authors=privacy.cell_floor)  # a rare pair of tags can single out its author
    scope, posts = _scope(query, movement, table)
    unresolved = _EVENTS[kind](query, scope, privacy, pruning, drop_tags)
    raw_edges = _create(query, RAW, f"SELECT ns, src, dst, count(*) AS weight, count(DISTINCT actor) AS authors, "
                                    f"min(created_at) AS first_at, max(created_at) AS last_at "
                                    f"FROM {EVENTS} GROUP BY ns, src, dst")
    edges, rounds = _prune(query, pruning, raw_edges)
    _create(query, NODE_BASE, _node_base_sql(edges))
    nodes = _create(query, NODES, _nodes_sql(kind, privacy, scope))
    links = _create(query, LINKS, _links_sql(edges))
    counts = {"interactions": f"SELECT count(*) FROM {EVENTS}",
              "raw_nodes": f"SELECT count(*) FROM (SELECT ns, src FROM {RAW} UNION SELECT ns, dst FROM {RAW}) AS n",
              "self_loops": f"SELECT count(*) FROM {edges} WHERE src = dst", **unresolved}
    found = dict(zip(counts, (int(n) for n in query("SELECT " + ", ".join(f"({sql})" for sql in counts.values()))[0])))
    summary = {
        "posts": posts, "interactions": found["interactions"],
        "unresolved": {name: found[name] for name in unresolved},
        "before_pruning": {"nodes": found["raw_nodes"], "edges": raw_edges},
        "nodes": nodes, "edges": links, "self_loops": found["self_loops"], "k_core_rounds": rounds,
        "pruning": pruning.as_dict(),
    }
    return Network(kind, DIRECTED[kind], summary)


def _create(query: Query, name: str, sql: str) -> int:
    """CREATE OR REPLACE TEMP TABLE name AS sql; its row count (both engines report it)."""
    rows = query(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}")
    if rows and len(rows[0]) == 1 and isinstance(rows[0][0], int):
        return int(rows[0][0])
    return _count(query, name)


# --- the posts, and what each kind counts as an interaction -----------------------------------

def _scope(query: Query, movement: Movement | None, table: str | None) -> tuple[str, int]:
    """The posts the network is drawn from and their number: `table` as it is (a scope such as
    the report's, which carries the columns of the co-hashtag and repost networks; the reply
    and mention networks also read scope.NETWORK_COLUMNS), else the movement's matched posts,
    else every collected post."""
    if table is not None:
        return table, _count(query, table)
    return SCOPE, _create(query, SCOPE, scope_base_sql(movement, POST_COLUMNS + NETWORK_COLUMNS))


def _events(query: Query, body: str) -> None:
    """One row per (post, source, target): the post counts once per edge however often it repeats."""
    _create(query, EVENTS, f"SELECT DISTINCT platform, post_id, created_at, actor, ns, src, dst "
                           f"FROM ({body}) AS ev WHERE src IS NOT NULL AND dst IS NOT NULL")


def _repost_events(query: Query, scope: str, privacy: Privacy, pruning: Pruning, drop_tags: tuple[str, ...]) -> dict[str, str]:
    """Reposter -> author of the original, found by joining the original (often stored as a
    referenced-only post) on the reposted post id."""
    _events(query, f"SELECT s.platform, s.post_id, s.created_at, s.platform || ':' || s.author_id AS actor, "
                   f"s.platform AS ns, s.author_id AS src, o.author_id AS dst FROM {scope} s "
                   f"JOIN posts o ON o.platform = s.platform AND o.post_id = s.reposted_post_id")
    return {"reposts_without_original_author": f"SELECT count(*) FROM {scope} s LEFT JOIN posts o "
            f"ON o.platform = s.platform AND o.post_id = s.reposted_post_id WHERE s.reposted_post_id IS NOT NULL "
            f"AND (o.author_id IS NULL OR s.author_id IS NULL)"}


def _reply_events(query: Query, scope: str, privacy: Privacy, pruning: Pruning, drop_tags: tuple[str, ...]) -> dict[str, str]:
    """Replier -> author replied to: the source's reply-to author, else the parent post's author."""
    target = "coalesce(s.reply_to_author_id, r.author_id)"
    join = f"{scope} s LEFT JOIN posts r ON r.platform = s.platform AND r.post_id = s.reply_to_post_id"
    _events(query, f"SELECT s.platform, s.post_id, s.created_at, s.platform || ':' || s.author_id AS actor, "
                   f"s.platform AS ns, s.author_id AS src, {target} AS dst FROM {join} "
                   f"WHERE s.reply_to_post_id IS NOT NULL OR s.reply_to_author_id IS NOT NULL")
    return {"replies_without_parent_author": f"SELECT count(*) FROM {join} WHERE (s.reply_to_post_id IS NOT NULL "
            f"OR s.reply_to_author_id IS NOT NULL) AND ({target} IS NULL OR s.author_id IS NULL)"}


def _mention_events(query: Query, scope: str, privacy: Privacy, pruning: Pruning, drop_tags: tuple[str, ...]) -> dict[str, str]:
    """Author -> each distinct handle the post mentions (reposts excluded: their mentions are
    the original's). A handle becomes the account that used it, when exactly one did."""
    _create(query, HANDLES, "SELECT platform, lower(author_handle) AS handle, min(author_id) AS author_id "
                            "FROM posts WHERE author_handle IS NOT NULL AND author_id IS NOT NULL "
                            "GROUP BY platform, lower(author_handle) HAVING count(DISTINCT author_id) = 1")
    mentioned = ("SELECT platform, post_id, created_at, author_id, "
                 "unnest(list_distinct(list_transform(mentions, lambda x: lower(x)))) AS handle "
                 f"FROM {scope} WHERE coalesce(kind, '') <> 'repost'")
    _events(query, f"SELECT m.platform, m.post_id, m.created_at, m.platform || ':' || m.author_id AS actor, "
                   f"m.platform AS ns, m.author_id AS src, coalesce(h.author_id, '@' || m.handle) AS dst "
                   f"FROM ({mentioned}) AS m LEFT JOIN {HANDLES} h ON h.platform = m.platform AND h.handle = m.handle "
                   f"WHERE m.handle <> ''")
    return {"mentions_of_unknown_accounts": f"SELECT count(*) FROM {EVENTS} WHERE dst LIKE '@%'"}


def _cohashtag_events(query: Query, scope: str, privacy: Privacy, pruning: Pruning,
                      drop_tags: tuple[str, ...]) -> dict[str, str]:
    """Each pair of distinct hashtag keys on one post, once, the smaller key first. A tag that
    is the handle of someone who may not be named is left out, as in the report's co-hashtags.
    Which tags stay is decided once, on the table of distinct tags, not on every post."""
    _create(query, TAG_COUNTS, f"SELECT tag, count(*) AS posts FROM (SELECT unnest({distinct_list_sql('hashtag_keys')}) AS tag "
                               f"FROM {scope}) AS u WHERE tag IS NOT NULL AND tag <> '' GROUP BY tag")
    tests = [handle_tags_sql(privacy, table=TAG_COUNTS)]
    if drop_tags:
        tests.append(f"tag NOT IN ({', '.join(sql_string(t) for t in sorted(drop_tags))})")
    if pruning.max_tag_share < 1:
        tests.append(f"posts <= {float(pruning.max_tag_share)} * (SELECT count(*) FROM {scope})")
    _create(query, KEPT_TAGS, f"SELECT tag FROM {TAG_COUNTS} WHERE {' AND '.join(tests)}")
    _create(query, TAGS, f"SELECT platform, post_id, created_at, platform || ':' || author_id AS actor, tag "
                         f"FROM (SELECT platform, post_id, created_at, author_id, unnest({distinct_list_sql('hashtag_keys')}) "
                         f"AS tag FROM {scope}) AS t WHERE tag IN (SELECT tag FROM {KEPT_TAGS})")
    _events(query, f"SELECT a.platform, a.post_id, a.created_at, a.actor, '#' AS ns, a.tag AS src, b.tag AS dst "
                   f"FROM {TAGS} a JOIN {TAGS} b ON b.platform = a.platform AND b.post_id = a.post_id AND a.tag < b.tag")
    return {}


_EVENTS = {"repost": _repost_events, "reply": _reply_events, "mention": _mention_events, "cohashtag": _cohashtag_events}


# --- pruning ---------------------------------------------------------------------------------
#
# Each statement reads the table before it once: Spark keeps a cached view's whole lineage in
# the plans that read it, so a step reading its predecessor three times would grow the plans
# threefold per round. Degrees are therefore counted with window functions over the two ends
# of each edge (a cross join with SIDES), not by joining a degree table back twice.

SIDES = "(SELECT 1 AS side UNION ALL SELECT 2 AS side)"
EDGE_FIELDS = "ns, src, dst, weight, authors, first_at, last_at"
PAIRS, CORE, KEPT = "gs_net_pairs", ("gs_net_core_a", "gs_net_core_b"), "gs_net_kept_nodes"
# Every table a network is built in: drop them (engines.base.drop_temp_tables) once it is read.
WORKING_TABLES = (SCOPE, EVENTS, RAW, TAG_COUNTS, KEPT_TAGS, TAGS, HANDLES, NODE_BASE, NODES, LINKS, *STEPS, PAIRS, *CORE, KEPT)


def _prune(query: Query, pruning: Pruning, raw_edges: int) -> tuple[str, int]:
    """Apply the pruning; returns the table holding the kept edges and the k-core rounds run."""
    step = _Steps(query, raw_edges)
    if pruning.min_weight > 1 or pruning.min_authors > 1 or not pruning.self_loops:
        loops = "" if pruning.self_loops else " AND src <> dst"
        step.make(f"SELECT {EDGE_FIELDS} FROM {RAW} WHERE weight >= {int(pruning.min_weight)} "
                  f"AND authors >= {int(pruning.min_authors)}{loops}")
    rounds = 0
    if pruning.min_degree > 0 or pruning.k_core > 0:
        rounds = _peel(query, step.current, pruning.min_degree, pruning.k_core)
        step.make(f"SELECT e.ns, e.src, e.dst, e.weight, e.authors, e.first_at, e.last_at FROM {step.current} e "
                  f"JOIN {KEPT} x ON x.ns = e.ns AND x.node = e.src JOIN {KEPT} y ON y.ns = e.ns AND y.node = e.dst")
    if pruning.max_nodes > 0:
        step.make(_top_nodes_sql(step.current, pruning.max_nodes))
    return step.current, rounds


def _peel(query: Query, edges: str, min_degree: int, k: int) -> int:
    """KEPT: the nodes left by one min-degree pass, then by k-core peeling, on the undirected
    simple graph (one row per pair of distinct neighbours). Returns the k-core rounds run."""
    rows = _create(query, PAIRS, f"SELECT DISTINCT ns, least(src, dst) AS a, greatest(src, dst) AS b "
                                 f"FROM {edges} WHERE src <> dst")
    current, turn, rounds = PAIRS, 0, 0
    for threshold, repeat in ((min_degree, False), (k, True)):
        while threshold > 0:
            target = CORE[turn % 2]
            kept = _create(query, target, _peel_round_sql(current, threshold))
            current, turn, rounds = target, turn + 1, rounds + repeat
            if not repeat or kept in (rows, 0):
                rows = kept
                break
            rows = kept
    _create(query, KEPT, f"SELECT DISTINCT ns, CASE WHEN side = 1 THEN a ELSE b END AS node FROM {current} "
                         f"CROSS JOIN {SIDES} AS sides")
    return rounds


def _peel_round_sql(pairs: str, k: int) -> str:
    """The pairs whose two ends both have at least k neighbours among `pairs`."""
    ends = (f"SELECT ns, a, b, side, CASE WHEN side = 1 THEN a ELSE b END AS node FROM {pairs} "
            f"CROSS JOIN {SIDES} AS sides")
    degrees = f"SELECT ns, a, b, side, count(*) OVER (PARTITION BY ns, node) AS degree FROM ({ends}) AS e"
    lowest = f"SELECT ns, a, b, side, min(degree) OVER (PARTITION BY ns, a, b) AS low FROM ({degrees}) AS d"
    return f"SELECT ns, a, b FROM ({lowest}) AS m WHERE side = 1 AND low >= {int(k)}"


def _top_nodes_sql(table: str, n: int) -> str:
    """Edges between the n nodes of highest weighted degree (ties: by node)."""
    ends = (f"SELECT {EDGE_FIELDS}, side, CASE WHEN side = 1 THEN src ELSE dst END AS node FROM {table} "
            f"CROSS JOIN {SIDES} AS sides")
    strength = f"SELECT {EDGE_FIELDS}, side, node, sum(weight) OVER (PARTITION BY ns, node) AS strength FROM ({ends}) AS e"
    ranked = (f"SELECT {EDGE_FIELDS}, side, dense_rank() OVER (ORDER BY strength DESC, ns, node) AS rank "
              f"FROM ({strength}) AS s")
    worst = f"SELECT {EDGE_FIELDS}, side, max(rank) OVER (PARTITION BY ns, src, dst) AS worst FROM ({ranked}) AS r"
    return f"SELECT {EDGE_FIELDS} FROM ({worst}) AS w WHERE side = 1 AND worst <= {int(n)}"


class _Steps:
    """Two temp tables used in turn, so each step reads the previous one and replaces the other."""

    def __init__(self, query: Query, rows: int):
        self.query, self.turn, self.current, self.rows = query, 0, RAW, rows

    def make(self, sql: str) -> int:
        target = STEPS[self.turn % 2]
        self.rows = _create(self.query, target, sql)
        self.current, self.turn = target, self.turn + 1
        return self.rows


# --- nodes, their labels under privacy, and numbered edges -----------------------------------

def _node_base_sql(edges: str) -> str:
    """Weights, neighbours and times of each node, from the two ends of each kept edge."""
    ends = (f"SELECT e.ns, CASE WHEN side = 1 THEN e.src ELSE e.dst END AS node, "
            f"CASE WHEN side = 1 THEN e.dst ELSE e.src END AS other, "
            f"CASE WHEN side = 1 THEN e.weight ELSE 0 END AS w_out, CASE WHEN side = 2 THEN e.weight ELSE 0 END AS w_in, "
            f"e.first_at, e.last_at FROM {edges} e CROSS JOIN {SIDES} AS sides")
    return (f"SELECT row_number() OVER (ORDER BY ns, node) AS idx, ns, node, sum(w_out) AS out_weight, "
            f"sum(w_in) AS in_weight, count(DISTINCT CASE WHEN other <> node THEN other END) AS degree, "
            f"min(first_at) AS first_at, max(last_at) AS last_at FROM ({ends}) AS ends GROUP BY ns, node")


def _nodes_sql(kind: str, privacy: Privacy, scope: str) -> str:
    """Identity and label of each node of NODE_BASE, from the posts."""
    if kind == "cohashtag":
        joins = (f"LEFT JOIN (SELECT '#' AS ns, tag AS node, count(*) AS posts, count(DISTINCT actor) AS authors "
                 f"FROM {TAGS} GROUP BY tag) AS c ON c.ns = a.ns AND c.node = a.node")
        label, named, authors = "a.node", "FALSE", "c.authors"
    else:
        joins, label, named = _person_identity(privacy, scope)
        authors = "CAST(NULL AS BIGINT)"
    return (f"SELECT a.idx, a.ns, a.node, {label} AS label, "
            f"{named} AS named, coalesce(c.posts, 0) AS posts, {authors} AS authors, "
            f"a.in_weight, a.out_weight, a.degree, a.first_at, a.last_at FROM {NODE_BASE} AS a {joins}")


def _person_identity(privacy: Privacy, scope: str) -> tuple[str, str, str]:
    """Joins giving each person node its posts in scope and, only where it may be named, its
    latest handle; then the label: `@handle` if named, else the store's pseudonym."""
    handles = (f"SELECT ns, node, handle FROM (SELECT n.ns, n.node, p.author_handle AS handle, row_number() OVER "
               f"(PARTITION BY n.ns, n.node ORDER BY p.created_at DESC NULLS LAST, p.post_id DESC) AS r "
               f"FROM {NODE_BASE} n JOIN posts p ON p.platform = n.ns AND p.author_id = n.node "
               f"WHERE p.author_handle IS NOT NULL AND {privacy.notable_sql('p.')}) AS latest WHERE r = 1")
    counts = f"SELECT platform AS ns, author_id AS node, count(*) AS posts FROM {scope} GROUP BY platform, author_id"
    joins = (f"LEFT JOIN ({handles}) AS h ON h.ns = a.ns AND h.node = a.node "
             f"LEFT JOIN ({counts}) AS c ON c.ns = a.ns AND c.node = a.node")
    everyone = "TRUE" if privacy.mode == "off" else "FALSE"
    label = (f"CASE WHEN h.handle IS NOT NULL THEN '@' || h.handle WHEN {everyone} THEN a.node "
             f"ELSE {privacy.pseudonym_sql('a.node')} END")
    return joins, label, f"(h.handle IS NOT NULL OR {everyone})"


def _links_sql(edges: str) -> str:
    return (f"SELECT row_number() OVER (ORDER BY s.idx, t.idx) AS idx, s.idx AS source, t.idx AS target, "
            f"e.weight, e.authors, e.first_at, e.last_at FROM {edges} e "
            f"JOIN {NODE_BASE} s ON s.ns = e.ns AND s.node = e.src JOIN {NODE_BASE} t ON t.ns = e.ns AND t.node = e.dst")


# --- reading ---------------------------------------------------------------------------------

def _count(query: Query, table: str, where: str | None = None) -> int:
    (n,), = query(f"SELECT count(*) FROM {table}" + (f" WHERE {where}" if where else ""))
    return int(n)


def _chunks(query: Query, table: str, columns: tuple[str, ...], total: int, chunk: int) -> Iterator[dict[str, Any]]:
    """Rows by their number, a chunk at a time: a large network never sits whole in Python."""
    reader = _node if table == NODES else _edge
    for start in range(0, total, chunk):
        rows = query(f"SELECT {', '.join(columns)} FROM {table} WHERE idx > {start} AND idx <= {start + chunk} ORDER BY idx")
        yield from (reader(row) for row in rows)


def _node(row: tuple) -> dict[str, Any]:
    item = dict(zip(NODE_COLUMNS, row))
    item["weighted_degree"] = int(item["in_weight"]) + int(item["out_weight"])
    for key in ("idx", "posts", "in_weight", "out_weight", "degree"):
        item[key] = int(item[key])
    item["named"] = bool(item["named"])
    return item


def _edge(row: tuple) -> dict[str, Any]:
    item = dict(zip(EDGE_COLUMNS, row))
    for key in ("idx", "source", "target", "weight", "authors"):
        item[key] = int(item[key])
    return item


def iso(moment: datetime | None) -> str | None:
    """A UTC time as Gephi and xsd:dateTime read it: seconds, or milliseconds when there are any."""
    if moment is None:
        return None
    return moment.isoformat(timespec="milliseconds" if moment.microsecond else "seconds")
