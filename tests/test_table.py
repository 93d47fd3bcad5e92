"""The table adapter: column mappings, presets, time zones, nested cells, and the datacamp CSVs.

Every table written by these tests is synthetic: made-up ids, handles and texts. The real
datacamp CSVs are read from ../shared/data and checked against figures counted here with
the csv module and ast, independently of the adapter.
"""

from __future__ import annotations

import ast
import csv
import json
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import orjson
import pytest
from click.testing import CliRunner

from groundswell.cli import main
from groundswell.formats import table

NAIVE_UTC = "naive timestamps taken as UTC; pass --tz to set their zone"
TWITTER_EPOCH_MS = 1288834974657
csv.field_size_limit(sys.maxsize)


def snowflake(moment: datetime, sequence: int = 0) -> str:
    """A synthetic tweet id whose embedded time is `moment` (naive UTC, whole milliseconds)."""
    millis = round((moment - datetime(1970, 1, 1)).total_seconds() * 1000)
    return str(((millis - TWITTER_EPOCH_MS) << 22) | sequence)


def write_table(path: Path, rows: list[dict], delimiter: str = ",") -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), delimiter=delimiter)
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    return path


def ingest(db: Path, *args: str):
    result = CliRunner().invoke(main, ["ingest", *args, "--db", str(db), "--json", "--workers", "1"], catch_exceptions=False)
    return result, json.loads(result.stdout) if result.stdout.strip() else None


def posts(db: Path, where: str = "true") -> dict[str, dict]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        cursor = con.execute(f"SELECT * FROM posts WHERE {where}")
        names = [d[0] for d in cursor.description]
        return {row[names.index("post_id")]: dict(zip(names, row)) for row in cursor.fetchall()}
    finally:
        con.close()


def quarantine(db: Path) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT source_line, reason FROM quarantine ORDER BY source_line").fetchall()
    finally:
        con.close()


# Synthetic Mastodon-like export: ids are not snowflakes, so written times are used.
MAP = ["--map", "post_id=msg_id", "--map", "created_at=posted", "--map", "text=body",
       "--map", "author_handle=who", "--map", "like_count=likes", "--map", "platform==mastodon"]


def synthetic_rows(posted: list[str]) -> list[dict]:
    return [{"msg_id": f"m{n}", "posted": when, "body": f"synthetic post {n} #Alpha", "who": f"user{n}", "likes": str(n)}
            for n, when in enumerate(posted)]


def test_map_reads_columns_and_a_constant_platform(tmp_path):
    path = write_table(tmp_path / "export.csv", synthetic_rows(["2021-03-01T12:00:00Z", "2021-03-01T13:30:00+01:00"]))
    result, summary = ingest(tmp_path / "m.duckdb", str(path), *MAP)
    assert result.exit_code == 0, result.stderr
    assert summary["ingested"] == 2
    got = posts(tmp_path / "m.duckdb")
    assert {p["platform"] for p in got.values()} == {"mastodon"}
    assert got["m1"]["like_count"] == 1
    assert got["m0"]["created_at"] == datetime(2021, 3, 1, 12, 0)
    assert got["m1"]["created_at"] == datetime(2021, 3, 1, 12, 30)
    assert got["m0"]["time_source"] == "source"
    assert got["m0"]["hashtags"] == ["Alpha"]  # no hashtags column mapped: read from the text
    assert got["m0"]["kind"] == "original"
    assert NAIVE_UTC not in result.stderr


def test_naive_times_are_utc_with_one_warning_per_file(tmp_path):
    first = write_table(tmp_path / "a.csv", synthetic_rows(["2021-03-01 12:00:00"] * 3))
    second = write_table(tmp_path / "b.csv", synthetic_rows(["2021-07-01 08:15:00"] * 2))
    result, summary = ingest(tmp_path / "n.duckdb", str(first), str(second), *MAP)
    assert summary["rejected"] == 0
    warnings = [line for line in result.stderr.splitlines() if NAIVE_UTC in line]
    assert len(warnings) == 2
    assert any(f"{first}:2, 3, 4:" in line for line in warnings)
    assert any(f"{second}:2, 3:" in line for line in warnings)
    got = posts(tmp_path / "n.duckdb", f"source_file = '{first}'")
    assert {p["created_at"] for p in got.values()} == {datetime(2021, 3, 1, 12, 0)}
    assert {p["time_source"] for p in got.values()} == {"assumed-utc"}


