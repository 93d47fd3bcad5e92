"""The post store: a DuckDB file by default. See docs/schema.md."""

from .duckdb_store import DEFAULT_DB, Store, default_db_path

__all__ = ["DEFAULT_DB", "Store", "default_db_path"]
