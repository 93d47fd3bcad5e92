"""groundswell estimate: each estimator against a hand computation, and the command on
simulated partial collections (with their truth) and on the real aurora848 scrape."""

from __future__ import annotations

import gzip
import json
import math
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from groundswell.analysis.estimation import capture, gaps, limits, sampling
from groundswell.cli import main

STREAM_SAMPLE = "metoo-stream-2017-lama/metoo.json"


def run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def estimate(db: Path, *extra: str) -> dict:
    return json.loads(run("estimate", "--db", str(db), "--json", *extra))


# --- each estimator by hand ---------------------------------------------------------

def test_chapman_on_a_small_table():
    # 50 and 40 posts, 20 in both: N = 51*41/21 - 1, Var = 51*41*30*20 / (21^2 * 22).
    est = capture.chapman(50, 40, 20)
    assert est.seen == 70
    assert est.estimate == pytest.approx(2091 / 21 - 1)
    variance = 51 * 41 * 30 * 20 / (21**2 * 22)
    unseen = 2091 / 21 - 1 - 70
    c = math.exp(1.959964 * math.sqrt(math.log(1 + variance / unseen**2)))
    assert (est.low, est.high) == (pytest.approx(70 + unseen / c, rel=1e-5), pytest.approx(70 + unseen * c, rel=1e-5))
    assert capture.from_histories({("a",): 30, ("b",): 20, ("a", "b"): 20}).estimate == est.estimate


def test_darroch_solves_its_equation_and_equals_lincoln_petersen_for_two():
    assert capture.darroch([50, 40], 70).estimate == pytest.approx(50 * 40 / 20, rel=1e-6)
    sizes, seen = [30, 40, 50], 90
    n = capture.darroch(sizes, seen).estimate
    assert 1 - seen / n == pytest.approx((1 - 30 / n) * (1 - 40 / n) * (1 - 50 / n), rel=1e-9)


def test_limit_increments_across_a_reset():
    at = [datetime(2017, 10, 16, 12, m) for m in range(5)]
    # One connection: 10, 25, then a reconnect (the counter restarts), 4, 20; a repeated 20 adds nothing.
    found = limits.increments([(10, at[0]), (25, at[1]), (4, at[2]), (20, at[3]), (20, at[4])])
    assert [n for _, n in found.at] == [10, 15, 4, 16]
    assert found.total == 25 + 20 and len(found.counters) == 2
    # Two shards interleaved on one connection keep their own counters.
    shards = limits.increments([(100, at[0]), (90, at[1]), (130, at[2]), (95, at[3])])
    assert shards.total == 130 + 95 and len(shards.counters) == 2


def test_binomial_interval_for_a_known_sampling_rate():
    n, p = 5, 0.5

    def tail_at_least(trials: int) -> float:
        return sum(math.comb(trials, k) * p**k * (1 - p) ** (trials - k) for k in range(n, trials + 1))

    def tail_at_most(trials: int) -> float:
        return sum(math.comb(trials, k) * p**k * (1 - p) ** (trials - k) for k in range(0, n + 1))

    low = min(t for t in range(n, 60) if tail_at_least(t) >= 0.025)
    high = max(t for t in range(n, 60) if tail_at_most(t) >= 0.025)
    est = sampling.scale_count(n, p)
    assert (est.estimate, est.low, est.high) == (10, low, high)


def test_wilson_and_the_bernoulli_people_bound():
    share, low, high = sampling.wilson(1, 10)
    assert (round(low, 4), round(high, 4)) == (0.0179, 0.4042) and share == 0.1
    people = sampling.unseen_people(seen=150, f1=120, f2=20, p=0.01)
    assert people.estimate == pytest.approx(150 + 120**2 / (2 * 20 + 120 * 0.01 / 0.99))
    assert people.low >= 150


def test_a_level_gap_is_filled_from_both_sides():
    first = date(2017, 11, 1)
    series = {first + timedelta(days=i): 1000 + 10 * (i % 3) for i in range(15) if i != 7}
    assert gaps.find_gaps(series) == [(first + timedelta(days=7), 1)]
    fit = gaps.fill(series, first + timedelta(days=7), 1)
    assert fit.model.startswith("level") and fit.total[1] < 1010 < fit.total[2]
    assert gaps.fill(series, first + timedelta(days=1), 1) is None  # one day before it: too few


# --- the command on simulated partial collections -----------------------------------

def simulated(tmp_path: Path, kind: str, *extra: str) -> tuple[Path, dict]:
    folder = tmp_path / kind
    run("simulate", str(folder), "--partial", kind, "--posts", "2500", "--seed", "3", *extra)
    return folder, json.loads((folder / "truth.json").read_text())