@pytest.mark.parametrize("written, expected", [
    ("2021-03-01 12:00:00", datetime(2021, 3, 1, 11, 0)),  # CET, UTC+1
    ("2021-07-01 12:00:00", datetime(2021, 7, 1, 10, 0)),  # CEST, UTC+2
])
def test_naive_times_are_read_in_tz(tmp_path, written, expected):
    path = write_table(tmp_path / "tz.csv", synthetic_rows([written]))
    result, _ = ingest(tmp_path / "tz.duckdb", str(path), *MAP, "--tz", "Europe/Paris")
    got = posts(tmp_path / "tz.duckdb")["m0"]
    assert (got["created_at"], got["time_source"]) == (expected, "source")
    assert NAIVE_UTC not in result.stderr


def test_mapping_file_and_tsv(tmp_path):
    path = write_table(tmp_path / "export.tsv", synthetic_rows(["2021-03-01T12:00:00Z"] * 2), delimiter="\t")
    toml = tmp_path / "mapping.toml"
    toml.write_text('[columns]\npost_id = "msg_id"\ntext = "body"\ncreated_at = "posted"\n'
                    'author_handle = "who"\nplatform = "=bluesky"\n', encoding="utf-8")
    result, summary = ingest(tmp_path / "t.duckdb", str(path), "--mapping-file", str(toml))
    assert result.exit_code == 0, result.stderr
    assert summary["ingested"] == 2
    got = posts(tmp_path / "t.duckdb")
    assert {(p["platform"], p["author_handle"]) for p in got.values()} == {("bluesky", "user0"), ("bluesky", "user1")}


def test_list_cells_json_python_literal_and_plain(tmp_path):
    cells = {
        "j": ('["MeToo", "#YoTambién"]', ["MeToo", "YoTambién"]),
        "p": ("['MeToo', 'BalanceTonPorc']", ["MeToo", "BalanceTonPorc"]),
        "s": ("MeToo BalanceTonPorc", ["MeToo", "BalanceTonPorc"]),
        "c": ("#MeToo,#QuellaVoltaChe", ["MeToo", "QuellaVoltaChe"]),
        "o": ('[{"start": 0, "end": 6, "tag": "MeToo"}]', ["MeToo"]),
    }
    rows = [{"id": key, "tags": cell, "body": "synthetic"} for key, (cell, _) in cells.items()]
    path = write_table(tmp_path / "lists.csv", rows)
    ingest(tmp_path / "l.duckdb", str(path), "--map", "post_id=id", "--map", "hashtags=tags", "--map", "text=body",
           "--map", "platform==mastodon")
    got = posts(tmp_path / "l.duckdb")
    assert {key: got[key]["hashtags"] for key in cells} == {key: tags for key, (_, tags) in cells.items()}
    assert got["j"]["hashtag_keys"] == ["metoo", "yotambien"]


def test_row_without_id_is_quarantined_naming_the_column(tmp_path):
    rows = synthetic_rows(["2021-03-01T12:00:00Z"] * 3)
    rows[1]["msg_id"] = ""
    path = write_table(tmp_path / "gap.csv", rows)
    result, summary = ingest(tmp_path / "q.duckdb", str(path), *MAP)
    assert (summary["ingested"], summary["rejected"]) == (2, 1)
    [(line, reason)] = quarantine(tmp_path / "q.duckdb")
    assert line == 3
    assert "`msg_id`" in reason
    assert "synthetic post" not in reason


