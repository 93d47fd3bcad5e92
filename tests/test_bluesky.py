"""The Bluesky adapter on twitwi's real fixtures (read at run time) and on synthetic events.

Expected figures below were verified independently with one-off scripts over the raw JSON
(plain `json` and dict walking, not groundswell code): counts of distinct `at://` URIs of
top-level posts, of embedded quoted posts and full reply-context views, and of absurd
`createdAt` values. Post ids are quoted; post text, handles and names never are.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from groundswell.formats import bluesky, mastodon
from groundswell.ingest import IngestOptions, ingest
from groundswell.movement.normalize import hashtag_key
from groundswell.store import Store

FIXTURES = "bluesky-twitter-fixtures-twitwi"
TWITTER_FILES = ("alternative-payload-v2.json", "normalization-payload-search.json", "normalization-payload-show.json",
                 "normalization-payload-stream.json", "normalization.json", "payload-v2-tweet-retweet.json", "payload-v2.json")
EPOCH = datetime(1970, 1, 1)
TID_CHARS = "234567abcdefghijklmnopqrstuvwxyz"

# file: (read, ingested, duplicate, referenced, collected posts by kind)
EXPECTED = {
    "bluesky-firehose-posts.json": (9, 9, 0, 0, {"original": 8, "reply": 1}),
    "bluesky-hydrated-firehose-posts.json": (9, 9, 0, 0, {"original": 8, "reply": 1}),
    "bluesky-tap-posts.json": (14, 14, 0, 0, {"original": 8, "reply": 6}),
    "bluesky-posts.json": (123, 119, 4, 11, {"original": 83, "quote": 19, "reply": 17}),
}
MALFORMED_DATE_POST = "at://did:plc:jhzoul6h437y2g5xsnsr2qr5/app.bsky.feed.post/3kbpuogc6fz2o"


def run_ingest(path: Path, db: Path) -> tuple[Any, Store]:
    store = Store(str(db))
    summary = ingest([str(path)], store, IngestOptions(format="bluesky", workers=1))
    return summary, store


def row(store: Store, post_id: str, *columns: str) -> tuple:
    rows = store.sql(f"SELECT {', '.join(columns)} FROM posts WHERE post_id = ?", [post_id])
    assert len(rows) == 1, post_id
    return rows[0]


def iso_utc(text: str) -> datetime:
    """The test's own reading of an ISO time: fraction cut to microseconds, zone to UTC."""
    match = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)", text)
    assert match, text
    base = datetime.strptime(match[1], "%Y-%m-%dT%H:%M:%S") + timedelta(microseconds=int((match[2] or "0")[:6].ljust(6, "0")))
    if match[3] != "Z":
        sign = 1 if match[3][0] == "+" else -1
        base -= sign * timedelta(hours=int(match[3][1:3]), minutes=int(match[3][4:6]))
    return base


