"""Twitter v1.1 stream limit notices: how many matching tweets the stream did not deliver.

Each notice's `track` is the count of undelivered tweets since the connection opened, kept
per stream shard; several shards' counters arrive interleaved on one connection, and a
reconnect starts every counter again from zero. Wu, Rizoiu and Xie (ICWSM 2020) showed the
notices account for the missing volume. Here a connection is one source file, read in line
order; each notice joins the active shard counter whose last value is the largest one not
above it. A value below every active counter opens a new one: when it is under half of the
smallest, the connection was reset and every active counter ends there; otherwise it is a
shard not seen before (shards' counters start together, so theirs stay close).
A counter's first value counts in full (its count started at zero), each later value counts
its increment, and every increment is placed at its notice's time.

A notice comes only while the stream is being limited, so a silence means nothing was
dropped, except in the moments after a counter's last notice: what was dropped between it
and the connection's end (its last post) is unknown. It is estimated from that counter's own
drop rate over that time, at most one of its median intervals between notices, with a
Poisson interval.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime

from scipy import stats


@dataclass
class Counter:
    last: int
    first_at: datetime | None
    last_at: datetime | None
    total: int = 0
    first: int = 0  # the first value: dropped before the first notice, at an unknown rate
    steps: list[float] = field(default_factory=list)  # seconds between its notices


@dataclass
class Increments:
    """What one connection's notices say: dropped tweets by notice time, and its counters."""

    at: list[tuple[datetime | None, int]] = field(default_factory=list)
    windows: list[tuple[datetime | None, datetime | None, int]] = field(default_factory=list)  # (since, at, dropped)
    counters: list[Counter] = field(default_factory=list)
    active: list[Counter] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(n for _, n in self.at)


def increments(notices: list[tuple[int, datetime | None]]) -> Increments:
    """(track, time) in line order -> dropped counts per notice, handling shards and resets."""
    out = Increments()
    for track, at in notices:
        fits = [c for c in out.active if c.last <= track]
        if fits:
            counter = max(fits, key=lambda c: c.last)
            step = track - counter.last
        else:
            if out.active and track < min(c.last for c in out.active) / 2:
                out.active.clear()  # a reconnect: every counter starts again from zero
            counter = Counter(0, at, at, first=track)
            out.counters.append(counter)
            out.active.append(counter)
            step = track
        since = counter.last_at if fits else None
        if since is not None and at is not None:
            counter.steps.append((at - since).total_seconds())
        counter.last, counter.last_at, counter.total = track, at, counter.total + step
        if step:
            out.at.append((at, step))
            out.windows.append((since, at, step))
    return out


def tail(found: Increments, end: datetime | None) -> tuple[float, float, float]:
    """Drops after each counter's last notice up to `end`: (expected, low, high) of their sum."""
    expected = 0.0
    for counter in found.counters:
        if end is None or counter.first_at is None or counter.last_at is None or end <= counter.last_at:
            continue
        span = (counter.last_at - counter.first_at).total_seconds()
        if span <= 0 or not counter.steps:
            continue
        window = min((end - counter.last_at).total_seconds(), statistics.median(counter.steps))
        expected += (counter.total - counter.first) / span * window
    if expected <= 0:
        return 0.0, 0.0, 0.0
    return expected, float(stats.poisson.ppf(0.025, expected)), float(stats.poisson.ppf(0.975, expected))
