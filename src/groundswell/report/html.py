"""The self-contained HTML report: one file, inline CSS, inline SVG, one small inline script.

The page loads nothing: its Content-Security-Policy allows no source at all except the
report's own style and script, named by their SHA-256 hashes, so even a post text that
slipped past escaping could not run a script or fetch anything (tests/test_report_xss.py opens
a report made of script payloads in Chromium). Jinja2 autoescapes every value. What the figures
hold already follows `--privacy` (see privacy.py): the page's first line says which mode made it.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from . import charts
from .definitions import DEFINITIONS
from . import registry
from .figures import generated_at

# The only script: a print button, and folded sections opened before printing.
SCRIPT = (
    "(function () {\n"
    "  var button = document.getElementById('print-button');\n"
    "  button.hidden = false;\n"
    "  button.addEventListener('click', function () { window.print(); });\n"
    "  window.addEventListener('beforeprint', function () {\n"
    "    document.querySelectorAll('details').forEach(function (d) { d.open = true; });\n"
    "  });\n"
    "})();\n"
)
TOP_LANGUAGES = 12
TOP_FAMILIES = 8


def _style() -> str:
    return (resources.files("groundswell.report") / "templates" / "report.css").read_text(encoding="utf-8")


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


def csp(style: str, script: str) -> str:
    return (f"default-src 'none'; script-src {_hash(script)}; style-src {_hash(style)}; img-src 'none'; "
            "font-src 'none'; connect-src 'none'; media-src 'none'; object-src 'none'; frame-src 'none'; "
            "base-uri 'none'; form-action 'none'")


def render(figures: dict[str, Any], when: str | None = None) -> str:
    folder = Path(str(resources.files("groundswell.report") / "templates"))
    env = Environment(loader=FileSystemLoader(folder), autoescape=select_autoescape(default=True, default_for_string=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = _num
    env.filters["estimate"] = __import__("groundswell.analysis.estimation", fromlist=["describe"]).describe
    env.filters["bucket"] = lambda value: str(value).replace("T", " ")
    env.filters["when"] = lambda value: _when(value, figures["settings"]["tz"])
    style = _style()
    return env.get_template("report.html.j2").render(
        f=figures, d=DEFINITIONS, charts=build_charts(figures), generated=when or generated_at(),
        sections=registry.SECTIONS,
        style=Markup(style), script=Markup(SCRIPT), csp=csp(style, SCRIPT),
    )


def write(path: str | Path, figures: dict[str, Any]) -> Path:
    target = Path(path)
    target.write_text(render(figures), encoding="utf-8")
    return target


def _num(value: Any) -> str:
    if value is None:
        return "–"  # not computable here; the headline says why (e.g. unknown people)
    if isinstance(value, float):
        return f"{value:,.1f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _when(value: str | None, tz: str) -> str:
    """A UTC instant (ISO with Z) shown in the report's zone, with the zone named."""
    if not value:
        return "–"
    moment = datetime.fromisoformat(value.rstrip("Z")).replace(tzinfo=timezone.utc)
    local = moment.astimezone(ZoneInfo(tz)) if tz != "UTC" else moment
    return local.strftime("%Y-%m-%d %H:%M") + f" {tz}"


def _times(series: list[dict[str, Any]]) -> list[datetime]:
    return [datetime.fromisoformat(row["t"]) for row in series]


def build_charts(f: dict[str, Any]) -> dict[str, Markup]:
    if not f["volume"]["series"]:
        return {}
    volume = f["volume"]
    times = _times(volume["series"])
    zone_label = f"local time ({volume['tz']}), one point per {volume['bucket']}"
    known = f["headline"]["people"]["known"]  # unknown people are not drawn as a line at zero
    with_people = " and distinct authors" if known else ""
    out = {
        "volume": charts.time_chart(charts.TimeChart(
            f"Posts{with_people} per {volume['bucket']}", times,
            [charts.Series("posts", [r["posts"] for r in volume["series"]], charts.PALETTE[0], fill=True)]
            + ([charts.Series("distinct authors", [r["distinct_authors"] for r in volume["series"]], charts.PALETTE[5])]
               if known else []),
            f"per {volume['bucket']}", zone_label, bands=_bands(f, times), marker=_marker(f, times))),
        "cumulative": charts.time_chart(charts.TimeChart(
            f"Cumulative posts{with_people}", times,
            [charts.Series("posts", [r["cumulative_posts"] for r in volume["series"]], charts.PALETTE[0])]
            + ([charts.Series("distinct authors", [r["cumulative_authors"] for r in volume["series"]], charts.PALETTE[5])]
               if known else []),
            "running total", zone_label, bands=_bands(f, times))),
        "match": charts.time_chart(charts.TimeChart(
            "Posts by how they matched", times,
            [charts.Series(name.replace("_", " "), [r[name] for r in f["hashtag_vs_phrase"]["series"]], colour)
             for name, colour in (("hashtag_only", charts.PALETTE[0]), ("both", charts.PALETTE[2]),
                                  ("phrase_only", charts.PALETTE[1]))],
            f"posts per {volume['bucket']}", zone_label, stacked=True, bands=_bands(f, times))),
    }
    around = volume["around_start"]
    if around and (volume["bucket"] == "day" or len(volume["series"]) > 2 * len(around)):  # else it repeats the main chart
        out["around_start"] = charts.time_chart(charts.TimeChart(
            "Posts per hour around the start", _times(around),
            [charts.Series("posts", [r["posts"] for r in around], charts.PALETTE[0], fill=True)],
            "posts per hour", f"local time ({volume['tz']}), one point per hour",
            bands=_bands(f, _times(around), hourly=True), marker=_marker(f, _times(around), "hour")))
    out.update(_family_chart(f, times, zone_label))
    out.update(_bar_charts(f))
    return out


