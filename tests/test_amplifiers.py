"""`groundswell amplifiers` and the report's spread sections: on the real v1.1 stream sample
(counts verified here from the raw JSON, independently of the code under test), and on a
synthetic movement against the simulator's ground truth. No handle or text of the real
data is written here: tests compare labels computed from the file at run time."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pytest
from click.testing import CliRunner
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from groundswell.analysis.cascades import spread_figures
from groundswell.cli import main
from groundswell.engines.duckdb import DuckDBEngine
from groundswell.ingest import IngestOptions, ingest
from groundswell.model import ARROW_SCHEMA, new_post
from groundswell.movement.definition import load_builtin
from groundswell.privacy import Privacy
from groundswell.simulate import write_simulation
from groundswell.store import Store
from test_report import Page

PSEUDONYM = re.compile(r"^p[0-9a-f]{12}$")


# --- the real stream sample: 206 tweets, 120 of them retweets -----------------------------------

_STREAM: dict[str, Any] = {}


@pytest.fixture
def stream(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The sample ingested once per session into a temporary store (skips without the real data)."""
    if not _STREAM:
        path = shared_data / "metoo-stream-2017-lama" / "metoo.json"
        tweets = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        db = str(tmp_path_factory.mktemp("stream") / "stream.duckdb")
        with Store(db) as store:
            ingest([str(path)], store, IngestOptions())
        _STREAM.update(tweets=tweets, db=db)
    return _STREAM


def _amplifiers(db: str, *options: str) -> dict[str, Any]:
    result = CliRunner().invoke(main, ["amplifiers", "--db", db, "--json", "--top", "1000", *options])
    assert result.exit_code == 0, result.output
    return orjson.loads(result.stdout)


def _independent(tweets: list[dict[str, Any]]) -> dict[str, Any]:
    """Counted from the raw v1.1 JSON: retweets and quotes per original and per original author,
    each account's latest follower count, and who is notable."""
    retweets = [t for t in tweets if "retweeted_status" in t]
    quotes = [t for t in tweets if "retweeted_status" not in t and t.get("quoted_status_id_str")
              and not t.get("in_reply_to_status_id_str")]
    latest: dict[str, tuple[int, int]] = {}
    for t in tweets:
        user = t["user"]
        if int(t["id_str"]) > latest.get(user["id_str"], (0, 0))[0]:
            latest[user["id_str"]] = (int(t["id_str"]), user["followers_count"])
    amplifiers_of: dict[str, set[str]] = defaultdict(set)
    for t in retweets:
        amplifiers_of[t["retweeted_status"]["user"]["screen_name"]].add(t["user"]["id_str"])
    for t in quotes:
        amplifiers_of[t["quoted_status"]["user"]["screen_name"]].add(t["user"]["id_str"])
    users = [t["user"] for t in tweets] + [t[k]["user"] for t in tweets for k in ("retweeted_status", "quoted_status") if k in t]
    return {
        "retweets": len(retweets),
        "reposts_per_original": Counter(t["retweeted_status"]["id_str"] for t in retweets),
        "quotes_per_original": Counter(t["quoted_status_id_str"] for t in quotes),
        "reposts_per_author": Counter("@" + t["retweeted_status"]["user"]["screen_name"] for t in retweets),
        "amplifier_followers": {"@" + name: sum(latest[u][1] for u in ids) for name, ids in amplifiers_of.items()},
        "potential_reach": sum(followers for _, followers in latest.values()),
        "potential_impressions": sum(t["user"]["followers_count"] for t in tweets),
        "accounts": len(latest),
        "notable": {u["screen_name"] for u in users if u.get("verified") or u["followers_count"] >= 10_000},
        "handles": {u["screen_name"] for u in users},
    }


def test_amplified_posts_are_the_retweets_and_their_originals(stream):
    truth = _independent(stream["tweets"])
    figures = _amplifiers(stream["db"], "--privacy", "off")["amplifiers"]
    posts = figures["most_amplified_posts"]
    assert truth["retweets"] == 120
    assert {p["post_id"]: p["reposts"] for p in posts if p["reposts"]} == dict(truth["reposts_per_original"])
    assert {p["post_id"]: p["quotes"] for p in posts if p["quotes"]} == dict(truth["quotes_per_original"])
    assert figures["amplifications"]["reposts"] == 120 and figures["amplifications"]["without_original"] == 0
    ranked = [p["reposts"] + p["quotes"] for p in posts]
    assert ranked == sorted(ranked, reverse=True)


def test_most_influential_accounts_and_their_amplifiers_followers(stream):
    truth = _independent(stream["tweets"])
    influential = _amplifiers(stream["db"], "--privacy", "off")["amplifiers"]["most_influential"]
    assert {row["label"]: row["reposts"] for row in influential if row["reposts"]} == dict(truth["reposts_per_author"])
    assert {row["label"]: row["amplifier_followers"] for row in influential} == truth["amplifier_followers"]


