"""The Spark engine: the same metric SQL, transpiled from DuckDB's dialect (engines/transpile.py).

Nothing imports pyspark until a session is asked for, so the DuckDB path never pays for it,
and a missing extra or a missing Java is reported with what to install.
"""

from __future__ import annotations

import datetime as dt
import inspect
import itertools
import os
import re
import shutil
import subprocess
import sys
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

import pyarrow as pa

from ..errors import GroundswellError
from .base import Engine
from .transpile import NotPortable, spark_plan, to_spark  # noqa: F401  (re-exported)

PYSPARK_MISSING = "Spark support is not installed: pip install 'groundswell[spark]'"
JAVA_MISSING = ("Spark needs Java 17 or newer and none was found: install it "
                "(e.g. apt-get install openjdk-17-jre-headless) or set JAVA_HOME")
MIN_JAVA = 17
LOG4J = Path(__file__).with_name("log4j2.properties")


# --- the session ----------------------------------------------------------------------------

def require_pyspark() -> Any:
    try:
        warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")
        import pyspark
    except ImportError:
        raise GroundswellError(PYSPARK_MISSING) from None
    return pyspark


def java_version() -> int | None:
    """The major version of the Java that Spark would start, or None when there is none."""
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    if not java or not os.path.exists(java):
        return None
    try:
        done = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = re.search(r'version "(\d+)(?:\.(\d+))?', done.stderr)
    if not found:
        return None
    major = int(found.group(1))
    return int(found.group(2) or 0) if major == 1 else major  # "1.8" is Java 8


def require_java() -> None:
    version = java_version()
    if version is None:
        raise GroundswellError(JAVA_MISSING)
    if version < MIN_JAVA:
        raise GroundswellError(f"Spark needs Java {MIN_JAVA} or newer, found Java {version}: "
                               "install a newer one (e.g. apt-get install openjdk-17-jre-headless) or set JAVA_HOME")


def local_memory() -> str:
    """The driver's memory in local mode, where the driver is the only executor."""
    return os.environ.get("GROUNDSWELL_SPARK_MEMORY", "2g")


def session_config(master: str) -> dict[str, str]:
    """UTC everywhere, DuckDB-like SQL semantics, quiet logs; small shuffles in local mode."""
    java_options = f"-Duser.timezone=UTC -Dlog4j2.configurationFile={LOG4J.as_uri()}"
    config = {
        "spark.master": master,
        "spark.app.name": "groundswell",
        "spark.sql.session.timeZone": "UTC",
        "spark.driver.extraJavaOptions": java_options,
        "spark.executor.extraJavaOptions": "-Duser.timezone=UTC",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.ansi.enabled": "true",
        "spark.sql.legacy.sizeOfNull": "false",
        "spark.sql.parquet.inferTimestampNTZ.enabled": "true",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
    }
    if master.startswith("local"):
        config["spark.ui.enabled"] = "false"
        config["spark.sql.shuffle.partitions"] = str(max(4, 2 * (os.cpu_count() or 1)))
        config["spark.pyspark.python"] = sys.executable
        config["spark.driver.memory"] = local_memory()
    return config


def spark_session(master: str, extra: dict[str, str] | None = None) -> tuple[Any, bool]:
    """A SparkSession and whether this call started it (only then may its owner stop it)."""
    require_pyspark()
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active, False
    require_java()
    config = {**session_config(master), **(extra or {})}
    if master.startswith("local"):
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # workers need groundswell too
    builder = SparkSession.builder
    for key, value in config.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session, True


# --- the engine -----------------------------------------------------------------------------

_REGISTERED: dict[int, int] = {}  # per session: the engine whose tables the views show
_TOKENS = itertools.count(1)


