"""Twitter API v2 as twarc2 writes it: response pages, streaming lines and flattened tweets.

A page's tweets are joined to their expansions (authors from `includes.users`, referenced
tweets from `includes.tweets`), and tweets known only as expansions are yielded too, with
collected=False. twarc2 collections mix non-post payloads (counts, users, lists, error
pages) in with the tweets, so those are skipped with a reason rather than quarantined.
The mapping of one tweet to a post lives in twitter_v2_payloads.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterator

from ..timeutil import parse_iso, to_utc_naive
from .base import Item, ParseContext, RecordError, Skip
from .twitter_v2_payloads import Expansions, post_id_of, tweet_post

NAME = "twitter-v2"
PLATFORM = "twitter"
INPUT = "json"

_PAGE_KEYS = frozenset({"data", "includes", "meta", "errors", "__twarc", "matching_rules"})
# An error-only response may also carry the top-level fields of an API problem document.
_ERROR_PAGE_KEYS = _PAGE_KEYS | {"title", "detail", "type", "status"}
_FLAT_MARKS = ("author", "__twarc", "edit_history_tweet_ids", "public_metrics")

_SKIP_REASONS = {
    "counts": "twitter v2 tweet counts (not posts)",
    "users": "twitter v2 user objects (not posts)",
    "lists": "twitter v2 list objects (not posts)",
    "jobs": "twitter v2 compliance job descriptions (not posts)",
    "empty": "twitter v2 page without results",
}
_ERRORS_ONLY = "twitter v2 error page (no posts)"


def sniff(record: Any) -> bool:
    """A v2 page, an error-only response, or a twarc-flattened tweet; never a v1.1 tweet."""
    if not isinstance(record, dict):
        return False
    if "data" in record:
        return record.keys() <= _PAGE_KEYS and _payload_kind(record["data"]) is not None
    if "errors" in record:
        return record.keys() <= _ERROR_PAGE_KEYS and _is_error_list(record["errors"])
    # The marks must be JSON objects or arrays: a CSV row of the same columns is a table.
    return _is_flat_tweet(record) and any(isinstance(record.get(mark), (dict, list)) for mark in _FLAT_MARKS)


def parse(record: Any, ctx: ParseContext) -> Iterator[Item]:
    if not isinstance(record, dict):
        raise RecordError("not a Twitter v2 record (expected a JSON object)")
    if "data" in record:
        return _parse_page(record, ctx)
    if "errors" in record and "id" not in record:
        if not _is_error_list(record["errors"]):
            raise RecordError("Twitter v2 error page whose `errors` is not a list of objects")
        return iter((Skip(_ERRORS_ONLY),))
    if _is_flat_tweet(record):
        return _parse_flat(record, ctx)
    if "user" in record or "id_str" in record:
        raise RecordError("a Twitter v1.1 tweet, not v2 (use --format twitter-v1)")
    raise RecordError("not a Twitter v2 page or tweet (needs `data`, or `id`, `text` and `author_id`)")


def _payload_kind(data: Any) -> str | None:
    """What a page's `data` holds, judged by its first item; None when it is no v2 payload."""
    if isinstance(data, list):
        if not data:
            return "empty"
        first = data[0]
    else:
        first = data
    if not isinstance(first, dict):
        return None
    if "id" in first and "text" in first:
        return "tweets"
    if "tweet_count" in first:
        return "counts"
    if "id" not in first:
        return None
    if "username" in first:
        return "users"
    if "owner_id" in first or "private" in first or "follower_count" in first:
        return "lists"
    if "download_url" in first or "upload_url" in first:
        return "jobs"
    return None


def _is_error_list(errors: Any) -> bool:
    return isinstance(errors, list) and bool(errors) and all(isinstance(e, dict) for e in errors)


def _is_flat_tweet(record: dict) -> bool:
    """A v2 tweet on its own line; v1.1 tweets have `user` and `id_str` and a v1.1 date."""
    if "id" not in record or "text" not in record or "author_id" not in record:
        return False
    if "user" in record or "id_str" in record:
        return False
    created = record.get("created_at")
    return not isinstance(created, str) or created[:1].isdigit()


def _parse_page(record: dict, ctx: ParseContext) -> Iterator[Item]:
    data = record["data"]
    kind = _payload_kind(data)
    if kind is None:
        raise RecordError("Twitter v2 page whose `data` is neither tweets nor a known payload")
    if kind != "tweets":
        yield Skip(_SKIP_REASONS[kind])
        return
    errors = record.get("errors")
    if isinstance(errors, list) and errors:
        ctx.count("v2_api_errors", len(errors))
    tweets = data if isinstance(data, list) else [data]
    includes = record.get("includes") or {}
    included = includes.get("tweets") or ()
    known = {t["id"]: t for t in included}
    known.update((t["id"], t) for t in tweets)
    users = {u["id"]: u for u in includes.get("users") or ()}
    joined = Expansions(users, known, _retrieved_at(record, ctx))
    collected: set[str] = set()
    for tweet in tweets:
        post = tweet_post(tweet, joined, True)
        collected.add(post["post_id"])
        yield post
    for tweet in included:
        if post_id_of(tweet) not in collected:
            yield tweet_post(tweet, joined, False)


def _parse_flat(record: dict, ctx: ParseContext) -> Iterator[Item]:
    """twarc's flattened tweet: author and referenced tweets are embedded, possibly nested."""
    known: dict[str, dict] = {record["id"]: record}
    users: dict[str, dict] = {}
    _gather_embedded(record, known, users)
    joined = Expansions(users, known, _retrieved_at(record, ctx))
    post = tweet_post(record, joined, True)
    yield post
    for tweet_id, tweet in known.items():
        if tweet is not record and post_id_of(tweet) != post["post_id"]:
            yield tweet_post(tweet, joined, False)


def _gather_embedded(tweet: dict, known: dict[str, dict], users: dict[str, dict]) -> None:
    for key in ("author", "in_reply_to_user"):
        user = tweet.get(key)
        if isinstance(user, dict) and "id" in user:
            users[user["id"]] = user
    for ref in tweet.get("referenced_tweets") or ():
        ref_id = ref.get("id")
        if "text" in ref and ref_id not in known:
            known[ref_id] = ref
            _gather_embedded(ref, known, users)


def _retrieved_at(record: dict, ctx: ParseContext) -> datetime | None:
    """twarc's retrieval time is when the engagement counts were true."""
    twarc = record.get("__twarc")
    value = twarc.get("retrieved_at") if isinstance(twarc, dict) else None
    if not isinstance(value, str):
        return None
    try:
        return to_utc_naive(parse_iso(value))
    except ValueError:
        ctx.warn("unreadable __twarc.retrieved_at; collected_at left empty")
        return None
