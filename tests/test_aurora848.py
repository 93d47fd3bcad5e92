"""The whole GetOldTweets #metoo scrape (608,099 tweets) through the real pipeline, detected unaided.

Reference figures come from ../shared/data/README.md (each tweet's UTC day taken from its
id, computed there independently of this code).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from groundswell.ingest import IngestOptions, ingest
from groundswell.store import Store

pytestmark = [pytest.mark.realdata, pytest.mark.slow]

FOLDER = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "metoo-getoldtweets-aurora848"
TWEETS = 608_099
TWEETS_BY_UTC_DAY = {"2017-10-14": 38, "2017-10-15": 13_666, "2017-10-23": 12_868}


@pytest.fixture(scope="module")
def aurora(tmp_path_factory: pytest.TempPathFactory):
    """One ingest for the module, then a second, forced one over the same store."""
    if not FOLDER.is_dir():
        pytest.skip(f"real data folder {FOLDER} is absent")
    db = tmp_path_factory.mktemp("aurora848") / "aurora.duckdb"
    with Store(str(db)) as store:
        started = time.perf_counter()
        first = ingest([str(FOLDER)], store, IngestOptions())
        seconds = time.perf_counter() - started
        print(f"\naurora848: {first.read:,} records ingested in {seconds:.1f} s ({first.read / seconds:,.0f}/s)")
        again = ingest([str(FOLDER)], store, IngestOptions(force=True))
    return db, first, again


def query(db: Path, sql: str) -> list[tuple]:
    with Store(str(db), read_only=True) as store:
        return store.sql(sql)


def test_every_tweet_is_collected_and_none_rejected(aurora):
    db, first, _ = aurora
    assert first.formats == {"table": 93}
    assert first.read == TWEETS
    assert first.rejected == 0
    assert first.ingested == TWEETS
    assert query(db, "SELECT count(*) FILTER (WHERE collected), count(*) FROM posts") == [(TWEETS, TWEETS)]


def test_utc_days_match_the_reference_figures(aurora):
    db, _, _ = aurora
    rows = query(db, """
        SELECT strftime(created_at, '%Y-%m-%d') AS day, count(*) FROM posts
        WHERE collected AND strftime(created_at, '%Y-%m-%d') IN ('2017-10-14', '2017-10-15', '2017-10-23')
        GROUP BY day""")
    assert dict(rows) == TWEETS_BY_UTC_DAY
    assert query(db, "SELECT DISTINCT time_source FROM posts") == [("snowflake",)]


def test_written_eastern_times_agree_with_the_ids(aurora):
    """`date` is naive US-Eastern time; read so (both readings of the repeated DST hour), it matches."""
    _, first, _ = aurora
    assert first.notes.get("table_time_disagrees", 0) == 0


def test_metoo_is_recovered_from_spaced_tags(aurora):
    db, _, _ = aurora
    [(share,)] = query(db, "SELECT avg(CASE WHEN list_contains(hashtag_keys, 'metoo') THEN 1 ELSE 0 END) FROM posts")
    assert share >= 0.99


def test_authors_are_keyed_by_handle(aurora):
    db, _, _ = aurora
    [(without, not_handle)] = query(db, """
        SELECT count(*) FILTER (WHERE author_id IS NULL),
               count(*) FILTER (WHERE author_id IS NOT NULL AND author_id <> 'handle:' || lower(author_handle))
        FROM posts""")
    assert (without, not_handle) == (0, 0)


def test_forced_reingest_adds_nothing(aurora):
    db, _, again = aurora
    assert again.read == TWEETS
    assert again.ingested == 0
    assert again.duplicate == TWEETS
    assert again.rejected == 0
    assert query(db, "SELECT count(*) FROM posts") == [(TWEETS,)]
