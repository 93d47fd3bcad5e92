"""The Twitter v1.1 adapter through the real pipeline into a real DuckDB file.

Expected figures for ../shared/data were counted with a separate one-off script that reads
the raw JSON lines without groundswell (kinds by `retweeted_status`, then
`in_reply_to_status_id_str`, then `quoted_status_id_str`; referenced-only posts as the
distinct ids of embedded `retweeted_status`/`quoted_status` objects not collected
themselves). Where a test needs a figure per post, it computes it from the raw file at run
time, again without groundswell. Synthetic records below use made-up ids and text and say so.
"""

from __future__ import annotations

import html

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson
import pytest

from groundswell.formats import twitter_v1
from groundswell.formats.base import Delete, LimitNotice, ParseContext, RecordError, Skip
from groundswell.ingest import IngestOptions, ingest
from groundswell.store import Store

STREAM = "metoo-stream-2017-lama/metoo.json"
TWITWI = "bluesky-twitter-fixtures-twitwi"
TWITWI_PAYLOADS = ["normalization-payload-search.json", "normalization-payload-show.json", "normalization-payload-stream.json"]

# Acceptance figures for metoo.json, counted independently (see the module docstring).
STREAM_LINES = 206
STREAM_KINDS = {"repost": 120, "reply": 11, "quote": 11, "original": 64}
STREAM_REFERENCED_ONLY = 95
STREAM_UND = 29


def run_ingest(tmp_path: Path, *paths: Path, db: str = "v1.duckdb") -> tuple[Store, Any]:
    store = Store(str(tmp_path / db))
    summary = ingest([str(p) for p in paths], store, IngestOptions(format="twitter-v1", workers=1))
    return store, summary


def raw_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def write_lines(path: Path, *records: Any) -> Path:
    path.write_bytes(b"\n".join(r if isinstance(r, bytes) else orjson.dumps(r) for r in records) + b"\n")
    return path


def snowflake_ms(tweet_id: str) -> datetime:
    """Independent of timeutil: Twitter's epoch plus the id's top 42 bits, in milliseconds."""
    return datetime(1970, 1, 1) + timedelta(milliseconds=(int(tweet_id) >> 22) + 1288834974657)


def raw_kind(tweet: dict) -> str:
    if "retweeted_status" in tweet:
        return "repost"
    if tweet.get("in_reply_to_status_id_str"):
        return "reply"
    return "quote" if tweet.get("quoted_status_id_str") else "original"


def embedded_ids(tweet: dict) -> set[str]:
    """Ids of every tweet embedded in a raw tweet, at any depth."""
    found: set[str] = set()
    for key in ("retweeted_status", "quoted_status"):
        inner = tweet.get(key)
        if isinstance(inner, dict):
            found.add(inner["id_str"])
            found |= embedded_ids(inner)
    return found


def referenced_only(tweets: list[dict]) -> set[str]:
    collected = {t["id_str"] for t in tweets}
    return set().union(*(embedded_ids(t) for t in tweets)) - collected


def full_text_of(tweet: dict) -> str:
    return unescaped(tweet.get("extended_tweet", {}).get("full_text") or tweet.get("full_text") or tweet["text"])


def unescaped(text: str) -> str:
    """Twitter escapes &, < and > in text; the store holds the text as written."""
    return html.unescape(text)


@pytest.fixture
def stream(shared_data: Path) -> Path:
    return shared_data / STREAM


@pytest.fixture
def stream_store(stream: Path, tmp_path: Path) -> tuple[Store, Any]:
    return run_ingest(tmp_path, stream)


def test_acceptance_figures_agree_with_the_raw_file(stream: Path):
    tweets = raw_lines(stream)
    assert len(tweets) == STREAM_LINES == len({t["id_str"] for t in tweets})
    kinds: dict[str, int] = {}
    for tweet in tweets:
        kinds[raw_kind(tweet)] = kinds.get(raw_kind(tweet), 0) + 1
    assert kinds == STREAM_KINDS
    assert len(referenced_only(tweets)) == STREAM_REFERENCED_ONLY


