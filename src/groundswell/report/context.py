"""What several figures share, computed once per report: the scope's span, its clocks, the
posts per hour, the collection gaps, the movement's start, its families.

A figure of the registry (registry.py) asks the context for these instead of recomputing
them, so the headline, the volume chart, the trends and the coverage section agree on one
start and one set of gaps, and a dashboard that asks for one figure pays for only what that
figure needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from ..engines.base import Engine
from ..metrics import audience, composition, coverage, scope, volume
from ..movement.definition import Movement
from ..privacy import Privacy

COLLECTED = "(SELECT created_at FROM posts WHERE collected) AS collected_posts"


@dataclass(frozen=True)
class ReportOptions:
    bucket: str = "auto"  # resolved from the scope's span when figures are computed
    tz: str = "UTC"
    privacy: Privacy = field(default_factory=Privacy)
    top: int = audience.TOP
    workers: int = 0  # language detection processes; 0: one per core

    def as_dict(self) -> dict[str, Any]:
        return {"bucket": self.bucket, "tz": self.tz, "top": self.top,
                "privacy": {**self.privacy.as_dict(), "description": self.privacy.describe()}}


class Context:
    """One report's engine (with `gs_scope` built), movement and options, and the values its
    figures share, each computed on first use."""

    def __init__(self, query: Engine, movement: Movement | None, options: ReportOptions):
        self.query, self.movement = query, movement
        self.first, self.last = scope.time_range(query)
        self.options = options
        self._series: dict[tuple[str, bool], tuple[list[datetime], list[int]]] = {}

    @property
    def timed(self) -> bool:
        """Whether any post in scope has a time: without one, every series is empty."""
        return self.first is not None and self.last is not None

    @property
    def privacy(self) -> Privacy:
        return self.options.privacy

    @cached_property
    def local(self) -> scope.Clock:
        store_first, store_last = scope.time_range(self.query, COLLECTED)
        first, last = _first(self.first, store_first), _last(self.last, store_last)
        return scope.clock(self.options.tz, first, last)

    @cached_property
    def store_range(self) -> tuple[datetime, datetime]:
        store_first, store_last = scope.time_range(self.query, COLLECTED)
        return store_first or self.first, store_last or self.last  # type: ignore[return-value]

    def per_bucket(self, bucket: str, utc: bool = False) -> tuple[list[datetime], list[int]]:
        """The scope's posts on the complete grid of local (or UTC) hours or days."""
        key = (bucket, utc)
        if key not in self._series:
            clock = scope.clock("UTC", self.first, self.last) if utc else self.local
            self._series[key] = volume.posts_per_bucket(self.query, clock, bucket, self.first, self.last)
        return self._series[key]

    @cached_property
    def gaps(self) -> dict[str, Any]:
        """Gaps are looked for in every collected post's times, not only the movement's."""
        if not self.timed:
            return coverage.gaps([], [], [], [])
        first, last = self.store_range
        hours, hour_counts = volume.posts_per_bucket(self.query, self.local, "hour", first, last, COLLECTED)
        days, day_counts = volume.posts_per_bucket(self.query, self.local, "day", first, last, COLLECTED)
        return coverage.gaps(hours, hour_counts, days, day_counts)

    @cached_property
    def start(self) -> dict[str, Any]:
        if not self.timed:
            return {"at": None, "method": "none", "post": None, "set_aside": None}
        return volume.start(self.query, self.movement, *self.per_bucket("hour", utc=True))

    @property
    def start_at(self) -> datetime | None:
        at = self.start["at"]
        return datetime.fromisoformat(at.rstrip("Z")) if at else None

    @cached_property
    def families(self) -> list[dict[str, Any]]:
        return composition.families(self.query, self.movement, privacy=self.privacy)

    def window_overlaps_gap(self, at: datetime) -> bool:
        """Whether the first 24 hours overlap a flagged gap, which would make their count a floor."""
        local = self.local
        start, end = local.to_local(at), local.to_local(at + timedelta(hours=volume.FIRST_HOURS))
        hits = [g for g in self.gaps["hours"] if datetime.fromisoformat(g["start"]) < end
                and datetime.fromisoformat(g["end"]) + timedelta(hours=1) > start]
        hits += [g for g in self.gaps["days"] if datetime.fromisoformat(g["start"]) < end
                 and datetime.fromisoformat(g["end"]) + timedelta(days=1) > start]
        return bool(hits)


def _first(a: datetime | None, b: datetime | None) -> datetime | None:
    return min(x for x in (a, b) if x is not None) if (a or b) else None


def _last(a: datetime | None, b: datetime | None) -> datetime | None:
    return max(x for x in (a, b) if x is not None) if (a or b) else None
