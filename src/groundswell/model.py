"""The post table: every field, its type and its meaning, in one place.

Adapters fill these fields (or leave them null); the store, the Spark lake and
docs/schema.md are all derived from FIELDS, so the schema cannot drift between them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa

PLATFORMS = ("twitter", "bluesky", "mastodon")
KINDS = ("original", "repost", "reply", "quote")


@dataclass(frozen=True)
class Field:
    name: str
    arrow: pa.DataType
    sql: str
    meaning: str


_STR = pa.string()
_INT = pa.int64()
_BOOL = pa.bool_()
_TS = pa.timestamp("us")
_STRS = pa.list_(pa.string())

FIELDS: tuple[Field, ...] = (
    # Identity
    Field("platform", _STR, "VARCHAR", "`twitter`, `bluesky` or `mastodon`."),
    Field("post_id", _STR, "VARCHAR", "The platform's id for the post: a tweet id, an `at://` URI, a Mastodon status URI. For an edited tweet, the id of its first version, so that all versions are one post."),
    Field("url", _STR, "VARCHAR", "A web link to the post, where one can be built."),
    # Author
    Field("author_id", _STR, "VARCHAR", "The platform's stable account id (Twitter user id, Bluesky DID, Mastodon account URL)."),
    Field("author_handle", _STR, "VARCHAR", "The handle as collected (screen name, Bluesky handle, Mastodon `acct`)."),
    Field("author_name", _STR, "VARCHAR", "The display name as collected."),
    Field("author_followers", _INT, "BIGINT", "Followers at collection time."),
    Field("author_following", _INT, "BIGINT", "Accounts followed at collection time."),
    Field("author_verified", _BOOL, "BOOLEAN", "Verified or otherwise notable per the platform (Twitter `verified`/`verified_type`, Mastodon bot flag excluded)."),
    # Time
    Field("created_at", _TS, "TIMESTAMP", "Creation time in UTC (a timestamp without zone whose value is UTC). Tweet ids give it to the millisecond and win over any other source."),
    Field("time_source", _STR, "VARCHAR", "Where `created_at` came from: `snowflake`, `source`, `server` (an absurd client time replaced by a server or record-key time), `assumed-utc` (a naive timestamp taken as UTC), or `invalid` (no plausible time: `created_at` is null)."),
    # Text
    Field("text", _STR, "VARCHAR", "The full text, with retweets' and long tweets' text restored and HTML turned into text."),
    Field("lang", _STR, "VARCHAR", "Language code as given by the source; null where the source gives none."),
    # Kind
    Field("kind", _STR, "VARCHAR", "`original`, `repost`, `reply` or `quote`. A reply that quotes is a `reply`."),
    # References
    Field("reply_to_post_id", _STR, "VARCHAR", "The post this replies to."),
    Field("reply_to_author_id", _STR, "VARCHAR", "The author of the post this replies to."),
    Field("quoted_post_id", _STR, "VARCHAR", "The post this quotes."),
    Field("reposted_post_id", _STR, "VARCHAR", "The post this reposts (retweet, Bluesky repost, Mastodon boost)."),
    Field("conversation_id", _STR, "VARCHAR", "The root of the thread (Twitter conversation id, Bluesky reply root, Mastodon none)."),
    # Entities
    Field("hashtags", _STRS, "VARCHAR[]", "Hashtags as displayed, without the `#`, in order of appearance."),
    Field("hashtag_keys", _STRS, "VARCHAR[]", "The matching key of each hashtag (see docs/matching.md), same order as `hashtags`."),
    Field("mentions", _STRS, "VARCHAR[]", "Mentioned handles, without the `@`."),
    Field("urls", _STRS, "VARCHAR[]", "Expanded URLs where the source gives them."),
    # Engagement
    Field("like_count", _INT, "BIGINT", "Likes/favourites reported at collection time."),
    Field("repost_count", _INT, "BIGINT", "Reposts/retweets/boosts reported at collection time."),
    Field("reply_count", _INT, "BIGINT", "Replies reported at collection time."),
    Field("quote_count", _INT, "BIGINT", "Quotes reported at collection time."),
    # Versions and provenance
    Field("version_id", _STR, "VARCHAR", "For an edited post, the id of the version stored (the latest seen); otherwise the post id."),
    Field("collected", _BOOL, "BOOLEAN", "True when the post itself was collected; false when it is known only because a collected post references it (a retweet's original, a v2 `includes.tweets`, a quoted post). Default counts use collected posts only."),
    Field("source_file", _STR, "VARCHAR", "The file the stored copy came from (`-` for stdin)."),
    Field("source_line", _INT, "BIGINT", "The line (JSONL, CSV) or element index (JSON array) within that file, from 1."),
    Field("source_format", _STR, "VARCHAR", "The format adapter that read it, e.g. `twitter-v1`."),
    Field("collected_at", _TS, "TIMESTAMP", "When the source says it retrieved the post (twarc's `retrieved_at`, Jetstream's `time_us`), else null."),
    Field("ingested_at", _TS, "TIMESTAMP", "When groundswell stored this copy (UTC)."),
)

FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in FIELDS)
_FIELD_SET = frozenset(FIELD_NAMES)
_EMPTY_POST = dict.fromkeys(FIELD_NAMES)
ARROW_SCHEMA = pa.schema([pa.field(f.name, f.arrow) for f in FIELDS])

ENGAGEMENT = ("like_count", "repost_count", "reply_count", "quote_count")


def new_post(**values: Any) -> dict[str, Any]:
    """A post record with every field present, so adapters cannot forget one or misspell one."""
    if not values.keys() <= _FIELD_SET:
        raise KeyError(f"unknown post fields: {sorted(set(values) - _FIELD_SET)}")
    post = _EMPTY_POST.copy()
    post.update(values)
    return post


def schema_table() -> str:
    """The Markdown table of docs/schema.md, so the docs are generated from FIELDS."""
    rows = [f"| `{f.name}` | `{f.sql}` | {f.meaning} |" for f in FIELDS]
    return "\n".join(["| field | type | meaning |", "|---|---|---|", *rows])


if __name__ == "__main__":
    print(schema_table())
