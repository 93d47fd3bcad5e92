"""The report's small print: axis labels, the start marker, captions, command snippets, buckets.

Stores are SYNTHETIC: a simulated movement (groundswell simulate) and a multi-year table
written by tests/synthetic_tables.py-style helpers here.
"""

from __future__ import annotations

import csv
import random
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from groundswell.series import hour_grid
from groundswell.cli import main
from groundswell.metrics.scope import clock
from groundswell.simulate.ids import snowflake
from test_report import Page

DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
HOUR = re.compile(r"^\d{2}-\d{2} \d{2}:\d{2}$")


def run(*args: str) -> Any:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("layout")
    run("simulate", str(folder / "data"), "--format", "v1", "--posts", "2500")
    run("ingest", str(folder / "data" / "synthetic-*"), "--db", str(folder / "s.duckdb"))
    out = folder / "r.html"
    result = run("report", "--db", str(folder / "s.duckdb"), "--movement", "metoo", "--out", str(out), "--json")
    return {"html": out.read_text(), "json": orjson.loads(result.stdout)["report"]}


def _charts(html: str) -> list[str]:
    return re.findall(r'<svg class="chart".*?</svg>', html, flags=re.S)


def test_every_time_axis_uses_one_label_format(simulated):
    checked = 0
    for svg in _charts(simulated["html"]):
        labels = re.findall(r'y="(\d+(?:\.\d+)?)" font-size="11" text-anchor="(?:middle|end)">([^<]+)</text>', svg)
        ticks = [text for y, text in labels if DAY.match(text) or HOUR.match(text)]
        if len(ticks) >= 2:
            checked += 1
            assert all(DAY.match(t) for t in ticks) or all(HOUR.match(t) for t in ticks), ticks
    assert checked >= 3


def test_the_start_label_sits_before_its_line_with_a_halo(simulated):
    markers = re.findall(r'<g class="marker"><line x1="([\d.]+)".*?<text x="([\d.]+)"[^>]*text-anchor="(\w+)"[^>]*'
                         r'paint-order="stroke"[^>]*>start</text>', simulated["html"])
    assert markers
    for line_x, text_x, anchor in markers:
        assert (anchor, float(text_x) < float(line_x)) in (("end", True), ("start", False))


def test_the_network_snippet_is_one_valid_command(simulated):
    page = Page(simulated["html"])
    snippets = [" ".join(e["text"].split()) for e in page.elements if e["tag"] == "code" and "groundswell network" in e["text"]]
    assert snippets and all(re.search(r"--movement metoo --max-tag-share [\d.]+ --out", s) for s in snippets)


def test_the_platform_caption_says_what_the_chart_draws(simulated):
    assert "Posts and distinct authors per platform." not in simulated["html"]
    assert "Posts per platform (the chart)" in simulated["html"]


def test_a_short_span_stays_hourly(simulated):
    assert simulated["json"]["settings"]["bucket"] == "hour"


def _multi_year(path: Path, n: int = 1500) -> Path:
    rng = random.Random(7)
    rows = []
    for i in range(n):  # a sparse, SYNTHETIC collection over six years
        moment = datetime(2018, 1, 1) + timedelta(seconds=rng.randint(0, 6 * 365 * 86400))
        ms = int((moment - datetime(1970, 1, 1)).total_seconds() * 1000)
        rows.append({"id": str(snowflake(ms, i)), "created_at": moment.isoformat() + "Z",
                     "text": f"synthetic post {i} #MeToo", "username": f"synthetic_user_{i % 40}"})
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_a_multi_year_span_is_drawn_by_day_without_false_gaps(tmp_path):
    db = tmp_path / "m.duckdb"
    run("ingest", str(_multi_year(tmp_path / "years.csv")), "--db", str(db))
    result = run("report", "--db", str(db), "--movement", "metoo", "--out", str(tmp_path / "r.html"), "--json")
    figures = orjson.loads(result.stdout)["report"]
    assert figures["settings"]["bucket"] == "day"
    assert len(figures["volume"]["series"]) == len({row["t"] for row in figures["volume"]["series"]}) > 2000
    # about 0.7 posts a day: a quiet day is the crowd's silence, not a lost collection
    assert figures["coverage"]["gaps"]["days"] == [] and figures["coverage"]["gaps"]["hours"] == []
    hourly = run("report", "--db", str(db), "--movement", "metoo", "--bucket", "hour", "--out", str(tmp_path / "h.html"),
                 "--json")
    assert orjson.loads(hourly.stdout)["report"]["settings"]["bucket"] == "hour"  # asked for, still honoured


def _quarter_hour_grid(first: datetime, last: datetime, to_local) -> list[datetime]:
    """The reference: every quarter hour converted (the old, slow construction)."""
    moment = first.replace(minute=(first.minute // 15) * 15, second=0, microsecond=0)
    seen: dict[datetime, None] = {}
    while moment <= last:
        seen[to_local(moment).replace(minute=0, second=0, microsecond=0)] = None
        moment += timedelta(minutes=15)
    return list(seen)


@pytest.mark.parametrize("tz", ["UTC", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu", "Australia/Lord_Howe"])
def test_the_hour_grid_equals_the_quarter_hour_construction(tz):
    rng = random.Random(tz)
    for _ in range(20):
        first = datetime(2016, 1, 1) + timedelta(minutes=rng.randint(0, 3 * 365 * 24 * 60))
        last = first + timedelta(minutes=rng.randint(0, 400 * 24 * 60))
        local = clock(tz, first, last)
        assert hour_grid(first, last, local.to_local) == _quarter_hour_grid(first, last, local.to_local)
