"""`groundswell trends` at scale: 100,000 hashtags over 2,000 hourly buckets, beside baselines
measured in the same run.

Usage: python bench/trends.py [--hashtags 100000] [--buckets 2000] [--runs 3]
                              [--baseline-hashtags 2000] [--seed 1]

Synthetic data (no real posts): hashtag activity is heavy-tailed (each tag's hourly rate is
lognormal, a few tags surge), so most (tag, hour) cells are empty as in real stores. The
posts, one row per (post, tag), go into an in-memory DuckDB `posts` table. Timed, each the
median of --runs runs:
  1. counts: the metric SQL (metrics/trends.py, non-empty cells only) into Arrow, against
     pandas exploding the same posts and grouping by tag and floored hour;
  2. scores and ranks: the sparse numpy point-by-point and cycle-corrected trend scores of
     every non-empty cell plus the top trend rank of 9 target series in every bucket,
     against a straightforward dense pandas version of the point-by-point score and ranks
     only (pivot to tags × hours, shift, scipy's Poisson interval per cell, DataFrame.rank
     per hour), so the baseline does less work than what it is compared with. The dense baseline runs on
     --baseline-hashtags tags and is scaled linearly to all of them (its work is per cell),
     which is stated beside the figure; its scores are checked equal to groundswell's there.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
from groundswell.analysis import trend_score  # noqa: E402
from groundswell.analysis.trends import Grid, hashtag_cells  # noqa: E402

START = datetime(2017, 10, 1)
TARGETS = 9


def synthetic_cells(hashtags: int, buckets: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Non-empty (tag, hour, posts) cells: lognormal hourly rates, 1% of tags surging for a day."""
    rng = np.random.default_rng(seed)
    rate = rng.lognormal(mean=-6.0, sigma=2.0, size=hashtags)
    active = rng.binomial(buckets, 1 - np.exp(-np.minimum(rate, 50)))
    tag = np.repeat(np.arange(hashtags), active)
    hour = np.concatenate([rng.choice(buckets, size=n, replace=False) for n in active])
    posts = 1 + rng.poisson(rate[tag])
    surging = rng.choice(hashtags, size=hashtags // 100, replace=False)
    when = rng.integers(0, buckets - 24, size=surging.size)
    extra_tag, extra_hour = np.repeat(surging, 24), (when[:, None] + np.arange(24)).ravel()
    keys = np.concatenate([tag * buckets + hour, extra_tag * buckets + extra_hour])
    values = np.concatenate([posts, rng.poisson(40, size=extra_tag.size) + 1])
    unique, inverse = np.unique(keys, return_inverse=True)
    return unique // buckets, unique % buckets, np.bincount(inverse, weights=values).astype(np.int64)


def posts_table(tag: np.ndarray, hour: np.ndarray, count: np.ndarray) -> Any:
    """One post per (cell, unit of count), with one hashtag key and a time inside its hour."""
    import pyarrow as pa

    rng = np.random.default_rng(7)
    tags, hours = np.repeat(tag, count), np.repeat(hour, count)
    micros = hours * 3_600_000_000 + rng.integers(0, 3_600_000_000, size=tags.size)
    created = pa.array(np.datetime64(START, "us") + micros.astype("timedelta64[us]"))
    keys = pa.ListArray.from_arrays(np.arange(tags.size + 1, dtype=np.int32), pa.array([f"tag{t}" for t in tags]))
    return pa.table({"created_at": created, "hashtag_keys": keys, "collected": pa.array(np.ones(tags.size, dtype=bool))})


def median_seconds(runs: int, work: Callable[[], Any]) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(runs):
        began = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - began)
    return statistics.median(times), result


class _Engine:
    """Just enough of an engine for analysis.trends.hashtag_cells: Arrow results from DuckDB."""

    def __init__(self, con: Any):
        self.con = con

    def arrow(self, sql: str) -> Any:
        relation = self.con.sql(sql)
        return (getattr(relation, "to_arrow_table", None) or relation.arrow)()


def score_and_rank(ids: np.ndarray, where: np.ndarray, counts: np.ndarray, observed: np.ndarray,
                   buckets: int) -> np.ndarray:
    previous = trend_score.sparse_scores(ids, where, counts, observed, "previous")
    trend_score.sparse_scores(ids, where, counts, observed, "cycle", period=24, window=7)
    targets = np.zeros((TARGETS, buckets), dtype=np.int64)
    for row in range(TARGETS):  # the busiest tags stand in for a movement's families
        mine = ids == row
        targets[row, where[mine]] = counts[mine]
    target = trend_score.scores(targets, observed)
    trend_score.ranks(target, ids, where, previous, [np.array([row]) for row in range(TARGETS)])
    return previous


