"""`groundswell network`: edges, weights, pruning, communities, privacy and well-formed files.

Most tests run on a small synthetic store whose every interaction is listed below, so the
expected edges are counted here from those lists, not by the code under test. Real-data
tests read the #MeToo stream sample at run time; its totals (120 retweets making 120
distinct retweeter -> author pairs among 194 accounts, one a self-retweet; 11 replies
among 21 accounts, one a self-reply) were counted from the raw JSON with a one-off script.
Pruning is checked against networkx (its k_core, and degrees of the simple graph), files by
parsing them with xml.etree and networkx, and the SQL on Spark on small synthetic tables.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter
from datetime import datetime, timedelta
from itertools import combinations
from pathlib import Path
from typing import Any

import networkx as nx
import orjson
import pyarrow as pa
import pytest
from click.testing import CliRunner

from groundswell.analysis.communities import louvain, network_figures
from groundswell.cli import main
from groundswell.metrics import network
from groundswell.model import ARROW_SCHEMA, new_post
from groundswell.privacy import Privacy, Pseudonymizer, load_salt, safe_filename, xml_safe
from groundswell.report import graph_files
from groundswell.store import Store

T0 = datetime(2017, 10, 15, 12, 0)
PSEUDONYM = re.compile(r"^p[0-9a-f]{12}$")
# Synthetic accounts: id -> (handle, verified, followers). Two notable, the rest private.
ACCOUNTS = {
    "id-star": ("synthetic_star", True, 100), "id-paper": ("synthetic_paper", False, 50_000),
    **{f"id-u{n}": (f"synthetic_user_{n}", False, 10) for n in range(1, 9)},
    # Synthetic hostile handle: a control character, markup, CDATA end, quotes and bidi marks.
    "id-bad": ("bad\x01<script>]]>\"'\u202eevil\u200f", False, 10),
}
# Synthetic interactions, (actor, target account); None: the target is not in the store.
REPOSTS = [("id-u1", "id-star"), ("id-u1", "id-star"), ("id-u2", "id-star"), ("id-u3", "id-star"),
           ("id-u4", "id-u2"), ("id-u5", "id-u5"), ("id-u6", None), ("id-u7", "id-bad")]
REPLIES = [("id-u1", "id-u2", True), ("id-u3", "id-paper", False), ("id-u4", "id-u4", True), ("id-u5", None, False)]
# (author, mentions as written): case-insensitive, once per post; unknown handles stay handles.
MENTIONS = [("id-u1", ["Synthetic_Star", "synthetic_star", "nobody_known"]), ("id-u2", ["synthetic_user_1"]),
            ("id-u3", ["bad\x01<script>]]>\"'\u202eevil\u200f"]), ("id-u4", ["Nobody_Known"])]
GROUP_A, GROUP_B = ["alpha1", "alpha2", "alpha3", "alpha4"], ["beta1", "beta2", "beta3", "beta4"]
HOSTILE_TAGS = ["<script>", "a]]>b", 'quote"tag', "ctl\x07tag", "وأنا_كمان", "\u202etag"]


class Builder:
    """Synthetic posts with increasing ids and times."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []

    def add(self, author: str, kind: str = "original", collected: bool = True, **fields: Any) -> str:
        pid = str(1000 + len(self.posts))
        handle, verified, followers = ACCOUNTS.get(author, (f"tagger_{author}", False, 10))
        self.posts.append(new_post(
            platform="twitter", post_id=pid, author_id=author, author_handle=handle, author_followers=followers,
            author_verified=verified, created_at=T0 + timedelta(minutes=len(self.posts)), time_source="source",
            text="[synthetic]", kind=kind, collected=collected, version_id=pid, source_file="synthetic",
            source_line=len(self.posts) + 1, source_format="twitter-v1", mentions=fields.pop("mentions", []),
            hashtags=fields.get("hashtag_keys", []), **fields))
        return pid

    def table(self) -> pa.Table:
        return pa.Table.from_pylist(self.posts, schema=ARROW_SCHEMA)