def test_stream_limit_notices_are_stored_and_estimate_the_missed(tmp_path: Path):
    folder, truth = simulated(tmp_path, "stream")
    lines = [json.loads(line) for f in truth["files"] for line in (folder / f).read_text().splitlines()]
    notices = [r for r in lines if "limit" in r]
    resets = sum(1 for a, b in zip(notices, notices[1:]) if b["limit"]["track"] < a["limit"]["track"])
    db = tmp_path / "s.duckdb"
    run("ingest", str(folder / truth["files"][0]), "--db", str(db))
    figures = estimate(db, "--movement", "metoo")
    method = figures["methods"]["limit_notices"]
    assert method["used"] and method["notices"] == len(notices) and method["counters"] == resets + 1
    head = figures["headline"]["posts"]
    assert head["observed"] == sum(1 for r in lines if "user" in r and r["entities"]["hashtags"][0]["text"] == "MeToo")
    assert head["method"].startswith("stream limit notices")
    assert head["low"] <= truth["true_movement_posts"] <= head["high"]
    assert figures["headline"]["distinct_people"]["estimated"] == "unknown"


def test_three_overlapping_collections(tmp_path: Path):
    folder, truth = simulated(tmp_path, "overlap", "--collections", "3")
    db = tmp_path / "o.duckdb"
    ids: list[set[str]] = []
    for name in truth["files"]:
        run("ingest", str(folder / name), "--db", str(db), "--collection", name[:-6])
        ids.append({json.loads(line)["id_str"] for line in (folder / name).read_text().splitlines()})
    figures = estimate(db, "--movement", "metoo")
    method = figures["methods"]["capture_recapture"]
    assert method["used"] and "Darroch" in method["posts"]["method"]
    # The overlap the estimate rests on: the posts all three saw, counted here with plain sets.
    everyone = [row for row in method["overlap"] if len(row["collections"]) == 3]
    movement_ids = set.intersection(*ids)  # every simulated post carries #MeToo or #Weather
    assert everyone and everyone[0]["posts"] <= len(movement_ids)
    head = figures["headline"]["posts"]
    assert head["low"] <= truth["true_movement_posts"] <= head["high"]


def test_known_sampling_rate(tmp_path: Path):
    folder, truth = simulated(tmp_path, "sample")
    db = tmp_path / "sa.duckdb"
    run("ingest", str(folder / truth["files"][0]), "--db", str(db))
    figures = estimate(db, "--movement", "metoo", "--sample-rate", "0.01")
    head = figures["headline"]["posts"]
    assert head["estimated"] == pytest.approx(head["observed"] / 0.01)
    assert head["low"] <= truth["true_movement_posts"] <= head["high"]
    assert "Bernoulli" in figures["headline"]["distinct_people"]["method"]


def test_scrape_with_the_week_after_the_onset_missing(tmp_path: Path):
    folder, truth = simulated(tmp_path, "scrape")
    db = tmp_path / "sc.duckdb"
    run("ingest", str(folder), "--db", str(db))
    figures = estimate(db, "--movement", "metoo")
    days = {row["day"]: row for row in figures["per_day"]}
    assert [d for d, row in days.items() if row["observed_posts"] == 0] == truth["missing_days"]
    assert all(days[d]["estimated"] and days[d]["low"] <= days[d]["estimated_posts"] <= days[d]["high"]
               for d in truth["missing_days"])
    (gap,) = figures["methods"]["collection_gaps"]["gaps"]
    assert gap["model"].startswith("burst") and gap["days"] == 7
    assert gap["posts"]["low"] <= truth["true_missing_posts"] <= gap["posts"]["high"]


# --- unknown is not zero -------------------------------------------------------------

def test_people_unknown_without_author_and_by_handle_with_screen_names(tmp_path: Path):
    # Synthetic tables in the shape of old CSV exports: one with only a screen-name column, one without authors.
    rows = [("1", "2017-10-15T12:00:00Z", "[synthetic] one #MeToo", "synthetic_a"),
            ("2", "2017-10-15T13:00:00Z", "[synthetic] two #MeToo", "synthetic_a"),
            ("3", "2017-10-15T14:00:00Z", "[synthetic] three #MeToo", "synthetic_b")]
    with_handles, without = tmp_path / "handles.csv", tmp_path / "anonymous.csv"
    with_handles.write_text("id,created_at,text,user_screen_name\n" + "".join(",".join(r) + "\n" for r in rows))
    without.write_text("id,created_at,text\n" + "".join(",".join(r[:3]) + "\n" for r in rows))
    maps = ["--map", "post_id=id", "--map", "created_at=created_at", "--map", "text=text"]
    run("ingest", str(with_handles), "--db", str(tmp_path / "h.duckdb"), *maps, "--map", "author_handle=user_screen_name")
    run("ingest", str(without), "--db", str(tmp_path / "n.duckdb"), *maps)
    by_handle = estimate(tmp_path / "h.duckdb", "--movement", "metoo")
    assert by_handle["people_basis"] == "handle" and by_handle["observed"]["distinct_people"] == len({r[3] for r in rows})
    anonymous = estimate(tmp_path / "n.duckdb", "--movement", "metoo")
    assert anonymous["observed"]["distinct_people"] == "unknown" and anonymous["people_basis"] is None
    reasons = {u["figure"]: u["reason"] for u in anonymous["unknown"]}
    assert "author id or handle" in reasons["distinct_people"] and "follower" in reasons["followers"]
    text = run("estimate", "--db", str(tmp_path / "n.duckdb"), "--movement", "metoo")
    assert "unknown" in text and "observed 0" not in text


