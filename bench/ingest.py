"""Ingest speed against the raw parse limit and a peer tool, measured in the same run.

Usage: python bench/ingest.py [--size-mb 1024] [--runs 3] [--peer-mb 40]

Real v1.1 and v2 records from ../shared/data are replicated to --size-mb with fresh ids
(each copy shifts every id by a few units in the snowflake sequence bits, so times stay
the same and nothing is deduplicated away). Reported, as medians over --runs:
  - raw parse: orjson.loads of every line, nothing else, in one process (MB/s, records/s);
  - groundswell ingest into a fresh DuckDB file, all cores (MB/s, posts/s);
  - twarc-csv converting the v2 data to CSV (posts/s), on a --peer-mb slice, because it
    is far slower; rates per post are comparable across sizes;
  - DuckDB `read_json` of the same input into a table of the post columns, natively (no
    Python per record): the target is groundswell at >= 0.5 of it on each input;
  - the GetOldTweets scrape (aurora848, 608,099 posts in 93 .jsonl.gz days) as it is:
    groundswell ingest (hashtag keys and matching keys included), DuckDB `read_json`, and
    gzip + orjson parse only on one core; the target there is also >= 100k posts/s.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
OUT = ROOT / "bench" / "out"
V1_SOURCES = ["metoo-stream-2017-lama/metoo.json"]
V2_SOURCES = ["twarc2-v2-testdata/noflat.jsonl", "twarc2-v2-testdata/2sets.jsonl",
              "twarc2-v2-testdata/brexit.jsonl", "twarc2-v2-testdata/kpop.jsonl"]
AURORA = DATA / "metoo-getoldtweets-aurora848"
# The columns each input's DuckDB-native table holds: the post fields groundswell fills.
DUCKDB_SELECT = {
    "v1": ("SELECT id_str AS post_id, created_at, coalesce(extended_tweet.full_text, text) AS text, user.id_str AS author_id, "
           "user.screen_name AS author_handle, user.followers_count AS author_followers, in_reply_to_status_id_str AS reply_to, "
           "retweeted_status.id_str AS reposted, quoted_status_id_str AS quoted, lang, "
           "list_transform(entities.hashtags, lambda h: h.text) AS hashtags FROM read_json('{path}', format='newline_delimited', "
           "ignore_errors=true, maximum_object_size=67108864, sample_size=-1)"),
    "v2": ("SELECT t.id AS post_id, t.created_at, t.text, t.author_id, t.lang, t.conversation_id, t.public_metrics.like_count AS likes, "
           "list_transform(t.entities.hashtags, lambda h: h.tag) AS hashtags FROM (SELECT unnest(data) AS t FROM read_json('{path}', "
           "format='newline_delimited', ignore_errors=true, maximum_object_size=67108864, sample_size=-1))"),
    "aurora": ("SELECT tweet_id AS post_id, date, text, username AS author_handle, retweets, favorites, permalink AS url "
               "FROM read_json('{path}', format='newline_delimited', columns={{tweet_id: 'VARCHAR', date: 'VARCHAR', "
               "text: 'VARCHAR', username: 'VARCHAR', retweets: 'BIGINT', favorites: 'BIGINT', permalink: 'VARCHAR'}})"),
}
LONG_ID = re.compile(rb"(?<![\d.])(\d{15,19})(?![\d.])")


def replicate(sources: list[str], target: Path, size_mb: int) -> int:
    """Write copies of the source lines with shifted ids until the file reaches size_mb."""
    lines = [line for s in sources for line in (DATA / s).read_bytes().splitlines() if line.strip()]
    limit = size_mb << 20
    if target.exists() and target.stat().st_size >= limit:
        return sum(1 for _ in target.open("rb"))
    written = copies = count = 0
    with target.open("wb") as out:
        while written < limit:
            shift = copies
            for line in lines:
                data = LONG_ID.sub(lambda m: str(int(m.group(1)) + shift).encode(), line) if shift else line
                out.write(data + b"\n")
                written += len(data) + 1
                count += 1
            copies += 1
    return count


def time_raw_parse(path: Path) -> float:
    start = time.perf_counter()
    with path.open("rb") as handle:
        for line in handle:
            orjson.loads(line)
    return time.perf_counter() - start


def time_duckdb(kind: str, pattern: str) -> tuple[float, int]:
    """DuckDB alone reading the input into a table of the same post columns, all its threads."""
    import duckdb

    with tempfile.TemporaryDirectory() as tmp:
        con = duckdb.connect(str(Path(tmp) / "native.duckdb"))
        start = time.perf_counter()
        con.execute(f"CREATE TABLE posts AS {DUCKDB_SELECT[kind].format(path=pattern)}")
        seconds = time.perf_counter() - start
        rows = con.execute("SELECT count(*) FROM posts").fetchone()[0]
        con.close()
    return seconds, rows


def time_gzip_parse(paths: list[Path]) -> tuple[float, int]:
    """gzip + orjson.loads of every line, nothing else, one core."""
    import gzip

    start, count = time.perf_counter(), 0
    for path in paths:
        with gzip.open(path, "rb") as handle:
            for line in handle:
                orjson.loads(line)
                count += 1
    return time.perf_counter() - start, count


def bench_aurora(runs: int) -> dict:
    """The commonest archive shape as shipped: the GetOldTweets days, gzipped."""
    days = sorted(AURORA.glob("*.jsonl.gz"))
    parses = [time_gzip_parse(days) for _ in range(runs)]
    parse_s, records = statistics.median(t for t, _ in parses), parses[0][1]
    native = [time_duckdb("aurora", str(AURORA / "*.jsonl.gz")) for _ in range(runs)]
    native_s, native_rows = statistics.median(t for t, _ in native), native[0][1]
    timings = [time_ingest(AURORA) for _ in range(runs)]
    ingest_s = statistics.median(t for t, _ in timings)
    posts = timings[0][1]["ingested"]
    return {"format": "aurora848", "records": records, "posts": posts,
            "ingest_posts_s": posts / ingest_s, "duckdb_posts_s": native_rows / native_s,
            "orjson_posts_s": records / parse_s, "ratio_to_duckdb": (posts / ingest_s) / (native_rows / native_s),
            "per_record": timings[0][1].get("per_record", {})}


def time_ingest(path: Path) -> tuple[float, dict]:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.duckdb"
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "groundswell", "ingest", str(path), "--db", str(db), "--json"],
                              capture_output=True, check=True)
        return time.perf_counter() - start, json.loads(done.stdout)


def time_twarc_csv(path: Path) -> float | None:
    try:
        import twarc_csv  # noqa: F401
    except ImportError:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.csv"
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", TWARC_CSV_SCRIPT, str(path), str(out)], check=True, capture_output=True)
        return time.perf_counter() - start


def time_json_normalize(path: Path) -> float | None:
    """The pandas way: parse each page, take its tweets, flatten them with json_normalize."""
    try:
        import pandas
    except ImportError:
        return None
    start = time.perf_counter()
    tweets = []
    with path.open("rb") as handle:
        for line in handle:
            page = orjson.loads(line)
            tweets.extend(page.get("data", []) if isinstance(page, dict) and "data" in page else [page])
    pandas.json_normalize(tweets)
    return time.perf_counter() - start


TWARC_CSV_SCRIPT = """
import sys
import pandas
if not hasattr(pandas.DataFrame, "applymap"):  # twarc-csv 0.7 predates pandas 3's rename
    pandas.DataFrame.applymap = pandas.DataFrame.map
