"""Ingest on Spark: the same adapters in Spark tasks, the store's dedupe rules in SQL, a Parquet lake.

1. The driver lists the input files (sorted, as the DuckDB ingest reads them) and hands one
   file to each task, largest first so that a big file does not start last.
2. Each task runs the ordinary ingest pipeline on its file (engines/file_tasks.py) and yields
   Arrow batches: posts with their input position, quarantined records, deletions, and the
   file's status. They are written once to a staging folder in the lake, so files are parsed
   once and later passes read only the columns they need.
3. The new copies, together with the lake's current posts (which come first in the order),
   go through engines/dedupe.py: one row per post, by the store's rules. Posts seen once (most)
   pass straight through; only repeated ones are sorted and folded.
4. The tables are written under a new snapshot and committed atomically (engines/lake.py).
   Re-running an ingest skips files already read (same path and fingerprint) and cannot
   duplicate a post, because existing posts are deduplicated with the new copies.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any, Callable

import orjson

from ..errors import GroundswellError
from ..ingest import IngestOptions, Summary
from ..ingest.summary import FileError
from ..model import FIELD_NAMES
from ..sources import expand
from . import dedupe
from .dedupe import counts_sql
from .file_tasks import FILE_COUNTS
from .lake import LakeFiles, commit, lake_meta, latest_manifest, new_manifest, read_tables, table_path
from .spark import spark_session, to_spark

Warn = Callable[[str], None]
POST_FILE_ROWS = 2_000_000  # rows per Parquet file at most, so no one file grows without bound
COPIES_VIEW, TOMBSTONES_VIEW, MULTIPLE_VIEW = "_gs_copies", "_gs_tombstones", "_gs_multiple"
BROADCAST_KEYS = 2_000_000  # keys of repeated posts sent to every task, at most
STAGING = "_staging"  # parsed rows of a run in progress; removed when it ends


def ingest_lake(paths: list[str], lake: str, master: str = "local[2]", options: IngestOptions | None = None,
                session: Any = None, warn: Warn = lambda message: None) -> Summary:
    """Ingest `paths` into the lake at `lake` on Spark; the summary counts as the DuckDB ingest's do."""
    spark, owned = (session, False) if session is not None else spark_session(master)
    try:
        return _LakeIngest(spark, lake, options or IngestOptions(), warn).run(paths)
    finally:
        if owned:
            spark.stop()


