"""`groundswell cascade`: the tree under a post, against the simulator's ground truth and a
small hand-built tree with bad data (a cycle, a self-reference, a referenced-only node, an
untimed node). Everything here is synthetic."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pytest
from click.testing import CliRunner

from groundswell.cli import main
from groundswell.engines.duckdb import DuckDBEngine
from groundswell.ingest import IngestOptions, ingest
from groundswell.metrics.cascade import cascade, post_key
from groundswell.model import ARROW_SCHEMA, new_post
from groundswell.movement.definition import load_builtin
from groundswell.privacy import Privacy
from groundswell.simulate import write_simulation
from groundswell.simulate.model import Params
from groundswell.store import Store

SALT = "0123456789abcdef0123456789abcdef"
T0 = datetime(2017, 10, 16, 9, 0, 0)


# --- the simulator's truth -------------------------------------------------------------------

SIMULATIONS = {
    # v1.1 with the default gap, far from the call: every node of the tree is collected.
    "v1": ("v1", 2, None),
    # v2 with the gap one hour after the call's hour: the gap cuts the tree, and posts made in
    # it survive only as referenced-only posts that a later record carries in full.
    "v2-gap": ("v2", 1, Params(gap_after_hours=1)),
}


@pytest.fixture(scope="module", params=list(SIMULATIONS))
def simulated(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    fmt, seed, params = SIMULATIONS[request.param]
    folder = tmp_path_factory.mktemp(f"sim-{request.param}")
    truth = write_simulation(folder / "raw", fmt, posts=2500, seed=seed, params=params)  # synthetic
    db = str(folder / "store.duckdb")
    with Store(db) as store:
        ingest([str(folder / "raw")], store, IngestOptions())
    return {"name": request.param, "truth": truth, "db": db, "folder": folder}


def test_cascade_of_the_call_equals_the_simulators_truth(simulated):
    truth = simulated["truth"]["call_to_action"]
    with DuckDBEngine(simulated["db"]) as engine:
        got = cascade(engine.query, f"twitter:{truth['post_id']}", load_builtin("metoo"), Privacy(), SALT)
    expected = truth["cascade"]
    for key in ("size", "responses", "by_kind", "depth", "max_breadth", "breadth_by_depth", "seconds_to_responses"):
        assert got[key] == expected[key], key
    assert got["structural_virality"] == pytest.approx(expected["structural_virality"], rel=1e-12)
    assert {k: got["replies"][k] for k in ("hashtag", "phrase_only", "neither")} == expected["collected_replies"]
    assert got["root"]["in_store"] and got["root"]["author"] == "@" + truth["author_handle"]
    if simulated["name"] == "v2-gap":  # the gap really cut this tree, and referenced-only posts are in it
        assert truth["process_cascade"]["size"] > expected["size"]
        assert got["referenced_only"] > 0
    else:
        assert got["referenced_only"] == 0


def test_cascade_command_follows_the_movements_call(simulated):
    """--movement with no id takes the definition's call_to_action; the JSON carries the privacy."""
    call = simulated["truth"]["call_to_action"]["post_id"]
    text = (resources.files("groundswell.movement") / "builtin" / "metoo.toml").read_text(encoding="utf-8")
    lines = [f'call_to_action = ["twitter:{call}"]' if line.startswith("call_to_action") else line
             for line in text.splitlines()]
    definition = simulated["folder"] / "metoo-sim.toml"
    definition.write_text("\n".join(lines) + "\n")
    result = CliRunner().invoke(main, ["cascade", "--movement", str(definition), "--db", simulated["db"], "--json"])
    assert result.exit_code == 0, result.output
    document = orjson.loads(result.stdout)
    assert document["privacy"]["mode"] == "standard"
    (tree,) = document["cascades"]
    assert tree["post"] == f"twitter:{call}"
    assert (tree["size"], tree["depth"]) == (simulated["truth"]["call_to_action"]["cascade"]["size"],
                                             simulated["truth"]["call_to_action"]["cascade"]["depth"])


# --- a hand-built tree -------------------------------------------------------------------------

