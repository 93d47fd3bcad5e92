"""The columnar fast path: GetOldTweets rows of a chunk become Arrow columns in bulk.

The per-record path (worker.py → formats/table.py) builds a dict per row and spends ~60 µs a
record in Python; this path takes the rows whose every cell has the plain shape GetOldTweets
writes, builds columns directly, and does time in Arrow over the whole chunk. It applies the
same rules as formats/table.py, step for step (snowflake time wins; a written US Eastern time
more than 60 s away, in both readings of a repeated hour, is counted; handles key authors),
and calls the same hashtag extractor and key function, so the rows are identical
(tests/test_ingest_identity.py compares both paths on every shared file).

Any row that is not plain (broken JSON, an id that is not digits or not a snowflake, an
unusual date, a count that is not a non-negative integer, an empty username) is handed back to the
per-record path, which decides what to do with it exactly as before, quarantine included.
`GROUNDSWELL_INGEST_PATH=per-record` turns this path off, for the identity test and for
anyone who suspects it.
"""

from __future__ import annotations

import os
import re
from datetime import datetime, timedelta
from typing import Any, Callable

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from ..formats import presets as P
from ..formats import table as T
from ..model import ARROW_SCHEMA
from ..movement.extract import extract_hashtags
from ..movement.normalize import hashtag_key
from ..timeutil import FIRST_SNOWFLAKE, TWITTER_EPOCH_MS, zone

PATH_VARIABLE = "GROUNDSWELL_INGEST_PATH"
PER_RECORD = "per-record"
_PLAIN_DATE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
_SLACK_US = 60 * 1_000_000
_COUNTED = ("retweets", "favorites", "replies")

Records = list[tuple[int, Any]]
Columns = dict[str, list[Any]]


def forced_per_record() -> bool:
    return os.environ.get(PATH_VARIABLE, "") == PER_RECORD


def chunk_limits(source_format: str, records: int, size: int) -> tuple[int, int]:
    """(records, bytes) per chunk: larger for a reader whose every call has a fixed cost."""
    if source_format == "bluesky" and not forced_per_record():
        from . import columnar_jetstream

        return max(records, columnar_jetstream.CHUNK_RECORDS), max(size, columnar_jetstream.CHUNK_BYTES)
    return records, size


def reader_for(source_format: str, options: dict[str, Any]) -> Callable[..., tuple[pa.Table, Records, dict]] | None:
    """The fast reader for a chunk of this format and these options, or None (per-record path)."""
    if forced_per_record():
        return None
    if source_format == "bluesky":
        from .columnar_jetstream import read_jetstream

        return read_jetstream
    if source_format != "table":
        return None
    if options.get("preset") != P.GETOLDTWEETS.name or options.get("columns") or options.get("platform"):
        return None
    return read_getoldtweets


def read_getoldtweets(records: Records, options: dict[str, Any], latest: datetime) -> tuple[pa.Table, Records, dict]:
    """(posts of the plain rows without provenance, the other records, counters and warnings)."""
    tz = options.get("tz") or P.GETOLDTWEETS.default_tz
    zone(tz)  # an unknown zone fails as on the per-record path
    limit_ms = int((latest - datetime(1970, 1, 1)).total_seconds() * 1000) - TWITTER_EPOCH_MS
    cols: Columns = {name: [] for name in ("line", "raw", "id", "flake", "date", "text", "handle", "url", "rt", "fav", "rep")}
    rest: Records = []
    for position, raw in records:
        row = _plain(raw, limit_ms)
        if row is None:
            rest.append((position, raw))
            continue
        cols["line"].append(position)
        cols["raw"].append(raw)
        for name, value in zip(("id", "flake", "date", "text", "handle", "url", "rt", "fav", "rep"), row):
            cols[name].append(value)
    dates = pa.array(cols["date"], pa.string())
    local = pc.strptime(dates, format="%Y-%m-%d %H:%M:%S", unit="us", error_is_null=True)
    # Arrow rolls 30 February over to 2 March; table.py refuses it: such rows go its way.
    valid = pc.fill_null(pc.equal(pc.strftime(local.cast(pa.timestamp("s")), format="%Y-%m-%d %H:%M:%S"), dates), False)
    if not pc.all(valid).as_py():
        keep = np.asarray(valid).tolist()
        rest = sorted(rest + [(p, raw) for p, raw, ok in zip(cols["line"], cols.pop("raw"), keep) if not ok],
                      key=lambda item: item[0])
        cols = {name: [v for v, ok in zip(values, keep) if ok] for name, values in cols.items()}
        local = local.filter(valid)
    cols.pop("raw", None)
    if not cols["line"]:
        return ARROW_SCHEMA.empty_table(), rest, {}
    table, notes = _build(cols, local, tz, options)
    return table, rest, notes