def synthetic_posts() -> pa.Table:
    b = Builder()
    for actor, target in REPOSTS:
        original = b.add(target, collected=False) if target else "999999"
        b.add(actor, "repost", reposted_post_id=original)
    for actor, target, with_author in REPLIES:
        parent = b.add(target, collected=False) if target else "888888"
        b.add(actor, "reply", reply_to_post_id=parent, reply_to_author_id=target if with_author else None)
    for actor, handles in MENTIONS:
        b.add(actor, mentions=handles)
    b.add("id-u6", "repost", reposted_post_id="999999", mentions=["synthetic_user_8"])  # a repost's mentions do not count
    for group in (GROUP_A, GROUP_B):  # each pair of a group on 6 posts by 6 people
        for n, pair in enumerate(combinations(group, 2)):
            for m in range(6):
                b.add(f"tagger-{group[0]}-{n}-{m}", hashtag_keys=list(pair))
    for m in range(5):  # one weaker bridge between the groups, and a tag equal to a private handle
        b.add(f"bridge-{m}", hashtag_keys=["alpha1", "beta1"])
        b.add(f"named-{m}", hashtag_keys=["alpha2", "synthetic_user_3"])
    b.add("id-u8", hashtag_keys=HOSTILE_TAGS)
    return b.table()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("network") / "synthetic.duckdb"
    with Store(str(db)) as s:
        s.write_batch(synthetic_posts())
    return db


def run(args: list[str]) -> Any:
    result = CliRunner().invoke(main, ["network", *args])
    assert result.exit_code == 0, result.output
    return result


def build(db: Path, out: Path, kind: str, *extra: str) -> dict[str, Any]:
    return orjson.loads(run(["--db", str(db), "--kind", kind, "--out", str(out), "--json", *extra]).stdout)


def read_gexf(path: Path) -> nx.Graph:
    return nx.read_gexf(path, version="1.3")


def labelled_edges(graph: nx.Graph) -> Counter:
    labels = {n: d["label"] for n, d in graph.nodes(data=True)}
    return Counter({(labels[a], labels[b]): int(d["weight"]) for a, b, d in graph.edges(data=True)})


def at(handle_of: str) -> str:
    return "@" + xml_safe(ACCOUNTS[handle_of][0])


# --- each kind counts what it says -------------------------------------------------------------

def test_repost_edges_are_the_planted_reposts_weighted_by_posts(store: Path, tmp_path: Path):
    doc = build(store, tmp_path / "r.gexf", "repost", "--privacy", "off")
    expected = Counter((at(a), at(t)) for a, t in REPOSTS if t)
    graph = read_gexf(tmp_path / "r.gexf")
    assert labelled_edges(graph) == expected
    assert (doc["edges"], doc["self_loops"]) == (len(expected), 1)
    missing = sum(1 for _, target in REPOSTS if target is None) + 1  # and the repost that carries mentions
    assert doc["unresolved"] == {"reposts_without_original_author": missing}
    star = next(n for n, d in graph.nodes(data=True) if d["label"] == at("id-star"))
    assert graph.nodes[star]["in_weight"] == 4 and graph.nodes[star]["posts"] == 0  # its posts are referenced only
    edge = next(d for a, b, d in graph.edges(data=True) if graph.nodes[a]["label"] == at("id-u1"))
    assert (edge["start"], edge["end"]) == ("2017-10-15T12:01:00", "2017-10-15T12:03:00")


def test_reply_edges_use_the_parent_post_when_the_author_is_missing(store: Path, tmp_path: Path):
    doc = build(store, tmp_path / "r.graphml", "reply", "--privacy", "off")
    graph = nx.read_graphml(tmp_path / "r.graphml")
    assert labelled_edges(graph) == Counter((at(a), at(t)) for a, t, _ in REPLIES if t)
    assert doc["unresolved"] == {"replies_without_parent_author": 1}


def test_mentions_count_once_per_post_and_keep_unknown_handles(store: Path, tmp_path: Path):
    build(store, tmp_path / "m.gexf", "mention", "--privacy", "off")
    expected = Counter({(at("id-u1"), at("id-star")): 1, (at("id-u1"), "@nobody_known"): 1,
                        (at("id-u2"), at("id-u1")): 1, (at("id-u3"), at("id-bad")): 1, (at("id-u4"), "@nobody_known"): 1})
    assert labelled_edges(read_gexf(tmp_path / "m.gexf")) == expected


# --- privacy -------------------------------------------------------------------------------------

PRIVATE = [handle for handle, verified, followers in ACCOUNTS.values() if not verified and followers < 10_000]


