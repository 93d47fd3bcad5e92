"""Ingest on Spark: the file tasks, the dedupe SQL, the lake, and the engine options.

The dedupe SQL (engines/dedupe.py) is checked on DuckDB against the store itself, on real
data and on generated edge cases, so those tests need no Spark. The lake tests run a local
Spark session (the `spark` fixture skips where pyspark or Java is missing).
"""

from __future__ import annotations

import gzip
import re
import shutil
import sys
from datetime import datetime
from pathlib import Path

import duckdb
import orjson
import pyarrow as pa
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from groundswell.cli import main
from groundswell.engines import dedupe
from groundswell.engines.file_tasks import parse_file, parsed_schema
from groundswell.formats.base import Delete
from groundswell.ingest import IngestOptions, ingest
from groundswell.ingest.pipeline import fingerprint
from groundswell.model import ARROW_SCHEMA, FIELD_NAMES, new_post
from groundswell.simulate import write_v1_sample
from groundswell.sources import expand
from groundswell.store import Store
from groundswell.store import duckdb_store

NOW = datetime(2024, 1, 1)
COMPARED = [c for c in FIELD_NAMES if c != "ingested_at"]  # the one column that records when
REAL = ("twarc2-v2-testdata", "metoo-stream-2017-lama", "bluesky-twitter-fixtures-twitwi", "mastodon-public-timeline-tootkit")


def parsed(paths: list[str], options: IngestOptions) -> pa.Table:
    """What the Spark tasks would emit for these inputs, computed here without Spark."""
    labels = [s.label for s in expand(paths)]
    batches = [b for i, label in enumerate(labels) for b in parse_file(i, label, options, {}, NOW)]
    return pa.Table.from_batches(batches, schema=parsed_schema())


def dedupe_on_duckdb(table: pa.Table) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.register("parsed", table)
    con.execute("CREATE TABLE copies AS SELECT _pos, _batch, post.* FROM parsed WHERE post IS NOT NULL")
    con.execute("""CREATE TABLE tombstones AS SELECT *, min(_batch) OVER (PARTITION BY platform, target_id, is_author) AS _since
                   FROM (SELECT _batch, tombstone.* FROM parsed WHERE tombstone IS NOT NULL)""")
    return con


def sorted_rows(con: duckdb.DuckDBPyConnection, query: str) -> list[tuple]:
    return con.execute(f"SELECT {', '.join(COMPARED)} FROM ({query}) ORDER BY platform, post_id").fetchall()


# --- the dedupe SQL equals the store, on DuckDB ----------------------------------------------

@pytest.mark.realdata
@pytest.mark.parametrize("batch_rows", [5, 100_000])
def test_dedupe_sql_gives_the_store_table_on_real_data(shared_data: Path, tmp_path: Path, batch_rows: int):
    """Edits (twarc2 edited_*), deletions (compliance), retweets' originals seen many times:
    one SQL pass over all copies gives exactly the table the store builds batch by batch."""
    paths = [str(shared_data / name) for name in REAL]
    options = IngestOptions(batch_rows=batch_rows, chunk_records=min(2000, batch_rows), workers=1)
    with Store(str(tmp_path / "s.duckdb")) as store:
        summary = ingest(paths, store, options)
        expected = store.sql(f"SELECT {', '.join(COMPARED)} FROM posts ORDER BY platform, post_id")
    table = parsed(paths, options)
    con = dedupe_on_duckdb(table)
    assert sorted_rows(con, dedupe.dedupe_sql()) == expected
    (run,) = [row for row in con.execute(dedupe.counts_sql()).fetchall() if row[0] == "run"]
    collected_in = con.execute("SELECT count(*) FROM copies WHERE collected").fetchone()[0]
    assert (run[2], run[3], run[4], collected_in - run[5]) == (
        summary.ingested, summary.duplicate, summary.referenced, summary.forgotten)


def test_winner_order_is_the_stores():
    """The dedupe SQL and the store must rank copies within a batch the same way."""
    flat = " ".join(duckdb_store._WINNERS_SQL.split())
    assert f"ORDER BY {dedupe.WINNER_ORDER} )" in flat