def _plain(raw: Any, limit_ms: int) -> tuple | None:
    """The cells of a row the fast path reads exactly as table.py would, else None."""
    if isinstance(raw, (bytes, bytearray, memoryview)):
        try:
            raw = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return None
    if type(raw) is not dict:
        return None
    tweet_id, date, text = raw.get("tweet_id"), raw.get("date"), raw.get("text")
    handle, url = raw.get("username"), raw.get("permalink")
    if type(tweet_id) is not str or not (tweet_id.isascii() and tweet_id.isdigit()) or len(tweet_id) > 19:
        return None
    if type(date) is not str or not _PLAIN_DATE.fullmatch(date) or type(handle) is not str:
        return None
    if type(text) is not str or type(url) is not str or date[11:13] > "23" or date[14:16] > "59" or date[17:] > "59":
        return None
    counts = [raw.get(name) for name in _COUNTED]
    if any(value is not None and (type(value) is not int or value < 0) for value in counts):
        return None  # text and negative counts are set aside by the per-record path's one rule
    if not handle and "/status/" in url:  # table.py's _scrape_fixes: the handle from the permalink
        parts = url.split("/")
        if len(parts) < 4:
            return None
        handle = parts[3]
    number = int(tweet_id)
    flake = (number >> 22)
    if number < FIRST_SNOWFLAKE or number >= 1 << 63 or flake > limit_ms:
        return None
    return (tweet_id, flake + TWITTER_EPOCH_MS, date, text or None, handle or None, url or None, *counts)


def _build(cols: Columns, local: pa.Array, tz: str, options: dict[str, Any]) -> tuple[pa.Table, dict]:
    n = len(cols["line"])
    flake_us = np.asarray(cols["flake"], dtype=np.int64) * 1000
    disagrees = _disagreements(local, cols["date"], flake_us, tz)
    texts: list[str | None] = cols["text"]
    handles: list[str | None] = cols["handle"]
    ids: list[str] = cols["id"]
    fold = options.get("accent_fold", True)
    infer = options.get("infer_kinds", True)
    hashtags, keys, mentions, kinds = [], [], [], []
    reposts_by_rt = 0
    for text in texts:
        tags = extract_hashtags(text, spaced_hash=True) if text else None
        hashtags.append(tags)
        keys.append([hashtag_key(tag, fold_accents=fold) for tag in tags] if tags is not None else None)
        mentions.append(T._SPACED_MENTION.findall(text) if text and "@" in text else ([] if text is not None else None))
        if infer and text and text.startswith("RT @"):
            kinds.append("repost")
            reposts_by_rt += 1
        else:
            kinds.append("original")
    urls = [url if url else T._tweet_url(handle, tweet_id) for url, handle, tweet_id in zip(cols["url"], handles, ids)]
    columns = {
        "platform": pa.array(["twitter"] * n, pa.string()),
        "post_id": pa.array(ids, pa.string()),
        "url": pa.array(urls, pa.string()),
        "author_id": pa.array(["handle:" + handle.lower() if handle else None for handle in handles], pa.string()),
        "author_handle": pa.array(handles, pa.string()),
        "created_at": pa.array(flake_us, pa.int64()).cast(pa.timestamp("us")),
        "time_source": pa.array(["snowflake"] * n, pa.string()),
        "text": pa.array(texts, pa.string()),
        "kind": pa.array(kinds, pa.string()),
        "hashtags": pa.array(hashtags, pa.list_(pa.string())),
        "hashtag_keys": pa.array(keys, pa.list_(pa.string())),
        "mentions": pa.array(mentions, pa.list_(pa.string())),
        "like_count": pa.array(cols["fav"], pa.int64()),
        "repost_count": pa.array(cols["rt"], pa.int64()),
        "reply_count": pa.array(cols["rep"], pa.int64()),
        "version_id": pa.array(ids, pa.string()),
        "collected": pa.array([True] * n, pa.bool_()),
        "source_line": pa.array(cols["line"], pa.int64()),
    }
    arrays = [columns.get(f.name, pa.nulls(n, f.type)) for f in ARROW_SCHEMA]
    keyed = n - handles.count(None)
    counters = {"authors_keyed_by_handle": keyed} if keyed else {}
    if reposts_by_rt:
        counters["kind_inferred_repost_from_rt_prefix"] = reposts_by_rt
    warned = [line for line, bad in zip(cols["line"], disagrees) if bad]
    if warned:
        counters["table_time_disagrees"] = len(warned)
    return pa.Table.from_arrays(arrays, schema=ARROW_SCHEMA), {"counters": counters, "warned": warned}


def _disagreements(local: pa.Array, dates: list[str], flake_us: np.ndarray, tz: str) -> list[bool]:
    """table.py's check, over the chunk: the written local time, read in `tz` (first reading of
    a repeated hour, then the second), more than 60 s from the id's time. Times in a skipped
    hour (clocks going forward) are read by table.py itself, since Arrow reads them otherwise."""
    first = pc.assume_timezone(local, timezone=tz, ambiguous="earliest", nonexistent="earliest")
    second = pc.assume_timezone(local, timezone=tz, ambiguous="latest", nonexistent="earliest")
    after_gap = pc.assume_timezone(local, timezone=tz, ambiguous="earliest", nonexistent="latest")
    as_us = [np.asarray(a.cast(pa.int64())) for a in (first, second, after_gap)]
    far = (np.abs(as_us[0] - flake_us) > _SLACK_US) & (np.abs(as_us[1] - flake_us) > _SLACK_US)
    out = far.tolist()
    for i in np.flatnonzero(as_us[0] != as_us[2]).tolist():  # in a skipped hour: the exact rule
        out[i] = _exact_disagrees(dates[i], int(flake_us[i]), tz)
    return out


def _exact_disagrees(date: str, flake_us: int, tz: str) -> bool:
    moment, _ = T.parse_any(date, tz)
    own = datetime(1970, 1, 1) + timedelta(microseconds=flake_us)
    return abs(moment - own) > T.MAX_DISAGREEMENT and not T._other_fold_agrees(date, tz, own)
