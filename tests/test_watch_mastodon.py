"""`groundswell watch mastodon` against a real Mastodon API server on 127.0.0.1, with faults.

Statuses: the 20 REAL statuses of ../shared/data/mastodon-public-timeline-tootkit (their own
tags), and SYNTHETIC ones tagged #synthtoo. The movement is a synthetic definition of those
tags. The expected store (uris) is computed here from what the server served.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest

from watch_servers import MASTODON, Mastodon, real_statuses, synthetic_status

pytestmark = pytest.mark.skipif(not MASTODON.exists(), reason=f"real data file {MASTODON} is absent")
TAGS = ("synthtoo", "inkscape", "flutter", "antofagasta")
MOVEMENT = ('name = "synthetic-watch"\ndescription = "SYNTHETIC test movement"\n\n[[families]]\nlabel = "core"\n'
            'language = "en"\nhashtags = ["synthtoo", "inkscape", "flutter", "antofagasta"]\n')


def tagged(statuses: list[dict[str, Any]]) -> set[str]:
    return {s["uri"] for s in statuses if {t["name"].lower() for t in s["tags"]} & set(TAGS)}


@pytest.fixture
def movement(tmp_path: Path) -> Path:
    path = tmp_path / "movement.toml"
    path.write_text(MOVEMENT)
    return path


@pytest.fixture
def servers():
    started: list[Mastodon] = []

    def start(server: Mastodon, port: int = 0) -> str:
        started.append(server)
        return server.start(port)

    yield start
    for server in started:
        server.stop()


def watch(urls: list[str], db: Path, movement: Path, duration: str = "4s", env: dict[str, str] | None = None,
          *extra: str) -> dict[str, Any]:
    args = [sys.executable, "-m", "groundswell", "watch", "mastodon", "--db", str(db), "--movement", str(movement),
            "--duration", duration, "--json", *extra]
    for url in urls:
        args += ["--instance", url]
    import os

    result = subprocess.run(args, capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})})
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


def stored(db: Path) -> list[str]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return [u for (u,) in con.execute("SELECT post_id FROM posts WHERE collected AND platform = 'mastodon'").fetchall()]
    finally:
        con.close()


def query(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_backfill_pages_and_the_stream_give_every_status_once(servers, movement, tmp_path):
    timeline = real_statuses() + [synthetic_status(n) for n in range(130)]
    live = [synthetic_status(n) for n in range(130, 140)]
    server = Mastodon(timeline, stream_events=[("update", json.dumps(s)) for s in live] * 2)  # each sent twice
    url = servers(server)
    watch([url], tmp_path / "m.duckdb", movement)
    posts = stored(tmp_path / "m.duckdb")
    assert sorted(posts) == sorted(tagged(timeline) | {s["uri"] for s in live}) and len(posts) == len(set(posts))
    pages = [r for r in server.requests if r.startswith("/api/v1/timelines/tag/synthtoo")]
    assert len(pages) == 4 and "max_id=" in pages[1]  # 130 statuses in pages of 40, by the Link header
    assert {r.split("?")[1] for r in server.requests if r.startswith("/api/v1/streaming")} == {f"tag={t}" for t in TAGS}


def test_after_a_drop_mid_frame_the_timeline_is_read_again_from_the_last_id(servers, movement, tmp_path):
    timeline = [synthetic_status(n) for n in range(20)]
    live = [synthetic_status(n) for n in range(20, 30)]
    server = Mastodon(timeline, stream_events=[("update", json.dumps(s)) for s in live], drop_mid_frame=4)
    url = servers(server)
    summary = watch([url], tmp_path / "d.duckdb", movement, "5s")
    assert summary["reconnects"] >= 1
    last = max(int(s["id"]) for s in timeline)
    assert any(r.startswith("/api/v1/timelines/tag/synthtoo") and f"since_id={last}" in r for r in server.requests)
    assert sorted(stored(tmp_path / "d.duckdb")) == sorted(tagged(timeline) | {s["uri"] for s in live})


def test_rate_limits_and_errors_are_waited_out(servers, movement, tmp_path):
    timeline = [synthetic_status(n) for n in range(50)]
    server = Mastodon(timeline, too_many=2, errors=2)
    url = servers(server)
    summary = watch([url], tmp_path / "r.duckdb", movement, "8s")
    assert sorted(stored(tmp_path / "r.duckdb")) == sorted(tagged(timeline))
    (waits, seconds), = query(tmp_path / "r.duckdb", "SELECT rate_limit_waits, rate_limit_wait_seconds FROM live_sources")
    assert waits == 2 and seconds == pytest.approx(2.0)  # Retry-After: 1, twice


def test_a_malformed_frame_is_quarantined_and_the_rest_goes_on(servers, movement, tmp_path):
    live = [synthetic_status(n) for n in range(5)]
    events = [("update", json.dumps(live[0])), ("update", '{"id": "1", "uri": '), *[("update", json.dumps(s)) for s in live[1:]]]
    server = Mastodon([], stream_events=events)
    url = servers(server)
    watch([url], tmp_path / "q.duckdb", movement)
    assert sorted(stored(tmp_path / "q.duckdb")) == sorted(s["uri"] for s in live)
    assert [r[0].startswith("broken JSON") for r in query(tmp_path / "q.duckdb", "SELECT reason FROM quarantine")] == [True] * len(TAGS)


def test_a_streaming_delete_with_a_local_id_removes_its_post(servers, movement, tmp_path):
    live = [synthetic_status(n) for n in range(6)]
    events = [("update", json.dumps(s)) for s in live] + [("delete", live[2]["id"])]
    server = Mastodon([], stream_events=events)
    url = servers(server)
    watch([url], tmp_path / "x.duckdb", movement)
    assert sorted(stored(tmp_path / "x.duckdb")) == sorted(s["uri"] for s in live if s is not live[2])
    assert query(tmp_path / "x.duckdb", "SELECT target_id FROM tombstones") == [(live[2]["uri"],)]


def test_the_same_status_on_two_instances_is_one_post(servers, movement, tmp_path):
    shared = [synthetic_status(n) for n in range(15)]
    first, second = servers(Mastodon(shared)), servers(Mastodon(shared[5:] + [synthetic_status(99)]))
    watch([first, second], tmp_path / "two.duckdb", movement)
    posts = stored(tmp_path / "two.duckdb")
    assert sorted(posts) == sorted({s["uri"] for s in shared} | {synthetic_status(99)["uri"]}) and len(posts) == 16


def test_a_restarted_server_and_a_restarted_watch_lose_nothing(servers, movement, tmp_path):
    timeline = [synthetic_status(n) for n in range(30)]
    server = Mastodon(timeline)
    url = servers(server)
    db = tmp_path / "again.duckdb"
    watch([url], db, movement, "3s")
    server.stop()
    later = timeline + [synthetic_status(n) for n in range(30, 45)]
    restarted = Mastodon(later)
    servers(restarted, port=int(url.rsplit(":", 1)[1]))
    watch([url], db, movement, "3s")
    assert sorted(stored(db)) == sorted(s["uri"] for s in later)
    since = max(int(s["id"]) for s in timeline)
    assert any(f"since_id={since}" in r for r in restarted.requests)  # resumed from the committed cursor


def test_a_token_is_sent_and_never_written(servers, movement, tmp_path):
    secret = "synthetic-token-6c1f0e9a"
    server = Mastodon([synthetic_status(n) for n in range(3)])
    url = servers(server)
    db = tmp_path / "t.duckdb"
    summary = watch([url], db, movement, "3s", {"GS_TEST_TOKEN": secret}, "--token-env", "GS_TEST_TOKEN")
    assert {h.get("authorization") for h in server.headers_seen} == {f"Bearer {secret}"}
    assert secret not in json.dumps(summary)
    assert secret.encode() not in db.read_bytes() + (db.with_suffix(".duckdb.wal").read_bytes()
                                                      if db.with_suffix(".duckdb.wal").exists() else b"")
