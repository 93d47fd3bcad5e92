"""One suite, two engines: every metric gives the same result on DuckDB and on Spark.

Each data set is ingested twice, into a DuckDB store and (on Spark) into a Parquet lake;
then every metric function in groundswell.metrics runs on both and must agree exactly. New
metric modules and functions are picked up by themselves. The SQL constructs metrics rely
on are checked one by one, and the acceptance test compares `stats --json` on the whole
GetOldTweets #metoo scrape. Spark tests skip only where pyspark or Java is missing.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, NamedTuple

import duckdb
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import groundswell.metrics
from groundswell.cli import main
from groundswell.ingest import IngestOptions, Summary, ingest
from groundswell.model import FIELD_NAMES
from groundswell.movement.match import distinct_list_sql
from groundswell.simulate import write_v1_sample
from groundswell.store import Store

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
AURORA = SHARED / "metoo-getoldtweets-aurora848"
REAL = ("metoo-stream-2017-lama/metoo.json", "twarc2-v2-testdata", "bluesky-twitter-fixtures-twitwi",
        "mastodon-public-timeline-tootkit")


def metric_functions() -> list[Any]:
    """Every public function of groundswell.metrics.* whose first parameter is `query`."""
    found = []
    for info in pkgutil.iter_modules(groundswell.metrics.__path__):
        module = importlib.import_module(f"groundswell.metrics.{info.name}")
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if function.__module__ != module.__name__ or name.startswith("_"):
                continue
            if list(inspect.signature(function).parameters)[:1] == ["query"]:
                found.append(pytest.param(function, id=f"{info.name}.{name}"))
    return found


class Examples:
    """An example value for each parameter a metric may take besides `query`, found once per
    data set on DuckDB, so both engines get the very same arguments."""

    def __init__(self, duck_query: Callable[[str], list[tuple]]):
        from groundswell.metrics import scope, volume
        from groundswell.movement import definition
        from groundswell.privacy import Privacy

        self.movement = definition.load_builtin("metoo")
        self.table = scope.SCOPE
        self.first, self.last = scope.time_range(duck_query)
        self.clock = scope.clock("UTC", self.first, self.last)
        self.bucket = "day"
        self.labels = self.movement.labels()
        self.privacy = Privacy()
        self.at = self.first
        self.utc_hours, self.utc_counts = volume.posts_per_bucket(duck_query, self.clock, "hour", self.first, self.last)
        (reposted,), = duck_query("SELECT coalesce(max_by(reposted_post_id, n), '1') FROM (SELECT reposted_post_id, count(*) AS n "
                                  "FROM posts WHERE reposted_post_id IS NOT NULL GROUP BY 1) AS r")
        self.call = f"twitter:{reposted}"
        self.languages = None  # no language detection: it writes to the store, which Spark does not
        self.salt = "0123456789abcdef0123456789abcdef"  # one pseudonym salt for both engines (each store has its own)
        self.kind = "mention"  # metrics.network: the kind with the most SQL (handle resolution, list lambdas)


# Metrics that make tables instead of returning figures: the tables they make are compared.
MAKES_TABLE = {"materialize_base": ("gs_scope",), "materialize_scope": ("gs_scope",),
               "prepare": ("gs_amp_latest", "gs_amp")}
# Facts about the ingest runs themselves, which by nature differ between two ingests.
RUN_TIMES = {"runs": ("first_started_at", "last_finished_at")}


class Engines(NamedTuple):
    duck: Any
    spark: Any
    duck_summary: Summary
    spark_summary: Summary
    examples: Examples
    movement: Any  # the scope's movement (None: every collected post)


DATASETS = ("real", "synthetic", "deletions")


@pytest.fixture(scope="module")
def datasets(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Engines]:
    built = {name: _engines(name, spark, tmp_path_factory) for name in DATASETS}
    yield built
    for pair in built.values():
        pair.duck.close()
        pair.spark.close()


@pytest.fixture(params=DATASETS)
def engines(request: pytest.FixtureRequest, datasets: dict[str, Engines]) -> Engines:
    return datasets[request.param]


def _engines(name: str, spark: Any, tmp_path_factory: pytest.TempPathFactory) -> Engines:
    """The same inputs in a DuckDB store and a Spark lake, with both ingest summaries."""
    from groundswell.engines.duckdb import DuckDBEngine
    from groundswell.engines.spark import SparkEngine
    from groundswell.engines.spark_ingest import ingest_lake

    folder = tmp_path_factory.mktemp(name)
    if name == "real":
        if not SHARED.is_dir():
            pytest.skip(f"real data folder {SHARED} is absent")
        inputs = [str(SHARED / name) for name in REAL]
    elif name == "deletions":
        inputs = [str(path) for path in write_deletions(folder / "in")]
    else:
        write_v1_sample(folder / "in", posts=3000, seed=21)  # synthetic
        inputs = [str(folder / "in")]
    with Store(str(folder / "store.duckdb")) as store:
        duck_summary = ingest(inputs, store, IngestOptions())
    spark_summary = ingest_lake(inputs, str(folder / "lake"), session=spark)
    duck = DuckDBEngine(str(folder / "store.duckdb"))
    lake = SparkEngine(str(folder / "lake"), session=spark)
    from groundswell.movement import definition

    # The report's scope, which most report metrics read: the #metoo posts of the synthetic
    # movement; every collected post of the real fixtures (few of them are about #metoo).
    movement = definition.load_builtin("metoo") if name != "real" else None
    for engine in (duck, lake):
        _report_tables(engine, movement)
    return Engines(duck, lake, duck_summary, spark_summary, Examples(duck.query), movement)


def write_deletions(folder: Path) -> list[Path]:
    """Synthetic tweets, then delete notices for originals that were reposted, then late
    reposts of those originals (one a copy of a repost stored before the deletion): the
    store drops the reposts and keeps a tombstone for each one it had stored, and the lake
    must do the same."""
    import gzip
    import random

    write_v1_sample(folder / "stream", posts=1500, seed=5)
    (sample,) = (folder / "stream").glob("*.jsonl.gz")
    tweets = []
    for line in gzip.open(sample).read().splitlines():
        try:
            tweets.append(orjson.loads(line))
        except orjson.JSONDecodeError:
            continue  # the sample's one broken line
    reposts = [t for t in tweets if "retweeted_status" in t]
    targets = sorted({t["retweeted_status"]["id_str"] for t in reposts})[:25]
    rng = random.Random(5)
    deletes = [{"delete": {"status": {"id": int(i), "id_str": i, "user_id": 1, "user_id_str": "1"},
                           "timestamp_ms": "1508100000000"}} for i in targets]
    late = []
    for n, old in enumerate(r for r in reposts if r["retweeted_status"]["id_str"] in targets[:6]):
        copy = dict(old) if n == 0 else {**old, "id": old["id"] + 7 + n, "id_str": str(old["id"] + 7 + n)}
        late.append(copy)
    rng.shuffle(late)
    paths = [folder / "a-stream.jsonl", folder / "b-deletes.jsonl", folder / "c-late.jsonl"]
    for path, rows in zip(paths, [tweets, deletes, late]):
        path.write_bytes(b"\n".join(orjson.dumps(row) for row in rows) + b"\n")
    assert len(targets) == 25 and late
    return paths


def _report_tables(engine: Any, movement: Any) -> None:
    """The tables report metrics read: the scope, and the amplifier tables built from it."""
    from groundswell.metrics import amplifiers, scope
    from groundswell.privacy import Privacy

    scope.materialize_base(engine.query, movement)
    scope.materialize_scope(engine.query, None)
    amplifiers.prepare(engine.query, Privacy(), scope.SCOPE)


@pytest.mark.parametrize("metric", metric_functions())
def test_metric_is_the_same_on_both_engines(datasets: dict[str, Engines], metric: Callable[..., Any]):
    """On every data set; and on one at least the metric must find something, or it proves nothing."""
    found = []
    for name, engines in datasets.items():
        on_duckdb, on_spark = _run_metric(engines, metric)
        assert on_spark == on_duckdb, name
        found.append(on_duckdb not in (None, [], {}, ()))
    assert any(found), "the metric found nothing in any data set"


def _run_metric(engines: Engines, metric: Callable[..., Any]) -> tuple[Any, Any]:
    arguments = {}
    for name, parameter in list(inspect.signature(metric).parameters.items())[1:]:
        if parameter.default is not inspect.Parameter.empty or parameter.kind is parameter.VAR_POSITIONAL:
            continue
        if not hasattr(engines.examples, name):
            pytest.fail(f"{metric.__module__}.{metric.__name__} takes `{name}`: give Examples an attribute `{name}`")
        arguments[name] = getattr(engines.examples, name)
    results = [metric(engine.query, **arguments) for engine in (engines.duck, engines.spark)]
    if metric.__name__ in MAKES_TABLE:
        results = [[sorted((_sorted_lists(row) for row in engine.query(f"SELECT * FROM {table}")), key=repr)
                    for table in MAKES_TABLE[metric.__name__]] for engine in (engines.duck, engines.spark)]
        for engine in (engines.duck, engines.spark):  # back to the tables the other metrics expect
            _report_tables(engine, engines.movement)
    return tuple(_without(r, RUN_TIMES.get(metric.__name__, ())) for r in results)  # type: ignore[return-value]


def _without(result: Any, keys: tuple[str, ...]) -> Any:
    return {k: v for k, v in result.items() if k not in keys} if keys and isinstance(result, dict) else result


def _sorted_lists(row: tuple) -> tuple:
    """DuckDB's list_distinct leaves its order unspecified, so rows compare lists as sets."""
    return tuple(sorted(value, key=str) if isinstance(value, list) else value for value in row)


