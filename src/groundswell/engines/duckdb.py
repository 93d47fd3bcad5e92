"""The default engine: the DuckDB store, opened read-only."""

from __future__ import annotations

import pyarrow as pa

from ..store import Store
from .base import Engine


class DuckDBEngine(Engine):
    """Queries run on the store as written, with no translation: the metric SQL is DuckDB's."""

    name = "duckdb"
    capabilities = frozenset({"sql", "arrow", "embedded", "register", "language_cache"})

    def __init__(self, db: str | None = None, store: Store | None = None):
        self.store = store if store is not None else Store(db, read_only=True)
        self._owns_store = store is None
        # Figures never rely on the order rows were stored in (every list is sorted in SQL, as
        # Spark keeps no order either); without that promise DuckDB writes the report's
        # working tables in parallel and with less memory.
        self.store.sql("SET preserve_insertion_order = false")

    def query(self, sql: str) -> list[tuple]:
        return self.store.sql(sql)

    def arrow(self, sql: str) -> pa.Table:
        relation = self.store.con.sql(sql)
        to_table = getattr(relation, "to_arrow_table", None) or relation.arrow  # duckdb < 1.4
        return to_table()

    def register(self, name: str, table: pa.Table) -> None:
        self.store.con.register(name, table)

    def close(self) -> None:
        if self._owns_store:
            self.store.close()
