"""The columnar fast path for Jetstream events: DuckDB shreds a chunk of frames in one query.

The live watch receives tens of thousands of events a second, and the per-record path
(formats/bluesky.py) spends ~25 µs on each in Python: a dict per event, a post dict of every
field, a row-wise Arrow conversion. Here DuckDB's JSON reader takes the whole chunk as one
column and maps it to post columns natively (about 9 µs an event, most of it in one core's
DuckDB); Python only keys the distinct hashtags. The rules are formats/bluesky.py's and
formats/bluesky_record.py's, step for step: tests/test_ingest_identity.py compares both paths
on every shared file, and tests/test_ingest_identity_jetstream.py on synthetic edge events.

A row is taken here only when it is a plain post event, one both JSON readers read alike and
whose every value has the ordinary shape: a `commit` creating or updating an
`app.bsky.feed.post` record, with a server `time_us` and a client `createdAt` that are both
plausible, and tags that need no trimming. Everything else (deletes, other collections,
account events, broken or doubtful JSON, replaced times, tags found only in the text,
outline tags) goes back to the per-record path, which decides exactly as before.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

import duckdb
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from ..formats.bluesky_record import EARLIEST_CLIENT_TIME, POST, POST_PATH
from ..model import ARROW_SCHEMA
from ..movement.normalize import hashtag_key

Records = list[tuple[int, Any]]

# Python's str.strip() whitespace, for the rule that a tag is taken as written only when
# stripping would not change it (bluesky_record._take_feature strips, then drops '#').
_PY_SPACE = "".join(f"\\x{{{cp:x}}}" for cp in range(0x110000) if chr(cp).isspace())
_PLAIN_TAG = f"^[^{_PY_SPACE}#\uff03][\\s\\S]*[^{_PY_SPACE}]$|^[^{_PY_SPACE}#\uff03]$"
# RFC 3339 as Bluesky clients write it; other spellings go to parse_iso on the per-record path.
_PLAIN_TIME = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$"
# What DuckDB's reader accepts and orjson refuses: NaN, Infinity, numbers beyond a double,
# trailing commas, escaped surrogates (orjson refuses lone ones). Separate tests, because RE2
# is several times slower on one alternation of them; a number with a long exponent is looked
# for exactly only where a coarse test (which record keys and CIDs also meet) finds one.
_LONG_EXPONENT = (r"(regexp_matches(frame, '[eE][+-]?[0-9][0-9][0-9]') AND "
                  r"regexp_matches(frame, '[:,\[]\s*-?[0-9]+(\.[0-9]+)?[eE][+-]?[0-9][0-9][0-9]'))")
_DOUBTFUL = " OR ".join([r"regexp_matches(frame, ',\s*[\]}]')", "contains(frame, 'NaN')", "contains(frame, 'Infinity')",
                         _LONG_EXPONENT, r"regexp_matches(frame, '\\u[dD][89a-fA-F]')"])
_LINKS = ("app.bsky.richtext.facet#link", "app.bsky.richtext.facet.link")
_MENTION = "app.bsky.richtext.facet#mention"
_NOT_TAG = f"('{_MENTION}', '{_LINKS[0]}', '{_LINKS[1]}')"

# The event is read with one strict shape holding only keys a plain event must have: a missing
# one, or one given twice (orjson keeps the last copy, DuckDB the first), makes the row go the
# per-record way. It is tried only where the keys show in the text, because a row that fails
# makes DuckDB evaluate its whole vector again row by row. The record is read with one lenient
# shape (a value of another type reads as NULL, as the per-record path's isinstance tests
# ignore it); its keys are checked for repeats apart.
# A value only ever compared with a constant, or with a pattern no other JSON type can meet,
# is read as VARCHAR (a number reads as its digits, which match neither); others stay JSON for
# their type to be checked.
_EVENT_SHAPE = orjson.dumps({"did": "JSON", "kind": "VARCHAR", "time_us": "JSON", "commit": {
    "operation": "VARCHAR", "collection": "VARCHAR", "rkey": "JSON", "record": "JSON"}}).decode()
_URI = {"uri": "JSON"}
_RECORD_SHAPE = orjson.dumps({
    "text": "JSON", "createdAt": "VARCHAR", "langs": "JSON", "lang": "JSON", "tags": "JSON",
    "facets": [{"features": [{"$type": "VARCHAR", "did": "JSON", "uri": "JSON", "tag": "JSON", "hashtag": "JSON"}]}],
    "reply": {"parent": _URI, "root": _URI},
    "embed": {"$type": "VARCHAR", "record": {"uri": "JSON", "record": _URI}, "media": "JSON", "external": _URI},
}).decode()
_WHERE_KEYS_SHOW = "contains(frame, '\"commit\":') AND contains(frame, '\"record\":')"


def _str(json_value: str) -> str:
    """The SQL for a JSON value's string, NULL unless it is a JSON string."""
    return f"(CASE WHEN json_type({json_value}) = 'VARCHAR' THEN json_extract_string({json_value}, '$') END)"


