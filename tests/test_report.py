"""The magnitude report: figures against a store whose truth is known by construction, the HTML
parsed (never string-matched), escaping, privacy, time zones, and the real-data surge.

Everything written here is synthetic: invented handles (`synthetic_user_N`), invented texts
and an invented movement (#SynthToo). The real-data test reads ../shared/data at run time
and asserts only on counts and times checked independently (see test docstrings).
"""

from __future__ import annotations

import hashlib
import base64
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pytest
from click.testing import CliRunner

from groundswell.cli import main
from groundswell.model import ARROW_SCHEMA, new_post
from groundswell.movement.normalize import hashtag_key
from groundswell.store import Store
from groundswell.store.duckdb_store import Quarantined

START = datetime(2020, 3, 1, 12, 0, 0)
CALL_ID = "5000"
# Synthetic movement: two families, one phrase, a call to action among the fixture's posts.
MOVEMENT_TOML = f"""
name = "synthetic"
description = "an invented movement for tests"
call_to_action = ["twitter:{CALL_ID}"]
[[families]]
label = "core"
language = "en"
hashtags = ["SynthToo"]
[[families]]
label = "fr"
language = "fr"
hashtags = ["MoiSynth"]
[[phrases]]
label = "core"
language = "en"
patterns = ["synth too"]
"""
# Texts of notable accounts, shown in the report: markup, entities, right-to-left and emoji.
NOTABLE_TEXTS = {
    "n1": '[synthetic] <script>alert("x")</script> <img src=x onerror=alert(1)> #SynthToo',
    "n2": "[synthetic] &amp; &lt;b&gt;bold&lt;/b&gt; &#60;tag&#62; a&b #SynthToo",
    "n3": "[synthetic] \u05d2\u05dd \u05d0\u05e0\u05d9 \u0648\u0623\u0646\u0627 \u0623\u064a\u0636\u0627 \u202eRTL\u202c #SynthToo",
    "n4": "[synthetic] \U0001f469\u200d\U0001f469\u200d\U0001f467 \u270a\U0001f3fd \U0001f1eb\U0001f1f7 #SynthToo",
}
SECRET = "[synthetic] private words zq9x"
QUIET_GAP = (START + timedelta(hours=4), START + timedelta(hours=6))


@dataclass
class Truth:
    """What the fixture wrote, counted as it was written."""

    posts: int = 0
    authors: set[str] = field(default_factory=set)
    by_kind: dict[str, int] = field(default_factory=lambda: dict.fromkeys(("original", "repost", "reply", "quote"), 0))
    classes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(("hashtag_only", "phrase_only", "both"), 0))
    first_24h: int = 0
    times: list[datetime] = field(default_factory=list)
    private_handles: set[str] = field(default_factory=set)
    fr_posts: int = 0
    unmatched: int = 0


def _post(pid: int, moment: datetime | None, author: str, text: str, tags: list[str], kind: str = "original",
          followers: int = 10, verified: bool = False, likes: int = 0, collected: bool = True) -> dict[str, Any]:
    return new_post(
        platform="twitter", post_id=str(pid), author_id=f"id-{author}", author_handle=author,
        author_name=f"Name {author}", author_followers=followers, author_verified=verified, created_at=moment,
        time_source="source", text=text, kind=kind, hashtags=tags, hashtag_keys=[hashtag_key(t) for t in tags],
        like_count=likes, repost_count=0, collected=collected, version_id=str(pid),
        source_file="synthetic.jsonl", source_line=pid, source_format="twitter-v1",
    )


def _count(truth: Truth, post: dict[str, Any], cls: str) -> None:
    truth.posts += 1
    truth.authors.add(post["author_id"])
    truth.by_kind[post["kind"]] += 1
    truth.classes[cls] += 1
    if post["created_at"] is not None:
        truth.times.append(post["created_at"])
        if START <= post["created_at"] < START + timedelta(hours=24):
            truth.first_24h += 1