# --- real data -----------------------------------------------------------------------

def test_shared_stream_sample_limit_notices_are_counted(shared_data: Path, tmp_path: Path):
    path = shared_data / STREAM_SAMPLE
    expected = sum(1 for line in path.read_text(encoding="utf-8").splitlines()
                   if line.strip() and set(json.loads(line)) == {"limit"})
    db = tmp_path / "lama.duckdb"
    run("ingest", str(path), "--db", str(db))
    figures = estimate(db)
    assert expected == 0  # this sample was written before the stream hit its limit
    assert figures["methods"]["limit_notices"]["used"] is False
    assert "no stream limit notices" in figures["methods"]["limit_notices"]["reason"]


def test_aurora848_reports_the_missing_week_as_estimated(aurora_store: Path):
    files = {p.name[:10] for p in (Path(__file__).resolve().parents[1].parent / "shared/data/metoo-getoldtweets-aurora848").glob("*.jsonl.gz")}
    everything = estimate(aurora_store)
    days = {row["day"]: row for row in everything["per_day"]}
    assert (days["2017-10-14"]["observed_posts"], days["2017-10-15"]["observed_posts"],
            days["2017-10-23"]["observed_posts"]) == (38, 13666, 12868)  # the data README's reference figures
    assert {d for d, row in days.items() if row["observed_posts"]} <= files
    figures = estimate(aurora_store, "--movement", "metoo")
    days = {row["day"]: row for row in figures["per_day"]}
    week = [f"2017-10-{d}" for d in range(16, 23)]
    assert not any(day in files for day in week)
    for day in week:
        row = days[day]
        assert row["observed_posts"] == 0 and row["estimated"]
        assert 0 < row["low"] <= row["estimated_posts"] <= row["high"]
        assert row["method"].startswith("collection gap: burst")
    head = figures["headline"]["posts"]
    assert head["method"] == "collection gaps filled" and head["low"] < head["estimated"] < head["high"]
    assert figures["headline"]["distinct_people"]["estimated"] == "unknown"


# --- the report ----------------------------------------------------------------------

def test_report_headline_shows_the_estimate_only_where_one_exists(tmp_path: Path):
    from test_report import Page

    folder, truth = simulated(tmp_path, "overlap")
    db, plain = tmp_path / "o.duckdb", tmp_path / "plain.duckdb"
    for name in truth["files"]:
        run("ingest", str(folder / name), "--db", str(db), "--collection", name[:-6])
    run("ingest", str(folder / truth["files"][0]), "--db", str(plain))  # one collection: nothing to estimate
    for store, estimated in ((db, True), (plain, False)):
        out = tmp_path / f"{store.stem}.html"
        run("report", "--db", str(store), "--movement", "metoo", "--out", str(out))
        page = Page(out.read_text(encoding="utf-8"))
        (lede,) = page.find(data_figure="how_big.headline.posts")
        (headline,) = page.find(data_figure="how_big.posts")
        figures = estimate(store, "--movement", "metoo")["headline"]["posts"]
        observed = f"observed {figures['observed']:,.0f}"
        for text in (lede["text"], headline["text"]):
            if estimated:
                assert text.startswith(observed + f", estimated {round(figures['estimated']):,} (95% interval ")
            else:
                assert text == observed
        assert bool(page.find("table", id="how-big-overlap")) is estimated


def test_forget_removes_a_post_from_its_collections(tmp_path: Path):
    folder, truth = simulated(tmp_path, "sample")
    db = tmp_path / "f.duckdb"
    run("ingest", str(folder / truth["files"][0]), "--db", str(db), "--collection", "only")
    first = json.loads((folder / truth["files"][0]).read_text().splitlines()[0])["id_str"]
    (tmp_path / "ids.txt").write_text(first + "\n")
    import duckdb

    def members() -> set[str]:
        with duckdb.connect(str(db), read_only=True) as con:
            return {row[0] for row in con.execute("SELECT post_id FROM collection_posts").fetchall()}

    assert first in members()
    run("forget", "--db", str(db), "--ids", str(tmp_path / "ids.txt"))
    assert first not in members() and len(members()) == len((folder / truth["files"][0]).read_text().splitlines()) - 1


def test_the_headline_adds_filled_gaps_to_the_preferred_method():
    from groundswell.analysis.estimation import _combine

    base = {"observed": 100.0, "estimated": 200.0, "low": 180.0, "high": 230.0, "method": "m"}
    gaps_used = {"used": True, "posts": {"estimated": 10.0, "low": 5.0, "high": 20.0}}
    # The gap was filled from observed days, so it scales by the method's estimated/observed (2).
    assert _combine([base], gaps_used, "posts", 100) == {
        "observed": 100, "estimated": 220.0, "low": 190.0, "high": 270.0, "method": "m; collection gaps filled"}
    assert _combine([], gaps_used, "posts", 100)["estimated"] == 110.0
    assert _combine([], {"used": False}, "posts", 100) == {"observed": 100, "estimated": None, "method": None}
