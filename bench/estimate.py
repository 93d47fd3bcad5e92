"""Calibration of `groundswell estimate`: does the 95% interval cover the truth, and how close is the estimate?

Usage: python bench/estimate.py [--seeds 100] [--posts 2500] [--json bench/out/estimate.json]

Not a timing benchmark: for each method, SEEDS simulated partial collections (simulate/
partial.py) are ingested into a fresh DuckDB store through the real pipeline and estimated
with the real library call, and the estimate is compared with the true total written beside
them. The gap-filled week is run on the daily counts directly (its estimate reads only daily
counts; a pipeline run of the same model is in tests/test_estimate.py). Prints, per method:
the share of seeds whose interval covers the truth (target 90-98%), the median relative
error of the point estimate (target <= 5% for limit notices and two overlapping
collections, <= 15% for a gap-filled week) and the median interval width relative to the
truth. docs/estimation.md holds the results of a run.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Callable

from groundswell.analysis.estimation import EstimateOptions, compute
from groundswell.analysis.estimation.gaps import fill
from groundswell.engines.duckdb import DuckDBEngine
from groundswell.ingest import IngestOptions, ingest
from groundswell.movement.definition import load_builtin
from groundswell.simulate import partial
from groundswell.simulate.model import TWITTER_START
from groundswell.store import Store

TARGETS = {"limit_notices": 0.05, "overlap_2": 0.05, "gap_week": 0.15}
Result = tuple[float, float, float, float]  # truth, estimate, low, high


def _pipeline(kind: str, seed: int, posts: int, collections: int = 2, rate: float | None = None,
              figure: str = "posts") -> Result:
    """One seed: write, ingest (one collection per file), estimate, and read the headline."""
    built = partial.build(kind, posts, seed, TWITTER_START, collections)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(str(Path(tmp) / "s.duckdb"))
        for name, lines in sorted(built.files.items()):
            path = Path(tmp) / name
            path.write_bytes(b"".join(line + b"\n" for line in lines))
            ingest([str(path)], store, IngestOptions(workers=1, collection=name))
        figures = compute(DuckDBEngine(store=store), load_builtin("metoo"), EstimateOptions(sample_rate=rate))
        store.close()
    head = figures["headline"]["posts" if figure == "posts" else "distinct_people"]
    truth = built.truth["true_movement_posts" if figure == "posts" else "true_movement_people"]
    return truth, head["estimated"], head["low"], head["high"]


def _gap_week(seed: int, posts: int) -> Result:
    counts = partial.scrape_days(random.Random(f"partial-scrape-{seed}"))
    onset, length = partial.SCRAPE_ONSET, partial.SCRAPE_GAP
    first = date(2017, 10, 1)
    series = {first + timedelta(days=i): n for i, n in enumerate(counts) if not onset < i <= onset + length}
    gap = fill(series, first + timedelta(days=onset + 1), length)
    truth = sum(counts[onset + 1:onset + 1 + length])
    if gap is None:
        return truth, float("nan"), float("nan"), float("nan")
    return truth, *gap.total


METHODS: dict[str, Callable[[int, int], Result]] = {
    "limit_notices": lambda seed, posts: _pipeline("stream", seed, posts),
    "overlap_2": lambda seed, posts: _pipeline("overlap", seed, posts, 2),
    "overlap_3": lambda seed, posts: _pipeline("overlap", seed, posts, 3),
    "sample_1pct_posts": lambda seed, posts: _pipeline("sample", seed, posts * 8, rate=0.01),
    "sample_1pct_people": lambda seed, posts: _pipeline("sample", seed, posts * 8, rate=0.01, figure="people"),
    "gap_week": _gap_week,
}


def summarise(results: list[Result]) -> dict[str, Any]:
    good = [r for r in results if r[1] == r[1]]
    covered = sum(1 for truth, _, low, high in good if low <= truth <= high)
    return {"seeds": len(results), "estimated": len(good), "coverage": covered / len(good) if good else None,
            "median_relative_error": statistics.median(abs(e - t) / t for t, e, _, _ in good) if good else None,
            "median_signed_error": statistics.median((e - t) / t for t, e, _, _ in good) if good else None,
            "median_relative_width": statistics.median((h - lo) / t for t, _, lo, h in good) if good else None}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--posts", type=int, default=2500)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--only", action="append", choices=sorted(METHODS))
    args = parser.parse_args(argv)
    out = {}
    for name in args.only or METHODS:
        start = time.perf_counter()
        results = [METHODS[name](seed, args.posts) for seed in range(1, args.seeds + 1)]
        out[name] = {**summarise(results), "seconds": round(time.perf_counter() - start, 1)}
        row = out[name]
        target = TARGETS.get(name)
        verdict = "" if target is None else (" meets" if row["median_relative_error"] <= target and
                                              0.90 <= row["coverage"] <= 0.98 else " MISSES") + " its targets"
        print(f"{name:20} coverage {row['coverage']:.0%}  median error {row['median_relative_error']:.1%} "
              f"(signed {row['median_signed_error']:+.1%})  median width {row['median_relative_width']:.1%}  "
              f"[{row['seconds']} s]{verdict}", flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"seeds": args.seeds, "posts": args.posts, "methods": out}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
