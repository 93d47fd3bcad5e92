"""The full report at 10^5, 10^6 and 10^7 posts: time and peak memory, DuckDB against Spark local.

Usage: python bench/report_scale.py [--sizes 1e5,1e6,1e7] [--runs 3] [--spark-runs 1] [--no-spark]

The posts are synthetic, generated inside DuckDB in the real data's shape (tables here are
too large to write as JSON and ingest in a benchmark of the report): the hour-by-hour
volume of the aurora848 #metoo scrape (from its tweet ids, when ../shared/data is there),
heavy-tailed activity and followers, the kinds of a v1.1 stream sample, the movement's
hashtags and phrase, a long tail of co-hashtags. Every post carries its source language,
as Twitter's API gives one, so the timing is the report's own work, not language detection
(which runs only for posts without one; see docs/performance.md).

Each size is written once as a DuckDB store and as a Parquet lake (the layout that
`ingest --engine spark` writes); then `groundswell report --movement metoo` runs in a fresh
process on each, and the peak memory is the largest sum of RSS over the whole process
tree (Python, DuckDB, Spark's JVM and Python workers), sampled every 50 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
AURORA = ROOT.parent / "shared" / "data" / "metoo-getoldtweets-aurora848"
OUT = ROOT / "bench" / "out"
TWITTER_EPOCH_MS = 1288834974657
TARGET_SECONDS, TARGET_BYTES = 60, 4 << 30


# --- the data -------------------------------------------------------------------------------

def hourly_shape(con: Any, cache: Path) -> str:
    """Table `shape` (hour, posts): the real scrape's, by tweet-id time, or a plain burst
    when the data is absent; kept in `cache` for the next size."""
    if cache.exists():
        con.execute(f"CREATE OR REPLACE TABLE shape AS SELECT * FROM read_parquet('{cache}')")
        return cache.with_suffix(".txt").read_text()
    name = _make_shape(con)
    con.execute(f"COPY shape TO '{cache}' (FORMAT PARQUET)")
    cache.with_suffix(".txt").write_text(name)
    return name


def _make_shape(con: Any) -> str:
    if AURORA.is_dir():
        con.execute(f"""CREATE OR REPLACE TABLE shape AS
            SELECT date_trunc('hour', make_timestamp(((tweet_id::BIGINT >> 22) + {TWITTER_EPOCH_MS}) * 1000)) AS hour,
                   count(*) AS n
            FROM read_json('{AURORA}/*.jsonl.gz', columns = {{'tweet_id': 'VARCHAR'}}) GROUP BY 1""")
        return "aurora848 hour-by-hour volume"
    con.execute("""CREATE OR REPLACE TABLE shape AS
        SELECT TIMESTAMP '2017-10-15 00:00:00' + to_hours(h) AS hour,
               CASE WHEN h < 20 THEN 10 ELSE 10 + 5000 * exp(-(h - 20) / 24.0) END AS n
        FROM range(0, 24 * 30) AS t(h)""")
    return "a built-in burst shape (real data absent)"


def _u(i: str, salt: int) -> str:
    """A uniform number in [0, 1) from a row number: reproducible, no state."""
    return f"((hash({i}, {salt}) % 1000000007) / 1000000007.0)"


def posts_sql(n: int) -> str:
    """n synthetic posts with the store's columns, times drawn from `shape` by inverse CDF."""
    users = max(100, int(n * 0.45))
    author = f"CAST(floor({users} * pow({_u('i', 1)}, 3)) AS BIGINT)"
    kind = (f"CASE WHEN {_u('i', 2)} < 0.55 THEN 'repost' WHEN {_u('i', 2)} < 0.62 THEN 'reply' "
            f"WHEN {_u('i', 2)} < 0.67 THEN 'quote' ELSE 'original' END")
    core = f"CASE WHEN {_u('i', 3)} < 0.85 THEN 'MeToo' WHEN {_u('i', 3)} < 0.9 THEN 'BalanceTonPorc' ELSE NULL END"
    cotag = f"CASE WHEN {_u('i', 4)} < 0.35 THEN 'tag' || CAST(floor(50000 * pow({_u('i', 5)}, 4)) AS BIGINT) END"
    phrase = f"CASE WHEN {_u('i', 6)} < 0.12 THEN ' me too' ELSE '' END"
    lang = f"['en','en','en','en','fr','es','und','ar'][1 + CAST(floor(8 * {_u('i', 7)}) AS INT)]"
    followers = f"CAST(exp(5.3 + 1.6 * (({_u('a', 8)} + {_u('a', 9)} + {_u('a', 10)} - 1.5) * 2)) AS BIGINT)"
    return f"""
    WITH cum AS (SELECT hour, sum(n) OVER (ORDER BY hour) / sum(n) OVER () AS hi,
                        coalesce(sum(n) OVER (ORDER BY hour ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)
                        / sum(n) OVER () AS lo FROM shape),
    gen AS (SELECT i, {_u('i', 0)} AS u, {author} AS a, {kind} AS kind, {core} AS core, {cotag} AS cotag
            FROM range({n}) AS t(i)),
    timed AS (SELECT gen.*, cum.hour + to_microseconds(CAST(3600e6 * (u - lo) / (hi - lo) AS BIGINT)) AS created_at
              FROM gen ASOF JOIN cum ON gen.u >= cum.lo)
    SELECT 'twitter' AS platform, CAST(900000000000000000 + i AS VARCHAR) AS post_id, NULL AS url,
      CAST(a AS VARCHAR) AS author_id, 'synthetic_user_' || a AS author_handle, 'Synthetic ' || a AS author_name,
      {followers} AS author_followers, 100 AS author_following, (a % 997 = 0) AS author_verified,
      created_at, 'snowflake' AS time_source,
      '[synthetic] words about the day' || {phrase} || coalesce(' #' || core, '') || coalesce(' #' || cotag, '') AS text,
      {lang} AS lang, kind,
      CASE WHEN kind = 'reply' AND i > 0 THEN CAST(900000000000000000 + floor(i * {_u('i', 11)}) AS VARCHAR) END,
      NULL, CASE WHEN kind = 'quote' AND i > 0 THEN CAST(900000000000000000 + floor(i * {_u('i', 11)}) AS VARCHAR) END,
      CASE WHEN kind = 'repost' AND i > 0 THEN CAST(900000000000000000 + floor(i * pow({_u('i', 11)}, 0.2)) AS VARCHAR) END,
      NULL, list_filter([core, cotag], lambda x: x IS NOT NULL), list_filter([lower(core), cotag], lambda x: x IS NOT NULL),
      CAST([] AS VARCHAR[]), CAST([] AS VARCHAR[]),
      CAST(floor(20 * pow({_u('i', 12)}, 6)) AS BIGINT), CAST(floor(10 * pow({_u('i', 13)}, 6)) AS BIGINT), 0, 0,
      CAST(900000000000000000 + i AS VARCHAR), TRUE, 'synthetic-bench', i + 1, 'synthetic', NULL, now()::TIMESTAMP
    FROM timed"""


