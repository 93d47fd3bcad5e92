"""Ingest at 10^6 and 10^7 posts, and of one 2 GB JSONL file: wall time and peak memory.

Usage: python bench/ingest_scale.py [--sizes 1e6,1e7] [--runs 3] [--big-file-gb 2] [--skip-big-file]

The scale inputs are SYNTHETIC GetOldTweets days (the commonest archive shape, as in
aurora848), written by DuckDB from bench/report_scale.py's generator: the aurora848 hourly
volume, heavy-tailed authors, the movement's hashtags, a snowflake id that agrees with the
written US Eastern time. Each size is written once under bench/out and reused. For each,
`groundswell ingest --json` runs in a fresh process into a fresh store; the peak memory is
the largest sum of RSS over the process tree (the CLI and its worker processes), sampled
every 50 ms. DuckDB `read_json` of the same files into a table of the same columns is timed
beside it, as in bench/ingest.py. The growth from the smallest to the largest size is
stated per post: linear means the same seconds per post and flat memory.

The big-file check (issue 17: "a single 2 GB JSONL file ingests in under 1.5 GiB") writes
one uncompressed v1.1 file of real stream tweets with fresh ids (bench/ingest.py's
replicate) and ingests it the same way.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from ingest import V1_SOURCES, replicate, time_duckdb  # noqa: E402
from report_scale import OUT, TWITTER_EPOCH_MS, hourly_shape, measure, posts_sql  # noqa: E402

BIG_FILE_LIMIT = 1.5 * (1 << 30)
GIB = 1 << 30

# A GetOldTweets record per synthetic post (the columns aurora848's scraper wrote).
GETOLDTWEETS_SQL = f"""
SELECT tweet_id,
  strftime((created_at AT TIME ZONE 'UTC') AT TIME ZONE 'America/New_York', '%Y-%m-%d %H:%M:%S') AS date,
  text,
  author_handle AS username,
  repost_count AS retweets,
  like_count AS favorites,
  array_to_string(list_transform(hashtags, lambda h: '#' || h), ' ') AS hashtags,
  '' AS mentions, '' AS geo, 'metoo' AS term,
  'https://twitter.com/' || author_handle || '/status/' || tweet_id AS permalink,
  CAST(created_at AS DATE) AS day
FROM (SELECT *, CAST(((epoch_ms(created_at) - {TWITTER_EPOCH_MS}) << 22) + (CAST(source_line AS BIGINT) & 4194303)
                     AS VARCHAR) AS tweet_id
      FROM ({{posts}}) AS p({{columns}}))
"""


def build_days(n: int) -> Path:
    """n synthetic posts as daily .json.gz files under bench/out (written once)."""
    import duckdb

    folder = OUT / f"ingest-scale-{n}"
    done = folder / "built.json"
    if done.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    hourly_shape(con, OUT / "shape.parquet")
    from groundswell.model import FIELD_NAMES

    records = GETOLDTWEETS_SQL.format(posts=posts_sql(n), columns=", ".join(FIELD_NAMES))
    con.execute(f"COPY ({records}) TO '{folder}/days' "
                "(FORMAT JSON, COMPRESSION GZIP, PARTITION_BY (day), OVERWRITE_OR_IGNORE)")
    con.close()
    done.write_text(json.dumps({"posts": n, "files": len(list(folder.glob("days/*/*")))}))
    return folder


def ingest_run(pattern: str) -> tuple[float, int, dict[str, Any]]:
    with tempfile.TemporaryDirectory(dir=OUT) as tmp:
        return measure([sys.executable, "-m", "groundswell", "ingest", pattern, "--db", f"{tmp}/s.duckdb", "--json"])


def bench_size(n: int, runs: int) -> dict[str, Any]:
    folder = build_days(n)
    pattern = str(folder / "days" / "*" / "*")
    timings = [ingest_run(pattern) for _ in range(runs)]
    native = [time_duckdb("aurora", pattern) for _ in range(runs)]
    seconds = statistics.median(t for t, _, _ in timings)
    summary = timings[0][2]
    native_s, native_rows = statistics.median(t for t, _ in native), native[0][1]
    row = {"posts": n, "ingested": summary["ingested"], "files": summary["files"], "runs": runs,
           "seconds": seconds, "peak_rss_gib": max(p for _, p, _ in timings) / GIB,
           "posts_s": summary["ingested"] / seconds, "duckdb_posts_s": native_rows / native_s,
           "per_record": summary.get("per_record", {})}
    row["ratio_to_duckdb"] = row["posts_s"] / row["duckdb_posts_s"]
    print(f"{n:,} posts in {row['files']} files: {seconds:.1f} s ({row['posts_s']:,.0f} posts/s), peak "
          f"{row['peak_rss_gib']:.2f} GiB | DuckDB read_json {row['duckdb_posts_s']:,.0f} posts/s, ratio "
          f"{row['ratio_to_duckdb']:.2f} | read record by record: {row['per_record'] or 'none'}", flush=True)
    return row


def growth(rows: list[dict[str, Any]]) -> dict[str, float] | None:
    if len(rows) < 2:
        return None
    small, large = rows[0], rows[-1]
    return {"posts_factor": large["posts"] / small["posts"], "seconds_factor": large["seconds"] / small["seconds"],
            "microseconds_per_post": [1e6 * r["seconds"] / r["posts"] for r in (small, large)],
            "memory_factor": large["peak_rss_gib"] / small["peak_rss_gib"]}


def bench_big_file(gb: float, runs: int) -> dict[str, Any]:
    path = OUT / f"v1-{gb:g}gb.jsonl"
    if not path.exists():
        replicate(V1_SOURCES, path, int(gb * 1024))
    timings = [ingest_run(str(path)) for _ in range(runs)]
    peak = max(p for _, p, _ in timings)
    seconds = statistics.median(t for t, _, _ in timings)
    row = {"bytes": path.stat().st_size, "ingested": timings[0][2]["ingested"], "runs": runs, "seconds": seconds,
           "peak_rss_gib": peak / GIB, "limit_gib": BIG_FILE_LIMIT / GIB, "met": peak < BIG_FILE_LIMIT}
    print(f"one {row['bytes'] / GIB:.2f} GiB v1.1 JSONL file, {row['ingested']:,} posts: {seconds:.1f} s, peak "
          f"{row['peak_rss_gib']:.2f} GiB (limit 1.5 GiB: {'met' if row['met'] else 'MISSED'})", flush=True)
    return row


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e6,1e7")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--big-file-gb", type=float, default=2.0)
    parser.add_argument("--skip-big-file", action="store_true")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    rows = [bench_size(int(float(s)), args.runs) for s in args.sizes.split(",")]
    done: dict[str, Any] = {"sizes": rows, "growth": growth(rows)}
    if done["growth"]:
        g = done["growth"]
        print(f"growth {g['posts_factor']:.0f}x posts: {g['seconds_factor']:.1f}x time "
              f"({g['microseconds_per_post'][0]:.1f} -> {g['microseconds_per_post'][1]:.1f} us a post), "
              f"{g['memory_factor']:.2f}x peak memory")
    if not args.skip_big_file:
        done["big_file"] = bench_big_file(args.big_file_gb, args.runs)
    (OUT / "ingest_scale.json").write_text(json.dumps(done, indent=2))
    return done


if __name__ == "__main__":
    main()
