"""Mastodon statuses: REST API JSON (a status per record) and streaming API events.

Identity: `post_id` is the status `uri`, the ActivityPub id, which is the same on every
instance; the numeric `id` is local to the instance that served the JSON. `author_id` is
the account `url`, global for the same reason. Some fields only exist as local ids and are
stored as given, so they match only data collected from the same instance:
`reply_to_post_id` (`in_reply_to_id`) and a shallow quote's `quoted_status_id`. A streaming
`delete` event carries nothing but the local id: each streamed status also yields its
(local id, uri) pair as a `LocalId`, and the ingest maps a later delete in the same file to
the uri it names (a delete of a status the file never showed is kept under its local id).

A boost is a status wrapping the boosted one in `reblog`: the boost is the collected
post (kind `repost`, with the boosted text and entities, as a retweet carries its
original's), and the boosted status is yielded as a referenced post.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Iterator

import orjson

from ..model import new_post
from ..movement.normalize import hashtag_key
from ..timeutil import from_epoch_us, parse_iso, to_utc_naive
from .base import LOCAL_ID_DELETE, Delete, Item, LocalId, ParseContext, RecordError, Skip, count_or_none
from .html_text import Link, parse_html

NAME = "mastodon"
PLATFORM = "mastodon"
INPUT = "json"

# Mastodon ids since 2.0 hold milliseconds since 1970 above 16 bits of sequence.
MASTODON_LAUNCH = datetime(2016, 3, 1)
_MAX_DEPTH = 2  # a boost of a quote: deeper nesting is malformed
_STREAM_EVENTS = frozenset({
    "notification", "conversation", "filters_changed", "announcement", "announcement.reaction",
    "announcement.delete", "encrypted_message", "notifications_merged",
})
_ID_TIME_WARNING = "Mastodon status with unreadable created_at; time taken from its id"
_NO_TIME_WARNING = "Mastodon status with unreadable created_at and no time in its id; created_at left empty"


def sniff(record: Any) -> bool:
    """A status (REST) or a streaming envelope `{event, payload}`."""
    if not isinstance(record, dict):
        return False
    if "event" in record and "payload" in record:
        return isinstance(record["event"], str)
    return _is_status(record)


def _is_status(record: Any) -> bool:
    return (isinstance(record, dict) and isinstance(record.get("account"), dict)
            and "content" in record and "uri" in record and "created_at" in record)


def parse(record: Any, ctx: ParseContext) -> Iterator[Item]:
    if not isinstance(record, dict):
        raise RecordError("not a Mastodon record (expected a JSON object)")
    if "event" in record and "payload" in record:
        return _stream_event(record, ctx)
    if _is_status(record):
        return _status_items(record, ctx, True, 0)
    raise RecordError("not a Mastodon status or streaming event (needs `account`, `content`, `uri` and `created_at`)")


def _stream_event(event: dict[str, Any], ctx: ParseContext) -> Iterator[Item]:
    name, payload = event["event"], event["payload"]
    if name in ("update", "status.update"):
        status = _decode(payload)
        if not _is_status(status):
            raise RecordError(f"Mastodon streaming {name} whose payload is not a status")
        yield from _status_items(status, ctx, True, 0)
        local = status.get("id")
        if isinstance(local, (str, int)) and not isinstance(local, bool) and local != "":
            yield LocalId(PLATFORM, str(local), status["uri"])
    elif name == "delete":
        if not isinstance(payload, (str, int)) or isinstance(payload, bool) or payload == "":
            raise RecordError("Mastodon streaming delete without a status id")
        yield Delete(PLATFORM, str(payload), None, f"mastodon {LOCAL_ID_DELETE}")
    elif name in _STREAM_EVENTS:
        yield Skip(f"mastodon streaming {name} event (not a post)")
    else:
        yield Skip("mastodon streaming event of another kind (not a post)")


def _decode(payload: Any) -> Any:
    """The streaming API sends the status as a JSON string inside the JSON event."""
    if isinstance(payload, dict):
        return payload
    if isinstance(payload, (str, bytes)):
        try:
            return orjson.loads(payload)
        except orjson.JSONDecodeError:
            raise RecordError("Mastodon streaming payload is not valid JSON") from None
    raise RecordError("Mastodon streaming payload is neither a JSON string nor an object")


def _status_items(status: dict[str, Any], ctx: ParseContext, collected: bool, depth: int) -> Iterator[dict[str, Any]]:
    reblog = status.get("reblog")
    if isinstance(reblog, dict) and depth < _MAX_DEPTH:
        if not _is_status(reblog):
            raise RecordError("Mastodon boost whose `reblog` is not a status")
        yield _status_post(status, ctx, collected, reblog)
        yield from _status_items(reblog, ctx, False, depth + 1)
        return
    yield _status_post(status, ctx, collected, None)
    _, quoted = _quote(status)
    if quoted is not None and depth < _MAX_DEPTH:
        yield from _status_items(quoted, ctx, False, depth + 1)


def _status_post(status: dict[str, Any], ctx: ParseContext, collected: bool,
                 boosted: dict[str, Any] | None) -> dict[str, Any]:
    """One status as a post; a boost takes its text and entities from the boosted status."""
    uri, account = status.get("uri"), status["account"]
    if not isinstance(uri, str) or not uri.strip():
        raise RecordError("Mastodon status without a `uri`")
    source = boosted if boosted is not None else status
    content = source.get("content")
    body = parse_html(content if isinstance(content, str) else "")
    spoiler = source.get("spoiler_text")
    created, time_source = _status_time(status, ctx)
    post = new_post(
        platform=PLATFORM, post_id=uri, url=_str(status.get("url")) or uri,
        author_id=_str(account.get("url")) or _str(account.get("uri")), author_handle=_str(account.get("acct")),
        author_name=_str(account.get("display_name")), author_followers=count_or_none(account.get("followers_count")),
        author_following=count_or_none(account.get("following_count")), author_verified=False,
        created_at=created, time_source=time_source,
        text=f"{spoiler}\n\n{body.text}" if isinstance(spoiler, str) and spoiler else body.text,
        lang=_str(source.get("language")), kind="original",
        hashtags=_hashtags(source.get("tags"), body.links), mentions=_mentions(source.get("mentions")),
        urls=_urls(body.links, source.get("card")),
        like_count=count_or_none(status.get("favourites_count")), repost_count=count_or_none(status.get("reblogs_count")),
        reply_count=count_or_none(status.get("replies_count")), quote_count=count_or_none(status.get("quotes_count")),
        collected=collected,
    )
    if boosted is not None:
        post.update(kind="repost", reposted_post_id=_str(boosted.get("uri")))
    else:
        _add_references(post, status)
    return post


def _add_references(post: dict[str, Any], status: dict[str, Any]) -> None:
    quoted_id, _ = _quote(status)
    reply_to = status.get("in_reply_to_id")
    if reply_to is not None and reply_to != "":
        post.update(kind="reply", reply_to_post_id=str(reply_to), reply_to_author_id=_reply_author(status))
    elif quoted_id:
        post["kind"] = "quote"
    post["quoted_post_id"] = quoted_id


def _reply_author(status: dict[str, Any]) -> str | None:
    """`in_reply_to_account_id` is local; the mention or the author gives the global account URL."""
    local = status.get("in_reply_to_account_id")
    if local is None:
        return None
    account = status["account"]
    if str(account.get("id")) == str(local) and _str(account.get("url")):
        return account["url"]
    for mention in status.get("mentions") or ():
        if isinstance(mention, dict) and str(mention.get("id")) == str(local) and _str(mention.get("url")):
            return mention["url"]
    return str(local)


def _quote(status: dict[str, Any]) -> tuple[str | None, dict[str, Any] | None]:
    """Mastodon 4.4+ `quote` ({state, quoted_status} or shallow {state, quoted_status_id});
    older forks (Fedibird) put the quoted status itself in `quote`."""
    quote = status.get("quote")
    if not isinstance(quote, dict):
        return None, None
    quoted = quote if _is_status(quote) else quote.get("quoted_status")
    if _is_status(quoted) and _str(quoted.get("uri")):
        return quoted["uri"], quoted
    local = quote.get("quoted_status_id")
    return (str(local), None) if local not in (None, "") else (None, None)


def _hashtags(tags: Any, links: list[Link]) -> list[str]:
    """Tags as the text shows them, in order; tags the server lists but the text lacks follow."""
    shown = [link.text.lstrip("#＃").strip() for link in links if link.is_hashtag]
    out = [tag for tag in shown if tag]
    keys = {hashtag_key(tag) for tag in out}
    for tag in tags if isinstance(tags, list) else ():
        name = tag.get("name") if isinstance(tag, dict) else None
        if isinstance(name, str) and name and hashtag_key(name) not in keys:
            keys.add(hashtag_key(name))
            out.append(name)
    return out


def _mentions(mentions: Any) -> list[str]:
    items = mentions if isinstance(mentions, list) else ()
    return [m["acct"] for m in items if isinstance(m, dict) and _str(m.get("acct"))]


def _urls(links: list[Link], card: Any) -> list[str]:
    urls: list[str] = []
    for link in links:
        if link.href and not link.is_hashtag and not link.is_mention and link.href not in urls:
            urls.append(link.href)
    card_url = card.get("url") if isinstance(card, dict) else None
    if _str(card_url) and card_url not in urls:
        urls.append(card_url)
    return urls


def _status_time(status: dict[str, Any], ctx: ParseContext) -> tuple[datetime | None, str]:
    """`created_at`, else the time in the id (the instance's, hence `server`)."""
    value = status.get("created_at")
    if isinstance(value, str):
        try:
            return to_utc_naive(parse_iso(value)), "source"
        except (ValueError, OverflowError):
            pass
    from_id = id_time(status.get("id"))
    if from_id is not None:
        ctx.count("mastodon_time_from_id")
        ctx.warn(_ID_TIME_WARNING)
        return from_id, "server"
    ctx.warn(_NO_TIME_WARNING)
    return None, "invalid"


def id_time(status_id: Any) -> datetime | None:
    """The millisecond time a Mastodon (2.0+) id carries; None for older or non-numeric ids."""
    try:
        value = int(status_id)
    except (TypeError, ValueError):
        return None
    if value <= 0 or value >= 1 << 63:
        return None
    moment = from_epoch_us((value >> 16) * 1000)
    return moment if MASTODON_LAUNCH <= moment <= datetime.utcnow() + timedelta(days=1) else None



def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
