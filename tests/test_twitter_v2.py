"""The Twitter v2 adapter through the real pipeline into a real DuckDB file.

Expected figures for ../shared/data were counted with a separate one-off script that reads
the raw JSON without groundswell (distinct ids, or first edit ids, in `data` and in
`includes.tweets`, or in the embedded `referenced_tweets` of flattened lines). Where a test
needs a figure per post, it computes it from the raw file at run time, again without
groundswell. Synthetic records below use made-up ids and text and say so.
"""

from __future__ import annotations

import html

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from groundswell.formats import twitter_v2
from groundswell.ingest import IngestOptions, ingest
from groundswell.store import Store

V2 = "twarc2-v2-testdata"
TWITWI = "bluesky-twitter-fixtures-twitwi"
FIRST_EDIT, LATEST_EDIT = "1576994746135764992", "1576994789110992896"

# file: (collected posts, referenced-only posts, skipped records, rejected records)
V2_FILES = {
    "2sets.jsonl": (200, 76, 0, 0),
    "brexit.jsonl": (100, 55, 0, 0),
    "cashtags.jsonl": (1, 0, 0, 0),
    "cotweet.jsonl": (1, 0, 0, 0),
    "counts.jsonl": (0, 0, 1, 0),
    "edited.jsonl": (1, 0, 0, 0),
    "edited_after.jsonl": (1, 0, 0, 0),
    "edited_before.jsonl": (1, 0, 0, 0),
    "entities_test.jsonl": (474, 176, 0, 0),
    "flat.jsonl": (100, 64, 0, 0),
    "geo_tweets.jsonl": (2, 1, 0, 0),
    "kpop.jsonl": (100, 21, 0, 0),
    "lists.jsonl": (0, 0, 2, 0),
    "many_urls.jsonl": (1, 1, 0, 0),
    "media_policy_violation_off.jsonl": (100, 61, 0, 0),
    "media_policy_violation_on.jsonl": (100, 60, 0, 0),
    "media_tweet.jsonl": (1, 0, 0, 0),
    "mentions_tweet.jsonl": (1, 1, 0, 0),
    "noflat.jsonl": (100, 64, 0, 0),
    "quoted_edit.jsonl": (1, 1, 0, 0),
    "streaming_output_with_error.jsonl": (7, 4, 0, 1),  # line 8 is cut off mid-record
    "two_tweets.jsonl": (1, 1, 0, 0),
    "users.jsonl": (0, 0, 1, 0),
    "verified_type.jsonl": (1, 0, 0, 0),
    "withheld.jsonl": (215, 69, 0, 0),
}
COMPLIANCE_FILES = {"tweets_compliance.jsonl", "users_compliance.jsonl"}

# file: (collected, referenced-only, {kind: collected posts})
TWITWI_FILES = {
    "payload-v2.json": (10, 5, {"repost": 9, "reply": 1}),
    "payload-v2-tweet-retweet.json": (6, 4, {"repost": 1, "original": 1, "reply": 4}),
    "alternative-payload-v2.json": (100, 69, {"reply": 14, "original": 10, "repost": 73, "quote": 3}),
}


def run_ingest(tmp_path: Path, *paths: Path, db: str = "v2.duckdb") -> tuple[Store, Any]:
    store = Store(str(tmp_path / db))
    summary = ingest([str(p) for p in paths], store, IngestOptions(format="twitter-v2", workers=1))
    return store, summary


def counts(store: Store) -> tuple[int, int]:
    row = store.sql("SELECT count(*) FILTER (WHERE collected), count(*) FILTER (WHERE NOT collected) FROM posts")[0]
    return int(row[0]), int(row[1])


def raw_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def snowflake_ms(tweet_id: str) -> datetime:
    """Independent of timeutil: Twitter's epoch plus the id's top 42 bits, in milliseconds."""
    return datetime(1970, 1, 1) + timedelta(milliseconds=(int(tweet_id) >> 22) + 1288834974657)


@pytest.fixture
def v2(shared_data: Path) -> Path:
    return shared_data / V2


def test_every_test_file_is_covered(v2: Path):
    assert {p.name for p in v2.glob("*.jsonl")} == set(V2_FILES) | COMPLIANCE_FILES


@pytest.mark.parametrize("name", sorted(V2_FILES))
def test_file_counts(v2: Path, tmp_path: Path, name: str):
    collected, referenced, skipped, rejected = V2_FILES[name]
    store, summary = run_ingest(tmp_path, v2 / name)
    assert counts(store) == (collected, referenced)
    assert (summary.ingested, summary.referenced) == (collected, referenced)
    assert (summary.skipped, summary.rejected) == (skipped, rejected)
    assert summary.file_errors == []


