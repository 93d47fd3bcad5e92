"""Each estimation method applied to a store's aggregates: used, or not used and why.

Every method returns {"used": bool, "reason": ..., "posts": {...}, "people": {...}, "per_day":
[...]} with its own details beside; figures are {"observed", "estimated", "low", "high",
"method"} and a figure the method cannot give is "unknown" with a reason, never 0.
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from datetime import date
from typing import Any, Callable

from ...movement.definition import Movement
from . import aggregates, capture, gaps, limits, sampling
from .aggregates import Aggregates

Query = Callable[[str], list[tuple]]
Z = capture.Z95


def _unused(reason: str) -> dict[str, Any]:
    return {"used": False, "reason": reason}


def _figure(observed: float, estimated: float, low: float, high: float, method: str) -> dict[str, Any]:
    return capture.Estimate(observed, estimated, low, high, method).as_dict()


def limit_notices(query: Query, agg: Aggregates, whole_stream: bool) -> dict[str, Any]:
    """`whole_stream`: the scope is every collected post, so the undelivered all count in full.
    Otherwise each notice's undelivered count in the share of the posts delivered since the
    counter's previous notice that are in scope (limiting bites hardest in the burst, where
    that share is highest, so a wider window's share would be biased)."""
    notices = aggregates.limit_notices(query)
    if not notices:
        return _unused("no stream limit notices in the store")
    minutes = aggregates.stream_minutes(query, list(notices))
    total, variance = 0.0, 0.0  # in-scope undelivered, and its variance
    by_day: dict[date, list[float]] = defaultdict(lambda: [0.0, 0.0])
    dropped, tail_total, counters = 0, 0.0, 0
    for source, rows in notices.items():
        found = limits.increments(rows)
        counters, dropped = counters + len(found.counters), dropped + found.total
        window = _Windows(minutes.get(source, {}))
        tail = limits.tail(found, window.end)
        tail_total += tail[0]
        for at, part, part_var in _in_scope(found, window, tail[0], whole_stream):
            total, variance = total + part, variance + part_var
            if at is not None:
                by_day[at.date()][0] += part
                by_day[at.date()][1] += part_var
    half = Z * math.sqrt(variance)
    method = "stream limit notices (Wu, Rizoiu and Xie 2020)"
    posts = _figure(agg.posts, agg.posts + total, agg.posts + max(total - half, 0.0), agg.posts + total + half, method)
    per_day = [{"day": day.isoformat(), **_around(agg.by_day.get(day, (0, 0))[0], part, part_var), "method": method}
               for day, (part, part_var) in sorted(by_day.items())]
    return {"used": True, "posts": posts, "per_day": per_day,
            "people": {"estimated": "unknown", "reason": "a limit notice counts tweets, not their authors"},
            "notices": sum(len(rows) for rows in notices.values()), "connections": len(notices), "counters": counters,
            "undelivered": dropped, "undelivered_after_last_notice": round(tail_total, 1)}


def _in_scope(found: limits.Increments, window: "_Windows", tail: float, whole: bool) -> list[tuple[Any, float, float]]:
    """(time, in-scope undelivered, variance) per notice window of one connection, then its tail.
    The undelivered in scope are Binomial(step, share); the share itself is estimated (its
    Wilson half-width / z is its s.e.); the tail is a Poisson count (variance = mean)."""
    last_at = max((at for at, _ in found.at if at is not None), default=window.end)
    out = []
    for since, at, step, spread in [(s, at, n, 0.0) for s, at, n in found.windows] + [(last_at, window.end, tail, tail)]:
        share, low, high = (1.0, 1.0, 1.0) if whole else window.share(since, at)
        part_var = step * share * (1 - share) + ((high - low) / (2 * Z) * step) ** 2 + share**2 * spread
        out.append((at, share * step, part_var))
    return out


def _around(observed: int, part: float, part_var: float) -> dict[str, float]:
    half = Z * math.sqrt(part_var)
    return {"estimated_posts": round(observed + part, 1), "low": round(observed + max(part - half, 0.0), 1),
            "high": round(observed + part + half, 1)}


class _Windows:
    """A stream file's delivered posts per minute, summed over any window of notice times."""

    def __init__(self, minutes: dict[Any, tuple[int, int, Any]]):
        self.keys = sorted(minutes)
        self.rows = [minutes[k] for k in self.keys]
        self.end = max((row[2] for row in self.rows), default=None)

    def share(self, since: Any, until: Any) -> tuple[float, float, float]:
        """Wilson share of in-scope posts delivered in the minutes (since, until]; the whole file's
        when that window has none (or a time is unknown)."""
        rows = self.rows
        if since is not None and until is not None:
            lo = bisect.bisect_right(self.keys, since.replace(second=0, microsecond=0))
            hi = bisect.bisect_right(self.keys, until)
            rows = self.rows[lo:hi] if hi > lo else rows
        n, m = sum(r[0] for r in rows), sum(r[1] for r in rows)
        return sampling.wilson(m, n) if n else (1.0, 1.0, 1.0)


