"""Every figure of the magnitude report, computed once, for the HTML, the terminal, `stats --json`
and the exports alike. See docs/metrics.md for what each figure means.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from .. import __version__
from ..analysis import language
from ..series import peak
from ..metrics import audience, composition, coverage, scope, volume
from ..movement.definition import Movement
from ..engines.base import Engine
from ..store import Store
from ..forget import tombstone_counts
from ..privacy import Privacy

Query = Callable[[str], list[tuple]]
Note = Callable[[str], None]
COLLECTED = "(SELECT created_at FROM posts WHERE collected) AS collected_posts"


def _quiet(message: str) -> None:
    return None


@dataclass(frozen=True)
class ReportOptions:
    bucket: str = "hour"
    tz: str = "UTC"
    privacy: Privacy = field(default_factory=Privacy)
    top: int = audience.TOP
    workers: int = 0  # language detection processes; 0: one per core

    def as_dict(self) -> dict[str, Any]:
        return {"bucket": self.bucket, "tz": self.tz, "top": self.top,
                "privacy": {**self.privacy.as_dict(), "description": self.privacy.describe()}}


def as_engine(source: Store | Engine) -> Engine:
    """Figures take an engine; a DuckDB store opened by the caller becomes one (still the caller's)."""
    if isinstance(source, Engine):
        return source
    from ..engines.duckdb import DuckDBEngine

    return DuckDBEngine(store=source)


def prepare_scope(source: Store | Engine, movement: Movement | None, writable: bool, workers: int = 0,
                  languages: bool = True, note: Note = _quiet) -> Engine:
    """Materialize `gs_scope` in the engine's session and return the engine; with `languages`,
    posts without a source language get one from the detector (cached in a writable store)."""
    query = as_engine(source)
    scope.materialize_base(query, movement)
    detected = language.prepare(query, scope.SCOPE, writable, workers, note) if languages else None
    scope.materialize_scope(query, detected)
    return query


def compute(source: Store | Engine, movement: Movement | None, options: ReportOptions, writable: bool,
            note: Note = _quiet) -> dict[str, Any]:
    """Every figure, on the DuckDB store or any engine (Spark reads a lake; it never writes)."""
    query = prepare_scope(source, movement, writable, options.workers, note=note)
    options = replace(options, privacy=options.privacy.bind(query, writable))  # the store's salt: stable labels
    first, last = scope.time_range(query)
    figures: dict[str, Any] = {
        "groundswell_version": __version__,
        "settings": options.as_dict(),
        "movement": movement.as_dict() if movement else None,
    }
    timed = _empty(query, options) if first is None or last is None else _timed(query, movement, options, first, last)
    figures["headline"] = {**volume.totals(query), **timed.pop("headline_time")}
    figures.update(timed)
    figures.update(_audience(query, movement, options))
    figures.update(_spread(query, movement, options))
    return figures


def _spread(query: Engine, movement: Movement | None, options: ReportOptions) -> dict[str, Any]:
    """The spread sections (docs/spread.md, docs/trends.md, docs/networks.md), over the same
    scope as every other figure, so nothing is matched twice."""
    from ..analysis import cascades, communities, trends

    trend_options = trends.TrendOptions(bucket=options.bucket, privacy=options.privacy)
    return {
        "spread": cascades.spread_figures(query, movement, options.privacy, options.top, table=scope.SCOPE),
        "trends": trends.compute(query, movement, trend_options, table=scope.SCOPE),
        "network": communities.network_figures(query, movement, options.privacy, table=scope.SCOPE),
    }


def _timed(query: Engine, movement: Movement | None, options: ReportOptions,
           first: datetime, last: datetime) -> dict[str, Any]:
    store_first, store_last = scope.time_range(query, COLLECTED)
    local = scope.clock(options.tz, min(first, store_first or first), max(last, store_last or last))
    utc = scope.clock("UTC", first, last)
    utc_hours, utc_counts = volume.posts_per_bucket(query, utc, "hour", first, last)
    hours, hour_counts = volume.posts_per_bucket(query, local, "hour", first, last)
    days, day_counts = volume.posts_per_bucket(query, local, "day", first, last)
    gaps = _gaps(query, local, store_first or first, store_last or last)
    start = volume.start(query, movement, utc_hours, utc_counts)
    at = _parse(start["at"])
    head: dict[str, Any] = {"start": start, "first_24h": None}
    if at is not None:
        head["first_24h"] = {**volume.first_hours(query, at), **_window_gaps(local, at, gaps)}
    families = composition.families(query, movement, privacy=options.privacy)
    labels = [family["label"] for family in families if not family["suppressed"]]  # no series for a hidden cell
    bucket, tz = options.bucket, local.tz
    return {
        "headline_time": head,
        "volume": {
            "bucket": bucket, "tz": tz,
            "series": volume.series(query, local, bucket, first, last),
            "peak_hour": peak(hours, hour_counts, "hour"), "peak_day": peak(days, day_counts, "day"),
            "milestones": volume.milestones(query, at),
            "around_start": volume.around_start(hours, hour_counts, local.to_local(at)) if at else [],
        },
        "hashtag_vs_phrase": {"totals": composition.match_totals(query),
                              "series": composition.match_series(query, local, bucket, first, last)},
        "families": {"families": families,
                     "series": composition.family_series(query, local, bucket, first, last, labels),
                     "variants": composition.variants(query, movement, privacy=options.privacy)},
        "coverage": _coverage(query, gaps),
    }


def _audience(query: Engine, movement: Movement | None, options: ReportOptions) -> dict[str, Any]:
    privacy = options.privacy
    return {
        "platforms": audience.platforms(query, privacy=privacy),
        "languages": {**audience.languages(query, privacy=privacy), "detector": language.detector_name(),
                      "min_words": language.MIN_WORDS},
        "co_hashtags": audience.co_hashtags(query, movement, options.top, privacy=privacy),
        "most_engaged": audience.most_engaged(query, privacy, options.top),
        "most_followed": audience.most_followed(query, privacy, options.top),
    }


def _coverage(query: Engine, gaps: dict[str, Any]) -> dict[str, Any]:
    file_rows = coverage.files(query)
    store_posts = coverage.store_posts(query)
    in_scope = coverage.scope_posts(query, scope.SCOPE)
    return {
        "files": file_rows,
        "formats": coverage.formats(file_rows),
        "runs": coverage.runs(query),
        "quarantine": coverage.quarantine(query),
        "deletions": tombstone_counts(query),  # posts removed by compliance, notices and `forget`
        "store": store_posts,
        "scope": in_scope,
        "not_matched": store_posts["collected"] - in_scope["posts"],
        "gaps": gaps,
    }


def _gaps(query: Engine, local: scope.Clock, first: datetime, last: datetime) -> dict[str, Any]:
    """Gaps are looked for in every collected post's times, not only the movement's."""
    hours, hour_counts = volume.posts_per_bucket(query, local, "hour", first, last, COLLECTED)
    days, day_counts = volume.posts_per_bucket(query, local, "day", first, last, COLLECTED)
    return coverage.gaps(hours, hour_counts, days, day_counts)


def _window_gaps(local: scope.Clock, at: datetime, gaps: dict[str, Any]) -> dict[str, Any]:
    """Whether the first 24 hours overlap a flagged gap, which would make their count a floor."""
    start, end = local.to_local(at), local.to_local(at + timedelta(hours=volume.FIRST_HOURS))
    hits = [gap for gap in gaps["hours"]
            if datetime.fromisoformat(gap["start"]) < end and datetime.fromisoformat(gap["end"]) + timedelta(hours=1) > start]
    hits += [gap for gap in gaps["days"]
             if datetime.fromisoformat(gap["start"]) < end and datetime.fromisoformat(gap["end"]) + timedelta(days=1) > start]
    return {"overlaps_gap": bool(hits)}


def _empty(query: Engine, options: ReportOptions) -> dict[str, Any]:
    """A scope with no timed post: headline and coverage only, every series empty."""
    gaps = coverage.gaps([], [], [], [])
    return {
        "headline_time": {"start": {"at": None, "method": "none", "post": None}, "first_24h": None},
        "volume": {"bucket": options.bucket, "tz": options.tz, "series": [], "peak_hour": None, "peak_day": None,
                   "milestones": volume.milestones(query, None), "around_start": []},
        "hashtag_vs_phrase": {"totals": composition.match_totals(query), "series": []},
        "families": {"families": [], "series": [], "variants": []},
        "coverage": _coverage(query, gaps),
    }


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.rstrip("Z")) if value else None


def generated_at() -> str:
    return datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0).isoformat() + "Z"