def test_the_one_broken_line_is_quarantined_by_number(v2: Path, tmp_path: Path):
    path = v2 / "streaming_output_with_error.jsonl"
    broken = []
    for number, line in enumerate(path.read_text(encoding="utf-8").split("\n"), start=1):
        try:
            json.loads(line) if line.strip() else None
        except ValueError:
            broken.append(number)
    assert broken == [8]
    store, _ = run_ingest(tmp_path, path)
    rows = store.sql("SELECT source_line, reason FROM quarantine")
    assert [r[0] for r in rows] == [8]
    assert rows[0][1].startswith("broken JSON")


def test_flat_and_noflat_are_the_same_hundred_posts(v2: Path, tmp_path: Path):
    store, summary = run_ingest(tmp_path, v2 / "flat.jsonl", v2 / "noflat.jsonl")
    assert counts(store) == (100, 64)
    assert summary.ingested == 100
    assert summary.duplicate == 100
    flat_ids = {t["id"] for t in raw_lines(v2 / "flat.jsonl")}
    stored = {r[0] for r in store.sql("SELECT post_id FROM posts WHERE collected")}
    assert stored == flat_ids


def test_flat_and_noflat_alone_agree(v2: Path, tmp_path: Path):
    flat, _ = run_ingest(tmp_path, v2 / "flat.jsonl", db="flat.duckdb")
    paged, _ = run_ingest(tmp_path, v2 / "noflat.jsonl", db="noflat.duckdb")
    assert counts(flat) == counts(paged) == (100, 64)
    query = "SELECT post_id, kind, author_id, author_followers, created_at FROM posts ORDER BY post_id"
    assert flat.sql(query) == paged.sql(query)


@pytest.mark.parametrize("order", [("edited_before.jsonl", "edited_after.jsonl"), ("edited_after.jsonl", "edited_before.jsonl")])
def test_edits_are_one_post_at_its_latest_version(v2: Path, tmp_path: Path, order: tuple[str, str]):
    store, _ = run_ingest(tmp_path, *(v2 / name for name in order))
    rows = store.sql("SELECT post_id, version_id, text, created_at FROM posts")
    assert len(rows) == 1
    post_id, version_id, text, created_at = rows[0]
    latest = raw_lines(v2 / "edited_after.jsonl")[0]["data"][0]
    assert latest["id"] == LATEST_EDIT and latest["edit_history_tweet_ids"][0] == FIRST_EDIT
    assert (post_id, version_id, text) == (FIRST_EDIT, LATEST_EDIT, latest["text"])
    assert created_at == snowflake_ms(FIRST_EDIT)


def test_references_to_an_edited_post_name_its_first_version(v2: Path, tmp_path: Path):
    store, _ = run_ingest(tmp_path, v2 / "quoted_edit.jsonl")
    tweet = raw_lines(v2 / "quoted_edit.jsonl")[0]["data"][0]
    by_type = {r["type"]: r["id"] for r in tweet["referenced_tweets"]}
    assert by_type == {"quoted": FIRST_EDIT, "replied_to": LATEST_EDIT}
    row = store.sql("SELECT kind, quoted_post_id, reply_to_post_id, reply_to_author_id FROM posts WHERE collected")
    assert row == [("reply", FIRST_EDIT, FIRST_EDIT, tweet["in_reply_to_user_id"])]


@pytest.mark.parametrize("name", ["counts.jsonl", "users.jsonl", "lists.jsonl"])
def test_non_post_payloads_are_skipped_with_a_reason(v2: Path, tmp_path: Path, name: str):
    store, summary = run_ingest(tmp_path, v2 / name)
    assert counts(store) == (0, 0)
    assert summary.skipped == len(raw_lines(v2 / name))
    assert summary.rejected == 0
    kind = name.split(".")[0].rstrip("s")
    assert any(kind in reason for reason in summary.skipped_reasons)


def test_authors_are_joined_from_includes(v2: Path, tmp_path: Path):
    page = raw_lines(v2 / "noflat.jsonl")[0]
    users = {u["id"]: u for u in page["includes"]["users"]}
    expected = {t["id"]: (t["author_id"], users[t["author_id"]]["username"], users[t["author_id"]]["public_metrics"]["followers_count"],
                          users[t["author_id"]]["public_metrics"]["following_count"]) for t in page["data"]}
    store, _ = run_ingest(tmp_path, v2 / "noflat.jsonl")
    rows = store.sql("SELECT post_id, author_id, author_handle, author_followers, author_following FROM posts WHERE collected")
    assert {r[0]: tuple(r[1:]) for r in rows} == expected