@pytest.mark.parametrize("kind", ["repost", "reply", "mention"])
def test_standard_names_notable_accounts_only_and_labels_everyone_else_as_elsewhere(store: Path, tmp_path: Path, kind: str):
    doc = build(store, tmp_path / "s.gexf", kind)
    build(store, tmp_path / "s.graphml", kind)
    with Store(str(store), read_only=True) as s:
        pseudonyms = Pseudonymizer(load_salt(s.sql))
    allowed = {at("id-star"), at("id-paper")}
    allowed |= {pseudonyms.author(account) for account in ACCOUNTS} | {pseudonyms.handle("nobody_known")}
    labels = {d["label"] for _, d in read_gexf(tmp_path / "s.gexf").nodes(data=True)}
    assert labels <= allowed and any(PSEUDONYM.match(label) for label in labels)
    assert {node["label"] for node in doc["top_nodes"]} <= allowed
    for text in ((tmp_path / "s.gexf").read_text(), (tmp_path / "s.graphml").read_text(), orjson.dumps(doc).decode()):
        assert not any(xml_safe(handle)[:12].lower() in text.lower() for handle in PRIVATE)
        assert "id-u" not in text and "nobody_known" not in text


def test_strict_names_nobody(store: Path, tmp_path: Path):
    doc = build(store, tmp_path / "x.gexf", "repost", "--privacy", "strict")
    labels = [d["label"] for _, d in read_gexf(tmp_path / "x.gexf").nodes(data=True)]
    assert labels and all(PSEUDONYM.match(label) for label in labels)
    assert doc["privacy"]["mode"] == "strict" and not any(node["named"] for node in doc["top_nodes"])


def test_off_says_so_first(store: Path, tmp_path: Path):
    result = run(["--db", str(store), "--kind", "repost", "--out", str(tmp_path / "o.gexf"), "--privacy", "off"])
    assert result.stdout.splitlines()[0].startswith("PRIVACY IS OFF")


def test_cohashtags_drop_small_cells_and_tags_that_are_private_handles(store: Path, tmp_path: Path):
    standard = build(store, tmp_path / "c.gexf", "cohashtag")
    tags = {d["label"] for _, d in read_gexf(tmp_path / "c.gexf").nodes(data=True)}
    assert tags == set(GROUP_A + GROUP_B)  # hostile tags: one author; synthetic_user_3: a private handle
    assert standard["pruning"]["min_authors"] == 5
    build(store, tmp_path / "o.gexf", "cohashtag", "--privacy", "off")
    assert "synthetic_user_3" in {d["label"] for _, d in read_gexf(tmp_path / "o.gexf").nodes(data=True)}


# --- files stay well-formed whatever the data holds ----------------------------------------------

@pytest.mark.parametrize("kind, suffix", [("cohashtag", "gexf"), ("cohashtag", "graphml"), ("mention", "gexf"),
                                          ("repost", "graphml")])
def test_hostile_text_gives_well_formed_files(store: Path, tmp_path: Path, kind: str, suffix: str):
    path = tmp_path / f"h.{suffix}"
    build(store, path, kind, "--privacy", "off")
    root = ET.parse(path).getroot()  # raises on anything that is not well-formed XML
    assert not any(element.tag.endswith("script") for element in root.iter())
    graph = read_gexf(path) if suffix == "gexf" else nx.read_graphml(path)
    labels = {d["label"] for _, d in graph.nodes(data=True)}
    expected = {xml_safe(tag) for tag in HOSTILE_TAGS} if kind == "cohashtag" else {at("id-bad")}
    assert expected <= labels


def test_writer_drops_lone_surrogates_and_controls(tmp_path: Path):
    """Strings no engine can hold, given straight to the writer (synthetic rows)."""
    label = "bad\ud800\x00\x1b[31m]]><x>\"&\u202e"

    def query(sql: str) -> list[tuple]:
        if "gs_net_nodes" in sql:
            return [(1, label, False, 1, 1, 0, 1, 1, T0, T0), (2, "ok", False, 1, 1, 1, 0, 1, T0, T0)]
        return [(1, 1, 2, 3, 1, T0, T0)]

    net = network.Network("cohashtag", False, {"nodes": 2, "edges": 1})
    for fmt in graph_files.FORMATS:
        path = graph_files.write_network(tmp_path / f"w.{fmt}", fmt, net, query, {1: 1, 2: 1})
        graph = read_gexf(path) if fmt == "gexf" else nx.read_graphml(path)
        assert graph.nodes["n1"]["label"] == "bad[31m]]><x>\"&\u202e"