def _nonempty(json_value: str) -> str:
    return f"nullif({_str(json_value)}, '')"


_FRACTION_US = r"CAST(rpad(regexp_extract(created_text, '\.(\d+)', 1), 6, '0')[1:6] AS BIGINT)"
_OFFSET = ("CASE WHEN created_text[-1:] = 'Z' THEN INTERVAL 0 MINUTE ELSE "
           "(CASE WHEN created_text[-6:-6] = '-' THEN -1 ELSE 1 END) "
           "* to_minutes(CAST(created_text[-5:-4] AS BIGINT) * 60 + CAST(created_text[-2:] AS BIGINT)) END")
_TAGS = f"[p.tag FOR p IN parts IF coalesce(p.kind, '') NOT IN {_NOT_TAG} AND coalesce(p.tag, '') <> '']"
_ODD_TAG = (f"list_bool_or([p.other OR (coalesce(p.tag, '') <> '' AND NOT regexp_matches(p.tag, '{_PLAIN_TAG}'))"
            f" FOR p IN parts IF coalesce(p.kind, '') NOT IN {_NOT_TAG}] || [false])")
_FEATURE_TYPE = 'x."$type"'
_PARTS = (f"[{{'kind': {_FEATURE_TYPE}, 'did': {_str('x.did')}, 'uri': {_str('x.uri')}, 'tag': {_str('x.tag')}, "
          f"'other': x.hashtag IS NOT NULL AND x.tag IS NULL}} FOR x IN flatten([f.features FOR f IN coalesce(facets, [])]) "
          f"IF x IS NOT NULL]")
_EMBED_TYPE = 'embed."$type"'
_QUOTE = (f"CASE WHEN {_EMBED_TYPE} = 'app.bsky.embed.record' THEN {_nonempty('embed.record.uri')}"
          f" WHEN {_EMBED_TYPE} = 'app.bsky.embed.recordWithMedia' THEN {_nonempty('embed.record.record.uri')} END")
_MEDIA_URI = _nonempty("json_extract(embed.media, '$.external.uri')")
# bluesky_record._add_external_url: the media's external link, or the embed's own when the
# media is not an object.
_EXTERNAL = (f"CASE WHEN json_type(embed.media) = 'OBJECT' THEN {_MEDIA_URI}"
             f" ELSE {_nonempty('embed.external.uri')} END")
_LANG_0 = _nonempty("json_extract(langs, '$[0]')")
_FIRST_LANG = f"CASE WHEN json_type(langs) = 'ARRAY' THEN {_LANG_0} END"
_CREATED = 'r."createdAt"'

