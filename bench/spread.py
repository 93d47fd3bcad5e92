"""Cascade reconstruction in the engine against a plain-Python BFS, measured in the same run;
then the trends benchmark (bench/trends.py), so one command runs both.

Usage: python bench/spread.py [--nodes 1000000] [--runs 5] [--seed 1] [--skip-trends] [--trends-args "..."]

A synthetic cascade (labelled: texts "[synthetic] bench", handles synthetic_bench_N) of
--nodes responses under one root is written straight into a DuckDB store as Arrow rows:
node i (1..N) answers node floor(i * u^3) for a uniform u, so most answer early posts
(broadcast) while chains still grow deep; kinds are 55% reposts, 35% replies, 10% quotes;
times rise with i. Reported, as medians of --runs runs:
  - engine: `groundswell.metrics.cascade.cascade` on the store (level-by-level SQL joins,
    subtree sizes, structural virality, times to 10/100/1,000 responses, response curve);
  - python: the same figures from a BFS over a dict of children in one process, timed
    without and with reading the edges out of DuckDB into Python first;
  - their ratios, and a check that both give the same size, depth, breadth and virality.
Figures are printed, returned by main() (for bench/all.py) and left in bench/out/spread.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import sys
import time
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))
from groundswell.engines.duckdb import DuckDBEngine  # noqa: E402
from groundswell.metrics.cascade import cascade  # noqa: E402
from groundswell.model import ARROW_SCHEMA  # noqa: E402
from groundswell.privacy import Privacy  # noqa: E402
from groundswell.store import Store  # noqa: E402

START = datetime(2017, 10, 15, 20, 21, 11)
BASE_ID = 10**17
KINDS = np.array(["repost", "reply", "quote"])


def tree(nodes: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(parent index, kind index, milliseconds after the root) for nodes 1..N; node 0 is the root."""
    rng = np.random.default_rng(seed)
    index = np.arange(1, nodes + 1)
    parent = np.floor(index * rng.random(nodes) ** 3).astype(np.int64)
    kind = rng.choice(3, size=nodes, p=[0.55, 0.35, 0.10])
    ms = np.cumsum(rng.exponential(50.0, size=nodes)).astype(np.int64) + 1
    return parent, kind, ms


def write_store(db: Path, nodes: int, seed: int) -> None:
    parent, kind, ms = tree(nodes, seed)
    n = nodes + 1
    ids = np.char.add("", (BASE_ID + np.arange(n)).astype(str))
    parent_ids = np.concatenate([[None], (BASE_ID + parent).astype(str)]).astype(object)
    kinds = np.concatenate([["original"], KINDS[kind]]).astype(object)
    times = np.datetime64(START, "ms") + np.concatenate([[0], ms]).astype("timedelta64[ms]")
    column = {"repost": "reposted_post_id", "reply": "reply_to_post_id", "quote": "quoted_post_id"}
    data = {name: pa.nulls(n, ARROW_SCHEMA.field(name).type) for name in ARROW_SCHEMA.names}
    data.update({
        "platform": pa.array(["twitter"] * n), "post_id": pa.array(ids), "kind": pa.array(kinds),
        "author_id": pa.array(np.char.add("", (np.arange(n) % 50_000).astype(str))),
        "author_handle": pa.array(np.char.add("synthetic_bench_", (np.arange(n) % 50_000).astype(str))),
        "created_at": pa.array(times.astype("datetime64[us]")), "time_source": pa.array(["snowflake"] * n),
        "text": pa.array(["[synthetic] bench"] * n), "collected": pa.array(np.ones(n, dtype=bool)),
        "source_format": pa.array(["synthetic-bench"] * n),
    })
    for k, name in column.items():
        data[name] = pa.array(np.where(kinds == k, parent_ids, None))
    table = pa.table([data[name].cast(ARROW_SCHEMA.field(name).type) for name in ARROW_SCHEMA.names], schema=ARROW_SCHEMA)
    if db.exists():
        db.unlink()
    with Store(str(db)) as store:
        store.con.register("bench_rows", table)
        store.con.execute("INSERT INTO posts BY NAME SELECT * FROM bench_rows")
        store.con.unregister("bench_rows")


def engine_run(db: Path) -> tuple[float, dict]:
    with DuckDBEngine(str(db)) as engine:
        start = time.perf_counter()
        figures = cascade(engine.query, f"twitter:{BASE_ID}", None, Privacy(), "benchsalt0123456789")
        return time.perf_counter() - start, figures


def read_edges(db: Path) -> tuple[float, list[tuple]]:
    start = time.perf_counter()
    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute("SELECT post_id, CASE kind WHEN 'repost' THEN reposted_post_id WHEN 'quote' THEN quoted_post_id "
                       "WHEN 'reply' THEN reply_to_post_id END, created_at FROM posts WHERE platform = 'twitter'").fetchall()
    con.close()
    return time.perf_counter() - start, rows