# --- pruning ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def random_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Counter]:
    """Synthetic: 400 random reposts among 60 accounts, with the exact pair counts."""
    import random

    rng = random.Random(4)
    b, pairs = Builder(), Counter()
    for _ in range(400):
        actor, target = f"r{rng.randrange(60)}", f"r{min(rng.randrange(60), rng.randrange(60))}"
        b.add(actor, "repost", reposted_post_id=b.add(target, collected=False))
        pairs[(actor, target)] += 1
    db = tmp_path_factory.mktemp("random") / "random.duckdb"
    with Store(str(db)) as s:
        s.write_batch(b.table())
    return db, pairs


def kept(db: Path, pruning: network.Pruning) -> Counter:
    from groundswell.engines.duckdb import DuckDBEngine

    with DuckDBEngine(str(db)) as engine:
        net = network.materialize(engine.query, "repost", Privacy("off"), pruning=pruning)
        labels = {node["idx"]: node["label"].removeprefix("@tagger_") for node in net.nodes(engine.query, chunk=7)}
        return Counter({(labels[e["source"]], labels[e["target"]]): e["weight"] for e in net.edges(engine.query, chunk=11)})


def simple(pairs: Counter) -> nx.Graph:
    graph = nx.Graph((a, b) for a, b in pairs if a != b)
    return graph


def test_min_weight_and_self_loops(random_store: tuple[Path, Counter]):
    db, pairs = random_store
    assert kept(db, network.Pruning()) == pairs
    assert kept(db, network.Pruning(min_weight=2, self_loops=False)) == Counter(
        {p: w for p, w in pairs.items() if w >= 2 and p[0] != p[1]})


def test_min_degree_is_one_pass(random_store: tuple[Path, Counter]):
    db, pairs = random_store
    degree = dict(simple(pairs).degree())
    expected = Counter({(a, b): w for (a, b), w in pairs.items() if degree.get(a, 0) >= 12 and degree.get(b, 0) >= 12})
    assert kept(db, network.Pruning(min_degree=12)) == expected and 0 < len(expected) < len(pairs)


def test_k_core_is_networkx_k_core(random_store: tuple[Path, Counter]):
    db, pairs = random_store
    core = set(nx.k_core(simple(pairs), 8).nodes)
    result = kept(db, network.Pruning(k_core=8))
    assert {n for pair in result for n in pair} == core and 0 < len(core) < 60
    assert result == Counter({(a, b): w for (a, b), w in pairs.items() if a in core and b in core})


def test_max_nodes_keeps_the_heaviest(random_store: tuple[Path, Counter]):
    db, pairs = random_store
    weight: Counter = Counter()
    for (a, b), w in pairs.items():
        weight[a] += w
        weight[b] += w
    top = {n for n, _ in sorted(weight.items(), key=lambda item: (-item[1], item[0]))[:10]}
    expected = Counter({(a, b): w for (a, b), w in pairs.items() if a in top and b in top})
    assert kept(db, network.Pruning(max_nodes=10)) == expected and expected


# --- communities -------------------------------------------------------------------------------------

def test_louvain_finds_two_planted_groups_and_repeats_itself():
    edges = [(a, b, 6) for group in (GROUP_A, GROUP_B) for a, b in combinations(group, 2)] + [("alpha1", "beta1", 1)]
    found = louvain(edges)
    assert len(found.sizes) == 2 and found.modularity > 0.3
    assert len({found.membership[t] for t in GROUP_A}) == 1 and len({found.membership[t] for t in GROUP_B}) == 1
    assert found.membership["alpha1"] != found.membership["beta1"]
    assert louvain(reversed(edges)) == found


def test_cohashtag_file_carries_the_two_communities(store: Path, tmp_path: Path):
    doc = build(store, tmp_path / "c.gexf", "cohashtag")
    graph = read_gexf(tmp_path / "c.gexf")
    community = {d["label"]: d["community"] for _, d in graph.nodes(data=True)}
    assert doc["communities"]["communities"] == 2 and doc["communities"]["method"] == "louvain"
    assert {community[t] for t in GROUP_A} != {community[t] for t in GROUP_B}
    assert len({community[t] for t in GROUP_A}) == len({community[t] for t in GROUP_B}) == 1