def test_unknown_mapped_field_is_a_file_error(tmp_path):
    path = write_table(tmp_path / "x.csv", synthetic_rows(["2021-03-01T12:00:00Z"]))
    result, summary = ingest(tmp_path / "u.duckdb", str(path), *MAP, "--map", "colour=who")
    assert result.exit_code == 1
    assert "'colour' is not a post field" in summary["file_errors"][0]["message"]


def test_twitter_mapping_prefers_the_snowflake_and_counts_disagreement(tmp_path):
    moment = datetime(2019, 5, 2, 10, 0, 0, 250000)
    rows = [{"tid": snowflake(moment), "when": "2019-05-02T10:00:30Z", "body": "synthetic"},
            {"tid": snowflake(moment, 1), "when": "2019-05-02T13:00:00Z", "body": "synthetic"}]
    path = write_table(tmp_path / "tw.csv", rows)
    result, summary = ingest(tmp_path / "tw.duckdb", str(path), "--map", "post_id=tid", "--map", "created_at=when",
                             "--map", "text=body", "--map", "platform==twitter")
    got = posts(tmp_path / "tw.duckdb")
    assert {(p["created_at"], p["time_source"]) for p in got.values()} == {(moment, "snowflake")}
    assert summary["notes"] == {"table_time_disagrees": 1}
    assert sum("differs from the tweet id's time" in line for line in result.stderr.splitlines()) == 1


# ---- GetOldTweets ----

EASTERN = ZoneInfo("America/New_York")


def gotweets_record(moment: datetime, text: str, username: str = "synth_user", date: str | None = None,
                    sequence: int = 0) -> dict:
    """A synthetic record in the GetOldTweets layout: naive US-Eastern `date`, `#`-only hashtags."""
    tweet_id = snowflake(moment, sequence)
    local = moment.replace(tzinfo=timezone.utc).astimezone(EASTERN).strftime("%Y-%m-%d %H:%M:%S")
    return {"term": "#metoo", "date": date or local, "favorites": 2, "geo": "", "hashtags": "# #",
            "tweet_id": tweet_id, "mentions": "@", "permalink": f"https://twitter.com/Synth_Perma/status/{tweet_id}",
            "retweets": 1, "text": text, "username": username}


def test_getoldtweets_preset_is_detected_and_recovers_spaced_tags(tmp_path):
    base = datetime(2017, 10, 15, 22, 1, 2, 345000)
    records = [
        gotweets_record(base, "synthetic text # MeToo and # Second , thanks @ synth_friend"),
        gotweets_record(base + timedelta(minutes=1), "RT @ synth_friend : synthetic # MeToo", sequence=1),
        gotweets_record(base + timedelta(minutes=2), "@ synth_friend synthetic reply-looking # MeToo", username="",
                        sequence=2),
        gotweets_record(datetime(2017, 11, 5, 6, 30), "synthetic, in the repeated DST hour # MeToo", sequence=3),
        gotweets_record(base, "synthetic with a wrong date # MeToo", date="2017-10-15 21:01:02", sequence=4),
    ]
    path = write_jsonl(tmp_path / "got.jsonl", records)
    result, summary = ingest(tmp_path / "g.duckdb", str(path))
    assert summary["formats"] == {"table": 1}
    assert summary["ingested"] == 5
    # every author keyed by handle (GetOldTweets has no user ids); the `RT @` row is the one inference
    assert summary["notes"] == {"table_time_disagrees": 1, "authors_keyed_by_handle": 5,
                                "kind_inferred_repost_from_rt_prefix": 1}
    got = posts(tmp_path / "g.duckdb")
    first, rt, at, dst = (got[r["tweet_id"]] for r in records[:4])
    assert (first["hashtags"], first["mentions"]) == (["MeToo", "Second"], ["synth_friend"])
    assert (first["created_at"], first["time_source"]) == (base, "snowflake")
    assert (first["author_handle"], first["author_id"]) == ("synth_user", "handle:synth_user")
    assert (first["like_count"], first["repost_count"]) == (2, 1)
    assert first["url"] == records[0]["permalink"]
    assert (rt["kind"], at["kind"]) == ("repost", "original")
    assert (at["author_handle"], at["author_id"]) == ("Synth_Perma", "handle:synth_perma")
    assert dst["created_at"] == datetime(2017, 11, 5, 6, 30)


