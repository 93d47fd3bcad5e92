"""`groundswell serve`: its JSON API over a real server on 127.0.0.1, on the SYNTHETIC store of
test_report.py. The figures must be the report's own (`stats --report --json`), filtered
views must agree with counts made here from the unfiltered figures, bad parameters are 400s,
privacy is the server's, and the page follows a writer adding posts.
"""

from __future__ import annotations

import time
import urllib.parse
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pytest
from click.testing import CliRunner

from groundswell.cli import main
from groundswell.model import ARROW_SCHEMA
from groundswell.movement.definition import resolve
from groundswell.privacy import Privacy
from groundswell.store import Store
from serve_harness import get, get_json, running
from test_report import MOVEMENT_TOML, START, _post, build_store

MAIN_VIEW = ("headline", "volume", "hashtag_vs_phrase", "families", "platforms", "languages", "co_hashtags", "coverage")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("serve")
    build_store(folder / "s.duckdb")
    (folder / "m.toml").write_text(MOVEMENT_TOML)
    result = CliRunner().invoke(main, ["stats", "--db", str(folder / "s.duckdb"), "--movement", str(folder / "m.toml"),
                                       "--report", "--json"])
    assert result.exit_code == 0, result.output
    return {"db": str(folder / "s.duckdb"), "movement": resolve(str(folder / "m.toml")),
            "report": orjson.loads(result.stdout)["report"], "folder": folder}


@pytest.fixture(scope="module")
def server(store: dict[str, Any]):
    with running(store["db"], store["movement"]) as base:
        yield base


def api(base: str, path: str, **params: str) -> tuple[int, Any]:
    return get_json(f"{base}{path}?{urllib.parse.urlencode(params)}")


def test_the_main_view_is_the_reports_own_figures(server, store):
    status, figures = api(server, "/api/stats")
    assert status == 200
    for key in MAIN_VIEW:
        assert figures[key] == store["report"][key], key
    assert set(figures["charts"]) >= {"volume", "cumulative", "match", "platforms", "languages"}
    assert all(svg.startswith("<svg") for svg in figures["charts"].values())


def test_a_kind_filter_counts_that_kind(server, store):
    _, figures = api(server, "/api/stats", kind="repost")
    expected = store["report"]["headline"]["by_kind"]["repost"]
    assert figures["headline"]["posts"] == expected > 0
    assert figures["filters"] == {"kind": "repost"}


def test_a_time_window_counts_its_buckets(server, store):
    series = store["report"]["volume"]["series"]
    first, last = series[2]["t"], series[8]["t"]
    _, figures = api(server, "/api/stats", **{"from": first + "Z", "to": last + "Z"})
    assert figures["headline"]["posts"] == sum(r["posts"] for r in series[2:8])


def test_a_family_filter_counts_that_family(server, store):
    family = next(f for f in store["report"]["families"]["families"] if f["posts"] and not f["suppressed"])
    _, figures = api(server, "/api/stats", family=family["label"])
    assert figures["headline"]["posts"] == family["posts"]


@pytest.mark.parametrize("params, words", [
    ({"platform": "myspace"}, "`platform` must be one of"),
    ({"kind": "retweeted!"}, "`kind` must be one of"),
    ({"from": "last tuesday"}, "`from` must be an ISO 8601 time"),
    ({"from": "2020-03-02T00:00Z", "to": "2020-03-01T00:00Z"}, "`from` must be before `to`"),
    ({"family": "'; DROP TABLE posts; --"}, "`family` must be one of the movement's families"),
    ({"variant": "nosuchtag"}, "`variant` must be a hashtag key of the movement"),
    ({"language": "<script>"}, "`language` must be a language code"),
    ({"colour": "red"}, "unknown parameter 'colour'"),
])
def test_bad_parameters_are_one_line_400s(server, params, words):
    status, body = api(server, "/api/stats", **params)
    assert status == 400 and words in body["error"] and "\n" not in body["error"]
    assert "Traceback" not in body["error"]


@pytest.mark.parametrize("params", [{"page": "-1"}, {"size": "100000"}, {"page": "x"}])
def test_bad_paging_is_a_400(server, params):
    status, body = api(server, "/api/posts", **params)
    assert status == 400 and "must be a whole number" in body["error"]


def test_every_response_carries_the_content_security_policy(server):
    for path in ("/", "/static/dashboard.js", "/static/dashboard.css", "/api/stats", "/api/stats?kind=x",
                 "/static/../../etc/passwd", "/api/live"):
        status, headers, _ = get(server + path)
        assert "script-src 'self'" in headers["content-security-policy"] and "unsafe" not in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff", path


