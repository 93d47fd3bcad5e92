"""The Parquet lake: the store's five tables as Parquet (and its `meta` in the manifest), in snapshots committed atomically.

Layout under the lake root (a local path or any Hadoop URI: s3a://, gs://, abfss://, hdfs://):

    _snapshots/00000003.json           the manifest of snapshot 3: which copy of each table is current
    posts/snapshot=3/platform=twitter/day=2017-10-15/part-*.parquet
    tombstones/snapshot=3/  quarantine/snapshot=2/  files/snapshot=3/  runs/snapshot=3/

An ingest writes the tables it changes under a new snapshot number and commits by creating
that snapshot's manifest, a new file that never overwrites another, which is atomic on every
file system (a rename on HDFS and local disks, a single PUT on object stores). Readers take the
highest manifest, so they never see half an ingest; an interrupted ingest leaves only
unreferenced folders, which the next one overwrites. Each manifest names, per table, the
snapshot that holds it, so a table an ingest did not change is not rewritten.
"""

from __future__ import annotations

import os
import secrets
from datetime import datetime
from functools import lru_cache
from typing import Any

import orjson
import pyarrow as pa

from ..errors import GroundswellError
from ..model import ARROW_SCHEMA, FIELD_NAMES
from ..privacy import SALT_BYTES, SALT_KEY
from .base import TABLES

MANIFESTS = "_snapshots"
LAKE_FORMAT = "groundswell-lake"
LAKE_VERSION = 1
PARTITIONS = ("platform", "day")
KEEP_SNAPSHOTS = 2  # the current one and the one before, for readers that started earlier


@lru_cache(maxsize=1)
def table_schemas() -> dict[str, pa.Schema]:
    """Arrow schemas of the five tables, taken from the store's own DDL so they cannot drift."""
    import duckdb

    from ..store.schema import SUPPORT_DDL

    con = duckdb.connect()
    try:
        for ddl in SUPPORT_DDL:
            con.execute(ddl)
        schemas = {"posts": ARROW_SCHEMA}
        for table in TABLES[1:]:
            relation = con.sql(f"SELECT * FROM {table} LIMIT 0")
            to_table = getattr(relation, "to_arrow_table", None) or relation.arrow
            schemas[table] = to_table().schema
    finally:
        con.close()
    return schemas


def spark_schema(table: str) -> Any:
    from pyspark.sql.pandas.types import from_arrow_schema

    schema = from_arrow_schema(table_schemas()[table])
    if table == "posts":
        from pyspark.sql.types import DateType, StructField

        schema = schema.add(StructField("day", DateType(), True))
    return schema


def lake_uri(lake: str) -> str:
    """Local paths become absolute file: URIs, so driver and executors agree on them."""
    if "://" in lake or lake.startswith("file:"):
        return lake.rstrip("/")
    return "file://" + os.path.abspath(lake)


def table_path(lake: str, table: str, snapshot: int) -> str:
    return f"{lake_uri(lake)}/{table}/snapshot={snapshot}"


class LakeFiles:
    """The few file operations a commit needs, through Hadoop's FileSystem so any URI works."""

    def __init__(self, spark: Any, lake: str):
        self.root = lake_uri(lake)
        self._jvm = spark.sparkContext._jvm
        self._conf = spark.sparkContext._jsc.hadoopConfiguration()
        self._fs = self._path(self.root).getFileSystem(self._conf)

    def _path(self, uri: str) -> Any:
        return self._jvm.org.apache.hadoop.fs.Path(uri)

    def exists(self, uri: str) -> bool:
        return bool(self._fs.exists(self._path(uri)))

    def names(self, uri: str) -> list[str]:
        if not self.exists(uri):
            return []
        return sorted(str(status.getPath().getName()) for status in self._fs.listStatus(self._path(uri)))

    def read_text(self, uri: str) -> str:
        stream = self._fs.open(self._path(uri))
        try:
            return str(self._jvm.org.apache.commons.io.IOUtils.toString(stream, "UTF-8"))
        finally:
            stream.close()

    def create_new(self, uri: str, data: bytes) -> None:
        """Write a file that must not exist yet: a temporary name, then one rename."""
        final = self._path(uri)
        if self._fs.exists(final):
            raise GroundswellError(f"{uri}: already exists (is another ingest writing this lake?)")
        temporary = self._path(f"{uri}.tmp-{os.getpid()}")
        stream = self._fs.create(temporary, True)
        try:
            stream.write(bytearray(data))
        finally:
            stream.close()
        if not self._fs.rename(temporary, final):
            self._fs.delete(temporary, False)
            raise GroundswellError(f"{uri}: could not commit the snapshot (is another ingest writing this lake?)")

    def delete(self, uri: str) -> None:
        self._fs.delete(self._path(uri), True)