def test_stream_counts(stream_store: tuple[Store, Any]):
    store, summary = stream_store
    assert (summary.read, summary.ingested, summary.referenced) == (STREAM_LINES, STREAM_LINES, STREAM_REFERENCED_ONLY)
    assert (summary.rejected, summary.skipped, summary.duplicate, summary.file_errors) == (0, 0, 0, [])
    kinds = dict(store.sql("SELECT kind, count(*) FROM posts WHERE collected GROUP BY kind"))
    assert kinds == STREAM_KINDS
    assert store.sql("SELECT count(*) FROM posts WHERE NOT collected")[0][0] == STREAM_REFERENCED_ONLY


def test_referenced_only_posts_are_the_raw_embedded_ones(stream: Path, stream_store: tuple[Store, Any]):
    store, _ = stream_store
    stored = {r[0] for r in store.sql("SELECT post_id FROM posts WHERE NOT collected")}
    assert stored == referenced_only(raw_lines(stream))


def test_every_retweet_original_is_stored(stream: Path, stream_store: tuple[Store, Any]):
    store, _ = stream_store
    missing = store.sql("SELECT count(*) FROM posts r WHERE r.kind = 'repost' AND r.reposted_post_id IS NULL "
                        "OR (r.kind = 'repost' AND NOT EXISTS (SELECT 1 FROM posts o WHERE o.post_id = r.reposted_post_id))")
    assert missing[0][0] == 0
    expected = {t["id_str"]: t["retweeted_status"]["id_str"] for t in raw_lines(stream) if "retweeted_status" in t}
    stored = dict(store.sql("SELECT post_id, reposted_post_id FROM posts WHERE kind = 'repost'"))
    assert stored == expected


def test_references_match_the_raw_file(stream: Path, stream_store: tuple[Store, Any]):
    store, _ = stream_store
    expected = {}
    for t in raw_lines(stream):
        retweet = "retweeted_status" in t
        reply_to = None if retweet else t["in_reply_to_status_id_str"]
        expected[t["id_str"]] = (raw_kind(t), reply_to, t["in_reply_to_user_id_str"] if reply_to else None,
                                 None if retweet else t.get("quoted_status_id_str"), None)
    rows = store.sql("SELECT post_id, kind, reply_to_post_id, reply_to_author_id, quoted_post_id, conversation_id "
                     "FROM posts WHERE collected")
    assert {r[0]: tuple(r[1:]) for r in rows} == expected


def test_a_quote_on_a_retweet_belongs_to_the_original(stream: Path, stream_store: tuple[Store, Any]):
    store, _ = stream_store
    cases = [t for t in raw_lines(stream) if "retweeted_status" in t and "quoted_status" in t]
    assert len(cases) == 18
    for t in cases:
        (own,) = store.sql("SELECT quoted_post_id FROM posts WHERE post_id = ?", [t["id_str"]])[0]
        (original,) = store.sql("SELECT quoted_post_id FROM posts WHERE post_id = ?", [t["retweeted_status"]["id_str"]])[0]
        assert own is None
        assert original == t["quoted_status"]["id_str"]