def tid_of(moment: datetime, clock: int = 7) -> str:
    value = ((moment - EPOCH) // timedelta(microseconds=1)) << 10 | clock
    return "".join(TID_CHARS[(value >> (5 * i)) & 31] for i in reversed(range(13)))


def time_of_tid(tid: str) -> datetime:
    value = 0
    for char in tid:
        value = value * 32 + TID_CHARS.index(char)
    return EPOCH + timedelta(microseconds=value >> 10)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_counts(shared_data: Path, tmp_path: Path, name: str):
    read, ingested, duplicate, referenced, kinds = EXPECTED[name]
    summary, store = run_ingest(shared_data / FIXTURES / name, tmp_path / "b.duckdb")
    with store:
        assert (summary.read, summary.rejected, summary.skipped, summary.deleted) == (read, 0, 0, 0)
        assert (summary.ingested, summary.duplicate, summary.referenced) == (ingested, duplicate, referenced)
        by_kind = dict(store.sql("SELECT kind, count(*) FROM posts WHERE collected GROUP BY kind"))
        assert by_kind == kinds
        assert store.sql("SELECT DISTINCT platform FROM posts") == [("bluesky",)]


def test_absurd_client_time_is_replaced(shared_data: Path, tmp_path: Path):
    """One post says year 0; its view's indexedAt says year 0 too (the AppView never puts
    indexedAt after createdAt), so the server-side time left is its record key's TID."""
    raw = json.loads((shared_data / FIXTURES / "bluesky-posts.json").read_text())
    view = next(item for item in raw if item.get("uri") == MALFORMED_DATE_POST)
    assert view["record"]["createdAt"].startswith("0000-") and view["indexedAt"].startswith("0000-")
    summary, store = run_ingest(shared_data / FIXTURES / "bluesky-posts.json", tmp_path / "b.duckdb")
    with store:
        assert summary.notes.get("bluesky_client_time_replaced") == 1
        created, source = row(store, MALFORMED_DATE_POST, "created_at", "time_source")
        assert (created, source) == (time_of_tid(MALFORMED_DATE_POST.rsplit("/", 1)[1]), "server")
        others = store.sql("SELECT count(*) FROM posts WHERE time_source <> 'source'")
        assert others == [(1,)]
        assert summary.notes.get("bluesky_repost_reason_without_uri") == 2


def test_jetstream_times(shared_data: Path, tmp_path: Path):
    events = json.loads((shared_data / FIXTURES / "bluesky-firehose-posts.json").read_text())
    _, store = run_ingest(shared_data / FIXTURES / "bluesky-firehose-posts.json", tmp_path / "b.duckdb")
    with store:
        for event in events:
            post_id = f"at://{event['did']}/app.bsky.feed.post/{event['commit']['rkey']}"
            created, collected_at, source, author = row(
                store, post_id, "created_at", "collected_at", "time_source", "author_id")
            assert created == iso_utc(event["commit"]["record"]["createdAt"])
            assert collected_at == EPOCH + timedelta(microseconds=event["time_us"])
            assert (source, author) == ("source", event["did"])


def test_hashtags_mentions_links_from_facets(shared_data: Path, tmp_path: Path):
    path = shared_data / FIXTURES / "bluesky-firehose-posts.json"
    raw = json.loads(path.read_text())
    events = {f"at://{e['did']}/app.bsky.feed.post/{e['commit']['rkey']}": e["commit"]["record"] for e in raw}
    tagged = "at://did:plc:vckwyfbegq5i4fzdzkxtdzih/app.bsky.feed.post/3m7hzqrjojp2o"
    mentioning = "at://did:plc:ljkrr2d7afnjmx3huawzzhf2/app.bsky.feed.post/3m7hzqjyes22l"
    linking = "at://did:plc:6jrgkhgxjkwn6kn72pdj325g/app.bsky.feed.post/3m7hzqqc2vc2z"
    _, store = run_ingest(path, tmp_path / "b.duckdb")
    with store:
        record = events[tagged]
        tags = [(f["index"], ft["tag"]) for f in record["facets"] for ft in f["features"] if ft["$type"].endswith("#tag")]
        assert len(tags) == 4
        text = record["text"].encode("utf-8")
        shown = [text[i["byteStart"]:i["byteEnd"]].decode("utf-8").lstrip("#") for i, _ in tags]
        hashtags, keys = row(store, tagged, "hashtags", "hashtag_keys")
        assert hashtags == shown and keys == [hashtag_key(tag) for _, tag in tags]
        dids = [ft["did"] for f in events[mentioning]["facets"] for ft in f["features"]]
        assert row(store, mentioning, "mentions") == (dids,) and len(dids) == 2
        links = [ft["uri"] for f in events[linking]["facets"] for ft in f["features"] if ft["$type"].endswith("#link")]
        assert row(store, linking, "urls")[0][: len(links)] == links and len(links) == 1


def test_misspelt_tag_facets_still_count(shared_data: Path, tmp_path: Path):
    """A client wrote `facet#Tag`: the tags are shown in the text, so they are kept."""
    post_id = "at://did:plc:gaglpl5oyjewjnbmcd3uliy7/app.bsky.feed.post/3l2wixjhtom23"
    raw = json.loads((shared_data / FIXTURES / "bluesky-posts.json").read_text())
    view = next(item for item in raw if item.get("uri") == post_id)
    features = [ft for f in view["record"]["facets"] for ft in f["features"]]
    expected = [ft["tag"] for ft in features if ft["$type"] == "app.bsky.richtext.facet#Tag"]
    assert len(expected) == 3 and not any(ft["$type"].endswith("#tag") for ft in features)
    _, store = run_ingest(shared_data / FIXTURES / "bluesky-posts.json", tmp_path / "b.duckdb")
    with store:
        assert row(store, post_id, "hashtags") == (expected,)


REFERENCES = {
    # post id: (kind, reply_to_post_id, conversation_id, quoted_post_id)
    "at://did:plc:als3olc4h5kbm5ntevl7mexn/app.bsky.feed.post/3m7hzqqgw622p": (
        "reply", "at://did:plc:4h65nhr2m7biwnispzw7ewqg/app.bsky.feed.post/3m7hfm6ym5s2z",
        "at://did:plc:4h65nhr2m7biwnispzw7ewqg/app.bsky.feed.post/3m7hfm6ym5s2z", None),
    "at://did:plc:crmrddqmbqzyqd24yjlpibz2/app.bsky.feed.post/3lkizm6uvhc2b": (
        "quote", None, None, "at://did:plc:crmrddqmbqzyqd24yjlpibz2/app.bsky.feed.post/3lkicuf37nc2v"),
    "at://did:plc:hbbrkyeqnurr25zqve3a5udb/app.bsky.feed.post/3lm7rsu272c2t": (
        "reply", "at://did:plc:hbbrkyeqnurr25zqve3a5udb/app.bsky.feed.post/3llyse5an5k2c",
        "at://did:plc:hbbrkyeqnurr25zqve3a5udb/app.bsky.feed.post/3llxz7cfn6s27",
        "at://did:plc:hbbrkyeqnurr25zqve3a5udb/app.bsky.feed.post/3llw5g6h6ps2j"),
    # quotes a feed generator, which is not a post
    "at://did:plc:mtyax5fqrdaarejjruev325a/app.bsky.feed.post/3ldzujh66cs2g": ("original", None, None, None),
}


@pytest.mark.parametrize("name", ["bluesky-firehose-posts.json", "bluesky-posts.json"])
def test_reply_and_quote_references(shared_data: Path, tmp_path: Path, name: str):
    _, store = run_ingest(shared_data / FIXTURES / name, tmp_path / "b.duckdb")
    with store:
        present = {r[0] for r in store.sql("SELECT post_id FROM posts")}
        checked = [post_id for post_id in REFERENCES if post_id in present]
        assert checked
        for post_id in checked:
            kind, parent, root, quoted = REFERENCES[post_id]
            got = row(store, post_id, "kind", "reply_to_post_id", "conversation_id", "quoted_post_id", "reply_to_author_id")
            assert got[:4] == (kind, parent, root, quoted)
            assert got[4] == (parent.split("/")[2] if parent else None)


def test_referenced_posts_from_views(shared_data: Path, tmp_path: Path):
    quoted = "at://did:plc:crmrddqmbqzyqd24yjlpibz2/app.bsky.feed.post/3lkicuf37nc2v"
    reply_parent = "at://did:plc:oqynptsozcuxi52v5srdwau2/app.bsky.feed.post/3lloyjul7ec2u"
    _, store = run_ingest(shared_data / FIXTURES / "bluesky-posts.json", tmp_path / "b.duckdb")
    with store:
        assert row(store, quoted, "collected", "created_at", "like_count") == (False, datetime(2025, 3, 16, 9, 22, 8, 653000), 77)
        assert row(store, reply_parent, "collected", "created_at") == (False, datetime(2025, 3, 31, 18, 31, 8, 188000))


def test_sniff_accepts_bluesky_only(shared_data: Path):
    folder = shared_data / FIXTURES
    for name in EXPECTED:
        assert all(bluesky.sniff(item) for item in json.loads((folder / name).read_text())), name
    for name in TWITTER_FILES:
        for item in _values(json.loads((folder / name).read_text())):
            assert not bluesky.sniff(item), name
    statuses = json.loads((shared_data / "mastodon-public-timeline-tootkit" / "public_timeline_2020-04-16.json").read_text())
    assert statuses and not any(bluesky.sniff(status) for status in statuses)
    assert not any(mastodon.sniff(item) for name in EXPECTED for item in json.loads((folder / name).read_text()))


def _values(document: Any) -> list[Any]:
    """A payload and the items of its top-level lists (v1.1 `statuses`, v2 `data`, ...)."""
    items = document if isinstance(document, list) else [document]
    nested = [x for item in items if isinstance(item, dict) for v in item.values() if isinstance(v, list) for x in v]
    return items + nested


# --- synthetic events (written for these tests; no real account or post) -------------------

NOW = datetime(2025, 6, 1, 12, 0, 0)
DID_A, DID_B, DID_GONE = "did:plc:syntheticaaaa", "did:plc:syntheticbbbb", "did:plc:syntheticgone"


def _us(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


POST, REPOST = "app.bsky.feed.post", "app.bsky.feed.repost"


def _commit(did: str, rkey: str, operation: str, collection: str, record: dict | None, at: datetime = NOW) -> dict:
    commit = {"rev": tid_of(at), "operation": operation, "collection": collection, "rkey": rkey}
    if record is not None:
        commit["record"] = record
    return {"did": did, "time_us": _us(at), "kind": "commit", "commit": commit}


def _post(text: str, created: str, **extra: Any) -> dict:
    return {"$type": POST, "text": f"[synthetic] {text}", "createdAt": created, **extra}


def _tap(n: int, rkey: str, action: str, record: dict | None = None) -> dict:
    body = {"live": True, "did": DID_B, "rev": "x", "collection": POST, "rkey": rkey, "action": action, "cid": "x"}
    return {"id": n, "type": "record", "record": {**body, "record": record} if record else body}


GOOD, ZERO, FUTURE = tid_of(NOW - timedelta(seconds=5)), tid_of(NOW), tid_of(NOW, 8)
TAP_TIME = datetime(2024, 2, 3, 4, 5, 6)


def _synthetic_events() -> list[dict]:
    tagged = _post("a post about #SynthTag", "2025-06-01T11:59:55.000Z", tags=["Outline Tag", "synthtag"])
    subject = {"uri": f"at://{DID_A}/{POST}/{GOOD}", "cid": "x"}
    return [
        _commit(DID_A, GOOD, "create", POST, tagged),
        _commit(DID_A, GOOD, "update", POST, tagged, NOW + timedelta(minutes=1)),
        _commit(DID_A, ZERO, "create", POST, _post("year zero", "0000-01-01T00:00:00Z")),
        _commit(DID_A, FUTURE, "create", POST, _post("future", "2999-01-01T00:00:00Z", facets=[])),
        _commit(DID_B, "3synthrepost1", "create", REPOST, {"$type": REPOST, "subject": subject, "createdAt": "2025-06-01T12:00:00Z"}),
        _commit(DID_B, "3synthlike111", "create", "app.bsky.feed.like", {"$type": "app.bsky.feed.like"}),
        _commit(DID_B, "3synthother11", "create", "com.example.synthetic", {"$type": "com.example.synthetic"}),
        {"did": DID_B, "time_us": _us(NOW), "kind": "identity", "identity": {"did": DID_B, "handle": "synthetic.example"}},
        {"did": DID_GONE, "time_us": _us(NOW), "kind": "account", "account": {"did": DID_GONE, "status": "deleted"}},
        _commit(DID_B, "3synthdeleted", "delete", POST, None),
        _commit(DID_B, "3synthrepost0", "delete", REPOST, None),
        _commit(DID_B, "3synthbroken1", "create", POST, None),
        _tap(1, tid_of(TAP_TIME), "create", _post("tap", "1970-01-01T00:00:00Z")),
        _tap(2, "3synthtapgone", "delete"),
    ]


def test_synthetic_jetstream_and_tap_events(tmp_path: Path):
    path = tmp_path / "synthetic-jetstream.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(event) for event in _synthetic_events()) + b"\n")
    summary, store = run_ingest(path, tmp_path / "s.duckdb")
    uri = f"at://{DID_A}/{POST}/"
    with store:
        assert (summary.read, summary.ingested, summary.duplicate, summary.skipped) == (14, 5, 1, 3)
        assert (summary.deleted, summary.rejected) == (4, 1)
        assert summary.notes == {"bluesky_client_time_replaced": 3}
        assert row(store, uri + GOOD, "hashtags", "kind", "time_source") == (["SynthTag", "Outline Tag"], "original", "source")
        assert row(store, uri + ZERO, "created_at", "time_source") == (NOW, "server")
        assert row(store, uri + FUTURE, "created_at", "time_source") == (NOW, "server")
        assert row(store, f"at://{DID_B}/{POST}/{tid_of(TAP_TIME)}", "created_at", "time_source") == (TAP_TIME, "server")
        repost = row(store, f"at://{DID_B}/{REPOST}/3synthrepost1", "kind", "reposted_post_id", "collected_at")
        assert repost == ("repost", uri + GOOD, NOW)
        tombstones = set(store.sql("SELECT target_id, is_author FROM tombstones"))
        assert tombstones == {(DID_GONE, True), (f"at://{DID_B}/{POST}/3synthdeleted", False),
                              (f"at://{DID_B}/{REPOST}/3synthrepost0", False), (f"at://{DID_B}/{POST}/3synthtapgone", False)}
        reasons = store.sql("SELECT reason FROM quarantine")
        assert len(reasons) == 1 and "without a record" in reasons[0][0]


def _synthetic_view(did: str, rkey: str, **extra: Any) -> dict:
    return {"uri": f"at://{did}/app.bsky.feed.post/{rkey}", "cid": "x",
            "author": {"did": did, "handle": "synthetic.example", "displayName": "Synthetic", "followersCount": 12,
                       "verification": {"verifiedStatus": "valid"}},
            "record": {"$type": "app.bsky.feed.post", "text": "[synthetic] view", "createdAt": "2025-05-01T10:00:00Z"},
            "indexedAt": "2025-05-01T10:00:01Z", "likeCount": 3, **extra}


def test_synthetic_feed_page_with_repost_reason(tmp_path: Path):
    """A newer feed names the repost record in `reason.uri`: the repost is the collected post."""
    view = _synthetic_view(DID_A, "3synthview001")
    repost = f"at://{DID_B}/app.bsky.feed.repost/3synthrp00001"
    reason = {"$type": "app.bsky.feed.defs#reasonRepost", "by": {"did": DID_B, "handle": "b.synthetic.example"},
              "uri": repost, "indexedAt": "2025-05-02T08:00:00Z"}
    page = {"feed": [{"post": view, "reason": reason}, {"post": _synthetic_view(DID_B, "3synthview002")}], "cursor": "x"}
    path = tmp_path / "synthetic-feed.json"
    path.write_bytes(orjson.dumps(page))
    summary, store = run_ingest(path, tmp_path / "s.duckdb")
    with store:
        assert (summary.ingested, summary.referenced, summary.rejected) == (2, 1, 0)
        assert row(store, repost, "kind", "reposted_post_id", "author_id", "created_at", "collected") == (
            "repost", view["uri"], DID_B, datetime(2025, 5, 2, 8), True)
        assert row(store, view["uri"], "collected", "author_verified", "author_followers", "url") == (
            False, True, 12, "https://bsky.app/profile/synthetic.example/post/3synthview001")
