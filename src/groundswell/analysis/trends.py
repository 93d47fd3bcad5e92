"""The figures of `groundswell trends` and of the report's trends section, in one JSON-able dict.

When did the movement take off (its onset: the start of its first Kleinberg burst), when
did each family, variant, language and platform first appear and take off, how far each
lagged behind the core family, and where the families ranked among every hashtag of the
store by the Poisson trend score, bucket by bucket. See docs/trends.md.

Counts come from SQL (metrics/trends.py); Kleinberg (bursts.py) and the trend score
(trend_score.py) run here on those aggregates. Buckets in which the store holds no post at
all and whose neighbours make that silence implausible (the report's gap rule, see
series.py) are unobserved: neither lulls nor bursts are read into them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..engines.base import Engine
from ..metrics import scope
from ..metrics import trends as sql
from ..movement.definition import Movement
from ..privacy import Privacy
from . import bursts
from .. import series as timeseries
from . import trend_score as score

TABLE = "gs_trends_scope"
CORE = "core"
LEAD_LAG = ("family", "variant", "language", "platform")
STEPS = {"hour": timedelta(hours=1), "day": timedelta(days=1)}


@dataclass(frozen=True)
class TrendOptions:
    bucket: str = "hour"
    baseline: str = "previous"  # or "cycle"
    window: int = score.WINDOW
    alpha: float = score.ALPHA
    s: float = 2.0
    gamma: float = 1.0
    privacy: Privacy = field(default_factory=Privacy)

    @property
    def period(self) -> int:
        return score.PERIODS[self.bucket]

    def as_dict(self) -> dict[str, Any]:
        return {"bucket": self.bucket, "timezone": "UTC", "baseline": self.baseline, "period": self.period, "window": self.window,
                "alpha": self.alpha, "baseline_floor": round(score.floor(self.alpha), 4), "s": self.s,
                "gamma": self.gamma, "onset_model": "kleinberg-continuous"}


@dataclass(frozen=True)
class Grid:
    """Every UTC bucket from the store's first collected post to its last."""

    times: list[datetime]
    totals: np.ndarray  # collected posts per bucket, whatever the movement
    observed: np.ndarray  # False inside a collection gap
    step: timedelta

    def index(self, moment: datetime) -> int:
        return int((moment - self.times[0]) / self.step)

    def iso(self, i: int) -> str:
        return self.times[i].isoformat() + "Z"


def compute(engine: Engine, movement: Movement | None, options: TrendOptions = TrendOptions(),
            table: str | None = None) -> dict[str, Any]:
    """Every trends figure. `table` is a movement scope already built (e.g. the report's
    `gs_scope`); without it the movement's posts are matched once into a temp table."""
    if options.bucket not in STEPS:
        raise ValueError(f"bucket must be one of {tuple(STEPS)}")
    if table is None:
        engine.query(f"CREATE OR REPLACE TEMP TABLE {TABLE} AS {scope.scope_base_sql(movement)}")
        table = TABLE
    grid = _grid(engine, options.bucket)
    doc: dict[str, Any] = {"movement": movement.summary() if movement else None, "settings": options.as_dict(),
                           "privacy": options.privacy.as_dict(), "range": _range(grid)}
    if grid is None:
        return {**doc, "onset": _onset(None), "reference": None, "series": [], "lead_lag": [],
                "top_trend_rank": {"families": [], "buckets": []}}
    series = _series(engine, table, grid, movement, options)
    reference = _reference(series, movement)
    for row in series:
        row["lag_hours"] = _lag(row, reference)
    doc["onset"] = _onset(_find(series, "movement", "all"))
    doc["reference"] = {k: reference.get(k) for k in ("dimension", "value", "onset")} if reference else None
    doc["series"] = [_public(row) for row in series]
    doc["lead_lag"] = _lead_lag(series)
    doc["top_trend_rank"] = _top_trend_rank(engine, grid, movement, series, options)
    return doc


# --- the bucket grid -----------------------------------------------------------------------------