AUTHOR_OF = {"1": "a", "2": "a", "3": "b"}  # every copy of a post names its one author
ORIGINAL, REPOST = "1", "3"
copies = st.lists(
    st.tuples(
        st.sampled_from(["1", "2", "3"]),  # post id
        st.booleans(),  # collected
        st.sampled_from(["7", "8", "10", "11"]),  # version: longer ids are newer
        st.sampled_from([None, 0, 5]),  # likes
        st.sampled_from(["x", "y"]),  # text
        st.sampled_from([None, "post", "author"]),  # a deletion recorded before this copy
        st.booleans(),  # a new batch starts here
    ),
    min_size=1, max_size=25,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(copies)
def test_dedupe_sql_gives_the_store_table_on_generated_copies(rows: list[tuple]):
    """Synthetic copies: any mix of versions, null counts, deletions and batch boundaries."""
    batches: list[tuple[list[dict], list[Delete]]] = [([], [])]
    for n, (post_id, collected, version, likes, text, deletion, new_batch) in enumerate(rows):
        author = AUTHOR_OF[post_id]
        if new_batch and (batches[-1][0] or batches[-1][1]):
            batches.append(([], []))
        if deletion:
            target = post_id if deletion == "post" else author
            batches[-1][1].append(Delete("twitter", target, None, "deleted", author=deletion == "author"))
        fields = dict(platform="twitter", kind="original", source_file="f", source_line=n + 1, ingested_at=NOW)
        if post_id == REPOST:  # a repost carries its original, as a v1.1 retweet does
            batches[-1][0].append(new_post(**fields, post_id=ORIGINAL, author_id=AUTHOR_OF[ORIGINAL], collected=False,
                                           version_id=ORIGINAL, like_count=likes, text=text))
            fields.update(kind="repost", reposted_post_id=ORIGINAL)
        batches[-1][0].append(new_post(**fields, post_id=post_id, author_id=author, collected=collected,
                                       version_id=version, like_count=likes, text=text))
    store = Store(":memory:")
    counts = [store.write_batch(pa.Table.from_pylist(posts, schema=ARROW_SCHEMA), [], deletes, "f")
              for posts, deletes in batches]
    expected = store.sql(f"SELECT {', '.join(COMPARED)} FROM posts ORDER BY platform, post_id")
    con = _copies_of(batches)
    assert sorted_rows(con, dedupe.dedupe_sql()) == expected
    (run,) = [row for row in con.execute(dedupe.counts_sql()).fetchall() if row[0] == "run"]
    collected_in = sum(1 for posts, _ in batches for p in posts if p["collected"])
    assert (run[2], run[3], run[4], collected_in - run[5]) == (
        sum(c.new for c in counts), sum(c.duplicate for c in counts),
        sum(c.referenced for c in counts), sum(c.tombstoned for c in counts))


def test_a_post_goes_whole_when_one_copy_names_a_deleted_author():
    """Copies of one post that disagree on its author: the deletion takes every copy (store rule)."""
    batch = [new_post(platform="twitter", post_id="1", author_id=author, collected=False, version_id="7", kind="original",
                      source_file="f", source_line=n, ingested_at=NOW) for n, author in enumerate("ab")]
    batches = [(batch, [Delete("twitter", "a", None, "deleted", author=True)])]
    store = Store(":memory:")
    store.write_batch(pa.Table.from_pylist(batch, schema=ARROW_SCHEMA), [], batches[0][1], "f")
    assert sorted_rows(_copies_of(batches), dedupe.dedupe_sql()) == store.sql("SELECT * FROM posts") == []


def _copies_of(batches: list[tuple[list[dict], list[Delete]]]) -> duckdb.DuckDBPyConnection:
    posts, tombstones, pos = [], [], 0
    for number, (rows, deletes) in enumerate(batches):
        tombstones += [{"platform": d.platform, "target_id": d.target_id, "is_author": d.author, "_batch": number}
                       for d in deletes]
        for row in rows:
            posts.append({**row, "_pos": pos, "_batch": number})
            pos += 1
    con = duckdb.connect()
    schema = ARROW_SCHEMA.append(pa.field("_pos", pa.int64())).append(pa.field("_batch", pa.int64()))
    con.register("posts_in", pa.Table.from_pylist(posts, schema=schema))
    con.execute("CREATE TABLE copies AS SELECT * FROM posts_in")
    tomb_schema = pa.schema([("platform", pa.string()), ("target_id", pa.string()), ("is_author", pa.bool_()), ("_batch", pa.int64())])
    con.register("tombs_in", pa.Table.from_pylist(tombstones, schema=tomb_schema))
    con.execute("CREATE TABLE tombstones AS SELECT platform, target_id, is_author, min(_batch) AS _since "
                "FROM tombs_in GROUP BY ALL")
    return con


# --- what a file task emits -------------------------------------------------------------------

def test_file_task_numbers_rows_in_input_order_and_reports_its_file(tmp_path: Path):
    write_v1_sample(tmp_path, posts=300)  # synthetic
    path = str(next(tmp_path.glob("*.jsonl.gz")))
    options = IngestOptions(batch_rows=100, chunk_records=50, workers=1)
    table = pa.Table.from_batches(list(parse_file(3, path, options, {}, NOW)), schema=parsed_schema())
    posts = table.filter(pa.compute.is_valid(table.column("post")))
    positions = posts.column("_pos").to_pylist()
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    assert {p >> 32 for p in positions} == {3}
    assert len(set(posts.column("_batch").to_pylist())) >= 3  # one per write batch of the pipeline
    (status,) = [s for s in table.column("file").to_pylist() if s]
    with Store(str(tmp_path / "s.duckdb")) as store:
        summary = ingest([path], store, options)
    assert (status["status"], status["records"], status["post_rows"]) == ("done", summary.read, posts.num_rows)
    assert orjson.loads(status["summary"])["rejected"] == summary.rejected == 1  # the sample's broken line
    assert status["fingerprint"] == fingerprint(path)


def test_file_task_skips_a_file_already_ingested_and_reports_a_damaged_one(tmp_path: Path):
    write_v1_sample(tmp_path, posts=200)  # synthetic
    path = str(next(tmp_path.glob("*.jsonl.gz")))
    options = IngestOptions(workers=1)
    skipped = list(parse_file(0, path, options, {path: fingerprint(path)}, NOW))
    statuses = [s for b in skipped for s in b.column("file").to_pylist() if s]
    assert [s["status"] for s in statuses] == ["skipped"] and sum(b.num_rows for b in skipped) == 1
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(Path(path).read_bytes()[: Path(path).stat().st_size // 2])
    table = pa.Table.from_batches(list(parse_file(1, str(cut), options, {}, NOW)), schema=parsed_schema())
    (status,) = [s for s in table.column("file").to_pylist() if s]
    errors = orjson.loads(status["summary"])["file_errors"]
    assert status["status"] == "error" and len(errors) == 1 and "truncated" in errors[0]["message"]
    assert status["post_rows"] > 0  # the records before the cut are kept, as in the store


# --- the engine options -----------------------------------------------------------------------

def _run(args: list[str]):
    result = CliRunner().invoke(main, args)
    return result.exit_code, result.output.strip()


def test_spark_without_a_lake_is_a_one_line_error():
    code, output = _run(["stats", "--engine", "spark", "--json"])
    assert code == 1
    assert output == "Error: --engine spark needs --lake PATH (the Parquet lake that `groundswell ingest --engine spark` writes)"


def test_a_lake_without_spark_is_a_one_line_error(tmp_path: Path):
    code, output = _run(["stats", "--lake", str(tmp_path), "--json"])
    assert (code, output) == (1, "Error: --lake is read by the Spark engine only: add --engine spark")


def test_missing_pyspark_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(sys.modules, "pyspark", None)  # as if it were not installed
    code, output = _run(["stats", "--engine", "spark", "--lake", str(tmp_path), "--json"])
    assert (code, output) == (1, "Error: Spark support is not installed: pip install 'groundswell[spark]'")


def test_missing_java_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    pytest.importorskip("pyspark", reason="pyspark is not installed")
    from pyspark.sql import SparkSession

    from groundswell.engines import spark as spark_engine

    monkeypatch.setattr(SparkSession, "getActiveSession", staticmethod(lambda: None))
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "no-java"))
    assert spark_engine.java_version() is None
    code, output = _run(["ingest", str(tmp_path), "--engine", "spark", "--lake", str(tmp_path / "lake")])
    assert code == 1
    assert output == f"Error: {spark_engine.JAVA_MISSING}" and "openjdk-17-jre-headless" in output


# --- lakes on Spark -------------------------------------------------------------------------

def _compliance(path: Path, ids: list[str]) -> None:
    """A synthetic compliance file deleting these ids."""
    lines = [orjson.dumps({"id": i, "action": "delete", "created_at": "2020-01-01T00:00:00.000Z"}) for i in ids]
    path.write_bytes(b"\n".join(lines) + b"\n")


def _lake_posts(spark, lake: Path) -> list[tuple]:
    from groundswell.engines.spark import SparkEngine

    engine = SparkEngine(str(lake), session=spark)
    return engine.query(f"SELECT {', '.join(COMPARED)} FROM posts ORDER BY platform, post_id")


@pytest.mark.slow
def test_reingesting_into_a_lake_matches_the_store_run_for_run(spark, tmp_path: Path):
    """Run 1: a file. Run 2: the same file (skipped), it again under another name, and
    deletions of three of its posts: no post twice, the deleted ones gone, as in the store."""
    from groundswell.engines.spark_ingest import ingest_lake

    first = tmp_path / "a"
    write_v1_sample(first, posts=400)  # synthetic
    second = tmp_path / "b"
    second.mkdir()
    shutil.copy(next(first.glob("*.gz")), second / "again.jsonl.gz")
    ids = [line["id_str"] for line in map(orjson.loads, gzip.open(next(first.glob("*.gz"))).read().splitlines()[5:8])]
    _compliance(second / "tweets_compliance.jsonl", ids)
    lake, db = tmp_path / "lake", str(tmp_path / "s.duckdb")
    runs = [[str(first)], [str(first), str(second)]]
    for run in runs:
        with Store(db) as store:
            expected = ingest(run, store, IngestOptions()).as_dict()
        got = ingest_lake(run, str(lake), session=spark).as_dict()
        assert got == expected
        with Store(db, read_only=True) as store:
            assert _lake_posts(spark, lake) == store.sql(f"SELECT {', '.join(COMPARED)} FROM posts ORDER BY platform, post_id")
    assert got["files_already_ingested"] == 1 and got["deleted"] == 3 and got["duplicate"] > 390
    from groundswell.engines.spark import SparkEngine

    listed = ", ".join(f"'{i}'" for i in ids)
    assert SparkEngine(str(lake), session=spark).query(f"SELECT count(*) FROM posts WHERE post_id IN ({listed})") == [(0,)]
    manifests = sorted((lake / "_snapshots").glob("*.json"))
    assert [m.name for m in manifests] == ["00000001.json", "00000002.json"]
    assert {p.name for p in (lake / "posts").iterdir()} == {"snapshot=1", "snapshot=2"}


@pytest.mark.slow
def test_an_interrupted_commit_leaves_the_lake_as_it_was(spark, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from groundswell.engines import spark_ingest
    from groundswell.engines.spark import SparkEngine

    folder = tmp_path / "in"
    write_v1_sample(folder, posts=150)  # synthetic
    lake = str(tmp_path / "lake")
    spark_ingest.ingest_lake([str(folder)], lake, session=spark)
    before = SparkEngine(lake, session=spark).query("SELECT count(*), count(DISTINCT post_id) FROM posts")
    extra = tmp_path / "more"
    write_v1_sample(extra, posts=120, seed=11)  # synthetic

    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(spark_ingest, "commit", crash)
    with pytest.raises(KeyboardInterrupt):
        spark_ingest.ingest_lake([str(extra)], lake, session=spark)
    assert SparkEngine(lake, session=spark).query("SELECT count(*), count(DISTINCT post_id) FROM posts") == before
    monkeypatch.undo()
    spark_ingest.ingest_lake([str(extra)], lake, session=spark)
    (posts, distinct), = SparkEngine(lake, session=spark).query("SELECT count(*), count(DISTINCT post_id) FROM posts")
    assert posts == distinct > before[0][0]


def test_a_folder_that_is_not_a_lake_is_a_one_line_error(spark, tmp_path: Path):
    code, output = _run(["stats", "--engine", "spark", "--lake", str(tmp_path), "--json"])
    assert code == 1
    assert re.fullmatch(r"Error: \S+: not a groundswell lake \(run `groundswell ingest --engine spark --lake \S+` first\)", output)


class _LocalFiles:
    """LakeFiles' operations on a local folder, without a JVM."""

    def __init__(self, root: Path):
        self.root = str(root)

    def names(self, uri: str) -> list[str]:
        return sorted(p.name for p in Path(uri).iterdir()) if Path(uri).is_dir() else []

    def read_text(self, uri: str) -> str:
        return Path(uri).read_text()

    def create_new(self, uri: str, data: bytes) -> None:
        assert not Path(uri).exists()
        Path(uri).parent.mkdir(parents=True, exist_ok=True)
        Path(uri).write_bytes(data)

    def delete(self, uri: str) -> None:
        shutil.rmtree(uri) if Path(uri).is_dir() else Path(uri).unlink()


def test_a_commit_keeps_the_current_and_the_previous_snapshot(tmp_path: Path):
    from groundswell.engines import lake

    files = _LocalFiles(tmp_path)
    for table in ("posts", "tombstones", "files", "runs"):
        for snapshot in (1, 2, 3, 4):
            (tmp_path / table / f"snapshot={snapshot}").mkdir(parents=True)
    (tmp_path / "quarantine" / "snapshot=1").mkdir(parents=True)
    (tmp_path / "quarantine" / "snapshot=2").mkdir(parents=True)  # left by an ingest that died
    unchanged = {"quarantine": 1}  # a table no later ingest rewrote stays where it is
    for snapshot in (1, 2, 3, 4):
        tables = {t: snapshot for t in ("posts", "tombstones", "files", "runs")} | unchanged
        lake.commit(files, lake.new_manifest(snapshot, tables, snapshot))
    assert files.names(f"{tmp_path}/_snapshots") == ["00000003.json", "00000004.json"]
    assert files.names(f"{tmp_path}/posts") == ["snapshot=3", "snapshot=4"]
    assert files.names(f"{tmp_path}/quarantine") == ["snapshot=1"]
    assert lake.latest_manifest(files)["tables"]["quarantine"] == 1
