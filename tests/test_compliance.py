"""Compliance deletions are recorded, applied to the store, and survive re-ingesting an archive."""

from __future__ import annotations

import json
from pathlib import Path

from groundswell.ingest import IngestOptions, ingest
from groundswell.store import Store


def _ids(path: Path) -> list[str]:
    return [json.loads(line)["id"] for line in path.read_text().splitlines() if line.strip()]


def test_real_compliance_file_is_recorded(shared_data: Path, tmp_path: Path):
    path = shared_data / "twarc2-v2-testdata" / "tweets_compliance.jsonl"
    with Store(str(tmp_path / "c.duckdb")) as store:
        summary = ingest([str(path)], store, IngestOptions(workers=1))
        assert summary.formats == {"compliance": 1}
        assert summary.deleted == len(_ids(path)) and summary.rejected == 0
        stored = {row[0] for row in store.sql("SELECT target_id FROM tombstones WHERE NOT is_author")}
        assert stored == set(_ids(path))


def test_deletes_remove_posts_and_block_reingest(shared_data: Path, tmp_path: Path):
    flat = shared_data / "twarc2-v2-testdata" / "flat.jsonl"
    victims = [json.loads(line)["id"] for line in flat.read_text().splitlines()[:3]]
    compliance = tmp_path / "synthetic_tweets_compliance.jsonl"  # synthetic: ids from the real file, invented times
    compliance.write_text("".join(
        json.dumps({"id": v, "action": "delete", "created_at": "2021-05-01T00:00:00.000Z", "reason": "deleted"}) + "\n"
        for v in victims))
    with Store(str(tmp_path / "d.duckdb")) as store:
        ingest([str(flat)], store, IngestOptions(workers=1))
        before = store.sql("SELECT count(*) FROM posts WHERE collected")[0][0]
        ingest([str(compliance)], store, IngestOptions(workers=1))
        assert store.sql("SELECT count(*) FROM posts WHERE collected")[0][0] == before - 3
        again = ingest([str(flat)], store, IngestOptions(workers=1, force=True))
        assert again.forgotten == 3 and again.ingested == 0
        left = store.sql("SELECT count(*) FROM posts WHERE post_id IN (SELECT target_id FROM tombstones)")[0][0]
        assert left == 0


def test_user_compliance_forgets_an_account(shared_data: Path, tmp_path: Path):
    flat = shared_data / "twarc2-v2-testdata" / "flat.jsonl"
    author = json.loads(flat.read_text().splitlines()[0])["author_id"]
    users = tmp_path / "synthetic_users_compliance.jsonl"  # synthetic notice for a real id
    users.write_text(json.dumps({"id": author, "action": "deactivate", "created_at": "2021-05-01T00:00:00+00:00"}) + "\n")
    with Store(str(tmp_path / "u.duckdb")) as store:
        ingest([str(flat)], store, IngestOptions(workers=1))
        assert store.sql("SELECT count(*) FROM posts WHERE author_id = ?", [author])[0][0] > 0
        ingest([str(users)], store, IngestOptions(workers=1))
        assert store.sql("SELECT count(*) FROM posts WHERE author_id = ?", [author])[0][0] == 0