def test_created_at_is_the_snowflake_time(stream: Path, stream_store: tuple[Store, Any]):
    store, _ = stream_store
    tweets = raw_lines(stream)
    picked = [tweets[0], tweets[len(tweets) // 2], tweets[-1]]
    picked += [t["retweeted_status"] for t in tweets[:40] if "retweeted_status" in t][:3]
    assert len(picked) == 6
    for tweet in picked:
        rows = store.sql("SELECT created_at, time_source FROM posts WHERE post_id = ?", [tweet["id_str"]])
        assert rows == [(snowflake_ms(tweet["id_str"]), "snowflake")]
        written = datetime.strptime(tweet["created_at"], "%a %b %d %H:%M:%S %z %Y").astimezone(timezone.utc)
        assert rows[0][0].replace(microsecond=0) == written.replace(tzinfo=None)
    (first, last) = store.sql("SELECT min(created_at), max(created_at) FROM posts WHERE collected")[0]
    ids = sorted(int(t["id_str"]) for t in tweets)
    assert (first, last) == (snowflake_ms(str(ids[0])), snowflake_ms(str(ids[-1])))


def test_stream_time_is_the_collection_time(stream: Path, stream_store: tuple[Store, Any]):
    store, _ = stream_store
    tweet = raw_lines(stream)[5]
    expected = datetime(1970, 1, 1) + timedelta(milliseconds=int(tweet["timestamp_ms"]))
    assert store.sql("SELECT collected_at FROM posts WHERE post_id = ?", [tweet["id_str"]]) == [(expected,)]


def test_retweets_are_not_truncated(stream: Path, stream_store: tuple[Store, Any]):
    store, _ = stream_store
    cases = [t for t in raw_lines(stream) if "retweeted_status" in t and t["retweeted_status"]["truncated"]]
    assert len(cases) == 55
    for t in cases:
        original = t["retweeted_status"]
        (length, tags) = store.sql("SELECT length(text), hashtags FROM posts WHERE post_id = ?", [t["id_str"]])[0]
        assert length > len(unescaped(t["text"]))
        assert length == len("RT @: ") + len(original["user"]["screen_name"]) + len(unescaped(original["extended_tweet"]["full_text"]))
        assert tags == [h["text"] for h in original["extended_tweet"]["entities"]["hashtags"]]


def test_long_tweets_get_their_extended_text(stream: Path, stream_store: tuple[Store, Any]):
    store, _ = stream_store
    cases = [t for t in raw_lines(stream) if "extended_tweet" in t]
    assert len(cases) == 8
    for t in cases:
        (length, urls) = store.sql("SELECT length(text), urls FROM posts WHERE post_id = ?", [t["id_str"]])[0]
        assert length == len(unescaped(t["extended_tweet"]["full_text"])) > len(unescaped(t["text"]))
        assert urls == [u["expanded_url"] for u in t["extended_tweet"]["entities"]["urls"]]


def test_authors_engagement_and_lang_as_given(stream: Path, stream_store: tuple[Store, Any]):
    store, _ = stream_store
    expected = {t["id_str"]: (t["user"]["id_str"], t["user"]["followers_count"], t["user"]["friends_count"],
                              t["user"]["verified"], t["favorite_count"], t["retweet_count"], t["reply_count"],
                              t["quote_count"], t["lang"], f"https://twitter.com/{t['user']['screen_name']}/status/{t['id_str']}")
                for t in raw_lines(stream)}
    rows = store.sql("SELECT post_id, author_id, author_followers, author_following, author_verified, like_count, "
                     "repost_count, reply_count, quote_count, lang, url FROM posts WHERE collected")
    assert {r[0]: tuple(r[1:]) for r in rows} == expected
    assert store.sql("SELECT count(*) FROM posts WHERE collected AND lang = 'und'")[0][0] == STREAM_UND


@pytest.mark.parametrize("name", TWITWI_PAYLOADS)
def test_twitwi_single_payloads(shared_data: Path, tmp_path: Path, name: str):
    path = shared_data / TWITWI / name
    tweet = read_json(path)
    store, summary = run_ingest(tmp_path, path)
    assert (summary.ingested, summary.referenced, summary.rejected) == (1, len(referenced_only([tweet])), 0)
    original = tweet["retweeted_status"]
    rows = store.sql("SELECT kind, reposted_post_id, quoted_post_id, length(text) FROM posts WHERE collected")
    expected_length = len("RT @: ") + len(original["user"]["screen_name"]) + len(full_text_of(original))
    assert rows == [("repost", original["id_str"], None, expected_length)]
    quoted = store.sql("SELECT quoted_post_id FROM posts WHERE post_id = ?", [original["id_str"]])
    assert quoted == [(original["quoted_status_id_str"],)]


def test_twitwi_normalization_file(shared_data: Path, tmp_path: Path):
    path = shared_data / TWITWI / "normalization.json"
    items = read_json(path)
    sources = [item["source"] for item in items]
    distinct = {t["id_str"] for t in sources}
    store, summary = run_ingest(tmp_path, path)
    assert (summary.read, summary.rejected) == (len(items), 0)
    assert (summary.ingested, summary.duplicate) == (len(distinct), len(sources) - len(distinct))
    assert summary.referenced == len(referenced_only(sources))
    # twitwi's own normalisation of the same tweets names the same references.
    rows = store.sql("SELECT post_id, reposted_post_id, quoted_post_id, reply_to_post_id FROM posts WHERE collected")
    stored = {r[0]: tuple(r[1:]) for r in rows}
    theirs = {n["id"]: (n.get("retweeted_id"), n.get("quoted_id"), n.get("to_tweetid"))
              for item in items for n in item["normalized"] if n["id"] in distinct}
    assert stored == theirs


def test_the_later_copy_of_a_tweet_wins(shared_data: Path, tmp_path: Path):
    sources = [item["source"] for item in read_json(shared_data / TWITWI / "normalization.json")]
    seen: dict[str, dict] = {}
    for tweet in sources:
        seen[tweet["id_str"]] = tweet
    twice = [i for i in seen if sum(t["id_str"] == i for t in sources) == 2]
    assert len(twice) == 1
    store, _ = run_ingest(tmp_path, shared_data / TWITWI / "normalization.json")
    (length,) = store.sql("SELECT length(text) FROM posts WHERE post_id = ?", twice)[0]
    assert length == len(full_text_of(seen[twice[0]]))


def test_delete_notice_removes_the_tweet_and_limits_are_kept(tmp_path: Path):
    # Synthetic: a made-up tweet, a delete notice for it, and a stream limit notice.
    tweet = synthetic_tweet(1600000000000000001)
    deleted_ms = 1700000000123
    delete = {"delete": {"status": {"id": 1600000000000000001, "id_str": "1600000000000000001", "user_id": 7,
                                    "user_id_str": "7"}, "timestamp_ms": str(deleted_ms)}}
    limit = {"limit": {"track": 12, "timestamp_ms": "1700000000999"}}
    other = synthetic_tweet(1600000000000000002)
    store, summary = run_ingest(tmp_path, write_lines(tmp_path / "synthetic.jsonl", tweet, delete, limit, other))
    assert (summary.read, summary.skipped, summary.deleted, summary.rejected) == (4, 0, 1, 0)
    assert summary.notes["limit_notices"] == 1
    assert store.sql("SELECT source_line, track, noticed_at FROM limit_notices") == [
        (3, 12, datetime(1970, 1, 1) + timedelta(milliseconds=1700000000999))]
    assert [r[0] for r in store.sql("SELECT post_id FROM posts")] == ["1600000000000000002"]
    tombstone = store.sql("SELECT target_id, deleted_at FROM tombstones")
    assert tombstone == [("1600000000000000001", datetime(1970, 1, 1) + timedelta(milliseconds=deleted_ms))]


def test_malformed_records_are_quarantined_and_the_rest_ingests(tmp_path: Path):
    # Synthetic records, each broken in one way, between two good ones.
    no_id = synthetic_tweet(1600000000000000011)
    del no_id["id"], no_id["id_str"]
    bad_user = {**synthetic_tweet(1600000000000000012), "user": "synthetic"}
    no_user_id = {**synthetic_tweet(1600000000000000013), "user": {"screen_name": "synthetic"}}
    bad_retweet = {**synthetic_tweet(1600000000000000014), "retweeted_status": {"text": "[synthetic]", "user": {"id_str": "9"}}}
    no_text = synthetic_tweet(1600000000000000015)
    del no_text["text"]
    lines = [synthetic_tweet(1600000000000000010), no_id, bad_user, no_user_id, bad_retweet, no_text,
             [1, 2], {"delete": {"status": {}}}, synthetic_tweet(1600000000000000016)]
    store, summary = run_ingest(tmp_path, write_lines(tmp_path / "broken.jsonl", *lines))
    assert (summary.ingested, summary.rejected) == (2, 7)
    reasons = dict(store.sql("SELECT source_line, reason FROM quarantine"))
    assert sorted(reasons) == [2, 3, 4, 5, 6, 7, 8]
    assert "id_str" in reasons[2] and "user" in reasons[3] and "user.id_str" in reasons[4]
    assert "retweeted_status" in reasons[5] and "text" in reasons[6] and "delete.status" in reasons[8]
    assert not any("[synthetic]" in reason for reason in reasons.values())


def test_search_pages_yield_each_status(tmp_path: Path):
    # Synthetic search API pages: one with two statuses, one empty.
    page = {"statuses": [synthetic_tweet(1600000000000000021), synthetic_tweet(1600000000000000022)],
            "search_metadata": {"count": 2}}
    empty = {"statuses": [], "search_metadata": {"count": 0}}
    assert twitter_v1.sniff(page) and twitter_v1.sniff(empty)
    store, summary = run_ingest(tmp_path, write_lines(tmp_path / "search.jsonl", page, empty))
    assert (summary.ingested, summary.skipped, summary.rejected) == (2, 1, 0)


def test_extended_mode_and_a_pre_snowflake_id():
    # Synthetic: an extended-mode tweet with an id from before snowflake ids (2010).
    tweet = {**synthetic_tweet(20), "full_text": "[synthetic] longer #Tag", "created_at": "Sat Nov 04 20:39:28 +0000 2009"}
    tweet["entities"] = {"hashtags": [{"text": "Tag"}], "user_mentions": [], "urls": [{"url": "u", "expanded_url": "e"}]}
    (post,) = list(twitter_v1.parse(tweet, ParseContext()))
    assert (post["text"], post["hashtags"], post["urls"]) == (tweet["full_text"], ["Tag"], ["e"])
    assert (post["created_at"], post["time_source"]) == (datetime(2009, 11, 4, 20, 39, 28), "source")


def test_parse_yields_skip_and_delete_items():
    assert list(twitter_v1.parse({"limit": {"track": 1}}, ParseContext())) == [LimitNotice("twitter", 1, None)]
    assert list(twitter_v1.parse({"scrub_geo": {"user_id": 1}}, ParseContext())) == [Skip(twitter_v1._CONTROL["scrub_geo"])]
    with pytest.raises(RecordError, match="limit.track"):
        list(twitter_v1.parse({"limit": {"track": "many"}}, ParseContext()))
    (item,) = twitter_v1.parse({"delete": {"status": {"id_str": "5"}}}, ParseContext())
    assert item == Delete("twitter", "5", None, "deleted")
    with pytest.raises(RecordError, match="id_str"):
        list(twitter_v1.parse({"user": {"id_str": "1"}, "text": "[synthetic]"}, ParseContext()))


def test_sniff_accepts_v1_shapes_and_rejects_others(shared_data: Path):
    for record in [synthetic_tweet(1600000000000000031), {"delete": {"status": {"id_str": "1"}}},
                   {"scrub_geo": {"user_id": 1}}, {"friends": [1, 2]},
                   {"normalized": [], "source": synthetic_tweet(1600000000000000032)}]:
        assert twitter_v1.sniff(record), sorted(record)
    others = [{"data": [{"id": "1", "text": "[synthetic]"}]}, {"id": "1", "text": "[synthetic]", "author_id": "2"},
              {"limit": 3}, {"id": "1", "account": {"id": "2"}, "content": "<p>[synthetic]</p>"}]
    others += read_json(shared_data / "mastodon-public-timeline-tootkit/public_timeline_2020-04-16.json")
    others += read_json(shared_data / TWITWI / "bluesky-posts.json")
    others.append(read_json(shared_data / TWITWI / "payload-v2.json"))
    assert len(others) > 100
    assert not any(twitter_v1.sniff(record) for record in others)
    assert all(twitter_v1.sniff(t) for t in raw_lines(shared_data / STREAM))


def synthetic_tweet(tweet_id: int) -> dict[str, Any]:
    """A made-up v1.1 tweet; nothing in it comes from real data."""
    return {"id": tweet_id, "id_str": str(tweet_id), "created_at": "Sat Nov 04 20:39:28 +0000 2017",
            "text": "[synthetic] hello #Synthetic", "lang": "en", "truncated": False,
            "user": {"id": 7, "id_str": "7", "screen_name": "synthetic_user", "name": "Synthetic", "followers_count": 1,
                     "friends_count": 2, "verified": False},
            "entities": {"hashtags": [{"text": "Synthetic", "indices": [19, 29]}], "user_mentions": [], "urls": []},
            "favorite_count": 0, "retweet_count": 0}


def test_each_embedded_tweet_is_yielded_once(stream: Path):
    # A retweet of a quote carries the quoted tweet twice (on the retweet and on its original).
    cases = [t for t in raw_lines(stream) if "retweeted_status" in t and "quoted_status" in t]
    for tweet in cases:
        posts = list(twitter_v1.parse(tweet, ParseContext()))
        expected = [tweet["id_str"], tweet["retweeted_status"]["id_str"], tweet["quoted_status"]["id_str"]]
        assert [p["post_id"] for p in posts] == expected
        assert [p["collected"] for p in posts] == [True, False, False]