# Each layer is a projection over the one before, without filters: DuckDB pushes a filter
# below a projection by copying the projection's expressions into it, which would parse
# every frame again. Rows are kept or handed back by the `plain` flag, on the Arrow result.
_LAYERS = (
    f"i, CASE WHEN {_WHERE_KEYS_SHOW} AND NOT ({_DOUBTFUL})"
    f" THEN try(json_transform_strict(frame, '{_EVENT_SHAPE}')) END AS e",
    f"i, {_str('e.did')} AS did, {_str('e.commit.rkey')} AS rkey, e.commit.record AS record,"
    f" TRY_CAST(json_extract_string(e.time_us, '$') AS BIGINT) AS time_us,"
    f" coalesce(e.kind = 'commit' AND json_type(e.time_us) = 'UBIGINT'"
    f" AND e.commit.collection = '{POST}' AND e.commit.operation IN ('create', 'update')"
    f" AND json_type(e.commit.record) = 'OBJECT', false) AS shaped",
    f"i, did, rkey, CASE WHEN shaped THEN make_timestamp(time_us) END AS server,"
    f" coalesce(shaped AND did IS NOT NULL AND rkey IS NOT NULL AND time_us < 4611686018427387904, false) AS shaped,"
    f" CASE WHEN shaped THEN json_keys(record) END AS record_keys,"
    f" CASE WHEN shaped THEN json_transform(record, '{_RECORD_SHAPE}') END AS r",
    f"i, did, rkey, server, r.*, coalesce({_str('r.text')}, '') AS body, {_CREATED} AS created_text,"
    f" coalesce(shaped AND len(record_keys) = len(list_distinct(record_keys)), false) AS shaped",
    "*, try_strptime(created_text[1:19], '%Y-%m-%dT%H:%M:%S') AS clock",
    f"*, coalesce(regexp_matches(created_text, '{_PLAIN_TIME}')"
    f" AND strftime(clock, '%Y-%m-%dT%H:%M:%S') = created_text[1:19], false) AS timed",
    f"i, did, rkey, server, body, langs, facets, reply, embed,"
    f" CASE WHEN timed THEN clock + to_microseconds({_FRACTION_US}) - {_OFFSET} END AS client,"
    f" coalesce(shaped AND timed AND lang IS NULL AND (langs IS NULL OR json_type(langs) = 'ARRAY')"
    f" AND (tags IS NULL OR tags::VARCHAR = '[]')"
    f" AND (len(facets) > 0 OR NOT (contains(body, '#') OR contains(body, '\uff03'))), false) AS candidate",
    f"i, did, rkey, server, body, client, candidate, {_PARTS} AS parts,"
    f" {_nonempty('reply.parent.uri')} AS parent, {_nonempty('reply.root.uri')} AS root,"
    f" {_QUOTE} AS embed_uri, {_EXTERNAL} AS external_uri, {_FIRST_LANG} AS first_lang",
    f"*, candidate AND coalesce(client BETWEEN $earliest AND least(server + INTERVAL 1 DAY, $latest), false)"
    f" AND NOT {_ODD_TAG} AS plain,"
    f" [p.uri FOR p IN parts IF p.kind IN ('{_LINKS[0]}', '{_LINKS[1]}') AND p.uri IS NOT NULL] AS links,"
    f" CASE WHEN contains(embed_uri, '{POST_PATH}') THEN embed_uri END AS quoted",
    f"i, plain, 'at://' || did || '/{POST}/' || rkey AS post_id,"
    f" 'https://bsky.app/profile/' || did || '/post/' || rkey AS url,"
    f" did AS author_id, client AS created_at, body AS text, first_lang AS lang,"
    f" CASE WHEN parent IS NOT NULL THEN 'reply' WHEN quoted IS NOT NULL THEN 'quote' ELSE 'original' END AS kind,"
    f" parent AS reply_to_post_id,"
    f" CASE WHEN starts_with(parent, 'at://') THEN split_part(parent[6:], '/', 1) END AS reply_to_author_id,"
    f" quoted AS quoted_post_id, root AS conversation_id, {_TAGS} AS hashtags,"
    f" [p.did FOR p IN parts IF p.kind = '{_MENTION}' AND p.did IS NOT NULL] AS mentions,"
    f" list_concat(links, CASE WHEN external_uri IS NOT NULL AND NOT list_contains(links, external_uri)"
    f" THEN [external_uri] ELSE [] END) AS urls, server AS collected_at",
)


def _nest(layers: tuple[str, ...], source: str) -> str:
    sql = f"SELECT {layers[0]} FROM {source}"
    for layer in layers[1:]:
        sql = f"SELECT {layer} FROM ({sql})"
    return sql + " ORDER BY i"


_SHRED_SQL = _nest(_LAYERS, "frames")

# The query costs about 25 ms whatever the batch (planning it, and the Arrow round trip), and
# 9 µs an event against the adapter's 14: below this many records the adapter is faster. A
# quiet live stream's batches take the adapter; ingest hands this path chunks of CHUNK_RECORDS.
MIN_RECORDS = 5_000
CHUNK_RECORDS = 20_000
CHUNK_BYTES = 16 << 20
_local = threading.local()


