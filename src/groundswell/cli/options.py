"""Option bundles shared by several commands."""

from __future__ import annotations

from typing import Any, Callable

import click

F = Callable[..., Any]


def db_option(func: F) -> F:
    return click.option(
        "--db", "db", envvar="GROUNDSWELL_DB", default="groundswell.duckdb", show_default=True,
        help="The store (a DuckDB file). Also GROUNDSWELL_DB.",
    )(func)


def json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout, and nothing else.")(func)