def _grid(engine: Engine, bucket: str) -> Grid | None:
    totals = sql.bucket_totals(engine.query, bucket)
    if not totals:
        return None
    step, first = STEPS[bucket], totals[0][0]
    size = int((totals[-1][0] - first) / step) + 1
    times = [first + i * step for i in range(size)]
    counts = np.zeros(size, dtype=np.int64)
    for moment, n in totals:
        counts[int((moment - first) / step)] = n
    return Grid(times, counts, _observed(times, counts, bucket), step)


def _observed(times: list[datetime], counts: np.ndarray, bucket: str) -> np.ndarray:
    """False in the report's collection gaps: empty days; empty hours whose neighbours
    would have put at least 10 posts into them."""
    observed = np.ones(len(times), dtype=bool)
    label = {timeseries.stamp(t, bucket): i for i, t in enumerate(times)}
    gaps = timeseries.hour_gaps(times, list(counts)) if bucket == "hour" else timeseries.day_gaps(times, list(counts))
    for gap in gaps:
        observed[label[str(gap["start"])]:label[str(gap["end"])] + 1] = False
    return observed


def _range(grid: Grid | None) -> dict[str, Any]:
    if grid is None:
        return {"first": None, "last": None, "buckets": 0, "unobserved_buckets": 0, "gaps": []}
    gaps = [{"start": grid.iso(a), "end": grid.iso(b), "buckets": b - a + 1}
            for a, b in timeseries.empty_runs(list(grid.observed.astype(int)))]
    return {"first": grid.iso(0), "last": grid.iso(len(grid.times) - 1), "buckets": len(grid.times),
            "unobserved_buckets": int((~grid.observed).sum()), "gaps": gaps}


# --- every group of the movement: counts, first sighting, bursts, trend score ---------------------


def _series(engine: Engine, table: str, grid: Grid, movement: Movement | None,
            options: TrendOptions) -> list[dict[str, Any]]:
    counts: dict[tuple[str, str], np.ndarray] = {}
    for dimension, value, moment, n in sql.group_cells(engine.query, options.bucket, table):
        counts.setdefault((dimension, value), np.zeros(len(grid.times), dtype=np.int64))[grid.index(moment)] = n
    rows = []
    for seen in sql.first_sightings(engine.query, table):
        row = {**seen, **_describe(movement, seen["dimension"], seen["value"]), "first_seen": _iso(seen["first_seen"]),
               "suppressed": _small(seen["distinct_authors"], seen["posts"], options.privacy)}
        if row["suppressed"]:  # a small cell's counts and first post would point at people
            row.update(posts=None, distinct_authors=None, first_seen=None)
        rows.append(row)
    rows += _unseen_families(movement, rows)
    shown = [r for r in rows if not r["suppressed"] and r["posts"]]
    for row in rows:
        if row["posts"] == 0:
            row.update({"onset": None, "gap_before_onset": False, "bursts": {"continuous": [], "batched": []},
                        "models": {"continuous": None, "batched": None}, "peak_eta": None})
    empty = np.zeros(len(grid.times), dtype=np.int64)
    matrix = np.vstack([counts.get((r["dimension"], r["value"]), empty) for r in shown]) if shown else None
    if matrix is not None:
        for row, figures in zip(shown, _analyse(matrix, grid, options)):
            row.update(figures)
    order = {name: i for i, name in enumerate(sql.DIMENSIONS)}
    rows.sort(key=lambda r: (order[r["dimension"]], r.get("onset") or "~", r["value"]))
    return rows


