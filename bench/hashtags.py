"""Daily hashtag counts from raw Twitter v2 files: groundswell against twarc-hashtags.

Usage: python bench/hashtags.py [--size-mb 40] [--runs 3]

twarc-hashtags (`twarc2 hashtags --group day`) is the peer tool that does exactly this: it
loads every tweet's hashtags into SQLite, then counts them per day. groundswell does the same
job as `groundswell ingest` followed by its per-day hashtag counts (metrics/trends.py, the
counts `groundswell trends --bucket day` starts from). Both start from the same file of real
twarc2 pages from ../shared/data, replicated with shifted ids (bench/ingest.py), and both
times include process start-up. The counts are compared too: twarc-hashtags lower-cases
tags, groundswell folds them to matching keys (docs/matching.md), so plain ASCII tags must agree.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ingest import OUT, V2_SOURCES, replicate

GROUNDSWELL_COUNTS = """
import sys
from groundswell.engines.duckdb import DuckDBEngine
from groundswell.metrics.trends import hashtag_cells
with DuckDBEngine(sys.argv[1]) as engine:
    cells = hashtag_cells(engine, "day")
with open(sys.argv[2], "w") as out:
    for key, day, posts in cells:
        out.write(f"{key},{day.date().isoformat()},{posts}\\n")
"""


def time_groundswell(path: Path, out: Path) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.duckdb"
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "groundswell", "ingest", str(path), "--db", str(db), "--json"],
                       check=True, capture_output=True)
        subprocess.run([sys.executable, "-c", GROUNDSWELL_COUNTS, str(db), str(out)], check=True, capture_output=True)
        return time.perf_counter() - start


def time_twarc_hashtags(path: Path, out: Path) -> float | None:
    twarc2 = shutil.which("twarc2", path=str(Path(sys.executable).parent))
    if twarc2 is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        # twarc2 asks for API keys before any command; this one needs none, so any token does.
        subprocess.run([twarc2, "hashtags", "--group", "day", "--db", str(Path(tmp) / "h.db"), str(path), str(out)],
                       check=True, capture_output=True, env={**os.environ, "BEARER_TOKEN": "offline-benchmark"},
                       cwd=tmp)  # twarc2 leaves a twarc.log where it runs
        return time.perf_counter() - start


def read_counts(path: Path, header: bool) -> dict[tuple[str, str], int]:
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    return {(tag, day): int(n) for tag, day, n in (rows[1:] if header else rows)}


def reference_counts(path: Path) -> dict[tuple[str, str], int]:
    """Tweets per (lower-cased tag, UTC day), each tweet id once: a plain count to check both tools.

    The same tweet appears several times in the input (twarc2 files overlap, as collections do),
    and a retweet carries the whole tags of the tweet it retweets.
    """
    import orjson
    from twarc.expansions import ensure_flattened

    seen: dict[str, tuple[str, set[str]]] = {}
    with path.open("rb") as handle:
        for line in handle:
            if line.strip():
                for tweet in ensure_flattened(orjson.loads(line)):
                    seen[tweet["id"]] = (tweet["created_at"][:10], _tags(tweet) | _retweeted_tags(tweet))
    counts: dict[tuple[str, str], int] = {}
    for day, tags in seen.values():
        for tag in tags:
            counts[(tag, day)] = counts.get((tag, day), 0) + 1
    return counts


def _tags(tweet: dict) -> set[str]:
    return {tag["tag"].lower() for tag in tweet.get("entities", {}).get("hashtags", [])}


def _retweeted_tags(tweet: dict) -> set[str]:
    """A retweet's own text is cut at 140 characters; its tags are the original's, whole."""
    for ref in tweet.get("referenced_tweets", []):
        if ref.get("type") == "retweeted":
            return _tags(ref)
    return set()


def agreement(found: dict[tuple[str, str], int], reference: dict[tuple[str, str], int]) -> dict[str, float]:
    """Over plain ASCII tags (where lower-casing and key folding coincide): cells equal to the reference."""
    cells = {cell for cell in reference if cell[0].isascii() and cell[0].replace("_", "").isalnum()}
    same = sum(1 for cell in cells if found.get(cell) == reference[cell])
    return {"cells": len(cells), "equal": same, "share_equal": same / max(1, len(cells))}


def main(argv: list[str] | None = None) -> dict | None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=40)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"v2-peer-{args.size_mb}mb.jsonl"
    replicate(V2_SOURCES, path, args.size_mb)
    ours_csv, theirs_csv = OUT / "hashtags-groundswell.csv", OUT / "hashtags-twarc.csv"
    if time_twarc_hashtags(path, theirs_csv) is None:
        print("twarc-hashtags is not installed: pip install -e '.[bench]'")
        return None
    ours = statistics.median(time_groundswell(path, ours_csv) for _ in range(args.runs))
    theirs = statistics.median(time_twarc_hashtags(path, theirs_csv) for _ in range(args.runs))  # type: ignore[type-var]
    reference = reference_counts(path)
    checks = {"groundswell": agreement(read_counts(ours_csv, header=False), reference),
              "twarc_hashtags": agreement(read_counts(theirs_csv, header=True), reference)}
    result = {"mb": args.size_mb, "runs": args.runs, "groundswell_s": ours, "twarc_hashtags_s": theirs,
              "speedup": theirs / ours, "agreement_with_distinct_tweet_count": checks}
    print(f"daily hashtag counts from {args.size_mb} MB of v2 pages (median of {args.runs}): groundswell {ours:.1f} s, "
          f"twarc-hashtags {theirs:.1f} s = {theirs / ours:.2f}x")
    for tool, check in checks.items():
        print(f"  {tool}: {check['equal']:,} of {check['cells']:,} ASCII tag-day cells equal a count of distinct tweets")
    (OUT / "hashtags.json").write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
