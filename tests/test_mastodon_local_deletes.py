"""Issue 15, defect 1: a streaming `delete` carries the collecting instance's local id, while
the store keys statuses by their global `uri`; the delete must reach the post it names."""

from __future__ import annotations

from pathlib import Path

import orjson

from groundswell.ingest.pipeline import IngestOptions, ingest
from groundswell.store.duckdb_store import Store


def federated_status(local_id: str, remote: str) -> dict:
    """A synthetic status from another instance: its local id shares nothing with its uri."""
    return {
        "id": local_id, "uri": f"https://remote.example/users/synthetic/statuses/{remote}",
        "url": f"https://remote.example/@synthetic/{remote}", "created_at": "2025-05-01T10:00:00.000Z",
        "account": {"id": "7", "acct": "synthetic@remote.example", "url": "https://remote.example/@synthetic",
                    "display_name": "Synthetic", "followers_count": 1, "following_count": 1},
        "content": "<p>[synthetic] federated #synthetic</p>", "spoiler_text": "", "tags": [], "mentions": [],
        "card": None, "reblog": None, "in_reply_to_id": None, "in_reply_to_account_id": None, "language": "en",
    }


def test_streaming_delete_by_local_id_removes_the_post_keyed_by_uri(tmp_path: Path):
    kept, deleted = federated_status("111", "aaa"), federated_status("222", "bbb")
    events = [
        {"event": "update", "payload": orjson.dumps(kept).decode()},
        {"event": "update", "payload": orjson.dumps(deleted).decode()},
        {"event": "delete", "payload": "222"},
        {"event": "delete", "payload": "999"},  # a status this stream never showed
    ]
    path = tmp_path / "synthetic-stream.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(e) for e in events) + b"\n")
    with Store(str(tmp_path / "m.duckdb")) as store:
        ingest([str(path)], store, IngestOptions(format="mastodon", workers=1))
        assert [r[0] for r in store.sql("SELECT post_id FROM posts")] == [kept["uri"]]
        tombstones = dict(store.sql("SELECT target_id, reason FROM tombstones"))
    assert set(tombstones) == {deleted["uri"], "999"}
    assert tombstones["999"] == "mastodon streaming delete (local id)"


def test_a_delete_chunks_after_its_status_still_reaches_it(tmp_path: Path):
    """Chunks of three records, batches of one chunk: the delete is parsed by another chunk and
    written in another batch than the status it names."""
    statuses = [federated_status(str(100 + n), f"s{n}") for n in range(7)]
    events = [{"event": "update", "payload": orjson.dumps(s).decode()} for s in statuses]
    events += [{"event": "delete", "payload": "100"}, {"event": "delete", "payload": "105"}]
    path = tmp_path / "synthetic-long-stream.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(e) for e in events) + b"\n")
    with Store(str(tmp_path / "c.duckdb")) as store:
        summary = ingest([str(path)], store, IngestOptions(format="mastodon", workers=1, chunk_records=3,
                                                            batch_rows=1)).as_dict()
        stored = {r[0] for r in store.sql("SELECT post_id FROM posts")}
        tombstones = dict(store.sql("SELECT target_id, reason FROM tombstones"))
    assert stored == {s["uri"] for s in statuses} - {statuses[0]["uri"], statuses[5]["uri"]}
    assert tombstones == dict.fromkeys([statuses[0]["uri"], statuses[5]["uri"]],
                                       "mastodon streaming delete (mapped from local id)")
    assert summary["deleted"] == 2
