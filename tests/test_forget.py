"""`groundswell forget`: deleted posts and accounts leave the store, their text with them, for good.

Expected figures are computed here from the raw files with plain json, never by the code under
test. Synthetic records are marked as such; real records are read from ../shared/data at run time.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import orjson
import pyarrow as pa
import pytest
from click.testing import CliRunner

from groundswell.cli import main
from groundswell.forget import (ForgetResult, account_targets, forget, parse_target, read_compliance, read_id_list,
                                tombstone_counts)
from groundswell.ingest import IngestOptions, ingest
from groundswell.model import ARROW_SCHEMA, new_post
from groundswell.store import Store

TWITTER_EPOCH_MS = 1288834974657


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def v2_records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def retweet_target(record: dict) -> str | None:
    for ref in record.get("referenced_tweets") or ():
        if ref.get("type") == "retweeted":
            return ref["id"]
    return None


def post_ids(db: Path) -> set[str]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {row[0] for row in con.execute("SELECT post_id FROM posts").fetchall()}


@pytest.fixture
def flat(shared_data: Path) -> Path:
    return shared_data / "twarc2-v2-testdata" / "flat.jsonl"


@pytest.fixture
def compliance_file(shared_data: Path) -> Path:
    return shared_data / "twarc2-v2-testdata" / "tweets_compliance.jsonl"


def test_forget_acceptance_compliance_and_id_list(flat: Path, compliance_file: Path, tmp_path: Path):
    """Issue 7's acceptance: the compliance file and a hand-written id list remove their posts;
    a re-ingest does not restore them; the store keeps what the report needs to count them."""
    records = v2_records(flat)
    originals = [r["id"] for r in records if not r.get("referenced_tweets")][:3]
    retweeted = next(t for r in records if (t := retweet_target(r)))
    reposts = {r["id"] for r in records if retweet_target(r) == retweeted}
    ids = tmp_path / "ids.txt"  # hand-written list: ids taken from the real file at run time
    ids.write_text("# posts to forget\n" + "\n".join([originals[0], f"twitter:{originals[1]}", originals[2], retweeted]) + "\n")
    db = tmp_path / "s.duckdb"
    assert run("ingest", str(flat), "--db", str(db), "--workers", "1", "--json")[0] == 0
    before = post_ids(db)
    assert set(originals) | {retweeted} | reposts <= before

    code, out, _ = run("forget", "--db", str(db), "--ids", str(ids), "--compliance", str(compliance_file), "--json")
    assert code == 0
    result = json.loads(out)
    compliance_ids = {r["id"] for r in v2_records(compliance_file)}
    assert result["targets"] == 4 + len(compliance_ids)
    assert (result["posts"], result["referenced"], result["reposts"]) == (3, 1, len(reposts))
    gone = set(originals) | {retweeted} | reposts
    assert post_ids(db) == before - gone

    code, out, _ = run("ingest", str(flat), "--db", str(db), "--workers", "1", "--json", "--force")
    again = json.loads(out)
    assert code == 0 and again["ingested"] == 0 and again["forgotten"] == 3 + len(reposts)
    assert post_ids(db) == before - gone
    with Store(str(db), read_only=True) as store:
        counts = tombstone_counts(store.sql)
        rows = store.sql("SELECT count(*) FROM tombstones WHERE recorded_at IS NULL OR reason IS NULL")
    assert rows == [(0,)]
    assert counts["posts"] == 4 + len(compliance_ids) + len(reposts) and counts["accounts"] == 0
    assert counts["by_origin"] == {"forget_id_list": 4, "compliance_file": len(compliance_ids),
                                   "repost_of_forgotten": len(reposts)}


def test_forget_author_removes_the_account_and_blocks_reingest(flat: Path, tmp_path: Path):
    records = v2_records(flat)
    by_author: dict[str, int] = {}
    for r in records:
        by_author[r["author_id"]] = by_author.get(r["author_id"], 0) + 1
    author = max(by_author, key=lambda a: (by_author[a], a))
    db = tmp_path / "a.duckdb"
    run("ingest", str(flat), "--db", str(db), "--workers", "1")
    code, out, _ = run("forget", "--db", str(db), "--author", author, "--json")
    assert code == 0 and json.loads(out)["accounts"] == 1
    assert json.loads(out)["posts"] == by_author[author]
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM posts WHERE author_id = ?", [author]).fetchone() == (0,)
    run("ingest", str(flat), "--db", str(db), "--workers", "1", "--force")
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM posts WHERE author_id = ?", [author]).fetchone() == (0,)
        assert con.execute("SELECT is_author, reason FROM tombstones").fetchall() == [(True, "forgotten: account")]


# --- synthetic streams: deletion notices applied by ingest itself --------------------------

def snowflake(moment: datetime, seq: int) -> str:
    ms = int((moment - datetime(1970, 1, 1)).total_seconds() * 1000) - TWITTER_EPOCH_MS
    return str((ms << 22) | seq)


def v1_tweet(seq: int, user: int, text: str, retweet_of: dict | None = None) -> dict:
    """A synthetic v1.1 tweet (invented ids, users and text)."""
    tid = snowflake(datetime(2017, 10, 15, 12) + timedelta(seconds=seq), seq)
    tweet = {"id": int(tid), "id_str": tid, "created_at": "Sun Oct 15 12:00:00 +0000 2017", "text": text,
             "user": {"id_str": str(500 + user), "screen_name": f"synthetic_{user}", "followers_count": 3},
             "entities": {"hashtags": [{"text": "MeToo"}], "user_mentions": [], "urls": []}}
    if retweet_of is not None:
        tweet["retweeted_status"] = retweet_of
        tweet["text"] = f"RT @synthetic_{retweet_of['user']['id_str']}: {retweet_of['text']}"
    return tweet


def delete_notice(tweet: dict) -> dict:
    return {"delete": {"status": {"id": tweet["id"], "id_str": tweet["id_str"], "user_id_str": tweet["user"]["id_str"]},
                       "timestamp_ms": "1508070000000"}}


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    return path


def test_v1_delete_notices_are_applied_by_ingest_with_their_reposts(tmp_path: Path):
    original = v1_tweet(1, 1, "[synthetic] original #MeToo")
    other = v1_tweet(2, 2, "[synthetic] other #MeToo")
    retweet = v1_tweet(3, 3, "", retweet_of=original)
    first = write_jsonl(tmp_path / "synthetic_stream1.jsonl", [original, other, retweet])
    # The notice comes in a later file; a retweet of the deleted post arrives even later.
    second = write_jsonl(tmp_path / "synthetic_stream2.jsonl", [delete_notice(original)])
    late_retweet = v1_tweet(4, 4, "", retweet_of=original)
    third = write_jsonl(tmp_path / "synthetic_stream3.jsonl", [late_retweet, delete_notice(other), other])
    with Store(str(tmp_path / "v1.duckdb")) as store:
        ingest([str(first)], store, IngestOptions(workers=1))
        assert {r[0] for r in store.sql("SELECT post_id FROM posts")} == {original["id_str"], other["id_str"], retweet["id_str"]}
        summary = ingest([str(second)], store, IngestOptions(workers=1))
        assert summary.deleted == 1
        assert {r[0] for r in store.sql("SELECT post_id FROM posts")} == {other["id_str"]}
        summary = ingest([str(third)], store, IngestOptions(workers=1))
        assert summary.forgotten == 2 and summary.ingested == 0  # the late retweet and the post deleted in-file
        assert store.sql("SELECT count(*) FROM posts") == [(0,)]
        reasons = dict(store.sql("SELECT target_id, reason FROM tombstones"))
    assert reasons[original["id_str"]] == "deleted" and reasons[retweet["id_str"]] == "repost of a forgotten post"


def jetstream(did: str, rkey: str, operation: str, text: str = "") -> dict:
    """A synthetic Jetstream commit event (invented DID, key and text)."""
    commit = {"rev": "3l3qo2vutsw2b", "operation": operation, "collection": "app.bsky.feed.post", "rkey": rkey}
    if operation == "create":
        commit["record"] = {"$type": "app.bsky.feed.post", "text": text, "createdAt": "2024-10-07T12:00:00.000Z",
                            "langs": ["en"]}
        commit["cid"] = "bafyreisyntheticcid"
    return {"did": did, "time_us": 1728302400000000, "kind": "commit", "commit": commit}


def test_bluesky_delete_operations_are_applied_by_ingest(tmp_path: Path):
    did = "did:plc:syntheticaaaaaaaaaaaaaaa"
    keep, drop = "3l3synthetickeep", "3l3syntheticdrop"
    path = write_jsonl(tmp_path / "synthetic_jetstream.jsonl", [
        jetstream(did, keep, "create", "[synthetic] kept #MeToo"),
        jetstream(did, drop, "create", "[synthetic] dropped #MeToo"),
        jetstream(did, drop, "delete"),
    ])
    with Store(str(tmp_path / "b.duckdb")) as store:
        summary = ingest([str(path)], store, IngestOptions(workers=1, format="bluesky"))
        assert summary.deleted == 1
        assert store.sql("SELECT post_id FROM posts") == [(f"at://{did}/app.bsky.feed.post/{keep}",)]
        ingest([str(path)], store, IngestOptions(workers=1, force=True, format="bluesky"))
        assert store.sql("SELECT count(*) FROM posts") == [(1,)]
        forget(store, account_targets([did], "bluesky"))
        assert store.sql("SELECT count(*) FROM posts") == [(0,)]


# --- vacuum: the removed text's bytes leave the file --------------------------------------

def synthetic_posts(markers: list[str]) -> pa.Table:
    base = datetime(2017, 10, 15)
    return pa.Table.from_pylist([
        new_post(platform="twitter", post_id=str(1000 + n), author_id=str(n), text=marker, kind="original",
                 created_at=base + timedelta(minutes=n), collected=True, version_id=str(1000 + n))
        for n, marker in enumerate(markers)], schema=ARROW_SCHEMA)


def test_vacuum_removes_the_forgotten_text_bytes_from_the_file(tmp_path: Path):
    markers = [f"synthetic-{secrets.token_hex(16)}" for _ in range(60)]  # invented, unique, easy to find
    db = tmp_path / "v.duckdb"
    with Store(str(db)) as store:
        store.write_batch(synthetic_posts(markers))
        store.checkpoint()
    data = db.read_bytes()
    assert all(m.encode() in data for m in markers), "the search must find stored text for this test to mean anything"
    forgotten, kept = markers[:30], markers[30:]
    ids = tmp_path / "ids.txt"
    ids.write_text("".join(f"{1000 + n}\n" for n in range(30)))
    code, out, _ = run("forget", "--db", str(db), "--ids", str(ids), "--vacuum", "--json")
    assert code == 0 and json.loads(out)["vacuumed"] is True and json.loads(out)["posts"] == 30
    data = db.read_bytes()
    assert not any(m.encode() in data for m in forgotten)
    assert all(m.encode() in data for m in kept)
    assert not Path(f"{db}.vacuum-tmp").exists()
    with Store(str(db)) as store:  # still a working store, primary key and all
        assert store.sql("SELECT count(*) FROM tombstones") == [(30,)]
        counts = store.write_batch(synthetic_posts(markers))
        assert (counts.new, counts.duplicate, counts.tombstoned) == (0, 30, 30)
        assert store.sql("SELECT count(*) FROM posts") == [(30,)]


def test_forget_clears_raw_bytes_of_rejected_records_that_mention_the_id(tmp_path: Path):
    victim = v1_tweet(1, 1, "[synthetic] victim")
    bystander = v1_tweet(2, 2, "[synthetic] bystander")
    broken = tmp_path / "synthetic_broken.jsonl"  # two damaged copies: one mentions the victim's id
    broken.write_bytes(orjson.dumps(victim)[:-20] + b"\n" + orjson.dumps(bystander)[:-20] + b"\n" + orjson.dumps(victim) + b"\n")
    with Store(str(tmp_path / "q.duckdb")) as store:
        ingest([str(broken)], store, IngestOptions(workers=1, format="twitter-v1"))
        assert store.sql("SELECT count(*) FROM quarantine WHERE raw IS NOT NULL") == [(2,)]
        result = forget(store, read_targets(tmp_path, victim["id_str"]))
        assert result.quarantine_cleared == 1 and result.posts == 1
        assert store.sql("SELECT source_line FROM quarantine WHERE raw IS NULL") == [(1,)]
        assert store.sql("SELECT count(*) FROM quarantine") == [(2,)]  # the reasons stay


def read_targets(folder: Path, *ids: str):
    path = folder / "ids.txt"
    path.write_text("\n".join(ids) + "\n")
    return read_id_list(str(path))


# --- inputs ---------------------------------------------------------------------------------

def test_targets_are_parsed_with_platform_prefixes_and_uris():
    assert parse_target("123", "twitter") == ("twitter", "123")
    assert parse_target("mastodon:https://example.social/users/x/statuses/1", "twitter") == (
        "mastodon", "https://example.social/users/x/statuses/1")
    assert parse_target("at://did:plc:x/app.bsky.feed.post/y", "bluesky") == ("bluesky", "at://did:plc:x/app.bsky.feed.post/y")
    assert parse_target("did:plc:synthetic", "bluesky") == ("bluesky", "did:plc:synthetic")
    assert parse_target("bluesky:did:plc:synthetic", "twitter") == ("bluesky", "did:plc:synthetic")


def test_id_list_comments_blank_lines_and_bad_lines(tmp_path: Path):
    good = tmp_path / "ids.txt"
    good.write_text("\ufeff# comment\n\n  111  \nbluesky:at://did:plc:s/app.bsky.feed.post/k\n")
    targets = read_id_list(str(good), "twitter")
    assert [(d.platform, d.target_id, d.author) for d in targets] == [
        ("twitter", "111", False), ("bluesky", "at://did:plc:s/app.bsky.feed.post/k", False)]
    bad = tmp_path / "bad.txt"
    bad.write_text("111\n222 333\n")
    code, _, err = run("forget", "--db", str(tmp_path / "x.duckdb"), "--ids", str(bad))
    assert code == 1 and err.strip().splitlines() == [f"Error: {bad}:2: expected one id per line"]


def test_a_bad_compliance_line_changes_nothing(flat: Path, tmp_path: Path):
    victim = v2_records(flat)[0]["id"]
    bad = tmp_path / "synthetic_tweets_compliance.jsonl"  # synthetic: a real id, then a broken line
    bad.write_text(json.dumps({"id": victim, "action": "delete"}) + "\n{not json\n")
    db = tmp_path / "c.duckdb"
    run("ingest", str(flat), "--db", str(db), "--workers", "1")
    before = post_ids(db)
    code, _, err = run("forget", "--db", str(db), "--compliance", str(bad))
    assert code == 1 and "Traceback" not in err and f"{bad}:2:" in err and len(err.strip().splitlines()) == 1
    assert post_ids(db) == before


def test_compliance_files_are_read_as_posts_or_users(shared_data: Path, compliance_file: Path):
    users_file = shared_data / "twarc2-v2-testdata" / "users_compliance.jsonl"
    posts = read_compliance(str(compliance_file))
    assert [d.target_id for d in posts] == [r["id"] for r in v2_records(compliance_file)]
    assert not any(d.author for d in posts) and all(d.deleted_at is not None for d in posts)
    users = read_compliance(str(users_file))
    assert users and all(d.author for d in users)
    assert {d.target_id for d in users} <= {r["id"] for r in v2_records(users_file)}


def test_forget_needs_a_target_and_a_store(tmp_path: Path):
    code, _, err = run("forget", "--db", str(tmp_path / "n.duckdb"))
    assert code == 1 and "nothing to forget" in err
    code, _, err = run("forget", "--db", str(tmp_path / "n.duckdb"), "--ids", str(tmp_path / "missing.txt"))
    assert code == 1 and "missing.txt: no such file" in err and "Traceback" not in err
    code, _, err = run("forget", "--db", str(tmp_path / "typo.duckdb"), "--author", "1")
    assert code == 1 and "typo.duckdb: no such store" in err and not (tmp_path / "typo.duckdb").exists()


def test_forgetting_twice_counts_the_earlier_tombstones(tmp_path: Path):
    with Store(str(tmp_path / "t.duckdb")) as store:
        store.write_batch(synthetic_posts(["[synthetic] a", "[synthetic] b"]))
        first = forget(store, read_targets(tmp_path, "1000"))
        second = forget(store, read_targets(tmp_path, "1000", "1001"))
    assert (first.posts, first.already_tombstoned) == (1, 0)
    assert (second.posts, second.already_tombstoned, second.targets) == (1, 1, 2)
    assert ForgetResult().as_dict()["vacuumed"] is False


def test_compressed_id_lists_are_read(tmp_path: Path):
    import gzip

    import zstandard

    text = b"# synthetic ids\n111\ntwitter:222\n"
    (tmp_path / "ids.gz").write_bytes(gzip.compress(text))
    (tmp_path / "ids.zst").write_bytes(zstandard.ZstdCompressor().compress(text))
    for name in ("ids.gz", "ids.zst"):
        assert [d.target_id for d in read_id_list(str(tmp_path / name))] == ["111", "222"]