def test_the_lake_holds_the_store_tables(engines: Engines):
    """Row for row, column for column; only the time each copy was written may differ."""
    tables = {
        "posts": [c for c in FIELD_NAMES if c != "ingested_at"],
        "tombstones": ["platform", "target_id", "is_author", "deleted_at", "reason", "source_file"],
        "quarantine": ["source_file", "source_line", "source_format", "reason", "raw"],
        "files": ["path", "fingerprint", "source_format", "status", "records", "posts"],
    }
    for table, columns in tables.items():
        query = f"SELECT {', '.join(columns)} FROM {table} ORDER BY {', '.join(columns[:3])}"
        assert engines.spark.query(query) == engines.duck.query(query), table
    assert engines.duck.query("SELECT count(*) FROM posts")[0][0] > 100


def test_ingest_summaries_are_the_same(engines: Engines):
    assert engines.spark_summary.as_dict() == engines.duck_summary.as_dict()


# --- the SQL constructs metrics use, one by one ----------------------------------------------

SAMPLE = pa.table({  # synthetic values
    "id": pa.array([1, 2, 3, 4], pa.int64()),
    "tags": pa.array([["metoo", "moiaussi"], ["balancetonporc"], [], None], pa.list_(pa.string())),
    "text": ["Me Too at work", "ÉGALITÉ\tnow", "\u0648\u0623\u0646\u0627 \u0643\u0645\u0627\u0646 here", None],
    "ts": pa.array([datetime(2017, 10, 15, 23, 59, 59, 999000), datetime(2017, 10, 16), datetime(2018, 1, 1, 12), None],
                   pa.timestamp("us")),
    "n": pa.array([5, None, 0, 7], pa.int64()),
    "kind": ["original", "repost", "repost", "reply"],
})