def test_a_known_author_and_verified_type(v2: Path, tmp_path: Path):
    # Read from the raw file: user 2244994945 has 556601 followers and verified_type "business".
    store, _ = run_ingest(tmp_path, v2 / "verified_type.jsonl")
    rows = store.sql("SELECT author_followers, author_verified, collected_at FROM posts WHERE author_id = '2244994945'")
    assert rows == [(556601, True, datetime(2023, 1, 6, 2, 30, 36))]


def test_created_at_is_the_snowflake_time(v2: Path, tmp_path: Path):
    page = raw_lines(v2 / "noflat.jsonl")[0]
    written = {t["id"]: t["created_at"] for t in page["data"]}
    store, _ = run_ingest(tmp_path, v2 / "noflat.jsonl")
    rows = store.sql("SELECT post_id, created_at, time_source FROM posts WHERE collected")
    assert len(rows) == 100
    for post_id, created_at, source in rows:
        assert (created_at, source) == (snowflake_ms(post_id), "snowflake")
        assert created_at.strftime("%Y-%m-%dT%H:%M:%S.000Z") == written[post_id]


def test_retweets_get_their_originals_full_text(v2: Path, tmp_path: Path):
    page = raw_lines(v2 / "noflat.jsonl")[0]
    users = {u["id"]: u["username"] for u in page["includes"]["users"]}
    originals = {t["id"]: t for t in page["includes"]["tweets"]}
    expected = {}
    for tweet in page["data"]:
        target = next((r["id"] for r in tweet.get("referenced_tweets", []) if r["type"] == "retweeted"), None)
        if target in originals:
            original = originals[target]
            # Twitter escapes &, < and > in text; the store holds the text as written.
            expected[tweet["id"]] = html.unescape(f"RT @{users[original['author_id']]}: {original['text']}")
    assert len(expected) > 10
    store, _ = run_ingest(tmp_path, v2 / "noflat.jsonl")
    rows = dict(store.sql("SELECT post_id, text FROM posts WHERE kind = 'repost' AND collected"))
    assert {k: rows[k] for k in expected} == expected
    truncated = {t["id"]: t["text"] for t in page["data"] if t["id"] in expected}
    assert any(rows[k] != truncated[k] for k in expected)


def test_api_errors_beside_data_are_counted(v2: Path, tmp_path: Path):
    expected = sum(len(page.get("errors", [])) for page in raw_lines(v2 / "withheld.jsonl"))
    assert expected > 0
    _, summary = run_ingest(tmp_path, v2 / "withheld.jsonl")
    assert summary.notes.get("v2_api_errors") == expected


@pytest.mark.parametrize("name", sorted(TWITWI_FILES))
def test_twitwi_payloads(shared_data: Path, tmp_path: Path, name: str):
    collected, referenced, kinds = TWITWI_FILES[name]
    store, summary = run_ingest(tmp_path, shared_data / TWITWI / name)
    assert counts(store) == (collected, referenced)
    assert summary.rejected == 0
    assert dict(store.sql("SELECT kind, count(*) FROM posts WHERE collected GROUP BY kind")) == kinds


def test_sniff_accepts_v2_and_nothing_else(shared_data: Path):
    v2 = shared_data / V2
    for name in V2_FILES:
        records = [orjson.loads(line) for line in (v2 / name).read_bytes().split(b"\n") if line.strip() and _parses(line)]
        assert all(twitter_v2.sniff(r) for r in records), name
    others = [orjson.loads(line) for name in COMPLIANCE_FILES for line in (v2 / name).read_bytes().split(b"\n") if line.strip()]
    others += [orjson.loads(line) for line in (shared_data / "metoo-stream-2017-lama" / "metoo.json").read_bytes().split(b"\n") if line.strip()]
    for path in [*(shared_data / TWITWI).glob("bluesky-*.json"), *(shared_data / "mastodon-public-timeline-tootkit").glob("*.json"),
                 *(shared_data / TWITWI).glob("normalization-payload-*.json")]:
        value = orjson.loads(path.read_bytes())
        others += value if isinstance(value, list) else [value]
    assert len(others) > 300
    assert not any(twitter_v2.sniff(r) for r in others)


def _parses(line: bytes) -> bool:
    try:
        orjson.loads(line)
        return True
    except orjson.JSONDecodeError:
        return False


# --- synthetic records: made-up ids, handles and text, written for these tests -------------