def test_spaced_tag_is_recovered_only_by_the_getoldtweets_preset(tmp_path):
    moment = datetime(2017, 10, 15, 22, 1, 2)
    record = gotweets_record(moment, "synthetic text # MeToo")
    path = write_table(tmp_path / "plain.csv", [{"tid": record["tweet_id"], "body": record["text"]}])
    ingest(tmp_path / "p.duckdb", str(path), "--map", "post_id=tid", "--map", "text=body", "--map", "platform==twitter")
    assert posts(tmp_path / "p.duckdb")[record["tweet_id"]]["hashtags"] == []
    path = write_jsonl(tmp_path / "got.jsonl", [record])
    ingest(tmp_path / "g.duckdb", str(path))
    assert posts(tmp_path / "g.duckdb")[record["tweet_id"]]["hashtags"] == ["MeToo"]


# ---- twarc-csv ----

TWARC_COLUMNS = ["id", "conversation_id", "referenced_tweets.replied_to.id", "referenced_tweets.retweeted.id",
                 "referenced_tweets.quoted.id", "author_id", "in_reply_to_user_id", "created_at", "text", "lang",
                 "public_metrics.reply_count", "public_metrics.retweet_count", "public_metrics.quote_count",
                 "public_metrics.like_count", "edit_history_tweet_ids", "entities.hashtags", "entities.mentions",
                 "entities.urls", "author.username", "author.verified", "author.public_metrics.followers_count",
                 "__twarc.retrieved_at"]


def twarc_row(moment: datetime, sequence: int, **cells: str) -> dict:
    tweet_id = snowflake(moment, sequence)
    row = dict.fromkeys(TWARC_COLUMNS, "")
    row.update({"id": tweet_id, "conversation_id": tweet_id, "author_id": "101", "lang": "en",
                "created_at": moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z", "text": "synthetic",
                "public_metrics.like_count": "4", "edit_history_tweet_ids": json.dumps([tweet_id]),
                "entities.hashtags": "", "author.username": "synth_a", "author.verified": "False",
                "author.public_metrics.followers_count": "12.0", "__twarc.retrieved_at": "2022-10-03T18:00:12+00:00"})
    row.update(cells)
    return row


def test_twarc_csv_preset(tmp_path):
    base = datetime(2022, 10, 3, 17, 50, 0, 125000)
    first_version = snowflake(base, 9)
    edited = twarc_row(base + timedelta(minutes=5), 1, text="synthetic line one\\nline two #Synth",
                       edit_history_tweet_ids=json.dumps([first_version, snowflake(base + timedelta(minutes=5), 1)]),
                       **{"entities.hashtags": '["#Synth"]', "entities.mentions": '["@synth_b"]'})
    retweet = twarc_row(base, 2, **{"referenced_tweets.retweeted.id": "55"})
    reply = twarc_row(base, 3, in_reply_to_user_id="202", **{"referenced_tweets.replied_to.id": "66",
                                                               "referenced_tweets.quoted.id": "77"})
    path = write_table(tmp_path / "twarc.csv", [edited, retweet, reply])
    result, summary = ingest(tmp_path / "tw.duckdb", str(path))
    assert summary["ingested"] == 3 and summary["rejected"] == 0
    assert summary["notes"] == {}
    got = posts(tmp_path / "tw.duckdb")
    post = got[first_version]
    assert (post["version_id"], post["created_at"]) == (edited["id"], base)
    assert post["text"] == "synthetic line one\nline two #Synth"
    assert (post["hashtags"], post["mentions"]) == (["Synth"], ["synth_b"])
    assert (post["author_followers"], post["author_verified"], post["like_count"]) == (12, False, 4)
    assert post["collected_at"] == datetime(2022, 10, 3, 18, 0, 12)
    assert (got[retweet["id"]]["kind"], got[retweet["id"]]["reposted_post_id"]) == ("repost", "55")
    replied = got[reply["id"]]
    assert (replied["kind"], replied["reply_to_post_id"], replied["quoted_post_id"], replied["reply_to_author_id"]) \
        == ("reply", "66", "77", "202")