from twarc_csv import CSVConverter, DataFrameConverter
with open(sys.argv[1]) as infile, open(sys.argv[2], "w") as outfile:
    CSVConverter(infile, outfile, converter=DataFrameConverter(input_data_type="tweets")).process()
"""


def median_of(runs: int, measure) -> float:
    return statistics.median(measure() for _ in range(runs))


def bench_format(name: str, sources: list[str], size_mb: int, runs: int) -> dict:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}-{size_mb}mb.jsonl"
    records = replicate(sources, path, size_mb)
    mb = path.stat().st_size / (1 << 20)
    raw = median_of(runs, lambda: time_raw_parse(path))
    native = [time_duckdb(name, str(path)) for _ in range(runs)]
    native_s, native_rows = statistics.median(t for t, _ in native), native[0][1]
    timings = [time_ingest(path) for _ in range(runs)]
    ingest_s = statistics.median(t for t, _ in timings)
    posts = timings[0][1]["ingested"]
    return {"format": name, "mb": round(mb, 1), "records": records, "posts": posts,
            "raw_parse_mb_s": mb / raw, "ingest_mb_s": mb / ingest_s, "ingest_posts_s": posts / ingest_s,
            "ratio_to_raw_parse": raw / ingest_s, "duckdb_posts_s": native_rows / native_s,
            "ratio_to_duckdb": (posts / ingest_s) / (native_rows / native_s),
            "per_record": timings[0][1].get("per_record", {})}


def bench_peer(size_mb: int, runs: int, groundswell_posts_s: float) -> dict | None:
    path = OUT / f"v2-peer-{size_mb}mb.jsonl"
    replicate(V2_SOURCES, path, size_mb)
    probe = time_twarc_csv(path)
    if probe is None:
        return None
    seconds = statistics.median([probe] + [time_twarc_csv(path) for _ in range(runs - 1)])  # type: ignore[misc]
    pandas_s = statistics.median(time_json_normalize(path) for _ in range(runs))  # type: ignore[type-var]
    _, summary = time_ingest(path)
    posts = summary["ingested"]
    return {"peer": "twarc-csv", "mb": size_mb, "posts": posts, "peer_posts_s": posts / seconds,
            "groundswell_posts_s": groundswell_posts_s, "speedup": groundswell_posts_s / (posts / seconds),
            "json_normalize_posts_s": posts / pandas_s, "speedup_json_normalize": groundswell_posts_s * pandas_s / posts}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--peer-mb", type=int, default=40)
    parser.add_argument("--aurora-only", action="store_true", help="Only the GetOldTweets scrape as shipped.")
    parser.add_argument("--peer-only", action="store_true", help="Only the twarc-csv comparison (ingest rate measured on the peer slice).")
    args = parser.parse_args(argv)
    if not DATA.is_dir():
        sys.exit(f"bench needs the real data in {DATA}")
    print(f"machine: {os.cpu_count()} cores; size {args.size_mb} MB per format; median of {args.runs} runs")
    if args.aurora_only:
        only = {"aurora": bench_aurora(args.runs)}
        print(json.dumps(only, indent=2))
        return only
    if args.peer_only:
        path = OUT / f"v2-peer-{args.peer_mb}mb.jsonl"
        replicate(V2_SOURCES, path, args.peer_mb)
        timings = [time_ingest(path) for _ in range(args.runs)]
        rate = timings[0][1]["ingested"] / statistics.median(t for t, _ in timings)
        peer_only = {"results": [], "peer": bench_peer(args.peer_mb, args.runs, rate)}
        print(json.dumps(peer_only, indent=2))
        return peer_only
    aurora = bench_aurora(args.runs)
    print(f"aurora848: {aurora['posts']:,} posts | groundswell {aurora['ingest_posts_s']:,.0f} posts/s | DuckDB read_json "
          f"{aurora['duckdb_posts_s']:,.0f} posts/s | orjson+gzip one core {aurora['orjson_posts_s']:,.0f} posts/s | "
          f"ratio to DuckDB {aurora['ratio_to_duckdb']:.2f} (target 0.5) | 100k posts/s target "
          f"{'met' if aurora['ingest_posts_s'] >= 100_000 else 'missed'}")
    results = [bench_format("v1", V1_SOURCES, args.size_mb, args.runs), bench_format("v2", V2_SOURCES, args.size_mb, args.runs)]
    for r in results:
        print(f"{r['format']}: {r['mb']} MB, {r['posts']:,} posts | raw parse {r['raw_parse_mb_s']:.1f} MB/s | "
              f"ingest {r['ingest_mb_s']:.1f} MB/s = {r['ingest_posts_s']:,.0f} posts/s | "
              f"ratio to raw parse {r['ratio_to_raw_parse']:.2f} | DuckDB read_json {r['duckdb_posts_s']:,.0f} posts/s, "
              f"ratio {r['ratio_to_duckdb']:.2f} (target 0.5) | read record by record: {r['per_record'] or 'none'}")
    peer_path = OUT / f"v2-peer-{args.peer_mb}mb.jsonl"
    replicate(V2_SOURCES, peer_path, args.peer_mb)
    slice_timings = [time_ingest(peer_path) for _ in range(args.runs)]
    slice_rate = slice_timings[0][1]["ingested"] / statistics.median(t for t, _ in slice_timings)
    peer = bench_peer(args.peer_mb, args.runs, slice_rate)
    if peer:
        print(f"same v2 slice ({peer['mb']} MB): groundswell {peer['groundswell_posts_s']:,.0f} posts/s; "
              f"twarc-csv {peer['peer_posts_s']:,.0f} posts/s = {peer['speedup']:.1f}x; "
              f"pandas json_normalize {peer['json_normalize_posts_s']:,.0f} posts/s = {peer['speedup_json_normalize']:.2f}x")
    else:
        print("twarc-csv not installed: pip install -e '.[bench]' to compare")
    done = {"results": results, "peer": peer, "aurora": aurora}
    (OUT / "ingest.json").write_text(json.dumps(done, indent=2))
    return done


if __name__ == "__main__":
    main()