def test_potential_reach_and_impressions(stream):
    truth = _independent(stream["tweets"])
    reach = _amplifiers(stream["db"])["amplifiers"]["reach"]
    assert (reach["posts"], reach["accounts"]) == (206, truth["accounts"])
    assert reach["potential_reach"] == truth["potential_reach"]
    assert reach["potential_impressions"] == truth["potential_impressions"]


def test_most_active_counts_posts_per_account(stream):
    per_user = Counter(t["user"]["screen_name"] for t in stream["tweets"])
    active = _amplifiers(stream["db"], "--privacy", "off", "--top", "5")["amplifiers"]["most_active"]
    assert [row["posts"] for row in active] == sorted(per_user.values(), reverse=True)[:5]
    assert all(per_user[row["label"][1:]] == row["posts"] for row in active)


def test_only_notable_accounts_are_named(stream):
    truth = _independent(stream["tweets"])
    standard = _amplifiers(stream["db"])
    labels = _labels(standard["amplifiers"])
    named = {label[1:] for label in labels if label.startswith("@")}
    assert named and named <= truth["notable"]
    assert all(PSEUDONYM.match(label) for label in labels if not label.startswith("@"))
    assert all(p["post_id"] is None and p["url"] is None for p in standard["amplifiers"]["most_amplified_posts"] if not p["named"])
    private = truth["handles"] - truth["notable"]
    assert not any(f'"@{handle}"' in json.dumps(standard) for handle in private)
    strict = _amplifiers(stream["db"], "--privacy", "strict")
    assert all(PSEUDONYM.match(label) for label in _labels(strict["amplifiers"]))
    assert all(row["first_post_at"] is None for row in strict["amplifiers"]["earliest_notable_adopters"])
    assert strict["privacy"]["mode"] == "strict"


def _labels(figures: dict[str, Any]) -> list[str]:
    return ([row["label"] for key in ("most_active", "most_influential", "earliest_notable_adopters") for row in figures[key]]
            + [row["author"] for row in figures["most_amplified_posts"]])


def test_with_the_movement_only_its_posts_count(stream):
    truth = _independent(stream["tweets"])
    figures = _amplifiers(stream["db"], "--movement", "metoo", "--privacy", "off")["amplifiers"]
    assert 0 < figures["amplifications"]["reposts"] <= 120
    assert all(row["reposts"] <= truth["reposts_per_original"][row["post_id"]] for row in figures["most_amplified_posts"])
    assert figures["scope"]["movement"] == "metoo"


def test_unknown_movement_is_a_clean_error(stream):
    result = CliRunner().invoke(main, ["amplifiers", "--db", stream["db"], "--movement", "no-such-movement"])
    assert result.exit_code != 0 and "Traceback" not in result.output and "no-such-movement" in result.output


# --- the simulated movement ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("sim-amplifiers")
    truth = write_simulation(folder / "raw", "v1", posts=2500, seed=5)  # synthetic
    db = str(folder / "store.duckdb")
    with Store(db) as store:
        ingest([str(folder / "raw")], store, IngestOptions())
    return {"truth": truth, "db": db}


def test_earliest_notable_adopters_are_the_verified_accounts_first_posts(simulated):
    """With a threshold no follower count reaches, notable means verified: the simulator's notables."""
    adopters = _amplifiers(simulated["db"], "--movement", "metoo", "--notable-followers", "1000000000")
    got = [(row["label"], datetime.fromisoformat(row["first_post_at"].rstrip("Z"))) for row in
           adopters["amplifiers"]["earliest_notable_adopters"]]
    expected = sorted(((f"@{a['handle']}", datetime.fromisoformat(a["first_movement_post"].rstrip("Z")))
                       for a in simulated["truth"]["notable_accounts"] if a["first_movement_post"]), key=lambda x: x[1])
    assert got == expected and len(got) >= 6


