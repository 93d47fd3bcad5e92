"""Named table layouts: which column feeds which post field, and how a cell is read.

The cell readers live here too, as the other half of a layout's declaration.

A preset is data, not code: the table adapter (formats/table.py) holds the one engine
that applies any of them, and a user's `--map FIELD=COLUMN` is the same kind of data (it
overrides or extends a preset's columns). Each field lists candidate columns, the first
non-empty one wins, so one preset covers the small renamings between tool versions.

Keys that start with `_` are not post fields but inputs to the engine's later steps:
`_edit_history` (twarc's list of version ids), `_referenced` (twarc-csv 0.5's JSON list
of `{type, id}`), `_verified_type` (v2's paid/organisational verification),
`_retweet_or_quote_id` (twarc 1's one column for both, told apart by `tweet_type`) and
`_reply_to_handle` (a reply's addressee, which marks a reply whose id was lost).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Callable, Mapping

import orjson

from ..model import FIELD_NAMES

# How a cell becomes a field value; table.py has one function per name.
TEXT, ID, INT, BOOL, TIME, LIST, ID_LIST, NESTED = "text", "id", "int", "bool", "time", "list", "id_list", "nested"

# The reader of every post field when a mapping names it without a preset saying otherwise.
FIELD_READERS: Mapping[str, str] = MappingProxyType({
    **dict.fromkeys(FIELD_NAMES, TEXT),
    **dict.fromkeys(("post_id", "author_id", "reply_to_post_id", "reply_to_author_id", "quoted_post_id",
                     "reposted_post_id", "conversation_id", "version_id"), ID),
    **dict.fromkeys(("author_followers", "author_following", "like_count", "repost_count", "reply_count",
                     "quote_count"), INT),
    **dict.fromkeys(("author_verified", "collected"), BOOL),
    **dict.fromkeys(("created_at", "collected_at"), TIME),
    **dict.fromkeys(("hashtags", "mentions", "urls"), LIST),
    "_edit_history": ID_LIST,
    "_verified_type": TEXT,
    "_referenced": NESTED,
    "_retweet_or_quote_id": ID,
    "_reply_to_handle": TEXT,
})

# Filled by the pipeline whatever a table says; a mapping naming one of these is refused.
NOT_MAPPABLE = frozenset({"hashtag_keys", "source_file", "source_line", "source_format", "ingested_at"})


@dataclass(frozen=True)
class Preset:
    """One layout. `identify` is a list of column groups: a record matches when it has at least
    one column of every group. `build` picks the engine step: "fields" maps cells to post
    fields; "twitter-v1" rebuilds a v1.1 tweet and hands it to the twitter-v1 adapter."""

    name: str
    identify: tuple[tuple[str, ...], ...]
    columns: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    platform: str = "twitter"
    build: str = "fields"
    # Zone of naive written times when --tz is not given (None: UTC, with a warning).
    default_tz: str | None = None
    # GetOldTweets: `# Tag` and `@ name` spacing, authors keyed by handle, handle from the
    # permalink, and "RT @" as the only sign of a repost.
    scrape_artifacts: bool = False
    # twarc-csv writes a newline inside text as the two characters `\n`.
    escaped_newlines: bool = False

    def matches(self, record: Mapping[str, object]) -> bool:
        return all(any(column in record for column in group) for group in self.identify)

    @property
    def usual_columns(self) -> frozenset[str]:
        """The first choice of every group: one set test per row confirms the usual layout."""
        return frozenset(group[0] for group in self.identify)


GETOLDTWEETS = Preset(
    name="getoldtweets",
    identify=(("tweet_id", "id"), ("username",), ("date",), ("text",), ("permalink",), ("retweets", "favorites")),
    columns={
        "post_id": ("tweet_id", "id"),
        "author_handle": ("username",),
        "created_at": ("date",),
        "text": ("text",),
        "repost_count": ("retweets",),
        "like_count": ("favorites",),
        "reply_count": ("replies",),  # GetOldTweets3's CSV only
        "url": ("permalink",),
        # `hashtags` (only `#` signs) and `mentions` (mostly only `@` signs) are ignored:
        # both are read from the text instead.
    },
    default_tz="America/New_York",
    scrape_artifacts=True,
)

# twarc-csv 0.7 (DataFrameConverter) with fall-backs for 0.5's columns (author.id, referenced_tweets).
TWARC_CSV = Preset(
    name="twarc-csv",
    identify=(("id",), ("created_at",), ("text",), ("author_id", "author.id"),
              ("public_metrics.retweet_count", "author.username", "referenced_tweets.retweeted.id",
               "referenced_tweets", "__twarc.retrieved_at", "edit_history_tweet_ids")),
    columns={
        "post_id": ("id",),
        "conversation_id": ("conversation_id",),
        "reply_to_post_id": ("referenced_tweets.replied_to.id",),
        "reposted_post_id": ("referenced_tweets.retweeted.id",),
        "quoted_post_id": ("referenced_tweets.quoted.id",),
        "reply_to_author_id": ("in_reply_to_user_id",),
        "author_id": ("author_id", "author.id"),
        "author_handle": ("author.username",),
        "author_name": ("author.name",),
        "author_followers": ("author.public_metrics.followers_count",),
        "author_following": ("author.public_metrics.following_count",),
        "author_verified": ("author.verified",),
        "_verified_type": ("author.verified_type",),
        "created_at": ("created_at",),
        "lang": ("lang",),
        "text": ("text",),
        "hashtags": ("entities.hashtags",),
        "mentions": ("entities.mentions",),
        "urls": ("entities.urls",),
        "like_count": ("public_metrics.like_count",),
        "repost_count": ("public_metrics.retweet_count",),
        "reply_count": ("public_metrics.reply_count",),
        "quote_count": ("public_metrics.quote_count",),
        "collected_at": ("__twarc.retrieved_at",),
        "_edit_history": ("edit_history_tweet_ids",),
        "_referenced": ("referenced_tweets",),
    },
    escaped_newlines=True,
)

# Flattened v1.1 tweets (pandas `to_csv` of API dicts): nested values are dict literals or JSON.
TWITTER_V1_CSV = Preset(
    name="twitter-v1-csv",
    identify=(("id_str", "id"), ("created_at",), ("text", "full_text"), ("user", "user.id_str", "user.screen_name")),
    build="twitter-v1",
)

# twarc 1's `json2csv.py` (and `twarc csv` before twarc2): flattened v1.1 tweets with
# `user_*` columns; older copies spell the retweet column `reweet_id` or `retweet_id`.
TWARC_V1_CSV = Preset(
    name="twarc-v1-csv",
    identify=(("id",), ("created_at", "parsed_created_at"), ("text",), ("user_screen_name",)),
    columns={
        "post_id": ("id",),
        "url": ("tweet_url",),
        "created_at": ("parsed_created_at", "created_at"),
        "text": ("text",),
        "kind": ("tweet_type",),
        "author_id": ("user_id",),
        "author_handle": ("user_screen_name",),
        "author_name": ("user_name",),
        "author_followers": ("user_followers_count",),
        "author_following": ("user_friends_count",),
        "author_verified": ("user_verified",),
        "reply_to_post_id": ("in_reply_to_status_id",),
        "reply_to_author_id": ("in_reply_to_user_id",),
        "reposted_post_id": ("retweet_id", "reweet_id"),
        "_retweet_or_quote_id": ("retweet_or_quote_id",),
        "_reply_to_handle": ("in_reply_to_screen_name",),
        "lang": ("lang",),
        "hashtags": ("hashtags",),
        "urls": ("urls",),
        "like_count": ("favorite_count",),
        "repost_count": ("retweet_count",),
    },
)

# Processed Bluesky exports (atproto post views or firehose records flattened to columns).
BLUESKY_TABLE = Preset(
    name="bluesky-table",
    identify=(("uri",), ("author_did", "author_handle", "did", "author.did", "author.handle"),
              ("created_at", "createdAt", "record.createdAt", "indexed_at", "indexedAt")),
    columns={
        "post_id": ("uri",),
        "author_id": ("author_did", "did", "author.did"),
        "author_handle": ("author_handle", "handle", "author.handle"),
        "author_name": ("author_display_name", "author_displayName", "display_name", "author.displayName"),
        "author_followers": ("author_followers_count", "author.followersCount"),
        "created_at": ("created_at", "createdAt", "record.createdAt", "indexed_at", "indexedAt"),
        "text": ("text", "record.text"),
        "lang": ("lang", "langs", "record.langs"),
        "reply_to_post_id": ("reply_parent", "reply_parent_uri", "reply_to", "in_reply_to", "record.reply.parent.uri"),
        "conversation_id": ("reply_root", "reply_root_uri", "record.reply.root.uri"),
        "quoted_post_id": ("quote_uri", "quoted_uri", "embed_uri"),
        "hashtags": ("hashtags", "tags"),
        "like_count": ("like_count", "likeCount"),
        "repost_count": ("repost_count", "repostCount"),
        "reply_count": ("reply_count", "replyCount"),
        "quote_count": ("quote_count", "quoteCount"),
    },
    platform="bluesky",
)

# Detection order: the most specific signature first.
PRESETS: Mapping[str, Preset] = MappingProxyType(
    {p.name: p for p in (TWITTER_V1_CSV, TWARC_CSV, TWARC_V1_CSV, BLUESKY_TABLE, GETOLDTWEETS)})

# A mapping without a preset: nothing is mapped until the user says so.
GENERIC = Preset(name="mapping", identify=())

# v1.1 cells that hold nested values (objects or lists), read as JSON or Python literals.
V1_NESTED = frozenset({
    "user", "entities", "extended_entities", "extended_tweet", "retweeted_status", "quoted_status", "place",
    "coordinates", "geo", "contributors", "scopes", "withheld_in_countries", "display_text_range",
    "quoted_status_permalink", "metadata", "matching_rules", "edit_history", "edit_controls", "__twarc",
})
# v1.1 keys whose values are integers (written as text, or as floats by pandas).
V1_INTS = frozenset({
    "id", "in_reply_to_status_id", "in_reply_to_user_id", "quoted_status_id", "favorite_count", "retweet_count",
    "reply_count", "quote_count", "followers_count", "friends_count", "statuses_count", "favourites_count",
    "listed_count",
})
V1_BOOLS = frozenset({
    "truncated", "favorited", "retweeted", "is_quote_status", "possibly_sensitive", "possibly_sensitive_appealable",
    "verified", "protected",
})


def preset(name: str) -> Preset:
    """The preset of this name; KeyError names the known ones."""
    if name not in PRESETS:
        raise KeyError(f"unknown preset {name!r} (known: {', '.join(PRESETS)})")
    return PRESETS[name]


def detect(record: Mapping[str, object]) -> Preset | None:
    for candidate in PRESETS.values():
        if candidate.matches(record):
            return candidate
    return None


# ---- cell readers, one per reader name above ----

_FLOATISH = re.compile(r"[+-]?\d+(?:\.\d*)?(?:[eE][+-]?\d+)?")
_LIST_SPLIT = re.compile(r"[\s,]+")
# Entity objects in list cells (twarc's hashtags, mentions, urls) are read by their first known key.
_LIST_ITEM_KEYS = ("tag", "text", "username", "screen_name", "expanded_url", "url", "id")
_PREFIXES = {"hashtags": "#＃", "mentions": "@＠"}


def reader(name: str) -> Callable[[Any], Any]:
    kind = FIELD_READERS[name]
    if kind == LIST:
        prefixes = _PREFIXES.get(name, "")
        return lambda raw: read_list(raw, prefixes)
    return _READERS[kind]


def read_text(raw: Any) -> str:
    return raw if isinstance(raw, str) else str(raw)


class LostDigits(ValueError):
    """An id written as a floating-point number (`1.0482364131064381e+18`): its last digits are gone."""


def lost_digits_advice(field_name: str, column: str) -> str:
    return (f"{field_name} in column `{column}` was saved as floating point by a spreadsheet or pandas, so its last "
            f"digits are lost; re-export that column as text (pandas: read_csv(..., dtype=str) before to_csv; "
            f"a spreadsheet: format the column as Text)")


def read_id(raw: Any) -> str:
    """Ids stay exact strings; a float (pandas' habit with gaps) is refused where digits were lost."""
    if type(raw) is int:
        return str(raw)
    text = raw.strip() if isinstance(raw, str) else repr(raw)
    if text.isdigit() or not _FLOATISH.fullmatch(text):
        return text
    number = float(text)
    if number.is_integer() and abs(number) < 2**53:
        return str(int(number))
    raise LostDigits("a floating-point number whose last digits are lost")


def read_int(raw: Any) -> int:
    """Counts: `12`, or `12.0` as pandas writes an integer column that has gaps."""
    if type(raw) is int:
        return raw
    if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
        raise ValueError("not a whole number")
    try:
        return int(raw)
    except ValueError:
        pass
    try:
        number = float(raw)
    except ValueError:
        raise ValueError("not a number") from None
    if not number.is_integer():
        raise ValueError("not a whole number")
    return int(number)


def read_bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    word = str(raw).strip().lower()
    if word in ("true", "1", "yes", "t", "y"):
        return True
    if word in ("false", "0", "no", "f", "n"):
        return False
    raise ValueError("not true or false")


def read_nested(raw: Any) -> Any:
    """A JSON value, or a Python literal (pandas writes lists and dicts that way); never eval."""
    if not isinstance(raw, str):
        return raw
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return ast.literal_eval(raw.strip())


def read_list(raw: Any, prefixes: str) -> list[str]:
    """A JSON list, a Python list literal, or words separated by spaces or commas."""
    if isinstance(raw, str):
        text = raw.strip()
        try:
            items = read_nested(text) if text.startswith(("[", "(")) else _LIST_SPLIT.split(text)
        except (SyntaxError, ValueError):
            raise ValueError("an unreadable list") from None
    else:
        items = raw
    if not isinstance(items, (list, tuple)):
        raise ValueError("not a list")
    out = []
    for item in items:
        if isinstance(item, dict):
            item = next((item[k] for k in _LIST_ITEM_KEYS if isinstance(item.get(k), str)), None)
        if isinstance(item, (str, int)) and not isinstance(item, bool):
            word = str(item).lstrip(prefixes) if prefixes else str(item)
            if word:
                out.append(word)
    return out


def read_id_list(raw: Any) -> list[str]:
    items = read_nested(raw)
    if not isinstance(items, (list, tuple)):
        raise ValueError("not a list")
    return [read_id(item) for item in items]


_READERS: dict[str, Callable[[Any], Any]] = {
    TEXT: read_text, ID: read_id, INT: read_int, BOOL: read_bool,
    TIME: lambda raw: raw, ID_LIST: read_id_list, NESTED: read_nested,
}