CONSTRUCTS = {
    "list_has_any": "SELECT id, list_has_any(tags, ['metoo', 'x']) FROM t ORDER BY id",
    "list_intersect": "SELECT id, list_sort(list_intersect(tags, ['moiaussi', 'metoo'])) FROM t ORDER BY id",
    "list_distinct_drops_null": "SELECT list_sort(list_distinct(['b', NULL, 'a', 'b']))",
    "list_position": "SELECT id, ['x', 'y'][list_position(['metoo', 'balancetonporc'], tags[1])] FROM t ORDER BY id",
    "subscripts": "SELECT id, tags[1], tags[2], tags[-1], tags[0] FROM t ORDER BY id",
    "len_and_length": "SELECT id, len(tags), length(text) FROM t ORDER BY id",
    "list_concat_null": "SELECT id, list_concat(tags, ['z']) FROM t ORDER BY id",
    "list_filter_contains": "SELECT id, list_filter(tags, lambda k: list_contains(['metoo', 'balancetonporc'], k)) FROM t ORDER BY id",
    "list_transform": "SELECT id, list_transform(tags, lambda k: upper(k)) FROM t ORDER BY id",
    "unnest": "SELECT tag, count(*) FROM (SELECT unnest(tags) AS tag FROM t) AS u GROUP BY tag ORDER BY tag",
    "filter_and_distinct": "SELECT count(*) FILTER (WHERE n > 0), count(DISTINCT kind), count(n), sum(n), avg(n) FROM t",
    "date_trunc_day": "SELECT CAST(date_trunc('day', ts) AS DATE), count(*) FROM t GROUP BY 1 ORDER BY 1",
    "timestamp_literals": ("SELECT id FROM t WHERE ts >= TIMESTAMP '2017-10-16 00:00:00' "
                           "AND ts < TIMESTAMP '2018-01-01 12:00:00.000001' ORDER BY id"),
    "timestamps_out": "SELECT id, ts, min(ts) OVER () FROM t ORDER BY id",
    "qualify": "SELECT kind, id FROM t QUALIFY row_number() OVER (PARTITION BY kind ORDER BY id DESC) = 1 ORDER BY kind",
    "null_order": "SELECT n FROM t ORDER BY n",
    "null_order_desc": "SELECT n FROM t ORDER BY n DESC",
    "regex_unicode_case": r"SELECT id, regexp_matches(text, '(?i)égalité'), regexp_matches(text, '(?i)\bme\s+too\b') FROM t ORDER BY id",
    "regex_script": r"SELECT id, regexp_matches(text, '^[\p{Arabic}]+\s') FROM t ORDER BY id",
    "regex_replace_groups": r"SELECT id, regexp_replace(text, '(\w+) (\w+)', '\2 \1', 'g') FROM t ORDER BY id",
    "string_escapes": r"SELECT 'it''s', 'a\b', '#＃'",
    "division": "SELECT 7 / 2, CAST(7 AS BIGINT) / 2",
    "distinct_list_fast_paths": f"SELECT id, list_sort({distinct_list_sql('tags')}) FROM t ORDER BY id",
    "distinct_list_pairs": (f"SELECT k, list_sort({distinct_list_sql('k')}) FROM (SELECT ['a', 'a'] AS k UNION ALL "
                            "SELECT ['b', 'a'] UNION ALL SELECT ['c', NULL] UNION ALL SELECT ['d', 'e', 'd']) AS l ORDER BY k[1]"),
    "max_by_struct": ("SELECT kind, max_by(n, {'t': coalesce(ts, TIMESTAMP '0001-01-01 00:00:00'), 'f': n}) FROM t "
                      "WHERE n IS NOT NULL GROUP BY kind ORDER BY kind"),
    "materialized_cte": ("WITH m AS MATERIALIZED (SELECT * FROM t WHERE n IS NOT NULL) "
                         "SELECT 'a' AS k, count(*) AS v FROM m UNION ALL SELECT 'b', sum(n) FROM m ORDER BY k"),
}


