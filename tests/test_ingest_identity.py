"""The columnar fast path writes exactly the store the per-record path writes.

The reference is the per-record path, forced with GROUNDSWELL_INGEST_PATH=per-record (and the
columnar Jetstream path is used for chunks of any size, as it otherwise is only from 5,000). Both
ingest the same files into fresh stores, and every post (all fields but ingested_at), every
quarantine entry, every file mark and the summary counts must be equal. The quick test takes
every shared file except the large GetOldTweets scrape, plus the scrape's small days and two
of its large ones; the slow test compares the whole scrape (608,099 posts).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from groundswell.ingest import IngestOptions, ingest
from groundswell.ingest import columnar_jetstream
from groundswell.ingest.columnar import PATH_VARIABLE, PER_RECORD
from groundswell.model import FIELD_NAMES
from groundswell.store import Store

from conftest import AURORA, SHARED_DATA

POST_COLUMNS = ", ".join(f for f in FIELD_NAMES if f != "ingested_at")
QUERIES = {
    "posts": f"SELECT {POST_COLUMNS} FROM posts ORDER BY platform, post_id",
    "quarantine": "SELECT source_file, source_line, source_format, reason, raw FROM quarantine ORDER BY ALL",
    "files": "SELECT path, fingerprint, source_format, status, records, posts FROM files ORDER BY path",
}


def _ingest(paths: list[str], db: Path, monkeypatch: pytest.MonkeyPatch, per_record: bool,
            workers: int = 1) -> dict[str, Any]:
    with monkeypatch.context() as env:
        if per_record:
            env.setenv(PATH_VARIABLE, PER_RECORD)
        else:
            env.delenv(PATH_VARIABLE, raising=False)
        env.setattr(columnar_jetstream, "MIN_RECORDS", 0)  # the shared Bluesky files are small: compare them all
        with Store(str(db)) as store:
            summary = ingest(paths, store, IngestOptions(workers=workers)).as_dict()
    return summary


def _contents(db: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {name: con.execute(sql).fetchall() for name, sql in QUERIES.items()}
    finally:
        con.close()


def _compare(paths: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
             fast_workers: int = 1) -> tuple[dict, dict, dict]:
    fast = _ingest(paths, tmp_path / "fast.duckdb", monkeypatch, per_record=False, workers=fast_workers)
    slow = _ingest(paths, tmp_path / "slow.duckdb", monkeypatch, per_record=True)
    fast_rows, slow_rows = _contents(tmp_path / "fast.duckdb"), _contents(tmp_path / "slow.duckdb")
    for name in QUERIES:
        assert len(fast_rows[name]) == len(slow_rows[name]), name
        for a, b in zip(fast_rows[name], slow_rows[name]):
            if a != b:
                _fail_naming_columns(name, a, b)
    assert slow["per_record"] == {k: v for k, v in slow["per_record"].items() if v}
    assert {k: v for k, v in fast.items() if k != "per_record"} == {k: v for k, v in slow.items() if k != "per_record"}
    return fast, slow, fast_rows


def _fail_naming_columns(name: str, a: tuple, b: tuple) -> None:
    """Name the row by its key and the columns that differ, never their values: on the shared
    data a value can be a real person's words, and a failing test's message reaches CI logs."""
    columns = QUERIES[name].split(" FROM ")[0].removeprefix("SELECT ").split(", ")
    differing = [column for column, x, y in zip(columns, a, b) if x != y]
    pytest.fail(f"{name}: the row keyed {a[:2]!r} differs between the paths in {differing}", pytrace=False)


def _every_small_file() -> list[str]:
    return sorted(str(p) for p in SHARED_DATA.rglob("*") if p.is_file() and AURORA not in p.parents)


def _aurora_sample() -> list[str]:
    days = sorted(AURORA.glob("*.jsonl.gz"))
    small = [p for p in days if p.stat().st_size < 20_000]
    return [str(p) for p in small + [AURORA / "2017-10-15.jsonl.gz", AURORA / "2017-11-21.jsonl.gz"]]


def test_every_shared_file_and_part_of_the_scrape_match(shared_data: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    paths = _every_small_file() + _aurora_sample()
    fast, slow, rows = _compare(paths, tmp_path, monkeypatch)
    assert slow["read"] == slow["per_record"].get("table", 0) + sum(
        v for k, v in slow["per_record"].items() if k != "table")
    # the fast path did the GetOldTweets work: only non-table formats (and odd rows) went record by record
    assert fast["per_record"].get("table", 0) < slow["per_record"]["table"] - 20_000
    assert len(rows["posts"]) > 25_000 and rows["quarantine"], "the comparison covers posts and rejections"


@pytest.mark.slow
def test_the_whole_scrape_matches(shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast side runs as a user's ingest does, on every core: each day file read whole by a
    worker, several files in flight; the reference reads record by record in one process."""
    fast, _, rows = _compare([str(AURORA)], tmp_path, monkeypatch, fast_workers=0)
    assert len(rows["posts"]) == 608_099
    assert fast["per_record"] == {}


def test_dates_no_calendar_has_go_the_per_record_way(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Synthetic GetOldTweets rows: 30 February and 31 April are unreadable cells, as on the
    per-record path (Arrow alone would read them as 2 March and 1 May)."""
    import json

    path = tmp_path / "synthetic.jsonl"
    dates = ["2017-10-15 19:59:59", "2017-02-30 10:00:00", "2017-04-31 10:00:00", "2016-02-29 10:00:00"]
    with path.open("w") as out:
        for i, date in enumerate(dates):
            tweet_id = str(919714502601474050 + (i << 22))
            out.write(json.dumps({"tweet_id": tweet_id, "username": "synthetic", "date": date, "text": "#Synthetic",
                                  "retweets": 0, "favorites": 0, "permalink": ""}) + "\n")
    fast, slow, rows = _compare([str(path)], tmp_path, monkeypatch)
    assert fast["notes"]["table_unreadable_cells"] == 2 and len(rows["posts"]) == 4
    assert fast["per_record"] == {"table": 2}


def test_negative_and_text_counts_are_set_aside_the_same_way(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Synthetic GetOldTweets rows with negative counts and a count written as text: both paths
    store the negative ones NULL and count them as set aside, and read the text as a table cell."""
    import json

    path = tmp_path / "synthetic-counts.jsonl"
    counts = [(3, 1), (-2, 0), ("7", 0), (0, -9)]
    with path.open("w") as out:
        for i, (favorites, retweets) in enumerate(counts):
            tweet_id = str(919714502601474050 + (i << 22))
            out.write(json.dumps({"tweet_id": tweet_id, "username": "synthetic", "date": "2017-10-15 19:59:59",
                                  "text": "#Synthetic", "retweets": retweets, "favorites": favorites,
                                  "permalink": ""}) + "\n")
    fast, _, rows = _compare([str(path)], tmp_path, monkeypatch)
    assert fast["notes"]["negative_engagement_removed"] == 2 and fast["per_record"] == {"table": 3}
    with duckdb.connect(str(tmp_path / "fast.duckdb"), read_only=True) as con:
        likes = [v for (v,) in con.execute("SELECT like_count FROM posts ORDER BY post_id").fetchall()]
    assert likes == [3, None, 7, 0]