def python_bfs(rows: list[tuple], root: str) -> tuple[float, dict]:
    """The baseline: a BFS over a dict of children, subtree sizes bottom-up, sorted times."""
    start = time.perf_counter()
    children: dict[str, list[str]] = defaultdict(list)
    when = {}
    for post, parent, created in rows:
        when[post] = created
        if parent is not None and parent != post:
            children[parent].append(post)
    order, depth_of, parent_of = [root], {root: 0}, {}
    for node in order:
        for child in children.get(node, ()):
            if child != root:
                depth_of[child] = depth_of[node] + 1
                parent_of[child] = node
                order.append(child)
    n = len(order)
    breadth: dict[int, int] = defaultdict(int)
    for node in order[1:]:
        breadth[depth_of[node]] += 1
    size = dict.fromkeys(order, 1)
    wiener = 0
    for node in reversed(order[1:]):
        wiener += size[node] * (n - size[node])
        size[parent_of[node]] += size[node]
    times = sorted((when[node] - when[root]) / timedelta(seconds=1) for node in order[1:])
    figures = {"size": n, "depth": max(breadth, default=0), "breadth_by_depth": [breadth[d] for d in sorted(breadth)],
               "structural_virality": wiener / (n * (n - 1) / 2),
               "seconds_to_responses": {str(k): times[k - 1] if len(times) >= k else None for k in (10, 100, 1000)}}
    return time.perf_counter() - start, figures


def spread_bench(nodes: int, runs: int, seed: int) -> dict[str, Any]:
    OUT.mkdir(parents=True, exist_ok=True)
    db = OUT / "spread-bench.duckdb"
    started = time.perf_counter()
    write_store(db, nodes, seed)
    print(f"wrote {nodes + 1:,} synthetic posts (one cascade) via Arrow in {time.perf_counter() - started:.1f} s", flush=True)
    engine = [engine_run(db) for _ in range(runs)]
    reads = [read_edges(db) for _ in range(runs)]
    bfs = [python_bfs(reads[0][1], str(BASE_ID)) for _ in range(runs)]
    engine_s = statistics.median(t for t, _ in engine)
    read_s, bfs_s = statistics.median(t for t, _ in reads), statistics.median(t for t, _ in bfs)
    ours, theirs = engine[0][1], bfs[0][1]
    same = all(ours[key] == theirs[key] for key in ("size", "depth", "breadth_by_depth", "seconds_to_responses"))
    same = same and abs(ours["structural_virality"] - theirs["structural_virality"]) < 1e-9
    result = {"nodes": ours["size"], "depth": ours["depth"], "max_breadth": ours["max_breadth"],
              "structural_virality": ours["structural_virality"], "runs": runs, "engine_s": engine_s,
              "python_bfs_s": bfs_s, "python_read_s": read_s, "ratio_bfs": bfs_s / engine_s,
              "ratio_read_bfs": (read_s + bfs_s) / engine_s, "agree": same, "load_average": os.getloadavg()[0],
              "duckdb": duckdb.__version__}
    print(f"machine: {os.cpu_count()} cores, load average {result['load_average']:.1f}; DuckDB {duckdb.__version__}")
    print(f"cascade: {ours['size']:,} nodes, depth {ours['depth']}, max breadth {ours['max_breadth']:,}, "
          f"structural virality {ours['structural_virality']:.4f}")
    print(f"engine (level-by-level SQL): {engine_s:.2f} s median of {runs}")
    print(f"python BFS over a dict of children: {bfs_s:.2f} s; with reading the edges from DuckDB first: "
          f"{read_s + bfs_s:.2f} s")
    print(f"ratio python/engine: {result['ratio_bfs']:.2f}x (BFS only), {result['ratio_read_bfs']:.2f}x (read + BFS)")
    print(f"check: engine and python agree on size, depth, breadth, virality and response times: {same}")
    if not same:
        sys.exit("engine and python baseline disagree")
    return result


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip-trends", action="store_true", help="Run the cascade benchmark only.")
    parser.add_argument("--trends-args", default="", metavar="ARGS",
                        help='Options for bench/trends.py, e.g. "--hashtags 10000 --runs 1" (default: its own).')
    args = parser.parse_args(argv)
    result: dict[str, Any] = {"cascade": spread_bench(args.nodes, args.runs, args.seed)}
    if not args.skip_trends:
        try:
            from trends import main as trends_main
        except ImportError as exc:
            sys.exit(f"bench/trends.py could not be imported ({exc}); run with --skip-trends for the cascade benchmark alone")
        print("\n--- bench/trends.py ---", flush=True)
        result["trends"] = trends_main(shlex.split(args.trends_args))
    (OUT / "spread.json").write_text(json.dumps(result, indent=2, default=str))
    return result


if __name__ == "__main__":
    main()
