"""Movement matching in the engine against a plain-Python `re` loop, measured in the same run.

Usage: python bench/match.py [--copies 17] [--runs 3] [--python-posts 1000000]

The real GetOldTweets #metoo scrape (../shared/data/metoo-getoldtweets-aurora848, 608,099
posts) is ingested once into bench/out/aurora848.duckdb, then replicated in SQL to
--copies × 608,099 posts (10.3 million by default; ids get a copy suffix) in
bench/out/match-bench.duckdb. Reported:
  - engine: the built-in `metoo` movement's matched_posts_sql over every post, every
    output column consumed (median of --runs runs), in posts checked per second;
  - python: the same rules (tag keys against the movement's keys; phrases outside tags and
    URLs, via Python's `re`) in one process over the first --python-posts posts;
  - the ratio of the two rates, and matched counts from both on the Python sample.
Copies repeat the same texts, so RE2's DFA cache is warmer than on 10 million distinct posts.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "metoo-getoldtweets-aurora848"
OUT = ROOT / "bench" / "out"
SOURCE_DB = OUT / "aurora848.duckdb"
BENCH_DB = OUT / "match-bench.duckdb"
REPLICA_SELECT = ("SELECT platform, post_id || '-' || c AS post_id, created_at, kind, author_id, text, hashtag_keys, "
                  "collected FROM src.posts CROSS JOIN range({copies}) AS r(c)")

sys.path.insert(0, str(ROOT / "src"))
from groundswell.movement.definition import resolve  # noqa: E402
from groundswell.movement.match import PLACEHOLDER, PYTHON, mask_regex, matched_posts_sql, phrase_regex  # noqa: E402


def ensure_source() -> None:
    if SOURCE_DB.exists():
        return
    from groundswell.ingest import IngestOptions, ingest
    from groundswell.store import Store

    print(f"ingesting {DATA.name} once into {SOURCE_DB} (about a minute)...", flush=True)
    with Store(str(SOURCE_DB)) as store:
        ingest([str(DATA)], store, IngestOptions())


def ensure_replica(copies: int) -> int:
    """A narrow `posts` table with `copies` copies of every post, generated in SQL."""
    con = duckdb.connect(str(BENCH_DB))
    try:
        existing = con.execute("SELECT value FROM meta WHERE key = 'copies'").fetchone() if _has(con, "meta") else None
        if existing is None or int(existing[0]) != copies:
            print(f"replicating {copies} copies in SQL...", flush=True)
            con.execute(f"ATTACH '{SOURCE_DB}' AS src (READ_ONLY)")
            con.execute("CREATE OR REPLACE TABLE posts AS " + REPLICA_SELECT.format(copies=copies))
            con.execute("CREATE OR REPLACE TABLE meta (key VARCHAR, value VARCHAR)")
            con.execute("INSERT INTO meta VALUES ('copies', ?)", [str(copies)])
            con.execute("DETACH src")
        return con.execute("SELECT count(*) FROM posts").fetchone()[0]  # type: ignore[index]
    finally:
        con.close()


def _has(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(con.execute("SELECT 1 FROM information_schema.tables WHERE table_name = ?", [table]).fetchall())


def engine_seconds(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[float, tuple]:
    """Run the match with every output column consumed, so nothing is pruned away."""
    query = ("SELECT count(*), count(*) FILTER (WHERE by_hashtag), count(*) FILTER (WHERE by_phrase), "
             "sum(len(families)), sum(len(variants)), count(DISTINCT author_id), max(created_at), "
             f"count(DISTINCT kind), count(DISTINCT platform), max(post_id) FROM ({sql}) AS m")
    start = time.perf_counter()
    row = con.execute(query).fetchone()
    return time.perf_counter() - start, row  # type: ignore[return-value]


def python_loop(rows: list[tuple[str | None, list[str] | None]], movement) -> tuple[float, int]:
    """The same rules with Python's `re`, one post at a time: tag keys, then masked phrases."""
    forms = movement.stored_forms()
    patterns = [p for group in movement.phrases for p in group.patterns]
    any_phrase = re.compile(phrase_regex(patterns, movement.accent_fold, PYTHON))
    by_label = {}
    for group in movement.phrases:
        by_label.setdefault(group.label, []).extend(group.patterns)
    family_phrase = {label: re.compile(phrase_regex(ps, movement.accent_fold, PYTHON)) for label, ps in by_label.items()}
    mask = re.compile(mask_regex(PYTHON))
    matched = 0
    start = time.perf_counter()
    for text, keys in rows:
        variants = [k for k in dict.fromkeys(keys or ()) if k in forms]
        families = {forms[k] for k in variants}
        masked = mask.sub(PLACEHOLDER, text) if text and any_phrase.search(text) else None
        by_phrase = bool(masked and any_phrase.search(masked))
        if by_phrase:
            families.update(label for label, regex in family_phrase.items() if regex.search(masked))
        if variants or by_phrase:
            matched += 1
    return time.perf_counter() - start, matched


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=17)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--python-posts", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    if not DATA.is_dir() and not SOURCE_DB.exists():
        sys.exit(f"bench needs the real data in {DATA}")
    OUT.mkdir(parents=True, exist_ok=True)
    ensure_source()
    total = ensure_replica(args.copies)
    movement = resolve("metoo")
    con = duckdb.connect(str(BENCH_DB), read_only=True)
    sql = matched_posts_sql(movement)
    timings = [engine_seconds(con, sql) for _ in range(args.runs)]
    engine_s = statistics.median(t for t, _ in timings)
    matched = timings[0][1][0]
    # The first two copies: every distinct post once, then as many repeats as the sample needs.
    sample_view = ("(SELECT * FROM posts WHERE split_part(post_id, '-', 2) IN ('0', '1') "
                   f"ORDER BY split_part(post_id, '-', 2), post_id LIMIT {int(args.python_posts)})")
    sample_matched = con.execute(f"SELECT count(*) FROM ({matched_posts_sql(movement, sample_view)}) AS m").fetchone()[0]  # type: ignore[index]
    rows = con.execute(f"SELECT text, hashtag_keys FROM {sample_view}").fetchall()
    con.close()
    python_s, python_matched = python_loop(rows, movement)
    engine_rate, python_rate = total / engine_s, len(rows) / python_s
    print(f"machine: {os.cpu_count()} cores; movement metoo; {total:,} posts ({args.copies} copies of the aurora848 scrape)")
    print(f"engine (DuckDB {duckdb.__version__}): {engine_s:.2f} s median of {args.runs} = {engine_rate:,.0f} posts/s; "
          f"{matched:,} matched ({matched / engine_s:,.0f} matched posts/s)")
    print(f"python re loop: {len(rows):,} posts in {python_s:.2f} s = {python_rate:,.0f} posts/s; "
          f"{python_matched:,} matched ({python_matched / python_s:,.0f} matched posts/s)")
    print(f"ratio engine/python: {engine_rate / python_rate:.1f}x")
    print(f"check on the python sample: engine matched {sample_matched:,}, python matched {python_matched:,} "
          "(word edges differ slightly: Python's \\w has no combining marks)")
    result = {"posts": total, "runs": args.runs, "engine_s": engine_s, "engine_posts_s": engine_rate,
              "python_posts": len(rows), "python_posts_s": python_rate, "ratio": engine_rate / python_rate,
              "sample_matched_engine": sample_matched, "sample_matched_python": python_matched}
    (OUT / "match.json").write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