class _LakeIngest:
    def __init__(self, spark: Any, lake: str, options: IngestOptions, warn: Warn):
        self.spark, self.lake, self.options, self.warn = spark, lake, options, warn
        self.files = LakeFiles(spark, lake)
        self.manifest = latest_manifest(self.files)
        self.old = read_tables(spark, lake) if self.manifest else None
        self.started_at = datetime.utcnow()
        self.run_id = self._next_run_id()
        self.snapshot = (self.manifest["snapshot"] + 1) if self.manifest else 1

    def _next_run_id(self) -> int:
        if self.old is None:
            return 1
        (latest,) = self.old["runs"].selectExpr("max(run_id)").first()
        return int(latest or 0) + 1

    def run(self, paths: list[str]) -> Summary:
        sources = expand(paths)
        if any(s.is_stdin for s in sources):
            raise GroundswellError("-: standard input cannot be read on Spark; write it to a file first")
        labels = [s.label for s in sources]
        staging = f"{self.files.root}/{STAGING}/run-{self.run_id}"
        try:
            parsed = self._parse(labels, staging)
            statuses = [row.asDict() for row in parsed.where("file IS NOT NULL").select("file.*").collect()]
            summary = self._summary(statuses)
            tables = self._write_tables(parsed, statuses, summary)
            self._write_runs(summary, datetime.utcnow())
            tables["runs"] = self.snapshot
            commit(self.files, new_manifest(self.snapshot, tables, self.run_id, lake_meta(self.manifest)))
        finally:
            self.files.delete(staging)
        return summary

    def _parse(self, labels: list[str], staging: str) -> Any:
        """One task per file, largest first, written once to a staging folder and read from there:
        files are parsed exactly once, and later passes read only the columns they need."""
        from pyspark.sql.pandas.types import from_arrow_schema

        from .file_tasks import parse_partition, parsed_schema  # also what the tasks import

        done = {} if self.options.force else self._done_fingerprints()
        options, ingested_at = IngestOptions(**{**vars(self.options), "workers": 1}), self.started_at
        order = sorted(range(len(labels)), key=lambda i: -_size(labels[i]))
        tasks = self.spark.sparkContext.parallelize([(i,) for i in order], max(1, len(order)))

        def body(batches: Any) -> Any:
            return parse_partition(batches, labels, options, done, ingested_at)

        schema = from_arrow_schema(parsed_schema())
        frame = self.spark.createDataFrame(tasks, "i long")
        frame.mapInArrow(body, schema).write.mode("overwrite").parquet(staging)
        return self.spark.read.schema(schema).parquet(staging)

    def _done_fingerprints(self) -> dict[str, str]:
        if self.old is None:
            return {}
        rows = self.old["files"].where("status = 'done'").select("path", "fingerprint").collect()
        return {row.path: row.fingerprint for row in rows if row.fingerprint}

    def _summary(self, statuses: list[dict[str, Any]]) -> Summary:
        summary = Summary()
        for status in sorted(statuses, key=lambda s: s["file_index"]):
            part = orjson.loads(status["summary"])
            for name in ("files", "files_already_ingested", "read", "skipped", "rejected", "deleted"):
                setattr(summary, name, getattr(summary, name) + part[name])
            for name in ("formats", "skipped_reasons", "notes", "per_record"):
                summary.add_counts(getattr(summary, name), part[name])
            summary.file_errors.extend(FileError(**error) for error in part["file_errors"])
            for message in part["warnings"]:
                self.warn(message)
        return summary

    def _write_tables(self, parsed: Any, statuses: list[dict[str, Any]], summary: Summary) -> dict[str, int]:
        """Posts, tombstones, quarantine and files; a table with nothing new keeps its snapshot."""
        old = self.manifest["tables"] if self.manifest else {}
        new_posts = parsed.where("post IS NOT NULL").select("_pos", "_batch", "post.*")
        new_tombstones = parsed.where("tombstone IS NOT NULL").select("_pos", "_batch", "tombstone.*")
        new_quarantine = parsed.where("quarantine IS NOT NULL").select("_pos", "_batch", "quarantine.*")
        emitted = {name: sum(s[name] or 0 for s in statuses) for name in FILE_COUNTS}
        fresh = {"posts": emitted["post_rows"] > 0, "tombstones": emitted["tombstone_rows"] > 0,
                 "quarantine": emitted["quarantine_rows"] > 0}
        fresh["posts"] = fresh["posts"] or fresh["tombstones"]  # a deletion can remove stored posts
        copies = self._with_old(new_posts, "posts")
        copies.createOrReplaceTempView(COPIES_VIEW)
        tombstones = self._with_repost_tombstones(self._merged_tombstones(new_tombstones))
        tombstones.createOrReplaceTempView(TOMBSTONES_VIEW)
        per_file = self._counts(summary, emitted["collected_rows"])
        written = {table for table, is_new in fresh.items() if is_new or table not in old}
        if "tombstones" in written:
            self._write("tombstones", tombstones)
        if "posts" in written:
            self._write_posts()
        if "quarantine" in written:
            self._write("quarantine", self._merged(new_quarantine, "quarantine", ["source_file", "source_line"]))
        self._write("files", self._merged_files(statuses, per_file))
        tombstones.unpersist()
        tables = {table: self.snapshot if table in written else old[table] for table in fresh}
        return {**tables, "files": self.snapshot}

    def _merged_tombstones(self, new: Any) -> Any:
        """With `_since`, the first batch that recorded each deletion, for the summary counts."""
        from pyspark.sql import Window
        from pyspark.sql import functions as F

        key = ["platform", "target_id", "is_author"]
        rows = self._with_old(self._stamped(new), "tombstones")
        since = rows.withColumn("_since", F.min("_batch").over(Window.partitionBy(*key)))
        return _latest(since, key).cache()

    def _with_repost_tombstones(self, tombstones: Any) -> Any:
        """The deletions' own rows, and the store's tombstones for the reposts they removed
        (dedupe.repost_tombstones_sql); a target that has a tombstone already keeps it."""
        tombstones.createOrReplaceTempView(TOMBSTONES_VIEW)
        derived = self._stamped(self.spark.sql(to_spark(dedupe.repost_tombstones_sql(COPIES_VIEW, TOMBSTONES_VIEW))))
        derived = derived.join(tombstones.select("platform", "target_id", "is_author"),
                               ["platform", "target_id", "is_author"], "left_anti")
        merged = tombstones.unionByName(derived).cache()
        tombstones.unpersist()
        return merged

    def _merged(self, new: Any, table: str, key: list[str]) -> Any:
        """New rows over the lake's rows: the last per key wins, as INSERT OR REPLACE keeps it."""
        return _latest(self._with_old(self._stamped(new), table), key)

    def _stamped(self, new: Any) -> Any:
        from pyspark.sql import functions as F

        return new.withColumn("recorded_at", F.lit(self.started_at).cast("timestamp_ntz"))

    def _with_old(self, new: Any, table: str) -> Any:
        """Rows already in the lake come first in the input order."""
        if self.old is None:
            return new
        from pyspark.sql import functions as F

        first = F.lit(-1).cast("long")
        return new.unionByName(self.old[table].withColumn("_pos", first).withColumn("_batch", first))

    def _merged_files(self, statuses: list[dict[str, Any]], per_file: dict[int, int]) -> Any:
        from .lake import spark_schema

        finished = datetime.utcnow()
        rows = [(s["path"], s["fingerprint"], s["source_format"], s["status"], s["records"],
                 per_file.get(s["file_index"], 0), self.run_id, finished)
                for s in statuses if s["status"] == "done"]
        new = self.spark.createDataFrame(rows, spark_schema("files"))
        if self.old is None:
            return new
        kept = self.old["files"].join(new.select("path"), "path", "left_anti")
        return kept.unionByName(new)

    def _counts(self, summary: Summary, collected_in: int) -> dict[int, int]:
        per_file: dict[int, int] = {}
        rows = self.spark.sql(to_spark(counts_sql(COPIES_VIEW, TOMBSTONES_VIEW))).collect()
        for scope, index, ingested, duplicate, referenced, live in rows:
            if scope == "run":
                summary.ingested, summary.duplicate = int(ingested), int(duplicate)
                summary.referenced, summary.forgotten = int(referenced), collected_in - int(live)
            elif index is not None:
                per_file[int(index)] = int(ingested)
        return per_file

    def _write_posts(self) -> None:
        from pyspark.sql import functions as F

        (self._deduplicated().withColumn("day", F.col("created_at").cast("date"))
         .repartition("platform", "day").sortWithinPartitions("platform", "day", "created_at")
         .write.mode("overwrite").option("maxRecordsPerFile", POST_FILE_ROWS)
         .partitionBy("platform", "day").parquet(table_path(self.lake, "posts", self.snapshot)))

    def _deduplicated(self) -> Any:
        """engines/dedupe.py's query; when few posts repeat (the usual case), their keys are
        broadcast so that posts seen once are written without being shuffled and sorted."""
        from pyspark.sql import functions as F

        live = self.spark.sql(to_spark(dedupe.live_copies_sql(COPIES_VIEW, TOMBSTONES_VIEW)))
        repeated = live.groupBy("platform", "post_id").count().where("count > 1").select("platform", "post_id")
        if repeated.count() > BROADCAST_KEYS:
            return self.spark.sql(to_spark(dedupe.dedupe_sql(COPIES_VIEW, TOMBSTONES_VIEW)))
        keys = F.broadcast(repeated)
        live.join(keys, ["platform", "post_id"], "left_semi").createOrReplaceTempView(MULTIPLE_VIEW)
        single = live.join(keys, ["platform", "post_id"], "left_anti").select(*FIELD_NAMES)
        return single.unionByName(self.spark.sql(to_spark(dedupe.fold_sql(MULTIPLE_VIEW))))

    def _write(self, table: str, frame: Any) -> None:
        """The small tables, as one file each."""
        from .lake import table_schemas

        columns = table_schemas()[table].names
        frame.select(*columns).coalesce(1).write.mode("overwrite").parquet(table_path(self.lake, table, self.snapshot))

    def _write_runs(self, summary: Summary, finished: datetime) -> None:
        from .lake import spark_schema

        row = (self.run_id, self.started_at, finished, "done", orjson.dumps(summary.as_dict()).decode())
        new = self.spark.createDataFrame([row], spark_schema("runs"))
        runs = new if self.old is None else self.old["runs"].unionByName(new)
        self._write("runs", runs)


def _latest(frame: Any, key: list[str]) -> Any:
    """One row per key: the last in input order, as the store's INSERT OR REPLACE keeps it."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    order = Window.partitionBy(*key).orderBy(F.col("_pos").desc())
    return frame.withColumn("_rank", F.row_number().over(order)).where("_rank = 1").drop("_rank", "_pos", "_batch")


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0