@pytest.fixture(scope="module")
def sample_engines(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[Callable, Callable]:
    from groundswell.engines.spark import SparkEngine

    path = tmp_path_factory.mktemp("sample") / "t.parquet"
    pq.write_table(SAMPLE, path)
    spark.read.parquet(str(path)).createOrReplaceTempView("t")
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"CREATE TABLE t AS SELECT * FROM read_parquet('{path}')")
    return (lambda sql: con.execute(sql).fetchall()), SparkEngine(None, session=spark).query


@pytest.mark.parametrize("sql", list(CONSTRUCTS.values()), ids=list(CONSTRUCTS))
def test_sql_construct_means_the_same_on_spark(sample_engines: tuple[Callable, Callable], sql: str):
    on_duckdb, on_spark = sample_engines
    expected = on_duckdb(sql)
    assert on_spark(sql) == expected


# --- acceptance: the whole #metoo scrape ------------------------------------------------------

@pytest.fixture(scope="module")
def aurora_lake(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> str:
    """`groundswell ingest --engine spark` of the whole scrape, once for the tests below."""
    if not AURORA.is_dir():
        pytest.skip(f"real data folder {AURORA} is absent")
    lake = str(tmp_path_factory.mktemp("aurora-lake") / "lake")
    ingested = CliRunner().invoke(main, ["ingest", str(AURORA), "--engine", "spark", "--lake", lake, "--json"])
    assert ingested.exit_code == 0, ingested.output
    assert orjson.loads(ingested.stdout)["ingested"] == 608_099
    return lake


@pytest.mark.realdata
@pytest.mark.slow
def test_stats_json_on_the_aurora848_lake_equals_the_store(aurora_lake: str, aurora_store: Path):
    """`groundswell ingest --engine spark` then `stats --engine spark --json --by-day` on
    608,099 GetOldTweets posts print exactly what `stats --json --by-day` prints for the store."""
    runner, lake = CliRunner(), aurora_lake
    on_duckdb = runner.invoke(main, ["stats", "--db", str(aurora_store), "--json", "--by-day"])
    on_spark = runner.invoke(main, ["stats", "--engine", "spark", "--lake", lake, "--json", "--by-day"])
    assert on_spark.exit_code == 0, on_spark.output
    assert on_spark.stdout == on_duckdb.stdout
    figures = orjson.loads(on_spark.stdout)
    # Reference figures from the data's README, counted from tweet ids independently.
    assert figures["posts"] == 608_099
    assert (figures["by_day"]["2017-10-14"], figures["by_day"]["2017-10-15"], figures["by_day"]["2017-10-23"]) == (38, 13_666, 12_868)


# --- what cannot be said the same way on Spark is refused, not mistranslated --------------------

@pytest.mark.parametrize("sql", [
    "SELECT regexp_replace(text, 'a', 'b') FROM posts",  # first match only: Spark has no such form
    "SELECT regexp_matches(text, 'a', 'i') FROM posts",  # options outside the pattern
    "SELECT regexp_matches(text, lang) FROM posts",  # a pattern that is not a literal
    "SELECT regexp_matches(text, '(?U)a+') FROM posts",  # RE2's ungreedy flag
    "CREATE TABLE kept AS SELECT 1",  # only temporary tables become (cached) views
    "SELECT 1; SELECT 2",
])
def test_sql_with_no_equal_on_spark_is_refused(sql: str):
    from groundswell.engines.transpile import NotPortable, spark_plan

    with pytest.raises(NotPortable):
        spark_plan(sql)


@pytest.mark.parametrize("re2, java", [
    (r"(?i)\bme too\b", r"(?d)(?iu)\bme too\b"),
    (r"[\p{Arabic}\p{L}]+", r"(?d)[\p{IsArabic}\p{L}]+"),
    (r"a\sb[^\s#]", "(?d)a[\\t\\n\\f\\r ]b[^\\t\\n\\f\\r #]"),
    (r"[]a[b&&c][[:alpha:]]", r"(?d)[\]a\[b\&\&c][\p{Alpha}]"),
    (r"(?P<tag>#\w+)", r"(?d)(?<tag>#\w+)"),
])
def test_re2_patterns_become_java_patterns_with_the_same_matches(re2: str, java: str):
    from groundswell.engines.transpile import java_regex

    assert java_regex(re2) == java


def test_re2_replacements_become_java_replacements():
    from groundswell.engines.transpile import java_replacement

    assert java_replacement(r"\2 \1 costs $5 \\ ok") == r"$2 $1 costs \$5 \\ ok"


@pytest.mark.realdata
@pytest.mark.slow
def test_the_report_on_the_aurora848_lake_equals_the_store(aurora_lake: str, aurora_store: Path, tmp_path: Path):
    """`report --engine spark --lake` over the whole scrape, for the days around the call to
    action (a window keeps language detection, which Spark cannot cache, to ~14,000 posts):
    every figure equals the DuckDB report's, except the ingest runs' clock times and the
    pseudonyms (a lake and a store each have their own secret salt)."""
    from importlib import resources

    movement = tmp_path / "metoo-oct15.toml"
    builtin = (resources.files("groundswell.movement") / "builtin" / "metoo.toml").read_text(encoding="utf-8")
    builtin = builtin.replace('name = "metoo"', "")
    movement.write_text('name = "metoo-oct15"\nwindow = { start = 2017-10-14, end = 2017-10-15 }\n' + builtin,
                        encoding="utf-8")
    runner, lake = CliRunner(), aurora_lake
    common = ["report", "--movement", str(movement), "--json"]
    on_duckdb = runner.invoke(main, [*common, "--db", str(aurora_store), "--out", str(tmp_path / "d.html")])
    on_spark = runner.invoke(main, [*common, "--engine", "spark", "--lake", lake, "--out", str(tmp_path / "s.html")])
    assert on_spark.exit_code == 0, on_spark.output
    duck, lake_figures = (_comparable(orjson.loads(result.stdout)["report"]) for result in (on_duckdb, on_spark))
    assert lake_figures == duck
    assert duck["headline"]["posts"] > 13_000  # the window holds the call's day, 13,666 posts by tweet id
    assert duck["languages"]["label_source"].get("detected"), "languages were detected"


PSEUDONYM = re.compile(r"p[0-9a-f]{12}")


def _comparable(figures: dict[str, Any]) -> dict[str, Any]:
    """Without the runs' clock times, and with every pseudonym as `p…`: a lake and a store
    have different salts, so the same person has another label in each (by design)."""
    for run_time in RUN_TIMES["runs"]:
        figures["coverage"]["runs"].pop(run_time)
    return _unlabelled(figures)


def _unlabelled(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _unlabelled(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_unlabelled(item) for item in value]
    if isinstance(value, str) and PSEUDONYM.fullmatch(value):
        return "p…"
    return value


def test_spark_out_of_memory_is_one_line_that_says_what_to_raise(datasets: dict[str, Engines], tmp_path: Path):
    """A Spark task that cannot get memory (here a session left almost none for execution, as
    ten million posts in the default 2g once did) ends the report with one line naming the
    setting to raise: no Java stack from the executor, no Python traceback."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYSPARK_SUBMIT_ARGS": "--conf spark.memory.fraction=0.0001 pyspark-shell"}
    command = [sys.executable, "-m", "groundswell", "report", "--movement", "metoo", "--engine", "spark",
               "--lake", datasets["synthetic"].spark.lake, "--out", str(tmp_path / "r.html")]
    done = subprocess.run(command, capture_output=True, env=env, timeout=600)
    err = done.stderr.decode()
    assert done.returncode == 1, err[-2000:]
    assert "Traceback" not in err and "\tat org.apache" not in err
    assert err.strip().splitlines()[-1].startswith("Error: Spark ran out of memory (")
    assert "GROUNDSWELL_SPARK_MEMORY" in err and not (tmp_path / "r.html").exists()


def test_reposts_of_deleted_posts_leave_the_same_tombstones(datasets: dict[str, Engines]):
    """The store tombstones each stored repost a deletion removed; the lake must hold the same
    rows, and neither may keep a repost of a deleted post."""
    pair = datasets["deletions"]
    query = "SELECT target_id, source_file FROM tombstones WHERE reason = 'repost of a forgotten post' ORDER BY 1"
    on_duckdb = pair.duck.query(query)
    assert len(on_duckdb) > 0 and all(path.endswith("b-deletes.jsonl") for _, path in on_duckdb)
    assert pair.spark.query(query) == on_duckdb
    kept = ("SELECT count(*) FROM posts p JOIN tombstones t ON NOT t.is_author AND t.platform = p.platform "
            "AND t.target_id = p.reposted_post_id")
    assert pair.duck.query(kept) == pair.spark.query(kept) == [(0,)]
