"""How big was it: estimates of what a collection missed, each with its 95% interval and method.

Each method runs only where its data exist (docs/estimation.md gives assumptions and sources):
  - limit_notices: a v1.1 stream's counts of undelivered tweets (limits.py);
  - capture_recapture: two or more named collections over a common span (capture.py);
  - sampling_rate: a known sampling probability, `--sample-rate` (sampling.py);
  - collection_gaps: missing days inside the covered range (gaps.py);
  - beyond_hashtag: the share of the movement that hashtag-only counting misses.
A figure the data cannot give is "unknown", with its reason in `unknown`, and never 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Callable

from ...movement.definition import Movement
from . import aggregates
from .capture import Estimate
from .methods import beyond_hashtag, capture_recapture, collection_gaps, limit_notices, sampling_rate

Query = Callable[[str], list[tuple]]
UNKNOWN = "unknown"
# The total's method, in order of preference when several apply; gaps add to any of them.
PRIMARY = ("limit_notices", "capture_recapture", "sampling_rate")


@dataclass(frozen=True)
class EstimateOptions:
    sample_rate: float | None = None


def compute(query: Query, movement: Movement | None, options: EstimateOptions = EstimateOptions(),
            table: str | None = None) -> dict[str, Any]:
    """Every estimate for the movement's posts (or all collected posts), as one JSON-ready dict;
    `table` is an already matched scope with the post columns (the report's)."""
    aggregates.scope(query, movement, table)
    try:
        agg = aggregates.read(query)
        basis, unknown = _people_basis(query, agg)
        methods = {
            "limit_notices": limit_notices(query, agg, movement is None),
            "capture_recapture": capture_recapture(query, agg, basis is not None),
            "sampling_rate": sampling_rate(agg, options.sample_rate, basis is not None),
            "collection_gaps": collection_gaps(agg, basis is not None),
            "beyond_hashtag": beyond_hashtag(agg, movement),
        }
    finally:
        aggregates.drop(query)
    if agg.with_followers == 0 and agg.posts:
        unknown.append({"figure": "followers", "reason": "no post in scope has a follower count "
                                                          "(the source format records none, or none was mapped)"})
    return {
        "movement": movement.name if movement else None,
        "settings": {"sample_rate": options.sample_rate, "confidence": 0.95},
        "people_basis": basis,
        "observed": {"posts": agg.posts, "distinct_people": agg.people if basis else UNKNOWN},
        "headline": _headline(agg, methods, basis, unknown),
        "methods": methods,
        "per_day": _per_day(agg, methods, basis is not None),
        "unknown": unknown,
    }


_BASES = {"author id": "author_id", "handle": "handle", "author id and handle": "author_id_or_handle"}


def _people_basis(query: Query, agg: aggregates.Aggregates) -> tuple[str | None, list[dict[str, str]]]:
    """What distinct people rest on, by the one rule every figure uses (metrics/people.py)."""
    from ...metrics.people import basis

    found = basis(query, aggregates.SCOPE)
    if agg.posts and not found["known"]:
        return None, [{"figure": "distinct_people", "reason": found["reason"]}]
    return _BASES.get(found["counted_by"] or "author id", "author_id"), []


def _headline(agg: aggregates.Aggregates, methods: dict[str, Any], basis: str | None,
              unknown: list[dict[str, str]]) -> dict[str, Any]:
    """The posts total (and people total) the report leads with: the preferred method, plus gaps."""
    gaps = methods["collection_gaps"]
    posts = _combine([methods[name]["posts"] for name in PRIMARY if methods[name].get("used")], gaps, "posts", agg.posts)
    people: dict[str, Any] = {"observed": agg.people if basis else UNKNOWN, "estimated": None}
    for name in PRIMARY:
        found = methods[name].get("people") if methods[name].get("used") else None
        if isinstance(found, dict) and found.get("estimated") is not None:
            people = {"observed": people["observed"], **found}
            break
    else:
        if basis and (gaps.get("used") or methods["limit_notices"].get("used")):
            unknown.append({"figure": "estimated distinct people", "reason": "people who posted only in missing days "
                            "or undelivered tweets cannot be told apart from people seen on other days"})
            people = {**people, "estimated": UNKNOWN}
    return {"posts": posts, "distinct_people": people}


def _combine(primary: list[dict[str, Any]], gaps: dict[str, Any], key: str, observed: int) -> dict[str, Any]:
    base = primary[0] if primary else None
    if not gaps.get("used"):
        return base or {"observed": observed, "estimated": None, "method": None}
    fill = gaps["posts"]
    if base is None:
        return {"observed": observed, "estimated": round(observed + fill["estimated"], 1),
                "low": round(observed + fill["low"], 1), "high": round(observed + fill["high"], 1),
                "method": "collection gaps filled"}
    ratio = base["estimated"] / base["observed"] if base["observed"] else 1.0
    return {"observed": observed, "estimated": round(base["estimated"] + ratio * fill["estimated"], 1),
            "low": round(base["low"] + ratio * fill["low"], 1), "high": round(base["high"] + ratio * fill["high"], 1),
            "method": f"{base['method']}; collection gaps filled"}


def _per_day(agg: aggregates.Aggregates, methods: dict[str, Any], people_known: bool) -> list[dict[str, Any]]:
    """Every day from the first to the last: observed, and the estimate where a method gives one."""
    if not agg.by_day:
        return []
    estimates: dict[str, dict[str, Any]] = {}
    for name in ("collection_gaps", *reversed(PRIMARY)):
        for row in methods[name].get("per_day", []) if methods[name].get("used") else []:
            estimates.setdefault(row["day"], row)  # gaps first: a missing day is estimated by the fill
    first, last = min(agg.by_day), max(agg.by_day)
    out = []
    for offset in range((last - first).days + 1):
        day = date.fromordinal(first.toordinal() + offset)
        posts, people = agg.by_day.get(day, (0, 0))
        row: dict[str, Any] = {"day": day.isoformat(), "observed_posts": posts,
                               "observed_people": people if people_known else UNKNOWN, "estimated": False}
        if day.isoformat() in estimates:
            row.update({k: v for k, v in estimates[day.isoformat()].items() if k != "day"}, estimated=True)
        out.append(row)
    return out


def describe(figure: dict[str, Any]) -> str:
    """"observed N, estimated M (95% interval a–b)" where an estimate exists, else "observed N";
    an unknown figure says so, with its reason, and never shows 0."""
    text = f"observed {_count(figure.get('observed'))}"
    estimated = figure.get("estimated")
    if estimated is None:
        return text
    if estimated == UNKNOWN:
        return f"{text}, estimated unknown" + (f" ({figure['reason']})" if figure.get("reason") else "")
    return f"{text}, estimated {_count(estimated)} (95% interval {_count(figure['low'])}–{_count(figure['high'])})"


def _count(value: Any) -> str:
    return f"{round(value):,}" if isinstance(value, (int, float)) else str(value)


__all__ = ["EstimateOptions", "Estimate", "compute", "describe", "UNKNOWN"]