# Synthetic posts: (id, kind, parent, seconds after T0 or None, collected, platform, text, hashtag keys).
# R is the root; it also replies to G, which closes a cycle R <- A <- F <- G <- R.
TREE = [
    ("R", "reply", "G", 0, True, "twitter", "[synthetic] root", []),
    ("A", "reply", "R", 10, True, "twitter", "[synthetic] yes #MeToo", ["metoo"]),
    ("B", "repost", "R", 20, True, "twitter", "[synthetic] root", []),
    ("C", "quote", "R", 30, True, "twitter", "[synthetic] quoting", []),
    ("D", "reply", "A", 40, True, "twitter", "[synthetic] me too", []),
    ("E", "reply", "D", 50, True, "twitter", "[synthetic] hello", []),  # also quotes C below: still a reply to D
    ("F", "reply", "A", 60, False, "twitter", "[synthetic] referenced", []),
    ("G", "reply", "F", 70, True, "twitter", "[synthetic] #metoo and me too", ["metoo"]),
    ("K", "reply", "B", None, True, "twitter", "[synthetic] untimed", []),
    ("H", "reply", "H", 80, True, "twitter", "[synthetic] self", []),  # a self-reference
    ("I", "reply", "missing", 90, True, "twitter", "[synthetic] orphan", []),
    ("R", "reply", "R", 95, True, "bluesky", "[synthetic] other platform", []),  # same id, other platform
    ("J", "reply", "R", 96, True, "bluesky", "[synthetic] other platform", []),
    ("L", "reply", "919659438700670976", 100, True, "twitter", "[synthetic] to a post not stored", []),
    ("M", "repost", "919659438700670976", 110, True, "twitter", "[synthetic] to a post not stored", []),
]
PARENT_COLUMN = {"reply": "reply_to_post_id", "repost": "reposted_post_id", "quote": "quoted_post_id"}


def _rows() -> list[dict[str, Any]]:
    rows = []
    for post_id, kind, parent, seconds, collected, platform, text, keys in TREE:
        row = new_post(platform=platform, post_id=post_id, kind=kind, text=text, hashtags=keys, hashtag_keys=keys,
                       collected=collected, author_id=f"u{post_id}", author_handle=f"synthetic_{post_id.lower()}",
                       author_verified=post_id == "R", author_followers=100,
                       created_at=T0 + timedelta(seconds=seconds) if seconds is not None else None)
        row[PARENT_COLUMN[kind]] = parent
        rows.append(row)
    rows[5]["quoted_post_id"] = "C"
    return rows


@pytest.fixture(scope="module")
def tree_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    db = str(tmp_path_factory.mktemp("tree") / "tree.duckdb")
    with Store(db) as store:
        store.con.register("rows", pa.Table.from_pylist(_rows(), schema=ARROW_SCHEMA))
        store.con.execute("INSERT INTO posts BY NAME SELECT * FROM rows")
    return db


def _run(db: str, call: str, privacy: Privacy = Privacy(), **options: Any) -> dict[str, Any]:
    with DuckDBEngine(db) as engine:
        return cascade(engine.query, call, load_builtin("metoo"), privacy, SALT, **options)


# The tree under R, by hand: R - A, B, C; A - D, F; D - E; F - G; B - K.
EDGES = [("R", "A"), ("R", "B"), ("R", "C"), ("A", "D"), ("A", "F"), ("D", "E"), ("F", "G"), ("B", "K")]


def _mean_distance(edges: list[tuple[str, str]]) -> float:
    """Floyd-Warshall over the undirected tree: the mean distance between two nodes, by brute force."""
    nodes = sorted({n for edge in edges for n in edge})
    far = len(nodes) + 1
    dist = {(a, b): 0 if a == b else far for a in nodes for b in nodes}
    for a, b in edges:
        dist[a, b] = dist[b, a] = 1
    for k, i, j in itertools.product(nodes, repeat=3):
        dist[i, j] = min(dist[i, j], dist[i, k] + dist[k, j])
    pairs = list(itertools.combinations(nodes, 2))
    return sum(dist[pair] for pair in pairs) / len(pairs)