def build(n: int, folder: Path) -> tuple[Path, Path, str]:
    """A DuckDB store and a Parquet lake holding the same n posts (made once, then reused)."""
    import duckdb

    from groundswell.engines.lake import LAKE_FORMAT, LAKE_VERSION, lake_meta, new_manifest
    from groundswell.engines.base import TABLES
    from groundswell.store import Store

    db, lake = folder / "store.duckdb", folder / "lake"
    done = folder / "built.json"
    if done.exists():
        return db, lake, json.loads(done.read_text())["shape"]
    folder.mkdir(parents=True, exist_ok=True)
    Store(str(db)).close()  # the schema, as every store has it
    con = duckdb.connect(str(db))
    shape = hourly_shape(con, folder.parent / "shape.parquet")
    con.execute(f"INSERT INTO posts {posts_sql(n)}")
    con.execute("DROP TABLE shape")
    (lake / "posts").mkdir(parents=True)
    con.execute(f"COPY (SELECT *, CAST(created_at AS DATE) AS day FROM posts) TO '{lake}/posts/snapshot=1' "
                "(FORMAT PARQUET, PARTITION_BY (platform, day), OVERWRITE_OR_IGNORE)")
    for table in TABLES[1:]:
        (lake / table / "snapshot=1").mkdir(parents=True, exist_ok=True)
        con.execute(f"COPY (SELECT * FROM {table}) TO '{lake}/{table}/snapshot=1/part-0.parquet' (FORMAT PARQUET)")
    con.close()
    manifest = new_manifest(1, {table: 1 for table in TABLES}, 1, lake_meta(None))
    assert manifest["format"] == LAKE_FORMAT and manifest["version"] == LAKE_VERSION
    (lake / "_snapshots").mkdir(exist_ok=True)
    (lake / "_snapshots" / "00000001.json").write_bytes(json.dumps(manifest).encode())
    done.write_text(json.dumps({"posts": n, "shape": shape}))
    return db, lake, shape


# --- one measured run -----------------------------------------------------------------------

