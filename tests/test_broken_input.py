"""Hypothesis feeds the pipeline broken input: it never crashes, and every record is accounted for."""

from __future__ import annotations

import json
import random
from pathlib import Path

import duckdb
import orjson
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from groundswell.cli import main
from groundswell.simulate.twitter_v1 import START, _tweet, _user

# Synthetic tweets, then damaged in the ways real archives are damaged.
_rng = random.Random(1)
_USERS = [_user(n, _rng) for n in range(5)]
_GOOD = [orjson.dumps(_tweet(n, START, _USERS[n % 5], f"[synthetic] {n} #MeToo", ["MeToo"])) for n in range(40)]


def _damage(line: bytes, how: str, cut: int, junk: bytes) -> bytes:
    if how == "truncate":
        return line[: cut % max(1, len(line))]
    if how == "junk":
        return junk.replace(b"\n", b" ")
    if how == "wrong-type":
        record = json.loads(line)
        record["user"] = "not an object" if cut % 2 else None
        return orjson.dumps(record)
    if how == "missing-id":
        record = json.loads(line)
        record.pop("id", None)
        record.pop("id_str", None)
        return orjson.dumps(record)
    if how == "latin1":
        return line.replace(b"[synthetic]", "[synthétique]".encode("latin-1"))
    return line


damages = st.lists(
    st.tuples(st.sampled_from(["keep", "truncate", "junk", "wrong-type", "missing-id", "latin1"]),
              st.integers(0, 10_000), st.binary(max_size=40)),
    min_size=len(_GOOD), max_size=len(_GOOD),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(damages)
def test_damaged_lines_are_quarantined_never_crash(tmp_path: Path, plan):
    lines = [_damage(line, how, cut, junk) for line, (how, cut, junk) in zip(_GOOD, plan)]
    path = tmp_path / "damaged.jsonl"
    path.write_bytes(_GOOD[0] + b"\n" + b"\n".join(lines) + b"\n")
    db = tmp_path / "d.duckdb"
    if db.exists():
        db.unlink()
    result = CliRunner().invoke(main, ["ingest", str(path), "--db", str(db), "--json", "--workers", "1", "--format", "twitter-v1", "--force"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.stderr
    summary = json.loads(result.stdout)
    nonblank = sum(1 for line in [_GOOD[0], *lines] if line.strip())
    assert summary["read"] == nonblank
    accounted = summary["ingested"] + summary["duplicate"] + summary["rejected"] + summary["skipped"]
    assert accounted == nonblank
    with duckdb.connect(str(db), read_only=True) as con:
        (stored,) = con.execute("SELECT count(*) FROM posts WHERE collected").fetchone()
        (quarantined,) = con.execute("SELECT count(*) FROM quarantine").fetchone()
    assert stored == summary["ingested"] and quarantined == summary["rejected"]


def test_negative_engagement_counts_are_stored_empty_and_counted(tmp_path: Path) -> None:
    """A broken export's negative counts (synthetic) are quarantined field by field: the post
    is kept, the count is NULL in the store, and the coverage section says how many were set aside."""
    tweets = [_tweet(n, START, _USERS[n % 5], f"[synthetic] {n} #MeToo", ["MeToo"]) for n in range(10)]
    for n in (1, 4, 7):
        tweets[n]["favorite_count"] = -5
    tweets[7]["retweet_count"] = -1
    tweets[2]["favorite_count"] = 3
    path = tmp_path / "negative.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(t) for t in tweets) + b"\n")
    db = tmp_path / "n.duckdb"
    done = CliRunner().invoke(main, ["ingest", str(path), "--db", str(db), "--json", "--workers", "1"])
    assert done.exit_code == 0, done.output
    summary = orjson.loads(done.output)
    assert summary["ingested"] == 10 and summary["notes"]["negative_engagement_removed"] == 4
    with duckdb.connect(str(db), read_only=True) as con:
        rows = dict(con.execute("SELECT post_id, like_count FROM posts").fetchall())
        nulled_reposts = con.execute("SELECT post_id FROM posts WHERE repost_count IS NULL").fetchall()
    assert {pid for pid, likes in rows.items() if likes is None} == {str(tweets[n]["id"]) for n in (1, 4, 7)}
    assert rows[str(tweets[2]["id"])] == 3 and min(v for v in rows.values() if v is not None) >= 0
    assert nulled_reposts == [(str(tweets[7]["id"]),)]
    stats = CliRunner().invoke(main, ["stats", "--db", str(db), "--movement", "metoo", "--report", "--json"])
    assert stats.exit_code == 0, stats.output
    assert orjson.loads(stats.output)["report"]["coverage"]["runs"]["negative_engagement_removed_total"] == 4


def test_an_engagement_count_given_as_text_is_stored_empty(tmp_path: Path) -> None:
    """A count that arrives as a string (synthetic) is no reading at all: the post is kept with
    the count NULL, as when the source gives none, and nothing else in its chunk is touched."""
    tweets = [_tweet(n, START, _USERS[n % 5], f"[synthetic] {n} #MeToo", ["MeToo"]) for n in range(6)]
    tweets[3]["favorite_count"] = "many"
    path = tmp_path / "text-count.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(t) for t in tweets) + b"\n")
    db = tmp_path / "t.duckdb"
    done = CliRunner().invoke(main, ["ingest", str(path), "--db", str(db), "--json", "--workers", "1"])
    assert done.exit_code == 0 and "Traceback" not in done.output
    assert orjson.loads(done.stdout)["ingested"] == 6
    with duckdb.connect(str(db), read_only=True) as con:
        empty = con.execute("SELECT post_id FROM posts WHERE like_count IS NULL").fetchall()
    assert empty == [(str(tweets[3]["id"]),)]