def _burst(posts: list[dict[str, Any]], truth: Truth) -> None:
    """1,200 posts by 300 people every 30 s from the start, none in QUIET_GAP: phrase-only,
    both, French-family and core posts in a fixed rotation, every kind in turn."""
    kinds = ("original", "repost", "reply", "quote")
    moment, i = START + timedelta(minutes=5), 0
    while i < 1200:
        moment += timedelta(seconds=30)
        if QUIET_GAP[0] <= moment < QUIET_GAP[1]:
            continue
        author = f"synthetic_user_{i % 300}"
        if i % 12 == 0:
            text, tags, cls = "[synthetic] I say synth too today", [], "phrase_only"
        elif i % 24 == 1:
            text, tags, cls = "[synthetic] synth too #SynthToo", ["SynthToo"], "both"
        elif i % 6 == 2:
            text, tags, cls = "[synthetic] #MoiSynth #Other", ["MoiSynth", "Other"], "hashtag_only"
            truth.fr_posts += 1
        else:
            text, tags, cls = "[synthetic] #SynthToo #Other", ["SynthToo", "Other"], "hashtag_only"
        post = _post(10_000 + i, moment, author, text, tags, kind=kinds[i % 4], likes=i % 7)
        posts.append(post)
        truth.private_handles.add(author)
        _count(truth, post, cls)
        i += 1


def synthetic_posts() -> tuple[list[dict[str, Any]], Truth]:
    truth, posts = Truth(), []
    notable = [("n1", 50, True), ("n2", 20_000, False), ("n3", 10_000, False), ("n4", 5, True)]
    call = _post(int(CALL_ID), START, "n1", NOTABLE_TEXTS["n1"], ["SynthToo"], followers=50, verified=True, likes=900)
    posts.append(call)
    _count(truth, call, "hashtag_only")
    for i, (handle, followers, verified) in enumerate(notable[1:], 1):
        post = _post(6000 + i, START + timedelta(minutes=i), handle, NOTABLE_TEXTS[handle], ["SynthToo"],
                     followers=followers, verified=verified, likes=800 - i)
        posts.append(post)
        _count(truth, post, "hashtag_only")
    for i in range(5):  # a quiet baseline the day before
        post = _post(100 + i, START - timedelta(hours=20 - 4 * i), f"synthetic_user_{i}", "[synthetic] early #SynthToo", ["SynthToo"])
        posts.append(post)
        _count(truth, post, "hashtag_only")
    _burst(posts, truth)
    secret = _post(9000, START + timedelta(hours=30), "synthetic_user_secret", SECRET + " #SynthToo", ["SynthToo"],
                   likes=5_000)
    posts.append(secret)
    truth.private_handles.add("synthetic_user_secret")
    _count(truth, secret, "hashtag_only")
    untimed = _post(9001, None, "synthetic_user_untimed", "[synthetic] #SynthToo", ["SynthToo"])
    posts.append(untimed)
    _count(truth, untimed, "hashtag_only")
    posts.append(_post(9002, START + timedelta(hours=2), "synthetic_user_off", "[synthetic] nothing to see", []))
    truth.unmatched = 1
    posts.append(_post(9003, START, "synthetic_user_ref", "[synthetic] referenced #SynthToo", ["SynthToo"], collected=False))
    return posts, truth


