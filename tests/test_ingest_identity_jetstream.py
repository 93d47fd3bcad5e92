"""The columnar Jetstream path (ingest/columnar_jetstream.py) stores what the per-record path
stores, on SYNTHETIC events built to sit on every edge of its rules: JSON that DuckDB reads
and orjson refuses, repeated keys, odd times, odd tags, odd types, other kinds of events.

Each line of one JSONL file is one such event; both paths ingest the file and the stores,
quarantines and summaries must be equal (tests/test_ingest_identity.py's comparison).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from test_ingest_identity import _compare

BASE_US = 1_765_000_000_000_000  # 2025-12-06


def _event(n: int, record: dict[str, Any] | None = None, **top: Any) -> dict[str, Any]:
    rec = {"$type": "app.bsky.feed.post", "text": f"synthetic post {n}", "createdAt": "2025-12-06T05:46:40.001Z",
           "langs": ["en"]}
    rec.update(record or {})
    event = {"did": f"did:plc:synthetic{n:05d}", "time_us": BASE_US + n * 1000, "kind": "commit",
             "commit": {"rev": "synthetic", "operation": "create", "collection": "app.bsky.feed.post",
                        "rkey": f"3synthetic{n:03d}", "record": rec, "cid": f"bafysynthetic{n}"}}
    event.update(top)
    return event


def _tag(tag: Any, key: str = "tag") -> dict[str, Any]:
    return {"index": {"byteStart": 0, "byteEnd": 1}, "features": [{"$type": "app.bsky.richtext.facet#tag", key: tag}]}


def _line(value: Any) -> bytes:
    return value if isinstance(value, bytes) else json.dumps(value, ensure_ascii=False).encode()


def _plain_events() -> list[Any]:
    """Events the fast path should take itself."""
    mention = {"features": [{"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:synthetic00002"}]}
    links = {"features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://synthetic.example/a"},
                          {"$type": "app.bsky.richtext.facet.link", "uri": "https://synthetic.example/b"}]}
    return [
        _event(1),
        _event(2, {"text": "synthetic #MeToo #YoTambién", "facets": [_tag("MeToo"), _tag("YoTambién"), mention, links]}),
        _event(3, {"createdAt": "2025-12-06T07:46:40.123456789+02:00"}),
        _event(4, {"createdAt": "2025-12-06T00:16:40-05:30"}),
        _event(5, {"reply": {"parent": {"uri": "at://did:plc:synthetic00001/app.bsky.feed.post/3synthetic001"},
                             "root": {"uri": "at://did:plc:synthetic00001/app.bsky.feed.post/3synthetic000"}}}),
        _event(6, {"embed": {"$type": "app.bsky.embed.record",
                             "record": {"uri": "at://did:plc:synthetic00001/app.bsky.feed.post/3synthetic001"}}}),
        _event(7, {"embed": {"$type": "app.bsky.embed.recordWithMedia", "media": {"external": {"uri": "https://x.example"}},
                             "record": {"record": {"uri": "at://did:plc:synthetic00003/app.bsky.feed.post/3s"}}}}),
        _event(8, {"embed": {"$type": "app.bsky.embed.record",
                             "record": {"uri": "at://did:plc:synthetic00001/app.bsky.feed.generator/feed"}}}),
        _event(9, {"embed": {"$type": "app.bsky.embed.external", "external": {"uri": "https://synthetic.example/a"}},
                   "facets": [links]}),
        _event(10, {"embed": {"media": "not an object", "external": {"uri": "https://synthetic.example/c"}}}),
        _event(11, {"langs": []}),
        _event(12, {"langs": [5, "en"]}),
        _event(13, {"text": 7}),
        _event(14, {"facets": [5, {"features": 3}, {"features": [None, "x", {"$type": 9, "tag": "Nine"}]}]}),
        _event(15, {"tags": []}),
        _event(16, {"facets": [_tag(""), _tag(5)]}),
        _event(17, operation="update"),
        _event(18, {"text": "synthetic text with a NaN-free ＃ but facets", "facets": [_tag("Tagged")]}),
        _event(19, {"reply": "not an object", "embed": ["not", "an", "object"]}),
    ]


def _other_events() -> list[Any]:
    """Events the fast path must hand to the per-record path."""
    raw = json.dumps(_event(40))
    return [
        _event(20, {"text": "synthetic #NoFacets"}),
        _event(21, {"tags": ["Outline"]}),
        _event(22, {"facets": [_tag(" Spaced ")]}),
        _event(23, {"facets": [_tag("#Hashed")]}),
        _event(24, {"facets": [_tag("Misspelt", key="hashtag")]}),
        _event(25, {"facets": [_tag("Ideographic\u3000")]}),
        _event(26, {"langs": "en"}),
        _event(27, {"lang": "en"}),
        _event(28, {"createdAt": "2025-12-06t05:46:40z"}),
        _event(29, {"createdAt": "2025-02-30T05:46:40Z"}),
        _event(30, {"createdAt": "0000-01-01T00:00:00Z"}),
        _event(31, {"createdAt": "2025-12-09T05:46:40Z"}),  # after the server's time + 1 day
        _event(32, {"createdAt": 1765000000}),
        _event(33, time_us=1765000000000000.5),
        _event(34, time_us=None),
        _event(35, did=5),
        _event(36, {"text": "synthetic \\ud800 lone"}),
        raw.replace('"langs": ["en"]', '"langs": ["en",]').encode(),
        raw.replace('"langs": ["en"]', '"langs": ["en"], "extra": NaN').encode(),
        raw.replace('"langs": ["en"]', '"langs": ["en"], "extra": 1e999').encode(),
        raw.replace('"kind": "commit"', '"kind": "commit", "kind": "identity"').encode(),
        raw.replace('"operation": "create"', '"operation": "delete", "operation": "create"').encode(),
        raw.replace('"text": "synthetic post 40"', '"text": "first", "text": "second"').encode(),
        raw.replace('"text": "synthetic post 40"', '"text": "synthetic \\ud83d\\ude00 pair"').encode(),
        raw.replace('"text": "synthetic post 40"', '"text": "synthetic \\ud800 lone"').encode(),
        raw.encode()[:-9],  # truncated
        b'{"did": "did:plc:synthetic", "text": "\xff\xfe not UTF-8"}',
        [_event(41)],
        _event(42, {"embed": {"$type": "app.bsky.embed.record", "record": "x"}}, kind="identity"),
        {"did": "did:plc:synthetic00043", "time_us": BASE_US, "kind": "account",
         "account": {"active": False, "status": "deleted"}},
        {"did": "did:plc:synthetic00044", "time_us": BASE_US, "kind": "commit",
         "commit": {"operation": "delete", "collection": "app.bsky.feed.post", "rkey": "3synthetic001"}},
        _event(45, operation="upsert"),
        {**_event(46), "commit": {**_event(46)["commit"], "collection": "app.bsky.feed.repost",
                                  "record": {"subject": {"uri": "at://did:plc:synthetic00001/app.bsky.feed.post/3s"},
                                             "createdAt": "2025-12-06T05:46:40Z"}}},
        _event(47, {"text": "synthetic Infinity and beyond"}),
    ]


@pytest.fixture()
def edge_file(tmp_path: Path) -> Path:
    path = tmp_path / "synthetic-jetstream.jsonl"
    path.write_bytes(b"\n".join(_line(event) for event in _plain_events() + _other_events()) + b"\n")
    return path


def test_edge_events_are_stored_the_same_by_both_paths(edge_file: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    fast, slow, rows = _compare([str(edge_file)], tmp_path, monkeypatch)
    assert slow["per_record"] == {"bluesky": len(_plain_events()) + len(_other_events())}
    # every plain event went the columnar way, and every other one was handed back
    assert fast["per_record"] == {"bluesky": len(_other_events())}
    assert rows["quarantine"], "the comparison covers rejected events too"
    assert len(rows["posts"]) > len(_plain_events())
