"""One Twitter v2 tweet, joined to its expansions, as a post.

Shared by the page and flattened forms of twitter_v2: both are reduced to a map of known
users and a map of known tweets (by tweet id), so the mapping below is written once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..model import new_post
from ..timeutil import parse_iso, snowflake_time, to_utc_naive
from .base import RecordError, count_or_none
from .twitter_common import unescape_text

_EMPTY: dict = {}


@dataclass(frozen=True)
class Expansions:
    """What a record knows beyond each tweet: users and tweets by id, and when it was fetched."""

    users: dict[str, dict]
    tweets: dict[str, dict]
    collected_at: datetime | None


def post_id_of(tweet: dict) -> str:
    """An edited tweet's versions are one post, named by the first version's id."""
    history = tweet.get("edit_history_tweet_ids")
    return _str(history[0]) if history else _str(tweet["id"])


def tweet_post(tweet: dict, joined: Expansions, collected: bool) -> dict[str, Any]:
    """The post for one tweet; the version is the tweet's own id so the store keeps the latest edit."""
    tweet_id = _str(tweet["id"])
    post_id = post_id_of(tweet)
    if not (post_id and tweet_id and post_id.strip() and tweet_id.strip()):
        raise RecordError("a tweet (collected or referenced) without an `id`")
    author = _author_of(tweet, joined)
    handle = author.get("username")
    refs = _references(tweet, joined)
    text, hashtags, mentions, urls = _content(tweet, refs[3], joined)
    created_at, time_source = _created(post_id, tweet)
    metrics = tweet.get("public_metrics") or _EMPTY
    audience = author.get("public_metrics") or _EMPTY
    return new_post(
        platform="twitter", post_id=post_id, version_id=tweet_id,
        url=f"https://twitter.com/{handle}/status/{tweet_id}" if handle else f"https://twitter.com/i/web/status/{tweet_id}",
        author_id=_str(tweet.get("author_id") or author.get("id")), author_handle=handle,
        author_name=author.get("name"), author_verified=_verified(author),
        author_followers=count_or_none(audience.get("followers_count")), author_following=count_or_none(audience.get("following_count")),
        created_at=created_at, time_source=time_source, text=unescape_text(text), lang=tweet.get("lang"),
        kind=refs[0], reply_to_post_id=refs[1], quoted_post_id=refs[2],
        reposted_post_id=_ref_post_id(refs[3], joined), reply_to_author_id=_str(tweet.get("in_reply_to_user_id")),
        conversation_id=_str(tweet.get("conversation_id")),
        hashtags=hashtags, hashtag_keys=[] if hashtags == [] else None, mentions=mentions, urls=urls,
        like_count=count_or_none(metrics.get("like_count")), repost_count=count_or_none(metrics.get("retweet_count")),
        reply_count=count_or_none(metrics.get("reply_count")), quote_count=count_or_none(metrics.get("quote_count")),
        collected=collected, collected_at=joined.collected_at,
    )


def _author_of(tweet: dict, joined: Expansions) -> dict:
    author = joined.users.get(tweet.get("author_id"))  # type: ignore[arg-type]
    if author is None:
        embedded = tweet.get("author")
        author = embedded if isinstance(embedded, dict) else _EMPTY
    return author


def _references(tweet: dict, joined: Expansions) -> tuple[str, str | None, str | None, str | None]:
    """(kind, replied-to post id, quoted post id, raw retweeted tweet id); a reply that quotes is a reply."""
    reply_to = quoted = retweeted = None
    for ref in tweet.get("referenced_tweets") or ():
        kind = ref.get("type")
        if kind == "retweeted":
            retweeted = _str(ref.get("id"))
        elif kind == "replied_to":
            reply_to = _ref_post_id(_str(ref.get("id")), joined)
        elif kind == "quoted":
            quoted = _ref_post_id(_str(ref.get("id")), joined)
    kind = "repost" if retweeted else "reply" if reply_to else "quote" if quoted else "original"
    return kind, reply_to, quoted, retweeted


def _ref_post_id(tweet_id: str | None, joined: Expansions) -> str | None:
    """A reference names a version; the post is named by its first version when that is known."""
    if tweet_id is None:
        return None
    target = joined.tweets.get(tweet_id)
    return post_id_of(target) if target is not None else tweet_id


def _content(tweet: dict, retweeted: str | None, joined: Expansions) -> tuple[str | None, list | None, list | None, list | None]:
    """Text and entities; a retweet's truncated text is rebuilt from its original when known."""
    original = joined.tweets.get(retweeted) if retweeted else None
    if original is None or "text" not in original:
        text, entities = _text_and_entities(tweet)
        tag_source = _untruncated(text) if retweeted and entities is None else text
        return text, _hashtags(entities, tag_source), _mentions(entities), _urls(entities)
    text, entities = _text_and_entities(original)
    handle = _author_of(original, joined).get("username") or _rt_handle(tweet.get("text"))
    mentions = _mentions(entities)
    if handle:
        text = f"RT @{handle}: {text}"
        mentions = [handle, *(mentions or ())]
    return text, _hashtags(entities, text), mentions, _urls(entities)


def _text_and_entities(tweet: dict) -> tuple[str | None, dict | None]:
    """Long tweets keep their full text and its entities in `note_tweet`."""
    note = tweet.get("note_tweet")
    if isinstance(note, dict) and note.get("text"):
        return note["text"], note.get("entities")
    return tweet.get("text"), tweet.get("entities")


def _untruncated(text: str | None) -> str | None:
    """A cut retweet ends in a partial word and `…`; that word must not become a hashtag."""
    if text and text.endswith("…"):
        parts = text[:-1].rsplit(None, 1)
        return parts[0] if len(parts) == 2 else ""
    return text


def _rt_handle(text: Any) -> str | None:
    if isinstance(text, str) and text.startswith("RT @"):
        end = text.find(":", 4)
        return text[4:end] if end > 4 else None
    return None


def _hashtags(entities: dict | None, text: str | None) -> list[str] | None:
    """The API's tags; when it sent no entities at all, tags are read from the text."""
    if entities is None:
        if not text:
            return None
        from ..movement.extract import extract_hashtags  # lazy: the extractor is optional at import

        return extract_hashtags(text)
    return [tag["tag"] for tag in entities.get("hashtags") or ()]


def _mentions(entities: dict | None) -> list[str] | None:
    if entities is None:
        return None
    return [m["username"] for m in entities.get("mentions") or () if "username" in m]


def _urls(entities: dict | None) -> list[str] | None:
    if entities is None:
        return None
    return [u.get("expanded_url") or u["url"] for u in entities.get("urls") or () if "url" in u or "expanded_url" in u]


def _verified(user: dict) -> bool | None:
    """Legacy `verified`, or any paid/organisational `verified_type` other than "none"."""
    kind = user.get("verified_type")
    if "verified" not in user and kind is None:
        return None
    return bool(user.get("verified")) or (kind is not None and kind != "none")


def _created(post_id: str, tweet: dict) -> tuple[datetime | None, str | None]:
    """The first version's id gives the post's creation time; pre-2010 ids need `created_at`."""
    moment = snowflake_time(post_id)
    if moment is not None:
        return moment, "snowflake"
    written = tweet.get("created_at")
    if isinstance(written, str):
        try:
            return to_utc_naive(parse_iso(written)), "source"
        except ValueError:
            return None, None
    return None, None


def _str(value: Any) -> Any:
    """v2 ids are strings already; other tools' exports sometimes wrote them as numbers."""
    return value if value is None or isinstance(value, str) else str(value)
