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


def hour_grid(first_utc: datetime, last_utc: datetime, to_local: Callable[[datetime], datetime]) -> list[datetime]:
    """Every local hour the UTC range passes through, once each.

    Built from UTC in quarter-hour steps, so an hour skipped by a daylight-saving change
    never appears (it would look like a gap) and half-hour zones keep whole local hours.
    """
    step = timedelta(minutes=15)
    moment = first_utc.replace(minute=(first_utc.minute // 15) * 15, second=0, microsecond=0)
    seen: dict[datetime, None] = {}
    while moment <= last_utc:
        seen[to_local(moment).replace(minute=0, second=0, microsecond=0)] = None
        moment += step
    return list(seen)


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
    """Every run of days without a single post inside the range."""
    return [{"start": days[a].date().isoformat(), "end": days[b].date().isoformat(), "days": b - a + 1}
            for a, b in empty_runs(counts)]


def hour_gaps(hours: Sequence[datetime], counts: Sequence[int]) -> list[dict[str, object]]:
    """Runs of empty hours whose neighbours make the silence implausible (GAP_MIN_EXPECTED)."""
    gaps = []
    for a, b in empty_runs(counts):
        # A side cut short by the range's edge counts its missing hours as empty: too little
        # context makes the rate low, never high.
        sides = (counts[max(0, a - GAP_CONTEXT_HOURS):a], counts[b + 1:b + 1 + GAP_CONTEXT_HOURS])
        rate = min(sum(side) for side in sides) / GAP_CONTEXT_HOURS
        expected = rate * (b - a + 1)
        if expected >= GAP_MIN_EXPECTED:
            gaps.append({"start": stamp(hours[a], "hour"), "end": stamp(hours[b], "hour"), "hours": b - a + 1,
                         "rate_around": round(rate, 2), "expected_posts": round(expected, 1),
                         "p_empty": float(f"{math.exp(-expected):.2e}")})
    return gaps


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
