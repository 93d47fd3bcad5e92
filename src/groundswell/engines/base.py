"""The narrow interface every engine offers: run one SQL query, get rows or an Arrow table.

Metrics are SQL strings in the DuckDB dialect (see docs/decisions.md), so an engine needs
little more than `query`. Capabilities name what an engine can do beyond that, so callers
ask instead of checking the engine's type.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Callable, Iterable

import pyarrow as pa

# The tables every engine exposes, with the same names and columns as the DuckDB store.
TABLES = ("posts", "tombstones", "quarantine", "files", "runs")


class Engine(ABC):
    """One open connection to the post table, on some engine."""

    name: str = ""
    capabilities: frozenset[str] = frozenset()

    @abstractmethod
    def query(self, sql: str) -> list[tuple]:
        """Rows as plain tuples of Python values, typed as DuckDB's Python client types them:
        naive UTC datetimes, dates, ints, floats, strings, lists."""

    @abstractmethod
    def arrow(self, sql: str) -> pa.Table:
        """The result as an Arrow table, for large results that should not become Python objects."""

    @abstractmethod
    def close(self) -> None:
        """Release the connection (and, for Spark, the session if this engine started it)."""

    def __call__(self, sql: str) -> list[tuple]:
        """An engine is the `query` callable every metric takes."""
        return self.query(sql)

    def register(self, name: str, table: pa.Table) -> None:
        """Make a small Arrow table (e.g. detector labels) queryable under `name` in this session."""
        raise NotImplementedError(f"the {self.name} engine cannot register Arrow tables")

    def has(self, capability: str) -> bool:
        return capability in self.capabilities

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def drop_temp_tables(query: Callable[[str], list[tuple]], names: Iterable[str]) -> None:
    """Let go of a figure's working tables once it is computed. At ten million posts they hold
    gigabytes, and DuckDB under its memory budget would otherwise spill the scope every later
    figure reads. (Spark unpersists them; both run `DROP TABLE IF EXISTS`.)"""
    for name in names:
        query(f"DROP TABLE IF EXISTS {name}")