def test_real_twarc_csv_output(tmp_path, shared_data, monkeypatch):
    """twarc-csv (the bench extra) converts real twarc2 output; every converted row becomes one post."""
    twarc_csv = pytest.importorskip("twarc_csv", reason="twarc-csv (pip install '.[bench]') is not installed")
    import pandas

    monkeypatch.setattr(pandas.DataFrame, "applymap", pandas.DataFrame.map, raising=False)  # twarc-csv 0.7 on pandas 3
    out = tmp_path / "2sets.csv"
    result = CliRunner().invoke(twarc_csv.csv, [str(shared_data / "twarc2-v2-testdata" / "2sets.jsonl"), str(out)])
    assert result.exit_code == 0, result.output
    with open(out, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    kinds = {r["id"]: "repost" if r["referenced_tweets.retweeted.id"] else "reply" if r["referenced_tweets.replied_to.id"]
             else "quote" if r["referenced_tweets.quoted.id"] else "original" for r in rows}
    _, summary = ingest(tmp_path / "r.duckdb", str(out))
    assert (summary["ingested"], summary["rejected"]) == (len(kinds), 0)
    got = posts(tmp_path / "r.duckdb")
    assert {p["version_id"]: p["kind"] for p in got.values()} == kinds


# ---- flattened v1.1 (twitter-v1-csv) ----

def test_v1_csv_with_python_literal_and_json_cells(tmp_path):
    original_at, retweet_at, reply_at = datetime(2017, 11, 1, 9), datetime(2017, 11, 1, 10), datetime(2017, 11, 1, 11)
    original_id, retweet_id, reply_id = snowflake(original_at), snowflake(retweet_at), snowflake(reply_at)
    parent_id = snowflake(datetime(2017, 11, 1, 10, 59), 5)
    user = {"id": 11, "id_str": "11", "screen_name": "synth_a", "name": "Synthetic A", "followers_count": 5,
            "friends_count": 6, "verified": False}
    original = {"id": int(original_id), "id_str": original_id, "created_at": "Wed Nov 01 09:00:00 +0000 2017",
                "text": "synthetic original #Synth", "user": {**user, "id": 22, "id_str": "22"},
                "entities": {"hashtags": [{"text": "Synth", "indices": [19, 25]}], "user_mentions": [], "urls": []},
                "favorite_count": 3, "retweet_count": 1, "truncated": False, "in_reply_to_status_id": None}
    base = {"created_at": "", "text": "", "user": repr(user), "retweeted_status": "", "in_reply_to_status_id": "",
            "in_reply_to_status_id_str": "", "in_reply_to_user_id": "", "in_reply_to_user_id_str": "",
            "favorite_count": "0", "retweet_count": "0", "truncated": "False", "is_quote_status": "False"}
    rows = [
        {**base, "id": retweet_id, "id_str": retweet_id, "created_at": "Wed Nov 01 10:00:00 +0000 2017",
         "text": "RT @synth_a: synthetic original #Synth", "retweeted_status": repr(original),
         "entities": json.dumps({"hashtags": [{"text": "Synth"}], "user_mentions": [{"screen_name": "synth_a"}]})},
        {**base, "id": reply_id, "id_str": reply_id, "created_at": "Wed Nov 01 11:00:00 +0000 2017",
         "text": "@synth_b synthetic reply", "in_reply_to_status_id": f"{float(parent_id):.15e}",
         "in_reply_to_status_id_str": parent_id, "in_reply_to_user_id": "33.0", "in_reply_to_user_id_str": "33",
         "entities": repr({"hashtags": [], "user_mentions": [{"screen_name": "synth_b"}], "urls": []}),
         "favorite_count": "7"},
    ]
    path = write_table(tmp_path / "v1.csv", rows)
    result, summary = ingest(tmp_path / "v1.duckdb", str(path))
    assert (summary["ingested"], summary["referenced"], summary["rejected"]) == (2, 1, 0), result.stderr
    got = posts(tmp_path / "v1.duckdb")
    assert (got[retweet_id]["kind"], got[retweet_id]["reposted_post_id"]) == ("repost", original_id)
    assert (got[original_id]["collected"], got[original_id]["hashtags"]) == (False, ["Synth"])
    assert got[original_id]["author_followers"] == 5
    reply = got[reply_id]
    assert (reply["kind"], reply["reply_to_post_id"], reply["reply_to_author_id"]) == ("reply", parent_id, "33")
    assert (reply["like_count"], reply["created_at"], reply["mentions"]) == (7, reply_at, ["synth_b"])


def datacamp_truth(folder: Path) -> tuple[set[str], set[str]]:
    """Collected ids, and ids known only as embedded retweeted/quoted tweets, read with csv and ast."""
    collected: set[str] = set()
    embedded: set[str] = set()
    for name in ("tweets1.csv", "tweets2.csv"):
        with open(folder / name, newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                collected.add(row["id_str"])
                for column in ("retweeted_status", "quoted_status"):
                    if row[column]:
                        inner = ast.literal_eval(row[column])
                        embedded.add(inner["id_str"])
                        if "quoted_status" in inner:
                            embedded.add(inner["quoted_status"]["id_str"])
    return collected, embedded - collected


def test_datacamp_csvs(tmp_path, shared_data):
    folder = shared_data / "metoo-datacamp-2017"
    collected, referenced = datacamp_truth(folder)
    result, summary = ingest(tmp_path / "dc.duckdb", str(folder))
    assert summary["rejected"] == 0
    assert (summary["ingested"], summary["referenced"]) == (len(collected), len(referenced)) == (171, 90)
    got = posts(tmp_path / "dc.duckdb")
    assert {i for i, p in got.items() if p["collected"]} == collected
    # A reply whose in_reply_to_status_id column is a float that lost its last digits.
    reply = got["926911797885657088"]
    assert (reply["kind"], reply["reply_to_post_id"], reply["reply_to_author_id"]) == \
        ("reply", "926909897970556928", "20044868")
    assert reply["created_at"].replace(microsecond=0) == datetime(2017, 11, 4, 20, 39, 28)
    retweet = got["926007858642214912"]
    assert (retweet["kind"], retweet["reposted_post_id"]) == ("repost", "926007588604579840")
    assert got["926007588604579840"]["collected"] is False
    quote = got["924937883110334464"]
    assert (quote["kind"], quote["quoted_post_id"]) == ("quote", "924736128816525312")


# ---- sniffing ----

def test_sniff_accepts_flat_preset_rows_and_refuses_api_payloads():
    flat = gotweets_record(datetime(2017, 10, 15, 12), "synthetic")
    twarc = twarc_row(datetime(2022, 10, 3), 0)
    v1_row = {"id": "1", "id_str": "1", "created_at": "x", "text": "synthetic", "user": "{'id': 1}"}
    assert table.sniff(flat) and table.sniff(twarc) and table.sniff(v1_row)
    v1_tweet = {**v1_row, "user": {"id": 1, "id_str": "1"}}
    v2_flat = {"id": "1", "text": "synthetic", "author_id": "2", "created_at": "2022-10-03T00:00:00Z",
               "author": {"id": "2", "username": "synth"}, "public_metrics": {"like_count": 1}}
    jetstream = {"did": "did:plc:synth", "time_us": 1, "kind": "commit", "commit": {"collection": "app.bsky.feed.post"}}
    mastodon = {"id": "1", "uri": "https://example.invalid/1", "content": "<p>synthetic</p>", "created_at": "x",
                "account": {"id": "2", "acct": "synth"}, "tags": []}
    unknown = {"a": "1", "b": "2"}
    assert not any(table.sniff(r) for r in (v1_tweet, v2_flat, jetstream, mastodon, unknown, [flat], "text"))