def build_store(db: Path) -> Truth:
    posts, truth = synthetic_posts()
    with Store(str(db)) as store:
        run = store.start_run()
        bad = [Quarantined("synthetic.jsonl", 99_999, "twitter-v1", "not JSON", b"{")]
        store.write_batch(pa.Table.from_pylist(posts, schema=ARROW_SCHEMA), quarantined=bad, source_file="synthetic.jsonl")
        store.mark_file("synthetic.jsonl", "fp", "twitter-v1", "done", len(posts) + 4, len(posts), run)
        store.finish_run(run, "done", {"read": len(posts) + 4, "duplicate": 3, "rejected": 1})
    return truth


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("report")
    db, movement = folder / "synthetic.duckdb", folder / "synthetic.toml"
    truth = build_store(db)
    movement.write_text(MOVEMENT_TOML)
    out = folder / "report.html"
    result = CliRunner().invoke(main, ["report", "--db", str(db), "--movement", str(movement), "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    return {"db": db, "movement": movement, "truth": truth, "html": out.read_text(), "json": orjson.loads(result.stdout)}


class Page(HTMLParser):
    """The parsed report: elements with their attributes and text, in document order."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[dict[str, Any]] = []
        self.stack: list[dict[str, Any]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = {"tag": tag, "attrs": dict(attrs), "text": ""}
        self.elements.append(element)
        if tag not in ("meta", "br", "img", "input", "link", "rect", "line", "path"):
            self.stack.append(element)

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            if self.stack.pop()["tag"] == tag:
                break

    def handle_data(self, data: str) -> None:
        for element in self.stack:
            element["text"] += data

    def find(self, tag: str | None = None, **attrs: str) -> list[dict[str, Any]]:
        return [e for e in self.elements if (tag is None or e["tag"] == tag)
                and all(e["attrs"].get(k.replace("_", "-")) == v for k, v in attrs.items())]

    def figure(self, name: str) -> int:
        (element,) = self.find(data_figure=name)
        return int(element["text"].strip().replace(",", ""))


SECTIONS = ("headline", "volume", "hashtag-phrase", "families", "platforms-languages", "co-hashtags",
            "participants", "how-big", "trends", "cascades", "amplifiers", "network", "coverage")


def test_every_section_is_present(synthetic):
    page = Page(synthetic["html"])
    assert [e["attrs"]["data-section"] for e in page.find("section")] == list(SECTIONS)
    for section in SECTIONS:
        assert page.find("h2") and page.find(id=section)


def test_headline_equals_the_truth(synthetic):
    page, truth = Page(synthetic["html"]), synthetic["truth"]
    assert page.figure("posts") == truth.posts
    assert page.figure("distinct_authors") == len(truth.authors)
    for kind, n in truth.by_kind.items():
        assert page.figure(f"by_kind.{kind}") == n
    assert page.figure("first_24h.posts") == truth.first_24h
    head = synthetic["json"]["report"]["headline"]
    assert head["start"] == {"at": START.isoformat() + "Z", "method": "call_to_action", "post": f"twitter:{CALL_ID}",
                             "set_aside": None}


def test_match_classes_and_exclusions_equal_the_truth(synthetic):
    page, truth = Page(synthetic["html"]), synthetic["truth"]
    for name, n in truth.classes.items():
        assert page.figure(name) == n
    assert page.figure("not_matched") == truth.unmatched
    assert page.figure("referenced_only") == 1
    assert page.figure("duplicates") == 3
    assert page.figure("rejected") == 1
    families = {f["label"]: f["posts"] for f in synthetic["json"]["report"]["families"]["families"]}
    assert families["fr"] == truth.fr_posts


def test_gap_peak_and_milestone_follow_the_construction(synthetic):
    report, truth = synthetic["json"]["report"], synthetic["truth"]
    gaps = report["coverage"]["gaps"]["hours"]
    assert [(g["start"], g["end"]) for g in gaps] == [("2020-03-01T16:00", "2020-03-01T17:00")]
    page = Page(synthetic["html"])
    assert [e["attrs"]["data-start"] for e in page.find("li", **{"class": "gap"})] == ["2020-03-01T16:00"]
    hours: dict[str, int] = {}
    for moment in truth.times:
        key = moment.strftime("%Y-%m-%dT%H:00")
        hours[key] = hours.get(key, 0) + 1
    best = max(sorted(hours), key=lambda h: hours[h])
    assert report["volume"]["peak_hour"] == {"t": best, "posts": hours[best]}
    since_start = sorted(t for t in truth.times if t >= START)
    (first_k,) = [m for m in report["volume"]["milestones"] if m["posts"] == 1000]
    assert first_k["at"] == since_start[999].isoformat() + "Z"
    assert report["headline"]["first_24h"]["overlaps_gap"] is True


def test_notable_texts_are_shown_escaped_and_intact(synthetic):
    """The parser unescapes what the template escaped: equal strings mean nothing was lost or
    turned into markup. A `<script>` in a post would otherwise become an element."""
    page = Page(synthetic["html"])
    shown = [e["text"] for e in page.find("span", **{"class": "post-text"})]
    assert sorted(shown) == sorted(NOTABLE_TEXTS.values())
    scripts = page.find("script")
    assert len(scripts) == 1 and "alert" not in scripts[0]["text"]
    assert not page.find("img")
    assert all("onerror" not in e["attrs"] for e in page.elements)


def test_no_private_handle_or_text_anywhere(synthetic):
    html = synthetic["html"]
    page = Page(html)
    visible = " ".join(e["text"] for e in page.elements) + " ".join(str(v) for e in page.elements for v in e["attrs"].values())
    for handle in synthetic["truth"].private_handles:
        assert handle not in visible
    assert "private words" not in visible and "synth too today" not in visible
    (row,) = [r for r in synthetic["json"]["report"]["most_engaged"] if r["engagement"] == 5_000]
    assert re.fullmatch(r"p[0-9a-f]{12}", row["label"]) and row["text"] is None and row["handle"] is None
    as_json = orjson.dumps(synthetic["json"]).decode()
    assert "private words" not in as_json and "synthetic_user_secret" not in as_json


def test_content_security_policy_allows_only_the_inline_script_and_style(synthetic):
    page = Page(synthetic["html"])
    (meta,) = page.find("meta", http_equiv="Content-Security-Policy")
    policy = dict(part.strip().split(" ", 1) for part in meta["attrs"]["content"].split(";"))
    (script,) = page.find("script")
    (style,) = page.find("style")
    digest = lambda text: "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == digest(script["text"])
    assert policy["style-src"] == digest(style["text"])
    assert policy["connect-src"] == policy["img-src"] == "'none'"


def test_nothing_external_is_referenced(synthetic):
    page = Page(synthetic["html"])
    for element in page.elements:
        assert element["tag"] not in ("link", "img", "iframe", "object", "embed", "audio", "video")
        for name in ("src", "href", "action", "data", "xlink:href"):
            value = element["attrs"].get(name)
            assert value is None or value.startswith("#"), (element["tag"], name, value)
    (style,) = page.find("style")
    assert "url(" not in style["text"] and "@import" not in style["text"]


def test_charts_have_labelled_axes_and_drawn_series(synthetic):
    page = Page(synthetic["html"])
    charts = [e for e in page.find("svg") if "chart" in e["attrs"].get("class", "").split()]
    assert len(charts) == 7  # volume, cumulative, match, families, platforms, languages, co-hashtags
    assert len(page.find("rect", **{"class": "bar"})) == 1 + len(synthetic["json"]["report"]["languages"]["by_language"]) + 1
    paths = page.find("path", **{"class": "series"})
    assert paths and all(len(p["attrs"]["d"]) > 20 for p in paths)
    assert any("UTC" in e["text"] for e in page.find("text"))


def test_stats_json_has_every_report_figure(synthetic):
    result = CliRunner().invoke(main, ["stats", "--db", str(synthetic["db"]), "--movement", str(synthetic["movement"]),
                                       "--report", "--json"])
    assert result.exit_code == 0, result.output
    assert orjson.loads(result.stdout)["report"] == synthetic["json"]["report"]


def test_time_zone_moves_buckets_and_names_the_zone(synthetic):
    args = ["stats", "--db", str(synthetic["db"]), "--movement", str(synthetic["movement"]), "--report", "--json"]
    utc = orjson.loads(CliRunner().invoke(main, args).stdout)["report"]
    paris = orjson.loads(CliRunner().invoke(main, [*args, "--tz", "Europe/Paris"]).stdout)["report"]
    assert paris["volume"]["tz"] == "Europe/Paris"
    shifted = datetime.fromisoformat(utc["volume"]["peak_hour"]["t"]) + timedelta(hours=1)  # CET in March 2020
    assert paris["volume"]["peak_hour"] == {"t": shifted.isoformat(timespec="minutes"), "posts": utc["volume"]["peak_hour"]["posts"]}
    assert paris["headline"]["posts"] == utc["headline"]["posts"]


def test_trends_say_their_buckets_are_utc_whatever_tz_says(synthetic, tmp_path):
    """Trend buckets stay UTC (onsets and bursts compare across zones): under --tz the report
    says so, in its JSON and in the trends section, rather than label UTC buckets local."""
    args = ["--db", str(synthetic["db"]), "--movement", str(synthetic["movement"]), "--tz", "Europe/Paris"]
    out = tmp_path / "paris.html"
    done = CliRunner().invoke(main, ["report", *args, "--out", str(out), "--json"])
    assert done.exit_code == 0, done.output
    assert orjson.loads(done.stdout)["report"]["trends"]["settings"]["timezone"] == "UTC"
    (note,) = Page(out.read_text()).find(id="trends-timezone")
    assert "UTC" in note["text"] and "Europe/Paris" in note["text"]
    assert Page(synthetic["html"]).find(id="trends-timezone") == []  # a UTC report needs no note


def test_day_buckets_sum_to_the_timed_posts(synthetic):
    args = ["stats", "--db", str(synthetic["db"]), "--movement", str(synthetic["movement"]), "--report", "--json", "--bucket", "day"]
    report = orjson.loads(CliRunner().invoke(main, args).stdout)["report"]
    days = report["volume"]["series"]
    assert [d["t"] for d in days] == ["2020-02-29", "2020-03-01", "2020-03-02"]
    assert sum(d["posts"] for d in days) == len(synthetic["truth"].times)
    assert days[-1]["cumulative_posts"] == len(synthetic["truth"].times)


def test_report_requires_a_movement(tmp_path):
    result = CliRunner().invoke(main, ["report", "--db", str(tmp_path / "none.duckdb")])
    assert result.exit_code == 2
    assert "--movement NAME|FILE is required" in result.output


def test_report_on_a_missing_store_is_a_clean_error(tmp_path):
    result = CliRunner().invoke(main, ["report", "--db", str(tmp_path / "none.duckdb"), "--movement", "metoo"])
    assert result.exit_code == 1
    assert "no such store" in result.output


def test_report_ingests_paths_first(tmp_path):
    """One command from raw files to report; coverage counts equal the sample's truth."""
    from groundswell.simulate import write_v1_sample

    truth = write_v1_sample(tmp_path / "raw", posts=600)
    out, db = tmp_path / "r.html", tmp_path / "s.duckdb"
    result = CliRunner().invoke(main, ["report", str(tmp_path / "raw"), "--db", str(db), "--movement", "metoo",
                                       "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    report = orjson.loads(result.stdout)["report"]
    assert report["headline"]["posts"] == truth.collected
    assert report["headline"]["distinct_authors"] == len(truth.authors)
    assert report["headline"]["by_kind"] == truth.by_kind
    assert report["coverage"]["runs"]["duplicate_total"] == truth.duplicates
    assert report["coverage"]["quarantine"]["records"] == truth.broken_lines
    assert Page(out.read_text()).figure("posts") == truth.collected


@pytest.mark.realdata
@pytest.mark.slow
def test_aurora_surge_and_gap(aurora_store, tmp_path):
    """GetOldTweets #metoo scrape. Independently (a separate script reading the gzipped lines and
    taking each tweet's UTC hour from its id): 2017-10-15 had at most 195 tweets in any hour
    before 19:00 and 6,711 in the 23:00 hour; no tweet falls on 2017-10-16 to 2017-10-22."""
    out = tmp_path / "aurora.html"
    result = CliRunner().invoke(main, ["report", "--db", str(aurora_store), "--movement", "metoo", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    report = orjson.loads(result.stdout)["report"]
    hours = {row["t"]: row["posts"] for row in report["volume"]["series"]}
    assert all(hours[f"2017-10-15T{h:02d}:00"] < 500 for h in range(19))
    assert 6_000 < hours["2017-10-15T23:00"] <= 6_711
    assert {"start": "2017-10-16", "end": "2017-10-22", "days": 7} in [
        {k: gap[k] for k in ("start", "end", "days")} for gap in report["coverage"]["gaps"]["days"]]
    page = Page(out.read_text())
    assert any(e["attrs"].get("data-start") == "2017-10-16" and e["attrs"].get("data-end") == "2017-10-22"
               for e in page.find("li"))
    cells = [e["text"] for e in page.find("td")]
    shown = int(cells[cells.index("2017-10-15T23:00") + 1].replace(",", ""))  # the hour-by-hour table
    assert shown == hours["2017-10-15T23:00"]
    stats = CliRunner().invoke(main, ["stats", "--db", str(aurora_store), "--movement", "metoo", "--report", "--json"])
    assert stats.exit_code == 0, stats.output
    assert orjson.loads(stats.stdout)["report"]["volume"]["series"] == report["volume"]["series"]



# --- the algorithms on aggregates -------------------------------------------------------


def test_first_burst_needs_a_jump_against_scale_and_recent_past():
    from groundswell.series import first_burst

    calm = [2] * 30
    assert first_burst(calm + [3, 40, 900, 1000, 800]) == 32  # 40 is under 10% of the peak
    assert first_burst([0, 0, 0, 0]) is None
    assert first_burst([5] * 10 + [5] * 10) == 0  # flat: the first hour is as good as any
    assert first_burst([100] * 30 + [400] + [1000]) == 31  # 400 is 4x the baseline, not 5x


def test_hour_gaps_flag_implausible_silence_only():
    from groundswell.series import hour_gaps

    hours = [START + timedelta(hours=i) for i in range(80)]
    busy = [20] * 30 + [0, 0, 0] + [20] * 47
    (gap,) = hour_gaps(hours, busy)
    assert (gap["start"], gap["end"], gap["hours"], gap["expected_posts"]) == ("2020-03-02T18:00", "2020-03-02T20:00", 3, 60.0)
    assert hour_gaps(hours, [1] * 30 + [0, 0, 0] + [1] * 47) == []  # a quiet night: 3 posts expected
    assert hour_gaps(hours, [0] * 30 + [0, 0, 0] + [500] * 47) == []  # the calm before a surge
    assert hour_gaps(hours, [20] * 79 + [0]) == []  # no context after it


def test_clock_keeps_local_buckets_exact_across_daylight_saving():
    """New York left summer time at 06:00 UTC on 2017-11-05: 05:59 UTC is 01:59 EDT and 06:00
    UTC is 01:00 EST. Spring 2018: 02:00 local on 2018-03-11 does not exist, so it is no gap."""
    import duckdb

    from groundswell.series import hour_grid
    from groundswell.metrics.scope import clock

    ny = clock("America/New_York", datetime(2017, 11, 4), datetime(2018, 3, 12))
    con = duckdb.connect()
    con.execute("CREATE TABLE t (created_at TIMESTAMP)")
    con.execute("INSERT INTO t VALUES ('2017-11-05 05:59:00'), ('2017-11-05 06:00:00'), ('2018-03-11 06:59:00'), ('2018-03-11 07:00:00')")
    local = [row[0].isoformat() for row in con.execute(f"SELECT {ny.local_sql()} FROM t ORDER BY created_at").fetchall()]
    assert local == ["2017-11-05T01:59:00", "2017-11-05T01:00:00", "2018-03-11T01:59:00", "2018-03-11T03:00:00"]
    grid = hour_grid(datetime(2018, 3, 11, 5), datetime(2018, 3, 11, 9), ny.to_local)
    assert [t.hour for t in grid] == [0, 1, 3, 4, 5]
    india = clock("Asia/Kolkata", datetime(2020, 1, 1), datetime(2020, 1, 2))
    assert con.execute(f"SELECT {india.bucket_sql('hour')} FROM (SELECT TIMESTAMP '2020-01-01 00:40:00' AS created_at)").fetchall()[0][0] == datetime(2020, 1, 1, 6, 0)


def test_short_posts_are_undetermined_and_longer_ones_detected():
    from groundswell.analysis.language import detect_one

    assert detect_one("#MeToo") == "und"
    assert detect_one("me too") == "und"  # what is left of "me too #MeToo @someone https://..." once cut
    assert detect_one("This happened to me at work and nobody believed me") == "en"
    assert detect_one("Cela m'est arrivé au travail et personne ne m'a crue") == "fr"
    assert detect_one("这件事在我工作的时候发生了没有人相信我") == "zh"


def test_the_report_matches_the_movement_once_and_every_section_reads_the_scope(synthetic, monkeypatch):
    """Issue 15, defect 9: the scoped posts are built once per report (a temp table on DuckDB,
    a local checkpoint on Spark); the spread sections read that table instead of matching
    the movement again over the post table."""
    from groundswell.engines.duckdb import DuckDBEngine
    from groundswell.movement.definition import load_file
    from groundswell.report.figures import ReportOptions, compute

    seen: list[str] = []
    plain = DuckDBEngine.query
    monkeypatch.setattr(DuckDBEngine, "query", lambda self, sql: (seen.append(sql), plain(self, sql))[1])
    movement = load_file(synthetic["movement"])
    with DuckDBEngine(str(synthetic["db"])) as engine:
        figures = compute(engine, movement, ReportOptions(), writable=False)
    assert figures["trends"]["series"] and figures["network"] and figures["spread"]
    over_posts = [sql for sql in seen if "mv_flags" in sql and "AS masked FROM posts WHERE collected" in sql]
    assert len(over_posts) == 1 and over_posts[0].startswith("CREATE OR REPLACE TEMP TABLE gs_scope")
    # the only other match is of the replies to a call to action, a handful of posts outside the scope
    assert all("FROM gs_cascade_replies" in sql for sql in seen if "mv_flags" in sql and sql not in over_posts)
    assert len(seen) > 50  # every section ran
