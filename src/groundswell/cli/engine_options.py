"""--engine, --lake and --master: one decorator, so every analysis command runs on either engine.

The three options arrive in the command as one `engine` argument, an EngineChoice, which
checks that they fit together and opens the engine: `with engine.open(db) as e: e.query(...)`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Callable

import click

from ..engines import DEFAULT_MASTER, ENGINES, Engine, open_engine
from ..errors import GroundswellError

F = Callable[..., Any]


@dataclass(frozen=True)
class EngineChoice:
    name: str = "duckdb"
    lake: str | None = None
    master: str = DEFAULT_MASTER

    @property
    def is_spark(self) -> bool:
        return self.name == "spark"

    def open(self, db: str | None = None) -> Engine:
        return open_engine(self.name, db=db, lake=self.lake, master=self.master)


def choose_engine(name: str, lake: str | None, master: str) -> EngineChoice:
    if name == "spark" and not lake:
        raise GroundswellError("--engine spark needs --lake PATH (the Parquet lake that `groundswell ingest --engine spark` writes)")
    if name != "spark" and lake:
        raise GroundswellError("--lake is read by the Spark engine only: add --engine spark")
    return EngineChoice(name, lake, master)


def engine_options(func: F) -> F:
    """Adds --engine, --lake and --master, and passes the command `engine: EngineChoice`."""

    @click.option("--engine", "engine_name", type=click.Choice(ENGINES), default="duckdb", show_default=True,
                  help="Where queries run: the DuckDB store (--db), or Apache Spark over a Parquet lake (--lake).")
    @click.option("--lake", metavar="PATH",
                  help="With --engine spark: the lake folder or URI (s3a://, gs://, abfss://, hdfs://).")
    @click.option("--master", default=DEFAULT_MASTER, show_default=True, metavar="URL",
                  help="With --engine spark: the Spark master, e.g. local[4], spark://host:7077, yarn, k8s://https://host:443.")
    @functools.wraps(func)
    def wrapper(*args: Any, engine_name: str, lake: str | None, master: str, **kwargs: Any) -> Any:
        return func(*args, engine=choose_engine(engine_name, lake, master), **kwargs)

    return wrapper  # type: ignore[return-value]
