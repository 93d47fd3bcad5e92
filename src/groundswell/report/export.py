"""`groundswell export`: the report's tables as CSV, Parquet or JSON, for pandas, R or a spreadsheet.

Safe to open: CSV text cells that a spreadsheet would read as a formula (starting with `=`,
`+`, `-`, `@`, a tab or a carriage return) get a leading `'`. Safe for the people in the
data: under `--privacy standard` (the default) a post whose author is not notable carries no
text, handle, name, link or real id, no exact follower count (a band instead) and a time
rounded to the minute, and every author a stable salted pseudonym; `strict`
names nobody and exports no text; `off` exports everything (see docs/privacy.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import GroundswellError
from ..metrics import composition, people, scope
from ..movement.definition import Movement
from ..store import Store
from ..engines.base import Engine
from . import registry
from .context import Context
from .figures import ReportOptions, context, prepare_scope
from ..metrics.audience import handle_tags_sql
from ..privacy import Privacy, followers_band_sql

TABLES = ("volume", "authors", "variants", "posts")
FORMATS = ("csv", "parquet", "json")
FORMULA_START = r"^[=+\-@\t\r]"


def export(store: Store, what: str, fmt: str, out: str | Path, movement: Movement | None,
           options: ReportOptions, writable: bool) -> dict[str, Any]:
    """Write one table; returns what was written (rows, columns, path)."""
    if what not in TABLES or fmt not in FORMATS:
        raise GroundswellError(f"--what must be one of {', '.join(TABLES)} and --format one of {', '.join(FORMATS)}")
    query = prepare_scope(store, movement, writable, options.workers, languages=what == "posts")
    ctx = context(query, movement, options, writable)  # the store's salt: stable labels, as in the report
    table = _BUILDERS[what](ctx)
    path = write_table(table, fmt, Path(out))
    return {"what": what, "format": fmt, "out": str(path), "rows": table.num_rows, "columns": table.column_names,
            "privacy": ctx.privacy.as_dict()}


def _arrow(query: Engine, sql: str) -> pa.Table:
    result = query.arrow(sql)
    return result.read_all() if isinstance(result, pa.RecordBatchReader) else result


def _volume(ctx: Context) -> pa.Table:
    """The report's volume and hashtag-versus-phrase series (the registry's figures), one row a bucket."""
    if not ctx.timed:
        return pa.table({"t": pa.array([], pa.string())})
    rows = registry.figure("volume").compute(ctx)["series"]
    # Without a movement nothing was matched: the match columns are absent, not filled.
    matches = registry.figure("hashtag_vs_phrase").compute(ctx)["series"] if ctx.movement else [{}] * len(rows)
    for row, match in zip(rows, matches):
        row.update({key: match[key] for key in composition.MATCH_CLASSES if key in match})
        row["tz"], row["bucket"] = ctx.local.tz, ctx.options.bucket
    if not people.basis(ctx.query.query, scope.SCOPE)["known"]:
        rows = people.unknown_people(rows)  # empty cells, not zeros, where no post has an author
    return pa.Table.from_pylist(rows)


def _variants(ctx: Context) -> pa.Table:
    rows = composition.variants(ctx.query, ctx.movement, privacy=ctx.privacy)  # the families figure's variants
    schema = pa.schema([("key", pa.string()), ("family", pa.string()), ("language", pa.string()),
                        ("posts", pa.int64()), ("distinct_authors", pa.int64()), ("first_seen", pa.string()),
                        ("suppressed", pa.bool_())])
    return pa.Table.from_pylist(rows, schema=schema)


def _authors(ctx: Context) -> pa.Table:
    query, privacy = ctx.query, ctx.privacy
    named = privacy.notable_sql()
    kinds = ", ".join(f"CAST(sum(CASE WHEN kind = '{k}' THEN 1 ELSE 0 END) AS BIGINT) AS {k}s" for k in ("original", "repost", "reply", "quote"))
    shown = "a.named"
    return _arrow(query, f"""
        SELECT author, notable, named, handle, platform, posts, originals, reposts, replys, quotes,
               {privacy.time_sql('first_post', shown)} AS first_post, {privacy.time_sql('last_post', shown)} AS last_post,
               {privacy.followers_sql('followers', shown)} AS followers, {followers_band_sql('followers')} AS followers_band,
               verified
        FROM (SELECT {privacy.pseudonym_sql('author_id')} AS author, bool_or({privacy.is_notable_sql()}) AS notable,
               bool_or({named}) AS named, max_by(CASE WHEN {named} THEN author_handle END, created_at) AS handle,
               min(platform) AS platform, count(*) AS posts, {kinds},
               min(created_at) AS first_post, max(created_at) AS last_post,
               max(author_followers) AS followers, bool_or(coalesce(author_verified, FALSE)) AS verified
        FROM {scope.SCOPE} GROUP BY author_id) AS a ORDER BY posts DESC, author""")


# Posts a post refers to, joined so that each id is shown as the posts table shows that post.
_REFERENCES = (("r", "reply_to_post_id"), ("q", "quoted_post_id"), ("o", "reposted_post_id"), ("c", "conversation_id"))


def _posts(ctx: Context) -> pa.Table:
    return _arrow(ctx.query, posts_sql(ctx))


# The posts table's row order; the dashboard cuts its explore pages from the scope in it.
POSTS_ORDER = ("created_at", "platform", "post_id")


def posts_sql(ctx: Context, rows: str = scope.SCOPE) -> str:
    """One row per post in scope. Where the mode does not name its author: a pseudonym for the
    post id (an id finds the post, and its author, on the platform), no handle, name, text or
    link; ids of posts it refers to follow the same rule for their own authors. `rows`: the
    scope's rows to show (the dashboard passes one page of them); which hashtags may be shown
    is still decided over the whole scope."""
    movement, privacy = ctx.movement, ctx.privacy
    named = privacy.notable_sql("s.")
    refs = ", ".join(f"{privacy.post_id_sql('p.platform', f'p.{column}', privacy.notable_sql(alias + '.'))} AS {column}"
                     for alias, column in _REFERENCES)
    joins = " ".join(f"LEFT JOIN posts {alias} ON {alias}.platform = p.platform AND {alias}.post_id = p.{column}"
                     for alias, column in _REFERENCES)
    tags, tag_join = _shown_tags(privacy, rows)
    matched = "s.by_hashtag, s.by_phrase, s.families, s.variants, " if movement else ""  # nothing matched without one
    return f"""
        {tags}
        SELECT s.platform, {privacy.post_id_sql('s.platform', 's.post_id', named)} AS post_id,
               {privacy.time_sql('s.created_at', named)} AS created_at, s.kind,
               {privacy.pseudonym_sql('s.author_id')} AS author, {privacy.is_notable_sql('s.')} AS notable,
               {named} AS named, CASE WHEN {named} THEN s.author_handle END AS handle,
               CASE WHEN {named} THEN s.author_name END AS name,
               {privacy.text_sql('s.', 'p.text')} AS text, CASE WHEN {named} THEN p.url END AS url,
               {privacy.followers_sql('s.author_followers', named)} AS followers,
               {followers_band_sql('s.author_followers')} AS followers_band, s.language, s.language_source,
               {matched}{'p.hashtag_keys' if not tag_join else 't.keys'} AS hashtag_keys,
               {refs},
               CASE WHEN p.reply_to_author_id IS NOT NULL THEN {privacy.pseudonym_sql('p.reply_to_author_id')} END AS reply_to_author,
               p.like_count, p.repost_count, p.reply_count, p.quote_count, p.source_format
        FROM {rows} s JOIN posts p ON p.platform = s.platform AND p.post_id = s.post_id {joins} {tag_join}
        ORDER BY {", ".join("s." + column for column in POSTS_ORDER)}"""


def _shown_tags(privacy: Privacy, rows: str) -> tuple[str, str]:
    """Each post's hashtag keys, in the post's order, less those a breakdown would suppress: keys
    used by fewer than `min_cell` people, or equal to the handle of someone not named. Nothing is
    dropped under off."""
    if not privacy.suppresses:
        return "", ""
    cte = f"""WITH shown AS (
            SELECT tag FROM (SELECT DISTINCT tag, author_id FROM
                (SELECT unnest(hashtag_keys) AS tag, author_id FROM {scope.SCOPE}) AS a) AS d
            WHERE {handle_tags_sql(privacy)} GROUP BY tag HAVING count(*) >= {privacy.cell_floor}),
        kept AS (
            SELECT platform, post_id, list(tag ORDER BY n) AS keys FROM
                (SELECT platform, post_id, unnest(hashtag_keys) AS tag, generate_subscripts(hashtag_keys, 1) AS n
                 FROM {rows}) AS u
            WHERE tag IN (SELECT tag FROM shown) GROUP BY platform, post_id)"""
    join = "LEFT JOIN kept t ON t.platform = s.platform AND t.post_id = s.post_id"
    return cte, join


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