def test_the_page_has_no_inline_script_and_loads_nothing_from_elsewhere(server):
    _, _, body = get(server + "/")
    html = body.decode()
    assert "<script>" not in html and "onclick" not in html and "http://" not in html and "https://" not in html


def test_the_explore_table_pages_on_the_server(server, store):
    total = store["report"]["headline"]["posts"]
    _, first = api(server, "/api/posts", page="0", size="7")
    _, second = api(server, "/api/posts", page="1", size="7")
    assert first["total"] == total and len(first["rows"]) == 7 and len(second["rows"]) == 7
    assert not {r["post_id"] for r in first["rows"]} & {r["post_id"] for r in second["rows"]}


def test_the_explore_pages_are_the_exported_posts_table_in_order(server, store):
    """Each page is cut from the scope before the export's query runs on it: the pages laid end
    to end must still be `export --what posts`, row for row, including which hashtags a page
    may show (decided over the whole scope, not the page)."""
    out = store["folder"] / "posts.json"
    result = CliRunner().invoke(main, ["export", "--db", store["db"], "--movement", str(store["folder"] / "m.toml"),
                                       "--what", "posts", "--format", "json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    exported = orjson.loads(out.read_bytes())
    paged: list[dict[str, Any]] = []
    while len(paged) < len(exported):
        _, page = api(server, "/api/posts", page=str(len(paged) // 9), size="9")
        assert page["rows"], "a page came back empty before the table ended"
        paged += page["rows"]
    compared = ("post_id", "author", "handle", "text", "hashtag_keys", "kind", "reposted_post_id")
    assert len(exported) > 20 and any(row["hashtag_keys"] for row in exported)
    assert [[row[c] for c in compared] for row in paged] == [[row[c] for c in compared] for row in exported]


def test_a_hashtag_curve_counts_the_posts_that_carry_it(server, store):
    variant = next(v for v in store["report"]["families"]["variants"] if not v["suppressed"] and v["posts"] >= 5)
    status, curve = api(server, "/api/hashtag", key="#" + variant["key"])
    assert status == 200 and curve["posts"] + curve["posts_without_time"] == variant["posts"] and not curve["suppressed"]
    assert len(curve["series"]) == len(store["report"]["volume"]["series"])
    status, body = api(server, "/api/hashtag", key="")
    assert status == 400


@pytest.mark.parametrize("mode", ["standard", "strict", "off"])
def test_privacy_is_applied_by_the_server(store, mode):
    with running(store["db"], store["movement"], Privacy(mode)) as base:
        _, page = api(base, "/api/posts", size="200")
        _, figures = api(base, "/api/stats")
    rows = page["rows"]
    named = [r for r in rows if r["handle"] is not None]
    texts = [r for r in rows if r["text"] is not None]
    if mode == "strict":
        assert named == [] and texts == []
    elif mode == "standard":
        assert named and all(r["notable"] for r in named) and all(r["notable"] for r in texts)
    else:
        assert len(texts) == len([r for r in rows if r["kind"] != "repost" or r["text"]]) and len(named) == len(rows)
    assert figures["settings"]["privacy"]["mode"] == mode


def test_the_page_follows_a_writer(store, tmp_path):
    db = tmp_path / "live.duckdb"
    build_store(db)
    with running(str(db), store["movement"]) as base:
        _, before = api(base, "/api/stats")
        _, live_before = api(base, "/api/live")
        later = START + timedelta(hours=30)
        added = [_post(70_000 + i, later + timedelta(minutes=i), f"synthetic_live_{i % 9}", "[synthetic] #SynthToo",
                       ["SynthToo"]) for i in range(40)]
        with Store(str(db)) as writer:  # the dashboard holds no lock: a writer can write meanwhile
            writer.write_batch(pa.Table.from_pylist(added, schema=ARROW_SCHEMA))
        live_after = _next_version(base, live_before["version"])  # as the page does: it polls /api/live
        _, after = api(base, "/api/stats")
    assert after["headline"]["posts"] == before["headline"]["posts"] + 40
    assert live_after["version"] != live_before["version"] and live_after["refresh_error"] is None


def _next_version(base: str, version: str, seconds: float = 30.0) -> dict:
    """/api/live once it reports a snapshot other than `version` (the follower takes it within seconds)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        _, live = api(base, "/api/live")
        if live["version"] != version:
            return live
        time.sleep(0.1)
    raise AssertionError(f"the dashboard still serves snapshot {version} after {seconds} s")


def test_serve_refuses_a_missing_store_in_one_line(tmp_path: Path):
    result = CliRunner().invoke(main, ["serve", "--db", str(tmp_path / "none.duckdb")])
    assert result.exit_code == 1 and result.output.strip().endswith("no such store (run `groundswell ingest` first, or pass --db)")
