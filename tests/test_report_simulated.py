"""The report on `groundswell simulate` output: its counts equal the simulator's ground truth
exactly, including duplicates removed, phrase-only posts, the gap, and who may be named.
Everything here is synthetic (the simulator marks every file it writes)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from groundswell.cli import main
from test_report import Page


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """`groundswell simulate` (v1.1), then `groundswell report` on its files, with the built-in
    metoo definition whose call to action is the simulated one (matching is unchanged)."""
    from importlib import resources

    folder = tmp_path_factory.mktemp("simulated")
    result = CliRunner().invoke(main, ["simulate", str(folder / "raw"), "--posts", "2500", "--seed", "11", "--json"])
    assert result.exit_code == 0, result.output
    truth = orjson.loads((folder / "raw" / "truth.json").read_bytes())
    text = (resources.files("groundswell.movement") / "builtin" / "metoo.toml").read_text(encoding="utf-8")
    call = truth["call_to_action"]["post_id"]
    lines = [f'call_to_action = ["twitter:{call}"]' if line.startswith("call_to_action") else line for line in text.splitlines()]
    (folder / "metoo-sim.toml").write_text("\n".join(lines) + "\n")
    out = folder / "report.html"
    files = [str(path) for path in sorted((folder / "raw").glob("synthetic-*"))]
    result = CliRunner().invoke(main, ["report", *files, "--db", str(folder / "s.duckdb"), "--movement",
                                       str(folder / "metoo-sim.toml"), "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    without_call = [line for line in text.splitlines() if not line.startswith("call_to_action")]
    (folder / "metoo-no-call.toml").write_text("\n".join(without_call) + "\n")
    return {"truth": truth, "report": orjson.loads(result.stdout)["report"], "html": out.read_text(), "folder": folder}


def test_simulated_counts_equal_the_ground_truth(simulated):
    truth, report = simulated["truth"], simulated["report"]
    matching, coverage = truth["matching"], report["coverage"]
    assert report["headline"]["posts"] == matching["matched"]["posts"]
    assert report["headline"]["distinct_authors"] == matching["matched"]["distinct_authors"]
    assert report["hashtag_vs_phrase"]["totals"] == {k: matching[k]["posts"] for k in ("hashtag_only", "phrase_only", "both")}
    assert coverage["store"]["collected"] == truth["collected_posts"]
    assert coverage["not_matched"] == matching["unmatched"]["posts"]
    assert coverage["runs"]["duplicate_total"] == truth["duplicates"]
    assert coverage["quarantine"]["records"] == truth["broken_lines"]
    assert coverage["store"]["referenced_only"] == truth["referenced_only_posts"]
    families = {f["label"]: f["posts"] for f in report["families"]["families"] if f["posts"]}
    assert families == {label: f["posts"] for label, f in matching["by_family"].items() if f["posts"]}
    page = Page(simulated["html"])
    assert page.figure("phrase_only") == matching["phrase_only"]["posts"]
    assert page.figure("duplicates") == truth["duplicates"]


def test_simulated_start_first_day_and_hours_equal_the_ground_truth(simulated):
    truth, report = simulated["truth"], simulated["report"]
    start = report["headline"]["start"]
    assert start["method"] == "call_to_action"
    assert datetime.fromisoformat(start["at"].rstrip("Z")) == datetime.fromisoformat(truth["true_start"].rstrip("Z"))
    assert report["headline"]["first_24h"]["posts"] == truth["first_24_hours"]["matched"]
    series = {row["t"]: row["posts"] for row in report["volume"]["series"]}
    expected = {hour[:16]: n for hour, n in truth["per_hour_matched"].items()}
    assert sum(expected.values()) == sum(series.values())
    assert all(series.get(t, 0) == expected.get(t, 0) for t in {*series, *expected})


def test_simulated_gap_is_flagged_exactly(simulated):
    truth, gaps = simulated["truth"], simulated["report"]["coverage"]["gaps"]
    gap = truth["gap"]
    first = datetime.fromisoformat(gap["start"].rstrip("Z"))
    last = datetime.fromisoformat(gap["end"].rstrip("Z")) - timedelta(hours=1)
    assert [(g["start"], g["end"], g["hours"]) for g in gaps["hours"]] == [
        (first.isoformat(timespec="minutes"), last.isoformat(timespec="minutes"), gap["hours"])]
    assert gaps["empty_hours"] == len(truth["empty_hours"])
    page = Page(simulated["html"])
    assert [e["attrs"]["data-start"] for e in page.find("li", **{"class": "gap"})] == [first.isoformat(timespec="minutes")]


def test_simulated_notable_accounts_are_named_and_others_are_not(simulated):
    truth, report = simulated["truth"], simulated["report"]
    notable = {"@" + account["handle"] for account in truth["notable_accounts"]}
    named = [row["label"] for row in report["most_followed"] if row["notable"]]
    assert named and set(named) <= notable
    assert report["most_followed"][0]["label"] == "@" + truth["call_to_action"]["author_handle"]
    for row in report["most_engaged"] + report["most_followed"]:
        assert row["notable"] == (row["label"] in notable)


def test_without_a_call_to_action_the_start_is_the_first_burst(simulated):
    folder = simulated["folder"]
    result = CliRunner().invoke(main, ["stats", "--db", str(folder / "s.duckdb"), "--movement",
                                       str(folder / "metoo-no-call.toml"), "--report", "--json"])
    assert result.exit_code == 0, result.output
    start = orjson.loads(result.stdout)["report"]["headline"]["start"]
    assert start == {"at": simulated["truth"]["burst_onset_hour"], "method": "first_burst", "post": None,
                     "set_aside": None}
