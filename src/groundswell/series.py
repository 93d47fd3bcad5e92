"""Algorithms on bucketed counts: the full bucket grid, the first burst, and collection gaps.

These run on aggregates (one number per hour or day), never on posts. They sit below metrics/
in the layers (tests/test_layers.py): metrics lay their counts on these grids, and analysis/
reads the same gaps.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from statistics import median
from typing import Callable, Sequence

# The first burst: the first hour with at least BURST_SHARE of the peak hour's posts and at
# least BURST_FACTOR times the median of the BASELINE_HOURS before it (plus one, so an empty
# baseline still needs a real jump).
BURST_SHARE = 0.10
BURST_FACTOR = 5
BASELINE_HOURS = 24
# A run of empty hours is flagged as a possible collection gap when the hours around it
# (GAP_CONTEXT_HOURS on each side; the quieter side counts) would have put at least
# GAP_MIN_EXPECTED posts into it: at a Poisson rate, the whole run is then empty with
# probability at most e^-10 (about 1 in 22,000), so the silence is the collection's, not the
# crowd's. Taking the quieter side keeps the calm before a surge unflagged.
GAP_MIN_EXPECTED = 10.0
GAP_CONTEXT_HOURS = 24
# Empty days follow the same rule over a week on each side: a quiet collection that simply
# has days without posts (a sparse scrape over years) is not shaded as missing data.
GAP_CONTEXT_DAYS = 7
HOUR = timedelta(hours=1)
QUARTER = timedelta(minutes=15)


def hour_grid(first_utc: datetime, last_utc: datetime, to_local: Callable[[datetime], datetime]) -> list[datetime]:
    """Every local hour the UTC range passes through, once each.

    Built from UTC in hour steps, and in quarter-hour steps through any hour in which the
    offset changes, so an hour skipped by a daylight-saving change never appears (it would
    look like a gap) and half-hour zones keep whole local hours. One conversion per hour
    keeps a multi-year grid quick.
    """
    moment = first_utc.replace(minute=(first_utc.minute // 15) * 15, second=0, microsecond=0)
    seen: dict[datetime, None] = {}
    local = to_local(moment)
    while moment <= last_utc:
        following = to_local(moment + HOUR)
        if following - local == HOUR:
            seen[_floor_hour(local)] = None
        else:
            quarter = moment
            while quarter < moment + HOUR and quarter <= last_utc:
                seen[_floor_hour(to_local(quarter))] = None
                quarter += QUARTER
        moment, local = moment + HOUR, following
    seen[_floor_hour(to_local(last_utc))] = None  # the last, partial hour
    return list(seen)


def _floor_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def day_grid(first_local: datetime, last_local: datetime) -> list[datetime]:
    day = datetime(first_local.year, first_local.month, first_local.day)
    days = []
    while day <= last_local:
        days.append(day)
        day += timedelta(days=1)
    return days


def first_burst(counts: Sequence[int]) -> int | None:
    """Index of the first hour that takes off (see BURST_SHARE); the peak hour when none does
    (the data starts mid-burst, or never jumps); None for an empty series."""
    if not counts or max(counts) == 0:
        return None
    floor = BURST_SHARE * max(counts)
    for index, count in enumerate(counts):
        history = counts[max(0, index - BASELINE_HOURS):index]
        if not history:
            continue  # no past to jump from
        baseline = median(history)
        if count >= floor and count >= BURST_FACTOR * (baseline + 1):
            return index
    return int(max(range(len(counts)), key=counts.__getitem__))


def empty_runs(counts: Sequence[int]) -> list[tuple[int, int]]:
    """(first, last) indices of each run of zeros."""
    runs: list[tuple[int, int]] = []
    start = None
    for index, count in enumerate([*counts, 1]):
        if count == 0 and start is None:
            start = index
        elif count != 0 and start is not None:
            runs.append((start, index - 1))
            start = None
    return runs


def day_gaps(days: Sequence[datetime], counts: Sequence[int]) -> list[dict[str, object]]:
    """Runs of days without a single post whose neighbours make the silence implausible."""
    return [{"start": days[a].date().isoformat(), "end": days[b].date().isoformat(), "days": b - a + 1, **odds}
            for a, b, odds in _implausible_runs(counts, GAP_CONTEXT_DAYS)]


def hour_gaps(hours: Sequence[datetime], counts: Sequence[int]) -> list[dict[str, object]]:
    """Runs of empty hours whose neighbours make the silence implausible (GAP_MIN_EXPECTED)."""
    return [{"start": stamp(hours[a], "hour"), "end": stamp(hours[b], "hour"), "hours": b - a + 1, **odds}
            for a, b, odds in _implausible_runs(counts, GAP_CONTEXT_HOURS)]


def _implausible_runs(counts: Sequence[int], context: int) -> list[tuple[int, int, dict[str, float]]]:
    """Empty runs that the buckets around them (the quieter side) would have filled with at
    least GAP_MIN_EXPECTED posts, where that side itself holds at least as many: a rate read
    off two posts in a sparse collection is noise, and would flag its ordinary quiet spells."""
    runs = []
    for a, b in empty_runs(counts):
        # A side cut short by the range's edge counts its missing buckets as empty: too little
        # context makes the rate low, never high.
        sides = (counts[max(0, a - context):a], counts[b + 1:b + 1 + context])
        quieter = min(sum(side) for side in sides)
        rate = quieter / context
        expected = rate * (b - a + 1)
        if expected >= GAP_MIN_EXPECTED and quieter >= GAP_MIN_EXPECTED:
            runs.append((a, b, {"rate_around": round(rate, 2), "expected_posts": round(expected, 1),
                                "p_empty": float(f"{math.exp(-expected):.2e}")}))
    return runs


def peak(times: Sequence[datetime], counts: Sequence[int], bucket: str) -> dict[str, object] | None:
    if not counts:
        return None
    index = max(range(len(counts)), key=lambda i: (counts[i], -i))
    return {"t": stamp(times[index], bucket), "posts": counts[index]}


def cumulative(counts: Sequence[int]) -> list[int]:
    total, out = 0, []
    for count in counts:
        total += count
        out.append(total)
    return out



def stamp(moment: datetime, bucket: str) -> str:
    """A bucket's label: the date for a day, the local date and hour (to the minute) for an hour."""
    return moment.date().isoformat() if bucket == "day" else moment.isoformat(timespec="minutes")