SYNTHETIC_USER = {"id": "100", "username": "synthetic_user", "name": "Synthetic", "verified": False,
                  "public_metrics": {"followers_count": 7, "following_count": 3}}


def synthetic_tweet(tweet_id: str, text: str, **extra: Any) -> dict:
    return {"id": tweet_id, "text": text, "author_id": "100", "edit_history_tweet_ids": [tweet_id], **extra}


def write_lines(path: Path, *records: dict) -> Path:
    path.write_bytes(b"\n".join(orjson.dumps(r) for r in records) + b"\n")
    return path


@pytest.mark.parametrize("verified, verified_type, expected", [(False, "blue", True), (False, "none", False), (True, None, True)])
def test_verified_type_other_than_none_counts_as_verified(tmp_path: Path, verified, verified_type, expected):
    user = {**SYNTHETIC_USER, "verified": verified}
    if verified_type is not None:
        user["verified_type"] = verified_type
    page = {"data": [synthetic_tweet("1600000000000000000", "synthetic")], "includes": {"users": [user]}}
    store, _ = run_ingest(tmp_path, write_lines(tmp_path / "synthetic.jsonl", page))
    assert store.sql("SELECT author_verified, author_followers FROM posts") == [(expected, 7)]


def test_long_tweets_use_note_tweet(tmp_path: Path):
    note = {"text": "synthetic long text #SyntheticOne and #SyntheticTwo", "entities": {"hashtags": [{"tag": "SyntheticOne"}, {"tag": "SyntheticTwo"}]}}
    tweet = synthetic_tweet("1600000000000000001", "synthetic long…", note_tweet=note, entities={"hashtags": []})
    store, _ = run_ingest(tmp_path, write_lines(tmp_path / "long.jsonl", {"data": tweet, "includes": {"users": [SYNTHETIC_USER]}}))
    assert store.sql("SELECT text, hashtags, url FROM posts") == [
        (note["text"], ["SyntheticOne", "SyntheticTwo"], "https://twitter.com/synthetic_user/status/1600000000000000001")]


def test_error_only_pages_are_skipped_and_unknown_authors_get_a_generic_url(tmp_path: Path):
    errors = {"errors": [{"title": "operational-disconnect", "type": "https://api.twitter.com/2/problems/operational-disconnect"}]}
    lone = {"data": [{"id": "1600000000000000002", "text": "synthetic", "author_id": "999"}], "meta": {"result_count": 1}}
    empty = {"meta": {"result_count": 0}, "data": []}
    store, summary = run_ingest(tmp_path, write_lines(tmp_path / "mixed.jsonl", errors, lone, empty))
    assert (summary.skipped, summary.rejected, summary.ingested) == (2, 0, 1)
    assert store.sql("SELECT url, author_handle, author_verified FROM posts") == [("https://twitter.com/i/web/status/1600000000000000002", None, None)]


def test_a_v1_tweet_forced_as_v2_is_quarantined_not_misread(tmp_path: Path):
    v1 = {"id": 1600000000000000003, "id_str": "1600000000000000003", "text": "synthetic", "user": {"id_str": "1"},
          "created_at": "Sat Nov 04 20:39:28 +0000 2017", "author_id": "1"}
    store, summary = run_ingest(tmp_path, write_lines(tmp_path / "v1.jsonl", v1))
    assert (summary.rejected, counts(store)) == (1, (0, 0))
    assert "v1.1" in store.sql("SELECT reason FROM quarantine")[0][0]


def test_a_cut_retweet_without_its_original_keeps_no_cut_hashtag(tmp_path: Path):
    tweet = synthetic_tweet("1600000000000000004", "RT @synthetic_other: synthetic words #SyntheticTag #SyntheticCu…",
                            referenced_tweets=[{"type": "retweeted", "id": "1600000000000000000"}])
    store, _ = run_ingest(tmp_path, write_lines(tmp_path / "rt.jsonl", {"data": [tweet]}))
    assert store.sql("SELECT kind, reposted_post_id, hashtags FROM posts") == [("repost", "1600000000000000000", ["SyntheticTag"])]


def test_a_table_row_with_v2_column_names_is_not_a_flattened_tweet():
    row = {"id": "1600000000000000005", "text": "synthetic", "author_id": "100", "edit_history_tweet_ids": "['1600000000000000005']",
           "public_metrics": "{}", "__twarc": ""}
    assert not twitter_v2.sniff(row)
    assert twitter_v2.sniff({**row, "edit_history_tweet_ids": [row["id"]]})
