"""Engines run the same metric SQL on DuckDB (the default) or on Apache Spark.

Spark is an optional extra: nothing here imports pyspark until a Spark engine is asked for.
See docs/scale.md.
"""

from __future__ import annotations

from .base import TABLES, Engine

ENGINES = ("duckdb", "spark")
DEFAULT_MASTER = "local[2]"


def open_engine(name: str = "duckdb", db: str | None = None, lake: str | None = None,
                master: str | None = None) -> Engine:
    """An open engine: `duckdb` reads the store at `db`; `spark` reads the Parquet lake at `lake`."""
    from ..errors import GroundswellError

    if name == "duckdb":
        from .duckdb import DuckDBEngine

        return DuckDBEngine(db)
    if name == "spark":
        if not lake:
            raise GroundswellError("--engine spark needs --lake PATH (a lake written by `groundswell ingest --engine spark`)")
        from .spark import SparkEngine

        return SparkEngine(lake, master=master or DEFAULT_MASTER)
    raise GroundswellError(f"unknown engine {name!r} (known: {', '.join(ENGINES)})")


__all__ = ["DEFAULT_MASTER", "ENGINES", "TABLES", "Engine", "open_engine"]