def test_report_section_is_escaped_and_parsable(store: Path):
    from html.parser import HTMLParser

    from jinja2 import Environment, FileSystemLoader, select_autoescape

    from groundswell.engines.duckdb import DuckDBEngine

    with DuckDBEngine(str(store)) as engine:
        figures = network_figures(engine.query, None, Privacy())
    assert [sorted(t["key"] for t in c["top_hashtags"]) for c in figures["shown"]] == [GROUP_A, GROUP_B] or \
        [sorted(t["key"] for t in c["top_hashtags"]) for c in figures["shown"]] == [GROUP_B, GROUP_A]
    figures["shown"][0]["top_hashtags"][0]["key"] = "<script>alert(1)</script>"  # synthetic hostile key
    folder = Path(graph_files.__file__).parent / "templates"
    env = Environment(loader=FileSystemLoader(folder), autoescape=select_autoescape(default=True, default_for_string=True))
    html = env.get_template("_network.html.j2").render(network=figures)

    class Parser(HTMLParser):
        tags: list[tuple[str, dict]] = []

        def handle_starttag(self, tag: str, attrs: list) -> None:
            self.tags.append((tag, dict(attrs)))

    parser = Parser()
    parser.feed(html)
    assert ("section", {"id": "network", "data-section": "network"}) in parser.tags
    assert "script" not in [tag for tag, _ in parser.tags] and "&lt;script&gt;" in html
    assert len([tag for tag, attrs in parser.tags if tag == "tr" and "data-community" in attrs]) == 2


# --- the command ---------------------------------------------------------------------------------------

def test_json_is_one_document_and_the_folder_name_is_safe(store: Path, tmp_path: Path):
    doc = build(store, tmp_path, "repost")
    assert doc["file"] == str(tmp_path / f"{safe_filename('all-repost')}.gexf") and Path(doc["file"]).is_file()
    assert graph_files.target_path(tmp_path, "mention", "../x y\u202e", "graphml").parent == tmp_path


def test_unknown_suffix_is_a_user_error(store: Path, tmp_path: Path):
    result = CliRunner().invoke(main, ["network", "--db", str(store), "--kind", "reply", "--out", str(tmp_path / "x.txt")])
    assert result.exit_code == 1
    assert result.output.strip() == (f"Error: cannot tell the format of {tmp_path / 'x.txt'}: "
                                     "name it .gexf or .graphml, or give --format")


# --- real data: the #MeToo stream sample -------------------------------------------------------------

_LAMA: dict[str, Path] = {}