def test_hand_built_tree_survives_a_cycle_and_bad_references(tree_db):
    got = _run(tree_db, "twitter:R")
    assert (got["size"], got["responses"], got["depth"]) == (9, 8, 3)
    assert got["by_kind"] == {"repost": 1, "reply": 6, "quote": 1}
    assert got["breadth_by_depth"] == [3, 3, 2] and got["max_breadth"] == 3
    assert got["referenced_only"] == 1
    assert got["wiener_index"] == 94  # Σ s(n − s) over the eight edges, counted by hand
    assert got["structural_virality"] == pytest.approx(_mean_distance(EDGES), rel=1e-12)
    assert got["truncated"] is False


def test_times_skip_the_untimed_response(tree_db):
    got = _run(tree_db, "twitter:R")
    assert got["untimed_responses"] == 1
    assert got["seconds_to_responses"] == {"10": None, "100": None, "1000": None}  # 7 timed responses
    assert got["response_curve"] == [{"seconds": 60, "responses": 6, "share": 6 / 7},
                                     {"seconds": 300, "responses": 7, "share": 1.0}]


def test_replies_by_how_they_used_the_movement(tree_db):
    """Collected replies A, D, E, G, K (F is referenced-only; R is the root)."""
    replies = _run(tree_db, "twitter:R")["replies"]
    assert {k: replies[k] for k in ("collected", "hashtag", "phrase_only", "neither")} == {
        "collected": 5, "hashtag": 2, "phrase_only": 1, "neither": 2}
    assert replies["shares"]["hashtag"] == pytest.approx(0.4)


def test_the_root_is_named_only_where_the_mode_allows(tree_db):
    assert _run(tree_db, "twitter:R")["root"]["author"] == "@synthetic_r"
    strict = _run(tree_db, "twitter:R", Privacy("strict"))["root"]
    assert strict["author"].startswith("p") and len(strict["author"]) == 13 and not strict["named"]


def test_depth_limit_stops_and_says_so(tree_db):
    got = _run(tree_db, "twitter:R", max_depth=1)
    assert (got["depth"], got["size"], got["truncated"]) == (1, 4, True)


def test_a_root_missing_from_the_store_is_dated_by_its_id(tree_db):
    got = _run(tree_db, "twitter:919659438700670976")
    assert got["root"]["in_store"] is False and got["root"]["time_source"] == "id"
    assert got["root"]["created_at"] == "2017-10-15T20:21:11.289000Z"  # the snowflake's time
    assert (got["size"], got["by_kind"]["repost"], got["by_kind"]["reply"]) == (3, 1, 1)


def test_platforms_do_not_mix(tree_db):
    got = _run(tree_db, "bluesky:R")
    assert (got["size"], got["by_kind"]["reply"]) == (2, 1)


def test_post_keys():
    assert post_key("twitter:12") == ("twitter", "12")
    assert post_key("12", "bluesky") == ("bluesky", "12")
    assert post_key("at://did:plc:x/app.bsky.feed.post/3k", "bluesky") == ("bluesky", "at://did:plc:x/app.bsky.feed.post/3k")


def test_cascade_command_errors_and_text_output(tree_db):
    runner = CliRunner()
    result = runner.invoke(main, ["cascade", "--db", tree_db])
    assert result.exit_code == 1
    assert result.output.strip() == "Error: give a POST_ID, or --movement NAME to follow its call-to-action posts"
    result = runner.invoke(main, ["cascade", "R", "--db", tree_db, "--privacy", "off"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("WARNING: privacy is OFF")
    assert "size 9" in result.output and "depth 3" in result.output
    result = runner.invoke(main, ["cascade", "R", "--db", str(Path(tree_db).with_name("none.duckdb"))])
    assert result.exit_code == 1 and "no such store" in result.output


def test_json_has_every_figure_for_every_id(tree_db):
    result = CliRunner().invoke(main, ["cascade", "R", "bluesky:R", "--db", tree_db, "--json"])
    assert result.exit_code == 0, result.output
    trees = orjson.loads(result.stdout)["cascades"]
    assert [t["post"] for t in trees] == ["twitter:R", "bluesky:R"]
    assert trees[1]["replies"] is None  # no --movement: no movement to match replies against
