"""The whole GetOldTweets #metoo scrape (608,099 tweets) through the real pipeline, detected unaided.

Reference figures come from ../shared/data/README.md (each tweet's UTC day taken from its
id, computed there independently of this code).
"""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

from groundswell.ingest import IngestOptions, Summary, ingest
from groundswell.store import Store

pytestmark = [pytest.mark.realdata, pytest.mark.slow]

FOLDER = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "metoo-getoldtweets-aurora848"
TWEETS = 608_099
TWEETS_BY_UTC_DAY = {"2017-10-14": 38, "2017-10-15": 13_666, "2017-10-23": 12_868}


REINGESTED_DAYS = ("2017-10-14", "2017-10-15", "2017-10-23")


@pytest.fixture(scope="module")
def aurora(aurora_store: Path, tmp_path_factory: pytest.TempPathFactory):
    """The session's one ingest (its summary is kept in the store's `runs` table), then a
    forced re-ingest of three day files into a copy, so the shared store stays untouched."""
    with Store(str(aurora_store), read_only=True) as store:
        [(summary,)] = store.sql("SELECT summary FROM runs WHERE status = 'done' ORDER BY run_id LIMIT 1")
    first = Summary(**{k: v for k, v in json.loads(summary).items() if k != "file_errors"})
    copy = tmp_path_factory.mktemp("aurora-copy") / "aurora.duckdb"
    shutil.copy(aurora_store, copy)
    days = [str(FOLDER / f"{day}.jsonl.gz") for day in REINGESTED_DAYS]
    with Store(str(copy)) as store:
        again = ingest(days, store, IngestOptions(force=True))
    return aurora_store, first, again, copy


def query(db: Path, sql: str) -> list[tuple]:
    with Store(str(db), read_only=True) as store:
        return store.sql(sql)


def test_every_tweet_is_collected_and_none_rejected(aurora):
    db, first, _, _ = aurora
    assert first.formats == {"table": 93}
    assert first.read == TWEETS
    assert first.rejected == 0
    assert first.ingested == TWEETS
    assert query(db, "SELECT count(*) FILTER (WHERE collected), count(*) FROM posts") == [(TWEETS, TWEETS)]


def test_utc_days_match_the_reference_figures(aurora):
    db, _, _, _ = aurora
    rows = query(db, """
        SELECT strftime(created_at, '%Y-%m-%d') AS day, count(*) FROM posts
        WHERE collected AND strftime(created_at, '%Y-%m-%d') IN ('2017-10-14', '2017-10-15', '2017-10-23')
        GROUP BY day""")
    assert dict(rows) == TWEETS_BY_UTC_DAY
    assert query(db, "SELECT DISTINCT time_source FROM posts") == [("snowflake",)]


def test_written_eastern_times_agree_with_the_ids(aurora):
    """`date` is naive US-Eastern time; read so (both readings of the repeated DST hour), it matches."""
    _, first, _, _ = aurora
    assert first.notes.get("table_time_disagrees", 0) == 0


def test_metoo_is_recovered_from_spaced_tags(aurora):
    db, _, _, _ = aurora
    [(share,)] = query(db, "SELECT avg(CASE WHEN list_contains(hashtag_keys, 'metoo') THEN 1 ELSE 0 END) FROM posts")
    assert share >= 0.99


def test_authors_are_keyed_by_handle(aurora):
    db, _, _, _ = aurora
    [(without, not_handle)] = query(db, """
        SELECT count(*) FILTER (WHERE author_id IS NULL),
               count(*) FILTER (WHERE author_id IS NOT NULL AND author_id <> 'handle:' || lower(author_handle))
        FROM posts""")
    assert (without, not_handle) == (0, 0)


def test_forced_reingest_adds_nothing(aurora):
    _, _, again, copy = aurora
    lines = sum(1 for day in REINGESTED_DAYS for line in gzip.open(FOLDER / f"{day}.jsonl.gz") if line.strip())
    assert again.read == lines
    assert again.ingested == 0
    assert again.duplicate == lines
    assert again.rejected == 0
    assert query(copy, "SELECT count(*) FROM posts") == [(TWEETS,)]