@pytest.fixture
def lama(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The stream sample ingested once per module (the folder's absence skips, via shared_data)."""
    from groundswell.ingest import IngestOptions, ingest

    source = shared_data / "metoo-stream-2017-lama" / "metoo.json"
    if "db" not in _LAMA:
        db = tmp_path_factory.mktemp("lama") / "lama.duckdb"
        with Store(str(db)) as s:
            ingest([str(source)], s, IngestOptions())
        _LAMA["db"] = db
    return _LAMA["db"], source


def users_in(tweet: dict[str, Any]) -> list[dict[str, Any]]:
    """Every user object of a tweet, nested retweets and quotes included."""
    found = [tweet["user"]]
    for key in ("retweeted_status", "quoted_status"):
        if isinstance(tweet.get(key), dict):
            found += users_in(tweet[key])
    return found


def raw_pairs(source: Path) -> tuple[Counter, dict[str, str], set[str]]:
    """Retweeter -> original author pairs from the raw JSON, handles by id, and private handles."""
    pairs, handles, notable = Counter(), {}, {}
    for line in source.read_text().splitlines():
        tweet = orjson.loads(line) if line.strip() else None
        if tweet is None:
            continue
        for user in users_in(tweet):
            handles[user["id_str"]] = user["screen_name"]
            known = bool(user.get("verified")) or user["followers_count"] >= 10_000
            notable[user["id_str"]] = notable.get(user["id_str"]) or known
        if "retweeted_status" in tweet:
            pairs[(tweet["user"]["id_str"], tweet["retweeted_status"]["user"]["id_str"])] += 1
    return pairs, handles, {handles[i] for i, flag in notable.items() if not flag}


@pytest.mark.realdata
def test_repost_network_of_the_stream_sample_is_its_120_retweets(lama: tuple[Path, Path], tmp_path: Path):
    db, source = lama
    doc = build(db, tmp_path / "r.gexf", "repost", "--privacy", "off")
    assert (doc["interactions"], doc["edges"], doc["nodes"], doc["self_loops"]) == (120, 120, 194, 1)
    pairs, handles, _ = raw_pairs(source)
    expected = Counter({("@" + handles[a], "@" + handles[b]): w for (a, b), w in pairs.items()})
    graph = read_gexf(tmp_path / "r.gexf")
    assert labelled_edges(graph) == expected and sum(expected.values()) == 120
    reply = build(db, tmp_path / "p.graphml", "reply")
    assert (reply["edges"], reply["nodes"], reply["self_loops"]) == (11, 21, 1)


@pytest.mark.realdata
@pytest.mark.parametrize("kind", network.KINDS)
def test_stream_sample_files_name_no_private_person(lama: tuple[Path, Path], tmp_path: Path, kind: str):
    db, source = lama
    _, _, private = raw_pairs(source)
    doc = build(db, tmp_path / "s.gexf", kind)
    build(db, tmp_path / "s.graphml", kind)
    labels = {d["label"] for _, d in read_gexf(tmp_path / "s.gexf").nodes(data=True)}
    assert not {label.lower() for label in labels} & {"@" + handle.lower() for handle in private}
    assert all(PSEUDONYM.match(n["label"]) or n.get("named") or kind == "cohashtag" for n in doc["top_nodes"])
    for text in ((tmp_path / "s.graphml").read_text(), orjson.dumps(doc).decode()):
        assert not any(f"@{handle}<".lower() in text.lower() or f'"@{handle}"'.lower() in text.lower() for handle in private)


# --- the same SQL on Spark --------------------------------------------------------------------------

def synthetic_edges() -> pa.Table:
    """Synthetic aggregated edges in two namespaces, with self-loops and repeated weights."""
    import random

    rng = random.Random(9)
    seen = {(ns, f"v{rng.randrange(40)}", f"v{min(rng.randrange(40), rng.randrange(40))}")
            for ns in ("twitter", "bluesky") for _ in range(90)}
    rows = [{"ns": ns, "src": a, "dst": b, "weight": rng.randint(1, 3), "authors": 1,
             "first_at": T0 + timedelta(minutes=n), "last_at": T0 + timedelta(minutes=n + rng.randrange(60))}
            for n, (ns, a, b) in enumerate(sorted(seen))]
    return pa.Table.from_pylist(rows)


@pytest.mark.slow
def test_network_sql_is_the_same_on_spark(spark: Any):
    """The pruning, node and co-hashtag statements on small synthetic tables, on both engines.
    tests/test_parity.py runs a whole network (the default mention network) on real and
    synthetic stores; this covers the steps it does not take, without a lake to ingest."""
    import duckdb

    from groundswell.engines.spark import SparkEngine

    scope_rows = synthetic_posts().select(["platform", "post_id", "created_at", "author_id", "hashtag_keys"])
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    lake = SparkEngine(None, session=spark)
    for name, table in (("gs_net_test_edges", synthetic_edges()), (network.SCOPE, scope_rows)):
        con.register(f"{name}_arrow", table)
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM {name}_arrow")
        lake.register(name, table)
    pairs = ("(SELECT DISTINCT ns, least(src, dst) AS a, greatest(src, dst) AS b FROM gs_net_test_edges "
             "WHERE src <> dst) AS p")
    statements = [network._peel_round_sql(pairs, 3), network._top_nodes_sql("gs_net_test_edges", 12),
                  network._node_base_sql("gs_net_test_edges")]
    duck = lambda sql: con.execute(sql).fetchall()  # noqa: E731
    for sql in statements:
        on_duckdb = sorted(duck(sql))
        assert sorted(lake.query(sql)) == on_duckdb and on_duckdb, sql[:60]
    events = "SELECT platform, post_id, created_at, actor, ns, src, dst FROM gs_net_events ORDER BY post_id, src, dst"
    found = []
    for query in (duck, lake.query):
        network._cohashtag_events(query, network.SCOPE, Privacy("off"), network.Pruning(max_tag_share=0.2), ())
        found.append(query(events))
    assert found[0] == found[1] and found[0]
