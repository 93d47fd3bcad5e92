"""Every benchmark, one after the other, then docs/performance.md rewritten from their figures.

Usage: python bench/all.py [--quick]      (what `make bench` runs)

Each benchmark prints its own figures beside a baseline measured in the same run and leaves
them in bench/out/<name>.json; this script then renders docs/performance.md from
bench/performance.md.j2, with the machine and the date, so the page never holds a figure
that no run produced. --quick runs small sizes, to check the whole chain in a few minutes;
its figures are marked as such and are not for publishing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
OUT = BENCH / "out"
sys.path.insert(0, str(BENCH))

FULL = {
    "ingest": ["--size-mb", "1024", "--runs", "3", "--peer-mb", "40"],
    "ingest_scale": ["--sizes", "1e6,1e7", "--runs", "3", "--big-file-gb", "2"],
    "hashtags": ["--size-mb", "40", "--runs", "3"],
    "match": ["--copies", "17", "--runs", "3"],
    "report_scale": ["--sizes", "1e5,1e6,1e7", "--runs", "3", "--spark-runs", "1"],
    "spread": ["--nodes", "1000000", "--runs", "3"],
    "language": ["--sample", "20000", "--runs", "3"],
    "watch": ["--events", "500000", "--runs", "5", "--minutes", "10"],
    "serve": ["--sizes", "1e5,1e6,1e7", "--runs", "5"],
}
# What fits in an hour when the machine is shared: a quarter of the ingest input, and Spark
# up to a million posts (at ten million it runs for the better part of an hour here).
SHORT = {
    "ingest": ["--size-mb", "256", "--runs", "3", "--peer-mb", "40"],
    "ingest_scale": ["--sizes", "1e6,1e7", "--runs", "1", "--big-file-gb", "2"],
    "hashtags": ["--size-mb", "40", "--runs", "3"],
    "match": ["--copies", "17", "--runs", "3"],
    "report_scale": ["--sizes", "1e5,1e6,1e7", "--runs", "2", "--spark-runs", "1", "--spark-max", "1e6"],
    "spread": ["--nodes", "1000000", "--runs", "3"],
    "language": ["--sample", "5000", "--runs", "3"],
    "watch": ["--events", "500000", "--runs", "3", "--minutes", "2"],
    "serve": ["--sizes", "1e5,1e6,1e7", "--runs", "3"],
}
QUICK = {
    "ingest": ["--size-mb", "64", "--runs", "1", "--peer-mb", "10"],
    "ingest_scale": ["--sizes", "1e5,1e6", "--runs", "1", "--big-file-gb", "0.25"],
    "hashtags": ["--size-mb", "10", "--runs", "1"],
    "match": ["--copies", "2", "--runs", "1", "--python-posts", "100000"],
    "report_scale": ["--sizes", "1e4,1e5", "--runs", "1", "--spark-runs", "1"],
    "spread": ["--nodes", "100000", "--runs", "1", "--trends-args", "--hashtags 10000 --buckets 500 --runs 1"],
    "language": ["--sample", "1000", "--runs", "1"],
    "watch": ["--events", "50000", "--runs", "1", "--minutes", "0.25"],
    "serve": ["--sizes", "1e4,1e5", "--runs", "1"],
}


def machine() -> dict[str, Any]:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()[:1]
    import duckdb
    import pyarrow

    versions = {"python": platform.python_version(), "duckdb": duckdb.__version__, "pyarrow": pyarrow.__version__,
                "java": java[0] if java else "none"}
    try:
        import pyspark

        versions["pyspark"] = pyspark.__version__
    except ImportError:
        versions["pyspark"] = "not installed"
    return {"cores": os.cpu_count(), "memory_gib": round(memory / 2**30, 1), "cpu": cpu,
            "os": platform.platform(), "versions": versions,
            "load_before": os.getloadavg()[0]}


def run(name: str, argv: list[str]) -> tuple[Any, float]:
    module = __import__(name)
    main: Callable[[list[str]], Any] = module.main
    print(f"\n=== {name} {' '.join(argv)}", flush=True)
    start = time.perf_counter()
    return main(argv), time.perf_counter() - start


def render(results: dict[str, Any], quick: bool) -> str:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(loader=FileSystemLoader(BENCH), undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["n"] = lambda value, digits=0: f"{value:,.{digits}f}"
    env.filters["gib"] = lambda value: f"{value / 2**30:.2f} GiB"
    return env.get_template("performance.md.j2").render(**results, quick=quick)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: checks the chain, not for publishing")
    parser.add_argument("--short", action="store_true", help="full sizes but a 256 MB ingest input and Spark up to 1e6")
    parser.add_argument("--out", default=str(ROOT / "docs" / "performance.md"))
    parser.add_argument("--render-only", action="store_true", help="rewrite the page from bench/out/all.json")
    parser.add_argument("--resume", action="store_true",
                        help="reuse the figures a benchmark of this plan already left in bench/out/<name>.json")
    args = parser.parse_args(argv)
    if args.render_only:
        saved = json.loads((OUT / "all.json").read_text())
        Path(args.out).write_text(render(saved, saved.get("plan") == "quick"), encoding="utf-8")
        return
    plan = QUICK if args.quick else SHORT if args.short else FULL
    results: dict[str, Any] = {"machine": machine(), "date": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
                               "seconds": {}, "plan": "quick" if args.quick else "short" if args.short else "full"}
    for name, bench_argv in plan.items():
        kept = OUT / f"{name}.json"
        if args.resume and kept.exists():
            results[name], results["seconds"][name] = json.loads(kept.read_text()), 0.0
            print(f"=== {name}: reusing {kept}")
            continue
        results[name], results["seconds"][name] = run(name, bench_argv)
    results["machine"]["load_after"] = os.getloadavg()[0]
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "all.json").write_text(json.dumps(results, indent=2, default=str))
    print(f"figures kept in {OUT / 'all.json'}; `python bench/all.py --render-only` rewrites the page from them")
    Path(args.out).write_text(render(results, args.quick), encoding="utf-8")
    print(f"\nwrote {args.out} ({sum(results['seconds'].values()) / 60:.0f} min of benchmarks)")


if __name__ == "__main__":
    main()
