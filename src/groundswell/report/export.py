"""`groundswell export`: the report's tables as CSV, Parquet or JSON, for pandas, R or a spreadsheet.

Safe to open: CSV text cells that a spreadsheet would read as a formula (starting with `=`,
`+`, `-`, `@`, a tab or a carriage return) get a leading `'`. Safe for the people in the
data: under the default privacy, exported posts carry no text, handle, name or link of a
non-notable author, and every author is also given a stable salted pseudonym.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import GroundswellError
from ..metrics import composition, scope, volume
from ..movement.definition import Movement
from ..store import Store
from .figures import ReportOptions, StoreQuery, prepare_scope
from ..privacy import Privacy, pseudonym_sql, salt

TABLES = ("volume", "authors", "variants", "posts")
FORMATS = ("csv", "parquet", "json")
FORMULA_START = r"^[=+\-@\t\r]"


def export(store: Store, what: str, fmt: str, out: str | Path, movement: Movement | None,
           options: ReportOptions, writable: bool) -> dict[str, Any]:
    """Write one table; returns what was written (rows, columns, path)."""
    if what not in TABLES or fmt not in FORMATS:
        raise GroundswellError(f"--what must be one of {', '.join(TABLES)} and --format one of {', '.join(FORMATS)}")
    query = prepare_scope(store, movement, writable, options.workers, languages=what == "posts")
    table = _BUILDERS[what](query, movement, options, writable)
    path = write_table(table, fmt, Path(out))
    return {"what": what, "format": fmt, "out": str(path), "rows": table.num_rows, "columns": table.column_names}


def _arrow(query: StoreQuery, sql: str) -> pa.Table:
    relation = query.store.con.sql(sql)
    convert = getattr(relation, "to_arrow_table", None) or relation.arrow
    result = convert()
    return result.read_all() if isinstance(result, pa.RecordBatchReader) else result


def _volume(query: StoreQuery, movement: Movement | None, options: ReportOptions, writable: bool) -> pa.Table:
    first, last = scope.time_range(query)
    if first is None or last is None:
        return pa.table({"t": pa.array([], pa.string())})
    local = scope.clock(options.tz, first, last)
    rows = volume.series(query, local, options.bucket, first, last)
    matches = composition.match_series(query, local, options.bucket, first, last)
    for row, match in zip(rows, matches):
        row.update({key: match[key] for key in composition.MATCH_CLASSES})
        row["tz"], row["bucket"] = local.tz, options.bucket
    return pa.Table.from_pylist(rows)


def _variants(query: StoreQuery, movement: Movement | None, options: ReportOptions, writable: bool) -> pa.Table:
    rows = composition.variants(query, movement)
    schema = pa.schema([("key", pa.string()), ("family", pa.string()), ("language", pa.string()),
                        ("posts", pa.int64()), ("distinct_authors", pa.int64()), ("first_seen", pa.string())])
    return pa.Table.from_pylist(rows, schema=schema)


def _authors(query: StoreQuery, movement: Movement | None, options: ReportOptions, writable: bool) -> pa.Table:
    notable = options.privacy.notable_sql()
    alias = pseudonym_sql(salt(query, writable))
    kinds = ", ".join(f"CAST(sum(CASE WHEN kind = '{k}' THEN 1 ELSE 0 END) AS BIGINT) AS {k}s" for k in ("original", "repost", "reply", "quote"))
    return _arrow(query, f"""
        SELECT {alias} AS author, bool_or({notable}) AS notable,
               max_by(CASE WHEN {notable} THEN author_handle END, created_at) AS handle,
               min(platform) AS platform, count(*) AS posts, {kinds},
               min(created_at) AS first_post, max(created_at) AS last_post,
               max(author_followers) AS followers, bool_or(coalesce(author_verified, FALSE)) AS verified
        FROM {scope.SCOPE} GROUP BY author_id ORDER BY posts DESC, author""")


def _posts(query: StoreQuery, movement: Movement | None, options: ReportOptions, writable: bool) -> pa.Table:
    notable = options.privacy.notable_sql("s.")
    alias = pseudonym_sql(salt(query, writable), "s.author_id")
    reply_alias = pseudonym_sql(salt(query, writable), "p.reply_to_author_id")
    return _arrow(query, f"""
        SELECT s.platform, s.post_id, s.created_at, s.kind, {alias} AS author, {notable} AS notable,
               CASE WHEN {notable} THEN s.author_handle END AS handle,
               CASE WHEN {notable} THEN s.author_name END AS name,
               CASE WHEN {notable} THEN p.text END AS text, CASE WHEN {notable} THEN p.url END AS url,
               s.author_followers AS followers, s.language, s.language_source,
               s.by_hashtag, s.by_phrase, s.families, s.variants, p.hashtags,
               p.reply_to_post_id, CASE WHEN p.reply_to_author_id IS NOT NULL THEN {reply_alias} END AS reply_to_author,
               p.quoted_post_id, p.reposted_post_id, p.conversation_id,
               p.like_count, p.repost_count, p.reply_count, p.quote_count, p.source_format
        FROM {scope.SCOPE} s JOIN posts p ON p.platform = s.platform AND p.post_id = s.post_id
        ORDER BY s.created_at, s.platform, s.post_id""")


_BUILDERS = {"volume": _volume, "authors": _authors, "variants": _variants, "posts": _posts}


def write_table(table: pa.Table, fmt: str, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        pq.write_table(table, path)
    elif fmt == "json":
        path.write_bytes(orjson.dumps(table.to_pylist(), option=orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z))
    else:
        import pyarrow.csv as pacsv

        pacsv.write_csv(csv_safe(table), path)
    return path


def csv_safe(table: pa.Table) -> pa.Table:
    """Lists become space-separated text, and text cells that start like a formula get a `'`."""
    columns = []
    for column in table.columns:
        if pa.types.is_list(column.type) or pa.types.is_large_list(column.type):
            column = pc.binary_join(column.cast(pa.list_(pa.string())), " ")
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            column = escape_formulas(column)
        columns.append(column)
    return pa.table(columns, names=table.column_names)


def escape_formulas(column: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    risky = pc.match_substring_regex(column, FORMULA_START)
    return pc.if_else(risky, pc.binary_join_element_wise("'", column, ""), column)


def privacy_note(privacy: Privacy) -> str:
    return privacy.describe()
