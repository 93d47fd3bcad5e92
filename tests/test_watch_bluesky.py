"""`groundswell watch bluesky` against a real Jetstream replay server on 127.0.0.1.

Events: the 9 REAL Jetstream events of the twitwi fixtures, then SYNTHETIC ones. What a
watch must store is computed here from the served events (posts created and not deleted),
independently of groundswell's adapter; stores are compared by post ids and counts.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest

from watch_servers import FIREHOSE, Jetstream, post_uris, recorded_events, synthetic_events

pytestmark = pytest.mark.skipif(not FIREHOSE.exists(), reason=f"real data file {FIREHOSE} is absent")
OVERLAP_US = 2_000_000


def events(n: int = 2000, **kwargs: Any) -> list[dict[str, Any]]:
    real = recorded_events()
    return real + synthetic_events(n, max(e["time_us"] for e in real) + 1000, **kwargs)


def command(url: str, db: Path, duration: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "groundswell", "watch", "bluesky", "--endpoint", url, "--db", str(db),
            "--duration", duration, "--json", *(extra or ("--all",))]


def watch(url: str, db: Path, duration: str = "3s", *extra: str) -> dict[str, Any]:
    result = subprocess.run(command(url, db, duration, *extra), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


def stored(db: Path) -> list[str]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return [uri for (uri,) in con.execute("SELECT post_id FROM posts WHERE collected").fetchall()]
    finally:
        con.close()


def one(db: Path, sql: str) -> Any:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture
def server():
    started: list[Jetstream] = []

    def start(served: list[dict[str, Any]], **switches: Any) -> tuple[Jetstream, str]:
        srv = Jetstream(served, **switches)
        started.append(srv)
        return srv, srv.start()

    yield start
    for srv in started:
        srv.stop()


def test_watch_stores_every_post_event_once(server, tmp_path):
    served = events()
    srv, url = server(served)
    summary = watch(url, tmp_path / "x.duckdb", "5s")
    posts = stored(tmp_path / "x.duckdb")
    assert sorted(posts) == sorted(post_uris(served)) and len(posts) == len(set(posts))
    assert srv.requests == ["/subscribe?wantedCollections=app.bsky.feed.post"]  # posts only were asked for
    assert summary["sources"][0]["cursor"] == str(served[-1]["time_us"] if served[-1]["commit"]["collection"]
                                                   == "app.bsky.feed.post" else max(e["time_us"] for e in served
                                                   if e["commit"]["collection"] == "app.bsky.feed.post"))
    deleted = {e["did"] + "/" + e["commit"]["rkey"] for e in served if e["commit"].get("operation") == "delete"}
    assert one(tmp_path / "x.duckdb", "SELECT count(*) FROM tombstones")[0][0] == len(deleted) > 0


def test_a_restart_resumes_from_the_cursor_without_duplicates(server, tmp_path):
    served = events(3000)
    half = len(served) // 2
    srv, url = server(served[:half])
    db = tmp_path / "r.duckdb"
    first = watch(url, db)
    cursor = int(first["sources"][0]["cursor"])
    srv.events = served  # the stream went on while the watch was stopped
    second = watch(url, db)
    assert srv.requests[-1] == f"/subscribe?wantedCollections=app.bsky.feed.post&cursor={cursor - OVERLAP_US}"
    posts = stored(db)
    assert sorted(posts) == sorted(post_uris(served)) and len(posts) == len(set(posts))
    assert second["sources"][0]["events"] < len(served)  # only the overlap came twice, not the whole stream


def test_dropped_connections_lose_nothing(server, tmp_path):
    served = events(3000)
    srv, url = server(served, drop_after=[400, 900, 50])
    summary = watch(url, tmp_path / "d.duckdb", "6s")
    assert summary["reconnects"] == 3
    assert sorted(stored(tmp_path / "d.duckdb")) == sorted(post_uris(served))
    (reconnects,), = one(tmp_path / "d.duckdb", "SELECT reconnects FROM live_sources")
    assert reconnects == 3
    report = subprocess.run([sys.executable, "-m", "groundswell", "report", "--db", str(tmp_path / "d.duckdb"),
                             "--movement", "metoo", "--out", str(tmp_path / "r.html"), "--json"],
                            capture_output=True, text=True, timeout=120)
    live = json.loads(report.stdout)["report"]["coverage"]["live"]
    assert [(s["source"], s["reconnects"], s["events"]) for s in live["sources"]] == \
        [(summary["sources"][0]["source"], 3, summary["sources"][0]["events"])]
    assert 'id="live-sources"' in (tmp_path / "r.html").read_text()


def test_a_broken_frame_is_quarantined_and_the_rest_is_stored(server, tmp_path):
    served = events(300)
    srv, url = server(served, broken_frame_at=150)
    summary = watch(url, tmp_path / "b.duckdb")
    assert summary["sources"][0]["rejected"] == 1
    assert sorted(stored(tmp_path / "b.duckdb")) == sorted(post_uris(served))
    (reason,), = one(tmp_path / "b.duckdb", "SELECT reason FROM quarantine")
    assert reason.startswith("broken JSON")


def test_a_replay_window_that_misses_the_cursor_is_a_recorded_gap(server, tmp_path):
    served = events(2000, step_us=100_000)  # 0.1 s between events: 200 s of stream
    srv, url = server(served[:500])
    db = tmp_path / "g.duckdb"
    watch(url, db)
    srv.events, srv.replay_window = served, 1000  # the server kept only the last 1,000 events
    watch(url, db)
    (seconds, reason), = one(db, "SELECT seconds, reason FROM live_gaps")
    posts_only = [e for e in served if e["commit"]["collection"] == "app.bsky.feed.post"]
    cursor = max(e["time_us"] for e in posts_only if e["time_us"] <= served[499]["time_us"])
    first_after = min(e["time_us"] for e in posts_only if e["time_us"] >= served[-1000]["time_us"])
    expected = (first_after - cursor) / 1e6  # from the committed cursor to the first event served
    assert seconds == pytest.approx(expected, abs=0.001) and "replay window" in reason
    assert len(stored(db)) < len(post_uris(served))  # the gap's posts are missing, and the store says so


def test_the_movement_keeps_its_posts_only(server, tmp_path):
    served = events(1000)
    srv, url = server(served)
    watch(url, tmp_path / "m.duckdb", "3s", "--movement", "metoo")
    tagged = {f"at://{e['did']}/app.bsky.feed.post/{e['commit']['rkey']}" for e in served
              if "#MeToo" in ((e["commit"].get("record") or {}).get("text") or "")}
    assert set(stored(tmp_path / "m.duckdb")) == tagged & post_uris(served) and tagged


def test_kill_9_at_ten_random_moments_gives_the_uninterrupted_store(server, tmp_path):
    served = events(4000)
    srv, url = server(served, rate=2000)  # two seconds of stream on each connection
    db = tmp_path / "k.duckdb"
    rng = random.Random(13)
    for _ in range(10):
        process = subprocess.Popen(command(url, db, "60s"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   start_new_session=True)
        time.sleep(rng.uniform(0.8, 2.5))
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    watch(url, db, "6s")
    posts = stored(db)
    assert sorted(posts) == sorted(post_uris(served)) and len(posts) == len(set(posts))


def test_stats_report_and_export_work_while_the_watch_writes(server, tmp_path):
    served = events(6000)
    srv, url = server(served, rate=800)
    db = tmp_path / "live.duckdb"
    process = subprocess.Popen(command(url, db, "9s"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not db.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.5)
        reader = [sys.executable, "-m", "groundswell"]
        stats = subprocess.run(reader + ["stats", "--db", str(db), "--json"], capture_output=True, text=True, timeout=60)
        report = subprocess.run(reader + ["report", "--db", str(db), "--movement", "metoo", "--out",
                                          str(tmp_path / "r.html")], capture_output=True, text=True, timeout=120)
        export = subprocess.run(reader + ["export", "--db", str(db), "--what", "volume", "--format", "csv", "--out",
                                          str(tmp_path / "v.csv")], capture_output=True, text=True, timeout=60)
        assert process.poll() is None, "the watch ended before the readers ran"
    finally:
        out, err = process.communicate(timeout=60)
    for result in (stats, report, export):
        assert result.returncode == 0, result.stderr[-1500:]
    assert 0 < json.loads(stats.stdout)["posts"] <= len(post_uris(served))
    assert json.loads(out)["sources"][0]["events"] > 0


def test_an_edit_replaces_the_post_it_edits(server, tmp_path):
    served = events(200)
    original = next(e for e in served if e["commit"].get("record", {}).get("text", "").startswith("synthetic post 4"))
    edit = json.loads(json.dumps(original))
    edit["time_us"] = served[-1]["time_us"] + 1000
    edit["commit"]["operation"] = "update"
    edit["commit"]["record"]["text"] = "synthetic post 4, edited #MeToo"
    srv, url = server(served + [edit])
    watch(url, tmp_path / "e.duckdb")
    uri = f"at://{original['did']}/app.bsky.feed.post/{original['commit']['rkey']}"
    assert one(tmp_path / "e.duckdb", f"SELECT text FROM posts WHERE post_id = '{uri}'") == [("synthetic post 4, edited #MeToo",)]
    assert sorted(stored(tmp_path / "e.duckdb")) == sorted(post_uris(served))
