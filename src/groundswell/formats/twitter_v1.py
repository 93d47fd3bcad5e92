"""Twitter API v1.1 tweets: streaming lines, REST and search results, and twitwi's wrappers.

A v1.1 tweet carries the tweets it refers to in full (`retweeted_status`, `quoted_status`),
so one record yields the collected tweet and, with collected=False, each embedded tweet.
A retweet's own `text` is cut at 140 characters; its text is rebuilt from the original's
full text, keeping the `RT @handle: ` form. Stream control messages are skipped, limit
notices are kept (they count what the stream did not deliver), and delete notices become
deletions, so that a deleted tweet never reaches the store.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterator

from ..model import new_post
from ..timeutil import from_epoch_us, parse_twitter_date, snowflake_time
from .twitter_common import unescape_text
from .base import Delete, Item, LimitNotice, ParseContext, RecordError, Skip, count_or_none

NAME = "twitter-v1"
PLATFORM = "twitter"
INPUT = "json"

# Stream messages that are not posts, and why nothing is stored for them.
_CONTROL = {
    "scrub_geo": "twitter v1.1 scrub_geo notice (no location is stored)",
    "status_withheld": "twitter v1.1 status_withheld notice (withheld in some countries, not deleted)",
    "user_withheld": "twitter v1.1 user_withheld notice (withheld in some countries, not deleted)",
    "disconnect": "twitter v1.1 stream disconnect message (not posts)",
    "warning": "twitter v1.1 stream warning (not posts)",
    "friends": "twitter v1.1 user stream friends list (not posts)",
    "friends_str": "twitter v1.1 user stream friends list (not posts)",
}
_TOOL_KEYS = frozenset({"__twarc"})
_EMPTY_PAGE = "twitter v1.1 search page without results"
# A quoted tweet may itself embed tweets; the API nests at most two levels.
_MAX_DEPTH = 3


def sniff(record: Any) -> bool:
    """A v1.1 tweet, delete notice, control message, search page or twitwi wrapper; never v2."""
    if not isinstance(record, dict) or "data" in record:
        return False
    if "normalized" in record and "source" in record:
        return _is_tweet(record["source"])
    if "search_metadata" in record:
        statuses = record.get("statuses")
        return isinstance(statuses, list) and (not statuses or _is_tweet(statuses[0]))
    if "delete" in record and "user" not in record:
        return _deleted_status(record["delete"]) is not None
    return _is_tweet(record) or _is_limit(record) or _control_key(record) is not None


def _is_limit(record: dict) -> bool:
    """`{"limit": {"track": N, "timestamp_ms": "..."}}`: one key (tool marks aside), a count."""
    return record.keys() - _TOOL_KEYS == {"limit"} and isinstance(record["limit"], dict)


def _limit(notice: dict) -> LimitNotice:
    track = notice.get("track")
    if type(track) is not int or track < 0:
        raise RecordError("limit notice without a non-negative integer `limit.track`")
    millis = _millis(notice.get("timestamp_ms"))
    return LimitNotice(PLATFORM, track, from_epoch_us(millis * 1000) if millis is not None else None)


def parse(record: Any, ctx: ParseContext) -> Iterator[Item]:
    if not isinstance(record, dict):
        raise RecordError("not a Twitter v1.1 record (expected a JSON object)")
    if "delete" in record and "user" not in record:
        return iter((_delete(record["delete"]),))
    if "normalized" in record and "source" in record:
        source = record["source"]
        if not isinstance(source, dict):
            raise RecordError("twitwi record whose `source` is not a tweet object")
        return _tweet_items(source, ctx)
    if "statuses" in record and "user" not in record:
        return _search_page(record, ctx)
    if _is_limit(record):
        return iter((_limit(record["limit"]),))
    control = _control_key(record)
    if control is not None:
        return iter((Skip(_CONTROL[control]),))
    if "data" in record:
        raise RecordError("a Twitter v2 page, not v1.1 (use --format twitter-v2)")
    return _tweet_items(record, ctx)


def _is_tweet(value: Any) -> bool:
    """v1.1 tweets have a `user` object and a written date that starts with the weekday."""
    if not isinstance(value, dict) or not isinstance(value.get("user"), dict):
        return False
    if not (isinstance(value.get("id_str"), str) or type(value.get("id")) is int):
        return False
    if not (isinstance(value.get("text"), str) or isinstance(value.get("full_text"), str)):
        return False
    created = value.get("created_at")
    return created is None or (isinstance(created, str) and not created[:1].isdigit())


def _control_key(record: dict) -> str | None:
    """Control messages are one-key objects; tweets never have these keys at the top."""
    keys = record.keys() - _TOOL_KEYS
    if len(keys) != 1:
        return None
    (key,) = keys
    return key if key in _CONTROL and isinstance(record[key], (dict, list)) else None


def _deleted_status(notice: Any) -> str | None:
    status = notice.get("status") if isinstance(notice, dict) else None
    if not isinstance(status, dict):
        return None
    return _optional_id(status, "id_str", "id")


def _delete(notice: Any) -> Delete:
    target = _deleted_status(notice)
    if target is None:
        raise RecordError("delete notice without `delete.status.id_str`")
    millis = _millis(notice.get("timestamp_ms"))
    deleted_at = from_epoch_us(millis * 1000) if millis is not None else None
    return Delete(PLATFORM, target, deleted_at, "deleted")


def _search_page(record: dict, ctx: ParseContext) -> Iterator[Item]:
    statuses = record["statuses"]
    if not isinstance(statuses, list):
        raise RecordError("search page whose `statuses` is not a list")
    if not statuses:
        yield Skip(_EMPTY_PAGE)
        return
    for status in statuses:
        if not isinstance(status, dict):
            raise RecordError("search page with a status that is not an object")
        yield from _tweet_items(status, ctx)


def _tweet_items(tweet: dict, ctx: ParseContext) -> Iterator[Item]:
    """The collected tweet, then every tweet embedded in it, each once."""
    millis = _millis(tweet.get("timestamp_ms"))
    collected_at = from_epoch_us(millis * 1000) if millis is not None else None
    post = _post(tweet, "tweet", True, collected_at, ctx)
    yield post
    seen = {post["post_id"]}
    pending = [(inner, where, 1) for inner, where in _embedded(tweet)]
    while pending:
        inner, where, depth = pending.pop(0)
        ref_id = _first_version(inner) or _required_id(inner, where)
        if ref_id in seen:
            continue
        seen.add(ref_id)
        yield _post(inner, where, False, collected_at, ctx)
        if depth < _MAX_DEPTH:
            pending.extend((deeper, f"{where}.{key}", depth + 1) for deeper, key in _embedded(inner))


def _embedded(tweet: dict) -> list[tuple[dict, str]]:
    """The retweeted original first (its quote is the original's), then a quoted tweet."""
    found = []
    for key in ("retweeted_status", "quoted_status"):
        inner = tweet.get(key)
        if inner is None:
            continue
        if not isinstance(inner, dict):
            raise RecordError(f"`{key}` is not a tweet object")
        found.append((inner, key))
    return found


def _post(tweet: dict, where: str, collected: bool, collected_at: datetime | None, ctx: ParseContext) -> dict[str, Any]:
    tweet_id = _required_id(tweet, where)
    post_id = _first_version(tweet) or tweet_id
    user = tweet.get("user")
    if not isinstance(user, dict):
        raise RecordError(f"{where} `user` is missing or not an object")
    author_id = _optional_id(user, "id_str", "id")
    if author_id is None:
        raise RecordError(f"{where} `user.id_str` is missing")
    handle = _string(user.get("screen_name"))
    kind, reply_to, quoted, reposted = _references(tweet, where)
    text, hashtags, mentions, urls = _content(tweet, where, reposted is not None)
    created_at, time_source = _created(post_id, tweet, ctx)
    return new_post(
        platform=PLATFORM, post_id=post_id, version_id=tweet_id,
        url=f"https://twitter.com/{handle}/status/{tweet_id}" if handle else f"https://twitter.com/i/web/status/{tweet_id}",
        author_id=author_id, author_handle=handle, author_name=_string(user.get("name")),
        author_followers=count_or_none(user.get("followers_count")), author_following=count_or_none(user.get("friends_count")),
        author_verified=_flag(user.get("verified")),
        created_at=created_at, time_source=time_source, text=unescape_text(text), lang=_string(tweet.get("lang")),
        kind=kind, reply_to_post_id=reply_to,
        reply_to_author_id=_optional_id(tweet, "in_reply_to_user_id_str", "in_reply_to_user_id") if reply_to else None,
        quoted_post_id=quoted, reposted_post_id=reposted,
        hashtags=hashtags, hashtag_keys=[] if hashtags == [] else None, mentions=mentions, urls=urls,
        like_count=count_or_none(tweet.get("favorite_count")), repost_count=count_or_none(tweet.get("retweet_count")),
        reply_count=count_or_none(tweet.get("reply_count")), quote_count=count_or_none(tweet.get("quote_count")),
        collected=collected, collected_at=collected_at,
    )


def _references(tweet: dict, where: str) -> tuple[str, str | None, str | None, str | None]:
    """(kind, replied-to id, quoted id, retweeted id). A retweet's quote belongs to its original."""
    original = tweet.get("retweeted_status")
    if isinstance(original, dict):
        return "repost", None, None, _first_version(original) or _required_id(original, f"{where}.retweeted_status")
    reply_to = _optional_id(tweet, "in_reply_to_status_id_str", "in_reply_to_status_id")
    quoted = _optional_id(tweet, "quoted_status_id_str", "quoted_status_id")
    embedded = tweet.get("quoted_status")
    if isinstance(embedded, dict):
        quoted = _first_version(embedded) or _optional_id(embedded, "id_str", "id") or quoted
    kind = "reply" if reply_to else "quote" if quoted else "original"
    return kind, reply_to, quoted, None


def _content(tweet: dict, where: str, is_retweet: bool) -> tuple[str, list | None, list | None, list | None]:
    """Full text and entities; a retweet takes its original's, behind `RT @handle: `."""
    if not is_retweet:
        text, entities = _full_text(tweet, where)
        return (text, *_entities(entities, text))
    original = tweet["retweeted_status"]
    text, entities = _full_text(original, f"{where}.retweeted_status")
    user = original.get("user")
    handle = _string(user.get("screen_name")) if isinstance(user, dict) else None
    handle = handle or _rt_handle(tweet.get("text"))
    if handle:
        text = f"RT @{handle}: {text}"
    hashtags, mentions, urls = _entities(entities, text)
    if handle and mentions is not None:
        mentions = [handle, *mentions]
    return text, hashtags, mentions, urls


def _full_text(tweet: dict, where: str) -> tuple[str, dict | None]:
    """Streamed long tweets keep theirs in `extended_tweet`; extended-mode REST in `full_text`."""
    extended = tweet.get("extended_tweet")
    if isinstance(extended, dict) and isinstance(extended.get("full_text"), str):
        entities = extended.get("entities")
        return extended["full_text"], entities if isinstance(entities, dict) else None
    text = tweet.get("full_text")
    if not isinstance(text, str):
        text = tweet.get("text")
        if not isinstance(text, str):
            raise RecordError(f"{where} has no `text` or `full_text`")
    entities = tweet.get("entities")
    return text, entities if isinstance(entities, dict) else None


def _entities(entities: dict | None, text: str) -> tuple[list | None, list | None, list | None]:
    """(hashtags, mentions, urls) from the API's entities; without any, tags are read from the text."""
    if entities is None:
        from ..movement.extract import extract_hashtags  # lazy: the extractor is optional at import

        return extract_hashtags(text), None, None
    hashtags = [tag for h in entities.get("hashtags") or () if isinstance(tag := h.get("text"), str)]
    mentions = [name for m in entities.get("user_mentions") or () if isinstance(name := m.get("screen_name"), str)]
    urls = [url for u in entities.get("urls") or () if isinstance(url := u.get("expanded_url") or u.get("url"), str)]
    return hashtags, mentions, urls


def _rt_handle(text: Any) -> str | None:
    if isinstance(text, str) and text.startswith("RT @"):
        end = text.find(":", 4)
        return text[4:end] if end > 4 else None
    return None


def _created(post_id: str, tweet: dict, ctx: ParseContext) -> tuple[datetime | None, str | None]:
    """The id's snowflake time wins; ids from before November 2010 need the written date."""
    moment = snowflake_time(post_id)
    if moment is not None:
        return moment, "snowflake"
    written = tweet.get("created_at")
    if isinstance(written, str):
        try:
            return parse_twitter_date(written), "source"
        except ValueError:
            ctx.warn("tweet with an unreadable created_at and no snowflake id; created_at left empty")
    return None, None


def _first_version(tweet: dict) -> str | None:
    """Edited tweets (2022 on) name their first version; all versions are one post."""
    history = tweet.get("edit_history")
    if isinstance(history, dict):
        return _optional_id(history, "initial_tweet_id", "initial_tweet_id")
    return None


def _required_id(tweet: dict, where: str) -> str:
    value = _optional_id(tweet, "id_str", "id")
    if value is None:
        raise RecordError(f"{where} without `id_str` or numeric `id`")
    return value


def _optional_id(obj: dict, str_key: str, int_key: str) -> str | None:
    value = obj.get(str_key)
    if isinstance(value, str) and value:
        return value
    value = obj.get(int_key)
    return str(value) if type(value) is int else None


def _millis(value: Any) -> int | None:
    """Stream `timestamp_ms` is a string of digits; some tools wrote a number."""
    if type(value) is int:
        return value
    return int(value) if isinstance(value, str) and value.isascii() and value.isdigit() else None


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) else None



def _flag(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None