def capture_recapture(query: Query, agg: Aggregates, people_known: bool) -> dict[str, Any]:
    posts_h, span = aggregates.histories(query, "post")
    if not posts_h:
        return _unused("fewer than two named collections cover a common span")
    if len({name for history in posts_h for name in history}) < 2:
        return _unused("only one collection has posts in the common span")
    est = capture.from_histories(posts_h)
    out: dict[str, Any] = {"used": True, "span": {"start": _iso(span[0]), "end": _iso(span[1])},
                           "overlap": [{"collections": list(h), "posts": n} for h, n in sorted(posts_h.items())],
                           "posts": _outside(est, agg.posts - est.seen)}
    if people_known:
        people_h, _ = aggregates.histories(query, "person")
        people = capture.from_histories(people_h)
        out["people"] = people.as_dict() | {"note": "over the common span only"}
    else:
        out["people"] = {"estimated": "unknown", "reason": "no author id or handle was mapped"}
    return out


def _outside(est: capture.Estimate, outside: int) -> dict[str, Any]:
    """The common span's estimate plus the posts seen outside it (taken as they are)."""
    return _figure(est.seen + outside, est.estimate + outside, est.low + outside, est.high + outside, est.method)


def sampling_rate(agg: Aggregates, rate: float | None, people_known: bool) -> dict[str, Any]:
    if rate is None:
        return _unused("no sampling rate given (--sample-rate)")
    posts = sampling.scale_count(agg.posts, rate)
    per_day = []
    for day, (n, _) in sorted(agg.by_day.items()):
        d = sampling.scale_count(n, rate)
        per_day.append({"day": day.isoformat(), "estimated_posts": round(d.estimate, 1), "low": d.low, "high": d.high,
                        "method": d.method})
    if people_known:
        people = sampling.unseen_people(agg.people, agg.frequencies.get(1, 0), agg.frequencies.get(2, 0), rate).as_dict()
        people["note"] = ("a lower bound: authors who post rarely are seen least, and at a low rate the sample cannot "
                          "show how many there are (docs/estimation.md, calibration)")
    else:
        people = {"estimated": "unknown", "reason": "no author id or handle was mapped"}
    return {"used": True, "rate": rate, "posts": posts.as_dict(), "people": people, "per_day": per_day}


def collection_gaps(agg: Aggregates, people_known: bool) -> dict[str, Any]:
    posts_series = {day: n for day, (n, _) in agg.by_day.items()}
    runs = gaps.find_gaps(posts_series)
    if not runs:
        return _unused("no missing day inside the covered range")
    filled, unfilled, per_day = [], [], []
    people_series = {day: p for day, (_, p) in agg.by_day.items()}
    for first, length in runs:
        fit = gaps.fill(posts_series, first, length)
        if fit is None:
            unfilled.append({"first_day": first.isoformat(), "days": length,
                             "reason": f"fewer than {gaps.MIN_SIDE} observed days on one side"})
            continue
        people_fit = gaps.fill(people_series, first, length) if people_known else None
        filled.append(_gap_figures(fit, people_fit))
        per_day += _gap_days(fit, people_fit)
    if not filled:
        return {**_unused("no gap has enough observed days on both sides"), "unfilled": unfilled}
    total = [sum(g["posts"][key] for g in filled) for key in ("estimated", "low", "high")]
    return {"used": True, "gaps": filled, "unfilled": unfilled, "per_day": per_day,
            "posts": {"estimated": round(total[0], 1), "low": round(total[1], 1), "high": round(total[2], 1),
                      "method": "collection gaps filled", "note": "the missing days only"}}


def _gap_figures(fit: gaps.Gap, people: gaps.Gap | None) -> dict[str, Any]:
    out = {"first_day": fit.first.isoformat(), "days": fit.days, "model": fit.model,
           "observed_days_used": {"before": fit.used[0], "after": fit.used[1]},
           "posts": {"estimated": round(fit.total[0], 1), "low": round(fit.total[1], 1), "high": round(fit.total[2], 1)}}
    if people is not None:
        out["people_per_day_sum"] = {"estimated": round(people.total[0], 1), "low": round(people.total[1], 1),
                                     "high": round(people.total[2], 1)}
    return out


def _gap_days(fit: gaps.Gap, people: gaps.Gap | None) -> list[dict[str, Any]]:
    rows = []
    for i, (est, low, high) in enumerate(fit.daily):
        day = date.fromordinal(fit.first.toordinal() + i)
        row = {"day": day.isoformat(), "estimated_posts": round(est, 1), "low": round(low, 1), "high": round(high, 1),
               "method": f"collection gap: {fit.model}"}
        if people is not None:
            p_est, p_low, p_high = people.daily[i]
            row["estimated_people"] = {"estimated": round(p_est, 1), "low": round(p_low, 1), "high": round(p_high, 1)}
        rows.append(row)
    return rows


def beyond_hashtag(agg: Aggregates, movement: Movement | None) -> dict[str, Any]:
    """The share of the matched posts that a hashtag-only count would have missed."""
    if movement is None:
        return _unused("no movement given (--movement)")
    if not movement.phrases:
        return _unused(f"the movement {movement.name!r} defines no phrases")
    if agg.posts == 0:
        return _unused("no matched posts")
    share, low, high = sampling.wilson(agg.phrase_only, agg.posts)
    return {"used": True, "phrase_only_posts": agg.phrase_only, "matched_posts": agg.posts,
            "hashtag_posts": agg.matched_by_hashtag, "missed_by_hashtag_only_share": round(share, 5),
            "low": round(low, 5), "high": round(high, 5), "method": "Wilson score interval"}


def _iso(moment: Any) -> str | None:
    return moment.isoformat() + "Z" if moment is not None else None