def _connection() -> duckdb.DuckDBPyConnection:
    """One in-memory DuckDB per thread, on one core: ingest runs a worker per core, and the
    live watch's parsing thread shares the cores with receiving and writing (bench/watch.py
    measured one thread a little faster there than two)."""
    con = getattr(_local, "con", None)
    if con is None:
        con = _local.con = duckdb.connect()
        con.execute("SET threads = 1")
    return con


def read_jetstream(records: Records, options: dict[str, Any], latest: datetime) -> tuple[pa.Table, Records, dict]:
    """(posts of the plain post events without provenance, the other records, notes)."""
    if not records or len(records) < MIN_RECORDS:
        return ARROW_SCHEMA.empty_table(), records, {}
    frames = _frames(records)
    con = _connection()
    con.register("frames", frames)
    try:
        shredded = con.sql(_SHRED_SQL, params={"earliest": EARLIEST_CLIENT_TIME, "latest": latest}).to_arrow_table()
    finally:
        con.unregister("frames")
    shredded = shredded.filter(shredded.column("plain"))
    taken = set(shredded.column("i").to_pylist())
    rest = [record for i, record in enumerate(records) if i not in taken]
    if not taken:
        return ARROW_SCHEMA.empty_table(), rest, {}
    lines = pa.array([records[i][0] for i in shredded.column("i").to_pylist()], pa.int64())
    return _posts(shredded, lines, options.get("accent_fold", True)), rest, {"counters": {}, "warned": []}


def _frames(records: Records) -> pa.Table:
    """The records as one string column (decoded values written back as JSON). A record that
    is not valid UTF-8, or a value JSON cannot hold again, becomes an empty frame, which is
    never plain: the per-record path quarantines it."""
    raws: list[Any] = [raw for _, raw in records]
    try:  # the live watch's frames and JSONL lines are all bytes: one conversion in C
        column = pa.array(raws, pa.large_binary())
    except (pa.ArrowException, TypeError, ValueError):
        column = pa.array([_as_bytes(raw) for raw in raws], pa.large_binary())
    try:
        text = column.cast(pa.large_string())
    except pa.ArrowInvalid:
        text = pa.array([_utf8(raw) for raw in column.to_pylist()], pa.large_string())
    return pa.table({"i": pa.array(range(len(raws)), pa.int64()), "frame": text})


def _as_bytes(raw: Any) -> bytes:
    """Bytes as they are, a decoded object written back; b"" for an integer past 64 bits, a
    lone surrogate, or a value of another type."""
    if isinstance(raw, (bytes, bytearray, memoryview)):
        return bytes(raw)
    if isinstance(raw, dict):
        try:
            return orjson.dumps(raw)
        except (TypeError, orjson.JSONEncodeError):
            pass
    return b""


def _utf8(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return ""


def _posts(shredded: pa.Table, lines: pa.Array, fold: bool) -> pa.Table:
    n = shredded.num_rows
    tags = shredded.column("hashtags").combine_chunks()
    given = {
        "platform": pa.array(["bluesky"] * n, pa.string()),
        "time_source": pa.array(["source"] * n, pa.string()),
        "hashtag_keys": _keys(tags, fold),
        "version_id": shredded.column("post_id"),
        "collected": pa.array([True] * n, pa.bool_()),
        "source_line": lines,
    }
    columns = [given[f.name] if f.name in given else
               shredded.column(f.name).cast(f.type) if f.name in shredded.column_names else pa.nulls(n, f.type)
               for f in ARROW_SCHEMA]
    return pa.Table.from_arrays(columns, schema=ARROW_SCHEMA)


def _keys(tags: pa.ListArray, fold: bool) -> pa.Array:
    """Each tag's key, computed once per distinct tag; NULL where a post has no tag, as
    worker._finish_post leaves it."""
    flat = tags.flatten()
    distinct = pc.unique(flat)
    keys = pa.array([hashtag_key(tag, fold_accents=fold) for tag in distinct.to_pylist()], pa.string())
    keyed = keys.take(pc.index_in(flat, value_set=distinct))
    offsets = tags.offsets
    keyed_lists = pa.ListArray.from_arrays(offsets, keyed)
    has_tags = pc.greater(pc.list_value_length(tags), 0)
    return pc.if_else(has_tags, keyed_lists, pa.nulls(len(tags), pa.list_(pa.string())))