def _unseen_families(movement: Movement | None, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Families of the definition with no post at all: listed, so that absence shows."""
    seen = {r["value"] for r in rows if r["dimension"] == "family"}
    return [{"dimension": "family", "value": f.label, "language": f.language, "first_seen": None, "posts": 0,
             "distinct_authors": 0, "suppressed": False} for f in (movement.families if movement else ()) if f.label not in seen]


def _describe(movement: Movement | None, dimension: str, value: str) -> dict[str, Any]:
    """The family a variant belongs to, the language a family is written in."""
    if movement is None:
        return {}
    if dimension == "variant":
        return {"family": movement.stored_forms().get(value)}
    if dimension == "family":
        return {"language": next((f.language for f in movement.families if f.label == value), None)}
    return {}


def _small(authors: int, posts: int, privacy: Privacy) -> bool:
    """Fewer people than the floor; where no post has an author, its posts bound its people."""
    return privacy.mode != "off" and (authors or posts) < privacy.min_cell


def _analyse(matrix: np.ndarray, grid: Grid, options: TrendOptions) -> list[dict[str, Any]]:
    """Bursts (both models), onset and peak trend score of each row of a (series × buckets) matrix."""
    continuous = bursts.continuous_many(matrix, grid.observed, options.s, options.gamma)
    share = bursts.batched_many(matrix, grid.totals, options.s, options.gamma)
    eta = score.scores(matrix, grid.observed, options.baseline, options.period, options.window, options.alpha)
    out = []
    for i, (found, batch) in enumerate(zip(continuous, share)):
        onset = found.onset
        scored = np.isfinite(eta[i])
        peak = int(np.nanargmax(eta[i])) if scored.any() else None
        out.append({
            "onset": grid.iso(onset) if onset is not None else None,
            "gap_before_onset": onset is not None and not bool(grid.observed[_first(matrix[i]):onset].all()),
            "bursts": {"continuous": [_burst(b, grid) for b in found.bursts],
                       "batched": [_burst(b, grid) for b in batch.bursts]},
            "models": {"continuous": _model(found.model), "batched": _model(batch.model)},
            "peak_eta": None if peak is None else
            {"t": grid.iso(peak), "eta": round(float(eta[i, peak]), 3), "posts": int(matrix[i, peak])},
            "_eta": eta[i],
        })
    return out


def _first(counts: np.ndarray) -> int:
    """The first bucket with a post (the series' first sighting)."""
    nonzero = np.flatnonzero(counts)
    return int(nonzero[0]) if nonzero.size else 0


def _model(model: bursts.PoissonModel | bursts.BinomialModel | None) -> dict[str, Any] | None:
    """The fitted parameters: the base rate (posts per bucket) or share, states, cost of a level."""
    if model is None:
        return None
    base = {"base_rate": round(model.base_rate, 4)} if isinstance(model, bursts.PoissonModel) else \
        {"base_share": round(model.base_share, 6)}
    return {**base, "states": model.k, "level_cost": round(model.up_cost, 4)}


def _burst(burst: bursts.Burst, grid: Grid) -> dict[str, Any]:
    return {"level": burst.level, "start": grid.iso(burst.start), "end": grid.iso(burst.end),
            "buckets": burst.end - burst.start + 1, "weight": round(burst.weight, 2),
            "spans_gap": not bool(grid.observed[burst.start:burst.end + 1].all())}


def _find(series: list[dict[str, Any]], dimension: str, value: str) -> dict[str, Any] | None:
    return next((r for r in series if r["dimension"] == dimension and r["value"] == value), None)


def _reference(series: list[dict[str, Any]], movement: Movement | None) -> dict[str, Any] | None:
    """The core family (labelled `core`, else the definition's first), or the whole movement."""
    if movement is not None and movement.families:
        labels = movement.labels()
        row = _find(series, "family", CORE if CORE in labels else labels[0])
        if row is not None and not row["suppressed"]:
            return row
    row = _find(series, "movement", "all")
    return row if row is not None and not row["suppressed"] else None


def _lag(row: dict[str, Any], reference: dict[str, Any] | None) -> float | None:
    if reference is None or row.get("onset") is None or reference.get("onset") is None:
        return None
    return (_parse(row["onset"]) - _parse(reference["onset"])) / timedelta(hours=1)


def _onset(row: dict[str, Any] | None) -> dict[str, Any]:
    first = row["bursts"]["continuous"][0] if row and not row["suppressed"] and row["bursts"]["continuous"] else None
    fitted = row.get("models", {}).get("continuous") if row else None
    return {"at": first["start"] if first else None, "series": "movement", "model": "kleinberg-continuous",
            "first_burst": first, "base_rate": fitted["base_rate"] if fitted else None}


def _public(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if not k.startswith("_")}


def _lead_lag(series: list[dict[str, Any]]) -> list[dict[str, Any]]:
    keys = ("dimension", "value", "family", "language", "posts", "distinct_authors", "first_seen", "onset",
            "gap_before_onset", "lag_hours", "suppressed")
    rows = [{k: row.get(k) for k in keys} for row in series if row["dimension"] in LEAD_LAG]
    return [{k: v for k, v in row.items() if v is not None or k not in ("family", "language")}
            for row in rows]


# --- where the families rank among all hashtags ------------------------------------------------


def _top_trend_rank(engine: Engine, grid: Grid, movement: Movement | None, series: list[dict[str, Any]],
                    options: TrendOptions) -> dict[str, Any]:
    families = [r for r in series if r["dimension"] == "family" and "_eta" in r]
    if not families:
        return {"families": [], "buckets": []}
    names, ids, where, counts = hashtag_cells(engine, grid, options.bucket)
    cell_eta = score.sparse_scores(ids, where, counts, grid.observed, options.baseline, options.period,
                                   options.window, options.alpha)
    forms = movement.stored_forms() if movement else {}
    own = [np.flatnonzero(np.isin(names, [k for k, label in forms.items() if label == r["value"]])) for r in families]
    target = np.vstack([r["_eta"] for r in families])
    ranked, present = score.ranks(target, ids, where, cell_eta, own)
    labels = [r["value"] for r in families]
    return {"families": [_rank_summary(label, ranked[i], target[i], grid) for i, label in enumerate(labels)],
            "buckets": _rank_rows(labels, ranked, target, present, grid)}


def hashtag_cells(engine: Engine, grid: Grid, bucket: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every non-empty (hashtag, bucket) cell as arrays: key names, key ids, bucket index, posts."""
    table = engine.arrow(sql.hashtag_cells_sql(bucket))
    if table.num_rows == 0:
        empty = np.zeros(0, dtype=np.int64)
        return np.array([], dtype=object), empty, empty, empty
    keys = pc.dictionary_encode(table.column("hashtag_key")).combine_chunks()
    micros = table.column("bucket").cast(pa.timestamp("us")).cast(pa.int64()).to_numpy()
    origin = (grid.times[0] - datetime(1970, 1, 1)) // timedelta(microseconds=1)
    where = (micros - origin) // (grid.step // timedelta(microseconds=1))
    return (np.array(keys.dictionary.to_pylist(), dtype=object), keys.indices.to_numpy().astype(np.int64),
            where.astype(np.int64), table.column("posts").to_numpy().astype(np.int64))


def _rank_summary(label: str, ranked: np.ndarray, eta: np.ndarray, grid: Grid) -> dict[str, Any]:
    first = np.flatnonzero(ranked == 1)
    scored = np.isfinite(ranked)
    return {"label": label, "buckets_trending": int(scored.sum()), "buckets_ranked_first": int(first.size),
            "first_ranked_first": grid.iso(int(first[0])) if first.size else None,
            "best_rank": int(np.nanmin(ranked)) if scored.any() else None}


def _rank_rows(labels: list[str], ranked: np.ndarray, eta: np.ndarray, present: np.ndarray,
               grid: Grid) -> list[dict[str, Any]]:
    rows = []
    for t in np.flatnonzero(np.isfinite(ranked).any(axis=0)):
        rows.append({"t": grid.iso(int(t)), "hashtags": int(present[t]),
                     "ranks": {label: _int(ranked[i, t]) for i, label in enumerate(labels)},
                     "eta": {label: _round(eta[i, t]) for i, label in enumerate(labels)}})
    return rows


def _int(value: float) -> int | None:
    return int(value) if np.isfinite(value) else None


def _round(value: float) -> float | None:
    return round(float(value), 3) if np.isfinite(value) else None


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() + "Z" if moment is not None else None


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.removesuffix("Z"))