def _render(spread: dict[str, Any], autoescape: bool = True) -> str:
    folder = Path(str(resources.files("groundswell.report") / "templates"))
    env = Environment(loader=FileSystemLoader(folder), autoescape=select_autoescape(default=autoescape,
                      default_for_string=autoescape), undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return env.get_template("_spread.html.j2").render(spread=spread)


def _spread(simulated: dict[str, Any], privacy: Privacy = Privacy()) -> dict[str, Any]:
    movement = load_builtin("metoo")
    call = f"twitter:{simulated['truth']['call_to_action']['post_id']}"
    with DuckDBEngine(simulated["db"]) as engine:
        return spread_figures(engine.query, movement, privacy, 5, calls=[call])


def test_report_sections_show_the_figures(simulated):
    spread = _spread(simulated)
    page = Page(_render(spread))
    assert [s["attrs"]["id"] for s in page.find("section")] == ["cascades", "amplifiers"]
    expected = simulated["truth"]["call_to_action"]["cascade"]
    assert page.figure("cascade.size") == expected["size"] and page.figure("cascade.depth") == expected["depth"]
    assert page.figure("amplifiers.potential_reach") == spread["amplifiers"]["reach"]["potential_reach"]
    rows = page.find("table", id="most-active-table")[0]["text"]
    assert all(row["label"] in rows for row in spread["amplifiers"]["most_active"])


def test_report_sections_escape_everything(simulated):
    spread = _spread(simulated)
    spread["amplifiers"]["most_active"][0]["label"] = "<script>alert(1)</script>"
    spread["cascades"][0]["post"] = '"><img src=x>'
    for autoescape in (True, False):
        html = _render(spread, autoescape)
        assert "<script" not in html and "<img" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_strict_report_names_nobody(simulated):
    html = _render(_spread(simulated, Privacy("strict")))
    assert "@synthetic_user" not in html and "Nobody is named" in html


# --- a hand-built store: follower counts that change, and are sometimes missing ---------------

def _post(post_id: str, author: str, minute: int, followers: int | None, kind: str = "original",
          parent: str | None = None, collected: bool = True, verified: bool = False) -> dict[str, Any]:
    row = new_post(platform="twitter", post_id=post_id, kind=kind, author_id=author, author_handle=f"synthetic_{author}",
                   author_followers=followers, author_verified=verified, collected=collected,
                   created_at=datetime(2017, 10, 16, 9) + timedelta(minutes=minute), text="[synthetic]")
    if kind == "repost":
        row["reposted_post_id"] = parent
    if kind == "quote":
        row["quoted_post_id"] = parent
    return row


@pytest.fixture(scope="module")
def small_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    rows = [  # synthetic
        _post("O", "v", 0, 5, verified=True),
        _post("Q", "n", 0, 1_000_000, collected=False),  # referenced-only: not in scope, but amplified
        _post("R1", "x", 1, 100, "repost", "Q"),
        _post("X1", "x", 2, 100, "repost", "O"),
        _post("X3", "x", 3, 200),
        _post("X2", "x", 4, 300),  # x's latest count
        _post("Y2", "y", 3, 50),  # y's latest known count
        _post("Y1", "y", 5, None, "quote", "O"),
        _post("Z1", "z", 2, None),
    ]
    db = str(tmp_path_factory.mktemp("small") / "small.duckdb")
    with Store(db) as store:
        store.con.register("rows", pa.Table.from_pylist(rows, schema=ARROW_SCHEMA))
        store.con.execute("INSERT INTO posts BY NAME SELECT * FROM rows")
    return db


def test_reach_uses_each_accounts_latest_known_count(small_db):
    reach = _amplifiers(small_db, "--privacy", "off")["amplifiers"]["reach"]
    assert reach == {"potential_reach": 300 + 50 + 5, "accounts": 4, "accounts_without_followers": 1,
                     "potential_impressions": 5 + 100 + 100 + 200 + 300 + 50, "posts": 8, "posts_without_followers": 2}


def test_influence_counts_amplifiers_once_at_their_latest_count(small_db):
    figures = _amplifiers(small_db, "--privacy", "off")["amplifiers"]
    assert [(r["label"], r["reposts"], r["quotes"], r["amplifiers"], r["amplifier_followers"])
            for r in figures["most_influential"]] == [("@synthetic_v", 1, 1, 2, 350), ("@synthetic_n", 1, 0, 1, 300)]
    assert [(r["label"], r["posts"]) for r in figures["most_active"]] == [
        ("@synthetic_x", 4), ("@synthetic_y", 2), ("@synthetic_v", 1), ("@synthetic_z", 1)]
    (adopter,) = figures["earliest_notable_adopters"]
    assert (adopter["label"], adopter["first_post_at"]) == ("@synthetic_v", "2017-10-16T09:00:00Z")
    standard = _amplifiers(small_db)["amplifiers"]
    assert [r["named"] for r in standard["most_influential"]] == [True, True]  # verified; a million followers
    assert not any(r["named"] for r in standard["most_active"] if r["label"] != "@synthetic_v")


def test_text_output_warns_when_privacy_is_off(small_db):
    result = CliRunner().invoke(main, ["amplifiers", "--db", small_db, "--privacy", "off"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("WARNING: privacy is OFF")
    assert "potential reach 355; potential impressions 755" in result.output
    standard = CliRunner().invoke(main, ["amplifiers", "--db", small_db])
    assert "WARNING" not in standard.output and "@synthetic_x" not in standard.output