def _tree_rss(root: int) -> int:
    """Bytes resident in `root` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            fields = stat[stat.rindex(")") + 2:].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
            rss[int(entry)] = int(fields[21]) * page
        except (OSError, ValueError, IndexError):
            continue
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


def measure(command: list[str]) -> tuple[float, int, dict[str, Any]]:
    """Wall seconds, peak tree RSS and the JSON the command printed."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak = [0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.05):
            peak[0] = max(peak[0], _tree_rss(process.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = process.communicate()
    seconds = time.perf_counter() - start
    stop.set()
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{stderr.decode()[-2000:]}")
    return seconds, peak[0], json.loads(stdout)


def report_command(engine: str, db: Path, lake: Path, out: Path) -> list[str]:
    command = [sys.executable, "-m", "groundswell", "report", "--movement", "metoo", "--json", "--out", str(out)]
    if engine == "spark":
        return command + ["--engine", "spark", "--lake", str(lake), "--master", "local[2]"]
    return command + ["--db", str(db)]


def run_size(n: int, engines: list[str], runs: dict[str, int], folder: Path) -> list[dict[str, Any]]:
    """Both engines on one size; the data is generated once."""
    started = time.perf_counter()
    db, lake, shape = build(n, folder / f"posts-{n}")
    print(f"{n:>12,} posts: data ready in {time.perf_counter() - started:,.0f} s ({shape})", flush=True)
    results = []
    for engine in engines:
        times, peaks, matched = [], [], None
        for _ in range(runs[engine]):
            seconds, peak, printed = measure(report_command(engine, db, lake, folder / f"report-{engine}.html"))
            times.append(seconds)
            peaks.append(peak)
            matched = printed["report"]["headline"]["posts"]
        row = {"posts": n, "engine": engine, "runs": runs[engine], "median_s": statistics.median(times),
               "peak_bytes": max(peaks), "movement_posts": matched}
        print(f"{'':>12}  {engine:<7} median {row['median_s']:8.1f} s over {row['runs']} run(s), "
              f"peak {row['peak_bytes'] / 2**30:5.2f} GiB, {matched:,} posts in the movement", flush=True)
        results.append(row)
    return results


PROFILE_SCRIPT = """
import json, sys, time
from groundswell.engines.duckdb import DuckDBEngine
from groundswell.movement.definition import load_builtin
from groundswell.report.figures import ReportOptions, compute

spent, calls = {}, [0]
plain = DuckDBEngine.query

def timed(self, sql):
    frame, where = sys._getframe(1), "other"
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module.startswith(("groundswell.metrics", "groundswell.analysis")):
            where = module.replace("groundswell.", "") + "." + frame.f_code.co_name
            break
        frame = frame.f_back
    start = time.perf_counter()
    calls[0] += 1
    try:
        return plain(self, sql)
    finally:
        spent[where] = spent.get(where, 0.0) + time.perf_counter() - start

DuckDBEngine.query = timed
start = time.perf_counter()
with DuckDBEngine(sys.argv[1]) as engine:
    compute(engine, load_builtin("metoo"), ReportOptions(), writable=False)
total = time.perf_counter() - start
print(json.dumps({"compute_s": total, "queries_s": sum(spent.values()), "queries": calls[0],
                  "by_function": sorted(([k, v] for k, v in spent.items()), key=lambda kv: -kv[1])}))
"""


def profile(db: Path) -> dict[str, Any]:
    """Where the DuckDB report's time goes: SQL seconds per metric function, in one process."""
    done = subprocess.run([sys.executable, "-c", PROFILE_SCRIPT, str(db)], capture_output=True, check=True)
    return json.loads(done.stdout)


def growth(rows: list[dict[str, Any]]) -> dict[str, list[float]]:
    """Time ratio per tenfold step, per engine."""
    by_engine: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_engine.setdefault(row["engine"], []).append(row)
    return {engine: [b["median_s"] / a["median_s"] for a, b in zip(found, found[1:])]
            for engine, found in by_engine.items()}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e5,1e6,1e7")
    parser.add_argument("--runs", type=int, default=3, help="runs per size on DuckDB (median)")
    parser.add_argument("--spark-runs", type=int, default=1, help="runs per size on Spark (median)")
    parser.add_argument("--no-spark", action="store_true")
    parser.add_argument("--spark-max", type=float, default=1e7, help="largest size run on Spark")
    parser.add_argument("--work", default=str(OUT / "report-scale"), help="where the generated data is kept")
    args = parser.parse_args(argv)
    sizes = [int(float(size)) for size in args.sizes.split(",")]
    engines = ["duckdb"] + ([] if args.no_spark else ["spark"])
    rows = []
    for n in sizes:
        here = [e for e in engines if e != "spark" or n <= args.spark_max]
        rows += run_size(n, here, {"duckdb": args.runs, "spark": args.spark_runs}, Path(args.work))
    largest = Path(args.work) / f"posts-{sizes[-1]}" / "store.duckdb"
    result = {"rows": rows, "growth_per_tenfold": growth(rows), "target_seconds": TARGET_SECONDS,
              "target_bytes": TARGET_BYTES, "profile": {"posts": sizes[-1], **profile(largest)}}
    print(f"profile at {sizes[-1]:,} posts (DuckDB, in one process): {result['profile']['compute_s']:.1f} s, of which")
    for where, seconds in result["profile"]["by_function"][:8]:
        print(f"  {seconds:7.1f} s  {where}")
    for engine, steps in result["growth_per_tenfold"].items():
        print(f"{engine}: time grows x{', x'.join(f'{s:.1f}' for s in steps)} per tenfold size")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "report_scale.json").write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
