"""Bluesky: Jetstream events, Tap sync events, and API post views (alone or in feed items).

The three shapes share one record format (`app.bsky.feed.post`), so they share its mapping;
they differ in what surrounds it. Jetstream and Tap give the author's DID and the record's
key but no profile; views give the profile, engagement and the server's `indexedAt`, and
may embed the quoted post, which is yielded as a referenced post (collected=False).

`createdAt` is written by the client and is sometimes absurd (year 0, 1970, far future).
Such a time is replaced by the best server-side time: Jetstream's `time_us`, a view's
`indexedAt`, or else the time in the record key (a TID, normally minted by the author's
PDS). A view's `indexedAt` is itself never later than `createdAt`, so it can be absurd
too; every replacement is checked for plausibility before use.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterator

from ..model import new_post
from ..timeutil import from_epoch_us
from .base import Delete, Item, ParseContext, RecordError, Skip, count_or_none
from .bluesky_record import (POST, POST_PATH, choose_time, parse_time, post_url, record_fields, split_uri, text_or_none,
                             tid_time)

NAME = "bluesky"
PLATFORM = "bluesky"
INPUT = "json"

REPOST = "app.bsky.feed.repost"
_VIEW_RECORD = "app.bsky.embed.record#viewRecord"
_REASON_REPOST = "app.bsky.feed.defs#reasonRepost"
_NOUNS = {POST: "post", REPOST: "repost"}



# --- recognising ----------------------------------------------------------------------


def sniff(record: Any) -> bool:
    """Jetstream events, Tap events, post views, feed items, or a page of them."""
    if not isinstance(record, dict):
        return False
    if "did" in record and "kind" in record:
        return isinstance(record["did"], str) and record["did"].startswith("did:")
    if record.get("type") in ("record", "identity") and "id" in record:
        inner = record.get(record["type"])
        return isinstance(inner, dict) and isinstance(inner.get("did"), str)
    page = _page_items(record)
    return bool(page) and sniff(page[0]) if page is not None else _is_view(record.get("post", record))


def _is_view(view: Any) -> bool:
    uri, record = (view.get("uri"), view.get("record")) if isinstance(view, dict) else (None, None)
    return (isinstance(uri, str) and uri.startswith("at://") and isinstance(record, dict)
            and str(record.get("$type", "")).startswith(POST))


def _page_items(record: dict[str, Any]) -> list[Any] | None:
    """An API response page (`getTimeline`, `searchPosts`, `getPosts`): its list of items."""
    if "uri" in record or "post" in record:
        return None
    for key in ("feed", "posts"):
        if isinstance(record.get(key), list):
            return record[key]
    return None


def parse(record: Any, ctx: ParseContext) -> Iterator[Item]:
    if not isinstance(record, dict):
        raise RecordError("not a Bluesky record (expected a JSON object)")
    if "did" in record and "kind" in record:
        return _jetstream(record, ctx)
    if record.get("type") in ("record", "identity") and "id" in record:
        return _tap(record, ctx)
    page = _page_items(record)
    if page is not None:
        return (item for element in page for item in _feed_item(element, ctx))
    if "post" in record or _is_view(record):
        return _feed_item(record, ctx)
    raise RecordError("not a Bluesky event or post view (needs `did` and `kind`, Tap `type`, or `uri` and `record`)")


# --- event streams ----------------------------------------------------------------------


def _jetstream(event: dict[str, Any], ctx: ParseContext) -> Iterator[Item]:
    kind = event["kind"]
    server = from_epoch_us(event["time_us"]) if type(event.get("time_us")) is int else None
    if kind == "commit":
        commit = event.get("commit")
        if not isinstance(commit, dict):
            raise RecordError("Jetstream commit event without a `commit` object")
        yield from _commit(event["did"], commit.get("collection"), commit.get("rkey"),
                           commit.get("operation"), commit.get("record"), server, ctx)
    elif kind in ("account", "identity"):
        yield _account_item(event["did"], event.get(kind), f"bluesky {kind} event (not a post)", server)
    else:
        yield Skip("bluesky jetstream event of another kind (not a post)")


def _tap(event: dict[str, Any], ctx: ParseContext) -> Iterator[Item]:
    body = event[event["type"]]
    if not isinstance(body, dict):
        raise RecordError("Tap event whose body is not an object")
    if event["type"] == "identity":
        yield _account_item(body.get("did"), body, "bluesky tap identity event (not a post)", None)
        return
    yield from _commit(body.get("did"), body.get("collection"), body.get("rkey"),
                       body.get("action"), body.get("record"), None, ctx)


def _account_item(did: Any, body: Any, skip_reason: str, at: datetime | None) -> Item:
    """An account deleted for good is forgotten, as Twitter compliance deletions are."""
    if isinstance(body, dict) and body.get("status") == "deleted" and isinstance(did, str):
        return Delete(PLATFORM, did, at, "bluesky account deleted", author=True)
    return Skip(skip_reason)


def _commit(did: Any, collection: Any, rkey: Any, operation: Any, record: Any,
            server: datetime | None, ctx: ParseContext) -> Iterator[Item]:
    if collection not in _NOUNS:
        known = isinstance(collection, str) and collection.startswith("app.bsky.")
        yield Skip(f"bluesky {collection} record (not a post)" if known else "bluesky record of another app")
        return
    if not isinstance(did, str) or not isinstance(rkey, str):
        raise RecordError("Bluesky commit without a DID or record key")
    uri = f"at://{did}/{collection}/{rkey}"
    if operation == "delete":
        yield Delete(PLATFORM, uri, server, f"bluesky {_NOUNS[collection]} deleted")
        return
    if operation not in ("create", "update"):
        raise RecordError(f"Bluesky commit with unknown operation {str(operation)[:20]!r}")
    if not isinstance(record, dict):
        raise RecordError(f"Bluesky {operation} commit without a record")
    created, source = choose_time(record.get("createdAt"), server, rkey, ctx)
    common = dict(platform=PLATFORM, post_id=uri, author_id=did, created_at=created,
                  time_source=source, collected=True, collected_at=server)
    if collection == REPOST:
        subject = record.get("subject")
        reposted = subject.get("uri") if isinstance(subject, dict) else None
        yield new_post(kind="repost", reposted_post_id=reposted, **common)
    else:
        yield new_post(url=post_url(did, rkey), **common, **record_fields(record))


# --- views ------------------------------------------------------------------------------


def _feed_item(item: dict[str, Any], ctx: ParseContext) -> Iterator[Item]:
    """A post view, or a feed item `{post, reply?, reason?}` whose reply context is given in full."""
    view = item.get("post", item)
    if not _is_view(view):
        raise RecordError("Bluesky feed item without a post view (`uri` and `record`)")
    reason = item.get("reason") if view is not item else None
    reposted = isinstance(reason, dict) and reason.get("$type") == _REASON_REPOST
    if reposted and isinstance(reason.get("uri"), str):
        yield _repost_from_reason(reason, view, ctx)
        yield from _view_items(view, ctx, collected=False)
    else:
        if reposted:
            ctx.count("bluesky_repost_reason_without_uri")
        yield from _view_items(view, ctx, collected=True)
    yield from _reply_context(item.get("reply") if view is not item else None, ctx)


def _reply_context(reply: Any, ctx: ParseContext) -> Iterator[Item]:
    if not isinstance(reply, dict):
        return
    seen: set[str] = set()
    for key in ("root", "parent"):
        view = reply.get(key)
        if _is_view(view) and view["uri"] not in seen:  # not-found and blocked posts have no record
            seen.add(view["uri"])
            yield from _view_items(view, ctx, collected=False)


def _view_items(view: dict[str, Any], ctx: ParseContext, collected: bool) -> Iterator[dict[str, Any]]:
    yield _view_post(view["uri"], view.get("author"), view["record"], view, ctx, collected)
    quoted = _quoted_view(view.get("embed"))
    if quoted is not None:
        yield _view_post(quoted["uri"], quoted.get("author"), quoted["value"], quoted, ctx, False)


def _view_post(uri: str, author: Any, record: dict[str, Any], view: dict[str, Any],
               ctx: ParseContext, collected: bool) -> dict[str, Any]:
    did, _, rkey = split_uri(uri)
    author = author if isinstance(author, dict) else {}
    handle = author.get("handle")
    server = parse_time(view.get("indexedAt"))
    created, source = choose_time(record.get("createdAt"), server, rkey, ctx)
    shown = handle if isinstance(handle, str) and handle and handle != "handle.invalid" else did
    return new_post(
        platform=PLATFORM, post_id=uri, url=post_url(shown, rkey),
        author_id=text_or_none(author.get("did")) or did, author_handle=text_or_none(handle),
        author_name=text_or_none(author.get("displayName")),
        author_followers=count_or_none(author.get("followersCount")), author_following=count_or_none(author.get("followsCount")),
        author_verified=_verified(author), created_at=created, time_source=source,
        like_count=count_or_none(view.get("likeCount")), repost_count=count_or_none(view.get("repostCount")),
        reply_count=count_or_none(view.get("replyCount")), quote_count=count_or_none(view.get("quoteCount")),
        collected=collected, **record_fields(record),
    )



def _repost_from_reason(reason: dict[str, Any], view: dict[str, Any], ctx: ParseContext) -> dict[str, Any]:
    """A newer feed's repost reason names the repost record; the repost carries the post's text."""
    by = reason["by"] if isinstance(reason.get("by"), dict) else {}
    did, _, rkey = split_uri(reason["uri"])
    created = parse_time(reason.get("indexedAt")) or tid_time(rkey)
    fields = record_fields(view["record"])
    fields.update(kind="repost", reposted_post_id=view["uri"], reply_to_post_id=None, reply_to_author_id=None,
                  quoted_post_id=None, conversation_id=None)
    return new_post(platform=PLATFORM, post_id=reason["uri"], author_id=text_or_none(by.get("did")) or did,
                    author_handle=text_or_none(by.get("handle")), author_name=text_or_none(by.get("displayName")),
                    author_verified=_verified(by), created_at=created,
                    time_source="source" if created else "invalid", collected=True, **fields)


def _quoted_view(embed: Any) -> dict[str, Any] | None:
    """The quoted post's view inside an embed view, when it is a readable post."""
    if not isinstance(embed, dict):
        return None
    inner = embed.get("record")
    if embed.get("$type") == "app.bsky.embed.recordWithMedia#view" and isinstance(inner, dict):
        inner = inner.get("record")
    if not isinstance(inner, dict) or inner.get("$type") != _VIEW_RECORD:
        return None
    uri, value = inner.get("uri"), inner.get("value")
    if isinstance(uri, str) and POST_PATH in uri and isinstance(value, dict) and value.get("createdAt"):
        return inner
    return None


def _verified(author: dict[str, Any]) -> bool:
    check = author.get("verification")
    return isinstance(check, dict) and "valid" in (check.get("verifiedStatus"), check.get("trustedVerifierStatus"))


__all__ = ["NAME", "PLATFORM", "INPUT", "sniff", "parse", "choose_time", "post_url", "split_uri", "tid_time"]