def _family_chart(f: dict[str, Any], times: list[datetime], zone_label: str) -> dict[str, Markup]:
    ranked = sorted((fam for fam in f["families"]["families"] if fam["posts"]), key=lambda fam: -fam["posts"])[:TOP_FAMILIES]
    if not ranked or not f["families"]["series"]:
        return {}
    series = [charts.Series(f"{fam['label']} ({fam['language']})", [row["posts"].get(fam["label"], 0)
                                                                     for row in f["families"]["series"]],
                            charts.PALETTE[i % len(charts.PALETTE)]) for i, fam in enumerate(ranked)]
    return {"families": charts.time_chart(charts.TimeChart("Posts per family", times, series,
                                                           f"posts per {f['volume']['bucket']}", zone_label,
                                                           bands=_bands(f, times)))}


def _bar_charts(f: dict[str, Any]) -> dict[str, Markup]:
    out = {}
    platforms = f["platforms"]
    out["platforms"] = charts.bar_chart("Posts per platform", [p["platform"] for p in platforms],
                                        [p["posts"] for p in platforms], "posts")
    languages = f["languages"]["by_language"]
    shown, rest = languages[:TOP_LANGUAGES], languages[TOP_LANGUAGES:]
    labels = [item["language"] for item in shown] + ([f"{len(rest)} others"] if rest else [])
    values = [item["posts"] for item in shown] + ([sum(item["posts"] for item in rest)] if rest else [])
    out["languages"] = charts.bar_chart("Posts per language", labels, values, "posts", charts.PALETTE[2])
    if f["co_hashtags"]:
        out["co_hashtags"] = charts.bar_chart("Top co-occurring hashtags", ["#" + c["key"] for c in f["co_hashtags"]],
                                              [c["posts"] for c in f["co_hashtags"]], "posts", charts.PALETTE[3])
    return out


def _bands(f: dict[str, Any], times: list[datetime], hourly: bool | None = None) -> list[charts.Band]:
    """Flagged gaps as shaded stretches: hour gaps on hourly charts, day gaps on daily ones."""
    gaps = f["coverage"]["gaps"]
    hourly = f["volume"]["bucket"] == "hour" if hourly is None else hourly
    index = {t: i for i, t in enumerate(times)}
    bands = []
    for gap in gaps["hours"] if hourly else gaps["days"]:
        start, end = datetime.fromisoformat(gap["start"]), datetime.fromisoformat(gap["end"])
        inside = [i for t, i in index.items() if start <= t <= end]  # the part of the gap this chart shows
        if inside:
            start, end = times[min(inside)], times[max(inside)]
            label = f"no data {gap['start']} to {gap['end']}: possible collection gap" + _estimated(f, gap)
            bands.append(charts.Band(index[start], index[end], label))
    return bands


def _estimated(f: dict[str, Any], gap: dict[str, Any]) -> str:
    """The How big was it estimate of the gap's days (UTC days), named as estimated."""
    days = [row for row in (f.get("how_big") or {}).get("per_day", [])
            if row["estimated"] and gap["start"][:10] <= row["day"] <= gap["end"][:10]]
    if not days:
        return ""
    total, low, high = (sum(row[key] for row in days) for key in ("estimated_posts", "low", "high"))
    return f"; estimated {total:,.0f} posts (95% interval {low:,.0f}–{high:,.0f}; see How big was it)"


def _marker(f: dict[str, Any], times: list[datetime], bucket_name: str | None = None) -> tuple[int, str] | None:
    at = f["headline"]["start"]["at"]
    if not at or not times:
        return None
    tz = f["volume"]["tz"]
    moment = datetime.fromisoformat(at.rstrip("Z")).replace(tzinfo=timezone.utc)
    local = (moment.astimezone(ZoneInfo(tz)) if tz != "UTC" else moment).replace(tzinfo=None)
    start = local.replace(minute=0, second=0, microsecond=0)
    if (bucket_name or f["volume"]["bucket"]) == "day":
        start = start.replace(hour=0)
    index = next((i for i, t in enumerate(times) if t >= start), None)
    return (index, "start") if index is not None else None