def pandas_dense(ids: np.ndarray, where: np.ndarray, counts: np.ndarray, subset: int, buckets: int) -> Any:
    """The straightforward version: a dense tags × hours frame, scipy per cell, rank per hour."""
    import pandas as pd
    from scipy.stats import poisson

    keep = ids < subset
    frame = pd.DataFrame({"tag": ids[keep], "hour": where[keep], "posts": counts[keep]})
    dense = frame.pivot_table(index="tag", columns="hour", values="posts", fill_value=0).reindex(
        index=range(subset), columns=range(buckets), fill_value=0)
    nu = dense.shift(1, axis=1).clip(lower=trend_score.floor())
    low, high = poisson.interval(trend_score.ALPHA, nu.to_numpy())
    eta = pd.DataFrame((dense.to_numpy() - nu.to_numpy()) / np.maximum(high - low, 1), index=dense.index)
    eta.iloc[:, 0] = np.nan
    eta.rank(axis=0, ascending=False, method="min")
    return eta


def pandas_counts(posts: Any) -> Any:
    frame = posts.to_pandas()
    exploded = frame.explode("hashtag_keys")
    return exploded.groupby(["hashtag_keys", exploded["created_at"].dt.floor("h")]).size()


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hashtags", type=int, default=100_000)
    parser.add_argument("--buckets", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--baseline-hashtags", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    import duckdb

    tag, hour, count = synthetic_cells(args.hashtags, args.buckets, args.seed)
    order = np.argsort(-np.bincount(tag, weights=count, minlength=args.hashtags), kind="stable")
    rank_of = np.empty_like(order)
    rank_of[order] = np.arange(order.size)  # tag ids by volume, so the first ids are the busiest
    posts = posts_table(rank_of[tag], hour, count)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.register("posts", posts)
    print(f"machine: {os.cpu_count()} cores; synthetic: {args.hashtags:,} hashtags × {args.buckets:,} hourly buckets, "
          f"{tag.size:,} non-empty cells ({tag.size / (args.hashtags * args.buckets):.2%}), {posts.num_rows:,} posts")
    engine = _Engine(con)
    grid = Grid([START + i * timedelta(hours=1) for i in range(args.buckets)], np.zeros(args.buckets, dtype=np.int64),
                np.ones(args.buckets, dtype=bool), timedelta(hours=1))
    sql_s, (names, ids, where, counts) = median_seconds(args.runs, lambda: hashtag_cells(engine, grid, "hour"))
    ids = np.array([int(name[3:]) for name in names])[ids]  # back to the volume order
    pandas_s, _ = median_seconds(args.runs, lambda: pandas_counts(posts))
    print(f"counts, DuckDB SQL → arrays: {sql_s:.2f} s (median of {args.runs}); "
          f"pandas explode + groupby on the same posts: {pandas_s:.2f} s; ratio {pandas_s / sql_s:.1f}x")
    score_s, previous = median_seconds(args.runs, lambda: score_and_rank(ids, where, counts, grid.observed, args.buckets))
    subset = min(args.baseline_hashtags, args.hashtags)
    dense_s, dense = median_seconds(args.runs, lambda: pandas_dense(ids, where, counts, subset, args.buckets))
    scaled = dense_s * args.hashtags / subset
    mine = ids < subset
    assert np.allclose(previous[mine], dense.to_numpy()[ids[mine], where[mine]], equal_nan=True), "scores differ"
    print(f"scores (point by point and cycle-corrected) and ranks of {TARGETS} series, sparse numpy: {score_s:.2f} s; "
          f"dense pandas + scipy (point by point and ranks only): {dense_s:.2f} s on {subset:,} hashtags, scaled ×{args.hashtags / subset:g} to "
          f"{scaled:.1f} s; ratio {scaled / score_s:.0f}x (scores equal on the subset)")
    return {"hashtags": args.hashtags, "buckets": args.buckets, "cells": int(tag.size), "posts": posts.num_rows,
            "runs": args.runs, "counts_sql_s": sql_s, "counts_pandas_s": pandas_s, "score_s": score_s,
            "baseline_subset": subset, "baseline_subset_s": dense_s, "baseline_scaled_s": scaled,
            "score_ratio": scaled / score_s, "counts_ratio": pandas_s / sql_s}


if __name__ == "__main__":
    main()