class SparkEngine(Engine):
    """The lake's tables as Spark temp views named like the store's, queried with DuckDB SQL.

    Views belong to the session, so two engines on one session (tests) take turns: each
    query first makes sure the views show this engine's lake.
    """

    name = "spark"
    capabilities = frozenset({"sql", "arrow", "distributed", "register", "python_udf"})

    def __init__(self, lake: str | None, master: str = "local[2]", session: Any = None):
        if session is None:
            self.spark, self._owns_session = spark_session(master)
        else:
            self.spark, self._owns_session = session, False
        self.lake = lake
        self._created: dict[str, Any] = {}  # views made by CREATE TEMP TABLE
        self._token = next(_TOKENS)
        self._register()

    def _register(self) -> None:
        from .lake import register_views

        if self.lake:
            register_views(self.spark, self.lake)
        for name, table in self._created.items():
            table.createOrReplaceTempView(name)
        _REGISTERED[id(self.spark)] = self._token

    def _views(self) -> None:
        if _REGISTERED.get(id(self.spark)) != self._token:
            self._register()

    @contextmanager
    def dataframe(self, sql: str) -> Iterator[Any]:
        """The query as a DataFrame; its materialized CTEs are cached views while it is open."""
        self._views()
        plan = spark_plan(sql)
        cached = []
        try:
            for name, part in plan.parts:
                frame = self.spark.sql(part).cache()
                frame.count()  # computed once, here, before every reader of the view
                frame.createOrReplaceTempView(name)
                cached.append((name, frame))
            yield _naive_utc(self.spark.sql(plan.sql))
        finally:
            for name, frame in cached:
                self.spark.catalog.dropTempView(name)
                frame.unpersist()

    def query(self, sql: str) -> list[tuple]:
        plan = spark_plan(sql)
        if plan.drops:
            return self._drop(plan.drops)
        with _out_of_memory_said():
            if plan.creates:
                return [(self._create_view(plan.creates, sql),)]
            with self.dataframe(sql) as frame:
                return [tuple(_python(value) for value in row) for row in frame.collect()]

    def _create_view(self, name: str, sql: str) -> int:
        """CREATE TEMP TABLE: a computed view, which later queries of this session read.

        The result is checkpointed, not merely cached: a cached frame keeps the whole plan
        that made it, so metrics that build table on table (cascade levels, k-core rounds)
        would make Spark re-plan an ever longer history at every step. Without a checkpoint
        directory (`spark.sparkContext.setCheckpointDir`, or GROUNDSWELL_SPARK_CHECKPOINT_DIR)
        the checkpoint is local: kept by the executors, and lost with one of them.
        """
        with self.dataframe(sql) as frame:
            table = _checkpoint(self.spark, frame)
            rows = table.count()
        self._keep(name, table)
        return rows

    def _drop(self, name: str) -> list[tuple]:
        """DROP TABLE IF EXISTS of a temp table this engine made: its cached data is freed."""
        table = self._created.pop(name, None)
        if table is not None:
            self.spark.catalog.dropTempView(name)
            table.unpersist()
        return []

    def _keep(self, name: str, table: Any) -> None:
        """A cached DataFrame shown as a view of this engine's session until close."""
        previous = self._created.pop(name, None)
        table.createOrReplaceTempView(name)
        if previous is not None:
            previous.unpersist()
        self._created[name] = table
        _REGISTERED[id(self.spark)] = self._token

    def arrow(self, sql: str) -> pa.Table:
        with self.dataframe(sql) as frame:
            if hasattr(frame, "toArrow"):  # pyspark >= 4
                return frame.toArrow()
            return pa.Table.from_pylist([row.asDict(recursive=True) for row in frame.collect()])

    def register(self, name: str, table: pa.Table) -> None:
        self._views()
        frame = self.spark.createDataFrame(table.to_pandas()) if table.num_rows else \
            self.spark.createDataFrame([], _spark_schema(table.schema))
        self._keep(name, frame.cache())

    def register_function(self, name: str, func: Callable[[Any], Any], returns: str = "string") -> None:
        """A Python function of one value, run on the executors in Arrow batches (a pandas UDF),
        so work like language detection is spread over the cluster instead of the driver."""
        import pandas as pd
        from pyspark.sql.functions import pandas_udf

        def batch(values: Any) -> Any:
            return values.map(func)

        batch.__annotations__ = {"values": pd.Series, "return": pd.Series}  # how Spark knows the UDF's kind
        self.spark.udf.register(name, pandas_udf(batch, returns))

    def close(self) -> None:
        for name, table in self._created.items():
            self.spark.catalog.dropTempView(name)
            table.unpersist()
        self._created.clear()
        if self._owns_session:
            self.spark.stop()


_OUT_OF_MEMORY = re.compile(r"SparkOutOfMemoryError|java\.lang\.OutOfMemoryError|UNABLE_TO_ACQUIRE_MEMORY")


@contextmanager
def _out_of_memory_said() -> Iterator[None]:
    """A task or driver out of memory is the user's sizing to change, not a bug: one line
    that says how, instead of pages of Java stack (--debug still shows them)."""
    try:
        yield
    except Exception as exc:
        found = _OUT_OF_MEMORY.search(str(exc))
        if found is None:
            raise
        raise GroundswellError(
            f"Spark ran out of memory ({found.group(0)}): in local mode raise GROUNDSWELL_SPARK_MEMORY "
            f"(now {local_memory()}); on a cluster raise spark.executor.memory (docs/scale.md)") from exc


def _checkpoint(spark: Any, frame: Any) -> Any:
    directory = os.environ.get("GROUNDSWELL_SPARK_CHECKPOINT_DIR")
    if directory and not spark.sparkContext.getCheckpointDir():
        spark.sparkContext.setCheckpointDir(directory)
    if spark.sparkContext.getCheckpointDir():
        return frame.checkpoint(eager=True)
    if "storageLevel" not in inspect.signature(frame.localCheckpoint).parameters:  # PySpark 3.5
        return frame.localCheckpoint(eager=True)
    from pyspark import StorageLevel

    return frame.localCheckpoint(eager=True, storageLevel=StorageLevel.DISK_ONLY)


def _spark_schema(schema: pa.Schema) -> Any:
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(schema)


def _naive_utc(frame: Any) -> Any:
    """Zoned timestamps become UTC wall-clock times without zone, as the store keeps them."""
    from pyspark.sql.types import TimestampType

    zoned = [f.name for f in frame.schema.fields if isinstance(f.dataType, TimestampType)]
    if not zoned:
        return frame
    from pyspark.sql import functions as F

    columns = [F.col(f"`{c}`").cast("timestamp_ntz").alias(c) if c in zoned else F.col(f"`{c}`")
               for c in frame.columns]
    return frame.select(*columns)


def _python(value: Any) -> Any:
    """Spark's Python values as DuckDB's client returns them: structs as dicts, lists as lists."""
    if isinstance(value, tuple) and hasattr(value, "asDict"):
        return {k: _python(v) for k, v in value.asDict().items()}
    if isinstance(value, list):
        return [_python(v) for v in value]
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value