def latest_manifest(files: LakeFiles) -> dict[str, Any] | None:
    names = [n for n in files.names(f"{files.root}/{MANIFESTS}") if n.endswith(".json")]
    if not names:
        return None
    manifest = orjson.loads(files.read_text(f"{files.root}/{MANIFESTS}/{names[-1]}"))
    if manifest.get("format") != LAKE_FORMAT:
        raise GroundswellError(f"{files.root}: not a groundswell lake (unknown manifest format)")
    return manifest


def new_manifest(snapshot: int, tables: dict[str, int], run_id: int,
                 meta: dict[str, str] | None = None) -> dict[str, Any]:
    return {"format": LAKE_FORMAT, "version": LAKE_VERSION, "snapshot": snapshot, "run_id": run_id,
            "created_at": datetime.utcnow().isoformat(timespec="seconds") + "Z", "tables": tables,
            "meta": meta or {}}


def lake_meta(previous: dict[str, Any] | None) -> dict[str, str]:
    """The lake's `meta` table (as the store's): kept from snapshot to snapshot, so the
    pseudonym salt made by the first ingest gives every later output the same labels."""
    meta = dict((previous or {}).get("meta") or {})
    meta.setdefault(SALT_KEY, secrets.token_hex(SALT_BYTES))
    return meta


def commit(files: LakeFiles, manifest: dict[str, Any]) -> None:
    """Make `manifest` current, then drop folders that no kept snapshot names."""
    name = f"{files.root}/{MANIFESTS}/{manifest['snapshot']:08d}.json"
    files.create_new(name, orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    _prune(files)


def _prune(files: LakeFiles) -> None:
    folder = f"{files.root}/{MANIFESTS}"
    names = [n for n in files.names(folder) if n.endswith(".json")]
    kept = [orjson.loads(files.read_text(f"{folder}/{n}")) for n in names[-KEEP_SNAPSHOTS:]]
    wanted = {(table, snap) for m in kept for table, snap in m["tables"].items()}
    newest = kept[-1]["snapshot"]
    for table in TABLES:
        for entry in files.names(f"{files.root}/{table}"):
            snap = _snapshot_number(entry)
            if snap is not None and snap < newest and (table, snap) not in wanted:
                files.delete(f"{files.root}/{table}/{entry}")
    for name in names[:-KEEP_SNAPSHOTS]:
        files.delete(f"{folder}/{name}")


def _snapshot_number(entry: str) -> int | None:
    prefix = "snapshot="
    return int(entry[len(prefix):]) if entry.startswith(prefix) and entry[len(prefix):].isdigit() else None


def read_tables(spark: Any, lake: str) -> dict[str, Any]:
    """The current snapshot's tables as DataFrames, with the store's column names and order."""
    files = LakeFiles(spark, lake)
    manifest = latest_manifest(files)
    if manifest is None:
        raise GroundswellError(f"{lake}: not a groundswell lake (run `groundswell ingest --engine spark --lake {lake}` first)")
    frames = {"meta": spark.createDataFrame(sorted((manifest.get("meta") or {}).items()), "key string, value string")}
    for table in TABLES:
        path = table_path(lake, table, manifest["tables"][table])
        frame = spark.read.schema(spark_schema(table)).parquet(path)
        columns = FIELD_NAMES if table == "posts" else table_schemas()[table].names
        frames[table] = frame.select(*[f"`{c}`" for c in columns])
    return frames


def register_views(spark: Any, lake: str) -> None:
    for table, frame in read_tables(spark, lake).items():
        frame.createOrReplaceTempView(table)
