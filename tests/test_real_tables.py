"""Tables as users bring them: recognised layouts, kinds, honest unknowns, exit codes, re-runs.

Every table is SYNTHETIC (tests/synthetic_tables.py), in the shapes of real exports: twarc 1's
CSV, plain scrapes, a person's retweets saved through pandas, processed Bluesky exports, and
the same as flat JSON. Truths (ids, kinds, times) come from the writers, not from groundswell.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pytest
from click.testing import CliRunner

import synthetic_tables as S
from groundswell.cli import main

SHAPES = {
    "twarc-v1": (S.twarc_v1_csv, "twarc-v1-csv"),
    "twarc-v1-short": (S.issue_twarc_v1_csv, "twarc-v1-csv"),
    "scrape-upper": (lambda d: S.plain_scrape(d, style="upper"), "plain table"),
    "scrape-lower": (lambda d: S.plain_scrape(d, style="lower"), "plain table"),
    "scrape-mixed": (lambda d: S.plain_scrape(d, style="mixed"), "plain table"),
    "person-retweets": (S.person_retweets, "plain table"),
    "bluesky-created_at": (S.bluesky_export, "bluesky-table"),
    "bluesky-createdAt": (lambda d: S.bluesky_export(d, created="createdAt"), "bluesky-table"),
    "bluesky-json-array": (S.bluesky_json_array, "bluesky-table"),
    "scrape-jsonl": (S.scrape_jsonl, "plain table"),
}


def run(*args: str) -> Any:
    return CliRunner().invoke(main, list(args))


def ingest(db: Path, *args: str) -> tuple[Any, dict[str, Any] | None]:
    result = run("ingest", *args, "--db", str(db), "--json", "--workers", "1")
    return result, json.loads(result.stdout) if result.stdout.strip() else None


def stored(db: Path) -> dict[str, dict[str, Any]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        cursor = con.execute("SELECT * FROM posts WHERE collected")
        names = [d[0] for d in cursor.description]
        return {row[names.index("post_id")]: dict(zip(names, row)) for row in cursor.fetchall()}
    finally:
        con.close()


def quarantined(db: Path) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT source_file, source_line, reason FROM quarantine ORDER BY 1, 2").fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module", params=sorted(SHAPES))
def shape(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp(request.param)
    writer, layout = SHAPES[request.param]
    path, truth = writer(folder)
    db = folder / "t.duckdb"
    result, summary = ingest(db, str(path))
    return {"name": request.param, "path": path, "truth": truth, "layout": layout, "db": db,
            "result": result, "summary": summary}


def test_each_shape_ingests_with_its_layout_and_no_map(shape):
    assert shape["result"].exit_code == 0, shape["result"].stderr
    summary = shape["summary"]
    assert summary["layouts"] == {str(shape["path"]): shape["layout"]}
    assert f"note: {shape['path']}: read as" in shape["result"].stderr  # the choice is printed
    assert (summary["ingested"], summary["rejected"]) == (len(shape["truth"].ids), 0)


def test_each_shape_keeps_ids_kinds_and_times(shape):
    posts = stored(shape["db"])
    truth = shape["truth"]
    assert sorted(posts) == sorted(truth.ids)
    assert {pid: p["kind"] for pid, p in posts.items()} == truth.kinds
    assert {pid: p["created_at"] for pid, p in posts.items()} == truth.times


def test_each_shape_gets_a_report_and_trends_with_honest_unknowns(shape, tmp_path):
    out = tmp_path / "r.html"
    report = run("report", "--db", str(shape["db"]), "--movement", "metoo", "--out", str(out), "--json")
    assert report.exit_code == 0, report.output
    head = orjson.loads(report.stdout)["report"]["headline"]
    trends = run("trends", "--db", str(shape["db"]), "--movement", "metoo", "--json")
    assert trends.exit_code == 0, trends.output
    assert orjson.loads(trends.stdout)["range"]["buckets"] > 0
    authors = shape["truth"].authors
    if authors:
        assert head["people"]["known"] and head["distinct_authors"] == len(authors)
    else:  # no author column at all: unknown, with the reason, never 0
        assert head["people"] == {"known": False, "counted_by": None, "posts_without_author": len(shape["truth"].ids),
                                  "lower_bound": False, "reason": "no author id or handle column was read for these posts"}
        assert head["distinct_authors"] is None
        assert "unknown" in out.read_text()


def test_handles_only_count_people_by_handle_and_say_so(tmp_path):
    path, truth = S.issue_twarc_v1_csv(tmp_path)
    db = tmp_path / "h.duckdb"
    result, summary = ingest(db, str(path))
    assert summary["notes"]["authors_keyed_by_handle"] == len(truth.ids)
    stats = orjson.loads(run("stats", "--db", str(db), "--json").stdout)
    assert stats["distinct_authors"] == len(truth.authors) == 7
    assert stats["people"]["counted_by"] == "handle"
    report = run("report", "--db", str(db), "--movement", "metoo", "--out", str(tmp_path / "r.html"))
    assert report.exit_code == 0 and "distinct people, counted by handle" in report.stdout.replace("\n", " ")


def test_a_table_matching_no_layout_fails_at_once_in_one_line(tmp_path):
    path = S.unknown_table(tmp_path)
    db = tmp_path / "u.duckdb"
    began = time.monotonic()
    result, summary = ingest(db, str(path))
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "match no known layout" in lines[0] and "--map post_id=COLUMN" in lines[0]
    assert "`a`, `b`, `c`" in lines[0]
    assert summary["read"] == 0 and summary["rejected"] == 0  # no row was read, so none was rejected
    assert quarantined(db) == []
    assert time.monotonic() - began < 30  # a header check, not 500 rejections (generous for a loaded machine)


def test_flat_json_records_with_no_layout_are_called_a_table(tmp_path):
    path = tmp_path / "odd.jsonl"
    path.write_text("".join(json.dumps({"k": i, "v": f"synthetic {i}"}) + "\n" for i in range(5)))
    result, _ = ingest(tmp_path / "j.duckdb", str(path))
    assert result.exit_code == 1
    assert "flat JSON records (a table)" in result.stderr and "--map" in result.stderr


def test_an_ambiguous_header_shows_the_proposal_and_the_command_that_accepts_it(tmp_path):
    path = S.ambiguous_table(tmp_path)
    db = tmp_path / "a.duckdb"
    result, summary = ingest(db, str(path))
    assert result.exit_code == 1 and summary["ingested"] == 0
    message = result.stderr
    assert "post_id from `id` or `tweet_id`" in message
    command = message.split("To accept it: ")[1].strip()
    assert command.startswith(f"groundswell ingest {path} --map post_id=id")
    accepted, summary = ingest(db, *command.split()[2:])
    assert accepted.exit_code == 0 and summary["ingested"] == 20
    assert summary["layouts"] == {str(path): "mapping"} or summary["layouts"] == {str(path): "plain table"}


def test_a_file_with_no_readable_record_exits_1_is_not_marked_and_its_rejections_go_with_the_fix(tmp_path):
    path, truth = S.plain_scrape(tmp_path, 25)
    lines = path.read_text().splitlines()  # an empty column, the one a wrong --map will name
    path.write_text("\n".join([lines[0] + ",Ref"] + [line + "," for line in lines[1:]]) + "\n")
    db = tmp_path / "r.duckdb"
    wrong, summary = ingest(db, str(path), "--map", "post_id=Ref", "--map", "text=Tweet_text")
    assert wrong.exit_code == 1
    assert summary["rejected"] == 25 and summary["ingested"] == 0
    assert "none of its 25 records could be read" in wrong.stderr
    assert len(quarantined(db)) == 25
    fixed, summary = ingest(db, str(path))  # no --force: the failed read did not mark the file
    assert fixed.exit_code == 0, fixed.stderr
    assert summary["files_already_ingested"] == 0 and summary["ingested"] == 25
    assert quarantined(db) == []  # the stale rejections of the wrong read are gone
    again, summary = ingest(db, str(path))
    assert again.exit_code == 0 and summary["files_already_ingested"] == 1 and summary["ingested"] == 0


def test_a_mapping_to_a_missing_column_fails_before_any_row(tmp_path):
    path, _ = S.plain_scrape(tmp_path, 5)
    result, summary = ingest(tmp_path / "m.duckdb", str(path), "--map", "post_id=tweetid")
    assert result.exit_code == 1 and summary["read"] == 0
    assert "--map post_id=tweetid: the table has no column `tweetid`" in result.stderr


def test_partly_rejected_files_still_exit_0_and_keep_their_rejections(tmp_path):
    path, truth = S.plain_scrape(tmp_path, 10)
    text = path.read_text().splitlines()
    text[3] = "," + text[3].split(",", 1)[1]  # one row without its id
    path.write_text("\n".join(text) + "\n")
    db = tmp_path / "p.duckdb"
    result, summary = ingest(db, str(path))
    assert result.exit_code == 0 and (summary["ingested"], summary["rejected"]) == (9, 1)
    assert [(line, reason.startswith("no post id")) for _, line, reason in quarantined(db)] == [(4, True)]


def test_kind_inferences_are_counted_and_switchable(tmp_path):
    path, truth = S.person_retweets(tmp_path)
    reposts = sum(kind == "repost" for kind in truth.kinds.values())
    replies = sum(kind == "reply" for kind in truth.kinds.values())
    _, summary = ingest(tmp_path / "on.duckdb", str(path))
    assert summary["notes"]["kind_inferred_repost_from_rt_prefix"] == reposts == 20
    assert summary["notes"]["kind_inferred_reply_from_reply_column"] == replies == 10
    off, summary = ingest(tmp_path / "off.duckdb", str(path), "--no-infer-kinds")
    assert off.exit_code == 0
    assert not any(key.startswith("kind_inferred") for key in summary["notes"])
    assert {p["kind"] for p in stored(tmp_path / "off.duckdb").values()} == {"original"}


def test_a_repost_column_rules_out_the_rt_guess(tmp_path):
    path, truth = S.issue_twarc_v1_csv(tmp_path)
    _, summary = ingest(tmp_path / "k.duckdb", str(path))
    assert "kind_inferred_repost_from_rt_prefix" not in summary["notes"]  # retweet_id says it
    assert sum(p["reposted_post_id"] is not None for p in stored(tmp_path / "k.duckdb").values()) == 10


def test_float_corrupted_reference_ids_name_the_cause(tmp_path):
    path, _ = S.person_retweets(tmp_path)
    result, summary = ingest(tmp_path / "f.duckdb", str(path))
    warning = next(line for line in result.stderr.splitlines() if line.startswith("warning:") and "in_reply_to" in line)
    assert "saved as floating point by a spreadsheet or pandas" in warning
    assert "last digits are lost" in warning and "re-export that column as text" in warning
    assert summary["notes"]["table_unreadable_cells"] == 10


def test_float_corrupted_post_ids_are_rejected_with_the_cause(tmp_path):
    rows = [{"id": f"{1.0482364131064381e18 + i * 1e6!r}", "text": f"synthetic post {i}"} for i in range(3)]
    path = tmp_path / "floats.csv"
    path.write_text("id,text\n" + "".join(f"{r['id']},{r['text']}\n" for r in rows))
    result, summary = ingest(tmp_path / "fp.duckdb", str(path))
    assert result.exit_code == 1 and summary["rejected"] == 3
    assert "saved as floating point" in result.stderr


def test_the_start_is_the_first_burst_when_the_data_misses_the_call(tmp_path):
    path, truth = S.plain_scrape(tmp_path, 50)
    db = tmp_path / "s.duckdb"
    ingest(db, str(path))
    report = run("report", "--db", str(db), "--movement", "metoo", "--out", str(tmp_path / "r.html"), "--json")
    start = orjson.loads(report.stdout)["report"]["headline"]["start"]
    assert start["method"] == "first_burst"
    assert start["at"].startswith("2019-12-02")
    assert start["set_aside"]["post"] == "twitter:919659438700670976"
    assert "not used as the start" in (tmp_path / "r.html").read_text()


def test_export_without_a_movement_has_no_match_columns(tmp_path):
    path, _ = S.twarc_v1_csv(tmp_path)
    db = tmp_path / "e.duckdb"
    ingest(db, str(path))
    for what in ("volume", "posts"):
        out = tmp_path / f"{what}.json"
        assert run("export", "--db", str(db), "--what", what, "--format", "json", "--out", str(out)).exit_code == 0
        columns = set(orjson.loads(out.read_bytes())[0])
        assert not columns & {"hashtag_only", "phrase_only", "both", "by_hashtag", "by_phrase", "families"}
    out = tmp_path / "matched.json"
    run("export", "--db", str(db), "--what", "volume", "--format", "json", "--movement", "metoo", "--out", str(out))
    rows = orjson.loads(out.read_bytes())
    assert {"hashtag_only", "phrase_only", "both"} <= set(rows[0])
    assert sum(r["hashtag_only"] + r["phrase_only"] + r["both"] for r in rows) == sum(r["posts"] for r in rows)


def test_the_demo_shows_the_call_to_actions_cascade(tmp_path):
    """`make demo`'s path: simulate, ingest, report under the built-in metoo."""
    data, db = tmp_path / "demo-data", tmp_path / "demo.duckdb"
    assert run("simulate", str(data), "--format", "v1", "--posts", "2500").exit_code == 0
    truth = orjson.loads((data / "truth.json").read_bytes())
    assert truth["call_to_action"]["post_id"] == "919659438700670976"
    assert run("ingest", str(data / "synthetic-*"), "--db", str(db)).exit_code == 0
    report = run("report", "--db", str(db), "--movement", "metoo", "--out", str(tmp_path / "r.html"), "--json")
    cascade = orjson.loads(report.stdout)["report"]["spread"]["cascades"][0]
    assert cascade["post"] == "twitter:919659438700670976" and cascade["root"]["in_store"]
    assert cascade["size"] == truth["call_to_action"]["cascade"]["size"] > 1
    # the call keeps its own time: the id's time is the simulated call's millisecond
    assert cascade["root"]["created_at"] == truth["call_to_action"]["created_at"].replace("Z", "000Z")
